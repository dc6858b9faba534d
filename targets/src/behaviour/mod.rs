//! The behaviour vocabulary: what a sample target does over its life, as pure data and
//! pure evaluation, shared by the real targets (real clock) and the simulator (virtual
//! clock). See docs/behaviours.md.
//!
//! On a virtual clock (no tokio, no sockets):
//!
//! ```
//! use std::time::Duration;
//! use probebench_targets::behaviour::{ReplyKind, Request, parse_behaviour};
//!
//! let b = parse_behaviour("startup: 30s\nphases:\n- for: 2m\n- respond: 500\n").unwrap();
//! let mut i = b.instance(42, 0); // seed 42, first start
//! let probe = Request::Http { port: 8080, path: "/healthz".into(), host: None };
//! assert_eq!(i.respond(Duration::from_secs(10), &probe).kind, ReplyKind::Refuse);
//! assert!(matches!(
//!     i.respond(Duration::from_secs(31), &probe).kind,
//!     ReplyKind::Http { status: 200, .. }
//! ));
//! // The simulator jumps from change to change instead of ticking.
//! assert_eq!(i.next_change_after(Duration::ZERO), Some(Duration::from_secs(30)));
//! assert_eq!(i.next_change_after(Duration::from_secs(30)), Some(Duration::from_secs(150)));
//! assert!(!i.healthy_at(Duration::from_secs(150)));
//! ```

mod distribution;
mod error;
mod file;
mod glob;
mod instance;
mod meaning;
mod model;
mod parse;
mod yaml;

use std::sync::Arc;

use rand_pcg::Pcg64Mcg;

pub use distribution::Distribution;
pub use error::{BehaviourError, FieldError, FieldErrorKind};
pub use file::{Action, ActionKind, BehaviourFile, Rule, parse_behaviour, parse_behaviour_file};
pub use glob::Glob;
pub use instance::{EXIT_SIGKILL, ExecView, HookOutcome, Instance, PhaseView, Reply, SigtermReaction};
pub use meaning::{RedirectTo, ReplyKind, Request, body_bytes, default_body, describe};
pub use model::{
    DEFAULT_MOUNT_ERROR, DEFAULT_PULL_ERROR, Flap, GrpcAnswer, Hook, ImageSpec, Latency, Pauses, Phase, PodConditions,
    Redirect, RedirectTarget, Response, Sigterm, Spec, Spike,
};

use crate::seed::stream_state;

/// Random stream for image pulls; instances use streams 0 and 1.
const PULL_STREAM: u64 = 2;

/// A validated behaviour. Cheap to clone (shared).
#[derive(Debug, Clone, PartialEq)]
pub struct Behaviour {
    spec: Arc<Spec>,
}

/// The outcome of one image pull attempt (simulator only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImagePull {
    /// The pull succeeded after this long.
    Pulled {
        /// Pull duration.
        after: Duration,
    },
    /// The pull failed after this long with the registry's error text.
    Failed {
        /// Time until the failure.
        after: Duration,
        /// The CRI error text.
        message: String,
    },
}

use std::time::Duration;

impl Behaviour {
    /// The documented default (see [`Spec::default_healthy`]).
    pub fn default_healthy() -> Behaviour {
        Behaviour::from_spec(Spec::default_healthy())
    }

    /// Wraps a spec built in code. Evaluation never panics on odd specs (empty phase
    /// lists answer `ok`, zero periods do not flap), but only [`parse_behaviour`]
    /// reports mistakes.
    pub fn from_spec(spec: Spec) -> Behaviour {
        Behaviour { spec: Arc::new(spec) }
    }

    /// The typed behaviour.
    pub fn spec(&self) -> &Spec {
        &self.spec
    }

    /// One container start (`restart` = 0 for the first), with its own random streams.
    pub fn instance(&self, seed: u64, restart: u32) -> Instance {
        Instance::new(self, seed, restart, None)
    }

    /// An instance whose phases begin at `phases_start` since the container started
    /// instead of after a drawn startup: for switching a running container to this
    /// behaviour live (the app is already up; its new timeline starts now).
    pub fn instance_from(&self, seed: u64, restart: u32, phases_start: Duration) -> Instance {
        Instance::new(self, seed, restart, Some(phases_start))
    }

    /// Pull attempt `attempt` (0-based, counted per pod and image) of `image`.
    pub fn image_pull(&self, seed: u64, attempt: u32, image: &str) -> ImagePull {
        let mut rng = Pcg64Mcg::new(stream_state(seed, attempt, PULL_STREAM));
        let after = self.spec.image.pull.sample(&mut rng);
        if attempt < self.spec.image.fail_first {
            ImagePull::Failed { after, message: self.spec.image.error.replace("{image}", image) }
        } else {
            ImagePull::Pulled { after }
        }
    }

    /// Pod-level conditions (unschedulable, mount failure).
    pub fn pod_conditions(&self) -> &PodConditions {
        &self.spec.pod
    }
}
