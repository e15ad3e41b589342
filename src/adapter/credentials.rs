//! Credentials cache: one provider call per refresh, refreshed ahead of expiry.
//!
//! `aws-config`'s providers do not cache (the SDK clients do, in their identity cache), so
//! the middleware must: a provider call per request would hit IMDS or STS thousands of
//! times a second. The hot path is one read lock and an `Arc` clone; no lock is held across
//! an await there.
//!
//! When the provider is called:
//! - nothing usable cached: one call, awaited by every request that needs it, and its
//!   answer (credentials or error) is shared by all of them;
//! - credentials past their refresh point (see [`schedule`]): one background call while
//!   every request keeps using them; one per credentials handed out, since fresh ones are
//!   never due on arrival;
//! - a background call that failed (error, timeout, panic) is not retried for
//!   `RETRY_AFTER_FAILURE`, and the still-usable credentials keep serving;
//! - a verifier refused the session token of the cached credentials (see
//!   [`CredentialsCache::reload_refused`]): one call, shared by every request refused with
//!   them, and then none for a refusal until a back-off has passed
//!   ([`refusal_backoff`]: 1 s, 2 s, 4 s… up to 5 minutes, jittered). A service that
//!   keeps refusing costs a handful of calls in its first minute and one every few minutes
//!   after, never one per request.

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;

use crate::engine::clock::SharedClock;
use crate::engine::sign::SigningCredentials;
use crate::error::{Error, ProviderMessage};

/// Refresh this long before credentials expire, at most (see [`schedule`]).
pub(crate) const DEFAULT_REFRESH_AHEAD: Duration = Duration::from_secs(5 * 60);
/// How long a provider may take before the request fails.
pub(crate) const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// After a failed background refresh, wait this long before trying again.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(10);
/// Credentials this close to expiry are not used: a request takes time to reach AWS.
/// Credentials that live less than four times this get a quarter of their lifetime.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);
/// Whatever the provider hands out is used for this long (or until it expires) before the
/// provider is called again: a provider that only has nearly expired credentials must not
/// be called per request.
const MIN_CALL_GAP: Duration = Duration::from_secs(1);
/// After a reload caused by a refused session token, no other such reload before this long
/// has passed; it doubles with each further one (see [`refusal_backoff`]).
const FIRST_REFUSAL_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two reloads caused by refusals, before jitter.
const MAX_REFUSAL_BACKOFF: Duration = Duration::from_secs(5 * 60);
/// A refusal this long after the one before starts afresh: the next reload is immediate and
/// the back-off starts again from [`FIRST_REFUSAL_BACKOFF`]. Longer than the longest
/// back-off, so that a service that keeps refusing never earns a fresh start.
const FORGET_REFUSALS_AFTER: Duration = Duration::from_secs(15 * 60);

/// Credentials ready to sign with.
#[derive(Clone)]
pub(crate) struct Cached {
    pub(crate) signing: SigningCredentials,
    pub(crate) expiry: Option<SystemTime>,
    /// Requests are signed with them until then.
    usable_until: Option<SystemTime>,
    /// A background refresh is due from then on.
    refresh_at: Option<SystemTime>,
}

impl fmt::Debug for Cached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("expiry", &self.expiry)
            .field("has_session_token", &self.signing.has_session_token())
            .field("usable_until", &self.usable_until)
            .field("refresh_at", &self.refresh_at)
            .finish_non_exhaustive()
    }
}

impl Cached {
    /// Credentials that arrived at `now`; already expired ones are refused.
    fn new(
        credentials: Credentials,
        now: SystemTime,
        refresh_ahead: Duration,
    ) -> Result<Self, Error> {
        if credentials.access_key_id().is_empty() || credentials.secret_access_key().is_empty() {
            return Err(Error::EmptyCredentials);
        }
        let expiry = credentials.expiry();
        let (usable_until, refresh_at) = match expiry {
            Some(e) if e <= now => return Err(Error::CredentialsExpired { expiry: e }),
            Some(e) => {
                let (usable, refresh) = schedule(now, e, refresh_ahead, jitter());
                (Some(usable), Some(refresh))
            }
            None => (None, None),
        };
        Ok(Self {
            expiry,
            usable_until,
            refresh_at,
            signing: SigningCredentials::from(credentials),
        })
    }

    /// The access key id signed with (not a secret: it travels in every signature).
    #[cfg(test)]
    fn access_key_id(&self) -> &str {
        self.signing.access_key_id()
    }

    fn usable_at(&self, now: SystemTime) -> bool {
        self.usable_until.is_none_or(|u| now < u)
    }

    fn due_at(&self, now: SystemTime) -> bool {
        self.refresh_at.is_some_and(|r| now >= r)
    }

    fn expired_at(&self, now: SystemTime) -> bool {
        self.expiry.is_some_and(|e| e <= now)
    }
}

/// For credentials that arrived at `now` and expire at `expiry` (later than `now`): until
/// when they sign requests, and from when a background refresh is due.
///
/// - Used until `expiry` less a margin for the trip to AWS: [`EXPIRY_MARGIN`], or a quarter
///   of their lifetime if that is less, but for at least [`MIN_CALL_GAP`] (or until expiry).
/// - Refreshed `refresh_ahead` before expiry, but never more than half their lifetime
///   ahead: credentials that live less than the refresh window are not always due. The
///   window is shortened by up to a quarter (`jitter` in `[0, 1)`) so that processes that
///   started together do not call the provider together, and a refresh is never due less
///   than [`MIN_CALL_GAP`] after the call that brought them.
///
/// Every addition and subtraction is checked: a clock or expiry at the edge of
/// `SystemTime` must not panic on the request path.
fn schedule(
    now: SystemTime,
    expiry: SystemTime,
    refresh_ahead: Duration,
    jitter: f64,
) -> (SystemTime, SystemTime) {
    let lifetime = expiry.duration_since(now).unwrap_or_default();
    let earliest_next_call = now
        .checked_add(MIN_CALL_GAP)
        .map_or(expiry, |t| t.min(expiry));
    let margin = EXPIRY_MARGIN.min(lifetime / 4);
    let usable_until = expiry
        .checked_sub(margin)
        .unwrap_or(expiry)
        .max(earliest_next_call);
    let window = refresh_ahead
        .min(lifetime / 2)
        .mul_f64(1.0 - 0.25 * jitter.clamp(0.0, 1.0));
    let refresh_at = expiry
        .checked_sub(window)
        .unwrap_or(now)
        .max(earliest_next_call);
    (usable_until, refresh_at)
}

