//! An independent SigV4 verifier, written from the specification with `hmac` + `sha2` (never
//! `aws-sigv4`, which the crate signs with): it checks a received request the way API Gateway
//! does and, when it refuses one, says why in API Gateway's words and in its own.
//!
//! With the `sigv4a` feature it also checks SigV4a (`AWS4-ECDSA-P256-SHA256`): the key pair
//! is derived from the credentials as the specification says (with `p256` for the curve, see
//! [`canonical::sigv4a_signing_key`](crate::canonical)), the ECDSA signature is verified with
//! the public key, and [`Verifier::region`] must be in the request's `X-Amz-Region-Set`.
//! Without the feature, SigV4a requests are refused with
//! [`RejectionKind::UnsupportedAlgorithm`].
//!
//! ```
//! use aws_credential_types::Credentials;
//! use reqwest_sigv4::verify::{ReceivedRequest, RejectionKind, Verifier};
//! use std::time::Duration;
//!
//! let raw = b"GET / HTTP/1.1\n\
//! Host:example.amazonaws.com\n\
//! X-Amz-Date:20150830T123600Z\n\
//! Authorization:AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\n\n";
//! let request = ReceivedRequest::parse_http1(raw)?;
//! let creds = Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "example");
//! let signed_at = std::time::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
//! let verifier = Verifier::new(creds)
//!     .service("service")
//!     .region("us-east-1")
//!     // The AWS suite's generic `service` single-encodes the path, unlike API Gateway.
//!     .double_encode_path(false)
//!     // Strict by default: the request's time is checked against the system clock. This
//!     // one was signed in 2015: check it at its own time.
//!     .now(signed_at);
//! let verified = verifier.verify(&request)?;
//! assert_eq!(verified.access_key_id, "AKIDEXAMPLE");
//!
//! // An hour later it is refused, as API Gateway would (5 minutes of skew by default).
//! let late = verifier.now(signed_at + Duration::from_secs(3600));
//! let rejection = late.verify(&request).unwrap_err();
//! assert!(matches!(rejection.kind, RejectionKind::SignatureExpired { .. }));
//! assert_eq!(
//!     rejection.api_gateway_message(),
//!     "Signature expired: 20150830T123600Z is now earlier than 20150830T133100Z (20150830T133600Z - 5 min.)"
//! );
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// A `Rejection` carries the expected canonical request and string-to-sign as plain fields,
// which is what it is for; refusing a request is not a hot path, so its size is accepted.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use crate::canonical::{
    self, constant_time_eq, diff_canonical_requests, format_amz_date, hex_sha256, parse_amz_date,
    CredentialScope, PathEncoding, QueryPlus, Rules, SigningKey, ALGORITHM, ALGORITHM_V4A,
    EMPTY_PAYLOAD_SHA256, REDACTED, SCOPE_TERMINATOR, UNSIGNED_PAYLOAD,
};

mod rejection;
mod request;
#[cfg(feature = "sigv4a")]
mod sigv4a;
#[cfg(feature = "wiremock")]
#[cfg_attr(docsrs, doc(cfg(feature = "wiremock")))]
pub mod wiremock;

pub use rejection::{
    Rejection, RejectionKind, ScopeField, TokenProblem, INVALID_TOKEN_MESSAGE,
    MISSING_AUTHENTICATION_MESSAGE, SIGNATURE_MISMATCH_MESSAGE,
};
pub use request::{ParseError, ReceivedRequest};

pub use crate::canonical::MAX_PRESIGN_EXPIRES;

/// Where the request carried its signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureLocation {
    /// The `Authorization` header.
    Header,
    /// The query string (a presigned URL).
    Query,
}

/// The signing algorithm a request names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// SigV4, `AWS4-HMAC-SHA256`: an HMAC over a scope that names one region.
    SigV4,
    /// SigV4a, `AWS4-ECDSA-P256-SHA256`: an ECDSA P-256 signature over a scope without a
    /// region, valid in the regions of the signed `X-Amz-Region-Set`. Verified only when the
    /// crate is built with the `sigv4a` feature; without it such a request is refused with
    /// [`RejectionKind::UnsupportedAlgorithm`].
    SigV4a,
}

