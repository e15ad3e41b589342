//! `sigv4-curl`: a curl-like client that signs each request with AWS SigV4, on the public
//! API of `reqwest-sigv4`. curl's flags, output and exit codes; the library's topologies,
//! SigV4a, presigning and 403 explanations.
//!
//! `main` parses, [`call`] runs one call within -m's limit and turns its outcome into an
//! exit code; [`send`] builds the request and the signer from the flags and sends it;
//! [`answer`] writes what came back.

mod args;
mod exit;
mod output;
mod request;
mod signer;
mod tap;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use reqwest::Url;
use reqwest_sigv4::{Explanation, SigV4Middleware, SignedRequest};

use crate::args::Args;
use crate::exit::{Code, Failure};
use crate::output::Stderr;
use crate::request::{Body, Headers};
use crate::tap::Tap;

fn main() -> ExitCode {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let args = Args::parse_from(&argv).unwrap_or_else(|e| args::exit_on_clap_error(&e, &argv));
    let mut err = Stderr::new(std::io::stderr(), &args);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            err.error(&Failure::new(
                Code::Other,
                format!("cannot start the runtime: {e}"),
            ));
            return ExitCode::from(Code::Other as u8);
        }
    };
    let code = runtime.block_on(call(&args, &mut std::io::stdout().lock(), &mut err));
    ExitCode::from(code)
}

/// Runs one call within -m's limit; returns the exit code, the error (if any) printed.
async fn call(args: &Args, out: &mut impl Write, err: &mut Stderr<impl Write>) -> u8 {
    if args.insecure {
        err.warn(
            "--insecure: the server's TLS certificate and host name are not checked: whoever \
             answers in its place gets this request, signature and session token included",
        );
    }
    let outcome = match args.max_time {
        Some(limit) => tokio::time::timeout(limit, send(args, out, err))
            .await
            .unwrap_or_else(|_| Err(timed_out(limit))),
        None => send(args, out, err).await,
    };
    match outcome {
        Ok(()) => 0,
        Err(failure) => {
            let _ = out.flush();
            err.error(&failure);
            failure.code as u8
        }
    }
}

fn timed_out(limit: Duration) -> Failure {
    Failure::new(
        Code::Timeout,
        format!("operation timed out after {} ms (-m)", limit.as_millis()),
    )
}

/// Builds the request and the signer from the flags, and sends it (or presigns it, or
/// signs it for a dry run).
async fn send(
    args: &Args,
    out: &mut impl Write,
    err: &mut Stderr<impl Write>,
) -> Result<(), Failure> {
    let url = Url::parse(&args.url).map_err(|e| {
        Failure::new(
            Code::UrlMalformed,
            format!("invalid URL {:?}: {e}", output::shown_url_text(&args.url)),
        )
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Failure::new(
            Code::UrlMalformed,
            format!(
                "{:?}: only http and https URLs are supported",
                output::shown_url_text(&args.url)
            ),
        ));
    }
    let headers = Headers::parse(args)?;
    let body = Body::from_pieces(&args.pieces).await?;
    let method = request::method(args, &body)?;
    let signer = signer::signer(args, &url, body.streams_file()).await?;
    let tap = if args.dry_run {
        Tap::dry_run()
    } else {
        Tap::new()
    };
    let client = reqwest_middleware::ClientBuilder::new(request::client(args, &headers)?)
        .with(signer.clone())
        .with(tap.clone())
        .build();
    let request = request::with_body(client.request(method, url), &headers, body).await?;

    if let Some(secs) = args.presign {
        return presign(args, &signer, request, secs, out).await;
    }
    if args.dry_run {
        let (exchange, signed) = sign_only(request, &tap).await?;
        if let (true, Some(signed)) = (args.verbose, &signed) {
            err.verbose(&output::verbose_signed(signed));
        }
        return output::dry_run(args, &exchange, signed.as_ref(), out).map_err(write_failed);
    }
    let response = request.send().await.map_err(|e| Failure::from_send(&e))?;
    answer(args, response, &tap, out, err).await
}

/// The request as the signer would send it, and what was signed, without sending it: the
/// stack's tap answers in place of the network. The one place that signs without
/// sending, with [`Tap::dry_run`]: both give way to the library's own call when it has one.
async fn sign_only(
    request: reqwest_middleware::RequestBuilder,
    tap: &Tap,
) -> Result<(tap::Exchange, Option<SignedRequest>), Failure> {
    let response = request.send().await.map_err(|e| Failure::from_send(&e))?;
    let signed = response.extensions().get::<SignedRequest>().cloned();
    let exchange = tap
        .exchanges()
        .pop()
        .ok_or_else(|| Failure::new(Code::Other, "the signer passed no request on to sign"))?;
    Ok((exchange, signed))
}

