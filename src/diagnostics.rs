//! Diagnostics: reading the verifier's 403 answers and explaining them.
//!
//! API Gateway says why it refused a request, and for a signature mismatch even which
//! canonical request it expected. This module reads those answers (leaving the response
//! as it was), tells the middleware when the refusal is a clock problem it can fix, and
//! turns the rest into an [`Explanation`] the caller can act on.

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use http_body_util::BodyExt;

use crate::signing::SignedRequest;

/// 403 bodies larger than this are not read: API Gateway's are a few hundred bytes.
const MAX_INSPECTED_BODY: u64 = 64 * 1024;

/// What a 403 said, read without changing the response.
#[derive(Debug, Default)]
pub(crate) struct Inspected {
    /// The `message` (or `Message`) of API Gateway's JSON body.
    pub(crate) message: Option<String>,
    /// The response's `Date` header.
    pub(crate) date: Option<SystemTime>,
}

impl Inspected {
    /// The verifier's clock, when the 403 says our signature's time is off.
    pub(crate) fn clock_skew_server_time(&self) -> Option<SystemTime> {
        let message = self.message.as_deref()?;
        if message.starts_with("Signature expired")
            || message.starts_with("Signature not yet current")
        {
            self.date
        } else {
            None
        }
    }
}

/// Reads a small 403 body and puts it back, so the caller gets the response unchanged.
pub(crate) async fn inspect_403(response: reqwest::Response) -> (reqwest::Response, Inspected) {
    let mut inspected = Inspected {
        date: response
            .headers()
            .get(http::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok()),
        ..Inspected::default()
    };
    let small = response
        .content_length()
        .is_some_and(|len| len <= MAX_INSPECTED_BODY);
    if !small {
        return (response, inspected);
    }
    let url = response.url().clone();
    let http_response: http::Response<reqwest::Body> = response.into();
    let (mut parts, body) = http_response.into_parts();
    let bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        // The body broke while we read it; the caller would have seen the same.
        Err(_) => Bytes::new(),
    };
    inspected.message = api_gateway_message(&bytes);
    // Keep the URL reqwest reported: it lives in an extension the conversion dropped.
    let marker = reqwest::ResponseBuilderExt::url(http::Response::builder(), url)
        .body(())
        .map(|r| r.into_parts().0.extensions)
        .unwrap_or_default();
    parts.extensions.extend(marker);
    let rebuilt = http::Response::from_parts(parts, reqwest::Body::from(bytes));
    (reqwest::Response::from(rebuilt), inspected)
}

/// The `message` of an API Gateway error body (`Message` for IAM policy denials).
fn api_gateway_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value
        .get("message")
        .or_else(|| value.get("Message"))
        .and_then(|m| m.as_str())
        .map(str::to_owned)
}

/// Why a signed request was refused, and what would fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Explanation {
    /// What went wrong.
    pub cause: Cause,
    /// One line for people: cause and fix.
    pub summary: String,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// The classes of refusal the middleware can tell apart.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The verifier's clock and ours differ by more than it allows.
    ClockSkew {
        /// Offset applied, in milliseconds, when the request was signed.
        applied_offset_ms: i64,
    },
    /// The verifier computed another signature.
    SignatureMismatch,
    /// `Missing Authentication Token`: the request arrived unsigned, or the path does not
    /// exist (a wrong stage or origin path looks the same).
    MissingAuthenticationToken,
    /// The `Authorization` header arrived incomplete or mangled.
    MalformedAuthorization,
    /// The session token was refused.
    InvalidSecurityToken,
    /// Signed correctly, but IAM denies the action.
    AccessDenied,
    /// A 403 the middleware does not recognize.
    Other,
}

/// Explains a 403 for a request signed as `signed`.
pub(crate) fn explain(
    inspected: &Inspected,
    signed: &SignedRequest,
    offset_ms: i64,
) -> Option<Explanation> {
    let message = inspected.message.as_deref()?;
    let (cause, summary) = if message.starts_with("Signature expired")
        || message.starts_with("Signature not yet current")
    {
        (
            Cause::ClockSkew {
                applied_offset_ms: offset_ms,
            },
            format!(
                "clock skew: the verifier's clock differs from the signing time {}",
                signed.amz_date
            ),
        )
    } else if message.starts_with("The request signature we calculated does not match") {
        (
            Cause::SignatureMismatch,
            format!(
                "signature mismatch: signed for host {} and path {}",
                signed.host, signed.path_and_query
            ),
        )
    } else if message.starts_with("Missing Authentication Token") {
        (
            Cause::MissingAuthenticationToken,
            format!("missing authentication token: the Authorization header did not arrive, or no resource exists at {} (check the stage / origin path)", signed.path_and_query),
        )
    } else if message.contains("Authorization header requires") {
        (
            Cause::MalformedAuthorization,
            "malformed Authorization header: a proxy dropped or changed it".to_owned(),
        )
    } else if message.contains("security token included in the request is invalid") {
        (
            Cause::InvalidSecurityToken,
            "invalid security token: the session token is expired or for another account"
                .to_owned(),
        )
    } else if message.contains("is not authorized to perform") {
        (Cause::AccessDenied, "IAM denies the request".to_owned())
    } else {
        (Cause::Other, format!("refused: {message}"))
    };
    Some(Explanation { cause, summary })
}
