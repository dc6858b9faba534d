//! The real-time engine: sharded scheduler on precise timers, the task-per-worker
//! comparison scheduler, dispatch to the mechanisms with concurrency bounds, and the
//! machine-limit checks. Drives `kubelet/` with the real clock.

pub mod clock;
pub mod engine;
pub mod fleet;
pub mod hires;
pub mod limits;
pub mod mechanism;
pub mod naive;
pub mod preflight;
pub mod shard;
pub mod stop;
pub mod targets;
pub mod timer;
pub mod wheel;

pub use engine::{EngineConfig, EngineError, PhaseOutput, SchedulerKind, run_phase};
pub use fleet::{Fleet, GroupInput, InitialPhase, SeriesInfo};
pub use mechanism::{MechanismKind, ProbeTemplate, Prober};
pub use timer::TimerBackend;
