//! Why the verifier refused a request: the typed reason, what the verifier expected (its
//! canonical request and string-to-sign), what differs when it can tell, and the 403 message
//! API Gateway sends for that reason. No text rendered here carries a secret.

use std::fmt;
use std::time::Duration;

use crate::canonical::{
    format_amz_date, parse_amz_date, redact_canonical_request, CanonicalDifference,
};

/// The API Gateway message for a signature mismatch, before the canonical-string detail.
pub const SIGNATURE_MISMATCH_MESSAGE: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// The API Gateway message when a request carries no SigV4 authentication.
pub const MISSING_AUTHENTICATION_MESSAGE: &str = "Missing Authentication Token";

/// The API Gateway message for an unknown access key or a bad session token.
pub const INVALID_TOKEN_MESSAGE: &str = "The security token included in the request is invalid.";

/// Which element of the credential scope did not match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ScopeField {
    /// The date (must be the date of `X-Amz-Date`).
    Date,
    /// The region.
    Region,
    /// The service.
    Service,
    /// The terminator (must be `aws4_request`).
    Terminator,
}

impl fmt::Display for ScopeField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Date => "date",
            Self::Region => "region",
            Self::Service => "service",
            Self::Terminator => "terminator",
        })
    }
}

/// What is wrong with the session token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenProblem {
    /// The credentials carry a token and the request has none.
    Missing,
    /// The request's token is not the credentials' token.
    Mismatch,
    /// The request has a token but the credentials have none.
    NotExpected,
    /// The token is present but not signed, and the verifier requires it signed.
    NotSigned,
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "the credentials have a session token but the request carries none",
            Self::Mismatch => "the request's X-Amz-Security-Token is not the credentials' token",
            Self::NotExpected => {
                "the request carries X-Amz-Security-Token but the credentials have no token"
            }
            Self::NotSigned => "X-Amz-Security-Token is present but not signed",
        })
    }
}

/// The reason a request was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No `Authorization` header and no `X-Amz-Algorithm`/`X-Amz-Credential`/
    /// `X-Amz-Signature` query parameter.
    #[error(
        "no SigV4 authentication in the request (no Authorization header, no presigned query)"
    )]
    MissingAuthentication,
    /// The authentication is present but cannot be read. `detail` is AWS's wording (an
    /// echoed `Authorization` header has its signature redacted).
    #[error("malformed SigV4 authentication: {detail}")]
    MalformedAuthorization {
        /// AWS's message for the problem.
        detail: String,
    },
    /// The request is signed with an algorithm AWS defines but this build does not check:
    /// SigV4a (`AWS4-ECDSA-P256-SHA256`) when the crate is built without its `sigv4a`
    /// feature. (A name AWS does not define is [`RejectionKind::MalformedAuthorization`],
    /// with AWS's text.)
    #[error("unsupported algorithm '{algorithm}': SigV4a verification needs reqwest-sigv4's `sigv4a` feature")]
    UnsupportedAlgorithm {
        /// The algorithm the request names.
        algorithm: String,
    },
    /// SigV4a: the request's region set (`X-Amz-Region-Set`) does not include the region
    /// the verifier was given ([`Verifier::region`](super::Verifier::region)).
    #[error("the SigV4a region set '{region_set}' does not include the region '{region}'")]
    RegionNotInRegionSet {
        /// The verifier's region.
        region: String,
        /// The request's region set.
        region_set: String,
    },
    /// The access key id of the credential is not one the verifier knows.
    #[error("unknown access key id '{access_key_id}'")]
    UnknownAccessKey {
        /// The access key id the request named.
        access_key_id: String,
    },
    /// The credential scope does not match what the verifier expects.
    #[error("credential scope {field} is '{got}', expected '{expected}'")]
    ScopeMismatch {
        /// Which element.
        field: ScopeField,
        /// What the verifier expects.
        expected: String,
        /// What the request's scope holds.
        got: String,
    },
    /// `host` is not among the signed headers.
    #[error("'host' is not among the signed headers")]
    MissingSignedHost,
    /// A header listed in `SignedHeaders` is absent from the request.
    #[error("signed header '{name}' is absent from the request")]
    SignedHeaderMissing {
        /// The lower-case header name.
        name: String,
    },
    /// `x-amz-content-sha256` is not the SHA-256 of the body received.
    #[error("x-amz-content-sha256 is '{declared}' but the body's SHA-256 is '{computed}'")]
    PayloadHashMismatch {
        /// The header's value.
        declared: String,
        /// The body's hash.
        computed: String,
    },
    /// The request declares `UNSIGNED-PAYLOAD` and the verifier does not allow it (API Gateway
    /// hashes the body itself).
    #[error("x-amz-content-sha256 is UNSIGNED-PAYLOAD, which this verifier does not accept")]
    UnsignedPayloadNotAllowed,
    /// The signature is not the one the verifier computed.
    #[error("the signature does not match the request")]
    SignatureMismatch,
    /// The request's time is older than the server clock minus the allowed skew.
    #[error("signature expired: signed at {signed}, server time {server_now}, allowed skew {}s", .max_skew.as_secs())]
    SignatureExpired {
        /// The request's `X-Amz-Date`.
        signed: String,
        /// The server clock, same format.
        server_now: String,
        /// The allowed skew.
        max_skew: Duration,
    },
    /// The request's time is later than the server clock plus the allowed skew.
    #[error("signature not yet current: signed at {signed}, server time {server_now}, allowed skew {}s", .max_skew.as_secs())]
    SignatureNotYetCurrent {
        /// The request's `X-Amz-Date`.
        signed: String,
        /// The server clock, same format.
        server_now: String,
        /// The allowed skew.
        max_skew: Duration,
    },
    /// A presigned request used after `X-Amz-Date + X-Amz-Expires`.
    #[error(
        "presigned request expired: signed at {signed} for {expires_in}s, server time {server_now}"
    )]
    PresignExpired {
        /// The request's `X-Amz-Date`.
        signed: String,
        /// `X-Amz-Expires`, in seconds.
        expires_in: u64,
        /// The server clock, same format.
        server_now: String,
    },
    /// The session token is missing, wrong, unexpected or unsigned.
    #[error("invalid security token: {problem}")]
    InvalidSecurityToken {
        /// What is wrong.
        problem: TokenProblem,
    },
}

