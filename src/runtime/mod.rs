//! The HTTP runtime under `iamc serve` ([`crate::server`]) and `iamc gateway`
//! ([`crate::gateway`]): everything the two front ends share, so that each supplies only its
//! [`Handler`] (its routes, its answers, its counters) and its configuration.
//!
//! - [`accept`]: the listener and the accept loop, with a bound on open connections, the
//!   HTTP/1 header timeout, HTTP/1.1 and cleartext HTTP/2 on one port, and a graceful shutdown.
//!   The [`Transport`] turns each accepted TCP stream into the one HTTP is served on: plain TCP
//!   or TLS ([`tls`], feature `tls`: rustls, HTTP/2 and HTTP/1.1 by ALPN, the certificate
//!   reloadable); a request that came over TLS carries the [`SecureTransport`] extension.
//! - [`respond`]: one request through a [`Handler`], with a panic of the handler turned into
//!   the front end's 500 ([`unwind`]) and the answer reported for its metrics.
//! - [`engine`]: the live engine, swapped whole; updates run one at a time, and a bad update
//!   never replaces a good engine.
//! - [`body`]: reading a request body within a size and a time bound.
//! - [`metrics`]: Prometheus metrics; what both front ends count (decisions, requests,
//!   latency) under one set of names.
//! - [`signal`]: `SIGHUP` (reloads) and the poll ticker.
//! - [`Running`]: a started runtime: its address, its tasks, its shutdown.

pub(crate) mod accept;
pub(crate) mod body;
pub(crate) mod engine;
pub(crate) mod metrics;
pub(crate) mod signal;
#[cfg(feature = "tls")]
pub(crate) mod tls;
pub(crate) mod unwind;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;
use tokio::sync::watch;

pub(crate) use accept::{bind, ConnLimits, Plain, SecureTransport, Transport};
pub(crate) use engine::Engine;
pub(crate) use unwind::CatchUnwind;

/// The body type of every response.
pub(crate) type Body = Full<Bytes>;

/// How a request handler is kept from taking its connection or the server down when it panics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// A task of its own per request: the join error reports the panic. Measured with the load
    /// run of `tests/server.rs`, this is faster for the decision server than polling in place:
    /// p50 0.026 ms against 0.064 ms on one connection.
    Task,
    /// Polled in place inside [`CatchUnwind`]: no task per request. The gateway, whose handler
    /// waits on its upstream, measured the other way (`benches/gateway/run.sh`: added p50
    /// 0.15–0.17 ms in place, 0.21–0.24 ms with a task per request).
    #[cfg_attr(not(feature = "gateway"), allow(dead_code))]
    InPlace,
}

/// A front end: its routes and answers. The runtime calls [`Handler::route`], runs
/// [`Handler::handle`] isolated as [`Handler::ISOLATION`] says, answers
/// [`Handler::panicked`] if it panics, and reports every answer to [`Handler::answered`].
pub(crate) trait Handler: Send + Sync + 'static {
    /// What the front end keeps apart in its metrics (a route name, or `()`).
    type Route: Copy + Send + 'static;

    /// How a panic of the handler is caught.
    const ISOLATION: Isolation;

    /// The route of a request, before it is handled.
    fn route(&self, req: &Request<Incoming>) -> Self::Route;

    /// Answers a request.
    fn handle(
        self: Arc<Self>,
        route: Self::Route,
        peer: SocketAddr,
        req: Request<Incoming>,
    ) -> impl Future<Output = Response<Body>> + Send + 'static;

    /// The answer (a 500) when the handler panicked with `message`.
    fn panicked(&self, route: Self::Route, message: &str) -> Response<Body>;

    /// Called with every answer: its route, status and the time taken.
    fn answered(&self, _route: Self::Route, _status: StatusCode, _elapsed: Duration) {}

    /// Something went wrong outside a request (an accept error, a signal handler).
    fn error(&self, message: String);
}

/// Serves one HTTP request with `handler`: a handler that panics answers
/// [`Handler::panicked`], and the connection and the server keep serving.
pub(crate) async fn respond<H: Handler>(
    handler: Arc<H>,
    peer: SocketAddr,
    req: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let route = handler.route(&req);
    let run = Arc::clone(&handler).handle(route, peer, req);
    let done = match H::ISOLATION {
        Isolation::Task => unwind::in_task(run).await,
        Isolation::InPlace => CatchUnwind::new(run).await,
    };
    let resp = done.unwrap_or_else(|message| handler.panicked(route, &message));
    handler.answered(route, resp.status(), started.elapsed());
    Ok(resp)
}

/// A started runtime: the accept loop and the front end's background tasks, which all end
/// when [`Running::shutdown`] is called.
pub(crate) struct Running {
    addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Starts serving `listener` (bound to `addr`) with `handler`, through `transport`.
    pub(crate) fn start<H: Handler, T: Transport>(
        listener: TcpListener,
        addr: SocketAddr,
        transport: T,
        limits: ConnLimits,
        handler: Arc<H>,
    ) -> Running {
        let (shutdown, rx) = watch::channel(false);
        let accept = tokio::spawn(accept::serve_connections(
            listener,
            Arc::new(transport),
            rx,
            limits,
            handler,
        ));
        Running {
            addr,
            shutdown,
            tasks: vec![accept],
        }
    }

