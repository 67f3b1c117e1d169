//! The accept loop: connections up to a limit, HTTP/1.1 and cleartext HTTP/2 on each, and a
//! graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::{respond, Handler};

/// How [`serve_connections`] treats connections.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnLimits {
    /// Time to send HTTP/1 request headers (also closes idle keep-alive connections).
    pub header_timeout: Duration,
    /// Connections open at once; past it, accepting waits for one to close.
    pub max_connections: usize,
    /// How long requests in flight may finish after shutdown is asked.
    pub shutdown_grace: Duration,
}

/// What an accepted TCP stream becomes before HTTP is served on it. It runs on the
/// connection's own task, so a slow client holds up no other connection: this is where a TLS
/// acceptor wraps the stream (a handshake that fails closes that connection alone).
pub(crate) trait Transport: Send + Sync + 'static {
    /// The stream HTTP is served on.
    type Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static;

    /// Whether the stream is encrypted (TLS): each request served on it then carries the
    /// [`SecureTransport`] extension.
    const SECURE: bool = false;

    /// Wraps an accepted stream.
    fn wrap(&self, tcp: TcpStream) -> impl Future<Output = std::io::Result<Self::Stream>> + Send;
}

/// The request extension of a request that came over TLS (`aws:SecureTransport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SecureTransport;

/// Plain TCP: HTTP/1.1 and cleartext HTTP/2 (prior knowledge).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Plain;

impl Transport for Plain {
    type Stream = TcpStream;

    fn wrap(&self, tcp: TcpStream) -> impl Future<Output = std::io::Result<TcpStream>> + Send {
        std::future::ready(Ok(tcp))
    }
}

/// Binds `addr`; the error says which address could not be bound.
pub(crate) async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    Ok((listener, local))
}

/// Accepts connections until `shutdown` changes and serves HTTP/1.1 and cleartext HTTP/2 on
/// each through `transport`, answering every request with `handler` (see [`respond`]); then
/// lets connections finish for `shutdown_grace`.
pub(crate) async fn serve_connections<H: Handler, T: Transport>(
    listener: TcpListener,
    transport: Arc<T>,
    mut shutdown: watch::Receiver<bool>,
    limits: ConnLimits,
    handler: Arc<H>,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        // A client that shuts down its write side after its request still gets the answer.
        .half_close(true)
        .max_buf_size(64 * 1024);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(256)
        .max_header_list_size(64 * 1024);
    let builder = Arc::new(builder);
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    loop {
        let permit = tokio::select! {
            _ = shutdown.changed() => break,
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            _ = shutdown.changed() => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(a) => a,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                handler.error(format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let h = Arc::clone(&handler);
        let builder = Arc::clone(&builder);
        let transport = Arc::clone(&transport);
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // The permit is held while the connection is open, its handshake included.
            let _permit = permit;
            let Ok(io) = transport.wrap(stream).await else {
                return;
            };
            let in_flight = Arc::new(AtomicUsize::new(0));
            let counted = Arc::clone(&in_flight);
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                if T::SECURE {
                    req.extensions_mut().insert(SecureTransport);
                }
                let guard = InFlight::new(&counted);
                let answer = respond(Arc::clone(&h), peer, req);
                async move {
                    let r = answer.await;
                    drop(guard);
                    r
                }
            });
            let io = UntilKnown::new(io, limits.header_timeout, in_flight);
            let conn = builder.serve_connection(TokioIo::new(io), svc).into_owned();
            let _ = watcher.watch(conn).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
}

/// The client preface every HTTP/2 connection starts with.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Counts a request in flight on its connection while it lives (dropped when the answer is
/// ready, or when the request is abandoned).
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn new(count: &Arc<AtomicUsize>) -> InFlight {
        count.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(count))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A connection's stream with two deadlines, each of which fails a waiting read with
/// `TimedOut`, which closes the connection:
/// - on its first bytes: until they show which HTTP the client speaks (a byte that departs
///   from the HTTP/2 preface means HTTP/1, whose header timeout then applies; the whole preface
///   means HTTP/2). Without it, a connection that sends nothing (or part of the preface) would
///   hold its slot for ever: hyper's HTTP/1 header timeout starts only once the version is
///   known.
/// - when idle: no request in flight and no byte read or written for the timeout. Without it,
///   an HTTP/2 connection that sends its preface and then nothing would hold its slot for
///   ever (hyper's HTTP/2 server has no idle timeout). A request in flight, or an answer still
///   being written, keeps the connection open; a client that sends PINGs keeps it open too, as
///   one that sends requests would.
pub(crate) struct UntilKnown<S> {
    inner: S,
    /// Running until the version is known.
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// How many bytes of the preface have been read.
    seen: usize,
    /// Reset by every byte read or written.
    idle: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    /// Requests of this connection in flight.
    in_flight: Arc<AtomicUsize>,
}

impl<S> UntilKnown<S> {
    pub(crate) fn new(inner: S, timeout: Duration, in_flight: Arc<AtomicUsize>) -> UntilKnown<S> {
        UntilKnown {
            inner,
            deadline: Some(Box::pin(tokio::time::sleep(timeout))),
            seen: 0,
            idle: Box::pin(tokio::time::sleep(timeout)),
            timeout,
            in_flight,
        }
    }

    fn active(&mut self) {
        let next = tokio::time::Instant::now() + self.timeout;
        self.idle.as_mut().reset(next);
    }

    /// Whether the connection has been idle for the timeout (registers the waker otherwise).
    fn idle_expired(&mut self, cx: &mut Context<'_>) -> bool {
        while self.idle.as_mut().poll(cx).is_ready() {
            if self.in_flight.load(Ordering::Relaxed) == 0 {
                return true;
            }
            self.active();
        }
        false
    }

    /// Takes note of `read`, the bytes just read; the deadline ends once the version is known.
    fn saw(&mut self, read: &[u8]) {
        if self.deadline.is_none() {
            return;
        }
        for b in read {
            if H2_PREFACE.get(self.seen) != Some(b) {
                self.deadline = None;
                return;
            }
            self.seen += 1;
        }
        if self.seen >= H2_PREFACE.len() {
            self.deadline = None;
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for UntilKnown<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.active();
                }
                this.saw(&buf.filled()[before..]);
                Poll::Ready(Ok(()))
            }
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|d| d.as_mut().poll(cx).is_ready());
                if expired {
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the client did not start a request in time",
                    )));
                }
                if this.deadline.is_none() && this.idle_expired(cx) {
                    return Poll::Ready(Err(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the connection was idle",
                    )));
                }
                Poll::Pending
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for UntilKnown<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.active();
        }
        r
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.active();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
