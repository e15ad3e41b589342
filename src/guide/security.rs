//! Security guarantees: where credentials go, what the middleware refuses to send, and
//! what it never shows.
//!
//! Signing hands the access key id, the session token and a signed request to the host
//! the request goes to. So the middleware signs only for hosts you named, and refuses,
//! with a typed error and before anything is sent, a request that would put them somewhere
//! you did not intend, or whose signature would cover something other than what is sent.
//! An [`Error`] from the middleware means the request was not sent (the one exception,
//! [`Error::ClientFollowedRedirect`], reports a reqwest client set up to follow redirects
//! itself); every [`ConfigError`] is found by `build()`, before the first request.
//!
//! # Where credentials go
//!
//! - **Only to routes.** A request that no [`Route`] matches is sent as it is, without a
//!   signature or a session token (see the [topologies guide](super::topologies#routes)).
//! - **Not on redirects that leave the routes.** The middleware follows redirects itself:
//!   a hop to a URL no route matches is sent with every signing header removed, or not
//!   followed ([`CrossRouteRedirect::Stop`]); a hop to another origin also loses
//!   `Authorization`, cookies and `Host`. A reqwest client that follows redirects on its own
//!   (and would carry `X-Amz-Security-Token` to the next host) is detected:
//!   [`Error::ClientFollowedRedirect`].
//! - **Not to every host under a wildcard.** `build()` refuses
//!   ([`ConfigError::WildcardTooBroad`]) a wildcard route that leaves fewer than three
//!   labels (`*.example.com`, `*.co.uk`: without a public suffix list a registrable
//!   domain and a public suffix cannot be told apart) or that stands for any name under a
//!   domain AWS shares among its customers (`amazonaws.com`, `amazonaws.com.cn`,
//!   `amazonaws.eu`, `on.aws`, `api.aws`, `cloudfront.net`, `amplifyapp.com`,
//!   `awsapprunner.com`, `elasticbeanstalk.com`, `awsglobalaccelerator.com`, and the ISO
//!   regions' `c2s.ic.gov` and `sc2s.sgov.gov`). Under those, the labels left of the service's name are
//!   some customer's API id, bucket or function URL:
//!   `*.execute-api.us-east-1.amazonaws.com` would sign for every account's APIs in the
//!   region. Name AWS hosts exactly, one route each.
//!
//! # What the middleware refuses
//!
//! - **A request a route matches but cannot place.** With
//!   [`Route::rewrite_origin_urls`], a CloudFront route claims its origin's host: a request
//!   there outside the origin path (`/dev/x` for an origin at `/prod`) reaches no alias URL
//!   and is [`Error::OutsideOriginPath`]; one outside the alias's path prefix is
//!   [`Error::Rewrite`]. Either way, unless another route matches it (a [`Route::direct`]
//!   for the origin signs it as it is), it is never sent unsigned to the origin.
//! - **An `Authorization` header of your own, on a route that signs in headers.** The
//!   signature goes in that header, so your credential would be replaced and never reach
//!   the server: [`Error::AuthorizationHeaderSet`], which names the scheme (`Basic`,
//!   `Bearer`, …) but never the value. reqwest's request builder turns a URL's user info
//!   (`https://user:password@host/`) into a `Basic` header, so such a URL is refused too.
//!   A SigV4 `Authorization` left by an earlier signing is replaced. A route signed in the
//!   query ([`Route::sign_in_query`]) sends your header as it is, and drops it on a
//!   redirect to another host, as reqwest does.
//! - **A `Host` header that differs from the host signed.** It would be sent as it is
//!   while the signature covers the route's host: [`Error::HostHeaderMismatch`]. On a
//!   CloudFront route any `Host` is refused (CloudFront routes by it). To send and sign
//!   another `Host`, use [`Route::host_override`].
//! - **What cannot be signed reliably.** A header value that is not visible ASCII
//!   ([`Error::InvalidHeaderValue`]), query escapes that do not decode to UTF-8 (signers
//!   and verifiers disagree on those: [`Error::UnsignableQuery`]).
//! - **Presigned URLs beyond SigV4's limits**: under a second or over 7 days
//!   ([`Error::InvalidExpiry`], [`ConfigError::InvalidExpiry`]).
//! - **An AWS host whose service cannot be inferred**, with no service named:
//!   [`Error::UnknownAwsService`] (or [`ConfigError::UnknownAwsService`] at `build()`),
//!   never a guessed service (see the [services guide](super::services#service-and-region)).
//! - **A streamed body sent again without its bytes**: a body streamed unsigned goes out
//!   once; a redirect or retry that would resend it is returned or answered instead.
//! - **Expired or empty credentials**, as the provider handed them out: they never sign
//!   anything (see the [credentials guide](super::credentials#when-no-credentials-can-be-had)).
//!
//! # What is signed is what is sent
//!
//! - **Stale signing parameters are removed.** Parameters a URL already carries
//!   (`X-Amz-Signature`, `X-Amz-Credential`, … from a presigned URL sent again, or a
//!   redirect's `Location`) are removed before the request is signed, on every route and
//!   every hop, so the request carries one signature.
//! - **Tabs in signed header values are folded.** SigV4's "trimall" folds runs of spaces;
//!   botocore, the AWS Java SDK and API Gateway fold every run of whitespace, tabs
//!   included, while `aws-sigv4` signs a tab as it is. A signed header value with a tab
//!   between its words is therefore sent folded (`a<TAB>b` goes out as `a b`, every value
//!   of a repeated header kept in order), so the wire carries exactly what was signed and
//!   every verifier computes the same canonical form. Values without an inner tab are sent
//!   untouched.
//! - **S3 keys are sent in the spelling that was signed** (see the
//!   [services guide](super::services#keys)).
//!
//! # What is never shown
//!
//! The secret key, the session token, signatures and URL passwords never appear in
//! `Debug`, `Display`, errors or `tracing` output:
//!
//! - `Authorization` and `X-Amz-Security-Token` are marked sensitive on the request
//!   (`http`'s `HeaderValue::set_sensitive`), so other middleware that prints headers
//!   leaves them out.
//! - Requests signed in the query ([`Route::sign_in_query`]) carry the signature and session
//!   token in the URL, so every URL the crate shows has `X-Amz-Signature` and
//!   `X-Amz-Security-Token` replaced by `REDACTED`: its log lines, the URL inside a reqwest
//!   error (a refused connection, a timeout), and `Response::url()` of a signed response.
//!   `aws-sigv4`'s own `trace` lines for such a request are not emitted (they would print
//!   the token in the canonical query); the crate's `debug` line carries the redacted
//!   canonical request instead. Errors that other middleware below the signer builds are
//!   theirs.
//! - A URL's password (`https://user:password@host/`, which `reqwest::Request::new` keeps
//!   in the URL) is shown as `REDACTED` in every URL the crate shows: log lines, errors,
//!   the URL in a reqwest error, a signed response's `Response::url()`, the `Debug` of
//!   routes. The user name is shown.
//! - [`SignedRequest`] (on responses) keeps the access key id, which is not a secret, and
//!   shows the session token as `<redacted>`; it never holds the secret key or the signing
//!   key. [`Explanation`]s never repeat a signature, a secret or a session token (S3 echoes
//!   the signature it received; it is not repeated).
//! - [`PresignedUrl`]'s `Debug` shows its host, path and expiry, never its query; it has no
//!   `Display`. The URL [`presign`](crate::SigV4Middleware::presign) returns is the one
//!   place a presigned URL appears.
//! - A provider's panic message is not repeated ([`Error::CredentialsProviderPanicked`]).
//!   The verifier's [`Rejection`](crate::verify::Rejection)s show canonical requests with
//!   the token redacted.
//!
//! # What cannot hold a request up
//!
//! - **Session tokens that keep being refused** never cost a provider call (an STS
//!   `AssumeRole`, an IMDS call) per request: after one reload, refusals back off (see the
//!   [credentials guide](super::credentials#rotation-a-session-token-refused-before-its-expiry)).
//! - **A 403's body** is read, to explain it and to correct the clock, within bounds: at
//!   most 64 KiB and [`inspect_403_deadline`](crate::SigV4MiddlewareBuilder::inspect_403_deadline)
//!   (default [`DEFAULT_INSPECT_DEADLINE`], 500 ms). A larger or slower body is handed
//!   back with the bytes that arrived followed by the rest of the stream, and a body that
//!   breaks is handed back with its error: `send()` never waits on a stalled answer for
//!   longer than the deadline, and you read exactly what the server sent. A 403 to a
//!   request no route matches is never read.
//! - **Streaming bodies** are buffered up to a limit
//!   ([`body_limit`](crate::SigV4MiddlewareBuilder::body_limit)), past which the request
//!   fails with [`Error::BodyTooLarge`] instead of filling memory.
//! - **A credentials provider** is bounded by
//!   [`credentials_timeout`](crate::SigV4MiddlewareBuilder::credentials_timeout), and its
//!   panic fails the request like an error.
//!
//! [`Error`]: crate::Error
//! [`ConfigError`]: crate::ConfigError
//! [`Route`]: crate::Route
//! [`Route::direct`]: crate::Route::direct
//! [`Route::rewrite_origin_urls`]: crate::Route::rewrite_origin_urls
//! [`Route::sign_in_query`]: crate::Route::sign_in_query
//! [`Route::host_override`]: crate::Route::host_override
//! [`CrossRouteRedirect::Stop`]: crate::CrossRouteRedirect::Stop
//! [`ConfigError::WildcardTooBroad`]: crate::ConfigError::WildcardTooBroad
//! [`ConfigError::InvalidExpiry`]: crate::ConfigError::InvalidExpiry
//! [`Error::ClientFollowedRedirect`]: crate::Error::ClientFollowedRedirect
//! [`Error::OutsideOriginPath`]: crate::Error::OutsideOriginPath
//! [`Error::Rewrite`]: crate::Error::Rewrite
//! [`Error::AuthorizationHeaderSet`]: crate::Error::AuthorizationHeaderSet
//! [`Error::HostHeaderMismatch`]: crate::Error::HostHeaderMismatch
//! [`Error::InvalidHeaderValue`]: crate::Error::InvalidHeaderValue
//! [`Error::UnsignableQuery`]: crate::Error::UnsignableQuery
//! [`Error::InvalidExpiry`]: crate::Error::InvalidExpiry
//! [`Error::BodyTooLarge`]: crate::Error::BodyTooLarge
//! [`Error::CredentialsProviderPanicked`]: crate::Error::CredentialsProviderPanicked
//! [`SignedRequest`]: crate::SignedRequest
//! [`Explanation`]: crate::Explanation
//! [`PresignedUrl`]: crate::PresignedUrl
//! [`DEFAULT_INSPECT_DEADLINE`]: crate::DEFAULT_INSPECT_DEADLINE
//! [`Error::UnknownAwsService`]: crate::Error::UnknownAwsService
//! [`ConfigError::UnknownAwsService`]: crate::ConfigError::UnknownAwsService
