//! Signing: turns a resolved request into SigV4 headers (or query parameters) with
//! `aws-sigv4`.
//!
//! The route decides the host and path that are signed; this module decides which headers
//! go in, hands everything to `aws-sigv4`, and returns what to put on the request, with a
//! [`SignedRequest`](crate::SignedRequest) summary of what was signed.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest,
    SignatureLocation, SigningInstructions, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::canonical;
use crate::engine::body::PayloadHash;
use crate::engine::replay::Kept;
use crate::engine::route::{url_host_header, CompiledRoute, RouteKind};
use crate::engine::summary::{Rewritten, Signed};
use crate::engine::RequestHead;
use crate::error::Error;
use crate::route::SignedHeaders;

/// Headers the middleware sets itself: never taken from the request into the signature, and
/// removed before a request is signed again (a retry must not carry a stale signature).
pub(crate) const SIGNATURE_HEADERS: [&str; 4] = [
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Headers that proxies add, drop or rewrite, or that reqwest sets below the middleware:
/// signing them would make the signature fail for reasons outside the caller's control.
/// The list as written; [`is_never_signed`] is what requests are checked with.
#[cfg(test)]
const VOLATILE_HEADERS: [&str; 16] = [
    "host",
    "user-agent",
    "connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "via",
    "expect",
    "x-amzn-trace-id",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-port",
];

pub(crate) use canonical::UNSIGNED_PAYLOAD;

/// Query parameters a presigned request carries; removed before it is signed again.
pub(crate) const PRESIGN_PARAMS: [&str; 8] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    // SigV4a's query form.
    "X-Amz-Region-Set",
];

/// How a service wants requests signed, by its signing name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ServiceProfile {
    /// S3: the path is encoded once and not normalized, and requests are sent spelled as
    /// the AWS SDKs spell them ([`s3_spelling`]).
    pub(crate) s3_path: bool,
    /// The payload hash also travels in `x-amz-content-sha256`.
    pub(crate) content_sha256_header: bool,
    /// The service does not take a payload hash (`UNSIGNED-PAYLOAD`).
    pub(crate) unsigned_payload: bool,
    /// A presigned URL signs `UNSIGNED-PAYLOAD`, never a body hash (S3).
    pub(crate) presigned_unsigned_payload: bool,
}

impl ServiceProfile {
    /// The settings AWS documents for `service`: its row of the services table
    /// ([`canonical::ServiceRules`]). A single-encoded path is S3's, with its spelling.
    pub(crate) fn of(service: &str) -> Self {
        let row = canonical::ServiceRules::of(service);
        Self {
            s3_path: row.path_encoding == canonical::PathEncoding::Single,
            content_sha256_header: row.content_sha256_header,
            unsigned_payload: row.unsigned_payload,
            presigned_unsigned_payload: row.presigned_unsigned_payload,
        }
    }

    /// The canonicalization that aws-sigv4 applies under this profile's settings. The
    /// summary renders with these, and only these, so that it cannot differ from what was
    /// signed by a choice made elsewhere.
    pub(crate) fn rules(self) -> canonical::Rules {
        let base = if self.s3_path { "s3" } else { "execute-api" };
        // aws-sigv4 reads every query as form data (`+` is a space), S3's included.
        canonical::Rules::for_service(base)
            .with_query_plus(canonical::QueryPlus::Space)
            .with_presigned_unsigned_payload(self.presigned_unsigned_payload)
    }
}

/// `path_and_query` spelled as the AWS SDKs send S3 requests: each path segment decoded
/// and written again with every byte but the unreserved characters percent-encoded (so a
/// raw `$` becomes `%24` and `%7e` becomes `~`), and every query name and value decoded (a
/// raw `+` as a space, as reqwest's `.query()` writes one) and encoded the same way.
///
/// Segments stay segments: an encoded slash (`%2F`) stays encoded, because decoding it
/// could make a `.` or `..` segment that every URL parser on the way would remove.
///
/// aws-sigv4's single encoding signs the path as written while S3 and botocore re-encode
/// the key, and they read a raw `+` in the query differently: in this spelling there is
/// nothing left to read two ways, so what is sent, what is signed and what any verifier
/// recomputes are the same string.
pub(crate) fn s3_spelling(path_and_query: &str) -> Cow<'_, str> {
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let mut out = String::with_capacity(path_and_query.len() + 8);
    if !path.starts_with('/') {
        out.push('/');
    }
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let bytes: Vec<u8> = percent_encoding::percent_decode_str(segment).collect();
        out.push_str(&canonical::uri_encode(bytes));
    }
    let pieces = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter(|piece| !piece.is_empty());
    for (i, piece) in pieces.enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        let (name, value) = match piece.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (piece, None),
        };
        push_form_component(name, &mut out);
        if let Some(value) = value {
            out.push('=');
            push_form_component(value, &mut out);
        }
    }
    if out == path_and_query {
        Cow::Borrowed(path_and_query)
    } else {
        Cow::Owned(out)
    }
}

/// One query component read as form data and written with every byte but the unreserved
/// ones percent-encoded.
fn push_form_component(raw: &str, out: &mut String) {
    let spaced = raw.replace('+', " ");
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(&spaced).collect();
    out.push_str(&canonical::uri_encode(bytes));
}

/// Rewrites `url`'s path and query into [`s3_spelling`].
fn respell_for_s3(url: &mut url::Url) {
    let sent = crate::engine::replay::path_and_query(url);
    let Cow::Owned(spelled) = s3_spelling(sent) else {
        return;
    };
    let (path, query) = match spelled.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (spelled.as_str(), None),
    };
    url.set_path(path);
    url.set_query(query);
}

/// Where the signature goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Placement {
    /// `Authorization`, `X-Amz-Date`, `X-Amz-Security-Token` headers.
    Headers,
    /// Query parameters of a URL valid this long.
    Query(std::time::Duration),
}

