//! Edges of routing, presigning, header values, streamed bodies and the verifier's
//! defaults (issue 11 items 6, 8, 9, 10, 12, 13). Each test pins one behaviour; every
//! signature that reaches a server is checked with the crate's independent verifier.

mod support;

use std::time::{Duration, UNIX_EPOCH};

use reqwest_sigv4::SummaryPolicy;
use reqwest_sigv4::{ConfigError, Error, Route, SigV4Middleware};
use support::signing::{middleware_client, ok_server};
use support::{example_credentials, EXECUTE_API_HOST};

fn signer(route: Route) -> Result<SigV4Middleware, ConfigError> {
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(route)
        .static_credentials(example_credentials())
        .region(support::REGION)
        .build()
}

// ---------------------------------------------------------------------------------------
// Item 8: wildcard routes.
// ---------------------------------------------------------------------------------------

#[test]
fn wildcards_over_public_suffixes_and_aws_domains_are_refused() {
    for base in [
        "https://*.com",
        "https://*.co.uk",
        "https://*.example.com",
        "https://*.amazonaws.com",
        "https://*.amazonaws.com.cn",
        "https://*.on.aws",
        "https://*.api.aws",
        "https://*.cloudfront.net",
        // Every account's APIs, function URLs, buckets, domains in a region.
        "https://*.execute-api.us-east-1.amazonaws.com",
        "https://*.execute-api.us-east-1.vpce.amazonaws.com",
        "https://*.lambda-url.us-east-1.on.aws",
        "https://*.s3.amazonaws.com",
        "https://*.s3.us-east-2.amazonaws.com",
        "https://*.us-east-1.es.amazonaws.com",
        "https://*.us-east-1.amazonaws.com",
        "https://*.execute-api.cn-north-1.amazonaws.com.cn",
        "https://*.EXECUTE-API.us-east-1.AmazonAWS.com",
    ] {
        for route in [Route::direct(base), Route::custom_domain(base)] {
            match signer(route) {
                Err(ConfigError::WildcardTooBroad { url, reason }) => {
                    assert_eq!(url, base);
                    assert!(!reason.is_empty());
                }
                other => panic!("{base}: expected WildcardTooBroad, got {other:?}"),
            }
        }
    }
}

#[test]
fn wildcards_under_a_name_the_owner_controls_build() {
    for base in [
        "https://*.api.example.com",
        "https://*.internal.example.co.uk/v1",
        "http://*.svc.cluster.local:8080",
    ] {
        signer(Route::direct(base)).unwrap_or_else(|e| panic!("{base}: {e}"));
        signer(Route::custom_domain(base)).unwrap_or_else(|e| panic!("{base}: {e}"));
    }
}

