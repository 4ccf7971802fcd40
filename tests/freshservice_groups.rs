//! Request-level tests of Freshservice groups: the exact request (method, path, query, headers,
//! body) of every group operation, and the typed outcome of the answers.

#[path = "support/common/mod.rs"]
mod common;

use common::freshservice::{catch_all, client, connector, no_body, request, respond};
use futures_util::StreamExt;
use httpmock::{Method, Mock, MockServer};
use identity_connectors::{Error, FreshserviceApiKey, GroupKind, GroupRef, MembershipChange, User};
use serde_json::{Value, json};

const EMAIL: &str = "jane.doe@example.com";
const PERSON: u64 = 21000418006;

fn jane() -> User {
    User::builder(EMAIL).email(EMAIL).build()
}

const PAGE_1: &[(&str, &str)] = &[("per_page", "100"), ("page", "1")];

async fn get<'a>(server: &'a MockServer, path: &str, query: &[(&str, &str)], body: Value) -> Mock<'a> {
    let (path, query): (String, Vec<(String, String)>) =
        (path.to_string(), query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
    server
        .mock_async(move |when, then| {
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            no_body(request(when, Method::GET, &path, &query));
            respond(then, 200, body);
        })
        .await
}

/// A `GET` answered with `body` and a `Link` header pointing at the `next` page.
async fn get_with_next<'a>(
    server: &'a MockServer,
    path: &'static str,
    query: &'static [(&'static str, &'static str)],
    body: Value,
    next: &str,
) -> Mock<'a> {
    let link = format!("<{next}>; rel=\"next\"");
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, path, query));
            respond(then, 200, body).header("link", link);
        })
        .await
}

/// Group 11's first member page: someone else, and a link to a second page.
async fn sales_members_first_page(server: &MockServer) -> Mock<'_> {
    let next = "/api/v2/requester_groups/11/members?per_page=100&page=2";
    get_with_next(server, "/requester_groups/11/members", PAGE_1, json!({"requesters": [{"id": 1}]}), next).await
}

/// Jane's membership of requester group `group` added (`POST`) or removed (`DELETE`), answered
/// `status` without a body.
async fn member_write(server: &MockServer, method: Method, group: u64, status: u16) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            no_body(request(when, method, &format!("/requester_groups/{group}/members/{PERSON}"), &[]));
            then.status(status);
        })
        .await
}

/// Jane's agent record written with exactly `body` (one JSON document), answered with her record.
async fn put_agent(server: &MockServer, body: Value) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            request(when, Method::PUT, &format!("/agents/{PERSON}"), &[])
                .header("content-type", "application/json")
                .json_body(body);
            respond(then, 200, json!({"agent": agent()}));
        })
        .await
}

fn requester() -> Value {
    json!({"id": PERSON, "is_agent": false, "first_name": "Jane", "primary_email": EMAIL, "active": true,
           "department_ids": [], "location_id": null})
}

fn agent() -> Value {
    json!({"id": PERSON, "first_name": "Jane", "email": EMAIL, "active": true, "occasional": false,
           "department_ids": [], "location_id": null, "member_of": [21], "observer_of": [],
           "can_see_all_tickets_from_associated_departments": true,
           "roles": [{"role_id": 7, "assignment_scope": "entire_helpdesk", "groups": []},
                     {"role_id": 9, "assignment_scope": "assigned_items", "groups": []}]})
}

/// The look-up by e-mail that finds Jane as a requester.
async fn find_requester(server: &MockServer) -> Mock<'_> {
    get(server, "/requesters", &[("email", EMAIL), ("include_agents", "true")], json!({"requesters": [requester()]}))
        .await
}

/// The look-up by e-mail that finds Jane as an agent, and her agent record (read by every call).
async fn find_agent(server: &MockServer) -> (Mock<'_>, Mock<'_>) {
    find_agent_with(server, agent()).await
}

async fn find_agent_with(server: &MockServer, agent: Value) -> (Mock<'_>, Mock<'_>) {
    let mut listed = agent.clone();
    listed["is_agent"] = json!(true);
    let found =
        get(server, "/requesters", &[("email", EMAIL), ("include_agents", "true")], json!({"requesters": [listed]}))
            .await;
    let record = get(server, &format!("/agents/{PERSON}"), &[], json!({ "agent": agent })).await;
    (found, record)
}

