//! `ScimBearer` provisioning at the request level: the exact look-up and create, linking an
//! existing user, a `409` answered by a second look-up, reactivation, and input that sends nothing.
//! One mock server per test; a catch-all answers anything unexpected with 599 and must never be
//! hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{
    self, CORE, ENTERPRISE, JANE_FILTER, PATCH_OP, catch_all, client, jane, jane_resource, path, raw_query, with_body,
    without_body,
};
use httpmock::MockServer;
use identity_connectors::{Error, ProvisionOutcome, ProvisionPolicy};
use serde_json::json;

#[tokio::test]
async fn provision_finds_then_creates_with_exact_scim_json() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).header("content-type", "application/scim+json").json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Users"))).query_param_count(".*", ".*", 0).json_body(json!({
                "schemas": [CORE, ENTERPRISE],
                "userName": "jane.doe@example.com",
                "externalId": "E1",
                "name": {"familyName": "Doe", "givenName": "Jane"},
                "title": "Analyst",
                "active": true,
                "emails": [{"value": "jane.doe@example.com", "type": "work", "primary": true}],
                ENTERPRISE: {"department": "Finance"}
            }));
            then.status(201).header("content-type", "application/scim+json").json_body(jane_resource("u-1", true));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.user.id.as_str(), "u-1");
    assert_eq!(*provisioned.user.user, jane());
    find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_links_an_existing_user_without_writing() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert_eq!(provisioned.user.id.as_str(), "u-1");
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_on_409_uniqueness_requeries_and_links() {
    let server = MockServer::start_async().await;
    // Mocks match in the order they were added: the first look-up finds nobody (once), the create
    // is refused as a duplicate, and the look-up after it finds the user.
    let empty_find = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).json_body(mock::list(0, 1, vec![])).up_to_n_times(1);
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Users")));
            // Numeric `status`, as in Okta's examples.
            then.status(409).json_body(json!({"status": 409, "scimType": "uniqueness", "detail": "userName taken"}));
        })
        .await;
    let second_find = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-9", true)]));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert_eq!(provisioned.user.id.as_str(), "u-9");
    empty_find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    second_find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_reactivates_and_updates_changed_attributes() {
    let server = MockServer::start_async().await;
    let mut stored = jane_resource("u-1", false);
    stored["title"] = json!("Intern");
    let find = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).json_body(mock::list(1, 1, vec![stored]));
        })
        .await;
    let reactivate = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "active", "value": true}]
            }));
            then.status(204).header("content-type", "application/scim+json");
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "title", "value": "Analyst"}]
            }));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Reactivated);
    assert!(provisioned.user.is_active());
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Analyst"));
    find.assert_calls_async(1).await;
    reactivate.assert_calls_async(1).await;
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_link_only_leaves_an_inactive_user_alone() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", false)]));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision_with(&jane(), ProvisionPolicy::link_only()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert!(!provisioned.user.is_active());
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_without_user_name_sends_nothing() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let mut nameless = jane();
    nameless.user_name = Some("  ".to_string());
    let error = client(&server).provision(&nameless).await.expect_err("must be refused");
    let Error::Validation(invalid) = &error else { panic!("{error:?}") };
    assert_eq!(invalid.status, None);
    assert_eq!(invalid.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["userName"]);
    unexpected.assert_calls_async(0).await;
}
