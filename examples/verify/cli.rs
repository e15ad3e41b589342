//! The logic of the `verify` example (verify a raw HTTP/1.1 request file with credentials
//! from the environment), apart from argument parsing so that it reads as a function of its
//! options, environment and output streams (tests/verify_example.rs runs it that way).

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

use reqwest_sigv4::verify::{ReceivedRequest, Verifier};

/// Exit code: the request verifies.
pub const EXIT_VALID: u8 = 0;
/// Exit code: the request is rejected (the report is printed).
pub const EXIT_REJECTED: u8 = 1;
/// Exit code: usage, I/O, parse or environment error (a one-line message is printed).
pub const EXIT_USAGE: u8 = 2;

/// What to verify and how.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Options {
    /// The raw HTTP/1.1 request file.
    pub file: PathBuf,
    /// Expected service (unset: the scope's).
    pub service: Option<String>,
    /// Expected region (unset: the scope's). A SigV4a request (with the `sigv4a` feature)
    /// must list it in its region set.
    pub region: Option<String>,
    /// Allowed clock skew (unset: the verifier's default, 5 minutes).
    pub max_skew: Option<Duration>,
    /// The clock the request's time is checked against (unset: the system clock).
    pub now: Option<SystemTime>,
    /// Whether the request's time is checked at all (default: yes).
    pub check_time: bool,
    /// Path double encoding (unset: yes unless the service is `s3`).
    pub double_encode_path: Option<bool>,
    /// Path normalization (unset: yes unless the service is `s3`).
    pub normalize_path: Option<bool>,
}

impl Options {
    /// Options for `file`, everything else unset.
    pub fn new(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            service: None,
            region: None,
            max_skew: None,
            now: None,
            check_time: true,
            double_encode_path: None,
            normalize_path: None,
        }
    }

    /// Sets the expected service.
    pub fn service(mut self, service: Option<String>) -> Self {
        self.service = service;
        self
    }

    /// Sets the expected region.
    pub fn region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// Sets the allowed clock skew.
    pub fn max_skew(mut self, skew: Option<Duration>) -> Self {
        self.max_skew = skew;
        self
    }

    /// Sets the clock the request's time is checked against.
    pub fn now(mut self, now: Option<SystemTime>) -> Self {
        self.now = now;
        self
    }

    /// Sets whether the request's time is checked (opting out accepts a signature made for
    /// any time).
    pub fn check_time(mut self, yes: bool) -> Self {
        self.check_time = yes;
        self
    }

    /// Sets path double encoding.
    pub fn double_encode_path(mut self, yes: Option<bool>) -> Self {
        self.double_encode_path = yes;
        self
    }

    /// Sets path normalization.
    pub fn normalize_path(mut self, yes: Option<bool>) -> Self {
        self.normalize_path = yes;
        self
    }
}

/// Reads `options.file`, verifies it with the credentials in `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY` and (optional) `AWS_SESSION_TOKEN` as looked up by `env`, writes
/// `valid` or the rejection report to `out` (a one-line error to `err`) and returns the exit
/// code: [`EXIT_VALID`], [`EXIT_REJECTED`] or [`EXIT_USAGE`]. Write errors on `out`/`err`
/// are ignored (the exit code still tells).
pub fn run(
    options: &Options,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let raw = match std::fs::read(&options.file) {
        Ok(raw) => raw,
        Err(e) => {
            let _ = writeln!(err, "error: cannot read {}: {e}", options.file.display());
            return EXIT_USAGE;
        }
    };
    let request = match ReceivedRequest::parse_http1(&raw) {
        Ok(request) => request,
        Err(e) => {
            let _ = writeln!(
                err,
                "error: {} is not an HTTP/1.1 request: {e}",
                options.file.display()
            );
            return EXIT_USAGE;
        }
    };
    let non_empty = |name: &str| env(name).filter(|value| !value.is_empty());
    let (Some(access_key_id), Some(secret)) = (
        non_empty("AWS_ACCESS_KEY_ID"),
        non_empty("AWS_SECRET_ACCESS_KEY"),
    ) else {
        let _ = writeln!(
            err,
            "error: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set"
        );
        return EXIT_USAGE;
    };
    let credentials = Credentials::new(
        access_key_id,
        secret,
        non_empty("AWS_SESSION_TOKEN"),
        None,
        "environment",
    );
    let mut verifier = Verifier::new(credentials);
    if let Some(service) = &options.service {
        verifier = verifier.service(service.clone());
    }
    if let Some(region) = &options.region {
        verifier = verifier.region(region.clone());
    }
    if let Some(skew) = options.max_skew {
        verifier = verifier.max_skew(skew);
    }
    if let Some(now) = options.now {
        verifier = verifier.now(now);
    }
    if !options.check_time {
        verifier = verifier.skip_time_check();
    }
    if let Some(yes) = options.double_encode_path {
        verifier = verifier.double_encode_path(yes);
    }
    if let Some(yes) = options.normalize_path {
        verifier = verifier.normalize_path(yes);
    }
    match verifier.verify(&request) {
        Ok(_) => {
            let _ = writeln!(out, "valid");
            EXIT_VALID
        }
        Err(rejection) => {
            let _ = write!(out, "{rejection}");
            EXIT_REJECTED
        }
    }
}
