//! The foundation commands end to end, through the real binary: validate, show, explain,
//! completions, and the exit-code contract.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn probebench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_probebench"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("run probebench")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn validate_accepts_the_walkthrough_pods() {
    let o = probebench(&[
        "validate",
        "targets/pods/myweb-liveness-err.yaml",
        "targets/pods/myweb-startup-error.yaml",
        "targets/pods/myweb-startup.yaml",
    ]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(
        stdout(&o),
        "targets/pods/myweb-liveness-err.yaml: OK (1 container, 1 probe)\n\
         targets/pods/myweb-startup-error.yaml: OK (1 container, 2 probes)\n\
         targets/pods/myweb-startup.yaml: OK (1 container, 2 probes)\n"
    );
}

#[test]
fn validate_exits_2_if_any_file_is_invalid_and_reports_each() {
    let o = probebench(&["validate", "targets/pods/myweb-startup.yaml", "tests/bad-inputs/port-zero.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let out = stdout(&o);
    assert!(out.starts_with("targets/pods/myweb-startup.yaml: OK"), "{out}");
    assert!(out.contains("tests/bad-inputs/port-zero.yaml: The Pod \"web\" is invalid:"), "{out}");
}

#[test]
fn validate_reads_stdin_and_prints_json() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_probebench"))
        .args(["validate", "-", "--output", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let manifest =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/targets/pods/myweb-startup-error.yaml")).unwrap();
    child.stdin.take().unwrap().write_all(&manifest).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["file"], "<stdin>");
    assert_eq!(v[0]["valid"], true);
    assert_eq!(v[0]["probes"], 2);
}

#[test]
fn show_prints_the_defaulted_probes() {
    let o = probebench(&["show", "targets/pods/myweb-startup-error.yaml"]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("POD"));
    let startup: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        startup,
        ["myweb-startup", "1", "myweb", "startup", "exec", "[\"ls", "/tmp/abc\"]", "10s", "1s", "1", "3", "0s"]
    );
    let liveness: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(
        liveness,
        ["myweb-startup", "1", "myweb", "liveness", "httpGet", "http://<pod-ip>:80/", "10s", "1s", "1", "3", "0s"]
    );
}

#[test]
fn show_json_has_api_field_names_after_defaulting() {
    let o = probebench(&["show", "--output", "json", "targets/pods/myweb-liveness-err.yaml"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let probe = &v[0]["spec"]["containers"][0]["livenessProbe"];
    assert_eq!(probe["periodSeconds"], 10);
    assert_eq!(probe["timeoutSeconds"], 1);
    assert_eq!(probe["successThreshold"], 1);
    assert_eq!(probe["failureThreshold"], 3);
    assert_eq!(probe["httpGet"]["port"], 8080);
    assert_eq!(probe["httpGet"]["scheme"], "HTTP");
    assert_eq!(v[0]["spec"]["restartPolicy"], "Always");
    assert_eq!(v[0]["spec"]["containers"][0]["imagePullPolicy"], "Always");
}

#[test]
fn show_on_an_invalid_file_exits_2_with_the_errors_on_stderr() {
    let o = probebench(&["show", "tests/bad-inputs/typo-field.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("did you mean \"timeoutSeconds\"?"), "{err}");
}

#[test]
fn explain_answers_for_every_probe_field_with_default_and_minimum() {
    let integers = [
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
        "terminationGracePeriodSeconds",
    ];
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        for field in integers {
            let path = format!("pods.spec.containers.{probe}.{field}");
            let o = probebench(&["explain", &path]);
            assert_eq!(o.status.code(), Some(0), "{path}");
            let out = stdout(&o);
            assert!(out.starts_with("KIND:       Pod\nVERSION:    v1\n\nFIELD: "), "{out}");
            assert!(out.contains(&format!("FIELD: {field} <integer>")), "{out}");
            assert!(out.contains("\nDEFAULT:    "), "{path}: {out}");
            assert!(out.contains("\nMINIMUM:    "), "{path}: {out}");
        }
        for handler in [
            "exec.command",
            "httpGet.path",
            "httpGet.port",
            "httpGet.host",
            "httpGet.scheme",
            "httpGet.httpHeaders.name",
            "tcpSocket.port",
            "tcpSocket.host",
            "grpc.port",
            "grpc.service",
        ] {
            let path = format!("pods.spec.containers.{probe}.{handler}");
            let o = probebench(&["explain", &path]);
            assert_eq!(o.status.code(), Some(0), "{path}");
        }
    }
    let o = probebench(&["explain", "pods.spec.containers.livenessProbe.periodSeconds"]);
    let out = stdout(&o);
    assert!(out.contains("DEFAULT:    10\n"), "{out}");
    assert!(out.contains("MINIMUM:    1 "), "{out}");
}

#[test]
fn explain_lists_fields_alphabetically() {
    let o = probebench(&["explain", "pods.spec.containers.livenessProbe"]);
    let out = stdout(&o);
    let fields: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("  ") && !l.starts_with("   ") && l.contains('\t'))
        .map(|l| l.trim().split('\t').next().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "exec",
            "failureThreshold",
            "grpc",
            "httpGet",
            "initialDelaySeconds",
            "periodSeconds",
            "successThreshold",
            "tcpSocket",
            "terminationGracePeriodSeconds",
            "timeoutSeconds"
        ]
    );
}

#[test]
fn explain_unknown_field_exits_2_with_the_nearest_names() {
    let o = probebench(&["explain", "pods.spec.containers.livenessProbe.periodSecond"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("did you mean \"periodSeconds\"?"), "{err}");
    let o = probebench(&["explain", "services.spec"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn completions_for_each_shell() {
    for shell in ["bash", "zsh", "fish"] {
        let o = probebench(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("validate"), "{shell}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = probebench(&["validate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = probebench(&["no-such-command"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn help_has_examples() {
    for cmd in ["validate", "show", "explain", "completions"] {
        let o = probebench(&[cmd, "--help"]);
        assert_eq!(o.status.code(), Some(0));
        assert!(stdout(&o).contains("Examples:"), "{cmd} --help has no examples");
    }
}
