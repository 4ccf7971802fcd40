//! How the SCIM connector adapts its requests to a server, at the request level: a `PATCH` refused
//! with `400` is retried without what the server named (or split), a provision that stopped
//! part-way says so, a server without `PATCH` gets a full `PUT`, ETags make writes conditional,
//! look-ups read every page where the server does not filter, and `userName` case variants are
//! found. One mock server per test; a catch-all answers anything unexpected with 599 and must never
//! be hit (it answers discovery `404` unless a test serves it).

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, BASE, TOKEN, catch_all, path, raw_query, with_body, without_body};
use httpmock::{Mock, MockServer};
use identity_connectors::{
    Client, DeprovisionOutcome, Error, ErrorKind, Lookup, ProvisionOutcome, ProvisionStep, RetryPolicy, ScimBearer,
    User,
};
use serde_json::{Value, json};

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const JANE_FILTER: &str = "filter=userName%20eq%20%22jane.doe%40example.com%22";

fn client_of(connector: ScimBearer) -> Client {
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client")
}

fn client(server: &MockServer) -> Client {
    client_of(ScimBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector"))
}

fn jane() -> User {
    User::builder("jane.doe@example.com").external_id("E1").given_name("Jane").title("Lead").build()
}

fn resource(id: &str, user_name: &str, external_id: &str, title: &str, active: bool) -> Value {
    json!({"schemas": [CORE], "id": id, "userName": user_name, "externalId": external_id,
        "name": {"givenName": "Jane"}, "title": title, "active": active})
}

fn patch_body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// `/ServiceProviderConfig` with these features; `/ResourceTypes` and `/Schemas` are left to the
/// catch-all (`404`).
async fn config<'a>(server: &'a MockServer, patch: bool, filter: bool, etag: bool) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/ServiceProviderConfig")));
            then.status(200).json_body(json!({"patch": {"supported": patch}, "filter": {"supported": filter},
                "etag": {"supported": etag}}));
        })
        .await
}

async fn get_with<'a>(server: &'a MockServer, query: &'static str, body: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), query);
            then.status(200).json_body(body);
        })
        .await
}