/// A number in `[0, 1)` that differs between calls and processes, from std alone: the
/// random keys of a `RandomState` hashing the clock's nanoseconds.
fn jitter() -> f64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    // The top 53 bits: exactly representable in an f64.
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// How long after the reload number `reloads` (0 for the first) of an episode of refused
/// session tokens the next such reload may happen: [`FIRST_REFUSAL_BACKOFF`] doubled per
/// reload before, at most [`MAX_REFUSAL_BACKOFF`], times a factor in `[0.75, 1.25)` from
/// `jitter` (in `[0, 1)`) so that processes refused together do not reload together.
fn refusal_backoff(reloads: u32, jitter: f64) -> Duration {
    let doubled = 2u32
        .checked_pow(reloads)
        .and_then(|factor| FIRST_REFUSAL_BACKOFF.checked_mul(factor))
        .unwrap_or(MAX_REFUSAL_BACKOFF);
    doubled
        .min(MAX_REFUSAL_BACKOFF)
        .mul_f64(0.75 + 0.5 * jitter.clamp(0.0, 1.0))
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
    refusals: Refusals,
}

/// The session tokens a verifier refused, and the reloads they caused.
#[derive(Debug, Default)]
struct Refusals {
    /// Reloads caused by refusals in this episode: the back-off's exponent.
    reloads: u32,
    /// No reload for a refusal before this instant.
    next_reload: Option<SystemTime>,
    /// When the latest refusal came: after [`FORGET_REFUSALS_AFTER`] without one, the
    /// episode is over.
    latest: Option<SystemTime>,
    /// The cached credentials were refused and are kept (backing off, or the reload failed
    /// or brought the same ones): a request refused with older ones is not sent again with
    /// them.
    current_refused: bool,
    /// Whether the operator was told why refusals are answered until `next_reload`.
    warned: bool,
}

/// What to do about a refused session token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterRefusal {
    /// Newer credentials than the refused ones are cached: sign again with them.
    Retry,
    /// Answer the refusal: the refused credentials are backing off, or newer ones were
    /// refused too.
    Answer,
    /// The refused credentials are the cached ones and may be reloaded now.
    Reload,
}

impl AfterRefusal {
    /// Whether to send the request again, when that is decided without a provider call.
    fn decided(self) -> Option<bool> {
        match self {
            AfterRefusal::Retry => Some(true),
            AfterRefusal::Answer => Some(false),
            AfterRefusal::Reload => None,
        }
    }
}

struct Inner {
    provider: SharedCredentialsProvider,
    /// The provider's type, for logs.
    provider_name: &'static str,
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
            .field("provider_name", &self.inner.provider_name)
            .field("refresh_ahead", &self.inner.refresh_ahead)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Whether anyone waits for a provider call: it decides how loudly a failure is logged and
/// whether it backs off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Call {
    /// Requests wait for it: nothing usable is cached.
    Foreground,
    /// Requests keep using the cached credentials meanwhile.
    Background,
    /// A verifier refused the cached credentials' session token: the refused requests
    /// wait for it, to be sent again with what it brings.
    Refusal,
}

impl CredentialsCache {
    pub(crate) fn new(
        provider: SharedCredentialsProvider,
        provider_name: &'static str,
        refresh_ahead: Duration,
        timeout: Duration,
        clock: SharedClock,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                provider_name,
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
            (state.current.clone(), state.quiet(now))
        };
        if let Some(cached) = current.filter(|c| c.usable_at(now)) {
            if cached.due_at(now) && !quiet {
                self.refresh_in_background(&cached);
            }
            return Ok(cached);
        }
        // Boxed: the provider's future is large and rarely awaited.
        Box::pin(self.refresh_now()).await
    }

    /// After a verifier refused the session token of `refused` (the credentials a request
    /// was signed with, borrowed from this cache's entry: compared by address, which no
    /// other entry can share while the borrow lives): whether to sign the request again
    /// with the credentials now cached.
    ///
    /// Only credentials that are still the cached ones are reloaded: of many requests
    /// refused with the same credentials, one calls the provider and the others wait for
    /// its answer (they are then sent again with the new credentials, as are requests
    /// refused with credentials already replaced). After such a reload, refusals reload
    /// nothing until [`refusal_backoff`] has passed: they are answered, and the operator is
    /// told once why. A reload that fails, or brings the same key and token, keeps the
    /// refused credentials cached and is backed off the same way.
    pub(crate) async fn reload_refused(&self, refused: &SigningCredentials) -> bool {
        // Most refusals are decided without waiting for the lock.
        if let Some(retry) = self.inner.on_refusal(refused).decided() {
            return retry;
        }
        let _guard = self.inner.refreshing.lock().await;
        // Whoever held the lock before us may have reloaded already (then these are
        // replaced), or failed to (then they are backing off).
        if let Some(retry) = self.inner.on_refusal(refused).decided() {
            return retry;
        }
        let Ok(fresh) = self.inner.call_provider(Call::Refusal).await else {
            return false; // logged, and backing off
        };
        if fresh.signing.same_as(refused) {
            // Signing again would be refused again: the refusal is the answer.
            self.inner.write_state().refusals.current_refused = true;
            return false;
        }
        tracing::warn!(
            provider = self.inner.provider_name,
            "the verifier refused the session token: reloaded the credentials; the refused requests are signed again with them and retried once"
        );
        true
    }

    /// Starts one background refresh of `due`, unless one is running or it was replaced.
    fn refresh_in_background(&self, due: &Arc<Cached>) {
        let Ok(guard) = self.inner.refreshing.clone().try_lock_owned() else {
            return; // someone is already refreshing
        };
        {
            // A refresh may have finished between the caller's look and the lock: its
            // credentials are not due, and `due` must not be refreshed twice.
            let state = self.inner.read_state();
            let replaced = !state.current.as_ref().is_some_and(|c| Arc::ptr_eq(c, due));
            if replaced || state.quiet(self.inner.clock.now()) {
                return;
            }
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // no runtime to refresh on: the next request past expiry refreshes inline
        };
        let inner = self.inner.clone();
        runtime.spawn(async move {
            let _guard = guard;
            // Failures are logged and backed off inside.
            let _ = inner.call_provider(Call::Background).await;
        });
    }

    async fn refresh_now(&self) -> Result<Arc<Cached>, Error> {
        let calls_before = self.inner.read_state().finished_calls;
        let _guard = self.inner.refreshing.lock().await;
        // Whoever held the lock before us may have refreshed already.
        let now = self.inner.clock.now();
        {
            let state = self.inner.read_state();
            if let Some(cached) = state.current.as_ref().filter(|c| c.usable_at(now)) {
                return Ok(cached.clone());
            }
            // A provider call finished while we waited: share its answer, whatever it was,
            // rather than call the provider again (and wait again) per waiting request.
            if state.finished_calls != calls_before {
                if let Some(err) = &state.last_failure {
                    return Err(replay(err));
                }
                if let Some(cached) = state.current.as_ref().filter(|c| !c.expired_at(now)) {
                    return Ok(cached.clone());
                }
            }
        }
        self.inner.call_provider(Call::Foreground).await
    }
}

