//! The AWS SigV4 test suite (`tests/data/aws-sig-v4-test-suite/v4`), one test per case: the
//! canonical request, string-to-sign and signature computed with `reqwest_sigv4::canonical`
//! must equal the suite's files, the suite's signed requests must pass the independent
//! verifier, and changing one byte of the path, the query, a signed header's value or the
//! body must make the verifier refuse them.
//!
//! The suite is found at `$SIGV4_TEST_SUITE` or the vendored `tests/data/aws-sig-v4-test-suite` in the
//! crate. A missing suite fails the tests: it is never skipped. (The `verify` feature is on
//! for every test target: the crate's dev-dependency on itself enables it.)

use std::time::Duration;

use aws_credential_types::Credentials;
use reqwest_sigv4::canonical::{
    self, CredentialScope, PathEncoding, QueryPlus, ALGORITHM, EMPTY_PAYLOAD_SHA256,
};
use reqwest_sigv4::verify::{
    ReceivedRequest, RejectionKind, SignatureLocation, TokenProblem, Verifier,
};

mod support;

use support::suite::{
    self, change_byte, check_token_and_body_tampering, expect_mismatch, expect_rejected, rebuilt,
    tamper_path, Context,
};

const VERSION: &str = "v4";

fn read_expected(case: &str, file: &str) -> String {
    suite::read_expected(VERSION, case, file)
}

fn parse(case: &str, file: &str) -> ReceivedRequest {
    suite::parse(VERSION, case, file)
}

fn context(case: &str) -> Context {
    suite::context(VERSION, case)
}

impl Context {
    fn scope(&self) -> CredentialScope {
        CredentialScope::new(&self.amz_date[..8], &self.region, &self.service)
    }

    fn credentials(&self) -> Credentials {
        Credentials::new(
            &self.access_key_id,
            &self.secret,
            self.token.clone(),
            None,
            "sigv4-test-suite",
        )
    }

    fn verifier(&self) -> Verifier {
        Verifier::new(self.credentials())
            .service(&self.service)
            .region(&self.region)
            .normalize_path(self.normalize)
            // The suite's generic `service` single-encodes the path (see its README).
            .double_encode_path(false)
            .max_skew(Duration::from_secs(300))
            .now(self.now)
            // `post-sts-header-after` adds the token after signing: the explicit opt-out.
            .require_signed_session_token(!self.omit_session_token)
    }

    fn payload_hash(&self, body: &[u8]) -> String {
        if self.sign_body {
            canonical::hex_sha256(body)
        } else {
            EMPTY_PAYLOAD_SHA256.to_owned()
        }
    }
}

/// Computes (canonical request, string-to-sign, signature) from `headers` and `query` with
/// the suite's rules.
fn compute(
    ctx: &Context,
    request: &ReceivedRequest,
    headers: &[(String, String)],
    signed: &[String],
    raw_query: &str,
) -> (String, String, String) {
    let (raw_path, _) = request.path_and_query();
    let signed_list = canonical::signed_headers_list(signed);
    let names: Vec<&str> = signed_list.split(';').collect();
    let block = canonical::canonical_headers(headers, &names).expect("all signed headers present");
    let creq = canonical::canonical_request(
        request.method(),
        &canonical::canonical_path(raw_path, ctx.normalize, PathEncoding::Single),
        &canonical::canonical_query(raw_query, QueryPlus::Space),
        &block,
        &signed_list,
        &ctx.payload_hash(request.body()),
    );
    let scope = ctx.scope();
    let sts = canonical::string_to_sign(&ctx.amz_date, &scope, &creq);
    let signature = canonical::signature(&canonical::signing_key(&ctx.secret, &scope), &sts);
    (creq, sts, signature)
}

fn check_header_vectors(case: &str, ctx: &Context, request: &ReceivedRequest) {
    let mut headers = request.headers().to_vec();
    headers.push(("X-Amz-Date".into(), ctx.amz_date.clone()));
    if let (Some(token), false) = (&ctx.token, ctx.omit_session_token) {
        headers.push(("X-Amz-Security-Token".into(), token.clone()));
    }
    if ctx.sign_body {
        headers.push((
            "x-amz-content-sha256".into(),
            canonical::hex_sha256(request.body()),
        ));
    }
    let signed: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let (_, raw_query) = request.path_and_query();
    let (creq, sts, signature) = compute(ctx, request, &headers, &signed, raw_query);
    assert_eq!(
        creq,
        read_expected(case, "header-canonical-request.txt"),
        "{case}: canonical request"
    );
    assert_eq!(
        sts,
        read_expected(case, "header-string-to-sign.txt"),
        "{case}: string-to-sign"
    );
    assert_eq!(
        signature,
        read_expected(case, "header-signature.txt"),
        "{case}: signature"
    );
}

