//! Stage one of loading: YAML values to typed objects, with field paths.
//!
//! This is the API server's strict decoding: a field that is not valid where it stands is an
//! error naming it (with the nearest valid name), a value of the wrong type is an error, and
//! valid Kubernetes fields that probebench does not model are accepted. Every problem is
//! collected, not just the first, so a user fixes a file in one pass.

use std::collections::BTreeMap;

use serde_yaml::{Mapping, Value};

use super::error::{ErrorKind, FieldError};
use super::fields::{self, Fields};
use super::suggest;
use super::types::*;
use super::yaml::type_name;

/// `parent.name`, or `name` at the root.
pub fn child(path: &str, name: &str) -> String {
    if path.is_empty() { name.to_string() } else { format!("{path}.{name}") }
}

/// `parent[i]`.
pub fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Collects decoding errors while the typed objects are built.
#[derive(Default)]
pub struct Decoder {
    pub errors: Vec<FieldError>,
}

fn wrong_type(path: &str, v: &Value, expected: &'static str) -> FieldError {
    FieldError { path: path.to_string(), kind: ErrorKind::WrongType { value: describe(v), expected } }
}

/// A value as it appears in a "wrong type" message: scalars as written, collections by type.
fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => super::error::go_quote(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => type_name(other).to_string(),
    }
}

impl Decoder {
    pub fn push(&mut self, e: FieldError) {
        self.errors.push(e);
    }

    /// The value as a map, or an error at `path`.
    pub fn map<'v>(&mut self, v: &'v Value, path: &str) -> Option<&'v Mapping> {
        match v {
            Value::Mapping(m) => Some(m),
            other => {
                self.push(wrong_type(path, other, "an object (a map of fields)"));
                None
            }
        }
    }

    /// Check every key of `m` against the object's fields; unknown ones are errors with a
    /// suggestion ("did you mean").
    pub fn check_fields(&mut self, m: &Mapping, path: &str, known: &Fields) {
        for key in m.keys() {
            let Some(name) = key.as_str() else {
                self.push(FieldError {
                    path: path.to_string(),
                    kind: ErrorKind::WrongType { value: describe(key), expected: "a field name (a string)" },
                });
                continue;
            };
            if !known.contains(name) {
                let suggestion = suggest::nearest(name, known.all()).map(str::to_string);
                self.push(FieldError {
                    path: child(path, name),
                    kind: ErrorKind::UnknownField { name: name.to_string(), suggestion },
                });
            }
        }
    }

    /// A map value checked against its fields in one step.
    pub fn object<'v>(&mut self, v: &'v Value, path: &str, known: &Fields) -> Option<&'v Mapping> {
        let m = self.map(v, path)?;
        self.check_fields(m, path, known);
        Some(m)
    }

    pub fn string(&mut self, v: &Value, path: &str) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            other => {
                self.push(wrong_type(path, other, "a string"));
                None
            }
        }
    }

    fn int(&mut self, v: &Value, path: &str, min: i64, max: i64, expected: &'static str) -> Option<i64> {
        match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Some(i),
                _ => {
                    self.push(wrong_type(path, v, expected));
                    None
                }
            },
            other => {
                self.push(wrong_type(path, other, expected));
                None
            }
        }
    }

    pub fn int32(&mut self, v: &Value, path: &str) -> Option<i32> {
        self.int(v, path, i64::from(i32::MIN), i64::from(i32::MAX), "an integer (int32)")
            .and_then(|i| i32::try_from(i).ok())
    }

    pub fn int64(&mut self, v: &Value, path: &str) -> Option<i64> {
        self.int(v, path, i64::MIN, i64::MAX, "an integer (int64)")
    }

    pub fn bool(&mut self, v: &Value, path: &str) -> Option<bool> {
        match v {
            Value::Bool(b) => Some(*b),
            other => {
                self.push(wrong_type(path, other, "a boolean"));
                None
            }
        }
    }

    pub fn int_or_string(&mut self, v: &Value, path: &str) -> Option<IntOrString> {
        match v {
            Value::String(s) => Some(IntOrString::String(s.clone())),
            Value::Number(_) => self.int32(v, path).map(IntOrString::Int),
            other => {
                self.push(wrong_type(path, other, "an integer or a string"));
                None
            }
        }
    }

    pub fn list<'v>(&mut self, v: &'v Value, path: &str) -> &'v [Value] {
        match v {
            Value::Sequence(s) => s,
            other => {
                self.push(wrong_type(path, other, "a list"));
                &[]
            }
        }
    }

    pub fn string_list(&mut self, v: &Value, path: &str) -> Vec<String> {
        let items = self.list(v, path);
        items.iter().enumerate().filter_map(|(i, item)| self.string(item, &index(path, i))).collect()
    }

    pub fn string_map(&mut self, v: &Value, path: &str) -> BTreeMap<String, String> {
        let Some(m) = self.map(v, path) else {
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for (k, val) in m {
            let Some(key) = k.as_str() else {
                self.push(wrong_type(path, k, "a map with string keys"));
                continue;
            };
            if let Some(s) = self.string(val, &child(path, key)) {
                out.insert(key.to_string(), s);
            }
        }
        out
    }
}

