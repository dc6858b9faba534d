//! Validation errors with kubectl-style field paths, collected rather than stopping at
//! the first: `phases[1].latency.lognormal.p99: Invalid value: "50ms": must be ...`.

use std::fmt;

use thiserror::Error;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// A field that must be present is missing.
    Required,
    /// The value is of the right shape but not acceptable.
    Invalid {
        /// The value as written (strings quoted).
        value: String,
        /// Why it is not acceptable.
        detail: String,
    },
    /// A keyword outside the supported set.
    Unsupported {
        /// The value as written (strings quoted).
        value: String,
        /// The keywords that are accepted.
        supported: Vec<String>,
    },
    /// A key the format does not know (usually a typo).
    UnknownField,
    /// The field is valid alone but not in this combination.
    Forbidden {
        /// Why.
        detail: String,
    },
    /// The document is not YAML at all.
    Syntax {
        /// The parser's message, with line and column.
        detail: String,
    },
}

/// One problem, at one field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path with indexes, e.g. `rules[0].behaviour.phases[2].for`; empty for the
    /// document itself.
    pub path: String,
    /// What is wrong.
    pub kind: FieldErrorKind,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() { "<document>" } else { &self.path };
        match &self.kind {
            FieldErrorKind::Required => write!(f, "{path}: Required value"),
            FieldErrorKind::Invalid { value, detail } => {
                write!(f, "{path}: Invalid value: {value}: {detail}")
            }
            FieldErrorKind::Unsupported { value, supported } => {
                let list: Vec<String> = supported.iter().map(|s| format!("{s:?}")).collect();
                write!(f, "{path}: Unsupported value: {value}: supported values: {}", list.join(", "))
            }
            FieldErrorKind::UnknownField => write!(f, "{path}: Unknown field"),
            FieldErrorKind::Forbidden { detail } => write!(f, "{path}: Forbidden: {detail}"),
            FieldErrorKind::Syntax { detail } => write!(f, "{path}: Invalid YAML: {detail}"),
        }
    }
}

/// Every problem found in a behaviour or behaviour file. Nothing is used from an
/// invalid document.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct BehaviourError {
    /// All problems, in document order.
    pub errors: Vec<FieldError>,
}

impl fmt::Display for BehaviourError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl BehaviourError {
    /// True if some error is reported at exactly this path.
    pub fn has_path(&self, path: &str) -> bool {
        self.errors.iter().any(|e| e.path == path)
    }
}
