//! 403 explanations tested against real AWS error bodies (tests/data/403/, each citing where
//! it was published), not against the stand-ins' own wording: S3's XML errors
//! (`SignatureDoesNotMatch` with its canonical request, `RequestTimeTooSkewed` feeding the
//! clock correction, `AccessDenied` naming the policy type), an HTTP API's bare
//! `Forbidden`, Lambda function URLs, AppSync's `errors` array, IAM denies.
//!
//! A loopback server replays a fixture as the 403 body; the middleware signs for the host
//! the fixture came from (a host-override route), so service and region are the real ones.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::canonical::{parse_amz_date, CanonicalDifference};
use reqwest_sigv4::{
    Cause, Explanation, FixedClock, Route, SigV4Middleware, SigV4MiddlewareBuilder, Suggestion,
};
use support::{
    example_credentials, example_session_credentials, find_header, header_pairs, http_date,
    EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_TOKEN,
};

/// One published 403 body.
struct Fixture {
    body: String,
    /// The file holds only the error message (the source quoted no more): `s3` or `apigw`,
    /// the verifier whose envelope goes around it.
    message_only: Option<String>,
}

const FIXTURES: &[&str] = &[
    "apigw-http-api-forbidden.txt",
    "apigw-lambda-authorizer-deny.txt",
    "apigw-rest-anonymous-deny.txt",
    "appsync-signed-header-missing.txt",
    "iam-expired-token.txt",
    "lambda-invoke-implicit-deny.txt",
    "lambda-url-forbidden.txt",
    "s3-access-denied.txt",
    "s3-explicit-deny.txt",
    "s3-implicit-deny.txt",
    "s3-invalid-access-key-id.txt",
    "s3-request-time-too-skewed-days.txt",
    "s3-request-time-too-skewed.txt",
    "s3-signature-does-not-match.txt",
];

fn fixture(name: &str) -> Fixture {
    let path = format!("{}/tests/data/403/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let (header, body) = text.split_once("\n\n").expect("header, empty line, body");
    let source = header
        .lines()
        .find_map(|l| l.strip_prefix("# source: "))
        .unwrap_or_else(|| panic!("{name} cites no source"));
    assert!(source.starts_with("https://"), "{name}: {source}");
    Fixture {
        body: body.strip_suffix('\n').unwrap_or(body).to_owned(),
        message_only: header
            .lines()
            .find_map(|l| l.strip_prefix("# shape: message in "))
            .map(str::to_owned),
    }
}

/// The body the verifier sends: the fixture, or the verifier's envelope around a fixture
/// that is only the message: S3's `<Error>` (S3 API reference, "Error responses"), API
/// Gateway's `{"Message": …}` for access denials (as in apigw-rest-anonymous-deny.txt).
fn body_of(fixture: &Fixture, s3_code: &str) -> String {
    match fixture.message_only.as_deref() {
        None => fixture.body.clone(),
        Some("apigw") => serde_json::json!({ "Message": fixture.body }).to_string(),
        Some("s3") => {
            let escaped = fixture
                .body
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{s3_code}</Code><Message>{escaped}</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>"
            )
        }
        Some(other) => panic!("unknown envelope {other}"),
    }
}

/// The headers of each request a [`Replay`] received, in order.
type Seen = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// A loopback verifier that refuses the first `refusals` requests with `body` (403, with a
/// `Date` header of the real clock) and accepts the rest; records each request's headers.
struct Replay {
    addr: SocketAddr,
    seen: Seen,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Replay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Replay {
    fn start(body: String, refusals: usize) -> Replay {
        let seen: Seen = Arc::default();
        let recorder = seen.clone();
        let body = Bytes::from(body);
        let (addr, task) = support::spawn_server(move |req, _| {
            let mut seen = recorder.lock().unwrap();
            seen.push(header_pairs(req.headers()));
            let refuse = seen.len() <= refusals;
            let content_type = if body.starts_with(b"<") {
                "application/xml"
            } else {
                "application/json"
            };
            let response = http::Response::builder()
                .header("date", http_date(SystemTime::now()))
                .header("content-type", content_type);
            let response = if refuse {
                response.status(403).body(body.clone())
            } else {
                response.status(200).body(Bytes::from_static(b"ok"))
            };
            std::future::ready(response.expect("response"))
        });
        Replay { addr, seen, task }
    }

    /// Header `name` of the `n`-th request received.
    fn header(&self, n: usize, name: &str) -> Option<String> {
        let seen = self.seen.lock().unwrap();
        find_header(seen.get(n)?, name).map(str::to_owned)
    }
}

/// A signer for requests to the replay server that sends and signs `Host: sign_host`, so
/// service and region are inferred from the host the fixture came from.
fn signer(
    replay: &Replay,
    sign_host: &str,
    builder: impl FnOnce(SigV4MiddlewareBuilder) -> SigV4MiddlewareBuilder,
    route: impl FnOnce(Route) -> Route,
) -> SigV4Middleware {
    let base = SigV4Middleware::builder()
        .route(route(Route::host_override(
            format!("http://{}", replay.addr),
            sign_host,
        )))
        .static_credentials(example_credentials());
    builder(base).build().expect("valid config")
}

fn client(signer: &SigV4Middleware) -> ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(signer.clone())
        .build()
}

