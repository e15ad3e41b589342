//! What the benches share: the credentials and fixed time they sign with, the canned
//! innermost middleware, the requests of issue 16, the check that two signers produce the
//! same request, and the interleaved measurement ("paired rounds") the ratios come from.
//! Each bench target includes this module and uses part of it.
#![allow(dead_code)]

use std::hint::black_box;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use bytes::Bytes;
use http::{Extensions, HeaderMap, HeaderValue};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, Middleware, Next};
use reqwest_sigv4::{FixedClock, Route, SigV4Middleware};

#[path = "../baseline/mod.rs"]
pub mod baseline;
pub use baseline::Baseline;

pub const HOST: &str = "abc123.execute-api.us-east-1.amazonaws.com";
pub const ACCESS_KEY: &str = "AKIDEXAMPLE";
pub const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

pub fn signing_time() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_440_938_160)
}

pub fn credentials() -> Credentials {
    Credentials::new(ACCESS_KEY, SECRET_KEY, None, None, "bench")
}

/// The innermost middleware: answers 200 at once, never reaching reqwest's transport.
pub struct Canned;

#[async_trait::async_trait]
impl Middleware for Canned {
    async fn handle(
        &self,
        req: reqwest::Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        black_box(&req);
        Ok(canned_response())
    }
}

pub fn canned_response() -> reqwest::Response {
    let response = http::Response::builder()
        .status(200)
        .body(Bytes::new())
        .expect("a static response is valid");
    reqwest::Response::from(response)
}

/// Like [`Canned`], and keeps the last request it saw (checked once, never timed).
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Option<reqwest::Request>>>);

impl Capture {
    /// The headers of the last request.
    pub fn headers(&self) -> Option<HeaderMap> {
        let seen = self.0.lock().expect("not poisoned");
        seen.as_ref().map(|r| r.headers().clone())
    }

    /// The last request as a server receives it: with `host`, body read.
    pub fn received(&self) -> Option<http::Request<Bytes>> {
        let seen = self.0.lock().expect("not poisoned");
        let req = seen.as_ref()?;
        let mut out = http::Request::builder()
            .method(req.method().clone())
            .uri(req.url().as_str())
            .header("host", req.url().authority());
        for (name, value) in req.headers() {
            out = out.header(name, value);
        }
        let body = req.body().and_then(|b| b.as_bytes()).unwrap_or_default();
        out.body(Bytes::copy_from_slice(body)).ok()
    }
}

#[async_trait::async_trait]
impl Middleware for Capture {
    async fn handle(
        &self,
        req: reqwest::Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        *self.0.lock().expect("not poisoned") = Some(req);
        Ok(canned_response())
    }
}

pub fn reqwest_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a client")
}

pub fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

/// The crate's middleware for `https://{HOST}` as a user configures it: static
/// credentials, a fixed clock, everything else (explain_403, signed headers) default.
pub fn signer() -> SigV4Middleware {
    SigV4Middleware::builder()
        .route(Route::direct(format!("https://{HOST}")))
        .static_credentials(credentials())
        .clock(FixedClock(signing_time()))
        .build()
        .expect("valid config")
}

/// The hand-written middleware signing like [`signer`].
pub fn baseline() -> Baseline {
    Baseline::new(
        credentials(),
        "us-east-1",
        "execute-api",
        Some(signing_time()),
    )
}

/// `middleware` (if any) in front of `inner`.
pub fn stack(middleware: Option<impl Middleware>, inner: impl Middleware) -> ClientWithMiddleware {
    let mut builder = ClientBuilder::new(reqwest_client());
    if let Some(m) = middleware {
        builder = builder.with(m);
    }
    builder.with(inner).build()
}

pub fn bare_stack() -> ClientWithMiddleware {
    stack(None::<Canned>, Canned)
}

pub fn signer_stack() -> ClientWithMiddleware {
    stack(Some(signer()), Canned)
}

pub fn baseline_stack() -> ClientWithMiddleware {
    stack(Some(baseline()), Canned)
}

// ---------------------------------------------------------------------------------------
// The two requests of issue 16.