async fn requester_groups(server: &MockServer) -> Mock<'_> {
    let groups = json!({"requester_groups": [
        {"id": 11, "name": "Sales", "type": "manual"},
        {"id": 12, "name": "Finance", "type": "manual"},
    ]});
    get(server, "/requester_groups", PAGE_1, groups).await
}

async fn members<'a>(server: &'a MockServer, group: u64, members: Value) -> Mock<'a> {
    get(server, &format!("/requester_groups/{group}/members"), PAGE_1, json!({ "requesters": members })).await
}

async fn agent_groups(server: &MockServer) -> Mock<'_> {
    let groups = json!({"groups": [{"id": 21, "name": "Service Desk"}, {"id": 22, "name": "Hardware"}]});
    get(server, "/groups", PAGE_1, groups).await
}

async fn roles(server: &MockServer) -> Mock<'_> {
    let roles = json!({"roles": [{"id": 7, "name": "SD Agent"}, {"id": 9, "name": "Admin"}, {"id": 10, "name": "SD Supervisor"}]});
    get(server, "/roles", PAGE_1, roles).await
}

fn added(change: &MembershipChange) -> Vec<String> {
    change.added.iter().map(ToString::to_string).collect()
}

fn removed(change: &MembershipChange) -> Vec<String> {
    change.removed.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn granting_a_requester_group_posts_the_member_once() {
    let server = MockServer::start_async().await;
    let find = find_requester(&server).await;
    let list = requester_groups(&server).await;
    let none = members(&server, 11, json!([])).await;
    let post = member_write(&server, Method::POST, 11, 201).await;
    let unexpected = catch_all(&server).await;
    let change = client(connector(&server)).grant(&jane(), &GroupRef::name("sales").unwrap()).await.unwrap();
    assert_eq!(added(&change), ["requester group \"Sales\" (11)"]);
    assert!(change.removed.is_empty());
    assert_eq!((find.calls(), list.calls(), none.calls(), post.calls(), unexpected.calls()), (1, 1, 1, 1, 0));
}

#[tokio::test]
async fn granting_a_group_the_requester_is_in_sends_no_write() {
    let server = MockServer::start_async().await;
    find_requester(&server).await;
    requester_groups(&server).await;
    members(&server, 11, json!([{"id": 5}, requester()])).await;
    let unexpected = catch_all(&server).await;
    let change = client(connector(&server)).grant(&jane(), &GroupRef::id("11").unwrap()).await.unwrap();
    assert!(change.is_unchanged(), "{change}");
    assert_eq!(change.to_string(), "unchanged");
    assert_eq!(unexpected.calls(), 0);
}

#[tokio::test]
async fn revoking_a_requester_group_deletes_the_member() {
    let server = MockServer::start_async().await;
    find_requester(&server).await;
    requester_groups(&server).await;
    members(&server, 12, json!([requester()])).await;
    let delete = member_write(&server, Method::DELETE, 12, 204).await;
    let unexpected = catch_all(&server).await;
    let change = client(connector(&server)).revoke(&jane(), &GroupRef::name("Finance").unwrap()).await.unwrap();
    assert_eq!(removed(&change), ["requester group \"Finance\" (12)"]);
    assert_eq!((delete.calls(), unexpected.calls()), (1, 0));
}

#[tokio::test]
async fn a_requester_s_memberships_are_read_group_by_group_following_pages() {
    let server = MockServer::start_async().await;
    find_requester(&server).await;
    requester_groups(&server).await;
    let first = sales_members_first_page(&server).await;
    let second = get(
        &server,
        "/requester_groups/11/members",
        &[("per_page", "100"), ("page", "2")],
        json!({"requesters": [requester()]}),
    )
    .await;
    members(&server, 12, json!([{"id": 2}])).await;
    let unexpected = catch_all(&server).await;
    let groups = client(connector(&server)).memberships(&jane()).await.unwrap();
    let names: Vec<String> = groups.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["requester group \"Sales\" (11)"]);
    assert_eq!((first.calls(), second.calls(), unexpected.calls()), (1, 1, 0));
}

