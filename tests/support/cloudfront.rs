//! A loopback stand-in for a CloudFront distribution in front of custom origins (API Gateway).
//!
//! It does to each request what CloudFront does before the origin sees it: picks a behavior by
//! path pattern, puts the origin path in front of the viewer path, replaces or keeps Host per the
//! origin request policy, forwards or drops viewer headers and the query string, adds
//! `X-Amz-Cf-Id`, `Via`, `X-Forwarded-For`, drops hop-by-hop headers, and refuses a GET or HEAD
//! with a body itself. Forwarding uses a plain `reqwest::Client` (no redirects, no proxy) that
//! resolves each origin domain to its loopback address, over HTTP/1.1 as CloudFront speaks
//! to custom origins, whichever HTTP version the viewer came with.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::{
    find_header, glob_match, header_pairs, http_date, is_hop_by_hop, random_chars, random_hex,
    received_host, strip_port, BufferedRequest, BufferedResponse, Listen, ReceivedHost,
};

/// Which viewer headers (and query string) reach the origin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OriginRequestPolicy {
    /// `Managed-AllViewerExceptHostHeader`: every viewer header but Host, and the query string.
    AllViewerExceptHostHeader,
    /// `Managed-AllViewer`: every viewer header, Host included, and the query string.
    AllViewer,
    /// Legacy cache settings forwarding nothing: no viewer headers (Authorization, X-Amz-*
    /// dropped), no query string; `User-Agent: Amazon CloudFront`, `Accept-Encoding: gzip`.
    LegacyNone,
}

impl OriginRequestPolicy {
    fn forwards_viewer_headers(self) -> bool {
        !matches!(self, OriginRequestPolicy::LegacyNone)
    }
}

/// A custom origin: its domain name, where to reach it, and its origin path.
#[derive(Clone, Debug)]
pub struct Origin {
    /// Origin id behaviors refer to.
    pub id: String,
    /// Origin domain name (sent as Host unless the policy forwards the viewer's).
    pub domain: String,
    /// Loopback address the domain resolves to.
    pub addr: SocketAddr,
    /// Origin path put in front of the viewer path (`""` or e.g. `/prod`).
    pub path: String,
}

impl Origin {
    /// An origin with no origin path.
    pub fn new(id: &str, domain: &str, addr: SocketAddr) -> Origin {
        Origin {
            id: id.to_string(),
            domain: domain.to_ascii_lowercase(),
            addr,
            path: String::new(),
        }
    }

    /// Sets the origin path (`/prod`; a trailing `/` is dropped).
    pub fn path(mut self, path: &str) -> Origin {
        let trimmed = path.trim_end_matches('/');
        self.path = if trimmed.is_empty() || trimmed.starts_with('/') {
            trimmed.to_string()
        } else {
            format!("/{trimmed}")
        };
        self
    }
}

/// A cache behavior: path pattern → origin, with its origin request policy.
#[derive(Clone, Debug)]
pub struct Behavior {
    /// Path pattern (`/api/*`; `*` for the default behavior).
    pub path_pattern: String,
    /// Id of the origin it targets.
    pub origin_id: String,
    /// Its origin request policy.
    pub policy: OriginRequestPolicy,
}

/// Configuration of a [`CloudFront`]; start it with [`CloudFrontBuilder::start`].
#[derive(Clone, Debug)]
pub struct CloudFrontBuilder {
    domain: String,
    aliases: Vec<String>,
    origins: Vec<Origin>,
    behaviors: Vec<Behavior>,
    default_behavior: Option<Behavior>,
    listen: Listen,
}

/// A running CloudFront stand-in; stops when dropped.
pub struct CloudFront {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

/// One viewer request and what CloudFront did with it.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// HTTP version the viewer came over.
    pub viewer_version: http::Version,
    /// Viewer method.
    pub viewer_method: String,
    /// Viewer `Host` as received (on HTTP/2, the `:authority`).
    pub viewer_host: String,
    /// Viewer request target (`/path?query`).
    pub viewer_target: String,
    /// Viewer headers as received (names lower-case).
    pub viewer_headers: Vec<(String, String)>,
    /// What went to the origin (`None` if CloudFront answered itself).
    pub forwarded: Option<OriginRequest>,
    /// Status returned to the viewer.
    pub status: u16,
}

