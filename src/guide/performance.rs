//! Performance: what signing costs per request, what it holds in memory, and how to keep
//! both low.
//!
//! # What it costs
//!
//! Most of the cost of signing is `aws-sigv4`'s own work (the canonical request, the
//! signing key, the HMACs); the middleware adds routing, the body hash, the credentials
//! cache and what a retry or an explanation needs, and keeps that near zero. Measured with
//! criterion and callgrind against a hand-written `Middleware` around
//! `aws_sigv4::http_request::sign` (the forty lines you would write yourself, signing
//! byte for byte the same), per request:
//!
//! - as many instructions, within 2%; one heap allocation fewer on a `GET`, as many on a
//!   `POST`; a boxed future of the same size;
//! - at most 4% more CPU time for the middleware's work;
//! - end to end on loopback, 0.98 to 0.99 times its throughput;
//! - the whole signing work on a small request costs about 1.15 times a direct call to
//!   `aws_sigv4::http_request::sign`.
//!
//! Bodies: a large in-memory body is hashed in place at 0.98 to 0.99 times the speed of
//! SHA-256 alone; a streaming body costs about its own size in memory, whatever its chunk
//! size. The credentials cache takes no lock across an await, so signing scales with
//! cores.
//!
//! The measurements, their commands and the profiles are in
//! [BENCHMARKS.md](https://github.com/reqwest-sigv4/reqwest-sigv4/blob/main/BENCHMARKS.md).
//!
//! # Keeping it low
//!
//! - **Build the client once and share it.** It holds the credentials cache (a middleware
//!   per request would call the provider per request), the learned clock offsets and the
//!   connection pool. [`SigV4Middleware`] and the `reqwest_middleware` client are cheap to
//!   clone.
//! - **Prefer in-memory bodies** where they fit: they are hashed where they lie and sent
//!   again (on a retry or a redirect) without a copy. A streaming body is read into memory,
//!   up to [`body_limit`](crate::SigV4MiddlewareBuilder::body_limit), before it is signed.
//! - **Large uploads to S3**: [`Route::unsigned_payload(true)`](crate::Route::unsigned_payload)
//!   streams the body without reading or hashing it, in constant memory (see the
//!   [services guide](super::services#large-uploads) for the trade-off).
//! - **Summaries only when you read them.** By default only responses whose status is not
//!   2xx carry a [`SignedRequest`] ([`SummaryPolicy::Unsuccessful`]); attaching one to
//!   every response ([`SummaryPolicy::Always`]) costs a few allocations per response.
//! - **Name the region** on the route or the builder (or use hosts it can be read from):
//!   with the default credentials chain, a request whose region nothing names waits for
//!   the default region chain once, which off EC2 can mean an IMDS timeout.
//!
//! [`SigV4Middleware`]: crate::SigV4Middleware
//! [`SignedRequest`]: crate::SignedRequest
//! [`SummaryPolicy::Unsuccessful`]: crate::SummaryPolicy::Unsuccessful
//! [`SummaryPolicy::Always`]: crate::SummaryPolicy::Always
