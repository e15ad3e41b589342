//! What the tool prints and where: heads for -i (stdout) and -v (stderr), the dry run,
//! the JSON summary, and stderr's messages under -s / -S. Every header and URL shown on
//! stderr or in a dry run goes through [`shown_header`] and [`shown_url`]: the session
//! token never appears, the signature only in a dry run with -v.

use std::io::Write;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use reqwest::{StatusCode, Url, Version};
use reqwest_sigv4::{Explanation, SignedRequest, Suggestion};
use serde_json::{json, Value};

use crate::args::{Args, PROGRAM};
use crate::exit::Failure;
use crate::tap::{Exchange, Head};

/// What a redacted value reads as in text (the library's marker).
const REDACTED: &str = "<redacted>";
/// What a redacted value reads as inside a URL (nothing a URL would escape).
const REDACTED_IN_URL: &str = "REDACTED";

/// stderr, with curl's -s and -S: -s silences errors, warnings and explanations, -S
/// brings errors (and explanations) back. -v output is never silenced.
pub struct Stderr<W: Write> {
    err: W,
    silent: bool,
    show_error: bool,
}

impl<W: Write> Stderr<W> {
    pub fn new(err: W, args: &Args) -> Self {
        Self {
            err,
            silent: args.silent,
            show_error: args.show_error,
        }
    }

    fn errors_shown(&self) -> bool {
        !self.silent || self.show_error
    }

    // A failed write to stderr (a closed pipe) is not worth failing the call for.

    /// `sigv4-curl: (CODE) message`, as curl words its errors, on one line (some
    /// providers' messages span several).
    pub fn error(&mut self, failure: &Failure) {
        if self.errors_shown() {
            let message: Vec<&str> = failure
                .message
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect();
            let _ = writeln!(
                self.err,
                "{PROGRAM}: ({}) {}",
                failure.code as u8,
                message.join(" ")
            );
        }
    }

    pub fn warn(&mut self, message: &str) {
        if !self.silent {
            let _ = writeln!(self.err, "{PROGRAM}: warning: {message}");
        }
    }

    /// A 403's explanation, and the flag that fixes it when there is one.
    pub fn explain(&mut self, status: StatusCode, explanation: &Explanation) {
        if !self.errors_shown() {
            return;
        }
        let _ = writeln!(self.err, "{PROGRAM}: {}: {explanation}", status.as_u16());
        if let Some(flag) = explanation.suggestion.as_ref().and_then(suggested_flag) {
            let _ = writeln!(self.err, "{PROGRAM}: try again with {flag}");
        }
    }

    /// -v output, as it is.
    pub fn verbose(&mut self, text: &str) {
        let _ = self.err.write_all(text.as_bytes());
    }
}

/// `HTTP/1.1 200 OK`, or `HTTP/2 200` as curl writes HTTP/2's (which has no reason phrase).
pub fn status_line(version: Version, status: StatusCode) -> String {
    match version {
        Version::HTTP_2 => format!("HTTP/2 {}", status.as_u16()),
        Version::HTTP_3 => format!("HTTP/3 {}", status.as_u16()),
        other => format!("{other:?} {status}"),
    }
}