impl State {
    fn quiet(&self, now: SystemTime) -> bool {
        self.quiet_until.is_some_and(|q| now < q)
    }

    /// What to do, at `now`, about a refusal of the session token of `refused`.
    fn on_refusal(&mut self, refused: &SigningCredentials, now: SystemTime) -> AfterRefusal {
        let refusals = &mut self.refusals;
        let forgotten = refusals
            .latest
            .and_then(|latest| now.duration_since(latest).ok())
            .is_some_and(|quiet| quiet >= FORGET_REFUSALS_AFTER);
        if forgotten {
            refusals.reloads = 0;
            refusals.next_reload = None;
        }
        refusals.latest = Some(now);
        let Some(current) = &self.current else {
            return AfterRefusal::Answer; // nothing cached: nothing newer to sign with
        };
        if !std::ptr::eq(&current.signing, refused) {
            return if refusals.current_refused {
                AfterRefusal::Answer
            } else {
                AfterRefusal::Retry
            };
        }
        if refusals.next_reload.is_some_and(|next| now < next) {
            refusals.current_refused = true;
            return AfterRefusal::Answer;
        }
        AfterRefusal::Reload
    }
}

impl Inner {
    /// [`State::on_refusal`] now; tells the operator, once per back-off, why refusals are
    /// answered.
    fn on_refusal(&self, refused: &SigningCredentials) -> AfterRefusal {
        let now = self.clock.now();
        let mut state = self.write_state();
        let refusal = state.on_refusal(refused, now);
        let refusals = &mut state.refusals;
        if refusal == AfterRefusal::Answer && !refusals.warned {
            if let Some(next) = refusals.next_reload.filter(|next| now < *next) {
                refusals.warned = true;
                let reload_in = next.duration_since(now).unwrap_or_default();
                drop(state);
                tracing::warn!(
                    provider = self.provider_name,
                    reload_in_s = reload_in.as_secs_f64(),
                    "the verifier keeps refusing the session token: the credentials are not reloaded again before the back-off has passed; until then refused requests are answered with the refusal"
                );
            }
        }
        refusal
    }

    /// Calls the provider (the caller holds `refreshing`), stores the answer for everyone
    /// and tells the operator what happened.
    async fn call_provider(&self, call: Call) -> Result<Arc<Cached>, Error> {
        let started = Instant::now();
        let result = self.fetch().await;
        let took = started.elapsed();
        let now = self.clock.now();
        let result = result.and_then(|c| Cached::new(c, now, self.refresh_ahead).map(Arc::new));
        let old = {
            let mut state = self.write_state();
            state.finished_calls += 1;
            let old = state.current.clone();
            if call == Call::Refusal {
                // Whatever it brought, the next reload for a refusal waits: a refusal of
                // what it brought, or a failed reload, must not reload per request.
                let refusals = &mut state.refusals;
                let backoff = refusal_backoff(refusals.reloads, jitter());
                refusals.reloads = refusals.reloads.saturating_add(1);
                refusals.next_reload = Some(now.checked_add(backoff).unwrap_or(now));
                refusals.warned = false;
            }
            match &result {
                Ok(cached) => {
                    state.current = Some(cached.clone());
                    state.quiet_until = None;
                    state.last_failure = None;
                    state.refusals.current_refused = false; // not refused yet
                }
                Err(err) => {
                    state.last_failure = Some(replay(err));
                    // A failed reload leaves the refused credentials cached.
                    state.refusals.current_refused |= call == Call::Refusal;
                    if call == Call::Background {
                        // Overflow at the end of time: no back-off rather than a panic.
                        state.quiet_until =
                            Some(now.checked_add(RETRY_AFTER_FAILURE).unwrap_or(now));
                    }
                }
            }
            old
        };
        log_call(self.provider_name, call, &result, old.as_deref(), now, took);
        result
    }

    async fn fetch(&self) -> Result<Credentials, Error> {
        // A panic, whether in the call or in its future, fails like an error: typed for
        // the requests waiting on it, backed off in the background.
        let future =
            std::panic::catch_unwind(AssertUnwindSafe(|| self.provider.provide_credentials()))
                .map_err(|_| Error::CredentialsProviderPanicked)?;
        let result = tokio::time::timeout(self.timeout, CatchUnwind(Box::pin(future)))
            .await
            .map_err(|_| Error::CredentialsTimeout(self.timeout))?
            .map_err(|()| Error::CredentialsProviderPanicked)?;
        result.map_err(|e| Error::CredentialsUnavailable {
            message: ProviderMessage::of(e),
        })
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

/// The operator's view of one provider call: DEBUG when credentials were refreshed, WARN
/// when a background refresh failed and the cached credentials keep serving, ERROR when a
/// request is left without usable credentials. Never a key, token or signature: only the
/// provider's type name, times and the error (whose text names no secret).
fn log_call(
    provider: &'static str,
    call: Call,
    result: &Result<Arc<Cached>, Error>,
    old: Option<&Cached>,
    now: SystemTime,
    took: Duration,
) {
    let old_expires_in = ExpiresIn(old.map(|c| c.expiry), now);
    match (result, call) {
        (Ok(new), _) => tracing::debug!(
            provider,
            refresh = ?call,
            old_expires_in = %old_expires_in,
            new_expires_in = %ExpiresIn(Some(new.expiry), now),
            took_ms = took.as_millis() as u64,
            "refreshed AWS credentials"
        ),
        (Err(error), Call::Background) => tracing::warn!(
            provider,
            old_expires_in = %old_expires_in,
            took_ms = took.as_millis() as u64,
            %error,
            "refreshing AWS credentials failed; still using the cached ones until they expire"
        ),
        (Err(error), Call::Refusal) => tracing::warn!(
            provider,
            old_expires_in = %old_expires_in,
            took_ms = took.as_millis() as u64,
            %error,
            "reloading AWS credentials whose session token the verifier refused failed; the refusal is answered"
        ),
        (Err(error), Call::Foreground) => tracing::error!(
            provider,
            old_expires_in = %old_expires_in,
            took_ms = took.as_millis() as u64,
            %error,
            "no usable AWS credentials: the request is not sent"
        ),
    }
}

/// How long until an expiry, for logs: `none cached`, `never`, `42.5s`, `expired 3.0s ago`.
struct ExpiresIn(Option<Option<SystemTime>>, SystemTime);

impl fmt::Display for ExpiresIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("none cached"),
            Some(None) => f.write_str("never"),
            Some(Some(expiry)) => match expiry.duration_since(self.1) {
                Ok(left) => write!(f, "{:.1}s", left.as_secs_f64()),
                Err(e) => write!(f, "expired {:.1}s ago", e.duration().as_secs_f64()),
            },
        }
    }
}

