//! Objectives (`detect<=60s`, `false_restarts<=0.01/day`, `ready<=90s` …), how a measured
//! setting stands against them, the cheapest setting that meets them all, and the Pareto
//! front of the rest.

use serde::Serialize;

use super::measure::Metrics;
use super::stats::Estimate;

/// What an objective constrains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Time to detect a hang, p99 (or p50), seconds.
    DetectP99,
    DetectP50,
    /// Time from creation to Ready, p99 (or p50), seconds.
    ReadyP99,
    ReadyP50,
    /// Per pod-day.
    FalseRestarts,
    StartupKills,
    FalseNotReady,
    /// Probe runs per pod-hour.
    Probes,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::DetectP99 => "detect",
            Metric::DetectP50 => "detect.p50",
            Metric::ReadyP99 => "ready",
            Metric::ReadyP50 => "ready.p50",
            Metric::FalseRestarts => "false_restarts",
            Metric::StartupKills => "startup_kills",
            Metric::FalseNotReady => "false_not_ready",
            Metric::Probes => "probes",
        }
    }

    const ALL: [Metric; 8] = [
        Metric::DetectP99,
        Metric::DetectP50,
        Metric::ReadyP99,
        Metric::ReadyP50,
        Metric::FalseRestarts,
        Metric::StartupKills,
        Metric::FalseNotReady,
        Metric::Probes,
    ];

    fn aliases(self) -> &'static [&'static str] {
        match self {
            Metric::DetectP99 => &["detect", "detect.p99", "detection"],
            Metric::DetectP50 => &["detect.p50"],
            Metric::ReadyP99 => &["ready", "ready.p99"],
            Metric::ReadyP50 => &["ready.p50"],
            Metric::FalseRestarts => &["false_restarts", "restarts"],
            Metric::StartupKills => &["startup_kills"],
            Metric::FalseNotReady => &["false_not_ready"],
            Metric::Probes => &["probes"],
        }
    }

    /// The measured estimate (seconds, per pod-day, or per pod-hour).
    pub fn of(self, m: &Metrics) -> Option<Estimate> {
        match self {
            Metric::DetectP99 => m.detect_p99_s,
            Metric::DetectP50 => m.detect_p50_s,
            Metric::ReadyP99 => m.ready_p99_s,
            Metric::ReadyP50 => m.ready_p50_s,
            Metric::FalseRestarts => Some(m.false_restarts_per_day),
            Metric::StartupKills => Some(m.startup_kills_per_day),
            Metric::FalseNotReady => Some(m.false_not_ready_per_day),
            Metric::Probes => Some(Estimate::exact(m.probes_per_pod_hour)),
        }
    }

    fn is_rate(self) -> bool {
        matches!(self, Metric::FalseRestarts | Metric::StartupKills | Metric::FalseNotReady)
    }
}

/// `metric <= value`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Objective {
    pub metric: Metric,
    pub max: f64,
    /// As the user wrote it.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--objective {0}")]
pub struct ObjectiveError(pub String);

