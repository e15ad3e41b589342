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
