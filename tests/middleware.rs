//! Behaviour of the middleware against wiremock, every signature checked by the crate's
//! independent verifier (never by aws-sigv4, which did the signing).

mod support;

use std::time::Duration;

use bytes::Bytes;
use reqwest_sigv4::verify::{ReceivedRequest, RejectionKind, Verifier};
use reqwest_sigv4::SummaryPolicy;
use reqwest_sigv4::{Error, Route, SigV4Middleware, SigningOverride, SkipSigning};
use support::signing::{
    assert_every_request_signed, assert_tamper_rejected, middleware_client, ok_server, verifier,
    SignedExchange,
};
use support::{example_credentials, example_session_credentials};
use wiremock::MockServer;

fn signer(server: &MockServer, token: bool) -> SigV4Middleware {
    let credentials = if token {
        example_session_credentials()
    } else {
        example_credentials()
    };
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(server.uri()))
        .region("us-east-1")
        .static_credentials(credentials)
        .build()
        .expect("valid config")
}

#[tokio::test]
async fn every_method_is_signed_validly() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client.request(method.clone(), format!("{}/prod/items/1", server.uri()));
        if method != reqwest::Method::GET && method != reqwest::Method::HEAD {
            req = req.body("payload");
        }
        assert_eq!(req.send().await.unwrap().status(), 200, "{method}");
    }
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 6);
    for r in &received {
        assert_tamper_rejected(&r.request, &verifier());
    }
}

#[tokio::test]
async fn awkward_queries_are_signed_validly() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    let raw_queries = [
        "a=1&a=0&b=2",            // repeated keys, sorted by value
        "empty=&x=1",             // empty value
        "flag&x=1",               // key without `=`
        "q=a+b&p=%2B1",           // `+` is a space, `%2B` a plus
        "r=*!()'%3B%2C",          // reserved and sub-delimiters
        "u=%C3%A9t%C3%A9&z=日本", // UTF-8, encoded and raw
        "k%20space=v%20v",        // encoded space in a key
    ];
    for q in raw_queries {
        let resp = client
            .get(format!("{}/prod/search?{q}", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{q}");
    }
    // reqwest's own query encoder, spaces as `+`.
    client
        .get(format!("{}/prod/search", server.uri()))
        .query(&[("name", "a b"), ("plus", "1+1"), ("star", "*")])
        .send()
        .await
        .unwrap();
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), raw_queries.len() + 1);
    for r in &received {
        assert_tamper_rejected(&r.request, &verifier());
    }
}

#[tokio::test]
async fn awkward_paths_are_signed_validly() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    let paths = [
        "/prod/with space/x",
        "/prod/caf%C3%A9/日本",
        "/prod/sub-delims/!$&'()*+,;=",
        "/prod/encoded%2Fslash/x",
        "/prod/@connections/JBDvjfGEIAMCERw%3D",
        "/prod/trailing/",
    ];
    for p in paths {
        let resp = client
            .get(format!("{}{p}", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{p}");
    }
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), paths.len());
}

#[tokio::test]
async fn json_form_and_binary_bodies_are_signed_validly() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    let url = format!("{}/prod/items", server.uri());
    client
        .post(&url)
        .json(&serde_json::json!({"name": "widget", "tags": ["a", "b"]}))
        .send()
        .await
        .unwrap();
    client
        .post(&url)
        .form(&[("a", "1 2"), ("b", "ü")])
        .send()
        .await
        .unwrap();
    let binary: Vec<u8> = (0..=255u8).cycle().take(70_000).collect();
    client.put(&url).body(binary.clone()).send().await.unwrap();
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 3);
    assert!(received[0]
        .verified
        .signed_headers
        .contains(&"content-type".to_owned()));
    assert_eq!(&received[2].request.body()[..], &binary[..]);
    for r in &received {
        assert_tamper_rejected(&r.request, &verifier());
    }
}

fn chunked_stream(chunks: usize, size: usize) -> reqwest::Body {
    let parts: Vec<Result<Bytes, std::io::Error>> = (0..chunks)
        .map(|i| Ok(Bytes::from(vec![b'a' + (i % 26) as u8; size])))
        .collect();
    reqwest::Body::wrap_stream(futures::stream::iter(parts))
}

