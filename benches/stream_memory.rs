//! `stream_memory`: peak memory of signing a streaming body, by chunk size.
//!
//! ```text
//! cargo bench --bench stream_memory                            # 64 MiB in 64 KiB chunks, runs its own baseline
//! cargo bench --bench stream_memory -- --mib 8 --chunk 16      # 8 MiB in 16-byte chunks
//! cargo bench --bench stream_memory -- --baseline              # the same program, no body
//! bin=$(cargo bench --bench stream_memory --no-run 2>&1 | sed -n 's/.*Executable .*(\(.*\))/\1/p')
//! /usr/bin/time -v "$bin" --no-compare                         # the peak as the OS counts it
//! ```
//!
//! A bench target without criterion's harness: a plain `cargo bench` runs it with its
//! defaults (a few seconds). It ignores the `--bench` flag cargo passes.
//!
//! Sends one `Body::wrap_stream` body (default 64 MiB, `--mib N`; generated lazily in
//! chunks of `--chunk BYTES`, default 64 KiB, each a fresh allocation as a file or socket
//! reader would hand them over, never one buffer) through the signer, configured with a
//! body limit of twice the body, into an innermost middleware that reads the body and
//! keeps none of it. Prints the peak RSS (`VmHWM` from `/proc/self/status`). Unless given
//! `--baseline` or `--no-compare`, it then runs itself with `--baseline` (same program,
//! same stack, no body) and prints (peak − baseline peak) / body size.

use std::process::ExitCode;

use bytes::Bytes;
use http::Extensions;
use http_body_util::BodyExt;
use reqwest_middleware::{ClientBuilder, Middleware, Next};
use reqwest_sigv4::{Route, SigV4Middleware};

const MIB: u64 = 1024 * 1024;
const DEFAULT_CHUNK: usize = 64 * 1024;
const DEFAULT_BODY_MIB: u64 = 64;

/// Reads the request body to its end and drops every chunk; answers with the byte count.
struct Drain;

#[async_trait::async_trait]
impl Middleware for Drain {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        _extensions: &mut Extensions,
        _next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let mut drained: u64 = 0;
        if let Some(mut body) = req.body_mut().take() {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(reqwest_middleware::Error::Reqwest)?;
                if let Ok(data) = frame.into_data() {
                    drained += data.len() as u64;
                }
            }
        }
        let signed = req.headers().contains_key("authorization");
        let response = http::Response::builder()
            .status(if signed { 200 } else { 401 })
            .header("x-drained", drained)
            .body(Bytes::new())
            .expect("a valid response");
        Ok(reqwest::Response::from(response))
    }
}

/// `Name:   123 kB` from /proc/self/status, in KiB.
fn status_kib(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn body_stream(body_bytes: u64, chunk: usize) -> reqwest::Body {
    let chunks = body_bytes as usize / chunk;
    let stream = futures::stream::iter((0..chunks).map(move |i| {
        // A fresh allocation per chunk, as a file or socket reader would hand them over.
        Ok::<_, std::io::Error>(Bytes::from(vec![(i % 251) as u8 + 1; chunk]))
    }));
    reqwest::Body::wrap_stream(stream)
}

fn send(body_bytes: u64, chunk: usize) -> Result<u64, Box<dyn std::error::Error>> {
    let signer = SigV4Middleware::builder()
        .route(Route::direct(
            "https://abc123.execute-api.us-east-1.amazonaws.com",
        ))
        .static_credentials(aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "stream_memory",
        ))
        .body_limit((2 * body_bytes).max(MIB) as usize)
        .build()?;
    let client = ClientBuilder::new(reqwest::Client::new())
        .with(signer)
        .with(Drain)
        .build();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut request =
            client.put("https://abc123.execute-api.us-east-1.amazonaws.com/prod/upload");
        if body_bytes > 0 {
            request = request.body(body_stream(body_bytes, chunk));
        }
        let response = request.send().await?;
        if response.status() != 200 {
            return Err(format!("not signed: {}", response.status()).into());
        }
        let drained = response
            .headers()
            .get("x-drained")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok(drained)
    })
}

/// Runs this program again with `--baseline` and returns the peak it reports, in KiB.
fn baseline_peak_kib() -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .arg("--baseline")
        .output()
        .ok()?;
    String::from_utf8(out.stdout)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib=")?.trim().parse().ok())
}

/// The value after `flag`, parsed; `default` when absent.
fn flag_value<T: std::str::FromStr>(args: &[String], flag: &str, default: T) -> Result<T, String> {
    match args.iter().position(|a| a == flag) {
        None => Ok(default),
        Some(i) => args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("{flag} needs a positive number")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let baseline = args.iter().any(|a| a == "--baseline");
    let compare = !baseline && !args.iter().any(|a| a == "--no-compare");
    let (body_mib, chunk) = match (
        flag_value(&args, "--mib", DEFAULT_BODY_MIB),
        flag_value(&args, "--chunk", DEFAULT_CHUNK),
    ) {
        (Ok(m), Ok(c)) if m > 0 && c > 0 => (m, c),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
        _ => {
            eprintln!("error: --mib and --chunk must be positive");
            return ExitCode::FAILURE;
        }
    };
    // Whole chunks only, so that the byte count checked below is exact.
    let body_bytes = if baseline {
        0
    } else {
        body_mib * MIB / chunk as u64 * chunk as u64
    };
    let drained = match send(body_bytes, chunk) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if drained != body_bytes {
        eprintln!("error: drained {drained} bytes, expected {body_bytes}");
        return ExitCode::FAILURE;
    }
    let Some(peak) = status_kib("VmHWM") else {
        eprintln!("error: no VmHWM in /proc/self/status (Linux only)");
        return ExitCode::FAILURE;
    };
    println!("body_bytes={drained}");
    println!("chunk_bytes={chunk}");
    println!("peak_rss_kib={peak}");
    if compare {
        let Some(base) = baseline_peak_kib() else {
            eprintln!("error: the --baseline run failed");
            return ExitCode::FAILURE;
        };
        let body_kib = body_bytes as f64 / 1024.0;
        let extra = peak.saturating_sub(base) as f64;
        let ratio = extra / body_kib;
        println!("baseline_peak_rss_kib={base}");
        println!(
            "streaming {body_mib} MiB in {chunk}-byte chunks: peak {peak} KiB - baseline {base} KiB \
             = {extra:.0} KiB = {ratio:.3}x the body (target <= 1.1: {})",
            if ratio <= 1.1 { "pass" } else { "MISS" }
        );
    }
    ExitCode::SUCCESS
}
