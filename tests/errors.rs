//! The public error API (`Error::kind`, `ConfigError::kind`, sources kept) and the public
//! values it goes with (`SystemClock`), as a caller outside the crate sees them.

mod support;

use std::time::{Duration, SystemTime};

use reqwest_sigv4::{Clock, Route, SigV4Middleware, SystemClock};
use support::example_credentials;
use support::signing::{assert_every_request_signed, middleware_client, ok_server, verifier};

/// `SystemClock` is a value a caller can name (it was `#[non_exhaustive]`, which made the
/// unit struct unconstructible outside the crate), and a middleware given it signs with
/// the current time: the verifier, which checks the date against its own clock within API
/// Gateway's five minutes, accepts the request.
#[tokio::test]
async fn system_clock_is_a_value_callers_can_pass() {
    let server = ok_server().await;
    let signer = SigV4Middleware::builder()
        .route(Route::direct(server.uri()))
        .region(support::REGION)
        .static_credentials(example_credentials())
        .clock(SystemClock)
        .build()
        .expect("valid config");
    let response = middleware_client(signer)
        .get(format!("{}/prod/x", server.uri()))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 1);
    // And as a plain value, like any unit struct.
    let clocks: [&dyn Clock; 2] = [&SystemClock, &SystemClock::default()];
    let now = SystemTime::now();
    for clock in clocks {
        let skew = clock.now().duration_since(now).unwrap_or_default();
        assert!(
            skew < Duration::from_secs(60),
            "{clock:?} is {skew:?} ahead"
        );
    }
}
