//! The kubelet rules of kubelet-semantics.md §2, §3, §5 and §6, each on the virtual clock.

use probebench::kubelet::config::{SECOND, Version};
use probebench::kubelet::events::{Event, EventType};
use probebench::kubelet::status::Phase;
use probebench::sim::{SimOptions, SimResult, Simulation};
use probebench::spec;

/// A pod `p` with one container `c` (image with a tag: IfNotPresent, pulled once per node).
fn pod(container_body: &str, pod_extra: &str) -> String {
    let mut y = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n{pod_extra}  containers:\n  - name: c\n    image: app:1.0\n    ports:\n    - containerPort: 8080\n"
    );
    for line in container_body.lines() {
        y.push_str("    ");
        y.push_str(line);
        y.push('\n');
    }
    y
}

fn sim_with(manifest: &str, behaviour: &str, secs: u64, tweak: impl FnOnce(&mut SimOptions)) -> SimResult {
    let loaded = spec::load_str("t.yaml", manifest).unwrap_or_else(|e| panic!("{e:?}"));
    let file = probebench_targets::parse_behaviour_file(behaviour).unwrap_or_else(|e| panic!("{e}"));
    let mut opts = SimOptions { duration_ns: secs * SECOND, ..SimOptions::default() };
    tweak(&mut opts);
    Simulation::new(&loaded.pods, file, opts).unwrap().run()
}

fn sim(manifest: &str, behaviour: &str, secs: u64) -> SimResult {
    sim_with(manifest, behaviour, secs, |_| {})
}

fn emitted<'a>(r: &'a SimResult, reason: &str) -> Vec<&'a Event> {
    r.events.emitted.iter().filter(|e| e.reason == reason).collect()
}

fn times(events: &[&Event]) -> Vec<f64> {
    events.iter().map(|e| e.t_ns as f64 / SECOND as f64).collect()
}

const HEALTHY: &str = "startup: 1s\nrespond: ok\n";

#[test]
fn failure_threshold_counts_consecutive_failures() {
    let m = pod("livenessProbe:\n  httpGet: {path: /, port: 8080}\n  periodSeconds: 5\n  failureThreshold: 2\n", "");
    let b = "startup: 1s\nphases:\n- {for: 30s, respond: ok}\n- respond: {status: 500}\n";
    let r = sim(&m, b, 60);
    let fails = emitted(&r, "Unhealthy");
    let kill = emitted(&r, "Killing");
    assert_eq!(fails[0].message, "Liveness probe failed: HTTP probe failed with statuscode: 500");
    assert_eq!(fails.iter().filter(|e| e.t_ns <= kill[0].t_ns).count(), 2);
    assert_eq!(kill[0].message, "Container c failed liveness probe, will be restarted");
    // The kill follows the second failure within the next relist (≤ 1 s).
    assert!(kill[0].t_ns - fails[1].t_ns <= SECOND, "{:?} {:?}", times(&fails), times(&kill));
}

#[test]
fn initial_delay_holds_the_first_probe() {
    let m = pod("livenessProbe:\n  tcpSocket: {port: 8080}\n  initialDelaySeconds: 25\n  periodSeconds: 5\n", "");
    let r = sim_with(&m, HEALTHY, 120, |o| o.record_probes = true);
    let started = emitted(&r, "Started")[0].t_ns;
    let first = r.probes.iter().map(|p| p.t_ns).min().unwrap();
    assert!(first >= started + 25 * SECOND, "first probe {}s after start", (first - started) / SECOND);
    assert!(first < started + 31 * SECOND);
}

#[test]
fn startup_probe_gates_liveness_and_kills_with_its_own_message() {
    let m = pod(
        "startupProbe:\n  tcpSocket: {port: 8080}\n  periodSeconds: 5\n  failureThreshold: 3\nlivenessProbe:\n  tcpSocket: {port: 8080}\n",
        "",
    );
    let r = sim(&m, "startup: 1h\n", 60);
    let kill = emitted(&r, "Killing");
    assert_eq!(kill[0].message, "Container c failed startup probe, will be restarted");
    assert_eq!(r.pods[0].stats.probes[2], 0, "liveness never runs before startup succeeds");
    assert!(r.pods[0].restarts >= 1);
}

