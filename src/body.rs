//! Body buffering: hashing a request body for the signature and keeping it replayable.
//!
//! API Gateway refuses `UNSIGNED-PAYLOAD`, so every body must be hashed before the request
//! leaves. In-memory bodies are hashed where they lie. Streaming bodies are read up to a
//! limit, hashed as they arrive, and sent on from what was kept: large chunks as they came
//! (never copied into one buffer, so a 64 MiB upload costs 64 MiB, not 128), small ones
//! copied into shared segments, since each chunk kept on its own costs its allocation and
//! bookkeeping on top of its bytes (8 MiB in 16-byte chunks would take 48 MiB).

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};
use http_body_util::BodyExt;
use sha2::{Digest, Sha256};

use crate::canonical::{hex_sha256, EMPTY_PAYLOAD_SHA256, UNSIGNED_PAYLOAD};
use crate::error::Error;

/// Default limit for buffering a streaming body: 32 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Chunks at least this large are kept as they arrived (zero-copy); smaller ones are copied
/// into segments. At this size a chunk's own overhead (allocator header, `Bytes` handle,
/// shared-count block) is under 1% of its bytes, and copying it would cost more than it
/// saves.
const KEEP_CHUNKS_FROM: usize = 16 * 1024;

/// Size of the segments small chunks are copied into: few enough per body that their
/// handles do not matter, small enough that the last, partly filled one wastes little.
const SEGMENT: usize = 64 * 1024;

/// A request body that has been hashed and can be sent again (retries, redirects).
#[derive(Clone, Debug)]
pub(crate) struct PreparedBody {
    pub(crate) sha256_hex: Arc<str>,
    pub(crate) len: u64,
    replay: Replay,
}

#[derive(Clone, Debug)]
enum Replay {
    /// The request's own body is reusable (`reqwest::Request::try_clone` works).
    Reusable,
    /// A streamed body, kept as the chunks it arrived in.
    Chunks(Arc<[Bytes]>),
}

impl PreparedBody {
    /// Hashes the body of `request`; a streaming body is read (up to `limit` bytes) and
    /// put back as a body of the same bytes.
    pub(crate) async fn prepare(
        request: &mut reqwest::Request,
        limit: usize,
    ) -> Result<Self, Error> {
        let Some(body) = request.body() else {
            return Ok(Self::empty());
        };
        if let Some(bytes) = body.as_bytes() {
            return Ok(Self::of_bytes(bytes));
        }
        let Some(body) = request.body_mut().take() else {
            return Ok(Self::empty());
        };
        // Boxed: only streaming bodies need it, and it would otherwise grow every request's
        // future.
        let (prepared, replay) = Box::pin(Self::collect(body, limit)).await?;
        *request.body_mut() = Some(replay);
        Ok(prepared)
    }

    /// An in-memory body's hash.
    pub(crate) fn of_bytes(bytes: &[u8]) -> Self {
        Self {
            sha256_hex: hex_sha256(bytes).into(),
            len: bytes.len() as u64,
            replay: Replay::Reusable,
        }
    }

    /// A body that is not hashed (`UNSIGNED-PAYLOAD`): streamed as it is, never buffered.
    pub(crate) fn unsigned() -> Self {
        Self {
            sha256_hex: UNSIGNED_PAYLOAD.into(),
            len: 0,
            replay: Replay::Reusable,
        }
    }

    pub(crate) fn is_unsigned(&self) -> bool {
        &*self.sha256_hex == UNSIGNED_PAYLOAD
    }

    pub(crate) fn empty() -> Self {
        // Most requests have no body: share one hash instead of allocating it each time.
        static EMPTY: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
        Self {
            sha256_hex: EMPTY.get_or_init(|| EMPTY_PAYLOAD_SHA256.into()).clone(),
            len: 0,
            replay: Replay::Reusable,
        }
    }

