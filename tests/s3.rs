//! S3 through the `s3` profile: AWS's documented signature examples reproduced by the
//! middleware (known answers, not our own signer's output), the payload hash a presigned URL
//! carries per profile, keys and queries with reserved characters sent, signed and shown in
//! one spelling, `x-amz-content-sha256` on every request, unsigned streaming uploads,
//! virtual-hosted and path-style URLs, and a presigned PUT used by a plain client.
//!
//! Every request is also checked by the crate's independent verifier.

mod support;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use bytes::Bytes;
use reqwest_sigv4::canonical::{hex_sha256, EMPTY_PAYLOAD_SHA256, UNSIGNED_PAYLOAD};
use reqwest_sigv4::verify::{ReceivedRequest, SignatureLocation, Verified, Verifier};
use reqwest_sigv4::SummaryPolicy;
use reqwest_sigv4::{Error, FixedClock, Route, SigV4Middleware, SignedHeaders, SignedRequest};
use support::signing::{assert_tamper_rejected, ok_server};
use wiremock::MockServer;

// ---------------------------------------------------------------------------------------
// AWS's documented examples
// ---------------------------------------------------------------------------------------
//
// Amazon S3 API Reference, "Examples: Signature Calculations in AWS Signature Version 4"
// (sig-v4-header-based-auth.html: GET Object with Range, PUT Object, GET Bucket Lifecycle,
// GET Bucket (List Objects)) and "Authenticating Requests: Using Query Parameters (AWS
// Signature Version 4)" (sigv4-query-string-auth.html: the presigned GET). The keys, time,
// requests, canonical-request hashes and signatures below are copied verbatim from them.

/// The documented examples' access key id.
const DOC_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// The documented examples' secret access key.
const DOC_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
/// The documented examples' bucket host.
const DOC_HOST: &str = "examplebucket.s3.amazonaws.com";
/// 20130524T000000Z, the documented examples' signing time.
const DOC_TIME_SECS: u64 = 1_369_353_600;

fn doc_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(DOC_TIME_SECS)
}

fn doc_credentials() -> Credentials {
    Credentials::new(DOC_ACCESS_KEY, DOC_SECRET_KEY, None, None, "aws-docs")
}

/// A signer for the documented bucket at the documented time. The host names no region,
/// so the route does.
fn doc_signer(route: Route) -> SigV4Middleware {
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(route.service("s3").region("us-east-1"))
        .static_credentials(doc_credentials())
        .clock(FixedClock(doc_time()))
        .clock_skew_correction(None)
        .build()
        .expect("valid config")
}

fn doc_verifier() -> Verifier {
    Verifier::new(doc_credentials())
        .service("s3")
        .region("us-east-1")
        .now(doc_time())
        .max_skew(Duration::from_secs(300))
}

/// A client that sends requests for `host` to `server` through `signer`.
fn client_via(
    server: &MockServer,
    host: &str,
    signer: SigV4Middleware,
) -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(support::client_for(&[(host, *server.address())]))
        .with(signer)
        .build()
}

async fn only_request(server: &MockServer) -> ReceivedRequest {
    let received = server.received_requests().await.expect("recording on");
    assert_eq!(received.len(), 1, "one request expected");
    ReceivedRequest::from_wiremock(&received[0])
}

/// `(SignedHeaders, Signature)` of an `Authorization` header.
fn authorization_parts(request: &ReceivedRequest) -> (String, String) {
    let value = request.header("authorization").expect("Authorization sent");
    let field = |name: &str| {
        value
            .split([',', ' '])
            .find_map(|part| part.trim().strip_prefix(name))
            .unwrap_or_else(|| panic!("{name} missing from {value}"))
            .to_owned()
    };
    (field("SignedHeaders="), field("Signature="))
}

