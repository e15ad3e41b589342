//! The signer the flags describe: one route (the topology flags), its credentials
//! (static keys, a profile, a role, or the default chain) and its redirect policy.

use reqwest::Url;
use reqwest_sigv4::aws::config as aws_config;
use reqwest_sigv4::aws::Credentials;
use reqwest_sigv4::{
    AssumeRole, RedirectPolicy, Route, SigV4Middleware, SigV4MiddlewareBuilder, SummaryPolicy,
};

use crate::args::{Args, PROGRAM};
use crate::exit::Failure;

/// Builds the signer for a call to `url`; `streams_file` says whether the body is a file
/// streamed as it is read.
pub async fn signer(
    args: &Args,
    url: &Url,
    streams_file: bool,
) -> Result<SigV4Middleware, Failure> {
    let redirects = if args.location {
        // curl's -1: no limit.
        RedirectPolicy::limited(usize::try_from(args.max_redirs).unwrap_or(usize::MAX))
    } else {
        RedirectPolicy::none()
    };
    credentials(args, SigV4Middleware::builder())
        .await
        .route(route_for(args, url, streams_file))
        .redirects(redirects)
        // -v, -i and --json show what was signed, whatever the answer.
        .summaries(SummaryPolicy::Always)
        .build()
        .map_err(|e| Failure::from_config(&e))
}

/// Credentials from --access-key/--secret-key/--session-token or --profile, then
/// --role-arn; with none of them, the builder's default chain.
async fn credentials(args: &Args, builder: SigV4MiddlewareBuilder) -> SigV4MiddlewareBuilder {
    let builder = if let Some((access_key, secret_key, token)) = args.static_keys() {
        builder.static_credentials(Credentials::new(
            access_key,
            secret_key,
            token.map(str::to_owned),
            None,
            "sigv4-curl command line",
        ))
    } else if let Some(profile) = &args.profile {
        // The profile's own credentials, not the default chain's first find (which would
        // be keys in the environment): what the user named on the command line wins.
        let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
            .profile_name(profile)
            .build();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .profile_name(profile)
            .credentials_provider(provider);
        if let Some(region) = &args.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        builder.sdk_config(&loader.load().await)
    } else {
        builder
    };
    match &args.role_arn {
        Some(role_arn) => builder.assume_role(AssumeRole::new(role_arn).session_name(PROGRAM)),
        None => builder,
    }
}

/// The one route this call signs for, from the topology flags.
fn route_for(args: &Args, url: &Url, streams_file: bool) -> Route {
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
    // A streamed file is signed over UNSIGNED-PAYLOAD where S3 takes it, so that it is
    // never buffered to be hashed, whatever its size.
    if streams_file && is_s3(args, url) {
        route = route.unsigned_payload(true);
    }
    route
}

/// Whether the call signs for S3: `--service s3`, or an S3 endpoint host
/// (`bucket.s3.region.amazonaws.com`, `s3.amazonaws.com`, legacy `s3-region`, `s3-fips`,
/// access points).
fn is_s3(args: &Args, url: &Url) -> bool {
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
fn base_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{}://{host}:{port}", url.scheme()),
        None => format!("{}://{host}", url.scheme()),
    }
}
