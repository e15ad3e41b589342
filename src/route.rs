//! Routes: which requests are signed, for which host and path, and where they are sent.
//!
//! SigV4 signs the host and path that the *verifying* service sees. A [`Route`] names the
//! topology between the client and that service so the middleware can work out both; a
//! request whose URL matches no route is never signed. This module holds what the caller
//! configures; [`engine::route`](crate::engine::route) compiles it into the table requests
//! are matched against.

use std::fmt;
use std::time::Duration;

use aws_credential_types::provider::ProvideCredentials;

use crate::adapter::credentials::Source;

/// Which request headers go into the signature besides `host` and `x-amz-*`.
///
/// Every header that is signed must reach the verifier byte for byte, so a route through
/// a proxy that rewrites headers (CloudFront replaces `User-Agent`, normalizes
/// `Accept-Encoding`, adds `Via`) must sign only what survives the trip.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignedHeaders {
    /// Every header on the request when it is signed, except hop-by-hop and proxy-rewritten
    /// ones (`connection`, `user-agent`, `via`, `x-forwarded-*`, `x-amzn-trace-id`, …).
    /// The default for direct, custom-domain and host-override routes.
    #[default]
    All,
    /// Only `host` and `x-amz-*` (the body hash is always in the signature). The default
    /// for CloudFront routes.
    HostAndAmzOnly,
    /// `host`, `x-amz-*` and the named headers (case-insensitive), when present.
    HostAndAmzPlus(Vec<String>),
}

/// How requests reach the API: the topology a [`Route`] describes.
///
/// Its `Debug` shows each URL with its password (if any) redacted.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Topology {
    /// The URL is the service's own endpoint (`{id}.execute-api.{region}.amazonaws.com`, a
    /// Lambda function URL, …): sign what is sent.
    Direct {
        /// Base URL: scheme, host, optional port and optional path prefix.
        base_url: String,
    },
    /// An API Gateway custom domain name, called directly or through a CloudFront
    /// distribution that forwards the viewer's `Host`: sign for the custom domain, as sent.
    CustomDomain {
        /// Base URL of the custom domain, optionally with a base path.
        base_url: String,
    },
    /// A CloudFront alias in front of an API Gateway origin that does not receive the
    /// viewer's `Host`: send to the alias, sign for the origin host and origin path.
    CloudFront {
        /// Where requests are sent: the distribution's domain or alternate domain name,
        /// optionally with a path prefix (a behavior's path pattern, not removed by
        /// CloudFront).
        alias_url: String,
        /// What API Gateway sees: the origin domain name plus the origin path (usually the
        /// stage, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com/prod`).
        origin_url: String,
        /// Whether a request written against `origin_url` is rewritten to the alias.
        rewrite_origin_urls: bool,
    },
    /// Connect to the URL's host but send and sign another `Host` (private APIs through a
    /// VPC endpoint name, proxies).
    HostOverride {
        /// Base URL of the host connected to.
        base_url: String,
        /// The `Host` that is sent and signed.
        sign_host: String,
    },
}

impl fmt::Debug for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::redact::redact_url_text as shown;
        match self {
            Topology::Direct { base_url } => f
                .debug_struct("Direct")
                .field("base_url", &shown(base_url))
                .finish(),
            Topology::CustomDomain { base_url } => f
                .debug_struct("CustomDomain")
                .field("base_url", &shown(base_url))
                .finish(),
            Topology::CloudFront {
                alias_url,
                origin_url,
                rewrite_origin_urls,
            } => f
                .debug_struct("CloudFront")
                .field("alias_url", &shown(alias_url))
                .field("origin_url", &shown(origin_url))
                .field("rewrite_origin_urls", rewrite_origin_urls)
                .finish(),
            Topology::HostOverride {
                base_url,
                sign_host,
            } => f
                .debug_struct("HostOverride")
                .field("base_url", &shown(base_url))
                .field(
                    "sign_host",
                    &crate::redact::redact_authority_text(sign_host),
                )
                .finish(),
        }
    }
}

