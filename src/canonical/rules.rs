//! The service-dependent canonicalization choices ([`Rules`]), and the one table that says
//! which choice each signing name uses.

/// How path segments are encoded in the canonical request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathEncoding {
    /// S3: the path as received, with the bytes a client left raw (anything outside the
    /// unreserved set but `%XX` escapes) encoded once; existing escapes are kept (upper-cased).
    Single,
    /// Every service but S3: each segment as received (already encoded once) is URI-encoded
    /// again, so `%3D` becomes `%253D` and a raw `@` becomes `%40`.
    Double,
}

/// How a raw `+` in the query string is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QueryPlus {
    /// The query is form data (API Gateway and every service but S3): `+` is a space and is
    /// signed as `%20`. A literal plus must travel as `%2B`.
    Space,
    /// S3: `+` is a literal plus and is signed as `%2B`.
    Literal,
}

/// The service-dependent canonicalization choices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Rules {
    /// Remove dot segments and duplicate slashes from the path before encoding it.
    pub normalize_path: bool,
    /// Single or double path encoding.
    pub path_encoding: PathEncoding,
    /// How a raw `+` in the query is read.
    pub query_plus: QueryPlus,
    /// Whether a presigned request (signature in the query) signs the literal
    /// `UNSIGNED-PAYLOAD` instead of the body's hash. S3 does ("Authenticating Requests:
    /// Using Query Parameters": a presigned URL cannot know the body it will carry); API
    /// Gateway and Lambda URLs hash the body like a header-signed request.
    pub presigned_unsigned_payload: bool,
}

impl Rules {
    /// The rules AWS applies for `service`, from [`ServiceRules::of`]: S3 (`s3`) keeps the
    /// path as is, single-encodes it and reads `+` literally; every other service normalizes,
    /// double-encodes and reads `+` as a space.
    pub fn for_service(service: &str) -> Self {
        ServiceRules::of(service).canonical()
    }

    /// Sets whether the path is normalized.
    pub fn with_normalize_path(mut self, yes: bool) -> Self {
        self.normalize_path = yes;
        self
    }

    /// Sets the path encoding.
    pub fn with_path_encoding(mut self, encoding: PathEncoding) -> Self {
        self.path_encoding = encoding;
        self
    }

    /// Sets how a raw `+` in the query is read.
    pub fn with_query_plus(mut self, plus: QueryPlus) -> Self {
        self.query_plus = plus;
        self
    }

    /// Sets whether a presigned request signs `UNSIGNED-PAYLOAD`.
    pub fn with_presigned_unsigned_payload(mut self, yes: bool) -> Self {
        self.presigned_unsigned_payload = yes;
        self
    }
}

/// What one signing name asks of a signer and of a verifier: a row of [`SERVICES`].
///
/// These are facts about the services (which rule each one uses), not code that computes a
/// signature, so the signer (`ServiceProfile`) and the verifier ([`Rules::for_service`])
/// both read them here without the verifier losing its independence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ServiceRules {
    /// Dot segments and duplicate slashes are removed from the path before it is encoded.
    pub(crate) normalize_path: bool,
    /// Single (S3) or double (every other service) path encoding.
    pub(crate) path_encoding: PathEncoding,
    /// How the service reads a raw `+` in the query.
    pub(crate) query_plus: QueryPlus,
    /// The payload hash also travels in `x-amz-content-sha256`.
    pub(crate) content_sha256_header: bool,
    /// The service takes no payload hash: `UNSIGNED-PAYLOAD` is signed for every request.
    pub(crate) unsigned_payload: bool,
    /// A presigned URL signs `UNSIGNED-PAYLOAD`, never the body's hash.
    pub(crate) presigned_unsigned_payload: bool,
}

/// SigV4 as the specification and API Gateway, Lambda function URLs, OpenSearch (`es`) and
/// every service not listed in [`SERVICES`] apply it.
const SIGV4_DEFAULT: ServiceRules = ServiceRules {
    normalize_path: true,
    path_encoding: PathEncoding::Double,
    query_plus: QueryPlus::Space,
    content_sha256_header: false,
    unsigned_payload: false,
    presigned_unsigned_payload: false,
};

/// The signing names whose rules differ from [`SIGV4_DEFAULT`], as AWS documents them.
pub(crate) const SERVICES: [(&str, ServiceRules); 3] = [
    (
        "s3",
        ServiceRules {
            normalize_path: false,
            path_encoding: PathEncoding::Single,
            query_plus: QueryPlus::Literal,
            content_sha256_header: true,
            unsigned_payload: false,
            // "Authenticating Requests: Using Query Parameters": a presigned URL cannot know
            // the body it will carry.
            presigned_unsigned_payload: true,
        },
    ),
    // OpenSearch Serverless requires the hash header on every request.
    (
        "aoss",
        ServiceRules {
            content_sha256_header: true,
            ..SIGV4_DEFAULT
        },
    ),
    // VPC Lattice does not support payload signing.
    (
        "vpc-lattice-svcs",
        ServiceRules {
            content_sha256_header: true,
            unsigned_payload: true,
            ..SIGV4_DEFAULT
        },
    ),
];

impl ServiceRules {
    /// The row of `service` (a signing name), or the SigV4 defaults for one not listed.
    pub(crate) fn of(service: &str) -> Self {
        SERVICES
            .iter()
            .find(|(name, _)| *name == service)
            .map_or(SIGV4_DEFAULT, |(_, rules)| *rules)
    }

    /// The canonicalization part of the row.
    pub(crate) fn canonical(self) -> Rules {
        Rules {
            normalize_path: self.normalize_path,
            path_encoding: self.path_encoding,
            query_plus: self.query_plus,
            presigned_unsigned_payload: self.presigned_unsigned_payload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::canonical_query;

    #[test]
    fn plus_in_query_is_literal_in_s3_mode() {
        assert_eq!(canonical_query("q=a+b", QueryPlus::Literal), "q=a%2Bb");
        assert_eq!(
            Rules::for_service("s3").query_plus,
            QueryPlus::Literal,
            "S3 reads + literally"
        );
        assert_eq!(
            Rules::for_service("execute-api").query_plus,
            QueryPlus::Space
        );
    }

    #[test]
    fn rules_for_service_reads_the_table() {
        let s3 = Rules::for_service("s3");
        assert!(!s3.normalize_path);
        assert_eq!(s3.path_encoding, PathEncoding::Single);
        assert!(s3.presigned_unsigned_payload);
        for (name, row) in SERVICES {
            assert_eq!(Rules::for_service(name), row.canonical(), "{name}");
        }
        // Services with their own headers still canonicalize as SigV4 does.
        assert_eq!(
            Rules::for_service("aoss"),
            Rules::for_service("execute-api")
        );
        assert_eq!(ServiceRules::of("execute-api"), SIGV4_DEFAULT);
        assert!(ServiceRules::of("vpc-lattice-svcs").unsigned_payload);
    }
}
