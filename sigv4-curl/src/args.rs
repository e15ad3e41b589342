//! The command line: every flag, the help text (examples, exit codes), and parsing whose
//! errors never repeat a secret given on it.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};

/// The name the binary is installed under, and errors are prefixed with.
pub const PROGRAM: &str = "sigv4-curl";

/// Printed after the flags by `-h` and `--help`.
const AFTER_HELP: &str = "\
EXAMPLES:
  A direct API call (service and region from the host, credentials from the default chain):
    sigv4-curl https://abc123.execute-api.us-east-1.amazonaws.com/prod/items

  POST JSON with a profile's credentials; exit 22 on an HTTP error:
    sigv4-curl -f --profile dev -H 'Content-Type: application/json' -d '{\"a\":1}' \\
      https://abc123.execute-api.us-east-1.amazonaws.com/prod/items

  Through a CloudFront alias: sign for the origin the alias forwards to:
    sigv4-curl --origin https://abc123.execute-api.us-east-1.amazonaws.com/prod \\
      https://api.example.com/items

  A presigned URL, valid for 5 minutes:
    sigv4-curl --presign 300 https://my-bucket.s3.eu-west-1.amazonaws.com/report.csv

  A dry run: the signed request (method, URL, headers), not sent:
    sigv4-curl --dry-run -X POST -d @body.json \\
      https://abc123.execute-api.us-east-1.amazonaws.com/prod/items

EXIT CODES:
   0  an HTTP answer, whatever its status (without -f)
   1  any other error
   2  usage: an unknown flag, a missing or bad value
   3  the URL is malformed, or not http or https
   6  the host could not be resolved
   7  the connection failed (refused, reset; the proxy's too)
  22  -f / --fail / --fail-with-body: an HTTP status of 400 or more
  23  the output could not be written
  26  the data of -d @FILE could not be read
  28  timeout: -m / --max-time, --connect-timeout
  35  TLS: the handshake failed or the certificate was refused
  47  -L: more redirects than --max-redirs
  56  the answer broke off while it was read
  80  the request cannot be signed: settings, body, headers or query
  81  no usable AWS credentials

Secrets (the secret key, the session token, signatures) are never printed.";

/// Sends one HTTP request signed with AWS SigV4, with curl's flags and manners.
#[derive(Parser)]
#[command(
    name = PROGRAM,
    version,
    about = "A curl-like client that signs each request with AWS SigV4 (reqwest-sigv4)",
    after_help = AFTER_HELP
)]
pub struct Args {
    /// The URL to call
    pub url: String,