    /// The streamed body's hash, and a body of the same bytes to send in its place.
    async fn collect(
        mut body: reqwest::Body,
        limit: usize,
    ) -> Result<(Self, reqwest::Body), Error> {
        let too_large = || Error::BodyTooLarge { limit };
        // A stream that says up front it is too large is refused before any of it is read.
        if body.size_hint().lower() > limit as u64 {
            return Err(too_large());
        }
        let mut hasher = Sha256::new();
        let mut kept = Coalescer::default();
        let mut len: u64 = 0;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| Error::BodyRead(Box::new(e)))?;
            let Ok(data) = frame.into_data() else {
                // Trailers are not part of the payload hash; nothing else can follow.
                continue;
            };
            len += data.len() as u64;
            if len > limit as u64 {
                return Err(too_large());
            }
            hasher.update(&data);
            kept.push(data);
        }
        let chunks: Arc<[Bytes]> = kept.finish().into();
        let replay = chunks_body(&chunks, len);
        let prepared = Self {
            sha256_hex: hex::encode(hasher.finalize()).into(),
            len,
            replay: Replay::Chunks(chunks),
        };
        Ok((prepared, replay))
    }

    /// A copy of `request` that can be sent again, body included.
    pub(crate) fn clone_request(&self, request: &mut reqwest::Request) -> Option<reqwest::Request> {
        match &self.replay {
            Replay::Reusable => request.try_clone(),
            Replay::Chunks(chunks) => {
                // reqwest clones everything but a streaming body; lend it the body-less
                // request and give the copy its own stream over the same chunks.
                let body = request.body_mut().take();
                let copy = request.try_clone();
                *request.body_mut() = body;
                let mut copy = copy?;
                *copy.body_mut() = Some(chunks_body(chunks, self.len));
                Some(copy)
            }
        }
    }
}

/// A fresh body over a streamed body's kept chunks (`len` bytes in all). Only streamed
/// bodies need one: an in-memory body is cloned by reqwest itself.
fn chunks_body(chunks: &Arc<[Bytes]>, len: u64) -> reqwest::Body {
    if let [only] = &chunks[..] {
        return reqwest::Body::from(only.clone());
    }
    reqwest::Body::wrap(ChunkedBody {
        chunks: chunks.clone(),
        next: 0,
        remaining: len,
    })
}

/// Keeps a streamed body in memory at about its own size, whatever its chunk sizes: large
/// chunks are kept as they came, runs of small ones are copied into [`SEGMENT`]-sized
/// buffers.
#[derive(Default)]
struct Coalescer {
    chunks: Vec<Bytes>,
    /// The segment being filled; its capacity is reserved once, never grown.
    open: BytesMut,
}

impl Coalescer {
    fn push(&mut self, data: Bytes) {
        if data.len() >= KEEP_CHUNKS_FROM {
            self.close_segment();
            self.chunks.push(data);
            return;
        }
        let mut rest = &data[..];
        while !rest.is_empty() {
            if self.open.capacity() == self.open.len() {
                self.close_segment();
                self.open = BytesMut::with_capacity(SEGMENT);
            }
            let room = self.open.capacity() - self.open.len();
            let (now, later) = rest.split_at(room.min(rest.len()));
            self.open.extend_from_slice(now);
            rest = later;
        }
    }

    /// Moves the open segment to the chunks: as it is when full, else copied to its length
    /// (a freed segment's unused capacity would stay allocated as long as the body).
    fn close_segment(&mut self) {
        if self.open.is_empty() {
            return;
        }
        let segment = if self.open.len() == self.open.capacity() {
            std::mem::take(&mut self.open).freeze()
        } else {
            let copy = Bytes::copy_from_slice(&self.open);
            self.open.clear();
            copy
        };
        self.chunks.push(segment);
    }

    fn finish(mut self) -> Vec<Bytes> {
        self.close_segment();
        self.chunks
    }
}

/// Sends buffered chunks as they are, with an exact length so `Content-Length` is set.
struct ChunkedBody {
    chunks: Arc<[Bytes]>,
    next: usize,
    remaining: u64,
}

