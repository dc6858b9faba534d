//! Field documentation for `probebench explain`: the probe-related subset of the Pod API, with
//! the API's own descriptions (staging/src/k8s.io/api/core/v1/types.go, Kubernetes 1.35) and,
//! where the API server applies them, the default and the effective minimum (§1).

/// One documented field.
#[derive(Debug, Clone)]
pub struct FieldDoc {
    pub name: &'static str,
    /// Type as kubectl explain prints it: `integer`, `string`, `Probe`, `[]Container` ...
    pub type_name: &'static str,
    pub description: &'static str,
    pub required: bool,
    /// The API server's default, when it has one.
    pub default: Option<&'static str>,
    /// The effective minimum after defaulting, when there is one.
    pub minimum: Option<&'static str>,
    /// The object's own fields, for object-typed fields.
    pub children: fn() -> Vec<FieldDoc>,
}

fn none() -> Vec<FieldDoc> {
    Vec::new()
}

const fn leaf(name: &'static str, type_name: &'static str, description: &'static str) -> FieldDoc {
    FieldDoc { name, type_name, description, required: false, default: None, minimum: None, children: none }
}

const fn object(
    name: &'static str,
    type_name: &'static str,
    description: &'static str,
    children: fn() -> Vec<FieldDoc>,
) -> FieldDoc {
    FieldDoc { name, type_name, description, required: false, default: None, minimum: None, children }
}

impl FieldDoc {
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn with_default(mut self, default: &'static str) -> Self {
        self.default = Some(default);
        self
    }

    const fn with_minimum(mut self, minimum: &'static str) -> Self {
        self.minimum = Some(minimum);
        self
    }
}

pub const POD_DESCRIPTION: &str = "Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.";

/// The top-level fields of a Pod that probebench documents.
pub fn pod_fields() -> Vec<FieldDoc> {
    vec![object(
        "spec",
        "PodSpec",
        "Specification of the desired behavior of the pod. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#spec-and-status PodSpec is a description of a pod.",
        pod_spec_fields,
    )]
}

fn pod_spec_fields() -> Vec<FieldDoc> {
    vec![
        object(
            "containers",
            "[]Container",
            "List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated. A single application container that you want to run within a pod.",
            container_fields,
        )
        .required(),
        object(
            "initContainers",
            "[]Container",
            "List of initialization containers belonging to the pod. Init containers are executed in order prior to containers being started. If any init container fails, the pod is considered to have failed and is handled according to its restartPolicy. The name for an init container or normal container must be unique among all containers. Init containers may not have Lifecycle actions, Readiness probes, Liveness probes, or Startup probes. More info: https://kubernetes.io/docs/concepts/workloads/pods/init-containers/ A single application container that you want to run within a pod.",
            container_fields,
        ),
        leaf(
            "restartPolicy",
            "string",
            "Restart policy for all containers within the pod. One of Always, OnFailure, Never. In some contexts, only a subset of those values may be permitted. Default to Always. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy",
        )
        .with_default("Always"),
        leaf(
            "terminationGracePeriodSeconds",
            "integer",
            "Optional duration in seconds the pod needs to terminate gracefully. May be decreased in delete request. Value must be non-negative integer. The value zero indicates stop immediately via the kill signal (no opportunity to shut down). If this value is nil, the default grace period will be used instead. The grace period is the duration in seconds after the processes running in the pod are sent a termination signal and the time when the processes are forcibly halted with a kill signal. Set this value longer than the expected cleanup time for your process. Defaults to 30 seconds.",
        )
        .with_default("30"),
    ]
}

