//! Diagnostics: turning a verifier's 403, as [`forbidden`](crate::engine::forbidden) read
//! it, into an [`Explanation`] the caller can act on.
//!
//! API Gateway says why it refused a request, and for a signature mismatch even which
//! canonical request it expected; S3 sends its canonical request and clock in XML. Compared
//! with the [`SignedRequest`] summary of what was signed, that tells which of the
//! topology's usual mistakes it was.

use std::fmt;
use std::time::SystemTime;

use crate::canonical::{self, CanonicalDifference};
use crate::engine::clock::millis_between;
use crate::engine::forbidden::{is_api_gateway_skew, Inspected, MISSING_TOKEN, S3_SKEW};
use crate::engine::route::RouteKind;
use crate::engine::summary::SignedRequest;

/// Why a request was refused, and what would fix it.
///
/// Attached to a 403 response as an extension (`response.extensions().get::<Explanation>()`)
/// and logged at `warn`; the response itself is returned unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Explanation {
    /// What went wrong.
    pub cause: Cause,
    /// One line for people: what went wrong and how to fix it.
    pub summary: String,
    /// A configuration change that would fix it, when the middleware can tell.
    pub suggestion: Option<Suggestion>,
    /// For a signature mismatch answered with API Gateway's canonical string: every way
    /// it differs from the canonical request that was signed (session tokens redacted).
    pub differences: Vec<CanonicalDifference>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.summary)
    }
}

/// The classes of refusal the middleware tells apart.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The verifier saw another `Host` than the one signed.
    HostMismatch {
        /// The host that was signed.
        signed: String,
        /// The host the verifier saw.
        expected: String,
    },
    /// The verifier saw another path than the one signed (canonical, encoded forms).
    PathMismatch {
        /// The canonical path that was signed.
        signed: String,
        /// The canonical path the verifier saw.
        expected: String,
    },
    /// Query parameters arrived differently than signed.
    QueryMismatch {
        /// The parameters that differ (encoded names); empty if the whole query is missing.
        parameters: Vec<String>,
        /// Whether the verifier received no query string at all.
        query_dropped: bool,
    },
    /// A signed header's value changed in transit (or it did not arrive).
    HeaderChanged {
        /// The header's lower-case name.
        name: String,
    },
    /// The body changed in transit: its hash differs.
    PayloadChanged,
    /// The verifier saw another method.
    MethodMismatch {
        /// The method that was signed.
        signed: String,
        /// The method the verifier saw.
        expected: String,
    },
    /// Same canonical request, another string-to-sign: the date or credential scope
    /// (region, service) differs.
    DateOrScope {
        /// The string-to-sign line that differs, as the verifier has it.
        expected: String,
        /// The same line as signed.
        signed: String,
    },
    /// The credential scope names a region or service the verifier does not accept.
    ScopeRejected,
    /// The verifier computed another signature from the same canonical request and
    /// string-to-sign (wrong secret key), or gave no detail to compare.
    SignatureMismatch,
    /// The verifier's clock and ours differ by more than it allows.
    ClockSkew {
        /// The verifier's clock minus the signing time, in milliseconds, from its `Date`.
        measured_offset_ms: Option<i64>,
    },
    /// `Missing Authentication Token`: the signature did not arrive, or no resource exists
    /// at the path (a wrong stage or origin path looks the same).
    MissingAuthenticationToken {
        /// Whether the middleware signed the request (no route matched otherwise).
        signed: bool,
    },
    /// The `Authorization` header arrived incomplete or mangled.
    MalformedAuthorization,
    /// The session token was refused.
    InvalidSecurityToken,
    /// Signed correctly, but IAM does not allow the call.
    AccessDenied {
        /// The principal, as the verifier names it.
        principal: Option<String>,
        /// The action, e.g. `execute-api:Invoke`.
        action: Option<String>,
        /// The resource ARN (the account may be masked).
        resource: Option<String>,
        /// Whether an explicit `Deny` matched.
        explicit_deny: bool,
    },
    /// API Gateway answered a bare `Forbidden`: an HTTP API's IAM authorization (it gives
    /// no reason: signature or policy), or a REST API that does not serve this host (a
    /// private API reached without its VPC endpoint or `x-apigw-api-id`).
    Forbidden,
    /// The access key id is unknown to the verifier (S3's `InvalidAccessKeyId`).
    UnknownAccessKey,
    /// A 403 the middleware does not recognize.
    Other,
}

