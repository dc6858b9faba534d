//! The typed behaviour: what a container does over its life. Pure data, built only by
//! validation (`parse`), read by [`super::Instance`].

use std::collections::BTreeMap;
use std::time::Duration;

use super::distribution::Distribution;

/// How the app answers a request during a phase. Its meaning per protocol is defined
/// once, in `meaning.rs` (see docs/behaviours.md, "What a response means").
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// An HTTP answer: `ok` is status 200. `body_bytes` None sends a short text.
    Http {
        /// Status code, 100..=599.
        status: u16,
        /// Exact body length, if set.
        body_bytes: Option<u64>,
    },
    /// An HTTP redirect.
    Redirect(Redirect),
    /// An explicit gRPC health answer.
    Grpc(GrpcAnswer),
    /// Nothing listens: connections are refused (the listening socket is closed).
    Refuse,
    /// Accepts, then never answers.
    Hang,
    /// Accepts, then closes the connection without answering (FIN).
    Close,
    /// Accepts, then resets the connection (RST).
    Reset,
    /// The app exits with this code: the container ends.
    Exit(i32),
}

impl Response {
    /// `ok`: HTTP 200.
    pub const OK: Response = Response::Http { status: 200, body_bytes: None };
}

/// What a gRPC health Check answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrpcAnswer {
    /// SERVING.
    Serving,
    /// NOT_SERVING.
    NotServing,
    /// UNKNOWN (serving status 0).
    Unknown,
    /// The Check RPC fails with NOT_FOUND: the service name is not known.
    UnknownService,
    /// The server does not implement grpc.health.v1 at all: UNIMPLEMENTED.
    Unimplemented,
}

/// A redirect answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    /// 301, 302, 303, 307 or 308.
    pub status: u16,
    /// Where it points.
    pub target: RedirectTarget,
    /// How a request that arrives at the target is answered (default `ok`).
    pub then: Box<Response>,
}

/// Where a redirect points. Unset parts stay those of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectTarget {
    /// Back to the very same URL, for ever: the kubelet gives up after 10.
    Loop,
    /// Elsewhere.
    To {
        /// Another host name (the kubelet does not follow: a warning, counted as success).
        host: Option<String>,
        /// Another (declared) port on the same host.
        port: Option<u16>,
        /// Another path.
        path: Option<String>,
    },
}

/// A latency distribution with optional rare spikes.
#[derive(Debug, Clone, PartialEq)]
pub struct Latency {
    /// The usual latency.
    pub base: Distribution,
    /// With `probability`, the latency is drawn from `latency` instead.
    pub spike: Option<Spike>,
}

impl Latency {
    /// No added latency.
    pub const ZERO: Latency = Latency { base: Distribution::ZERO, spike: None };
}

/// Rare latency spikes.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// Chance per reply, 0..=1.
    pub probability: f64,
    /// The spike's latency.
    pub latency: Distribution,
}

/// Periodic unhealthiness inside a phase: up for `up`, then `down` for `period - up`.
#[derive(Debug, Clone, PartialEq)]
pub struct Flap {
    /// Length of one up+down cycle.
    pub period: Duration,
    /// Healthy part of each cycle (duty cycle × period), first.
    pub up: Duration,
    /// The answer while down (default HTTP 503).
    pub down: Response,
}

/// One stretch of the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// Optional label shown in the admin state.
    pub name: Option<String>,
    /// How long it lasts; None = for ever (only the last phase).
    pub duration: Option<Duration>,
    /// The answer on every port.
    pub respond: Response,
    /// Per-port answers that override `respond` and flapping.
    pub ports: BTreeMap<u16, Response>,
    /// Per-path answers (HTTP only) that override everything else.
    pub paths: BTreeMap<String, Response>,
    /// This phase's latency (default: the behaviour's).
    pub latency: Option<Latency>,
    /// Flapping within the phase.
    pub flap: Option<Flap>,
}

/// Stop-the-world pauses (garbage collection): every reply that falls in a pause waits
/// until it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Pauses {
    /// Time between pause starts.
    pub every: Duration,
    /// Length of each pause.
    pub length: Duration,
    /// Up-time of the first pause (default: `every`).
    pub first: Duration,
    /// Each pause starts up to this much after its slot (uniform, drawn per pause from the
    /// instance's seed): real collectors are not metronomes, and a strictly periodic pause
    /// against a strictly periodic probe makes a per-pod lottery instead of a rate.
    pub jitter: Duration,
}

