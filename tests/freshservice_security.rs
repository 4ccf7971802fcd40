//! The API key never leaves the `Authorization` header, and e-mail addresses of looked-up users
//! never reach errors or traces: checked on Debug output, error messages and everything a TRACE
//! level subscriber records while the connector works through success and failure paths.

#[path = "support/trace_capture.rs"]
mod trace_capture;

use httpmock::{Method, MockServer};
use identity_connectors::{Client, Error, FreshserviceApiKey, Lookup, RetryPolicy, User, UserId};
use serde_json::json;

const API_KEY: &str = "fs-secret-key-Zq81mX";
/// `printf 'fs-secret-key-Zq81mX:X' | base64`
const BASIC_VALUE: &str = "ZnMtc2VjcmV0LWtleS1acTgxbVg6WA==";
const EMAIL: &str = "very.private+hr@example.com";
const MANAGER_EMAIL: &str = "hidden.boss@example.com";

fn assert_clean(what: &str, text: &str) {
    let lower = text.to_lowercase();
    for secret in [API_KEY, BASIC_VALUE, EMAIL, MANAGER_EMAIL, "very.private", "hidden.boss", "%40example.com"] {
        assert!(!lower.contains(&secret.to_lowercase()), "{what} contains {secret:?}:\n{text}");
    }
}

#[test]
fn debug_of_connector_and_client_hides_the_key() {
    let connector = FreshserviceApiKey::new("acme", API_KEY).unwrap();
    let debug = format!("{connector:?}");
    assert!(debug.contains("[REDACTED]"), "{debug}");
    assert_clean("connector Debug", &debug);
    let client = Client::new(connector).unwrap();
    assert_clean("client Debug", &format!("{client:?}"));
    assert_clean("client alternate Debug", &format!("{client:#?}"));
    assert_clean("lookup Debug", &format!("{:?}", Lookup::Email(EMAIL.to_string())));
}

#[test]
fn a_bad_instance_or_key_error_does_not_echo_the_key() {
    let error = FreshserviceApiKey::new("https://help.acme.com", API_KEY).unwrap_err();
    assert_clean("instance error", &format!("{error} {error:?}"));
    let error = FreshserviceApiKey::new("acme", format!("{API_KEY} trailing")).unwrap_err();
    assert_clean("key error", &format!("{error} {error:?}"));
}

#[tokio::test]
async fn errors_and_traces_carry_neither_the_key_nor_email_addresses() {
    let captured = trace_capture::capture();

    let server = MockServer::start_async().await;
    let requester = json!({
        "id": 888, "is_agent": false, "first_name": "Very", "primary_email": EMAIL, "active": true,
        "secondary_emails": ["other.private@example.com"], "reporting_manager_id": 5, "custom_fields": {}
    });
    let found = server
        .mock_async(|when, then| {
            when.method(Method::GET).path("/api/v2/requesters").query_param("email", EMAIL);
            then.status(200).json_body(json!({"requesters": [requester.clone()]}));
        })
        .await;
    let by_id = server
        .mock_async(|when, then| {
            when.method(Method::GET).path("/api/v2/requesters/888");
            then.status(200).json_body(json!({"requester": requester}));
        })
        .await;
    let no_manager = server
        .mock_async(|when, then| {
            when.method(Method::GET).query_param("email", MANAGER_EMAIL);
            then.status(200).json_body(json!({"requesters": [], "agents": []}));
        })
        .await;
    let unauthorized = server
        .mock_async(|when, then| {
            when.method(Method::GET).path("/api/v2/requesters").query_param("per_page", "1");
            then.status(401).json_body(json!({"code": "invalid_credentials", "message": "Bad key"}));
        })
        .await;
    let limited = server
        .mock_async(|when, then| {
            when.method(Method::GET).path("/api/v2/requesters/429");
            then.status(429).header("retry-after", "9").body("slow down");
        })
        .await;
    let broken = server
        .mock_async(|when, then| {
            when.method(Method::GET).path("/api/v2/requesters/500");
            then.status(200).body(format!("not json {EMAIL}"));
        })
        .await;
    let unexpected = server
        .mock_async(|when, then| {
            when.path_prefix("/");
            then.status(599).body("unexpected request");
        })
        .await;
    let connector = FreshserviceApiKey::for_loopback(&server.url("/api/v2"), API_KEY).unwrap();
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap();

    let user = client.find_by_email(EMAIL).await.unwrap().unwrap();
    assert_eq!(user.id, UserId::new("888"));

    let mut errors: Vec<Error> = Vec::new();
    errors.push(client.test_connection().await.unwrap_err());
    let with_unknown_manager = User::builder(EMAIL).email(EMAIL).manager(MANAGER_EMAIL).build();
    errors.push(client.update(&user.id, &with_unknown_manager).await.unwrap_err());
    errors.push(client.get(&UserId::new("429")).await.unwrap_err());
    errors.push(client.find(&Lookup::ExternalId(EMAIL.to_string())).await.unwrap_err());
    errors.push(client.get(&UserId::new(EMAIL)).await.unwrap_err());
    // The user exists but is not there by id 500: its body is not JSON, and carries an address.
    let decode = client.get(&UserId::new("500")).await.unwrap_err();
    assert!(matches!(decode, Error::Decode(_)), "{decode:?}");

    assert!(matches!(errors[0], Error::Unauthorized(_)), "{:?}", errors[0]);
    assert!(matches!(errors[1], Error::Validation(_)), "{:?}", errors[1]);
    assert!(matches!(errors[2], Error::RateLimited { .. }), "{:?}", errors[2]);
    for error in &errors {
        assert_clean("error", &format!("{error} / {error:?}"));
    }
    // A body that is not JSON is excerpted, with the address in it masked.
    assert_clean("decode error", &format!("{decode} {decode:?}"));
    assert!(decode.to_string().contains("not json [EMAIL]"), "{decode}");

    let traces = captured.text();
    assert!(traces.contains("/requesters/{id}"), "the trace names endpoints by template:\n{traces}");
    assert_clean("traces", &traces);

    found.assert_calls_async(1).await;
    by_id.assert_calls_async(1).await;
    no_manager.assert_calls_async(2).await;
    unauthorized.assert_calls_async(1).await;
    limited.assert_calls_async(1).await;
    broken.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
