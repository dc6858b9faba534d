//! Behaviour files: which pod/container gets which behaviour, plus scheduled actions for
//! the simulator. A bare behaviour document is accepted too (it applies to all).

use std::collections::BTreeMap;
use std::time::Duration;

use serde_yaml::Value;

use super::Behaviour;
use super::error::{BehaviourError, FieldError, FieldErrorKind};
use super::glob::Glob;
use super::parse;
use super::yaml::{Ctx, Fields, boolean, duration, index, join, string};
use crate::seed::container_seed;

/// Keys that make a document a behaviour file rather than a bare behaviour.
const FILE_KEYS: &[&str] = &["seed", "default", "behaviours", "rules", "actions"];

/// One mapping rule: the first rule whose globs match a pod and container wins.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Pod name pattern.
    pub pod: Glob,
    /// Container name pattern.
    pub container: Glob,
    /// The behaviour.
    pub behaviour: Behaviour,
}

/// A scheduled action (executed by the simulator; the servers ignore them).
#[derive(Debug, Clone, PartialEq)]
pub struct Action {
    /// Time since the run started.
    pub at: Duration,
    /// What happens.
    pub kind: ActionKind,
}

/// What a scheduled action does.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionKind {
    /// Delete the matching pods (`kubectl delete pod`).
    Delete {
        /// Pod name pattern.
        pods: Glob,
        /// `--force --grace-period=0`.
        force: bool,
        /// `--grace-period`, if set (else the pod's terminationGracePeriodSeconds).
        grace: Option<Duration>,
    },
    /// Mark the node (un)schedulable: new pods stay Pending while unschedulable.
    Node {
        /// False = cordoned.
        schedulable: bool,
    },
    /// Switch matching containers to another behaviour, live.
    SetBehaviour {
        /// Pod name pattern.
        pod: Glob,
        /// Container name pattern.
        container: Glob,
        /// The new behaviour.
        behaviour: Behaviour,
    },
}

/// A validated behaviour file.
#[derive(Debug, Clone, PartialEq)]
pub struct BehaviourFile {
    /// Run seed; each container's seed is derived from it and its names.
    pub seed: u64,
    /// For containers no rule matches (built-in: [`Behaviour::default_healthy`]).
    pub default: Behaviour,
    /// Named behaviours (`behaviours:`), for reference.
    pub named: BTreeMap<String, Behaviour>,
    /// Mapping rules, in order.
    pub rules: Vec<Rule>,
    /// Scheduled actions, sorted by time (stable).
    pub actions: Vec<Action>,
}

impl Default for BehaviourFile {
    fn default() -> Self {
        BehaviourFile {
            seed: 0,
            default: Behaviour::default_healthy(),
            named: BTreeMap::new(),
            rules: Vec::new(),
            actions: Vec::new(),
        }
    }
}

impl BehaviourFile {
    /// The first matching rule's behaviour, if any rule matches.
    pub fn rule_for(&self, pod: &str, container: &str) -> Option<&Behaviour> {
        self.rules.iter().find(|r| r.pod.matches(pod) && r.container.matches(container)).map(|r| &r.behaviour)
    }

    /// The behaviour of a container: the first matching rule's, else the default.
    pub fn behaviour_for(&self, pod: &str, container: &str) -> &Behaviour {
        self.rule_for(pod, container).unwrap_or(&self.default)
    }

    /// The seed of a container, derived from the file's seed and its names.
    pub fn seed_for(&self, pod: &str, container: &str) -> u64 {
        container_seed(self.seed, pod, container)
    }
}

fn load(text: &str) -> Result<Value, BehaviourError> {
    serde_yaml::from_str::<Value>(text).map_err(|e| BehaviourError {
        errors: vec![FieldError { path: String::new(), kind: FieldErrorKind::Syntax { detail: e.to_string() } }],
    })
}