#[test]
fn readiness_needs_its_success_threshold_and_never_restarts() {
    let m = pod(
        "readinessProbe:\n  httpGet: {path: /, port: 8080}\n  periodSeconds: 2\n  successThreshold: 3\n  failureThreshold: 1\n",
        "",
    );
    let b = "startup: 1s\nphases:\n- {for: 40s, respond: ok}\n- {for: 20s, respond: {status: 503}}\n- respond: ok\n";
    let r = sim(&m, b, 120);
    let readiness: Vec<(f64, &str)> = r.watch.iter().map(|w| (w.t_ns as f64 / 1e9, w.ready.as_str())).collect();
    let first_ready = readiness.iter().find(|(_, r)| *r == "1/1").unwrap().0;
    let started = emitted(&r, "Started")[0].t_ns as f64 / 1e9;
    // Three successes at 2 s intervals (the first right after start).
    assert!(first_ready - started >= 4.0, "ready {first_ready} started {started}");
    assert!(readiness.iter().any(|(t, r)| *r == "0/1" && *t > 40.0), "{readiness:?}");
    assert_eq!(readiness.last().unwrap().1, "1/1");
    assert_eq!(r.pods[0].restarts, 0);
    assert!(emitted(&r, "Killing").is_empty());
}

#[test]
fn restart_policy_never_kills_without_restarting() {
    let m = pod("livenessProbe:\n  tcpSocket: {port: 8080}\n  periodSeconds: 5\n", "  restartPolicy: Never\n");
    let b = "startup: 1s\nphases:\n- {for: 20s, respond: ok}\n- respond: refuse\n";
    let r = sim(&m, b, 120);
    let kill = emitted(&r, "Killing");
    assert_eq!(kill.len(), 1);
    assert_eq!(kill[0].message, "Container c failed liveness probe");
    assert_eq!(r.pods[0].restarts, 0);
    assert_eq!(emitted(&r, "Started").len(), 1);
    // The app exits 0 on SIGTERM (the default): Completed, and the pod Succeeded.
    assert_eq!(r.pods[0].phase, Phase::Succeeded);
    assert_eq!(r.watch.last().unwrap().status, "Completed");
}

#[test]
fn on_failure_restarts_only_failed_exits() {
    let ok = sim(
        &pod("", "  restartPolicy: OnFailure\n"),
        "startup: 1s\nphases:\n- {for: 5s, respond: ok}\n- respond: {exit: 0}\n",
        120,
    );
    assert_eq!(ok.pods[0].restarts, 0);
    assert_eq!(ok.pods[0].phase, Phase::Succeeded);
    let bad = sim(
        &pod("", "  restartPolicy: OnFailure\n"),
        "startup: 1s\nphases:\n- {for: 5s, respond: ok}\n- respond: {exit: 3}\n",
        120,
    );
    assert!(bad.pods[0].restarts >= 2);
    assert_eq!(bad.pods[0].phase, Phase::Running);
    assert!(bad.watch.iter().any(|w| w.status == "Error"), "{:?}", bad.watch);
}

/// Restart gaps of an app that crashes 1 s after it is up.
fn crash_loop_starts(version: Version) -> Vec<f64> {
    let b = "startup: 1s\nphases:\n- {for: 1s, respond: ok}\n- respond: {exit: 1}\n";
    let r = sim_with(&pod("", ""), b, 1200, |o| {
        o.kubelet = probebench::kubelet::config::KubeletConfig::for_version(version)
    });
    times(&emitted(&r, "Started"))
}

#[test]
fn crash_loop_back_off_doubles_to_five_minutes() {
    let starts = crash_loop_starts(Version::NEWEST);
    // Exits come 2 s after each start; the waits before restarts: 0, 10, 20, 40, 80, 160,
    // 300, 300 s. v1.35 re-queues the refused sync at the window's end — what is left of
    // it, jittered by up to +50 % (pod_workers.go completeWork), then the next relist.
    let windows = [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0];
    for (i, w) in windows.iter().enumerate() {
        let gap = starts[i + 1] - starts[i] - 2.0;
        assert!(
            gap >= w - 0.01 && gap <= w * 1.5 + 3.0,
            "restart {i}: waited {gap:.1}s, window {w}s; starts {starts:?}"
        );
    }
}

