//! The credentials cache (issues 11 and 17): credentials that arrive nearly or already
//! expired, providers that panic, the refresh cadence for any credential lifetime, what
//! an operator sees in the logs, and session tokens a verifier keeps refusing. Time is the test's clock (`TestClock`), moved by hand;
//! every signature that reaches the in-stack responder is checked with the crate's
//! independent verifier.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use reqwest_middleware::ClientWithMiddleware;
use reqwest_sigv4::canonical::parse_amz_date;
use reqwest_sigv4::verify::ReceivedRequest;
use reqwest_sigv4::{Cause, Clock, Error, Explanation, Route, SigV4Middleware};
use support::credentials::{
    burst, canned_client, eventually, rotating_signer, Canned, Rig, Rotating, TestClock, TokenGate,
    LOAD_BASE, MODE_FAIL, MODE_OK, MODE_PANIC,
};
use support::{example_credentials, EXAMPLE_SECRET_KEY};

/// One request through `client`; its status, or the crate's error.
async fn one(client: &ClientWithMiddleware) -> Result<u16, String> {
    match client.get(format!("{LOAD_BASE}/prod/items")).send().await {
        Ok(r) => Ok(r.status().as_u16()),
        Err(e) => Err(match Error::from_middleware(&e) {
            Some(err) => format!("{err:?}"),
            None => e.to_string(),
        }),
    }
}

/// Lets spawned tasks (a background refresh) run on a current-thread runtime.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

/// Every received request verifies with the credentials the provider handed out, and was
/// signed while those credentials were valid (by at least `margin`).
fn assert_signed_while_valid(provider: &Rotating, received: &[ReceivedRequest], margin: Duration) {
    let issued = provider.issued();
    let verifier = provider.verifier();
    for r in received {
        let verified = verifier
            .verify(r)
            .unwrap_or_else(|e| panic!("{} refused:\n{e}", r.target()));
        let creds = issued
            .iter()
            .find(|c| c.access_key_id() == verified.access_key_id)
            .expect("issued credentials");
        let signed_at = parse_amz_date(&verified.amz_date).expect("X-Amz-Date");
        let expiry = creds.expiry().expect("expiring credentials");
        assert!(
            signed_at + margin <= expiry,
            "{} signed at {} with {} expiring at {:?}",
            r.target(),
            verified.amz_date,
            verified.access_key_id,
            expiry
        );
    }
}

// ---------------------------------------------------------------------------------------
// Issue 11, item 1: credentials unusable on arrival
// ---------------------------------------------------------------------------------------

/// A provider whose credentials expire within seconds (inside the 10-second margin): 1,000
/// concurrent requests share one provider call and are all signed with them, and 1,000 more
/// at the same instant call nothing (before: one call per request, one after another).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_expiring_within_seconds_are_used_without_a_call_per_request() {
    let Rig {
        clock: _,
        provider,
        canned,
        client,
    } = Rig::new(Duration::from_secs(3));

    assert_eq!(burst(&client, 1000).await, Vec::<String>::new());
    assert_eq!(
        provider.calls(),
        1,
        "one call shared by every waiting request"
    );
    assert_eq!(burst(&client, 1000).await, Vec::<String>::new());
    assert_eq!(provider.calls(), 1, "still valid: no call per request");

    assert_eq!(canned.count(), 2000);
    // Valid when signed (the clock has not moved: three seconds left).
    assert_signed_while_valid(&provider, &canned.received(), Duration::from_secs(3));
}

