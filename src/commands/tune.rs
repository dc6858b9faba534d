//! `probebench tune POD.yaml --behaviour APP.yaml`: which probe settings to choose for this
//! app, and what each choice costs — from a simulated fleet.

use std::io::{IsTerminal, Write};

use clap::Args;

use super::{CommandError, CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::kubelet::config::{KubeletConfig, SECOND, Version};
use crate::spec;
use crate::tune::{self, app, grid::Grid, measure::Exposure, objective};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench tune deploy.yaml --behaviour app.yaml\n  probebench tune pod.yaml --behaviour app.yaml --objective 'detect<=60s' --objective 'false_restarts<=0.01/day' --objective 'ready<=90s'\n  probebench tune pod.yaml --behaviour app.yaml --sweep liveness.periodSeconds=5,10,15 --sweep startup=none,10x12 --report tune.html\n\nMetrics for --objective: detect (p99 hang detection; detect.p50), ready (p99 time to Ready;\nready.p50), false_restarts, startup_kills, false_not_ready (per pod-day, or /week, /hour),\nprobes (per pod-hour). Defaults: detect<=60s, false_restarts<=0.01/day, startup_kills<=0.01/day.\nThe app file is a behaviour (docs/behaviours.md) plus `incidents: {hang: {every: 12h}}`."
)]
pub struct TuneArgs {
    /// The manifest whose probes to tune (its first pod; see --container).
    #[arg(value_name = "POD.yaml")]
    pub file: String,
    /// The app: startup time, latency, GC pauses, incidents (docs/tune.md).
    #[arg(long, value_name = "APP.yaml")]
    pub behaviour: Option<String>,
    /// The container to tune (default: the first with probes).
    #[arg(long)]
    pub container: Option<String>,
    /// A goal, METRIC<=VALUE; repeatable.
    #[arg(long = "objective", value_name = "METRIC<=VALUE")]
    pub objectives: Vec<String>,
    /// Values to try, PROBE.FIELD=V1,V2… or startup=none,PERIODxFAILURES; repeatable.
    #[arg(long = "sweep", value_name = "KEY=VALUES")]
    pub sweeps: Vec<String>,
    /// Pods simulated per setting.
    #[arg(long, default_value_t = 100)]
    pub pods: u32,
    /// Virtual time per setting.
    #[arg(long = "for", default_value = "24h", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Rounds of 4× more exposure for settings whose objectives are unresolved.
    #[arg(long, default_value_t = 2)]
    pub max_extensions: u32,
    /// Pods per node, to price probes as CPU per node.
    #[arg(long, default_value_t = 110)]
    pub pods_per_node: u32,
    /// What a probe costs: `auto` (the newest mechanisms run under results/baseline, else
    /// the built-in table), `builtin`, or a mechanisms run's summary.json.
    #[arg(long, default_value = "auto", value_name = "auto|builtin|FILE")]
    pub costs: String,
    #[arg(long, default_value = "1.35")]
    pub kubelet_version: String,
    /// Rows in the text table.
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// Also write an HTML page with the trade-off plot.
    #[arg(long, value_name = "FILE.html")]
    pub report: Option<String>,
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (use e.g. 6h, 24h, 7d)"))
}

/// `--costs`: measured figures when there are some, the built-in table otherwise.
fn costs_from(arg: &str) -> Result<tune::costs::MechanismCosts, CommandError> {
    use tune::costs::MechanismCosts;
    match arg {
        "builtin" => Ok(MechanismCosts::built_in()),
        "auto" => Ok(MechanismCosts::from_baseline(std::path::Path::new("results/baseline"))
            .unwrap_or_else(MechanismCosts::built_in)),
        file => {
            let text = std::fs::read_to_string(file).map_err(|e| invalid(format!("--costs {file}: {e}")))?;
            MechanismCosts::from_summary(&text, file).ok_or_else(|| {
                invalid(format!(
                    "--costs {file}: not the summary.json of a mechanisms run (phases exec, tcp, http and grpc, each with overhead.cpu_us_per_probe_with_children)"
                ))
            })
        }
    }
}

fn invalid(e: impl ToString) -> CommandError {
    CommandError::Invalid(e.to_string())
}

/// The slowest start the app's behaviour can draw (its distribution's maximum, or a high
/// sample quantile when it has no maximum).
fn slowest_start_s(app: &app::App) -> f64 {
    let d = &app.behaviour.spec().startup;
    if let Some(max) = d.max() {
        return max.as_secs_f64();
    }
    let mut samples: Vec<f64> = (0..2000).map(|i| app.behaviour.instance(i, 0).startup().as_secs_f64()).collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() * 999 / 1000]
}

