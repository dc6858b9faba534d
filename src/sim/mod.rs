//! The virtual-time engine: hours of a fleet's probes and lifecycle in seconds, driven
//! through the same kubelet core as the real-time engine.

pub mod engine;
pub mod judge;
pub mod queue;
pub mod report;

pub use engine::{Incident, IncidentKind, Kill, LiveCall, ProbeRecord, SimOptions, SimResult, Simulation, WatchLine};
