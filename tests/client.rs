//! The Client's shared lifecycle logic and the one request path, against a test-only connector
//! (`client_support`) on httpmock: provisioning outcomes, reconciliation, deprovisioning, paging,
//! retries, limits, redaction and error text.

mod client_support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use client_support::{EMAIL, Fake, TOKEN, wire};
use futures_util::StreamExt as _;
use httpmock::Method::{DELETE, GET, POST, PUT};
use httpmock::{Mock, MockServer};
use identity_connectors::{
    Client, DeprovisionOutcome, Error, ErrorKind, ProvisionOutcome, ProvisionPolicy, RetryPolicy, TransportErrorKind,
    UpdateOutcome, User, UserId,
};
use serde_json::json;

const AUTH: &str = "Bearer s3cr3t-T0KEN-value";

fn jane(title: &str) -> User {
    User::builder(EMAIL).email(EMAIL).title(title).build()
}

fn client(server: &MockServer) -> Client {
    Client::builder(Fake::new(&server.base_url()))
        .retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)))
        .build()
        .unwrap()
}

/// Any request no other mock matched fails the test loudly.
async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.path_prefix("/");
            then.status(599).body("unexpected request");
        })
        .await
}

async fn find_mock<'a>(server: &'a MockServer, users: serde_json::Value) -> Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(GET).path("/users").query_param("email", EMAIL).header("authorization", AUTH);
            then.status(200).json_body(json!({ "users": users }));
        })
        .await
}