/// One place the middleware signs for: a [`Topology`] with optional service, region and
/// signed-header settings.
///
/// ```
/// use reqwest_sigv4::Route;
///
/// let direct = Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com");
/// let cloudfront = Route::cloudfront(
///     "https://api.example.com",
///     "https://abc123.execute-api.us-east-1.amazonaws.com/prod",
/// )
/// .rewrite_origin_urls(true);
/// let private = Route::host_override(
///     "https://vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com",
///     "abc123.execute-api.us-east-1.amazonaws.com",
/// );
/// # let _ = (direct, cloudfront, private);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub(crate) topology: Topology,
    pub(crate) service: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) signed_headers: Option<SignedHeaders>,
    pub(crate) unsigned_payload: Option<bool>,
    pub(crate) presign: Option<Duration>,
    pub(crate) region_set: Option<String>,
    pub(crate) credentials: Option<Source>,
}

impl Route {
    /// A route for a service's own endpoint. A leading `*.` label in the host matches any
    /// one or more labels (`https://*.api.example.com`).
    ///
    /// A wildcard hands the access key id, the session token and signed requests to every
    /// host under it, so [`build`](crate::SigV4MiddlewareBuilder::build) refuses one that
    /// leaves fewer than three labels (`*.example.com`, `*.co.uk`) or stands for hosts under
    /// a domain AWS shares among its customers (`*.amazonaws.com`, `*.on.aws`,
    /// `*.execute-api.us-east-1.amazonaws.com`: every account's APIs), with
    /// [`ConfigError::WildcardTooBroad`](crate::ConfigError::WildcardTooBroad). Name AWS
    /// hosts exactly, one route each.
    pub fn direct(base_url: impl Into<String>) -> Self {
        Self::new(Topology::Direct {
            base_url: base_url.into(),
        })
    }

    /// A route for an API Gateway custom domain name (optionally with a base path). A
    /// leading `*.` wildcard follows the rules of [`Route::direct`]'s.
    pub fn custom_domain(base_url: impl Into<String>) -> Self {
        Self::new(Topology::CustomDomain {
            base_url: base_url.into(),
        })
    }

    /// A route for a CloudFront alias in front of an API Gateway origin.
    ///
    /// A request to `{alias_url}/items?x=1` is sent there and signed as
    /// `{origin_url}/items?x=1`: origin host, origin path in front of the request's path.
    pub fn cloudfront(alias_url: impl Into<String>, origin_url: impl Into<String>) -> Self {
        Self::new(Topology::CloudFront {
            alias_url: alias_url.into(),
            origin_url: origin_url.into(),
            rewrite_origin_urls: false,
        })
    }

    /// A route that connects to `base_url`'s host but sends and signs `Host: sign_host`.
    ///
    /// Over HTTP/1.1 only: HTTP/2 carries the host as `:authority`, which reqwest takes
    /// from the URL. [`SigV4Middleware::client`](crate::SigV4Middleware::client) and
    /// [`client_with`](crate::SigV4Middleware::client_with) build the client
    /// `http1_only()` for such a route; an answer over HTTP/2 is
    /// [`Error::HostOverrideOverHttp2`](crate::Error::HostOverrideOverHttp2).
    pub fn host_override(base_url: impl Into<String>, sign_host: impl Into<String>) -> Self {
        Self::new(Topology::HostOverride {
            base_url: base_url.into(),
            sign_host: sign_host.into(),
        })
    }

    fn new(topology: Topology) -> Self {
        Self {
            topology,
            service: None,
            region: None,
            signed_headers: None,
            unsigned_payload: None,
            presign: None,
            region_set: None,
            credentials: None,
        }
    }

    /// For a CloudFront route: also sign requests written against the origin URL, and send
    /// them to the alias instead. No effect on other topologies.
    ///
    /// The route then claims the origin's host: a request there outside the origin path,
    /// which no alias URL reaches, is refused with
    /// [`Error::OutsideOriginPath`](crate::Error::OutsideOriginPath) unless another route
    /// matches it, rather than sent unsigned.
    pub fn rewrite_origin_urls(mut self, yes: bool) -> Self {
        if let Topology::CloudFront {
            rewrite_origin_urls,
            ..
        } = &mut self.topology
        {
            *rewrite_origin_urls = yes;
        }
        self
    }

    /// The service name to sign for (default: inferred from the signing host, else the
    /// builder's, else `execute-api`).
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// The region to sign for (default: inferred from the signing host, else the
    /// builder's).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Which headers to sign (default: [`SignedHeaders::HostAndAmzOnly`] for CloudFront
    /// routes, [`SignedHeaders::All`] otherwise).
    pub fn signed_headers(mut self, signed_headers: SignedHeaders) -> Self {
        self.signed_headers = Some(signed_headers);
        self
    }

