//! The Client's limits and hygiene against a test-only connector (`support/fake_connector.rs`) on
//! httpmock: `5xx` excerpts, body size limits, redirects, sanitised server messages and transport
//! errors, configuration bounds and redacted `Debug` output.
//!
//! Every test starts one mock server, asserts each request's method, path, query, headers and
//! whole body, and ends with a catch-all mock that must have seen no request.

#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/fake_connector_mock.rs"]
mod mock;

use std::time::Duration;

use fake_connector::{EMAIL, Fake, TOKEN};
use httpmock::MockServer;
use identity_connectors::{Client, Error, ErrorKind, RetryPolicy, TransportErrorKind, UserId};
use mock::{catch_all, client, get_mock};
use serde_json::json;

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let server = MockServer::start_async().await;
    let big = get_mock(&server, |then| then.status(200).body("x".repeat(4096))).await;
    let unexpected = catch_all(&server).await;
    let c = Client::builder(Fake::new(&server.base_url())).max_response_bytes(1024).build().unwrap();
    let error = c.get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "Could not decode the response (HTTP 200): the response body exceeds the 1024-byte limit"
    );
    big.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = MockServer::start_async().await;
    let redirect =
        get_mock(&server, |then| then.status(307).header("location", "https://elsewhere.example.com/steal")).await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.status(), Some(307));
    redirect.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn server_messages_are_bounded_and_never_echo_emails_or_the_token() {
    let server = MockServer::start_async().await;
    let echo = format!("User {EMAIL} (token {TOKEN}) \u{7}exists ") + &"x".repeat(1_000_000);
    let conflict = get_mock(&server, |then| {
        then.status(409).json_body(json!({"detail": echo, "code": "uniqueness", "errors": [
            {"field": "email", "message": format!("{EMAIL} is taken"), "code": "duplicate_value"}]}))
    })
    .await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("Conflict: HTTP 409 (uniqueness): User [EMAIL] (token [REDACTED])  exists xxx"),
        "{text:.120}"
    );
    assert!(text.contains("; email: [EMAIL] is taken (duplicate_value)"), "{text:.120}");
    assert!(text.chars().count() < 1_000, "{} characters", text.chars().count());
    assert!(!text.contains(EMAIL) && !text.contains(TOKEN));
    conflict.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn transport_errors_name_the_endpoint_never_the_query() {
    // A port nothing listens on.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let c = Client::builder(Fake::new(&format!("http://127.0.0.1:{port}")))
        .retry_policy(RetryPolicy::none())
        .build()
        .unwrap();
    let error = c.find_by_email(EMAIL).await.unwrap_err();
    match &error {
        Error::Transport(t) => assert_eq!(t.kind(), TransportErrorKind::Connect),
        other => panic!("expected a transport error, got {other:?}"),
    }
    let text = error.to_string();
    assert!(text.starts_with("Transport error (Connect) during GET /users?email={email}: "), "{text}");
    assert!(!text.contains("jane") && !text.contains("%40") && !text.contains(TOKEN), "{text}");
    assert_eq!(error.kind(), ErrorKind::Transient);
}

#[test]
fn out_of_range_settings_are_configuration_errors() {
    let fake = || Fake::new("http://127.0.0.1:1");
    for (builder, message) in [
        (Client::builder(fake()).timeout(Duration::ZERO), "the request timeout must be greater than zero"),
        (Client::builder(fake()).user_agent(" "), "the user agent is empty; set one, or leave the default"),
        (Client::builder(fake()).max_response_bytes(0), "the response size limit must be greater than zero"),
        (Client::builder(fake()).max_in_flight(usize::MAX), "at most 1024 requests may be in flight"),
        (Client::builder(fake()).rate_limit_window(Duration::MAX), "the rate-limit window must be at most one day"),
    ] {
        match builder.build() {
            Err(Error::InvalidConfig { message: m }) => assert_eq!(m, message),
            other => panic!("expected InvalidConfig, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn redacted_debug_output_is_exact() {
    let c = Client::builder(Fake::new("http://127.0.0.1:1")).build().unwrap();
    assert_eq!(
        format!("{c:?}"),
        "Client { connector: Fake { base_url: Url { scheme: \"http\", cannot_be_a_base: false, username: \"\", password: None, host: Some(Ipv4(127.0.0.1)), port: Some(1), path: \"/\", query: None, fragment: None }, authorization: Authorization([REDACTED]) }, http: Http { connector: \"fake\", timeout: 30s, max_response_bytes: 10485760, retry: RetryPolicy { max_attempts: 4, base_delay: 200ms, max_delay: 60s, deadline: 120s }, max_in_flight: 4, rate_limit_window: 60s, transport: Transport { roots: [], identity: None, proxy: Proxy(from environment) }, credential_source: None } }"
    );
    let builder = Client::builder(Fake::new("http://127.0.0.1:1"));
    assert_eq!(
        format!("{builder:?}"),
        "ClientBuilder { connector: Fake { base_url: Url { scheme: \"http\", cannot_be_a_base: false, username: \"\", password: None, host: Some(Ipv4(127.0.0.1)), port: Some(1), path: \"/\", query: None, fragment: None }, authorization: Authorization([REDACTED]) }, timeout: 30s, user_agent: \"identity-connectors/0.1.0\", max_response_bytes: 10485760, retry: RetryPolicy { max_attempts: 4, base_delay: 200ms, max_delay: 60s, deadline: 120s }, max_in_flight: 4, rate_limit_window: 60s, transport: Transport { roots: [], identity: None, proxy: Proxy(from environment) }, credential_source: None }"
    );
}