/// A configuration change that would fix a refusal.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Suggestion {
    /// The request went through a CloudFront alias: use [`Route::cloudfront`](crate::Route::cloudfront)
    /// with this origin URL (`call --origin URL`).
    CloudFrontRoute {
        /// Origin domain plus origin path, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com/prod`.
        origin_url: String,
    },
    /// Sign for this host while sending to the same URL: [`Route::host_override`](crate::Route::host_override)
    /// (`call --sign-host HOST`).
    SignHost {
        /// The host the verifier expects.
        host: String,
    },
    /// Stop signing a header that a proxy rewrites ([`SignedHeaders`](crate::SignedHeaders)).
    DoNotSignHeader {
        /// The header's lower-case name.
        name: String,
    },
    /// Forward these from CloudFront to the origin: origin request policy
    /// `Managed-AllViewerExceptHostHeader`.
    ForwardFromCloudFront,
    /// Allow the call in IAM with this policy statement (JSON).
    AllowInIam {
        /// A policy statement that would allow the call.
        statement: String,
    },
}

/// Explains a 403 for a request signed as `signed` (or not signed, `None`) and sent to
/// `sent_to`.
pub(crate) fn explain(
    inspected: &Inspected,
    signed: Option<&SignedRequest>,
    sent_to: &url::Url,
    now: SystemTime,
) -> Option<Explanation> {
    let message = match (inspected.message.as_deref(), inspected.code.as_deref()) {
        (Some(message), _) => message,
        // S3-compatible servers (s3s among them) may send a `<Code>` with no `<Message>`: a
        // mismatch reads as S3's message for it, any other code as itself.
        (None, Some(S3_MISMATCH)) => MISMATCH,
        (None, code) => code?,
    };
    let explanation = match signed {
        None if message.starts_with(MISSING_TOKEN) => Explanation::new(
            Cause::MissingAuthenticationToken { signed: false },
            format!(
                "Missing Authentication Token: the request to {} was not signed because no route matches it (add a Route for it), or it was skipped",
                host_of(sent_to)
            ),
        ),
        None => return None,
        Some(signed) => explain_signed(message, inspected, signed, sent_to, now),
    };
    Some(explanation)
}

const MISMATCH: &str = "The request signature we calculated does not match";
/// S3's error code for a signature it computed otherwise.
const S3_MISMATCH: &str = "SignatureDoesNotMatch";
const CANONICAL_INTRO: &str = "The Canonical String for this request should have been\n'";
const STS_INTRO: &str = "'\n\nThe String-to-Sign should have been\n'";
/// S3's error code for a clock outside its 15 minutes.
/// Lambda function URLs' refusal (AWS_IAM auth, or a missing resource-policy permission).
const LAMBDA_URL_FORBIDDEN: &str = "Forbidden. For troubleshooting Function URL authorization";
/// AppSync / API Gateway: a header named in `SignedHeaders` did not arrive.
const SIGNED_HEADER_MISSING: &str = "is named as a SignedHeader, but it does not exist";

