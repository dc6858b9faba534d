//! Killing the parent kills the target process (PR_SET_PDEATHSIG): no orphaned
//! listeners. The test binary re-executes itself in two roles — a parent that starts a
//! target and waits, and the target that serves — then the test SIGKILLs the parent.

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use probebench_targets::{ContainerTarget, PodTarget, ServeConfig, parse_behaviour};

const TEST: &str = "killing_the_parent_kills_the_target";
const ROLE: &str = "PROBEBENCH_TEST_ROLE";
const PARENT_PID: &str = "PROBEBENCH_TEST_PARENT";
const IP: Ipv4Addr = Ipv4Addr::new(127, 79, 1, 1);
const PORT: u16 = 8080;

/// The target's state root: SIGKILL leaves no chance to clean up, so the test does.
fn state_root() -> std::path::PathBuf {
    std::env::temp_dir().join("probebench-targets-parent-death-test")
}

fn reexec(role: &str) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", TEST, "--nocapture", "--test-threads=1"]).env(ROLE, role);
    cmd
}

/// The target: arms the parent-death signal, then serves one pod until killed.
fn target_role() {
    let parent: u32 = std::env::var(PARENT_PID).unwrap().parse().unwrap();
    probebench_targets::die_with_parent(Some(parent)).unwrap();
    // Safety net so a broken test cannot leave this process behind for ever.
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(120));
        std::process::exit(3);
    });
    let mut cfg = ServeConfig::new(vec![PodTarget {
        name: "orphan-check".to_string(),
        ip: IP,
        containers: vec![ContainerTarget {
            name: "app".to_string(),
            ports: vec![PORT],
            behaviour: parse_behaviour("startup: 0s").unwrap(),
            seed: 0,
        }],
    }]);
    cfg.connection_allowance = 64;
    cfg.state_root = state_root();
    println!("target-pid {}", std::process::id());
    probebench_targets::serve_blocking(cfg, &mut std::io::stdout()).unwrap();
}

/// The parent: starts the target (its stdout is ours, so the test reads both) and
/// waits to be killed.
fn parent_role() {
    let mut child = reexec("target").env(PARENT_PID, std::process::id().to_string()).spawn().unwrap();
    println!("parent-started-target {}", child.id());
    std::thread::spawn(|| {
        std::thread::sleep(Duration::from_secs(120));
        std::process::exit(3);
    });
    let _ = child.wait();
}

fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The state follows the parenthesised command name.
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[test]
fn killing_the_parent_kills_the_target() {
    match std::env::var(ROLE).as_deref() {
        Ok("target") => return target_role(),
        Ok("parent") => return parent_role(),
        _ => {}
    }
    let mut parent = reexec("parent").stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    let mut target_pid = None;
    let mut ready = false;
    for line in lines.by_ref() {
        let line = line.unwrap();
        // libtest may print the test name on the same line first.
        if let Some((_, pid)) = line.split_once("target-pid ") {
            target_pid = Some(pid.trim().parse::<u32>().unwrap());
        }
        if line.ends_with("# ready") {
            ready = true;
            break;
        }
    }
    // Keep draining so neither process dies of a broken pipe.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(ready, "the target never became ready");
    let target_pid = target_pid.expect("the target printed its pid");
    let addr = SocketAddr::new(IP.into(), PORT);
    assert!(TcpStream::connect(addr).is_ok(), "the target does not serve");

    parent.kill().unwrap();
    parent.wait().unwrap();

    // The target must die with it: its process gone (or a zombie nobody reaps) and its
    // listener closed. Bounded, generous wait.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = proc_state(target_pid);
        let dead = matches!(state, None | Some('Z'));
        let closed = TcpStream::connect(addr).is_err();
        if dead && closed {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "target {target_pid} survived its parent (state {state:?}, listener closed {closed})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = std::fs::remove_dir_all(state_root());
}