fn check_query_vectors(case: &str, ctx: &Context, request: &ReceivedRequest) {
    let signed: Vec<String> = request.headers().iter().map(|(n, _)| n.clone()).collect();
    let (_, raw_query) = request.path_and_query();
    let mut query = raw_query.to_owned();
    let mut add = |name: &str, value: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&canonical::uri_encode(value));
    };
    add("X-Amz-Algorithm", ALGORITHM);
    add(
        "X-Amz-Credential",
        &format!("{}/{}", ctx.access_key_id, ctx.scope()),
    );
    add("X-Amz-Date", &ctx.amz_date);
    add("X-Amz-Expires", &ctx.expires.to_string());
    if let (Some(token), false) = (&ctx.token, ctx.omit_session_token) {
        add("X-Amz-Security-Token", token);
    }
    add(
        "X-Amz-SignedHeaders",
        &canonical::signed_headers_list(&signed),
    );
    let (creq, sts, signature) = compute(ctx, request, request.headers(), &signed, &query);
    assert_eq!(
        creq,
        read_expected(case, "query-canonical-request.txt"),
        "{case}: canonical request (query)"
    );
    assert_eq!(
        sts,
        read_expected(case, "query-string-to-sign.txt"),
        "{case}: string-to-sign (query)"
    );
    assert_eq!(
        signature,
        read_expected(case, "query-signature.txt"),
        "{case}: signature (query)"
    );
}

/// The verifier accepts the suite's signed request and refuses it once one byte is changed.
fn check_signed_request(
    case: &str,
    ctx: &Context,
    original: &ReceivedRequest,
    file: &str,
    location: SignatureLocation,
) {
    let verifier = ctx.verifier();
    let signed = parse(case, file);
    let prefix = file.split('-').next().unwrap_or_default();
    let verified = verifier
        .verify(&signed)
        .unwrap_or_else(|r| panic!("{case}/{file} refused:\n{r}"));
    assert_eq!(verified.location, location, "{case}/{file}");
    assert_eq!(
        verified.canonical_request,
        read_expected(case, &format!("{prefix}-canonical-request.txt")),
        "{case}/{file}: the verifier's canonical request"
    );
    assert_eq!(
        verified.string_to_sign,
        read_expected(case, &format!("{prefix}-string-to-sign.txt")),
        "{case}/{file}: the verifier's string-to-sign"
    );
    assert_eq!(verified.access_key_id, ctx.access_key_id);
    assert_eq!(verified.scope, ctx.scope());
    assert_eq!(
        verified.session_token_signed,
        ctx.token.as_ref().map(|_| !ctx.omit_session_token),
        "{case}/{file}"
    );
    let file = format!("{case}/{file}");

    // Path.
    let (path, query) = signed.path_and_query();
    let mut target = tamper_path(ctx, path);
    if signed.target().contains('?') {
        target.push('?');
        target.push_str(query);
    }
    expect_mismatch(
        &file,
        "path changed",
        verifier.verify(&rebuilt(&signed, Some(target), None, None)),
    );

    // Query: a parameter of the original request, or (presigned, no query of its own) the
    // signed X-Amz-Expires.
    let (_, original_query) = original.path_and_query();
    let query_at = if !original_query.is_empty() {
        assert!(
            query.starts_with(original_query),
            "{file}: the request's own query first"
        );
        original_query
            .bytes()
            .rposition(|b| b.is_ascii_alphanumeric())
    } else if location == SignatureLocation::Query {
        query
            .find("X-Amz-Expires=")
            .map(|i| i + "X-Amz-Expires=".len())
    } else {
        None
    };
    if let Some(at) = query_at {
        let target = format!("{path}?{}", change_byte(query, at));
        expect_mismatch(
            &file,
            "query changed",
            verifier.verify(&rebuilt(&signed, Some(target), None, None)),
        );
    }

    // Each signed header's value, one at a time.
    for name in &verified.signed_headers {
        let mut headers = signed.headers().to_vec();
        let (_, value) = headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .expect("a signed header is present");
        // The seconds of a date, so that it stays a valid date of the same day.
        let at = if name == "x-amz-date" {
            14
        } else {
            value
                .bytes()
                .rposition(|b| b.is_ascii_alphanumeric())
                .expect("a letter or digit to change")
        };
        *value = change_byte(value, at);
        let what = format!("signed header {name} changed");
        let result = verifier.verify(&rebuilt(&signed, None, Some(headers), None));
        match name.as_str() {
            "x-amz-security-token" => assert_eq!(
                expect_rejected(&file, &what, result).kind,
                RejectionKind::InvalidSecurityToken {
                    problem: TokenProblem::Mismatch
                },
                "{file}: {what}"
            ),
            "x-amz-content-sha256" => assert!(
                matches!(
                    expect_rejected(&file, &what, result).kind,
                    RejectionKind::PayloadHashMismatch { .. }
                ),
                "{file}: {what}"
            ),
            _ => expect_mismatch(&file, &what, result),
        }
    }

    check_token_and_body_tampering(&file, ctx, &signed, location, &verifier);
}

