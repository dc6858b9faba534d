//! Command-line definitions (clap) only; each command's arguments live beside its code in
//! `commands/`, and `main.rs` dispatches.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;

/// Reproduce the kubelet's container probes and pod lifecycle, fire them at scale against
/// sample targets, and measure jitter, latency and the prober's own cost.
#[derive(Debug, Parser)]
#[command(name = "probebench", version, about, long_about = None, propagate_version = true)]
#[command(
    after_help = "Examples:\n  probebench validate targets/pods/*.yaml\n  probebench show targets/pods/myweb-startup.yaml\n  probebench report results/<run-id>\n  probebench explain pods.spec.containers.livenessProbe\n\nExit codes: 0 ok, 1 a probe or threshold failed, 2 invalid input or usage, 3 schedule not held, 130 interrupted."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// More log output on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

/// How results are printed on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check manifests the way the API server would (`kubectl apply --dry-run`).
    Validate(commands::validate::ValidateArgs),
    /// Describe a probe-related field, like `kubectl explain`.
    Explain(commands::explain::ExplainArgs),
    /// Show the pods of a manifest and their probes after defaulting.
    Show(commands::show::ShowArgs),
    /// Fire the probes of a scenario (or manifest) on their schedules and measure dispatch
    /// lag, latency and the prober's own cost.
    Run(commands::run::RunArgs),
    /// Write a run directory's report.html: tables and plots in one self-contained page.
    Report(commands::report::ReportArgs),
    /// Compare runs (results directories) figure by figure, with noise-aware verdicts.
    Compare(commands::compare::CompareArgs),
    /// Simulate the kubelet's handling of a manifest's pods on a virtual clock.
    Simulate(commands::simulate::SimulateArgs),
    /// Recommend probe settings for an app from a simulated fleet.
    Tune(commands::tune::TuneArgs),
    /// Serve sample targets for a manifest's pods, or check a gRPC health service.
    Targets(commands::targets::TargetsArgs),
    /// Print a shell completion script.
    Completions(commands::completions::CompletionsArgs),
    /// Run one probe once and show what the kubelet would conclude.
    Probe(Box<commands::probe::ProbeArgs>),
}
