//! What goes on the wire: signing parameters a URL arrives with, bounded reading of 403
//! answers, clients that follow redirects themselves, and the per-host clock offset. Every
//! signature is checked by the crate's independent verifier on what the server received.

mod support;

use std::time::Duration;

use reqwest_sigv4::{Route, SigV4Middleware};
use support::example_session_credentials;
use support::signing::{assert_every_request_signed, middleware_client, ok_server, verifier};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Signing parameters of some earlier signature (a presigned URL sent again).
const STALE: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAOLD%2F20200101%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=stale-token&X-Amz-Signature=0123456789abcdef";

fn signer(route: Route) -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(route)
        .region("us-east-1")
        .static_credentials(example_session_credentials())
        .build()
        .expect("valid config")
}

/// Where a route puts its signature.
const PLACEMENTS: [&str; 2] = ["headers", "query"];

/// A direct route to `base` that signs in `placement`.
fn route_for(placement: &str, base: &str) -> Route {
    match placement {
        "headers" => Route::direct(base),
        _ => Route::direct(base).sign_in_query(Duration::from_secs(300)),
    }
}

/// What the server received carries exactly one signature, none of the stale values, and
/// the caller's own parameters.
fn assert_only_fresh_parameters(target: &str, own: &[&str]) {
    for stale in [
        "stale-token",
        "0123456789abcdef",
        "ASIAOLD",
        "20200101T000000Z",
    ] {
        assert!(!target.contains(stale), "{stale} still sent: {target}");
    }
    assert!(target.matches("X-Amz-Signature").count() <= 1, "{target}");
    for p in own {
        assert!(target.contains(p), "{p} lost: {target}");
    }
}

#[tokio::test]
async fn stale_signing_parameters_in_the_url_are_not_signed_nor_sent() {
    for placement in PLACEMENTS {
        let server = ok_server().await;
        let client = middleware_client(signer(route_for(placement, &server.uri())));
        // Stale parameters first, among the caller's own, and percent-encoded in a name.
        for query in [
            format!("limit=10&{STALE}&z=1"),
            format!("{STALE}&limit=10&z=1"),
            "limit=10&X%2DAmz-Signature=0123456789abcdef&z=1".to_owned(),
        ] {
            let resp = client
                .get(format!("{}/prod/items?{query}", server.uri()))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{placement}: {query}");
        }
        for exchange in assert_every_request_signed(&server, &verifier()).await {
            assert_only_fresh_parameters(exchange.request.target(), &["limit=10", "z=1"]);
        }
    }
}

#[tokio::test]
async fn a_redirect_location_with_signing_parameters_is_signed_for_what_is_sent() {
    for placement in PLACEMENTS {
        let server = MockServer::start().await;
        Mock::given(path("/prod/old"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("location", format!("/prod/new?keep=1&{STALE}").as_str()),
            )
            .mount(&server)
            .await;
        Mock::given(path("/prod/new"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&server)
            .await;
        let client = middleware_client(signer(route_for(placement, &server.uri())));
        let resp = client
            .get(format!("{}/prod/old", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{placement}");
        let received = assert_every_request_signed(&server, &verifier()).await;
        assert_eq!(received.len(), 2, "{placement}");
        assert_only_fresh_parameters(received[1].request.target(), &["keep=1"]);
    }
}

#[tokio::test]
async fn a_presigned_url_presigned_again_carries_one_fresh_signature() {
    let server = ok_server().await;
    let signer = signer(Route::direct(server.uri()));
    let url = format!("{}/prod/items?limit=10&{STALE}", server.uri());
    let request = reqwest::Request::new(reqwest::Method::GET, url.parse().unwrap());
    let presigned = signer
        .presign(&request, Duration::from_secs(60))
        .await
        .unwrap();
    let resp = support::client_for(&[])
        .get(presigned)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for exchange in assert_every_request_signed(&server, &verifier()).await {
        assert_only_fresh_parameters(exchange.request.target(), &["limit=10"]);
    }
}
