//! `probebench compare A B`: two sides of run directories, figure by figure, with a
//! noise-aware verdict (docs/compare.md). Exit 1 with `--fail-if-worse PCT` when a figure
//! regressed beyond PCT and beyond noise; 2 when a run directory cannot be read.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{CommandError, CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::report::compare::{self, Options, render, run_dir};

#[derive(Debug, Args)]
#[command(
    after_help = "Sides: the first RUN is side A (the baseline), the others side B. -a/-b add runs to a side, so \
                  repeated runs give each side its spread:\n  probebench compare results/20261201T170035Z-default results/20261201T171210Z-default\n  \
                  probebench compare -a results/*-hires -b results/*-naive\n  probebench compare base/ new/ --fail-if-worse 10 \
                  --output json\n\nVerdicts: \"same\" when the difference is inside both sides' spread (95% bootstrap over \
                  seconds, or the range of repeated runs, at least ±--min-spread). See docs/compare.md.\nExit status: 0 \
                  compared (no regression), 1 a figure is worse beyond --fail-if-worse, 2 a run directory is missing or \
                  unreadable."
)]
pub struct CompareArgs {
    /// Run directories: the first is side A, the rest side B.
    #[arg(value_name = "RUN")]
    pub runs: Vec<PathBuf>,
    /// Add run directories to side A (the baseline); repeat or list several.
    #[arg(short = 'a', long = "a", value_name = "RUN", num_args = 1..)]
    pub side_a: Vec<PathBuf>,
    /// Add run directories to side B (the candidate); repeat or list several.
    #[arg(short = 'b', long = "b", value_name = "RUN", num_args = 1..)]
    pub side_b: Vec<PathBuf>,
    /// Exit 1 when any figure is worse (beyond noise) by more than PCT percent.
    #[arg(long, value_name = "PCT")]
    pub fail_if_worse: Option<f64>,
    /// Each side's interval is at least ± PCT percent of its value (covers figures measured
    /// once per run, and histogram resolution).
    #[arg(long, value_name = "PCT", default_value_t = 5.0)]
    pub min_spread: f64,
    /// Bootstrap replicates per figure (more: steadier intervals, slower).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub resamples: usize,
    /// Result format on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Which runs form each side: positional first → A, other positionals → B, plus -a/-b.
fn sides(args: &CompareArgs) -> Result<(Vec<PathBuf>, Vec<PathBuf>), CommandError> {
    let mut a = Vec::new();
    let mut b = Vec::new();
    let mut pos = args.runs.iter();
    if let Some(first) = pos.next() {
        a.push(first.clone());
    }
    b.extend(pos.cloned());
    a.extend(args.side_a.iter().cloned());
    b.extend(args.side_b.iter().cloned());
    if a.is_empty() || b.is_empty() {
        return Err(CommandError::Invalid(
            "compare needs runs on both sides: `probebench compare RUN_A RUN_B`, or -a RUN... -b RUN...".into(),
        ));
    }
    Ok((a, b))
}

fn check_pct(name: &str, v: f64) -> Result<(), CommandError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(CommandError::Invalid(format!("--{name}: {v} is not a percentage ≥ 0")))
    }
}

pub fn run(args: &CompareArgs, out: &mut dyn Write) -> CommandResult {
    let (a, b) = sides(args)?;
    check_pct("min-spread", args.min_spread)?;
    if let Some(p) = args.fail_if_worse {
        check_pct("fail-if-worse", p)?;
    }
    let load = |dirs: &[PathBuf]| -> Result<Vec<run_dir::RunData>, CommandError> {
        dirs.iter().map(|d| run_dir::load(d).map_err(|e| CommandError::Invalid(e.to_string()))).collect()
    };
    let (ra, rb) = (load(&a)?, load(&b)?);
    let opts =
        Options { min_spread_pct: args.min_spread, resamples: args.resamples, fail_if_worse_pct: args.fail_if_worse };
    let c = compare::compare(&ra, &rb, opts);
    match args.output {
        OutputFormat::Text => out.write_all(render::text(&c).as_bytes())?,
        OutputFormat::Json => {
            let json = serde_json::to_string_pretty(&c).map_err(|e| CommandError::Internal(e.to_string()))?;
            writeln!(out, "{json}")?;
        }
    }
    Ok(if c.regressions.is_empty() { Exit::Ok } else { Exit::Failed })
}
