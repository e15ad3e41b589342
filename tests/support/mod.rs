//! Shared test helpers: loopback stand-ins for API Gateway (AWS_IAM auth) and CloudFront,
//! a loopback-only reqwest client, and a reference signer (aws-sigv4).
//!
//! Included by integration tests (`mod support;`) and by the demo example
//! (`#[path = "../tests/support/mod.rs"] mod support;`): keep it free of anything only one
//! of them has.
#![allow(dead_code)]

pub mod api_gateway;
pub mod cloudfront;
pub mod credentials;
pub mod logs;
pub mod raw;
pub mod signing;
pub mod sts;
pub mod suite;
pub mod tls;

use std::net::SocketAddr;
use std::time::SystemTime;

use aws_credential_types::Credentials;

#[allow(unused_imports)]
pub use api_gateway::{ApiGateway, ApiGatewayBuilder, DenyRule, Echo, Recorded, Verdict};
#[allow(unused_imports)]
pub use cloudfront::{
    Behavior, CloudFront, CloudFrontBuilder, Exchange, Origin, OriginRequest, OriginRequestPolicy,
};

/// Access key id the stand-ins accept by default (AWS's documentation example key).
pub const EXAMPLE_ACCESS_KEY: &str = "AKIDEXAMPLE";
/// Secret key paired with [`EXAMPLE_ACCESS_KEY`] (AWS's documentation example secret).
pub const EXAMPLE_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// Access key id of the temporary (session) example credentials.
pub const EXAMPLE_SESSION_ACCESS_KEY: &str = "ASIAEXAMPLESESSION01";
/// Session token paired with [`EXAMPLE_SESSION_ACCESS_KEY`].
pub const EXAMPLE_SESSION_TOKEN: &str =
    "IQoJb3JpZ2luX2VjEXAMPLE//////////SESSION+TOKEN/FOR/TESTS/ONLY==";

/// Region of the default topology.
pub const REGION: &str = "us-east-1";
/// Service name API Gateway verifies.
pub const SERVICE: &str = "execute-api";
/// REST API id of the default topology.
pub const API_ID: &str = "abc123";
/// Stage of the default topology.
pub const STAGE: &str = "prod";
/// Default execute-api endpoint host of [`API_ID`].
pub const EXECUTE_API_HOST: &str = "abc123.execute-api.us-east-1.amazonaws.com";
/// Custom domain name of the default topology (mapped at [`CUSTOM_DOMAIN_BASE_PATH`]).
pub const CUSTOM_DOMAIN: &str = "api.example.com";
/// Base path mapping of [`CUSTOM_DOMAIN`] to [`API_ID`]/[`STAGE`].
pub const CUSTOM_DOMAIN_BASE_PATH: &str = "v1";
/// CloudFront distribution domain of the default topology.
pub const CLOUDFRONT_DOMAIN: &str = "d111111abcdef8.cloudfront.net";
/// CloudFront alternate domain name (alias) of the default topology.
pub const CLOUDFRONT_ALIAS: &str = "www.example.com";
/// CloudFront origin path of the default topology.
pub const ORIGIN_PATH: &str = "/prod";

/// Long-term example credentials (no session token).
pub fn example_credentials() -> Credentials {
    Credentials::new(
        EXAMPLE_ACCESS_KEY,
        EXAMPLE_SECRET_KEY,
        None,
        None,
        "reqwest-sigv4-tests",
    )
}

/// Temporary example credentials with a session token (a different access key id).
pub fn example_session_credentials() -> Credentials {
    Credentials::new(
        EXAMPLE_SESSION_ACCESS_KEY,
        EXAMPLE_SECRET_KEY,
        Some(EXAMPLE_SESSION_TOKEN.to_string()),
        None,
        "reqwest-sigv4-tests",
    )
}

/// A reqwest client that resolves each name to its loopback address, follows no redirect and uses no proxy.
pub fn client_for(resolves: &[(&str, SocketAddr)]) -> reqwest::Client {
    client_builder_for(resolves)
        .build()
        .expect("build loopback reqwest client")
}

/// The builder behind [`client_for`], to add settings before `build()`.
pub fn client_builder_for(resolves: &[(&str, SocketAddr)]) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(std::time::Duration::from_secs(30));
    for (name, addr) in resolves {
        builder = builder.resolve(name, *addr);
    }
    builder
}

