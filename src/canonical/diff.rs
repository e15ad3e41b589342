//! The line-by-line diff of two canonical requests, with its `Display` (session tokens
//! redacted by [`crate::redact`]).

use std::fmt;

use super::REDACTED;
use crate::redact::redact_canonical_query;
#[cfg(test)]
use crate::redact::redact_canonical_request;

/// Which of the two canonical requests given to [`diff_canonical_requests`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Side {
    /// The first argument (what the verifier, e.g. AWS, computed).
    Expected,
    /// The second argument (what the signer computed).
    Actual,
}

/// One way two canonical requests differ. Session-token values are never carried: they are
/// replaced by [`REDACTED`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CanonicalDifference {
    /// The HTTP method line.
    Method {
        /// Expected method.
        expected: String,
        /// Actual method.
        actual: String,
    },
    /// The canonical path line.
    Path {
        /// Expected canonical path.
        expected: String,
        /// Actual canonical path.
        actual: String,
    },
    /// The canonical query line.
    Query {
        /// The (encoded) names of the parameters whose values differ or that only one side
        /// has; empty when the same parameters appear in a different order.
        parameters: Vec<String>,
        /// Expected canonical query (token redacted).
        expected: String,
        /// Actual canonical query (token redacted).
        actual: String,
    },
    /// A canonical header line: a value differs, or only one side signed the header.
    Header {
        /// The lower-case header name.
        name: String,
        /// Expected value, `None` when the expected side has no such header.
        expected: Option<String>,
        /// Actual value, `None` when the actual side has no such header.
        actual: Option<String>,
    },
    /// The signed headers list.
    SignedHeaders {
        /// Expected list.
        expected: String,
        /// Actual list.
        actual: String,
    },
    /// The payload hash line.
    PayloadHash {
        /// Expected payload hash.
        expected: String,
        /// Actual payload hash.
        actual: String,
    },
    /// One side is not shaped like a canonical request (too few lines, no blank line after
    /// the headers), so it cannot be compared line by line.
    Malformed {
        /// Which side.
        side: Side,
    },
}

impl fmt::Display for CanonicalDifference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Method { expected, actual } => {
                write!(f, "method: expected '{expected}', signed '{actual}'")
            }
            Self::Path { expected, actual } => {
                write!(f, "path: expected '{expected}', signed '{actual}'")
            }
            Self::Query {
                parameters,
                expected,
                actual,
            } => {
                if parameters.is_empty() {
                    write!(f, "query order")?;
                } else {
                    write!(f, "query parameter(s) {}", parameters.join(", "))?;
                }
                write!(f, ": expected '{expected}', signed '{actual}'")
            }
            Self::Header {
                name,
                expected,
                actual,
            } => match (expected, actual) {
                (Some(e), Some(a)) => write!(f, "header '{name}': expected '{e}', signed '{a}'"),
                (Some(e), None) => {
                    write!(f, "header '{name}': expected (value '{e}') but not signed")
                }
                (None, Some(a)) => {
                    write!(f, "header '{name}': signed (value '{a}') but not expected")
                }
                (None, None) => write!(f, "header '{name}'"),
            },
            Self::SignedHeaders { expected, actual } => {
                write!(
                    f,
                    "signed headers: expected '{expected}', signed '{actual}'"
                )
            }
            Self::PayloadHash { expected, actual } => {
                write!(f, "payload hash: expected '{expected}', signed '{actual}'")
            }
            Self::Malformed { side } => match side {
                Side::Expected => f.write_str("the expected canonical request is malformed"),
                Side::Actual => f.write_str("the signed canonical request is malformed"),
            },
        }
    }
}

struct Parsed<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    signed: &'a str,
    payload: &'a str,
}

fn parse_canonical(text: &str) -> Option<Parsed<'_>> {
    let mut lines = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line));
    let method = lines.next()?;
    let path = lines.next()?;
    let query = lines.next()?;
    let mut headers = Vec::new();
    loop {
        let line = lines.next()?;
        if line.is_empty() {
            break;
        }
        headers.push(line.split_once(':').unwrap_or((line, "")));
    }
    let signed = lines.next()?;
    let payload = lines.next().unwrap_or("");
    if lines.any(|rest| !rest.is_empty()) {
        return None;
    }
    Some(Parsed {
        method,
        path,
        query,
        headers,
        signed,
        payload,
    })
}

