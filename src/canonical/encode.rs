//! URI encoding, the canonical path (normalization, single or double encoding) and the
//! canonical query string.

use std::borrow::Cow;

use percent_encoding::{percent_decode, percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::{PathEncoding, QueryPlus};

/// Every byte but the RFC 3986 unreserved set (`A-Z a-z 0-9 - . _ ~`) is encoded;
/// `percent-encoding` writes upper-case hex, as SigV4 requires.
const NOT_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// URI-encodes `input` as SigV4 requires: every byte outside the RFC 3986 unreserved set
/// becomes `%XX` with upper-case hex (so `/` is encoded too).
pub fn uri_encode(input: impl AsRef<[u8]>) -> String {
    percent_encode(input.as_ref(), NOT_UNRESERVED).to_string()
}

fn push_escape(byte: u8, out: &mut String) {
    out.push('%');
    out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
    out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
}

fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Removes dot segments (RFC 3986 section 5.2.4) and empty segments (duplicate slashes) from
/// `path`. The result starts with `/`; a trailing slash (or a trailing `.`/`..`, which names a
/// directory) is kept unless nothing is left.
pub fn normalize_path(path: &str) -> Cow<'_, str> {
    let needs_work = !path.starts_with('/')
        || path.contains("//")
        || path
            .split('/')
            .any(|segment| segment == "." || segment == "..");
    if !needs_work {
        return Cow::Borrowed(path);
    }
    let mut kept: Vec<&str> = Vec::new();
    let mut last = "";
    for segment in path.split('/') {
        last = segment;
        match segment {
            "" | "." => {}
            ".." => {
                kept.pop();
            }
            other => kept.push(other),
        }
    }
    let trailing_slash = matches!(last, "" | "." | "..");
    let mut out = String::with_capacity(path.len() + 1);
    for segment in &kept {
        out.push('/');
        out.push_str(segment);
    }
    if out.is_empty() || trailing_slash {
        out.push('/');
    }
    Cow::Owned(out)
}

fn encode_segment_single(segment: &str, out: &mut String) {
    let bytes = segment.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%' {
            if let (Some(high), Some(low)) = (bytes.get(i + 1), bytes.get(i + 2)) {
                if high.is_ascii_hexdigit() && low.is_ascii_hexdigit() {
                    out.push('%');
                    out.push(char::from(high.to_ascii_uppercase()));
                    out.push(char::from(low.to_ascii_uppercase()));
                    i += 3;
                    continue;
                }
            }
        }
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            push_escape(byte, out);
        }
        i += 1;
    }
}

/// The canonical URI for a path as received on the wire (the request-target before `?`,
/// neither decoded nor normalized). An empty path is `/`.
///
/// The path is split on `/` before encoding, so an encoded slash `%2F` inside a segment stays
/// inside that segment (`%2F` single, `%252F` double).
pub fn canonical_path(raw_path: &str, normalize: bool, encoding: PathEncoding) -> String {
    let path: Cow<'_, str> = if raw_path.is_empty() {
        Cow::Borrowed("/")
    } else if normalize {
        normalize_path(raw_path)
    } else {
        Cow::Borrowed(raw_path)
    };
    let mut out = String::with_capacity(path.len() + path.len() / 2);
    for (i, segment) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        match encoding {
            PathEncoding::Single => encode_segment_single(segment, &mut out),
            PathEncoding::Double => {
                out.extend(percent_encode(segment.as_bytes(), NOT_UNRESERVED));
            }
        }
    }
    out
}

/// Decodes one query component: `+` per `plus`, then `%XX` escapes. A `%` that does not start
/// a valid escape is kept as a literal `%`, the way lenient servers read it.
fn decode_component(raw: &str, plus: QueryPlus) -> Cow<'_, [u8]> {
    let spaced: Cow<'_, str> = match plus {
        QueryPlus::Space if raw.contains('+') => Cow::Owned(raw.replace('+', " ")),
        _ => Cow::Borrowed(raw),
    };
    match spaced {
        Cow::Borrowed(text) => percent_decode(text.as_bytes()).into(),
        Cow::Owned(text) => Cow::Owned(percent_decode(text.as_bytes()).collect()),
    }
}

