//! The admin endpoint over real HTTP, and the exec state directories with real
//! commands (`cat healthy`) run in them.

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::{addr, eventually, get, ip, pod};
use probebench_targets::server::{HEALTHY_FILE, exec_env, state_dir};
use serde_json::Value;
use tokio::net::TcpStream;

const F: u8 = 78;

async fn admin(a: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, Value) {
    let stream = TcpStream::connect(a).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let req = http::Request::builder()
        .method(method)
        .uri(path)
        .header(http::header::HOST, a.to_string())
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_string())))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    use http_body_util::BodyExt;
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn admin_endpoint_lists_stops_starts_replaces_and_streams_events() {
    let a = ip(F, 1, 1);
    let mut cfg =
        common::config("admin", vec![pod("web-0", a, &[8080], "startup: 0s\nsigterm: {after: 100ms, code: 0}")]);
    cfg.admin = Some("127.0.0.1:0".parse().unwrap());
    let t = probebench_targets::start(cfg).await.unwrap();
    let adm = t.admin_addr().unwrap();

    let (s, pods) = admin(adm, "GET", "/pods", "").await;
    assert_eq!(s, 200);
    assert_eq!(pods[0]["name"], "web-0");
    assert_eq!(pods[0]["ip"], a.to_string());
    let c = &pods[0]["containers"][0];
    assert_eq!((c["state"].as_str(), c["instance"].as_u64()), (Some("running"), Some(0)));
    assert_eq!(c["listening"], serde_json::json!([8080]));

    let (s, _) = admin(adm, "POST", "/pods/web-0/containers/app/start", "").await;
    assert_eq!(s, 409, "start while running is a conflict");
    let (s, _) = admin(adm, "GET", "/pods/nope", "").await;
    assert_eq!(s, 404);

    let (_, first) = admin(adm, "GET", "/events?after=0", "").await;
    let after = first["next"].as_u64().unwrap();
    let (s, st) = admin(adm, "POST", "/pods/web-0/containers/app/stop", r#"{"grace_s": 30}"#).await;
    assert_eq!((s, st["state"].as_str()), (200, Some("stopping")));
    // Long-poll until the exit shows up.
    let mut after = after;
    let mut exit = None;
    for _ in 0..20 {
        let (_, batch) = admin(adm, "GET", &format!("/events?after={after}&wait=10s"), "").await;
        after = batch["next"].as_u64().unwrap();
        if let Some(e) = batch["events"].as_array().unwrap().iter().find(|e| e["kind"] == "exited") {
            exit = Some(e.clone());
            break;
        }
    }
    let exit = exit.expect("an exit event");
    assert_eq!((exit["exit_code"].as_i64(), exit["reason"].as_str()), (Some(0), Some("sigterm")));
    assert_eq!(exit["pod"], "web-0");
    assert!(TcpStream::connect(addr(a, 8080)).await.is_err());

    let (s, st) = admin(adm, "POST", "/pods/web-0/containers/app/start", "").await;
    assert_eq!((s, st["instance"].as_u64(), st["restarts"].as_u64()), (200, Some(1), Some(1)));
    assert!(
        eventually(Duration::from_secs(20), || async {
            matches!(get(addr(a, 8080), "/").await, Ok(r) if r.status == 200)
        })
        .await
    );

    let (s, err) = admin(adm, "PUT", "/pods/web-0/containers/app/behaviour", "respond: 999\nlatncy: 1s").await;
    assert_eq!(s, 400);
    let fe: Vec<String> = serde_json::from_value(err["field_errors"].clone()).unwrap();
    assert!(fe.iter().any(|e| e.starts_with("respond: Invalid value: 999")), "{fe:?}");
    assert!(fe.iter().any(|e| e.starts_with("latncy: Unknown field")), "{fe:?}");
    let (s, _) = admin(adm, "PUT", "/pods/web-0/containers/app/behaviour", "respond: 503").await;
    assert_eq!(s, 200);
    assert_eq!(get(addr(a, 8080), "/").await.unwrap().status, 503);
    let (_, c) = admin(adm, "GET", "/pods/web-0/containers/app", "").await;
    assert_eq!(c["healthy"], false);

    let (s, stats) = admin(adm, "GET", "/stats", "").await;
    assert_eq!((s, stats["pods"].as_u64()), (200, Some(1)));
    t.shutdown().await;
}

/// Runs `argv` in the container's state directory with the exec environment, as the
/// exec mechanism does; None if still running after `limit`.
async fn exec_in(
    dir: &std::path::Path,
    env: &[(String, String); 3],
    argv: &[&str],
    limit: Duration,
) -> Option<(i32, String)> {
    let mut cmd = tokio::process::Command::new(argv[0]);
    cmd.args(&argv[1..]).current_dir(dir).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(out) => {
            let out = out.unwrap();
            Some((out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned()))
        }
        Err(_) => None,
    }
}

#[tokio::test]
async fn state_directory_follows_the_behaviour() {
    let (a, b) = (ip(F, 2, 1), ip(F, 2, 2));
    let cfg = common::config(
        "statedir",
        vec![
            pod("flappy", a, &[8080], "startup: 0s\nflap: {period: 600ms}"),
            pod("hung", b, &[8080], "startup: 0s\nrespond: hang"),
        ],
    );
    let root = cfg.state_root.clone();
    let t = probebench_targets::start(cfg).await.unwrap();
    assert_eq!(t.state_root(), root.as_path());
    let dir = state_dir(&root, "flappy", "app");
    let env = exec_env("flappy", "app", a);

    // `cat healthy` passes while healthy and fails while not; both are seen.
    let limit = Duration::from_secs(10);
    let (mut pass, mut fail) = (false, false);
    for _ in 0..500 {
        match exec_in(&dir, &env, &["cat", HEALTHY_FILE], limit).await {
            Some((0, out)) => {
                assert_eq!(out, "ok\n");
                pass = true
            }
            Some((_, _)) => fail = true,
            None => panic!("cat hung on a flapping container"),
        }
        if pass && fail {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(pass && fail, "pass {pass} fail {fail}");
    // The environment names the pod.
    let (code, out) =
        exec_in(&dir, &env, &["sh", "-c", "echo $PROBEBENCH_POD $PROBEBENCH_CONTAINER $PROBEBENCH_POD_IP"], limit)
            .await
            .unwrap();
    assert_eq!((code, out.trim()), (0, format!("flappy app {a}").as_str()));
    // `exit $(cat exit-code)` gives the behaviour's code.
    let (code, _) = exec_in(&dir, &env, &["sh", "-c", "exit $(cat exit-code)"], limit).await.unwrap();
    assert!(code == 0 || code == 1, "{code}");

    // A hanging behaviour makes reads block: the exec probe times out.
    let hung = state_dir(&root, "hung", "app");
    let r = exec_in(&hung, &exec_env("hung", "app", b), &["cat", HEALTHY_FILE], Duration::from_millis(500)).await;
    assert!(r.is_none(), "cat on a hung container returned {r:?}");

    // Stopped: not healthy.
    t.control().stop("flappy", "app", Duration::ZERO).unwrap();
    assert!(
        eventually(limit, || async { !dir.join(HEALTHY_FILE).exists() }).await,
        "healthy file outlived the container"
    );
    t.shutdown().await;
    assert!(!root.exists(), "state directories are removed at shutdown");
}
