//! The admin endpoint: HTTP/1.1 + JSON on loopback, a thin layer over [`Control`].
//! Routes are documented in docs/behaviours.md ("Admin endpoint").

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{Control, ControlError, until};
use crate::behaviour::parse_behaviour;

/// Request bodies larger than this are refused.
const MAX_BODY: usize = 1 << 20;
/// Default grace period of a stop without one (the pod default).
const DEFAULT_GRACE: Duration = Duration::from_secs(30);
/// Longest long-poll wait.
const MAX_WAIT: Duration = Duration::from_secs(300);

pub(crate) async fn run(listener: TcpListener, control: Control, shutdown: watch::Receiver<bool>) {
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            _ = until(&mut stop, true) => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let control = control.clone();
                let mut conn_shutdown = shutdown.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| route(req, control.clone()));
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        _ = conn => {}
                        _ = until(&mut conn_shutdown, true) => {}
                    }
                });
            }
        }
    }
}

type Resp = http::Response<Full<Bytes>>;

fn json<T: Serialize>(status: StatusCode, value: &T) -> Resp {
    let body = serde_json::to_vec_pretty(value).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}").into_bytes());
    let mut r = http::Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

#[derive(Serialize)]
struct ErrorBody {
    error: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    field_errors: Vec<String>,
}

fn error(status: StatusCode, msg: impl Into<String>) -> Resp {
    json(status, &ErrorBody { error: msg.into(), field_errors: Vec::new() })
}

fn control_error(e: ControlError) -> Resp {
    let status = match e {
        ControlError::Running { .. } => StatusCode::CONFLICT,
        _ => StatusCode::NOT_FOUND,
    };
    error(status, e.to_string())
}

fn reply<T: Serialize>(r: Result<T, ControlError>) -> Resp {
    match r {
        Ok(v) => json(StatusCode::OK, &v),
        Err(e) => control_error(e),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StopBody {
    grace_s: Option<f64>,
}

fn query<'a>(q: Option<&'a str>, key: &str) -> Option<&'a str> {
    q?.split('&').filter_map(|kv| kv.split_once('=')).find(|(k, _)| *k == key).map(|(_, v)| v)
}

async fn body_text(req: http::Request<Incoming>) -> Result<String, Resp> {
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| error(StatusCode::BAD_REQUEST, format!("reading the body: {e}")))?
        .to_bytes();
    String::from_utf8(bytes.to_vec()).map_err(|_| error(StatusCode::BAD_REQUEST, "the body is not UTF-8"))
}

async fn route(req: http::Request<Incoming>, control: Control) -> Result<Resp, Infallible> {
    let path = req.uri().path().to_string();
    let q = req.uri().query().map(str::to_string);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method().clone();
    let resp = match (method, segs.as_slice()) {
        (Method::GET, ["healthz"]) => json(StatusCode::OK, &"ok"),
        (Method::GET, ["stats"]) => json(StatusCode::OK, &control.stats()),
        (Method::GET, ["pods"]) => json(StatusCode::OK, &control.pods()),
        (Method::GET, ["pods", pod]) => reply(control.pod(pod)),
        (Method::GET, ["pods", pod, "containers", c]) => reply(control.container(pod, c)),
        (Method::POST, ["pods", pod, "containers", c, "stop"]) => {
            let pod = pod.to_string();
            let c = c.to_string();
            match stop_grace(req).await {
                Ok(grace) => reply(control.stop(&pod, &c, grace)),
                Err(r) => r,
            }
        }
        (Method::POST, ["pods", pod, "stop"]) => {
            let pod = pod.to_string();
            match stop_grace(req).await {
                Ok(grace) => match control.pod(&pod) {
                    Ok(p) => {
                        for c in &p.containers {
                            let _ = control.stop(&pod, &c.name, grace);
                        }
                        reply(control.pod(&pod))
                    }
                    Err(e) => control_error(e),
                },
                Err(r) => r,
            }
        }
        (Method::POST, ["pods", pod, "containers", c, "start"]) => reply(control.start(pod, c)),
        (Method::PUT, ["pods", pod, "containers", c, "behaviour"]) => {
            let pod = pod.to_string();
            let c = c.to_string();
            match body_text(req).await {
                Ok(text) => match parse_behaviour(&text) {
                    Ok(b) => reply(control.replace_behaviour(&pod, &c, b)),
                    Err(e) => json(
                        StatusCode::BAD_REQUEST,
                        &ErrorBody {
                            error: "invalid behaviour".to_string(),
                            field_errors: e.errors.iter().map(ToString::to_string).collect(),
                        },
                    ),
                },
                Err(r) => r,
            }
        }
        (Method::GET, ["events"]) => {
            let q = q.as_deref();
            let after = query(q, "after").and_then(|v| v.parse().ok()).unwrap_or(0);
            let limit = query(q, "limit").and_then(|v| v.parse().ok()).unwrap_or(1000);
            match query(q, "wait").map(humantime::parse_duration) {
                None => json(StatusCode::OK, &control.events_after(after, limit)),
                Some(Ok(wait)) => json(StatusCode::OK, &control.wait_events(after, limit, wait.min(MAX_WAIT)).await),
                Some(Err(e)) => error(StatusCode::BAD_REQUEST, format!("wait: {e}")),
            }
        }
        (_, ["healthz" | "stats" | "pods" | "events", ..]) => {
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here")
        }
        _ => error(StatusCode::NOT_FOUND, format!("no route {path}")),
    };
    Ok(resp)
}

async fn stop_grace(req: http::Request<Incoming>) -> Result<Duration, Resp> {
    let text = body_text(req).await?;
    let body: StopBody = if text.trim().is_empty() {
        StopBody::default()
    } else {
        serde_json::from_str(&text).map_err(|e| error(StatusCode::BAD_REQUEST, format!("body: {e}")))?
    };
    match body.grace_s {
        None => Ok(DEFAULT_GRACE),
        Some(g) if g.is_finite() && g >= 0.0 => {
            Duration::try_from_secs_f64(g).map_err(|e| error(StatusCode::BAD_REQUEST, format!("grace_s: {e}")))
        }
        Some(_) => Err(error(StatusCode::BAD_REQUEST, "grace_s must be a non-negative number")),
    }
}
