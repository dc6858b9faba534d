//! Output: tables, JSON, result files, plots, comparisons, thresholds.

pub mod hgrm;
pub mod hlog;
pub mod results_dir;
pub mod run_table;
pub mod summary;
pub mod table;
