//! The probe mechanisms, one file each. Every mechanism returns an [`Outcome`].

pub mod outcome;

pub use outcome::{Outcome, ProbeResult, Timings};
