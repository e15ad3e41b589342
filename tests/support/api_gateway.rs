//! A loopback stand-in for API Gateway REST APIs with `AWS_IAM` authorization.
//!
//! It routes like API Gateway (execute-api host + stage, custom domain + base path mapping, or
//! a VPC endpoint's DNS name + `x-apigw-api-id` for private APIs), verifies SigV4 with
//! `reqwest_sigv4::verify` against exactly what it received (Host as received, or on HTTP/2
//! the `:authority`; full path with stage or base path), and answers like API Gateway: 403
//! JSON bodies with `x-amzn-ErrorType`, a `Date` header carrying its (possibly skewed) clock.
//! On success it echoes what it received as JSON (see [`Echo`]).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use reqwest_sigv4::canonical::redact_canonical_request;
use reqwest_sigv4::verify::{ReceivedRequest, Rejection, RejectionKind, Verifier};
use sha2::{Digest, Sha256};

use super::{
    example_credentials, example_session_credentials, find_header, glob_match, header_pairs,
    http_date, random_hex, received_host, strip_port, BufferedRequest, BufferedResponse, Listen,
    ReceivedHost,
};

/// Principal named in the IAM-policy deny message.
pub const DENIED_PRINCIPAL: &str = "arn:aws:sts::123456789012:assumed-role/example/session";
/// Account id as API Gateway masks it in resource ARNs of deny messages.
pub const MASKED_ACCOUNT: &str = "********0123";

/// A running API Gateway stand-in; stops when dropped.
pub struct ApiGateway {
    addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

/// Configuration of an [`ApiGateway`]; start it with [`ApiGatewayBuilder::start`].
#[derive(Clone)]
pub struct ApiGatewayBuilder {
    credentials: Vec<Credentials>,
    region: String,
    max_skew: Duration,
    clock_offset_secs: i64,
    rest_apis: Vec<(String, Vec<String>)>,
    custom_domains: Vec<(String, Vec<Mapping>)>,
    deny: Vec<DenyRule>,
    listen: Listen,
}

#[derive(Clone, Debug)]
struct Mapping {
    base_path: String,
    api_id: String,
    stage: String,
}

/// An "IAM policy" statement denying `execute-api:Invoke` on matching requests.
#[derive(Clone, Debug)]
pub struct DenyRule {
    method: String,
    resource_pattern: String,
}

impl DenyRule {
    /// Denies `method` (`*` for any) on resource paths matching `resource_pattern` (glob, e.g. `/admin/*`).
    pub fn new(method: &str, resource_pattern: &str) -> DenyRule {
        DenyRule {
            method: method.to_ascii_uppercase(),
            resource_pattern: resource_pattern.to_string(),
        }
    }

    fn matches(&self, method: &str, resource_path: &str) -> bool {
        (self.method == "*" || self.method == method)
            && glob_match(&self.resource_pattern, resource_path)
    }
}

/// One request the stand-in received, with what it answered.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// HTTP version it came over.
    pub version: http::Version,
    /// Method as received.
    pub method: String,
    /// `Host` as received (with a port if the client sent one): the `Host` header, or on
    /// HTTP/2 the `:authority`.
    pub host: String,
    /// Request target as received (`/path?query`).
    pub target: String,
    /// Every header as received (names lower-case).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
    /// What the stand-in answered.
    pub verdict: Verdict,
}

impl Recorded {
    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }

    /// Whether the request was accepted (200).
    pub fn accepted(&self) -> bool {
        matches!(self.verdict, Verdict::Accepted { .. })
    }
}

/// What the stand-in answered to a request.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// 200 echo; signed by this access key.
    Accepted {
        /// Access key id that signed the request.
        access_key: String,
    },
    /// An error response (403 from routing, verification or the deny rule).
    Rejected {
        /// HTTP status sent.
        status: u16,
        /// `x-amzn-ErrorType` sent.
        error_type: String,
        /// The message in the body (`message` or `Message`).
        message: String,
        /// The canonical request the verifier computed, when it got that far (session token redacted).
        canonical_request: Option<String>,
        /// The string to sign the verifier computed, when it got that far.
        string_to_sign: Option<String>,
    },
}

