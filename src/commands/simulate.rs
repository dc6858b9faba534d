//! `probebench simulate FILE`: the kubelet's handling of a manifest's pods on a virtual
//! clock — what `kubectl get pods --watch` and `kubectl describe` would show, event by
//! event, for hours of a fleet in seconds.

use std::io::Write;

use clap::Args;

use super::{CommandError, CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::kubelet::config::{CrashLoopProfile, KubeletConfig, SECOND, Version};
use crate::sim::engine::{BEHAVIOUR_ANNOTATION, SimOptions, Simulation};
use crate::sim::report;
use crate::spec;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench simulate targets/pods/myweb-liveness-err.yaml --for 5m\n  probebench simulate deploy.yaml --behaviour app.yaml --for 1h --output json\n  probebench simulate targets/pods/myweb-image-missing.yaml --kubelet-version 1.34\n\nBehaviours (docs/behaviours.md) come from --behaviour FILE, else from the pod annotation\nprobebench.dev/behaviour, else the default (healthy on every declared port after ~1 s).\nSame input and seed give byte-identical output."
)]
pub struct SimulateArgs {
    /// A manifest (Pod, Deployment, ...; `replicas` make fleets).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Behaviour file mapping pods/containers to behaviours, with optional scheduled actions.
    #[arg(long, value_name = "FILE")]
    pub behaviour: Option<String>,
    /// Virtual time to simulate.
    #[arg(long = "for", value_name = "DURATION", default_value = "10m", value_parser = parse_duration)]
    pub duration: std::time::Duration,
    /// Random seed (pod names and UIDs, jitter, behaviour draws).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The kubelet version whose behaviour to follow (1.20 … 1.35).
    #[arg(long, default_value = "1.35", value_parser = Version::parse_supported)]
    pub kubelet_version: Version,
    /// How long the kubelet has been running when the pods arrive: `0s` makes new probe
    /// workers sleep a random part of their period first (as after a kubelet restart).
    #[arg(long, default_value = "long", value_parser = parse_uptime)]
    pub kubelet_uptime: u64,
    /// Crash-loop back-off: `default` (10 s → 5 min), `reduced` (1 s → 60 s, the
    /// ReduceDefaultCrashLoopBackOffDecay gate) or a node maximum like `max=30s`.
    #[arg(long, default_value = "default", value_parser = CrashLoopProfile::parse)]
    pub crash_loop: CrashLoopProfile,
    /// Pods per node (each node has its own serial image puller and timing grids).
    #[arg(long, default_value_t = 110)]
    pub pods_per_node: u32,
    /// Include every probe run in JSON output (large for fleets).
    #[arg(long)]
    pub probes: bool,
    /// Also write every event as emitted (before the event correlator) to FILE, one JSON
    /// object per line: the shape of `probebench run`'s events.jsonl, so a simulated and a
    /// real run compare line by line.
    #[arg(long, value_name = "FILE")]
    pub events: Option<std::path::PathBuf>,
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(s).map_err(|e| format!("{e} (use e.g. 90s, 10m, 1h)"))
}

fn parse_uptime(s: &str) -> Result<u64, String> {
    if s == "long" {
        return Ok(24 * 3600 * SECOND);
    }
    parse_duration(s).map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn invalid(errs: impl IntoIterator<Item = String>) -> CommandError {
    CommandError::Invalid(errs.into_iter().collect::<Vec<_>>().join("\n"))
}

/// Load the behaviour file, or the defaults; check inline annotation behaviours too.
pub fn load_behaviours(
    path: Option<&str>,
    pods: &[spec::Pod],
) -> Result<probebench_targets::BehaviourFile, CommandError> {
    for p in pods {
        if let Some(text) = p.annotations.get(BEHAVIOUR_ANNOTATION)
            && let Err(e) = probebench_targets::parse_behaviour(text)
        {
            return Err(invalid(e.errors.iter().map(|err| {
                format!("{} {:?}: metadata.annotations[{BEHAVIOUR_ANNOTATION:?}]: {err}", p.source.kind, p.name)
            })));
        }
    }
    let Some(path) = path else {
        return Ok(probebench_targets::BehaviourFile::default());
    };
    let text = spec::yaml::read_text(path).map_err(|e| invalid([format!("{path}: {e}")]))?;
    probebench_targets::parse_behaviour_file(&text)
        .map_err(|e| invalid(e.errors.iter().map(|err| format!("{path}: {err}"))))
}

pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> CommandResult {
    let loaded = spec::load_file(&args.file).map_err(|errs| invalid(errs.iter().map(|e| e.to_string())))?;
    for n in &loaded.notes {
        tracing::info!("{n}");
    }
    let behaviours = load_behaviours(args.behaviour.as_deref(), &loaded.pods)?;
    let mut kubelet = KubeletConfig::for_version(args.kubelet_version);
    kubelet.uptime_ns = args.kubelet_uptime;
    kubelet.crash_loop = args.crash_loop;
    let opts = SimOptions {
        duration_ns: u64::try_from(args.duration.as_nanos()).unwrap_or(u64::MAX),
        seed: args.seed,
        kubelet,
        record_probes: args.probes,
        pods_per_node: args.pods_per_node.max(1),
        ..SimOptions::default()
    };
    let sim = Simulation::new(&loaded.pods, behaviours, opts).map_err(|e| CommandError::Invalid(e.to_string()))?;
    let result = sim.run();
    if let Some(path) = &args.events {
        let mut text = String::new();
        for e in &result.events.emitted {
            let pod = result.pods.get(e.pod as usize).map_or("", |p| p.name.as_str());
            text.push_str(&report::event_line(None, pod, e).to_string());
            text.push('\n');
        }
        std::fs::write(path, text).map_err(|e| CommandError::Internal(format!("{}: {e}", path.display())))?;
    }
    match args.output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report::json(&result, args.probes))
                .map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            let created: Vec<u64> = result.pods.iter().map(|p| p.created_ns).collect();
            out.write_all(report::watch_text(&result, &created).as_bytes())?;
            for p in result.pods.iter().take(report::DETAILED_PODS) {
                writeln!(out)?;
                writeln!(out, "Name:         {}", p.name)?;
                writeln!(out, "Namespace:    {}", p.namespace)?;
                out.write_all(report::events_text(&result, p.index).as_bytes())?;
            }
            if result.pods.len() > report::DETAILED_PODS {
                writeln!(
                    out,
                    "\n({} more pods: their watch lines and events are in --output json)",
                    result.pods.len() - report::DETAILED_PODS
                )?;
            }
            writeln!(out)?;
            out.write_all(report::pods_text(&result).as_bytes())?;
            writeln!(out)?;
            out.write_all(report::summary_text(&report::summary(&result), result.end_ns).as_bytes())?;
        }
    }
    Ok(Exit::Ok)
}
