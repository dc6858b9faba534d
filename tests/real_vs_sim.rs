//! One behaviour, two clocks: for each response of the behaviour vocabulary, the real probe
//! mechanism against the real sample target must conclude what the simulator concludes from
//! the same behaviour — same result, same kubelet text (up to what is random on a real
//! network, like an ephemeral port). Both HTTP clients are checked.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use probebench::kubelet::config::KubeletConfig;
use probebench::probe::{HttpClientKind, Outcome, PodContext, ProbeOptions, ProbeResult, Prober, resolve};
use probebench::sim::judge::{self, SimAction, Target};
use probebench::spec;
use probebench_targets::{ContainerTarget, ListenMode, PodTarget, ServeConfig, parse_behaviour};

const PORT: u16 = 18080;

fn container(ports: &[u16]) -> spec::Container {
    let y = format!(
        "apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    ports: [{}]\n",
        ports.iter().map(|p| format!("{{containerPort: {p}}}")).collect::<Vec<_>>().join(", ")
    );
    spec::load_str("p.yaml", &y).unwrap().pods.remove(0).spec.containers.remove(0)
}

fn probe(yaml: &str) -> spec::Probe {
    spec::load_probe(yaml, spec::ProbeType::Liveness).unwrap()
}

/// The simulator's conclusion for `behaviour` at 30 s after the container started.
fn simulated(behaviour: &str, p: &spec::Probe, c: &spec::Container, ip: Ipv4Addr) -> Outcome {
    let b = parse_behaviour(behaviour).unwrap();
    let mut instance = b.instance(1, 0);
    let cfg = KubeletConfig::default();
    let declared: Vec<u16> = c.ports.iter().map(|p| p.container_port as u16).collect();
    let mut target = Target {
        ip,
        running: Some((&mut instance, Duration::from_secs(30))),
        declared: &declared,
        timeout_ns: p.timeout_seconds as u64 * 1_000_000_000,
        cfg: &cfg,
    };
    let action = match p.handler.action() {
        Some(spec::Action::HttpGet(h)) => {
            SimAction::http(h.scheme == "HTTPS", h.port.to_string().parse().unwrap(), h.path.clone(), None)
        }
        Some(spec::Action::TcpSocket(t)) => SimAction::Tcp { port: t.port.to_string().parse().unwrap() },
        Some(spec::Action::Grpc(g)) => {
            SimAction::Grpc { port: g.port as u16, service: g.service.clone().unwrap_or_default() }
        }
        Some(spec::Action::Exec(e)) => SimAction::Exec { argv: e.command.clone() },
        None => unreachable!(),
    };
    judge::judge(&action, &mut target, &mut || "0".repeat(64)).outcome
}

/// The real mechanism against a real target acting out `behaviour`.
async fn real(behaviour: &str, p: &spec::Probe, c: &spec::Container, ip: Ipv4Addr, client: HttpClientKind) -> Outcome {
    let b = parse_behaviour(behaviour).unwrap();
    let ports: Vec<u16> = c.ports.iter().map(|p| p.container_port as u16).collect();
    let pod = PodTarget {
        name: format!("p-{ip}"),
        ip,
        containers: vec![ContainerTarget { name: "c".into(), ports, behaviour: b, seed: 1 }],
    };
    let mut config = ServeConfig::new(vec![pod]);
    config.listen_mode = ListenMode::Dedicated;
    config.state_root = std::env::temp_dir().join(format!("probebench-real-vs-sim-{}-{ip}", std::process::id()));
    let targets = probebench_targets::start(config).await.unwrap();
    // Past the behaviour's start-up (0 s in these cases) and into its steady phase.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ctx = PodContext {
        pod_name: format!("p-{ip}"),
        pod_ip: IpAddr::V4(ip),
        state_dir: Some(targets.state_root().join(format!("p-{ip}")).join("c")),
        env: Vec::new(),
    };
    let options = ProbeOptions { http_client: client, ..ProbeOptions::default() };
    let resolved = resolve(p, c, &ctx, &options).unwrap();
    let out = Prober::new().unwrap().run(&resolved).await;
    targets.shutdown().await;
    out
}

