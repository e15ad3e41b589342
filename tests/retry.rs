//! `SigV4RetryableStrategy` in the stack the README shows: reqwest-retry above the signer, a
//! wiremock server that answers only requests the crate's independent verifier accepts. A
//! credentials provider that times out once is retried and the request succeeds; with
//! reqwest-retry's own strategy the same hiccup fails it; an error a retry cannot fix is not
//! retried; each attempt that reaches the server is signed afresh.

mod support;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{self, ProvideCredentials};
use aws_credential_types::Credentials;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_retry::{
    policies::ExponentialBackoff, DefaultRetryableStrategy, RetryError, RetryTransientMiddleware,
    RetryableStrategy,
};
use reqwest_sigv4::verify::{wiremock::SignedBy, ReceivedRequest, Verifier};
use reqwest_sigv4::{Clock, Error, Route, SigV4Middleware, SigV4RetryableStrategy};
use support::{example_session_credentials, REGION, SERVICE};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// How long the signer waits for the provider in these tests.
const PROVIDER_TIMEOUT: Duration = Duration::from_millis(200);

/// A credentials provider that counts its calls and answers the example session
/// credentials: its first `slow` calls take longer than [`PROVIDER_TIMEOUT`], and with
/// `empty` it answers credentials with empty keys (a mistake no retry fixes).
#[derive(Clone, Debug, Default)]
struct Provider {
    calls: Arc<AtomicUsize>,
    slow: usize,
    empty: bool,
}

impl Provider {
    fn slow_first(slow: usize) -> Self {
        Self {
            slow,
            ..Self::default()
        }
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl ProvideCredentials for Provider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        let (slow, empty) = (call < self.slow, self.empty);
        provider::future::ProvideCredentials::new(async move {
            if slow {
                tokio::time::sleep(PROVIDER_TIMEOUT * 10).await;
            }
            if empty {
                return Ok(Credentials::new("", "", None, None, "test"));
            }
            Ok(example_session_credentials())
        })
    }
}

/// A clock one second later at every reading, from the system's now: two signings never
/// share an `X-Amz-Date`, and every one stays within the verifier's skew.
#[derive(Debug)]
struct Ticking {
    start: SystemTime,
    ticks: AtomicU64,
}

impl Ticking {
    fn new() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        Self {
            start: UNIX_EPOCH + Duration::from_secs(secs),
            ticks: AtomicU64::new(0),
        }
    }
}

impl Clock for Ticking {
    fn now(&self) -> SystemTime {
        self.start + Duration::from_secs(self.ticks.fetch_add(1, Ordering::SeqCst))
    }
}

fn verifier() -> Verifier {
    Verifier::new(example_session_credentials())
        .service(SERVICE)
        .region(REGION)
}

/// A server that answers 200 to validly signed requests (and wiremock's 404 to others).
async fn server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(SignedBy::new(verifier()))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

fn signer(server: &MockServer, provider: &Provider) -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(Route::direct(server.uri()))
        .region(REGION)
        .credentials_provider(provider.clone())
        .credentials_timeout(PROVIDER_TIMEOUT)
        .build()
        .expect("valid config")
}

/// The README's stack: redirects off, reqwest-retry (two retries, quickly) with `strategy`,
/// then the signer.
fn client<R>(signer: SigV4Middleware, strategy: R) -> ClientWithMiddleware
where
    R: RetryableStrategy + Send + Sync + 'static,
{
    let policy = ExponentialBackoff::builder()
        .retry_bounds(Duration::from_millis(1), Duration::from_millis(10))
        .build_with_max_retries(2);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("reqwest client");
    ClientBuilder::new(http)
        .with(RetryTransientMiddleware::new_with_policy_and_strategy(
            policy, strategy,
        ))
        .with(signer)
        .build()
}

/// Every request the server received, as received, each checked by the verifier.
async fn received_and_verified(server: &MockServer) -> Vec<ReceivedRequest> {
    let received: Vec<ReceivedRequest> = server
        .received_requests()
        .await
        .expect("recording on")
        .iter()
        .map(ReceivedRequest::from_wiremock)
        .collect();
    for request in &received {
        verifier()
            .verify(request)
            .unwrap_or_else(|rejection| panic!("{} refused:\n{rejection}", request.target()));
    }
    received
}

