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

//! # As strict as AWS, no more
//!
//! The verifier refuses what AWS refuses, and stops there: every case of AWS's own test
//! suites verifies. Where AWS's behaviour is not written down, it follows what is known of
//! S3's and API Gateway's answers:
//!
//! - **Signature**: compared as AWS compares it, as a string: exactly 64 lower-case hex digits
//!   (SigV4a: the lower-case hex of its DER signature). The same bytes in upper case, or with
//!   spaces around them, are a [`RejectionKind::SignatureMismatch`].
//! - **`SignedHeaders`**: the canonical request is rebuilt over the list lower-cased, sorted
//!   and each name once, as AWS rebuilds it; a signer that signed another order (or spelling)
//!   gets a [`RejectionKind::SignatureMismatch`], which names the difference. `host` must be
//!   listed ([`RejectionKind::MissingSignedHost`]) and every listed header present.
//! - **Algorithm**: `AWS4-HMAC-SHA256` (or `AWS4-ECDSA-P256-SHA256`), spelt exactly so.
//! - **`Credential`**: exactly five `/`-separated parts (four for SigV4a), so a trailing `/` is
//!   malformed; the terminator is `aws4_request` and the date is the request's day
//!   ([`RejectionKind::ScopeMismatch`]).
//! - **`X-Amz-Date`**: `YYYYMMDDTHHMMSSZ` exactly; in a presigned URL, as sent (not trimmed).
//! - **`X-Amz-Expires`**: a number as S3 reads one (`+900` is 900, ` 900` is not a number), not
//!   negative, at most [`MAX_PRESIGN_EXPIRES`]; an S3 presigned URL must carry it.
//! - **One authentication**: an `Authorization` header beside a presigned query, or two
//!   `Authorization` headers, are malformed.
//! - **`x-amz-content-sha256`**: the body's hash in either case (S3 takes either and signs the
//!   value as sent), or `UNSIGNED-PAYLOAD` where allowed.

// A `Rejection` carries the expected canonical request and string-to-sign as plain fields,
// which is what it is for; refusing a request is not a hot path, so its size is accepted.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use crate::canonical::{
    self, constant_time_eq, diff_canonical_requests, format_amz_date, hex_sha256, parse_amz_date,
    CredentialScope, PathEncoding, QueryPlus, Rules, SigningKey, ALGORITHM, ALGORITHM_V4A,
    EMPTY_PAYLOAD_SHA256, SCOPE_TERMINATOR, UNSIGNED_PAYLOAD,
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

/// S3's refusal of a presigned URL without `X-Amz-Expires` (the URL of any other service may
/// leave it out, and is then held to the clock skew as a header-signed request is).
const S3_QUERY_PARAMETERS_MESSAGE: &str = "Query-string authentication version 4 requires the \
    X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and \
    X-Amz-Expires parameters.";

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
    /// The signed header names the signature covers: lower-case and sorted, as in the
    /// canonical request.
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
    /// The key of `credentials` for the request's algorithm and scope.
    fn new(
        algorithm: Algorithm,
        claimed: &Claimed<'_>,
        scope: &CredentialScope,
        credentials: &Credentials,
    ) -> Result<Self, Rejection> {
        match algorithm {
            Algorithm::SigV4 => Ok(Self::V4 {
                key: canonical::signing_key(credentials.secret_access_key(), scope),
                scope: scope.clone(),
            }),
            #[cfg(feature = "sigv4a")]
            Algorithm::SigV4a => Ok(Self::V4a {
                key: canonical::sigv4a_signing_key(
                    claimed.access_key_id,
                    credentials.secret_access_key(),
                ),
                scope: canonical::CredentialScopeV4a::new(claimed.date, claimed.service),
            }),
            // Refused when the region set was read; kept for the match to be complete.
            #[cfg(not(feature = "sigv4a"))]
            Algorithm::SigV4a => {
                let _ = claimed;
                Err(Algorithm::SigV4a.unsupported())
            }
        }
    }

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
    /// The signed headers in the order and spelling the request lists them, not sorted.
    as_listed: bool,
}

/// The query's parameters, decoded: where a presigned URL carries its authentication.
struct Params(Vec<(String, String)>);

impl Params {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The credential scope as the request names it, once checked against the verifier's.
struct Claimed<'p> {
    access_key_id: &'p str,
    date: &'p str,
    /// `None` for SigV4a, whose scope names no region.
    region: Option<&'p str>,
    service: &'p str,
}

