//! What `probebench run` exits with, and why (README "Exit codes", `run --help`):
//! 0 ran and passed, 1 a threshold failed, 2 invalid input or refused to start, 3 the
//! schedule was not held, 130 interrupted (partial results written whole, no target
//! process left behind). Also: exec probes refuse to run without `--allow-exec`.
//! Only counts and generous bounds are asserted, never a speed.

mod cli_common;
use cli_common::bin;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn temp_dir(name: &str) -> PathBuf {
    cli_common::temp_dir("exit", name)
}

/// 100 noop workers, once a second: the scheduler alone, no targets.
fn noop_scenario(dir: &Path, extra: &str) -> PathBuf {
    let p = dir.join("noop.yaml");
    std::fs::write(
        &p,
        format!(
            "kind: Scenario\nname: noop\nduration: 2s\nwarmup: 1s\ncalibration: 0s\ninitialPhase: uniform\n{extra}pods:\n- name: noop\n  replicas: 100\n  probeAs: noop\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        livenessProbe: {{tcpSocket: {{port: 80}}, periodSeconds: 1}}\n"
        ),
    )
    .unwrap();
    p
}

fn run(args: &[&str]) -> Output {
    bin().arg("run").args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn a_passing_threshold_exits_0_and_a_failing_one_exits_1() {
    let dir = temp_dir("thresholds");
    let s = noop_scenario(&dir, "thresholds:\n- errored == 0\n");
    let s = s.to_str().unwrap();
    let pass = run(&[s, "--no-results", "--output", "json"]);
    assert_eq!(pass.status.code(), Some(0), "{}", text(&pass));
    let v: serde_json::Value = serde_json::from_slice(&pass.stdout).unwrap();
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["thresholds"][0]["verdict"], "pass", "{}", v["thresholds"]);

    // A noop's dispatch lag is never under a nanosecond: this one must fail, and say so.
    let fail = run(&[s, "--no-results", "--threshold", "dispatch_lag.p99 < 1ns"]);
    assert_eq!(fail.status.code(), Some(1), "{}", text(&fail));
    let out = String::from_utf8_lossy(&fail.stdout);
    assert!(out.contains("Thresholds:"), "{out}");
    assert!(out.contains("dispatch_lag.p99 < 1ns") && out.contains("fail"), "{out}");
    assert!(out.contains("errored == 0"), "the scenario's own threshold is printed too: {out}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_threshold_naming_an_unknown_metric_is_refused_before_the_run() {
    let dir = temp_dir("unknown");
    let s = noop_scenario(&dir, "");
    let o = run(&[s.to_str().unwrap(), "--no-results", "--threshold", "dispatch_jitter.p99 < 2ms"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("dispatch_jitter"), "names the metric: {err}");
    assert!(o.stdout.is_empty(), "nothing ran: {}", text(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_schedule_not_held_exits_3_and_abort_on_lag_stops_early() {
    let dir = temp_dir("lag");
    let s = noop_scenario(&dir, "");
    let s = s.to_str().unwrap();
    let o = run(&[s, "--no-results", "--max-lag", "1ns"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("over --max-lag"), "{}", text(&o));

    // With --abort-on-lag the first interval over the limit stops a 60 s run.
    let started = Instant::now();
    let o = run(&[
        s,
        "--for",
        "60s",
        "--warmup",
        "0s",
        "--max-lag",
        "1ns",
        "--abort-on-lag",
        "--no-results",
        "--output",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(started.elapsed() < Duration::from_secs(50), "stopped early, took {:?}", started.elapsed());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["partial"], "lag");
    assert_eq!(v["exit_code"], 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn exec_probes_refuse_to_run_without_allow_exec_and_name_the_commands() {
    let dir = temp_dir("exec");
    let p = dir.join("exec.yaml");
    std::fs::write(
        &p,
        "kind: Scenario\nname: exec\nduration: 1s\nwarmup: 0s\ncalibration: 0s\npods:\n- name: w\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        livenessProbe: {exec: {command: [/bin/echo, it ran]}, periodSeconds: 1}\n",
    )
    .unwrap();
    let p = p.to_str().unwrap();
    let refused = run(&[p, "--no-results"]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("refusing to start"), "{err}");
    assert!(err.contains("/bin/echo 'it ran'"), "names the command as a shell would show it: {err}");
    assert!(err.contains("--allow-exec"), "says how to allow it: {err}");
    assert!(refused.stdout.is_empty(), "nothing ran");

    let allowed = run(&[p, "--no-results", "--allow-exec", "--output", "json"]);
    assert_eq!(allowed.status.code(), Some(0), "{}", text(&allowed));
    let v: serde_json::Value = serde_json::from_slice(&allowed.stdout).unwrap();
    assert!(v["phases"][0]["total"]["counters"]["success"].as_u64().unwrap() >= 1, "the command ran");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// tcpSocket probes at pod addresses: a targets process is started, so an interrupt must
/// stop it too.
fn targets_scenario(dir: &Path) -> PathBuf {
    let p = dir.join("tcp.yaml");
    std::fs::write(
        &p,
        "kind: Scenario\nname: tcp\nduration: 60s\nwarmup: 0s\ncalibration: 0s\ninitialPhase: uniform\npods:\n- name: web\n  replicas: 20\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        ports: [{containerPort: 8081}]\n        livenessProbe: {tcpSocket: {port: 8081}, periodSeconds: 1}\n",
    )
    .unwrap();
    p
}

/// The direct children of `pid` (from /proc), e.g. the targets process.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // Fields after the command name (which may hold spaces) start after the last ')'.
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        if rest.split_whitespace().nth(1).and_then(|p| p.parse::<u32>().ok()) == Some(pid) {
            out.push(child);
        }
    }
    out
}

fn alive(pid: u32) -> bool {
    // A zombie is gone for our purposes: it runs nothing and holds no ports.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, r)| !r.trim_start().starts_with('Z')))
}

/// Start a 60 s run with targets and wait until its targets process is up and it has
/// measured a few seconds.
fn start_run(scenario: &Path, results: &Path, net: &str) -> (Child, u32) {
    let child = bin()
        .env("PROBEBENCH_POD_NET", net)
        .args(["run", scenario.to_str().unwrap(), "--out"])
        .arg(results)
        .args(["--output", "json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(40);
    let targets = loop {
        if let Some(&t) = children(child.id()).first() {
            break t;
        }
        assert!(Instant::now() < deadline, "no targets process appeared");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(4));
    (child, targets)
}

fn finish(mut child: Child) -> (Option<i32>, String, String, Duration) {
    let started = Instant::now();
    let mut out = String::new();
    let mut err = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let e = std::thread::spawn(move || {
        let _ = stderr.read_to_string(&mut err);
        err
    });
    let _ = stdout.read_to_string(&mut out);
    let status = child.wait().unwrap();
    (status.code(), out, e.join().unwrap(), started.elapsed())
}

fn wait_gone(pid: u32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn sigint_stops_the_run_writes_partial_results_whole_and_exits_130() {
    let dir = temp_dir("sigint");
    let s = targets_scenario(&dir);
    let results = dir.join("results");
    let (child, targets) = start_run(&s, &results, "127.84.0.0");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let (code, out, err, took) = finish(child);
    assert_eq!(code, Some(130), "stderr: {err}");
    assert!(took < Duration::from_secs(40), "stopped well before the 60 s end: {took:?}");
    assert!(wait_gone(targets), "the targets process {targets} was stopped");
    // The summary on stdout and the one in the results directory: whole, marked partial,
    // covering the seconds that ran.
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["partial"], "interrupted");
    assert_eq!(v["exit_code"], 130);
    assert!(v["phases"][0]["total"]["counters"]["probes"].as_u64().unwrap() > 20, "the seconds that ran are measured");
    let run_dir = std::fs::read_dir(&results).unwrap().next().unwrap().unwrap().path();
    let on_disk: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(on_disk["partial"], "interrupted");
    assert!(run_dir.join("intervals.hlog").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_second_sigint_exits_at_once_and_leaves_no_target_process() {
    let dir = temp_dir("sigint2");
    let s = targets_scenario(&dir);
    let results = dir.join("results");
    let (child, targets) = start_run(&s, &results, "127.85.0.0");
    let pid = Pid::from_raw(child.id() as i32);
    kill(pid, Signal::SIGINT).unwrap();
    kill(pid, Signal::SIGINT).unwrap();
    let (code, _, err, took) = finish(child);
    assert_eq!(code, Some(130), "stderr: {err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    assert!(wait_gone(targets), "the targets process {targets} did not outlive the run");
    std::fs::remove_dir_all(&dir).unwrap();
}