/// Sends one documented header-signed request and checks it against the documented
/// signed-header list, canonical-request hash (the string-to-sign's last line, when the
/// documentation gives it) and signature, in the verifier's view and in the summary's.
async fn assert_documented_request(
    request: impl FnOnce(
        &reqwest_middleware::ClientWithMiddleware,
    ) -> reqwest_middleware::RequestBuilder,
    signed_headers: &str,
    canonical_request_sha256: Option<&str>,
    signature: &str,
) -> ReceivedRequest {
    let server = ok_server().await;
    // `date` and `range` are among the documented signed headers: sign them, and only them,
    // besides host and x-amz-*.
    let route = Route::direct(format!("http://{DOC_HOST}")).signed_headers(
        SignedHeaders::HostAndAmzPlus(vec!["date".into(), "range".into()]),
    );
    let client = client_via(&server, DOC_HOST, doc_signer(route));
    let response = request(&client).send().await.expect("sent");
    assert_eq!(response.status(), 200);
    let summary = response
        .extensions()
        .get::<SignedRequest>()
        .expect("summary attached")
        .clone();
    let received = only_request(&server).await;
    assert_eq!(
        authorization_parts(&received),
        (signed_headers.to_owned(), signature.to_owned()),
        "{received:?}"
    );
    let verified = doc_verifier()
        .verify(&received)
        .unwrap_or_else(|r| panic!("documented request refused:\n{r}"));
    assert_eq!(summary.string_to_sign(), verified.string_to_sign);
    if let Some(hash) = canonical_request_sha256 {
        assert!(
            verified.string_to_sign.ends_with(&format!("\n{hash}")),
            "{}",
            verified.string_to_sign
        );
    }
    received
}

#[tokio::test]
async fn documented_get_object_with_range() {
    let received = assert_documented_request(
        |c| {
            c.get(format!("http://{DOC_HOST}/test.txt"))
                .header("range", "bytes=0-9")
        },
        "host;range;x-amz-content-sha256;x-amz-date",
        Some("7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972"),
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    )
    .await;
    assert_eq!(
        received.header("x-amz-content-sha256"),
        Some(EMPTY_PAYLOAD_SHA256)
    );
}

/// The key `test$file.text` is written with a raw `$`; the documentation signs (and the AWS
/// SDKs send) it as `/test%24file.text`.
#[tokio::test]
async fn documented_put_object_with_a_dollar_in_the_key() {
    let received = assert_documented_request(
        |c| {
            c.put(format!("http://{DOC_HOST}/test$file.text"))
                .header("date", "Fri, 24 May 2013 00:00:00 GMT")
                .header("x-amz-storage-class", "REDUCED_REDUNDANCY")
                .body("Welcome to Amazon S3.")
        },
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        Some("9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d"),
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
    )
    .await;
    assert_eq!(received.path_and_query().0, "/test%24file.text");
    assert_eq!(
        received.header("x-amz-content-sha256"),
        Some("44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
    );
}

#[tokio::test]
async fn documented_get_bucket_lifecycle() {
    assert_documented_request(
        |c| c.get(format!("http://{DOC_HOST}/?lifecycle")),
        "host;x-amz-content-sha256;x-amz-date",
        None,
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
    )
    .await;
}

#[tokio::test]
async fn documented_list_objects() {
    assert_documented_request(
        |c| c.get(format!("http://{DOC_HOST}/?max-keys=2&prefix=J")),
        "host;x-amz-content-sha256;x-amz-date",
        None,
        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
    )
    .await;
}

/// The documented canonical request of the presigned GET: its payload hash is the literal
/// `UNSIGNED-PAYLOAD`, the rule taken from the documentation rather than from our signer.
const DOC_PRESIGNED_CANONICAL_REQUEST: &str = "GET\n\
/test.txt\n\
X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\n\
host:examplebucket.s3.amazonaws.com\n\
\n\
host\n\
UNSIGNED-PAYLOAD";

/// The documented presigned URL's query.
const DOC_PRESIGNED_QUERY: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request\
&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host\
&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

fn query_pairs(query: &str) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    pairs.sort();
    pairs
}

#[tokio::test]
async fn documented_presigned_get() {
    let signer = doc_signer(Route::direct(format!("https://{DOC_HOST}")));
    let request = reqwest::Request::new(
        reqwest::Method::GET,
        format!("https://{DOC_HOST}/test.txt").parse().unwrap(),
    );
    let url = signer
        .presign(&request, Duration::from_secs(86_400))
        .await
        .expect("presigned");
    assert_eq!(url.path(), "/test.txt");
    assert_eq!(
        query_pairs(url.query().unwrap_or_default()),
        query_pairs(DOC_PRESIGNED_QUERY),
        "{}",
        url.as_str()
    );

    // The documented URL itself, as S3 receives it, passes the verifier with the documented
    // canonical request.
    let documented = ReceivedRequest::new(
        "GET",
        format!("/test.txt?{DOC_PRESIGNED_QUERY}"),
        vec![("host".into(), DOC_HOST.into())],
        Bytes::new(),
    );
    let verified = doc_verifier()
        .verify(&documented)
        .unwrap_or_else(|r| panic!("documented presigned URL refused:\n{r}"));
    assert_eq!(verified.canonical_request, DOC_PRESIGNED_CANONICAL_REQUEST);
    assert_eq!(verified.location, SignatureLocation::Query);
}

