//! `ScimBearer` changes to an existing user at the request level: ids kept to one path segment,
//! PATCH of only what changed, deactivation and reactivation, and delete. One mock server per test;
//! a catch-all answers anything unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, ENTERPRISE, PATCH_OP, catch_all, client, jane_resource, path, with_body, without_body};
use httpmock::MockServer;
use identity_connectors::{DeprovisionOutcome, Error, MultiValue, Name, UpdateOutcome, User, UserId};
use serde_json::json;

#[tokio::test]
async fn ids_are_one_path_segment() {
    let server = MockServer::start_async().await;
    let cases = [
        ("a/b", "/Users/a%2Fb"),
        ("../admin", "/Users/..%2Fadmin"),
        ("a?b=c", "/Users/a%3Fb=c"),
        ("a#b", "/Users/a%23b"),
        ("%2e%2e", "/Users/%252e%252e"),
    ];
    let mut mocks = Vec::new();
    for (id, encoded) in cases {
        mocks.push(
            server
                .mock_async(|when, then| {
                    without_body(when.method("GET").path(path(encoded))).query_param_count(".*", ".*", 0);
                    then.status(200).json_body(json!({"id": id, "userName": id}));
                })
                .await,
        );
    }
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    for (id, _) in cases {
        let user = client.get(&UserId::new(id)).await.expect("get");
        assert_eq!(user.id.as_str(), id);
    }
    for id in ["..", ".", ""] {
        let error = client.get(&UserId::new(id)).await.expect_err("refused");
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{id:?}: {error:?}");
        let error = client.hard_delete(&UserId::new(id)).await.expect_err("refused");
        assert!(matches!(error, Error::Validation(_)), "{id:?}");
    }
    for mock in &mocks {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_patches_only_changed_attributes_and_accepts_200_with_body() {
    let server = MockServer::start_async().await;
    let patch = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [
                    {"op": "replace", "path": "title", "value": "Lead"},
                    {"op": "replace", "path": "name.givenName", "value": "Janet"},
                    {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "R&D"},
                ]
            }));
            let mut updated = jane_resource("u-1", true);
            updated["title"] = json!("Lead");
            updated["name"]["givenName"] = json!("Janet");
            updated[ENTERPRISE]["department"] = json!("R&D");
            then.status(200).json_body(updated);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let mut changes = User::default();
    changes.title = Some("Lead".into());
    let mut name = Name::default();
    name.given_name = Some("Janet".into());
    changes.name = Some(name);
    changes.enterprise = User::builder("x").department("R&D").build().enterprise;
    let outcome = client(&server).update(&UserId::new("u-1"), &changes).await.expect("update");
    let UpdateOutcome::Updated(Some(updated)) = outcome else { panic!("{outcome:?}") };
    assert_eq!(updated.user.title.as_deref(), Some("Lead"));
    assert_eq!(updated.user.given_name(), Some("Janet"));
    patch.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_of_a_work_email_reads_first_and_patches_the_value_path() {
    let server = MockServer::start_async().await;
    let read = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/u-1")));
            then.status(200).json_body(jane_resource("u-1", true));
        })
        .await;
    let patch = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [
                    {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "janet@example.com"},
                    {"op": "add", "path": "phoneNumbers", "value": [{"value": "+44 20 1234", "type": "mobile"}]},
                ]
            }));
            // 204 with an empty body but a SCIM content type, as scim2-server sends it.
            then.status(204).header("content-type", "application/scim+json");
        })
        .await;
    let unexpected = catch_all(&server).await;

    let mut changes = User::default();
    changes.emails = vec![MultiValue::new("janet@example.com", "work")];
    changes.phone_numbers = vec![MultiValue::new("+44 20 1234", "mobile")];
    let outcome = client(&server).update(&UserId::new("u-1"), &changes).await.expect("update");
    assert_eq!(outcome, UpdateOutcome::Updated(None));
    read.assert_calls_async(1).await;
    patch.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deactivate_and_reactivate_patch_active_and_repeat_safely() {
    let server = MockServer::start_async().await;
    let deactivate = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "active", "value": false}]
            }));
            then.status(204);
        })
        .await;
    let reactivate = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [{"op": "replace", "path": "active", "value": true}]
            }));
            // 200 with the user is success too.
            then.status(200).json_body(jane_resource("u-1", true));
        })
        .await;
    let gone = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/gone")));
            then.status(404).json_body(mock::error(404, None, "not found"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let id = UserId::new("u-1");

    assert_eq!(client.deactivate(&id).await.expect("deactivate"), DeprovisionOutcome::Deactivated);
    assert_eq!(client.deactivate(&id).await.expect("again"), DeprovisionOutcome::Deactivated);
    client.reactivate(&id).await.expect("reactivate");
    client.reactivate(&id).await.expect("again");
    assert_eq!(client.deactivate(&UserId::new("gone")).await.expect("gone"), DeprovisionOutcome::AlreadyGone);
    deactivate.assert_calls_async(2).await;
    reactivate.assert_calls_async(2).await;
    gone.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn delete_sends_delete_and_404_means_already_gone() {
    let server = MockServer::start_async().await;
    let delete = server
        .mock_async(|when, then| {
            without_body(when.method("DELETE").path(path("/Users/u-1"))).query_param_count(".*", ".*", 0);
            then.status(204).up_to_n_times(1);
        })
        .await;
    let again = server
        .mock_async(|when, then| {
            without_body(when.method("DELETE").path(path("/Users/u-1")));
            then.status(404).json_body(mock::error(404, None, "User u-1 not found"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let id = UserId::new("u-1");

    assert_eq!(client.hard_delete(&id).await.expect("delete"), DeprovisionOutcome::Deleted);
    assert_eq!(client.hard_delete(&id).await.expect("delete again"), DeprovisionOutcome::AlreadyGone);
    delete.assert_calls_async(1).await;
    again.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
