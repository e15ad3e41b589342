//! Credentials cache: one provider call per refresh, refreshed ahead of expiry.
//!
//! `aws-config`'s providers do not cache (the SDK clients do, in their identity cache), so
//! the middleware must: a provider call per request would hit IMDS or STS thousands of
//! times a second. The hot path is one read lock and an `Arc` clone; no lock is held across
//! an await there. While credentials are still valid but close to expiry, one background
//! task refreshes them and every request keeps using the cached ones; a refresh that fails
//! is retried later and the still-valid credentials keep serving. Only when nothing valid is
//! cached do requests wait, and then for one shared provider call.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_smithy_runtime_api::client::identity::Identity;

use crate::clock::SharedClock;
use crate::error::{error_chain, Error};

/// Refresh this long before credentials expire.
pub(crate) const DEFAULT_REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);
/// How long a provider may take before the request fails.
pub(crate) const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed background refresh, wait this long before trying again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
/// Credentials this close to expiry are not used: a request takes time to reach AWS.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// Credentials ready to sign with.
#[derive(Clone)]
pub(crate) struct Cached {
    pub(crate) identity: Identity,
    pub(crate) expiry: Option<SystemTime>,
    pub(crate) has_session_token: bool,
}

impl fmt::Debug for Cached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("expiry", &self.expiry)
            .field("has_session_token", &self.has_session_token)
            .finish_non_exhaustive()
    }
}

impl Cached {
    fn new(credentials: Credentials) -> Result<Self, Error> {
        if credentials.access_key_id().is_empty() || credentials.secret_access_key().is_empty() {
            return Err(Error::EmptyCredentials);
        }
        Ok(Self {
            expiry: credentials.expiry(),
            has_session_token: credentials.session_token().is_some(),
            identity: Identity::from(credentials),
        })
    }

    fn usable_at(&self, now: SystemTime) -> bool {
        self.expiry.is_none_or(|e| now + EXPIRY_MARGIN < e)
    }

    fn fresh_at(&self, now: SystemTime, refresh_ahead: Duration) -> bool {
        // A refresh-ahead too large to add to `now` means "always due" (never a panic).
        self.expiry
            .is_none_or(|e| now.checked_add(refresh_ahead).is_some_and(|t| t < e))
    }
}

#[derive(Default)]
struct State {
    current: Option<Arc<Cached>>,
    /// No background refresh before this instant (set after a failure).
    quiet_until: Option<SystemTime>,
    /// Provider calls finished so far, and the error of the latest one if it failed: the
    /// requests that waited for that call share its answer instead of calling again.
    finished_calls: u64,
    last_failure: Option<Error>,
}

struct Inner {
    provider: SharedCredentialsProvider,
    state: RwLock<State>,
    /// Held by whoever is calling the provider: there is one call in flight at most.
    refreshing: Arc<tokio::sync::Mutex<()>>,
    refresh_ahead: Duration,
    timeout: Duration,
    clock: SharedClock,
}

/// A caching wrapper around any credentials provider.
#[derive(Clone)]
pub(crate) struct CredentialsCache {
    inner: Arc<Inner>,
}

impl fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialsCache")
            .field("provider", &self.inner.provider)
            .field("refresh_ahead", &self.inner.refresh_ahead)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

impl CredentialsCache {
    pub(crate) fn new(
        provider: SharedCredentialsProvider,
        refresh_ahead: Duration,
        timeout: Duration,
        clock: SharedClock,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                state: RwLock::new(State::default()),
                refreshing: Arc::new(tokio::sync::Mutex::new(())),
                refresh_ahead,
                timeout,
                clock,
            }),
        }
    }

    /// Credentials to sign with now.
    pub(crate) async fn get(&self) -> Result<Arc<Cached>, Error> {
        let now = self.inner.clock.now();
        let (current, quiet) = {
            let state = self.inner.read_state();
            (
                state.current.clone(),
                state.quiet_until.is_some_and(|q| now < q),
            )
        };
        if let Some(cached) = current.filter(|c| c.usable_at(now)) {
            if !cached.fresh_at(now, self.inner.refresh_ahead) && !quiet {
                self.refresh_in_background();
            }
            return Ok(cached);
        }
        // Boxed: the provider's future is large and rarely awaited.
        Box::pin(self.refresh_now()).await
    }

    fn refresh_in_background(&self) {
        let Ok(guard) = self.inner.refreshing.clone().try_lock_owned() else {
            return; // someone is already refreshing
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime to refresh on: the next request past expiry refreshes inline
        };
        let inner = self.inner.clone();
        runtime.spawn(async move {
            let _guard = guard;
            if let Err(err) = inner.call_provider().await {
                tracing::warn!(error = %err, "refreshing AWS credentials failed; still using the cached ones until they expire");
                inner.write_state().quiet_until =
                    Some(inner.clock.now() + RETRY_AFTER_FAILURE);
            }
        });
    }

    async fn refresh_now(&self) -> Result<Arc<Cached>, Error> {
        let calls_before = self.inner.read_state().finished_calls;
        let _guard = self.inner.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed already.
        let now = self.inner.clock.now();
        {
            let state = self.inner.read_state();
            if let Some(cached) = state.current.clone() {
                if cached.usable_at(now) {
                    return Ok(cached);
                }
            }
            // A provider call finished while we waited and failed: answer with its error
            // rather than call the provider again (and wait another timeout) per request.
            if state.finished_calls != calls_before {
                if let Some(err) = &state.last_failure {
                    return Err(replay(err));
                }
            }
        }
        self.inner.call_provider().await
    }
}

