//! Sends arbitrary requests (method, URL, headers, body, `SigningOverride` / `SkipSigning`)
//! through the real middleware, over a route table with every kind of route, to a scripted
//! transport that never touches the network and answers as the input says (200s, 403s with
//! the bodies AWS's verifiers write, redirects, transport failures, answers from another
//! URL), so that the redirect, clock-retry, token-reload and 403-explanation paths run too;
//! and presigns the same request. Nothing may panic; every error must be the crate's typed
//! `Error` (or the scripted transport's own failure); no error, summary, explanation,
//! response or presigned URL's `Debug` / `Display` may show a secret key, a session token
//! or a signature the middleware made.
//!
//! Run (nightly): `cargo +nightly fuzz run sign_request` from the crate root; on stable,
//! `RUSTC_BOOTSTRAP=1 cargo fuzz run sign_request`. See `docs/TESTING.md`.
#![no_main]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{future, ProvideCredentials};
use aws_credential_types::Credentials;
use bytes::Bytes;
use http::{Extensions, HeaderName, HeaderValue, Method};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use reqwest::ResponseBuilderExt;
use reqwest_middleware::{ClientWithMiddleware, Middleware, Next};
use reqwest_sigv4::{
    CrossRouteRedirect, Error, Explanation, FixedClock, RedirectPolicy, Route, SigV4Middleware,
    SignedHeaders, SignedRequest, SigningOverride, SkipSigning, SummaryPolicy,
};

/// The signing time: 2015-08-30T12:36:00Z, the AWS test suite's.
const NOW_SECS: u64 = 1_440_938_160;

const MAIN_KEY_ID: &str = "AKIDFUZZMAIN";
const MAIN_SECRET: &str = "fuzzSECRETmainKEYwJalrXUtnFEMIK7MDENGbPxRfiCY";
const MAIN_TOKEN: &str = "fuzzTOKENmainSESSIONIQoJb3JpZ2luX2VjEMv";
const ROUTE_SECRET: &str = "fuzzSECRETrouteKEYwJalrXUtnFEMIK7MDENGbPxR";
const ROUTE_TOKEN: &str = "fuzzTOKENrouteSESSIONIQoJb3JpZ2luX2VjEMv";
const SECRETS: [&str; 4] = [MAIN_SECRET, MAIN_TOKEN, ROUTE_SECRET, ROUTE_TOKEN];

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_SECS)
}

/// A route's own credentials: a new access key id at each call, so that a refused session
/// token is reloaded and the request retried.
#[derive(Debug, Default)]
struct Rotating(AtomicU64);

impl ProvideCredentials for Rotating {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        future::ProvideCredentials::ready(Ok(Credentials::new(
            format!("ASIAFUZZROUTE{n}"),
            ROUTE_SECRET,
            Some(ROUTE_TOKEN.to_owned()),
            None,
            "fuzz-rotating",
        )))
    }
}

/// Every kind of route: direct, custom domain (with a base path), CloudFront with an origin
/// path and origin URLs rewritten, host override, S3 (virtual-hosted and path-style), a
/// wildcard, query signing (API Gateway and S3), SigV4a, its own credentials, IPv6, an
/// unsigned payload with a header list, and one no region can be found for.
fn routes() -> Vec<Route> {
    vec![
        Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"),
        Route::custom_domain("https://api.example.com/v1"),
        Route::cloudfront(
            "https://cdn.example.com/api",
            "https://def456.execute-api.eu-west-1.amazonaws.com/prod",
        )
        .rewrite_origin_urls(true),
        Route::host_override(
            "https://vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com",
            "ghi789.execute-api.us-east-1.amazonaws.com",
        ),
        Route::direct("https://bucket.s3.us-east-1.amazonaws.com"),
        Route::direct("http://s3.eu-central-1.amazonaws.com:8080"),
        Route::custom_domain("https://*.svc.example.org")
            .service("execute-api")
            .region("us-west-2"),
        Route::direct("https://q.example.net/signed")
            .service("execute-api")
            .region("ap-south-1")
            .sign_in_query(Duration::from_secs(300)),
        Route::direct("https://presigned.s3.us-west-2.amazonaws.com")
            .sign_in_query(Duration::from_secs(3600)),
        Route::direct("https://mrap.accesspoint.s3-global.amazonaws.com").sigv4a("*"),
        Route::direct("https://other.example.com:8443")
            .service("lambda")
            .region("us-east-1")
            .credentials_provider(Rotating::default()),
        Route::direct("http://[::1]:9000")
            .service("execute-api")
            .region("us-east-1"),
        Route::direct("https://lattice.example.com")
            .service("vpc-lattice-svcs")
            .region("us-east-1")
            .unsigned_payload(true)
            .signed_headers(SignedHeaders::HostAndAmzPlus(vec![
                "content-type".to_owned(),
                "x-custom".to_owned(),
            ])),
        Route::direct("https://noregion.example.com"),
    ]
}