/// Signs like the AWS SDK would for `execute-api` in [`REGION`]; returns the headers to add.
///
/// `url` is the URL as it goes on the wire; `sign_host` overrides the host that is signed
/// (default: the URL's authority, with its port if explicit). `headers` are extra headers to
/// sign (they must also be sent).
pub fn sign_with_aws_sigv4(
    method: &str,
    url: &str,
    sign_host: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
    creds: &Credentials,
    time: SystemTime,
) -> Vec<(String, String)> {
    sign_with_aws_sigv4_scoped(
        REGION, SERVICE, method, url, sign_host, headers, body, creds, time,
    )
}

/// [`sign_with_aws_sigv4`] for any region and service.
#[allow(clippy::too_many_arguments)]
pub fn sign_with_aws_sigv4_scoped(
    region: &str,
    service: &str,
    method: &str,
    url: &str,
    sign_host: Option<&str>,
    headers: &[(&str, &str)],
    body: &[u8],
    creds: &Credentials,
    time: SystemTime,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_sigv4::sign::v4;

    let identity = creds.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .expect("signing params")
        .into();
    let mut all: Vec<(&str, &str)> = Vec::with_capacity(headers.len() + 1);
    if let Some(host) = sign_host {
        all.push(("host", host));
    }
    all.extend(
        headers
            .iter()
            .filter(|(n, _)| !(sign_host.is_some() && n.eq_ignore_ascii_case("host")))
            .copied(),
    );
    let signable = SignableRequest::new(method, url, all.into_iter(), SignableBody::Bytes(body))
        .expect("signable request");
    let (instructions, _signature) = sign(signable, &params)
        .expect("aws-sigv4 sign")
        .into_parts();
    instructions
        .headers()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

/// API Gateway + CloudFront started together with the default names, ready for a test.
///
/// - API Gateway: REST API [`API_ID`] with stage [`STAGE`] in [`REGION`]; custom domain
///   [`CUSTOM_DOMAIN`] mapping [`CUSTOM_DOMAIN_BASE_PATH`] to it; accepts both example credentials.
/// - CloudFront: [`CLOUDFRONT_DOMAIN`] + alias [`CLOUDFRONT_ALIAS`], one origin
///   ([`EXECUTE_API_HOST`] with origin path [`ORIGIN_PATH`]), default behavior `*` with
///   `AllViewerExceptHostHeader`.
pub struct Topology {
    /// The API Gateway stand-in.
    pub api_gateway: ApiGateway,
    /// The CloudFront stand-in in front of it.
    pub cloudfront: CloudFront,
    /// `http`, or `https` when both listen behind TLS.
    scheme: &'static str,
}

impl Topology {
    /// Starts the default topology on the current tokio runtime.
    pub async fn start() -> Topology {
        Self::start_with(
            ApiGateway::builder(),
            OriginRequestPolicy::AllViewerExceptHostHeader,
        )
        .await
    }

    /// Starts the default topology with both stand-ins listening to clients as `listen`
    /// says (HTTP/2, TLS); CloudFront still reaches API Gateway over HTTP/1.1 in clear text.
    pub async fn start_on(listen: Listen) -> Topology {
        let scheme = listen.scheme();
        let mut topology = Self::start_with_cloudfront(
            ApiGateway::builder().listen(listen.clone()),
            OriginRequestPolicy::AllViewerExceptHostHeader,
            CloudFront::builder(CLOUDFRONT_DOMAIN).listen(listen),
        )
        .await;
        topology.scheme = scheme;
        topology
    }

    /// Starts the default names on a customized API Gateway builder and CloudFront policy.
    pub async fn start_with(
        api_gateway: ApiGatewayBuilder,
        policy: OriginRequestPolicy,
    ) -> Topology {
        Self::start_with_cloudfront(api_gateway, policy, CloudFront::builder(CLOUDFRONT_DOMAIN))
            .await
    }

    async fn start_with_cloudfront(
        api_gateway: ApiGatewayBuilder,
        policy: OriginRequestPolicy,
        cloudfront: CloudFrontBuilder,
    ) -> Topology {
        let api_gateway = api_gateway
            .rest_api(API_ID, &[STAGE])
            .custom_domain(CUSTOM_DOMAIN, &[(CUSTOM_DOMAIN_BASE_PATH, API_ID, STAGE)])
            .start()
            .await;
        let cloudfront = cloudfront
            .alias(CLOUDFRONT_ALIAS)
            .origin(Origin::new("apigw", EXECUTE_API_HOST, api_gateway.addr()).path(ORIGIN_PATH))
            .default_behavior("apigw", policy)
            .start()
            .await;
        Topology {
            api_gateway,
            cloudfront,
            scheme: "http",
        }
    }

    /// `http`, or `https` when the topology listens behind TLS.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// A client resolving the execute-api host and custom domain to API Gateway, and the CloudFront names to CloudFront.
    pub fn client(&self) -> reqwest::Client {
        client_for(&self.resolves())
    }

    /// The name → address pairs behind [`Topology::client`].
    pub fn resolves(&self) -> Vec<(&'static str, SocketAddr)> {
        vec![
            (EXECUTE_API_HOST, self.api_gateway.addr()),
            (CUSTOM_DOMAIN, self.api_gateway.addr()),
            (CLOUDFRONT_DOMAIN, self.cloudfront.addr()),
            (CLOUDFRONT_ALIAS, self.cloudfront.addr()),
        ]
    }

    /// `http://abc123.execute-api.us-east-1.amazonaws.com` (no port: the client resolves
    /// it; `https` when the topology listens behind TLS, as are the other bases).
    pub fn execute_api_base(&self) -> String {
        format!("{}://{EXECUTE_API_HOST}", self.scheme)
    }

    /// `http://api.example.com` (the custom domain; paths start with `/v1`).
    pub fn custom_domain_base(&self) -> String {
        format!("{}://{CUSTOM_DOMAIN}", self.scheme)
    }

    /// `http://www.example.com` (the CloudFront alias).
    pub fn cloudfront_alias_base(&self) -> String {
        format!("{}://{CLOUDFRONT_ALIAS}", self.scheme)
    }

    /// `http://d111111abcdef8.cloudfront.net` (the distribution domain).
    pub fn cloudfront_domain_base(&self) -> String {
        format!("{}://{CLOUDFRONT_DOMAIN}", self.scheme)
    }
}

/// API Gateway with custom domain [`CUSTOM_DOMAIN`] (`v1` → [`API_ID`]/[`STAGE`]) behind a
/// CloudFront distribution whose alias is the custom domain and whose origin request
/// policy forwards the viewer `Host` (`AllViewer`), as AWS documents for custom domains.
pub async fn custom_domain_behind_cloudfront() -> (ApiGateway, CloudFront) {
    let api_gateway = ApiGateway::builder()
        .rest_api(API_ID, &[STAGE])
        .custom_domain(CUSTOM_DOMAIN, &[(CUSTOM_DOMAIN_BASE_PATH, API_ID, STAGE)])
        .start()
        .await;
    let cloudfront = CloudFront::builder(CLOUDFRONT_DOMAIN)
        .alias(CUSTOM_DOMAIN)
        .origin(Origin::new(
            "custom-domain",
            "d-abcdef1234.execute-api.us-east-1.amazonaws.com",
            api_gateway.addr(),
        ))
        .default_behavior("custom-domain", OriginRequestPolicy::AllViewer)
        .start()
        .await;
    (api_gateway, cloudfront)
}

/// Strips a `:port` suffix from a Host value (IPv6 literals in brackets kept whole).
pub fn strip_port(host: &str) -> &str {
    if host.ends_with(']') {
        return host;
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// RFC 7231 date (`Sun, 06 Nov 1994 08:49:37 GMT`), as in a `Date` header.
pub fn http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

/// Parses an RFC 7231 `Date` header value.
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s).ok()
}

/// A fresh pseudo-random hex string of `len` characters (request ids, Via names).
pub fn random_hex(len: usize) -> String {
    random_chars(len, b"0123456789abcdef")
}

/// A fresh pseudo-random string of `len` characters drawn from `alphabet`.
pub fn random_chars(len: usize, alphabet: &[u8]) -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    let mut out = String::with_capacity(len);
    let mut word = 0u64;
    let mut bits = 0u32;
    for _ in 0..len {
        if bits < 8 {
            let mut h = state.build_hasher();
            h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
            word = h.finish();
            bits = 64;
        }
        out.push(alphabet[(word % alphabet.len() as u64) as usize] as char);
        word /= alphabet.len() as u64;
        bits -= 8;
    }
    out
}

