//! `demo`: every topology the crate supports, against in-process stand-ins of API Gateway
//! and CloudFront that verify each signature. No AWS credentials or network needed.
//!
//! ```text
//! cargo run --example demo
//! ```
//!
//! Prints one line per call: what was called, how it was signed, and the answer. Exits
//! non-zero if a call that should succeed did not.
//!
//! **The stand-ins are this repository's test fixtures** (`tests/support`, loaded below
//! with `#[path]`), not part of the crate's API: the stand-in servers, the loopback client
//! that reaches them and AWS's documentation example keys exist only here. What to copy
//! is the signer set-up in `client()` and the routes in `run()`: one `Route` per topology,
//! `SigV4Middleware::builder()`, and the middleware in a `reqwest_middleware` stack. In
//! your code, drop `.static_credentials(..)` (the default chain finds real credentials)
//! and build the reqwest client with its redirects off, as `SigV4Middleware::client()`
//! does. `s3.rs`, `presign.rs` and `retry_stack.rs` are complete programs against AWS.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;

use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::{Explanation, Route, SigV4Middleware, SignedRequest, SummaryPolicy};
use support::{
    example_session_credentials, Topology, CUSTOM_DOMAIN, EXECUTE_API_HOST, ORIGIN_PATH,
};

/// One call of the demo.
struct Call {
    topology: &'static str,
    client: ClientWithMiddleware,
    method: reqwest::Method,
    url: String,
    body: Option<&'static str>,
    expect_success: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("demo: {message}");
            ExitCode::FAILURE
        }
    }
}

fn client(http: reqwest::Client, route: Route) -> Result<ClientWithMiddleware, String> {
    let signer = SigV4Middleware::builder()
        .route(route)
        // AWS's documentation example keys: the stand-ins accept them, AWS does not.
        .static_credentials(example_session_credentials())
        // The demo shows what each request was signed as, successes too.
        .summaries(SummaryPolicy::Always)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(reqwest_middleware::ClientBuilder::new(http)
        .with(signer)
        .build())
}

async fn run() -> Result<bool, String> {
    // Default topology: API Gateway (abc123, stage prod, custom domain api.example.com/v1)
    // behind CloudFront (www.example.com, origin path /prod, AllViewerExceptHostHeader).
    let main = Topology::start().await;
    let http = main.client();
    let alias = main.cloudfront_alias_base();
    let origin = format!("https://{EXECUTE_API_HOST}{ORIGIN_PATH}");

    // A CloudFront distribution that forwards the viewer Host, in front of the custom domain.
    let (_custom_api, custom_cf) = support::custom_domain_behind_cloudfront().await;
    let vpce = "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com";

    let calls = vec![
        Call {
            topology: "direct",
            client: client(http.clone(), Route::direct(main.execute_api_base()))?,
            method: reqwest::Method::GET,
            url: format!("{}/prod/items?limit=2", main.execute_api_base()),
            body: None,
            expect_success: true,
        },
        Call {
            topology: "naive: sign for the alias",
            client: client(http.clone(), Route::direct(&alias).region("us-east-1"))?,
            method: reqwest::Method::GET,
            url: format!("{alias}/items?limit=2"),
            body: None,
            expect_success: false,
        },
        Call {
            topology: "cloudfront alias",
            client: client(http.clone(), Route::cloudfront(&alias, &origin))?,
            method: reqwest::Method::POST,
            url: format!("{alias}/items?limit=2"),
            body: Some(r#"{"name":"widget"}"#),
            expect_success: true,
        },
        Call {
            topology: "origin URL rewritten to alias",
            client: client(
                http.clone(),
                Route::cloudfront(&alias, &origin).rewrite_origin_urls(true),
            )?,
            method: reqwest::Method::GET,
            url: format!("{origin}/items/7"),
            body: None,
            expect_success: true,
        },
        Call {
            topology: "custom domain via cloudfront",
            client: client(
                support::client_for(&[(CUSTOM_DOMAIN, custom_cf.addr())]),
                Route::custom_domain(format!("http://{CUSTOM_DOMAIN}")).region("us-east-1"),
            )?,
            method: reqwest::Method::PUT,
            url: format!("http://{CUSTOM_DOMAIN}/v1/items/7"),
            body: Some(r#"{"name":"gadget"}"#),
            expect_success: true,
        },
        Call {
            topology: "host override (VPC endpoint)",
            client: client(
                support::client_for(&[(vpce, main.api_gateway.addr())]),
                Route::host_override(format!("http://{vpce}"), EXECUTE_API_HOST),
            )?,
            method: reqwest::Method::GET,
            url: format!("http://{vpce}/prod/items"),
            body: None,
            expect_success: true,
        },
    ];

    let mut all_as_expected = true;
    for call in calls {
        let mut request = call.client.request(call.method.clone(), &call.url);
        if let Some(body) = call.body {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{}: {e}", call.topology))?;
        let status = response.status();
        let signed = response
            .extensions()
            .get::<SignedRequest>()
            .map(|s| format!("signed for {}{}", s.host(), s.path_and_query()))
            .unwrap_or_else(|| "not signed".to_owned());
        let sent_to = if response.url().as_str() == call.url {
            String::new()
        } else {
            format!(", sent to {}", response.url())
        };
        let explanation = response
            .extensions()
            .get::<Explanation>()
            .map(|e| format!(" — {e}"))
            .unwrap_or_default();
        let ok = status.is_success() == call.expect_success;
        all_as_expected &= ok;
        println!(
            "{:<32} {} {} → {signed}{sent_to} → {}{explanation}{}",
            call.topology,
            call.method,
            call.url,
            status.as_u16(),
            if ok { "" } else { "  [UNEXPECTED]" },
        );
    }
    if all_as_expected {
        println!("all topologies behaved as expected");
    } else {
        println!("some calls did not behave as expected");
    }
    Ok(all_as_expected)
}