#[tokio::test]
async fn an_allowed_wildcard_signs_every_host_under_it() {
    let server = ok_server().await;
    let port = server.address().port();
    let signer = signer(Route::direct(format!("http://*.api.example.test:{port}"))).unwrap();
    let client = reqwest_middleware::ClientBuilder::new(support::client_for(&[
        ("a.api.example.test", *server.address()),
        ("b.c.api.example.test", *server.address()),
    ]))
    .with(signer)
    .build();
    for host in ["a.api.example.test", "b.c.api.example.test"] {
        let response = client
            .get(format!("http://{host}:{port}/x"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let verifier = support::signing::verifier();
    let exchanges = support::signing::assert_every_request_signed(&server, &verifier).await;
    assert_eq!(exchanges.len(), 2);
}

// ---------------------------------------------------------------------------------------
// Item 9: a route that matches but cannot place the request.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn an_origin_url_the_alias_cannot_carry_is_an_error_and_nothing_is_sent() {
    let origin = ok_server().await;
    let origin_base = format!("{}/prod", origin.uri());
    // Only `/api/*` of the alias goes to this origin: `/prod/other` has no alias URL.
    let signer = signer(
        Route::cloudfront("http://alias.example.test/api", &origin_base)
            .service("execute-api")
            .rewrite_origin_urls(true),
    )
    .unwrap();
    let client = middleware_client(signer);
    let err = client
        .get(format!("{origin_base}/other?token=secret-ish"))
        .send()
        .await
        .expect_err("an unplaceable request must not be sent");
    match Error::from_middleware(&err) {
        Some(Error::Rewrite(message)) => {
            assert!(message.contains("/prod/other"), "{message}");
            assert!(!message.contains("secret-ish"), "{message}");
        }
        other => panic!("expected Error::Rewrite, got {other:?} ({err})"),
    }
    let received = origin.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "sent: {received:?}");
}

#[tokio::test]
async fn an_unplaceable_origin_url_falls_back_to_a_route_that_can_place_it() {
    // The alias route cannot carry `/prod/other`, a direct route for the origin can: the
    // error is only for URLs no matching route can place.
    let origin = ok_server().await;
    let origin_base = format!("{}/prod", origin.uri());
    let signer = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(
            Route::cloudfront("http://alias.example.test/api", &origin_base)
                .rewrite_origin_urls(true),
        )
        .route(Route::direct(origin.uri()))
        .static_credentials(example_credentials())
        .region(support::REGION)
        .build()
        .unwrap();
    let client = middleware_client(signer);
    // Inside the origin path but outside the alias's prefix, and outside the origin path.
    for url in [
        format!("{origin_base}/other"),
        format!("{}/other", origin.uri()),
    ] {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
    }
    let verifier = support::signing::verifier();
    let exchanges = support::signing::assert_every_request_signed(&origin, &verifier).await;
    assert_eq!(exchanges.len(), 2);
}

#[tokio::test]
async fn an_origin_url_outside_the_origin_path_is_an_error_and_nothing_is_sent() {
    let origin = ok_server().await;
    let route = |rewrite: bool| {
        Route::cloudfront(
            "http://alias.example.test",
            format!("{}/prod", origin.uri()),
        )
        .service("execute-api")
        .rewrite_origin_urls(rewrite)
    };
    let client = middleware_client(signer(route(true)).unwrap());
    // Another stage, and a path the origin path is a prefix of but not a segment of.
    for outside in ["/dev/items", "/production"] {
        let err = client
            .get(format!("{}{outside}?token=secret-ish", origin.uri()))
            .send()
            .await
            .expect_err("no alias URL reaches it: it must not be sent unsigned");
        match Error::from_middleware(&err) {
            Some(e @ Error::OutsideOriginPath { url, origin_path }) => {
                assert_eq!(*url, format!("{}{outside}", origin.uri()));
                assert_eq!(origin_path, "/prod");
                assert_eq!(e.kind(), reqwest_sigv4::ErrorKind::Request);
                let message = e.to_string();
                assert!(message.contains(outside), "{message}");
                assert!(!message.contains("secret-ish"), "{message}");
            }
            other => panic!("expected Error::OutsideOriginPath, got {other:?} ({err})"),
        }
    }
    // A presigned URL sent again there is refused too (its stale signature is not a way
    // around the route).
    let err = client
        .get(format!("{}/dev/x?X-Amz-Signature=00", origin.uri()))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            Error::from_middleware(&err),
            Some(Error::OutsideOriginPath { .. })
        ),
        "{err}"
    );
    let received = origin.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "sent: {received:?}");

    // A route that does not rewrite origin URLs does not claim the origin: sent as it is.
    let response = middleware_client(signer(route(false)).unwrap())
        .get(format!("{}/dev/items", origin.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

// ---------------------------------------------------------------------------------------
// A caller's own `Authorization` header.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_callers_authorization_on_a_route_signed_in_headers_is_refused_unsent() {
    let server = ok_server().await;
    let client = middleware_client(signer(Route::direct(server.uri())).unwrap());
    for (value, scheme) in [
        ("Basic dXNlcjpzZWNyZXQ=", Some("Basic")),
        ("bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln", Some("Bearer")),
        ("sk_live_51Hsecret", None),
    ] {
        let err = client
            .get(format!("{}/prod/x", server.uri()))
            .header("authorization", value)
            .send()
            .await
            .expect_err("the signature would replace the caller's credential");
        match Error::from_middleware(&err) {
            Some(e @ Error::AuthorizationHeaderSet { scheme: named }) => {
                assert_eq!(*named, scheme, "{value}");
                assert_eq!(e.kind(), reqwest_sigv4::ErrorKind::Request);
                let credential = value.rsplit(' ').next().unwrap();
                for shown in [format!("{err}"), format!("{err:?}")] {
                    assert!(!shown.contains(credential), "{shown}");
                }
            }
            other => panic!("{value}: expected AuthorizationHeaderSet, got {other:?} ({err})"),
        }
    }
    // reqwest's builder turns a URL's user info into a Basic header: refused the same way,
    // the password shown nowhere.
    let with_user_info = format!("http://user:secret-password@{}/prod/x", server.address());
    let err = client.get(&with_user_info).send().await.unwrap_err();
    assert!(
        matches!(
            Error::from_middleware(&err),
            Some(Error::AuthorizationHeaderSet {
                scheme: Some("Basic")
            })
        ),
        "{err}"
    );
    assert!(
        !format!("{err} {err:?}").contains("secret-password"),
        "{err:?}"
    );
    let received = server.received_requests().await.unwrap_or_default();
    assert!(received.is_empty(), "sent: {received:?}");
}

#[tokio::test]
async fn a_stale_sigv4_authorization_is_replaced_by_the_new_signature() {
    let server = ok_server().await;
    let client = middleware_client(signer(Route::direct(server.uri())).unwrap());
    for stale in [
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
        "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/execute-api/aws4_request, SignedHeaders=host, Signature=00",
    ] {
        let response = client
            .get(format!("{}/prod/x", server.uri()))
            .header("authorization", stale)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let verifier = support::signing::verifier();
    for exchange in support::signing::assert_every_request_signed(&server, &verifier).await {
        assert_eq!(exchange.request.header_values("authorization").count(), 1);
    }
}

#[tokio::test]
async fn a_callers_authorization_on_a_route_signed_in_the_query_is_sent_as_it_is() {
    let server = ok_server().await;
    let elsewhere = ok_server().await;
    wiremock::Mock::given(wiremock::matchers::path("/prod/away"))
        .respond_with(
            wiremock::ResponseTemplate::new(302)
                .insert_header("location", format!("{}/x", elsewhere.uri())),
        )
        .with_priority(1)
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::path("/prod/moved"))
        .respond_with(wiremock::ResponseTemplate::new(302).insert_header("location", "/prod/here"))
        .with_priority(1)
        .mount(&server)
        .await;
    let route = Route::direct(server.uri()).sign_in_query(Duration::from_secs(300));
    let client = middleware_client(signer(route).unwrap());
    for path in ["/prod/x", "/prod/moved", "/prod/away"] {
        let response = client
            .get(format!("{}{path}", server.uri()))
            .header("authorization", "Bearer caller-token")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    // A stale SigV4 one is an earlier signature: removed, as on every route.
    client
        .get(format!("{}/prod/x", server.uri()))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=00",
        )
        .send()
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    assert_eq!(
        paths,
        [
            "/prod/x",
            "/prod/moved",
            "/prod/here",
            "/prod/away",
            "/prod/x"
        ]
    );
    let verifier = support::signing::verifier();
    for (i, r) in received.iter().enumerate() {
        let request = reqwest_sigv4::verify::ReceivedRequest::from_wiremock(r);
        let expected = (i < 4).then_some("Bearer caller-token");
        assert_eq!(request.header("authorization"), expected, "{}", r.url);
        // The query signature is the route's; the header is for whatever reads it before
        // the service (which, like API Gateway, would read it as a malformed signature).
        let without: Vec<(String, String)> = request
            .headers()
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("authorization"))
            .cloned()
            .collect();
        let request = reqwest_sigv4::verify::ReceivedRequest::new(
            request.method(),
            request.target(),
            without,
            request.body().clone(),
        );
        verifier
            .verify(&request)
            .unwrap_or_else(|rejection| panic!("{}: {rejection}", r.url));
    }
    // Never to another host a redirect leads to, as reqwest does.
    let away = elsewhere.received_requests().await.unwrap();
    assert_eq!(away.len(), 1);
    assert!(!away[0].headers.contains_key("authorization"), "{away:?}");
}

