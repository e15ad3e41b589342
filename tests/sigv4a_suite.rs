//! The AWS SigV4a test suite (`tests/data/aws-sig-v4-test-suite/v4a`), one test per case: the
//! canonical request and string-to-sign computed with `reqwest_sigv4::canonical` must equal
//! the suite's files, the key pair derived from the credentials must have the suite's public
//! key, the suite's signatures must verify with it, the suite's signed requests must pass the
//! independent verifier, and changing one byte of the path, the query, a signed header's
//! value or the body must make the verifier refuse them.
//!
//! SigV4a signatures are ECDSA with a random nonce: a signature is never compared with one
//! computed here, it is verified with the public key.
//!
//! Suite quirks, each handled below:
//! - Every case has the same eleven files (no case lacks one, unlike the SigV4 suite's two
//!   smithy-rs cases); a missing file fails the case, it is never skipped.
//! - `get-vanilla` also has `canonical-request.txt` and `string-to-sign.txt`, copies of the
//!   header variant's files: they are checked against the header variant.
//! - `header-signature.txt` and `query-signature.txt` are not the signatures inside the
//!   `*-signed-request.txt` files (each signing drew its own nonce): both are verified.
//! - `post-sts-header-after` (`omit_session_token`) adds the session token after signing, as
//!   in the SigV4 suite.
//!
//! The suite is found at `$SIGV4_TEST_SUITE` or the vendored `tests/data/aws-sig-v4-test-suite` in the
//! crate. A missing suite fails the tests.
#![cfg(feature = "sigv4a")]

use std::time::Duration;

use aws_credential_types::Credentials;
use reqwest_sigv4::canonical::{
    self, CredentialScopeV4a, PathEncoding, QueryPlus, SigV4aKey, ALGORITHM_V4A,
    EMPTY_PAYLOAD_SHA256,
};
use reqwest_sigv4::verify::{
    Algorithm, ReceivedRequest, RejectionKind, SignatureLocation, TokenProblem, Verifier,
};

/// The files every case has.
const CASE_FILES: [&str; 11] = [
    "context.json",
    "header-canonical-request.txt",
    "header-signature.txt",
    "header-signed-request.txt",
    "header-string-to-sign.txt",
    "public-key.json",
    "query-canonical-request.txt",
    "query-signature.txt",
    "query-signed-request.txt",
    "query-string-to-sign.txt",
    "request.txt",
];

/// Files only some cases have: copies of the header variant's (`get-vanilla`).
const EXTRA_FILES: [(&str, &str); 2] = [
    ("canonical-request.txt", "header-canonical-request.txt"),
    ("string-to-sign.txt", "header-string-to-sign.txt"),
];

mod support;

use support::suite::{
    self, change_byte, check_token_and_body_tampering, expect_mismatch, expect_rejected, rebuilt,
    tamper_path, Context,
};

const VERSION: &str = "v4a";

fn case_dir(case: &str) -> std::path::PathBuf {
    suite::case_dir(VERSION, case)
}

fn read_bytes(case: &str, file: &str) -> Vec<u8> {
    suite::read_bytes(VERSION, case, file)
}

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
    fn scope(&self) -> CredentialScopeV4a {
        CredentialScopeV4a::new(&self.amz_date[..8], &self.service)
    }

    fn key(&self) -> SigV4aKey {
        canonical::sigv4a_signing_key(&self.access_key_id, &self.secret)
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

    /// A verifier for the suite's service, in no particular region.
    fn verifier_any_region(&self) -> Verifier {
        Verifier::new(self.credentials())
            .service(&self.service)
            .normalize_path(self.normalize)
            // The suite's generic `service` single-encodes the path (see its README).
            .double_encode_path(false)
            .max_skew(Duration::from_secs(300))
            .now(self.now)
            // `post-sts-header-after` adds the token after signing: the explicit opt-out.
            .require_signed_session_token(!self.omit_session_token)
    }

    /// A verifier standing in the suite's region, which the region set must include.
    fn verifier(&self) -> Verifier {
        self.verifier_any_region().region(&self.region)
    }

    fn payload_hash(&self, body: &[u8]) -> String {
        if self.sign_body {
            canonical::hex_sha256(body)
        } else {
            EMPTY_PAYLOAD_SHA256.to_owned()
        }
    }
}

