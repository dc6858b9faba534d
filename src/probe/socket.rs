//! The probe socket: a fresh TCP connection per probe with the kubelet's SO_LINGER option,
//! and an I/O wrapper that timestamps the first byte written and read.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use nix::sys::socket::{setsockopt, sockopt};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpSocket, TcpStream};

use crate::gotext;

/// SO_LINGER on probe sockets.
///
/// The kubelet (≥1.27, PR #115143, pkg/probe/dialer_others.go ProbeDialer) sets
/// `{on, 1 s}` and its comment claims this shortens TIME_WAIT to 1 s. On Linux a non-zero
/// linger only makes `close()` wait (up to the linger time) until the peer has
/// acknowledged our FIN; what goes on the wire, TIME_WAIT included, is the same as without
/// it. Only linger 0 (an abortive close with RST) avoids TIME_WAIT. The benchmarks measure
/// TIME_WAIT for each mode.
///
/// That wait is real: measured on loopback here, `close()` blocks 4–6 ms after a bare
/// connect and ~40 ms after a request (the peer's delayed ACK). Go parks a thread for it;
/// a tokio worker must not block, so [`ProbeStream`] hands such a close to the blocking
/// pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LingerMode {
    /// {on, 1s}, as the kubelet sets it.
    // With a non-zero linger `close()` may block the thread up to one round trip (until
    // our FIN is acknowledged): microseconds on loopback.
    #[default]
    Kubelet,
    /// {on, 0}: close with RST, no TIME_WAIT.
    Zero,
    /// SO_LINGER unset (the pre-1.27 kubelet).
    Off,
}

impl LingerMode {
    fn apply(self, socket: &TcpSocket) -> io::Result<()> {
        let seconds = match self {
            LingerMode::Kubelet => 1,
            LingerMode::Zero => 0,
            LingerMode::Off => return Ok(()),
        };
        let linger = nix::libc::linger { l_onoff: 1, l_linger: seconds };
        setsockopt(socket, sockopt::Linger, &linger).map_err(io::Error::from)
    }
}

/// A dial that failed, worded as Go's dialer words it (`dial tcp 127.0.0.1:8080: connect:
/// connection refused`, `dial tcp 127.0.0.1:8080: i/o timeout`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct DialError {
    /// The deadline passed before the connection was established.
    pub timed_out: bool,
    pub text: String,
}

/// Opens a fresh TCP connection to `addr` before `deadline`, with the given linger mode.
pub async fn dial(
    addr: SocketAddr,
    linger: LingerMode,
    deadline: tokio::time::Instant,
) -> Result<ProbeStream, DialError> {
    let failed = |text: String| DialError { timed_out: false, text };
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| failed(format!("dial tcp {addr}: socket: {}", gotext::errno_text(&e))))?;
    linger.apply(&socket).map_err(|e| failed(format!("dial tcp {addr}: setsockopt: {}", gotext::errno_text(&e))))?;
    match tokio::time::timeout_at(deadline, socket.connect(addr)).await {
        Ok(Ok(stream)) => Ok(ProbeStream { inner: Some(stream), close_blocks: linger == LingerMode::Kubelet }),
        Ok(Err(e)) => Err(failed(gotext::dial_error(addr, &e))),
        Err(_) => Err(DialError { timed_out: true, text: gotext::dial_timeout(addr) }),
    }
}

/// A probe's TCP connection. Closing a socket with a non-zero SO_LINGER blocks the
/// closing thread until the peer acknowledges the FIN, so when dropped inside a tokio
/// runtime such a socket is closed on the blocking pool, never on a runtime worker (the
/// kubelet's Go runtime likewise parks a thread in that `close`).
#[derive(Debug)]
pub struct ProbeStream {
    inner: Option<TcpStream>,
    close_blocks: bool,
}

impl ProbeStream {
    fn get(&self) -> io::Result<&TcpStream> {
        self.inner.as_ref().ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }

    fn get_pin(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        self.inner.as_mut().map(Pin::new).ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }

    pub fn set_nodelay(&self, on: bool) -> io::Result<()> {
        self.get()?.set_nodelay(on)
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.get()?.local_addr()
    }
}

