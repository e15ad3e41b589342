//! The sans-IO engine: what a request becomes. Given a request's method, URL and headers,
//! its body hash, the route table, credentials and a time, it decides what to sign and
//! what to send; given an answer, whether to correct the clock, retry or follow a redirect.
//! No reqwest and no tokio here: the adapters (`crate::adapter`) do the I/O around it.
//!
//! A request goes through it top to bottom:
//! 1. [`Engine::plan`]: the route ([`route`]) and the scope ([`scope`]) it is signed for,
//!    once the signing parameters its URL came with are stripped ([`strip_signature`]);
//! 2. [`body`]: the payload hash (the adapter feeds a streamed body chunk by chunk);
//! 3. [`Engine::sign`]: the signature by `aws-sigv4` ([`sign`]) put on the request, and a
//!    [`SignedRequest`](summary) summary of what was signed;
//! 4. the answer: [`forbidden`] reads a 403, [`Engine::clock_correction`] decides a clock
//!    retry, [`redirect`] the next hop.

pub(crate) mod body;
pub(crate) mod clock;
pub(crate) mod endpoints;
pub(crate) mod forbidden;
pub(crate) mod presign;
pub(crate) mod redirect;
pub(crate) mod replay;
pub(crate) mod route;
pub(crate) mod scope;
pub(crate) mod sign;
pub(crate) mod summary;

use std::borrow::Cow;
use std::time::Duration;

use http::header::AUTHORIZATION;
use http::{HeaderMap, HeaderValue, Method};
use url::Url;

use crate::config::{RedirectPolicy, SigningOverride};
use crate::error::Error;
use crate::redact::Redacted;
use body::PreparedBody;
use clock::{ClockOffsets, SharedClock};
use forbidden::Inspected;
use replay::Kept;
use route::RouteTable;
use scope::{Defaults, Plan};
use sign::{
    sign_request, strip_query_signature, Placement, SigningCredentials, ToSign, SIGNATURE_HEADERS,
};
use summary::Signed;

/// A request as the engine reads and changes it: the parts every HTTP client's request
/// has. The adapters implement it for their clients' request types.
pub(crate) trait RequestHead {
    fn method(&self) -> &Method;
    fn method_mut(&mut self) -> &mut Method;
    fn url(&self) -> &Url;
    fn url_mut(&mut self) -> &mut Url;
    fn headers(&self) -> &HeaderMap;
    fn headers_mut(&mut self) -> &mut HeaderMap;
}

/// A request head of the engine's own: what presigning signs (method and URL, no
/// headers), and what unit tests sign.
pub(crate) struct Head {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) headers: HeaderMap,
}

impl Head {
    pub(crate) fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: HeaderMap::new(),
        }
    }
}

impl RequestHead for Head {
    fn method(&self) -> &Method {
        &self.method
    }
    fn method_mut(&mut self) -> &mut Method {
        &mut self.method
    }
    fn url(&self) -> &Url {
        &self.url
    }
    fn url_mut(&mut self) -> &mut Url {
        &mut self.url
    }
    fn headers(&self) -> &HeaderMap {
        &self.headers
    }
    fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }
}

/// The per-middleware configuration the engine decides with, and what it learns (clock
/// offsets).
#[derive(Debug)]
pub(crate) struct Engine {
    pub(crate) routes: RouteTable,
    pub(crate) defaults: Defaults,
    pub(crate) clock: SharedClock,
    pub(crate) offsets: ClockOffsets,
    pub(crate) max_clock_correction: Option<Duration>,
    pub(crate) redirects: RedirectPolicy,
}

/// Removes every trace of an earlier signature from `req`: the signature headers an
/// earlier attempt set and the signing parameters its URL carries (a presigned URL sent
/// again, a redirect's `Location`). Whatever signs it next signs exactly what is sent.
///
/// An `Authorization` header that is not a SigV4 signature is the caller's own credential,
/// not a trace of one: it is kept (a request signed in headers is refused with it, by
/// [`Engine::plan`]; one signed in the query, or not signed, is sent with it).
pub(crate) fn strip_signature(req: &mut impl RequestHead) {
    // A scan of the few headers a request has beats four hashed removals.
    if req
        .headers()
        .keys()
        .any(|name| sign::is_signature_header(name.as_str()))
    {
        let own: Vec<HeaderValue> = req
            .headers()
            .get_all(AUTHORIZATION)
            .iter()
            .filter(|value| !sign::is_sigv4_authorization(value))
            .cloned()
            .collect();
        for name in SIGNATURE_HEADERS {
            req.headers_mut().remove(name);
        }
        for value in own {
            req.headers_mut().append(AUTHORIZATION, value);
        }
    }
    strip_query_signature(req.url_mut());
}

