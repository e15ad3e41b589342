//! Signing cost of the middleware, measured through its public API (issue 5, targets 1, 2
//! and 5). Run with
//!
//! ```text
//! cargo bench --bench signing -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Every stack ends in [`Canned`], a middleware that answers `200` without touching the
//! network, so what is timed is the middleware stack and nothing else:
//!
//! 1. `small_request`: a GET with 3 query parameters and 4 headers through the stack with
//!    the signer, through the same stack without it, and signed directly with
//!    `aws_sigv4::http_request::sign`. Target: (signer − bare) / direct ≤ 1.25. Two
//!    references that are not targets ride along: the same signature from this crate's
//!    `canonical` module with a cached signing key, and the bare cryptography of one
//!    signature (all three are checked to produce aws-sigv4's `Authorization`).
//! 2. `large_body`: 1 MiB and 16 MiB `Bytes` bodies through the signer, against hashing the
//!    same bytes with `sha2::Sha256` alone. Target: throughput ratio ≥ 0.9.
//! 5. `concurrency`: 1, 8 and 64 tasks sending through the signer stack (and the bare one)
//!    on a multi-thread runtime with one worker per core.
//!
//! Criterion's groups come first; then, unless a filter leaves them out, the same
//! comparisons are run interleaved (see "Interleaved measurements" below), and those are
//! the ratios the targets are judged by. Criterion measures one function after another, so
//! on a shared machine its ratios move with the load of the moment.

mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningParams, SigningSettings,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use common::{
    bare_stack, calibrate, credentials, current_thread, describe, interleave, percentile,
    process_cpu_ns, reqwest_client, signer, signer_stack, signing_time, thread_cpu_ns, verdict,
    Capture, Variant, ACCESS_KEY, HOST, SECRET_KEY,
};
use criterion::{BenchmarkId, Criterion, Throughput};
use http::HeaderValue;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware};
use reqwest_sigv4::canonical;
use sha2::{Digest, Sha256};

const SMALL_URL: &str =
    "https://abc123.execute-api.us-east-1.amazonaws.com/prod/items?limit=10&offset=20&sort=name";
/// The request's own headers (the signer adds `host` and `x-amz-date`).
const SMALL_HEADERS: [(&str, &str); 4] = [
    ("accept", "application/json"),
    ("content-type", "application/json"),
    ("x-api-version", "2024-06-01"),
    ("x-request-id", "4f1c2a9e-8d6b-4c3e-9a7f-2b5d8e1f0a63"),
];
const MIB: usize = 1024 * 1024;