// ---------------------------------------------------------------------------------------
// The payload hash a presigned URL carries, per profile
// ---------------------------------------------------------------------------------------

fn session_verifier(service: &str, region: &str) -> Verifier {
    Verifier::new(support::example_session_credentials())
        .service(service)
        .region(region)
        .max_skew(Duration::from_secs(300))
}

fn signer(route: Route) -> SigV4Middleware {
    signer_with(route, support::example_session_credentials(), 1024 * 1024)
}

fn signer_with(route: Route, credentials: Credentials, body_limit: usize) -> SigV4Middleware {
    SigV4Middleware::builder()
        .summaries(SummaryPolicy::Always)
        .route(route)
        .static_credentials(credentials)
        .body_limit(body_limit)
        .build()
        .expect("valid config")
}

/// Presigns a PUT of `body` to `url` for `route`, then has a plain client (no middleware)
/// send it to `server`; returns what the server received.
async fn presign_and_put(
    server: &MockServer,
    route: Route,
    url: &str,
    body: &'static [u8],
) -> ReceivedRequest {
    let mut request = reqwest::Request::new(reqwest::Method::PUT, url.parse().unwrap());
    *request.body_mut() = Some(reqwest::Body::from(body));
    let presigned = signer(route)
        .presign(&request, Duration::from_secs(300))
        .await
        .expect("presigned");
    let host = presigned.host_str().unwrap().to_owned();
    let plain = support::client_for(&[(&host, *server.address())]);
    let resp = plain
        .put(presigned.into_url())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    only_request(server).await
}

/// The canonical request's last line, the payload hash that was signed.
fn signed_payload_hash(verified: &Verified) -> &str {
    verified
        .canonical_request
        .rsplit('\n')
        .next()
        .unwrap_or_default()
}

/// S3 presigns over `UNSIGNED-PAYLOAD` (as the documented example above): the uploader
/// chooses the bytes, the URL authorizes the key.
#[tokio::test]
async fn s3_presigned_put_signs_unsigned_payload_and_a_plain_client_uploads() {
    let server = ok_server().await;
    let host = "my-bucket.s3.eu-west-1.amazonaws.com";
    let received = presign_and_put(
        &server,
        Route::direct(format!("http://{host}")),
        &format!("http://{host}/uploads/report 2026+final.pdf"),
        b"%PDF-1.7 bytes",
    )
    .await;
    assert!(received.header("x-amz-content-sha256").is_none());
    assert_eq!(received.body().as_ref(), b"%PDF-1.7 bytes");
    let verifier = session_verifier("s3", "eu-west-1");
    let verified = verifier.verify(&received).expect("S3 accepts the upload");
    assert_eq!(verified.location, SignatureLocation::Query);
    assert_eq!(signed_payload_hash(&verified), UNSIGNED_PAYLOAD);
    // The key is the one the URL was made for: `+` literal, space encoded.
    assert_eq!(
        received.path_and_query().0,
        "/uploads/report%202026%2Bfinal.pdf"
    );
    // The URL authorizes that key only; the bytes are the uploader's (that is what
    // UNSIGNED-PAYLOAD means), so a changed body still passes.
    let elsewhere = ReceivedRequest::new(
        "PUT",
        received.target().replace("final", "finaL"),
        received.headers().to_vec(),
        received.body().clone(),
    );
    assert!(verifier.verify(&elsewhere).is_err());
}

