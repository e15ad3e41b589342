//! SigV4 canonicalization written from the AWS specification (URI encoding, canonical path,
//! query and headers, canonical request, string-to-sign, signing key, signature), plus a
//! line-by-line diff of two canonical requests for explaining signature mismatches.
//!
//! Nothing here uses `aws-sigv4`: the crate signs with `aws-sigv4`, and this module exists to
//! check those signatures independently, so the two must not share code.
//!
//! The functions are deliberately small and explicit about the service-dependent choices,
//! which are gathered in [`Rules`]:
//!
//! | choice | every service but S3 (API Gateway, Lambda URLs, …) | S3 |
//! | --- | --- | --- |
//! | path dot segments and duplicate slashes | removed | kept |
//! | path encoding | [`PathEncoding::Double`] | [`PathEncoding::Single`] |
//! | a raw `+` in the query | a space, signed as `%20` | a literal plus, signed as `%2B` |
//! | payload hash of a presigned URL | the body's SHA-256 | the literal `UNSIGNED-PAYLOAD` |
//!
//! (The crate's signer never sends S3 a raw `+` or any other character S3 and its
//! verifiers could read two ways: see the README's "S3 and other services".)
//!
//! ```
//! use reqwest_sigv4::canonical::{self, CredentialScope, Rules};
//!
//! let rules = Rules::for_service("execute-api");
//! let path = canonical::canonical_path("/prod/a%20b", rules.normalize_path, rules.path_encoding);
//! assert_eq!(path, "/prod/a%2520b");
//! let query = canonical::canonical_query("b=2&a=x+y", rules.query_plus);
//! assert_eq!(query, "a=x%20y&b=2");
//! let headers = [("Host", "example.com"), ("X-Amz-Date", "20150830T123600Z")];
//! let block = canonical::canonical_headers(&headers, &["host", "x-amz-date"]).unwrap();
//! let creq = canonical::canonical_request(
//!     "GET", &path, &query, &block, "host;x-amz-date", canonical::EMPTY_PAYLOAD_SHA256,
//! );
//! let scope = CredentialScope::new("20150830", "us-east-1", "execute-api");
//! let sts = canonical::string_to_sign("20150830T123600Z", &scope, &creq);
//! let key = canonical::signing_key("secret", &scope);
//! let signature = canonical::signature(&key, &sts);
//! assert!(key.verify(&sts, &signature));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

/// The SigV4 algorithm name, first line of the string-to-sign.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The fixed last element of a credential scope.
pub const SCOPE_TERMINATOR: &str = "aws4_request";

/// Hex SHA-256 of the empty body.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The payload hash a signer uses when it does not sign the body (S3; API Gateway refuses it).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// What stands in for a session token in any text this crate renders.
pub const REDACTED: &str = "<redacted>";

/// Every byte but the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) is encoded;
/// `percent-encoding` writes upper-case hex, as SigV4 requires.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// How path segments are encoded in the canonical request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathEncoding {
    /// S3: the path as received, with the bytes a client left raw (anything outside the
    /// unreserved set but `%XX` escapes) encoded once; existing escapes are kept (upper-cased).
    Single,
    /// Every service but S3: each segment as received (already encoded once) is URI-encoded
    /// again, so `%3D` becomes `%253D` and a raw `@` becomes `%40`.
    Double,
}

/// How a raw `+` in the query string is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryPlus {
    /// The query is form data (API Gateway and every service but S3): `+` is a space and is
    /// signed as `%20`. A literal plus must travel as `%2B`.
    Space,
    /// S3: `+` is a literal plus and is signed as `%2B`.
    Literal,
}

/// The service-dependent canonicalization choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rules {
    /// Remove dot segments and duplicate slashes from the path before encoding it.
    pub normalize_path: bool,
    /// Single or double path encoding.
    pub path_encoding: PathEncoding,
    /// How a raw `+` in the query is read.
    pub query_plus: QueryPlus,
    /// Whether a presigned request (signature in the query) signs the literal
    /// `UNSIGNED-PAYLOAD` instead of the body's hash. S3 does ("Authenticating Requests:
    /// Using Query Parameters": a presigned URL cannot know the body it will carry); API
    /// Gateway and Lambda URLs hash the body like a header-signed request.
    pub presigned_unsigned_payload: bool,
}

impl Rules {
    /// The rules AWS applies for `service`: S3 (`s3`) keeps the path as is, single-encodes it
    /// and reads `+` literally; every other service normalizes, double-encodes and reads `+`
    /// as a space.
    pub fn for_service(service: &str) -> Self {
        if service == "s3" {
            Self {
                normalize_path: false,
                path_encoding: PathEncoding::Single,
                query_plus: QueryPlus::Literal,
                presigned_unsigned_payload: true,
            }
        } else {
            Self {
                normalize_path: true,
                path_encoding: PathEncoding::Double,
                query_plus: QueryPlus::Space,
                presigned_unsigned_payload: false,
            }
        }
    }

    /// Sets whether the path is normalized.
    pub fn with_normalize_path(mut self, yes: bool) -> Self {
        self.normalize_path = yes;
        self
    }

    /// Sets the path encoding.
    pub fn with_path_encoding(mut self, encoding: PathEncoding) -> Self {
        self.path_encoding = encoding;
        self
    }

    /// Sets how a raw `+` in the query is read.
    pub fn with_query_plus(mut self, plus: QueryPlus) -> Self {
        self.query_plus = plus;
        self
    }

    /// Sets whether a presigned request signs `UNSIGNED-PAYLOAD`.
    pub fn with_presigned_unsigned_payload(mut self, yes: bool) -> Self {
        self.presigned_unsigned_payload = yes;
        self
    }
}

/// URI-encodes `input` as SigV4 requires: every byte outside the RFC 3986 unreserved set
/// becomes `%XX` with upper-case hex (so `/` is encoded too).
pub fn uri_encode(input: impl AsRef<[u8]>) -> String {
    percent_encode(input.as_ref(), NOT_UNRESERVED).to_string()
}

fn push_escape(byte: u8, out: &mut String) {
    out.push('%');
    out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
    out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Removes dot segments (RFC 3986 section 5.2.4) and empty segments (duplicate slashes) from
/// `path`. The result starts with `/`; a trailing slash (or a trailing `.`/`..`, which names a
/// directory) is kept unless nothing is left.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    let needs_work = !path.starts_with('/')
        || path.contains("//")
        || path
            .split('/')
            .any(|segment| segment == "." || segment == "..");
    if !needs_work {
        return Cow::Borrowed(path);
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut last = "";
    for segment in path.split('/') {
        last = segment;
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let trailing_slash = matches!(last, "" | "." | "..");
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    Cow::Owned(out)
}

fn encode_segment_single(segment: &str, out: &mut String) {
    let bytes = segment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            if let (Some(high), Some(low)) = (bytes.get(i + 1), bytes.get(i + 2)) {
                if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() {
                    out.push('%');
                    out.push(char::from(high.to_ascii_uppercase()));
                    out.push(char::from(low.to_ascii_uppercase()));
                    i += 3;
                    continue;
                }
            }
        }
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            push_escape(byte, out);
        }
        i += 1;
    }
}

