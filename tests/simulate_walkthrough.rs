//! The walkthrough pods on the virtual clock: what a real kubelet does with them, event by
//! event, with the exact texts (targets/pods/*.yaml, the default httpd-like behaviour).

use probebench::kubelet::config::SECOND;
use probebench::kubelet::events::{Event, EventType};
use probebench::kubelet::status::Phase;
use probebench::sim::{SimOptions, SimResult, Simulation};
use probebench::spec;

fn run(file: &str, minutes: u64) -> SimResult {
    let path = format!("{}/targets/pods/{file}", env!("CARGO_MANIFEST_DIR"));
    let loaded = spec::load_file(&path).unwrap();
    let behaviours = probebench::commands::simulate::load_behaviours(None, &loaded.pods).unwrap();
    let opts = SimOptions { duration_ns: minutes * 60 * SECOND, ..SimOptions::default() };
    Simulation::new(&loaded.pods, behaviours, opts).unwrap().run()
}

fn emitted<'a>(r: &'a SimResult, reason: &str) -> Vec<&'a Event> {
    r.events.emitted.iter().filter(|e| e.reason == reason).collect()
}

fn secs(t: u64) -> f64 {
    t as f64 / SECOND as f64
}

#[test]
fn startup_exec_mistake_errors_every_10s_and_never_restarts() {
    let r = run("myweb-startup-error.yaml", 5);
    let unhealthy = emitted(&r, "Unhealthy");
    assert!(unhealthy.len() >= 28, "{} errored startup events in 5 minutes", unhealthy.len());
    for e in &unhealthy {
        assert!(
            e.message.starts_with("Startup probe errored and resulted in unknown state: rpc error: code = Unknown desc = failed to exec in container: failed to start exec \""),
            "{}",
            e.message
        );
        assert!(e.message.ends_with("exec: \"ls /tmp/abc\": stat ls /tmp/abc: no such file or directory: unknown"));
    }
    // Every 10 s, on the worker's grid.
    for pair in unhealthy.windows(2) {
        assert_eq!(pair[1].t_ns - pair[0].t_ns, 10 * SECOND, "{} -> {}", secs(pair[0].t_ns), secs(pair[1].t_ns));
    }
    // Errored results are never counted: no kill, no restart, liveness never runs.
    let pod = &r.pods[0];
    assert_eq!(pod.restarts, 0);
    assert!(emitted(&r, "Killing").is_empty());
    assert_eq!(pod.stats.probes[2], 0, "liveness probes ran");
    assert_eq!(pod.stats.errored[0], pod.stats.probes[0]);
    assert_eq!(pod.phase, Phase::Running);
    assert!(!pod.ready);
    let last = r.watch.last().unwrap();
    assert_eq!((last.ready.as_str(), last.status.as_str(), last.restarts.as_str()), ("0/1", "Running", "0"));
    // Each message carries a fresh exec ID, so the correlator combines them after nine.
    assert!(
        r.events.stored.iter().any(|e| e.message.starts_with("(combined from similar events): Startup probe errored"))
    );
}

#[test]
fn liveness_on_an_unserved_port_kills_restarts_and_crash_loops() {
    let r = run("myweb-liveness-err.yaml", 20);
    let pod = &r.pods[0];
    let failed = emitted(&r, "Unhealthy");
    let kills = emitted(&r, "Killing");
    assert!(!kills.is_empty());
    for e in &failed {
        assert_eq!(
            e.message,
            "Liveness probe failed: Get \"http://127.1.0.0:8080/\": dial tcp 127.1.0.0:8080: connect: connection refused"
        );
    }
    // The first kill follows exactly three consecutive failures.
    let before_first_kill = failed.iter().filter(|e| e.t_ns <= kills[0].t_ns).count();
    assert_eq!(before_first_kill, 3);
    for k in &kills {
        assert_eq!(k.message, "Container myweb failed liveness probe, will be restarted");
        assert_eq!(k.kind, EventType::Normal);
    }
    assert!(pod.restarts >= 6, "{} restarts", pod.restarts);
    // CrashLoopBackOff with the back-off doubling: the waiting messages name the window.
    assert!(r.watch.iter().any(|w| w.status == "CrashLoopBackOff"));
    let backoffs = emitted(&r, "BackOff");
    assert!(!backoffs.is_empty());
    assert!(
        backoffs[0]
            .message
            .starts_with("Back-off restarting failed container myweb in pod myweb-liveness-err_default(")
    );
    // Restarts (Started events) grow further apart as the back-off bites: 0, 0, then the
    // gaps beyond the 30 s kill cycle stretch to 40 s, 80 s, 160 s and 300 s windows.
    let starts: Vec<u64> = emitted(&r, "Started").iter().map(|e| e.t_ns).collect();
    let gaps: Vec<u64> = starts.windows(2).map(|w| (w[1] - w[0]) / SECOND).collect();
    assert!(gaps.iter().any(|&g| g >= 300), "gaps {gaps:?}");
    assert!(gaps.windows(2).filter(|w| w[1] < w[0] / 2).count() <= 1, "gaps should grow: {gaps:?}");
}