impl Engine {
    /// The route and scope `req` is signed for, `None` when no route matches it (sent
    /// unsigned). The signing parameters its URL came with are stripped first: the route
    /// resolves the path and query to sign from this URL, so it must be the one sent.
    ///
    /// Refused before anything is signed: a URL routes claim but cannot place, and an
    /// `Authorization` header of the caller's own on a route that signs in headers (the
    /// signature would replace it).
    pub(crate) fn plan<'a>(
        &'a self,
        req: &mut impl RequestHead,
        overrides: Option<&'a SigningOverride>,
    ) -> Result<Option<Plan<'a>>, Error> {
        // The URL of a request no route claims is sent as it is, stale parameters and all.
        if sign::has_query_signature(req.url()) {
            if !self.routes.claims(req.url()) {
                return Ok(None);
            }
            strip_query_signature(req.url_mut());
        }
        let plan = scope::plan(&self.routes, &self.defaults, req.url(), overrides)?;
        if let Some(plan) = &plan {
            if plan.presign.or(plan.resolved.route.presign).is_none() {
                sign::check_caller_authorization(req.headers())?;
            }
        }
        Ok(plan)
    }

    /// Signs `req` in place by `plan`, for the body `body` hashes to, with `credentials`;
    /// returns what was signed (the summary's makings). The plan's region must be known.
    pub(crate) fn sign<'p>(
        &self,
        plan: Plan<'p>,
        req: &mut impl RequestHead,
        body: &PreparedBody,
        credentials: &'p SigningCredentials,
        kept: Kept,
    ) -> Result<Signed<'p>, Error> {
        strip_signature(req);
        let Plan {
            resolved,
            service,
            region,
            presign,
            ..
        } = plan;
        let route = resolved.route;
        let region = region.ok_or_else(|| Error::MissingRegion {
            host: resolved.sign_host.to_string(),
        })?;
        if let Some(url) = resolved.send_url {
            *req.url_mut() = *url;
        }
        if let Some(host) = resolved.send_host {
            let value = HeaderValue::from_str(host).map_err(|_| Error::InvalidHeaderValue {
                name: "host".into(),
            })?;
            req.headers_mut().insert(http::header::HOST, value);
        }
        let placement = match presign.or(route.presign) {
            Some(expires) => Placement::Query(expires),
            None => Placement::Headers,
        };
        let time = self.offsets.apply(&resolved.sign_host, self.clock.now());
        let sign = || {
            let path_and_query = match resolved.sign_path_and_query {
                Some(owned) => Cow::Owned(owned),
                None => Cow::Borrowed(replay::path_and_query(req.url())),
            };
            sign_request(
                ToSign {
                    method: req.method(),
                    host: resolved.sign_host,
                    path_and_query,
                    headers: req.headers(),
                    route,
                    payload_sha256: body.sha256_hex.clone(),
                    service,
                    region,
                    time,
                    placement,
                    kept,
                },
                credentials,
            )
        };
        let (signature, signed) = match placement {
            Placement::Headers => sign()?,
            // aws-sigv4 traces the canonical request, whose query then holds the session
            // token; the crate's own line below shows it redacted.
            Placement::Query(_) => {
                tracing::dispatcher::with_default(&tracing::Dispatch::none(), sign)?
            }
        };
        signature.apply(req)?;
        if tracing::enabled!(tracing::Level::DEBUG) {
            let summary = signed.to_summary();
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
        Ok(signed)
    }

    /// The offset to retry with, when a 403 from the verifier of `host` says our clock is
    /// off and the fix is sane.
    pub(crate) fn clock_correction(
        &self,
        inspected: &Inspected,
        host: &str,
        can_retry: bool,
    ) -> Option<i64> {
        if !can_retry {
            return None;
        }
        let max = self.max_clock_correction?;
        let server_now = inspected.clock_skew_server_time()?;
        let offset = clock::millis_between(self.clock.now(), server_now);
        // Already dated by this offset (to the `Date` header's second): the skew is not
        // what failed, and the same signature would fail again.
        let already_applied = offset.abs_diff(self.offsets.get(host).unwrap_or(0)) < 1_000;
        (u128::from(offset.unsigned_abs()) <= max.as_millis() && !already_applied).then_some(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(routes: &[crate::Route]) -> Engine {
        Engine {
            routes: RouteTable::compile(routes, |_| 0).unwrap(),
            defaults: Defaults::default(),
            clock: std::sync::Arc::new(crate::SystemClock),
            offsets: ClockOffsets::default(),
            max_clock_correction: None,
            redirects: RedirectPolicy::default(),
        }
    }

    #[test]
    fn stale_signing_parameters_are_stripped_only_from_routed_requests() {
        let engine = engine(&[crate::Route::direct("https://api.example.com")]);
        let stale = "?a=1&X-Amz-Signature=abc&X-Amz-Date=20150830T123600Z";
        // No route: sent as it is, its query untouched.
        let url: Url = format!("https://other.example.com/x{stale}")
            .parse()
            .unwrap();
        let mut head = Head::new(Method::GET, url.clone());
        assert!(engine.plan(&mut head, None).unwrap().is_none());
        assert_eq!(head.url, url);
        // A route: what it signs is the query without them.
        let url: Url = format!("https://api.example.com/x{stale}").parse().unwrap();
        let mut head = Head::new(Method::GET, url);
        let plan = engine.plan(&mut head, None).unwrap().expect("routed");
        assert_eq!(head.url.as_str(), "https://api.example.com/x?a=1");
        assert!(plan.resolved.sign_path_and_query.is_none());
    }

    /// The engine is the part a reader can follow without an HTTP client or a runtime: no
    /// file of it names reqwest or tokio outside comments and tests.
    #[test]
    fn the_engine_does_no_io() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/engine");
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                let line = line.split("//").next().unwrap_or_default();
                for io in ["reqwest", "tokio", "hyper"] {
                    assert!(
                        !line.contains(io),
                        "{}:{}: {io} in the engine: {line}",
                        path.display(),
                        n + 1
                    );
                }
            }
        }
    }
}