/// A provider that answers credentials already expired: every waiting request shares that
/// one answer, a typed `CredentialsExpired` naming the expiry; nothing is signed or sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn already_expired_credentials_are_a_typed_error_and_nothing_is_sent() {
    let clock = TestClock::starting_now();
    let provider = Rotating::new(clock.clone(), Duration::from_secs(3600));
    provider.set_expired_by(Duration::from_secs(30));
    // Slow enough that all 50 requests are waiting for the same call.
    provider.set_delay(Duration::from_millis(300));
    let canned = Canned::default();
    let client = canned_client(rotating_signer(&provider, &clock), &canned);

    let failures = burst(&client, 50).await;
    assert_eq!(failures.len(), 50, "{failures:?}");
    assert_eq!(
        provider.calls(),
        1,
        "one provider call for 50 waiting requests"
    );
    assert_eq!(canned.count(), 0, "nothing may be sent");
    let expiry = provider.issued()[0].expiry().unwrap();
    assert_eq!(expiry, clock.now() - Duration::from_secs(30));
    for f in &failures {
        assert!(
            f.contains("expired at") && f.contains("already past"),
            "{f}"
        );
    }

    let err = client
        .get(format!("{LOAD_BASE}/prod/x"))
        .send()
        .await
        .unwrap_err();
    match Error::from_middleware(&err) {
        Some(Error::CredentialsExpired { expiry: e }) => {
            assert_eq!(*e, clock.now() - Duration::from_secs(30))
        }
        other => panic!("expected CredentialsExpired, got {other:?}"),
    }
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(
            !shown.contains(EXAMPLE_SECRET_KEY) && !shown.contains("session-token"),
            "{shown}"
        );
    }
    assert_eq!(canned.count(), 0, "nothing may be sent");
}

// ---------------------------------------------------------------------------------------
// Issue 11, item 2: a provider that panics
// ---------------------------------------------------------------------------------------

/// A panic in a background refresh backs off like an error: one attempt, then quiet for
/// the back-off (before: a new attempt on nearly every request), and every request is
/// served with the still-valid credentials meanwhile.
#[tokio::test]
async fn panicking_background_refresh_backs_off_like_an_error() {
    let lifetime = Duration::from_secs(15 * 60);
    let Rig {
        clock,
        provider,
        canned,
        client,
    } = Rig::new(lifetime);
    let t0 = clock.now();
    assert_eq!(one(&client).await, Ok(200));

    provider.set_mode(MODE_PANIC);
    clock.set(t0 + lifetime - Duration::from_secs(60));
    for _ in 0..300 {
        assert_eq!(one(&client).await, Ok(200));
        settle().await;
    }
    assert_eq!(
        provider.calls(),
        2,
        "one panicked attempt, then the back-off"
    );

    // After the back-off (10 s), one more attempt, again followed by quiet.
    clock.set(t0 + lifetime - Duration::from_secs(49));
    for _ in 0..50 {
        assert_eq!(one(&client).await, Ok(200));
        settle().await;
    }
    assert_eq!(provider.calls(), 3);
    assert_signed_while_valid(&provider, &canned.received(), Duration::from_secs(10));
}

/// A panic in a foreground load (nothing cached) is a typed error in the caller's task,
/// not a panic there; concurrent waiters share it; nothing is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_provider_with_nothing_cached_is_a_typed_error() {
    let Rig {
        clock: _,
        provider,
        canned,
        client,
    } = Rig::new(Duration::from_secs(3600));
    provider.set_mode(MODE_PANIC);
    provider.set_delay(Duration::from_millis(200));

    let lone = {
        let client = client.clone();
        tokio::spawn(async move { one(&client).await })
    };
    let answer = lone.await.expect("the caller's task must not panic");
    assert_eq!(answer, Err("CredentialsProviderPanicked".to_owned()));

    let calls_before = provider.calls();
    let failures = burst(&client, 20).await;
    assert_eq!(failures.len(), 20);
    assert!(
        failures.iter().all(|f| f.contains("provider panicked")),
        "{failures:?}"
    );
    assert_eq!(provider.calls() - calls_before, 1, "waiters share the call");
    assert_eq!(canned.count(), 0, "nothing may be sent");

    // The provider recovers: the next request is signed.
    provider.set_mode(MODE_OK);
    provider.set_delay(Duration::ZERO);
    assert_eq!(one(&client).await, Ok(200));
}