/// Turns a panic while polling the inner future into `Err(())`.
struct CatchUnwind<F: ?Sized>(Pin<Box<F>>);

impl<F: Future + ?Sized> Future for CatchUnwind<F> {
    type Output = Result<F::Output, ()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // The panicked future is dropped, never polled again.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll.map(Ok),
            Err(_payload) => Poll::Ready(Err(())),
        }
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
        Error::CredentialsExpired { expiry } => Error::CredentialsExpired { expiry: *expiry },
        Error::CredentialsProviderPanicked => Error::CredentialsProviderPanicked,
        other => Error::CredentialsUnavailable {
            message: other.to_string().into(),
        },
    }
}

/// `aws-config`'s default credentials chain, built on first use so that building the
/// middleware is not async; also answers the default region, looked up only when a request
/// needs it.
///
/// Only the credentials chain is built, not a whole `SdkConfig`: when a middleware names a
/// region (the builder's, or a route's), the chain is told it (after `AWS_REGION` and the
/// profile's), so nothing probes IMDS for a region, which off EC2 logs a warning and can
/// stall the first request. One chain is shared by the middlewares built on one tokio
/// runtime (its connections belong to that runtime).
#[cfg(feature = "aws-config")]
#[derive(Debug, Default)]
pub(crate) struct DefaultChain {
    credentials:
        tokio::sync::OnceCell<aws_config::default_provider::credentials::DefaultCredentialsChain>,
    region: tokio::sync::OnceCell<Option<String>>,
    /// The first region a middleware sharing this chain named.
    known_region: std::sync::OnceLock<String>,
}

#[cfg(feature = "aws-config")]
impl DefaultChain {
    /// The chain of the current runtime (or of middlewares built outside any), built on
    /// first use; `known_region` is a region the middleware signs for, if it names one.
    pub(crate) fn shared(known_region: Option<&str>) -> Arc<Self> {
        type Chains = Vec<(Option<tokio::runtime::Id>, std::sync::Weak<DefaultChain>)>;
        static CHAINS: std::sync::Mutex<Chains> = std::sync::Mutex::new(Vec::new());
        let runtime = tokio::runtime::Handle::try_current().ok().map(|h| h.id());
        let mut chains = CHAINS.lock().unwrap_or_else(|p| p.into_inner());
        chains.retain(|(_, chain)| chain.strong_count() > 0);
        let chain = chains
            .iter()
            .find(|(id, _)| *id == runtime)
            .and_then(|(_, chain)| chain.upgrade())
            .unwrap_or_else(|| {
                let chain = Arc::new(DefaultChain::default());
                chains.push((runtime, Arc::downgrade(&chain)));
                chain
            });
        if let Some(region) = known_region {
            let _ = chain.known_region.set(region.to_owned());
        }
        chain
    }

    async fn credentials(
        &self,
    ) -> &aws_config::default_provider::credentials::DefaultCredentialsChain {
        use aws_config::default_provider::credentials::DefaultCredentialsChain;
        self.credentials
            .get_or_init(|| async {
                let builder = DefaultCredentialsChain::builder();
                match self.known_region.get() {
                    // The chain needs a region only for STS (web identity, SSO): the
                    // environment's or the profile's, else the one the middleware signs for.
                    Some(region) => {
                        builder
                            .region(
                                aws_config::meta::region::RegionProviderChain::first_try(
                                    aws_config::environment::EnvironmentVariableRegionProvider::new(
                                    ),
                                )
                                .or_else(aws_config::profile::ProfileFileRegionProvider::new())
                                .or_else(aws_config::Region::new(region.clone())),
                            )
                            .build()
                            .await
                    }
                    // The default region chain, looked up once for both.
                    None => {
                        let region = self.region().await.map(aws_config::Region::new);
                        builder.region(region).build().await
                    }
                }
            })
            .await
    }

    /// The region of the default chain (environment, profile, IMDS).
    pub(crate) async fn region(&self) -> Option<String> {
        self.region
            .get_or_init(|| async {
                aws_config::default_provider::region::DefaultRegionChain::builder()
                    .build()
                    .region()
                    .await
                    .map(|r| r.to_string())
            })
            .await
            .clone()
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
            self.0.credentials().await.provide_credentials().await
        })
    }
}

/// Where a route's credentials come from, when not from the middleware's provider. Routes
/// with equal sources share one cache (and one provider call per refresh): a provider
/// handed to a route is equal only to itself (its clones), a role or profile to the same
/// role or profile.
#[derive(Clone)]
pub(crate) enum Source {
    Provider {
        provider: Arc<SharedCredentialsProvider>,
        name: &'static str,
    },
    #[cfg(feature = "aws-config")]
    AssumeRole(AssumeRole),
    #[cfg(feature = "aws-config")]
    Profile(Profile),
}

impl Source {
    pub(crate) fn provider<P: ProvideCredentials + 'static>(provider: P) -> Self {
        Source::Provider {
            provider: Arc::new(SharedCredentialsProvider::new(provider)),
            name: std::any::type_name::<P>(),
        }
    }

    /// The provider to cache, and its name for logs. `base` signs the `AssumeRole` call;
    /// `region` is where STS is called when the role names no region.
    pub(crate) fn build(
        &self,
        base: &SharedCredentialsProvider,
        region: Option<&str>,
    ) -> (SharedCredentialsProvider, &'static str) {
        #[cfg(not(feature = "aws-config"))]
        let _ = (base, region); // only roles and profiles need them
        match self {
            Source::Provider { provider, name } => {
                (SharedCredentialsProvider::clone(provider), name)
            }
            #[cfg(feature = "aws-config")]
            Source::AssumeRole(role) => (role.provider(base.clone(), region), "assume role"),
            #[cfg(feature = "aws-config")]
            Source::Profile(profile) => (profile.provider(), "profile"),
        }
    }
}

