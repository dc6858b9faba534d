//! Validation: parsed YAML -> typed [`Spec`], every error with its field path.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_yaml::Value;

use super::distribution::Distribution;
use super::model::{
    DEFAULT_MOUNT_ERROR, DEFAULT_PULL_ERROR, Flap, GrpcAnswer, Hook, ImageSpec, Latency, Pauses, Phase, PodConditions,
    Redirect, RedirectTarget, Response, Sigterm, Spec, Spike,
};
use super::yaml::{Ctx, Fields, boolean, byte_size, duration, fraction, index, integer, join, port, string};

/// The keys of a behaviour document.
const BEHAVIOUR_KEYS: &[&str] = &[
    "description",
    "startup",
    "starting",
    "latency",
    "phases",
    "repeat",
    "respond",
    "flap",
    "ports",
    "paths",
    "pauses",
    "sigterm",
    "grpc_services",
    "image",
    "post_start",
    "pre_stop",
    "pod",
];

/// Keys that describe a single phase when written at the top level.
const SHORTHAND_KEYS: &[&str] = &["respond", "flap", "ports", "paths"];

/// Validates one behaviour mapping at `path`. `extra` keys are allowed and ignored (the
/// caller reads them, e.g. `seed` in a bare behaviour file).
pub(crate) fn spec(ctx: &mut Ctx, path: &str, v: &Value, extra: &[&str]) -> Option<Spec> {
    let mut allowed: Vec<&str> = BEHAVIOUR_KEYS.to_vec();
    allowed.extend_from_slice(extra);
    let f = Fields::new(ctx, path, v, &allowed)?;
    let before = ctx.errors.len();
    let mut out = Spec::default_healthy();

    if let Some(d) = f.get("description") {
        string(ctx, &join(path, "description"), d);
    }
    if let Some(s) = f.get("startup")
        && let Some(d) = distribution(ctx, &join(path, "startup"), s)
    {
        out.startup = d;
    }
    if let Some(s) = f.get("starting")
        && let Some(r) = response(ctx, &join(path, "starting"), s, Allow::NO_EXIT)
    {
        out.starting = r;
    }
    if let Some(l) = f.get("latency")
        && let Some(l) = latency(ctx, &join(path, "latency"), l)
    {
        out.latency = l;
    }
    if let Some(r) = f.get("repeat") {
        out.repeat = boolean(ctx, &join(path, "repeat"), r).unwrap_or(false);
    }

    let shorthand: Vec<&str> = f.keys().filter(|k| SHORTHAND_KEYS.contains(k)).collect();
    match f.get("phases") {
        Some(phases_v) => {
            for k in &shorthand {
                ctx.forbidden(&join(path, k), "may not be used with `phases`; put it in a phase");
            }
            if let Some(phases) = phase_list(ctx, &join(path, "phases"), phases_v, out.repeat) {
                out.phases = phases;
            }
        }
        None if !shorthand.is_empty() => {
            // The top-level shorthand is a single phase that lasts for ever.
            if out.repeat {
                ctx.forbidden(&join(path, "repeat"), "needs `phases`");
            }
            if let Some(p) = phase_body(ctx, path, &f, false) {
                out.phases = vec![p];
            }
        }
        None => {
            if out.repeat {
                ctx.forbidden(&join(path, "repeat"), "needs `phases`");
            }
        }
    }

    if let Some(p) = f.get("pauses") {
        out.pauses = pauses(ctx, &join(path, "pauses"), p);
    }
    if let Some(s) = f.get("sigterm")
        && let Some(s) = sigterm(ctx, &join(path, "sigterm"), s)
    {
        out.sigterm = s;
    }
    if let Some(g) = f.get("grpc_services") {
        out.grpc_services = grpc_services(ctx, &join(path, "grpc_services"), g);
    }
    if let Some(i) = f.get("image")
        && let Some(i) = image(ctx, &join(path, "image"), i)
    {
        out.image = i;
    }
    if let Some(h) = f.get("post_start") {
        out.post_start = hook(ctx, &join(path, "post_start"), h);
    }
    if let Some(h) = f.get("pre_stop") {
        out.pre_stop = hook(ctx, &join(path, "pre_stop"), h);
    }
    if let Some(p) = f.get("pod")
        && let Some(p) = pod(ctx, &join(path, "pod"), p)
    {
        out.pod = p;
    }
    (ctx.errors.len() == before).then_some(out)
}