struct State {
    config: ApiGatewayBuilder,
    clock_offset_secs: AtomicI64,
    received: Mutex<Vec<Recorded>>,
}

impl Default for ApiGatewayBuilder {
    fn default() -> Self {
        ApiGatewayBuilder {
            credentials: vec![example_credentials(), example_session_credentials()],
            region: super::REGION.to_string(),
            max_skew: Duration::from_secs(300),
            clock_offset_secs: 0,
            rest_apis: Vec::new(),
            custom_domains: Vec::new(),
            deny: Vec::new(),
            listen: Listen::default(),
        }
    }
}

impl ApiGatewayBuilder {
    /// Replaces the accepted credentials (default: both example credentials).
    pub fn credentials(mut self, credentials: impl IntoIterator<Item = Credentials>) -> Self {
        self.credentials = credentials.into_iter().collect();
        self
    }

    /// Sets the region (default `us-east-1`); also the region of execute-api host names.
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_string();
        self
    }

    /// Sets the allowed clock skew (default 5 minutes).
    pub fn max_skew(mut self, max_skew: Duration) -> Self {
        self.max_skew = max_skew;
        self
    }

    /// Makes the server clock run `secs` seconds ahead of the real clock (negative: behind).
    pub fn clock_offset_secs(mut self, secs: i64) -> Self {
        self.clock_offset_secs = secs;
        self
    }

    /// Adds a REST API `{api_id}.execute-api.{region}.amazonaws.com` with these stages.
    pub fn rest_api(mut self, api_id: &str, stages: &[&str]) -> Self {
        self.rest_apis.push((
            api_id.to_string(),
            stages.iter().map(|s| s.to_string()).collect(),
        ));
        self
    }

    /// Adds a custom domain name with base path mappings `(base_path, api_id, stage)`; `""` is the root mapping.
    pub fn custom_domain(mut self, domain: &str, mappings: &[(&str, &str, &str)]) -> Self {
        self.custom_domains.push((
            domain.to_ascii_lowercase(),
            mappings
                .iter()
                .map(|(base, api, stage)| Mapping {
                    base_path: base.trim_matches('/').to_string(),
                    api_id: api.to_string(),
                    stage: stage.to_string(),
                })
                .collect(),
        ));
        self
    }

    /// Adds an IAM-policy deny rule (403 with capital `Message`).
    pub fn deny(mut self, rule: DenyRule) -> Self {
        self.deny.push(rule);
        self
    }

    /// Listens as `listen` says (default: 127.0.0.1, HTTP/1.1, no TLS).
    pub fn listen(mut self, listen: Listen) -> Self {
        self.listen = listen;
        self
    }

    /// Binds port 0 of its address and serves on the current tokio runtime.
    pub async fn start(self) -> ApiGateway {
        let listen = self.listen.clone();
        let state = Arc::new(State {
            clock_offset_secs: AtomicI64::new(self.clock_offset_secs),
            config: self,
            received: Mutex::new(Vec::new()),
        });
        let handler_state = state.clone();
        let (addr, task) = super::spawn_server_on(&listen, move |req, _peer| {
            let state = handler_state.clone();
            async move { state.handle(req) }
        });
        ApiGateway { addr, state, task }
    }
}

impl ApiGateway {
    /// A builder with the defaults: example credentials, us-east-1, 5 minutes skew, no APIs yet.
    pub fn builder() -> ApiGatewayBuilder {
        ApiGatewayBuilder::default()
    }

    /// The loopback address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Recorded> {
        self.state.received.lock().unwrap().clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_received(&self) {
        self.state.received.lock().unwrap().clear();
    }