/// Parse `detect<=60s`, `false_restarts<=0.01/day`, `ready<=1m30s`, `probes<=720/hour`.
pub fn parse(text: &str) -> Result<Objective, ObjectiveError> {
    let t = text.replace(' ', "");
    let (name, value) = t
        .split_once("<=")
        .ok_or_else(|| ObjectiveError(format!("{text:?}: expected METRIC<=VALUE, e.g. detect<=60s")))?;
    let metric = Metric::ALL.into_iter().find(|m| m.aliases().contains(&name)).ok_or_else(|| {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        let hint = crate::spec::suggest::nearest(name, names.iter().copied())
            .map_or(String::new(), |n| format!(", did you mean {n:?}?"));
        ObjectiveError(format!("{name:?} is not a metric{hint} (metrics: {})", names.join(", ")))
    })?;
    let max = if metric.is_rate() || metric == Metric::Probes {
        let (number, unit) = match value.split_once('/') {
            Some((n, u)) => (n, u),
            None => (value, if metric == Metric::Probes { "hour" } else { "day" }),
        };
        let n: f64 = number.parse().map_err(|_| ObjectiveError(format!("{text:?}: {number:?} is not a number")))?;
        let per_day = match unit {
            "day" | "d" => 1.0,
            "week" | "w" => 1.0 / 7.0,
            "hour" | "h" => 24.0,
            _ => return Err(ObjectiveError(format!("{text:?}: unit {unit:?}: use /day, /week or /hour"))),
        };
        if metric == Metric::Probes { n * per_day / 24.0 } else { n * per_day }
    } else {
        let d = humantime::parse_duration(value)
            .map_err(|e| ObjectiveError(format!("{text:?}: {value:?}: {e} (use e.g. 60s, 1m30s)")))?;
        d.as_secs_f64()
    };
    if max.is_nan() || max < 0.0 {
        return Err(ObjectiveError(format!("{text:?}: the bound must be a number ≥ 0")));
    }
    Ok(Objective { metric, max, text: text.to_string() })
}

/// The objectives used when none are given: detect a hang within a minute, restart a
/// healthy pod less than once in a hundred days, never cut a healthy start short.
pub fn defaults() -> Vec<Objective> {
    ["detect<=60s", "false_restarts<=0.01/day", "startup_kills<=0.01/day"]
        .iter()
        .filter_map(|t| parse(t).ok())
        .collect()
}

/// How a measured setting stands against one objective.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The whole confidence interval is within the bound.
    Met,
    /// The whole interval is beyond the bound.
    Missed,
    /// The interval straddles the bound: more exposure could tell.
    Unresolved,
}

pub fn judge(o: &Objective, m: &Metrics) -> Verdict {
    match o.metric.of(m) {
        None => Verdict::Missed,
        Some(e) if e.high <= o.max => Verdict::Met,
        Some(e) if e.low > o.max || e.value.is_infinite() => Verdict::Missed,
        Some(e) if !o.metric.is_rate() && e.value <= o.max => Verdict::Met,
        Some(_) => Verdict::Unresolved,
    }
}

/// Whether `a` is at least as good as `b` on detection, false restarts and cost, and better
/// on one.
fn dominates(a: &Metrics, b: &Metrics) -> bool {
    let key = |m: &Metrics| {
        [
            m.detect_p99_s.map_or(f64::INFINITY, |e| e.value),
            m.false_restarts_per_day.value + m.startup_kills_per_day.value,
            m.probes_per_pod_hour,
        ]
    };
    let (ka, kb) = (key(a), key(b));
    ka.iter().zip(kb.iter()).all(|(x, y)| x <= y) && ka.iter().zip(kb.iter()).any(|(x, y)| x < y)
}

/// Indexes of the settings no other setting dominates.
pub fn pareto_front(metrics: &[Metrics]) -> Vec<usize> {
    (0..metrics.len())
        .filter(|&i| !metrics.iter().enumerate().any(|(j, m)| j != i && dominates(m, &metrics[i])))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_issue_examples() {
        let d = parse("detect<=60s").unwrap();
        assert_eq!((d.metric, d.max), (Metric::DetectP99, 60.0));
        let f = parse("false_restarts<=0.01/day").unwrap();
        assert_eq!((f.metric, f.max), (Metric::FalseRestarts, 0.01));
        let r = parse("ready<=90s").unwrap();
        assert_eq!((r.metric, r.max), (Metric::ReadyP99, 90.0));
        let w = parse("false_restarts <= 1/week").unwrap();
        assert!((w.max - 1.0 / 7.0).abs() < 1e-12);
        assert!(parse("detec<=60s").unwrap_err().0.contains("did you mean \"detect\""));
        assert!(parse("detect>=60s").is_err());
        assert!(parse("ready<=soon").is_err());
    }
}
