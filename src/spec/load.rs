//! Loading manifests as people have them: a Pod; the pod template of a Deployment,
//! StatefulSet, DaemonSet, ReplicaSet, Job or CronJob; a `kind: List`; several documents in
//! one file. Each pod-bearing object is decoded, defaulted and validated (all errors
//! collected); other kinds are skipped with a note.

use serde_yaml::{Mapping, Value};

use super::decode::{Decoder, child, get, index};
use super::defaults;
use super::error::{FieldError, LoadError, go_quote};
use super::fields::{self, Fields};
use super::suggest;
use super::types::Pod;
use super::validate;
use super::yaml::{self, type_name};

/// The pods found in one input, and notes about what was skipped.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub pods: Vec<Pod>,
    pub notes: Vec<String>,
}

impl Loaded {
    /// Containers across all pod templates (a Deployment's template counts once).
    pub fn container_count(&self) -> usize {
        self.pods.iter().map(|p| p.spec.containers.len() + p.spec.init_containers.len()).sum()
    }

    pub fn probe_count(&self) -> usize {
        self.pods
            .iter()
            .flat_map(|p| p.spec.containers.iter().chain(p.spec.init_containers.iter()))
            .map(|c| c.probes().count())
            .sum()
    }
}

/// How a pod-bearing kind holds its pod spec.
struct WorkloadKind {
    kind: &'static str,
    api_versions: &'static [&'static str],
    spec_fields: Option<&'static Fields>,
}

const POD_KINDS: &[WorkloadKind] = &[
    WorkloadKind { kind: "Pod", api_versions: &["v1"], spec_fields: None },
    WorkloadKind { kind: "Deployment", api_versions: &["apps/v1"], spec_fields: Some(&fields::DEPLOYMENT_SPEC) },
    WorkloadKind { kind: "StatefulSet", api_versions: &["apps/v1"], spec_fields: Some(&fields::STATEFUL_SET_SPEC) },
    WorkloadKind { kind: "DaemonSet", api_versions: &["apps/v1"], spec_fields: Some(&fields::DAEMON_SET_SPEC) },
    WorkloadKind { kind: "ReplicaSet", api_versions: &["apps/v1"], spec_fields: Some(&fields::REPLICA_SET_SPEC) },
    WorkloadKind { kind: "Job", api_versions: &["batch/v1"], spec_fields: Some(&fields::JOB_SPEC) },
    WorkloadKind { kind: "CronJob", api_versions: &["batch/v1"], spec_fields: Some(&fields::CRON_JOB_SPEC) },
];

/// Built-in kinds that carry no pods: skipped with a note. (Custom resources — an apiVersion
/// whose group is not a Kubernetes one — are skipped too.)
const OTHER_KINDS: &[&str] = &[
    "Service",
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "Namespace",
    "Ingress",
    "IngressClass",
    "NetworkPolicy",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "StorageClass",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "LimitRange",
    "ResourceQuota",
    "PriorityClass",
    "Endpoints",
    "EndpointSlice",
    "Event",
    "Node",
    "PodTemplate",
    "ReplicationController",
    "CustomResourceDefinition",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "RuntimeClass",
    "Lease",
    "CSIDriver",
    "VolumeAttachment",
    "APIService",
    "Gateway",
    "HTTPRoute",
    "GatewayClass",
    "GRPCRoute",
];

/// Load a file path, or standard input for `-`.
pub fn load_file(path: &str) -> Result<Loaded, Vec<LoadError>> {
    let name = yaml::display_name(path);
    let text =
        yaml::read_text(path).map_err(|e| vec![LoadError::File { file: name.clone(), message: e.to_string() }])?;
    load_str(&name, &text)
}

/// Load YAML text; `file` names it in messages.
pub fn load_str(file: &str, text: &str) -> Result<Loaded, Vec<LoadError>> {
    let file_error = |message: String| LoadError::File { file: file.to_string(), message };
    let docs = yaml::parse_documents(text).map_err(|e| vec![file_error(e.to_string())])?;
    let mut loaded = Loaded::default();
    let mut errors = Vec::new();
    let multi = docs.len() > 1;
    for (i, doc) in docs.iter().enumerate() {
        if matches!(doc, Value::Null) {
            continue;
        }
        let prefix = if multi { format!("document {}: ", i + 1) } else { String::new() };
        load_object(file, doc, i, &prefix, &mut loaded, &mut errors);
    }
    if loaded.pods.is_empty() && errors.is_empty() && loaded.notes.is_empty() {
        errors.push(file_error("no Kubernetes objects found (the file is empty)".to_string()));
    }
    if errors.is_empty() { Ok(loaded) } else { Err(errors) }
}

