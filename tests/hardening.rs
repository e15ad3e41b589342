//! Production hardening (issue 4): credentials under load and failure, clock skew, retry
//! composition, redirects, limits and bad input. Each test states the behaviour it pins;
//! every signature that reaches a server is checked with the crate's independent verifier.

mod support;

use support::credentials::{
    access_key_of, burst, canned_client, eventually, rotating_signer, Canned, Rotating, TestClock,
    LOAD_BASE, MODE_BAD_TOKEN, MODE_EMPTY, MODE_FAIL, MODE_HANG, PROVIDER_MESSAGE,
};
use support::signing::ok_server;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::HeaderValue;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_sigv4::canonical::parse_amz_date;
use reqwest_sigv4::{
    Cause, Clock, ConfigError, CrossRouteRedirect, Error, Explanation, RedirectPolicy, Route,
    SigV4Middleware, SignedHeaders,
};
use sha2::{Digest, Sha256};
use support::signing::{assert_every_request_signed, assert_tamper_rejected, verifier};
use support::{
    client_builder_for, client_for, example_credentials, example_session_credentials, ApiGateway,
    Echo, Verdict, API_ID, EXAMPLE_SECRET_KEY, EXECUTE_API_HOST, REGION, STAGE,
};
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// ---------------------------------------------------------------------------------------
// Shared pieces: a clock that steps by itself (the clock the test moves by hand, the
// scriptable credentials provider and the in-stack responder are in support::credentials).
// ---------------------------------------------------------------------------------------
/// A clock that moves one second forward every time it is read.
#[derive(Clone, Debug)]
struct SteppingClock {
    start: SystemTime,
    reads: Arc<AtomicU64>,
}

