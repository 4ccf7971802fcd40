//! SCIM groups at the request level, for `ScimBearer` and `InteractBearer`: each group operation's
//! exact method, path, query, headers and body, and the typed outcome of each answer. One mock
//! server per test; a catch-all answers anything unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, BASE, TOKEN, catch_all, path, raw_query, with_body, without_body};
use futures_util::TryStreamExt as _;
use httpmock::{Mock, MockServer};
use identity_connectors::interact::{INTERACT_GROUP_SCHEMA, InteractGroupAttributes};
use identity_connectors::{
    Client, DeprovisionOutcome, DeprovisionPolicy, Error, GroupKind, GroupRef, InteractBearer, NewGroup, RetryPolicy,
    ScimBearer, User,
};
use serde_json::{Value, json};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const FIND_JDOE: &str = "filter=userName%20eq%20%22jdoe%22";
const FIND_SALES: &str = "filter=displayName%20eq%20%22Sales%22&excludedAttributes=members";
const MEMBER_OF_U1: &str =
    "filter=members%5Bvalue%20eq%20%22u-1%22%5D&startIndex=1&count=100&excludedAttributes=members";
/// The probe for a member no server has, which tells whether the server applies the filter.
const PROBE: &str =
    "filter=members%5Bvalue%20eq%20%22identity-connectors-probe%22%5D&startIndex=1&count=1&excludedAttributes=members";

fn client(server: &MockServer) -> Client {
    let connector = ScimBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector");
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client")
}

fn jdoe() -> User {
    User::builder("jdoe").build()
}

fn group(id: &str, name: &str) -> Value {
    json!({"schemas": [GROUP], "id": id, "displayName": name, "meta": {"resourceType": "Group"}})
}

fn sales() -> GroupRef {
    GroupRef::name("Sales").unwrap()
}

fn scim(then: httpmock::Then, status: u16, body: Value) -> httpmock::Then {
    then.status(status).header("content-type", "application/scim+json").json_body(body)
}

/// `GET /Users?filter=userName eq "jdoe"` finding `u-1`.
async fn find_jdoe(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), FIND_JDOE);
            scim(then, 200, mock::list(1, 1, vec![json!({"id": "u-1", "userName": "jdoe"})]));
        })
        .await
}

/// `GET /Groups?filter=displayName eq "Sales"&excludedAttributes=members` answering `groups`.
async fn find_sales(server: &MockServer, groups: Vec<Value>) -> Mock<'_> {
    server
        .mock_async(move |when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups"))), FIND_SALES);
            scim(then, 200, mock::list(groups.len(), 1, groups));
        })
        .await
}

/// `GET /Groups?filter=members[value eq "u-1"]…` answering `groups`.
async fn member_of(server: &MockServer, groups: Vec<Value>) -> Mock<'_> {
    server
        .mock_async(move |when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups"))), MEMBER_OF_U1);
            scim(then, 200, mock::list(groups.len(), 1, groups));
        })
        .await
}

/// The probe (`GET /Groups?filter=members[value eq "identity-connectors-probe"]…`) answering
/// `groups`: none from a server that applies the filter, some from one that ignores it.
async fn probe(server: &MockServer, groups: Vec<Value>) -> Mock<'_> {
    server
        .mock_async(move |when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups"))), PROBE);
            scim(then, 200, mock::list(groups.len(), 1, groups));
        })
        .await
}

/// `PATCH /Groups/{id}` with exactly `operations`, answered `204`.
async fn patch<'a>(server: &'a MockServer, id: &str, operations: Value) -> Mock<'a> {
    let id = id.to_string();
    server
        .mock_async(move |when, then| {
            with_body(when.method("PATCH").path(path(&format!("/Groups/{id}"))))
                .query_param_count(".*", ".*", 0)
                .json_body(json!({"schemas": [PATCH_OP], "Operations": operations}));
            then.status(204);
        })
        .await
}

