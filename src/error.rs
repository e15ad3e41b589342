//! The crate's error types: [`ConfigError`] when a middleware is built, [`Error`] when a
//! request is signed.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A boxed error from a body stream or a credentials provider.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, by what the caller can do about it: [`Error::kind`] and
/// [`ConfigError::kind`] answer it, so that code can branch on it without matching every
/// variant (new variants get a kind, new kinds are rare). Shaped like
/// [`std::io::ErrorKind`]; the same mistake has the same kind whether the builder or a
/// request found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The middleware's settings, or a request's [`SigningOverride`](crate::SigningOverride),
    /// are wrong: a route URL, a service or region, a presigned validity, a missing region.
    /// Fix the code or configuration; retrying cannot help.
    Configuration,
    /// No usable credentials: the provider failed, timed out, panicked, or returned empty
    /// or expired credentials, or none was configured. A provider's failure may be
    /// transient (a later request calls it again); empty credentials are a setup mistake.
    Credentials,
    /// The request body cannot be hashed: larger than
    /// [`body_limit`](crate::SigV4MiddlewareBuilder::body_limit), a stream that failed while
    /// read, or a stream given to [`presign`](crate::SigV4Middleware::presign). Raise the
    /// limit, send an in-memory body, or retry with a stream that can be read.
    Body,
    /// The request as it is cannot be signed for its route: a header or query value SigV4
    /// cannot carry reliably, a `Host` header other than the one signed, an `Authorization`
    /// header of its own where the signature goes, a URL its route cannot place, or (to
    /// presign) no route at all. Change the request.
    Request,
    /// The reqwest client followed a redirect by itself with the signature on. Build it
    /// with redirects off so that the middleware follows and re-signs them.
    Redirect,
    /// The signing library refused the request for a reason this crate does not check
    /// beforehand: worth a bug report, with the error's sources.
    Signing,
}

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
    /// The same mistake as [`Error::InvalidScope`], found at build time.
    #[error(fmt = scope_message)]
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
    /// would be 0) or beyond SigV4's 7 days. The same mistake as [`Error::InvalidExpiry`],
    /// found at build time (a route's `presign`).
    #[error(fmt = expiry_message)]
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
    /// A route signs an AWS host (under `amazonaws.com`, `api.aws`, `on.aws`, …) whose
    /// service the crate cannot infer, and neither the route nor the builder names one:
    /// signing for a guessed service would only earn a 403. Set
    /// [`Route::service`](crate::Route::service) (also when requests override it), or the
    /// builder's [`service`](crate::SigV4MiddlewareBuilder::service). The same mistake as
    /// [`Error::UnknownAwsService`], found at build time (a route with a fixed host).
    #[error(fmt = unknown_service_message)]
    UnknownAwsService {
        /// The host signed for.
        host: String,
    },
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
        /// The provider's message (providers do not put secrets in their errors); the
        /// provider's error itself is its source.
        #[source]
        message: ProviderMessage,
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
    /// A per-request override named an invalid service or region: the same mistake as
    /// [`ConfigError::InvalidScope`], found on a request.
    #[error(fmt = scope_message)]
    InvalidScope {
        /// `"service"` or `"region"`.
        what: &'static str,
        /// The value as given.
        value: String,
    },
    /// The signing library refused the request; its error is the source.
    #[error("signing failed: {0}")]
    Signing(#[source] BoxError),
    /// A request to presign matches no route.
    #[error("no route matches {url}: nothing to presign it for")]
    NoRoute {
        /// The request's URL.
        url: String,
    },
    /// A validity given to [`presign`](crate::SigV4Middleware::presign) under one second
    /// or beyond SigV4's 7 days: the same mistake as [`ConfigError::InvalidExpiry`].
    #[error(fmt = expiry_message)]
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
    /// The answer to a [`Route::host_override`](crate::Route::host_override) request came
    /// over HTTP/2 (or later), which carries the host as `:authority`, taken by reqwest
    /// from the URL: the request went out naming two hosts, the URL's and the signed `Host`
    /// beside it, and the server verified the signature for whichever it picked (most pick
    /// `:authority`, which was not signed). The request was sent; its answer, unless a
    /// success (2xx: the server verified the signed `Host`), is not returned. A host override
    /// needs HTTP/1.1: build the client with `http1_only()`
    /// ([`SigV4Middleware::client`](crate::SigV4Middleware::client) and
    /// [`client_with`](crate::SigV4Middleware::client_with) do when a route overrides the
    /// host).
    #[error("the request was sent over {version}, which carries the host as :authority, taken from the URL ({sent_to}), while the route signed and sent Host {signed}: the server saw two hosts; a host override needs HTTP/1.1: build the reqwest client with http1_only() (SigV4Middleware::client and client_with do when a route overrides the host)")]
    HostOverrideOverHttp2 {
        /// The HTTP version the answer came over (`HTTP/2.0`, `HTTP/3.0`).
        version: String,
        /// The URL's host and port: what went as `:authority`.
        sent_to: String,
        /// The `Host` the route signed and sent.
        signed: String,
    },
    /// A body hash was asked for (`Route::unsigned_payload(false)`) in a presigned request to
    /// a service that verifies presigned URLs over `UNSIGNED-PAYLOAD` (S3): no URL it would
    /// accept can carry the hash, so the body would go unprotected.
    #[error("service {service:?} verifies presigned URLs over UNSIGNED-PAYLOAD: a body hash cannot be signed into the URL (drop unsigned_payload(false) from the route, or sign in headers)")]
    PayloadHashNotPresignable {
        /// The service signed for.
        service: String,
    },
    /// The request carries an `Authorization` header of its own (anything but a SigV4
    /// signature) on a route that signs in headers: the signature goes in that header, so
    /// the caller's credential would be replaced and never reach the server. Remove the
    /// header, send the credential in another header the service reads, or sign the route
    /// in the query ([`Route::sign_in_query`](crate::Route::sign_in_query)), which sends
    /// the header as it is.
    ///
    /// reqwest's request builder (`client.get("https://user:password@host/")`) turns a
    /// URL's user info into a `Basic` `Authorization` header, so such a URL on a route that
    /// signs in headers is refused with this error. An `Authorization` header that is a
    /// SigV4 signature (a signed request sent again) is replaced, as any earlier signature.
    #[error(fmt = authorization_message)]
    AuthorizationHeaderSet {
        /// The header's scheme (`"Basic"`, `"Bearer"`, …) when it is a registered HTTP
        /// authentication scheme, spelled as registered; `None` otherwise (the value's first
        /// word may be the credential itself, so it is not repeated). Never the value.
        scheme: Option<&'static str>,
    },
    /// A request to the origin of a CloudFront route that rewrites origin URLs
    /// ([`Route::rewrite_origin_urls`](crate::Route::rewrite_origin_urls)), outside the
    /// route's origin path: no alias URL reaches it (CloudFront puts the origin path in
    /// front of every path), and sent as it is it would reach the origin unsigned. Add a
    /// route that matches it (a [`Route::direct`](crate::Route::direct) for the origin
    /// signs it as it is sent), or write the URL under the origin path.
    #[error("{url} is on the origin of a CloudFront route that rewrites origin URLs, but outside its origin path {origin_path}: no alias URL reaches it, and it is not sent unsigned (add a route that matches it, e.g. Route::direct for the origin)")]
    OutsideOriginPath {
        /// The request's URL without its query, its password redacted.
        url: String,
        /// The route's origin path (`/prod`).
        origin_path: String,
    },
    /// The request is signed for an AWS host (under `amazonaws.com`, `api.aws`, `on.aws`,
    /// …) whose service the crate cannot infer, and neither the request's
    /// [`SigningOverride`](crate::SigningOverride), its route nor the builder names one: it
    /// is not signed for a guessed service, and not sent. Set
    /// [`Route::service`](crate::Route::service) or the builder's
    /// [`service`](crate::SigV4MiddlewareBuilder::service). Found per request for wildcard
    /// routes; a route with a fixed host is refused at build time
    /// ([`ConfigError::UnknownAwsService`]). Of kind
    /// [`Configuration`](ErrorKind::Configuration): the fix is a setting.
    #[error(fmt = unknown_service_message)]
    UnknownAwsService {
        /// The host signed for.
        host: String,
    },
}

