//! Redaction, every rule of it in one place: nothing the crate shows (log lines, errors,
//! `Debug`, responses, explanations, the verifier's rejections) carries what could sign or
//! replay a request or log in somewhere: a signature, a session token, a presigned URL's
//! query, a URL's password.
//!
//! A query-signed request carries its signature and session token in the URL, and reqwest
//! puts that URL in its errors and responses, so every URL the crate shows is passed
//! through here first; canonical requests and `Authorization` values are shown with their
//! token and signature replaced by a marker.
//!
//! A URL's user info is shown as RFC 3986 (section 3.2.1) asks: the user name as it is,
//! the password (what follows the first `:`) replaced by `REDACTED`, so
//! `https://user:secret@host/` reads `https://user:REDACTED@host/`. One rule for every URL
//! the crate renders, parsed ([`redact_url`], [`without_query`]) or still text
//! ([`redact_url_text`]: a route URL in a `ConfigError`, a request-target the verifier
//! received).

use std::borrow::Cow;
use std::fmt;

/// What a redacted value reads as in text: canonical requests, `Debug` output, rejections.
pub(crate) const REDACTED: &str = "<redacted>";

/// What a redacted value reads as inside a URL (no characters a URL would escape).
const REDACTED_IN_URL: &str = "REDACTED";

/// The session token's query parameter, as a canonical query spells its name.
const TOKEN_PARAM_PREFIX: &str = "X-Amz-Security-Token=";
/// The session token's header line in a canonical request.
const TOKEN_HEADER_PREFIX: &str = "x-amz-security-token:";

/// Query parameters whose value signs or replays a request (the credential's access key id
/// is not a secret: [`SignedRequest`](crate::SignedRequest) shows it).
const SECRET_PARAMS: [&str; 2] = ["X-Amz-Signature", "X-Amz-Security-Token"];

/// The pieces of `query` (split on `&`) when any of them is named one of `names` (all
/// `X-Amz-…` names), matched on the percent-decoded name; `None` otherwise. The common
/// query, with no `X-Amz-` and no `%` in it, is passed over without decoding anything.
pub(crate) fn amz_params_in<'q>(query: &'q str, names: &[&str]) -> Option<Vec<(&'q str, bool)>> {
    if !may_name_amz_param(query) {
        return None;
    }
    let pieces: Vec<(&str, bool)> = query
        .split('&')
        .map(|piece| {
            let name = piece.split('=').next().unwrap_or_default();
            let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
            (piece, names.contains(&name.as_ref()))
        })
        .collect();
    pieces.iter().any(|&(_, named)| named).then_some(pieces)
}

/// Whether `query` has an `X-Amz-` in it, or a `%` (which may hide one: `X%2DAmz-…`
/// decodes to one). Every request's query is checked up to three times (planning, signing,
/// the response's URL), so this is made cheap for the common query, which has neither an
/// `X` nor a `%`: one pass with no early exit says so (wide comparisons from 32 bytes on,
/// a short loop below that); `str::contains` would set up a substring searcher each time.
fn may_name_amz_param(query: &str) -> bool {
    let bytes = query.as_bytes();
    if !bytes
        .iter()
        .fold(false, |seen, &b| seen | (b == b'%') | (b == b'X'))
    {
        return false;
    }
    bytes
        .iter()
        .enumerate()
        .any(|(i, &b)| b == b'%' || (b == b'X' && bytes[i..].starts_with(b"X-Amz-")))
}

/// `url` with its password and the value of every secret query parameter replaced by a
/// marker; borrowed when it has none (the common URL: two cheap checks, no copy).
pub(crate) fn redact_url(url: &url::Url) -> Cow<'_, url::Url> {
    let query = url
        .query()
        .and_then(|q| redact_query(q, &SECRET_PARAMS, REDACTED_IN_URL));
    if query.is_none() && url.password().is_none() {
        return Cow::Borrowed(url);
    }
    let mut out = url.clone();
    if let Some(query) = query {
        out.set_query(Some(&query));
    }
    hide_password(&mut out);
    Cow::Owned(out)
}

