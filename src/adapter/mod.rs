//! The adapters: the I/O around the [engine](crate::engine). [`SigV4Middleware`] holds the
//! engine and the credentials caches; [`credentials`] asks providers and caches what they
//! answer; the `reqwest/` files are the `reqwest-middleware` `Middleware` (the send loop
//! with its clock retry, token reload and redirects, body reading, 403 reading), compiled
//! once for reqwest 0.13 + reqwest-middleware 0.5 and, with the `reqwest-012` feature,
//! once more for reqwest 0.12 + reqwest-middleware 0.4: the same source, each version's
//! types.

pub(crate) mod credentials;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::Method;
use url::Url;

use crate::config::SigV4MiddlewareBuilder;
use crate::engine::body::PreparedBody;
use crate::engine::presign::PresignedUrl;
use crate::engine::replay::Kept;
use crate::engine::route::CompiledRoute;
use crate::engine::scope::Plan;
use crate::engine::sign::ServiceProfile;
use crate::engine::{Engine, Head, RequestHead};
use crate::error::Error;
use crate::redact::Redacted;
use credentials::CredentialsCache;

// Loads the files of `reqwest_013` a second time, on purpose: one source, two versions'
// types (`clippy::duplicate_mod` is about a file loaded twice by mistake).
#[cfg(feature = "reqwest-012")]
#[allow(clippy::duplicate_mod)]
mod reqwest_012;
mod reqwest_013;

/// A `reqwest-middleware` middleware that signs requests with AWS SigV4.
///
/// Build one with [`SigV4Middleware::builder`]; see the [crate docs](crate) for a tour.
#[derive(Clone)]
pub struct SigV4Middleware {
    pub(crate) inner: Arc<Shared>,
}

impl fmt::Debug for SigV4Middleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4Middleware")
            .field("routes", &self.inner.engine.routes)
            .field("service", &self.inner.engine.defaults.service)
            .field("region", &self.inner.engine.defaults.region)
            .field("body_limit", &self.inner.body_limit)
            .field("credentials", &self.inner.credentials[0])
            .finish_non_exhaustive()
    }
}

/// What every request of one middleware shares: the engine and the I/O state around it.
pub(crate) struct Shared {
    pub(crate) engine: Engine,
    /// The middleware's credentials (slot 0), then each route source's own, in the order
    /// [`CompiledRoute::credentials_slot`] counts them.
    pub(crate) credentials: Vec<CredentialsCache>,
    #[cfg(feature = "aws-config")]
    pub(crate) default_chain: Option<Arc<credentials::DefaultChain>>,
    pub(crate) body_limit: usize,
    pub(crate) explain_403: bool,
    pub(crate) inspect_deadline: Duration,
    pub(crate) summaries: crate::config::SummaryPolicy,
}

impl Shared {
    /// [`Engine::plan`], with the region filled in from the default chain when nothing
    /// configured names one.
    pub(crate) async fn plan<'a>(
        &'a self,
        req: &mut impl RequestHead,
        overrides: Option<&'a crate::SigningOverride>,
    ) -> Result<Option<Plan<'a>>, Error> {
        let mut plan = self.engine.plan(req, overrides)?;
        self.complete_region(&mut plan).await?;
        Ok(plan)
    }

    /// Fills in the region of a plan nothing configured names one for, from the default
    /// chain; [`Error::MissingRegion`] when it has none either. The send loop calls this
    /// after [`Engine::plan`] rather than awaiting [`plan`](Self::plan): this future
    /// holds only a reference, not the plan.
    pub(crate) async fn complete_region(&self, plan: &mut Option<Plan<'_>>) -> Result<(), Error> {
        let Some(plan) = plan.as_mut().filter(|p| p.region.is_none()) else {
            return Ok(());
        };
        // Boxed: the default chain's loading is a large future that most requests, whose
        // region is known, would otherwise carry.
        let region =
            Box::pin(self.fallback_region())
                .await
                .ok_or_else(|| Error::MissingRegion {
                    host: plan.resolved.sign_host.to_string(),
                })?;
        plan.region = Some(Cow::Owned(region));
        Ok(())
    }

    /// The credentials cache `route` signs with.
    pub(crate) fn cache_for(&self, route: &CompiledRoute) -> &CredentialsCache {
        &self.credentials[route.credentials_slot]
    }

    async fn fallback_region(&self) -> Option<String> {
        #[cfg(feature = "aws-config")]
        if let Some(chain) = &self.default_chain {
            return chain.region().await;
        }
        None
    }
}

