//! Unit tests of the verifier: cross-checks against `aws-sigv4` (the crate's signer), each
//! rejection reason, the mismatch explanations and the redaction of secrets.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SessionTokenMode, SignableBody,
    SignableRequest, SignatureLocation as AwsLocation, SigningSettings, UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

use super::*;
use crate::canonical::CanonicalDifference;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const TOKEN: &str = "TOKENSECRETVALUE+/=";
const HOST: &str = "abc123.execute-api.eu-west-1.amazonaws.com";
const T0: u64 = 1_440_938_160; // 2015-08-30T12:36:00Z

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(T0)
}

fn creds(token: Option<&str>) -> Credentials {
    Credentials::new(AKID, SECRET, token.map(str::to_owned), None, "test")
}

/// The requests here are signed at [`t0`]: the verifier's clock is fixed there.
fn verifier(token: Option<&str>) -> Verifier {
    Verifier::new(creds(token))
        .service("execute-api")
        .region("eu-west-1")
        .now(t0())
}

struct SignOpts {
    token: Option<&'static str>,
    service: &'static str,
    query: bool,
    content_sha: bool,
    token_excluded: bool,
    double: bool,
    normalize: bool,
}

impl Default for SignOpts {
    fn default() -> Self {
        Self {
            token: None,
            service: "execute-api",
            query: false,
            content_sha: false,
            token_excluded: false,
            double: true,
            normalize: true,
        }
    }
}

/// Signs with `aws-sigv4`, the library the crate's middleware signs with.
fn aws_signed(
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    opts: &SignOpts,
) -> ReceivedRequest {
    let mut builder = http::Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(body.to_vec()).unwrap();
    let identity: Identity = creds(opts.token).into();
    let mut settings = SigningSettings::default();
    if opts.query {
        settings.signature_location = AwsLocation::QueryParams;
        settings.expires_in = Some(Duration::from_secs(900));
    }
    if opts.content_sha {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    if opts.token_excluded {
        settings.session_token_mode = SessionTokenMode::Exclude;
    }
    if !opts.double {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
    }
    if !opts.normalize {
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region("eu-west-1")
        .name(opts.service)
        .time(t0())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    sign_and_receive(request, &params)
}

/// Signs `request` with aws-sigv4 under `params` and returns it as a server receives it.
pub(super) fn sign_and_receive(
    mut request: http::Request<Vec<u8>>,
    params: &aws_sigv4::http_request::SigningParams<'_>,
) -> ReceivedRequest {
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.uri().to_string(),
        request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.to_str().unwrap())),
        SignableBody::Bytes(request.body()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, params).unwrap().into_parts();
    instructions.apply_to_request_http1x(&mut request);
    ReceivedRequest::from_http(&request)
}

fn url(path_and_query: &str) -> String {
    format!("https://{HOST}{path_and_query}")
}

fn with_header(req: &ReceivedRequest, name: &str, value: &str) -> ReceivedRequest {
    let mut headers = req.headers().to_vec();
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value.to_owned()));
    ReceivedRequest::new(req.method(), req.target(), headers, req.body().clone())
}

fn with_target(req: &ReceivedRequest, target: &str) -> ReceivedRequest {
    ReceivedRequest::new(
        req.method(),
        target,
        req.headers().to_vec(),
        req.body().clone(),
    )
}

fn kind(result: Result<Verified, Rejection>) -> RejectionKind {
    match result {
        Ok(v) => panic!("expected a rejection, got {v:?}"),
        Err(r) => r.kind,
    }
}

#[test]
fn aws_sigv4_header_signing_verifies() {
    let req = aws_signed(
        "GET",
        &url("/prod/items/a%20b/@c/d%3De?q=a+b&star=*!()'&u=%E1%88%B4&flag&empty="),
        &[("x-custom", "  spaced   value ")],
        b"",
        &SignOpts::default(),
    );
    let verified = verifier(None).verify(&req).unwrap();
    assert_eq!(verified.location, SignatureLocation::Header);
    assert_eq!(verified.access_key_id, AKID);
    assert_eq!(verified.scope.region, "eu-west-1");
    assert_eq!(verified.scope.service, "execute-api");
    assert_eq!(verified.amz_date, "20150830T123600Z");
    assert_eq!(verified.session_token_signed, None);
    assert!(verified.signed_headers.contains(&"host".to_owned()));
    assert!(verified
        .canonical_request
        .contains("\n/prod/items/a%2520b/%40c/d%253De\n"));
    // `+` is a space, signed as %20; a key without `=` is `key=`.
    assert!(verified
        .canonical_request
        .contains("\nempty=&flag=&q=a%20b&star=%2A%21%28%29%27&u=%E1%88%B4\n"));
}

