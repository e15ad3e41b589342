//! SigV4a end to end: the middleware signs with `aws-sigv4`'s SigV4a (`Route::sigv4a`), a
//! wiremock server receives the requests, and each one is checked by the crate's independent
//! verifier (ECDSA verified with the public key derived from the credentials, never by
//! comparing signatures, which differ on every signing).
#![cfg(feature = "sigv4a")]

mod support;

use std::time::Duration;

use bytes::Bytes;
use reqwest_sigv4::verify::wiremock::SignedBy;
use reqwest_sigv4::verify::{
    Algorithm, ReceivedRequest, RejectionKind, SignatureLocation, Verifier,
};
use reqwest_sigv4::SummaryPolicy;
use reqwest_sigv4::{Route, SigV4Middleware, SignedRequest};
use support::signing::{
    assert_every_request_signed, assert_tamper_rejected, middleware_client, ok_server, verifier,
};
use support::{example_credentials, example_session_credentials};
use wiremock::MockServer;

fn sigv4a_signer(route: Route, token: bool) -> SigV4Middleware {
    let credentials = if token {
        example_session_credentials()
    } else {
        example_credentials()
    };
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(route)
        .region("us-east-1")
        .static_credentials(credentials)
        .build()
        .expect("valid config")
}

fn with_header(request: &ReceivedRequest, name: &str, value: &str) -> ReceivedRequest {
    let headers = request
        .headers()
        .iter()
        .map(|(n, v)| {
            if n.eq_ignore_ascii_case(name) {
                (n.clone(), value.to_owned())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect();
    ReceivedRequest::new(
        request.method(),
        request.target(),
        headers,
        request.body().clone(),
    )
}

fn summary(response: &reqwest::Response) -> SignedRequest {
    response
        .extensions()
        .get::<SignedRequest>()
        .expect("the SignedRequest extension")
        .clone()
}

#[tokio::test]
async fn every_request_signed_for_every_region_verifies() {
    let server = ok_server().await;
    let client = middleware_client(sigv4a_signer(
        Route::direct(server.uri()).sigv4a("*"),
        false,
    ));
    let mut summaries = Vec::new();
    for (method, path, body) in [
        ("GET", "/prod/items?b=2&a=x+y&flag", None),
        ("GET", "/prod/with space/caf%C3%A9/@x", None),
        ("POST", "/prod/items", Some("{\"name\":\"widget\"}")),
        ("PUT", "/prod/items/1", Some("a=1&b=2")),
        ("DELETE", "/prod/items/1", None),
    ] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = client.request(method.clone(), format!("{}{path}", server.uri()));
        if let Some(body) = body {
            req = req.body(body);
        }
        let response = req.send().await.unwrap();
        assert_eq!(response.status(), 200, "{method} {path}");
        summaries.push(summary(&response));
    }
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), summaries.len());
    for (exchange, signed) in received.iter().zip(&summaries) {
        let verified = &exchange.verified;
        assert_eq!(verified.algorithm, Algorithm::SigV4a);
        assert_eq!(verified.location, SignatureLocation::Header);
        assert_eq!(verified.region_set.as_deref(), Some("*"));
        assert!(verified
            .signed_headers
            .iter()
            .any(|name| name == "x-amz-region-set"));
        assert!(verified.string_to_sign.starts_with(&format!(
            "AWS4-ECDSA-P256-SHA256\n{}\n{}/execute-api/aws4_request\n",
            verified.amz_date,
            &verified.amz_date[..8]
        )));
        // What the middleware says it signed is what the verifier reconstructed.
        assert_eq!(signed.algorithm(), "AWS4-ECDSA-P256-SHA256");
        assert_eq!(signed.string_to_sign(), verified.string_to_sign);
        // A one-byte change anywhere signed is refused.
        assert_tamper_rejected(&exchange.request, &verifier());
        // `*` has no letter for that helper to change: narrowing the set breaks the
        // signature just the same.
        let narrowed = with_header(&exchange.request, "x-amz-region-set", "us-east-1");
        assert_eq!(
            verifier().verify(&narrowed).unwrap_err().kind,
            RejectionKind::SignatureMismatch
        );
        // `*` is every region.
        verifier()
            .region("ap-southeast-2")
            .verify(&exchange.request)
            .expect("* includes every region");
    }
    // One byte of the body, explicitly.
    let post = &received[2].request;
    let mut body = post.body().to_vec();
    body[2] ^= 0x01;
    let tampered = ReceivedRequest::new(
        post.method(),
        post.target(),
        post.headers().to_vec(),
        Bytes::from(body),
    );
    assert_eq!(
        verifier().verify(&tampered).unwrap_err().kind,
        RejectionKind::SignatureMismatch
    );
}

