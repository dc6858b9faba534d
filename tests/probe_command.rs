//! `probebench probe` end to end: the binary against in-process loopback targets.

#[path = "probe_common/mod.rs"]
mod probe_common;

use std::process::Output;

use probe_common::*;

/// Runs the binary off the async runtime (the targets keep serving meanwhile).
async fn probebench(args: &[&str]) -> Output {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_probebench")).arg("probe").args(&args).output().unwrap()
    })
    .await
    .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_exec_startup_probe_is_errored() {
    let out = probebench(&["--type", "startup", "--exec", "--", "ls /tmp/abc"]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("Result:   unknown (errored"), "{text}");
    assert!(
        text.contains(
            r#"Warning  Unhealthy  Startup probe errored and resulted in unknown state: exec: "ls /tmp/abc": stat ls /tmp/abc: no such file or directory"#
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_walkthrough_http_probe_to_an_unserved_port_is_refused() {
    let addr = unused_addr().await;
    let url = format!("http://{addr}/");
    let out = probebench(&["--http-get", &url]).await;
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let event = text.lines().find(|l| l.starts_with("Event:")).unwrap();
    assert!(event.contains("Warning  Unhealthy  Liveness probe failed: Get \""), "{event}");
    assert!(event.ends_with("connect: connection refused"), "{event}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn success_and_warning_exit_zero_failure_exits_one() {
    let server = http_server().await;
    let ok = probebench(&["--http-get", &format!("http://{}/ok", server.addr)]).await;
    assert_eq!(ok.status.code(), Some(0), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("Event:    none"));
    let warn =
        probebench(&["--http-get", &format!("http://{}/to-other-host", server.addr), "--type", "readiness"]).await;
    assert_eq!(warn.status.code(), Some(0));
    assert!(stdout(&warn).contains(
        "Warning  ProbeWarning  Readiness probe warning: Probe terminated redirects, Response body: moved away"
    ));
    let fail = probebench(&["--http-get", &format!("http://{}/status/500", server.addr)]).await;
    assert_eq!(fail.status.code(), Some(1));
    assert!(
        stdout(&fail).contains("Warning  Unhealthy  Liveness probe failed: HTTP probe failed with statuscode: 500")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_carries_result_event_and_timings() {
    let server = http_server().await;
    let out = probebench(&[
        "--http-get",
        &format!("http://{}/status/503", server.addr),
        "--client",
        "reqwest",
        "--output",
        "json",
    ])
    .await;
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["result"], "failure");
    assert_eq!(doc["errored"], false);
    assert_eq!(doc["output"], "HTTP probe failed with statuscode: 503");
    assert_eq!(doc["event"]["type"], "Warning");
    assert_eq!(doc["event"]["reason"], "Unhealthy");
    assert!(doc["timings_us"]["total"].as_u64().is_some());
    let ok = probebench(&["--tcp", &server.addr.to_string(), "--output", "json"]).await;
    let doc: serde_json::Value = serde_json::from_slice(&ok.stdout).unwrap();
    assert_eq!((doc["result"].as_str(), doc["event"].is_null()), (Some("success"), true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probe_file_with_a_named_port() {
    let server = http_server().await;
    let file = std::env::temp_dir().join(format!("probebench-probe-{}.yaml", std::process::id()));
    std::fs::write(&file, "httpGet:\n  path: /status/404\n  port: web\ntimeoutSeconds: 2\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    let port_flag = format!("web={}", server.port());
    let named = probebench(&["-f", &path, "--port", &port_flag]).await;
    assert!(stdout(&named).contains("HTTP probe failed with statuscode: 404"), "{}", stdout(&named));
    // Without the declaration the name cannot be resolved: errored, as in the kubelet.
    let unnamed = probebench(&["-f", &path]).await;
    assert_eq!(unnamed.status.code(), Some(1));
    assert!(
        stdout(&unnamed)
            .contains(r#"errored and resulted in unknown state: strconv.Atoi: parsing "web": invalid syntax"#)
    );
    std::fs::remove_file(&file).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_and_exec_from_the_command_line() {
    let server = grpc_server(GrpcMode::Status(2)).await;
    let out = probebench(&["--grpc", &server.addr.to_string()]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains(r#"Liveness probe failed: service unhealthy (responded with "NOT_SERVING")"#));
    let exec = probebench(&["--env", "WORD=hello", "--exec", "--", "echo", "$(WORD)"]).await;
    assert_eq!(exec.status.code(), Some(0));
    assert!(stdout(&exec).contains("Output:   hello"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_exits_two() {
    for args in [
        vec!["--tcp", "nonsense"],
        vec!["--http-get", "ftp://127.0.0.1/"],
        vec!["--http-get", "http://192.0.2.1/"],
        vec!["--tcp", "127.0.0.1:80", "--timeout", "soon"],
        vec!["-f", "/nonexistent/probe.yaml"],
        vec![],
    ] {
        let out = probebench(&args).await;
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
