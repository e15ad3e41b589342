//! A raw HTTP/1.1 server on 127.0.0.1 that writes exactly the bytes it is given, for answers
//! a real server library will not produce: a body that stalls after its first bytes, or a
//! connection closed before the body's declared length.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What the server does once it has written its bytes.
#[derive(Clone, Copy, Debug)]
pub enum Then {
    /// Keep the connection open, silent, this long.
    Stall(Duration),
    /// Close the connection.
    Close,
    /// Wait this long, write these bytes, close.
    Later(Duration, &'static [u8]),
}

/// A running raw server.
pub struct RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Requests it has read.
    pub requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RawServer {
    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Answers every request with `response` (status line, headers, blank line and whatever
/// body bytes), then does `then`.
pub async fn serve(response: Vec<u8>, then: Then) -> RawServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let counter = requests.clone();
    let task = tokio::spawn(async move {
        let mut connections = tokio::task::JoinSet::new();
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let counter = counter.clone();
            let response = response.clone();
            connections.spawn(async move {
                if !read_request(&mut stream).await {
                    return;
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let _ = stream.write_all(&response).await;
                let _ = stream.flush().await;
                match then {
                    Then::Stall(d) => tokio::time::sleep(d).await,
                    Then::Close => {}
                    Then::Later(d, more) => {
                        tokio::time::sleep(d).await;
                        let _ = stream.write_all(more).await;
                    }
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    RawServer {
        addr,
        requests,
        task,
    }
}

/// Reads one request head and as many body bytes as its `Content-Length` says; `false`
/// when the connection ends first.
pub async fn read_request(stream: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    true
}