fn finish<T>(ctx: Ctx, value: Option<T>) -> Result<T, BehaviourError> {
    match value {
        Some(v) if ctx.errors.is_empty() => Ok(v),
        _ => Err(BehaviourError {
            errors: if ctx.errors.is_empty() {
                vec![FieldError {
                    path: String::new(),
                    kind: FieldErrorKind::Forbidden { detail: "invalid behaviour".to_string() },
                }]
            } else {
                ctx.errors
            },
        }),
    }
}

/// Parses and validates one behaviour document. An empty document is the default.
pub fn parse_behaviour(yaml: &str) -> Result<Behaviour, BehaviourError> {
    let v = load(yaml)?;
    if v.is_null() {
        return Ok(Behaviour::default_healthy());
    }
    let mut ctx = Ctx::default();
    let spec = parse::spec(&mut ctx, "", &v, &[]);
    finish(ctx, spec.map(Behaviour::from_spec))
}

/// Parses and validates a behaviour file, or a bare behaviour (which then applies to
/// every container; it may carry `seed`). An empty document is the default file.
pub fn parse_behaviour_file(yaml: &str) -> Result<BehaviourFile, BehaviourError> {
    let v = load(yaml)?;
    if v.is_null() {
        return Ok(BehaviourFile::default());
    }
    let mut ctx = Ctx::default();
    let is_file = match &v {
        Value::Mapping(m) => FILE_KEYS.iter().filter(|k| **k != "seed").any(|k| m.contains_key(Value::from(*k))),
        _ => false,
    };
    let file = if is_file {
        file(&mut ctx, &v)
    } else {
        let seed = seed_of(&mut ctx, &v);
        parse::spec(&mut ctx, "", &v, &["seed"]).map(|s| BehaviourFile {
            seed: seed.unwrap_or(0),
            default: Behaviour::from_spec(s),
            ..BehaviourFile::default()
        })
    };
    finish(ctx, file)
}

fn seed_of(ctx: &mut Ctx, v: &Value) -> Option<u64> {
    let s = v.get("seed")?;
    match s.as_u64() {
        Some(n) => Some(n),
        None => {
            ctx.invalid("seed", s, "must be a non-negative integer");
            None
        }
    }
}

fn file(ctx: &mut Ctx, v: &Value) -> Option<BehaviourFile> {
    let f = Fields::new(ctx, "", v, FILE_KEYS)?;
    let mut out = BehaviourFile { seed: seed_of(ctx, v).unwrap_or(0), ..BehaviourFile::default() };
    if let Some(d) = f.get("default")
        && let Some(s) = parse::spec(ctx, "default", d, &[])
    {
        out.default = Behaviour::from_spec(s);
    }
    if let Some(b) = f.get("behaviours") {
        match b {
            Value::Mapping(m) => {
                for (k, bv) in m {
                    let Some(name) = k.as_str() else {
                        ctx.invalid("behaviours", k, "names must be strings");
                        continue;
                    };
                    if let Some(s) = parse::spec(ctx, &join("behaviours", name), bv, &[]) {
                        out.named.insert(name.to_string(), Behaviour::from_spec(s));
                    }
                }
            }
            other => ctx.invalid("behaviours", other, "must be a mapping of name to behaviour"),
        }
    }
    if let Some(r) = f.get("rules") {
        match r {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(rule) = rule(ctx, &index("rules", i), item, &out.named) {
                        out.rules.push(rule);
                    }
                }
            }
            other => ctx.invalid("rules", other, "must be a list of rules"),
        }
    }
    if let Some(a) = f.get("actions") {
        match a {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(act) = action(ctx, &index("actions", i), item, &out.named) {
                        out.actions.push(act);
                    }
                }
                out.actions.sort_by_key(|a| a.at);
            }
            other => ctx.invalid("actions", other, "must be a list of actions"),
        }
    }
    Some(out)
}

