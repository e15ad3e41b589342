//! Every topology end to end over loopback: client → (CloudFront stand-in) → API Gateway
//! stand-in, which verifies each signature with the crate's independent verifier.

mod support;

use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::{Route, SigV4Middleware};
use support::{
    example_session_credentials, ApiGateway, CloudFront, Echo, Origin, OriginRequestPolicy,
    Topology, API_ID, CLOUDFRONT_ALIAS, CUSTOM_DOMAIN, EXECUTE_API_HOST, ORIGIN_PATH, STAGE,
};

const MISMATCH: &str = "The request signature we calculated does not match";

fn origin_base() -> String {
    format!("https://{EXECUTE_API_HOST}{ORIGIN_PATH}")
}

fn client(topology: &Topology, routes: Vec<Route>) -> ClientWithMiddleware {
    client_with(topology.client(), routes)
}

fn client_with(client: reqwest::Client, routes: Vec<Route>) -> ClientWithMiddleware {
    let signer = SigV4Middleware::builder()
        .routes(routes)
        .static_credentials(example_session_credentials())
        .build()
        .expect("valid routes");
    reqwest_middleware::ClientBuilder::new(client)
        .with(signer)
        .build()
}

/// What the seeds did: sign for the host the client talks to (the CloudFront alias).
fn naive(topology: &Topology) -> ClientWithMiddleware {
    client(
        topology,
        vec![Route::direct(topology.cloudfront_alias_base()).region("us-east-1")],
    )
}

/// What this crate is for: send to the alias, sign for the origin.
fn through_cloudfront(topology: &Topology) -> ClientWithMiddleware {
    client(
        topology,
        vec![Route::cloudfront(
            topology.cloudfront_alias_base(),
            origin_base(),
        )],
    )
}

async fn status_and_text(resp: reqwest::Response) -> (u16, String) {
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// Sends the same request through `naive` and `fixed` clients: the first must get API
/// Gateway's mismatch 403, the second a 200 echo.
async fn seed_failure_then_fix(
    topology: &Topology,
    build: impl Fn(&ClientWithMiddleware) -> reqwest_middleware::RequestBuilder,
) -> Echo {
    let (status, body) = status_and_text(build(&naive(topology)).send().await.unwrap()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains(MISMATCH), "{body}");
    let resp = build(&through_cloudfront(topology)).send().await.unwrap();
    Echo::from_response(resp).await
}

#[tokio::test]
async fn cloudfront_get_with_query() {
    let topology = Topology::start().await;
    let alias = topology.cloudfront_alias_base();
    let echo = seed_failure_then_fix(&topology, |c| {
        c.get(format!("{alias}/items?limit=10&name=a+b&tag=x&tag=%2B"))
    })
    .await;
    assert_eq!(echo.host, EXECUTE_API_HOST);
    assert_eq!(echo.path, "/prod/items");
    assert_eq!(echo.stage, STAGE);
    assert_eq!(echo.resource_path, "/items");
    assert!(
        echo.header("x-amz-cf-id").is_some(),
        "CloudFront's id arrived unsigned"
    );
}

#[tokio::test]
async fn cloudfront_post_json() {
    let topology = Topology::start().await;
    let alias = topology.cloudfront_alias_base();
    let echo = seed_failure_then_fix(&topology, |c| {
        c.post(format!("{alias}/orders"))
            .json(&serde_json::json!({"sku": "A-1", "qty": 2}))
    })
    .await;
    assert_eq!(echo.method, "POST");
    assert_eq!(echo.body_length, 21);
}

#[tokio::test]
async fn cloudfront_put_binary() {
    let topology = Topology::start().await;
    let alias = topology.cloudfront_alias_base();
    let payload: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let echo = seed_failure_then_fix(&topology, |c| {
        c.put(format!("{alias}/blobs/1"))
            .header("content-type", "application/octet-stream")
            .body(payload.clone())
    })
    .await;
    assert_eq!(echo.body_length, payload.len() as u64);
    assert_eq!(
        echo.body_sha256,
        reqwest_sigv4::canonical::hex_sha256(&payload)
    );
}

#[tokio::test]
async fn cloudfront_utf8_path() {
    let topology = Topology::start().await;
    let alias = topology.cloudfront_alias_base();
    let echo =
        seed_failure_then_fix(&topology, |c| c.get(format!("{alias}/caf\u{e9}/日本 語"))).await;
    assert_eq!(
        echo.resource_path,
        "/caf%C3%A9/%E6%97%A5%E6%9C%AC%20%E8%AA%9E"
    );
}

#[tokio::test]
async fn cloudfront_behavior_path_pattern_with_origin_path() {
    // Behavior `/api/*` → origin abc123…/prod; the pattern stays in the path API Gateway sees.
    let api_gateway = ApiGateway::builder()
        .rest_api(API_ID, &[STAGE])
        .start()
        .await;
    let cloudfront = CloudFront::builder(support::CLOUDFRONT_DOMAIN)
        .alias(CLOUDFRONT_ALIAS)
        .origin(Origin::new("apigw", EXECUTE_API_HOST, api_gateway.addr()).path(ORIGIN_PATH))
        .behavior(
            "/api/*",
            "apigw",
            OriginRequestPolicy::AllViewerExceptHostHeader,
        )
        .start()
        .await;
    let http = support::client_for(&[(CLOUDFRONT_ALIAS, cloudfront.addr())]);
    let alias = format!("http://{CLOUDFRONT_ALIAS}");
    let naive = client_with(
        http.clone(),
        vec![Route::direct(&alias).region("us-east-1")],
    );
    let fixed = client_with(
        http,
        vec![Route::cloudfront(format!("{alias}/api"), origin_base())],
    );
    let url = format!("{alias}/api/items?x=1");
    let (status, body) = status_and_text(naive.get(&url).send().await.unwrap()).await;
    assert_eq!(status, 403);
    assert!(body.contains(MISMATCH), "{body}");
    let echo = Echo::from_response(fixed.get(&url).send().await.unwrap()).await;
    assert_eq!(echo.path, "/prod/api/items");
    assert_eq!(echo.resource_path, "/api/items");
}

#[tokio::test]
async fn custom_domain_through_cloudfront_forwarding_host() {
    // CloudFront with alias = the custom domain, origin = API Gateway's regional domain
    // name, policy AllViewer (Host forwarded): API Gateway maps the custom domain's `v1`.
    let (_api_gateway, cloudfront) = support::custom_domain_behind_cloudfront().await;
    let client = client_with(
        support::client_for(&[(CUSTOM_DOMAIN, cloudfront.addr())]),
        vec![Route::custom_domain(format!("http://{CUSTOM_DOMAIN}")).region("us-east-1")],
    );
    let resp = client
        .post(format!("http://{CUSTOM_DOMAIN}/v1/items?debug=true"))
        .json(&serde_json::json!({"a": 1}))
        .send()
        .await
        .unwrap();
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.host, CUSTOM_DOMAIN);
    assert_eq!(echo.path, "/v1/items");
    assert_eq!(echo.stage, STAGE);
    assert_eq!(echo.resource_path, "/items");
    assert_eq!(cloudfront.forwarded().len(), 1);
}

