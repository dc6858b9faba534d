//! Closed forms beside the simulation, where they hold:
//! - detection of a hang by liveness: between (F − 1)·P + T and F·P + T (plus up to a
//!   second for the kubelet's next relist before the kill);
//! - false restarts from independent slow answers: with p = P(latency > timeout) per probe,
//!   a run of F failures starts at a rate of (probes per day)·(1 − p)·p^F.

use probebench_targets::behaviour::{Response, Spec};
use serde::Serialize;

use super::grid::ProbeSettings;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Detection {
    pub best_s: f64,
    pub worst_s: f64,
}

/// The window in which liveness notices a hang that began at a random moment.
pub fn detection(l: &ProbeSettings) -> Detection {
    let (p, t, f) = (f64::from(l.period_seconds), f64::from(l.timeout_seconds), f64::from(l.failure_threshold));
    Detection { best_s: (f - 1.0) * p + t, worst_s: f * p + t + 1.0 }
}

/// Whether the app's answers are independent from one probe to the next: one steady phase,
/// no flapping, no pauses (a GC pause fails consecutive probes together).
pub fn independent_answers(spec: &Spec) -> bool {
    spec.pauses.is_none()
        && spec.phases.len() == 1
        && spec.phases.iter().all(|p| {
            p.flap.is_none()
                && p.ports.is_empty()
                && p.paths.is_empty()
                && matches!(p.respond, Response::Http { status: 200..=299, .. })
        })
}

/// P(one answer takes longer than the timeout), from the latency distribution and spikes.
pub fn slow_probability(spec: &Spec, timeout_s: f64) -> f64 {
    let latency = spec.phases.first().and_then(|p| p.latency.as_ref()).unwrap_or(&spec.latency);
    let t = std::time::Duration::from_secs_f64(timeout_s);
    let base = latency.base.exceedance(t);
    match &latency.spike {
        Some(s) => (1.0 - s.probability) * base + s.probability * s.latency.exceedance(t),
        None => base,
    }
}

/// False restarts per pod-day under independent answers, or None where that does not hold.
pub fn false_restarts_per_day(spec: &Spec, l: &ProbeSettings) -> Option<f64> {
    if !independent_answers(spec) {
        return None;
    }
    let p = slow_probability(spec, f64::from(l.timeout_seconds));
    // A slow probe holds the worker for the timeout; at most one pending tick runs at once.
    let period =
        f64::from(l.period_seconds).max(f64::from(l.timeout_seconds) * p + f64::from(l.period_seconds) * (1.0 - p));
    let probes_per_day = 86_400.0 / period;
    Some(probes_per_day * (1.0 - p) * p.powi(l.failure_threshold))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_window() {
        let l = ProbeSettings {
            period_seconds: 10,
            timeout_seconds: 1,
            failure_threshold: 3,
            success_threshold: 1,
            initial_delay_seconds: 0,
        };
        let d = detection(&l);
        assert_eq!((d.best_s, d.worst_s), (21.0, 32.0));
    }

    #[test]
    fn gc_pauses_break_independence() {
        let calm = probebench_targets::parse_behaviour("latency: {lognormal: {p50: 10ms, p99: 800ms}}\n").unwrap();
        assert!(independent_answers(calm.spec()));
        let gc = probebench_targets::parse_behaviour("pauses: {every: 5m, for: 1s}\n").unwrap();
        assert!(!independent_answers(gc.spec()));
        let p = slow_probability(calm.spec(), 1.0);
        assert!(p > 0.001 && p < 0.01, "{p}");
    }
}