// ---------------------------------------------------------------------------------------
// Item 6: header values with tabs.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_tab_inside_a_signed_header_value_is_sent_folded_as_signed() {
    let server = ok_server().await;
    let signer = signer(Route::direct(server.uri())).unwrap();
    let response = middleware_client(signer)
        .post(format!("{}/prod/items", server.uri()))
        .header("x-tab", "a\tb")
        .header("x-mixed", " lead \t\t and  runs\t")
        .header("x-rep", "one")
        .header("x-rep", "t\two")
        .header("x-plain", "keep  two spaces")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let signed = response
        .extensions()
        .get::<reqwest_sigv4::SignedRequest>()
        .expect("signed");
    assert!(
        signed.canonical_request().contains("\nx-tab:a b\n"),
        "{}",
        signed.canonical_request()
    );
    let verifier = support::signing::verifier();
    let exchanges = support::signing::assert_every_request_signed(&server, &verifier).await;
    let request = &exchanges[0].request;
    // What went on the wire is what every verifier canonicalizes alike.
    assert_eq!(request.header("x-tab"), Some("a b"));
    assert_eq!(request.header("x-mixed"), Some("lead and runs"));
    assert_eq!(
        request.header_values("x-rep").collect::<Vec<_>>(),
        ["one", "t wo"]
    );
    // Values without a tab are sent untouched (every implementation folds spaces alike).
    assert_eq!(request.header("x-plain"), Some("keep  two spaces"));
    support::signing::assert_tamper_rejected(request, &verifier);
}

