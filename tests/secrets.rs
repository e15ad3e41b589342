//! Secrets never leak: while requests are signed with a session token (successes, a
//! clock-skew retry, signature-mismatch 403s that quote the canonical string with the token
//! the way API Gateway does, a cross-host redirect, and failures), every tracing event at
//! TRACE (the crate's and aws-sigv4's own) and the `Debug` / `Display` of every public type
//! are captured, and none may contain the secret key, the session token or a signature
//! (taken from the `Authorization` headers the servers received).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::Credentials;
use http::{Extensions, HeaderValue};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use reqwest_sigv4::verify::{ReceivedRequest, Verifier, SIGNATURE_MISMATCH_MESSAGE};
use reqwest_sigv4::SummaryPolicy;
use reqwest_sigv4::{
    ConfigError, CrossRouteRedirect, Error, Explanation, RedirectPolicy, Route, SigV4Middleware,
    SignedRequest,
};
use support::credentials::Failing;
use support::logs::Captured as Capture;
use support::{client_for, ApiGateway, API_ID, EXECUTE_API_HOST, REGION, SERVICE, STAGE};
use tracing_subscriber::fmt::format::FmtSpan;
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, Request as WiremockRequest, Respond, ResponseTemplate};

/// Secrets used only by this file, so that a hit can only be a leak.
const ACCESS_KEY: &str = "ASIALEAKCHECK0000001";
const SECRET_KEY: &str = "LeakCheckSecret/K7MDENG+bPxRfiCYzz9Q8w7e";
const SESSION_TOKEN: &str = "IQoJLeakCheckSessionToken//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+tok==";
/// A token API Gateway claims in a mismatch message (another session's): also secret.
const OTHER_TOKEN: &str = "IQoJOtherSessionTokenFromTheServer/////////wEaCXVzLXdlc3QtMiJH+x==";

fn credentials() -> Credentials {
    Credentials::new(
        ACCESS_KEY,
        SECRET_KEY,
        Some(SESSION_TOKEN.to_owned()),
        None,
        "leak-check",
    )
}

fn verifier() -> Verifier {
    Verifier::new(credentials())
        .service(SERVICE)
        .region(REGION)
        .max_skew(Duration::from_secs(300))
}

/// Records the `Debug` of every request as it leaves the signer (after signing).
#[derive(Clone, Default)]
struct DebugTap(Arc<Mutex<Vec<String>>>);

#[async_trait::async_trait]
impl Middleware for DebugTap {
    async fn handle(
        &self,
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.0
            .lock()
            .unwrap()
            .push(format!("{req:?} {:?} {:?}", req.headers(), req.url()));
        next.run(req, extensions).await
    }
}

/// Every `Debug` / `Display` rendering collected during the test, with what it was.
#[derive(Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    fn debug(&mut self, what: &str, value: &dyn std::fmt::Debug) {
        self.0.push((what.to_owned(), format!("{value:?}")));
        self.0
            .push((format!("{what} (pretty)"), format!("{value:#?}")));
    }

    fn display(&mut self, what: &str, value: &dyn std::fmt::Display) {
        self.0.push((what.to_owned(), value.to_string()));
    }
}

/// Answers like API Gateway to a request signed with another secret key: 403 with the
/// canonical string and string-to-sign it expected, session token included verbatim (as
/// API Gateway does). With `other_path`, its canonical string names another path and
/// another session token, so the middleware's diagnosis finds differences to report. With
/// `in_query`, the request was query-signed: the canonical query quotes the token encoded.
struct MismatchResponder {
    other_path: bool,
    in_query: bool,
}

impl Respond for MismatchResponder {
    fn respond(&self, request: &WiremockRequest) -> ResponseTemplate {
        let received = ReceivedRequest::from_wiremock(request);
        let wrong = Verifier::new(Credentials::new(
            ACCESS_KEY,
            "not-the-secret-the-client-used",
            Some(SESSION_TOKEN.to_owned()),
            None,
            "server",
        ))
        .service(SERVICE)
        .region(REGION);
        let rejection = wrong
            .verify(&received)
            .expect_err("signed with another secret");
        let mut creq = rejection
            .canonical_request
            .clone()
            .expect("canonical request");
        let quoted = if self.in_query {
            encoded(SESSION_TOKEN)
        } else {
            SESSION_TOKEN.to_owned()
        };
        assert!(creq.contains(&quoted), "API Gateway quotes the token");
        if self.other_path {
            let (_, rest) = creq.split_once('\n').expect("method line");
            let (_, rest) = rest.split_once('\n').expect("path line");
            creq = format!("GET\n/prod/elsewhere\n{rest}").replace(SESSION_TOKEN, OTHER_TOKEN);
        }
        let sts = rejection.string_to_sign.clone().expect("string to sign");
        let message = format!(
            "{SIGNATURE_MISMATCH_MESSAGE}\n\nThe Canonical String for this request should have been\n'{creq}'\n\nThe String-to-Sign should have been\n'{sts}'\n"
        );
        ResponseTemplate::new(403)
            .insert_header("x-amzn-errortype", "InvalidSignatureException")
            .set_body_json(serde_json::json!({ "message": message }))
    }
}