/// Which responses a position accepts.
#[derive(Clone, Copy)]
struct Allow {
    exit: bool,
    redirect: bool,
}

impl Allow {
    const ALL: Allow = Allow { exit: true, redirect: true };
    const NO_EXIT: Allow = Allow { exit: false, redirect: true };
    const PLAIN: Allow = Allow { exit: false, redirect: false };
}

const RESPONSE_WORDS: &[&str] = &["ok", "refuse", "hang", "close", "reset"];
const GRPC_WORDS: &[&str] = &["serving", "not_serving", "unknown", "unknown_service", "unimplemented"];
const REDIRECT_STATUSES: &[u16] = &[301, 302, 303, 307, 308];

fn response(ctx: &mut Ctx, path: &str, v: &Value, allow: Allow) -> Option<Response> {
    match v {
        Value::String(s) => match s.as_str() {
            "ok" => Some(Response::OK),
            "refuse" => Some(Response::Refuse),
            "hang" => Some(Response::Hang),
            "close" => Some(Response::Close),
            "reset" => Some(Response::Reset),
            _ => {
                ctx.unsupported(path, v, RESPONSE_WORDS);
                None
            }
        },
        Value::Number(_) => http_status(ctx, path, v).map(|status| Response::Http { status, body_bytes: None }),
        Value::Mapping(m) => {
            let has = |k: &str| m.contains_key(Value::from(k));
            if has("redirect") {
                if !allow.redirect {
                    ctx.forbidden(path, "a redirect cannot be the answer at its own target");
                    return None;
                }
                redirect(ctx, path, v)
            } else if has("grpc") {
                let f = Fields::new(ctx, path, v, &["grpc"])?;
                let g = f.get("grpc")?;
                let p = join(path, "grpc");
                let answer = match g.as_str() {
                    Some("serving") => GrpcAnswer::Serving,
                    Some("not_serving") => GrpcAnswer::NotServing,
                    Some("unknown") => GrpcAnswer::Unknown,
                    Some("unknown_service") => GrpcAnswer::UnknownService,
                    Some("unimplemented") => GrpcAnswer::Unimplemented,
                    _ => {
                        ctx.unsupported(&p, g, GRPC_WORDS);
                        return None;
                    }
                };
                Some(Response::Grpc(answer))
            } else if has("exit") {
                let f = Fields::new(ctx, path, v, &["exit"])?;
                let code = integer(ctx, &join(path, "exit"), f.get("exit")?, 0, 255)?;
                if !allow.exit {
                    ctx.forbidden(&join(path, "exit"), "an exit can only be the `respond` of the last phase");
                    return None;
                }
                Some(Response::Exit(i32::try_from(code).ok()?))
            } else {
                let f = Fields::new(ctx, path, v, &["status", "body"])?;
                if !f.has("status") && !f.has("body") {
                    ctx.invalid(path, v, "must have `status`/`body`, `redirect`, `grpc` or `exit`");
                    return None;
                }
                let status = match f.get("status") {
                    Some(s) => http_status(ctx, &join(path, "status"), s)?,
                    None => 200,
                };
                let body_bytes = match f.get("body") {
                    Some(b) => Some(byte_size(ctx, &join(path, "body"), b)?),
                    None => None,
                };
                Some(Response::Http { status, body_bytes })
            }
        }
        _ => {
            ctx.invalid(path, v, "must be a word (ok, refuse, hang, close, reset), a status code or a mapping");
            None
        }
    }
}

fn http_status(ctx: &mut Ctx, path: &str, v: &Value) -> Option<u16> {
    let n = integer(ctx, path, v, 100, 599)?;
    u16::try_from(n).ok()
}

