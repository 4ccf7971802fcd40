//! When and how long to wait before sending a request again.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use super::request::Method;
use crate::error::{Error, ErrorKind, TransportErrorKind};

/// How the client retries failed requests. A value on the [`ClientBuilder`](crate::ClientBuilder).
///
/// What is retried:
/// - throttling: `429` for every method (the server refused the request without acting on it),
///   and `503` with `Retry-After` for idempotent methods only (a `503` may come from a proxy after
///   the app acted, so a `POST` answered so is reconciled by a look-up instead). The wait is the server's `Retry-After` (seconds or HTTP-date)
///   when it sent one, else the backoff below. A `Retry-After` longer than
///   [`max_delay`](RetryPolicy::max_delay) is not waited out: the error is returned at once, with
///   [`Error::retry_after`] set, so the caller can schedule the work.
/// - transient failures (timeouts, dropped connections, `502`, `503`, `504`), for idempotent
///   methods only (`GET`, `PUT`, `PATCH`, `DELETE`). A `POST` is retried only when the
///   connection was never established; after any other failure its outcome is unknown, and
///   [`Client::provision`](crate::Client::provision) reconciles it with a look-up instead.
/// - nothing else: `500` and every other `4xx` are returned at once.
///
/// The backoff is capped exponential with full jitter: before retry *n* the client waits a random
/// time between zero and `min(max_delay, base_delay × 2ⁿ⁻¹)`. [`max_attempts`](RetryPolicy::max_attempts)
/// counts every attempt of one request, the first included, and is never exceeded.
/// [`Client::provision`](crate::Client::provision) also makes at most `max_attempts` creates of one
/// person (each reconciled by a look-up), and each create gets this policy for `429`s.
///
/// # The deadline: how long the waits of one call may last
///
/// Each [`Client`](crate::Client) call (one `provision`, one `deprovision`, one `get`, …) has a
/// [`deadline`](RetryPolicy::deadline), measured from when the call starts and shared by every
/// request it sends (a `provision` may send a look-up, a create and an update); a request sent
/// through [`Http`](crate::Http) outside a client call gets the same deadline of its own. Every wait
/// counts against it, and a wait that would end after it is never started:
/// - a retry wait (backoff or `Retry-After`): the retry is not made, and the last error is
///   returned at once, with [`Error::retry_after`] set where the server sent one;
/// - a rate-limit pacing wait (the window's `X-RateLimit-Remaining` is spent, or the first
///   answer of a window is awaited, so the client would wait): the request is sent at once
///   instead, and the server's answer decides. Pacing is advice drawn from earlier answers, which
///   may be stale or wrong; a provisioning service wants the server's own answer (the user, or a
///   `429` with its `Retry-After` to schedule the work by) within the time it allowed, not a
///   locally made-up refusal.
///
/// Provisioning's wait between two creates (after an unknown outcome) counts too: when it would
/// cross the deadline, the create's error is returned.
///
/// So a call returns within its deadline plus the time of the attempt in flight (each attempt is
/// bounded by the client's [timeout](crate::ClientBuilder::timeout)). Waiting for an in-flight
/// slot (see [`ClientBuilder::max_in_flight`](crate::ClientBuilder::max_in_flight)) is queueing,
/// not waiting, and does not count.
///
/// The default: 4 attempts, 200 ms base delay, 60 s maximum delay (Freshservice's per-minute
/// window asks for waits of up to 60 s), and a 120 s deadline (room for one full window's wait and
/// a retry after it). [`RetryPolicy::none`] makes one attempt and never waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    deadline: Duration,
}

/// The default [`RetryPolicy::deadline`]: 120 s.
pub const DEFAULT_RETRY_DEADLINE: Duration = Duration::from_secs(120);

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(60),
            deadline: DEFAULT_RETRY_DEADLINE,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryDecision {
    GiveUp,
    RetryAfter(Duration),
}

impl RetryPolicy {
    /// No retries and no waiting: every request is attempted once and sent at once, even when the
    /// server's last reported budget says it is spent (the server's answer decides). The same as
    /// `RetryPolicy::default().with_max_attempts(1).with_deadline(Duration::ZERO)`.
    pub fn none() -> Self {
        RetryPolicy { max_attempts: 1, deadline: Duration::ZERO, ..RetryPolicy::default() }
    }

    /// Sets how many attempts a request gets in all, the first included (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets the first backoff step.
    pub fn with_base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// Sets the longest single wait, for backoff, `Retry-After` and rate-limit pacing alike.
    pub fn with_max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets how long the waits of one request may last in all, retry waits and rate-limit pacing
    /// alike, measured from when the request is first tried (default 120 s; `Duration::ZERO`: never
    /// wait). See [the deadline](RetryPolicy#the-deadline-how-long-the-waits-of-one-call-may-last).
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// How long the waits of one request may last in all, measured from its first attempt.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// How many attempts a request gets in all.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The first backoff step.
    pub fn base_delay(&self) -> Duration {
        self.base_delay
    }

