//! The kubelet's semantics, pure and clock-free: every call takes `now`. Driven by the
//! simulator (virtual clock) and the real-time engine (real clock) alike, so the two cannot
//! disagree about thresholds, back-off or events.

pub mod backoff;
pub mod config;
pub mod duration;
pub mod events;
pub mod messages;
pub mod pod;
pub mod status;
pub mod worker;

pub use worker::{CachedResult, ContainerView, PodView, ProbeWorker, Published, RunState, StartupHold, Tick};