// ---------------------------------------------------------------------------------------
// Issue 17, item 1: a refresh cadence that fits any credential lifetime
// ---------------------------------------------------------------------------------------

/// Drives `client` through `total` of simulated time in `step`s, one request per step,
/// letting any background refresh run between steps. Returns the failures.
async fn drive(
    client: &ClientWithMiddleware,
    clock: &TestClock,
    total: Duration,
    step: Duration,
) -> Vec<String> {
    let end = clock.now() + total;
    let mut failures = Vec::new();
    while clock.now() < end {
        if let Err(e) = one(client).await {
            failures.push(e);
        }
        settle().await;
        clock.set(clock.now() + step);
    }
    failures
}

/// Drives fresh credentials living `lifetime` through `total` in `step`s (see [`drive`]),
/// asserts that no request failed, and that each credentials handed out was replaced
/// between `min_gap` and `max_gap` (plus a step) after the previous ones arrived.
async fn assert_cadence(
    lifetime: Duration,
    total: Duration,
    step: Duration,
    (min_gap, max_gap): (Duration, Duration),
) -> Rig {
    let rig = Rig::new(lifetime);
    let failures = drive(&rig.client, &rig.clock, total, step).await;
    assert_eq!(failures, Vec::<String>::new());
    let arrivals: Vec<SystemTime> = rig
        .provider
        .issued()
        .iter()
        .map(|c| c.expiry().unwrap() - lifetime)
        .collect();
    for pair in arrivals.windows(2) {
        let gap = pair[1].duration_since(pair[0]).unwrap();
        assert!(
            gap >= min_gap && gap <= max_gap + step,
            "refreshed {gap:?} after the previous credentials arrived"
        );
    }
    rig
}

/// Credentials that live 20 s (less than the 5-minute refresh-ahead): refreshed once per
/// rotation, in the background, between half and three eighths of their lifetime before
/// expiry (jitter), never used in their last quarter; no request fails or waits. Before:
/// always "due", so a refresh started after every request.
#[tokio::test]
async fn twenty_second_credentials_are_refreshed_once_per_rotation() {
    let lifetime = Duration::from_secs(20);
    let gaps = (Duration::from_secs(10), Duration::from_millis(12_500));
    let step = Duration::from_millis(100);
    let rig = assert_cadence(lifetime, Duration::from_secs(120), step, gaps).await;
    // 120 s of 20-second credentials refreshed every 10–12.5 s: 10 to 12 refreshes.
    let calls = rig.provider.calls();
    assert!(
        (10..=13).contains(&calls),
        "{calls} provider calls in 120 s"
    );
    assert_eq!(rig.canned.count(), 1200);
    assert_signed_while_valid(&rig.provider, &rig.canned.received(), lifetime / 4);
}

/// One-hour credentials: one provider call per hour (5 minutes ahead, less up to a quarter
/// of that by jitter).
#[tokio::test]
async fn hour_long_credentials_are_refreshed_once_per_hour() {
    let gaps = (
        Duration::from_secs(55 * 60),
        Duration::from_secs(56 * 60 + 15),
    );
    let step = Duration::from_secs(5);
    let hour = Duration::from_secs(3600);
    let rig = assert_cadence(hour, 3 * hour, step, gaps).await;
    assert_eq!(rig.provider.calls(), 4, "cold start, then once per hour");
    let margin = Duration::from_secs(10);
    assert_signed_while_valid(&rig.provider, &rig.canned.received(), margin);
}

/// A provider whose credentials always arrive with 3 s left: each set signs requests for
/// its first three quarters and is refreshed in the background at half-life (less jitter),
/// one call per set, never a call per request and never a wait.
#[tokio::test]
async fn credentials_arriving_with_seconds_left_are_refreshed_once_each() {
    let lifetime = Duration::from_secs(3);
    let gaps = (Duration::from_millis(1_500), Duration::from_millis(1_875));
    let step = Duration::from_millis(100);
    let rig = assert_cadence(lifetime, Duration::from_secs(30), step, gaps).await;
    let calls = rig.provider.calls();
    assert!((15..=21).contains(&calls), "{calls} provider calls in 30 s");
    assert_eq!(rig.canned.count(), 300);
    assert_signed_while_valid(&rig.provider, &rig.canned.received(), lifetime / 4);
}