/// An answer's head as -i writes it: status line, headers as received, blank line.
pub fn head_bytes(head: &Head) -> Vec<u8> {
    let mut out = format!("{}\r\n", status_line(head.version, head.status)).into_bytes();
    for (name, value) in &head.headers {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// One exchange as -v shows it: `> ` the request as signed, `< ` the answer's head.
pub fn verbose_exchange(exchange: &Exchange) -> String {
    let version = exchange
        .answer
        .as_ref()
        .map_or(Version::HTTP_11, |a| a.version);
    let mut target = exchange.url.path().to_owned();
    if let Some(query) = exchange.url.query() {
        target.push('?');
        target.push_str(&redact_query(query, false));
    }
    let mut out = format!("> {} {target} {version:?}\n", exchange.method);
    for (name, value) in request_headers(exchange, false) {
        out.push_str(&format!("> {name}: {value}\n"));
    }
    out.push_str(">\n");
    if let Some(answer) = &exchange.answer {
        out.push_str(&format!(
            "< {}\n",
            status_line(answer.version, answer.status)
        ));
        for (name, value) in &answer.headers {
            out.push_str(&format!("< {name}: {}\n", shown_header(name, value, false)));
        }
        out.push_str("<\n");
    }
    out
}

/// What was signed, as -v shows it: host and path, canonical request, string-to-sign.
pub fn verbose_signed(signed: &SignedRequest) -> String {
    format!(
        "* signed for host {} and path {}\n* canonical request:\n{}\n\n* string to sign:\n{}\n\n",
        signed.host(),
        signed.path_and_query(),
        signed.canonical_request(),
        signed.string_to_sign(),
    )
}

/// The request's headers as shown: `host` first (reqwest sends it from the URL when the
/// signer set none), then the rest, each through [`shown_header`].
fn request_headers(exchange: &Exchange, show_signature: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !exchange.headers.contains_key(HOST) {
        let host = exchange.url.host_str().unwrap_or_default();
        let host = match exchange.url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        out.push(("host".to_owned(), host));
    }
    for (name, value) in &exchange.headers {
        out.push((
            name.as_str().to_owned(),
            shown_header(name, value, show_signature),
        ));
    }
    out
}

/// A dry run's output: `METHOD URL` and the headers, or with --json one object.
pub fn dry_run(
    args: &Args,
    exchange: &Exchange,
    signed: Option<&SignedRequest>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    // The signature of a request never sent can still be sent by whoever reads it: only
    // -v, which asks to see everything, shows it.
    let show_signature = args.verbose;
    let url = shown_url(&exchange.url, show_signature);
    let headers = request_headers(exchange, show_signature);
    if args.json {
        let summary = json!({
            "method": exchange.method.as_str(),
            "url": url,
            "headers": headers,
            "signed": signed.map(signed_json),
        });
        return writeln!(out, "{summary}");
    }
    writeln!(out, "{} {url}", exchange.method)?;
    for (name, value) in headers {
        writeln!(out, "{name}: {value}")?;
    }
    Ok(())
}

/// A header's value as shown on stderr and in a dry run: the session token never, a
/// signature (in `Authorization`, or in the query of a `Location`) only when
/// `show_signature`.
pub fn shown_header(name: &HeaderName, value: &HeaderValue, show_signature: bool) -> String {
    let text = String::from_utf8_lossy(value.as_bytes());
    match name.as_str() {
        "x-amz-security-token" | "proxy-authorization" => REDACTED.to_owned(),
        "authorization" if !show_signature => redact_signature(&text),
        "location" | "content-location" => match text.split_once('?') {
            Some((before, query)) => {
                let (query, fragment) = match query.split_once('#') {
                    Some((q, f)) => (q, Some(f)),
                    None => (query, None),
                };
                let mut out = format!("{before}?{}", redact_query(query, show_signature));
                if let Some(fragment) = fragment {
                    out.push('#');
                    out.push_str(fragment);
                }
                out
            }
            None => text.into_owned(),
        },
        _ => text.into_owned(),
    }
}

/// A URL as shown: the session token's query parameter never, the signature's only when
/// `show_signature`.
pub fn shown_url(url: &Url, show_signature: bool) -> String {
    let mut shown = url.clone();
    if url.password().is_some() {
        let _ = shown.set_password(Some(REDACTED_IN_URL));
    }
    if let Some(query) = url.query() {
        shown.set_query(Some(&redact_query(query, show_signature)));
    }
    shown.to_string()
}

/// A URL that did not parse, as shown: whatever stands between the scheme's `://` and the
/// last `@` before the query, after a `:`, is taken for a password and hidden (a password
/// may hold a `/`, which leaves no parser able to find the host).
pub fn shown_url_text(text: &str) -> String {
    let Some(start) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let end = text[start..]
        .find(['?', '#'])
        .map_or(text.len(), |i| start + i);
    let Some(at) = text[start..end].rfind('@').map(|i| start + i) else {
        return text.to_owned();
    };
    match text[start..at].find(':').map(|i| start + i + 1) {
        Some(colon) => format!("{}{REDACTED_IN_URL}{}", &text[..colon], &text[at..]),
        None => text.to_owned(),
    }
}

/// `Signature=` values of an `Authorization` header replaced by the marker.
fn redact_signature(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find("Signature=") {
        let (before, after) = rest.split_at(at + "Signature=".len());
        out.push_str(before);
        out.push_str(REDACTED);
        let end = after.find([',', ' ']).unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// A query with the values of `X-Amz-Security-Token` (always) and `X-Amz-Signature`
/// (unless `show_signature`) replaced by the marker; names compared percent-decoded and
/// case-insensitively, as a verifier would read them.
fn redact_query(query: &str, show_signature: bool) -> String {
    query
        .split('&')
        .map(|piece| {
            let (name, _) = piece.split_once('=').unwrap_or((piece, ""));
            let decoded = percent_encoding::percent_decode_str(name)
                .decode_utf8_lossy()
                .to_ascii_lowercase();
            let secret = decoded == "x-amz-security-token"
                || (decoded == "x-amz-signature" && !show_signature);
            if secret {
                format!("{name}={REDACTED_IN_URL}")
            } else {
                piece.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The flag that applies a suggestion, when there is one.
pub fn suggested_flag(suggestion: &Suggestion) -> Option<String> {
    match suggestion {
        Suggestion::CloudFrontRoute { origin_url } => Some(format!("--origin {origin_url}")),
        Suggestion::SignHost { host } => Some(format!("--sign-host {host}")),
        _ => None,
    }
}

/// The JSON summary of an answer (--json).
pub fn answer_json(
    status: StatusCode,
    headers: &HeaderMap,
    signed: Option<&SignedRequest>,
    explanation: Option<&Explanation>,
    body: Option<&[u8]>,
) -> Value {
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect();
    json!({
        "status": status.as_u16(),
        "headers": headers,
        "signed": signed.map(signed_json),
        "explanation": explanation.map(explanation_json),
        "body": body.map(String::from_utf8_lossy),
    })
}

/// What was signed, as JSON: everything -v shows, and nothing secret (the session token
/// is redacted by [`SignedRequest`], the signature is not in it).
fn signed_json(signed: &SignedRequest) -> Value {
    json!({
        "algorithm": signed.algorithm(),
        "method": signed.method(),
        "host": signed.host(),
        "path_and_query": signed.path_and_query(),
        "headers": signed.headers().collect::<Vec<_>>(),
        "payload_sha256": signed.payload_sha256(),
        "amz_date": signed.amz_date(),
        "service": signed.service(),
        "region": signed.region(),
        "access_key_id": signed.access_key_id(),
        "route": format!("{:?}", signed.route()),
        "canonical_request": signed.canonical_request(),
        "string_to_sign": signed.string_to_sign(),
    })
}

fn explanation_json(explanation: &Explanation) -> Value {
    let detail = format!("{:?}", explanation.cause);
    let cause = detail
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned();
    json!({
        "cause": cause,
        "detail": detail,
        "summary": explanation.summary,
        "suggestion": explanation.suggestion.as_ref().map(|s| format!("{s:?}")),
        "suggested_flag": explanation.suggestion.as_ref().and_then(suggested_flag),
        "differences": explanation
            .differences
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_urls_password_is_never_shown() {
        let url = Url::parse("https://user:hunter2@h/p?a=1").unwrap();
        for show_signature in [false, true] {
            let shown = shown_url(&url, show_signature);
            assert_eq!(shown, "https://user:REDACTED@h/p?a=1");
        }
        // A `/` in the password: no parser finds the host, the text is hidden all the same.
        for (text, shown) in [
            (
                "https://user:se/cret@host/x?q=@",
                "https://user:REDACTED@host/x?q=@",
            ),
            ("https://user@host/", "https://user@host/"),
            ("https://host/a:b@c", "https://host/a:REDACTED@c"),
            ("not a url", "not a url"),
        ] {
            assert_eq!(shown_url_text(text), shown, "{text}");
        }
    }

    #[test]
    fn the_signature_is_shown_only_when_asked_and_the_token_never() {
        let auth = HeaderName::from_static("authorization");
        let value = HeaderValue::from_static(
            "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123",
        );
        let hidden = shown_header(&auth, &value, false);
        assert!(hidden.ends_with("Signature=<redacted>"), "{hidden}");
        assert!(hidden.contains("Credential=AKID/"), "{hidden}");
        assert!(shown_header(&auth, &value, true).ends_with("Signature=abc123"));
        let token = HeaderName::from_static("x-amz-security-token");
        let secret = HeaderValue::from_static("tok");
        assert_eq!(shown_header(&token, &secret, true), "<redacted>");

        let url: Url = "https://h/p?a=1&X-Amz-Signature=abc&X%2DAmz-Security-Token=tok&b"
            .parse()
            .unwrap();
        assert_eq!(
            shown_url(&url, false),
            "https://h/p?a=1&X-Amz-Signature=REDACTED&X%2DAmz-Security-Token=REDACTED&b"
        );
        assert_eq!(
            shown_url(&url, true),
            "https://h/p?a=1&X-Amz-Signature=abc&X%2DAmz-Security-Token=REDACTED&b"
        );
        let location = HeaderName::from_static("location");
        let presigned = HeaderValue::from_static("/next?x-amz-signature=abc#top");
        assert_eq!(
            shown_header(&location, &presigned, false),
            "/next?x-amz-signature=REDACTED#top"
        );
    }

    #[test]
    fn status_lines_read_as_curls() {
        assert_eq!(
            status_line(Version::HTTP_11, StatusCode::FORBIDDEN),
            "HTTP/1.1 403 Forbidden"
        );
        assert_eq!(status_line(Version::HTTP_2, StatusCode::OK), "HTTP/2 200");
    }
}
