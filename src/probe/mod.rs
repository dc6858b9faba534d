//! The probe mechanisms, one file each (exec, tcp, http, grpc, noop). Every mechanism
//! returns an [`Outcome`]; probe failures are data, never `Err`.
//!
//! Flow: [`resolve::resolve`] turns a `spec::Probe` into a [`Mechanism`] once;
//! [`Prober::run`] runs it as often as the scheduler asks; [`event::kubelet_event`] words
//! what the kubelet would record.

pub use crate::gotext;

pub mod address;
pub mod event;
pub mod exec;
pub mod expand;
pub mod grpc;
pub mod http;
pub mod noop;
pub mod outcome;
pub mod prober;
pub mod resolve;
pub mod socket;
pub mod tcp;

pub use address::AddressPolicy;
pub use event::{ProbeEvent, kubelet_event};
pub use http::HttpClientKind;
pub use outcome::{Outcome, ProbeResult, Timings};
pub use prober::{MAX_PROBE_RETRIES, Prober, ProberError};
pub use resolve::{Mechanism, PodContext, ProbeOptions, ResolveError, ResolvedProbe, resolve};
pub use socket::LingerMode;
