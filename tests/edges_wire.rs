//! What goes on the wire: signing parameters a URL arrives with, bounded reading of 403
//! answers, clients that follow redirects themselves, and the per-host clock offset. Every
//! signature is checked by the crate's independent verifier on what the server received.

mod support;

use std::time::Duration;

use reqwest_sigv4::{Route, SigV4Middleware};
use support::example_session_credentials;
use support::raw::Then;
use support::signing::{assert_every_request_signed, middleware_client, ok_server, verifier};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Signing parameters of some earlier signature (a presigned URL sent again).
const STALE: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAOLD%2F20200101%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20200101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Security-Token=stale-token&X-Amz-Signature=0123456789abcdef";

/// A builder with session credentials for `route`.
fn builder(route: Route) -> reqwest_sigv4::SigV4MiddlewareBuilder {
    SigV4Middleware::builder()
        .route(route)
        .region("us-east-1")
        .static_credentials(example_session_credentials())
}

fn signer(route: Route) -> SigV4Middleware {
    builder(route).build().expect("valid config")
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
        .get(presigned.into_url())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for exchange in assert_every_request_signed(&server, &verifier()).await {
        assert_only_fresh_parameters(exchange.request.target(), &["limit=10"]);
    }
}

/// Two API Gateway stand-ins, `abc123` ten minutes ahead and `def456` on time, and one
/// signer with a route to each.
async fn two_gateways() -> (
    support::ApiGateway,
    support::ApiGateway,
    SigV4Middleware,
    reqwest_middleware::ClientWithMiddleware,
) {
    let skewed = support::ApiGateway::builder()
        .rest_api("abc123", &["prod"])
        .clock_offset_secs(600)
        .start()
        .await;
    let on_time = support::ApiGateway::builder()
        .rest_api("def456", &["prod"])
        .start()
        .await;
    let (a, b) = (
        skewed.execute_api_host("abc123"),
        on_time.execute_api_host("def456"),
    );
    let signer = SigV4Middleware::builder()
        .route(Route::direct(format!("http://{a}")))
        .route(Route::direct(format!("http://{b}")))
        .static_credentials(example_session_credentials())
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(support::client_for(&[
        (a.as_str(), skewed.addr()),
        (b.as_str(), on_time.addr()),
    ]))
    .with(signer.clone())
    .build();
    (skewed, on_time, signer, client)
}

fn assert_near(learned: Option<i64>, secs: i64) {
    let learned = learned.expect("an offset was learned");
    assert!(
        (learned - secs * 1000).abs() <= 2_000,
        "learned {learned} ms, expected about {secs} s"
    );
}

#[tokio::test]
async fn one_hosts_clock_offset_never_moves_another_hosts_signatures() {
    let (skewed, on_time, signer, client) = two_gateways().await;
    let (a, b) = (
        skewed.execute_api_host("abc123"),
        on_time.execute_api_host("def456"),
    );
    let get = |host: &str| client.get(format!("http://{host}/prod/items")).send();

    // The skewed host teaches its offset (one refusal, one retry).
    assert_eq!(get(&a).await.unwrap().status(), 200);
    assert_eq!(skewed.received().len(), 2);
    assert_near(signer.clock_offset_millis_for(&a), 600);
    assert_eq!(signer.clock_offset_millis_for(&b), None);

    // The on-time host is signed by our own clock: accepted on the first try.
    for _ in 0..2 {
        assert_eq!(get(&b).await.unwrap().status(), 200);
    }
    let received = on_time.received();
    assert_eq!(received.len(), 2, "no refusal from the on-time host");
    assert!(received.iter().all(|r| r.accepted()));

    // And the skewed host keeps its offset: accepted on the first try again.
    assert_eq!(get(&a).await.unwrap().status(), 200);
    assert_eq!(skewed.received().len(), 3);
    assert_near(signer.clock_offset_millis_for(&a), 600);
    assert_eq!(signer.clock_offset_millis_for(&b), None);
}

#[tokio::test]
async fn a_hosts_offset_is_replaced_by_later_evidence() {
    let (skewed, _on_time, signer, client) = two_gateways().await;
    let a = skewed.execute_api_host("abc123");
    let url = format!("http://{a}/prod/items");
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    assert_near(signer.clock_offset_millis_for(&a), 600);

    // Its clock jumps to fifteen minutes behind: one refusal teaches the new offset.
    skewed.set_clock_offset_secs(-900);
    skewed.clear_received();
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(skewed.received().len(), 2, "one refusal, one retry");
    assert_near(signer.clock_offset_millis_for(&a), -900);
    assert_near(Some(signer.clock_offset_millis()), -900);
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    assert_eq!(skewed.received().len(), 3, "dated by the new offset");
}