/// The decoded `(name, value)` pairs of a raw query string (without the leading `?`), in
/// order. Empty pieces (`a=1&&b=2`, a trailing `&`) are skipped; a piece without `=` has an
/// empty value. Bytes are returned as decoded: they need not be UTF-8.
pub fn query_pairs(
    raw_query: &str,
    plus: QueryPlus,
) -> impl Iterator<Item = (Cow<'_, [u8]>, Cow<'_, [u8]>)> + '_ {
    raw_query
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(move |piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            (decode_component(name, plus), decode_component(value, plus))
        })
}

/// The canonical query string: every parameter decoded, re-encoded with [`uri_encode`],
/// sorted by encoded name then encoded value, joined with `&`; a name without `=` is `name=`.
pub fn canonical_query(raw_query: &str, plus: QueryPlus) -> String {
    canonical_query_filtered(raw_query, plus, |_| true)
}

/// [`canonical_query`] keeping only the parameters whose decoded name passes `keep` (a
/// presigned URL leaves `X-Amz-Signature` out of what it signs).
pub fn canonical_query_filtered(
    raw_query: &str,
    plus: QueryPlus,
    mut keep: impl FnMut(&[u8]) -> bool,
) -> String {
    let mut pairs: Vec<(String, String)> = query_pairs(raw_query, plus)
        .filter(|(name, _)| keep(name))
        .map(|(name, value)| (uri_encode(name), uri_encode(value)))
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw_query.len() + 16);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLUS: QueryPlus = QueryPlus::Space;

    #[test]
    fn uri_encode_keeps_only_unreserved() {
        assert_eq!(uri_encode("aZ09-._~"), "aZ09-._~");
        assert_eq!(uri_encode("a b/c+d*e"), "a%20b%2Fc%2Bd%2Ae");
        assert_eq!(uri_encode("!'()*"), "%21%27%28%29%2A");
        assert_eq!(uri_encode("ሴ"), "%E1%88%B4");
        assert_eq!(uri_encode([0xffu8]), "%FF");
    }
    #[test]
    fn plus_in_query_is_a_space_signed_as_percent_20() {
        assert_eq!(canonical_query("q=a+b", PLUS), "q=a%20b");
        assert_eq!(canonical_query("a+b=c", PLUS), "a%20b=c");
    }
    #[test]
    fn encoded_plus_stays_encoded_plus() {
        assert_eq!(canonical_query("q=a%2Bb", PLUS), "q=a%2Bb");
        assert_eq!(canonical_query("q=a%2bb", QueryPlus::Literal), "q=a%2Bb");
    }
    #[test]
    fn reserved_and_utf8_query_values_are_encoded() {
        assert_eq!(canonical_query("k=*!()'", PLUS), "k=%2A%21%28%29%27");
        assert_eq!(
            canonical_query("k=%2A%21%28%29%27", PLUS),
            "k=%2A%21%28%29%27"
        );
        assert_eq!(canonical_query("k=ሴ", PLUS), "k=%E1%88%B4");
        assert_eq!(canonical_query("k=%e1%88%b4", PLUS), "k=%E1%88%B4");
        assert_eq!(canonical_query("k=a%20b~c", PLUS), "k=a%20b~c");
    }
    #[test]
    fn key_without_equals_and_empty_values() {
        assert_eq!(canonical_query("flag", PLUS), "flag=");
        assert_eq!(canonical_query("flag=", PLUS), "flag=");
        assert_eq!(canonical_query("b=&a", PLUS), "a=&b=");
        assert_eq!(canonical_query("", PLUS), "");
        assert_eq!(canonical_query("a=1&&b=2&", PLUS), "a=1&b=2");
        assert_eq!(canonical_query("=v", PLUS), "=v");
    }
    #[test]
    fn repeated_keys_sorted_by_value() {
        assert_eq!(canonical_query("k=b&k=a&k=c&j=z", PLUS), "j=z&k=a&k=b&k=c");
        // Sorting happens on the encoded form, byte-wise: upper case before lower case.
        assert_eq!(canonical_query("k=b&K=a", PLUS), "K=a&k=b");
    }
    #[test]
    fn filtered_query_leaves_parameters_out() {
        assert_eq!(
            canonical_query_filtered("b=2&X-Amz-Signature=abc&a=1", PLUS, |k| {
                k != b"X-Amz-Signature"
            }),
            "a=1&b=2"
        );
    }
    #[test]
    fn invalid_percent_escape_is_a_literal_percent() {
        assert_eq!(canonical_query("k=100%", PLUS), "k=100%25");
        assert_eq!(canonical_query("k=%zz", PLUS), "k=%25zz");
    }
    #[test]
    fn encoded_slash_in_a_path_segment_stays_in_the_segment() {
        assert_eq!(
            canonical_path("/a%2Fb/c", true, PathEncoding::Single),
            "/a%2Fb/c"
        );
        assert_eq!(
            canonical_path("/a%2Fb/c", true, PathEncoding::Double),
            "/a%252Fb/c"
        );
        // Lower-case escapes are written upper-case in single mode.
        assert_eq!(
            canonical_path("/a%2fb", false, PathEncoding::Single),
            "/a%2Fb"
        );
    }
    #[test]
    fn double_encoding_encodes_the_received_segment_again() {
        assert_eq!(
            canonical_path(
                "/test/@connections/JBDvjfGEIAMCERw%3D",
                true,
                PathEncoding::Double
            ),
            "/test/%40connections/JBDvjfGEIAMCERw%253D"
        );
        assert_eq!(
            canonical_path("/a b/%20", false, PathEncoding::Double),
            "/a%20b/%2520"
        );
    }
    #[test]
    fn single_encoding_encodes_raw_bytes_once() {
        assert_eq!(
            canonical_path("/example space/", false, PathEncoding::Single),
            "/example%20space/"
        );
        assert_eq!(
            canonical_path("/example%20space/", false, PathEncoding::Single),
            "/example%20space/"
        );
        assert_eq!(
            canonical_path("/ሴ", false, PathEncoding::Single),
            "/%E1%88%B4"
        );
        assert_eq!(
            canonical_path("/a@b", false, PathEncoding::Single),
            "/a%40b"
        );
        assert_eq!(
            canonical_path("/100%", false, PathEncoding::Single),
            "/100%25"
        );
        assert_eq!(canonical_path("", false, PathEncoding::Single), "/");
    }
    #[test]
    fn dot_segments_and_duplicate_slashes() {
        let n = |p: &str| normalize_path(p).into_owned();
        assert_eq!(n("/"), "/");
        assert_eq!(n("//"), "/");
        assert_eq!(n("/./"), "/");
        assert_eq!(n("/./example"), "/example");
        assert_eq!(n("/example/.."), "/");
        assert_eq!(n("/example1/example2/../.."), "/");
        assert_eq!(n("//example//"), "/example/");
        assert_eq!(n("/a/b/../c"), "/a/c");
        assert_eq!(n("/a/b/.."), "/a/");
        assert_eq!(n("/a/."), "/a/");
        assert_eq!(n("/../a"), "/a");
        assert_eq!(n("/a/b"), "/a/b");
        assert!(matches!(normalize_path("/a/b/"), Cow::Borrowed(_)));
        // Encoded dots are not dot segments.
        assert_eq!(n("/a/%2E%2E/b"), "/a/%2E%2E/b");
        // Without normalization the dots are signed as they are.
        assert_eq!(
            canonical_path("/example/..", false, PathEncoding::Single),
            "/example/.."
        );
        assert_eq!(
            canonical_path("/example/..", true, PathEncoding::Single),
            "/"
        );
    }
}
