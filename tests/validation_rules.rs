//! Every defaulting and validation rule of kubelet-semantics.md §1 (and the container rules
//! around them), checked against the API server's exact messages and order.

use probebench::spec::{self, IntOrString, LoadError};

/// A Pod with one container `c` whose YAML body (indented under the container) is `body`.
fn pod(body: &str) -> String {
    let mut y = String::from(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n",
    );
    for line in body.lines() {
        y.push_str("    ");
        y.push_str(line);
        y.push('\n');
    }
    y
}

fn errors(yaml: &str) -> Vec<String> {
    match spec::load_str("f.yaml", yaml) {
        Ok(l) => panic!("expected errors, got {:?}", l.pods),
        Err(errs) => errs
            .iter()
            .flat_map(|e| match e {
                LoadError::Invalid { errors, .. } => errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                other => vec![other.to_string()],
            })
            .collect(),
    }
}

fn loads(yaml: &str) -> spec::Pod {
    match spec::load_str("f.yaml", yaml) {
        Ok(mut l) => l.pods.remove(0),
        Err(e) => panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")),
    }
}

#[test]
fn omitted_and_zero_fields_get_the_defaults() {
    for body in [
        "livenessProbe:\n  httpGet:\n    port: 80\n",
        "livenessProbe:\n  httpGet:\n    port: 80\n  timeoutSeconds: 0\n  periodSeconds: 0\n  successThreshold: 0\n  failureThreshold: 0\n",
    ] {
        let p = loads(&pod(body));
        let probe = p.spec.containers[0].liveness_probe.as_ref().unwrap();
        assert_eq!((probe.initial_delay_seconds, probe.timeout_seconds, probe.period_seconds), (0, 1, 10));
        assert_eq!((probe.success_threshold, probe.failure_threshold), (1, 3));
        let h = probe.handler.http_get.as_ref().unwrap();
        assert_eq!((h.path.as_str(), h.scheme.as_str()), ("/", "HTTP"));
        assert_eq!(p.spec.restart_policy, "Always");
        assert_eq!(p.spec.termination_grace_period_seconds, Some(30));
        assert_eq!(p.spec.containers[0].image_pull_policy, "IfNotPresent");
    }
}

#[test]
fn image_pull_policy_defaults_follow_the_tag() {
    let y = pod("livenessProbe:\n  tcpSocket:\n    port: 80\n").replace("nginx:1.27", "httpd");
    assert_eq!(loads(&y).spec.containers[0].image_pull_policy, "Always");
}

#[test]
fn negative_fields_must_be_non_negative() {
    for field in ["initialDelaySeconds", "timeoutSeconds", "periodSeconds", "failureThreshold"] {
        let y = pod(&format!("readinessProbe:\n  tcpSocket:\n    port: 80\n  {field}: -1\n"));
        assert_eq!(
            errors(&y),
            [format!(
                "spec.containers[0].readinessProbe.{field}: Invalid value: -1: must be greater than or equal to 0"
            )]
        );
    }
}

#[test]
fn liveness_and_startup_success_threshold_must_be_1() {
    for probe in ["livenessProbe", "startupProbe"] {
        let y = pod(&format!("{probe}:\n  tcpSocket:\n    port: 80\n  successThreshold: 2\n"));
        assert_eq!(errors(&y), [format!("spec.containers[0].{probe}.successThreshold: Invalid value: 2: must be 1")]);
    }
    // Readiness may require several successes.
    let y = pod("readinessProbe:\n  tcpSocket:\n    port: 80\n  successThreshold: 2\n");
    assert_eq!(loads(&y).spec.containers[0].readiness_probe.as_ref().unwrap().success_threshold, 2);
}

#[test]
fn a_negative_liveness_success_threshold_gets_both_errors() {
    let y = pod("livenessProbe:\n  tcpSocket:\n    port: 80\n  successThreshold: -1\n");
    assert_eq!(
        errors(&y),
        [
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: -1: must be greater than or equal to 0",
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: -1: must be 1",
        ]
    );
}