#[test]
fn aws_sigv4_query_signing_and_body_verify() {
    let req = aws_signed(
        "POST",
        &url("/prod/items?x=1"),
        &[("content-type", "application/json")],
        b"{\"a\":1}",
        &SignOpts {
            query: true,
            token: Some(TOKEN),
            ..SignOpts::default()
        },
    );
    let verified = verifier(Some(TOKEN)).now(t0()).verify(&req).unwrap();
    assert_eq!(verified.location, SignatureLocation::Query);
    assert_eq!(verified.session_token_signed, Some(true));
    assert_eq!(verified.payload_hash, hex_sha256(b"{\"a\":1}"));
    // Fifteen minutes later the presigned URL has expired.
    let late = verifier(Some(TOKEN)).now(t0() + Duration::from_secs(901));
    assert!(matches!(
        kind(late.verify(&req)),
        RejectionKind::PresignExpired {
            expires_in: 900,
            ..
        }
    ));
    // Body tampering breaks it.
    let tampered = ReceivedRequest::new(
        req.method(),
        req.target(),
        req.headers().to_vec(),
        &b"{\"a\":2}"[..],
    );
    assert_eq!(
        kind(verifier(Some(TOKEN)).verify(&tampered)),
        RejectionKind::SignatureMismatch
    );
}

#[test]
fn aws_sigv4_content_sha_and_token_verify() {
    let req = aws_signed(
        "PUT",
        &url("/prod/x"),
        &[],
        b"hello",
        &SignOpts {
            content_sha: true,
            token: Some(TOKEN),
            ..SignOpts::default()
        },
    );
    let verified = verifier(Some(TOKEN)).verify(&req).unwrap();
    assert_eq!(verified.session_token_signed, Some(true));
    let tampered =
        ReceivedRequest::new(req.method(), req.target(), req.headers().to_vec(), "hellO");
    assert!(matches!(
        kind(verifier(Some(TOKEN)).verify(&tampered)),
        RejectionKind::PayloadHashMismatch { .. }
    ));
}

#[test]
fn aws_sigv4_s3_rules_verify() {
    let req = aws_signed(
        "GET",
        "https://bucket.s3.eu-west-1.amazonaws.com/a%20b/c%2Bd?q=a%2Bb",
        &[],
        b"",
        &SignOpts {
            service: "s3",
            double: false,
            normalize: false,
            content_sha: true,
            ..SignOpts::default()
        },
    );
    let s3 = Verifier::new(creds(None))
        .service("s3")
        .region("eu-west-1")
        .now(t0());
    s3.verify(&req).unwrap();
}

#[test]
fn session_token_added_after_signing_is_accepted_unless_required_signed() {
    let req = aws_signed(
        "GET",
        &url("/prod/x"),
        &[],
        b"",
        &SignOpts {
            token: Some(TOKEN),
            token_excluded: true,
            ..SignOpts::default()
        },
    );
    assert!(req.header("x-amz-security-token").is_some());
    // Accepted only with the explicit opt-out (the default requires a signed token).
    let verified = verifier(Some(TOKEN))
        .require_signed_session_token(false)
        .verify(&req)
        .unwrap();
    assert_eq!(verified.session_token_signed, Some(false));
    assert_eq!(
        kind(
            verifier(Some(TOKEN))
                .require_signed_session_token(true)
                .verify(&req)
        ),
        RejectionKind::InvalidSecurityToken {
            problem: TokenProblem::NotSigned
        }
    );
    let presigned = aws_signed(
        "GET",
        &url("/prod/x"),
        &[],
        b"",
        &SignOpts {
            token: Some(TOKEN),
            token_excluded: true,
            query: true,
            ..SignOpts::default()
        },
    );
    assert_eq!(
        verifier(Some(TOKEN))
            .require_signed_session_token(false)
            .verify(&presigned)
            .unwrap()
            .session_token_signed,
        Some(false)
    );
    assert_eq!(
        kind(
            verifier(Some(TOKEN))
                .require_signed_session_token(true)
                .verify(&presigned)
        ),
        RejectionKind::InvalidSecurityToken {
            problem: TokenProblem::NotSigned
        }
    );
}

#[test]
fn session_token_problems() {
    let signed_with_token = aws_signed(
        "GET",
        &url("/prod/x"),
        &[],
        b"",
        &SignOpts {
            token: Some(TOKEN),
            ..SignOpts::default()
        },
    );
    let invalid = |problem| RejectionKind::InvalidSecurityToken { problem };
    assert_eq!(
        kind(verifier(Some("OTHER")).verify(&signed_with_token)),
        invalid(TokenProblem::Mismatch)
    );
    assert_eq!(
        kind(verifier(None).verify(&signed_with_token)),
        invalid(TokenProblem::NotExpected)
    );
    let plain = aws_signed("GET", &url("/prod/x"), &[], b"", &SignOpts::default());
    assert_eq!(
        kind(verifier(Some(TOKEN)).verify(&plain)),
        invalid(TokenProblem::Missing)
    );
    verifier(Some(TOKEN))
        .require_session_token(false)
        .verify(&plain)
        .unwrap();
    let rejection = verifier(Some("OTHER"))
        .verify(&signed_with_token)
        .unwrap_err();
    assert_eq!(
        rejection.api_gateway_message(),
        "The security token included in the request is invalid."
    );
}

#[test]
fn several_access_keys_are_looked_up_by_id() {
    let other = Credentials::new("AKIDOTHER", "other-secret", None, None, "test");
    let v = Verifier::new(other)
        .with_credentials(creds(None))
        .region("eu-west-1")
        .now(t0());
    let req = aws_signed("GET", &url("/prod/x"), &[], b"", &SignOpts::default());
    assert_eq!(v.verify(&req).unwrap().access_key_id, AKID);
    let only_other = Verifier::new(Credentials::new("AKIDOTHER", "s", None, None, "t")).now(t0());
    assert_eq!(
        kind(only_other.verify(&req)),
        RejectionKind::UnknownAccessKey {
            access_key_id: AKID.into()
        }
    );
}

