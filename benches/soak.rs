//! `soak`: the middleware as a long-running service uses it, over loopback, for minutes.
//!
//! ```text
//! cargo bench --bench soak -- --minutes 3 --concurrency 64 --lifetime 20   # release build
//! cargo test --bench soak -- --minutes 3 --concurrency 64 --lifetime 20    # debug build
//! cargo bench --bench soak                                                  # 30 s
//! ```
//!
//! A bench target without criterion's harness, so a plain `cargo bench` runs it too: it is
//! short by default (30 seconds under `cargo bench`); the soak proper is `--minutes 3`
//! and more. Without `--bench` (as under `cargo test --benches`) and without `--minutes`
//! it runs for 3 seconds as a smoke test.
//!
//! `--concurrency` tasks send requests back to back through a signing client to a loopback
//! stand-in of API Gateway that verifies every signature (with `reqwest_sigv4::verify`)
//! against the credentials handed out recently. Credentials come from a provider that
//! hands out new ones on every call, living `--lifetime` seconds, after a simulated
//! `--provider-delay` (IMDS or STS). One request in ten is answered `403` by an IAM deny
//! (expected), one in ten is redirected (`307`) and followed by the middleware, which signs
//! the new URL afresh.
//!
//! Every `--window` seconds it prints: requests, errors (anything but the expected answer),
//! expected 403s, followed redirects, provider calls, resident memory, open file
//! descriptors, and p50 / p99 latency. At the end: totals and provider calls per
//! credentials lifetime. Exits non-zero if any request failed.
//!
//! Memory and descriptors come from `/proc/self` (Linux); elsewhere they print `-`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::verify::{ReceivedRequest, Verifier};
use reqwest_sigv4::{Route, SigV4Middleware, SystemClock};
use support::credentials::Rotating;
use support::{
    client_for, find_header, header_pairs, BufferedRequest, BufferedResponse, EXECUTE_API_HOST,
    REGION, SERVICE, STAGE,
};

/// Soak-tests the credentials cache and signing path over loopback.
#[derive(Parser, Debug)]
#[command(
    name = "soak",
    about = "Soak run: minutes of signed requests over loopback"
)]
struct Args {
    /// How long to run, in minutes (fractions allowed) [default: 0.5, or 0.05 without
    /// `--bench`].
    #[arg(long)]
    minutes: Option<f64>,
    /// Requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Lifetime of each credentials handed out, in seconds.
    #[arg(long, default_value_t = 20)]
    lifetime: u64,
    /// How long each provider call takes, in milliseconds.
    #[arg(long, default_value_t = 20)]
    provider_delay: u64,
    /// Seconds per report line.
    #[arg(long, default_value_t = 30)]
    window: u64,
    /// Passed by `cargo bench`: without it (and without `--minutes`) the run is a smoke
    /// test of a few seconds.
    #[arg(long, hide = true)]
    bench: bool,
}

impl Args {
    /// How long to run: `--minutes`, else 30 s under `cargo bench`, else a 3-s smoke test.
    fn minutes(&self) -> f64 {
        self.minutes.unwrap_or(if self.bench { 0.5 } else { 0.05 })
    }
}

/// What a request is sent for, and what counts as success.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `200` from a verified signature.
    Item,
    /// `403` from the IAM deny, after a verified signature.
    Denied,
    /// `307` to an item, followed and re-signed by the middleware: `200`.
    Moved,
}

/// Counters of one report window.
#[derive(Default)]
struct Window {
    latencies_us: Vec<u64>,
    errors: u64,
    denied: u64,
    redirected: u64,
    first_error: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let provider = Rotating::new(SystemClock, Duration::from_secs(args.lifetime));
    provider.set_delay(Duration::from_millis(args.provider_delay));

    let server_provider = provider.clone();
    let (addr, _server) = support::spawn_server(move |req, _peer| {
        let answer = answer(&server_provider, req);
        async move { answer }
    });
    let signer = SigV4Middleware::builder()
        .route(Route::direct(format!("http://{EXECUTE_API_HOST}")))
        .credentials_provider(provider.clone())
        .build()
        .expect("valid configuration");
    let client = reqwest_middleware::ClientBuilder::new(client_for(&[(EXECUTE_API_HOST, addr)]))
        .with(signer)
        .build();

    println!(
        "soak: {} min, {} in flight, credentials living {} s, provider call {} ms, server {addr}",
        args.minutes(),
        args.concurrency,
        args.lifetime,
        args.provider_delay
    );
    println!(
        "{:>6} {:>9} {:>6} {:>6} {:>6} {:>6} {:>8} {:>5} {:>8} {:>8}",
        "t(s)",
        "requests",
        "errors",
        "403s",
        "3xx",
        "calls",
        "rss(MiB)",
        "fds",
        "p50(ms)",
        "p99(ms)"
    );

