//! The behaviour vocabulary on a virtual clock: parsing, errors with field paths,
//! timelines, flapping, latency statistics with fixed seeds, determinism.

use std::time::Duration;

use probebench_targets::behaviour::{
    ActionKind, Distribution, ExecView, GrpcAnswer, ImagePull, PhaseView, ReplyKind, Request, SigtermReaction,
};
use probebench_targets::{parse_behaviour, parse_behaviour_file};

fn s(x: u64) -> Duration {
    Duration::from_secs(x)
}
fn ms(x: u64) -> Duration {
    Duration::from_millis(x)
}

fn http(port: u16, path: &str) -> Request {
    Request::Http { port, path: path.to_string(), host: Some(format!("127.1.0.0:{port}")) }
}

fn status(kind: &ReplyKind) -> Option<u16> {
    match kind {
        ReplyKind::Http { status, .. } => Some(*status),
        _ => None,
    }
}

#[test]
fn slow_start_refuses_then_serves() {
    let b = parse_behaviour("startup: 30s").unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(i.startup(), s(30));
    assert_eq!(i.respond(s(29), &Request::Tcp { port: 80 }).kind, ReplyKind::Refuse);
    assert!(!i.listening_at(s(29), 80));
    assert!(!i.healthy_at(s(29)));
    assert_eq!(i.phase_at(s(1)), PhaseView::Starting);
    assert_eq!(i.next_change_after(s(0)), Some(s(30)));
    assert_eq!(status(&i.respond(s(30), &http(80, "/")).kind), Some(200));
    assert!(i.healthy_at(s(30)));
    assert_eq!(i.next_change_after(s(30)), None);
}

#[test]
fn fails_after_two_minutes() {
    let b = parse_behaviour("startup: 0s\nphases:\n- for: 2m\n  respond: ok\n- respond: {status: 500}\n").unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(status(&i.respond(s(119), &http(80, "/")).kind), Some(200));
    assert_eq!(status(&i.respond(s(120), &http(80, "/")).kind), Some(500));
    assert_eq!(i.next_change_after(s(10)), Some(s(120)));
    assert_eq!(i.exec_view_at(s(121)), ExecView::Unhealthy(1));
    let g = Request::Grpc { port: 80, service: String::new() };
    assert_eq!(i.respond(s(121), &g).kind, ReplyKind::Grpc(GrpcAnswer::NotServing));
}

#[test]
fn flap_duty_cycle_on_a_virtual_clock() {
    let b = parse_behaviour("startup: 0s\nflap: {period: 20s, duty: 25%}").unwrap();
    let i = b.instance(3, 0);
    // Sample every 10 ms over 100 periods: exactly 25 % healthy.
    let total = 200_000u64;
    let healthy = (0..total).filter(|k| i.healthy_at(Duration::from_millis(k * 10))).count() as u64;
    assert_eq!(healthy, total / 4);
    // Edges: up [0,5s), down [5s,20s), up at 20s.
    assert_eq!(i.next_change_after(s(0)), Some(s(5)));
    assert_eq!(i.next_change_after(s(5)), Some(s(20)));
    assert_eq!(i.next_change_after(s(19)), Some(s(20)));
    assert!(matches!(i.phase_at(s(6)), PhaseView::Up { flap_down: true, .. }));
}

#[test]
fn flap_walk_by_next_change_alternates() {
    let b = parse_behaviour("startup: 1s\nflap: {period: 20s}").unwrap();
    let i = b.instance(3, 0);
    let mut t = Duration::ZERO;
    let mut seen = Vec::new();
    for _ in 0..7 {
        t = i.next_change_after(t).unwrap();
        seen.push((t.as_secs(), i.healthy_at(t)));
    }
    assert_eq!(seen, vec![(1, true), (11, false), (21, true), (31, false), (41, true), (51, false), (61, true)]);
}

