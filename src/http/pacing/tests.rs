//! The pacing state machine, driven with explicit moments: exact, and independent of timing.

use super::*;

const W: Duration = Duration::from_secs(10);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn reading(remaining: u64) -> Answer {
    Answer::Reading { remaining, total: Some(100), throttled: false, retry_after: None }
}

fn throttled(retry_after: Option<Duration>) -> Answer {
    Answer::Reading { remaining: 0, total: Some(100), throttled: true, retry_after }
}

/// Admits a request that must go now.
fn go(state: &mut RateState, now: Instant) -> Ticket {
    state.admit(W, now, None).unwrap_or_else(|wait| panic!("the request waits {wait:?}: {state:?}"))
}

/// A state whose budget is known: `remaining` read at `t0`, so its window ends by `t0 + W`.
fn known(t0: Instant, remaining: u64) -> RateState {
    let mut state = RateState::default();
    let probe = go(&mut state, t0);
    state.settle(probe, reading(remaining), W, t0);
    state
}

#[test]
fn the_first_request_goes_alone_and_its_answer_lets_the_others_take_the_budget_it_shows() {
    let t0 = Instant::now();
    let mut state = RateState::default();
    let probe = go(&mut state, t0);
    assert!(probe.probe);
    // The budget is unknown: the others wait for the probe's answer, as long as they may.
    assert_eq!(state.admit(W, t0, Some(t0 + secs(3))).err(), Some(secs(3)));
    assert_eq!(state.admit(W, t0, None).err(), Some(W));
    state.settle(probe, reading(3), W, t0 + ms(5));
    // Three units: three requests go at once, and a fourth waits for the window to end, which
    // is no later than one window after the first answer.
    let tickets: Vec<_> = (0..3).map(|_| go(&mut state, t0 + ms(6))).collect();
    assert!(tickets.iter().all(|t| !t.probe));
    assert_eq!(state.admit(W, t0 + ms(6), None).err(), Some(W - ms(1)));
    assert_eq!(state.status.map(|s| (s.total, s.remaining)), Some((Some(100), 3)));
}

#[test]
fn requests_in_flight_are_counted_against_remaining_and_the_lowest_figure_is_kept() {
    let t0 = Instant::now();
    let mut state = known(t0, 4);
    let [a, b, c, d] = [(); 4].map(|_| go(&mut state, t0));
    assert!(state.admit(W, t0, None).is_err(), "a fifth request was let go with four units");
    // Answers out of order: d was counted last (0 left), then the older a (3 left) arrives.
    state.settle(d, reading(0), W, t0 + ms(1));
    state.settle(a, reading(3), W, t0 + ms(2));
    assert_eq!(state.remaining, Some(0), "a stale, higher figure was taken");
    assert_eq!(state.status.map(|s| s.remaining), Some(0));
    assert!(state.admit(W, t0 + ms(3), None).is_err());
    state.settle(b, reading(1), W, t0 + ms(3));
    state.settle(c, reading(2), W, t0 + ms(4));
    assert_eq!(state.remaining, Some(0));
    // Still spent: wait for the end of the window (first read at t0).
    assert_eq!(state.admit(W, t0 + secs(4), None).err(), Some(secs(6)));
}

#[test]
fn a_higher_figure_is_trusted_only_from_the_freshest_answer_and_then_starts_a_new_window() {
    let t0 = Instant::now();
    let mut state = known(t0, 50);
    let (old, fresh) = (go(&mut state, t0), go(&mut state, t0));
    // Another answer came while `old` was in flight: its higher figure may predate that one.
    state.settle(old, reading(40), W, t0 + ms(1));
    assert_eq!(state.remaining, Some(40));
    let stale = go(&mut state, t0 + ms(2));
    state.settle(fresh, reading(45), W, t0 + ms(3));
    assert_eq!(state.remaining, Some(40), "a figure older than the last answer raised the budget");
    // Nothing else was read while this one was in flight: a rise means the window has reset.
    let newest = go(&mut state, t0 + secs(7));
    let epoch = state.epoch;
    state.settle(newest, reading(99), W, t0 + secs(7) + ms(1));
    assert_eq!(state.remaining, Some(99));
    assert_eq!(state.epoch, epoch + 1);
    // It began by this answer, so it ends no later than one window after it.
    assert_eq!(state.reset_at, Some(t0 + secs(17) + ms(1)));
    // An answer to a request sent in the old window says nothing about this one, but the request
    // may have been counted in it: one unit is taken off.
    state.settle(stale, reading(3), W, t0 + secs(8));
    assert_eq!(state.remaining, Some(98));
    assert_eq!(state.outstanding, 0);
}

