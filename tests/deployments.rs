//! Deployments with more than one set of credentials (issue 14 items 2 and 3): credentials
//! per route (a provider, an assumed role, a profile), and a session token the verifier
//! refuses after a rotation. Every stand-in is on loopback: an STS that checks the
//! `AssumeRole` call's signature with the crate's verifier, and an API that accepts a
//! changeable set of credentials.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::{AssumeRole, Cause, Explanation, Profile, Route, SigV4Middleware};
use support::signing::middleware_client;
use support::sts::{Refusal, Sts, TokenApi};
use support::{REGION, SERVICE};

/// Hands out a new set of session credentials per call (`ASIAGEN{n}`), like a provider
/// whose source rotated them; counts its calls.
#[derive(Debug, Clone, Default)]
struct Generations {
    calls: Arc<AtomicUsize>,
}

impl Generations {
    fn generation(n: usize) -> Credentials {
        Credentials::new(
            format!("ASIAGEN{n}"),
            format!("secret-of-generation-{n}"),
            Some(format!("token-of-generation-{n}")),
            None,
            "generations",
        )
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl ProvideCredentials for Generations {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        future::ProvideCredentials::ready(Ok(Self::generation(n)))
    }
}

fn route(api: &TokenApi) -> Route {
    Route::direct(api.url()).service(SERVICE).region(REGION)
}

fn key(c: &Credentials) -> String {
    c.access_key_id().to_owned()
}

// ---------------------------------------------------------------------------------------
// Item 3: a refused session token is reloaded once.

/// An API that accepts generation 0, and a client signing for it with [`Generations`].
fn rotating(refusal: Refusal) -> (Generations, TokenApi, ClientWithMiddleware) {
    let provider = Generations::default();
    let api = TokenApi::start(vec![Generations::generation(0)], refusal);
    let client = middleware_client(
        SigV4Middleware::builder()
            .route(route(&api))
            .credentials_provider(provider.clone())
            .build()
            .unwrap(),
    );
    (provider, api, client)
}

async fn rotation_is_reloaded_and_retried(refusal: Refusal) {
    let (provider, api, client) = rotating(refusal);
    let post = |body: &'static str| client.post(format!("{}/prod/orders", api.url())).body(body);
    assert_eq!(post("first").send().await.unwrap().status(), 200);
    // The source rotates: generation 0 is revoked, generation 1 is what it hands out now.
    api.accept_only(vec![Generations::generation(1)]);
    let response = post("second, replayed").send().await.unwrap();
    assert_eq!(response.status(), 200, "{refusal:?}");
    assert_eq!(provider.calls(), 2, "one reload");
    let expected = [("ASIAGEN0", true), ("ASIAGEN0", false), ("ASIAGEN1", true)];
    let received = api.received();
    assert_eq!(
        received
            .iter()
            .map(|(k, ok)| (k.as_str(), *ok))
            .collect::<Vec<_>>(),
        expected,
        "{refusal:?}"
    );
    // The reloaded credentials stay cached: no further provider call.
    assert_eq!(post("third").send().await.unwrap().status(), 200);
    assert_eq!(provider.calls(), 2);
}

#[tokio::test]
async fn an_expired_token_from_api_gateway_is_reloaded_and_the_request_retried_once() {
    rotation_is_reloaded_and_retried(Refusal::ApiGatewayExpired).await;
}

#[tokio::test]
async fn s3s_expired_token_code_is_reloaded_and_the_request_retried_once() {
    rotation_is_reloaded_and_retried(Refusal::S3ExpiredToken).await;
}

#[tokio::test]
async fn a_second_refusal_comes_back_explained_after_one_retry() {
    for refusal in [Refusal::ApiGatewayExpired, Refusal::S3ExpiredToken] {
        let (provider, api, client) = rotating(refusal);
        let url = format!("{}/prod/orders", api.url());
        assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
        // Everything revoked: the reloaded credentials are refused too.
        api.accept_only(Vec::new());
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 403);
        let explanation = response.extensions().get::<Explanation>().cloned();
        assert_eq!(
            explanation.map(|e| e.cause),
            Some(Cause::InvalidSecurityToken),
            "{refusal:?}"
        );
        assert_eq!(provider.calls(), 2, "reloaded once, not per attempt");
        assert_eq!(api.received().len(), 3, "one request, one retry");
    }
}

