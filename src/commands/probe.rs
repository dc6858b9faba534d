//! `probebench probe`: one probe, once, and what the kubelet would conclude from it: the
//! result, the event it would record, and where the time went.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args};
use serde_json::json;

use super::{CommandError, CommandResult, Exit};
use crate::cli::OutputFormat;
use crate::probe::http::url::{ProbeUrl, Scheme};
use crate::probe::resolve::DEFAULT_KUBE_VERSION;
use crate::probe::{
    HttpClientKind, LingerMode, Outcome, PodContext, ProbeEvent, ProbeOptions, ProbeResult, Prober, kubelet_event,
};
use crate::spec::{
    Container, ContainerPort, EnvVar, ExecAction, GrpcAction, Handler, HttpGetAction, HttpHeader, IntOrString, Probe,
    ProbeType, TcpSocketAction,
};

const EXAMPLES: &str = "\
Examples:
  probebench probe --http-get http://127.0.0.1:8080/healthz
  probebench probe --http-get https://127.0.0.1:8443/ready --header 'X-Probe: 1' --client reqwest
  probebench probe --tcp 127.0.0.1:8081 --timeout 500ms
  probebench probe --grpc 127.0.0.1:9000 --service app
  probebench probe --type startup --exec -- cat /tmp/healthy
  probebench probe -f liveness.yaml --pod-ip 127.0.0.2 --output json

A probe file holds a bare Probe object, as it stands under `livenessProbe:`:
  httpGet: {path: /healthz, port: http}
  timeoutSeconds: 2

Exit codes: 0 success or warning, 1 failure or errored, 2 invalid input.";

/// Run one probe once and show what the kubelet would conclude.
#[derive(Debug, Args)]
#[command(after_help = EXAMPLES)]
#[command(group(ArgGroup::new("target").required(true).args(["http_get", "tcp", "grpc", "exec", "file"])))]
pub struct ProbeArgs {
    /// httpGet probe of this URL (http:// or https://).
    #[arg(long, value_name = "URL")]
    pub http_get: Option<String>,
    /// tcpSocket probe of HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    pub tcp: Option<String>,
    /// grpc probe of IP:PORT (the kubelet dials the pod IP).
    #[arg(long, value_name = "IP:PORT")]
    pub grpc: Option<String>,
    /// gRPC health service to ask about (default "": the server as a whole).
    #[arg(long, requires = "grpc")]
    pub service: Option<String>,
    /// exec probe of the command given after `--` (run as an argv, never through a shell).
    #[arg(long, requires = "command")]
    pub exec: bool,
    /// A probe file: a bare Probe object in YAML or JSON. Host 127.0.0.1 unless --pod-ip.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// The exec command and its arguments.
    #[arg(last = true, value_name = "COMMAND", requires = "exec")]
    pub command: Vec<String>,
    /// Probe timeout, e.g. 1s, 500ms [default: the file's timeoutSeconds, else 1s].
    #[arg(long, value_parser = humantime::parse_duration)]
    pub timeout: Option<Duration>,
    /// Which probe this is: decides the event wording.
    #[arg(
        long = "type",
        value_name = "TYPE",
        default_value = "liveness",
        value_parser = PossibleValuesParser::new(["liveness", "readiness", "startup"]).map(|s| parse_probe_type(&s))
    )]
    pub probe_type: ProbeType,
    /// Extra request header for httpGet, NAME:VALUE (repeatable). An empty Accept removes
    /// the default `Accept: */*`; Host sets the request's Host.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// HTTP client for httpGet probes.
    #[arg(long, value_enum, default_value_t)]
    pub client: HttpClientKind,
    /// SO_LINGER of probe sockets: kubelet ({on, 1s}), zero (RST on close), off.
    #[arg(long, value_enum, default_value_t)]
    pub linger: LingerMode,
    /// The pod's IP: where httpGet/tcpSocket go without a host, and the grpc target.
    #[arg(long, default_value = "127.0.0.1")]
    pub pod_ip: IpAddr,
    /// Allow probing addresses outside loopback (127.0.0.0/8, ::1).
    #[arg(long)]
    pub allow_remote: bool,
    /// Kubernetes version for the `kube-probe/<major>.<minor>` user agent.
    #[arg(long, default_value = DEFAULT_KUBE_VERSION)]
    pub kube_version: String,
    /// Declare a container port so a probe can name it, NAME=PORT (repeatable).
    #[arg(long = "port", value_name = "NAME=PORT")]
    pub ports: Vec<String>,
    /// A static container env value for $(VAR) expansion in exec commands, NAME=VALUE.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Working directory of an exec probe (a target's state dir).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn parse_probe_type(s: &str) -> ProbeType {
    match s {
        "readiness" => ProbeType::Readiness,
        "startup" => ProbeType::Startup,
        _ => ProbeType::Liveness,
    }
}

