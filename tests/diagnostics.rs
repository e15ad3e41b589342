//! 403 explanations: every class through the stand-ins (or, for changes a proxy makes in
//! transit, through a wiremock "API Gateway" that alters the request before verifying it).

mod support;

use std::time::SystemTime;

use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};
use reqwest_sigv4::{Cause, Explanation, Route, SigV4Middleware, Suggestion};
use support::{
    example_credentials, example_session_credentials, ApiGateway, DenyRule, OriginRequestPolicy,
    Topology, EXECUTE_API_HOST, ORIGIN_PATH,
};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Respond, ResponseTemplate};

fn signer(routes: Vec<Route>, credentials: aws_credential_types::Credentials) -> SigV4Middleware {
    SigV4Middleware::builder()
        .routes(routes)
        .region("us-east-1")
        .static_credentials(credentials)
        .build()
        .expect("valid config")
}

fn client(http: reqwest::Client, signer: SigV4Middleware) -> ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(http)
        .with(signer)
        .build()
}

/// Sends a GET and returns the explanation, asserting the 403 body arrived unchanged.
async fn explain_get(client: &ClientWithMiddleware, url: &str) -> (Explanation, String) {
    explain(client.get(url)).await
}

async fn explain(request: reqwest_middleware::RequestBuilder) -> (Explanation, String) {
    let response = request.send().await.expect("sent");
    assert_eq!(response.status(), 403);
    let explanation = response
        .extensions()
        .get::<Explanation>()
        .cloned()
        .expect("a 403 comes with an explanation");
    let body = response.text().await.expect("the body is still readable");
    let json: serde_json::Value = serde_json::from_str(&body).expect("the JSON body is intact");
    assert!(json
        .get("message")
        .or_else(|| json.get("Message"))
        .is_some());
    (explanation, body)
}

/// GETs `{execute-api}/prod{path}` on `topology` through a direct route built by `route`
/// and signed with `credentials`; returns the explanation of the 403.
async fn explain_execute_api(
    topology: &Topology,
    route: impl FnOnce(Route) -> Route,
    credentials: aws_credential_types::Credentials,
    path: &str,
) -> (Explanation, String) {
    let base = topology.execute_api_base();
    let client = client(
        topology.client(),
        signer(vec![route(Route::direct(&base))], credentials),
    );
    explain_get(&client, &format!("{base}/prod{path}")).await
}

fn origin_url() -> String {
    format!("https://{EXECUTE_API_HOST}{ORIGIN_PATH}")
}

#[tokio::test]
async fn host_mismatch_names_both_hosts_and_the_cloudfront_route() {
    let topology = Topology::start().await;
    let alias = topology.cloudfront_alias_base();
    let client = client(
        topology.client(),
        signer(vec![Route::direct(&alias)], example_credentials()),
    );
    let (explanation, body) = explain_get(&client, &format!("{alias}/items?x=1")).await;
    assert!(body.contains("The Canonical String for this request should have been"));
    assert_eq!(
        explanation.cause,
        Cause::HostMismatch {
            signed: "www.example.com".into(),
            expected: EXECUTE_API_HOST.into(),
        }
    );
    assert_eq!(
        explanation.suggestion,
        Some(Suggestion::CloudFrontRoute {
            origin_url: origin_url()
        })
    );
    assert!(explanation.summary.contains("www.example.com"));
    assert!(explanation
        .summary
        .contains(&format!("--origin {}", origin_url())));
}

#[tokio::test]
async fn path_mismatch_points_at_the_origin_path() {
    let topology = Topology::start().await;
    let alias = topology.cloudfront_alias_base();
    // The origin URL forgot CloudFront's origin path (/prod).
    let client = client(
        topology.client(),
        signer(
            vec![Route::cloudfront(
                &alias,
                format!("https://{EXECUTE_API_HOST}"),
            )],
            example_credentials(),
        ),
    );
    let (explanation, _) = explain_get(&client, &format!("{alias}/items")).await;
    match &explanation.cause {
        Cause::PathMismatch { signed, expected } => {
            assert_eq!(signed, "/items");
            assert_eq!(expected, "/prod/items");
        }
        other => panic!("expected a path mismatch, got {other:?}"),
    }
    assert!(
        explanation.summary.contains("/prod"),
        "{}",
        explanation.summary
    );
    assert!(
        explanation.summary.contains("origin path"),
        "{}",
        explanation.summary
    );
}