#[tokio::test]
async fn streaming_body_is_buffered_and_signed() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    let resp = client
        .post(format!("{}/prod/upload", server.uri()))
        .body(chunked_stream(8, 10_000))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received[0].request.body().len(), 80_000);
    assert_tamper_rejected(&received[0].request, &verifier());
}

#[tokio::test]
async fn streaming_file_body_is_signed() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    let dir = std::env::temp_dir().join(format!("reqwest-sigv4-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("upload.bin");
    std::fs::write(&path, vec![7u8; 200_000]).unwrap();
    let file = tokio::fs::File::open(&path).await.unwrap();
    let resp = client
        .put(format!("{}/prod/file", server.uri()))
        .body(reqwest::Body::from(file))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received[0].request.body().len(), 200_000);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn over_limit_stream_fails_clearly_and_sends_nothing() {
    let server = ok_server().await;
    let signer = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(server.uri()))
        .region("us-east-1")
        .static_credentials(example_credentials())
        .body_limit(50_000)
        .build()
        .unwrap();
    let client = middleware_client(signer);
    let err = client
        .post(format!("{}/prod/upload", server.uri()))
        .body(chunked_stream(8, 10_000))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            Error::from_middleware(&err),
            Some(Error::BodyTooLarge { limit: 50_000 })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("50000 bytes"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn session_token_is_sent_and_signed() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, true));
    client
        .get(format!("{}/prod/me", server.uri()))
        .send()
        .await
        .unwrap();
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received[0].verified.session_token_signed, Some(true));
    assert_eq!(
        received[0].request.header("x-amz-security-token"),
        example_session_credentials().session_token()
    );
    // The verifier holding the token refuses a request stripped of it.
    let stripped = without_header(&received[0].request, "x-amz-security-token");
    assert!(verifier().verify(&stripped).is_err());
}

fn without_header(req: &ReceivedRequest, name: &str) -> ReceivedRequest {
    ReceivedRequest::new(
        req.method(),
        req.target(),
        req.headers()
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
            .cloned()
            .collect(),
        req.body().clone(),
    )
}

#[tokio::test]
async fn unmatched_hosts_and_skipped_requests_are_not_signed() {
    let server = ok_server().await;
    // The route names another port on the same host: a miss.
    let signer = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct("http://127.0.0.1:1"))
        .region("us-east-1")
        .static_credentials(example_session_credentials())
        .build()
        .unwrap();
    let client = middleware_client(signer);
    client
        .get(format!("{}/prod/a", server.uri()))
        .send()
        .await
        .unwrap();
    let client = middleware_client(signer_for_server(&server));
    client
        .get(format!("{}/prod/b", server.uri()))
        .with_extension(SkipSigning)
        .send()
        .await
        .unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    for r in received {
        for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
            assert!(!r.headers.contains_key(name), "{name} reached {}", r.url);
        }
    }
}

fn signer_for_server(server: &MockServer) -> SigV4Middleware {
    signer(server, true)
}

#[tokio::test]
async fn tampered_body_is_rejected_by_the_verifier() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    client
        .post(format!("{}/prod/items", server.uri()))
        .body("{\"amount\":100}")
        .send()
        .await
        .unwrap();
    let received = assert_every_request_signed(&server, &verifier()).await;
    let original = &received[0].request;
    let tampered = ReceivedRequest::new(
        original.method(),
        original.target(),
        original.headers().to_vec(),
        Bytes::from_static(b"{\"amount\":999}"),
    );
    let rejection = verifier().verify(&tampered).unwrap_err();
    assert!(
        matches!(rejection.kind(), RejectionKind::SignatureMismatch),
        "{rejection}"
    );
}

