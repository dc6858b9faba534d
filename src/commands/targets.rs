//! `probebench targets …`: the sample targets — scriptable HTTP(S), TCP and gRPC health
//! servers acting out behaviours for the pods of a manifest (probebench-targets), and a
//! grpc_health_probe-like client.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, Subcommand};
use probebench_targets::{ContainerTarget, ListenMode, PodTarget, ServeConfig};

use super::{CommandError, CommandResult, Exit};
use crate::fleet;
use crate::spec;

#[derive(Debug, Args)]
pub struct TargetsArgs {
    #[command(subcommand)]
    pub command: TargetsCommand,
}

#[derive(Debug, Subcommand)]
pub enum TargetsCommand {
    /// Serve the pods of a manifest (replicas expanded), each on its own loopback address.
    Serve(ServeArgs),
    /// Check a gRPC health service like grpc_health_probe: exit 0 when SERVING, 1 otherwise.
    HealthProbe(HealthProbeArgs),
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench targets serve --pods targets/pods/myweb-startup.yaml --port-offset 8000\n  probebench targets serve --pods deploy.yaml --behaviour app.yaml --admin 127.0.0.1:7070\n\nPrints `# admin http://ADDR`, one `<pod> <ip>` line per pod and `# ready`, then serves until\nSIGTERM or Ctrl-C. Pod i listens on 127.(1+i/65536).(i/256%256).(i%256) on its declared\ncontainer ports; anything else is refused. The admin API is in docs/behaviours.md."
)]
pub struct ServeArgs {
    /// The manifest whose pods to serve.
    #[arg(long, value_name = "FILE")]
    pub pods: String,
    /// Behaviours for the pods' containers (default: healthy on every declared port).
    #[arg(long, value_name = "FILE")]
    pub behaviour: Option<String>,
    /// Admin endpoint (JSON over HTTP; loopback only). Port 0 picks one.
    #[arg(long, value_name = "ADDR")]
    pub admin: Option<SocketAddr>,
    /// Added to every declared port (for ports below 1024 without the privilege to bind them).
    #[arg(long, default_value_t = 0)]
    pub port_offset: u16,
    /// `dedicated` (a socket per pod and port: real refusals), `shared` (a socket per port
    /// number, for more pods than file descriptors), or `auto`.
    #[arg(long, default_value = "auto", value_parser = ["auto", "dedicated", "shared"])]
    pub mode: String,
    /// Seed for pod names (replicas) and the behaviours' random draws.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Where the exec state directories go (default: /dev/shm/probebench-targets-<pid>).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<std::path::PathBuf>,
    /// Do not start the containers; wait for the admin endpoint's `start`.
    #[arg(long)]
    pub no_start: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench targets health-probe --addr 127.1.0.0:50051\n  probebench targets health-probe --addr 127.1.0.0:50051 --service api --timeout 500ms\n  probebench targets health-probe --addr :9090     # in an exec probe: this pod's address\n\nAs an exec probe's command (`exec: {command: [probebench, targets, health-probe, --addr, \":9090\"]}`)\nit is what grpc_health_probe is in an image: `:PORT` dials the pod's own address\n($PROBEBENCH_POD_IP, which run sets for exec probes; 127.0.0.1 without it), as\ngrpc_health_probe's `-addr=:PORT` dials the pod's own network namespace."
)]
pub struct HealthProbeArgs {
    /// HOST:PORT of the gRPC server; `:PORT` means this pod's address ($PROBEBENCH_POD_IP,
    /// else 127.0.0.1).
    #[arg(long)]
    pub addr: String,
    /// The service to check ("" = the server as a whole).
    #[arg(long, default_value = "")]
    pub service: String,
    /// For the connection and the RPC together.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
}

fn invalid(e: impl ToString) -> CommandError {
    CommandError::Invalid(e.to_string())
}

