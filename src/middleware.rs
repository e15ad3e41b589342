//! The middleware: [`SigV4Middleware`], its builder, and the per-request controls.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use http::{Extensions, HeaderValue, Method, StatusCode};
use reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next};

use crate::body::{PreparedBody, DEFAULT_BODY_LIMIT};
use crate::clock::{Clock, ClockOffsets, SharedClock, SystemClock};
use crate::credentials::{
    CredentialsCache, Source, DEFAULT_PROVIDER_TIMEOUT, DEFAULT_REFRESH_AHEAD,
};
use crate::diagnostics::{self, Inspected};
use crate::error::{ConfigError, Error, InvalidSetting};
use crate::presign::PresignedUrl;
use crate::route::{validate_scope, CompiledRoute, Resolved, Route, RouteTable};
use crate::signing::{
    sign_request, strip_query_signature, Placement, ServiceProfile, SignedRequest, ToSign,
    SIGNATURE_HEADERS,
};
use crate::wire::{redact_error, Redacted};

/// The service signed for when neither the route, the host nor the builder names one.
pub const DEFAULT_SERVICE: &str = "execute-api";

/// How long reading a 403 body may hold up the caller by default; see
/// [`SigV4MiddlewareBuilder::inspect_403_deadline`].
pub const DEFAULT_INSPECT_DEADLINE: Duration = Duration::from_millis(500);

/// Per-request extension: do not sign this request, whatever route it matches.
///
/// ```
/// # async fn demo(client: reqwest_middleware::ClientWithMiddleware) {
/// let _ = client
///     .get("https://abc123.execute-api.us-east-1.amazonaws.com/prod/health")
///     .with_extension(reqwest_sigv4::SkipSigning)
///     .send()
///     .await;
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkipSigning;

/// Per-request extension: sign this request for another service or region than its route's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigningOverride {
    /// Service name to sign for.
    pub service: Option<String>,
    /// Region to sign for.
    pub region: Option<String>,
}

impl SigningOverride {
    /// No override; set fields with [`service`](Self::service) and [`region`](Self::region).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sign for this service.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Sign for this region.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
}

/// What to do with a redirect whose target matches no route.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CrossRouteRedirect {
    /// Follow it with every signing header removed (the default).
    #[default]
    FollowUnsigned,
    /// Do not follow it: the 3xx response is returned to the caller.
    Stop,
}

/// How the middleware follows redirects.
///
/// reqwest follows redirects inside its client, below the middleware, so a redirected
/// request would keep a signature made for the old URL and carry `X-Amz-Security-Token`
/// to whatever host it is sent to. Build the client with
/// `redirect(reqwest::redirect::Policy::none())` and let the middleware follow them: each
/// hop that stays on a route is signed afresh, and no hop off the routes carries a
/// signing header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RedirectPolicy {
    /// Most redirects followed for one request (0 turns following off).
    pub max_redirects: usize,
    /// What to do with a redirect that leaves the configured routes.
    pub cross_route: CrossRouteRedirect,
}

impl Default for RedirectPolicy {
    fn default() -> Self {
        Self {
            max_redirects: 10,
            cross_route: CrossRouteRedirect::FollowUnsigned,
        }
    }
}

impl RedirectPolicy {
    /// Never follow: every 3xx goes back to the caller.
    pub fn none() -> Self {
        Self {
            max_redirects: 0,
            ..Self::default()
        }
    }

    /// Follow up to `max` redirects.
    pub fn limited(max: usize) -> Self {
        Self {
            max_redirects: max,
            ..Self::default()
        }
    }

    /// Set what happens to a redirect that leaves the configured routes.
    pub fn cross_route(mut self, cross_route: CrossRouteRedirect) -> Self {
        self.cross_route = cross_route;
        self
    }
}

/// A `reqwest-middleware` middleware that signs requests with AWS SigV4.
///
/// Build one with [`SigV4Middleware::builder`]; see the [crate docs](crate) for a tour.
#[derive(Clone)]
pub struct SigV4Middleware {
    inner: Arc<Shared>,
}

impl fmt::Debug for SigV4Middleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Middleware")
            .field("routes", &self.inner.routes)
            .field("service", &self.inner.service)
            .field("region", &self.inner.region)
            .field("body_limit", &self.inner.body_limit)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

struct Shared {
    routes: RouteTable,
    credentials: CredentialsCache,
    /// The caches of routes with credentials of their own, one per source.
    route_credentials: Vec<(Source, CredentialsCache)>,
    service: Option<String>,
    region: Option<String>,
    #[cfg(feature = "aws-config")]
    default_chain: Option<Arc<crate::credentials::DefaultChain>>,
    body_limit: usize,
    clock: SharedClock,
    offsets: ClockOffsets,
    max_clock_correction: Option<Duration>,
    redirects: RedirectPolicy,
    explain_403: bool,
    inspect_deadline: Duration,
}

