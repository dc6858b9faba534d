//! Kubernetes events as the kubelet (and the scheduler) emit them, and the client-go event
//! correlator that decides what `kubectl describe` finally shows
//! (staging/src/k8s.io/client-go/tools/record/events_cache.go, default options):
//! aggregation of similar messages, de-duplication into counts, and the per-object spam
//! filter.

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::config::SECOND;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// One event as a component emits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub t_ns: u64,
    pub pod: u32,
    /// `spec.containers{<name>}` field path's container, when the event is about one.
    pub container: Option<String>,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub reason: &'static str,
    /// `kubelet` or `default-scheduler`.
    pub from: &'static str,
    pub message: String,
}

/// An event as stored by the API server after correlation: what `kubectl describe` lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredEvent {
    pub pod: u32,
    pub container: Option<String>,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub reason: &'static str,
    pub from: &'static str,
    pub message: String,
    pub count: u32,
    pub first_ns: u64,
    pub last_ns: u64,
    /// An events.k8s.io event (the scheduler's): no lastTimestamp in the core view, so
    /// `kubectl describe` sorts it first.
    pub series: bool,
}

/// An events.k8s.io series (client-go tools/events): keyed without the message, so a
/// repeat only counts; the API sees the count at the second occurrence, then at the
/// 30-minute refresh or when the series has been idle for 6 minutes.
#[derive(Debug, Clone)]
struct Series {
    stored: usize,
    count: u32,
    published_ns: u64,
    last_ns: u64,
}

const SERIES_REFRESH_NS: u64 = 30 * 60 * SECOND;
const SERIES_FINISH_NS: u64 = 6 * 60 * SECOND;

/// The correlator's tuning (client-go defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorrelatorOptions {
    /// Distinct messages per aggregate key before they are combined (maxEvents).
    pub max_similar: usize,
    /// A key's memory of messages is dropped after this long without events (maxIntervalInSeconds).
    pub aggregate_window_ns: u64,
    /// Token bucket per source + object: burst ...
    pub spam_burst: u32,
    /// ... refilled at one token per this many nanoseconds (qps 1/300).
    pub spam_refill_ns: u64,
    /// Whether the spam key also includes the event's type and reason (recent client-go).
    pub spam_key_per_reason: bool,
}

impl Default for CorrelatorOptions {
    fn default() -> Self {
        CorrelatorOptions {
            max_similar: 10,
            aggregate_window_ns: 600 * SECOND,
            spam_burst: 25,
            spam_refill_ns: 300 * SECOND,
            spam_key_per_reason: false,
        }
    }
}

/// The text that replaces messages once a key has too many distinct ones.
pub const COMBINED_PREFIX: &str = "(combined from similar events): ";

#[derive(Debug, Clone)]
struct AggregateRecord {
    messages: BTreeSet<String>,
    last_ns: u64,
}

/// The correlator's memory of one dedup key: its stored event (if the spam filter ever let
/// it through), its count and when it was first seen.
#[derive(Debug, Clone, Copy)]
struct Observation {
    stored: Option<usize>,
    count: u32,
    first_ns: u64,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last_ns: u64,
}

/// Everything that was emitted, plus what survived correlation.
#[derive(Debug, Default, Clone)]
pub struct EventLog {
    options: Option<CorrelatorOptions>,
    /// Every event as emitted, in order (events.jsonl, the simulator's timeline).
    pub emitted: Vec<Event>,
    /// The stored events in creation order.
    pub stored: Vec<StoredEvent>,
    /// Events the spam filter dropped.
    pub dropped: u64,
    aggregates: HashMap<(u32, EventType, &'static str, &'static str), AggregateRecord>,
    /// Observation cache: dedup key → what was observed so far.
    observed: HashMap<String, Observation>,
    buckets: HashMap<String, Bucket>,
    series: HashMap<(u32, &'static str, &'static str), Series>,
}

impl EventLog {
    pub fn new(options: CorrelatorOptions) -> Self {
        EventLog { options: Some(options), ..Default::default() }
    }

    fn opts(&self) -> CorrelatorOptions {
        self.options.unwrap_or_default()
    }

