//! The request the flags describe, by curl's rules: the method, the headers (-H), the body
//! (-d, --data-binary, --data-raw), and the reqwest client under the signer (-k, -x,
//! --resolve, --connect-timeout).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, USER_AGENT};
use tokio::io::AsyncReadExt;

use crate::args::{Args, Piece, PieceKind};
use crate::exit::{Code, Failure};

/// curl's default connect timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(300);

/// What -d and friends send with a body unless -H says otherwise, as curl does.
const FORM: &str = "application/x-www-form-urlencoded";

/// The request body.
pub enum Body {
    /// No data flag.
    None,
    /// Bytes in memory (literal data, stdin, or files read whole).
    Bytes(Vec<u8>),
    /// A single `--data-binary @FILE`: streamed as it is read, with its length.
    File(PathBuf),
}

impl Body {
    /// Reads what the data flags name, in their order, and joins the pieces with `&`.
    pub async fn from_pieces(pieces: &[Piece]) -> Result<Body, Failure> {
        if let [Piece {
            kind: PieceKind::Binary,
            value,
        }] = pieces
        {
            if let Some(path) = value.strip_prefix('@').filter(|p| *p != "-") {
                return Ok(Body::File(PathBuf::from(path)));
            }
        }
        if pieces.is_empty() {
            return Ok(Body::None);
        }
        let mut body = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                body.push(b'&');
            }
            let source = match piece.kind {
                PieceKind::Raw => None,
                PieceKind::Data | PieceKind::Binary => piece.value.strip_prefix('@'),
            };
            match source {
                None => body.extend_from_slice(piece.value.as_bytes()),
                Some(source) => {
                    let mut bytes = read_source(source).await?;
                    if piece.kind == PieceKind::Data {
                        bytes.retain(|b| *b != b'\r' && *b != b'\n');
                    }
                    body.extend_from_slice(&bytes);
                }
            }
        }
        Ok(Body::Bytes(body))
    }

    /// Whether there is a body (which makes the default method POST).
    pub fn is_some(&self) -> bool {
        !matches!(self, Body::None)
    }

    /// Whether the body is a file streamed as it is read.
    pub fn streams_file(&self) -> bool {
        matches!(self, Body::File(_))
    }
}

/// The bytes of `@FILE`, or of stdin for `@-`.
async fn read_source(source: &str) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    let read = if source == "-" {
        tokio::io::stdin().read_to_end(&mut bytes).await
    } else {
        tokio::fs::read(source).await.map(|b| {
            bytes = b;
            bytes.len()
        })
    };
    let what = if source == "-" { "stdin" } else { source };
    read.map_err(|e| Failure::new(Code::Read, format!("cannot read {what}: {e}")))?;
    Ok(bytes)
}

/// One -H flag.
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderFlag {
    /// `Name: value`: sent (repeated names are all sent).
    Add(HeaderName, HeaderValue),
    /// `Name:`: a header the tool would add is not.
    Remove(HeaderName),
}

impl HeaderFlag {
    /// Parses `Name: value`, `Name:` or `Name;` as curl does.
    pub fn parse(flag: &str) -> Result<Self, Failure> {
        let bad = |why: &str| Failure::new(Code::Usage, format!("-H {flag:?}: {why}"));
        let (name, value) = match flag.split_once(':') {
            Some((name, value)) => (name, Some(value.trim())),
            None => match flag.strip_suffix(';') {
                Some(name) => (name, None),
                None => return Err(bad("not `Name: value`, `Name:` or `Name;`")),
            },
        };
        let name =
            HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| bad("not a header name"))?;
        match value {
            Some("") => Ok(HeaderFlag::Remove(name)),
            Some(value) => HeaderValue::from_str(value)
                .map(|v| HeaderFlag::Add(name, v))
                .map_err(|_| bad("not a header value")),
            None => Ok(HeaderFlag::Add(name, HeaderValue::from_static(""))),
        }
    }
}

/// The -H flags, parsed.
pub struct Headers(Vec<HeaderFlag>);

impl Headers {
    pub fn parse(args: &Args) -> Result<Self, Failure> {
        args.headers
            .iter()
            .map(|h| HeaderFlag::parse(h))
            .collect::<Result<_, _>>()
            .map(Headers)
    }

    /// Whether -H names `name`, to add or to remove it.
    fn names(&self, name: &HeaderName) -> bool {
        self.0.iter().any(|h| match h {
            HeaderFlag::Add(n, _) | HeaderFlag::Remove(n) => n == name,
        })
    }

