//! Output: tables, JSON, result files, plots, comparisons, thresholds.

pub mod hgrm;
pub mod hlog;
pub mod table;
