//! Body hashing: the payload hash a request is signed with, and the bytes of a streamed
//! body kept so that it can be sent (and sent again) after it was read.
//!
//! Sans-IO: the adapter reads the stream and hands each chunk to a [`BodyHasher`]. API Gateway refuses `UNSIGNED-PAYLOAD`, so every body must be hashed before the request
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
use sha2::{Digest, Sha256};

use crate::canonical::{EMPTY_PAYLOAD_SHA256, UNSIGNED_PAYLOAD};
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

/// A payload hash as it is signed: 64 hex digits, or `UNSIGNED-PAYLOAD`.
///
/// The two that whole classes of requests sign (no body, a route that does not hash) are
/// static strings: a clone of them touches no reference count, which every thread sending
/// such requests would otherwise write to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PayloadHash {
    Static(&'static str),
    Computed(Arc<str>),
}

impl std::ops::Deref for PayloadHash {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            PayloadHash::Static(hash) => hash,
            PayloadHash::Computed(hash) => hash,
        }
    }
}

impl From<&str> for PayloadHash {
    fn from(hash: &str) -> Self {
        PayloadHash::Computed(Arc::from(hash))
    }
}

/// A request body that has been hashed and can be sent again (retries, redirects).
#[derive(Clone, Debug)]
pub(crate) struct PreparedBody {
    pub(crate) sha256_hex: PayloadHash,
    pub(crate) len: u64,
    /// The bytes, to send the body again.
    kept: KeptBody,
}

#[derive(Clone, Debug)]
enum KeptBody {
    /// No body, or one that is not kept (unsigned, or presigned: never sent again).
    None,
    /// An in-memory body: the bytes themselves (shared, not copied).
    Bytes(Bytes),
    /// A streamed body, as the chunks it arrived in.
    Chunks(Arc<[Bytes]>),
}

impl PreparedBody {
    /// An in-memory body's hash.
    pub(crate) fn of_bytes(bytes: Bytes) -> Self {
        Self {
            sha256_hex: hex_digest(Sha256::digest(&bytes)),
            len: bytes.len() as u64,
            kept: KeptBody::Bytes(bytes),
        }
    }

    /// The hash of `bytes`, which are not kept (a presigned URL is not sent from here).
    pub(crate) fn hash_of(bytes: &[u8]) -> Self {
        Self {
            sha256_hex: hex_digest(Sha256::digest(bytes)),
            len: bytes.len() as u64,
            kept: KeptBody::None,
        }
    }

    /// A body that is not hashed (`UNSIGNED-PAYLOAD`): streamed as it is, never buffered.
    pub(crate) fn unsigned() -> Self {
        Self {
            sha256_hex: PayloadHash::Static(UNSIGNED_PAYLOAD),
            len: 0,
            kept: KeptBody::None,
        }
    }

    /// [`unsigned`](Self::unsigned), with the bytes of an in-memory body kept (shared, not
    /// copied) so that a retry or a redirect can send them again.
    pub(crate) fn unsigned_of(bytes: Bytes) -> Self {
        Self {
            sha256_hex: PayloadHash::Static(UNSIGNED_PAYLOAD),
            len: bytes.len() as u64,
            kept: KeptBody::Bytes(bytes),
        }
    }

    /// Whether its bytes are kept, to send them again: false for no body and for an
    /// unsigned stream, which goes out once, as it is.
    pub(crate) fn is_kept(&self) -> bool {
        !matches!(self.kept, KeptBody::None)
    }

    pub(crate) fn is_unsigned(&self) -> bool {
        &*self.sha256_hex == UNSIGNED_PAYLOAD
    }

    pub(crate) fn empty() -> Self {
        Self {
            sha256_hex: PayloadHash::Static(EMPTY_PAYLOAD_SHA256),
            len: 0,
            kept: KeptBody::None,
        }
    }

    /// A fresh body over the kept chunks of a streamed body; `None` when the request's
    /// own body is reusable.
    pub(crate) fn replay(&self) -> Option<ChunkedBody> {
        let KeptBody::Chunks(chunks) = &self.kept else {
            return None;
        };
        Some(ChunkedBody {
            chunks: chunks.clone(),
            next: 0,
            remaining: self.len,
        })
    }

    /// An in-memory body's bytes, to send it again.
    pub(crate) fn bytes(&self) -> Option<Bytes> {
        match &self.kept {
            KeptBody::Bytes(bytes) => Some(bytes.clone()),
            _ => None,
        }
    }
}

/// A SHA-256 digest in lower-case hex, written straight into its shared string (one
/// allocation: the hash is shared by the signature and the summary).
fn hex_digest(digest: impl AsRef<[u8]>) -> PayloadHash {
    let mut hex = [0u8; 64];
    // 32 bytes make 64 hex digits, which are ASCII.
    hex::encode_to_slice(digest.as_ref(), &mut hex).expect("a SHA-256 digest is 32 bytes");
    PayloadHash::Computed(Arc::from(
        std::str::from_utf8(&hex).expect("hex digits are ASCII"),
    ))
}

/// Hashes a streamed body chunk by chunk, up to a limit, keeping its bytes.
pub(crate) struct BodyHasher {
    limit: usize,
    hasher: Sha256,
    kept: Coalescer,
    len: u64,
}