/// Builds a [`SigV4Middleware`].
#[must_use]
pub struct SigV4MiddlewareBuilder {
    routes: Vec<Route>,
    provider: Option<SharedCredentialsProvider>,
    /// What the provider is, for the credentials cache's logs.
    provider_name: &'static str,
    static_keys_empty: bool,
    /// Assume this role with the provider's credentials, and sign with the role's.
    #[cfg(feature = "aws-config")]
    assume_role: Option<crate::AssumeRole>,
    service: Option<String>,
    region: Option<String>,
    body_limit: usize,
    clock: SharedClock,
    refresh_ahead: Duration,
    provider_timeout: Duration,
    max_clock_correction: Option<Duration>,
    redirects: RedirectPolicy,
    explain_403: bool,
    inspect_deadline: Duration,
}

impl fmt::Debug for SigV4MiddlewareBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4MiddlewareBuilder")
            .field("routes", &self.routes)
            .field("provider", &self.provider)
            .field("service", &self.service)
            .field("region", &self.region)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl Default for SigV4MiddlewareBuilder {
    fn default() -> Self {
        Self {
            routes: Vec::new(),
            provider: None,
            provider_name: "aws-config default chain",
            static_keys_empty: false,
            #[cfg(feature = "aws-config")]
            assume_role: None,
            service: None,
            region: None,
            body_limit: DEFAULT_BODY_LIMIT,
            clock: Arc::new(SystemClock),
            refresh_ahead: DEFAULT_REFRESH_AHEAD,
            provider_timeout: DEFAULT_PROVIDER_TIMEOUT,
            max_clock_correction: Some(Duration::from_secs(24 * 60 * 60)),
            redirects: RedirectPolicy::default(),
            explain_403: true,
            inspect_deadline: DEFAULT_INSPECT_DEADLINE,
        }
    }
}

impl SigV4MiddlewareBuilder {
    /// Sign requests that match `route`. Add as many as needed; the most specific wins.
    pub fn route(mut self, route: Route) -> Self {
        self.routes.push(route);
        self
    }

    /// Sign requests that match any of `routes`.
    pub fn routes(mut self, routes: impl IntoIterator<Item = Route>) -> Self {
        self.routes.extend(routes);
        self
    }