    /// Runs a background task of the front end; `task` gets the shutdown signal (it changes
    /// when the runtime shuts down) and should end then.
    pub(crate) fn spawn<F>(&mut self, task: impl FnOnce(watch::Receiver<bool>) -> F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let t = tokio::spawn(task(self.shutdown.subscribe()));
        self.tasks.push(t);
    }

    /// The address it listens on.
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections and lets open requests finish (within the
    /// [`ConnLimits::shutdown_grace`]); waits for the background tasks to end.
    pub(crate) async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http_body_util::BodyExt;
    use hyper_util::rt::TokioIo;

    use super::*;

    /// Answers 200 with the path; panics on `/panic`.
    #[derive(Default)]
    struct Echo {
        answered: AtomicUsize,
    }

    impl Handler for Echo {
        type Route = bool;
        const ISOLATION: Isolation = Isolation::InPlace;

        fn route(&self, req: &Request<Incoming>) -> bool {
            req.uri().path() == "/panic"
        }

        fn handle(
            self: Arc<Self>,
            panics: bool,
            _peer: SocketAddr,
            req: Request<Incoming>,
        ) -> impl Future<Output = Response<Body>> + Send + 'static {
            let path = req.uri().path().to_string();
            async move {
                tokio::task::yield_now().await;
                if panics {
                    panic!("handler bug");
                }
                Response::new(Full::new(Bytes::from(path)))
            }
        }

        fn panicked(&self, _route: bool, message: &str) -> Response<Body> {
            let mut r = Response::new(Full::new(Bytes::from(format!("500: {message}"))));
            *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            r
        }

        fn answered(&self, _route: bool, _status: StatusCode, _elapsed: Duration) {
            self.answered.fetch_add(1, Ordering::Relaxed);
        }

        fn error(&self, _message: String) {}
    }

    /// [`Echo`] isolated by a task per request.
    #[derive(Default)]
    struct EchoInTask(Arc<Echo>);

    impl Handler for EchoInTask {
        type Route = bool;
        const ISOLATION: Isolation = Isolation::Task;

        fn route(&self, req: &Request<Incoming>) -> bool {
            self.0.route(req)
        }

        fn handle(
            self: Arc<Self>,
            panics: bool,
            peer: SocketAddr,
            req: Request<Incoming>,
        ) -> impl Future<Output = Response<Body>> + Send + 'static {
            Arc::clone(&self.0).handle(panics, peer, req)
        }

        fn panicked(&self, route: bool, message: &str) -> Response<Body> {
            self.0.panicked(route, message)
        }

        fn answered(&self, route: bool, status: StatusCode, elapsed: Duration) {
            self.0.answered(route, status, elapsed)
        }

        fn error(&self, _message: String) {}
    }

    const LIMITS: ConnLimits = ConnLimits {
        header_timeout: Duration::from_secs(5),
        max_connections: 4,
        shutdown_grace: Duration::from_secs(1),
    };

    /// Sends GET `path` twice on one HTTP/1.1 connection: (status, body) of each.
    async fn twice(addr: SocketAddr, first: &str, second: &str) -> Vec<(u16, String)> {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(conn);
        let mut out = Vec::new();
        for path in [first, second] {
            let req = Request::get(path).body(Full::new(Bytes::new())).unwrap();
            // The connection takes the next request only once the last answer is done.
            send.ready().await.unwrap();
            let resp = send.send_request(req).await.unwrap();
            let status = resp.status().as_u16();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            out.push((status, String::from_utf8_lossy(&body).into_owned()));
        }
        out
    }

    async fn start<H: Handler>(handler: Arc<H>) -> Running {
        let (listener, addr) = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        Running::start(listener, addr, Plain, LIMITS, handler)
    }

    /// The counter once it reaches `want`, or after 5 s: `answered` runs after the answer is
    /// on its way, so the client may read it first.
    async fn settled(counter: &std::sync::atomic::AtomicUsize, want: usize) -> usize {
        for _ in 0..500 {
            if counter.load(Ordering::Relaxed) >= want {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        counter.load(Ordering::Relaxed)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panic_answers_500_and_the_connection_keeps_serving() {
        let echo = Arc::new(Echo::default());
        let running = start(Arc::clone(&echo)).await;
        let got = twice(running.local_addr(), "/panic", "/after").await;
        assert_eq!(
            got,
            vec![
                (500, "500: handler bug".to_string()),
                (200, "/after".to_string())
            ]
        );
        assert_eq!(settled(&echo.answered, 2).await, 2);
        running.shutdown().await;

        let in_task = Arc::new(EchoInTask::default());
        let running = start(Arc::clone(&in_task)).await;
        let got = twice(running.local_addr(), "/panic", "/after").await;
        assert_eq!(got[0], (500, "500: handler bug".to_string()));
        assert_eq!(got[1], (200, "/after".to_string()));
        assert_eq!(settled(&in_task.0.answered, 2).await, 2);
        running.shutdown().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_stops_accepting_and_ends_background_tasks() {
        let mut running = start(Arc::new(Echo::default())).await;
        let addr = running.local_addr();
        let (tx, rx) = tokio::sync::oneshot::channel();
        running.spawn(|mut shutdown| async move {
            let _ = shutdown.changed().await;
            let _ = tx.send(());
        });
        running.shutdown().await;
        assert!(rx.await.is_ok(), "the background task saw the shutdown");
        assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    }
}
