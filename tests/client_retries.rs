//! The Client's retries against a test-only connector (`support/fake_connector.rs`) on httpmock:
//! `429` and `Retry-After` (seconds or an HTTP date), the attempt cap and the maximum delay.
//!
//! Every test starts one mock server, asserts each request's method, path, query, headers and
//! whole body, and ends with a catch-all mock that must have seen no request.

#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/fake_connector_mock.rs"]
mod mock;

use std::time::{Duration, Instant};

use fake_connector::{EMAIL, Fake, wire};
use httpmock::MockServer;
use identity_connectors::{Client, ErrorKind, ProvisionOutcome, RetryPolicy, UserId};
use mock::{catch_all, client, create_mock, find_mock, get_mock, jane};
use serde_json::json;

#[tokio::test]
async fn a_get_answered_429_429_then_200_honours_both_waits() {
    let server = MockServer::start_async().await;
    let throttled = get_mock(&server, |then| {
        then.status(429).header("retry-after", "1").json_body(json!({"message": "slow down"})).up_to_n_times(2)
    })
    .await;
    let ok = get_mock(&server, |then| then.status(200).json_body(wire(7, EMAIL, "t", true))).await;
    let unexpected = catch_all(&server).await;
    let started = Instant::now();
    let user = client(&server).get(&UserId::new("7")).await.unwrap();
    assert_eq!(user.id, UserId::new("7"));
    // Two 429s, each answered with `Retry-After: 1`: the client waited at least 2 s in all.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    throttled.assert_calls_async(2).await;
    ok.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_create_answered_429_429_then_201_honours_both_waits() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let throttled = create_mock(&server, |then| {
        then.status(429).header("retry-after", "1").json_body(json!({"message": "slow down"})).up_to_n_times(2)
    })
    .await;
    let created = create_mock(&server, |then| then.status(201).json_body(wire(7, EMAIL, "Analyst", true))).await;
    let unexpected = catch_all(&server).await;
    let started = Instant::now();
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    // A 429 means the server did not act, so the create is sent again, after each wait it asked for.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    find.assert_calls_async(1).await;
    throttled.assert_calls_async(2).await;
    created.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_always_throttling_server_stops_at_the_attempt_cap() {
    let server = MockServer::start_async().await;
    let throttled = get_mock(&server, |then| {
        then.status(429).header("retry-after", "0").json_body(json!({"message": "slow down"}))
    })
    .await;
    let unexpected = catch_all(&server).await;
    let c = Client::builder(Fake::new(&server.base_url()))
        .retry_policy(RetryPolicy::default().with_max_attempts(3))
        .build()
        .unwrap();
    let error = c.get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Throttling);
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert_eq!(error.to_string(), "Rate limited (retry after 0 s): HTTP 429: slow down");
    throttled.assert_calls_async(3).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_maximum_delay_is_returned_at_once() {
    let server = MockServer::start_async().await;
    let long = get_mock(&server, |then| then.status(429).header("retry-after", "3600")).await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    long.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_absurd_retry_after_neither_panics_nor_waits() {
    let server = MockServer::start_async().await;
    let absurd = get_mock(&server, |then| then.status(429).header("retry-after", "9999999999999999999")).await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.retry_after(), Some(identity_connectors::MAX_RETRY_AFTER));
    absurd.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = MockServer::start_async().await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let throttled =
        get_mock(&server, |then| then.status(503).header("retry-after", date.as_str()).body("busy").up_to_n_times(1))
            .await;
    let ok = get_mock(&server, |then| then.status(200).json_body(wire(7, EMAIL, "t", true))).await;
    let unexpected = catch_all(&server).await;
    let started = Instant::now();
    client(&server).get(&UserId::new("7")).await.unwrap();
    // The date was 2 s ahead at second precision, so at least ~1 s remained when it was read.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    throttled.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_500_is_returned_at_once_with_an_excerpt_of_its_html() {
    let server = MockServer::start_async().await;
    let boom = get_mock(&server, |then| {
        then.status(500).header("content-type", "text/html").body("<html><h1>Internal Server Error</h1></html>")
    })
    .await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server);
    assert_eq!(
        error.to_string(),
        "API error: HTTP 500: Internal Server Error (body starts: \"<html><h1>Internal Server Error</h1></html>\")"
    );
    boom.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
