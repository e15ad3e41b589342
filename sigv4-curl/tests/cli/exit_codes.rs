//! Exit codes and error messages.

use crate::{run, EXAMPLE_ENV};

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
    // Nothing listens on port 9 of loopback: a connection error, not an HTTP status.
    let outcome = run(
        &["--region", "us-east-1", "http://127.0.0.1:9/"],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 1, "{}", outcome.err);
    assert_eq!(outcome.err.lines().count(), 1, "{}", outcome.err);
    let help = run(&["--help"], &[]).await;
    assert_eq!(help.code, 0);
    assert!(help.out.contains("Usage: sigv4-curl"), "{}", help.out);
    for flag in ["--profile", "--role-arn", "--sigv4a", "--json", "--include"] {
        assert!(help.out.contains(flag), "{flag} missing from --help");
    }
}
