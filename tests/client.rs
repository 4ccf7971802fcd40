//! The Client's shared lifecycle logic and the one request path, against a test-only connector
//! (`support/fake_connector.rs`) on httpmock: provisioning outcomes, reconciliation, deprovisioning, paging,
//! retries, limits, sanitised errors, redaction and trace hygiene.
//!
//! Every test starts one mock server, asserts each request's method, path, query, headers and
//! whole body, and ends with a catch-all mock that must have seen no request.

#[path = "support/fake_connector.rs"]
mod fake_connector;

use std::time::{Duration, Instant};

use fake_connector::{EMAIL, Fake, TOKEN, wire};
use futures_util::StreamExt as _;
use httpmock::Method::{DELETE, GET, POST, PUT};
use httpmock::{Mock, MockServer, Then, When};
use identity_connectors::{
    Client, DeprovisionOutcome, Error, ErrorKind, ProvisionOutcome, ProvisionPolicy, RetryPolicy, TransportErrorKind,
    UpdateOutcome, User, UserId,
};
use serde_json::{Value, json};

const AUTH: &str = "Bearer s3cr3t-T0KEN-value";

fn jane(title: &str) -> User {
    User::builder(EMAIL).email(EMAIL).title(title).build()
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().with_base_delay(Duration::from_millis(1))
}

fn client(server: &MockServer) -> Client {
    Client::builder(Fake::new(&server.base_url())).retry_policy(quick_retries()).build().unwrap()
}

/// Any request no other mock matched fails the test loudly (and `assert_none` checks it saw none).
async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.path_prefix("/");
            then.status(599).body("unexpected request");
        })
        .await
}

/// The headers every request of the fake connector carries.
fn common(when: When) -> When {
    when.header("authorization", AUTH)
        .header("accept", "application/json")
        .header("user-agent", concat!("identity-connectors/", env!("CARGO_PKG_VERSION")))
}

/// A request with exactly this JSON body, sent with exactly one JSON content type.
fn with_body(when: When, body: Value) -> When {
    common(when).header_count("^content-type$", "^application/json$", 1).json_body(body)
}

/// A request without a body.
fn bodiless(when: When) -> When {
    common(when).header_missing("content-type")
}

async fn find_mock<'a>(server: &'a MockServer, users: Value) -> Mock<'a> {
    find_mock_with(server, move |then| then.status(200).json_body(json!({ "users": users }))).await
}

async fn find_mock_with<'a>(server: &'a MockServer, answer: impl FnOnce(Then) -> Then) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            bodiless(when.method(GET).path("/users").query_param("email", EMAIL).query_param_count(".*", ".*", 1));
            answer(then);
        })
        .await
}

/// The first look-up answers "nobody"; later ones find the user (as after a lost or raced create).
async fn find_then_found(server: &MockServer) -> (Mock<'_>, Mock<'_>) {
    let empty = find_mock_with(server, |then| then.status(200).json_body(json!({"users": []})).up_to_n_times(1)).await;
    let found = find_mock(server, json!([wire(9, EMAIL, "Analyst", true)])).await;
    (empty, found)
}

async fn create_mock<'a>(server: &'a MockServer, answer: impl FnOnce(Then) -> Then) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            with_body(when.method(POST).path("/users"), json!({"email": EMAIL, "title": "Analyst"}));
            answer(then);
        })
        .await
}

async fn set_active_mock(server: &MockServer, id: u64, active: bool, status: u16) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            with_body(when.method(PUT).path(format!("/users/{id}/active")), json!({ "active": active }));
            then.status(status);
        })
        .await
}

async fn get_mock<'a>(server: &'a MockServer, answer: impl FnOnce(Then) -> Then) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            bodiless(when.method(GET).path("/users/7"));
            answer(then);
        })
        .await
}

// ----- provisioning -----

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

// ----- deprovisioning, update, delete -----

