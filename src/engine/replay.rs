//! What is kept of a request to send it again: its method, URL and headers, taken before
//! it is signed and sent, in one allocation.
//!
//! The client below the middleware consumes the request, so a clock retry, a token reload
//! or a redirect must rebuild it; and the summary of what was signed reads its headers
//! back. A full copy of the request would cost an allocation per header (each value's
//! buffer is shared on first copy) on every request, while it is used on few: this keeps
//! the bytes once, and rebuilds the headers only when they are needed. The body is kept by
//! [`PreparedBody`](crate::engine::body::PreparedBody).

use std::fmt;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method, Version};
use url::Url;

/// A request's method, URL and headers, as they were before it was signed.
#[derive(Clone)]
pub(crate) struct Kept {
    method: Method,
    version: Version,
    timeout: Option<Duration>,
    /// The URL, then each header as `name length (u16 LE), value length (u32 LE),
    /// sensitive (u8), name, value`.
    bytes: Box<[u8]>,
    /// Where the URL ends in `bytes`, and where its path starts and its query ends (the
    /// `Url`'s own positions, so that its parts are slices, never parsed again).
    url_len: u32,
    path_start: u32,
    query_end: u32,
}

/// Where `url`'s path starts and its query ends in its serialization. Read off the slices
/// `Url` hands out (its positions are private): slicing by `url::Position` works them out
/// again from the scheme, host and port each time.
pub(crate) fn path_and_query_bounds(url: &Url) -> (usize, usize) {
    let base = url.as_str().as_ptr() as usize;
    let offset = |part: &str| part.as_ptr() as usize - base;
    let path = url.path();
    let path_start = offset(path);
    let query_end = match url.query() {
        Some(query) => offset(query) + query.len(),
        None => path_start + path.len(),
    };
    (path_start, query_end)
}

/// `url`'s path and query, as sent (no fragment).
pub(crate) fn path_and_query(url: &Url) -> &str {
    let (path_start, query_end) = path_and_query_bounds(url);
    &url.as_str()[path_start..query_end]
}

/// `url` without its fragment: up to the end of its query.
pub(crate) fn up_to_query(url: &Url) -> &str {
    &url.as_str()[..path_and_query_bounds(url).1]
}

/// Bytes of a header's record besides its name and value.
const RECORD_HEAD: usize = 2 + 4 + 1;

impl Kept {
    /// Keeps `method`, `url`, `headers` (and the version and timeout reqwest sends with).
    pub(crate) fn new(
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
        version: Version,
        timeout: Option<Duration>,
    ) -> Self {
        let (path_start, query_end) = path_and_query_bounds(url);
        let url = url.as_str();
        let size = url.len()
            + headers
                .iter()
                .map(|(n, v)| RECORD_HEAD + n.as_str().len() + v.len())
                .sum::<usize>();
        let mut bytes = Vec::with_capacity(size);
        bytes.extend_from_slice(url.as_bytes());
        for (name, value) in headers {
            let name = name.as_str().as_bytes();
            // Header names are tokens far below 64 KiB; a value over 4 GiB is no header.
            bytes.extend_from_slice(&(name.len() as u16).to_le_bytes());
            bytes.extend_from_slice(&(value.len() as u32).to_le_bytes());
            bytes.push(u8::from(value.is_sensitive()));
            bytes.extend_from_slice(name);
            bytes.extend_from_slice(value.as_bytes());
        }
        Self {
            method: method.clone(),
            version,
            timeout,
            bytes: bytes.into_boxed_slice(),
            url_len: url.len() as u32,
            path_start: path_start as u32,
            query_end: query_end as u32,
        }
    }

    pub(crate) fn method(&self) -> &Method {
        &self.method
    }

    pub(crate) fn version(&self) -> Version {
        self.version
    }

    pub(crate) fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Whether the kept URL, up to its query, is `other` (compared as bytes: no UTF-8
    /// check of the kept copy on every response).
    pub(crate) fn up_to_query_is(&self, other: &str) -> bool {
        self.bytes[..self.query_end as usize] == *other.as_bytes()
    }

    /// Whether the kept URL's `scheme://[userinfo@]host[:port]` is `other`.
    pub(crate) fn origin_is(&self, other: &str) -> bool {
        self.bytes[..self.path_start as usize] == *other.as_bytes()
    }

    /// The URL as it was serialized.
    fn url_str(&self) -> &str {
        // Written from a `&str` above.
        std::str::from_utf8(&self.bytes[..self.url_len as usize]).unwrap_or_default()
    }

    /// The path and query, as the URL writes them.
    pub(crate) fn path_and_query(&self) -> &str {
        &self.url_str()[self.path_start as usize..self.query_end as usize]
    }

    /// The URL, parsed again.
    pub(crate) fn url(&self) -> Url {
        // A serialized `Url` parses back to itself.
        Url::parse(self.url_str()).expect("a serialized URL parses")
    }

    /// Every header: name, value bytes and whether the value was marked sensitive, in the
    /// order `HeaderMap::iter` gave them.
    pub(crate) fn headers(&self) -> Headers<'_> {
        Headers {
            rest: &self.bytes[self.url_len as usize..],
        }
    }

