//! Forbidden answers: what a verifier's 403 says, read from its head and body (API
//! Gateway's JSON, S3's XML, Lambda's, AppSync's and the JSON and query protocols' shapes),
//! and whether it is a clock problem or a refused session token the middleware can fix.

use std::time::SystemTime;

use http::HeaderMap;

use crate::canonical;

/// API Gateway's message for a request that carried no signature.
pub(crate) const MISSING_TOKEN: &str = "Missing Authentication Token";
/// S3's code for a request dated too far from its clock.
pub(crate) const S3_SKEW: &str = "RequestTimeTooSkewed";

/// Most bytes of a 403 body read to explain it: API Gateway's are a few hundred bytes. A
/// larger body is not parsed, and reaches the caller whole.
pub(crate) const MAX_INSPECTED_BODY: usize = 64 * 1024;

/// What a 403 said, read without changing the response.
#[derive(Debug, Default)]
pub(crate) struct Inspected {
    /// The error message: API Gateway's `message` (or `Message`), AppSync's
    /// `errors[0].message`, S3's and the query protocol's `<Message>`.
    pub(crate) message: Option<String>,
    /// The response's `Date` header.
    pub(crate) date: Option<SystemTime>,
    /// The error code where the body names one: S3's and the query protocol's `<Code>`, a
    /// JSON body's `__type` or AppSync's `errorType` (without namespace).
    pub(crate) code: Option<String>,
    /// S3's `<CanonicalRequest>` of a `SignatureDoesNotMatch`, session token redacted.
    pub(crate) canonical_request: Option<String>,
    /// S3's `<StringToSign>` of a `SignatureDoesNotMatch`.
    pub(crate) string_to_sign: Option<String>,
    /// S3's `<ServerTime>` of a `RequestTimeTooSkewed`: the verifier's clock.
    pub(crate) server_time: Option<SystemTime>,
}

impl Inspected {
    /// What the head alone says: the `Date`, and for API Gateway's
    /// `x-amzn-ErrorType: MissingAuthenticationTokenException` the message that type always
    /// carries (so a request sent unsigned is explained without reading its body).
    pub(crate) fn from_head(headers: &HeaderMap) -> Self {
        let missing_token = headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("MissingAuthenticationTokenException"));
        Inspected {
            message: missing_token.then(|| MISSING_TOKEN.to_owned()),
            date: headers
                .get(http::header::DATE)
                .and_then(|d| d.to_str().ok())
                .and_then(|d| httpdate::parse_http_date(d).ok()),
            ..Inspected::default()
        }
    }

    /// The verifier's clock, when the 403 says our signature's time is off: API Gateway's
    /// `Signature expired` / `not yet current` (its `Date` header), S3's
    /// `RequestTimeTooSkewed` (its `<ServerTime>`).
    pub(crate) fn clock_skew_server_time(&self) -> Option<SystemTime> {
        if self.code.as_deref() == Some(S3_SKEW) {
            return self.server_time.or(self.date);
        }
        let message = self.message.as_deref()?;
        if is_api_gateway_skew(message) {
            self.date
        } else {
            None
        }
    }

    /// Whether the verifier refused the session token as expired or revoked: S3's and the
    /// query protocol's `ExpiredToken` / `InvalidToken`, the JSON protocols'
    /// `ExpiredTokenException`, API Gateway's "The security token included in the request
    /// is expired" / "… is invalid". Fresh credentials from the provider may be accepted.
    pub(crate) fn security_token_refused(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some("ExpiredToken" | "InvalidToken" | "ExpiredTokenException")
        ) || self.message.as_deref().is_some_and(|m| {
            m.contains("security token included in the request is invalid")
                || m.contains("security token included in the request is expired")
        })
    }

    /// Reads a 403 body, whichever verifier wrote it: JSON (API Gateway, Lambda, AppSync,
    /// the JSON protocols) or XML (S3, the query protocol).
    pub(crate) fn read_body(&mut self, body: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            self.read_json(&value);
        } else if let Ok(text) = std::str::from_utf8(body) {
            self.read_xml(text);
        }
    }

    fn read_json(&mut self, value: &serde_json::Value) {
        // AppSync: `{"errors": [{"errorType": …, "message": …}]}`.
        let error = value
            .get("errors")
            .and_then(|errors| errors.get(0))
            .unwrap_or(value);
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|k| error.get(*k).and_then(|v| v.as_str()))
                .map(str::to_owned)
        };
        self.message = text(&["message", "Message"]);
        // `com.amazon.coral.service#UnrecognizedClientException`, `X:http://…`: the name.
        self.code = text(&["__type", "errorType", "code"]).map(|code| {
            let name = code.rsplit('#').next().unwrap_or(&code);
            name.split(':').next().unwrap_or(name).to_owned()
        });
    }

    fn read_xml(&mut self, text: &str) {
        self.code = xml_element(text, "Code");
        self.message = xml_element(text, "Message");
        self.canonical_request = xml_element(text, "CanonicalRequest")
            .map(|c| crate::redact::redact_canonical_request(&c).into_owned());
        self.string_to_sign = xml_element(text, "StringToSign");
        self.server_time = xml_element(text, "ServerTime").and_then(|t| parse_iso8601(&t));
    }
}

/// The text of the first `<name>…</name>` in `text`, entities decoded. S3's error bodies are
/// flat, so this is all the XML they need; a truncated body yields only its closed elements.
fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&close)?;
    Some(
        text[start..start + len]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// S3's `<ServerTime>` (`2015-06-04T22:26:16Z`, ISO 8601 extended, fractions ignored).
fn parse_iso8601(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (whole, _fraction) = s
        .strip_suffix('Z')?
        .split_once('.')
        .unwrap_or((s.strip_suffix('Z')?, ""));
    let basic: String = whole.chars().filter(|c| *c != '-' && *c != ':').collect();
    canonical::parse_amz_date(&format!("{basic}Z"))
}

pub(crate) fn is_api_gateway_skew(message: &str) -> bool {
    message.starts_with("Signature expired") || message.starts_with("Signature not yet current")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_server_time_and_entities() {
        assert_eq!(
            parse_iso8601("2015-06-04T22:26:16Z"),
            canonical::parse_amz_date("20150604T222616Z")
        );
        assert_eq!(
            parse_iso8601("2015-06-04T22:26:16.123Z"),
            canonical::parse_amz_date("20150604T222616Z")
        );
        assert_eq!(parse_iso8601("yesterday"), None);
        assert_eq!(
            xml_element(
                "<Message>a &lt;b&gt; &quot;c&quot; &amp;amp;</Message>",
                "Message"
            )
            .as_deref(),
            Some("a <b> \"c\" &amp;")
        );
        // A body cut off inside an element yields only the closed ones.
        assert_eq!(xml_element("<Code>X</Code><Message>cut", "Message"), None);
    }
}
