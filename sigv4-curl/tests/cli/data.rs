//! Data: `-d`, `-H`, `-X`.

use std::time::Duration;

use reqwest_sigv4::canonical::UNSIGNED_PAYLOAD;
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};

use crate::support::signing::ok_server;
use crate::support::{self, Topology, EXECUTE_API_HOST};
use crate::{path_str, resolve, run, Scratch, SESSION_ENV};

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

/// `-X PUT -d @file` to an S3 host streams the file with its length, signed over
/// `UNSIGNED-PAYLOAD`: a file larger than the default 32 MiB buffering limit goes through.
#[tokio::test]
async fn file_streams_to_s3_unsigned() {
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
        &["-v", "-X", "PUT", "-d", &data, "--resolve", &resolve, &url],
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
