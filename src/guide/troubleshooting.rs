//! Troubleshooting: errors before a request is sent, 403s after, and the table of causes
//! and fixes.
//!
//! # A request that fails before it is sent
//!
//! The middleware's own failures come back as `reqwest_middleware::Error::Middleware`;
//! [`Error::from_middleware`] gets the typed [`Error`] back. The request was not sent
//! (but for [`Error::ClientFollowedRedirect`]: the reqwest client under the middleware
//! followed a redirect itself, see the
//! [topologies guide](super::topologies#the-client-redirects)). [`Error::kind`] sorts the variants by what you can do about them
//! ([`ErrorKind`]): fix the configuration, the credentials, the body, or the request.
//! Errors from reqwest and from other middleware are returned as they are.
//!
//! ```
//! use reqwest_sigv4::{Error, ErrorKind};
//!
//! fn describe(err: &reqwest_middleware::Error) -> String {
//!     match Error::from_middleware(err) {
//!         Some(Error::BodyTooLarge { limit }) => {
//!             format!("body over {limit} bytes: raise body_limit or stream it unsigned")
//!         }
//!         Some(e) if e.kind() == ErrorKind::Credentials => format!("no credentials: {e}"),
//!         Some(e) => format!("not sent: {e}"),
//!         None => format!("HTTP error: {err}"),
//!     }
//! }
//! # let err: reqwest_middleware::Error = Error::BodyTooLarge { limit: 1 }.into();
//! # assert!(describe(&err).starts_with("body over 1 bytes"));
//! ```
//!
//! [`Error::is_transient`] says whether trying again can help (a credentials provider that
//! timed out or failed); every other error needs a change first.
//!
//! Behind `reqwest-retry` the error arrives wrapped in its `RetryError`; the docs of
//! [`Error::from_middleware`] show how to unwrap it.
//!
//! A middleware that cannot be built fails at [`build`](crate::SigV4MiddlewareBuilder::build)
//! with a [`ConfigError`]: every route and setting is checked before the first request.
//!
//! # When AWS answers 403
//!
//! A 403 comes back to you unchanged, with two response extensions and a `WARN` log line
//! saying what broke:
//!
//! - [`Explanation`]: the [`Cause`] (which of the usual mistakes it was), a one-line
//!   [`summary`](crate::Explanation::summary) with the fix (also its `Display`), a
//!   [`Suggestion`] when the middleware can tell what configuration would fix it, and, for
//!   a signature mismatch answered with the verifier's canonical request, every way that
//!   request differs from the one signed.
//! - [`SignedRequest`]: what was signed: method, host, path and query, headers, service,
//!   region, time, and the [canonical request](crate::SignedRequest::canonical_request)
//!   and [string-to-sign](crate::SignedRequest::string_to_sign) (session token redacted).
//!   Every response to a signed request whose status is not 2xx carries one;
//!   [`SummaryPolicy::Always`] puts one on every response (set it with
//!   [`summaries`](crate::SigV4MiddlewareBuilder::summaries)).
//!
//! The 403 body is read whichever service wrote it: API Gateway's and Lambda's JSON
//! (`message` / `Message`), AppSync's `{"errors": [{"errorType", "message"}]}`, the JSON
//! protocols' `__type`, and the XML `<Error>` of S3 and the query protocol. It is read
//! within bounds (64 KiB, half a second; see the
//! [security guide](super::security#what-cannot-hold-a-request-up)), and a 403 to a
//! request that no route matched is never read (`Missing Authentication Token` is then
//! recognized from its `x-amzn-ErrorType` header).
//!
//! Here against a local server that answers as API Gateway does when IAM refuses a call:
//!
//! ```
//! use reqwest_sigv4::aws::Credentials;
//! use reqwest_sigv4::{Cause, Explanation, Route, SigV4Middleware, SignedRequest, Suggestion};
//! use wiremock::{matchers::any, Mock, MockServer, ResponseTemplate};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let api = MockServer::start().await;
//! Mock::given(any())
//!     .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
//!         "Message": "User: arn:aws:sts::123456789012:assumed-role/app/i-0abc is not authorized \
//!                     to perform: execute-api:Invoke on resource: \
//!                     arn:aws:execute-api:us-east-1:********9012:abc123/prod/GET/items"
//!     })))
//!     .mount(&api)
//!     .await;
//!
//! let client = SigV4Middleware::builder()
//!     .static_credentials(Credentials::new("AKIDEXAMPLE", "secret", None, None, "example"))
//!     .route(Route::direct(api.uri()).service("execute-api").region("us-east-1"))
//!     .build()?
//!     .client()?;
//! let response = client.get(format!("{}/prod/items", api.uri())).send().await?;
//! assert_eq!(response.status(), 403);
//!
//! let explanation = response.extensions().get::<Explanation>().expect("a 403 is explained");
//! println!("{explanation}"); // what went wrong and how to fix it
//! assert!(matches!(
//!     &explanation.cause,
//!     Cause::AccessDenied { action: Some(action), .. } if action == "execute-api:Invoke"
//! ));
//! if let Some(Suggestion::AllowInIam { statement }) = &explanation.suggestion {
//!     println!("add to the caller's IAM policy: {statement}");
//! }
//!
//! let signed = response.extensions().get::<SignedRequest>().expect("what was signed");
//! assert_eq!((signed.service(), signed.region()), ("execute-api", "us-east-1"));
//! println!("{}", signed.canonical_request());
//! # Ok(())
//! # }
//! ```
//!
//! [`explain_403(false)`](crate::SigV4MiddlewareBuilder::explain_403) turns the
//! explanations and their log line off.
//!
//! # Causes and fixes
//!
//! Each row is tested against an error body AWS published, or against a local stand-in of
//! API Gateway whose wording follows AWS's
//! [troubleshooting article](https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden).
//!
//! | The verifier says | Who says it | [`Cause`] | Fix |
//! |---|---|---|---|
//! | `The request signature we calculated does not match…`, its canonical string shows another `host:` | API Gateway | `HostMismatch` (both hosts named) | Calling a CloudFront alias: [`Route::cloudfront`] with the origin URL (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`). Through a proxy or VPC endpoint: [`Route::host_override`]. CloudFront forwarding `Host` to a custom domain: [`Route::custom_domain`]. |
//! | …mismatch, the canonical path has the stage in front | API Gateway | `PathMismatch` | Put CloudFront's origin path (the stage) in the route's origin URL; make both origin paths agree. |
//! | …mismatch, the canonical query is empty or different | API Gateway | `QueryMismatch` (parameters named) | CloudFront must forward the query string (`Managed-AllViewerExceptHostHeader`); send a literal `+` as `%2B`. |
//! | …mismatch, a header value differs | API Gateway | `HeaderChanged` (header named) | Something between rewrites it: do not sign it ([`SignedHeaders::HostAndAmzOnly`]). |
//! | …mismatch, the payload hash differs | API Gateway | `PayloadChanged` | Something re-encoded the body on the way (compression, charset): send it as the proxy forwards it. |
//! | …mismatch, the method differs | API Gateway | `MethodMismatch` | A proxy changed the method: call with the method the API expects. |
//! | …mismatch, same canonical request, the scope line differs | API Gateway | `DateOrScope` | Region or service: set [`Route::region`] / [`Route::service`]. |
//! | …mismatch, same canonical request and string-to-sign | API Gateway | `SignatureMismatch` | The secret key does not belong to the access key: check the credentials. |
//! | …mismatch without the canonical string | API Gateway behind CloudFront | `SignatureMismatch`, with the signed and sent hosts and paths | As for `HostMismatch` / `PathMismatch`: compare the two. |
//! | `<Code>SignatureDoesNotMatch</Code>` with `<CanonicalRequest>` and `<StringToSign>` | S3 | the classes above, from S3's canonical request compared line by line with the one signed | As for API Gateway's rows. |
//! | `Signature expired: … is now earlier than …` / `Signature not yet current` | API Gateway | `ClockSkew` (the offset, from its `Date`) | Retried once automatically with API Gateway's clock (see [clock skew](#clock-skew)); if it persists, sync the clock (NTP) or raise `clock_skew_correction`. |
//! | `<Code>RequestTimeTooSkewed</Code>` with `<ServerTime>` | S3 | `ClockSkew` (the offset, from `<ServerTime>`) | Retried once automatically with S3's clock, within `clock_skew_correction`; beyond it, sync the clock. |
//! | `Missing Authentication Token` | API Gateway | `MissingAuthenticationToken { signed }` | Not signed: add a [`Route`] for the host. Signed: CloudFront dropped `Authorization` (legacy cache settings; use `Managed-AllViewerExceptHostHeader`), or the path does not exist (a wrong stage or origin path). |
//! | `Authorization header requires 'Credential' parameter…` | API Gateway | `MalformedAuthorization` | A proxy dropped or mangled the header; with CloudFront, also check the origin path. |
//! | `'accept' is named as a SignedHeader, but it does not exist in the HTTP request.` | AppSync | `HeaderChanged` (header named), [`Suggestion::DoNotSignHeader`] | Something between dropped a signed header: do not sign it. |
//! | `Credential should be scoped to a valid region…` | API Gateway | `ScopeRejected` | Set the route's region and service. |
//! | `The security token included in the request is invalid.`; `ExpiredToken` (`…is expired`) | API Gateway, IAM, STS, S3 | `InvalidSecurityToken` | Reloaded and retried once automatically (see the [credentials guide](super::credentials#rotation-a-session-token-refused-before-its-expiry)); if it persists, the provider hands out an expired or foreign session token. |
//! | `InvalidAccessKeyId` (`The AWS Access Key Id you provided does not exist in our records.`) | S3 | `UnknownAccessKey` (the key id named) | A deleted key, a key of another partition, or temporary credentials sent without their token. |
//! | `User: arn:… is not authorized to perform: execute-api:Invoke on resource: arn:…` (and Lambda's, S3's) | API Gateway, Lambda, S3 | `AccessDenied` (principal, action, resource) | The signature is fine; IAM is not. [`Suggestion::AllowInIam`] carries an `Allow` statement for that action and resource. |
//! | `… because no identity-based policy allows the s3:GetObject action` / `… with an explicit deny in a resource-based policy` | S3 | `AccessDenied` (`explicit_deny`; the policy type in the summary) | Implicit: add an `Allow` to the named policy type. Explicit: find the `Deny` in the named policy (a `Deny` overrides every `Allow`). |
//! | `User: anonymous is not authorized to perform: execute-api:Invoke…` | API Gateway | `AccessDenied { principal: "anonymous" }` | The signature did not count: the request was not signed (no route matched it) or a proxy dropped `Authorization`. |
//! | `User is not authorized to access this resource with an explicit deny` | API Gateway with a Lambda authorizer | `AccessDenied` (explicit) | The authorizer's policy denies it: not a signing problem. |
//! | `AccessDenied` / `Access Denied`, no detail (another account) | S3 | `AccessDenied` (no fields) | Check the bucket policy, the caller's policy, SCPs and the VPC endpoint policy. |
//! | `{"message":"Forbidden"}` | HTTP API with IAM authorization; private REST API reached without its VPC endpoint or `x-apigw-api-id` | `Forbidden` (the signed host and path; an `execute-api:Invoke` statement for the API) | HTTP API: allow `execute-api:Invoke` on the route's ARN (HTTP APIs give no other reason). Private API: see [private APIs](super::topologies#private-apis-without-a-host-rewrite-x-apigw-api-id). |
//! | `Forbidden. For troubleshooting Function URL authorization issues, see: …` | Lambda function URL | `AccessDenied`, with an `Allow` for `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction` | A function URL with IAM auth needs both permissions. |
//!
//! # Clock skew
//!
//! AWS accepts a signature dated within minutes of its own clock (API Gateway: 5 minutes,
//! S3: 15). When API Gateway answers `Signature expired` or `Signature not yet current`, the middleware
//! learns the offset to its clock from the answer's `Date` header (S3's
//! `RequestTimeTooSkewed`: from `<ServerTime>`), signs the request again with that clock,
//! retries it once, and dates later requests to the same host by it. Offsets over
//! [`clock_skew_correction`](crate::SigV4MiddlewareBuilder::clock_skew_correction)
//! (default a day; `None` turns this off), and answers without a time, come back as they
//! are, explained.
//!
//! Offsets are learned and applied per host signed for: one API's skewed clock never moves
//! another's signatures, and a later answer from the same host replaces what it taught.
//! [`clock_offset_millis_for`](crate::SigV4Middleware::clock_offset_millis_for) reads one
//! host's offset, [`clock_offset_millis`](crate::SigV4Middleware::clock_offset_millis)
//! the latest learned from any host. A machine whose clock is far off should still be
//! fixed: credentials expire by it too.
//!
//! [`Error`]: crate::Error
//! [`Error::from_middleware`]: crate::Error::from_middleware
//! [`Error::kind`]: crate::Error::kind
//! [`Error::ClientFollowedRedirect`]: crate::Error::ClientFollowedRedirect
//! [`ErrorKind`]: crate::ErrorKind
//! [`ConfigError`]: crate::ConfigError
//! [`Explanation`]: crate::Explanation
//! [`Cause`]: crate::Cause
//! [`Suggestion`]: crate::Suggestion
//! [`Suggestion::DoNotSignHeader`]: crate::Suggestion::DoNotSignHeader
//! [`Suggestion::AllowInIam`]: crate::Suggestion::AllowInIam
//! [`SignedRequest`]: crate::SignedRequest
//! [`SummaryPolicy::Always`]: crate::SummaryPolicy::Always
//! [`Route`]: crate::Route
//! [`Route::cloudfront`]: crate::Route::cloudfront
//! [`Route::host_override`]: crate::Route::host_override
//! [`Route::custom_domain`]: crate::Route::custom_domain
//! [`Route::region`]: crate::Route::region
//! [`Route::service`]: crate::Route::service
//! [`SignedHeaders::HostAndAmzOnly`]: crate::SignedHeaders::HostAndAmzOnly
//! [`Error::is_transient`]: crate::Error::is_transient