#[tokio::test]
async fn deprovision_deactivates_an_active_user() {
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", true)])).await;
    let deactivate = set_active_mock(&server, 7, false, 204).await;
    let unexpected = catch_all(&server).await;
    assert_eq!(client(&server).deprovision(&jane("x")).await.unwrap(), DeprovisionOutcome::Deactivated);
    deactivate.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovision_of_an_inactive_user_sends_nothing() {
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", false)])).await;
    let unexpected = catch_all(&server).await;
    assert_eq!(client(&server).deprovision(&jane("x")).await.unwrap(), DeprovisionOutcome::AlreadyInactive);
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovision_of_a_missing_user_succeeds() {
    let server = MockServer::start_async().await;
    find_mock(&server, json!([])).await;
    let unexpected = catch_all(&server).await;
    assert_eq!(client(&server).deprovision(&jane("x")).await.unwrap(), DeprovisionOutcome::AlreadyGone);
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn operations_on_a_missing_id_report_already_gone_or_not_found() {
    let server = MockServer::start_async().await;
    let gone = server
        .mock_async(|when, then| {
            bodiless(when.method(DELETE).path("/users/7"));
            then.status(404).json_body(json!({"message": "no such user"}));
        })
        .await;
    let gone_active = server
        .mock_async(|when, then| {
            common(when.method(PUT).path("/users/7/active"));
            then.status(404).json_body(json!({"message": "no such user"}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let c = client(&server);
    assert_eq!(c.hard_delete(&UserId::new("7")).await.unwrap(), DeprovisionOutcome::AlreadyGone);
    assert_eq!(c.deactivate(&UserId::new("7")).await.unwrap(), DeprovisionOutcome::AlreadyGone);
    let error = c.reactivate(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.to_string(), "Not found: HTTP 404: no such user");
    gone.assert_calls_async(1).await;
    gone_active.assert_calls_async(2).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovision_all_reports_each_person_and_continues_past_failures() {
    let server = MockServer::start_async().await;
    let people = [("a@example.com", json!([wire(1, "a@example.com", "t", true)])), ("b@example.com", json!([]))];
    let mut finds = Vec::new();
    for (email, users) in people {
        finds.push(
            server
                .mock_async(|when, then| {
                    bodiless(when.method(GET).path("/users").query_param("email", email));
                    then.status(200).json_body(json!({ "users": users }));
                })
                .await,
        );
    }
    let broken = server
        .mock_async(|when, then| {
            bodiless(when.method(GET).path("/users").query_param("email", "c@example.com"));
            then.status(500).json_body(json!({"message": "directory offline"}));
        })
        .await;
    let deactivate = set_active_mock(&server, 1, false, 204).await;
    let unexpected = catch_all(&server).await;
    let users: Vec<User> = ["a@example.com", "b@example.com", "c@example.com"]
        .iter()
        .map(|e| User::builder(*e).email(*e).build())
        .collect();
    let c = client(&server);
    let mut summary = identity_connectors::BulkSummary::default();
    let mut items = std::pin::pin!(c.deprovision_all(users));
    while let Some(item) = items.next().await {
        summary.record_deprovisioned(&item);
    }
    assert_eq!((summary.total, summary.deactivated, summary.already_gone), (3, 1, 1));
    assert_eq!(summary.failed.len(), 1);
    assert_eq!(summary.failed[0].index, 2);
    assert_eq!(summary.failed[0].message, "API error: HTTP 500: directory offline");
    for find in &finds {
        find.assert_calls_async(1).await;
    }
    broken.assert_calls_async(1).await;
    deactivate.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_with_no_changes_sends_nothing() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let mut changes = User::default();
    changes.active = Some(false);
    assert_eq!(client(&server).update(&UserId::new("7"), &changes).await.unwrap(), UpdateOutcome::Unchanged);
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn ids_cannot_change_the_request_path() {
    let server = MockServer::start_async().await;
    let odd = server
        .mock_async(|when, then| {
            bodiless(when.method(GET).path("/users/a%2F..%2Fb%3Fx=1%23f"));
            then.status(200).json_body(wire(1, EMAIL, "t", true));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let c = client(&server);
    for id in ["..", ".", ""] {
        assert!(matches!(c.get(&UserId::new(id)).await, Err(Error::Validation(_))), "{id:?}");
    }
    c.get(&UserId::new("a/../b?x=1#f")).await.unwrap();
    odd.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

// ----- listing -----

#[tokio::test]
async fn list_streams_every_page_once() {
    let server = MockServer::start_async().await;
    let mut pages = Vec::new();
    for page in 1..=3u64 {
        let users: Vec<_> = (0..2).map(|i| wire(page * 10 + i, &format!("u{page}{i}@x.io"), "t", true)).collect();
        let next = if page < 3 { Some(page + 1) } else { None };
        pages.push(
            server
                .mock_async(|when, then| {
                    bodiless(when.method(GET).path("/users").query_param("page", page.to_string()));
                    then.status(200).json_body(json!({"users": users, "next": next}));
                })
                .await,
        );
    }
    let unexpected = catch_all(&server).await;
    let ids: Vec<String> = client(&server).list(2).map(|u| u.unwrap().id.to_string()).collect().await;
    assert_eq!(ids, ["10", "11", "20", "21", "30", "31"]);
    for page in &pages {
        page.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_server_that_ignores_paging_ends_the_stream_with_an_error() {
    let server = MockServer::start_async().await;
    let same = server
        .mock_async(|when, then| {
            bodiless(when.method(GET).path("/users").query_param_exists("page"));
            then.status(200).json_body(json!({"users": [wire(1, "a@x.io", "t", true)], "next": 2}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let results: Vec<_> = client(&server).list(1).collect().await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().id, UserId::new("1"));
    assert_eq!(
        results[1].as_ref().unwrap_err().to_string(),
        "Could not decode the response: the server returned the same page twice; it may not support paging"
    );
    same.assert_calls_async(2).await;
    unexpected.assert_calls_async(0).await;
}

// ----- retries -----

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

// ----- limits and hygiene -----

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let server = MockServer::start_async().await;
    let big = get_mock(&server, |then| then.status(200).body("x".repeat(4096))).await;
    let unexpected = catch_all(&server).await;
    let c = Client::builder(Fake::new(&server.base_url())).max_response_bytes(1024).build().unwrap();
    let error = c.get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Could not decode the response (HTTP 200): the response body exceeds the 1024-byte limit"
    );
    big.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start_async().await;
    let redirect =
        get_mock(&server, |then| then.status(307).header("location", "https://elsewhere.example.com/steal")).await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.status(), Some(307));
    redirect.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn server_messages_are_bounded_and_never_echo_emails_or_the_token() {
    let server = MockServer::start_async().await;
    let echo = format!("User {EMAIL} (token {TOKEN}) \u{7}exists ") + &"x".repeat(1_000_000);
    let conflict = get_mock(&server, |then| {
        then.status(409).json_body(json!({"detail": echo, "code": "uniqueness", "errors": [
            {"field": "email", "message": format!("{EMAIL} is taken"), "code": "duplicate_value"}]}))
    })
    .await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("Conflict: HTTP 409 (uniqueness): User [EMAIL] (token [REDACTED])  exists xxx"),
        "{text:.120}"
    );
    assert!(text.contains("; email: [EMAIL] is taken (duplicate_value)"), "{text:.120}");
    assert!(text.chars().count() < 1_000, "{} characters", text.chars().count());
    assert!(!text.contains(EMAIL) && !text.contains(TOKEN));
    conflict.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn transport_errors_name_the_endpoint_never_the_query() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let c = Client::builder(Fake::new(&format!("http://127.0.0.1:{port}")))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = c.find_by_email(EMAIL).await.unwrap_err();
    match &error {
        Error::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Connect),
        other => panic!("expected a transport error, got {other:?}"),
    }
    let text = error.to_string();
    assert!(text.starts_with("Transport error (Connect) during GET /users?email={email}: "), "{text}");
    assert!(!text.contains("jane") && !text.contains("%40") && !text.contains(TOKEN), "{text}");
    assert_eq!(error.kind(), ErrorKind::Transient);
}

#[test]
fn out_of_range_settings_are_configuration_errors() {
    let fake = || Fake::new("http://127.0.0.1:1");
    for (builder, message) in [
        (Client::builder(fake()).timeout(Duration::ZERO), "the request timeout must be greater than zero"),
        (Client::builder(fake()).user_agent(" "), "the user agent is empty; set one, or leave the default"),
        (Client::builder(fake()).max_response_bytes(0), "the response size limit must be greater than zero"),
        (Client::builder(fake()).max_in_flight(usize::MAX), "at most 1024 requests may be in flight"),
        (Client::builder(fake()).rate_limit_window(Duration::MAX), "the rate-limit window must be at most one day"),
    ] {
        match builder.build() {
            Err(Error::InvalidConfig { message: m }) => assert_eq!(m, message),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn redacted_debug_output_is_exact() {
    let c = Client::builder(Fake::new("http://127.0.0.1:1")).build().unwrap();
    assert_eq!(
        format!("{c:?}"),
        "Client { connector: Fake { base_url: Url { scheme: \"http\", cannot_be_a_base: false, username: \"\", password: None, host: Some(Ipv4(127.0.0.1)), port: Some(1), path: \"/\", query: None, fragment: None }, authorization: Authorization([REDACTED]) }, http: Http { connector: \"fake\", timeout: 30s, max_response_bytes: 10485760, retry: RetryPolicy { max_attempts: 4, base_delay: 200ms, max_delay: 60s, deadline: 120s }, max_in_flight: 4, rate_limit_window: 60s, transport: Transport { roots: [], identity: None, proxy: Proxy(from environment) }, credential_source: None } }"
    );
    let builder = Client::builder(Fake::new("http://127.0.0.1:1"));
    assert_eq!(
        format!("{builder:?}"),
        "ClientBuilder { connector: Fake { base_url: Url { scheme: \"http\", cannot_be_a_base: false, username: \"\", password: None, host: Some(Ipv4(127.0.0.1)), port: Some(1), path: \"/\", query: None, fragment: None }, authorization: Authorization([REDACTED]) }, timeout: 30s, user_agent: \"identity-connectors/0.1.0\", max_response_bytes: 10485760, retry: RetryPolicy { max_attempts: 4, base_delay: 200ms, max_delay: 60s, deadline: 120s }, max_in_flight: 4, rate_limit_window: 60s, transport: Transport { roots: [], identity: None, proxy: Proxy(from environment) }, credential_source: None }"
    );
}