#[tokio::test]
async fn provision_creates_a_missing_user_with_one_exact_post() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/users")
                .header("authorization", AUTH)
                .header("accept", "application/json")
                .header("user-agent", concat!("identity-connectors/", env!("CARGO_PKG_VERSION")))
                .header_count("^content-type$", "^application/json$", 1)
                .json_body(json!({"email": EMAIL, "title": "Analyst"}));
            then.status(201).json_body(wire(7, EMAIL, "Analyst", true));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.user.id, UserId::new("7"));
    find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_links_updates_and_reactivates_existing_users() {
    // Same attributes: linked, nothing but the look-up is sent.
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([wire(7, EMAIL, "Analyst", true)])).await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    find.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;

    // A changed title: updated with only that attribute.
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", true)])).await;
    let update = server
        .mock_async(|when, then| {
            when.method(PUT).path("/users/7").json_body(json!({"title": "Lead"}));
            then.status(200).json_body(wire(7, EMAIL, "Lead", true));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Lead")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Updated);
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Lead"));
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;

    // Inactive and changed: reactivated, then updated (a 204 update keeps the changes locally).
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", false)])).await;
    let reactivate = server
        .mock_async(|when, then| {
            when.method(PUT).path("/users/7/active").json_body(json!({"active": true}));
            then.status(204);
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            when.method(PUT).path("/users/7").json_body(json!({"title": "Lead"}));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Lead")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Reactivated);
    assert!(provisioned.user.is_active());
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Lead"));
    reactivate.assert_calls_async(1).await;
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;

    // Link-only policy: nothing but the look-up.
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", false)])).await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision_with(&jane("Lead"), ProvisionPolicy::link_only()).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert!(!provisioned.user.is_active());
    unexpected.assert_calls_async(0).await;
}

/// The first look-up answers "nobody"; later ones find the user (as after a lost or raced create).
async fn find_then_found(server: &MockServer) -> (Mock<'_>, Mock<'_>) {
    let empty = server
        .mock_async(|when, then| {
            when.method(GET).path("/users").query_param("email", EMAIL);
            then.status(200).json_body(json!({"users": []})).up_to_n_times(1);
        })
        .await;
    let found = find_mock(server, json!([wire(9, EMAIL, "Analyst", true)])).await;
    (empty, found)
}

#[tokio::test]
async fn a_conflict_on_create_is_resolved_by_a_second_look_up() {
    let server = MockServer::start_async().await;
    let (empty, found) = find_then_found(&server).await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/users");
            then.status(409).json_body(json!({"code": "duplicate_value", "message": "already exists"}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert_eq!(provisioned.user.id, UserId::new("9"));
    empty.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;

    // A conflict whose user cannot be found is returned as the conflict, with the server's words.
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/users");
            then.status(400).json_body(json!({"description": "Validation failed", "errors": [
                {"field": "primary_email", "message": "It already exists", "code": "duplicate_value"}]}));
        })
        .await;
    let error = client(&server).provision(&jane("Analyst")).await.unwrap_err();
    assert!(error.is_conflict());
    assert_eq!(
        error.to_string(),
        "conflict: HTTP 400: Validation failed; primary_email: It already exists (duplicate_value)"
    );
    create.assert_calls_async(1).await;
    find.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_create_that_times_out_is_followed_by_a_look_up_not_a_second_post() {
    let server = MockServer::start_async().await;
    let (empty, found) = find_then_found(&server).await;
    let create = server
        .mock_async(|when, then| {
            when.method(POST).path("/users");
            then.status(201).json_body(wire(9, EMAIL, "Analyst", true)).delay(Duration::from_millis(1500));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let c = Client::builder(Fake::new(&server.base_url()))
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::default().with_base_delay(Duration::from_millis(1)))
        .build()
        .unwrap();
    let provisioned = c.provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert_eq!(provisioned.user.id, UserId::new("9"));
    empty.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    found.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovision_is_safe_for_active_inactive_and_missing_users() {
    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", true)])).await;
    let deactivate = server
        .mock_async(|when, then| {
            when.method(PUT).path("/users/7/active").json_body(json!({"active": false}));
            then.status(204);
        })
        .await;
    assert_eq!(client(&server).deprovision(&jane("x")).await.unwrap(), DeprovisionOutcome::Deactivated);
    deactivate.assert_calls_async(1).await;

    let server = MockServer::start_async().await;
    find_mock(&server, json!([wire(7, EMAIL, "Analyst", false)])).await;
    let unexpected = catch_all(&server).await;
    assert_eq!(client(&server).deprovision(&jane("x")).await.unwrap(), DeprovisionOutcome::AlreadyInactive);
    unexpected.assert_calls_async(0).await;

    let server = MockServer::start_async().await;
    find_mock(&server, json!([])).await;
    let unexpected = catch_all(&server).await;
    assert_eq!(client(&server).deprovision(&jane("x")).await.unwrap(), DeprovisionOutcome::AlreadyGone);
    unexpected.assert_calls_async(0).await;

    let server = MockServer::start_async().await;
    let gone = server
        .mock_async(|when, then| {
            when.method(DELETE).path("/users/7");
            then.status(404).json_body(json!({"message": "no such user"}));
        })
        .await;
    let gone_active = server
        .mock_async(|when, then| {
            when.method(PUT).path("/users/7/active");
            then.status(404).json_body(json!({"message": "no such user"}));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let c = client(&server);
    assert_eq!(c.hard_delete(&UserId::new("7")).await.unwrap(), DeprovisionOutcome::AlreadyGone);
    assert_eq!(c.deactivate(&UserId::new("7")).await.unwrap(), DeprovisionOutcome::AlreadyGone);
    let error = c.reactivate(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.to_string(), "not found: HTTP 404: no such user");
    gone.assert_calls_async(1).await;
    gone_active.assert_calls_async(2).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_with_no_changes_sends_nothing() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let mut changes = User::default();
    changes.active = Some(false);
    assert_eq!(client(&server).update(&UserId::new("7"), &changes).await.unwrap(), UpdateOutcome::Unchanged);
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn list_streams_every_page_once() {
    let server = MockServer::start_async().await;
    for page in 1..=3u64 {
        server
            .mock_async(|when, then| {
                when.method(GET).path("/users").query_param("page", page.to_string());
                let users: Vec<_> =
                    (0..2).map(|i| wire(page * 10 + i, &format!("u{page}{i}@x.io"), "t", true)).collect();
                then.status(200)
                    .json_body(json!({"users": users, "next": if page < 3 { Some(page + 1) } else { None }}));
            })
            .await;
    }
    let unexpected = catch_all(&server).await;
    let c = client(&server);
    let ids: Vec<String> = c.list(2).map(|u| u.unwrap().id.to_string()).collect().await;
    assert_eq!(ids, ["10", "11", "20", "21", "30", "31"]);
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_server_that_ignores_paging_ends_the_stream_with_an_error() {
    let server = MockServer::start_async().await;
    let same = server
        .mock_async(|when, then| {
            when.method(GET).path("/users").query_param_exists("page");
            then.status(200).json_body(json!({"users": [wire(1, "a@x.io", "t", true)], "next": 2}));
        })
        .await;
    let results: Vec<_> = client(&server).list(1).collect().await;
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].as_ref().unwrap().id, UserId::new("1"));
    let error = results[1].as_ref().unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not decode the response: the server returned the same page twice; it may not support paging"
    );
    same.assert_calls_async(2).await;
}

#[tokio::test]
async fn throttling_429_429_then_200_honours_both_waits() {
    let server = MockServer::start_async().await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(429).header("retry-after", "1").json_body(json!({"message": "slow down"})).up_to_n_times(2);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(200).json_body(wire(7, EMAIL, "t", true));
        })
        .await;
    let started = Instant::now();
    let user = client(&server).get(&UserId::new("7")).await.unwrap();
    assert_eq!(user.id, UserId::new("7"));
    // Two 429s, each answered with `Retry-After: 1`: the client waited at least 2 s in all.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    throttled.assert_calls_async(2).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_create_answered_429_429_then_201_honours_both_waits() {
    let server = MockServer::start_async().await;
    let find = find_mock(&server, json!([])).await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(POST).path("/users").json_body(json!({"email": EMAIL, "title": "Analyst"}));
            then.status(429).header("retry-after", "1").json_body(json!({"message": "slow down"})).up_to_n_times(2);
        })
        .await;
    let created = server
        .mock_async(|when, then| {
            when.method(POST).path("/users").json_body(json!({"email": EMAIL, "title": "Analyst"}));
            then.status(201).json_body(wire(7, EMAIL, "Analyst", true));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let started = Instant::now();
    let provisioned = client(&server).provision(&jane("Analyst")).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    // A 429 means the server did not act, so the create is sent again, after each wait it asked for.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    find.assert_calls_async(1).await;
    throttled.assert_calls_async(2).await;
    created.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_always_throttling_server_stops_at_the_attempt_cap() {
    let server = MockServer::start_async().await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(429).header("retry-after", "0").json_body(json!({"message": "slow down"}));
        })
        .await;
    let c = Client::builder(Fake::new(&server.base_url()))
        .retry_policy(RetryPolicy::default().with_max_attempts(3))
        .build()
        .unwrap();
    let error = c.get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Throttling);
    assert_eq!(error.retry_after(), Some(Duration::ZERO));
    assert_eq!(error.to_string(), "rate limited (retry after 0 s): HTTP 429: slow down");
    throttled.assert_calls_async(3).await;

    // A Retry-After beyond the policy's maximum delay is returned at once for the caller to schedule.
    let server = MockServer::start_async().await;
    let long = server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(429).header("retry-after", "3600");
        })
        .await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(3600)));
    long.assert_calls_async(1).await;
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let server = MockServer::start_async().await;
    let date = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    let throttled = server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(503).header("retry-after", date.as_str()).body("busy").up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(200).json_body(wire(7, EMAIL, "t", true));
        })
        .await;
    let started = Instant::now();
    client(&server).get(&UserId::new("7")).await.unwrap();
    // The date was 2 s ahead at second precision, so at least ~1 s remained when it was read.
    assert!(started.elapsed() >= Duration::from_millis(900), "{:?}", started.elapsed());
    throttled.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
}