/// A request [`SigV4Middleware::presign`] can presign: a `reqwest::Request`, and with the
/// `reqwest-012` feature a reqwest 0.12 one. Sealed: implemented by the crate only.
pub trait Presignable: sealed::Sealed {
    /// The request's method.
    #[doc(hidden)]
    fn method(&self) -> &Method;
    /// The request's URL.
    #[doc(hidden)]
    fn url(&self) -> &Url;
    /// The body's bytes; `None` without a body, an error for a streaming one.
    #[doc(hidden)]
    fn body_bytes(&self) -> Result<Option<&[u8]>, StreamingBody>;
}

/// A reqwest `ClientBuilder` [`SigV4Middleware::client_with`] builds a client over:
/// reqwest 0.13's, and with the `reqwest-012` feature reqwest 0.12's. Sealed.
pub trait ClientBuilderFor: sealed::Sealed {
    /// The reqwest-middleware client it gives.
    type Client;
    /// Why building the reqwest client failed.
    type Error;
    /// The client, redirects off, with `middleware` in its stack.
    #[doc(hidden)]
    fn build_over(self, middleware: SigV4Middleware) -> Result<Self::Client, Self::Error>;
}

/// A body that is a stream: it cannot be hashed into a presigned URL.
#[doc(hidden)]
#[derive(Debug)]
pub struct StreamingBody;

pub(crate) mod sealed {
    pub trait Sealed {}
}

impl SigV4Middleware {
    /// A builder with the defaults: default credentials chain (feature `aws-config`),
    /// 32 MiB body limit, system clock, clock-skew correction and redirect following on.
    pub fn builder() -> SigV4MiddlewareBuilder {
        SigV4MiddlewareBuilder::default()
    }

    /// A presigned URL for `request`: the signature in the query string, valid for
    /// `expires_in` (at least one second, at most 7 days; `X-Amz-Expires` counts whole
    /// seconds, so a fraction is dropped), for the route the request's URL matches — a
    /// CloudFront alias URL is presigned for its origin like any request. Only `host` is
    /// signed, so whoever uses the URL needs no other header. The body (if any) is hashed
    /// into it, except for S3, whose presigned URLs sign `UNSIGNED-PAYLOAD` (the uploader
    /// of a presigned PUT chooses the bytes). Uses: API Gateway WebSocket `$connect` with
    /// IAM auth, S3 downloads and uploads, handing a URL to another process.
    ///
    /// Signed with temporary credentials, the URL carries their session token and stops
    /// working when that token expires, whatever `expires_in` says:
    /// [`PresignedUrl::expires_at`](crate::PresignedUrl::expires_at) is the earlier of the
    /// two. The URL is a secret (anyone holding it can make the request): `PresignedUrl`'s
    /// `Debug` leaves its query out.
    ///
    /// ```no_run
    /// # async fn demo(signer: reqwest_sigv4::SigV4Middleware) -> Result<(), reqwest_sigv4::Error> {
    /// // A WebSocket API's $connect: presign the https form, connect with wss://.
    /// let url = "https://abc123.execute-api.us-east-1.amazonaws.com/prod".parse().unwrap();
    /// let request = reqwest::Request::new(reqwest::Method::GET, url);
    /// let presigned = signer.presign(&request, std::time::Duration::from_secs(300)).await?;
    /// println!("valid until {:?}: {}", presigned.expires_at(), presigned.as_str());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidExpiry`] for a validity outside one second to 7 days;
    /// [`Error::NoRoute`] when no route matches the URL (nothing to presign it for) and
    /// [`Error::Rewrite`] when routes match it but none can place it;
    /// [`Error::StreamingBodyNotPresignable`] for a streaming body and
    /// [`Error::PayloadHashNotPresignable`] for a body hash S3 would not check; a
    /// credentials error ([`ErrorKind::Credentials`](crate::ErrorKind::Credentials)) when no
    /// usable credentials can be had; the errors of signing a request
    /// ([`Error::MissingRegion`], [`Error::UnknownAwsService`], [`Error::UnsignableQuery`],
    /// [`Error::Signing`]).
    pub async fn presign(
        &self,
        request: &impl Presignable,
        expires_in: Duration,
    ) -> Result<PresignedUrl, Error> {
        crate::error::InvalidSetting::check_expiry(expires_in)?;
        let shared = &*self.inner;
        let mut bare = Head::new(request.method().clone(), request.url().clone());
        let mut plan = shared
            .plan(&mut bare, None)
            .await?
            .ok_or_else(|| Error::NoRoute {
                url: Redacted(request.url()).to_string(),
            })?;
        plan.presign = Some(expires_in);
        // S3 verifies a presigned URL over UNSIGNED-PAYLOAD. A route that asked for a body
        // hash keeps it, and signing refuses it if there is a body to protect.
        let unsigned = plan.unsigned_payload
            || (plan.resolved.route.unsigned_payload.is_none()
                && ServiceProfile::of(&plan.service).presigned_unsigned_payload);
        let body = if unsigned {
            PreparedBody::unsigned()
        } else {
            match request.body_bytes() {
                Ok(None) => PreparedBody::empty(),
                Ok(Some(bytes)) => PreparedBody::hash_of(bytes),
                Err(StreamingBody) => return Err(Error::StreamingBodyNotPresignable),
            }
        };
        // Read before signing: if a refresh lands in between, the URL is signed with newer
        // credentials, which expire no earlier than these, so the expiry reported is never
        // later than the real one.
        let credentials = shared.cache_for(plan.resolved.route).get().await?;
        let kept = Kept::new(
            &bare.method,
            &bare.url,
            &bare.headers,
            http::Version::HTTP_11,
            None,
        );
        let signed = shared
            .engine
            .sign(plan, &mut bare, &body, &credentials.signing, kept)?;
        let signed_at = crate::canonical::parse_amz_date(signed.amz_date())
            .ok_or_else(|| Error::Signing("the presigned URL carries no signing time".into()))?;
        Ok(PresignedUrl::new(
            bare.url,
            signed_at,
            expires_in,
            credentials.expiry,
            credentials.signing.has_session_token(),
        ))
    }

