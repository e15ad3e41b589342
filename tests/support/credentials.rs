//! Credentials under load and failure: a clock the test moves by hand, a scriptable
//! credentials provider, and in-stack responders that answer without a socket (one of
//! them refuses session tokens it was not told to accept).
//! Shared by `hardening` (issue 4) and `credentials_cache` (issues 11 and 17).

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{self, error::CredentialsError, ProvideCredentials};
use aws_credential_types::Credentials;
use bytes::Bytes;
use http::Extensions;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};
use reqwest_sigv4::{Clock, Route, SigV4Middleware};

use super::{EXAMPLE_SECRET_KEY, REGION, SERVICE};

/// A clock the test moves by hand (whole milliseconds since the epoch).
#[derive(Clone, Debug)]
pub struct TestClock(pub Arc<AtomicI64>);

impl TestClock {
    /// Now, truncated to the second so that `X-Amz-Date` comparisons are exact.
    pub fn starting_now() -> Self {
        let secs = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        Self(Arc::new(AtomicI64::new(secs as i64 * 1000)))
    }

    pub fn set(&self, t: SystemTime) {
        let ms = t
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_millis();
        self.0.store(ms as i64, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0.load(Ordering::SeqCst) as u64)
    }
}

pub const MODE_OK: u8 = 0;
pub const MODE_FAIL: u8 = 1;
pub const MODE_HANG: u8 = 2;
pub const MODE_EMPTY: u8 = 3;
pub const MODE_BAD_TOKEN: u8 = 4;

pub const PROVIDER_MESSAGE: &str = "IMDS unreachable: connection refused (169.254.169.254:80)";
pub const BAD_TOKEN: &str = "token-with\nnewline-SECRETPART";

/// The provider panics (in its future, as an `async` provider would).
pub const MODE_PANIC: u8 = 5;

/// A credentials provider that counts its calls and hands out temporary credentials
/// (`ASIAROTATING0000`, `…0001`, …) that expire `lifetime` after the clock's now (or, after
/// [`Rotating::set_expired_by`], that expired already); it can be switched to fail, hang,
/// panic, answer empty keys or a token that is not a header value, and made slow.
#[derive(Clone, Debug)]
pub struct Rotating(pub Arc<RotatingState>);

#[derive(Debug)]
pub struct RotatingState {
    clock: Arc<dyn Clock>,
    /// The access key ids' prefix (`ASIAROTATING` unless [`Rotating::named`]).
    prefix: &'static str,
    /// Signed: negative hands out credentials that expired that long ago.
    lifetime_ms: AtomicI64,
    /// How long each call takes (as IMDS or STS would), in milliseconds.
    delay_ms: AtomicU64,
    calls: AtomicUsize,
    mode: AtomicU8,
    issued: Mutex<Vec<Credentials>>,
}

impl Rotating {
    pub fn new(clock: impl Clock, lifetime: Duration) -> Self {
        Self::named(clock, lifetime, "ASIAROTATING")
    }

    /// Like [`new`](Self::new), handing out `{prefix}0000`, `{prefix}0001`, … so that two
    /// providers' credentials differ.
    pub fn named(clock: impl Clock, lifetime: Duration, prefix: &'static str) -> Self {
        Self(Arc::new(RotatingState {
            clock: Arc::new(clock),
            prefix,
            lifetime_ms: AtomicI64::new(lifetime.as_millis() as i64),
            delay_ms: AtomicU64::new(0),
            calls: AtomicUsize::new(0),
            mode: AtomicU8::new(MODE_OK),
            issued: Mutex::new(Vec::new()),
        }))
    }

    pub fn calls(&self) -> usize {
        self.0.calls.load(Ordering::SeqCst)
    }

    pub fn set_mode(&self, mode: u8) {
        self.0.mode.store(mode, Ordering::SeqCst);
    }

    /// Credentials handed out from now on live this long.
    pub fn set_lifetime(&self, lifetime: Duration) {
        self.0
            .lifetime_ms
            .store(lifetime.as_millis() as i64, Ordering::SeqCst);
    }

    /// Credentials handed out from now on expired `ago` before the clock's now.
    pub fn set_expired_by(&self, ago: Duration) {
        self.0
            .lifetime_ms
            .store(-(ago.as_millis() as i64), Ordering::SeqCst);
    }

