//! AWS SigV4 request signing for [`reqwest-middleware`](reqwest_middleware): call
//! IAM-protected APIs (API Gateway with `AWS_IAM` auth, Lambda function URLs, any SigV4
//! service) from a `reqwest` client — directly, through a custom domain, through a
//! CloudFront alias, or through a VPC endpoint.
//!
//! SigV4 signs the host and path that the *verifying* service sees. Put CloudFront in
//! front of API Gateway and it replaces the `Host` and puts the stage in front of the path,
//! so a request signed for what the client sends is refused with `403 The request
//! signature we calculated does not match…`. Here you name the topology in a [`Route`]
//! and the middleware signs for the host and path API Gateway will verify.
//!
//! # Quick start
//!
//! ```no_run
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = SigV4Middleware::builder()
//!     // Credentials come from aws-config's default chain unless you give a provider.
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .route(Route::cloudfront(
//!         "https://api.example.com",                                  // where requests go
//!         "https://abc123.execute-api.us-east-1.amazonaws.com/prod",  // what API Gateway sees
//!     ))
//!     .build()?;
//!
//! let client = reqwest_middleware::ClientBuilder::new(
//!     // Let the middleware follow redirects, so that each hop is signed for its own URL.
//!     reqwest::Client::builder()
//!         .redirect(reqwest::redirect::Policy::none())
//!         .build()?,
//! )
//! .with(signer)
//! .build();
//!
//! // Sent to the CloudFront alias, signed for abc123.execute-api…/prod/items.
//! let response = client.get("https://api.example.com/items?limit=10").send().await?;
//! println!("{}", response.status());
//! # Ok(())
//! # }
//! ```
//!
//! What every request goes through:
//! 1. **Routing** ([`Route`]): a request whose URL matches no route is sent as it is,
//!    unsigned, so credentials never reach a host nobody configured; one that a route
//!    matches but cannot place (an origin URL no alias URL reaches) is refused.
//! 2. **Body buffering**: in-memory bodies are hashed where they lie; streaming bodies are
//!    read up to a limit ([`SigV4MiddlewareBuilder::body_limit`]) and hashed.
//! 3. **Credentials**: taken from a cache that refreshes ahead of expiry with one provider
//!    call in flight.
//! 4. **Signing** with `aws-sigv4`, for the route's signing host and path, and the
//!    `Authorization`, `X-Amz-Date` and `X-Amz-Security-Token` headers are injected.
//! 5. **Answers**: a `Signature expired` 403 teaches the middleware the server's clock and
//!    the request is retried once; other 403s are explained in an [`Explanation`]
//!    response extension; redirects are followed and re-signed ([`RedirectPolicy`]).
//!
//! # Guides
//!
//! The [`guide`] modules go into depth, each with compiled examples:
//! - [Topologies and routes](guide::topologies): direct, custom domain, CloudFront, host
//!   override and private APIs; which headers are signed; redirects and retries.
//! - [Credentials](guide::credentials): providers, the cache and when it calls them, other
//!   accounts, session tokens refused after a rotation.
//! - [S3 and other services](guide::services): service and region, what each service
//!   signs, S3 keys and large uploads, request bodies.
//! - [Presigned URLs and SigV4a](guide::presigning): `presign`, WebSocket `$connect`, S3
//!   uploads, signing in the query, multi-region signing.
//! - [Security guarantees](guide::security): where credentials go, what is refused, what is
//!   never shown.
//! - [Troubleshooting](guide::troubleshooting): errors before sending, 403 explanations,
//!   the table of causes and fixes, clock skew.
//! - [Testing your client](guide::testing): the independent verifier and its `wiremock`
//!   matcher.
//! - [Performance](guide::performance): what signing costs and how to keep it low.
//!
//! # Features
//! - `aws-config` (default): the default credentials chain and region.
//! - `verify`: [`verify`], an independent SigV4 verifier written from the specification.
//! - `wiremock`: a `wiremock` matcher that accepts only validly signed requests.
//! - `sigv4a`: SigV4a signing ([`Route::sigv4a`], with `aws-sigv4`'s implementation) and,
//!   with `verify`, SigV4a verification written from the specification.
//! - `reqwest-012`: the same middleware for reqwest 0.12 and reqwest-middleware 0.4
//!   ([`SigV4Middleware`] implements both versions' `Middleware`).
//! - `retry`: `SigV4RetryableStrategy`, a `reqwest-retry` strategy that also retries the
//!   signer's transient errors ([`Error::is_transient`]).
//!
//! How the crate is built: a sans-IO engine (routing, scope, body hash, signing, reading
//! answers) and thin adapters around it (the `Middleware`, the credentials cache); see
//! [ARCHITECTURE.md](https://github.com/reqwest-sigv4/reqwest-sigv4/blob/main/docs/ARCHITECTURE.md)
//! in the repository.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(clippy::missing_errors_doc, clippy::missing_panics_doc)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapter;
// SigV4 canonicalization from the specification, the building blocks of the verifier, of
// the summary of what was signed and of the tests: not a stable API (see its module docs).
#[doc(hidden)]
pub mod canonical;
mod config;
mod diagnostics;
mod engine;
mod error;
pub mod guide;
mod redact;
#[cfg(feature = "retry")]
mod retry;
mod route;
#[cfg(feature = "verify")]
#[cfg_attr(docsrs, doc(cfg(feature = "verify")))]
pub mod verify;

/// The AWS types this crate's API takes, re-exported so that the common cases need no
/// dependency of your own on `aws-credential-types` or `aws-config`, and no version of
/// theirs to keep in step with this crate's by hand.
///
/// ```
/// use reqwest_sigv4::aws::Credentials;
/// use reqwest_sigv4::{Route, SigV4Middleware};
///
/// let signer = SigV4Middleware::builder()
///     .static_credentials(Credentials::new("AKIDEXAMPLE", "secret", None, None, "example"))
///     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
///     .build()
///     .unwrap();
/// # drop(signer);
/// ```
pub mod aws {
    /// What [`ProvideCredentials`] implementations use: its future and error types.
    pub use aws_credential_types::provider;
    pub use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
    pub use aws_credential_types::Credentials;

    /// `aws-config` itself, for loading an [`SdkConfig`] (`aws::config::load_defaults(..)`)
    /// or building a provider (profiles, roles, SSO) with the version this crate uses.
    #[cfg(feature = "aws-config")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
    pub use aws_config as config;
    #[cfg(feature = "aws-config")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
    pub use aws_config::{BehaviorVersion, Region, SdkConfig};
}

#[cfg(feature = "aws-config")]
pub use adapter::credentials::{AssumeRole, Profile};
pub use adapter::{ClientBuilderFor, Presignable, SigV4Middleware};
pub use config::{
    CrossRouteRedirect, RedirectPolicy, SigV4MiddlewareBuilder, SigningOverride, SkipSigning,
    SummaryPolicy, DEFAULT_INSPECT_DEADLINE, DEFAULT_SERVICE,
};
pub use diagnostics::{Cause, Explanation, Suggestion};
pub use engine::body::DEFAULT_BODY_LIMIT;
pub use engine::clock::{Clock, FixedClock, SystemClock};
pub use engine::presign::PresignedUrl;
pub use engine::route::RouteKind;
pub use engine::summary::SignedRequest;
pub use error::{BoxError, ConfigError, Error, ErrorKind, ProviderMessage};
#[cfg(feature = "retry")]
#[cfg_attr(docsrs, doc(cfg(feature = "retry")))]
pub use retry::SigV4RetryableStrategy;
pub use route::{Route, SignedHeaders, Topology};

// The README's examples are compiled and run as doc tests (one of them needs the wiremock
// matcher, which only the repository's own dev-dependency turns on).
#[cfg(all(doctest, feature = "wiremock"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