impl ConfigError {
    /// What the mistake is about, for code that handles kinds rather than variants.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConfigError::EmptyCredentials | ConfigError::NoCredentials => ErrorKind::Credentials,
            ConfigError::InvalidUrl { .. }
            | ConfigError::UnsupportedScheme { .. }
            | ConfigError::EmptyHost { .. }
            | ConfigError::UnexpectedUrlParts { .. }
            | ConfigError::AliasEqualsOrigin { .. }
            | ConfigError::InvalidSigningHost { .. }
            | ConfigError::InvalidScope { .. }
            | ConfigError::DuplicateRoute { .. }
            | ConfigError::InvalidExpiry { .. }
            | ConfigError::WildcardTooBroad { .. }
            | ConfigError::NoRoutes => ErrorKind::Configuration,
            ConfigError::UnknownAwsService { .. } => ErrorKind::Configuration,
        }
    }
}

impl Error {
    /// What went wrong, by what the caller can do about it.
    ///
    /// ```
    /// use reqwest_sigv4::{Error, ErrorKind};
    ///
    /// fn worth_retrying_later(err: &reqwest_middleware::Error) -> bool {
    ///     Error::from_middleware(err).is_some_and(|e| e.kind() == ErrorKind::Credentials)
    /// }
    /// # let err: reqwest_middleware::Error = Error::CredentialsTimeout(Default::default()).into();
    /// # assert!(worth_retrying_later(&err));
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::BodyTooLarge { .. }
            | Error::BodyRead(_)
            | Error::StreamingBodyNotPresignable => ErrorKind::Body,
            Error::CredentialsUnavailable { .. }
            | Error::CredentialsTimeout(_)
            | Error::EmptyCredentials
            | Error::CredentialsExpired { .. }
            | Error::CredentialsProviderPanicked => ErrorKind::Credentials,
            Error::UnsignableQuery { .. }
            | Error::InvalidHeaderValue { .. }
            | Error::HostHeaderMismatch { .. }
            | Error::NoRoute { .. }
            | Error::Rewrite(_)
            | Error::AuthorizationHeaderSet { .. }
            | Error::OutsideOriginPath { .. } => ErrorKind::Request,
            Error::MissingRegion { .. }
            | Error::InvalidScope { .. }
            | Error::InvalidExpiry { .. }
            | Error::PayloadHashNotPresignable { .. }
            | Error::HostOverrideOverHttp2 { .. } => ErrorKind::Configuration,
            Error::ClientFollowedRedirect { .. } => ErrorKind::Redirect,
            Error::Signing(_) => ErrorKind::Signing,
            Error::UnknownAwsService { .. } => ErrorKind::Configuration,
        }
    }

    /// Whether the same request may succeed if it is sent again: the credentials provider
    /// timed out ([`Error::CredentialsTimeout`]) or failed
    /// ([`Error::CredentialsUnavailable`]), and a new attempt calls it again. Nothing was
    /// sent, so sending again is safe.
    ///
    /// Not transient:
    /// - a provider failure that says retrying cannot help: an `aws-credential-types`
    ///   `CredentialsError` that is `CredentialsNotLoaded` (no credentials configured),
    ///   `InvalidConfiguration` or `Unhandled` (an unexpected answer);
    /// - a provider that panicked ([`Error::CredentialsProviderPanicked`]: a bug to fix, not
    ///   a hiccup) or answered empty or expired credentials;
    /// - a stream that failed while read ([`Error::BodyRead`]): its bytes are consumed, and a
    ///   streaming request cannot be cloned to be sent again;
    /// - every other error: the same request, settings and route fail the same way.
    ///
    /// With the `retry` feature,
    #[cfg_attr(
        feature = "retry",
        doc = "[`SigV4RetryableStrategy`](crate::SigV4RetryableStrategy)"
    )]
    #[cfg_attr(not(feature = "retry"), doc = "`SigV4RetryableStrategy`")]
    /// has `reqwest-retry` retry the transient ones.
    ///
    /// ```
    /// use reqwest_sigv4::Error;
    /// use std::time::Duration;
    ///
    /// assert!(Error::CredentialsTimeout(Duration::from_secs(10)).is_transient());
    /// assert!(!Error::BodyTooLarge { limit: 1024 }.is_transient());
    /// ```
    pub fn is_transient(&self) -> bool {
        use aws_credential_types::provider::error::CredentialsError;
        match self {
            Error::CredentialsTimeout(_) => true,
            Error::CredentialsUnavailable { message } => !matches!(
                std::error::Error::source(message)
                    .and_then(|source| source.downcast_ref::<CredentialsError>()),
                Some(
                    CredentialsError::CredentialsNotLoaded(_)
                        | CredentialsError::InvalidConfiguration(_)
                        | CredentialsError::Unhandled(_)
                )
            ),
            Error::BodyTooLarge { .. }
            | Error::BodyRead(_)
            | Error::EmptyCredentials
            | Error::CredentialsExpired { .. }
            | Error::CredentialsProviderPanicked
            | Error::UnsignableQuery { .. }
            | Error::InvalidHeaderValue { .. }
            | Error::HostHeaderMismatch { .. }
            | Error::MissingRegion { .. }
            | Error::InvalidScope { .. }
            | Error::Signing(_)
            | Error::NoRoute { .. }
            | Error::InvalidExpiry { .. }
            | Error::StreamingBodyNotPresignable
            | Error::Rewrite(_)
            | Error::ClientFollowedRedirect { .. }
            | Error::PayloadHashNotPresignable { .. }
            | Error::AuthorizationHeaderSet { .. }
            | Error::OutsideOriginPath { .. }
            | Error::HostOverrideOverHttp2 { .. }
            | Error::UnknownAwsService { .. } => false,
        }
    }

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

