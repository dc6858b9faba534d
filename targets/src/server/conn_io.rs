//! The accepted connection: replays the sniffed first bytes, and resets (RST) instead
//! of closing (FIN) when the behaviour asks for it.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

/// Per-connection control shared by the protocol handlers and the connection driver:
/// a handler that must close or reset the connection signals it here, and the driver
/// drops the protocol machinery (and with it the socket).
#[derive(Debug, Default)]
pub(crate) struct ConnCtl {
    reset: AtomicBool,
    abort: Notify,
}

impl ConnCtl {
    /// Ends the connection: with RST if `reset`, else with FIN.
    pub fn abort(&self, reset: bool) {
        if reset {
            self.reset.store(true, Ordering::Release);
        }
        // notify_one keeps a permit if the driver is not waiting yet.
        self.abort.notify_one();
    }

    /// Resolves when a handler asked to end the connection.
    pub async fn aborted(&self) {
        self.abort.notified().await;
    }

    fn wants_reset(&self) -> bool {
        self.reset.load(Ordering::Acquire)
    }
}

/// A TCP stream with some already-read bytes in front.
pub(crate) struct Prefixed {
    prefix: Vec<u8>,
    pos: usize,
    stream: TcpStream,
    ctl: std::sync::Arc<ConnCtl>,
}

impl Prefixed {
    pub fn new(stream: TcpStream, prefix: Vec<u8>, ctl: std::sync::Arc<ConnCtl>) -> Prefixed {
        Prefixed { prefix, pos: 0, stream, ctl }
    }
}

impl Drop for Prefixed {
    fn drop(&mut self) {
        if self.ctl.wants_reset() {
            // SO_LINGER 0: close() sends RST and skips TIME_WAIT.
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        if self.pos < self.prefix.len() {
            let rest = &self.prefix[self.pos..];
            let n = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..n]);
            self.pos += n;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
