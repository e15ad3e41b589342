//! The `reqwest-middleware` `Middleware`: each request through the engine, then the answer
//! handled — a clock retry, a token reload, a redirect followed, a 403 explained.

use http::{Extensions, HeaderMap, Method, StatusCode};
use url::Url;

use super::body::{keep, prepare, rebuild};
use super::inspect::inspect_403;
use super::response::{attach, attach_explanation, explain_unsigned, redact_error};
use super::{reqwest, reqwest_middleware};
use crate::adapter::{
    sealed, ClientBuilderFor, Presignable, Shared, SigV4Middleware, StreamingBody,
};
use crate::config::{SigningOverride, SkipSigning};
use crate::engine::body::PreparedBody;
use crate::engine::forbidden::Inspected;
use crate::engine::redact::Redacted;
use crate::engine::redirect::{next_hop, SentUrl};
use crate::engine::scope::Plan;
use crate::engine::summary::SignedRequest;
use crate::engine::{strip_signature, RequestHead};
use crate::error::Error;

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

#[async_trait::async_trait]
impl reqwest_middleware::Middleware for SigV4Middleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if extensions.get::<SkipSigning>().is_some() {
            return next.run(req, extensions).await;
        }
        let shared = &*self.inner;
        let overrides = extensions.get::<SigningOverride>().cloned();
        match shared.plan(&mut req, overrides.as_ref()).await? {
            Some(plan) => send(shared, req, plan, extensions, next, overrides).await,
            None => {
                tracing::trace!(url = %Redacted(req.url()), "no route matches: sent unsigned");
                shared.engine.routes.warn_near_miss(req.url());
                let response = next.run(req, extensions).await.map_err(redact_error)?;
                Ok(explain_unsigned(shared, response))
            }
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

/// Signs and sends `req` by `plan`, then follows what the answer asks for: a clock retry,
/// a token reload, a redirect.
async fn send(
    shared: &Shared,
    mut req: reqwest::Request,
    plan: Plan<'_>,
    extensions: &mut Extensions,
    next: reqwest_middleware::Next<'_>,
    overrides: Option<SigningOverride>,
) -> reqwest_middleware::Result<reqwest::Response> {
    let mut body = match plan.unsigned_payload {
        true => PreparedBody::unsigned(),
        false => prepare(&mut req, shared.body_limit).await?,
    };
    let mut plan = Some(plan);
    let mut attempts = Attempts::default();
    loop {
        if let Some(p) = &plan {
            if !p.unsigned_payload && body.is_unsigned() {
                // A redirect from a route that does not hash bodies to one that does.
                body = prepare(&mut req, shared.body_limit).await?;
            }
        }
        // What a retry or a redirect sends again, taken before the signature is added; a
        // signed request's summary keeps it.
        let (signed, unsigned_kept) = match plan.take() {
            Some(plan) => {
                let kept = keep(&req);
                (Some(shared.sign(plan, &mut req, &body, kept).await?), None)
            }
            None => {
                strip_signature(&mut req);
                (None, Some(keep(&req)))
            }
        };
        // Only a signed request can carry a signature somewhere it does not belong.
        let sent = signed
            .as_ref()
            .map(|signed| SentUrl::new(req.url(), signed.kept()));
        let response = next
            .clone()
            .run(req, extensions)
            .await
            .map_err(redact_error)?;
        if let (Some(sent), Some(signed)) = (&sent, &signed) {
            sent.check(response.url(), signed.kept())?;
        }
        let status = response.status();
        if status == StatusCode::FORBIDDEN {
            let Some(signed) = signed else {
                return Ok(response);
            };
            // Boxed: 403s are rare, and reading one is a large future.
            match Box::pin(after_forbidden(
                shared,
                response,
                signed,
                &body,
                &mut attempts,
            ))
            .await
            {
                AfterForbidden::Return(response) => return Ok(response),
                AfterForbidden::Retry(again) => req = again,
            }
        } else {
            let kept = match (&signed, &unsigned_kept) {
                (Some(signed), _) => signed.kept(),
                (None, Some(kept)) => kept,
                (None, None) => return Ok(attach(response, signed)),
            };
            let hop = next_hop(
                &shared.engine.redirects,
                &shared.engine.routes,
                status,
                response.headers(),
                response.url(),
                kept.method(),
                attempts.redirects,
            );
            let Some(hop) = hop else {
                return Ok(attach(response, signed));
            };
            attempts.redirects += 1;
            let mut again = rebuild(kept, &body);
            if hop.drops_body() {
                *again.body_mut() = None;
                body = PreparedBody::empty();
            }
            hop.apply(&mut again, response.url());
            req = again;
        }
        plan = shared.plan(&mut req, overrides.as_ref()).await?;
    }
}

/// After a 403 to the signed request `signed`: reloads credentials whose session token
/// the verifier refused, or learns the verifier's clock, and says whether to send again;
/// else explains the refusal on the response.
async fn after_forbidden(
    shared: &Shared,
    response: reqwest::Response,
    signed: SignedRequest,
    body: &PreparedBody,
    attempts: &mut Attempts,
) -> AfterForbidden {
    let engine = &shared.engine;
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
    AfterForbidden::Return(attach(response, Some(signed)))
}