    /// Sign with `x-amz-content-sha256: UNSIGNED-PAYLOAD` instead of hashing the body, so
    /// streaming bodies are not buffered (default: only for `vpc-lattice-svcs`, which
    /// requires it, and S3 routes signed in the query; API Gateway refuses unsigned
    /// payloads). The trade-off: the signature no longer covers the body, which TLS alone
    /// then protects. S3 accepts it, and a multi-GiB upload streams in constant memory.
    ///
    /// `false` on an S3 route makes a presigned URL for a request with a body an error
    /// ([`Error::PayloadHashNotPresignable`](crate::Error::PayloadHashNotPresignable)):
    /// S3 verifies presigned URLs over `UNSIGNED-PAYLOAD` only.
    pub fn unsigned_payload(mut self, yes: bool) -> Self {
        self.unsigned_payload = Some(yes);
        self
    }

    /// Put the signature in the query string (a presigned URL valid for `expires_in`)
    /// instead of headers: for CDNs and proxies that strip `Authorization` but forward the
    /// query string. At least one second (`X-Amz-Expires` counts whole seconds; a fraction is
    /// dropped) and at most 7 days, as SigV4 allows.
    ///
    /// An `Authorization` header of the caller's own is sent as it is on such a route (a
    /// route that signs in headers refuses it:
    /// [`Error::AuthorizationHeaderSet`](crate::Error::AuthorizationHeaderSet)).
    pub fn sign_in_query(mut self, expires_in: Duration) -> Self {
        self.presign = Some(expires_in);
        self
    }

    /// Sign with SigV4a (ECDSA P-256) for a region set such as `"*"` or
    /// `"us-east-1,eu-west-1"`, for services and multi-region endpoints that take it.
    #[cfg(feature = "sigv4a")]
    #[cfg_attr(docsrs, doc(cfg(feature = "sigv4a")))]
    pub fn sigv4a(mut self, region_set: impl Into<String>) -> Self {
        self.region_set = Some(region_set.into());
        self
    }

    /// The topology this route describes.
    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    /// Sign this route's requests with credentials from `provider` instead of the
    /// middleware's: an API in another account through the same client. The middleware
    /// caches them (one cache per provider: routes given clones of one `Route`, or of its
    /// provider via [`Route::credentials_provider`] on each, share what they were given).
    pub fn credentials_provider<P: ProvideCredentials + 'static>(mut self, provider: P) -> Self {
        self.credentials = Some(Source::provider(provider));
        self
    }

    /// Sign this route's requests with the credentials of `role`, assumed with STS by the
    /// middleware's credentials: `Route::direct(url).assume_role("arn:aws:iam::…:role/…")`.
    /// Routes that assume the same role share one set of assumed credentials.
    #[cfg(feature = "aws-config")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
    pub fn assume_role(mut self, role: impl Into<crate::AssumeRole>) -> Self {
        self.credentials = Some(Source::AssumeRole(role.into()));
        self
    }

    /// Sign this route's requests with the credentials of a named profile of the shared
    /// AWS config files: `Route::direct(url).profile("orders-prod")`.
    #[cfg(feature = "aws-config")]
    #[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
    pub fn profile(mut self, profile: impl Into<crate::Profile>) -> Self {
        self.credentials = Some(Source::Profile(profile.into()));
        self
    }

    /// The region this route names, or its signing host tells (`….us-east-1.amazonaws.com`).
    #[cfg(feature = "aws-config")]
    pub(crate) fn named_region(&self) -> Option<String> {
        if let Some(region) = &self.region {
            return Some(region.clone());
        }
        let host = match &self.topology {
            Topology::Direct { base_url } | Topology::CustomDomain { base_url } => {
                url::Url::parse(base_url).ok()?.host_str()?.to_owned()
            }
            Topology::CloudFront { origin_url, .. } => {
                url::Url::parse(origin_url).ok()?.host_str()?.to_owned()
            }
            Topology::HostOverride { sign_host, .. } => sign_host.clone(),
        };
        crate::engine::route::infer_scope(&host).map(|(_, region)| region.to_owned())
    }

    /// Where this route's own credentials come from, and the region it names.
    pub(crate) fn credentials_source(&self) -> Option<(&Source, Option<&str>)> {
        self.credentials
            .as_ref()
            .map(|source| (source, self.region.as_deref()))
    }
}