    /// The longest single wait.
    pub fn max_delay(&self) -> Duration {
        self.max_delay
    }

    pub(crate) fn decide(&self, method: Method, error: &Error, attempt: u32) -> RetryDecision {
        if self.gives_up(method, error, attempt) {
            return RetryDecision::GiveUp;
        }
        match error.retry_after() {
            Some(wait) => RetryDecision::RetryAfter(wait),
            None => RetryDecision::RetryAfter(self.backoff(attempt)),
        }
    }

    /// Whether [`decide`](Self::decide) gives up, without working out the wait.
    pub(crate) fn gives_up(&self, method: Method, error: &Error, attempt: u32) -> bool {
        let retryable = match error.kind() {
            ErrorKind::Throttling => method.is_idempotent() || error.status() == Some(429),
            ErrorKind::Transient if method.is_idempotent() => true,
            ErrorKind::Transient => matches!(error, Error::Transport(t) if t.kind() == TransportErrorKind::Connect),
            _ => false,
        };
        attempt >= self.max_attempts || !retryable || error.retry_after().is_some_and(|wait| wait > self.max_delay)
    }

    /// Full-jitter backoff before retry number `attempt` (1-based).
    pub(crate) fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.base_delay.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let ceiling = exp.min(self.max_delay);
        let nanos = ceiling.as_nanos().min(u64::MAX as u128) as u64;
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(random_u64() % (nanos + 1))
    }
}

/// A random number from the standard library's per-process hash keys: enough for jitter, and no
/// extra dependency.
fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ApiError;

    fn rate_limited(secs: Option<u64>) -> Error {
        Error::from_response(ApiError::new(429, "slow down"), secs.map(Duration::from_secs))
    }

    #[test]
    fn throttling_waits_as_told_and_attempts_are_capped() {
        let policy = RetryPolicy::default();
        assert_eq!(
            policy.decide(Method::Get, &rate_limited(Some(2)), 1),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            policy.decide(Method::Post, &rate_limited(Some(2)), 3),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(policy.decide(Method::Get, &rate_limited(Some(2)), 4), RetryDecision::GiveUp);
        // Freshservice's per-minute window: waits of up to 60 s are honoured by default.
        assert_eq!(
            policy.decide(Method::Get, &rate_limited(Some(45)), 1),
            RetryDecision::RetryAfter(Duration::from_secs(45))
        );
        assert_eq!(
            policy.decide(Method::Post, &rate_limited(Some(60)), 1),
            RetryDecision::RetryAfter(Duration::from_secs(60))
        );
        assert_eq!(policy.decide(Method::Get, &rate_limited(Some(61)), 1), RetryDecision::GiveUp);
        // A 503 with Retry-After: retried when idempotent, never for a POST (its outcome is unknown).
        let unavailable = Error::from_response(ApiError::new(503, "busy"), Some(Duration::from_secs(1)));
        assert_eq!(policy.decide(Method::Put, &unavailable, 1), RetryDecision::RetryAfter(Duration::from_secs(1)));
        assert_eq!(policy.decide(Method::Post, &unavailable, 1), RetryDecision::GiveUp);
        assert!(unavailable.outcome_unknown());
        assert_eq!(RetryPolicy::none().decide(Method::Get, &rate_limited(Some(0)), 1), RetryDecision::GiveUp);
    }

    #[test]
    fn transient_errors_are_retried_only_when_idempotent() {
        let policy = RetryPolicy::default();
        let bad_gateway = Error::from_response(ApiError::new(502, "Bad Gateway"), None);
        assert!(matches!(policy.decide(Method::Put, &bad_gateway, 1), RetryDecision::RetryAfter(_)));
        assert_eq!(policy.decide(Method::Post, &bad_gateway, 1), RetryDecision::GiveUp);
        let server = Error::from_response(ApiError::new(500, "boom"), None);
        assert_eq!(policy.decide(Method::Get, &server, 1), RetryDecision::GiveUp);
        let not_found = Error::from_response(ApiError::new(404, "gone"), None);
        assert_eq!(policy.decide(Method::Get, &not_found, 1), RetryDecision::GiveUp);
    }

    #[test]
    fn backoff_is_bounded_by_the_exponential_ceiling_and_max_delay() {
        let policy = RetryPolicy::default()
            .with_base_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_millis(500));
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(2) <= Duration::from_millis(200));
            assert!(policy.backoff(10) <= Duration::from_millis(500));
        }
    }
}
