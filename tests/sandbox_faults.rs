//! Fault injection, at the HTTP level with plain reqwest: what the client sees, what the server
//! counted, and that faults never corrupt state.

use std::time::Duration;

use identity_connectors::Method;
use identity_connectors::sandbox::{Fault, FaultKind, Faults, FreshserviceSandbox, ScimSandbox};
use serde_json::{Value, json};

/// What one request got: a status, or `None` when the connection closed without a response.
async fn status_of(client: &reqwest::Client, method: &str, url: &str, token: &str, body: Option<Value>) -> Option<u16> {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.header("Content-Type", "application/scim+json").body(body.to_string());
    }
    match request.send().await {
        Ok(response) => Some(response.status().as_u16()),
        Err(error) => {
            assert!(!error.is_timeout() && !error.is_builder() && error.status().is_none(), "{error:?}");
            None
        }
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("client")
}

fn flaky(seed: u64) -> Faults {
    Faults::seeded(seed)
        .rate(0.5)
        .fault(Fault::Throttle { retry_after: Duration::from_millis(1500) })
        .fault(Fault::Unavailable)
        .fault(Fault::Drop)
}

/// Sends 40 sequential `GET /Users` to a sandbox with `faults` and returns what each got.
async fn run(faults: Faults) -> (Vec<Option<u16>>, ScimSandbox) {
    let sandbox = ScimSandbox::builder().faults(faults).start().await.expect("start");
    let client = client();
    let url = format!("{}/Users", sandbox.base_url());
    let mut outcomes = Vec::new();
    for _ in 0..40 {
        outcomes.push(status_of(&client, "GET", &url, sandbox.token(), None).await);
    }
    (outcomes, sandbox)
}

#[tokio::test]
async fn the_same_seed_replays_the_same_faults_and_the_server_counts_them() {
    let (first, sandbox) = run(flaky(42)).await;
    let (second, _) = run(flaky(42)).await;
    let (other, _) = run(flaky(7)).await;
    assert_eq!(first, second, "same seed, same sequence");
    assert_ne!(first, other, "another seed, another sequence");

    let count = |outcome: Option<u16>| first.iter().filter(|o| **o == outcome).count() as u64;
    let (ok, throttled, unavailable, dropped) = (count(Some(200)), count(Some(429)), count(Some(503)), count(None));
    assert_eq!(ok + throttled + unavailable + dropped, 40, "{first:?}");
    assert!(throttled > 0 && unavailable > 0 && dropped > 0 && ok > 0, "{first:?}");

    let stats = sandbox.stats();
    assert_eq!(stats.requests, 40);
    assert_eq!(stats.faults_of(FaultKind::Throttle), throttled);
    assert_eq!(stats.faults_of(FaultKind::Unavailable), unavailable);
    assert_eq!(stats.faults_of(FaultKind::Drop), dropped);
    assert_eq!((stats.status(200), stats.status(429), stats.status(503)), (ok, throttled, unavailable));
    assert_eq!(stats.rate_limited, 0, "injected throttles are not budget rejections");
    let log: Vec<Option<u16>> = sandbox.requests().iter().map(|r| r.status).collect();
    assert_eq!(log, first, "the request log matches what the client saw");
    assert!(sandbox.requests().iter().all(|r| r.method == "GET" && r.path == "/scim/v2/Users"));
}

#[tokio::test]
async fn an_injected_throttle_carries_retry_after_and_applies_nothing() {
    let faults = Faults::seeded(1).rate(1.0).fault(Fault::Throttle { retry_after: Duration::from_millis(1500) });
    let sandbox = ScimSandbox::builder().faults(faults).start().await.expect("start");
    let response = client()
        .post(format!("{}/Users", sandbox.base_url()))
        .bearer_auth(sandbox.token())
        .header("Content-Type", "application/scim+json")
        .body(json!({"userName": "a@x.com"}).to_string())
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("2"), "rounded up");
    let body: Value = serde_json::from_slice(&response.bytes().await.expect("body")).expect("json");
    assert_eq!(body["status"], "429");
    assert_eq!(sandbox.user_count(), 0);
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_and_the_request_is_not_applied() {
    let sandbox =
        ScimSandbox::builder().faults(Faults::seeded(3).rate(1.0).fault(Fault::Drop)).start().await.expect("start");
    let url = format!("{}/Users", sandbox.base_url());
    let outcome = status_of(&client(), "POST", &url, sandbox.token(), Some(json!({"userName": "a@x.com"}))).await;
    assert_eq!(outcome, None);
    assert_eq!(sandbox.user_count(), 0);
    let stats = sandbox.stats();
    assert_eq!((stats.requests, stats.faults_of(FaultKind::Drop)), (1, 1));
    assert!(stats.responses_by_status.is_empty(), "no response was sent");
}

