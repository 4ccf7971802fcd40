//! Request-level helpers for the Client tests against the test-only connector
//! (`fake_connector.rs`) on httpmock: a client with quick retries, the headers every request of the
//! fake connector carries, canned mocks of its API, and a catch-all that makes unexpected requests
//! fail loudly. The test binary declares `fake_connector` beside this module.
#![allow(dead_code)]

use std::time::Duration;

use httpmock::Method::{GET, POST, PUT};
use httpmock::{Mock, MockServer, Then, When};
use identity_connectors::{Client, RetryPolicy, User};
use serde_json::{Value, json};

use crate::fake_connector::{EMAIL, Fake, wire};

/// The `Authorization` header the fake connector sends.
pub const AUTH: &str = "Bearer s3cr3t-T0KEN-value";

/// Jane, the person the tests provision, with job title `title`.
pub fn jane(title: &str) -> User {
    User::builder(EMAIL).email(EMAIL).title(title).build()
}

/// The default retry policy with a 1 ms base delay, so retried tests stay fast.
pub fn quick_retries() -> RetryPolicy {
    RetryPolicy::default().with_base_delay(Duration::from_millis(1))
}

/// A client of the fake connector on the mock server, with [`quick_retries`].
pub fn client(server: &MockServer) -> Client {
    Client::builder(Fake::new(&server.base_url())).retry_policy(quick_retries()).build().unwrap()
}

/// Any request no other mock matched fails the test loudly (and `assert_none` checks it saw none).
pub async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.path_prefix("/");
            then.status(599).body("unexpected request");
        })
        .await
}

/// The headers every request of the fake connector carries.
pub fn common(when: When) -> When {
    when.header("authorization", AUTH)
        .header("accept", "application/json")
        .header("user-agent", concat!("identity-connectors/", env!("CARGO_PKG_VERSION")))
}

/// A request with exactly this JSON body, sent with exactly one JSON content type.
pub fn with_body(when: When, body: Value) -> When {
    common(when).header_count("^content-type$", "^application/json$", 1).json_body(body)
}

/// A request without a body.
pub fn bodiless(when: When) -> When {
    common(when).header_missing("content-type")
}

/// The look-up of Jane by e-mail, answered `200` with `users`.
pub async fn find_mock<'a>(server: &'a MockServer, users: Value) -> Mock<'a> {
    find_mock_with(server, move |then| then.status(200).json_body(json!({ "users": users }))).await
}

/// The look-up of Jane by e-mail, answered by `answer`.
pub async fn find_mock_with<'a>(server: &'a MockServer, answer: impl FnOnce(Then) -> Then) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            bodiless(when.method(GET).path("/users").query_param("email", EMAIL).query_param_count(".*", ".*", 1));
            answer(then);
        })
        .await
}

/// The first look-up answers "nobody"; later ones find the user (as after a lost or raced create).
pub async fn find_then_found(server: &MockServer) -> (Mock<'_>, Mock<'_>) {
    let empty = find_mock_with(server, |then| then.status(200).json_body(json!({"users": []})).up_to_n_times(1)).await;
    let found = find_mock(server, json!([wire(9, EMAIL, "Analyst", true)])).await;
    (empty, found)
}

/// The create of Jane as an Analyst, answered by `answer`.
pub async fn create_mock<'a>(server: &'a MockServer, answer: impl FnOnce(Then) -> Then) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            with_body(when.method(POST).path("/users"), json!({"email": EMAIL, "title": "Analyst"}));
            answer(then);
        })
        .await
}

/// User `id` set to `active`, answered `status`.
pub async fn set_active_mock(server: &MockServer, id: u64, active: bool, status: u16) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            with_body(when.method(PUT).path(format!("/users/{id}/active")), json!({ "active": active }));
            then.status(status);
        })
        .await
}

/// The read of user 7, answered by `answer`.
pub async fn get_mock<'a>(server: &'a MockServer, answer: impl FnOnce(Then) -> Then) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            bodiless(when.method(GET).path("/users/7"));
            answer(then);
        })
        .await
}