#[test]
fn older_kubelets_restart_at_the_next_10_to_15_s_resync() {
    let starts = crash_loop_starts(Version { major: 1, minor: 34 });
    let windows = [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0];
    let mut late = 0.0;
    for (i, w) in windows.iter().enumerate() {
        let gap = starts[i + 1] - starts[i] - 2.0;
        assert!(gap >= w - 0.01 && gap <= w + 17.0, "restart {i}: waited {gap:.1}s, window {w}s");
        late += gap - w;
    }
    assert!(late > 10.0, "the 10-15 s re-syncs should add visible delay, got {late:.1}s");
}

#[test]
fn back_off_resets_after_ten_quiet_minutes() {
    let b = "startup: 1s\nphases:\n- {for: 11m, respond: ok}\n- respond: {exit: 1}\n";
    let r = sim(&pod("", ""), b, 40 * 60);
    let starts = times(&emitted(&r, "Started"));
    assert!(starts.len() >= 4, "{starts:?}");
    // Each crash comes 11 minutes after the last restart, so each restart is immediate.
    for pair in starts.windows(2) {
        let wait = pair[1] - pair[0] - (11.0 * 60.0 + 1.0);
        assert!(wait < 3.0, "waited {wait:.1}s: {starts:?}");
    }
}

#[test]
fn kill_grace_comes_from_the_probe_and_sigkill_ends_an_app_that_ignores_sigterm() {
    let m = pod(
        "livenessProbe:\n  tcpSocket: {port: 8080}\n  periodSeconds: 5\n  failureThreshold: 1\n  terminationGracePeriodSeconds: 7\n",
        "",
    );
    let b = "startup: 1s\nsigterm: ignore\nphases:\n- {for: 20s, respond: ok}\n- respond: refuse\n";
    let r = sim(&m, b, 60);
    let kill = emitted(&r, "Killing")[0].t_ns;
    let restart = emitted(&r, "Started")[1].t_ns;
    // SIGKILL after the probe's 7 s grace, then the restart in the same sync.
    let waited = (restart - kill) as f64 / 1e9;
    assert!((7.0..8.0).contains(&waited), "{waited}");
    let line = r.watch.iter().find(|w| w.restarts.starts_with('1')).unwrap();
    assert_eq!(line.status, "Running");
}

#[test]
fn grace_never_below_two_seconds() {
    let m = pod(
        "livenessProbe:\n  tcpSocket: {port: 8080}\n  periodSeconds: 5\n  failureThreshold: 1\n  terminationGracePeriodSeconds: 1\n",
        "",
    );
    let b = "startup: 1s\nsigterm: ignore\nphases:\n- {for: 20s, respond: ok}\n- respond: refuse\n";
    let r = sim(&m, b, 60);
    let waited = (emitted(&r, "Started")[1].t_ns - emitted(&r, "Killing")[0].t_ns) as f64 / 1e9;
    assert!((2.0..3.0).contains(&waited), "{waited}");
}