    /// Record one emitted event and run it through the correlator.
    pub fn emit(&mut self, e: Event) {
        let opts = self.opts();
        self.emitted.push(e.clone());

        // 1. Aggregation: key = source + object + type + reason; the message is the local key.
        let agg_key = (e.pod, e.kind, e.reason, e.from);
        let record = self
            .aggregates
            .entry(agg_key)
            .or_insert_with(|| AggregateRecord { messages: BTreeSet::new(), last_ns: e.t_ns });
        if e.t_ns.saturating_sub(record.last_ns) > opts.aggregate_window_ns {
            record.messages.clear();
        }
        record.messages.insert(e.message.clone());
        record.last_ns = e.t_ns;
        let (message, dedup_key) = if record.messages.len() < opts.max_similar {
            // The event passes unchanged; its dedup key includes the container and message.
            let key = format!("{}|{:?}|{:?}|{}|{}|{}", e.pod, e.container, e.kind, e.reason, e.from, e.message);
            (e.message.clone(), key)
        } else {
            // Keep the remembered set below the maximum, and send one shared event for the
            // whole key (its object key has no fieldPath, so no container).
            // Go's PopAny removes an arbitrary remembered message (map order); removing the
            // smallest keeps runs repeatable.
            if let Some(first) = record.messages.iter().next().cloned() {
                record.messages.remove(&first);
            }
            let key = format!("{}|{:?}|{}|{}|combined", e.pod, e.kind, e.reason, e.from);
            (format!("{COMBINED_PREFIX}{}", e.message), key)
        };
        let combined = message.starts_with(COMBINED_PREFIX);

        // 2. Observation: a repeat bumps the count (even if the spam filter then drops it).
        let previous = self.observed.get(&dedup_key).copied();
        let count = previous.map_or(1, |o| o.count + 1);
        let first_ns = previous.map_or(e.t_ns, |o| o.first_ns);

        // 3. Spam filter: one token bucket per source + object (+ type and reason in newer
        //    client-go); every event, count bumps included, takes a token.
        let spam_key = if opts.spam_key_per_reason {
            format!("{}|{}|{:?}|{}", e.pod, e.from, e.kind, e.reason)
        } else {
            format!("{}|{}", e.pod, e.from)
        };
        let bucket =
            self.buckets.entry(spam_key).or_insert(Bucket { tokens: f64::from(opts.spam_burst), last_ns: e.t_ns });
        let refill = e.t_ns.saturating_sub(bucket.last_ns) as f64 / opts.spam_refill_ns as f64;
        bucket.tokens = (bucket.tokens + refill).min(f64::from(opts.spam_burst));
        bucket.last_ns = e.t_ns;
        let accepted = bucket.tokens >= 1.0;
        if accepted {
            bucket.tokens -= 1.0;
        } else {
            self.dropped += 1;
        }

        let mut stored = previous.and_then(|o| o.stored);
        if accepted {
            match stored {
                Some(idx) => {
                    let s = &mut self.stored[idx];
                    s.count = count;
                    s.last_ns = e.t_ns;
                    s.message = message;
                }
                None => {
                    self.stored.push(StoredEvent {
                        pod: e.pod,
                        container: if combined { None } else { e.container.clone() },
                        kind: e.kind,
                        reason: e.reason,
                        from: e.from,
                        message,
                        count,
                        first_ns,
                        last_ns: e.t_ns,
                        series: false,
                    });
                    stored = Some(self.stored.len() - 1);
                }
            }
        }
        self.observed.insert(dedup_key, Observation { stored, count, first_ns });
    }
}

impl EventLog {
    /// Record an events.k8s.io event (the scheduler's), with series semantics.
    pub fn emit_series(&mut self, e: Event) {
        self.emitted.push(e.clone());
        let key = (e.pod, e.reason, e.from);
        match self.series.get_mut(&key) {
            None => {
                self.stored.push(StoredEvent {
                    pod: e.pod,
                    container: e.container.clone(),
                    kind: e.kind,
                    reason: e.reason,
                    from: e.from,
                    message: e.message,
                    count: 1,
                    first_ns: e.t_ns,
                    last_ns: e.t_ns,
                    series: true,
                });
                let stored = self.stored.len() - 1;
                self.series.insert(key, Series { stored, count: 1, published_ns: e.t_ns, last_ns: e.t_ns });
            }
            Some(s) => {
                // An idle series finished: the next occurrence starts a new count.
                s.count += 1;
                s.last_ns = e.t_ns;
                if s.count == 2 || e.t_ns.saturating_sub(s.published_ns) >= SERIES_REFRESH_NS {
                    s.published_ns = e.t_ns;
                    let st = &mut self.stored[s.stored];
                    st.count = s.count;
                    st.last_ns = e.t_ns;
                }
            }
        }
    }

    /// At the end of a run: series idle for 6 minutes have sent their final count.
    pub fn flush_series(&mut self, now_ns: u64) {
        for s in self.series.values() {
            if now_ns.saturating_sub(s.last_ns) >= SERIES_FINISH_NS {
                let st = &mut self.stored[s.stored];
                st.count = s.count;
                st.last_ns = s.last_ns;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(t: u64, reason: &'static str, message: &str) -> Event {
        Event {
            t_ns: t * SECOND,
            pod: 0,
            container: Some("c".into()),
            kind: EventType::Warning,
            reason,
            from: "kubelet",
            message: message.into(),
        }
    }

    #[test]
    fn repeats_become_counts() {
        let mut log = EventLog::new(CorrelatorOptions::default());
        for t in 0..8 {
            log.emit(ev(t * 10, "Unhealthy", "Liveness probe failed: HTTP probe failed with statuscode: 500"));
        }
        assert_eq!(log.stored.len(), 1);
        assert_eq!(log.stored[0].count, 8);
        assert_eq!((log.stored[0].first_ns, log.stored[0].last_ns), (0, 70 * SECOND));
        assert_eq!(log.emitted.len(), 8);
    }

    #[test]
    fn the_tenth_distinct_message_is_combined() {
        let mut log = EventLog::new(CorrelatorOptions::default());
        for t in 0..12 {
            log.emit(ev(t, "Unhealthy", &format!("Startup probe errored: exec {t}")));
        }
        assert_eq!(log.stored.len(), 10, "9 distinct + 1 combined");
        let combined = &log.stored[9];
        assert_eq!(combined.message, "(combined from similar events): Startup probe errored: exec 11");
        assert_eq!(combined.count, 3);
    }

    #[test]
    fn the_spam_filter_drops_after_the_burst() {
        let mut log = EventLog::new(CorrelatorOptions::default());
        for t in 0..30 {
            log.emit(ev(t, "Unhealthy", "same"));
        }
        assert_eq!(log.stored[0].count, 25);
        assert_eq!(log.dropped, 5);
        // 300 s later one token is back; the count carries the dropped observations.
        log.emit(ev(29 + 300, "Unhealthy", "same"));
        assert_eq!(log.stored[0].count, 31);
    }
}