/// The crate's error behind reqwest-retry's `RetryError`.
fn sigv4_error(err: &reqwest_middleware::Error) -> Option<&Error> {
    if let reqwest_middleware::Error::Middleware(inner) = err {
        if let Some(RetryError::Error(e) | RetryError::WithRetries { err: e, .. }) =
            inner.downcast_ref::<RetryError>()
        {
            return Error::from_middleware(e);
        }
    }
    Error::from_middleware(err)
}

#[tokio::test]
async fn a_provider_timeout_is_retried_and_the_retry_is_signed() {
    let server = server().await;
    let provider = Provider::slow_first(1);
    let client = client(
        signer(&server, &provider),
        SigV4RetryableStrategy::default(),
    );

    let response = client
        .get(format!("{}/prod/items", server.uri()))
        .send()
        .await
        .expect("retried past the provider's timeout");

    assert_eq!(response.status(), 200);
    // The first call timed out, the retry called again: nothing was sent until then.
    assert_eq!(provider.calls(), 2);
    assert_eq!(received_and_verified(&server).await.len(), 1);
}

#[tokio::test]
async fn without_the_strategy_a_provider_timeout_fails_the_request() {
    let server = server().await;
    let provider = Provider::slow_first(1);
    let client = client(signer(&server, &provider), DefaultRetryableStrategy);

    let err = client
        .get(format!("{}/prod/items", server.uri()))
        .send()
        .await
        .expect_err("reqwest-retry's own strategy does not retry middleware errors");

    assert!(
        matches!(sigv4_error(&err), Some(Error::CredentialsTimeout(t)) if *t == PROVIDER_TIMEOUT),
        "{err:?}"
    );
    assert_eq!(provider.calls(), 1);
    assert!(received_and_verified(&server).await.is_empty());
}

#[tokio::test]
async fn an_error_no_retry_fixes_is_not_retried() {
    let server = server().await;
    let provider = Provider {
        empty: true,
        ..Provider::default()
    };
    let client = client(
        signer(&server, &provider),
        SigV4RetryableStrategy::default(),
    );

    let err = client
        .get(format!("{}/prod/items", server.uri()))
        .send()
        .await
        .expect_err("empty credentials");

    assert!(
        matches!(sigv4_error(&err), Some(Error::EmptyCredentials)),
        "{err:?}"
    );
    // One attempt: a retry would have called the provider again.
    assert_eq!(provider.calls(), 1);
    assert!(received_and_verified(&server).await.is_empty());
}

#[tokio::test]
async fn each_attempt_that_reaches_the_server_is_signed_afresh() {
    let server = MockServer::start().await;
    // The first validly signed request gets a 503, which reqwest-retry's default retries.
    Mock::given(method("GET"))
        .and(SignedBy::new(verifier()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(SignedBy::new(verifier()))
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let provider = Provider::default();
    let signer = SigV4Middleware::builder()
        .route(Route::direct(server.uri()))
        .region(REGION)
        .credentials_provider(provider.clone())
        .clock(Ticking::new())
        .build()
        .expect("valid config");
    let client = client(signer, SigV4RetryableStrategy::default());

    let response = client
        .get(format!("{}/prod/items", server.uri()))
        .send()
        .await
        .expect("retried past the 503");

    assert_eq!(response.status(), 200);
    let received = received_and_verified(&server).await;
    assert_eq!(received.len(), 2);
    // Signed twice, not the first signed request sent again.
    let date = |r: &ReceivedRequest| r.header("x-amz-date").map(str::to_owned);
    assert_ne!(date(&received[0]), date(&received[1]));
    assert_ne!(
        received[0].header("authorization"),
        received[1].header("authorization")
    );
    // One provider call: the credentials are cached between attempts.
    assert_eq!(provider.calls(), 1);
}
