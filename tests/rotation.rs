//! Credential rotation without a restart: a client built from configuration reads its secret file
//! again after a `401` (at most once per request), and `Client::set_credential` swaps the header
//! whole under concurrent requests. No token reaches a log, an error or a `Debug`.

#[path = "support/fake_connector.rs"]
mod fake_connector;
#[path = "support/trace_capture.rs"]
mod trace_capture;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use httpmock::Method::GET;
use httpmock::{Mock, MockServer};
use identity_connectors::config::ConnectorConfig;
use identity_connectors::{Client, CredentialSource, Error, ErrorKind, Result, RetryPolicy, ScimBearer};
use secrecy::SecretString;
use serde_json::json;

const SCIM_LIST: &str = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}"#;

/// One app's connection: its `type`, the path its mock serves, the two secrets and the exact
/// `Authorization` header each becomes.
struct App {
    kind: &'static str,
    base: &'static str,
    field: &'static str,
    old: &'static str,
    new: &'static str,
    old_header: &'static str,
    new_header: &'static str,
}

const APPS: [App; 3] = [
    App {
        kind: "interact",
        base: "/api/v2/scim/v2",
        field: "token",
        old: "old-intranet-token-AAAA1111",
        new: "new-intranet-token-BBBB2222",
        old_header: "Bearer old-intranet-token-AAAA1111",
        new_header: "Bearer new-intranet-token-BBBB2222",
    },
    App {
        kind: "scim",
        base: "/scim/v2",
        field: "token",
        old: "old-directory-token-CCCC3333",
        new: "new-directory-token-DDDD4444",
        old_header: "Bearer old-directory-token-CCCC3333",
        new_header: "Bearer new-directory-token-DDDD4444",
    },
    App {
        kind: "freshservice",
        base: "/api/v2",
        field: "api_key",
        old: "OldFreshKey123456",
        new: "NewFreshKey654321",
        // base64("OldFreshKey123456:X"), base64("NewFreshKey654321:X")
        old_header: "Basic T2xkRnJlc2hLZXkxMjM0NTY6WA==",
        new_header: "Basic TmV3RnJlc2hLZXk2NTQzMjE6WA==",
    },
];

impl App {
    /// The mock of `test_connection`'s request with `header`, answering `status` (a `401` echoes
    /// `secret`, as some servers do).
    async fn mock<'a>(&self, server: &'a MockServer, header: &str, status: u16, secret: &str) -> Mock<'a> {
        let scim = self.kind != "freshservice";
        let path = format!("{}/{}", self.base, if scim { "Users" } else { "requesters" });
        let ok = if scim { SCIM_LIST.to_string() } else { r#"{"requesters":[]}"#.to_string() };
        let body =
            if status == 200 { ok } else { json!({"detail": format!("credential {secret} is revoked")}).to_string() };
        server
            .mock_async(|when, then| {
                let when = when.method(GET).path(path).header("authorization", header);
                if scim {
                    when.query_param("startIndex", "1").query_param("count", "1");
                } else {
                    when.query_param("per_page", "1");
                }
                then.status(status).header("content-type", "application/json").body(body);
            })
            .await
    }

    fn config(&self, server: &MockServer, secret_file: &std::path::Path) -> ConnectorConfig {
        toml::from_str(&format!(
            "type = \"{}\"\nname = \"Rotating {}\"\nloopback_url = \"{}\"\n{} = {{ file = \"{}\" }}\n[client]\nretry = {{ max_attempts = 1, deadline = \"0s\" }}\n",
            self.kind,
            self.kind,
            server.url(self.base),
            self.field,
            secret_file.display()
        ))
        .expect("the configuration parses")
    }
}

fn secret_file(name: &str, content: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("identity-connectors-rotation-{}-{name}", std::process::id()));
    std::fs::write(&path, content).expect("write the secret file");
    path
}

fn assert_no_secret(text: &str, app: &App) {
    for secret in [app.old, app.new, app.old_header, app.new_header] {
        assert!(!text.contains(secret), "a credential leaked into: {text}");
    }
}

