//! The Client's provisioning logic against a test-only connector (`support/fake_connector.rs`) on
//! httpmock: create, link, update and reactivate outcomes, policies, and how conflicts, timeouts
//! and `5xx` answers to a create are settled by a look-up rather than a second create.
//!
//! Every test starts one mock server, asserts each request's method, path, query, headers and
//! whole body, and ends with a catch-all mock that must have seen no request.

#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/fake_connector_mock.rs"]
mod mock;

use std::time::{Duration, Instant};

use fake_connector::{EMAIL, Fake, wire};
use httpmock::Method::PUT;
use httpmock::MockServer;
use identity_connectors::{Client, ProvisionOutcome, ProvisionPolicy, UserId};
use mock::{
    catch_all, client, create_mock, find_mock, find_then_found, jane, quick_retries, set_active_mock, with_body,
};
use serde_json::json;

#[tokio::test]
async fn provision_creates_a_missing_user_with_one_exact_post() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let create = create_mock(&server, |then| then.status(201).json_body(wire(7, EMAIL, "Analyst", true))).await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.user.id, UserId::new("7"));
    find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_links_an_identical_user_with_one_look_up() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([wire(7, EMAIL, "Analyst", true)])).await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_updates_only_what_differs() {
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", true)])).await;
    let update = server
        .mock_async(|when, then| {
            with_body(when.method(PUT).path("/users/7"), json!({"title": "Lead"}));
            then.status(200).json_body(wire(7, EMAIL, "Lead", true));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Lead")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Updated);
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Lead"));
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_reactivates_then_updates_an_inactive_user() {
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", false)])).await;
    let reactivate = set_active_mock(&server, 7, true, 204).await;
    let update = server
        .mock_async(|when, then| {
            with_body(when.method(PUT).path("/users/7"), json!({"title": "Lead"}));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Lead")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Reactivated);
    // The update answered 204: the client applies the changes to the user it had read.
    assert!(provisioned.user.is_active());
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Lead"));
    reactivate.assert_calls_async(1).await;
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn link_only_policy_sends_nothing_but_the_look_up() {
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", false)])).await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision_with(&jane("Lead"), ProvisionPolicy::link_only()).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert!(!provisioned.user.is_active());
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_conflict_on_create_is_resolved_by_a_second_look_up() {
    let server = MockServer::start_async().await;
    let (empty, found) = find_then_found(&server).await;
    let create = create_mock(&server, |then| {
        then.status(409).json_body(json!({"code": "duplicate_value", "message": "already exists"}))
    })
    .await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert_eq!(provisioned.user.id, UserId::new("9"));
    empty.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_conflict_whose_user_cannot_be_found_is_returned_with_the_servers_words() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let create = create_mock(&server, |then| {
        then.status(400).json_body(json!({"message": "Validation failed", "errors": [
            {"field": "primary_email", "message": "It already exists", "code": "duplicate_value"}]}))
    })
    .await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).provision(&jane("Analyst")).await.unwrap_err();
    assert!(error.is_conflict());
    assert_eq!(
        error.to_string(),
        "Conflict: HTTP 400: Validation failed; primary_email: It already exists (duplicate_value)"
    );
    create.assert_calls_async(1).await;
    find.assert_calls_async(2).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_create_that_times_out_is_followed_by_a_look_up_not_a_second_post() {
    let server = MockServer::start_async().await;
    let (empty, found) = find_then_found(&server).await;
    let create = create_mock(&server, |then| {
        then.status(201).json_body(wire(9, EMAIL, "Analyst", true)).delay(Duration::from_millis(1500))
    })
    .await;
    let unexpected = catch_all(&server).await;
    let c = Client::builder(Fake::new(&server.base_url()))
        .timeout(Duration::from_millis(300))
        .retry_policy(quick_retries())
        .build()
        .unwrap();
    let provisioned = c.provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::CreatedConfirmed);
    assert_eq!(provisioned.user.id, UserId::new("9"));
    empty.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_create_answered_503_with_retry_after_is_looked_up_not_resent() {
    let server = MockServer::start_async().await;
    let (empty, found) = find_then_found(&server).await;
    let create = create_mock(&server, |then| then.status(503).header("retry-after", "0").body("upstream busy")).await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::CreatedConfirmed);
    empty.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_create_answered_503_waits_as_told_before_it_is_sent_again() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let unavailable =
        create_mock(&server, |then| then.status(503).header("retry-after", "2").body("busy").up_to_n_times(1)).await;
    let created = create_mock(&server, |then| then.status(201).json_body(wire(7, EMAIL, "Analyst", true))).await;
    let unexpected = catch_all(&server).await;
    let started = Instant::now();
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    // Looked up (nobody), waited the 2 s asked for, then created.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    find.assert_calls_async(2).await;
    unavailable.assert_calls_async(1).await;
    created.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_create_answered_503_with_a_long_retry_after_is_returned_for_the_caller_to_schedule() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let unavailable = create_mock(&server, |then| then.status(503).header("retry-after", "3600").body("busy")).await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).provision(&jane("Analyst")).await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(
        error.to_string(),
        "Rate limited (retry after 3600 s): HTTP 503: Service Unavailable (body starts: \"busy\")"
    );
    find.assert_calls_async(2).await;
    unavailable.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_create_whose_success_answer_cannot_be_read_is_looked_up() {
    let server = MockServer::start_async().await;
    let (empty, found) = find_then_found(&server).await;
    let create = create_mock(&server, |then| then.status(201).body("<html>Created</html>")).await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::CreatedConfirmed);
    assert_eq!(provisioned.user.id, UserId::new("9"));
    empty.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn creates_answered_502_are_each_followed_by_a_look_up_and_capped() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let create = create_mock(&server, |then| then.status(502).body("")).await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).provision(&jane("Analyst")).await.unwrap_err();
    assert_eq!(error.to_string(), "API error: HTTP 502: Bad Gateway");
    // Four creates (the attempt cap), each after a look-up that found nobody: never a blind resend.
    create.assert_calls_async(4).await;
    find.assert_calls_async(5).await;
    unexpected.assert_calls_async(0).await;
}
