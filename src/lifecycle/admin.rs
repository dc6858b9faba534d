//! The targets' admin endpoint as the live lifecycle uses it: start and stop container
//! instances, and learn of their exits by long-polling `GET /events` (targets/src/server/
//! admin.rs). One plain HTTP/1 request per call over loopback.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("cannot reach the targets' admin endpoint {addr}: {source}")]
    Connect { addr: SocketAddr, source: std::io::Error },
    #[error("admin request {what} failed: {why}")]
    Http { what: String, why: String },
    #[error("admin request {what}: HTTP {status}: {body}")]
    Status { what: String, status: u16, body: String },
    #[error("admin request {what}: unreadable answer: {why}")]
    Decode { what: String, why: String },
}

/// One container event from the targets (only what the lifecycle needs).
#[derive(Debug, Clone, Deserialize)]
pub struct TargetEvent {
    pub seq: u64,
    pub pod: String,
    pub container: String,
    /// The targets count instances from 0; the kubelet core from 1.
    pub instance: u32,
    pub kind: String,
    #[serde(default)]
    pub exit_code: Option<i32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TargetEventBatch {
    pub events: Vec<TargetEvent>,
    pub next: u64,
    #[serde(default)]
    pub dropped: u64,
}

/// A client for one targets process's admin endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Admin {
    pub addr: SocketAddr,
}

impl Admin {
    async fn request(&self, method: http::Method, path: &str, body: &str) -> Result<Bytes, AdminError> {
        let what = format!("{method} {path}");
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|source| AdminError::Connect { addr: self.addr, source })?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| AdminError::Http { what: what.clone(), why: e.to_string() })?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let req = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, self.addr.to_string())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| AdminError::Http { what: what.clone(), why: e.to_string() })?;
        let resp =
            sender.send_request(req).await.map_err(|e| AdminError::Http { what: what.clone(), why: e.to_string() })?;
        let status = resp.status().as_u16();
        let bytes = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| AdminError::Http { what: what.clone(), why: e.to_string() })?
            .to_bytes();
        if !(200..300).contains(&status) {
            return Err(AdminError::Status { what, status, body: String::from_utf8_lossy(&bytes).into_owned() });
        }
        Ok(bytes)
    }

    /// Start the container's next instance.
    pub async fn start(&self, pod: &str, container: &str) -> Result<(), AdminError> {
        self.request(http::Method::POST, &format!("/pods/{pod}/containers/{container}/start"), "").await.map(|_| ())
    }

    /// SIGTERM now, SIGKILL after `grace` (the targets apply the app's reaction).
    pub async fn stop(&self, pod: &str, container: &str, grace: Duration) -> Result<(), AdminError> {
        let body = serde_json::json!({ "grace_s": grace.as_secs_f64() }).to_string();
        self.request(http::Method::POST, &format!("/pods/{pod}/containers/{container}/stop"), &body).await.map(|_| ())
    }

    /// Events after `after`, waiting up to `wait` for the first one.
    pub async fn events(&self, after: u64, wait: Duration) -> Result<TargetEventBatch, AdminError> {
        let path = format!("/events?after={after}&limit=1000&wait={}ms", wait.as_millis());
        let bytes = self.request(http::Method::GET, &path, "").await?;
        serde_json::from_slice(&bytes).map_err(|e| AdminError::Decode { what: path, why: e.to_string() })
    }
}
