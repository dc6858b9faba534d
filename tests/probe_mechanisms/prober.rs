//! The prober layer: errored runs retried (maxProbeRetries), failures not; noop; the
//! kubelet's event wording for each outcome.

use std::time::Duration;

use probebench::probe::{Mechanism, ProbeResult, Prober, ResolvedProbe, kubelet_event};
use probebench::spec::ProbeType;

#[tokio::test]
async fn errored_runs_are_retried_three_times_failures_never() {
    let prober = Prober::new().unwrap();
    let errored = ResolvedProbe {
        mechanism: Mechanism::Unresolvable("invalid port number: 0".into()),
        timeout: Duration::from_secs(1),
    };
    let out = prober.run(&errored).await;
    assert_eq!((out.errored, out.attempts), (true, 3));
    let event = kubelet_event(ProbeType::Liveness, &out).unwrap();
    assert_eq!(event.message, "Liveness probe errored and resulted in unknown state: invalid port number: 0");
}

#[tokio::test]
async fn noop_succeeds_at_once() {
    let prober = Prober::new().unwrap();
    let out = prober.run_once(&Mechanism::Noop, Duration::from_secs(1)).await;
    assert_eq!((out.result, out.output.as_str(), out.attempts), (ProbeResult::Success, "", 1));
    assert!(kubelet_event(ProbeType::Readiness, &out).is_none());
}