fn container_fields() -> Vec<FieldDoc> {
    vec![
        leaf("env", "[]EnvVar", "List of environment variables to set in the container. Cannot be updated. EnvVar represents an environment variable present in a Container."),
        leaf("image", "string", "Container image name. More info: https://kubernetes.io/docs/concepts/containers/images This field is optional to allow higher level config management to default or override container images in workload controllers like Deployments and StatefulSets."),
        leaf("imagePullPolicy", "string", "Image pull policy. One of Always, Never, IfNotPresent. Defaults to Always if :latest tag is specified, or IfNotPresent otherwise. Cannot be updated. More info: https://kubernetes.io/docs/concepts/containers/images#updating-images")
            .with_default("Always for an untagged or :latest image, else IfNotPresent"),
        object("lifecycle", "Lifecycle", "Actions that the management system should take in response to container lifecycle events. Cannot be updated. Lifecycle describes actions that the management system should take in response to container lifecycle events. For the PostStart and PreStop lifecycle handlers, management of the container blocks until the action is complete, unless the container process fails, in which case the handler is aborted.", lifecycle_fields),
        object("livenessProbe", "Probe", "Periodic probe of container liveness. Container will be restarted if the probe fails. Cannot be updated. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes Probe describes a health check to be performed against a container to determine whether it is alive or ready to receive traffic.", probe_fields),
        leaf("name", "string", "Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated.").required(),
        object("ports", "[]ContainerPort", "List of ports to expose from the container. Not specifying a port here DOES NOT prevent that port from being exposed. Any port which is listening on the default \"0.0.0.0\" address inside a container will be accessible from the network. Modifying this array with strategic merge patch may corrupt the data. For more information See https://github.com/kubernetes/kubernetes/issues/108255. Cannot be updated. ContainerPort represents a network port in a single container.", container_port_fields),
        object("readinessProbe", "Probe", "Periodic probe of container service readiness. Container will be removed from service endpoints if the probe fails. Cannot be updated. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes Probe describes a health check to be performed against a container to determine whether it is alive or ready to receive traffic.", probe_fields),
        leaf("restartPolicy", "string", "RestartPolicy defines the restart behavior of individual containers in a pod. This overrides the pod-level restart policy. When this field is not specified, the restart behavior is defined by the Pod's restart policy and the container type. Additionally, setting the RestartPolicy as \"Always\" for the init container will have the following effect: this init container will be continually restarted on exit until all regular containers have terminated. Once all regular containers have completed, all init containers with restartPolicy \"Always\" will be shut down. This lifecycle differs from normal init containers and is often referred to as a \"sidecar\" container."),
        object("startupProbe", "Probe", "StartupProbe indicates that the Pod has successfully initialized. If specified, no other probes are executed until this completes successfully. If this probe fails, the Pod will be restarted, just as if the livenessProbe failed. This can be used to provide different probe parameters at the beginning of a Pod's lifecycle, when it might take a long time to load data or warm a cache, than during steady-state operation. This cannot be updated. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes Probe describes a health check to be performed against a container to determine whether it is alive or ready to receive traffic.", probe_fields),
    ]
}

fn container_port_fields() -> Vec<FieldDoc> {
    vec![
        leaf(
            "containerPort",
            "integer",
            "Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536.",
        )
        .required()
        .with_minimum("1 (maximum 65535)"),
        leaf("hostIP", "string", "What host IP to bind the external port to."),
        leaf(
            "hostPort",
            "integer",
            "Number of port to expose on the host. If specified, this must be a valid port number, 0 < x < 65536. If HostNetwork is specified, this must match ContainerPort. Most containers do not need this.",
        ),
        leaf(
            "name",
            "string",
            "If specified, this must be an IANA_SVC_NAME and unique within the pod. Each named port in a pod must have a unique name. Name for the port that can be referred to by services.",
        ),
        leaf("protocol", "string", "Protocol for port. Must be UDP, TCP, or SCTP. Defaults to \"TCP\".")
            .with_default("TCP"),
    ]
}

/// The fields of a Probe (ProbeHandler inlined).
pub fn probe_fields() -> Vec<FieldDoc> {
    vec![
        object("exec", "ExecAction", "Exec specifies a command to execute in the container. ExecAction describes a \"run in container\" action.", exec_fields),
        leaf("failureThreshold", "integer", "Minimum consecutive failures for the probe to be considered failed after having succeeded. Defaults to 3. Minimum value is 1.")
            .with_default("3")
            .with_minimum("1 (0 is defaulted to 3; negative values are rejected)"),
        object("grpc", "GRPCAction", "GRPC specifies a GRPC HealthCheckRequest. GRPCAction specifies an action involving a GRPC service.", grpc_fields),
        object("httpGet", "HTTPGetAction", "HTTPGet specifies an HTTP GET request to perform. HTTPGetAction describes an action based on HTTP Get requests.", http_get_fields),
        leaf("initialDelaySeconds", "integer", "Number of seconds after the container has started before liveness probes are initiated. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes")
            .with_default("0")
            .with_minimum("0 (compared with whole seconds since the container started, at the worker's ticks)"),
        leaf("periodSeconds", "integer", "How often (in seconds) to perform the probe. Default to 10 seconds. Minimum value is 1.")
            .with_default("10")
            .with_minimum("1 (0 is defaulted to 10; negative values are rejected; whole seconds only)"),
        leaf("successThreshold", "integer", "Minimum consecutive successes for the probe to be considered successful after having failed. Defaults to 1. Must be 1 for liveness and startup. Minimum value is 1.")
            .with_default("1")
            .with_minimum("1 (0 is defaulted to 1; must be exactly 1 for liveness and startup probes)"),
        object("tcpSocket", "TCPSocketAction", "TCPSocket specifies a connection to a TCP port. TCPSocketAction describes an action based on opening a socket", tcp_fields),
        leaf("terminationGracePeriodSeconds", "integer", "Optional duration in seconds the pod needs to terminate gracefully upon probe failure. The grace period is the duration in seconds after the processes running in the pod are sent a termination signal and the time when the processes are forcibly halted with a kill signal. Set this value longer than the expected cleanup time for your process. If this value is nil, the pod's terminationGracePeriodSeconds will be used. Otherwise, this value overrides the value provided by the pod spec. Value must be non-negative integer. The value zero indicates stop immediately via the kill signal (no opportunity to shut down). This is a beta field and requires enabling ProbeTerminationGracePeriod feature gate. Minimum value is 1. spec.terminationGracePeriodSeconds is used if unset.")
            .with_default("unset: the pod's terminationGracePeriodSeconds (30)")
            .with_minimum("1 (must be greater than 0; not allowed on readiness probes; the kubelet never waits less than 2 s)"),
        leaf("timeoutSeconds", "integer", "Number of seconds after which the probe times out. Defaults to 1 second. Minimum value is 1. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes")
            .with_default("1")
            .with_minimum("1 (0 is defaulted to 1; negative values are rejected; may exceed periodSeconds)"),
    ]
}

