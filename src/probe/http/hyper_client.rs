//! The hot path for httpGet probes: a fresh tokio `TcpStream` (with the probe linger
//! option), optional TLS, hyper's HTTP/1 connection API, one GET, at most 10 KiB of body,
//! then the connection is dropped. Nothing is spawned: the connection future is polled
//! alongside the request in the probe's own task.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{self, HeaderMap, HeaderValue};
use http::{Request, Uri};
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;

use super::super::address::{self, HostAddr, LookupError};
use super::super::outcome::{Outcome, Timings};
use super::super::socket::{IoMarks, ObservedIo, dial, micros_since};
use super::url::{ProbeUrl, Scheme};
use super::{
    AWAITING_HEADERS, HttpTarget, MAX_BODY, READING_BODY, Redirect, body_error, is_followed_status,
    is_relative_location, on_redirect, referer, status_outcome, transport_failure,
};
use crate::gotext;

/// Where the exchange was when the deadline hit; decides the timeout's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitingHeaders,
    ReadingBody,
}

/// Mutable state of one probe that must survive the timed-out future.
struct Progress {
    phase: Phase,
    /// The URL of the request in flight after a redirect (`None`: the probe URL).
    hop: Option<ProbeUrl>,
}

/// Runs one httpGet probe with hyper.
pub async fn run(target: &HttpTarget, tls: &Arc<ClientConfig>, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let marks = IoMarks::new(start);
    let mut timings = Timings::default();
    let mut progress = Progress { phase: Phase::AwaitingHeaders, hop: None };
    let exchange = exchange(target, tls, deadline, &marks, &mut timings, &mut progress);
    let outcome = match tokio::time::timeout_at(deadline, exchange).await {
        Ok(outcome) => outcome,
        Err(_) => match progress.phase {
            Phase::AwaitingHeaders => transport_failure(progress.hop.as_ref().unwrap_or(&target.url), AWAITING_HEADERS),
            Phase::ReadingBody => body_error(READING_BODY),
        },
    };
    timings.request_written_us = marks.first_write_us();
    timings.first_byte_us = marks.first_read_us();
    timings.total_us = micros_since(start);
    outcome.with_timings(timings)
}

/// All requests of one probe: the first, then same-hostname redirects.
async fn exchange(
    target: &HttpTarget,
    tls: &Arc<ClientConfig>,
    deadline: tokio::time::Instant,
    marks: &IoMarks,
    timings: &mut Timings,
    progress: &mut Progress,
) -> Outcome {
    let mut requests_sent = 0usize;
    // The custom Host that applies to the request being built (Go's `req.Host`).
    let mut host_override = target.host_header.clone();
    let mut extra: Option<HeaderValue> = None; // Referer on redirect hops
    loop {
        let current = progress.hop.as_ref().unwrap_or(&target.url);
        requests_sent += 1;
        let host = if requests_sent == 1 {
            address::resolve(&target.host, current.port, target.policy).await
        } else {
            address::resolve(&HostAddr::parse(&current.hostname), current.port, target.policy).await
        };
        let remote = match host {
            Ok(addr) => addr,
            // Off loopback without --allow-remote: a refusal by probebench, not a verdict
            // on the target, so errored (never counted toward thresholds).
            Err(LookupError::NotLoopback(refused)) => return Outcome::errored(refused.to_string()),
            Err(e) => return transport_failure(current, &e.to_string()),
        };
        let stream = match dial(remote, target.linger, deadline).await {
            Ok(stream) => stream,
            // Go reports the client's context error for a dial cut short by the deadline.
            Err(e) if e.timed_out => return transport_failure(current, AWAITING_HEADERS),
            Err(e) => return transport_failure(current, &e.text),
        };
        // Go's net package sets TCP_NODELAY on every TCP connection.
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr().ok();
        timings.connect_us = Some(micros_since(marks.start()));

        let request = match build_request(target, current, requests_sent, &host_override, extra.take()) {
            Ok(request) => request,
            Err(text) => return transport_failure(current, &text),
        };
        let hop = Hop { current, original_hostname: &target.url.hostname, requests_sent, remote, local, marks };
        let end = match current.scheme {
            Scheme::Http => hop.exchange(ObservedIo::new(stream, marks), request, &mut progress.phase).await,
            Scheme::Https => {
                marks.disarm();
                let io = ObservedIo::new(stream, marks);
                let connector = TlsConnector::from(Arc::clone(tls));
                let tls_stream = match connector.connect(target.tls_name.clone(), io).await {
                    Ok(s) => s,
                    Err(e) => {
                        return transport_failure(current, &tls_error_text(&e, marks, local, remote));
                    }
                };
                marks.arm();
                timings.tls_us = Some(micros_since(marks.start()));
                hop.exchange(tls_stream, request, &mut progress.phase).await
            }
        };
        match end {
            HopEnd::Done(outcome) => return outcome,
            HopEnd::Follow { next, location } => {
                // Go keeps a custom Host only across a relative redirect, and only when it
                // differed from the URL's host (client.go, issue #22233).
                host_override = host_override
                    .filter(|h| is_relative_location(&location) && h.as_bytes() != current.authority.as_bytes());
                extra = referer(current, &next);
                progress.hop = Some(next);
            }
        }
    }
}