    /// The headers as a map again.
    pub(crate) fn header_map(&self) -> HeaderMap {
        let mut map = HeaderMap::with_capacity(self.headers().count());
        for (name, value, sensitive) in self.headers() {
            // Both came from a valid `HeaderMap`.
            let (Ok(name), Ok(mut value)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_bytes(value),
            ) else {
                continue;
            };
            value.set_sensitive(sensitive);
            map.append(name, value);
        }
        map
    }
}

impl fmt::Debug for Kept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values may be secrets: names only.
        f.debug_struct("Kept")
            .field("method", &self.method)
            .field(
                "headers",
                &self.headers().map(|(n, _, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

/// The headers of a [`Kept`] request.
pub(crate) struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a [u8], bool);

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.rest;
        if rest.len() < RECORD_HEAD {
            return None;
        }
        let name_len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let value_len = u32::from_le_bytes([rest[2], rest[3], rest[4], rest[5]]) as usize;
        let sensitive = rest[6] != 0;
        let name_end = RECORD_HEAD + name_len;
        let end = name_end + value_len;
        let name = std::str::from_utf8(&rest[RECORD_HEAD..name_end]).unwrap_or_default();
        let value = &rest[name_end..end];
        self.rest = &rest[end..];
        Some((name, value, sensitive))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_method_url_and_every_header_in_order_with_sensitivity() {
        let url: Url = "https://h.example.com/p/a%20b?x=1&y=%2F#frag"
            .parse()
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.append("accept", HeaderValue::from_static("a/b"));
        headers.append("x-multi", HeaderValue::from_static("one"));
        headers.append("x-multi", HeaderValue::from_static("two"));
        let mut secret = HeaderValue::from_bytes(b"caf\xe9").unwrap();
        secret.set_sensitive(true);
        headers.append("x-obs", secret);
        let kept = Kept::new(
            &Method::PATCH,
            &url,
            &headers,
            Version::HTTP_11,
            Some(Duration::from_secs(3)),
        );
        assert_eq!(kept.method(), Method::PATCH);
        assert_eq!(kept.url(), url);
        assert!(kept.origin_is("https://h.example.com"));
        assert!(!kept.origin_is("https://h.example.co"));
        assert_eq!(kept.path_and_query(), "/p/a%20b?x=1&y=%2F");
        assert!(kept.up_to_query_is("https://h.example.com/p/a%20b?x=1&y=%2F"));
        assert!(!kept.up_to_query_is("https://h.example.com/p/a%20b?x=1&y=%2F#frag"));
        assert_eq!(kept.version(), Version::HTTP_11);
        assert_eq!(kept.timeout(), Some(Duration::from_secs(3)));
        let back = kept.header_map();
        assert_eq!(back, headers);
        assert!(back.get("x-obs").unwrap().is_sensitive());
        assert!(!back.get("accept").unwrap().is_sensitive());
        let listed: Vec<(&str, &[u8])> = kept.headers().map(|(n, v, _)| (n, v)).collect();
        assert_eq!(
            listed,
            [
                ("accept", &b"a/b"[..]),
                ("x-multi", b"one"),
                ("x-multi", b"two"),
                ("x-obs", b"caf\xe9"),
            ]
        );
        // Header values may be secrets: Debug shows names only.
        assert!(!format!("{kept:?}").contains("caf"));
    }

    #[test]
    fn url_parts_are_the_urls_own() {
        for raw in [
            "https://h.example.com/p/a%20b?x=1&y=2#frag",
            "http://user:pw@h:8080/p?q",
            "https://h/",
            "https://h/?a=b",
            "http://[::1]:80/x/y",
            "http://h/a#f?not-a-query",
            "https://h/a?",
            "https://h/a?#",
            "https://h#frag",
            "https://h:443/%2F/../b?%41=%42",
            "mailto:someone@example.com?subject=hi",
            "data:text/plain,x?y#z",
        ] {
            let url = Url::parse(raw).unwrap();
            let kept = Kept::new(
                &Method::GET,
                &url,
                &HeaderMap::new(),
                Version::HTTP_11,
                None,
            );
            let origin = &url[..url::Position::BeforePath];
            let through_query = &url[..url::Position::AfterQuery];
            let path_and_query = &url[url::Position::BeforePath..url::Position::AfterQuery];
            // The URL's own parts, read off its slices, are `url::Position`'s.
            assert_eq!(super::up_to_query(&url), through_query, "{raw}");
            assert_eq!(super::path_and_query(&url), path_and_query, "{raw}");
            assert_eq!(path_and_query_bounds(&url).0, origin.len(), "{raw}");
            // And the kept copy's.
            assert!(kept.origin_is(origin), "{raw}");
            assert!(kept.up_to_query_is(through_query), "{raw}");
            assert_eq!(kept.path_and_query(), path_and_query, "{raw}");
        }
    }

    #[test]
    fn no_headers() {
        let url: Url = "http://h/".parse().unwrap();
        let kept = Kept::new(&Method::GET, &url, &HeaderMap::new(), Version::HTTP_2, None);
        assert_eq!(kept.headers().count(), 0);
        assert!(kept.header_map().is_empty());
        assert_eq!(kept.url_str(), "http://h/");
    }
}
