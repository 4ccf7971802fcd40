//! The Client on existing users against a test-only connector (`support/fake_connector.rs`) on
//! httpmock: deprovisioning, update and delete outcomes, ids that cannot change the request path,
//! and paged listing.
//!
//! Every test starts one mock server, asserts each request's method, path, query, headers and
//! whole body, and ends with a catch-all mock that must have seen no request.

#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/fake_connector_mock.rs"]
mod mock;

use fake_connector::{EMAIL, wire};
use futures_util::StreamExt as _;
use httpmock::Method::{DELETE, GET, PUT};
use httpmock::MockServer;
use identity_connectors::{DeprovisionOutcome, Error, UpdateOutcome, User, UserId};
use mock::{bodiless, catch_all, client, common, find_mock, jane, set_active_mock};
use serde_json::json;

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