/// A field's value, treating an explicit `null` like an absent field (as JSON decoding into
/// Go pointers and zero values does).
pub fn get<'v>(m: &'v Mapping, name: &str) -> Option<&'v Value> {
    match m.get(name) {
        None | Some(Value::Null) => None,
        Some(v) => Some(v),
    }
}

impl Decoder {
    fn opt_string(&mut self, m: &Mapping, path: &str, name: &str) -> Option<String> {
        get(m, name).and_then(|v| self.string(v, &child(path, name)))
    }

    fn string_or_empty(&mut self, m: &Mapping, path: &str, name: &str) -> String {
        self.opt_string(m, path, name).unwrap_or_default()
    }

    fn int32_or_zero(&mut self, m: &Mapping, path: &str, name: &str) -> i32 {
        get(m, name).and_then(|v| self.int32(v, &child(path, name))).unwrap_or(0)
    }

    fn opt_int64(&mut self, m: &Mapping, path: &str, name: &str) -> Option<i64> {
        get(m, name).and_then(|v| self.int64(v, &child(path, name)))
    }

    /// `spec` of a Pod (or a template's pod spec) at `path`.
    pub fn pod_spec(&mut self, v: &Value, path: &str) -> PodSpec {
        let mut spec = PodSpec {
            containers: Vec::new(),
            init_containers: Vec::new(),
            restart_policy: String::new(),
            termination_grace_period_seconds: None,
            node_name: None,
        };
        let Some(m) = self.object(v, path, &fields::POD_SPEC) else {
            return spec;
        };
        spec.containers = self.containers(m, path, "containers");
        spec.init_containers = self.containers(m, path, "initContainers");
        spec.restart_policy = self.string_or_empty(m, path, "restartPolicy");
        spec.termination_grace_period_seconds = self.opt_int64(m, path, "terminationGracePeriodSeconds");
        spec.node_name = self.opt_string(m, path, "nodeName");
        spec
    }

    fn containers(&mut self, m: &Mapping, path: &str, name: &str) -> Vec<Container> {
        let Some(v) = get(m, name) else {
            return Vec::new();
        };
        let list_path = child(path, name);
        let items = self.list(v, &list_path);
        items.iter().enumerate().map(|(i, c)| self.container(c, &index(&list_path, i))).collect()
    }

    pub fn container(&mut self, v: &Value, path: &str) -> Container {
        let mut c = Container {
            name: String::new(),
            image: String::new(),
            image_pull_policy: String::new(),
            command: Vec::new(),
            args: Vec::new(),
            ports: Vec::new(),
            env: Vec::new(),
            liveness_probe: None,
            readiness_probe: None,
            startup_probe: None,
            lifecycle: None,
            restart_policy: None,
        };
        let Some(m) = self.object(v, path, &fields::CONTAINER) else {
            return c;
        };
        c.name = self.string_or_empty(m, path, "name");
        c.image = self.string_or_empty(m, path, "image");
        c.image_pull_policy = self.string_or_empty(m, path, "imagePullPolicy");
        if let Some(v) = get(m, "command") {
            c.command = self.string_list(v, &child(path, "command"));
        }
        if let Some(v) = get(m, "args") {
            c.args = self.string_list(v, &child(path, "args"));
        }
        if let Some(v) = get(m, "ports") {
            let p = child(path, "ports");
            let items = self.list(v, &p);
            c.ports = items.iter().enumerate().filter_map(|(i, v)| self.container_port(v, &index(&p, i))).collect();
        }
        if let Some(v) = get(m, "env") {
            let p = child(path, "env");
            let items = self.list(v, &p);
            c.env = items.iter().enumerate().filter_map(|(i, v)| self.env_var(v, &index(&p, i))).collect();
        }
        for t in ProbeType::ALL {
            let probe = get(m, t.field()).and_then(|v| self.probe(v, &child(path, t.field())));
            match t {
                ProbeType::Startup => c.startup_probe = probe,
                ProbeType::Readiness => c.readiness_probe = probe,
                ProbeType::Liveness => c.liveness_probe = probe,
            }
        }
        c.lifecycle = get(m, "lifecycle").and_then(|v| self.lifecycle(v, &child(path, "lifecycle")));
        c.restart_policy = self.opt_string(m, path, "restartPolicy");
        c
    }