/// Processes that fetched their credentials at the same instant do not refresh at the same
/// instant: the refresh point is jittered over the last quarter of the window.
#[tokio::test]
async fn refresh_points_are_jittered_between_caches() {
    let clock = TestClock::starting_now();
    let lifetime = Duration::from_secs(3600);
    let t0 = clock.now();
    let mut fleet = Vec::new();
    for _ in 0..50 {
        let provider = Rotating::new(clock.clone(), lifetime);
        let client = canned_client(rotating_signer(&provider, &clock), &Canned::default());
        assert_eq!(one(&client).await, Ok(200));
        fleet.push((provider, client));
    }
    // Step through the refresh window; note when each cache called its provider again.
    let step = Duration::from_secs(5);
    let mut refreshed_at = vec![None; fleet.len()];
    clock.set(t0 + lifetime - Duration::from_secs(5 * 60 + 10));
    while clock.now() < t0 + lifetime - Duration::from_secs(3 * 60) {
        for (i, (provider, client)) in fleet.iter().enumerate() {
            assert_eq!(one(client).await, Ok(200));
            settle().await;
            if refreshed_at[i].is_none() && provider.calls() == 2 {
                refreshed_at[i] = Some(clock.now().duration_since(t0).unwrap());
            }
        }
        clock.set(clock.now() + step);
    }
    let mut times: Vec<Duration> = refreshed_at
        .into_iter()
        .map(|t| t.expect("every cache refreshed in the window"))
        .collect();
    for t in &times {
        assert!(
            *t >= Duration::from_secs(55 * 60) && *t <= Duration::from_secs(56 * 60 + 15) + step,
            "{t:?}"
        );
    }
    times.sort();
    times.dedup();
    assert!(
        times.len() >= 5,
        "50 caches refreshed at only {} distinct instants",
        times.len()
    );
}

/// `credentials_refresh_ahead` is still honoured when it is the smaller bound.
#[tokio::test]
async fn configured_refresh_ahead_bounds_the_window() {
    let clock = TestClock::starting_now();
    let lifetime = Duration::from_secs(3600);
    let provider = Rotating::new(clock.clone(), lifetime);
    let signer = SigV4Middleware::builder()
        .route(Route::direct(LOAD_BASE))
        .credentials_provider(provider.clone())
        .clock(clock.clone())
        .credentials_refresh_ahead(Duration::from_secs(60))
        .build()
        .unwrap();
    let client = canned_client(signer, &Canned::default());
    let t0 = clock.now();
    assert_eq!(one(&client).await, Ok(200));
    // Two minutes before expiry: not due yet with a one-minute window.
    clock.set(t0 + lifetime - Duration::from_secs(120));
    assert_eq!(one(&client).await, Ok(200));
    settle().await;
    assert_eq!(provider.calls(), 1);
    // 40 s before expiry: due whatever the jitter (45–60 s ahead).
    clock.set(t0 + lifetime - Duration::from_secs(40));
    assert_eq!(one(&client).await, Ok(200));
    settle().await;
    assert_eq!(provider.calls(), 2);
}

// ---------------------------------------------------------------------------------------
// Issue 17, item 3: what an operator sees
// ---------------------------------------------------------------------------------------

/// Log lines written on this thread while a test captures them.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn take(&self) -> String {
        let text = self.text();
        self.0.lock().unwrap().clear();
        text
    }
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<Captured>> = const { std::cell::RefCell::new(None) };
}