fn exec_fields() -> Vec<FieldDoc> {
    vec![leaf(
        "command",
        "[]string",
        "Command is the command line to execute inside the container, the working directory for the command  is root ('/') in the container's filesystem. The command is simply exec'd, it is not run inside a shell, so traditional shell instructions ('|', etc) won't work. To use a shell, you need to explicitly call out to that shell. Exit status of 0 is treated as live/healthy and non-zero is unhealthy.",
    )]
}

fn http_get_fields() -> Vec<FieldDoc> {
    vec![
        leaf("host", "string", "Host name to connect to, defaults to the pod IP. You probably want to set \"Host\" in httpHeaders instead.").with_default("the pod IP"),
        object("httpHeaders", "[]HTTPHeader", "Custom headers to set in the request. HTTP allows repeated headers. HTTPHeader describes a custom header to be used in HTTP probes", http_header_fields),
        leaf("path", "string", "Path to access on the HTTP server.").with_default("/"),
        leaf("port", "IntOrString", "Name or number of the port to access on the container. Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME.").required().with_minimum("1 (maximum 65535), or a port name declared by the container"),
        leaf("scheme", "string", "Scheme to use for connecting to the host. Defaults to HTTP.").with_default("HTTP"),
    ]
}

fn http_header_fields() -> Vec<FieldDoc> {
    vec![
        leaf("name", "string", "The header field name. This will be canonicalized upon output, so case-variant names will be understood as the same header.").required(),
        leaf("value", "string", "The header field value").required(),
    ]
}

fn tcp_fields() -> Vec<FieldDoc> {
    vec![
        leaf("host", "string", "Optional: Host name to connect to, defaults to the pod IP.").with_default("the pod IP"),
        leaf("port", "IntOrString", "Number or name of the port to access on the container. Number must be in the range 1 to 65535. Name must be an IANA_SVC_NAME.").required().with_minimum("1 (maximum 65535), or a port name declared by the container"),
    ]
}

fn grpc_fields() -> Vec<FieldDoc> {
    vec![
        leaf("port", "integer", "Port number of the gRPC service. Number must be in the range 1 to 65535.").required().with_minimum("1 (maximum 65535; named ports are not supported)"),
        leaf("service", "string", "Service is the name of the service to place in the gRPC HealthCheckRequest (see https://github.com/grpc/grpc/blob/master/doc/health-checking.md). If this is not specified, the default behavior is defined by gRPC.").with_default("\"\" (the server's overall health)"),
    ]
}

fn lifecycle_fields() -> Vec<FieldDoc> {
    vec![
        object(
            "postStart",
            "LifecycleHandler",
            "PostStart is called immediately after a container is created. If the handler fails, the container is terminated and restarted according to its restart policy. Other management of the container blocks until the hook completes. More info: https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/#container-hooks LifecycleHandler defines a specific action that should be taken in a lifecycle hook. One and only one of the fields, except TCPSocket must be specified.",
            handler_fields,
        ),
        object(
            "preStop",
            "LifecycleHandler",
            "PreStop is called immediately before a container is terminated due to an API request or management event such as liveness/startup probe failure, preemption, resource contention, etc. The handler is not called if the container crashes or exits. The Pod's termination grace period countdown begins before the PreStop hook is executed. Regardless of the outcome of the handler, the container will eventually terminate within the Pod's termination grace period (unless delayed by finalizers). Other management of the container blocks until the hook completes or until the termination grace period is reached. More info: https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/#container-hooks LifecycleHandler defines a specific action that should be taken in a lifecycle hook. One and only one of the fields, except TCPSocket must be specified.",
            handler_fields,
        ),
        leaf(
            "stopSignal",
            "string",
            "StopSignal defines which signal will be sent to a container when it is being stopped. If not specified, the default is defined by the container runtime in use. StopSignal can only be set for Pods with a non-empty .spec.os.name",
        ),
    ]
}