/// A request CloudFront sent to an origin.
#[derive(Clone, Debug)]
pub struct OriginRequest {
    /// Id of the origin.
    pub origin_id: String,
    /// Host header sent.
    pub host: String,
    /// Request target sent (`/origin-path/viewer-path?query`).
    pub target: String,
    /// Headers sent, Host first (reqwest may add `accept: */*` and sets `content-length`).
    pub headers: Vec<(String, String)>,
    /// Body sent.
    pub body: Bytes,
}

impl OriginRequest {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

struct State {
    config: CloudFrontBuilder,
    client: reqwest::Client,
    exchanges: Mutex<Vec<Exchange>>,
}

impl CloudFrontBuilder {
    /// Adds an alternate domain name (CNAME) the distribution answers for.
    pub fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_ascii_lowercase());
        self
    }

    /// Adds an origin.
    pub fn origin(mut self, origin: Origin) -> Self {
        self.origins.push(origin);
        self
    }

    /// Adds a behavior (matched in the order added, before the default).
    pub fn behavior(
        mut self,
        path_pattern: &str,
        origin_id: &str,
        policy: OriginRequestPolicy,
    ) -> Self {
        self.behaviors.push(Behavior {
            path_pattern: path_pattern.to_string(),
            origin_id: origin_id.to_string(),
            policy,
        });
        self
    }

    /// Sets the default (`*`) behavior.
    pub fn default_behavior(mut self, origin_id: &str, policy: OriginRequestPolicy) -> Self {
        self.default_behavior = Some(Behavior {
            path_pattern: "*".to_string(),
            origin_id: origin_id.to_string(),
            policy,
        });
        self
    }

    /// Listens to viewers as `listen` says (default: 127.0.0.1, HTTP/1.1, no TLS).
    pub fn listen(mut self, listen: Listen) -> Self {
        self.listen = listen;
        self
    }

    /// Binds port 0 of its address and serves on the current tokio runtime.
    pub async fn start(self) -> CloudFront {
        for b in self.behaviors.iter().chain(self.default_behavior.iter()) {
            assert!(
                self.origins.iter().any(|o| o.id == b.origin_id),
                "behavior {} targets unknown origin {}",
                b.path_pattern,
                b.origin_id
            );
        }
        let mut client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(std::time::Duration::from_secs(30));
        for o in &self.origins {
            client = client.resolve(&o.domain, o.addr);
        }
        let listen = self.listen.clone();
        let state = Arc::new(State {
            config: self,
            client: client.build().expect("build CloudFront's origin client"),
            exchanges: Mutex::new(Vec::new()),
        });
        let handler_state = state.clone();
        let (addr, task) = super::spawn_server_on(&listen, move |req, peer| {
            let state = handler_state.clone();
            async move { state.handle(req, peer).await }
        });
        CloudFront { addr, state, task }
    }
}

impl CloudFront {
    /// A builder for distribution `domain` (e.g. `d111111abcdef8.cloudfront.net`).
    pub fn builder(domain: &str) -> CloudFrontBuilder {
        CloudFrontBuilder {
            domain: domain.to_ascii_lowercase(),
            aliases: Vec::new(),
            origins: Vec::new(),
            behaviors: Vec::new(),
            default_behavior: None,
            listen: Listen::default(),
        }
    }

    /// The loopback address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every viewer request so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.state.exchanges.lock().unwrap().clone()
    }

    /// Every request forwarded to an origin so far, in order.
    pub fn forwarded(&self) -> Vec<OriginRequest> {
        self.exchanges()
            .into_iter()
            .filter_map(|e| e.forwarded)
            .collect()
    }

    /// Forgets the exchanges so far.
    pub fn clear(&self) {
        self.state.exchanges.lock().unwrap().clear();
    }

    /// The distribution domain name.
    pub fn domain(&self) -> &str {
        &self.state.config.domain
    }
}

impl Drop for CloudFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl State {
    fn behavior_for(&self, path: &str) -> Option<&Behavior> {
        let cfg = &self.config;
        cfg.behaviors
            .iter()
            .find(|b| {
                let pattern = if b.path_pattern.starts_with('/') || b.path_pattern.starts_with('*')
                {
                    b.path_pattern.clone()
                } else {
                    format!("/{}", b.path_pattern)
                };
                glob_match(&pattern, path)
            })
            .or(cfg.default_behavior.as_ref())
    }