impl PartialEq for Source {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Source::Provider { provider: a, .. }, Source::Provider { provider: b, .. }) => {
                Arc::ptr_eq(a, b)
            }
            #[cfg(feature = "aws-config")]
            (Source::AssumeRole(a), Source::AssumeRole(b)) => a == b,
            #[cfg(feature = "aws-config")]
            (Source::Profile(a), Source::Profile(b)) => a == b,
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }
}

impl Eq for Source {}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Provider { name, .. } => f.debug_tuple("Provider").field(name).finish(),
            #[cfg(feature = "aws-config")]
            Source::AssumeRole(role) => role.fmt(f),
            #[cfg(feature = "aws-config")]
            Source::Profile(profile) => profile.fmt(f),
        }
    }
}

/// `From<&str>` and `From<String>` by `new`, so that a role ARN or a profile name is
/// enough where nothing else needs saying.
#[cfg(feature = "aws-config")]
macro_rules! from_name {
    ($ty:ident) => {
        impl From<&str> for $ty {
            fn from(name: &str) -> Self {
                Self::new(name)
            }
        }

        impl From<String> for $ty {
            fn from(name: String) -> Self {
                Self::new(name)
            }
        }
    };
}

/// A role to assume with STS `AssumeRole`, for a route in another account
/// ([`Route::assume_role`](crate::Route::assume_role)) or for every route
/// ([`SigV4MiddlewareBuilder::assume_role`](crate::SigV4MiddlewareBuilder::assume_role)).
/// The `AssumeRole` call is signed with the middleware's credentials (its provider, or the
/// default chain), and the assumed credentials are cached and refreshed like any other.
///
/// ```
/// use std::time::Duration;
/// use reqwest_sigv4::AssumeRole;
/// let role = AssumeRole::new("arn:aws:iam::222222222222:role/orders-reader")
///     .session_name("checkout")
///     .external_id("partner-7")
///     .duration(Duration::from_secs(3600));
/// # let _ = role;
/// ```
#[cfg(feature = "aws-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssumeRole {
    role_arn: String,
    session_name: Option<String>,
    external_id: Option<String>,
    duration: Option<Duration>,
    region: Option<String>,
    endpoint_url: Option<String>,
}

#[cfg(feature = "aws-config")]
impl AssumeRole {
    /// Assume the role with this ARN.
    pub fn new(role_arn: impl Into<String>) -> Self {
        Self {
            role_arn: role_arn.into(),
            session_name: None,
            external_id: None,
            duration: None,
            region: None,
            endpoint_url: None,
        }
    }

    /// The role session name, as CloudTrail shows it (default: aws-config's
    /// `assume-role-provider-{time}`).
    pub fn session_name(mut self, name: impl Into<String>) -> Self {
        self.session_name = Some(name.into());
        self
    }

    /// The external id the role's trust policy requires.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    /// How long the assumed credentials live (STS: 15 minutes to the role's maximum;
    /// default one hour).
    pub fn duration(mut self, duration: Duration) -> Self {
        self.duration = Some(duration);
        self
    }

    /// The region whose STS endpoint is called (default: the route's region, else the
    /// builder's, else aws-config's region chain).
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// Call STS at this URL instead of its regional endpoint (an STS VPC endpoint; by
    /// default `AWS_ENDPOINT_URL_STS` and the profile's `endpoint_url` are honoured).
    pub fn endpoint_url(mut self, url: impl Into<String>) -> Self {
        self.endpoint_url = Some(url.into());
        self
    }

    pub(crate) fn provider(
        &self,
        base: SharedCredentialsProvider,
        region: Option<&str>,
    ) -> SharedCredentialsProvider {
        SharedCredentialsProvider::new(AssumedRole {
            region: self.region.clone().or(region.map(str::to_owned)),
            role: self.clone(),
            base,
            provider: tokio::sync::OnceCell::new(),
        })
    }
}

#[cfg(feature = "aws-config")]
from_name!(AssumeRole);

/// aws-config's STS provider, built on first use: building it is async (it loads an
/// `SdkConfig`) and the middleware's builder is not.
#[cfg(feature = "aws-config")]
#[derive(Debug)]
struct AssumedRole {
    role: AssumeRole,
    base: SharedCredentialsProvider,
    region: Option<String>,
    provider: tokio::sync::OnceCell<aws_config::sts::AssumeRoleProvider>,
}

#[cfg(feature = "aws-config")]
impl AssumedRole {
    async fn build(&self) -> aws_config::sts::AssumeRoleProvider {
        // With credentials and a region given, the loader starts neither the credentials
        // chain nor the region chain: nothing probes IMDS.
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .credentials_provider(self.base.clone());
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        if let Some(url) = &self.role.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let config = loader.load().await;
        let role = &self.role;
        let mut builder =
            aws_config::sts::AssumeRoleProvider::builder(role.role_arn.clone()).configure(&config);
        if let Some(name) = &role.session_name {
            builder = builder.session_name(name.clone());
        }
        if let Some(id) = &role.external_id {
            builder = builder.external_id(id.clone());
        }
        if let Some(duration) = role.duration {
            builder = builder.session_length(duration);
        }
        builder.build().await
    }
}

#[cfg(feature = "aws-config")]
impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            let provider = self.provider.get_or_init(|| self.build()).await;
            provider.provide_credentials().await
        })
    }
}

/// A named profile of the shared AWS config and credentials files
/// ([`Route::profile`](crate::Route::profile)): static keys, `role_arn` + `source_profile`,
/// `credential_process`, SSO, as aws-config reads them.
///
/// ```
/// use reqwest_sigv4::Profile;
/// let profile = Profile::new("orders-prod");
/// let from_files = Profile::new("orders-prod")
///     .config_file("/etc/app/aws-config")
///     .credentials_file("/etc/app/aws-credentials");
/// # let _ = (profile, from_files);
/// ```
#[cfg(feature = "aws-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws-config")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    name: String,
    config_file: Option<std::path::PathBuf>,
    credentials_file: Option<std::path::PathBuf>,
}

