//! Guides: setting the middleware up for your topology and services, what it guarantees,
//! and what to do when AWS answers 403.
//!
//! The [crate docs](crate) get a client signing in a few lines; these pages go into depth.
//! Each guide is a module of documentation only: there is nothing in it to call, and every
//! example in it is compiled (and, where it needs no network, run) as a test.
//!
//! | Guide | Read it when |
//! |---|---|
//! | [`topologies`] | your API is behind a custom domain, CloudFront, a VPC endpoint or a proxy; you want to know which requests are signed, and how redirects and retries go |
//! | [`credentials`] | you choose where credentials come from, call APIs in other accounts, or want to know when the provider is called and what happens when a token is rotated |
//! | [`services`] | you call S3 or another service than API Gateway, send large or streaming bodies, or sign one request for another service or region |
//! | [`presigning`] | you hand out presigned URLs, connect to a WebSocket API with IAM auth, sign in the query string, or need SigV4a |
//! | [`security`] | you want to know what the middleware refuses to send, and what it never shows |
//! | [`troubleshooting`] | a request fails before it is sent, or AWS answers 403 |
//! | [`testing`] | you test your own client against a verifier instead of AWS |
//! | [`performance`] | you want to know what signing costs and how to keep it low |
//!
//! How the crate is built (the sans-IO engine, the adapters around it, where each rule
//! lives) is described in
//! [ARCHITECTURE.md](https://github.com/reqwest-sigv4/reqwest-sigv4/blob/main/docs/ARCHITECTURE.md).

pub mod credentials;
pub mod performance;
pub mod presigning;
pub mod security;
pub mod services;
pub mod testing;
pub mod topologies;
pub mod troubleshooting;