    // ---- Data ----
    /// HTTP method (default GET, or POST with data)
    ///
    /// Sent upper-cased.
    #[arg(
        short = 'X',
        long = "request",
        value_name = "METHOD",
        help_heading = "Data",
        verbatim_doc_comment
    )]
    pub method: Option<String>,
    /// Extra header, `Name: value` (repeatable)
    ///
    /// `Name:` removes a header the tool would add (Content-Type, User-Agent);
    /// `Name;` sends the header empty.
    #[arg(
        short = 'H',
        long = "header",
        value_name = "HEADER",
        help_heading = "Data",
        verbatim_doc_comment
    )]
    pub headers: Vec<String>,
    /// Request body: DATA, `@FILE` or `@-` (stdin), newlines stripped
    ///
    /// As curl's -d: a file's or stdin's carriage returns and newlines are
    /// stripped; repeated data flags are joined with `&`. Sends
    /// `Content-Type: application/x-www-form-urlencoded` unless -H names one.
    #[arg(
        short = 'd',
        long = "data",
        value_name = "DATA",
        help_heading = "Data",
        verbatim_doc_comment
    )]
    pub data: Vec<String>,
    /// Request body as -d, but `@FILE` and `@-` sent byte for byte
    ///
    /// A single `--data-binary @FILE` is streamed with its length, never held in
    /// memory; to S3 it is signed over UNSIGNED-PAYLOAD, whatever its size.
    #[arg(long, value_name = "DATA", help_heading = "Data", verbatim_doc_comment)]
    pub data_binary: Vec<String>,
    /// Request body as -d, with a leading `@` sent as it is
    #[arg(long, value_name = "DATA", help_heading = "Data", verbatim_doc_comment)]
    pub data_raw: Vec<String>,

    // ---- Output ----
    /// Exit 22 on an HTTP status of 400 or more, writing no body
    ///
    /// A 403's explanation is still printed.
    #[arg(short = 'f', long, help_heading = "Output", verbatim_doc_comment)]
    pub fail: bool,
    /// As --fail, but write the body
    #[arg(
        long,
        conflicts_with = "fail",
        help_heading = "Output",
        verbatim_doc_comment
    )]
    pub fail_with_body: bool,
    /// Write the status line and headers in front of the body
    ///
    /// With -L, those of every hop.
    #[arg(short = 'i', long, help_heading = "Output", verbatim_doc_comment)]
    pub include: bool,
    /// Write the body (with -i, the headers too) to FILE, not stdout
    #[arg(
        short = 'o',
        long,
        value_name = "FILE",
        help_heading = "Output",
        verbatim_doc_comment
    )]
    pub output: Option<PathBuf>,
    /// No error messages, warnings or explanations on stderr
    #[arg(short = 's', long, help_heading = "Output", verbatim_doc_comment)]
    pub silent: bool,
    /// With -s, print error messages and explanations all the same
    #[arg(short = 'S', long, help_heading = "Output", verbatim_doc_comment)]
    pub show_error: bool,
    /// Print the request and response heads, and what was signed, on stderr
    ///
    /// The request (`>`) and response (`<`) heads of every hop, the canonical
    /// request and the string-to-sign. The session token and the signature are
    /// redacted.
    #[arg(short, long, help_heading = "Output", verbatim_doc_comment)]
    pub verbose: bool,
    /// Print one JSON object to stdout instead of the body
    ///
    /// The status, the headers, what was signed (canonical request,
    /// string-to-sign), the explanation of a 403 and the body (unless -o).
    #[arg(long, help_heading = "Output", verbatim_doc_comment)]
    pub json: bool,
    /// Print the signed request to stdout without sending it
    ///
    /// Method, URL and headers. The session token is redacted, and the signature
    /// too unless -v.
    #[arg(
        long,
        conflicts_with = "presign",
        help_heading = "Output",
        verbatim_doc_comment
    )]
    pub dry_run: bool,

    // ---- Transport ----
    /// Follow redirects, signing each hop for its own URL
    ///
    /// A hop to a host the URL's route does not cover is sent unsigned. Without
    /// -L, a 3xx is printed, not followed.
    #[arg(short = 'L', long, help_heading = "Transport", verbatim_doc_comment)]
    pub location: bool,
    /// With -L, follow at most NUM redirects (-1: no limit)
    #[arg(
        long,
        value_name = "NUM",
        default_value_t = 50,
        allow_negative_numbers = true,
        help_heading = "Transport",
        verbatim_doc_comment
    )]
    pub max_redirs: i64,
    /// Give up after SECS seconds in all
    ///
    /// Credentials, signing, every hop and the body count.
    #[arg(short = 'm', long, value_name = "SECS", value_parser = seconds, help_heading = "Transport", verbatim_doc_comment)]
    pub max_time: Option<Duration>,
    /// Give up connecting after SECS seconds (default 300)
    #[arg(long, value_name = "SECS", value_parser = seconds, help_heading = "Transport", verbatim_doc_comment)]
    pub connect_timeout: Option<Duration>,
    /// Accept any TLS certificate and host name (with a warning)
    #[arg(short = 'k', long, help_heading = "Transport", verbatim_doc_comment)]
    pub insecure: bool,
    /// Send through this proxy: `http://host:port` or `https://host:port`
    ///
    /// NO_PROXY applies. Without -x, HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and
    /// NO_PROXY are read.
    #[arg(
        short = 'x',
        long,
        value_name = "URL",
        help_heading = "Transport",
        verbatim_doc_comment
    )]
    pub proxy: Option<String>,
    /// Connect HOST:PORT to ADDR, as curl's --resolve (repeatable)
    #[arg(
        long,
        value_name = "HOST:PORT:ADDR",
        help_heading = "Transport",
        verbatim_doc_comment
    )]
    pub resolve: Vec<String>,

    // ---- Credentials ----
    /// Credentials and region from this profile of the AWS files
    ///
    /// Without it, or the key flags below: the default chain (environment,
    /// AWS_PROFILE, SSO, roles, IMDS).
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Credentials",
        verbatim_doc_comment
    )]
    pub profile: Option<String>,
    /// Assume this IAM role with STS and sign with its credentials
    ///
    /// STS is called with the credentials of the other flags or the default chain.
    #[arg(
        long,
        value_name = "ARN",
        help_heading = "Credentials",
        verbatim_doc_comment
    )]
    pub role_arn: Option<String>,
    /// Sign with this access key id (and --secret-key)
    ///
    /// awscurl's --access_key works too.
    #[arg(
        long,
        alias = "access_key",
        value_name = "ID",
        requires = "secret_key",
        conflicts_with = "profile",
        help_heading = "Credentials",
        verbatim_doc_comment
    )]
    pub access_key: Option<String>,
    /// The secret access key of --access-key (never printed)
    ///
    /// awscurl's --secret_key works too.
    #[arg(
        long,
        alias = "secret_key",
        value_name = "KEY",
        requires = "access_key",
        help_heading = "Credentials",
        verbatim_doc_comment
    )]
    pub secret_key: Option<Secret>,
    /// The session token of --access-key (never printed)
    ///
    /// awscurl's --session_token and --security_token work too.
    #[arg(
        long,
        aliases = ["session_token", "security_token"],
        value_name = "TOKEN",
        requires = "access_key",
        help_heading = "Credentials",
        verbatim_doc_comment
    )]
    pub session_token: Option<Secret>,

    // ---- Signing ----
    /// Service to sign for (default: from the host, else execute-api)
    #[arg(long, help_heading = "Signing", verbatim_doc_comment)]
    pub service: Option<String>,
    /// Region to sign for (default: from the host, else the AWS config)
    #[arg(long, help_heading = "Signing", verbatim_doc_comment)]
    pub region: Option<String>,
    /// The URL is a CloudFront alias: sign for this origin base URL
    ///
    /// The origin's domain and origin path, as the distribution forwards them.
    #[arg(long, value_name = "URL", conflicts_with_all = ["alias", "sign_host"], help_heading = "Signing", verbatim_doc_comment)]
    pub origin: Option<String>,
    /// The URL is the origin's: send it to this CloudFront alias base
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "sign_host",
        help_heading = "Signing",
        verbatim_doc_comment
    )]
    pub alias: Option<String>,
    /// With --alias: the origin path (default: the URL's first segment)
    #[arg(
        long,
        value_name = "PATH",
        requires = "alias",
        help_heading = "Signing",
        verbatim_doc_comment
    )]
    pub origin_path: Option<String>,
    /// Send and sign this Host while connecting to the URL's host
    #[arg(
        long,
        value_name = "HOST",
        help_heading = "Signing",
        verbatim_doc_comment
    )]
    pub sign_host: Option<String>,
    /// Sign with SigV4a for this region set: `*` or `us-east-1,us-west-2`
    #[arg(
        long,
        value_name = "REGIONS",
        help_heading = "Signing",
        verbatim_doc_comment
    )]
    pub sigv4a: Option<String>,
    /// Print a URL presigned for SECS seconds instead of sending
    #[arg(
        long,
        value_name = "SECS",
        help_heading = "Signing",
        verbatim_doc_comment
    )]
    pub presign: Option<u64>,

    /// The data flags' values in command-line order.
    #[arg(skip)]
    pub pieces: Vec<Piece>,
}