#[tokio::test]
async fn a_region_list_is_checked_against_the_verifiers_region() {
    let server = ok_server().await;
    let client = middleware_client(sigv4a_signer(
        Route::direct(server.uri()).sigv4a("us-east-1,us-west-2"),
        true,
    ));
    let response = client
        .post(format!("{}/prod/orders?x=1", server.uri()))
        .body("order")
        .send()
        .await
        .unwrap();
    let signed = summary(&response);
    // us-east-1 (the support verifier's region) is in the set.
    let received = assert_every_request_signed(&server, &verifier()).await;
    let exchange = &received[0];
    assert_eq!(
        exchange.verified.region_set.as_deref(),
        Some("us-east-1,us-west-2")
    );
    assert_eq!(exchange.verified.session_token_signed, Some(true));
    assert_eq!(signed.string_to_sign(), exchange.verified.string_to_sign);
    assert_tamper_rejected(&exchange.request, &verifier());
    verifier()
        .region("us-west-2")
        .verify(&exchange.request)
        .expect("us-west-2 is in the set");
    let rejection = verifier()
        .region("eu-west-1")
        .verify(&exchange.request)
        .unwrap_err();
    assert_eq!(
        rejection.kind,
        RejectionKind::RegionNotInRegionSet {
            region: "eu-west-1".into(),
            region_set: "us-east-1,us-west-2".into()
        }
    );
    // Dropping a region from the set breaks the signature.
    let narrowed = with_header(&exchange.request, "x-amz-region-set", "us-east-1");
    assert_eq!(
        verifier().verify(&narrowed).unwrap_err().kind,
        RejectionKind::SignatureMismatch
    );
}

#[tokio::test]
async fn a_region_set_without_the_servers_region_is_refused_by_the_matcher() {
    let server = MockServer::start().await;
    let signed_by = SignedBy::new(
        Verifier::new(example_credentials())
            .service("execute-api")
            .region("us-east-1")
            .max_skew(Duration::from_secs(300)),
    );
    wiremock::Mock::given(signed_by.clone())
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let inside = middleware_client(sigv4a_signer(
        Route::direct(server.uri()).sigv4a("us-east-1"),
        false,
    ));
    let response = inside
        .get(format!("{}/prod/x", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(signed_by.last_rejection().is_none());

    let outside = middleware_client(sigv4a_signer(
        Route::direct(server.uri()).sigv4a("us-west-2,eu-west-1"),
        false,
    ));
    let response = outside
        .get(format!("{}/prod/x", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "the matcher lets it fall through");
    let rejection = signed_by.last_rejection().expect("a rejection");
    assert_eq!(
        rejection.kind,
        RejectionKind::RegionNotInRegionSet {
            region: "us-east-1".into(),
            region_set: "us-west-2,eu-west-1".into()
        }
    );
    // The signature itself is good: a verifier in one of the regions accepts it.
    let received = server.received_requests().await.unwrap();
    let request = ReceivedRequest::from_wiremock(&received[1]);
    verifier()
        .region("eu-west-1")
        .verify(&request)
        .expect("eu-west-1 is in the set");
}

#[tokio::test]
async fn presigned_sigv4a_urls_verify() {
    let server = ok_server().await;
    let client = middleware_client(sigv4a_signer(
        Route::direct(server.uri())
            .sigv4a("*")
            .sign_in_query(Duration::from_secs(300)),
        true,
    ));
    let response = client
        .get(format!("{}/prod/report?month=2024-01", server.uri()))
        .send()
        .await
        .unwrap();
    let signed = summary(&response);
    let received = assert_every_request_signed(&server, &verifier()).await;
    let exchange = &received[0];
    assert_eq!(exchange.verified.algorithm, Algorithm::SigV4a);
    assert_eq!(exchange.verified.location, SignatureLocation::Query);
    assert_eq!(exchange.verified.region_set.as_deref(), Some("*"));
    assert!(exchange.request.target().contains("X-Amz-Region-Set="));
    assert_eq!(signed.string_to_sign(), exchange.verified.string_to_sign);
    assert_tamper_rejected(&exchange.request, &verifier());
    // The region set in the query is signed too.
    // (aws-sigv4 sends the `*` raw; `%2A` is the same once decoded.)
    let target = exchange
        .request
        .target()
        .replace("X-Amz-Region-Set=*", "X-Amz-Region-Set=us-east-1")
        .replace("X-Amz-Region-Set=%2A", "X-Amz-Region-Set=us-east-1");
    assert_ne!(target, exchange.request.target());
    let narrowed = ReceivedRequest::new(
        exchange.request.method(),
        target,
        exchange.request.headers().to_vec(),
        exchange.request.body().clone(),
    );
    assert_eq!(
        verifier().verify(&narrowed).unwrap_err().kind,
        RejectionKind::SignatureMismatch
    );
}
