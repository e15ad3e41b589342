//! Presigned URLs and SigV4a: the signature in the query string instead of headers, to
//! hand a URL to someone else or through a proxy that drops `Authorization`; and SigV4a,
//! for multi-region endpoints.
//!
//! # Presigned URLs
//!
//! [`SigV4Middleware::presign`] signs a request's method and URL into the URL itself, for
//! the route the URL matches, valid for the time you give. Uses: API Gateway WebSocket
//! `$connect` with IAM auth, S3 downloads and uploads, a URL handed to another process or a
//! browser.
//!
//! ```no_run
//! use std::time::Duration;
//!
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = SigV4Middleware::builder()
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .build()?;
//! let request = reqwest::Request::new(
//!     reqwest::Method::GET,
//!     "https://abc123.execute-api.us-east-1.amazonaws.com/prod/report".parse()?,
//! );
//! let presigned = signer.presign(&request, Duration::from_secs(300)).await?;
//! let until = presigned.expires_at(); // the earlier of the signature's and the token's end
//! let url = presigned.as_str(); // a secret: hand it over, do not log it
//! # drop((until, url));
//! # Ok(())
//! # }
//! ```
//!
//! What to know:
//!
//! - **Validity**: at least one second (`X-Amz-Expires` counts whole seconds; a fraction
//!   is dropped) and at most 7 days, or [`Error::InvalidExpiry`].
//! - **Temporary credentials**: the URL carries their session token and stops working when
//!   the token expires, whatever `X-Amz-Expires` says. [`PresignedUrl::expires_at`] is the
//!   earlier of the two, [`PresignedUrl::credentials_expire_first`] says when the token
//!   ends first, and [`PresignedUrl::has_session_token`] whether there is one. For URLs
//!   that must live long, sign with long-term credentials.
//! - **What is signed**: the method, the URL, and `host` only, so whoever uses the URL
//!   needs no other header. A body is hashed into the URL (API Gateway, Lambda function
//!   URLs), except for S3, which verifies presigned URLs over `UNSIGNED-PAYLOAD`: the holder
//!   of a presigned `PUT` chooses the bytes. A streaming body cannot be presigned
//!   ([`Error::StreamingBodyNotPresignable`]).
//! - **Routes**: the URL must match a route ([`Error::NoRoute`] otherwise). A URL through
//!   a CloudFront route is presigned for its origin, like any request through it.
//! - **It is a secret**: whoever holds the URL can make the request until it expires.
//!   [`PresignedUrl`]'s `Debug` shows its host, path and expiry, never its query; it has no
//!   `Display` and is not `Clone`. Take the URL out deliberately with
//!   [`url`](crate::PresignedUrl::url), [`as_str`](crate::PresignedUrl::as_str) or
//!   [`into_url`](crate::PresignedUrl::into_url).
//!
//! ## WebSocket APIs
//!
//! API Gateway WebSocket APIs with IAM authorization check the signature of `$connect`:
//! presign the `https` form of the URL, then connect with `wss`:
//!
//! ```no_run
//! # async fn run(signer: reqwest_sigv4::SigV4Middleware) -> Result<(), Box<dyn std::error::Error>> {
//! let url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod".parse()?;
//! let request = reqwest::Request::new(reqwest::Method::GET, url);
//! let presigned = signer.presign(&request, std::time::Duration::from_secs(60)).await?;
//! let mut url = presigned.into_url();
//! url.set_scheme("wss").expect("https and wss are both special schemes");
//! // Hand `url` to your WebSocket client.
//! # drop(url);
//! # Ok(())
//! # }
//! ```
//!
//! ## S3 downloads and uploads
//!
//! A presigned `GET` lets anyone with the URL download one object; a presigned `PUT` lets
//! a client with no AWS credentials upload to one key:
//!
//! ```no_run
//! # async fn run(signer: reqwest_sigv4::SigV4Middleware) -> Result<(), Box<dyn std::error::Error>> {
//! let request = reqwest::Request::new(
//!     reqwest::Method::PUT,
//!     "https://my-bucket.s3.eu-west-1.amazonaws.com/uploads/report.pdf".parse()?,
//! );
//! let presigned = signer.presign(&request, std::time::Duration::from_secs(900)).await?;
//!
//! // Any HTTP client, no middleware, no credentials:
//! reqwest::Client::new()
//!     .put(presigned.into_url())
//!     .body(std::fs::read("report.pdf")?)
//!     .send()
//!     .await?
//!     .error_for_status()?;
//! # Ok(())
//! # }
//! ```
//!
//! Since S3 verifies presigned URLs over `UNSIGNED-PAYLOAD`, a route that asks for a body
//! hash ([`Route::unsigned_payload(false)`](crate::Route::unsigned_payload)) gets
//! [`Error::PayloadHashNotPresignable`] for a request with a body, rather than a URL that
//! would not protect it.
//!
//! # Signing every request of a route in the query
//!
//! [`Route::sign_in_query`] signs every request of a route as a presigned URL, valid for
//! the time given, instead of in headers: for CDNs and proxies that strip `Authorization`
//! but forward the query string. On such a route an `Authorization` header of your own is
//! sent as it is (a route signed in headers refuses it, see the
//! [security guide](super::security)).
//!
//! ```
//! use std::time::Duration;
//!
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(
//!         Route::cloudfront(
//!             "https://cdn.example.com",
//!             "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
//!         )
//!         .sign_in_query(Duration::from_secs(60)),
//!     )
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! The signature and session token then travel in the URL, so every URL the crate shows
//! (logs, errors, `Response::url()`) has them replaced by `REDACTED`; see the
//! [security guide](super::security#what-is-never-shown).
//!
//! # SigV4a
//!
//! SigV4a signs with ECDSA P-256 for a *set* of regions instead of one, for multi-region
//! endpoints such as S3 Multi-Region Access Points. Turn on the `sigv4a` feature and name
//! the region set on the route: `"*"` for every region, or a list such as
//! `"us-east-1,us-west-2"`:
//!
//! ```
//! # #[cfg(feature = "sigv4a")]
//! # fn main() -> Result<(), reqwest_sigv4::ConfigError> {
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(
//!         Route::direct("https://mfzwi23gnjvgw.mrap.accesspoint.s3-global.amazonaws.com")
//!             .service("s3")
//!             .sigv4a("*"),
//!     )
//!     .build()?;
//! # drop(signer);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "sigv4a"))]
//! # fn main() {}
//! ```
//!
//! The signing itself is `aws-sigv4`'s implementation. The region set is signed in
//! `X-Amz-Region-Set` (or in the query, with [`Route::sign_in_query`] or `presign`), and
//! [`SignedRequest::region`] reports it. An ECDSA signature differs on every signing, so
//! compare what was signed (the canonical request), not signatures. With the `verify`
//! feature as well, the [verifier](crate::verify) checks SigV4a too, written from the
//! specification (see the [testing guide](super::testing)).
//!
//! [`SigV4Middleware::presign`]: crate::SigV4Middleware::presign
//! [`PresignedUrl`]: crate::PresignedUrl
//! [`PresignedUrl::expires_at`]: crate::PresignedUrl::expires_at
//! [`PresignedUrl::credentials_expire_first`]: crate::PresignedUrl::credentials_expire_first
//! [`PresignedUrl::has_session_token`]: crate::PresignedUrl::has_session_token
//! [`Error::InvalidExpiry`]: crate::Error::InvalidExpiry
//! [`Error::StreamingBodyNotPresignable`]: crate::Error::StreamingBodyNotPresignable
//! [`Error::NoRoute`]: crate::Error::NoRoute
//! [`Error::PayloadHashNotPresignable`]: crate::Error::PayloadHashNotPresignable
//! [`Route::sign_in_query`]: crate::Route::sign_in_query
//! [`SignedRequest::region`]: crate::SignedRequest::region