#[test]
fn healthy_pod_is_ready_without_restarts_or_warnings() {
    let r = run("myweb-startup.yaml", 10);
    let pod = &r.pods[0];
    assert!(pod.ready);
    assert_eq!(pod.restarts, 0);
    assert_eq!(pod.phase, Phase::Running);
    assert!(r.events.emitted.iter().all(|e| e.kind == EventType::Normal), "{:?}", r.events.emitted);
    let reasons: Vec<&str> = r.events.emitted.iter().map(|e| e.reason).collect();
    assert_eq!(reasons, ["Scheduled", "Pulling", "Pulled", "Created", "Started"]);
    assert_eq!(r.watch.last().map(|w| (w.ready.as_str(), w.status.as_str())), Some(("1/1", "Running")));
    // The startup probe passes once, then liveness takes over every 10 s.
    assert_eq!(pod.stats.probes[0], 1);
    assert!(pod.stats.probes[2] >= 55);
}

#[test]
fn missing_image_cycles_err_image_pull_and_back_off() {
    let r = run("myweb-image-missing.yaml", 15);
    let statuses: Vec<&str> = r.watch.iter().map(|w| w.status.as_str()).collect();
    assert_eq!(&statuses[..3], ["Pending", "ContainerCreating", "ErrImagePull"]);
    assert!(statuses.iter().filter(|s| **s == "ImagePullBackOff").count() >= 5, "{statuses:?}");
    let pulls: Vec<u64> = emitted(&r, "Pulling").iter().map(|e| e.t_ns).collect();
    // Each new pull waits for the image back-off window (10, 20, 40, 80, 160, 300 s after
    // the previous failure) plus up to a 10-15 s pod re-sync and the pull itself.
    let windows = [10u64, 20, 40, 80, 160, 300];
    for (i, pair) in pulls.windows(2).enumerate() {
        let gap = (pair[1] - pair[0]) as f64 / SECOND as f64;
        let w = windows[i.min(windows.len() - 1)] as f64;
        assert!(gap >= w && gap <= w + 15.0 + 3.0 + 1.0, "gap {i}: {gap:.1}s for window {w}s");
    }
    let failed: Vec<&str> = emitted(&r, "Failed").iter().map(|e| e.message.as_str()).collect();
    assert!(failed.contains(&"Error: ErrImagePull"));
    assert!(failed.contains(&"Error: ImagePullBackOff"));
    assert!(failed.iter().any(|m| m.starts_with(
        "Failed to pull image \"httpdd\": failed to pull and unpack image \"docker.io/library/httpdd:latest\""
    )));
    assert_eq!(r.pods[0].phase, Phase::Pending);
}

#[test]
fn same_seed_same_output_byte_for_byte() {
    let bin = env!("CARGO_BIN_EXE_probebench");
    let out = |seed: &str| {
        std::process::Command::new(bin)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "simulate",
                "targets/pods/myweb-liveness-err.yaml",
                "--for",
                "10m",
                "--seed",
                seed,
                "--output",
                "json",
                "--probes",
            ])
            .output()
            .unwrap()
            .stdout
    };
    let a = out("7");
    assert!(!a.is_empty());
    assert_eq!(a, out("7"));
    assert_ne!(a, out("8"));
    let text = |seed: &str| {
        std::process::Command::new(bin)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["simulate", "targets/pods/myweb-startup-error.yaml", "--for", "3m", "--seed", seed])
            .output()
            .unwrap()
            .stdout
    };
    assert_eq!(text("3"), text("3"));
}
