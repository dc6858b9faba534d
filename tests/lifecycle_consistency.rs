//! One kubelet core, two clocks: the three walkthrough pods run for 90 s through
//! `probebench simulate` (virtual clock) and through `probebench run` (real clock, real
//! probes, real containers in the targets process) must produce the same events, in the
//! same order, with the same counts and texts, at times within [`TOLERANCE_S`].
//! `run --watch` must print its lines while the run is still going.
//!
//! The three pods run at once, each run in its own pod address range
//! (`PROBEBENCH_POD_NET`), so they do not collide with each other or with other tests.

mod cli_common;
use cli_common::bin;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

/// How far apart the same event may be on the two clocks. The real clock adds thread
/// wake-ups, process exits and socket work to the model's times: milliseconds on a quiet
/// machine; half a second leaves room for a loaded 2-core CI machine.
const TOLERANCE_S: f64 = 0.5;
const RUN_S: f64 = 90.0;

fn temp_dir(name: &str) -> PathBuf {
    cli_common::temp_dir("consistency", name)
}

fn events(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// What must be identical between the two clocks.
fn identity(e: &serde_json::Value) -> String {
    format!("{} {} {} {} {} count={}", e["pod"], e["container"], e["type"], e["reason"], e["message"], e["count"])
}

struct Outcome {
    pod: &'static str,
    sim: Vec<serde_json::Value>,
    real: Vec<serde_json::Value>,
    /// Seconds before the run exited that its first `Running` watch line was read.
    watch_lead_s: Option<f64>,
    status: Option<i32>,
    stderr: String,
}

fn run_both(pod: &'static str, net: &'static str) -> Outcome {
    let dir = temp_dir(pod);
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("targets/pods").join(format!("{pod}.yaml"));
    let sim_events = dir.join("sim.jsonl");
    let sim = bin()
        .env("PROBEBENCH_POD_NET", net)
        .arg("simulate")
        .arg(&manifest)
        .args(["--for", "90s", "--events"])
        .arg(&sim_events)
        .output()
        .unwrap();
    assert!(sim.status.success(), "simulate {pod}: {}", String::from_utf8_lossy(&sim.stderr));

    let results = dir.join("results");
    let mut child = bin()
        .env("PROBEBENCH_POD_NET", net)
        .arg("run")
        .arg(&manifest)
        .args(["--for", "90s", "--warmup", "0s", "--allow-exec", "--watch", "--out"])
        .arg(&results)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut stderr, &mut s);
        s
    });
    let mut first_running = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if first_running.is_none() && line.starts_with("myweb") && line.contains("Running") {
            first_running = Some(Instant::now());
        }
    }
    let status = child.wait().unwrap();
    let exited = Instant::now();
    let run_dir = std::fs::read_dir(&results).unwrap().next().unwrap().unwrap().path();
    let out = Outcome {
        pod,
        sim: events(&sim_events),
        real: events(&run_dir.join("events.jsonl")),
        watch_lead_s: first_running.map(|t| exited.duration_since(t).as_secs_f64()),
        status: status.code(),
        stderr: err_reader.join().unwrap(),
    };
    std::fs::remove_dir_all(&dir).unwrap();
    out
}

#[test]
fn the_walkthrough_pods_produce_the_same_events_in_real_time_as_simulated() {
    let pods =
        [("myweb-startup-error", "127.81.0.0"), ("myweb-liveness-err", "127.82.0.0"), ("myweb-startup", "127.83.0.0")];
    let handles: Vec<_> = pods.iter().map(|&(pod, net)| std::thread::spawn(move || run_both(pod, net))).collect();
    for h in handles {
        let o = h.join().unwrap();
        assert_eq!(o.status, Some(0), "{}: run failed: {}", o.pod, o.stderr);
        // Events the last moments of the run may or may not have reached on either clock
        // are left out of the comparison; everything before must match one for one.
        let horizon = RUN_S - 2.0 * TOLERANCE_S;
        let sim: Vec<_> = o.sim.iter().filter(|e| e["t_s"].as_f64().unwrap() < horizon).collect();
        let real: Vec<_> = o.real.iter().filter(|e| e["t_s"].as_f64().unwrap() < horizon).collect();
        assert!(sim.len() >= 5, "{}: the simulator produced the walkthrough's events: {:?}", o.pod, o.sim);
        let list = |v: &[&serde_json::Value]| {
            v.iter().map(|e| format!("{:>8.3} {}", e["t_s"], identity(e))).collect::<Vec<_>>().join("\n")
        };
        assert_eq!(
            sim.iter().map(|e| identity(e)).collect::<Vec<_>>(),
            real.iter().map(|e| identity(e)).collect::<Vec<_>>(),
            "{}: the same events in the same order\nsimulated:\n{}\nreal:\n{}",
            o.pod,
            list(&sim),
            list(&real)
        );
        for (s, r) in sim.iter().zip(real.iter()) {
            let (ts, tr) = (s["t_s"].as_f64().unwrap(), r["t_s"].as_f64().unwrap());
            assert!(
                (ts - tr).abs() <= TOLERANCE_S,
                "{}: {} at {ts:.3} s simulated, {tr:.3} s real (tolerance {TOLERANCE_S} s)",
                o.pod,
                identity(s)
            );
        }
        // The container starts within seconds of a 90 s run: its watch line must have been
        // printed long before the run ended, not flushed at exit.
        let lead = o.watch_lead_s.unwrap_or_else(|| panic!("{}: no Running line on --watch", o.pod));
        assert!(lead > 30.0, "{}: the Running watch line came {lead:.1} s before the end: not live", o.pod);
        // The walkthrough's point, on the real clock: the startup probe's command cannot run
        // (errored, never counted: no kill), the liveness probe on an unserved port restarts
        // the container, the healthy pod is left alone.
        let reasons = |r: &str| real.iter().filter(|e| e["reason"] == r).count();
        match o.pod {
            "myweb-startup-error" => {
                assert!(
                    real.iter()
                        .any(|e| e["message"].as_str().unwrap().contains("errored and resulted in unknown state"))
                );
                assert_eq!(reasons("Killing"), 0);
            }
            "myweb-liveness-err" => assert!(reasons("Killing") >= 2, "restarted twice in 90 s"),
            _ => assert_eq!(reasons("Unhealthy") + reasons("Killing"), 0),
        }
    }
}