#[tokio::test]
async fn server_errors_and_posts_are_not_retried_blindly() {
    let server = MockServer::start_async().await;
    let boom = server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(500).header("content-type", "text/html").body("<html><h1>Internal Server Error</h1></html>");
        })
        .await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Server);
    assert_eq!(
        error.to_string(),
        "API error: HTTP 500: Internal Server Error (body starts: \"<html><h1>Internal Server Error</h1></html>\")"
    );
    boom.assert_calls_async(1).await;

    let server = MockServer::start_async().await;
    find_mock(&server, json!([])).await;
    let bad_gateway = server
        .mock_async(|when, then| {
            when.method(POST).path("/users");
            then.status(502).body("");
        })
        .await;
    let error = client(&server).provision(&jane("x")).await.unwrap_err();
    assert_eq!(error.to_string(), "API error: HTTP 502: Bad Gateway");
    // Each create's outcome is unknown, so each is followed by a look-up; creates are bounded by
    // the attempt cap and never retried without one.
    bad_gateway.assert_calls_async(4).await;
}

#[tokio::test]
async fn oversized_bodies_are_refused_and_redirects_not_followed() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(200).body("x".repeat(4096));
        })
        .await;
    let c = Client::builder(Fake::new(&server.base_url())).max_response_bytes(1024).build().unwrap();
    let error = c.get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(
        error.to_string(),
        "could not decode the response (HTTP 200): the response body exceeds the 1024-byte limit"
    );

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/users/7");
            then.status(307).header("location", "https://elsewhere.example.com/steal");
        })
        .await;
    let error = client(&server).get(&UserId::new("7")).await.unwrap_err();
    assert_eq!(error.status(), Some(307));
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
    assert!(text.starts_with("transport error (Connect) during GET /users?email={email}: "), "{text}");
    assert!(!text.contains("jane") && !text.contains("%40") && !text.contains(TOKEN), "{text}");
    assert_eq!(error.kind(), ErrorKind::Transient);
}

