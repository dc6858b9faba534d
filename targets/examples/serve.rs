//! Serves N synthetic pods until SIGTERM/SIGINT — for measuring the serving process
//! (CPU, RSS) apart from any client. The real command is `probebench targets serve`.
//!
//! cargo run --release -p probebench-targets --example serve -- \
//!     [--pods 10000] [--ports 8080,8443,50051] [--behaviour FILE] [--admin 127.0.0.1:7070] \
//!     [--mode auto|dedicated|shared] [--quiet]
//!
//! If PROBEBENCH_PARENT_PID is set, the process dies with that parent.

use std::process::ExitCode;

use probebench_targets::{
    BehaviourFile, ContainerTarget, ListenMode, PodTarget, ServeConfig, die_with_parent, parse_behaviour_file,
    serve_blocking,
};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("serve: {e}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<(), String> {
    if let Ok(pid) = std::env::var("PROBEBENCH_PARENT_PID") {
        let pid = pid.parse().map_err(|e| format!("PROBEBENCH_PARENT_PID: {e}"))?;
        die_with_parent(Some(pid)).map_err(|e| e.to_string())?;
    }
    let mut pods = 10_000u32;
    let mut ports = vec![8080u16, 8443, 50051];
    let mut file = BehaviourFile::default();
    let mut admin = None;
    let mut mode = ListenMode::Auto;
    let mut quiet = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--pods" => pods = value()?.parse().map_err(|e| format!("--pods: {e}"))?,
            "--ports" => {
                ports = value()?
                    .split(',')
                    .map(|p| p.parse().map_err(|e| format!("--ports: {e}")))
                    .collect::<Result<_, _>>()?
            }
            "--behaviour" => {
                let path = value()?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
                file = parse_behaviour_file(&text).map_err(|e| format!("{path}:\n{e}"))?;
            }
            "--admin" => admin = Some(value()?.parse().map_err(|e| format!("--admin: {e}"))?),
            "--mode" => {
                mode = match value()?.as_str() {
                    "auto" => ListenMode::Auto,
                    "dedicated" => ListenMode::Dedicated,
                    "shared" => ListenMode::Shared,
                    other => return Err(format!("--mode: unknown {other:?}")),
                }
            }
            "--quiet" => quiet = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let targets = (0..pods)
        .map(|i| {
            let name = format!("pod-{i}");
            let c = ContainerTarget::from_file(&file, &name, "app", ports.clone());
            PodTarget::numbered(i, name, vec![c]).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut config = ServeConfig::new(targets);
    config.admin = admin;
    config.listen_mode = mode;
    let mut out: Box<dyn std::io::Write> =
        if quiet { Box::new(std::io::sink()) } else { Box::new(std::io::stdout().lock()) };
    if quiet {
        eprintln!("serving {pods} pods x {} ports", ports.len());
    }
    serve_blocking(config, &mut out).map_err(|e| e.to_string())
}