/// Hop-by-hop headers a proxy never forwards (RFC 9110 7.6.1, plus `proxy-*`).
pub fn is_hop_by_hop(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "connection"
            | "keep-alive"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "proxy-connection"
    ) || n.starts_with("proxy-")
}

/// Status, headers and body text of a response (for assertions and their messages).
pub async fn into_parts(resp: reqwest::Response) -> (u16, reqwest::header::HeaderMap, String) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.unwrap_or_default();
    (status, headers, body)
}

/// A request as a stand-in server received it, body fully read.
pub type BufferedRequest = http::Request<bytes::Bytes>;
/// A response a stand-in server sends.
pub type BufferedResponse = http::Response<bytes::Bytes>;

/// How a stand-in listens: on which loopback address, which HTTP versions, in TLS or not.
/// The default is what every stand-in did first: 127.0.0.1, HTTP/1.1 alone, no TLS.
#[derive(Clone, Debug)]
pub struct Listen {
    ip: std::net::IpAddr,
    http2: bool,
    tls: Option<tls::TestTls>,
}

impl Default for Listen {
    fn default() -> Self {
        Listen {
            ip: std::net::Ipv4Addr::LOCALHOST.into(),
            http2: false,
            tls: None,
        }
    }
}

impl Listen {
    /// HTTP/1.1 alone (the default).
    pub fn http1() -> Listen {
        Listen::default()
    }

