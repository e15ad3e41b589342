//! The route table: the configured [`Route`]s compiled into patterns matched against each
//! request's URL, and the resolution of a matched URL into the host and path to sign and
//! the URL to send to.

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use url::Url;

use crate::error::{ConfigError, Error, InvalidSetting};
use crate::redact;
use crate::route::{Route, SignedHeaders, Topology};

/// A base URL taken apart: what a route matches on or signs for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Base {
    pub(crate) https: bool,
    host: HostPattern,
    /// The explicit port; `None` for the scheme's default.
    port: Option<u16>,
    /// Path prefix without a trailing slash; empty for the root.
    pub(crate) path: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.example.com` stored as `.example.com`.
    Suffix(String),
}

impl Base {
    fn parse(raw: &str, wildcard_allowed: bool) -> Result<Self, ConfigError> {
        // What the errors show of the URL: as given, but for a password.
        let shown = || redact::redact_url_text(raw).into_owned();
        let url = Url::parse(raw).map_err(|e| ConfigError::InvalidUrl {
            url: shown(),
            reason: e.to_string(),
        })?;
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            other => {
                return Err(ConfigError::UnsupportedScheme {
                    url: shown(),
                    scheme: other.to_owned(),
                })
            }
        };
        if url.query().is_some()
            || url.fragment().is_some()
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(ConfigError::UnexpectedUrlParts { url: shown() });
        }
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| ConfigError::EmptyHost { url: shown() })?
            .to_ascii_lowercase();
        let host = match host.strip_prefix('*') {
            Some(rest) if wildcard_allowed && rest.starts_with('.') && rest.len() > 1 => {
                check_wildcard_suffix(&rest[1..]).map_err(|reason| {
                    ConfigError::WildcardTooBroad {
                        url: shown(),
                        reason,
                    }
                })?;
                HostPattern::Suffix(rest.to_owned())
            }
            _ if host.contains('*') => {
                return Err(ConfigError::InvalidUrl {
                    url: shown(),
                    reason: "a wildcard is only allowed as the whole first label of a direct or custom-domain route".into(),
                })
            }
            _ => HostPattern::Exact(host),
        };
        Ok(Self {
            https,
            host,
            port: url.port(),
            path: url.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The `Host` header value for this base: host, plus `:port` when it is not the default.
    fn host_header(&self) -> Option<String> {
        match (&self.host, self.port) {
            (HostPattern::Exact(h), Some(p)) => Some(format!("{h}:{p}")),
            (HostPattern::Exact(h), None) => Some(h.clone()),
            (HostPattern::Suffix(_), _) => None,
        }
    }

    /// How specific a match is: exact hosts beat wildcards, longer suffixes and longer path
    /// prefixes beat shorter ones.
    fn specificity(&self) -> (bool, usize, usize) {
        match &self.host {
            HostPattern::Exact(_) => (true, 0, self.path.len()),
            HostPattern::Suffix(s) => (false, s.len(), self.path.len()),
        }
    }

    fn matches(&self, url: &Url) -> bool {
        self.origin_matches(url) && path_has_prefix(url.path(), &self.path)
    }

    /// Scheme, host and port match, whatever the path.
    fn origin_matches(&self, url: &Url) -> bool {
        let https = match url.scheme() {
            "https" => true,
            "http" => false,
            _ => return false,
        };
        https == self.https && url.port() == self.port && self.host_matches(url)
    }

    fn host_matches(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        match &self.host {
            HostPattern::Exact(h) => host.eq_ignore_ascii_case(h),
            HostPattern::Suffix(s) => {
                host.len() > s.len()
                    && host.is_char_boundary(host.len() - s.len())
                    && host[host.len() - s.len()..].eq_ignore_ascii_case(s)
            }
        }
    }

    fn describe(&self) -> String {
        let scheme = if self.https { "https" } else { "http" };
        let host = match &self.host {
            HostPattern::Exact(h) => h.clone(),
            HostPattern::Suffix(s) => format!("*{s}"),
        };
        match self.port {
            Some(p) => format!("{scheme}://{host}:{p}{}", self.path),
            None => format!("{scheme}://{host}{}", self.path),
        }
    }
}

/// Domains AWS shares among its customers: under each of them, the labels left of the
/// service's own name are some customer's resource (an API id, a bucket, a function URL id,
/// a distribution), so a wildcard anywhere under them stands for other customers' hosts.
/// Not a public suffix list (the crate takes no dependency for one): the AWS domains a
/// route is likely to name, where a too-broad wildcard would hurt most.
const AWS_SHARED_DOMAINS: [&str; 12] = [
    "amazonaws.com",
    "amazonaws.com.cn",
    "amazonaws.eu",
    "on.aws",
    "api.aws",
    "cloudfront.net",
    "amplifyapp.com",
    "awsapprunner.com",
    "elasticbeanstalk.com",
    "awsglobalaccelerator.com",
    "c2s.ic.gov",
    "sc2s.sgov.gov",
];

/// Fewest labels a wildcard's suffix must keep: `*.api.example.com` leaves a name its owner
/// controls, `*.example.com` or `*.co.uk` may leave a registrable domain or a public suffix
/// (without a public suffix list the two cannot be told apart, so both are refused).
const MIN_WILDCARD_LABELS: usize = 3;

/// Whether `suffix` (the host after `*.`) is narrow enough to hand credentials to every host
/// under it. The rule: at least [`MIN_WILDCARD_LABELS`] non-empty labels, none of them a
/// wildcard, and not a domain of [`AWS_SHARED_DOMAINS`] nor any name under one (that covers
/// the `{service}.{region}.amazonaws.com`, `{service}.amazonaws.com`,
/// `{region}.{service}.amazonaws.com` and `{service}.{region}.on.aws` shapes: a wildcard
/// there stands for every API, bucket or function URL of every account).
fn check_wildcard_suffix(suffix: &str) -> Result<(), &'static str> {
    let suffix = suffix.trim_end_matches('.');
    let labels: Vec<&str> = suffix.split('.').collect();
    if labels.iter().any(|l| l.is_empty() || l.contains('*')) {
        return Err("empty label or a second wildcard");
    }
    if labels.len() < MIN_WILDCARD_LABELS {
        return Err("a wildcard must leave at least three labels, e.g. *.api.example.com");
    }
    let under_aws = AWS_SHARED_DOMAINS.iter().any(|domain| {
        suffix == *domain
            || suffix
                .strip_suffix(domain)
                .is_some_and(|rest| rest.ends_with('.'))
    });
    if under_aws {
        return Err("it is under a domain AWS shares among its customers (amazonaws.com, on.aws, cloudfront.net, ...): name the host exactly");
    }
    Ok(())
}

/// `prefix` (no trailing slash) matches `path` on a segment boundary: `/prod` matches
/// `/prod` and `/prod/x` but not `/production`.
fn path_has_prefix(path: &str, prefix: &str) -> bool {
    if prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// The kind of route, without its URLs; for logs and diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RouteKind {
    /// [`Topology::Direct`].
    Direct,
    /// [`Topology::CustomDomain`].
    CustomDomain,
    /// [`Topology::CloudFront`].
    CloudFront,
    /// [`Topology::HostOverride`].
    HostOverride,
}

/// A validated route, shared by the entries that point at it.
#[derive(Debug)]
pub(crate) struct CompiledRoute {
    pub(crate) kind: RouteKind,
    pub(crate) service: Option<String>,
    pub(crate) region: Option<String>,
    pub(crate) signed_headers: SignedHeaders,
    /// `None`: as the service requires.
    pub(crate) unsigned_payload: Option<bool>,
    /// Sign in the query string, valid this long.
    pub(crate) presign: Option<Duration>,
    /// SigV4a: the region set signed for.
    pub(crate) region_set: Option<String>,
    /// Which credentials it signs with: 0 for the middleware's, `n` for the `n`th of the
    /// routes' own sources (decided once, when the table is compiled).
    pub(crate) credentials_slot: usize,
    /// CloudFront only: the origin the signature is computed for.
    origin: Option<Base>,
    /// CloudFront only: where requests are sent.
    alias: Option<Base>,
    /// Host override only: the `Host` that is sent and signed.
    sign_host: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    /// Sign the URL as it is sent (direct, custom domain, host override).
    SignAsSent,
    /// The URL is the CloudFront alias: sign for origin host + origin path + path.
    SignForOrigin,
    /// The URL is the origin: sign it as it is, send it to the alias.
    RewriteToAlias,
}

#[derive(Debug)]
struct Entry {
    pattern: Base,
    action: Action,
    route: Arc<CompiledRoute>,
    /// The host every request of this entry signs (all but wildcard routes, whose
    /// requests' hosts are read one by one).
    fixed: Option<FixedHost>,
}

/// A host every request of an entry signs, and the service and region it names (if any),
/// worked out once rather than per request.
#[derive(Debug)]
struct FixedHost {
    host: Arc<str>,
    scope: Option<(&'static str, Arc<str>)>,
}

/// Where and how one request is signed and sent.
#[derive(Debug)]
pub(crate) struct Resolved<'a> {
    pub(crate) route: &'a Arc<CompiledRoute>,
    /// The `Host` value that goes into the signature (the route's own, borrowed, unless a
    /// wildcard route signs each request's host).
    pub(crate) sign_host: Cow<'a, str>,
    /// Path and query (already percent-encoded) that go into the signature; `None` when
    /// they are the URL's own, as sent (read from the URL, not copied).
    pub(crate) sign_path_and_query: Option<String>,
    /// The URL to send to, when it differs from the request's (boxed: rare, and large).
    pub(crate) send_url: Option<Box<Url>>,
    /// A `Host` header to send, when it differs from the URL's authority.
    pub(crate) send_host: Option<&'a str>,
}

/// Service and region the signing host names (`{id}.execute-api.{region}…`), when it names
/// them. Returned beside [`Resolved`], not in it: the plan keeps what it makes of them, and
/// the send loop's future holds the plan across its awaits.
pub(crate) type Inferred<'a> = Option<(&'static str, Cow<'a, str>)>;

#[cfg(test)]
impl Resolved<'_> {
    /// The path and query to sign for `url`, the URL this was resolved from.
    pub(crate) fn path_and_query<'u>(&'u self, url: &'u Url) -> &'u str {
        match &self.sign_path_and_query {
            Some(owned) => owned,
            None => &url[url::Position::BeforePath..url::Position::AfterQuery],
        }
    }
}

/// All routes of one middleware, most specific first.
#[derive(Debug, Default)]
pub(crate) struct RouteTable {
    entries: Vec<Entry>,
    /// `(route, request origin)` pairs already warned about as near misses: a client
    /// calling the wrong port in a loop must not flood the log.
    near_misses_warned: Mutex<HashSet<(String, String)>>,
}

/// Near misses warned about at most this many times per middleware, so a client
/// calling many ports cannot grow the set without bound.
const MAX_NEAR_MISS_WARNINGS: usize = 64;

impl CompiledRoute {
    /// The `Host` header the route sends (a host override's), `None` when it sends the
    /// URL's own.
    pub(crate) fn sent_host(&self) -> Option<&str> {
        self.sign_host.as_deref()
    }
}

impl RouteTable {
    /// Compiles `routes`; `credentials_slot` tells which credentials each signs with.
    pub(crate) fn compile(
        routes: &[Route],
        credentials_slot: impl Fn(&Route) -> usize,
    ) -> Result<Self, ConfigError> {
        let mut entries = Vec::new();
        for route in routes {
            for scope in [("service", &route.service), ("region", &route.region)] {
                if let (what, Some(value)) = scope {
                    validate_scope(what, value)?;
                }
            }
            if let Some(set) = &route.region_set {
                let valid = !set.is_empty()
                    && set.split(',').all(|r| {
                        !r.is_empty()
                            && r.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'*')
                    });
                if !valid {
                    return Err(ConfigError::InvalidScope {
                        what: "region set",
                        value: set.clone(),
                    });
                }
            }
            if let Some(expires) = route.presign {
                InvalidSetting::check_expiry(expires)?;
            }
            let mut compiled = CompiledRoute {
                kind: RouteKind::Direct,
                service: route.service.clone(),
                region: route.region.clone(),
                signed_headers: route.signed_headers.clone().unwrap_or_default(),
                unsigned_payload: route.unsigned_payload,
                presign: route.presign,
                region_set: route.region_set.clone(),
                credentials_slot: credentials_slot(route),
                origin: None,
                alias: None,
                sign_host: None,
            };
            let mut patterns = Vec::new();
            match &route.topology {
                Topology::Direct { base_url } => {
                    patterns.push((Base::parse(base_url, true)?, Action::SignAsSent));
                }
                Topology::CustomDomain { base_url } => {
                    compiled.kind = RouteKind::CustomDomain;
                    patterns.push((Base::parse(base_url, true)?, Action::SignAsSent));
                }
                Topology::HostOverride {
                    base_url,
                    sign_host,
                } => {
                    compiled.kind = RouteKind::HostOverride;
                    compiled.sign_host = Some(validate_host(sign_host)?);
                    patterns.push((Base::parse(base_url, false)?, Action::SignAsSent));
                }
                Topology::CloudFront {
                    alias_url,
                    origin_url,
                    rewrite_origin_urls,
                } => {
                    compiled.kind = RouteKind::CloudFront;
                    compiled.signed_headers = route
                        .signed_headers
                        .clone()
                        .unwrap_or(SignedHeaders::HostAndAmzOnly);
                    let alias = Base::parse(alias_url, false)?;
                    let origin = Base::parse(origin_url, false)?;
                    if alias.host == origin.host && alias.port == origin.port {
                        return Err(ConfigError::AliasEqualsOrigin {
                            alias: redact::redact_url_text(alias_url).into_owned(),
                        });
                    }
                    patterns.push((alias.clone(), Action::SignForOrigin));
                    if *rewrite_origin_urls {
                        patterns.push((origin.clone(), Action::RewriteToAlias));
                    }
                    compiled.alias = Some(alias);
                    compiled.origin = Some(origin);
                }
            }
            let compiled = Arc::new(compiled);
            for (pattern, action) in patterns {
                if let Some(dup) = entries.iter().find(|e: &&Entry| e.pattern == pattern) {
                    return Err(ConfigError::DuplicateRoute {
                        pattern: dup.pattern.describe(),
                    });
                }
                let fixed_host = match action {
                    Action::SignAsSent => compiled.sign_host.clone().or(pattern.host_header()),
                    Action::SignForOrigin | Action::RewriteToAlias => {
                        compiled.origin.as_ref().and_then(Base::host_header)
                    }
                };
                let fixed = fixed_host.map(|host| FixedHost {
                    scope: infer_scope(&host).map(|(service, region)| (service, Arc::from(region))),
                    host: Arc::from(host),
                });
                entries.push(Entry {
                    pattern,
                    action,
                    route: compiled.clone(),
                    fixed,
                });
            }
        }
        entries.sort_by_key(|e| std::cmp::Reverse(e.pattern.specificity()));
        Ok(Self {
            entries,
            near_misses_warned: Mutex::default(),
        })
    }

    /// The first route that signs a fixed AWS host the tables do not know and names no
    /// service: each of its requests would fail with
    /// [`Error::UnknownAwsService`](crate::Error::UnknownAwsService), so `build()` refuses
    /// it when the builder names no default service either. Wildcard routes' hosts are
    /// checked per request.
    pub(crate) fn check_services_named(&self) -> Result<(), InvalidSetting> {
        for entry in &self.entries {
            let Some(fixed) = &entry.fixed else {
                continue;
            };
            if entry.route.service.is_none()
                && fixed.scope.is_none()
                && crate::engine::endpoints::is_aws_host(&fixed.host)
            {
                return Err(InvalidSetting::UnknownAwsService {
                    host: fixed.host.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Called for a request no route matches: when its host is a route's host but its
    /// scheme or port is not, the request goes out unsigned although the user most
    /// likely meant it to be signed, so say so at WARN, once per route and origin. Only
    /// the origin is logged: a query string may carry a presigned signature.
    pub(crate) fn warn_near_miss(&self, url: &Url) {
        let Some(entry) = self.entries.iter().find(|e| e.pattern.host_matches(url)) else {
            return;
        };
        let route = entry.pattern.describe();
        let origin = url.origin().ascii_serialization();
        {
            let mut warned = self
                .near_misses_warned
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if warned.len() >= MAX_NEAR_MISS_WARNINGS
                || !warned.insert((route.clone(), origin.clone()))
            {
                return;
            }
        }
        tracing::warn!(
            %origin,
            %route,
            "request host matches a route but its scheme or port does not: sent unsigned"
        );
    }

    /// Whether a route sends a `Host` header that is not its URL's authority (a host
    /// override to another host). From HTTP/2 on the host travels as `:authority`, which
    /// reqwest takes from the URL, so such a route is carried by HTTP/1.1 alone.
    pub(crate) fn overrides_host(&self) -> bool {
        self.entries.iter().any(|e| {
            e.route.sign_host.as_deref().is_some_and(|host| {
                !e.pattern
                    .host_header()
                    .is_some_and(|own| own.eq_ignore_ascii_case(host))
            })
        })
    }

    /// Whether any route matches `url` (cheaper than [`resolve`](Self::resolve)).
    pub(crate) fn matches(&self, url: &Url) -> bool {
        self.entries.iter().any(|e| e.pattern.matches(url))
    }

    /// Whether [`resolve`](Self::resolve) has something to say about `url`: a route that
    /// matches it, or a route that rewrites origin URLs on its origin (an error there).
    pub(crate) fn claims(&self, url: &Url) -> bool {
        self.matches(url) || self.rewritten_origin_of(url).is_some()
    }

    /// The origin of a route that rewrites origin URLs, when `url` is on its scheme, host
    /// and port, whatever its path.
    fn rewritten_origin_of(&self, url: &Url) -> Option<&Base> {
        self.entries
            .iter()
            .filter(|e| e.action == Action::RewriteToAlias)
            .map(|e| &e.pattern)
            .find(|origin| origin.origin_matches(url))
    }

    /// The most specific route that can place `url`, or `None` when no route matches: the
    /// request is then not signed.
    ///
    /// A URL that routes match but none can place (an origin URL outside the alias's path
    /// prefix) is an error, not `None`: sent as it is it would go unsigned to the origin,
    /// which is neither what the caller asked for nor what the route promised. So is a URL
    /// no route matches on the origin of a route that rewrites origin URLs, outside its
    /// origin path: the route claims the host, and no alias URL reaches that path.
    pub(crate) fn resolve(&self, url: &Url) -> Result<Option<(Resolved<'_>, Inferred<'_>)>, Error> {
        let mut matched = false;
        for entry in self.entries.iter().filter(|e| e.pattern.matches(url)) {
            matched = true;
            if let Some(resolved) = entry.resolve(url) {
                return Ok(Some(resolved));
            }
        }
        if matched {
            return Err(Error::Rewrite(format!(
                "{} matches a route, but the route cannot place it (outside the alias's path \
                 prefix?): not sent",
                redact::without_query(url)
            )));
        }
        if let Some(origin) = self.rewritten_origin_of(url) {
            return Err(Error::OutsideOriginPath {
                url: redact::without_query(url).into_owned(),
                origin_path: origin.path.clone(),
            });
        }
        Ok(None)
    }
}

impl Entry {
    fn resolve(&self, url: &Url) -> Option<(Resolved<'_>, Inferred<'_>)> {
        let resolved = self.resolve_target(url)?;
        let inferred = match &self.fixed {
            Some(fixed) => fixed
                .scope
                .as_ref()
                .map(|(service, region)| (*service, Cow::Borrowed(&**region))),
            None => infer_scope(&resolved.sign_host)
                .map(|(service, region)| (service, Cow::Owned(region.to_owned()))),
        };
        Some((resolved, inferred))
    }

    fn resolve_target(&self, url: &Url) -> Option<Resolved<'_>> {
        let route = &self.route;
        // Path and query as reqwest sends them (no fragment).
        let sent = crate::engine::replay::path_and_query(url);
        match self.action {
            Action::SignAsSent => {
                let sign_host = match &self.fixed {
                    Some(fixed) => Cow::Borrowed(&*fixed.host),
                    None => Cow::Owned(url_host_header(url)?),
                };
                Some(Resolved {
                    route,
                    sign_path_and_query: None,
                    send_host: route.sign_host.as_deref(),
                    sign_host,
                    send_url: None,
                })
            }
            Action::SignForOrigin => {
                let origin = route.origin.as_ref()?;
                Some(Resolved {
                    route,
                    sign_host: Cow::Borrowed(&*self.fixed.as_ref()?.host),
                    sign_path_and_query: Some(join_paths(&origin.path, sent)),
                    send_url: None,
                    send_host: None,
                })
            }
            Action::RewriteToAlias => {
                let origin = route.origin.as_ref()?;
                let alias = route.alias.as_ref()?;
                let viewer_path = url.path().strip_prefix(origin.path.as_str())?;
                let viewer_path = if viewer_path.is_empty() {
                    "/"
                } else {
                    viewer_path
                };
                if !path_has_prefix(viewer_path, &alias.path) {
                    return None;
                }
                let mut send = url.clone();
                send.set_scheme(if alias.https { "https" } else { "http" })
                    .ok()?;
                let HostPattern::Exact(host) = &alias.host else {
                    return None;
                };
                send.set_host(Some(host)).ok()?;
                send.set_port(alias.port).ok()?;
                send.set_path(viewer_path);
                Some(Resolved {
                    route,
                    sign_host: Cow::Borrowed(&*self.fixed.as_ref()?.host),
                    sign_path_and_query: Some(join_paths(
                        &origin.path,
                        &format!("{viewer_path}{}", &sent[url.path().len()..]),
                    )),
                    send_url: Some(Box::new(send)),
                    send_host: None,
                })
            }
        }
    }
}

/// A direct route signing `signed_headers`, for unit tests of what it feeds.
#[cfg(test)]
pub(crate) fn test_route(signed_headers: SignedHeaders) -> Arc<CompiledRoute> {
    Arc::new(CompiledRoute {
        kind: RouteKind::Direct,
        service: None,
        region: None,
        signed_headers,
        unsigned_payload: None,
        presign: None,
        region_set: None,
        credentials_slot: 0,
        origin: None,
        alias: None,
        sign_host: None,
    })
}

/// The longest validity SigV4 allows a presigned request: 7 days.
pub(crate) const MAX_PRESIGN: Duration = Duration::from_secs(crate::canonical::MAX_PRESIGN_EXPIRES);

/// Whether a presigned request can be valid this long: `X-Amz-Expires` counts whole
/// seconds, so anything under one second would be signed as `0` (dead on arrival).
pub(crate) fn presign_validity_ok(expires: Duration) -> bool {
    expires >= Duration::from_secs(1) && expires <= MAX_PRESIGN
}

/// The `Host` header reqwest sends for `url`: host, plus `:port` when not the default.
pub(crate) fn url_host_header(url: &Url) -> Option<String> {
    let host = url.host_str().filter(|h| !h.is_empty())?;
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    })
}

/// Origin path in front of the viewer's path and query, the way CloudFront joins them.
fn join_paths(origin_path: &str, viewer: &str) -> String {
    let mut out = String::with_capacity(origin_path.len() + viewer.len() + 1);
    out.push_str(origin_path);
    if !viewer.starts_with('/') {
        out.push('/');
    }
    out.push_str(viewer);
    out
}

fn validate_host(host: &str) -> Result<String, ConfigError> {
    if host.is_empty() {
        return Err(ConfigError::EmptyHost {
            url: host.to_owned(),
        });
    }
    // As the authority of a URL it must parse to exactly a host and port: this rejects
    // paths, spaces, user info and queries smuggled into a Host header.
    let valid = Url::parse(&format!("https://{host}/")).is_ok_and(|url| {
        url.path() == "/"
            && url.username().is_empty()
            && url.query().is_none()
            && url.host_str().is_some_and(|h| !h.is_empty())
    });
    if valid {
        Ok(host.to_ascii_lowercase())
    } else {
        Err(ConfigError::InvalidSigningHost {
            host: redact::redact_authority_text(host).into_owned(),
        })
    }
}

/// A service or region must be a plain token: it is a path segment of the credential scope.
pub(crate) fn validate_scope(what: &'static str, value: &str) -> Result<(), InvalidSetting> {
    let ok = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(InvalidSetting::Scope {
            what,
            value: value.to_owned(),
        })
    }
}

/// Service and region named by an AWS host, e.g.
/// `abc.execute-api.eu-west-1.amazonaws.com` → (`execute-api`, `eu-west-1`), from AWS's
/// endpoint metadata (see [`crate::engine::endpoints`]).
pub(crate) fn infer_scope(host: &str) -> Option<(&'static str, &str)> {
    crate::engine::endpoints::infer_scope(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(routes: &[Route]) -> RouteTable {
        RouteTable::compile(routes, |_| 0).expect("valid routes")
    }

    impl RouteTable {
        /// `resolve` for URLs every route can place.
        fn resolve_ok(&self, url: &Url) -> Option<Resolved<'_>> {
            self.resolve(url).expect("placeable URL").map(|(r, _)| r)
        }
    }

    fn url(s: &str) -> Url {
        Url::parse(s).expect("test URL")
    }

    const ORIGIN: &str = "https://abc123.execute-api.us-east-1.amazonaws.com/prod";

    /// A host's scope is read from it once when every request signs that host, whether it
    /// names one or not (a custom domain, a local server): only a wildcard route reads each
    /// request's host.
    #[test]
    fn a_fixed_hosts_scope_is_worked_out_once() {
        let t = table(&[
            Route::direct("https://abc123.execute-api.eu-west-1.amazonaws.com"),
            Route::direct("http://127.0.0.1:8080"),
            Route::custom_domain("https://*.api.example.com"),
        ]);
        let scope_of = |host: &str| {
            let entry = t
                .entries
                .iter()
                .find(|e| e.pattern.describe().contains(host));
            match &entry.expect("an entry").fixed {
                Some(FixedHost {
                    scope: Some((service, region)),
                    ..
                }) => format!("{service} {region}"),
                Some(FixedHost { scope: None, .. }) => "fixed, none".to_owned(),
                None => "per request".to_owned(),
            }
        };
        assert_eq!(scope_of("abc123"), "execute-api eu-west-1");
        assert_eq!(scope_of("127.0.0.1"), "fixed, none");
        assert_eq!(scope_of("api.example.com"), "per request");
        // And what a request then gets is what reading its host gives.
        let u = url("https://x.api.example.com/a");
        let (_, inferred) = t.resolve(&u).unwrap().unwrap();
        assert_eq!(inferred, None);
        let u = url("https://abc123.execute-api.eu-west-1.amazonaws.com/a");
        let (_, inferred) = t.resolve(&u).unwrap().unwrap();
        assert_eq!(inferred, Some(("execute-api", Cow::Borrowed("eu-west-1"))));
        // A wildcard under a partition's suffix that is not a shared domain: each host
        // names its own scope.
        let t = table(&[Route::custom_domain(
            "https://*.execute-api.eu-isoe-west-1.cloud.adc-e.uk",
        )]);
        let u = url("https://abc.execute-api.eu-isoe-west-1.cloud.adc-e.uk/a");
        let (_, inferred) = t.resolve(&u).unwrap().unwrap();
        assert_eq!(
            inferred,
            Some(("execute-api", Cow::Borrowed("eu-isoe-west-1")))
        );
    }

    #[test]
    fn direct_signs_what_is_sent_including_port() {
        let t = table(&[Route::direct("http://api.local:8080")]);
        let u = url("http://api.local:8080/a%20b?x=1");
        let r = t.resolve_ok(&u).unwrap();
        assert_eq!(&*r.sign_host, "api.local:8080");
        assert_eq!(r.path_and_query(&u), "/a%20b?x=1");
        assert!(r.send_url.is_none() && r.send_host.is_none());
        assert!(t.resolve_ok(&url("http://api.local:9090/")).is_none());
        assert!(t.resolve_ok(&url("https://api.local:8080/")).is_none());
        assert!(t.resolve_ok(&url("http://other.local:8080/")).is_none());
    }

    #[test]
    fn cloudfront_alias_signs_for_origin_host_and_path() {
        let t = table(&[Route::cloudfront("https://www.example.com", ORIGIN)]);
        let u = url("https://www.example.com/items?x=1");
        let r = t.resolve_ok(&u).unwrap();
        assert_eq!(&*r.sign_host, "abc123.execute-api.us-east-1.amazonaws.com");
        assert_eq!(r.path_and_query(&u), "/prod/items?x=1");
        assert_eq!(r.route.signed_headers, SignedHeaders::HostAndAmzOnly);
        // Without rewriting, a URL written for the origin is not this route's.
        assert!(t.resolve_ok(&url(&format!("{ORIGIN}/items"))).is_none());
    }

    #[test]
    fn cloudfront_behavior_prefix_is_kept_in_the_signed_path() {
        let t = table(&[Route::cloudfront("https://d1.cloudfront.net/api", ORIGIN)]);
        let u = url("https://d1.cloudfront.net/api/x");
        let r = t.resolve_ok(&u).unwrap();
        assert_eq!(r.path_and_query(&u), "/prod/api/x");
        assert!(t
            .resolve_ok(&url("https://d1.cloudfront.net/other"))
            .is_none());
        assert!(t
            .resolve_ok(&url("https://d1.cloudfront.net/apix"))
            .is_none());
    }

    #[test]
    fn origin_urls_are_rewritten_to_the_alias() {
        let t = table(&[
            Route::cloudfront("http://www.example.com:8443", ORIGIN).rewrite_origin_urls(true)
        ]);
        let u = url(&format!("{ORIGIN}/items/1?q=a+b"));
        let r = t.resolve_ok(&u).unwrap();
        assert_eq!(
            r.send_url.as_deref().map(Url::as_str),
            Some("http://www.example.com:8443/items/1?q=a+b")
        );
        assert_eq!(&*r.sign_host, "abc123.execute-api.us-east-1.amazonaws.com");
        assert_eq!(r.path_and_query(&u), "/prod/items/1?q=a+b");
        // Outside the origin path (another stage, a path the prefix does not end on) no
        // alias URL reaches it: the route claims the host, so it is an error, not unsigned.
        for outside in ["/dev/items", "/production", "/"] {
            let u = url(&format!(
                "https://abc123.execute-api.us-east-1.amazonaws.com{outside}?q=1"
            ));
            match t.resolve(&u) {
                Err(Error::OutsideOriginPath { url, origin_path }) => {
                    assert_eq!(
                        url,
                        format!("https://abc123.execute-api.us-east-1.amazonaws.com{outside}")
                    );
                    assert_eq!(origin_path, "/prod");
                }
                other => panic!("{outside}: {other:?}"),
            }
            assert!(t.claims(&u) && !t.matches(&u), "{outside}");
        }
        // Another scheme or port is another origin: not this route's.
        for other in [
            "http://abc123.execute-api.us-east-1.amazonaws.com/dev",
            "https://abc123.execute-api.us-east-1.amazonaws.com:8443/dev",
        ] {
            assert!(t.resolve(&url(other)).unwrap().is_none(), "{other}");
        }
    }

    #[test]
    fn another_route_on_a_rewritten_origin_wins_over_the_outside_path_error() {
        for other in [
            Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com").region("root"),
            Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com/dev").region("dev"),
        ] {
            let t = table(&[
                Route::cloudfront("https://www.example.com", ORIGIN).rewrite_origin_urls(true),
                other,
            ]);
            let u = url("https://abc123.execute-api.us-east-1.amazonaws.com/dev/items");
            let r = t.resolve_ok(&u).expect("the other route");
            assert_eq!(r.route.kind, RouteKind::Direct);
            assert!(r.send_url.is_none());
            // The origin path is still the CloudFront route's (the more specific).
            let u = url(&format!("{ORIGIN}/items"));
            assert_eq!(t.resolve_ok(&u).unwrap().route.kind, RouteKind::CloudFront);
        }
    }

    #[test]
    fn host_override_sends_and_signs_the_other_host() {
        let t = table(&[Route::host_override(
            "https://vpce-1.execute-api.us-east-1.vpce.amazonaws.com",
            "abc123.execute-api.us-east-1.amazonaws.com",
        )]);
        let u = url("https://vpce-1.execute-api.us-east-1.vpce.amazonaws.com/prod/x");
        let r = t.resolve_ok(&u).unwrap();
        assert_eq!(&*r.sign_host, "abc123.execute-api.us-east-1.amazonaws.com");
        assert_eq!(r.send_host, Some(&*r.sign_host));
        assert_eq!(r.path_and_query(&u), "/prod/x");
    }

    #[test]
    fn only_a_host_override_to_another_host_overrides_the_host() {
        let vpce = "https://vpce-1.execute-api.us-east-1.vpce.amazonaws.com";
        let execute_api = "abc123.execute-api.us-east-1.amazonaws.com";
        assert!(table(&[Route::host_override(vpce, execute_api)]).overrides_host());
        assert!(table(&[
            Route::direct(format!("https://{execute_api}")),
            Route::host_override("http://127.0.0.1:8080", execute_api),
        ])
        .overrides_host());
        // The URL's own host (any case, its port included): nothing for HTTP/2 to lose.
        let same = Route::host_override("http://proxy.local:8080", "PROXY.local:8080");
        assert!(!table(&[same]).overrides_host());
        assert!(!table(&[
            Route::direct(format!("https://{execute_api}")),
            Route::cloudfront("https://www.example.com", ORIGIN),
        ])
        .overrides_host());
    }

    #[test]
    fn most_specific_route_wins() {
        // A wildcard under an AWS domain is refused (tests/edges_routes.rs),
        // so the precedence is shown on a custom domain.
        let t = table(&[
            Route::direct("https://*.api.example.com").region("wild"),
            Route::direct("https://abc123.api.example.com").region("host"),
            Route::direct("https://abc123.api.example.com/prod/admin").region("prefix"),
        ]);
        let region = |u: &str| t.resolve_ok(&url(u)).and_then(|r| r.route.region.clone());
        assert_eq!(
            region("https://abc123.api.example.com/prod/admin/x").as_deref(),
            Some("prefix")
        );
        assert_eq!(
            region("https://abc123.api.example.com/prod/users").as_deref(),
            Some("host")
        );
        assert_eq!(
            region("https://zzz.api.example.com/").as_deref(),
            Some("wild")
        );
        assert_eq!(region("https://api.example.com/"), None);
        // A host that is the wildcard's suffix itself, with an empty first label.
        assert_eq!(region("https://.api.example.com/"), None);
    }

    #[test]
    fn invalid_configs_are_typed_errors() {
        let err = |r: Route| RouteTable::compile(&[r], |_| 0).unwrap_err();
        assert!(matches!(
            err(Route::direct("ftp://x.example.com")),
            ConfigError::UnsupportedScheme { .. }
        ));
        assert!(matches!(
            err(Route::direct("not a url")),
            ConfigError::InvalidUrl { .. }
        ));
        for parts in [
            "https://x.example.com/?q=1",
            "https://x.example.com/#f",
            "https://user@x.example.com",
            "https://:secret@x.example.com",
        ] {
            assert!(
                matches!(
                    err(Route::direct(parts)),
                    ConfigError::UnexpectedUrlParts { .. }
                ),
                "{parts}"
            );
        }
        assert!(matches!(
            err(Route::cloudfront(
                "https://abc123.execute-api.us-east-1.amazonaws.com",
                ORIGIN
            )),
            ConfigError::AliasEqualsOrigin { .. }
        ));
        assert!(matches!(
            err(Route::host_override("https://x.example.com", "")),
            ConfigError::EmptyHost { .. }
        ));
        assert!(matches!(
            err(Route::host_override("https://x.example.com", "a b/c")),
            ConfigError::InvalidSigningHost { .. }
        ));
        assert!(matches!(
            err(Route::direct("https://x.example.com").region("us east")),
            ConfigError::InvalidScope { .. }
        ));
        assert!(matches!(
            RouteTable::compile(
                &[
                    Route::direct("https://x.example.com/a/"),
                    Route::custom_domain("https://X.example.com/a"),
                ],
                |_| 0
            )
            .unwrap_err(),
            ConfigError::DuplicateRoute { .. }
        ));
    }

    /// A wildcard is the whole first label of a direct or custom-domain route's host and
    /// nothing else: anywhere else, or on a CloudFront or host-override route, it is a typed
    /// error, not a pattern that matches more hosts than the route names.
    #[test]
    fn a_wildcard_anywhere_but_a_whole_first_label_is_refused() {
        let err = |r: Route| RouteTable::compile(&[r], |_| 0).unwrap_err();
        for base in [
            "https://*x.api.example.com",
            "https://a.*.example.com",
            "https://*.",
        ] {
            assert!(
                matches!(err(Route::direct(base)), ConfigError::InvalidUrl { .. }),
                "{base}"
            );
        }
        assert!(matches!(
            err(Route::direct("https://*.*.api.example.com")),
            ConfigError::WildcardTooBroad { .. }
        ));
        for route in [
            Route::cloudfront("https://*.cdn.example.com", ORIGIN),
            Route::host_override("https://*.vpce.example.com", "api.example.com"),
        ] {
            assert!(
                matches!(err(route.clone()), ConfigError::InvalidUrl { .. }),
                "{route:?}"
            );
        }
    }

    #[test]
    fn a_region_set_is_a_comma_list_of_region_names_and_wildcards() {
        let compile = |set: &str| {
            let mut route = Route::direct("https://x.example.com");
            route.region_set = Some(set.to_owned());
            RouteTable::compile(&[route], |_| 0)
        };
        for set in ["us-east-1", "us-east-1,eu-west-1", "*", "us-*"] {
            compile(set).unwrap_or_else(|e| panic!("{set}: {e}"));
        }
        for set in ["", "us-east-1,", ",us-east-1", "us east-1", "us-east-1;x"] {
            assert!(
                matches!(
                    compile(set).unwrap_err(),
                    ConfigError::InvalidScope {
                        what: "region set",
                        ..
                    }
                ),
                "{set}"
            );
        }
    }

    #[test]
    fn a_service_or_region_is_a_plain_token() {
        for value in ["us-east-1", "execute-api", "a_b.c", "S3"] {
            assert!(validate_scope("region", value).is_ok(), "{value}");
        }
        for value in ["", "us east", "a/b", "a:b", "ü"] {
            assert!(validate_scope("region", value).is_err(), "{value}");
        }
    }

    #[test]
    fn route_url_errors_and_debug_hide_a_password() {
        let err = |r: Route| RouteTable::compile(&[r], |_| 0).unwrap_err().to_string();
        let shown = [
            err(Route::direct("https://user:secret@x.example.com/a")),
            err(Route::direct("https://user:se/cret@x.example.com/a")),
            err(Route::direct("ftp://user:secret@x.example.com")),
            err(Route::cloudfront(
                "https://user:secret@abc123.execute-api.us-east-1.amazonaws.com",
                ORIGIN,
            )),
            err(Route::host_override(
                "https://x.example.com",
                "user:secret@x.example.com",
            )),
            format!(
                "{:?}",
                Route::host_override("https://u:secret@x.example.com", "u:secret@h")
            ),
            format!(
                "{:?}",
                Route::cloudfront("https://u:secret@a.example.com", "https://u:secret@o")
            ),
        ];
        for text in shown {
            assert!(!text.contains("secret"), "{text}");
            assert!(text.contains("REDACTED"), "{text}");
        }
        // And the errors of a URL routes claim but cannot place.
        let t = table(&[
            Route::cloudfront("https://www.example.com/api", ORIGIN).rewrite_origin_urls(true)
        ]);
        for path in ["/prod/other", "/dev"] {
            let u = url(&format!(
                "https://user:secret@abc123.execute-api.us-east-1.amazonaws.com{path}"
            ));
            let text = t.resolve(&u).unwrap_err().to_string();
            assert!(!text.contains("secret"), "{text}");
            assert!(
                text.contains(&format!(
                    "https://user:REDACTED@abc123.execute-api.us-east-1.amazonaws.com{path}"
                )),
                "{text}"
            );
        }
    }

    #[test]
    fn scope_is_inferred_from_well_known_hosts() {
        assert_eq!(
            infer_scope("abc.execute-api.eu-west-1.amazonaws.com"),
            Some(("execute-api", "eu-west-1"))
        );
        assert_eq!(
            infer_scope("abc.execute-api.eu-west-1.amazonaws.com:443"),
            Some(("execute-api", "eu-west-1"))
        );
        assert_eq!(
            infer_scope("vpce-1-a.execute-api.us-east-2.vpce.amazonaws.com"),
            Some(("execute-api", "us-east-2"))
        );
        assert_eq!(
            infer_scope("xyz.lambda-url.ap-southeast-2.on.aws"),
            Some(("lambda", "ap-southeast-2"))
        );
        assert_eq!(
            infer_scope("svc-0123.7d67968.vpc-lattice-svcs.us-west-2.on.aws"),
            Some(("vpc-lattice-svcs", "us-west-2"))
        );
        assert_eq!(
            infer_scope("search-logs-abc.eu-central-1.es.amazonaws.com"),
            Some(("es", "eu-central-1"))
        );
        assert_eq!(
            infer_scope("abcdef.us-east-1.aoss.amazonaws.com"),
            Some(("aoss", "us-east-1"))
        );
        assert_eq!(
            infer_scope("bucket.s3.us-east-2.amazonaws.com"),
            Some(("s3", "us-east-2"))
        );
        assert_eq!(infer_scope("api.example.com"), None);
        assert_eq!(infer_scope("execute-api.evil.example.com"), None);
    }
}
