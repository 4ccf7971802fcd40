//! `InteractBearer` at the request level: what Interact adds to SCIM (the typed extension, the
//! required-field check, the `401` hint). The SCIM operations themselves are shared with
//! `ScimBearer` and tested in `scim_*.rs`. One mock server per test; a catch-all answers
//! anything unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, BASE, TOKEN, catch_all, path, raw_query, with_body, without_body};
use httpmock::MockServer;
use identity_connectors::prelude::*;
use identity_connectors::{
    Client, Connector, Error, InteractAttributes, InteractBearer, InteractName, LoginType, ProvisionOutcome,
    RetryPolicy, UpdateOutcome, User, UserId,
};
use serde_json::json;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const INTERACT: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn connector(server: &MockServer) -> InteractBearer {
    InteractBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector")
}

fn client(server: &MockServer) -> Client {
    Client::builder(connector(server)).retry_policy(RetryPolicy::none()).build().expect("client")
}

fn every_interact_attribute() -> InteractAttributes {
    let mut attributes =
        InteractAttributes::new(LoginType::LocalLogin).location("London").job_start_date("2026-01-05T00:00:00Z");
    attributes.force_password_reset = Some(true);
    attributes.omit_from_search = Some(false);
    attributes.pronouns = Some("she/her".into());
    attributes.date_of_birth = Some("1990-01-23T00:00:00Z".into());
    let mut name = InteractName::default();
    name.title = Some("Mrs".into());
    name.initials = Some("J.D.".into());
    attributes.name = Some(name);
    attributes
}