/// How long a stalling server stays silent.
const STALL: Duration = Duration::from_secs(20);
/// `send()` and each read must come back within this, well before the stall ends.
const PROMPTLY: Duration = Duration::from_secs(10);
/// The first bytes of a refusal whose rest never comes.
const PARTIAL: &[u8] = br#"{"message":"The request signature we calculated"#;

/// A raw server answering 403 with `error_type` and a body that starts with `now` (under a
/// `Content-Length` of 200, or none: then the body ends when the connection closes), then
/// doing `then`.
async fn refusing_server(
    error_type: &str,
    content_length: bool,
    now: &[u8],
    then: Then,
) -> support::raw::RawServer {
    let length = if content_length {
        "content-length: 200\r\n"
    } else {
        ""
    };
    let mut answer = format!(
        "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\nx-amzn-errortype: {error_type}\r\n{length}connection: close\r\n\r\n"
    )
    .into_bytes();
    answer.extend_from_slice(now);
    support::raw::serve(answer, then).await
}

/// `f`'s output, failing the test if it takes longer than [`PROMPTLY`].
async fn promptly<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(PROMPTLY, f)
        .await
        .unwrap_or_else(|_| panic!("{what} did not return before the server's stall ended"))
}

/// GET `/prod/x` on `server` through `signer`: send() must return promptly, with a 403.
async fn get_403(signer: SigV4Middleware, server: &support::raw::RawServer) -> reqwest::Response {
    let client = middleware_client(signer);
    let url = format!("{}/prod/x", server.url());
    let resp = promptly("send()", client.get(url).send()).await.unwrap();
    assert_eq!(resp.status(), 403);
    resp
}

/// The first chunk of `resp`'s body, which must come promptly.
async fn first_chunk(resp: &mut reqwest::Response) -> bytes::Bytes {
    promptly("the first chunk", resp.chunk())
        .await
        .unwrap()
        .expect("the bytes the server sent")
}

/// Every byte of `resp`'s body, and the error that ended it if one did.
async fn read_all(mut resp: reqwest::Response) -> (Vec<u8>, Option<reqwest::Error>) {
    let mut got = Vec::new();
    loop {
        match promptly("reading the body", resp.chunk()).await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => return (got, None),
            Err(e) => return (got, Some(e)),
        }
    }
}

/// A signer for `server` that waits at most `deadline` for a 403 body.
fn signer_with_deadline(base: &str, deadline: Duration) -> SigV4Middleware {
    builder(Route::direct(base))
        .inspect_403_deadline(deadline)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_403_whose_body_stalls_does_not_hold_up_send() {
    for content_length in [true, false] {
        let server = refusing_server(
            "InvalidSignatureException",
            content_length,
            PARTIAL,
            Then::Stall(STALL),
        )
        .await;
        let mut resp = get_403(signer(Route::direct(server.url())), &server).await;
        // The bytes that came are the caller's; the rest is theirs to wait for.
        let first = first_chunk(&mut resp).await;
        assert_eq!(&first[..], PARTIAL, "content-length: {content_length}");
    }
}

#[tokio::test]
async fn a_403_body_cut_short_reaches_the_caller_with_its_error() {
    let server = refusing_server("InvalidSignatureException", true, PARTIAL, Then::Close).await;
    let resp = get_403(signer(Route::direct(server.url())), &server).await;
    let (got, error) = read_all(resp).await;
    assert_eq!(got, PARTIAL);
    assert!(error.is_some(), "the cut is reported, not an empty Ok body");
}

#[tokio::test]
async fn a_403_body_over_the_cap_or_the_deadline_reaches_the_caller_whole() {
    let large: &'static [u8] = Box::leak(
        format!(
            r#"{{"message":"Missing Authentication Token","pad":"{}"}}"#,
            "x".repeat(100 * 1024)
        )
        .into_bytes()
        .into_boxed_slice(),
    );
    let cases = [
        // Beyond 64 KiB with no length announced: read up to the cap, the rest chained.
        (large, Then::Close),
        // A part now, the rest after the deadline.
        (
            &large[..1000],
            Then::Later(Duration::from_millis(600), &large[1000..]),
        ),
    ];
    for (now, then) in cases {
        let server = refusing_server("MissingAuthenticationTokenException", false, now, then).await;
        let signer = signer_with_deadline(&server.url(), Duration::from_millis(100));
        let (got, error) = read_all(get_403(signer, &server).await).await;
        assert!(error.is_none(), "{error:?}");
        assert!(
            got == large,
            "every byte, in order ({} of {})",
            got.len(),
            large.len()
        );
    }
}