/// API Gateway, Lambda URLs and OpenSearch verify a presigned request over the body's
/// SHA-256, like a header-signed one (SigV4: `HashedPayload` is the hex SHA-256 of the body).
#[tokio::test]
async fn api_gateway_lambda_and_opensearch_presign_over_the_body_hash() {
    for (host, service, region) in [
        (
            "abc123.execute-api.us-east-1.amazonaws.com",
            "execute-api",
            "us-east-1",
        ),
        (
            "abcdefghij.lambda-url.eu-west-1.on.aws",
            "lambda",
            "eu-west-1",
        ),
        (
            "search-logs-abc123.eu-central-1.es.amazonaws.com",
            "es",
            "eu-central-1",
        ),
        (
            "abcdef123.us-east-1.aoss.amazonaws.com",
            "aoss",
            "us-east-1",
        ),
    ] {
        let server = ok_server().await;
        let body: &'static [u8] = br#"{"k":"v"}"#;
        let received = presign_and_put(
            &server,
            Route::direct(format!("http://{host}")),
            &format!("http://{host}/prod/items"),
            body,
        )
        .await;
        let verified = session_verifier(service, region)
            .verify(&received)
            .unwrap_or_else(|r| panic!("{service}: {r}"));
        assert_eq!(
            signed_payload_hash(&verified),
            hex_sha256(body),
            "{service}"
        );
        // Another body does not pass.
        let other = ReceivedRequest::new(
            "PUT",
            received.target(),
            received.headers().to_vec(),
            Bytes::from_static(b"{}"),
        );
        assert!(session_verifier(service, region).verify(&other).is_err());
    }
}

/// A route signed in the query to S3 sends bodies unhashed (and unbuffered): a body larger
/// than the buffering limit goes through.
#[tokio::test]
async fn s3_route_signed_in_the_query_sends_unsigned_payload() {
    let server = ok_server().await;
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let signer = signer_with(
        Route::direct(format!("http://{host}")).sign_in_query(Duration::from_secs(60)),
        support::example_session_credentials(),
        16,
    );
    let client = client_via(&server, host, signer);
    let resp = client
        .put(format!("http://{host}/k"))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(vec![
            Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 64])),
        ])))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    let received = only_request(&server).await;
    assert_eq!(received.body().len(), 64);
    let verified = session_verifier("s3", "us-east-2")
        .verify(&received)
        .expect("valid presigned request");
    assert_eq!(signed_payload_hash(&verified), UNSIGNED_PAYLOAD);
}

/// A route that insists on a body hash (`unsigned_payload(false)`) cannot have one in an S3
/// presigned URL: with a body, presigning is refused with a typed error; with none, nothing
/// is lost and the URL is made the way S3 verifies it.
#[tokio::test]
async fn s3_presign_with_a_required_body_hash() {
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let signer = signer(Route::direct(format!("https://{host}")).unsigned_payload(false));
    let mut put = reqwest::Request::new(
        reqwest::Method::PUT,
        format!("https://{host}/k").parse().unwrap(),
    );
    *put.body_mut() = Some(reqwest::Body::from("data"));
    let err = signer
        .presign(&put, Duration::from_secs(60))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::PayloadHashNotPresignable { ref service } if service == "s3"),
        "{err}"
    );
    let get = reqwest::Request::new(
        reqwest::Method::GET,
        format!("https://{host}/k").parse().unwrap(),
    );
    let url = signer
        .presign(&get, Duration::from_secs(60))
        .await
        .expect("no body: presigned");
    let received = ReceivedRequest::new(
        "GET",
        &url[url::Position::BeforePath..],
        vec![("host".into(), host.into())],
        Bytes::new(),
    );
    let verified = session_verifier("s3", "us-east-2")
        .verify(&received)
        .expect("valid");
    assert_eq!(signed_payload_hash(&verified), UNSIGNED_PAYLOAD);
}

// ---------------------------------------------------------------------------------------
// One spelling for keys and queries
// ---------------------------------------------------------------------------------------

/// Every character S3 and its verifiers could read two ways, in a key and in the query.
#[tokio::test]
async fn reserved_characters_are_sent_signed_and_shown_in_one_spelling() {
    let server = ok_server().await;
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let signer = signer_with(
        Route::direct(format!("http://{host}")),
        support::example_credentials(),
        1024,
    );
    let client = client_via(&server, host, signer);
    let response = client
        .get(format!(
            "http://{host}/dir/a+b=c!$'()*,;:@ é%2f.txt?prefix=x+y&delimiter=/&list-type=2&k=%2B"
        ))
        .send()
        .await
        .expect("sent");
    assert_eq!(response.status(), 200);
    let summary = response
        .extensions()
        .get::<SignedRequest>()
        .unwrap()
        .clone();
    let received = only_request(&server).await;
    // What the AWS SDKs send: every byte of the key but unreserved ones and `/` encoded (a
    // raw `+` is a literal plus), and a raw `+` in the query is a space.
    let expected = "/dir/a%2Bb%3Dc%21%24%27%28%29%2A%2C%3B%3A%40%20%C3%A9%2F.txt\
                    ?prefix=x%20y&delimiter=%2F&list-type=2&k=%2B";
    assert_eq!(received.target(), expected);
    assert_eq!(summary.path_and_query(), expected);
    let verifier = Verifier::new(support::example_credentials())
        .service("s3")
        .region("us-east-2");
    let verified = verifier.verify(&received).expect("S3's rules accept it");
    assert_eq!(summary.canonical_request(), verified.canonical_request);
    assert_eq!(summary.string_to_sign(), verified.string_to_sign);
    // A verifier that reads a raw `+` in the query as a space agrees: there is none left.
    verifier
        .clone()
        .query_plus(reqwest_sigv4::canonical::QueryPlus::Space)
        .verify(&received)
        .expect("no raw plus left to read two ways");
    assert_tamper_rejected(&received, &verifier);
}