fn at(amz_date: &str) -> FixedClock {
    FixedClock(parse_amz_date(amz_date).expect("X-Amz-Date"))
}

/// GETs `path` through `signer` and returns the explanation of the 403.
async fn explain(signer: &SigV4Middleware, replay: &Replay, path: &str) -> Explanation {
    let response = client(signer)
        .get(format!("http://{}{path}", replay.addr))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);
    response
        .extensions()
        .get::<Explanation>()
        .cloned()
        .expect("a 403 comes with an explanation")
}

/// Replays `name` once for a GET signed for `sign_host` and returns the explanation.
async fn explain_fixture(name: &str, s3_code: &str, sign_host: &str) -> Explanation {
    let replay = Replay::start(body_of(&fixture(name), s3_code), usize::MAX);
    let signer = signer(&replay, sign_host, |b| b, |r| r);
    explain(&signer, &replay, "/").await
}

#[tokio::test]
async fn s3_signature_mismatch_is_diffed_against_the_canonical_request_s3_sent() {
    // Signed at the fixture's time for its host, as its client did (UNSIGNED-PAYLOAD):
    // what remains is the `expect` header that client signed and we did not.
    let replay = Replay::start(fixture("s3-signature-does-not-match.txt").body, 1);
    let signer = signer(
        &replay,
        "s3.amazonaws.com",
        |b| b.clock(at("20161018T091707Z")),
        |r| r.unsigned_payload(true),
    );
    let explanation = explain(&signer, &replay, "/").await;
    assert_eq!(
        explanation.cause,
        Cause::HeaderChanged {
            name: "expect".into()
        },
        "{explanation:?}"
    );
    assert!(explanation
        .differences
        .contains(&CanonicalDifference::Header {
            name: "expect".into(),
            expected: Some("100-continue".into()),
            actual: None,
        }));
    // Same method, path, date, payload: only the `expect` header and the signed list differ,
    // so the scope inferred from s3.amazonaws.com (s3, us-east-1) matched S3's.
    assert!(
        explanation.differences.iter().all(|d| matches!(
            d,
            CanonicalDifference::Header { name, .. } if name == "expect"
        ) || matches!(
            d,
            CanonicalDifference::SignedHeaders { .. }
        )),
        "{:?}",
        explanation.differences
    );
    // S3 echoes the signature it got; an explanation never repeats it.
    let shown = format!("{explanation:?}");
    assert!(!shown.contains("190d0f190d9af06017543ad0ef802abf6dee2dcf3836840cbaa13e8750f9f3ed"));
}

#[tokio::test]
async fn s3_request_time_too_skewed_corrects_the_clock_from_server_time() {
    // The client in the report was 59 min 43 s ahead; its RequestTime is our clock.
    let replay = Replay::start(fixture("s3-request-time-too-skewed.txt").body, 1);
    let signer = signer(
        &replay,
        "my-bucket.s3.amazonaws.com",
        |b| b.clock(at("20150604T232559Z")),
        |r| r,
    );
    let response = client(&signer)
        .get(format!("http://{}/key", replay.addr))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200, "retried with S3's clock");
    assert_eq!(
        replay.header(0, "x-amz-date").as_deref(),
        Some("20150604T232559Z")
    );
    // The retry is dated by <ServerTime>, not by the Date header (the real clock, years
    // away and beyond any correction).
    assert_eq!(
        replay.header(1, "x-amz-date").as_deref(),
        Some("20150604T222616Z")
    );
    assert_eq!(signer.clock_offset_millis(), -(59 * 60 + 43) * 1000);
}