fn query_names_that_differ(expected: &str, actual: &str) -> Vec<String> {
    let split = |q: &'_ str| -> Vec<(String, String)> {
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_owned(), v.to_owned())
            })
            .collect()
    };
    let mut left = split(expected);
    let mut right = split(actual);
    left.sort_unstable();
    right.sort_unstable();
    let mut names: Vec<String> = left
        .iter()
        .chain(right.iter())
        .map(|(k, _)| k.clone())
        .collect();
    names.sort_unstable();
    names.dedup();
    fn values<'s>(side: &'s [(String, String)], name: &str) -> Vec<&'s str> {
        side.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    names.retain(|name| {
        let l = values(&left, name);
        let r = values(&right, name);
        if name == "X-Amz-Security-Token" && (l == [REDACTED] || r == [REDACTED]) {
            // A redacted token cannot be compared; its presence on both sides is all we know.
            return l.len() != r.len();
        }
        l != r
    });
    names
}

fn redact_header_value<'a>(name: &str, value: &'a str) -> &'a str {
    if name.eq_ignore_ascii_case("x-amz-security-token") {
        REDACTED
    } else {
        value
    }
}

/// Pushes `variant(expected, actual)` when the two lines differ: for the lines compared as
/// they are (method, path, signed headers, payload hash).
fn line_difference(
    out: &mut Vec<CanonicalDifference>,
    expected: &str,
    actual: &str,
    variant: fn(String, String) -> CanonicalDifference,
) {
    if expected != actual {
        out.push(variant(expected.to_owned(), actual.to_owned()));
    }
}

/// Each header whose value differs or that only one side has, by name; a redacted session
/// token matches any token.
fn header_differences(
    expected: &[(&str, &str)],
    actual: &[(&str, &str)],
) -> Vec<CanonicalDifference> {
    fn value_of<'s>(side: &[(&str, &'s str)], name: &str) -> Option<&'s str> {
        side.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
    let mut names: Vec<&str> = expected
        .iter()
        .chain(actual.iter())
        .map(|(name, _)| *name)
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        let (ev, av) = (value_of(expected, name), value_of(actual, name));
        let is_token = name.eq_ignore_ascii_case("x-amz-security-token");
        let same = match (ev, av) {
            (Some(x), Some(y)) => x == y || (is_token && (x == REDACTED || y == REDACTED)),
            (None, None) => true,
            _ => false,
        };
        if !same {
            out.push(CanonicalDifference::Header {
                name: name.to_owned(),
                expected: ev.map(|v| redact_header_value(name, v).to_owned()),
                actual: av.map(|v| redact_header_value(name, v).to_owned()),
            });
        }
    }
    out
}

