//! Reading the AWS signing test suite (vendored in `tests/data/aws-sig-v4-test-suite`): where it is, its files,
//! and each case's `context.json`. A missing suite fails the test that asks for it; it is
//! never skipped.

use std::path::PathBuf;
use std::time::SystemTime;

use reqwest_sigv4::canonical;
use reqwest_sigv4::canonical::PathEncoding;
use reqwest_sigv4::verify::{
    ReceivedRequest, Rejection, RejectionKind, SignatureLocation, TokenProblem, Verified, Verifier,
};

/// `$SIGV4_TEST_SUITE`, or the copy vendored in `tests/data/aws-sig-v4-test-suite`.
pub fn suite_dir() -> PathBuf {
    match std::env::var_os("SIGV4_TEST_SUITE") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws-sig-v4-test-suite"),
    }
}

/// The folder of `case` in `version` (`v4` or `v4a`), asserted to exist.
pub fn case_dir(version: &str, case: &str) -> PathBuf {
    let dir = suite_dir().join(version).join(case);
    assert!(
        dir.is_dir(),
        "test suite case '{version}/{case}' not found at {}: the suite must be present \
         (set SIGV4_TEST_SUITE to the folder that holds {version}/)",
        dir.display()
    );
    dir
}

/// Asserts that the case folders of `version` are exactly `cases`, `count` of them: every
/// folder has a test and every test a folder.
pub fn assert_cases_are(version: &str, cases: &[&str], count: usize) {
    let dir = suite_dir().join(version);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "test suite not found at {} ({e}): the suite must be present \
             (set SIGV4_TEST_SUITE to the folder that holds {version}/)",
            dir.display()
        )
    });
    let mut found: Vec<String> = entries
        .map(|entry| {
            entry
                .expect("a readable entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    found.sort();
    let mut listed: Vec<String> = cases.iter().map(|c| (*c).to_owned()).collect();
    listed.sort();
    assert_eq!(found, listed);
    assert_eq!(listed.len(), count);
}

/// A file of a case, as bytes.
pub fn read_bytes(version: &str, case: &str, file: &str) -> Vec<u8> {
    let path = case_dir(version, case).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// An expected-result file, without the trailing newline some of them have.
pub fn read_expected(version: &str, case: &str, file: &str) -> String {
    let text = String::from_utf8(read_bytes(version, case, file)).expect("suite files are UTF-8");
    text.strip_suffix('\n').map(str::to_owned).unwrap_or(text)
}

/// A raw request file of a case, parsed.
pub fn parse(version: &str, case: &str, file: &str) -> ReceivedRequest {
    ReceivedRequest::parse_http1(&read_bytes(version, case, file))
        .unwrap_or_else(|e| panic!("{version}/{case}/{file}: {e}"))
}

/// A case's `context.json`.
pub struct Context {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret: String,
    /// Session token, if the case has one.
    pub token: Option<String>,
    /// Region (SigV4), or the region set (SigV4a).
    pub region: String,
    /// Service signing name.
    pub service: String,
    /// Whether the path is normalized.
    pub normalize: bool,
    /// Whether the body is hashed (else the empty-body hash is signed).
    pub sign_body: bool,
    /// Whether the session token is added after signing.
    pub omit_session_token: bool,
    /// Presigned validity in seconds.
    pub expires: u64,
    /// The timestamp as `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// The timestamp.
    pub now: SystemTime,
}

/// Reads `context.json` of `case`.
pub fn context(version: &str, case: &str) -> Context {
    let json: serde_json::Value =
        serde_json::from_slice(&read_bytes(version, case, "context.json"))
            .expect("context.json is JSON");
    let text = |v: &serde_json::Value| v.as_str().expect("a string").to_owned();
    let creds = &json["credentials"];
    // `2015-08-30T12:36:00Z` is the extended form of the `20150830T123600Z` SigV4 uses.
    let amz_date = text(&json["timestamp"]).replace(['-', ':'], "");
    let now = canonical::parse_amz_date(&amz_date).expect("a valid timestamp");
    Context {
        access_key_id: text(&creds["access_key_id"]),
        secret: text(&creds["secret_access_key"]),
        token: creds["token"].as_str().map(str::to_owned),
        region: text(&json["region"]),
        service: text(&json["service"]),
        normalize: json["normalize"].as_bool().expect("normalize"),
        sign_body: json["sign_body"].as_bool().expect("sign_body"),
        omit_session_token: json["omit_session_token"].as_bool().unwrap_or(false),
        expires: json["expiration_in_seconds"]
            .as_u64()
            .expect("expiration_in_seconds"),
        amz_date,
        now,
    }
}

// Tampering and its verdicts, shared by the SigV4 and SigV4a suite tests.

pub fn rebuilt(
    req: &ReceivedRequest,
    target: Option<String>,
    headers: Option<Vec<(String, String)>>,
    body: Option<Vec<u8>>,
) -> ReceivedRequest {
    ReceivedRequest::new(
        req.method(),
        target.unwrap_or_else(|| req.target().to_owned()),
        headers.unwrap_or_else(|| req.headers().to_vec()),
        body.map(bytes::Bytes::from)
            .unwrap_or_else(|| req.body().clone()),
    )
}

/// Another ASCII letter or digit of the same kind as `byte`.
pub fn other_byte(byte: u8) -> u8 {
    match byte {
        b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => byte + 1,
        b'9' => b'0',
        b'z' => b'a',
        b'Z' => b'A',
        other => panic!("not alphanumeric: {other}"),
    }
}

/// `text` with the byte at `at` (an ASCII letter or digit) replaced by another of its kind.
pub fn change_byte(text: &str, at: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = other_byte(bytes[at]);
    String::from_utf8(bytes).expect("ASCII swapped for ASCII")
}

/// Changes one byte of the path so that its canonical form changes. A byte inside a segment
/// that normalization removes (`/example/..`) would change nothing that is signed, and a
/// server that normalizes would rightly accept it, so such bytes are passed over; a path
/// with no letter or digit left that matters (`/`, `//`, `/ሴ`) gets a letter appended.
pub fn tamper_path(ctx: &Context, path: &str) -> String {
    let canonical_of = |p: &str| canonical::canonical_path(p, ctx.normalize, PathEncoding::Single);
    let original = canonical_of(path);
    for at in (0..path.len()).rev() {
        if path.as_bytes()[at].is_ascii_alphanumeric() {
            let changed = change_byte(path, at);
            if canonical_of(&changed) != original {
                return changed;
            }
        }
    }
    format!("{path}x")
}

pub fn expect_rejected(case: &str, what: &str, result: Result<Verified, Rejection>) -> Rejection {
    match result {
        Ok(verified) => panic!("{case}: {what}: accepted, expected a rejection: {verified:?}"),
        Err(rejection) => rejection,
    }
}

pub fn expect_mismatch(case: &str, what: &str, result: Result<Verified, Rejection>) {
    let rejection = expect_rejected(case, what, result);
    assert_eq!(
        rejection.kind,
        RejectionKind::SignatureMismatch,
        "{case}: {what}: {rejection}"
    );
}

/// Asserts that `signed` (which `verifier` accepts) is refused when its session token (if
/// any) or its body changes by one byte, and that a verifier requiring a signed token accepts
/// it only where the case signs the token.
pub fn check_token_and_body_tampering(
    file: &str,
    ctx: &Context,
    signed: &ReceivedRequest,
    location: SignatureLocation,
    verifier: &Verifier,
) {
    let signed = signed.clone();
    // A session token is checked even where it was added after signing (omit_session_token).
    if ctx.token.is_some() {
        let tampered = match location {
            SignatureLocation::Header => {
                let mut headers = signed.headers().to_vec();
                let (_, value) = headers
                    .iter_mut()
                    .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-security-token"))
                    .expect("the token header");
                let at = value
                    .bytes()
                    .position(|b| b.is_ascii_alphanumeric())
                    .expect("a letter");
                *value = change_byte(value, at);
                rebuilt(&signed, None, Some(headers), None)
            }
            _ => {
                let at = signed
                    .target()
                    .find("X-Amz-Security-Token=")
                    .expect("the token param")
                    + "X-Amz-Security-Token=".len();
                rebuilt(&signed, Some(change_byte(signed.target(), at)), None, None)
            }
        };
        assert_eq!(
            expect_rejected(file, "session token changed", verifier.verify(&tampered)).kind,
            RejectionKind::InvalidSecurityToken {
                problem: TokenProblem::Mismatch
            },
            "{file}"
        );
        // With a token required to be signed, only the cases that sign it pass.
        let strict = verifier
            .clone()
            .require_signed_session_token(true)
            .verify(&signed);
        assert_eq!(
            strict.is_ok(),
            !ctx.omit_session_token,
            "{file}: strict token"
        );
    }

    // Body. With sign_body the body is hashed into the signature (and, in the header variant,
    // declared in x-amz-content-sha256): change one byte of it. Without sign_body the suite
    // signs the empty-body hash, and every such case has an empty body; a server hashes what
    // it receives, so a body that appears (one byte added) must be refused just the same.
    let mut body = signed.body().to_vec();
    if ctx.sign_body {
        let at = body
            .iter()
            .rposition(u8::is_ascii_alphanumeric)
            .expect("a signed body with a letter or digit");
        body[at] = other_byte(body[at]);
    } else {
        assert!(body.is_empty(), "{file}: sign_body=false with a body");
        body.push(b'x');
    }
    let result = verifier.verify(&rebuilt(&signed, None, None, Some(body)));
    if ctx.sign_body && location == SignatureLocation::Header {
        assert!(
            matches!(
                expect_rejected(file, "body changed", result).kind,
                RejectionKind::PayloadHashMismatch { .. }
            ),
            "{file}: body changed"
        );
    } else {
        expect_mismatch(file, "body changed", result);
    }
}
