//! Output: `-i`, `-o`.

use crate::support::{Topology, EXECUTE_API_HOST, STAGE};
use crate::{path_str, resolve, run, Scratch, EXAMPLE_ENV};

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
