//! Request bodies: hashing a reqwest body for the engine, reading a stream when it must,
//! and giving a retry or a redirect a body of the same bytes.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use http_body::Body as _;
use http_body_util::BodyExt;

use super::reqwest;
use crate::engine::body::{BodyHasher, PreparedBody};
use crate::engine::replay::Kept;
use crate::error::Error;

/// Hashes the body of `request` and keeps its bytes: an in-memory body's are shared, a
/// streaming body is read (up to `limit` bytes) and put back as a body of the same bytes.
pub(crate) async fn prepare(
    request: &mut reqwest::Request,
    limit: usize,
) -> Result<PreparedBody, Error> {
    match prepare_in_memory(request) {
        Some(prepared) => Ok(prepared),
        // Boxed: only streaming bodies need it, and it would otherwise grow every
        // request's future.
        None => Box::pin(prepare_stream(request, limit)).await,
    }
}

/// [`prepare`] for a request without a body or with one in memory (at once); `None` for a
/// streaming body.
fn prepare_in_memory(request: &mut reqwest::Request) -> Option<PreparedBody> {
    let Some(body) = request.body_mut().take() else {
        return Some(PreparedBody::empty());
    };
    if body.as_bytes().is_none() {
        *request.body_mut() = Some(body);
        return None;
    }
    let bytes = in_memory_bytes(body);
    *request.body_mut() = Some(reqwest::Body::from(bytes.clone()));
    Some(PreparedBody::of_bytes(bytes))
}

/// The body of `request` on a route that does not hash it: an in-memory body's bytes are
/// kept (shared) so that a retry or a redirect can send them again; a stream is left to go
/// out once, as it is, and is not kept.
pub(crate) fn keep_unhashed(request: &mut reqwest::Request) -> PreparedBody {
    match request.body_mut().take() {
        Some(body) if body.as_bytes().is_some() => {
            let bytes = in_memory_bytes(body);
            *request.body_mut() = Some(reqwest::Body::from(bytes.clone()));
            PreparedBody::unsigned_of(bytes)
        }
        body => {
            *request.body_mut() = body;
            PreparedBody::unsigned()
        }
    }
}

/// [`prepare`] for a streaming body: read, hashed and put back.
async fn prepare_stream(
    request: &mut reqwest::Request,
    limit: usize,
) -> Result<PreparedBody, Error> {
    let Some(body) = request.body_mut().take() else {
        return Ok(PreparedBody::empty());
    };
    let prepared = collect(body, limit).await?;
    *request.body_mut() = replay(&prepared);
    Ok(prepared)
}

/// The bytes of an in-memory body, moved out of it: its one frame is ready at once.
fn in_memory_bytes(mut body: reqwest::Body) -> Bytes {
    let mut cx = Context::from_waker(Waker::noop());
    match Pin::new(&mut body).poll_frame(&mut cx) {
        Poll::Ready(Some(Ok(frame))) => frame.into_data().unwrap_or_default(),
        _ => Bytes::new(),
    }
}

async fn collect(mut body: reqwest::Body, limit: usize) -> Result<PreparedBody, Error> {
    // A stream that says up front it is too large is refused before any of it is read.
    let mut hasher = BodyHasher::new(limit, &body.size_hint())?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| Error::BodyRead(Box::new(e)))?;
        // Trailers are not part of the payload hash; nothing else can follow.
        if let Ok(data) = frame.into_data() {
            hasher.push(data)?;
        }
    }
    Ok(hasher.finish())
}

/// A fresh body of the bytes `prepared` kept; `None` when there is no body.
fn replay(prepared: &PreparedBody) -> Option<reqwest::Body> {
    if let Some(bytes) = prepared.bytes() {
        return Some(reqwest::Body::from(bytes));
    }
    let chunks = prepared.replay()?;
    Some(match chunks.single() {
        Some(chunk) => reqwest::Body::from(chunk),
        None => reqwest::Body::wrap(chunks),
    })
}

/// What is kept of `request` to send it again.
pub(crate) fn keep(request: &reqwest::Request) -> Kept {
    Kept::new(
        request.method(),
        request.url(),
        request.headers(),
        request.version(),
        request.timeout().copied(),
    )
}