/// The GET for one request of the probe.
fn build_request(
    target: &HttpTarget,
    url: &ProbeUrl,
    requests_sent: usize,
    host_override: &Option<HeaderValue>,
    referer: Option<HeaderValue>,
) -> Result<Request<Empty<Bytes>>, String> {
    let (uri, host) = if requests_sent == 1 {
        (target.first_target.clone(), target.first_host.clone())
    } else {
        let uri = Uri::try_from(url.target.as_str()).map_err(|e| e.to_string())?;
        let host = match host_override {
            Some(h) => h.clone(),
            None => HeaderValue::from_str(&url.authority).map_err(|e| e.to_string())?,
        };
        (uri, host)
    };
    let mut headers = HeaderMap::with_capacity(target.headers.len() + 2);
    // Go writes Host first, then User-Agent and the rest (Request.write).
    headers.insert(header::HOST, host);
    for (name, value) in &target.headers {
        headers.append(name.clone(), value.clone());
    }
    if let Some(referer) = referer {
        headers.append(header::REFERER, referer);
    }
    let mut request = Request::new(Empty::new());
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    Ok(request)
}

enum HopEnd {
    Done(Outcome),
    Follow { next: ProbeUrl, location: String },
}

/// One request/response on one fresh connection.
struct Hop<'a> {
    current: &'a ProbeUrl,
    original_hostname: &'a str,
    requests_sent: usize,
    remote: SocketAddr,
    local: Option<SocketAddr>,
    marks: &'a IoMarks,
}

impl Hop<'_> {
    async fn exchange<IO>(&self, io: IO, request: Request<Empty<Bytes>>, phase: &mut Phase) -> HopEnd
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        *phase = Phase::AwaitingHeaders;
        let handshake = http1::Builder::new()
            // Go canonicalizes header names (`X-Custom-Header`); hyper would send them
            // lower-case.
            .title_case_headers(true)
            .handshake::<_, Empty<Bytes>>(TokioIo::new(io))
            .await;
        let (mut sender, conn) = match handshake {
            Ok(pair) => pair,
            Err(e) => return HopEnd::Done(self.failure(&e)),
        };
        let conn = std::pin::pin!(conn);
        let mut driver = ConnDriver { conn, done: false };

        let response = match driver.drive(sender.send_request(request)).await {
            Ok(response) => response,
            Err(e) => return HopEnd::Done(self.failure(&e)),
        };
        let status = response.status().as_u16();
        if is_followed_status(status) {
            let location = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok());
            match on_redirect(status, location, self.current, self.original_hostname, self.requests_sent) {
                Redirect::UseResponse => {}
                Redirect::Fail(text) => return HopEnd::Done(Outcome::failure(text)),
                Redirect::Follow(next) => {
                    return HopEnd::Follow { next, location: location.unwrap_or_default().to_owned() };
                }
            }
        }

        *phase = Phase::ReadingBody;
        let mut body = response.into_body();
        let mut kept: Vec<u8> = Vec::new();
        while kept.len() < MAX_BODY {
            match driver.drive(body.frame()).await {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        let room = MAX_BODY - kept.len();
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                Some(Err(e)) => return HopEnd::Done(body_error(self.body_error_text(&e))),
            }
        }
        // Reaching the limit is not an error (utilio.ErrLimitReached is logged only); the
        // connection is dropped with the rest unread, as the kubelet closes it.
        HopEnd::Done(status_outcome(status, into_text(kept)))
    }

    fn failure(&self, e: &hyper::Error) -> Outcome {
        transport_failure(self.current, &self.header_error_text(e))
    }

    /// Go's wording for a connection that failed before the response headers: `EOF` for a
    /// close without a response, the socket error for a reset.
    fn header_error_text(&self, e: &hyper::Error) -> String {
        if let Some(io) = find_io_error(e) {
            return io_error_text(io, self.local, self.remote);
        }
        if e.is_parse() {
            return format!(
                "net/http: HTTP/1.x transport connection broken: malformed HTTP response {}",
                gotext::quote(&String::from_utf8_lossy(&self.marks.first_bytes()))
            );
        }
        // Incomplete message, canceled, closed: the server hung up without answering.
        "EOF".to_owned()
    }

    fn body_error_text(&self, e: &hyper::Error) -> String {
        if let Some(io) = find_io_error(e)
            && io.kind() != io::ErrorKind::UnexpectedEof
        {
            return io_error_text(io, self.local, self.remote);
        }
        // A body shorter than announced: Go's io.ErrUnexpectedEOF.
        "unexpected EOF".to_owned()
    }
}

