//! `sigv4-curl`: a curl-like client that signs each request with AWS SigV4, built on the
//! public API of `reqwest-sigv4`.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser};
use serde_json::{json, Value};

use reqwest_sigv4::aws::config as aws_config;
use reqwest_sigv4::{
    Explanation, Route, SigV4Middleware, SignedRequest, Suggestion, SummaryPolicy,
};

/// The name the binary is installed under.
pub const PROGRAM: &str = "sigv4-curl";

/// `writeln!` whose failure (a closed pipe) is not worth failing the call for.
macro_rules! w {
    ($dst:expr, $($arg:tt)*) => {{
        let _ = writeln!($dst, $($arg)*);
    }};
}

/// Sends one SigV4-signed HTTP request.
#[derive(Parser, Debug)]
#[command(
    name = PROGRAM,
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
    /// Take credentials and region from this profile of the AWS config and credentials
    /// files (default: the default chain: environment, `AWS_PROFILE`, SSO, roles, IMDS).
    #[arg(long, value_name = "NAME")]
    profile: Option<String>,
    /// Assume this IAM role with STS (using the credentials of --profile or the default
    /// chain) and sign with its temporary credentials.
    #[arg(long, value_name = "ARN")]
    role_arn: Option<String>,
    /// Sign with SigV4a for this region set: `*` or `us-east-1,us-west-2`.
    #[arg(long, value_name = "REGIONS")]
    sigv4a: Option<String>,
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
    /// Write the response body to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Put the response's status line and headers in front of its body.
    #[arg(short = 'i', long = "include")]
    include: bool,
    /// Print one JSON object to stdout instead of the body: the status, what was signed
    /// (canonical request, string-to-sign; never a secret), the explanation of a 403 and
    /// the body (unless -o).
    #[arg(long)]
    json: bool,
    /// Print the canonical request and string-to-sign to stderr (never a secret).
    #[arg(short, long)]
    verbose: bool,
    /// The URL to call.
    url: String,
    /// The name errors are prefixed with (`call` for the example).
    #[arg(skip = PROGRAM)]
    program: &'static str,
}

impl Args {
    /// Parses `argv` (program name first) for the program called `program`.
    pub fn parse_as<I, T>(program: &'static str, argv: I) -> Result<Self, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command()
            .name(program)
            .bin_name(program)
            .try_get_matches_from(argv)?;
        let mut args = Self::from_arg_matches(&matches)?;
        args.program = program;
        Ok(args)
    }
}

fn main() -> ExitCode {
    run_main(PROGRAM)
}

/// Renders an error and its sources on one line.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(next) = source {
        let text = next.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = next.source();
    }
    out
}

/// The whole program: parses the process's arguments, runs one call, and returns its exit
/// code (0 on success, 22 on an HTTP status >= 400, 1 on any other error).
pub fn run_main(program: &'static str) -> ExitCode {
    let args = Args::parse_as(program, std::env::args_os()).unwrap_or_else(|e| e.exit());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("{program}: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(cli(args, &mut std::io::stdout(), &mut std::io::stderr()));
    ExitCode::from(code)
}

/// Runs one call, writing the body to `out` and everything else to `err`; returns the
/// exit code.
pub async fn cli(args: Args, out: &mut impl Write, err: &mut impl Write) -> u8 {
    let program = args.program;
    match run(args, out, err).await {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "{program}: {message}");
            1
        }
    }
}

