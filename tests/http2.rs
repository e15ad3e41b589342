//! Every topology end to end over HTTP/2, by prior knowledge in clear text (h2c) and by ALPN
//! under TLS (a certificate made at test start), and a direct route to an IPv6 literal. HTTP/2
//! carries the host as `:authority`, not `Host`: the stand-ins verify each signature against
//! the host they received there, and each test checks the HTTP version of the hop it is
//! about, so that none passes over HTTP/1.1 by accident. A host override cannot be carried
//! by HTTP/2 (its `Host` is not the URL's `:authority`): the crate's client speaks HTTP/1.1
//! for it, and an HTTP/2 answer to one is an error.

mod support;

use http::Version;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::{Route, SigV4Middleware};
use support::tls::TestTls;
use support::{
    example_session_credentials, ApiGateway, Echo, Listen, Topology, API_ID, CLOUDFRONT_ALIAS,
    CLOUDFRONT_DOMAIN, CUSTOM_DOMAIN, EXECUTE_API_HOST, ORIGIN_PATH, STAGE,
};

/// A private API's interface VPC endpoint: the host override route connects here.
const VPCE: &str = "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com";

/// How the client reaches the stand-ins over HTTP/2.
#[derive(Clone, Copy, Debug)]
enum Transport {
    /// Clear text, HTTP/2 by prior knowledge.
    H2c,
    /// TLS, HTTP/2 picked by ALPN.
    Tls,
}

/// The default topology listening for `transport`, and a reqwest client builder for it
/// that resolves the topology's names and the VPC endpoint's to the stand-ins.
async fn topology_over(transport: Transport) -> (Topology, reqwest::ClientBuilder) {
    let listen = Listen::http1_and_2();
    let (listen, tls) = match transport {
        Transport::H2c => (listen, None),
        Transport::Tls => {
            let tls = TestTls::new(&[
                EXECUTE_API_HOST,
                CUSTOM_DOMAIN,
                CLOUDFRONT_DOMAIN,
                CLOUDFRONT_ALIAS,
                VPCE,
            ]);
            (listen.tls(&tls), Some(tls))
        }
    };
    let topology = Topology::start_on(listen).await;
    let mut resolves = topology.resolves();
    resolves.push((VPCE, topology.api_gateway.addr()));
    let builder = http2_builder(&resolves, tls.as_ref());
    (topology, builder)
}

/// A client builder that speaks HTTP/2 to h2c stand-ins (`tls` = `None`) by prior
/// knowledge, or trusts `tls`'s authority alone and lets ALPN pick the version.
fn http2_builder(
    resolves: &[(&str, std::net::SocketAddr)],
    tls: Option<&TestTls>,
) -> reqwest::ClientBuilder {
    let builder = support::client_builder_for(resolves);
    match tls {
        None => builder.http2_prior_knowledge(),
        Some(tls) => builder
            .tls_certs_only([reqwest::Certificate::from_der(tls.ca_der())
                .expect("the test authority's certificate")]),
    }
}

fn signer(route: Route) -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(route)
        .static_credentials(example_session_credentials())
        .build()
        .expect("valid route")
}

/// The client the crate builds over `builder` with the signer for `route`.
fn signing(builder: reqwest::ClientBuilder, route: Route) -> ClientWithMiddleware {
    signer(route)
        .client_with(builder)
        .expect("build the client")
}

fn origin_base(topology: &Topology) -> String {
    format!("{}{ORIGIN_PATH}", topology.execute_api_base())
}

/// Sends a GET with a query and a POST with a body through `client` to `url`; both must
/// come back as API Gateway's 200 echo, over HTTP/2.
async fn get_and_post(client: &ClientWithMiddleware, url: &str) -> [Echo; 2] {
    get_and_post_over(client, url, Version::HTTP_2).await
}

/// [`get_and_post`], the answers over `version`.
async fn get_and_post_over(
    client: &ClientWithMiddleware,
    url: &str,
    version: Version,
) -> [Echo; 2] {
    let get = client
        .get(format!("{url}?limit=10&name=a+b&tag=%2B"))
        .send()
        .await
        .expect("GET sent");
    assert_eq!(get.version(), version, "the GET's answer");
    let post = client
        .post(url)
        .json(&serde_json::json!({"sku": "A-1", "qty": 2}))
        .send()
        .await
        .expect("POST sent");
    assert_eq!(post.version(), version, "the POST's answer");
    let get = Echo::from_response(get).await;
    let post = Echo::from_response(post).await;
    assert_eq!(get.query, "limit=10&name=a+b&tag=%2B");
    assert_eq!(post.method, "POST");
    assert_eq!(post.body_length, 21);
    [get, post]
}

/// Every request API Gateway received came over `version` and was accepted.
fn api_gateway_saw(api_gateway: &ApiGateway, version: Version, count: usize) {
    let received = api_gateway.received();
    assert_eq!(received.len(), count, "{received:#?}");
    for r in &received {
        assert_eq!(r.version, version, "{r:#?}");
        assert!(r.accepted(), "{r:#?}");
    }
}