    async fn handle(&self, req: BufferedRequest, peer: SocketAddr) -> BufferedResponse {
        let viewer_method = req.method().as_str().to_string();
        let viewer_target = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".to_string());
        let viewer_version = req.version();
        let mut viewer_headers = header_pairs(req.headers());
        // On HTTP/2 the viewer's host is its `:authority` (listed as `host`, as CloudFront
        // turns it into one for an HTTP/1.1 origin); two different hosts are malformed.
        let received = received_host(&req, &mut viewer_headers);
        let malformed = matches!(received, ReceivedHost::Conflicting { .. });
        let viewer_host = match received {
            ReceivedHost::Named(host) => host,
            ReceivedHost::Conflicting { authority, .. } => authority,
            ReceivedHost::Missing => String::new(),
        };
        let body = req.into_body();
        let (path, query) = match viewer_target.split_once('?') {
            Some((p, q)) => (p.to_string(), Some(q.to_string())),
            None => (viewer_target.clone(), None),
        };
        let cf_id = random_chars(
            56,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        );

        let mut record = Exchange {
            viewer_version,
            viewer_method: viewer_method.clone(),
            viewer_host: viewer_host.clone(),
            viewer_target: viewer_target.clone(),
            viewer_headers: viewer_headers.clone(),
            forwarded: None,
            status: 0,
        };

        let name = strip_port(&viewer_host).to_ascii_lowercase();
        let known = name == self.config.domain || self.config.aliases.contains(&name);
        // An unknown Host, or a GET or HEAD with a body: CloudFront answers itself.
        let get_with_body = matches!(viewer_method.as_str(), "GET" | "HEAD") && !body.is_empty();
        let response = if malformed {
            cloudfront_error(400, "Bad request.", &cf_id)
        } else if !known || get_with_body {
            cloudfront_error(403, "Bad request.", &cf_id)
        } else {
            match self.behavior_for(&path) {
                None => cloudfront_error(403, "Bad request.", &cf_id),
                Some(behavior) => {
                    let origin = self
                        .config
                        .origins
                        .iter()
                        .find(|o| o.id == behavior.origin_id)
                        .expect("origin checked at start");
                    let forwarded = build_origin_request(
                        behavior.policy,
                        origin,
                        &viewer_host,
                        &path,
                        query.as_deref(),
                        &viewer_headers,
                        body,
                        peer,
                        &cf_id,
                    );
                    let response = self
                        .forward(&viewer_method, origin, &forwarded, &cf_id)
                        .await;
                    record.forwarded = Some(forwarded);
                    response
                }
            }
        };
        record.status = response.status().as_u16();
        self.exchanges.lock().unwrap().push(record);
        response
    }

    async fn forward(
        &self,
        method: &str,
        origin: &Origin,
        forwarded: &OriginRequest,
        cf_id: &str,
    ) -> BufferedResponse {
        let url = format!("http://{}{}", origin.domain, forwarded.target);
        let Ok(method) = reqwest::Method::from_bytes(method.as_bytes()) else {
            return cloudfront_error(403, "Bad request.", cf_id);
        };
        let mut headers = reqwest::header::HeaderMap::new();
        for (n, v) in &forwarded.headers {
            if let (Ok(n), Ok(v)) = (
                reqwest::header::HeaderName::from_bytes(n.as_bytes()),
                reqwest::header::HeaderValue::from_str(v),
            ) {
                headers.append(n, v);
            }
        }
        let mut request = self.client.request(method, &url).headers(headers);
        if !forwarded.body.is_empty() {
            request = request.body(forwarded.body.clone());
        }
        let response = match request.send().await {
            Ok(r) => r,
            Err(_) => return cloudfront_error(502, "Bad gateway.", cf_id),
        };
        let status = response.status().as_u16();
        let mut builder = http::Response::builder().status(status);
        let connection_named = connection_tokens(response.headers());
        for (n, v) in response.headers() {
            let name = n.as_str();
            if is_hop_by_hop(name)
                || name == "content-length"
                || connection_named.contains(&name.to_string())
            {
                continue;
            }
            builder = builder.header(n, v);
        }
        let body = response.bytes().await.unwrap_or_default();
        builder
            .header("x-cache", "Miss from cloudfront")
            .header("via", via())
            .header("x-amz-cf-pop", "IAD89-C1")
            .header("x-amz-cf-id", cf_id)
            .body(body)
            .expect("viewer response")
    }
}