/// What the app does on SIGTERM.
#[derive(Debug, Clone, PartialEq)]
pub enum Sigterm {
    /// Exits after a time drawn from `after`, with `code`; until then answers `respond`
    /// if set, else keeps following its timeline.
    Exit {
        /// Time from SIGTERM to exit.
        after: Distribution,
        /// Exit code.
        code: i32,
        /// Answer while shutting down.
        respond: Option<Response>,
    },
    /// Ignores SIGTERM; only SIGKILL (at the end of the grace period) ends it: exit 137.
    Ignore,
}

/// A lifecycle hook's outcome (simulator only).
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    /// How long the handler runs.
    pub duration: Distribution,
    /// Its exit code: non-zero fails the hook.
    pub exit: i32,
}

/// Image pulls (simulator only; the real targets do not pull).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSpec {
    /// Time a successful pull takes (default uniform 1.5–2.5 s).
    pub pull: Distribution,
    /// Pulls that fail before one succeeds (`u32::MAX`: the image is missing).
    pub fail_first: u32,
    /// The registry's error text for failing pulls; `{image}` is replaced by the image.
    pub error: String,
}

/// The default text of a failing pull, as containerd words a missing image.
pub const DEFAULT_PULL_ERROR: &str = "rpc error: code = NotFound desc = failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found";

/// The default text of a failing volume mount (kubelet FailedMount event).
pub const DEFAULT_MOUNT_ERROR: &str =
    "MountVolume.SetUp failed for volume \"config\" : configmap \"app-config\" not found";

/// Pod-level conditions (simulator only): the pod of a container with these never
/// starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PodConditions {
    /// No node fits: the pod stays Pending.
    pub unschedulable: bool,
    /// A volume fails to mount: the pod stays ContainerCreating with FailedMount events.
    pub mount_error: Option<String>,
}

/// The whole validated behaviour.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    /// Time from container start until the app is up (drawn per instance).
    pub startup: Distribution,
    /// The answer before it is up (default `refuse`).
    pub starting: Response,
    /// Default latency of every phase.
    pub latency: Latency,
    /// The timeline, from the moment the app is up.
    pub phases: Vec<Phase>,
    /// Loop the phases for ever.
    pub repeat: bool,
    /// Stop-the-world pauses.
    pub pauses: Option<Pauses>,
    /// Reaction to SIGTERM.
    pub sigterm: Sigterm,
    /// gRPC service names the app knows (None: all); others answer NOT_FOUND.
    pub grpc_services: Option<Vec<String>>,
    /// Image pulls.
    pub image: ImageSpec,
    /// postStart hook.
    pub post_start: Option<Hook>,
    /// preStop hook.
    pub pre_stop: Option<Hook>,
    /// Pod-level conditions.
    pub pod: PodConditions,
}

impl Spec {
    /// The documented default: healthy on every declared port, up after about 1 s
    /// (uniform 0.5–1.5 s), no added latency, exits at once with 0 on SIGTERM — like
    /// httpd.
    pub fn default_healthy() -> Spec {
        Spec {
            startup: Distribution::Uniform { min: Duration::from_millis(500), max: Duration::from_millis(1500) },
            starting: Response::Refuse,
            latency: Latency::ZERO,
            phases: vec![Phase {
                name: None,
                duration: None,
                respond: Response::OK,
                ports: BTreeMap::new(),
                paths: BTreeMap::new(),
                latency: None,
                flap: None,
            }],
            repeat: false,
            pauses: None,
            sigterm: Sigterm::Exit { after: Distribution::ZERO, code: 0, respond: None },
            grpc_services: None,
            image: ImageSpec {
                pull: Distribution::Uniform { min: Duration::from_millis(1500), max: Duration::from_millis(2500) },
                fail_first: 0,
                error: DEFAULT_PULL_ERROR.to_string(),
            },
            post_start: None,
            pre_stop: None,
            pod: PodConditions::default(),
        }
    }
}