fn run_case(case: &str) {
    match case {
        "double-encode-path" => return check_double_encode_path(),
        "double-url-encode" => return check_double_url_encode(),
        _ => {}
    }
    let ctx = context(case);
    let request = parse(case, "request.txt");
    check_header_vectors(case, &ctx, &request);
    check_query_vectors(case, &ctx, &request);
    check_signed_request(
        case,
        &ctx,
        &request,
        "header-signed-request.txt",
        SignatureLocation::Header,
    );
    check_signed_request(
        case,
        &ctx,
        &request,
        "query-signed-request.txt",
        SignatureLocation::Query,
    );
}

/// The canonical request of a smithy-rs case (no context.json), double-encoded as every
/// service but S3 does. smithy-rs signs these at its own fixed time, which replaces the
/// request's `X-Amz-Date`: where request.txt shows another date, the date the canonical file
/// shows is used.
fn smithy_canonical(case: &str) -> (ReceivedRequest, String, String) {
    let request = parse(case, "request.txt");
    let expected = read_expected(case, "header-canonical-request.txt");
    let signed_date = expected
        .lines()
        .find_map(|line| line.strip_prefix("x-amz-date:"))
        .expect("the canonical file signs x-amz-date")
        .to_owned();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| {
            if n.eq_ignore_ascii_case("x-amz-date") {
                (n.clone(), signed_date.clone())
            } else {
                (n.clone(), v.clone())
            }
        })
        .collect();
    let signed: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let signed_list = canonical::signed_headers_list(&signed);
    let names: Vec<&str> = signed_list.split(';').collect();
    let (path, query) = request.path_and_query();
    let creq = canonical::canonical_request(
        request.method(),
        &canonical::canonical_path(path, true, PathEncoding::Double),
        &canonical::canonical_query(query, QueryPlus::Space),
        &canonical::canonical_headers(&headers, &names).expect("headers present"),
        &signed_list,
        EMPTY_PAYLOAD_SHA256,
    );
    assert_eq!(
        creq, expected,
        "{case}: canonical request (double encoding)"
    );
    // Single encoding must not produce it: the case exists to tell the two apart.
    let single = canonical::canonical_path(path, true, PathEncoding::Single);
    assert!(!creq.contains(&format!("\n{single}\n")), "{case}");
    (request, creq, signed_date)
}

fn check_double_encode_path() {
    let case = "double-encode-path";
    smithy_canonical(case);
    // Its signed request is self-consistent at its own date (20150830T123600Z, scope
    // us-east-1/service) with aws-credential-types' public test credentials
    // (`Credentials::for_tests()`), double-encoded.
    let signed = parse(case, "header-signed-request.txt");
    let signed_at = signed
        .header("x-amz-date")
        .and_then(canonical::parse_amz_date)
        .expect("the signed request's date");
    let verifier = Verifier::new(Credentials::new(
        "ANOTREAL",
        "notrealrnrELgWzOk3IfjzDKtFBhDby",
        None,
        None,
        "smithy-rs tests",
    ))
    .service("service")
    .region("us-east-1")
    .now(signed_at);
    let verified = verifier
        .clone()
        .double_encode_path(true)
        .verify(&signed)
        .unwrap_or_else(|r| panic!("{case} refused:\n{r}"));
    assert!(verified
        .canonical_request
        .contains("\n/test/%40connections/JBDvjfGEIAMCERw%253D\n"));
    // Single-encoded, it is refused, and the report says the path is what differs.
    let rejection = verifier
        .double_encode_path(false)
        .verify(&signed)
        .unwrap_err();
    assert_eq!(rejection.kind, RejectionKind::SignatureMismatch);
    assert!(
        matches!(
            rejection.differences.as_slice(),
            [canonical::CanonicalDifference::Path { .. }]
        ),
        "{rejection}"
    );
}