#[test]
fn timeout_longer_than_period_is_accepted() {
    let y = pod("livenessProbe:\n  tcpSocket:\n    port: 80\n  timeoutSeconds: 30\n  periodSeconds: 5\n");
    assert_eq!(loads(&y).spec.containers[0].liveness_probe.as_ref().unwrap().timeout_seconds, 30);
}

#[test]
fn probe_level_grace_period_rules() {
    let y = pod("readinessProbe:\n  tcpSocket:\n    port: 80\n  terminationGracePeriodSeconds: 10\n");
    assert_eq!(
        errors(&y),
        [
            "spec.containers[0].readinessProbe.terminationGracePeriodSeconds: Invalid value: 10: must not be set for readinessProbes"
        ]
    );
    let y = pod("livenessProbe:\n  tcpSocket:\n    port: 80\n  terminationGracePeriodSeconds: 0\n");
    assert_eq!(
        errors(&y),
        ["spec.containers[0].livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than 0"]
    );
    // Readiness with 0 breaks both rules.
    let y = pod("readinessProbe:\n  tcpSocket:\n    port: 80\n  terminationGracePeriodSeconds: 0\n");
    assert_eq!(errors(&y).len(), 2);
    let y = pod("startupProbe:\n  tcpSocket:\n    port: 80\n  terminationGracePeriodSeconds: 5\n");
    assert_eq!(loads(&y).spec.containers[0].startup_probe.as_ref().unwrap().termination_grace_period_seconds, Some(5));
}

#[test]
fn exactly_one_handler() {
    let y =
        pod("livenessProbe:\n  exec:\n    command: [\"true\"]\n  httpGet:\n    port: 80\n  grpc:\n    port: 9000\n");
    assert_eq!(
        errors(&y),
        [
            "spec.containers[0].livenessProbe.httpGet: Forbidden: may not specify more than 1 handler type",
            "spec.containers[0].livenessProbe.grpc: Forbidden: may not specify more than 1 handler type",
        ]
    );
    let y = pod("livenessProbe:\n  periodSeconds: 5\n");
    assert_eq!(errors(&y), ["spec.containers[0].livenessProbe: Required value: must specify a handler type"]);
}

#[test]
fn only_the_first_handler_is_validated() {
    let y = pod("livenessProbe:\n  exec:\n    command: []\n  tcpSocket:\n    port: 0\n");
    assert_eq!(
        errors(&y),
        [
            "spec.containers[0].livenessProbe.exec.command: Required value",
            "spec.containers[0].livenessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
        ]
    );
}

#[test]
fn http_get_scheme_and_headers() {
    let y = pod("livenessProbe:\n  httpGet:\n    port: 80\n    scheme: FTP\n");
    assert_eq!(
        errors(&y),
        [
            r#"spec.containers[0].livenessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS""#
        ]
    );
    // Lower case is not accepted either.
    let y = pod("livenessProbe:\n  httpGet:\n    port: 80\n    scheme: https\n");
    assert_eq!(errors(&y).len(), 1);
    let y = pod("livenessProbe:\n  httpGet:\n    port: 80\n    httpHeaders:\n    - name: \"X Bad\"\n      value: v\n");
    assert_eq!(
        errors(&y),
        [
            r#"spec.containers[0].livenessProbe.httpGet.httpHeaders: Invalid value: "X Bad": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"#
        ]
    );
}

#[test]
fn port_numbers() {
    for (port, ok) in [(0, false), (1, true), (65535, true), (65536, false), (-1, false)] {
        let y = pod(&format!("livenessProbe:\n  httpGet:\n    port: {port}\n"));
        if ok {
            loads(&y);
        } else {
            assert_eq!(
                errors(&y),
                [format!(
                    "spec.containers[0].livenessProbe.httpGet.port: Invalid value: {port}: must be between 1 and 65535, inclusive"
                )]
            );
        }
    }
    let y = pod("readinessProbe:\n  grpc:\n    port: 70000\n");
    assert_eq!(
        errors(&y),
        ["spec.containers[0].readinessProbe.grpc.port: Invalid value: 70000: must be between 1 and 65535, inclusive"]
    );
}

