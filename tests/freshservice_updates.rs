//! Changing an existing Freshservice account at the request level: update, deactivate,
//! deprovision, reactivate and hard delete, through the requesters or the agents API as the
//! record requires, and the typed outcome of each answer.

#[path = "support/common/mod.rs"]
mod common;

use common::freshservice::{
    catch_all, client, connector, find_agents, find_requesters, fixture, json_body, no_body, read, request, respond,
};
use httpmock::{Method, MockServer};
use identity_connectors::{DeprovisionOutcome, UpdateOutcome, User, UserId};
use serde_json::json;

#[tokio::test]
async fn deactivating_an_agent_reads_it_then_deletes_through_the_agents_api() {
    let server = MockServer::start_async().await;
    let not_requester =
        read(&server, "/requesters/29002122436", 404, json!({"code": "not_found", "message": "Record not found"}))
            .await;
    let agent = read(&server, "/agents/29002122436", 200, fixture("agent_created.json")).await;
    let delete = server
        .mock_async(|when, then| {
            no_body(request(when, Method::DELETE, "/agents/29002122436", &[]));
            respond(then, 200, fixture("agent_deactivated.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let outcome = client(connector(&server)).deactivate(&UserId::new("29002122436")).await.unwrap();

    assert_eq!(outcome, DeprovisionOutcome::Deactivated);
    not_requester.assert_calls_async(1).await;
    agent.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deactivating_a_requester_accepts_204() {
    let server = MockServer::start_async().await;
    let get = read(
        &server,
        "/requesters/888",
        200,
        json!({"requester": {"id": 888, "primary_email": "r@example.com", "active": true}}),
    )
    .await;
    let delete = server
        .mock_async(|when, then| {
            no_body(request(when, Method::DELETE, "/requesters/888", &[]));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let outcome = client(connector(&server)).deactivate(&UserId::new("888")).await.unwrap();

    assert_eq!(outcome, DeprovisionOutcome::Deactivated);
    get.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deactivating_an_inactive_user_succeeds_without_a_delete() {
    let server = MockServer::start_async().await;
    let get = read(&server, "/requesters/888", 200, json!({"requester": {"id": 888, "active": false}})).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    assert_eq!(client.deactivate(&UserId::new("888")).await.unwrap(), DeprovisionOutcome::Deactivated);

    get.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovision_by_user_finds_then_reports_inactive_or_gone() {
    let server = MockServer::start_async().await;
    let inactive = json!([{"id": 5, "primary_email": "gone@example.com", "active": false}]);
    let find_inactive = find_requesters(&server, "gone@example.com", inactive).await;
    let find_missing = find_requesters(&server, "never@example.com", json!([])).await;
    let find_missing_agent = find_agents(&server, "never@example.com", json!([])).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let gone = User::builder("gone@example.com").email("gone@example.com").build();
    assert_eq!(client.deprovision(&gone).await.unwrap(), DeprovisionOutcome::AlreadyInactive);
    let never = User::builder("never@example.com").email("never@example.com").build();
    assert_eq!(client.deprovision(&never).await.unwrap(), DeprovisionOutcome::AlreadyGone);

    find_inactive.assert_calls_async(1).await;
    find_missing.assert_calls_async(1).await;
    find_missing_agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn reactivating_an_agent_listed_as_requester_uses_the_agents_api() {
    let server = MockServer::start_async().await;
    let as_requester =
        read(&server, "/requesters/77", 200, json!({"requester": {"id": 77, "is_agent": true, "active": false}})).await;
    let as_agent =
        read(&server, "/agents/77", 200, json!({"agent": {"id": 77, "email": "a@example.com", "active": false}})).await;
    let reactivate = server
        .mock_async(|when, then| {
            no_body(request(when, Method::PUT, "/agents/77/reactivate", &[]));
            respond(then, 200, json!({"agent": {"id": 77, "active": true}}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    client(connector(&server)).reactivate(&UserId::new("77")).await.unwrap();

    as_requester.assert_calls_async(1).await;
    as_agent.assert_calls_async(1).await;
    reactivate.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn hard_delete_forgets_and_an_unknown_id_is_already_gone() {
    let server = MockServer::start_async().await;
    let get = read(&server, "/requesters/888", 200, json!({"requester": {"id": 888, "active": false}})).await;
    let forget = server
        .mock_async(|when, then| {
            no_body(request(when, Method::DELETE, "/requesters/888/forget", &[]));
            then.status(204);
        })
        .await;
    let missing_requester =
        read(&server, "/requesters/999", 404, json!({"code": "not_found", "message": "Not found"})).await;
    let missing_agent = read(&server, "/agents/999", 404, json!({"code": "not_found", "message": "Not found"})).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    assert_eq!(client.hard_delete(&UserId::new("888")).await.unwrap(), DeprovisionOutcome::Deleted);
    assert_eq!(client.hard_delete(&UserId::new("999")).await.unwrap(), DeprovisionOutcome::AlreadyGone);

    get.assert_calls_async(1).await;
    forget.assert_calls_async(1).await;
    missing_requester.assert_calls_async(1).await;
    missing_agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_without_current_state_reads_first_and_keeps_the_departments_flag() {
    let server = MockServer::start_async().await;
    let current = json!({"requester": {
        "id": 888, "first_name": "Harry", "job_title": "Seeker", "primary_email": "h@example.com", "active": true,
        "can_see_all_tickets_from_associated_departments": true
    }});
    let get = read(&server, "/requesters/888", 200, current.clone()).await;
    let mut updated = current.clone();
    updated["requester"]["job_title"] = json!("Captain");
    updated["requester"]["mobile_phone_number"] = json!("555");
    let put = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::PUT, "/requesters/888", &[]),
                json!({
                    "job_title": "Captain",
                    "mobile_phone_number": "555",
                    "can_see_all_tickets_from_associated_departments": true
                }),
            );
            respond(then, 200, updated);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let mut changes = User::default();
    changes.title = Some("Captain".into());
    changes.phone_numbers = User::builder("x").phone("555", "mobile").build().phone_numbers;
    let client = client(connector(&server));
    let outcome = client.update(&UserId::new("888"), &changes).await.unwrap();

    let UpdateOutcome::Updated(Some(user)) = outcome else { panic!("unexpected outcome {outcome:?}") };
    assert_eq!(user.user.title.as_deref(), Some("Captain"));
    assert_eq!(user.user.phone("mobile"), Some("555"));
    get.assert_calls_async(1).await;
    put.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