impl BodyHasher {
    /// Refuses at once a stream whose size hint already says it is over `limit`.
    pub(crate) fn new(limit: usize, size_hint: &SizeHint) -> Result<Self, Error> {
        if size_hint.lower() > limit as u64 {
            return Err(Error::BodyTooLarge { limit });
        }
        Ok(Self {
            limit,
            hasher: Sha256::new(),
            kept: Coalescer::default(),
            len: 0,
        })
    }

    /// One chunk of data (trailers are not part of the payload hash).
    pub(crate) fn push(&mut self, data: Bytes) -> Result<(), Error> {
        self.len += data.len() as u64;
        if self.len > self.limit as u64 {
            return Err(Error::BodyTooLarge { limit: self.limit });
        }
        self.hasher.update(&data);
        self.kept.push(data);
        Ok(())
    }

    pub(crate) fn finish(self) -> PreparedBody {
        PreparedBody {
            sha256_hex: hex_digest(self.hasher.finalize()),
            len: self.len,
            kept: KeptBody::Chunks(self.kept.finish().into()),
        }
    }
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
pub(crate) struct ChunkedBody {
    chunks: Arc<[Bytes]>,
    next: usize,
    remaining: u64,
}

impl ChunkedBody {
    /// The body's one chunk, when it has only one (sent as it is, with no wrapper).
    pub(crate) fn single(&self) -> Option<Bytes> {
        match &*self.chunks {
            [only] => Some(only.clone()),
            _ => None,
        }
    }
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
    // The verifier's hash, written apart from this module's: a check, not a copy.
    use crate::canonical::hex_sha256;
    use http_body_util::BodyExt;

    fn hash_chunks(
        limit: usize,
        parts: impl IntoIterator<Item = Bytes>,
    ) -> Result<PreparedBody, Error> {
        let mut hasher = BodyHasher::new(limit, &SizeHint::default())?;
        for part in parts {
            hasher.push(part)?;
        }
        Ok(hasher.finish())
    }

    async fn replayed(p: &PreparedBody) -> Bytes {
        p.replay()
            .expect("kept chunks")
            .collect()
            .await
            .unwrap()
            .to_bytes()
    }

    #[test]
    fn no_body_hashes_as_empty() {
        assert_eq!(&*PreparedBody::empty().sha256_hex, EMPTY_PAYLOAD_SHA256);
        assert_eq!(hex::encode(Sha256::digest(b"")), EMPTY_PAYLOAD_SHA256);
        assert!(PreparedBody::of_bytes(Bytes::from_static(b"hello"))
            .replay()
            .is_none());
        assert_eq!(
            &*PreparedBody::hash_of(b"hello").sha256_hex,
            hex_sha256(b"hello")
        );
    }

    #[tokio::test]
    async fn stream_is_hashed_and_replayable() {
        let parts = [&b"hel"[..], b"", b"lo ", b"world"].map(Bytes::from_static);
        let p = hash_chunks(11, parts).unwrap();
        assert_eq!(&*p.sha256_hex, hex_sha256(b"hello world"));
        assert_eq!(p.len, 11);
        assert_eq!(&replayed(&p).await[..], b"hello world");
        assert_eq!(&replayed(&p).await[..], b"hello world");
    }

    #[test]
    fn stream_over_limit_is_refused() {
        let parts = [&b"0123456789"[..], b"x"].map(Bytes::from_static);
        let err = hash_chunks(10, parts).unwrap_err();
        assert!(matches!(err, Error::BodyTooLarge { limit: 10 }));
        let hint = SizeHint::with_exact(11);
        assert!(matches!(
            BodyHasher::new(10, &hint),
            Err(Error::BodyTooLarge { limit: 10 })
        ));
    }

    fn kept_chunks(p: &PreparedBody) -> Arc<[Bytes]> {
        match &p.kept {
            KeptBody::Chunks(chunks) => chunks.clone(),
            other => panic!("a streamed body is kept as chunks, not {other:?}"),
        }
    }

    #[tokio::test]
    async fn tiny_chunks_are_coalesced_into_segments() {
        // 1 MiB in 16-byte chunks: one handle and allocation per 64 KiB, not per 16 bytes.
        let parts = (0..65_536u32).map(|i| Bytes::from(vec![(i % 251) as u8; 16]));
        let expected: Vec<u8> = (0..65_536u32).flat_map(|i| [(i % 251) as u8; 16]).collect();
        let p = hash_chunks(1 << 20, parts).unwrap();
        let chunks = kept_chunks(&p);
        assert_eq!(chunks.len(), (1 << 20) / SEGMENT);
        assert!(chunks.iter().all(|c| c.len() == SEGMENT));
        assert_eq!(&*p.sha256_hex, hex_sha256(&expected));
        assert_eq!(&replayed(&p).await[..], &expected[..]);
    }

    #[test]
    fn large_chunks_are_kept_uncopied_and_small_ones_between_them_exactly() {
        let large = Bytes::from(vec![7u8; KEEP_CHUNKS_FROM]);
        let parts = [
            Bytes::from_static(b"ab"),
            large.clone(),
            Bytes::from_static(b"c"),
            Bytes::from_static(b"d"),
        ];
        let p = hash_chunks(1 << 20, parts).unwrap();
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