#[tokio::test]
async fn an_add_the_server_says_is_done_already_counts_as_done() {
    let server = MockServer::start_async().await;
    find_requester(&server).await;
    requester_groups(&server).await;
    members(&server, 11, json!([])).await;
    let post = server
        .mock_async(|when, then| {
            no_body(request(when, Method::POST, &format!("/requester_groups/11/members/{PERSON}"), &[]));
            respond(
                then,
                409,
                json!({"description": "Validation failed", "errors": [
                {"field": "requester_id", "message": "already a member", "code": "duplicate_value"}]}),
            );
        })
        .await;
    let change = client(connector(&server)).grant(&jane(), &GroupRef::name("Sales").unwrap()).await.unwrap();
    assert_eq!(added(&change), ["requester group \"Sales\" (11)"]);
    assert_eq!(post.calls(), 1);
}

#[tokio::test]
async fn granting_an_agent_group_puts_the_grown_member_of_with_the_department_flag() {
    let server = MockServer::start_async().await;
    let (_, record) = find_agent(&server).await;
    agent_groups(&server).await;
    let put =
        put_agent(&server, json!({"member_of": [21, 22], "can_see_all_tickets_from_associated_departments": true}))
            .await;
    let unexpected = catch_all(&server).await;
    let change = client(connector(&server)).grant(&jane(), &GroupRef::name("Hardware").unwrap()).await.unwrap();
    assert_eq!(added(&change), ["agent group \"Hardware\" (22)"]);
    assert_eq!((put.calls(), unexpected.calls()), (1, 0));
    // Found by e-mail, then read to check membership and again right before the write.
    assert_eq!(record.calls(), 3);
}

#[tokio::test]
async fn observing_an_agent_group_puts_observer_of() {
    let server = MockServer::start_async().await;
    find_agent(&server).await;
    agent_groups(&server).await;
    let put =
        put_agent(&server, json!({"observer_of": [22], "can_see_all_tickets_from_associated_departments": true})).await;
    let unexpected = catch_all(&server).await;
    let hardware = GroupRef::id("22").unwrap().of_kind(GroupKind::AgentGroupObserver);
    let change = client(connector(&server)).grant(&jane(), &hardware).await.unwrap();
    assert_eq!(added(&change), ["agent group (observer) \"Hardware\" (22)"]);
    assert_eq!((put.calls(), unexpected.calls()), (1, 0));
}

#[tokio::test]
async fn granting_and_revoking_roles_put_the_whole_role_list() {
    let server = MockServer::start_async().await;
    find_agent(&server).await;
    roles(&server).await;
    let grant = put_agent(
        &server,
        json!({
                "roles": [{"role_id": 7, "assignment_scope": "entire_helpdesk", "groups": []},
                          {"role_id": 9, "assignment_scope": "assigned_items", "groups": []},
                          {"role_id": 10, "assignment_scope": "member_groups"}],
                "can_see_all_tickets_from_associated_departments": true}),
    )
    .await;
    let revoke = put_agent(
        &server,
        json!({
                "roles": [{"role_id": 7, "assignment_scope": "entire_helpdesk", "groups": []}],
                "can_see_all_tickets_from_associated_departments": true}),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server).with_granted_role_scope("member_groups").unwrap());
    let supervisor = GroupRef::name("SD Supervisor").unwrap().of_kind(GroupKind::AgentRole);
    assert_eq!(added(&client.grant(&jane(), &supervisor).await.unwrap()), ["agent role \"SD Supervisor\" (10)"]);
    let admin = GroupRef::name("Admin").unwrap().of_kind(GroupKind::AgentRole);
    assert_eq!(removed(&client.revoke(&jane(), &admin).await.unwrap()), ["agent role \"Admin\" (9)"]);
    assert_eq!((grant.calls(), revoke.calls(), unexpected.calls()), (1, 1, 0));
    assert!(FreshserviceApiKey::new("acme", "k-123456").unwrap().with_granted_role_scope("everything").is_err());
}

#[tokio::test]
async fn an_agent_s_memberships_come_from_one_agent_record() {
    let server = MockServer::start_async().await;
    find_agent(&server).await;
    agent_groups(&server).await;
    roles(&server).await;
    let unexpected = catch_all(&server).await;
    let groups = client(connector(&server)).memberships(&jane()).await.unwrap();
    let names: Vec<String> = groups.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["agent group \"Service Desk\" (21)", "agent role \"SD Agent\" (7)", "agent role \"Admin\" (9)"]);
    assert_eq!(unexpected.calls(), 0);
}