#[test]
fn deletion_runs_pre_stop_then_sigterm_and_keeps_readiness_probing() {
    let m = pod(
        "lifecycle:\n  preStop:\n    exec: {command: [/bin/drain]}\nlivenessProbe:\n  tcpSocket: {port: 8080}\n  periodSeconds: 2\nreadinessProbe:\n  tcpSocket: {port: 8080}\n  periodSeconds: 2\n",
        "",
    );
    let b = "rules:\n- behaviour:\n    startup: 1s\n    pre_stop: {duration: 3s}\n    sigterm: {after: 4s, code: 0}\nactions:\n- {at: 60s, delete: p}\n";
    let r = sim_with(&m, b, 120, |o| o.record_probes = true);
    let kill = emitted(&r, "Killing");
    assert_eq!(kill[0].message, "Stopping container c");
    assert!(r.watch.iter().any(|w| w.status == "Terminating"));
    let deleted = 60 * SECOND;
    let liveness_after = r.probes.iter().filter(|p| p.probe == spec::ProbeType::Liveness && p.t_ns > deleted).count();
    let readiness_after = r.probes.iter().filter(|p| p.probe == spec::ProbeType::Readiness && p.t_ns > deleted).count();
    assert_eq!(liveness_after, 0);
    assert!(readiness_after >= 2, "readiness keeps probing through the 3 s preStop and 4 s shutdown");
    assert!(r.pods[0].removed);
    // Removed after preStop (3 s) + SIGTERM to exit (4 s).
    let last = r.watch.last().unwrap();
    assert!(last.t_ns >= deleted + 7 * SECOND && last.t_ns < deleted + 9 * SECOND, "{:?}", r.watch);
    assert_eq!(last.status, "Completed");
}

#[test]
fn force_deletion_stops_at_once_with_the_two_second_floor() {
    let b = "rules:\n- behaviour: {startup: 1s, sigterm: ignore}\nactions:\n- {at: 30s, delete: p, force: true}\n";
    let r = sim(&pod("", ""), b, 60);
    let last = r.watch.last().unwrap();
    let gone = (last.t_ns - 30 * SECOND) as f64 / 1e9;
    assert!((2.0..3.0).contains(&gone), "{gone}");
    assert_eq!(last.status, "Error", "SIGKILL: exit 137");
}

#[test]
fn a_young_kubelet_spreads_first_probes_over_the_period() {
    let m = pod("livenessProbe:\n  tcpSocket: {port: 8080}\n  periodSeconds: 60\n", "");
    let first = |uptime: u64, seed: u64| {
        let r = sim_with(&m, HEALTHY, 300, |o| {
            o.kubelet.uptime_ns = uptime;
            o.seed = seed;
            o.record_probes = true;
        });
        r.probes[0].t_ns as f64 / 1e9
    };
    let long: Vec<f64> = (1..6).map(|s| first(24 * 3600 * SECOND, s)).collect();
    let young: Vec<f64> = (1..6).map(|s| first(0, s)).collect();
    // Without jitter the first probe is one period after the worker starts (the container
    // was not running yet at its first tick).
    for t in &long {
        assert!((59.0..62.0).contains(t), "{long:?}");
    }
    let spread = young.iter().cloned().fold(f64::NAN, f64::max) - young.iter().cloned().fold(f64::NAN, f64::min);
    assert!(spread > 5.0, "jittered first probes {young:?}");
}

#[test]
fn a_slow_probe_never_overlaps_itself_and_drops_ticks() {
    let m = pod("readinessProbe:\n  httpGet: {path: /, port: 8080}\n  periodSeconds: 2\n  timeoutSeconds: 30\n", "");
    let b = "startup: 1s\nlatency: 7s\nrespond: ok\n";
    let r = sim_with(&m, b, 120, |o| o.record_probes = true);
    let runs: Vec<(u64, u64)> = r.probes.iter().map(|p| (p.t_ns, p.latency_ns)).collect();
    for pair in runs.windows(2) {
        assert!(pair[1].0 >= pair[0].0 + pair[0].1, "a probe started before the previous one finished: {runs:?}");
    }
    // While a 7 s probe runs, the 2 s ticks pile up: one is kept, the rest are dropped,
    // and the kept one runs as soon as the probe finishes.
    let back_to_back = runs.windows(2).filter(|p| p[1].0 == p[0].0 + p[0].1).count();
    assert!(back_to_back > 10, "{runs:?}");
    assert!(r.pods[0].stats.missed_ticks > 10, "{}", r.pods[0].stats.missed_ticks);
}

