//! `call`: a curl-like client that signs with reqwest-sigv4.
//!
//! ```text
//! cargo run --example call -- https://abc123.execute-api.us-east-1.amazonaws.com/prod/items
//! cargo run --example call -- -X POST -H 'Content-Type: application/json' -d '{"a":1}' URL
//! cargo run --example call -- --origin https://abc123.execute-api.us-east-1.amazonaws.com/prod \
//!     https://api.example.com/items
//! ```
//!
//! Credentials come from the default AWS chain. The response body goes to stdout and the
//! status line to stderr; the exit code is 0 on success, 22 on an HTTP status >= 400, and
//! 1 on any other error.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::Parser;
use reqwest_sigv4::{Explanation, Route, SigV4Middleware, SignedRequest, Suggestion};

/// `writeln!` whose failure (a closed pipe) is not worth failing the call for.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = writeln!($dst, $($arg)*);
    }};
}

/// Sends one SigV4-signed HTTP request.
#[derive(Parser, Debug)]
#[command(
    name = "call",
    version,
    about = "A curl-like client that signs each request with AWS SigV4 (reqwest-sigv4)"
)]
pub struct Args {
    /// HTTP method (default GET, or POST with -d).
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    method: Option<String>,
    /// Extra header, `Name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// Request body, or `@FILE` to stream a file. To S3, a file is sent with its length and
    /// signed over `UNSIGNED-PAYLOAD`, so it is streamed, never buffered, whatever its size.
    #[arg(short = 'd', long = "data", value_name = "BODY")]
    data: Option<String>,
    /// Service to sign for (default: inferred from the host, else execute-api).
    #[arg(long)]
    service: Option<String>,
    /// Region to sign for (default: inferred from the host, else the AWS config).
    #[arg(long)]
    region: Option<String>,
    /// Connect HOST:PORT to ADDR, as curl's --resolve (repeatable).
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    resolve: Vec<String>,
    /// The URL is a CloudFront alias: sign as if sent to this origin base URL (origin
    /// domain + origin path).
    #[arg(long, value_name = "URL", conflicts_with_all = ["alias", "sign_host"])]
    origin: Option<String>,
    /// The URL is written for the origin: send it to this CloudFront alias base instead.
    #[arg(long, value_name = "URL", conflicts_with = "sign_host")]
    alias: Option<String>,
    /// With --alias: the origin path (default: the URL's first path segment, the stage).
    #[arg(long, value_name = "PATH", requires = "alias")]
    origin_path: Option<String>,
    /// Send and sign this Host while connecting to the URL's host.
    #[arg(long, value_name = "HOST")]
    sign_host: Option<String>,
    /// Print a presigned URL valid for SECS seconds instead of sending the request.
    #[arg(long, value_name = "SECS")]
    presign: Option<u64>,
    /// Print the canonical request and string-to-sign to stderr (never a secret).
    #[arg(short, long)]
    verbose: bool,
    /// The URL to call.
    url: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let code = cli(
        Args::parse(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    )
    .await;
    ExitCode::from(code)
}

/// Runs one call, writing the body to `out` and everything else to `err`; returns the
/// exit code.
pub async fn cli(args: Args, out: &mut impl Write, err: &mut impl Write) -> u8 {
    match run(args, out, err).await {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "call: {message}");
            1
        }
    }
}

