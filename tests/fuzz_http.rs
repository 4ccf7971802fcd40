//! Property tests of every lifecycle call of every connector over HTTP, against a canned hostile
//! server (`fuzz_support::hostile`): whatever it answers (mutated real answers, any status, wrong
//! content types, 100,000 nested arrays, huge numbers, invalid UTF-8, bodies over the size cap,
//! truncated bodies, garbage `Retry-After` / `X-RateLimit-*` / `Link` headers, raw garbage,
//! silence, dropped connections), each call returns a typed result within a bound, without a
//! panic, and an error's text is one bounded line.
//!
//! CI runs the default (about 1,500 calls). The long run, which prints
//! `fuzz_http: 100000 cases, 0 panics`:
//!
//! ```text
//! FUZZ_CASES=100000 cargo test --release --test fuzz_http -- --nocapture
//! ```

#[path = "support/fuzz/mod.rs"]
mod fuzz_support;

use std::sync::OnceLock;
use std::time::Duration;

use futures_util::StreamExt;
use fuzz_support::hostile::{self, BODY_CAP, HostileServer};
use fuzz_support::inputs::{self, Family};
use fuzz_support::{Binary, is_single_line};
use identity_connectors::{
    AgentRole, Client, Connector, Error, FreshserviceApiKey, FreshserviceUserKind, InteractBearer, PageRequest,
    RetryPolicy, ScimBearer, User, UserId,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseResult;
use tokio::runtime::Runtime;

const BINARY: Binary = Binary { name: "fuzz_http", default_cases: 1_500, properties: 3, total_weight: 3 };

/// Far beyond what any call may take with the client settings below: reaching it is a hang.
const CALL_BOUND: Duration = Duration::from_secs(20);
/// Items read from a `list` stream at most (a hostile server can page forever).
const LIST_ITEMS: usize = 200;

/// One lifecycle call.
#[derive(Debug, Clone)]
enum Call {
    TestConnection,
    Provision(User),
    Deprovision(User),
    Get(String),
    FindByUserName(String),
    FindByEmail(String),
    FindByExternalId(String),
    Update(String, User),
    Deactivate(String),
    Reactivate(String),
    HardDelete(String),
    ListPage(u32),
    List(u32),
}

fn id() -> BoxedStrategy<String> {
    prop_oneof![3 => "[1-9][0-9]{0,11}", 1 => "[0-9a-f-]{36}", 1 => inputs::text()].boxed()
}

fn call() -> BoxedStrategy<Call> {
    prop_oneof![
        Just(Call::TestConnection),
        inputs::user().prop_map(Call::Provision),
        inputs::user().prop_map(Call::Deprovision),
        id().prop_map(Call::Get),
        inputs::text().prop_map(Call::FindByUserName),
        inputs::text().prop_map(Call::FindByEmail),
        inputs::text().prop_map(Call::FindByExternalId),
        (id(), inputs::user()).prop_map(|(id, user)| Call::Update(id, user)),
        id().prop_map(Call::Deactivate),
        id().prop_map(Call::Reactivate),
        id().prop_map(Call::HardDelete),
        (0u32..200).prop_map(Call::ListPage),
        (0u32..200).prop_map(Call::List),
    ]
    .boxed()
}

/// Runs `call`, reduced to its error (if any): each call's success type differs, and what is
/// checked of a success is that it arrived.
async fn run(client: &Client, call: Call) -> Result<(), Error> {
    match call {
        Call::TestConnection => client.test_connection().await.map(drop),
        Call::Provision(user) => client.provision(&user).await.map(drop),
        Call::Deprovision(user) => client.deprovision(&user).await.map(drop),
        Call::Get(id) => client.get(&UserId::new(id)).await.map(drop),
        Call::FindByUserName(v) => client.find_by_user_name(&v).await.map(drop),
        Call::FindByEmail(v) => client.find_by_email(&v).await.map(drop),
        Call::FindByExternalId(v) => client.find_by_external_id(&v).await.map(drop),
        Call::Update(id, user) => client.update(&UserId::new(id), &user).await.map(drop),
        Call::Deactivate(id) => client.deactivate(&UserId::new(id)).await.map(drop),
        Call::Reactivate(id) => client.reactivate(&UserId::new(id)).await,
        Call::HardDelete(id) => client.hard_delete(&UserId::new(id)).await.map(drop),
        Call::ListPage(size) => client.list_page(&PageRequest::first(size)).await.map(drop),
        Call::List(size) => {
            let mut stream = std::pin::pin!(client.list(size).take(LIST_ITEMS));
            while let Some(item) = stream.next().await {
                item?;
            }
            Ok(())
        }
    }
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
}

/// A client whose every wait is short, so a hostile answer cannot stretch a call for long:
/// 300 ms per attempt, two attempts, waits of at most 20 ms, a 256 KiB body cap.
///
/// One client serves all cases of a property (building one per case costs more than the case):
/// rate-limit state and pooled connections carry over from case to case, as they would in a
/// service talking to a hostile server for a long time.
fn client<C: Connector + 'static>(connector: C) -> Client {
    let _runtime = runtime().enter();
    Client::builder(connector)
        .timeout(Duration::from_millis(300))
        .max_response_bytes(BODY_CAP)
        .retry_policy(
            RetryPolicy::default()
                .with_max_attempts(2)
                .with_base_delay(Duration::from_millis(1))
                .with_max_delay(Duration::from_millis(20)),
        )
        .rate_limit_window(Duration::from_millis(100))
        .build()
        .expect("the fuzz client settings are valid")
}