/// What to sign: the request as the verifier will see it. What the summary keeps moves
/// into it without being copied.
pub(crate) struct ToSign<'a, 'p> {
    pub(crate) method: &'a http::Method,
    pub(crate) host: Cow<'p, str>,
    /// Borrowed from the URL when the route signs the path and query as sent.
    pub(crate) path_and_query: Cow<'a, str>,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) route: &'p Arc<CompiledRoute>,
    pub(crate) payload_sha256: PayloadHash,
    pub(crate) service: Cow<'p, str>,
    /// The region, or for SigV4a the region set.
    pub(crate) region: Cow<'p, str>,
    pub(crate) time: SystemTime,
    pub(crate) placement: Placement,
    /// The request as it was before signing, for the summary (and so for a retry).
    pub(crate) kept: Kept,
}

/// What carries a signature: headers (aws-sigv4's, as it made them) or query parameters.
pub(crate) struct SignatureHeaders {
    instructions: SigningInstructions,
    /// Signed headers whose values were folded for signing ([`fold_whitespace`]): sent in
    /// the folded form, every value of each name, so that the wire carries what was signed.
    replaced: Vec<(HeaderName, HeaderValue)>,
    /// The URL must be sent in [`s3_spelling`], the form it was signed in.
    s3_spelling: bool,
}

impl fmt::Debug for SignatureHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.instructions.headers().map(|(name, _)| name))
            .entries(self.instructions.params().iter().map(|(name, _)| *name))
            .finish()
    }
}

impl SignatureHeaders {
    /// Puts the signature on the request: its headers, or its URL's query.
    ///
    /// # Errors
    ///
    /// [`Error::Signing`] if aws-sigv4 made a header value HTTP cannot carry (it does not).
    pub(crate) fn apply(self, req: &mut impl RequestHead) -> Result<(), Error> {
        if self.s3_spelling {
            respell_for_s3(req.url_mut());
        }
        for (name, _) in &self.replaced {
            req.headers_mut().remove(name);
        }
        for (name, value) in self.replaced {
            req.headers_mut().append(name, value);
        }
        let (headers, query) = self.instructions.into_parts();
        for header in &headers {
            let (name, secret) = signature_header_name(header.name());
            let mut value =
                HeaderValue::from_str(header.value()).map_err(|e| Error::Signing(Box::new(e)))?;
            // The signature is a secret too: keep it out of reqwest's and hyper's Debug output.
            value.set_sensitive(header.sensitive() || secret);
            req.headers_mut().insert(name, value);
        }
        if !query.is_empty() {
            let mut pairs = req.url_mut().query_pairs_mut();
            for (name, value) in &query {
                pairs.append_pair(name, value);
            }
        }
        Ok(())
    }
}

/// The header aws-sigv4 named `name`, and whether its value is a secret (the signature,
/// the session token). The names it sets are known: made at compile time, they are not
/// checked again on every request as `HeaderName::from_static` does at run time.
fn signature_header_name(name: &'static str) -> (HeaderName, bool) {
    const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
    const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
    const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
    match name {
        "authorization" => (http::header::AUTHORIZATION, true),
        "x-amz-date" => (X_AMZ_DATE, false),
        "x-amz-security-token" => (X_AMZ_SECURITY_TOKEN, true),
        "x-amz-content-sha256" => (X_AMZ_CONTENT_SHA256, false),
        other => (HeaderName::from_static(other), false),
    }
}

/// Whether `url`'s query carries a signing parameter.
pub(crate) fn has_query_signature(url: &url::Url) -> bool {
    url.query()
        .is_some_and(|q| crate::redact::amz_params_in(q, &PRESIGN_PARAMS).is_some())
}

/// Removes every signing parameter from `url`'s query: one an earlier attempt put there, or
/// one the URL came with (a presigned URL sent again, a redirect's `Location`). Whatever
/// signs the request next then signs exactly the query that is sent.
pub(crate) fn strip_query_signature(url: &mut url::Url) {
    let Some(pieces) = url
        .query()
        .and_then(|q| crate::redact::amz_params_in(q, &PRESIGN_PARAMS))
    else {
        return;
    };
    let kept: Vec<&str> = pieces
        .into_iter()
        .filter_map(|(piece, signing)| (!signing).then_some(piece))
        .collect();
    let kept = kept.join("&");
    url.set_query((!kept.is_empty()).then_some(kept.as_str()));
}

/// `value` encoded as `Url::query_pairs_mut` writes it.
pub(crate) fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Whether `name` goes into the signature under `policy`.
pub(crate) fn is_signed(name: &str, policy: &SignedHeaders) -> bool {
    if is_never_signed(name) {
        return false;
    }
    if name.starts_with("x-amz-") {
        return true;
    }
    match policy {
        SignedHeaders::All => true,
        SignedHeaders::HostAndAmzOnly => false,
        SignedHeaders::HostAndAmzPlus(extra) => extra.iter().any(|e| e.eq_ignore_ascii_case(name)),
    }
}

/// Whether `name` is one of [`SIGNATURE_HEADERS`] (one match: a switch on the length, not
/// four string comparisons per header of every request).
pub(crate) fn is_signature_header(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "x-amz-date" | "x-amz-security-token" | "x-amz-content-sha256"
    )
}

/// The HTTP authentication schemes an error may name: IANA's registry, plus NTLM and
/// AWS's older signature (`AWS`). Any other first word of an `Authorization` value is not
/// repeated: it may be the credential itself.
const AUTHORIZATION_SCHEMES: [&str; 16] = [
    "Basic",
    "Bearer",
    "Concealed",
    "Digest",
    "DPoP",
    "GNAP",
    "HOBA",
    "Mutual",
    "Negotiate",
    "OAuth",
    "PrivateToken",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "vapid",
    "NTLM",
    "AWS",
];

