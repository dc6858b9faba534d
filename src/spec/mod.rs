//! The Kubernetes API subset: typed pods and probes, loading, defaults and validation.

pub mod types;

pub use types::*;
