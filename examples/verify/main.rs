//! Verifies the SigV4 signature of a raw HTTP/1.1 request file with the independent verifier,
//! as API Gateway would (SigV4a too, when built with `--features sigv4a`).
//!
//! ```text
//! AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… [AWS_SESSION_TOKEN=…] \
//!     cargo run --example verify -- [--service S] [--region R] [--max-skew SECS] \
//!         [--now YYYYMMDDTHHMMSSZ | --no-time-check] FILE
//! ```
//!
//! Prints `valid` and exits 0, or prints why the request is refused (expected canonical request
//! and string-to-sign, what differs when it can tell) and exits 1. Usage, I/O, parse and
//! environment errors print one line and exit 2. The request's time must be within
//! `--max-skew` (default 300 s, API Gateway's) of the system clock, or of `--now` for a
//! recorded request; `--no-time-check` skips that check. The logic lives in `cli.rs`; this
//! file only parses arguments.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::error::ErrorKind;
use clap::Parser;
use cli::{Options, EXIT_USAGE};

mod cli;

/// Verify the SigV4 signature of a raw HTTP/1.1 request file (credentials from
/// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN).
#[derive(Parser, Debug)]
#[command(name = "verify")]
struct Args {
    /// Expected service (default: the one the credential scope names).
    #[arg(long)]
    service: Option<String>,
    /// Expected region (default: the one the credential scope names). A SigV4a request
    /// (built with the `sigv4a` feature) must list it in its X-Amz-Region-Set.
    #[arg(long)]
    region: Option<String>,
    /// Allowed clock skew in seconds (default: 300, as API Gateway).
    #[arg(long, value_name = "SECS")]
    max_skew: Option<u64>,
    /// Check the request's time against this instant instead of the system clock (for a
    /// recorded request), e.g. 20150830T123600Z.
    #[arg(long, value_name = "YYYYMMDDTHHMMSSZ", value_parser = parse_now, conflicts_with = "no_time_check")]
    now: Option<SystemTime>,
    /// Do not check the request's time at all (a signature made for any time verifies).
    #[arg(long)]
    no_time_check: bool,
    /// Encode the path once, as S3 does (default: twice, unless the service is s3).
    #[arg(long)]
    single_encode: bool,
    /// Do not remove dot segments and duplicate slashes from the path.
    #[arg(long)]
    no_normalize: bool,
    /// The raw HTTP/1.1 request.
    file: PathBuf,
}

fn parse_now(value: &str) -> Result<SystemTime, String> {
    reqwest_sigv4::canonical::parse_amz_date(value)
        .ok_or_else(|| format!("{value:?} is not YYYYMMDDTHHMMSSZ"))
}

/// Parses `args` (the first is the program name) and runs the check; returns the exit code.
pub fn run<I, T>(
    args: I,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(args) {
        Ok(args) => args,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = write!(out, "{e}");
            return 0;
        }
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let _ = writeln!(err, "{}", first.trim());
            return EXIT_USAGE;
        }
    };
    let options = Options::new(args.file)
        .service(args.service)
        .region(args.region)
        .max_skew(args.max_skew.map(Duration::from_secs))
        .now(args.now)
        .check_time(!args.no_time_check)
        .double_encode_path(args.single_encode.then_some(false))
        .normalize_path(args.no_normalize.then_some(false));
    cli::run(&options, env, out, err)
}

fn main() {
    let code = run(
        std::env::args_os(),
        &|name| std::env::var(name).ok(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    std::process::exit(i32::from(code));
}
