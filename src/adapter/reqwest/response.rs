//! Responses and errors on their way back to the caller: the summary and the explanation
//! attached, and every URL reqwest reports with its signing secrets redacted.

use std::borrow::Cow;

use http::StatusCode;

use super::{reqwest, reqwest_middleware};
use crate::adapter::Shared;
use crate::config::SummaryPolicy;
use crate::diagnostics;
use crate::engine::forbidden::Inspected;
use crate::engine::summary::SignedRequest;
use crate::redact::redact_url;

/// `err` with the URL reqwest put in it redacted: a failed query-signed request would
/// otherwise show its signature and session token in the error's `Display` and `Debug`.
pub(crate) fn redact_error(err: reqwest_middleware::Error) -> reqwest_middleware::Error {
    match err {
        reqwest_middleware::Error::Reqwest(mut e) => {
            if let Some(url) = e.url_mut() {
                if let Cow::Owned(redacted) = redact_url(url) {
                    *url = redacted;
                }
            }
            reqwest_middleware::Error::Reqwest(e)
        }
        other => other,
    }
}

/// `response` with its secret query parameters redacted from [`url`](reqwest::Response::url)
/// (which, for a query-signed request, is the presigned URL itself).
fn redact_response(response: reqwest::Response) -> reqwest::Response {
    match redact_url(response.url()) {
        Cow::Borrowed(_) => response,
        Cow::Owned(url) => {
            let http_response: http::Response<reqwest::Body> = response.into();
            let (parts, body) = http_response.into_parts();
            rebuild(parts, body, url)
        }
    }
}

/// A reqwest response from parts, reporting `url`: reqwest keeps the URL in a private
/// extension that the conversion to `http::Response` drops.
pub(crate) fn rebuild(
    mut parts: http::response::Parts,
    body: reqwest::Body,
    url: url::Url,
) -> reqwest::Response {
    let marker = reqwest::ResponseBuilderExt::url(http::Response::builder(), url)
        .body(())
        .map(|r| r.into_parts().0.extensions)
        .unwrap_or_default();
    parts.extensions.extend(marker);
    reqwest::Response::from(http::Response::from_parts(parts, body))
}

/// Redacts the signature a query-signed request carried from the response's URL, and
/// records what was signed on the response when `policy` asks for it for this status.
/// The summary is made (its strings copied) only then: most answers are not kept.
pub(crate) fn attach(
    policy: SummaryPolicy,
    mut response: reqwest::Response,
    signed: Option<impl Into<SignedRequest>>,
) -> reqwest::Response {
    if let Some(signed) = signed {
        response = redact_response(response);
        if policy.attaches(response.status()) {
            response.extensions_mut().insert(signed.into());
        }
    }
    response
}

/// Explains a 403 to a request no route matched, when it is API Gateway's
/// `Missing Authentication Token` (the usual sign of a forgotten route).
pub(crate) fn explain_unsigned(
    shared: &Shared,
    mut response: reqwest::Response,
) -> reqwest::Response {
    // Told by the head alone: the middleware never reads the body of traffic it did not
    // sign, so a slow or broken answer costs the caller nothing it would not pay anyway.
    if response.status() != StatusCode::FORBIDDEN || !shared.explain_403 {
        return response;
    }
    let inspected = Inspected::from_head(response.headers());
    attach_explanation(shared, &mut response, &inspected, None);
    response
}

/// Puts the explanation of a 403 on `response` and logs it.
pub(crate) fn attach_explanation(
    shared: &Shared,
    response: &mut reqwest::Response,
    inspected: &Inspected,
    signed: Option<&SignedRequest>,
) {
    // The raw clock: the explanation speaks of this machine's clock.
    let now = shared.engine.clock.now();
    if let Some(explanation) = diagnostics::explain(inspected, signed, response.url(), now) {
        tracing::warn!(%explanation, "request was refused");
        response.extensions_mut().insert(explanation);
    }
}
