//! Data: -d, --data-binary and --data-raw by curl's rules (`@FILE`, `@-` for stdin,
//! newlines stripped by -d only, pieces joined with `&`), -H, -X; every body signed.

use std::time::Duration;

use reqwest_sigv4::canonical::UNSIGNED_PAYLOAD;
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};

use crate::support::signing::{assert_every_request_signed, ok_server, verifier};
use crate::support::{self, Topology, EXECUTE_API_HOST};
use crate::{path_str, resolve, run, run_with_stdin, Scratch, EXAMPLE_ENV, SESSION_ENV};

/// The one request `server` received, checked by the verifier.
async fn only_signed_request(server: &wiremock::MockServer) -> ReceivedRequest {
    let mut received = assert_every_request_signed(server, &verifier()).await;
    assert_eq!(received.len(), 1, "one request expected");
    received.remove(0).request
}

#[tokio::test]
async fn post_file_body_and_headers() {
    let topology = Topology::start().await;
    let scratch = Scratch::new("post");
    let path = scratch.file("body.json", br#"{"from":"file"}"#);
    let data = format!("@{}", path_str(&path));
    let addr = topology.api_gateway.addr();
    let url = format!("http://{EXECUTE_API_HOST}:{}/prod/items", addr.port());
    let outcome = run(
        &[
            "-H",
            "Content-Type: application/json",
            "-H",
            "X-Trace:abc",
            "-d",
            &data,
            "--resolve",
            &resolve(EXECUTE_API_HOST, addr),
            &url,
        ],
        SESSION_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let echo: serde_json::Value = serde_json::from_str(&outcome.out).unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["body_length"], 15);
}

#[tokio::test]
async fn data_flags_follow_curls_rules_in_command_line_order() {
    let server = ok_server().await;
    let scratch = Scratch::new("data");
    let form = scratch.file("form.txt", "b=2\r\nc=3\n");
    let lines = scratch.file("lines.txt", "x\ny\n");
    let outcome = run(
        &[
            "--region",
            "us-east-1",
            "-d",
            "a=1",
            "-d",
            &format!("@{}", path_str(&form)),
            "--data-raw",
            "@not-a-file",
            "--data-binary",
            &format!("@{}", path_str(&lines)),
            &format!("{}/prod/items", server.uri()),
        ],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let received = only_signed_request(&server).await;
    assert_eq!(received.method(), "POST");
    assert_eq!(&received.body()[..], b"a=1&b=2c=3&@not-a-file&x\ny\n");
    assert_eq!(
        received.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn at_dash_reads_the_body_from_stdin() {
    for (flag, stdin, sent) in [
        ("-d", &b"q=1\r\n"[..], &b"q=1"[..]),
        ("--data-binary", b"line\r\n", b"line\r\n"),
    ] {
        let server = ok_server().await;
        let outcome = run_with_stdin(
            &[
                "--region",
                "us-east-1",
                flag,
                "@-",
                &format!("{}/prod/items", server.uri()),
            ],
            EXAMPLE_ENV,
            Some(stdin),
        )
        .await;
        assert_eq!(outcome.code, 0, "{flag}: {}", outcome.err);
        let received = only_signed_request(&server).await;
        assert_eq!(&received.body()[..], sent, "{flag}");
    }
}

#[tokio::test]
async fn header_flags_add_remove_and_empty_headers_and_x_sets_the_method() {
    let server = ok_server().await;
    let outcome = run(
        &[
            "--region",
            "us-east-1",
            "-X",
            "put",
            "-d",
            "{}",
            "-H",
            "Content-Type:",
            "-H",
            "X-Empty;",
            "-H",
            "X-Trace: one",
            "-H",
            "X-Trace: two",
            &format!("{}/prod/items", server.uri()),
        ],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let received = only_signed_request(&server).await;
    assert_eq!(received.method(), "PUT");
    assert_eq!(
        received.header("content-type"),
        None,
        "removed by -H 'Content-Type:'"
    );
    assert_eq!(received.header("x-empty"), Some(""));
    let traces: Vec<&str> = received.header_values("x-trace").collect();
    assert_eq!(traces, ["one", "two"]);
    assert!(
        received
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("sigv4-curl/")),
        "{:?}",
        received.headers()
    );
}

/// `--data-binary @file` to an S3 host streams the file with its length, signed over
/// `UNSIGNED-PAYLOAD`: a file larger than the default 32 MiB buffering limit goes through.
#[tokio::test]
async fn binary_file_streams_to_s3_unsigned() {
    let size = reqwest_sigv4::DEFAULT_BODY_LIMIT + 1024 * 1024;
    let scratch = Scratch::new("s3");
    let file = scratch.file("big.bin", vec![b'q'; size]);
    let server = ok_server().await;
    let host = "my-bucket.s3.us-east-1.amazonaws.com";
    let addr = server.address();
    let data = format!("@{}", path_str(&file));
    let resolve = format!("{host}:{}:{}", addr.port(), addr.ip());
    let url = format!("http://{host}:{}/uploads/big$1.bin", addr.port());
    let outcome = run(
        &[
            "-v",
            "-X",
            "PUT",
            "--data-binary",
            &data,
            "--resolve",
            &resolve,
            &url,
        ],
        SESSION_ENV,
    )
    .await;
    let err = &outcome.err;
    assert_eq!(outcome.code, 0, "{err}");
    // `-v` shows the key in the one spelling that was sent and signed.
    assert!(err.contains("and path /uploads/big%241.bin\n"), "{err}");
    assert!(err.contains("\nPUT\n/uploads/big%241.bin\n"), "{err}");
    let received = server.received_requests().await.expect("recording on");
    assert_eq!(received.len(), 1, "one request expected");
    let received = ReceivedRequest::from_wiremock(&received[0]);
    assert_eq!(received.path_and_query().0, "/uploads/big%241.bin");
    assert_eq!(received.body().len(), size);
    assert_eq!(
        received.header("x-amz-content-sha256"),
        Some(UNSIGNED_PAYLOAD)
    );
    assert_eq!(
        received.header("content-length"),
        Some(size.to_string().as_str())
    );
    Verifier::new(support::example_session_credentials())
        .service("s3")
        .region("us-east-1")
        .max_skew(Duration::from_secs(300))
        .allow_unsigned_payload(true)
        .verify(&received)
        .expect("valid");
}