async fn run(args: Args, out: &mut impl Write, err: &mut impl Write) -> Result<u8, String> {
    let url = url::Url::parse(&args.url).map_err(|e| format!("invalid URL {:?}: {e}", args.url))?;
    let route = route_for(&args, &url)?;
    let signer = SigV4Middleware::builder()
        .route(route)
        .build()
        .map_err(|e| e.to_string())?;

    let mut client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    for spec in &args.resolve {
        let (host, addr) = parse_resolve(spec)?;
        client = client.resolve(&host, addr);
    }
    let client = reqwest_middleware::ClientBuilder::new(client.build().map_err(|e| e.to_string())?)
        .with(signer.clone())
        .build();

    let method = match (&args.method, &args.data) {
        (Some(m), _) => m.to_ascii_uppercase(),
        (None, Some(_)) => "POST".to_owned(),
        (None, None) => "GET".to_owned(),
    };
    let method = reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| format!("invalid method {method:?}"))?;
    let mut request = client.request(method, url);
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("header {header:?} is not `Name: value`"))?;
        request = request.header(name.trim(), value.trim());
    }
    if let Some(data) = &args.data {
        request = match data.strip_prefix('@') {
            Some(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| format!("cannot open {path}: {e}"))?;
                // Without a length the file would go chunked, which S3 refuses for uploads.
                let len = file
                    .metadata()
                    .await
                    .map_err(|e| format!("cannot read {path}: {e}"))?
                    .len();
                request
                    .header(reqwest::header::CONTENT_LENGTH, len)
                    .body(reqwest::Body::from(file))
            }
            None => request.body(data.clone()),
        };
    }

    if let Some(secs) = args.presign {
        let request = request.build().map_err(|e| one_line(&e))?;
        let url = signer
            .presign(&request, std::time::Duration::from_secs(secs))
            .await
            .map_err(|e| e.to_string())?;
        w!(out, "{}", url.as_str());
        return Ok(0);
    }
    let response = request.send().await.map_err(|e| one_line(&e))?;
    if args.verbose {
        if let Some(signed) = response.extensions().get::<SignedRequest>() {
            w!(
                err,
                "* signed for host {} and path {}",
                signed.host(),
                signed.path_and_query()
            );
            w!(
                err,
                "* canonical request:\n{}\n",
                signed.canonical_request()
            );
            w!(err, "* string to sign:\n{}\n", signed.string_to_sign());
        }
    }
    let status = response.status();
    w!(err, "{:?} {}", response.version(), status);
    if let Some(explanation) = response.extensions().get::<Explanation>() {
        w!(err, "call: {explanation}");
        match &explanation.suggestion {
            Some(Suggestion::CloudFrontRoute { origin_url }) => {
                w!(err, "call: try again with --origin {origin_url}");
            }
            Some(Suggestion::SignHost { host }) => {
                w!(err, "call: try again with --sign-host {host}");
            }
            _ => {}
        }
    }
    let body = response.bytes().await.map_err(|e| one_line(&e))?;
    out.write_all(&body)
        .map_err(|e| format!("writing the body failed: {e}"))?;
    Ok(if status.as_u16() >= 400 { 22 } else { 0 })
}

/// The one route this call signs for, from the topology flags.
fn route_for(args: &Args, url: &url::Url) -> Result<Route, String> {
    let base = base_url(url);
    let mut route = if let Some(origin) = &args.origin {
        Route::cloudfront(base, origin.clone())
    } else if let Some(alias) = &args.alias {
        let origin_path = match &args.origin_path {
            Some(p) => p.trim_end_matches('/').to_owned(),
            None => url
                .path_segments()
                .and_then(|mut s| s.next())
                .filter(|s| !s.is_empty())
                .map(|s| format!("/{s}"))
                .unwrap_or_default(),
        };
        Route::cloudfront(alias.clone(), format!("{base}{origin_path}")).rewrite_origin_urls(true)
    } else if let Some(host) = &args.sign_host {
        Route::host_override(base, host.clone())
    } else {
        Route::direct(base)
    };
    if let Some(service) = &args.service {
        route = route.service(service.clone());
    }
    if let Some(region) = &args.region {
        route = route.region(region.clone());
    }
    let file_body = args.data.as_deref().is_some_and(|d| d.starts_with('@'));
    if file_body && is_s3(args, url) {
        route = route.unsigned_payload(true);
    }
    Ok(route)
}

/// Whether the call signs for S3: `--service s3`, or an S3 endpoint host
/// (`bucket.s3.region.amazonaws.com`, `s3.amazonaws.com`, legacy `s3-region`, `s3-fips`,
/// access points).
fn is_s3(args: &Args, url: &url::Url) -> bool {
    if let Some(service) = &args.service {
        return service == "s3";
    }
    let host = url.host_str().unwrap_or_default();
    let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
    aws && host
        .split('.')
        .any(|label| label == "s3" || label.starts_with("s3-"))
}

/// `scheme://host[:port]` of a URL.
fn base_url(url: &url::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}

fn parse_resolve(spec: &str) -> Result<(String, SocketAddr), String> {
    let bad = || format!("--resolve {spec:?} is not HOST:PORT:ADDR");
    let (host, rest) = spec.split_once(':').ok_or_else(bad)?;
    let (port, addr) = rest.split_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let addr: IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .map_err(|_| bad())?;
    Ok((host.to_owned(), SocketAddr::new(addr, port)))
}

/// An error and its causes on one line.
fn one_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}