#[test]
fn the_verifier_folds_tabs_as_botocore_does_and_refuses_a_tab_signed_as_is() {
    // aws-sigv4 signs `a<TAB>b` as it is; botocore (`' '.join(value.split())`), the AWS Java
    // SDK and API Gateway canonicalize it as `a b`, so such a signature fails there.
    let time = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let url = format!("https://{EXECUTE_API_HOST}/prod/items");
    let sent = [("x-tab", "a\tb")];
    let signature =
        support::sign_with_aws_sigv4("GET", &url, None, &sent, b"", &example_credentials(), time);
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), EXECUTE_API_HOST.into()),
        ("x-tab".into(), "a\tb".into()),
    ];
    headers.extend(signature);
    let request = reqwest_sigv4::verify::ReceivedRequest::new(
        "GET",
        "/prod/items",
        headers,
        bytes::Bytes::new(),
    );
    let verifier = support::signing::verifier().now(time);
    let rejection = verifier
        .verify(&request)
        .expect_err("a tab signed as it is must be refused");
    assert!(
        matches!(
            rejection.kind,
            reqwest_sigv4::verify::RejectionKind::SignatureMismatch
        ),
        "{rejection}"
    );
    // botocore's canonical header line for that value, written from its rule.
    let botocore_line = format!(
        "\nx-tab:{}\n",
        "a\tb".split_whitespace().collect::<Vec<_>>().join(" ")
    );
    let expected = rejection.canonical_request.clone().unwrap_or_default();
    assert!(expected.contains(&botocore_line), "{expected}");
    // The report names the header: the signature matches the value with its tab kept.
    let signer = rejection
        .signer_canonical_request
        .clone()
        .unwrap_or_default();
    assert!(signer.contains("\nx-tab:a\tb\n"), "{signer}");
    assert!(
        rejection.differences.iter().any(|d| matches!(
            d,
            reqwest_sigv4::canonical::CanonicalDifference::Header { name, .. } if name == "x-tab"
        )),
        "{rejection}"
    );
}

// ---------------------------------------------------------------------------------------
// Item 10: presign limits and what a presigned URL reports; a user-set Host.
// ---------------------------------------------------------------------------------------

const SIGNED_AT: u64 = 1_700_000_000;

fn presigner(credentials: aws_credential_types::Credentials) -> SigV4Middleware {
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(format!("https://{EXECUTE_API_HOST}")))
        .static_credentials(credentials)
        .clock(reqwest_sigv4::FixedClock(
            UNIX_EPOCH + Duration::from_secs(SIGNED_AT),
        ))
        .build()
        .unwrap()
}

fn get(url: &str) -> reqwest::Request {
    reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap())
}

fn query_param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn presigned_validity_under_one_second_is_refused() {
    let signer = presigner(example_credentials());
    let request = get(&format!("https://{EXECUTE_API_HOST}/prod/x"));
    for expires in [Duration::from_millis(500), Duration::from_millis(999)] {
        let err = signer.presign(&request, expires).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidExpiry { expires: e } if e == expires),
            "{err}"
        );
    }
    // The same rule for routes that sign every request in the query.
    let err = self::signer(
        Route::direct(format!("https://{EXECUTE_API_HOST}"))
            .sign_in_query(Duration::from_millis(500)),
    );
    assert!(
        matches!(err, Err(ConfigError::InvalidExpiry { .. })),
        "{err:?}"
    );
    // One second and a fraction: X-Amz-Expires counts whole seconds.
    let presigned = signer
        .presign(&request, Duration::from_millis(1_900))
        .await
        .unwrap();
    assert_eq!(
        query_param(presigned.url(), "X-Amz-Expires").as_deref(),
        Some("1")
    );
    assert_eq!(presigned.valid_for(), Duration::from_secs(1));
    assert_eq!(
        presigned.expires_at(),
        UNIX_EPOCH + Duration::from_secs(SIGNED_AT + 1)
    );
}

