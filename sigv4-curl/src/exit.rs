//! Exit codes (curl's where curl has one) and which error gets which: the one place that
//! decides, so that `--help`'s table and the program agree.

use std::error::Error as StdError;

/// Why the program ends with something other than an HTTP answer (or with `-f`, an
/// HTTP error). The numbers are the ones `--help` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// Any other error.
    Other = 1,
    /// A command-line value the program cannot use (clap's own errors exit 2 too).
    Usage = 2,
    /// curl's CURLE_URL_MALFORMAT.
    UrlMalformed = 3,
    /// curl's CURLE_COULDNT_RESOLVE_HOST.
    Resolve = 6,
    /// curl's CURLE_COULDNT_CONNECT.
    Connect = 7,
    /// curl's CURLE_HTTP_RETURNED_ERROR (`-f`).
    HttpError = 22,
    /// curl's CURLE_WRITE_ERROR.
    Write = 23,
    /// curl's CURLE_READ_ERROR.
    Read = 26,
    /// curl's CURLE_OPERATION_TIMEDOUT.
    Timeout = 28,
    /// curl's CURLE_SSL_CONNECT_ERROR.
    Tls = 35,
    /// curl's CURLE_TOO_MANY_REDIRECTS.
    TooManyRedirects = 47,
    /// curl's CURLE_RECV_ERROR.
    Recv = 56,
    /// The request cannot be signed (no curl code: ours).
    Signing = 80,
    /// No usable credentials (no curl code: ours).
    Credentials = 81,
}

#[cfg(test)]
impl Code {
    /// Every code but 0 (an HTTP answer), as `--help` lists them.
    pub const ALL: [Code; 14] = [
        Code::Other,
        Code::Usage,
        Code::UrlMalformed,
        Code::Resolve,
        Code::Connect,
        Code::HttpError,
        Code::Write,
        Code::Read,
        Code::Timeout,
        Code::Tls,
        Code::TooManyRedirects,
        Code::Recv,
        Code::Signing,
        Code::Credentials,
    ];
}

/// An error that ends the program: its exit code and its one-line message.
#[derive(Debug)]
pub struct Failure {
    /// The exit code.
    pub code: Code,
    /// What went wrong, on one line, without the program's name.
    pub message: String,
}

impl Failure {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// A failure of the middleware stack's `send`: the signer's error (signing or
    /// credentials), or reqwest's (the transport).
    pub fn from_send(err: &reqwest_middleware::Error) -> Self {
        match err {
            reqwest_middleware::Error::Reqwest(e) => Self::from_transport(e),
            reqwest_middleware::Error::Middleware(_) => {
                match reqwest_sigv4::Error::from_middleware(err) {
                    Some(e) => Self::from_signer(e),
                    None => Self::new(Code::Other, error_chain(err)),
                }
            }
        }
    }

    /// A failure of the signer: no usable credentials, or a request it cannot sign.
    pub fn from_signer(err: &reqwest_sigv4::Error) -> Self {
        let code = match err.kind() {
            reqwest_sigv4::ErrorKind::Credentials => Code::Credentials,
            _ => Code::Signing,
        };
        Self::new(code, error_chain(err))
    }

    /// A failure to build the signer from the flags.
    pub fn from_config(err: &reqwest_sigv4::ConfigError) -> Self {
        let code = match err.kind() {
            reqwest_sigv4::ErrorKind::Credentials => Code::Credentials,
            _ => Code::Signing,
        };
        Self::new(code, error_chain(err))
    }

    /// A failure of reqwest: connecting, waiting, reading.
    pub fn from_transport(err: &reqwest::Error) -> Self {
        Self::new(transport_code(err), error_chain(err))
    }
}

/// reqwest says timeout, connect or body, not which connect failure: its sources do. A
/// timeout is a `TimedOut`; hyper-util names a failed lookup `dns error`; rustls's errors
/// (a refused certificate, a failed handshake, an alert) come as they are, and are known
/// here only by their words, which no socket error uses.
fn transport_code(err: &reqwest::Error) -> Code {
    if err.is_timeout() {
        return Code::Timeout;
    }
    if err.is_connect() {
        let mut source: Option<&(dyn StdError + 'static)> = err.source();
        while let Some(e) = source {
            let text = e.to_string();
            if text.starts_with("dns error") {
                return Code::Resolve;
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::TimedOut {
                    return Code::Timeout;
                }
            }
            let text = text.to_ascii_lowercase();
            let tls_words = [
                "certificate",
                "tls",
                "handshake",
                "alert",
                "corrupt message",
                "peer is incompatible",
                "peer misbehaved",
            ];
            if tls_words.iter().any(|word| text.contains(word)) {
                return Code::Tls;
            }
            source = e.source();
        }
        return Code::Connect;
    }
    if err.is_body() || err.is_decode() || err.is_request() {
        return Code::Recv;
    }
    Code::Other
}

/// An error and its sources on one line (a source already quoted by its parent is not
/// repeated).
pub fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = next.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_errors_and_signing_errors_have_their_own_codes() {
        let credentials = Failure::from_signer(&reqwest_sigv4::Error::EmptyCredentials);
        assert_eq!(credentials.code as u8, 81);
        let signing = Failure::from_signer(&reqwest_sigv4::Error::UnsignableQuery {
            parameter: "%FF".into(),
        });
        assert_eq!(signing.code as u8, 80);
        let middleware: reqwest_middleware::Error = reqwest_sigv4::Error::EmptyCredentials.into();
        assert_eq!(Failure::from_send(&middleware).code, Code::Credentials);
    }

    #[test]
    fn error_chain_quotes_each_source_once() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("outer")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::other("inner"));
        assert_eq!(error_chain(&err), "outer: inner");
    }
}