impl Algorithm {
    /// The name in the `Authorization` header, `X-Amz-Algorithm` and the string-to-sign.
    pub fn name(self) -> &'static str {
        match self {
            Self::SigV4 => ALGORITHM,
            Self::SigV4a => ALGORITHM_V4A,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            ALGORITHM => Some(Self::SigV4),
            ALGORITHM_V4A => Some(Self::SigV4a),
            _ => None,
        }
    }

    /// `self`, or the rejection of an algorithm this build cannot check.
    fn supported(self) -> Result<Self, Rejection> {
        #[cfg(not(feature = "sigv4a"))]
        if self == Self::SigV4a {
            return Err(self.unsupported());
        }
        Ok(self)
    }

    #[cfg(not(feature = "sigv4a"))]
    fn unsupported(self) -> Rejection {
        Rejection::new(RejectionKind::UnsupportedAlgorithm {
            algorithm: self.name().to_owned(),
        })
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a successful verification established.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// The access key id that signed.
    pub access_key_id: String,
    /// SigV4 or SigV4a.
    pub algorithm: Algorithm,
    /// Header or query-string signing.
    pub location: SignatureLocation,
    /// The signed header names, as listed by the request (lower-cased).
    pub signed_headers: Vec<String>,
    /// The request time, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// The credential scope. A SigV4a scope names no region: for SigV4a, `region` holds the
    /// region set (as [`SignedRequest::region`](crate::SignedRequest::region) does), and
    /// `Display` does not show the scope that was signed (see [`Verified::region_set`]).
    pub scope: CredentialScope,
    /// SigV4a: the region set the signature covers (`X-Amz-Region-Set`, e.g. `*` or
    /// `us-east-1,us-west-2`). `None` for SigV4.
    pub region_set: Option<String>,
    /// The payload hash that was signed.
    pub payload_hash: String,
    /// `None` without a session token; otherwise whether the token was covered by the
    /// signature (the AWS suite's `post-sts-header-after` adds it after signing).
    pub session_token_signed: Option<bool>,
    /// The canonical request that the signature matches (holds the session token, if any;
    /// `Debug` redacts it).
    pub canonical_request: String,
    /// The string-to-sign.
    pub string_to_sign: String,
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("access_key_id", &self.access_key_id)
            .field("algorithm", &self.algorithm)
            .field("location", &self.location)
            .field("signed_headers", &self.signed_headers)
            .field("amz_date", &self.amz_date)
            .field("scope", &self.scope)
            .field("region_set", &self.region_set)
            .field("payload_hash", &self.payload_hash)
            .field("session_token_signed", &self.session_token_signed)
            .field(
                "canonical_request",
                &canonical::redact_canonical_request(&self.canonical_request),
            )
            .field("string_to_sign", &self.string_to_sign)
            .finish()
    }
}

/// The clock skew API Gateway accepts, and the verifier's default: 5 minutes.
pub const DEFAULT_MAX_SKEW: Duration = Duration::from_secs(5 * 60);

/// Checks SigV4 signatures as API Gateway does. Cheap to clone; `Debug` shows access key ids
/// and settings, never a secret key or token.
///
/// Strict by default, as API Gateway is: the request's time must be within
/// [`DEFAULT_MAX_SKEW`] of the system clock (a presigned URL must not have expired), and a
/// session token must be covered by the signature. Loosen it explicitly:
/// [`now`](Self::now) for a fixed clock (recorded requests, the AWS test suite's 2015
/// dates), [`skip_time_check`](Self::skip_time_check),
/// [`require_signed_session_token(false)`](Self::require_signed_session_token).
#[derive(Clone)]
pub struct Verifier {
    credentials: Vec<Credentials>,
    service: Option<String>,
    region: Option<String>,
    max_skew: Duration,
    now: Option<SystemTime>,
    check_time: bool,
    normalize_path: Option<bool>,
    double_encode_path: Option<bool>,
    query_plus: Option<QueryPlus>,
    require_session_token: Option<bool>,
    require_signed_session_token: bool,
    allow_unsigned_payload: bool,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Keys<'a>(&'a [Credentials]);
        impl fmt::Debug for Keys<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list()
                    .entries(self.0.iter().map(|c| {
                        (
                            c.access_key_id(),
                            if c.session_token().is_some() {
                                "with session token"
                            } else {
                                "no session token"
                            },
                        )
                    }))
                    .finish()
            }
        }
        f.debug_struct("Verifier")
            .field("access_keys", &Keys(&self.credentials))
            .field("service", &self.service)
            .field("region", &self.region)
            .field("max_skew", &self.max_skew)
            .field("now", &self.now)
            .field("check_time", &self.check_time)
            .field("normalize_path", &self.normalize_path)
            .field("double_encode_path", &self.double_encode_path)
            .field("query_plus", &self.query_plus)
            .field("require_session_token", &self.require_session_token)
            .field(
                "require_signed_session_token",
                &self.require_signed_session_token,
            )
            .field("allow_unsigned_payload", &self.allow_unsigned_payload)
            .finish()
    }
}

/// The authentication fields read from the header or the query, before checking.
struct Presented {
    algorithm: Algorithm,
    location: SignatureLocation,
    credential: String,
    signed_headers: String,
    signature: String,
    amz_date: String,
    expires: Option<u64>,
    token: Option<String>,
    token_in_query: bool,
}

/// The key and scope a signature is checked with.
enum Check {
    V4 {
        key: SigningKey,
        scope: CredentialScope,
    },
    #[cfg(feature = "sigv4a")]
    V4a {
        key: canonical::SigV4aKey,
        scope: canonical::CredentialScopeV4a,
    },
}

