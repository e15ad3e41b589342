//! Loopback stand-ins for deployments with several sets of credentials: an STS that answers
//! `AssumeRole` (only to calls validly signed by its base credentials), and an API that
//! accepts a changing set of credentials and refuses the others' session tokens as AWS
//! does (API Gateway's "The security token included in the request is expired", or S3's
//! `ExpiredToken`).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use bytes::Bytes;
use reqwest_sigv4::verify::{ReceivedRequest, RejectionKind, Verifier};

use super::{random_hex, spawn_server, BufferedRequest, BufferedResponse, REGION, SERVICE};

/// One `AssumeRole` call as the STS stand-in saw it.
#[derive(Clone, Debug)]
pub struct AssumeRoleCall {
    /// The access key that signed the call, when its SigV4 signature (service `sts`) was
    /// valid; `None` when it was refused.
    pub signed_by: Option<String>,
    /// The form parameters (`Action`, `RoleArn`, `RoleSessionName`, `ExternalId`,
    /// `DurationSeconds`…).
    pub params: Vec<(String, String)>,
}

impl AssumeRoleCall {
    /// The value of form parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A running STS stand-in; stops when dropped.
pub struct Sts {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<AssumeRoleCall>>>,
    issued: Arc<Mutex<Vec<Credentials>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Sts {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sts {
    /// Serves `AssumeRole` for callers signing with `base`; each call issues new session
    /// credentials, also pushed to `issued_to` (the API that should accept them).
    pub fn start(base: Credentials, issued_to: Arc<Mutex<Vec<Credentials>>>) -> Sts {
        let calls = Arc::new(Mutex::new(Vec::new()));
        let (handler_calls, issued) = (calls.clone(), issued_to.clone());
        let (addr, task) = spawn_server(move |req, _| {
            let answer = assume_role(&req, &base, &handler_calls, &issued);
            async move { answer }
        });
        Sts {
            addr,
            calls,
            issued: issued_to,
            task,
        }
    }

    /// The endpoint URL to give the SDK.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every `AssumeRole` call so far.
    pub fn calls(&self) -> Vec<AssumeRoleCall> {
        self.calls.lock().unwrap().clone()
    }

    /// The credentials issued so far, oldest first.
    pub fn issued(&self) -> Vec<Credentials> {
        self.issued.lock().unwrap().clone()
    }
}

fn assume_role(
    req: &BufferedRequest,
    base: &Credentials,
    calls: &Mutex<Vec<AssumeRoleCall>>,
    issued: &Mutex<Vec<Credentials>>,
) -> BufferedResponse {
    let params: Vec<(String, String)> = url::form_urlencoded::parse(req.body())
        .into_owned()
        .collect();
    let verified = Verifier::new(base.clone())
        .service("sts")
        .region(REGION)
        .max_skew(Duration::from_secs(300))
        .verify_http(req);
    let call = AssumeRoleCall {
        signed_by: verified.as_ref().ok().map(|v| v.access_key_id.clone()),
        params,
    };
    let role_ok = call.param("Action") == Some("AssumeRole") && call.param("RoleArn").is_some();
    let duration = call
        .param("DurationSeconds")
        .and_then(|d| d.parse().ok())
        .unwrap_or(3600);
    calls.lock().unwrap().push(call);
    if verified.is_err() || !role_ok {
        return xml(
            403,
            "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>refused by the STS stand-in</Message></Error></ErrorResponse>".to_owned(),
        );
    }
    let credentials = Credentials::new(
        format!("ASIA{}", random_hex(16).to_ascii_uppercase()),
        random_hex(40),
        Some(random_hex(64)),
        Some(SystemTime::now() + Duration::from_secs(duration)),
        "sts stand-in",
    );
    let amz = reqwest_sigv4::canonical::format_amz_date(credentials.expiry().unwrap());
    let expiration = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &amz[0..4],
        &amz[4..6],
        &amz[6..8],
        &amz[9..11],
        &amz[11..13],
        &amz[13..15]
    );
    let body = format!(
        r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>AROAEXAMPLE:session</AssumedRoleId>
      <Arn>arn:aws:sts::222222222222:assumed-role/example/session</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>{}</AccessKeyId>
      <SecretAccessKey>{}</SecretAccessKey>
      <SessionToken>{}</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#,
        credentials.access_key_id(),
        credentials.secret_access_key(),
        credentials.session_token().unwrap(),
        random_hex(32),
    );
    issued.lock().unwrap().push(credentials);
    xml(200, body)
}

fn xml(status: u16, body: String) -> BufferedResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", "text/xml")
        .body(Bytes::from(body))
        .unwrap()
}

/// How the [`TokenApi`] refuses credentials it does not (or no longer) accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// API Gateway: JSON `{"message": "The security token included in the request is expired"}`.
    ApiGatewayExpired,
    /// S3: XML `<Code>ExpiredToken</Code>` with S3's own wording.
    S3ExpiredToken,
}

