//! The HTTP runtime under `iamc serve` ([`crate::server`]) and `iamc gateway`
//! ([`crate::gateway`]): everything the two front ends share, so that each supplies only its
//! [`Handler`] (its routes, its answers, its counters) and its configuration.
//!
//! - [`accept`]: the listener and the accept loop, with a bound on open connections, the
//!   HTTP/1 header timeout, HTTP/1.1 and cleartext HTTP/2 on one port, and a graceful shutdown.
//!   The [`Transport`] turns each accepted TCP stream into the one HTTP is served on: plain TCP
//!   today, the place where a TLS acceptor plugs in.
//! - [`respond`]: one request through a [`Handler`], with a panic of the handler turned into
//!   the front end's 500 ([`unwind`]) and the answer reported for its metrics.
//! - [`engine`]: the live engine, swapped whole; updates run one at a time, and a bad update
//!   never replaces a good engine.
//! - [`body`]: reading a request body within a size and a time bound.
//! - [`signal`]: `SIGHUP` (reloads) and the poll ticker.
//! - [`Running`]: a started runtime: its address, its tasks, its shutdown.

pub(crate) mod accept;
pub(crate) mod body;
pub(crate) mod engine;
pub(crate) mod signal;
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

pub(crate) use accept::{bind, ConnLimits, Plain, Transport};
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

