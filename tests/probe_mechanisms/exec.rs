//! exec: argv without a shell, static `$(VAR)` expansion, stdout then stderr capped at
//! 10 KiB, exit code mapping, timeouts that kill the whole process group, commands that
//! cannot start.

use std::time::Duration;

use probebench::probe::{Mechanism, PodContext, ProbeOptions, ProbeResult, Prober};

use crate::probe_common::*;

fn exec(command: &[&str]) -> probebench::probe::ResolvedProbe {
    resolve(exec_handler(command), &container(), &ProbeOptions::default())
}

#[tokio::test]
async fn exit_zero_is_success_with_stdout_then_stderr() {
    let prober = Prober::new().unwrap();
    // stderr is written first, but the kubelet appends stderr after stdout.
    let out = run(&prober, &exec(&["sh", "-c", "echo err >&2; echo out"])).await;
    assert_eq!(out.result, ProbeResult::Success);
    assert!(!out.errored);
    assert_eq!(out.output, "out\nerr\n");
    assert!(out.timings.spawn_us.is_some() && out.timings.exit_us.is_some());
    assert!(out.timings.spawn_us <= out.timings.exit_us);
}

#[tokio::test]
async fn non_zero_exit_is_failure_with_the_output() {
    let prober = Prober::new().unwrap();
    let out = run(&prober, &exec(&["sh", "-c", "echo broken; exit 3"])).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
    assert_eq!(out.output, "broken\n");
    assert_eq!(out.attempts, 1, "a plain failure is not retried");
}

#[tokio::test]
async fn output_is_capped_at_10_kib_stdout_first() {
    let prober = Prober::new().unwrap();
    let out = run(
        &prober,
        &exec(&["sh", "-c", "head -c 8000 /dev/zero | tr '\\0' e >&2; head -c 8000 /dev/zero | tr '\\0' o"]),
    )
    .await;
    assert_eq!(out.result, ProbeResult::Success);
    assert_eq!(out.output.len(), 10 * 1024);
    assert!(out.output[..8000].bytes().all(|b| b == b'o'));
    assert!(out.output[8000..].bytes().all(|b| b == b'e'));
    // A command writing far more than the cap is drained, not blocked.
    let big = run(&prober, &exec(&["sh", "-c", "head -c 1000000 /dev/zero"])).await;
    assert_eq!((big.result, big.output.len()), (ProbeResult::Success, 10 * 1024));
}

#[tokio::test]
async fn argv_is_never_given_to_a_shell() {
    let prober = Prober::new().unwrap();
    let out = run(&prober, &exec(&["echo", "$HOME", "a;b", "*", "`id`"])).await;
    assert_eq!(out.output, "$HOME a;b * `id`\n");
}

#[tokio::test]
async fn only_static_container_env_is_expanded() {
    let prober = Prober::new().unwrap();
    let c = with_env(with_env(container(), "FILE", Some("/tmp/x")), "SECRET", None);
    let resolved =
        resolve(exec_handler(&["echo", "$(FILE)", "[$(SECRET)]", "$(HOME)", "$$(FILE)"]), &c, &ProbeOptions::default());
    let out = run(&prober, &resolved).await;
    // HOME is in the process environment, not the container's env list: kept as written.
    assert_eq!(out.output, "/tmp/x [] $(HOME) $(FILE)\n");
}

#[tokio::test]
async fn runs_in_the_state_dir_with_probebench_variables() {
    let dir = std::env::temp_dir().join(format!("probebench-exec-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pod = PodContext { state_dir: Some(dir.clone()), ..pod() };
    let prober = Prober::new().unwrap();
    let resolve_here = |command: &[&str]| {
        probebench::probe::resolve(&probe(exec_handler(command), 1), &container(), &pod, &ProbeOptions::default())
            .unwrap()
    };
    let missing = run(&prober, &resolve_here(&["cat", "healthy"])).await;
    assert_eq!(missing.result, ProbeResult::Failure);
    assert!(missing.output.contains("healthy"), "{}", missing.output);
    std::fs::write(dir.join("healthy"), "yes").unwrap();
    let present = run(&prober, &resolve_here(&["cat", "healthy"])).await;
    assert_eq!((present.result, present.output.as_str()), (ProbeResult::Success, "yes"));
    let vars =
        run(&prober, &resolve_here(&["sh", "-c", "echo $PROBEBENCH_POD $PROBEBENCH_CONTAINER $PROBEBENCH_POD_IP"]))
            .await;
    assert_eq!(vars.output, "web-0 app 127.0.0.1\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn timeout_is_a_failure_and_kills_the_process_group() {
    let prober = Prober::new().unwrap();
    let pidfile = std::env::temp_dir().join(format!("probebench-grandchild-{}", std::process::id()));
    let script = format!("sleep 30 & echo $! > {}; wait", pidfile.display());
    let resolved = exec(&["sh", "-c", &script]);
    let Mechanism::Exec(_) = &resolved.mechanism else { panic!("not exec") };
    // Long enough for the shell to start its child and write the pid, even under load.
    let out = run_once(&prober, &resolved.mechanism, Duration::from_secs(2)).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Failure, false));
    // The 1.35 kubelet's cri-client wording.
    assert_eq!(
        out.output,
        format!(
            "command timed out: {} timed out after 2s",
            probebench::probe::gotext::quote(&format!("sh -c {script}"))
        )
    );
    assert!(out.timings.total_us >= 2_000_000);
    // The grandchild (`sleep 30`, in the command's process group) was killed too: it is
    // gone or a zombie waiting for init, never still sleeping.
    let pid: u32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    let _ = std::fs::remove_file(&pidfile);
    let mut state = String::new();
    for _ in 0..50 {
        state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if state.is_empty() || state.contains(") Z") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(state.is_empty() || state.contains(") Z"), "grandchild still alive: {state}");
    assert!(child_processes().iter().all(|(p, _)| *p != pid));
}

#[tokio::test]
async fn timeout_text_quotes_like_go() {
    let prober = Prober::new().unwrap();
    let resolved = exec(&["sh", "-c", "sleep \"5\""]);
    let out = run_once(&prober, &resolved.mechanism, Duration::from_millis(200)).await;
    assert_eq!(out.output, r#"command timed out: "sh -c sleep \"5\"" timed out after 200ms"#);
    // Kubelets before 1.31 said it without the duration.
    let argv = ["sh", "-c", "sleep \"5\""].map(String::from);
    assert_eq!(
        probebench::probe::exec::timeout_text(false, &argv, Duration::from_millis(200)),
        r#"command "sh -c sleep \"5\"" timed out"#
    );
}

#[tokio::test]
async fn a_command_that_cannot_start_is_errored_and_retried() {
    let prober = Prober::new().unwrap();
    // The walkthrough's startup probe: one argv element with a space.
    let out = run(&prober, &exec(&["ls /tmp/abc"])).await;
    assert_eq!((out.result, out.errored), (ProbeResult::Unknown, true));
    assert_eq!(out.output, r#"exec: "ls /tmp/abc": stat ls /tmp/abc: no such file or directory"#);
    assert_eq!(out.attempts, 3, "maxProbeRetries");
    let out = run(&prober, &exec(&["no-such-command-anywhere"])).await;
    assert!(out.errored);
    assert_eq!(out.output, r#"exec: "no-such-command-anywhere": executable file not found in $PATH"#);
}
