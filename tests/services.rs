//! Services beyond API Gateway, query-string signing and presigned URLs, each checked by
//! the independent verifier.

mod support;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::verify::{ReceivedRequest, SignatureLocation, Verifier};
use reqwest_sigv4::{Error, FixedClock, Route, SigV4Middleware};
use support::signing::{assert_tamper_rejected, ok_server};
use support::{example_session_credentials, Echo, Topology, EXECUTE_API_HOST, ORIGIN_PATH};
use wiremock::MockServer;

/// A client that sends requests for `host` to `server`, signing with `route`.
fn client(server: &MockServer, host: &str, route: Route) -> ClientWithMiddleware {
    let signer = SigV4Middleware::builder()
        .route(route)
        .static_credentials(example_session_credentials())
        .body_limit(1024)
        .build()
        .expect("valid config");
    reqwest_middleware::ClientBuilder::new(support::client_for(&[(host, *server.address())]))
        .with(signer)
        .build()
}

fn verifier(service: &str, region: &str) -> Verifier {
    Verifier::new(example_session_credentials())
        .service(service)
        .region(region)
        .max_skew(Duration::from_secs(300))
}

async fn only_request(server: &MockServer) -> ReceivedRequest {
    let received = server.received_requests().await.expect("recording on");
    assert_eq!(received.len(), 1);
    ReceivedRequest::from_wiremock(&received[0])
}