/// A refused request: the reason, what the verifier expected and, for a signature mismatch,
/// what the signer apparently did differently when one known mistake explains it.
///
/// `canonical_request` holds the exact expected canonical request (with the session token,
/// like AWS's own message); `Debug`, `Display` and [`Rejection::api_gateway_message`] show it
/// with the token redacted.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// Why.
    pub kind: RejectionKind,
    /// The canonical request the verifier expected, when it got that far.
    pub canonical_request: Option<String>,
    /// The string-to-sign the verifier expected, when it got that far.
    pub string_to_sign: Option<String>,
    /// The request's `X-Amz-Date` (or `Date`, as `YYYYMMDDTHHMMSSZ`), when it could be read.
    pub amz_date: Option<String>,
    /// For a signature mismatch: the canonical request the signature does match, found by
    /// replaying common signer mistakes (single vs double path encoding, path normalization,
    /// `+` in the query, body hash, `:port` in Host). `None` when no known mistake explains it.
    pub signer_canonical_request: Option<String>,
    /// How `signer_canonical_request` differs from `canonical_request` (empty when unknown).
    pub differences: Vec<CanonicalDifference>,
}

impl Rejection {
    pub(crate) fn new(kind: RejectionKind) -> Self {
        Self {
            kind,
            canonical_request: None,
            string_to_sign: None,
            amz_date: None,
            signer_canonical_request: None,
            differences: Vec::new(),
        }
    }

    pub(crate) fn malformed(detail: impl Into<String>) -> Self {
        Self::new(RejectionKind::MalformedAuthorization {
            detail: detail.into(),
        })
    }

    pub(crate) fn with_amz_date(mut self, amz_date: Option<&str>) -> Self {
        self.amz_date = amz_date.map(str::to_owned);
        self
    }

    pub(crate) fn with_expected(
        mut self,
        canonical_request: String,
        string_to_sign: String,
    ) -> Self {
        self.canonical_request = Some(canonical_request);
        self.string_to_sign = Some(string_to_sign);
        self
    }

    /// The reason.
    pub fn kind(&self) -> &RejectionKind {
        &self.kind
    }