/// On a route that does not hash bodies, a streamed body is not kept: the clock is learned
/// for the requests to come, but the refused one is not sent again (it would go without
/// its bytes); an in-memory body is kept and the request is retried whole.
#[tokio::test]
async fn s3_skew_on_an_unsigned_stream_is_learned_but_not_retried() {
    for streamed in [true, false] {
        let replay = Replay::start(fixture("s3-request-time-too-skewed.txt").body, 1);
        let signer = signer(
            &replay,
            "my-bucket.s3.amazonaws.com",
            |b| b.clock(at("20150604T232559Z")),
            |r| r.unsigned_payload(true),
        );
        let body = if streamed {
            let parts: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"data"))];
            reqwest::Body::wrap_stream(futures::stream::iter(parts))
        } else {
            reqwest::Body::from("data")
        };
        let response = client(&signer)
            .put(format!("http://{}/key", replay.addr))
            .header("content-length", "4")
            // A retry that lost the body would leave the server waiting for its 4 bytes.
            .timeout(std::time::Duration::from_secs(10))
            .body(body)
            .send()
            .await
            .expect("sent");
        assert_eq!(signer.clock_offset_millis(), -(59 * 60 + 43) * 1000);
        if streamed {
            assert_eq!(response.status(), 403, "the refusal is the answer");
            assert!(response.extensions().get::<Explanation>().is_some());
            assert!(replay.header(1, "x-amz-date").is_none(), "sent once");
        } else {
            assert_eq!(response.status(), 200, "retried with S3's clock");
            assert_eq!(replay.header(1, "content-length").as_deref(), Some("4"));
        }
    }
}

#[tokio::test]
async fn s3_skew_beyond_the_correction_limit_is_explained_with_the_measured_offset() {
    // Two days behind: more than the 24 h the middleware corrects by default.
    let replay = Replay::start(fixture("s3-request-time-too-skewed-days.txt").body, 1);
    let signer = signer(
        &replay,
        "my-bucket.s3.us-east-1.amazonaws.com",
        |b| b.clock(at("20250901T162148Z")),
        |r| r,
    );
    let explanation = explain(&signer, &replay, "/").await;
    let two_days = (2 * 24 * 3600 + 2) * 1000;
    assert_eq!(
        explanation.cause,
        Cause::ClockSkew {
            measured_offset_ms: Some(two_days)
        }
    );
    assert!(
        explanation.summary.contains("172802s behind")
            && explanation.summary.contains("ServerTime"),
        "{}",
        explanation.summary
    );
    assert_eq!(signer.clock_offset_millis(), 0, "not corrected");
}

#[tokio::test]
async fn http_api_bare_forbidden_names_what_was_signed_and_the_iam_statement() {
    let host = "abc123.execute-api.us-east-1.amazonaws.com";
    let explanation = explain_fixture("apigw-http-api-forbidden.txt", "", host).await;
    assert_eq!(explanation.cause, Cause::Forbidden);
    assert!(
        explanation.summary.contains(host),
        "{}",
        explanation.summary
    );
    assert!(explanation.summary.contains("x-apigw-api-id"));
    assert_statement_has(&explanation, &["arn:aws:execute-api:us-east-1:*:abc123/*"]);
}

/// The explanation suggests an IAM statement containing each of `parts`.
fn assert_statement_has(explanation: &Explanation, parts: &[&str]) {
    let Some(Suggestion::AllowInIam { statement }) = &explanation.suggestion else {
        panic!("no IAM statement: {explanation:?}");
    };
    for part in parts {
        assert!(statement.contains(part), "{part} not in {statement}");
    }
}

#[tokio::test]
async fn lambda_function_url_forbidden_asks_for_both_invoke_permissions() {
    let explanation = explain_fixture(
        "lambda-url-forbidden.txt",
        "",
        "abcdefghij.lambda-url.eu-west-1.on.aws",
    )
    .await;
    assert!(matches!(explanation.cause, Cause::AccessDenied { .. }));
    assert_statement_has(
        &explanation,
        &[
            "lambda:InvokeFunctionUrl",
            "\"lambda:InvokeFunction\"",
            "arn:aws:lambda:eu-west-1:",
        ],
    );
}

#[tokio::test]
async fn appsync_names_the_signed_header_that_did_not_arrive() {
    let explanation = explain_fixture(
        "appsync-signed-header-missing.txt",
        "",
        "abcdefghijklmnopqrstuvwxyz.appsync-api.eu-west-2.amazonaws.com",
    )
    .await;
    assert_eq!(
        explanation.cause,
        Cause::HeaderChanged {
            name: "accept".into()
        }
    );
    assert_eq!(
        explanation.suggestion,
        Some(Suggestion::DoNotSignHeader {
            name: "accept".into()
        })
    );
}

/// `Cause::AccessDenied` with these fields.
fn denied(
    principal: Option<&str>,
    action: Option<&str>,
    resource: Option<&str>,
    explicit_deny: bool,
) -> Cause {
    Cause::AccessDenied {
        principal: principal.map(str::to_owned),
        action: action.map(str::to_owned),
        resource: resource.map(str::to_owned),
        explicit_deny,
    }
}

/// Replays `name` for a request signed for `sign_host`; the explanation must be `cause`
/// and its summary must say `says`.
async fn assert_explained(name: &str, s3_code: &str, sign_host: &str, cause: Cause, says: &str) {
    let explanation = explain_fixture(name, s3_code, sign_host).await;
    assert_eq!(explanation.cause, cause, "{name}");
    assert!(
        explanation.summary.contains(says),
        "{name}: {}",
        explanation.summary
    );
}

