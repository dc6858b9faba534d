//! Stage two of loading: the API server's validation (pkg/apis/core/validation/validation.go)
//! for the subset probebench models, on defaulted objects. Every rule appends its errors in
//! the API server's order; nothing stops at the first problem.

use super::decode::{child, index};
use super::error::FieldError;
use super::types::*;

/// All problems of a defaulted pod (or pod template), with paths under its `spec_path`.
pub fn validate_pod(pod: &Pod) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let path = pod.source.spec_path.as_str();
    let spec = &pod.spec;
    let grace = spec.termination_grace_period_seconds;

    let mut names = std::collections::BTreeSet::new();
    let init_path = child(path, "initContainers");
    for (i, c) in spec.init_containers.iter().enumerate() {
        let p = index(&init_path, i);
        container_common(c, &p, grace, &mut names, &mut errs);
        init_container_rules(c, &p, &mut errs);
    }
    let containers_path = child(path, "containers");
    if spec.containers.is_empty() {
        errs.push(FieldError::required(containers_path.clone(), ""));
    }
    for (i, c) in spec.containers.iter().enumerate() {
        let p = index(&containers_path, i);
        container_common(c, &p, grace, &mut names, &mut errs);
        regular_container_rules(c, &p, grace, &mut errs);
    }
    restart_policy(
        &spec.restart_policy,
        &child(path, "restartPolicy"),
        &mut errs,
    );
    if let Some(g) = spec.termination_grace_period_seconds
        && g < 0
    {
        errs.push(FieldError::invalid(
            child(path, "terminationGracePeriodSeconds"),
            g,
            "must be greater than or equal to 0",
        ));
    }
    errs
}

/// Jobs (and CronJobs' jobs) only allow `OnFailure` and `Never`; the pod default `Always`
/// is rejected, so a Job's template must say which it wants.
pub fn validate_job_restart_policy(pod: &Pod) -> Vec<FieldError> {
    let p = child(&pod.source.spec_path, "restartPolicy");
    match pod.spec.restart_policy.as_str() {
        "OnFailure" | "Never" => Vec::new(),
        other => vec![FieldError::unsupported(p, other, &["OnFailure", "Never"])],
    }
}

fn restart_policy(policy: &str, path: &str, errs: &mut Vec<FieldError>) {
    match policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(path, "")),
        other => errs.push(FieldError::unsupported(
            path,
            other,
            &["Always", "Never", "OnFailure"],
        )),
    }
}