    /// Take credentials from `provider` (cached by the middleware; see
    /// [`credentials_refresh_ahead`](Self::credentials_refresh_ahead)).
    pub fn credentials_provider<P: ProvideCredentials + 'static>(mut self, provider: P) -> Self {
        self.provider = Some(SharedCredentialsProvider::new(provider));
        self.provider_name = std::any::type_name::<P>();
        self.static_keys_empty = false;
        self
    }

    /// Sign with fixed credentials.
    pub fn static_credentials(mut self, credentials: aws_credential_types::Credentials) -> Self {
        self.static_keys_empty =
            credentials.access_key_id().is_empty() || credentials.secret_access_key().is_empty();
        self.provider = Some(SharedCredentialsProvider::new(credentials));
        self.provider_name = "static credentials";
        self
    }

    /// Take the credentials provider and the default region from an `aws-config`
    /// [`SdkConfig`](aws_config::SdkConfig).
    #[cfg(feature = "aws-config")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
    pub fn sdk_config(mut self, config: &aws_config::SdkConfig) -> Self {
        if let Some(provider) = config.credentials_provider() {
            self.provider = Some(provider);
            self.provider_name = "SdkConfig credentials provider";
            self.static_keys_empty = false;
        }
        if self.region.is_none() {
            self.region = config.region().map(|r| r.to_string());
        }
        self
    }

    /// Sign every route's requests (but those with credentials of their own) with the
    /// credentials of `role`, assumed with STS by the credentials configured here (a
    /// provider, static keys, an `SdkConfig`, or the default chain). Routes that
    /// [`assume_role`](Route::assume_role) themselves use these same credentials to call
    /// STS.
    #[cfg(feature = "aws-config")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
    pub fn assume_role(mut self, role: impl Into<crate::AssumeRole>) -> Self {
        self.assume_role = Some(role.into());
        self
    }

    /// The service to sign for when a route names none and its host does not tell
    /// (default [`DEFAULT_SERVICE`]).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// The region to sign for when a route names none and its host does not tell.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Most bytes of a streaming body buffered for hashing (default 32 MiB). A larger body
    /// fails with [`Error::BodyTooLarge`] and is not sent.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The clock signatures are dated by (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Refresh credentials in the background this long before they expire (default 5
    /// minutes), but never more than half the lifetime they had on arrival, and up to a
    /// quarter of that window later by jitter. See the README's "Credentials" section for
    /// when the provider is called.
    pub fn credentials_refresh_ahead(mut self, ahead: Duration) -> Self {
        self.refresh_ahead = ahead;
        self
    }

    /// Fail a request whose credentials provider takes longer than this (default 10 s).
    pub fn credentials_timeout(mut self, timeout: Duration) -> Self {
        self.provider_timeout = timeout;
        self
    }

    /// When API Gateway answers `Signature expired` or `Signature not yet current`, learn
    /// the offset from its `Date` header, re-sign and retry once, and date later requests
    /// by it, if the offset is at most `max` (default one day). `None` turns this off.
    pub fn clock_skew_correction(mut self, max: Option<Duration>) -> Self {
        self.max_clock_correction = max;
        self
    }

    /// How redirects are followed (default: up to 10, unsigned off the routes).
    pub fn redirects(mut self, policy: RedirectPolicy) -> Self {
        self.redirects = policy;
        self
    }

    /// Whether a 403 from the verifier is explained in a [`Explanation`](crate::Explanation)
    /// response extension and a `warn` log line (default on).
    pub fn explain_403(mut self, yes: bool) -> Self {
        self.explain_403 = yes;
        self
    }

    /// How long `send()` may wait for the body of a 403 from a signed route before
    /// returning (default [`DEFAULT_INSPECT_DEADLINE`], half a second). The body is read to
    /// explain the refusal and to correct a skewed clock, up to 64 KiB: a larger body, or
    /// one still arriving at the deadline, is handed back whole and unread beyond what
    /// arrived, and a body that fails is handed back with its error. A 403 to a request no
    /// route matches is never read.
    pub fn inspect_403_deadline(mut self, deadline: Duration) -> Self {
        self.inspect_deadline = deadline;
        self
    }

    /// Checks the configuration and builds the middleware.
    ///
    /// # Errors
    ///
    /// A [`ConfigError`] for the first mistake found: no route
    /// ([`NoRoutes`](ConfigError::NoRoutes)); a route URL that cannot be parsed, has another
    /// scheme, no host, a query or user info, or a wildcard too broad; two routes matching
    /// the same requests; a service, region or presigned validity SigV4 cannot take; static
    /// credentials with an empty key; no credentials provider without the `aws-config`
    /// feature. [`ConfigError::kind`] sorts them.
    pub fn build(self) -> Result<SigV4Middleware, ConfigError> {
        if self.routes.is_empty() {
            return Err(ConfigError::NoRoutes);
        }
        let routes = RouteTable::compile(&self.routes)?;
        for (what, value) in [("service", &self.service), ("region", &self.region)] {
            if let Some(v) = value {
                validate_scope(what, v)?;
            }
        }
        if self.static_keys_empty {
            return Err(ConfigError::EmptyCredentials);
        }
        #[cfg(feature = "aws-config")]
        let mut default_chain = None;
        let provider = match self.provider {
            Some(p) => p,
            #[cfg(feature = "aws-config")]
            None => {
                let known_region = self
                    .region
                    .clone()
                    .or_else(|| self.routes.iter().find_map(Route::named_region));
                let chain = crate::credentials::DefaultChain::shared(known_region.as_deref());
                default_chain = Some(chain.clone());
                SharedCredentialsProvider::new(crate::credentials::DefaultChainProvider(chain))
            }
            #[cfg(not(feature = "aws-config"))]
            None => return Err(ConfigError::NoCredentials),
        };
        let cache = |(provider, name)| {
            CredentialsCache::new(
                provider,
                name,
                self.refresh_ahead,
                self.provider_timeout,
                self.clock.clone(),
            )
        };
        let mut route_credentials: Vec<(Source, CredentialsCache)> = Vec::new();
        for (source, region) in self.routes.iter().filter_map(Route::credentials_source) {
            if !route_credentials.iter().any(|(s, _)| s == source) {
                let built = source.build(&provider, region.or(self.region.as_deref()));
                route_credentials.push((source.clone(), cache(built)));
            }
        }
        #[cfg(feature = "aws-config")]
        let (provider, provider_name) = match &self.assume_role {
            Some(role) => (
                role.provider(provider, self.region.as_deref()),
                "assume role",
            ),
            None => (provider, self.provider_name),
        };
        #[cfg(not(feature = "aws-config"))]
        let provider_name = self.provider_name;
        let credentials = cache((provider, provider_name));
        Ok(SigV4Middleware {
            inner: Arc::new(Shared {
                routes,
                credentials,
                route_credentials,
                service: self.service,
                region: self.region,
                #[cfg(feature = "aws-config")]
                default_chain,
                body_limit: self.body_limit,
                clock: self.clock,
                offsets: ClockOffsets::default(),
                max_clock_correction: self.max_clock_correction,
                redirects: self.redirects,
                explain_403: self.explain_403,
                inspect_deadline: self.inspect_deadline,
            }),
        })
    }
}

