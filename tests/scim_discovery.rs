//! SCIM discovery at the request level: `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`
//! are read once per client (shared by clones, read again on refresh), a server without them or
//! with garbage gets today's behaviour, `test_connection` says what was found, and what `/Schemas`
//! says about mutability decides what is sent. One mock server per test; a catch-all answers
//! anything unexpected with 599 and must never be hit.

#[path = "support/common/mod.rs"]
mod common;
#[path = "support/trace_capture.rs"]
mod trace_capture;

use common::mock::{
    self, CORE, ENTERPRISE, JANE_FILTER, PATCH_OP, catch_all, client, path, raw_query, with_body, without_body,
};
use httpmock::{Mock, MockServer};
use identity_connectors::{ProvisionOutcome, User};
use serde_json::{Value, json};

/// The tests that trace skipped attributes run one at a time: `tracing` caches per call site
/// whether anyone listens, and a test without a capture running beside the one with it could
/// make that answer "no".
static TRACED: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn jane() -> User {
    User::builder("jane.doe@example.com")
        .external_id("E1")
        .given_name("Jane")
        .title("Lead")
        .department("Finance")
        .build()
}

fn jane_resource(external_id: &str, title: &str) -> Value {
    json!({"schemas": [CORE], "id": "u-1", "userName": "jane.doe@example.com", "externalId": external_id,
        "name": {"givenName": "Jane"}, "title": title, "active": true, "meta": {"resourceType": "User"}})
}

fn config(patch: bool, filter: bool, etag: bool) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": patch}, "filter": {"supported": filter, "maxResults": 200},
        "etag": {"supported": etag}, "bulk": {"supported": false}})
}

/// The User resource type, with the enterprise extension when `enterprise`.
fn resource_types(enterprise: bool) -> Value {
    let extensions = if enterprise { json!([{"schema": ENTERPRISE, "required": false}]) } else { json!([]) };
    mock::list(
        1,
        1,
        vec![json!({"id": "User", "name": "User", "endpoint": "/Users", "schema": CORE,
        "schemaExtensions": extensions})],
    )
}

/// The core User schema, `externalId` with `external_id` mutability.
fn schemas(external_id: &str) -> Value {
    mock::list(
        1,
        1,
        vec![json!({"id": CORE, "name": "User", "attributes": [
            {"name": "id", "mutability": "readOnly"},
            {"name": "userName", "mutability": "readWrite"},
            {"name": "externalId", "mutability": external_id},
            {"name": "name", "mutability": "readWrite", "subAttributes": [{"name": "givenName", "mutability": "readWrite"}]},
            {"name": "title", "mutability": "readWrite"},
            {"name": "active", "mutability": "readWrite"},
            {"name": "groups", "mutability": "readOnly"}
        ]})],
    )
}

/// Serves the three discovery documents (`None`: `404`), each matched exactly.
async fn discovery<'a>(server: &'a MockServer, documents: [Option<Value>; 3]) -> Vec<Mock<'a>> {
    let mut mocks = Vec::new();
    for (endpoint, document) in ["/ServiceProviderConfig", "/ResourceTypes", "/Schemas"].into_iter().zip(documents) {
        let mock = server
            .mock_async(|when, then| {
                without_body(when.method("GET").path(path(endpoint))).query_param_count(".*", ".*", 0);
                match document {
                    Some(body) => then.status(200).header("content-type", "application/scim+json").json_body(body),
                    None => then.status(404).json_body(mock::error(404, None, "no such endpoint")),
                };
            })
            .await;
        mocks.push(mock);
    }
    mocks
}

async fn find_jane<'a>(server: &'a MockServer, resource: Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).json_body(mock::list(1, 1, vec![resource]));
        })
        .await
}

