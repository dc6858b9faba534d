//! HTTP/1.1 (and HTTPS) answers, as the behaviour says.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};

use super::conn::ConnInfo;
use crate::behaviour::{ReplyKind, Request, body_bytes};

pub(crate) async fn serve<I>(io: I, info: Arc<ConnInfo>, scheme: &'static str)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let svc = service_fn(move |req| answer(req, info.clone(), scheme));
    let _ = http1::Builder::new().timer(TokioTimer::new()).serve_connection(TokioIo::new(io), svc).await;
}

async fn answer(
    req: http::Request<Incoming>,
    info: Arc<ConnInfo>,
    scheme: &'static str,
) -> Result<http::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str()).to_string();
    let host = req.headers().get(http::header::HOST).and_then(|h| h.to_str().ok()).map(str::to_string);
    let reply = info.container.respond(&Request::Http { port: info.declared, path: path.clone(), host: host.clone() });
    if !reply.latency.is_zero() {
        tokio::time::sleep(reply.latency).await;
    }
    match reply.kind {
        ReplyKind::Http { status, body_len, redirect } => {
            let mut b = http::Response::builder()
                .status(status)
                .header(http::header::CONTENT_TYPE, "text/plain; charset=utf-8");
            if let Some(to) = redirect {
                let location = to.location(scheme, host.as_deref(), info.actual, &path, info.port_offset);
                b = b.header(http::header::LOCATION, location);
            }
            let body = Full::new(Bytes::from(body_bytes(status, body_len)));
            Ok(b.body(body).unwrap_or_else(|e| {
                let mut r = http::Response::new(Full::new(Bytes::from(format!(
                    "probebench target: cannot build the response: {e}\n"
                ))));
                *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                r
            }))
        }
        ReplyKind::Hang => std::future::pending().await,
        ReplyKind::Close => {
            info.ctl.abort(false);
            std::future::pending().await
        }
        // Reset, or refused after the connection was accepted (the phase changed
        // in between): the closest a server can get to refusing is a reset.
        _ => {
            info.ctl.abort(true);
            std::future::pending().await
        }
    }
}