/// Computes (canonical request, string-to-sign) from `headers` and `query` with the suite's
/// rules.
fn compute(
    ctx: &Context,
    request: &ReceivedRequest,
    headers: &[(String, String)],
    signed: &[String],
    raw_query: &str,
) -> (String, String) {
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
    let sts = canonical::string_to_sign_v4a(&ctx.amz_date, &ctx.scope(), &creq);
    (creq, sts)
}

/// The key derived from the case's credentials is the suite's public key.
fn check_public_key(case: &str, ctx: &Context) {
    let json: serde_json::Value = serde_json::from_slice(&read_bytes(case, "public-key.json"))
        .expect("public-key.json is JSON");
    let coordinate = |name: &str| {
        json[name]
            .as_str()
            .unwrap_or_else(|| panic!("{case}: public-key.json has no {name}"))
            .to_ascii_lowercase()
    };
    let (x, y) = ctx.key().public_key_coordinates();
    assert_eq!(hex::encode(x), coordinate("X"), "{case}: public key X");
    assert_eq!(hex::encode(y), coordinate("Y"), "{case}: public key Y");
}

/// `signature_file` is a valid signature of `sts` (and of nothing else computed here).
fn check_signature_file(case: &str, ctx: &Context, signature_file: &str, sts: &str, other: &str) {
    let signature = read_expected(case, signature_file);
    let key = ctx.key();
    assert!(
        key.verify(sts, &signature),
        "{case}/{signature_file} does not verify with the derived public key"
    );
    assert!(
        !key.verify(other, &signature),
        "{case}/{signature_file} also verifies another string-to-sign"
    );
}

fn header_vectors(case: &str, ctx: &Context, request: &ReceivedRequest) -> (String, String) {
    let mut headers = request.headers().to_vec();
    headers.push(("X-Amz-Date".into(), ctx.amz_date.clone()));
    headers.push(("X-Amz-Region-Set".into(), ctx.region.clone()));
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
    let (creq, sts) = compute(ctx, request, &headers, &signed, raw_query);
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
    (creq, sts)
}

fn query_vectors(case: &str, ctx: &Context, request: &ReceivedRequest) -> (String, String) {
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
    add("X-Amz-Algorithm", ALGORITHM_V4A);
    add(
        "X-Amz-Credential",
        &format!("{}/{}", ctx.access_key_id, ctx.scope()),
    );
    add("X-Amz-Date", &ctx.amz_date);
    add("X-Amz-Expires", &ctx.expires.to_string());
    add("X-Amz-Region-Set", &ctx.region);
    if let (Some(token), false) = (&ctx.token, ctx.omit_session_token) {
        add("X-Amz-Security-Token", token);
    }
    add(
        "X-Amz-SignedHeaders",
        &canonical::signed_headers_list(&signed),
    );
    let (creq, sts) = compute(ctx, request, request.headers(), &signed, &query);
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
    (creq, sts)
}

