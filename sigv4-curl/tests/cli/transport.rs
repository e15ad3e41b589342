//! Transport: -L over a redirect chain (each hop signed for itself), --max-redirs, -m
//! against a server that never answers, --connect-timeout against one that never accepts,
//! -k with a self-signed certificate (and HTTP/2 by ALPN), -x and the proxy variables.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::raw::{self, Then};
use crate::support::signing::{assert_every_request_signed, ok_server, verifier};
use crate::{run, EXAMPLE_ENV};

/// /a answers 302 to /b, /b 307 to /c, /c 200 `end`.
async fn redirect_chain() -> MockServer {
    let server = MockServer::start().await;
    for (from, status, to) in [("/a", 302, "/b"), ("/b", 307, "/c")] {
        Mock::given(path(from))
            .respond_with(ResponseTemplate::new(status).insert_header("location", to))
            .mount(&server)
            .await;
    }
    Mock::given(path("/c"))
        .respond_with(ResponseTemplate::new(200).set_body_string("end"))
        .mount(&server)
        .await;
    server
}

async fn paths_received(server: &MockServer) -> Vec<String> {
    let received = assert_every_request_signed(server, &verifier()).await;
    received
        .iter()
        .map(|r| r.request.path_and_query().0.to_owned())
        .collect()
}