#[tokio::test]
async fn clock_skew_reports_the_measured_offset() {
    let topology = Topology::start_with(
        ApiGateway::builder().clock_offset_secs(600),
        OriginRequestPolicy::AllViewerExceptHostHeader,
    )
    .await;
    let signer = SigV4Middleware::builder()
        .route(Route::direct(topology.execute_api_base()))
        .static_credentials(example_credentials())
        .clock_skew_correction(None)
        .build()
        .unwrap();
    let client = client(topology.client(), signer);
    let (explanation, body) = explain_get(
        &client,
        &format!("{}/prod/items", topology.execute_api_base()),
    )
    .await;
    assert!(body.contains("Signature expired"), "{body}");
    match explanation.cause {
        Cause::ClockSkew {
            measured_offset_ms: Some(ms),
        } => assert!((590_000..=610_000).contains(&ms), "{ms}"),
        other => panic!("expected clock skew, got {other:?}"),
    }
    assert!(
        explanation.summary.contains("behind"),
        "{}",
        explanation.summary
    );
}

#[tokio::test]
async fn missing_token_through_legacy_cloudfront_and_for_route_misses() {
    let topology =
        Topology::start_with(ApiGateway::builder(), OriginRequestPolicy::LegacyNone).await;
    let alias = topology.cloudfront_alias_base();
    let client = client(
        topology.client(),
        signer(
            vec![Route::cloudfront(&alias, origin_url())],
            example_credentials(),
        ),
    );
    let (explanation, _) = explain_get(&client, &format!("{alias}/items")).await;
    assert_eq!(
        explanation.cause,
        Cause::MissingAuthenticationToken { signed: true }
    );
    assert_eq!(
        explanation.suggestion,
        Some(Suggestion::ForwardFromCloudFront)
    );
    assert!(explanation
        .summary
        .contains("Managed-AllViewerExceptHostHeader"));
    assert!(explanation.summary.contains("stage"));

    // The execute-api host is in no route: unsigned, and the explanation says so.
    let (explanation, _) = explain_get(
        &client,
        &format!("{}/prod/items", topology.execute_api_base()),
    )
    .await;
    assert_eq!(
        explanation.cause,
        Cause::MissingAuthenticationToken { signed: false }
    );
    assert!(explanation.summary.contains("no route matches"));
    assert!(explanation.summary.contains(EXECUTE_API_HOST));
}

#[tokio::test]
async fn invalid_token_is_named() {
    let topology = Topology::start().await;
    let wrong_token = aws_credential_types::Credentials::new(
        support::EXAMPLE_SESSION_ACCESS_KEY,
        support::EXAMPLE_SECRET_KEY,
        Some("not-the-issued-token".into()),
        None,
        "test",
    );
    let (explanation, _) = explain_execute_api(&topology, |r| r, wrong_token, "/items").await;
    assert_eq!(explanation.cause, Cause::InvalidSecurityToken);
    assert!(!explanation.summary.contains("not-the-issued-token"));
}

#[tokio::test]
async fn wrong_secret_key_is_a_plain_signature_mismatch() {
    let topology = Topology::start().await;
    let wrong_secret = aws_credential_types::Credentials::new(
        support::EXAMPLE_ACCESS_KEY,
        "not-the-right-secret",
        None,
        None,
        "test",
    );
    let (explanation, _) = explain_execute_api(&topology, |r| r, wrong_secret, "/items").await;
    assert_eq!(explanation.cause, Cause::SignatureMismatch);
    assert!(explanation.differences.is_empty());
    assert!(explanation.summary.contains("secret access key"));
    assert!(!explanation.summary.contains("not-the-right-secret"));
}

#[tokio::test]
async fn wrong_region_is_a_scope_rejection() {
    let topology = Topology::start().await;
    let (explanation, _) = explain_execute_api(
        &topology,
        |r| r.region("eu-west-3"),
        example_credentials(),
        "/items",
    )
    .await;
    assert_eq!(explanation.cause, Cause::ScopeRejected);
    assert!(explanation.summary.contains("eu-west-3"));
}