impl SigV4Middleware {
    /// A builder with the defaults: default credentials chain (feature `aws-config`),
    /// 32 MiB body limit, system clock, clock-skew correction and redirect following on.
    pub fn builder() -> SigV4MiddlewareBuilder {
        SigV4MiddlewareBuilder::default()
    }

    /// A presigned URL for `request`: the signature in the query string, valid for
    /// `expires_in` (at least one second, at most 7 days; `X-Amz-Expires` counts whole
    /// seconds, so a fraction is dropped), for the route the request's URL matches — a
    /// CloudFront alias URL is presigned for its origin like any request. Only `host` is
    /// signed, so whoever uses the URL needs no other header. The body (if any) is hashed
    /// into it, except for S3, whose presigned URLs sign `UNSIGNED-PAYLOAD` (the uploader
    /// of a presigned PUT chooses the bytes). Uses: API Gateway WebSocket `$connect` with
    /// IAM auth, S3 downloads and uploads, handing a URL to another process.
    ///
    /// Signed with temporary credentials, the URL carries their session token and stops
    /// working when that token expires, whatever `expires_in` says:
    /// [`PresignedUrl::expires_at`](crate::PresignedUrl::expires_at) is the earlier of the
    /// two. The URL is a secret (anyone holding it can make the request): `PresignedUrl`'s
    /// `Debug` leaves its query out.
    ///
    /// ```no_run
    /// # async fn demo(signer: reqwest_sigv4::SigV4Middleware) -> Result<(), reqwest_sigv4::Error> {
    /// // A WebSocket API's $connect: presign the https form, connect with wss://.
    /// let url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod".parse().unwrap();
    /// let request = reqwest::Request::new(reqwest::Method::GET, url);
    /// let presigned = signer.presign(&request, std::time::Duration::from_secs(300)).await?;
    /// println!("valid until {:?}: {}", presigned.expires_at(), presigned.as_str());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidExpiry`] for a validity outside one second to 7 days;
    /// [`Error::NoRoute`] when no route matches the URL (nothing to presign it for) and
    /// [`Error::Rewrite`] when routes match it but none can place it;
    /// [`Error::StreamingBodyNotPresignable`] for a streaming body and
    /// [`Error::PayloadHashNotPresignable`] for a body hash S3 would not check; a
    /// credentials error ([`ErrorKind::Credentials`](crate::ErrorKind::Credentials)) when no
    /// usable credentials can be had; the errors of signing a request
    /// ([`Error::MissingRegion`], [`Error::UnsignableQuery`], [`Error::Signing`]).
    pub async fn presign(
        &self,
        request: &Request,
        expires_in: Duration,
    ) -> Result<PresignedUrl, Error> {
        InvalidSetting::check_expiry(expires_in)?;
        let mut bare = Request::new(request.method().clone(), request.url().clone());
        let mut plan = self
            .inner
            .plan_request(&mut bare, None)
            .await?
            .ok_or_else(|| Error::NoRoute {
                url: Redacted(request.url()).to_string(),
            })?;
        plan.presign = Some(expires_in);
        // S3 verifies a presigned URL over UNSIGNED-PAYLOAD. A route that asked for a body
        // hash keeps it, and signing refuses it if there is a body to protect.
        let unsigned = plan.unsigned_payload
            || (plan.resolved.route.unsigned_payload.is_none()
                && ServiceProfile::of(&plan.service).presigned_unsigned_payload);
        let body = if unsigned {
            PreparedBody::unsigned()
        } else {
            match request.body() {
                None => PreparedBody::empty(),
                Some(b) => match b.as_bytes() {
                    Some(bytes) => PreparedBody::of_bytes(bytes),
                    None => return Err(Error::StreamingBodyNotPresignable),
                },
            }
        };
        // Read before signing: if a refresh lands in between, the URL is signed with newer
        // credentials, which expire no earlier than these, so the expiry reported is never
        // later than the real one.
        let credentials = self.inner.cache_for(plan.resolved.route).get().await?;
        let signed = self.inner.apply(Some(plan), &mut bare, &body).await?;
        let signed_at = signed
            .as_ref()
            .and_then(|s| crate::canonical::parse_amz_date(s.amz_date()))
            .ok_or_else(|| Error::Signing("the presigned URL carries no signing time".into()))?;
        Ok(PresignedUrl::new(
            bare.url().clone(),
            signed_at,
            expires_in,
            credentials.expiry,
            credentials.signing.has_session_token(),
        ))
    }

