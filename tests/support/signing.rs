//! Helpers for tests of the middleware: a client around it, and assertions that every
//! request a server received verifies with the crate's independent verifier, and that a
//! one-byte change in any signed part is rejected.

use std::time::Duration;

use bytes::Bytes;
use reqwest_sigv4::verify::{ReceivedRequest, Verified, Verifier};
use reqwest_sigv4::SigV4Middleware;

use super::{example_credentials, example_session_credentials, REGION, SERVICE};

/// A request a server received, and what the verifier established about it.
#[derive(Debug)]
pub struct SignedExchange {
    /// The request as received.
    pub request: ReceivedRequest,
    /// The verifier's findings.
    pub verified: Verified,
}

/// A verifier for `execute-api` in [`REGION`] that knows both example credentials and
/// checks the request time within API Gateway's five minutes.
pub fn verifier() -> Verifier {
    Verifier::new(example_credentials())
        .with_credentials(example_session_credentials())
        .service(SERVICE)
        .region(REGION)
        .max_skew(Duration::from_secs(300))
}

/// A wiremock server that answers 200 to everything (and records what it received).
pub async fn ok_server() -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// A client with `signer` in its stack, no redirects and no proxy.
pub fn middleware_client(signer: SigV4Middleware) -> reqwest_middleware::ClientWithMiddleware {
    let client = super::client_builder_for(&[])
        .build()
        .expect("build reqwest client");
    reqwest_middleware::ClientBuilder::new(client)
        .with(signer)
        .build()
}

/// Every request `server` received, each asserted to verify with `verifier`.
pub async fn assert_every_request_signed(
    server: &wiremock::MockServer,
    verifier: &Verifier,
) -> Vec<SignedExchange> {
    let received = server
        .received_requests()
        .await
        .expect("wiremock records requests");
    assert!(!received.is_empty(), "the server received no request");
    received
        .iter()
        .map(|r| {
            let request = ReceivedRequest::from_wiremock(r);
            let verified = verifier
                .verify(&request)
                .unwrap_or_else(|rejection| panic!("{} {} refused:\n{rejection}", r.method, r.url));
            SignedExchange { request, verified }
        })
        .collect()
}

/// Asserts that changing one byte of the path, the query, any signed header value or the
/// body makes `verifier` reject `request` (which it must accept as it is).
pub fn assert_tamper_rejected(request: &ReceivedRequest, verifier: &Verifier) {
    let verified = verifier
        .verify(request)
        .unwrap_or_else(|r| panic!("the untampered request must verify:\n{r}"));
    let (path, query) = request.path_and_query();
    let mut variants: Vec<(String, ReceivedRequest)> = Vec::new();
    if let Some(path) = flip_alphanumeric(path) {
        let target = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        variants.push(("path".into(), rebuild(request, Some(target), None, None)));
    }
    if let Some(query) = flip_alphanumeric(query) {
        let (path, _) = request.path_and_query();
        variants.push((
            "query".into(),
            rebuild(request, Some(format!("{path}?{query}")), None, None),
        ));
    }
    for name in &verified.signed_headers {
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| match flip_alphanumeric(v) {
                Some(changed) if n.eq_ignore_ascii_case(name) => (n.clone(), changed),
                _ => (n.clone(), v.clone()),
            })
            .collect();
        if headers.as_slice() != request.headers() {
            variants.push((
                format!("header {name}"),
                rebuild(request, None, Some(headers), None),
            ));
        }
    }
    if !request.body().is_empty() {
        let mut body = request.body().to_vec();
        body[0] ^= 0x01;
        variants.push((
            "body".into(),
            rebuild(request, None, None, Some(body.into())),
        ));
    }
    assert!(!variants.is_empty(), "nothing to tamper with");
    for (what, tampered) in variants {
        assert!(
            verifier.verify(&tampered).is_err(),
            "a one-byte change in the {what} was accepted"
        );
    }
}

/// `s` with its last ASCII letter or digit outside a `%XX` escape replaced by another one
/// (inside an escape, `A` and `a` are the same byte); `None` if it has none.
fn flip_alphanumeric(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let in_escape = |i: usize| (i >= 1 && bytes[i - 1] == b'%') || (i >= 2 && bytes[i - 2] == b'%');
    let (i, c) = s
        .char_indices()
        .rev()
        .find(|(i, c)| c.is_ascii_alphanumeric() && !in_escape(*i))?;
    let replacement = match c {
        'a' => 'b',
        '0' => '1',
        _ if c.is_ascii_digit() => '0',
        _ => 'a',
    };
    let mut out = s.to_owned();
    out.replace_range(i..i + 1, &replacement.to_string());
    Some(out)
}

fn rebuild(
    request: &ReceivedRequest,
    target: Option<String>,
    headers: Option<Vec<(String, String)>>,
    body: Option<Bytes>,
) -> ReceivedRequest {
    ReceivedRequest::new(
        request.method(),
        target.unwrap_or_else(|| request.target().to_owned()),
        headers.unwrap_or_else(|| request.headers().to_vec()),
        body.unwrap_or_else(|| request.body().clone()),
    )
}