#[test]
fn lognormal_latency_p99_and_timeout_fraction() {
    let b = parse_behaviour("startup: 0s\nlatency: {lognormal: {p50: 100ms, p99: 800ms}}").unwrap();
    let mut i = b.instance(2024, 0);
    let mut lat: Vec<Duration> = (0..20_000).map(|_| i.respond(s(1), &http(80, "/")).latency).collect();
    lat.sort();
    let p50 = lat[9_999].as_secs_f64();
    let p99 = lat[19_799].as_secs_f64();
    assert!((0.095..0.105).contains(&p50), "p50 {p50}");
    assert!((0.72..0.90).contains(&p99), "p99 {p99}");
    let over_1s = lat.iter().filter(|d| **d > s(1)).count() as f64 / 20_000.0;
    let exact = Distribution::LogNormal { p50: ms(100), p99: ms(800) }.exceedance(s(1));
    assert!((over_1s - exact).abs() < 0.0025, "{over_1s} vs {exact}");
}

#[test]
fn spikes_happen_with_their_probability() {
    let b = parse_behaviour("startup: 0s\nlatency: {fixed: 1ms, spike: {probability: 0.01, latency: 2s}}").unwrap();
    let mut i = b.instance(9, 0);
    let spikes = (0..20_000).filter(|_| i.respond(s(1), &http(80, "/")).latency == s(2)).count();
    // Binomial(20000, 0.01): mean 200, sd 14; 5 sd.
    assert!((130..=270).contains(&spikes), "{spikes}");
}

#[test]
fn gc_pauses_delay_replies_inside_them() {
    let b = parse_behaviour("startup: 0s\npauses: {every: 5m, for: 1s}").unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(i.respond(s(299), &http(80, "/")).latency, Duration::ZERO);
    assert_eq!(i.respond(s(300), &http(80, "/")).latency, s(1));
    assert_eq!(i.respond(s(300) + ms(400), &http(80, "/")).latency, ms(600));
    assert_eq!(i.respond(s(301), &http(80, "/")).latency, Duration::ZERO);
    assert_eq!(i.respond(s(600) + ms(1), &http(80, "/")).latency, ms(999));
    // A tcpSocket probe is answered by the kernel: pauses do not delay it.
    assert_eq!(i.respond(s(300), &Request::Tcp { port: 80 }).latency, Duration::ZERO);
    assert_eq!(i.next_change_after(s(0)), Some(s(300)));
    assert_eq!(i.next_change_after(s(300)), Some(s(301)));
    // Healthy throughout: a pause is slow, not unhealthy.
    assert!(i.healthy_at(s(300)));
}

#[test]
fn jittered_pauses_start_anywhere_in_their_window_and_repeat_for_a_seed() {
    let b = parse_behaviour("startup: 0s\npauses: {every: 5m, for: 1s, jitter: 1m}").unwrap();
    // Find each pause's start by scanning replies at 100 ms steps over 100 slots.
    let starts = |seed: u64| {
        let mut i = b.instance(seed, 0);
        let mut out = Vec::new();
        for k in 1..=100u64 {
            let slot = s(300 * k);
            let start = (0..610u64)
                .map(|step| slot + ms(step * 100))
                .find(|&t| i.respond(t, &http(80, "/")).latency >= ms(900))
                .expect("a pause in every slot");
            assert!(start < slot + s(61), "slot {k}: {start:?}");
            out.push(start - slot);
        }
        out
    };
    let a = starts(7);
    assert_eq!(a, starts(7), "same seed, same pauses");
    assert_ne!(a, starts(8));
    // Offsets spread over the minute: neither all early nor all late.
    let early = a.iter().filter(|d| **d < s(30)).count();
    assert!((25..=75).contains(&early), "{early} of 100 in the first half");
    let i = b.instance(7, 0);
    let next = i.next_change_after(s(1)).unwrap();
    // The scan found the first 100 ms step inside the pause: the exact start is at most
    // 100 ms before it.
    assert!(next <= s(300) + a[0] && next + ms(100) > s(300) + a[0], "{next:?} vs {:?}", s(300) + a[0]);
}

#[test]
fn jitter_must_fit_between_pauses() {
    let e = parse_behaviour("pauses: {every: 5m, for: 1s, jitter: 5m}").unwrap_err();
    assert!(e.has_path("pauses.jitter"), "{e}");
}