#[tokio::test]
async fn a_patch_refused_for_a_named_attribute_lands_without_it_and_is_not_sent_again() {
    let server = MockServer::start_async().await;
    let stale = get_with(
        &server,
        JANE_FILTER,
        mock::list(1, 1, vec![resource("u-1", "jane.doe@example.com", "X", "Analyst", true)]),
    )
    .await;
    let refused = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(patch_body(json!([
                {"op": "replace", "path": "externalId", "value": "E1"},
                {"op": "replace", "path": "title", "value": "Lead"}
            ])));
            then.status(400).json_body(mock::error(400, Some("mutability"), "Attribute 'externalId' is readOnly"));
        })
        .await;
    let title_only = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .json_body(patch_body(json!([{"op": "replace", "path": "title", "value": "Lead"}])));
            then.status(204);
        })
        .await;
    let read_back = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/u-1")));
            then.status(200).json_body(resource("u-1", "jane.doe@example.com", "X", "Lead", true));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let first = client.provision(&jane()).await.expect("the valid change lands");
    assert_eq!(
        (first.outcome, first.skipped.as_slice()),
        (ProvisionOutcome::Updated, ["externalId".to_string()].as_slice())
    );
    assert_eq!(first.user.user.title.as_deref(), Some("Lead"));
    refused.assert_calls_async(1).await;
    title_only.assert_calls_async(1).await;
    read_back.assert_calls_async(1).await;

    // The next run sees externalId differ again, and sends nothing: the refusal is remembered.
    stale.delete_async().await;
    unexpected.delete_async().await;
    let current = get_with(
        &server,
        JANE_FILTER,
        mock::list(1, 1, vec![resource("u-1", "jane.doe@example.com", "X", "Lead", true)]),
    )
    .await;
    let unexpected = catch_all(&server).await;
    let second = client.provision(&jane()).await.expect("second run");
    assert_eq!(
        (second.outcome, second.skipped.as_slice()),
        (ProvisionOutcome::Linked, ["externalId".to_string()].as_slice())
    );
    current.assert_calls_async(1).await;
    refused.assert_calls_async(1).await;
    title_only.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_refusal_naming_no_attribute_is_split_into_one_patch_per_operation() {
    let server = MockServer::start_async().await;
    let mut changes = User::default();
    changes.external_id = Some("E1".into());
    changes.title = Some("Lead".into());
    let both = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(patch_body(json!([
                {"op": "replace", "path": "externalId", "value": "E1"},
                {"op": "replace", "path": "title", "value": "Lead"}
            ])));
            then.status(400).json_body(mock::error(400, Some("invalidValue"), "A value is invalid"));
        })
        .await;
    let external_id = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .json_body(patch_body(json!([{"op": "replace", "path": "externalId", "value": "E1"}])));
            then.status(400).json_body(mock::error(400, Some("invalidValue"), "A value is invalid"));
        })
        .await;
    let title = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .json_body(patch_body(json!([{"op": "replace", "path": "title", "value": "Lead"}])));
            then.status(200).json_body(resource("u-1", "j", "X", "Lead", true));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let outcome = client(&server).update(&identity_connectors::UserId::new("u-1"), &changes).await.expect("update");
    assert!(outcome.is_applied());
    assert_eq!(outcome.skipped(), ["externalId".to_string()]);
    assert_eq!(outcome.user().and_then(|u| u.user.title.as_deref()), Some("Lead"));
    for mock in [&both, &external_id, &title] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_reactivation_then_a_failed_update_is_a_typed_incomplete_provision() {
    let server = MockServer::start_async().await;
    get_with(
        &server,
        JANE_FILTER,
        mock::list(1, 1, vec![resource("u-1", "jane.doe@example.com", "E1", "Analyst", false)]),
    )
    .await;
    let reactivate = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .json_body(patch_body(json!([{"op": "replace", "path": "active", "value": true}])));
            then.status(204);
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .json_body(patch_body(json!([{"op": "replace", "path": "title", "value": "Lead"}])));
            then.status(403).json_body(mock::error(403, None, "Not allowed"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).provision(&jane()).await.expect_err("the update fails");
    let Error::ProvisionIncomplete { completed, failed, error: cause } = &error else { panic!("{error:?}") };
    assert_eq!(
        (completed.as_slice(), *failed),
        ([ProvisionStep::LookUp, ProvisionStep::Reactivate].as_slice(), ProvisionStep::Update)
    );
    assert!(matches!(**cause, Error::Forbidden(_)));
    assert_eq!((error.kind(), error.status()), (ErrorKind::Client, Some(403)));
    assert!(
        error.to_string().starts_with("Provisioning stopped part-way (look-up, reactivation done; update failed)"),
        "{error}"
    );
    reactivate.assert_calls_async(1).await;
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn without_patch_an_update_is_a_full_put_of_the_user_as_read() {
    let server = MockServer::start_async().await;
    config(&server, false, true, false).await;
    let mut read = resource("u-1", "jane.doe@example.com", "E1", "Analyst", true);
    read["nickName"] = json!("JJ");
    read["urn:example:custom:1.0:User"] = json!({"badge": 7});
    read["meta"] = json!({"resourceType": "User", "version": "W/\"1\""});
    get_with(&server, JANE_FILTER, mock::list(1, 1, vec![read])).await;
    let put = server
        .mock_async(|when, then| {
            with_body(when.method("PUT").path(path("/Users/u-1"))).header_missing("if-match").json_body(json!({
                "schemas": [CORE, "urn:example:custom:1.0:User"],
                "userName": "jane.doe@example.com", "externalId": "E1", "name": {"givenName": "Jane"},
                "nickName": "JJ", "title": "Lead", "active": true,
                "urn:example:custom:1.0:User": {"badge": 7}
            }));
            then.status(200).json_body(resource("u-1", "jane.doe@example.com", "E1", "Lead", true));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Updated);
    put.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn with_etags_writes_carry_if_match_and_a_412_rereads_and_retries_once() {
    let server = MockServer::start_async().await;
    config(&server, true, true, true).await;
    let mut read = resource("u-1", "jane.doe@example.com", "E1", "Analyst", true);
    read["meta"] = json!({"version": "W/\"1\""});
    get_with(&server, JANE_FILTER, mock::list(1, 1, vec![read])).await;
    let stale = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .header("if-match", "W/\"1\"")
                .json_body(patch_body(json!([{"op": "replace", "path": "title", "value": "Lead"}])));
            then.status(412).json_body(mock::error(412, None, "version mismatch"));
        })
        .await;
    // Someone else set the nick name meanwhile: it is kept, and only the title is sent again.
    let mut fresh = resource("u-1", "jane.doe@example.com", "E1", "Analyst", true);
    fresh["nickName"] = json!("set by someone else");
    let reread = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/u-1")));
            then.status(200).header("etag", "W/\"2\"").json_body(fresh);
        })
        .await;
    let retried = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .header("if-match", "W/\"2\"")
                .json_body(patch_body(json!([{"op": "replace", "path": "title", "value": "Lead"}])));
            then.status(204).header("etag", "W/\"3\"");
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Updated);
    for mock in [&stale, &reread, &retried] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn with_etags_deprovisioning_names_the_version_it_read() {
    let server = MockServer::start_async().await;
    config(&server, true, true, true).await;
    let mut read = resource("u-1", "jane.doe@example.com", "E1", "Lead", true);
    read["meta"] = json!({"version": "W/\"7\""});
    get_with(&server, JANE_FILTER, mock::list(1, 1, vec![read])).await;
    let deactivate = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1")))
                .header("if-match", "W/\"7\"")
                .json_body(patch_body(json!([{"op": "replace", "path": "active", "value": false}])));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;

    assert_eq!(client(&server).deprovision(&jane()).await.expect("deprovision"), DeprovisionOutcome::Deactivated);
    deactivate.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn without_filters_a_look_up_reads_every_page_and_links_instead_of_creating() {
    let server = MockServer::start_async().await;
    config(&server, true, false, false).await;
    let others: Vec<Value> =
        (0..2).map(|i| resource(&format!("o-{i}"), &format!("other{i}"), "O", "x", true)).collect();
    let page_one = get_with(&server, "startIndex=1&count=100", mock::list(3, 1, others)).await;
    let page_two = get_with(
        &server,
        "startIndex=3&count=100",
        mock::list(3, 3, vec![resource("u-1", "jane.doe@example.com", "E1", "Lead", true)]),
    )
    .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!((provisioned.outcome, provisioned.user.id.as_str()), (ProvisionOutcome::Linked, "u-1"));
    page_one.assert_calls_async(1).await;
    page_two.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_scan_that_reaches_its_page_limit_is_a_typed_error_not_absent() {
    let server = MockServer::start_async().await;
    // The filter is ignored: the answer holds someone else, so pages are read, one at most.
    let ignored =
        get_with(&server, JANE_FILTER, mock::list(2, 1, vec![resource("o-1", "other", "O", "x", true)])).await;
    let page_one =
        get_with(&server, "startIndex=1&count=100", mock::list(2, 1, vec![resource("o-1", "other", "O", "x", true)]))
            .await;
    let unexpected = catch_all(&server).await;
    let connector = ScimBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector").with_scan_limit(1);

    let error = client_of(connector).provision(&jane()).await.expect_err("cannot know");
    assert!(matches!(error, Error::LookupIncomplete { attribute: "userName", pages: 1 }), "{error:?}");
    ignored.assert_calls_async(1).await;
    page_one.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovisioning_a_case_variant_deactivates_the_existing_account() {
    let server = MockServer::start_async().await;
    let exact = get_with(&server, "filter=userName%20eq%20%22CASEY-X%22", mock::list(0, 1, vec![])).await;
    let lower = get_with(
        &server,
        "filter=userName%20eq%20%22casey-x%22",
        mock::list(1, 1, vec![resource("c-1", "casey-x", "C", "x", true)]),
    )
    .await;
    let deactivate = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/c-1")))
                .json_body(patch_body(json!([{"op": "replace", "path": "active", "value": false}])));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let outcome = client(&server).deprovision_by(&Lookup::UserName("CASEY-X".into())).await.expect("deprovision");
    assert_eq!(outcome, DeprovisionOutcome::Deactivated);
    for mock in [&exact, &lower, &deactivate] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}