fn redirect(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Response> {
    let f = Fields::new(ctx, path, v, &["redirect", "status", "then"])?;
    let before = ctx.errors.len();
    let rp = join(path, "redirect");
    let target = match f.get("redirect")? {
        Value::String(s) if s == "loop" => Some(RedirectTarget::Loop),
        t @ Value::Mapping(_) => {
            let tf = Fields::new(ctx, &rp, t, &["host", "port", "path"]);
            tf.and_then(|tf| {
                let host = tf.get("host").and_then(|h| string(ctx, &join(&rp, "host"), h));
                let port = tf.get("port").and_then(|p| port(ctx, &join(&rp, "port"), p));
                let target_path = tf.get("path").and_then(|p| {
                    let pp = join(&rp, "path");
                    let s = string(ctx, &pp, p)?;
                    if s.starts_with('/') {
                        Some(s)
                    } else {
                        ctx.invalid(&pp, p, "must start with /");
                        None
                    }
                });
                if host.is_none() && port.is_none() && target_path.is_none() {
                    ctx.invalid(&rp, t, "needs `host`, `port` or `path` (or write `loop`)");
                    return None;
                }
                Some(RedirectTarget::To { host, port, path: target_path })
            })
        }
        other => {
            ctx.invalid(&rp, other, "must be `loop` or a mapping with host, port, path");
            None
        }
    };
    let status = match f.get("status") {
        Some(s) => {
            let sp = join(path, "status");
            let st = http_status(ctx, &sp, s)?;
            if !REDIRECT_STATUSES.contains(&st) {
                ctx.invalid(&sp, s, "a redirect status must be 301, 302, 303, 307 or 308");
            }
            st
        }
        None => 302,
    };
    let then = match f.get("then") {
        Some(t) => response(ctx, &join(path, "then"), t, Allow::PLAIN),
        None => Some(Response::OK),
    };
    if ctx.errors.len() != before {
        return None;
    }
    Some(Response::Redirect(Redirect { status, target: target?, then: Box::new(then?) }))
}

fn distribution(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Distribution> {
    if let Value::Mapping(_) = v {
        let f = Fields::new(ctx, path, v, &["fixed", "uniform", "lognormal"])?;
        base_distribution(ctx, path, v, &f)
    } else {
        duration(ctx, path, v).map(Distribution::Fixed)
    }
}

/// The one distribution key of `f` (fixed, uniform or lognormal).
fn base_distribution(ctx: &mut Ctx, path: &str, v: &Value, f: &Fields<'_>) -> Option<Distribution> {
    let kinds: Vec<&str> = ["fixed", "uniform", "lognormal"].into_iter().filter(|k| f.has(k)).collect();
    if kinds.len() != 1 {
        ctx.invalid(path, v, "needs exactly one of fixed, uniform, lognormal");
        return None;
    }
    let kind = kinds[0];
    let kp = join(path, kind);
    let kv = f.get(kind)?;
    match kind {
        "fixed" => duration(ctx, &kp, kv).map(Distribution::Fixed),
        "uniform" => {
            let uf = Fields::new(ctx, &kp, kv, &["min", "max"])?;
            let min = need(ctx, &kp, "min", uf.get("min")).and_then(|m| duration(ctx, &join(&kp, "min"), m));
            let max = need(ctx, &kp, "max", uf.get("max")).and_then(|m| duration(ctx, &join(&kp, "max"), m));
            let (min, max) = (min?, max?);
            if max < min {
                ctx.invalid(&join(&kp, "max"), uf.get("max")?, "must be at least min");
                return None;
            }
            Some(Distribution::Uniform { min, max })
        }
        _ => {
            let lf = Fields::new(ctx, &kp, kv, &["p50", "p99"])?;
            let p50 = need(ctx, &kp, "p50", lf.get("p50")).and_then(|m| duration(ctx, &join(&kp, "p50"), m));
            let p99 = need(ctx, &kp, "p99", lf.get("p99")).and_then(|m| duration(ctx, &join(&kp, "p99"), m));
            let (p50, p99) = (p50?, p99?);
            if p50.is_zero() {
                ctx.invalid(&join(&kp, "p50"), lf.get("p50")?, "must be greater than 0");
                return None;
            }
            if p99 < p50 {
                ctx.invalid(&join(&kp, "p99"), lf.get("p99")?, "must be at least p50");
                return None;
            }
            Some(Distribution::LogNormal { p50, p99 })
        }
    }
}

fn need<'a>(ctx: &mut Ctx, path: &str, key: &str, v: Option<&'a Value>) -> Option<&'a Value> {
    if v.is_none() {
        ctx.required(&join(path, key));
    }
    v
}