#[tokio::test]
async fn anonymous_deny_says_the_signature_did_not_count() {
    assert_explained(
        "apigw-rest-anonymous-deny.txt",
        "",
        "vd2gh6uqw3.execute-api.us-west-2.amazonaws.com",
        denied(
            Some("anonymous"),
            Some("execute-api:Invoke"),
            Some("arn:aws:execute-api:us-west-2:********2543:vd2gh6uqw3/api/GET/"),
            false,
        ),
        "dropped its Authorization",
    )
    .await;
}

#[tokio::test]
async fn lambda_authorizer_deny_is_not_blamed_on_the_signature() {
    assert_explained(
        "apigw-lambda-authorizer-deny.txt",
        "",
        "abc123.execute-api.us-east-1.amazonaws.com",
        denied(None, None, None, true),
        "Lambda authorizer",
    )
    .await;
}

#[tokio::test]
async fn lambda_invoke_deny_names_principal_action_and_resource() {
    assert_explained(
        "lambda-invoke-implicit-deny.txt",
        "",
        "lambda.us-east-1.amazonaws.com",
        denied(
            Some("arn:aws:sts::009825708026:assumed-role/Cognito_toadkicker_poolUnauth_Role/CognitoIdentityCredentials"),
            Some("lambda:InvokeFunction"),
            Some("arn:aws:lambda:us-east-1:009825708026:function:LambdAuthCreateUser"),
            false,
        ),
        "the signature is fine",
    )
    .await;
}

#[tokio::test]
async fn s3_implicit_deny_names_the_action_resource_and_policy_type() {
    assert_explained(
        "s3-implicit-deny.txt",
        "AccessDenied",
        "imageresizer-683517028648.s3.us-east-1.amazonaws.com",
        denied(
            Some("arn:aws:sts::683517028648:assumed-role/s3dotnet-ResizerFunctionRole-TZwnuYpDb5Rv/s3dotnet-ResizerFunction-12oroDMZmSGE"),
            Some("s3:GetObject"),
            Some("arn:aws:s3:::imageresizer-683517028648/seshub-photo.jpeg"),
            false,
        ),
        "no identity-based policy allows it",
    )
    .await;
}

#[tokio::test]
async fn s3_explicit_deny_points_at_the_policy_type() {
    assert_explained(
        "s3-explicit-deny.txt",
        "AccessDenied",
        "my-bucket.s3.us-east-1.amazonaws.com",
        denied(
            Some("arn:aws:iam::<account-ID>:user/<username>"),
            Some("s3:ListBucket"),
            Some("arn:aws:s3:::<bucket=-name>"),
            true,
        ),
        "in the resource-based policy",
    )
    .await;
}

#[tokio::test]
async fn s3_access_denied_without_detail_is_still_not_a_signature_problem() {
    assert_explained(
        "s3-access-denied.txt",
        "AccessDenied",
        "my-bucket.s3.us-east-1.amazonaws.com",
        denied(None, None, None, false),
        "bucket policy",
    )
    .await;
}

#[tokio::test]
async fn s3_unknown_access_key_names_the_key_we_signed_with() {
    assert_explained(
        "s3-invalid-access-key-id.txt",
        "",
        "my-bucket.s3.us-east-1.amazonaws.com",
        Cause::UnknownAccessKey,
        support::EXAMPLE_ACCESS_KEY,
    )
    .await;
}

#[tokio::test]
async fn query_protocol_expired_token() {
    assert_explained(
        "iam-expired-token.txt",
        "",
        "iam.amazonaws.com",
        Cause::InvalidSecurityToken,
        "session token expired",
    )
    .await;
}

#[tokio::test]
async fn no_explanation_carries_a_secret() {
    for name in FIXTURES {
        let fixture = fixture(name);
        let replay = Replay::start(body_of(&fixture, "AccessDenied"), usize::MAX);
        let signer = SigV4Middleware::builder()
            .route(Route::host_override(
                format!("http://{}", replay.addr),
                "my-bucket.s3.us-east-1.amazonaws.com",
            ))
            .static_credentials(example_session_credentials())
            // The skew fixtures must be explained, not retried.
            .clock_skew_correction(None)
            .build()
            .expect("valid config");
        let explanation = explain(&signer, &replay, "/").await;
        let authorization = replay.header(0, "authorization").expect("signed");
        let signature = authorization
            .rsplit("Signature=")
            .next()
            .expect("a signature");
        let shown = format!("{explanation:?} {explanation}");
        for secret in [EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_TOKEN, signature] {
            assert!(!shown.contains(secret), "{name}: {shown}");
        }
    }
}
