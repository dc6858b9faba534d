//! What a probe concludes in the simulator: the behaviour model's reply (shared with the
//! real targets) turned into the kubelet's Outcome with the same texts the real mechanisms
//! produce (probe/gotext.rs, probe/http), so a simulated event reads like a real one.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use probebench_targets::behaviour::{GrpcAnswer, ReplyKind, Request, body_bytes};
use probebench_targets::{Instance, Reply};

use crate::gotext;
use crate::kubelet::config::KubeletConfig;
use crate::kubelet::messages;
use crate::probe::http::{AWAITING_HEADERS, MAX_BODY, MAX_REQUESTS, status_outcome};
use crate::probe::outcome::Outcome;

/// A probe's target, resolved once per worker.
#[derive(Debug, Clone, PartialEq)]
pub enum SimAction {
    Http {
        https: bool,
        port: u16,
        path: String,
        host_header: Option<String>,
        /// The request built once, so a probe that needs no redirect allocates nothing.
        request: Request,
    },
    Tcp {
        port: u16,
    },
    Grpc {
        port: u16,
        service: String,
    },
    Exec {
        argv: Vec<String>,
    },
    /// Resolution failed the way the kubelet's does (an unknown port name): errored.
    Errored(String),
}

/// One probe run's conclusion and how long it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub outcome: Outcome,
    pub took_ns: u64,
}

/// What the judge needs to know about the container at the probe's start.
pub struct Target<'a> {
    pub ip: Ipv4Addr,
    /// The running app instance, with its time since start; None when no instance runs.
    pub running: Option<(&'a mut Instance, Duration)>,
    /// Ports the container declares: only these listen.
    pub declared: &'a [u16],
    pub timeout_ns: u64,
    pub cfg: &'a KubeletConfig,
}

fn ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn done(outcome: Outcome, took_ns: u64) -> Judged {
    Judged { outcome, took_ns }
}

fn refused() -> std::io::Error {
    std::io::Error::from_raw_os_error(nix::libc::ECONNREFUSED)
}

fn reset() -> std::io::Error {
    std::io::Error::from_raw_os_error(nix::libc::ECONNRESET)
}

/// The reply of the container to `req`, or a refusal when nothing listens on its port.
fn reply(target: &mut Target<'_>, req: &Request) -> Reply {
    let listening = req.port().is_none_or(|p| target.declared.contains(&p));
    match (&mut target.running, listening) {
        (Some((instance, since)), true) => instance.respond(*since, req),
        _ => Reply { kind: ReplyKind::Refuse, latency: Duration::ZERO },
    }
}

fn url(https: bool, ip: Ipv4Addr, port: u16, path: &str) -> String {
    let scheme = if https { "https" } else { "http" };
    format!("{scheme}://{ip}:{port}{path}")
}

/// Judge one probe run.
pub fn judge(action: &SimAction, target: &mut Target<'_>, exec_id: &mut dyn FnMut() -> String) -> Judged {
    match action {
        SimAction::Errored(text) => done(Outcome::errored(text.clone()), 0),
        SimAction::Tcp { port } => tcp(*port, target),
        SimAction::Http { https, port, path, host_header, request } => {
            http(*https, *port, path, host_header.as_deref(), request, target)
        }
        SimAction::Grpc { port, service } => grpc(*port, service, target),
        SimAction::Exec { argv } => exec(argv, target, exec_id),
    }
}

/// tcpSocket: a connect that succeeds is healthy whatever the app then does.
fn tcp(port: u16, target: &mut Target<'_>) -> Judged {
    let addr = SocketAddr::from((target.ip, port));
    match reply(target, &Request::Tcp { port }).kind {
        ReplyKind::Refuse => done(Outcome::failure(gotext::dial_error(addr, &refused())), 0),
        _ => done(Outcome::success(String::new()), 0),
    }
}

impl SimAction {
    /// An httpGet action with its request prepared.
    pub fn http(https: bool, port: u16, path: String, host_header: Option<String>) -> SimAction {
        let request = Request::Http { port, path: path.clone(), host: host_header.clone() };
        SimAction::Http { https, port, path, host_header, request }
    }
}

