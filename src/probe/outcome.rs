//! What one probe attempt concluded: the kubelet's three-valued result plus "errored".

use serde::Serialize;

/// The prober's result strings (pkg/probe/probe.go): success, warning, failure, unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProbeResult {
    Success,
    /// Counts as success; the kubelet emits a ProbeWarning event (e.g. an unfollowed redirect).
    Warning,
    Failure,
    Unknown,
}

impl ProbeResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeResult::Success => "success",
            ProbeResult::Warning => "warning",
            ProbeResult::Failure => "failure",
            ProbeResult::Unknown => "unknown",
        }
    }

    /// What the worker counts toward thresholds: warning maps to success and unknown (without
    /// an error) to failure, as pkg/kubelet/prober/prober.go does.
    pub fn counts_as_success(self) -> bool {
        matches!(self, ProbeResult::Success | ProbeResult::Warning)
    }
}

/// Durations inside one probe, in microseconds from the probe's start. `None` where the
/// step did not happen (no TLS on plain HTTP, no connect for exec ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Timings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connect_us: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_us: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_written_us: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_byte_us: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spawn_us: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_us: Option<u64>,
    pub total_us: u64,
}

/// One probe attempt's conclusion. Probe failures are data: a refused connection is an
/// Outcome with `result: Failure`, never an `Err`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub result: ProbeResult,
    /// The kubelet's "errored and resulted in unknown state": the probe could not be run
    /// (exec could not start, port name unresolvable, body read error). Reported, never
    /// counted toward thresholds.
    pub errored: bool,
    /// The kubelet's output text: the event message on failure, warning or error.
    pub output: String,
    pub timings: Timings,
    /// Runs inside this attempt: 1, or up to 3 when the kubelet's retry of errored runs
    /// (maxProbeRetries, pkg/kubelet/prober/prober.go) kicked in. Set by the prober layer.
    pub attempts: u32,
}

impl Outcome {
    pub fn success(output: impl Into<String>) -> Self {
        Outcome {
            result: ProbeResult::Success,
            errored: false,
            output: output.into(),
            timings: Timings::default(),
            attempts: 1,
        }
    }

    pub fn warning(output: impl Into<String>) -> Self {
        Outcome {
            result: ProbeResult::Warning,
            errored: false,
            output: output.into(),
            timings: Timings::default(),
            attempts: 1,
        }
    }

    pub fn failure(output: impl Into<String>) -> Self {
        Outcome {
            result: ProbeResult::Failure,
            errored: false,
            output: output.into(),
            timings: Timings::default(),
            attempts: 1,
        }
    }

    /// The kubelet's errored probe: result unknown, with the error as output.
    pub fn errored(output: impl Into<String>) -> Self {
        Outcome::errored_with(ProbeResult::Unknown, output)
    }

    /// An errored probe whose mechanism still named a result: the HTTP prober returns
    /// `probe.Failure` *with* an error when the body cannot be read (pkg/probe/http/http.go),
    /// so the kubelet's event says "errored and resulted in failure state".
    pub fn errored_with(result: ProbeResult, output: impl Into<String>) -> Self {
        Outcome { result, errored: true, output: output.into(), timings: Timings::default(), attempts: 1 }
    }

    /// What the kubelet's worker counts toward thresholds (pkg/kubelet/prober/prober.go):
    /// `None` for an errored run (discarded), else whether it is a success (warning
    /// included) or a failure (unknown included).
    pub fn counted_success(&self) -> Option<bool> {
        if self.errored { None } else { Some(self.result.counts_as_success()) }
    }

    pub fn with_timings(mut self, timings: Timings) -> Self {
        self.timings = timings;
        self
    }
}
