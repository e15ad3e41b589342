//! `presign`: presigned S3 URLs for a PUT and a GET, made with your AWS credentials and
//! then used by a plain reqwest client that has none.
//!
//! ```text
//! cargo run --example presign -- BUCKET REGION [--print-urls]
//! ```
//!
//! 1. Presigns `PUT reqwest-sigv4-example/presigned.txt` for 15 minutes and uploads a
//!    text with a plain `reqwest::Client` (no middleware, no credentials): what a browser
//!    or another service would do with the URL.
//! 2. Presigns `GET` of the same key for 5 minutes, downloads it the same way and checks
//!    that the text came back.
//!
//! S3 presigned URLs sign `UNSIGNED-PAYLOAD`: whoever holds the PUT URL chooses the bytes.
//! A presigned URL is a bearer credential, so the example prints where each points and
//! when it expires (`PresignedUrl`'s `Debug` never shows the query, where the signature
//! is); `--print-urls` prints the URLs themselves, to try them with `curl`.
//!
//! Credentials come from aws-config's default chain (environment, profile / SSO, web
//! identity, ECS, IMDS); signed with temporary credentials, a URL dies with their session
//! token, which `expires_at()` accounts for. Needs `s3:PutObject` and `s3:GetObject` on
//! the bucket. The same `presign` works for API Gateway and Lambda function URLs (signed
//! over the body's hash there), and for a route of any other service.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use reqwest::{Method, Request, Url};
use reqwest_sigv4::{PresignedUrl, Route, SigV4Middleware};

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let print_urls = args.iter().any(|a| a == "--print-urls");
    let mut positional = args.iter().filter(|a| !a.starts_with("--"));
    let (Some(bucket), Some(region)) = (positional.next(), positional.next()) else {
        eprintln!(
            "usage: cargo run --example presign -- BUCKET REGION [--print-urls]\n\
             (credentials from the default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, ...)"
        );
        return ExitCode::from(2);
    };
    match run(bucket, region, print_urls).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("presign: {}", with_sources(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run(bucket: &str, region: &str, print_urls: bool) -> Result<(), BoxError> {
    let base = format!("https://{bucket}.s3.{region}.amazonaws.com");
    let object = Url::parse(&format!("{base}/reqwest-sigv4-example/presigned.txt"))?;

    // The signer alone: presigning sends nothing. Service and region come from the host.
    let signer = SigV4Middleware::builder()
        .route(Route::direct(&base))
        .build()?;
    // Whoever gets the URLs: any HTTP client, without the middleware or credentials.
    let plain = reqwest::Client::new();

    // 1. Upload through a presigned PUT.
    let put = signer
        .presign(
            &Request::new(Method::PUT, object.clone()),
            Duration::from_secs(15 * 60),
        )
        .await?;
    describe("PUT", &put, print_urls);
    let text = "uploaded through a presigned URL\n";
    let response = plain
        .put(put.into_url())
        .header(reqwest::header::CONTENT_TYPE, "text/plain")
        .body(text)
        .send()
        .await
        // reqwest's errors name the URL, signature and all: leave it out of messages.
        .map_err(reqwest::Error::without_url)?;
    check(response).await?;
    println!("  uploaded {} bytes", text.len());

    // 2. Download through a presigned GET.
    let get = signer
        .presign(
            &Request::new(Method::GET, object),
            Duration::from_secs(5 * 60),
        )
        .await?;
    describe("GET", &get, print_urls);
    let response = plain
        .get(get.into_url())
        .send()
        .await
        .map_err(reqwest::Error::without_url)?;
    let downloaded = check(response)
        .await?
        .text()
        .await
        .map_err(reqwest::Error::without_url)?;
    if downloaded != text {
        return Err(format!("downloaded {downloaded:?}, uploaded {text:?}").into());
    }
    println!("  downloaded the same {} bytes", downloaded.len());
    Ok(())
}

/// Where a presigned URL points and how long it works; the URL itself (a secret) only
/// when asked.
fn describe(method: &str, presigned: &PresignedUrl, print_urls: bool) {
    let left = presigned
        .expires_at()
        .duration_since(SystemTime::now())
        .unwrap_or_default();
    let ends = if presigned.credentials_expire_first().is_some() {
        "with the session token"
    } else {
        "with X-Amz-Expires"
    };
    println!(
        "{method} {} {}: works for {} s more (ends {ends})",
        presigned.host_str().unwrap_or_default(),
        presigned.path(),
        left.as_secs(),
    );
    if print_urls {
        println!("  {}", presigned.as_str());
    }
}

/// The response of a success, else an error with S3's answer (nothing explains it here:
/// the plain client has no middleware to read it).
async fn check(response: reqwest::Response) -> Result<reqwest::Response, BoxError> {
    let status = response.status();
    if status.is_success() {
        Ok(response)
    } else {
        let body = response.text().await.unwrap_or_default();
        Err(format!("{status}: {body}").into())
    }
}

/// An error and its sources, one after the other (reqwest's says "error sending request",
/// its sources why).
fn with_sources(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