/// The small request, built once; every iteration sends a clone of it.
fn small_request(method: reqwest::Method) -> reqwest::Request {
    let mut req = reqwest::Request::new(method, SMALL_URL.parse().expect("a valid URL"));
    for (name, value) in SMALL_HEADERS {
        req.headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    req
}

/// What `aws-sigv4` alone does for the small request: the same settings, headers, scope,
/// time and payload hash as the middleware hands it.
struct Direct {
    identity: Identity,
    headers: Vec<(&'static str, &'static str)>,
}

impl Direct {
    fn new() -> Self {
        let mut headers = vec![("host", HOST)];
        headers.extend(SMALL_HEADERS);
        Self {
            identity: Identity::from(credentials()),
            headers,
        }
    }

    /// Signs and returns the `(name, value)` headers to add.
    fn sign(&self) -> Vec<(&'static str, String)> {
        let mut settings = SigningSettings::default();
        settings.excluded_headers = None;
        settings.signature_location = SignatureLocation::Headers;
        let params: SigningParams<'_> = v4::SigningParams::builder()
            .identity(&self.identity)
            .region("us-east-1")
            .name("execute-api")
            .time(signing_time())
            .settings(settings)
            .build()
            .expect("complete params")
            .into();
        let signable = SignableRequest::new(
            "GET",
            SMALL_URL,
            self.headers.iter().copied(),
            SignableBody::Precomputed(canonical::EMPTY_PAYLOAD_SHA256.to_owned()),
        )
        .expect("a signable request");
        let (instructions, _signature) = sign(signable, &params).expect("signed").into_parts();
        let (headers, _) = instructions.into_parts();
        headers
            .into_iter()
            .map(|h| (h.name(), h.value().to_owned()))
            .collect()
    }
}

/// A lower bound for comparison, not a target: the same signature computed with this
/// crate's public `canonical` module and a signing key derived once (it only changes with
/// the date, region, service and secret), as a signer that caches the key would.
struct CachedKey {
    scope: canonical::CredentialScope,
    key: canonical::SigningKey,
}

impl CachedKey {
    fn new() -> Self {
        let amz_date = canonical::format_amz_date(signing_time());
        let scope = canonical::CredentialScope::new(&amz_date[..8], "us-east-1", "execute-api");
        let key = canonical::signing_key(SECRET_KEY, &scope);
        Self { scope, key }
    }

    /// The `Authorization` value for the small request.
    fn authorization(&self) -> String {
        let amz_date = canonical::format_amz_date(signing_time());
        let mut headers: Vec<(&str, &str)> = Vec::with_capacity(SMALL_HEADERS.len() + 2);
        headers.push(("host", HOST));
        headers.extend(SMALL_HEADERS);
        headers.push(("x-amz-date", &amz_date));
        let mut names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        let url = url::Url::parse(SMALL_URL).expect("a valid URL");
        let rules = canonical::Rules::for_service("execute-api");
        let canonical_headers =
            canonical::canonical_headers(&headers, &names).expect("every name present");
        let signed_headers = canonical::signed_headers_list(&names);
        let canonical_request = canonical::canonical_request(
            "GET",
            &canonical::canonical_path(url.path(), rules.normalize_path, rules.path_encoding),
            &canonical::canonical_query(url.query().unwrap_or(""), rules.query_plus),
            &canonical_headers,
            &signed_headers,
            canonical::EMPTY_PAYLOAD_SHA256,
        );
        let string_to_sign = canonical::string_to_sign(&amz_date, &self.scope, &canonical_request);
        format!(
            "AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{}, SignedHeaders={signed_headers}, \
             Signature={}",
            self.scope,
            self.key.sign(&string_to_sign)
        )
    }
}

/// The cryptography a SigV4 signature cannot avoid, with a cached key: SHA-256 of the
/// small request's canonical request, the string-to-sign, its HMAC, hex. No
/// canonicalization: a floor for what any signer of this request costs.
struct CryptoFloor {
    canonical_request: String,
    cached: CachedKey,
}

impl CryptoFloor {
    fn new() -> Self {
        Self {
            canonical_request: "GET\n/prod/items\nlimit=10&offset=20&sort=name\n\
                accept:application/json\ncontent-type:application/json\n\
                host:abc123.execute-api.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n\
                x-api-version:2024-06-01\nx-request-id:4f1c2a9e-8d6b-4c3e-9a7f-2b5d8e1f0a63\n\n\
                accept;content-type;host;x-amz-date;x-api-version;x-request-id\n\
                e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .to_owned(),
            cached: CachedKey::new(),
        }
    }

    fn signature(&self) -> String {
        let sts = canonical::string_to_sign(
            "20150830T123600Z",
            &self.cached.scope,
            &self.canonical_request,
        );
        self.cached.key.sign(&sts)
    }
}

/// The middleware and the direct sign must produce the same `Authorization`, or the
/// comparison would not be of the same work.
fn check_equivalence(rt: &tokio::runtime::Runtime, direct: &Direct) {
    let capture = Capture::default();
    let client = ClientBuilder::new(reqwest_client())
        .with(signer())
        .with(capture.clone())
        .build();
    rt.block_on(client.execute(small_request(reqwest::Method::GET)))
        .expect("a response");
    let seen = capture.headers();
    let seen = seen
        .as_ref()
        .and_then(|h| h.get("authorization"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let expected = direct
        .sign()
        .into_iter()
        .find(|(n, _)| *n == "authorization")
        .map(|(_, v)| v);
    assert!(
        seen.is_some() && seen == expected,
        "middleware and direct sign differ:\n{seen:?}\n{expected:?}"
    );
    let floor = Some(CachedKey::new().authorization());
    assert_eq!(floor, expected, "the cached-key signer must sign the same");
    let signature = CryptoFloor::new().signature();
    assert!(
        expected.is_some_and(|e| e.ends_with(&format!("Signature={signature}"))),
        "the crypto floor must compute the same signature"
    );
}

fn bench_small_request(c: &mut Criterion) {
    let rt = current_thread();
    let direct = Direct::new();
    check_equivalence(&rt, &direct);
    let template = small_request(reqwest::Method::GET);
    let bare = bare_stack();
    let signed = signer_stack();

    let mut group = c.benchmark_group("small_request");
    group.throughput(Throughput::Elements(1));
    group.bench_function("bare_stack", |b| {
        b.to_async(&rt).iter(|| {
            let req = template.try_clone().expect("no body");
            async { black_box(bare.execute(req).await.expect("200")) }
        })
    });
    group.bench_function("signer_stack", |b| {
        b.to_async(&rt).iter(|| {
            let req = template.try_clone().expect("no body");
            async { black_box(signed.execute(req).await.expect("200")) }
        })
    });
    group.bench_function("direct_aws_sigv4", |b| b.iter(|| black_box(direct.sign())));
    let cached = CachedKey::new();
    group.bench_function("cached_key_canonical", |b| {
        b.iter(|| black_box(cached.authorization()))
    });
    group.finish();
}

fn bench_large_body(c: &mut Criterion) {
    let rt = current_thread();
    let signed = signer_stack();
    let template = small_request(reqwest::Method::PUT);

    let mut group = c.benchmark_group("large_body");
    group.sample_size(10);
    for mib in [1, 16] {
        let bytes = Bytes::from((0..mib * MIB).map(|i| i as u8).collect::<Vec<u8>>());
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_with_input(BenchmarkId::new("sha256_only", mib), &bytes, |b, bytes| {
            b.iter(|| black_box(Sha256::digest(black_box(&bytes[..]))))
        });
        group.bench_with_input(BenchmarkId::new("signer_stack", mib), &bytes, |b, bytes| {
            b.to_async(&rt).iter(|| {
                let mut req = template.try_clone().expect("no body yet");
                // A refcount clone: the stack sees the same buffer every time.
                *req.body_mut() = Some(reqwest::Body::from(bytes.clone()));
                async { black_box(signed.execute(req).await.expect("200")) }
            })
        });
    }
    group.finish();
}

/// Sends `total` requests split over `tasks` tasks and returns how long that took.
async fn spread(
    client: &ClientWithMiddleware,
    template: &reqwest::Request,
    tasks: u64,
    total: u64,
) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|i| {
            let n = total / tasks + u64::from(i < total % tasks);
            let client = client.clone();
            let template = template.try_clone().expect("no body");
            tokio::spawn(async move {
                for _ in 0..n {
                    let req = template.try_clone().expect("no body");
                    black_box(client.execute(req).await.expect("200"));
                }
            })
        })
        .collect();
    for handle in handles {
        handle.await.expect("task completed");
    }
    start.elapsed()
}

fn bench_concurrency(c: &mut Criterion) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime");
    let template = small_request(reqwest::Method::GET);
    let stacks = [
        ("bare_stack", bare_stack()),
        ("signer_stack", signer_stack()),
    ];

    let mut group = c.benchmark_group("concurrency");
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    for tasks in [1u64, 8, 64] {
        for (name, client) in &stacks {
            group.bench_with_input(BenchmarkId::new(*name, tasks), &tasks, |b, &tasks| {
                b.iter_custom(|iters| rt.block_on(spread(client, &template, tasks, iters)))
            });
        }
    }
    group.finish();
}