pub fn run(args: &TuneArgs, out: &mut dyn Write) -> CommandResult {
    let loaded = spec::load_file(&args.file)
        .map_err(|errs| invalid(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
    let pod = loaded.pods.first().cloned().ok_or_else(|| invalid(format!("{}: no pods to tune", args.file)))?;
    let container = match &args.container {
        Some(name) => pod.spec.containers.iter().position(|c| &c.name == name).ok_or_else(|| {
            let names: Vec<&str> = pod.spec.containers.iter().map(|c| c.name.as_str()).collect();
            invalid(format!("--container {name:?}: the pod has {}", names.join(", ")))
        })?,
        None => pod
            .spec
            .containers
            .iter()
            .position(|c| c.probes().next().is_some())
            .ok_or_else(|| invalid(format!("{}: no container has probes; add one to tune", args.file)))?,
    };
    let cname = pod.spec.containers[container].name.clone();
    let app = match &args.behaviour {
        Some(path) => {
            let text = spec::yaml::read_text(path).map_err(|e| invalid(format!("{path}: {e}")))?;
            app::parse(&text, &pod.name, &cname).map_err(|e| invalid(format!("{path}: {e}")))?
        }
        None => app::parse("{}", &pod.name, &cname).map_err(invalid)?,
    };
    let current = tune::grid::Setting::of(&pod.spec.containers[container]);
    let mut grid =
        if args.sweeps.is_empty() { Grid::default_for(&current, slowest_start_s(&app)) } else { Grid::default() };
    for s in &args.sweeps {
        grid.set(s).map_err(invalid)?;
    }
    let mut objectives = if args.objectives.is_empty() {
        objective::defaults()
    } else {
        args.objectives.iter().map(|o| objective::parse(o)).collect::<Result<Vec<_>, _>>().map_err(invalid)?
    };
    if app.incidents.hang_every.is_none() {
        // Without hangs there is nothing to detect.
        let detect =
            |o: &objective::Objective| matches!(o.metric, objective::Metric::DetectP99 | objective::Metric::DetectP50);
        if !args.objectives.is_empty() && objectives.iter().any(detect) {
            return Err(invalid(
                "a detect objective needs hang incidents; the app file sets `incidents: {hang: false}`",
            ));
        }
        objectives.retain(|o| !detect(o));
    }
    let version =
        Version::parse(&args.kubelet_version).ok_or_else(|| invalid("--kubelet-version: expected MAJOR.MINOR"))?;
    let candidates = grid.candidates(&current).len();
    if candidates > 1000 {
        return Err(invalid(format!("the sweep has {candidates} settings; narrow it (at most 1000)")));
    }
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let req = tune::Request {
        pod: pod.clone(),
        container,
        app,
        grid,
        objectives,
        exposure: Exposure {
            pods: args.pods.max(1),
            duration_ns: u64::try_from(args.duration.as_nanos()).unwrap_or(u64::MAX).max(SECOND),
            seed: args.seed,
        },
        kubelet: KubeletConfig::for_version(version),
        threads,
        max_extensions: args.max_extensions,
        pods_per_node: args.pods_per_node.max(1),
        costs: costs_from(&args.costs)?,
    };
    let tty = std::io::stderr().is_terminal();
    let progress = |what: &str, done: usize, total: usize| {
        if tty {
            eprint!("\r{what} {done}/{total} settings");
            if done == total {
                eprintln!();
            }
        }
    };
    tracing::info!("tuning {} settings × {} pods × {:?}", candidates, args.pods, args.duration);
    let outcome = tune::run(&req, &progress);
    let c = &pod.spec.containers[container];
    if let Some(path) = &args.report {
        let title = format!("probebench tune: {} / {}", pod.name, cname);
        let page = tune::report::html(&outcome, c, &title).map_err(CommandError::Internal)?;
        crate::report::write_whole(std::path::Path::new(path), page.as_bytes())?;
    }
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &outcome).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            writeln!(
                out,
                "Tuned {}/{}: {} settings, each {} pods × {} of virtual time ({:.0} pod-days), seed {}.\n",
                pod.name,
                cname,
                outcome.candidates.len(),
                args.pods,
                humantime::format_duration(args.duration),
                outcome.base_pod_days,
                args.seed
            )?;
            out.write_all(tune::report::text(&outcome, c, args.top).as_bytes())?;
        }
    }
    Ok(Exit::Ok)
}