#[tokio::test]
async fn location_follows_a_redirect_chain_signing_each_hop() {
    let region = ["--region", "us-east-1"];

    // Without -L, the 302 is the answer: printed, not followed, exit 0.
    let server = redirect_chain().await;
    let url = format!("{}/a", server.uri());
    let outcome = run(&[&region[..], &["-i", &url]].concat(), EXAMPLE_ENV).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert!(
        outcome.out.starts_with("HTTP/1.1 302 Found\r\n"),
        "{}",
        outcome.out
    );
    assert!(
        outcome.out.contains("\r\nlocation: /b\r\n"),
        "{}",
        outcome.out
    );
    assert_eq!(paths_received(&server).await, ["/a"]);

    // With -L, every hop is sent, each signed for its own URL (the verifier checks each).
    let server = redirect_chain().await;
    let url = format!("{}/a", server.uri());
    let outcome = run(&[&region[..], &["-L", &url]].concat(), EXAMPLE_ENV).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert_eq!(outcome.out, "end");
    assert_eq!(paths_received(&server).await, ["/a", "/b", "/c"]);

    // -i shows every hop's head, -v every hop's request.
    let server = redirect_chain().await;
    let url = format!("{}/a", server.uri());
    let outcome = run(
        &[&region[..], &["-L", "-i", "-v", &url]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let statuses: Vec<&str> = outcome
        .out
        .split("\r\n")
        .filter(|l| l.starts_with("HTTP/"))
        .collect();
    assert_eq!(
        statuses,
        [
            "HTTP/1.1 302 Found",
            "HTTP/1.1 307 Temporary Redirect",
            "HTTP/1.1 200 OK"
        ]
    );
    assert!(outcome.out.ends_with("\r\n\r\nend"), "{}", outcome.out);
    for hop in ["> GET /a ", "> GET /b ", "> GET /c "] {
        assert!(outcome.err.contains(hop), "{hop} missing:\n{}", outcome.err);
    }

    // --max-redirs 1: the second redirect is one too many (curl's 47).
    let server = redirect_chain().await;
    let url = format!("{}/a", server.uri());
    let outcome = run(
        &[&region[..], &["-L", "--max-redirs", "1", &url]].concat(),
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 47, "{}", outcome.err);
    assert!(
        outcome.err.starts_with("sigv4-curl: (47) "),
        "{}",
        outcome.err
    );
    assert_eq!(paths_received(&server).await, ["/a", "/b"]);
}

#[tokio::test]
async fn max_time_gives_up_on_a_server_that_never_answers() {
    // Reads the request, answers nothing, holds the connection for a minute.
    let silent = raw::serve(Vec::new(), Then::Stall(Duration::from_secs(60))).await;
    let started = Instant::now();
    let outcome = run(
        &["--region", "us-east-1", "-m", "1", &silent.url()],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 28, "{}", outcome.err);
    assert!(
        outcome.err.starts_with("sigv4-curl: (28) "),
        "{}",
        outcome.err
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(silent.requests.load(std::sync::atomic::Ordering::SeqCst), 1);
}

/// A listener whose accept queue is full, so that the next connection to it hangs in the
/// handshake (Linux drops its SYN); `None` if the queue would not fill.
async fn unaccepting_listener() -> Option<(tokio::net::TcpListener, Vec<tokio::net::TcpStream>)> {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(1).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut held = Vec::new();
    for _ in 0..64 {
        let connect = tokio::net::TcpStream::connect(addr);
        match tokio::time::timeout(Duration::from_millis(300), connect).await {
            Ok(Ok(stream)) => held.push(stream),
            _ => return Some((listener, held)),
        }
    }
    None
}

#[tokio::test]
async fn connect_timeout_gives_up_on_a_server_that_never_accepts() {
    let Some((listener, _held)) = unaccepting_listener().await else {
        eprintln!("note: the accept queue did not fill on this machine; test skipped");
        return;
    };
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let started = Instant::now();
    let outcome = run(
        &["--region", "us-east-1", "--connect-timeout", "1", &url],
        EXAMPLE_ENV,
    )
    .await;
    assert_eq!(outcome.code, 28, "{}", outcome.err);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// An HTTPS server on loopback with a self-signed certificate for `name`, offering HTTP/2
/// and HTTP/1.1 by ALPN; answers 200 `secure` and records each request's HTTP version.
async fn tls_server(name: &str) -> (SocketAddr, Arc<Mutex<Vec<http::Version>>>) {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tokio_rustls::rustls;

    let certified = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let versions = Arc::new(Mutex::new(Vec::new()));
    let seen = versions.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends here.
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let service =
                    hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
                        seen.lock().unwrap().push(req.version());
                        async {
                            Ok::<_, std::convert::Infallible>(http::Response::new(
                                http_body_util::Full::new(bytes::Bytes::from_static(b"secure")),
                            ))
                        }
                    });
                let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    (addr, versions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn insecure_accepts_a_self_signed_certificate_with_a_warning_over_http2() {
    let name = "tls.example.com";
    let (addr, versions) = tls_server(name).await;
    let url = format!("https://{name}:{}/prod/items", addr.port());
    let resolve = format!("{name}:{}:{}", addr.port(), addr.ip());
    let args = ["--region", "us-east-1", "--resolve", &resolve, "-i", &url];

    // The certificate is refused: curl's 35, nothing answered.
    let outcome = run(&args, EXAMPLE_ENV).await;
    assert_eq!(outcome.code, 35, "{}", outcome.err);
    assert!(versions.lock().unwrap().is_empty());

    // -k: accepted, and said so. The server offered HTTP/2: it is what was spoken.
    let outcome = run(&[&["-k"][..], &args].concat(), EXAMPLE_ENV).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert!(
        outcome.err.starts_with("sigv4-curl: warning: --insecure"),
        "{}",
        outcome.err
    );
    assert!(outcome.out.starts_with("HTTP/2 200\r\n"), "{}", outcome.out);
    assert!(outcome.out.ends_with("\r\n\r\nsecure"), "{}", outcome.out);
    assert_eq!(*versions.lock().unwrap(), [http::Version::HTTP_2]);

    // -s silences the warning.
    let outcome = run(&[&["-k", "-s"][..], &args].concat(), EXAMPLE_ENV).await;
    assert_eq!((outcome.code, outcome.err.as_str()), (0, ""));
}

#[tokio::test]
async fn proxy_flag_and_proxy_variables_send_through_the_proxy() {
    // The target's name leads to a closed port: only a proxy reaches the API.
    let target = "api.proxied.example";
    let url = format!("http://{target}/prod/items");
    let nowhere = format!("{target}:9:127.0.0.1");
    let args = [
        "--service",
        "execute-api",
        "--region",
        "us-east-1",
        "--resolve",
        &nowhere,
        &url,
    ];

    let proxy = ok_server().await;
    let outcome = run(&[&["-x", &proxy.uri()][..], &args].concat(), EXAMPLE_ENV).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    let received = assert_every_request_signed(&proxy, &verifier()).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].request.header("host"), Some(target));

    // HTTP_PROXY does the same without -x.
    let proxy = ok_server().await;
    let proxy_uri = proxy.uri();
    let mut env = EXAMPLE_ENV.to_vec();
    env.push(("HTTP_PROXY", &proxy_uri));
    let outcome = run(&args, &env).await;
    assert_eq!(outcome.code, 0, "{}", outcome.err);
    assert_eq!(
        assert_every_request_signed(&proxy, &verifier()).await.len(),
        1
    );

    // NO_PROXY names the target: sent directly, to the closed port; -x obeys it too.
    env.push(("NO_PROXY", target));
    let outcome = run(&args, &env).await;
    assert_eq!(outcome.code, 7, "{}", outcome.err);
    let outcome = run(&[&["-x", &proxy_uri][..], &args].concat(), &env).await;
    assert_eq!(outcome.code, 7, "{}", outcome.err);
    assert_eq!(
        proxy.received_requests().await.unwrap().len(),
        1,
        "only the first"
    );
}
