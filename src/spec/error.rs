//! Field errors rendered the way the API server renders them
//! (staging/src/k8s.io/apimachinery/pkg/util/validation/field/errors.go):
//! `<field path>: <Type>: <detail>`, e.g.
//! `spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1`.

use std::fmt;

/// A value quoted the way apimachinery's `ErrorBody` prints it: integers and booleans bare,
/// strings Go-quoted (`%q`), absent values as `null`.
#[derive(Debug, Clone, PartialEq)]
pub enum BadValue {
    Int(i64),
    Str(String),
    Bool(bool),
    Null,
}

impl fmt::Display for BadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BadValue::Int(i) => write!(f, "{i}"),
            BadValue::Str(s) => f.write_str(&go_quote(s)),
            BadValue::Bool(b) => write!(f, "{b}"),
            BadValue::Null => f.write_str("null"),
        }
    }
}

impl From<i64> for BadValue {
    fn from(v: i64) -> Self {
        BadValue::Int(v)
    }
}

impl From<i32> for BadValue {
    fn from(v: i32) -> Self {
        BadValue::Int(i64::from(v))
    }
}

impl From<&str> for BadValue {
    fn from(v: &str) -> Self {
        BadValue::Str(v.to_string())
    }
}

impl From<String> for BadValue {
    fn from(v: String) -> Self {
        BadValue::Str(v)
    }
}

/// The error types apimachinery defines, plus the two decoding problems the API server
/// reports before validation (an unknown field under strict field validation, and a value
/// of the wrong JSON type).
#[derive(Debug, Clone, PartialEq)]
pub enum ErrorKind {
    /// `Invalid value: <v>: <detail>`
    Invalid { value: BadValue, detail: String },
    /// `Required value[: <detail>]`
    Required { detail: String },
    /// `Forbidden: <detail>`
    Forbidden { detail: String },
    /// `Unsupported value: <v>: supported values: "A", "B"`
    Unsupported { value: BadValue, supported: Vec<String> },
    /// `Duplicate value: <v>`
    Duplicate { value: BadValue },
    /// `unknown field "x"[, did you mean "y"?]` — strict decoding.
    UnknownField { name: String, suggestion: Option<String> },
    /// A value of the wrong type (`periodSeconds: "10s"`).
    WrongType { value: String, expected: &'static str },
}

/// One problem, at one field path.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub path: String,
    pub kind: ErrorKind,
}

impl FieldError {
    pub fn invalid(path: impl Into<String>, value: impl Into<BadValue>, detail: impl Into<String>) -> Self {
        FieldError { path: path.into(), kind: ErrorKind::Invalid { value: value.into(), detail: detail.into() } }
    }

    pub fn required(path: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError { path: path.into(), kind: ErrorKind::Required { detail: detail.into() } }
    }

    pub fn forbidden(path: impl Into<String>, detail: impl Into<String>) -> Self {
        FieldError { path: path.into(), kind: ErrorKind::Forbidden { detail: detail.into() } }
    }

    pub fn unsupported(path: impl Into<String>, value: impl Into<BadValue>, supported: &[&str]) -> Self {
        FieldError {
            path: path.into(),
            kind: ErrorKind::Unsupported {
                value: value.into(),
                supported: supported.iter().map(|s| s.to_string()).collect(),
            },
        }
    }

    pub fn duplicate(path: impl Into<String>, value: impl Into<BadValue>) -> Self {
        FieldError { path: path.into(), kind: ErrorKind::Duplicate { value: value.into() } }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = &self.path;
        match &self.kind {
            ErrorKind::Invalid { value, detail } => {
                write!(f, "{path}: Invalid value: {value}")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            ErrorKind::Required { detail } => {
                write!(f, "{path}: Required value")?;
                if !detail.is_empty() {
                    write!(f, ": {detail}")?;
                }
                Ok(())
            }
            ErrorKind::Forbidden { detail } => write!(f, "{path}: Forbidden: {detail}"),
            ErrorKind::Unsupported { value, supported } => {
                let quoted: Vec<String> = supported.iter().map(|s| go_quote(s)).collect();
                write!(f, "{path}: Unsupported value: {value}: supported values: {}", quoted.join(", "))
            }
            ErrorKind::Duplicate { value } => write!(f, "{path}: Duplicate value: {value}"),
            ErrorKind::UnknownField { name, suggestion } => {
                write!(f, "{path}: unknown field {}", go_quote(name))?;
                if let Some(s) = suggestion {
                    write!(f, ", did you mean {}?", go_quote(s))?;
                }
                Ok(())
            }
            ErrorKind::WrongType { value, expected } => {
                write!(f, "{path}: Invalid value: {value}: must be {expected}")
            }
        }
    }
}

/// Go's `%q` (strconv.Quote), as apimachinery prints bad string values.
pub fn go_quote(s: &str) -> String {
    crate::gotext::quote(s)
}

/// Everything wrong with one input file: a message for the file as a whole (unreadable,
/// not YAML, too large) or the field errors of its objects.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// `location` is empty for a single-document file, else `document 2: ` (and
    /// `items[0]: ` inside a List).
    #[error("{}", render_invalid(.file, .location, .object, .errors))]
    Invalid { file: String, location: String, object: String, errors: Vec<FieldError> },
}

/// kubectl's shape (MultilineError): one error on the same line, several as `* ` lines.
fn render_invalid(file: &str, location: &str, object: &str, errors: &[FieldError]) -> String {
    match errors {
        [one] => format!("{file}: {location}The {object} is invalid: {one}"),
        _ => {
            let mut s = format!("{file}: {location}The {object} is invalid:");
            for e in errors {
                s.push_str("\n* ");
                s.push_str(&e.to_string());
            }
            s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_apimachinery() {
        let e = FieldError::invalid("spec.containers[0].livenessProbe.successThreshold", 2, "must be 1");
        assert_eq!(e.to_string(), "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1");
        let e = FieldError::unsupported("x.scheme", "FTP", &["HTTP", "HTTPS"]);
        assert_eq!(e.to_string(), r#"x.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS""#);
        let e = FieldError::required("x.exec.command", "");
        assert_eq!(e.to_string(), "x.exec.command: Required value");
        let e = FieldError::forbidden("x.httpGet", "may not specify more than 1 handler type");
        assert_eq!(e.to_string(), "x.httpGet: Forbidden: may not specify more than 1 handler type");
    }
}
