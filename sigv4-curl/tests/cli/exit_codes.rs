//! Exit codes: 0 for any HTTP answer, 22 only with -f; curl's codes for what curl has a
//! code for, 80 and 81 for signing and credentials; one line on stderr, which -s silences
//! and -S brings back.

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::raw::{self, Then};
use crate::support::signing::ok_server;
use crate::{path_str, run, Outcome, Scratch, EXAMPLE_ENV};

/// A server answering every request with `status` and the body `nope`.
async fn answering(status: u16) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(status).set_body_string("nope"))
        .mount(&server)
        .await;
    server
}

/// Asserts that `outcome` failed with `code` and said so on one line, curl's way.
fn assert_failed(outcome: &Outcome, code: i32) {
    assert_eq!(outcome.code, code, "{}", outcome.err);
    assert_eq!(outcome.err.lines().count(), 1, "{}", outcome.err);
    let prefix = format!("sigv4-curl: ({code}) ");
    assert!(outcome.err.starts_with(&prefix), "{}", outcome.err);
}

#[tokio::test]
async fn http_errors_exit_0_without_fail_and_22_with_it() {
    let server = answering(404).await;
    let url = format!("{}/prod/missing", server.uri());
    let region = ["--region", "us-east-1"];

    // An HTTP answer is a success: the body on stdout, nothing on stderr.
    let plain = run(&[&region[..], &[&url]].concat(), EXAMPLE_ENV).await;
    assert_eq!(plain.code, 0, "{}", plain.err);
    assert_eq!(plain.out, "nope");
    assert_eq!(plain.err, "", "no status line on stderr");

    // -f: 22, curl's message, and no body.
    let fail = run(&[&region[..], &["-f", &url]].concat(), EXAMPLE_ENV).await;
    assert_failed(&fail, 22);
    assert!(fail.err.contains("error: 404"), "{}", fail.err);
    assert_eq!(fail.out, "");
    let fail = run(&[&region[..], &["--fail", &url]].concat(), EXAMPLE_ENV).await;
    assert_eq!(fail.code, 22);

    // --fail-with-body: 22 and the body.
    let with_body = run(
        &[&region[..], &["--fail-with-body", &url]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_failed(&with_body, 22);
    assert_eq!(with_body.out, "nope");

    // -s silences the message, -S brings it back.
    let silent = run(&[&region[..], &["-fs", &url]].concat(), EXAMPLE_ENV).await;
    assert_eq!(silent.code, 22);
    assert_eq!(silent.err, "");
    let shown = run(&[&region[..], &["-fsS", &url]].concat(), EXAMPLE_ENV).await;
    assert_failed(&shown, 22);

    // Under 400, -f changes nothing.
    let ok = ok_server().await;
    let fine = run(
        &[&region[..], &["-f", &format!("{}/prod/items", ok.uri())]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(fine.code, 0, "{}", fine.err);
    assert_eq!(fine.err, "");
}

#[tokio::test]
async fn each_kind_of_error_has_its_code_and_one_line() {
    let region = ["--region", "us-east-1"];
    let scratch = Scratch::new("codes");

    // Usage: ours and clap's.
    let outcome = run(
        &["--resolve", "nonsense", "http://127.0.0.1:9/"],
        EXAMPLE_ENV,
    )
    .await;
    assert_failed(&outcome, 2);
    let outcome = run(&["-H", "no colon", "http://127.0.0.1:9/"], EXAMPLE_ENV).await;
    assert_failed(&outcome, 2);
    let outcome = run(&["--no-such-flag", "http://127.0.0.1:9/"], EXAMPLE_ENV).await;
    assert_eq!(outcome.code, 2, "{}", outcome.err);
    let outcome = run(
        &["--access-key", "AKID", "http://127.0.0.1:9/"],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(
        outcome.code, 2,
        "--access-key needs --secret-key: {}",
        outcome.err
    );

    // A malformed URL, or one of another scheme.
    for url in ["not a url", "ftp://127.0.0.1/file"] {
        let outcome = run(&[url], EXAMPLE_ENV).await;
        assert_failed(&outcome, 3);
    }

    // A name that cannot be resolved: a label longer than DNS allows, which the resolver
    // refuses without asking any server.
    let unresolvable = format!("http://{}.example/", "a".repeat(64));
    let outcome = run(&[&region[..], &[&unresolvable]].concat(), EXAMPLE_ENV).await;
    assert_failed(&outcome, 6);

    // Nothing listens on port 9 of loopback: a connection error, not an HTTP status.
    let outcome = run(
        &[&region[..], &["http://127.0.0.1:9/"]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_failed(&outcome, 7);
    assert!(outcome.err.contains("onnect"), "{}", outcome.err);

    // An unreadable -d @FILE, an output that cannot be written.
    let missing = scratch.0.join("missing.json");
    let data = format!("@{}", path_str(&missing));
    let outcome = run(
        &[&region[..], &["-d", &data, "http://127.0.0.1:9/"]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_failed(&outcome, 26);
    let server = ok_server().await;
    let unwritable = scratch.0.join("no-such-dir").join("out.txt");
    let outcome = run(
        &[&region[..], &["-o", path_str(&unwritable), &server.uri()]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_failed(&outcome, 23);

    // An answer that breaks off: 100 bytes announced, 4 sent.
    let broken = raw::serve(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf".to_vec(),
        Then::Close,
    )
    .await;
    let outcome = run(&[&region[..], &[&broken.url()]].concat(), EXAMPLE_ENV).await;
    assert_eq!(outcome.code, 56, "{}", outcome.err);

    // A query SigV4 cannot sign reliably: nothing is sent.
    let server = ok_server().await;
    let outcome = run(
        &[
            &region[..],
            &[&format!("{}/prod/items?a=%FF", server.uri())],
        ]
        .concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_failed(&outcome, 80);
    assert!(server.received_requests().await.unwrap().is_empty());

    // No credentials anywhere (the environment has none, the files do not exist).
    let outcome = run(
        &[&region[..], &[&format!("{}/prod/items", server.uri())]].concat(),
        &[],
    )
    .await;
    assert_failed(&outcome, 81);
    assert!(server.received_requests().await.unwrap().is_empty());

    // -s silences errors; -S brings them back.
    let outcome = run(
        &[&region[..], &["-s", "http://127.0.0.1:9/"]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!((outcome.code, outcome.err.as_str()), (7, ""));
    let outcome = run(
        &[&region[..], &["-sS", "http://127.0.0.1:9/"]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_failed(&outcome, 7);
}
