//! The Kubernetes API subset: typed pods and probes, loading, defaults and validation.
//!
//! Loading is two-stage, as DESIGN.md describes: `decode` turns YAML into typed objects
//! (strict: unknown fields and wrong types are errors with paths), then `defaults` and
//! `validate` do what the API server does. Pure data: no I/O beyond reading the input.

pub mod decode;
pub mod defaults;
pub mod error;
pub mod explain;
pub mod fields;
pub mod load;
pub mod suggest;
pub mod types;
pub mod validate;
pub mod yaml;

pub use error::{FieldError, LoadError};
pub use load::{Loaded, load_file, load_probe, load_str};
pub use types::*;