// ---------------------------------------------------------------------------------------
// Interleaved ("paired") measurements: the ratios the targets are judged by.
//
// Timed in CPU time of the calling thread (every variant here runs on it: a current-thread
// runtime), so time the machine gives to other processes is not counted.
//
// Criterion measures one function after another, so on a machine shared with other builds
// a burst of load lands on one side of a ratio only. Here the variants of a ratio take
// turns in short batches (rotating which goes first), so every variant sees the same
// load; noise only ever adds time, so the ratio is computed from each variant's 10th
// percentile batch, and the median of the per-round ratios is shown beside it.

/// Target 1: (signer stack − bare stack) / direct aws-sigv4 sign.
fn paired_small_request(rounds: usize) {
    let rt = current_thread();
    let direct = Direct::new();
    let template = small_request(reqwest::Method::GET);
    let bare = bare_stack();
    let signed = signer_stack();
    let cached = CachedKey::new();
    let floor = CryptoFloor::new();
    let send = |client: &ClientWithMiddleware, n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                let req = template.try_clone().expect("no body");
                black_box(client.execute(req).await.expect("200"));
            }
        })
    };
    let mut variants = [
        Variant::new("bare_stack", |n| send(&bare, n)),
        Variant::new("signer_stack", |n| send(&signed, n)),
        Variant::new("direct_aws_sigv4", |n| {
            for _ in 0..n {
                black_box(direct.sign());
            }
        }),
        Variant::new("cached_key_canonical", |n| {
            for _ in 0..n {
                black_box(cached.authorization());
            }
        }),
        Variant::new("crypto_floor", |n| {
            for _ in 0..n {
                black_box(floor.signature());
            }
        }),
    ];
    calibrate(&mut variants, Duration::from_millis(1));
    let s = interleave(&mut variants, rounds, thread_cpu_ns);
    println!("1. small request, interleaved:");
    println!("   Authorization: {}", cached.authorization());
    describe(&variants, &s);
    let (bare, signer, direct) = (&s[0], &s[1], &s[2]);
    let p10 = (percentile(signer, 0.1) - percentile(bare, 0.1)) / percentile(direct, 0.1);
    let per_round: Vec<f64> = (0..rounds)
        .map(|r| (signer[r] - bare[r]) / direct[r])
        .collect();
    let median = percentile(&per_round, 0.5);
    println!(
        "   (signer - bare) / direct = {p10:.3} from p10s, {median:.3} median of rounds \
         (target <= 1.25: {})",
        verdict(p10 <= 1.25)
    );
    println!(
        "   for comparison: cached-key signer / direct aws-sigv4 = {:.3}, crypto floor / \
         direct = {:.3}; signing work of the middleware beyond aws-sigv4's = {:.0} ns",
        percentile(&s[3], 0.1) / percentile(direct, 0.1),
        percentile(&s[4], 0.1) / percentile(direct, 0.1),
        percentile(signer, 0.1) - percentile(bare, 0.1) - percentile(direct, 0.1)
    );
}

