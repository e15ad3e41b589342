//! The S3 profile against an independent S3 implementation: s3s, over s3s-fs's file-system
//! backend, in process on 127.0.0.1 (`tests/support/s3.rs`). s3s verifies every signature
//! itself, from its own canonical request (it decodes the key and encodes it again, as S3
//! does), its own clock and its own reading of `x-amz-content-sha256`; nothing of the
//! crate's verifier is involved.
//!
//! Keys in every spelling are put, got back and listed, path-style and virtual-hosted;
//! streamed uploads go through with the body's hash and with `UNSIGNED-PAYLOAD`; presigned
//! URLs are fetched by a plain client (and an expired one refused); a wrong secret gets
//! S3's `SignatureDoesNotMatch`, explained.

mod support;
// Loaded here only, so that the other test targets do not compile s3s.
#[path = "support/s3.rs"]
mod s3s_server;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::canonical::{hex_sha256, UNSIGNED_PAYLOAD};
use reqwest_sigv4::{
    Cause, Explanation, FixedClock, Route, SigV4Middleware, SignedRequest, SummaryPolicy,
};
use s3s_server::{listed_keys, S3Server};
use support::{EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY};

/// A server that accepts the example credentials.
async fn server() -> S3Server {
    S3Server::start(EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY).await
}

/// The route to `base` as S3 in us-east-1 (127.0.0.1 and example.test name no region).
fn s3_route(base: &str) -> Route {
    Route::direct(base).service("s3").region("us-east-1")
}

fn signer(route: Route, secret_key: &str, body_limit: usize) -> SigV4Middleware {
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(route)
        .static_credentials(aws_credential_types::Credentials::new(
            EXAMPLE_ACCESS_KEY,
            secret_key,
            None,
            None,
            "s3s-tests",
        ))
        .body_limit(body_limit)
        .build()
        .expect("valid config")
}

/// A plain loopback client (no middleware) that reaches `server` by its virtual hosts too.
fn plain_client(server: &S3Server, buckets: &[&str]) -> reqwest::Client {
    let hosts: Vec<String> = buckets.iter().map(|b| server.virtual_host(b)).collect();
    let resolves: Vec<(&str, std::net::SocketAddr)> =
        hosts.iter().map(|h| (h.as_str(), server.addr())).collect();
    support::client_for(&resolves)
}

/// [`plain_client`] behind `signer`.
fn client(server: &S3Server, buckets: &[&str], signer: SigV4Middleware) -> ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(plain_client(server, buckets))
        .with(signer)
        .build()
}

/// The payload hash a response's request was signed over (the canonical request's last line).
fn signed_payload_hash(response: &reqwest::Response) -> String {
    let summary = response
        .extensions()
        .get::<SignedRequest>()
        .expect("summary attached");
    let canonical = summary.canonical_request();
    canonical.rsplit('\n').next().unwrap_or_default().to_owned()
}

/// Status and body text, the body in the message of a failed assertion.
async fn expect_status(response: reqwest::Response, status: u16, what: &str) -> String {
    let got = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "{what}: {body}");
    body
}

async fn create_bucket(client: &ClientWithMiddleware, bucket_url: &str) {
    let response = client.put(bucket_url).send().await.expect("sent");
    expect_status(response, 200, "create bucket").await;
}

/// A client signing `server`'s path-style URLs with the right secret and `body_limit`, and
/// the URL of the bucket `name` it created there.
async fn path_style_bucket(
    server: &S3Server,
    name: &str,
    body_limit: usize,
) -> (ClientWithMiddleware, String) {
    let base = server.path_style_base();
    let client = client(
        server,
        &[],
        signer(s3_route(&base), EXAMPLE_SECRET_KEY, body_limit),
    );
    let bucket = format!("{base}/{name}");
    create_bucket(&client, &bucket).await;
    (client, bucket)
}

// ---------------------------------------------------------------------------------------
// Keys in every spelling
// ---------------------------------------------------------------------------------------

