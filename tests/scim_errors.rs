//! `ScimBearer` connection tests and error answers at the request level: what `test_connection`
//! proves and says, tokens kept out of errors, and typed errors for HTML, empty and oddly typed
//! error bodies. One mock server per test; a catch-all answers anything unexpected with 599 and
//! must never be hit.

#[path = "support/common/mod.rs"]
mod common;

use common::mock::{self, BASE, TOKEN, catch_all, client, jane, path, raw_query, with_body, without_body};
use httpmock::MockServer;
use identity_connectors::{Client, Error, RetryPolicy, ScimBearer, UserId};
use serde_json::json;

#[tokio::test]
async fn test_connection_proves_url_and_token() {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            raw_query(without_body(when.method("GET").path(path("/Users"))), "startIndex=1&count=1");
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let unexpected = catch_all(&server).await;
    client(&server).test_connection().await.expect("test connection");
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_token_that_is_a_word_of_the_hint_is_redacted_from_the_server_text_only() {
    // The hint is the crate's own advice: a test token such as `wrong` must not blank a word of
    // it, while the server's echo of the token is still redacted.
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            when.method("GET").path(path("/Users"));
            then.status(401).json_body(mock::error(401, None, "token wrong is not valid"));
        })
        .await;
    let connector = ScimBearer::for_loopback(&server.url(BASE), "wrong").expect("connector");
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).build().expect("client");
    let error = client.test_connection().await.expect_err("401");
    assert_eq!(
        error.to_string(),
        "Unauthorized: HTTP 401: token [REDACTED] is not valid. Check the bearer token configured for this SCIM \
         service: it may be wrong, expired or revoked"
    );
    probe.assert_calls_async(1).await;
}

#[tokio::test]
async fn unauthorized_says_what_to_check_and_hides_the_token() {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(401).header("www-authenticate", "Bearer realm=\"SCIM\"").json_body(mock::error(
                401,
                None,
                "Authorization failure",
            ));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).test_connection().await.expect_err("401");
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Unauthorized: HTTP 401: Authorization failure. Check the bearer token configured for this SCIM service: \
         it may be wrong, expired or revoked"
    );
    assert!(!format!("{error} {error:?}").contains(TOKEN));
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn test_connection_names_the_url_on_404() {
    let server = MockServer::start_async().await;
    let not_found = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(404).header("content-type", "text/html").body("<html><h1>Not Found</h1></html>");
        })
        .await;
    let unexpected = catch_all(&server).await;
    let error = client(&server).test_connection().await.expect_err("404");
    assert!(error.is_not_found(), "{error:?}");
    assert!(error.to_string().contains("Check the SCIM base URL"), "{error}");
    not_found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn test_connection_rejects_a_page_that_is_not_a_scim_list() {
    let server = MockServer::start_async().await;
    let login_page = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(200).header("content-type", "text/html").body("<!DOCTYPE html><title>Sign in</title>");
        })
        .await;
    let unexpected = catch_all(&server).await;
    let error = self::client(&server).test_connection().await.expect_err("HTML is not SCIM");
    let Error::Decode(decode) = &error else { panic!("{error:?}") };
    assert_eq!(decode.status, Some(200));
    assert_eq!(decode.excerpt, "<!DOCTYPE html><title>Sign in</title>");
    login_page.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_html_500_is_a_typed_error_with_a_short_excerpt() {
    let server = MockServer::start_async().await;
    let page = format!("<html><body><h1>Internal Server Error</h1>{}</body></html>", "x".repeat(5000));
    let failing = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users/u-1")));
            then.status(500).header("content-type", "text/html").body(page);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).get(&UserId::new("u-1")).await.expect_err("500");
    let Error::Api(api) = &error else { panic!("{error:?}") };
    assert_eq!(api.status, 500);
    assert!(api.message.starts_with("Internal Server Error (body starts: \"<html><body><h1>Internal Server Error"));
    assert!(api.message.len() < 300, "the excerpt is short: {}", api.message.len());
    failing.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn create_answered_with_an_empty_body_is_a_decode_error() {
    let server = MockServer::start_async().await;
    let find = server
        .mock_async(|when, then| {
            without_body(when.method("GET").path(path("/Users")));
            then.status(200).json_body(mock::list(0, 1, vec![]));
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            with_body(when.method("POST").path(path("/Users")));
            then.status(201);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(&server).provision(&jane()).await.expect_err("no user came back");
    assert!(matches!(&error, Error::Decode(d) if d.status == Some(201)), "{error:?}");
    // The server said it created the user, so it is looked up again, but never created twice.
    find.assert_calls_async(2).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn error_status_may_be_a_string_or_a_number() {
    for status in [json!("409"), json!(409)] {
        let server = MockServer::start_async().await;
        let find = server
            .mock_async(|when, then| {
                without_body(when.method("GET").path(path("/Users")));
                then.status(200).json_body(mock::list(0, 1, vec![]));
            })
            .await;
        let create = server
            .mock_async(|when, then| {
                with_body(when.method("POST").path(path("/Users")));
                then.status(409).json_body(json!({"status": status, "scimType": "uniqueness", "detail": "exists"}));
            })
            .await;
        let unexpected = catch_all(&server).await;
        // The look-up after the conflict still finds nobody: the conflict is reported.
        let error = client(&server).provision(&jane()).await.expect_err("conflict");
        assert!(error.is_conflict(), "{error:?}");
        assert_eq!(error.to_string(), "Conflict: HTTP 409 (uniqueness): exists");
        find.assert_calls_async(2).await;
        create.assert_calls_async(1).await;
        unexpected.assert_calls_async(0).await;
    }
}
