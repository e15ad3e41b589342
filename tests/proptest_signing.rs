//! Property tests: arbitrary requests (methods, paths with UTF-8 and reserved characters,
//! awkward queries, header values with odd spacing, bodies) are signed by the middleware
//! (aws-sigv4), sent to a wiremock server, and checked with the crate's independent
//! verifier: every one must verify, and a one-byte change in its path, query, any signed
//! header or body must not.

mod support;

use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError};
use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};
use reqwest_sigv4::{Route, SigV4Middleware};
use support::signing::{assert_tamper_rejected, middleware_client, verifier};
use support::{example_session_credentials, REGION};
use wiremock::matchers::any as any_request;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// One runtime, one server and one client for every case of a property.
struct Harness {
    runtime: tokio::runtime::Runtime,
    server: MockServer,
    client: ClientWithMiddleware,
    /// Tests of this file share the server: one request at a time, so the last one the
    /// server recorded is the one just sent.
    one_at_a_time: std::sync::Mutex<()>,
}

impl Harness {
    fn start() -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let server = runtime.block_on(async {
            let server = MockServer::start().await;
            Mock::given(any_request())
                .respond_with(ResponseTemplate::new(200))
                .mount(&server)
                .await;
            server
        });
        let signer = SigV4Middleware::builder()
            .route(Route::direct(server.uri()))
            .region(REGION)
            .static_credentials(example_session_credentials())
            .build()
            .expect("valid config");
        let client = middleware_client(signer);
        Harness {
            runtime,
            server,
            client,
            one_at_a_time: std::sync::Mutex::new(()),
        }
    }

    /// Sends `case` through the middleware; the request as the server received it.
    fn send(&self, case: &Case) -> Result<ReceivedRequest, String> {
        let _turn = self
            .one_at_a_time
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.runtime.block_on(async {
            let before = self.server.received_requests().await.unwrap_or_default();
            let url = case.url(&self.server.uri());
            let method = reqwest::Method::from_bytes(case.method.as_bytes()).expect("method");
            let mut req = self.client.request(method, url.as_str());
            if !case.form_query.is_empty() {
                req = req.query(&case.form_query);
            }
            for (name, value) in &case.headers {
                req = req.header(name.as_str(), value.as_str());
            }
            if !case.body.is_empty() {
                req = req.body(case.body.clone());
            }
            let response = req.send().await.map_err(|e| format!("not sent: {e:?}"))?;
            let status = response.status();
            let after = self.server.received_requests().await.unwrap_or_default();
            if after.len() != before.len() + 1 {
                return Err(format!(
                    "the server recorded {} requests for one send (status {status})",
                    after.len() - before.len()
                ));
            }
            if status != 200 {
                return Err(format!("status {status}"));
            }
            Ok(ReceivedRequest::from_wiremock(
                after.last().expect("one request"),
            ))
        })
    }
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::start)
}

/// One generated request.
#[derive(Clone, Debug)]
struct Case {
    method: &'static str,
    /// Path after `/prod`, as written in the URL (the URL parser encodes what it must).
    path: String,
    /// Raw query written in the URL, without `?`.
    query: Option<String>,
    /// Pairs added with reqwest's `.query()` (form encoding: spaces as `+`).
    form_query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Case {
    fn url(&self, base: &str) -> String {
        let mut url = format!("{base}/prod{}", self.path);
        if let Some(q) = &self.query {
            url.push('?');
            url.push_str(q);
        }
        url
    }
}

/// Characters that stress path and query encoding: sub-delims, gen-delims, characters the
/// URL parser percent-encodes, `%` itself, and UTF-8 (`ê` ends in byte 0xAA, `Ê` in 0x8A).
const AWKWARD: &[char] = &[
    ' ', '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '@', '%', '-', '.', '_', '~',
    '"', '<', '>', '[', ']', '^', '`', '{', '|', '}', '\\', 'é', 'ê', 'Ê', 'ü', '日', '本', '😀',
    '\u{200b}', 'Ω',
];

fn text(extra: &'static [&'static str], max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            4 => "[a-zA-Z0-9]{1,3}",
            2 => prop::sample::select(AWKWARD).prop_map(String::from),
            1 => any::<char>().prop_map(String::from),
            1 => prop::sample::select(extra).prop_map(String::from),
        ],
        0..max,
    )
    .prop_map(|parts| parts.concat())
}

fn path() -> impl Strategy<Value = String> {
    let segment = prop_oneof![
        6 => text(&["%2F", "%41", "%c3%a9", "%zz", "%", "%2B", "%20"], 5),
        1 => prop::sample::select(&[".", "..", "", "%2e", "~user"][..]).prop_map(String::from),
    ];
    (prop::collection::vec(segment, 1..4), any::<bool>()).prop_map(|(segments, trailing)| {
        let mut p = String::new();
        for s in segments {
            p.push('/');
            // `?` and `#` would end the path; they are covered in the query.
            p.push_str(&s.replace(['?', '#'], "_"));
        }
        if trailing {
            p.push('/');
        }
        p
    })
}

