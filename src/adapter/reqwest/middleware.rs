//! The `reqwest-middleware` `Middleware`: each request through the engine, then the answer
//! handled — a clock retry, a token reload, a redirect followed, a 403 explained.

use http::{Extensions, HeaderMap, Method, StatusCode};
use url::Url;

use super::body::{clone_request, prepare};
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
use crate::engine::redirect::{check_not_redirected, next_hop};
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
        req: reqwest::Request,
        extensions: &mut Extensions,
        next: reqwest_middleware::Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        if extensions.get::<SkipSigning>().is_some() {
            return next.run(req, extensions).await;
        }
        let shared = &*self.inner;
        if !shared.engine.routes.matches(req.url()) {
            tracing::trace!(url = %Redacted(req.url()), "no route matches: sent unsigned");
            shared.engine.routes.warn_near_miss(req.url());
            let response = next.run(req, extensions).await.map_err(redact_error)?;
            return Ok(explain_unsigned(shared, response));
        }
        let overrides = extensions.get::<SigningOverride>().cloned();
        send(shared, req, extensions, next, overrides).await
    }
}

/// Signs and sends `req`, then follows what the answer asks for: a clock retry, a token
/// reload, a redirect.
async fn send(
    shared: &Shared,
    mut req: reqwest::Request,
    extensions: &mut Extensions,
    next: reqwest_middleware::Next<'_>,
    overrides: Option<SigningOverride>,
) -> reqwest_middleware::Result<reqwest::Response> {
    let engine = &shared.engine;
    let mut plan = shared.plan(&mut req, overrides.as_ref()).await?;
    let mut body = match &plan {
        Some(p) if p.unsigned_payload => PreparedBody::unsigned(),
        _ => prepare(&mut req, shared.body_limit).await?,
    };
    let mut clock_retried = false;
    let mut token_retried = false;
    let mut redirects = 0;
    loop {
        if let Some(p) = &plan {
            if !p.unsigned_payload && body.is_unsigned() {
                // A redirect from a route that does not hash bodies to one that does.
                body = prepare(&mut req, shared.body_limit).await?;
            }
        }
        let can_retry = plan.is_some() && engine.max_clock_correction.is_some() && !clock_retried;
        // The cache the request is signed from, kept to forget a refused session token.
        let reload_from = plan
            .as_ref()
            .filter(|_| !token_retried)
            .map(|p| shared.cache_for(p.resolved.route).clone());
        let keep_copy =
            can_retry || reload_from.is_some() || engine.redirects.max_redirects > redirects;
        // Copied before signing: a retry or redirect signs afresh anyway, and the copy is
        // cheaper without the signature's headers.
        let copy = if keep_copy {
            clone_request(&body, &mut req)
        } else {
            None
        };
        let signed = match plan.take() {
            Some(plan) => Some(shared.sign(plan, &mut req, &body).await?),
            None => {
                strip_signature(&mut req);
                None
            }
        };
        // Only a signed request can carry a signature somewhere it does not belong.
        let sent = signed.as_ref().map(|_| req.url().clone());
        let response = next
            .clone()
            .run(req, extensions)
            .await
            .map_err(redact_error)?;
        if let Some(sent) = &sent {
            check_not_redirected(sent, response.url())?;
        }

        if response.status() == StatusCode::FORBIDDEN {
            let Some(signed) = signed else {
                return Ok(response);
            };
            // Read only for a use: an explanation or a clock correction.
            let (mut response, inspected) =
                if shared.explain_403 || can_retry || (reload_from.is_some() && copy.is_some()) {
                    Box::pin(inspect_403(response, shared.inspect_deadline)).await
                } else {
                    (response, Inspected::default())
                };
            let copy = match (copy, reload_from) {
                (Some(copy), Some(cache)) if inspected.security_token_refused() => {
                    if Shared::reload_refused(&cache, &signed).await {
                        token_retried = true;
                        req = copy;
                        plan = shared.plan(&mut req, overrides.as_ref()).await?;
                        continue;
                    }
                    Some(copy)
                }
                (copy, _) => copy,
            };
            if let (Some(copy), Some(offset)) = (
                copy,
                engine.clock_correction(&inspected, signed.host(), can_retry),
            ) {
                tracing::warn!(offset_ms = offset, host = signed.host(), "the verifier's clock differs from ours: re-signing with its time and retrying once");
                engine.offsets.set(signed.host(), offset);
                clock_retried = true;
                req = copy;
                plan = shared.plan(&mut req, overrides.as_ref()).await?;
                continue;
            }
            if shared.explain_403 {
                attach_explanation(shared, &mut response, &inspected, Some(&signed));
            }
            return Ok(attach(response, Some(signed)));
        }

        let Some(mut copy) = copy else {
            return Ok(attach(response, signed));
        };
        let hop = next_hop(
            &engine.redirects,
            &engine.routes,
            response.status(),
            response.headers(),
            response.url(),
            copy.method(),
            redirects,
        );
        let Some(hop) = hop else {
            return Ok(attach(response, signed));
        };
        redirects += 1;
        if hop.drops_body() {
            *copy.body_mut() = None;
            body = PreparedBody::empty();
        }
        hop.apply(&mut copy, response.url());
        req = copy;
        plan = shared.plan(&mut req, overrides.as_ref()).await?;
    }
}