fn handler_fields() -> Vec<FieldDoc> {
    vec![
        object(
            "exec",
            "ExecAction",
            "Exec specifies a command to execute in the container. ExecAction describes a \"run in container\" action.",
            exec_fields,
        ),
        object(
            "httpGet",
            "HTTPGetAction",
            "HTTPGet specifies an HTTP GET request to perform. HTTPGetAction describes an action based on HTTP Get requests.",
            http_get_fields,
        ),
        object(
            "sleep",
            "SleepAction",
            "Sleep represents a duration that the container should sleep. SleepAction describes a \"sleep\" action.",
            sleep_fields,
        ),
        object(
            "tcpSocket",
            "TCPSocketAction",
            "Deprecated. TCPSocket is NOT supported as a LifecycleHandler and kept for backward compatibility. There is no validation of this field and lifecycle hooks will fail at runtime when it is specified. TCPSocketAction describes an action based on opening a socket",
            tcp_fields,
        ),
    ]
}

fn sleep_fields() -> Vec<FieldDoc> {
    vec![
        leaf("seconds", "integer", "Seconds is the number of seconds to sleep.")
            .required()
            .with_minimum("0 (at most the pod's terminationGracePeriodSeconds)"),
    ]
}

/// Why a field path could not be explained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ExplainError {
    #[error(
        "the server doesn't have a resource type {resource:?} (probebench explains pods; a workload's pod template has the same fields under spec.template.spec)"
    )]
    UnknownResource { resource: String },
    #[error("field {field:?} does not exist in {parent}{}", suggestion_text(.suggestions))]
    UnknownField { field: String, parent: String, suggestions: Vec<&'static str> },
}

fn suggestion_text(suggestions: &[&str]) -> String {
    match suggestions {
        [] => String::new(),
        [one, ..] if suggestions.len() == 1 => format!("; did you mean {one:?}?"),
        many => format!("; nearest valid fields: {}", many.join(", ")),
    }
}

/// What `explain` resolved: the path walked and the field at its end (None for the resource).
pub struct Resolved {
    pub path: Vec<&'static str>,
    pub field: Option<FieldDoc>,
    pub children: Vec<FieldDoc>,
}

/// Resolve `pods.spec.containers.livenessProbe.periodSeconds` (resource aliases `pod`, `po`).
pub fn resolve(path: &str) -> Result<Resolved, ExplainError> {
    let mut parts = path.split('.').filter(|p| !p.is_empty());
    let resource = parts.next().unwrap_or("");
    if !matches!(resource.to_ascii_lowercase().as_str(), "pods" | "pod" | "po") {
        return Err(ExplainError::UnknownResource { resource: resource.to_string() });
    }
    let mut walked = vec!["pods"];
    let mut field: Option<FieldDoc> = None;
    let mut children = pod_fields();
    for part in parts {
        let Some(found) = children.iter().find(|f| f.name == part).cloned() else {
            let names: Vec<&'static str> = children.iter().map(|f| f.name).collect();
            let nearest = super::suggest::nearest(part, names.iter().copied());
            let suggestions = match nearest {
                Some(n) => vec![n],
                None => super::suggest::nearest_n(part, names.iter().copied(), 3),
            };
            return Err(ExplainError::UnknownField { field: part.to_string(), parent: walked.join("."), suggestions });
        };
        walked.push(found.name);
        children = (found.children)();
        field = Some(found);
    }
    Ok(Resolved { path: walked, field, children })
}

/// Break text into lines of at most `width` characters (a longer word stands alone).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_probe_field_has_its_default_and_minimum() {
        for f in probe_fields() {
            if f.type_name == "integer" {
                assert!(f.default.is_some(), "{} has no default", f.name);
                assert!(f.minimum.is_some(), "{} has no minimum", f.name);
            }
        }
    }

    #[test]
    fn resolves_nested_fields_and_suggests_typos() {
        let r = resolve("pods.spec.containers.livenessProbe.periodSeconds").unwrap();
        assert_eq!(r.field.unwrap().default, Some("10"));
        let err = resolve("po.spec.containers.readinessProbe.timeoutSecoonds").err().unwrap();
        assert_eq!(
            err.to_string(),
            "field \"timeoutSecoonds\" does not exist in pods.spec.containers.readinessProbe; did you mean \"timeoutSeconds\"?"
        );
    }

    #[test]
    fn wraps_at_the_width() {
        let lines = wrap("aaa bbb ccc ddd", 7);
        assert_eq!(lines, ["aaa bbb", "ccc ddd"]);
    }
}