#[allow(clippy::too_many_arguments)]
fn build_origin_request(
    policy: OriginRequestPolicy,
    origin: &Origin,
    viewer_host: &str,
    path: &str,
    query: Option<&str>,
    viewer_headers: &[(String, String)],
    body: Bytes,
    peer: SocketAddr,
    cf_id: &str,
) -> OriginRequest {
    let host = match policy {
        OriginRequestPolicy::AllViewer => strip_port(viewer_host).to_string(),
        _ => origin.domain.clone(),
    };
    let mut target = format!("{}{}", origin.path, path);
    if policy.forwards_viewer_headers() {
        if let Some(q) = query {
            target.push('?');
            target.push_str(q);
        }
    }

    let connection_named: Vec<String> = find_header(viewer_headers, "connection")
        .map(|v| {
            v.split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect()
        })
        .unwrap_or_default();
    let mut headers: Vec<(String, String)> = vec![("host".to_string(), host.clone())];
    let mut viewer_xff = None;
    let mut viewer_via = None;
    if policy.forwards_viewer_headers() {
        for (n, v) in viewer_headers {
            let n = n.to_ascii_lowercase();
            if is_hop_by_hop(&n) || connection_named.contains(&n) {
                continue;
            }
            match n.as_str() {
                "host" | "content-length" => {}
                "x-forwarded-for" => viewer_xff = Some(v.clone()),
                "via" => viewer_via = Some(v.clone()),
                // CloudFront's own headers are never taken from the viewer.
                "x-amz-cf-id" => {}
                _ => headers.push((n, v.clone())),
            }
        }
    } else {
        if let Some(ct) = find_header(viewer_headers, "content-type") {
            headers.push(("content-type".into(), ct.to_string()));
        }
        headers.push(("user-agent".into(), "Amazon CloudFront".into()));
        if find_header(viewer_headers, "accept-encoding").is_some_and(|v| v.contains("gzip")) {
            headers.push(("accept-encoding".into(), "gzip".into()));
        }
    }
    let client_ip = peer.ip().to_string();
    headers.push((
        "x-forwarded-for".into(),
        match viewer_xff {
            Some(x) => format!("{x}, {client_ip}"),
            None => client_ip,
        },
    ));
    headers.push((
        "via".into(),
        match viewer_via {
            Some(v) => format!("{v}, {}", via()),
            None => via(),
        },
    ));
    headers.push(("x-amz-cf-id".into(), cf_id.to_string()));

    OriginRequest {
        origin_id: origin.id.clone(),
        host,
        target,
        headers,
        body,
    }
}

fn connection_tokens(headers: &http::HeaderMap) -> Vec<String> {
    headers
        .get_all("connection")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .collect()
}

fn via() -> String {
    format!("1.1 {}.cloudfront.net (CloudFront)", random_hex(32))
}

/// A response CloudFront generates itself (HTML, no JSON `message`).
fn cloudfront_error(status: u16, reason: &str, cf_id: &str) -> BufferedResponse {
    let title = match status {
        400 => "400 ERROR",
        502 => "502 ERROR",
        _ => "403 ERROR",
    };
    let body = format!(
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\">\n\
<HTML><HEAD><META HTTP-EQUIV=\"Content-Type\" CONTENT=\"text/html; charset=iso-8859-1\">\n\
<TITLE>ERROR: The request could not be satisfied</TITLE>\n\
</HEAD><BODY>\n\
<H1>{title}</H1>\n\
<H2>The request could not be satisfied.</H2>\n\
<HR noshade size=\"1px\">\n\
{reason}\n\
We can't connect to the server for this app or website at this time. There might be too much traffic or a configuration error. Try again later, or contact the app or website owner.\n\
<BR clear=\"all\">\n\
<HR noshade size=\"1px\">\n\
<PRE>\n\
Generated by cloudfront (CloudFront)\n\
Request ID: {cf_id}\n\
</PRE>\n\
<ADDRESS>\n\
</ADDRESS>\n\
</BODY></HTML>"
    );
    http::Response::builder()
        .status(status)
        .header("server", "CloudFront")
        .header("date", http_date(std::time::SystemTime::now()))
        .header("content-type", "text/html")
        .header("x-cache", "Error from cloudfront")
        .header("via", via())
        .header("x-amz-cf-pop", "IAD89-C1")
        .header("x-amz-cf-id", cf_id)
        .body(Bytes::from(body))
        .expect("cloudfront error response")
}
