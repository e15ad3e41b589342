//! Redirects: whether an answer is a redirect to follow, and what the next request is.
//!
//! The middleware follows redirects itself (the client below it must not): each hop that
//! stays on a route is signed afresh for its own URL, and a hop that leaves the routes
//! carries none of the signing headers.

use http::{HeaderMap, Method, StatusCode};
use url::Url;

use crate::config::{CrossRouteRedirect, RedirectPolicy};
use crate::engine::replay::{path_and_query_bounds, up_to_query, Kept};
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
    /// hop no `Authorization`, cookies, proxy credentials or `Host`. The caller drops the
    /// body when [`drops_body`](Self::drops_body).
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
            // As reqwest does on a cross-host hop (`Authorization` too: signing the hop
            // again would keep a caller's own), plus everything SigV4 added.
            for name in [
                "authorization",
                "cookie",
                "proxy-authorization",
                "www-authenticate",
            ] {
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

/// Where a signed request was sent, remembered without a copy of its URL: to tell whether
/// its answer came from there, or from wherever the client below followed a redirect to.
#[derive(Debug)]
pub(crate) struct SentUrl {
    /// Hash of the URL up to its query (what a redirect would change); `None` when it is
    /// the kept URL's own (signing in headers changes no URL), which the answer's URL is
    /// then compared with directly.
    hash: Option<u64>,
    /// Scheme, host and port sent to, when not the kept URL's (a rewritten URL).
    origin: Option<Box<str>>,
}

impl SentUrl {
    /// `sent`, the URL of the request `kept` was taken from, as it goes out.
    pub(crate) fn new(sent: &Url, kept: &Kept) -> Self {
        if kept.up_to_query_is(up_to_query(sent)) {
            return Self {
                hash: None,
                origin: None,
            };
        }
        let unchanged = kept.origin_is(&sent.as_str()[..path_and_query_bounds(sent).0]);
        Self {
            hash: Some(hash_of(sent)),
            origin: (!unchanged).then(|| origin_of(sent).into_boxed_str()),
        }
    }

    /// Fails when the response came from another URL than the request was sent to: the
    /// client below the middleware followed a redirect with the signed request.
    pub(crate) fn check(&self, answered: &Url, kept: &Kept) -> Result<(), Error> {
        // reqwest's stand-in URL for a response built without one (a middleware's canned
        // answer).
        let same = match self.hash {
            Some(hash) => hash_of(answered) == hash,
            None => kept.up_to_query_is(up_to_query(answered)),
        };
        if same || answered.host_str() == Some("no.url.provided.local") {
            return Ok(());
        }
        let from = match &self.origin {
            Some(origin) => origin.to_string(),
            None => origin_of(&kept.url()),
        };
        Err(Error::ClientFollowedRedirect {
            from,
            to: origin_of(answered),
        })
    }
}

fn hash_of(url: &Url) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    up_to_query(url).hash(&mut hasher);
    hasher.finish()
}

/// `scheme://host[:port]`, without user info.
fn origin_of(url: &Url) -> String {
    use url::Position::{AfterPort, BeforeHost};
    format!("{}://{}", url.scheme(), &url[BeforeHost..AfterPort])
}
