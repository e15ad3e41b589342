//! An independent S3 server in process: s3s, which verifies SigV4 itself (its own canonical
//! requests, its own clock and presign expiry, `x-amz-content-sha256` against the body),
//! over s3s-fs's file-system backend in a temporary directory, served by hyper on
//! 127.0.0.1 (HTTP/1), path-style (`http://127.0.0.1:PORT/bucket/key`) and virtual-hosted
//! (`http://bucket.s3.example.test:PORT/key`, reached through the client's `resolve`).
//!
//! Loaded only by the tests that use it (`#[path]`), so that the other test targets do not
//! compile s3s.

use std::borrow::Cow;
use std::net::SocketAddr;
use std::path::PathBuf;

use s3s::dto::{
    CreateBucketInput, CreateBucketOutput, GetObjectInput, GetObjectOutput, ListObjectsV2Input,
    ListObjectsV2Output, PutObjectInput, PutObjectOutput,
};
use s3s::host::{S3Host, VirtualHost};
use s3s::{s3_error, S3Request, S3Response, S3Result, S3};

/// The base domain of virtual-hosted URLs: `BUCKET.s3.example.test:PORT`.
pub const BASE_DOMAIN: &str = "s3.example.test";

/// A running s3s server; stopped and its directory removed on drop.
pub struct S3Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    root: PathBuf,
}

impl S3Server {
    /// Starts a server that accepts requests signed with `access_key` and `secret_key`.
    pub async fn start(access_key: &str, secret_key: &str) -> S3Server {
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let root = std::env::temp_dir().join(format!(
            "reqwest-sigv4-s3s-{}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            crate::support::random_hex(8)
        ));
        std::fs::create_dir_all(&root).expect("create the server's directory");
        let fs = s3s_fs::FileSystem::new(&root).expect("s3s-fs over the directory");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");

        let mut builder = s3s::service::S3ServiceBuilder::new(HexKeys(fs));
        builder.set_auth(s3s::auth::SimpleAuth::from_single(access_key, secret_key));
        builder.set_host(Hosts {
            suffix: format!(".{BASE_DOMAIN}:{}", addr.port()),
        });
        let service = builder.build();

        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        let service = service.clone();
                        connections.spawn(async move {
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    Some(_) = connections.join_next(), if !connections.is_empty() => {}
                }
            }
        });
        S3Server { addr, task, root }
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: path-style URLs start here (`/bucket/key`).
    pub fn path_style_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `BUCKET.s3.example.test`, the virtual host of `bucket` (resolve it to [`addr`](Self::addr)).
    pub fn virtual_host(&self, bucket: &str) -> String {
        format!("{bucket}.{BASE_DOMAIN}")
    }

    /// `http://BUCKET.s3.example.test:PORT`: virtual-hosted URLs start here (`/key`).
    pub fn virtual_hosted_base(&self, bucket: &str) -> String {
        format!("http://{}:{}", self.virtual_host(bucket), self.addr.port())
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Virtual-hosted requests name their bucket in the `Host` (`BUCKET.s3.example.test:PORT`);
/// any other host (`127.0.0.1:PORT`) is path-style. s3s's `SingleDomain` would read
/// `127.0.0.1:PORT` as a bucket name.
struct Hosts {
    /// `.s3.example.test:PORT`
    suffix: String,
}

impl S3Host for Hosts {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match host.strip_suffix(&self.suffix) {
            Some(bucket) => VirtualHost::new(&self.suffix[1..]).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

/// s3s-fs with every key stored under a file named by the key's bytes in hex.
///
/// s3s-fs stores a key as a file path, so a key that a file system reads another way
/// (`a/b//c`, a leading `/`, a trailing `/`, a `..` segment) would come back from LIST
/// changed, or not be stored at all. Hex spelling keeps every key whole and sorts as the
/// bytes do (S3 lists keys in UTF-8 binary order), and a prefix of a key is a prefix of its
/// hex. Only storage is changed: s3s has verified the signature before any of this runs.
struct HexKeys(s3s_fs::FileSystem);

fn to_file_name(key: &str) -> String {
    hex::encode(key.as_bytes())
}

fn from_file_name(name: &str) -> S3Result<String> {
    let bytes = hex::decode(name).map_err(|_| s3_error!(InternalError, "not a hex file name"))?;
    String::from_utf8(bytes).map_err(|_| s3_error!(InternalError, "not a UTF-8 key"))
}

#[async_trait::async_trait]
impl S3 for HexKeys {
    async fn create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        self.0.create_bucket(req).await
    }

    async fn put_object(
        &self,
        mut req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        req.input.key = to_file_name(&req.input.key);
        self.0.put_object(req).await
    }

    async fn get_object(
        &self,
        mut req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        req.input.key = to_file_name(&req.input.key);
        self.0.get_object(req).await
    }

    async fn list_objects_v2(
        &self,
        mut req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        if req.input.delimiter.is_some() {
            return Err(s3_error!(
                NotImplemented,
                "no delimiter over hex file names"
            ));
        }
        let prefix = req.input.prefix.take();
        let hexed = |value: &mut Option<String>| {
            if let Some(value) = value {
                *value = to_file_name(value);
            }
        };
        req.input.prefix = prefix.as_deref().map(to_file_name);
        hexed(&mut req.input.start_after);
        hexed(&mut req.input.continuation_token);
        let mut response = self.0.list_objects_v2(req).await?;
        let output = &mut response.output;
        output.prefix = prefix;
        for object in output.contents.iter_mut().flatten() {
            if let Some(key) = &mut object.key {
                *key = from_file_name(key)?;
            }
        }
        for value in [
            &mut output.start_after,
            &mut output.continuation_token,
            &mut output.next_continuation_token,
        ]
        .into_iter()
        .flatten()
        {
            *value = from_file_name(value)?;
        }
        Ok(response)
    }
}

/// The `<Key>` values of a ListObjectsV2 answer, unescaped, in order.
pub fn listed_keys(xml: &str) -> Vec<String> {
    xml.split("<Key>")
        .skip(1)
        .map(|rest| unescape_xml(rest.split_once("</Key>").expect("</Key>").0).into_owned())
        .collect()
}

/// XML text with its five predefined entities and character references resolved.
pub fn unescape_xml(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let (entity, after) = rest[at + 1..].split_once(';').expect("entity ends with ;");
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = match entity.strip_prefix("#x") {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => entity.strip_prefix('#').expect("a reference").parse(),
                };
                char::from_u32(code.expect("a number")).expect("a character")
            }
        };
        out.push(c);
        rest = after;
    }
    out.push_str(rest);
    Cow::Owned(out)
}