    fn container_port(&mut self, v: &Value, path: &str) -> Option<ContainerPort> {
        let m = self.object(v, path, &fields::CONTAINER_PORT)?;
        // hostPort/hostIP are not modelled but must still have the right types.
        if let Some(v) = get(m, "hostPort") {
            self.int32(v, &child(path, "hostPort"));
        }
        Some(ContainerPort {
            name: self.opt_string(m, path, "name"),
            container_port: self.int32_or_zero(m, path, "containerPort"),
            protocol: self.string_or_empty(m, path, "protocol"),
        })
    }

    fn env_var(&mut self, v: &Value, path: &str) -> Option<EnvVar> {
        let m = self.object(v, path, &fields::ENV_VAR)?;
        let value_from = match get(m, "valueFrom") {
            Some(v) => self.map(v, &child(path, "valueFrom")).is_some(),
            None => false,
        };
        Some(EnvVar {
            name: self.string_or_empty(m, path, "name"),
            value: self.opt_string(m, path, "value"),
            value_from,
        })
    }

    /// A Probe object at `path` (as it stands under `livenessProbe:`).
    pub fn probe(&mut self, v: &Value, path: &str) -> Option<Probe> {
        let m = self.object(v, path, &fields::PROBE)?;
        Some(Probe {
            handler: Handler {
                exec: get(m, "exec").and_then(|v| self.exec(v, &child(path, "exec"))),
                http_get: get(m, "httpGet").and_then(|v| self.http_get(v, &child(path, "httpGet"))),
                tcp_socket: get(m, "tcpSocket").and_then(|v| self.tcp_socket(v, &child(path, "tcpSocket"))),
                grpc: get(m, "grpc").and_then(|v| self.grpc(v, &child(path, "grpc"))),
            },
            initial_delay_seconds: self.int32_or_zero(m, path, "initialDelaySeconds"),
            timeout_seconds: self.int32_or_zero(m, path, "timeoutSeconds"),
            period_seconds: self.int32_or_zero(m, path, "periodSeconds"),
            success_threshold: self.int32_or_zero(m, path, "successThreshold"),
            failure_threshold: self.int32_or_zero(m, path, "failureThreshold"),
            termination_grace_period_seconds: self.opt_int64(m, path, "terminationGracePeriodSeconds"),
        })
    }

    fn exec(&mut self, v: &Value, path: &str) -> Option<ExecAction> {
        let m = self.object(v, path, &fields::EXEC_ACTION)?;
        let command = match get(m, "command") {
            Some(v) => self.string_list(v, &child(path, "command")),
            None => Vec::new(),
        };
        Some(ExecAction { command })
    }

    fn http_get(&mut self, v: &Value, path: &str) -> Option<HttpGetAction> {
        let m = self.object(v, path, &fields::HTTP_GET_ACTION)?;
        let port = match get(m, "port") {
            Some(v) => self.int_or_string(v, &child(path, "port")).unwrap_or(IntOrString::Int(0)),
            None => IntOrString::Int(0),
        };
        let mut http_headers = Vec::new();
        if let Some(v) = get(m, "httpHeaders") {
            let p = child(path, "httpHeaders");
            let items = self.list(v, &p);
            for (i, h) in items.iter().enumerate() {
                let hp = index(&p, i);
                if let Some(hm) = self.object(h, &hp, &fields::HTTP_HEADER) {
                    http_headers.push(HttpHeader {
                        name: self.string_or_empty(hm, &hp, "name"),
                        value: self.string_or_empty(hm, &hp, "value"),
                    });
                }
            }
        }
        Some(HttpGetAction {
            path: self.string_or_empty(m, path, "path"),
            port,
            host: self.opt_string(m, path, "host"),
            scheme: self.string_or_empty(m, path, "scheme"),
            http_headers,
        })
    }

