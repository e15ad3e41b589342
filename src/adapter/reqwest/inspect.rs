//! Reading a 403 body for the engine's [`forbidden`](crate::engine::forbidden) reading,
//! without taking any of it from the caller.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;

use super::reqwest;
use super::response::rebuild;
use crate::engine::forbidden::{Inspected, MAX_INSPECTED_BODY};

/// Reads a 403 body to learn what it says, and gives the caller the response with every
/// byte the server sent. The read is bounded: it stops at [`MAX_INSPECTED_BODY`] bytes or
/// after `deadline`, and then the bytes read are handed back followed by the rest of the
/// stream, unread; a read error is handed back after the bytes that came before it.
pub(crate) async fn inspect_403(
    response: reqwest::Response,
    deadline: Duration,
) -> (reqwest::Response, Inspected) {
    let mut inspected = Inspected::from_head(response.headers());
    if response
        .content_length()
        .is_some_and(|len| len > MAX_INSPECTED_BODY as u64)
    {
        return (response, inspected);
    }
    let url = response.url().clone();
    let http_response: http::Response<reqwest::Body> = response.into();
    let (parts, mut body) = http_response.into_parts();
    let mut read = BytesMut::new();
    let until = tokio::time::Instant::now() + deadline;
    let ending = loop {
        match tokio::time::timeout_at(until, body.frame()).await {
            Ok(None) => break Ending::Complete,
            Ok(Some(Err(e))) => break Ending::Failed(e),
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    read.extend_from_slice(&data);
                }
                if read.len() > MAX_INSPECTED_BODY {
                    break Ending::Unread;
                }
            }
            Err(_elapsed) => break Ending::Unread,
        }
    };
    let head = read.freeze();
    let body = match ending {
        Ending::Complete => {
            inspected.read_body(&head);
            reqwest::Body::from(head)
        }
        Ending::Unread => reqwest::Body::wrap(Resumed {
            head: Some(head),
            error: None,
            rest: Some(body),
        }),
        Ending::Failed(e) => reqwest::Body::wrap(Resumed {
            head: Some(head),
            error: Some(e),
            rest: None,
        }),
    };
    (rebuild(parts, body, url), inspected)
}

/// How reading a 403 body stopped.
enum Ending {
    /// The whole body was read.
    Complete,
    /// The cap or the deadline came first: the rest is still in the stream.
    Unread,
    /// The stream failed.
    Failed(reqwest::Error),
}

/// A body that was partly read: the bytes read, then the read error or the rest of the
/// stream.
struct Resumed {
    head: Option<Bytes>,
    error: Option<reqwest::Error>,
    rest: Option<reqwest::Body>,
}

impl http_body::Body for Resumed {
    type Data = Bytes;
    type Error = reqwest::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, reqwest::Error>>> {
        let this = self.get_mut();
        if let Some(head) = this.head.take().filter(|h| !h.is_empty()) {
            return Poll::Ready(Some(Ok(http_body::Frame::data(head))));
        }
        if let Some(e) = this.error.take() {
            return Poll::Ready(Some(Err(e)));
        }
        match &mut this.rest {
            Some(rest) => Pin::new(rest).poll_frame(cx),
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.head.as_ref().is_none_or(Bytes::is_empty)
            && self.error.is_none()
            && self.rest.as_ref().is_none_or(|r| r.is_end_stream())
    }

    fn size_hint(&self) -> http_body::SizeHint {
        let head = self.head.as_ref().map_or(0, |h| h.len() as u64);
        let mut hint = self
            .rest
            .as_ref()
            .map(|r| r.size_hint())
            .unwrap_or_else(|| http_body::SizeHint::with_exact(0));
        // Upper first: a lower bound above the upper one panics.
        if let Some(upper) = hint.upper() {
            hint.set_upper(upper + head);
        }
        hint.set_lower(hint.lower() + head);
        hint
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::future::Future;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use http_body::Body as _;

    use super::*;

    const DEADLINE: Duration = Duration::from_secs(1);
    const MESSAGE: &str = "The security token included in the request is expired";

    /// A 403 body: chunks, each after its delay, counting the bytes read from it; when
    /// `announced`, it tells its length as a `Content-Length` does.
    struct Chunks {
        chunks: VecDeque<(Duration, Bytes)>,
        waiting: Option<Pin<Box<tokio::time::Sleep>>>,
        read: Arc<AtomicUsize>,
        announced: bool,
    }

    impl http_body::Body for Chunks {
        type Data = Bytes;
        type Error = Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, Infallible>>> {
            let this = self.get_mut();
            let Some(&(delay, _)) = this.chunks.front() else {
                return Poll::Ready(None);
            };
            let waiting = this
                .waiting
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(delay)));
            if waiting.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.waiting = None;
            let chunk = this.chunks.pop_front().map(|(_, chunk)| chunk);
            this.read
                .fetch_add(chunk.as_ref().map_or(0, Bytes::len), Ordering::Relaxed);
            Poll::Ready(chunk.map(|chunk| Ok(http_body::Frame::data(chunk))))
        }

        fn size_hint(&self) -> http_body::SizeHint {
            if self.announced {
                let left = self.chunks.iter().map(|(_, c)| c.len() as u64).sum();
                http_body::SizeHint::with_exact(left)
            } else {
                http_body::SizeHint::default()
            }
        }
    }

