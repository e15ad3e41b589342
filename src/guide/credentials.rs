//! Credentials: where they come from, when the provider is called, other accounts, and what
//! happens when a session token is refused after a rotation.
//!
//! # Where credentials come from
//!
//! One of, on the builder:
//!
//! - [`credentials_provider`](crate::SigV4MiddlewareBuilder::credentials_provider): any
//!   [`ProvideCredentials`] (an `aws-config` provider, or your own);
//! - [`static_credentials`](crate::SigV4MiddlewareBuilder::static_credentials): fixed keys
//!   (an empty key is [`ConfigError::EmptyCredentials`] at `build()`);
//! - [`sdk_config`](crate::SigV4MiddlewareBuilder::sdk_config): the provider and default
//!   region of an `aws-config` [`SdkConfig`] you already load for the AWS SDK;
//! - none of these, with the `aws-config` feature (on by default): `aws-config`'s default
//!   chain (environment, profile and SSO, web identity, ECS, IMDS). Without the feature,
//!   `build()` fails with [`ConfigError::NoCredentials`].
//!
//! The AWS types are re-exported in [`aws`](crate::aws), so you need no dependency of your
//! own on `aws-credential-types` or `aws-config`:
//!
//! ```no_run
//! use reqwest_sigv4::aws::{self, BehaviorVersion};
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // The configuration your AWS SDK clients use, shared with the signer.
//! let config = aws::config::load_defaults(BehaviorVersion::latest()).await;
//! let signer = SigV4Middleware::builder()
//!     .sdk_config(&config)
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .build()?;
//! # drop(signer);
//! # Ok(())
//! # }
//! ```
//!
//! A provider of your own implements [`ProvideCredentials`]. Give the credentials an expiry
//! when they rotate: credentials without one are fetched once and used for ever.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//!
//! use reqwest_sigv4::aws::provider::future;
//! use reqwest_sigv4::aws::{Credentials, ProvideCredentials};
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! /// Keys from your secrets store, valid for an hour.
//! #[derive(Debug)]
//! struct FromVault;
//!
//! impl ProvideCredentials for FromVault {
//!     fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
//!     where
//!         Self: 'a,
//!     {
//!         future::ProvideCredentials::new(async {
//!             // … ask the store …
//!             let expiry = SystemTime::now() + Duration::from_secs(3600);
//!             Ok(Credentials::new("AKIDEXAMPLE", "secret", None, Some(expiry), "vault"))
//!         })
//!     }
//! }
//!
//! let signer = SigV4Middleware::builder()
//!     .credentials_provider(FromVault)
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! ## The default chain
//!
//! With no provider configured, the middleware loads `aws-config`'s default *credentials*
//! chain on its first request, not a whole `SdkConfig`. When the builder or a route names
//! a region, or a route's host tells one (`….us-east-1.amazonaws.com`), the chain is given
//! it (after `AWS_REGION` and the profile's `region`), so no region lookup asks IMDS, which
//! off EC2 logs `failed to load region from IMDS` and can stall the first request. The
//! default *region* chain runs only for a request whose region nothing else names.
//! Middlewares built on the same tokio runtime share one chain.
//!
//! # When the provider is called
//!
//! Providers do not cache (the AWS SDK clients do, in their own identity cache), so the
//! middleware does, one cache per credentials source. Signing takes the cached credentials
//! without waiting and without a lock held across an await. The provider is called:
//!
//! - **When nothing usable is cached** (the first request, or the cached credentials are
//!   past their margin): once. Every request that arrives meanwhile waits for that call and
//!   shares its answer, credentials or error, rather than calling again. A call is bounded
//!   by [`credentials_timeout`](crate::SigV4MiddlewareBuilder::credentials_timeout)
//!   (default 10 s).
//! - **Ahead of expiry, in the background**:
//!   [`credentials_refresh_ahead`](crate::SigV4MiddlewareBuilder::credentials_refresh_ahead)
//!   (default 5 minutes) before the credentials expire, but never more than half the
//!   lifetime they had on arrival, and up to a quarter of that window later by jitter, so
//!   that processes started together do not call together. Requests keep signing with the
//!   cached credentials meanwhile; one call is in flight at most, and at most one
//!   background refresh per credentials handed out. One-hour credentials: one call an
//!   hour, 55:00 to 56:15 after the last. 20-second credentials: one call every 10 to
//!   12.5 s. Credentials without an expiry: one call, ever.
//! - **After a background refresh failed** (an error, a timeout, a panic, empty or already
//!   expired credentials): the cached credentials keep signing until their margin, and no
//!   background call is made for the next 10 s.
//!
//! Credentials sign until their expiry less a margin for the trip to AWS: 10 s, or a
//! quarter of their lifetime when they lived less than 40 s on arrival. Whatever the
//! provider hands out is used for at least a second (or until it expires, if sooner), so a
//! provider that only has nearly expired credentials is not called per request.
//! Credentials that arrive already expired never sign anything.
//!
//! ## When no credentials can be had
//!
//! The request fails with a typed error, of kind [`ErrorKind::Credentials`], and nothing is
//! sent:
//!
//! - [`Error::CredentialsUnavailable`]: the provider failed; its message, and the
//!   provider's error itself as the [`source`](std::error::Error::source) of the
//!   [`ProviderMessage`];
//! - [`Error::CredentialsTimeout`]: the provider did not answer in time;
//! - [`Error::EmptyCredentials`], [`Error::CredentialsExpired`]: the provider answered
//!   credentials that cannot sign;
//! - [`Error::CredentialsProviderPanicked`]: a provider that panics fails like one that
//!   errors. The panic never unwinds into the request's task, and its message is not
//!   repeated (it could quote anything the provider held).
//!
//! A later request calls the provider again: a provider's failure may be transient.
//!
//! ## What an operator sees
//!
//! The cache logs with `tracing`, under the crate's target (`RUST_LOG=reqwest_sigv4=debug`
//! shows them all). No event carries a key, a session token or a signature; each names the
//! provider by its type name.
//!
//! | Level | Message | When |
//! |---|---|---|
//! | DEBUG | `refreshed AWS credentials` | a provider call brought credentials (fields `refresh`: `Foreground`, `Background` or `Refusal`; `old_expires_in`, `new_expires_in`, `took_ms`) |
//! | WARN | `refreshing AWS credentials failed; still using the cached ones until they expire` | a background refresh failed (`old_expires_in`, `took_ms`, `error`) |
//! | ERROR | `no usable AWS credentials: the request is not sent` | a call requests waited for failed (`old_expires_in`, `took_ms`, `error`) |
//! | WARN | `the verifier refused the session token: reloaded the credentials; …` | a refused session token brought a reload (see below) |
//! | WARN | `the verifier keeps refusing the session token: …` | refusals are answered until the back-off has passed (`reload_in_s`) |
//! | WARN | `reloading AWS credentials whose session token the verifier refused failed; …` | that reload failed (`error`) |
//!
//! There is one event per provider call, not per waiting request. With `reqwest-tracing`'s
//! `TracingMiddleware` before the signer, a call that requests waited for logs inside the
//! span of the request that made it; a background refresh runs in a spawned task, outside
//! any request's span.
//!
//! # Other accounts: credentials per route
//!
//! A route can sign with credentials of its own while the others keep the middleware's.
//! Each source has its own cache, refreshed as above; routes that assume the same role, or
//! read the same profile, share one.
//!
//! ```
//! use std::time::Duration;
//!
//! use reqwest_sigv4::{AssumeRole, Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     // Account 1: the service's own credentials (here the default chain).
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     // Account 2: a role assumed with STS, the call to STS signed by the credentials above.
//!     .route(
//!         Route::direct("https://def456.execute-api.eu-west-1.amazonaws.com").assume_role(
//!             AssumeRole::new("arn:aws:iam::222222222222:role/orders-reader")
//!                 .session_name("checkout")
//!                 .external_id("partner-7")
//!                 .duration(Duration::from_secs(3600)),
//!         ),
//!     )
//!     // Account 3: a named profile of ~/.aws/config and ~/.aws/credentials (or of the
//!     // files given with `Profile::config_file` / `Profile::credentials_file`).
//!     .route(Route::direct("https://ghi789.execute-api.us-west-2.amazonaws.com").profile("billing"))
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! - [`Route::credentials_provider`] takes any [`ProvideCredentials`]; [`Route::assume_role`]
//!   an [`AssumeRole`] (or a role ARN); [`Route::profile`] a [`Profile`] (or its name).
//! - [`SigV4MiddlewareBuilder::assume_role`] makes every route without credentials of its
//!   own sign as the role.
//! - STS is called in the role's [`region`](crate::AssumeRole::region), else the route's,
//!   else the builder's; at [`endpoint_url`](crate::AssumeRole::endpoint_url) or
//!   `AWS_ENDPOINT_URL_STS` when set (an STS VPC endpoint).
//!
//! # Rotation: a session token refused before its expiry
//!
//! Temporary credentials can stop working before the expiry they were handed out with: a
//! role session revoked, credentials rotated under a long-running process. When the
//! verifier answers 403 because it refused the session token (API Gateway's
//! `The security token included in the request is expired` or `… is invalid`;
//! `ExpiredToken`, `InvalidToken` or `ExpiredTokenException` from S3, STS and the other
//! services), the middleware:
//!
//! 1. asks the provider again, once for all the requests refused with the same
//!    credentials (the others wait for that call), and only while the refused credentials
//!    are still the cached ones;
//! 2. if the provider hands out other credentials, signs the refused requests again with
//!    them and sends each once more;
//! 3. otherwise (the same credentials, or the call failed) returns the 403 with its
//!    [`Explanation`] ([`Cause::InvalidSecurityToken`]).
//!
//! A second refusal of the same request comes back with its explanation. After a reload, a refusal
//! reloads nothing for a back-off (1 s, doubling up to 5 minutes, each jittered by ±25%)
//! and is answered with the 403 and its explanation, the back-off logged once at `WARN`.
//! After 15 minutes without a refusal the back-off starts over. So a service that keeps
//! refusing costs a handful of provider calls (an STS `AssumeRole`, an IMDS call) in its
//! first minute and one every few minutes after, never one per request. Each credentials
//! source backs off on its own: one route's refusals never reload another's credentials.
//!
//! Only a refused *session token* reloads credentials. An unknown access key
//! ([`Cause::UnknownAccessKey`]) or a signature that does not match comes back with its
//! explanation: see the [troubleshooting guide](super::troubleshooting).
//!
//! [`ProvideCredentials`]: crate::aws::ProvideCredentials
//! [`SdkConfig`]: crate::aws::SdkConfig
//! [`ConfigError::EmptyCredentials`]: crate::ConfigError::EmptyCredentials
//! [`ConfigError::NoCredentials`]: crate::ConfigError::NoCredentials
//! [`ErrorKind::Credentials`]: crate::ErrorKind::Credentials
//! [`Error::CredentialsUnavailable`]: crate::Error::CredentialsUnavailable
//! [`Error::CredentialsTimeout`]: crate::Error::CredentialsTimeout
//! [`Error::EmptyCredentials`]: crate::Error::EmptyCredentials
//! [`Error::CredentialsExpired`]: crate::Error::CredentialsExpired
//! [`Error::CredentialsProviderPanicked`]: crate::Error::CredentialsProviderPanicked
//! [`ProviderMessage`]: crate::ProviderMessage
//! [`Route::credentials_provider`]: crate::Route::credentials_provider
//! [`Route::assume_role`]: crate::Route::assume_role
//! [`Route::profile`]: crate::Route::profile
//! [`AssumeRole`]: crate::AssumeRole
//! [`Profile`]: crate::Profile
//! [`SigV4MiddlewareBuilder::assume_role`]: crate::SigV4MiddlewareBuilder::assume_role
//! [`Explanation`]: crate::Explanation
//! [`Cause::InvalidSecurityToken`]: crate::Cause::InvalidSecurityToken
//! [`Cause::UnknownAccessKey`]: crate::Cause::UnknownAccessKey
