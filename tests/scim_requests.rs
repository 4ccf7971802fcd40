//! `ScimBearer` at the request level: each operation's exact method, path, query, headers and
//! body, and each response variant a SCIM server may send. One mock server per test; a catch-all
//! answers anything unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, BASE, TOKEN, catch_all, path, raw_query, with_body, without_body};
use futures_util::TryStreamExt as _;
use httpmock::MockServer;
use identity_connectors::{
    Client, DeprovisionOutcome, Error, Lookup, MultiValue, Name, PageRequest, PageToken, ProvisionOutcome,
    ProvisionPolicy, RetryPolicy, ScimBearer, UpdateOutcome, User, UserId,
};
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn client(server: &MockServer) -> Client {
    let connector = ScimBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector");
    // No retries: each test states exactly which requests are sent.
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client")
}

fn jane() -> User {
    User::builder("jane.doe@example.com")
        .external_id("E1")
        .given_name("Jane")
        .family_name("Doe")
        .email("jane.doe@example.com")
        .title("Analyst")
        .department("Finance")
        .build()
}

fn jane_resource(id: &str, active: bool) -> Value {
    json!({
        "schemas": [CORE, ENTERPRISE],
        "id": id,
        "userName": "jane.doe@example.com",
        "externalId": "E1",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "jane.doe@example.com", "type": "work", "primary": true}],
        "title": "Analyst",
        "active": active,
        ENTERPRISE: {"department": "Finance"},
        "meta": {"resourceType": "User", "location": format!("https://h/Users/{id}")}
    })
}

const JANE_FILTER: &str = "filter=userName%20eq%20%22jane.doe%40example.com%22";

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
    assert_eq!(provisioned.user.user, jane());
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