/// An API that accepts the credentials in a shared, changeable list; stops when dropped.
pub struct TokenApi {
    addr: SocketAddr,
    /// The credentials accepted now: push to issue, clear to revoke.
    pub accepted: Arc<Mutex<Vec<Credentials>>>,
    /// Per request received: the access key that signed it, and whether it was accepted.
    received: Arc<Mutex<Vec<(String, bool)>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TokenApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TokenApi {
    /// Serves 200 to requests validly signed (service `execute-api`, us-east-1) by one of
    /// `accepted`, and `refusal` to those whose access key or token it does not know.
    pub fn start(accepted: Vec<Credentials>, refusal: Refusal) -> TokenApi {
        let accepted = Arc::new(Mutex::new(accepted));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (keys, log) = (accepted.clone(), received.clone());
        let (addr, task) = spawn_server(move |req, _| {
            let answer = check(&req, &keys.lock().unwrap(), refusal, &log);
            async move { answer }
        });
        TokenApi {
            addr,
            accepted,
            received,
            task,
        }
    }

    /// The base URL to route.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Per request received: the access key id that signed it, and whether it was accepted.
    pub fn received(&self) -> Vec<(String, bool)> {
        self.received.lock().unwrap().clone()
    }

    /// Accepts only `credentials` from now on (a rotation revokes the old ones).
    pub fn accept_only(&self, credentials: Vec<Credentials>) {
        *self.accepted.lock().unwrap() = credentials;
    }
}

fn check(
    req: &BufferedRequest,
    accepted: &[Credentials],
    refusal: Refusal,
    log: &Mutex<Vec<(String, bool)>>,
) -> BufferedResponse {
    let received = ReceivedRequest::from_http(req);
    let result = match accepted.split_first() {
        None => Err(None),
        Some((first, rest)) => {
            let verifier = rest.iter().fold(
                Verifier::new(first.clone())
                    .service(SERVICE)
                    .region(REGION)
                    .max_skew(Duration::from_secs(300)),
                |v, c| v.with_credentials(c.clone()),
            );
            verifier.verify(&received).map_err(|r| Some(r.kind))
        }
    };
    // The verified key; for a refusal, the key the Authorization header names.
    let key = match &result {
        Ok(verified) => verified.access_key_id.clone(),
        Err(_) => received
            .header_values("authorization")
            .next()
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').next())
            .unwrap_or_default()
            .to_owned(),
    };
    log.lock().unwrap().push((key, result.is_ok()));
    let token_refused = matches!(
        &result,
        Err(None
            | Some(
                RejectionKind::UnknownAccessKey { .. } | RejectionKind::InvalidSecurityToken { .. }
            ))
    );
    let status = if result.is_ok() { 200 } else { 403 };
    let (content_type, body) = match (result, refusal) {
        (Ok(_), _) => ("application/json", r#"{"ok":true}"#.to_owned()),
        (Err(_), Refusal::ApiGatewayExpired) if token_refused => (
            "application/json",
            r#"{"message":"The security token included in the request is expired"}"#.to_owned(),
        ),
        (Err(_), Refusal::S3ExpiredToken) if token_refused => (
            "application/xml",
            "<Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>".to_owned(),
        ),
        (Err(kind), _) => (
            "application/json",
            format!(r#"{{"message":"refused: {kind:?}"}}"#),
        ),
    };
    http::Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Bytes::from(body))
        .unwrap()
}