fn glob(ctx: &mut Ctx, path: &str, v: Option<&Value>) -> Option<Glob> {
    match v {
        None => Some(Glob::any()),
        Some(g) => string(ctx, path, g).map(Glob::new),
    }
}

/// A behaviour given by name (from `behaviours:`) or inline.
fn behaviour_ref(ctx: &mut Ctx, path: &str, v: &Value, named: &BTreeMap<String, Behaviour>) -> Option<Behaviour> {
    match v {
        Value::String(name) => match named.get(name) {
            Some(b) => Some(b.clone()),
            None => {
                let known: Vec<&str> = named.keys().map(String::as_str).collect();
                ctx.unsupported(path, v, &known);
                None
            }
        },
        _ => parse::spec(ctx, path, v, &[]).map(Behaviour::from_spec),
    }
}

fn rule(ctx: &mut Ctx, path: &str, v: &Value, named: &BTreeMap<String, Behaviour>) -> Option<Rule> {
    let f = Fields::new(ctx, path, v, &["pod", "container", "behaviour"])?;
    let pod = glob(ctx, &join(path, "pod"), f.get("pod"));
    let container = glob(ctx, &join(path, "container"), f.get("container"));
    let behaviour = match f.get("behaviour") {
        Some(b) => behaviour_ref(ctx, &join(path, "behaviour"), b, named),
        None => {
            ctx.required(&join(path, "behaviour"));
            None
        }
    };
    Some(Rule { pod: pod?, container: container?, behaviour: behaviour? })
}

fn action(ctx: &mut Ctx, path: &str, v: &Value, named: &BTreeMap<String, Behaviour>) -> Option<Action> {
    let f = Fields::new(ctx, path, v, &["at", "delete", "force", "grace", "node", "pod", "container", "behaviour"])?;
    let at = match f.get("at") {
        Some(a) => duration(ctx, &join(path, "at"), a),
        None => {
            ctx.required(&join(path, "at"));
            None
        }
    };
    let kinds: Vec<&str> = ["delete", "node", "behaviour"].into_iter().filter(|k| f.has(k)).collect();
    if kinds.len() != 1 {
        ctx.invalid(path, v, "needs exactly one of `delete`, `node`, `behaviour`");
        return None;
    }
    let only = |ctx: &mut Ctx, allowed: &[&str]| {
        for k in f.keys() {
            if k != "at" && !allowed.contains(&k) {
                ctx.forbidden(&join(path, k), format!("does not go with `{}`", kinds[0]));
            }
        }
    };
    let kind = match kinds[0] {
        "delete" => {
            only(ctx, &["delete", "force", "grace"]);
            let pods = glob(ctx, &join(path, "delete"), f.get("delete"));
            let force = match f.get("force") {
                Some(b) => boolean(ctx, &join(path, "force"), b),
                None => Some(false),
            };
            let grace = match f.get("grace") {
                Some(g) => Some(duration(ctx, &join(path, "grace"), g)?),
                None => None,
            };
            ActionKind::Delete { pods: pods?, force: force?, grace }
        }
        "node" => {
            only(ctx, &["node"]);
            let np = join(path, "node");
            let nv = f.get("node")?;
            match nv.as_str() {
                Some("unschedulable") => ActionKind::Node { schedulable: false },
                Some("schedulable") => ActionKind::Node { schedulable: true },
                _ => {
                    ctx.unsupported(&np, nv, &["unschedulable", "schedulable"]);
                    return None;
                }
            }
        }
        _ => {
            only(ctx, &["behaviour", "pod", "container"]);
            let pod = glob(ctx, &join(path, "pod"), f.get("pod"));
            let container = glob(ctx, &join(path, "container"), f.get("container"));
            let behaviour = behaviour_ref(ctx, &join(path, "behaviour"), f.get("behaviour")?, named);
            ActionKind::SetBehaviour { pod: pod?, container: container?, behaviour: behaviour? }
        }
    };
    Some(Action { at: at?, kind })
}
