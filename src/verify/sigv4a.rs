//! What SigV4a adds to the verifier: the region set. A SigV4a scope names no region; the
//! regions a signature is good for travel in `X-Amz-Region-Set`, a signed header (or a
//! query parameter of a presigned URL), and a server accepts the request only if its own
//! region is in that set. The key derivation and the ECDSA check are spec building blocks in
//! [`crate::canonical`] ([`sigv4a_signing_key`](crate::canonical::sigv4a_signing_key)).

use super::{ReceivedRequest, Rejection};
use crate::canonical;

/// The region set header, lower-case as listed in `SignedHeaders`.
const REGION_SET_HEADER: &str = "x-amz-region-set";
/// The region set query parameter of a presigned URL.
const REGION_SET_PARAM: &str = "X-Amz-Region-Set";

/// The region set a SigV4a request was signed for: the `X-Amz-Region-Set` query parameter
/// (signed, as the whole query is), else the `x-amz-region-set` header, which must then be
/// among the signed headers: unsigned, it could be widened without breaking the signature.
/// Several headers are read as the canonical request joins them (with `,`).
pub(super) fn region_set<'a>(
    req: &ReceivedRequest,
    param: &dyn Fn(&str) -> Option<&'a str>,
    signed_names: &[String],
) -> Result<String, Rejection> {
    let header_values: Vec<String> = req
        .header_values(REGION_SET_HEADER)
        .map(|value| canonical::canonical_header_value(value).into_owned())
        .collect();
    let header = (!header_values.is_empty()).then(|| header_values.join(","));
    let header_signed = signed_names.iter().any(|name| name == REGION_SET_HEADER);
    let set = match (param(REGION_SET_PARAM), header) {
        (Some(from_query), Some(from_header)) if from_query.trim() != from_header => {
            return Err(Rejection::malformed(format!(
                "X-Amz-Region-Set is '{}' in the query and '{from_header}' in the headers; \
                 a SigV4a request must give one region set",
                from_query.trim()
            )));
        }
        (Some(from_query), _) => from_query.trim().to_owned(),
        (None, Some(_)) if !header_signed => {
            return Err(Rejection::malformed(
                "'X-Amz-Region-Set' must be a 'SignedHeader' in the AWS Authorization.",
            ));
        }
        (None, Some(from_header)) => from_header,
        (None, None) => String::new(),
    };
    if set.split(',').all(|entry| entry.trim().is_empty()) {
        return Err(Rejection::malformed(
            "AWS4-ECDSA-P256-SHA256 requires a region set: an 'X-Amz-Region-Set' header or \
             query-string parameter (e.g. '*' or 'us-east-1,us-west-2').",
        ));
    }
    Ok(set)
}

/// Whether the region set `set` (comma-separated entries, spaces around them ignored)
/// includes `region`. An entry matches the region it names, ASCII case aside; `*` matches
/// every region, and a `*` inside an entry any run of characters (`us-*`).
pub(super) fn region_set_includes(set: &str, region: &str) -> bool {
    set.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| glob_matches(entry.as_bytes(), region.trim().as_bytes()))
}

