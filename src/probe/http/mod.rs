//! httpGet probes. What is shared by both HTTP clients lives here: the kubelet's request
//! headers, its redirect rule, the status-to-result mapping and Go's error texts. The
//! clients themselves: [`hyper_client`] (the hot path: hyper's HTTP/1 connection API over
//! a fresh tokio socket, nothing spawned) and [`reqwest_client`] (selectable with
//! `client: reqwest` for comparison).
//!
//! Kubelet sources: pkg/probe/http/request.go (URL and headers), pkg/probe/http/http.go
//! (DoHTTPProbe, RedirectChecker, 10 KiB body limit), Go's net/http client.go (redirect
//! loop, `*url.Error`, timeout suffixes).

pub mod hyper_client;
pub mod reqwest_client;
pub mod tls;
pub mod url;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use rustls::pki_types::ServerName;
use serde::Serialize;

use super::address::{AddressPolicy, HostAddr};
use super::outcome::{Outcome, ProbeResult};
use super::socket::LingerMode;
use crate::gotext;
use crate::spec::HttpHeader;
use url::{JoinError, ProbeUrl};

/// The kubelet reads at most this much of a response body (`maxRespBodyLength`).
pub const MAX_BODY: usize = 10 * 1024;

/// Go's client follows a redirect only while fewer than this many requests were sent
/// (`len(via) >= 10` stops it), so a chain of 9 redirects succeeds and the 10th redirect
/// response fails the probe.
pub const MAX_REQUESTS: usize = 10;

/// Go's suffix when the client timeout hits before the response headers (client.go).
/// Since Go 1.23 `getConn` reports the context's error even for a dial cut short by it, so
/// the text is the same whether the connect, the TLS handshake or the server was slow.
pub const AWAITING_HEADERS: &str = "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";

/// Go's text when the client timeout hits while the body is read (client.go
/// cancelTimerBody). Not wrapped in `*url.Error`: it comes from the body read.
pub const READING_BODY: &str = "context deadline exceeded (Client.Timeout or context cancellation while reading body)";

/// Which HTTP client runs httpGet probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum HttpClientKind {
    /// hyper's HTTP/1 connection API over a fresh socket: the cheaper hot path.
    #[default]
    Hyper,
    /// reqwest with pooling off, for comparison.
    Reqwest,
}

/// A resolved httpGet probe.
#[derive(Debug, Clone)]
pub struct HttpTarget {
    pub client: HttpClientKind,
    /// The probe URL as the kubelet builds and prints it.
    pub url: ProbeUrl,
    /// The host to dial for the first request.
    pub host: HostAddr,
    /// The request headers after the kubelet's rules, in Go's write order, without
    /// `Host` (hyper needs it set per request; see [`HttpTarget::host_header`]).
    pub headers: HeaderMap,
    /// A user `Host` header: it becomes the request's Host (request.go `req.Host`).
    pub host_header: Option<HeaderValue>,
    /// `Host` for the first request: the user's, else the URL's authority.
    pub first_host: HeaderValue,
    /// The first request's target (path and query), parsed once.
    pub first_target: http::Uri,
    /// TLS server name (the URL host; SNI is not sent for IP literals, as in Go).
    pub tls_name: ServerName<'static>,
    pub linger: LingerMode,
    pub policy: AddressPolicy,
}

/// A header the kubelet's client would refuse to send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid HTTP header {name:?}: {reason}")]
pub struct InvalidHeader {
    pub name: String,
    pub reason: &'static str,
}