/// Writes to this thread's capture, if any, else nowhere.
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|c| {
            if let Some(c) = &*c.borrow() {
                c.0.lock().unwrap().extend_from_slice(buf);
            }
        });
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures this thread's DEBUG-and-above events from now on. The subscriber is global,
/// not a thread's default: with a thread-local one, other tests' threads meeting a callsite
/// with no subscriber cache "never" for it, and events go missing at random.
fn capture_logs() -> Captured {
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_writer(|| ThreadWriter)
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
    });
    let captured = Captured::default();
    CAPTURE.with(|c| *c.borrow_mut() = Some(captured.clone()));
    captured
}

/// DEBUG when credentials are refreshed (provider, time left on the old ones, how long the
/// call took), WARN when a background refresh fails and the old ones keep serving, ERROR
/// when none are usable; and in all of the crate's output at DEBUG, no secret key, session
/// token or signature.
#[tokio::test]
async fn refresh_events_tell_the_operator_what_happened_and_no_secret() {
    let captured = capture_logs();

    let lifetime = Duration::from_secs(15 * 60);
    let Rig {
        clock,
        provider,
        canned,
        client,
    } = Rig::new(lifetime);
    let t0 = clock.now();
    let mut all = String::new();

    // Cold start: a foreground refresh.
    assert_eq!(one(&client).await, Ok(200));
    let text = captured.take();
    let line = find_line(&text, "refreshed AWS credentials");
    assert!(line.contains("DEBUG"), "{line}");
    assert!(
        line.contains("provider=") && line.contains("Rotating"),
        "{line}"
    );
    assert!(line.contains("refresh=Foreground"), "{line}");
    assert!(line.contains("old_expires_in=none cached"), "{line}");
    assert!(line.contains("new_expires_in=900.0s"), "{line}");
    assert!(line.contains("took_ms="), "{line}");
    all.push_str(&text);

    // One minute before expiry: a background refresh, with the old ones' time left.
    clock.set(t0 + lifetime - Duration::from_secs(60));
    assert_eq!(one(&client).await, Ok(200));
    settle().await;
    let text = captured.take();
    let line = find_line(&text, "refreshed AWS credentials");
    assert!(line.contains("refresh=Background"), "{line}");
    assert!(line.contains("old_expires_in=60.0s"), "{line}");
    all.push_str(&text);

    // The provider fails in the background: WARN, the old credentials keep serving.
    provider.set_mode(MODE_FAIL);
    let t1 = clock.now();
    clock.set(t1 + lifetime - Duration::from_secs(60));
    assert_eq!(one(&client).await, Ok(200));
    assert!(eventually(|| captured.text().contains("WARN")).await);
    let text = captured.take();
    let line = find_line(&text, "refreshing AWS credentials failed");
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains("old_expires_in=60.0s"), "{line}");
    assert!(line.contains("IMDS unreachable"), "{line}");
    all.push_str(&text);

    // Past expiry with the provider still failing: ERROR, and the request is not sent.
    clock.set(t1 + lifetime + Duration::from_secs(1));
    let sent = canned.count();
    assert!(one(&client).await.is_err());
    assert_eq!(canned.count(), sent);
    let text = captured.take();
    let line = find_line(&text, "no usable AWS credentials");
    assert!(line.contains("ERROR"), "{line}");
    assert!(line.contains("old_expires_in=expired 1.0s ago"), "{line}");
    all.push_str(&text);

    // Nothing secret in anything the crate logged, signed-request events included.
    assert!(
        all.contains("signed request"),
        "DEBUG signing events captured"
    );
    for received in canned.received() {
        let auth = received.header("authorization").unwrap();
        let signature = auth.split("Signature=").nth(1).unwrap();
        assert!(!all.contains(signature), "a signature was logged");
    }
    for issued in provider.issued() {
        let token = issued.session_token().unwrap();
        assert!(!all.contains(token), "a session token was logged: {token}");
    }
    assert!(
        !all.contains(EXAMPLE_SECRET_KEY),
        "the secret key was logged"
    );
}