#[test]
fn scope_mismatches() {
    let req = aws_signed("GET", &url("/prod/x"), &[], b"", &SignOpts::default());
    let rejection = verifier(None).region("us-east-1").verify(&req).unwrap_err();
    assert_eq!(
        rejection.kind,
        RejectionKind::ScopeMismatch {
            field: ScopeField::Region,
            expected: "us-east-1".into(),
            got: "eu-west-1".into()
        }
    );
    assert_eq!(
        rejection.api_gateway_message(),
        "Credential should be scoped to a valid region, not 'eu-west-1'."
    );
    let rejection = verifier(None).service("lambda").verify(&req).unwrap_err();
    assert_eq!(
        rejection.api_gateway_message(),
        "Credential should be scoped to correct service: 'lambda'."
    );
    let auth = req.header("authorization").unwrap();
    let bad_date = with_header(
        &req,
        "authorization",
        &auth.replace("/20150830/", "/20150831/"),
    );
    assert!(matches!(
        kind(verifier(None).verify(&bad_date)),
        RejectionKind::ScopeMismatch {
            field: ScopeField::Date,
            ..
        }
    ));
    let bad_term = with_header(
        &req,
        "authorization",
        &auth.replace("aws4_request", "aws5_request"),
    );
    assert_eq!(
        verifier(None)
            .verify(&bad_term)
            .unwrap_err()
            .api_gateway_message(),
        "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."
    );
}

#[test]
fn missing_and_malformed_authentication() {
    let unsigned = ReceivedRequest::new("GET", "/", vec![("Host".into(), HOST.into())], "");
    let rejection = verifier(None).verify(&unsigned).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::MissingAuthentication);
    assert_eq!(
        rejection.api_gateway_message(),
        "Missing Authentication Token"
    );

    let bearer = with_header(&unsigned, "Authorization", "eyJhbGciOiJIUzI1NiJ9.e30.sig");
    assert_eq!(
        verifier(None)
            .verify(&bearer)
            .unwrap_err()
            .api_gateway_message(),
        "Authorization header requires 'Credential' parameter. Authorization header requires \
         'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. \
         Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
         Authorization=eyJhbGciOiJIUzI1NiJ9.e30.sig"
    );
    let partial = with_header(
        &with_header(&unsigned, "X-Amz-Date", "20150830T123600Z"),
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/eu-west-1/execute-api/aws4_request, Signature=deadbeefsecret",
    );
    let message = verifier(None)
        .verify(&partial)
        .unwrap_err()
        .api_gateway_message();
    assert_eq!(
        message,
        "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256"
    );
    let no_equals = with_header(
        &unsigned,
        "Authorization",
        "Bearer sometoken, Signature=deadbeefsecret",
    );
    let message = verifier(None)
        .verify(&no_equals)
        .unwrap_err()
        .api_gateway_message();
    assert_eq!(
        message,
        "'sometoken' not a valid key=value pair (missing equal-sign) in Authorization header: \
         'Bearer sometoken, Signature=<redacted>'."
    );
    let wrong_algorithm = with_header(
        &partial,
        "Authorization",
        "AWS4-HMAC-SHA512 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
    );
    assert_eq!(
        verifier(None)
            .verify(&wrong_algorithm)
            .unwrap_err()
            .api_gateway_message(),
        "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512'."
    );
    let short_credential = with_header(
        &partial,
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE, SignedHeaders=host, Signature=00",
    );
    assert_eq!(
        verifier(None).verify(&short_credential).unwrap_err().api_gateway_message(),
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE'"
    );
    let bad_date = with_header(
        &with_header(&partial, "X-Amz-Date", "2015-08-30"),
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=00",
    );
    assert_eq!(
        verifier(None).verify(&bad_date).unwrap_err().api_gateway_message(),
        "Date must be in ISO-8601 'basic format'. Got '2015-08-30'. See http://en.wikipedia.org/wiki/ISO_8601"
    );
    let query = with_target(
        &unsigned,
        "/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20150830T123600Z",
    );
    assert_eq!(
        verifier(None)
            .verify(&query)
            .unwrap_err()
            .api_gateway_message(),
        "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters \
         must include 'X-Amz-Signature'. AWS query-string parameters must include \
         'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
    );
    let both = with_header(&query, "Authorization", "AWS4-HMAC-SHA256 Credential=x");
    assert!(matches!(
        kind(verifier(None).verify(&both)),
        RejectionKind::MalformedAuthorization { .. }
    ));
}

