//! Runs the README's Quick start, verbatim (see build.rs), against a local stand-in of
//! API Gateway: a wiremock server that answers only requests that the crate's verifier
//! finds validly signed, set up as the README's "Testing your own client" shows.
//! Credentials and region come from the environment, as the Quick start's default chain
//! reads them for a user.

#![allow(dead_code)]

include!(concat!(env!("OUT_DIR"), "/quick_start.rs"));

use reqwest_sigv4::aws::Credentials;
use reqwest_sigv4::verify::{wiremock::SignedBy, Verifier};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const ACCESS_KEY: &str = "AKIDEXAMPLE";
const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

#[tokio::test]
async fn quick_start_lists_items_from_a_signature_checking_stand_in() {
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_CONFIG_FILE", "/nonexistent/readme-consumer/config"),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/readme-consumer/credentials",
        ),
    ] {
        std::env::set_var(name, value);
    }
    std::env::remove_var("AWS_SESSION_TOKEN");
    std::env::remove_var("AWS_PROFILE");

    let credentials = Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "stand-in");
    let signed = SignedBy::new(
        Verifier::new(credentials)
            .service("execute-api")
            .region("us-east-1"),
    );
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/prod/items"))
        .and(query_param("limit", "10"))
        .and(signed.clone())
        .respond_with(ResponseTemplate::new(200).set_body_string("[\"widget\"]"))
        .expect(1)
        .mount(&server)
        .await;

    let items = list_items(&server.uri()).await;
    assert!(
        items.is_ok(),
        "{:?}; the stand-in's verifier said: {:?}",
        items.err().map(|e| e.to_string()),
        signed.last_rejection()
    );
    assert_eq!(items.unwrap(), "[\"widget\"]");
}