#[tokio::test]
async fn drop_after_commit_stores_the_user_although_the_response_is_lost() {
    let lost_create = Faults::seeded(5).rate(1.0).fault(Fault::DropAfterCommit).only(&[Method::Post]).at_most(1);
    let sandbox = ScimSandbox::builder().faults(lost_create).start().await.expect("start");
    let client = client();
    let url = format!("{}/Users", sandbox.base_url());
    let body = json!({"userName": "a@x.com"});

    assert_eq!(status_of(&client, "POST", &url, sandbox.token(), Some(body.clone())).await, None);
    assert_eq!(sandbox.user_count(), 1, "the create was applied");
    assert!(sandbox.user_by_user_name("a@x.com").is_some());
    // The client's blind retry now conflicts, which is why creates must be reconciled.
    assert_eq!(status_of(&client, "POST", &url, sandbox.token(), Some(body)).await, Some(409));
    assert_eq!(status_of(&client, "GET", &url, sandbox.token(), None).await, Some(200));
    let stats = sandbox.stats();
    assert_eq!(stats.faults_of(FaultKind::DropAfterCommit), 1);
    assert_eq!((stats.status(201), stats.status(409), stats.status(200)), (0, 1, 1));
    let first = &sandbox.requests()[0];
    assert_eq!((first.method.as_str(), first.status, first.fault), ("POST", None, Some(FaultKind::DropAfterCommit)));
}

#[tokio::test]
async fn delays_still_answer_and_faults_can_change_at_runtime() {
    let sandbox = ScimSandbox::start().await.expect("start");
    let client = client();
    let url = format!("{}/Users", sandbox.base_url());
    assert_eq!(status_of(&client, "GET", &url, sandbox.token(), None).await, Some(200));

    sandbox.set_faults(Faults::seeded(1).rate(1.0).fault(Fault::Delay(Duration::from_millis(50))));
    assert_eq!(status_of(&client, "GET", &url, sandbox.token(), None).await, Some(200));
    sandbox.set_faults(Faults::seeded(1).rate(1.0).fault(Fault::Unavailable).only(&[Method::Delete]));
    assert_eq!(status_of(&client, "GET", &url, sandbox.token(), None).await, Some(200));
    assert_eq!(status_of(&client, "DELETE", &format!("{url}/x"), sandbox.token(), None).await, Some(503));
    sandbox.set_faults(Faults::none());
    assert_eq!(status_of(&client, "DELETE", &format!("{url}/x"), sandbox.token(), None).await, Some(404));

    let stats = sandbox.stats();
    assert_eq!((stats.faults_of(FaultKind::Delay), stats.faults_of(FaultKind::Unavailable)), (1, 1));
    assert_eq!((stats.requests, stats.status(200), stats.status(503), stats.status(404)), (5, 3, 1, 1));
}

#[tokio::test]
async fn freshservice_faults_do_not_consume_the_budget() {
    let faults = Faults::seeded(11).rate(1.0).fault(Fault::Unavailable).at_most(3);
    let sandbox = FreshserviceSandbox::builder()
        .rate_limit(2, Duration::from_secs(3600))
        .faults(faults)
        .start()
        .await
        .expect("start");
    let client = client();
    let url = format!("{}/requesters", sandbox.base_url());
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let response = client.get(&url).basic_auth(sandbox.api_key(), Some("X")).send().await.expect("a response");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [503, 503, 503, 200, 200, 429]);
    let stats = sandbox.stats();
    assert_eq!((stats.faults_of(FaultKind::Unavailable), stats.rate_limited, stats.max_accepted_in_window), (3, 1, 2));
    assert_eq!(stats.max_received_in_window, 3, "faulted requests never reach the budget");
}

#[tokio::test]
async fn a_delay_whose_client_gave_up_is_counted_and_logged() {
    let long_delay = Faults::seeded(1).rate(1.0).fault(Fault::Delay(Duration::from_secs(30)));
    let sandbox = ScimSandbox::builder().faults(long_delay).start().await.expect("start");
    let impatient = reqwest::Client::builder().no_proxy().timeout(Duration::from_millis(100)).build().expect("client");
    let error = impatient
        .get(format!("{}/Users", sandbox.base_url()))
        .bearer_auth(sandbox.token())
        .send()
        .await
        .expect_err("the client gives up first");
    assert!(error.is_timeout(), "{error:?}");
    // The server notices the closed connection shortly after.
    let mut log = sandbox.requests();
    for _ in 0..100 {
        if !log.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        log = sandbox.requests();
    }
    let stats = sandbox.stats();
    assert_eq!((stats.requests, stats.faults_of(FaultKind::Delay)), (1, 1), "{stats:?}");
    assert!(stats.responses_by_status.is_empty(), "no response was sent: {stats:?}");
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!((log[0].method.as_str(), log[0].status, log[0].fault), ("GET", None, Some(FaultKind::Delay)));
}