fn same(label: &str, real: &Outcome, sim: &Outcome, exact_text: bool) {
    assert_eq!((real.result, real.errored), (sim.result, sim.errored), "{label}: real {real:?} vs simulated {sim:?}");
    if exact_text {
        assert_eq!(real.output, sim.output, "{label}");
    }
}

struct Case {
    name: &'static str,
    behaviour: &'static str,
    probe: String,
    exact: bool,
}

fn cases() -> Vec<Case> {
    let http = |extra: &str| format!("httpGet: {{path: /healthz, port: {PORT}}}\n{extra}");
    vec![
        Case { name: "ok", behaviour: "startup: 0s\nrespond: ok\n", probe: http(""), exact: false },
        Case { name: "503", behaviour: "startup: 0s\nrespond: {status: 503}\n", probe: http(""), exact: true },
        Case {
            name: "refused (undeclared port)",
            behaviour: "startup: 0s\n",
            probe: format!("httpGet: {{path: /, port: {}}}\n", PORT + 1),
            exact: true,
        },
        Case { name: "hang", behaviour: "startup: 0s\nrespond: hang\n", probe: http(""), exact: true },
        Case { name: "close", behaviour: "startup: 0s\nrespond: close\n", probe: http(""), exact: true },
        Case { name: "reset", behaviour: "startup: 0s\nrespond: reset\n", probe: http(""), exact: false },
        Case { name: "slow answer", behaviour: "startup: 0s\nlatency: 2s\n", probe: http(""), exact: true },
        Case {
            name: "redirect to another host",
            behaviour: "startup: 0s\nrespond: {redirect: {host: elsewhere.example}, status: 302}\n",
            probe: http(""),
            exact: false,
        },
        Case {
            name: "redirect loop",
            behaviour: "startup: 0s\nrespond: {redirect: loop}\n",
            probe: http(""),
            exact: false,
        },
        Case {
            name: "tcp accept",
            behaviour: "startup: 0s\nrespond: hang\n",
            probe: format!("tcpSocket: {{port: {PORT}}}\n"),
            exact: true,
        },
        Case {
            name: "tcp refused",
            behaviour: "startup: 0s\n",
            probe: format!("tcpSocket: {{port: {}}}\n", PORT + 2),
            exact: true,
        },
        Case {
            name: "grpc serving",
            behaviour: "startup: 0s\n",
            probe: format!("grpc: {{port: {PORT}}}\n"),
            exact: true,
        },
        Case {
            name: "grpc not serving",
            behaviour: "startup: 0s\nrespond: {grpc: not_serving}\n",
            probe: format!("grpc: {{port: {PORT}}}\n"),
            exact: true,
        },
        Case {
            name: "exec healthy",
            behaviour: "startup: 0s\n",
            probe: "exec: {command: [cat, healthy]}\n".to_string(),
            exact: false,
        },
        Case {
            name: "exec unhealthy",
            behaviour: "startup: 0s\nrespond: {status: 500}\n",
            probe: "exec: {command: [cat, healthy]}\n".to_string(),
            exact: false,
        },
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_and_simulated_probes_agree_on_every_response() {
    let c = container(&[PORT]);
    for (i, case) in cases().into_iter().enumerate() {
        let ip = Ipv4Addr::new(127, 90, 7, i as u8 + 1);
        let p = probe(&case.probe);
        let sim = simulated(case.behaviour, &p, &c, ip);
        let clients: &[HttpClientKind] = if case.probe.starts_with("httpGet") {
            &[HttpClientKind::Hyper, HttpClientKind::Reqwest]
        } else {
            &[HttpClientKind::Hyper]
        };
        for &client in clients {
            let real = real(case.behaviour, &p, &c, ip, client).await;
            same(&format!("{} ({client:?})", case.name), &real, &sim, case.exact);
        }
        if case.name == "reset" {
            // Only the ephemeral port differs.
            assert!(sim.output.contains("read: connection reset by peer"), "{}", sim.output);
        }
        if case.name.starts_with("redirect to another") {
            assert_eq!(sim.result, ProbeResult::Warning);
        }
    }
}
