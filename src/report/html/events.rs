//! `events.jsonl` summarised for the report: how many events of each (phase, type, reason),
//! with the first message as an example. The file can hold 100,000 events per phase, so the
//! report counts them instead of listing them.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EventLine {
    phase: String,
    #[serde(rename = "type")]
    kind: String,
    reason: String,
    message: String,
    /// Aggregated events (the kubelet's event correlation) carry their count.
    count: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventGroup {
    pub phase: String,
    pub kind: String,
    pub reason: String,
    pub count: u64,
    pub example: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventSummary {
    pub groups: Vec<EventGroup>,
    pub unreadable_lines: usize,
}

pub fn summarise(text: &str) -> EventSummary {
    let mut groups: BTreeMap<(String, String, String), EventGroup> = BTreeMap::new();
    let mut unreadable_lines = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(e) = serde_json::from_str::<EventLine>(line) else {
            unreadable_lines += 1;
            continue;
        };
        let key = (e.phase.clone(), e.kind.clone(), e.reason.clone());
        let g = groups.entry(key).or_insert_with(|| EventGroup {
            phase: e.phase,
            kind: e.kind,
            reason: e.reason,
            count: 0,
            example: e.message,
        });
        g.count += e.count.unwrap_or(1).max(1);
    }
    EventSummary { groups: groups.into_values().collect(), unreadable_lines }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_phase_type_and_reason_honouring_aggregated_counts() {
        let text = r#"{"phase":"main","type":"Warning","reason":"Unhealthy","message":"Liveness probe failed: 500"}
{"phase":"main","type":"Warning","reason":"Unhealthy","message":"later"}
{"phase":"main","type":"Warning","reason":"BackOff","message":"Back-off restarting","count":7}
garbage
"#;
        let s = summarise(text);
        assert_eq!(s.unreadable_lines, 1);
        assert_eq!(s.groups.len(), 2);
        let unhealthy = s.groups.iter().find(|g| g.reason == "Unhealthy").unwrap();
        assert_eq!((unhealthy.count, unhealthy.example.as_str()), (2, "Liveness probe failed: 500"));
        assert_eq!(s.groups.iter().find(|g| g.reason == "BackOff").unwrap().count, 7);
    }
}