fn latency(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Latency> {
    let Value::Mapping(_) = v else {
        return duration(ctx, path, v).map(|d| Latency { base: Distribution::Fixed(d), spike: None });
    };
    let f = Fields::new(ctx, path, v, &["fixed", "uniform", "lognormal", "spike"])?;
    let has_base = ["fixed", "uniform", "lognormal"].iter().any(|k| f.has(k));
    let base = if has_base || !f.has("spike") { base_distribution(ctx, path, v, &f) } else { Some(Distribution::ZERO) };
    let spike = match f.get("spike") {
        Some(s) => {
            let sp = join(path, "spike");
            let sf = Fields::new(ctx, &sp, s, &["probability", "latency"])?;
            let probability = need(ctx, &sp, "probability", sf.get("probability"))
                .and_then(|p| fraction(ctx, &join(&sp, "probability"), p));
            let lat =
                need(ctx, &sp, "latency", sf.get("latency")).and_then(|l| distribution(ctx, &join(&sp, "latency"), l));
            Some(Spike { probability: probability?, latency: lat? })
        }
        None => None,
    };
    Some(Latency { base: base?, spike })
}

fn phase_list(ctx: &mut Ctx, path: &str, v: &Value, repeat: bool) -> Option<Vec<Phase>> {
    let Value::Sequence(items) = v else {
        ctx.invalid(path, v, "must be a list of phases");
        return None;
    };
    if items.is_empty() {
        ctx.invalid(path, v, "needs at least one phase");
        return None;
    }
    let before = ctx.errors.len();
    let mut phases = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ip = index(path, i);
        let last = i + 1 == items.len();
        let Some(f) = Fields::new(ctx, &ip, item, &["name", "for", "respond", "ports", "paths", "latency", "flap"])
        else {
            continue;
        };
        let p = phase_body(ctx, &ip, &f, true);
        // Structural checks read the raw fields, so they are reported even when the
        // phase has other errors.
        let is_exit = f.get("respond").and_then(|r| r.get("exit")).is_some();
        let has_for = f.has("for");
        if is_exit {
            if let Some(d) = f.get("for") {
                ctx.invalid(&join(&ip, "for"), d, "an exit phase ends the timeline; remove `for`");
            }
            if !last {
                ctx.forbidden(&join(&ip, "respond"), "phases after an exit are never reached");
            }
            if repeat {
                ctx.forbidden(&join(&ip, "respond"), "an exit ends the timeline; it cannot repeat");
            }
        } else if repeat || !last {
            if !has_for {
                ctx.required(&join(&ip, "for"));
            }
        } else if let Some(d) = f.get("for") {
            ctx.invalid(&join(&ip, "for"), d, "the last phase lasts for ever; remove `for` or set `repeat: true`");
        }
        let Some(p) = p else {
            continue;
        };
        phases.push(p);
    }
    if repeat && phases.iter().all(|p| p.duration.unwrap_or(Duration::ZERO).is_zero()) {
        ctx.invalid(path, v, "a repeating timeline needs a phase longer than 0s");
    }
    (ctx.errors.len() == before).then_some(phases)
}

/// The phase fields of `f`: a phase in `phases` (`in_list`), or the top-level
/// shorthand, where `latency` is the behaviour's default rather than the phase's.
fn phase_body(ctx: &mut Ctx, path: &str, f: &Fields<'_>, in_list: bool) -> Option<Phase> {
    let before = ctx.errors.len();
    let name = f.get("name").and_then(|n| string(ctx, &join(path, "name"), n));
    let duration = f.get("for").and_then(|d| duration(ctx, &join(path, "for"), d));
    let respond = match f.get("respond") {
        Some(r) => response(ctx, &join(path, "respond"), r, Allow::ALL),
        None => Some(Response::OK),
    };
    let own_keys: &[&str] = if in_list { &["ports", "paths", "flap", "latency"] } else { &["ports", "paths", "flap"] };
    if let Some(Response::Exit(_)) = respond {
        for k in own_keys {
            if f.has(k) {
                ctx.forbidden(&join(path, k), "an exit phase answers nothing");
            }
        }
    }
    let ports = match f.get("ports") {
        Some(p) => port_map(ctx, &join(path, "ports"), p),
        None => BTreeMap::new(),
    };
    let paths = match f.get("paths") {
        Some(p) => path_map(ctx, &join(path, "paths"), p),
        None => BTreeMap::new(),
    };
    let latency = if in_list { f.get("latency").and_then(|l| latency(ctx, &join(path, "latency"), l)) } else { None };
    let flap = f.get("flap").and_then(|fl| flap(ctx, &join(path, "flap"), fl));
    if ctx.errors.len() != before {
        return None;
    }
    Some(Phase { name, duration, respond: respond?, ports, paths, latency, flap })
}