impl Inner {
    async fn call_provider(&self) -> Result<Arc<Cached>, Error> {
        let result = self.fetch().await;
        let mut state = self.write_state();
        state.finished_calls += 1;
        match &result {
            Ok(cached) => {
                state.current = Some(cached.clone());
                state.quiet_until = None;
                state.last_failure = None;
            }
            Err(err) => state.last_failure = Some(replay(err)),
        }
        result
    }

    async fn fetch(&self) -> Result<Arc<Cached>, Error> {
        let result = tokio::time::timeout(self.timeout, self.provider.provide_credentials())
            .await
            .map_err(|_| Error::CredentialsTimeout(self.timeout))?;
        let credentials = result.map_err(|e| Error::CredentialsUnavailable {
            message: error_chain(&e),
        })?;
        Ok(Arc::new(Cached::new(credentials)?))
    }

    // A panic while holding the lock cannot leave `State` half-written (every write is
    // one assignment), so a poisoned lock is still sound to use.
    fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_state(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }
}

/// A copy of a provider-call error (the only kinds `call_provider` returns).
fn replay(err: &Error) -> Error {
    match err {
        Error::CredentialsUnavailable { message } => Error::CredentialsUnavailable {
            message: message.clone(),
        },
        Error::CredentialsTimeout(timeout) => Error::CredentialsTimeout(*timeout),
        Error::EmptyCredentials => Error::EmptyCredentials,
        other => Error::CredentialsUnavailable {
            message: other.to_string(),
        },
    }
}

/// `aws-config`'s default chain, loaded on first use so that building the middleware is
/// not async; also answers the default region.
#[cfg(feature = "aws-config")]
#[derive(Debug, Default)]
pub(crate) struct DefaultChain {
    config: tokio::sync::OnceCell<aws_config::SdkConfig>,
}

#[cfg(feature = "aws-config")]
impl DefaultChain {
    async fn config(&self) -> &aws_config::SdkConfig {
        self.config
            .get_or_init(|| aws_config::load_defaults(aws_config::BehaviorVersion::latest()))
            .await
    }

    /// The region of the default chain (environment, profile, IMDS).
    pub(crate) async fn region(&self) -> Option<String> {
        self.config().await.region().map(|r| r.to_string())
    }
}

/// [`DefaultChain`] as a credentials provider.
#[cfg(feature = "aws-config")]
#[derive(Debug)]
pub(crate) struct DefaultChainProvider(pub(crate) Arc<DefaultChain>);

#[cfg(feature = "aws-config")]
impl ProvideCredentials for DefaultChainProvider {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            match self.0.config().await.credentials_provider() {
                Some(provider) => provider.provide_credentials().await,
                None => Err(
                    aws_credential_types::provider::error::CredentialsError::not_loaded(
                        "the default AWS credentials chain found no credentials",
                    ),
                ),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;
    use aws_credential_types::provider::error::CredentialsError;
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    #[derive(Debug)]
    struct TestClock(AtomicU64);
    impl Clock for TestClock {
        fn now(&self) -> SystemTime {
            SystemTime::UNIX_EPOCH + Duration::from_secs(self.0.load(Ordering::SeqCst))
        }
    }