#[test]
fn host_must_be_signed_and_signed_headers_present() {
    let req = aws_signed(
        "GET",
        &url("/prod/x"),
        &[("x-a", "1")],
        b"",
        &SignOpts::default(),
    );
    let auth = req.header("authorization").unwrap().to_owned();
    let signed_list = auth
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let no_host = with_header(
        &req,
        "authorization",
        &auth.replace(&signed_list, &signed_list.replace("host;", "")),
    );
    let rejection = verifier(None).verify(&no_host).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::MissingSignedHost);
    assert_eq!(
        rejection.api_gateway_message(),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
    let mut headers = req.headers().to_vec();
    headers.retain(|(n, _)| n != "x-a");
    let without = ReceivedRequest::new(req.method(), req.target(), headers, "");
    let rejection = verifier(None).verify(&without).unwrap_err();
    assert_eq!(
        rejection.kind,
        RejectionKind::SignedHeaderMissing { name: "x-a".into() }
    );
    assert!(rejection
        .canonical_request
        .as_deref()
        .unwrap()
        .contains("\nx-a:\n"));
}

#[test]
fn unsigned_payload_only_when_allowed() {
    let mut base = aws_signed("POST", &url("/prod/x"), &[], b"body", &SignOpts::default());
    // Re-sign by hand with UNSIGNED-PAYLOAD, as S3-style signers do.
    base = with_header(&base, "x-amz-content-sha256", UNSIGNED_PAYLOAD);
    let scope = CredentialScope::new("20150830", "eu-west-1", "execute-api");
    let names = ["host", "x-amz-content-sha256", "x-amz-date"];
    let block = canonical::canonical_headers(base.headers(), &names).unwrap();
    let creq = canonical::canonical_request(
        "POST",
        "/prod/x",
        "",
        &block,
        "host;x-amz-content-sha256;x-amz-date",
        UNSIGNED_PAYLOAD,
    );
    let sts = canonical::string_to_sign("20150830T123600Z", &scope, &creq);
    let sig = canonical::signature(&canonical::signing_key(SECRET, &scope), &sts);
    let req = with_header(
        &base,
        "authorization",
        &format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}",
            scope
        ),
    );
    let rejection = verifier(None).verify(&req).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::UnsignedPayloadNotAllowed);
    assert_eq!(
        rejection.differences,
        vec![CanonicalDifference::PayloadHash {
            expected: hex_sha256(b"body"),
            actual: UNSIGNED_PAYLOAD.into()
        }]
    );
    assert!(rejection
        .api_gateway_message()
        .starts_with(SIGNATURE_MISMATCH_MESSAGE));
    let verified = verifier(None)
        .allow_unsigned_payload(true)
        .verify(&req)
        .unwrap();
    assert_eq!(verified.payload_hash, UNSIGNED_PAYLOAD);
}

#[test]
fn clock_skew_both_ways() {
    let req = aws_signed("GET", &url("/prod/x"), &[], b"", &SignOpts::default());
    let skew = Duration::from_secs(300);
    // Opted out: the request's own time is not checked, however far the clock is.
    verifier(None)
        .now(t0() + Duration::from_secs(86_400))
        .skip_time_check()
        .verify(&req)
        .unwrap();
    verifier(None)
        .max_skew(skew)
        .now(t0() + skew)
        .verify(&req)
        .unwrap();
    let rejection = verifier(None)
        .max_skew(skew)
        .now(t0() + Duration::from_secs(301))
        .verify(&req)
        .unwrap_err();
    assert_eq!(
        rejection.api_gateway_message(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T124101Z - 5 min.)"
    );
    let rejection = verifier(None)
        .max_skew(skew)
        .now(t0() - Duration::from_secs(301))
        .verify(&req)
        .unwrap_err();
    assert_eq!(
        rejection.api_gateway_message(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T123059Z + 5 min.)"
    );
}

#[test]
fn date_header_is_accepted_instead_of_x_amz_date() {
    let scope = CredentialScope::new("20150830", "eu-west-1", "execute-api");
    let headers = vec![
        ("Host".to_owned(), HOST.to_owned()),
        (
            "Date".to_owned(),
            "Sun, 30 Aug 2015 12:36:00 GMT".to_owned(),
        ),
    ];
    let block = canonical::canonical_headers(&headers, &["date", "host"]).unwrap();
    let creq =
        canonical::canonical_request("GET", "/", "", &block, "date;host", EMPTY_PAYLOAD_SHA256);
    let sts = canonical::string_to_sign("20150830T123600Z", &scope, &creq);
    let sig = canonical::signature(&canonical::signing_key(SECRET, &scope), &sts);
    let mut headers = headers;
    headers.push((
        "Authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{scope}, SignedHeaders=date;host, Signature={sig}"
        ),
    ));
    let req = ReceivedRequest::new("GET", "/", headers, "");
    assert_eq!(
        verifier(None).verify(&req).unwrap().amz_date,
        "20150830T123600Z"
    );
    assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), Some(t0()));
    assert_eq!(parse_http_date("Sun, 30 Foo 2015 12:36:00 GMT"), None);
    assert_eq!(parse_http_date("Sun, 30 Aug 2015 12:36:00 CET"), None);
}

#[test]
fn date_header_in_the_obsolete_http_date_forms_is_read() {
    // RFC 9110 5.6.7: a recipient accepts the RFC 850 and asctime forms as well.
    assert_eq!(
        parse_http_date("Sunday, 30-Aug-15 12:36:00 GMT"),
        Some(t0())
    );
    assert_eq!(parse_http_date("Sun Aug 30 12:36:00 2015"), Some(t0()));
    assert_eq!(parse_http_date(" 20150830T123600Z "), Some(t0()));
    assert_eq!(parse_http_date("Sun, 31 Feb 2015 12:36:00 GMT"), None);
    assert_eq!(parse_http_date("Sun, 30 Aug 2015 24:36:00 GMT"), None);
}

