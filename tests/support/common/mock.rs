//! Request-level test helpers for SCIM connectors on `httpmock`: the headers every SCIM request
//! must carry, a catch-all that makes unexpected requests fail loudly, and canned SCIM bodies.

use httpmock::{Mock, MockServer, When};
use identity_connectors::{Client, RetryPolicy, ScimBearer, User};
use serde_json::{Value, json};

/// The token the mocked connectors use.
pub const TOKEN: &str = "mock-token-123";
/// The SCIM base path on the mock server.
pub const BASE: &str = "/scim/v2";
/// The `Accept` header SCIM connectors send.
pub const ACCEPT: &str = "application/scim+json, application/json";
/// The media type of SCIM bodies.
pub const SCIM_JSON: &str = "application/scim+json";
/// The core User schema.
pub const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The enterprise User extension's schema.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The schema of a PATCH request's body.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The query of the look-up of Jane by user name, as sent.
pub const JANE_FILTER: &str = "filter=userName%20eq%20%22jane.doe%40example.com%22";

/// A client of a SCIM connector on the mock server, without retries: each test states exactly
/// which requests are sent.
pub fn client(server: &MockServer) -> Client {
    let connector = ScimBearer::for_loopback(&server.url(BASE), TOKEN).expect("connector");
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client")
}

/// `path` under the SCIM base path.
pub fn path(rest: &str) -> String {
    format!("{BASE}{rest}")
}

/// A request without a body: bearer token, SCIM `Accept`, no `Content-Type`.
pub fn without_body(when: When) -> When {
    when.header("authorization", format!("Bearer {TOKEN}")).header("accept", ACCEPT).header_missing("content-type")
}

/// A request with a SCIM body: bearer token, SCIM `Accept`, exactly one
/// `Content-Type: application/scim+json`.
pub fn with_body(when: When) -> When {
    when.header("authorization", format!("Bearer {TOKEN}"))
        .header("accept", ACCEPT)
        .header("content-type", SCIM_JSON)
        .header_count("(?i)^content-type$", ".*", 1)
}

/// The query string must be exactly `query` (raw, as sent: percent-encoding included).
pub fn raw_query(when: When, query: &'static str) -> When {
    when.is_true(move |req| req.uri().query() == Some(query))
}

/// Answers every request no other mock matched with `599 unexpected request`. Add it last (mocks
/// match in the order they were added) and assert it was called 0 times.
///
/// SCIM discovery (`GET /ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`) not mocked
/// before it is answered `404`, as by a server without discovery: the connectors then behave as
/// they did before discovery existed, which is what most request tests pin down.
pub async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method("GET").path_matches(format!("^{BASE}/(ServiceProviderConfig|ResourceTypes|Schemas)$"));
            then.status(404).json_body(error(404, None, "Not found"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(599).body("unexpected request");
        })
        .await
}

/// A SCIM list response holding `resources`, with `total` results in all.
pub fn list(total: usize, start_index: usize, resources: Vec<Value>) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A SCIM error body.
pub fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Value {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.to_string(),
        "detail": detail,
    });
    if let Some(scim_type) = scim_type {
        body["scimType"] = json!(scim_type);
    }
    body
}

/// The person the request tests provision.
pub fn jane() -> User {
    User::builder("jane.doe@example.com")
        .external_id("E1")
        .given_name("Jane")
        .family_name("Doe")
        .email("jane.doe@example.com")
        .title("Analyst")
        .department("Finance")
        .build()
}

/// Jane as the server holds her: id `id`, `active` as given.
pub fn jane_resource(id: &str, active: bool) -> Value {
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
