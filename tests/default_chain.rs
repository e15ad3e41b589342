//! The default credentials chain (issue 14 item 1), in its own test binary: it sets the
//! process's AWS environment. Middlewares whose routes name their region load credentials
//! only: no region lookup, so nothing asks IMDS (pointed at a dead loopback port here, so
//! nothing could leave the machine anyway).

mod support;

use reqwest_sigv4::{Route, SigV4Middleware, SigningOverride};
use support::logs::capture;
use support::signing::middleware_client;
use support::sts::{Refusal, TokenApi};
use support::{example_credentials, EXAMPLE_ACCESS_KEY, REGION, SERVICE};

/// Sets the environment once for the whole binary: its tests run on parallel threads.
fn aws_environment_without_region() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(set_aws_environment_without_region);
}

fn set_aws_environment_without_region() {
    support::credentials::set_isolated_aws_environment(None);
}

#[tokio::test(flavor = "current_thread")]
async fn routes_that_name_their_region_look_up_no_region() {
    aws_environment_without_region();
    let (captured, _guard) = capture();

    let apis = [
        TokenApi::start(vec![example_credentials()], Refusal::ApiGatewayExpired),
        TokenApi::start(vec![example_credentials()], Refusal::ApiGatewayExpired),
    ];
    // Two middlewares alive together, default chain, every route naming its region.
    let clients: Vec<_> = apis
        .iter()
        .map(|api| {
            middleware_client(
                SigV4Middleware::builder()
                    .route(Route::direct(api.url()).service(SERVICE).region(REGION))
                    .build()
                    .unwrap(),
            )
        })
        .collect();
    for (client, api) in clients.iter().zip(&apis) {
        let response = client.get(format!("{}/prod/x", api.url())).send().await;
        assert_eq!(response.unwrap().status(), 200);
        assert_eq!(api.received(), vec![(EXAMPLE_ACCESS_KEY.to_owned(), true)]);
    }
    let log = captured.text();
    for sign_of_a_region_lookup in ["failed to load region", "imds_load_region", "loaded region"] {
        assert!(
            !log.contains(sign_of_a_region_lookup),
            "{sign_of_a_region_lookup:?} in:\n{log}"
        );
    }
}

/// With no region configured anywhere, the default region chain runs once, for the
/// credentials chain and the requests' region alike (IMDS is a dead port: a request whose
/// region nothing names fails, typed).
#[tokio::test(flavor = "current_thread")]
async fn without_a_region_the_region_chain_runs_once() {
    aws_environment_without_region();
    let (captured, _guard) = capture();
    let api = TokenApi::start(vec![example_credentials()], Refusal::ApiGatewayExpired);
    let client = middleware_client(
        SigV4Middleware::builder()
            .route(Route::direct(api.url()).service(SERVICE))
            .build()
            .unwrap(),
    );
    let url = format!("{}/prod/x", api.url());
    // A request naming its region: the credentials chain is built (and looks one up).
    let response = client
        .get(&url)
        .with_extension(SigningOverride::new().region(REGION))
        .send()
        .await;
    assert_eq!(response.unwrap().status(), 200);
    // One naming none: the region the lookup found (none), not a second lookup.
    let err = client.get(&url).send().await.unwrap_err();
    assert!(
        matches!(
            reqwest_sigv4::Error::from_middleware(&err),
            Some(reqwest_sigv4::Error::MissingRegion { .. })
        ),
        "{err:?}"
    );
    let log = captured.text();
    assert_eq!(
        log.matches("failed to load region from IMDS").count(),
        1,
        "{log}"
    );
    assert_eq!(api.received().len(), 1);
}