#[test]
fn mismatch_explained_single_vs_double_encoding() {
    // A signer that single-encoded the path (the S3 rule) while the service double-encodes.
    let req = aws_signed(
        "GET",
        &url("/prod/a%20b"),
        &[],
        b"",
        &SignOpts {
            double: false,
            ..SignOpts::default()
        },
    );
    let rejection = verifier(None).verify(&req).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::SignatureMismatch);
    assert_eq!(
        rejection.differences,
        vec![CanonicalDifference::Path {
            expected: "/prod/a%2520b".into(),
            actual: "/prod/a%20b".into()
        }]
    );
    assert!(rejection
        .to_string()
        .contains("path: expected '/prod/a%2520b', signed '/prod/a%20b'"));
}

#[test]
fn mismatch_explained_plus_in_query() {
    // The signer read `+` literally (S3 rule); API Gateway reads it as a space.
    let req = aws_signed(
        "GET",
        "https://bucket.s3.eu-west-1.amazonaws.com/k?q=a+b",
        &[],
        b"",
        &SignOpts {
            service: "s3",
            double: false,
            normalize: false,
            ..SignOpts::default()
        },
    );
    // aws-sigv4 signs `+` as %20, as API Gateway reads it: the verifier in S3 mode (literal
    // plus) therefore refuses it and names the parameter.
    let s3 = Verifier::new(creds(None)).service("s3").now(t0());
    let rejection = s3.verify(&req).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::SignatureMismatch);
    assert!(matches!(
        rejection.differences.as_slice(),
        [CanonicalDifference::Query { parameters, .. }] if parameters == &["q".to_owned()]
    ));
    s3.query_plus(QueryPlus::Space).verify(&req).unwrap();
}

#[test]
fn mismatch_explained_host_port() {
    let req = aws_signed("GET", &url("/prod/x"), &[], b"", &SignOpts::default());
    let moved = with_header(&req, "host", &format!("{HOST}:443"));
    let rejection = verifier(None).verify(&moved).unwrap_err();
    assert!(matches!(
        rejection.differences.as_slice(),
        [CanonicalDifference::Header { name, .. }] if name == "host"
    ));
}

#[test]
fn unexplained_mismatch_and_no_secret_in_any_text() {
    let req = aws_signed(
        "GET",
        &url("/prod/x"),
        &[],
        b"",
        &SignOpts {
            token: Some(TOKEN),
            ..SignOpts::default()
        },
    );
    let signature = req
        .header("authorization")
        .unwrap()
        .rsplit("Signature=")
        .next()
        .unwrap()
        .to_owned();
    let wrong_secret = Verifier::new(Credentials::new(
        AKID,
        "not-the-secret",
        Some(TOKEN.to_owned()),
        None,
        "test",
    ))
    .now(t0());
    let rejection = wrong_secret.verify(&req).unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::SignatureMismatch);
    assert!(rejection.differences.is_empty());
    assert!(rejection.to_string().contains("No common signer mistake"));
    let expected_signature = canonical::signature(
        &canonical::signing_key(
            "not-the-secret",
            &CredentialScope::new("20150830", "eu-west-1", "execute-api"),
        ),
        rejection.string_to_sign.as_deref().unwrap(),
    );
    let texts = [
        rejection.to_string(),
        format!("{rejection:?}"),
        rejection.api_gateway_message(),
        format!("{wrong_secret:?}"),
        format!("{req:?}"),
        format!("{:?}", verifier(Some(TOKEN)).verify(&req).unwrap()),
    ];
    for text in texts {
        for secret in [
            SECRET,
            "not-the-secret",
            TOKEN,
            &signature,
            &expected_signature,
        ] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
    // The data field keeps the exact canonical request, token included, for diagnostics.
    assert!(rejection.canonical_request.unwrap().contains(TOKEN));
}

#[test]
fn constant_time_paths_reject_garbage_signatures() {
    let req = aws_signed("GET", &url("/prod/x"), &[], b"", &SignOpts::default());
    let auth = req.header("authorization").unwrap().to_owned();
    let (head, _) = auth.rsplit_once("Signature=").unwrap();
    for garbage in ["", "zz", "00", &"0".repeat(64), &"g".repeat(64)] {
        let bad = with_header(&req, "authorization", &format!("{head}Signature={garbage}"));
        assert_eq!(
            kind(verifier(None).verify(&bad)),
            RejectionKind::SignatureMismatch
        );
    }
}