/// A request to `url` with `headers`.
fn request(
    method: reqwest::Method,
    url: &str,
    headers: [(&'static str, &'static str); 3],
) -> reqwest::Request {
    let mut req = reqwest::Request::new(method, url.parse().expect("a URL"));
    for (name, value) in headers {
        req.headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    req
}

/// The issue's GET: 2 query parameters and 3 headers.
pub fn issue16_get(base: &str) -> reqwest::Request {
    request(
        reqwest::Method::GET,
        &format!("{base}/prod/items?limit=10&offset=20"),
        [
            ("accept", "application/json"),
            ("x-api-version", "2024-06-01"),
            ("x-request-id", "4f1c2a9e-8d6b-4c3e-9a7f-2b5d8e1f0a63"),
        ],
    )
}

/// The issue's POST: a 1 KiB JSON body in memory (`Bytes`: cloning the request shares it).
pub fn issue16_post(base: &str) -> reqwest::Request {
    let mut req = request(
        reqwest::Method::POST,
        &format!("{base}/prod/items"),
        [
            ("accept", "application/json"),
            ("content-type", "application/json"),
            ("x-request-id", "4f1c2a9e-8d6b-4c3e-9a7f-2b5d8e1f0a63"),
        ],
    );
    *req.body_mut() = Some(reqwest::Body::from(json_body(1024)));
    req
}

/// A JSON document of exactly `len` bytes.
fn json_body(len: usize) -> Bytes {
    let head = r#"{"name":"bench","note":""#;
    let tail = r#""}"#;
    let mut text = String::with_capacity(len);
    text.push_str(head);
    text.extend(std::iter::repeat_n('x', len - head.len() - tail.len()));
    text.push_str(tail);
    assert_eq!(text.len(), len);
    Bytes::from(text)
}

/// Sends `req` through `signer` and through `baseline` (each in front of a [`Capture`]) and
/// asserts that both produced byte-identical headers (`Authorization` and `X-Amz-Date`
/// first, for a readable failure), and that the crate's independent verifier accepts the
/// baseline's signature: the two stacks then do the same signing work.
pub fn assert_same_signature(
    rt: &tokio::runtime::Runtime,
    signer: SigV4Middleware,
    baseline: Baseline,
    req: &reqwest::Request,
) {
    let send = |m: Box<dyn FnOnce(Capture) -> ClientWithMiddleware>| {
        let capture = Capture::default();
        let client = m(capture.clone());
        let req = req.try_clone().expect("a cloneable request");
        rt.block_on(client.execute(req)).expect("a response");
        capture
    };
    let ours = send(Box::new(|c| stack(Some(signer), c)));
    let theirs = send(Box::new(|c| stack(Some(baseline), c)));
    let (ours_h, theirs_h) = (ours.headers(), theirs.headers());
    // What a failure shows stops before the signature: signatures stay out of output.
    let shown = |v: Option<&HeaderValue>| {
        let text = v.and_then(|v| v.to_str().ok()).unwrap_or("(none)");
        text.split(", Signature=").next().unwrap_or(text).to_owned()
    };
    for name in ["authorization", "x-amz-date"] {
        let a = ours_h.as_ref().and_then(|h| h.get(name));
        let b = theirs_h.as_ref().and_then(|h| h.get(name));
        assert!(
            a.is_some() && a == b,
            "{} {}: {name} differs between the crate and the baseline:\n{}\n{}",
            req.method(),
            req.url(),
            shown(a),
            shown(b)
        );
    }
    let names = |h: &Option<HeaderMap>| h.as_ref().map(|h| h.keys().cloned().collect::<Vec<_>>());
    assert!(
        ours_h == theirs_h,
        "the signed requests' headers differ: {:?} vs {:?}",
        names(&ours_h),
        names(&theirs_h)
    );
    let received = theirs.received().expect("a captured request");
    reqwest_sigv4::verify::Verifier::new(credentials())
        .skip_time_check()
        .verify_http(&received)
        .expect("the independent verifier accepts the baseline's signature");
}

// ---------------------------------------------------------------------------------------
// Interleaved ("paired") measurements.
//
// Measuring one variant after another lets a burst of load on a shared machine land on
// one side of a ratio only. Here the variants of a ratio take turns in short batches
// (rotating which goes first), so every variant sees the same load.

type Routine<'a> = Box<dyn FnMut(u64) + 'a>;

/// One side of a ratio: runs `n` iterations per call.
pub struct Variant<'a> {
    pub name: &'static str,
    run: Routine<'a>,
    pub batch: u64,
}