fn load_object(
    file: &str,
    doc: &Value,
    document: usize,
    prefix: &str,
    loaded: &mut Loaded,
    errors: &mut Vec<LoadError>,
) {
    let file_error =
        |message: String| LoadError::File { file: file.to_string(), message: format!("{prefix}{message}") };
    let Value::Mapping(m) = doc else {
        errors.push(file_error(format!(
            "expected a Kubernetes object (a map with apiVersion and kind), found {}",
            type_name(doc)
        )));
        return;
    };
    let kind = get(m, "kind").and_then(Value::as_str);
    let api_version = get(m, "apiVersion").and_then(Value::as_str);
    let (kind, api_version) = match (kind, api_version) {
        (Some(k), Some(a)) => (k, a),
        (k, a) => {
            let mut missing = Vec::new();
            if a.is_none() {
                missing.push("apiVersion not set");
            }
            if k.is_none() {
                missing.push("kind not set");
            }
            errors.push(file_error(format!("error validating data: [{}]", missing.join(", "))));
            return;
        }
    };

    if kind == "List" {
        load_list(file, m, document, prefix, loaded, errors);
        return;
    }
    if let Some(wk) = POD_KINDS.iter().find(|w| w.kind == kind) {
        if !wk.api_versions.contains(&api_version) {
            errors.push(file_error(format!(
                "no matches for kind {} in version {} (expected {})",
                go_quote(kind),
                go_quote(api_version),
                wk.api_versions.join(", ")
            )));
            return;
        }
        match load_workload(wk, m, document) {
            Ok(pod) => loaded.pods.push(pod),
            Err((object, errs)) => errors.push(LoadError::Invalid {
                file: file.to_string(),
                location: prefix.to_string(),
                object,
                errors: errs,
            }),
        }
        return;
    }
    let name = get(m, "metadata")
        .and_then(Value::as_mapping)
        .and_then(|md| get(md, "name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let is_custom = api_version.contains('.') && !api_version.split('/').next().unwrap_or("").ends_with("k8s.io");
    if OTHER_KINDS.contains(&kind) || is_custom {
        loaded.notes.push(format!("{file}: {prefix}skipped {kind} {} (no pods in it)", go_quote(name)));
        return;
    }
    let known = POD_KINDS.iter().map(|w| w.kind).chain(OTHER_KINDS.iter().copied());
    let hint = match suggest::nearest(kind, known) {
        Some(s) => format!(", did you mean {}?", go_quote(s)),
        None => String::new(),
    };
    errors.push(file_error(format!("unknown kind {} in version {}{hint}", go_quote(kind), go_quote(api_version))));
}

fn load_list(file: &str, m: &Mapping, document: usize, prefix: &str, loaded: &mut Loaded, errors: &mut Vec<LoadError>) {
    let mut d = Decoder::default();
    d.check_fields(m, "", &fields::LIST);
    let items: &[Value] = match get(m, "items") {
        Some(v) => d.list(v, "items"),
        None => &[],
    };
    if !d.errors.is_empty() {
        errors.push(LoadError::Invalid {
            file: file.to_string(),
            location: prefix.to_string(),
            object: "List".to_string(),
            errors: d.errors,
        });
        return;
    }
    for (i, item) in items.iter().enumerate() {
        let item_prefix = format!("{prefix}{}: ", index("items", i));
        load_object(file, item, document, &item_prefix, loaded, errors);
    }
}

/// Decode, default and validate one pod-bearing object. On failure returns the object's
/// name for the message (`Deployment "web"`) and every error.
fn load_workload(wk: &WorkloadKind, m: &Mapping, document: usize) -> Result<Pod, (String, Vec<FieldError>)> {
    let mut d = Decoder::default();
    d.check_fields(m, "", &fields::OBJECT);
    let meta = object_meta(&mut d, m, "metadata");
    let object = format!("{} {}", wk.kind, go_quote(&meta.name));
    if meta.name.is_empty() && meta.generate_name.is_empty() {
        d.push(FieldError::required("metadata.name", "name or generateName is required"));
    }

    let (spec_path, template_meta, spec_value, replicas) = match wk.spec_fields {
        None => ("spec".to_string(), None, get(m, "spec"), 1),
        Some(fields) => match workload_template(&mut d, wk.kind, fields, m) {
            Some(t) => t,
            None => return Err((object, d.errors)),
        },
    };
    let Some(spec_value) = spec_value else {
        d.push(FieldError::required(spec_path.clone(), ""));
        return Err((object, d.errors));
    };
    let spec = d.pod_spec(spec_value, &spec_path);
    if !d.errors.is_empty() {
        return Err((object, d.errors));
    }

    let annotations = template_meta.map(|t| t.annotations).unwrap_or(meta.annotations);
    let mut pod = Pod {
        name: if meta.name.is_empty() { meta.generate_name.clone() } else { meta.name.clone() },
        namespace: if meta.namespace.is_empty() { "default".to_string() } else { meta.namespace },
        annotations,
        spec,
        source: super::types::Source { kind: wk.kind.to_string(), name: meta.name, replicas, spec_path, document },
    };
    defaults::apply(&mut pod);
    let mut errs = validate::validate_object_name(&pod.source.name);
    errs.extend(validate::validate_pod(&pod));
    errs.extend(validate::validate_template_restart_policy(&pod));
    if errs.is_empty() { Ok(pod) } else { Err((object, errs)) }
}

#[derive(Default)]
struct Meta {
    name: String,
    generate_name: String,
    namespace: String,
    annotations: std::collections::BTreeMap<String, String>,
}

fn object_meta(d: &mut Decoder, parent: &Mapping, path: &str) -> Meta {
    let mut meta = Meta::default();
    let Some(v) = get(parent, "metadata") else {
        return meta;
    };
    let Some(m) = d.object(v, path, &fields::OBJECT_META) else {
        return meta;
    };
    let s =
        |d: &mut Decoder, name: &str| get(m, name).and_then(|v| d.string(v, &child(path, name))).unwrap_or_default();
    meta.name = s(d, "name");
    meta.generate_name = s(d, "generateName");
    meta.namespace = s(d, "namespace");
    if let Some(v) = get(m, "annotations") {
        meta.annotations = d.string_map(v, &child(path, "annotations"));
    }
    if let Some(v) = get(m, "labels") {
        d.string_map(v, &child(path, "labels"));
    }
    meta
}

type Template<'v> = (String, Option<Meta>, Option<&'v Value>, u32);

/// Find the pod template of a workload: its path, metadata, pod spec and replica count.
fn workload_template<'v>(d: &mut Decoder, kind: &str, fields: &Fields, m: &'v Mapping) -> Option<Template<'v>> {
    let Some(spec_v) = get(m, "spec") else {
        d.push(FieldError::required("spec", ""));
        return None;
    };
    let spec = d.object(spec_v, "spec", fields)?;
    let (spec, base) = if kind == "CronJob" {
        // CronJob: spec.jobTemplate.spec.template.spec
        let Some(jt) = get(spec, "jobTemplate") else {
            d.push(FieldError::required("spec.jobTemplate", ""));
            return None;
        };
        let jt = d.object(jt, "spec.jobTemplate", &fields::JOB_TEMPLATE_SPEC)?;
        let Some(js) = get(jt, "spec") else {
            d.push(FieldError::required("spec.jobTemplate.spec", ""));
            return None;
        };
        (d.object(js, "spec.jobTemplate.spec", &fields::JOB_SPEC)?, "spec.jobTemplate.spec".to_string())
    } else {
        (spec, "spec".to_string())
    };
    let replicas_field = if kind == "Job" || kind == "CronJob" { "parallelism" } else { "replicas" };
    let replicas = match (fields_has(kind, replicas_field), get(spec, replicas_field)) {
        (true, Some(v)) => {
            let p = child(&base, replicas_field);
            match d.int32(v, &p) {
                Some(r) if r < 0 => {
                    d.push(FieldError::invalid(p, r, "must be greater than or equal to 0"));
                    0
                }
                Some(r) => r as u32,
                None => 0,
            }
        }
        _ => 1,
    };
    let template_path = child(&base, "template");
    let Some(t) = get(spec, "template") else {
        d.push(FieldError::required(template_path, ""));
        return None;
    };
    let tm = d.object(t, &template_path, &fields::POD_TEMPLATE_SPEC)?;
    let meta = object_meta(d, tm, &child(&template_path, "metadata"));
    Some((child(&template_path, "spec"), Some(meta), get(tm, "spec"), replicas))
}