    /// A client with this middleware in its stack, over a reqwest client with reqwest's
    /// defaults and its redirects off: the middleware follows redirects itself, signs each
    /// hop that stays on a route for its own URL, and sends none of the signing headers to
    /// a hop that leaves them ([`RedirectPolicy`]).
    ///
    /// To stack other middleware (retries go before the signer, so that each attempt is
    /// signed afresh), build the reqwest client with
    /// `redirect(reqwest::redirect::Policy::none())` and use
    /// `reqwest_middleware::ClientBuilder` directly.
    ///
    /// Fails as `reqwest::ClientBuilder::build` does (no TLS backend, unreadable resolver
    /// configuration).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use reqwest_sigv4::{Route, SigV4Middleware};
    /// let client = SigV4Middleware::builder()
    ///     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
    ///     .build()?
    ///     .client()?;
    /// let response = client
    ///     .get("https://abc123.execute-api.us-east-1.amazonaws.com/prod/items")
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// reqwest's error when it cannot build its client (its TLS backend or the system's
    /// DNS resolver failed to start).
    pub fn client(self) -> Result<reqwest_middleware::ClientWithMiddleware, reqwest::Error> {
        self.client_with(reqwest::Client::builder())
    }

    /// Like [`client`](Self::client), over a reqwest client made by `builder` (timeouts,
    /// TLS, proxies…) with its redirects turned off, whatever `builder` said.
    ///
    /// # Errors
    ///
    /// reqwest's error when `builder` cannot build a client (an invalid TLS or proxy
    /// setting, or a backend that failed to start).
    pub fn client_with(
        self,
        builder: reqwest::ClientBuilder,
    ) -> Result<reqwest_middleware::ClientWithMiddleware, reqwest::Error> {
        let client = builder
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(reqwest_middleware::ClientBuilder::new(client)
            .with(self)
            .build())
    }

    /// The offset most recently learned from a verifier's clock, in milliseconds, whichever
    /// host taught it (0 until a `Signature expired` answer taught one). Offsets are
    /// learned and applied per signing host: see
    /// [`clock_offset_millis_for`](Self::clock_offset_millis_for).
    pub fn clock_offset_millis(&self) -> i64 {
        self.inner.offsets.latest()
    }

    /// The offset learned from the clock of the verifier at `host` (the host signed for, as
    /// [`SignedRequest::host`] shows it), in milliseconds; `None` until that host's
    /// `Signature expired` or `Signature not yet current` answer taught one. Requests
    /// signed for `host` are dated by it; no other host's are.
    pub fn clock_offset_millis_for(&self, host: &str) -> Option<i64> {
        self.inner.offsets.get(host)
    }
}

#[async_trait::async_trait]
impl Middleware for SigV4Middleware {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        if extensions.get::<SkipSigning>().is_some() {
            return next.run(req, extensions).await;
        }
        if !self.inner.routes.matches(req.url()) {
            tracing::trace!(url = %Redacted(req.url()), "no route matches: sent unsigned");
            self.inner.routes.warn_near_miss(req.url());
            let response = next.run(req, extensions).await.map_err(redact_error)?;
            return Ok(self.inner.explain_unsigned(response));
        }
        let overrides = extensions.get::<SigningOverride>().cloned();
        self.inner.send(req, extensions, next, overrides).await
    }
}

/// Where and how one request is signed: its route resolved and its scope decided.
struct Plan<'a> {
    resolved: Resolved<'a>,
    service: Cow<'static, str>,
    region: Arc<str>,
    unsigned_payload: bool,
    /// Sign in the query for this long, whatever the route says (presigning).
    presign: Option<Duration>,
}