/// The kubelet's request headers (request.go newProbeRequest, Go's Request.write):
/// user headers added with multi-value semantics; `User-Agent: kube-probe/<maj>.<min>`
/// unless given (an empty one means none is sent); `Accept: */*` unless given (an empty
/// first value removes it); `Host` taken out to become the request's Host; `Connection:
/// close` because keep-alives are disabled; no `Accept-Encoding` (compression disabled).
/// Order as Go writes them: User-Agent, the rest sorted by name, Connection last.
pub fn kubelet_headers(
    user: &[HttpHeader],
    user_agent: &HeaderValue,
) -> Result<(HeaderMap, Option<HeaderValue>), InvalidHeader> {
    let mut given: Vec<(HeaderName, HeaderValue)> = Vec::with_capacity(user.len());
    for h in user {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| InvalidHeader { name: h.name.clone(), reason: "not a valid header name" })?;
        let value = HeaderValue::from_str(&h.value).map_err(|_| InvalidHeader {
            name: h.name.clone(),
            reason: "value contains characters HTTP does not allow",
        })?;
        given.push((name, value));
    }
    let first = |name: &HeaderName| given.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let host = first(&header::HOST).filter(|v| !v.is_empty());
    let ua = match first(&header::USER_AGENT) {
        Some(v) if v.is_empty() => None,
        Some(v) => Some(v),
        None => Some(user_agent.clone()),
    };
    let drop_accept = first(&header::ACCEPT).is_some_and(|v| v.is_empty());
    let has_accept = given.iter().any(|(n, _)| n == header::ACCEPT);
    let wants_close = given.iter().any(|(n, v)| {
        n == header::CONNECTION
            && v.to_str().is_ok_and(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    });

    // Go never writes these from Request.Header (reqWriteExcludeHeader).
    let excluded =
        [header::HOST, header::USER_AGENT, header::CONTENT_LENGTH, header::TRANSFER_ENCODING, header::TRAILER];
    let mut rest: Vec<(HeaderName, HeaderValue)> = given
        .into_iter()
        .filter(|(n, _)| !excluded.contains(n))
        .filter(|(n, _)| !(drop_accept && n == header::ACCEPT))
        .collect();
    if !has_accept {
        rest.push((header::ACCEPT, HeaderValue::from_static("*/*")));
    }
    // Stable sort: values of one name keep their order.
    rest.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));

    let mut headers = HeaderMap::with_capacity(rest.len() + 2);
    if let Some(ua) = ua {
        headers.append(header::USER_AGENT, ua);
    }
    for (name, value) in rest {
        headers.append(name, value);
    }
    if !wants_close {
        headers.append(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Ok((headers, host))
}

/// The kubelet's verdict on a response (http.go DoHTTPProbe): 2xx success with the body
/// as output, 3xx warning, anything else a failure whose text never includes the body
/// (issue #99425).
pub fn status_outcome(status: u16, body: String) -> Outcome {
    match status {
        200..=299 => Outcome::success(body),
        300..=399 => Outcome::warning(format!("Probe terminated redirects, Response body: {body}")),
        _ => Outcome::failure(format!("HTTP probe failed with statuscode: {status}")),
    }
}

/// A body read that failed for another reason than the 10 KiB limit: the prober returns
/// `probe.Failure` with the error, i.e. an errored probe "resulted in failure state".
pub fn body_error(text: impl Into<String>) -> Outcome {
    Outcome::errored_with(ProbeResult::Failure, text)
}

/// A transport failure before the response: Failure with Go's `*url.Error` text.
pub fn transport_failure(url: &ProbeUrl, err: &str) -> Outcome {
    Outcome::failure(gotext::url_error(&url.to_string(), err))
}

/// What to do with a response, by Go's redirect loop and the kubelet's RedirectChecker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    /// Not a redirect Go follows (or no Location): this response is the result.
    UseResponse,
    /// Same hostname, under the limit: send the next request here.
    Follow(ProbeUrl),
    /// The probe fails with this text.
    Fail(String),
}

