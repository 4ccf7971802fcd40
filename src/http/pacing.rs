//! Rate-limit pacing: spending the budget a server reports in `X-RateLimit-Remaining` without
//! running into `429`, from the very first window.
//!
//! Each request takes one unit of the known budget (a [`Ticket`]) before it is sent and gives it
//! back with the answer, so requests in flight are counted against `Remaining` and never outrun
//! it. The budget is the lowest `Remaining` read in the current window: answers arrive out of
//! order, and a later answer may show a higher, older figure. It is replaced by a higher one only
//! when that answer is the freshest news (no other answer was read while it was in flight): the
//! window has then reset. While the budget is unknown (no answer yet, or a spent window is taken
//! to have reset) one probe request goes alone and the others wait for its answer, so nobody
//! rushes the reset. When the budget is spent, requests wait for the window's end, estimated
//! from above (the first answer of a window came after the window began, so the window ends no
//! later than one window length after it; a `429`'s `Retry-After` says when outright).
//!
//! Everything here comes from the network, so none of it is trusted further than the caller's own
//! settings: a reset moment is never taken to be more than one `rate_limit_window` ahead, every
//! wait of a request together ends by the retry policy's `max_delay` and its deadline (after that
//! the request is sent and the server's answer decides), a server that sends no rate-limit headers
//! is not paced at all, and a window of zero turns pacing off.

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit, TryAcquireError, watch};

use super::response::{RETRY_AFTER, Response, X_RATELIMIT_REMAINING, X_RATELIMIT_TOTAL, parse_retry_after};

/// The budget a server reported in its `X-RateLimit-Total` / `X-RateLimit-Remaining` headers, as
/// the client counts it: within a window, the lowest `Remaining` it has read.
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

/// The settings pacing works within.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PacingLimits {
    /// The server's rate-limit window (zero: no pacing).
    pub(crate) window: Duration,
    /// The longest a request waits before it is sent, all pacing waits together.
    pub(crate) max_delay: Duration,
}

/// What the request path knows about the server's rate-limit window, shared by a client and its
/// clones.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<RateState>,
    /// Bumped on every answer, so waiting requests re-check at once instead of sleeping out a wait
    /// computed from what is no longer true.
    changed: watch::Sender<()>,
}

#[derive(Debug, Default)]
struct RateState {
    /// The latest budget, for [`Http::rate_limit`](crate::Http::rate_limit).
    status: Option<RateLimitStatus>,
    /// The current window's budget: the lowest trustworthy `Remaining` read in it. `None`: not
    /// known, so a probe goes first.
    remaining: Option<u64>,
    /// Requests sent and not answered yet: each holds one unit of `remaining`.
    outstanding: u64,
    /// Units the budget owes while it is unknown: requests answered without a usable reading
    /// (they may have been counted), taken off the first reading.
    debt: u64,
    /// Readings taken so far; a ticket notes the count, so its answer knows whether it is the
    /// freshest news.
    readings: u64,
    /// Bumped when a new window begins: answers to requests sent before say nothing about it.
    epoch: u64,
    /// A probe is out while the budget is unknown.
    probing: bool,
    /// The last answer had no `X-RateLimit-Remaining`: the server is not paced.
    headerless: bool,
    /// When the current window ends, estimated from above.
    reset_at: Option<Instant>,
}

/// One request's unit of the budget, given back with its answer (or when it is dropped).
#[derive(Debug)]
pub(crate) struct Ticket {
    epoch: u64,
    /// `RateState::readings` when the ticket was taken.
    seen: u64,
    probe: bool,
}

/// What an answer said about the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// No answer was read (a transport error, or the request was dropped): it may have been
    /// counted.
    Unanswered,
    /// An answer without `X-RateLimit-Remaining`: the server is not paced until one has it.
    NoReading,
    /// `X-RateLimit-Remaining` and `X-RateLimit-Total` as sent; `throttled` for a `429`, with its
    /// `Retry-After`.
    Reading { remaining: u64, total: Option<u64>, throttled: bool, retry_after: Option<Duration> },
}

impl Answer {
    /// Reads the rate-limit headers of `response`. Unparsable values count as absent.
    pub(crate) fn of(response: &Response) -> Answer {
        let number = |name| response.known_header(name).and_then(|v| v.trim().parse::<u64>().ok());
        let throttled = response.status() == 429;
        match number(&X_RATELIMIT_REMAINING) {
            Some(remaining) => Answer::Reading {
                remaining,
                total: number(&X_RATELIMIT_TOTAL),
                throttled,
                retry_after: response.known_header(&RETRY_AFTER).and_then(parse_retry_after),
            },
            None => Answer::NoReading,
        }
    }
}

/// What a request should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Be sent (as the probe when `probe`).
    Go { probe: bool },
    /// Wait this long, or until anything new is learnt.
    Wait(Duration),
    /// Wait until the probe's answer (or anything new) comes.
    AwaitProbe,
}

