//! Reading a request body within a size and a time bound.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::header::CONTENT_LENGTH;
use hyper::HeaderMap;

/// Why a body was not read. Each front end words its own answer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// Larger than the bound: declared so by `Content-Length` (refused before reading), or
    /// found so while reading.
    TooLarge,
    /// Not all there within the time bound.
    TimedOut,
    /// The connection broke, a chunk was malformed: the reader's error.
    Unreadable(String),
}

/// Reads a body of at most `max` bytes, within `timeout` if one is given. A body whose
/// `Content-Length` is over `max` is refused before any of it is read.
pub(crate) async fn read_body<B>(
    headers: &HeaderMap,
    body: B,
    max: usize,
    timeout: Option<Duration>,
) -> Result<Bytes, BodyError>
where
    B: hyper::body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(BodyError::TooLarge);
    }
    let read = Limited::new(body, max).collect();
    let read = match timeout {
        Some(t) => tokio::time::timeout(t, read)
            .await
            .map_err(|_| BodyError::TimedOut)?,
        None => read.await,
    };
    match read {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(BodyError::TooLarge),
        Err(e) => Err(BodyError::Unreadable(e.to_string())),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use super::*;
    use http_body_util::Full;
    use hyper::body::Frame;
    use hyper::header::HeaderValue;

    fn length(n: usize) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_LENGTH, HeaderValue::from(n));
        h
    }

    /// A body that never sends a frame.
    struct Pending;

    impl hyper::body::Body for Pending {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Pending
        }
    }

    /// A body whose first frame is an error.
    struct Broken;

    impl hyper::body::Body for Broken {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
        }
    }

    #[tokio::test]
    async fn reads_a_body_up_to_the_bound() {
        let body = Full::new(Bytes::from_static(b"0123456789"));
        let got = read_body(&HeaderMap::new(), body, 10, None).await;
        assert_eq!(got.unwrap(), Bytes::from_static(b"0123456789"));
    }

    #[tokio::test]
    async fn refuses_a_body_over_the_bound_declared_or_not() {
        let body = Full::new(Bytes::from_static(b"01234567890"));
        assert_eq!(
            read_body(&HeaderMap::new(), body, 10, None).await,
            Err(BodyError::TooLarge)
        );
        // Declared too large: refused before a byte is read (this body never ends).
        assert_eq!(
            read_body(&length(11), Pending, 10, None).await,
            Err(BodyError::TooLarge)
        );
    }

    #[tokio::test]
    async fn a_body_that_does_not_arrive_in_time_is_timed_out() {
        let got = read_body(
            &HeaderMap::new(),
            Pending,
            10,
            Some(Duration::from_millis(20)),
        )
        .await;
        assert_eq!(got, Err(BodyError::TimedOut));
    }

    #[tokio::test]
    async fn a_broken_body_is_unreadable() {
        let got = read_body(&HeaderMap::new(), Broken, 10, None).await;
        assert_eq!(got, Err(BodyError::Unreadable("connection reset".into())));
    }
}
