//! Configuration: [`SigV4MiddlewareBuilder`], which checks everything the caller set and
//! builds the middleware, the redirect policy, and the per-request controls
//! ([`SkipSigning`], [`SigningOverride`]) read from a request's extensions.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};

use crate::adapter::credentials::{
    CredentialsCache, Source, DEFAULT_PROVIDER_TIMEOUT, DEFAULT_REFRESH_AHEAD,
};
use crate::adapter::{Shared, SigV4Middleware};
use crate::engine::body::DEFAULT_BODY_LIMIT;
use crate::engine::clock::{Clock, ClockOffsets, SharedClock, SystemClock};
use crate::engine::route::{validate_scope, RouteTable};
use crate::engine::scope::Defaults;
use crate::engine::Engine;
use crate::error::ConfigError;
use crate::route::Route;

/// The service signed for when neither the request's [`SigningOverride`], the route, the
/// host nor the builder names one, for a host that is not an AWS endpoint: a custom domain, a
/// CloudFront alias, `localhost`, an IP address (API Gateway's custom domains are the
/// common case).
///
/// An AWS host (under `amazonaws.com`, `amazonaws.com.cn`, `api.aws`, `on.aws`, … the AWS
/// partitions' DNS suffixes) whose service the crate cannot infer is never signed for this
/// default: the route is refused at `build()`
/// ([`ConfigError::UnknownAwsService`]), or the request with
/// [`Error::UnknownAwsService`](crate::Error::UnknownAwsService) when a wildcard route
/// matched it. Name its service on the route or the builder.
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

/// Which responses carry the [`SignedRequest`](crate::SignedRequest) summary of what was
/// signed, in their extensions.
///
/// Attaching costs a few allocations per response (the extension map, the boxed summary),
/// which on a fast API is several percent of the middleware's work; the summary is read
/// when something went wrong, so by default only those responses carry it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SummaryPolicy {
    /// Responses to signed requests whose status is not a success (not 2xx): a 403 to
    /// explain, a 4xx or 5xx, a redirect handed back. The default.
    #[default]
    Unsuccessful,
    /// Every response to a signed request.
    Always,
}

impl SummaryPolicy {
    /// Whether a response with `status` carries the summary.
    pub(crate) fn attaches(self, status: http::StatusCode) -> bool {
        match self {
            SummaryPolicy::Unsuccessful => !status.is_success(),
            SummaryPolicy::Always => true,
        }
    }
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
    summaries: SummaryPolicy,
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
            summaries: SummaryPolicy::default(),
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
    /// (default: [`DEFAULT_SERVICE`] for hosts that are not AWS endpoints; an AWS host whose
    /// service the crate cannot infer needs this or [`Route::service`]).
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
    /// fails with [`Error::BodyTooLarge`](crate::Error::BodyTooLarge) and is not sent.
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

    /// Which responses carry the [`SignedRequest`](crate::SignedRequest) summary (default
    /// [`SummaryPolicy::Unsuccessful`]: those whose status is not 2xx). `Always` puts it on
    /// every response to a signed request, for callers that show or check what was signed.
    ///
    /// ```
    /// use reqwest_sigv4::{Route, SigV4Middleware, SummaryPolicy};
    ///
    /// let middleware = SigV4Middleware::builder()
    ///     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
    ///     .summaries(SummaryPolicy::Always)
    /// #   .static_credentials(reqwest_sigv4::aws::Credentials::new("AKIDEXAMPLE", "secret", None, None, "doc"))
    ///     .build()?;
    /// # Ok::<(), reqwest_sigv4::ConfigError>(())
    /// ```
    pub fn summaries(mut self, policy: SummaryPolicy) -> Self {
        self.summaries = policy;
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
    /// the same requests; a service, region or presigned validity SigV4 cannot take; a route
    /// to an AWS host whose service the crate cannot infer, with no service named on it or
    /// here ([`UnknownAwsService`](ConfigError::UnknownAwsService)); static credentials with
    /// an empty key; no credentials provider without the `aws-config` feature.
    /// [`ConfigError::kind`] sorts them.
    pub fn build(self) -> Result<SigV4Middleware, ConfigError> {
        if self.routes.is_empty() {
            return Err(ConfigError::NoRoutes);
        }
        // Each source of credentials gets one cache, whichever routes name it; slot 0 is
        // the middleware's own.
        let mut sources: Vec<(&Source, Option<&str>)> = Vec::new();
        for (source, region) in self.routes.iter().filter_map(Route::credentials_source) {
            if !sources.iter().any(|(s, _)| *s == source) {
                sources.push((source, region));
            }
        }
        let routes = RouteTable::compile(&self.routes, |route| {
            route.credentials_source().map_or(0, |(source, _)| {
                1 + sources.iter().position(|(s, _)| *s == source).unwrap_or(0)
            })
        })?;
        for (what, value) in [("service", &self.service), ("region", &self.region)] {
            if let Some(v) = value {
                validate_scope(what, v)?;
            }
        }
        if self.service.is_none() {
            routes.check_services_named()?;
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
                let chain =
                    crate::adapter::credentials::DefaultChain::shared(known_region.as_deref());
                default_chain = Some(chain.clone());
                SharedCredentialsProvider::new(crate::adapter::credentials::DefaultChainProvider(
                    chain,
                ))
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
        let route_credentials: Vec<CredentialsCache> = sources
            .iter()
            .map(|(source, region)| {
                cache(source.build(&provider, region.or(self.region.as_deref())))
            })
            .collect();
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
        let mut credentials = vec![cache((provider, provider_name))];
        credentials.extend(route_credentials);
        Ok(SigV4Middleware {
            inner: Arc::new(Shared {
                engine: Engine {
                    routes,
                    defaults: Defaults {
                        service: self.service,
                        region: self.region,
                    },
                    clock: self.clock,
                    offsets: ClockOffsets::default(),
                    max_clock_correction: self.max_clock_correction,
                    redirects: self.redirects,
                },
                credentials,
                #[cfg(feature = "aws-config")]
                default_chain,
                body_limit: self.body_limit,
                explain_403: self.explain_403,
                inspect_deadline: self.inspect_deadline,
                summaries: self.summaries,
            }),
        })
    }
}
