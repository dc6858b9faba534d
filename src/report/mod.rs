//! Output: tables, JSON, result files, plots, comparisons, thresholds.

pub mod table;
