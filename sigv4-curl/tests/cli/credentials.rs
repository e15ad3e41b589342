//! Credentials: --profile, --role-arn, awscurl's --access-key / --secret-key /
//! --session-token, and the default chain.

use crate::support::signing::{assert_every_request_signed, ok_server, verifier};
use crate::support::sts::{Refusal, Sts, TokenApi};
use crate::support::{
    self, Topology, EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_ACCESS_KEY,
    EXAMPLE_SESSION_TOKEN, EXECUTE_API_HOST, STAGE,
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
    let without = run(&["-f", "--resolve", &resolve, &url], &env).await;
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
    let outcome = run(&["-f", &url], &env).await;
    assert_eq!(outcome.code, 22, "{}", outcome.err);
}

#[tokio::test]
async fn key_flags_sign_with_those_keys_in_either_spelling() {
    for spelling in [
        ["--access-key", "--secret-key", "--session-token"],
        ["--access_key", "--secret_key", "--security_token"],
    ] {
        let server = ok_server().await;
        // No credentials in the environment: the flags are the only ones.
        let outcome = run(
            &[
                "--region",
                "us-east-1",
                spelling[0],
                EXAMPLE_SESSION_ACCESS_KEY,
                spelling[1],
                EXAMPLE_SECRET_KEY,
                spelling[2],
                EXAMPLE_SESSION_TOKEN,
                &format!("{}/{STAGE}/items", server.uri()),
            ],
            &[],
        )
        .await;
        assert_eq!(outcome.code, 0, "{spelling:?}: {}", outcome.err);
        let received = assert_every_request_signed(&server, &verifier()).await;
        assert_eq!(
            received[0].verified.access_key_id, EXAMPLE_SESSION_ACCESS_KEY,
            "{spelling:?}"
        );
        assert_eq!(
            received[0].request.header("x-amz-security-token"),
            Some(EXAMPLE_SESSION_TOKEN)
        );
    }
}

#[tokio::test]
async fn key_flags_win_over_the_environment_and_exclude_a_profile() {
    let server = ok_server().await;
    let url = format!("{}/{STAGE}/items", server.uri());
    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDFROMENVIRONMENT"),
        ("AWS_SECRET_ACCESS_KEY", "environment"),
    ];
    let keys = [
        "--access-key",
        EXAMPLE_ACCESS_KEY,
        "--secret-key",
        EXAMPLE_SECRET_KEY,
    ];
    let outcome = run(
        &[&keys[..], &["--region", "us-east-1", &url]].concat(),
        &env,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received[0].verified.access_key_id, EXAMPLE_ACCESS_KEY);

    let outcome = run(&[&keys[..], &["--profile", "dev", &url]].concat(), &env).await;
    assert_eq!(outcome.code, 2, "{}", outcome.err);
    assert_no_secret(&outcome.err);
}
