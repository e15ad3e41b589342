//! The `reqwest-middleware` `Middleware`: each request through the engine, then the answer
//! handled — a clock retry, a token reload, a redirect followed, a 403 explained.

use std::future::Future;
use std::pin::Pin;

use http::{Extensions, HeaderMap, Method, StatusCode};
use url::Url;

use super::body::{keep, prepare, prepare_in_memory, prepare_stream, rebuild};
use super::inspect::inspect_403;
use super::response::{attach, attach_explanation, explain_unsigned, redact_error};
use super::{reqwest, reqwest_middleware};
use crate::adapter::{
    sealed, ClientBuilderFor, Presignable, Shared, SigV4Middleware, StreamingBody,
};
use crate::config::{SigningOverride, SkipSigning};
use crate::engine::body::PreparedBody;
use crate::engine::forbidden::Inspected;
use crate::engine::redirect::{next_hop, SentUrl};
use crate::engine::replay::Kept;
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
        let client = self.redirect(reqwest::redirect::Policy::none()).build()?;
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
            let mut plan = shared.engine.plan(&mut req, overrides.as_deref())?;
            shared.complete_region(&mut plan).await?;
            let Some(first) = &plan else {
                tracing::trace!(url = %Redacted(req.url()), "no route matches: sent unsigned");
                shared.engine.routes.warn_near_miss(req.url());
                let response = next.run(req, extensions).await.map_err(redact_error)?;
                return Ok(explain_unsigned(shared, response));
            };
            let mut body = match first.unsigned_payload {
                true => PreparedBody::unsigned(),
                false => match prepare_in_memory(&mut req) {
                    Some(body) => body,
                    None => Box::pin(prepare_stream(&mut req, shared.body_limit)).await?,
                },
            };
            let mut attempts = Attempts::default();
            loop {
                if plan
                    .as_ref()
                    .is_some_and(|p| !p.unsigned_payload && body.is_unsigned())
                {
                    // A redirect from a route that does not hash bodies to one that does.
                    body = prepare(&mut req, shared.body_limit).await?;
                }
                let credentials = match &plan {
                    Some(p) => Some(shared.cache_for(p.resolved.route).get().await?),
                    None => None,
                };
                // In a block: what this attempt sent and got is gone before the next is planned.
                // (The attempt borrows the credentials: a summary is made from them only for
                // an answer that carries one.)
                req = {
                    // What a retry or a redirect sends again, taken before this signature is
                    // added; a signed request's summary keeps it. (A signature header the
                    // caller set is kept too: the summary never lists it, and signing the
                    // request again removes it, as `Engine::sign` does now.)
                    let attempt = match (plan.take(), &credentials) {
                        (Some(plan), Some(credentials)) => {
                            let kept = keep(&req);
                            let signing = &credentials.signing;
                            let signed =
                                shared.engine.sign(plan, &mut req, &body, signing, kept)?;
                            Attempt::Signed(signed)
                        }
                        _ => {
                            strip_signature(&mut req);
                            Attempt::Unsigned(keep(&req))
                        }
                    };
                    // Only a signed request can carry a signature somewhere it does not belong.
                    let sent = match &attempt {
                        Attempt::Signed(signed) => Some(SentUrl::new(req.url(), signed.kept())),
                        Attempt::Unsigned(_) => None,
                    };
                    let response = next
                        .clone()
                        .run(req, extensions)
                        .await
                        .map_err(redact_error)?;
                    if let Some(sent) = &sent {
                        sent.check(response.url(), attempt.kept())?;
                    }
                    if response.status() == StatusCode::FORBIDDEN {
                        let Attempt::Signed(signed) = attempt else {
                            return Ok(response);
                        };
                        let after =
                            boxed_after_forbidden(shared, response, signed, &body, &mut attempts);
                        match after.await {
                            AfterForbidden::Return(response) => return Ok(response),
                            AfterForbidden::Retry(again) => again,
                        }
                    } else {
                        match follow(shared, &response, attempt.kept(), &mut body, &mut attempts) {
                            Some(again) => again,
                            None => {
                                return Ok(attach(
                                    shared.summaries,
                                    response,
                                    attempt.into_signed(),
                                ))
                            }
                        }
                    }
                };
                plan = shared.engine.plan(&mut req, overrides.as_deref())?;
                shared.complete_region(&mut plan).await?;
            }
        })
    }
}

/// One request sent: signed (what it was before, and what its summary is made of), or sent
/// unsigned (a redirect that left the routes).
enum Attempt<'a> {
    Signed(Signed<'a>),
    Unsigned(Kept),
}

impl<'a> Attempt<'a> {
    /// What the request was before it was signed.
    fn kept(&self) -> &Kept {
        match self {
            Attempt::Signed(signed) => signed.kept(),
            Attempt::Unsigned(kept) => kept,
        }
    }

    fn into_signed(self) -> Option<Signed<'a>> {
        match self {
            Attempt::Signed(signed) => Some(signed),
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
/// future: built in the send loop's own poll, it would widen that poll's stack frame (every
/// request's) by its size before moving to the heap.
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
        if Shared::reload_refused(cache, &signed).await {
            attempts.token_retried = true;
            return AfterForbidden::Retry(rebuild(signed.kept(), body));
        }
    }
    if let Some(offset) = engine.clock_correction(&inspected, signed.host(), can_retry) {
        tracing::warn!(
            offset_ms = offset,
            host = signed.host(),
            "the verifier's clock differs from ours: re-signing with its time and retrying once"
        );
        engine.offsets.set(signed.host(), offset);
        attempts.clock_retried = true;
        return AfterForbidden::Retry(rebuild(signed.kept(), body));
    }
    if shared.explain_403 {
        attach_explanation(shared, &mut response, &inspected, Some(&signed));
    }
    AfterForbidden::Return(attach(shared.summaries, response, Some(signed)))
}