/// `server` redirects `/prod/away` off the route to `elsewhere`, which answers 200.
async fn mount_redirect_away(server: &MockServer, elsewhere: &MockServer) {
    Mock::given(path("/prod/away"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("{}/x", elsewhere.uri())),
        )
        .mount(server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(elsewhere)
        .await;
}

/// A provider that fails with a message (providers do not put secrets in errors).
fn failing() -> Failing {
    Failing(|| CredentialsError::provider_error("the web identity token file is unreadable"))
}

fn signer_builder(base: &str) -> reqwest_sigv4::SigV4MiddlewareBuilder {
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(base))
        .region(REGION)
        .static_credentials(credentials())
}

fn client(
    signer: SigV4Middleware,
    tap: &DebugTap,
    resolves: &[(&str, std::net::SocketAddr)],
) -> ClientWithMiddleware {
    ClientBuilder::new(client_for(resolves))
        .with(signer)
        .with(tap.clone())
        .build()
}

fn signature_of(authorization: &str) -> String {
    authorization
        .split("Signature=")
        .nth(1)
        .expect("a signature")
        .trim()
        .to_owned()
}

/// Captures every tracing event and span at TRACE on this thread while the guard lives.
fn capture_traces() -> (Capture, tracing::subscriber::DefaultGuard) {
    capture_traces_of("trace")
}

