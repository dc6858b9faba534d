//! `report.html`: a run directory turned into one self-contained page — the summary tables,
//! the machine and command, and plots drawn with plotters' SVG backend (percentile
//! distributions on the HdrHistogram axis, figures per interval, CPU per probe, results, pod
//! timelines). Inline CSS and SVG only: no script, no font or style sheet fetched, readable
//! offline and without JavaScript. docs/report.md describes every plot.

pub mod escape;
pub mod events;
pub mod figure;
pub mod hlog_read;
pub mod load;
pub mod page;
pub mod percentile_axis;
pub mod plots;
pub mod series_ref;
pub mod summary_model;
pub mod tables;
pub mod units;
pub mod watch;

use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// The file written into the run directory.
pub const REPORT_FILE: &str = "report.html";

#[derive(Debug, Error)]
pub enum ReportError {
    /// The directory has no `summary.json` (the user's input: exit 2).
    #[error("{} is not a run directory: it has no summary.json", .0.display())]
    NotARunDir(PathBuf),
    /// `summary.json` is there but is not a probebench summary (the user's input: exit 2).
    #[error("{}: not a probebench summary: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    /// plotters refused to draw (a bug here, not bad input).
    #[error("drawing a plot failed: {0}")]
    Plot(String),
}

/// Render the report of `run_dir` as HTML text, without writing it.
pub fn render_report(run_dir: &Path) -> Result<String, ReportError> {
    let run = load::load(run_dir)?;
    page::render(&run)
}

/// Write `RUN_DIR/report.html` and return its path. The page is written whole (a temporary
/// file, synced, then renamed), so a reader never sees half of it. Unlike the run's own
/// files, an existing report is replaced: it is derived from them and can be made again.
pub fn write_report(run_dir: &Path) -> Result<PathBuf, ReportError> {
    let text = render_report(run_dir)?;
    let path = run_dir.join(REPORT_FILE);
    crate::report::write_whole(&path, text.as_bytes())
        .map_err(|source| ReportError::Write { path: path.clone(), source })?;
    Ok(path)
}