    /// The message API Gateway puts in its 403 body (`{"message": …}`) for this reason.
    ///
    /// For a mismatch it carries the canonical string and string-to-sign, exactly in API
    /// Gateway's layout, except that a session token is shown as
    /// [`REDACTED`](crate::canonical::REDACTED) ([`diff_canonical_requests`](
    /// crate::canonical::diff_canonical_requests) treats that as matching any token).
    /// `UnknownAccessKey` and `InvalidSecurityToken` both give API Gateway's invalid-token
    /// text. API Gateway's text for an expired presigned URL is not documented: this gives
    /// S3's (`Request has expired`). `UnsupportedAlgorithm` gives AWS's text for an
    /// algorithm it does not take; AWS documents no text for `RegionNotInRegionSet`, which
    /// gets a plain statement of the problem.
    pub fn api_gateway_message(&self) -> String {
        match &self.kind {
            RejectionKind::MissingAuthentication => MISSING_AUTHENTICATION_MESSAGE.to_owned(),
            RejectionKind::MalformedAuthorization { detail } => detail.clone(),
            RejectionKind::UnsupportedAlgorithm { algorithm } => {
                format!("Unsupported AWS 'algorithm': '{algorithm}'.")
            }
            RejectionKind::RegionNotInRegionSet { region, region_set } => format!(
                "The region set '{region_set}' in X-Amz-Region-Set does not include the region '{region}'."
            ),
            RejectionKind::UnknownAccessKey { .. }
            | RejectionKind::InvalidSecurityToken { .. } => INVALID_TOKEN_MESSAGE.to_owned(),
            RejectionKind::ScopeMismatch {
                field,
                expected,
                got,
            } => match field {
                ScopeField::Region => {
                    format!("Credential should be scoped to a valid region, not '{got}'.")
                }
                ScopeField::Service => {
                    format!("Credential should be scoped to correct service: '{expected}'.")
                }
                ScopeField::Terminator => format!(
                    "Credential should be scoped with a valid terminator: '{expected}', not '{got}'."
                ),
                ScopeField::Date => format!(
                    "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{got}' != '{expected}', from '{}'.",
                    self.amz_date.as_deref().unwrap_or(expected)
                ),
            },
            RejectionKind::MissingSignedHost => {
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
                    .to_owned()
            }
            RejectionKind::SignedHeaderMissing { .. }
            | RejectionKind::PayloadHashMismatch { .. }
            | RejectionKind::UnsignedPayloadNotAllowed
            | RejectionKind::SignatureMismatch => match (&self.canonical_request, &self.string_to_sign) {
                (Some(creq), Some(sts)) => format!(
                    "{SIGNATURE_MISMATCH_MESSAGE}\n\nThe Canonical String for this request should have been\n'{}'\n\nThe String-to-Sign should have been\n'{sts}'\n",
                    redact_canonical_request(creq)
                ),
                _ => SIGNATURE_MISMATCH_MESSAGE.to_owned(),
            },
            RejectionKind::SignatureExpired {
                signed,
                server_now,
                max_skew,
            } => format!(
                "Signature expired: {signed} is now earlier than {} ({server_now} - {}.)",
                shifted(server_now, *max_skew, false),
                skew_text(*max_skew)
            ),
            RejectionKind::SignatureNotYetCurrent {
                signed,
                server_now,
                max_skew,
            } => format!(
                "Signature not yet current: {signed} is still later than {} ({server_now} + {}.)",
                shifted(server_now, *max_skew, true),
                skew_text(*max_skew)
            ),
            RejectionKind::PresignExpired { .. } => "Request has expired".to_owned(),
        }
    }
}

fn shifted(amz_date: &str, by: Duration, later: bool) -> String {
    let moved = parse_amz_date(amz_date).and_then(|t| {
        if later {
            t.checked_add(by)
        } else {
            t.checked_sub(by)
        }
    });
    match moved {
        Some(t) => format_amz_date(t),
        None => amz_date.to_owned(),
    }
}

fn skew_text(skew: Duration) -> String {
    let seconds = skew.as_secs();
    if seconds.is_multiple_of(60) {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} sec")
    }
}