#[tokio::test]
async fn listing_groups_is_a_bounded_stream_of_pages() {
    let server = MockServer::start_async().await;
    let first = get_with_next(
        &server,
        "/requester_groups",
        &[("per_page", "2"), ("page", "1")],
        json!({"requester_groups": [{"id": 1, "name": "A"}, {"id": 2, "name": "B"}]}),
        "/api/v2/requester_groups?per_page=2&page=2",
    )
    .await;
    let second = get(
        &server,
        "/requester_groups",
        &[("per_page", "2"), ("page", "2")],
        json!({"requester_groups": [{"id": 3, "name": "C"}]}),
    )
    .await;
    let agents = get(
        &server,
        "/groups",
        &[("per_page", "2"), ("page", "1")],
        json!({"groups": [{"id": 21, "name": "Service Desk"}]}),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));
    let names: Vec<String> = client.list_groups(None, 2).map(|g| g.unwrap().display_name).collect::<Vec<_>>().await;
    assert_eq!(names, ["A", "B", "C"]);
    let agent_groups: Vec<String> =
        client.list_groups(Some(GroupKind::AgentGroup), 2).map(|g| g.unwrap().to_string()).collect::<Vec<_>>().await;
    assert_eq!(agent_groups, ["agent group \"Service Desk\" (21)"]);
    assert_eq!((first.calls(), second.calls(), agents.calls(), unexpected.calls()), (1, 1, 1, 0));
}

#[tokio::test]
async fn an_unknown_group_is_missing_and_nothing_is_written() {
    let server = MockServer::start_async().await;
    find_requester(&server).await;
    let list = requester_groups(&server).await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));
    let error = client.grant(&jane(), &GroupRef::name("Marketing").unwrap()).await.unwrap_err();
    assert!(matches!(&error, Error::Missing { resource: "requester group", .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Requester group \"Marketing\" does not exist; nothing was changed. Check the name or id, or create it first"
    );
    let error = client.revoke(&jane(), &GroupRef::id("99").unwrap()).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Requester group with id 99 does not exist; nothing was changed. Check the name or id, or create it first"
    );
    let error =
        client.set_memberships(&jane(), &[GroupRef::name("Sales").unwrap(), GroupRef::name("Nope").unwrap()]).await;
    assert!(matches!(error, Err(Error::Missing { .. })), "{error:?}");
    // The list was read once and cached (an unknown name re-reads it only once it is older than
    // the cache's time to live).
    assert_eq!((list.calls(), unexpected.calls()), (1, 0));
}

#[tokio::test]
async fn an_ambiguous_group_name_is_ambiguous() {
    let server = MockServer::start_async().await;
    find_requester(&server).await;
    get(&server, "/requester_groups", PAGE_1, json!({"requester_groups": [{"id": 1, "name": "Sales"}, {"id": 2, "name": "SALES"}, {"id": 3, "name": "sales"}]})).await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));
    // An exact match wins over case-insensitive ones.
    let exact = client.find_group(&GroupRef::name("SALES").unwrap()).await.unwrap();
    assert_eq!(exact.id.as_str(), "2");
    let error = client.grant(&jane(), &GroupRef::name("sAlEs").unwrap()).await.unwrap_err();
    assert!(matches!(error, Error::Ambiguous { attribute: "requester group name", matches: 3 }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Ambiguous look-up: 3 groups match the requester group name; use a key that identifies one group"
    );
    assert_eq!(unexpected.calls(), 0);
}