/// Rules shared by regular and init containers: name, image, pull policy, ports, env.
fn container_common(
    c: &Container,
    path: &str,
    _grace: Option<i64>,
    names: &mut std::collections::BTreeSet<String>,
    errs: &mut Vec<FieldError>,
) {
    let name_path = child(path, "name");
    if c.name.is_empty() {
        errs.push(FieldError::required(name_path, ""));
    } else {
        for msg in dns1123_label(&c.name) {
            errs.push(FieldError::invalid(name_path.clone(), c.name.as_str(), msg));
        }
        if !names.insert(c.name.clone()) {
            errs.push(FieldError::duplicate(name_path, c.name.as_str()));
        }
    }
    if c.image.trim().is_empty() {
        errs.push(FieldError::required(child(path, "image"), ""));
    }
    match c.image_pull_policy.as_str() {
        "Always" | "IfNotPresent" | "Never" => {}
        other => errs.push(FieldError::unsupported(
            child(path, "imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    container_ports(&c.ports, &child(path, "ports"), errs);
    for (i, e) in c.env.iter().enumerate() {
        if e.name.is_empty() {
            errs.push(FieldError::required(
                child(&index(&child(path, "env"), i), "name"),
                "",
            ));
        }
    }
}

/// Regular containers: the three probes, lifecycle hooks, and no container restartPolicy.
fn regular_container_rules(
    c: &Container,
    path: &str,
    grace: Option<i64>,
    errs: &mut Vec<FieldError>,
) {
    if let Some(p) = &c.restart_policy {
        errs.push(FieldError::forbidden(
            child(path, "restartPolicy"),
            format!("may not be set for non-init containers: {p:?}"),
        ));
    }
    probes(c, path, grace, errs);
}

/// Init containers: only sidecars (restartPolicy: Always) may have probes.
fn init_container_rules(c: &Container, path: &str, errs: &mut Vec<FieldError>) {
    match c.restart_policy.as_deref() {
        None | Some("Always") => {}
        Some(other) => {
            errs.push(FieldError::unsupported(
                child(path, "restartPolicy"),
                other,
                &["Always"],
            ));
        }
    }
    if c.is_sidecar() {
        probes(c, path, None, errs);
        return;
    }
    for (t, _) in c.probes() {
        errs.push(FieldError::forbidden(
            child(path, t.field()),
            "may not be set for init containers without restartPolicy=Always",
        ));
    }
    if let Some(l) = &c.lifecycle {
        let _ = l;
        errs.push(FieldError::forbidden(
            child(path, "lifecycle"),
            "may not be set for init containers without restartPolicy=Always",
        ));
    }
}

fn probes(c: &Container, path: &str, grace: Option<i64>, errs: &mut Vec<FieldError>) {
    if let Some(l) = &c.lifecycle {
        lifecycle(l, &child(path, "lifecycle"), grace, errs);
    }
    for (t, p) in c.probes() {
        let pp = child(path, t.field());
        probe(p, &pp, errs);
        match t {
            ProbeType::Liveness | ProbeType::Startup => {
                if p.success_threshold != 1 {
                    errs.push(FieldError::invalid(
                        child(&pp, "successThreshold"),
                        p.success_threshold,
                        "must be 1",
                    ));
                }
            }
            ProbeType::Readiness => {
                if let Some(g) = p.termination_grace_period_seconds {
                    errs.push(FieldError::invalid(
                        child(&pp, "terminationGracePeriodSeconds"),
                        g,
                        "must not be set for readinessProbes",
                    ));
                }
            }
        }
    }
}

/// validateProbe: the handler, then the five non-negative fields, then the probe-level grace.
pub fn probe(p: &Probe, path: &str, errs: &mut Vec<FieldError>) {
    let h = &p.handler;
    handler(
        h.exec.as_ref(),
        h.http_get.as_ref(),
        h.tcp_socket.as_ref(),
        h.grpc.as_ref(),
        None,
        path,
        errs,
    );
    for (name, value) in [
        ("initialDelaySeconds", p.initial_delay_seconds),
        ("timeoutSeconds", p.timeout_seconds),
        ("periodSeconds", p.period_seconds),
        ("successThreshold", p.success_threshold),
        ("failureThreshold", p.failure_threshold),
    ] {
        non_negative(value.into(), &child(path, name), errs);
    }
    if let Some(g) = p.termination_grace_period_seconds
        && g <= 0
    {
        errs.push(FieldError::invalid(
            child(path, "terminationGracePeriodSeconds"),
            g,
            "must be greater than 0",
        ));
    }
}

/// ValidateNonnegativeField (IsNegativeErrorMsg).
fn non_negative(value: i64, path: &str, errs: &mut Vec<FieldError>) {
    if value < 0 {
        errs.push(FieldError::invalid(
            path,
            value,
            "must be greater than or equal to 0",
        ));
    }
}

/// validateHandler: exactly one action, checked in the order exec, httpGet, tcpSocket,
/// grpc, sleep; every action after the first gets "may not specify more than 1 handler
/// type" on its own path; none at all is "must specify a handler type" on the parent.
#[allow(clippy::too_many_arguments)]
fn handler(
    exec: Option<&ExecAction>,
    http_get: Option<&HttpGetAction>,
    tcp_socket: Option<&TcpSocketAction>,
    grpc: Option<&GrpcAction>,
    sleep: Option<(&SleepAction, Option<i64>)>,
    path: &str,
    errs: &mut Vec<FieldError>,
) {
    let mut count = 0;
    let mut one = |name: &str, errs: &mut Vec<FieldError>| -> bool {
        if count > 0 {
            errs.push(FieldError::forbidden(
                child(path, name),
                "may not specify more than 1 handler type",
            ));
            false
        } else {
            count += 1;
            true
        }
    };
    if let Some(e) = exec
        && one("exec", errs)
        && e.command.is_empty()
    {
        errs.push(FieldError::required(
            child(&child(path, "exec"), "command"),
            "",
        ));
    }
    if let Some(h) = http_get
        && one("httpGet", errs)
    {
        http_get_action(h, &child(path, "httpGet"), errs);
    }
    if let Some(t) = tcp_socket
        && one("tcpSocket", errs)
    {
        port_num_or_name(&t.port, &child(&child(path, "tcpSocket"), "port"), errs);
    }
    if let Some(g) = grpc
        && one("grpc", errs)
    {
        for msg in port_num(g.port) {
            errs.push(FieldError::invalid(
                child(&child(path, "grpc"), "port"),
                g.port,
                msg,
            ));
        }
    }
    if let Some((s, grace)) = sleep
        && one("sleep", errs)
    {
        sleep_action(s, grace, &child(path, "sleep"), errs);
    }
    if count == 0 {
        errs.push(FieldError::required(path, "must specify a handler type"));
    }
}

fn http_get_action(h: &HttpGetAction, path: &str, errs: &mut Vec<FieldError>) {
    if h.path.is_empty() {
        errs.push(FieldError::required(child(path, "path"), ""));
    }
    port_num_or_name(&h.port, &child(path, "port"), errs);
    if h.scheme != "HTTP" && h.scheme != "HTTPS" {
        errs.push(FieldError::unsupported(
            child(path, "scheme"),
            h.scheme.as_str(),
            &["HTTP", "HTTPS"],
        ));
    }
    for header in &h.http_headers {
        for msg in http_header_name(&header.name) {
            errs.push(FieldError::invalid(
                child(path, "httpHeaders"),
                header.name.as_str(),
                msg,
            ));
        }
    }
}

fn sleep_action(s: &SleepAction, grace: Option<i64>, path: &str, errs: &mut Vec<FieldError>) {
    // The pod's grace period may itself be invalid; then only that is reported.
    if let Some(g) = grace
        && (s.seconds < 0 || s.seconds > g)
    {
        errs.push(FieldError::invalid(
            path,
            s.seconds,
            format!("must be non-negative and less than terminationGracePeriodSeconds ({g})"),
        ));
    }
}

fn lifecycle(l: &Lifecycle, path: &str, grace: Option<i64>, errs: &mut Vec<FieldError>) {
    for (name, h) in [("postStart", &l.post_start), ("preStop", &l.pre_stop)] {
        if let Some(h) = h {
            handler(
                h.exec.as_ref(),
                h.http_get.as_ref(),
                h.tcp_socket.as_ref(),
                None,
                h.sleep.as_ref().map(|s| (s, grace)),
                &child(path, name),
                errs,
            );
        }
    }
}

/// ValidatePortNumOrName: an int must be a valid port number; a string a valid port name.
pub fn port_num_or_name(port: &IntOrString, path: &str, errs: &mut Vec<FieldError>) {
    match port {
        IntOrString::Int(n) => {
            for msg in port_num(*n) {
                errs.push(FieldError::invalid(path, *n, msg));
            }
        }
        IntOrString::String(s) => {
            for msg in port_name(s) {
                errs.push(FieldError::invalid(path, s.as_str(), msg));
            }
        }
    }
}

fn container_ports(ports: &[ContainerPort], path: &str, errs: &mut Vec<FieldError>) {
    let mut names = std::collections::BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let pp = index(path, i);
        if let Some(name) = &p.name {
            for msg in port_name(name) {
                errs.push(FieldError::invalid(child(&pp, "name"), name.as_str(), msg));
            }
            if !names.insert(name.clone()) {
                errs.push(FieldError::duplicate(child(&pp, "name"), name.as_str()));
            }
        }
        if p.container_port == 0 {
            errs.push(FieldError::required(child(&pp, "containerPort"), ""));
        } else {
            for msg in port_num(p.container_port) {
                errs.push(FieldError::invalid(
                    child(&pp, "containerPort"),
                    p.container_port,
                    msg,
                ));
            }
        }
        match p.protocol.as_str() {
            "TCP" | "UDP" | "SCTP" => {}
            "" => errs.push(FieldError::required(child(&pp, "protocol"), "")),
            other => errs.push(FieldError::unsupported(
                child(&pp, "protocol"),
                other,
                &["SCTP", "TCP", "UDP"],
            )),
        }
    }
}

/// IsValidPortNum.
pub fn port_num(port: i32) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec!["must be between 1 and 65535, inclusive".to_string()]
    }
}

/// IsValidPortName: an IANA_SVC_NAME (RFC 6335), every rule it breaks, in apimachinery's order.
pub fn port_name(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push("must be no more than 15 characters".to_string());
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// IsHTTPHeaderName: an RFC 7230 token.
pub fn http_header_name(name: &str) -> Vec<String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if !name.is_empty() && name.chars().all(token) {
        Vec::new()
    } else {
        vec!["a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')".to_string()]
    }
}

/// IsDNS1123Label: container names.
pub fn dns1123_label(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    let bytes = name.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let ok = !bytes.is_empty()
        && bytes.iter().all(|&b| alnum(b) || b == b'-')
        && bytes.first().is_some_and(|&b| alnum(b))
        && bytes.last().is_some_and(|&b| alnum(b));
    if !ok {
        errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')".to_string());
    }
    errs
}