impl fmt::Debug for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field(
                "canonical_request",
                &self
                    .canonical_request
                    .as_deref()
                    .map(redact_canonical_request),
            )
            .field("string_to_sign", &self.string_to_sign)
            .field("amz_date", &self.amz_date)
            .field(
                "signer_canonical_request",
                &self
                    .signer_canonical_request
                    .as_deref()
                    .map(redact_canonical_request),
            )
            .field("differences", &self.differences)
            .finish()
    }
}

fn write_indented(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for line in text.split('\n') {
        writeln!(f, "    {line}")?;
    }
    Ok(())
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "SigV4 verification failed: {}", self.kind)?;
        match &self.kind {
            RejectionKind::SignatureMismatch if self.differences.is_empty() => {
                writeln!(
                    f,
                    "No common signer mistake explains it: check the secret key, the host and path the \
                     signer used, and headers or body changed after signing."
                )?;
            }
            RejectionKind::SignatureMismatch => {
                writeln!(
                    f,
                    "The signature matches a canonical request that differs from the expected one in:"
                )?;
                for difference in &self.differences {
                    writeln!(f, "  - {difference}")?;
                }
            }
            _ => {
                let message = self.api_gateway_message();
                let first = message.split('\n').next().unwrap_or_default();
                writeln!(f, "API Gateway would answer: {first}")?;
            }
        }
        if let Some(creq) = &self.canonical_request {
            writeln!(f, "Expected canonical request:")?;
            write_indented(f, &redact_canonical_request(creq))?;
        }
        if let Some(sts) = &self.string_to_sign {
            writeln!(f, "Expected string-to-sign:")?;
            write_indented(f, sts)?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejection {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_messages_have_api_gateway_layout() {
        let mut r = Rejection::new(RejectionKind::SignatureExpired {
            signed: "20261122T120000Z".into(),
            server_now: "20261122T121100Z".into(),
            max_skew: Duration::from_secs(300),
        });
        assert_eq!(
            r.api_gateway_message(),
            "Signature expired: 20261122T120000Z is now earlier than 20261122T120600Z (20261122T121100Z - 5 min.)"
        );
        r.kind = RejectionKind::SignatureNotYetCurrent {
            signed: "20261122T122000Z".into(),
            server_now: "20261122T121100Z".into(),
            max_skew: Duration::from_secs(300),
        };
        assert_eq!(
            r.api_gateway_message(),
            "Signature not yet current: 20261122T122000Z is still later than 20261122T121600Z (20261122T121100Z + 5 min.)"
        );
    }

    #[test]
    fn mismatch_message_layout_and_redaction() {
        let creq =
            "GET\n/\n\nhost:h\nx-amz-security-token:TOKSECRET\n\nhost;x-amz-security-token\nabc";
        let r = Rejection::new(RejectionKind::SignatureMismatch)
            .with_expected(creq.to_owned(), "AWS4-HMAC-SHA256\nD\nS\nH".to_owned());
        let msg = r.api_gateway_message();
        assert!(msg.starts_with(SIGNATURE_MISMATCH_MESSAGE), "{msg}");
        assert!(
            msg.ends_with("\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\nD\nS\nH'\n")
        );
        assert!(msg.contains(
            "\n\nThe Canonical String for this request should have been\n'GET\n/\n\nhost:h\nx-amz-security-token:<redacted>\n"
        ));
        for shown in [msg, r.to_string(), format!("{r:?}")] {
            assert!(!shown.contains("TOKSECRET"), "{shown}");
        }
        assert!(r.to_string().contains("No common signer mistake"));
    }

    #[test]
    fn simple_messages() {
        let r = Rejection::new(RejectionKind::MissingAuthentication);
        assert_eq!(r.api_gateway_message(), "Missing Authentication Token");
        let r = Rejection::new(RejectionKind::InvalidSecurityToken {
            problem: TokenProblem::Mismatch,
        });
        assert_eq!(
            r.api_gateway_message(),
            "The security token included in the request is invalid."
        );
        let r = Rejection::new(RejectionKind::ScopeMismatch {
            field: ScopeField::Date,
            expected: "20150830".into(),
            got: "20150831".into(),
        })
        .with_amz_date(Some("20150830T123600Z"));
        assert_eq!(
            r.api_gateway_message(),
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'."
        );
        assert!(r
            .to_string()
            .contains("API Gateway would answer: Date in Credential"));
    }
}
