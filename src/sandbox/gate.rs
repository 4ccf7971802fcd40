//! What happens to a request before a sandbox's API sees it: fault injection, the request budget,
//! and the counters tests assert on.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::rng::SplitMix64;
use crate::Method;

/// One kind of fault a sandbox can inject instead of (or around) normal handling.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer `429 Too Many Requests` with this `Retry-After` (whole seconds, rounded up), without
    /// handling the request.
    Throttle {
        /// The delay announced in `Retry-After`.
        retry_after: Duration,
    },
    /// Answer `503 Service Unavailable` (plain text, as a load balancer would), without handling
    /// the request.
    Unavailable,
    /// Close the TCP connection without any response, without handling the request.
    Drop,
    /// Wait this long, then handle the request normally.
    Delay(Duration),
    /// Handle the request (so a create really creates), then close the connection without
    /// sending the response: the "lost response" a client must reconcile.
    DropAfterCommit,
}

impl Fault {
    /// The fault's kind, without its parameters.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Throttle { .. } => FaultKind::Throttle,
            Fault::Unavailable => FaultKind::Unavailable,
            Fault::Drop => FaultKind::Drop,
            Fault::Delay(_) => FaultKind::Delay,
            Fault::DropAfterCommit => FaultKind::DropAfterCommit,
        }
    }
}

/// The kind of an injected [`Fault`], as counted in [`SandboxStats`] and [`RequestRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum FaultKind {
    /// [`Fault::Throttle`].
    Throttle,
    /// [`Fault::Unavailable`].
    Unavailable,
    /// [`Fault::Drop`].
    Drop,
    /// [`Fault::Delay`].
    Delay,
    /// [`Fault::DropAfterCommit`].
    DropAfterCommit,
}

/// Which requests a sandbox answers with a fault: a seeded, reproducible share of them.
///
/// For every eligible request (all requests, or those of [`only`](Self::only)'s methods) the
/// sandbox draws from a generator seeded with [`seeded`](Self::seeded)'s seed: with probability
/// [`rate`](Self::rate) it injects one of the configured faults, chosen uniformly. The same seed
/// and the same order of requests give the same faults, so a failing test can be replayed.
/// Faults decided before handling never change the sandbox's state and never consume its
/// request budget.
///
/// ```
/// use std::time::Duration;
/// use identity_connectors::Method;
/// use identity_connectors::sandbox::{Fault, Faults};
///
/// // A quarter of all requests fail in one of three ways.
/// let flaky = Faults::seeded(7)
///     .rate(0.25)
///     .fault(Fault::Throttle { retry_after: Duration::from_secs(1) })
///     .fault(Fault::Unavailable)
///     .fault(Fault::Drop);
/// // Exactly the first create is applied but its response is lost.
/// let lost_create = Faults::seeded(1).rate(1.0).fault(Fault::DropAfterCommit).only(&[Method::Post]).at_most(1);
/// # let _ = (flaky, lost_create);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    seed: u64,
    rate: f64,
    faults: Vec<Fault>,
    methods: Vec<Method>,
    at_most: Option<u64>,
}

impl Faults {
    /// No faults at all (the default).
    pub fn none() -> Self {
        Faults::seeded(0)
    }

    /// An empty fault configuration whose choices come from `seed`; add a
    /// [`rate`](Self::rate) and at least one [`fault`](Self::fault).
    pub fn seeded(seed: u64) -> Self {
        Faults { seed, rate: 0.0, faults: Vec::new(), methods: Vec::new(), at_most: None }
    }

    /// The share of eligible requests that get a fault, from `0.0` (none) to `1.0` (all).
    /// Values outside that range (and NaN) are clamped.
    pub fn rate(mut self, share: f64) -> Self {
        self.rate = if share.is_nan() { 0.0 } else { share.clamp(0.0, 1.0) };
        self
    }

    /// Adds a fault to the mix; each injection picks one of the mix uniformly.
    pub fn fault(mut self, fault: Fault) -> Self {
        self.faults.push(fault);
        self
    }

    /// Makes only requests with these methods eligible (by default, all are).
    pub fn only(mut self, methods: &[Method]) -> Self {
        self.methods = methods.to_vec();
        self
    }

    /// Stops injecting after `count` faults.
    pub fn at_most(mut self, count: u64) -> Self {
        self.at_most = Some(count);
        self
    }

    fn is_eligible(&self, method: &str) -> bool {
        self.methods.is_empty() || self.methods.iter().any(|m| m.as_str().eq_ignore_ascii_case(method))
    }
}

impl Default for Faults {
    fn default() -> Self {
        Faults::none()
    }
}