/// The credentials provider's message, as [`Error::CredentialsUnavailable`] carries it:
/// it reads as a `str` (the provider's error and its sources on one line), and the
/// provider's error itself is its [`source`](std::error::Error::source), for callers that
/// downcast it (to `aws_credential_types::provider::error::CredentialsError`, say).
///
/// Its `Debug` shows the text only, as a `String` would: the provider's error is reached
/// through `source()`, never printed by this type.
#[derive(Clone)]
pub struct ProviderMessage {
    text: String,
    // Shared: waiters on one failed provider call each get a copy of the error.
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl ProviderMessage {
    /// The provider's error, its text rendered with its sources on one line.
    pub(crate) fn of(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            text: error_chain(&error),
            source: Some(Arc::new(error)),
        }
    }

    /// The message as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl std::ops::Deref for ProviderMessage {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl From<String> for ProviderMessage {
    fn from(text: String) -> Self {
        Self { text, source: None }
    }
}

impl From<&str> for ProviderMessage {
    fn from(text: &str) -> Self {
        text.to_owned().into()
    }
}

impl fmt::Display for ProviderMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for ProviderMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl std::error::Error for ProviderMessage {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// A service, region or presigned validity SigV4 cannot take, or an AWS host whose service
/// nothing names. The same mistake whether the
/// builder finds it ([`ConfigError`]) or a request does ([`Error`]): the checks return this,
/// `?` turns it into either enum, and both print it with the same words. (The two enums
/// keep a variant each, with the same fields, so that callers match it where they meet it.)
#[derive(Debug)]
pub(crate) enum InvalidSetting {
    Scope { what: &'static str, value: String },
    Expiry { expires: Duration },
    UnknownAwsService { host: String },
}

impl InvalidSetting {
    /// A presigned validity must be at least one second and at most SigV4's 7 days.
    pub(crate) fn check_expiry(expires: Duration) -> Result<(), InvalidSetting> {
        if crate::engine::route::presign_validity_ok(expires) {
            Ok(())
        } else {
            Err(InvalidSetting::Expiry { expires })
        }
    }
}

impl From<InvalidSetting> for ConfigError {
    fn from(invalid: InvalidSetting) -> Self {
        match invalid {
            InvalidSetting::Scope { what, value } => ConfigError::InvalidScope { what, value },
            InvalidSetting::Expiry { expires } => ConfigError::InvalidExpiry { expires },
            InvalidSetting::UnknownAwsService { host } => ConfigError::UnknownAwsService { host },
        }
    }
}

impl From<InvalidSetting> for Error {
    fn from(invalid: InvalidSetting) -> Self {
        match invalid {
            InvalidSetting::Scope { what, value } => Error::InvalidScope { what, value },
            InvalidSetting::Expiry { expires } => Error::InvalidExpiry { expires },
            InvalidSetting::UnknownAwsService { host } => Error::UnknownAwsService { host },
        }
    }
}

fn scope_message(what: &str, value: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "{what} {value:?} is not valid in a SigV4 credential scope"
    )
}

fn authorization_message(scheme: &Option<&'static str>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let scheme = scheme.unwrap_or("unrecognized");
    write!(
        f,
        "the request carries its own Authorization header ({scheme} scheme) on a route that signs in headers, where the SigV4 signature goes: remove it (reqwest's builder turns a URL's user info into a Basic Authorization header), or sign the route in the query (Route::sign_in_query)"
    )
}

fn expiry_message(expires: &Duration, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "presigned validity {expires:?} must be at least one second and at most 7 days"
    )
}

