//! `probebench targets serve` and `targets health-probe` through the real binary. Each test
//! uses its own port offset, so tests serving the same first pod address run in parallel.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_probebench");

/// Start `targets serve` and read its address lines up to `# ready`.
fn serve(args: &[&str]) -> (Child, Vec<String>) {
    let mut child = Command::new(BIN)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["targets", "serve"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn targets serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if line == "# ready" {
            return (child, lines);
        }
        lines.push(line);
    }
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    panic!("targets serve ended before ready: {err}");
}

fn stop(mut child: Child) {
    let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), nix::sys::signal::Signal::SIGTERM);
    let _ = child.wait();
}

fn http_status(addr: &str) -> Option<String> {
    use std::io::Write;
    let mut s = TcpStream::connect_timeout(&addr.parse().unwrap(), Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    write!(s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.lines().next().map(str::to_string)
}

/// Wait until `f` holds (the app behind a port needs about a second to come up).
fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn serves_declared_ports_and_refuses_the_rest() {
    let (child, lines) = serve(&["--pods", "targets/pods/myweb-liveness-err.yaml", "--port-offset", "20000"]);
    assert_eq!(lines, ["myweb-liveness-err 127.1.0.0"]);
    // containerPort 80 (+20000) answers; the probe's 8080 (+20000) is refused.
    assert!(eventually(|| http_status("127.1.0.0:20080").as_deref() == Some("HTTP/1.1 200 OK")));
    let refused = TcpStream::connect_timeout(&"127.1.0.0:28080".parse().unwrap(), Duration::from_secs(2));
    assert_eq!(refused.unwrap_err().kind(), std::io::ErrorKind::ConnectionRefused);
    stop(child);
}

#[test]
fn replicas_get_their_own_addresses_and_an_admin_endpoint() {
    let dir = std::env::temp_dir().join(format!("probebench-targets-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("deploy.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 50\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x:1\n        ports: [{containerPort: 8080}]\n",
    )
    .unwrap();
    let (child, lines) =
        serve(&["--pods", manifest.to_str().unwrap(), "--port-offset", "21000", "--admin", "127.0.0.1:0"]);
    assert!(lines[0].starts_with("# admin http://127.0.0.1:"), "{lines:?}");
    let pods: Vec<(&str, &str)> = lines[1..].iter().map(|l| l.split_once(' ').unwrap()).collect();
    assert_eq!(pods.len(), 50);
    for (i, (name, ip)) in pods.iter().enumerate() {
        assert!(name.starts_with("web-"));
        assert_eq!(*ip, format!("127.1.0.{i}"));
    }
    for (_, ip) in &pods {
        let addr = format!("{ip}:29080");
        assert!(eventually(|| http_status(&addr).as_deref() == Some("HTTP/1.1 200 OK")), "{addr}");
    }
    let admin = lines[0].trim_start_matches("# admin http://").to_string();
    let mut s = TcpStream::connect(admin.as_str()).unwrap();
    use std::io::Write;
    write!(s, "GET /pods HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    assert!(body.contains(pods[0].0), "{body}");
    stop(child);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn health_probe_exits_0_when_serving_and_1_otherwise() {
    let dir = std::env::temp_dir().join(format!("probebench-health-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("pods.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: up}\nspec:\n  containers:\n  - {name: g, image: x:1, ports: [{containerPort: 50051}]}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: down\n  annotations:\n    probebench.dev/behaviour: 'respond: {grpc: not_serving}'\nspec:\n  containers:\n  - {name: g, image: x:1, ports: [{containerPort: 50051}]}\n",
    )
    .unwrap();
    let (child, lines) = serve(&["--pods", manifest.to_str().unwrap(), "--port-offset", "1000"]);
    assert_eq!(lines, ["up 127.1.0.0", "down 127.1.0.1"]);
    let probe = |addr: &str| {
        let o =
            Command::new(BIN).args(["targets", "health-probe", "--addr", addr, "--timeout", "2s"]).output().unwrap();
        (o.status.code(), String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    assert!(eventually(|| probe("127.1.0.0:51051").0 == Some(0)));
    assert_eq!(probe("127.1.0.0:51051").1, "status: SERVING");
    assert!(eventually(
        || probe("127.1.0.1:51051") == (Some(1), "service unhealthy (responded with \"NOT_SERVING\")".to_string())
    ));
    stop(child);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_target_process_dies_with_its_parent() {
    // A shell starts the server as its child (telling it the shell's pid), prints the
    // server's pid, and waits; killing the shell must take the server down with it.
    let script = format!(
        "PROBEBENCH_PARENT_PID=$$ {BIN} targets serve --pods targets/pods/myweb-startup.yaml --port-offset 22000 >/dev/null 2>&1 & echo $!; wait"
    );
    let mut shell = Command::new("sh")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["-c", &script])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(shell.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let server: i32 = line.trim().parse().unwrap();
    // Wait until it serves, so the parent-death signal is armed.
    assert!(eventually(
        || TcpStream::connect_timeout(&"127.1.0.0:22080".parse().unwrap(), Duration::from_millis(200)).is_ok()
    ));
    shell.kill().unwrap();
    shell.wait().unwrap();
    let gone = eventually(|| {
        std::fs::read_to_string(format!("/proc/{server}/stat"))
            .map_or(true, |s| s.split_whitespace().nth(2) == Some("Z"))
    });
    if !gone {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(server), nix::sys::signal::Signal::SIGKILL);
    }
    assert!(gone, "the target process outlived its parent");
}