impl Drop for ProbeStream {
    fn drop(&mut self) {
        let Some(stream) = self.inner.take() else {
            return;
        };
        if !self.close_blocks {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        // Deregister from the reactor here, close there.
        if let Ok(std_stream) = stream.into_std() {
            handle.spawn_blocking(move || drop(std_stream));
        }
    }
}

impl AsyncRead for ProbeStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_pin() {
            Ok(inner) => inner.poll_read(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl AsyncWrite for ProbeStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_pin() {
            Ok(inner) => inner.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_pin() {
            Ok(inner) => inner.poll_write_vectored(cx, bufs),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_pin() {
            Ok(inner) => inner.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_pin() {
            Ok(inner) => inner.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

/// Microseconds since `start`, saturating.
pub fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

const UNSET: u64 = u64::MAX;

/// Moments observed on a connection, in microseconds since the probe's start. Atomics so
/// a borrowed `&IoMarks` keeps the probe future `Send`; relaxed ordering is enough because
/// only the probe's own task reads them, after the I/O.
#[derive(Debug)]
pub struct IoMarks {
    start: Instant,
    armed: std::sync::atomic::AtomicBool,
    first_write_us: AtomicU64,
    first_read_us: AtomicU64,
    /// The first up to 8 bytes the peer sent, packed, with their count in `first_len`:
    /// enough to tell an HTTP reply from a TLS record (Go's "server gave HTTP response to
    /// HTTPS client").
    first_bytes: AtomicU64,
    first_len: AtomicU64,
}

impl IoMarks {
    pub fn new(start: Instant) -> Self {
        IoMarks {
            start,
            armed: std::sync::atomic::AtomicBool::new(true),
            first_write_us: AtomicU64::new(UNSET),
            first_read_us: AtomicU64::new(UNSET),
            first_bytes: AtomicU64::new(0),
            first_len: AtomicU64::new(0),
        }
    }

    /// The probe's start, which every mark is measured from.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// Stops recording write/read moments until [`IoMarks::arm`] (used during a TLS
    /// handshake, whose bytes are not the request or the response).
    pub fn disarm(&self) {
        self.armed.store(false, Ordering::Relaxed);
    }

    /// Records the next first write and first read from now on.
    pub fn arm(&self) {
        self.first_write_us.store(UNSET, Ordering::Relaxed);
        self.first_read_us.store(UNSET, Ordering::Relaxed);
        self.armed.store(true, Ordering::Relaxed);
    }

    pub fn first_write_us(&self) -> Option<u64> {
        Some(self.first_write_us.load(Ordering::Relaxed)).filter(|v| *v != UNSET)
    }

    pub fn first_read_us(&self) -> Option<u64> {
        Some(self.first_read_us.load(Ordering::Relaxed)).filter(|v| *v != UNSET)
    }

    /// The first bytes the peer sent (at most 8).
    pub fn first_bytes(&self) -> Vec<u8> {
        let len = self.first_len.load(Ordering::Relaxed) as usize;
        self.first_bytes.load(Ordering::Relaxed).to_le_bytes()[..len.min(8)].to_vec()
    }

    fn saw_write(&self) {
        if self.armed.load(Ordering::Relaxed) && self.first_write_us.load(Ordering::Relaxed) == UNSET {
            self.first_write_us.store(micros_since(self.start), Ordering::Relaxed);
        }
    }

    fn saw_read(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.first_len.load(Ordering::Relaxed) == 0 {
            let n = data.len().min(8);
            let mut packed = [0u8; 8];
            packed[..n].copy_from_slice(&data[..n]);
            self.first_bytes.store(u64::from_le_bytes(packed), Ordering::Relaxed);
            self.first_len.store(n as u64, Ordering::Relaxed);
        }
        if self.armed.load(Ordering::Relaxed) && self.first_read_us.load(Ordering::Relaxed) == UNSET {
            self.first_read_us.store(micros_since(self.start), Ordering::Relaxed);
        }
    }
}

/// An I/O stream that reports its first write and first read to [`IoMarks`]. `M` is
/// `&IoMarks` on the hyper path (nothing is spawned, so a borrow suffices) and
/// `Arc<IoMarks>` where a library spawns the connection (tonic).
pub struct ObservedIo<S, M> {
    inner: S,
    marks: M,
}

impl<S, M: AsRef<IoMarks>> ObservedIo<S, M> {
    pub fn new(inner: S, marks: M) -> Self {
        ObservedIo { inner, marks }
    }
}

impl<S: AsyncRead + Unpin, M: AsRef<IoMarks> + Unpin> AsyncRead for ObservedIo<S, M> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = poll {
            this.marks.as_ref().saw_read(&buf.filled()[before..]);
        }
        poll
    }
}

impl<S: AsyncWrite + Unpin, M: AsRef<IoMarks> + Unpin> AsyncWrite for ObservedIo<S, M> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = poll
            && n > 0
        {
            this.marks.as_ref().saw_write();
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = poll
            && n > 0
        {
            this.marks.as_ref().saw_write();
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Lets a plain `&IoMarks` serve as the marks handle.
impl AsRef<IoMarks> for IoMarks {
    fn as_ref(&self) -> &IoMarks {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::sys::socket::getsockopt;

    #[tokio::test]
    async fn each_linger_mode_sets_what_it_says() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        for (mode, expected) in [(LingerMode::Kubelet, (1, 1)), (LingerMode::Zero, (1, 0)), (LingerMode::Off, (0, 0))] {
            let stream = dial(addr, mode, deadline).await.unwrap();
            let inner = stream.get().unwrap();
            let linger = getsockopt(inner, sockopt::Linger).unwrap();
            assert_eq!((linger.l_onoff, linger.l_linger), expected, "{mode:?}");
            assert_eq!(stream.close_blocks, mode == LingerMode::Kubelet);
        }
    }

    #[tokio::test]
    async fn refused_and_timed_out_dials_are_worded_like_go() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        let err = dial(addr, LingerMode::Kubelet, deadline).await.unwrap_err();
        assert_eq!((err.timed_out, err.text), (false, format!("dial tcp {addr}: connect: connection refused")));
        let past = tokio::time::Instant::now();
        let err = dial(addr, LingerMode::Off, past).await.unwrap_err();
        assert!(err.timed_out || err.text.contains("refused"), "{err:?}");
    }
}