#[tokio::test]
async fn per_request_override_changes_the_scope() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, false));
    client
        .get(format!("{}/prod/x", server.uri()))
        .with_extension(SigningOverride::new().region("eu-west-1").service("lambda"))
        .send()
        .await
        .unwrap();
    let received: Vec<SignedExchange> = assert_every_request_signed(
        &server,
        &Verifier::new(example_credentials())
            .service("lambda")
            .region("eu-west-1")
            .max_skew(Duration::from_secs(300)),
    )
    .await;
    assert_eq!(received[0].verified.scope.region, "eu-west-1");
    assert_eq!(received[0].verified.scope.service, "lambda");
    // A bad override is a typed error, and nothing is sent.
    let err = client
        .get(format!("{}/prod/y", server.uri()))
        .with_extension(SigningOverride::new().region("eu west/1"))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        Error::from_middleware(&err),
        Some(Error::InvalidScope { what: "region", .. })
    ));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn signed_request_summary_is_on_the_response() {
    let server = ok_server().await;
    let client = middleware_client(signer(&server, true));
    let resp = client
        .get(format!("{}/prod/items?b=2&a=1", server.uri()))
        .send()
        .await
        .unwrap();
    let signed = resp
        .extensions()
        .get::<reqwest_sigv4::SignedRequest>()
        .expect("summary")
        .clone();
    let received = assert_every_request_signed(&server, &verifier()).await;
    // What the summary says we signed is what the independent verifier reconstructed.
    assert_eq!(signed.string_to_sign(), received[0].verified.string_to_sign);
    assert!(signed
        .canonical_request()
        .contains("x-amz-security-token:<redacted>"));
    assert!(!signed
        .canonical_request()
        .contains(example_session_credentials().session_token().unwrap()));
}

/// By default the summary rides on the answers someone debugs (any status but 2xx), not on
/// successes; `SummaryPolicy::Always` puts it on every answer. Either way the URL a
/// query-signed request was answered from comes back without its signature.
#[tokio::test]
async fn summary_is_on_unsuccessful_answers_by_default_and_on_all_when_asked() {
    use wiremock::matchers::path;
    use wiremock::{Mock, ResponseTemplate};
    let server = MockServer::start().await;
    let answers = [
        ("/prod/ok", 200),
        ("/prod/missing", 404),
        ("/prod/denied", 403),
    ];
    for (at, status) in answers {
        Mock::given(path(at))
            .respond_with(ResponseTemplate::new(status))
            .mount(&server)
            .await;
    }
    let client = |policy: Option<SummaryPolicy>, in_query: bool| {
        let mut route = Route::direct(server.uri());
        if in_query {
            route = route.sign_in_query(Duration::from_secs(60));
        }
        let mut builder = SigV4Middleware::builder()
            .route(route)
            .region("us-east-1")
            .static_credentials(example_session_credentials());
        if let Some(policy) = policy {
            builder = builder.summaries(policy);
        }
        middleware_client(builder.build().expect("valid config"))
    };
    let summary_path = |resp: &reqwest::Response| {
        resp.extensions()
            .get::<reqwest_sigv4::SignedRequest>()
            .map(|s| s.path_and_query().to_owned())
    };
    for (policy, in_query) in [
        (None, false),
        (None, true),
        (Some(SummaryPolicy::Unsuccessful), false),
        (Some(SummaryPolicy::Always), false),
        (Some(SummaryPolicy::Always), true),
    ] {
        let client = client(policy, in_query);
        for (at, status) in answers {
            let resp = client
                .get(format!("{}{at}", server.uri()))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status().as_u16(), status);
            let attached = policy == Some(SummaryPolicy::Always) || status != 200;
            let shown = summary_path(&resp);
            assert_eq!(shown.is_some(), attached, "{policy:?} {at}");
            if let Some(shown) = shown {
                assert!(shown.starts_with(at), "{shown}");
            }
            let secrets: Vec<_> = resp
                .url()
                .query_pairs()
                .filter(|(name, _)| name == "X-Amz-Signature" || name == "X-Amz-Security-Token")
                .collect();
            assert_eq!(
                secrets.len(),
                if in_query { 2 } else { 0 },
                "{}",
                resp.url()
            );
            assert!(
                secrets.iter().all(|(_, value)| value == "REDACTED"),
                "{policy:?} {at}: {}",
                resp.url()
            );
        }
    }
    assert_eq!(SummaryPolicy::default(), SummaryPolicy::Unsuccessful);
}
