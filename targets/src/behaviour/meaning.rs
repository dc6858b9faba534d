//! What a response means to each protocol — defined once, here, for the servers and the
//! simulator alike (table in docs/behaviours.md, "What a response means").

use super::model::{GrpcAnswer, RedirectTarget, Response};

/// A request as a probe would make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// An HTTP(S) GET. `port` is the declared container port; `host` the Host header.
    Http {
        /// Declared container port.
        port: u16,
        /// URL path (a query string is ignored for matching).
        path: String,
        /// Host header, if any (may carry a port).
        host: Option<String>,
    },
    /// A TCP connect (tcpSocket probe).
    Tcp {
        /// Declared container port.
        port: u16,
    },
    /// A grpc.health.v1 Check.
    Grpc {
        /// Declared container port.
        port: u16,
        /// The service name asked for ("" = the server as a whole).
        service: String,
    },
    /// An exec probe (simulator; the real targets keep a state directory instead).
    Exec {
        /// The command; the model ignores it and answers from the behaviour.
        argv: Vec<String>,
    },
}

impl Request {
    /// The declared port the request targets, if it has one.
    pub fn port(&self) -> Option<u16> {
        match self {
            Request::Http { port, .. } | Request::Tcp { port } | Request::Grpc { port, .. } => Some(*port),
            Request::Exec { .. } => None,
        }
    }

    /// The URL path without its query string (HTTP only).
    pub fn path(&self) -> Option<&str> {
        match self {
            Request::Http { path, .. } => Some(path.split('?').next().unwrap_or(path)),
            _ => None,
        }
    }
}

/// Where a redirect's `Location` points; unset parts are those of the request. All
/// unset means the very same URL (a loop).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RedirectTo {
    /// Another host name.
    pub host: Option<String>,
    /// Another declared port.
    pub port: Option<u16>,
    /// Another path.
    pub path: Option<String>,
}

impl RedirectTo {
    /// The `Location` header for a request to `scheme://host_header/path` on
    /// `request_port` (the port actually bound), with `port_offset` added to a declared
    /// target port. Relative when only the path changes, as most servers write it.
    pub fn location(
        &self,
        scheme: &str,
        host_header: Option<&str>,
        request_port: u16,
        request_path: &str,
        port_offset: u16,
    ) -> String {
        let path = self.path.as_deref().unwrap_or(request_path);
        if self.host.is_none() && self.port.is_none() {
            return path.to_string();
        }
        let request_host = host_header.map(strip_port).unwrap_or("localhost");
        let host = self.host.as_deref().unwrap_or(request_host);
        let port = self.port.map(|p| p.saturating_add(port_offset)).unwrap_or(request_port);
        format!("{scheme}://{host}:{port}{path}")
    }
}

/// `host:port` -> `host`, keeping bracketed IPv6 literals whole.
fn strip_port(h: &str) -> &str {
    if let Some(rest) = h.strip_prefix('[') {
        return rest.split(']').next().map_or(h, |inner| &h[..inner.len() + 2]);
    }
    match h.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
        _ => h,
    }
}

/// What the app did with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// An HTTP response.
    Http {
        /// Status code.
        status: u16,
        /// Exact body length (bytes from [`body_bytes`]).
        body_len: u64,
        /// For 3xx: where to.
        redirect: Option<RedirectTo>,
    },
    /// The TCP connection was accepted (and then held until the client closes).
    Accept,
    /// Connection refused: nothing listens.
    Refuse,
    /// Accepted and never answered.
    Hang,
    /// Accepted and closed without an answer.
    Close,
    /// Accepted and reset.
    Reset,
    /// A gRPC health answer.
    Grpc(GrpcAnswer),
    /// An exec probe's result.
    Exec {
        /// Exit code.
        code: i32,
        /// Combined output.
        output: String,
    },
}

impl ReplyKind {
    /// Replies that the app computes, so latency and pauses apply to them.
    pub fn takes_time(&self) -> bool {
        matches!(self, ReplyKind::Http { .. } | ReplyKind::Grpc(_) | ReplyKind::Exec { .. })
    }
}

/// The body of a reply: the status line text, repeated and cut to `len` bytes.
pub fn body_bytes(status: u16, len: u64) -> Vec<u8> {
    let unit = default_body(status);
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    unit.bytes().cycle().take(len).collect()
}

/// The body sent when a response sets no size: `200 OK\n`.
pub fn default_body(status: u16) -> String {
    format!("{status} {}\n", reason_phrase(status))
}

fn reason_phrase(status: u16) -> &'static str {
    http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Status")
}

/// The length of [`default_body`] without building it: the simulator asks for it on every
/// reply.
pub fn default_body_len(status: u16) -> u64 {
    let digits = status.checked_ilog10().map_or(1, |d| d + 1) as u64;
    digits + 1 + reason_phrase(status).len() as u64 + 1
}

