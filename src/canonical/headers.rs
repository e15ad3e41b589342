//! Canonical header values, the canonical headers block and the signed headers list.

use std::borrow::Cow;

/// A header value as it goes into the canonical request: leading and trailing whitespace
/// removed and every inner run of whitespace (spaces, tabs, obs-fold line breaks) made one
/// space.
///
/// SigV4's "Trimall" rule speaks of sequential spaces; botocore (`' '.join(value.split())`)
/// and the AWS Java SDK fold any whitespace, tabs included, and so does API Gateway. A
/// signer that signs a tab as it is (aws-sigv4 does) is refused here, as it would be there.
pub fn canonical_header_value(raw: &str) -> Cow<'_, str> {
    let is_space = |c: char| matches!(c, ' ' | '\t' | '\r' | '\n' | '\x0b' | '\x0c');
    let trimmed = raw.trim_matches(is_space);
    if !trimmed.contains("  ") && !trimmed.contains(|c: char| is_space(c) && c != ' ') {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split(is_space).filter(|word| !word.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    Cow::Owned(out)
}

/// A signed header that the request does not carry.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("signed header '{name}' is absent from the request")]
#[non_exhaustive]
pub struct MissingHeader {
    /// The lower-case header name.
    pub name: String,
}

/// The canonical headers block: for each name of `signed` (in the order given, which a
/// conforming signer sorts), `name:value\n`, where the value joins with `,` the canonical
/// values of every header of that name in `headers`, in received order. Names are compared
/// case-insensitively and written lower-case.
///
/// # Errors
///
/// [`MissingHeader`] naming the first name of `signed` that no header in `headers` has.
pub fn canonical_headers<N, V, S>(headers: &[(N, V)], signed: &[S]) -> Result<String, MissingHeader>
where
    N: AsRef<str>,
    V: AsRef<str>,
    S: AsRef<str>,
{
    canonical_headers_with(headers, signed, canonical_header_value)
}

/// [`canonical_headers`] with another rule for the values: the verifier replays signers
/// that canonicalize values differently, to explain a mismatch.
pub(crate) fn canonical_headers_with<N, V, S>(
    headers: &[(N, V)],
    signed: &[S],
    value_rule: fn(&str) -> Cow<'_, str>,
) -> Result<String, MissingHeader>
where
    N: AsRef<str>,
    V: AsRef<str>,
    S: AsRef<str>,
{
    let mut out = String::new();
    for wanted in signed {
        let wanted = wanted.as_ref();
        let mut found = false;
        for (name, value) in headers {
            if !name.as_ref().trim().eq_ignore_ascii_case(wanted) {
                continue;
            }
            if found {
                out.push(',');
            } else {
                out.extend(wanted.chars().map(|c| c.to_ascii_lowercase()));
                out.push(':');
                found = true;
            }
            out.push_str(&value_rule(value.as_ref()));
        }
        if !found {
            return Err(MissingHeader {
                name: wanted.to_ascii_lowercase(),
            });
        }
        out.push('\n');
    }
    Ok(out)
}

/// The signed headers list: names lower-cased, sorted, deduplicated and joined with `;`.
pub fn signed_headers_list<S: AsRef<str>>(names: &[S]) -> String {
    let mut lower: Vec<String> = names
        .iter()
        .map(|name| name.as_ref().trim().to_ascii_lowercase())
        .collect();
    lower.sort_unstable();
    lower.dedup();
    lower.join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_trimmed_and_folded() {
        assert_eq!(canonical_header_value("  value1 "), "value1");
        assert_eq!(canonical_header_value("\"a   b   c\""), "\"a b c\"");
        assert_eq!(
            canonical_header_value("value1\r\n  value2\n     value3"),
            "value1 value2 value3"
        );
        // A tab is whitespace like any other (botocore, the AWS Java SDK, API Gateway).
        assert_eq!(canonical_header_value("a\tb"), "a b");
        assert_eq!(canonical_header_value("a \t\t b\tc"), "a b c");
        assert_eq!(canonical_header_value("a\r\n\tb"), "a b");
        assert_eq!(canonical_header_value(""), "");
    }
    #[test]
    fn repeated_headers_joined_in_order() {
        let headers = [
            ("Host", "example.amazonaws.com"),
            ("My-Header1", "value4"),
            ("my-header1", " value1 "),
            ("MY-HEADER1", "value3"),
        ];
        assert_eq!(
            canonical_headers(&headers, &["host", "my-header1"]).unwrap(),
            "host:example.amazonaws.com\nmy-header1:value4,value1,value3\n"
        );
        assert_eq!(
            canonical_headers(&headers, &["host", "x-amz-date"]),
            Err(MissingHeader {
                name: "x-amz-date".into()
            })
        );
    }
    #[test]
    fn signed_headers_list_sorted_lowercase() {
        assert_eq!(
            signed_headers_list(&["X-Amz-Date", "Host", "host", "Content-Type"]),
            "content-type;host;x-amz-date"
        );
    }
}