#[tokio::test]
async fn provision_sends_the_typed_extension_and_lists_every_schema() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            raw_query(
                without_body(when.method("GET").path(path("/Users"))),
                "filter=userName%20eq%20%22jane.doe%40example.com%22",
            );
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Users"))).json_body(json!({
                "schemas": [CORE, ENTERPRISE, INTERACT],
                "userName": "jane.doe@example.com",
                "externalId": "E1001",
                "name": {"familyName": "Doe", "givenName": "Jane"},
                "userType": "Intranet User",
                "timezone": "GMT Standard Time",
                "active": true,
                "emails": [{"value": "jane.doe@example.com", "type": "work", "primary": true}],
                ENTERPRISE: {"organization": "Acme", "department": "Finance"},
                INTERACT: {
                    "loginType": "Local Login",
                    "location": "London",
                    "jobStartDate": "2026-01-05T00:00:00Z",
                    "forcePasswordReset": true,
                    "omitFromSearch": false,
                    "pronouns": "she/her",
                    "dateOfBirth": "1990-01-23T00:00:00Z",
                    "name": {"title": "Mrs", "initials": "J.D."}
                }
            }));
            then.status(201).json_body(json!({
                "schemas": [CORE, ENTERPRISE, INTERACT],
                "id": "42",
                "userName": "jane.doe@example.com",
                "externalId": "E1001",
                "active": true,
                INTERACT: {"loginType": "Local Login", "location": "London"}
            }));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let jane = User::builder("jane.doe@example.com")
        .external_id("E1001")
        .given_name("Jane")
        .family_name("Doe")
        .email("jane.doe@example.com")
        .user_type("Intranet User")
        .timezone("GMT Standard Time")
        .organization("Acme")
        .department("Finance")
        .interact(every_interact_attribute())
        .build();
    let provisioned = client(&server).provision(&jane).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.user.id.as_str(), "42");
    let attributes = provisioned.user.user.interact().cloned().expect("the extension is read back");
    assert_eq!(attributes.login_type, Some(LoginType::LocalLogin));
    assert_eq!(attributes.location.as_deref(), Some("London"));
    find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn schemas_list_only_the_parts_present() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Users"))).json_body(json!({
                "schemas": [CORE, INTERACT],
                "userName": "sam",
                "externalId": "E2",
                "name": {"familyName": "Roe", "givenName": "Sam"},
                "active": false,
                INTERACT: {"loginType": "SAML"}
            }));
            then.status(201).json_body(json!({"id": "43", "userName": "sam", "active": false}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let sam = User::builder("sam")
        .external_id("E2")
        .given_name("Sam")
        .family_name("Roe")
        .active(false)
        .interact(InteractAttributes::new(LoginType::Saml))
        .build();
    let provisioned = client(&server).provision(&sam).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_user_missing_required_fields_is_refused_naming_each_and_nothing_is_sent() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let error = client.provision(&User::default()).await.expect_err("everything is missing");
    let Error::Validation(invalid) = &error else { panic!("{error:?}") };
    assert_eq!(invalid.status, None);
    let fields: Vec<&str> = invalid.fields.iter().map(|f| f.field.as_str()).collect();
    let login_type = format!("{INTERACT}:loginType");
    assert_eq!(fields, ["externalId", "userName", "active", "name.givenName", "name.familyName", login_type.as_str()]);
    assert!(invalid.fields.iter().all(|f| f.message == "is required by Interact"));
    assert_eq!(
        error.to_string(),
        format!(
            "Validation failed before sending (nothing was sent): Interact requires externalId, userName, active, \
             name.givenName, name.familyName, {login_type} of a new user; externalId: is required by Interact; \
             userName: is required by Interact; active: is required by Interact; name.givenName: is required by \
             Interact; name.familyName: is required by Interact; {login_type}: is required by Interact"
        )
    );

    // Blank values count as missing; an extension without a login type too.
    let mut blank = User::builder("jdoe").external_id(" ").given_name("").family_name("Doe").build();
    blank.set_interact(InteractAttributes::default().location("London"));
    let error = client.provision(&blank).await.expect_err("blank values");
    let Error::Validation(invalid) = &error else { panic!("{error:?}") };
    let fields: Vec<&str> = invalid.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["externalId", "name.givenName", login_type.as_str()]);

    // The connector checks too when used directly.
    let connector = connector(&server);
    assert!(matches!(connector.check_new_user(&blank), Err(Error::Validation(_))));
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_patches_extension_attributes_by_urn_path() {
    let server = MockServer::start_async().await;
    let patch = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/42"))).json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [
                    {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "R&D"},
                    {"op": "replace", "path": format!("{INTERACT}:loginType"), "value": "Windows Login"},
                    {"op": "replace", "path": format!("{INTERACT}:location"), "value": "Paris"},
                    {"op": "replace", "path": format!("{INTERACT}:omitFromSearch"), "value": true},
                    {"op": "replace", "path": format!("{INTERACT}:name.initials"), "value": "J.R."},
                ]
            }));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let mut changes = User::builder("ignored").department("R&D").build();
    changes.user_name = None;
    changes.active = None;
    let mut interact = InteractAttributes::new(LoginType::WindowsLogin).location("Paris");
    interact.omit_from_search = Some(true);
    let mut name = InteractName::default();
    name.initials = Some("J.R.".into());
    interact.name = Some(name);
    changes.set_interact(interact);
    let outcome = client(&server).update(&UserId::new("42"), &changes).await.expect("update");
    assert_eq!(outcome, UpdateOutcome::Updated(None));
    patch.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_extension_is_read_leniently() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/42")));
            then.status(200).header("content-type", "application/json").json_body(json!({
                "id": "42",
                "userName": "jane",
                "urn:ietf:params:scim:schemas:extension:InteractSoftware:2.0:User": {
                    "LoginType": "windows login",
                    "forcePasswordReset": "True",
                    "omitFromSearch": "false",
                    "name": {"Title": "Dr"}
                }
            }));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let user = client(&server).get(&UserId::new("42")).await.expect("get");
    let attributes = user.user.interact().cloned().expect("extension");
    assert_eq!(attributes.login_type, Some(LoginType::WindowsLogin));
    assert_eq!(attributes.force_password_reset, Some(true));
    assert_eq!(attributes.omit_from_search, Some(false));
    assert_eq!(attributes.name.and_then(|n| n.title).as_deref(), Some("Dr"));
    get.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn unauthorized_points_at_the_profile_source_key() {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=1");
            then.status(401).json_body(mock::error(401, None, "Invalid token"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).test_connection().await.expect_err("401");
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Unauthorized: HTTP 401: Invalid token. Check the SCIM profile source's key (Control Panel > Profile \
         Sources): it may be wrong or regenerated, or the profile source may not be active"
    );
    assert!(!format!("{error} {error:?}").contains(TOKEN));
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn connector_identity_and_scim_headers() {
    let server = MockServer::start_async().await;
    let connector = connector(&server);
    assert_eq!(connector.kind(), "interact");
    assert_eq!(connector.display_name(), "Interact (127.0.0.1)");
    assert_eq!(connector.accept(), "application/scim+json, application/json");
    assert!(!format!("{connector:?}").contains(TOKEN));
    let key = connector.match_key(&User::builder("Jane.Doe@example.com").build()).expect("key");
    assert_eq!(key.value(), "Jane.Doe@example.com");
    assert_eq!(key.attribute(), "userName");
}