/// The targets for a manifest's pods: behaviours from the file, else the pod annotation,
/// else the default; seeds as the simulator derives them (so both draw the same times).
pub fn pod_targets(
    pods: &[fleet::PodInstance],
    behaviours: &probebench_targets::BehaviourFile,
    run_seed: u64,
) -> Result<Vec<PodTarget>, CommandError> {
    pods.iter()
        .map(|p| {
            let containers = p
                .template
                .spec
                .containers
                .iter()
                .map(|c| {
                    let ports = c.ports.iter().filter_map(|port| u16::try_from(port.container_port).ok()).collect();
                    ContainerTarget {
                        name: c.name.clone(),
                        ports,
                        behaviour: fleet::behaviour_for(behaviours, p, &c.name),
                        seed: fleet::behaviour_seed(behaviours, run_seed, &p.name, &c.name),
                    }
                })
                .collect();
            Ok(PodTarget { name: p.name.clone(), ip: p.ip, containers })
        })
        .collect()
}

fn serve(args: &ServeArgs, out: &mut dyn Write) -> CommandResult {
    // Started by `probebench run`: die with it, never outlive it with listeners open.
    if let Ok(pid) = std::env::var("PROBEBENCH_PARENT_PID") {
        let pid = pid.parse().map_err(|_| invalid(format!("PROBEBENCH_PARENT_PID={pid:?} is not a pid")))?;
        probebench_targets::die_with_parent(Some(pid)).map_err(|e| CommandError::Internal(e.to_string()))?;
    }
    let loaded = spec::load_file(&args.pods)
        .map_err(|errs| invalid(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")))?;
    let behaviours = super::simulate::load_behaviours(args.behaviour.as_deref(), &loaded.pods)?;
    let fleet = fleet::expand(&loaded.pods, args.seed).map_err(invalid)?;
    let mut config = ServeConfig::new(pod_targets(&fleet, &behaviours, args.seed)?);
    config.admin = args.admin;
    config.port_offset = args.port_offset;
    config.start_containers = !args.no_start;
    config.listen_mode = match args.mode.as_str() {
        "dedicated" => ListenMode::Dedicated,
        "shared" => ListenMode::Shared,
        _ => ListenMode::Auto,
    };
    if let Some(dir) = &args.state_dir {
        config.state_root = dir.clone();
    }
    probebench_targets::serve_blocking(config, out).map_err(|e| match e {
        probebench_targets::TargetsError::Bind { .. } | probebench_targets::TargetsError::FdLimit { .. } => invalid(e),
        other => CommandError::Internal(other.to_string()),
    })?;
    Ok(Exit::Ok)
}

fn health_probe(args: &HealthProbeArgs, out: &mut dyn Write) -> CommandResult {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let addr = own_pod_addr(&args.addr, std::env::var("PROBEBENCH_POD_IP").ok().as_deref());
    let result = rt.block_on(probebench_targets::health_probe(&addr, &args.service, args.timeout));
    writeln!(out, "{result}")?;
    Ok(if result.exit_code() == 0 { Exit::Ok } else { Exit::Failed })
}

/// `:PORT` is the pod's own address, as in a container (where grpc_health_probe's
/// `-addr=:PORT` reaches the pod's network namespace): the exec probe's pod IP when run
/// by `probebench run`, else loopback.
fn own_pod_addr(addr: &str, pod_ip: Option<&str>) -> String {
    match addr.strip_prefix(':') {
        Some(port) => format!("{}:{port}", pod_ip.filter(|ip| !ip.is_empty()).unwrap_or("127.0.0.1")),
        None => addr.to_string(),
    }
}

pub fn run(args: &TargetsArgs, out: &mut dyn Write) -> CommandResult {
    match &args.command {
        TargetsCommand::Serve(a) => serve(a, out),
        TargetsCommand::HealthProbe(a) => health_probe(a, out),
    }
}

#[cfg(test)]
mod tests {
    use super::own_pod_addr;

    #[test]
    fn a_bare_port_dials_the_pods_own_address() {
        assert_eq!(own_pod_addr(":9090", Some("127.1.0.7")), "127.1.0.7:9090");
        assert_eq!(own_pod_addr(":9090", None), "127.0.0.1:9090");
        assert_eq!(own_pod_addr(":9090", Some("")), "127.0.0.1:9090");
        assert_eq!(own_pod_addr("127.2.0.1:50051", Some("127.1.0.7")), "127.2.0.1:50051");
    }
}
