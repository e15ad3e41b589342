//! A middleware below the signer that sees every request as it was signed and sent (each
//! hop of a redirect chain, each retry) and the head of its answer: for -v, for -i over
//! redirects, and for --dry-run, where it answers in place of the network.
//!
//! With `sign_only` (main.rs), the dry run's tap is the one place that signs without
//! sending: both give way to the library's own call when it has one.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use http::Extensions;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url, Version};
use reqwest_middleware::{Middleware, Next};

/// A request as it left the signer, and the head of its answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    /// `None` until answered (and in a dry run).
    pub answer: Option<Head>,
}

/// The head of an answer.
#[derive(Clone, Debug)]
pub struct Head {
    pub version: Version,
    pub status: StatusCode,
    pub headers: HeaderMap,
}

/// Records exchanges; clones share one record.
#[derive(Clone, Default)]
pub struct Tap {
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    /// Answer every request with an empty 200 instead of sending it.
    dry_run: bool,
}

impl Tap {
    /// A tap that lets requests through.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tap that sends nothing: the signer's request is recorded and answered with an
    /// empty 200, which the signer hands back as it would a real answer.
    pub fn dry_run() -> Self {
        Self {
            dry_run: true,
            ..Self::default()
        }
    }

    /// Every exchange so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Exchange>> {
        self.exchanges
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Middleware for Tap {
    // reqwest-middleware's `#[async_trait]` signature, written out: the tool needs no
    // async-trait of its own for one small middleware.
    fn handle<'life0, 'life1, 'life2, 'async_trait>(
        &'life0 self,
        req: reqwest::Request,
        extensions: &'life1 mut Extensions,
        next: Next<'life2>,
    ) -> Pin<
        Box<
            dyn Future<Output = reqwest_middleware::Result<reqwest::Response>>
                + Send
                + 'async_trait,
        >,
    >
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        Self: 'async_trait,
    {
        Box::pin(async move {
            let index = {
                let mut exchanges = self.lock();
                exchanges.push(Exchange {
                    method: req.method().clone(),
                    url: req.url().clone(),
                    headers: req.headers().clone(),
                    answer: None,
                });
                exchanges.len() - 1
            };
            if self.dry_run {
                return Ok(reqwest::Response::from(http::Response::new(
                    Vec::<u8>::new(),
                )));
            }
            let response = next.run(req, extensions).await?;
            self.lock()[index].answer = Some(Head {
                version: response.version(),
                status: response.status(),
                headers: response.headers().clone(),
            });
            Ok(response)
        })
    }
}