    /// Moves the server clock to `secs` seconds ahead of the real clock (negative: behind).
    pub fn set_clock_offset_secs(&self, secs: i64) {
        self.state.clock_offset_secs.store(secs, Ordering::SeqCst);
    }

    /// The server clock now.
    pub fn now(&self) -> SystemTime {
        self.state.now()
    }

    /// The region it verifies for.
    pub fn region(&self) -> &str {
        &self.state.config.region
    }

    /// The execute-api host name of `api_id` in this region.
    pub fn execute_api_host(&self, api_id: &str) -> String {
        format!(
            "{api_id}.execute-api.{}.amazonaws.com",
            self.state.config.region
        )
    }
}

impl Drop for ApiGateway {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where a request routed to.
struct Route {
    api_id: String,
    stage: String,
    resource_path: String,
}

enum Routing {
    /// An HTTP/2 request naming two hosts (`:authority` and a different `Host`).
    Malformed,
    UnknownHost,
    NoRoute,
    Found(Route),
}

impl State {
    fn now(&self) -> SystemTime {
        let offset = self.clock_offset_secs.load(Ordering::SeqCst);
        let real = SystemTime::now();
        if offset >= 0 {
            real + Duration::from_secs(offset as u64)
        } else {
            real - Duration::from_secs(offset.unsigned_abs())
        }
    }

    fn route(&self, host: &str, path: &str, api_id_header: Option<&str>) -> Routing {
        let mut name = strip_port(host).to_ascii_lowercase();
        let cfg = &self.config;
        // A private API called through an interface VPC endpoint's own DNS name
        // (`vpce-….execute-api.{region}.vpce.amazonaws.com`) is picked by `x-apigw-api-id`;
        // the signature stays the one for the Host received.
        let vpce_suffix = format!(".execute-api.{}.vpce.amazonaws.com", cfg.region);
        if let Some(api_id) =
            api_id_header.filter(|_| name.starts_with("vpce-") && name.ends_with(&vpce_suffix))
        {
            name = format!("{api_id}.execute-api.{}.amazonaws.com", cfg.region);
        }
        for (api_id, stages) in &cfg.rest_apis {
            let api_host = format!("{api_id}.execute-api.{}.amazonaws.com", cfg.region);
            if name == api_host {
                let trimmed = path.strip_prefix('/').unwrap_or(path);
                let (first, rest) = match trimmed.find('/') {
                    Some(i) => (&trimmed[..i], &trimmed[i..]),
                    None => (trimmed, ""),
                };
                return match stages.iter().find(|s| s.as_str() == first) {
                    Some(stage) => Routing::Found(Route {
                        api_id: api_id.clone(),
                        stage: stage.clone(),
                        resource_path: if rest.is_empty() {
                            "/".into()
                        } else {
                            rest.into()
                        },
                    }),
                    None => Routing::NoRoute,
                };
            }
        }
        for (domain, mappings) in &cfg.custom_domains {
            if name != *domain {
                continue;
            }
            // Longest base path first; the root mapping ("") matches anything left.
            let mut ordered: Vec<&Mapping> = mappings.iter().collect();
            ordered.sort_by_key(|m| std::cmp::Reverse(m.base_path.len()));
            for m in ordered {
                let rest = if m.base_path.is_empty() {
                    Some(path)
                } else {
                    path.strip_prefix('/')
                        .and_then(|p| p.strip_prefix(m.base_path.as_str()))
                        .filter(|r| r.is_empty() || r.starts_with('/'))
                };
                if let Some(rest) = rest {
                    return Routing::Found(Route {
                        api_id: m.api_id.clone(),
                        stage: m.stage.clone(),
                        resource_path: if rest.is_empty() {
                            "/".into()
                        } else {
                            rest.into()
                        },
                    });
                }
            }
            return Routing::NoRoute;
        }
        Routing::UnknownHost
    }

