//! httpGet probes through reqwest, selectable with `client: reqwest` so users can compare
//! it with the hyper hot path. One client per prober, built once with pooling off
//! (`pool_max_idle_per_host(0)`: a fresh connection per probe, as the kubelet's
//! `DisableKeepAlives`), the shared rustls configuration, no proxy, no compression, and
//! the kubelet's redirect rule.
//!
//! Known differences from the hyper path, all in reqwest's hands:
//! - reqwest always sends `Accept: */*` when the request has no Accept header, so the
//!   kubelet's "an empty Accept removes it" cannot be reproduced: the header is sent empty.
//! - Its sockets get no SO_LINGER option (there is no hook for it).
//! - Error texts lack the local address (`read tcp 127.0.0.1:8080: read: ...`), and URLs
//!   after a redirect are printed the way the `url` crate normalizes them.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::header::{self, HeaderValue};
use rustls::ClientConfig;

use super::super::address::{self, AddressPolicy, HostAddr, LookupError, NotLoopback};
use super::super::outcome::{Outcome, Timings};
use super::super::socket::micros_since;
use super::{AWAITING_HEADERS, HttpTarget, MAX_BODY, MAX_REQUESTS, READING_BODY, body_error, status_outcome};
use crate::gotext;

/// Builds the reqwest client for probes under `policy`.
pub fn build_client(tls: &Arc<ClientConfig>, policy: AddressPolicy) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .use_preconfigured_tls(ClientConfig::clone(tls))
        .pool_max_idle_per_host(0)
        .http1_only()
        .http1_title_case_headers()
        .no_proxy()
        .tcp_nodelay(true)
        .redirect(redirect_policy(policy))
        .dns_resolver(Arc::new(PolicyResolver { policy }))
        .build()
}

/// The kubelet's RedirectChecker on reqwest's hook: stop (use the 3xx) on another
/// hostname, fail once 10 requests were sent, and refuse hops off loopback.
fn redirect_policy(policy: AddressPolicy) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let next = attempt.url().clone();
        let original = attempt.previous().first().map(hostname);
        if original.as_deref() != Some(hostname(&next).as_str()) {
            return attempt.stop();
        }
        if attempt.previous().len() >= MAX_REQUESTS {
            return attempt.error(RedirectLimit { location: next.to_string() });
        }
        if let Ok(ip) = hostname(&next).parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, next.port_or_known_default().unwrap_or(80));
            if let Err(refused) = policy.check(addr) {
                return attempt.error(refused);
            }
        }
        attempt.follow()
    })
}

/// Go's `URL.Hostname()`: no brackets, no port.
fn hostname(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or("");
    host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_owned()
}

#[derive(Debug, thiserror::Error)]
#[error("stopped after 10 redirects")]
struct RedirectLimit {
    location: String,
}

