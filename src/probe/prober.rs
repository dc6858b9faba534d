//! The layer the scheduler calls: runs a resolved probe with its timeout, applying the
//! kubelet's retry of *errored* runs, and holds what probes share (the TLS configuration,
//! the reqwest clients) so nothing is built per probe.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::ClientConfig;

use super::address::AddressPolicy;
use super::http::{self, HttpClientKind, reqwest_client};
use super::outcome::Outcome;
use super::resolve::{Mechanism, ResolvedProbe};
use super::{exec, grpc, noop, tcp};

/// pkg/kubelet/prober/prober.go maxProbeRetries: a run that *errored* is repeated, up to
/// this many runs in one attempt; a plain failure is not.
pub const MAX_PROBE_RETRIES: u32 = 3;

/// The prober could not be set up (a harness fault).
#[derive(Debug, thiserror::Error)]
pub enum ProberError {
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
}

/// Runs probes. Build one per process and share it (it is `Send + Sync`).
pub struct Prober {
    tls: Arc<ClientConfig>,
    reqwest_loopback: OnceLock<Result<reqwest::Client, String>>,
    reqwest_remote: OnceLock<Result<reqwest::Client, String>>,
}

impl Prober {
    pub fn new() -> Result<Self, ProberError> {
        http::tls::install_default_provider();
        Ok(Prober {
            tls: http::tls::client_config()?,
            reqwest_loopback: OnceLock::new(),
            reqwest_remote: OnceLock::new(),
        })
    }

    /// One probe attempt as the kubelet makes it: run, and while the run errored, run
    /// again, at most [`MAX_PROBE_RETRIES`] runs. The last run's outcome is returned with
    /// the number of runs in `attempts`.
    pub async fn run(&self, probe: &ResolvedProbe) -> Outcome {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut outcome = self.run_once(&probe.mechanism, probe.timeout).await;
            if !outcome.errored || attempts >= MAX_PROBE_RETRIES {
                outcome.attempts = attempts;
                return outcome;
            }
        }
    }

    /// Exactly one run of a mechanism, bounded by `timeout`.
    pub async fn run_once(&self, mechanism: &Mechanism, timeout: Duration) -> Outcome {
        match mechanism {
            Mechanism::Noop => noop::run(),
            Mechanism::Exec(target) => exec::run(target, timeout).await,
            Mechanism::Tcp(target) => tcp::run(target, timeout).await,
            Mechanism::Http(target) => match target.client {
                HttpClientKind::Hyper => http::hyper_client::run(target, &self.tls, timeout).await,
                HttpClientKind::Reqwest => match self.reqwest(target.policy) {
                    Ok(client) => reqwest_client::run(client, target, timeout).await,
                    Err(why) => Outcome::errored(format!("reqwest client: {why}")),
                },
            },
            Mechanism::Grpc(target) => grpc::run(target, timeout).await,
            Mechanism::Unresolvable(text) => Outcome::errored(text.clone()),
        }
    }

    /// The reqwest client for a policy, built on first use.
    fn reqwest(&self, policy: AddressPolicy) -> Result<&reqwest::Client, &str> {
        let cell = if policy.allow_remote { &self.reqwest_remote } else { &self.reqwest_loopback };
        cell.get_or_init(|| reqwest_client::build_client(&self.tls, policy).map_err(|e| e.to_string()))
            .as_ref()
            .map_err(String::as_str)
    }
}