#[tokio::test]
async fn iam_denial_names_action_resource_and_a_statement() {
    let topology = Topology::start_with(
        ApiGateway::builder().deny(DenyRule::new("*", "/admin/*")),
        OriginRequestPolicy::AllViewerExceptHostHeader,
    )
    .await;
    let (explanation, body) = explain_execute_api(
        &topology,
        |r| r,
        example_session_credentials(),
        "/admin/users",
    )
    .await;
    assert!(body.contains("\"Message\""));
    match &explanation.cause {
        Cause::AccessDenied {
            action, resource, ..
        } => {
            assert_eq!(action.as_deref(), Some("execute-api:Invoke"));
            let resource = resource.as_deref().unwrap_or_default();
            assert!(
                resource.contains("abc123/prod/GET/admin/users"),
                "{resource}"
            );
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    match &explanation.suggestion {
        Some(Suggestion::AllowInIam { statement }) => {
            let json: serde_json::Value = serde_json::from_str(statement).expect("JSON statement");
            assert_eq!(json["Effect"], "Allow");
            assert_eq!(json["Action"], "execute-api:Invoke");
        }
        other => panic!("expected an IAM suggestion, got {other:?}"),
    }
}

/// An API Gateway whose traffic passes a proxy that changes it: `alter` is applied to each
/// request before the verifier sees it, and the 403 carries the verifier's message.
struct AlteringApiGateway {
    verifier: Verifier,
    alter: fn(ReceivedRequest) -> ReceivedRequest,
}

impl Respond for AlteringApiGateway {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let received = (self.alter)(ReceivedRequest::from_wiremock(request));
        match self.verifier.verify(&received) {
            Ok(_) => ResponseTemplate::new(200),
            Err(rejection) => ResponseTemplate::new(403)
                .insert_header("date", httpdate::fmt_http_date(SystemTime::now()))
                .set_body_json(serde_json::json!({"message": rejection.api_gateway_message()})),
        }
    }
}

async fn altering_server(
    alter: fn(ReceivedRequest) -> ReceivedRequest,
) -> (MockServer, ClientWithMiddleware) {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(AlteringApiGateway {
            verifier: support::signing::verifier(),
            alter,
        })
        .mount(&server)
        .await;
    let client = client(
        support::client_for(&[]),
        signer(
            vec![Route::direct(server.uri())],
            example_session_credentials(),
        ),
    );
    (server, client)
}

fn with_target(r: ReceivedRequest, target: String) -> ReceivedRequest {
    ReceivedRequest::new(r.method(), target, r.headers().to_vec(), r.body().clone())
}

#[tokio::test]
async fn dropped_query_string_is_blamed_on_cloudfront() {
    let (server, client) = altering_server(|r| {
        let path = r.path_and_query().0.to_owned();
        with_target(r, path)
    })
    .await;
    let (explanation, _) =
        explain_get(&client, &format!("{}/prod/items?limit=5", server.uri())).await;
    assert_eq!(
        explanation.cause,
        Cause::QueryMismatch {
            parameters: vec!["limit".into()],
            query_dropped: true
        }
    );
    assert_eq!(
        explanation.suggestion,
        Some(Suggestion::ForwardFromCloudFront)
    );
}

#[tokio::test]
async fn changed_query_parameter_is_named() {
    let (server, client) = altering_server(|r| {
        let target = r.target().replace("q=a%2Bb", "q=a+b");
        with_target(r, target)
    })
    .await;
    let (explanation, _) = explain_get(
        &client,
        &format!("{}/prod/search?page=2&q=a%2Bb", server.uri()),
    )
    .await;
    assert_eq!(
        explanation.cause,
        Cause::QueryMismatch {
            parameters: vec!["q".into()],
            query_dropped: false
        }
    );
    assert!(explanation.summary.contains("%2B"));
}

#[tokio::test]
async fn header_changed_in_transit_is_named_with_a_fix() {
    let (server, client) = altering_server(|r| {
        let headers = r
            .headers()
            .iter()
            .map(|(n, v)| match n.as_str() {
                "content-type" => (n.clone(), "application/json; charset=utf-8".to_owned()),
                _ => (n.clone(), v.clone()),
            })
            .collect();
        ReceivedRequest::new(r.method(), r.target(), headers, r.body().clone())
    })
    .await;
    let (explanation, _) = explain(
        client
            .post(format!("{}/prod/items", server.uri()))
            .header("content-type", "application/json")
            .body("{}"),
    )
    .await;
    assert_eq!(
        explanation.cause,
        Cause::HeaderChanged {
            name: "content-type".into()
        }
    );
    assert_eq!(
        explanation.suggestion,
        Some(Suggestion::DoNotSignHeader {
            name: "content-type".into()
        })
    );
}

#[tokio::test]
async fn body_changed_in_transit_is_a_payload_mismatch() {
    let (server, client) = altering_server(|r| {
        ReceivedRequest::new(
            r.method(),
            r.target(),
            r.headers().to_vec(),
            bytes::Bytes::from_static(b"{\"a\":2}"),
        )
    })
    .await;
    let (explanation, _) = explain(
        client
            .post(format!("{}/prod/items", server.uri()))
            .body("{\"a\":1}"),
    )
    .await;
    assert_eq!(explanation.cause, Cause::PayloadChanged);
    assert!(explanation.summary.contains("body changed in transit"));
}

#[tokio::test]
async fn method_changed_in_transit_is_named() {
    let (server, client) = altering_server(|r| {
        ReceivedRequest::new("POST", r.target(), r.headers().to_vec(), r.body().clone())
    })
    .await;
    let (explanation, _) = explain(client.put(format!("{}/prod/items/1", server.uri()))).await;
    assert_eq!(
        explanation.cause,
        Cause::MethodMismatch {
            signed: "PUT".into(),
            expected: "POST".into()
        }
    );
}

#[tokio::test]
async fn mangled_authorization_is_malformed() {
    let (server, client) = altering_server(|r| {
        let headers = r
            .headers()
            .iter()
            .map(|(n, v)| match n.as_str() {
                "authorization" => (
                    n.clone(),
                    v.split(", Signature=").next().unwrap_or("").to_owned(),
                ),
                _ => (n.clone(), v.clone()),
            })
            .collect();
        ReceivedRequest::new(r.method(), r.target(), headers, r.body().clone())
    })
    .await;
    let (explanation, _) = explain_get(&client, &format!("{}/prod/items", server.uri())).await;
    assert_eq!(explanation.cause, Cause::MalformedAuthorization);
}

/// A CloudFront-shortened mismatch (no canonical string): the explanation still says what
/// was signed and where it was sent.
#[tokio::test]
async fn mismatch_without_detail_names_signed_and_sent_hosts() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "message": "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
        })))
        .mount(&server)
        .await;
    let alias = "www.example.com";
    let http = support::client_for(&[(alias, *server.address())]);
    let client = client(
        http,
        signer(
            vec![Route::host_override(
                format!("http://{alias}:{}", server.address().port()),
                EXECUTE_API_HOST,
            )],
            example_credentials(),
        ),
    );
    let url = format!("http://{alias}:{}/prod/items", server.address().port());
    let (explanation, _) = explain_get(&client, &url).await;
    assert_eq!(explanation.cause, Cause::SignatureMismatch);
    assert!(
        explanation.summary.contains(EXECUTE_API_HOST),
        "{}",
        explanation.summary
    );
    assert!(
        explanation.summary.contains(alias),
        "{}",
        explanation.summary
    );
}