    /// Each call takes this long (a real-time sleep).
    pub fn set_delay(&self, delay: Duration) {
        self.0
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// What call number `n` (from 0) hands out or will hand out in the default mode, but
    /// for the expiry (a verifier needs only the keys and the token).
    pub fn generation(&self, n: usize) -> Credentials {
        Credentials::new(
            format!("{}{n:04}", self.0.prefix),
            EXAMPLE_SECRET_KEY,
            Some(format!("session-token-{n}")),
            None,
            "rotating",
        )
    }

    pub fn issued(&self) -> Vec<Credentials> {
        self.0.issued.lock().unwrap().clone()
    }

    /// The last `n` credentials handed out, oldest first.
    pub fn recent(&self, n: usize) -> Vec<Credentials> {
        let issued = self.0.issued.lock().unwrap();
        issued[issued.len().saturating_sub(n)..].to_vec()
    }

    /// A verifier that knows every credential handed out so far (no time check: the test
    /// clock is not the system clock).
    pub fn verifier(&self) -> Verifier {
        let issued = self.issued();
        let mut v = Verifier::new(issued[0].clone());
        for c in &issued[1..] {
            v = v.with_credentials(c.clone());
        }
        v.service(SERVICE).region(REGION).skip_time_check()
    }
}

impl ProvideCredentials for Rotating {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        let state = &self.0;
        let n = state.calls.fetch_add(1, Ordering::SeqCst);
        let mode = state.mode.load(Ordering::SeqCst);
        let delay = Duration::from_millis(state.delay_ms.load(Ordering::SeqCst));
        let result = match mode {
            MODE_HANG => {
                return provider::future::ProvideCredentials::new(std::future::pending());
            }
            MODE_FAIL => Err(CredentialsError::provider_error(PROVIDER_MESSAGE)),
            MODE_EMPTY => Ok(Credentials::new("", "", None, None, "rotating")),
            MODE_BAD_TOKEN => Ok(Credentials::new(
                "ASIABADTOKEN",
                EXAMPLE_SECRET_KEY,
                Some(BAD_TOKEN.to_owned()),
                None,
                "rotating",
            )),
            _ => {
                let lifetime = state.lifetime_ms.load(Ordering::SeqCst);
                let now = state.clock.now();
                let offset = Duration::from_millis(lifetime.unsigned_abs());
                let expiry = if lifetime >= 0 {
                    now + offset
                } else {
                    now - offset
                };
                let creds = Credentials::new(
                    format!("{}{n:04}", state.prefix),
                    EXAMPLE_SECRET_KEY,
                    Some(format!("session-token-{n}")),
                    Some(expiry),
                    "rotating",
                );
                state.issued.lock().unwrap().push(creds.clone());
                Ok(creds)
            }
        };
        provider::future::ProvideCredentials::new(async move {
            // A real provider awaits IMDS or STS: give other requests a chance to pile up
            // (a failing one as slowly as a connect timeout would, scaled down).
            tokio::task::yield_now().await;
            if mode == MODE_FAIL {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if mode == MODE_PANIC {
                panic!("credentials provider bug (test)");
            }
            result
        })
    }
}

/// Answers every request with `200 ok` inside the middleware stack (placed after the
/// signer), recording each one as a server would receive it: 1,000 requests without 1,000
/// sockets.
#[derive(Clone, Default)]
pub struct Canned {
    received: Arc<Mutex<Vec<ReceivedRequest>>>,
}

impl Canned {
    pub fn received(&self) -> Vec<ReceivedRequest> {
        self.received.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.received.lock().unwrap().len()
    }
}

/// `req` as a server would receive it.
fn as_received(req: &reqwest::Request) -> ReceivedRequest {
    let url = req.url();
    let mut headers = Vec::new();
    if !req.headers().contains_key(http::header::HOST) {
        let host = url.host_str().unwrap_or_default();
        let value = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_owned(),
        };
        headers.push(("host".to_owned(), value));
    }
    for (name, value) in req.headers() {
        headers.push((
            name.as_str().to_owned(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        ));
    }
    let mut target = url.path().to_owned();
    if let Some(q) = url.query() {
        target.push('?');
        target.push_str(q);
    }
    let body = req
        .body()
        .and_then(|b| b.as_bytes())
        .map(Bytes::copy_from_slice)
        .unwrap_or_default();
    ReceivedRequest::new(req.method().as_str(), target, headers, body)
}

#[async_trait::async_trait]
impl Middleware for Canned {
    async fn handle(
        &self,
        req: reqwest::Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        self.received.lock().unwrap().push(as_received(&req));
        Ok(http::Response::builder()
            .status(200)
            .body("ok")
            .expect("canned response")
            .into())
    }
}

/// Like [`Canned`], but as API Gateway checks a session token: `200 ok` to a request
/// validly signed (checked by the crate's verifier) by one of the accepted credentials,
/// `403 {"message":"The security token included in the request is expired"}` to any other
/// (a revoked or expired token). Accepts nothing until told to.
#[derive(Clone, Default)]
pub struct TokenGate {
    accepted: Arc<Mutex<Vec<Credentials>>>,
    /// Per request: the access key id that signed it, and whether it was accepted.
    answered: Arc<Mutex<Vec<(String, bool)>>>,
}

impl TokenGate {
    /// Accepts only `credentials` from now on (a rotation revokes the others).
    pub fn accept_only(&self, credentials: Vec<Credentials>) {
        *self.accepted.lock().unwrap() = credentials;
    }

