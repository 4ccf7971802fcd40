//! Rate-limit pacing spends the budget a server shows without `429`s from the very first window,
//! and is bounded by what the caller set: one hostile `429` (a reset a day ahead, no budget left)
//! or a server that always claims a spent budget must not stall later requests past the retry
//! policy's deadline or `max_delay`, past one rate-limit window, or at all under
//! `RetryPolicy::none()`; a server without rate-limit headers is not slowed; and the first
//! answer that shows budget lets waiting requests go at once. One mock server per test; a
//! catch-all answers anything unexpected with 599 and must never be hit.
//!
//! Timings are real and bounds generous: the bugs wait 60 s (the default `max_delay`) or send
//! everything at once, the tests allow seconds either way; request counts are exact.

#[path = "support/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::mock::{BASE, TOKEN, catch_all, path, without_body};
use httpmock::{Mock, MockServer};
use identity_connectors::{Client, Error, MAX_RETRY_AFTER, RetryPolicy, ScimBearer, UserId};
use serde_json::json;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn builder(server: &MockServer) -> identity_connectors::ClientBuilder {
    let connector = ScimBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector");
    Client::builder(connector).timeout(Duration::from_millis(300))
}

/// `GET /Users/{id}` answered with a user; `extra` adds headers to the answer.
async fn user<'a>(server: &'a MockServer, id: &str, delay: Duration, extra: &[(&str, &str)]) -> Mock<'a> {
    let body = json!({"schemas": [CORE], "id": id, "userName": format!("{id}@example.com"), "active": true});
    let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path(&format!("/Users/{id}"))));
            let mut then = then.status(200).header("content-type", "application/scim+json").delay(delay);
            for (k, v) in &extra {
                then = then.header(k.as_str(), v.as_str());
            }
            then.json_body(body);
        })
        .await
}

/// `GET /Users/hostile` answered `429` with a reset a day ahead and no budget left.
async fn hostile(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/hostile")));
            then.status(429)
                .header("content-type", "application/scim+json")
                .header("retry-after", "86400")
                .header("x-ratelimit-total", "400")
                .header("x-ratelimit-remaining", "0")
                .json_body(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "429", "detail": "slow down"}));
        })
        .await
}

/// Sends the hostile request and checks it is refused at once with the server's `Retry-After`
/// (a day is more than `max_delay`, so it is never retried).
async fn provoke(client: &Client) {
    let started = Instant::now();
    let error = client.get(&UserId::new("hostile")).await.expect_err("a 429 is an error");
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(MAX_RETRY_AFTER));
    assert!(started.elapsed() < Duration::from_secs(2), "the 429 itself was waited out");
    assert_eq!(client.rate_limit().map(|r| r.remaining), Some(0));
}

async fn get_within(client: &Client, id: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let user = tokio::time::timeout(limit, client.get(&UserId::new(id)))
        .await
        .unwrap_or_else(|_| panic!("GET /Users/{id} was still waiting after {limit:?}"))
        .expect("the user");
    assert_eq!(user.id.as_str(), id);
    started.elapsed()
}