/// S3-compatible servers may name a mismatch by its `<Code>` alone (s3s does): it is
/// explained as S3's message would be, and with host and path as signed, the secret key is
/// what is left to check (not a CloudFront alias: that is API Gateway's).
#[tokio::test]
async fn a_mismatch_named_only_by_its_s3_code_is_explained() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(403).set_body_string(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SignatureDoesNotMatch</Code></Error>",
        ))
        .mount(&server)
        .await;
    let base = server.uri();
    let client = client(
        support::client_for(&[]),
        signer(
            vec![Route::direct(&base).service("s3")],
            example_credentials(),
        ),
    );
    let response = client
        .get(format!("{base}/bucket/key"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);
    let explanation = response
        .extensions()
        .get::<Explanation>()
        .cloned()
        .expect("a 403 comes with an explanation");
    assert_eq!(explanation.cause, Cause::SignatureMismatch);
    assert!(
        explanation.summary.contains("secret access key")
            && explanation.summary.contains(support::EXAMPLE_ACCESS_KEY)
            && !explanation.summary.contains("CloudFront"),
        "{}",
        explanation.summary
    );
}

/// The canonical request matches but the credential scope in the string-to-sign does not.
#[tokio::test]
async fn scope_difference_in_the_string_to_sign_is_named() {
    struct ScopeLiar;
    impl Respond for ScopeLiar {
        fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
            let received = ReceivedRequest::from_wiremock(request);
            let verified = support::signing::verifier()
                .verify(&received)
                .expect("the middleware signed validly");
            let sts = verified
                .string_to_sign
                .replace("/us-east-1/", "/us-west-2/");
            let message = format!(
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{}'\n\nThe String-to-Sign should have been\n'{sts}'\n",
                verified.canonical_request
            );
            ResponseTemplate::new(403).set_body_json(serde_json::json!({ "message": message }))
        }
    }
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ScopeLiar)
        .mount(&server)
        .await;
    let client = client(
        support::client_for(&[]),
        signer(
            vec![Route::direct(server.uri())],
            example_session_credentials(),
        ),
    );
    let (explanation, _) = explain_get(&client, &format!("{}/prod/items", server.uri())).await;
    match &explanation.cause {
        Cause::DateOrScope { expected, signed } => {
            assert!(expected.contains("us-west-2") && signed.contains("us-east-1"));
        }
        other => panic!("expected a scope difference, got {other:?}"),
    }
}
