//! The accept loop: connections up to a limit, HTTP/1.1 and cleartext HTTP/2 on each, and a
//! graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
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

    /// Wraps an accepted stream.
    fn wrap(&self, tcp: TcpStream) -> impl Future<Output = std::io::Result<Self::Stream>> + Send;
}

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
            let svc = hyper::service::service_fn(move |req| respond(Arc::clone(&h), peer, req));
            let conn = builder.serve_connection(TokioIo::new(io), svc).into_owned();
            let _ = watcher.watch(conn).await;
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(limits.shutdown_grace, graceful.shutdown()).await;
}