    /// HTTP/1.1 and HTTP/2 on one port: HTTP/2 by prior knowledge (h2c) in clear text, or
    /// as ALPN picks it under TLS.
    pub fn http1_and_2() -> Listen {
        Listen {
            http2: true,
            ..Listen::default()
        }
    }

    /// Behind TLS with `tls`'s certificate, offering `h2` by ALPN when HTTP/2 is served. A
    /// connection that opens in clear text is still served, in clear text.
    pub fn tls(mut self, tls: &tls::TestTls) -> Listen {
        self.tls = Some(tls.clone());
        self
    }

    /// On `[::1]` instead of 127.0.0.1.
    pub fn ipv6(mut self) -> Listen {
        self.ip = std::net::Ipv6Addr::LOCALHOST.into();
        self
    }

    /// `https` behind TLS, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() {
            "https"
        } else {
            "http"
        }
    }
}

/// Whether this machine can bind `[::1]` (the IPv6 tests are skipped, with a note, when not).
pub fn ipv6_loopback_available() -> bool {
    std::net::TcpListener::bind((std::net::Ipv6Addr::LOCALHOST, 0)).is_ok()
}

/// Binds 127.0.0.1:0 and serves HTTP/1.1 with `handler` on the current tokio runtime until
/// the returned task is aborted (which also ends every open connection).
pub fn spawn_server<F, Fut>(handler: F) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    F: Fn(BufferedRequest, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = BufferedResponse> + Send + 'static,
{
    spawn_server_on(&Listen::default(), handler)
}

/// [`spawn_server`] listening as `listen` says (port 0 of its address).
pub fn spawn_server_on<F, Fut>(
    listen: &Listen,
    handler: F,
) -> (SocketAddr, tokio::task::JoinHandle<()>)
where
    F: Fn(BufferedRequest, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = BufferedResponse> + Send + 'static,
{
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use std::sync::Arc;

    let std_listener = std::net::TcpListener::bind((listen.ip, 0))
        .unwrap_or_else(|e| panic!("bind {}:0: {e}", listen.ip));
    std_listener.set_nonblocking(true).expect("set_nonblocking");
    let addr = std_listener.local_addr().expect("local_addr");
    let listener = tokio::net::TcpListener::from_std(std_listener).expect("tokio listener");
    let handler = Arc::new(handler);
    let http2 = listen.http2;
    let tls = listen.tls.as_ref().map(|tls| tls.acceptor(http2));
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, peer)) = accepted else { continue };
                    let handler = handler.clone();
                    let tls = tls.clone();
                    connections.spawn(async move {
                        let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                            let handler = handler.clone();
                            async move {
                                let (parts, body) = req.into_parts();
                                let body = match body.collect().await {
                                    Ok(collected) => collected.to_bytes(),
                                    Err(_) => bytes::Bytes::new(),
                                };
                                let response = handler(http::Request::from_parts(parts, body), peer).await;
                                Ok::<_, std::convert::Infallible>(response.map(Full::new))
                            }
                        });
                        // Behind TLS, a connection that does not open with a TLS handshake
                        // record (0x16) is served in clear text: CloudFront's HTTP/1.1 hop to
                        // its origin reaches the same stand-in its viewers reach over TLS.
                        let tls = match tls {
                            Some(tls) => {
                                let mut first = [0u8; 1];
                                let handshake = stream.peek(&mut first).await;
                                matches!(handshake, Ok(1) if first[0] == 0x16).then_some(tls)
                            }
                            None => None,
                        };
                        match tls {
                            Some(tls) => {
                                if let Ok(stream) = tls.accept(stream).await {
                                    serve_connection(stream, http2, service).await;
                                }
                            }
                            None => serve_connection(stream, http2, service).await,
                        }
                    });
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    (addr, task)
}