    fn added(&self) -> impl Iterator<Item = (&HeaderName, &HeaderValue)> {
        self.0.iter().filter_map(|h| match h {
            HeaderFlag::Add(n, v) => Some((n, v)),
            HeaderFlag::Remove(_) => None,
        })
    }
}

/// The method: -X (upper-cased), else POST with a body, else GET.
pub fn method(args: &Args, body: &Body) -> Result<reqwest::Method, Failure> {
    let method = match (&args.method, body.is_some()) {
        (Some(m), _) => m.to_ascii_uppercase(),
        (None, true) => "POST".to_owned(),
        (None, false) => "GET".to_owned(),
    };
    reqwest::Method::from_bytes(method.as_bytes())
        .map_err(|_| Failure::new(Code::Usage, format!("-X {method:?} is not an HTTP method")))
}

/// The request: `builder` with the -H headers, the default Content-Type and the body.
pub async fn with_body(
    mut builder: reqwest_middleware::RequestBuilder,
    headers: &Headers,
    body: Body,
) -> Result<reqwest_middleware::RequestBuilder, Failure> {
    for (name, value) in headers.added() {
        builder = builder.header(name, value);
    }
    if body.is_some() && !headers.names(&CONTENT_TYPE) {
        builder = builder.header(CONTENT_TYPE, FORM);
    }
    Ok(match body {
        Body::None => builder,
        Body::Bytes(bytes) => builder.body(bytes),
        Body::File(path) => {
            let what = path.display().to_string();
            let read =
                |e: std::io::Error| Failure::new(Code::Read, format!("cannot read {what}: {e}"));
            let file = tokio::fs::File::open(&path).await.map_err(read)?;
            // Without a length the file would go chunked, which S3 refuses for uploads.
            let len = file.metadata().await.map_err(read)?.len();
            builder
                .header(CONTENT_LENGTH, len)
                .body(reqwest::Body::from(file))
        }
    })
}

/// The reqwest client under the signer: redirects off (the signer follows them, signing
/// each hop), and the transport flags.
pub fn client(args: &Args, headers: &Headers) -> Result<reqwest::Client, Failure> {
    let mut client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(args.connect_timeout.unwrap_or(CONNECT_TIMEOUT));
    if !headers.names(&USER_AGENT) {
        client = client.user_agent(concat!("sigv4-curl/", env!("CARGO_PKG_VERSION")));
    }
    if args.insecure {
        client = client
            .tls_danger_accept_invalid_certs(true)
            .tls_danger_accept_invalid_hostnames(true);
    }
    if let Some(proxy) = &args.proxy {
        let proxy = reqwest::Proxy::all(proxy.as_str())
            .map_err(|e| Failure::new(Code::Usage, format!("-x {proxy:?}: {e}")))?;
        client = client.proxy(proxy.no_proxy(reqwest::NoProxy::from_env()));
    }
    for spec in &args.resolve {
        let (host, addr) = parse_resolve(spec)?;
        client = client.resolve(&host, addr);
    }
    client
        .build()
        .map_err(|e| Failure::new(Code::Other, crate::exit::error_chain(&e)))
}

fn parse_resolve(spec: &str) -> Result<(String, SocketAddr), Failure> {
    let bad = || {
        Failure::new(
            Code::Usage,
            format!("--resolve {spec:?} is not HOST:PORT:ADDR"),
        )
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_flags_follow_curl() {
        let name = HeaderName::from_static("x-trace");
        assert_eq!(
            HeaderFlag::parse("X-Trace:  abc ").unwrap(),
            HeaderFlag::Add(name.clone(), HeaderValue::from_static("abc"))
        );
        assert_eq!(
            HeaderFlag::parse("X-Trace:").unwrap(),
            HeaderFlag::Remove(name.clone())
        );
        assert_eq!(
            HeaderFlag::parse("X-Trace;").unwrap(),
            HeaderFlag::Add(name, HeaderValue::from_static(""))
        );
        assert_eq!(HeaderFlag::parse("nonsense").unwrap_err().code, Code::Usage);
    }

    #[test]
    fn resolve_takes_ipv4_and_bracketed_ipv6() {
        assert_eq!(
            parse_resolve("h:443:127.0.0.1").unwrap(),
            ("h".to_owned(), "127.0.0.1:443".parse().unwrap())
        );
        assert_eq!(
            parse_resolve("h:80:[::1]").unwrap().1,
            "[::1]:80".parse().unwrap()
        );
        assert_eq!(parse_resolve("nonsense").unwrap_err().code, Code::Usage);
    }
}