fn port_map(ctx: &mut Ctx, path: &str, v: &Value) -> BTreeMap<u16, Response> {
    let mut out = BTreeMap::new();
    let Value::Mapping(m) = v else {
        ctx.invalid(path, v, "must be a mapping of port number to response");
        return out;
    };
    for (k, val) in m {
        let key_text = match k {
            Value::String(s) => s.clone(),
            other => super::yaml::show(other),
        };
        let kp = join(path, &key_text);
        if let (Some(p), Some(r)) = (port(ctx, &kp, k), response(ctx, &kp, val, Allow::NO_EXIT)) {
            out.insert(p, r);
        }
    }
    out
}

fn path_map(ctx: &mut Ctx, path: &str, v: &Value) -> BTreeMap<String, Response> {
    let mut out = BTreeMap::new();
    let Value::Mapping(m) = v else {
        ctx.invalid(path, v, "must be a mapping of URL path to response");
        return out;
    };
    for (k, val) in m {
        let Some(key) = k.as_str().filter(|s| s.starts_with('/')) else {
            ctx.invalid(path, k, "keys must be URL paths starting with /");
            continue;
        };
        let kp = join(path, key);
        if let Some(r) = response(ctx, &kp, val, Allow::NO_EXIT) {
            out.insert(key.to_string(), r);
        }
    }
    out
}

