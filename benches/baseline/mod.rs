//! The yardstick of issue 16: the SigV4 middleware a user would write in ~40 lines around
//! `aws_sigv4::http_request::sign`, with none of the crate's routing, retries, body
//! streaming or diagnostics. Its settings make the crate's signature for an execute-api
//! `Route::direct` with the default `SignedHeaders` (every header of the request plus
//! `host`, the body's SHA-256 as the payload hash), which the benches assert before timing.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use http::{Extensions, HeaderValue};
use reqwest_middleware::{Error, Middleware, Next, Result};

/// Signs every request for one service and region with static credentials.
pub struct Baseline {
    identity: Identity,
    region: &'static str,
    service: &'static str,
    /// Built once (its `Default` allocates), cloned per request: no excluded headers,
    /// since the request's own headers are exactly what is to be signed.
    settings: SigningSettings,
    /// `None` signs at `SystemTime::now()`; a fixed time makes the signature comparable.
    time: Option<SystemTime>,
}

impl Baseline {
    /// A signer for `service` in `region`.
    pub fn new(
        credentials: Credentials,
        region: &'static str,
        service: &'static str,
        time: Option<SystemTime>,
    ) -> Self {
        let mut settings = SigningSettings::default();
        settings.excluded_headers = None;
        Self {
            identity: credentials.into(),
            region,
            service,
            settings,
            time,
        }
    }
}

#[async_trait::async_trait]
impl Middleware for Baseline {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<reqwest::Response> {
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(self.region)
            .name(self.service)
            .time(self.time.unwrap_or_else(SystemTime::now))
            .settings(self.settings.clone())
            .build()
            .map_err(Error::middleware)?
            .into();
        let body = req.body().and_then(|b| b.as_bytes()).unwrap_or_default();
        let headers = req
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str(), value.to_str().unwrap_or_default()));
        let signable = SignableRequest::new(
            req.method().as_str(),
            req.url().as_str(),
            std::iter::once(("host", req.url().authority())).chain(headers),
            SignableBody::Bytes(body),
        )
        .map_err(Error::middleware)?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(Error::middleware)?
            .into_parts();
        for header in instructions.into_parts().0 {
            let mut value = HeaderValue::from_str(header.value()).map_err(Error::middleware)?;
            value.set_sensitive(header.sensitive() || header.name() == "authorization");
            req.headers_mut().insert(header.name(), value);
        }
        next.run(req, extensions).await
    }
}
