//! `probebench report RUN_DIR`: write `RUN_DIR/report.html`, a self-contained page with the
//! run's tables and plots, and print its path.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{CommandError, CommandResult, Exit};
use crate::report::html::{self, ReportError};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench report results/20260101T120000Z-default\n  probebench report \"$(ls -d results/*/ | tail -1)\"   # the latest run\n  xdg-open \"$(probebench report results/20260101T120000Z-mechanisms)\"\n\nThe page is one file: inline CSS and SVG, no script, nothing fetched; it replaces an earlier report.html in RUN_DIR.\nWhat each plot shows and how it is computed: docs/report.md.\nExit status: 0 written, 1 could not read or write, 2 RUN_DIR is not a run directory (no summary.json)."
)]
pub struct ReportArgs {
    /// A run directory written by `probebench run` (it holds summary.json).
    #[arg(value_name = "RUN_DIR")]
    pub run_dir: PathBuf,
}

pub fn run(args: &ReportArgs, out: &mut dyn Write) -> CommandResult {
    let path = html::write_report(&args.run_dir).map_err(|e| match e {
        ReportError::NotARunDir(_) | ReportError::Invalid { .. } => CommandError::Invalid(e.to_string()),
        other => CommandError::Internal(other.to_string()),
    })?;
    writeln!(out, "{}", path.display())?;
    Ok(Exit::Ok)
}
