//! The `reqwest-middleware` `Middleware`: each request through the engine, then the answer
//! handled — a clock retry, a token reload, a redirect followed, a 403 explained.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{Extensions, HeaderMap, Method, StatusCode};
use url::Url;

use super::body::{keep, keep_unhashed, prepare, rebuild};
use super::inspect::inspect_403;
use super::response::{attach, attach_explanation, explain_unsigned, redact_error};
use super::{reqwest, reqwest_middleware};
use crate::adapter::credentials::Cached;
use crate::adapter::{
    sealed, ClientBuilderFor, Presignable, Shared, SigV4Middleware, StreamingBody,
};
use crate::config::{SigningOverride, SkipSigning};
use crate::engine::body::PreparedBody;
use crate::engine::forbidden::Inspected;
use crate::engine::redirect::{next_hop, SentUrl};
use crate::engine::replay::Kept;
use crate::engine::scope::Plan;
use crate::engine::sign::SigningCredentials;
use crate::engine::summary::Signed;
use crate::engine::{strip_signature, RequestHead};
use crate::error::Error;
use crate::redact::Redacted;

impl RequestHead for reqwest::Request {
    fn method(&self) -> &Method {
        self.method()
    }
    fn method_mut(&mut self) -> &mut Method {
        self.method_mut()
    }
    fn url(&self) -> &Url {
        self.url()
    }
    fn url_mut(&mut self) -> &mut Url {
        self.url_mut()
    }
    fn headers(&self) -> &HeaderMap {
        self.headers()
    }
    fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers_mut()
    }
}

impl sealed::Sealed for reqwest::Request {}

impl Presignable for reqwest::Request {
    fn method(&self) -> &Method {
        self.method()
    }
    fn url(&self) -> &Url {
        self.url()
    }
    fn body_bytes(&self) -> Result<Option<&[u8]>, StreamingBody> {
        match self.body() {
            None => Ok(None),
            Some(body) => body.as_bytes().map(Some).ok_or(StreamingBody),
        }
    }
}

impl sealed::Sealed for reqwest::ClientBuilder {}

impl ClientBuilderFor for reqwest::ClientBuilder {
    type Client = reqwest_middleware::ClientWithMiddleware;
    type Error = reqwest::Error;

    fn build_over(self, middleware: SigV4Middleware) -> Result<Self::Client, Self::Error> {
        // The middleware follows redirects itself, signing each hop for its own URL.
        let mut builder = self.redirect(reqwest::redirect::Policy::none());
        if middleware.inner.engine.routes.overrides_host() {
            // HTTP/2 carries the host as `:authority`, the URL's: a `Host` of another
            // host can be sent over HTTP/1.1 alone.
            builder = builder.http1_only();
        }
        let client = builder.build()?;
        Ok(reqwest_middleware::ClientBuilder::new(client)
            .with(middleware)
            .build())
    }
}

impl From<Error> for reqwest_middleware::Error {
    fn from(err: Error) -> Self {
        reqwest_middleware::Error::middleware(err)
    }
}

impl crate::error::sealed::MiddlewareError for reqwest_middleware::Error {
    fn sigv4_error(&self) -> Option<&Error> {
        match self {
            reqwest_middleware::Error::Middleware(inner) => inner.downcast_ref::<Error>(),
            _ => None,
        }
    }
}

impl reqwest_middleware::Middleware for SigV4Middleware {
    /// Signs and sends the request, then follows what the answer asks for: a clock retry,
    /// a token reload, a redirect.
    ///
    /// Written out rather than with `#[async_trait]`, which moves each argument into a
    /// local of its own: the request would be held twice in the future boxed for every
    /// request. Here the `async move` block uses the captured request in place.
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        req: reqwest::Request,
        extensions: &'life1 mut Extensions,
        next: reqwest_middleware::Next<'life2>,
    ) -> Pin<
        Box<
            dyn Future<Output = reqwest_middleware::Result<reqwest::Response>>
                + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        let shared = &*self.inner;
        let mut req = req;
        Box::pin(async move {
            if extensions.get::<SkipSigning>().is_some() {
                return next.run(req, extensions).await;
            }
            // Boxed when present (rare): the future holds a pointer, not the strings.
            let overrides = extensions.get::<SigningOverride>().cloned().map(Box::new);
            // Hashed once a route that hashes bodies signs the request; until then, unsigned.
            let mut body = PreparedBody::unsigned();
            let mut attempts = Attempts::default();
            loop {
                // Outlives the attempt, which borrows it: a summary is made from it only
                // for an answer that carries one.
                let credentials;
                let attempt = match ready(shared, &mut req, overrides.as_deref(), &mut body).await?
                {
                    // The caller's own request: sent as it is, below.
                    None if attempts.none_yet() => break,
                    // A redirect that left the routes.
                    None => {
                        strip_signature(&mut req);
                        Attempt::Unsigned(keep(&req))
                    }
                    Some((plan, cached)) => {
                        credentials = cached;
                        sign_attempt(shared, plan, &mut req, &body, &credentials.signing)?
                    }
                };
                // A body that goes out now and is not kept (an unsigned stream) cannot be
                // sent again: no retry or redirect that would resend it without its bytes.
                attempts.body_gone = req.body().is_some() && !body.is_kept();
                let response = next
                    .clone()
                    .run(req, extensions)
                    .await
                    .map_err(redact_error)?;
                let forbidden = match answered(shared, response, attempt, &mut body, &mut attempts)?
                {
                    Answered::Return(response) => return Ok(response),
                    Answered::Again(again) => {
                        req = again;
                        continue;
                    }
                    Answered::Forbidden(forbidden) => forbidden,
                };
                req = match forbidden.await {
                    AfterForbidden::Return(response) => return Ok(response),
                    AfterForbidden::Retry(again) => again,
                };
            }
            tracing::trace!(url = %Redacted(req.url()), "no route matches: sent unsigned");
            shared.engine.routes.warn_near_miss(req.url());
            let response = next.run(req, extensions).await.map_err(redact_error)?;
            Ok(explain_unsigned(shared, response))
        })
    }
}