/// One value of -d, --data-binary or --data-raw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Which flag gave it.
    pub kind: PieceKind,
    /// The value as given.
    pub value: String,
}

/// The flag a [`Piece`] came from: what it makes of a leading `@`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceKind {
    /// `-d`: `@FILE` / `@-`, carriage returns and newlines stripped.
    Data,
    /// `--data-binary`: `@FILE` / `@-`, byte for byte.
    Binary,
    /// `--data-raw`: no `@`.
    Raw,
}

/// A secret given on the command line: its `Debug` never shows it.
#[derive(Clone)]
pub struct Secret(pub String);

impl FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// `1`, `2.5`: seconds, as curl's -m and --connect-timeout take them.
fn seconds(value: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "not a positive number of seconds".to_owned())
}

impl Args {
    /// Parses `argv` (program name first).
    ///
    /// # Errors
    ///
    /// clap's error for a bad command line, `--help` and `--version` (which print and exit
    /// like errors do).
    pub fn parse_from(argv: &[OsString]) -> Result<Self, clap::Error> {
        let matches = Self::command().try_get_matches_from(argv)?;
        let mut args = Self::from_arg_matches(&matches)?;
        args.pieces = pieces_in_order(&matches);
        Ok(args)
    }

    /// The static credentials of --access-key, --secret-key and --session-token.
    pub fn static_keys(&self) -> Option<(&str, &str, Option<&str>)> {
        let access_key = self.access_key.as_deref()?;
        let secret_key = &self.secret_key.as_ref()?.0;
        let token = self.session_token.as_ref().map(|t| t.0.as_str());
        Some((access_key, secret_key, token))
    }
}