/// Compares two canonical requests line by line and classifies each difference: method,
/// path, query (naming the parameters that differ), each header whose value differs or that
/// only one side has, the signed header list, the payload hash. Returns nothing when they are
/// equal. A session token shown as [`REDACTED`] on either side matches any token.
pub fn diff_canonical_requests(expected: &str, actual: &str) -> Vec<CanonicalDifference> {
    let mut out = Vec::new();
    if expected == actual {
        return out;
    }
    let (e, a) = match (parse_canonical(expected), parse_canonical(actual)) {
        (Some(e), Some(a)) => (e, a),
        (None, _) => {
            out.push(CanonicalDifference::Malformed {
                side: Side::Expected,
            });
            return out;
        }
        (_, None) => {
            out.push(CanonicalDifference::Malformed { side: Side::Actual });
            return out;
        }
    };
    line_difference(&mut out, e.method, a.method, |expected, actual| {
        CanonicalDifference::Method { expected, actual }
    });
    line_difference(&mut out, e.path, a.path, |expected, actual| {
        CanonicalDifference::Path { expected, actual }
    });
    if e.query != a.query {
        let parameters = query_names_that_differ(e.query, a.query);
        let (eq, aq) = (
            redact_canonical_query(e.query),
            redact_canonical_query(a.query),
        );
        if !parameters.is_empty() || eq != aq {
            out.push(CanonicalDifference::Query {
                parameters,
                expected: eq.into_owned(),
                actual: aq.into_owned(),
            });
        }
    }
    out.extend(header_differences(&e.headers, &a.headers));
    line_difference(&mut out, e.signed, a.signed, |expected, actual| {
        CanonicalDifference::SignedHeaders { expected, actual }
    });
    line_difference(&mut out, e.payload, a.payload, |expected, actual| {
        CanonicalDifference::PayloadHash { expected, actual }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::canonical::{EMPTY_PAYLOAD_SHA256, UNSIGNED_PAYLOAD};

    const CREQ: &str = "GET\n/a\nb=2&c=3\nhost:example.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn diff_of_equal_requests_is_empty() {
        assert!(diff_canonical_requests(CREQ, CREQ).is_empty());
    }

    #[test]
    fn diff_classifies_each_line() {
        let other = "POST\n/b\nb=2&c=4&d=\nhost:example.org\nx-amz-date:20150830T123600Z\nx-extra:1\n\nhost;x-amz-date;x-extra\nUNSIGNED-PAYLOAD";
        let diff = diff_canonical_requests(CREQ, other);
        assert_eq!(
            diff,
            vec![
                CanonicalDifference::Method {
                    expected: "GET".into(),
                    actual: "POST".into()
                },
                CanonicalDifference::Path {
                    expected: "/a".into(),
                    actual: "/b".into()
                },
                CanonicalDifference::Query {
                    parameters: vec!["c".into(), "d".into()],
                    expected: "b=2&c=3".into(),
                    actual: "b=2&c=4&d=".into()
                },
                CanonicalDifference::Header {
                    name: "host".into(),
                    expected: Some("example.com".into()),
                    actual: Some("example.org".into())
                },
                CanonicalDifference::Header {
                    name: "x-extra".into(),
                    expected: None,
                    actual: Some("1".into())
                },
                CanonicalDifference::SignedHeaders {
                    expected: "host;x-amz-date".into(),
                    actual: "host;x-amz-date;x-extra".into()
                },
                CanonicalDifference::PayloadHash {
                    expected: EMPTY_PAYLOAD_SHA256.into(),
                    actual: UNSIGNED_PAYLOAD.into()
                },
            ]
        );
        let text: Vec<String> = diff.iter().map(ToString::to_string).collect();
        assert_eq!(
            text[2],
            "query parameter(s) c, d: expected 'b=2&c=3', signed 'b=2&c=4&d='"
        );
        assert_eq!(
            text[3],
            "header 'host': expected 'example.com', signed 'example.org'"
        );
    }

    #[test]
    fn diff_reports_query_order_and_malformed_sides() {
        let unsorted = CREQ.replace("b=2&c=3", "c=3&b=2");
        let diff = diff_canonical_requests(CREQ, &unsorted);
        assert!(matches!(
            diff.as_slice(),
            [CanonicalDifference::Query { parameters, .. }] if parameters.is_empty()
        ));
        assert_eq!(
            diff_canonical_requests("GET\n/", CREQ),
            vec![CanonicalDifference::Malformed {
                side: Side::Expected
            }]
        );
        assert_eq!(
            diff_canonical_requests(CREQ, "nonsense"),
            vec![CanonicalDifference::Malformed { side: Side::Actual }]
        );
    }

    #[test]
    fn tokens_are_redacted_in_diffs_and_redacted_tokens_match() {
        let with_token = |t: &str| {
            format!(
                "GET\n/\nX-Amz-Security-Token={t}\nhost:h\nx-amz-security-token:{t}\n\nhost;x-amz-security-token\n{EMPTY_PAYLOAD_SHA256}"
            )
        };
        let a = with_token("SECRETTOKEN1");
        let b = with_token("SECRETTOKEN2");
        let diff = diff_canonical_requests(&a, &b);
        assert_eq!(diff.len(), 2);
        let shown = format!(
            "{diff:?} {}",
            diff.iter().map(ToString::to_string).collect::<String>()
        );
        assert!(!shown.contains("SECRETTOKEN"), "{shown}");
        // A redacted side (as in a rendered error message) matches any token.
        let redacted = redact_canonical_request(&a);
        assert!(!redacted.contains("SECRETTOKEN1"));
        assert!(diff_canonical_requests(&redacted, &b).is_empty());
    }
}