/// What signing the next attempt needs that may have to be awaited: `req`'s plan, its
/// region known; the body hashed, when the route hashes bodies; the credentials. `None`
/// when no route matches `req`.
///
/// One future for all three (most requests await none of them): the send loop's future
/// then holds the plan in the same bytes as the attempt, not beside it.
async fn ready<'a>(
    shared: &'a Shared,
    req: &mut reqwest::Request,
    overrides: Option<&'a SigningOverride>,
    body: &mut PreparedBody,
) -> Result<Option<(Plan<'a>, Arc<Cached>)>, Error> {
    let mut plan = shared.engine.plan(req, overrides)?;
    shared.complete_region(&mut plan).await?;
    // Read through a reference: a second binding of the plan would be a second copy of it
    // in the future.
    let Some(first) = &plan else {
        return Ok(None);
    };
    let route = first.resolved.route;
    if !first.unsigned_payload && body.is_unsigned() {
        *body = prepare(req, shared.body_limit).await?;
    } else if first.unsigned_payload && !body.is_kept() {
        *body = keep_unhashed(req);
    }
    let credentials = shared.cache_for(route).get().await?;
    Ok(plan.map(|plan| (plan, credentials)))
}

/// Signs `req` by `plan` for the next attempt, keeping what a retry or a redirect sends
/// again (taken before this signature is added; a signed request's summary keeps it. A
/// signature header the caller set is kept too: the summary never lists it, and signing
/// the request again removes it, as `Engine::sign` does now).
///
/// Not inlined, nor is [`answered`]: the send loop's poll then holds none of their
/// temporaries in its own stack frame, and the two reuse the same stack below it.
#[inline(never)]
fn sign_attempt<'a>(
    shared: &'a Shared,
    plan: Plan<'a>,
    req: &mut reqwest::Request,
    body: &PreparedBody,
    signing: &'a SigningCredentials,
) -> Result<Attempt<'a>, Error> {
    let kept = keep(req);
    let signed = shared.engine.sign(plan, req, body, signing, kept)?;
    // Only a signed request can carry a signature somewhere it does not belong.
    let sent = SentUrl::new(req.url(), signed.kept());
    Ok(Attempt::Signed(signed, sent))
}

/// What the send loop does with an answer.
enum Answered<'a> {
    /// Hand this response to the caller.
    Return(reqwest::Response),
    /// Send this request (a redirect's next hop).
    Again(reqwest::Request),
    /// Read the 403 to a signed request, which may ask for it to be sent again.
    Forbidden(Pin<Box<dyn Future<Output = AfterForbidden> + Send + 'a>>),
}

/// What to do with `response`, the answer to `attempt`.
#[inline(never)]
fn answered<'a>(
    shared: &'a Shared,
    response: reqwest::Response,
    attempt: Attempt<'a>,
    body: &'a mut PreparedBody,
    attempts: &'a mut Attempts,
) -> Result<Answered<'a>, Error> {
    if let Attempt::Signed(signed, sent) = &attempt {
        sent.check(response.url(), signed.kept())?;
        // A server that accepted the request verified the Host that was signed: its answer is
        // the caller's (an error in its place could make a retry repeat a done POST).
        if !response.status().is_success() {
            signed.check_host_carried(response.version())?;
        }
    }
    if response.status() == StatusCode::FORBIDDEN {
        let Attempt::Signed(signed, _) = attempt else {
            return Ok(Answered::Return(response));
        };
        let after = boxed_after_forbidden(shared, response, signed, body, attempts);
        return Ok(Answered::Forbidden(after));
    }
    Ok(
        match follow(shared, &response, attempt.kept(), body, attempts) {
            Some(again) => Answered::Again(again),
            None => Answered::Return(attach(shared.summaries, response, attempt.into_signed())),
        },
    )
}

/// One request sent: signed (what it was before, and what its summary is made of), or sent
/// unsigned (a redirect that left the routes).
enum Attempt<'a> {
    Signed(Signed<'a>, SentUrl),
    Unsigned(Kept),
}