/// `*`-only glob matching, ASCII case-insensitive (linear backtracking on the last `*`).
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p].eq_ignore_ascii_case(&text[t]) {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use aws_credential_types::Credentials;
    use aws_sigv4::http_request::{SignatureLocation as AwsLocation, SigningSettings};
    use aws_sigv4::sign::v4a;
    use aws_smithy_runtime_api::client::identity::Identity;

    use super::*;
    use crate::canonical::{CanonicalDifference, CredentialScopeV4a, ALGORITHM_V4A};
    use crate::verify::{Algorithm, RejectionKind, SignatureLocation, Verifier};

    const AKID: &str = "AKIDEXAMPLE";
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const HOST: &str = "abc123.execute-api.eu-west-1.amazonaws.com";
    const AMZ_DATE: &str = "20150830T123600Z";

    fn t0() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn creds(token: Option<&str>) -> Credentials {
        Credentials::new(AKID, SECRET, token.map(str::to_owned), None, "test")
    }

    fn verifier() -> Verifier {
        Verifier::new(creds(None))
            .service("execute-api")
            .region("eu-west-1")
            .max_skew(Duration::from_secs(300))
            .now(t0())
    }

    /// Signs with `aws-sigv4`'s SigV4a (the crate's signer), as the reference.
    fn aws_signed(
        method: &str,
        path_and_query: &str,
        region_set: &str,
        body: &[u8],
        query: bool,
    ) -> ReceivedRequest {
        let request = http::Request::builder()
            .method(method)
            .uri(format!("https://{HOST}{path_and_query}"))
            .header("host", HOST)
            .body(body.to_vec())
            .unwrap();
        let identity: Identity = creds(None).into();
        let mut settings = SigningSettings::default();
        if query {
            settings.signature_location = AwsLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(900));
        }
        let params = v4a::SigningParams::builder()
            .identity(&identity)
            .region_set(region_set)
            .name("execute-api")
            .time(t0())
            .settings(settings)
            .build()
            .unwrap()
            .into();
        crate::verify::tests::sign_and_receive(request, &params)
    }

    /// A GET of `/` signed by hand (with the crate's own SigV4a building blocks) over the
    /// headers listed in `signed`, for requests `aws-sigv4` would not produce.
    fn hand_signed(headers: &[(&str, &str)], signed: &[&str]) -> ReceivedRequest {
        let block = canonical::canonical_headers(headers, signed).unwrap();
        let signed_list = signed.join(";");
        let creq = canonical::canonical_request(
            "GET",
            "/",
            "",
            &block,
            &signed_list,
            canonical::EMPTY_PAYLOAD_SHA256,
        );
        let scope = CredentialScopeV4a::new(&AMZ_DATE[..8], "execute-api");
        let sts = canonical::string_to_sign_v4a(AMZ_DATE, &scope, &creq);
        let signature = canonical::sigv4a_signing_key(AKID, SECRET).sign(&sts);
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        all.push((
            "Authorization".into(),
            format!(
                "{ALGORITHM_V4A} Credential={AKID}/{scope}, SignedHeaders={signed_list}, Signature={signature}"
            ),
        ));
        ReceivedRequest::new("GET", "/", all, Vec::new())
    }

    fn with_target(req: &ReceivedRequest, target: &str) -> ReceivedRequest {
        ReceivedRequest::new(
            req.method(),
            target,
            req.headers().to_vec(),
            req.body().clone(),
        )
    }

    fn with_header(req: &ReceivedRequest, name: &str, value: &str) -> ReceivedRequest {
        let mut headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case(name))
            .cloned()
            .collect();
        headers.push((name.to_owned(), value.to_owned()));
        ReceivedRequest::new(req.method(), req.target(), headers, req.body().clone())
    }

    fn kind(result: Result<crate::verify::Verified, Rejection>) -> RejectionKind {
        result.expect_err("expected a rejection").kind
    }

    #[test]
    fn region_set_matching() {
        assert!(region_set_includes("*", "eu-west-1"));
        assert!(region_set_includes("us-east-1,eu-west-1", "eu-west-1"));
        assert!(region_set_includes(" us-east-1 , eu-west-1 ", "eu-west-1"));
        assert!(region_set_includes("EU-WEST-1", "eu-west-1"));
        assert!(region_set_includes("us-*", "us-west-2"));
        assert!(region_set_includes("*-west-*", "eu-west-1"));
        assert!(region_set_includes("eu-west-1,", "eu-west-1"));
        assert!(!region_set_includes("us-east-1,us-west-2", "eu-west-1"));
        assert!(!region_set_includes("us-*", "eu-west-1"));
        assert!(!region_set_includes("eu-west", "eu-west-1"));
        assert!(!region_set_includes("eu-west-1x", "eu-west-1"));
        assert!(!region_set_includes("", "eu-west-1"));
        assert!(!region_set_includes(",", "eu-west-1"));
        assert!(glob_matches(b"a*b*c", b"axxbyyc"));
        assert!(!glob_matches(b"a*b*c", b"axxbyy"));
        assert!(glob_matches(b"**", b""));
    }

    #[test]
    fn aws_sigv4_signatures_verify_in_headers_and_query() {
        for query in [false, true] {
            for (method, path, body) in [
                ("GET", "/prod/items?b=2&a=x+y", &b""[..]),
                ("POST", "/prod/a%20b/@c", &b"{\"k\":1}"[..]),
            ] {
                let req = aws_signed(method, path, "*", body, query);
                let verified = verifier()
                    .verify(&req)
                    .unwrap_or_else(|r| panic!("{method} {path} (query: {query}):\n{r}"));
                assert_eq!(verified.algorithm, Algorithm::SigV4a);
                assert_eq!(
                    verified.location,
                    if query {
                        SignatureLocation::Query
                    } else {
                        SignatureLocation::Header
                    }
                );
                assert_eq!(verified.region_set.as_deref(), Some("*"));
                assert_eq!(verified.scope.region, "*");
                assert_eq!(verified.scope.service, "execute-api");
                assert!(verified.string_to_sign.starts_with(
                    "AWS4-ECDSA-P256-SHA256\n20150830T123600Z\n20150830/execute-api/aws4_request\n"
                ));
                if !query {
                    assert!(verified
                        .signed_headers
                        .contains(&"x-amz-region-set".to_owned()));
                }
            }
        }
    }

    #[test]
    fn region_set_must_include_the_verifiers_region() {
        for query in [false, true] {
            let req = aws_signed("GET", "/prod/x", "us-east-1,eu-west-1", b"", query);
            verifier().verify(&req).unwrap();
            // No region configured: any region set is taken as is.
            Verifier::new(creds(None))
                .now(t0())
                .verify(&req)
                .expect("no region to check");
            let rejection = verifier().region("us-west-2").verify(&req).unwrap_err();
            assert_eq!(
                rejection.kind,
                RejectionKind::RegionNotInRegionSet {
                    region: "us-west-2".into(),
                    region_set: "us-east-1,eu-west-1".into()
                }
            );
            assert_eq!(
                rejection.api_gateway_message(),
                "The region set 'us-east-1,eu-west-1' in X-Amz-Region-Set does not include the region 'us-west-2'."
            );
            assert!(rejection
                .to_string()
                .contains("does not include the region"));
        }
    }

    #[test]
    fn a_changed_region_set_is_refused() {
        let req = aws_signed("GET", "/prod/x", "us-east-1", b"", false);
        let widened = with_header(&req, "X-Amz-Region-Set", "*");
        assert_eq!(
            kind(Verifier::new(creds(None)).now(t0()).verify(&widened)),
            RejectionKind::SignatureMismatch
        );
        let req = aws_signed("GET", "/prod/x", "us-east-1", b"", true);
        let target = req
            .target()
            .replace("X-Amz-Region-Set=us-east-1", "X-Amz-Region-Set=%2A");
        assert_ne!(target, req.target());
        assert_eq!(
            kind(
                Verifier::new(creds(None))
                    .now(t0())
                    .verify(&with_target(&req, &target))
            ),
            RejectionKind::SignatureMismatch
        );
    }

    #[test]
    fn the_region_set_must_be_present_and_signed() {
        let headers = [
            ("Host", HOST),
            ("X-Amz-Date", AMZ_DATE),
            ("X-Amz-Region-Set", "*"),
        ];
        // Signed correctly by hand: accepted (the hand signer agrees with the verifier).
        let good = hand_signed(&headers, &["host", "x-amz-date", "x-amz-region-set"]);
        verifier().verify(&good).unwrap();
        // The same with the region set left out of the signature: refused, although the
        // signature itself is valid.
        let unsigned = hand_signed(&headers, &["host", "x-amz-date"]);
        let rejection = verifier().verify(&unsigned).unwrap_err();
        assert_eq!(
            rejection.api_gateway_message(),
            "'X-Amz-Region-Set' must be a 'SignedHeader' in the AWS Authorization."
        );
        // No region set at all.
        let none = hand_signed(&headers[..2], &["host", "x-amz-date"]);
        let rejection = verifier().verify(&none).unwrap_err();
        assert!(matches!(
            rejection.kind,
            RejectionKind::MalformedAuthorization { .. }
        ));
        assert!(rejection
            .api_gateway_message()
            .contains("requires a region set"));
        // An empty one.
        let empty = hand_signed(
            &[
                ("Host", HOST),
                ("X-Amz-Date", AMZ_DATE),
                ("X-Amz-Region-Set", " "),
            ],
            &["host", "x-amz-date", "x-amz-region-set"],
        );
        assert!(verifier()
            .verify(&empty)
            .unwrap_err()
            .api_gateway_message()
            .contains("requires a region set"));
        // A query parameter that contradicts the header.
        let both = with_target(&good, "/?X-Amz-Region-Set=us-east-1");
        assert!(verifier()
            .verify(&both)
            .unwrap_err()
            .api_gateway_message()
            .contains("a SigV4a request must give one region set"));
    }

    #[test]
    fn a_sigv4_shaped_credential_is_refused_for_sigv4a() {
        let req = aws_signed("GET", "/prod/x", "*", b"", false);
        let auth = req
            .header("authorization")
            .unwrap()
            .replace("/20150830/execute-api/", "/20150830/eu-west-1/execute-api/");
        let rejection = verifier()
            .verify(&with_header(&req, "Authorization", &auth))
            .unwrap_err();
        assert!(
            rejection
                .api_gateway_message()
                .starts_with("Credential must have exactly 4 slash-delimited elements"),
            "{rejection}"
        );
        // And the other way round: a SigV4 algorithm with a SigV4a credential.
        let auth = req
            .header("authorization")
            .unwrap()
            .replace(ALGORITHM_V4A, canonical::ALGORITHM);
        assert!(verifier()
            .verify(&with_header(&req, "Authorization", &auth))
            .unwrap_err()
            .api_gateway_message()
            .starts_with("Credential must have exactly 5 slash-delimited elements"));
    }

    #[test]
    fn scope_checks_apply_to_sigv4a() {
        let req = aws_signed("GET", "/prod/x", "*", b"", false);
        assert!(matches!(
            kind(verifier().service("lambda").verify(&req)),
            RejectionKind::ScopeMismatch { .. }
        ));
        let late = verifier().now(t0() + Duration::from_secs(3600));
        assert!(matches!(
            kind(late.verify(&req)),
            RejectionKind::SignatureExpired { .. }
        ));
        let other_key = Verifier::new(Credentials::new(AKID, "another", None, None, "t")).now(t0());
        assert_eq!(
            kind(other_key.verify(&req)),
            RejectionKind::SignatureMismatch
        );
    }

    #[test]
    fn a_mismatch_is_explained_for_sigv4a_too() {
        // aws-sigv4 double-encodes the path (as every service but S3): a verifier that
        // single-encodes refuses, and the report finds the path encoding, as for SigV4.
        let req = aws_signed("GET", "/prod/a%20b", "*", b"", false);
        verifier().verify(&req).unwrap();
        let rejection = verifier()
            .double_encode_path(false)
            .verify(&req)
            .unwrap_err();
        assert_eq!(rejection.kind, RejectionKind::SignatureMismatch);
        assert!(
            matches!(
                rejection.differences.as_slice(),
                [CanonicalDifference::Path { .. }]
            ),
            "{rejection}"
        );
        assert!(rejection
            .string_to_sign
            .as_deref()
            .unwrap()
            .starts_with(ALGORITHM_V4A));
    }

    #[test]
    fn a_garbled_signature_is_a_mismatch() {
        let req = aws_signed("GET", "/prod/x", "*", b"", false);
        let auth = req.header("authorization").unwrap().to_owned();
        let (head, _) = auth.split_once("Signature=").unwrap();
        for garbage in ["", "zz", "3006020101020101", "00"] {
            let bad = with_header(&req, "Authorization", &format!("{head}Signature={garbage}"));
            assert_eq!(
                kind(verifier().verify(&bad)),
                RejectionKind::SignatureMismatch,
                "{garbage}"
            );
        }
    }
}