/// The values of -d, --data-binary and --data-raw in the order they were given: curl
/// joins them in that order.
fn pieces_in_order(matches: &ArgMatches) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (id, kind) in [
        ("data", PieceKind::Data),
        ("data_binary", PieceKind::Binary),
        ("data_raw", PieceKind::Raw),
    ] {
        let (Some(values), Some(indices)) =
            (matches.get_many::<String>(id), matches.indices_of(id))
        else {
            continue;
        };
        for (value, index) in values.zip(indices) {
            pieces.push((
                index,
                Piece {
                    kind,
                    value: value.clone(),
                },
            ));
        }
    }
    pieces.sort_by_key(|(index, _)| *index);
    pieces.into_iter().map(|(_, piece)| piece).collect()
}

/// Prints clap's error (or help, or version) and exits with its code, with the value of
/// every secret flag on the command line replaced by a marker: clap quotes what it could
/// not parse, and a mistyped flag may be what stands in front of a secret.
pub fn exit_on_clap_error(error: &clap::Error, argv: &[OsString]) -> ! {
    let secrets = secret_values(argv);
    if secrets.is_empty() {
        error.exit();
    }
    let mut text = error.render().to_string();
    for secret in secrets {
        text = text.replace(&secret, "<redacted>");
    }
    if error.use_stderr() {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    std::process::exit(error.exit_code());
}

/// The values on `argv` that may be secrets: those of --secret-key and --session-token
/// (and their awscurl spellings), and of any `--name=value` whose name says secret, token or
/// key, mistyped flags included.
fn secret_values(argv: &[OsString]) -> Vec<String> {
    // The access key id is no secret: `Credential=` shows it in every signature.
    let secret_name = |name: &str| {
        let name = name.to_ascii_lowercase();
        ["secret", "token", "key"].iter().any(|w| name.contains(w)) && !name.contains("access")
    };
    let mut out = Vec::new();
    let mut next_is_secret = false;
    for arg in argv.iter().skip(1) {
        let arg = arg.to_string_lossy();
        if next_is_secret {
            next_is_secret = false;
            if !arg.is_empty() {
                out.push(arg.into_owned());
            }
            continue;
        }
        match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") && secret_name(name) => {
                if !value.is_empty() {
                    out.push(value.to_owned());
                }
            }
            Some(_) => {}
            None => next_is_secret = arg.starts_with("--") && secret_name(&arg),
        }
    }
    // Longest first, so that a secret containing another is replaced whole.
    out.sort_by_key(|s| std::cmp::Reverse(s.len()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once(PROGRAM)
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn data_pieces_keep_their_command_line_order_across_flags() {
        let args = Args::parse_from(&argv(&[
            "--data-raw",
            "@a",
            "-d",
            "b=1",
            "--data-binary",
            "@-",
            "-d",
            "c",
            "http://h/",
        ]))
        .unwrap();
        let got: Vec<(PieceKind, &str)> = args
            .pieces
            .iter()
            .map(|p| (p.kind, p.value.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (PieceKind::Raw, "@a"),
                (PieceKind::Data, "b=1"),
                (PieceKind::Binary, "@-"),
                (PieceKind::Data, "c"),
            ]
        );
    }

    #[test]
    fn secret_values_are_those_of_secret_flags_and_mistyped_ones() {
        let found = secret_values(&argv(&[
            "--access-key",
            "AKID",
            "--secret-key",
            "s3cr3t",
            "--session_token=tok",
            "--secret-kye=typo",
            "-d",
            "x=1",
            "http://h/",
        ]));
        assert_eq!(found, ["s3cr3t", "typo", "tok"]);
    }

    #[test]
    fn seconds_take_fractions_and_refuse_zero_and_words() {
        assert_eq!(seconds("2.5"), Ok(Duration::from_millis(2500)));
        assert!(seconds("0").is_err());
        assert!(seconds("-1").is_err());
        assert!(seconds("soon").is_err());
    }

    #[test]
    fn help_lists_every_exit_code() {
        let table = &AFTER_HELP[AFTER_HELP.find("EXIT CODES:").unwrap()..];
        for code in crate::exit::Code::ALL {
            let row = format!("\n{:>4}  ", code as u8);
            assert!(table.contains(&row), "{code:?} missing from --help");
        }
        assert!(table.contains("\n   0  "));
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Args::command().debug_assert();
    }
}
