//! Traces of a provisioning run that meets throttling hold neither the token nor an e-mail
//! address, while naming every operation, attempt and endpoint (by path template).
//!
//! This is the only test in its binary on purpose: `tracing` caches per call site whether anything
//! listens, process-wide, and a test thread without a subscriber can race a capturing one into
//! caching "nobody listens". Alone in its process, the capture sees every span.

#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/trace_capture.rs"]
mod trace_capture;

use fake_connector::{EMAIL, Fake, TOKEN};
use httpmock::Method::{GET, POST};
use httpmock::MockServer;
use identity_connectors::{Client, DeprovisionOutcome, RetryPolicy, User};
use serde_json::json;

const AUTH: &str = "Bearer s3cr3t-T0KEN-value";

fn jane() -> User {
    User::builder(EMAIL).email(EMAIL).title("Analyst").build()
}

#[tokio::test]
async fn traces_never_contain_the_token_or_an_email_address() {
    let captured = trace_capture::capture();
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            when.method(GET).path("/users").query_param("email", EMAIL).header("authorization", AUTH);
            then.status(200).json_body(json!({"users": []}));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/users")
                .header("authorization", AUTH)
                .json_body(json!({"email": EMAIL, "title": "Analyst"}));
            then.status(429).header("retry-after", "0").json_body(json!({"message": format!("{EMAIL} slow down")}));
        })
        .await;
    let unexpected = server
        .mock_async(|when, then| {
            when.path_prefix("/");
            then.status(599).body("unexpected request");
        })
        .await;
    let c = Client::builder(Fake::new(&server.base_url()))
        .retry_policy(RetryPolicy::default().with_max_attempts(2))
        .build()
        .unwrap();
    let error = c.provision(&jane()).await.unwrap_err();
    assert!(!error.to_string().contains(EMAIL));
    assert_eq!(c.deprovision(&jane()).await.unwrap(), DeprovisionOutcome::AlreadyGone);
    find.assert_calls_async(2).await;
    create.assert_calls_async(2).await;
    unexpected.assert_calls_async(0).await;
    let logs = captured.text();
    for expected in
        ["http_request", "http_attempt", "operation=\"provision\"", "path=\"/users?email={email}\"", "retrying"]
    {
        assert!(logs.contains(expected), "{expected:?} missing from the traces:\n{logs}");
    }
    for secret in [TOKEN, EMAIL, "jane.doe", "jane.doe%2Bhr%40example.com"] {
        assert!(!logs.contains(secret), "{secret:?} leaked into traces:\n{logs}");
    }
}
