//! The summary of a signature: [`SignedRequest`], what a request was signed as, kept on
//! its response and rendered (canonical request, string-to-sign) only when someone asks.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};

use crate::canonical;
use crate::engine::body::PayloadHash;
use crate::engine::replay::Kept;
use crate::engine::route::{CompiledRoute, RouteKind};
use crate::engine::sign::{
    check_host_carried, form_encode, is_signed, AmzDate, ServiceProfile, SigningCredentials,
};
use crate::error::Error;

/// What a request was signed as: host, path, headers, scope. Attached to the response of a
/// signed request (`response.extensions().get::<SignedRequest>()`) when its status is not
/// a success, or to every response with
/// [`summaries(SummaryPolicy::Always)`](crate::SigV4MiddlewareBuilder::summaries); the key
/// to explaining a 403: [`canonical_request`](Self::canonical_request) is what API
/// Gateway's answer is compared with.
///
/// Built from what signing already had (moved strings, reference-counted header values).
/// It keeps only what recomputing the string-to-sign needs: the access key id and, when
/// the credentials have one, the session token, which `Debug` and the canonical request
/// redact. Neither the secret key nor the
/// signing key derived from it is kept: a response can be stored or logged without them.
///
/// The canonical request is rendered with the same rules the signer was configured with
/// (the service's profile decides both), from the path, query, headers and payload hash
/// handed to the signer.
#[derive(Clone)]
pub struct SignedRequest {
    /// The request as it was before it was signed: method, URL and headers (the signed
    /// ones are read from it, not copied).
    pub(in crate::engine) kept: Kept,
    pub(in crate::engine) host: Arc<str>,
    /// The signed path and query when they are not the kept URL's own.
    pub(in crate::engine) path_and_query: Option<String>,
    /// Signed headers whose values were folded: every value of each such name, as signed.
    pub(in crate::engine) folded: Vec<(HeaderName, HeaderValue)>,
    /// The route: which headers it signs, and its kind.
    pub(in crate::engine) route: Arc<CompiledRoute>,
    /// Whether the signature went in headers (else in the query).
    pub(in crate::engine) in_headers: bool,
    /// Whether `x-amz-content-sha256` was signed.
    pub(in crate::engine) hash_header: bool,
    pub(in crate::engine) payload_sha256: PayloadHash,
    pub(in crate::engine) amz_date: AmzDate,
    pub(in crate::engine) service: Cow<'static, str>,
    pub(in crate::engine) region: Arc<str>,
    pub(in crate::engine) access_key_id: Arc<str>,
    /// Signed (in a header or the query) whenever present.
    pub(in crate::engine) session_token: Option<Arc<str>>,
    /// How the signer canonicalized the request.
    pub(in crate::engine) rules: canonical::Rules,
    pub(in crate::engine) sigv4a: bool,
}

/// One signature as the send loop holds it until the answer is in: the kept request (what a
/// retry or a redirect sends again) and what the [`SignedRequest`] summary is made of, its
/// strings still borrowed from the route table and the credentials. Most answers need no
/// summary (a success): only those that do pay for the copies, in
/// [`into_summary`](Self::into_summary).
pub(crate) struct Signed<'a> {
    pub(in crate::engine) kept: Kept,
    pub(in crate::engine) host: Cow<'a, str>,
    /// What few requests have (boxed: the send loop's future holds this across the send).
    pub(in crate::engine) rewritten: Option<Box<Rewritten>>,
    pub(in crate::engine) route: &'a Arc<CompiledRoute>,
    pub(in crate::engine) in_headers: bool,
    pub(in crate::engine) hash_header: bool,
    pub(in crate::engine) payload_sha256: PayloadHash,
    pub(in crate::engine) amz_date: AmzDate,
    pub(in crate::engine) service: Cow<'a, str>,
    pub(in crate::engine) region: Cow<'a, str>,
    pub(in crate::engine) credentials: &'a SigningCredentials,
    pub(in crate::engine) profile: ServiceProfile,
    pub(in crate::engine) sigv4a: bool,
}