/// Name resolution that applies the loopback rule (reqwest resolves names itself).
struct PolicyResolver {
    policy: AddressPolicy,
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let host = HostAddr::Name(name.as_str().to_owned());
        Box::pin(async move {
            match address::resolve(&host, 0, policy).await {
                Ok(addr) => Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs),
                Err(e) => Err(Box::new(e) as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

/// Runs one httpGet probe with reqwest.
pub async fn run(client: &reqwest::Client, target: &HttpTarget, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut timings = Timings::default();
    let outcome = exchange(client, target, timeout, deadline, &mut timings).await;
    timings.total_us = micros_since(start);
    outcome.with_timings(timings)
}

async fn exchange(
    client: &reqwest::Client,
    target: &HttpTarget,
    timeout: Duration,
    deadline: tokio::time::Instant,
    timings: &mut Timings,
) -> Outcome {
    if let HostAddr::Ip(ip) = target.host
        && let Err(refused) = target.policy.check(SocketAddr::new(ip, target.url.port))
    {
        return Outcome::errored(refused.to_string());
    }
    let start = Instant::now();
    let mut headers = target.headers.clone();
    if let Some(host) = &target.host_header {
        headers.insert(header::HOST, host.clone());
    }
    if target.headers.get(header::ACCEPT).is_none() {
        // See the module notes: the closest reqwest gets to "no Accept header".
        headers.insert(header::ACCEPT, HeaderValue::from_static(""));
    }
    let send = client.get(target.url.to_string()).headers(headers).timeout(timeout).send();
    let mut response = match tokio::time::timeout_at(deadline, send).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => return send_error(&e, target),
        Err(_) => return super::transport_failure(&target.url, AWAITING_HEADERS),
    };
    timings.first_byte_us = Some(micros_since(start));
    let status = response.status().as_u16();
    let remote = response.remote_addr();
    let mut kept: Vec<u8> = Vec::new();
    while kept.len() < MAX_BODY {
        match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) => return body_error(READING_BODY),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => {
                let room = MAX_BODY - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(Err(e)) if e.is_timeout() => return body_error(READING_BODY),
            Ok(Err(e)) => return body_error(body_chain_text(&e, remote)),
        }
    }
    let text = match String::from_utf8(kept) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    status_outcome(status, text)
}

/// Go's wording for a request that failed before its response.
fn send_error(e: &reqwest::Error, target: &HttpTarget) -> Outcome {
    if let Some(refused) = find::<NotLoopback>(e) {
        return Outcome::errored(refused.to_string());
    }
    if let Some(LookupError::NotLoopback(refused)) = find::<LookupError>(e) {
        return Outcome::errored(refused.to_string());
    }
    if let Some(limit) = find::<RedirectLimit>(e) {
        return Outcome::failure(gotext::url_error(&limit.location, "stopped after 10 redirects"));
    }
    let url_text = match e.url() {
        Some(url) if !is_probe_url(url, target) => url.to_string(),
        _ => target.url.to_string(),
    };
    let remote = e.url().and_then(|url| {
        let ip = hostname(url).parse::<IpAddr>().ok()?;
        Some(SocketAddr::new(ip, url.port_or_known_default()?))
    });
    let err = if e.is_timeout() {
        AWAITING_HEADERS.to_owned()
    } else if let Some(lookup) = find::<LookupError>(e) {
        lookup.to_string()
    } else if e.is_connect()
        && let (Some(io), Some(remote)) = (find::<io::Error>(e), remote)
    {
        gotext::dial_error(remote, io)
    } else {
        chain_text(e, remote, "EOF")
    };
    Outcome::failure(gotext::url_error(&url_text, &err))
}

/// Whether reqwest's URL is the probe URL (then print it the kubelet's way).
fn is_probe_url(url: &reqwest::Url, target: &HttpTarget) -> bool {
    let target_path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    hostname(url) == target.url.hostname
        && url.port_or_known_default() == Some(target.url.port)
        && target_path == target.url.target
}

/// The socket error in the chain, worded like Go, or `fallback` (EOF-like closes).
fn chain_text(e: &reqwest::Error, remote: Option<SocketAddr>, fallback: &str) -> String {
    match (find::<io::Error>(e), remote) {
        (Some(io), Some(remote)) if io.raw_os_error().is_some() => gotext::read_error(None, remote, io),
        (Some(io), _) if io.kind() == io::ErrorKind::UnexpectedEof => "EOF".to_owned(),
        _ => fallback.to_owned(),
    }
}

/// A body read error: the socket error, else Go's `unexpected EOF` for a body cut short.
fn body_chain_text(e: &reqwest::Error, remote: Option<SocketAddr>) -> String {
    match (find::<io::Error>(e), remote) {
        (Some(io), Some(remote)) if io.raw_os_error().is_some() => gotext::read_error(None, remote, io),
        _ => "unexpected EOF".to_owned(),
    }
}

fn find<'a, T: std::error::Error + 'static>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        source = err.source();
    }
    None
}
