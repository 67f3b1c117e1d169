//! Catching a panic in a request handler, so that it answers 500 and leaves the connection and
//! the server serving: in place ([`CatchUnwind`]) or on a task of its own ([`in_task`]); see
//! [`Isolation`](super::Isolation) for which front end uses which, and why.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `fut` as a task of its own: its output, or the message of its panic.
pub(crate) async fn in_task<F>(fut: F) -> Result<F::Output, String>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(fut)
        .await
        .map_err(|e| match e.try_into_panic() {
            Ok(panic) => panic_message(panic.as_ref()),
            Err(e) => e.to_string(),
        })
}

/// The text of a panic's payload (a `&str` or a `String`), or "a panic".
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string())
}

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
            Err(panic) => Poll::Ready(Err(panic_message(panic.as_ref()))),
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

    #[tokio::test]
    async fn a_panic_in_a_task_becomes_an_error_and_a_value_passes() {
        assert_eq!(in_task(async { 7 }).await, Ok(7));
        let r = in_task(async {
            tokio::task::yield_now().await;
            panic!("bang {}", 1);
        })
        .await;
        assert_eq!(r, Err::<(), _>("bang 1".to_string()));
    }
}
