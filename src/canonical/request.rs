//! The canonical request, the credential scopes (SigV4's and SigV4a's) and the
//! string-to-sign.

use std::fmt;

use sha2::{Digest, Sha256};

use super::{ALGORITHM, ALGORITHM_V4A, SCOPE_TERMINATOR};

/// Assembles the canonical request. `canonical_headers` is the block from
/// [`canonical_headers`](super::canonical_headers), each line ending in `\n`.
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