#[tokio::test]
async fn credentials_that_do_not_change_are_not_retried() {
    let api = TokenApi::start(Vec::new(), Refusal::ApiGatewayExpired);
    let client = middleware_client(
        SigV4Middleware::builder()
            .route(route(&api))
            .static_credentials(Generations::generation(7))
            .build()
            .unwrap(),
    );
    let response = client
        .get(format!("{}/prod/orders", api.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.extensions().get::<Explanation>().map(|e| &e.cause),
        Some(&Cause::InvalidSecurityToken)
    );
    // The same key would be refused again: sent once.
    assert_eq!(api.received().len(), 1);
}

// ---------------------------------------------------------------------------------------
// Item 2: credentials per route.

fn account(n: u8) -> Credentials {
    Credentials::new(
        format!("AKIAACCOUNT{n}"),
        format!("secret-of-account-{n}"),
        None,
        None,
        "accounts",
    )
}

/// Account 1's API on the middleware's credentials, account 2's on a route that `own`
/// gives credentials of its own: each request is signed by its own account.
async fn second_account_route(own: impl FnOnce(Route) -> Route) {
    let api_a = TokenApi::start(vec![account(1)], Refusal::ApiGatewayExpired);
    let api_b = TokenApi::start(vec![account(2)], Refusal::ApiGatewayExpired);
    let client = middleware_client(
        SigV4Middleware::builder()
            .static_credentials(account(1))
            .route(route(&api_a))
            .route(own(route(&api_b)))
            .build()
            .unwrap(),
    );
    for api in [&api_a, &api_b] {
        let response = client.get(format!("{}/prod/x", api.url())).send().await;
        assert_eq!(response.unwrap().status(), 200);
    }
    assert_eq!(api_a.received(), vec![(key(&account(1)), true)]);
    assert_eq!(api_b.received(), vec![(key(&account(2)), true)]);
}

#[tokio::test]
async fn each_route_signs_with_its_own_provider() {
    second_account_route(|route| route.credentials_provider(account(2))).await;
}

#[tokio::test]
async fn each_provider_has_its_own_cache() {
    let apis: Vec<TokenApi> = (0..3)
        .map(|_| TokenApi::start(vec![Generations::generation(0)], Refusal::ApiGatewayExpired))
        .collect();
    let (main, first, second) = (
        Generations::default(),
        Generations::default(),
        Generations::default(),
    );
    let client = middleware_client(
        SigV4Middleware::builder()
            .credentials_provider(main.clone())
            .route(route(&apis[0]))
            .route(route(&apis[1]).credentials_provider(first.clone()))
            .route(route(&apis[2]).credentials_provider(second.clone()))
            .build()
            .unwrap(),
    );
    for _ in 0..3 {
        for api in &apis {
            let response = client.get(format!("{}/prod/x", api.url())).send().await;
            assert_eq!(response.unwrap().status(), 200);
        }
    }
    // Each provider called once and cached: none answers for another's route.
    assert_eq!([main.calls(), first.calls(), second.calls()], [1, 1, 1]);
}

const ROLE: &str = "arn:aws:iam::222222222222:role/orders-reader";

/// An STS whose `AssumeRole` is signed by `account(1)`, and an API of the other account
/// that accepts what STS issues.
fn cross_account() -> (Sts, TokenApi) {
    let api = TokenApi::start(Vec::new(), Refusal::ApiGatewayExpired);
    let sts = Sts::start(account(1), api.accepted.clone());
    (sts, api)
}

#[tokio::test]
async fn a_route_assumes_a_role_with_sts_signed_by_the_base_credentials() {
    let (sts, api_b) = cross_account();
    let api_a = TokenApi::start(vec![account(1)], Refusal::ApiGatewayExpired);
    let role = AssumeRole::new(ROLE)
        .session_name("checkout")
        .external_id("partner-7")
        .duration(Duration::from_secs(900))
        .endpoint_url(sts.url());
    let signer = SigV4Middleware::builder()
        .static_credentials(account(1))
        .route(route(&api_a))
        .route(route(&api_b).assume_role(role.clone()))
        // The same role on another route: the same assumed credentials.
        .route(
            Route::direct(api_b.url().replace("127.0.0.1", "localhost"))
                .service(SERVICE)
                .region(REGION)
                .assume_role(role),
        )
        .build()
        .unwrap();
    let client = middleware_client(signer.clone());
    for url in [
        api_a.url(),
        api_b.url(),
        api_b.url(),
        api_b.url().replace("127.0.0.1", "localhost"),
    ] {
        let response = client.get(format!("{url}/prod/x")).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
    }
    let calls = sts.calls();
    assert_eq!(calls.len(), 1, "one AssumeRole, cached: {calls:?}");
    let call = &calls[0];
    assert_eq!(call.signed_by.as_deref(), Some("AKIAACCOUNT1"));
    assert_eq!(call.param("RoleArn"), Some(ROLE));
    assert_eq!(call.param("RoleSessionName"), Some("checkout"));
    assert_eq!(call.param("ExternalId"), Some("partner-7"));
    assert_eq!(call.param("DurationSeconds"), Some("900"));
    let assumed = key(&sts.issued()[0]);
    assert_eq!(api_a.received(), vec![(key(&account(1)), true)]);
    assert_eq!(api_b.received(), vec![(assumed, true); 3]);
    // The middleware's Debug, assumed-role provider built, names no secret.
    let debug = format!("{signer:?}");
    let issued = &sts.issued()[0];
    for secret in [
        account(1).secret_access_key(),
        issued.secret_access_key(),
        issued.session_token().unwrap(),
    ] {
        assert!(!debug.contains(secret), "{debug}");
    }
}

#[tokio::test]
async fn the_builder_assumes_a_role_for_every_route() {
    let (sts, api) = cross_account();
    let client = middleware_client(
        SigV4Middleware::builder()
            .static_credentials(account(1))
            .region(REGION)
            .assume_role(AssumeRole::new(ROLE).endpoint_url(sts.url()))
            .route(route(&api))
            .build()
            .unwrap(),
    );
    let response = client.get(format!("{}/prod/x", api.url())).send().await;
    assert_eq!(response.unwrap().status(), 200);
    let calls = sts.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].signed_by.as_deref(), Some("AKIAACCOUNT1"));
    assert_eq!(api.received(), vec![(key(&sts.issued()[0]), true)]);
}

