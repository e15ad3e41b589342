//! Redaction, every rule of it: what leaves the middleware besides the request (URLs in log
//! lines, errors and responses) never carries what could sign or replay a request.
//!
//! A query-signed request carries its signature and session token in the URL, and reqwest
//! puts that URL in its errors and responses, so every URL the crate shows is passed
//! through here first.

use std::borrow::Cow;
use std::fmt;

/// What a redacted value reads as (no characters a URL would escape).
const REDACTED: &str = "REDACTED";

/// Query parameters whose value signs or replays a request (the credential's access key id
/// is not a secret: [`SignedRequest`](crate::SignedRequest) shows it).
const SECRET_PARAMS: [&str; 2] = ["X-Amz-Signature", "X-Amz-Security-Token"];

/// The pieces of `query` (split on `&`) when any of them is named one of `names` (all
/// `X-Amz-…` names), matched on the percent-decoded name; `None` otherwise. The common
/// query, with no `X-Amz-` and no `%` in it, is passed over without decoding anything.
pub(crate) fn amz_params_in<'q>(query: &'q str, names: &[&str]) -> Option<Vec<(&'q str, bool)>> {
    // `%` may hide a name (`X%2DAmz-…` decodes to one).
    if !query.contains("X-Amz-") && !query.contains('%') {
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

/// `url` with the value of every secret query parameter replaced by a marker; borrowed
/// when there is none.
pub(crate) fn redact_url(url: &url::Url) -> Cow<'_, url::Url> {
    let Some(pieces) = url.query().and_then(|q| amz_params_in(q, &SECRET_PARAMS)) else {
        return Cow::Borrowed(url);
    };
    let redacted: Vec<Cow<'_, str>> = pieces
        .into_iter()
        .map(|(piece, secret)| match piece.split_once('=') {
            Some((name, _)) if secret => Cow::Owned(format!("{name}={REDACTED}")),
            _ => Cow::Borrowed(piece),
        })
        .collect();
    let mut out = url.clone();
    out.set_query(Some(&redacted.join("&")));
    Cow::Owned(out)
}

/// `url` without its query and fragment, for error messages, which may travel further
/// than logs: any query parameter may carry something its owner would not print.
pub(crate) fn without_query(url: &url::Url) -> &str {
    &url[..url::Position::AfterPath]
}

/// Shows a URL with its secret query parameters redacted, for log lines.
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
    fn secret_parameters_are_redacted_and_nothing_else() {
        let url: url::Url =
            "https://h/p?a=1&X-Amz-Credential=AKID%2F1&X-Amz-Signature=abc&X%2DAmz-Security-Token=tok%2B&b"
                .parse()
                .unwrap();
        let shown = Redacted(&url).to_string();
        assert_eq!(
            shown,
            format!("https://h/p?a=1&X-Amz-Credential=AKID%2F1&X-Amz-Signature={REDACTED}&X%2DAmz-Security-Token={REDACTED}&b")
        );
        let plain: url::Url = "https://h/p?a=%2F&X-Amz-Date=1".parse().unwrap();
        assert!(matches!(redact_url(&plain), Cow::Borrowed(_)));
    }
}