/// A changed region set: refused as outside the region by a verifier with a region, and as a
/// signature mismatch by one without (the region set is signed).
fn expect_region_set_refused(file: &str, ctx: &Context, tampered: &ReceivedRequest) {
    let rejection = expect_rejected(file, "region set changed", ctx.verifier().verify(tampered));
    assert!(
        matches!(
            &rejection.kind,
            RejectionKind::RegionNotInRegionSet { region, .. } if *region == ctx.region
        ),
        "{file}: region set changed: {rejection}"
    );
    expect_mismatch(
        file,
        "region set changed (no region configured)",
        ctx.verifier_any_region().verify(tampered),
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
    assert_eq!(verified.algorithm, Algorithm::SigV4a, "{case}/{file}");
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
    assert_eq!(verified.region_set.as_deref(), Some(ctx.region.as_str()));
    assert_eq!(verified.scope.date, ctx.scope().date);
    assert_eq!(verified.scope.service, ctx.service);
    assert_eq!(
        verified.session_token_signed,
        ctx.token.as_ref().map(|_| !ctx.omit_session_token),
        "{case}/{file}"
    );
    // The signature in the file is another signing of the same string than the suite's
    // `*-signature.txt` (ECDSA draws a nonce each time).
    let signature_file = read_expected(case, &format!("{prefix}-signature.txt"));
    let presented = match location {
        SignatureLocation::Header => signed
            .header("authorization")
            .and_then(|a| a.split("Signature=").nth(1))
            .expect("a signature")
            .to_owned(),
        _ => signed
            .target()
            .split("X-Amz-Signature=")
            .nth(1)
            .expect("a signature")
            .to_owned(),
    };
    assert!(ctx.key().verify(&verified.string_to_sign, &presented));
    assert_ne!(
        presented, signature_file,
        "{case}/{file}: the same nonce twice?"
    );
    let file = format!("{case}/{file}");

    // Another region than the one signed for.
    let elsewhere = ctx.verifier_any_region().region("ap-southeast-7");
    assert_eq!(
        expect_rejected(
            &file,
            "verifier in another region",
            elsewhere.verify(&signed)
        )
        .kind,
        RejectionKind::RegionNotInRegionSet {
            region: "ap-southeast-7".into(),
            region_set: ctx.region.clone()
        },
        "{file}"
    );

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
    // The region set in the query of a presigned URL.
    if location == SignatureLocation::Query {
        let at = query
            .find("X-Amz-Region-Set=")
            .map(|i| i + "X-Amz-Region-Set=".len())
            .expect("a presigned SigV4a URL carries its region set");
        let end = at + query[at..].find('&').unwrap_or(query.len() - at);
        let last = query[at..end]
            .bytes()
            .rposition(|b| b.is_ascii_alphanumeric())
            .expect("a region");
        let target = format!("{path}?{}", change_byte(query, at + last));
        expect_region_set_refused(&file, ctx, &rebuilt(&signed, Some(target), None, None));
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
        let tampered = rebuilt(&signed, None, Some(headers), None);
        match name.as_str() {
            "x-amz-region-set" => expect_region_set_refused(&file, ctx, &tampered),
            "x-amz-security-token" => assert_eq!(
                expect_rejected(&file, &what, verifier.verify(&tampered)).kind,
                RejectionKind::InvalidSecurityToken {
                    problem: TokenProblem::Mismatch
                },
                "{file}: {what}"
            ),
            "x-amz-content-sha256" => assert!(
                matches!(
                    expect_rejected(&file, &what, verifier.verify(&tampered)).kind,
                    RejectionKind::PayloadHashMismatch { .. }
                ),
                "{file}: {what}"
            ),
            _ => expect_mismatch(&file, &what, verifier.verify(&tampered)),
        }
    }
    if location == SignatureLocation::Header {
        assert!(
            verified
                .signed_headers
                .iter()
                .any(|name| name == "x-amz-region-set"),
            "{file}: the region set header is signed"
        );
    }

    check_token_and_body_tampering(&file, ctx, &signed, location, &verifier);
}

/// The case folder holds the eleven files, plus (some cases) copies of the header variant's.
fn check_files(case: &str) {
    let mut found: Vec<String> = std::fs::read_dir(case_dir(case))
        .expect("a readable case folder")
        .map(|entry| {
            entry
                .expect("a readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    for file in CASE_FILES {
        assert!(
            found.iter().any(|f| f == file),
            "{case}: {file} is missing from the suite"
        );
    }
    for file in &found {
        if CASE_FILES.contains(&file.as_str()) {
            continue;
        }
        let Some((_, copy_of)) = EXTRA_FILES.iter().find(|(extra, _)| extra == file) else {
            panic!("{case}: unexpected suite file {file}");
        };
        assert_eq!(
            read_expected(case, file),
            read_expected(case, copy_of),
            "{case}: {file} is a copy of {copy_of}"
        );
    }
}

fn run_case(case: &str) {
    check_files(case);
    let ctx = context(case);
    check_public_key(case, &ctx);
    let request = parse(case, "request.txt");
    let (_, header_sts) = header_vectors(case, &ctx, &request);
    let (_, query_sts) = query_vectors(case, &ctx, &request);
    check_signature_file(case, &ctx, "header-signature.txt", &header_sts, &query_sts);
    check_signature_file(case, &ctx, "query-signature.txt", &query_sts, &header_sts);
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
    suite::assert_cases_are(VERSION, CASES, 38);
}
