//! The built `sigv4-curl` binary, run as a process with its own environment against the
//! repository's loopback stand-ins (`tests/support`: API Gateway, CloudFront, STS, raw
//! servers) and wiremock servers whose matcher is the library's own verifier. Never AWS.
//!
//! One module per flag group.

#[path = "../../../tests/support/mod.rs"]
mod support;

mod credentials;
mod data;
mod exit_codes;
mod help;
mod output;
mod secrets;
mod signing;
mod transport;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::{EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_TOKEN};

const BINARY: &str = env!("CARGO_BIN_EXE_sigv4-curl");

/// What a run of the binary left: its exit code, stdout and stderr.
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
            "sigv4-curl-{name}-{}-{}",
            std::process::id(),
            support::random_hex(8)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
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
    run_with_stdin(args, env, None).await
}

/// [`run`] with `stdin` piped to the binary (closed at once when `None`).
async fn run_with_stdin(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Outcome {
    use tokio::io::AsyncWriteExt;

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
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("the binary runs");
    let mut pipe = child.stdin.take().expect("stdin piped");
    let input = stdin.unwrap_or_default().to_vec();
    let feed = tokio::spawn(async move {
        // The binary may exit without reading: a broken pipe is not the test's concern.
        let _ = pipe.write_all(&input).await;
    });
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the binary finishes")
        .expect("the binary runs");
    let _ = feed.await;
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

/// The example session credentials and region in the environment.
const SESSION_ENV: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", support::EXAMPLE_SESSION_ACCESS_KEY),
    ("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_KEY),
    ("AWS_SESSION_TOKEN", EXAMPLE_SESSION_TOKEN),
    ("AWS_REGION", "us-east-1"),
];

/// `--resolve` value sending `name` to `addr`.
fn resolve(name: &str, addr: std::net::SocketAddr) -> String {
    format!("{name}:{}:{}", addr.port(), addr.ip())
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

/// Asserts that `text` carries neither the example secret key nor the session token, nor
/// any signature: every `Signature=` (of an `Authorization` header, or a URL's
/// `X-Amz-Signature=`) is followed by a redaction marker.
fn assert_no_secret(text: &str) {
    for secret in [EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_TOKEN] {
        assert!(!text.contains(secret), "{secret} printed:\n{text}");
    }
    for (at, marker) in text.match_indices("Signature=") {
        let value = &text[at + marker.len()..];
        assert!(
            value.starts_with("<redacted>") || value.starts_with("REDACTED"),
            "a signature printed:\n{text}"
        );
    }
}
