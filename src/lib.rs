//! probebench: the kubelet's container probes and pod lifecycle, reproduced and measured.
//!
//! See docs/DESIGN.md for the architecture and the words used throughout.

pub mod cli;
pub mod commands;
pub mod fleet;
pub mod gotext;
pub mod kubelet;
pub mod lifecycle;
pub mod measure;
pub mod probe;
pub mod report;
pub mod scenario;
pub mod sched;
pub mod sim;
pub mod spec;
pub mod thresholds;
pub mod tune;
