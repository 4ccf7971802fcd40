//! Request-level test helpers for the Freshservice connector on `httpmock`: a connector and client
//! pointed at the mock server, the headers every request must carry, canned answers, fixtures,
//! and a catch-all that makes unexpected requests fail loudly.

use httpmock::{Method, Mock, MockServer, Then, When};
use identity_connectors::{Client, FreshserviceApiKey, RetryPolicy};
use serde_json::{Value, json};

/// The API key the mocked connectors use.
pub const API_KEY: &str = "fs-test-key-3f9a1c";
/// `printf 'fs-test-key-3f9a1c:X' | base64`
pub const BASIC: &str = "Basic ZnMtdGVzdC1rZXktM2Y5YTFjOlg=";

/// A fixture from `tests/fixtures/freshservice/`, shaped as the API v2 docs print it.
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/freshservice/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A connector for the mock server's `/api/v2`, with [`API_KEY`].
pub fn connector(server: &MockServer) -> FreshserviceApiKey {
    FreshserviceApiKey::for_loopback(&server.url("/api/v2"), API_KEY).unwrap()
}

/// A client without retries: each test states exactly which requests are sent.
pub fn client(connector: FreshserviceApiKey) -> Client {
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap()
}

/// Method, path under `/api/v2`, the exact query (nothing more), and the headers every request
/// carries.
pub fn request(when: When, method: Method, path: &str, query: &[(&str, &str)]) -> When {
    let mut when = when
        .method(method)
        .path(format!("/api/v2{path}"))
        .header("authorization", BASIC)
        .header("accept", "application/json")
        .query_param_count(".*", ".*", query.len());
    for (key, value) in query {
        when = when.query_param(*key, *value);
    }
    when
}

/// A request without a body or `Content-Type`.
pub fn no_body(when: When) -> When {
    when.header_missing("content-type").is_true(|req| req.body_ref().is_empty())
}

/// A request with exactly this JSON body, sent with exactly one JSON content type.
pub fn json_body(when: When, body: Value) -> When {
    when.header("content-type", "application/json").header_count("content-type", ".*", 1).json_body(body)
}

/// A JSON answer carrying the rate-limit headers Freshservice sends with every answer.
pub fn respond(then: Then, status: u16, body: Value) -> Then {
    then.status(status)
        .header("content-type", "application/json")
        .header("x-ratelimit-total", "400")
        .header("x-ratelimit-remaining", "398")
        .json_body(body)
}

/// Fails the test loudly on any request no other mock expects. Add it last.
pub async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(599).body("unexpected request");
        })
        .await
}

/// The requester look-up by `email` (agents included), answered with `found`.
pub async fn find_requesters<'a>(server: &'a MockServer, email: &str, found: Value) -> Mock<'a> {
    let email = email.to_string();
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, "/requesters", &[("email", &email), ("include_agents", "true")]));
            respond(then, 200, json!({ "requesters": found }));
        })
        .await
}

/// The agent look-up by `email`, answered with `found`.
pub async fn find_agents<'a>(server: &'a MockServer, email: &str, found: Value) -> Mock<'a> {
    let email = email.to_string();
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, "/agents", &[("email", &email)]));
            respond(then, 200, json!({ "agents": found }));
        })
        .await
}

/// The first page of the directory `segment` (departments, locations), answered with a fixture.
pub async fn directory<'a>(server: &'a MockServer, segment: &str, fixture_name: &str) -> Mock<'a> {
    let path = format!("/{segment}");
    let body = fixture(fixture_name);
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, &path, &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, body);
        })
        .await
}

/// A `GET` of `path` without a query, answered `status` with `body`.
pub async fn read<'a>(server: &'a MockServer, path: &str, status: u16, body: Value) -> Mock<'a> {
    let path = path.to_string();
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, &path, &[]));
            respond(then, status, body);
        })
        .await
}