#[test]
fn crash_after_startup_exits_with_code() {
    let b = parse_behaviour("startup: 2s\nphases:\n- for: 10s\n- respond: {exit: 3}\n").unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(i.exit(), Some((s(12), 3)));
    assert_eq!(i.phase_at(s(12)), PhaseView::Exited(3));
    assert_eq!(i.next_change_after(s(3)), Some(s(12)));
    assert_eq!(i.next_change_after(s(12)), None);
    assert_eq!(i.respond(s(13), &Request::Tcp { port: 80 }).kind, ReplyKind::Refuse);
}

#[test]
fn sigterm_reactions() {
    let at_once = parse_behaviour("sigterm: exit").unwrap().instance(1, 0);
    assert_eq!(at_once.on_sigterm(), SigtermReaction::ExitAfter(Duration::ZERO, 0));
    let slow = parse_behaviour("sigterm: {after: 5s, code: 143}").unwrap().instance(1, 0);
    assert_eq!(slow.on_sigterm(), SigtermReaction::ExitAfter(s(5), 143));
    assert_eq!(slow.on_sigterm().outcome(s(30)), (s(5), 143));
    assert_eq!(slow.on_sigterm().outcome(s(2)), (s(2), 137));
    let stubborn = parse_behaviour("sigterm: ignore").unwrap().instance(1, 0);
    assert_eq!(stubborn.on_sigterm(), SigtermReaction::IgnoreUntilKill);
    assert_eq!(stubborn.on_sigterm().outcome(s(30)), (s(30), 137));
}

#[test]
fn shutdown_answer_applies_after_sigterm() {
    let b = parse_behaviour("startup: 0s\nsigterm: {after: 10s, respond: {status: 503}}").unwrap();
    let mut i = b.instance(1, 0);
    i.sigterm(s(50));
    assert_eq!(status(&i.respond(s(49), &http(80, "/")).kind), Some(200));
    assert_eq!(status(&i.respond(s(50), &http(80, "/")).kind), Some(503));
    assert!(matches!(i.phase_at(s(51)), PhaseView::Up { draining: true, .. }));
}

#[test]
fn per_port_and_per_path_overrides() {
    let b = parse_behaviour("startup: 0s\nrespond: {status: 503}\nports: {9090: ok, 8081: refuse}\npaths: {/live: ok}")
        .unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(status(&i.respond(s(1), &http(8080, "/ready")).kind), Some(503));
    assert_eq!(status(&i.respond(s(1), &http(8080, "/live?x=1")).kind), Some(200));
    assert_eq!(status(&i.respond(s(1), &http(9090, "/ready")).kind), Some(200));
    assert!(!i.listening_at(s(1), 8081));
    assert!(i.listening_at(s(1), 8080));
}

#[test]
fn grpc_vocabulary() {
    let g = |service: &str| Request::Grpc { port: 50051, service: service.to_string() };
    for (yaml, want) in [
        ("{grpc: serving}", GrpcAnswer::Serving),
        ("{grpc: not_serving}", GrpcAnswer::NotServing),
        ("{grpc: unknown}", GrpcAnswer::Unknown),
        ("{grpc: unknown_service}", GrpcAnswer::UnknownService),
        ("{grpc: unimplemented}", GrpcAnswer::Unimplemented),
    ] {
        let b = parse_behaviour(&format!("startup: 0s\nrespond: {yaml}")).unwrap();
        assert_eq!(b.instance(1, 0).respond(s(1), &g("")).kind, ReplyKind::Grpc(want));
    }
    let b = parse_behaviour("startup: 0s\ngrpc_services: ['', app]").unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(i.respond(s(1), &g("app")).kind, ReplyKind::Grpc(GrpcAnswer::Serving));
    assert_eq!(i.respond(s(1), &g("other")).kind, ReplyKind::Grpc(GrpcAnswer::UnknownService));
}

#[test]
fn hang_is_a_fifo_for_exec_and_accept_for_tcp() {
    let b = parse_behaviour("startup: 0s\nrespond: hang").unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(i.exec_view_at(s(1)), ExecView::Hang);
    assert_eq!(i.respond(s(1), &Request::Tcp { port: 1 }).kind, ReplyKind::Accept);
    assert_eq!(i.respond(s(1), &http(1, "/")).kind, ReplyKind::Hang);
    assert!(i.listening_at(s(1), 1));
}

