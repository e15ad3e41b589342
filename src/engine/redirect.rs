//! Redirects: whether an answer is a redirect to follow, and what the next request is.
//!
//! The middleware follows redirects itself (the client below it must not): each hop that
//! stays on a route is signed afresh for its own URL, and a hop that leaves the routes
//! carries none of the signing headers.

use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::config::{CrossRouteRedirect, RedirectPolicy};
use crate::engine::route::RouteTable;
use crate::engine::RequestHead;
use crate::error::Error;

/// The next request of a redirect chain.
#[derive(Debug)]
pub(crate) struct Hop {
    target: Url,
    /// 303, or 301/302 after a POST: the next request is a body-less GET.
    switch_to_get: bool,
}

impl Hop {
    /// Whether the next request goes without the body (and its headers).
    pub(crate) fn drops_body(&self) -> bool {
        self.switch_to_get
    }

    /// Turns `req` (a copy of the request just answered) into the next hop's request, as
    /// reqwest would: the method and content headers per the status, and on a cross-origin
    /// hop no cookies, proxy credentials or `Host`. The caller drops the body when
    /// [`drops_body`](Self::drops_body).
    pub(crate) fn apply(self, req: &mut impl RequestHead, answered_url: &Url) {
        if self.switch_to_get {
            *req.method_mut() = Method::GET;
            for name in [
                "content-type",
                "content-length",
                "content-encoding",
                "transfer-encoding",
            ] {
                req.headers_mut().remove(name);
            }
        }
        // Against where the request went (the copy may still hold a URL the route rewrites).
        let same_origin = self.target.host_str() == answered_url.host_str()
            && self.target.port_or_known_default() == answered_url.port_or_known_default();
        if !same_origin {
            // As reqwest does on a cross-host hop, plus everything SigV4 added.
            for name in ["cookie", "proxy-authorization", "www-authenticate"] {
                req.headers_mut().remove(name);
            }
            req.headers_mut().remove(http::header::HOST);
        }
        *req.url_mut() = self.target;
    }
}

/// The hop to follow after an answer with `status` and `headers` from `answered_url` to a
/// request with `method`, when `followed` redirects were followed already; `None` when the
/// answer goes back to the caller.
pub(crate) fn next_hop(
    policy: &RedirectPolicy,
    routes: &RouteTable,
    status: StatusCode,
    headers: &HeaderMap,
    answered_url: &Url,
    method: &Method,
    followed: usize,
) -> Option<Hop> {
    if !status.is_redirection() || followed >= policy.max_redirects {
        return None;
    }
    let location = headers.get(http::header::LOCATION)?.to_str().ok()?;
    let target = answered_url.join(location).ok()?;
    if !matches!(target.scheme(), "http" | "https") {
        return None;
    }
    if !routes.matches(&target) && policy.cross_route == CrossRouteRedirect::Stop {
        return None;
    }
    let switch_to_get = match status {
        StatusCode::SEE_OTHER => method != Method::HEAD,
        StatusCode::MOVED_PERMANENTLY | StatusCode::FOUND => method == Method::POST,
        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT => false,
        _ => return None,
    };
    Some(Hop {
        target,
        switch_to_get,
    })
}

/// Fails when the response came from another URL than the request was sent to: the client
/// below the middleware followed a redirect with the signed request.
pub(crate) fn check_not_redirected(sent: &Url, answered: &Url) -> Result<(), Error> {
    use url::Position::{AfterPort, AfterQuery, BeforeHost};
    // reqwest's stand-in URL for a response built without one (a middleware's canned answer).
    if answered.host_str() == Some("no.url.provided.local")
        || sent[..AfterQuery] == answered[..AfterQuery]
    {
        return Ok(());
    }
    let origin = |u: &Url| format!("{}://{}", u.scheme(), &u[BeforeHost..AfterPort]);
    Err(Error::ClientFollowedRedirect {
        from: origin(sent),
        to: origin(answered),
    })
}
