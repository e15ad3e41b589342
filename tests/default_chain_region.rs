//! A region nothing configures (no route, builder, override or host names one) comes from
//! aws-config's default chain, here `AWS_REGION`: requests and presigned URLs are signed
//! for it. In its own test binary: it sets the process's AWS environment.

mod support;

use std::time::Duration;

use reqwest_sigv4::SummaryPolicy;
use reqwest_sigv4::{Route, SigV4Middleware, SignedRequest};
use support::signing::{assert_every_request_signed, middleware_client, ok_server, verifier};
use support::SERVICE;

/// Not the `REGION` every other test signs for: a signature for that one would not prove
/// the chain's region was used.
const CHAIN_REGION: &str = "eu-west-3";

#[tokio::test(flavor = "current_thread")]
async fn a_region_nothing_names_comes_from_the_default_chain() {
    support::credentials::set_isolated_aws_environment(Some(CHAIN_REGION));
    let server = ok_server().await;
    // A loopback host names no region, and neither the route nor the builder does.
    let signer = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(server.uri()).service(SERVICE))
        .build()
        .unwrap();
    let client = middleware_client(signer.clone());
    let response = client
        .get(format!("{}/prod/items", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let signed = response.extensions().get::<SignedRequest>().unwrap();
    assert_eq!(signed.region(), CHAIN_REGION);
    assert_every_request_signed(&server, &verifier().region(CHAIN_REGION)).await;

    // The same region for a presigned URL.
    let url = format!("{}/prod/items", server.uri()).parse().unwrap();
    let request = reqwest::Request::new(reqwest::Method::GET, url);
    let presigned = signer
        .presign(&request, Duration::from_secs(60))
        .await
        .unwrap();
    let credential = presigned
        .query_pairs()
        .find(|(name, _)| name == "X-Amz-Credential")
        .map(|(_, value)| value.into_owned())
        .unwrap();
    assert!(
        credential.contains(&format!("/{CHAIN_REGION}/{SERVICE}/aws4_request")),
        "{credential}"
    );
}