#[test]
fn a_spent_window_lets_one_probe_go_at_its_end_and_the_estimate_does_not_drift() {
    let t0 = Instant::now();
    let mut state = known(t0, 1);
    let last = go(&mut state, t0);
    state.settle(last, reading(0), W, t0 + ms(1));
    assert_eq!(state.admit(W, t0 + secs(2), None).err(), Some(secs(8)));
    // At the window's end exactly one request goes: no herd at the reset.
    let probe = go(&mut state, t0 + secs(10));
    assert!(probe.probe);
    for _ in 0..5 {
        assert_eq!(state.admit(W, t0 + secs(10), Some(t0 + secs(11))).err(), Some(secs(1)));
    }
    // Its answer, a round trip later, opens the new window, whose end stays t0 + 20 s.
    state.settle(probe, reading(99), W, t0 + secs(10) + ms(3));
    assert_eq!(state.remaining, Some(99));
    assert_eq!(state.reset_at, Some(t0 + secs(20)));
    assert_eq!(state.status.map(|s| s.remaining), Some(99));
}

#[test]
fn a_429_spends_the_budget_and_its_retry_after_gives_the_reset_within_one_window() {
    let t0 = Instant::now();
    let mut state = known(t0, 50);
    let refused = go(&mut state, t0 + secs(1));
    state.settle(refused, throttled(Some(secs(3))), W, t0 + secs(1));
    assert_eq!(state.remaining, Some(0));
    assert_eq!(state.reset_at, Some(t0 + secs(4)));
    assert_eq!(state.admit(W, t0 + secs(2), None).err(), Some(secs(2)));
    // A day ahead is taken as one window ahead; no Retry-After as one window too.
    let mut state = known(t0, 50);
    let refused = go(&mut state, t0);
    state.settle(refused, throttled(Some(secs(86_400))), W, t0);
    assert_eq!(state.reset_at, Some(t0 + W));
    let mut state = known(t0, 50);
    let refused = go(&mut state, t0);
    state.settle(refused, throttled(None), W, t0 + secs(1));
    assert_eq!(state.reset_at, Some(t0 + secs(11)));
}

#[test]
fn a_server_without_rate_limit_headers_is_never_paced() {
    let t0 = Instant::now();
    let mut state = RateState::default();
    let probe = go(&mut state, t0);
    state.settle(probe, Answer::NoReading, W, t0);
    // Any number of requests go at once, answered or not.
    let tickets: Vec<_> = (0..1000).map(|_| go(&mut state, t0)).collect();
    assert!(tickets.iter().all(|t| !t.probe));
    assert_eq!(state.status, None);
    // A window of zero turns pacing off even for a server that sends the headers.
    let mut state = RateState::default();
    let first = state.admit(Duration::ZERO, t0, None).unwrap();
    state.settle(first, reading(0), Duration::ZERO, t0);
    assert!((0..10).all(|_| state.admit(Duration::ZERO, t0, None).is_ok()));
}

#[test]
fn a_server_that_never_shows_budget_delays_a_request_only_within_the_retry_policy() {
    let t0 = Instant::now();
    let mut state = known(t0, 0);
    // The reset (t0 + 10 s) is later than this request may wait (until t0 + 1 s): it goes now.
    let forced = state.admit(W, t0, Some(t0 + secs(1))).expect("the request waited past its bound");
    assert!(!forced.probe);
    // One that may wait long enough waits for the reset; then one probe goes, answered "0" again.
    assert_eq!(state.admit(W, t0, Some(t0 + secs(30))).err(), Some(secs(10)));
    let probe = go(&mut state, t0 + secs(10));
    assert!(probe.probe);
    // Waiting for the probe ends by the request's bound: at it, the request goes.
    assert_eq!(state.admit(W, t0 + secs(10), Some(t0 + secs(12))).err(), Some(secs(2)));
    assert!(state.admit(W, t0 + secs(12), Some(t0 + secs(12))).is_ok());
    state.settle(probe, reading(0), W, t0 + secs(10));
    // The next window's end is one window later, never further.
    assert_eq!(state.admit(W, t0 + secs(10), None).err(), Some(secs(10)));
}