/// Captures the tracing events and spans `filter` (an `EnvFilter` directive) lets through on
/// this thread while the guard lives.
fn capture_traces_of(filter: &str) -> (Capture, tracing::subscriber::DefaultGuard) {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_span_events(FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    (capture, tracing::subscriber::set_default(subscriber))
}

/// Asserts that no secret appears in the captured log or in anything shown.
fn assert_no_leaks(log: &str, shown: &Shown, secrets: &[(&str, String)]) {
    let mut leaks = Vec::new();
    for (what, secret) in secrets {
        if log.contains(secret.as_str()) {
            let line = log
                .lines()
                .find(|l| l.contains(secret.as_str()))
                .unwrap_or_default();
            leaks.push(format!("{what} in the tracing output: {line}"));
        }
        for (source, text) in &shown.0 {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{what} in {source}: {text}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n\n"));
}

#[tokio::test]
async fn no_secret_in_traces_or_debug_output() {
    let (capture, _guard) = capture_traces();

    let tap = DebugTap::default();
    let mut shown = Shown::default();
    let mut signatures: Vec<String> = Vec::new();
    let execute_api = format!("http://{EXECUTE_API_HOST}");

    // 1. Successes through the API Gateway stand-in; then a clock-skew retry.
    for offset in [0, 600] {
        let gateway = ApiGateway::builder()
            .credentials([credentials()])
            .rest_api(API_ID, &[STAGE])
            .clock_offset_secs(offset)
            .start()
            .await;
        let signer = signer_builder(&execute_api).build().unwrap();
        shown.debug("SigV4Middleware", &signer);
        let client = client(signer.clone(), &tap, &[(EXECUTE_API_HOST, gateway.addr())]);
        shown.debug("ClientWithMiddleware", &client);
        let get = client
            .get(format!("{execute_api}/{STAGE}/items?limit=10"))
            .send()
            .await
            .unwrap();
        assert_eq!(get.status(), 200);
        shown.debug("Response", &get);
        shown.debug("Response headers", get.headers());
        let summary = get.extensions().get::<SignedRequest>().cloned().unwrap();
        shown.debug("SignedRequest", &summary);
        shown.display(
            "SignedRequest::canonical_request",
            &summary.canonical_request(),
        );
        shown.display("SignedRequest::string_to_sign", &summary.string_to_sign());
        let post = client
            .post(format!("{execute_api}/{STAGE}/items"))
            .json(&serde_json::json!({"name": "widget"}))
            .send()
            .await
            .unwrap();
        assert_eq!(post.status(), 200);
        if offset != 0 {
            assert!(signer.clock_offset_millis() != 0, "the retry happened");
        }
        for recorded in gateway.received() {
            signatures.push(signature_of(recorded.header("authorization").unwrap()));
            let request = ReceivedRequest::new(
                recorded.method.clone(),
                recorded.target.clone(),
                recorded.headers.clone(),
                recorded.body.clone(),
            );
            shown.debug("ReceivedRequest", &request);
            let v = verifier().now(gateway.now());
            match v.verify(&request) {
                Ok(verified) => {
                    shown.debug("Verified", &verified);
                    // A tampered copy: a Rejection for a mismatch, with its canonical request.
                    let tampered = ReceivedRequest::new(
                        request.method(),
                        format!("{}x", request.target()),
                        request.headers().to_vec(),
                        request.body().clone(),
                    );
                    let rejection = v.verify(&tampered).unwrap_err();
                    shown.debug("Rejection", &rejection);
                    shown.display("Rejection", &rejection);
                    shown.display(
                        "Rejection::api_gateway_message",
                        &rejection.api_gateway_message(),
                    );
                }
                Err(rejection) => {
                    // The first request of the skewed gateway.
                    shown.debug("Rejection (skew)", &rejection);
                    shown.display("Rejection (skew)", &rejection);
                }
            }
            // The same request as parsed from raw text, header names as a proxy might case them.
            let raw = format!(
                "{} {} HTTP/1.1\r\n{}\r\n\r\n",
                request.method(),
                request.target(),
                request
                    .headers()
                    .iter()
                    .map(|(n, v)| format!("{}: {v}", n.to_ascii_uppercase()))
                    .collect::<Vec<_>>()
                    .join("\r\n")
            );
            let parsed = ReceivedRequest::parse_http1(raw.as_bytes()).unwrap();
            shown.debug("ReceivedRequest (parsed)", &parsed);
        }
        shown.debug("Verifier", &verifier());
    }

    // 2. Signature mismatches answered API Gateway's way, token quoted in the message.
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/prod/same"))
        .respond_with(MismatchResponder {
            other_path: false,
            in_query: false,
        })
        .mount(&server)
        .await;
    Mock::given(path("/prod/differs"))
        .respond_with(MismatchResponder {
            other_path: true,
            in_query: false,
        })
        .mount(&server)
        .await;
    mount_redirect_away(&server, &elsewhere).await;
    let signer = signer_builder(&server.uri()).build().unwrap();
    let client = client(signer, &tap, &[]);
    for p in ["/prod/same", "/prod/differs"] {
        let resp = client
            .get(format!("{}{p}", server.uri()))
            .header("x-custom", "value")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 403);
        let explanation = resp
            .extensions()
            .get::<Explanation>()
            .cloned()
            .expect("a 403 is explained");
        shown.debug("Explanation", &explanation);
        shown.display("Explanation", &explanation);
        shown.debug("Response (403)", &resp);
        if let Some(summary) = resp.extensions().get::<SignedRequest>() {
            shown.debug("SignedRequest (403)", summary);
        }
    }
    // 3. A redirect off the route: followed unsigned.
    let resp = client
        .get(format!("{}/prod/away", server.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // And a request to a host no route names: sent as it is.
    let resp = client
        .get(format!("{}/direct", elsewhere.uri()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    for r in server.received_requests().await.unwrap() {
        let auth = r.headers.get("authorization").unwrap().to_str().unwrap();
        signatures.push(signature_of(auth));
    }
    for r in elsewhere.received_requests().await.unwrap() {
        assert!(!r.headers.contains_key("x-amz-security-token"));
    }

    // 4. Failures: each error's Debug and Display.
    let failing = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(server.uri()))
        .region(REGION)
        .credentials_provider(failing())
        .build()
        .unwrap();
    let err = ClientBuilder::new(client_for(&[]))
        .with(failing)
        .build()
        .get(format!("{}/prod/x", server.uri()))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(
        Error::from_middleware(&err),
        Some(Error::CredentialsUnavailable { .. })
    ));
    shown.debug("reqwest_middleware::Error", &err);
    shown.display("reqwest_middleware::Error", &err);
    // The causes the crate's error keeps (the provider's message, the provider's error and
    // its sources), each as a caller walking `source()` sees it, and the error's kind.
    let ours = Error::from_middleware(&err).unwrap();
    shown.debug("ErrorKind", &ours.kind());
    let mut source = std::error::Error::source(ours);
    while let Some(cause) = source {
        shown.debug("Error source", &cause);
        shown.display("Error source", &cause);
        source = cause.source();
    }
    let small = signer_builder(&server.uri()).body_limit(4).build().unwrap();
    let small_client = ClientBuilder::new(client_for(&[])).with(small).build();
    let err = small_client
        .post(format!("{}/prod/x", server.uri()))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(vec![
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"too long")),
        ])))
        .send()
        .await
        .unwrap_err();
    shown.debug("Error::BodyTooLarge", &err);
    let err = client
        .get(format!("{}/prod/x", server.uri()))
        .header("x-bad", HeaderValue::from_bytes(b"\xff").unwrap())
        .send()
        .await
        .unwrap_err();
    shown.debug("Error::InvalidHeaderValue", &err);
    shown.display("Error::InvalidHeaderValue", &err);
    for e in [
        Error::CredentialsTimeout(Duration::from_secs(1)),
        Error::EmptyCredentials,
        Error::UnsignableQuery {
            parameter: "%A0".into(),
        },
        Error::Signing("x".into()),
    ] {
        shown.debug("Error", &e);
        shown.display("Error", &e);
    }
    let config_error = SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(Route::direct(server.uri()))
        .static_credentials(Credentials::new("", SECRET_KEY, None, None, "t"))
        .build()
        .unwrap_err();
    assert!(matches!(config_error, ConfigError::EmptyCredentials));
    shown.debug("ConfigError", &config_error);
    shown.display("ConfigError", &config_error);

    // 5. Builders and routes with the secret inside.
    let builder = signer_builder(&server.uri())
        .redirects(RedirectPolicy::default().cross_route(CrossRouteRedirect::Stop));
    shown.debug("SigV4MiddlewareBuilder", &builder);
    shown.debug(
        "Route",
        &Route::cloudfront("https://www.example.com", format!("{execute_api}/prod")),
    );
    shown.debug("Credentials", &credentials());

    // 6. A presigned-style request: signature and token in the query.
    let presigned = ReceivedRequest::new(
        "GET",
        format!(
            "/prod/x?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={ACCESS_KEY}%2F20260101%2Fus-east-1%2Fexecute-api%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Security-Token={SESSION_TOKEN}&X-Amz-Signature={}",
            signatures[0]
        ),
        vec![("Host".to_owned(), EXECUTE_API_HOST.to_owned())],
        bytes::Bytes::new(),
    );
    shown.debug("ReceivedRequest (presigned)", &presigned);
    if let Err(rejection) = verifier().verify(&presigned) {
        shown.debug("Rejection (presigned)", &rejection);
        shown.display("Rejection (presigned)", &rejection);
    }

    for request in tap.0.lock().unwrap().iter() {
        shown
            .0
            .push(("reqwest::Request".to_owned(), request.clone()));
    }

    // The capture must have seen what it is meant to check.
    let log = capture.text();
    for expected in [
        "signing request",                                   // aws-sigv4, TRACE
        "aws_sigv4::http_request::sign: canonical_request=", // aws-sigv4, TRACE
        "signed request",           // the crate, DEBUG, with the canonical request
        "re-signing with its time", // the clock-skew retry, WARN
        "request was refused",      // the 403 explanations, WARN
        "no route matches",         // the request to an unrouted host, TRACE
    ] {
        assert!(
            log.contains(expected),
            "no {expected:?} in the captured log:\n{log}"
        );
    }
    assert!(
        log.contains("x-amz-security-token"),
        "the canonical requests in the log name the token header"
    );
    assert!(signatures.len() >= 8, "{signatures:?}");
    assert!(tap.0.lock().unwrap().len() >= 8);

    let mut secrets: Vec<(&str, String)> = vec![
        ("secret key", SECRET_KEY.to_owned()),
        ("session token", SESSION_TOKEN.to_owned()),
        ("server-quoted session token", OTHER_TOKEN.to_owned()),
        // A distinctive slice, in case a value is cut or wrapped.
        ("part of the session token", SESSION_TOKEN[4..30].to_owned()),
        ("part of the secret key", SECRET_KEY[..20].to_owned()),
    ];
    for s in &signatures {
        secrets.push(("signature", s.clone()));
    }
    assert_no_leaks(&log, &shown, &secrets);
}

