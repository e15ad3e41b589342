//! Tests of the API Gateway and CloudFront stand-ins themselves, with requests signed by
//! aws-sigv4 (the AWS SDK's signer) and sent over loopback.

mod support;

use std::time::{Duration, SystemTime};

use support::{
    client_for, example_credentials, example_session_credentials, into_parts, parse_http_date,
    sign_with_aws_sigv4, ApiGateway, CloudFront, DenyRule, Echo, Origin, OriginRequestPolicy,
    Topology, Verdict, API_ID, CLOUDFRONT_ALIAS, CLOUDFRONT_DOMAIN, CUSTOM_DOMAIN,
    EXAMPLE_ACCESS_KEY, EXAMPLE_SESSION_ACCESS_KEY, EXAMPLE_SESSION_TOKEN, EXECUTE_API_HOST, STAGE,
};

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Sends `method url` with `headers` (signing headers included) and `body`.
async fn send(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> reqwest::Response {
    let mut req = client.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url);
    for (n, v) in headers {
        req = req.header(n.as_str(), v.as_str());
    }
    if !body.is_empty() {
        req = req.body(body.to_vec());
    }
    req.send().await.expect("loopback request")
}

/// Signs `url` as sent (host from the URL) with the long-term example credentials, now.
fn signed_now(method: &str, url: &str, body: &[u8]) -> Vec<(String, String)> {
    sign_with_aws_sigv4(
        method,
        url,
        None,
        &[],
        body,
        &example_credentials(),
        SystemTime::now(),
    )
}

/// Parses a JSON error body; returns `(key, message)` of its single entry.
/// Sends `method url` signed now with aws-sigv4 for the URL's own host; status, headers, body.
async fn send_signed(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    body: &[u8],
) -> (u16, reqwest::header::HeaderMap, String) {
    into_parts(send(client, method, url, &signed_now(method, url, body), body).await).await
}

fn error_body(body: &str) -> (String, String) {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    let obj = v.as_object().expect("JSON object");
    assert_eq!(obj.len(), 1, "one key expected in {body}");
    let (k, m) = obj.iter().next().unwrap();
    (k.clone(), m.as_str().unwrap().to_string())
}

#[tokio::test]
async fn direct_signed_get_is_accepted_and_echoed() {
    let topo = Topology::start().await;
    let url = format!("{}/prod/items?b=2&a=1", topo.execute_api_base());
    let resp = send(
        &topo.client(),
        "GET",
        &url,
        &signed_now("GET", &url, b""),
        b"",
    )
    .await;
    assert!(resp.headers().contains_key("date"));
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.method, "GET");
    assert_eq!(echo.host, EXECUTE_API_HOST);
    assert_eq!(echo.path, "/prod/items");
    assert_eq!(echo.query, "b=2&a=1");
    assert_eq!(echo.api_id, API_ID);
    assert_eq!(echo.stage, STAGE);
    assert_eq!(echo.resource_path, "/items");
    assert_eq!(echo.access_key, EXAMPLE_ACCESS_KEY);
    assert!(echo
        .header("authorization")
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
    assert!(echo.header("x-amz-date").is_some());

    let received = topo.api_gateway.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].accepted());
    assert_eq!(received[0].target, "/prod/items?b=2&a=1");
}

