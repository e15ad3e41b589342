//! Output: the body alone on stdout by default; -i puts the heads in front of it; -v puts
//! the request and response heads and what was signed on stderr; -o writes to a file.

use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::{Topology, EXAMPLE_SESSION_ACCESS_KEY, EXECUTE_API_HOST, STAGE};
use crate::{assert_no_secret, path_str, resolve, run, Scratch, EXAMPLE_ENV, SESSION_ENV};

/// A server answering `hello` with an `x-demo` header.
async fn hello_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-demo", "1")
                .set_body_string("hello"),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn the_body_alone_goes_to_stdout_and_include_puts_the_head_in_front() {
    let server = hello_server().await;
    let url = format!("{}/{STAGE}/items", server.uri());

    let plain = run(&["--region", "us-east-1", &url], EXAMPLE_ENV).await;
    assert_eq!(plain.code, 0, "{}", plain.err);
    assert_eq!(plain.out, "hello");
    assert_eq!(plain.err, "", "no status line on stderr");

    let included = run(&["-i", "--region", "us-east-1", &url], EXAMPLE_ENV).await;
    assert_eq!(included.code, 0, "{}", included.err);
    assert_eq!(included.err, "");
    let (head, body) = included
        .out
        .split_once("\r\n\r\n")
        .expect("head, blank line");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("\r\nx-demo: 1"), "{head}");
    assert_eq!(body, "hello");
}

#[tokio::test]
async fn verbose_puts_the_heads_and_what_was_signed_on_stderr_and_no_secret() {
    let server = hello_server().await;
    let url = format!("{}/{STAGE}/items?limit=1", server.uri());
    let outcome = run(&["-v", "--region", "us-east-1", &url], SESSION_ENV).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert_eq!(outcome.out, "hello", "only the body on stdout");
    let err = &outcome.err;
    for line in [
        "> GET /prod/items?limit=1 HTTP/1.1\n",
        "> x-amz-security-token: <redacted>\n",
        &format!("> authorization: AWS4-HMAC-SHA256 Credential={EXAMPLE_SESSION_ACCESS_KEY}/"),
        "Signature=<redacted>\n",
        ">\n< HTTP/1.1 200 OK\n",
        "< x-demo: 1\n",
        "* canonical request:\nGET\n/prod/items\nlimit=1\n",
        "* string to sign:\nAWS4-HMAC-SHA256\n",
    ] {
        assert!(err.contains(line), "{line:?} missing:\n{err}");
    }
    assert_no_secret(err);
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
