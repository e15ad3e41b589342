//! No secret given on the command line (the secret key, the session token) appears in any
//! output: not with -v, -i, -L, --json, --dry-run, nor in any error, clap's included; no
//! signature either, but in a dry run with -v.

use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{EXAMPLE_SECRET_KEY, EXAMPLE_SESSION_ACCESS_KEY, EXAMPLE_SESSION_TOKEN};
use crate::{assert_no_secret, run};

const KEYS: [&str; 6] = [
    "--access-key",
    EXAMPLE_SESSION_ACCESS_KEY,
    "--secret-key",
    EXAMPLE_SECRET_KEY,
    "--session-token",
    EXAMPLE_SESSION_TOKEN,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_from_the_command_line_appears_in_any_output() {
    // /a redirects to /b, which refuses: every path that prints something is taken.
    let server = MockServer::start().await;
    Mock::given(path("/prod/a"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/prod/b"))
        .mount(&server)
        .await;
    Mock::given(path("/prod/b"))
        .respond_with(ResponseTemplate::new(403).set_body_string(r#"{"message":"denied"}"#))
        .mount(&server)
        .await;
    let url = format!("{}/prod/a", server.uri());
    let refused = format!("{}/prod/a?bad=%FF", server.uri());
    // A mistyped flag in front of a secret: clap must not quote the secret back.
    let mistyped = format!("--secret-kye={EXAMPLE_SECRET_KEY}");
    let cases: &[&[&str]] = &[
        &["-v", "-i", "-L", &url],
        &["-f", "-v", &url],
        &["--json", "-L", &url],
        &["--json", "-L", "-i", "-v", &url],
        &["--dry-run", &url],
        &["--dry-run", "--json", &url],
        &["-v", "http://127.0.0.1:9/"],
        &["-v", &refused],
        &["-H", "no colon", &url],
        &["--profile", "dev", &url],
        &["--no-such-flag", &url],
        &[&mistyped, &url],
        &["--session-token", "--secret-key", &url],
        &[&url, "extra"],
    ];
    for case in cases {
        let args = [&KEYS[..], &["--region", "us-east-1"], case].concat();
        let outcome = run(&args, &[]).await;
        assert_no_secret(&outcome.out);
        assert_no_secret(&outcome.err);
    }

    // A dry run with -v shows the signature it made, and still neither key nor token.
    let args = [
        &KEYS[..],
        &["--region", "us-east-1", "--dry-run", "-v", &url],
    ]
    .concat();
    let outcome = run(&args, &[]).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert!(outcome.out.contains(", Signature="), "{}", outcome.out);
    for text in [&outcome.out, &outcome.err] {
        assert!(!text.contains(EXAMPLE_SECRET_KEY), "{text}");
        assert!(!text.contains(EXAMPLE_SESSION_TOKEN), "{text}");
    }
}
