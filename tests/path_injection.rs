//! An id can never address another resource: every id-taking call of every connector refuses an id
//! the URL parser would strip or rewrite (TAB, LF, CR), any other control character, and empty,
//! `.` or `..` ids, before anything is sent. Checked on the wire with a raw TCP recorder, which
//! sees the exact request line (a mock server decodes and normalises paths first).

#[path = "support/raw_recorder.rs"]
mod raw_recorder;

use identity_connectors::{
    Client, Connector, Error, FreshserviceApiKey, InteractBearer, RetryPolicy, ScimBearer, User, UserId,
};
use raw_recorder::Recorder;

#[derive(Debug, Clone, Copy)]
enum Call {
    Get,
    Update,
    Deactivate,
    Reactivate,
    HardDelete,
}

const CALLS: [Call; 5] = [Call::Get, Call::Update, Call::Deactivate, Call::Reactivate, Call::HardDelete];

async fn run(client: &Client, call: Call, id: &UserId) -> Result<(), Error> {
    match call {
        Call::Get => client.get(id).await.map(drop),
        Call::Update => {
            let changes = User::builder("jane").given_name("Janet").build();
            client.update(id, &changes).await.map(drop)
        }
        Call::Deactivate => client.deactivate(id).await.map(drop),
        Call::Reactivate => client.reactivate(id).await,
        Call::HardDelete => client.hard_delete(id).await.map(drop),
    }
}

fn client<C: Connector + 'static>(connector: C) -> Client {
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap()
}

/// Ids that must never reach the wire, whatever the connector. The first ones are the reported
/// attacks: a trailing newline that addresses `u-1`, `.\t.` that becomes `..`, a lone TAB that
/// addresses the collection.
fn hostile_ids(good: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::from([
        format!("{good}\n"),
        format!("{good}\r\n"),
        format!("\t{good}"),
        format!("{}\t{}", &good[..1], &good[1..]),
        format!("{good}\r"),
        format!("{good}\u{0}"),
        format!("{good}\u{1b}[2J"),
        format!("{good}\u{7f}"),
        format!("{good}\u{85}"),
        format!("{good}\u{9b}"),
    ]);
    ids.extend(["", ".", "..", ".\t.", "\t", "\n", ".\n", "\t.\r.\n", "\u{0}"].map(String::from));
    ids
}

async fn assert_refused_before_sending(client: &Client, recorder: &Recorder, good: &str) {
    for id in hostile_ids(good) {
        for call in CALLS {
            let result = run(client, call, &UserId::new(id.clone())).await;
            let Err(Error::Validation(error)) = &result else {
                panic!("{call:?} with id {id:?}: expected a local validation error, got {result:?}");
            };
            assert_eq!(error.status, None, "{call:?} {id:?}: {error}");
            let text = result.unwrap_err().to_string();
            assert!(text.starts_with("Validation failed before sending (nothing was sent)"), "{text}");
            assert!(!text.chars().any(char::is_control), "{call:?} {id:?}: the message echoes the id: {text:?}");
            assert_eq!(recorder.lines(), Vec::<String>::new(), "{call:?} with id {id:?} reached the wire");
        }
    }
}

const SCIM_USER: &str =
    r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u-1","userName":"jane","active":true}"#;

async fn scim_like_lines(client: &Client, recorder: &Recorder, prefix: &str) {
    for (call, id, expected) in [
        (Call::Get, "u-1", "GET {p}/Users/u-1 HTTP/1.1"),
        (Call::Update, "u-1", "PATCH {p}/Users/u-1 HTTP/1.1"),
        (Call::Deactivate, "u-1", "PATCH {p}/Users/u-1 HTTP/1.1"),
        (Call::Reactivate, "u-1", "PATCH {p}/Users/u-1 HTTP/1.1"),
        (Call::HardDelete, "u-1", "DELETE {p}/Users/u-1 HTTP/1.1"),
        // Reserved and non-ASCII characters stay inside one segment, percent-encoded.
        (Call::Get, "a/b?c#d e%2e\\ü", "GET {p}/Users/a%2Fb%3Fc%23d%20e%252e%5C%C3%BC HTTP/1.1"),
        (Call::HardDelete, "%2e%2e", "DELETE {p}/Users/%252e%252e HTTP/1.1"),
        (Call::HardDelete, "...", "DELETE {p}/Users/... HTTP/1.1"),
    ] {
        // SCIM discovery's reads (once per client) aside.
        let user_lines = || -> Vec<String> { recorder.lines().into_iter().filter(|l| l.contains("/Users")).collect() };
        let before = user_lines().len();
        run(client, call, &UserId::new(id)).await.unwrap_or_else(|e| panic!("{call:?} {id:?}: {e}"));
        assert_eq!(user_lines()[before..], [expected.replace("{p}", prefix)], "{call:?} {id:?}");
    }
}