fn query() -> impl Strategy<Value = Option<String>> {
    let part = || {
        text(&["+", "%2B", "%20", "%3D", "%26", "?", "/", "%", "%zz"], 4)
            .prop_map(|s| s.replace(['#', '&', '='], "_"))
    };
    let pair = prop_oneof![
        3 => (part(), part()).prop_map(|(k, v)| format!("{k}={v}")),
        1 => part(),                                 // key without `=`
        1 => part().prop_map(|k| format!("{k}=")),   // empty value
        1 => part().prop_map(|v| format!("={v}")),   // empty key
        1 => Just(String::new()),                    // `&&`
    ];
    prop::option::of(prop::collection::vec(pair, 1..5).prop_map(|pairs| pairs.join("&")))
}

fn form_query() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (text(&["k", "a b"], 3), text(&["a b", "1+1", "%"], 3)),
        0..3,
    )
}

/// Header values with spaces in odd places: leading, trailing, inner runs. Tabs only inside
/// a value (see `tab_at_either_end_of_a_signed_header_value` for tabs at the ends).
fn header_value() -> impl Strategy<Value = String> {
    let word = "[!-~]{1,6}";
    let separator = prop::sample::select(&[" ", "  ", "\t", " \t ", "    ", "\t\t"][..]);
    (
        prop::sample::select(&["", " ", "   "][..]),
        prop::option::of((word, prop::collection::vec((separator, word), 0..4))),
        prop::sample::select(&["", " ", "  "][..]),
    )
        .prop_map(|(lead, words, trail)| {
            let mut v = String::from(lead);
            if let Some((first, rest)) = words {
                v.push_str(&first);
                for (separator, w) in rest {
                    v.push_str(separator);
                    v.push_str(&w);
                }
            }
            v.push_str(trail);
            v
        })
}

fn headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            prop::sample::select(&["x-prop-a", "x-prop-b", "X-Prop-A", "content-type"][..]),
            header_value(),
        ),
        0..4,
    )
    .prop_map(|hs| hs.into_iter().map(|(n, v)| (n.to_owned(), v)).collect())
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::sample::select(&["GET", "HEAD", "DELETE", "OPTIONS", "POST", "PUT", "PATCH"][..]),
        path(),
        query(),
        form_query(),
        headers(),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(method, path, query, form_query, headers, body)| {
            let body = if matches!(method, "GET" | "HEAD" | "OPTIONS") {
                Vec::new()
            } else {
                body
            };
            Case {
                method,
                path,
                query,
                form_query,
                headers,
                body,
            }
        })
}

/// `s` with its last ASCII letter or digit replaced so that the meaning changes even
/// inside a percent-escape (`A` never becomes `a`: `%AA` and `%Aa` are the same byte).
fn flip(s: &str) -> Option<String> {
    let (i, c) = s
        .char_indices()
        .rev()
        .find(|(_, c)| c.is_ascii_alphanumeric())?;
    let replacement = match c {
        '0'..='8' => char::from(c as u8 + 1),
        '9' => '0',
        _ if c.eq_ignore_ascii_case(&'a') => 'b',
        _ => 'a',
    };
    let mut out = s.to_owned();
    out.replace_range(i..i + 1, &replacement.to_string());
    Some(out)
}

/// Like `support::signing::assert_tamper_rejected`, with [`flip`] (whose changes always
/// change the meaning).
fn check_tampering(request: &ReceivedRequest, verifier: &Verifier) -> Result<(), TestCaseError> {
    let verified = verifier
        .verify(request)
        .map_err(|r| TestCaseError::fail(format!("untampered request refused:\n{r}")))?;
    let (path, query) = request.path_and_query();
    let rebuild = |target: String, headers: Vec<(String, String)>, body: bytes::Bytes| {
        ReceivedRequest::new(request.method(), target, headers, body)
    };
    let with_query = |p: &str, q: &str| {
        if q.is_empty() {
            p.to_owned()
        } else {
            format!("{p}?{q}")
        }
    };
    let mut variants = Vec::new();
    if let Some(p) = flip(path) {
        variants.push((
            "path".to_owned(),
            rebuild(
                with_query(&p, query),
                request.headers().to_vec(),
                request.body().clone(),
            ),
        ));
    }
    if let Some(q) = flip(query) {
        variants.push((
            "query".to_owned(),
            rebuild(
                with_query(path, &q),
                request.headers().to_vec(),
                request.body().clone(),
            ),
        ));
    }
    for name in &verified.signed_headers {
        let mut changed = false;
        let headers: Vec<(String, String)> = request
            .headers()
            .iter()
            .map(|(n, v)| match flip(v) {
                Some(f) if !changed && n.eq_ignore_ascii_case(name) => {
                    changed = true;
                    (n.clone(), f)
                }
                _ => (n.clone(), v.clone()),
            })
            .collect();
        if changed {
            variants.push((
                format!("header {name}"),
                rebuild(request.target().to_owned(), headers, request.body().clone()),
            ));
        }
    }
    if !request.body().is_empty() {
        let mut body = request.body().to_vec();
        body[0] ^= 0x01;
        variants.push((
            "body".to_owned(),
            rebuild(
                request.target().to_owned(),
                request.headers().to_vec(),
                body.into(),
            ),
        ));
    }
    for (what, tampered) in variants {
        if verifier.verify(&tampered).is_ok() {
            return Err(TestCaseError::fail(format!(
                "a one-byte change in the {what} was accepted: {tampered:?}"
            )));
        }
    }
    Ok(())
}

