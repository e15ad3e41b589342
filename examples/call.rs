//! `call`: a curl-like client that signs with reqwest-sigv4; the `sigv4-curl` binary
//! (feature `cli`) under its old name, with the same flags and exit codes.
//!
//! ```text
//! cargo run --example call -- https://abc123.execute-api.us-east-1.amazonaws.com/prod/items
//! cargo run --example call -- -X POST -H 'Content-Type: application/json' -d '{"a":1}' URL
//! cargo run --example call -- --origin https://abc123.execute-api.us-east-1.amazonaws.com/prod \
//!     https://api.example.com/items
//! ```
//!
//! Credentials come from the default AWS chain. The response body goes to stdout and the
//! status line to stderr; the exit code is 0 on success, 22 on an HTTP status >= 400, and
//! 1 on any other error.

fn main() -> std::process::ExitCode {
    reqwest_sigv4::cli::main("call")
}
