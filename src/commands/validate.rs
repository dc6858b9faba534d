//! `probebench validate FILE...`: check manifests the way the API server would, like
//! `kubectl apply --dry-run=server`, without a cluster.

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::{CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::spec;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench validate targets/pods/*.yaml\n  kubectl get deploy web -o yaml | probebench validate -\n  probebench validate --output json pod.yaml\n\nExit status: 0 when every file is valid, 2 when any is not."
)]
pub struct ValidateArgs {
    /// Manifest files (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob,
    /// List; several documents per file). `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Result format on stdout.
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// One file's verdict, as printed with `--output json`.
#[derive(Debug, Serialize)]
pub struct FileReport {
    pub file: String,
    pub valid: bool,
    pub pods: usize,
    pub containers: usize,
    pub probes: usize,
    pub errors: Vec<String>,
    pub notes: Vec<String>,
}

pub fn report(file: &str) -> FileReport {
    let name = spec::yaml::display_name(file);
    match spec::load_file(file) {
        Ok(l) => FileReport {
            file: name,
            valid: true,
            pods: l.pods.len(),
            containers: l.container_count(),
            probes: l.probe_count(),
            errors: Vec::new(),
            notes: l.notes,
        },
        Err(errors) => FileReport {
            file: name,
            valid: false,
            pods: 0,
            containers: 0,
            probes: 0,
            errors: errors.iter().map(|e| e.to_string()).collect(),
            notes: Vec::new(),
        },
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("{n} {word}") } else { format!("{n} {word}s") }
}

pub fn run(args: &ValidateArgs, out: &mut dyn Write) -> CommandResult {
    let reports: Vec<FileReport> = args.files.iter().map(|f| report(f)).collect();
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &reports).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            for r in &reports {
                for n in &r.notes {
                    writeln!(out, "note: {n}")?;
                }
                if r.valid {
                    writeln!(
                        out,
                        "{}: OK ({}, {})",
                        r.file,
                        plural(r.containers, "container"),
                        plural(r.probes, "probe")
                    )?;
                } else {
                    for e in &r.errors {
                        writeln!(out, "{e}")?;
                    }
                }
            }
        }
    }
    Ok(if reports.iter().all(|r| r.valid) { Exit::Ok } else { Exit::Invalid })
}