fn check_double_url_encode() {
    let case = "double-url-encode";
    let (_, creq, signed_date) = smithy_canonical(case);
    let expected_sts = read_expected(case, "header-string-to-sign.txt");
    let scope_line = expected_sts.lines().nth(2).expect("a scope line");
    let mut scope_parts = scope_line.split('/');
    let mut next = || scope_parts.next().expect("a scope element").to_owned();
    let scope = CredentialScope::new(next(), next(), next());
    assert_eq!(
        canonical::string_to_sign(&signed_date, &scope, &creq),
        expected_sts,
        "{case}: string-to-sign"
    );
    // Its signed request (a request line without HTTP version, `Authorization: ` with a
    // space) verifies with the suite's example credentials for lambda in us-east-2.
    let signed = parse(case, "header-signed-request.txt");
    let verifier = Verifier::new(Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "sigv4-test-suite",
    ))
    .service("lambda")
    .region("us-east-2")
    .now(canonical::parse_amz_date(&signed_date).expect("the case's date"));
    let verified = verifier
        .verify(&signed)
        .unwrap_or_else(|r| panic!("{case} refused:\n{r}"));
    assert_eq!(verified.canonical_request, creq);
    let (path, _) = signed.path_and_query();
    let tampered = rebuilt(&signed, Some(change_byte(path, path.len() - 1)), None, None);
    expect_mismatch(case, "path changed", verifier.verify(&tampered));
}

macro_rules! suite_cases {
    ($($test:ident => $case:literal,)*) => {
        const CASES: &[&str] = &[$($case),*];
        $(
            #[test]
            fn $test() {
                run_case($case);
            }
        )*
    };
}

suite_cases! {
    double_encode_path => "double-encode-path",
    double_url_encode => "double-url-encode",
    get_header_key_duplicate => "get-header-key-duplicate",
    get_header_value_multiline => "get-header-value-multiline",
    get_header_value_order => "get-header-value-order",
    get_header_value_trim => "get-header-value-trim",
    get_relative_normalized => "get-relative-normalized",
    get_relative_relative_normalized => "get-relative-relative-normalized",
    get_relative_relative_unnormalized => "get-relative-relative-unnormalized",
    get_relative_unnormalized => "get-relative-unnormalized",
    get_slash_dot_slash_normalized => "get-slash-dot-slash-normalized",
    get_slash_dot_slash_unnormalized => "get-slash-dot-slash-unnormalized",
    get_slash_normalized => "get-slash-normalized",
    get_slash_pointless_dot_normalized => "get-slash-pointless-dot-normalized",
    get_slash_pointless_dot_unnormalized => "get-slash-pointless-dot-unnormalized",
    get_slash_unnormalized => "get-slash-unnormalized",
    get_slashes_normalized => "get-slashes-normalized",
    get_slashes_unnormalized => "get-slashes-unnormalized",
    get_space_normalized => "get-space-normalized",
    get_space_unnormalized => "get-space-unnormalized",
    get_unreserved => "get-unreserved",
    get_utf8 => "get-utf8",
    get_vanilla => "get-vanilla",
    get_vanilla_empty_query_key => "get-vanilla-empty-query-key",
    get_vanilla_query => "get-vanilla-query",
    get_vanilla_query_order_encoded => "get-vanilla-query-order-encoded",
    get_vanilla_query_order_key_case => "get-vanilla-query-order-key-case",
    get_vanilla_query_unreserved => "get-vanilla-query-unreserved",
    get_vanilla_utf8_query => "get-vanilla-utf8-query",
    get_vanilla_with_session_token => "get-vanilla-with-session-token",
    post_header_key_case => "post-header-key-case",
    post_header_key_sort => "post-header-key-sort",
    post_header_value_case => "post-header-value-case",
    post_sts_header_after => "post-sts-header-after",
    post_sts_header_before => "post-sts-header-before",
    post_vanilla => "post-vanilla",
    post_vanilla_empty_query_value => "post-vanilla-empty-query-value",
    post_vanilla_query => "post-vanilla-query",
    post_x_www_form_urlencoded => "post-x-www-form-urlencoded",
    post_x_www_form_urlencoded_parameters => "post-x-www-form-urlencoded-parameters",
}

/// Every case folder of the suite has a test above, and every test a folder.
#[test]
fn every_suite_case_has_a_test() {
    suite::assert_cases_are(VERSION, CASES, 40);
}