    fn handle(&self, req: BufferedRequest) -> BufferedResponse {
        let now = self.now();
        let method = req.method().as_str().to_string();
        let target = req
            .uri()
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_else(|| "/".to_string());
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_string(), q.to_string()),
            None => (target.clone(), String::new()),
        };
        let version = req.version();
        let mut headers = header_pairs(req.headers());
        // On HTTP/2 the host comes as `:authority`; it is added to `headers` as `host` when
        // no Host header came, and the verifier sees it there.
        let received = received_host(&req, &mut headers);
        let host = match &received {
            ReceivedHost::Named(host) => host.clone(),
            ReceivedHost::Missing => String::new(),
            ReceivedHost::Conflicting { authority, .. } => authority.clone(),
        };
        let body = req.into_body();

        let api_id_header = find_header(&headers, "x-apigw-api-id");
        let routing = match received {
            ReceivedHost::Conflicting { .. } => Routing::Malformed,
            _ => self.route(&host, &path, api_id_header),
        };
        let (response, verdict) = match routing {
            Routing::Malformed => error(
                now,
                400,
                "BadRequestException",
                "message",
                "Malformed request: the Host header and :authority name different hosts",
                None,
            ),
            Routing::UnknownHost => {
                error(now, 403, "ForbiddenException", "message", "Forbidden", None)
            }
            Routing::NoRoute => error(
                now,
                403,
                "MissingAuthenticationTokenException",
                "message",
                "Missing Authentication Token",
                None,
            ),
            Routing::Found(route) => {
                let received = ReceivedRequest::new(
                    method.clone(),
                    target.clone(),
                    headers.clone(),
                    body.clone(),
                );
                match self.verifier(now).verify(&received) {
                    Err(rejection) => {
                        let message = rejection.api_gateway_message();
                        let error_type = error_type_for(&rejection.kind);
                        error(now, 403, error_type, "message", &message, Some(&rejection))
                    }
                    Ok(verified) => {
                        let access_key = verified.access_key_id;
                        if self
                            .config
                            .deny
                            .iter()
                            .any(|r| r.matches(&method, &route.resource_path))
                        {
                            let message = format!(
                                "User: {DENIED_PRINCIPAL} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:{}:{MASKED_ACCOUNT}:{}/{}/{}/{} with an explicit deny",
                                self.config.region,
                                route.api_id,
                                route.stage,
                                method,
                                route.resource_path.trim_start_matches('/'),
                            );
                            error(now, 403, "AccessDeniedException", "Message", &message, None)
                        } else {
                            let echo = serde_json::json!({
                                "method": method,
                                "host": host,
                                "path": path,
                                "query": query,
                                "api_id": route.api_id,
                                "stage": route.stage,
                                "resource_path": route.resource_path,
                                "headers": headers.iter().map(|(n, v)| [n, v]).collect::<Vec<_>>(),
                                "body_length": body.len(),
                                "body_sha256": hex::encode(Sha256::digest(&body)),
                                "access_key": access_key,
                            });
                            let response = base_response(now, 200)
                                .header("content-type", "application/json")
                                .body(Bytes::from(echo.to_string()))
                                .expect("echo response");
                            (response, Verdict::Accepted { access_key })
                        }
                    }
                }
            }
        };
        self.received.lock().unwrap().push(Recorded {
            version,
            method,
            host,
            target,
            headers,
            body,
            verdict,
        });
        response
    }

    fn verifier(&self, now: SystemTime) -> Verifier {
        let cfg = &self.config;
        let mut creds = cfg.credentials.iter().cloned();
        let first = creds.next().unwrap_or_else(example_credentials);
        let mut verifier = Verifier::new(first);
        for more in creds {
            verifier = verifier.with_credentials(more);
        }
        verifier
            .service(super::SERVICE)
            .region(&cfg.region)
            .max_skew(cfg.max_skew)
            .now(now)
            .normalize_path(true)
    }
}

