//! The public error API (`Error::kind`, `ConfigError::kind`, sources kept) and the public
//! values it goes with (`SystemClock`), as a caller outside the crate sees them.

mod support;

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use reqwest_sigv4::aws::provider::error::CredentialsError;
use reqwest_sigv4::{
    Clock, ConfigError, Error, ErrorKind, Route, SigV4Middleware, SigV4MiddlewareBuilder,
    SigningOverride, SystemClock,
};
use support::credentials::Failing;
use support::example_credentials;
use support::signing::{assert_every_request_signed, middleware_client, ok_server, verifier};

/// A middleware for one direct route at `base`, signing for `region` with the example
/// credentials.
fn builder(base: &str, region: &str) -> SigV4MiddlewareBuilder {
    SigV4Middleware::builder()
        .route(Route::direct(base))
        .region(region)
        .static_credentials(example_credentials())
}

/// `SystemClock` is a value a caller can name (it was `#[non_exhaustive]`, which made the
/// unit struct unconstructible outside the crate), and a middleware given it signs with
/// the current time: the verifier, which checks the date against its own clock within API
/// Gateway's five minutes, accepts the request.
#[tokio::test]
async fn system_clock_is_a_value_callers_can_pass() {
    let server = ok_server().await;
    let signer = builder(&server.uri(), support::REGION)
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
    let clock: &dyn Clock = &SystemClock;
    let now = SystemTime::now();
    let skew = clock.now().duration_since(now).unwrap_or_default();
    assert!(
        skew < Duration::from_secs(60),
        "{clock:?} is {skew:?} ahead"
    );
}

/// A provider's own error type, which a caller may want to recognise.
#[derive(Debug, thiserror::Error)]
#[error("the SSO session has expired; run aws sso login")]
struct SsoExpired;

/// A failing provider's error stays reachable from what the client returns: its text is
/// the message, as before, and the error itself is in the source chain, where a caller can
/// downcast it (it used to end at the crate's error, the cause flattened to a string).
/// The error is of kind `Credentials`, and nothing is sent.
#[tokio::test]
async fn provider_error_is_kept_as_a_source() {
    let server = ok_server().await;
    let signer = builder(&server.uri(), support::REGION)
        .credentials_provider(Failing(|| CredentialsError::provider_error(SsoExpired)))
        .build()
        .expect("valid config");
    let err = middleware_client(signer)
        .get(format!("{}/prod/x", server.uri()))
        .send()
        .await
        .unwrap_err();
    let ours = Error::from_middleware(&err).expect("the crate's error");
    assert!(
        matches!(ours, Error::CredentialsUnavailable { message } if message.contains("run aws sso login")),
        "{ours:?}"
    );
    assert_eq!(ours.kind(), ErrorKind::Credentials);
    let mut chain = ours.source();
    let mut found = None;
    while let Some(e) = chain {
        if let Some(credentials_error) = e.downcast_ref::<CredentialsError>() {
            assert!(matches!(
                credentials_error,
                CredentialsError::ProviderError(_)
            ));
        }
        found = found.or(e.downcast_ref::<SsoExpired>());
        chain = e.source();
    }
    assert!(
        found.is_some(),
        "the provider's error is not in {ours:?}'s sources"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// The same mistake (a region that cannot be in a credential scope) reads the same and is of
/// the same kind whether `build()` finds it on the builder or a request's override does.
#[tokio::test]
async fn scope_mistake_is_one_error_at_build_and_per_request() {
    let server = ok_server().await;
    let at_build = builder(&server.uri(), "eu west/1").build().unwrap_err();
    assert!(matches!(
        at_build,
        ConfigError::InvalidScope { what: "region", .. }
    ));
    assert_eq!(at_build.kind(), ErrorKind::Configuration);

    let signer = builder(&server.uri(), support::REGION)
        .build()
        .expect("valid config");
    let err = middleware_client(signer)
        .get(format!("{}/prod/x", server.uri()))
        .with_extension(SigningOverride::new().region("eu west/1"))
        .send()
        .await
        .unwrap_err();
    let per_request = Error::from_middleware(&err).expect("the crate's error");
    assert!(matches!(
        per_request,
        Error::InvalidScope { what: "region", .. }
    ));
    assert_eq!(per_request.kind(), at_build.kind());
    assert_eq!(per_request.to_string(), at_build.to_string());
    assert!(server.received_requests().await.unwrap().is_empty());
}

/// Presigning with a validity past 7 days: `Error::InvalidExpiry`, of kind `Configuration`
/// like the same validity on a route at build time, with the same words.
#[tokio::test]
async fn expiry_mistake_is_one_error_at_build_and_per_request() {
    let eight_days = Duration::from_secs(8 * 24 * 3600);
    let base = "https://abc123.execute-api.us-east-1.amazonaws.com";
    let at_build = SigV4Middleware::builder()
        .route(Route::direct(base).sign_in_query(eight_days))
        .static_credentials(example_credentials())
        .build()
        .unwrap_err();
    assert!(matches!(at_build, ConfigError::InvalidExpiry { expires } if expires == eight_days));

    let signer = SigV4Middleware::builder()
        .route(Route::direct(base))
        .static_credentials(example_credentials())
        .build()
        .expect("valid config");
    let request = reqwest::Request::new(
        reqwest::Method::GET,
        format!("{base}/prod/x").parse().unwrap(),
    );
    let per_request = signer.presign(&request, eight_days).await.unwrap_err();
    assert!(matches!(per_request, Error::InvalidExpiry { expires } if expires == eight_days));
    assert_eq!(per_request.kind(), ErrorKind::Configuration);
    assert_eq!(per_request.kind(), at_build.kind());
    assert_eq!(per_request.to_string(), at_build.to_string());
}