/// Whether every percent-escape in `query` decodes to UTF-8.
fn query_is_utf8(query: &str) -> bool {
    percent_encoding::percent_decode_str(query)
        .decode_utf8()
        .is_ok()
}

proptest! {
    // 64 cases in CI; `PROPTEST_CASES=5000 cargo test --test proptest_signing` for a
    // deeper run.
    #![proptest_config(Config {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(64),
        failure_persistence: None,
        ..Config::default()
    })]

    #[test]
    fn signed_requests_verify_and_tampering_is_rejected(case in case()) {
        let url = case.url("http://127.0.0.1:1");
        // Only URLs reqwest can send at all.
        let parsed = url::Url::parse(&url);
        prop_assume!(parsed.is_ok());
        // Percent-escapes in the query that do not decode to UTF-8 are a known disagreement
        // (`query_escape_that_is_not_utf8`), kept out of the property.
        prop_assume!(parsed
            .as_ref()
            .is_ok_and(|u| query_is_utf8(u.query().unwrap_or(""))));
        let received = harness().send(&case).map_err(TestCaseError::fail)?;
        let verifier = verifier();
        if let Err(rejection) = verifier.verify(&received) {
            return Err(TestCaseError::fail(format!(
                "signed by aws-sigv4, refused by the verifier:\n{received:?}\n{rejection}"
            )));
        }
        check_tampering(&received, &verifier)?;
    }
}

// Fixed cases: the shapes the property is after, pinned so they run every time.

fn send_fixed(case: Case) -> ReceivedRequest {
    let received = harness()
        .send(&case)
        .unwrap_or_else(|e| panic!("{case:?}: {e}"));
    let v = verifier();
    v.verify(&received)
        .unwrap_or_else(|r| panic!("{case:?} refused:\n{r}"));
    assert_tamper_rejected(&received, &v);
    received
}

fn fixed(method: &'static str, path: &str, query: Option<&str>) -> Case {
    Case {
        method,
        path: path.to_owned(),
        query: query.map(str::to_owned),
        form_query: Vec::new(),
        headers: Vec::new(),
        body: Vec::new(),
    }
}

#[test]
fn plus_and_encoded_plus_and_bare_keys_in_the_query() {
    send_fixed(fixed("GET", "/q", Some("a=b+c&d=%2B&flag&empty=&=v&&x=1")));
}

#[test]
fn reserved_and_utf8_path() {
    send_fixed(fixed("GET", "/a b/ê/日本/!$&'()*+,;=:@/%2F/", None));
}

#[test]
fn header_values_with_space_runs_and_inner_tabs() {
    let mut case = fixed("POST", "/h", None);
    case.headers = vec![
        ("x-prop-a".into(), "  lead and  inner   runs  ".into()),
        ("x-prop-b".into(), "inner\ttab and \t mixed".into()),
        ("x-prop-a".into(), "second value".into()),
    ];
    case.body = b"body".to_vec();
    let received = send_fixed(case);
    assert_eq!(received.header_values("x-prop-a").count(), 2);
}

/// A signed header value that starts or ends with a tab. HTTP strips leading and trailing
/// whitespace (spaces and tabs, RFC 9110 5.5) from a field value, so the server, and API
/// Gateway, can only ever see the value without it; aws-sigv4's canonical form trims
/// spaces only, so it signs the tab and the signature cannot match.
#[test]
fn tab_at_either_end_of_a_signed_header_value() {
    for value in ["\tleading", "trailing\t", " \tboth\t "] {
        let mut case = fixed("GET", "/tab", None);
        case.headers = vec![("x-prop-a".into(), value.into())];
        send_fixed(case);
    }
}

/// A query escape that is not UTF-8 (`?%A0`). aws-sigv4 decodes the query with
/// `form_urlencoded::parse`, which replaces invalid UTF-8 with U+FFFD, and so signs
/// `%EF%BF%BD=`; the verifier keeps the byte, as SigV4's decode-then-encode rule says, and
/// expects `%A0=`. What API Gateway does is not documented, so the middleware refuses to
/// sign such a query with a typed error, and sends nothing.
#[test]
fn query_escape_that_is_not_utf8_is_refused() {
    let err = harness()
        .send(&fixed("GET", "/", Some("%A0")))
        .expect_err("refused");
    assert!(err.contains("percent-escapes that are not UTF-8"), "{err}");
    assert!(err.starts_with("not sent"), "{err}");
}