fn http(
    https: bool,
    port: u16,
    path: &str,
    host_header: Option<&str>,
    first: &Request,
    target: &mut Target<'_>,
) -> Judged {
    let timeout = target.timeout_ns;
    let mut port = port;
    let mut path = std::borrow::Cow::Borrowed(path);
    let mut req = std::borrow::Cow::Borrowed(first);
    let mut elapsed = 0u64;
    for sent in 1..=MAX_REQUESTS + 1 {
        let r = reply(target, &req);
        let took = elapsed.saturating_add(ns(r.latency));
        // Texts are built only for the outcomes that carry them.
        let u = || url(https, target.ip, port, &path);
        let addr = SocketAddr::from((target.ip, port));
        match r.kind {
            ReplyKind::Refuse => {
                return done(Outcome::failure(gotext::url_error(&u(), &gotext::dial_error(addr, &refused()))), elapsed);
            }
            ReplyKind::Hang | ReplyKind::Accept => {
                return done(Outcome::failure(gotext::url_error(&u(), AWAITING_HEADERS)), timeout);
            }
            _ if took >= timeout => return done(Outcome::failure(gotext::url_error(&u(), AWAITING_HEADERS)), timeout),
            ReplyKind::Close => return done(Outcome::failure(gotext::url_error(&u(), "EOF")), took),
            ReplyKind::Reset => {
                let local = SocketAddr::from((Ipv4Addr::LOCALHOST, 40000 + (port % 20000)));
                let text = gotext::read_error(Some(local), addr, &reset());
                return done(Outcome::failure(gotext::url_error(&u(), &text)), took);
            }
            ReplyKind::Http { status, body_len, redirect } => {
                let followed = matches!(status, 301 | 302 | 303 | 307 | 308);
                match redirect {
                    Some(to) if followed => {
                        if let Some(host) = &to.host
                            && host != &target.ip.to_string()
                        {
                            // Another hostname: not followed; the 3xx itself is a warning.
                            return done(status_outcome(status, body(status, body_len)), took);
                        }
                        if sent >= MAX_REQUESTS {
                            let location = to.location(if https { "https" } else { "http" }, None, port, &path, 0);
                            return done(
                                Outcome::failure(gotext::url_error(&location, "stopped after 10 redirects")),
                                took,
                            );
                        }
                        if let Some(p) = to.port {
                            port = p;
                        }
                        if let Some(p) = &to.path {
                            path = std::borrow::Cow::Owned(p.clone());
                        }
                        req = std::borrow::Cow::Owned(Request::Http {
                            port,
                            path: path.to_string(),
                            host: host_header.map(str::to_string),
                        });
                        elapsed = took;
                        continue;
                    }
                    _ => {
                        // Only warnings carry the body in their text; skip building it otherwise.
                        let text = if (300..400).contains(&status) { body(status, body_len) } else { String::new() };
                        return done(status_outcome(status, text), took);
                    }
                }
            }
            ReplyKind::Grpc(_) | ReplyKind::Exec { .. } => {
                return done(Outcome::failure(gotext::url_error(&u(), "EOF")), took);
            }
        }
    }
    done(Outcome::failure("stopped after 10 redirects".to_string()), elapsed)
}

/// The response body as the kubelet reads it: at most 10 KiB.
fn body(status: u16, len: u64) -> String {
    let bytes = body_bytes(status, len.min(MAX_BODY as u64));
    String::from_utf8_lossy(&bytes).into_owned()
}

fn grpc(port: u16, service: &str, target: &mut Target<'_>) -> Judged {
    let timeout = target.timeout_ns;
    let addr = format!("{}:{port}", target.ip);
    let within = gotext::duration(Duration::from_nanos(timeout));
    let dial_failure = |why: &str| {
        done(
            Outcome::failure(format!(
                "timeout: failed to connect service {} within {within}: context deadline exceeded (last connection error: {why})",
                gotext::quote(&addr)
            )),
            timeout,
        )
    };
    let r = reply(target, &Request::Grpc { port, service: service.to_string() });
    match r.kind {
        // grpc-go's blocking dial keeps retrying until the deadline.
        ReplyKind::Refuse => dial_failure(&gotext::dial_error(SocketAddr::from((target.ip, port)), &refused())),
        ReplyKind::Hang | ReplyKind::Accept => {
            dial_failure("the connection was accepted but the server sent nothing (no HTTP/2 preface)")
        }
        ReplyKind::Close | ReplyKind::Reset => dial_failure("the connection was closed before the HTTP/2 handshake"),
        _ if ns(r.latency) >= timeout => {
            done(Outcome::failure(format!("timeout: health rpc did not complete within {within}")), timeout)
        }
        ReplyKind::Grpc(answer) => {
            let outcome = match answer {
                GrpcAnswer::Serving => Outcome::success("service healthy"),
                GrpcAnswer::NotServing => Outcome::failure("service unhealthy (responded with \"NOT_SERVING\")"),
                GrpcAnswer::Unknown => Outcome::failure("service unhealthy (responded with \"UNKNOWN\")"),
                GrpcAnswer::UnknownService => Outcome::failure(
                    "error: health rpc probe failed: rpc error: code = NotFound desc = unknown service",
                ),
                GrpcAnswer::Unimplemented => Outcome::failure(
                    "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health",
                ),
            };
            done(outcome, ns(r.latency))
        }
        ReplyKind::Http { .. } | ReplyKind::Exec { .. } => done(
            Outcome::failure(
                "error: health rpc probe failed: rpc error: code = Unavailable desc = the server does not speak gRPC",
            ),
            ns(r.latency),
        ),
    }
}

