//! The tuner's description of the app: a behaviour in the shared vocabulary
//! (docs/behaviours.md) plus how often real incidents happen.
//!
//! ```yaml
//! startup: {uniform: {min: 20s, max: 60s}}
//! latency: {lognormal: {p50: 20ms, p99: 400ms}}
//! pauses: {every: 5m, for: 1s}          # GC: transient stalls
//! incidents:
//!   hang: {every: 12h}                  # a real hang, per pod, on average (Poisson)
//!   crash: {every: 7d, code: 1}         # optional
//! ```

use std::time::Duration;

use probebench_targets::{Behaviour, BehaviourFile};
use serde_yaml::{Mapping, Value};

/// Real incidents, as mean times between them per pod.
#[derive(Debug, Clone, PartialEq)]
pub struct Incidents {
    /// Mean time between hangs; None: no hangs (detection is then not measured).
    pub hang_every: Option<Duration>,
    pub crash_every: Option<Duration>,
    pub crash_code: i32,
}

impl Default for Incidents {
    fn default() -> Self {
        // One hang per pod every 12 hours on average: enough hangs to measure detection
        // times in a day of a hundred pods, while leaving long healthy stretches in which any
        // restart is a false one.
        Incidents { hang_every: Some(Duration::from_secs(12 * 3600)), crash_every: None, crash_code: 1 }
    }
}

#[derive(Debug, Clone)]
pub struct App {
    pub behaviour: Behaviour,
    /// The rest of the behaviour file (seed, rules) when one was given.
    pub file: BehaviourFile,
    pub incidents: Incidents,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct AppError(pub String);

fn duration(v: &Value, path: &str) -> Result<Duration, AppError> {
    let s = v.as_str().ok_or_else(|| AppError(format!("{path}: Invalid value: must be a duration like 12h")))?;
    humantime::parse_duration(s).map_err(|e| AppError(format!("{path}: Invalid value: {s:?}: {e}")))
}

fn every(m: &Mapping, key: &str) -> Result<Option<Duration>, AppError> {
    let path = format!("incidents.{key}");
    match m.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(false)) => Ok(None),
        Some(Value::Mapping(inner)) => {
            for k in inner.keys() {
                let k = k.as_str().unwrap_or("");
                if !matches!(k, "every" | "code") {
                    return Err(AppError(format!("{path}.{k}: unknown field {k:?} (expected every, code)")));
                }
            }
            match inner.get("every") {
                Some(v) => duration(v, &format!("{path}.every")).map(Some),
                None => Err(AppError(format!("{path}.every: Required value"))),
            }
        }
        Some(_) => Err(AppError(format!("{path}: Invalid value: must be a map like {{every: 12h}} or false"))),
    }
}

/// Parse the tuner's app file: a bare behaviour or a behaviour file, plus `incidents`.
pub fn parse(text: &str, pod: &str, container: &str) -> Result<App, AppError> {
    let mut v: Value = serde_yaml::from_str(text).map_err(|e| AppError(format!("not valid YAML: {e}")))?;
    let mut incidents = Incidents::default();
    if let Value::Mapping(m) = &mut v
        && let Some(inc) = m.remove("incidents")
    {
        match &inc {
            Value::Mapping(im) => {
                for k in im.keys() {
                    let k = k.as_str().unwrap_or("");
                    if !matches!(k, "hang" | "crash") {
                        return Err(AppError(format!("incidents.{k}: unknown field {k:?} (expected hang, crash)")));
                    }
                }
                incidents.hang_every = every(im, "hang")?;
                incidents.crash_every = every(im, "crash")?;
                if let Some(code) = im.get("crash").and_then(|c| c.get("code")) {
                    incidents.crash_code = code
                        .as_i64()
                        .and_then(|c| i32::try_from(c).ok())
                        .filter(|c| (1..=255).contains(c))
                        .ok_or_else(|| AppError("incidents.crash.code: Invalid value: must be 1..255".into()))?;
                }
            }
            Value::Null => {}
            _ => return Err(AppError("incidents: Invalid value: must be a map".into())),
        }
    }
    let rest = if matches!(&v, Value::Mapping(m) if m.is_empty()) {
        String::new()
    } else {
        serde_yaml::to_string(&v).map_err(|e| AppError(e.to_string()))?
    };
    let file = if rest.trim().is_empty() {
        BehaviourFile::default()
    } else {
        probebench_targets::parse_behaviour_file(&rest).map_err(|e| AppError(e.to_string()))?
    };
    let behaviour = file.behaviour_for(pod, container).clone();
    Ok(App { behaviour, file, incidents })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incidents_are_split_from_the_behaviour() {
        let app =
            parse("startup: 30s\nincidents:\n  hang: {every: 6h}\n  crash: {every: 2d, code: 3}\n", "p", "c").unwrap();
        assert_eq!(app.incidents.hang_every, Some(Duration::from_secs(6 * 3600)));
        assert_eq!(app.incidents.crash_every, Some(Duration::from_secs(2 * 86400)));
        assert_eq!(app.incidents.crash_code, 3);
        assert_eq!(app.behaviour.instance(1, 0).startup(), Duration::from_secs(30));
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse("incidents:\n  hangs: {every: 1h}\n", "p", "c").unwrap_err();
        assert!(e.0.contains("incidents.hangs"), "{e}");
        let e = parse("incidents:\n  hang: {every: soon}\n", "p", "c").unwrap_err();
        assert!(e.0.contains("incidents.hang.every"), "{e}");
        assert!(parse("startup: forever\n", "p", "c").is_err());
    }
}