#[cfg(feature = "aws-config")]
impl Profile {
    /// The profile with this name, from the default files (`~/.aws/config`,
    /// `~/.aws/credentials`, or `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`).
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            config_file: None,
            credentials_file: None,
        }
    }

    /// Read profiles from this config file (`[profile name]` sections) instead of the
    /// default files.
    pub fn config_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.config_file = Some(path.into());
        self
    }

    /// Read profiles from this credentials file (`[name]` sections) instead of the default
    /// files.
    pub fn credentials_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.credentials_file = Some(path.into());
        self
    }

    #[allow(deprecated)] // `ProfileFiles` is aws-runtime's `EnvConfigFiles`, not a dependency
    fn provider(&self) -> SharedCredentialsProvider {
        use aws_config::profile::profile_file::{ProfileFileKind, ProfileFiles};
        let mut builder =
            aws_config::profile::ProfileFileCredentialsProvider::builder().profile_name(&self.name);
        if self.config_file.is_some() || self.credentials_file.is_some() {
            let mut files = ProfileFiles::builder();
            if let Some(path) = &self.config_file {
                files = files.with_file(ProfileFileKind::Config, path);
            }
            if let Some(path) = &self.credentials_file {
                files = files.with_file(ProfileFileKind::Credentials, path);
            }
            builder = builder.profile_files(files.build());
        }
        SharedCredentialsProvider::new(builder.build())
    }
}