/// Whether the container has the program: a first argv element with whitespace in it (the
/// classic `["ls /tmp/abc"]`) names no file any image has.
fn program_exists(program: &str) -> bool {
    !program.is_empty() && !program.chars().any(char::is_whitespace)
}

fn exec(argv: &[String], target: &mut Target<'_>, exec_id: &mut dyn FnMut() -> String) -> Judged {
    let program = argv.first().map(String::as_str).unwrap_or("");
    if target.running.is_none() {
        return done(
            Outcome::errored(
                "rpc error: code = Unknown desc = failed to exec in container: container is in CONTAINER_EXITED state",
            ),
            0,
        );
    }
    if !program_exists(program) {
        return done(Outcome::errored(messages::exec_not_found(program, &exec_id())), 0);
    }
    let timeout = target.timeout_ns;
    let r = reply(target, &Request::Exec { argv: argv.to_vec() });
    let took = ns(r.latency);
    if took >= timeout {
        return done(
            Outcome::failure(crate::probe::exec::timeout_text(
                target.cfg.version >= (crate::kubelet::config::Version { major: 1, minor: 31 }),
                argv,
                Duration::from_nanos(timeout),
            )),
            timeout,
        );
    }
    match r.kind {
        ReplyKind::Exec { code: 0, output } => done(Outcome::success(output), took),
        ReplyKind::Exec { output, .. } => done(Outcome::failure(output), took),
        ReplyKind::Hang => done(
            Outcome::failure(crate::probe::exec::timeout_text(
                target.cfg.version >= (crate::kubelet::config::Version { major: 1, minor: 31 }),
                argv,
                Duration::from_nanos(timeout),
            )),
            timeout,
        ),
        _ => done(Outcome::failure(String::new()), took),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use probebench_targets::Behaviour;

    fn cfg() -> KubeletConfig {
        KubeletConfig::default()
    }

    #[test]
    fn http_to_an_undeclared_port_is_refused_with_the_kubelet_text() {
        let c = cfg();
        let b = Behaviour::default_healthy();
        let mut inst = b.instance(1, 0);
        let mut t = Target {
            ip: Ipv4Addr::new(127, 1, 0, 0),
            running: Some((&mut inst, Duration::from_secs(10))),
            declared: &[80],
            timeout_ns: 1_000_000_000,
            cfg: &c,
        };
        let action = SimAction::http(false, 8080, "/".into(), None);
        let j = judge(&action, &mut t, &mut || "x".into());
        assert_eq!(
            j.outcome.output,
            "Get \"http://127.1.0.0:8080/\": dial tcp 127.1.0.0:8080: connect: connection refused"
        );
        let ok = judge(&SimAction::http(false, 80, "/".into(), None), &mut t, &mut || "x".into());
        assert!(ok.outcome.result.counts_as_success(), "{ok:?}");
    }

    #[test]
    fn the_one_element_exec_mistake_is_errored_as_containerd_says() {
        let c = cfg();
        let b = Behaviour::default_healthy();
        let mut inst = b.instance(1, 0);
        let mut t = Target {
            ip: Ipv4Addr::new(127, 1, 0, 0),
            running: Some((&mut inst, Duration::from_secs(5))),
            declared: &[80],
            timeout_ns: 1_000_000_000,
            cfg: &c,
        };
        let j = judge(&SimAction::Exec { argv: vec!["ls /tmp/abc".into()] }, &mut t, &mut || "0".repeat(64));
        assert!(j.outcome.errored);
        assert!(
            j.outcome.output.ends_with("exec: \"ls /tmp/abc\": stat ls /tmp/abc: no such file or directory: unknown")
        );
    }
}