#[tokio::test]
async fn an_unknown_person_is_missing_without_naming_their_address() {
    let server = MockServer::start_async().await;
    get(&server, "/requesters", &[("email", EMAIL), ("include_agents", "true")], json!({"requesters": []})).await;
    get(&server, "/agents", &[("email", EMAIL)], json!({"agents": []})).await;
    let unexpected = catch_all(&server).await;
    let error = client(connector(&server)).grant(&jane(), &GroupRef::name("Sales").unwrap()).await.unwrap_err();
    assert!(matches!(&error, Error::Missing { resource: "user", .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "User matching the email does not exist; nothing was changed. Provision the person first, or check the look-up"
    );
    assert_eq!(unexpected.calls(), 0);
}

#[tokio::test]
async fn bad_references_never_reach_the_wire() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));
    for bad in ["", "  ", "Sales\r\nX-Injected: 1", "a\u{0}b"] {
        assert!(matches!(GroupRef::name(bad), Err(Error::Validation(ref v)) if v.status.is_none()), "{bad:?}");
    }
    for bad in ["12a", "-1", "1 OR 1=1", "../agents"] {
        let error = client.grant(&jane(), &GroupRef::id(bad).unwrap()).await.unwrap_err();
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{bad:?}: {error:?}");
    }
    let scim_kind = GroupRef::name("Sales").unwrap().of_kind(GroupKind::Group);
    let error = client.set_memberships(&jane(), &[scim_kind]).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");
    assert_eq!(unexpected.calls(), 0);
}

#[tokio::test]
async fn a_requester_group_cannot_hold_an_agent_and_an_agent_s_last_role_stays() {
    let server = MockServer::start_async().await;
    let mut single = agent();
    single["roles"] = json!([{"role_id": 7, "assignment_scope": "entire_helpdesk", "groups": []}]);
    find_agent_with(&server, single).await;
    requester_groups(&server).await;
    roles(&server).await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));
    let sales = GroupRef::name("Sales").unwrap().of_kind(GroupKind::RequesterGroup);
    let error = client.set_memberships(&jane(), std::slice::from_ref(&sales)).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Validation failed before sending (nothing was sent): this user cannot belong to a requester group; \
         group: requester group \"Sales\" (11) cannot hold this user"
    );
    // An agent is never a member of a requester group: revoking one is a no-op.
    assert!(client.revoke(&jane(), &sales).await.unwrap().is_unchanged());
    let sd_agent = GroupRef::name("SD Agent").unwrap().of_kind(GroupKind::AgentRole);
    let error = client.revoke(&jane(), &sd_agent).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none() && v.fields[0].field == "roles"), "{error:?}");
    assert_eq!(unexpected.calls(), 0);
}

/// Freshservice cannot say which groups a requester is in, so `set_memberships` reads each
/// requester group's member list once, up to the page that lists the person, and then writes
/// only the difference.
#[tokio::test]
async fn set_memberships_reads_each_member_list_once_and_writes_the_difference() {
    let server = MockServer::start_async().await;
    let find = find_requester(&server).await;
    let list = requester_groups(&server).await;
    let sales = members(&server, 11, json!([{"id": 5}])).await;
    let finance = members(&server, 12, json!([requester()])).await;
    let post = member_write(&server, Method::POST, 11, 201).await;
    let delete = member_write(&server, Method::DELETE, 12, 204).await;
    let unexpected = catch_all(&server).await;
    let change =
        client(connector(&server)).set_memberships(&jane(), &[GroupRef::name("Sales").unwrap()]).await.unwrap();
    assert_eq!(
        (added(&change), removed(&change)),
        (vec!["requester group \"Sales\" (11)".to_string()], vec!["requester group \"Finance\" (12)".to_string()])
    );
    let calls = [&find, &list, &sales, &finance, &post, &delete].map(|m| m.calls());
    assert_eq!(calls, [1, 1, 1, 1, 1, 1]);
    assert_eq!(unexpected.calls(), 0);
}

/// The member pages one membership read may follow are bounded over all groups together; the
/// bound reached is a typed error, never "no memberships".
#[tokio::test]
async fn a_requester_s_membership_read_stops_at_the_scan_limit() {
    let server = MockServer::start_async().await;
    find_requester(&server).await;
    requester_groups(&server).await;
    let first = sales_members_first_page(&server).await;
    let second =
        get(&server, "/requester_groups/11/members", &[("per_page", "100"), ("page", "2")], json!({"requesters": []}))
            .await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server).with_scan_limit(2));
    let error = client.memberships(&jane()).await.unwrap_err();
    assert!(matches!(error, Error::LookupIncomplete { attribute: "requester group members", pages: 2 }), "{error:?}");
    // Group 12's list was not read: the two pages were spent on group 11.
    assert_eq!((first.calls(), second.calls(), unexpected.calls()), (1, 1, 0));
}
