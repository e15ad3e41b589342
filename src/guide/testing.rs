//! Testing your client: check its signatures against an independent verifier, offline,
//! instead of against AWS.
//!
//! # The verifier
//!
//! The `verify` feature adds [`verify`](crate::verify): a SigV4 verifier written from the
//! specification with `hmac` and `sha2`, sharing no code with `aws-sigv4` (which the
//! middleware signs with). It passes every case of AWS's SigV4 test suite, header and
//! presigned forms, and checks a request as API Gateway does: the authentication is well
//! formed, the scope names the right service and region, `host` and every listed header are
//! signed and present, the time is acceptable, the session token is right and signed, the
//! body matches its declared hash, and the signature is the one it computes. When it
//! refuses a request, its [`Rejection`] says why: a [`RejectionKind`], API Gateway's
//! message for it ([`Rejection::api_gateway_message`]), the canonical request and
//! string-to-sign it expected, and, for a signature mismatch that a common signer mistake
//! explains (single instead of double path encoding, path normalization, `+` in the query,
//! the body hash, `:port` in `Host`), the canonical request the signature does match.
//!
//! With the `sigv4a` feature too, it verifies SigV4a (ECDSA P-256) as well, also written
//! from the specification: the key pair derived from the credentials, the signature checked
//! with the public key, and [`Verifier::region`] required to be in the request's region set.
//!
//! Turn the features on for your tests only:
//!
//! ```toml
//! [dev-dependencies]
//! reqwest-sigv4 = { version = "0.1", features = ["wiremock"] } # `verify` and the matcher
//! wiremock = "0.6"
//! ```
//!
//! # A mock server that accepts only signed requests
//!
//! With the `wiremock` feature, [`SignedBy`] is a `wiremock` matcher that lets through
//! only what its [`Verifier`] accepts: a mock server stands in for API Gateway's `AWS_IAM`
//! authorization. A request that is not validly signed falls through to wiremock's 404,
//! and [`SignedBy::last_rejection`] says why (keep a clone of the matcher: clones share
//! it).
//!
//! ```
//! # #[cfg(feature = "wiremock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use reqwest_sigv4::aws::Credentials;
//! use reqwest_sigv4::verify::{wiremock::SignedBy, Verifier};
//! use reqwest_sigv4::{Route, SigV4Middleware};
//! use wiremock::{matchers::method, Mock, MockServer, ResponseTemplate};
//!
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
//!
//! // The stand-in for the API: 200 to validly signed GETs, 404 to anything else.
//! let server = MockServer::start().await;
//! let signed = SignedBy::new(
//!     Verifier::new(credentials.clone())
//!         .service("execute-api")
//!         .region("us-east-1"),
//! );
//! Mock::given(method("GET"))
//!     .and(signed.clone())
//!     .respond_with(ResponseTemplate::new(200))
//!     .mount(&server)
//!     .await;
//!
//! // Your client, pointed at the stand-in: a local host names no service or region.
//! let client = SigV4Middleware::builder()
//!     .static_credentials(credentials)
//!     .route(Route::direct(server.uri()).service("execute-api").region("us-east-1"))
//!     .build()?
//!     .client()?;
//! let response = client.get(format!("{}/prod/items", server.uri())).send().await?;
//! assert_eq!(response.status(), 200);
//!
//! // A request nobody signed is refused, and the matcher says why.
//! let response = reqwest::get(format!("{}/prod/items", server.uri())).await?;
//! assert_eq!(response.status(), 404);
//! let why = signed.last_rejection().expect("the unsigned request was refused");
//! assert_eq!(why.api_gateway_message(), "Missing Authentication Token");
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "wiremock"))]
//! # fn main() {}
//! ```
//!
//! In a real test the client is the code under test: give it the stand-in's URL and the
//! test credentials wherever it takes its configuration.
//!
//! # Strict by default, loosened on purpose
//!
//! [`Verifier::new`] is as strict as API Gateway:
//!
//! - the request's time must be within 5 minutes ([`DEFAULT_MAX_SKEW`]) of the system
//!   clock, and a presigned URL must not have expired: loosen with
//!   [`max_skew`](crate::verify::Verifier::max_skew), check against a fixed time with
//!   [`now`](crate::verify::Verifier::now) (recorded requests, test vectors), or
//!   [`skip_time_check`](crate::verify::Verifier::skip_time_check) altogether;
//! - a session token must be presented and covered by the signature:
//!   [`require_session_token`](crate::verify::Verifier::require_session_token),
//!   [`require_signed_session_token`](crate::verify::Verifier::require_signed_session_token);
//! - `UNSIGNED-PAYLOAD` is refused, as API Gateway refuses it:
//!   [`allow_unsigned_payload(true)`](crate::verify::Verifier::allow_unsigned_payload) for
//!   an S3 stand-in whose client streams uploads;
//! - the path and query rules follow the service (S3's single encoding and literal `+`,
//!   everyone else's double encoding): set them with
//!   [`normalize_path`](crate::verify::Verifier::normalize_path),
//!   [`double_encode_path`](crate::verify::Verifier::double_encode_path) and
//!   [`query_plus`](crate::verify::Verifier::query_plus) for a service of your own.
//!
//! [`with_credentials`](crate::verify::Verifier::with_credentials) accepts several key
//! pairs, looked up by the access key id the request names (a client with per-route
//! credentials).
//!
//! # Reproducible signatures: a fixed clock
//!
//! Signatures are dated by the middleware's [`Clock`]. A [`FixedClock`] makes them
//! reproducible (snapshot tests, recorded exchanges); give the verifier the same time:
//!
//! ```
//! # #[cfg(feature = "verify")]
//! # fn main() -> Result<(), reqwest_sigv4::ConfigError> {
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! use reqwest_sigv4::aws::Credentials;
//! use reqwest_sigv4::verify::Verifier;
//! use reqwest_sigv4::{FixedClock, Route, SigV4Middleware};
//!
//! let at = UNIX_EPOCH + Duration::from_secs(1_440_938_160); // 2015-08-30T12:36:00Z
//! let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
//! let signer = SigV4Middleware::builder()
//!     .static_credentials(credentials.clone())
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .clock(FixedClock(at))
//!     .build()?;
//! let verifier = Verifier::new(credentials).now(at);
//! # drop((signer, verifier));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "verify"))]
//! # fn main() {}
//! ```
//!
//! # Checking requests from elsewhere
//!
//! The verifier takes a request however your test has it:
//! [`ReceivedRequest::from_http`] (an `http::Request`, from a hyper or axum test server;
//! [`Verifier::verify_http`] does both steps),
//! [`ReceivedRequest::parse_http1`] (raw HTTP/1.1 text, such as a captured request or the
//! AWS suite's files: the [`verify`](crate::verify) module shows one),
//! [`ReceivedRequest::from_wiremock`], or [`ReceivedRequest::new`] from its parts.
//!
//! # Checking what was signed
//!
//! [`SummaryPolicy::Always`] puts a [`SignedRequest`] on every response, successes too, so
//! a test can assert the host, path, headers, service and region a request was signed
//! for, or compare canonical requests, without a verifier (see the
//! [troubleshooting guide](super::troubleshooting#when-aws-answers-403)).
//!
//! [`Rejection`]: crate::verify::Rejection
//! [`Rejection::api_gateway_message`]: crate::verify::Rejection::api_gateway_message
//! [`RejectionKind`]: crate::verify::RejectionKind
//! [`Verifier`]: crate::verify::Verifier
//! [`Verifier::new`]: crate::verify::Verifier::new
//! [`Verifier::region`]: crate::verify::Verifier::region
//! [`Verifier::verify_http`]: crate::verify::Verifier::verify_http
//! [`DEFAULT_MAX_SKEW`]: crate::verify::DEFAULT_MAX_SKEW
//! [`ReceivedRequest::from_http`]: crate::verify::ReceivedRequest::from_http
//! [`ReceivedRequest::parse_http1`]: crate::verify::ReceivedRequest::parse_http1
//! [`ReceivedRequest::from_wiremock`]: crate::verify::ReceivedRequest::from_wiremock
//! [`ReceivedRequest::new`]: crate::verify::ReceivedRequest::new
//! [`SignedBy`]: crate::verify::wiremock::SignedBy
//! [`SignedBy::last_rejection`]: crate::verify::wiremock::SignedBy::last_rejection
//! [`Clock`]: crate::Clock
//! [`FixedClock`]: crate::FixedClock
//! [`SummaryPolicy::Always`]: crate::SummaryPolicy::Always
//! [`SignedRequest`]: crate::SignedRequest