#[tokio::test]
async fn each_app_picks_up_its_rotated_secret_file_on_the_first_401_and_retries_once() {
    let captured = trace_capture::capture();
    for app in &APPS {
        let server = MockServer::start_async().await;
        let file = secret_file(app.kind, &format!("{}\n", app.old));
        let config = app.config(&server, &file);
        let client = config.build_client().expect("the connection builds");

        // Before rotation: the old secret is accepted.
        let accepted_old = app.mock(&server, app.old_header, 200, app.old).await;
        client.test_connection().await.expect("the old secret works");
        accepted_old.assert_calls_async(1).await;
        accepted_old.delete_async().await;

        // The secret is rotated: the file holds the new one, the server refuses the old one.
        let refused_old = app.mock(&server, app.old_header, 401, app.old).await;
        let accepted_new = app.mock(&server, app.new_header, 200, app.new).await;
        std::fs::write(&file, format!("{}\n", app.new)).expect("rotate the secret file");

        client.test_connection().await.unwrap_or_else(|e| panic!("{}: the rotated secret works: {e}", app.kind));
        refused_old.assert_calls_async(1).await;
        accepted_new.assert_calls_async(1).await;

        // The new credential stays: the next request sends it first, with no 401 and no re-read.
        client.test_connection().await.expect("the new secret keeps working");
        refused_old.assert_calls_async(1).await;
        accepted_new.assert_calls_async(2).await;

        assert_no_secret(&format!("{config:?} {client:?} {:?}", client.connector()), app);
        std::fs::remove_file(&file).ok();
    }
    let logs = captured.text();
    assert_eq!(logs.matches("retrying with the replaced credential").count(), 3, "{logs}");
    for app in &APPS {
        assert_no_secret(&logs, app);
    }
}

/// A source that counts its reads and yields the next of its secrets on each (the last one again
/// once they run out).
struct Counted {
    secrets: &'static [&'static str],
    reads: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Counted({} reads)", self.reads.load(Ordering::SeqCst))
    }
}

#[async_trait]
impl CredentialSource for Counted {
    async fn current(&self) -> Result<SecretString> {
        let read = self.reads.fetch_add(1, Ordering::SeqCst);
        Ok(SecretString::from(self.secrets[read.min(self.secrets.len() - 1)]))
    }
}

fn counted_client(server: &MockServer, secrets: &'static [&'static str]) -> (Client, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let connector = ScimBearer::for_loopback(&server.url("/scim/v2"), APPS[1].old).unwrap();
    let client = Client::builder(connector)
        .retry_policy(RetryPolicy::none())
        .credential_source(Counted { secrets, reads: Arc::clone(&reads) })
        .build()
        .unwrap();
    (client, reads)
}

#[tokio::test]
async fn a_second_401_is_the_unauthorized_error_after_one_read_and_one_retry() {
    let captured = trace_capture::capture();
    let app = &APPS[1];
    let server = MockServer::start_async().await;
    let refused_old = app.mock(&server, app.old_header, 401, app.old).await;
    let refused_new = app.mock(&server, app.new_header, 401, app.new).await;
    // Were the source read again, it would yield yet another token, which no mock accepts.
    let (client, reads) = counted_client(&server, &["new-directory-token-DDDD4444", "newer-directory-token-EEEE5555"]);

    let error = client.test_connection().await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(error.kind(), ErrorKind::Client);
    assert_eq!(error.status(), Some(401));
    refused_old.assert_calls_async(1).await;
    refused_new.assert_calls_async(1).await;
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    // The echoed credential is redacted from the error.
    assert!(error.to_string().contains("credential [REDACTED] is revoked"), "{error}");
    assert_no_secret(&format!("{error} {error:?} {client:?}"), app);
    assert_no_secret(&captured.text(), app);
}