async fn direct(transport: Transport) {
    let (topology, client) = topology_over(transport).await;
    let client = signing(client, Route::direct(topology.execute_api_base()));
    let echoes = get_and_post(
        &client,
        &format!("{}/prod/items", topology.execute_api_base()),
    )
    .await;
    for echo in &echoes {
        assert_eq!(echo.host, EXECUTE_API_HOST);
        assert_eq!(echo.path, "/prod/items");
        assert_eq!(echo.stage, STAGE);
    }
    api_gateway_saw(&topology.api_gateway, Version::HTTP_2, 2);
}

#[tokio::test]
async fn direct_over_h2c() {
    direct(Transport::H2c).await;
}

#[tokio::test]
async fn direct_over_tls_alpn_h2() {
    direct(Transport::Tls).await;
}

async fn custom_domain(transport: Transport) {
    let (topology, client) = topology_over(transport).await;
    let client = signing(
        client,
        Route::custom_domain(topology.custom_domain_base()).region("us-east-1"),
    );
    let echoes = get_and_post(
        &client,
        &format!("{}/v1/items", topology.custom_domain_base()),
    )
    .await;
    for echo in &echoes {
        assert_eq!(echo.host, CUSTOM_DOMAIN);
        assert_eq!(echo.path, "/v1/items");
        assert_eq!(echo.api_id, API_ID);
        assert_eq!(echo.resource_path, "/items");
    }
    api_gateway_saw(&topology.api_gateway, Version::HTTP_2, 2);
}

#[tokio::test]
async fn custom_domain_over_h2c() {
    custom_domain(Transport::H2c).await;
}

#[tokio::test]
async fn custom_domain_over_tls_alpn_h2() {
    custom_domain(Transport::Tls).await;
}

async fn cloudfront_alias_with_origin_path(transport: Transport) {
    let (topology, client) = topology_over(transport).await;
    let client = signing(
        client,
        Route::cloudfront(topology.cloudfront_alias_base(), origin_base(&topology)),
    );
    let echoes = get_and_post(
        &client,
        &format!("{}/items", topology.cloudfront_alias_base()),
    )
    .await;
    for echo in &echoes {
        // Signed for the origin's host and path; CloudFront sent both.
        assert_eq!(echo.host, EXECUTE_API_HOST);
        assert_eq!(echo.path, "/prod/items");
        assert_eq!(echo.resource_path, "/items");
    }
    // The client → CloudFront hop was HTTP/2 (`:authority` the alias); CloudFront → origin
    // is HTTP/1.1, as CloudFront speaks to custom origins.
    let exchanges = topology.cloudfront.exchanges();
    assert_eq!(exchanges.len(), 2, "{exchanges:#?}");
    for e in &exchanges {
        assert_eq!(e.viewer_version, Version::HTTP_2, "{e:#?}");
        assert_eq!(e.viewer_host, CLOUDFRONT_ALIAS);
        assert_eq!(e.status, 200, "{e:#?}");
    }
    api_gateway_saw(&topology.api_gateway, Version::HTTP_11, 2);
}

#[tokio::test]
async fn cloudfront_alias_with_origin_path_over_h2c() {
    cloudfront_alias_with_origin_path(Transport::H2c).await;
}

#[tokio::test]
async fn cloudfront_alias_with_origin_path_over_tls_alpn_h2() {
    cloudfront_alias_with_origin_path(Transport::Tls).await;
}

/// A host override connects to the VPC endpoint's name and signs `Host: {execute-api host}`.
/// HTTP/2 has no room for that: the host is `:authority`, which reqwest takes from the URL
/// (the endpoint's name). The client the crate builds over an HTTP/2 builder speaks
/// HTTP/1.1 for such a route, so that the signed host is the host the server reads.
async fn host_override_through_client_with(transport: Transport) {
    let (topology, builder) = topology_over(transport).await;
    let vpce = format!("{}://{VPCE}", topology.scheme());
    let client = signing(builder, Route::host_override(&vpce, EXECUTE_API_HOST));
    let echoes = get_and_post_over(&client, &format!("{vpce}/prod/items"), Version::HTTP_11).await;
    for echo in &echoes {
        assert_eq!(echo.host, EXECUTE_API_HOST);
        assert_eq!(echo.path, "/prod/items");
        assert_eq!(echo.api_id, API_ID);
    }
    api_gateway_saw(&topology.api_gateway, Version::HTTP_11, 2);
}

#[tokio::test]
async fn host_override_client_with_speaks_http1_though_the_builder_asked_for_h2c() {
    host_override_through_client_with(Transport::H2c).await;
}

#[tokio::test]
async fn host_override_client_with_speaks_http1_though_alpn_offers_h2() {
    host_override_through_client_with(Transport::Tls).await;
}