#[tokio::test]
async fn direct_signed_post_with_session_token_is_accepted() {
    let topo = Topology::start().await;
    let url = format!("{}/prod/items/42", topo.execute_api_base());
    let body = br#"{"name":"widget","qty":3}"#;
    let creds = example_session_credentials();
    let headers = sign_with_aws_sigv4(
        "POST",
        &url,
        None,
        &[("content-type", "application/json")],
        body,
        &creds,
        SystemTime::now(),
    );
    let mut all = headers.clone();
    all.push(("content-type".into(), "application/json".into()));
    let echo = Echo::from_response(send(&topo.client(), "POST", &url, &all, body).await).await;
    assert_eq!(echo.access_key, EXAMPLE_SESSION_ACCESS_KEY);
    assert_eq!(
        echo.header("x-amz-security-token"),
        Some(EXAMPLE_SESSION_TOKEN)
    );
    assert_eq!(echo.body_length, body.len() as u64);
    assert_eq!(echo.body_sha256, sha256_hex(body));
    assert_eq!(echo.resource_path, "/items/42");
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

#[tokio::test]
async fn unsigned_request_is_missing_authentication_token() {
    let topo = Topology::start().await;
    let url = format!("{}/prod/items", topo.execute_api_base());
    let (status, headers, body) =
        into_parts(send(&topo.client(), "GET", &url, &[], b"").await).await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(
        headers["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    assert!(headers.contains_key("date"));
    assert!(topo.api_gateway.received()[0]
        .header("authorization")
        .is_none());
}

#[tokio::test]
async fn wrong_stage_is_missing_authentication_token_even_when_signed() {
    let topo = Topology::start().await;
    let url = format!("{}/staging/items", topo.execute_api_base());
    let (status, _, body) = send_signed(&topo.client(), "GET", &url, b"").await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
}

#[tokio::test]
async fn unknown_host_is_forbidden() {
    let topo = Topology::start().await;
    let client = client_for(&[(
        "zzz999.execute-api.us-east-1.amazonaws.com",
        topo.api_gateway.addr(),
    )]);
    let url = "http://zzz999.execute-api.us-east-1.amazonaws.com/prod/items";
    let (status, _, body) = send_signed(&client, "GET", url, b"").await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Forbidden"}"#);
}

#[tokio::test]
async fn host_with_port_is_routed_ignoring_the_port_and_verified_as_received() {
    let topo = Topology::start().await;
    let port = topo.api_gateway.addr().port();
    let url = format!("http://{EXECUTE_API_HOST}:{port}/prod/items");
    let echo = Echo::from_response(
        send(
            &topo.client(),
            "GET",
            &url,
            &signed_now("GET", &url, b""),
            b"",
        )
        .await,
    )
    .await;
    assert_eq!(echo.host, format!("{EXECUTE_API_HOST}:{port}"));
    assert_eq!(echo.stage, STAGE);

    // Signed without the port but sent with it: mismatch.
    let headers = sign_with_aws_sigv4(
        "GET",
        &url,
        Some(EXECUTE_API_HOST),
        &[],
        b"",
        &example_credentials(),
        SystemTime::now(),
    );
    let (status, _, body) =
        into_parts(send(&topo.client(), "GET", &url, &headers, b"").await).await;
    assert_eq!(status, 403);
    assert!(error_body(&body).1.starts_with(MISMATCH), "{body}");
}

#[tokio::test]
async fn signed_for_the_wrong_host_is_a_mismatch_with_the_canonical_string() {
    let topo = Topology::start().await;
    let url = format!("{}/prod/items", topo.execute_api_base());
    let headers = sign_with_aws_sigv4(
        "GET",
        &url,
        Some("other.example.com"),
        &[],
        b"",
        &example_credentials(),
        SystemTime::now(),
    );
    let (status, resp_headers, body) =
        into_parts(send(&topo.client(), "GET", &url, &headers, b"").await).await;
    assert_eq!(status, 403);
    assert_eq!(
        resp_headers["x-amzn-errortype"],
        "InvalidSignatureException"
    );
    let (key, message) = error_body(&body);
    assert_eq!(key, "message");
    assert!(message.starts_with(MISMATCH), "{message}");
    assert!(
        message.contains("The Canonical String for this request should have been"),
        "{message}"
    );
    assert!(
        message.contains(&format!("host:{EXECUTE_API_HOST}")),
        "{message}"
    );
    match &topo.api_gateway.received()[0].verdict {
        Verdict::Rejected {
            canonical_request, ..
        } => {
            assert!(canonical_request
                .as_deref()
                .unwrap_or_default()
                .contains("/prod/items"));
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn unknown_access_key_is_an_invalid_security_token() {
    let topo = Topology::start().await;
    let url = format!("{}/prod/items", topo.execute_api_base());
    let creds = aws_credential_types::Credentials::new("AKIDUNKNOWN", "secret", None, None, "test");
    let headers = sign_with_aws_sigv4("GET", &url, None, &[], b"", &creds, SystemTime::now());
    let (status, _, body) =
        into_parts(send(&topo.client(), "GET", &url, &headers, b"").await).await;
    assert_eq!(status, 403);
    assert_eq!(
        error_body(&body).1,
        "The security token included in the request is invalid."
    );
}

#[tokio::test]
async fn expired_signature_is_rejected() {
    let topo = Topology::start().await;
    let url = format!("{}/prod/items", topo.execute_api_base());
    let ten_minutes_ago = SystemTime::now() - Duration::from_secs(600);
    let headers = sign_with_aws_sigv4(
        "GET",
        &url,
        None,
        &[],
        b"",
        &example_credentials(),
        ten_minutes_ago,
    );
    let (status, resp_headers, body) =
        into_parts(send(&topo.client(), "GET", &url, &headers, b"").await).await;
    assert_eq!(status, 403);
    assert_eq!(
        resp_headers["x-amzn-errortype"],
        "InvalidSignatureException"
    );
    let message = error_body(&body).1;
    assert!(message.starts_with("Signature expired: "), "{message}");
    assert!(message.ends_with(" - 5 min.)"), "{message}");
}

#[tokio::test]
async fn server_clock_ahead_rejects_a_fresh_signature_and_shows_its_clock() {
    let topo = Topology::start_with(
        ApiGateway::builder().clock_offset_secs(600),
        OriginRequestPolicy::AllViewerExceptHostHeader,
    )
    .await;
    let url = format!("{}/prod/items", topo.execute_api_base());
    let (status, headers, body) = send_signed(&topo.client(), "GET", &url, b"").await;
    assert_eq!(status, 403);
    assert!(
        error_body(&body).1.starts_with("Signature expired: "),
        "{body}"
    );
    let server_date = parse_http_date(headers["date"].to_str().unwrap()).expect("Date header");
    let ahead = server_date
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    assert!(
        ahead > Duration::from_secs(590) && ahead < Duration::from_secs(610),
        "{ahead:?}"
    );

    // Signing with the server's clock (as a skew-correcting client would) passes.
    let headers = sign_with_aws_sigv4(
        "GET",
        &url,
        None,
        &[],
        b"",
        &example_credentials(),
        server_date,
    );
    assert_eq!(
        send(&topo.client(), "GET", &url, &headers, b"")
            .await
            .status(),
        200
    );

    // And the clock can be moved at run time.
    topo.api_gateway.set_clock_offset_secs(0);
    assert_eq!(
        send(
            &topo.client(),
            "GET",
            &url,
            &signed_now("GET", &url, b""),
            b""
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn cloudfront_all_viewer_except_host_signed_for_origin_is_accepted() {
    let topo = Topology::start().await;
    // Sign for the origin host + origin path, send to the alias.
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/items?x=1");
    let sent_url = format!("{}/items?x=1", topo.cloudfront_alias_base());
    let headers = signed_now("GET", &origin_url, b"");
    let resp = send(&topo.client(), "GET", &sent_url, &headers, b"").await;
    assert_eq!(resp.headers()["x-cache"], "Miss from cloudfront");
    assert!(resp.headers()["via"]
        .to_str()
        .unwrap()
        .ends_with(".cloudfront.net (CloudFront)"));
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.host, EXECUTE_API_HOST);
    assert_eq!(echo.path, "/prod/items");
    assert_eq!(echo.query, "x=1");
    assert_eq!(echo.resource_path, "/items");
    assert!(echo.header("x-amz-cf-id").is_some_and(|v| !v.is_empty()));
    assert!(echo.header("via").unwrap().contains("(CloudFront)"));
    assert_eq!(echo.header("x-forwarded-for"), Some("127.0.0.1"));

    let forwarded = topo.cloudfront.forwarded();
    assert_eq!(forwarded.len(), 1);
    assert_eq!(forwarded[0].host, EXECUTE_API_HOST);
    assert_eq!(forwarded[0].target, "/prod/items?x=1");
    assert_eq!(topo.cloudfront.exchanges()[0].viewer_host, CLOUDFRONT_ALIAS);
}

#[tokio::test]
async fn cloudfront_distribution_domain_works_too() {
    let topo = Topology::start().await;
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/a/b");
    let sent_url = format!("{}/a/b", topo.cloudfront_domain_base());
    let echo = Echo::from_response(
        send(
            &topo.client(),
            "GET",
            &sent_url,
            &signed_now("GET", &origin_url, b""),
            b"",
        )
        .await,
    )
    .await;
    assert_eq!(echo.resource_path, "/a/b");
    assert_eq!(
        topo.cloudfront.exchanges()[0].viewer_host,
        CLOUDFRONT_DOMAIN
    );
}

#[tokio::test]
async fn cloudfront_signed_for_the_cloudfront_host_is_a_mismatch() {
    let topo = Topology::start().await;
    let sent_url = format!("{}/items", topo.cloudfront_alias_base());
    let (status, headers, body) = send_signed(&topo.client(), "GET", &sent_url, b"").await;
    assert_eq!(status, 403);
    assert_eq!(headers["x-amzn-errortype"], "InvalidSignatureException");
    let message = error_body(&body).1;
    assert!(message.starts_with(MISMATCH), "{message}");
    assert!(
        message.contains(&format!("host:{EXECUTE_API_HOST}")),
        "{message}"
    );
    assert!(message.contains("/prod/items"), "{message}");
}

#[tokio::test]
async fn cloudfront_legacy_none_drops_authorization() {
    let topo = Topology::start_with(ApiGateway::builder(), OriginRequestPolicy::LegacyNone).await;
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/items?q=1");
    let sent_url = format!("{}/items?q=1", topo.cloudfront_alias_base());
    let (status, _, body) = into_parts(
        send(
            &topo.client(),
            "GET",
            &sent_url,
            &signed_now("GET", &origin_url, b""),
            b"",
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
    let received = topo.api_gateway.received();
    assert_eq!(received.len(), 1);
    assert!(received[0].header("authorization").is_none());
    assert!(received[0].header("x-amz-date").is_none());
    assert_eq!(received[0].target, "/prod/items");
    assert_eq!(received[0].header("user-agent"), Some("Amazon CloudFront"));
    assert!(received[0].header("x-amz-cf-id").is_some());
}

#[tokio::test]
async fn cloudfront_all_viewer_forwards_host_to_a_custom_domain() {
    let api_gateway = ApiGateway::builder()
        .rest_api(API_ID, &[STAGE])
        .custom_domain(CUSTOM_DOMAIN, &[("v1", API_ID, STAGE)])
        .start()
        .await;
    // The distribution answers for api.example.com and forwards Host to the custom domain origin.
    let cloudfront = CloudFront::builder(CLOUDFRONT_DOMAIN)
        .alias(CUSTOM_DOMAIN)
        .origin(Origin::new("custom", CUSTOM_DOMAIN, api_gateway.addr()))
        .default_behavior("custom", OriginRequestPolicy::AllViewer)
        .start()
        .await;
    let client = client_for(&[(CUSTOM_DOMAIN, cloudfront.addr())]);
    let url = format!("http://{CUSTOM_DOMAIN}/v1/items?page=2");
    let echo =
        Echo::from_response(send(&client, "GET", &url, &signed_now("GET", &url, b""), b"").await)
            .await;
    assert_eq!(echo.host, CUSTOM_DOMAIN);
    assert_eq!(echo.path, "/v1/items");
    assert_eq!(echo.stage, STAGE);
    assert_eq!(echo.resource_path, "/items");
    assert!(echo.header("x-amz-cf-id").is_some());

    // A base path that is not mapped.
    let url = format!("http://{CUSTOM_DOMAIN}/v2/items");
    let (status, _, body) = send_signed(&client, "GET", &url, b"").await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Missing Authentication Token"}"#);
}

#[tokio::test]
async fn custom_domain_direct_with_root_mapping() {
    let api_gateway = ApiGateway::builder()
        .rest_api(API_ID, &[STAGE])
        .custom_domain(CUSTOM_DOMAIN, &[("", API_ID, STAGE)])
        .start()
        .await;
    let client = client_for(&[(CUSTOM_DOMAIN, api_gateway.addr())]);
    let url = format!("http://{CUSTOM_DOMAIN}/items");
    let echo =
        Echo::from_response(send(&client, "GET", &url, &signed_now("GET", &url, b""), b"").await)
            .await;
    assert_eq!(echo.path, "/items");
    assert_eq!(echo.resource_path, "/items");
    assert_eq!(echo.stage, STAGE);
}

#[tokio::test]
async fn cloudfront_path_pattern_with_origin_path_keeps_the_pattern() {
    let api_gateway = ApiGateway::builder()
        .rest_api(API_ID, &[STAGE])
        .start()
        .await;
    let cloudfront = CloudFront::builder(CLOUDFRONT_DOMAIN)
        .alias(CLOUDFRONT_ALIAS)
        .origin(Origin::new("site", "site.example.com", api_gateway.addr()))
        .origin(Origin::new("api", EXECUTE_API_HOST, api_gateway.addr()).path("/prod"))
        .behavior(
            "/api/*",
            "api",
            OriginRequestPolicy::AllViewerExceptHostHeader,
        )
        .default_behavior("site", OriginRequestPolicy::LegacyNone)
        .start()
        .await;
    let client = client_for(&[(CLOUDFRONT_ALIAS, cloudfront.addr())]);
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/api/items");
    let sent_url = format!("http://{CLOUDFRONT_ALIAS}/api/items");
    let echo = Echo::from_response(
        send(
            &client,
            "GET",
            &sent_url,
            &signed_now("GET", &origin_url, b""),
            b"",
        )
        .await,
    )
    .await;
    assert_eq!(echo.path, "/prod/api/items");
    assert_eq!(echo.resource_path, "/api/items");
    let forwarded = cloudfront.forwarded();
    assert_eq!(forwarded[0].origin_id, "api");
    assert_eq!(forwarded[0].target, "/prod/api/items");

    // The default behavior goes to the other origin (which API Gateway does not know).
    let (status, _, body) = into_parts(
        send(
            &client,
            "GET",
            &format!("http://{CLOUDFRONT_ALIAS}/index.html"),
            &[],
            b"",
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(body, r#"{"message":"Forbidden"}"#);
    assert_eq!(cloudfront.forwarded()[1].host, "site.example.com");
}

#[tokio::test]
async fn cloudfront_post_with_body_is_forwarded_intact() {
    let topo = Topology::start().await;
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/items");
    let sent_url = format!("{}/items", topo.cloudfront_alias_base());
    let body = b"a=1&b=two";
    let mut headers = signed_now("POST", &origin_url, body);
    headers.push((
        "content-type".into(),
        "application/x-www-form-urlencoded".into(),
    ));
    let echo =
        Echo::from_response(send(&topo.client(), "POST", &sent_url, &headers, body).await).await;
    assert_eq!(echo.body_length, body.len() as u64);
    assert_eq!(echo.body_sha256, sha256_hex(body));
    assert_eq!(echo.header("content-length"), Some("9"));
}

#[tokio::test]
async fn cloudfront_refuses_get_with_body_itself() {
    let topo = Topology::start().await;
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/items");
    let sent_url = format!("{}/items", topo.cloudfront_alias_base());
    let body = b"{\"not\":\"allowed\"}";
    let (status, headers, text) = into_parts(
        send(
            &topo.client(),
            "GET",
            &sent_url,
            &signed_now("GET", &origin_url, body),
            body,
        )
        .await,
    )
    .await;
    assert_eq!(status, 403);
    assert!(
        text.contains("ERROR: The request could not be satisfied"),
        "{text}"
    );
    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
    assert_eq!(headers["x-cache"], "Error from cloudfront");
    assert!(topo.api_gateway.received().is_empty());
    assert!(topo.cloudfront.forwarded().is_empty());
    assert_eq!(topo.cloudfront.exchanges()[0].status, 403);
}

#[tokio::test]
async fn cloudfront_refuses_unknown_host() {
    let topo = Topology::start().await;
    let client = client_for(&[("unknown.example.com", topo.cloudfront.addr())]);
    let (status, _, text) =
        into_parts(send(&client, "GET", "http://unknown.example.com/items", &[], b"").await).await;
    assert_eq!(status, 403);
    assert!(text.contains("The request could not be satisfied"));
    assert!(topo.api_gateway.received().is_empty());
}

#[tokio::test]
async fn deny_rule_answers_with_capital_message() {
    let topo = Topology::start_with(
        ApiGateway::builder().deny(DenyRule::new("DELETE", "/admin/*")),
        OriginRequestPolicy::AllViewerExceptHostHeader,
    )
    .await;
    let url = format!("{}/prod/admin/users", topo.execute_api_base());
    let (status, headers, body) = send_signed(&topo.client(), "DELETE", &url, b"").await;
    assert_eq!(status, 403);
    assert_eq!(headers["x-amzn-errortype"], "AccessDeniedException");
    let (key, message) = error_body(&body);
    assert_eq!(key, "Message");
    assert!(message.starts_with("User: arn:aws:sts::123456789012:assumed-role/example/session is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********0123:abc123/prod/DELETE/admin/users"), "{message}");

    // Same path, other method: allowed.
    let echo = Echo::from_response(
        send(
            &topo.client(),
            "GET",
            &url,
            &signed_now("GET", &url, b""),
            b"",
        )
        .await,
    )
    .await;
    assert_eq!(echo.resource_path, "/admin/users");
}

#[tokio::test]
async fn stand_ins_stop_when_dropped() {
    let topo = Topology::start().await;
    let addr = topo.api_gateway.addr();
    drop(topo);
    // Give the runtime a moment to run the aborts; bounded.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "API Gateway still listening on {addr}");
}

#[tokio::test]
async fn cloudfront_drops_hop_by_hop_headers_and_appends_x_forwarded_for() {
    let topo = Topology::start().await;
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/items");
    let sent_url = format!("{}/items", topo.cloudfront_alias_base());
    let mut headers = signed_now("GET", &origin_url, b"");
    headers.push(("connection".into(), "keep-alive, x-drop-me".into()));
    headers.push(("x-drop-me".into(), "1".into()));
    headers.push(("keep-alive".into(), "timeout=5".into()));
    headers.push(("x-forwarded-for".into(), "203.0.113.9".into()));
    headers.push(("x-custom".into(), "kept".into()));
    let echo =
        Echo::from_response(send(&topo.client(), "GET", &sent_url, &headers, b"").await).await;
    assert_eq!(echo.header("x-drop-me"), None);
    assert_eq!(echo.header("keep-alive"), None);
    assert_eq!(echo.header("x-custom"), Some("kept"));
    assert_eq!(
        echo.header("x-forwarded-for"),
        Some("203.0.113.9, 127.0.0.1")
    );
    let forwarded = &topo.cloudfront.forwarded()[0];
    assert_eq!(forwarded.header("connection"), None);
    assert_eq!(forwarded.header("x-drop-me"), None);
}

#[tokio::test]
async fn cloudfront_forwards_a_chunked_body_with_a_content_length() {
    let topo = Topology::start().await;
    let origin_url = format!("http://{EXECUTE_API_HOST}/prod/upload");
    let sent_url = format!("{}/upload", topo.cloudfront_alias_base());
    let body = b"first chunk|second chunk".to_vec();
    let headers = signed_now("PUT", &origin_url, &body);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        vec![Ok(body[..12].to_vec()), Ok(body[12..].to_vec())];
    let mut req = topo
        .client()
        .put(&sent_url)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)));
    for (n, v) in &headers {
        req = req.header(n.as_str(), v.as_str());
    }
    let echo = Echo::from_response(req.send().await.unwrap()).await;
    assert_eq!(echo.body_sha256, sha256_hex(&body));
    assert_eq!(echo.header("transfer-encoding"), None);
    assert_eq!(echo.header("content-length"), Some("24"));
    assert_eq!(
        topo.cloudfront.exchanges()[0]
            .viewer_headers
            .iter()
            .find(|(n, _)| n == "transfer-encoding")
            .map(|(_, v)| v.as_str()),
        Some("chunked")
    );
}
