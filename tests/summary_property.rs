//! Property: the `SignedRequest` summary is what was signed. For every service profile
//! (execute-api, lambda, es, aoss, vpc-lattice-svcs, s3), signed in headers or in the
//! query, with arbitrary paths, queries, headers and bodies, the HMAC of the summary's
//! `string_to_sign()` under the derived signing key is the signature on the wire, and the
//! path the summary shows is the path that was sent.
//!
//! The requests never leave the process: a last middleware records what would have been
//! sent and answers 200 itself.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use http::Extensions;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use reqwest_middleware::{Middleware, Next};
use reqwest_sigv4::canonical::{self, CredentialScope};
use reqwest_sigv4::SummaryPolicy;
use reqwest_sigv4::{Error, Route, SigV4Middleware, SignedRequest};

/// The services whose profiles differ (payload hash header, unsigned payload, S3 encoding),
/// and the API Gateway-like ones that take the defaults.
const SERVICES: [&str; 6] = [
    "execute-api",
    "lambda",
    "es",
    "aoss",
    "vpc-lattice-svcs",
    "s3",
];
const REGION: &str = "us-west-2";
const HOST: &str = "service.example.com";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// What the last middleware saw: the request as it would have gone on the wire.
#[derive(Clone, Debug)]
struct Sent {
    url: url::Url,
    headers: http::HeaderMap,
}

/// Records the request and answers 200 without sending it.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Option<Sent>>>);

#[async_trait::async_trait]
impl Middleware for Capture {
    async fn handle(
        &self,
        req: reqwest::Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(Sent {
            url: req.url().clone(),
            headers: req.headers().clone(),
        });
        let mut response = http::Response::new(reqwest::Body::from(""));
        *response.status_mut() = http::StatusCode::OK;
        Ok(reqwest::Response::from(response))
    }
}

#[derive(Clone, Debug)]
struct Case {
    service: &'static str,
    in_query: bool,
    session_token: bool,
    method: &'static str,
    path: String,
    query: Option<String>,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

/// Characters that encoders and verifiers disagree on most: reserved, sub-delims, `%`,
/// `+`, space, non-ASCII.
const AWKWARD: &[&str] = &[
    "+", "=", "!", "$", "'", "(", ")", "*", ",", ";", ":", "@", " ", "%", "%2F", "%2f", "%41",
    "%zz", "&", "~", "-", ".", "_", "é", "日本", "😀", "\"", "<", "[", "]", "|", "^", "`",
];

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => "[a-zA-Z0-9]{1,3}",
            3 => prop::sample::select(AWKWARD).prop_map(str::to_owned),
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        5 => text(5),
        1 => prop::sample::select(&[".", "..", ""][..]).prop_map(str::to_owned),
    ];
    // `?` and `#` would end the path: they are exercised in the query.
    let tail = prop::sample::select(&["", "/"][..]);
    (prop::collection::vec(segment, 1..4), tail).prop_map(|(segments, tail)| {
        format!("/{}{tail}", segments.join("/")).replace(['?', '#'], "_")
    })
}

fn query() -> impl Strategy<Value = Option<String>> {
    let part = || text(4).prop_map(|s| s.replace(['#', '&', '='], "_"));
    let pair = prop_oneof![
        3 => (part(), part()).prop_map(|(k, v)| format!("{k}={v}")),
        1 => part(),
        1 => part().prop_map(|k| format!("{k}=")),
    ];
    prop::option::of(prop::collection::vec(pair, 1..4).prop_map(|pairs| pairs.join("&")))
}

fn headers() -> impl Strategy<Value = Vec<(&'static str, String)>> {
    let value = prop::collection::vec(
        (
            "[!-~]{1,5}",
            prop::sample::select(&[" ", "  ", "\t", ""][..]),
        ),
        1..4,
    )
    .prop_map(|words| {
        words
            .into_iter()
            .map(|(w, sep)| format!("{sep}{w}"))
            .collect::<String>()
    });
    prop::collection::vec(
        (
            prop::sample::select(&["content-type", "x-amz-meta-note", "x-custom", "X-Custom"][..]),
            value,
        ),
        0..3,
    )
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            prop::sample::select(&SERVICES[..]),
            any::<bool>(),
            any::<bool>(),
        ),
        prop::sample::select(&["GET", "PUT", "POST", "DELETE", "HEAD"][..]),
        path(),
        query(),
        headers(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |((service, in_query, session_token), method, path, query, headers, body)| Case {
                service,
                in_query,
                session_token,
                method,
                path,
                query,
                headers,
                body: if matches!(method, "GET" | "HEAD") {
                    Vec::new()
                } else {
                    body
                },
            },
        )
}

fn credentials(session_token: bool) -> Credentials {
    Credentials::new(
        "AKIDEXAMPLE",
        SECRET,
        session_token.then(|| "FQoGZXIvYXdzE+token/with=reserved".to_owned()),
        None,
        "summary-property",
    )
}

/// One client for every case (building one loads TLS roots, which dwarfs a case).
fn plain_client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new).clone()
}

