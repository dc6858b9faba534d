//! Pass/fail thresholds on a run's figures: `dispatch_lag.p99 < 2ms`,
//! `latency{mechanism=http}.p99 < 50ms`, `errored == 0`, `restarts{pod=web-*} <= 1`.
//! The grammar and every metric are documented in docs/thresholds.md.
//!
//! Two stages, like the rest of the configuration (DESIGN.md "two-stage configuration"):
//! before the run, [`parse`] + [`validate`] (or [`validate_all`] for a scenario's list)
//! turn text into [`ValidThreshold`]s, with errors that name the column and suggest the
//! nearest name; after the run, [`evaluate`] compares them with the [`Summary`]
//! (plus the run's histograms and pod lifecycle facts where a threshold needs them) and
//! [`render_table`] prints the verdicts. Exit code 1 when any did not pass
//! ([`all_passed`]).
//!
//! ```
//! use probebench::thresholds::{Catalogue, validate_all};
//! let ts = validate_all(&["dispatch_lag.p99 < 2ms", "errored == 0"], &Catalogue::standard()).unwrap();
//! assert_eq!(ts[0].limit, 2e6); // nanoseconds
//! let errs = validate_all(&["lag.p99 < 2ms"], &Catalogue::standard()).unwrap_err();
//! assert!(errs[0].to_string().contains("did you mean `dispatch_lag`?"));
//! ```
//!
//! Modules: [`grammar`] (text → syntax), [`catalogue`] (metrics, labels, statistics, units;
//! validation), [`lifecycle`] (per-pod facts and statistics over pods), [`evaluate`]
//! (values and verdicts), [`table`] (the terminal table).
//!
//! [`Summary`]: crate::report::summary::Summary

pub mod catalogue;
pub mod evaluate;
pub mod grammar;
pub mod lifecycle;
pub mod table;

pub use catalogue::{
    Catalogue, Label, MetricDef, Quantity, Stat, ValidThreshold, parse_and_validate, validate, validate_all,
};
pub use evaluate::{Evaluation, HistogramSource, Inputs, PhaseSeries, Verdict, all_passed, evaluate};
pub use grammar::{Op, Threshold, ThresholdError, parse};
pub use lifecycle::{ContainerFacts, LifecycleFacts, PodFacts};
pub use table::render_table;

#[cfg(test)]
mod tests;