/// The request `kept` and `body` describe, to send again.
pub(crate) fn rebuild(kept: &Kept, body: &PreparedBody) -> reqwest::Request {
    let mut request = reqwest::Request::new(kept.method().clone(), kept.url());
    *request.headers_mut() = kept.header_map();
    *request.version_mut() = kept.version();
    *request.timeout_mut() = kept.timeout();
    *request.body_mut() = replay(body);
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::{hex_sha256, EMPTY_PAYLOAD_SHA256};
    use bytes::Bytes;

    fn stream_body(parts: &[&'static [u8]]) -> reqwest::Body {
        let parts: Vec<Result<Bytes, std::io::Error>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        reqwest::Body::wrap_stream(futures::stream::iter(parts))
    }

    async fn body_bytes(mut r: reqwest::Request) -> Bytes {
        let body = r.body_mut().take().expect("a body");
        body.collect().await.expect("readable body").to_bytes()
    }

    fn request(body: Option<reqwest::Body>) -> reqwest::Request {
        let mut r = reqwest::Request::new(
            reqwest::Method::POST,
            "http://example.com/".parse().unwrap(),
        );
        *r.body_mut() = body;
        r
    }

    #[tokio::test]
    async fn in_memory_body_is_hashed_in_place() {
        let mut r = request(Some("hello".into()));
        let p = prepare(&mut r, 1).await.unwrap();
        assert_eq!(&*p.sha256_hex, hex_sha256(b"hello"));
        assert_eq!(r.body().and_then(|b| b.as_bytes()), Some(&b"hello"[..]));
        let again = rebuild(&keep(&r), &p);
        assert_eq!(again.body().and_then(|b| b.as_bytes()), Some(&b"hello"[..]));
    }

    #[tokio::test]
    async fn a_rebuilt_request_is_the_request_as_it_was() {
        let mut r = request(Some("payload".into()));
        *r.url_mut() = "https://h.example.com:8443/a%20b?x=1&y=%2F"
            .parse()
            .unwrap();
        *r.method_mut() = reqwest::Method::PUT;
        r.headers_mut().append("x-multi", "one".parse().unwrap());
        r.headers_mut().append("x-multi", "two".parse().unwrap());
        let mut secret: http::HeaderValue = "s3cr3t".parse().unwrap();
        secret.set_sensitive(true);
        r.headers_mut().insert("x-secret", secret);
        *r.timeout_mut() = Some(std::time::Duration::from_secs(7));
        *r.version_mut() = http::Version::HTTP_2;
        let p = prepare(&mut r, 100).await.unwrap();
        let again = rebuild(&keep(&r), &p);
        assert_eq!(again.method(), r.method());
        assert_eq!(again.url(), r.url());
        assert_eq!(again.headers(), r.headers());
        assert!(again.headers()["x-secret"].is_sensitive());
        assert_eq!(again.timeout(), r.timeout());
        assert_eq!(again.version(), r.version());
        assert_eq!(
            again.body().and_then(|b| b.as_bytes()),
            Some(&b"payload"[..])
        );
    }

    #[tokio::test]
    async fn no_body_hashes_as_empty() {
        let mut r = request(None);
        let p = prepare(&mut r, 0).await.unwrap();
        assert_eq!(&*p.sha256_hex, EMPTY_PAYLOAD_SHA256);
    }

    #[tokio::test]
    async fn stream_is_collected_hashed_and_replayable() {
        let mut r = request(Some(stream_body(&[b"hel", b"", b"lo ", b"world"])));
        let p = prepare(&mut r, 11).await.unwrap();
        assert_eq!(&*p.sha256_hex, hex_sha256(b"hello world"));
        assert_eq!(p.len, 11);
        let copy = rebuild(&keep(&r), &p);
        assert_eq!(&body_bytes(copy).await[..], b"hello world");
        assert_eq!(&body_bytes(r).await[..], b"hello world");
    }

    #[tokio::test]
    async fn stream_over_limit_is_refused() {
        let mut r = request(Some(stream_body(&[b"0123456789", b"x"])));
        let err = prepare(&mut r, 10).await.unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 10 }));
    }

    #[tokio::test]
    async fn stream_error_is_a_typed_error() {
        let parts: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"a")),
            Err(std::io::Error::other("disk gone")),
        ];
        let mut r = request(Some(reqwest::Body::wrap_stream(futures::stream::iter(
            parts,
        ))));
        let err = prepare(&mut r, 100).await.unwrap_err();
        assert!(matches!(err, Error::BodyRead(_)), "{err:?}");
    }
}
