//! SCIM group reads against servers whose filter misleads, at the request level: a server that
//! ignores `members[value eq "…"]` and leaves `members` out must not make every group look like a
//! membership; a name look-up survives a filter that is ignored (and paged) or refused; a server
//! without `PATCH` (per discovery) gets no member write at all. One mock server per test; a
//! catch-all answers anything unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, BASE, TOKEN, catch_all, path, raw_query, without_body};
use httpmock::{Mock, MockServer};
use identity_connectors::{Client, Error, GroupRef, RetryPolicy, ScimBearer, User};
use serde_json::{Value, json};

const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const FIND_JDOE: &str = "filter=userName%20eq%20%22jdoe%22";
const MEMBER_OF_U1: &str =
    "filter=members%5Bvalue%20eq%20%22u-1%22%5D&startIndex=1&count=100&excludedAttributes=members";
const PROBE: &str =
    "filter=members%5Bvalue%20eq%20%22identity-connectors-probe%22%5D&startIndex=1&count=1&excludedAttributes=members";
const USER_GROUPS: &str = "attributes=groups";

fn client(server: &MockServer) -> Client {
    let connector = ScimBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector");
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client")
}

fn jdoe() -> User {
    User::builder("jdoe").build()
}

fn group(id: &str, name: &str) -> Value {
    json!({"schemas": [GROUP], "id": id, "displayName": name})
}

fn names(groups: &[identity_connectors::Group]) -> Vec<String> {
    groups.iter().map(ToString::to_string).collect()
}

/// `GET {path}?{query}` (exactly), answered `status` with `body`.
async fn get<'a>(server: &'a MockServer, at: &str, query: &'static str, status: u16, body: Value) -> Mock<'a> {
    let at = path(at);
    server
        .mock_async(move |when, then| {
            raw_query(without_body(when.method("GET").path(at)), query);
            then.status(status).header("content-type", "application/scim+json").json_body(body);
        })
        .await
}

async fn find_jdoe(server: &MockServer) -> Mock<'_> {
    get(server, "/Users", FIND_JDOE, 200, mock::list(1, 1, vec![json!({"id": "u-1", "userName": "jdoe"})])).await
}

/// A server that ignores the members filter and leaves `members` out: every group comes back.
async fn lying_answer(server: &MockServer) -> (Mock<'_>, Mock<'_>) {
    let everything = vec![group("g-1", "Sales"), group("g-2", "Ops"), group("g-3", "Finance")];
    let filtered = get(server, "/Groups", MEMBER_OF_U1, 200, mock::list(3, 1, everything.clone())).await;
    let probe = get(server, "/Groups", PROBE, 200, mock::list(3, 1, everything[..1].to_vec())).await;
    (filtered, probe)
}