/// Runs the command: build the probe, run it once (with the kubelet's retries of errored
/// runs), print the conclusion.
pub fn run(args: &ProbeArgs, out: &mut dyn Write) -> CommandResult {
    let (probe, pod_ip) = build_probe(args)?;
    let container = build_container(args)?;
    let pod = PodContext { pod_name: "probe".to_owned(), pod_ip, state_dir: args.state_dir.clone(), env: Vec::new() };
    let options = ProbeOptions {
        allow_remote: args.allow_remote,
        kube_version: args.kube_version.clone(),
        http_client: args.client,
        linger: args.linger,
    };
    let mut resolved =
        crate::probe::resolve(&probe, &container, &pod, &options).map_err(|e| CommandError::Invalid(e.to_string()))?;
    if let Some(timeout) = args.timeout {
        if timeout.is_zero() {
            return Err(CommandError::Invalid("--timeout must be more than 0".to_owned()));
        }
        resolved.timeout = timeout;
    }
    let prober = Prober::new().map_err(|e| CommandError::Internal(e.to_string()))?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(CommandError::Io)?;
    let outcome = runtime.block_on(prober.run(&resolved));
    let event = kubelet_event(args.probe_type, &outcome);
    match args.output {
        OutputFormat::Text => write_text(out, &outcome, event.as_ref())?,
        OutputFormat::Json => write_json(out, &outcome, event.as_ref(), resolved.mechanism.name())?,
    }
    Ok(exit_for(&outcome))
}

/// 0 for success or warning, 1 for failure or an errored probe.
pub fn exit_for(outcome: &Outcome) -> Exit {
    if !outcome.errored && outcome.result.counts_as_success() { Exit::Ok } else { Exit::Failed }
}

fn write_text(out: &mut dyn Write, outcome: &Outcome, event: Option<&ProbeEvent>) -> std::io::Result<()> {
    let mut result = outcome.result.as_str().to_owned();
    if outcome.errored {
        result.push_str(" (errored: not counted toward thresholds)");
    }
    if outcome.attempts > 1 {
        result.push_str(&format!(", {} runs", outcome.attempts));
    }
    writeln!(out, "Result:   {result}")?;
    match event {
        Some(e) => writeln!(out, "Event:    {}  {}  {}", e.event_type, e.reason, e.message)?,
        None => writeln!(out, "Event:    none")?,
    }
    if matches!(outcome.result, ProbeResult::Success) && !outcome.output.is_empty() {
        writeln!(out, "Output:   {}", outcome.output.trim_end())?;
    }
    writeln!(out, "Timings:  {}", timings_text(outcome))
}