fn find_line<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} event in:\n{text}"))
}

// ---------------------------------------------------------------------------------------
// Session tokens a verifier keeps refusing: provider calls stay bounded
// ---------------------------------------------------------------------------------------

const HOUR: Duration = Duration::from_secs(3600);

/// A client signing for [`LOAD_BASE`] with one-hour credentials from a `Rotating` provider
/// on a test clock, answered by a [`TokenGate`] that accepts none of them until told to.
fn gated() -> (TestClock, Rotating, TokenGate, ClientWithMiddleware) {
    let clock = TestClock::starting_now();
    let provider = Rotating::new(clock.clone(), HOUR);
    let gate = TokenGate::default();
    let client = canned_client(rotating_signer(&provider, &clock), &gate);
    (clock, provider, gate, client)
}

/// The status of the answer to a GET of `url`, and the cause its explanation names.
async fn answer(client: &ClientWithMiddleware, url: &str) -> (u16, Option<Cause>) {
    let response = client.get(url).send().await.expect("an answer");
    let cause = response
        .extensions()
        .get::<Explanation>()
        .map(|e| e.cause.clone());
    (response.status().as_u16(), cause)
}

const REFUSED: (u16, Option<Cause>) = (403, Some(Cause::InvalidSecurityToken));

/// `n` requests to `base` at once, from spawned tasks: their answers.
async fn storm(
    client: &ClientWithMiddleware,
    base: &'static str,
    n: usize,
) -> Vec<(u16, Option<Cause>)> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move { answer(&client, &format!("{base}/prod/items/{i}")).await })
        })
        .collect();
    let mut answers = Vec::with_capacity(n);
    for task in tasks {
        answers.push(task.await.expect("request task"));
    }
    answers
}

/// 1,000 concurrent requests whose session token the verifier keeps refusing: the first
/// load and one reload, shared by all of them (before: a reload per refused request, about
/// 1,000 provider calls); each answered with the refusal, explained, after one retry at
/// most.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_concurrent_storm_of_refused_tokens_costs_one_reload() {
    let (_, provider, gate, client) = gated();
    let answers = storm(&client, LOAD_BASE, 1000).await;
    assert!(answers.iter().all(|a| *a == REFUSED), "{:?}", &answers[..3]);
    assert_eq!(provider.calls(), 2, "the first load and one reload");
    let sent = gate.answered().len();
    assert!(
        (1000..=2000).contains(&sent),
        "each request sent at most twice: {sent}"
    );
}

/// 101 requests one after another, every token refused (before: 102 provider calls): the
/// first is retried once with reloaded credentials, the others are answered with the
/// refusal, explained, and reload nothing while the back-off lasts; the operator is told
/// once why, and no secret. Once the back-off has passed (1 s, give or take a quarter),
/// one more reload; the next back-off is longer (2 s, give or take a quarter).
#[tokio::test]
async fn sequential_refusals_reload_once_per_back_off_and_the_back_off_grows() {
    let captured = capture_logs();
    let (clock, provider, gate, client) = gated();
    let url = format!("{LOAD_BASE}/prod/items");
    for _ in 0..101 {
        assert_eq!(answer(&client, &url).await, REFUSED);
    }
    assert_eq!(provider.calls(), 2, "the first load and one reload");
    assert_eq!(gate.answered().len(), 102, "the first request retried once");

    let text = captured.take();
    assert_eq!(
        text.matches("reloaded the credentials").count(),
        1,
        "{text}"
    );
    let line = find_line(&text, "keeps refusing the session token");
    assert!(
        line.contains("WARN") && line.contains("reload_in_s="),
        "{line}"
    );
    assert_eq!(
        text.matches("keeps refusing").count(),
        1,
        "once per back-off: {text}"
    );
    for issued in provider.issued() {
        let token = issued.session_token().unwrap();
        assert!(!text.contains(token), "a session token was logged: {token}");
    }
    assert!(
        !text.contains(EXAMPLE_SECRET_KEY),
        "the secret key was logged"
    );

    let t0 = clock.now();
    clock.set(t0 + Duration::from_secs(2));
    assert_eq!(answer(&client, &url).await, REFUSED);
    assert_eq!(
        provider.calls(),
        3,
        "one more reload once the back-off passed"
    );
    clock.set(t0 + Duration::from_secs(3));
    assert_eq!(answer(&client, &url).await, REFUSED);
    assert_eq!(provider.calls(), 3, "the second back-off is longer");
    clock.set(t0 + Duration::from_secs(5));
    assert_eq!(answer(&client, &url).await, REFUSED);
    assert_eq!(provider.calls(), 4);
    assert!(
        captured.take().contains("keeps refusing"),
        "told again per back-off"
    );
}