/// The canonical URI for a path as received on the wire (the request-target before `?`,
/// neither decoded nor normalized). An empty path is `/`.
///
/// The path is split on `/` before encoding, so an encoded slash `%2F` inside a segment stays
/// inside that segment (`%2F` single, `%252F` double).
pub fn canonical_path(raw_path: &str, normalize: bool, encoding: PathEncoding) -> String {
    let path: Cow<'_, str> = if raw_path.is_empty() {
        Cow::Borrowed("/")
    } else if normalize {
        normalize_path(raw_path)
    } else {
        Cow::Borrowed(raw_path)
    };
    let mut out = String::with_capacity(path.len() + path.len() / 2);
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        match encoding {
            PathEncoding::Single => encode_segment_single(segment, &mut out),
            PathEncoding::Double => {
                out.extend(percent_encode(segment.as_bytes(), NOT_UNRESERVED));
            }
        }
    }
    out
}

/// Decodes one query component: `+` per `plus`, then `%XX` escapes. A `%` that does not start
/// a valid escape is kept as a literal `%`, the way lenient servers read it.
fn decode_component(raw: &str, plus: QueryPlus) -> Cow<'_, [u8]> {
    let spaced: Cow<'_, str> = match plus {
        QueryPlus::Space if raw.contains('+') => Cow::Owned(raw.replace('+', " ")),
        _ => Cow::Borrowed(raw),
    };
    match spaced {
        Cow::Borrowed(text) => percent_decode(text.as_bytes()).into(),
        Cow::Owned(text) => Cow::Owned(percent_decode(text.as_bytes()).collect()),
    }
}

/// The decoded `(name, value)` pairs of a raw query string (without the leading `?`), in
/// order. Empty pieces (`a=1&&b=2`, a trailing `&`) are skipped; a piece without `=` has an
/// empty value. Bytes are returned as decoded: they need not be UTF-8.
pub fn query_pairs(
    raw_query: &str,
    plus: QueryPlus,
) -> impl Iterator<Item = (Cow<'_, [u8]>, Cow<'_, [u8]>)> + '_ {
    raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(move |piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_component(name, plus), decode_component(value, plus))
        })
}

/// The canonical query string: every parameter decoded, re-encoded with [`uri_encode`],
/// sorted by encoded name then encoded value, joined with `&`; a name without `=` is `name=`.
pub fn canonical_query(raw_query: &str, plus: QueryPlus) -> String {
    canonical_query_filtered(raw_query, plus, |_| true)
}

/// [`canonical_query`] keeping only the parameters whose decoded name passes `keep` (a
/// presigned URL leaves `X-Amz-Signature` out of what it signs).
pub fn canonical_query_filtered(
    raw_query: &str,
    plus: QueryPlus,
    mut keep: impl FnMut(&[u8]) -> bool,
) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query, plus)
        .filter(|(name, _)| keep(name))
        .map(|(name, value)| (uri_encode(name), uri_encode(value)))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw_query.len() + 16);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// A header value as it goes into the canonical request: leading and trailing whitespace
/// removed and every inner run of whitespace (spaces, tabs, obs-fold line breaks) made one
/// space.
///
/// SigV4's "Trimall" rule speaks of sequential spaces; botocore (`' '.join(value.split())`)
/// and the AWS Java SDK fold any whitespace, tabs included, and so does API Gateway. A
/// signer that signs a tab as it is (aws-sigv4 does) is refused here, as it would be there.
pub fn canonical_header_value(raw: &str) -> Cow<'_, str> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0b' | '\x0c');
    let trimmed = raw.trim_matches(is_space);
    if !trimmed.contains("  ") && !trimmed.contains(|c: char| is_space(c) && c != ' ') {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split(is_space).filter(|word| !word.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// A signed header that the request does not carry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("signed header '{name}' is absent from the request")]
#[non_exhaustive]
pub struct MissingHeader {
    /// The lower-case header name.
    pub name: String,
}

/// The canonical headers block: for each name of `signed` (in the order given, which a
/// conforming signer sorts), `name:value\n`, where the value joins with `,` the canonical
/// values of every header of that name in `headers`, in received order. Names are compared
/// case-insensitively and written lower-case.
///
/// # Errors
///
/// [`MissingHeader`] naming the first name of `signed` that no header in `headers` has.
pub fn canonical_headers<N, V, S>(headers: &[(N, V)], signed: &[S]) -> Result<String, MissingHeader>
where
    N: AsRef<str>,
    V: AsRef<str>,
    S: AsRef<str>,
{
    canonical_headers_with(headers, signed, canonical_header_value)
}

/// [`canonical_headers`] with another rule for the values: the verifier replays signers
/// that canonicalize values differently, to explain a mismatch.
pub(crate) fn canonical_headers_with<N, V, S>(
    headers: &[(N, V)],
    signed: &[S],
    value_rule: fn(&str) -> Cow<'_, str>,
) -> Result<String, MissingHeader>
where
    N: AsRef<str>,
    V: AsRef<str>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for wanted in signed {
        let wanted = wanted.as_ref();
        let mut found = false;
        for (name, value) in headers {
            if !name.as_ref().trim().eq_ignore_ascii_case(wanted) {
                continue;
            }
            if found {
                out.push(',');
            } else {
                out.extend(wanted.chars().map(|c| c.to_ascii_lowercase()));
                out.push(':');
                found = true;
            }
            out.push_str(&value_rule(value.as_ref()));
        }
        if !found {
            return Err(MissingHeader {
                name: wanted.to_ascii_lowercase(),
            });
        }
        out.push('\n');
    }
    Ok(out)
}

/// The signed headers list: names lower-cased, sorted, deduplicated and joined with `;`.
pub fn signed_headers_list<S: AsRef<str>>(names: &[S]) -> String {
    let mut lower: Vec<String> = names
        .iter()
        .map(|name| name.as_ref().trim().to_ascii_lowercase())
        .collect();
    lower.sort_unstable();
    lower.dedup();
    lower.join(";")
}

/// Assembles the canonical request. `canonical_headers` is the block from
/// [`canonical_headers`], each line ending in `\n`.
pub fn canonical_request(
    method: &str,
    canonical_path: &str,
    canonical_query: &str,
    canonical_headers: &str,
    signed_headers: &str,
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(
        method.len()
            + canonical_path.len()
            + canonical_query.len()
            + canonical_headers.len()
            + signed_headers.len()
            + payload_hash.len()
            + 5,
    );
    for part in [method, "\n", canonical_path, "\n", canonical_query, "\n"] {
        out.push_str(part);
    }
    out.push_str(canonical_headers);
    for part in ["\n", signed_headers, "\n", payload_hash] {
        out.push_str(part);
    }
    out
}

/// Lower-case hex SHA-256 of `data` (the payload hash, and the canonical request's hash in
/// the string-to-sign).
pub fn hex_sha256(data: impl AsRef<[u8]>) -> String {
    hex::encode(Sha256::digest(data.as_ref()))
}

/// The credential scope `{date}/{region}/{service}/aws4_request`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CredentialScope {
    /// `YYYYMMDD`.
    pub date: String,
    /// Region, e.g. `us-east-1`.
    pub region: String,
    /// Service, e.g. `execute-api`.
    pub service: String,
}