#[tokio::test]
async fn retry_policy_none_never_waits_after_a_hostile_429() {
    let server = MockServer::start_async().await;
    let refused = hostile(&server).await;
    let found = user(&server, "u1", Duration::ZERO, &[]).await;
    let unexpected = catch_all(&server).await;
    let client = builder(&server).retry_policy(RetryPolicy::none()).build().unwrap();

    provoke(&client).await;
    // The repro: each later request used to wait 60 s before it was even sent. With no
    // waiting allowed, each is sent at once and the server's answer decides.
    for _ in 0..3 {
        get_within(&client.clone(), "u1", Duration::from_secs(2)).await;
    }
    refused.assert_calls_async(1).await;
    found.assert_calls_async(3).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_deadline_bounds_pacing_and_retry_waits() {
    let server = MockServer::start_async().await;
    let refused = hostile(&server).await;
    let found = user(&server, "u1", Duration::ZERO, &[]).await;
    let throttled = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/busy")));
            then.status(429).header("retry-after", "5").body("busy");
        })
        .await;
    let unexpected = catch_all(&server).await;
    let policy = RetryPolicy::default().with_deadline(Duration::from_secs(1));
    assert_eq!(policy.deadline(), Duration::from_secs(1));
    assert_eq!(RetryPolicy::default().deadline(), Duration::from_secs(120));
    assert_eq!(RetryPolicy::none().deadline(), Duration::ZERO);
    let client = builder(&server).retry_policy(policy).build().unwrap();

    provoke(&client).await;
    // Pacing would wait a whole window (60 s): that ends after the 1 s deadline, so the request is
    // sent at once instead.
    get_within(&client, "u1", Duration::from_secs(2)).await;
    found.assert_calls_async(1).await;

    // A 5 s Retry-After is within max_delay (60 s) but ends after the deadline: no retry, the
    // server's answer comes back at once for the caller to schedule the work by.
    let started = Instant::now();
    let error = client.get(&UserId::new("busy")).await.expect_err("throttled");
    assert!(started.elapsed() < Duration::from_secs(2), "the retry wait was made: {:?}", started.elapsed());
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert_eq!(error.retry_after(), Some(Duration::from_secs(5)));
    throttled.assert_calls_async(1).await;
    refused.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_reset_far_beyond_the_window_is_clamped_to_one_window() {
    let server = MockServer::start_async().await;
    let refused = hostile(&server).await;
    let found = user(&server, "u1", Duration::ZERO, &[]).await;
    let unexpected = catch_all(&server).await;
    // The default policy (60 s max_delay, 120 s deadline) and a 1 s window.
    let client = builder(&server).rate_limit_window(Duration::from_secs(1)).build().unwrap();

    provoke(&client).await;
    // The budget is spent, so the next request still waits for the reset, but the reset is taken
    // to be one window (1 s) away, not the day the server announced.
    let waited = get_within(&client, "u1", Duration::from_secs(4)).await;
    assert!(waited >= Duration::from_millis(500), "no pacing wait at all: {waited:?}");
    // That window is over: later requests go at once.
    let waited = get_within(&client, "u1", Duration::from_secs(4)).await;
    assert!(waited < Duration::from_millis(500), "paced again: {waited:?}");
    found.assert_calls_async(2).await;
    refused.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_first_request_goes_alone_and_its_answer_lets_the_others_go_at_once() {
    let server = MockServer::start_async().await;
    // Answered after a second, with plenty of budget.
    let found =
        user(&server, "u1", Duration::from_secs(1), &[("x-ratelimit-total", "400"), ("x-ratelimit-remaining", "399")])
            .await;
    let unexpected = catch_all(&server).await;
    // Default policy and window: a request that slept instead of waiting for the answer would
    // sleep up to 60 s.
    let client = builder(&server).timeout(Duration::from_secs(5)).max_in_flight(4).build().unwrap();
    let started = Instant::now();

    let requests: Vec<_> = (0..4)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { get_within(&client, "u1", Duration::from_secs(10)).await })
        })
        .collect();
    // The budget is unknown: one request goes, the others wait for its answer.
    tokio::time::sleep(Duration::from_millis(400)).await;
    found.assert_calls_async(1).await;
    for request in requests {
        request.await.unwrap();
    }
    // Two round trips: the probe's, then the others' together (not four, not a sleep).
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(2), "the others did not wait for the first answer: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(6), "waiting requests slept on: {elapsed:?}");
    found.assert_calls_async(4).await;
    unexpected.assert_calls_async(0).await;
    // The budget as the server showed it.
    assert_eq!(client.rate_limit().map(|r| (r.total, r.remaining)), Some((Some(400), 399)));
}