#[test]
fn port_names_follow_iana_svc_name() {
    let cases: &[(&str, &[&str])] = &[
        ("http", &[]),
        ("web-80", &[]),
        ("this-name-is-too-long", &["must be no more than 15 characters"]),
        (
            "HTTP",
            &[
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)",
            ],
        ),
        ("8080", &["must contain at least one letter (a-z)"]),
        ("a--b", &["must not contain consecutive hyphens"]),
        ("-web", &["must not begin or end with a hyphen"]),
    ];
    for (name, want) in cases {
        let y = pod(&format!("livenessProbe:\n  tcpSocket:\n    port: \"{name}\"\n"));
        if want.is_empty() {
            let p = loads(&y);
            let port = &p.spec.containers[0].liveness_probe.as_ref().unwrap().handler.tcp_socket.as_ref().unwrap().port;
            assert_eq!(port, &IntOrString::String(name.to_string()));
        } else {
            let expected: Vec<String> = want
                .iter()
                .map(|m| format!("spec.containers[0].livenessProbe.tcpSocket.port: Invalid value: \"{name}\": {m}"))
                .collect();
            assert_eq!(errors(&y), expected, "{name}");
        }
    }
}

#[test]
fn container_ports() {
    let y = pod(
        "ports:\n- name: http\n  containerPort: 80\n- name: http\n  containerPort: 81\n- containerPort: 82\n  protocol: tcp\n",
    );
    assert_eq!(
        errors(&y),
        [
            r#"spec.containers[0].ports[1].name: Duplicate value: "http""#,
            r#"spec.containers[0].ports[2].protocol: Unsupported value: "tcp": supported values: "SCTP", "TCP", "UDP""#,
        ]
    );
    let y = pod("ports:\n- name: http\n");
    assert_eq!(errors(&y), ["spec.containers[0].ports[0].containerPort: Required value"]);
}