impl Check {
    fn string_to_sign(&self, amz_date: &str, canonical_request: &str) -> String {
        match self {
            Self::V4 { scope, .. } => canonical::string_to_sign(amz_date, scope, canonical_request),
            #[cfg(feature = "sigv4a")]
            Self::V4a { scope, .. } => {
                canonical::string_to_sign_v4a(amz_date, scope, canonical_request)
            }
        }
    }

    /// Whether `signature` signs `string_to_sign`: the HMAC recomputed for SigV4, the ECDSA
    /// signature checked with the derived public key for SigV4a (whose signatures differ on
    /// every signing, so are never compared).
    fn verify(&self, string_to_sign: &str, signature: &str) -> bool {
        match self {
            Self::V4 { key, .. } => key.verify(string_to_sign, signature),
            #[cfg(feature = "sigv4a")]
            Self::V4a { key, .. } => key.verify(string_to_sign, signature),
        }
    }
}

/// What a canonical request is built from, so that variants can be replayed cheaply.
#[derive(Clone, Copy)]
struct Shape<'a> {
    rules: Rules,
    payload_hash: &'a str,
    omit_query_token: bool,
    strip_host_port: bool,
    /// Header values canonicalized as aws-sigv4 does: tabs kept, only spaces folded.
    keep_tabs: bool,
}