    fn tcp_socket(&mut self, v: &Value, path: &str) -> Option<TcpSocketAction> {
        let m = self.object(v, path, &fields::TCP_SOCKET_ACTION)?;
        let port = match get(m, "port") {
            Some(v) => self.int_or_string(v, &child(path, "port")).unwrap_or(IntOrString::Int(0)),
            None => IntOrString::Int(0),
        };
        Some(TcpSocketAction { port, host: self.opt_string(m, path, "host") })
    }

    fn grpc(&mut self, v: &Value, path: &str) -> Option<GrpcAction> {
        let m = self.object(v, path, &fields::GRPC_ACTION)?;
        Some(GrpcAction { port: self.int32_or_zero(m, path, "port"), service: self.opt_string(m, path, "service") })
    }

    fn lifecycle(&mut self, v: &Value, path: &str) -> Option<Lifecycle> {
        let m = self.object(v, path, &fields::LIFECYCLE)?;
        Some(Lifecycle {
            post_start: get(m, "postStart").and_then(|v| self.lifecycle_handler(v, &child(path, "postStart"))),
            pre_stop: get(m, "preStop").and_then(|v| self.lifecycle_handler(v, &child(path, "preStop"))),
        })
    }

    fn lifecycle_handler(&mut self, v: &Value, path: &str) -> Option<LifecycleHandler> {
        let m = self.object(v, path, &fields::LIFECYCLE_HANDLER)?;
        let sleep = match get(m, "sleep") {
            Some(v) => {
                let sp = child(path, "sleep");
                self.object(v, &sp, &fields::SLEEP_ACTION)
                    .map(|sm| SleepAction { seconds: self.opt_int64(sm, &sp, "seconds").unwrap_or(0) })
            }
            None => None,
        };
        Some(LifecycleHandler {
            exec: get(m, "exec").and_then(|v| self.exec(v, &child(path, "exec"))),
            http_get: get(m, "httpGet").and_then(|v| self.http_get(v, &child(path, "httpGet"))),
            tcp_socket: get(m, "tcpSocket").and_then(|v| self.tcp_socket(v, &child(path, "tcpSocket"))),
            sleep,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(yaml: &str) -> (Option<Probe>, Vec<String>) {
        let v: Value = serde_yaml::from_str(yaml).unwrap();
        let mut d = Decoder::default();
        let p = d.probe(&v, "livenessProbe");
        (p, d.errors.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn suggests_the_field_a_typo_meant() {
        let (_, errs) = probe("httpGet: {port: 80}\ntimeoutSecoonds: 5\n");
        assert_eq!(
            errs,
            [r#"livenessProbe.timeoutSecoonds: unknown field "timeoutSecoonds", did you mean "timeoutSeconds"?"#]
        );
    }

    #[test]
    fn a_string_where_a_number_belongs_is_an_error() {
        let (_, errs) = probe("httpGet: {port: 80}\nperiodSeconds: \"10s\"\n");
        assert_eq!(errs, [r#"livenessProbe.periodSeconds: Invalid value: "10s": must be an integer (int32)"#]);
    }

    #[test]
    fn a_list_where_a_map_belongs_is_an_error() {
        let (p, errs) = probe("httpGet: [80]\n");
        assert_eq!(errs, ["livenessProbe.httpGet: Invalid value: a list: must be an object (a map of fields)"]);
        assert_eq!(p.map(|p| p.handler.http_get.is_none()), Some(true));
    }

    #[test]
    fn port_keeps_its_json_type() {
        // `port: "80"` is a string in the API, i.e. a port *name*, and validation rejects it.
        let (p, errs) = probe("tcpSocket: {port: \"80\"}\n");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(p.unwrap().handler.tcp_socket.unwrap().port, IntOrString::String("80".into()));
    }

    #[test]
    fn null_is_absent() {
        let (p, errs) = probe("exec: {command: [cat, x]}\nperiodSeconds: null\n");
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(p.unwrap().period_seconds, 0);
    }

    #[test]
    fn numbers_out_of_int32_range_are_errors() {
        let (_, errs) = probe("exec: {command: [x]}\nfailureThreshold: 3000000000\n");
        assert_eq!(errs, ["livenessProbe.failureThreshold: Invalid value: 3000000000: must be an integer (int32)"]);
    }
}
