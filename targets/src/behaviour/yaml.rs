//! A small walker over parsed YAML that records every problem with its field path.
//!
//! serde would stop at the first error and name a line, not a field; behaviour files are
//! validated like manifests instead: walk the tree, collect all errors, use nothing if
//! any.

use std::time::Duration;

use serde_yaml::Value;

use super::error::{FieldError, FieldErrorKind};

/// Collects errors during one validation pass.
#[derive(Debug, Default)]
pub(crate) struct Ctx {
    pub errors: Vec<FieldError>,
}

impl Ctx {
    pub fn push(&mut self, path: &str, kind: FieldErrorKind) {
        self.errors.push(FieldError { path: path.to_string(), kind });
    }

    pub fn required(&mut self, path: &str) {
        self.push(path, FieldErrorKind::Required);
    }

    pub fn invalid(&mut self, path: &str, value: &Value, detail: impl Into<String>) {
        self.push(path, FieldErrorKind::Invalid { value: show(value), detail: detail.into() });
    }

    pub fn unsupported(&mut self, path: &str, value: &Value, supported: &[&str]) {
        self.push(
            path,
            FieldErrorKind::Unsupported {
                value: show(value),
                supported: supported.iter().map(|s| s.to_string()).collect(),
            },
        );
    }

    pub fn forbidden(&mut self, path: &str, detail: impl Into<String>) {
        self.push(path, FieldErrorKind::Forbidden { detail: detail.into() });
    }
}

/// `parent.key`, or `key` at the root.
pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// `parent[i]`.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// A value as kubectl would quote it in an error: strings quoted, scalars bare.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("{s:?}"),
        Value::Sequence(_) => "<list>".to_string(),
        Value::Mapping(_) => "<mapping>".to_string(),
        Value::Tagged(t) => format!("<tagged {}>", t.tag),
    }
}

/// The entries of a mapping whose keys must all be known strings; unknown keys are
/// reported (and skipped), as is a value that is not a mapping.
pub(crate) struct Fields<'a> {
    entries: Vec<(&'a str, &'a Value)>,
}

impl<'a> Fields<'a> {
    pub fn new(ctx: &mut Ctx, path: &str, v: &'a Value, allowed: &[&str]) -> Option<Self> {
        let Value::Mapping(map) = v else {
            ctx.invalid(path, v, "must be a mapping");
            return None;
        };
        let mut entries = Vec::with_capacity(map.len());
        for (k, val) in map {
            match k.as_str() {
                Some(key) if allowed.contains(&key) => entries.push((key, val)),
                Some(key) => ctx.push(&join(path, key), FieldErrorKind::UnknownField),
                None => ctx.invalid(path, k, "keys must be strings"),
            }
        }
        Some(Fields { entries })
    }

    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.entries.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    pub fn keys(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.entries.iter().map(|(k, _)| *k)
    }
}

/// A humantime duration: `500ms`, `30s`, `2m`, `1h 30m`.
pub(crate) fn duration(ctx: &mut Ctx, path: &str, v: &Value) -> Option<Duration> {
    match v {
        Value::String(s) => match humantime::parse_duration(s.trim()) {
            Ok(d) => Some(d),
            Err(e) => {
                ctx.invalid(path, v, format!("not a duration ({e}); write e.g. 500ms, 30s, 5m"));
                None
            }
        },
        Value::Number(n) if n.as_u64() == Some(0) => Some(Duration::ZERO),
        _ => {
            ctx.invalid(path, v, "must be a duration with a unit, e.g. 500ms, 30s, 5m");
            None
        }
    }
}

/// A non-empty string.
pub(crate) fn string(ctx: &mut Ctx, path: &str, v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => {
            ctx.invalid(path, v, "must be a non-empty string");
            None
        }
    }
}

/// A boolean.
pub(crate) fn boolean(ctx: &mut Ctx, path: &str, v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        _ => {
            ctx.invalid(path, v, "must be true or false");
            None
        }
    }
}

/// An integer within `min..=max`.
pub(crate) fn integer(ctx: &mut Ctx, path: &str, v: &Value, min: i64, max: i64) -> Option<i64> {
    match v.as_i64() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        Some(_) => {
            ctx.invalid(path, v, format!("must be between {min} and {max}"));
            None
        }
        None => {
            ctx.invalid(path, v, "must be an integer");
            None
        }
    }
}

/// A TCP port, 1..=65535, written as a number or a numeric string (mapping keys).
pub(crate) fn port(ctx: &mut Ctx, path: &str, v: &Value) -> Option<u16> {
    let n = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    match n {
        Some(p @ 1..=65535) => u16::try_from(p).ok(),
        _ => {
            ctx.invalid(path, v, "must be a port number between 1 and 65535");
            None
        }
    }
}

/// A fraction in [0, 1], written `0.25` or `25%`.
pub(crate) fn fraction(ctx: &mut Ctx, path: &str, v: &Value) -> Option<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().strip_suffix('%').and_then(|p| p.trim().parse::<f64>().ok()).map(|p| p / 100.0),
        _ => None,
    };
    match f {
        Some(f) if (0.0..=1.0).contains(&f) => Some(f),
        _ => {
            ctx.invalid(path, v, "must be a fraction between 0 and 1, e.g. 0.25 or 25%");
            None
        }
    }
}

/// A byte count: `1048576`, `512B`, `10KiB`, `1MiB`, `2GiB`, `10kB`, `1MB`.
pub(crate) fn byte_size(ctx: &mut Ctx, path: &str, v: &Value) -> Option<u64> {
    let parsed = match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => parse_byte_size(s),
        _ => None,
    };
    if parsed.is_none() {
        ctx.invalid(path, v, "must be a byte count, e.g. 100, 10KiB, 1MiB");
    }
    parsed
}

fn parse_byte_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.trim() {
        "" | "B" => 1,
        "kB" | "KB" => 1000,
        "KiB" => 1024,
        "MB" => 1_000_000,
        "MiB" => 1024 * 1024,
        "GB" => 1_000_000_000,
        "GiB" => 1024 * 1024 * 1024,
        _ => return None,
    };
    n.checked_mul(mult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("10KiB"), Some(10240));
        assert_eq!(parse_byte_size("3"), Some(3));
        assert_eq!(parse_byte_size("1 MB"), Some(1_000_000));
        assert_eq!(parse_byte_size("1XB"), None);
        assert_eq!(parse_byte_size("KiB"), None);
    }

    #[test]
    fn fraction_accepts_percent() {
        let mut ctx = Ctx::default();
        assert_eq!(fraction(&mut ctx, "d", &Value::from("25%")), Some(0.25));
        assert_eq!(fraction(&mut ctx, "d", &Value::from(0.5)), Some(0.5));
        assert_eq!(fraction(&mut ctx, "d", &Value::from("150%")), None);
        assert_eq!(ctx.errors.len(), 1);
        assert_eq!(ctx.errors[0].path, "d");
    }
}