fn timings_text(outcome: &Outcome) -> String {
    let t = &outcome.timings;
    let steps = [
        ("spawn", t.spawn_us),
        ("exit", t.exit_us),
        ("connect", t.connect_us),
        ("tls", t.tls_us),
        ("request written", t.request_written_us),
        ("first byte", t.first_byte_us),
        ("total", Some(t.total_us)),
    ];
    steps
        .iter()
        .filter_map(|(name, us)| us.map(|us| format!("{name} {}", micros_text(us))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn micros_text(us: u64) -> String {
    if us >= 10_000 { format!("{:.1}ms", us as f64 / 1000.0) } else { format!("{us}µs") }
}

fn write_json(
    out: &mut dyn Write,
    outcome: &Outcome,
    event: Option<&ProbeEvent>,
    mechanism: &str,
) -> std::io::Result<()> {
    let t = &outcome.timings;
    let doc = json!({
        "mechanism": mechanism,
        "result": outcome.result,
        "errored": outcome.errored,
        "output": outcome.output,
        "event": event,
        "attempts": outcome.attempts,
        "timings_us": {
            "spawn": t.spawn_us,
            "exit": t.exit_us,
            "connect": t.connect_us,
            "tls": t.tls_us,
            "request_written": t.request_written_us,
            "first_byte": t.first_byte_us,
            "total": t.total_us,
        },
    });
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    writeln!(out)
}

/// The probe from the command line, and the pod IP it runs against.
fn build_probe(args: &ProbeArgs) -> Result<(Probe, IpAddr), CommandError> {
    let invalid = |msg: String| CommandError::Invalid(msg);
    let mut pod_ip = args.pod_ip;
    let handler = if let Some(url) = &args.http_get {
        let url = ProbeUrl::parse_absolute(url).map_err(|e| invalid(format!("--http-get: {e}")))?;
        Handler {
            http_get: Some(HttpGetAction {
                path: url.target.clone(),
                port: IntOrString::Int(i32::from(url.port)),
                host: Some(url.hostname.clone()),
                scheme: match url.scheme {
                    Scheme::Http => "HTTP".to_owned(),
                    Scheme::Https => "HTTPS".to_owned(),
                },
                http_headers: parse_headers(&args.headers)?,
            }),
            ..Handler::default()
        }
    } else if let Some(addr) = &args.tcp {
        let (host, port) = split_host_port(addr).map_err(|e| invalid(format!("--tcp: {e}")))?;
        Handler {
            tcp_socket: Some(TcpSocketAction { port: IntOrString::Int(i32::from(port)), host: Some(host) }),
            ..Handler::default()
        }
    } else if let Some(addr) = &args.grpc {
        let (host, port) = split_host_port(addr).map_err(|e| invalid(format!("--grpc: {e}")))?;
        pod_ip = host
            .parse()
            .map_err(|_| invalid(format!("--grpc: {host:?} is not an IP address (the kubelet dials the pod IP)")))?;
        Handler {
            grpc: Some(GrpcAction { port: i32::from(port), service: args.service.clone() }),
            ..Handler::default()
        }
    } else if args.exec {
        Handler { exec: Some(ExecAction { command: args.command.clone() }), ..Handler::default() }
    } else if let Some(path) = &args.file {
        let text = std::fs::read_to_string(path).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        let mut probe =
            decode_probe(&text, args.probe_type).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
        if let Some(get) = probe.handler.http_get.as_mut() {
            get.http_headers.extend(parse_headers(&args.headers)?);
        }
        return Ok((probe, pod_ip));
    } else {
        return Err(invalid("give one of --http-get, --tcp, --grpc, --exec or -f".to_owned()));
    };
    Ok((with_api_defaults(handler), pod_ip))
}

/// A probe with the API server's defaults (timeout 1, period 10, success 1, failure 3).
fn with_api_defaults(handler: Handler) -> Probe {
    let mut probe = Probe {
        handler,
        initial_delay_seconds: 0,
        timeout_seconds: 0,
        period_seconds: 0,
        success_threshold: 0,
        failure_threshold: 0,
        termination_grace_period_seconds: None,
    };
    crate::spec::defaults::probe(&mut probe);
    probe
}

fn build_container(args: &ProbeArgs) -> Result<Container, CommandError> {
    let mut ports = Vec::new();
    for spec in &args.ports {
        let (name, port) = spec
            .split_once('=')
            .ok_or_else(|| CommandError::Invalid(format!("--port {spec:?}: expected NAME=PORT")))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| CommandError::Invalid(format!("--port {spec:?}: port must be 1-65535")))?;
        ports.push(ContainerPort {
            name: Some(name.to_owned()),
            container_port: i32::from(port),
            protocol: "TCP".to_owned(),
        });
    }
    let mut env = Vec::new();
    for spec in &args.env {
        let (name, value) = spec
            .split_once('=')
            .ok_or_else(|| CommandError::Invalid(format!("--env {spec:?}: expected NAME=VALUE")))?;
        env.push(EnvVar { name: name.to_owned(), value: Some(value.to_owned()), value_from: false });
    }
    Ok(Container {
        name: "probe".to_owned(),
        image: String::new(),
        image_pull_policy: String::new(),
        command: Vec::new(),
        args: Vec::new(),
        ports,
        env,
        liveness_probe: None,
        readiness_probe: None,
        startup_probe: None,
        lifecycle: None,
        restart_policy: None,
    })
}

fn parse_headers(specs: &[String]) -> Result<Vec<HttpHeader>, CommandError> {
    specs
        .iter()
        .map(|spec| {
            let (name, value) = spec
                .split_once(':')
                .ok_or_else(|| CommandError::Invalid(format!("--header {spec:?}: expected NAME:VALUE")))?;
            if name.trim().is_empty() {
                return Err(CommandError::Invalid(format!("--header {spec:?}: empty name")));
            }
            Ok(HttpHeader { name: name.trim().to_owned(), value: value.trim().to_owned() })
        })
        .collect()
}

/// `HOST:PORT` or `[V6]:PORT`.
fn split_host_port(addr: &str) -> Result<(String, u16), String> {
    let (host, port) = addr.rsplit_once(':').ok_or_else(|| format!("{addr:?}: expected HOST:PORT"))?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if host.is_empty() {
        return Err(format!("{addr:?}: missing host"));
    }
    let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or_else(|| format!("{addr:?}: port must be 1-65535"))?;
    Ok((host.to_owned(), port))
}

/// Decodes a bare Probe object (YAML or JSON) as the API server would take it under a
/// probe of type `t`: strict fields, the API defaults, then validation (spec::load_probe).
pub fn decode_probe(text: &str, t: ProbeType) -> Result<Probe, String> {
    crate::spec::load_probe(text, t).map_err(|errs| errs.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_bare_probe_with_defaults() {
        let probe =
            decode_probe("httpGet: {port: http}\ntimeoutSeconds: 0\nperiodSeconds: 5\n", ProbeType::Liveness).unwrap();
        let get = probe.handler.http_get.as_ref().unwrap();
        assert_eq!((get.path.as_str(), get.scheme.as_str()), ("/", "HTTP"));
        assert_eq!(get.port, IntOrString::String("http".into()));
        assert_eq!((probe.timeout_seconds, probe.period_seconds, probe.failure_threshold), (1, 5, 3));
        let exec = decode_probe(r#"{"exec": {"command": ["ls /tmp/abc"]}}"#, ProbeType::Liveness).unwrap();
        assert_eq!(exec.handler.exec.unwrap().command, vec!["ls /tmp/abc"]);
    }

    #[test]
    fn rejects_what_the_api_server_would() {
        assert!(decode_probe("periodSeconds: 3", ProbeType::Liveness).unwrap_err().contains("must specify a handler"));
        assert!(
            decode_probe("exec: {command: [\"true\"]}\ntcpSocket: {port: 1}", ProbeType::Liveness)
                .unwrap_err()
                .contains("more than 1")
        );
        assert!(
            decode_probe("tcpSocket: {port: 70000}", ProbeType::Liveness).unwrap_err().contains("between 1 and 65535")
        );
        assert!(
            decode_probe("tcpSocket: {port: 80}\ntimeoutSeconds: -1", ProbeType::Liveness)
                .unwrap_err()
                .contains("greater than or equal to 0")
        );
        assert!(
            decode_probe("livenessProbe: {tcpSocket: {port: 80}}", ProbeType::Liveness)
                .unwrap_err()
                .contains("Probe object itself")
        );
        assert!(
            decode_probe("tcpSocket: {port: 80}\nbogus: 1", ProbeType::Liveness).unwrap_err().contains("unknown field")
        );
    }

    #[test]
    fn host_port_arguments() {
        assert_eq!(split_host_port("127.0.0.1:8081").unwrap(), ("127.0.0.1".to_owned(), 8081));
        assert_eq!(split_host_port("[::1]:9000").unwrap(), ("::1".to_owned(), 9000));
        assert!(split_host_port("127.0.0.1").is_err());
        assert!(split_host_port("127.0.0.1:0").is_err());
    }
}
