//! Topologies and routes: which requests are signed, for which host and path, where they
//! are sent, and how redirects and retries go.
//!
//! SigV4 signs the host and path that the *verifying* service sees. When something between
//! your client and API Gateway changes either (CloudFront replacing the `Host` and putting
//! its origin path in front of the path, a proxy connecting to one name and asking for
//! another), a request signed for the URL you call is refused with
//! `403 The request signature we calculated does not match…`. A [`Route`] names the
//! topology, and the middleware signs for what the service will verify.
//!
//! # Routes
//!
//! One middleware carries any number of routes ([`SigV4MiddlewareBuilder::route`],
//! [`routes`](crate::SigV4MiddlewareBuilder::routes)). For each request:
//!
//! - The routes whose scheme, host, port and path prefix match its URL are candidates, and
//!   the most specific wins: an exact host over a `*.` wildcard, a longer path prefix over
//!   a shorter one.
//! - A request that no route matches is sent as it is, **unsigned**: credentials never
//!   reach a host you did not name. A request to a route's host that the route does not
//!   match (another scheme or port, a path outside its prefix) is sent unsigned too, and
//!   logged once at `WARN`, since that is usually a mistake in the URL or the route.
//! - A request a route matches but cannot place is refused rather than sent unsigned (see
//!   [CloudFront](#3-cloudfront-alias-in-front-of-an-api-gateway-origin) below).
//!
//! Route mistakes are found by [`build`](crate::SigV4MiddlewareBuilder::build), before the
//! first request: a URL that does not parse, is not `http` or `https`, or carries a query,
//! fragment or user info; an empty host; a CloudFront alias equal to its origin; two routes
//! matching exactly the same requests; a wildcard that is too broad (see the
//! [security guide](super::security)). Each is a [`ConfigError`].
//!
//! Service and region are inferred from AWS host names (`abc123.execute-api.us-east-1.amazonaws.com`
//! signs for `execute-api` in `us-east-1`); for other hosts set them on the route
//! ([`Route::service`], [`Route::region`]) or on the builder. The
//! [services guide](super::services) has the details.
//!
//! # 1. Direct
//!
//! The URL you call is the service's own endpoint: sign what is sent.
//!
//! ```
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .route(Route::direct("https://xyz.lambda-url.eu-west-1.on.aws")) // service `lambda`
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! AWS side: nothing special. With API Gateway the path includes the stage
//! (`/prod/items`).
//!
//! # 2. Custom domain
//!
//! An API Gateway custom domain name, called directly or through a CloudFront distribution
//! that forwards the viewer's `Host`:
//!
//! ```
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(Route::custom_domain("https://api.example.com").region("us-east-1"))
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! API Gateway verifies a custom-domain request against the custom domain name and the
//! path as sent (base path included), so this signs what is sent. The region cannot be
//! inferred from your domain: give it.
//!
//! AWS side: a custom domain name with a base path mapping to the stage. With CloudFront
//! in front, the distribution's alternate domain name must be the custom domain, and its
//! origin request policy must forward the viewer `Host` (`Managed-AllViewer`) as well as
//! `Authorization`, `X-Amz-Date`, `X-Amz-Security-Token` and the query string; caching off
//! (`Managed-CachingDisabled`).
//!
//! # 3. CloudFront alias in front of an API Gateway origin
//!
//! CloudFront sends the origin its own `Host` and puts the origin path (usually the stage)
//! in front of the request's path. Name both ends, and requests are sent to the alias and
//! signed for the origin:
//!
//! ```
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(
//!         Route::cloudfront(
//!             "https://www.example.com/api", // alias + behavior path pattern /api/*
//!             "https://abc123.execute-api.us-east-1.amazonaws.com/prod", // origin + origin path
//!         )
//!         // Also accept URLs written for the origin, and send them to the alias.
//!         .rewrite_origin_urls(true),
//!     )
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! `GET https://www.example.com/api/items?x=1` is sent to CloudFront and signed as
//! `GET https://abc123.execute-api.us-east-1.amazonaws.com/prod/api/items?x=1`: the origin
//! domain, with the origin path in front of the request's path (CloudFront does not remove
//! the behavior's path pattern). Only `host` and the `x-amz-*` headers are signed (the body
//! hash always is), because CloudFront rewrites `User-Agent`, `Accept-Encoding` and `Via`;
//! the `X-Amz-Cf-Id` it adds is not signed and does no harm.
//!
//! With [`Route::rewrite_origin_urls`], a URL written for the origin
//! (`https://abc123.execute-api…/prod/api/items`) is sent to the alias instead. The route
//! then claims the origin's host: a request there that no alias URL can reach (outside the
//! origin path, such as `/dev/x` for an origin at `/prod`, or outside the alias's path
//! prefix) is refused with [`Error::OutsideOriginPath`] or [`Error::Rewrite`], unless
//! another route matches it (a [`Route::direct`] for the origin signs it as it is). It is
//! never sent unsigned.
//!
//! AWS side:
//! - Origin: the API's execute-api domain; **origin path** = the stage (`/prod`).
//! - Behavior: origin request policy **`Managed-AllViewerExceptHostHeader`**: it forwards
//!   `Authorization`, `X-Amz-*` and the query string, but not `Host` (API Gateway needs
//!   its own). Cache policy `Managed-CachingDisabled`. Allowed methods: all seven.
//! - Not the legacy cache settings: with no origin request policy, CloudFront drops
//!   `Authorization` and API Gateway answers `Missing Authentication Token`.
//! - No body on `GET` or `HEAD`: CloudFront refuses those itself.
//!
//! # 4. Host override: private APIs through a VPC endpoint, proxies
//!
//! Connect to one name, send and sign another `Host`:
//!
//! ```
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(Route::host_override(
//!         "https://vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com",
//!         "abc123.execute-api.us-east-1.amazonaws.com",
//!     ))
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! The connection goes to the VPC endpoint's name; `Host: abc123.execute-api…` is sent and
//! signed. AWS side: a private API whose resource policy allows the VPC endpoint
//! (`aws:SourceVpce`).
//!
//! ## Private APIs without a host rewrite: `x-apigw-api-id`
//!
//! A private REST API can also be called at the interface VPC endpoint's own DNS name,
//! naming the API in an `x-apigw-api-id` header. API Gateway then verifies the signature
//! for the `Host` it received, the endpoint's name, so a direct route does it (service
//! `execute-api` and the region are inferred from the `vpce` name):
//!
//! ```no_run
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let vpce = "https://vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com";
//! let client = SigV4Middleware::builder()
//!     .route(Route::direct(vpce))
//!     .build()?
//!     .client()?;
//! let response = client
//!     .get(format!("{vpce}/prod/items"))
//!     .header("x-apigw-api-id", "abc123") // signed with the rest of the request
//!     .send()
//!     .await?;
//! # drop(response);
//! # Ok(())
//! # }
//! ```
//!
//! Without the header API Gateway answers a bare `Forbidden` (explained as
//! [`Cause::Forbidden`]). Which to use: the header when the endpoint has private DNS off or
//! you call several APIs through one endpoint name; [`Route::host_override`] when a proxy or
//! a policy needs the execute-api `Host`.
//!
//! # Which headers are signed
//!
//! Every header that is signed must reach the verifier byte for byte. [`SignedHeaders`]
//! chooses, per route ([`Route::signed_headers`]):
//!
//! - [`SignedHeaders::All`] (the default but for CloudFront routes): every header on the
//!   request when the middleware sees it, except the signature's own and those that
//!   proxies and the HTTP stack add, drop or rewrite (`user-agent`, `connection`,
//!   `keep-alive`, `te`, `trailer`, `transfer-encoding`, `upgrade`, `via`, `expect`,
//!   `proxy-*`, `x-forwarded-*`, `x-amzn-trace-id`).
//! - [`SignedHeaders::HostAndAmzOnly`] (the default for CloudFront routes): `host` and
//!   `x-amz-*` only.
//! - [`SignedHeaders::HostAndAmzPlus`]: those, and the headers you name.
//!
//! Headers that reqwest adds below the middleware (the client's default headers,
//! `content-length`) are not on the request when it is signed, and travel unsigned.
//!
//! ```
//! use reqwest_sigv4::{Route, SignedHeaders};
//!
//! // Through a proxy that rewrites everything but these.
//! let route = Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com")
//!     .signed_headers(SignedHeaders::HostAndAmzPlus(vec!["content-type".into()]));
//! # drop(route);
//! ```
//!
//! # Leaving one request unsigned
//!
//! A request with the [`SkipSigning`] extension is passed on untouched, whatever route it
//! matches (a health check, a public path). [`SigningOverride`] signs one request for
//! another service or region than its route's (see the [services guide](super::services)).
//!
//! ```no_run
//! # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> Result<(), reqwest_middleware::Error> {
//! use reqwest_sigv4::SkipSigning;
//!
//! client
//!     .get("https://abc123.execute-api.us-east-1.amazonaws.com/prod/health")
//!     .with_extension(SkipSigning)
//!     .send()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # The client: redirects
//!
//! reqwest follows redirects inside its client, below any middleware, and carries
//! `X-Amz-Security-Token` and `X-Amz-Date` to the new host (it strips only
//! `Authorization`). So the middleware follows redirects itself, and the client under it
//! must not:
//!
//! - Build the client with [`SigV4Middleware::client`] or
//!   [`client_with`](crate::SigV4Middleware::client_with) (redirects off, whatever the builder
//!   said), or with `redirect(reqwest::redirect::Policy::none())` yourself.
//! - The middleware then follows up to 10 redirects ([`RedirectPolicy`],
//!   [`SigV4MiddlewareBuilder::redirects`]): each hop that stays on a route is signed
//!   afresh for its own URL, and a hop that leaves the routes is sent with every signing
//!   header removed ([`CrossRouteRedirect::FollowUnsigned`]), or not followed at all
//!   ([`CrossRouteRedirect::Stop`]: the 3xx comes back to you). A hop to another origin
//!   also loses `Authorization`, cookies and `Host`, as with reqwest.
//! - A client that follows redirects itself is caught: a signed request answered from
//!   another URL than it was sent to fails with [`Error::ClientFollowedRedirect`], which
//!   names the fix, instead of returning the redirected response as a success. By then the
//!   other host has seen the request: the error is there to make the mistake loud in
//!   testing.
//!
//! ```
//! use reqwest_sigv4::{CrossRouteRedirect, RedirectPolicy, Route, SigV4Middleware};
//!
//! let signer = SigV4Middleware::builder()
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .redirects(RedirectPolicy::limited(3).cross_route(CrossRouteRedirect::Stop))
//!     .build()?;
//! # drop(signer);
//! # Ok::<(), reqwest_sigv4::ConfigError>(())
//! ```
//!
//! # The client: retries and other middleware
//!
//! Put the signer **after** a retry middleware such as `reqwest-retry`, so that each
//! attempt passes through the signer and carries a fresh `X-Amz-Date` and signature. The
//! reqwest client under the stack still needs its redirects off:
//!
//! ```no_run
//! use reqwest_retry::{policies::ExponentialBackoff, RetryTransientMiddleware};
//! use reqwest_sigv4::{Route, SigV4Middleware};
//!
//! # fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let signer = SigV4Middleware::builder()
//!     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
//!     .build()?;
//! let retries = ExponentialBackoff::builder().build_with_max_retries(3);
//! let client = reqwest_middleware::ClientBuilder::new(
//!     reqwest::Client::builder()
//!         .redirect(reqwest::redirect::Policy::none())
//!         .build()?,
//! )
//! .with(RetryTransientMiddleware::new_with_policy(retries))
//! .with(signer)
//! .build();
//! # drop(client);
//! # Ok(())
//! # }
//! ```
//!
//! reqwest-retry's default strategy takes every middleware error for fatal. With the
//! `retry` feature, `SigV4RetryableStrategy` (use it with
//! `RetryTransientMiddleware::new_with_policy_and_strategy`) also retries the signer's
//! transient errors ([`Error::is_transient`]: a credentials provider that timed out or
//! failed, before anything was sent) and leaves the rest to reqwest-retry's default.
//!
//! Behind `reqwest-retry`, the crate's errors arrive wrapped in its `RetryError`:
//! [`Error::from_middleware`] shows how to reach them. Two retries happen inside the
//! signer itself, once each per request: after a `Signature expired` answer (the clock is
//! corrected; see the [troubleshooting guide](super::troubleshooting)) and after a refused
//! session token (the credentials are reloaded; see the
//! [credentials guide](super::credentials)).
//!
//! In a service, build the client once and share it: it holds the credentials cache, the
//! learned clock offsets and the connections.
//!
//! [`Route`]: crate::Route
//! [`Route::direct`]: crate::Route::direct
//! [`Route::service`]: crate::Route::service
//! [`Route::region`]: crate::Route::region
//! [`Route::rewrite_origin_urls`]: crate::Route::rewrite_origin_urls
//! [`Route::host_override`]: crate::Route::host_override
//! [`Route::signed_headers`]: crate::Route::signed_headers
//! [`SignedHeaders`]: crate::SignedHeaders
//! [`SignedHeaders::All`]: crate::SignedHeaders::All
//! [`SignedHeaders::HostAndAmzOnly`]: crate::SignedHeaders::HostAndAmzOnly
//! [`SignedHeaders::HostAndAmzPlus`]: crate::SignedHeaders::HostAndAmzPlus
//! [`SigV4MiddlewareBuilder::route`]: crate::SigV4MiddlewareBuilder::route
//! [`SigV4MiddlewareBuilder::redirects`]: crate::SigV4MiddlewareBuilder::redirects
//! [`SigV4Middleware::client`]: crate::SigV4Middleware::client
//! [`ConfigError`]: crate::ConfigError
//! [`Error::OutsideOriginPath`]: crate::Error::OutsideOriginPath
//! [`Error::Rewrite`]: crate::Error::Rewrite
//! [`Error::ClientFollowedRedirect`]: crate::Error::ClientFollowedRedirect
//! [`Error::from_middleware`]: crate::Error::from_middleware
//! [`Cause::Forbidden`]: crate::Cause::Forbidden
//! [`SkipSigning`]: crate::SkipSigning
//! [`SigningOverride`]: crate::SigningOverride
//! [`RedirectPolicy`]: crate::RedirectPolicy
//! [`CrossRouteRedirect::FollowUnsigned`]: crate::CrossRouteRedirect::FollowUnsigned
//! [`CrossRouteRedirect::Stop`]: crate::CrossRouteRedirect::Stop
//! [`Error::is_transient`]: crate::Error::is_transient