#[test]
fn pod_restart_policy() {
    let y = pod("livenessProbe:\n  tcpSocket:\n    port: 80\n").replace("spec:\n", "spec:\n  restartPolicy: always\n");
    assert_eq!(
        errors(&y),
        [r#"spec.restartPolicy: Unsupported value: "always": supported values: "Always", "OnFailure", "Never""#]
    );
}

#[test]
fn container_names() {
    let y = pod("").replace("name: c", "name: My_Container");
    assert_eq!(
        errors(&y),
        [
            r#"spec.containers[0].name: Invalid value: "My_Container": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#
        ]
    );
    let y = pod("").replace("name: c", "name: my.app");
    assert_eq!(errors(&y), [r#"spec.containers[0].name: Invalid value: "my.app": must not contain dots"#]);
    let y = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a, image: x}\n  - {name: a, image: y}\n";
    assert_eq!(errors(y), [r#"spec.containers[1].name: Duplicate value: "a""#]);
    let y = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: a}\n";
    assert_eq!(errors(y), ["spec.containers[0].image: Required value"]);
    let y = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n";
    assert_eq!(errors(y), ["spec.containers: Required value"]);
}

#[test]
fn init_containers_and_sidecars() {
    let base = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - {name: app, image: x}\n  initContainers:\n";
    let y = format!(
        "{base}  - name: setup\n    image: busybox\n    livenessProbe:\n      tcpSocket: {{port: 80}}\n    startupProbe:\n      tcpSocket: {{port: 80}}\n"
    );
    assert_eq!(
        errors(&y),
        [
            "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].startupProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
        ]
    );
    // A sidecar (restartPolicy: Always) may have probes, and they are validated.
    let y = format!(
        "{base}  - name: proxy\n    image: envoy\n    restartPolicy: Always\n    readinessProbe:\n      tcpSocket: {{port: 0}}\n"
    );
    assert_eq!(
        errors(&y),
        [
            "spec.initContainers[0].readinessProbe.tcpSocket.port: Invalid value: 0: must be between 1 and 65535, inclusive"
        ]
    );
    let y = format!("{base}  - name: app\n    image: busybox\n    restartPolicy: OnFailure\n");
    assert_eq!(
        errors(&y),
        [
            r#"spec.initContainers[0].restartPolicy: Unsupported value: "OnFailure": supported values: "Always""#,
            r#"spec.initContainers[0].name: Duplicate value: "app""#,
        ]
    );
    let y = pod("restartPolicy: Always\n");
    assert_eq!(errors(&y), ["spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"]);
}

#[test]
fn lifecycle_hooks_are_handlers_too() {
    let y = pod("lifecycle:\n  preStop:\n    sleep:\n      seconds: 40\n  postStart: {}\n");
    assert_eq!(
        errors(&y),
        [
            "spec.containers[0].lifecycle.postStart: Required value: must specify a handler type",
            "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 40: must be non-negative and less than terminationGracePeriodSeconds (30)",
        ]
    );
}

#[test]
fn workload_templates_must_restart_and_jobs_must_not() {
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - {name: c, image: x}\n";
    assert_eq!(
        errors(deploy),
        [r#"spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always""#]
    );
    let job = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec:\n  template:\n    spec:\n      containers:\n      - {name: c, image: x}\n";
    assert_eq!(
        errors(job),
        [r#"spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never""#]
    );
    let cron = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: cj}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      parallelism: 2\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n          - name: c\n            image: x\n            livenessProbe:\n              exec: {command: []}\n";
    assert_eq!(
        errors(cron),
        ["spec.jobTemplate.spec.template.spec.containers[0].livenessProbe.exec.command: Required value"]
    );
}

#[test]
fn every_workload_kind_loads_with_its_replicas() {
    let template = "  template:\n    metadata: {labels: {app: a}}\n    spec:\n      RP\n      containers:\n      - name: c\n        image: x:1\n        readinessProbe: {tcpSocket: {port: 80}}\n";
    for (kind, api, extra, replicas, rp) in [
        ("Deployment", "apps/v1", "  replicas: 4\n  selector: {matchLabels: {app: a}}\n", 4, ""),
        ("StatefulSet", "apps/v1", "  replicas: 3\n  serviceName: s\n  selector: {matchLabels: {app: a}}\n", 3, ""),
        ("ReplicaSet", "apps/v1", "  replicas: 2\n  selector: {matchLabels: {app: a}}\n", 2, ""),
        ("DaemonSet", "apps/v1", "  selector: {matchLabels: {app: a}}\n", 1, ""),
        ("Job", "batch/v1", "  parallelism: 5\n", 5, "restartPolicy: Never"),
    ] {
        let y = format!(
            "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: w}}\nspec:\n{extra}{}",
            template.replace("RP", rp)
        );
        let p = loads(&y);
        assert_eq!(p.source.kind, kind);
        assert_eq!(p.source.replicas, replicas, "{kind}");
        assert_eq!(p.source.spec_path, "spec.template.spec");
    }
}

#[test]
fn pod_names_are_dns_subdomains() {
    let y = pod("").replace("name: p", "name: My_Pod");
    let errs = errors(&y);
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0].starts_with(r#"metadata.name: Invalid value: "My_Pod": a lowercase RFC 1123 subdomain"#),
        "{errs:?}"
    );
}

#[test]
fn the_walkthrough_pods_are_valid() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/targets/pods");
    for f in ["myweb-startup-error.yaml", "myweb-liveness-err.yaml", "myweb-startup.yaml"] {
        let l = spec::load_file(&format!("{dir}/{f}")).unwrap_or_else(|e| panic!("{f}: {e:?}"));
        let c = &l.pods[0].spec.containers[0];
        for (_, p) in c.probes() {
            assert_eq!((p.period_seconds, p.timeout_seconds, p.success_threshold, p.failure_threshold), (10, 1, 1, 3));
        }
    }
}
