//! Field names of the Kubernetes objects probebench reads: the ones it models, and the valid
//! ones it accepts without modelling. A name in neither list is a typo (strict decoding).
//! Lists follow staging/src/k8s.io/api (core/v1, apps/v1, batch/v1) as of Kubernetes 1.35.

/// The fields of one object type.
pub struct Fields {
    /// Decoded into probebench's model.
    pub modeled: &'static [&'static str],
    /// Valid Kubernetes fields that probebench does not model: accepted and ignored.
    pub other: &'static [&'static str],
}

impl Fields {
    pub fn contains(&self, name: &str) -> bool {
        self.modeled.contains(&name) || self.other.contains(&name)
    }

    pub fn all(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.modeled.iter().chain(self.other.iter()).copied()
    }
}

pub const OBJECT: Fields = Fields { modeled: &["apiVersion", "kind", "metadata", "spec"], other: &["status"] };

pub const LIST: Fields = Fields { modeled: &["apiVersion", "kind", "items"], other: &["metadata"] };

pub const OBJECT_META: Fields = Fields {
    modeled: &["name", "generateName", "namespace", "annotations"],
    other: &[
        "labels",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "ownerReferences",
        "finalizers",
        "managedFields",
        "selfLink",
    ],
};

pub const POD_TEMPLATE_SPEC: Fields = Fields { modeled: &["metadata", "spec"], other: &[] };

pub const DEPLOYMENT_SPEC: Fields = Fields {
    modeled: &["replicas", "template"],
    other: &["selector", "strategy", "minReadySeconds", "revisionHistoryLimit", "paused", "progressDeadlineSeconds"],
};

pub const STATEFUL_SET_SPEC: Fields = Fields {
    modeled: &["replicas", "template"],
    other: &[
        "selector",
        "volumeClaimTemplates",
        "serviceName",
        "podManagementPolicy",
        "updateStrategy",
        "revisionHistoryLimit",
        "minReadySeconds",
        "persistentVolumeClaimRetentionPolicy",
        "ordinals",
    ],
};

pub const DAEMON_SET_SPEC: Fields = Fields {
    modeled: &["template"],
    other: &["selector", "updateStrategy", "minReadySeconds", "revisionHistoryLimit"],
};

pub const REPLICA_SET_SPEC: Fields =
    Fields { modeled: &["replicas", "template"], other: &["selector", "minReadySeconds"] };

pub const JOB_SPEC: Fields = Fields {
    modeled: &["parallelism", "template"],
    other: &[
        "completions",
        "activeDeadlineSeconds",
        "podFailurePolicy",
        "successPolicy",
        "backoffLimit",
        "backoffLimitPerIndex",
        "maxFailedIndexes",
        "selector",
        "manualSelector",
        "ttlSecondsAfterFinished",
        "completionMode",
        "suspend",
        "podReplacementPolicy",
        "managedBy",
    ],
};

pub const CRON_JOB_SPEC: Fields = Fields {
    modeled: &["jobTemplate"],
    other: &[
        "schedule",
        "timeZone",
        "startingDeadlineSeconds",
        "concurrencyPolicy",
        "suspend",
        "successfulJobsHistoryLimit",
        "failedJobsHistoryLimit",
    ],
};

pub const JOB_TEMPLATE_SPEC: Fields = Fields { modeled: &["metadata", "spec"], other: &[] };

pub const POD_SPEC: Fields = Fields {
    modeled: &["containers", "initContainers", "restartPolicy", "terminationGracePeriodSeconds", "nodeName"],
    other: &[
        "volumes",
        "ephemeralContainers",
        "activeDeadlineSeconds",
        "dnsPolicy",
        "nodeSelector",
        "serviceAccountName",
        "serviceAccount",
        "automountServiceAccountToken",
        "hostNetwork",
        "hostPID",
        "hostIPC",
        "shareProcessNamespace",
        "securityContext",
        "imagePullSecrets",
        "hostname",
        "subdomain",
        "affinity",
        "schedulerName",
        "tolerations",
        "hostAliases",
        "priorityClassName",
        "priority",
        "dnsConfig",
        "readinessGates",
        "runtimeClassName",
        "enableServiceLinks",
        "preemptionPolicy",
        "overhead",
        "topologySpreadConstraints",
        "setHostnameAsFQDN",
        "os",
        "hostUsers",
        "schedulingGates",
        "resourceClaims",
        "resources",
        "hostnameOverride",
        "workloadRef",
    ],
};

pub const CONTAINER: Fields = Fields {
    modeled: &[
        "name",
        "image",
        "imagePullPolicy",
        "command",
        "args",
        "ports",
        "env",
        "livenessProbe",
        "readinessProbe",
        "startupProbe",
        "lifecycle",
        "restartPolicy",
    ],
    other: &[
        "workingDir",
        "envFrom",
        "resources",
        "resizePolicy",
        "restartPolicyRules",
        "volumeMounts",
        "volumeDevices",
        "terminationMessagePath",
        "terminationMessagePolicy",
        "securityContext",
        "stdin",
        "stdinOnce",
        "tty",
    ],
};

pub const CONTAINER_PORT: Fields =
    Fields { modeled: &["name", "containerPort", "protocol"], other: &["hostPort", "hostIP"] };

pub const ENV_VAR: Fields = Fields { modeled: &["name", "value", "valueFrom"], other: &[] };

pub const PROBE: Fields = Fields {
    modeled: &[
        "exec",
        "httpGet",
        "tcpSocket",
        "grpc",
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
        "terminationGracePeriodSeconds",
    ],
    other: &[],
};

pub const EXEC_ACTION: Fields = Fields { modeled: &["command"], other: &[] };

pub const HTTP_GET_ACTION: Fields = Fields { modeled: &["path", "port", "host", "scheme", "httpHeaders"], other: &[] };

pub const HTTP_HEADER: Fields = Fields { modeled: &["name", "value"], other: &[] };

pub const TCP_SOCKET_ACTION: Fields = Fields { modeled: &["port", "host"], other: &[] };

pub const GRPC_ACTION: Fields = Fields { modeled: &["port", "service"], other: &[] };

pub const LIFECYCLE: Fields = Fields { modeled: &["postStart", "preStop"], other: &["stopSignal"] };

pub const LIFECYCLE_HANDLER: Fields = Fields { modeled: &["exec", "httpGet", "tcpSocket", "sleep"], other: &[] };

pub const SLEEP_ACTION: Fields = Fields { modeled: &["seconds"], other: &[] };