/// Target 2: throughput of the signer on a large in-memory body against SHA-256 alone.
fn paired_large_body(rounds: usize) {
    let rt = current_thread();
    let signed = signer_stack();
    let template = small_request(reqwest::Method::PUT);
    let bodies: Vec<Bytes> = [1, 16]
        .iter()
        .map(|mib| Bytes::from((0..mib * MIB).map(|i| i as u8).collect::<Vec<u8>>()))
        .collect();
    let hash = |bytes: &Bytes, n: u64| {
        for _ in 0..n {
            black_box(Sha256::digest(black_box(&bytes[..])));
        }
    };
    let sign = |bytes: &Bytes, n: u64| {
        rt.block_on(async {
            for _ in 0..n {
                let mut req = template.try_clone().expect("no body yet");
                *req.body_mut() = Some(reqwest::Body::from(bytes.clone()));
                black_box(signed.execute(req).await.expect("200"));
            }
        })
    };
    let mut variants = [
        Variant::new("sha256_only 1 MiB", |n| hash(&bodies[0], n)),
        Variant::new("signer_stack 1 MiB", |n| sign(&bodies[0], n)),
        Variant::new("sha256_only 16 MiB", |n| hash(&bodies[1], n)),
        Variant::new("signer_stack 16 MiB", |n| sign(&bodies[1], n)),
    ];
    calibrate(&mut variants, Duration::from_millis(20));
    let s = interleave(&mut variants, rounds, thread_cpu_ns);
    println!("2. large in-memory body, interleaved:");
    describe(&variants, &s);
    for (k, mib) in [(0, 1usize), (2, 16)] {
        let (sha, signer) = (&s[k], &s[k + 1]);
        let mib_s = |ns: f64| mib as f64 / (ns * 1e-9);
        let p10 = percentile(sha, 0.1) / percentile(signer, 0.1);
        let per_round: Vec<f64> = (0..rounds).map(|r| sha[r] / signer[r]).collect();
        println!(
            "   {mib:>2} MiB: sha256 {:.0} MiB/s, signer {:.0} MiB/s (p10s); signer / sha256 \
             throughput = {p10:.3} from p10s, {:.3} median of rounds (target >= 0.9: {}; \
             issue 16's >= 0.97: {})",
            mib_s(percentile(sha, 0.1)),
            mib_s(percentile(signer, 0.1)),
            percentile(&per_round, 0.5),
            verdict(p10 >= 0.9),
            verdict(p10 >= 0.97)
        );
    }
}