/// Whether a response counts as healthy for gRPC and exec, which have no status codes:
/// 2xx/3xx are healthy; a redirect is as healthy as its target (a loop is not).
fn healthy(r: &Response) -> bool {
    match r {
        Response::Http { status, .. } => (200..400).contains(status),
        Response::Redirect(rd) => rd.target != RedirectTarget::Loop && healthy(&rd.then),
        Response::Grpc(g) => matches!(g, GrpcAnswer::Serving | GrpcAnswer::UnknownService | GrpcAnswer::Unimplemented),
        Response::Refuse | Response::Hang | Response::Close | Response::Reset | Response::Exit(_) => false,
    }
}

/// Whether a redirect request has reached its target: it is then answered by `then`.
fn at_target(target: &RedirectTarget, req: &Request) -> bool {
    let RedirectTarget::To { host, port, path } = target else {
        return false;
    };
    let Request::Http { port: req_port, host: req_host, .. } = req else {
        return false;
    };
    let req_path = req.path().unwrap_or("/");
    path.as_ref().is_none_or(|p| p == req_path)
        && port.is_none_or(|p| p == *req_port)
        && host.as_ref().is_none_or(|h| req_host.as_deref().map(strip_port) == Some(h.as_str()))
}

/// The meaning of `resp` for `req`. `grpc_services`: the service names the app knows
/// (None = all).
pub(crate) fn answer(resp: &Response, req: &Request, grpc_services: Option<&[String]>) -> ReplyKind {
    // Connection-level answers mean the same to every socket protocol.
    match resp {
        Response::Refuse | Response::Exit(_) => {
            return if matches!(req, Request::Exec { .. }) {
                exec(false, "probebench: container is not answering (refused)")
            } else {
                ReplyKind::Refuse
            };
        }
        Response::Close | Response::Reset if matches!(req, Request::Exec { .. }) => {
            return exec(false, "probebench: connection closed by the app");
        }
        Response::Close => return ReplyKind::Close,
        Response::Reset => return ReplyKind::Reset,
        Response::Hang if !matches!(req, Request::Tcp { .. }) => return ReplyKind::Hang,
        _ => {}
    }
    match req {
        // A tcpSocket probe only sees the handshake, done by the kernel: anything that
        // listens (even a hung or paused app) accepts.
        Request::Tcp { .. } => ReplyKind::Accept,
        Request::Http { .. } => http(resp, req, grpc_services),
        Request::Grpc { service, .. } => {
            let a = match resp {
                Response::Grpc(g) => *g,
                other if healthy(other) => GrpcAnswer::Serving,
                _ => GrpcAnswer::NotServing,
            };
            let known = grpc_services.is_none_or(|s| s.iter().any(|x| x == service));
            match a {
                GrpcAnswer::Serving | GrpcAnswer::NotServing | GrpcAnswer::Unknown if !known => {
                    ReplyKind::Grpc(GrpcAnswer::UnknownService)
                }
                a => ReplyKind::Grpc(a),
            }
        }
        Request::Exec { .. } => {
            if healthy(resp) {
                exec(true, "probebench: healthy")
            } else {
                exec(false, &format!("probebench: unhealthy ({})", describe(resp)))
            }
        }
    }
}

fn http(resp: &Response, req: &Request, grpc_services: Option<&[String]>) -> ReplyKind {
    match resp {
        Response::Http { status, body_bytes } => ReplyKind::Http {
            status: *status,
            body_len: body_bytes.unwrap_or_else(|| default_body_len(*status)),
            redirect: None,
        },
        Response::Redirect(rd) => {
            if at_target(&rd.target, req) {
                return answer(&rd.then, req, grpc_services);
            }
            let to = match &rd.target {
                RedirectTarget::Loop => RedirectTo::default(),
                RedirectTarget::To { host, port, path } => {
                    RedirectTo { host: host.clone(), port: *port, path: path.clone() }
                }
            };
            ReplyKind::Http { status: rd.status, body_len: default_body_len(rd.status), redirect: Some(to) }
        }
        Response::Grpc(g) => {
            let status = match g {
                GrpcAnswer::NotServing | GrpcAnswer::Unknown => 503,
                GrpcAnswer::Serving | GrpcAnswer::UnknownService | GrpcAnswer::Unimplemented => 200,
            };
            ReplyKind::Http { status, body_len: default_body_len(status), redirect: None }
        }
        // Connection-level answers were handled by the caller.
        Response::Refuse | Response::Exit(_) => ReplyKind::Refuse,
        Response::Hang => ReplyKind::Hang,
        Response::Close => ReplyKind::Close,
        Response::Reset => ReplyKind::Reset,
    }
}

fn exec(ok: bool, output: &str) -> ReplyKind {
    ReplyKind::Exec { code: if ok { 0 } else { 1 }, output: output.to_string() }
}