impl<'a> Variant<'a> {
    pub fn new(name: &'static str, run: impl FnMut(u64) + 'a) -> Self {
        Self {
            name,
            run: Box::new(run),
            batch: 1,
        }
    }
}

/// Batch sizes that take about `target` each (also warms every variant up).
pub fn calibrate(variants: &mut [Variant<'_>], target: Duration) {
    for v in variants.iter_mut() {
        // A first call pays for cold caches and lazily built state: timed, it would make
        // the batch far too small.
        (v.run)(1);
        let mut n = 1u64;
        loop {
            let start = Instant::now();
            (v.run)(n);
            let took = start.elapsed();
            if took >= target / 4 || n >= 1 << 30 {
                let scale = target.as_secs_f64() / took.as_secs_f64().max(1e-9);
                v.batch = ((n as f64 * scale).ceil() as u64).max(1);
                break;
            }
            n *= 4;
        }
    }
}

/// Nanoseconds per iteration of each variant in each round, read from `clock` (ns).
pub fn interleave(
    variants: &mut [Variant<'_>],
    rounds: usize,
    clock: fn() -> u64,
) -> Vec<Vec<f64>> {
    let k = variants.len();
    let mut out = vec![Vec::with_capacity(rounds); k];
    for round in 0..rounds {
        for j in 0..k {
            let i = (round + j) % k;
            let v = &mut variants[i];
            let start = clock();
            (v.run)(v.batch);
            let took = clock().saturating_sub(start);
            out[i].push(took as f64 / v.batch as f64);
        }
    }
    out
}

/// Wall-clock nanoseconds since the first call.
pub fn wall_ns() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// CPU time of the calling thread, in ns: time other processes take from this core is not
/// counted, which a wall clock on a shared machine would.
#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
pub fn thread_cpu_ns() -> u64 {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut t = Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the C library's clock_gettime with a valid clock id and a pointer to a
    // live, writable timespec of the platform's layout (two 64-bit fields here).
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// Elsewhere the wall clock stands in for the thread's CPU time.
#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
pub fn thread_cpu_ns() -> u64 {
    wall_ns()
}

/// CPU time used so far by every thread of this process, in ns (Linux).
pub fn process_cpu_ns() -> Option<u64> {
    let mut total = 0;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        total += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total)
}

pub fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn verdict(pass: bool) -> &'static str {
    if pass {
        "pass"
    } else {
        "MISS"
    }
}

pub fn describe(variants: &[Variant<'_>], samples: &[Vec<f64>]) {
    for (v, s) in variants.iter().zip(samples) {
        println!(
            "   {:<22} p10 {:>12.1} ns  median {:>12.1} ns  ({} rounds x {} iterations)",
            v.name,
            percentile(s, 0.1),
            percentile(s, 0.5),
            s.len(),
            v.batch
        );
    }
}

/// The number after `name` in a bench's arguments (`--rounds 200`), if `name` is there.
pub fn numeric_arg(args: &[String], name: &str) -> Option<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(|v| {
            v.parse::<usize>()
                .unwrap_or_else(|_| panic!("{name} takes a number"))
        })
}

/// Runs this bench again in a process of its own, with its arguments and `marker` set in
/// its environment (the child measures once and reports), and returns what it printed.
/// Measuring in several processes one after the other keeps where one process's heap,
/// stack and code happen to land from deciding a ratio.
pub fn rerun_in_child(marker: &str) -> String {
    let exe = std::env::current_exe().expect("the bench's own path");
    let out = std::process::Command::new(exe)
        .args(std::env::args().skip(1))
        .env(marker, "1")
        .output()
        .expect("the bench runs again in a child process");
    assert!(
        out.status.success(),
        "child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The numbers after `prefix` on the line of `text` that starts with it.
pub fn numbers_after(text: &str, prefix: &str) -> Vec<f64> {
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in: {text}"));
    line.split_whitespace()
        .map(|x| x.parse().expect("a number"))
        .collect()
}
