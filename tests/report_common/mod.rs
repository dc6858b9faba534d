//! A real run directory for the report and interop tests: `probebench run` of a tiny
//! two-phase scenario (no-op probes, and exec probes of /bin/true and /bin/false so there are
//! latencies, failures and events) with a noop calibration, written under a fresh temp dir.
//! Nothing binds a socket: exec and no-op probes need no targets.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_probebench"))
}

pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pb-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const SCENARIO: &str = "kind: Scenario
name: report-test
duration: 2s
warmup: 1s
calibration: 1s
initialPhase: uniform
phases:
- name: mixed
  pods:
  - name: noop
    replicas: 100
    probeAs: noop
    template:
      spec:
        containers:
        - name: c
          image: x
          readinessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}
  - name: ok
    replicas: 10
    template:
      spec:
        containers:
        - name: c
          image: x
          livenessProbe: {exec: {command: [/bin/true]}, periodSeconds: 1}
  - name: bad
    replicas: 5
    template:
      spec:
        containers:
        - name: c
          image: x
          readinessProbe: {exec: {command: [/bin/false]}, periodSeconds: 1}
- name: second
  pods:
  - name: more
    replicas: 40
    template:
      spec:
        containers:
        - name: c
          image: x
          livenessProbe: {exec: {command: [/bin/true]}, periodSeconds: 1}
";

/// `run` may ask for an explicit opt-in before it runs exec probes; pass it when it exists.
fn exec_opt_in() -> Option<&'static str> {
    let help = bin().args(["run", "--help"]).output().unwrap();
    String::from_utf8_lossy(&help.stdout).contains("--allow-exec").then_some("--allow-exec")
}

/// Run the scenario and return the run directory.
pub fn real_run(dir: &Path) -> PathBuf {
    let scenario = dir.join("report-test.yaml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let mut cmd = bin();
    cmd.arg("run").arg(&scenario).arg("--out").arg(dir.join("results")).args(["--output", "json"]);
    if let Some(flag) = exec_opt_in() {
        cmd.arg(flag);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(0), "run failed: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("run --output json prints JSON");
    PathBuf::from(v["results_dir"].as_str().expect("results_dir"))
}
