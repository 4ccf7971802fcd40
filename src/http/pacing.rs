//! Rate-limit pacing: the budget the server reported ([`RateLimitStatus`]), what the request path
//! has learnt about its window, and how long a request should wait before it is sent.
//!
//! Everything here comes from the network, so none of it is trusted further than the caller's own
//! settings: a reset moment is never taken to be more than one `rate_limit_window` ahead, every
//! wait is bounded by the retry policy (its `max_delay` and its per-request deadline, enforced by
//! [`Http`](crate::Http)), and a response that shows budget ends the stall at once, also for
//! requests already waiting.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// The budget a server reported in its latest `X-RateLimit-Total` / `X-RateLimit-Remaining`
/// headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitStatus {
    /// Requests allowed per window (`X-RateLimit-Total`), if sent.
    pub total: Option<u64>,
    /// Requests left in the current window (`X-RateLimit-Remaining`).
    pub remaining: u64,
    /// When the headers were read.
    pub observed_at: Instant,
}

/// What the request path knows about the server's rate-limit window, shared by a client and its
/// clones.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<RateState>,
    /// Bumped on every change of `state`, so waiting requests re-check at once instead of sleeping
    /// out a wait computed from what is no longer true.
    changed: watch::Sender<()>,
}

#[derive(Debug, Default, Clone, Copy)]
struct RateState {
    /// The latest `X-RateLimit-*` reading.
    status: Option<RateLimitStatus>,
    /// A moment the server's window resets, learnt from a `429`'s `Retry-After`. Windows repeat
    /// every `rate_limit_window`, so one such moment gives the phase of all later ones.
    reset_at: Option<Instant>,
}

/// The settings pacing works within.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacingLimits {
    pub(crate) max_in_flight: usize,
    pub(crate) window: Duration,
    pub(crate) max_delay: Duration,
}