fn explain_signed(
    message: &str,
    inspected: &Inspected,
    signed: &SignedRequest,
    sent_to: &url::Url,
    now: SystemTime,
) -> Explanation {
    let code = inspected.code.as_deref().unwrap_or_default();
    if code == S3_SKEW || is_api_gateway_skew(message) {
        let measured = inspected
            .clock_skew_server_time()
            .map(|server| millis_between(now, server));
        let source = if code == S3_SKEW {
            "its ServerTime"
        } else {
            "its Date header"
        };
        let how = match measured {
            Some(ms) if ms >= 0 => format!(
                " this machine's clock is {}s behind the verifier's ({source})",
                ms / 1000
            ),
            Some(ms) => format!(
                " this machine's clock is {}s ahead of the verifier's ({source})",
                -ms / 1000
            ),
            None => String::new(),
        };
        return Explanation::new(
            Cause::ClockSkew { measured_offset_ms: measured },
            format!("clock skew: the signature dated {} is outside the time the verifier allows (API Gateway: 5 minutes, S3: 15);{how}; sync the clock (NTP) or enable clock_skew_correction", signed.amz_date()),
        );
    }
    if message.starts_with(MISMATCH) {
        let detail = match (&inspected.canonical_request, &inspected.string_to_sign) {
            (Some(creq), Some(sts)) => Some((creq.as_str(), sts.as_str())),
            _ => canonical_detail(message),
        };
        return explain_mismatch(detail, signed, sent_to);
    }
    if message.starts_with(MISSING_TOKEN) {
        return Explanation::new(
            Cause::MissingAuthenticationToken { signed: true },
            format!(
                "Missing Authentication Token: the request was signed, so either the Authorization header did not reach API Gateway (a CloudFront behavior without an origin request policy forwarding it: use Managed-AllViewerExceptHostHeader) or no resource exists at {} (check the stage / origin path)",
                signed.path_and_query()
            ),
        )
        .suggest(Suggestion::ForwardFromCloudFront);
    }
    if let Some(name) = signed_header_missing(message) {
        return Explanation::new(
            Cause::HeaderChanged { name: name.clone() },
            format!("signed header {name} did not reach the verifier: a proxy dropped it, so do not sign it (Route::signed_headers(SignedHeaders::HostAndAmzOnly))"),
        )
        .suggest(Suggestion::DoNotSignHeader { name });
    }
    if message.contains("Authorization header requires")
        || message.contains("must be a 'SignedHeader'")
    {
        return Explanation::new(
            Cause::MalformedAuthorization,
            "malformed Authorization header: it arrived incomplete or changed; a proxy in between dropped or rewrote it (with CloudFront: check the origin path and that the origin request policy forwards Authorization unchanged)".to_owned(),
        )
        .suggest(Suggestion::ForwardFromCloudFront);
    }
    if inspected.security_token_refused() {
        return Explanation::new(
            Cause::InvalidSecurityToken,
            "invalid security token: the session token expired, was revoked, or does not belong to the access key (check the credentials provider and that the token is for this partition/account)".to_owned(),
        );
    }
    if code == "InvalidAccessKeyId" || message.contains("Access Key Id you provided does not exist")
    {
        return Explanation::new(
            Cause::UnknownAccessKey,
            format!(
                "unknown access key: the verifier has no access key {} (deleted, from another partition, or temporary credentials sent without their session token)",
                signed.access_key_id()
            ),
        );
    }
    if message.starts_with("Credential should be scoped")
        || message.starts_with("Date in Credential scope")
    {
        return Explanation::new(
            Cause::ScopeRejected,
            format!(
                "credential scope refused: signed for service {} in region {}; {message} Set the route's .service(..) / .region(..)",
                signed.service(), signed.region()
            ),
        );
    }
    if message.contains("is not authorized to perform") {
        return explain_denial(message);
    }
    if message.starts_with("User is not authorized to access this resource") {
        return Explanation::new(
            Cause::AccessDenied {
                principal: None,
                action: None,
                resource: None,
                explicit_deny: message.contains("explicit deny"),
            },
            "access denied by the API's Lambda authorizer: its policy for this caller denies the method and path; the signature is not what failed".to_owned(),
        );
    }
    if message.starts_with(LAMBDA_URL_FORBIDDEN) {
        return lambda_url_forbidden(signed);
    }
    if message == "Forbidden" {
        return bare_forbidden(signed, sent_to);
    }
    if code == "AccessDenied" {
        return Explanation::new(
            Cause::AccessDenied {
                principal: None,
                action: None,
                resource: None,
                explicit_deny: false,
            },
            format!("access denied with no detail ({message}): the signature is fine; S3 names the policy only to callers of the same account or organization, so check the bucket policy, the caller's IAM policy, an SCP and the VPC endpoint policy"),
        );
    }
    Explanation::new(Cause::Other, format!("refused: {message}"))
}