impl CredentialScope {
    /// A scope for `date` (`YYYYMMDD`), `region` and `service`.
    pub fn new(
        date: impl Into<String>,
        region: impl Into<String>,
        service: impl Into<String>,
    ) -> Self {
        Self {
            date: date.into(),
            region: region.into(),
            service: service.into(),
        }
    }
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.date, self.region, self.service, SCOPE_TERMINATOR
        )
    }
}

/// `AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hex sha256(canonical request)}`.
pub fn string_to_sign(amz_date: &str, scope: &CredentialScope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex_sha256(canonical_request)
    )
}

type HmacSha256 = Hmac<Sha256>;

const SHA256_BLOCK: usize = 64;

/// HMAC-SHA256 keyed with `key`. The key is brought to one block the way HMAC does (hashed
/// when longer, zero-padded when shorter) so that the infallible `KeyInit::new` can be used.
fn hmac_sha256(key: &[u8], data: &[u8]) -> HmacSha256 {
    let mut block = [0u8; SHA256_BLOCK];
    if key.len() > SHA256_BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut mac = HmacSha256::new(&block.into());
    mac.update(data);
    mac
}

fn hmac_bytes(key: &[u8], data: &[u8]) -> [u8; 32] {
    hmac_sha256(key, data).finalize().into_bytes().into()
}

/// The derived SigV4 signing key. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(")?;
        f.write_str(REDACTED)?;
        f.write_str(")")
    }
}

impl SigningKey {
    /// The lower-case hex signature of `string_to_sign`.
    pub fn sign(&self, string_to_sign: &str) -> String {
        hex::encode(hmac_bytes(&self.0, string_to_sign.as_bytes()))
    }

    /// Whether `signature_hex` is the signature of `string_to_sign`, compared in constant
    /// time. Hex that does not decode to 32 bytes is simply not a match.
    pub fn verify(&self, string_to_sign: &str, signature_hex: &str) -> bool {
        let Ok(provided) = hex::decode(signature_hex.trim()) else {
            return false;
        };
        hmac_sha256(&self.0, string_to_sign.as_bytes())
            .verify_slice(&provided)
            .is_ok()
    }
}

/// Derives the signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")`.
pub fn signing_key(secret_access_key: &str, scope: &CredentialScope) -> SigningKey {
    let mut seed = Vec::with_capacity(4 + secret_access_key.len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret_access_key.as_bytes());
    let k_date = hmac_bytes(&seed, scope.date.as_bytes());
    // The seed holds the secret: do not leave it in freed memory longer than needed.
    seed.iter_mut().for_each(|b| *b = 0);
    let k_region = hmac_bytes(&k_date, scope.region.as_bytes());
    let k_service = hmac_bytes(&k_region, scope.service.as_bytes());
    SigningKey(hmac_bytes(&k_service, SCOPE_TERMINATOR.as_bytes()))
}

/// The lower-case hex signature of `string_to_sign` with `key`.
pub fn signature(key: &SigningKey, string_to_sign: &str) -> String {
    key.sign(string_to_sign)
}

/// Compares two byte strings without stopping at the first difference (for session tokens;
/// signatures are compared through the HMAC's own check). Only the length can leak.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

// ---------------------------------------------------------------------------------------
// SigV4a
// ---------------------------------------------------------------------------------------

/// The SigV4a algorithm name (ECDSA P-256 with SHA-256), first line of its string-to-sign.
pub const ALGORITHM_V4A: &str = "AWS4-ECDSA-P256-SHA256";

/// The SigV4a credential scope `{date}/{service}/aws4_request`. Unlike SigV4's it names no
/// region: the regions a SigV4a signature is good for travel in `X-Amz-Region-Set` (a signed
/// header, or a query parameter of a presigned URL).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CredentialScopeV4a {
    /// `YYYYMMDD`.
    pub date: String,
    /// Service, e.g. `s3`.
    pub service: String,
}

impl CredentialScopeV4a {
    /// A SigV4a scope for `date` (`YYYYMMDD`) and `service`.
    pub fn new(date: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            date: date.into(),
            service: service.into(),
        }
    }
}

impl fmt::Display for CredentialScopeV4a {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.date, self.service, SCOPE_TERMINATOR)
    }
}

/// `AWS4-ECDSA-P256-SHA256\n{amz_date}\n{scope}\n{hex sha256(canonical request)}`: the
/// SigV4a string-to-sign. The canonical request is built exactly as for SigV4 (with
/// `x-amz-region-set` among the signed headers, or `X-Amz-Region-Set` in the query).
pub fn string_to_sign_v4a(
    amz_date: &str,
    scope: &CredentialScopeV4a,
    canonical_request: &str,
) -> String {
    format!(
        "{ALGORITHM_V4A}\n{amz_date}\n{scope}\n{}",
        hex_sha256(canonical_request)
    )
}

#[cfg(feature = "sigv4a")]
#[cfg_attr(docsrs, doc(cfg(feature = "sigv4a")))]
pub use self::v4a_key::{sigv4a_signing_key, SigV4aKey};

/// SigV4a key derivation and ECDSA, from the specification: NIST SP 800-108 in counter mode
/// with HMAC-SHA256 for the private scalar, `p256` for the curve arithmetic.
#[cfg(feature = "sigv4a")]
mod v4a_key {
    use std::fmt;

    use p256::ecdsa::signature::{Signer, Verifier};
    use p256::ecdsa::{DerSignature, Signature, SigningKey as EcdsaSigningKey};
    use p256::elliptic_curve::PrimeField;
    use p256::{FieldBytes, NonZeroScalar, Scalar};

    use super::{hmac_bytes, ALGORITHM_V4A};

    /// The KDF's output length in bits, `[L]_32` of the fixed input.
    const KDF_OUTPUT_BITS: u32 = 256;

    /// A derived SigV4a key pair (ECDSA P-256). Its `Debug` shows the public key only.
    #[derive(Clone)]
    pub struct SigV4aKey(EcdsaSigningKey);