/// A request budget per fixed time window, like Freshservice's per-minute account limit.
///
/// Windows start when the sandbox starts. Every request that reaches the API (whatever its
/// outcome, as in Freshservice: "even invalid requests count") uses one unit; once a window's
/// budget is spent, requests are answered `429` with `Retry-After` set to the seconds left in the
/// window. Every response carries `X-RateLimit-Total`, `X-RateLimit-Remaining` and
/// `X-RateLimit-Used-CurrentRequest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    budget: u32,
    window: Duration,
}

impl RateLimit {
    /// `budget` requests per `window`. A zero window is treated as one millisecond.
    pub fn new(budget: u32, window: Duration) -> Self {
        RateLimit { budget, window: window.max(Duration::from_millis(1)) }
    }

    /// Requests allowed per window.
    pub fn budget(&self) -> u32 {
        self.budget
    }

    /// The window's length.
    pub fn window(&self) -> Duration {
        self.window
    }
}

/// What a sandbox has seen and sent since it started: for tests to assert on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SandboxStats {
    /// Requests received (read completely), including those answered with a fault.
    pub requests: u64,
    /// Responses sent, by HTTP status (dropped connections are not responses).
    pub responses_by_status: BTreeMap<u16, u64>,
    /// Faults injected, by kind: counted when decided, so every injected fault is counted, also a
    /// [`Fault::Delay`] whose client went away before the answer.
    pub faults: BTreeMap<FaultKind, u64>,
    /// `429`s sent because the request budget was spent (injected throttles not included).
    pub rate_limited: u64,
    /// The most requests that reached the budget check within one window, accepted or not.
    pub max_received_in_window: u64,
    /// The most requests accepted within one window (never more than the budget).
    pub max_accepted_in_window: u64,
}

impl SandboxStats {
    /// Responses sent with this status.
    pub fn status(&self, status: u16) -> u64 {
        self.responses_by_status.get(&status).copied().unwrap_or(0)
    }

    /// Faults of this kind injected.
    pub fn faults_of(&self, kind: FaultKind) -> u64 {
        self.faults.get(&kind).copied().unwrap_or(0)
    }
}

/// One request as the sandbox saw it, in arrival order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestRecord {
    /// The method, such as `POST`.
    pub method: String,
    /// The path and query string, as sent.
    pub path: String,
    /// The status sent, or `None` when the connection was dropped instead.
    pub status: Option<u16>,
    /// The fault injected, if any.
    pub fault: Option<FaultKind>,
}

/// The outcome of the budget check.
pub(crate) enum Admission {
    /// No budget configured.
    Unlimited,
    /// Within budget; `remaining` after this request.
    Accepted { total: u32, remaining: u32 },
    /// Over budget.
    Rejected { total: u32, retry_after_secs: u64 },
}

/// Requests the log keeps, so a long-running sandbox cannot grow without bound.
const MAX_LOGGED_REQUESTS: usize = 100_000;

struct Limiter {
    limit: RateLimit,
    window_index: u128,
    received: u64,
    accepted: u64,
}

/// Per-sandbox mutable gate state, behind one mutex held only for bookkeeping (never across I/O).
pub(crate) struct Gate {
    faults: Faults,
    rng: SplitMix64,
    injected: u64,
    limiter: Option<Limiter>,
    started: Instant,
    stats: SandboxStats,
    log: Vec<RequestRecord>,
}

impl Gate {
    pub(crate) fn new(faults: Faults, rate_limit: Option<RateLimit>) -> Self {
        let limiter = rate_limit.map(|limit| Limiter { limit, window_index: 0, received: 0, accepted: 0 });
        Gate {
            rng: SplitMix64::new(faults.seed),
            faults,
            injected: 0,
            limiter,
            started: Instant::now(),
            stats: SandboxStats::default(),
            log: Vec::new(),
        }
    }

    pub(crate) fn set_faults(&mut self, faults: Faults) {
        self.rng = SplitMix64::new(faults.seed);
        self.injected = 0;
        self.faults = faults;
    }

    /// Counts a request read completely.
    pub(crate) fn received(&mut self) {
        self.stats.requests += 1;
    }

    /// Decides whether this request gets a fault.
    pub(crate) fn decide_fault(&mut self, method: &str) -> Option<Fault> {
        let faults = &self.faults;
        if faults.faults.is_empty() || faults.rate <= 0.0 || !faults.is_eligible(method) {
            return None;
        }
        if faults.at_most.is_some_and(|limit| self.injected >= limit) {
            return None;
        }
        // Always draw, so the decision for request n depends only on the seed and n.
        if self.rng.next_f64() >= faults.rate {
            return None;
        }
        let fault = faults.faults[self.rng.below(faults.faults.len())].clone();
        self.injected += 1;
        // Counted now: the request may never finish (a client that gives up during a delay).
        *self.stats.faults.entry(fault.kind()).or_default() += 1;
        Some(fault)
    }