async fn presign(
    args: &Args,
    signer: &SigV4Middleware,
    request: reqwest_middleware::RequestBuilder,
    secs: u64,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let request = request
        .build()
        .map_err(|e| Failure::new(Code::Usage, exit::error_chain(&e)))?;
    let url = signer
        .presign(&request, Duration::from_secs(secs))
        .await
        .map_err(|e| Failure::from_signer(&e))?;
    let written = if args.json {
        writeln!(
            out,
            "{}",
            serde_json::json!({ "presigned_url": url.as_str() })
        )
    } else {
        writeln!(out, "{}", url.as_str())
    };
    written.map_err(write_failed)
}

/// Writes what came back: -v's heads, a 403's explanation, then (unless -f refuses it)
/// the heads (-i) and the body, streamed, to stdout or -o's file; or the JSON summary.
async fn answer(
    args: &Args,
    mut response: reqwest::Response,
    tap: &Tap,
    out: &mut impl Write,
    err: &mut Stderr<impl Write>,
) -> Result<(), Failure> {
    let exchanges = tap.exchanges();
    let signed = response.extensions().get::<SignedRequest>().cloned();
    let explanation = response.extensions().get::<Explanation>().cloned();
    let status = response.status();
    if args.verbose {
        for exchange in &exchanges {
            err.verbose(&output::verbose_exchange(exchange));
        }
        if let Some(signed) = &signed {
            err.verbose(&output::verbose_signed(signed));
        }
    }
    if let Some(explanation) = &explanation {
        err.explain(status, explanation);
    }
    if args.location && redirects_on(&response) {
        return Err(Failure::new(
            Code::TooManyRedirects,
            format!("maximum ({}) redirects followed", args.max_redirs),
        ));
    }
    let http_error = (args.fail || args.fail_with_body) && status.as_u16() >= 400;
    let http_failure = || {
        Failure::new(
            Code::HttpError,
            format!("the requested URL returned error: {}", status.as_u16()),
        )
    };
    if http_error && args.fail && !args.json {
        return Err(http_failure());
    }

    let mut heads = Vec::new();
    if args.include {
        for answer in exchanges.iter().filter_map(|e| e.answer.as_ref()) {
            heads.extend_from_slice(&output::head_bytes(answer));
        }
    }
    let mut file = match &args.output {
        Some(path) => Some(std::io::BufWriter::new(
            std::fs::File::create(path).map_err(|e| {
                Failure::new(
                    Code::Write,
                    format!("cannot create {}: {e}", path.display()),
                )
            })?,
        )),
        None => None,
    };
    if args.json {
        let headers = response.headers().clone();
        let body = response
            .bytes()
            .await
            .map_err(|e| Failure::from_transport(&e))?;
        if let Some(file) = &mut file {
            file.write_all(&heads)
                .and_then(|()| file.write_all(&body))
                .and_then(|()| file.flush())
                .map_err(write_failed)?;
        }
        let body = file.is_none().then_some(&body[..]);
        let summary = output::answer_json(
            status,
            &headers,
            signed.as_ref(),
            explanation.as_ref(),
            body,
        );
        writeln!(out, "{summary}").map_err(write_failed)?;
    } else {
        let dest: &mut dyn Write = match &mut file {
            Some(file) => file,
            None => out,
        };
        dest.write_all(&heads).map_err(write_failed)?;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::from_transport(&e))?
        {
            dest.write_all(&chunk).map_err(write_failed)?;
        }
        dest.flush().map_err(write_failed)?;
    }
    if http_error {
        return Err(http_failure());
    }
    Ok(())
}

/// Whether `response` is a redirect the signer would have followed but for the limit.
fn redirects_on(response: &reqwest::Response) -> bool {
    use reqwest::StatusCode;
    let followed = [
        StatusCode::MOVED_PERMANENTLY,
        StatusCode::FOUND,
        StatusCode::SEE_OTHER,
        StatusCode::TEMPORARY_REDIRECT,
        StatusCode::PERMANENT_REDIRECT,
    ];
    followed.contains(&response.status())
        && response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .and_then(|l| response.url().join(l).ok())
            .is_some_and(|target| matches!(target.scheme(), "http" | "https"))
}

fn write_failed(e: std::io::Error) -> Failure {
    Failure::new(Code::Write, format!("writing the output failed: {e}"))
}