/// The session token as it travels in a query string (and in a canonical query line).
fn encoded(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Every `X-Amz-Signature` value in `text`.
fn query_signatures(text: &str) -> Vec<String> {
    text.split("X-Amz-Signature=")
        .skip(1)
        .map(|rest| rest.chars().take_while(char::is_ascii_hexdigit).collect())
        .filter(|s: &String| s.len() == 64)
        .collect()
}

/// Records `resp`, its URL, and the summary and explanation it carries.
fn show_response(shown: &mut Shown, what: &str, resp: &reqwest::Response) {
    shown.debug(what, resp);
    shown.display(&format!("{what} url"), resp.url());
    if let Some(summary) = resp.extensions().get::<SignedRequest>() {
        shown.debug(&format!("{what} SignedRequest"), summary);
        shown.display("canonical_request", &summary.canonical_request());
        shown.display("string_to_sign", &summary.string_to_sign());
    }
    if let Some(explanation) = resp.extensions().get::<Explanation>() {
        shown.debug(&format!("{what} Explanation"), explanation);
        shown.display(&format!("{what} Explanation"), explanation);
    }
}

/// Records the `Display` and `Debug` of an error, and of the crate's error inside it.
fn show_error(shown: &mut Shown, what: &str, err: &reqwest_middleware::Error) {
    shown.debug(what, err);
    shown.display(what, err);
    if let Some(source) = std::error::Error::source(err) {
        shown.display(&format!("{what} source"), &source);
    }
    if let Some(ours) = Error::from_middleware(err) {
        shown.debug(&format!("{what}: the crate's error"), ours);
    }
}

/// A loopback port nothing listens on: connecting to it is refused.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Query signing puts the signature and the session token in the URL: every log line,
/// error, response and summary the crate produces for a query-signed route, a presigned
/// URL, a redirect hop, a 403 and a failed connection must still show neither. (The
/// request handed to the next middleware carries them, as it must: that is the request.)
#[tokio::test]
async fn no_secret_from_query_signing_presigning_redirects_403s_or_failures() {
    let (capture, _guard) = capture_traces();
    let mut shown = Shown::default();
    let mut signatures: Vec<String> = Vec::new();
    let execute_api = format!("http://{EXECUTE_API_HOST}");
    let query_route = |base: &str| Route::direct(base).sign_in_query(Duration::from_secs(300));
    let query_signer = |base: &str| {
        SigV4Middleware::builder()
            .summaries(SummaryPolicy::Always)
            .route(query_route(base))
            .region(REGION)
            .static_credentials(credentials())
            .build()
            .unwrap()
    };

    // 1. Query-signed requests through the stand-in; then a clock-skew retry (a server
    //    behind: one ahead would call the URL expired, which teaches no clock).
    for offset in [0, -600] {
        let gateway = ApiGateway::builder()
            .credentials([credentials()])
            .rest_api(API_ID, &[STAGE])
            .clock_offset_secs(offset)
            .start()
            .await;
        let signer = query_signer(&execute_api);
        let client = ClientBuilder::new(client_for(&[(EXECUTE_API_HOST, gateway.addr())]))
            .with(signer.clone())
            .build();
        let resp = client
            .get(format!("{execute_api}/{STAGE}/items?limit=10"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "offset {offset}");
        show_response(&mut shown, "Response (query-signed)", &resp);
        for recorded in gateway.received() {
            signatures.extend(query_signatures(&recorded.target));
        }
        // 2. A presigned URL: the product itself, never logged.
        let request = reqwest::Request::new(
            reqwest::Method::GET,
            format!("{execute_api}/{STAGE}/items").parse().unwrap(),
        );
        let presigned = signer
            .presign(&request, Duration::from_secs(60))
            .await
            .unwrap();
        signatures.extend(query_signatures(presigned.as_str()));
        signatures.push(presigned.to_string());
        // A presigned URL presigned again for a host no route names: the error names the
        // URL, not its signature.
        let stray = reqwest::Request::new(
            reqwest::Method::GET,
            presigned
                .as_str()
                .replace(EXECUTE_API_HOST, "unrouted.example")
                .parse()
                .unwrap(),
        );
        let err = signer
            .presign(&stray, Duration::from_secs(60))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::NoRoute { .. }), "{err:?}");
        shown.debug("Error::NoRoute", &err);
        shown.display("Error::NoRoute", &err);
    }

    // 3. Redirects (one re-signed on the route, one followed off it) and 403s.
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(path("/prod/refused"))
        .respond_with(MismatchResponder {
            other_path: false,
            in_query: true,
        })
        .mount(&server)
        .await;
    Mock::given(path("/prod/moved"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/prod/here?b=2"))
        .mount(&server)
        .await;
    mount_redirect_away(&server, &elsewhere).await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let client = ClientBuilder::new(client_for(&[]))
        .with(query_signer(&server.uri()))
        .build();
    for (p, status) in [
        ("/prod/refused", 403),
        ("/prod/moved", 200),
        ("/prod/away", 200),
    ] {
        let resp = client
            .get(format!("{}{p}?a=1", server.uri()))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), status, "{p}");
        show_response(&mut shown, &format!("Response {p}"), &resp);
    }
    for r in server.received_requests().await.unwrap() {
        signatures.extend(query_signatures(r.url.as_str()));
    }
    for r in elsewhere.received_requests().await.unwrap() {
        assert!(!r.url.as_str().contains("X-Amz-"), "{}", r.url);
    }

    // 4. Failed connections, query-signed and header-signed: the errors' Display and Debug.
    let dead = format!("http://127.0.0.1:{}", refused_port());
    let header_signed = signer_builder(&dead).build().unwrap();
    for signer in [query_signer(&dead), header_signed] {
        let err = ClientBuilder::new(client_for(&[]))
            .with(signer)
            .build()
            .get(format!("{dead}/prod/x?a=1"))
            .send()
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        shown.debug("connection error", &err);
        shown.display("connection error", &err);
        if let Some(source) = std::error::Error::source(&err) {
            shown.display("connection error source", &source);
        }
    }

    // The capture must have seen what it is meant to check.
    let log = capture.text();
    for expected in [
        "signed request",           // the crate, DEBUG, with the URL sent
        "sent_to=",                 // ... and the URL itself
        "X-Amz-Signature=REDACTED", // ... redacted
        "re-signing with its time", // the clock-skew retry, WARN
        "request was refused",      // the 403 explanation, WARN
    ] {
        assert!(
            log.contains(expected),
            "no {expected:?} in the captured log:\n{log}"
        );
    }
    // Two stand-in requests, a retry, two presigned URLs, the 403 and both redirect hops.
    assert!(signatures.len() >= 8, "{signatures:?}");

    let mut secrets: Vec<(&str, String)> = vec![
        ("secret key", SECRET_KEY.to_owned()),
        ("session token", SESSION_TOKEN.to_owned()),
        ("encoded session token", encoded(SESSION_TOKEN)),
        ("part of the session token", SESSION_TOKEN[4..30].to_owned()),
        (
            "part of the encoded session token",
            encoded(&SESSION_TOKEN[4..30]),
        ),
        ("part of the secret key", SECRET_KEY[..20].to_owned()),
    ];
    for s in &signatures {
        secrets.push(("signature or presigned URL", s.clone()));
    }
    assert_no_leaks(&log, &shown, &secrets);
}