#[tokio::test]
async fn redacted_debug_output_is_exact() {
    let server = MockServer::start_async().await;
    let c = Client::builder(Fake::new("http://127.0.0.1:1")).build().unwrap();
    let debug = format!("{c:?}");
    assert_eq!(
        debug,
        "Client { connector: Fake { base_url: Url { scheme: \"http\", cannot_be_a_base: false, username: \"\", password: None, host: Some(Ipv4(127.0.0.1)), port: Some(1), path: \"/\", query: None, fragment: None }, authorization: Authorization([REDACTED]) }, http: Http { connector: \"fake\", timeout: 30s, max_response_bytes: 10485760, retry: RetryPolicy { max_attempts: 4, base_delay: 200ms, max_delay: 30s }, max_in_flight: 4, rate_limit_window: 60s } }"
    );
    assert!(!format!("{:?}", Client::builder(Fake::new(&server.base_url()))).contains(TOKEN));
}

/// Captures everything `tracing` emits on this thread, at every level.
fn capture() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = Buffer(buffer.clone());
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (buffer, tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn traces_never_contain_the_token_or_an_email_address() {
    let (buffer, _guard) = capture();
    let server = MockServer::start_async().await;
    find_mock(&server, json!([])).await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/users");
            then.status(429).header("retry-after", "0").json_body(json!({"message": "slow down"}));
        })
        .await;
    let c = Client::builder(Fake::new(&server.base_url()))
        .retry_policy(RetryPolicy::default().with_max_attempts(2))
        .build()
        .unwrap();
    let error = c.provision(&jane("x")).await.unwrap_err();
    assert!(!error.to_string().contains(EMAIL));
    let _ = c.deprovision(&jane("x")).await;
    let logs = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("http_request"), "tracing output was captured: {logs}");
    assert!(logs.contains("path=\"/users?email={email}\""), "{logs}");
    for secret in [TOKEN, EMAIL, "jane.doe", "jane.doe%2Bhr%40example.com"] {
        assert!(!logs.contains(secret), "{secret:?} leaked into traces:\n{logs}");
    }
}