/// `x-amzn-ErrorType` API Gateway sends for a verification failure.
fn error_type_for(kind: &RejectionKind) -> &'static str {
    match kind {
        RejectionKind::MissingAuthentication => "MissingAuthenticationTokenException",
        RejectionKind::MalformedAuthorization { .. } | RejectionKind::MissingSignedHost => {
            "IncompleteSignatureException"
        }
        // AWS's "troubleshoot HTTP 403 errors from API Gateway" table gives AccessDeniedException
        // for "The security token included in the request is invalid." (other AWS services
        // send UnrecognizedClientException with that text).
        RejectionKind::UnknownAccessKey { .. } | RejectionKind::InvalidSecurityToken { .. } => {
            "AccessDeniedException"
        }
        // Signature mismatch, expired / not yet current, scope mismatch.
        _ => "InvalidSignatureException",
    }
}

fn base_response(now: SystemTime, status: u16) -> http::response::Builder {
    http::Response::builder()
        .status(status)
        .header("date", http_date(now))
        .header("x-amzn-requestid", uuid_like())
        .header("x-amz-apigw-id", random_hex(16))
}

fn error(
    now: SystemTime,
    status: u16,
    error_type: &str,
    key: &str,
    message: &str,
    rejection: Option<&Rejection>,
) -> (BufferedResponse, Verdict) {
    let mut body = serde_json::Map::new();
    body.insert(
        key.to_string(),
        serde_json::Value::String(message.to_string()),
    );
    let response = base_response(now, status)
        .header("content-type", "application/json")
        .header("x-amzn-errortype", error_type)
        .body(Bytes::from(serde_json::Value::Object(body).to_string()))
        .expect("error response");
    let verdict = Verdict::Rejected {
        status,
        error_type: error_type.to_string(),
        message: message.to_string(),
        canonical_request: rejection.and_then(|r| {
            r.canonical_request
                .as_deref()
                .map(|c| redact_canonical_request(c).into_owned())
        }),
        string_to_sign: rejection.and_then(|r| r.string_to_sign.clone()),
    };
    (response, verdict)
}

fn uuid_like() -> String {
    let h = random_hex(32);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The JSON echo of an accepted request.
#[derive(Clone, Debug)]
pub struct Echo {
    /// Method as received.
    pub method: String,
    /// `Host` as received.
    pub host: String,
    /// Full path as received (stage or base path included), without the query.
    pub path: String,
    /// Raw query as received (`""` if none).
    pub query: String,
    /// REST API id it routed to.
    pub api_id: String,
    /// Stage it routed to.
    pub stage: String,
    /// Path without the stage or base path.
    pub resource_path: String,
    /// Every header as received (names lower-case).
    pub headers: Vec<(String, String)>,
    /// Body length.
    pub body_length: u64,
    /// Body SHA-256, hex.
    pub body_sha256: String,
    /// Access key id that signed.
    pub access_key: String,
}

impl Echo {
    /// Parses the echo JSON.
    pub fn from_json(v: &serde_json::Value) -> Echo {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Echo {
            method: s("method"),
            host: s("host"),
            path: s("path"),
            query: s("query"),
            api_id: s("api_id"),
            stage: s("stage"),
            resource_path: s("resource_path"),
            headers: v["headers"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            (
                                p[0].as_str().unwrap_or_default().to_string(),
                                p[1].as_str().unwrap_or_default().to_string(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            body_length: v["body_length"].as_u64().unwrap_or_default(),
            body_sha256: s("body_sha256"),
            access_key: s("access_key"),
        }
    }

    /// Reads a response that must be a 200 echo (panics with status and body otherwise).
    pub async fn from_response(resp: reqwest::Response) -> Echo {
        let status = resp.status();
        let text = resp.text().await.expect("read response body");
        assert_eq!(
            status.as_u16(),
            200,
            "expected a 200 echo, got {status}: {text}"
        );
        let v: serde_json::Value = serde_json::from_str(&text).expect("echo JSON");
        Echo::from_json(&v)
    }

    /// First value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}