/// S3 keys (any UTF-8 up to 1,024 bytes) that a URL can carry.
///
/// Not here: a key with a `.` or `..` segment (`a/./b`, `a/../b`). S3 stores it, but
/// reqwest parses URLs as WHATWG URLs, which remove dot segments (`%2E` spellings
/// included) before the request exists, so no reqwest request can address it. Nor a key
/// whose `/` is written `%2F`: see `an_encoded_slash_in_a_key_is_read_by_s3s_as_a_plain_one`.
const KEYS: &[&str] = &[
    "plain.txt",
    "with space.txt",
    "plus+sign",
    "a=b&c=d",
    "tilde~under_score-dash.dot",
    "sub-delims!$'()*,;:@",
    "brackets[]{}|^`\"<>",
    "percent 100%",
    "%41 is not A",
    "hash#and?question",
    "back\\slash",
    "unicode/é中文😀",
    "a/b//c",
    "/leading",
    "trailing/",
    "dots/.../a..b/..c/c../.hidden",
    "ctrl\tand\u{7f}",
];

/// Whether `key` can be pasted into a URL string as it is: no `#` or `?` (they end the
/// path), no `\` (a WHATWG URL reads it as `/`), no tab (it drops it), no `%` that starts
/// an escape.
fn writable_raw(key: &str) -> bool {
    let escape = key
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    !escape && !key.contains(['#', '?', '\\', '\t'])
}