    impl fmt::Debug for SigV4aKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SigV4aKey")
                .field("public_key", &hex::encode(self.public_key_sec1()))
                .finish()
        }
    }

    impl SigV4aKey {
        /// The public key's affine coordinates `(X, Y)`, big-endian: what the AWS suite's
        /// `public-key.json` lists (in hex).
        pub fn public_key_coordinates(&self) -> ([u8; 32], [u8; 32]) {
            let point = self.0.verifying_key().to_sec1_point(false);
            let mut x = [0u8; 32];
            let mut y = [0u8; 32];
            // An uncompressed point of a valid key always has both coordinates.
            if let (Some(px), Some(py)) = (point.x(), point.y()) {
                x.copy_from_slice(px);
                y.copy_from_slice(py);
            }
            (x, y)
        }

        /// The public key, SEC1 uncompressed: `04 || X || Y` (65 bytes).
        pub fn public_key_sec1(&self) -> Vec<u8> {
            self.0
                .verifying_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        }

        /// The lower-case hex of the DER-encoded ECDSA signature of SHA-256(`string_to_sign`).
        ///
        /// The nonce is deterministic here (RFC 6979); signers such as `aws-sigv4` and the AWS
        /// CRT draw a random one, so two valid signatures of the same string differ: check a
        /// signature with [`SigV4aKey::verify`], never by comparing it with this.
        pub fn sign(&self, string_to_sign: &str) -> String {
            let signature: DerSignature = self.0.sign(string_to_sign.as_bytes());
            hex::encode(signature.as_bytes())
        }

        /// Whether `signature_hex` (hex, either case, of a DER-encoded ECDSA P-256 signature)
        /// is a valid signature of SHA-256(`string_to_sign`) by this key. Hex or DER that does
        /// not decode is simply not a match; high-S signatures are valid (SigV4a does not
        /// normalize S).
        pub fn verify(&self, string_to_sign: &str, signature_hex: &str) -> bool {
            let Ok(der) = hex::decode(signature_hex.trim()) else {
                return false;
            };
            let Ok(signature) = Signature::from_der(&der) else {
                return false;
            };
            self.0
                .verifying_key()
                .verify(string_to_sign.as_bytes(), &signature)
                .is_ok()
        }
    }

    /// One KDF block: HMAC-SHA256(`input_key`, `[1]_32 || Label || 0x00 || Context || [L]_32`)
    /// with the label `AWS4-ECDSA-P256-SHA256`, the context `access_key_id || counter` and
    /// L = 256 (NIST SP 800-108, counter mode; one block gives the 256 bits).
    fn kdf_block(input_key: &[u8], access_key_id: &str, counter: u8) -> [u8; 32] {
        let mut fixed = Vec::with_capacity(4 + ALGORITHM_V4A.len() + 1 + access_key_id.len() + 5);
        fixed.extend_from_slice(&1u32.to_be_bytes());
        fixed.extend_from_slice(ALGORITHM_V4A.as_bytes());
        fixed.push(0);
        fixed.extend_from_slice(access_key_id.as_bytes());
        fixed.push(counter);
        fixed.extend_from_slice(&KDF_OUTPUT_BITS.to_be_bytes());
        hmac_bytes(input_key, &fixed)
    }

    /// `candidate + 1` as a private scalar when `candidate` (big-endian) is at most n - 2,
    /// n being the order of P-256; `None` otherwise (the caller then tries the next counter).
    pub(super) fn private_scalar(candidate: &[u8; 32]) -> Option<NonZeroScalar> {
        // `from_repr` accepts exactly the values below n ...
        let scalar: Option<Scalar> = Scalar::from_repr(FieldBytes::from(*candidate)).into();
        // ... and `+ 1` wraps to zero exactly for n - 1.
        Option::from(NonZeroScalar::new(scalar? + Scalar::ONE))
    }

    /// Derives the SigV4a key pair of an access key, as AWS does: a 256-bit candidate from
    /// the KDF (key `"AWS4A" + secret`, label `AWS4-ECDSA-P256-SHA256`, context the access
    /// key id followed by a counter byte starting at 1), retried with the next counter while
    /// the candidate exceeds n - 2; the private key is the candidate plus one.
    ///
    /// # Panics
    /// If 255 candidates in a row are out of range, which for a 256-bit HMAC output happens
    /// with probability below 2^-8000.
    pub fn sigv4a_signing_key(access_key_id: &str, secret_access_key: &str) -> SigV4aKey {
        let mut input_key = Vec::with_capacity(5 + secret_access_key.len());
        input_key.extend_from_slice(b"AWS4A");
        input_key.extend_from_slice(secret_access_key.as_bytes());
        let mut found = None;
        for counter in 1..=u8::MAX {
            let mut candidate = kdf_block(&input_key, access_key_id, counter);
            found = private_scalar(&candidate);
            candidate.iter_mut().for_each(|b| *b = 0);
            if found.is_some() {
                break;
            }
        }
        // The key holds the secret: do not leave it in freed memory longer than needed.
        input_key.iter_mut().for_each(|b| *b = 0);
        let scalar = found.expect("a KDF candidate below n - 1 within 255 counters");
        SigV4aKey(EcdsaSigningKey::from(scalar))
    }
}

// ---------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    // Both are in range by construction (1..=31, 1..=12).
    (year, day as u32, month as u32)
}

fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs())
            .map(|s| -s)
            .unwrap_or(i64::MIN),
    }
}

fn system_time(seconds: i64) -> Option<SystemTime> {
    if seconds >= 0 {
        UNIX_EPOCH.checked_add(Duration::from_secs(seconds.unsigned_abs()))
    } else {
        UNIX_EPOCH.checked_sub(Duration::from_secs(seconds.unsigned_abs()))
    }
}

/// Formats `t` (truncated to the second) as an `X-Amz-Date`: `YYYYMMDDTHHMMSSZ`, UTC.
pub fn format_amz_date(t: SystemTime) -> String {
    let seconds = unix_seconds(t);
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, day, month) = civil_from_days(days);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        in_day / 3600,
        (in_day % 3600) / 60,
        in_day % 60
    )
}

/// Builds a time from calendar fields, rejecting impossible dates.
pub(crate) fn time_from_fields(
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
) -> Option<SystemTime> {
    if !(1..=12).contains(&month) || day == 0 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    // Reject 31 February and the like by a round trip.
    let (y, d, m) = civil_from_days(days);
    if (y, m, d) != (year, month, day) {
        return None;
    }
    let seconds = days * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    system_time(seconds)
}

fn digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Parses an `X-Amz-Date` (`YYYYMMDDTHHMMSSZ`, ISO 8601 basic format, UTC).
pub fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = digits(s.get(0..4)?)?;
    let month = digits(s.get(4..6)?)?;
    let day = digits(s.get(6..8)?)?;
    let hour = digits(s.get(9..11)?)?;
    let minute = digits(s.get(11..13)?)?;
    let second = digits(s.get(13..15)?)?;
    time_from_fields(i64::from(year), month, day, hour, minute, second)
}

// ---------------------------------------------------------------------------------------
// Redaction and diff
// ---------------------------------------------------------------------------------------

const TOKEN_HEADER_PREFIX: &str = "x-amz-security-token:";
const TOKEN_PARAM_PREFIX: &str = "X-Amz-Security-Token=";