/// Over a client of the caller's own that speaks HTTP/2, the host override request goes
/// out with two hosts (`:authority` the endpoint's name, `Host` the signed one), which the
/// server refuses or verifies for the wrong host: the answer is not returned, a typed error
/// naming both hosts and the fix is.
async fn host_override_over_http2_is_refused(transport: Transport) {
    let (topology, builder) = topology_over(transport).await;
    let vpce = format!("{}://{VPCE}", topology.scheme());
    let client = reqwest_middleware::ClientBuilder::new(builder.build().expect("client"))
        .with(signer(Route::host_override(&vpce, EXECUTE_API_HOST)))
        .build();
    let err = client
        .get(format!("{vpce}/prod/items"))
        .send()
        .await
        .expect_err("an HTTP/2 answer to a host override");
    let Some(reqwest_sigv4::Error::HostOverrideOverHttp2 {
        version,
        sent_to,
        signed,
    }) = reqwest_sigv4::Error::from_middleware(&err)
    else {
        panic!("expected HostOverrideOverHttp2, got {err:?}");
    };
    assert_eq!(version, "HTTP/2.0");
    assert_eq!(sent_to, VPCE);
    assert_eq!(signed, EXECUTE_API_HOST);
    assert_eq!(
        reqwest_sigv4::Error::from_middleware(&err).map(|e| e.kind()),
        Some(reqwest_sigv4::ErrorKind::Configuration)
    );
    assert!(err.to_string().contains("http1_only()"), "{err}");
    // What the server got: HTTP/2, `:authority` the endpoint, `Host` the signed host.
    let received = topology.api_gateway.received();
    assert_eq!(received.len(), 1, "{received:#?}");
    assert_eq!(received[0].version, Version::HTTP_2);
    assert_eq!(received[0].host, VPCE);
    assert_eq!(received[0].header("host"), Some(EXECUTE_API_HOST));
}

/// A server that accepted the two-host request (it verified the signed `Host`) has done
/// what was asked: its success is returned as it came, never turned into an error that a
/// retry would answer by sending the request again.
#[tokio::test]
async fn host_override_accepted_over_h2c_is_returned() {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::method("POST"))
        .respond_with(wiremock::ResponseTemplate::new(201))
        .mount(&server)
        .await;
    let resolves = [(VPCE, *server.address())];
    let vpce = format!("http://{VPCE}:{}", server.address().port());
    let client = reqwest_middleware::ClientBuilder::new(
        http2_builder(&resolves, None).build().expect("client"),
    )
    .with(signer(Route::host_override(&vpce, EXECUTE_API_HOST)))
    .build();
    let response = client
        .post(format!("{vpce}/prod/items"))
        .body("done once")
        .send()
        .await
        .expect("the server's success");
    assert_eq!(response.status(), 201);
    assert_eq!(response.version(), Version::HTTP_2);
    let received = server.received_requests().await.expect("recorded");
    assert_eq!(received.len(), 1, "sent once");
    assert_eq!(received[0].headers.get("host").unwrap(), EXECUTE_API_HOST);
}

#[tokio::test]
async fn host_override_answered_over_h2c_is_an_error() {
    host_override_over_http2_is_refused(Transport::H2c).await;
}

#[tokio::test]
async fn host_override_answered_over_tls_alpn_h2_is_an_error() {
    host_override_over_http2_is_refused(Transport::Tls).await;
}

/// A direct route to an IPv6 literal, `http://[::1]:PORT`, signed for `[::1]:PORT`, over
/// HTTP/1.1 (`Host`) or h2c (`:authority`). API Gateway is reached at the address itself
/// (the stand-in maps the literal to the API, as a private endpoint's address would be).
async fn ipv6_literal(http2: bool) {
    if !support::ipv6_loopback_available() {
        eprintln!("note: [::1] cannot be bound on this machine: the IPv6 test is skipped");
        return;
    }
    let listen = if http2 {
        Listen::http1_and_2()
    } else {
        Listen::http1()
    };
    let api_gateway = ApiGateway::builder()
        .custom_domain("[::1]", &[("", API_ID, STAGE)])
        .listen(listen.ipv6())
        .start()
        .await;
    let addr = api_gateway.addr();
    assert!(addr.is_ipv6(), "{addr}");
    let base = format!("http://{addr}");
    let client = support::client_builder_for(&[]);
    let client = if http2 {
        client.http2_prior_knowledge()
    } else {
        client
    };
    let client = signing(client, Route::direct(&base).region("us-east-1"));
    let version = if http2 {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    };
    let echoes = get_and_post_over(&client, &format!("{base}/items"), version).await;
    for echo in &echoes {
        assert_eq!(echo.host, format!("[::1]:{}", addr.port()));
        assert_eq!(echo.path, "/items");
        assert_eq!(echo.api_id, API_ID);
    }
    api_gateway_saw(&api_gateway, version, 2);
}

#[tokio::test]
async fn ipv6_literal_host_over_http1() {
    ipv6_literal(false).await;
}

#[tokio::test]
async fn ipv6_literal_host_over_h2c() {
    ipv6_literal(true).await;
}