fn io_error_text(io: &io::Error, local: Option<SocketAddr>, remote: SocketAddr) -> String {
    match io.kind() {
        io::ErrorKind::UnexpectedEof => "EOF".to_owned(),
        io::ErrorKind::BrokenPipe => format!(
            "write tcp {}: write: {}",
            local.map_or(remote.to_string(), |l| format!("{l}->{remote}")),
            gotext::errno_text(io)
        ),
        _ => gotext::read_error(local, remote, io),
    }
}

fn find_io_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a io::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = err.source();
    }
    None
}

/// Go's crypto/tls and net/http wording for a failed handshake.
fn tls_error_text(e: &io::Error, marks: &IoMarks, local: Option<SocketAddr>, remote: SocketAddr) -> String {
    if e.kind() == io::ErrorKind::UnexpectedEof {
        return "EOF".to_owned();
    }
    let rustls_error = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    match rustls_error {
        Some(rustls::Error::InvalidMessage(_)) | Some(rustls::Error::InappropriateMessage { .. }) => {
            // client.go send(): a record header that reads "HTTP/" gets a better message.
            if marks.first_bytes().starts_with(b"HTTP/") {
                "http: server gave HTTP response to HTTPS client".to_owned()
            } else {
                "tls: first record does not look like a TLS handshake".to_owned()
            }
        }
        Some(rustls::Error::AlertReceived(alert)) => {
            format!("remote error: tls: {}", alert_text(*alert))
        }
        Some(other) => format!("tls: {other}"),
        None if e.raw_os_error().is_some() => gotext::read_error(local, remote, e),
        None => e.to_string(),
    }
}

/// Go's names for the alerts a server commonly sends (crypto/tls alert.go).
fn alert_text(alert: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    match alert {
        A::HandshakeFailure => "handshake failure".to_owned(),
        A::ProtocolVersion => "protocol version not supported".to_owned(),
        A::InternalError => "internal error".to_owned(),
        A::UnrecognisedName => "unrecognized name".to_owned(),
        A::NoApplicationProtocol => "no application protocol".to_owned(),
        A::BadCertificate => "bad certificate".to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn into_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Polls hyper's connection future together with whatever the probe awaits, in the same
/// task, so no task is spawned per probe.
struct ConnDriver<'c, C> {
    conn: Pin<&'c mut C>,
    done: bool,
}

impl<C: Future> ConnDriver<'_, C> {
    async fn drive<F: Future>(&mut self, fut: F) -> F::Output {
        let mut fut = std::pin::pin!(fut);
        if !self.done {
            tokio::select! {
                biased;
                out = &mut fut => return out,
                // The connection ended (closed or failed): whatever was pending learns it
                // from hyper's channels.
                _ = self.conn.as_mut() => self.done = true,
            }
        }
        fut.await
    }
}
