//! Credentials: `--profile`, `--role-arn`, the default chain.

use crate::support::sts::{Refusal, Sts, TokenApi};
use crate::support::{
    self, Topology, EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY, EXECUTE_API_HOST, STAGE,
};
use crate::{assert_no_secret, path_str, resolve, run, Scratch, EXAMPLE_ENV};

#[tokio::test]
async fn profile_flag_takes_that_profiles_credentials() {
    let topology = Topology::start().await;
    let scratch = Scratch::new("profile");
    let credentials = scratch.file(
        "credentials",
        format!(
            "[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong\n\n\
             [dev]\naws_access_key_id = {EXAMPLE_ACCESS_KEY}\naws_secret_access_key = {EXAMPLE_SECRET_KEY}\n"
        ),
    );
    let config = scratch.file(
        "config",
        "[default]\nregion = us-east-1\n\n[profile dev]\nregion = us-east-1\n",
    );
    let env = [
        ("AWS_SHARED_CREDENTIALS_FILE", path_str(&credentials)),
        ("AWS_CONFIG_FILE", path_str(&config)),
    ];
    let addr = topology.api_gateway.addr();
    let url = format!("http://{EXECUTE_API_HOST}:{}/{STAGE}/items", addr.port());
    let resolve = resolve(EXECUTE_API_HOST, addr);

    let with_profile = run(&["--profile", "dev", "--resolve", &resolve, &url], &env).await;
    assert_eq!(with_profile.code, 0, "{}", with_profile.err);
    // As with awscurl, the profile named on the command line wins over keys in the
    // environment (which the default chain would take first).
    let mut with_env_keys = env.to_vec();
    with_env_keys.extend([
        ("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT"),
        ("AWS_SECRET_ACCESS_KEY", "environment"),
    ]);
    let outcome = run(
        &["--profile", "dev", "--resolve", &resolve, &url],
        &with_env_keys,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    // The default profile's keys are refused: the profile is what made the difference.
    let without = run(&["--resolve", &resolve, &url], &env).await;
    assert_eq!(without.code, 22, "{}", without.err);
    assert!(without.err.contains("403"), "{}", without.err);
}

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/demo";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_arn_flag_signs_with_the_assumed_roles_credentials() {
    // An API that accepts only what the STS stand-in issues, and that STS, which answers
    // only calls validly signed with the base (example) credentials.
    let api = TokenApi::start(Vec::new(), Refusal::ApiGatewayExpired);
    let sts = Sts::start(support::example_credentials(), api.accepted.clone());
    let url = format!("{}/{STAGE}/items", api.url());
    let sts_url = sts.url();
    let mut env = EXAMPLE_ENV.to_vec();
    env.push(("AWS_ENDPOINT_URL_STS", &sts_url));

    let outcome = run(&["--role-arn", ROLE_ARN, &url], &env).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let calls = sts.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].signed_by.as_deref(), Some(EXAMPLE_ACCESS_KEY));
    assert_eq!(calls[0].param("RoleArn"), Some(ROLE_ARN));
    let assumed = sts.issued()[0].access_key_id().to_owned();
    assert_eq!(api.received(), vec![(assumed, true)]);
    assert_no_secret(&outcome.err);

    // Without the role, the base credentials are refused.
    let outcome = run(&[&url], &env).await;
    assert_eq!(outcome.code, 22, "{}", outcome.err);
}