/// Whether an `Authorization` value is a SigV4 or SigV4a signature (`AWS4-HMAC-SHA256 …`,
/// `AWS4-ECDSA-P256-SHA256 …`): one an earlier signing left, which signing again replaces.
pub(crate) fn is_sigv4_authorization(value: &HeaderValue) -> bool {
    [canonical::ALGORITHM, canonical::ALGORITHM_V4A]
        .iter()
        .any(|algorithm| {
            value
                .as_bytes()
                .strip_prefix(algorithm.as_bytes())
                .is_some_and(|rest| rest.first() == Some(&b' '))
        })
}

/// Refuses an `Authorization` header of the caller's own (anything but a SigV4 signature)
/// on a request signed in headers: the signature goes in that header, so the caller's
/// credential would be silently replaced and never reach the server.
pub(crate) fn check_caller_authorization(headers: &HeaderMap) -> Result<(), Error> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    match values.find(|value| !is_sigv4_authorization(value)) {
        None => Ok(()),
        Some(value) => Err(Error::AuthorizationHeaderSet {
            scheme: authorization_scheme(value),
        }),
    }
}

/// The registered scheme an `Authorization` value names, spelled as registered; `None` for
/// any other first word.
fn authorization_scheme(value: &HeaderValue) -> Option<&'static str> {
    let first = value.as_bytes().split(|&b| b == b' ').next()?;
    AUTHORIZATION_SCHEMES
        .into_iter()
        .find(|scheme| scheme.as_bytes().eq_ignore_ascii_case(first))
}

/// Whether `name` is one of [`SIGNATURE_HEADERS`] or [`VOLATILE_HEADERS`]: matches the
/// compiler turns into switches on the length, where the two lists would be twenty string
/// comparisons for every header of every request (a unit test keeps them in step).
fn is_never_signed(name: &str) -> bool {
    is_signature_header(name)
        || matches!(
            name,
            "host"
                | "user-agent"
                | "connection"
                | "keep-alive"
                | "proxy-authorization"
                | "proxy-connection"
                | "te"
                | "trailer"
                | "transfer-encoding"
                | "upgrade"
                | "via"
                | "expect"
                | "x-amzn-trace-id"
                | "x-forwarded-for"
                | "x-forwarded-proto"
                | "x-forwarded-port"
        )
}

/// Refuses a query whose percent-escapes decode to bytes that are not UTF-8: signers and
/// verifiers disagree on those (aws-sigv4 signs U+FFFD in their place, the specification
/// the bytes), so no signature for them can be trusted to verify.
fn check_query(path_and_query: &str) -> Result<(), Error> {
    // Most requests have no escape at all: one search says so.
    if !path_and_query.contains('%') {
        return Ok(());
    }
    let Some((_, query)) = path_and_query.split_once('?') else {
        return Ok(());
    };
    for piece in query.split(['&', '=']) {
        if percent_encoding::percent_decode_str(piece)
            .decode_utf8()
            .is_err()
        {
            return Err(Error::UnsignableQuery {
                parameter: piece.to_owned(),
            });
        }
    }
    Ok(())
}

/// aws-sigv4's default settings without its excluded-headers list (the filtering in
/// [`sign_request`] chooses the headers), made once: `SigningSettings::default()` allocates.
fn base_settings() -> &'static SigningSettings {
    static BASE: std::sync::OnceLock<SigningSettings> = std::sync::OnceLock::new();
    BASE.get_or_init(|| {
        let mut settings = SigningSettings::default();
        settings.excluded_headers = None;
        settings
    })
}

/// SigV4 parameters, or SigV4a ones when the route names a region set.
fn signing_params<'a>(
    region: &'a str,
    service: &'a str,
    time: SystemTime,
    sigv4a: bool,
    identity: &'a Identity,
    settings: SigningSettings,
) -> Result<aws_sigv4::http_request::SigningParams<'a>, Error> {
    #[cfg(not(feature = "sigv4a"))]
    let _ = sigv4a;
    #[cfg(feature = "sigv4a")]
    if sigv4a {
        return aws_sigv4::sign::v4a::SigningParams::builder()
            .identity(identity)
            .region_set(region)
            .name(service)
            .time(time)
            .settings(settings)
            .build()
            .map(Into::into)
            .map_err(|e| Error::Signing(Box::new(e)));
    }
    v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings)
        .build()
        .map(Into::into)
        .map_err(|e| Error::Signing(Box::new(e)))
}

/// A header value with a tab between its words, folded as botocore and the AWS Java SDK
/// canonicalize it: trimmed, every run of spaces and tabs made one space. `None` when the
/// value has no inner tab (every implementation already agrees on it).
///
/// The SigV4 "Trimall" rule speaks of sequential spaces; aws-sigv4 folds only those, while
/// botocore (`' '.join(value.split())`) and the Java SDK fold any whitespace, as API
/// Gateway does. Signed as sent, `a<TAB>b` would verify with one and not the other, so the
/// folded value is both signed and sent.
fn fold_whitespace(value: &str) -> Option<String> {
    let trimmed = value.trim_matches([' ', '\t']);
    if !trimmed.contains('\t') {
        return None;
    }
    let words: Vec<&str> = trimmed
        .split([' ', '\t'])
        .filter(|word| !word.is_empty())
        .collect();
    Some(words.join(" "))
}

/// Refuses a `Host` header set on the request that is not the host signed for. reqwest sends
/// a `Host` header as it is, while the signature always covers the route's host, so the two
/// would disagree on the wire. Through CloudFront no `Host` the caller sets can be right:
/// CloudFront routes by it and sends the origin its own, and the signature is the origin's.
fn check_host_header(headers: &HeaderMap, sign_host: &str, route: RouteKind) -> Result<(), Error> {
    let Some(value) = headers.get(http::header::HOST) else {
        return Ok(());
    };
    let sent = value.to_str().unwrap_or_default();
    if route != RouteKind::CloudFront && sent.eq_ignore_ascii_case(sign_host) {
        return Ok(());
    }
    Err(Error::HostHeaderMismatch {
        sent: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        signed: sign_host.to_owned(),
    })
}