    /// A client with this middleware in its stack, over a reqwest client with reqwest's
    /// defaults and its redirects off: the middleware follows redirects itself, signs each
    /// hop that stays on a route for its own URL, and sends none of the signing headers to
    /// a hop that leaves them ([`RedirectPolicy`](crate::RedirectPolicy)). When a
    /// [`Route::host_override`](crate::Route::host_override) sends another host than its
    /// URL's, the client speaks HTTP/1.1 only: HTTP/2 carries the host as `:authority`,
    /// which reqwest takes from the URL, and has no room for a second one.
    ///
    /// To stack other middleware (retries go before the signer, so that each attempt is
    /// signed afresh), build the reqwest client with
    /// `redirect(reqwest::redirect::Policy::none())` and use
    /// `reqwest_middleware::ClientBuilder` directly.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use reqwest_sigv4::{Route, SigV4Middleware};
    /// let client = SigV4Middleware::builder()
    ///     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
    ///     .build()?
    ///     .client()?;
    /// let response = client
    ///     .get("https://abc123.execute-api.us-east-1.amazonaws.com/prod/items")
    ///     .send()
    ///     .await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// reqwest's error when it cannot build its client (its TLS backend or the system's
    /// DNS resolver failed to start).
    pub fn client(self) -> Result<reqwest_middleware::ClientWithMiddleware, reqwest::Error> {
        self.client_with(reqwest::Client::builder())
    }

    /// Like [`client`](Self::client), over a reqwest client made by `builder` (timeouts,
    /// TLS, proxies…) with its redirects turned off, and HTTP/1.1 only when a host
    /// override needs it, whatever `builder` said. With the
    /// `reqwest-012` feature, a reqwest 0.12 `ClientBuilder` gives a reqwest-middleware 0.4
    /// client.
    ///
    /// # Errors
    ///
    /// Fails as `reqwest::ClientBuilder::build` does (no TLS backend, unreadable resolver
    /// configuration).
    pub fn client_with<B: ClientBuilderFor>(self, builder: B) -> Result<B::Client, B::Error> {
        builder.build_over(self)
    }

    /// The offset most recently learned from a verifier's clock, in milliseconds, whichever
    /// host taught it (0 until a `Signature expired` answer taught one). Offsets are
    /// learned and applied per signing host: see
    /// [`clock_offset_millis_for`](Self::clock_offset_millis_for).
    pub fn clock_offset_millis(&self) -> i64 {
        self.inner.engine.offsets.latest()
    }

    /// The offset learned from the clock of the verifier at `host` (the host signed for, as
    /// [`SignedRequest::host`](crate::SignedRequest::host) shows it), in milliseconds; `None` until that host's
    /// `Signature expired` or `Signature not yet current` answer taught one. Requests
    /// signed for `host` are dated by it; no other host's are.
    pub fn clock_offset_millis_for(&self, host: &str) -> Option<i64> {
        self.inner.engine.offsets.get(host)
    }
}
