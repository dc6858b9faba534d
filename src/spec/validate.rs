//! Stage two of loading: the API server's validation (pkg/apis/core/validation/validation.go)
//! for the subset probebench models, on defaulted objects. Every rule appends its errors in
//! the API server's order; nothing stops at the first problem.

use super::decode::{child, index};
use super::error::FieldError;
use super::types::*;

/// All problems of a defaulted pod (or pod template), with paths under its `spec_path`, in
/// ValidatePodSpec's order: containers, init containers, then the pod's restartPolicy.
pub fn validate_pod(pod: &Pod) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let path = pod.source.spec_path.as_str();
    let spec = &pod.spec;
    let grace = spec.termination_grace_period_seconds;
    if grace.is_none() {
        errs.push(FieldError::required(child(path, "terminationGracePeriodSeconds"), ""));
    }

    // validateContainers
    let containers_path = child(path, "containers");
    if spec.containers.is_empty() {
        errs.push(FieldError::required(containers_path.clone(), ""));
    }
    let mut names = std::collections::BTreeSet::new();
    for (i, c) in spec.containers.iter().enumerate() {
        let p = index(&containers_path, i);
        container_common(c, &p, &mut errs);
        // Empty names are inserted too: two unnamed containers are also duplicates.
        if !names.insert(c.name.clone()) {
            errs.push(FieldError::duplicate(child(&p, "name"), c.name.as_str()));
        }
        lifecycle_and_probes(c, &p, grace, &mut errs);
        if c.restart_policy.is_some() {
            errs.push(FieldError::forbidden(child(&p, "restartPolicy"), "may not be set for non-init containers"));
        }
    }

    // validateInitContainers: names must also differ from the regular containers'.
    let init_path = child(path, "initContainers");
    for (i, c) in spec.init_containers.iter().enumerate() {
        let p = index(&init_path, i);
        container_common(c, &p, &mut errs);
        if let Some(policy) = &c.restart_policy
            && policy != "Always"
        {
            errs.push(FieldError::unsupported(child(&p, "restartPolicy"), policy.as_str(), &["Always"]));
        }
        if names.contains(&c.name) {
            errs.push(FieldError::duplicate(child(&p, "name"), c.name.as_str()));
        } else if !c.name.is_empty() {
            names.insert(c.name.clone());
        }
        if c.is_sidecar() {
            lifecycle_and_probes(c, &p, grace, &mut errs);
        } else {
            const NOT_SIDECAR: &str = "may not be set for init containers without restartPolicy=Always";
            if c.lifecycle.is_some() {
                errs.push(FieldError::forbidden(child(&p, "lifecycle"), NOT_SIDECAR));
            }
            for t in [ProbeType::Liveness, ProbeType::Readiness, ProbeType::Startup] {
                if c.probe(t).is_some() {
                    errs.push(FieldError::forbidden(child(&p, t.field()), NOT_SIDECAR));
                }
            }
        }
    }
    restart_policy(&spec.restart_policy, &child(path, "restartPolicy"), &mut errs);
    dedup(errs)
}

/// ToAggregate drops repeated messages (same path and text).
fn dedup(errs: Vec<FieldError>) -> Vec<FieldError> {
    let mut seen = std::collections::HashSet::new();
    errs.into_iter().filter(|e| seen.insert(e.to_string())).collect()
}