#[tokio::test]
async fn a_server_without_rate_limit_headers_sees_no_added_latency_after_its_first_answer() {
    let server = MockServer::start_async().await;
    let found = user(&server, "u1", Duration::from_secs(1), &[]).await;
    let unexpected = catch_all(&server).await;
    let client = builder(&server).timeout(Duration::from_secs(5)).max_in_flight(8).build().unwrap();
    get_within(&client, "u1", Duration::from_secs(5)).await;
    assert_eq!(client.rate_limit(), None);

    // Eight at once take one round trip: none waits for another (paced, they would take two or
    // more).
    let started = Instant::now();
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { get_within(&client, "u1", Duration::from_secs(10)).await })
        })
        .collect();
    for request in requests {
        request.await.unwrap();
    }
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_millis(1900), "requests waited for each other: {elapsed:?}");
    found.assert_calls_async(9).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_server_that_never_shows_budget_delays_requests_only_within_the_retry_policy() {
    let server = MockServer::start_async().await;
    // Every answer is a success that claims the budget is spent.
    let liar =
        user(&server, "u1", Duration::ZERO, &[("x-ratelimit-total", "100"), ("x-ratelimit-remaining", "0")]).await;
    let unexpected = catch_all(&server).await;

    // The window (60 s) ends later than a request may wait (max_delay 300 ms): none waits at all.
    let policy = RetryPolicy::default().with_max_delay(Duration::from_millis(300));
    let client = builder(&server).max_in_flight(4).retry_policy(policy).build().unwrap();
    let started = Instant::now();
    let requests: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { get_within(&client, "u1", Duration::from_secs(5)).await })
        })
        .collect();
    for request in requests {
        request.await.unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(3), "waited: {:?}", started.elapsed());
    liar.assert_calls_async(8).await;
    assert_eq!(client.rate_limit().map(|r| r.remaining), Some(0));

    // A short window (400 ms) is waited out, one window per request at most: the client is slowed
    // to the rate the server claims, and never hangs.
    let client = builder(&server).rate_limit_window(Duration::from_millis(400)).build().unwrap();
    let started = Instant::now();
    for _ in 0..4 {
        get_within(&client, "u1", Duration::from_secs(3)).await;
    }
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_millis(1200), "the claimed-spent budget was not waited for: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "waited: {elapsed:?}");
    liar.assert_calls_async(12).await;
    unexpected.assert_calls_async(0).await;
}

/// From the very first window, the client never sends more than the sandbox's budget in one
/// window: no `429` at all, whether the budget is smaller or larger than what may be in flight.
#[cfg(feature = "sandbox")]
#[tokio::test]
async fn from_the_first_window_the_sandbox_budget_is_never_overrun() {
    use identity_connectors::sandbox::FreshserviceSandbox;
    const WINDOW: Duration = Duration::from_millis(700);
    for (budget, in_flight, requests) in [(5u32, 8usize, 12usize), (12, 4, 30)] {
        let sandbox = FreshserviceSandbox::builder().rate_limit(budget, WINDOW).start().await.unwrap();
        let id = sandbox.insert_requester(json!({"first_name": "Pace", "primary_email": "pace@example.com"})).unwrap();
        let client = Client::builder(sandbox.connector().unwrap())
            .max_in_flight(in_flight)
            .rate_limit_window(WINDOW)
            .build()
            .unwrap();
        let id = UserId::new(id.to_string());
        let gets: Vec<_> = (0..requests)
            .map(|_| {
                let (client, id) = (client.clone(), id.clone());
                tokio::spawn(async move { client.get(&id).await })
            })
            .collect();
        for get in gets {
            let user = get.await.unwrap().expect("the requester");
            assert_eq!(user.id, id);
        }
        let stats = sandbox.stats();
        let case = format!("budget {budget}, {in_flight} in flight: {stats:?}");
        assert_eq!(stats.rate_limited, 0, "{case}");
        assert_eq!(stats.status(429), 0, "{case}");
        assert_eq!(stats.status(200), requests as u64, "{case}");
        assert_eq!(stats.requests, requests as u64, "{case}");
        assert!(stats.max_received_in_window <= u64::from(budget), "{case}");
    }
}

#[tokio::test]
async fn the_deadline_is_shared_by_every_request_of_one_call() {
    // A provision's look-up takes 700 ms; its create is answered 429 with a 1 s Retry-After. With a
    // 1.5 s deadline per call, that wait would end at about 1.7 s: the create is not retried and the
    // server's answer comes back. (A deadline per request would start the create's clock at 0.7 s
    // and retry it once.)
    let server = MockServer::start_async().await;
    let lookup = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(200)
                .header("content-type", "application/scim+json")
                .delay(Duration::from_millis(700))
                .json_body(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                                  "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []}));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            when.method("POST").path(path("/Users"));
            then.status(429).header("retry-after", "1").body("busy");
        })
        .await;
    let unexpected = catch_all(&server).await;
    let policy = RetryPolicy::default().with_deadline(Duration::from_millis(1500));
    let client = builder(&server).timeout(Duration::from_secs(5)).retry_policy(policy).build().unwrap();

    let started = Instant::now();
    let error = client.provision(&identity_connectors::User::builder("late@example.com").build()).await.unwrap_err();
    assert!(matches!(error, Error::RateLimited { .. }), "{error:?}");
    assert!(started.elapsed() < Duration::from_millis(1400), "waited: {:?}", started.elapsed());
    lookup.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