/// Replaces the password of `url`, if it has one, by the marker.
fn hide_password(url: &mut url::Url) {
    if url.password().is_some() {
        // Only a URL that cannot have user info refuses a password, and this one has one.
        let _ = url.set_password(Some(REDACTED_IN_URL));
    }
}

/// `text`, a URL that may not parse (a route URL as configured), with the password of its
/// user info replaced by the marker; borrowed when it has none.
///
/// The user info lies between `//` and the last `@` of the authority (up to the first
/// `/`, `?` or `#`), and its password follows its first `:`. Since the text may be
/// malformed (a password with a `/` in it does not parse), an authority with no `@` is read
/// up to the first `?` or `#` instead: a path with `:` and `@` in it may then be hidden
/// too, but a password is never shown.
pub(crate) fn redact_url_text(text: &str) -> Cow<'_, str> {
    let Some(password) = password_span(text) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..password.start]);
    out.push_str(REDACTED_IN_URL);
    out.push_str(&text[password.end..]);
    Cow::Owned(out)
}

/// `authority` (`host[:port]` as configured, which may smuggle `user:secret@` in) with
/// its password replaced by the marker, by [`redact_url_text`]'s rule.
pub(crate) fn redact_authority_text(authority: &str) -> Cow<'_, str> {
    match redact_url_text(&format!("//{authority}")) {
        Cow::Owned(shown) => Cow::Owned(shown["//".len()..].to_owned()),
        Cow::Borrowed(_) => Cow::Borrowed(authority),
    }
}

/// Where the password of the URL `text` lies, by [`redact_url_text`]'s reading.
fn password_span(text: &str) -> Option<std::ops::Range<usize>> {
    // `//` opens an authority (RFC 3986), after a scheme or not (`//user:secret@host`).
    let start = text.find("//")? + "//".len();
    let rest = &text[start..];
    let rest = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let authority = &rest[..rest.find(['/', '\\']).unwrap_or(rest.len())];
    let at = authority.rfind('@').or_else(|| rest.rfind('@'))?;
    let colon = rest[..at].find(':')?;
    (colon + 1 < at).then(|| start + colon + 1..start + at)
}

/// `query` with the value of every parameter named one of `names` replaced by `marker`;
/// `None` when it has none.
fn redact_query(query: &str, names: &[&str], marker: &str) -> Option<String> {
    let pieces = amz_params_in(query, names)?;
    let redacted: Vec<Cow<'_, str>> = pieces
        .into_iter()
        .map(|(piece, secret)| match piece.split_once('=') {
            Some((name, _)) if secret => Cow::Owned(format!("{name}={marker}")),
            _ => Cow::Borrowed(piece),
        })
        .collect();
    Some(redacted.join("&"))
}

#[cfg(feature = "verify")]
/// A request-target (`path?query`, as the verifier receives it) with the values of the
/// signature and session token parameters replaced by [`REDACTED`], and the password of an
/// absolute-form target (`http://user:secret@host/path`, as sent to a proxy) by the URL
/// marker.
pub(crate) fn redact_target(target: &str) -> Cow<'_, str> {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    };
    let redacted_query = query.and_then(|q| redact_query(q, &SECRET_PARAMS, REDACTED));
    let redacted_path = redact_url_text(path);
    if redacted_query.is_none() && matches!(redacted_path, Cow::Borrowed(_)) {
        return Cow::Borrowed(target);
    }
    match redacted_query.as_deref().or(query) {
        Some(query) => Cow::Owned(format!("{redacted_path}?{query}")),
        None => redacted_path,
    }
}