#[tokio::test]
async fn scim_bearer_refuses_hostile_ids_before_sending() {
    let recorder = Recorder::start(|_| (200, SCIM_USER.to_string())).await;
    let client = client(ScimBearer::for_loopback(&recorder.url("/scim/v2"), "tok-recorder").unwrap());
    assert_refused_before_sending(&client, &recorder, "u-1").await;
    scim_like_lines(&client, &recorder, "/scim/v2").await;
}

#[tokio::test]
async fn interact_bearer_refuses_hostile_ids_before_sending() {
    let recorder = Recorder::start(|_| (200, SCIM_USER.to_string())).await;
    let client = client(InteractBearer::for_loopback(&recorder.url("/api/v2/scim/v2"), "tok-recorder").unwrap());
    assert_refused_before_sending(&client, &recorder, "u-1").await;
    scim_like_lines(&client, &recorder, "/api/v2/scim/v2").await;
}

fn requester(active: bool) -> String {
    format!(
        r#"{{"requester":{{"id":42,"is_agent":false,"first_name":"Jane","last_name":"Doe","primary_email":"jane@example.com","active":{active}}}}}"#
    )
}

#[tokio::test]
async fn freshservice_refuses_hostile_and_padded_ids_before_sending() {
    let recorder = Recorder::start(|_| (200, requester(true))).await;
    let client = client(FreshserviceApiKey::for_loopback(&recorder.url("/api/v2"), "fs-key-recorder").unwrap());
    assert_refused_before_sending(&client, &recorder, "42").await;
    // A Freshservice id is digits only: padding and signs would otherwise be parsed away and
    // address user 42 all the same.
    for id in [" 42", "42 ", "+42", "042x", "4 2", "-42", "42.0", "99999999999999999999999"] {
        for call in CALLS {
            let result = run(&client, call, &UserId::new(id)).await;
            assert!(matches!(&result, Err(Error::Validation(e)) if e.status.is_none()), "{call:?} {id:?}: {result:?}");
            assert_eq!(recorder.lines(), Vec::<String>::new(), "{call:?} with id {id:?} reached the wire");
        }
    }
}

#[tokio::test]
async fn freshservice_sends_the_exact_request_lines_for_a_good_id() {
    const GET: &str = "GET /api/v2/requesters/42 HTTP/1.1";
    for (call, active, expected) in [
        (Call::Get, true, vec![GET]),
        (Call::Update, true, vec![GET, "PUT /api/v2/requesters/42 HTTP/1.1"]),
        (Call::Deactivate, true, vec![GET, "DELETE /api/v2/requesters/42 HTTP/1.1"]),
        (Call::Reactivate, false, vec![GET, "PUT /api/v2/requesters/42/reactivate HTTP/1.1"]),
        (Call::HardDelete, true, vec![GET, "DELETE /api/v2/requesters/42/forget HTTP/1.1"]),
    ] {
        let recorder = Recorder::start(move |_| (200, requester(active))).await;
        let client = client(FreshserviceApiKey::for_loopback(&recorder.url("/api/v2"), "fs-key-recorder").unwrap());
        run(&client, call, &UserId::new("42")).await.unwrap_or_else(|e| panic!("{call:?}: {e}"));
        assert_eq!(recorder.lines(), expected, "{call:?}");
    }
}

/// An id the server itself returns is no more trusted than one the caller passes: a look-up that
/// yields `u-1\n` must not make deprovisioning deactivate `u-1`.
#[tokio::test]
async fn a_hostile_id_from_the_server_is_refused_too() {
    let recorder = Recorder::start(|_| {
        let user = r#"{"id":"u-1\n","userName":"jane","active":true}"#;
        (200, format!(r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"Resources":[{user}]}}"#))
    })
    .await;
    let client = client(ScimBearer::for_loopback(&recorder.url("/scim/v2"), "tok-recorder").unwrap());
    let result = client.deprovision(&User::builder("jane").build()).await;
    assert!(matches!(&result, Err(Error::Validation(e)) if e.status.is_none()), "{result:?}");
    // SCIM discovery's three reads, then the look-up; nothing after it.
    let lines: Vec<String> = recorder.lines().into_iter().filter(|l| l.contains("/Users")).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("GET /scim/v2/Users?filter="), "{lines:?}");
}