/// The header an `'accept' is named as a SignedHeader, but it does not exist …` names.
fn signed_header_missing(message: &str) -> Option<String> {
    let before = &message[..message.find(SIGNED_HEADER_MISSING)?];
    let name = before.trim().trim_matches('\'');
    (!name.is_empty() && !name.contains(char::is_whitespace)).then(|| name.to_ascii_lowercase())
}

/// Lambda's `Forbidden. For troubleshooting Function URL authorization issues…`.
fn lambda_url_forbidden(signed: &SignedRequest) -> Explanation {
    let statement = format!(
        r#"{{"Effect": "Allow", "Action": ["lambda:InvokeFunctionUrl", "lambda:InvokeFunction"], "Resource": "arn:aws:lambda:{}:ACCOUNT:function:NAME"}}"#,
        signed.region()
    );
    Explanation::new(
        Cause::AccessDenied {
            principal: None,
            action: None,
            resource: None,
            explicit_deny: false,
        },
        format!("function URL refused the caller: the signature was accepted, but the caller may not invoke it; since October 2025 a function URL needs both lambda:InvokeFunctionUrl and lambda:InvokeFunction (the function's resource policy or the caller's IAM policy): {statement}"),
    )
    .suggest(Suggestion::AllowInIam { statement })
}

/// API Gateway's bare `{"message":"Forbidden"}`.
fn bare_forbidden(signed: &SignedRequest, sent_to: &url::Url) -> Explanation {
    let host = signed.host();
    // `{api-id}.execute-api.{region}.amazonaws.com`, or a private API's
    // `{api-id}-{vpce-id}.execute-api…`; a VPC endpoint's own name carries no API id.
    let api_id = host
        .split_once(".execute-api.")
        .filter(|(_, rest)| !rest.contains(".vpce."))
        .map(|(id, _)| id.rsplit('.').next().unwrap_or(id))
        .and_then(|id| id.split("-vpce-").next())
        .map(str::to_owned);
    let mut summary = format!(
        "API Gateway said only Forbidden (signed for host {host} and path {}, sent to host {}): either an HTTP API's IAM authorization refused the signature or the IAM policy (HTTP APIs give no reason: check execute-api:Invoke on the route's ARN), or a REST API does not serve this host — a private API must be reached through its VPC endpoint, signed for the execute-api host (Route::host_override) or sent with the x-apigw-api-id header",
        signed.path_and_query(),
        host_of(sent_to),
    );
    let explanation = match api_id {
        Some(id) => {
            let statement = format!(
                r#"{{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:aws:execute-api:{}:*:{id}/*"}}"#,
                signed.region()
            );
            summary.push_str(&format!(
                "; an IAM statement allowing this API: {statement}"
            ));
            Explanation::new(Cause::Forbidden, summary)
                .suggest(Suggestion::AllowInIam { statement })
        }
        None => Explanation::new(Cause::Forbidden, summary),
    };
    explanation
}

fn explain_mismatch(
    detail: Option<(&str, &str)>,
    signed: &SignedRequest,
    sent_to: &url::Url,
) -> Explanation {
    let Some((expected_creq, expected_sts)) = detail else {
        return mismatch_without_detail(signed, sent_to);
    };
    let ours = signed.canonical_request();
    let differences = canonical::diff_canonical_requests(expected_creq, &ours);
    let mut explanation = if differences.is_empty() {
        let ours_sts = signed.string_to_sign();
        // Lines 1 and 2 are the date and the scope; line 3 hashes the canonical request,
        // which the redacted session token would make differ for no real reason.
        let differing = expected_sts
            .lines()
            .zip(ours_sts.lines())
            .take(3)
            .find(|(theirs, mine)| theirs != mine);
        match differing {
            Some((theirs, mine)) => Explanation::new(
                Cause::DateOrScope {
                    expected: theirs.to_owned(),
                    signed: mine.to_owned(),
                },
                format!("date or credential scope differs: the verifier expected '{theirs}', we signed '{mine}' (check the region and service)"),
            ),
            None => Explanation::new(
                Cause::SignatureMismatch,
                format!(
                    "signature mismatch with the same canonical request and string-to-sign: the secret access key does not match access key {} (check the credentials)",
                    signed.access_key_id()
                ),
            ),
        }
    } else {
        classify(&differences, signed)
    };
    explanation.differences = differences;
    explanation
}