/// Fails when the answer to a request whose route sent `Host: {sent_host}` came over
/// `version`, HTTP/2 or later, and that host is not the URL's authority. From HTTP/2 on the
/// host travels as `:authority`, which reqwest takes from the URL, and the `Host` header
/// goes beside it: two hosts in one request (RFC 9113 8.3.1 forbids it), and a server
/// verifies the signature for the one it picks, most likely the unsigned `:authority`.
pub(crate) fn check_host_carried(
    version: http::Version,
    sent_host: &str,
    url: &url::Url,
) -> Result<(), Error> {
    if version < http::Version::HTTP_2 {
        return Ok(());
    }
    let authority = url_host_header(url).unwrap_or_default();
    if authority.eq_ignore_ascii_case(sent_host) {
        return Ok(());
    }
    Err(Error::HostOverrideOverHttp2 {
        version: format!("{version:?}"),
        sent_to: authority,
        signed: sent_host.to_owned(),
    })
}

/// Credentials as signing uses them: aws-sigv4's identity, and the two strings every
/// [`SignedRequest`](crate::SignedRequest) keeps, made once per credentials and shared, not
/// copied per request.
/// No `Debug`: the identity holds the secret key.
#[derive(Clone)]
pub(crate) struct SigningCredentials {
    identity: Identity,
    pub(in crate::engine) access_key_id: Arc<str>,
    pub(in crate::engine) session_token: Option<Arc<str>>,
}

impl From<Credentials> for SigningCredentials {
    fn from(credentials: Credentials) -> Self {
        Self {
            access_key_id: Arc::from(credentials.access_key_id()),
            session_token: credentials.session_token().map(Arc::from),
            identity: Identity::from(credentials),
        }
    }
}

impl SigningCredentials {
    /// The access key id (not a secret: it travels in every signature).
    #[cfg(test)]
    pub(crate) fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// Whether a session token comes with them (temporary credentials).
    pub(crate) fn has_session_token(&self) -> bool {
        self.session_token.is_some()
    }

    /// Whether `other` has the same access key id and session token: a verifier that
    /// refused one refuses the other.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        self.access_key_id == other.access_key_id && self.session_token == other.session_token
    }
}

/// Signs `req` with `credentials`; returns the headers to inject and a summary of what was
/// signed.
pub(crate) fn sign_request<'p>(
    mut req: ToSign<'_, 'p>,
    credentials: &'p SigningCredentials,
) -> Result<(SignatureHeaders, Signed<'p>), Error> {
    check_query(&req.path_and_query)?;
    check_host_header(req.headers, &req.host, req.route.kind)?;
    let profile = ServiceProfile::of(&req.service);
    if profile.s3_path {
        if let Cow::Owned(spelled) = s3_spelling(&req.path_and_query) {
            req.path_and_query = Cow::Owned(spelled);
        }
    }
    let payload_sha256 = payload_for(&req, profile)?.unwrap_or(req.payload_sha256);
    let policy = &req.route.signed_headers;
    // The signed headers as aws-sigv4 takes them, in one pass over the request's. HTTP
    // drops leading and trailing spaces and tabs from a field value (RFC 9110 5.5), so the
    // verifier never sees them; aws-sigv4 trims only spaces. (`to_str` took only visible
    // ASCII, spaces and tabs: `trim_ascii` trims exactly the spaces and tabs.)
    //
    // Gathered in a `Vec` of our own: aws-sigv4 collects what it is given into one, and
    // from a `Vec`'s iterator it keeps the same buffer instead of pulling item by item.
    let replaced: Vec<(HeaderName, HeaderValue)>;
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(req.headers.len() + 1);
    headers.push(("host", &*req.host));
    let mut tab = false;
    for (name, value) in req.headers {
        if !is_signed(name.as_str(), policy) {
            continue;
        }
        let Ok(text) = value.to_str() else {
            return Err(Error::InvalidHeaderValue {
                name: name.as_str().to_owned(),
            });
        };
        // Without an early exit the compiler checks many bytes at a time (`contains` calls
        // out to `memchr`, dear for values this short).
        tab |= text.bytes().fold(false, |tab, b| tab | (b == b'\t'));
        headers.push((name.as_str(), text.trim_ascii()));
    }
    if tab {
        // Rare: a value with a tab inside is signed (and sent) folded, every value of its
        // name; those come from `replaced`, in the order `headers` lists them (a name's
        // values are listed together).
        replaced = folded_headers(req.headers, policy)?;
        let mut folded = replaced.iter().peekable();
        for (name, value) in &mut headers[1..] {
            if let Some((_, folded)) = folded.next_if(|(folded_name, _)| folded_name == *name) {
                *value = folded.to_str().unwrap_or_default().trim_ascii();
            }
        }
    } else {
        replaced = Vec::new();
    }

    let unsigned = &*payload_sha256 == UNSIGNED_PAYLOAD;
    let hash_header = profile.content_sha256_header || unsigned;
    let mut settings = base_settings().clone();
    if profile.s3_path {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    } else if encodes_to_itself(path_of(&req.path_and_query)) {
        // Encoding such a path again gives it back unchanged; told so, aws-sigv4 skips a
        // copy and an encoding pass per request, and signs the same canonical path.
        settings.percent_encoding_mode = PercentEncodingMode::Single;
    }
    if hash_header {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    match req.placement {
        Placement::Headers => settings.signature_location = SignatureLocation::Headers,
        Placement::Query(expires) => {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
    }

    let sigv4a = req.route.region_set.is_some();
    let params = signing_params(
        &req.region,
        &req.service,
        req.time,
        sigv4a,
        &credentials.identity,
        settings,
    )?;
    // The path and query alone (origin form): the host is the `host` header above.
    let signable = SignableRequest::new(
        req.method.as_str(),
        &*req.path_and_query,
        headers.into_iter(),
        if unsigned {
            SignableBody::UnsignedPayload
        } else {
            SignableBody::Precomputed(payload_sha256.to_string())
        },
    )
    .map_err(|e| Error::Signing(Box::new(e)))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| Error::Signing(Box::new(e)))?
        .into_parts();
    drop(params);

    let mut amz_date = AmzDate::default();
    for (name, value) in instructions.headers() {
        if name == "x-amz-date" {
            amz_date = AmzDate::new(value);
        }
    }
    let query = instructions.params();
    // The summary's path: the URL's own, unless signing changed it (CloudFront's origin
    // path, S3's spelling) or the signature went into it (a presigned URL, without the
    // signature and with the session token redacted).
    let mut path_and_query = match req.path_and_query {
        Cow::Borrowed(_) => None,
        Cow::Owned(owned) => Some(owned),
    };
    if !query.is_empty() {
        let path_and_query =
            path_and_query.get_or_insert_with(|| req.kept.path_and_query().to_owned());
        for (name, value) in query {
            if *name == "X-Amz-Date" {
                amz_date = AmzDate::new(value);
            }
            if *name == "X-Amz-Signature" {
                continue;
            }
            path_and_query.push(if path_and_query.contains('?') {
                '&'
            } else {
                '?'
            });
            path_and_query.push_str(name);
            path_and_query.push('=');
            if *name == "X-Amz-Security-Token" {
                path_and_query.push_str(canonical::REDACTED);
            } else {
                path_and_query.push_str(&form_encode(value));
            }
        }
    }

    let summary = Signed {
        kept: req.kept,
        host: req.host,
        rewritten: (path_and_query.is_some() || !replaced.is_empty()).then(|| {
            Box::new(Rewritten {
                path_and_query,
                folded: replaced.clone(),
            })
        }),
        route: req.route,
        in_headers: req.placement == Placement::Headers,
        hash_header,
        payload_sha256,
        amz_date,
        service: req.service,
        region: req.region,
        credentials,
        profile,
        sigv4a,
    };
    Ok((
        SignatureHeaders {
            instructions,
            replaced,
            s3_spelling: profile.s3_path,
        },
        summary,
    ))
}

/// The path of an origin-form `path_and_query`.
fn path_of(path_and_query: &str) -> &str {
    path_and_query
        .split_once('?')
        .map_or(path_and_query, |(path, _)| path)
}

/// Whether a path is its own percent-encoding: every byte is unreserved (RFC 3986 2.3) or
/// `/`, the bytes no SigV4 path encoding touches. A path with a `%`, a sub-delimiter or a
/// byte outside ASCII is encoded again by the service, and so by aws-sigv4.
fn encodes_to_itself(path: &str) -> bool {
    path.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'.' | b'_' | b'~'))
}