impl SteppingClock {
    fn new() -> Self {
        Self {
            start: SystemTime::now(),
            reads: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> SystemTime {
        self.start + Duration::from_secs(self.reads.fetch_add(1, Ordering::SeqCst))
    }
}

// ---------------------------------------------------------------------------------------
// 1. Credentials under load and under failure
// ---------------------------------------------------------------------------------------

/// 3 × 1,000 concurrent requests: cold start, inside the refresh window, and past the
/// expiry of everything cached. Zero failures; exactly one provider call per refresh (3);
/// every request verifies and was signed with credentials still valid at its `X-Amz-Date`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_requests_across_expiry_one_provider_call_per_refresh() {
    let clock = TestClock::starting_now();
    let lifetime = Duration::from_secs(15 * 60);
    let provider = Rotating::new(clock.clone(), lifetime);
    let canned = Canned::default();
    let client = canned_client(rotating_signer(&provider, &clock), &canned);
    let t0 = clock.now();

    // Cold: 1,000 requests find nothing cached and share one provider call.
    assert_eq!(burst(&client, 1000).await, Vec::<String>::new());
    assert_eq!(provider.calls(), 1, "cold start");

    // One minute before expiry (inside the 5-minute refresh window): every request is
    // served from the cache while one background refresh runs.
    clock.set(t0 + lifetime - Duration::from_secs(60));
    assert_eq!(burst(&client, 1000).await, Vec::<String>::new());
    assert!(
        eventually(|| provider.calls() >= 2).await,
        "no refresh ahead"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(provider.calls(), 2, "refresh ahead of expiry");

    // Past the expiry of the refreshed credentials too: one inline refresh for 1,000.
    clock.set(t0 + 2 * lifetime + Duration::from_secs(60));
    assert_eq!(burst(&client, 1000).await, Vec::<String>::new());
    assert_eq!(provider.calls(), 3, "refresh after expiry");

    let received = canned.received();
    assert_eq!(received.len(), 3000);
    let issued = provider.issued();
    let verifier = provider.verifier();
    for r in &received {
        let verified = verifier
            .verify(r)
            .unwrap_or_else(|e| panic!("{} refused:\n{e}", r.target()));
        assert_eq!(verified.session_token_signed, Some(true));
        let creds = issued
            .iter()
            .find(|c| c.access_key_id() == verified.access_key_id)
            .expect("issued credentials");
        let signed_at = parse_amz_date(&verified.amz_date).expect("X-Amz-Date");
        assert!(
            signed_at < creds.expiry().expect("expiring credentials"),
            "{} signed at {} with credentials expired by then",
            r.target(),
            verified.amz_date
        );
    }
    // The last burst used only the credentials of the third call.
    assert!(received[2000..]
        .iter()
        .all(|r| access_key_of(r) == "ASIAROTATING0002"));
}

/// A provider that fails while cached credentials are still valid fails no request (one
/// background attempt, then a quiet period); once nothing valid is left the request fails
/// with `CredentialsUnavailable` carrying the provider's message, and nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_provider_is_harmless_while_cached_credentials_are_valid() {
    let clock = TestClock::starting_now();
    let lifetime = Duration::from_secs(15 * 60);
    let provider = Rotating::new(clock.clone(), lifetime);
    let canned = Canned::default();
    let client = canned_client(rotating_signer(&provider, &clock), &canned);
    let t0 = clock.now();
    assert!(burst(&client, 1).await.is_empty());

    provider.set_mode(MODE_FAIL);
    clock.set(t0 + lifetime - Duration::from_secs(60));
    assert_eq!(burst(&client, 200).await, Vec::<String>::new());
    assert!(eventually(|| provider.calls() >= 2).await);
    assert_eq!(burst(&client, 200).await, Vec::<String>::new());
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(
        provider.calls(),
        2,
        "one failed background refresh, then quiet"
    );
    assert!(canned
        .received()
        .iter()
        .all(|r| access_key_of(r) == "ASIAROTATING0000"));

    // Five seconds before expiry: inside the margin, so nothing usable is cached.
    clock.set(t0 + lifetime - Duration::from_secs(5));
    let before = canned.count();
    let err = client
        .get(format!("{LOAD_BASE}/prod/late"))
        .send()
        .await
        .unwrap_err();
    match Error::from_middleware(&err) {
        Some(Error::CredentialsUnavailable { message }) => {
            assert!(message.contains(PROVIDER_MESSAGE), "{message}")
        }
        other => panic!("expected CredentialsUnavailable, got {other:?} ({err})"),
    }
    assert!(err.to_string().contains(PROVIDER_MESSAGE), "{err}");
    assert_eq!(canned.count(), before, "nothing may be sent");
}

/// With nothing cached, a failing provider gives `CredentialsUnavailable` with its message:
/// to one request, and to 50 concurrent ones with a single provider call between them
/// (waiters share the failure instead of calling the provider one after another).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_provider_with_nothing_cached_is_a_typed_error() {
    let clock = TestClock::starting_now();
    let provider = Rotating::new(clock.clone(), Duration::from_secs(3600));
    provider.set_mode(MODE_FAIL);
    let canned = Canned::default();
    let client = canned_client(rotating_signer(&provider, &clock), &canned);
    let err = client
        .get(format!("{LOAD_BASE}/prod/x"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(Error::from_middleware(&err),
            Some(Error::CredentialsUnavailable { message }) if message.contains(PROVIDER_MESSAGE)),
        "{err:?}"
    );

    let calls_before = provider.calls();
    let failures = burst(&client, 50).await;
    assert_eq!(failures.len(), 50);
    assert!(
        failures.iter().all(|f| f.contains(PROVIDER_MESSAGE)),
        "{failures:?}"
    );
    assert!(
        provider.calls() - calls_before <= 2,
        "{} provider calls for 50 concurrent requests",
        provider.calls() - calls_before
    );
    assert_eq!(canned.count(), 0, "nothing may be sent");
}

/// A provider that never answers is bounded by `credentials_timeout`: a lone request and
/// 20 concurrent ones all fail with `CredentialsTimeout` within about one timeout (not one
/// timeout per waiting request, as before the fix in `CredentialsCache::refresh_now`), and
/// nothing is sent. While valid credentials are cached, a
/// hanging background refresh delays no request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hanging_provider_is_bounded_by_credentials_timeout() {
    let timeout = Duration::from_millis(250);
    let clock = TestClock::starting_now();
    let lifetime = Duration::from_secs(15 * 60);
    let provider = Rotating::new(clock.clone(), lifetime);
    let canned = Canned::default();
    let signer = SigV4Middleware::builder()
        .route(Route::direct(LOAD_BASE))
        .credentials_provider(provider.clone())
        .clock(clock.clone())
        .credentials_timeout(timeout)
        .build()
        .unwrap();
    let client = canned_client(signer, &canned);
    let t0 = clock.now();
    assert!(burst(&client, 1).await.is_empty());

    // Cached and valid, refresh hangs in the background: requests do not wait for it (a
    // request that did would fail with a timeout).
    provider.set_mode(MODE_HANG);
    clock.set(t0 + lifetime - Duration::from_secs(60));
    assert_eq!(burst(&client, 100).await, Vec::<String>::new());
    assert_eq!(canned.count(), 101);