#[tokio::test]
async fn host_override_connects_to_one_host_and_signs_another() {
    let topology = Topology::start().await;
    let vpce = "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com";
    let client = client_with(
        support::client_for(&[(vpce, topology.api_gateway.addr())]),
        vec![Route::host_override(
            format!("http://{vpce}"),
            EXECUTE_API_HOST,
        )],
    );
    let resp = client
        .get(format!("http://{vpce}/prod/items"))
        .send()
        .await
        .unwrap();
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.host, EXECUTE_API_HOST);
    assert_eq!(echo.path, "/prod/items");
}

#[tokio::test]
async fn origin_url_is_rewritten_to_the_alias() {
    let topology = Topology::start().await;
    let client = client(
        &topology,
        vec![
            Route::cloudfront(topology.cloudfront_alias_base(), origin_base())
                .rewrite_origin_urls(true),
        ],
    );
    // Written against the origin (https, as on AWS); sent to the alias over loopback http.
    let resp = client
        .get(format!("{}/items/7?fields=id", origin_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.url().host_str(), Some(CLOUDFRONT_ALIAS));
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.path, "/prod/items/7");
    let exchanges = topology.cloudfront.exchanges();
    assert_eq!(exchanges.len(), 1);
    assert_eq!(
        support::strip_port(&exchanges[0].viewer_host),
        CLOUDFRONT_ALIAS
    );
    assert_eq!(exchanges[0].viewer_target, "/items/7?fields=id");
}

#[tokio::test]
async fn legacy_policy_dropping_authorization_returns_the_403_unchanged() {
    let topology =
        Topology::start_with(ApiGateway::builder(), OriginRequestPolicy::LegacyNone).await;
    let client = through_cloudfront(&topology);
    let resp = client
        .get(format!("{}/items", topology.cloudfront_alias_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert_eq!(
        resp.headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok()),
        Some("MissingAuthenticationTokenException")
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({"message": "Missing Authentication Token"})
    );
    let forwarded = topology.cloudfront.forwarded();
    assert!(forwarded[0].header("authorization").is_none());
}

#[tokio::test]
async fn most_specific_route_wins_and_unmatched_hosts_are_never_signed() {
    let topology = Topology::start().await;
    let client = client(
        &topology,
        vec![
            // A catch-all for the alias that signs for the wrong stage…
            Route::cloudfront(
                topology.cloudfront_alias_base(),
                format!("https://{EXECUTE_API_HOST}/dev"),
            ),
            // …and a more specific one for /items that signs correctly.
            Route::cloudfront(
                format!("{}/items", topology.cloudfront_alias_base()),
                origin_base(),
            ),
        ],
    );
    let resp = client
        .get(format!("{}/items/1", topology.cloudfront_alias_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "the /items route must win");
    // The catch-all still applies elsewhere: signed for /dev/…, refused by API Gateway.
    let resp = client
        .get(format!("{}/other", topology.cloudfront_alias_base()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);

    // The distribution's own domain and the execute-api host are in no route: unsigned.
    topology.api_gateway.clear_received();
    for url in [
        format!("{}/items", topology.cloudfront_domain_base()),
        format!("{}/prod/items", topology.execute_api_base()),
    ] {
        let resp = client.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 403, "{url}");
    }
    let received = topology.api_gateway.received();
    assert_eq!(received.len(), 2);
    for r in received {
        for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
            assert!(r.header(name).is_none(), "{name} reached {}", r.target);
        }
    }
}