async fn run(args: Args, out: &mut impl Write, err: &mut impl Write) -> Result<u8, String> {
    let url =
        reqwest::Url::parse(&args.url).map_err(|e| format!("invalid URL {:?}: {e}", args.url))?;
    let route = route_for(&args, &url)?;
    let signer = credentials(&args, SigV4Middleware::builder())
        .await
        .route(route)
        // `-v` and `--json` show what was signed, whatever the answer.
        .summaries(SummaryPolicy::Always)
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
        let request = request.build().map_err(|e| error_chain(&e))?;
        let url = signer
            .presign(&request, std::time::Duration::from_secs(secs))
            .await
            .map_err(|e| e.to_string())?;
        if args.json {
            w!(out, "{}", json!({ "presigned_url": url.as_str() }));
        } else {
            w!(out, "{}", url.as_str());
        }
        return Ok(0);
    }
    let response = request.send().await.map_err(|e| error_chain(&e))?;
    let signed = response.extensions().get::<SignedRequest>().cloned();
    let explanation = response.extensions().get::<Explanation>().cloned();
    if args.verbose {
        if let Some(signed) = &signed {
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
    let status_line = format!("{:?} {}", response.version(), status);
    w!(err, "{status_line}");
    if let Some(explanation) = &explanation {
        w!(err, "{}: {explanation}", args.program);
        if let Some(flag) = explanation.suggestion.as_ref().and_then(suggested_flag) {
            w!(err, "{}: try again with {flag}", args.program);
        }
    }
    let mut head = Vec::new();
    if args.include {
        head.extend_from_slice(format!("{status_line}\r\n").as_bytes());
        for (name, value) in response.headers() {
            head.extend_from_slice(format!("{name}: ").as_bytes());
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"\r\n");
    }
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into()))
        .collect();
    let body = response.bytes().await.map_err(|e| error_chain(&e))?;
    if let Some(path) = &args.output {
        let mut file = std::fs::File::create(path)
            .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        file.write_all(&head)
            .and_then(|()| file.write_all(&body))
            .map_err(|e| format!("writing {} failed: {e}", path.display()))?;
    }
    if args.json {
        let body = (args.output.is_none()).then(|| String::from_utf8_lossy(&body));
        let summary = json!({
            "status": status.as_u16(),
            "headers": headers,
            "signed": signed.as_ref().map(signed_json),
            "explanation": explanation.as_ref().map(explanation_json),
            "body": body,
        });
        w!(out, "{summary}");
    } else if args.output.is_none() {
        out.write_all(&head)
            .and_then(|()| out.write_all(&body))
            .map_err(|e| format!("writing the body failed: {e}"))?;
    }
    Ok(if status.as_u16() >= 400 { 22 } else { 0 })
}

/// Credentials from --profile and --role-arn; with neither, the builder's default chain.
async fn credentials(
    args: &Args,
    builder: reqwest_sigv4::SigV4MiddlewareBuilder,
) -> reqwest_sigv4::SigV4MiddlewareBuilder {
    if args.profile.is_none() && args.role_arn.is_none() {
        return builder;
    }
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(profile) = &args.profile {
        // The profile's own credentials, not the default chain's first find (which would
        // be keys in the environment): what the user named on the command line wins.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        loader = loader.profile_name(profile).credentials_provider(provider);
    }
    if let Some(region) = &args.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    let builder = builder.sdk_config(&config);
    match &args.role_arn {
        Some(role_arn) => {
            let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                .session_name(PROGRAM)
                .configure(&config)
                .build()
                .await;
            builder.credentials_provider(provider)
        }
        None => builder,
    }
}

/// The flag that applies a suggestion, when there is one.
fn suggested_flag(suggestion: &Suggestion) -> Option<String> {
    match suggestion {
        Suggestion::CloudFrontRoute { origin_url } => Some(format!("--origin {origin_url}")),
        Suggestion::SignHost { host } => Some(format!("--sign-host {host}")),
        _ => None,
    }
}

/// What was signed, as JSON: everything `-v` shows, and nothing secret (the session
/// token is redacted by [`SignedRequest`], the signature is not in it).
fn signed_json(signed: &SignedRequest) -> Value {
    json!({
        "algorithm": signed.algorithm(),
        "method": signed.method(),
        "host": signed.host(),
        "path_and_query": signed.path_and_query(),
        "headers": signed.headers().collect::<Vec<_>>(),
        "payload_sha256": signed.payload_sha256(),
        "amz_date": signed.amz_date(),
        "service": signed.service(),
        "region": signed.region(),
        "access_key_id": signed.access_key_id(),
        "route": format!("{:?}", signed.route()),
        "canonical_request": signed.canonical_request(),
        "string_to_sign": signed.string_to_sign(),
    })
}

fn explanation_json(explanation: &Explanation) -> Value {
    let detail = format!("{:?}", explanation.cause);
    let cause = detail
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next()
        .unwrap_or_default()
        .to_owned();
    json!({
        "cause": cause,
        "detail": detail,
        "summary": explanation.summary,
        "suggestion": explanation.suggestion.as_ref().map(|s| format!("{s:?}")),
        "suggested_flag": explanation.suggestion.as_ref().and_then(suggested_flag),
        "differences": explanation
            .differences
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
    })
}

/// The one route this call signs for, from the topology flags.
fn route_for(args: &Args, url: &reqwest::Url) -> Result<Route, String> {
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
    if let Some(regions) = &args.sigv4a {
        route = route.sigv4a(regions.clone());
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
fn is_s3(args: &Args, url: &reqwest::Url) -> bool {
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
fn base_url(url: &reqwest::Url) -> String {
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