/// Sends `case` through the middleware; the summary and what would have gone on the wire,
/// or `None` when the middleware refused to sign it (with a typed error, nothing sent).
fn send(
    runtime: &tokio::runtime::Runtime,
    case: &Case,
    url: &url::Url,
) -> Result<Option<(SignedRequest, Sent)>, TestCaseError> {
    let mut route = Route::direct(format!("https://{HOST}"))
        .service(case.service)
        .region(REGION);
    if case.in_query {
        route = route.sign_in_query(Duration::from_secs(300));
    }
    let signer = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(route)
        .static_credentials(credentials(case.session_token))
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let capture = Capture::default();
    let client = reqwest_middleware::ClientBuilder::new(plain_client())
        .with(signer)
        .with(capture.clone())
        .build();
    let mut request = client.request(
        reqwest::Method::from_bytes(case.method.as_bytes()).expect("method"),
        url.clone(),
    );
    for (name, value) in &case.headers {
        request = request.header(*name, value.as_str());
    }
    if !case.body.is_empty() {
        request = request.body(case.body.clone());
    }
    let response = match runtime.block_on(request.send()) {
        Ok(response) => response,
        Err(err) => {
            return match Error::from_middleware(&err) {
                Some(Error::UnsignableQuery { .. } | Error::InvalidHeaderValue { .. }) => Ok(None),
                _ => Err(TestCaseError::fail(format!("not sent: {err:?}"))),
            }
        }
    };
    let summary = response
        .extensions()
        .get::<SignedRequest>()
        .cloned()
        .ok_or_else(|| TestCaseError::fail("no summary on the response"))?;
    let sent = capture
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .ok_or_else(|| TestCaseError::fail("nothing sent"))?;
    Ok(Some((summary, sent)))
}

/// The signature as sent: `Signature=` of `Authorization`, or `X-Amz-Signature`.
fn wire_signature(sent: &Sent) -> Option<String> {
    if let Some(value) = sent.headers.get("authorization") {
        let value = value.to_str().ok()?;
        return value
            .split([',', ' '])
            .find_map(|part| part.trim().strip_prefix("Signature="))
            .map(str::to_owned);
    }
    sent.url
        .query_pairs()
        .find(|(name, _)| name == "X-Amz-Signature")
        .map(|(_, value)| value.into_owned())
}

fn check(case: &Case, runtime: &tokio::runtime::Runtime) -> Result<(), TestCaseError> {
    let mut written = format!("https://{HOST}{}", case.path);
    if let Some(query) = &case.query {
        written.push('?');
        written.push_str(query);
    }
    // Only URLs a client can send at all.
    let Ok(url) = url::Url::parse(&written) else {
        return Ok(());
    };
    let Some((summary, sent)) = send(runtime, case, &url)? else {
        return Ok(());
    };
    let signature =
        wire_signature(&sent).ok_or_else(|| TestCaseError::fail("no signature on the wire"))?;
    let scope = CredentialScope::new(&summary.amz_date()[..8], REGION, case.service);
    let key = canonical::signing_key(SECRET, &scope);
    let string_to_sign = summary.string_to_sign();
    prop_assert!(
        key.verify(&string_to_sign, &signature),
        "the summary is not what was signed\n{case:?}\nsent: {}\ncanonical request (summary):\n{}",
        sent.url,
        summary.canonical_request()
    );
    // The path shown is the path sent (every route here signs what it sends).
    let shown_path = summary
        .path_and_query()
        .split('?')
        .next()
        .unwrap_or_default();
    prop_assert_eq!(shown_path, sent.url.path());
    if !case.in_query {
        prop_assert_eq!(
            summary.path_and_query(),
            &sent.url[url::Position::BeforePath..url::Position::AfterQuery]
        );
    }
    Ok(())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

proptest! {
    // Every profile in both placements within the default 96 cases;
    // `PROPTEST_CASES=5000 cargo test --test summary_property` for a deeper run.
    #![proptest_config(Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(96),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn the_summary_is_what_was_signed(case in case()) {
        check(&case, &runtime())?;
    }
}

/// The shapes the property is after, pinned for every profile and placement so they run
/// every time whatever the random draw.
#[test]
fn every_profile_and_placement_on_reserved_characters() {
    let runtime = runtime();
    for service in SERVICES {
        for in_query in [false, true] {
            for session_token in [false, true] {
                let case = Case {
                    service,
                    in_query,
                    session_token,
                    method: "PUT",
                    path: "/dir/a+b=c!$'()*,;:@ é%2f/./x/../k~".into(),
                    query: Some("prefix=x+y&delimiter=/&k=%2B&flag&e=".into()),
                    headers: vec![
                        ("x-amz-meta-note", "  two  spaces\tand tab ".into()),
                        ("content-type", "text/plain".into()),
                    ],
                    body: b"body bytes".to_vec(),
                };
                check(&case, &runtime)
                    .unwrap_or_else(|e| panic!("{service} in_query={in_query}: {e}"));
            }
        }
    }
}