/// `canonical_request` with the session token (the `x-amz-security-token` header line and the
/// `X-Amz-Security-Token` query parameter) replaced by `<redacted>`, for display and logs.
pub fn redact_canonical_request(canonical_request: &str) -> Cow<'_, str> {
    if !canonical_request.contains(TOKEN_HEADER_PREFIX)
        && !canonical_request.contains(TOKEN_PARAM_PREFIX)
    {
        return Cow::Borrowed(canonical_request);
    }
    let mut out = String::with_capacity(canonical_request.len());
    for (i, line) in canonical_request.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if i == 2 {
            // The third line is the canonical query string.
            out.push_str(&redact_canonical_query(line));
        } else if line.starts_with(TOKEN_HEADER_PREFIX) {
            out.push_str(TOKEN_HEADER_PREFIX);
            out.push_str(REDACTED);
        } else {
            out.push_str(line);
        }
    }
    Cow::Owned(out)
}

/// A canonical query string with the session token's value replaced by [`REDACTED`].
pub(crate) fn redact_canonical_query(query: &str) -> Cow<'_, str> {
    match redact_query(query, &["X-Amz-Security-Token"], REDACTED) {
        Some(redacted) => Cow::Owned(redacted),
        None => Cow::Borrowed(query),
    }
}

#[cfg(feature = "verify")]
/// An `Authorization` header value with every `Signature=` value replaced by [`REDACTED`].
pub(crate) fn redact_authorization(value: &str) -> String {
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

/// `url` without its query and fragment, its password redacted, for the errors of a URL
/// that routes match but cannot place (`Error::Rewrite`, `Error::OutsideOriginPath`): any
/// query parameter may carry something its owner would not print. (`Error::NoRoute` shows
/// the query with its secrets redacted, as log lines do.)
pub(crate) fn without_query(url: &url::Url) -> Cow<'_, str> {
    if url.password().is_none() {
        return Cow::Borrowed(&url[..url::Position::AfterPath]);
    }
    let mut out = url.clone();
    hide_password(&mut out);
    Cow::Owned(out[..url::Position::AfterPath].to_owned())
}