/// Target 5: requests/s through the signer stack from 1, 8 and 64 tasks on a multi-thread
/// runtime, with the CPU time they took (a lock held across an await, or a contended one,
/// shows as requests per CPU-second falling as tasks grow).
fn scaling(rounds: usize) {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("a runtime");
    let template = small_request(reqwest::Method::GET);
    let stacks = [
        ("bare_stack", bare_stack()),
        ("signer_stack", signer_stack()),
    ];
    // About 0.3 s of single-task work per run.
    let per_run = |client: &ClientWithMiddleware| {
        let probe = 2_000;
        let took = rt.block_on(spread(client, &template, 1, probe));
        ((probe as f64 * 0.3 / took.as_secs_f64()) as u64).max(probe)
    };
    let sizes: Vec<u64> = stacks.iter().map(|(_, c)| per_run(c)).collect();
    // (stack, tasks) -> (requests/s, requests per CPU-second) per round
    let mut results = vec![[Vec::new(), Vec::new(), Vec::new()]; stacks.len()];
    let tasks = [1u64, 8, 64];
    for round in 0..rounds {
        for j in 0..stacks.len() * tasks.len() {
            let slot = (round + j) % (stacks.len() * tasks.len());
            let (s, t) = (slot / tasks.len(), slot % tasks.len());
            let n = sizes[s];
            let cpu0 = process_cpu_ns();
            let wall = rt.block_on(spread(&stacks[s].1, &template, tasks[t], n));
            let cpu = process_cpu_ns().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
            let per_cpu_s = cpu.map_or(f64::NAN, |ns| n as f64 / (ns as f64 * 1e-9));
            results[s][t].push((n as f64 / wall.as_secs_f64(), per_cpu_s));
        }
    }
    println!(
        "5. concurrency on a {workers}-worker multi-thread runtime, interleaved \
         (medians of {rounds} rounds):"
    );
    for (s, (name, _)) in stacks.iter().enumerate() {
        let median_of = |t: usize, f: fn(&(f64, f64)) -> f64| {
            percentile(&results[s][t].iter().map(f).collect::<Vec<_>>(), 0.5)
        };
        let one = median_of(0, |r| r.0);
        for (t, tasks) in tasks.iter().enumerate() {
            let rps = median_of(t, |r| r.0);
            let per_cpu = median_of(t, |r| r.1);
            println!(
                "   {name:<13} {tasks:>2} tasks: {rps:>9.0} req/s ({:.2}x 1 task), \
                 {per_cpu:>9.0} req per CPU-second, {:.2} cores busy",
                rps / one,
                rps / per_cpu
            );
        }
    }
}

/// Criterion's options that take a value (to tell them from a filter).
const VALUE_OPTIONS: [&str; 14] = [
    "--save-baseline",
    "--baseline",
    "--baseline-lenient",
    "--load-baseline",
    "--sample-size",
    "--warm-up-time",
    "--measurement-time",
    "--nresamples",
    "--noise-threshold",
    "--confidence-level",
    "--significance-level",
    "--profile-time",
    "--output-format",
    "--color",
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut filter = None;
    let mut i = 0;
    while i < args.len() {
        if VALUE_OPTIONS.contains(&args[i].as_str()) {
            i += 1;
        } else if !args[i].starts_with('-') {
            filter = Some(args[i].clone());
        }
        i += 1;
    }
    let benching = args.iter().any(|a| a == "--bench")
        && !args
            .iter()
            .any(|a| a == "--profile-time" || a == "--list" || a == "--test");
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(20)
        .configure_from_args();
    bench_small_request(&mut c);
    bench_large_body(&mut c);
    bench_concurrency(&mut c);
    c.final_summary();
    if !benching {
        return;
    }
    let wanted = |group: &str| {
        filter
            .as_deref()
            .is_none_or(|f| group.contains(f.split('/').next().unwrap_or(f)))
    };
    println!("\n== interleaved measurements (the ratios the targets are judged by) ==");
    if wanted("small_request") {
        paired_small_request(600);
    }
    if wanted("large_body") {
        paired_large_body(30);
    }
    if wanted("concurrency") {
        scaling(4);
    }
}
