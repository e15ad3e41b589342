//! `sigv4-curl`: a curl-like client that signs each request with AWS SigV4.
//!
//! ```text
//! cargo install reqwest-sigv4 --features cli
//! sigv4-curl https://abc123.execute-api.us-east-1.amazonaws.com/prod/items
//! sigv4-curl --profile dev -X POST -H 'Content-Type: application/json' -d '{"a":1}' URL
//! sigv4-curl --origin https://abc123.execute-api.us-east-1.amazonaws.com/prod \
//!     https://api.example.com/items
//! ```
//!
//! The response body goes to stdout (or `-o FILE`) and the status line to stderr; the exit
//! code is 0 on success, 22 on an HTTP status >= 400, and 1 on any other error.

fn main() -> std::process::ExitCode {
    reqwest_sigv4::cli::main(reqwest_sigv4::cli::PROGRAM)
}
