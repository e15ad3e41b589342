//! The installed `sigv4-curl` binary (feature `cli`), run as a process with its own
//! environment against loopback stand-ins: API Gateway and CloudFront from
//! `tests/support`, and wiremock servers whose matcher is the crate's own verifier (for
//! SigV4a and for STS). Never AWS.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest_sigv4::verify::Algorithm;
use support::signing::{assert_every_request_signed, ok_server, verifier};
use support::sts::{Refusal, Sts, TokenApi};
use support::{
    Topology, CLOUDFRONT_ALIAS, EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_TOKEN,
    EXECUTE_API_HOST, ORIGIN_PATH, STAGE,
};

const BINARY: &str = env!("CARGO_BIN_EXE_sigv4-curl");

struct Outcome {
    code: i32,
    out: String,
    err: String,
}

/// A scratch directory for one test, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "reqwest-sigv4-cli-{name}-{}-{}",
            std::process::id(),
            support::random_hex(8)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

/// Runs the binary with only `env` (plus settings that keep aws-config off the network
/// and out of the user's files), like a user's shell would.
async fn run(args: &[&str], env: &[(&str, &str)]) -> Outcome {
    let mut command = tokio::process::Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/reqwest-sigv4/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/reqwest-sigv4/credentials",
        )
        .envs(env.iter().copied());
    let output = tokio::time::timeout(Duration::from_secs(60), command.output())
        .await
        .expect("the binary finishes")
        .expect("the binary runs");
    Outcome {
        code: output.status.code().expect("an exit code"),
        out: String::from_utf8_lossy(&output.stdout).into_owned(),
        err: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The example credentials and region in the environment, as `aws configure` users have.
const EXAMPLE_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", EXAMPLE_ACCESS_KEY),
    ("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_KEY),
    ("AWS_REGION", "us-east-1"),
];

fn resolve(name: &str, addr: std::net::SocketAddr) -> String {
    format!("{name}:{}:{}", addr.port(), addr.ip())
}

fn assert_no_secret(text: &str) {
    for secret in [EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_TOKEN, "Signature="] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
}

#[tokio::test]
async fn profile_flag_takes_that_profiles_credentials() {
    let topology = Topology::start().await;
    let scratch = Scratch::new("profile");
    let credentials = scratch.file(
        "credentials",
        &format!(
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

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigv4a_flag_signs_with_sigv4a_for_the_region_set() {
    let server = ok_server().await;
    let url = format!("{}/{STAGE}/items?limit=1", server.uri());
    let outcome = run(
        &[
            "--sigv4a",
            "us-east-1,us-west-2",
            "--service",
            "execute-api",
            &url,
        ],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let received = assert_every_request_signed(&server, &verifier()).await;
    assert_eq!(received.len(), 1);
    let verified = &received[0].verified;
    assert_eq!(verified.algorithm, Algorithm::SigV4a);
    assert_eq!(verified.region_set.as_deref(), Some("us-east-1,us-west-2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn include_and_output_flags_write_headers_and_body_to_the_file() {
    let topology = Topology::start().await;
    let scratch = Scratch::new("output");
    let file = scratch.0.join("response.txt");
    let addr = topology.api_gateway.addr();
    let url = format!("http://{EXECUTE_API_HOST}:{}/{STAGE}/items", addr.port());
    let outcome = run(
        &[
            "-i",
            "-o",
            path_str(&file),
            "--resolve",
            &resolve(EXECUTE_API_HOST, addr),
            &url,
        ],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert_eq!(outcome.out, "", "the body went to the file");
    let written = std::fs::read_to_string(&file).unwrap();
    let (head, body) = written.split_once("\r\n\r\n").expect("headers, blank line");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("\r\ncontent-type: "),
        "{head}"
    );
    let echo: serde_json::Value = serde_json::from_str(body).expect("echo JSON after headers");
    assert_eq!(echo["path"], "/prod/items");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_summary_shows_what_was_signed_and_explains_a_403() {
    let topology = Topology::start().await;
    let cloudfront = topology.cloudfront.addr();
    let url = format!("http://{CLOUDFRONT_ALIAS}:{}/items", cloudfront.port());
    let resolve = resolve(CLOUDFRONT_ALIAS, cloudfront);
    let mut env = EXAMPLE_ENV.to_vec();
    env.push(("AWS_SESSION_TOKEN", EXAMPLE_SESSION_TOKEN));
    env[0].1 = support::EXAMPLE_SESSION_ACCESS_KEY;

    // Signed for the alias: refused, explained, and the fix named.
    let outcome = run(
        &[
            "--json",
            "--region",
            "us-east-1",
            "--resolve",
            &resolve,
            &url,
        ],
        &env,
    )
    .await;
    assert_eq!(outcome.code, 22, "{}", outcome.err);
    let summary: serde_json::Value = serde_json::from_str(&outcome.out).expect("one JSON object");
    assert_eq!(summary["status"], 403);
    assert_eq!(
        summary["signed"]["host"],
        format!("{CLOUDFRONT_ALIAS}:{}", cloudfront.port())
    );
    assert_eq!(summary["explanation"]["cause"], "HostMismatch");
    let origin = format!("https://{EXECUTE_API_HOST}{ORIGIN_PATH}");
    assert_eq!(
        summary["explanation"]["suggested_flag"],
        format!("--origin {origin}")
    );
    assert!(summary["body"]
        .as_str()
        .unwrap()
        .contains("The request signature we calculated does not match"));
    assert_no_secret(&outcome.out);
    assert_no_secret(&outcome.err);

    // Signed for the origin: accepted, and the summary shows the origin's canonical request.
    let outcome = run(
        &["--json", "--origin", &origin, "--resolve", &resolve, &url],
        &env,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let summary: serde_json::Value = serde_json::from_str(&outcome.out).expect("one JSON object");
    assert_eq!(summary["status"], 200);
    assert_eq!(summary["explanation"], serde_json::Value::Null);
    assert_eq!(summary["signed"]["host"], EXECUTE_API_HOST);
    assert_eq!(summary["signed"]["path_and_query"], "/prod/items");
    assert_eq!(summary["signed"]["algorithm"], "AWS4-HMAC-SHA256");
    let canonical = summary["signed"]["canonical_request"].as_str().unwrap();
    assert!(canonical.starts_with("GET\n/prod/items\n"), "{canonical}");
    assert!(summary["signed"]["string_to_sign"]
        .as_str()
        .unwrap()
        .starts_with("AWS4-HMAC-SHA256\n"));
    // The stand-in's body echoes the request's headers back; all the rest is ours.
    let mut ours = summary.clone();
    ours["body"] = serde_json::Value::Null;
    assert_no_secret(&ours.to_string());
}

#[tokio::test]
async fn errors_exit_1_with_one_line_named_after_the_binary() {
    let outcome = run(
        &["--resolve", "nonsense", "http://127.0.0.1:9/"],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 1);
    assert_eq!(outcome.err.lines().count(), 1, "{}", outcome.err);
    assert!(outcome.err.starts_with("sigv4-curl: "), "{}", outcome.err);
    let help = run(&["--help"], &[]).await;
    assert_eq!(help.code, 0);
    assert!(help.out.contains("Usage: sigv4-curl"), "{}", help.out);
    for flag in ["--profile", "--role-arn", "--sigv4a", "--json", "--include"] {
        assert!(help.out.contains(flag), "{flag} missing from --help");
    }
}