/// Sends a POST with a small JSON body to `host` and checks it verifies for the service and
/// region inferred from the host, and not for another service.
async fn post_and_verify(host: &str, service: &str, region: &str) -> ReceivedRequest {
    let server = ok_server().await;
    let client = client(&server, host, Route::direct(format!("http://{host}")));
    let resp = client
        .post(format!("http://{host}/path/to/thing?x=1"))
        .header("content-type", "application/json")
        .body(r#"{"k":"v"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let request = only_request(&server).await;
    let verifier = verifier(service, region);
    verifier
        .verify(&request)
        .unwrap_or_else(|r| panic!("{service}: {r}"));
    assert_tamper_rejected(&request, &verifier);
    assert!(
        self::verifier("execute-api", region)
            .verify(&request)
            .is_err(),
        "signed for {service}, not execute-api"
    );
    request
}

#[tokio::test]
async fn lambda_function_url() {
    let request = post_and_verify(
        "abcdefghij.lambda-url.eu-west-1.on.aws",
        "lambda",
        "eu-west-1",
    )
    .await;
    assert!(request.header("x-amz-content-sha256").is_none());
}

#[tokio::test]
async fn opensearch_domain() {
    post_and_verify(
        "search-logs-abc123.eu-central-1.es.amazonaws.com",
        "es",
        "eu-central-1",
    )
    .await;
}

#[tokio::test]
async fn opensearch_serverless_sends_the_payload_hash_header() {
    let request = post_and_verify(
        "abcdef123.us-east-1.aoss.amazonaws.com",
        "aoss",
        "us-east-1",
    )
    .await;
    assert_eq!(
        request.header("x-amz-content-sha256"),
        Some(reqwest_sigv4::canonical::hex_sha256(br#"{"k":"v"}"#).as_str())
    );
}

#[tokio::test]
async fn s3_single_encodes_and_sends_the_payload_hash_header() {
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let server = ok_server().await;
    let client = client(&server, host, Route::direct(format!("http://{host}")));
    client
        .put(format!("http://{host}/photos/a%3Db c.jpg"))
        .body("jpeg bytes")
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    let verified = verifier("s3", "us-east-2")
        .verify(&request)
        .expect("valid for s3");
    assert!(
        verified
            .canonical_request
            .contains("\n/photos/a%3Db%20c.jpg\n"),
        "{}",
        verified.canonical_request
    );
    assert!(request.header("x-amz-content-sha256").is_some());
    // The same request read with API Gateway's double encoding does not verify.
    assert!(verifier("s3", "us-east-2")
        .double_encode_path(true)
        .verify(&request)
        .is_err());
}

#[tokio::test]
async fn vpc_lattice_sends_unsigned_payload_without_buffering() {
    let host = "svc-0123abcd.7d67968.vpc-lattice-svcs.us-west-2.on.aws";
    let server = ok_server().await;
    // The body limit is 1 KiB: a 64 KiB stream passes because it is never buffered.
    let client = client(&server, host, Route::direct(format!("http://{host}")));
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        (0..16).map(|_| Ok(Bytes::from(vec![b'z'; 4096]))).collect();
    let resp = client
        .post(format!("http://{host}/ingest"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let request = only_request(&server).await;
    assert_eq!(
        request.header("x-amz-content-sha256"),
        Some("UNSIGNED-PAYLOAD")
    );
    assert_eq!(request.body().len(), 65_536);
    let verified = verifier("vpc-lattice-svcs", "us-west-2")
        .allow_unsigned_payload(true)
        .verify(&request)
        .expect("valid unsigned-payload signature");
    assert_eq!(verified.payload_hash, "UNSIGNED-PAYLOAD");
    // API Gateway's rule: no unsigned payloads.
    assert!(verifier("vpc-lattice-svcs", "us-west-2")
        .verify(&request)
        .is_err());
}

#[tokio::test]
async fn route_can_sign_in_the_query_string() {
    let server = ok_server().await;
    let host = EXECUTE_API_HOST;
    let client = client(
        &server,
        host,
        Route::direct(format!("http://{host}")).sign_in_query(Duration::from_secs(120)),
    );
    client
        .get(format!("http://{host}/prod/items?b=2&a=1"))
        .send()
        .await
        .unwrap();
    let request = only_request(&server).await;
    assert!(request.header("authorization").is_none());
    let verifier = verifier("execute-api", "us-east-1");
    let verified = verifier.verify(&request).expect("valid presigned request");
    assert_eq!(verified.location, SignatureLocation::Query);
    assert_tamper_rejected(&request, &verifier);
    // Expired after 120 s.
    let later = SystemTime::now() + Duration::from_secs(180);
    assert!(verifier.clone().now(later).verify(&request).is_err());
}

#[tokio::test]
async fn presigned_url_works_from_a_plain_client_through_cloudfront() {
    let topology = Topology::start().await;
    let alias = topology.cloudfront_alias_base();
    let signer = SigV4Middleware::builder()
        .route(Route::cloudfront(
            &alias,
            format!("https://{EXECUTE_API_HOST}{ORIGIN_PATH}"),
        ))
        .static_credentials(example_session_credentials())
        .build()
        .unwrap();
    let request = reqwest::Request::new(
        reqwest::Method::GET,
        format!("{alias}/items?limit=3").parse().unwrap(),
    );
    let url = signer
        .presign(&request, Duration::from_secs(300))
        .await
        .expect("presigned");
    assert_eq!(url.host_str(), Some(support::CLOUDFRONT_ALIAS));
    let query = url.query().unwrap_or_default();
    for param in [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires=300",
        "X-Amz-SignedHeaders=host",
        "X-Amz-Signature",
        "X-Amz-Security-Token",
    ] {
        assert!(query.contains(param), "{param} missing from {query}");
    }
    // No middleware on this client: the URL alone authorizes the call.
    let resp = topology.client().get(url.clone()).send().await.unwrap();
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.path, "/prod/items");
    // A changed parameter breaks it.
    let tampered = url.as_str().replace("limit=3", "limit=4");
    let resp = topology.client().get(tampered).send().await.unwrap();
    assert_eq!(resp.status(), 403);
}

#[tokio::test]
async fn presign_errors_are_typed() {
    let signer = SigV4Middleware::builder()
        .route(Route::direct(format!("https://{EXECUTE_API_HOST}")))
        .static_credentials(example_session_credentials())
        .clock(FixedClock(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ))
        .build()
        .unwrap();
    let get = |url: &str| reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
    let err = signer
        .presign(
            &get("https://elsewhere.example.com/"),
            Duration::from_secs(60),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoRoute { .. }), "{err}");
    let err = signer
        .presign(
            &get(&format!("https://{EXECUTE_API_HOST}/prod")),
            Duration::from_secs(8 * 24 * 3600),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidExpiry { .. }), "{err}");
    let mut streaming = get(&format!("https://{EXECUTE_API_HOST}/prod"));
    *streaming.body_mut() = Some(reqwest::Body::wrap_stream(futures::stream::iter(vec![
        Ok::<_, std::io::Error>(Bytes::from_static(b"x")),
    ])));
    let err = signer
        .presign(&streaming, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StreamingBodyNotPresignable), "{err}");
    // The fixed clock dates the URL.
    let url = signer
        .presign(
            &get(&format!("https://{EXECUTE_API_HOST}/prod")),
            Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(url
        .query()
        .unwrap_or_default()
        .contains("X-Amz-Date=20231114T221320Z"));
}