/// Every value of each signed header that has one to fold ([`fold_whitespace`]), folded
/// where it needs it, in request order: repeated headers are signed joined with `,`, so one
/// value rewritten means the whole set is sent again. [`sign_request`] asks for it only
/// when a signed value has a tab, having checked that every signed value is text.
fn folded_headers(
    headers: &HeaderMap,
    policy: &SignedHeaders,
) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
    let mut folded_names: Vec<&HeaderName> = Vec::new();
    for (name, value) in headers {
        // Not text: not signed (the caller refused any signed value that is not).
        let Ok(text) = value.to_str() else {
            continue;
        };
        if text.as_bytes().contains(&b'\t')
            && is_signed(name.as_str(), policy)
            && fold_whitespace(text).is_some()
            && !folded_names.contains(&name)
        {
            folded_names.push(name);
        }
    }
    let mut replaced = Vec::new();
    for (name, value) in headers {
        if !folded_names.contains(&name) {
            continue;
        }
        let value = match fold_whitespace(value.to_str().unwrap_or_default()) {
            Some(folded) => {
                let mut folded =
                    HeaderValue::from_str(&folded).map_err(|_| Error::InvalidHeaderValue {
                        name: name.as_str().to_owned(),
                    })?;
                folded.set_sensitive(value.is_sensitive());
                folded
            }
            None => value.clone(),
        };
        replaced.push((name.clone(), value));
    }
    Ok(replaced)
}

/// An `X-Amz-Date` (`YYYYMMDD'T'HHMMSS'Z'`, 16 bytes), kept inline.
#[derive(Clone, Copy, Default)]
pub(crate) struct AmzDate {
    bytes: [u8; 16],
    len: u8,
}