/// The pod-template rules of the workload controllers: Deployment, ReplicaSet, StatefulSet
/// and DaemonSet run pods that must restart (`Always`); Jobs' must not.
pub fn validate_template_restart_policy(pod: &Pod) -> Vec<FieldError> {
    let p = child(&pod.source.spec_path, "restartPolicy");
    let policy = pod.spec.restart_policy.as_str();
    match pod.source.kind.as_str() {
        "Job" | "CronJob" => match policy {
            "OnFailure" | "Never" => Vec::new(),
            // SetDefaults_PodSpec has already turned "" into Always, so both mean "unset".
            "Always" | "" => vec![FieldError::required(p, r#"valid values: "OnFailure", "Never""#)],
            other => vec![FieldError::unsupported(p, other, &["OnFailure", "Never"])],
        },
        "Pod" => Vec::new(),
        _ if policy != "Always" => vec![FieldError::unsupported(p, policy, &["Always"])],
        _ => Vec::new(),
    }
}

/// Pod and workload names: an RFC 1123 subdomain (ValidatePodName, ValidateDeploymentName ...).
pub fn validate_object_name(name: &str) -> Vec<FieldError> {
    if name.is_empty() {
        return Vec::new();
    }
    dns1123_subdomain(name).into_iter().map(|m| FieldError::invalid("metadata.name", name, m)).collect()
}

fn restart_policy(policy: &str, path: &str, errs: &mut Vec<FieldError>) {
    match policy {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(path, "")),
        other => errs.push(FieldError::unsupported(path, other, &["Always", "OnFailure", "Never"])),
    }
}

/// validateContainerCommon, for the fields probebench models: name, image, ports, env,
/// imagePullPolicy (in that order).
fn container_common(c: &Container, path: &str, errs: &mut Vec<FieldError>) {
    let name_path = child(path, "name");
    if c.name.is_empty() {
        errs.push(FieldError::required(name_path, ""));
    } else {
        for msg in dns1123_label(&c.name) {
            errs.push(FieldError::invalid(name_path.clone(), c.name.as_str(), msg));
        }
    }
    if c.image.is_empty() {
        errs.push(FieldError::required(child(path, "image"), ""));
    }
    container_ports(&c.ports, &child(path, "ports"), errs);
    for (i, e) in c.env.iter().enumerate() {
        if e.name.is_empty() {
            errs.push(FieldError::required(child(&index(&child(path, "env"), i), "name"), ""));
        }
    }
    match c.image_pull_policy.as_str() {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(FieldError::required(child(path, "imagePullPolicy"), "")),
        other => errs.push(FieldError::unsupported(
            child(path, "imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
}

/// Lifecycle hooks, then the liveness, readiness and startup probes with their own rules.
fn lifecycle_and_probes(c: &Container, path: &str, grace: Option<i64>, errs: &mut Vec<FieldError>) {
    if let Some(l) = &c.lifecycle {
        lifecycle(l, &child(path, "lifecycle"), grace, errs);
    }
    for t in [ProbeType::Liveness, ProbeType::Readiness, ProbeType::Startup] {
        let Some(p) = c.probe(t) else { continue };
        typed_probe(p, t, &child(path, t.field()), errs);
    }
}

/// validateLivenessProbe / validateReadinessProbe / validateStartupProbe: validateProbe, then
/// the rule of the probe's type.
pub fn typed_probe(p: &Probe, t: ProbeType, pp: &str, errs: &mut Vec<FieldError>) {
    probe(p, pp, errs);
    match t {
        ProbeType::Liveness | ProbeType::Startup => {
            if p.success_threshold != 1 {
                errs.push(FieldError::invalid(child(pp, "successThreshold"), p.success_threshold, "must be 1"));
            }
        }
        ProbeType::Readiness => {
            if let Some(g) = p.termination_grace_period_seconds {
                errs.push(FieldError::invalid(
                    child(pp, "terminationGracePeriodSeconds"),
                    g,
                    "must not be set for readinessProbes",
                ));
            }
        }
    }
}

/// validateProbe: the handler, then the five non-negative fields, then the probe-level grace.
pub fn probe(p: &Probe, path: &str, errs: &mut Vec<FieldError>) {
    let h = &p.handler;
    handler(h.exec.as_ref(), h.http_get.as_ref(), h.tcp_socket.as_ref(), h.grpc.as_ref(), None, path, errs);
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
        errs.push(FieldError::invalid(child(path, "terminationGracePeriodSeconds"), g, "must be greater than 0"));
    }
}

/// ValidateNonnegativeField (IsNegativeErrorMsg).
fn non_negative(value: i64, path: &str, errs: &mut Vec<FieldError>) {
    if value < 0 {
        errs.push(FieldError::invalid(path, value, "must be greater than or equal to 0"));
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
            errs.push(FieldError::forbidden(child(path, name), "may not specify more than 1 handler type"));
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
        errs.push(FieldError::required(child(&child(path, "exec"), "command"), ""));
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
            errs.push(FieldError::invalid(child(&child(path, "grpc"), "port"), g.port, msg));
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
        errs.push(FieldError::unsupported(child(path, "scheme"), h.scheme.as_str(), &["HTTP", "HTTPS"]));
    }
    for header in &h.http_headers {
        for msg in http_header_name(&header.name) {
            errs.push(FieldError::invalid(child(path, "httpHeaders"), header.name.as_str(), msg));
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
        if let Some(name) = p.name.as_deref().filter(|n| !n.is_empty()) {
            let msgs = port_name(name);
            if !msgs.is_empty() {
                for msg in msgs {
                    errs.push(FieldError::invalid(child(&pp, "name"), name, msg));
                }
            } else if !names.insert(name.to_string()) {
                errs.push(FieldError::duplicate(child(&pp, "name"), name));
            }
        }
        if p.container_port == 0 {
            errs.push(FieldError::required(child(&pp, "containerPort"), ""));
        } else {
            for msg in port_num(p.container_port) {
                errs.push(FieldError::invalid(child(&pp, "containerPort"), p.container_port, msg));
            }
        }
        match p.protocol.as_str() {
            "TCP" | "UDP" | "SCTP" => {}
            "" => errs.push(FieldError::required(child(&pp, "protocol"), "")),
            other => errs.push(FieldError::unsupported(child(&pp, "protocol"), other, &["SCTP", "TCP", "UDP"])),
        }
    }
}

/// IsValidPortNum.
pub fn port_num(port: i32) -> Vec<String> {
    if (1..=65535).contains(&port) { Vec::new() } else { vec!["must be between 1 and 65535, inclusive".to_string()] }
}

/// IsValidPortName: an IANA_SVC_NAME (RFC 6335), every rule it breaks, in apimachinery's order.
pub fn port_name(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 15 {
        errs.push("must be no more than 15 characters".to_string());
    }
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string());
    }
    if !name.chars().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if name.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if name.starts_with('-') || name.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// IsHTTPHeaderName: an RFC 7230 token.
pub fn http_header_name(name: &str) -> Vec<String> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        Vec::new()
    } else {
        vec![regex_error(
            "a valid HTTP header must consist of alphanumeric characters or '-'",
            "[-A-Za-z0-9]+",
            &["X-Header-Name"],
        )]
    }
}

/// apimachinery's RegexError, quirks included: examples are joined with `, ` *and* ` or `,
/// so two examples read `'my-name',  or '123-abc'` (two spaces).
fn regex_error(msg: &str, regex: &str, examples: &[&str]) -> String {
    let mut s = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            s.push_str(" or ");
        }
        s.push_str(&format!("'{e}', "));
    }
    s.push_str(&format!("regex used for validation is '{regex}')"));
    s
}

fn is_dns1123_label(name: &str) -> bool {
    let b = name.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.iter().all(|&c| alnum(c) || c == b'-')
        && b.first().is_some_and(|&c| alnum(c))
        && b.last().is_some_and(|&c| alnum(c))
}

fn is_dns1123_subdomain(name: &str) -> bool {
    name.split('.').all(is_dns1123_label)
}

/// IsDNS1123Subdomain: pod and workload names.
pub fn dns1123_subdomain(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !is_dns1123_subdomain(name) {
        errs.push(regex_error(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
            &["example.com"],
        ));
    }
    errs
}

/// IsDNS1123Label: container names.
pub fn dns1123_label(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !is_dns1123_label(name) {
        if is_dns1123_subdomain(name) {
            // A valid subdomain that is not a label: the length was checked, so it is the dots.
            errs.push("must not contain dots".to_string());
        } else {
            errs.push(regex_error(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
                "[a-z0-9]([-a-z0-9]*[a-z0-9])?",
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}