impl Shared {
    async fn send(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
        overrides: Option<SigningOverride>,
    ) -> reqwest_middleware::Result<Response> {
        let mut plan = self.plan_request(&mut req, overrides.as_ref()).await?;
        let mut body = match &plan {
            Some(p) if p.unsigned_payload => PreparedBody::unsigned(),
            _ => PreparedBody::prepare(&mut req, self.body_limit).await?,
        };
        let mut clock_retried = false;
        let mut token_retried = false;
        let mut redirects = 0;
        loop {
            if let Some(p) = &plan {
                if !p.unsigned_payload && body.is_unsigned() {
                    // A redirect from a route that does not hash bodies to one that does.
                    body = PreparedBody::prepare(&mut req, self.body_limit).await?;
                }
            }
            let can_retry = plan.is_some() && self.max_clock_correction.is_some() && !clock_retried;
            // The cache the request is signed from, kept to forget a refused session token.
            let reload_from = plan
                .as_ref()
                .filter(|_| !token_retried)
                .map(|p| self.cache_for(p.resolved.route).clone());
            let keep_copy =
                can_retry || reload_from.is_some() || self.redirects.max_redirects > redirects;
            // Copied before signing: a retry or redirect signs afresh anyway, and the copy
            // is cheaper without the signature's headers.
            let copy = if keep_copy {
                body.clone_request(&mut req)
            } else {
                None
            };
            let signed = self.apply(plan.take(), &mut req, &body).await?;
            // Only a signed request can carry a signature somewhere it does not belong.
            let sent = signed.as_ref().map(|_| req.url().clone());
            let response = next
                .clone()
                .run(req, extensions)
                .await
                .map_err(redact_error)?;
            if let Some(sent) = &sent {
                check_not_redirected(sent, response.url())?;
            }

            if response.status() == StatusCode::FORBIDDEN {
                let Some(signed) = signed else {
                    return Ok(response);
                };
                // Read only for a use: an explanation or a clock correction.
                let (mut response, inspected) =
                    if self.explain_403 || can_retry || (reload_from.is_some() && copy.is_some()) {
                        Box::pin(diagnostics::inspect_403(response, self.inspect_deadline)).await
                    } else {
                        (response, Inspected::default())
                    };
                let copy = match (copy, reload_from) {
                    (Some(copy), Some(cache)) if inspected.security_token_refused() => {
                        match Self::reload_refused(&cache, &signed).await {
                            true => {
                                token_retried = true;
                                req = copy;
                                plan = self.plan_request(&mut req, overrides.as_ref()).await?;
                                continue;
                            }
                            false => Some(copy),
                        }
                    }
                    (copy, _) => copy,
                };
                if let (Some(copy), Some(offset)) = (
                    copy,
                    self.clock_correction(&inspected, signed.host(), can_retry),
                ) {
                    tracing::warn!(offset_ms = offset, host = signed.host(), "the verifier's clock differs from ours: re-signing with its time and retrying once");
                    self.offsets.set(signed.host(), offset);
                    clock_retried = true;
                    req = copy;
                    plan = self.plan_request(&mut req, overrides.as_ref()).await?;
                    continue;
                }
                if self.explain_403 {
                    self.attach_explanation(&mut response, &inspected, Some(&signed));
                }
                return Ok(attach(response, Some(signed)));
            }

            let Some(copy) = copy else {
                return Ok(attach(response, signed));
            };
            match self.redirect_target(&response, copy, redirects) {
                Some((next_req, next_body)) => {
                    redirects += 1;
                    req = next_req;
                    if let Some(b) = next_body {
                        body = b;
                    }
                    plan = self.plan_request(&mut req, overrides.as_ref()).await?;
                }
                None => return Ok(attach(response, signed)),
            }
        }
    }

    /// After the verifier refused the session token `signed` carried (expired, or revoked
    /// by a rotation): forgets those credentials and asks the provider again. Whether the
    /// request is worth retrying: only with other credentials than the refused ones.
    async fn reload_refused(cache: &CredentialsCache, signed: &SignedRequest) -> bool {
        let refused = signed.access_key_id();
        cache.invalidate(refused);
        match cache.get().await {
            Ok(fresh) if fresh.access_key_id() != refused => {
                tracing::warn!(
                    provider = cache.provider_name(),
                    "the verifier refused the session token: re-signing with reloaded credentials and retrying once"
                );
                true
            }
            // The provider had nothing newer, or failed (the cache logged why): the refusal
            // is explained to the caller.
            _ => false,
        }
    }

    /// Explains a 403 to a request no route matched, when it is API Gateway's
    /// `Missing Authentication Token` (the usual sign of a forgotten route).
    fn explain_unsigned(&self, mut response: Response) -> Response {
        // Told by the head alone: the middleware never reads the body of traffic it did not
        // sign, so a slow or broken answer costs the caller nothing it would not pay anyway.
        if response.status() != StatusCode::FORBIDDEN || !self.explain_403 {
            return response;
        }
        let inspected = Inspected::from_head(&response);
        self.attach_explanation(&mut response, &inspected, None);
        response
    }

    /// Puts the explanation of a 403 on `response` and logs it.
    fn attach_explanation(
        &self,
        response: &mut Response,
        inspected: &Inspected,
        signed: Option<&SignedRequest>,
    ) {
        // The raw clock: the explanation speaks of this machine's clock.
        let now = self.clock.now();
        if let Some(explanation) = diagnostics::explain(inspected, signed, response.url(), now) {
            tracing::warn!(%explanation, "request was refused");
            response.extensions_mut().insert(explanation);
        }
    }