#[test]
fn presigned_expiry_limits() {
    let req = aws_signed(
        "GET",
        &url("/prod/x"),
        &[],
        b"",
        &SignOpts {
            query: true,
            ..SignOpts::default()
        },
    );
    let too_long = with_target(
        &req,
        &req.target()
            .replace("X-Amz-Expires=900", "X-Amz-Expires=604801"),
    );
    assert!(matches!(
        kind(verifier(None).verify(&too_long)),
        RejectionKind::MalformedAuthorization { .. }
    ));
    let not_a_number = with_target(
        &req,
        &req.target()
            .replace("X-Amz-Expires=900", "X-Amz-Expires=soon"),
    );
    assert!(matches!(
        kind(verifier(None).verify(&not_a_number)),
        RejectionKind::MalformedAuthorization { .. }
    ));
    // A presigned URL is valid long after X-Amz-Date, within X-Amz-Expires, even with a skew.
    verifier(None)
        .max_skew(Duration::from_secs(300))
        .now(t0() + Duration::from_secs(600))
        .verify(&req)
        .unwrap();
    assert!(matches!(
        kind(
            verifier(None)
                .max_skew(Duration::from_secs(300))
                .now(t0() - Duration::from_secs(600))
                .verify(&req)
        ),
        RejectionKind::SignatureNotYetCurrent { .. }
    ));
}

#[test]
fn verifier_debug_shows_no_secret() {
    let shown = format!("{:?}", verifier(Some(TOKEN)).with_credentials(creds(None)));
    assert!(shown.contains(AKID));
    assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
}

#[test]
fn redact_authorization_hides_every_signature() {
    assert_eq!(
        crate::redact::redact_authorization("A Signature=abc, Signature=def,x=1"),
        "A Signature=<redacted>, Signature=<redacted>,x=1"
    );
}

/// The AWS suite's v4a/get-vanilla, signed in the header and in the query.
const SIGV4A_HEADER_SIGNED: &str = "GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\nX-Amz-Region-Set:us-east-1\nAuthorization:AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-region-set, Signature=3046022100fddaaf816a31e30d04973875b13bc27b98da10907a3a1872fd5819a221334abc022100de2ee81d83b54f31efc82834de07e6cd4d5c6f25bfa08e0f29a15bb0977c343e\n\n";
const SIGV4A_QUERY_SIGNED: &str = "GET /?X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fservice%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Region-Set=us-east-1&X-Amz-Signature=3045022100a28466db6c76223d5aa6ed436a8451b30e21ba0a076e7f2f943dd1f3d2816249022049e4b3746929cd2a2cb7b7984dbe0f5d40a300e7d9a7a7f1307c196b6f96b61a HTTP/1.1\nHost:example.amazonaws.com\n\n";

fn sigv4a_suite_verifier() -> Verifier {
    Verifier::new(creds(None))
        .service("service")
        .region("us-east-1")
        .double_encode_path(false)
        .now(t0())
}

#[cfg(not(feature = "sigv4a"))]
#[test]
fn sigv4a_is_refused_as_unsupported_without_the_feature() {
    for raw in [SIGV4A_HEADER_SIGNED, SIGV4A_QUERY_SIGNED] {
        let req = ReceivedRequest::parse_http1(raw.as_bytes()).unwrap();
        let rejection = sigv4a_suite_verifier().verify(&req).unwrap_err();
        assert_eq!(
            rejection.kind,
            RejectionKind::UnsupportedAlgorithm {
                algorithm: "AWS4-ECDSA-P256-SHA256".into()
            }
        );
        assert_eq!(
            rejection.api_gateway_message(),
            "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."
        );
        assert!(
            rejection.to_string().contains("`sigv4a` feature"),
            "{rejection}"
        );
    }
}

#[cfg(feature = "sigv4a")]
#[test]
fn sigv4a_suite_requests_verify_with_the_feature() {
    for (raw, location) in [
        (SIGV4A_HEADER_SIGNED, SignatureLocation::Header),
        (SIGV4A_QUERY_SIGNED, SignatureLocation::Query),
    ] {
        let req = ReceivedRequest::parse_http1(raw.as_bytes()).unwrap();
        let verified = sigv4a_suite_verifier().verify(&req).unwrap();
        assert_eq!(verified.algorithm, Algorithm::SigV4a);
        assert_eq!(verified.location, location);
        assert_eq!(verified.region_set.as_deref(), Some("us-east-1"));
        assert!(format!("{verified:?}").contains("SigV4a"));
    }
}

#[test]
fn algorithm_names() {
    assert_eq!(Algorithm::SigV4.name(), "AWS4-HMAC-SHA256");
    assert_eq!(Algorithm::SigV4a.to_string(), "AWS4-ECDSA-P256-SHA256");
    assert_eq!(
        Algorithm::from_name("AWS4-ECDSA-P256-SHA256"),
        Some(Algorithm::SigV4a)
    );
    assert_eq!(Algorithm::from_name("AWS4-HMAC-SHA512"), None);
}

// As strict as AWS: each request below is one AWS refuses, which an earlier, more lenient
// verifier accepted (or refused for another reason).

/// The signature of `req` (header or query), and `req` with it replaced by `with`.
fn resign(req: &ReceivedRequest, with: impl Fn(&str) -> String) -> ReceivedRequest {
    if let Some(auth) = req.header("authorization") {
        let (head, signature) = auth.rsplit_once("Signature=").unwrap();
        return with_header(
            req,
            "authorization",
            &format!("{head}Signature={}", with(signature)),
        );
    }
    let (head, signature) = req.target().rsplit_once("X-Amz-Signature=").unwrap();
    with_target(req, &format!("{head}X-Amz-Signature={}", with(signature)))
}