#[tokio::test]
async fn filter_values_are_escaped_json_strings_and_percent_encoded() {
    let server = MockServer::start_async().await;
    let tricky = r#"a"b\c or userName pr"#;
    let find = server
        .mock_async(|when, then| {
            let when = without_body(when.method("GET").path(path("/Users")))
                .query_param("filter", r#"userName eq "a\"b\\c or userName pr""#)
                .query_param_count(".*", ".*", 1);
            raw_query(when, "filter=userName%20eq%20%22a%5C%22b%5C%5Cc%20or%20userName%20pr%22");
            // A server that ignored the filter would answer with everyone: only the exact user
            // name may match.
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![json!({"id": "other", "userName": "a"}), json!({"id": "u-7", "userName": tricky})],
            ));
        })
        .await;
    // An answer holding a user that does not match means the filter was ignored: every page is
    // read and matched locally.
    let scan = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=100");
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![json!({"id": "other", "userName": "a"}), json!({"id": "u-7", "userName": tricky})],
            ));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let found = client(&server).find_by_user_name(tricky).await.expect("find").expect("found");
    assert_eq!(found.id.as_str(), "u-7");
    find.assert_calls_async(1).await;
    scan.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_by_external_id_and_email_use_their_attributes() {
    let server = MockServer::start_async().await;
    let by_external_id = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "filter=externalId%20eq%20%22E1%22");
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    let by_email = server
        .mock_async(|when, then| {
            raw_query(
                without_body(when.method("GET").path(path("/Users"))),
                "filter=emails.value%20eq%20%22JANE.DOE%40example.com%22",
            );
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    assert_eq!(client.find_by_external_id("E1").await.expect("find").map(|u| u.id), Some(UserId::new("u-1")));
    assert_eq!(
        client.find_by_email("JANE.DOE@example.com").await.expect("find").map(|u| u.id),
        Some(UserId::new("u-1"))
    );
    by_external_id.assert_calls_async(1).await;
    by_email.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_tolerates_404_missing_resources_and_wrong_hits() {
    let server = MockServer::start_async().await;
    // Okta answers a filter that matches nobody with 404.
    let okta = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "okta""#);
            then.status(404).header("content-type", "text/html").body("<html>Not Found</html>");
        })
        .await;
    // `Resources` may be left out when there are no results.
    let no_resources = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "bare""#);
            then.status(200).json_body(json!({"totalResults": 0}));
        })
        .await;
    // A server that ignores the filter: nobody it returns has the user name asked for.
    let ignores_filter = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "ghost""#);
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    // ...so every page is read (one, here) before "not found".
    let scan = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=100");
            then.status(200).json_body(mock::list(1, 1, vec![jane_resource("u-1", true)]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    for name in ["okta", "bare", "ghost"] {
        assert_eq!(client.find_by_user_name(name).await.expect("find"), None, "{name}");
    }
    okta.assert_calls_async(1).await;
    no_resources.assert_calls_async(1).await;
    ignores_filter.assert_calls_async(1).await;
    scan.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_prefers_the_exact_user_name_and_refuses_ambiguous_emails() {
    let server = MockServer::start_async().await;
    let two_cases = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users"))).query_param("filter", r#"userName eq "Jane""#);
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![json!({"id": "lower", "userName": "jane"}), json!({"id": "exact", "userName": "Jane"})],
            ));
        })
        .await;
    let shared_email = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")))
                .query_param("filter", r#"emails.value eq "team@example.com""#);
            then.status(200).json_body(mock::list(
                2,
                1,
                vec![
                    json!({"id": "a", "userName": "a", "emails": [{"value": "team@example.com"}]}),
                    json!({"id": "b", "userName": "b", "emails": [{"value": "TEAM@example.com"}]}),
                ],
            ));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let found = client.find_by_user_name("Jane").await.expect("find").expect("found");
    assert_eq!(found.id.as_str(), "exact");
    let error = client.find_by_email("team@example.com").await.expect_err("two people share the address");
    assert!(matches!(error, Error::Ambiguous { attribute: "email", matches: 2 }), "{error:?}");
    assert_eq!(error.to_string(), "Ambiguous look-up: 2 users match the email; use a key that identifies one person");
    assert_eq!(error.status(), None);
    two_cases.assert_calls_async(1).await;
    shared_email.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn invalid_filter_is_a_validation_error_with_the_scim_type() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(400).json_body(mock::error(400, Some("invalidFilter"), "Unsupported filter"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).find_by_user_name("x").await.expect_err("a 400 must fail");
    let Error::Validation(invalid) = &error else { panic!("{error:?}") };
    assert_eq!(invalid.status, Some(400));
    assert_eq!(invalid.code.as_deref(), Some("invalidFilter"));
    assert_eq!(invalid.message, "Unsupported filter");
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn empty_look_up_values_send_nothing() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    for lookup in [Lookup::UserName(String::new()), Lookup::Email(" ".into()), Lookup::ExternalId(String::new())] {
        let error = client.find(&lookup).await.expect_err("empty look-ups are refused");
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn get_parses_leniently_and_maps_404() {
    let server = MockServer::start_async().await;
    let found = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/u-1"))).query_param_count(".*", ".*", 0);
            then.status(200).header("content-type", "application/json").json_body(json!({
                "ID": "u-1",
                "UserName": "jane",
                "Active": "False",
                "emails": [{"value": "j@example.com", "type": "work", "primary": "True"}],
                "urn:example:custom:1.0:User": {"badge": 7},
                "groups": [{"value": "g1", "display": "Staff"}],
                "nickName": null
            }));
        })
        .await;
    let missing = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/gone")));
            then.status(404).json_body(mock::error(404, None, "User gone not found"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let user = client.get(&UserId::new("u-1")).await.expect("get");
    assert_eq!(user.id.as_str(), "u-1");
    assert_eq!(user.user.user_name.as_deref(), Some("jane"));
    assert_eq!(user.user.active, Some(false));
    assert_eq!(user.user.emails, vec![MultiValue::new("j@example.com", "work").primary()]);
    assert_eq!(user.user.extra.get("urn:example:custom:1.0:User"), Some(&json!({"badge": 7})));
    assert_eq!(user.user.extra.get("groups"), Some(&json!([{"value": "g1", "display": "Staff"}])));
    assert!(!user.user.extra.contains_key("nickName"));

    let error = client.get(&UserId::new("gone")).await.expect_err("404");
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(error.to_string(), "Not found: HTTP 404: User gone not found");
    found.assert_calls_async(1).await;
    missing.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

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

fn users(from: usize, to: usize) -> Vec<Value> {
    (from..=to).map(|n| json!({"id": format!("u{n}"), "userName": format!("user{n}")})).collect()
}

#[tokio::test]
async fn list_advances_by_what_was_returned_and_stops_at_total() {
    let server = MockServer::start_async().await;
    // The server caps pages at 4 although 10 were asked for.
    let mut pages = Vec::new();
    for (start, last) in [(1, 4), (5, 8), (9, 10)] {
        pages.push(
            server
                .mock_async(|when, then| {
                    raw_query(
                        without_body(when.method("GET").path(path("/Users"))),
                        Box::leak(format!("startIndex={start}&count=10").into_boxed_str()),
                    );
                    then.status(200).json_body(mock::list(10, start, users(start, last)));
                })
                .await,
        );
    }
    let unexpected = catch_all(&server).await;

    let listed: Vec<_> = client(&server).list(10).try_collect().await.expect("list");
    let ids: Vec<String> = listed.iter().map(|u| u.id.to_string()).collect();
    assert_eq!(ids, (1..=10).map(|n| format!("u{n}")).collect::<Vec<_>>());
    for page in &pages {
        page.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn list_reads_lenient_lists_and_stops_at_total_results() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=2");
            // Lower-case `resources`, no `totalResults`.
            then.status(200).json_body(json!({"resources": users(1, 2)}));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=3&count=2");
            then.status(200).json_body(json!({"totalResults": "3", "Resources": users(3, 3)}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let page = client.list_page(&PageRequest::first(2)).await.expect("page 1");
    assert_eq!(page.users.len(), 2);
    assert_eq!(page.total, None);
    assert_eq!(page.next, Some(PageToken::new("3")));
    let page = client.list_page(&PageRequest::next(page.next.expect("next"), 2)).await.expect("page 2");
    assert_eq!(page.users.len(), 1);
    assert_eq!(page.total, Some(3));
    assert_eq!(page.next, None, "totalResults reached");
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_empty_page_ends_the_listing() {
    let server = MockServer::start_async().await;
    let empty = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=7&count=5");
            then.status(200).json_body(json!({"Resources": []}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let page = self::client(&server).list_page(&PageRequest::next(PageToken::new("7"), 5)).await.expect("page");
    assert!(page.users.is_empty());
    assert_eq!(page.next, None, "an empty page ends the listing");
    empty.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn list_rejects_invalid_page_tokens_without_sending() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    for token in ["0", "-1", "abc", "", "1.5"] {
        let error = client.list_page(&PageRequest::next(PageToken::new(token), 10)).await.expect_err("invalid token");
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{token:?}: {error:?}");
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn test_connection_proves_url_and_token() {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=1");
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    client(&server).test_connection().await.expect("test connection");
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_token_that_is_a_word_of_the_hint_is_redacted_from_the_server_text_only() {
    // The hint is the crate's own advice: a test token such as `wrong` must not blank a word of
    // it, while the server's echo of the token is still redacted.
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            when.method("GET").path(path("/Users"));
            then.status(401).json_body(mock::error(401, None, "token wrong is not valid"));
        })
        .await;
    let connector = ScimBearer::for_loopback(&server.url(BASE), "wrong").expect("connector");
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client");
    let error = client.test_connection().await.expect_err("401");
    assert_eq!(
        error.to_string(),
        "Unauthorized: HTTP 401: token [REDACTED] is not valid. Check the bearer token configured for this SCIM \
         service: it may be wrong, expired or revoked"
    );
    probe.assert_calls_async(1).await;
}

#[tokio::test]
async fn unauthorized_says_what_to_check_and_hides_the_token() {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(401).header("www-authenticate", "Bearer realm=\"SCIM\"").json_body(mock::error(
                401,
                None,
                "Authorization failure",
            ));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).test_connection().await.expect_err("401");
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Unauthorized: HTTP 401: Authorization failure. Check the bearer token configured for this SCIM service: \
         it may be wrong, expired or revoked"
    );
    assert!(!format!("{error} {error:?}").contains(TOKEN));
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn test_connection_names_the_url_on_404() {
    let server = MockServer::start_async().await;
    let not_found = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(404).header("content-type", "text/html").body("<html><h1>Not Found</h1></html>");
        })
        .await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).test_connection().await.expect_err("404");
    assert!(error.is_not_found(), "{error:?}");
    assert!(error.to_string().contains("Check the SCIM base URL"), "{error}");
    not_found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn test_connection_rejects_a_page_that_is_not_a_scim_list() {
    let server = MockServer::start_async().await;
    let login_page = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(200).header("content-type", "text/html").body("<!DOCTYPE html><title>Sign in</title>");
        })
        .await;
    let unexpected = catch_all(&server).await;
    let error = self::client(&server).test_connection().await.expect_err("HTML is not SCIM");
    let Error::Decode(decode) = &error else { panic!("{error:?}") };
    assert_eq!(decode.status, Some(200));
    assert_eq!(decode.excerpt, "<!DOCTYPE html><title>Sign in</title>");
    login_page.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_html_500_is_a_typed_error_with_a_short_excerpt() {
    let server = MockServer::start_async().await;
    let page = format!("<html><body><h1>Internal Server Error</h1>{}</body></html>", "x".repeat(5000));
    let failing = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/u-1")));
            then.status(500).header("content-type", "text/html").body(page);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).get(&UserId::new("u-1")).await.expect_err("500");
    let Error::Api(api) = &error else { panic!("{error:?}") };
    assert_eq!(api.status, 500);
    assert!(api.message.starts_with("Internal Server Error (body starts: \"<html><body><h1>Internal Server Error"));
    assert!(api.message.len() < 300, "the excerpt is short: {}", api.message.len());
    failing.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn create_answered_with_an_empty_body_is_a_decode_error() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Users")));
            then.status(201);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).provision(&jane()).await.expect_err("no user came back");
    assert!(matches!(&error, Error::Decode(d) if d.status == Some(201)), "{error:?}");
    // The server said it created the user, so it is looked up again, but never created twice.
    find.assert_calls_async(2).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn error_status_may_be_a_string_or_a_number() {
    for status in [json!("409"), json!(409)] {
        let server = MockServer::start_async().await;
        let find = server
            .mock_async(|when, then| {
                without_body(when.method("GET").path(path("/Users")));
                then.status(200).json_body(mock::list(0, 1, vec![]));
            })
            .await;
        let create = server
            .mock_async(|when, then| {
                with_body(when.method("POST").path(path("/Users")));
                then.status(409).json_body(json!({"status": status, "scimType": "uniqueness", "detail": "exists"}));
            })
            .await;
        let unexpected = catch_all(&server).await;
        // The look-up after the conflict still finds nobody: the conflict is reported.
        let error = client(&server).provision(&jane()).await.expect_err("conflict");
        assert!(error.is_conflict(), "{error:?}");
        assert_eq!(error.to_string(), "Conflict: HTTP 409 (uniqueness): exists");
        find.assert_calls_async(2).await;
        create.assert_calls_async(1).await;
        unexpected.assert_calls_async(0).await;
    }
}