/// The payload hash the canonical request is rebuilt with.
struct Payload<'r> {
    hash: String,
    /// The request's `x-amz-content-sha256`, trimmed.
    declared: Option<&'r str>,
    /// Why the declared hash is refused, if it is.
    problem: Option<RejectionKind>,
}

/// What the canonical request is rebuilt from: the request as received, with an empty value
/// for a signed header it lacks (so that the expected canonical request can still be shown).
struct Rebuild<'r> {
    req: &'r ReceivedRequest,
    presented: &'r Presented,
    raw_path: &'r str,
    raw_query: &'r str,
    headers: Vec<(&'r str, &'r str)>,
    /// The signed header names as AWS reads them: lower-case, sorted, each once.
    signed_names: &'r [String],
    /// `signed_names` joined with `;`: the canonical request's signed headers line.
    signed_line: String,
    /// The names as the request lists them (lower-cased), for replaying a signer that
    /// signed them unsorted.
    listed_names: Vec<String>,
    /// The first signed header the request lacks.
    missing_header: Option<String>,
}

impl<'a> Shape<'a> {
    /// The canonical request as the service builds it: no signer mistake replayed.
    fn as_received(rules: Rules, payload_hash: &'a str) -> Self {
        Self {
            rules,
            payload_hash,
            omit_query_token: false,
            strip_host_port: false,
            keep_tabs: false,
            as_listed: false,
        }
    }
}