#[cfg(feature = "aws-config")]
from_name!(Profile);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::clock::Clock;
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
            "test provider",
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
        c.access_key_id().to_owned()
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
        // Once it has passed (to the second), one more attempt.
        clock
            .0
            .fetch_add(RETRY_AFTER_FAILURE.as_secs(), Ordering::SeqCst);
        assert_eq!(key(&cache.get().await.unwrap()), "AKID0");
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 3);
        // Past expiry with the provider still failing: a typed error with its message.
        clock.0.fetch_add(120, Ordering::SeqCst);
        let err = cache.get().await.unwrap_err();
        assert!(
            matches!(&err, Error::CredentialsUnavailable { message } if message.contains("IMDS unreachable")),
            "{err:?}"
        );
    }

    /// Requests that waited for a provider call that failed share its error: one call,
    /// not one per waiting request.
    #[tokio::test]
    async fn requests_waiting_for_a_failed_call_share_its_error() {
        let (cache, provider, _) = setup(3600);
        provider.failing.store(true, Ordering::SeqCst);
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get().await.map(|_| ()) })
            })
            .collect();
        for t in tasks {
            let err = t.await.unwrap().unwrap_err();
            assert!(
                matches!(&err, Error::CredentialsUnavailable { message } if message.contains("IMDS unreachable")),
                "{err:?}"
            );
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 1);
    }

    /// A request that waited while another one called the provider takes what that call
    /// brought, even past its usable point, rather than call again; never expired ones.
    #[tokio::test]
    async fn a_waiting_request_shares_what_the_call_before_it_brought_unless_expired() {
        for (waited, shared) in [(17, true), (25, false)] {
            let (cache, provider, clock) = setup(3600);
            let in_flight = cache.inner.refreshing.clone();
            let guard = in_flight.lock().await;
            let waiting = tokio::spawn({
                let cache = cache.clone();
                async move { cache.get().await.map(|c| key(&c)) }
            });
            for _ in 0..10 {
                tokio::task::yield_now().await;
            }
            // The call it waits for brings credentials for 20 s, usable for 15 s.
            let arrived = clock.now();
            let brought = Credentials::new(
                "BROUGHT",
                "secret",
                None,
                Some(arrived + Duration::from_secs(20)),
                "test",
            );
            {
                let mut state = cache.inner.write_state();
                state.current = Some(Arc::new(
                    Cached::new(brought, arrived, DEFAULT_REFRESH_AHEAD).unwrap(),
                ));
                state.finished_calls += 1;
            }
            clock.0.fetch_add(waited, Ordering::SeqCst);
            drop(guard);
            let got = waiting.await.unwrap().unwrap();
            let calls = provider.calls.load(Ordering::SeqCst);
            if shared {
                assert_eq!((got.as_str(), calls), ("BROUGHT", 0), "after {waited} s");
            } else {
                assert_eq!((got.as_str(), calls), ("AKID0", 1), "after {waited} s");
            }
        }
    }

    /// A background refresh of credentials already replaced is not started: a refresh that
    /// finished between the caller's look and the lock must not be followed by another.
    #[tokio::test]
    async fn replaced_credentials_are_not_refreshed_again() {
        let (cache, provider, clock) = setup(3600);
        let first = cache.get().await.unwrap();
        clock.0.fetch_add(3600 - 60, Ordering::SeqCst);
        cache.get().await.unwrap();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(key(&cache.get().await.unwrap()), "AKID1");
        cache.refresh_in_background(&first);
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
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
            "test provider",
            DEFAULT_REFRESH_AHEAD,
            Duration::from_millis(50),
            Arc::new(crate::engine::clock::SystemClock),
        );
        let err = cache.get().await.unwrap_err();
        assert!(matches!(err, Error::CredentialsTimeout(_)), "{err:?}");
    }

    #[tokio::test]
    async fn empty_keys_are_refused() {
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(Credentials::new("", "secret", None, None, "test")),
            "test provider",
            DEFAULT_REFRESH_AHEAD,
            DEFAULT_PROVIDER_TIMEOUT,
            Arc::new(crate::engine::clock::SystemClock),
        );
        assert!(matches!(
            cache.get().await.unwrap_err(),
            Error::EmptyCredentials
        ));
    }

    #[test]
    fn schedule_fits_the_lifetime() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let at = |secs: u64| now + Duration::from_secs(secs);
        let ms = |millis: u64| now + Duration::from_millis(millis);
        // One hour: 10 s margin; refreshed 5 minutes ahead, or 3 min 45 s at full jitter.
        let hour = at(3600);
        assert_eq!(
            schedule(now, hour, DEFAULT_REFRESH_AHEAD, 0.0),
            (at(3590), at(3300))
        );
        let (_, late) = schedule(now, hour, DEFAULT_REFRESH_AHEAD, 0.999_999);
        assert!(late > at(3374) && late < at(3376), "{late:?}");
        // 20 s: a quarter of the lifetime as margin, refreshed at half of it (less jitter).
        let twenty = at(20);
        assert_eq!(
            schedule(now, twenty, DEFAULT_REFRESH_AHEAD, 0.0),
            (at(15), at(10))
        );
        assert_eq!(
            schedule(now, twenty, DEFAULT_REFRESH_AHEAD, 0.5),
            (at(15), ms(11_250))
        );
        // 2 s left on arrival: used for 1.5 s, refreshed no sooner than 1 s after the call.
        let two = at(2);
        assert_eq!(
            schedule(now, two, DEFAULT_REFRESH_AHEAD, 0.0),
            (ms(1_500), at(1))
        );
        // 400 ms left: used until they expire, never refreshed in the background before.
        let short = ms(400);
        assert_eq!(
            schedule(now, short, DEFAULT_REFRESH_AHEAD, 0.0),
            (short, short)
        );
        // A refresh-ahead of zero: no background refresh before the margin.
        assert_eq!(schedule(now, hour, Duration::ZERO, 0.0), (at(3590), hour));
        // A huge refresh-ahead is capped by the lifetime.
        assert_eq!(
            schedule(now, hour, Duration::MAX, 0.0),
            (at(3590), at(1800))
        );
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let samples: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(
            samples.iter().all(|j| (0.0..1.0).contains(j)),
            "{samples:?}"
        );
        let mut distinct = samples.clone();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        assert!(distinct.len() > 32, "{samples:?}");
    }

    /// A clock at the edge of `SystemTime`: adding the margin or the back-off to it
    /// overflows. The cache must answer (credentials or a typed error), never panic.
    #[tokio::test]
    async fn a_clock_at_the_end_of_time_does_not_panic() {
        let end = SystemTime::UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 - 5);
        assert!(end.checked_add(EXPIRY_MARGIN).is_none());
        let (cache, provider, clock) = setup(1);
        clock.0.store(i64::MAX as u64 - 5, Ordering::SeqCst);
        assert_eq!(cache.inner.clock.now(), end);
        assert_eq!(key(&cache.get().await.unwrap()), "AKID0");
        assert_eq!(key(&cache.get().await.unwrap()), "AKID0");
        // At their expiry with the provider failing: a typed error.
        provider.failing.store(true, Ordering::SeqCst);
        clock.0.fetch_add(1, Ordering::SeqCst);
        let err = cache.get().await.unwrap_err();
        assert!(
            matches!(err, Error::CredentialsUnavailable { .. }),
            "{err:?}"
        );
    }

    /// Middlewares built on one runtime share one default chain (built once, on first
    /// use); another runtime gets its own, whose connections it owns.
    #[cfg(feature = "aws-config")]
    #[test]
    fn one_default_chain_per_runtime() {
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap()
        };
        let (first, second) = (runtime(), runtime());
        let a = first.block_on(async { DefaultChain::shared(Some("eu-west-1")) });
        let b = first.block_on(async { DefaultChain::shared(None) });
        let c = second.block_on(async { DefaultChain::shared(Some("us-east-1")) });
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(b.known_region.get().map(String::as_str), Some("eu-west-1"));
        assert_eq!(c.known_region.get().map(String::as_str), Some("us-east-1"));
    }

    #[test]
    fn refusal_backoff_doubles_up_to_its_cap_with_a_quarter_of_jitter() {
        let secs = Duration::from_secs;
        // A jitter of one half is a factor of one: the schedule itself.
        let schedule: Vec<Duration> = (0..10).map(|n| refusal_backoff(n, 0.5)).collect();
        let expected = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300].map(secs);
        assert_eq!(schedule, expected);
        assert_eq!(refusal_backoff(u32::MAX, 0.5), MAX_REFUSAL_BACKOFF);
        // Three quarters to five quarters of it.
        assert_eq!(refusal_backoff(0, 0.0), Duration::from_millis(750));
        assert_eq!(refusal_backoff(40, 0.0), secs(225));
        let late = refusal_backoff(1, 0.999_999);
        assert!(late > Duration::from_millis(2_499) && late < Duration::from_millis(2_500));
        // Out-of-range jitter is clamped.
        assert_eq!(refusal_backoff(0, 7.0), Duration::from_millis(1_250));
        assert_eq!(refusal_backoff(0, -1.0), Duration::from_millis(750));
    }

    /// Whether a request refused with `refused` is sent again.
    async fn refused(cache: &CredentialsCache, refused: &Arc<Cached>) -> bool {
        cache.reload_refused(&refused.signing).await
    }

    #[tokio::test]
    async fn concurrent_refusals_of_the_same_credentials_reload_once_and_all_retry() {
        let (cache, provider, _) = setup(3600);
        let first = cache.get().await.unwrap();
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (cache, first) = (cache.clone(), first.clone());
                tokio::spawn(async move { refused(&cache, &first).await })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap(), "sent again with the reloaded credentials");
        }
        assert_eq!(provider.calls.load(Ordering::SeqCst), 2);
        assert_eq!(key(&cache.get().await.unwrap()), "AKID1");
    }

    #[tokio::test]
    async fn reloaded_credentials_refused_again_back_off_and_the_back_off_grows() {
        let (cache, provider, clock) = setup(3600);
        let calls = || provider.calls.load(Ordering::SeqCst);
        let first = cache.get().await.unwrap();
        assert!(refused(&cache, &first).await);
        let second = cache.get().await.unwrap();
        assert_eq!((key(&second), calls()), ("AKID1".to_owned(), 2));
        for _ in 0..100 {
            assert!(!refused(&cache, &second).await);
        }
        // Refused with the first ones, answered late: not sent again with credentials that
        // were refused too.
        assert!(!refused(&cache, &first).await);
        assert_eq!(calls(), 2, "no reload within the back-off");
        // The first back-off (1 s, jittered by a quarter) has passed: one more reload.
        clock.0.fetch_add(2, Ordering::SeqCst);
        assert!(refused(&cache, &second).await);
        let third = cache.get().await.unwrap();
        assert_eq!((key(&third), calls()), ("AKID2".to_owned(), 3));
        // The second one is 1.5 s to 2.5 s.
        clock.0.fetch_add(1, Ordering::SeqCst);
        assert!(!refused(&cache, &third).await);
        assert_eq!(calls(), 3);
        clock.0.fetch_add(2, Ordering::SeqCst);
        assert!(refused(&cache, &third).await);
        assert_eq!(calls(), 4);
    }

    #[tokio::test]
    async fn a_failed_reload_keeps_the_refused_credentials_and_backs_off() {
        let (cache, provider, clock) = setup(3600);
        let calls = || provider.calls.load(Ordering::SeqCst);
        let first = cache.get().await.unwrap();
        assert!(refused(&cache, &first).await);
        let second = cache.get().await.unwrap();
        clock.0.fetch_add(2, Ordering::SeqCst);
        provider.failing.store(true, Ordering::SeqCst);
        assert!(!refused(&cache, &second).await);
        // Refused with the first ones, answered late: not sent again with the second ones,
        // which were refused too.
        assert!(!refused(&cache, &first).await);
        for _ in 0..10 {
            assert!(!refused(&cache, &second).await);
        }
        assert_eq!(calls(), 3, "one failed reload, then none per refusal");
        assert_eq!(key(&cache.get().await.unwrap()), "AKID1");
        // The second back-off (at most 2.5 s) has passed and the provider is back.
        clock.0.fetch_add(3, Ordering::SeqCst);
        provider.failing.store(false, Ordering::SeqCst);
        assert!(refused(&cache, &second).await);
        assert_eq!(key(&cache.get().await.unwrap()), "AKID3");
    }

    /// Hands out the access key id `AKIDSAME`, with a new session token per call when
    /// `new_tokens`, else always the same one (static keys).
    #[derive(Debug)]
    struct SameKey {
        calls: Arc<AtomicUsize>,
        new_tokens: bool,
    }
    impl ProvideCredentials for SameKey {
        fn provide_credentials<'a>(
            &'a self,
        ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            let token = if self.new_tokens { n } else { 0 };
            let credentials = Credentials::new(
                "AKIDSAME",
                "secret",
                Some(format!("token-{token}")),
                None,
                "t",
            );
            aws_credential_types::provider::future::ProvideCredentials::new(async move {
                tokio::task::yield_now().await;
                Ok(credentials)
            })
        }
    }

    fn same_key(new_tokens: bool) -> (CredentialsCache, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let provider = SameKey {
            calls: calls.clone(),
            new_tokens,
        };
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(provider),
            "test provider",
            DEFAULT_REFRESH_AHEAD,
            DEFAULT_PROVIDER_TIMEOUT,
            Arc::new(TestClock(AtomicU64::new(1_000_000))),
        );
        (cache, calls)
    }

    #[tokio::test]
    async fn a_provider_with_the_same_credentials_is_not_asked_per_refusal() {
        let (cache, calls) = same_key(false);
        let first = cache.get().await.unwrap();
        // The provider is asked once, and the same key and token are not sent again.
        for _ in 0..10 {
            assert!(!refused(&cache, &first).await);
        }
        assert!(!refused(&cache, &cache.get().await.unwrap()).await);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    /// The refused credentials are told apart from their replacement by the cache entry,
    /// not by the access key id: a provider may hand out the same key id with a new token.
    #[tokio::test]
    async fn a_new_token_under_the_same_key_id_is_a_replacement() {
        let (cache, calls) = same_key(true);
        let first = cache.get().await.unwrap();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let (cache, first) = (cache.clone(), first.clone());
                tokio::spawn(async move { refused(&cache, &first).await })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap(), "sent again with the new token");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        let second = cache.get().await.unwrap();
        assert_eq!(key(&second), "AKIDSAME");
        assert!(!second.signing.same_as(&first.signing));
    }

    #[tokio::test]
    async fn a_refusal_long_after_the_last_one_starts_the_back_off_afresh() {
        let (cache, provider, clock) = setup(24 * 3600);
        let calls = || provider.calls.load(Ordering::SeqCst);
        // Four reloads, each once the back-off before it passed (1 s, 2 s, 4 s, each at
        // most a quarter longer): the next one waits 8 s (6 s to 10 s).
        for wait in [0, 2, 3, 5] {
            clock.0.fetch_add(wait, Ordering::SeqCst);
            assert!(refused(&cache, &cache.get().await.unwrap()).await);
        }
        assert_eq!(calls(), 5);
        clock.0.fetch_add(5, Ordering::SeqCst);
        assert!(!refused(&cache, &cache.get().await.unwrap()).await);
        // Quiet for 15 minutes: the next refusal reloads at once, and the back-off after it
        // is the first one again (at most 1.25 s).
        clock.0.fetch_add(15 * 60, Ordering::SeqCst);
        assert!(refused(&cache, &cache.get().await.unwrap()).await);
        clock.0.fetch_add(2, Ordering::SeqCst);
        assert!(refused(&cache, &cache.get().await.unwrap()).await);
        assert_eq!(calls(), 7);
    }

    /// A service that keeps refusing never earns a fresh start: refusals further apart
    /// than the longest back-off (5 minutes, a quarter more with jitter) but closer than
    /// the quiet that ends an episode keep its back-off growing.
    #[tokio::test]
    async fn refusals_further_apart_than_any_back_off_are_still_one_episode() {
        let (cache, provider, clock) = setup(24 * 3600);
        let calls = || provider.calls.load(Ordering::SeqCst);
        for wait in [0, 2, 3, 5] {
            clock.0.fetch_add(wait, Ordering::SeqCst);
            assert!(refused(&cache, &cache.get().await.unwrap()).await);
        }
        clock.0.fetch_add(10 * 60, Ordering::SeqCst);
        assert!(refused(&cache, &cache.get().await.unwrap()).await);
        // The back-off after this fifth reload is 16 s (12 s to 20 s), not the first one.
        clock.0.fetch_add(2, Ordering::SeqCst);
        assert!(!refused(&cache, &cache.get().await.unwrap()).await);
        assert_eq!(calls(), 6);
    }

    #[test]
    fn a_refusal_when_the_back_off_ends_reloads() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let cached = Arc::new(
            Cached::new(
                Credentials::new("AKID", "secret", None, None, "test"),
                now,
                DEFAULT_REFRESH_AHEAD,
            )
            .unwrap(),
        );
        let mut state = State {
            current: Some(cached.clone()),
            ..State::default()
        };
        state.refusals.next_reload = Some(now + Duration::from_secs(1));
        assert_eq!(
            state.on_refusal(&cached.signing, now + Duration::from_millis(999)),
            AfterRefusal::Answer
        );
        assert_eq!(
            state.on_refusal(&cached.signing, now + Duration::from_secs(1)),
            AfterRefusal::Reload
        );
    }

    #[test]
    fn debug_shows_no_secret() {
        let cached = Cached::new(
            Credentials::new(
                "AKIDEXAMPLE",
                "very-secret-key",
                Some("session-token-value".into()),
                None,
                "test",
            ),
            SystemTime::now(),
            DEFAULT_REFRESH_AHEAD,
        )
        .unwrap();
        let text = format!("{cached:?}");
        assert!(!text.contains("very-secret-key") && !text.contains("session-token-value"));
        assert!(text.contains("has_session_token: true"), "{text}");
        let cache = CredentialsCache::new(
            SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "very-secret-key",
                Some("session-token-value".into()),
                None,
                "test",
            )),
            "test provider",
            DEFAULT_REFRESH_AHEAD,
            DEFAULT_PROVIDER_TIMEOUT,
            Arc::new(crate::engine::clock::SystemClock),
        );
        let text = format!("{cache:?}");
        assert!(!text.contains("very-secret-key") && !text.contains("session-token-value"));
        assert!(text.contains("test provider"), "{text}");
    }
}