impl RateState {
    fn turn(&mut self, window: Duration, now: Instant) -> Turn {
        if window.is_zero() || self.headerless {
            return Turn::Go { probe: false };
        }
        match self.remaining {
            None if self.probing => Turn::AwaitProbe,
            None => Turn::Go { probe: true },
            Some(remaining) if self.outstanding < remaining => Turn::Go { probe: false },
            Some(_) => match self.reset_at {
                Some(end) if end > now => Turn::Wait(end - now),
                _ => {
                    // The spent window is over: a new one begins, its budget unknown.
                    self.epoch += 1;
                    self.remaining = None;
                    self.debt = 0;
                    if self.probing { Turn::AwaitProbe } else { Turn::Go { probe: true } }
                }
            },
        }
    }

    fn take(&mut self, probe: bool) -> Ticket {
        self.outstanding += 1;
        self.probing |= probe;
        Ticket { epoch: self.epoch, seen: self.readings, probe }
    }

    /// Takes a ticket if the request may go now (or may not wait: `until` is the latest moment it
    /// may wait until), else says how long to wait.
    fn admit(&mut self, window: Duration, now: Instant, until: Option<Instant>) -> Result<Ticket, Duration> {
        let left = until.map(|until| until.saturating_duration_since(now));
        match self.turn(window, now) {
            Turn::Go { probe } => Ok(self.take(probe)),
            Turn::Wait(wait) if left.is_none_or(|left| wait <= left) => Err(wait),
            // With no time bound the probe's answer is awaited at most one window at a time.
            Turn::AwaitProbe => match left {
                None => Err(window),
                Some(left) if !left.is_zero() => Err(left),
                Some(_) => Ok(self.skip_wait(Duration::ZERO)),
            },
            Turn::Wait(wait) => Ok(self.skip_wait(wait)),
        }
    }

    /// A request whose wait would end too late goes at once, and the server's answer decides.
    fn skip_wait(&mut self, wait: Duration) -> Ticket {
        tracing::debug!(
            wait_ms = wait.as_millis() as u64,
            "pacing: the wait would end after the deadline; not waiting"
        );
        self.take(false)
    }

    /// Counts the answer to `ticket`'s request.
    fn settle(&mut self, ticket: Ticket, answer: Answer, window: Duration, now: Instant) {
        self.outstanding = self.outstanding.saturating_sub(1);
        if ticket.probe {
            self.probing = false;
        }
        let spend = |state: &mut RateState| match state.remaining.as_mut() {
            Some(remaining) => *remaining = remaining.saturating_sub(1),
            None => state.debt = state.debt.saturating_add(1),
        };
        if ticket.epoch != self.epoch {
            // Sent in an earlier window: its figure is stale, but it may have been counted in this one.
            spend(self);
            return;
        }
        let (reading, total, throttled, retry_after) = match answer {
            Answer::Reading { remaining, total, throttled, retry_after } => (remaining, total, throttled, retry_after),
            Answer::NoReading => {
                self.headerless = true;
                return;
            }
            Answer::Unanswered => {
                spend(self);
                return;
            }
        };
        self.headerless = false;
        let fresh = ticket.seen == self.readings;
        self.readings += 1;
        // A 429 means the budget is spent, whatever else it says.
        let reading = if throttled { 0 } else { reading };
        match self.remaining {
            None => {
                self.remaining = Some(reading.saturating_sub(std::mem::take(&mut self.debt)));
                self.reset_at = Some(next_end(self.reset_at, window, now));
            }
            Some(known) if reading < known => self.remaining = Some(reading),
            // No other answer was read while this request was in flight, so every request counted
            // after it is still out: its figure can be trusted, and a rise means a new window.
            Some(known) if reading > known && fresh => {
                self.epoch += 1;
                self.remaining = Some(reading);
                self.reset_at = Some(next_end(self.reset_at, window, now));
            }
            Some(_) => {}
        }
        if throttled {
            self.reset_at = now.checked_add(retry_after.unwrap_or(window).min(window)).or(self.reset_at);
        }
        let total = total.or(self.status.and_then(|s| s.total));
        if let Some(remaining) = self.remaining {
            self.status = Some(RateLimitStatus { total, remaining, observed_at: now });
        }
    }
}

/// The end of a window whose first answer came `now`: no later than one window after it, nor
/// than one window after the previous window's estimated end `previous` (which keeps estimates
/// from drifting later by a round trip each window).
fn next_end(previous: Option<Instant>, window: Duration, now: Instant) -> Instant {
    let from_now = now.checked_add(window);
    let from_previous = previous.and_then(|end| end.checked_add(window)).filter(|end| *end > now);
    match (from_now, from_previous) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(now),
    }
}

impl Pacer {
    pub(crate) fn new() -> Self {
        Pacer { state: Mutex::new(RateState::default()), changed: watch::Sender::new(()) }
    }

    fn state(&self) -> MutexGuard<'_, RateState> {
        // The state is plain data, valid after any panic elsewhere.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The latest budget.
    pub(crate) fn status(&self) -> Option<RateLimitStatus> {
        self.state().status
    }