    /// Charges the request to the current window's budget.
    pub(crate) fn admit(&mut self) -> Admission {
        let elapsed = self.started.elapsed();
        let Some(limiter) = self.limiter.as_mut() else {
            return Admission::Unlimited;
        };
        let window = limiter.limit.window;
        let index = elapsed.as_nanos() / window.as_nanos().max(1);
        if index != limiter.window_index {
            limiter.window_index = index;
            limiter.received = 0;
            limiter.accepted = 0;
        }
        limiter.received += 1;
        self.stats.max_received_in_window = self.stats.max_received_in_window.max(limiter.received);
        let total = limiter.limit.budget;
        if limiter.accepted >= u64::from(total) {
            self.stats.rate_limited += 1;
            let window_end = window.saturating_mul(u32::try_from(index + 1).unwrap_or(u32::MAX));
            let left = window_end.saturating_sub(elapsed);
            let retry_after_secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
            return Admission::Rejected { total, retry_after_secs: retry_after_secs.max(1) };
        }
        limiter.accepted += 1;
        self.stats.max_accepted_in_window = self.stats.max_accepted_in_window.max(limiter.accepted);
        let remaining = u32::try_from(u64::from(total).saturating_sub(limiter.accepted)).unwrap_or(0);
        Admission::Accepted { total, remaining }
    }

    /// Records the outcome of one request (its fault, if any, was counted when decided).
    pub(crate) fn record(&mut self, method: &str, path: &str, status: Option<u16>, fault: Option<FaultKind>) {
        if let Some(status) = status {
            *self.stats.responses_by_status.entry(status).or_default() += 1;
        }
        if self.log.len() < MAX_LOGGED_REQUESTS {
            self.log.push(RequestRecord { method: method.to_string(), path: path.to_string(), status, fault });
        }
    }

    pub(crate) fn stats(&self) -> SandboxStats {
        self.stats.clone()
    }

    pub(crate) fn log(&self) -> Vec<RequestRecord> {
        self.log.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sequence(faults: &Faults, methods: &[&str]) -> Vec<Option<FaultKind>> {
        let mut gate = Gate::new(faults.clone(), None);
        methods.iter().map(|m| gate.decide_fault(m).map(|f| f.kind())).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_faults_and_another_seed_others() {
        let mix = |seed| Faults::seeded(seed).rate(0.5).fault(Fault::Unavailable).fault(Fault::Drop);
        let methods = ["GET"; 64];
        let first = sequence(&mix(42), &methods);
        assert_eq!(first, sequence(&mix(42), &methods));
        assert_ne!(first, sequence(&mix(43), &methods));
        let injected = first.iter().filter(|f| f.is_some()).count();
        assert!((16..=48).contains(&injected), "about half of 64, got {injected}");
        assert!(first.contains(&Some(FaultKind::Unavailable)) && first.contains(&Some(FaultKind::Drop)));
    }

    #[test]
    fn method_filter_and_cap_limit_injection() {
        let faults = Faults::seeded(1).rate(1.0).fault(Fault::DropAfterCommit).only(&[Method::Post]).at_most(1);
        let got = sequence(&faults, &["GET", "POST", "post", "GET"]);
        assert_eq!(got, vec![None, Some(FaultKind::DropAfterCommit), None, None]);
        let mut gate = Gate::new(faults, None);
        assert!(gate.decide_fault("POST").is_some());
        assert_eq!(gate.stats().faults_of(FaultKind::DropAfterCommit), 1, "counted when decided");
        assert_eq!(sequence(&Faults::none(), &["GET", "POST"]), vec![None, None]);
        assert_eq!(sequence(&Faults::seeded(1).rate(f64::NAN).fault(Fault::Drop), &["GET"]), vec![None]);
    }

    #[test]
    fn the_budget_rejects_past_the_limit_within_a_window() {
        let mut gate = Gate::new(Faults::none(), Some(RateLimit::new(2, Duration::from_secs(3600))));
        assert!(matches!(gate.admit(), Admission::Accepted { total: 2, remaining: 1 }));
        assert!(matches!(gate.admit(), Admission::Accepted { total: 2, remaining: 0 }));
        match gate.admit() {
            Admission::Rejected { total: 2, retry_after_secs } => assert!((3590..=3600).contains(&retry_after_secs)),
            _ => panic!("the third request must be rejected"),
        }
        let stats = gate.stats();
        assert_eq!((stats.rate_limited, stats.max_received_in_window, stats.max_accepted_in_window), (1, 3, 2));
    }
}