    /// Per request so far: the access key id that signed it, and whether it was accepted.
    pub fn answered(&self) -> Vec<(String, bool)> {
        self.answered.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl Middleware for TokenGate {
    async fn handle(
        &self,
        req: reqwest::Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let received = as_received(&req);
        let key = access_key_of(&received);
        let accepted = {
            let accepted = self.accepted.lock().unwrap();
            accepted.iter().any(|c| {
                // No time check: the test clock is not the system clock.
                let verifier = Verifier::new(c.clone()).service(SERVICE).region(REGION);
                verifier.skip_time_check().verify(&received).is_ok()
            })
        };
        self.answered.lock().unwrap().push((key, accepted));
        let (status, body) = if accepted {
            (200, "ok")
        } else {
            (
                403,
                r#"{"message":"The security token included in the request is expired"}"#,
            )
        };
        Ok(http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body)
            .expect("gate response")
            .into())
    }
}

/// Where the load tests send: never connected to (the canned responder answers).
pub const LOAD_BASE: &str = "https://abc123.execute-api.us-east-1.amazonaws.com";

/// A client whose stack ends with `responder` after `signer`: a [`Canned`] or a
/// [`TokenGate`].
pub fn canned_client(
    signer: SigV4Middleware,
    responder: &(impl Middleware + Clone),
) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(signer)
        .with(responder.clone())
        .build()
}

pub fn rotating_signer(provider: &Rotating, clock: &TestClock) -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(Route::direct(LOAD_BASE))
        .credentials_provider(provider.clone())
        .clock(clock.clone())
        .build()
        .expect("valid config")
}

/// A signing client whose responder is in-stack, with a scriptable provider on a clock the
/// test moves: what most credentials tests start from.
pub struct Rig {
    pub clock: TestClock,
    pub provider: Rotating,
    pub canned: Canned,
    pub client: ClientWithMiddleware,
}

impl Rig {
    /// Credentials living `lifetime`, the clock at now (whole seconds).
    pub fn new(lifetime: Duration) -> Self {
        let clock = TestClock::starting_now();
        let provider = Rotating::new(clock.clone(), lifetime);
        let canned = Canned::default();
        let client = canned_client(rotating_signer(&provider, &clock), &canned);
        Self {
            clock,
            provider,
            canned,
            client,
        }
    }
}

/// Sends `n` requests at once from spawned tasks; returns what went wrong.
pub async fn burst(client: &ClientWithMiddleware, n: usize) -> Vec<String> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .get(format!("{LOAD_BASE}/prod/items/{i}"))
                    .send()
                    .await
            })
        })
        .collect();
    let mut failures = Vec::new();
    for task in tasks {
        match task.await.expect("request task") {
            Ok(r) if r.status() == 200 => {}
            Ok(r) => failures.push(format!("status {}", r.status())),
            Err(e) => failures.push(e.to_string()),
        }
    }
    failures
}

/// Waits (up to 2 s) until `cond` holds.
pub async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    cond()
}

pub fn access_key_of(r: &ReceivedRequest) -> String {
    let auth = r.header("authorization").expect("signed");
    let cred = auth.split("Credential=").nth(1).expect("credential");
    cred.split('/').next().unwrap_or_default().to_owned()
}

/// A provider that fails every call with the error `make` returns (a fresh one per call:
/// `CredentialsError` is not `Clone`).
#[derive(Debug)]
pub struct Failing(pub fn() -> CredentialsError);

impl ProvideCredentials for Failing {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::ready(Err((self.0)()))
    }
}

/// Gives this process an AWS environment of its own for the default chain: the example
/// keys in the environment, `region` as `AWS_REGION` (none at all without it), no config
/// or credentials file, no profile, and IMDS pointed at a dead loopback port, so that
/// nothing the chain tries can leave the machine. The environment is the process's:
/// call it once per test binary.
pub fn set_isolated_aws_environment(region: Option<&str>) {
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_port = dead.local_addr().unwrap().port();
    drop(dead);
    let nowhere = std::env::temp_dir().join(format!("reqwest-sigv4-no-aws-{}", std::process::id()));
    for name in [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_EC2_METADATA_DISABLED",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ] {
        std::env::remove_var(name);
    }
    if let Some(region) = region {
        std::env::set_var("AWS_REGION", region);
    }
    std::env::set_var("AWS_ACCESS_KEY_ID", super::EXAMPLE_ACCESS_KEY);
    std::env::set_var("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET_KEY);
    std::env::set_var("AWS_CONFIG_FILE", nowhere.join("config"));
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", nowhere.join("credentials"));
    std::env::set_var(
        "AWS_EC2_METADATA_SERVICE_ENDPOINT",
        format!("http://127.0.0.1:{dead_port}"),
    );
}
