//! The crate's error types: [`ConfigError`] when a middleware is built, [`Error`] when a
//! request is signed.

use std::time::Duration;

/// A boxed error from a body stream or a credentials provider.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a [`SigV4Middleware`](crate::SigV4Middleware) could not be built.
///
/// Every misconfiguration is caught here, before the first request, so that a typo in a
/// route never turns into a request that is silently sent unsigned.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A route's URL could not be parsed.
    #[error("route URL {url:?} is not a valid URL: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What the URL parser said.
        reason: String,
    },
    /// A route's URL is not `http` or `https`.
    #[error("route URL {url:?} must use http or https, not {scheme:?}")]
    UnsupportedScheme {
        /// The URL as given.
        url: String,
        /// The scheme it has.
        scheme: String,
    },
    /// A route's URL, or a host to sign for, has no host.
    #[error("route URL {url:?} has no host")]
    EmptyHost {
        /// The URL or host as given.
        url: String,
    },
    /// A route's URL carries a query string, fragment or credentials, which a base URL cannot.
    #[error("route URL {url:?} must not carry a query, fragment or user info")]
    UnexpectedUrlParts {
        /// The URL as given.
        url: String,
    },
    /// A CloudFront route whose alias and origin are the same place.
    #[error("CloudFront route: the alias {alias:?} and the origin are the same URL")]
    AliasEqualsOrigin {
        /// The alias base URL.
        alias: String,
    },
    /// A host to sign for is not a valid `Host` header value.
    #[error("{host:?} is not a valid host to sign for")]
    InvalidSigningHost {
        /// The host as given.
        host: String,
    },
    /// A service name or region is empty or contains characters a credential scope cannot.
    #[error("{what} {value:?} is not valid in a SigV4 credential scope")]
    InvalidScope {
        /// `"service"` or `"region"`.
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// Two routes match exactly the same requests.
    #[error("two routes match the same requests: {pattern}")]
    DuplicateRoute {
        /// The pattern both routes match.
        pattern: String,
    },
    /// A presigned validity under one second (`X-Amz-Expires` counts whole seconds, so it
    /// would be 0) or beyond SigV4's 7 days.
    #[error("presigned validity {expires:?} must be at least one second and at most 7 days")]
    InvalidExpiry {
        /// The validity asked for.
        expires: Duration,
    },
    /// Static credentials with an empty access key id or secret key.
    #[error("credentials have an empty access key id or secret access key")]
    EmptyCredentials,
    /// No credentials provider was configured and the `aws-config` feature is off.
    #[error("no credentials provider configured (enable the `aws-config` feature for the default chain)")]
    NoCredentials,
    /// A wildcard route whose `*.` would stand for a public suffix or a domain AWS shares
    /// among its customers (`*.com`, `*.amazonaws.com`, `*.execute-api.us-east-1.amazonaws.com`):
    /// every host under it would receive the access key id, the session token and signed
    /// requests.
    #[error("route URL {url:?}: the wildcard is too broad ({reason})")]
    WildcardTooBroad {
        /// The URL as given.
        url: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// No route was configured, so the middleware would never sign anything.
    #[error("no route configured: add at least one Route, or nothing is ever signed")]
    NoRoutes,
}

/// Why a request could not be signed. Nothing is sent when this is returned.
///
/// The middleware returns it as `reqwest_middleware::Error::Middleware`; get it back with
/// [`Error::from_middleware`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The body is larger than the configured limit for buffering.
    #[error("request body exceeds the signing buffer limit of {limit} bytes (raise it with SigV4MiddlewareBuilder::body_limit)")]
    BodyTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// Reading a streaming body failed.
    #[error("reading the request body for signing failed: {0}")]
    BodyRead(#[source] BoxError),
    /// The credentials provider failed and no still-valid credentials were cached.
    #[error("no AWS credentials available: {message}")]
    CredentialsUnavailable {
        /// The provider's message (providers do not put secrets in their errors).
        message: String,
    },
    /// The credentials provider did not answer in time.
    #[error("the AWS credentials provider did not answer within {0:?}")]
    CredentialsTimeout(Duration),
    /// The provider returned credentials with an empty access key id or secret key.
    #[error("the AWS credentials provider returned an empty access key id or secret access key")]
    EmptyCredentials,
    /// The provider returned credentials that had already expired: they are not used to
    /// sign, and nothing is sent.
    #[error("the AWS credentials provider returned credentials that expired at {} (already past)", httpdate::fmt_http_date(*.expiry))]
    CredentialsExpired {
        /// When the credentials expired.
        expiry: std::time::SystemTime,
    },
    /// The credentials provider panicked. Its panic message is not repeated (it is the
    /// provider's text and could quote anything it held).
    #[error("the AWS credentials provider panicked")]
    CredentialsProviderPanicked,
    /// A query parameter's percent-escapes decode to bytes that are not UTF-8: signers and
    /// verifiers disagree on how to sign those.
    #[error("query parameter {parameter:?} has percent-escapes that are not UTF-8 and cannot be signed reliably")]
    UnsignableQuery {
        /// The raw (encoded) parameter name or value.
        parameter: String,
    },
    /// A header that would be signed has a value that is not visible ASCII text.
    #[error("header {name:?} has a value that cannot be signed (not visible ASCII text)")]
    InvalidHeaderValue {
        /// The header's name.
        name: String,
    },
    /// The request carries a `Host` header other than the host its route signs for. It
    /// would be sent as it is while the signature covers another host: a certain 403.
    /// Use [`Route::host_override`](crate::Route::host_override) to send and sign another
    /// `Host`.
    #[error("the request's Host header {sent:?} differs from the host its route signs for ({signed:?}): use Route::host_override to send and sign another Host")]
    HostHeaderMismatch {
        /// The `Host` header on the request.
        sent: String,
        /// The host the route signs for.
        signed: String,
    },
    /// No region could be determined for the request.
    #[error("no signing region for host {host:?}: set one on the route or the builder")]
    MissingRegion {
        /// The host the request is signed for.
        host: String,
    },
    /// A per-request override named an invalid service or region.
    #[error("{what} {value:?} is not valid in a SigV4 credential scope")]
    InvalidScope {
        /// `"service"` or `"region"`.
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// The signing library refused the request.
    #[error("signing failed: {0}")]
    Signing(String),
    /// A request to presign matches no route.
    #[error("no route matches {url}: nothing to presign it for")]
    NoRoute {
        /// The request's URL.
        url: String,
    },
    /// A presigned validity under one second (`X-Amz-Expires` counts whole seconds, so it
    /// would be 0) or beyond SigV4's 7 days.
    #[error("presigned validity {expires:?} must be at least one second and at most 7 days")]
    InvalidExpiry {
        /// The validity asked for.
        expires: Duration,
    },
    /// A streaming body cannot be hashed into a presigned URL.
    #[error("a request with a streaming body cannot be presigned (give it an in-memory body)")]
    StreamingBodyNotPresignable,
    /// The URL could not be rewritten for its route.
    #[error("could not rewrite the request URL for its route: {0}")]
    Rewrite(String),
    /// The reqwest client under the middleware followed a redirect by itself: the request
    /// went on to another URL with a signature made for the first one, and with its
    /// `X-Amz-Date` and `X-Amz-Security-Token` (reqwest strips only `Authorization` from a
    /// cross-host hop). The response is not returned. Build the client with redirects off
    /// ([`SigV4Middleware::client`](crate::SigV4Middleware::client), or
    /// `redirect(reqwest::redirect::Policy::none())`) and let the middleware follow them.
    #[error("the reqwest client followed a redirect from {from} to {to} by itself, carrying a signature (and session token) made for {from}; build it with redirect(reqwest::redirect::Policy::none()) (SigV4Middleware::client does) so that the middleware follows redirects and signs each hop for its own URL")]
    ClientFollowedRedirect {
        /// Scheme, host and port the request was signed for and sent to.
        from: String,
        /// Scheme, host and port the client's redirects ended at.
        to: String,
    },
    /// A body hash was asked for (`Route::unsigned_payload(false)`) in a presigned request to
    /// a service that verifies presigned URLs over `UNSIGNED-PAYLOAD` (S3): no URL it would
    /// accept can carry the hash, so the body would go unprotected.
    #[error("service {service:?} verifies presigned URLs over UNSIGNED-PAYLOAD: a body hash cannot be signed into the URL (drop unsigned_payload(false) from the route, or sign in headers)")]
    PayloadHashNotPresignable {
        /// The service signed for.
        service: String,
    },
}

impl Error {
    /// The crate's error inside a `reqwest_middleware::Error`, if it is one.
    ///
    /// ```
    /// # fn demo(err: reqwest_middleware::Error) {
    /// if let Some(reqwest_sigv4::Error::BodyTooLarge { limit }) =
    ///     reqwest_sigv4::Error::from_middleware(&err)
    /// {
    ///     eprintln!("body over {limit} bytes");
    /// }
    /// # }
    /// ```
    ///
    /// Behind `reqwest-retry`, the error arrives wrapped in its `RetryError`; unwrap that
    /// first:
    ///
    /// ```
    /// fn sigv4_error(err: &reqwest_middleware::Error) -> Option<&reqwest_sigv4::Error> {
    ///     use reqwest_retry::RetryError;
    ///     if let reqwest_middleware::Error::Middleware(inner) = err {
    ///         if let Some(RetryError::Error(e) | RetryError::WithRetries { err: e, .. }) =
    ///             inner.downcast_ref::<RetryError>()
    ///         {
    ///             return reqwest_sigv4::Error::from_middleware(e);
    ///         }
    ///     }
    ///     reqwest_sigv4::Error::from_middleware(err)
    /// }
    /// ```
    ///
    /// With the `reqwest-012` feature, a reqwest-middleware 0.4 error works the same way.
    pub fn from_middleware<E: sealed::MiddlewareError>(err: &E) -> Option<&Error> {
        err.sigv4_error()
    }
}

/// The reqwest-middleware error types [`Error::from_middleware`] looks into (0.5, and 0.4
/// with the `reqwest-012` feature): implemented by the crate only.
pub(crate) mod sealed {
    /// A reqwest-middleware error that may hold this crate's [`Error`](super::Error).
    pub trait MiddlewareError {
        /// The crate's error inside, if it is one.
        fn sigv4_error(&self) -> Option<&super::Error>;
    }
}

/// Renders an error and its sources on one line, the way providers' messages read best.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
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
    fn from_middleware_finds_the_crate_error() {
        let err: reqwest_middleware::Error = Error::BodyTooLarge { limit: 10 }.into();
        assert!(matches!(
            Error::from_middleware(&err),
            Some(Error::BodyTooLarge { limit: 10 })
        ));
        assert!(err.to_string().contains("10 bytes"));
    }

    #[test]
    fn error_chain_joins_sources_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let err = Outer(std::io::Error::other("inner cause"));
        assert_eq!(error_chain(&err), "outer: inner cause");
    }
}