/// What a request was signed with besides its kept self: a path and query that are not its
/// URL's own, header values folded.
#[derive(Clone)]
pub(crate) struct Rewritten {
    pub(in crate::engine) path_and_query: Option<String>,
    pub(in crate::engine) folded: Vec<(HeaderName, HeaderValue)>,
}

impl<'a> Signed<'a> {
    /// What was kept of the request before it was signed, to send it again.
    pub(crate) fn kept(&self) -> &Kept {
        &self.kept
    }

    /// The credentials it was signed with (the credentials cache's own: their address
    /// tells which cached entry they are).
    pub(crate) fn credentials(&self) -> &'a SigningCredentials {
        self.credentials
    }

    /// Fails when the answer came over `version`, HTTP/2 or later, which could not carry
    /// the `Host` header the route sent ([`check_host_carried`]).
    pub(crate) fn check_host_carried(&self, version: http::Version) -> Result<(), Error> {
        // The URL is parsed back only for a host override answered over HTTP/2.
        match self.route.sent_host() {
            Some(host) if version >= http::Version::HTTP_2 => {
                check_host_carried(version, host, &self.kept.url())
            }
            _ => Ok(()),
        }
    }

    /// The signing time, `YYYYMMDD'T'HHMMSS'Z'`.
    pub(crate) fn amz_date(&self) -> &str {
        self.amz_date.as_str()
    }

    /// The summary, owning what it keeps: it may outlive the request, the route table and
    /// the credentials (it keeps the access key id and the session token, never the
    /// secret key).
    pub(crate) fn into_summary(self) -> SignedRequest {
        let (path_and_query, folded) = match self.rewritten {
            Some(rewritten) => (rewritten.path_and_query, rewritten.folded),
            None => (None, Vec::new()),
        };
        SignedRequest {
            kept: self.kept,
            host: Arc::from(self.host),
            path_and_query,
            folded,
            route: self.route.clone(),
            in_headers: self.in_headers,
            hash_header: self.hash_header,
            payload_sha256: self.payload_sha256,
            amz_date: self.amz_date,
            service: Cow::Owned(self.service.into_owned()),
            region: Arc::from(self.region),
            access_key_id: self.credentials.access_key_id.clone(),
            session_token: self.credentials.session_token.clone(),
            rules: self.profile.rules(),
            sigv4a: self.sigv4a,
        }
    }

    /// The summary, leaving this one to the send loop (for a DEBUG line).
    pub(crate) fn to_summary(&self) -> SignedRequest {
        Signed {
            kept: self.kept.clone(),
            host: Cow::Borrowed(&*self.host),
            rewritten: self.rewritten.clone(),
            payload_sha256: self.payload_sha256.clone(),
            service: Cow::Borrowed(&*self.service),
            region: Cow::Borrowed(&*self.region),
            ..*self
        }
        .into_summary()
    }
}

impl From<Signed<'_>> for SignedRequest {
    fn from(signed: Signed<'_>) -> Self {
        signed.into_summary()
    }
}

impl SignedRequest {
    /// What was kept of the request before it was signed, to send it again.
    pub(crate) fn kept(&self) -> &Kept {
        &self.kept
    }

    /// The route it was signed by.
    pub(crate) fn compiled_route(&self) -> &CompiledRoute {
        &self.route
    }

    /// The HTTP method.
    pub fn method(&self) -> &str {
        self.kept.method().as_str()
    }

    /// The `Host` that was signed.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path and query that were signed, percent-encoded as sent; for a presigned
    /// request with the `X-Amz-*` parameters but the signature (and the session token's
    /// value redacted).
    pub fn path_and_query(&self) -> &str {
        match &self.path_and_query {
            Some(owned) => owned,
            None => self.kept.path_and_query(),
        }
    }