#[test]
fn answers_lost_while_the_budget_is_unknown_are_taken_off_the_first_figure() {
    let t0 = Instant::now();
    let mut state = RateState::default();
    let probe = go(&mut state, t0);
    // A request that may not wait goes beside the probe, and its answer is lost.
    let forced = state.admit(W, t0, Some(t0)).unwrap();
    state.settle(forced, Answer::Unanswered, W, t0);
    state.settle(probe, reading(5), W, t0);
    assert_eq!(state.remaining, Some(4));
    // A lost answer later is one unit spent as well.
    let lost = go(&mut state, t0);
    state.settle(lost, Answer::Unanswered, W, t0);
    assert_eq!((state.remaining, state.outstanding), (Some(3), 0));
}

#[test]
fn a_wait_fits_only_if_it_ends_by_the_deadline() {
    assert!(fits(None, Duration::MAX));
    let deadline = Instant::now() + secs(60);
    assert!(fits(Some(deadline), secs(30)));
    assert!(!fits(Some(deadline), secs(90)));
    assert!(!fits(Some(deadline), Duration::MAX));
    assert!(!fits(Some(Instant::now()), ms(1)));
}

fn pacer(http: &crate::Http) -> &Pacer {
    http.pacing_parts().0
}

#[tokio::test]
async fn a_pass_dropped_without_an_answer_gives_its_unit_back_as_spent_and_wakes_waiters() {
    let pacer = Pacer::new();
    let slots = Semaphore::new(4);
    let limits = PacingLimits { window: W, max_delay: secs(60) };
    let (permit, pass) = pacer.clear(limits, None, &slots).await.unwrap();
    assert_eq!(pacer.state().outstanding, 1);
    let changed = pacer.changed.subscribe();
    drop((permit, pass));
    assert!(changed.has_changed().unwrap());
    let state = pacer.state();
    assert_eq!((state.outstanding, state.debt, state.probing), (0, 1, false));
}

#[tokio::test]
async fn a_pacing_wait_holds_no_in_flight_slot() {
    // A port nothing listens on: the request fails fast once it is finally sent.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let connector = crate::ScimBearer::for_loopback(&format!("http://127.0.0.1:{port}/scim/v2"), "t").unwrap();
    let window = secs(60);
    let client = crate::Client::builder(connector)
        .timeout(secs(1))
        .max_response_bytes(1024)
        .retry_policy(crate::RetryPolicy::none().with_deadline(secs(120)))
        .max_in_flight(2)
        .rate_limit_window(window)
        .build()
        .unwrap();
    let http = client.http().clone();
    // The budget is spent, and the window ends in a minute.
    let probe = pacer(&http).state().take(true);
    pacer(&http).settle(probe, reading(0), window, Instant::now());
    let url = http.endpoint(&["Users", "u1"]).unwrap();
    let waiting = tokio::spawn({
        let http = http.clone();
        async move { http.send(crate::Request::get(url, "/Users/{id}")).await }
    });
    tokio::time::sleep(ms(300)).await;
    assert!(!waiting.is_finished(), "the request did not wait for the window to reset");
    assert_eq!(http.pacing_parts().1, 2, "a waiting request holds an in-flight slot");
    // The freshest answer shows budget (a new window): the wait ends at once.
    let fresh = pacer(&http).state().take(false);
    pacer(&http).settle(fresh, reading(99), window, Instant::now());
    let result = tokio::time::timeout(secs(5), waiting).await.expect("still waiting").unwrap();
    let error = result.expect_err("nothing listens on the port");
    assert!(matches!(&error, crate::Error::Transport(t) if t.is_connect()), "{error:?}");
}
