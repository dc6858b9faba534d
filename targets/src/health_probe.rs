//! A grpc.health.v1 client like grpc_health_probe: `probebench targets health-probe`.

use std::fmt;
use std::time::Duration;

use tonic::Code;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

/// What a health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthProbeResult {
    /// SERVING.
    Serving,
    /// Answered, with another status (`NOT_SERVING`, `UNKNOWN`, ...).
    NotServing(String),
    /// No answer: connect failure, timeout, or an RPC error (NOT_FOUND, UNIMPLEMENTED).
    Failed(String),
}

impl HealthProbeResult {
    /// 0 when SERVING, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            HealthProbeResult::Serving => 0,
            _ => 1,
        }
    }
}

impl fmt::Display for HealthProbeResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HealthProbeResult::Serving => write!(f, "status: SERVING"),
            HealthProbeResult::NotServing(s) => {
                write!(f, "service unhealthy (responded with {s:?})")
            }
            HealthProbeResult::Failed(e) => write!(f, "{e}"),
        }
    }
}

/// Checks `service` ("" = the server) at `addr` (`HOST:PORT`), within `timeout` for the
/// connection and the RPC together. Plaintext, like the kubelet's grpc probe.
pub async fn health_probe(addr: &str, service: &str, timeout: Duration) -> HealthProbeResult {
    let shown = humantime::format_duration(timeout);
    match tokio::time::timeout(timeout, check(addr, service, timeout)).await {
        Ok(r) => r,
        Err(_) => HealthProbeResult::Failed(format!("timeout: health rpc to {addr:?} did not complete within {shown}")),
    }
}

async fn check(addr: &str, service: &str, timeout: Duration) -> HealthProbeResult {
    let endpoint = match Endpoint::from_shared(format!("http://{addr}")) {
        Ok(e) => e.connect_timeout(timeout).tcp_nodelay(true),
        Err(e) => {
            return HealthProbeResult::Failed(format!("error: invalid address {addr:?}: {e}"));
        }
    };
    let channel = match endpoint.connect().await {
        Ok(c) => c,
        Err(e) => {
            return HealthProbeResult::Failed(format!(
                "error: failed to connect service at {addr:?}: {}",
                source_chain(&e)
            ));
        }
    };
    let request = HealthCheckRequest { service: service.to_string() };
    match HealthClient::new(channel).check(request).await {
        Ok(r) => {
            let status = r.into_inner().status;
            match ServingStatus::try_from(status) {
                Ok(ServingStatus::Serving) => HealthProbeResult::Serving,
                Ok(s) => HealthProbeResult::NotServing(s.as_str_name().to_string()),
                Err(_) => HealthProbeResult::NotServing(format!("status {status}")),
            }
        }
        Err(s) if s.code() == Code::Unimplemented => HealthProbeResult::Failed(format!(
            "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {}",
            s.message()
        )),
        Err(s) => {
            HealthProbeResult::Failed(format!("error: health rpc failed: code = {:?} desc = {}", s.code(), s.message()))
        }
    }
}

fn source_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