#[test]
fn upper_case_hex_signature_is_refused_as_aws_compares_the_string() {
    for query in [false, true] {
        let req = aws_signed(
            "GET",
            &url("/prod/x"),
            &[],
            b"",
            &SignOpts {
                query,
                ..SignOpts::default()
            },
        );
        verifier(None).verify(&req).unwrap();
        let upper = resign(&req, str::to_ascii_uppercase);
        assert_eq!(
            kind(verifier(None).verify(&upper)),
            RejectionKind::SignatureMismatch,
            "query: {query}"
        );
    }
    // In the query nothing trims the value: a space before the signature is not the signature.
    let presigned = aws_signed(
        "GET",
        &url("/prod/x"),
        &[],
        b"",
        &SignOpts {
            query: true,
            ..SignOpts::default()
        },
    );
    let padded = resign(&presigned, |sig| format!("%20{sig}"));
    assert_eq!(
        kind(verifier(None).verify(&padded)),
        RejectionKind::SignatureMismatch
    );
}

#[cfg(feature = "sigv4a")]
#[test]
fn upper_case_hex_sigv4a_signature_is_refused() {
    let req = ReceivedRequest::parse_http1(SIGV4A_HEADER_SIGNED.as_bytes()).unwrap();
    sigv4a_suite_verifier().verify(&req).unwrap();
    let upper = resign(&req, str::to_ascii_uppercase);
    assert_eq!(
        kind(sigv4a_suite_verifier().verify(&upper)),
        RejectionKind::SignatureMismatch
    );
}

/// A GET of `/prod/x` signed by hand: its canonical request lists `names` in the order
/// given and `list` as its signed headers line, and the `Authorization` header says `list`.
/// A signer's own spelling of `SignedHeaders`, which `aws-sigv4` would never write.
fn hand_signed_with_list(names: &[&str], list: &str) -> ReceivedRequest {
    let headers = vec![
        ("Host".to_owned(), HOST.to_owned()),
        ("X-Amz-Date".to_owned(), "20150830T123600Z".to_owned()),
    ];
    let scope = CredentialScope::new("20150830", "eu-west-1", "execute-api");
    let block = canonical::canonical_headers(&headers, names).unwrap();
    let creq =
        canonical::canonical_request("GET", "/prod/x", "", &block, list, EMPTY_PAYLOAD_SHA256);
    let sts = canonical::string_to_sign("20150830T123600Z", &scope, &creq);
    let sig = canonical::signature(&canonical::signing_key(SECRET, &scope), &sts);
    let mut headers = headers;
    headers.push((
        "Authorization".to_owned(),
        format!("{ALGORITHM} Credential={AKID}/{scope}, SignedHeaders={list}, Signature={sig}"),
    ));
    ReceivedRequest::new("GET", "/prod/x", headers, "")
}

#[test]
fn signed_headers_not_sorted_lower_case_and_once_are_a_mismatch() {
    // The control: the list as a conforming signer writes it.
    verifier(None)
        .verify(&hand_signed_with_list(
            &["host", "x-amz-date"],
            "host;x-amz-date",
        ))
        .unwrap();
    for (names, list) in [
        (&["x-amz-date", "host"][..], "x-amz-date;host"),
        (&["Host", "X-Amz-Date"][..], "Host;X-Amz-Date"),
        (&["host", "host", "x-amz-date"][..], "host;host;x-amz-date"),
        (&["host", "x-amz-date"][..], "host; x-amz-date"),
    ] {
        let rejection = verifier(None)
            .verify(&hand_signed_with_list(names, list))
            .unwrap_err();
        assert_eq!(rejection.kind, RejectionKind::SignatureMismatch, "{list}");
        // AWS's canonical request lists them sorted; the signer's, as it wrote them.
        let expected = rejection.canonical_request.as_deref().unwrap();
        assert!(expected.contains("\n\nhost;x-amz-date\n"), "{expected}");
        assert!(
            rejection
                .differences
                .contains(&CanonicalDifference::SignedHeaders {
                    expected: "host;x-amz-date".into(),
                    actual: list.into(),
                }),
            "{list}: {:?}",
            rejection.differences
        );
    }
}