impl HttpBody for ChunkedBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = &mut *self;
        match this.chunks.get(this.next) {
            Some(chunk) => {
                this.next += 1;
                this.remaining = this.remaining.saturating_sub(chunk.len() as u64);
                Poll::Ready(Some(Ok(Frame::data(chunk.clone()))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.next >= self.chunks.len()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let p = PreparedBody::prepare(&mut r, 1).await.unwrap();
        assert_eq!(&*p.sha256_hex, hex_sha256(b"hello"));
        assert_eq!(r.body().and_then(|b| b.as_bytes()), Some(&b"hello"[..]));
        assert!(p.clone_request(&mut r).is_some());
    }

    #[tokio::test]
    async fn no_body_hashes_as_empty() {
        let mut r = request(None);
        let p = PreparedBody::prepare(&mut r, 0).await.unwrap();
        assert_eq!(&*p.sha256_hex, EMPTY_PAYLOAD_SHA256);
        assert_eq!(hex::encode(Sha256::digest(b"")), EMPTY_PAYLOAD_SHA256);
    }

    #[tokio::test]
    async fn stream_is_collected_hashed_and_replayable() {
        let mut r = request(Some(stream_body(&[b"hel", b"", b"lo ", b"world"])));
        let p = PreparedBody::prepare(&mut r, 11).await.unwrap();
        assert_eq!(&*p.sha256_hex, hex_sha256(b"hello world"));
        assert_eq!(p.len, 11);
        let copy = p.clone_request(&mut r).unwrap();
        assert_eq!(&body_bytes(copy).await[..], b"hello world");
        assert_eq!(&body_bytes(r).await[..], b"hello world");
    }

    #[tokio::test]
    async fn stream_over_limit_is_refused() {
        let mut r = request(Some(stream_body(&[b"0123456789", b"x"])));
        let err = PreparedBody::prepare(&mut r, 10).await.unwrap_err();
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
        let err = PreparedBody::prepare(&mut r, 100).await.unwrap_err();
        assert!(matches!(err, Error::BodyRead(_)), "{err:?}");
    }

    fn kept_chunks(p: &PreparedBody) -> Arc<[Bytes]> {
        match &p.replay {
            Replay::Chunks(chunks) => chunks.clone(),
            Replay::Reusable => panic!("a streamed body is kept as chunks"),
        }
    }

    #[tokio::test]
    async fn tiny_chunks_are_coalesced_into_segments() {
        // 1 MiB in 16-byte chunks: one handle and allocation per 64 KiB, not per 16 bytes.
        let parts: Vec<Result<Bytes, std::io::Error>> = (0..65_536u32)
            .map(|i| Ok(Bytes::from(vec![(i % 251) as u8; 16])))
            .collect();
        let expected: Vec<u8> = (0..65_536u32).flat_map(|i| [(i % 251) as u8; 16]).collect();
        let mut r = request(Some(reqwest::Body::wrap_stream(futures::stream::iter(
            parts,
        ))));
        let p = PreparedBody::prepare(&mut r, 1 << 20).await.unwrap();
        let chunks = kept_chunks(&p);
        assert_eq!(chunks.len(), (1 << 20) / SEGMENT);
        assert!(chunks.iter().all(|c| c.len() == SEGMENT));
        assert_eq!(&*p.sha256_hex, hex_sha256(&expected));
        assert_eq!(&body_bytes(r).await[..], &expected[..]);
    }

    #[tokio::test]
    async fn large_chunks_are_kept_uncopied_and_small_ones_between_them_exactly() {
        let large = Bytes::from(vec![7u8; KEEP_CHUNKS_FROM]);
        let parts: Vec<Result<Bytes, std::io::Error>> = vec![
            Ok(Bytes::from_static(b"ab")),
            Ok(large.clone()),
            Ok(Bytes::from_static(b"c")),
            Ok(Bytes::from_static(b"d")),
        ];
        let mut r = request(Some(reqwest::Body::wrap_stream(futures::stream::iter(
            parts,
        ))));
        let p = PreparedBody::prepare(&mut r, 1 << 20).await.unwrap();
        let chunks = kept_chunks(&p);
        assert_eq!(chunks.len(), 3);
        assert_eq!(&chunks[0][..], b"ab");
        // The very bytes the stream handed over: no copy.
        assert_eq!(chunks[1].as_ptr(), large.as_ptr());
        assert_eq!(&chunks[2][..], b"cd");
        assert_eq!(p.len, KEEP_CHUNKS_FROM as u64 + 4);
    }

    #[tokio::test]
    async fn chunked_body_streams_every_chunk_with_exact_size() {
        let chunks: Arc<[Bytes]> = vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")].into();
        let body = ChunkedBody {
            chunks,
            next: 0,
            remaining: 3,
        };
        assert_eq!(body.size_hint().exact(), Some(3));
        let collected = body.collect().await.unwrap().to_bytes();
        assert_eq!(&collected[..], b"abc");
    }
}
