//! Catching a panic in a request handler on the task that runs it.
//!
//! A handler that panics must answer 500 and leave the connection and the server serving.
//! Spawning the handler as a task of its own does that too, but for the gateway it cost some
//! 50 µs per request on a 2-core machine (measured with `benches/gateway/run.sh`: added p50
//! 0.21–0.24 ms with a task per request, 0.15–0.17 ms without). [`CatchUnwind`] polls the
//! handler in place, inside [`std::panic::catch_unwind`]. The decision server measured the
//! other way (see `server::http::serve`) and keeps a task per request.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future that turns a panic of the future it wraps into `Err`.
pub(crate) struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> CatchUnwind<F> {
    /// Wraps `fut`.
    pub(crate) fn new(fut: F) -> CatchUnwind<F> {
        CatchUnwind(Box::pin(fut))
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // The future is dropped after a panic (the caller stops polling), so no broken state
        // is observed afterwards: asserting unwind safety is sound here.
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic".to_string());
                Poll::Ready(Err(msg))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::panic)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_an_error_and_a_value_passes() {
        assert_eq!(CatchUnwind::new(async { 7 }).await, Ok(7));
        let r = CatchUnwind::new(async {
            tokio::task::yield_now().await;
            panic!("boom");
        })
        .await;
        assert_eq!(r, Err::<(), _>("boom".to_string()));
    }
}
