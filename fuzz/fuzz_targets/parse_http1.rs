//! Feeds arbitrary bytes to the verifier's HTTP/1.1 request parser and, when they parse,
//! to `Verifier::verify`: neither may panic, hang or allocate without bound, and every
//! rendering of the outcome (`Debug`, `Display`, API Gateway's message) must work.
//!
//! Run (nightly): `cargo +nightly fuzz run parse_http1` from the crate root.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use aws_credential_types::Credentials;
use libfuzzer_sys::fuzz_target;
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};

fn verifiers() -> [Verifier; 3] {
    let long_term = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "fuzz",
    );
    let session = Credentials::new(
        "ASIAEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        Some("token".to_owned()),
        None,
        "fuzz",
    );
    [
        // The AWS suite's settings: any scope, no clock, a token added after signing.
        Verifier::new(long_term.clone())
            .with_credentials(session.clone())
            .skip_time_check()
            .require_signed_session_token(false),
        // API Gateway's: execute-api, a region, a clock and a 5-minute skew.
        Verifier::new(long_term.clone())
            .with_credentials(session)
            .service("execute-api")
            .region("us-east-1")
            .max_skew(Duration::from_secs(300))
            .now(UNIX_EPOCH + Duration::from_secs(1_440_938_160)),
        // S3's rules (single encoding, no normalization, literal `+`), unsigned payloads.
        Verifier::new(long_term)
            .service("s3")
            .skip_time_check()
            .allow_unsigned_payload(true)
            .require_signed_session_token(true),
    ]
}

fuzz_target!(|data: &[u8]| {
    let request = match ReceivedRequest::parse_http1(data) {
        Ok(request) => request,
        Err(error) => {
            let _ = format!("{error} {error:?}");
            return;
        }
    };
    let _ = format!("{request:?}");
    let _ = request.path_and_query();
    for verifier in verifiers() {
        match verifier.verify(&request) {
            Ok(verified) => {
                let _ = format!("{verified:?}");
            }
            Err(rejection) => {
                let _ = format!("{rejection} {rejection:?}");
                let _ = rejection.api_gateway_message();
            }
        }
    }
});