impl<'a> Attempt<'a> {
    /// What the request was before it was signed.
    fn kept(&self) -> &Kept {
        match self {
            Attempt::Signed(signed, _) => signed.kept(),
            Attempt::Unsigned(kept) => kept,
        }
    }

    fn into_signed(self) -> Option<Signed<'a>> {
        match self {
            Attempt::Signed(signed, _) => Some(signed),
            Attempt::Unsigned(_) => None,
        }
    }
}

/// What was retried or followed so far for one request.
#[derive(Default)]
struct Attempts {
    clock_retried: bool,
    token_retried: bool,
    redirects: usize,
    /// The latest attempt's body was a stream sent as it is: it cannot be sent again.
    body_gone: bool,
}

impl Attempts {
    /// Whether the request is still the caller's own: nothing retried or followed yet.
    fn none_yet(&self) -> bool {
        !self.clock_retried && !self.token_retried && self.redirects == 0
    }
}

/// What to do after a 403 to a signed request.
enum AfterForbidden {
    /// Send this request again (re-signed).
    Retry(reqwest::Request),
    /// Hand this response to the caller.
    Return(reqwest::Response),
}

/// The next request of a redirect chain, when `response` is a redirect to follow: rebuilt
/// from `kept`, with `body` (emptied when the hop drops it).
fn follow(
    shared: &Shared,
    response: &reqwest::Response,
    kept: &Kept,
    body: &mut PreparedBody,
    attempts: &mut Attempts,
) -> Option<reqwest::Request> {
    let hop = next_hop(
        &shared.engine.redirects,
        &shared.engine.routes,
        response.status(),
        response.headers(),
        response.url(),
        kept.method(),
        attempts.redirects,
    )?;
    if attempts.body_gone && !hop.drops_body() {
        tracing::debug!(
            status = response.status().as_u16(),
            "the body was streamed unsigned and cannot be sent again: the redirect is returned, not followed"
        );
        return None;
    }
    attempts.redirects += 1;
    let mut again = rebuild(kept, body);
    if hop.drops_body() {
        *again.body_mut() = None;
        *body = PreparedBody::empty();
    }
    hop.apply(&mut again, response.url());
    Some(again)
}

/// [`after_forbidden`], boxed where it is made. 403s are rare and reading one is a large
/// future: built in [`answered`], it would widen that function's stack frame (every
/// request's) by its size before moving to the heap.
#[cold]
#[inline(never)]
fn boxed_after_forbidden<'a>(
    shared: &'a Shared,
    response: reqwest::Response,
    signed: Signed<'a>,
    body: &'a PreparedBody,
    attempts: &'a mut Attempts,
) -> Pin<Box<dyn Future<Output = AfterForbidden> + Send + 'a>> {
    Box::pin(after_forbidden(shared, response, signed, body, attempts))
}

/// After a 403 to the signed request `signed`: reloads credentials whose session token
/// the verifier refused, or learns the verifier's clock, and says whether to send again;
/// else explains the refusal on the response.
async fn after_forbidden(
    shared: &Shared,
    response: reqwest::Response,
    signed: Signed<'_>,
    body: &PreparedBody,
    attempts: &mut Attempts,
) -> AfterForbidden {
    let engine = &shared.engine;
    // Borrowed from the cache's entry, which the send loop holds: which credentials a
    // refusal is about.
    let signed_with = signed.credentials();
    // A refused request's summary explains it, and is attached to the answer.
    let signed = signed.into_summary();
    let can_retry = engine.max_clock_correction.is_some() && !attempts.clock_retried;
    let can_reload = !attempts.token_retried;
    // Read only for a use: an explanation, a clock correction or a token reload.
    let (mut response, inspected) = if shared.explain_403 || can_retry || can_reload {
        inspect_403(response, shared.inspect_deadline).await
    } else {
        (response, Inspected::default())
    };
    if can_reload && inspected.security_token_refused() {
        let cache = shared.cache_for(signed.compiled_route());
        // Reloaded for the requests to come even when this one cannot be sent again.
        if cache.reload_refused(signed_with).await && !attempts.body_gone {
            attempts.token_retried = true;
            return AfterForbidden::Retry(rebuild(signed.kept(), body));
        }
    }
    if let Some(offset) = engine.clock_correction(&inspected, signed.host(), can_retry) {
        engine.offsets.set(signed.host(), offset);
        // Learned for the requests to come; a streamed body that is gone cannot be sent
        // again, so then the refusal is the answer.
        if !attempts.body_gone {
            tracing::warn!(
                offset_ms = offset,
                host = signed.host(),
                "the verifier's clock differs from ours: re-signing with its time and retrying once"
            );
            attempts.clock_retried = true;
            return AfterForbidden::Retry(rebuild(signed.kept(), body));
        }
        tracing::warn!(
            offset_ms = offset,
            host = signed.host(),
            "the verifier's clock differs from ours: re-signing with its time from the next request (this one's streamed body is gone: not retried)"
        );
    }
    if shared.explain_403 {
        attach_explanation(shared, &mut response, &inspected, Some(&signed));
    }
    AfterForbidden::Return(attach(shared.summaries, response, Some(signed)))
}