fn fields_has(kind: &str, field: &str) -> bool {
    match kind {
        "DaemonSet" => false,
        _ => field == "replicas" || field == "parallelism",
    }
}

/// Load a bare Probe object (what stands under `livenessProbe:`), defaulted and validated as
/// the API server would for a probe of type `t`. Errors carry paths from the probe's root.
pub fn load_probe(text: &str, t: super::types::ProbeType) -> Result<super::types::Probe, Vec<String>> {
    let docs = yaml::parse_documents(text).map_err(|e| vec![e.to_string()])?;
    let docs: Vec<&Value> = docs.iter().filter(|d| !matches!(d, Value::Null)).collect();
    let [doc] = docs.as_slice() else {
        return Err(vec![format!("expected one Probe object, found {} documents", docs.len())]);
    };
    if let Value::Mapping(m) = doc {
        for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if m.contains_key(key) {
                return Err(vec![format!("found `{key}:`; give the Probe object itself (what stands under `{key}:`)")]);
            }
        }
    }
    let mut d = Decoder::default();
    let Some(mut probe) = d.probe(doc, "") else {
        return Err(d.errors.iter().map(|e| e.to_string()).collect());
    };
    if !d.errors.is_empty() {
        return Err(d.errors.iter().map(|e| e.to_string()).collect());
    }
    defaults::probe(&mut probe);
    let mut errs = Vec::new();
    validate::typed_probe(&probe, t, "", &mut errs);
    if errs.is_empty() { Ok(probe) } else { Err(errs.iter().map(|e| e.to_string()).collect()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(yaml: &str) -> Vec<String> {
        match load_str("t.yaml", yaml) {
            Ok(l) => panic!("expected errors, loaded {:?}", l.pods),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n    livenessProbe:\n      tcpSocket: {port: 80}\n";

    #[test]
    fn loads_a_pod() {
        let l = load_str("t.yaml", POD).unwrap();
        assert_eq!(l.pods.len(), 1);
        assert_eq!(l.pods[0].source.spec_path, "spec");
        assert_eq!((l.container_count(), l.probe_count()), (1, 1));
    }

    #[test]
    fn deployment_paths_and_replicas() {
        let y = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 5\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers:\n      - name: c\n        image: nginx\n        livenessProbe:\n          httpGet: {port: 80}\n          successThreshold: 2\n";
        assert_eq!(
            errors(y),
            [
                "t.yaml: The Deployment \"web\" is invalid: spec.template.spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"
            ]
        );
        let ok = y.replace("          successThreshold: 2\n", "");
        let l = load_str("t.yaml", &ok).unwrap();
        assert_eq!(l.pods[0].source.replicas, 5);
        assert_eq!(l.pods[0].source.kind, "Deployment");
    }

    #[test]
    fn skips_other_kinds_with_a_note() {
        let y = format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: s}}\nspec: {{ports: [{{port: 80}}]}}\n---\n{POD}"
        );
        let l = load_str("t.yaml", &y).unwrap();
        assert_eq!(l.pods.len(), 1);
        assert_eq!(l.notes, ["t.yaml: document 1: skipped Service \"s\" (no pods in it)"]);
    }

    #[test]
    fn unknown_kind_suggests() {
        let y = POD.replace("kind: Pod", "kind: Podd");
        assert_eq!(errors(&y), ["t.yaml: unknown kind \"Podd\" in version \"v1\", did you mean \"Pod\"?"]);
    }

    #[test]
    fn list_items_are_loaded() {
        let y = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n    containers:\n    - name: c\n      image: nginx:1.27\n";
        let l = load_str("t.yaml", y).unwrap();
        assert_eq!(l.pods.len(), 1);
        assert_eq!(l.pods[0].name, "p");
    }
}