/// `canonical_request` with the session token (the `x-amz-security-token` header line and the
/// `X-Amz-Security-Token` query parameter) replaced by [`REDACTED`], for display and logs.
pub fn redact_canonical_request(canonical_request: &str) -> Cow<'_, str> {
    if !canonical_request.contains(TOKEN_HEADER_PREFIX)
        && !canonical_request.contains(TOKEN_PARAM_PREFIX)
    {
        return Cow::Borrowed(canonical_request);
    }
    let mut out = String::with_capacity(canonical_request.len());
    for (i, line) in canonical_request.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i == 2 {
            out.push_str(&redact_query(line));
        } else if line.starts_with(TOKEN_HEADER_PREFIX) {
            out.push_str(TOKEN_HEADER_PREFIX);
            out.push_str(REDACTED);
        } else {
            out.push_str(line);
        }
    }
    Cow::Owned(out)
}

fn redact_query(query: &str) -> Cow<'_, str> {
    if !query.contains(TOKEN_PARAM_PREFIX) {
        return Cow::Borrowed(query);
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        if pair.starts_with(TOKEN_PARAM_PREFIX) {
            out.push_str(TOKEN_PARAM_PREFIX);
            out.push_str(REDACTED);
        } else {
            out.push_str(pair);
        }
    }
    Cow::Owned(out)
}

/// Which of the two canonical requests given to [`diff_canonical_requests`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Side {
    /// The first argument (what the verifier, e.g. AWS, computed).
    Expected,
    /// The second argument (what the signer computed).
    Actual,
}

/// One way two canonical requests differ. Session-token values are never carried: they are
/// replaced by [`REDACTED`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonicalDifference {
    /// The HTTP method line.
    Method {
        /// Expected method.
        expected: String,
        /// Actual method.
        actual: String,
    },
    /// The canonical path line.
    Path {
        /// Expected canonical path.
        expected: String,
        /// Actual canonical path.
        actual: String,
    },
    /// The canonical query line.
    Query {
        /// The (encoded) names of the parameters whose values differ or that only one side
        /// has; empty when the same parameters appear in a different order.
        parameters: Vec<String>,
        /// Expected canonical query (token redacted).
        expected: String,
        /// Actual canonical query (token redacted).
        actual: String,
    },
    /// A canonical header line: a value differs, or only one side signed the header.
    Header {
        /// The lower-case header name.
        name: String,
        /// Expected value, `None` when the expected side has no such header.
        expected: Option<String>,
        /// Actual value, `None` when the actual side has no such header.
        actual: Option<String>,
    },
    /// The signed headers list.
    SignedHeaders {
        /// Expected list.
        expected: String,
        /// Actual list.
        actual: String,
    },
    /// The payload hash line.
    PayloadHash {
        /// Expected payload hash.
        expected: String,
        /// Actual payload hash.
        actual: String,
    },
    /// One side is not shaped like a canonical request (too few lines, no blank line after
    /// the headers), so it cannot be compared line by line.
    Malformed {
        /// Which side.
        side: Side,
    },
}

impl fmt::Display for CanonicalDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Method { expected, actual } => {
                write!(f, "method: expected '{expected}', signed '{actual}'")
            }
            Self::Path { expected, actual } => {
                write!(f, "path: expected '{expected}', signed '{actual}'")
            }
            Self::Query {
                parameters,
                expected,
                actual,
            } => {
                if parameters.is_empty() {
                    write!(f, "query order")?;
                } else {
                    write!(f, "query parameter(s) {}", parameters.join(", "))?;
                }
                write!(f, ": expected '{expected}', signed '{actual}'")
            }
            Self::Header {
                name,
                expected,
                actual,
            } => match (expected, actual) {
                (Some(e), Some(a)) => write!(f, "header '{name}': expected '{e}', signed '{a}'"),
                (Some(e), None) => {
                    write!(f, "header '{name}': expected (value '{e}') but not signed")
                }
                (None, Some(a)) => {
                    write!(f, "header '{name}': signed (value '{a}') but not expected")
                }
                (None, None) => write!(f, "header '{name}'"),
            },
            Self::SignedHeaders { expected, actual } => {
                write!(
                    f,
                    "signed headers: expected '{expected}', signed '{actual}'"
                )
            }
            Self::PayloadHash { expected, actual } => {
                write!(f, "payload hash: expected '{expected}', signed '{actual}'")
            }
            Self::Malformed { side } => match side {
                Side::Expected => f.write_str("the expected canonical request is malformed"),
                Side::Actual => f.write_str("the signed canonical request is malformed"),
            },
        }
    }
}

struct Parsed<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    signed: &'a str,
    payload: &'a str,
}

fn parse_canonical(text: &str) -> Option<Parsed<'_>> {
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let method = lines.next()?;
    let path = lines.next()?;
    let query = lines.next()?;
    let mut headers = Vec::new();
    loop {
        let line = lines.next()?;
        if line.is_empty() {
            break;
        }
        headers.push(line.split_once(':').unwrap_or((line, "")));
    }
    let signed = lines.next()?;
    let payload = lines.next().unwrap_or("");
    if lines.any(|rest| !rest.is_empty()) {
        return None;
    }
    Some(Parsed {
        method,
        path,
        query,
        headers,
        signed,
        payload,
    })
}

fn query_names_that_differ(expected: &str, actual: &str) -> Vec<String> {
    let split = |q: &'_ str| -> Vec<(String, String)> {
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    };
    let mut left = split(expected);
    let mut right = split(actual);
    left.sort_unstable();
    right.sort_unstable();
    let mut names: Vec<String> = left
        .iter()
        .chain(right.iter())
        .map(|(k, _)| k.clone())
        .collect();
    names.sort_unstable();
    names.dedup();
    fn values<'s>(side: &'s [(String, String)], name: &str) -> Vec<&'s str> {
        side.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    names.retain(|name| {
        let l = values(&left, name);
        let r = values(&right, name);
        if name == "X-Amz-Security-Token" && (l == [REDACTED] || r == [REDACTED]) {
            // A redacted token cannot be compared; its presence on both sides is all we know.
            return l.len() != r.len();
        }
        l != r
    });
    names
}

fn redact_header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if name.eq_ignore_ascii_case("x-amz-security-token") {
        REDACTED
    } else {
        value
    }
}