/// A token refused once, whose reload is accepted, recovers as before: 1,000 concurrent
/// requests refused with the first credentials are all sent again with the reloaded ones
/// and answered 200, for one reload; the reloaded credentials stay cached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_refused_once_is_reloaded_once_and_every_request_recovers() {
    let (_, provider, gate, client) = gated();
    let second = provider.generation(1);
    gate.accept_only(vec![second.clone()]);
    assert_eq!(burst(&client, 1000).await, Vec::<String>::new());
    assert_eq!(one(&client).await, Ok(200));
    assert_eq!(provider.calls(), 2, "the first load and one reload");
    let answered = gate.answered();
    let accepted: Vec<_> = answered.iter().filter(|(_, ok)| *ok).collect();
    assert_eq!(accepted.len(), 1001);
    assert!(accepted
        .iter()
        .all(|(key, _)| key == second.access_key_id()));
}

/// Two routes with their own credentials sources: a storm of refusals on one reloads only
/// that route's source, while the other route's requests are signed with their own
/// credentials and accepted; and one route backing off does not hold back the other's
/// first reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_routes_refusals_never_reload_another_routes_credentials() {
    const OTHER: &str = "https://def456.execute-api.us-east-1.amazonaws.com";
    let clock = TestClock::starting_now();
    let refused = Rotating::named(clock.clone(), HOUR, "ASIAREFUSED");
    let accepted = Rotating::named(clock.clone(), HOUR, "ASIAACCEPTED");
    let gate = TokenGate::default();
    gate.accept_only(vec![accepted.generation(0)]);
    let signer = SigV4Middleware::builder()
        .static_credentials(example_credentials())
        .route(Route::direct(LOAD_BASE).credentials_provider(refused.clone()))
        .route(Route::direct(OTHER).credentials_provider(accepted.clone()))
        .clock(clock.clone())
        .build()
        .unwrap();
    let client = canned_client(signer, &gate);
    let (on_refused, on_accepted) =
        tokio::join!(storm(&client, LOAD_BASE, 500), storm(&client, OTHER, 500));
    assert!(
        on_refused.iter().all(|a| *a == REFUSED),
        "{:?}",
        &on_refused[..3]
    );
    assert!(
        on_accepted.iter().all(|a| a.0 == 200),
        "{:?}",
        &on_accepted[..3]
    );
    assert_eq!(
        refused.calls(),
        2,
        "the refused route's first load and one reload"
    );
    assert_eq!(
        accepted.calls(),
        1,
        "the other route's source: its first load only"
    );

    // The refused route is backing off; the other route's token is now refused (a
    // rotation): it reloads at once and recovers.
    let rotated = accepted.generation(1);
    gate.accept_only(vec![rotated.clone()]);
    assert_eq!(answer(&client, &format!("{OTHER}/prod/x")).await.0, 200);
    assert_eq!(
        answer(&client, &format!("{LOAD_BASE}/prod/x")).await,
        REFUSED
    );
    assert_eq!([refused.calls(), accepted.calls()], [2, 2]);
    let last = gate.answered();
    assert_eq!(last[last.len() - 2].0, rotated.access_key_id());
}