fn flap(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Flap> {
    let f = Fields::new(ctx, path, v, &["period", "duty", "down"])?;
    let period = need(ctx, path, "period", f.get("period")).and_then(|p| duration(ctx, &join(path, "period"), p));
    let duty = match f.get("duty") {
        Some(d) => {
            let dp = join(path, "duty");
            let x = fraction(ctx, &dp, d)?;
            if x <= 0.0 || x >= 1.0 {
                ctx.invalid(&dp, d, "must be strictly between 0 and 1 (0% and 100% do not flap)");
                return None;
            }
            x
        }
        None => 0.5,
    };
    let down = match f.get("down") {
        Some(d) => response(ctx, &join(path, "down"), d, Allow::NO_EXIT)?,
        None => Response::Http { status: 503, body_bytes: None },
    };
    let period = period?;
    if period.is_zero() {
        ctx.invalid(&join(path, "period"), f.get("period")?, "must be greater than 0s");
        return None;
    }
    let up = period.mul_f64(duty);
    Some(Flap { period, up, down })
}

fn pauses(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Pauses> {
    let f = Fields::new(ctx, path, v, &["every", "for", "first", "jitter"])?;
    let every = need(ctx, path, "every", f.get("every")).and_then(|e| duration(ctx, &join(path, "every"), e));
    let length = need(ctx, path, "for", f.get("for")).and_then(|e| duration(ctx, &join(path, "for"), e));
    let first = match f.get("first") {
        Some(x) => Some(duration(ctx, &join(path, "first"), x)?),
        None => None,
    };
    let jitter = match f.get("jitter") {
        Some(x) => duration(ctx, &join(path, "jitter"), x)?,
        None => Duration::ZERO,
    };
    let (every, length) = (every?, length?);
    if length >= every || every.is_zero() {
        ctx.invalid(&join(path, "for"), f.get("for")?, "a pause must be shorter than the time between pauses");
        return None;
    }
    if length + jitter > every {
        ctx.invalid(
            &join(path, "jitter"),
            f.get("jitter")?,
            "for + jitter must not exceed every (pauses would overlap)",
        );
        return None;
    }
    Some(Pauses { every, length, first: first.unwrap_or(every), jitter })
}

fn exit_code(ctx: &mut Ctx, path: &str, v: Option<&Value>) -> Option<i32> {
    match v {
        Some(c) => i32::try_from(integer(ctx, path, c, 0, 255)?).ok(),
        None => Some(0),
    }
}

fn sigterm(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Sigterm> {
    match v {
        Value::String(s) if s == "exit" => Some(Sigterm::Exit { after: Distribution::ZERO, code: 0, respond: None }),
        Value::String(s) if s == "ignore" => Some(Sigterm::Ignore),
        Value::Mapping(_) => {
            let f = Fields::new(ctx, path, v, &["after", "code", "respond"])?;
            let after = match f.get("after") {
                Some(a) => distribution(ctx, &join(path, "after"), a),
                None => Some(Distribution::ZERO),
            };
            let code = exit_code(ctx, &join(path, "code"), f.get("code"));
            let respond = match f.get("respond") {
                Some(r) => Some(response(ctx, &join(path, "respond"), r, Allow::NO_EXIT)?),
                None => None,
            };
            Some(Sigterm::Exit { after: after?, code: code?, respond })
        }
        _ => {
            ctx.unsupported(path, v, &["exit", "ignore", "{after, code, respond}"]);
            None
        }
    }
}

fn grpc_services(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Vec<String>> {
    let Value::Sequence(items) = v else {
        ctx.invalid(path, v, "must be a list of service names (\"\" is the server as a whole)");
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) => out.push(s.to_string()),
            None => ctx.invalid(&index(path, i), item, "must be a string"),
        }
    }
    Some(out)
}

fn image(ctx: &mut Ctx, path: &str, v: &Value) -> Option<ImageSpec> {
    let f = Fields::new(ctx, path, v, &["pull", "missing", "fail_first", "error"])?;
    let mut out = Spec::default_healthy().image;
    if let Some(p) = f.get("pull") {
        out.pull = distribution(ctx, &join(path, "pull"), p)?;
    }
    if let Some(e) = f.get("error") {
        out.error = string(ctx, &join(path, "error"), e)?;
    }
    if let Some(n) = f.get("fail_first") {
        out.fail_first = u32::try_from(integer(ctx, &join(path, "fail_first"), n, 0, 1_000_000)?).ok()?;
    }
    if let Some(m) = f.get("missing") {
        let mp = join(path, "missing");
        if f.has("fail_first") {
            ctx.forbidden(&mp, "use either `missing` or `fail_first`");
            return None;
        }
        match m {
            Value::Bool(true) => out.fail_first = u32::MAX,
            Value::Bool(false) => {}
            Value::String(s) if !s.is_empty() => {
                if f.has("error") {
                    ctx.forbidden(&mp, "give the text in `missing` or in `error`, not both");
                    return None;
                }
                out.fail_first = u32::MAX;
                out.error = s.clone();
            }
            _ => {
                ctx.invalid(&mp, m, "must be true, false or the registry's error text");
                return None;
            }
        }
    }
    if out.error.is_empty() {
        out.error = DEFAULT_PULL_ERROR.to_string();
    }
    Some(out)
}

fn hook(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Hook> {
    let f = Fields::new(ctx, path, v, &["duration", "exit"])?;
    let duration = match f.get("duration") {
        Some(d) => distribution(ctx, &join(path, "duration"), d),
        None => Some(Distribution::ZERO),
    };
    let exit = exit_code(ctx, &join(path, "exit"), f.get("exit"));
    Some(Hook { duration: duration?, exit: exit? })
}

fn pod(ctx: &mut Ctx, path: &str, v: &Value) -> Option<PodConditions> {
    let f = Fields::new(ctx, path, v, &["unschedulable", "mount_error"])?;
    let unschedulable = match f.get("unschedulable") {
        Some(u) => boolean(ctx, &join(path, "unschedulable"), u)?,
        None => false,
    };
    let mount_error = match f.get("mount_error") {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(DEFAULT_MOUNT_ERROR.to_string()),
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(other) => {
            ctx.invalid(&join(path, "mount_error"), other, "must be true, false or the error text");
            return None;
        }
    };
    Some(PodConditions { unschedulable, mount_error })
}