/// API Gateway's expected canonical request and string-to-sign, from its mismatch message.
fn canonical_detail(message: &str) -> Option<(&str, &str)> {
    let start = message.find(CANONICAL_INTRO)? + CANONICAL_INTRO.len();
    let rest = &message[start..];
    let split = rest.find(STS_INTRO)?;
    let creq = &rest[..split];
    let sts = rest[split + STS_INTRO.len()..].trim_end_matches('\n');
    Some((creq, sts.strip_suffix('\'').unwrap_or(sts)))
}

/// The primary cause among the differences: host, then path, method, query, headers, body.
fn classify(differences: &[CanonicalDifference], signed: &SignedRequest) -> Explanation {
    let find = |f: &dyn Fn(&CanonicalDifference) -> bool| differences.iter().find(|d| f(d));
    if let Some(CanonicalDifference::Header {
        expected: Some(expected),
        actual: Some(actual),
        ..
    }) = find(&|d| matches!(d, CanonicalDifference::Header { name, .. } if name == "host"))
    {
        let path_prefix =
            find(&|d| matches!(d, CanonicalDifference::Path { .. })).and_then(|d| match d {
                CanonicalDifference::Path { expected, actual } => {
                    expected.strip_suffix(actual.as_str()).map(str::to_owned)
                }
                _ => None,
            });
        return host_mismatch(expected, actual, path_prefix.as_deref(), signed);
    }
    if let Some(CanonicalDifference::Path { expected, actual }) =
        find(&|d| matches!(d, CanonicalDifference::Path { .. }))
    {
        let hint = if let Some(prefix) = expected
            .strip_suffix(actual.as_str())
            .filter(|p| !p.is_empty())
        {
            format!("the verifier saw {prefix} in front of the signed path: that is the stage / CloudFront origin path, put it in the route's origin URL")
        } else if let Some(prefix) = actual
            .strip_suffix(expected.as_str())
            .filter(|p| !p.is_empty())
        {
            format!("we signed {prefix} in front of the path the verifier saw: the route's origin path does not match CloudFront's origin path")
        } else {
            "the stage or origin path differs between the route and what reaches API Gateway"
                .to_owned()
        };
        return Explanation::new(
            Cause::PathMismatch {
                signed: actual.clone(),
                expected: expected.clone(),
            },
            format!("path mismatch: signed {actual}, API Gateway saw {expected}; {hint}"),
        );
    }
    if let Some(CanonicalDifference::Method { expected, actual }) =
        find(&|d| matches!(d, CanonicalDifference::Method { .. }))
    {
        return Explanation::new(
            Cause::MethodMismatch {
                signed: actual.clone(),
                expected: expected.clone(),
            },
            format!("method mismatch: signed {actual}, the verifier saw {expected}: a proxy changed the method"),
        );
    }
    if let Some(CanonicalDifference::Query {
        parameters,
        expected,
        ..
    }) = find(&|d| matches!(d, CanonicalDifference::Query { .. }))
    {
        let dropped = expected.is_empty();
        let summary = if dropped {
            "query mismatch: the verifier received no query string; CloudFront is not forwarding it (use an origin request policy that forwards all query strings, e.g. Managed-AllViewerExceptHostHeader)".to_owned()
        } else {
            format!(
                "query mismatch: parameter(s) {} arrived differently than signed (a literal '+' must be sent as %2B; a proxy may re-encode the query)",
                parameters.join(", ")
            )
        };
        let explanation = Explanation::new(
            Cause::QueryMismatch {
                parameters: parameters.clone(),
                query_dropped: dropped,
            },
            summary,
        );
        return if dropped {
            explanation.suggest(Suggestion::ForwardFromCloudFront)
        } else {
            explanation
        };
    }
    if let Some(CanonicalDifference::Header { name, expected, .. }) =
        find(&|d| matches!(d, CanonicalDifference::Header { .. }))
    {
        let how = if expected.is_some() {
            "changed in transit"
        } else {
            "did not arrive"
        };
        return Explanation::new(
            Cause::HeaderChanged { name: name.clone() },
            format!("signed header {name} {how}: a proxy rewrites it, so do not sign it (Route::signed_headers(SignedHeaders::HostAndAmzOnly))"),
        )
        .suggest(Suggestion::DoNotSignHeader { name: name.clone() });
    }
    if find(&|d| matches!(d, CanonicalDifference::PayloadHash { .. })).is_some() {
        return Explanation::new(
            Cause::PayloadChanged,
            "payload hash mismatch: the body changed in transit (a proxy re-encoded, compressed or decompressed it); send it with Content-Encoding the proxy leaves alone".to_owned(),
        );
    }
    Explanation::new(
        Cause::SignatureMismatch,
        "signature mismatch: the signed headers list differs from what the verifier used"
            .to_owned(),
    )
}