fn unknown_service_message(host: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(
        f,
        "cannot tell which AWS service {host:?} is, and nothing names one: set it with \
         Route::service(..) (or SigV4MiddlewareBuilder::service for every route) rather \
         than sign for a guessed service"
    )
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

    /// Every variant of both enums, with the kind it must report: the `match`es in `kind`
    /// make a new variant a compile error there, and this pins what each one answers.
    #[test]
    fn every_variant_has_its_kind() {
        use std::time::SystemTime;
        let config = [
            (
                ConfigError::InvalidUrl {
                    url: "u".into(),
                    reason: "r".into(),
                },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::UnsupportedScheme {
                    url: "u".into(),
                    scheme: "ftp".into(),
                },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::EmptyHost { url: "u".into() },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::UnexpectedUrlParts { url: "u".into() },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::AliasEqualsOrigin { alias: "a".into() },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::InvalidSigningHost { host: "h".into() },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::InvalidScope {
                    what: "region",
                    value: "".into(),
                },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::DuplicateRoute {
                    pattern: "p".into(),
                },
                ErrorKind::Configuration,
            ),
            (
                ConfigError::InvalidExpiry {
                    expires: Duration::ZERO,
                },
                ErrorKind::Configuration,
            ),
            (ConfigError::EmptyCredentials, ErrorKind::Credentials),
            (ConfigError::NoCredentials, ErrorKind::Credentials),
            (
                ConfigError::WildcardTooBroad {
                    url: "u".into(),
                    reason: "r",
                },
                ErrorKind::Configuration,
            ),
            (ConfigError::NoRoutes, ErrorKind::Configuration),
            (
                ConfigError::UnknownAwsService { host: "h".into() },
                ErrorKind::Configuration,
            ),
        ];
        for (err, kind) in config {
            assert_eq!(err.kind(), kind, "{err:?}");
        }
        let request = [
            (Error::BodyTooLarge { limit: 1 }, ErrorKind::Body),
            (Error::BodyRead("r".into()), ErrorKind::Body),
            (
                Error::CredentialsUnavailable {
                    message: "m".into(),
                },
                ErrorKind::Credentials,
            ),
            (
                Error::CredentialsTimeout(Duration::from_secs(1)),
                ErrorKind::Credentials,
            ),
            (Error::EmptyCredentials, ErrorKind::Credentials),
            (
                Error::CredentialsExpired {
                    expiry: SystemTime::UNIX_EPOCH,
                },
                ErrorKind::Credentials,
            ),
            (Error::CredentialsProviderPanicked, ErrorKind::Credentials),
            (
                Error::UnsignableQuery {
                    parameter: "p".into(),
                },
                ErrorKind::Request,
            ),
            (
                Error::InvalidHeaderValue { name: "n".into() },
                ErrorKind::Request,
            ),
            (
                Error::HostHeaderMismatch {
                    sent: "a".into(),
                    signed: "b".into(),
                },
                ErrorKind::Request,
            ),
            (
                Error::MissingRegion { host: "h".into() },
                ErrorKind::Configuration,
            ),
            (
                Error::InvalidScope {
                    what: "service",
                    value: "".into(),
                },
                ErrorKind::Configuration,
            ),
            (Error::Signing("s".into()), ErrorKind::Signing),
            (Error::NoRoute { url: "u".into() }, ErrorKind::Request),
            (
                Error::InvalidExpiry {
                    expires: Duration::ZERO,
                },
                ErrorKind::Configuration,
            ),
            (Error::StreamingBodyNotPresignable, ErrorKind::Body),
            (Error::Rewrite("r".into()), ErrorKind::Request),
            (
                Error::HostOverrideOverHttp2 {
                    version: "HTTP/2.0".into(),
                    sent_to: "a".into(),
                    signed: "b".into(),
                },
                ErrorKind::Configuration,
            ),
            (
                Error::ClientFollowedRedirect {
                    from: "a".into(),
                    to: "b".into(),
                },
                ErrorKind::Redirect,
            ),
            (
                Error::PayloadHashNotPresignable {
                    service: "s3".into(),
                },
                ErrorKind::Configuration,
            ),
            (
                Error::AuthorizationHeaderSet {
                    scheme: Some("Basic"),
                },
                ErrorKind::Request,
            ),
            (
                Error::OutsideOriginPath {
                    url: "u".into(),
                    origin_path: "/prod".into(),
                },
                ErrorKind::Request,
            ),
            (
                Error::UnknownAwsService { host: "h".into() },
                ErrorKind::Configuration,
            ),
        ];
        for (err, kind) in request {
            assert_eq!(err.kind(), kind, "{err:?}");
        }
    }

    /// A scope or expiry mistake reads the same, and is of the same kind, whether the
    /// builder or a request found it.
    #[test]
    fn one_mistake_one_message_and_kind_in_both_enums() {
        let scope = || InvalidSetting::Scope {
            what: "region",
            value: "us east".into(),
        };
        let expiry = || InvalidSetting::check_expiry(Duration::from_secs(8 * 24 * 3600));
        let (config, request) = (ConfigError::from(scope()), Error::from(scope()));
        assert_eq!(config.to_string(), request.to_string());
        assert_eq!(
            config.to_string(),
            "region \"us east\" is not valid in a SigV4 credential scope"
        );
        assert_eq!(config.kind(), request.kind());
        let (config, request) = (
            ConfigError::from(expiry().unwrap_err()),
            Error::from(expiry().unwrap_err()),
        );
        assert!(matches!(config, ConfigError::InvalidExpiry { .. }));
        assert!(matches!(request, Error::InvalidExpiry { .. }));
        assert_eq!(config.to_string(), request.to_string());
        assert!(config.to_string().contains("at most 7 days"), "{config}");
        assert_eq!(config.kind(), request.kind());
        assert!(InvalidSetting::check_expiry(Duration::from_secs(1)).is_ok());
        assert!(InvalidSetting::check_expiry(Duration::from_millis(999)).is_err());
        let unknown = || InvalidSetting::UnknownAwsService {
            host: "x.nosuchservice.us-east-1.amazonaws.com".into(),
        };
        let (config, request) = (ConfigError::from(unknown()), Error::from(unknown()));
        assert_eq!(config.to_string(), request.to_string());
        assert!(
            config
                .to_string()
                .contains("\"x.nosuchservice.us-east-1.amazonaws.com\""),
            "{config}"
        );
        assert!(config.to_string().contains("Route::service"), "{config}");
        assert_eq!(config.kind(), request.kind());
    }

    /// The signing library's and the provider's errors are sources, reachable and
    /// downcastable; the provider's text is still the message.
    #[test]
    fn causes_are_kept_as_sources() {
        use std::error::Error as _;
        #[derive(Debug, thiserror::Error)]
        #[error("the cause")]
        struct Cause;

        let err = Error::Signing(Box::new(Cause));
        assert!(err.source().unwrap().downcast_ref::<Cause>().is_some());
        assert_eq!(err.to_string(), "signing failed: the cause");

        let err = Error::CredentialsUnavailable {
            message: ProviderMessage::of(Cause),
        };
        let message = err.source().expect("the message is the source");
        assert!(message.source().unwrap().downcast_ref::<Cause>().is_some());
        assert_eq!(err.to_string(), "no AWS credentials available: the cause");
        assert_eq!(
            format!("{err:?}"),
            r#"CredentialsUnavailable { message: "the cause" }"#
        );
        // Text alone (a copy made from another error) has no source beyond itself.
        let text: ProviderMessage = "just text".into();
        assert!(text.source().is_none());
        assert_eq!(&*text, "just text");
    }

    #[test]
    fn error_chain_joins_sources_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] std::io::Error);
        let err = Outer(std::io::Error::other("inner cause"));
        assert_eq!(error_chain(&err), "outer: inner cause");
    }

    /// What a retry can help with: a provider that timed out or hiccupped, and nothing
    /// else. Every variant is listed, with the answer it must give.
    #[test]
    fn transient_errors_are_the_providers_hiccups() {
        use aws_credential_types::provider::error::CredentialsError;
        use std::time::SystemTime;
        let unavailable = |error: CredentialsError| Error::CredentialsUnavailable {
            message: ProviderMessage::of(error),
        };
        let cases = [
            (Error::CredentialsTimeout(Duration::from_secs(1)), true),
            (
                unavailable(CredentialsError::provider_error("STS answered 503")),
                true,
            ),
            (
                unavailable(CredentialsError::provider_timed_out(Duration::from_secs(5))),
                true,
            ),
            // Another provider's error, or a message alone: nothing says it is permanent.
            (
                Error::CredentialsUnavailable {
                    message: "connection reset".into(),
                },
                true,
            ),
            (
                unavailable(CredentialsError::not_loaded("no profile")),
                false,
            ),
            (
                unavailable(CredentialsError::invalid_configuration("bad config")),
                false,
            ),
            (unavailable(CredentialsError::unhandled("not UTF-8")), false),
            (Error::CredentialsProviderPanicked, false),
            (Error::EmptyCredentials, false),
            (
                Error::CredentialsExpired {
                    expiry: SystemTime::UNIX_EPOCH,
                },
                false,
            ),
            (Error::BodyTooLarge { limit: 1 }, false),
            (Error::BodyRead("reset".into()), false),
            (
                Error::UnsignableQuery {
                    parameter: "p".into(),
                },
                false,
            ),
            (Error::InvalidHeaderValue { name: "n".into() }, false),
            (
                Error::HostHeaderMismatch {
                    sent: "a".into(),
                    signed: "b".into(),
                },
                false,
            ),
            (Error::MissingRegion { host: "h".into() }, false),
            (
                Error::InvalidScope {
                    what: "service",
                    value: "".into(),
                },
                false,
            ),
            (Error::Signing("s".into()), false),
            (Error::NoRoute { url: "u".into() }, false),
            (
                Error::InvalidExpiry {
                    expires: Duration::ZERO,
                },
                false,
            ),
            (Error::StreamingBodyNotPresignable, false),
            (Error::Rewrite("r".into()), false),
            (
                Error::ClientFollowedRedirect {
                    from: "a".into(),
                    to: "b".into(),
                },
                false,
            ),
            (
                Error::PayloadHashNotPresignable {
                    service: "s3".into(),
                },
                false,
            ),
        ];
        for (err, transient) in cases {
            assert_eq!(err.is_transient(), transient, "{err:?}");
        }
    }
}