    /// A 403 whose body is `chunks`, and the count of its bytes read.
    fn forbidden(
        chunks: Vec<(Duration, Bytes)>,
        announced: bool,
    ) -> (reqwest::Response, Arc<AtomicUsize>) {
        let read = Arc::new(AtomicUsize::new(0));
        let body = reqwest::Body::wrap(Chunks {
            chunks: chunks.into(),
            waiting: None,
            read: read.clone(),
            announced,
        });
        let response = http::Response::builder()
            .status(403)
            .body(body)
            .expect("a valid response");
        (reqwest::Response::from(response), read)
    }

    /// API Gateway's refused-token answer, padded with JSON whitespace to `len` bytes.
    fn refusal_of_length(len: usize) -> Bytes {
        let mut body = format!(r#"{{"message":"{MESSAGE}"}}"#).into_bytes();
        body.resize(len, b' ');
        Bytes::from(body)
    }

    /// `body` in 4 KiB chunks, all there at once.
    fn in_chunks(body: &Bytes) -> Vec<(Duration, Bytes)> {
        (0..body.len())
            .step_by(4096)
            .map(|at| (Duration::ZERO, body.slice(at..body.len().min(at + 4096))))
            .collect()
    }

    #[tokio::test]
    async fn a_body_of_exactly_the_cap_is_read_whether_its_length_is_told_or_not() {
        let body = refusal_of_length(MAX_INSPECTED_BODY);
        for announced in [true, false] {
            let (response, _) = forbidden(in_chunks(&body), announced);
            let (response, inspected) = inspect_403(response, DEADLINE).await;
            assert_eq!(
                inspected.message.as_deref(),
                Some(MESSAGE),
                "announced: {announced}"
            );
            assert_eq!(response.bytes().await.unwrap(), body);
        }
    }

    #[tokio::test]
    async fn a_body_over_the_cap_is_not_parsed_and_reaches_the_caller_whole() {
        let body = refusal_of_length(MAX_INSPECTED_BODY + 1);
        for announced in [true, false] {
            let (response, read) = forbidden(in_chunks(&body), announced);
            let (response, inspected) = inspect_403(response, DEADLINE).await;
            assert_eq!(inspected.message, None, "announced: {announced}");
            if announced {
                // Its length said it was too long: not a byte of it was waited for.
                assert_eq!(read.load(Ordering::Relaxed), 0);
            }
            assert_eq!(response.bytes().await.unwrap(), body);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_body_that_arrives_within_the_deadline_is_read() {
        let body = refusal_of_length(200);
        let parts = vec![
            (Duration::ZERO, body.slice(..100)),
            (DEADLINE / 2, body.slice(100..)),
        ];
        let (response, _) = forbidden(parts, false);
        let (response, inspected) = inspect_403(response, DEADLINE).await;
        assert_eq!(inspected.message.as_deref(), Some(MESSAGE));
        assert_eq!(response.bytes().await.unwrap(), body);
    }

    /// A stream that fails at once.
    struct Failing;

    impl http_body::Body for Failing {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
        }
    }

    /// The error a failed stream hands the caller.
    async fn a_stream_error() -> reqwest::Error {
        match reqwest::Body::wrap(Failing).frame().await {
            Some(Err(e)) => e,
            _ => unreachable!("the stream fails at once"),
        }
    }

    #[tokio::test]
    async fn a_partly_read_body_tells_its_length_and_end_as_it_is_read() {
        let mut body = Resumed {
            head: Some(Bytes::from_static(b"abc")),
            error: None,
            rest: Some(reqwest::Body::from("defg")),
        };
        assert_eq!(body.size_hint().exact(), Some(7));
        assert!(!body.is_end_stream());
        let head = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&head[..], b"abc");
        assert_eq!(body.size_hint().exact(), Some(4));
        assert!(!body.is_end_stream());
        let rest = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert_eq!(&rest[..], b"defg");
        assert_eq!(body.size_hint().exact(), Some(0));
        assert!(body.is_end_stream());
        assert!(body.frame().await.is_none());
    }

    #[tokio::test]
    async fn a_head_or_an_error_still_to_come_is_not_the_end() {
        // The stream had nothing more, but the bytes read from it are still to come.
        let body = Resumed {
            head: Some(Bytes::from_static(b"abc")),
            error: None,
            rest: Some(reqwest::Body::from("")),
        };
        assert!(!body.is_end_stream());
        // The stream failed: its error is still to come.
        let body = Resumed {
            head: None,
            error: Some(a_stream_error().await),
            rest: None,
        };
        assert!(!body.is_end_stream());
    }
}