/// A short description of a response, for exec output and the admin state.
pub fn describe(r: &Response) -> String {
    match r {
        Response::Http { status: 200, body_bytes: None } => "ok".to_string(),
        Response::Http { status, body_bytes: None } => format!("status {status}"),
        Response::Http { status, body_bytes: Some(n) } => format!("status {status}, {n} byte body"),
        Response::Redirect(rd) => match &rd.target {
            RedirectTarget::Loop => "redirect loop".to_string(),
            RedirectTarget::To { .. } => format!("redirect {}", rd.status),
        },
        Response::Grpc(g) => format!("grpc {g:?}"),
        Response::Refuse => "refuse".to_string(),
        Response::Hang => "hang".to_string(),
        Response::Close => "close".to_string(),
        Response::Reset => "reset".to_string(),
        Response::Exit(c) => format!("exit {c}"),
    }
}

#[cfg(test)]
mod body_len_tests {
    use super::*;

    #[test]
    fn default_body_len_matches_the_body() {
        for status in [100, 200, 204, 301, 404, 500, 503, 599] {
            assert_eq!(default_body_len(status), default_body(status).len() as u64, "{status}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::model::Redirect;

    fn http_req(port: u16, path: &str) -> Request {
        Request::Http { port, path: path.to_string(), host: Some("127.1.0.0:8080".to_string()) }
    }

    #[test]
    fn ok_means_200_accept_serving_exit0() {
        let r = Response::OK;
        assert!(matches!(answer(&r, &http_req(80, "/"), None), ReplyKind::Http { status: 200, .. }));
        assert_eq!(answer(&r, &Request::Tcp { port: 80 }, None), ReplyKind::Accept);
        let g = Request::Grpc { port: 80, service: String::new() };
        assert_eq!(answer(&r, &g, None), ReplyKind::Grpc(GrpcAnswer::Serving));
        assert!(matches!(answer(&r, &Request::Exec { argv: vec![] }, None), ReplyKind::Exec { code: 0, .. }));
    }

    #[test]
    fn error_status_means_not_serving_and_exit1() {
        let r = Response::Http { status: 500, body_bytes: None };
        let g = Request::Grpc { port: 80, service: String::new() };
        assert_eq!(answer(&r, &g, None), ReplyKind::Grpc(GrpcAnswer::NotServing));
        assert!(matches!(answer(&r, &Request::Exec { argv: vec![] }, None), ReplyKind::Exec { code: 1, .. }));
        assert_eq!(answer(&r, &Request::Tcp { port: 80 }, None), ReplyKind::Accept);
    }

    #[test]
    fn hang_accepts_tcp_but_hangs_the_rest() {
        assert_eq!(answer(&Response::Hang, &Request::Tcp { port: 1 }, None), ReplyKind::Accept);
        assert_eq!(answer(&Response::Hang, &http_req(1, "/"), None), ReplyKind::Hang);
    }

    #[test]
    fn unknown_services_get_not_found() {
        let g = Request::Grpc { port: 80, service: "other".to_string() };
        let known = vec![String::new(), "app".to_string()];
        assert_eq!(answer(&Response::OK, &g, Some(&known)), ReplyKind::Grpc(GrpcAnswer::UnknownService));
    }

    #[test]
    fn port_redirect_answers_then_at_its_target() {
        let r = Response::Redirect(Redirect {
            status: 302,
            target: RedirectTarget::To { host: None, port: Some(8081), path: None },
            then: Box::new(Response::OK),
        });
        match answer(&r, &http_req(8080, "/healthz"), None) {
            ReplyKind::Http { status: 302, redirect: Some(to), .. } => assert_eq!(
                to.location("http", Some("127.1.0.0:8080"), 8080, "/healthz", 0),
                "http://127.1.0.0:8081/healthz"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(answer(&r, &http_req(8081, "/healthz"), None), ReplyKind::Http { status: 200, .. }));
    }

    #[test]
    fn loop_redirect_points_at_itself() {
        let r =
            Response::Redirect(Redirect { status: 301, target: RedirectTarget::Loop, then: Box::new(Response::OK) });
        match answer(&r, &http_req(8080, "/x"), None) {
            ReplyKind::Http { redirect: Some(to), .. } => assert_eq!(to.location("http", None, 8080, "/x", 0), "/x"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(answer(&r, &Request::Exec { argv: vec![] }, None), ReplyKind::Exec { code: 1, .. }));
    }

    #[test]
    fn bodies_have_the_exact_length() {
        assert_eq!(body_bytes(200, 0).len(), 0);
        assert_eq!(body_bytes(200, 100_000).len(), 100_000);
        assert_eq!(body_bytes(200, 7), b"200 OK\n");
        assert_eq!(strip_port("[::1]:80"), "[::1]");
        assert_eq!(strip_port("a.b:80"), "a.b");
    }
}