    /// The offset to retry with, when a 403 from the verifier of `host` says our clock is off
    /// and the fix is sane.
    fn clock_correction(&self, inspected: &Inspected, host: &str, can_retry: bool) -> Option<i64> {
        if !can_retry {
            return None;
        }
        let max = self.max_clock_correction?;
        let server_now = inspected.clock_skew_server_time()?;
        let offset = crate::clock::millis_between(self.clock.now(), server_now);
        // Already dated by this offset (to the `Date` header's second): the skew is not
        // what failed, and the same signature would fail again.
        let already_applied = offset.abs_diff(self.offsets.get(host).unwrap_or(0)) < 1_000;
        (u128::from(offset.unsigned_abs()) <= max.as_millis() && !already_applied).then_some(offset)
    }

    /// [`plan`](Self::plan) for `req`, once the signing parameters its URL came with are
    /// removed: the route resolves the path and query to sign from this URL, so it must be
    /// the one that is sent.
    async fn plan_request(
        &self,
        req: &mut Request,
        overrides: Option<&SigningOverride>,
    ) -> Result<Option<Plan<'_>>, Error> {
        strip_query_signature(req.url_mut());
        self.plan(req.url(), overrides).await
    }

    /// The route and scope for `url`; `None` when no route matches (the request is then
    /// sent unsigned).
    async fn plan(
        &self,
        url: &url::Url,
        overrides: Option<&SigningOverride>,
    ) -> Result<Option<Plan<'_>>, Error> {
        let Some(resolved) = self.routes.resolve(url)? else {
            return Ok(None);
        };
        if let Some(o) = overrides {
            for (what, value) in [("service", &o.service), ("region", &o.region)] {
                if let Some(v) = value {
                    validate_scope(what, v)?;
                }
            }
        }
        let route = resolved.route;
        let inferred = resolved.inferred.as_ref();
        let configured = overrides
            .and_then(|o| o.service.as_deref())
            .or(route.service.as_deref());
        let service: Cow<'static, str> = match (configured, inferred) {
            (Some(s), _) => Cow::Owned(s.to_owned()),
            (None, Some((s, _))) => Cow::Borrowed(*s),
            (None, None) => match &self.service {
                Some(s) => Cow::Owned(s.clone()),
                None => Cow::Borrowed(DEFAULT_SERVICE),
            },
        };
        let configured = overrides
            .and_then(|o| o.region.as_deref())
            .or(route.region_set.as_deref())
            .or(route.region.as_deref());
        let region: Arc<str> = match (configured, inferred, &self.region) {
            (Some(r), _, _) => Arc::from(r),
            // Shared with the route: no allocation for the common case.
            (None, Some((_, r)), _) => r.clone(),
            (None, None, Some(r)) => Arc::from(r.as_str()),
            // Boxed: the default chain's loading is a large future that most requests,
            // whose region is known, would otherwise carry.
            (None, None, None) => Box::pin(self.fallback_region())
                .await
                .map(Arc::from)
                .ok_or_else(|| Error::MissingRegion {
                    host: resolved.sign_host.to_string(),
                })?,
        };
        let profile = ServiceProfile::of(&service);
        // A route signed in the query to S3 signs UNSIGNED-PAYLOAD: hashing (and buffering)
        // its bodies would be wasted work.
        let unsigned_payload = route.unsigned_payload.unwrap_or(
            profile.unsigned_payload
                || (route.presign.is_some() && profile.presigned_unsigned_payload),
        );
        Ok(Some(Plan {
            resolved,
            service,
            region,
            unsigned_payload,
            presign: None,
        }))
    }

    /// Signs `req` in place by `plan`; with no plan, removes any earlier signature.
    async fn apply(
        &self,
        plan: Option<Plan<'_>>,
        req: &mut Request,
        body: &PreparedBody,
    ) -> Result<Option<SignedRequest>, Error> {
        // A scan of the few headers a request has beats four hashed removals.
        if req
            .headers()
            .keys()
            .any(|name| SIGNATURE_HEADERS.contains(&name.as_str()))
        {
            for name in SIGNATURE_HEADERS {
                req.headers_mut().remove(name);
            }
        }
        strip_query_signature(req.url_mut());
        let Some(Plan {
            resolved,
            service,
            region,
            presign,
            ..
        }) = plan
        else {
            return Ok(None);
        };
        let Resolved {
            route,
            sign_host,
            sign_path_and_query,
            send_url,
            send_host,
            ..
        } = resolved;
        let credentials = self.cache_for(route).get().await?;
        if let Some(url) = send_url {
            *req.url_mut() = url;
        }
        if let Some(host) = &send_host {
            let value = HeaderValue::from_str(host).map_err(|_| Error::InvalidHeaderValue {
                name: "host".into(),
            })?;
            req.headers_mut().insert(http::header::HOST, value);
        }
        let placement = match presign.or(route.presign) {
            Some(expires) => Placement::Query(expires),
            None => Placement::Headers,
        };
        let time = self.offsets.apply(&sign_host, self.clock.now());
        let sign = || {
            sign_request(
                ToSign {
                    method: req.method(),
                    host: sign_host,
                    path_and_query: sign_path_and_query,
                    headers: req.headers(),
                    signed_headers: &route.signed_headers,
                    payload_sha256: body.sha256_hex.clone(),
                    service,
                    region,
                    sigv4a: route.region_set.is_some(),
                    time,
                    route: route.kind,
                    placement,
                },
                &credentials.signing,
            )
        };
        let (signature, summary) = match placement {
            Placement::Headers => sign()?,
            // aws-sigv4 traces the canonical request, whose query then holds the session
            // token; the crate's own line below shows it redacted.
            Placement::Query(_) => {
                tracing::dispatcher::with_default(&tracing::Dispatch::none(), sign)?
            }
        };
        signature.apply(req);
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(
                route = ?route.kind,
                sent_to = %Redacted(req.url()),
                signed_host = %summary.host(),
                signed_path = %summary.path_and_query(),
                canonical_request = %summary.canonical_request(),
                string_to_sign = %summary.string_to_sign(),
                "signed request"
            );
        }
        Ok(Some(summary))
    }

    /// The credentials cache `route` signs with: its own source's, else the middleware's.
    fn cache_for(&self, route: &CompiledRoute) -> &CredentialsCache {
        route
            .credentials
            .as_ref()
            .and_then(|source| self.route_credentials.iter().find(|(s, _)| s == source))
            .map_or(&self.credentials, |(_, cache)| cache)
    }

    async fn fallback_region(&self) -> Option<String> {
        #[cfg(feature = "aws-config")]
        if let Some(chain) = &self.default_chain {
            return chain.region().await;
        }
        None
    }

    /// The next request of a redirect chain, or `None` when `response` is not one to follow.
    fn redirect_target(
        &self,
        response: &Response,
        mut next: Request,
        followed: usize,
    ) -> Option<(Request, Option<PreparedBody>)> {
        let status = response.status();
        if !status.is_redirection() || followed >= self.redirects.max_redirects {
            return None;
        }
        let location = response
            .headers()
            .get(http::header::LOCATION)?
            .to_str()
            .ok()?;
        let target = response.url().join(location).ok()?;
        if !matches!(target.scheme(), "http" | "https") {
            return None;
        }
        let on_route = self.routes.matches(&target);
        if !on_route && self.redirects.cross_route == CrossRouteRedirect::Stop {
            return None;
        }
        let mut new_body = None;
        let switch_to_get = match status {
            StatusCode::SEE_OTHER => next.method() != Method::HEAD,
            StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => next.method() == Method::POST,
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => false,
            _ => return None,
        };
        if switch_to_get {
            *next.method_mut() = Method::GET;
            *next.body_mut() = None;
            for name in [
                "content-type",
                "content-length",
                "content-encoding",
                "transfer-encoding",
            ] {
                next.headers_mut().remove(name);
            }
            new_body = Some(PreparedBody::empty());
        }
        // Against where the request went (the copy may still hold a URL the route rewrites).
        let sent_to = response.url();
        let same_origin = target.host_str() == sent_to.host_str()
            && target.port_or_known_default() == sent_to.port_or_known_default();
        if !same_origin {
            // As reqwest does on a cross-host hop, plus everything SigV4 added.
            for name in ["cookie", "proxy-authorization", "www-authenticate"] {
                next.headers_mut().remove(name);
            }
            next.headers_mut().remove(http::header::HOST);
        }
        *next.url_mut() = target;
        Some((next, new_body))
    }
}

/// Fails when the response came from another URL than the request was sent to: the reqwest
/// client below followed a redirect with the signed request.
fn check_not_redirected(sent: &url::Url, answered: &url::Url) -> Result<(), Error> {
    use url::Position::{AfterPort, AfterQuery, BeforeHost};
    // reqwest's stand-in URL for a response built without one (a middleware's canned answer).
    if answered.host_str() == Some("no.url.provided.local")
        || sent[..AfterQuery] == answered[..AfterQuery]
    {
        return Ok(());
    }
    let origin = |u: &url::Url| format!("{}://{}", u.scheme(), &u[BeforeHost..AfterPort]);
    Err(Error::ClientFollowedRedirect {
        from: origin(sent),
        to: origin(answered),
    })
}

/// Records what was signed on the response, for callers that want to see it, and redacts
/// the signature a query-signed request carried from the response's URL.
fn attach(mut response: Response, signed: Option<SignedRequest>) -> Response {
    if let Some(signed) = signed {
        response = crate::wire::redact_response(response);
        response.extensions_mut().insert(signed);
    }
    response
}