#[test]
fn repeat_loops_the_phases() {
    let b =
        parse_behaviour("startup: 0s\nrepeat: true\nphases:\n- {for: 3s, respond: ok}\n- {for: 1s, respond: 500}\n")
            .unwrap();
    let mut i = b.instance(1, 0);
    assert_eq!(status(&i.respond(s(3), &http(80, "/")).kind), Some(500));
    assert_eq!(status(&i.respond(s(4), &http(80, "/")).kind), Some(200));
    assert_eq!(status(&i.respond(s(7) + ms(1), &http(80, "/")).kind), Some(500));
    assert_eq!(i.next_change_after(s(4)), Some(s(7)));
    assert_eq!(i.exit(), None);
}

#[test]
fn same_seed_same_run_other_restart_other_draws() {
    let b = parse_behaviour("startup: {uniform: {min: 1s, max: 60s}}\nlatency: {lognormal: {p50: 5ms, p99: 50ms}}")
        .unwrap();
    let run = |seed: u64, restart: u32| {
        let mut i = b.instance(seed, restart);
        let lat: Vec<Duration> = (0..50).map(|_| i.respond(s(100), &http(80, "/")).latency).collect();
        (i.startup(), lat)
    };
    assert_eq!(run(5, 0), run(5, 0));
    assert_ne!(run(5, 0).0, run(5, 1).0);
    assert_ne!(run(5, 0).1, run(6, 0).1);
    // A TCP probe draws nothing: replies after it are unchanged.
    let mut a = b.instance(5, 0);
    let mut c = b.instance(5, 0);
    let _ = a.respond(s(100), &Request::Tcp { port: 80 });
    assert_eq!(a.respond(s(100), &http(80, "/")).latency, c.respond(s(100), &http(80, "/")).latency);
}

#[test]
fn switching_live_starts_the_new_timeline_now() {
    let b = parse_behaviour("startup: 30s\nphases:\n- for: 2m\n- respond: 500\n").unwrap();
    let i = b.instance_from(1, 0, s(600));
    assert!(i.healthy_at(s(600)));
    assert!(i.healthy_at(s(719)));
    assert!(!i.healthy_at(s(720)));
}