    // Nothing valid left: every request fails with the timeout, all within about one.
    clock.set(t0 + lifetime + Duration::from_secs(1));
    tokio::time::sleep(timeout).await; // let the hung background refresh time out
    let started = Instant::now();
    let err = client
        .get(format!("{LOAD_BASE}/prod/x"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(Error::from_middleware(&err), Some(Error::CredentialsTimeout(d)) if *d == timeout),
        "{err:?}"
    );
    assert!(started.elapsed() < timeout * 4, "{:?}", started.elapsed());
    assert!(err.to_string().contains("250ms"), "{err}");

    let started = Instant::now();
    let failures = burst(&client, 20).await;
    let elapsed = started.elapsed();
    assert_eq!(failures.len(), 20);
    assert!(
        failures.iter().all(|f| f.contains("did not answer within")),
        "{failures:?}"
    );
    // One provider call (one timeout) for all of them; one call per waiting request would
    // take 20 timeouts.
    assert!(
        elapsed < timeout * 6,
        "20 concurrent requests took {elapsed:?} with a {timeout:?} provider timeout"
    );
    assert_eq!(canned.count(), 101, "nothing may be sent");
}

/// Empty keys: at build for static credentials, per request for a provider; never sent.
#[tokio::test]
async fn empty_credentials_are_refused_and_nothing_is_sent() {
    for creds in [
        Credentials::new("", EXAMPLE_SECRET_KEY, None, None, "t"),
        Credentials::new("AKIDEXAMPLE", "", None, None, "t"),
    ] {
        let err = SigV4Middleware::builder()
            .route(Route::direct(LOAD_BASE))
            .static_credentials(creds)
            .build()
            .unwrap_err();
        assert!(matches!(err, ConfigError::EmptyCredentials), "{err:?}");
        assert!(err.to_string().contains("empty"), "{err}");
    }

    let clock = TestClock::starting_now();
    let provider = Rotating::new(clock.clone(), Duration::from_secs(3600));
    provider.set_mode(MODE_EMPTY);
    let canned = Canned::default();
    let client = canned_client(rotating_signer(&provider, &clock), &canned);
    let err = client
        .get(format!("{LOAD_BASE}/prod/x"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(Error::from_middleware(&err), Some(Error::EmptyCredentials)),
        "{err:?}"
    );
    assert_eq!(canned.count(), 0);
}

/// A session token that cannot travel as a header value is a typed error that does not
/// quote the token; nothing is sent.
#[tokio::test]
async fn session_token_that_is_not_a_header_value_is_a_typed_error() {
    let clock = TestClock::starting_now();
    let provider = Rotating::new(clock.clone(), Duration::from_secs(3600));
    provider.set_mode(MODE_BAD_TOKEN);
    let canned = Canned::default();
    let client = canned_client(rotating_signer(&provider, &clock), &canned);
    let err = client
        .get(format!("{LOAD_BASE}/prod/x"))
        .send()
        .await
        .unwrap_err();
    assert!(Error::from_middleware(&err).is_some(), "{err:?}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains("SECRETPART"), "{shown}");
    }
    assert_eq!(canned.count(), 0);
}

/// `credentials_refresh_ahead` accepts any `Duration`; a huge one is capped at half the
/// credentials' lifetime, never a panic on the request path.
#[tokio::test]
async fn huge_refresh_ahead_does_not_panic() {
    let clock = TestClock::starting_now();
    let provider = Rotating::new(clock.clone(), Duration::from_secs(3600));
    let canned = Canned::default();
    let signer = SigV4Middleware::builder()
        .route(Route::direct(LOAD_BASE))
        .credentials_provider(provider.clone())
        .clock(clock.clone())
        .credentials_refresh_ahead(Duration::MAX)
        .build()
        .unwrap();
    let client = canned_client(signer, &canned);
    for _ in 0..3 {
        let resp = client
            .get(format!("{LOAD_BASE}/prod/x"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(canned.count(), 3);
}

// ---------------------------------------------------------------------------------------
// 2. Clock skew, through the API Gateway stand-in
// ---------------------------------------------------------------------------------------

async fn skewed_gateway(offset_secs: i64) -> (ApiGateway, SigV4Middleware, ClientWithMiddleware) {
    let gateway = ApiGateway::builder()
        .rest_api(API_ID, &[STAGE])
        .clock_offset_secs(offset_secs)
        .start()
        .await;
    let signer = SigV4Middleware::builder()
        .route(Route::direct(format!("http://{EXECUTE_API_HOST}")))
        .static_credentials(example_session_credentials())
        .build()
        .unwrap();
    let client = ClientBuilder::new(client_for(&[(EXECUTE_API_HOST, gateway.addr())]))
        .with(signer.clone())
        .build();
    (gateway, signer, client)
}

fn gateway_url(path: &str) -> String {
    format!("http://{EXECUTE_API_HOST}/{STAGE}{path}")
}

fn rejection_message(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Rejected { message, .. } => message,
        Verdict::Accepted { .. } => panic!("expected a rejection, got {verdict:?}"),
    }
}

async fn assert_corrects_skew(offset_secs: i64, expected_message: &str) {
    let (gateway, signer, client) = skewed_gateway(offset_secs).await;
    let resp = client.get(gateway_url("/items")).send().await.unwrap();
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.resource_path, "/items");

    let received = gateway.received();
    assert_eq!(received.len(), 2, "one refusal, one retry");
    assert!(
        rejection_message(&received[0].verdict).starts_with(expected_message),
        "{:?}",
        received[0].verdict
    );
    assert!(received[1].accepted());
    let offset = signer.clock_offset_millis();
    assert!(
        (offset - offset_secs * 1000).abs() <= 2_000,
        "learned offset {offset} ms for a server {offset_secs} s off"
    );
    // The retry was dated by the server's clock.
    let retry_date = parse_amz_date(received[1].header("x-amz-date").unwrap()).unwrap();
    let server_now = gateway.now();
    let diff = match server_now.duration_since(retry_date) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    assert!(diff < Duration::from_secs(5), "{diff:?}");

    // Later requests are dated by the learned offset: accepted on the first try.
    let resp = client.get(gateway_url("/items/2")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let received = gateway.received();
    assert_eq!(received.len(), 3, "no second refusal");
    assert!(received[2].accepted());
}

#[tokio::test]
async fn server_ten_minutes_ahead_is_corrected_after_one_retry() {
    assert_corrects_skew(600, "Signature expired").await;
}

#[tokio::test]
async fn server_ten_minutes_behind_is_corrected_after_one_retry() {
    assert_corrects_skew(-600, "Signature not yet current").await;
}

/// An offset beyond reason (two days, over the one-day maximum) is not learned: the 403
/// comes back as API Gateway sent it, after exactly one request.
#[tokio::test]
async fn offset_beyond_a_day_returns_the_403_unchanged() {
    let (gateway, signer, client) = skewed_gateway(2 * 24 * 3600).await;
    let resp = client.get(gateway_url("/items")).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let explanation = resp.extensions().get::<Explanation>().cloned();
    let body = resp.text().await.unwrap();
    let received = gateway.received();
    assert_eq!(received.len(), 1, "no retry");
    let message = rejection_message(&received[0].verdict);
    assert!(message.starts_with("Signature expired"), "{message}");
    // Byte for byte what the stand-in sent.
    assert_eq!(body, serde_json::json!({ "message": message }).to_string());
    assert_eq!(signer.clock_offset_millis(), 0);
    assert!(
        matches!(
            explanation.as_ref().map(|e| &e.cause),
            Some(Cause::ClockSkew { .. })
        ),
        "{explanation:?}"
    );
}

/// A minimal HTTP/1.1 server that answers every request with `status` and `body`, and no
/// `Date` header (hyper, and so wiremock, always add one). Counts the requests.
async fn raw_server(status_line: &'static str, body: String) -> support::raw::RawServer {
    let response = format!(
        "HTTP/1.1 {status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    support::raw::serve(response.into_bytes(), support::raw::Then::Close).await
}

/// `Signature expired` without a `Date` header: no clock to learn, so no retry; the 403 is
/// returned intact after one request.
#[tokio::test]
async fn signature_expired_without_date_header_is_returned_unchanged() {
    let body = serde_json::json!({
        "message": "Signature expired: 20261122T120000Z is now earlier than 20261122T120600Z (20261122T121100Z - 5 min.)"
    })
    .to_string();
    let server = raw_server("403 Forbidden", body.clone()).await;
    let addr = server.addr;
    let signer = SigV4Middleware::builder()
        .route(Route::direct(format!("http://{addr}")))
        .region(REGION)
        .static_credentials(example_credentials())
        .build()
        .unwrap();
    let client = ClientBuilder::new(client_for(&[]))
        .with(signer.clone())
        .build();
    let resp = client
        .get(format!("http://{addr}/prod/items"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    assert!(resp.headers().get("date").is_none());
    assert_eq!(resp.text().await.unwrap(), body);
    assert_eq!(
        server.requests.load(Ordering::SeqCst),
        1,
        "no retry without a Date"
    );
    assert_eq!(signer.clock_offset_millis(), 0);
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

fn stream_of(data: &[u8], chunk: usize) -> reqwest::Body {
    let parts: Vec<Result<Bytes, std::io::Error>> = data
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    reqwest::Body::wrap_stream(futures::stream::iter(parts))
}

/// The clock-skew retry of a streaming body resends every byte: the stand-in verifies the
/// body hash of the retry and echoes its length and digest.
#[tokio::test]
async fn streaming_body_is_resent_intact_on_the_clock_retry() {
    let (gateway, _signer, client) = skewed_gateway(600).await;
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let resp = client
        .post(gateway_url("/upload"))
        .body(stream_of(&data, 7_000))
        .send()
        .await
        .unwrap();
    let echo = Echo::from_response(resp).await;
    assert_eq!(echo.body_length, data.len() as u64);
    assert_eq!(echo.body_sha256, sha256_hex(&data));
    let received = gateway.received();
    assert_eq!(received.len(), 2);
    assert!(!received[0].accepted() && received[1].accepted());
    for r in &received {
        assert_eq!(&r.body[..], &data[..]);
    }
}

// ---------------------------------------------------------------------------------------
// 3. Composition with reqwest-retry
// ---------------------------------------------------------------------------------------

fn retry_middleware(
) -> reqwest_retry::RetryTransientMiddleware<reqwest_retry::policies::ExponentialBackoff> {
    use reqwest_retry::policies::ExponentialBackoff;
    reqwest_retry::RetryTransientMiddleware::new_with_policy(
        ExponentialBackoff::builder()
            .retry_bounds(Duration::from_millis(1), Duration::from_millis(1))
            .build_with_max_retries(2),
    )
}

async fn flaky_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .with_priority(2)
        .mount(&server)
        .await;
    server
}

fn stepping_signer(server: &MockServer) -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(Route::direct(server.uri()))
        .region(REGION)
        .static_credentials(example_session_credentials())
        .clock(SteppingClock::new())
        .build()
        .unwrap()
}

/// Behind reqwest-retry, the crate's typed error is still reachable (through `RetryError`,
/// as `Error::from_middleware`'s docs show), and a fatal one is not retried.
#[tokio::test]
async fn typed_error_behind_reqwest_retry() {
    let server = ok_server().await;
    let signer = SigV4Middleware::builder()
        .route(Route::direct(server.uri()))
        .region(REGION)
        .static_credentials(example_session_credentials())
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(support::client_for(&[]))
        .with(retry_middleware())
        .with(signer)
        .build();
    let obs_text = reqwest::header::HeaderValue::from_bytes(b"caf\xe9").unwrap();
    let err = client
        .get(format!("{}/prod/items", server.uri()))
        .header("x-label", obs_text)
        .send()
        .await
        .unwrap_err();
    let inner = match &err {
        reqwest_middleware::Error::Middleware(inner) => inner,
        other => panic!("expected a middleware error, got {other:?}"),
    };
    let unwrapped = match inner.downcast_ref::<reqwest_retry::RetryError>() {
        Some(reqwest_retry::RetryError::Error(e))
        | Some(reqwest_retry::RetryError::WithRetries { err: e, .. }) => e,
        None => panic!("reqwest-retry wraps the error: {err:?}"),
    };
    assert!(matches!(
        Error::from_middleware(unwrapped),
        Some(Error::InvalidHeaderValue { name }) if name == "x-label"
    ));
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// Retry first, signer second (the README's order): every attempt is signed afresh, with a
/// later `X-Amz-Date` and its own valid signature.
#[tokio::test]
async fn retry_then_signer_signs_every_attempt_afresh() {
    let server = flaky_server().await;
    let client = ClientBuilder::new(client_builder_for(&[]).build().unwrap())
        .with(retry_middleware())
        .with(stepping_signer(&server))
        .build();
    let resp = client
        .post(format!("{}/prod/orders", server.uri()))
        .body(r#"{"qty":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 3, "two 503s, then 200");
    let dates: Vec<&str> = received
        .iter()
        .map(|r| r.request.header("x-amz-date").unwrap())
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] < w[1]),
        "X-Amz-Date must increase: {dates:?}"
    );
    let signatures: Vec<&str> = received
        .iter()
        .map(|r| r.request.header("authorization").unwrap())
        .collect();
    assert!(signatures[0] != signatures[1] && signatures[1] != signatures[2]);
    for r in &received {
        assert_eq!(&r.request.body()[..], br#"{"qty":1}"#);
        assert_tamper_rejected(&r.request, &verifier());
    }
}

/// The other order (signer first) replays one stale signature on every attempt: what the
/// README's advice avoids.
#[tokio::test]
async fn signer_then_retry_reuses_the_first_signature() {
    let server = flaky_server().await;
    let client = ClientBuilder::new(client_builder_for(&[]).build().unwrap())
        .with(stepping_signer(&server))
        .with(retry_middleware())
        .build();
    let resp = client
        .get(format!("{}/prod/orders", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = server.received_requests().await.unwrap();
    assert_eq!(received.len(), 3);
    let auth: Vec<_> = received
        .iter()
        .map(|r| r.headers.get("authorization").unwrap().clone())
        .collect();
    assert!(auth.iter().all(|a| *a == auth[0]));
}

// ---------------------------------------------------------------------------------------
// 4. Redirects
// ---------------------------------------------------------------------------------------

fn session_signer_for(server: &MockServer, policy: RedirectPolicy) -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(Route::direct(server.uri()))
        .region(REGION)
        .static_credentials(example_session_credentials())
        .redirects(policy)
        .build()
        .unwrap()
}

fn client_with(signer: SigV4Middleware) -> ClientWithMiddleware {
    ClientBuilder::new(client_builder_for(&[]).build().unwrap())
        .with(signer)
        .build()
}

fn redirect_to(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

const SIGNING_HEADERS: [&str; 4] = [
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Answers `verb at` on `server` with `response`.
async fn mount(server: &MockServer, verb: &str, at: &str, response: ResponseTemplate) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(response)
        .mount(server)
        .await;
}

/// A 307 within the route is followed and signed afresh for the new path; the streamed
/// POST body is replayed.
#[tokio::test]
async fn redirect_307_within_route_is_resigned_and_replays_the_body() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/prod/old",
        redirect_to(307, "/prod/new?moved=1"),
    )
    .await;
    mount(&server, "POST", "/prod/new", ResponseTemplate::new(201)).await;
    let client = client_with(session_signer_for(&server, RedirectPolicy::default()));
    let data: Vec<u8> = (0..20_000u32).map(|i| (i % 7) as u8 + b'a').collect();
    let resp = client
        .post(format!("{}/prod/old", server.uri()))
        .header("content-type", "application/octet-stream")
        .body(stream_of(&data, 3_000))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 2);
    let second = &received[1].request;
    assert_eq!(second.method(), "POST");
    assert_eq!(second.target(), "/prod/new?moved=1");
    assert_eq!(&second.body()[..], &data[..]);
    assert!(received[1]
        .verified
        .signed_headers
        .contains(&"content-type".to_owned()));
    assert_tamper_rejected(second, &verifier());
}

/// A 302 to a host no route names is followed without any signing header (and, for a POST,
/// as a GET without body).
#[tokio::test]
async fn redirect_to_another_host_carries_no_signing_header() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&elsewhere)
        .await;
    Mock::given(path("/prod/away"))
        .respond_with(redirect_to(
            302,
            &format!("{}/landing?x=1", elsewhere.uri()),
        ))
        .mount(&server)
        .await;
    let client = client_with(session_signer_for(&server, RedirectPolicy::default()));
    let resp = client
        .get(format!("{}/prod/away", server.uri()))
        .header("x-trace", "t1")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let resp = client
        .post(format!("{}/prod/away", server.uri()))
        .body("secret-ish payload")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    assert_eq!(
        assert_every_request_signed(&server, &verifier())
            .await
            .len(),
        2
    );
    let landed = elsewhere.received_requests().await.unwrap();
    assert_eq!(landed.len(), 2);
    for r in &landed {
        for name in SIGNING_HEADERS {
            assert!(
                !r.headers.contains_key(name),
                "{name} reached the other host"
            );
        }
        assert_eq!(r.url.path(), "/landing");
        assert_eq!(r.method.as_str(), "GET", "302 after POST becomes GET");
        assert!(r.body.is_empty());
    }
}

/// A redirect that leaves the routes is still the middleware's to follow: the other host's
/// own 302 back into a route is followed too, and that hop is signed again.
#[tokio::test]
async fn redirect_out_of_the_routes_and_back_is_followed_and_signed_again() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/prod/out"))
        .respond_with(redirect_to(302, &format!("{}/bounce", elsewhere.uri())))
        .mount(&server)
        .await;
    Mock::given(path("/bounce"))
        .respond_with(redirect_to(302, &format!("{}/prod/back", server.uri())))
        .mount(&elsewhere)
        .await;
    Mock::given(path("/prod/back"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = client_with(session_signer_for(&server, RedirectPolicy::default()));
    let resp = client
        .get(format!("{}/prod/out", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let signed = assert_every_request_signed(&server, &verifier()).await;
    let paths: Vec<&str> = signed.iter().map(|r| r.request.target()).collect();
    assert_eq!(paths, ["/prod/out", "/prod/back"]);
    let bounced = elsewhere.received_requests().await.unwrap();
    assert_eq!(bounced.len(), 1);
    for name in SIGNING_HEADERS {
        assert!(
            !bounced[0].headers.contains_key(name),
            "{name} reached the other host"
        );
    }
}

/// With `CrossRouteRedirect::Stop` the 3xx comes back to the caller and the other host is
/// never contacted.
#[tokio::test]
async fn cross_route_redirect_stop_returns_the_3xx() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    let location = format!("{}/landing", elsewhere.uri());
    Mock::given(any())
        .respond_with(redirect_to(302, &location))
        .mount(&server)
        .await;
    let policy = RedirectPolicy::default().cross_route(CrossRouteRedirect::Stop);
    let client = client_with(session_signer_for(&server, policy));
    let resp = client
        .get(format!("{}/prod/away", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], location.as_str());
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

/// A redirect loop stops after `max_redirects` (1 request + 3 redirects), every hop signed,
/// and the last 3xx is returned; `RedirectPolicy::none()` follows nothing.
#[tokio::test]
async fn redirect_loop_stops_at_max_redirects() {
    let server = MockServer::start().await;
    Mock::given(path("/prod/loop"))
        .respond_with(redirect_to(307, "/prod/loop"))
        .mount(&server)
        .await;
    let client = client_with(session_signer_for(&server, RedirectPolicy::limited(3)));
    let resp = client
        .get(format!("{}/prod/loop", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(
        assert_every_request_signed(&server, &verifier())
            .await
            .len(),
        4
    );

    let client = client_with(session_signer_for(&server, RedirectPolicy::none()));
    let resp = client
        .get(format!("{}/prod/loop", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 307);
    assert_eq!(server.received_requests().await.unwrap().len(), 5);
}

/// 303 after a POST: the next hop is a GET without body or body headers, signed validly.
#[tokio::test]
async fn redirect_303_turns_post_into_get_without_body() {
    let server = MockServer::start().await;
    mount(
        &server,
        "POST",
        "/prod/create",
        redirect_to(303, "/prod/result/1"),
    )
    .await;
    mount(&server, "GET", "/prod/result/1", ResponseTemplate::new(200)).await;
    let client = client_with(session_signer_for(&server, RedirectPolicy::default()));
    let resp = client
        .post(format!("{}/prod/create", server.uri()))
        .json(&serde_json::json!({"name": "widget"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 2);
    let get = &received[1];
    assert_eq!(get.request.method(), "GET");
    assert!(get.request.body().is_empty());
    assert!(get.request.header("content-type").is_none());
    assert!(!get
        .verified
        .signed_headers
        .contains(&"content-type".to_owned()));
    assert_eq!(
        get.verified.payload_hash,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

/// Cookies and proxy credentials go no further than their origin, as reqwest's own
/// redirects do: a hop on the same origin keeps them, a hop to another port of the same
/// host (another origin) carries neither.
#[tokio::test]
async fn redirect_keeps_cookies_on_the_same_origin_only() {
    let server = MockServer::start().await;
    let other_port = MockServer::start().await;
    mount(
        &server,
        "GET",
        "/prod/here",
        redirect_to(302, "/prod/there"),
    )
    .await;
    mount(
        &server,
        "GET",
        "/prod/there",
        redirect_to(302, &format!("{}/landing", other_port.uri())),
    )
    .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&other_port)
        .await;
    let client = client_with(session_signer_for(&server, RedirectPolicy::default()));
    let resp = client
        .get(format!("{}/prod/here", server.uri()))
        .header("cookie", "session=1")
        .header("proxy-authorization", "Basic cHJveHk6c2VjcmV0")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);

    let signed = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(signed.len(), 2);
    for hop in &signed {
        assert_eq!(
            hop.request.header("cookie"),
            Some("session=1"),
            "same origin"
        );
        assert!(hop.request.header("proxy-authorization").is_some());
    }
    let landed = other_port.received_requests().await.unwrap();
    assert_eq!(landed.len(), 1);
    assert_eq!(landed[0].url.path(), "/landing");
    for name in ["cookie", "proxy-authorization"] {
        assert!(
            !landed[0].headers.contains_key(name),
            "{name} reached another origin"
        );
    }
}

/// Locations that cannot be followed (another scheme, unparsable, not text) leave the 3xx
/// with the caller; nothing panics, nothing else is contacted.
#[tokio::test]
async fn unfollowable_locations_return_the_3xx() {
    let server = MockServer::start().await;
    Mock::given(path("/prod/file"))
        .respond_with(redirect_to(302, "file:///etc/passwd"))
        .mount(&server)
        .await;
    Mock::given(path("/prod/broken"))
        .respond_with(redirect_to(302, "http://[::1"))
        .mount(&server)
        .await;
    Mock::given(path("/prod/bytes"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", HeaderValue::from_bytes(b"/prod/\xff").unwrap()),
        )
        .mount(&server)
        .await;
    Mock::given(path("/prod/nolocation"))
        .respond_with(ResponseTemplate::new(301))
        .mount(&server)
        .await;
    let client = client_with(session_signer_for(&server, RedirectPolicy::default()));
    for (p, status) in [
        ("/prod/file", 302),
        ("/prod/broken", 302),
        ("/prod/bytes", 302),
        ("/prod/nolocation", 301),
    ] {
        let resp = client
            .get(format!("{}{p}", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{p}");
    }
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

// ---------------------------------------------------------------------------------------
// 5. Limits and bad input: typed errors, no panic, nothing sent
// ---------------------------------------------------------------------------------------

fn plain_signer(server: &MockServer) -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(Route::direct(server.uri()))
        .region(REGION)
        .static_credentials(example_credentials())
        .body_limit(1_000_000)
        .build()
        .unwrap()
}

/// A body that announces its exact size (10 MB) and records whether it was read.
struct AnnouncedBody {
    polled: Arc<AtomicBool>,
}

impl http_body::Body for AnnouncedBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        self.polled.store(true, Ordering::SeqCst);
        std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from(vec![
            0u8;
            64 * 1024
        ])))))
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(10_000_000)
    }
}

/// Over-limit bodies: one that announces its size is refused before a byte is read; a
/// stream that grows past the limit is refused when it does. Both `BodyTooLarge`, unsent.
#[tokio::test]
async fn over_limit_bodies_are_refused_before_sending() {
    let server = ok_server().await;
    let client = client_with(plain_signer(&server));
    let polled = Arc::new(AtomicBool::new(false));
    let err = client
        .put(format!("{}/prod/big", server.uri()))
        .body(reqwest::Body::wrap(AnnouncedBody {
            polled: polled.clone(),
        }))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            Error::from_middleware(&err),
            Some(Error::BodyTooLarge { limit: 1_000_000 })
        ),
        "{err:?}"
    );
    assert!(
        !polled.load(Ordering::SeqCst),
        "announced size alone must refuse"
    );

    let big = vec![b'x'; 1_000_001];
    let err = client
        .put(format!("{}/prod/big", server.uri()))
        .body(stream_of(&big, 100_000))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(
            Error::from_middleware(&err),
            Some(Error::BodyTooLarge { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("body_limit"), "{err}");
    // Exactly at the limit is fine.
    let resp = client
        .put(format!("{}/prod/big", server.uri()))
        .body(stream_of(&big[..1_000_000], 100_000))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// A stream that fails while being read is `BodyRead` with its cause; nothing is sent.
#[tokio::test]
async fn failing_stream_is_a_typed_error() {
    let server = ok_server().await;
    let client = client_with(plain_signer(&server));
    let parts: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"first chunk")),
        Err(std::io::Error::other("disk gone")),
    ];
    let err = client
        .post(format!("{}/prod/upload", server.uri()))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(parts)))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(Error::from_middleware(&err), Some(Error::BodyRead(_))),
        "{err:?}"
    );
    assert!(format!("{err:?}").contains("disk gone"), "{err:?}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// A signed header whose value has obs-text bytes (0x80+) cannot be signed: a typed error
/// naming the header, nothing sent. The same header on a route that does not sign it is
/// sent, and the signature is valid.
#[tokio::test]
async fn obs_text_header_value_is_a_typed_error_when_signed() {
    let server = ok_server().await;
    let client = client_with(plain_signer(&server));
    let value = HeaderValue::from_bytes(b"caf\xe9 au lait").unwrap();
    let err = client
        .get(format!("{}/prod/menu", server.uri()))
        .header("x-note", value.clone())
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(Error::from_middleware(&err), Some(Error::InvalidHeaderValue { name }) if name == "x-note"),
        "{err:?}"
    );
    assert!(err.to_string().contains("x-note"), "{err}");
    assert!(server.received_requests().await.unwrap().is_empty());

    let signer = SigV4Middleware::builder()
        .route(Route::direct(server.uri()).signed_headers(SignedHeaders::HostAndAmzOnly))
        .region(REGION)
        .static_credentials(example_credentials())
        .build()
        .unwrap();
    let resp = client_with(signer)
        .get(format!("{}/prod/menu", server.uri()))
        .header("x-note", value)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert!(!received[0]
        .verified
        .signed_headers
        .contains(&"x-note".to_owned()));
}

/// URLs without a host never match a route, so they are never signed: reqwest refuses
/// them, nothing panics, nothing reaches the server. Routes without a host are refused at
/// build.
#[tokio::test]
async fn urls_without_host_are_refused_unsigned() {
    let server = ok_server().await;
    let client = client_with(plain_signer(&server));
    for url in [
        "file:///etc/hosts",
        "data:text/plain,hello",
        "unix:/run/api.sock",
    ] {
        let err = client.get(url).send().await.unwrap_err();
        assert!(Error::from_middleware(&err).is_none(), "{url}: {err:?}");
    }
    assert!(server.received_requests().await.unwrap().is_empty());

    let build = |route: Route| {
        SigV4Middleware::builder()
            .route(route)
            .region(REGION)
            .static_credentials(example_credentials())
            .build()
            .unwrap_err()
    };
    assert!(matches!(
        build(Route::direct("http://")),
        ConfigError::InvalidUrl { .. }
    ));
    assert!(matches!(
        build(Route::direct("unix:/run/api.sock")),
        ConfigError::UnsupportedScheme { .. }
    ));
    assert!(matches!(
        build(Route::host_override("https://vpce.example.com", "")),
        ConfigError::EmptyHost { .. }
    ));
}