impl Pacer {
    pub(crate) fn new() -> Self {
        Pacer { state: Mutex::new(RateState::default()), changed: watch::Sender::new(()) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RateState> {
        // The state is plain data, valid after any panic elsewhere.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The latest budget reading.
    pub(crate) fn status(&self) -> Option<RateLimitStatus> {
        self.state().status
    }

    /// Records a budget reading. One that shows more budget than may be in flight ends any stall
    /// at once: requests already waiting are woken to re-check.
    pub(crate) fn record(&self, status: RateLimitStatus) {
        self.state().status = Some(status);
        self.changed.send_modify(|_| {});
    }

    /// Records a `429`'s `Retry-After` as the moment the window resets, but never further ahead
    /// than one `window`: a server's word is not enough to stall a client for longer than the
    /// window the caller configured.
    pub(crate) fn learn_reset(&self, retry_after: Duration, window: Duration, now: Instant) {
        if let Some(reset) = now.checked_add(retry_after.min(window)) {
            self.state().reset_at = Some(reset);
            self.changed.send_modify(|_| {});
        }
    }

    /// A receiver that sees every change recorded after this call.
    pub(crate) fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }

    /// How long a request should wait now, if at all.
    pub(crate) fn delay(&self, limits: PacingLimits, now: Instant) -> Option<Duration> {
        let state = *self.state();
        pacing_delay(state.status?, state.reset_at?, limits, now)
    }
}

/// How long a request should wait, given the latest budget reading and a known reset moment: none
/// while more requests remain than may be in flight; otherwise until the first window reset after
/// the reading (windows repeat every `limits.window`), capped by the retry policy's maximum delay
/// and by one window.
pub(crate) fn pacing_delay(
    status: RateLimitStatus,
    mut reset: Instant,
    limits: PacingLimits,
    now: Instant,
) -> Option<Duration> {
    if status.remaining > limits.max_in_flight as u64 {
        return None;
    }
    if !limits.window.is_zero() && reset <= status.observed_at {
        // Windows repeat: move to the first reset after the reading, in one step.
        let behind = status.observed_at.duration_since(reset).as_nanos();
        let windows = behind / limits.window.as_nanos() + 1;
        let ahead = limits.window.as_nanos().saturating_mul(windows);
        reset = u64::try_from(ahead).ok().and_then(|n| reset.checked_add(Duration::from_nanos(n)))?;
    }
    let wait = reset.checked_duration_since(now)?.min(limits.max_delay).min(limits.window);
    (!wait.is_zero()).then_some(wait)
}

/// Whether a wait of `wait` starting now ends by `deadline` (`None`: no deadline).
pub(crate) fn fits(deadline: Option<Instant>, wait: Duration) -> bool {
    deadline.is_none_or(|deadline| Instant::now().checked_add(wait).is_some_and(|end| end <= deadline))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PacingLimits =
        PacingLimits { max_in_flight: 4, window: Duration::from_secs(10), max_delay: Duration::from_secs(30) };

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    fn reading(t0: Instant, remaining: u64, at: u64) -> RateLimitStatus {
        RateLimitStatus { total: Some(100), remaining, observed_at: t0 + secs(at) }
    }

    #[test]
    fn pacing_waits_for_the_next_reset_only_when_the_budget_is_nearly_spent() {
        let t0 = Instant::now();
        let reading = |remaining, at| reading(t0, remaining, at);
        // Plenty left: no wait.
        assert_eq!(pacing_delay(reading(5, 1), t0 + secs(5), LIMITS, t0 + secs(1)), None);
        // Nearly spent, reset known to be at 5 s: wait until then.
        assert_eq!(pacing_delay(reading(4, 1), t0 + secs(5), LIMITS, t0 + secs(2)), Some(secs(3)));
        // A reading taken after the known reset belongs to the next window, which ends at 15 s.
        assert_eq!(pacing_delay(reading(0, 7), t0 + secs(5), LIMITS, t0 + secs(8)), Some(secs(7)));
        // A reading several windows after the known reset: the reset after it is found in one step.
        assert_eq!(pacing_delay(reading(0, 37), t0 + secs(5), LIMITS, t0 + secs(40)), Some(secs(5)));
        // The window the reading belongs to is over: no wait.
        assert_eq!(pacing_delay(reading(0, 1), t0 + secs(5), LIMITS, t0 + secs(6)), None);
        // Never longer than the retry policy's maximum delay...
        let short = PacingLimits { max_delay: secs(1), ..LIMITS };
        assert_eq!(pacing_delay(reading(0, 1), t0 + secs(5), short, t0 + secs(2)), Some(secs(1)));
        // ...nor than one window, whatever reset moment was stored.
        assert_eq!(pacing_delay(reading(0, 1), t0 + secs(3600), LIMITS, t0 + secs(2)), Some(secs(10)));
    }

    #[test]
    fn a_reset_far_ahead_is_clamped_to_one_window_and_budget_ends_the_stall() {
        let pacer = Pacer::new();
        let t0 = Instant::now();
        pacer.record(reading(t0, 0, 0));
        pacer.learn_reset(crate::http::MAX_RETRY_AFTER, LIMITS.window, t0);
        assert_eq!(pacer.delay(LIMITS, t0), Some(secs(10)));
        assert_eq!(pacer.delay(LIMITS, t0 + secs(4)), Some(secs(6)));
        // The clamped reset has passed: no wait, although the server had announced a day.
        assert_eq!(pacer.delay(LIMITS, t0 + secs(11)), None);
        // A reading that shows budget ends the stall at once, and wakes whoever is waiting.
        let waiting = pacer.subscribe();
        assert!(!waiting.has_changed().unwrap());
        pacer.record(reading(t0, 399, 1));
        assert!(waiting.has_changed().unwrap());
        assert_eq!(pacer.delay(LIMITS, t0 + secs(1)), None);
    }

    #[test]
    fn a_wait_fits_only_if_it_ends_by_the_deadline() {
        assert!(fits(None, Duration::MAX));
        let deadline = Instant::now() + secs(60);
        assert!(fits(Some(deadline), secs(30)));
        assert!(!fits(Some(deadline), secs(90)));
        assert!(!fits(Some(deadline), Duration::MAX));
        assert!(!fits(Some(Instant::now()), Duration::from_millis(1)));
    }

    fn pacer(http: &crate::Http) -> &Pacer {
        http.pacing_parts().0
    }

    #[tokio::test]
    async fn a_pacing_wait_holds_no_in_flight_slot() {
        // A port nothing listens on: the request fails fast once it is finally sent.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let connector = crate::ScimBearer::for_loopback(&format!("http://127.0.0.1:{port}/scim/v2"), "t").unwrap();
        let window = Duration::from_secs(60);
        let client = crate::Client::builder(connector)
            .timeout(Duration::from_secs(1))
            .max_response_bytes(1024)
            .retry_policy(crate::RetryPolicy::none().with_deadline(Duration::from_secs(120)))
            .max_in_flight(2)
            .rate_limit_window(window)
            .build()
            .unwrap();
        let http = client.http().clone();
        let now = Instant::now();
        pacer(&http).record(RateLimitStatus { total: Some(400), remaining: 0, observed_at: now });
        pacer(&http).learn_reset(Duration::from_secs(30), window, now);
        let url = http.endpoint(&["Users", "u1"]).unwrap();
        let waiting = tokio::spawn({
            let http = http.clone();
            async move { http.send(crate::Request::get(url, "/Users/{id}")).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!waiting.is_finished(), "the request did not wait for the window to reset");
        assert_eq!(http.pacing_parts().1, 2, "a waiting request holds an in-flight slot");
        // A reading that shows budget ends the wait at once.
        pacer(&http).record(RateLimitStatus { total: Some(400), remaining: 399, observed_at: Instant::now() });
        let result = tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("still waiting").unwrap();
        let error = result.expect_err("nothing listens on the port");
        assert!(matches!(&error, crate::Error::Transport(t) if t.is_connect()), "{error:?}");
    }
}
