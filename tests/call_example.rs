//! The `call` example's CLI contract, run in-process against the stand-ins: the example is
//! `reqwest_sigv4::cli` under the name `call`, called here with parsed arguments and
//! captured output. Credentials come from the AWS environment variables, as for a user.

mod support;

use reqwest_sigv4::cli as example;
use support::{Topology, CLOUDFRONT_ALIAS, EXECUTE_API_HOST, ORIGIN_PATH};

struct Outcome {
    code: u8,
    out: String,
    err: String,
}

/// The default chain reads these; every test of this binary sets the same values, so the
/// order in which tests run does not matter.
fn example_environment() {
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", support::EXAMPLE_SESSION_ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", support::EXAMPLE_SECRET_KEY),
        ("AWS_SESSION_TOKEN", support::EXAMPLE_SESSION_TOKEN),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/reqwest-sigv4/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/reqwest-sigv4/credentials",
        ),
    ] {
        std::env::set_var(name, value);
    }
}

async fn call(args: &[&str]) -> Outcome {
    example_environment();
    let args = example::Args::parse_as("call", std::iter::once("call").chain(args.iter().copied()))
        .expect("valid arguments");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = example::cli(args, &mut out, &mut err).await;
    Outcome {
        code,
        out: String::from_utf8_lossy(&out).into_owned(),
        err: String::from_utf8_lossy(&err).into_owned(),
    }
}

fn resolve(name: &str, addr: std::net::SocketAddr) -> String {
    format!("{name}:{}:{}", addr.port(), addr.ip())
}

fn origin() -> String {
    format!("https://{EXECUTE_API_HOST}{ORIGIN_PATH}")
}

#[tokio::test]
async fn naive_alias_call_fails_with_22_and_names_the_origin_flag() {
    let topology = Topology::start().await;
    let port = topology.cloudfront.addr().port();
    let url = format!("http://{CLOUDFRONT_ALIAS}:{port}/items");
    let resolve = resolve(CLOUDFRONT_ALIAS, topology.cloudfront.addr());
    let outcome = call(&["--region", "us-east-1", "--resolve", &resolve, &url]).await;
    assert_eq!(outcome.code, 22, "{}", outcome.err);
    assert!(outcome.err.contains("403"), "{}", outcome.err);
    assert!(
        outcome
            .err
            .contains(&format!("try again with --origin {}", origin())),
        "{}",
        outcome.err
    );
    assert!(outcome
        .out
        .contains("The request signature we calculated does not match"));
}

#[tokio::test]
async fn origin_flag_signs_for_the_origin_and_succeeds() {
    let topology = Topology::start().await;
    let port = topology.cloudfront.addr().port();
    let url = format!("http://{CLOUDFRONT_ALIAS}:{port}/items?limit=1");
    let resolve = resolve(CLOUDFRONT_ALIAS, topology.cloudfront.addr());
    let outcome = call(&["-v", "--origin", &origin(), "--resolve", &resolve, &url]).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let echo: serde_json::Value = serde_json::from_str(&outcome.out).expect("echo JSON on stdout");
    assert_eq!(echo["path"], "/prod/items");
    // -v shows what was signed, never a secret.
    assert!(
        outcome.err.contains("* canonical request:"),
        "{}",
        outcome.err
    );
    assert!(outcome.err.contains(&format!("host:{EXECUTE_API_HOST}")));
    assert!(outcome.err.contains("AWS4-HMAC-SHA256\n"));
    for secret in [
        support::EXAMPLE_SECRET_KEY,
        support::EXAMPLE_SESSION_TOKEN,
        "Signature=",
    ] {
        assert!(!outcome.err.contains(secret), "{secret} printed");
    }
}

#[tokio::test]
async fn post_file_body_and_headers() {
    let topology = Topology::start().await;
    let path = std::env::temp_dir().join(format!("reqwest-sigv4-call-{}.json", std::process::id()));
    std::fs::write(&path, br#"{"from":"file"}"#).unwrap();
    let data = format!("@{}", path.display());
    let addr = topology.api_gateway.addr();
    let url = format!("http://{EXECUTE_API_HOST}:{}/prod/items", addr.port());
    let outcome = call(&[
        "-H",
        "Content-Type: application/json",
        "-H",
        "X-Trace:abc",
        "-d",
        &data,
        "--resolve",
        &resolve(EXECUTE_API_HOST, addr),
        &url,
    ])
    .await;
    std::fs::remove_file(&path).ok();
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let echo: serde_json::Value = serde_json::from_str(&outcome.out).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body_length"], 15);
}

#[tokio::test]
async fn alias_flag_rewrites_an_origin_url() {
    let topology = Topology::start().await;
    let cf = topology.cloudfront.addr();
    let alias = format!("http://{CLOUDFRONT_ALIAS}:{}", cf.port());
    let outcome = call(&[
        "--alias",
        &alias,
        "--resolve",
        &resolve(CLOUDFRONT_ALIAS, cf),
        &format!("{}/items/9", origin()),
    ])
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert_eq!(topology.cloudfront.exchanges().len(), 1);
}

#[tokio::test]
async fn sign_host_flag_overrides_the_host() {
    let topology = Topology::start().await;
    let addr = topology.api_gateway.addr();
    let vpce = "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com";
    let outcome = call(&[
        "--sign-host",
        EXECUTE_API_HOST,
        "--resolve",
        &resolve(vpce, addr),
        &format!("http://{vpce}:{}/prod/items", addr.port()),
    ])
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
}

#[tokio::test]
async fn presign_prints_a_url_that_works_alone() {
    let topology = Topology::start().await;
    let addr = topology.api_gateway.addr();
    let url = format!("http://{EXECUTE_API_HOST}:{}/prod/items", addr.port());
    let outcome = call(&["--presign", "60", &url]).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let presigned = outcome.out.trim();
    assert!(presigned.contains("X-Amz-Signature="), "{presigned}");
    let resp = topology.client().get(presigned).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn other_errors_exit_1_with_one_line() {
    let outcome = call(&["--resolve", "nonsense", "http://127.0.0.1:9/"]).await;
    assert_eq!(outcome.code, 1);
    assert_eq!(outcome.err.lines().count(), 1, "{}", outcome.err);
    assert!(outcome.err.starts_with("call: "));
    // Nothing listens on port 9 of loopback: a connection error, not an HTTP status.
    let outcome = call(&["--region", "us-east-1", "http://127.0.0.1:9/"]).await;
    assert_eq!(outcome.code, 1, "{}", outcome.err);
    assert_eq!(outcome.err.lines().count(), 1, "{}", outcome.err);
}