    /// Waits until a request may be sent, then takes an in-flight slot and a unit of the budget.
    /// Waiting holds no slot, so a waiting request never keeps another from being sent; the budget
    /// is checked again once a slot is taken, as it may have been spent meanwhile.
    ///
    /// The waits of one request together end by `max_delay` from now and by `deadline`: a wait
    /// that would end later is not made, and the request is sent at once. `None` when `slots` was
    /// closed.
    pub(crate) async fn clear<'s>(
        &self,
        limits: PacingLimits,
        deadline: Option<Instant>,
        slots: &'s Semaphore,
    ) -> Option<(SemaphorePermit<'s>, Pass<'_>)> {
        // Most requests find a free slot and budget left: let through at once, without the
        // waiting loop's state (boxed below). A free slot means nobody queues for one (a released
        // slot goes to the first in the queue), so this overtakes no one.
        match slots.try_acquire() {
            Ok(permit) => {
                let now = Instant::now();
                let until = super::earliest(now.checked_add(limits.max_delay), deadline);
                if let (Ok(pass), _) = self.let_through(limits, now, until) {
                    return Some((permit, pass));
                }
            }
            Err(TryAcquireError::Closed) => return None,
            Err(TryAcquireError::NoPermits) => {}
        }
        Box::pin(self.clear_waiting(limits, deadline, slots)).await
    }

    /// A unit of the budget for a request sent `now`, or how long to wait first; and whether the
    /// budget is still unknown (read under the same lock).
    fn let_through(
        &self,
        limits: PacingLimits,
        now: Instant,
        until: Option<Instant>,
    ) -> (Result<Pass<'_>, Duration>, bool) {
        let mut state = self.state();
        let admitted = state.admit(limits.window, now, until);
        let pass =
            admitted.map(|ticket| Pass { pacer: self, ticket: Some(ticket), window: limits.window, sent_at: now });
        (pass, state.remaining.is_none())
    }

    /// [`clear`](Self::clear) of a request that has to wait for a slot or for the budget.
    async fn clear_waiting<'s>(
        &self,
        limits: PacingLimits,
        deadline: Option<Instant>,
        slots: &'s Semaphore,
    ) -> Option<(SemaphorePermit<'s>, Pass<'_>)> {
        let start = Instant::now();
        let until = super::earliest(start.checked_add(limits.max_delay), deadline);
        // Subscribed only once a request has to wait (most never do): before the state is read
        // again, so no change between that read and the wait is missed.
        let mut changed: Option<watch::Receiver<()>> = None;
        let mut now = start;
        loop {
            let permit = slots.acquire().await.ok()?;
            let (admitted, unknown) = self.let_through(limits, now, until);
            let wait = match admitted {
                Ok(pass) => return Some((permit, pass)),
                Err(wait) => wait,
            };
            drop(permit);
            match changed.as_mut() {
                None => changed = Some(self.changed.subscribe()),
                Some(changed) => {
                    let wait_ms = wait.as_millis() as u64;
                    if unknown {
                        tracing::debug!(wait_ms, "pacing: waiting for the first answer to show the budget");
                    } else {
                        tracing::debug!(wait_ms, "pacing: rate-limit budget nearly spent");
                    }
                    // Either outcome means "check again": the wait is over, or something was learnt.
                    // Boxed: a rare wait, whose timer (~200 bytes) would otherwise be part of
                    // every request's future.
                    let _ = Box::pin(tokio::time::timeout(wait, changed.changed())).await;
                }
            }
            now = Instant::now();
        }
    }

    /// Counts the answer to `ticket`'s request, sent at `sent_at`, and wakes waiting requests.
    fn settle(&self, ticket: Ticket, answer: Answer, window: Duration, sent_at: Instant) {
        // Only an answer with a reading uses the time; the clock is not read for the others.
        let now = if matches!(answer, Answer::Reading { .. }) { Instant::now() } else { sent_at };
        self.state().settle(ticket, answer, window, now);
        // A request subscribes before it reads the state it waits on, and the state is written
        // before this check under the same lock, so a waiter is never missed; with none (the
        // usual case) the notification is skipped.
        if self.changed.receiver_count() > 0 {
            self.changed.send_modify(|_| {});
        }
    }
}

/// A request's permission to be sent: gives its unit of the budget back with the answer
/// ([`observe`](Pass::observe)), or as unanswered when dropped without one.
#[derive(Debug)]
pub(crate) struct Pass<'a> {
    pacer: &'a Pacer,
    ticket: Option<Ticket>,
    window: Duration,
    /// When the request was let through.
    sent_at: Instant,
}

impl Pass<'_> {
    /// Counts `response`'s rate-limit headers.
    pub(crate) fn observe(&mut self, response: &Response) {
        if let Some(ticket) = self.ticket.take() {
            self.pacer.settle(ticket, Answer::of(response), self.window, self.sent_at);
        }
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket.take() {
            self.pacer.settle(ticket, Answer::Unanswered, self.window, self.sent_at);
        }
    }
}

/// Whether a wait of `wait` starting now ends by `deadline` (`None`: no deadline).
pub(crate) fn fits(deadline: Option<Instant>, wait: Duration) -> bool {
    deadline.is_none_or(|deadline| Instant::now().checked_add(wait).is_some_and(|end| end <= deadline))
}

#[cfg(test)]
mod tests;