/// A GET of `/prod/x` presigned by hand for `service` with the query parameters `params`, in
/// the order given (values percent-encoded here), and `X-Amz-Signature` last: for spellings
/// of the parameters that no signer writes.
fn hand_presigned(service: &str, params: &[(&str, &str)]) -> ReceivedRequest {
    let query = params
        .iter()
        .map(|(k, v)| format!("{}={}", canonical::uri_encode(k), canonical::uri_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let headers = vec![("Host".to_owned(), HOST.to_owned())];
    let rules = Rules::for_service(service);
    let scope = CredentialScope::new("20150830", "eu-west-1", service);
    let creq = canonical::canonical_request(
        "GET",
        "/prod/x",
        &canonical::canonical_query(&query, rules.query_plus),
        &canonical::canonical_headers(&headers, &["host"]).unwrap(),
        "host",
        if rules.presigned_unsigned_payload {
            UNSIGNED_PAYLOAD
        } else {
            EMPTY_PAYLOAD_SHA256
        },
    );
    let sts = canonical::string_to_sign("20150830T123600Z", &scope, &creq);
    let sig = canonical::signature(&canonical::signing_key(SECRET, &scope), &sts);
    ReceivedRequest::new(
        "GET",
        format!("/prod/x?{query}&X-Amz-Signature={sig}"),
        headers,
        "",
    )
}

/// The presign parameters of `service` with `X-Amz-Date` and `X-Amz-Expires` as given
/// (`None`: left out).
fn presign_params<'a>(
    service: &str,
    amz_date: &'a str,
    expires: Option<&'a str>,
) -> Vec<(&'a str, String)> {
    let mut params = vec![
        ("X-Amz-Algorithm", ALGORITHM.to_owned()),
        (
            "X-Amz-Credential",
            format!("{AKID}/20150830/eu-west-1/{service}/aws4_request"),
        ),
        ("X-Amz-Date", amz_date.to_owned()),
    ];
    if let Some(expires) = expires {
        params.push(("X-Amz-Expires", expires.to_owned()));
    }
    params.push(("X-Amz-SignedHeaders", "host".to_owned()));
    params
}

fn presigned(service: &str, amz_date: &str, expires: Option<&str>) -> ReceivedRequest {
    let params = presign_params(service, amz_date, expires);
    let borrowed: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    hand_presigned(service, &borrowed)
}

fn malformed_detail(result: Result<Verified, Rejection>) -> String {
    match kind(result) {
        RejectionKind::MalformedAuthorization { detail } => detail,
        other => panic!("expected a malformed authentication, got {other:?}"),
    }
}

#[test]
fn x_amz_expires_is_read_as_s3_reads_it() {
    let v = verifier(None);
    // The control, and a sign or leading zeros, which S3 reads as the number.
    for expires in ["900", "+900", "0900", "604800"] {
        v.verify(&presigned("execute-api", "20150830T123600Z", Some(expires)))
            .unwrap_or_else(|r| panic!("{expires}: {r}"));
    }
    for (expires, message) in [
        (" 900", "X-Amz-Expires should be a number"),
        ("900 ", "X-Amz-Expires should be a number"),
        ("9e2", "X-Amz-Expires should be a number"),
        ("-1", "X-Amz-Expires must be non-negative"),
        (
            "604801",
            "X-Amz-Expires must be less than a week (in seconds); that is, the given \
             X-Amz-Expires must be less than 604800 seconds",
        ),
    ] {
        let detail = malformed_detail(v.verify(&presigned(
            "execute-api",
            "20150830T123600Z",
            Some(expires),
        )));
        assert_eq!(detail, message, "{expires:?}");
    }
}

#[test]
fn presigned_x_amz_date_is_read_as_sent() {
    let detail = malformed_detail(verifier(None).verify(&presigned(
        "execute-api",
        " 20150830T123600Z",
        Some("900"),
    )));
    assert!(detail.starts_with("Date must be in ISO-8601"), "{detail}");
}

#[test]
fn s3_presigned_url_must_carry_x_amz_expires() {
    let s3 = Verifier::new(creds(None))
        .service("s3")
        .region("eu-west-1")
        .now(t0());
    s3.verify(&presigned("s3", "20150830T123600Z", Some("900")))
        .unwrap();
    assert_eq!(
        malformed_detail(s3.verify(&presigned("s3", "20150830T123600Z", None))),
        S3_QUERY_PARAMETERS_MESSAGE
    );
    // Another service's presigned URL may leave it out: it is then held to the skew.
    verifier(None)
        .verify(&presigned("execute-api", "20150830T123600Z", None))
        .unwrap();
}

#[test]
fn authentication_spellings_aws_refuses_stay_refused() {
    let req = aws_signed("GET", &url("/prod/x"), &[], b"", &SignOpts::default());
    let auth = req.header("authorization").unwrap().to_owned();
    // The algorithm spelt otherwise.
    let lower = with_header(
        &req,
        "authorization",
        &auth.replace(ALGORITHM, "aws4-hmac-sha256"),
    );
    assert_eq!(
        malformed_detail(verifier(None).verify(&lower)),
        "Unsupported AWS 'algorithm': 'aws4-hmac-sha256'."
    );
    // A credential with a trailing `/` has six parts.
    let trailing = with_header(
        &req,
        "authorization",
        &auth.replace("aws4_request", "aws4_request/"),
    );
    assert!(malformed_detail(verifier(None).verify(&trailing))
        .starts_with("Credential must have exactly 5 slash-delimited elements"));
    // Two Authorization headers, even the same one twice.
    let mut headers = req.headers().to_vec();
    headers.push(("Authorization".to_owned(), auth.clone()));
    let twice = ReceivedRequest::new(req.method(), req.target(), headers, "");
    assert_eq!(
        malformed_detail(verifier(None).verify(&twice)),
        "Only one Authorization header is allowed"
    );
    // A scope date that is not the request's day.
    let next_day = with_header(&req, "x-amz-date", "20150831T123600Z");
    assert!(matches!(
        kind(verifier(None).skip_time_check().verify(&next_day)),
        RejectionKind::ScopeMismatch {
            field: ScopeField::Date,
            ..
        }
    ));
}