#[tokio::test]
async fn a_route_signs_with_a_named_profile() {
    let dir = std::env::temp_dir().join(format!("reqwest-sigv4-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let credentials_file = dir.join("credentials");
    std::fs::write(
        &credentials_file,
        "[default]\naws_access_key_id = AKIAWRONGPROFILE\naws_secret_access_key = nope\n\n\
         [orders]\naws_access_key_id = AKIAACCOUNT2\naws_secret_access_key = secret-of-account-2\n",
    )
    .unwrap();
    let profile = Profile::new("orders").credentials_file(&credentials_file);
    second_account_route(|route| route.profile(profile)).await;
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_presigned_url_dies_with_its_routes_credentials() {
    let expiry = std::time::SystemTime::now() + Duration::from_secs(600);
    let session = Credentials::new(
        "ASIAROUTEONLY",
        "secret-of-the-route",
        Some("token-of-the-route".into()),
        Some(expiry),
        "route",
    );
    let api = TokenApi::start(vec![session.clone()], Refusal::ApiGatewayExpired);
    let signer = SigV4Middleware::builder()
        .static_credentials(account(1))
        .route(route(&api).credentials_provider(session.clone()))
        .build()
        .unwrap();
    let url = format!("{}/prod/download", api.url()).parse().unwrap();
    let request = reqwest::Request::new(reqwest::Method::GET, url);
    let presigned = signer
        .presign(&request, Duration::from_secs(3600))
        .await
        .unwrap();
    // Signed with the route's session credentials: the URL stops working when they expire.
    assert!(presigned.has_session_token());
    assert_eq!(presigned.credentials_expire_first(), Some(expiry));
    let plain = support::client_builder_for(&[]).build().unwrap();
    let response = plain.get(presigned.as_str()).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(api.received(), vec![(key(&session), true)]);
}
