//! `retry_stack`: the whole client stack of a service: tracing, retries, the signer, and a
//! reqwest client with its redirects off. One signed GET, logged.
//!
//! ```text
//! cargo run --example retry_stack -- URL
//! RUST_LOG=debug cargo run --example retry_stack -- https://abc123.execute-api.us-east-1.amazonaws.com/prod/items
//! ```
//!
//! The stack, outermost first:
//!
//! 1. A `tracing` span around each call (and a `tracing-subscriber` printing the events):
//!    it covers every attempt, so the signer's events (a credentials refresh, a 403's
//!    explanation) and reqwest-retry's (a retry and its wait) show up under the call.
//! 2. reqwest-retry's `RetryTransientMiddleware` with `SigV4RetryableStrategy` (feature
//!    `retry`): it retries what reqwest-retry retries (timeouts, connection errors, 5xx,
//!    429) and the signer's transient errors too (a credentials provider that timed out or
//!    failed), which reqwest-retry alone would take for fatal.
//! 3. The signer, last: each attempt passes through it and is signed afresh (a new
//!    `X-Amz-Date`, current credentials).
//! 4. reqwest's client with redirects off: the middleware follows redirects itself and
//!    signs each hop for its own URL.
//!
//! The route is the URL's origin, signed for the service and region read from its host (API
//! Gateway, a Lambda function URL, any `{service}.{region}.amazonaws.com`); for a custom
//! domain, set `AWS_REGION` (the service is then `execute-api`). Credentials come from
//! aws-config's default chain. `RUST_LOG` picks what is printed (default: `info`, and
//! `debug` for this crate). In a crate of your own: the README's install snippet (with
//! the `retry` feature and `reqwest-retry`), plus `tracing` and `tracing-subscriber` (its
//! `env-filter` feature).

use std::process::ExitCode;
use std::time::Duration;

use reqwest::Url;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_retry::policies::ExponentialBackoff;
use reqwest_retry::{RetryError, RetryTransientMiddleware};
use reqwest_sigv4::{Explanation, Route, SigV4Middleware, SigV4RetryableStrategy};
use tracing::Instrument;
use tracing_subscriber::EnvFilter;

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,reqwest_sigv4=debug")),
        )
        .init();
    let Some(url) = std::env::args().nth(1) else {
        eprintln!(
            "usage: cargo run --example retry_stack -- URL\n\
             e.g. https://abc123.execute-api.us-east-1.amazonaws.com/prod/items\n\
             (credentials from the default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, ...)"
        );
        return ExitCode::from(2);
    };
    match run(&url).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("retry_stack: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The stack, built once per service and shared: it holds the credentials cache and the
/// connections.
fn client(origin: &str) -> Result<ClientWithMiddleware, BoxError> {
    let signer = SigV4Middleware::builder()
        .route(Route::direct(origin))
        .build()?;
    let http = reqwest::Client::builder()
        // The middleware follows redirects and signs each hop; reqwest would carry the
        // session token and the date to another host.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    Ok(reqwest_middleware::ClientBuilder::new(http)
        .with(RetryTransientMiddleware::new_with_policy_and_strategy(
            ExponentialBackoff::builder().build_with_max_retries(3),
            SigV4RetryableStrategy::default(),
        ))
        .with(signer)
        .build())
}

async fn run(url: &str) -> Result<bool, BoxError> {
    let url = Url::parse(url)?;
    let client = client(&url.origin().ascii_serialization())?;

    // The span names the call by its path: a query may carry what should not be logged.
    let span = tracing::info_span!("call", method = "GET", path = url.path());
    let sent = client.get(url.clone()).send().instrument(span).await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => {
            // The signer's error, if it is one, under reqwest-retry's wrapper.
            return Err(match sigv4_error(&err) {
                Some(e) => format!("not sent ({:?}): {e}", e.kind()),
                None => format!("failed: {}", with_sources(&err)),
            }
            .into());
        }
    };
    let status = response.status();
    println!("{status}");
    if let Some(explanation) = response.extensions().get::<Explanation>() {
        // Logged at WARN by the signer too; here for the program's own output.
        println!("{explanation}");
    }
    println!("{}", response.text().await?);
    Ok(status.is_success())
}

/// The crate's error inside reqwest-retry's `RetryError`, or directly in the middleware
/// error.
fn sigv4_error(err: &reqwest_middleware::Error) -> Option<&reqwest_sigv4::Error> {
    if let reqwest_middleware::Error::Middleware(inner) = err {
        if let Some(RetryError::Error(e) | RetryError::WithRetries { err: e, .. }) =
            inner.downcast_ref::<RetryError>()
        {
            return reqwest_sigv4::Error::from_middleware(e);
        }
    }
    reqwest_sigv4::Error::from_middleware(err)
}

/// An error and its sources, one after the other: reqwest-retry's error says how many
/// retries failed, its source why.
fn with_sources(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