impl<'r> Rebuild<'r> {
    fn new(req: &'r ReceivedRequest, presented: &'r Presented, signed_names: &'r [String]) -> Self {
        let (raw_path, raw_query) = req.path_and_query();
        let mut headers: Vec<(&str, &str)> = req
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let mut missing_header = None;
        for name in signed_names {
            if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
                missing_header.get_or_insert_with(|| name.clone());
                headers.push((name.as_str(), ""));
            }
        }
        Self {
            req,
            presented,
            raw_path,
            raw_query,
            headers,
            signed_names,
            signed_line: signed_names.join(";"),
            listed_names: listed_header_names(&presented.signed_headers),
            missing_header,
        }
    }

    /// Whether the request lists its signed headers other than in their canonical form
    /// (sorted, lower-case, each once, nothing around them).
    fn listed_otherwise(&self) -> bool {
        self.presented.signed_headers != self.signed_line
    }

    /// The canonical request of this request in `shape`.
    fn build(&self, shape: Shape<'_>) -> String {
        let rules = shape.rules;
        let path =
            canonical::canonical_path(self.raw_path, rules.normalize_path, rules.path_encoding);
        let query = match self.presented.location {
            SignatureLocation::Header => {
                canonical::canonical_query(self.raw_query, rules.query_plus)
            }
            SignatureLocation::Query => {
                canonical::canonical_query_filtered(self.raw_query, rules.query_plus, |k| {
                    k != b"X-Amz-Signature"
                        && !(shape.omit_query_token && k == b"X-Amz-Security-Token")
                })
            }
        };
        let stripped: Vec<(&str, &str)>;
        let header_list: &[(&str, &str)] = if shape.strip_host_port {
            stripped = self
                .headers
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
            &self.headers
        };
        let (names, line) = if shape.as_listed {
            (
                self.listed_names.as_slice(),
                self.presented.signed_headers.as_str(),
            )
        } else {
            (self.signed_names, self.signed_line.as_str())
        };
        // Every listed header is in `headers`, so this cannot fail; an empty block would
        // only make the signature mismatch.
        let block = if shape.keep_tabs {
            canonical::canonical_headers_with(header_list, names, fold_spaces_only)
        } else {
            canonical::canonical_headers(header_list, names)
        }
        .unwrap_or_default();
        canonical::canonical_request(
            self.req.method(),
            &path,
            &query,
            &block,
            line,
            shape.payload_hash,
        )
    }
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
    ///
    /// # Errors
    ///
    /// As [`Verifier::verify`]: a [`Rejection`] saying why the request is refused.
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
    ///
    /// # Errors
    ///
    /// A [`Rejection`] for the first check that fails: its
    /// [`kind`](Rejection::kind) says which, and never quotes a secret.
    pub fn verify(&self, req: &ReceivedRequest) -> Result<Verified, Rejection> {
        // 1. The authentication, from the Authorization header or the query.
        let params = self.auth_params(req);
        let param = |name: &str| params.get(name);
        let presented = read_authentication(req, &param)?;
        let with_date = |r: Rejection| r.with_amz_date(Some(&presented.amz_date));

        // 2. The scope, the signed header list and the time.
        let claimed = self.check_scope(&presented).map_err(with_date)?;
        let service = self.service.as_deref().unwrap_or(claimed.service);
        if presented.location == SignatureLocation::Query
            && presented.expires.is_none()
            && service == "s3"
        {
            return Err(with_date(Rejection::malformed(S3_QUERY_PARAMETERS_MESSAGE)));
        }
        let signed_names = signed_header_names(&presented.signed_headers).map_err(with_date)?;
        let region_set = self
            .region_set(req, &param, &presented, &signed_names)
            .map_err(with_date)?;
        self.check_time(&presented).map_err(with_date)?;

        // 3. The credentials that signed, and the key to check with.
        let credentials = self
            .credentials_for(&presented, claimed.access_key_id, &signed_names)
            .map_err(with_date)?;
        let scope = CredentialScope::new(
            claimed.date,
            claimed.region.or(region_set.as_deref()).unwrap_or_default(),
            claimed.service,
        );
        let check =
            Check::new(presented.algorithm, &claimed, &scope, credentials).map_err(with_date)?;

        // 4. The canonical request rebuilt from what was received, and the comparison.
        let rules = self.rules_for(service);
        let payload = self.payload(req, &presented, rules);
        let rebuild = Rebuild::new(req, &presented, &signed_names);
        let accepted = Verified {
            access_key_id: claimed.access_key_id.to_owned(),
            algorithm: presented.algorithm,
            location: presented.location,
            signed_headers: signed_names.clone(),
            amz_date: presented.amz_date.clone(),
            scope,
            region_set,
            payload_hash: payload.hash.clone(),
            session_token_signed: None,
            canonical_request: String::new(),
            string_to_sign: String::new(),
        };
        self.compare(&rebuild, &check, rules, payload, accepted)
    }

    /// The query's parameters, decoded, for looking up the `X-Amz-*` ones. The canonical
    /// query is rebuilt later with the service's rules, once the scope names the service.
    fn auth_params(&self, req: &ReceivedRequest) -> Params {
        let (_, raw_query) = req.path_and_query();
        let plus = self.query_plus.unwrap_or_else(|| {
            self.rules_for(self.service.as_deref().unwrap_or(""))
                .query_plus
        });
        Params(
            canonical::query_pairs(raw_query, plus)
                .map(|(k, v)| {
                    (
                        String::from_utf8_lossy(&k).into_owned(),
                        String::from_utf8_lossy(&v).into_owned(),
                    )
                })
                .collect(),
        )
    }

    /// Reads the credential (`keyid/date/region/service/aws4_request`; SigV4a's names no
    /// region) and checks it against the verifier's region and service and the request's
    /// date.
    fn check_scope<'p>(&self, presented: &'p Presented) -> Result<Claimed<'p>, Rejection> {
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
                    return Err(Rejection::malformed(format!(
                        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                        presented.credential
                    )))
                }
                (Algorithm::SigV4a, _) => {
                    return Err(Rejection::malformed(format!(
                        "Credential must have exactly 4 slash-delimited elements, e.g. keyid/date/service/term, got '{}'",
                        presented.credential
                    )))
                }
            };
        let mismatch = |field, expected: &str, got: &str| {
            Err(Rejection::new(RejectionKind::ScopeMismatch {
                field,
                expected: expected.to_owned(),
                got: got.to_owned(),
            }))
        };
        if let (Some(expected), Some(region)) = (&self.region, region) {
            if region != expected {
                return mismatch(ScopeField::Region, expected, region);
            }
        }
        if let Some(expected) = &self.service {
            if service != expected {
                return mismatch(ScopeField::Service, expected, service);
            }
        }
        if terminator != SCOPE_TERMINATOR {
            return mismatch(ScopeField::Terminator, SCOPE_TERMINATOR, terminator);
        }
        let amz_date = &presented.amz_date;
        let date_of_request = amz_date.get(..8).unwrap_or(amz_date);
        if date != date_of_request {
            return mismatch(ScopeField::Date, date_of_request, date);
        }
        Ok(Claimed {
            access_key_id,
            date,
            region,
            service,
        })
    }

    /// SigV4a: the region set the signature covers (the regions travel there instead of in
    /// the scope), which must include the verifier's region. `None` for SigV4.
    fn region_set<'a>(
        &self,
        req: &ReceivedRequest,
        param: &dyn Fn(&str) -> Option<&'a str>,
        presented: &Presented,
        signed_names: &[String],
    ) -> Result<Option<String>, Rejection> {
        match presented.algorithm {
            Algorithm::SigV4 => Ok(None),
            #[cfg(feature = "sigv4a")]
            Algorithm::SigV4a => {
                let set = sigv4a::region_set(req, param, signed_names)?;
                if let Some(expected) = &self.region {
                    if !sigv4a::region_set_includes(&set, expected) {
                        return Err(Rejection::new(RejectionKind::RegionNotInRegionSet {
                            region: expected.clone(),
                            region_set: set,
                        }));
                    }
                }
                Ok(Some(set))
            }
            #[cfg(not(feature = "sigv4a"))]
            Algorithm::SigV4a => {
                let _ = (req, param, signed_names);
                Err(Algorithm::SigV4a.unsupported())
            }
        }
    }

    /// The credentials of the access key that signed, chosen by the session token presented:
    /// a token must be the credentials' own, one the credentials have must be presented
    /// (unless [`require_session_token(false)`](Self::require_session_token)), and a token
    /// in a header must be signed (unless
    /// [`require_signed_session_token(false)`](Self::require_signed_session_token)).
    fn credentials_for(
        &self,
        presented: &Presented,
        access_key_id: &str,
        signed_names: &[String],
    ) -> Result<&Credentials, Rejection> {
        let candidates: Vec<&Credentials> = self
            .credentials
            .iter()
            .filter(|c| c.access_key_id() == access_key_id)
            .collect();
        if candidates.is_empty() {
            return Err(Rejection::new(RejectionKind::UnknownAccessKey {
                access_key_id: access_key_id.to_owned(),
            }));
        }
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
        if presented.token.is_some()
            && self.require_signed_session_token
            && !presented.token_in_query
            && !token_header_signed(signed_names)
        {
            return Err(token_problem(TokenProblem::NotSigned));
        }
        Ok(credentials)
    }

    /// The payload hash the canonical request is rebuilt with, and what is wrong with a
    /// declared `x-amz-content-sha256`, if anything.
    fn payload<'r>(
        &self,
        req: &'r ReceivedRequest,
        presented: &Presented,
        rules: Rules,
    ) -> Payload<'r> {
        let body_hash = hex_sha256(req.body());
        let declared = req.header("x-amz-content-sha256").map(str::trim);
        let (hash, problem) = match declared {
            // S3 presigned URLs sign the literal UNSIGNED-PAYLOAD: the URL is made before the
            // body it will carry is known.
            None if presented.location == SignatureLocation::Query
                && rules.presigned_unsigned_payload =>
            {
                (UNSIGNED_PAYLOAD.to_owned(), None)
            }
            Some(UNSIGNED_PAYLOAD) if self.allow_unsigned_payload => {
                (UNSIGNED_PAYLOAD.to_owned(), None)
            }
            Some(UNSIGNED_PAYLOAD) => (body_hash, Some(RejectionKind::UnsignedPayloadNotAllowed)),
            // Either case: S3 takes 64 hex digits of either and signs the value as sent.
            Some(value) if !value.eq_ignore_ascii_case(&body_hash) => {
                let problem = RejectionKind::PayloadHashMismatch {
                    declared: value.to_owned(),
                    computed: body_hash.clone(),
                };
                (body_hash, Some(problem))
            }
            Some(value) => (value.to_owned(), None),
            None => (body_hash, None),
        };
        Payload {
            hash,
            declared,
            problem,
        }
    }

    /// Compares the signature with the one computed over the rebuilt canonical request. A
    /// refusal carries the expected canonical request and string-to-sign and, when one of
    /// the replayed signer mistakes matches the signature, what the signer signed instead.
    fn compare(
        &self,
        rebuild: &Rebuild<'_>,
        check: &Check,
        rules: Rules,
        payload: Payload<'_>,
        accepted: Verified,
    ) -> Result<Verified, Rejection> {
        let presented = rebuild.presented;
        let amz_date = presented.amz_date.as_str();
        let signs =
            |creq: &str| check.verify(&check.string_to_sign(amz_date, creq), &presented.signature);
        let shape = Shape::as_received(rules, &payload.hash);
        let expected_creq = rebuild.build(shape);
        let expected_sts = check.string_to_sign(amz_date, &expected_creq);
        let refuse = |kind, signed| {
            Err(refusal(
                kind,
                amz_date,
                &expected_creq,
                &expected_sts,
                signed,
            ))
        };

        if let Some(name) = &rebuild.missing_header {
            return refuse(
                RejectionKind::SignedHeaderMissing { name: name.clone() },
                None,
            );
        }
        if let Some(kind) = payload.problem {
            let signed = payload
                .declared
                .map(|declared| {
                    rebuild.build(Shape {
                        payload_hash: declared,
                        ..shape
                    })
                })
                .filter(|signed| signs(signed));
            return refuse(kind, signed);
        }

        let accept = |canonical_request: String, string_to_sign: String, token_signed: bool| {
            Ok(Verified {
                session_token_signed: presented.token.as_ref().map(|_| token_signed),
                canonical_request,
                string_to_sign,
                ..accepted
            })
        };
        if check.verify(&expected_sts, &presented.signature) {
            let token_signed =
                presented.token_in_query || token_header_signed(rebuild.signed_names);
            return accept(expected_creq.clone(), expected_sts.clone(), token_signed);
        }
        if presented.token_in_query {
            // A presigned URL whose token was appended after signing (the suite's
            // `omit_session_token`): its canonical query leaves the token out.
            let without = rebuild.build(Shape {
                omit_query_token: true,
                ..shape
            });
            let sts = check.string_to_sign(amz_date, &without);
            if check.verify(&sts, &presented.signature) {
                if self.require_signed_session_token {
                    return Err(
                        token_problem(TokenProblem::NotSigned).with_amz_date(Some(amz_date))
                    );
                }
                return accept(without, sts, false);
            }
        }
        refuse(
            RejectionKind::SignatureMismatch,
            explain_mismatch(rebuild, shape, &signs),
        )
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
/// matches (`signs`), if one does. Only runs after a mismatch, so its cost (a few HMACs, or
/// ECDSA verifications for SigV4a) is not on the accepting path.
fn explain_mismatch(
    rebuild: &Rebuild<'_>,
    shape: Shape<'_>,
    signs: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let expected = rebuild.build(shape);
    mistakes(shape, rebuild)
        .into_iter()
        .map(|variant| rebuild.build(variant))
        .find(|candidate| *candidate != expected && signs(candidate))
}

/// The shapes of the signer mistakes worth replaying for this request: the other path
/// encoding and normalization, the other reading of a `+` in the query, the empty or
/// unsigned payload hash, tabs kept in header values, the port kept in `host`.
fn mistakes<'a>(shape: Shape<'a>, rebuild: &Rebuild<'_>) -> Vec<Shape<'a>> {
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
    let mut variants: Vec<Shape<'a>> = vec![
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
    if rebuild.raw_query.contains('+') {
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
    let req = rebuild.req;
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
    if rebuild.listed_otherwise() {
        variants.push(Shape {
            as_listed: true,
            ..shape
        });
    }
    variants
}

/// Reads the authentication from the `Authorization` header or from the query (a presigned
/// URL), refusing a request that has neither, both, or two `Authorization` headers.
fn read_authentication<'a>(
    req: &ReceivedRequest,
    param: &dyn Fn(&str) -> Option<&'a str>,
) -> Result<Presented, Rejection> {
    let query_auth = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"]
        .iter()
        .any(|name| param(name).is_some());
    let authorization: Vec<&str> = req.header_values("authorization").collect();
    match (authorization.as_slice(), query_auth) {
        ([], false) => Err(Rejection::new(RejectionKind::MissingAuthentication)),
        ([_, ..], true) => Err(Rejection::malformed(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, \
             Signature query string parameter or the Authorization header should be specified",
        )),
        ([value], false) => presented_from_header(req, value),
        ([_, _, ..], false) => Err(Rejection::malformed(
            "Only one Authorization header is allowed",
        )),
        ([], true) => presented_from_query(req, param),
    }
}

/// A refusal of `kind` that shows the expected canonical request and string-to-sign and, when
/// known, what the signer signed instead and how it differs.
fn refusal(
    kind: RejectionKind,
    amz_date: &str,
    expected_creq: &str,
    expected_sts: &str,
    signed: Option<String>,
) -> Rejection {
    let mut rejection = Rejection::new(kind)
        .with_amz_date(Some(amz_date))
        .with_expected(expected_creq.to_owned(), expected_sts.to_owned());
    if let Some(signed) = signed {
        rejection.differences = diff_canonical_requests(expected_creq, &signed);
        rejection.signer_canonical_request = Some(signed);
    }
    rejection
}

/// The signed header names as the request lists them, lower-cased.
fn listed_header_names(list: &str) -> Vec<String> {
    list.split(';')
        .map(|name| name.trim().to_ascii_lowercase())
        .collect()
}

/// The signed header names the canonical request is rebuilt with: lower-case, sorted and
/// each once, whatever order the request lists them in (see the module's notes on
/// strictness); `host` must be one.
fn signed_header_names(list: &str) -> Result<Vec<String>, Rejection> {
    let mut names = listed_header_names(list);
    if !names.iter().any(|name| name == "host") {
        return Err(Rejection::new(RejectionKind::MissingSignedHost));
    }
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

fn token_header_signed(signed_names: &[String]) -> bool {
    signed_names.iter().any(|n| n == "x-amz-security-token")
}

fn token_problem(problem: TokenProblem) -> Rejection {
    Rejection::new(RejectionKind::InvalidSecurityToken { problem })
}

/// The time of a `Date` header: an `X-Amz-Date`-shaped value, or an HTTP-date (IMF-fixdate
/// or the obsolete RFC 850 and asctime forms, which RFC 9110 has recipients accept).
fn parse_http_date(value: &str) -> Option<SystemTime> {
    let value = value.trim();
    parse_amz_date(value).or_else(|| httpdate::parse_http_date(value).ok())
}

fn date_format_error(got: &str) -> Rejection {
    Rejection::malformed(format!(
        "Date must be in ISO-8601 'basic format'. Got '{got}'. See http://en.wikipedia.org/wiki/ISO_8601"
    ))
}

/// The `Credential`, `SignedHeaders` and `Signature` of the `key=value` list `rest` that
/// follows the algorithm in the `Authorization` header `value`.
fn authorization_fields(value: &str, rest: &str) -> Result<[Option<String>; 3], Rejection> {
    let mut fields = [None, None, None];
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, val)) = part.split_once('=') else {
            return Err(Rejection::malformed(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{}'.",
                crate::redact::redact_authorization(value)
            )));
        };
        let slot = match key.trim() {
            "Credential" => 0,
            "SignedHeaders" => 1,
            "Signature" => 2,
            _ => continue,
        };
        fields[slot] = Some(val.trim().to_owned());
    }
    Ok(fields)
}

