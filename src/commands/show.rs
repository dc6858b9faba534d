//! `probebench show FILE`: the pods of a manifest and their probes after defaulting, so a
//! user sees what the kubelet will actually run (period 10, timeout 1 ... where omitted).

use std::io::Write;

use clap::Args;
use serde::Serialize;

use super::{CommandError, CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::report::table::Table;
use crate::spec::{self, Action, Container, Pod, Probe};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench show targets/pods/myweb-startup.yaml\n  probebench show --output json deploy.yaml | jq '.[0].spec.containers[0].livenessProbe'"
)]
pub struct ShowArgs {
    /// A manifest file; `-` reads standard input.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Result format on stdout: a table, or the defaulted pods as JSON (API field names).
    #[arg(long, short = 'o', value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// How a probe's action reads in one cell: the mechanism's target as the kubelet would
/// build it (pod IP left as `<pod-ip>` unless `host` is set).
pub fn target(action: &Action<'_>) -> String {
    match action {
        Action::Exec(e) => serde_json::to_string(&e.command).unwrap_or_default(),
        Action::HttpGet(h) => {
            let host = h.host.as_deref().unwrap_or("<pod-ip>");
            format!("{}://{host}:{}{}", h.scheme.to_lowercase(), h.port, h.path)
        }
        Action::TcpSocket(t) => format!("{}:{}", t.host.as_deref().unwrap_or("<pod-ip>"), t.port),
        Action::Grpc(g) => match &g.service {
            Some(s) => format!("<pod-ip>:{} service={s:?}", g.port),
            None => format!("<pod-ip>:{}", g.port),
        },
    }
}

fn mechanism_name(action: &Action<'_>) -> &'static str {
    match action {
        Action::Exec(_) => "exec",
        Action::HttpGet(_) => "httpGet",
        Action::TcpSocket(_) => "tcpSocket",
        Action::Grpc(_) => "grpc",
    }
}

fn probe_row(pod: &Pod, c: &Container, t: spec::ProbeType, p: &Probe) -> Vec<String> {
    let (mechanism, target) = match p.handler.action() {
        Some(a) => (mechanism_name(&a), target(&a)),
        None => ("-", String::new()),
    };
    vec![
        pod.name.clone(),
        pod.source.replicas.to_string(),
        c.name.clone(),
        t.as_str().to_string(),
        mechanism.to_string(),
        target,
        format!("{}s", p.period_seconds),
        format!("{}s", p.timeout_seconds),
        p.success_threshold.to_string(),
        p.failure_threshold.to_string(),
        format!("{}s", p.initial_delay_seconds),
    ]
}

pub fn table(pods: &[Pod]) -> Table {
    let mut t = Table::new(&[
        "POD",
        "REPLICAS",
        "CONTAINER",
        "PROBE",
        "MECHANISM",
        "TARGET",
        "PERIOD",
        "TIMEOUT",
        "SUCCESS",
        "FAILURE",
        "DELAY",
    ])
    .right_align(&[1, 6, 7, 8, 9, 10]);
    for pod in pods {
        for (_, c) in pod.spec.probed_containers() {
            for (ty, p) in c.probes() {
                t.row(probe_row(pod, c, ty, p));
            }
        }
    }
    t
}

#[derive(Serialize)]
struct PodJson<'a> {
    name: &'a str,
    namespace: &'a str,
    source: &'a spec::Source,
    spec: &'a spec::PodSpec,
}

pub fn run(args: &ShowArgs, out: &mut dyn Write) -> CommandResult {
    let loaded = spec::load_file(&args.file)
        .map_err(|errs| CommandError::Invalid(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
    for n in &loaded.notes {
        tracing::info!("{n}");
    }
    match args.output {
        OutputFormat::Json => {
            let pods: Vec<PodJson<'_>> = loaded
                .pods
                .iter()
                .map(|p| PodJson { name: &p.name, namespace: &p.namespace, source: &p.source, spec: &p.spec })
                .collect();
            serde_json::to_writer_pretty(&mut *out, &pods).map_err(std::io::Error::other)?;
            writeln!(out)?;
        }
        OutputFormat::Text => {
            let t = table(&loaded.pods);
            if t.is_empty() {
                writeln!(out, "{}: no probes ({} pods)", spec::yaml::display_name(&args.file), loaded.pods.len())?;
            } else {
                out.write_all(t.render().as_bytes())?;
            }
        }
    }
    Ok(Exit::Ok)
}
