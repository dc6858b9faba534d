//! `probebench run` end to end: a short run prints a summary whose JSON matches the
//! documented schema (docs/results-schema.md) and leaves a complete results directory;
//! a plan the machine's fd limit cannot hold is refused before it starts, naming the numbers.
//! No test asserts a speed: only counts, structure and generous bounds.

mod cli_common;
use cli_common::bin;

use std::path::{Path, PathBuf};
use std::process::Command;

fn temp_dir(name: &str) -> PathBuf {
    cli_common::temp_dir("run", name)
}

fn write_scenario(dir: &Path, pods: u32, period: u32) -> PathBuf {
    let p = dir.join("small.yaml");
    std::fs::write(
        &p,
        format!(
            "kind: Scenario\nname: small\nduration: 2s\nwarmup: 1s\ncalibration: 0s\ninitialPhase: uniform\npods:\n- name: noop\n  replicas: {pods}\n  probeAs: noop\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        livenessProbe: {{tcpSocket: {{port: 80}}, periodSeconds: {period}}}\n        readinessProbe: {{tcpSocket: {{port: 80}}, periodSeconds: {period}}}\n"
        ),
    )
    .unwrap();
    p
}

#[test]
fn json_summary_matches_the_schema_and_the_results_directory_is_complete() {
    let dir = temp_dir("json");
    let scenario = write_scenario(&dir, 200, 1);
    let out = bin()
        .args(["run", scenario.to_str().unwrap(), "--out"])
        .arg(dir.join("results"))
        .args(["--output", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON");
    assert_eq!(v["schema"], "probebench.summary/v1");
    for key in [
        "run_id",
        "scenario",
        "started_at",
        "scheduler",
        "timer",
        "shards",
        "seed",
        "limits",
        "needs",
        "phases",
        "notes",
        "results_dir",
    ] {
        assert!(v.get(key).is_some(), "summary lacks {key}");
    }
    let phase = &v["phases"][0];
    let series = phase["series"].as_array().unwrap();
    assert_eq!(series.len(), 2, "liveness and readiness series");
    for s in series {
        assert_eq!(s["mechanism"], "noop");
        for k in ["dispatch_lag", "overrun_delay", "start_lag", "latency", "corrected_latency"] {
            for f in ["count", "p50_us", "p90_us", "p99_us", "p99_9_us", "max_us", "mean_us"] {
                assert!(s[k][f].is_number(), "{k}.{f} missing");
            }
        }
        let c = &s["counters"];
        // 200 workers per series at 1/s over a 2 s window: ~400 probes (generous bounds).
        let probes = c["probes"].as_u64().unwrap();
        assert!((200..=800).contains(&probes), "probes {probes}");
        assert_eq!(c["success"].as_u64().unwrap(), probes);
        assert_eq!(c["failure"], 0);
        assert_eq!(s["dispatch_lag"]["count"].as_u64().unwrap(), probes);
    }
    let total = phase["total"]["counters"]["probes"].as_u64().unwrap();
    assert_eq!(total, series.iter().map(|s| s["counters"]["probes"].as_u64().unwrap()).sum::<u64>());
    for k in ["cpu_us_per_probe", "rss_bytes_per_worker", "state_bytes_per_worker", "cpu_cores"] {
        assert!(phase["overhead"][k].is_number(), "overhead.{k}");
    }
    assert!(phase["overhead"]["state_bytes_per_worker"].as_f64().unwrap() > 0.0);

    // The results directory: summary.json equal to stdout, and every other file.
    let run_dir = PathBuf::from(v["results_dir"].as_str().unwrap());
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("summary.json")).unwrap()).unwrap();
    assert_eq!(on_disk, v);
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run_dir.join("metadata.json")).unwrap()).unwrap();
    for key in ["commit", "cpu_model", "kernel", "cores", "timer_backend", "allocator", "noise", "scenario"] {
        assert!(meta.get(key).is_some(), "metadata lacks {key}");
    }
    assert!(run_dir.join("events.jsonl").exists());
    let hlog = std::fs::read_to_string(run_dir.join("intervals.hlog")).unwrap();
    assert!(hlog.contains("Tag=noop.liveness.dispatch_lag,"), "{hlog:.300}");
    let hgrm = std::fs::read_to_string(run_dir.join("noop.liveness.dispatch_lag.hgrm")).unwrap();
    assert!(hgrm.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
    assert!(!std::fs::read_dir(&run_dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp")));

    // A second run never reuses the directory.
    let again = bin()
        .args(["run", scenario.to_str().unwrap(), "--for", "1s", "--warmup", "0s", "--out"])
        .arg(dir.join("results"))
        .args(["--output", "json"])
        .output()
        .unwrap();
    let v2: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_ne!(v2["results_dir"], v["results_dir"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn text_summary_has_a_row_per_mechanism_and_probe_type() {
    let dir = temp_dir("text");
    let scenario = write_scenario(&dir, 50, 1);
    let out = bin()
        .args(["run", scenario.to_str().unwrap(), "--for", "1s", "--warmup", "0s", "--no-results"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("MECHANISM"), "{text}");
    assert!(lines[0].contains("LAG P50") && lines[0].contains("CPU µs/PROBE"));
    assert!(lines.iter().any(|l| l.starts_with("noop") && l.contains("liveness")));
    assert!(lines.iter().any(|l| l.starts_with("noop") && l.contains("readiness")));
    assert!(lines.iter().any(|l| l.starts_with("all")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refuses_to_start_when_file_descriptors_are_short() {
    let dir = temp_dir("fds");
    // tcpSocket probes to an explicit host run for real (no targets needed): 500 of them
    // with a bound of 1024 may hold 500 sockets at once, more than a hard limit of 128.
    let p = dir.join("fds.yaml");
    std::fs::write(
        &p,
        "kind: Scenario\nname: fds\nduration: 1s\nconcurrency: {tcp: 1024}\npods:\n- name: many\n  replicas: 500\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        livenessProbe: {tcpSocket: {host: 127.0.0.1, port: 9}}\n",
    )
    .unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("ulimit -Sn 128 && ulimit -Hn 128 && exec \"$0\" run {} --no-results", p.display()))
        .arg(env!("CARGO_BIN_EXE_probebench"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains("refusing to start"), "{err}");
    assert!(err.contains("file descriptors"), "{err}");
    assert!(err.contains("128"), "names the limit: {err}");
    assert!(err.contains("564"), "names the need (64 + 500 sockets): {err}");
    assert!(out.stdout.is_empty(), "nothing ran");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_scenarios_exit_2_with_field_paths() {
    let dir = temp_dir("invalid");
    let p = dir.join("bad.yaml");
    std::fs::write(&p, "kind: Scenario\nduration: soon\nscheduler: fast\npods: []\n").unwrap();
    let out = bin().args(["run", p.to_str().unwrap(), "--no-results"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("duration: Invalid value"), "{err}");
    assert!(err.contains("scheduler: Unsupported value"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_naive_scheduler_runs_the_same_plan_with_the_same_bookkeeping() {
    let dir = temp_dir("naive");
    let scenario = write_scenario(&dir, 100, 1);
    let out = bin()
        .args(["run", scenario.to_str().unwrap(), "--scheduler", "naive", "--no-results", "-o", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["scheduler"], "naive");
    let p = &v["phases"][0];
    let probes = p["total"]["counters"]["probes"].as_u64().unwrap();
    assert!((100..=800).contains(&probes), "probes {probes}");
    assert_eq!(p["total"]["dispatch_lag"]["count"].as_u64().unwrap(), probes);
    assert!(p["overhead"]["cpu_us_per_probe_by_thread_kind"]["naive_task_per_worker"].is_number(), "{}", p["overhead"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn startup_probes_gate_liveness_in_the_real_engine() {
    // Startup period 1 s, liveness 1 s, all noop (success): the first startup success marks
    // the container started, after which its startup worker holds and liveness probes.
    let dir = temp_dir("startup");
    let p = dir.join("s.yaml");
    std::fs::write(
        &p,
        "kind: Scenario\nname: s\nduration: 2s\nwarmup: 1s\ncalibration: 0s\ninitialPhase: none\npods:\n- name: p\n  replicas: 20\n  probeAs: noop\n  template:\n    spec:\n      containers:\n      - name: c\n        image: x\n        startupProbe: {tcpSocket: {port: 80}, periodSeconds: 1}\n        livenessProbe: {tcpSocket: {port: 80}, periodSeconds: 1}\n",
    )
    .unwrap();
    let out = bin().args(["run", p.to_str().unwrap(), "--no-results", "-o", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let series = v["phases"][0]["series"].as_array().unwrap();
    let by_type = |t: &str| series.iter().find(|s| s["probe_type"] == t).unwrap()["counters"].clone();
    // After warm-up the startup workers are on hold (skipped), liveness probes every tick.
    assert_eq!(by_type("startup")["probes"], 0);
    assert!(by_type("startup")["skipped"].as_u64().unwrap() >= 20);
    assert!(by_type("liveness")["probes"].as_u64().unwrap() >= 20);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn real_probes_run_against_targets_in_their_own_process() {
    // tcpSocket and httpGet to the pods' own addresses: `run` starts `probebench targets
    // serve` (another process), waits for it, probes, and stops it. An unusual port keeps
    // this test's listeners apart from other tests' (pod addresses are fixed by index).
    let dir = temp_dir("targets");
    let p = dir.join("t.yaml");
    std::fs::write(
        &p,
        "kind: Scenario\nname: t\nduration: 2s\nwarmup: 1s\ncalibration: 1s\ninitialPhase: uniform\npods:\n- name: web\n  replicas: 5\n  template:\n    spec:\n      containers:\n      - name: web\n        image: x\n        ports: [{containerPort: 47311}]\n        livenessProbe: {httpGet: {path: /healthz, port: 47311}, periodSeconds: 1}\n        readinessProbe: {tcpSocket: {port: 47311}, periodSeconds: 1}\n",
    )
    .unwrap();
    let out = bin().args(["run", p.to_str().unwrap(), "--no-results", "-o", "json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let phase = &v["phases"][0];
    assert_eq!(phase["stand_ins"].as_array().unwrap().len(), 0, "targets were available");
    for s in phase["series"].as_array().unwrap() {
        assert!(s["mechanism"] == "http" || s["mechanism"] == "tcp", "{s}");
        let c = &s["counters"];
        assert!(c["probes"].as_u64().unwrap() >= 5, "{c}");
        assert_eq!(c["success"], c["probes"], "healthy targets: {c}");
        assert!(s["latency"]["p50_us"].as_f64().unwrap() > 0.0, "real I/O takes time");
    }
    assert!(phase["overhead"]["targets_cpu_us_per_probe"].is_number(), "targets measured apart");
    assert!(phase["calibration"]["probes"].as_u64().unwrap() > 0, "noop floor measured");
    std::fs::remove_dir_all(&dir).unwrap();
}