fn host_mismatch(
    expected: &str,
    actual: &str,
    path_prefix: Option<&str>,
    signed: &SignedRequest,
) -> Explanation {
    let cause = Cause::HostMismatch {
        signed: actual.to_owned(),
        expected: expected.to_owned(),
    };
    let aws_host = crate::engine::route::infer_scope(expected).is_some();
    match signed.route() {
        RouteKind::Direct | RouteKind::CustomDomain if aws_host => {
            let origin_url = format!("https://{expected}{}", path_prefix.unwrap_or_default());
            Explanation::new(
                cause,
                format!(
                    "host mismatch: signed for {actual}, but API Gateway saw {expected}; {actual} looks like a CloudFront alias in front of it: use Route::cloudfront(\"https://{actual}\", \"{origin_url}\") (sigv4-curl: --origin {origin_url})"
                ),
            )
            .suggest(Suggestion::CloudFrontRoute { origin_url })
        }
        RouteKind::CloudFront if !aws_host => Explanation::new(
            cause,
            format!(
                "host mismatch: signed for the origin {actual}, but API Gateway saw {expected}: CloudFront forwards the viewer Host, so {expected} is a custom domain name; use Route::custom_domain(\"https://{expected}\") or stop forwarding Host (origin request policy Managed-AllViewerExceptHostHeader)"
            ),
        ),
        _ => Explanation::new(
            cause,
            format!(
                "host mismatch: signed for {actual}, but the verifier saw {expected}: sign for {expected} (Route::host_override; sigv4-curl: --sign-host {expected})"
            ),
        )
        .suggest(Suggestion::SignHost {
            host: expected.to_owned(),
        }),
    }
}

/// A mismatch answered without the canonical string (CloudFront may shorten it): say what
/// was signed and what was sent.
fn mismatch_without_detail(signed: &SignedRequest, sent_to: &url::Url) -> Explanation {
    let sent_host = host_of(sent_to);
    let mut summary = format!(
        "signature mismatch: signed for host {} and path {}, sent to host {sent_host} and path {}",
        signed.host(),
        signed.path_and_query(),
        sent_to.path()
    );
    if !signed.host().eq_ignore_ascii_case(&sent_host) {
        summary.push_str(
            "; if a proxy or CloudFront forwards the Host it received, sign for that host instead",
        );
    } else if signed.service() == crate::DEFAULT_SERVICE
        && crate::engine::route::infer_scope(signed.host()).is_none()
    {
        summary.push_str("; if this host is a CloudFront alias in front of API Gateway, use Route::cloudfront with the origin domain and origin path (sigv4-curl: --origin URL)");
    } else {
        summary.push_str(&format!(
            "; the verifier gave no detail: check that the secret access key belongs to access key {}",
            signed.access_key_id()
        ));
    }
    Explanation::new(Cause::SignatureMismatch, summary)
}