impl Verifier {
    /// A verifier that accepts signatures made with `credentials`, with the strict
    /// defaults: time checked against the system clock within [`DEFAULT_MAX_SKEW`], session
    /// token required to be signed.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials: vec![credentials],
            service: None,
            region: None,
            max_skew: DEFAULT_MAX_SKEW,
            now: None,
            check_time: true,
            normalize_path: None,
            double_encode_path: None,
            query_plus: None,
            require_session_token: None,
            require_signed_session_token: true,
            allow_unsigned_payload: false,
        }
    }

    /// Also accepts signatures made with `more` (looked up by the access key id in the
    /// request's credential).
    pub fn with_credentials(mut self, more: Credentials) -> Self {
        self.credentials.push(more);
        self
    }

    /// The service the scope must name. Unset: the scope's service is taken as is.
    pub fn service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// The region the verifier stands in. A SigV4 scope must name it; a SigV4a request's
    /// region set (`X-Amz-Region-Set`) must include it, or the request is refused with
    /// [`RejectionKind::RegionNotInRegionSet`] (`*` includes every region; a `*` inside an
    /// entry, as in `us-*`, matches any run of characters). Unset: the scope's region, or the
    /// region set, is taken as is.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The largest accepted difference between the request's time and the clock (default
    /// and API Gateway's: [`DEFAULT_MAX_SKEW`], 5 minutes).
    pub fn max_skew(mut self, skew: Duration) -> Self {
        self.max_skew = skew;
        self.check_time = true;
        self
    }

    /// A fixed clock for the time checks (default: the system clock at verification): for
    /// recorded requests and test vectors, whose dates are long past.
    pub fn now(mut self, now: SystemTime) -> Self {
        self.now = Some(now);
        self.check_time = true;
        self
    }

    /// Opt out of every time check: neither the request's `X-Amz-Date` nor a presigned
    /// URL's expiry is compared with a clock. A signature made for any time verifies, so
    /// use it only where time cannot matter (comparing canonical forms, test vectors
    /// without a known "now"); [`now`](Self::now) keeps the check with a fixed clock.
    /// [`max_skew`](Self::max_skew) or [`now`](Self::now) turn the check back on.
    pub fn skip_time_check(mut self) -> Self {
        self.check_time = false;
        self
    }

    /// Whether dot segments and duplicate slashes are removed from the path before it is
    /// encoded. Default: yes, except for service `s3`.
    pub fn normalize_path(mut self, yes: bool) -> Self {
        self.normalize_path = Some(yes);
        self
    }

    /// Whether the path is encoded twice. Default: yes, except for service `s3`.
    pub fn double_encode_path(mut self, yes: bool) -> Self {
        self.double_encode_path = Some(yes);
        self
    }

    /// How a raw `+` in the query is read. Default: as a space, except for service `s3`.
    pub fn query_plus(mut self, plus: QueryPlus) -> Self {
        self.query_plus = Some(plus);
        self
    }

    /// Whether a request signed with credentials that carry a session token must present it
    /// (`X-Amz-Security-Token`, header or query). Default: yes. A token that is present must
    /// always equal the credentials' token, and one sent with credentials that have none is
    /// refused.
    pub fn require_session_token(mut self, yes: bool) -> Self {
        self.require_session_token = Some(yes);
        self
    }

    /// Whether a session token must be covered by the signature. Default: yes: a token added
    /// after signing could be swapped for another. The AWS suite's `post-sts-header-after`
    /// case adds the token after signing (a signed header list without it; a presigned query
    /// whose canonical form leaves it out): verifying it needs `false`.
    pub fn require_signed_session_token(mut self, yes: bool) -> Self {
        self.require_signed_session_token = yes;
        self
    }

    /// Whether `x-amz-content-sha256: UNSIGNED-PAYLOAD` is accepted. Default: no (API Gateway
    /// hashes the body itself). An S3 presigned URL without that header is checked over
    /// `UNSIGNED-PAYLOAD` whatever this says, as S3 does.
    pub fn allow_unsigned_payload(mut self, yes: bool) -> Self {
        self.allow_unsigned_payload = yes;
        self
    }

    /// [`Verifier::verify`] on an `http::Request` (see [`ReceivedRequest::from_http`]).
    pub fn verify_http<B: AsRef<[u8]>>(
        &self,
        req: &http::Request<B>,
    ) -> Result<Verified, Rejection> {
        self.verify(&ReceivedRequest::from_http(req))
    }

    fn rules_for(&self, service: &str) -> Rules {
        let mut rules = Rules::for_service(service);
        if let Some(yes) = self.normalize_path {
            rules = rules.with_normalize_path(yes);
        }
        if let Some(yes) = self.double_encode_path {
            rules = rules.with_path_encoding(if yes {
                PathEncoding::Double
            } else {
                PathEncoding::Single
            });
        }
        if let Some(plus) = self.query_plus {
            rules = rules.with_query_plus(plus);
        }
        rules
    }

    /// Checks `req`: the authentication is well formed, the scope matches, `host` and every
    /// listed header are signed and present, the time is acceptable (unless
    /// [`skip_time_check`](Self::skip_time_check)), the session token is right, the body matches its declared hash, and the
    /// signature is the one the verifier computes.
    pub fn verify(&self, req: &ReceivedRequest) -> Result<Verified, Rejection> {
        let (raw_path, raw_query) = req.path_and_query();
        // Lookups of the X-Amz-* parameters only; the canonical query is rebuilt later with
        // the service's rules, once the scope names the service.
        let lookup_plus = self.query_plus.unwrap_or_else(|| {
            self.rules_for(self.service.as_deref().unwrap_or(""))
                .query_plus
        });
        let params: Vec<(String, String)> = canonical::query_pairs(raw_query, lookup_plus)
            .map(|(k, v)| {
                (
                    String::from_utf8_lossy(&k).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                )
            })
            .collect();
        let param = |name: &str| {
            params
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let query_auth = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"]
            .iter()
            .any(|name| param(name).is_some());
        let authorization: Vec<&str> = req.header_values("authorization").collect();

        let presented = match (authorization.as_slice(), query_auth) {
            ([], false) => return Err(Rejection::new(RejectionKind::MissingAuthentication)),
            ([_, ..], true) => {
                return Err(Rejection::malformed(
                    "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
                     Signature query string parameter or the Authorization header should be specified",
                ))
            }
            ([value], false) => presented_from_header(req, value)?,
            ([_, _, ..], false) => {
                return Err(Rejection::malformed(
                    "Only one Authorization header is allowed",
                ))
            }
            ([], true) => presented_from_query(req, &param)?,
        };
        let amz_date = presented.amz_date.clone();
        let with_date = |r: Rejection| r.with_amz_date(Some(&amz_date));

        // Credential: keyid/date/region/service/terminator; SigV4a's has no region.
        let parts: Vec<&str> = presented.credential.split('/').collect();
        let (access_key_id, date, region, service, terminator) =
            match (presented.algorithm, parts.as_slice()) {
                (Algorithm::SigV4, [key, date, region, service, terminator]) => {
                    (*key, *date, Some(*region), *service, *terminator)
                }
                (Algorithm::SigV4a, [key, date, service, terminator]) => {
                    (*key, *date, None, *service, *terminator)
                }
                (Algorithm::SigV4, _) => {
                    return Err(with_date(Rejection::malformed(format!(
                        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                        presented.credential
                    ))))
                }
                (Algorithm::SigV4a, _) => {
                    return Err(with_date(Rejection::malformed(format!(
                        "Credential must have exactly 4 slash-delimited elements, e.g. keyid/date/service/term, got '{}'",
                        presented.credential
                    ))))
                }
            };
        let scope_mismatch = |field, expected: &str, got: &str| {
            with_date(Rejection::new(RejectionKind::ScopeMismatch {
                field,
                expected: expected.to_owned(),
                got: (*got).to_owned(),
            }))
        };
        if let (Some(expected), Some(region)) = (&self.region, region) {
            if region != expected {
                return Err(scope_mismatch(ScopeField::Region, expected, region));
            }
        }
        if let Some(expected) = &self.service {
            if service != expected {
                return Err(scope_mismatch(ScopeField::Service, expected, service));
            }
        }
        if terminator != SCOPE_TERMINATOR {
            return Err(scope_mismatch(
                ScopeField::Terminator,
                SCOPE_TERMINATOR,
                terminator,
            ));
        }
        let date_of_request = amz_date.get(..8).unwrap_or(&amz_date);
        if date != date_of_request {
            return Err(scope_mismatch(ScopeField::Date, date_of_request, date));
        }

        let signed_names: Vec<String> = presented
            .signed_headers
            .split(';')
            .map(|name| name.trim().to_ascii_lowercase())
            .collect();
        if !signed_names.iter().any(|name| name == "host") {
            return Err(with_date(Rejection::new(RejectionKind::MissingSignedHost)));
        }

        // SigV4a: the regions travel in the signed region set instead of the scope.
        let region_set = match presented.algorithm {
            Algorithm::SigV4 => None,
            #[cfg(feature = "sigv4a")]
            Algorithm::SigV4a => {
                let set = sigv4a::region_set(req, &param, &signed_names).map_err(with_date)?;
                if let Some(expected) = &self.region {
                    if !sigv4a::region_set_includes(&set, expected) {
                        return Err(with_date(Rejection::new(
                            RejectionKind::RegionNotInRegionSet {
                                region: expected.clone(),
                                region_set: set,
                            },
                        )));
                    }
                }
                Some(set)
            }
            #[cfg(not(feature = "sigv4a"))]
            Algorithm::SigV4a => return Err(with_date(Algorithm::SigV4a.unsupported())),
        };
        let scope = CredentialScope::new(
            date,
            region.or(region_set.as_deref()).unwrap_or_default(),
            service,
        );

        self.check_time(&presented)
            .map_err(|r| r.with_amz_date(Some(&amz_date)))?;

        // Credentials and session token.
        let candidates: Vec<&Credentials> = self
            .credentials
            .iter()
            .filter(|c| c.access_key_id() == access_key_id)
            .collect();
        if candidates.is_empty() {
            return Err(with_date(Rejection::new(RejectionKind::UnknownAccessKey {
                access_key_id: access_key_id.to_owned(),
            })));
        }
        let token_problem = |problem| {
            with_date(Rejection::new(RejectionKind::InvalidSecurityToken {
                problem,
            }))
        };
        let credentials = match &presented.token {
            Some(token) => match candidates.iter().find(|c| {
                c.session_token()
                    .is_some_and(|t| constant_time_eq(t.as_bytes(), token.as_bytes()))
            }) {
                Some(found) => *found,
                None if candidates.iter().any(|c| c.session_token().is_some()) => {
                    return Err(token_problem(TokenProblem::Mismatch))
                }
                None => return Err(token_problem(TokenProblem::NotExpected)),
            },
            None => {
                let chosen = candidates
                    .iter()
                    .find(|c| c.session_token().is_none())
                    .unwrap_or(&candidates[0]);
                if chosen.session_token().is_some() && self.require_session_token != Some(false) {
                    return Err(token_problem(TokenProblem::Missing));
                }
                *chosen
            }
        };
        let token_header_signed = signed_names.iter().any(|n| n == "x-amz-security-token");
        if presented.token.is_some()
            && self.require_signed_session_token
            && !presented.token_in_query
            && !token_header_signed
        {
            return Err(token_problem(TokenProblem::NotSigned));
        }

        // Headers: a listed header must be present. The expected canonical request is still
        // built (with an empty value) so the report can show it.
        let mut headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mut missing_header = None;
        for name in &signed_names {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                missing_header.get_or_insert_with(|| name.clone());
                headers.push((name.as_str(), ""));
            }
        }

        // Payload hash.
        let rules = self.rules_for(self.service.as_deref().unwrap_or(service));
        let body_hash = hex_sha256(req.body());
        let declared = req.header("x-amz-content-sha256").map(str::trim);
        let mut payload_problem = None;
        let payload_hash: &str = match declared {
            // S3 presigned URLs sign the literal UNSIGNED-PAYLOAD: the URL is made before the
            // body it will carry is known.
            None if presented.location == SignatureLocation::Query
                && rules.presigned_unsigned_payload =>
            {
                UNSIGNED_PAYLOAD
            }
            Some(UNSIGNED_PAYLOAD) if self.allow_unsigned_payload => UNSIGNED_PAYLOAD,
            Some(UNSIGNED_PAYLOAD) => {
                payload_problem = Some(RejectionKind::UnsignedPayloadNotAllowed);
                &body_hash
            }
            Some(value) if !value.eq_ignore_ascii_case(&body_hash) => {
                payload_problem = Some(RejectionKind::PayloadHashMismatch {
                    declared: value.to_owned(),
                    computed: body_hash.clone(),
                });
                &body_hash
            }
            Some(value) => value,
            None => &body_hash,
        };

        let check = match presented.algorithm {
            Algorithm::SigV4 => Check::V4 {
                key: canonical::signing_key(credentials.secret_access_key(), &scope),
                scope: scope.clone(),
            },
            #[cfg(feature = "sigv4a")]
            Algorithm::SigV4a => Check::V4a {
                key: canonical::sigv4a_signing_key(access_key_id, credentials.secret_access_key()),
                scope: canonical::CredentialScopeV4a::new(date, service),
            },
            // Refused when the region set was read; kept for the match to be complete.
            #[cfg(not(feature = "sigv4a"))]
            Algorithm::SigV4a => return Err(with_date(Algorithm::SigV4a.unsupported())),
        };
        let build = |shape: Shape<'_>| -> String {
            let path = canonical::canonical_path(
                raw_path,
                shape.rules.normalize_path,
                shape.rules.path_encoding,
            );
            let query = match presented.location {
                SignatureLocation::Header => {
                    canonical::canonical_query(raw_query, shape.rules.query_plus)
                }
                SignatureLocation::Query => {
                    canonical::canonical_query_filtered(raw_query, shape.rules.query_plus, |k| {
                        k != b"X-Amz-Signature"
                            && !(shape.omit_query_token && k == b"X-Amz-Security-Token")
                    })
                }
            };
            let stripped: Vec<(&str, &str)>;
            let header_list: &[(&str, &str)] = if shape.strip_host_port {
                stripped = headers
                    .iter()
                    .map(|&(n, v)| {
                        if n.eq_ignore_ascii_case("host") {
                            (n, strip_port(v))
                        } else {
                            (n, v)
                        }
                    })
                    .collect();
                &stripped
            } else {
                &headers
            };
            // Every listed header is in `headers` by now, so this cannot fail; an empty block
            // would only make the signature mismatch.
            let block = if shape.keep_tabs {
                canonical::canonical_headers_with(header_list, &signed_names, fold_spaces_only)
            } else {
                canonical::canonical_headers(header_list, &signed_names)
            }
            .unwrap_or_default();
            canonical::canonical_request(
                req.method(),
                &path,
                &query,
                &block,
                &presented.signed_headers,
                shape.payload_hash,
            )
        };
        let shape = Shape {
            rules,
            payload_hash,
            omit_query_token: false,
            strip_host_port: false,
            keep_tabs: false,
        };
        let expected_creq = build(shape);
        let expected_sts = check.string_to_sign(&amz_date, &expected_creq);
        let expected = |r: Rejection| {
            r.with_amz_date(Some(&amz_date))
                .with_expected(expected_creq.clone(), expected_sts.clone())
        };

        if let Some(name) = missing_header {
            return Err(expected(Rejection::new(
                RejectionKind::SignedHeaderMissing { name },
            )));
        }
        if let Some(kind) = payload_problem {
            let mut rejection = expected(Rejection::new(kind));
            if let Some(declared) = declared {
                let signed = build(Shape {
                    payload_hash: declared,
                    ..shape
                });
                if check.verify(
                    &check.string_to_sign(&amz_date, &signed),
                    &presented.signature,
                ) {
                    rejection.differences = diff_canonical_requests(&expected_creq, &signed);
                    rejection.signer_canonical_request = Some(signed);
                }
            }
            return Err(rejection);
        }

        let accepted = |creq: String, sts: String, token_signed: bool| Verified {
            access_key_id: access_key_id.to_owned(),
            algorithm: presented.algorithm,
            location: presented.location,
            signed_headers: signed_names.clone(),
            amz_date: amz_date.clone(),
            scope: scope.clone(),
            region_set: region_set.clone(),
            payload_hash: payload_hash.to_owned(),
            session_token_signed: presented.token.as_ref().map(|_| token_signed),
            canonical_request: creq,
            string_to_sign: sts,
        };
        let token_signed = if presented.token_in_query {
            true
        } else {
            token_header_signed
        };
        if check.verify(&expected_sts, &presented.signature) {
            return Ok(accepted(
                expected_creq.clone(),
                expected_sts.clone(),
                token_signed,
            ));
        }
        if presented.token_in_query {
            // A presigned URL whose token was appended after signing (the suite's
            // `omit_session_token`): its canonical query leaves the token out.
            let without = build(Shape {
                omit_query_token: true,
                ..shape
            });
            let sts = check.string_to_sign(&amz_date, &without);
            if check.verify(&sts, &presented.signature) {
                if self.require_signed_session_token {
                    return Err(token_problem(TokenProblem::NotSigned));
                }
                return Ok(accepted(without, sts, false));
            }
        }

        let mut rejection = expected(Rejection::new(RejectionKind::SignatureMismatch));
        if let Some(signed) =
            explain_mismatch(&build, shape, &check, &amz_date, &presented, req, raw_query)
        {
            rejection.differences = diff_canonical_requests(&expected_creq, &signed);
            rejection.signer_canonical_request = Some(signed);
        }
        Err(rejection)
    }

    fn check_time(&self, presented: &Presented) -> Result<(), Rejection> {
        if !self.check_time {
            return Ok(());
        }
        let now = self.now.unwrap_or_else(SystemTime::now);
        // The date was validated when it was read.
        let Some(signed_at) = parse_amz_date(&presented.amz_date) else {
            return Ok(());
        };
        let server_now = format_amz_date(now);
        let skew = self.max_skew;
        if now
            .checked_add(skew)
            .is_some_and(|latest| signed_at > latest)
        {
            return Err(Rejection::new(RejectionKind::SignatureNotYetCurrent {
                signed: presented.amz_date.clone(),
                server_now,
                max_skew: skew,
            }));
        }
        match (presented.location, presented.expires) {
            (SignatureLocation::Query, Some(expires)) => {
                if signed_at
                    .checked_add(Duration::from_secs(expires))
                    .is_some_and(|end| now > end)
                {
                    return Err(Rejection::new(RejectionKind::PresignExpired {
                        signed: presented.amz_date.clone(),
                        expires_in: expires,
                        server_now,
                    }));
                }
            }
            _ => {
                if now
                    .checked_sub(skew)
                    .is_some_and(|earliest| signed_at < earliest)
                {
                    return Err(Rejection::new(RejectionKind::SignatureExpired {
                        signed: presented.amz_date.clone(),
                        server_now,
                        max_skew: skew,
                    }));
                }
            }
        }
        Ok(())
    }
}