#[tokio::test]
async fn a_403_to_a_request_no_route_matches_is_not_read() {
    let server = refusing_server(
        "MissingAuthenticationTokenException",
        true,
        PARTIAL,
        Then::Stall(STALL),
    )
    .await;
    // A deadline longer than the stall: reading the body at all would hold send() up.
    let signer = signer_with_deadline(
        "https://abc123.execute-api.us-east-1.amazonaws.com",
        Duration::from_secs(60),
    );
    let mut resp = get_403(signer, &server).await;
    // Explained from the head alone.
    let explanation = resp
        .extensions()
        .get::<reqwest_sigv4::Explanation>()
        .cloned()
        .expect("explained from x-amzn-ErrorType");
    assert_eq!(
        explanation.cause,
        reqwest_sigv4::Cause::MissingAuthenticationToken { signed: false }
    );
    assert_eq!(&first_chunk(&mut resp).await[..], PARTIAL);
}

/// `server` redirects `/prod/away` to `target` (another origin) and `/prod/here` to
/// `/prod/there` on itself; everything else is 200.
async fn redirecting_server(target: &MockServer) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/prod/away"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/landing", target.uri()).as_str()),
        )
        .mount(&server)
        .await;
    Mock::given(path("/prod/here"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/prod/there"))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_client_that_follows_redirects_itself_is_a_typed_error() {
    let target = ok_server().await;
    let server = redirecting_server(&target).await;
    // reqwest's default policy follows up to 10 redirects.
    let reqwest_client = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = reqwest_middleware::ClientBuilder::new(reqwest_client)
        .with(signer(Route::direct(server.uri())))
        .build();
    let err = client
        .get(format!("{}/prod/away", server.uri()))
        .send()
        .await
        .expect_err("not a silent success");
    match reqwest_sigv4::Error::from_middleware(&err) {
        Some(reqwest_sigv4::Error::ClientFollowedRedirect { from, to }) => {
            assert_eq!(from, &server.uri());
            assert_eq!(to, &target.uri());
        }
        other => panic!("{other:?} / {err}"),
    }
    let text = err.to_string();
    assert!(text.contains("Policy::none()"), "{text}");
    assert!(text.contains("SigV4Middleware::client"), "{text}");
    // Why it matters: reqwest stripped only Authorization on the way to the other host.
    let landed = target.received_requests().await.unwrap();
    assert!(landed[0].headers.contains_key("x-amz-security-token"));
}

/// A request rewritten to its CloudFront alias goes to another URL than the one the caller
/// wrote: a redirect the client below follows from there is caught all the same, whether it
/// leaves the alias or stays on it.
#[tokio::test]
async fn a_client_that_follows_redirects_from_a_rewritten_url_is_a_typed_error() {
    let target = ok_server().await;
    let alias = redirecting_server(&target).await;
    let origin = "https://abc123.execute-api.us-east-1.amazonaws.com";
    let reqwest_client = reqwest::Client::builder().no_proxy().build().unwrap();
    let client = reqwest_middleware::ClientBuilder::new(reqwest_client)
        .with(signer(
            Route::cloudfront(alias.uri(), origin).rewrite_origin_urls(true),
        ))
        .build();
    for (from_path, landed_at) in [("/prod/away", target.uri()), ("/prod/here", alias.uri())] {
        let err = client
            .get(format!("{origin}{from_path}"))
            .send()
            .await
            .expect_err("not a silent success");
        match reqwest_sigv4::Error::from_middleware(&err) {
            Some(reqwest_sigv4::Error::ClientFollowedRedirect { from, to }) => {
                assert_eq!(from, &alias.uri(), "{from_path}");
                assert_eq!(to, &landed_at, "{from_path}");
            }
            other => panic!("{from_path}: {other:?} / {err}"),
        }
    }
}

#[tokio::test]
async fn client_turns_redirects_off_so_the_middleware_signs_each_hop() {
    let target = ok_server().await;
    let server = redirecting_server(&target).await;
    // A builder that would follow redirects: client_with turns that off.
    let client = signer(Route::direct(server.uri()))
        .client_with(reqwest::Client::builder().no_proxy())
        .unwrap();
    for p in ["/prod/here", "/prod/away"] {
        let resp = client
            .get(format!("{}{p}", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{p}");
    }
    // On the route: both hops signed, each for its own URL.
    let received = assert_every_request_signed(&server, &verifier()).await;
    let targets: Vec<&str> = received.iter().map(|r| r.request.target()).collect();
    assert_eq!(targets, ["/prod/here", "/prod/there", "/prod/away"]);
    // Off the route: nothing that signs.
    let landed = target.received_requests().await.unwrap();
    assert_eq!(landed.len(), 1);
    for name in ["authorization", "x-amz-date", "x-amz-security-token"] {
        assert!(
            !landed[0].headers.contains_key(name),
            "{name} sent off the route"
        );
    }
}