#[test]
fn a_failing_post_start_hook_kills_the_container() {
    let m = pod("lifecycle:\n  postStart:\n    exec: {command: [/bin/setup]}\n", "");
    let r = sim(&m, "startup: 1s\npost_start: {duration: 1s, exit: 1}\n", 60);
    assert_eq!(emitted(&r, "FailedPostStartHook")[0].message, "PostStartHook failed");
    assert!(emitted(&r, "Killing").iter().any(|e| e.message == "FailedPostStartHook"));
    assert!(r.pods[0].restarts >= 1);
    assert!(r.watch.iter().all(|w| w.ready == "0/1"), "never Running while the hook fails");
}

#[test]
fn unschedulable_pods_stay_pending_with_failed_scheduling() {
    let r = sim(&pod("", ""), "startup: 1s\npod: {unschedulable: true}\n", 600);
    let fs = emitted(&r, "FailedScheduling");
    assert!(!fs.is_empty());
    assert_eq!(fs[0].from, "default-scheduler");
    assert_eq!(fs[0].kind, EventType::Warning);
    assert_eq!(r.pods[0].phase, Phase::Pending);
    assert!(r.events.emitted.iter().all(|e| e.from == "default-scheduler"));
    assert_eq!(r.watch.last().unwrap().status, "Pending");
}

#[test]
fn a_volume_that_cannot_mount_repeats_failed_mount() {
    let b = "startup: 1s\npod: {mount_error: 'MountVolume.SetUp failed for volume \"config\" : configmap \"app-config\" not found'}\n";
    let r = sim(&pod("", ""), b, 600);
    let mounts = times(&emitted(&r, "FailedMount"));
    assert!(mounts.len() >= 10, "{mounts:?}");
    let gaps: Vec<f64> = mounts.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps.windows(2).all(|g| g[1] >= g[0] - 0.001), "growing: {gaps:?}");
    assert!(gaps.last().unwrap() <= &122.0);
    assert_eq!(r.watch.last().unwrap().status, "ContainerCreating");
    assert!(emitted(&r, "Pulling").is_empty());
}

#[test]
fn a_deleted_deployment_pod_is_replaced_and_a_cordoned_node_keeps_it_pending() {
    let m = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - {name: c, image: app:1.0}\n";
    let b = "default: {startup: 1s}\nactions:\n- {at: 30s, node: unschedulable}\n- {at: 60s, delete: 'web-*'}\n";
    let r = sim(m, b, 180);
    assert_eq!(r.pods.len(), 4, "two originals, two replacements");
    for p in &r.pods[2..] {
        assert!(!p.scheduled);
        assert_eq!(p.phase, Phase::Pending);
        assert!(p.name.starts_with(&r.pods[0].name[..r.pods[0].name.len() - 5]));
    }
    assert!(r.pods[..2].iter().all(|p| p.removed));
    assert_eq!(emitted(&r, "FailedScheduling").len(), 2);
}

#[test]
fn an_unknown_named_port_errors_and_is_never_counted() {
    let m = pod("livenessProbe:\n  httpGet: {path: /, port: web}\n  periodSeconds: 5\n", "");
    let r = sim(&m, HEALTHY, 120);
    let e = emitted(&r, "Unhealthy");
    assert_eq!(
        e[0].message,
        "Liveness probe errored and resulted in unknown state: strconv.Atoi: parsing \"web\": invalid syntax"
    );
    assert_eq!(r.pods[0].restarts, 0);
}

#[test]
fn http_redirects_and_warnings() {
    let m = pod("readinessProbe:\n  httpGet: {path: /, port: 8080}\n  periodSeconds: 5\n", "");
    let away = "startup: 1s\nrespond: {redirect: {host: elsewhere.example}, status: 302}\n";
    let r = sim(&m, away, 30);
    let w = emitted(&r, "ProbeWarning");
    assert!(
        w[0].message.starts_with("Readiness probe warning: Probe terminated redirects, Response body: "),
        "{}",
        w[0].message
    );
    assert!(r.pods[0].ready, "a warning counts as success");
    let looped = "startup: 1s\nrespond: {redirect: loop}\n";
    let r = sim(&m, looped, 30);
    let e = emitted(&r, "Unhealthy");
    assert!(e.iter().any(|e| e.message.ends_with(": stopped after 10 redirects")), "{e:?}");
}