/// `key` with every byte but `A-Z a-z 0-9 - . _ ~ /` percent-encoded, upper-case hex: the
/// spelling the AWS SDKs send.
fn encoded(key: &str) -> String {
    let mut out = String::new();
    for &b in key.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `key` with every byte but `/` percent-encoded, lower-case hex (`%61` for `a`): the same
/// key in a spelling S3 reads as the same, and that no verifier signs as written.
fn over_encoded(key: &str) -> String {
    let mut out = String::new();
    for &b in key.as_bytes() {
        if b == b'/' {
            out.push('/');
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// The body stored under key number `i`.
fn object_body(i: usize, key: &str) -> String {
    format!("object {i}: {key}")
}

/// Puts every key of [`KEYS`] under `base` (the bucket's URL, no trailing `/`), written as
/// it is where a URL can take it, else in the SDKs' spelling; gets each back by another
/// spelling; lists them all; then lists a prefix that itself needs encoding.
async fn round_trip_every_spelling(client: &ClientWithMiddleware, base: &str) {
    for (i, key) in KEYS.iter().enumerate() {
        let written = if writable_raw(key) {
            key.to_string()
        } else {
            encoded(key)
        };
        let response = client
            .put(format!("{base}/{written}"))
            .body(object_body(i, key))
            .send()
            .await
            .expect("sent");
        expect_status(response, 200, &format!("PUT {key:?}")).await;
    }
    for (i, key) in KEYS.iter().enumerate() {
        for spelling in [encoded(key), over_encoded(key)] {
            let response = client
                .get(format!("{base}/{spelling}"))
                .send()
                .await
                .expect("sent");
            let body = expect_status(response, 200, &format!("GET {key:?} as {spelling}")).await;
            assert_eq!(body, object_body(i, key), "{spelling}");
        }
    }

    // S3 lists keys in UTF-8 binary order, the order of Rust's `str`.
    let mut all: Vec<&str> = KEYS.to_vec();
    all.sort_unstable();
    let response = client
        .get(format!("{base}/"))
        .query(&[("list-type", "2")])
        .send()
        .await
        .expect("sent");
    let xml = expect_status(response, 200, "LIST").await;
    assert_eq!(listed_keys(&xml), all, "{xml}");

    // A prefix with a space, `+`, `&`, `=`, `/` and non-ASCII, written by `.query()` as
    // form data (`+` for the space).
    let prefix = "q/a b+c&d=é";
    let under = [
        prefix.to_owned(),
        format!("{prefix}/2"),
        format!("{prefix}3"),
    ];
    for key in under
        .iter()
        .map(String::as_str)
        .chain(["q/a b+c", "q/a b c&d=é"])
    {
        let response = client
            .put(format!("{base}/{}", encoded(key)))
            .body(key.to_owned())
            .send()
            .await
            .expect("sent");
        expect_status(response, 200, &format!("PUT {key:?}")).await;
    }
    let response = client
        .get(format!("{base}/"))
        .query(&[("list-type", "2"), ("prefix", prefix)])
        .send()
        .await
        .expect("sent");
    let xml = expect_status(response, 200, "LIST with a prefix").await;
    assert_eq!(listed_keys(&xml), under, "{xml}");
}

#[tokio::test]
async fn keys_in_every_spelling_round_trip_path_style() {
    let server = server().await;
    let (client, bucket) = path_style_bucket(&server, "spellings", 1024 * 1024).await;
    round_trip_every_spelling(&client, &bucket).await;
}

#[tokio::test]
async fn keys_in_every_spelling_round_trip_virtual_hosted() {
    let server = server().await;
    let base = server.virtual_hosted_base("spellings");
    let client = client(
        &server,
        &["spellings"],
        signer(s3_route(&base), EXAMPLE_SECRET_KEY, 1024 * 1024),
    );
    create_bucket(&client, &format!("{base}/")).await;
    round_trip_every_spelling(&client, &base).await;
}

/// The crate sends and signs an encoded slash as it is (decoded, it could form a dot
/// segment that URL parsers remove). s3s decodes the key and encodes it again for its
/// canonical request, with a plain `/`, and so refuses the signature: write a plain `/`
/// between key segments, as the README says.
#[tokio::test]
async fn an_encoded_slash_in_a_key_is_read_by_s3s_as_a_plain_one() {
    let server = server().await;
    let (client, bucket) = path_style_bucket(&server, "slashes", 1024 * 1024).await;
    let response = client
        .put(format!("{bucket}/a%2Fb"))
        .body("x")
        .send()
        .await
        .expect("sent");
    let body = expect_status(response, 403, "PUT a%2Fb").await;
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
}

// ---------------------------------------------------------------------------------------
// Streamed uploads
// ---------------------------------------------------------------------------------------

/// Four MiB in 64 KiB chunks, as a stream (no length known to reqwest).
fn streamed(bytes: &Bytes) -> reqwest::Body {
    let chunks: Vec<Result<Bytes, std::io::Error>> = bytes
        .chunks(64 * 1024)
        .map(|c| Ok(bytes.slice_ref(c)))
        .collect();
    reqwest::Body::wrap_stream(futures::stream::iter(chunks))
}

fn four_mib() -> Bytes {
    (0..4 * 1024 * 1024u32)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

async fn get_bytes(client: &ClientWithMiddleware, url: &str) -> Bytes {
    let response = client.get(url).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    response.bytes().await.expect("body")
}

/// Under the buffering limit, a stream is read, hashed and sent with its length: s3s checks
/// the bytes against the signed `x-amz-content-sha256`.
#[tokio::test]
async fn a_streamed_upload_under_the_limit_is_signed_over_its_hash() {
    let server = server().await;
    let (client, bucket) = path_style_bucket(&server, "streams", 8 * 1024 * 1024).await;
    let data = four_mib();
    let response = client
        .put(format!("{bucket}/hashed.bin"))
        .body(streamed(&data))
        .send()
        .await
        .expect("sent");
    let signed = signed_payload_hash(&response);
    expect_status(response, 200, "streamed PUT").await;
    assert_eq!(signed, hex_sha256(&data));
    assert_eq!(
        get_bytes(&client, &format!("{bucket}/hashed.bin")).await,
        data
    );
}

/// With the route's opt-in `UNSIGNED-PAYLOAD`, a stream past the limit is sent as it
/// comes; S3 wants its length (it refuses chunked uploads), so the caller gives it.
#[tokio::test]
async fn a_streamed_upload_past_the_limit_is_sent_unsigned() {
    let server = server().await;
    let base = server.path_style_base();
    let client = client(
        &server,
        &[],
        signer(
            s3_route(&base).unsigned_payload(true),
            EXAMPLE_SECRET_KEY,
            64 * 1024,
        ),
    );
    create_bucket(&client, &format!("{base}/streams")).await;
    let data = four_mib();
    let response = client
        .put(format!("{base}/streams/unsigned.bin"))
        .header("content-length", data.len())
        .body(streamed(&data))
        .send()
        .await
        .expect("sent");
    let signed = signed_payload_hash(&response);
    expect_status(response, 200, "unsigned streamed PUT").await;
    assert_eq!(signed, UNSIGNED_PAYLOAD);
    assert_eq!(
        get_bytes(&client, &format!("{base}/streams/unsigned.bin")).await,
        data
    );
}

// ---------------------------------------------------------------------------------------
// Presigned URLs
// ---------------------------------------------------------------------------------------

async fn presign(
    signer: &SigV4Middleware,
    method: reqwest::Method,
    url: &str,
    expires_in: Duration,
) -> reqwest::Url {
    let request = reqwest::Request::new(method, url.parse().expect("URL"));
    signer
        .presign(&request, expires_in)
        .await
        .expect("presigned")
        .into_url()
}

/// A presigned PUT and a presigned GET, used by a client with no middleware and no
/// credentials, on a key that needs encoding.
#[tokio::test]
async fn presigned_put_and_get_are_used_by_a_plain_client() {
    let server = server().await;
    let base = server.path_style_base();
    let signer = signer(s3_route(&base), EXAMPLE_SECRET_KEY, 1024 * 1024);
    let client = client(&server, &[], signer.clone());
    create_bucket(&client, &format!("{base}/shared")).await;
    let plain = plain_client(&server, &[]);
    let url = format!("{base}/shared/report 2026+final (1).pdf");
    let ttl = Duration::from_secs(300);

    let put = presign(&signer, reqwest::Method::PUT, &url, ttl).await;
    let response = plain.put(put).body("%PDF-1.7").send().await.expect("sent");
    expect_status(response, 200, "presigned PUT").await;

    let get = presign(&signer, reqwest::Method::GET, &url, ttl).await;
    let response = plain.get(get.clone()).send().await.expect("sent");
    assert_eq!(
        expect_status(response, 200, "presigned GET").await,
        "%PDF-1.7"
    );

    // The URL authorizes its method only.
    let response = plain.delete(get).send().await.expect("sent");
    expect_status(response, 403, "DELETE with a GET's URL").await;
}

/// A URL signed an hour ago for a minute is refused by S3's own clock.
#[tokio::test]
async fn an_expired_presigned_url_is_refused() {
    let server = server().await;
    let base = server.path_style_base();
    let (client, bucket) = path_style_bucket(&server, "shared", 1024 * 1024).await;
    let response = client
        .put(format!("{bucket}/k"))
        .body("v")
        .send()
        .await
        .expect("sent");
    expect_status(response, 200, "PUT").await;

    let an_hour_ago = SigV4Middleware::builder()
        .route(s3_route(&base))
        .static_credentials(support::example_credentials())
        .clock(FixedClock(SystemTime::now() - Duration::from_secs(3600)))
        .build()
        .expect("valid config");
    let url = format!("{bucket}/k");
    let expired = presign(
        &an_hour_ago,
        reqwest::Method::GET,
        &url,
        Duration::from_secs(60),
    )
    .await;
    let plain = plain_client(&server, &[]);
    let response = plain.get(expired).send().await.expect("sent");
    let body = expect_status(response, 403, "expired URL").await;
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("expired"), "{body}");

    // The same URL signed now for a minute is fine: only the time differed.
    let signer = signer(s3_route(&base), EXAMPLE_SECRET_KEY, 1024);
    let fresh = presign(&signer, reqwest::Method::GET, &url, Duration::from_secs(60)).await;
    let response = plain.get(fresh).send().await.expect("sent");
    assert_eq!(expect_status(response, 200, "fresh URL").await, "v");
}

// ---------------------------------------------------------------------------------------
// A wrong secret
// ---------------------------------------------------------------------------------------

/// Signed with another secret for the same access key: S3's 403 `SignatureDoesNotMatch`,
/// with the crate's explanation and summary attached.
#[tokio::test]
async fn a_wrong_secret_gets_signature_does_not_match_explained() {
    let server = server().await;
    let base = server.path_style_base();
    let good = client(
        &server,
        &[],
        signer(s3_route(&base), EXAMPLE_SECRET_KEY, 1024),
    );
    create_bucket(&good, &format!("{base}/secrets")).await;

    let wrong = client(
        &server,
        &[],
        signer(s3_route(&base), "not-the-secret-key", 1024),
    );
    let response = wrong
        .get(format!("{base}/secrets/k"))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 403);
    let explanation = response
        .extensions()
        .get::<Explanation>()
        .expect("a 403 comes with an explanation")
        .clone();
    let summary = response
        .extensions()
        .get::<SignedRequest>()
        .expect("a 403 comes with the summary")
        .clone();
    let body = response.text().await.expect("body");
    assert!(
        body.contains("<Code>SignatureDoesNotMatch</Code>"),
        "{body}"
    );
    assert_eq!(
        explanation.cause,
        Cause::SignatureMismatch,
        "{explanation:?}"
    );
    // s3s names no canonical request to compare with (S3 does): host and path were the
    // ones signed, so what is left to check is the secret.
    assert!(
        explanation.summary.contains("secret access key")
            && explanation.summary.contains(EXAMPLE_ACCESS_KEY)
            && !explanation.summary.contains("CloudFront"),
        "{}",
        explanation.summary
    );
    assert!(!explanation.summary.contains("not-the-secret-key"));
    assert_eq!(summary.access_key_id(), EXAMPLE_ACCESS_KEY);
    assert_eq!(summary.path_and_query(), "/secrets/k");
}