#[test]
fn image_pulls_hooks_and_pod_conditions() {
    let b = parse_behaviour(
        "image: {pull: 3s, fail_first: 2}\npost_start: {duration: 1s, exit: 1}\npre_stop: {duration: 5s}\npod: {unschedulable: true, mount_error: true}",
    )
    .unwrap();
    match b.image_pull(1, 0, "nginx:1.27") {
        ImagePull::Failed { after, message } => {
            assert_eq!(after, s(3));
            assert!(message.contains("\"nginx:1.27\""), "{message}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b.image_pull(1, 2, "x"), ImagePull::Pulled { after: s(3) });
    let i = b.instance(1, 0);
    assert_eq!(i.post_start().map(|h| (h.duration, h.exit)), Some((s(1), 1)));
    assert_eq!(i.pre_stop().map(|h| h.duration), Some(s(5)));
    assert!(b.pod_conditions().unschedulable);
    assert!(b.pod_conditions().mount_error.is_some());
    let missing = parse_behaviour("image: {missing: 'manifest unknown'}").unwrap();
    assert_eq!(
        missing.image_pull(1, 1000, "x"),
        ImagePull::Failed {
            after: missing.image_pull(1, 1000, "x").after_for_test(),
            message: "manifest unknown".to_string()
        }
    );
}

trait AfterForTest {
    fn after_for_test(&self) -> Duration;
}
impl AfterForTest for ImagePull {
    fn after_for_test(&self) -> Duration {
        match self {
            ImagePull::Pulled { after } | ImagePull::Failed { after, .. } => *after,
        }
    }
}

#[test]
fn default_pull_is_about_two_seconds() {
    let b = parse_behaviour("").unwrap();
    for attempt in 0..100 {
        let ImagePull::Pulled { after } = b.image_pull(7, attempt, "x") else {
            panic!("default pulls succeed");
        };
        assert!(after >= ms(1500) && after <= ms(2500), "{after:?}");
    }
}

#[test]
fn errors_carry_field_paths_and_are_all_reported() {
    let err = parse_behaviour(
        r#"
startup: 30
latnecy: 5ms
phases:
  - respond: {status: 700}
  - for: 1m
    respond: sometimes
    latency: {lognormal: {p50: 100ms, p99: 50ms}}
    flap: {period: 0s}
  - respond: {exit: 1}
    for: 2s
sigterm: maybe
"#,
    )
    .unwrap_err();
    let text = err.to_string();
    for path in [
        "startup",
        "latnecy",
        "phases[0].respond.status",
        "phases[0].for",
        "phases[1].respond",
        "phases[1].latency.lognormal.p99",
        "phases[1].flap.period",
        "phases[2].for",
        "sigterm",
    ] {
        assert!(err.has_path(path), "missing {path} in:\n{text}");
    }
    assert!(text.contains("latnecy: Unknown field"), "{text}");
    assert!(text.contains("phases[0].respond.status: Invalid value: 700: must be between 100 and 599"), "{text}");
    assert!(text.contains("phases[1].respond: Unsupported value: \"sometimes\""), "{text}");
}

#[test]
fn yaml_syntax_error_is_reported() {
    let err = parse_behaviour("phases: [").unwrap_err();
    assert_eq!(err.errors.len(), 1);
    assert!(err.to_string().starts_with("<document>: Invalid YAML"));
}

#[test]
fn redirect_forms() {
    for (yaml, ok) in [
        ("respond: {redirect: loop}", true),
        ("respond: {redirect: {port: 8081}, status: 301, then: ok}", true),
        ("respond: {redirect: {host: example.com}}", true),
        ("respond: {redirect: {path: /elsewhere}}", true),
        ("respond: {redirect: {path: elsewhere}}", false),
        ("respond: {redirect: {}}", false),
        ("respond: {redirect: loop, status: 200}", false),
        ("respond: {redirect: loop, then: {redirect: loop}}", false),
    ] {
        assert_eq!(parse_behaviour(yaml).is_ok(), ok, "{yaml}");
    }
}

#[test]
fn file_rules_first_match_wins_and_default_applies() {
    let f = parse_behaviour_file(
        r#"
seed: 42
behaviours:
  slow: {startup: 30s}
rules:
  - pod: "web-?"
    container: app
    behaviour: slow
  - pod: "web-*"
    behaviour: {respond: 503}
actions:
  - {at: 5m, node: unschedulable}
  - {at: 2m, delete: "web-1", force: true}
  - {at: 3m, pod: "web-2", behaviour: slow}
"#,
    )
    .unwrap();
    assert_eq!(f.seed, 42);
    assert_eq!(f.behaviour_for("web-1", "app").instance(0, 0).startup(), s(30));
    let sidecar = f.behaviour_for("web-1", "sidecar");
    assert!(!sidecar.instance(0, 0).healthy_at(s(100)));
    assert!(f.rule_for("db-0", "app").is_none());
    assert!(f.behaviour_for("db-0", "app").instance(0, 0).healthy_at(s(2)));
    assert_ne!(f.seed_for("web-1", "app"), f.seed_for("web-2", "app"));
    // Sorted by time.
    let ats: Vec<u64> = f.actions.iter().map(|a| a.at.as_secs()).collect();
    assert_eq!(ats, vec![120, 180, 300]);
    assert!(matches!(&f.actions[0].kind, ActionKind::Delete { force: true, .. }));
    assert!(matches!(f.actions[2].kind, ActionKind::Node { schedulable: false }));
}

#[test]
fn bare_behaviour_file_applies_to_all() {
    let f = parse_behaviour_file("seed: 7\nstartup: 3s").unwrap();
    assert_eq!(f.seed, 7);
    assert_eq!(f.behaviour_for("any", "thing").instance(0, 0).startup(), s(3));
}

#[test]
fn file_errors_have_paths() {
    let err = parse_behaviour_file(
        r#"
rules:
  - pod: web
    behaviour: nosuch
  - behaviour: {startup: fast}
actions:
  - {at: 1m}
  - {at: 2m, node: sideways}
  - {delete: x}
"#,
    )
    .unwrap_err();
    for path in ["rules[0].behaviour", "rules[1].behaviour.startup", "actions[0]", "actions[1].node", "actions[2].at"] {
        assert!(err.has_path(path), "missing {path} in:\n{err}");
    }
}