    let window = Arc::new(Mutex::new(Window::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..args.concurrency)
        .map(|w| {
            let (client, window, stop) = (client.clone(), window.clone(), stop.clone());
            tokio::spawn(async move {
                let mut n = w as u64;
                while !stop.load(Ordering::Relaxed) {
                    let kind = match n % 10 {
                        0 => Kind::Denied,
                        5 => Kind::Moved,
                        _ => Kind::Item,
                    };
                    let started = Instant::now();
                    let outcome = send(&client, kind, n).await;
                    let took = started.elapsed().as_micros() as u64;
                    let mut win = window.lock().unwrap();
                    win.latencies_us.push(took);
                    match outcome {
                        Ok(()) if kind == Kind::Denied => win.denied += 1,
                        Ok(()) if kind == Kind::Moved => win.redirected += 1,
                        Ok(()) => {}
                        Err(e) => {
                            win.errors += 1;
                            win.first_error.get_or_insert(e);
                        }
                    }
                    n += args.concurrency as u64;
                }
            })
        })
        .collect();

    let started = Instant::now();
    let total = Duration::from_secs_f64(args.minutes() * 60.0);
    let (mut requests, mut errors, mut calls_before) = (0u64, 0u64, 0usize);
    while started.elapsed() < total {
        let left = total - started.elapsed();
        tokio::time::sleep(left.min(Duration::from_secs(args.window))).await;
        let mut win = std::mem::take(&mut *window.lock().unwrap());
        let calls = provider.calls();
        requests += win.latencies_us.len() as u64;
        errors += win.errors;
        report(started.elapsed(), &mut win, calls - calls_before);
        calls_before = calls;
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }

    let elapsed = started.elapsed().as_secs_f64();
    let calls = provider.calls();
    let lifetimes = elapsed / args.lifetime as f64;
    println!(
        "total: {requests} requests in {elapsed:.0} s ({:.0}/s), {errors} errors, {calls} provider calls \
         ({:.2} per {} s credentials lifetime, one every {:.1} s)",
        requests as f64 / elapsed,
        calls as f64 / lifetimes,
        args.lifetime,
        elapsed / calls.max(1) as f64,
    );
    if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Sends one request of `kind`; `Err` says what was unexpected about the answer.
async fn send(client: &ClientWithMiddleware, kind: Kind, n: u64) -> Result<(), String> {
    let path = match kind {
        Kind::Item => "items",
        Kind::Denied => "denied",
        Kind::Moved => "moved",
    };
    let url = format!("http://{EXECUTE_API_HOST}/{STAGE}/{path}/{n}");
    let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let final_path = response.url().path().to_owned();
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    let expected = match kind {
        Kind::Denied => status == 403 && body.starts_with(b"{\"Message\""),
        Kind::Moved => status == 200 && final_path.contains("/items/"),
        Kind::Item => status == 200,
    };
    if expected {
        Ok(())
    } else {
        Err(format!(
            "{url}: {status} {}",
            String::from_utf8_lossy(&body[..body.len().min(200)])
        ))
    }
}

/// The stand-in's answer: verify against the last few credentials handed out, then 200,
/// an IAM deny, or a redirect to an item.
fn answer(provider: &Rotating, req: BufferedRequest) -> BufferedResponse {
    let target = req
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let headers = header_pairs(req.headers());
    let host_ok = find_header(&headers, "host").is_some();
    let method = req.method().as_str().to_owned();
    let received = ReceivedRequest::new(method, target.clone(), headers, req.into_body());
    let verdict = match verifier(provider) {
        Some(v) if host_ok => v
            .verify(&received)
            .map(|_| ())
            .map_err(|r| r.api_gateway_message()),
        _ => Err("Missing Authentication Token".to_owned()),
    };
    let response = http::Response::builder();
    match verdict {
        Err(message) => json(response.status(403), "message", &message),
        Ok(()) if target.contains("/denied/") => json(
            response.status(403),
            "Message",
            "User: arn:aws:sts::123456789012:assumed-role/soak/s is not authorized to perform: execute-api:Invoke",
        ),
        Ok(()) if target.contains("/moved/") => response
            .status(307)
            .header("location", target.replace("/moved/", "/items/"))
            .body(Bytes::new())
            .expect("redirect"),
        Ok(()) => json(response.status(200), "ok", "true"),
    }
}

/// A verifier for the credentials handed out most recently (those still in use).
fn verifier(provider: &Rotating) -> Option<Verifier> {
    let issued = provider.recent(4);
    let mut all = issued.into_iter();
    let mut v = Verifier::new(all.next()?);
    for more in all {
        v = v.with_credentials(more);
    }
    Some(v.service(SERVICE).region(REGION))
}

fn json(response: http::response::Builder, key: &str, value: &str) -> BufferedResponse {
    response
        .header("content-type", "application/json")
        .body(Bytes::from(serde_json::json!({ key: value }).to_string()))
        .expect("json response")
}

/// Prints one window's line.
fn report(at: Duration, win: &mut Window, calls: usize) {
    win.latencies_us.sort_unstable();
    let pct = |p: f64| -> f64 {
        if win.latencies_us.is_empty() {
            return 0.0;
        }
        let i = ((win.latencies_us.len() - 1) as f64 * p).round() as usize;
        win.latencies_us[i] as f64 / 1000.0
    };
    let rss =
        proc_status_kib("VmRSS:").map_or("-".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
    let fds = std::fs::read_dir("/proc/self/fd").map_or("-".to_owned(), |d| d.count().to_string());
    println!(
        "{:>6.0} {:>9} {:>6} {:>6} {:>6} {:>6} {:>8} {:>5} {:>8.2} {:>8.2}",
        at.as_secs_f64(),
        win.latencies_us.len(),
        win.errors,
        win.denied,
        win.redirected,
        calls,
        rss,
        fds,
        pct(0.50),
        pct(0.99),
    );
    if let Some(e) = &win.first_error {
        println!("       first error: {e}");
    }
}

/// A `kB` line of `/proc/self/status`.
fn proc_status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
