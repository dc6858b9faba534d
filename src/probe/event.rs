//! The event the kubelet records for one probe result (pkg/kubelet/prober/prober.go):
//! pure, so the real-time engine, the simulator and `probebench probe` word it alike.

use serde::Serialize;

use super::outcome::{Outcome, ProbeResult};
use crate::spec::ProbeType;

/// A kubelet event: type (`Warning`), reason (`Unhealthy`, `ProbeWarning`), message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProbeEvent {
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub reason: &'static str,
    pub message: String,
}

/// The event for an outcome, if the kubelet records one:
/// - errored: `Warning Unhealthy <Type> probe errored and resulted in <result> state: <err>`
/// - warning: `Warning ProbeWarning <Type> probe warning: <output>`
/// - failure: `Warning Unhealthy <Type> probe failed: <output>`
/// - success, and unknown without an error: none.
pub fn kubelet_event(probe_type: ProbeType, outcome: &Outcome) -> Option<ProbeEvent> {
    let kind = probe_type.event_word();
    if outcome.errored {
        return Some(ProbeEvent {
            event_type: "Warning",
            reason: "Unhealthy",
            message: format!(
                "{kind} probe errored and resulted in {} state: {}",
                outcome.result.as_str(),
                outcome.output
            ),
        });
    }
    match outcome.result {
        ProbeResult::Warning => Some(ProbeEvent {
            event_type: "Warning",
            reason: "ProbeWarning",
            message: format!("{kind} probe warning: {}", outcome.output),
        }),
        ProbeResult::Failure => Some(ProbeEvent {
            event_type: "Warning",
            reason: "Unhealthy",
            message: format!("{kind} probe failed: {}", outcome.output),
        }),
        ProbeResult::Success | ProbeResult::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_worded_like_the_kubelets() {
        let fail = Outcome::failure("HTTP probe failed with statuscode: 500");
        assert_eq!(
            kubelet_event(ProbeType::Liveness, &fail).unwrap().message,
            "Liveness probe failed: HTTP probe failed with statuscode: 500"
        );
        let err = Outcome::errored("boom");
        let event = kubelet_event(ProbeType::Startup, &err).unwrap();
        assert_eq!(
            (event.reason, event.message.as_str()),
            ("Unhealthy", "Startup probe errored and resulted in unknown state: boom")
        );
        let warn = kubelet_event(ProbeType::Readiness, &Outcome::warning("w")).unwrap();
        assert_eq!((warn.reason, warn.message.as_str()), ("ProbeWarning", "Readiness probe warning: w"));
        assert!(kubelet_event(ProbeType::Liveness, &Outcome::success("ok")).is_none());
    }
}
