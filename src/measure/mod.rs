//! Measurement: HDR histograms of the per-probe timings (dispatch lag, overrun delay, start
//! lag, latency, corrected latency), counters, the 1-second interval pipeline, and the
//! prober's own overhead read from the kernel.

pub mod collector;
pub mod hist;
pub mod overhead;
pub mod recorder;

pub use hist::{Metric, MetricSet};
pub use recorder::{Counters, IntervalSet, Recorder, SeriesStats};