// ---------------------------------------------------------------------------------------
// S3 for real users
// ---------------------------------------------------------------------------------------

/// Every method carries `x-amz-content-sha256` with the body's hash, and verifies.
#[tokio::test]
async fn every_request_carries_the_content_hash_header() {
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    for (method, body) in [
        ("PUT", &b"object bytes"[..]),
        ("GET", b""),
        ("HEAD", b""),
        ("DELETE", b""),
        ("POST", b"<Delete><Object><Key>k</Key></Object></Delete>"),
    ] {
        let server = ok_server().await;
        let client = client_via(
            &server,
            host,
            signer(Route::direct(format!("http://{host}"))),
        );
        let mut request = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("http://{host}/photos/2026/cat.jpg"),
        );
        if !body.is_empty() {
            request = request.body(body.to_vec());
        }
        assert_eq!(request.send().await.unwrap().status(), 200);
        let received = only_request(&server).await;
        assert_eq!(
            received.header("x-amz-content-sha256"),
            Some(hex_sha256(body).as_str()),
            "{method}"
        );
        session_verifier("s3", "us-east-2")
            .verify(&received)
            .unwrap_or_else(|r| panic!("{method}: {r}"));
    }
}

/// `unsigned_payload(true)`: a stream larger than the buffering limit is sent as it comes,
/// signed over `UNSIGNED-PAYLOAD` (S3 accepts it; the body is then protected by TLS only).
#[tokio::test]
async fn opt_in_unsigned_payload_streams_a_large_upload() {
    let server = ok_server().await;
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let signer = signer_with(
        Route::direct(format!("http://{host}")).unsigned_payload(true),
        support::example_session_credentials(),
        64 * 1024,
    );
    let client = client_via(&server, host, signer);
    let chunk = Bytes::from(vec![b'z'; 1024 * 1024]);
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..5).map(|_| Ok(chunk.clone())).collect();
    let resp = client
        .put(format!("http://{host}/big.bin"))
        .header("content-length", (5 * 1024 * 1024).to_string())
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .expect("streamed past the 64 KiB buffering limit");
    assert_eq!(resp.status(), 200);
    let received = only_request(&server).await;
    assert_eq!(received.body().len(), 5 * 1024 * 1024);
    assert_eq!(
        received.header("x-amz-content-sha256"),
        Some(UNSIGNED_PAYLOAD)
    );
    let verified = session_verifier("s3", "us-east-2")
        .allow_unsigned_payload(true)
        .verify(&received)
        .expect("valid");
    assert_eq!(verified.payload_hash, UNSIGNED_PAYLOAD);
}

/// A server that answers `PUT /a` with a 307 to `/b` and anything else with 200.
async fn redirecting_server() -> MockServer {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/a"))
        .respond_with(wiremock::ResponseTemplate::new(307).insert_header("location", "/b"))
        .mount(&server)
        .await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&server)
        .await;
    server
}

/// On a route that does not hash bodies, a streamed body goes out once, as it is, and is
/// not kept: a 307 that would send it again is returned to the caller, not followed
/// without the body.
#[tokio::test]
async fn an_unsigned_stream_is_never_sent_again_without_its_bytes() {
    let server = redirecting_server().await;
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let signer = signer(Route::direct(format!("http://{host}")).unsigned_payload(true));
    let client = client_via(&server, host, signer);
    let parts: Vec<Result<Bytes, std::io::Error>> = vec![Ok(Bytes::from_static(b"hello world"))];
    let resp = client
        .put(format!("http://{host}/a"))
        .header("content-length", "11")
        // A hop that lost the body would leave the server waiting for its 11 bytes.
        .timeout(Duration::from_secs(10))
        .body(reqwest::Body::wrap_stream(futures::stream::iter(parts)))
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 307, "returned, not followed");
    let received = server.received_requests().await.expect("recorded");
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, ["/a"], "/b never got an empty PUT");
    assert_eq!(received[0].body, b"hello world");
}