/// URLs to build requests and `Location`s on: every route's, the CloudFront origin, hosts
/// near the routes (other port, scheme, label), and none at all.
const BASES: &[&str] = &[
    "https://abc123.execute-api.us-east-1.amazonaws.com",
    "https://abc123.execute-api.us-east-1.amazonaws.com:444",
    "http://abc123.execute-api.us-east-1.amazonaws.com",
    "https://api.example.com/v1",
    "https://api.example.com",
    "https://cdn.example.com/api",
    "https://def456.execute-api.eu-west-1.amazonaws.com/prod",
    "https://vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com",
    "https://bucket.s3.us-east-1.amazonaws.com",
    "http://s3.eu-central-1.amazonaws.com:8080",
    "https://a.svc.example.org",
    "https://a.b.svc.example.org",
    "https://svc.example.org",
    "https://q.example.net/signed",
    "https://presigned.s3.us-west-2.amazonaws.com",
    "https://mrap.accesspoint.s3-global.amazonaws.com",
    "https://other.example.com:8443",
    "http://[::1]:9000",
    "http://[::1]",
    "https://lattice.example.com",
    "https://noregion.example.com",
    "https://elsewhere.example",
    "https://user:pass@abc123.execute-api.us-east-1.amazonaws.com",
    "ftp://abc123.execute-api.us-east-1.amazonaws.com",
    "",
];

/// Two middlewares: one that follows redirects off the routes unsigned, keeps every
/// summary and buffers up to 2 KiB; one that stops at the routes' edge, with the defaults.
struct Fixture {
    clients: [ClientWithMiddleware; 2],
    signers: [SigV4Middleware; 2],
    runtime: tokio::runtime::Runtime,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let build = |loose: bool| {
        let builder = SigV4Middleware::builder()
            .static_credentials(Credentials::new(
                MAIN_KEY_ID,
                MAIN_SECRET,
                Some(MAIN_TOKEN.to_owned()),
                None,
                "fuzz",
            ))
            .clock(FixedClock(now()))
            .routes(routes());
        let builder = if loose {
            builder
                .body_limit(2048)
                .summaries(SummaryPolicy::Always)
                .redirects(
                    RedirectPolicy::limited(4).cross_route(CrossRouteRedirect::FollowUnsigned),
                )
        } else {
            builder
                .redirects(RedirectPolicy::default().cross_route(CrossRouteRedirect::Stop))
                .clock_skew_correction(Some(Duration::from_secs(600)))
        };
        builder.build().expect("the route table builds")
    };
    let signers = [build(true), build(false)];
    let client = |signer: &SigV4Middleware| {
        let inner = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("a reqwest client without TLS builds");
        reqwest_middleware::ClientBuilder::new(inner)
            .with(signer.clone())
            .with(Scripted)
            .build()
    };
    Fixture {
        clients: [client(&signers[0]), client(&signers[1])],
        signers,
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a current-thread runtime"),
    }
});

#[derive(Arbitrary, Debug)]
enum MethodIn {
    Known(u8),
    Raw(Vec<u8>),
}

