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
//!
//! Not a stable API: these are the building blocks of the verifier, of the summary of what
//! was signed, and of the tests. The module is public (and hidden from the docs) only so
//! that the tests can reach them; its items may change in any release.

mod diff;
mod encode;
mod headers;
mod key;
mod request;
pub(crate) mod rules;
#[cfg(feature = "sigv4a")]
mod sigv4a;
mod time;

pub use crate::redact::redact_canonical_request;
pub use diff::{diff_canonical_requests, CanonicalDifference, Side};
pub use encode::{
    canonical_path, canonical_query, canonical_query_filtered, normalize_path, query_pairs,
    uri_encode,
};
#[cfg(feature = "verify")]
pub(crate) use headers::canonical_headers_with;
pub use headers::{canonical_header_value, canonical_headers, signed_headers_list, MissingHeader};
pub use key::{constant_time_eq, signature, signing_key, SigningKey};
pub use request::{
    canonical_request, hex_sha256, string_to_sign, string_to_sign_v4a, CredentialScope,
    CredentialScopeV4a,
};
pub(crate) use rules::ServiceRules;
pub use rules::{PathEncoding, QueryPlus, Rules};
#[cfg(feature = "sigv4a")]
#[cfg_attr(docsrs, doc(cfg(feature = "sigv4a")))]
pub use sigv4a::{sigv4a_signing_key, SigV4aKey};
pub use time::{format_amz_date, parse_amz_date};

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
pub const REDACTED: &str = crate::redact::REDACTED;

/// The longest validity SigV4 allows a presigned request, in seconds (`X-Amz-Expires`):
/// seven days. The signer refuses to presign for longer and the verifier refuses a longer
/// `X-Amz-Expires`, as AWS does.
pub const MAX_PRESIGN_EXPIRES: u64 = 7 * 24 * 60 * 60;

/// The SigV4a algorithm name (ECDSA P-256 with SHA-256), first line of its string-to-sign.
pub const ALGORITHM_V4A: &str = "AWS4-ECDSA-P256-SHA256";

#[cfg(test)]
mod tests {
    use super::*;

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
            &canonical_query("", QueryPlus::Space),
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
        // AWS compares the lower-case string: the same bytes spelt otherwise are refused.
        assert!(!key.verify(&sts, &sig.to_ascii_uppercase()));
        assert!(!key.verify(&sts, &format!(" {sig}")));
        assert!(!key.verify(&sts, &format!("{sig}00")));
        assert!(!key.verify(&sts, &sig[..62]));
        assert!(!key.verify(&sts, "zz"));
        let mut wrong = sig.clone().into_bytes();
        wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
        assert!(!key.verify(&sts, std::str::from_utf8(&wrong).unwrap()));
    }
}
