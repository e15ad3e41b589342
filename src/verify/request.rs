//! The request as the verifier sees it: method, raw request-target, headers in received
//! order and body, read from raw HTTP/1.1 text, an `http::Request` or a wiremock request.

use std::fmt;

use bytes::Bytes;

use crate::canonical::REDACTED;

/// Why raw HTTP/1.1 text could not be read as a request. Never quotes the text itself (it may
/// carry an `Authorization` header or a session token): only line numbers, counted from 1.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// No request line at all.
    #[error("empty request: no request line")]
    Empty,
    /// The request line is not UTF-8.
    #[error("line {line} is not UTF-8")]
    NotUtf8 {
        /// The line number.
        line: usize,
    },
    /// The request line has no request-target after the method.
    #[error("the request line has no request-target")]
    MissingTarget,
    /// The method is not an HTTP token.
    #[error("the request line does not start with an HTTP method")]
    InvalidMethod,
    /// A header line has no `:` or an empty or invalid name.
    #[error("line {line} is not a `Name: value` header")]
    MalformedHeader {
        /// The line number.
        line: usize,
    },
    /// A continuation line (starting with a space or tab) before any header.
    #[error("line {line} continues a header but no header precedes it")]
    ContinuationWithoutHeader {
        /// The line number.
        line: usize,
    },
}

/// A request as received by a server: nothing decoded, nothing normalized.
#[derive(Clone, PartialEq, Eq)]
pub struct ReceivedRequest {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

/// Header names whose values are secret and never shown by `Debug`.
fn is_secret_header(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization") || name.eq_ignore_ascii_case("x-amz-security-token")
}

impl fmt::Debug for ReceivedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Headers<'a>(&'a [(String, String)]);
        impl fmt::Debug for Headers<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let mut list = f.debug_list();
                for (name, value) in self.0 {
                    if is_secret_header(name) {
                        list.entry(&(name, REDACTED));
                    } else {
                        list.entry(&(name, value));
                    }
                }
                list.finish()
            }
        }
        f.debug_struct("ReceivedRequest")
            .field("method", &self.method)
            .field("target", &crate::redact::redact_target(&self.target))
            .field("headers", &Headers(&self.headers))
            .field("body_len", &self.body.len())
            .finish()
    }
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

const OWS: [char; 2] = [' ', '\t'];

impl ReceivedRequest {
    /// A request from its parts. `target` is the raw request-target (path and optional
    /// `?query`, as on the wire); `headers` are in received order.
    pub fn new(
        method: impl Into<String>,
        target: impl Into<String>,
        headers: Vec<(String, String)>,
        body: impl Into<Bytes>,
    ) -> Self {
        Self {
            method: method.into(),
            target: target.into(),
            headers,
            body: body.into(),
        }
    }