impl AmzDate {
    fn new(value: &str) -> Self {
        let mut date = Self::default();
        let n = value.len().min(16);
        date.bytes[..n].copy_from_slice(&value.as_bytes()[..n]);
        date.len = n as u8;
        date
    }

    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

/// The payload hash to sign when it is not the body's own (`None`): a presigned request to
/// a service that verifies presigned URLs over `UNSIGNED-PAYLOAD` signs that; if a body hash
/// was asked for there, the body it should protect cannot be protected, which is refused
/// rather than silently dropped.
fn payload_for(
    req: &ToSign<'_, '_>,
    profile: ServiceProfile,
) -> Result<Option<PayloadHash>, Error> {
    let presigned = matches!(req.placement, Placement::Query(_));
    if !presigned || !profile.presigned_unsigned_payload {
        return Ok(None);
    }
    match &*req.payload_sha256 {
        UNSIGNED_PAYLOAD => Ok(None),
        // No body: nothing is lost by signing the form the service verifies.
        canonical::EMPTY_PAYLOAD_SHA256 => Ok(Some(PayloadHash::Static(UNSIGNED_PAYLOAD))),
        _ => Err(Error::PayloadHashNotPresignable {
            service: req.service.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn identity(token: Option<&str>) -> SigningCredentials {
        SigningCredentials::from(Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        ))
    }

    const GET: http::Method = http::Method::GET;

    /// [`sign_request`], with the summary a response would carry.
    fn sign_summarized(
        req: ToSign<'_, '_>,
        credentials: &SigningCredentials,
    ) -> Result<(SignatureHeaders, crate::SignedRequest), Error> {
        sign_request(req, credentials).map(|(headers, signed)| (headers, signed.into_summary()))
    }

    const URL: &str = "https://abc.execute-api.us-east-1.amazonaws.com/prod/items?b=2&a=1";

    fn to_sign<'a>(headers: &'a HeaderMap, policy: &SignedHeaders) -> ToSign<'a, 'static> {
        let url: url::Url = URL.parse().unwrap();
        ToSign {
            method: &GET,
            host: "abc.execute-api.us-east-1.amazonaws.com".into(),
            path_and_query: "/prod/items?b=2&a=1".into(),
            headers,
            // Leaked: a plan borrows its route from the table, which outlives it.
            route: Box::leak(Box::new(crate::engine::route::test_route(policy.clone()))),
            payload_sha256: canonical::EMPTY_PAYLOAD_SHA256.into(),
            service: "execute-api".into(),
            region: "us-east-1".into(),
            time: UNIX_EPOCH + Duration::from_secs(1_440_938_160),
            placement: Placement::Headers,
            kept: Kept::new(&GET, &url, headers, http::Version::HTTP_11, None),
        }
    }

    /// The headers `h` puts on a request.
    fn sent(h: SignatureHeaders) -> HeaderMap {
        let mut head = crate::engine::Head::new(GET, URL.parse().unwrap());
        h.apply(&mut head).unwrap();
        head.headers
    }

    fn authorization(h: &HeaderMap) -> String {
        h.get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    }

    /// The signature aws-sigv4 makes for a GET of `path_and_query` with its own path
    /// encoding (double, the default): what [`sign_request`] must match whatever it tells
    /// aws-sigv4 about the path.
    fn double_encoded_authorization(
        path_and_query: &str,
        credentials: &SigningCredentials,
    ) -> String {
        let headers = HeaderMap::new();
        let base = to_sign(&headers, &SignedHeaders::All);
        let params = signing_params(
            "us-east-1",
            "execute-api",
            base.time,
            false,
            &credentials.identity,
            base_settings().clone(),
        )
        .unwrap();
        let signable = SignableRequest::new(
            "GET",
            path_and_query,
            [("host", &*base.host)].into_iter(),
            SignableBody::Precomputed(canonical::EMPTY_PAYLOAD_SHA256.to_owned()),
        )
        .unwrap();
        let (instructions, _) = sign(signable, &params).unwrap().into_parts();
        let (headers, _) = instructions.into_parts();
        headers
            .iter()
            .find(|h| h.name() == "authorization")
            .map(|h| h.value().to_owned())
            .unwrap()
    }

    #[test]
    fn a_path_signed_as_its_own_encoding_signs_as_encoded_twice() {
        assert!(encodes_to_itself("/prod/items-2/a_b.c~d"));
        for path in ["/a:b", "/a%20b", "/a+b", "/caf\u{e9}", "/a b"] {
            assert!(!encodes_to_itself(path), "{path}");
        }
        assert_eq!(path_of("/a/b?c=/d%"), "/a/b");
        // Every byte a path may carry, alone, doubled, in a segment and next to dot segments:
        // signed with aws-sigv4 told the path needs no second encoding (when it does not)
        // or not told (when it does), the signature is the one of its default encoding.
        let credentials = identity(None);
        let headers = HeaderMap::new();
        let mut checked = 0;
        for b in 0x21u8..0x7f {
            for template in ["/a{}b/c", "/x/./{}/../y//z", "/{}", "/{}{}/x", "/{}/"] {
                let path = template.replace("{}", &char::from(b).to_string());
                let path_and_query = format!("{path}?q=1");
                if path_and_query.parse::<http::uri::PathAndQuery>().is_err()
                    || path_of(&path_and_query) != path
                {
                    continue;
                }
                let mut req = to_sign(&headers, &SignedHeaders::All);
                req.path_and_query = Cow::Owned(path_and_query.clone());
                let (h, _) = sign_request(req, &credentials).unwrap();
                assert_eq!(
                    authorization(&sent(h)),
                    double_encoded_authorization(&path_and_query, &credentials),
                    "{path_and_query}"
                );
                checked += 1;
            }
        }
        assert!(checked > 400, "{checked}");
    }

    #[test]
    fn signs_host_and_chosen_headers_only() {
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        headers.insert("user-agent", HeaderValue::from_static("reqwest"));
        headers.insert("x-amz-meta", HeaderValue::from_static("m"));
        headers.insert("authorization", HeaderValue::from_static("stale"));
        let all = SignedHeaders::All;
        let (h, summary) = sign_summarized(to_sign(&headers, &all), &identity(None)).unwrap();
        let h = sent(h);
        assert!(
            authorization(&h).contains("SignedHeaders=content-type;host;x-amz-date;x-amz-meta,"),
            "{}",
            authorization(&h)
        );
        assert_eq!(summary.amz_date(), "20150830T123600Z");
        let minimal = SignedHeaders::HostAndAmzOnly;
        let (h, _) = sign_summarized(to_sign(&headers, &minimal), &identity(None)).unwrap();
        let h = sent(h);
        assert!(authorization(&h).contains("SignedHeaders=host;x-amz-date;x-amz-meta,"));
        let plus = SignedHeaders::HostAndAmzPlus(vec!["Content-Type".into()]);
        let (h, _) = sign_summarized(to_sign(&headers, &plus), &identity(None)).unwrap();
        let h = sent(h);
        assert!(
            authorization(&h).contains("SignedHeaders=content-type;host;x-amz-date;x-amz-meta,")
        );
    }

    #[test]
    fn token_is_signed_sensitive_and_redacted_in_the_summary() {
        let headers = HeaderMap::new();
        let all = SignedHeaders::All;
        let (h, summary) =
            sign_summarized(to_sign(&headers, &all), &identity(Some("tok-secret"))).unwrap();
        let h = sent(h);
        let token = h.get("x-amz-security-token").cloned().unwrap();
        assert!(token.is_sensitive());
        assert!(h
            .iter()
            .any(|(n, v)| n == "authorization" && v.is_sensitive()));
        let shown = format!("{summary:?} {h:?}");
        assert!(
            !shown.contains("tok-secret") && !shown.contains("Signature="),
            "{shown}"
        );
        assert!(summary
            .headers()
            .any(|h| h == ("x-amz-security-token", "<redacted>")));
    }

    #[test]
    fn non_text_header_value_is_a_typed_error() {
        let mut headers = HeaderMap::new();
        headers.insert("x-custom", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let all = SignedHeaders::All;
        let err = sign_summarized(to_sign(&headers, &all), &identity(None)).unwrap_err();
        assert!(matches!(err, Error::InvalidHeaderValue { ref name } if name == "x-custom"));
        // Not signed, so not a problem.
        let minimal = SignedHeaders::HostAndAmzOnly;
        assert!(sign_summarized(to_sign(&headers, &minimal), &identity(None)).is_ok());
    }

    #[test]
    fn header_values_are_trimmed_of_spaces_and_tabs() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("\t value \t"));
        let all = SignedHeaders::All;
        let (_, summary) = sign_summarized(to_sign(&headers, &all), &identity(None)).unwrap();
        // The summary keeps the value as sent; the canonical form trims it.
        assert!(summary.canonical_request().contains("\nx-a:value\n"));
    }

    #[test]
    fn non_utf8_query_escapes_are_refused() {
        let headers = HeaderMap::new();
        let all = SignedHeaders::All;
        let mut req = to_sign(&headers, &all);
        req.path_and_query = "/prod/x?ok=%C3%A9&bad=%A0".into();
        let err = sign_summarized(req, &identity(None)).unwrap_err();
        assert!(matches!(err, Error::UnsignableQuery { ref parameter } if parameter == "%A0"));
        let mut req = to_sign(&headers, &all);
        req.path_and_query = "/prod/x?ok=%C3%A9&pct=100%25".into();
        assert!(sign_summarized(req, &identity(None)).is_ok());
    }

    #[test]
    fn s3_spelling_encodes_the_key_as_the_sdks_do() {
        let cases = [
            // Already in the spelling: borrowed as it is.
            (
                "/a/b%20c.txt?list-type=2&prefix=a%2F",
                "/a/b%20c.txt?list-type=2&prefix=a%2F",
            ),
            // Sub-delims and gen-delims in a key; a raw `+` is a literal plus there.
            (
                "/k/a+b=c!$'()*,;:@",
                "/k/a%2Bb%3Dc%21%24%27%28%29%2A%2C%3B%3A%40",
            ),
            // Each segment decoded and encoded again: an encoded unreserved character is
            // that character, an encoded slash stays inside its segment, a `%` that starts
            // no escape is a percent sign.
            ("/k/%2f%c3%a9%zz%7e%41", "/k/%2F%C3%A9%25zz~A"),
            ("/%2F.", "/%2F."),
            // Dot segments and double slashes are part of an S3 key.
            ("/a/./b/../c//d", "/a/./b/../c//d"),
            // Query: `+` is a space, a bare key stays bare, empty pieces go.
            (
                "/?prefix=x+y&delimiter=/&&lifecycle&e=",
                "/?prefix=x%20y&delimiter=%2F&lifecycle&e=",
            ),
            ("/?k=%2B&%7e=~", "/?k=%2B&~=~"),
            ("/?", "/"),
        ];
        for (written, spelled) in cases {
            assert_eq!(s3_spelling(written), spelled, "{written}");
            // Idempotent: spelling the spelling changes nothing.
            assert!(
                matches!(s3_spelling(spelled), Cow::Borrowed(_)),
                "{spelled}"
            );
        }
    }

    #[test]
    fn s3_presigned_payload_is_unsigned_or_refused() {
        let headers = HeaderMap::new();
        let all = SignedHeaders::All;
        let s3 = |payload: &str| {
            let mut req = to_sign(&headers, &all);
            req.service = "s3".into();
            req.placement = Placement::Query(Duration::from_secs(60));
            req.payload_sha256 = payload.into();
            sign_summarized(req, &identity(None))
        };
        for payload in [canonical::EMPTY_PAYLOAD_SHA256, UNSIGNED_PAYLOAD] {
            let (_, summary) = s3(payload).unwrap();
            assert_eq!(summary.payload_sha256(), UNSIGNED_PAYLOAD);
        }
        let body_hash = canonical::hex_sha256(b"body");
        assert!(matches!(
            s3(&body_hash),
            Err(Error::PayloadHashNotPresignable { ref service }) if service == "s3"
        ));
        // API Gateway presigns over the body's hash.
        let mut req = to_sign(&headers, &all);
        req.placement = Placement::Query(Duration::from_secs(60));
        req.payload_sha256 = body_hash.as_str().into();
        let (_, summary) = sign_summarized(req, &identity(None)).unwrap();
        assert_eq!(summary.payload_sha256(), body_hash);
    }

    #[test]
    fn s3_gets_a_content_hash_header() {
        let headers = HeaderMap::new();
        let all = SignedHeaders::All;
        let mut req = to_sign(&headers, &all);
        req.service = "s3".into();
        let (h, summary) = sign_summarized(req, &identity(None)).unwrap();
        let h = sent(h);
        assert!(h.iter().any(|(n, _)| n == "x-amz-content-sha256"));
        assert!(summary.headers().any(|(n, _)| n == "x-amz-content-sha256"));
    }

    #[test]
    fn never_signed_matches_the_two_lists_exactly() {
        for name in SIGNATURE_HEADERS.iter().chain(&VOLATILE_HEADERS) {
            assert!(is_never_signed(name), "{name}");
        }
        for name in [
            "accept",
            "content-type",
            "x-amz-meta-a",
            "hosts",
            "x-forwarded",
            "",
        ] {
            assert!(!is_never_signed(name), "{name}");
        }
        let listed = SIGNATURE_HEADERS.len() + VOLATILE_HEADERS.len();
        assert_eq!(
            listed, 20,
            "a header added to a list must be added to the match"
        );
    }

    /// The two matches over the signature headers (which to strip, how to name and mark
    /// them) say what the list says.
    #[test]
    fn signature_header_matches_follow_the_list() {
        for name in SIGNATURE_HEADERS {
            assert!(is_signature_header(name), "{name}");
            let (header, secret) = signature_header_name(name);
            assert_eq!(header.as_str(), name);
            assert_eq!(
                secret,
                matches!(name, "authorization" | "x-amz-security-token"),
                "{name}"
            );
        }
        for name in [
            "host",
            "x-amz-region-set",
            "x-amz-date-x",
            "authorizatio",
            "",
        ] {
            assert!(!is_signature_header(name), "{name}");
        }
        let (header, secret) = signature_header_name("x-amz-region-set");
        assert_eq!((header.as_str(), secret), ("x-amz-region-set", false));
    }

    #[test]
    fn a_callers_authorization_is_refused_naming_only_a_registered_scheme() {
        let check = |values: &[&str]| {
            let mut headers = HeaderMap::new();
            for value in values {
                headers.append(
                    http::header::AUTHORIZATION,
                    HeaderValue::from_str(value).unwrap(),
                );
            }
            check_caller_authorization(&headers)
        };
        let scheme = |values: &[&str]| match check(values) {
            Err(Error::AuthorizationHeaderSet { scheme }) => scheme,
            other => panic!("{values:?}: {other:?}"),
        };
        // Signatures an earlier signing left are the middleware's to replace.
        assert!(check(&[]).is_ok());
        assert!(check(&["AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Signature=00"]).is_ok());
        assert!(check(&["AWS4-ECDSA-P256-SHA256 Credential=a/b/c/d, Signature=00"]).is_ok());
        // Anything else is the caller's own credential.
        assert_eq!(scheme(&["Basic dXNlcjpzZWNyZXQ="]), Some("Basic"));
        assert_eq!(scheme(&["bearer abc"]), Some("Bearer"));
        assert_eq!(scheme(&["AWS AKID:sig"]), Some("AWS"));
        assert_eq!(
            scheme(&["AWS4-HMAC-SHA256 Credential=x", "Digest u=1"]),
            Some("Digest")
        );
        // A value that may be the credential itself is not repeated, not even its start.
        assert_eq!(scheme(&["sk_live_secret"]), None);
        assert_eq!(scheme(&["sk_live_secret more"]), None);
        assert_eq!(scheme(&["AWS4-HMAC-SHA256"]), None);
        assert_eq!(scheme(&["AWS4-HMAC-SHA256x Credential=x"]), None);
    }

    #[test]
    fn service_profiles_are_views_of_the_services_table() {
        for (name, row) in canonical::rules::SERVICES {
            let profile = ServiceProfile::of(name);
            assert_eq!(
                profile.content_sha256_header, row.content_sha256_header,
                "{name}"
            );
            assert_eq!(profile.unsigned_payload, row.unsigned_payload, "{name}");
            let rules = profile.rules();
            assert_eq!(rules.normalize_path, row.normalize_path, "{name}");
            assert_eq!(rules.path_encoding, row.path_encoding, "{name}");
            assert_eq!(
                rules.presigned_unsigned_payload, row.presigned_unsigned_payload,
                "{name}"
            );
        }
        assert_eq!(ServiceProfile::of("execute-api"), ServiceProfile::default());
    }

    /// A `Host` other than the URL's authority travels over HTTP/1.1 only: from HTTP/2 on,
    /// the URL's authority is the host, and the answer to the request is refused.
    #[test]
    fn a_host_of_another_host_is_carried_by_http1_alone() {
        use http::Version;
        let url = url::Url::parse("https://vpce-1.example.com:8443/prod").unwrap();
        let signed = "abc.execute-api.us-east-1.amazonaws.com";
        for version in [Version::HTTP_10, Version::HTTP_11] {
            assert!(check_host_carried(version, signed, &url).is_ok());
        }
        for version in [Version::HTTP_2, Version::HTTP_3] {
            let err = check_host_carried(version, signed, &url).unwrap_err();
            let Error::HostOverrideOverHttp2 {
                version: named,
                sent_to,
                signed: named_signed,
            } = &err
            else {
                panic!("{err:?}");
            };
            assert_eq!(*named, format!("{version:?}"));
            assert_eq!(sent_to, "vpce-1.example.com:8443");
            assert_eq!(named_signed, signed);
        }
        // The URL's own host, in any case: one host, nothing lost.
        assert!(check_host_carried(Version::HTTP_2, "VPCE-1.example.com:8443", &url).is_ok());
        assert!(check_host_carried(Version::HTTP_2, "vpce-1.example.com", &url).is_err());
    }
}