/// Compares two canonical requests line by line and classifies each difference: method,
/// path, query (naming the parameters that differ), each header whose value differs or that
/// only one side has, the signed header list, the payload hash. Returns nothing when they are
/// equal. A session token shown as [`REDACTED`] on either side matches any token.
pub fn diff_canonical_requests(expected: &str, actual: &str) -> Vec<CanonicalDifference> {
    let mut out = Vec::new();
    if expected == actual {
        return out;
    }
    let (e, a) = match (parse_canonical(expected), parse_canonical(actual)) {
        (Some(e), Some(a)) => (e, a),
        (None, _) => {
            out.push(CanonicalDifference::Malformed {
                side: Side::Expected,
            });
            return out;
        }
        (_, None) => {
            out.push(CanonicalDifference::Malformed { side: Side::Actual });
            return out;
        }
    };
    if e.method != a.method {
        out.push(CanonicalDifference::Method {
            expected: e.method.to_owned(),
            actual: a.method.to_owned(),
        });
    }
    if e.path != a.path {
        out.push(CanonicalDifference::Path {
            expected: e.path.to_owned(),
            actual: a.path.to_owned(),
        });
    }
    if e.query != a.query {
        let parameters = query_names_that_differ(e.query, a.query);
        let (eq, aq) = (redact_query(e.query), redact_query(a.query));
        if !parameters.is_empty() || eq != aq {
            out.push(CanonicalDifference::Query {
                parameters,
                expected: eq.into_owned(),
                actual: aq.into_owned(),
            });
        }
    }
    let mut names: Vec<&str> = e
        .headers
        .iter()
        .chain(a.headers.iter())
        .map(|(name, _)| *name)
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        fn value_of<'s>(side: &[(&str, &'s str)], name: &str) -> Option<&'s str> {
            side.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        }
        let (ev, av) = (value_of(&e.headers, name), value_of(&a.headers, name));
        let is_token = name.eq_ignore_ascii_case("x-amz-security-token");
        let same = match (ev, av) {
            (Some(x), Some(y)) => x == y || (is_token && (x == REDACTED || y == REDACTED)),
            (None, None) => true,
            _ => false,
        };
        if !same {
            out.push(CanonicalDifference::Header {
                name: name.to_owned(),
                expected: ev.map(|v| redact_header_value(name, v).to_owned()),
                actual: av.map(|v| redact_header_value(name, v).to_owned()),
            });
        }
    }
    if e.signed != a.signed {
        out.push(CanonicalDifference::SignedHeaders {
            expected: e.signed.to_owned(),
            actual: a.signed.to_owned(),
        });
    }
    if e.payload != a.payload {
        out.push(CanonicalDifference::PayloadHash {
            expected: e.payload.to_owned(),
            actual: a.payload.to_owned(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLUS: QueryPlus = QueryPlus::Space;

    #[test]
    fn uri_encode_keeps_only_unreserved() {
        assert_eq!(uri_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(uri_encode("a b/c+d*e"), "a%20b%2Fc%2Bd%2Ae");
        assert_eq!(uri_encode("!'()*"), "%21%27%28%29%2A");
        assert_eq!(uri_encode("ሴ"), "%E1%88%B4");
        assert_eq!(uri_encode([0xffu8]), "%FF");
    }

    #[test]
    fn plus_in_query_is_a_space_signed_as_percent_20() {
        assert_eq!(canonical_query("q=a+b", PLUS), "q=a%20b");
        assert_eq!(canonical_query("a+b=c", PLUS), "a%20b=c");
    }

    #[test]
    fn plus_in_query_is_literal_in_s3_mode() {
        assert_eq!(canonical_query("q=a+b", QueryPlus::Literal), "q=a%2Bb");
        assert_eq!(
            Rules::for_service("s3").query_plus,
            QueryPlus::Literal,
            "S3 reads + literally"
        );
        assert_eq!(
            Rules::for_service("execute-api").query_plus,
            QueryPlus::Space
        );
    }

    #[test]
    fn encoded_plus_stays_encoded_plus() {
        assert_eq!(canonical_query("q=a%2Bb", PLUS), "q=a%2Bb");
        assert_eq!(canonical_query("q=a%2bb", QueryPlus::Literal), "q=a%2Bb");
    }

    #[test]
    fn reserved_and_utf8_query_values_are_encoded() {
        assert_eq!(canonical_query("k=*!()'", PLUS), "k=%2A%21%28%29%27");
        assert_eq!(
            canonical_query("k=%2A%21%28%29%27", PLUS),
            "k=%2A%21%28%29%27"
        );
        assert_eq!(canonical_query("k=ሴ", PLUS), "k=%E1%88%B4");
        assert_eq!(canonical_query("k=%e1%88%b4", PLUS), "k=%E1%88%B4");
        assert_eq!(canonical_query("k=a%20b~c", PLUS), "k=a%20b~c");
    }

    #[test]
    fn key_without_equals_and_empty_values() {
        assert_eq!(canonical_query("flag", PLUS), "flag=");
        assert_eq!(canonical_query("flag=", PLUS), "flag=");
        assert_eq!(canonical_query("b=&a", PLUS), "a=&b=");
        assert_eq!(canonical_query("", PLUS), "");
        assert_eq!(canonical_query("a=1&&b=2&", PLUS), "a=1&b=2");
        assert_eq!(canonical_query("=v", PLUS), "=v");
    }

    #[test]
    fn repeated_keys_sorted_by_value() {
        assert_eq!(canonical_query("k=b&k=a&k=c&j=z", PLUS), "j=z&k=a&k=b&k=c");
        // Sorting happens on the encoded form, byte-wise: upper case before lower case.
        assert_eq!(canonical_query("k=b&K=a", PLUS), "K=a&k=b");
    }

    #[test]
    fn filtered_query_leaves_parameters_out() {
        assert_eq!(
            canonical_query_filtered("b=2&X-Amz-Signature=abc&a=1", PLUS, |k| {
                k != b"X-Amz-Signature"
            }),
            "a=1&b=2"
        );
    }

    #[test]
    fn invalid_percent_escape_is_a_literal_percent() {
        assert_eq!(canonical_query("k=100%", PLUS), "k=100%25");
        assert_eq!(canonical_query("k=%zz", PLUS), "k=%25zz");
    }

    #[test]
    fn encoded_slash_in_a_path_segment_stays_in_the_segment() {
        assert_eq!(
            canonical_path("/a%2Fb/c", true, PathEncoding::Single),
            "/a%2Fb/c"
        );
        assert_eq!(
            canonical_path("/a%2Fb/c", true, PathEncoding::Double),
            "/a%252Fb/c"
        );
        // Lower-case escapes are written upper-case in single mode.
        assert_eq!(
            canonical_path("/a%2fb", false, PathEncoding::Single),
            "/a%2Fb"
        );
    }

    #[test]
    fn double_encoding_encodes_the_received_segment_again() {
        assert_eq!(
            canonical_path(
                "/test/@connections/JBDvjfGEIAMCERw%3D",
                true,
                PathEncoding::Double
            ),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
        assert_eq!(
            canonical_path("/a b/%20", false, PathEncoding::Double),
            "/a%20b/%2520"
        );
    }

    #[test]
    fn single_encoding_encodes_raw_bytes_once() {
        assert_eq!(
            canonical_path("/example space/", false, PathEncoding::Single),
            "/example%20space/"
        );
        assert_eq!(
            canonical_path("/example%20space/", false, PathEncoding::Single),
            "/example%20space/"
        );
        assert_eq!(
            canonical_path("/ሴ", false, PathEncoding::Single),
            "/%E1%88%B4"
        );
        assert_eq!(
            canonical_path("/a@b", false, PathEncoding::Single),
            "/a%40b"
        );
        assert_eq!(
            canonical_path("/100%", false, PathEncoding::Single),
            "/100%25"
        );
        assert_eq!(canonical_path("", false, PathEncoding::Single), "/");
    }

    #[test]
    fn dot_segments_and_duplicate_slashes() {
        let n = |p: &str| normalize_path(p).into_owned();
        assert_eq!(n("/"), "/");
        assert_eq!(n("//"), "/");
        assert_eq!(n("/./"), "/");
        assert_eq!(n("/./example"), "/example");
        assert_eq!(n("/example/.."), "/");
        assert_eq!(n("/example1/example2/../.."), "/");
        assert_eq!(n("//example//"), "/example/");
        assert_eq!(n("/a/b/../c"), "/a/c");
        assert_eq!(n("/a/b/.."), "/a/");
        assert_eq!(n("/a/."), "/a/");
        assert_eq!(n("/../a"), "/a");
        assert_eq!(n("/a/b"), "/a/b");
        assert!(matches!(normalize_path("/a/b/"), Cow::Borrowed(_)));
        // Encoded dots are not dot segments.
        assert_eq!(n("/a/%2E%2E/b"), "/a/%2E%2E/b");
        // Without normalization the dots are signed as they are.
        assert_eq!(
            canonical_path("/example/..", false, PathEncoding::Single),
            "/example/.."
        );
        assert_eq!(
            canonical_path("/example/..", true, PathEncoding::Single),
            "/"
        );
    }

    #[test]
    fn header_values_trimmed_and_folded() {
        assert_eq!(canonical_header_value("  value1 "), "value1");
        assert_eq!(canonical_header_value("\"a   b   c\""), "\"a b c\"");
        assert_eq!(
            canonical_header_value("value1\r\n  value2\n     value3"),
            "value1 value2 value3"
        );
        // A tab is whitespace like any other (botocore, the AWS Java SDK, API Gateway).
        assert_eq!(canonical_header_value("a\tb"), "a b");
        assert_eq!(canonical_header_value("a \t\t b\tc"), "a b c");
        assert_eq!(canonical_header_value("a\r\n\tb"), "a b");
        assert_eq!(canonical_header_value(""), "");
    }

    #[test]
    fn repeated_headers_joined_in_order() {
        let headers = [
            ("Host", "example.amazonaws.com"),
            ("My-Header1", "value4"),
            ("my-header1", " value1 "),
            ("MY-HEADER1", "value3"),
        ];
        assert_eq!(
            canonical_headers(&headers, &["host", "my-header1"]).unwrap(),
            "host:example.amazonaws.com\nmy-header1:value4,value1,value3\n"
        );
        assert_eq!(
            canonical_headers(&headers, &["host", "x-amz-date"]),
            Err(MissingHeader {
                name: "x-amz-date".into()
            })
        );
    }

    #[test]
    fn signed_headers_list_sorted_lowercase() {
        assert_eq!(
            signed_headers_list(&["X-Amz-Date", "Host", "host", "Content-Type"]),
            "content-type;host;x-amz-date"
        );
    }

    #[test]
    fn suite_get_vanilla_signature() {
        // From the AWS suite's get-vanilla case, computed end to end.
        let headers = [
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
        ];
        let block = canonical_headers(&headers, &["host", "x-amz-date"]).unwrap();
        let creq = canonical_request(
            "GET",
            &canonical_path("/", true, PathEncoding::Single),
            &canonical_query("", PLUS),
            &block,
            "host;x-amz-date",
            EMPTY_PAYLOAD_SHA256,
        );
        let scope = CredentialScope::new("20150830", "us-east-1", "service");
        let sts = string_to_sign("20150830T123600Z", &scope, &creq);
        assert_eq!(
            sts,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
        let key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", &scope);
        let sig = signature(&key, &sts);
        assert_eq!(
            sig,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert!(key.verify(&sts, &sig));
        assert!(key.verify(&sts, &sig.to_ascii_uppercase()));
        assert!(!key.verify(&sts, &sig[..62]));
        assert!(!key.verify(&sts, "zz"));
        let mut wrong = sig.clone().into_bytes();
        wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
        assert!(!key.verify(&sts, std::str::from_utf8(&wrong).unwrap()));
    }

    #[test]
    fn long_hmac_keys_are_hashed_first() {
        // RFC 4231 test case 6: a 131-byte key.
        let key = [0xaau8; 131];
        let mac = hmac_bytes(
            &key,
            b"Test Using Larger Than Block-Size Key - Hash Key First",
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // RFC 4231 test case 2: a short key.
        let mac = hmac_bytes(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// The order n of P-256, big-endian.
    #[cfg(feature = "sigv4a")]
    const P256_ORDER: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

    #[cfg(feature = "sigv4a")]
    fn order_minus(k: u8) -> [u8; 32] {
        let mut n: [u8; 32] = hex::decode(P256_ORDER).unwrap().try_into().unwrap();
        // The last byte of n is 0x51: no borrow for the small k used here.
        n[31] -= k;
        n
    }

    #[test]
    fn sigv4a_scope_and_string_to_sign() {
        let scope = CredentialScopeV4a::new("20150830", "service");
        assert_eq!(scope.to_string(), "20150830/service/aws4_request");
        // The AWS suite's v4a/get-vanilla (header variant).
        let creq = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\
                    x-amz-region-set:us-east-1\n\nhost;x-amz-date;x-amz-region-set\n\
                    e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(
            string_to_sign_v4a("20150830T123600Z", &scope, creq),
            "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n\
             cf59db423e841c8b7e3444158185aa261b724a5c27cbe762676f3eed19f4dc02"
        );
    }

    #[cfg(feature = "sigv4a")]
    #[test]
    fn sigv4a_candidate_range_is_one_to_n_minus_2() {
        use p256::elliptic_curve::PrimeField;
        let scalar_bytes = |c: &[u8; 32]| {
            v4a_key::private_scalar(c).map(|s| hex::encode(p256::Scalar::from(s).to_repr()))
        };
        // 0 gives the private key 1; n - 2 gives n - 1, the largest scalar.
        assert_eq!(
            scalar_bytes(&[0u8; 32]).unwrap(),
            format!("{}1", "0".repeat(63))
        );
        assert_eq!(
            scalar_bytes(&order_minus(2)).unwrap(),
            hex::encode(order_minus(1))
        );
        // n - 1 (private key n, i.e. zero), n and above are retried.
        assert_eq!(scalar_bytes(&order_minus(1)), None);
        assert_eq!(scalar_bytes(&order_minus(0)), None);
        assert_eq!(scalar_bytes(&[0xff; 32]), None);
    }

    #[cfg(feature = "sigv4a")]
    #[test]
    fn sigv4a_key_of_the_suite_credentials() {
        // The AWS suite's v4a public-key.json (same for every case).
        let key = sigv4a_signing_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        let (x, y) = key.public_key_coordinates();
        assert_eq!(
            hex::encode(x),
            "b6618f6a65740a99e650b33b6b4b5bd0d43b176d721a3edfea7e7d2d56d936b1"
        );
        assert_eq!(
            hex::encode(y),
            "865ed22a7eadc9c5cb9d2cbaca1b3699139fedc5043dc6661864218330c8e518"
        );
        let sec1 = key.public_key_sec1();
        assert_eq!(sec1.len(), 65);
        assert_eq!(sec1[0], 4);
        assert_eq!(&sec1[1..33], &x);
        assert!(format!("{key:?}").starts_with("SigV4aKey { public_key: \"04b6618f"));
        // Another access key id or secret gives another key.
        let other = sigv4a_signing_key("AKIDEXAMPLF", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        assert_ne!(other.public_key_coordinates().0, x);
        let other = sigv4a_signing_key("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
        assert_ne!(other.public_key_coordinates().0, x);

        // v4a/get-vanilla's header-signature.txt signs its header-string-to-sign.txt.
        let sts = "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/service/aws4_request\n\
                   cf59db423e841c8b7e3444158185aa261b724a5c27cbe762676f3eed19f4dc02";
        let suite_signature = "3045022018b4e277d0281864beb51d3600e23f88510ea5031d68ddfbb68614b82a5eb7d2022100effb9c5f22ed9ef3ae0ab243d21f06bce82365bbb79529a07b6888c343ae5f8c";
        assert!(key.verify(sts, suite_signature));
        assert!(key.verify(sts, &suite_signature.to_ascii_uppercase()));
        assert!(!key.verify(&sts.replace("service", "servicf"), suite_signature));
        assert!(!other.verify(sts, suite_signature));
        assert!(!key.verify(sts, &suite_signature[..suite_signature.len() - 2]));
        assert!(!key.verify(sts, "zz"));
        assert!(!key.verify(sts, ""));
        // Our own (deterministic) signatures verify, and are DER.
        let ours = key.sign(sts);
        assert!(ours.starts_with("30"));
        assert_eq!(ours, key.sign(sts));
        assert!(key.verify(sts, &ours));
        assert!(!key.verify("another string", &ours));
    }

    #[test]
    fn signing_key_debug_is_redacted() {
        let key = signing_key("secret", &CredentialScope::new("20150830", "r", "s"));
        let shown = format!("{key:?}");
        assert_eq!(shown, "SigningKey(<redacted>)");
    }

    #[test]
    fn amz_dates_round_trip() {
        let t = parse_amz_date("20150830T123600Z").unwrap();
        assert_eq!(
            t.duration_since(UNIX_EPOCH).unwrap().as_secs(),
            1_440_938_160
        );
        assert_eq!(format_amz_date(t), "20150830T123600Z");
        assert_eq!(format_amz_date(UNIX_EPOCH), "19700101T000000Z");
        let leap = parse_amz_date("20240229T235959Z").unwrap();
        assert_eq!(format_amz_date(leap), "20240229T235959Z");
        assert_eq!(parse_amz_date("20230229T000000Z"), None);
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
        assert_eq!(parse_amz_date("20150830T123600"), None);
        assert_eq!(parse_amz_date("2015083+T123600Z"), None);
        assert_eq!(parse_amz_date("20150830T246000Z"), None);
        let before = UNIX_EPOCH - Duration::from_secs(86_400 + 1);
        assert_eq!(format_amz_date(before), "19691230T235959Z");
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    const CREQ: &str = "GET\n/a\nb=2&c=3\nhost:example.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn diff_of_equal_requests_is_empty() {
        assert!(diff_canonical_requests(CREQ, CREQ).is_empty());
    }

    #[test]
    fn diff_classifies_each_line() {
        let other = "POST\n/b\nb=2&c=4&d=\nhost:example.org\nx-amz-date:20150830T123600Z\nx-extra:1\n\nhost;x-amz-date;x-extra\nUNSIGNED-PAYLOAD";
        let diff = diff_canonical_requests(CREQ, other);
        assert_eq!(
            diff,
            vec![
                CanonicalDifference::Method {
                    expected: "GET".into(),
                    actual: "POST".into()
                },
                CanonicalDifference::Path {
                    expected: "/a".into(),
                    actual: "/b".into()
                },
                CanonicalDifference::Query {
                    parameters: vec!["c".into(), "d".into()],
                    expected: "b=2&c=3".into(),
                    actual: "b=2&c=4&d=".into()
                },
                CanonicalDifference::Header {
                    name: "host".into(),
                    expected: Some("example.com".into()),
                    actual: Some("example.org".into())
                },
                CanonicalDifference::Header {
                    name: "x-extra".into(),
                    expected: None,
                    actual: Some("1".into())
                },
                CanonicalDifference::SignedHeaders {
                    expected: "host;x-amz-date".into(),
                    actual: "host;x-amz-date;x-extra".into()
                },
                CanonicalDifference::PayloadHash {
                    expected: EMPTY_PAYLOAD_SHA256.into(),
                    actual: UNSIGNED_PAYLOAD.into()
                },
            ]
        );
        let text: Vec<String> = diff.iter().map(ToString::to_string).collect();
        assert_eq!(
            text[2],
            "query parameter(s) c, d: expected 'b=2&c=3', signed 'b=2&c=4&d='"
        );
        assert_eq!(
            text[3],
            "header 'host': expected 'example.com', signed 'example.org'"
        );
    }

    #[test]
    fn diff_reports_query_order_and_malformed_sides() {
        let unsorted = CREQ.replace("b=2&c=3", "c=3&b=2");
        let diff = diff_canonical_requests(CREQ, &unsorted);
        assert!(matches!(
            diff.as_slice(),
            [CanonicalDifference::Query { parameters, .. }] if parameters.is_empty()
        ));
        assert_eq!(
            diff_canonical_requests("GET\n/", CREQ),
            vec![CanonicalDifference::Malformed {
                side: Side::Expected
            }]
        );
        assert_eq!(
            diff_canonical_requests(CREQ, "nonsense"),
            vec![CanonicalDifference::Malformed { side: Side::Actual }]
        );
    }

    #[test]
    fn tokens_are_redacted_in_diffs_and_redacted_tokens_match() {
        let with_token = |t: &str| {
            format!(
                "GET\n/\nX-Amz-Security-Token={t}\nhost:h\nx-amz-security-token:{t}\n\nhost;x-amz-security-token\n{EMPTY_PAYLOAD_SHA256}"
            )
        };
        let a = with_token("SECRETTOKEN1");
        let b = with_token("SECRETTOKEN2");
        let diff = diff_canonical_requests(&a, &b);
        assert_eq!(diff.len(), 2);
        let shown = format!(
            "{diff:?} {}",
            diff.iter().map(ToString::to_string).collect::<String>()
        );
        assert!(!shown.contains("SECRETTOKEN"), "{shown}");
        // A redacted side (as in a rendered error message) matches any token.
        let redacted = redact_canonical_request(&a);
        assert!(!redacted.contains("SECRETTOKEN1"));
        assert!(diff_canonical_requests(&redacted, &b).is_empty());
    }
}