fn explain_denial(message: &str) -> Explanation {
    // The text after `start`, up to the first of `ends` (or the end), trimmed.
    let between = |start: &str, ends: &[&str]| -> Option<String> {
        let from = message.find(start)? + start.len();
        let rest = &message[from..];
        let to = ends
            .iter()
            .filter_map(|end| rest.find(end))
            .min()
            .unwrap_or(rest.len());
        let text = rest[..to].trim().trim_end_matches('.').trim_matches('"');
        (!text.is_empty()).then(|| text.to_owned())
    };
    const EXPLICIT: &str = " with an explicit deny";
    const IMPLICIT: &str = " because no ";
    let principal = between("User: ", &[" is not authorized"]);
    let action = between("to perform: ", &[" on resource", IMPLICIT, EXPLICIT]);
    let resource = between("on resource: ", &[IMPLICIT, EXPLICIT]);
    let explicit_deny = message.contains("explicit deny");
    // AWS names the policy type that decided: "…with an explicit deny in a resource-based
    // policy", "…because no identity-based policy allows the s3:GetObject action".
    let policy = if explicit_deny {
        between(" explicit deny in ", &[])
    } else {
        between(IMPLICIT, &[" allows"])
    };
    let action_text = action
        .clone()
        .unwrap_or_else(|| "execute-api:Invoke".to_owned());
    let resource_text = resource.clone().unwrap_or_else(|| "*".to_owned());
    let statement = format!(
        r#"{{"Effect": "Allow", "Action": "{action_text}", "Resource": "{resource_text}"}}"#
    );
    // AWS masks the account with a run of asterisks (`********0123`); a lone `*` is a
    // wildcard in the resource, not a mask.
    let masked = if resource_text.contains("**") {
        " (AWS masked the account number: put yours in)"
    } else {
        ""
    };
    let who = principal.as_deref().unwrap_or("the caller");
    let summary = if principal.as_deref() == Some("anonymous") {
        format!(
            "access denied to an anonymous caller: the verifier saw no signature it could attribute, so the resource policy's rule for unauthenticated callers applied to {action_text} on {resource_text}; the request was not signed (no route matched it) or a proxy dropped its Authorization header"
        )
    } else if explicit_deny {
        let in_policy = policy
            .map(|p| {
                format!(
                    "in the {}",
                    p.trim_start_matches("a ").trim_start_matches("an ")
                )
            })
            .unwrap_or_else(|| "(the API's resource policy or an SCP)".to_owned());
        format!(
            "access denied by an explicit Deny: {who} may not {action_text} on {resource_text}; a Deny overrides every Allow, so find the Deny statement {in_policy}"
        )
    } else {
        let why = policy
            .map(|p| format!("no {p} allows it"))
            .unwrap_or_else(|| "IAM does not allow it".to_owned());
        format!(
            "access denied: {who} may not {action_text} on {resource_text}; the signature is fine, {why}: attach a policy with {statement}{masked}"
        )
    };
    Explanation::new(
        Cause::AccessDenied {
            principal,
            action,
            resource,
            explicit_deny,
        },
        summary,
    )
    .suggest(Suggestion::AllowInIam { statement })
}

fn host_of(url: &url::Url) -> String {
    crate::engine::route::url_host_header(url).unwrap_or_default()
}

impl Explanation {
    fn new(cause: Cause, summary: String) -> Self {
        Self {
            cause,
            summary,
            suggestion: None,
            differences: Vec::new(),
        }
    }

    fn suggest(mut self, suggestion: Suggestion) -> Self {
        self.suggestion = Some(suggestion);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_names_action_resource_and_a_masked_account() {
        let explanation = explain_denial(
            "User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: \
             execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0123:abc/prod/GET/x",
        );
        assert!(matches!(
            &explanation.cause,
            Cause::AccessDenied { action: Some(a), explicit_deny: false, .. } if a == "execute-api:Invoke"
        ));
        assert!(
            explanation.summary.contains("masked the account"),
            "{}",
            explanation.summary
        );
        let wildcard = explain_denial(
            "User: u is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:abc/*",
        );
        assert!(!wildcard.summary.contains("masked"), "{}", wildcard.summary);
    }
}
