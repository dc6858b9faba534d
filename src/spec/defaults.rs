//! The API server's defaulting (pkg/apis/core/v1/defaults.go), applied before validation:
//! a field that is omitted or 0 gets its default, so only negative values reach the
//! "must be greater than or equal to 0" checks (kubelet-semantics.md §1).

use super::types::*;

pub const DEFAULT_TIMEOUT_SECONDS: i32 = 1;
pub const DEFAULT_PERIOD_SECONDS: i32 = 10;
pub const DEFAULT_SUCCESS_THRESHOLD: i32 = 1;
pub const DEFAULT_FAILURE_THRESHOLD: i32 = 3;
/// v1.DefaultTerminationGracePeriodSeconds.
pub const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS: i64 = 30;

pub fn apply(pod: &mut Pod) {
    pod_spec(&mut pod.spec);
}

/// SetDefaults_PodSpec, then every container's defaults.
pub fn pod_spec(spec: &mut PodSpec) {
    if spec.restart_policy.is_empty() {
        spec.restart_policy = "Always".to_string();
    }
    if spec.termination_grace_period_seconds.is_none() {
        spec.termination_grace_period_seconds = Some(DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS);
    }
    for c in spec.containers.iter_mut().chain(spec.init_containers.iter_mut()) {
        container(c);
    }
}

/// SetDefaults_Container and the defaults of what it holds.
pub fn container(c: &mut Container) {
    if c.image_pull_policy.is_empty() {
        c.image_pull_policy = default_pull_policy(&c.image).to_string();
    }
    for p in &mut c.ports {
        if p.protocol.is_empty() {
            p.protocol = "TCP".to_string();
        }
    }
    for p in [&mut c.liveness_probe, &mut c.readiness_probe, &mut c.startup_probe].into_iter().flatten() {
        probe(p);
    }
    if let Some(l) = &mut c.lifecycle {
        for h in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
            if let Some(g) = &mut h.http_get {
                http_get(g);
            }
        }
    }
}

/// SetDefaults_Probe and SetDefaults_HTTPGetAction.
pub fn probe(p: &mut Probe) {
    if p.timeout_seconds == 0 {
        p.timeout_seconds = DEFAULT_TIMEOUT_SECONDS;
    }
    if p.period_seconds == 0 {
        p.period_seconds = DEFAULT_PERIOD_SECONDS;
    }
    if p.success_threshold == 0 {
        p.success_threshold = DEFAULT_SUCCESS_THRESHOLD;
    }
    if p.failure_threshold == 0 {
        p.failure_threshold = DEFAULT_FAILURE_THRESHOLD;
    }
    if let Some(g) = &mut p.handler.http_get {
        http_get(g);
    }
}

fn http_get(g: &mut HttpGetAction) {
    if g.path.is_empty() {
        g.path = "/".to_string();
    }
    if g.scheme.is_empty() {
        g.scheme = "HTTP".to_string();
    }
}

/// `Always` when the image's tag is `latest` — which includes an image with neither tag nor
/// digest, since the reference parser defaults the tag to `latest` — else `IfNotPresent`.
pub fn default_pull_policy(image: &str) -> &'static str {
    if image_tag(image).as_deref() == Some("latest") { "Always" } else { "IfNotPresent" }
}

/// The tag of an image reference as docker's reference parser sees it: `latest` when there
/// is neither tag nor digest, `None` when there is only a digest.
pub fn image_tag(image: &str) -> Option<String> {
    let (name, digest) = match image.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (image, None),
    };
    // The tag follows the last ':' after the last '/'; a ':' before a '/' is a registry port.
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.rsplit_once(':') {
        Some((_, tag)) => Some(tag.to_string()),
        None if digest.is_some() => None,
        None => Some("latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(default_pull_policy("httpd"), "Always");
        assert_eq!(default_pull_policy("httpd:latest"), "Always");
        assert_eq!(default_pull_policy("httpd:2.4"), "IfNotPresent");
        assert_eq!(default_pull_policy("registry:5000/team/app"), "Always");
        assert_eq!(default_pull_policy("registry:5000/team/app:v1"), "IfNotPresent");
        assert_eq!(default_pull_policy("app@sha256:0123"), "IfNotPresent");
    }
}