    /// The signed headers besides `host` (lower-case names, values as sent); the session
    /// token's value is `<redacted>`.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let policy = &self.route.signed_headers;
        let mut next_folded = 0;
        let own = self
            .kept
            .headers()
            .filter(move |(name, _, _)| is_signed(name, policy))
            .map(move |(name, value, _)| match self.folded.get(next_folded) {
                Some((folded_name, folded)) if folded_name == name => {
                    next_folded += 1;
                    (name, folded.to_str().unwrap_or_default())
                }
                _ => (name, std::str::from_utf8(value).unwrap_or_default()),
            });
        let added = [
            ("x-amz-date", Some(self.amz_date.as_str())),
            (
                "x-amz-security-token",
                self.session_token.as_ref().map(|_| canonical::REDACTED),
            ),
            (
                "x-amz-content-sha256",
                self.hash_header.then_some(&*self.payload_sha256),
            ),
            ("x-amz-region-set", self.sigv4a.then_some(&*self.region)),
        ];
        let added = added
            .into_iter()
            .filter(|_| self.in_headers)
            .filter_map(|(name, value)| Some((name, value?)));
        own.chain(added)
    }

    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    pub fn payload_sha256(&self) -> &str {
        &self.payload_sha256
    }

    /// The signing time, `YYYYMMDD'T'HHMMSS'Z'`.
    pub fn amz_date(&self) -> &str {
        self.amz_date.as_str()
    }

    /// The service in the credential scope.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The region in the credential scope (for SigV4a, the region set).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The access key id that signed (not a secret).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The kind of route the request matched.
    pub fn route(&self) -> RouteKind {
        self.route.kind
    }

    /// `AWS4-HMAC-SHA256`, or `AWS4-ECDSA-P256-SHA256` for SigV4a.
    pub fn algorithm(&self) -> &'static str {
        if self.sigv4a {
            canonical::ALGORITHM_V4A
        } else {
            canonical::ALGORITHM
        }
    }

    /// The canonical request that was signed, with the session token's value replaced by
    /// `<redacted>`: compare it with the one in API Gateway's 403 answer.
    pub fn canonical_request(&self) -> String {
        self.render_canonical_request(false)
    }

    /// The string-to-sign that was signed.
    pub fn string_to_sign(&self) -> String {
        let amz_date = self.amz_date.as_str();
        let date = amz_date.get(..8).unwrap_or_default();
        if self.sigv4a {
            // SigV4a's scope has no region: the region set is a signed header instead.
            let scope = canonical::CredentialScopeV4a::new(date, &*self.service);
            return canonical::string_to_sign_v4a(
                amz_date,
                &scope,
                &self.render_canonical_request(true),
            );
        }
        let scope = canonical::CredentialScope::new(date, &*self.region, &*self.service);
        canonical::string_to_sign(amz_date, &scope, &self.render_canonical_request(true))
    }

    fn render_canonical_request(&self, with_token: bool) -> String {
        let rules = self.rules;
        let token = self.session_token.as_deref().filter(|_| with_token);
        let redacted_param = format!("X-Amz-Security-Token={}", canonical::REDACTED);
        let signed_path = self.path_and_query();
        let path_and_query = match token {
            Some(token) if signed_path.contains(&redacted_param) => {
                Cow::Owned(signed_path.replace(
                    &redacted_param,
                    &format!("X-Amz-Security-Token={}", form_encode(token)),
                ))
            }
            _ => Cow::Borrowed(signed_path),
        };
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((&path_and_query, ""));
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(8);
        headers.push(("host", &self.host));
        for (name, value) in self.headers() {
            let value = match token {
                Some(token) if name == "x-amz-security-token" => token,
                _ => value,
            };
            headers.push((name, value));
        }
        let mut names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        canonical::canonical_request(
            self.method(),
            &canonical::canonical_path(path, rules.normalize_path, rules.path_encoding),
            &canonical::canonical_query(query, rules.query_plus),
            &canonical::canonical_headers(&headers, &names).unwrap_or_default(),
            &canonical::signed_headers_list(&names),
            &self.payload_sha256,
        )
    }
}

impl fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self.headers().collect();
        f.debug_struct("SignedRequest")
            .field("method", &self.method())
            .field("host", &self.host)
            .field("path_and_query", &self.path_and_query())
            .field("headers", &headers)
            .field("payload_sha256", &self.payload_sha256())
            .field("amz_date", &self.amz_date())
            .field("service", &self.service)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id())
            .field("route", &self.route())
            .field("algorithm", &self.algorithm())
            .finish()
    }
}