#[tokio::test]
async fn find_group_by_name_checks_the_answer_and_reports_ambiguity() {
    let server = MockServer::start_async().await;
    // A server that matched loosely: only the group whose name is really "Sales" counts.
    let find = find_sales(&server, vec![group("g-1", "Sales"), group("g-9", "Sales Ops"), group("g-8", "SALES")]).await;
    let unexpected = catch_all(&server).await;
    let found = client(&server).find_group(&sales()).await.expect("found");
    assert_eq!((found.id.as_str(), found.display_name.as_str(), found.kind), ("g-1", "Sales", GroupKind::Group));
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;

    let server = MockServer::start_async().await;
    let find = find_sales(&server, vec![group("g-1", "Sales"), group("g-2", "Sales")]).await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).find_group(&sales()).await.unwrap_err();
    assert!(matches!(error, Error::Ambiguous { attribute: "group displayName", matches: 2 }), "{error:?}");
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_group_by_id_reads_it_without_members_and_404_is_missing() {
    let server = MockServer::start_async().await;
    let get = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups/g%201"))), "excludedAttributes=members");
            scim(then, 200, group("g 1", "Sales"));
        })
        .await;
    let gone = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups/g-404"))), "excludedAttributes=members");
            scim(then, 404, mock::error(404, None, "Group not found"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let found = client.find_group(&GroupRef::id("g 1").unwrap()).await.expect("found");
    assert_eq!(found.display_name, "Sales");
    let error = client.find_group(&GroupRef::id("g-404").unwrap()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Group with id g-404 does not exist; nothing was changed. Check the name or id, or create it first"
    );
    get.assert_calls_async(1).await;
    gone.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn list_groups_pages_without_members() {
    let server = MockServer::start_async().await;
    let first = server
        .mock_async(|when, then| {
            raw_query(
                without_body(when.method("GET").path(path("/Groups"))),
                "startIndex=1&count=2&excludedAttributes=members",
            );
            scim(then, 200, mock::list(3, 1, vec![group("g-1", "Sales"), group("g-2", "Ops")]));
        })
        .await;
    let second = server
        .mock_async(|when, then| {
            raw_query(
                without_body(when.method("GET").path(path("/Groups"))),
                "startIndex=3&count=2&excludedAttributes=members",
            );
            scim(then, 200, mock::list(3, 3, vec![group("g-3", "Finance")]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let names: Vec<String> =
        client.list_groups(None, 2).map_ok(|g| g.display_name).try_collect().await.expect("listed");
    assert_eq!(names, ["Sales", "Ops", "Finance"]);
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn grant_adds_the_member_with_one_patch_and_then_is_a_no_op() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let find = find_sales(&server, vec![group("g-1", "Sales")]).await;
    // The first membership read finds none, the second (after the add) finds Sales.
    let none = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups"))), MEMBER_OF_U1);
            scim(then, 200, mock::list(0, 1, vec![])).up_to_n_times(1);
        })
        .await;
    let add = patch(&server, "g-1", json!([{"op": "add", "path": "members", "value": [{"value": "u-1"}]}])).await;
    let now = member_of(&server, vec![group("g-1", "Sales")]).await;
    // An answer without members proves membership once the server is known to apply the filter.
    let applied = probe(&server, vec![]).await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let change = client.grant(&jdoe(), &sales()).await.expect("granted");
    assert_eq!(change.to_string(), "added: group \"Sales\" (g-1); removed: none");
    let again = client.grant(&jdoe(), &sales()).await.expect("granted again");
    assert!(again.is_unchanged());
    user.assert_calls_async(2).await;
    find.assert_calls_async(2).await;
    none.assert_calls_async(1).await;
    now.assert_calls_async(1).await;
    applied.assert_calls_async(1).await;
    add.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn revoke_removes_by_value_filter_and_no_target_counts_as_done() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let find = find_sales(&server, vec![group("g-1", "Sales")]).await;
    let member = member_of(&server, vec![group("g-1", "Sales")]).await;
    let applied = probe(&server, vec![]).await;
    let remove = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Groups/g-1"))).query_param_count(".*", ".*", 0).json_body(
                json!({"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": "members[value eq \"u-1\"]"}]}),
            );
            // Someone else removed them meanwhile: the filter matched nothing.
            scim(then, 400, mock::error(400, Some("noTarget"), "no member matched"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let change = client(&server).revoke(&jdoe(), &sales()).await.expect("revoked");
    assert_eq!(change.to_string(), "added: none; removed: group \"Sales\" (g-1)");
    for mock in [&user, &find, &member, &applied, &remove] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn memberships_keep_only_groups_that_list_the_person_when_members_come_back() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    // A server that ignores both the filter and excludedAttributes.
    let member = member_of(
        &server,
        vec![
            json!({"id": "g-1", "displayName": "Sales", "members": [{"value": "u-1"}, {"value": "u-2"}]}),
            json!({"id": "g-2", "displayName": "Ops", "members": [{"value": "u-2"}]}),
            json!({"id": "g-3", "displayName": "Finance", "members": []}),
        ],
    )
    .await;
    let unexpected = catch_all(&server).await;
    let groups = client(&server).memberships(&jdoe()).await.expect("read");
    let names: Vec<&str> = groups.iter().map(|g| g.display_name.as_str()).collect();
    assert_eq!(names, ["Sales"]);
    user.assert_calls_async(1).await;
    member.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn memberships_fall_back_to_the_users_groups_when_the_filter_is_refused() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let refused = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups"))), MEMBER_OF_U1);
            scim(then, 400, mock::error(400, Some("invalidFilter"), "value filters are not supported"));
        })
        .await;
    let groups_attribute = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users/u-1"))), "attributes=groups");
            scim(
                then,
                200,
                json!({"id": "u-1", "groups": [
                    {"value": "g-1", "display": "Sales", "type": "direct"},
                    {"value": "g-7", "display": "All staff", "type": "indirect"},
                    {"value": "g-2"}
                ]}),
            );
        })
        .await;
    // A group without a display name is read for it.
    let named = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups/g-2"))), "excludedAttributes=members");
            scim(then, 200, group("g-2", "Ops"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let groups = client(&server).memberships(&jdoe()).await.expect("read");
    let names: Vec<String> = groups.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["group \"Sales\" (g-1)", "group \"Ops\" (g-2)"]);
    for mock in [&user, &refused, &groups_attribute, &named] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn set_memberships_adds_then_removes_only_the_difference() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let find = find_sales(&server, vec![group("g-1", "Sales")]).await;
    let member = member_of(&server, vec![group("g-2", "Ops")]).await;
    let applied = probe(&server, vec![]).await;
    let add = patch(&server, "g-1", json!([{"op": "add", "path": "members", "value": [{"value": "u-1"}]}])).await;
    let remove = patch(&server, "g-2", json!([{"op": "remove", "path": "members[value eq \"u-1\"]"}])).await;
    let unexpected = catch_all(&server).await;
    let change = client(&server).set_memberships(&jdoe(), &[sales()]).await.expect("set");
    assert_eq!(change.to_string(), "added: group \"Sales\" (g-1); removed: group \"Ops\" (g-2)");
    for mock in [&user, &find, &member, &applied, &add, &remove] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn replace_members_is_one_explicit_replace() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let find = find_sales(&server, vec![group("g-1", "Sales")]).await;
    let replace =
        patch(&server, "g-1", json!([{"op": "replace", "path": "members", "value": [{"value": "u-1"}]}])).await;
    let empty = patch(&server, "g-1", json!([{"op": "replace", "path": "members", "value": []}])).await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let replaced = client.replace_members(&sales(), &[jdoe(), jdoe()]).await.expect("replaced");
    assert_eq!(replaced.id.as_str(), "g-1");
    client.replace_members(&sales(), &[]).await.expect("emptied");
    user.assert_calls_async(2).await;
    find.assert_calls_async(2).await;
    replace.assert_calls_async(1).await;
    empty.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn create_group_posts_once_and_an_existing_name_is_returned_unwritten() {
    let server = MockServer::start_async().await;
    let none = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Groups"))), FIND_SALES);
            scim(then, 200, mock::list(0, 1, vec![])).up_to_n_times(1);
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Groups")))
                .query_param_count(".*", ".*", 0)
                .json_body(json!({"schemas": [GROUP], "displayName": "Sales", "externalId": "hr-7"}));
            scim(then, 201, group("g-1", "Sales"));
        })
        .await;
    let exists = find_sales(&server, vec![group("g-1", "Sales")]).await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let new = NewGroup::new("Sales").unwrap().with_external_id("hr-7").unwrap();
    let created = client.create_group(&new).await.expect("created");
    assert!(created.created);
    assert_eq!(created.group.id.as_str(), "g-1");
    let again = client.create_group(&new).await.expect("exists");
    assert!(!again.created);
    assert_eq!(again.group, created.group);
    none.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    exists.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn interact_creates_groups_with_its_extension() {
    let server = MockServer::start_async().await;
    let none = find_sales(&server, vec![]).await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Groups"))).json_body(json!({
                "schemas": [GROUP, INTERACT_GROUP_SCHEMA],
                "displayName": "Sales",
                INTERACT_GROUP_SCHEMA: {"description": "Everyone in Sales", "hidden": false, "order": 3}
            }));
            scim(then, 201, group("g-1", "Sales"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let connector = InteractBearer::for_loopback(&server.url(BASE), TOKEN).unwrap();
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap();
    let extension = InteractGroupAttributes::new()
        .text("description", "Everyone in Sales")
        .and_then(|e| e.flag("hidden", false))
        .and_then(|e| e.integer("order", 3))
        .unwrap();
    // What is sent reads back as the same typed attributes.
    let sent = json!({INTERACT_GROUP_SCHEMA: {"description": "Everyone in Sales", "hidden": false, "order": 3}});
    assert_eq!(InteractGroupAttributes::from_group(&sent).as_ref(), Some(&extension));
    let new = extension.apply_to(NewGroup::new("Sales").unwrap()).unwrap();
    assert!(client.create_group(&new).await.expect("created").created);
    none.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn delete_group_is_explicit_and_idempotent() {
    let server = MockServer::start_async().await;
    let find = find_sales(&server, vec![group("g-1", "Sales")]).await;
    let delete = server
        .mock_async(|when, then| {
            without_body(when.method("DELETE").path(path("/Groups/g-1"))).query_param_count(".*", ".*", 0);
            // Deleted by someone else between the look-up and the delete.
            scim(then, 404, mock::error(404, None, "Group not found"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let deleted = client(&server).delete_group(&sales()).await.expect("deleted");
    assert_eq!(deleted.map(|g| g.display_name), Some("Sales".to_string()));
    find.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;

    let server = MockServer::start_async().await;
    let find = find_sales(&server, vec![]).await;
    let unexpected = catch_all(&server).await;
    assert_eq!(client(&server).delete_group(&sales()).await.expect("nothing to delete"), None);
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovision_with_revocation_removes_every_membership_then_deactivates() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let member = member_of(&server, vec![group("g-1", "Sales"), group("g-2", "Ops")]).await;
    let applied = probe(&server, vec![]).await;
    let remove_1 = patch(&server, "g-1", json!([{"op": "remove", "path": "members[value eq \"u-1\"]"}])).await;
    let remove_2 = patch(&server, "g-2", json!([{"op": "remove", "path": "members[value eq \"u-1\"]"}])).await;
    let deactivate = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(
                json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
            );
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;
    let done = client(&server).deprovision_with(&jdoe(), DeprovisionPolicy::revoke_memberships()).await.expect("done");
    assert_eq!(done.outcome, DeprovisionOutcome::Deactivated);
    assert_eq!(done.revoked.len(), 2);
    for mock in [&member, &applied, &remove_1, &remove_2, &deactivate] {
        mock.assert_calls_async(1).await;
    }
    assert!(user.calls_async().await >= 2);
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn bad_input_is_a_typed_error_and_never_reaches_the_wire() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    for bad in ["", "  ", "Sales\nAdmins", "nul\0"] {
        assert!(matches!(GroupRef::name(bad), Err(Error::Validation(_))), "{bad:?}");
        assert!(matches!(NewGroup::new(bad), Err(Error::Validation(_))), "{bad:?}");
    }
    let role = GroupRef::name("Sales").unwrap().of_kind(GroupKind::AgentRole);
    for error in [
        client.find_group(&role).await.unwrap_err(),
        client.grant(&jdoe(), &role).await.unwrap_err(),
        client.delete_group(&role).await.unwrap_err(),
        client.create_group(&NewGroup::new("Sales").unwrap().of_kind(GroupKind::RequesterGroup)).await.unwrap_err(),
        client.find_group(&GroupRef::id("..").unwrap()).await.unwrap_err(),
        client.grant(&User::builder(" ").build(), &sales()).await.unwrap_err(),
    ] {
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");
    }
    assert!(NewGroup::new("x").unwrap().with_extension("not a urn", Default::default()).is_err());
    assert!(InteractGroupAttributes::new().text("a\"b", "x").is_err());
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn unknown_groups_and_people_are_missing_and_change_nothing() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let none = find_sales(&server, vec![group("g-9", "Sales Ops")]).await;
    let nobody = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "filter=userName%20eq%20%22ghost%22");
            scim(then, 200, mock::list(0, 1, vec![]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let error = client.grant(&jdoe(), &sales()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Group \"Sales\" does not exist; nothing was changed. Check the name or id, or create it first"
    );
    let error = client.set_memberships(&jdoe(), &[sales()]).await.unwrap_err();
    assert!(matches!(error, Error::Missing { resource: "group", .. }), "{error:?}");
    let error = client.revoke(&User::builder("ghost").build(), &sales()).await.unwrap_err();
    assert!(matches!(error, Error::Missing { resource: "user", .. }), "{error:?}");
    user.assert_calls_async(2).await;
    none.assert_calls_async(2).await;
    nobody.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
