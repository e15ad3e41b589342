//! A `reqwest-retry` strategy that retries the signer's transient errors (feature `retry`).

use std::fmt;

use reqwest_retry::{DefaultRetryableStrategy, Retryable, RetryableStrategy};

use crate::Error;

/// A [`RetryableStrategy`] for a stack whose [`RetryTransientMiddleware`] sits above the
/// signer: the signer's transient errors ([`Error::is_transient`]: the credentials
/// provider timed out or failed) are [`Retryable::Transient`], and everything else is
/// left to reqwest-retry's [`DefaultRetryableStrategy`] (or the strategy given to
/// [`with_fallback`](Self::with_fallback)).
///
/// [`RetryTransientMiddleware`]: reqwest_retry::RetryTransientMiddleware
///
/// reqwest-retry's own strategy takes every middleware error for fatal, so without this a
/// provider that hiccups once fails the request even in a stack built to retry. Each
/// attempt passes through the signer again, so it is signed afresh (a new `X-Amz-Date`,
/// credentials from a new provider call).
///
/// What is not retried: the signer's other errors (a body over the limit, a request its
/// route cannot sign, a provider that panicked or is not configured: the same request
/// fails the same way), and, as with any reqwest-retry strategy, a request with a
/// streaming body, which cannot be cloned to be sent again.
///
/// ```
/// use reqwest_retry::{policies::ExponentialBackoff, RetryTransientMiddleware};
/// use reqwest_sigv4::{Route, SigV4Middleware, SigV4RetryableStrategy};
/// # use reqwest_sigv4::aws::Credentials;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let signer = SigV4Middleware::builder()
///     .route(Route::direct("https://abc123.execute-api.us-east-1.amazonaws.com"))
/// #   .static_credentials(Credentials::new("AKIDEXAMPLE", "secret", None, None, "doc"))
///     .build()?;
/// let retry = RetryTransientMiddleware::new_with_policy_and_strategy(
///     ExponentialBackoff::builder().build_with_max_retries(3),
///     SigV4RetryableStrategy::default(),
/// );
/// let client = reqwest_middleware::ClientBuilder::new(
///     reqwest::Client::builder()
///         .redirect(reqwest::redirect::Policy::none())
///         .build()?,
/// )
/// .with(retry) // above the signer: each attempt is signed again
/// .with(signer)
/// .build();
/// # drop(client);
/// # Ok(())
/// # }
/// ```
///
/// For reqwest-retry 0.9 (reqwest-middleware 0.5).
pub struct SigV4RetryableStrategy<S = DefaultRetryableStrategy> {
    fallback: S,
}

impl SigV4RetryableStrategy {
    /// The signer's transient errors are retried, the rest is reqwest-retry's
    /// [`DefaultRetryableStrategy`]'s call: it retries timeouts, connection errors, 5xx,
    /// 408 and 429.
    pub fn new() -> Self {
        Self {
            fallback: DefaultRetryableStrategy,
        }
    }
}

impl Default for SigV4RetryableStrategy {
    fn default() -> Self {
        Self::new()
    }
}

impl<S> SigV4RetryableStrategy<S> {
    /// The signer's transient errors are retried, the rest is `fallback`'s call.
    pub fn with_fallback(fallback: S) -> Self {
        Self { fallback }
    }
}

impl<S> fmt::Debug for SigV4RetryableStrategy<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigV4RetryableStrategy")
            .field("fallback", &std::any::type_name::<S>())
            .finish()
    }
}

impl<S: RetryableStrategy> RetryableStrategy for SigV4RetryableStrategy<S> {
    fn handle(
        &self,
        res: &Result<reqwest::Response, reqwest_middleware::Error>,
    ) -> Option<Retryable> {
        if let Err(err) = res {
            if Error::from_middleware(err).is_some_and(Error::is_transient) {
                return Some(Retryable::Transient);
            }
        }
        self.fallback.handle(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    struct NeverRetry;
    impl RetryableStrategy for NeverRetry {
        fn handle(
            &self,
            _: &Result<reqwest::Response, reqwest_middleware::Error>,
        ) -> Option<Retryable> {
            None
        }
    }

    #[test]
    fn transient_signer_errors_are_retried_and_the_rest_is_the_fallbacks_call() {
        let timeout: reqwest_middleware::Error =
            Error::CredentialsTimeout(Duration::from_secs(1)).into();
        let too_large: reqwest_middleware::Error = Error::BodyTooLarge { limit: 1 }.into();
        let other = reqwest_middleware::Error::middleware(std::io::Error::other("other"));

        let strategy = SigV4RetryableStrategy::default();
        assert!(matches!(
            strategy.handle(&Err(timeout)),
            Some(Retryable::Transient)
        ));
        // reqwest-retry's default takes any other middleware error for fatal.
        assert!(matches!(
            strategy.handle(&Err(too_large)),
            Some(Retryable::Fatal)
        ));
        assert!(matches!(
            strategy.handle(&Err(other)),
            Some(Retryable::Fatal)
        ));

        let timeout: reqwest_middleware::Error =
            Error::CredentialsTimeout(Duration::from_secs(1)).into();
        let too_large: reqwest_middleware::Error = Error::BodyTooLarge { limit: 1 }.into();
        let custom = SigV4RetryableStrategy::with_fallback(NeverRetry);
        assert!(matches!(
            custom.handle(&Err(timeout)),
            Some(Retryable::Transient)
        ));
        assert!(custom.handle(&Err(too_large)).is_none());
        assert!(format!("{custom:?}").contains("NeverRetry"));
    }
}