/// An in-memory body on such a route is kept (shared, not hashed): the 307 is followed and
/// the next hop gets every byte, signed again.
#[tokio::test]
async fn an_unsigned_in_memory_body_follows_a_redirect_whole() {
    let server = redirecting_server().await;
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let signer = signer(Route::direct(format!("http://{host}")).unsigned_payload(true));
    let client = client_via(&server, host, signer);
    let resp = client
        .put(format!("http://{host}/a"))
        .body("hello world")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 200);
    let received = server.received_requests().await.expect("recorded");
    let paths: Vec<&str> = received.iter().map(|r| r.url.path()).collect();
    assert_eq!(paths, ["/a", "/b"]);
    let hop = ReceivedRequest::from_wiremock(&received[1]);
    assert_eq!(&hop.body()[..], b"hello world");
    session_verifier("s3", "us-east-2")
        .allow_unsigned_payload(true)
        .verify(&hop)
        .expect("the hop is signed");
}

/// Virtual-hosted (`bucket.s3.region…/key`) and path-style (`s3.region…/bucket/key`) URLs
/// are both signed for the host and path they are sent to, service and region inferred.
#[tokio::test]
async fn virtual_hosted_and_path_style_urls() {
    for (host, path) in [
        ("my-bucket.s3.eu-central-1.amazonaws.com", "/a/b c.txt"),
        ("s3.eu-central-1.amazonaws.com", "/my-bucket/a/b c.txt"),
    ] {
        let server = ok_server().await;
        let client = client_via(
            &server,
            host,
            signer(Route::direct(format!("http://{host}"))),
        );
        let resp = client
            .get(format!("http://{host}{path}?list-type=2&prefix=a/"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let received = only_request(&server).await;
        let verifier = session_verifier("s3", "eu-central-1");
        let verified = verifier
            .verify(&received)
            .unwrap_or_else(|r| panic!("{host}: {r}"));
        assert!(
            verified.canonical_request.starts_with(&format!(
                "GET\n{}\nlist-type=2&prefix=a%2F\n",
                path.replace(' ', "%20")
            )),
            "{}",
            verified.canonical_request
        );
        assert_tamper_rejected(&received, &verifier);
    }
}

// ---------------------------------------------------------------------------------------
// The summary keeps no secret
// ---------------------------------------------------------------------------------------

/// Rides along in the credentials (`Credentials::set_property`): a copy of the credentials
/// copies it, so its count says how many copies are alive.
#[derive(Clone, Debug)]
struct Tracker(#[allow(dead_code)] Arc<()>);

/// A response's `SignedRequest` outlives the client; it must not keep the credentials (their
/// secret key) alive, only the access key id and session token the string-to-sign needs.
#[tokio::test]
async fn the_summary_keeps_no_copy_of_the_credentials() {
    let alive = Arc::new(());
    let mut credentials = support::example_session_credentials();
    credentials.set_property(Tracker(alive.clone()));
    let server = ok_server().await;
    let host = "my-bucket.s3.us-east-2.amazonaws.com";
    let signer = signer_with(Route::direct(format!("http://{host}")), credentials, 1024);
    let client = client_via(&server, host, signer);
    let response = client.get(format!("http://{host}/k")).send().await.unwrap();
    drop(client);
    let summary = response
        .extensions()
        .get::<SignedRequest>()
        .expect("summary attached")
        .clone();
    assert_eq!(
        Arc::strong_count(&alive),
        1,
        "the response still holds a copy of the credentials"
    );
    // It still recomputes the string-to-sign that was signed, token included.
    let received = only_request(&server).await;
    let verified = session_verifier("s3", "us-east-2")
        .verify(&received)
        .expect("valid");
    assert_eq!(summary.string_to_sign(), verified.string_to_sign);
    let shown = format!("{summary:?} {}", summary.canonical_request());
    assert!(!shown.contains(support::EXAMPLE_SESSION_TOKEN), "{shown}");
    assert!(!shown.contains(support::EXAMPLE_SECRET_KEY), "{shown}");
}