/// A URL's password (`https://user:secret@host/`), which `reqwest::Request::new` leaves in
/// the URL (reqwest's builder moves it to a `Basic` header first), is shown nowhere the crate
/// shows a URL: the `debug` line of a request it signs, the `trace` line of one it does not,
/// a signed response's URL, its errors (a URL no route can place, one outside a rewritten
/// origin path, nothing to presign it for, a failed connection, a route URL at `build()`),
/// a presigned URL's `Debug`, and the `Debug` of routes and builders.
#[tokio::test]
async fn no_url_password_in_logs_errors_or_debug() {
    const PASSWORD: &str = "UrlPasswordLeakCheck";
    // The crate's events and aws-sigv4's: hyper's own TRACE lines name the connection pool's
    // key, user info included, which is the client's to show.
    let (capture, _guard) = capture_traces_of("reqwest_sigv4=trace,aws_sigv4=trace");
    let mut shown = Shown::default();
    let with_password = |url: String| {
        let mut url: url::Url = url.parse().unwrap();
        url.set_username("user").unwrap();
        url.set_password(Some(PASSWORD)).unwrap();
        url
    };
    let get = |url: url::Url| reqwest::Request::new(reqwest::Method::GET, url);
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let dead = format!("http://127.0.0.1:{}", refused_port());

    // 1. Routed, signed in headers and in the query: sent, and a presigned URL.
    for in_query in [false, true] {
        let mut route = Route::direct(server.uri());
        if in_query {
            route = route.sign_in_query(Duration::from_secs(300));
        }
        let signer = SigV4Middleware::builder()
            .summaries(SummaryPolicy::Always)
            .route(route)
            .route(Route::direct(&dead))
            .region(REGION)
            .static_credentials(credentials())
            .build()
            .unwrap();
        let client = ClientBuilder::new(client_for(&[]))
            .with(signer.clone())
            .build();
        let request = get(with_password(format!("{}/prod/x?a=1", server.uri())));
        let resp = client.execute(request).await.unwrap();
        assert_eq!(resp.status(), 200);
        show_response(&mut shown, "Response (routed)", &resp);
        let presigned = signer
            .presign(
                &get(with_password(format!("{}/prod/p", server.uri()))),
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        shown.debug("PresignedUrl", &presigned);
        // A routed request whose connection fails.
        let err = client
            .execute(get(with_password(format!("{dead}/prod/x"))))
            .await
            .unwrap_err();
        assert!(err.is_connect(), "{err:?}");
        show_error(&mut shown, "connection error (routed)", &err);
        shown.debug("SigV4Middleware", &signer);
    }

    // 2. Unrouted: sent as it is, or its connection refused.
    let signer = signer_builder(&server.uri()).build().unwrap();
    let client = ClientBuilder::new(client_for(&[]))
        .with(signer.clone())
        .build();
    let err = client
        .execute(get(with_password(format!("{dead}/x"))))
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    show_error(&mut shown, "connection error (unrouted)", &err);
    let err = signer
        .presign(
            &get(with_password(format!("{dead}/x"))),
            Duration::from_secs(60),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NoRoute { .. }), "{err:?}");
    shown.debug("Error::NoRoute", &err);
    shown.display("Error::NoRoute", &err);

    // 3. Origin URLs a CloudFront route claims but cannot place.
    let origin = format!("{}/prod", server.uri());
    let route =
        Route::cloudfront("http://alias.example.test/api", &origin).rewrite_origin_urls(true);
    shown.debug("Route", &route);
    let builder = SigV4Middleware::builder()
        .route(route)
        .region(REGION)
        .static_credentials(credentials());
    let client = ClientBuilder::new(client_for(&[]))
        .with(builder.build().unwrap())
        .build();
    for (path, unplaced) in [("/prod/other", "Rewrite"), ("/other", "OutsideOriginPath")] {
        let err = client
            .execute(get(with_password(format!("{}{path}", server.uri()))))
            .await
            .unwrap_err();
        let ours = Error::from_middleware(&err).expect("the crate's error");
        assert!(format!("{ours:?}").starts_with(unplaced), "{ours:?}");
        show_error(&mut shown, &format!("Error::{unplaced}"), &err);
    }

    // 4. A password in a route's URL: refused at build(), shown in neither the error nor
    //    the route's or the builder's Debug.
    for route in [
        Route::direct(with_password(server.uri()).to_string()),
        Route::cloudfront(
            with_password("https://alias.example.test".into()).to_string(),
            with_password(origin.clone()).to_string(),
        ),
    ] {
        shown.debug("Route (password)", &route);
        let builder = signer_builder(&server.uri()).route(route);
        shown.debug("SigV4MiddlewareBuilder (password)", &builder);
        let err = builder.build().unwrap_err();
        assert!(
            matches!(err, ConfigError::UnexpectedUrlParts { .. }),
            "{err:?}"
        );
        shown.debug("ConfigError", &err);
        shown.display("ConfigError", &err);
    }

    // The capture must have seen what it is meant to check.
    let log = capture.text();
    for expected in [
        "signed request",                // the crate, DEBUG, with the URL sent
        "sent_to=http://user:REDACTED@", // ... its password redacted
        "no route matches",              // the unrouted request, TRACE
    ] {
        assert!(
            log.contains(expected),
            "no {expected:?} in the captured log:\n{log}"
        );
    }
    assert!(
        shown
            .0
            .iter()
            .any(|(_, text)| text.contains("user:REDACTED@")),
        "the URLs shown are redacted, not left out"
    );
    assert_no_leaks(&log, &shown, &[("URL password", PASSWORD.to_owned())]);
}