#[tokio::test]
async fn a_presigned_url_dies_with_its_session_token_and_says_so() {
    let token_end = UNIX_EPOCH + Duration::from_secs(SIGNED_AT + 600);
    let credentials = aws_credential_types::Credentials::new(
        support::EXAMPLE_SESSION_ACCESS_KEY,
        support::EXAMPLE_SECRET_KEY,
        Some(support::EXAMPLE_SESSION_TOKEN.to_owned()),
        Some(token_end),
        "edges",
    );
    let signer = presigner(credentials);
    let request = get(&format!("https://{EXECUTE_API_HOST}/prod/x?a=1"));
    let presigned = signer
        .presign(&request, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(
        presigned.signed_at(),
        UNIX_EPOCH + Duration::from_secs(SIGNED_AT)
    );
    assert_eq!(
        presigned.signature_expires_at(),
        UNIX_EPOCH + Duration::from_secs(SIGNED_AT + 3600)
    );
    assert_eq!(presigned.expires_at(), token_end);
    assert_eq!(presigned.credentials_expire_first(), Some(token_end));
    assert!(presigned.has_session_token());
    // Valid by the independent verifier at signing time, as the URL says.
    let url = presigned.url();
    let received = reqwest_sigv4::verify::ReceivedRequest::new(
        "GET",
        &url[url::Position::BeforePath..],
        vec![("host".to_owned(), EXECUTE_API_HOST.to_owned())],
        bytes::Bytes::new(),
    );
    support::signing::verifier()
        .now(UNIX_EPOCH + Duration::from_secs(SIGNED_AT + 1))
        .verify(&received)
        .unwrap_or_else(|r| panic!("{r}"));
    // A secret: Debug shows where it points and until when, never the query.
    let shown = format!("{presigned:?}");
    for secret in [
        "X-Amz-Signature",
        "X-Amz-Credential",
        "X-Amz-Security-Token",
        support::EXAMPLE_SESSION_TOKEN,
        "a=1",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(
        shown.contains(EXECUTE_API_HOST) && shown.contains("/prod/x"),
        "{shown}"
    );

    // Long-term credentials: the signature alone decides.
    let presigned = presigner(example_credentials())
        .presign(&request, Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(presigned.credentials_expire_first(), None);
    assert!(!presigned.has_session_token());
    assert_eq!(
        presigned.expires_at(),
        UNIX_EPOCH + Duration::from_secs(SIGNED_AT + 3600)
    );
}

#[tokio::test]
async fn a_user_set_host_that_differs_from_the_signed_host_is_refused_unsent() {
    let server = ok_server().await;
    let signer = signer(Route::direct(server.uri())).unwrap();
    let client = middleware_client(signer);
    let err = client
        .get(format!("{}/prod/x", server.uri()))
        .header("host", "other.example.com")
        .send()
        .await
        .expect_err("a Host the signature does not cover must not be sent");
    match Error::from_middleware(&err) {
        Some(Error::HostHeaderMismatch { sent, signed }) => {
            assert_eq!(sent, "other.example.com");
            assert_eq!(*signed, server.address().to_string());
        }
        other => panic!("expected HostHeaderMismatch, got {other:?} ({err})"),
    }
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());

    // The same Host the route signs for is harmless and signed.
    let response = client
        .get(format!("{}/prod/x", server.uri()))
        .header("host", server.address().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    support::signing::assert_every_request_signed(&server, &support::signing::verifier()).await;
}

#[tokio::test]
async fn a_user_set_host_on_a_cloudfront_route_is_refused() {
    let server = ok_server().await;
    let signer = signer(Route::cloudfront(
        server.uri(),
        format!("https://{EXECUTE_API_HOST}/prod"),
    ))
    .unwrap();
    for host in [EXECUTE_API_HOST.to_owned(), server.address().to_string()] {
        let err = middleware_client(signer.clone())
            .get(format!("{}/x", server.uri()))
            .header("host", &host)
            .send()
            .await
            .expect_err("refused");
        assert!(
            matches!(
                Error::from_middleware(&err),
                Some(Error::HostHeaderMismatch { .. })
            ),
            "{err}"
        );
    }
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

// ---------------------------------------------------------------------------------------
// Item 12: memory per streamed byte.
// ---------------------------------------------------------------------------------------

/// The innermost middleware: reads the body the signer passes on, frame by frame, and
/// records each frame's length and address; answers 200 if the independent verifier
/// accepts the request, 403 otherwise.
#[derive(Clone, Default)]
struct Frames(std::sync::Arc<std::sync::Mutex<Vec<(usize, usize)>>>);

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for Frames {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        _extensions: &mut http::Extensions,
        _next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        use http_body_util::BodyExt;
        let mut body = Vec::new();
        if let Some(mut stream) = req.body_mut().take() {
            while let Some(frame) = stream.frame().await {
                let frame = frame.map_err(reqwest_middleware::Error::Reqwest)?;
                if let Ok(data) = frame.into_data() {
                    self.0
                        .lock()
                        .unwrap()
                        .push((data.len(), data.as_ptr() as usize));
                    body.extend_from_slice(&data);
                }
            }
        }
        let mut headers = support::header_pairs(req.headers());
        headers.push((
            "host".into(),
            req.url().host_str().unwrap_or_default().to_owned(),
        ));
        let received = reqwest_sigv4::verify::ReceivedRequest::new(
            req.method().as_str(),
            &req.url()[url::Position::BeforePath..],
            headers,
            bytes::Bytes::from(body),
        );
        let status = match support::signing::verifier().verify(&received) {
            Ok(_) => 200,
            Err(_) => 403,
        };
        Ok(reqwest::Response::from(
            http::Response::builder()
                .status(status)
                .body(bytes::Bytes::new())
                .unwrap(),
        ))
    }
}

async fn send_stream(chunks: Vec<bytes::Bytes>) -> Vec<(usize, usize)> {
    let frames = Frames::default();
    let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
        .with(signer(Route::direct(format!("https://{EXECUTE_API_HOST}"))).unwrap())
        .with(frames.clone())
        .build();
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::io::Error>));
    let response = client
        .put(format!("https://{EXECUTE_API_HOST}/prod/upload"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "the signature must verify");
    let seen = frames.0.lock().unwrap().clone();
    seen
}

#[tokio::test]
async fn a_stream_of_tiny_chunks_is_passed_on_in_few_large_segments() {
    const BODY: usize = 1 << 20;
    let chunks: Vec<bytes::Bytes> = (0..BODY / 16)
        .map(|i| bytes::Bytes::from(vec![(i % 251) as u8; 16]))
        .collect();
    let frames = send_stream(chunks).await;
    assert_eq!(frames.iter().map(|(len, _)| len).sum::<usize>(), BODY);
    // Kept one handle per 16 bytes, the body took several times its size in memory.
    assert!(
        frames.len() <= BODY / (64 * 1024) + 1,
        "{} frames",
        frames.len()
    );
}

#[tokio::test]
async fn large_streamed_chunks_are_passed_on_uncopied() {
    let chunks: Vec<bytes::Bytes> = (0..4u8)
        .map(|i| bytes::Bytes::from(vec![i; 256 * 1024]))
        .collect();
    let addresses: Vec<usize> = chunks.iter().map(|c| c.as_ptr() as usize).collect();
    let frames = send_stream(chunks).await;
    assert_eq!(
        frames.iter().map(|(_, at)| *at).collect::<Vec<_>>(),
        addresses,
        "each large chunk is sent from the buffer it arrived in"
    );
}

// ---------------------------------------------------------------------------------------
// Item 13: the verifier is strict by default.
// ---------------------------------------------------------------------------------------

/// A request signed by the middleware with its clock at `signed_at`, as the server got it.
async fn signed_at(
    signed_at: std::time::SystemTime,
    credentials: aws_credential_types::Credentials,
) -> reqwest_sigv4::verify::ReceivedRequest {
    let server = ok_server().await;
    let signer = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(server.uri()))
        .static_credentials(credentials)
        .region(support::REGION)
        .clock(reqwest_sigv4::FixedClock(signed_at))
        .build()
        .unwrap();
    middleware_client(signer)
        .get(format!("{}/prod/x", server.uri()))
        .send()
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    reqwest_sigv4::verify::ReceivedRequest::from_wiremock(&received[0])
}

fn strict_verifier() -> reqwest_sigv4::verify::Verifier {
    reqwest_sigv4::verify::Verifier::new(example_credentials())
        .with_credentials(support::example_session_credentials())
}

#[tokio::test]
async fn the_default_verifier_checks_time_against_the_system_clock() {
    use reqwest_sigv4::verify::RejectionKind;
    let now = std::time::SystemTime::now();
    let fresh = signed_at(now, example_credentials()).await;
    strict_verifier()
        .verify(&fresh)
        .unwrap_or_else(|r| panic!("{r}"));
    // Ten minutes old or ten minutes ahead: outside API Gateway's five minutes.
    let stale = signed_at(now - Duration::from_secs(600), example_credentials()).await;
    let rejection = strict_verifier().verify(&stale).unwrap_err();
    assert!(
        matches!(rejection.kind, RejectionKind::SignatureExpired { .. }),
        "{rejection}"
    );
    let early = signed_at(now + Duration::from_secs(600), example_credentials()).await;
    let rejection = strict_verifier().verify(&early).unwrap_err();
    assert!(
        matches!(rejection.kind, RejectionKind::SignatureNotYetCurrent { .. }),
        "{rejection}"
    );
    // The explicit opt-outs.
    strict_verifier()
        .now(now - Duration::from_secs(600))
        .verify(&stale)
        .unwrap_or_else(|r| panic!("{r}"));
    strict_verifier()
        .skip_time_check()
        .verify(&stale)
        .unwrap_or_else(|r| panic!("{r}"));
}

#[tokio::test]
async fn the_default_verifier_refuses_a_session_token_outside_the_signature() {
    use reqwest_sigv4::verify::{RejectionKind, TokenProblem};
    let fresh = signed_at(
        std::time::SystemTime::now(),
        support::example_session_credentials(),
    )
    .await;
    strict_verifier()
        .verify(&fresh)
        .unwrap_or_else(|r| panic!("{r}"));
    // The same request with the token left out of SignedHeaders and the signature made
    // without it, as the AWS suite's `post-sts-header-after` does.
    let time = std::time::SystemTime::now();
    let url = format!("https://{EXECUTE_API_HOST}/prod/x");
    let mut headers: Vec<(String, String)> = vec![("host".into(), EXECUTE_API_HOST.into())];
    let session = support::example_session_credentials();
    let without_token = aws_credential_types::Credentials::new(
        session.access_key_id(),
        session.secret_access_key(),
        None,
        None,
        "edges",
    );
    headers.extend(support::sign_with_aws_sigv4(
        "GET",
        &url,
        None,
        &[],
        b"",
        &without_token,
        time,
    ));
    headers.push((
        "x-amz-security-token".into(),
        support::EXAMPLE_SESSION_TOKEN.into(),
    ));
    let appended =
        reqwest_sigv4::verify::ReceivedRequest::new("GET", "/prod/x", headers, bytes::Bytes::new());
    let rejection = strict_verifier().verify(&appended).unwrap_err();
    assert_eq!(
        rejection.kind,
        RejectionKind::InvalidSecurityToken {
            problem: TokenProblem::NotSigned
        },
        "{rejection}"
    );
    // The explicit opt-out.
    let verified = strict_verifier()
        .require_signed_session_token(false)
        .verify(&appended)
        .unwrap_or_else(|r| panic!("{r}"));
    assert_eq!(verified.session_token_signed, Some(false));
}

#[tokio::test]
async fn the_wiremock_matcher_is_strict_by_default() {
    use reqwest_sigv4::verify::wiremock::SignedBy;
    let server = wiremock::MockServer::start().await;
    let signed_by = SignedBy::new(strict_verifier());
    wiremock::Mock::given(signed_by.clone())
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let now = std::time::SystemTime::now();
    for (clock, expected) in [(now, 200), (now - Duration::from_secs(3600), 404)] {
        let signer = SigV4Middleware::builder()
            .summaries(SummaryPolicy::Always)
            .route(Route::direct(server.uri()))
            .static_credentials(example_credentials())
            .region(support::REGION)
            .clock(reqwest_sigv4::FixedClock(clock))
            .clock_skew_correction(None)
            .build()
            .unwrap();
        let response = middleware_client(signer)
            .get(format!("{}/prod/x", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    let rejection = signed_by.last_rejection().expect("the stale request");
    assert!(
        rejection
            .api_gateway_message()
            .starts_with("Signature expired"),
        "{rejection}"
    );
}