/// Go follows 301, 302, 303, 307 and 308 (client.go redirectBehavior).
pub fn is_followed_status(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Decides a redirect. `requests_sent` counts the requests already sent in this probe,
/// the first included (Go's `len(via)`).
pub fn on_redirect(
    status: u16,
    location: Option<&str>,
    current: &ProbeUrl,
    original_hostname: &str,
    requests_sent: usize,
) -> Redirect {
    let Some(location) = location.filter(|l| !l.is_empty()) else {
        return Redirect::UseResponse;
    };
    if !is_followed_status(status) {
        return Redirect::UseResponse;
    }
    let next = match current.join(location) {
        Ok(next) => next,
        Err(JoinError::UnsupportedScheme { scheme, hostname }) => {
            // Go parses it fine, the checker compares hostnames, and only the send fails.
            if hostname != original_hostname {
                return Redirect::UseResponse;
            }
            return Redirect::Fail(gotext::url_error(
                location,
                &format!("unsupported protocol scheme {}", gotext::quote(&scheme)),
            ));
        }
        Err(JoinError::Invalid(why)) => {
            return Redirect::Fail(gotext::url_error(
                &current.to_string(),
                &format!("failed to parse Location header {}: {why}", gotext::quote(location)),
            ));
        }
    };
    if next.hostname != original_hostname {
        // followNonLocalRedirects=false: http.ErrUseLastResponse.
        return Redirect::UseResponse;
    }
    if requests_sent >= MAX_REQUESTS {
        // Go's quirk: this error's URL is the raw Location value, not the resolved URL.
        return Redirect::Fail(gotext::url_error(location, "stopped after 10 redirects"));
    }
    Redirect::Follow(next)
}

/// Whether a Location is relative (no scheme, no `//authority`): Go keeps a custom Host
/// header across such a redirect (client.go, issue #22233).
pub fn is_relative_location(location: &str) -> bool {
    !location.starts_with("//") && url::has_scheme(location).is_none()
}

/// Go's Referer on a redirect hop: the previous URL, unless going from https to http.
pub fn referer(previous: &ProbeUrl, next: &ProbeUrl) -> Option<HeaderValue> {
    if previous.scheme == url::Scheme::Https && next.scheme == url::Scheme::Http {
        return None;
    }
    HeaderValue::from_str(&previous.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr(name: &str, value: &str) -> HttpHeader {
        HttpHeader { name: name.to_owned(), value: value.to_owned() }
    }

    fn ua() -> HeaderValue {
        HeaderValue::from_static("kube-probe/1.35")
    }

    fn lines(map: &HeaderMap) -> Vec<String> {
        map.iter().map(|(k, v)| format!("{}: {}", k, v.to_str().unwrap())).collect()
    }

    #[test]
    fn default_headers_are_the_kubelets() {
        let (map, host) = kubelet_headers(&[], &ua()).unwrap();
        assert_eq!(lines(&map), ["user-agent: kube-probe/1.35", "accept: */*", "connection: close"]);
        assert_eq!(host, None);
    }

    #[test]
    fn user_headers_follow_the_override_rules() {
        let user = [hdr("X-B", "2"), hdr("Accept", ""), hdr("Host", "example.test"), hdr("x-a", "1"), hdr("X-A", "3")];
        let (map, host) = kubelet_headers(&user, &ua()).unwrap();
        assert_eq!(lines(&map), ["user-agent: kube-probe/1.35", "x-a: 1", "x-a: 3", "x-b: 2", "connection: close"]);
        assert_eq!(host.unwrap(), "example.test");
        let (map, _) = kubelet_headers(&[hdr("User-Agent", "")], &ua()).unwrap();
        assert!(map.get(header::USER_AGENT).is_none());
        let (map, _) = kubelet_headers(&[hdr("User-Agent", "mine/1")], &ua()).unwrap();
        assert_eq!(map[header::USER_AGENT], "mine/1");
        assert!(kubelet_headers(&[hdr("X", "a\nb")], &ua()).is_err());
    }

    #[test]
    fn statuses_map_to_kubelet_results() {
        assert_eq!(status_outcome(204, "ok".into()).result, ProbeResult::Success);
        let warn = status_outcome(302, "moved".into());
        assert_eq!(warn.result, ProbeResult::Warning);
        assert_eq!(warn.output, "Probe terminated redirects, Response body: moved");
        let fail = status_outcome(503, "secret".into());
        assert_eq!(fail.output, "HTTP probe failed with statuscode: 503");
        assert_eq!(status_outcome(199, String::new()).result, ProbeResult::Failure);
    }

    #[test]
    fn redirects_follow_go_and_the_kubelet() {
        let cur = ProbeUrl::for_probe(url::Scheme::Http, "127.0.0.1", 8080, "/");
        assert!(matches!(
            on_redirect(302, Some("/next"), &cur, "127.0.0.1", 1),
            Redirect::Follow(u) if u.target == "/next"
        ));
        assert_eq!(on_redirect(302, Some("http://localhost:8080/"), &cur, "127.0.0.1", 1), Redirect::UseResponse);
        assert_eq!(on_redirect(300, Some("/x"), &cur, "127.0.0.1", 1), Redirect::UseResponse);
        assert_eq!(on_redirect(302, None, &cur, "127.0.0.1", 1), Redirect::UseResponse);
        assert_eq!(
            on_redirect(302, Some("/loop"), &cur, "127.0.0.1", 10),
            Redirect::Fail(r#"Get "/loop": stopped after 10 redirects"#.to_owned())
        );
        assert!(matches!(on_redirect(302, Some("/loop"), &cur, "127.0.0.1", 9), Redirect::Follow(_)));
    }
}