#[tokio::test]
async fn discovery_is_read_once_shared_by_clones_and_read_again_on_refresh() {
    let server = MockServer::start_async().await;
    let documents =
        discovery(&server, [Some(config(true, true, false)), Some(resource_types(true)), Some(schemas("readWrite"))])
            .await;
    let find = find_jane(&server, jane_resource("E1", "Lead")).await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);
    let clone = client.clone();

    client.find_by_user_name("jane.doe@example.com").await.expect("find").expect("found");
    clone.find_by_user_name("jane.doe@example.com").await.expect("find").expect("found");
    for mock in &documents {
        mock.assert_calls_async(1).await;
    }
    let report = clone.refresh_discovery().await.expect("a SCIM connector has discovery");
    assert!(report.details.contains(&"/Schemas: found".to_string()), "{report}");
    for mock in &documents {
        mock.assert_calls_async(2).await;
    }
    find.assert_calls_async(2).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn test_connection_says_what_was_found_and_what_was_not() {
    let server = MockServer::start_async().await;
    let list = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=1");
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let config = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/ServiceProviderConfig")));
            then.status(200).json_body(config(false, false, true));
        })
        .await;
    let garbage = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Schemas")));
            then.status(200).header("content-type", "text/html").body("<html>oops</html>");
        })
        .await;
    let unexpected = catch_all(&server).await; // `/ResourceTypes`: 404

    let report = client(&server).test_connection().await.expect("connection works");
    assert_eq!(
        report.details,
        [
            "/ServiceProviderConfig: found",
            "/ResourceTypes: not available (HTTP 404); defaults apply",
            "/Schemas: not available (not JSON); defaults apply",
            "PATCH not supported: updates are full PUTs of the resource as read",
            "filters not supported: look-ups read every page and match locally; at most 200 results per filter",
            "ETags supported: writes to a read user carry If-Match",
            "user extensions not declared readably: every extension is sent",
        ]
    );
    assert!(report.to_string().starts_with("SCIM (127.0.0.1): connection works\n- /ServiceProviderConfig: found"));
    list.assert_calls_async(1).await;
    config.assert_calls_async(1).await;
    garbage.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn failing_or_garbage_discovery_falls_back_to_patch_and_sends_everything() {
    let server = MockServer::start_async().await;
    let config = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/ServiceProviderConfig")));
            then.status(200).json_body(json!({"patch": "banana", "filter": 7, "etag": {"supported": null}}));
        })
        .await;
    let types = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/ResourceTypes")));
            then.status(500).body("boom");
        })
        .await;
    let schemas = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Schemas")));
            then.status(200).json_body(json!([1, "x", {"no": "id"}]));
        })
        .await;
    let find = find_jane(&server, jane_resource("E0", "Analyst")).await;
    let patch = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).header_missing("if-match").json_body(json!({
                "schemas": [PATCH_OP],
                "Operations": [
                    {"op": "replace", "path": "externalId", "value": "E1"},
                    {"op": "replace", "path": "title", "value": "Lead"},
                    {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Finance"}
                ]
            }));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!((provisioned.outcome, provisioned.skipped.len()), (ProvisionOutcome::Updated, 0));
    for mock in [&config, &types, &schemas, &find, &patch] {
        mock.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn read_only_and_undeclared_extension_attributes_are_not_sent_and_are_reported() {
    let _serial = TRACED.lock().await;
    let server = MockServer::start_async().await;
    discovery(&server, [Some(config(true, true, false)), Some(resource_types(false)), Some(schemas("readOnly"))]).await;
    let find = find_jane(&server, jane_resource("SERVER-SET", "Analyst")).await;
    let patch = server
        .mock_async(|when, then| {
            with_body(when.method("PATCH").path(path("/Users/u-1"))).json_body(json!({
                "schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]
            }));
            then.status(200).json_body(jane_resource("SERVER-SET", "Lead"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let captured = trace_capture::capture();

    let provisioned = client(&server).provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Updated);
    assert_eq!(provisioned.skipped, ["externalId".to_string(), format!("{ENTERPRISE}:department")]);
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Lead"));
    let logs = captured.text();
    let warned: Vec<&str> = logs.lines().filter(|l| l.contains("WARN") && l.contains("attribute not sent")).collect();
    assert_eq!(warned.len(), 2, "{logs}");
    assert!(warned[0].contains("attribute=externalId") && warned[1].contains("attribute=urn:"), "{logs}");
    for value in ["E1", "Finance", "SERVER-SET"] {
        assert!(!logs.contains(value), "a value reached the logs: {value}");
    }
    find.assert_calls_async(1).await;
    patch.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn immutable_attributes_go_on_create_only_and_read_only_ones_never() {
    let _serial = TRACED.lock().await;
    let server = MockServer::start_async().await;
    let types = resource_types(false);
    let immutable = mock::list(
        1,
        1,
        vec![json!({"id": CORE, "attributes": [
        {"name": "externalId", "mutability": "immutable"}, {"name": "title", "mutability": "readOnly"}]})],
    );
    discovery(&server, [Some(config(true, true, false)), Some(types), Some(immutable)]).await;
    let find = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), JANE_FILTER);
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Users"))).json_body(json!({
                "schemas": [CORE], "userName": "jane.doe@example.com", "externalId": "E1",
                "name": {"givenName": "Jane"}, "active": true
            }));
            then.status(201).json_body(jane_resource("E1", "Set by the server"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(&server);

    let provisioned = client.provision(&jane()).await.expect("provision");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.skipped, ["title".to_string(), format!("{ENTERPRISE}:department")]);
    // On an update, the immutable externalId and the read-only title are left out: nothing is sent.
    let mut changes = User::default();
    changes.external_id = Some("E2".into());
    changes.title = Some("X".into());
    let outcome = client.update(&provisioned.user.id, &changes).await.expect("update");
    assert_eq!(outcome.skipped(), ["externalId".to_string(), "title".to_string()]);
    assert!(!outcome.is_applied());
    find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn the_report_says_how_the_server_compares_user_names_when_it_says() {
    use identity_connectors::sandbox::{ScimProfile, ScimSandbox};
    let expected = [
        (ScimProfile::Standard, Some("userName compared ignoring case (caseExact false)")),
        (
            ScimProfile::CaseSensitiveUserName,
            Some("userName compared case-sensitively (caseExact): a look-up that finds nobody reads every page"),
        ),
        (ScimProfile::NoDiscovery, None),
    ];
    for (profile, line) in expected {
        let sandbox = ScimSandbox::builder().profile(profile).start().await.expect("sandbox");
        let client = identity_connectors::Client::new(sandbox.scim_connector().expect("connector")).expect("client");
        let report = client.test_connection().await.expect("connection works");
        let said: Vec<&String> = report.details.iter().filter(|d| d.starts_with("userName compared")).collect();
        assert_eq!(said.first().map(|d| d.as_str()), line, "{profile}: {report}");
        assert!(said.len() <= 1, "{report}");
    }
}