    /// Reads raw HTTP/1.1 request text, as in the AWS suite's `request.txt`: CRLF or LF line
    /// ends, `Name:value` or `Name: value` headers, obs-fold continuation lines (joined to the
    /// header above with one space), a request-target that may hold raw spaces and UTF-8
    /// (the method is the first token, the version the last, if it starts with `HTTP/`, and
    /// the target everything between). The body is everything after the first blank line.
    ///
    /// # Errors
    ///
    /// A [`ParseError`] when the text is not such a request: no request line, a line that
    /// is not UTF-8, no request-target, no method, a malformed header line, or a
    /// continuation line with no header above it.
    pub fn parse_http1(raw: &[u8]) -> Result<Self, ParseError> {
        let mut pos = 0usize;
        let mut line_no = 0usize;
        let mut next_line = || -> Option<(usize, &[u8])> {
            if pos >= raw.len() {
                return None;
            }
            let rest = &raw[pos..];
            line_no += 1;
            match rest.iter().position(|&b| b == b'\n') {
                Some(end) => {
                    pos += end + 1;
                    Some((line_no, strip_cr(&rest[..end])))
                }
                None => {
                    pos = raw.len();
                    Some((line_no, strip_cr(rest)))
                }
            }
        };

        // RFC 9112 lets a server skip blank lines before the request line.
        let (request_line_no, request_line) = loop {
            match next_line() {
                None => return Err(ParseError::Empty),
                Some((_, [])) => continue,
                Some(found) => break found,
            }
        };
        let request_line = std::str::from_utf8(request_line).map_err(|_| ParseError::NotUtf8 {
            line: request_line_no,
        })?;
        let (method, rest) = request_line
            .split_once(' ')
            .ok_or(ParseError::MissingTarget)?;
        if method.is_empty() || !method.bytes().all(is_token_byte) {
            return Err(ParseError::InvalidMethod);
        }
        let rest = rest.trim_start_matches(' ');
        let target = match rest.rsplit_once(' ') {
            Some((target, version)) if version.starts_with("HTTP/") => target.trim_end_matches(' '),
            // A lone version: the target is missing.
            None if rest.starts_with("HTTP/") => "",
            // No version: the smithy-rs `double-url-encode` case writes its request line so.
            _ => rest,
        };
        if target.is_empty() {
            return Err(ParseError::MissingTarget);
        }

        let mut headers: Vec<(String, String)> = Vec::new();
        let mut body_start = None;
        while let Some((number, line)) = next_line() {
            if line.is_empty() {
                body_start = Some(());
                break;
            }
            let line =
                std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8 { line: number })?;
            if line.starts_with(OWS) {
                let Some((_, value)) = headers.last_mut() else {
                    return Err(ParseError::ContinuationWithoutHeader { line: number });
                };
                let continued = line.trim_matches(OWS);
                if !continued.is_empty() {
                    if !value.is_empty() {
                        value.push(' ');
                    }
                    value.push_str(continued);
                }
                continue;
            }
            let (name, value) = line
                .split_once(':')
                .ok_or(ParseError::MalformedHeader { line: number })?;
            if name.is_empty() || !name.bytes().all(is_token_byte) {
                return Err(ParseError::MalformedHeader { line: number });
            }
            headers.push((name.to_owned(), value.trim_matches(OWS).to_owned()));
        }
        let body = match body_start {
            Some(()) => Bytes::copy_from_slice(&raw[pos.min(raw.len())..]),
            None => Bytes::new(),
        };
        Ok(Self {
            method: method.to_owned(),
            target: target.to_owned(),
            headers,
            body,
        })
    }

    /// The request as `http` describes it. The target is the URI's path and query. When the
    /// request has no `Host` header but its URI has an authority, a `host` header is added
    /// from it (host, plus the port unless it is the scheme's default), as a client sends it.
    pub fn from_http<B: AsRef<[u8]>>(req: &http::Request<B>) -> Self {
        let uri = req.uri();
        let target = uri
            .path_and_query()
            .map(|pq| pq.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        let mut headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            if let Some(host) = uri.host() {
                let default_port = match uri.scheme_str() {
                    Some("https") => Some(443),
                    Some("http") => Some(80),
                    _ => None,
                };
                let value = match uri.port_u16() {
                    Some(port) if Some(port) != default_port => format!("{host}:{port}"),
                    _ => host.to_owned(),
                };
                headers.insert(0, ("host".to_owned(), value));
            }
        }
        Self {
            method: req.method().as_str().to_owned(),
            target,
            headers,
            body: Bytes::copy_from_slice(req.body().as_ref()),
        }
    }

    /// The request a wiremock server received. wiremock keeps the URL parsed (by the `url`
    /// crate, which may have normalized dot segments already) and the headers grouped by
    /// name; values of one name stay in order, which is all SigV4 needs.
    #[cfg(feature = "wiremock")]
    #[cfg_attr(docsrs, doc(cfg(feature = "wiremock")))]
    pub fn from_wiremock(req: &::wiremock::Request) -> Self {
        let url = &req.url;
        let mut target = url.path().to_owned();
        if let Some(query) = url.query() {
            target.push('?');
            target.push_str(query);
        }
        let mut headers: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            if let Some(host) = url.host_str() {
                let value = match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                };
                headers.insert(0, ("host".to_owned(), value));
            }
        }
        Self {
            method: req.method.as_str().to_owned(),
            target,
            headers,
            body: Bytes::copy_from_slice(&req.body),
        }
    }

    /// The method, as received.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The raw request-target: path and optional `?query`, as received.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The headers, in received order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name` (case-insensitive), in received order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The raw path (before `?`) and raw query (after it, empty when there is none). An
    /// absolute-form target (`http://host/path`) yields its path.
    pub fn path_and_query(&self) -> (&str, &str) {
        let mut target = self.target.as_str();
        for scheme in ["http://", "https://"] {
            if target.len() >= scheme.len()
                && target.is_char_boundary(scheme.len())
                && target[..scheme.len()].eq_ignore_ascii_case(scheme)
            {
                let after = &target[scheme.len()..];
                target = match after.find(['/', '?']) {
                    Some(i) => &after[i..],
                    None => "",
                };
                break;
            }
        }
        match target.split_once('?') {
            Some((path, query)) => (path, query),
            None => (target, ""),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suite_style_request() {
        let raw = b"GET /example space/?a=b HTTP/1.1\nHost:example.amazonaws.com\nMy-Header1: value1\n  value2\n     value3\nX-Empty:\n\nbody\nmore";
        let req = ReceivedRequest::parse_http1(raw).unwrap();
        assert_eq!(req.method(), "GET");
        assert_eq!(req.target(), "/example space/?a=b");
        assert_eq!(req.path_and_query(), ("/example space/", "a=b"));
        assert_eq!(
            req.headers(),
            &[
                ("Host".to_owned(), "example.amazonaws.com".to_owned()),
                ("My-Header1".to_owned(), "value1 value2 value3".to_owned()),
                ("X-Empty".to_owned(), String::new()),
            ]
        );
        assert_eq!(req.body().as_ref(), b"body\nmore");
    }

    #[test]
    fn parses_crlf_and_no_version() {
        let raw = b"\r\nPOST /a%3Ab\r\nHost: h\r\n\r\n{}";
        let req = ReceivedRequest::parse_http1(raw).unwrap();
        assert_eq!(req.method(), "POST");
        assert_eq!(req.target(), "/a%3Ab");
        assert_eq!(req.header("HOST"), Some("h"));
        assert_eq!(req.body().as_ref(), b"{}");
        let utf8 = ReceivedRequest::parse_http1("GET /ሴ HTTP/1.1\n".as_bytes()).unwrap();
        assert_eq!(utf8.target(), "/ሴ");
        assert!(utf8.headers().is_empty());
    }

    #[test]
    fn parse_errors_name_lines_only() {
        assert_eq!(ReceivedRequest::parse_http1(b""), Err(ParseError::Empty));
        assert_eq!(
            ReceivedRequest::parse_http1(b"\n\n"),
            Err(ParseError::Empty)
        );
        assert_eq!(
            ReceivedRequest::parse_http1(b"GET"),
            Err(ParseError::MissingTarget)
        );
        assert_eq!(
            ReceivedRequest::parse_http1(b"GET  HTTP/1.1"),
            Err(ParseError::MissingTarget)
        );
        assert_eq!(
            ReceivedRequest::parse_http1(b"G(T / HTTP/1.1"),
            Err(ParseError::InvalidMethod)
        );
        assert_eq!(
            ReceivedRequest::parse_http1(b"GET / HTTP/1.1\n bad"),
            Err(ParseError::ContinuationWithoutHeader { line: 2 })
        );
        let err = ReceivedRequest::parse_http1(
            b"GET / HTTP/1.1\nHost: h\nAuthorization AWS4-HMAC-SHA256 Signature=abcdef",
        )
        .unwrap_err();
        assert_eq!(err, ParseError::MalformedHeader { line: 3 });
        assert!(!err.to_string().contains("abcdef"));
        assert_eq!(
            ReceivedRequest::parse_http1(b"GET / HTTP/1.1\nHo st: h"),
            Err(ParseError::MalformedHeader { line: 2 })
        );
        assert_eq!(
            ReceivedRequest::parse_http1(b"GET \xff HTTP/1.1"),
            Err(ParseError::NotUtf8 { line: 1 })
        );
    }

    #[test]
    fn absolute_form_target() {
        let req = ReceivedRequest::new("GET", "https://h.example/a/b?x=1", vec![], "");
        assert_eq!(req.path_and_query(), ("/a/b", "x=1"));
        let req = ReceivedRequest::new("GET", "http://h.example", vec![], "");
        assert_eq!(req.path_and_query(), ("", ""));
    }

    #[test]
    fn from_http_adds_host_from_authority() {
        let req = http::Request::builder()
            .uri("https://api.example.com:443/p?q=1")
            .body(Vec::<u8>::new())
            .unwrap();
        let received = ReceivedRequest::from_http(&req);
        assert_eq!(received.target(), "/p?q=1");
        assert_eq!(received.header("host"), Some("api.example.com"));
        let req = http::Request::builder()
            .uri("http://api.example.com:8080/")
            .header("x-a", "1")
            .body(b"abc".to_vec())
            .unwrap();
        let received = ReceivedRequest::from_http(&req);
        assert_eq!(received.header("host"), Some("api.example.com:8080"));
        assert_eq!(received.body().as_ref(), b"abc");
    }

    #[test]
    fn debug_redacts_secrets() {
        let req = ReceivedRequest::new(
            "GET",
            "/?X-Amz-Signature=SIGSECRET&X-Amz-Security-Token=TOKSECRET&a=1",
            vec![
                (
                    "Authorization".into(),
                    "AWS4-HMAC-SHA256 Signature=SIGSECRET2".into(),
                ),
                ("X-Amz-Security-Token".into(), "TOKSECRET2".into()),
                ("Host".into(), "h".into()),
            ],
            "",
        );
        let shown = format!("{req:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("a=1") && shown.contains("\"h\""), "{shown}");
    }
}