    /// Hands out credentials valid for `lifetime` seconds, or fails when `failing`.
    #[derive(Debug)]
    struct Counting {
        calls: AtomicUsize,
        clock: Arc<TestClock>,
        lifetime: u64,
        failing: std::sync::atomic::AtomicBool,
    }
    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let expiry = self.clock.now() + Duration::from_secs(self.lifetime);
            let failing = self.failing.load(Ordering::SeqCst);
            aws_credential_types::provider::future::ProvideCredentials::new(async move {
                tokio::task::yield_now().await;
                if failing {
                    return Err(CredentialsError::provider_error("IMDS unreachable"));
                }
                Ok(Credentials::new(
                    format!("AKID{n}"),
                    "secret",
                    None,
                    Some(expiry),
                    "test",
                ))
            })
        }
    }

    fn setup(lifetime: u64) -> (CredentialsCache, Arc<Counting>, Arc<TestClock>) {
        let clock = Arc::new(TestClock(AtomicU64::new(1_000_000)));
        let provider = Arc::new(Counting {
            calls: AtomicUsize::new(0),
            clock: clock.clone(),
            lifetime,
            failing: false.into(),
        });
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(ProviderRef(provider.clone())),
            DEFAULT_REFRESH_AHEAD,
            Duration::from_secs(1),
            clock.clone(),
        );
        (cache, provider, clock)
    }

    #[derive(Debug)]
    struct ProviderRef(Arc<Counting>);
    impl ProvideCredentials for ProviderRef {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.0.provide_credentials()
        }
    }

    fn key(c: &Cached) -> String {
        c.identity
            .data::<Credentials>()
            .map(|c| c.access_key_id().to_owned())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn concurrent_first_use_calls_the_provider_once() {
        let (cache, provider, _) = setup(3600);
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get().await.map(|c| key(&c)) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), "AKID0");
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn refreshes_ahead_of_expiry_in_the_background() {
        let (cache, provider, clock) = setup(3600);
        assert_eq!(key(&cache.get().await.unwrap()), "AKID0");
        // Inside the refresh window but still valid: served from cache, refreshed behind.
        clock.0.fetch_add(3600 - 60, Ordering::SeqCst);
        assert_eq!(key(&cache.get().await.unwrap()), "AKID0");
        for _ in 0..100 {
            tokio::task::yield_now().await;
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
        assert_eq!(key(&cache.get().await.unwrap()), "AKID1");
    }

    #[tokio::test]
    async fn failing_refresh_keeps_serving_valid_credentials() {
        let (cache, provider, clock) = setup(3600);
        cache.get().await.unwrap();
        provider.failing.store(true, Ordering::SeqCst);
        clock.0.fetch_add(3600 - 60, Ordering::SeqCst);
        for _ in 0..10 {
            assert_eq!(key(&cache.get().await.unwrap()), "AKID0");
            tokio::task::yield_now().await;
        }
        // One failed background attempt, then quiet until the back-off passes.
        assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
        // Past expiry with the provider still failing: a typed error with its message.
        clock.0.fetch_add(120, Ordering::SeqCst);
        let err = cache.get().await.unwrap_err();
        assert!(
            matches!(&err, Error::CredentialsUnavailable { message } if message.contains("IMDS unreachable")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn hanging_provider_is_bounded_by_the_timeout() {
        #[derive(Debug)]
        struct Hangs;
        impl ProvideCredentials for Hangs {
            fn provide_credentials<'a>(
                &'a self,
            ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
            where
                Self: 'a,
            {
                aws_credential_types::provider::future::ProvideCredentials::new(
                    std::future::pending(),
                )
            }
        }
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(Hangs),
            DEFAULT_REFRESH_AHEAD,
            Duration::from_millis(50),
            Arc::new(crate::clock::SystemClock),
        );
        let err = cache.get().await.unwrap_err();
        assert!(matches!(err, Error::CredentialsTimeout(_)), "{err:?}");
    }

    #[tokio::test]
    async fn empty_keys_are_refused() {
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(Credentials::new("", "secret", None, None, "test")),
            DEFAULT_REFRESH_AHEAD,
            DEFAULT_PROVIDER_TIMEOUT,
            Arc::new(crate::clock::SystemClock),
        );
        assert!(matches!(
            cache.get().await.unwrap_err(),
            Error::EmptyCredentials
        ));
    }

    #[test]
    fn debug_shows_no_secret() {
        let cached = Cached::new(Credentials::new(
            "AKIDEXAMPLE",
            "very-secret-key",
            Some("session-token-value".into()),
            None,
            "test",
        ))
        .unwrap();
        let text = format!("{cached:?}");
        assert!(!text.contains("very-secret-key") && !text.contains("session-token-value"));
    }
}
