//! S3 and other services: which service and region a request is signed for, what changes
//! from one service to another, S3's keys and large uploads, and how request bodies are
//! read.
//!
//! # Service and region
//!
//! A request is signed for the first of these that names a service (or a region):
//!
//! 1. the request's [`SigningOverride`] extension;
//! 2. its route: [`Route::service`], [`Route::region`] (for SigV4a, the route's region
//!    set, see the [presigning guide](super::presigning#sigv4a));
//! 3. the host it is signed for (the origin's for a CloudFront route), read with AWS's
//!    endpoint metadata (below);
//! 4. the builder: [`SigV4MiddlewareBuilder::service`] and
//!    [`SigV4MiddlewareBuilder::region`] (or the region of an `SdkConfig` given with
//!    [`sdk_config`](crate::SigV4MiddlewareBuilder::sdk_config));
//! 5. for the service, [`DEFAULT_SERVICE`] (`execute-api`), but only for a host that is
//!    not AWS's own (a custom domain, a CloudFront alias, a local stand-in): an AWS host
//!    (under `amazonaws.com`, `api.aws`, `on.aws`, …) whose service the table below does
//!    not know is never signed for a guessed service. A route with such a fixed host is
//!    [`ConfigError::UnknownAwsService`] at `build()`, a wildcard route's request
//!    [`Error::UnknownAwsService`], not sent; name the service with [`Route::service`].
//!    For the region, when the
//!    middleware takes its credentials from the default chain, `aws-config`'s default
//!    region chain (environment, profile, IMDS), asked once and only when a request needs
//!    it. With no region from any of these, the request fails with
//!    [`Error::MissingRegion`] and is not sent.
//!
//! A service name or region a credential scope cannot hold (empty, or with characters
//! other than ASCII letters, digits, `-`, `_` and `.`) is [`ConfigError::InvalidScope`] at
//! `build()`, or [`Error::InvalidScope`] for an override.
//!
//! ## Hosts the middleware recognizes
//!
//! The host table is botocore's endpoint metadata (each service's endpoint prefix and
//! signing name, every partition's DNS suffixes and global endpoints), plus the data planes
//! botocore does not describe:
//!
//! | Service | Hosts | What changes |
//! |---|---|---|
//! | `execute-api` (API Gateway) | `{id}.execute-api.{region}.amazonaws.com`, VPC endpoint names `vpce-….execute-api.{region}.vpce.amazonaws.com` | nothing: the SigV4 defaults |
//! | `lambda` (function URLs) | `{id}.lambda-url.{region}.on.aws` | nothing |
//! | `es` (OpenSearch) | `{domain}.{region}.es.amazonaws.com` | nothing |
//! | `aoss` (OpenSearch Serverless) | `{id}.{region}.aoss.amazonaws.com` | the body hash is also sent in `x-amz-content-sha256` |
//! | `vpc-lattice-svcs` | `{svc}.{id}.vpc-lattice-svcs.{region}.on.aws` | `UNSIGNED-PAYLOAD`: bodies stream without being buffered |
//! | `s3` | `{bucket}.s3.{region}.amazonaws.com`, `s3.{region}.amazonaws.com`, `s3.amazonaws.com` and `{bucket}.s3.amazonaws.com` (`us-east-1`), legacy `s3-{region}`, dual-stack, FIPS, access points, `s3-control` | see [S3](#s3) |
//! | `appsync` | `{id}.appsync-api.{region}.amazonaws.com`, `{id}.appsync-realtime-api.{region}.amazonaws.com` | nothing |
//! | `dsql` (Aurora DSQL) | `{id}.dsql.{region}.on.aws`, `dsql.{region}.api.aws` | nothing |
//! | the services in AWS's endpoint metadata | `{prefix}.{region}.amazonaws.com`, with its FIPS (`{prefix}-fips`), dual-stack (`.api.aws`), China (`.amazonaws.com.cn`) and other partitions' forms | signed with AWS's signing name where it differs from the host's prefix: `bedrock-runtime` → `bedrock`, `streams.dynamodb` → `dynamodb`, `email` → `ses`, `runtime.sagemaker` → `sagemaker`, `data-ats.iot` → `iotdata`, … |
//! | global endpoints | `iam.amazonaws.com`, `sts.amazonaws.com`, `route53.amazonaws.com`, `cloudfront.amazonaws.com`, … | the region AWS scopes them to (`us-east-1`; `cn-north-1` and `us-gov-west-1` in their partitions) |
//!
//! For any other host (your custom domain, a CloudFront alias, a proxy, a local stand-in)
//! set the service and region on the route or the builder.
//!
//! # What each service signs
//!
//! Every request signs `host`, `x-amz-date`, the session token when there is one, and its
//! own headers as the route's [`SignedHeaders`] says (see the
//! [topologies guide](super::topologies#which-headers-are-signed)). The query is decoded,
//! encoded again and sorted, a raw `+` read as a space. The rest follows the service:
//!
//! | Service | Payload hash, signed in headers | Payload hash, signed in the query | Path in the canonical request | `x-amz-content-sha256` |
//! |---|---|---|---|---|
//! | `execute-api`, `lambda`, `es`, and any service not below | SHA-256 of the body | SHA-256 of the body | normalized, encoded twice | not sent |
//! | `aoss` | SHA-256 of the body | SHA-256 of the body | normalized, encoded twice | sent (signed in headers) |
//! | `vpc-lattice-svcs` | `UNSIGNED-PAYLOAD` | `UNSIGNED-PAYLOAD` | normalized, encoded twice | sent (signed in headers) |
//! | `s3` | SHA-256 of the body, or `UNSIGNED-PAYLOAD` with [`Route::unsigned_payload`] | `UNSIGNED-PAYLOAD` (as S3 requires) | as sent, encoded once | sent on every request signed in headers |
//!
//! [`Route::unsigned_payload(true)`](crate::Route::unsigned_payload) signs
//! `UNSIGNED-PAYLOAD` on any route; API Gateway refuses it.
//!
//! # S3
//!
//! Virtual-hosted and path-style URLs both work; service and region come from the host:
//!
//! ```
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(Route::direct("https://my-bucket.s3.eu-west-1.amazonaws.com")) // virtual-hosted
//!     .route(Route::direct("https://s3.eu-west-1.amazonaws.com")) // path-style
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! ## Keys
//!
//! S3 keys are sent, signed and shown ([`SignedRequest`], 403 explanations) in one
//! spelling, the one the AWS SDKs use: each segment of the key decoded and written again
//! with every byte but `A-Z a-z 0-9 - . _ ~` percent-encoded. So `/photos/a+b (1).jpg` goes
//! out as `/photos/a%2Bb%20%281%29.jpg` (and `%7e` as `~`), and S3, which encodes again
//! the key it decoded, computes the canonical URI that was signed.
//!
//! - **A raw `+` in a key is a literal plus** (sent as `%2B`). For a space, write a space
//!   or `%20`.
//! - In an S3 *query*, a raw `+` is a space, as reqwest's `.query()` writes one (sent as
//!   `%20`); a literal plus there is `%2B`.
//! - An encoded slash (`%2F`) stays encoded: decoded, it could form a `.` or `..` segment
//!   that URL parsers remove. Write a plain `/` between key segments.
//! - Dot segments and double slashes in a key are kept as they are.
//!
//! ## Large uploads
//!
//! With [`Route::unsigned_payload(true)`](crate::Route::unsigned_payload) the body is
//! signed as `UNSIGNED-PAYLOAD`, so a multi-GiB file streams without being buffered or
//! hashed. The trade-off: the signature then covers the key and the headers but not the
//! bytes, which only TLS protects (S3 checks them only if you send a checksum header, such
//! as `Content-MD5` or `x-amz-checksum-sha256`). Send the length: S3 refuses chunked
//! uploads.
//!
//! ```no_run
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let bucket = "https://my-bucket.s3.eu-west-1.amazonaws.com";
//! let client = SigV4Middleware::builder()
//!     .route(Route::direct(bucket).unsigned_payload(true))
//!     .build()?
//!     .client()?;
//! let file = tokio::fs::File::open("backup.tar").await?;
//! let len = file.metadata().await?.len();
//! client
//!     .put(format!("{bucket}/backups/backup.tar"))
//!     .header("content-length", len)
//!     .body(reqwest::Body::from(file))
//!     .send()
//!     .await?
//!     .error_for_status()?;
//! # Ok(())
//! # }
//! ```
//!
//! To let a client with no AWS credentials upload one object, hand it a presigned `PUT`
//! URL: see the [presigning guide](super::presigning#s3-downloads-and-uploads).
//!
//! # Request bodies
//!
//! On a route that hashes bodies (every service but the unsigned-payload ones above):
//!
//! - An in-memory body (`.body(String)`, `.json(..)`, `Bytes`) is hashed where it lies,
//!   without a copy.
//! - A streaming body (`reqwest::Body::wrap_stream`, a file) is read up to
//!   [`body_limit`](crate::SigV4MiddlewareBuilder::body_limit) (default
//!   [`DEFAULT_BODY_LIMIT`], 32 MiB), hashed once, and sent from what was read. Chunks of
//!   16 KiB and more are kept as they arrived; smaller ones are copied into 64 KiB
//!   segments, so a buffered stream takes about its own size in memory whatever its chunk
//!   size. A larger stream fails with [`Error::BodyTooLarge`] (one whose size hint already
//!   says so, before any of it is read), a stream that fails while read with
//!   [`Error::BodyRead`]; nothing is sent in either case.
//!
//! On an unsigned-payload route a streaming body is not read by the middleware at all: it
//! streams straight to the connection, once. So it cannot be sent again: a redirect that
//! keeps the body (307, 308) is returned to you rather than followed, and a refusal that
//! would be retried (clock skew, a refused session token) is answered instead, with the
//! clock or the credentials still corrected for the requests that follow. An in-memory
//! body on such a route is kept (shared, not copied) and sent again whole.
//!
//! # One request for another service or region
//!
//! The [`SigningOverride`] extension signs one request for another service or region than
//! its route's, for an endpoint that serves several:
//!
//! ```no_run
//! # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> Result<(), reqwest_middleware::Error> {
//! use reqwest_sigv4::SigningOverride;
//!
//! client
//!     .get("https://abc123.execute-api.us-east-1.amazonaws.com/prod/x")
//!     .with_extension(SigningOverride::new().region("eu-west-1"))
//!     .send()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! [`SigningOverride`]: crate::SigningOverride
//! [`Route::service`]: crate::Route::service
//! [`Route::region`]: crate::Route::region
//! [`Route::unsigned_payload`]: crate::Route::unsigned_payload
//! [`SigV4MiddlewareBuilder::service`]: crate::SigV4MiddlewareBuilder::service
//! [`SigV4MiddlewareBuilder::region`]: crate::SigV4MiddlewareBuilder::region
//! [`DEFAULT_SERVICE`]: crate::DEFAULT_SERVICE
//! [`DEFAULT_BODY_LIMIT`]: crate::DEFAULT_BODY_LIMIT
//! [`Error::MissingRegion`]: crate::Error::MissingRegion
//! [`Error::InvalidScope`]: crate::Error::InvalidScope
//! [`Error::BodyTooLarge`]: crate::Error::BodyTooLarge
//! [`Error::BodyRead`]: crate::Error::BodyRead
//! [`ConfigError::InvalidScope`]: crate::ConfigError::InvalidScope
//! [`SignedHeaders`]: crate::SignedHeaders
//! [`SignedRequest`]: crate::SignedRequest
//! [`ConfigError::UnknownAwsService`]: crate::ConfigError::UnknownAwsService
//! [`Error::UnknownAwsService`]: crate::Error::UnknownAwsService