/// Plays `script` to `call` and checks the outcome.
fn exchange(server: &HostileServer, client: &Client, script: Vec<hostile::Canned>, call: Call) -> TestCaseResult {
    server.set_script(script);
    let outcome = runtime().block_on(async { tokio::time::timeout(CALL_BOUND, run(client, call.clone())).await });
    if std::env::var_os("FUZZ_STATS").is_some() {
        // `FUZZ_STATS=1 … -- --nocapture | grep ^STAT | sort | uniq -c`: how deep the calls got.
        let name: String = format!("{call:?}").chars().take_while(|c| c.is_alphanumeric()).collect();
        let result = match &outcome {
            Ok(Ok(())) => "ok".to_string(),
            Ok(Err(error)) => format!("{:?}", error.kind()),
            Err(_) => "hang".to_string(),
        };
        eprintln!("STAT {name} {result}");
    }
    let Ok(result) = outcome else {
        return Err(TestCaseError::fail(format!("the call did not end within {CALL_BOUND:?}")));
    };
    if let Err(error) = result {
        let text = error.to_string();
        prop_assert!(is_single_line(&text), "error text spans lines: {text:?}");
        // Server texts are cut to 500 characters, at most 50 per-field messages of a few hundred.
        prop_assert!(text.chars().count() <= 30_000, "error text of {} chars", text.chars().count());
        let _ = (error.kind(), error.status(), error.retry_after(), error.outcome_unknown(), format!("{error:?}"));
    }
    Ok(())
}

fn server() -> HostileServer {
    HostileServer::start(runtime())
}

#[test]
fn scim_bearer_against_a_hostile_server() {
    let server = server();
    let base = format!("http://{}/scim/v2", server.addr);
    let client = client(ScimBearer::for_loopback(&base, "fuzz-token").unwrap());
    BINARY.check("ScimBearer", 1, (hostile::script(Family::Scim), call()), |(script, call)| {
        exchange(&server, &client, script, call)
    });
}

#[test]
fn interact_bearer_against_a_hostile_server() {
    let server = server();
    let base = format!("http://{}/api/v2/scim/v2", server.addr);
    let client = client(InteractBearer::for_loopback(&base, "fuzz-token").unwrap());
    BINARY.check("InteractBearer", 1, (hostile::script(Family::Scim), call()), |(script, call)| {
        exchange(&server, &client, script, call)
    });
}

#[test]
fn freshservice_against_a_hostile_server() {
    let server = server();
    let base = format!("http://{}/api/v2", server.addr);
    // Requesters and agents, with and without an employee-number field; names re-read whenever
    // one is unknown, so every case may reach the department and location lists.
    let clients: Vec<Client> = [(false, false), (false, true), (true, false), (true, true)]
        .into_iter()
        .map(|(agents, employee_field)| {
            let mut connector =
                FreshserviceApiKey::for_loopback(&base, "fuzz-api-key").unwrap().with_name_cache_ttl(Duration::ZERO);
            if agents {
                connector = connector
                    .with_default_kind(FreshserviceUserKind::Agent)
                    .with_default_agent_roles(vec![AgentRole::new(7, "entire_helpdesk")]);
            }
            if employee_field {
                connector = connector.with_employee_number_field("employee_id");
            }
            client(connector)
        })
        .collect();
    let cases = (hostile::script(Family::Freshservice), call(), 0..clients.len());
    BINARY.check("FreshserviceApiKey", 1, cases, |(script, call, which)| {
        exchange(&server, &clients[which], script, call)
    });
}