const METHODS: [&str; 9] = [
    "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

#[derive(Arbitrary, Debug)]
enum UrlIn {
    /// A base from [`BASES`], a suffix (path, query, fragment, or garbage).
    Based(u8, String),
    Raw(String),
}

impl UrlIn {
    fn text(&self) -> String {
        match self {
            UrlIn::Based(i, suffix) => {
                format!("{}{suffix}", BASES[usize::from(*i) % BASES.len()])
            }
            UrlIn::Raw(raw) => raw.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
enum NameIn {
    Known(u8),
    Raw(Vec<u8>),
}

const HEADER_NAMES: [&str; 20] = [
    "host",
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
    "x-amz-region-set",
    "x-amz-signature",
    "x-amz-meta-a",
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "user-agent",
    "cookie",
    "x-custom",
    "expect",
    "range",
    "via",
    "x-forwarded-for",
    "connection",
];

#[derive(Arbitrary, Debug)]
enum BodyIn {
    None,
    Bytes(Vec<u8>),
    /// A stream of chunks, failing at its end when asked.
    Stream(Vec<Vec<u8>>, bool),
    /// `n` KiB of one byte: over a limit.
    Large(u8, u8),
}

#[derive(Arbitrary, Debug)]
struct OverrideIn {
    service: Option<String>,
    region: Option<String>,
}

#[derive(Arbitrary, Debug)]
enum Answer {
    Status(u16),
    Forbidden(Forbidden),
    Redirect {
        status: u8,
        location: UrlIn,
    },
    /// The transport fails.
    Fail,
    /// The answer comes from another URL than the request went to.
    Elsewhere(UrlIn),
    /// A response built without a URL (reqwest's stand-in).
    NoUrl(u16),
}

#[derive(Arbitrary, Debug)]
struct Forbidden {
    template: u8,
    /// The `Date` header: seconds from the signing time (modulo 30 days).
    date: Option<i32>,
    server_time: u8,
    error_type_header: bool,
    /// Put the route's session token in echoed canonical requests, not the middleware's.
    route_token: bool,
    extra: Vec<u8>,
    /// Over the 64 KiB the middleware reads.
    oversized: bool,
    /// Streamed in two chunks, the stream failing at its end.
    failing: bool,
}

#[derive(Arbitrary, Debug)]
struct Input {
    method: MethodIn,
    url: UrlIn,
    headers: Vec<(NameIn, Vec<u8>)>,
    body: BodyIn,
    overrides: Option<OverrideIn>,
    skip: bool,
    strict: bool,
    answers: Vec<Answer>,
    presign_secs: u32,
}

fuzz_target!(|input: Input| {
    let fixture = &*FIXTURE;
    let Some(method) = method(&input.method) else {
        return;
    };
    let Ok(url) = url::Url::parse(&input.url.text()) else {
        return;
    };
    let which = usize::from(input.strict);
    // What the caller gave may be shown: its header values as text too (`Debug` prints
    // bytes as numbers).
    let mut given = format!("{input:?}");
    for (_, value) in &input.headers {
        given.push_str(&String::from_utf8_lossy(value));
    }
    let mut shown = Vec::new();
    let mut made = Vec::new();

    // Presign first: the request it takes is the same one, sent below.
    if let Some(request) = request(&input, &method, &url) {
        let expires = Duration::from_secs(u64::from(input.presign_secs % 700_000));
        let presigned = fixture
            .runtime
            .block_on(fixture.signers[which].presign(&request, expires));
        match presigned {
            Ok(presigned) => {
                made.extend(query_signature(presigned.url()));
                shown.push(format!("{presigned:?}"));
            }
            Err(error) => shown.push(rendered(&error)),
        }
    }

    let Some(request) = request(&input, &method, &url) else {
        return;
    };
    let mut extensions = Extensions::new();
    let script = Script(Arc::new(Mutex::new(
        input.answers.iter().map(plan).collect(),
    )));
    extensions.insert(script.clone());
    if input.skip {
        extensions.insert(SkipSigning);
    }
    if let Some(o) = &input.overrides {
        let mut over = SigningOverride::new();
        if let Some(service) = &o.service {
            over = over.service(service.clone());
        }
        if let Some(region) = &o.region {
            over = over.region(region.clone());
        }
        extensions.insert(over);
    }
    let result = fixture
        .runtime
        .block_on(fixture.clients[which].execute_with_extensions(request, &mut extensions));
    match result {
        Ok(response) => {
            shown.push(format!("{response:?}"));
            if let Some(summary) = response.extensions().get::<SignedRequest>() {
                shown.push(format!("{summary:?}"));
                shown.push(summary.canonical_request());
                shown.push(summary.string_to_sign());
                shown.push(summary.path_and_query().to_owned());
                for (name, value) in summary.headers() {
                    shown.push(format!("{name}: {value}"));
                }
            }
            if let Some(explanation) = response.extensions().get::<Explanation>() {
                shown.push(format!("{explanation} {explanation:?}"));
            }
        }
        Err(error) => {
            match Error::from_middleware(&error) {
                Some(ours) => {
                    let _ = ours.kind();
                }
                None => match &error {
                    reqwest_middleware::Error::Middleware(e)
                        if e.downcast_ref::<TransportFailed>().is_some() => {}
                    other => panic!("an untyped error came out of the middleware: {other:?}"),
                },
            }
            shown.push(rendered(&error));
        }
    }

    // The signatures that reached the transport and the presigned URL's: none may show,
    // unless the input itself carried it (a caller's own header or URL parameter).
    made.append(&mut script.0.lock().unwrap().seen);
    for text in &shown {
        for secret in SECRETS
            .iter()
            .copied()
            .chain(made.iter().map(String::as_str))
        {
            if secret.len() >= 16 && !given.contains(secret) {
                assert!(
                    !text.contains(secret),
                    "a secret ({secret}) is shown: {text}"
                );
            }
        }
    }
});

fn method(input: &MethodIn) -> Option<Method> {
    match input {
        MethodIn::Known(i) => Some(
            Method::from_bytes(METHODS[usize::from(*i) % METHODS.len()].as_bytes())
                .expect("a known method"),
        ),
        MethodIn::Raw(raw) => Method::from_bytes(raw).ok(),
    }
}

/// The request the input describes; `None` for headers `http` refuses to construct.
fn request(input: &Input, method: &Method, url: &url::Url) -> Option<reqwest::Request> {
    let mut request = reqwest::Request::new(method.clone(), url.clone());
    for (name, value) in &input.headers {
        let name = match name {
            NameIn::Known(i) => {
                HeaderName::from_static(HEADER_NAMES[usize::from(*i) % HEADER_NAMES.len()])
            }
            NameIn::Raw(raw) => HeaderName::from_bytes(raw).ok()?,
        };
        let value = HeaderValue::from_bytes(value).ok()?;
        request.headers_mut().append(name, value);
    }
    *request.body_mut() = match &input.body {
        BodyIn::None => None,
        BodyIn::Bytes(bytes) => Some(reqwest::Body::from(bytes.clone())),
        BodyIn::Stream(chunks, fail) => Some(reqwest::Body::wrap(Chunks {
            chunks: chunks.iter().cloned().map(Bytes::from).collect(),
            fail: *fail,
        })),
        BodyIn::Large(kib, byte) => Some(reqwest::Body::from(vec![
            *byte;
            usize::from(*kib % 40) * 1024
        ])),
    };
    Some(request)
}

/// An error's `Display` (with its sources) and `Debug`.
fn rendered(error: &dyn std::error::Error) -> String {
    let mut text = format!("{error} {error:?}");
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(&format!(" / {e} {e:?}"));
        source = e.source();
    }
    text
}

/// A streaming request body.
struct Chunks {
    chunks: std::collections::VecDeque<Bytes>,
    fail: bool,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = TransportFailed;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, TransportFailed>>> {
        let this = self.get_mut();
        std::task::Poll::Ready(match this.chunks.pop_front() {
            Some(chunk) => Some(Ok(http_body::Frame::data(chunk))),
            None if std::mem::take(&mut this.fail) => Some(Err(TransportFailed)),
            None => None,
        })
    }
}

/// The scripted transport's own failure (and a streaming body's).
#[derive(Debug)]
struct TransportFailed;

impl std::fmt::Display for TransportFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("scripted transport failure")
    }
}

impl std::error::Error for TransportFailed {}

/// The answers the transport gives, in order (then 200s), and the signatures it saw.
#[derive(Clone)]
struct Script(Arc<Mutex<Played>>);

#[derive(Default)]
struct Played {
    answers: std::collections::VecDeque<Planned>,
    seen: Vec<String>,
}

impl FromIterator<Planned> for Played {
    fn from_iter<I: IntoIterator<Item = Planned>>(iter: I) -> Self {
        Played {
            answers: iter.into_iter().collect(),
            seen: Vec::new(),
        }
    }
}

/// One answer, ready to build.
enum Planned {
    Status(u16, Vec<(&'static str, String)>, ResponseBody),
    Fail,
    Elsewhere(String),
    NoUrl(u16),
}

enum ResponseBody {
    Whole(Vec<u8>),
    Failing(Vec<u8>),
}

const REDIRECTS: [u16; 8] = [300, 301, 302, 303, 304, 305, 307, 308];

fn plan(answer: &Answer) -> Planned {
    match answer {
        Answer::Status(status) => {
            Planned::Status(*status, Vec::new(), ResponseBody::Whole(Vec::new()))
        }
        Answer::Redirect { status, location } => Planned::Status(
            REDIRECTS[usize::from(*status) % REDIRECTS.len()],
            vec![("location", location.text())],
            ResponseBody::Whole(Vec::new()),
        ),
        Answer::Fail => Planned::Fail,
        Answer::Elsewhere(url) => Planned::Elsewhere(url.text()),
        Answer::NoUrl(status) => Planned::NoUrl(*status),
        Answer::Forbidden(f) => forbidden(f),
    }
}

const SERVER_TIMES: [&str; 6] = [
    "2015-08-30T12:41:00Z",
    "2015-08-30T12:31:00.123Z",
    "2015-08-31T12:36:00Z",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "yesterday",
];

/// A 403 as AWS's verifiers write them, with the session token echoed where they echo it.
fn forbidden(f: &Forbidden) -> Planned {
    let token = if f.route_token {
        ROUTE_TOKEN
    } else {
        MAIN_TOKEN
    };
    let server_time = SERVER_TIMES[usize::from(f.server_time) % SERVER_TIMES.len()];
    let apigw_canonical = format!(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\\n\\nThe Canonical String for this request should have been\\n'GET\\n/prod/items\\n\\nhost:abc123.execute-api.us-east-1.amazonaws.com\\nx-amz-date:20150830T123600Z\\nx-amz-security-token:{token}\\n\\nhost;x-amz-date;x-amz-security-token\\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'\\n\\nThe String-to-Sign should have been\\n'AWS4-HMAC-SHA256\\n20150830T123600Z\\n20150830/us-east-1/execute-api/aws4_request\\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0'\\n"
    );
    let mut body = match f.template % 13 {
        0 => r#"{"message":"Signature expired: 20150830T123600Z is now earlier than 20150830T124600Z (20150830T125100Z - 5 min.)"}"#.to_owned(),
        1 => r#"{"message":"Signature not yet current: 20150830T123600Z is still later than 20150830T122600Z (20150830T122100Z + 5 min.)"}"#.to_owned(),
        2 => r#"{"message":"The security token included in the request is expired"}"#.to_owned(),
        3 => r#"{"message":"The security token included in the request is invalid."}"#.to_owned(),
        4 => format!(r#"{{"message":"{apigw_canonical}"}}"#),
        5 => r#"{"message":"Missing Authentication Token"}"#.to_owned(),
        6 => r#"{"Message":"User: arn:aws:iam::123456789012:user/fuzz is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1234:abc123/prod/GET/items with an explicit deny"}"#.to_owned(),
        7 => format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between the request time and the current time is too large.</Message><RequestTime>20150830T123600Z</RequestTime><ServerTime>{server_time}</ServerTime><MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds></Error>"),
        8 => format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message><AWSAccessKeyId>{MAIN_KEY_ID}</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/s3/aws4_request\n816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0</StringToSign><CanonicalRequest>GET\n/key\nX-Amz-Security-Token={token}\nhost:bucket.s3.us-east-1.amazonaws.com\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:20150830T123600Z\nx-amz-security-token:{token}\n\nhost;x-amz-content-sha256;x-amz-date;x-amz-security-token\nUNSIGNED-PAYLOAD</CanonicalRequest></Error>"),
        9 => r#"{"__type":"com.amazon.coral.service#ExpiredTokenException","message":"The security token included in the request is expired"}"#.to_owned(),
        10 => r#"{"errors":[{"errorType":"UnauthorizedException","message":"Unable to parse JWT token."}]}"#.to_owned(),
        11 => "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>".to_owned(),
        _ => String::new(),
    }
    .into_bytes();
    body.extend_from_slice(&f.extra);
    if f.oversized {
        body.resize(body.len() + 65 * 1024, b' ');
    }
    let mut headers = Vec::new();
    if let Some(offset) = f.date {
        // Within 30 days of the signing time: httpdate formats no date before 1970.
        let offset = offset % (30 * 86_400);
        let date = if offset >= 0 {
            now() + Duration::from_secs(offset.unsigned_abs().into())
        } else {
            now() - Duration::from_secs(offset.unsigned_abs().into())
        };
        headers.push(("date", httpdate::fmt_http_date(date)));
    }
    if f.error_type_header {
        headers.push((
            "x-amzn-errortype",
            "MissingAuthenticationTokenException".to_owned(),
        ));
    }
    let body = if f.failing {
        ResponseBody::Failing(body)
    } else {
        ResponseBody::Whole(body)
    };
    Planned::Status(403, headers, body)
}

/// The last middleware: answers from the request's [`Script`], never calling `next`.
struct Scripted;

impl Middleware for Scripted {
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        req: reqwest::Request,
        extensions: &'life1 mut Extensions,
        _next: Next<'life2>,
    ) -> Pin<
        Box<
            dyn Future<Output = reqwest_middleware::Result<reqwest::Response>>
                + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move { answer(&req, extensions) })
    }
}

fn answer(
    req: &reqwest::Request,
    extensions: &mut Extensions,
) -> Result<reqwest::Response, reqwest_middleware::Error> {
    let next = match extensions.get::<Script>() {
        Some(script) => {
            let mut played = script.0.lock().unwrap();
            played.seen.extend(signatures_in(req));
            played.answers.pop_front()
        }
        None => None,
    };
    let respond =
        |status: u16, headers: &[(&str, String)], body: reqwest::Body, url: Option<url::Url>| {
            let mut builder = http::Response::builder()
                .status(http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK));
            for (name, value) in headers {
                if let Ok(value) = HeaderValue::from_str(value) {
                    builder = builder.header(*name, value);
                }
            }
            if let Some(url) = url {
                builder = builder.url(url);
            }
            reqwest::Response::from(builder.body(body).expect("a valid response"))
        };
    let sent = Some(req.url().clone());
    Ok(match next {
        None => respond(200, &[], reqwest::Body::from(Vec::new()), sent),
        Some(Planned::Status(status, headers, body)) => {
            let body = match body {
                ResponseBody::Whole(bytes) => reqwest::Body::from(bytes),
                ResponseBody::Failing(bytes) => {
                    let half = bytes.len() / 2;
                    let second = bytes[half..].to_vec();
                    let mut first = bytes;
                    first.truncate(half);
                    reqwest::Body::wrap(Chunks {
                        chunks: [Bytes::from(first), Bytes::from(second)].into(),
                        fail: true,
                    })
                }
            };
            respond(status, &headers, body, sent)
        }
        Some(Planned::Fail) => return Err(reqwest_middleware::Error::middleware(TransportFailed)),
        Some(Planned::Elsewhere(url)) => {
            let url = url::Url::parse(&url).ok().or(sent);
            respond(200, &[], reqwest::Body::from(Vec::new()), url)
        }
        Some(Planned::NoUrl(status)) => respond(status, &[], reqwest::Body::from(Vec::new()), None),
    })
}

/// The signatures on a request: `Signature=` in `Authorization`, `X-Amz-Signature` in the
/// query.
fn signatures_in(req: &reqwest::Request) -> Vec<String> {
    let mut found = Vec::new();
    for value in req.headers().get_all(http::header::AUTHORIZATION) {
        if let Some((_, signature)) = value.to_str().unwrap_or_default().split_once("Signature=") {
            found.push(signature.to_owned());
        }
    }
    found.extend(query_signature(req.url()));
    found
}

/// The `X-Amz-Signature` query parameter's value.
fn query_signature(url: &url::Url) -> Option<String> {
    url.query_pairs()
        .find(|(name, _)| name == "X-Amz-Signature")
        .map(|(_, value)| value.into_owned())
}