fn presented_from_header(req: &ReceivedRequest, value: &str) -> Result<Presented, Rejection> {
    let value = value.trim();
    let (algorithm, rest) = match value.split_once([' ', '\t']) {
        Some((algorithm, rest)) => (algorithm, rest),
        None => (value, ""),
    };
    let [credential, signed_headers, signature] = authorization_fields(value, rest)?;
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

/// `X-Amz-Expires` read as S3 reads it, a signed 64-bit integer with nothing around it (so
/// `+900` and `0900` are 900, ` 900` is not a number), then refused when negative or longer
/// than [`MAX_PRESIGN_EXPIRES`], with S3's messages.
fn expires_seconds(value: &str) -> Result<u64, Rejection> {
    let seconds: i64 = value
        .parse()
        .map_err(|_| Rejection::malformed("X-Amz-Expires should be a number"))?;
    let seconds = u64::try_from(seconds)
        .map_err(|_| Rejection::malformed("X-Amz-Expires must be non-negative"))?;
    if seconds > MAX_PRESIGN_EXPIRES {
        return Err(Rejection::malformed(format!(
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than {MAX_PRESIGN_EXPIRES} seconds"
        )));
    }
    Ok(seconds)
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
    // As sent: a query parameter is not trimmed, and the format is exact.
    let amz_date = param("X-Amz-Date").unwrap_or_default();
    parse_amz_date(amz_date).ok_or_else(|| date_format_error(amz_date))?;
    let expires = param("X-Amz-Expires").map(expires_seconds).transpose()?;
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