#[tokio::test]
async fn a_server_ignoring_the_filter_without_members_is_checked_with_the_user_s_groups() {
    let server = MockServer::start_async().await;
    let user = find_jdoe(&server).await;
    let (filtered, probe) = lying_answer(&server).await;
    let own = get(
        &server,
        "/Users/u-1",
        USER_GROUPS,
        200,
        json!({"id": "u-1", "groups": [{"value": "g-2", "display": "Ops", "type": "direct"}]}),
    )
    .await;
    let find_ops = get(
        &server,
        "/Groups",
        "filter=displayName%20eq%20%22Ops%22&excludedAttributes=members",
        200,
        mock::list(1, 1, vec![group("g-2", "Ops")]),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    assert_eq!(names(&client.memberships(&jdoe()).await.expect("read")), ["group \"Ops\" (g-2)"]);
    // Known now: the next read asks the user straight away, and no probe is sent again.
    assert_eq!(names(&client.memberships(&jdoe()).await.expect("read again")), ["group \"Ops\" (g-2)"]);
    // Nothing to change: no write (the catch-all would answer a PATCH with 599).
    let ops = GroupRef::name("Ops").unwrap();
    let change = client.set_memberships(&jdoe(), &[ops]).await.expect("set");
    assert!(change.is_unchanged(), "Sales and Finance were never memberships: {change}");
    assert_eq!(
        (filtered.calls_async().await, probe.calls_async().await, own.calls_async().await),
        (1, 1, 3),
        "one filtered read and one probe, then the user's groups"
    );
    assert_eq!((user.calls_async().await, find_ops.calls_async().await), (3, 1));
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn without_the_user_s_groups_the_groups_are_read_with_their_members_page_by_page() {
    let server = MockServer::start_async().await;
    find_jdoe(&server).await;
    let (filtered, probe) = lying_answer(&server).await;
    let own = get(&server, "/Users/u-1", USER_GROUPS, 200, json!({"id": "u-1"})).await;
    let page_1 = get(
        &server,
        "/Groups",
        "startIndex=1&count=20&attributes=displayName,members",
        200,
        mock::list(
            3,
            1,
            vec![
                json!({"id": "g-1", "displayName": "Sales", "members": [{"value": "u-2"}]}),
                json!({"id": "g-2", "displayName": "Ops"}),
            ],
        ),
    )
    .await;
    let page_2 = get(
        &server,
        "/Groups",
        "startIndex=3&count=20&attributes=displayName,members",
        200,
        mock::list(3, 3, vec![json!({"id": "g-3", "displayName": "Finance", "members": [{"value": "u-1"}]})]),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let groups = client(&server).memberships(&jdoe()).await.expect("read");
    assert_eq!(names(&groups), ["group \"Finance\" (g-3)"]);
    for mock in [&filtered, &probe, &own, &page_1, &page_2] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_member_scan_stops_at_the_scan_limit_with_a_typed_error() {
    let server = MockServer::start_async().await;
    find_jdoe(&server).await;
    lying_answer(&server).await;
    get(&server, "/Users/u-1", USER_GROUPS, 200, json!({"id": "u-1"})).await;
    let page_1 = get(
        &server,
        "/Groups",
        "startIndex=1&count=20&attributes=displayName,members",
        200,
        mock::list(3, 1, vec![json!({"id": "g-1", "displayName": "Sales"})]),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let connector = ScimBearer::for_loopback(&server.url(BASE), TOKEN).unwrap().with_scan_limit(1);
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap();
    let error = client.memberships(&jdoe()).await.unwrap_err();
    assert!(matches!(error, Error::LookupIncomplete { attribute: "group members", pages: 1 }), "{error:?}");
    page_1.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_name_look_up_reads_past_a_page_the_server_answered_unfiltered() {
    let server = MockServer::start_async().await;
    let first = get(
        &server,
        "/Groups",
        "filter=displayName%20eq%20%22Sales%22&excludedAttributes=members",
        200,
        mock::list(3, 1, vec![group("g-2", "Ops"), group("g-3", "Finance")]),
    )
    .await;
    let second = get(
        &server,
        "/Groups",
        "filter=displayName%20eq%20%22Sales%22&startIndex=3&count=100&excludedAttributes=members",
        200,
        mock::list(3, 3, vec![group("g-1", "Sales")]),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let found = client(&server).find_group(&GroupRef::name("Sales").unwrap()).await.expect("found");
    assert_eq!(found.to_string(), "group \"Sales\" (g-1)");
    first.assert_calls_async(1).await;
    second.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_name_look_up_lists_every_group_when_the_filter_is_refused() {
    let server = MockServer::start_async().await;
    let refused = get(
        &server,
        "/Groups",
        "filter=displayName%20eq%20%22Sales%22&excludedAttributes=members",
        400,
        mock::error(400, Some("invalidFilter"), "Filtering is not supported"),
    )
    .await;
    let listed = get(
        &server,
        "/Groups",
        "startIndex=1&count=100&excludedAttributes=members",
        200,
        mock::list(2, 1, vec![group("g-2", "Ops"), group("g-1", "Sales")]),
    )
    .await;
    let refused_nobody = get(
        &server,
        "/Groups",
        "filter=displayName%20eq%20%22Nobody%22&excludedAttributes=members",
        400,
        mock::error(400, Some("invalidFilter"), "Filtering is not supported"),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let found = client(&server).find_group(&GroupRef::name("Sales").unwrap()).await.expect("found");
    assert_eq!(found.to_string(), "group \"Sales\" (g-1)");
    let missing = client(&server).find_group(&GroupRef::name("Nobody").unwrap()).await.unwrap_err();
    assert!(matches!(missing, Error::Missing { resource: "group", .. }), "{missing:?}");
    let calls = (refused.calls_async().await, refused_nobody.calls_async().await, listed.calls_async().await);
    assert_eq!(calls, (1, 1, 2));
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_server_without_patch_gets_no_member_write() {
    let server = MockServer::start_async().await;
    find_jdoe(&server).await;
    get(
        &server,
        "/Groups",
        "filter=displayName%20eq%20%22Sales%22&excludedAttributes=members",
        200,
        mock::list(1, 1, vec![group("g-1", "Sales")]),
    )
    .await;
    get(&server, "/Groups", MEMBER_OF_U1, 200, mock::list(0, 1, vec![])).await;
    let config = server
        .mock_async(|when, then| {
            when.method("GET").path(path("/ServiceProviderConfig"));
            then.status(200).json_body(json!({"patch": {"supported": false}, "filter": {"supported": true}}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).grant(&jdoe(), &GroupRef::name("Sales").unwrap()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Unsupported { capability: "changing group members on a server without PATCH", .. }),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("The SCIM (127.0.0.1) connector does not support"), "{error}");
    config.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
