//! `s3`: uploads to an S3 bucket and lists a prefix, every request signed by the
//! middleware with your AWS credentials.
//!
//! ```text
//! cargo run --example s3 -- BUCKET REGION [FILE]
//! ```
//!
//! It writes under `reqwest-sigv4-example/` in a bucket of yours:
//!
//! 1. `PUT reqwest-sigv4-example/hello.txt` with an in-memory body: the signature covers
//!    the body's SHA-256 (sent in `x-amz-content-sha256` too, as S3 requires).
//! 2. `PUT reqwest-sigv4-example/{file name}` with FILE streamed from disk (when FILE is
//!    not given, a 1 MiB file it writes to the temporary directory) through a route with
//!    `unsigned_payload(true)`: signed as `UNSIGNED-PAYLOAD`, so the file is neither
//!    buffered nor hashed, whatever its size.
//! 3. `GET /?list-type=2&prefix=reqwest-sigv4-example/` (ListObjectsV2), page by page, and
//!    prints each key and size.
//!
//! Credentials and nothing else come from aws-config's default chain (environment,
//! profile / SSO, web identity, ECS, IMDS); service and region are read from the bucket's
//! host. Needs `s3:PutObject` and `s3:ListBucket` on the bucket. In a crate of your own:
//! the README's install snippet, plus tokio's `fs` feature for the file.

use std::path::PathBuf;
use std::process::ExitCode;

use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE};
use reqwest::Url;
use reqwest_sigv4::{Explanation, Route, SigV4Middleware};

/// The "folder" the example writes to and lists.
const FOLDER: &str = "reqwest-sigv4-example";

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(bucket), Some(region)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: cargo run --example s3 -- BUCKET REGION [FILE]\n\
             (credentials from the default chain: AWS_PROFILE, AWS_ACCESS_KEY_ID, SSO, ...)"
        );
        return ExitCode::from(2);
    };
    match run(&bucket, &region, args.next().map(PathBuf::from)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("s3: {}", with_sources(&*e));
            ExitCode::FAILURE
        }
    }
}

async fn run(bucket: &str, region: &str, file: Option<PathBuf>) -> Result<(), BoxError> {
    // Virtual-hosted style: the signer reads service `s3` and the region from the host.
    let base = Url::parse(&format!("https://{bucket}.s3.{region}.amazonaws.com"))?;

    // Two clients, because one URL has one route and the payload choice is the route's:
    // small bodies hashed and signed, large files streamed as UNSIGNED-PAYLOAD. `client()`
    // turns reqwest's redirects off (the middleware follows them and signs each hop). In a
    // service, build each once and share it: it holds the credentials cache and the
    // connections.
    let client = SigV4Middleware::builder()
        .route(Route::direct(base.as_str()))
        .build()?
        .client()?;
    let uploads = SigV4Middleware::builder()
        .route(Route::direct(base.as_str()).unsigned_payload(true))
        .build()?
        .client()?;

    // 1. An in-memory body.
    let url = object_url(&base, "hello.txt")?;
    let body = "hello from reqwest-sigv4\n";
    let response = client
        .put(url.clone())
        .header(CONTENT_TYPE, "text/plain")
        .body(body)
        .send()
        .await?;
    success(response).await?;
    println!("PUT {} ({} bytes, payload signed)", url.path(), body.len());

    // 2. A file, streamed. S3 refuses chunked uploads: send the length.
    let path = match file {
        Some(path) => path,
        None => {
            let path = std::env::temp_dir().join("reqwest-sigv4-example.bin");
            tokio::fs::write(&path, vec![b'x'; 1024 * 1024]).await?;
            path
        }
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{} has no file name in UTF-8", path.display()))?;
    let url = object_url(&base, name)?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let len = file.metadata().await?.len();
    let response = uploads
        .put(url.clone())
        .header(CONTENT_LENGTH, len)
        .body(reqwest::Body::from(file))
        .send()
        .await?;
    success(response).await?;
    println!(
        "PUT {} ({len} bytes streamed, UNSIGNED-PAYLOAD)",
        url.path()
    );

    // 3. ListObjectsV2 with a prefix, following the continuation token.
    let prefix = format!("{FOLDER}/");
    println!("objects under {prefix}:");
    let mut continuation: Option<String> = None;
    loop {
        let mut query = vec![("list-type", "2"), ("prefix", prefix.as_str())];
        if let Some(token) = &continuation {
            query.push(("continuation-token", token.as_str()));
        }
        let response = client.get(base.clone()).query(&query).send().await?;
        let xml = success(response).await?.text().await?;
        for contents in elements(&xml, "Contents") {
            let key = elements(&contents, "Key").pop().unwrap_or_default();
            let size = elements(&contents, "Size").pop().unwrap_or_default();
            println!("  {key} ({size} bytes)");
        }
        match elements(&xml, "NextContinuationToken").pop() {
            Some(token) => continuation = Some(token),
            None => break,
        }
    }
    Ok(())
}

/// `{base}/reqwest-sigv4-example/{name}`, `name` percent-encoded as one path segment.
fn object_url(base: &Url, name: &str) -> Result<Url, BoxError> {
    let mut url = base.clone();
    url.path_segments_mut()
        .map_err(|()| "the bucket URL cannot take a path")?
        .pop_if_empty()
        .push(FOLDER)
        .push(name);
    Ok(url)
}

/// The response of a success; for anything else an error with S3's answer and, for a
/// 403, the middleware's explanation of what was signed and what S3 expected.
async fn success(response: reqwest::Response) -> Result<reqwest::Response, BoxError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let explanation = response
        .extensions()
        .get::<Explanation>()
        .map(|e| format!("\n{e}"))
        .unwrap_or_default();
    let body = response.text().await.unwrap_or_default();
    Err(format!("{status}: {body}{explanation}").into())
}

/// The text of every `<tag>…</tag>` element of S3's XML, entities decoded. Enough for
/// ListObjectsV2's flat answer; a program that reads more of S3's XML wants an XML parser.
fn elements(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut found = Vec::new();
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(&close) else { break };
        found.push(
            after[..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        );
        rest = &after[end + close.len()..];
    }
    found
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