/// Shows a URL with its password and secret query parameters redacted, for log lines.
pub(crate) struct Redacted<'a>(pub(crate) &'a url::Url);

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&redact_url(self.0), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_may_name_a_signing_parameter_only_with_an_x_amz_or_a_percent() {
        for (query, may) in [
            ("limit=10&offset=20&sort=name", false),
            ("", false),
            ("a=X-Am", false),
            ("Xylophone=1", false),
            ("a=1&X-Amz-Signature=abc", true),
            ("X-Amz-Date=1", true),
            ("a=%41", true),
            ("%", true),
            ("X%2DAmz-Date=1", true),
        ] {
            assert_eq!(may_name_amz_param(query), may, "{query}");
        }
    }

    #[test]
    fn secret_parameters_are_redacted_and_nothing_else() {
        let url: url::Url =
            "https://h/p?a=1&X-Amz-Credential=AKID%2F1&X-Amz-Signature=abc&X%2DAmz-Security-Token=tok%2B&b"
                .parse()
                .unwrap();
        let shown = Redacted(&url).to_string();
        assert_eq!(
            shown,
            format!("https://h/p?a=1&X-Amz-Credential=AKID%2F1&X-Amz-Signature={REDACTED_IN_URL}&X%2DAmz-Security-Token={REDACTED_IN_URL}&b")
        );
        let plain: url::Url = "https://h/p?a=%2F&X-Amz-Date=1".parse().unwrap();
        assert!(matches!(redact_url(&plain), Cow::Borrowed(_)));
    }

    #[test]
    fn a_urls_password_is_redacted_and_its_user_name_kept() {
        let url: url::Url = "https://user:secret@h:8443/p?a=1&X-Amz-Signature=abc#f"
            .parse()
            .unwrap();
        assert_eq!(
            Redacted(&url).to_string(),
            "https://user:REDACTED@h:8443/p?a=1&X-Amz-Signature=REDACTED#f"
        );
        assert_eq!(without_query(&url), "https://user:REDACTED@h:8443/p");
        // A user name alone is not a secret; without a password nothing is copied.
        let plain: url::Url = "https://user@h/p?a=1".parse().unwrap();
        assert!(matches!(redact_url(&plain), Cow::Borrowed(_)));
        assert!(matches!(
            without_query(&plain),
            Cow::Borrowed("https://user@h/p")
        ));
        let url: url::Url = "http://:secret@h/".parse().unwrap();
        assert_eq!(Redacted(&url).to_string(), "http://:REDACTED@h/");
    }

    #[test]
    fn a_password_in_url_text_is_redacted_even_where_the_text_does_not_parse() {
        for (text, shown) in [
            ("https://user:secret@h/p", "https://user:REDACTED@h/p"),
            (
                "https://user:s@cret@h/p?a=b@c",
                "https://user:REDACTED@h/p?a=b@c",
            ),
            // A `/` in the password: no URL parser would find the host.
            ("https://user:se/cret@h/p", "https://user:REDACTED@h/p"),
            ("//user:secret@h", "//user:REDACTED@h"),
            ("ftp://user:secret@h", "ftp://user:REDACTED@h"),
        ] {
            assert_eq!(redact_url_text(text), shown, "{text}");
        }
        for text in [
            "https://user@h/p",
            "https://h:8443/p",
            "https://h/p?next=a:b@c",
            "https://user:@h/",
            "/p",
            "not a url",
        ] {
            assert!(matches!(redact_url_text(text), Cow::Borrowed(_)), "{text}");
        }
        assert_eq!(redact_authority_text("u:secret@h:1"), "u:REDACTED@h:1");
        assert!(matches!(redact_authority_text("h:1"), Cow::Borrowed("h:1")));
    }

    #[test]
    fn a_session_token_in_a_canonical_requests_query_or_headers_is_redacted() {
        // Presigned: the token is in the query only.
        let in_query =
            "GET\n/p\nX-Amz-Date=1&X-Amz-Security-Token=sEcReT\nhost:h\n\nhost\nUNSIGNED-PAYLOAD";
        assert_eq!(
            redact_canonical_request(in_query),
            format!("GET\n/p\nX-Amz-Date=1&X-Amz-Security-Token={REDACTED}\nhost:h\n\nhost\nUNSIGNED-PAYLOAD")
        );
        let in_headers = "GET\n/p\n\nhost:h\nx-amz-security-token:sEcReT\n\nhost;x-amz-security-token\nUNSIGNED-PAYLOAD";
        assert_eq!(
            redact_canonical_request(in_headers),
            format!("GET\n/p\n\nhost:h\nx-amz-security-token:{REDACTED}\n\nhost;x-amz-security-token\nUNSIGNED-PAYLOAD")
        );
        let without = "GET\n/p\nX-Amz-Date=1\nhost:h\n\nhost\nUNSIGNED-PAYLOAD";
        assert!(matches!(
            redact_canonical_request(without),
            Cow::Borrowed(_)
        ));
    }

    #[cfg(feature = "verify")]
    #[test]
    fn targets_and_authorization_values_are_redacted() {
        assert_eq!(
            redact_target("/p?a=1&X-Amz-Signature=abc&X-Amz-Security%2DToken=t"),
            format!("/p?a=1&X-Amz-Signature={REDACTED}&X-Amz-Security%2DToken={REDACTED}")
        );
        assert!(matches!(redact_target("/p?a=1"), Cow::Borrowed(_)));
        // An absolute-form target, as a proxy receives it.
        assert_eq!(
            redact_target("http://u:secret@h/p?X-Amz-Signature=abc"),
            format!("http://u:REDACTED@h/p?X-Amz-Signature={REDACTED}")
        );
        assert_eq!(
            redact_target("http://u:secret@h/p"),
            "http://u:REDACTED@h/p"
        );
        assert_eq!(
            redact_target("http://u:secret@h/p?a=1"),
            "http://u:REDACTED@h/p?a=1"
        );
        assert_eq!(
            redact_authorization("A Signature=abc, Signature=def,x=1"),
            format!("A Signature={REDACTED}, Signature={REDACTED},x=1")
        );
    }
}