#[tokio::test]
async fn a_source_that_still_yields_the_refused_secret_causes_no_retry() {
    let app = &APPS[1];
    let server = MockServer::start_async().await;
    let refused_old = app.mock(&server, app.old_header, 401, app.old).await;
    let (client, reads) = counted_client(&server, &["old-directory-token-CCCC3333"]);

    let error = client.test_connection().await.unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    refused_old.assert_calls_async(1).await;
    assert_eq!(reads.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_request_refused_while_the_credential_was_replaced_is_sent_again_with_the_new_one() {
    let app = &APPS[1];
    let server = MockServer::start_async().await;
    // The old token's refusal arrives after set_credential has run.
    let refused_old = server
        .mock_async(|when, then| {
            when.method(GET).path("/scim/v2/Users").header("authorization", app.old_header);
            then.status(401).delay(Duration::from_millis(400)).body("{}");
        })
        .await;
    let accepted_new = app.mock(&server, app.new_header, 200, app.new).await;
    let connector = ScimBearer::for_loopback(&server.url("/scim/v2"), app.old).unwrap();
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap();

    let pending = tokio::spawn({
        let client = client.clone();
        async move { client.test_connection().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.set_credential(app.new).unwrap();
    pending.await.unwrap().expect("sent again with the new token");
    refused_old.assert_calls_async(1).await;
    accepted_new.assert_calls_async(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn set_credential_swaps_whole_headers_under_concurrent_requests() {
    for app in [&APPS[1], &APPS[2]] {
        let server = MockServer::start_async().await;
        // Only the two exact headers are answered; anything else (half of each) gets a 404.
        let old = app.mock(&server, app.old_header, 200, app.old).await;
        let new = app.mock(&server, app.new_header, 200, app.new).await;
        let config = app.config(&server, &secret_file(&format!("swap-{}", app.kind), app.old));
        let client = config.build_client().unwrap();

        let mut tasks = Vec::new();
        for i in 0..64 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                // Spread over the swap.
                tokio::time::sleep(Duration::from_millis(i % 16)).await;
                client.test_connection().await
            }));
        }
        tokio::time::sleep(Duration::from_millis(8)).await;
        client.set_credential(app.new).expect("the new credential is accepted");
        for task in tasks {
            task.await.unwrap().unwrap_or_else(|e| panic!("{}: every request carries a whole header: {e}", app.kind));
        }
        let (sent_old, sent_new) = (old.calls_async().await, new.calls_async().await);
        assert_eq!(sent_old + sent_new, 64, "{}: no request was sent twice or lost", app.kind);

        // After the swap every request carries the new header.
        client.test_connection().await.unwrap();
        old.assert_calls_async(sent_old).await;
        new.assert_calls_async(sent_new + 1).await;
        assert!(sent_new >= 1, "{}", app.kind);
    }
}

#[tokio::test]
async fn an_unusable_credential_is_refused_without_quoting_it_and_the_old_one_stays() {
    let app = &APPS[2];
    let server = MockServer::start_async().await;
    let old = app.mock(&server, app.old_header, 200, app.old).await;
    let config = app.config(&server, &secret_file("unusable", app.old));
    let client = config.build_client().unwrap();
    for bad in ["", "   ", "Secret With Spaces99"] {
        let error = client.set_credential(bad).unwrap_err();
        assert!(matches!(error, Error::InvalidConfig { .. }), "{error:?}");
        assert!(bad.trim().is_empty() || !error.to_string().contains(bad), "{error}");
    }
    client.test_connection().await.expect("the old credential is still sent");
    old.assert_calls_async(1).await;

    // A connector that cannot build a header from a credential says so.
    let fake = Client::new(fake_connector::Fake::new(&server.url("/api"))).unwrap();
    let error = fake.set_credential("another-token-123").unwrap_err();
    assert!(matches!(error, Error::Unsupported { capability: "credential rotation", .. }), "{error:?}");
}

#[test]
fn a_file_source_yields_what_the_file_holds_now() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let file = secret_file("source", "first-secret-1234\n");
    let source = identity_connectors::SecretSource::File(file.clone());
    let read = || runtime.block_on(source.current()).map(|s| secrecy::ExposeSecret::expose_secret(&s).to_string());
    assert_eq!(read().unwrap(), "first-secret-1234");
    std::fs::write(&file, "second-secret-5678\r\n").unwrap();
    assert_eq!(read().unwrap(), "second-secret-5678");
    std::fs::remove_file(&file).unwrap();
    let error = read().unwrap_err();
    assert_eq!(error.to_string(), format!("Invalid configuration: file {} does not exist", file.display()));
}
