//! grpc probes: `grpc.health.v1.Health/Check` through tonic-health's generated client, on a
//! fresh plaintext connection per probe (the kubelet dials each time). Every problem is a
//! failure, never an error (pkg/probe/grpc/grpc.go).
//!
//! The kubelet dials with `grpc.WithBlock()`: grpc-go keeps retrying a refused or silent
//! connection with its back-off (1 s, then ×1.6) until the probe's context expires, so a
//! refused gRPC probe takes the whole timeout and reports `timeout: failed to connect
//! service "<addr>" within <timeout>: context deadline exceeded`. This module does the same
//! (without grpc-go's ±20 % jitter). "Connected" means what grpc-go's READY means: the
//! server's HTTP/2 preface (a SETTINGS frame) has arrived; until then a failure is a dial
//! failure, whatever else the server may have sent.
//!
//! The kubelet's prefixes are exact; what follows them is grpc-go's error text in the
//! kubelet and cannot be byte-identical here, so it is written to be informative instead.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use tonic::Code;
use tonic::codegen::Service;
use tonic::transport::Endpoint;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use super::address::{self, AddressPolicy, HostAddr, LookupError};
use super::outcome::{Outcome, Timings};
use super::socket::{IoMarks, LingerMode, ObservedIo, ProbeStream as Socket, dial, micros_since};
use crate::gotext;

/// A resolved grpc probe.
#[derive(Debug, Clone)]
pub struct GrpcTarget {
    /// The pod IP (the kubelet's grpc probe has no `host` field).
    pub host: HostAddr,
    pub port: u16,
    /// `net.JoinHostPort(host, port)`, as the kubelet quotes it in messages.
    pub addr_text: String,
    /// `grpc.service`, or "" for the server's overall health.
    pub service: String,
    /// Built once: `http://<addr>` with the user agent `kube-probe/<major>.<minor>`.
    pub endpoint: Endpoint,
    pub linger: LingerMode,
    pub policy: AddressPolicy,
}

/// grpc-go's connection back-off (internal/backoff DefaultConfig): base delay and factor.
const BACKOFF_BASE: Duration = Duration::from_secs(1);
const BACKOFF_MULTIPLIER: f64 = 1.6;
const BACKOFF_MAX: Duration = Duration::from_secs(120);

pub async fn run(target: &GrpcTarget, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut timings = Timings::default();
    let outcome = probe(target, timeout, start, deadline, &mut timings).await;
    timings.total_us = micros_since(start);
    outcome.with_timings(timings)
}

async fn probe(
    target: &GrpcTarget,
    timeout: Duration,
    start: Instant,
    deadline: tokio::time::Instant,
    timings: &mut Timings,
) -> Outcome {
    let addr = match address::resolve(&target.host, target.port, target.policy).await {
        Ok(addr) => addr,
        Err(LookupError::NotLoopback(refused)) => return Outcome::errored(refused.to_string()),
        Err(e) => return dial_failure(target, timeout, Some(e.to_string())),
    };
    let mut last_error: Option<String> = None;
    let mut backoff = BACKOFF_BASE;
    loop {
        let marks = Arc::new(IoMarks::new(start));
        let attempt = attempt(target, addr, Arc::clone(&marks), deadline, timeout, timings);
        match tokio::time::timeout_at(deadline, attempt).await {
            Ok(Attempt::Done(outcome)) => {
                timings.first_byte_us = marks.first_read_us();
                timings.request_written_us = marks.first_write_us();
                return outcome;
            }
            Ok(Attempt::NotConnected(why)) => last_error = Some(why),
            Err(_) if preface_seen(&marks) => {
                // Connected (READY), but the Check did not finish: grpc.go's RPC timeout.
                return Outcome::failure(format!(
                    "timeout: health rpc did not complete within {}",
                    gotext::duration(timeout)
                ));
            }
            Err(_) => {
                if last_error.is_none() {
                    last_error =
                        Some("the connection was accepted but the server sent nothing (no HTTP/2 preface)".to_owned());
                }
                return dial_failure(target, timeout, last_error);
            }
        }
        // Transient failure: grpc-go waits out its back-off before dialing again, and the
        // blocking dial returns only when the context expires.
        let wake = tokio::time::Instant::now() + backoff;
        if wake >= deadline {
            tokio::time::sleep_until(deadline).await;
            return dial_failure(target, timeout, last_error);
        }
        tokio::time::sleep_until(wake).await;
        backoff = backoff.mul_f64(BACKOFF_MULTIPLIER).min(BACKOFF_MAX);
    }
}