/// Serves one connection: HTTP/1.1 alone, or HTTP/1.1 and HTTP/2 told apart by the
/// connection preface (hyper-util's auto builder).
async fn serve_connection<I, S>(io: I, http2: bool, service: S)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    S: hyper::service::Service<
            http::Request<hyper::body::Incoming>,
            Response = http::Response<http_body_util::Full<bytes::Bytes>>,
            Error = std::convert::Infallible,
        > + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let io = TokioIo::new(io);
    if http2 {
        let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
            .serve_connection(io, service)
            .await;
    } else {
        let _ = hyper::server::conn::http1::Builder::new()
            .serve_connection(io, service)
            .await;
    }
}

/// The host a request names, as a server reads it: the `Host` header, and on HTTP/2 the
/// `:authority` (hyper puts it in the URI), which carries it there (RFC 9113 8.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReceivedHost {
    /// The host, as the client sent it (a port only if the client wrote one).
    Named(String),
    /// No host at all.
    Missing,
    /// An HTTP/2 request whose `Host` header names another host than its `:authority`:
    /// malformed (RFC 9113 8.3.1: clients must not send it, servers should refuse it).
    Conflicting {
        /// The `:authority`.
        authority: String,
        /// The `Host` header.
        host: String,
    },
}

/// Reads the host of `req` as its server would, and when it came as an HTTP/2
/// `:authority` with no `Host` header, adds it to `headers` as `host`: so that a verifier
/// checks the host the client sent, in the field the client sent it in, and no other.
pub fn received_host(req: &BufferedRequest, headers: &mut Vec<(String, String)>) -> ReceivedHost {
    let header = find_header(headers, "host").map(str::to_string);
    if req.version() != http::Version::HTTP_2 {
        // HTTP/1: the Host header, or the authority of an absolute-form target (RFC 9112
        // 3.2.2), the one place a proxy-style request names it.
        return match header.or_else(|| req.uri().authority().map(|a| a.to_string())) {
            Some(host) => ReceivedHost::Named(host),
            None => ReceivedHost::Missing,
        };
    }
    match (
        req.uri().authority().map(|a| a.as_str().to_string()),
        header,
    ) {
        (Some(authority), None) => {
            headers.insert(0, ("host".to_string(), authority.clone()));
            ReceivedHost::Named(authority)
        }
        (Some(authority), Some(host)) if !authority.eq_ignore_ascii_case(&host) => {
            ReceivedHost::Conflicting { authority, host }
        }
        (_, Some(host)) => ReceivedHost::Named(host),
        (None, None) => ReceivedHost::Missing,
    }
}

/// Header pairs of a request or response, names lower-case, values lossily decoded, in order.
pub fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// The first value of header `name` (case-insensitive) in `pairs`.
pub fn find_header<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Glob match with `*` (any run) and `?` (one char), as CloudFront path patterns and deny rules use.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}