/// A header value as a signer that folds only spaces canonicalizes it (aws-sigv4): ends
/// trimmed of spaces and tabs, runs of spaces made one, tabs kept. API Gateway and botocore
/// fold tabs too, so such a signature fails there; replaying it names the header.
fn fold_spaces_only(raw: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = raw.trim_matches([' ', '\t']);
    if !trimmed.contains("  ") {
        return std::borrow::Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split(' ').filter(|word| !word.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    std::borrow::Cow::Owned(out)
}

fn strip_port(host: &str) -> &str {
    // `[v6]:port` and `name:port`; a bare IPv6 literal has no port to strip.
    if let Some(end) = host.rfind(']') {
        return &host[..=end];
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Replays common signer mistakes and returns the canonical request that the signature
/// matches, if one does. Only runs after a mismatch, so its cost (a few HMACs, or ECDSA
/// verifications for SigV4a) is not on the accepting path.
fn explain_mismatch(
    build: &dyn Fn(Shape<'_>) -> String,
    shape: Shape<'_>,
    check: &Check,
    amz_date: &str,
    presented: &Presented,
    req: &ReceivedRequest,
    raw_query: &str,
) -> Option<String> {
    let flip_encoding = |rules: Rules| {
        rules.with_path_encoding(match rules.path_encoding {
            PathEncoding::Double => PathEncoding::Single,
            _ => PathEncoding::Double,
        })
    };
    let flip_plus = |rules: Rules| {
        rules.with_query_plus(match rules.query_plus {
            QueryPlus::Space => QueryPlus::Literal,
            _ => QueryPlus::Space,
        })
    };
    let rules = shape.rules;
    let mut variants: Vec<Shape<'_>> = vec![
        Shape {
            rules: flip_encoding(rules),
            ..shape
        },
        Shape {
            rules: rules.with_normalize_path(!rules.normalize_path),
            ..shape
        },
        Shape {
            rules: flip_encoding(rules).with_normalize_path(!rules.normalize_path),
            ..shape
        },
    ];
    if raw_query.contains('+') {
        variants.push(Shape {
            rules: flip_plus(rules),
            ..shape
        });
        variants.push(Shape {
            rules: flip_plus(flip_encoding(rules)).with_normalize_path(!rules.normalize_path),
            ..shape
        });
    }
    for payload_hash in [EMPTY_PAYLOAD_SHA256, UNSIGNED_PAYLOAD] {
        if payload_hash != shape.payload_hash {
            variants.push(Shape {
                payload_hash,
                ..shape
            });
        }
    }
    if req.headers().iter().any(|(_, value)| value.contains('\t')) {
        variants.push(Shape {
            keep_tabs: true,
            ..shape
        });
    }
    if req
        .header("host")
        .is_some_and(|host| strip_port(host) != host)
    {
        variants.push(Shape {
            strip_host_port: true,
            ..shape
        });
    }
    let expected = build(shape);
    for variant in variants {
        let candidate = build(variant);
        if candidate == expected {
            continue;
        }
        let sts = check.string_to_sign(amz_date, &candidate);
        if check.verify(&sts, &presented.signature) {
            return Some(candidate);
        }
    }
    None
}

/// Replaces the value of `Signature=` in an echoed `Authorization` header.
fn redact_authorization(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("Signature=") {
        let (before, after) = rest.split_at(at + "Signature=".len());
        out.push_str(before);
        out.push_str(REDACTED);
        let end = after.find([',', ' ']).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn parse_http_date(value: &str) -> Option<SystemTime> {
    let value = value.trim();
    if let Some(t) = parse_amz_date(value) {
        return Some(t);
    }
    // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    let (_, rest) = value.split_once(", ")?;
    let mut parts = rest.split(' ');
    let number = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let day = number(parts.next()?)?;
    let month_name = parts.next()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == month_name)?;
    let year = number(parts.next()?)?;
    let mut hms = parts.next()?.split(':');
    let hour = number(hms.next()?)?;
    let minute = number(hms.next()?)?;
    let second = number(hms.next()?)?;
    if parts.next()? != "GMT" || parts.next().is_some() || hms.next().is_some() {
        return None;
    }
    canonical::time_from_fields(
        i64::from(year),
        u32::try_from(month + 1).ok()?,
        day,
        hour,
        minute,
        second,
    )
}

fn date_format_error(got: &str) -> Rejection {
    Rejection::malformed(format!(
        "Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

fn presented_from_header(req: &ReceivedRequest, value: &str) -> Result<Presented, Rejection> {
    let value = value.trim();
    let (algorithm, rest) = match value.split_once([' ', '\t']) {
        Some((algorithm, rest)) => (algorithm, rest),
        None => (value, ""),
    };
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, val)) = part.split_once('=') else {
            return Err(Rejection::malformed(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
                redact_authorization(value)
            )));
        };
        let slot = match key.trim() {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => continue,
        };
        *slot = Some(val.trim().to_owned());
    }
    let x_amz_date = req.header("x-amz-date");
    let date = req.header("date");
    let mut message = String::new();
    for (name, present) in [
        ("Credential", credential.is_some()),
        ("Signature", signature.is_some()),
        ("SignedHeaders", signed_headers.is_some()),
    ] {
        if !present {
            message.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if x_amz_date.is_none() && date.is_none() {
        message.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !message.is_empty() {
        // AWS echoes the scheme only, which also keeps any signature out of the message.
        message.push_str("Authorization=");
        message.push_str(algorithm);
        return Err(Rejection::malformed(message));
    }
    let Some(algorithm) = Algorithm::from_name(algorithm) else {
        return Err(Rejection::malformed(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'."
        )));
    };
    let algorithm = algorithm.supported()?;
    let amz_date = match (x_amz_date, date) {
        (Some(value), _) => {
            let value = value.trim();
            parse_amz_date(value).ok_or_else(|| date_format_error(value))?;
            value.to_owned()
        }
        (None, Some(value)) => {
            format_amz_date(parse_http_date(value).ok_or_else(|| date_format_error(value.trim()))?)
        }
        (None, None) => return Err(Rejection::new(RejectionKind::MissingAuthentication)),
    };
    Ok(Presented {
        algorithm,
        location: SignatureLocation::Header,
        credential: credential.unwrap_or_default(),
        signed_headers: signed_headers.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
        amz_date,
        expires: None,
        token: req
            .header("x-amz-security-token")
            .map(|t| t.trim().to_owned()),
        token_in_query: false,
    })
}

fn presented_from_query<'a>(
    req: &ReceivedRequest,
    param: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<Presented, Rejection> {
    let mut message = String::new();
    for name in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ] {
        if param(name).is_none_or(str::is_empty) {
            message.push_str(&format!(
                "AWS query-string parameters must include '{name}'. "
            ));
        }
    }
    if !message.is_empty() {
        message.push_str("Re-examine the query-string parameters.");
        return Err(Rejection::malformed(message));
    }
    let algorithm = param("X-Amz-Algorithm").unwrap_or_default();
    let Some(algorithm) = Algorithm::from_name(algorithm) else {
        return Err(Rejection::malformed(format!(
            "X-Amz-Algorithm only supports \"{ALGORITHM}\", not '{algorithm}'"
        )));
    };
    let algorithm = algorithm.supported()?;
    let amz_date = param("X-Amz-Date").unwrap_or_default().trim();
    parse_amz_date(amz_date).ok_or_else(|| date_format_error(amz_date))?;
    let expires = match param("X-Amz-Expires") {
        None => None,
        Some(value) => {
            let seconds: u64 = value
                .trim()
                .parse()
                .map_err(|_| Rejection::malformed("X-Amz-Expires should be a number"))?;
            if seconds > MAX_PRESIGN_EXPIRES {
                return Err(Rejection::malformed(format!(
                    "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES} seconds"
                )));
            }
            Some(seconds)
        }
    };
    let (token, token_in_query) = match param("X-Amz-Security-Token") {
        Some(token) => (Some(token.to_owned()), true),
        None => (
            req.header("x-amz-security-token")
                .map(|t| t.trim().to_owned()),
            false,
        ),
    };
    Ok(Presented {
        algorithm,
        location: SignatureLocation::Query,
        credential: param("X-Amz-Credential").unwrap_or_default().to_owned(),
        signed_headers: param("X-Amz-SignedHeaders").unwrap_or_default().to_owned(),
        signature: param("X-Amz-Signature").unwrap_or_default().to_owned(),
        amz_date: amz_date.to_owned(),
        expires,
        token,
        token_in_query,
    })
}

#[cfg(test)]
mod tests;
