//! The AWS types the builder takes are reachable as `reqwest_sigv4::aws::*`: this file
//! names none of `aws-credential-types` / `aws-config` itself, like a user who added only
//! this crate.

mod support;

use reqwest_sigv4::aws::{self, ProvideCredentials};
use reqwest_sigv4::{Route, SigV4Middleware, SigV4MiddlewareBuilder};
use support::{Topology, EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY, STAGE};

fn credentials() -> aws::Credentials {
    aws::Credentials::new(
        EXAMPLE_ACCESS_KEY,
        EXAMPLE_SECRET_KEY,
        None,
        None,
        "reexports",
    )
}

/// A provider written against the re-exported trait and its future type.
#[derive(Debug)]
struct Fixed;

impl ProvideCredentials for Fixed {
    fn provide_credentials<'a>(&'a self) -> aws::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws::provider::future::ProvideCredentials::ready(Ok(credentials()))
    }
}

/// Signs one request with `builder` through the API Gateway stand-in, which verifies it.
async fn status_through_stand_in(builder: SigV4MiddlewareBuilder) -> u16 {
    let topology = Topology::start().await;
    let signer = builder
        .route(Route::direct(topology.execute_api_base()))
        .build()
        .unwrap();
    let client = reqwest_middleware::ClientBuilder::new(topology.client())
        .with(signer)
        .build();
    let url = format!("{}/{STAGE}/items", topology.execute_api_base());
    client.get(url).send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn static_credentials_from_the_reexport() {
    let builder = SigV4Middleware::builder().static_credentials(credentials());
    assert_eq!(status_through_stand_in(builder).await, 200);
}

#[tokio::test]
async fn provider_implemented_with_the_reexported_trait() {
    let builder = SigV4Middleware::builder().credentials_provider(Fixed);
    assert_eq!(status_through_stand_in(builder).await, 200);
}

#[tokio::test]
async fn sdk_config_built_from_the_reexports() {
    let config = aws::SdkConfig::builder()
        .behavior_version(aws::BehaviorVersion::latest())
        .credentials_provider(aws::SharedCredentialsProvider::new(Fixed))
        .region(aws::Region::new("us-east-1"))
        .build();
    let builder = SigV4Middleware::builder().sdk_config(&config);
    assert_eq!(status_through_stand_in(builder).await, 200);
}