/// grpc.go: `timeout: failed to connect service %q within %v: %+v` with the context's
/// `context deadline exceeded`, plus what went wrong last, for the reader.
fn dial_failure(target: &GrpcTarget, timeout: Duration, last_error: Option<String>) -> Outcome {
    let detail = match last_error {
        Some(why) => format!("context deadline exceeded (last connection error: {why})"),
        None => "context deadline exceeded".to_owned(),
    };
    Outcome::failure(format!(
        "timeout: failed to connect service {} within {}: {detail}",
        gotext::quote(&target.addr_text),
        gotext::duration(timeout)
    ))
}

enum Attempt {
    Done(Outcome),
    /// The server never spoke: grpc-go would still be dialing.
    NotConnected(String),
}

async fn attempt(
    target: &GrpcTarget,
    addr: SocketAddr,
    marks: Arc<IoMarks>,
    deadline: tokio::time::Instant,
    timeout: Duration,
    timings: &mut Timings,
) -> Attempt {
    let connector = ProbeConnector { addr, linger: target.linger, deadline, marks: Arc::clone(&marks) };
    let channel = match target.endpoint.connect_with_connector(connector).await {
        Ok(channel) => channel,
        Err(e) => return Attempt::NotConnected(error_chain_text(&e)),
    };
    timings.connect_us = Some(micros_since(marks.start()));
    let mut client = HealthClient::new(channel);
    let request = HealthCheckRequest { service: target.service.clone() };
    match client.check(request).await {
        Ok(response) => {
            let status = response.into_inner().status;
            if status == ServingStatus::Serving as i32 {
                Attempt::Done(Outcome::success("service healthy"))
            } else {
                // Go prints the enum's name, or the number for a value it does not know.
                let name = ServingStatus::try_from(status)
                    .map(|s| s.as_str_name().to_owned())
                    .unwrap_or_else(|_| status.to_string());
                Attempt::Done(Outcome::failure(format!("service unhealthy (responded with {})", gotext::quote(&name))))
            }
        }
        Err(status) if !preface_seen(&marks) => Attempt::NotConnected(status_text(&status)),
        Err(status) => Attempt::Done(Outcome::failure(match status.code() {
            Code::Unimplemented => format!(
                "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): {}",
                status.message()
            ),
            Code::DeadlineExceeded => {
                format!("timeout: health rpc did not complete within {}", gotext::duration(timeout))
            }
            _ => format!("error: health rpc probe failed: {}", status_text(&status)),
        })),
    }
}

/// Whether the server's first bytes are an HTTP/2 frame header of type SETTINGS (4): the
/// server preface grpc-go waits for before it calls a connection READY.
fn preface_seen(marks: &IoMarks) -> bool {
    marks.first_bytes().get(3) == Some(&4)
}

/// grpc-go's status error text: `rpc error: code = Unavailable desc = ...`.
fn status_text(status: &tonic::Status) -> String {
    format!("rpc error: code = {} desc = {}", go_code_name(status.code()), status.message())
}

/// grpc-go's `codes.Code.String()` (tonic spells Canceled with two l's).
fn go_code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// The innermost useful message of a connect error: our dial text if it is there.
fn error_chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut last = e.to_string();
    while let Some(err) = source {
        if let Some(dial) = err.downcast_ref::<DialFailed>() {
            return dial.0.clone();
        }
        last = err.to_string();
        source = err.source();
    }
    last
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct DialFailed(String);

/// tonic's connector hook: our own dial (linger option, TCP_NODELAY, Go-worded errors)
/// and an observed stream, so we know whether the server ever spoke.
#[derive(Clone)]
struct ProbeConnector {
    addr: SocketAddr,
    linger: LingerMode,
    deadline: tokio::time::Instant,
    marks: Arc<IoMarks>,
}

type ProbeStream = TokioIo<ObservedIo<Socket, Arc<IoMarks>>>;

impl Service<http::Uri> for ProbeConnector {
    type Response = ProbeStream;
    type Error = DialFailed;
    type Future = Pin<Box<dyn Future<Output = Result<ProbeStream, DialFailed>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _uri: http::Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let stream = dial(this.addr, this.linger, this.deadline).await.map_err(|e| DialFailed(e.text))?;
            let _ = stream.set_nodelay(true);
            Ok(TokioIo::new(ObservedIo::new(stream, this.marks)))
        })
    }
}
