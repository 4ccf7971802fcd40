//! Request-level tests of the Freshservice connector: the exact request of every operation and the
//! typed outcome of every documented response variant. Fixtures follow the API v2 docs' shapes.

use std::time::Duration;

use futures_util::StreamExt;
use httpmock::{Method, Mock, MockServer, Then, When};
use identity_connectors::prelude::*;
use identity_connectors::{
    AgentRole, Client, DeprovisionOutcome, Error, FreshserviceApiKey, FreshserviceAttributes, FreshserviceUserKind,
    Lookup, Manager, PageRequest, PageToken, ProvisionOutcome, RetryPolicy, UpdateOutcome, User, UserId,
};
use serde_json::{Value, json};

const API_KEY: &str = "fs-test-key-3f9a1c";
/// `printf 'fs-test-key-3f9a1c:X' | base64`
const BASIC: &str = "Basic ZnMtdGVzdC1rZXktM2Y5YTFjOlg=";

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/freshservice/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn connector(server: &MockServer) -> FreshserviceApiKey {
    FreshserviceApiKey::for_loopback(&server.url("/api/v2"), API_KEY).unwrap()
}

fn client(connector: FreshserviceApiKey) -> Client {
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap()
}

/// Method, path under `/api/v2`, the exact query (nothing more), and the headers every request
/// carries.
fn request(when: When, method: Method, path: &str, query: &[(&str, &str)]) -> When {
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

fn no_body(when: When) -> When {
    when.header_missing("content-type").is_true(|req| req.body_ref().is_empty())
}

fn json_body(when: When, body: Value) -> When {
    when.header("content-type", "application/json").header_count("content-type", ".*", 1).json_body(body)
}

fn respond(then: Then, status: u16, body: Value) -> Then {
    then.status(status)
        .header("content-type", "application/json")
        .header("x-ratelimit-total", "400")
        .header("x-ratelimit-remaining", "398")
        .json_body(body)
}

/// Fails the test loudly on any request no other mock expects. Add it last.
async fn catch_all(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(599).body("unexpected request");
        })
        .await
}

async fn find_requesters<'a>(server: &'a MockServer, email: &str, found: Value) -> Mock<'a> {
    let email = email.to_string();
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, "/requesters", &[("email", &email), ("include_agents", "true")]));
            respond(then, 200, json!({ "requesters": found }));
        })
        .await
}

async fn find_agents<'a>(server: &'a MockServer, email: &str, found: Value) -> Mock<'a> {
    let email = email.to_string();
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, "/agents", &[("email", &email)]));
            respond(then, 200, json!({ "agents": found }));
        })
        .await
}

async fn directory<'a>(server: &'a MockServer, segment: &str, fixture_name: &str) -> Mock<'a> {
    let path = format!("/{segment}");
    let body = fixture(fixture_name);
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, &path, &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, body);
        })
        .await
}

async fn read<'a>(server: &'a MockServer, path: &str, status: u16, body: Value) -> Mock<'a> {
    let path = path.to_string();
    server
        .mock_async(move |when, then| {
            no_body(request(when, Method::GET, &path, &[]));
            respond(then, status, body);
        })
        .await
}

fn jane() -> User {
    User::builder("jane.doe+hr@example.com")
        .given_name("Jane")
        .family_name("Doe")
        .email("jane.doe+hr@example.com")
        .title("Payroll Analyst")
        .phone("62443", "work")
        .phone("77762443", "mobile")
        .department("Finance")
        .manager("boss@example.com")
        .employee_number("E1001")
        .timezone("Edinburgh")
        .preferred_language("en")
        .freshservice(
            FreshserviceAttributes::new(FreshserviceUserKind::Requester)
                .location("London HQ")
                .custom_field("cost_code", json!("CC-9")),
        )
        .build()
}

#[tokio::test]
async fn provision_creates_a_requester_with_every_mapped_field() {
    let server = MockServer::start_async().await;
    let email = "jane.doe+hr@example.com";
    let find = server
        .mock_async(|when, then| {
            // The e-mail is percent-encoded: `+` as %2B (else it would read as a space), `@` as %40.
            no_body(request(when, Method::GET, "/requesters", &[("email", email), ("include_agents", "true")]))
                .is_true(|req| req.uri_str().contains("email=jane.doe%2Bhr%40example.com&include_agents=true"));
            respond(then, 200, json!({"requesters": []}));
        })
        .await;
    let departments = directory(&server, "departments", "departments.json").await;
    let manager = server
        .mock_async(|when, then| {
            no_body(request(
                when,
                Method::GET,
                "/requesters",
                &[("email", "boss@example.com"), ("include_agents", "true")],
            ));
            respond(then, 200, fixture("manager_lookup.json"));
        })
        .await;
    let locations = directory(&server, "locations", "locations.json").await;
    let create = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/requesters", &[]),
                json!({
                    "first_name": "Jane",
                    "last_name": "Doe",
                    "primary_email": "jane.doe+hr@example.com",
                    "job_title": "Payroll Analyst",
                    "work_phone_number": "62443",
                    "mobile_phone_number": "77762443",
                    "department_ids": [554],
                    "reporting_manager_id": 656,
                    "location_id": 23,
                    "time_zone": "Edinburgh",
                    "language": "en",
                    "custom_fields": {"cost_code": "CC-9", "employee_id": "E1001"}
                }),
            );
            then.status(201)
                .header("content-type", "application/json")
                .header("X-RateLimit-Total", "400")
                .header("X-RateLimit-Remaining", "391")
                .json_body(fixture("requester_created.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server).with_employee_number_field("employee_id"));
    let provisioned = client.provision(&jane()).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    let remote = provisioned.user;
    assert_eq!(remote.id, UserId::new("21000418006"));
    let user = &remote.user;
    assert_eq!(user.user_name.as_deref(), Some(email));
    assert_eq!(user.primary_email(), Some(email));
    assert_eq!((user.given_name(), user.family_name()), (Some("Jane"), Some("Doe")));
    assert_eq!(user.title.as_deref(), Some("Payroll Analyst"));
    assert_eq!((user.phone("work"), user.phone("mobile")), (Some("62443"), Some("77762443")));
    assert_eq!(user.active, Some(true));
    assert_eq!(user.timezone.as_deref(), Some("Edinburgh"));
    assert_eq!(user.preferred_language.as_deref(), Some("en"));
    let enterprise = user.enterprise.as_ref().unwrap();
    assert_eq!(enterprise.department.as_deref(), Some("Finance"));
    assert_eq!(enterprise.manager, Some(Manager::new("656")));
    assert_eq!(enterprise.employee_number.as_deref(), Some("E1001"));
    let fs = user.freshservice().unwrap();
    assert_eq!(fs.kind, Some(FreshserviceUserKind::Requester));
    assert_eq!(fs.location.as_deref(), Some("London HQ"));
    assert_eq!(fs.can_see_all_tickets_from_associated_departments, Some(false));
    assert_eq!(Value::Object(fs.custom_fields.clone()), json!({"employee_id": "E1001", "cost_code": "CC-9"}));
    assert_eq!(
        Value::Object(fs.extra.clone()),
        json!({
            "department_ids": [554],
            "department_names": ["Finance"],
            "can_see_all_changes_from_associated_departments": false,
            "time_format": "12h",
            "location_id": 23,
            "location_name": "London HQ",
            "has_logged_in": false,
            "vip_user": false,
            "created_at": "2025-03-04T09:15:00Z",
            "updated_at": "2025-03-04T09:15:00Z"
        })
    );
    let budget = client.rate_limit().unwrap();
    assert_eq!((budget.total, budget.remaining), (Some(400), 391));

    find.assert_calls_async(1).await;
    departments.assert_calls_async(1).await;
    manager.assert_calls_async(1).await;
    locations.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_creates_an_agent_with_roles_occasional_and_groups() {
    let server = MockServer::start_async().await;
    let email = "rolanda.hooch@example.com";
    let find = find_requesters(&server, email, json!([])).await;
    let create = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/agents", &[]),
                json!({
                    "first_name": "Rolanda",
                    "last_name": "Hooch",
                    "email": "rolanda.hooch@example.com",
                    "time_zone": "Edinburgh",
                    "occasional": false,
                    "roles": [
                        {"role_id": 7, "assignment_scope": "specified_groups", "groups": [4, 5]},
                        {"role_id": 9, "assignment_scope": "assigned_items"}
                    ],
                    "member_of": [4, 5]
                }),
            );
            respond(then, 201, fixture("agent_created.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let mut scoped = AgentRole::new(7, "specified_groups");
    scoped.groups = vec![4, 5];
    let mut attributes = FreshserviceAttributes::agent(vec![scoped.clone(), AgentRole::new(9, "assigned_items")]);
    attributes.occasional = Some(false);
    attributes.member_of = vec![4, 5];
    let rolanda = User::builder(email)
        .given_name("Rolanda")
        .family_name("Hooch")
        .email(email)
        .timezone("Edinburgh")
        .freshservice(attributes)
        .build();
    let provisioned = client(connector(&server)).provision(&rolanda).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.user.id, UserId::new("29002122436"));
    assert_eq!(provisioned.user.user.primary_email(), Some(email));
    let fs = provisioned.user.user.freshservice().cloned().unwrap();
    assert_eq!(fs.kind, Some(FreshserviceUserKind::Agent));
    assert_eq!(fs.occasional, Some(false));
    assert_eq!(fs.roles, vec![scoped, AgentRole::new(9, "assigned_items")]);
    assert_eq!(fs.member_of, vec![4, 5]);
    assert_eq!(fs.extra.get("workspace_ids"), Some(&json!([2])));
    find.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn connector_defaults_make_an_agent_and_the_email_local_part_the_first_name() {
    let server = MockServer::start_async().await;
    let create = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/agents", &[]),
                json!({
                    "first_name": "rolanda.hooch",
                    "email": "rolanda.hooch@example.com",
                    "occasional": true,
                    "roles": [{"role_id": 4, "assignment_scope": "entire_helpdesk"}]
                }),
            );
            respond(then, 201, fixture("agent_created.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let connector = connector(&server)
        .with_default_kind(FreshserviceUserKind::Agent)
        .with_default_agent_roles(vec![AgentRole::new(4, "entire_helpdesk")])
        .with_default_occasional(true);
    let client = client(connector);
    let user = User::builder("rolanda.hooch@example.com").email("rolanda.hooch@example.com").build();

    let created = client.connector().create_user(client.http(), &user).await.unwrap();

    assert_eq!(created.user.freshservice().cloned().unwrap().kind, Some(FreshserviceUserKind::Agent));
    create.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

/// A create answered "duplicate" (either documented form) looks the user up again and links them.
async fn duplicate_on_create_is_resolved_and_linked(status: u16, body: Value) {
    let server = MockServer::start_async().await;
    let email = "jane.doe@example.com";
    let existing = json!([{
        "id": 21000418006u64, "is_agent": false, "first_name": "Jane", "last_name": "Doe",
        "primary_email": "jane.doe@example.com", "active": true, "department_ids": [], "location_id": null,
        "custom_fields": {}
    }]);
    // The first look-up misses (Freshservice's list may lag); the one after the duplicate finds her.
    let miss = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/requesters", &[("email", email), ("include_agents", "true")]));
            respond(then, 200, json!({"requesters": []})).up_to_n_times(1);
        })
        .await;
    let hit = find_requesters(&server, email, existing).await;
    let create = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/requesters", &[]),
                json!({"first_name": "Jane", "last_name": "Doe", "primary_email": email}),
            );
            respond(then, status, body);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let user = User::builder(email).given_name("Jane").family_name("Doe").email(email).build();
    let provisioned = client(connector(&server)).provision(&user).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert_eq!(provisioned.user.id, UserId::new("21000418006"));
    miss.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    hit.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn duplicate_409_on_create_links_the_existing_user() {
    duplicate_on_create_is_resolved_and_linked(409, fixture("duplicate_409.json")).await;
}

#[tokio::test]
async fn duplicate_400_on_create_links_the_existing_user() {
    duplicate_on_create_is_resolved_and_linked(400, fixture("duplicate_400.json")).await;
}

#[tokio::test]
async fn provision_reactivates_an_inactive_requester_then_updates_what_changed() {
    let server = MockServer::start_async().await;
    let email = "harry.potter@example.com";
    let inactive = json!({
        "id": 888, "is_agent": false, "first_name": "Harry", "last_name": "Potter", "job_title": "Seeker",
        "primary_email": email, "active": false, "department_ids": [], "location_id": null,
        "can_see_all_tickets_from_associated_departments": true, "custom_fields": {}
    });
    let mut active = inactive.clone();
    active["active"] = json!(true);
    let mut updated = active.clone();
    updated["job_title"] = json!("Captain");

    let find = find_requesters(&server, email, json!([inactive])).await;
    let get = read(&server, "/requesters/888", 200, json!({"requester": inactive})).await;
    let reactivate = server
        .mock_async(|when, then| {
            no_body(request(when, Method::PUT, "/requesters/888/reactivate", &[]));
            respond(then, 200, json!({"requester": active}));
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::PUT, "/requesters/888", &[]),
                // The flag goes along with its current value, or Freshservice would reset it.
                json!({"job_title": "Captain", "can_see_all_tickets_from_associated_departments": true}),
            );
            respond(then, 200, json!({"requester": updated}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let harry = User::builder(email).given_name("Harry").family_name("Potter").email(email).title("Captain").build();
    let provisioned = client(connector(&server)).provision(&harry).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Reactivated);
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Captain"));
    assert_eq!(provisioned.user.user.active, Some(true));
    find.assert_calls_async(1).await;
    get.assert_calls_async(1).await;
    reactivate.assert_calls_async(1).await;
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_of_an_unchanged_user_sends_no_update() {
    let server = MockServer::start_async().await;
    let email = "jane.doe+hr@example.com";
    let existing = fixture("requester_created.json")["requester"].clone();
    let find = find_requesters(&server, email, json!([existing])).await;
    let departments = directory(&server, "departments", "departments.json").await;
    let locations = directory(&server, "locations", "locations.json").await;
    // The manager is given by e-mail and stored by id: resolving it is the only way to compare.
    let manager =
        find_requesters(&server, "boss@example.com", fixture("manager_lookup.json")["requesters"].clone()).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server).with_employee_number_field("employee_id"));
    let found = client.find_by_email(email).await.unwrap().unwrap();
    let changes = jane().changes_from(&found.user);
    assert_eq!(changes.enterprise.clone().and_then(|e| e.manager), Some(Manager::new("boss@example.com")));
    assert_eq!(changes.name, None);
    assert!(changes.freshservice().is_none(), "{:?}", changes.freshservice());
    // Only the manager differs on paper, and resolving it shows it is the same: no PUT.
    let changes = jane().changes_from(&found.user);
    let outcome = client.connector().update_user(client.http(), &found.id, &changes, Some(&found)).await.unwrap();
    assert_eq!(outcome, UpdateOutcome::Unchanged);

    find.assert_calls_async(1).await;
    departments.assert_calls_async(1).await;
    locations.assert_calls_async(1).await;
    manager.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;

    // Through the client, the same person is reported as linked, not updated.
    let provisioned = client.provision(&jane()).await.unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    find.assert_calls_async(2).await;
    manager.assert_calls_async(2).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn provision_converts_a_requester_to_an_agent_when_asked_explicitly() {
    let server = MockServer::start_async().await;
    let email = "ron@example.com";
    let requester = json!({
        "id": 888, "is_agent": false, "first_name": "Ron", "primary_email": email, "active": true,
        "department_ids": [], "location_id": null, "custom_fields": {}
    });
    let converted = json!({"agent": {
        "id": 888, "first_name": "Ron", "email": email, "active": true, "occasional": true,
        "roles": [{"role_id": 4, "assignment_scope": "entire_helpdesk", "groups": []}],
        "can_see_all_tickets_from_associated_departments": false, "department_ids": [], "location_id": null
    }});
    let mut agent = converted.clone();
    agent["agent"]["roles"] = json!([{"role_id": 7, "assignment_scope": "assigned_items", "groups": []}]);

    let find = find_requesters(&server, email, json!([requester])).await;
    let convert = server
        .mock_async(|when, then| {
            no_body(request(when, Method::PUT, "/requesters/888/convert_to_agent", &[]));
            respond(then, 200, converted);
        })
        .await;
    let update = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::PUT, "/agents/888", &[]),
                json!({
                    "roles": [{"role_id": 7, "assignment_scope": "assigned_items"}],
                    "can_see_all_tickets_from_associated_departments": false
                }),
            );
            respond(then, 200, agent);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let ron = User::builder(email)
        .given_name("Ron")
        .email(email)
        .freshservice(FreshserviceAttributes::agent(vec![AgentRole::new(7, "assigned_items")]))
        .build();
    let provisioned = client(connector(&server)).provision(&ron).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Updated);
    let fs = provisioned.user.user.freshservice().cloned().unwrap();
    assert_eq!(fs.kind, Some(FreshserviceUserKind::Agent));
    assert_eq!(fs.roles, vec![AgentRole::new(7, "assigned_items")]);
    find.assert_calls_async(1).await;
    convert.assert_calls_async(1).await;
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deactivating_an_agent_reads_it_then_deletes_through_the_agents_api() {
    let server = MockServer::start_async().await;
    let not_requester =
        read(&server, "/requesters/29002122436", 404, json!({"code": "not_found", "message": "Record not found"}))
            .await;
    let agent = read(&server, "/agents/29002122436", 200, fixture("agent_created.json")).await;
    let delete = server
        .mock_async(|when, then| {
            no_body(request(when, Method::DELETE, "/agents/29002122436", &[]));
            respond(then, 200, fixture("agent_deactivated.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let outcome = client(connector(&server)).deactivate(&UserId::new("29002122436")).await.unwrap();

    assert_eq!(outcome, DeprovisionOutcome::Deactivated);
    not_requester.assert_calls_async(1).await;
    agent.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deactivating_a_requester_accepts_204() {
    let server = MockServer::start_async().await;
    let get = read(
        &server,
        "/requesters/888",
        200,
        json!({"requester": {"id": 888, "primary_email": "r@example.com", "active": true}}),
    )
    .await;
    let delete = server
        .mock_async(|when, then| {
            no_body(request(when, Method::DELETE, "/requesters/888", &[]));
            then.status(204);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let outcome = client(connector(&server)).deactivate(&UserId::new("888")).await.unwrap();

    assert_eq!(outcome, DeprovisionOutcome::Deactivated);
    get.assert_calls_async(1).await;
    delete.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deactivating_an_inactive_user_succeeds_without_a_delete() {
    let server = MockServer::start_async().await;
    let get = read(&server, "/requesters/888", 200, json!({"requester": {"id": 888, "active": false}})).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    assert_eq!(client.deactivate(&UserId::new("888")).await.unwrap(), DeprovisionOutcome::Deactivated);

    get.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn deprovision_by_user_finds_then_reports_inactive_or_gone() {
    let server = MockServer::start_async().await;
    let inactive = json!([{"id": 5, "primary_email": "gone@example.com", "active": false}]);
    let find_inactive = find_requesters(&server, "gone@example.com", inactive).await;
    let find_missing = find_requesters(&server, "never@example.com", json!([])).await;
    let find_missing_agent = find_agents(&server, "never@example.com", json!([])).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let gone = User::builder("gone@example.com").email("gone@example.com").build();
    assert_eq!(client.deprovision(&gone).await.unwrap(), DeprovisionOutcome::AlreadyInactive);
    let never = User::builder("never@example.com").email("never@example.com").build();
    assert_eq!(client.deprovision(&never).await.unwrap(), DeprovisionOutcome::AlreadyGone);

    find_inactive.assert_calls_async(1).await;
    find_missing.assert_calls_async(1).await;
    find_missing_agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn reactivating_an_agent_listed_as_requester_uses_the_agents_api() {
    let server = MockServer::start_async().await;
    let as_requester =
        read(&server, "/requesters/77", 200, json!({"requester": {"id": 77, "is_agent": true, "active": false}})).await;
    let as_agent =
        read(&server, "/agents/77", 200, json!({"agent": {"id": 77, "email": "a@example.com", "active": false}})).await;
    let reactivate = server
        .mock_async(|when, then| {
            no_body(request(when, Method::PUT, "/agents/77/reactivate", &[]));
            respond(then, 200, json!({"agent": {"id": 77, "active": true}}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    client(connector(&server)).reactivate(&UserId::new("77")).await.unwrap();

    as_requester.assert_calls_async(1).await;
    as_agent.assert_calls_async(1).await;
    reactivate.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn hard_delete_forgets_and_an_unknown_id_is_already_gone() {
    let server = MockServer::start_async().await;
    let get = read(&server, "/requesters/888", 200, json!({"requester": {"id": 888, "active": false}})).await;
    let forget = server
        .mock_async(|when, then| {
            no_body(request(when, Method::DELETE, "/requesters/888/forget", &[]));
            then.status(204);
        })
        .await;
    let missing_requester =
        read(&server, "/requesters/999", 404, json!({"code": "not_found", "message": "Not found"})).await;
    let missing_agent = read(&server, "/agents/999", 404, json!({"code": "not_found", "message": "Not found"})).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    assert_eq!(client.hard_delete(&UserId::new("888")).await.unwrap(), DeprovisionOutcome::Deleted);
    assert_eq!(client.hard_delete(&UserId::new("999")).await.unwrap(), DeprovisionOutcome::AlreadyGone);

    get.assert_calls_async(1).await;
    forget.assert_calls_async(1).await;
    missing_requester.assert_calls_async(1).await;
    missing_agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn get_reads_phones_given_as_numbers_and_names_from_paged_directories() {
    let server = MockServer::start_async().await;
    let get = read(&server, "/requesters/21000418007", 200, fixture("requester_phones_as_numbers.json")).await;
    let page2 = server.url("/api/v2/departments?per_page=100&page=2");
    let departments1 = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, fixture("departments.json")).header("link", format!("<{page2}>; rel=\"next\""));
        })
        .await;
    let departments2 = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "2")]));
            respond(then, 200, fixture("departments_page2.json"));
        })
        .await;
    let locations = directory(&server, "locations", "locations.json").await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server).with_employee_number_field("employee_id"));
    let harry = client.get(&UserId::new("21000418007")).await.unwrap();

    let user = &harry.user;
    assert_eq!(user.phone("work"), Some("62443"));
    assert_eq!(user.phone("mobile"), Some("7776244301"));
    let emails: Vec<(&str, Option<&str>)> = user.emails.iter().map(|e| (e.value.as_str(), e.kind.as_deref())).collect();
    assert_eq!(emails, vec![("harry.potter@example.com", Some("work")), ("hp@example.org", Some("other"))]);
    assert_eq!(user.timezone.as_deref(), Some("Eastern Time (US & Canada)"));
    assert_eq!(user.preferred_language.as_deref(), Some("pt-BR"));
    let enterprise = user.enterprise.as_ref().unwrap();
    assert_eq!(enterprise.department.as_deref(), Some("Human Resources"));
    assert_eq!(enterprise.employee_number.as_deref(), Some("1002"));
    let fs = user.freshservice().unwrap();
    assert_eq!(fs.location.as_deref(), Some("London HQ"));
    assert_eq!(fs.can_see_all_tickets_from_associated_departments, Some(true));
    assert_eq!(fs.extra.get("workspace_info"), Some(&json!({"id": 2, "name": "IT"})));
    assert_eq!(fs.extra.get("department_ids"), Some(&json!([555, 553])));
    assert_eq!(fs.extra.get("address"), Some(&json!("Gryffindor Tower")));

    // The lists are cached: a second read sends only the user's GET.
    client.get(&UserId::new("21000418007")).await.unwrap();
    get.assert_calls_async(2).await;
    departments1.assert_calls_async(1).await;
    departments2.assert_calls_async(1).await;
    locations.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn update_without_current_state_reads_first_and_keeps_the_departments_flag() {
    let server = MockServer::start_async().await;
    let current = json!({"requester": {
        "id": 888, "first_name": "Harry", "job_title": "Seeker", "primary_email": "h@example.com", "active": true,
        "can_see_all_tickets_from_associated_departments": true
    }});
    let get = read(&server, "/requesters/888", 200, current.clone()).await;
    let mut updated = current.clone();
    updated["requester"]["job_title"] = json!("Captain");
    updated["requester"]["mobile_phone_number"] = json!("555");
    let put = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::PUT, "/requesters/888", &[]),
                json!({
                    "job_title": "Captain",
                    "mobile_phone_number": "555",
                    "can_see_all_tickets_from_associated_departments": true
                }),
            );
            respond(then, 200, updated);
        })
        .await;
    let unexpected = catch_all(&server).await;

    let mut changes = User::default();
    changes.title = Some("Captain".into());
    changes.phone_numbers = User::builder("x").phone("555", "mobile").build().phone_numbers;
    let client = client(connector(&server));
    let outcome = client.update(&UserId::new("888"), &changes).await.unwrap();

    let UpdateOutcome::Updated(Some(user)) = outcome else { panic!("unexpected outcome {outcome:?}") };
    assert_eq!(user.user.title.as_deref(), Some("Captain"));
    assert_eq!(user.user.phone("mobile"), Some("555"));
    get.assert_calls_async(1).await;
    put.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn listing_follows_link_headers_over_three_pages() {
    let server = MockServer::start_async().await;
    let mut pages = Vec::new();
    for page in 1..=3u32 {
        let next = (page < 3)
            .then(|| server.url(format!("/api/v2/requesters?per_page=100&page={}&include_agents=true", page + 1)));
        let body = fixture(&format!("listing_page{page}.json"));
        let page_text = page.to_string();
        pages.push(
            server
                .mock_async(|when, then| {
                    no_body(request(
                        when,
                        Method::GET,
                        "/requesters",
                        &[("per_page", "100"), ("page", &page_text), ("include_agents", "true")],
                    ));
                    let then = respond(then, 200, body);
                    if let Some(next) = next {
                        // No space before `rel`, as Freshservice's docs print it.
                        then.header("link", format!("<{next}>;rel=\"next\""));
                    }
                })
                .await,
        );
    }
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let users: Vec<_> = client.list(100).collect().await;

    let users: Vec<_> = users.into_iter().map(Result::unwrap).collect();
    let ids: Vec<&str> = users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids, ["101", "102", "103", "104", "105"]);
    let kinds: Vec<_> = users.iter().map(|u| u.user.freshservice().unwrap().kind.unwrap()).collect();
    assert_eq!(kinds[1], FreshserviceUserKind::Agent);
    assert_eq!(kinds.iter().filter(|k| **k == FreshserviceUserKind::Requester).count(), 4);
    assert!(!users[2].is_active());
    for page in &pages {
        page.assert_calls_async(1).await;
    }
    unexpected.assert_calls_async(0).await;

    let page = client.list_page(&PageRequest::first(100)).await.unwrap();
    assert_eq!(page.next, Some(PageToken::new("2")));
    assert_eq!(page.total, None);
}

#[tokio::test]
async fn listing_never_follows_a_link_to_another_host() {
    let server = MockServer::start_async().await;
    let page = server
        .mock_async(|when, then| {
            no_body(request(
                when,
                Method::GET,
                "/requesters",
                &[("per_page", "50"), ("page", "1"), ("include_agents", "true")],
            ));
            respond(then, 200, fixture("listing_page3.json"))
                .header("link", "<https://attacker.example.com/api/v2/requesters?page=2>; rel=\"next\"");
        })
        .await;
    let unexpected = catch_all(&server).await;

    let error = client(connector(&server)).list_page(&PageRequest::first(50)).await.unwrap_err();

    assert!(matches!(error, Error::Decode(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Could not decode the response (HTTP 200): the `Link` header's next page points to another host; it was not followed"
    );
    page.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn page_size_is_capped_at_100_and_a_foreign_token_is_rejected_unsent() {
    let server = MockServer::start_async().await;
    let page = server
        .mock_async(|when, then| {
            no_body(request(
                when,
                Method::GET,
                "/requesters",
                &[("per_page", "100"), ("page", "7"), ("include_agents", "true")],
            ));
            respond(then, 200, json!({"requesters": []}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let empty = client.list_page(&PageRequest::next(PageToken::new("7"), 1000)).await.unwrap();
    assert!(empty.users.is_empty() && empty.next.is_none());
    let error = client.list_page(&PageRequest::next(PageToken::new("cursor-abc"), 10)).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");

    page.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

async fn connection_test_error(status: u16, body: Value) -> Error {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/requesters", &[("per_page", "1")]));
            respond(then, status, body);
        })
        .await;
    let unexpected = catch_all(&server).await;
    let error = client(connector(&server)).test_connection().await.unwrap_err();
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
    error
}

#[tokio::test]
async fn connection_test_succeeds_on_a_requester_page() {
    let server = MockServer::start_async().await;
    let probe = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/requesters", &[("per_page", "1")]));
            respond(then, 200, fixture("listing_page3.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    client(connector(&server)).test_connection().await.unwrap();
    probe.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn connection_test_401_says_to_check_the_api_key() {
    let error = connection_test_error(401, fixture("invalid_credentials.json")).await;
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Unauthorized: HTTP 401 (invalid_credentials): You have to be logged in to perform this action. Check the API \
         key: it is under Profile settings > Your API key in Freshservice, and must belong to an active administrator"
    );
}

#[tokio::test]
async fn connection_test_403_says_the_key_owner_lacks_admin_rights() {
    let error = connection_test_error(403, fixture("access_denied.json")).await;
    let Error::Forbidden(api) = &error else { panic!("{error:?}") };
    assert_eq!(api.code.as_deref(), Some("access_denied"));
    assert_eq!(
        error.to_string(),
        "Forbidden: HTTP 403 (access_denied): You are not authorized to perform this action. The API key works, but \
         its owner lacks the permission: use the key of an administrator (with Manage Agents); creating a full-time \
         agent also fails this way when no agent licence is left"
    );
}

#[tokio::test]
async fn connection_test_404_says_to_check_the_instance_name() {
    let error = connection_test_error(404, json!({"code": "not_found", "message": "Not found"})).await;
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(
        error.to_string(),
        "Not found: HTTP 404 (not_found): Not found. Check the instance name: API v2 answers only on \
         `<name>.freshservice.com`, not on a custom domain"
    );
}

#[tokio::test]
async fn a_429_is_rate_limited_with_retry_after_and_the_budget_is_recorded() {
    let server = MockServer::start_async().await;
    let limited = server
        .mock_async(|when, then| {
            no_body(request(
                when,
                Method::GET,
                "/requesters",
                &[("email", "a@example.com"), ("include_agents", "true")],
            ));
            then.status(429)
                .header("retry-after", "37")
                .header("X-RateLimit-Total", "200")
                .header("X-RateLimit-Remaining", "0")
                .header("X-RateLimit-Used-CurrentRequest", "1")
                .json_body(json!({"code": "rate_limit_exceeded", "message": "Too many requests"}));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let error = client.find_by_email("a@example.com").await.unwrap_err();

    let Error::RateLimited { retry_after, error: api } = &error else { panic!("{error:?}") };
    assert_eq!(*retry_after, Some(Duration::from_secs(37)));
    assert_eq!(api.code.as_deref(), Some("rate_limit_exceeded"));
    assert_eq!(error.retry_after(), Some(Duration::from_secs(37)));
    let budget = client.rate_limit().unwrap();
    assert_eq!((budget.total, budget.remaining), (Some(200), 0));
    limited.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_400_lists_every_field_and_a_flat_body_keeps_its_code() {
    let server = MockServer::start_async().await;
    let rejected = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/requesters", &[]),
                json!({"first_name": "x", "primary_email": "x@example.com"}),
            );
            respond(then, 400, fixture("validation_failed.json"));
        })
        .await;
    let denied = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/agents", &[]),
                json!({"first_name": "y", "email": "y@example.com", "roles": [{"role_id": 1, "assignment_scope": "entire_helpdesk"}]}),
            );
            respond(then, 403, fixture("access_denied.json"));
        })
        .await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));

    let x = User::builder("x@example.com").email("x@example.com").build();
    let error = client.connector().create_user(client.http(), &x).await.unwrap_err();
    let Error::Validation(validation) = &error else { panic!("{error:?}") };
    assert_eq!(validation.status, Some(400));
    assert_eq!(validation.fields.len(), 2);
    assert_eq!(
        error.to_string(),
        "Validation failed (HTTP 400): Validation failed; job_title: It should be a/an String (datatype_mismatch); \
         cost_code: It should be one of the choice value. (invalid_value)"
    );

    let y = User::builder("y@example.com")
        .email("y@example.com")
        .freshservice(FreshserviceAttributes::agent(vec![AgentRole::new(1, "entire_helpdesk")]))
        .build();
    let error = client.connector().create_user(client.http(), &y).await.unwrap_err();
    let Error::Forbidden(api) = &error else { panic!("{error:?}") };
    assert_eq!(api.code.as_deref(), Some("access_denied"));

    rejected.assert_calls_async(1).await;
    denied.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_unknown_department_name_is_a_validation_error_and_nothing_is_created() {
    let server = MockServer::start_async().await;
    let email = "new.hire@example.com";
    let find = find_requesters(&server, email, json!([])).await;
    let departments = directory(&server, "departments", "departments.json").await;
    let unexpected = catch_all(&server).await;

    let user = User::builder(email).email(email).department("Marketing").build();
    let error = client(connector(&server)).provision(&user).await.unwrap_err();

    let Error::Validation(validation) = &error else { panic!("{error:?}") };
    assert_eq!(validation.status, None);
    assert_eq!(
        error.to_string(),
        "Validation failed before sending (nothing was sent): the department `Marketing` does not exist in \
         Freshservice; create it there or correct the name; department: unknown department `Marketing`"
    );
    find.assert_calls_async(1).await;
    departments.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_department_created_after_the_list_was_read_is_found_by_reading_it_again() {
    let server = MockServer::start_async().await;
    let email = "new.hire@example.com";
    let find = find_requesters(&server, email, json!([])).await;
    // The first read predates "Marketing"; the second has it.
    let before = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, fixture("departments.json")).up_to_n_times(1);
        })
        .await;
    let mut departments = fixture("departments.json");
    if let Some(list) = departments["departments"].as_array_mut() {
        list.push(json!({"id": 555, "name": "Marketing"}));
    }
    let after = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, departments);
        })
        .await;
    let create = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::POST, "/requesters", &[]),
                json!({"first_name": "new.hire", "primary_email": email, "department_ids": [555]}),
            );
            respond(then, 201, fixture("requester_created.json"));
        })
        .await;
    // Reading the created record back resolves its location id to a name.
    let locations = directory(&server, "locations", "locations.json").await;
    let unexpected = catch_all(&server).await;

    let user = User::builder(email).email(email).department("Marketing").build();
    let client = client(connector(&server).with_name_cache_ttl(Duration::ZERO));
    let provisioned = client.provision(&user).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    find.assert_calls_async(1).await;
    before.assert_calls_async(1).await;
    after.assert_calls_async(1).await;
    create.assert_calls_async(1).await;
    locations.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn two_joiners_in_a_new_department_cause_one_refresh_not_two() {
    let server = MockServer::start_async().await;
    let emails = ["first.hire@example.com", "second.hire@example.com"];
    let mut lookups = Vec::new();
    for email in emails {
        lookups.push(find_requesters(&server, email, json!([])).await);
    }
    let before = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, fixture("departments.json")).up_to_n_times(1);
        })
        .await;
    let mut departments = fixture("departments.json");
    if let Some(list) = departments["departments"].as_array_mut() {
        list.push(json!({"id": 555, "name": "Marketing"}));
    }
    let after = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/departments", &[("per_page", "100"), ("page", "1")]));
            respond(then, 200, departments);
        })
        .await;
    let mut creates = Vec::new();
    for email in emails {
        let first_name = email.split('@').next().unwrap_or_default().to_string();
        creates.push(
            server
                .mock_async(|when, then| {
                    json_body(
                        request(when, Method::POST, "/requesters", &[]),
                        json!({"first_name": first_name, "primary_email": email, "department_ids": [555]}),
                    );
                    respond(then, 201, fixture("requester_created.json"));
                })
                .await,
        );
    }
    let locations = directory(&server, "locations", "locations.json").await;
    let unexpected = catch_all(&server).await;

    let connector = connector(&server).with_name_cache_ttl(Duration::ZERO);
    let client = Client::builder(connector).retry_policy(RetryPolicy::none()).max_in_flight(2).build().unwrap();
    let people: Vec<User> =
        emails.iter().map(|e| User::builder(*e).email(*e).department("Marketing").build()).collect();
    let results: Vec<_> = futures_util::StreamExt::collect(client.provision_all(people)).await;

    for item in &results {
        assert_eq!(item.result.as_ref().map(|p| p.outcome).ok(), Some(ProvisionOutcome::Created), "{item:?}");
    }
    before.assert_calls_async(1).await;
    after.assert_calls_async(1).await;
    for mock in lookups.iter().chain(&creates) {
        mock.assert_calls_async(1).await;
    }
    locations.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_unknown_manager_email_is_a_validation_error_without_the_address() {
    let server = MockServer::start_async().await;
    let requester = find_requesters(&server, "nobody@example.com", json!([])).await;
    let agent = find_agents(&server, "nobody@example.com", json!([])).await;
    let unexpected = catch_all(&server).await;

    let client = client(connector(&server));
    let user = User::builder("x@example.com").email("x@example.com").manager("nobody@example.com").build();
    let error = client.connector().create_user(client.http(), &user).await.unwrap_err();

    assert!(matches!(&error, Error::Validation(v) if v.fields[0].field == "manager"), "{error:?}");
    assert!(!error.to_string().contains("nobody"), "{error}");
    requester.assert_calls_async(1).await;
    agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn bad_input_is_rejected_before_anything_is_sent() {
    let server = MockServer::start_async().await;
    let unexpected = catch_all(&server).await;
    let client = client(connector(&server));

    let no_email = User::builder("jdoe").given_name("J").build();
    let error = client.provision(&no_email).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none() && v.fields[0].field == "emails"), "{error:?}");

    let agent_without_roles = User::builder("a@example.com")
        .email("a@example.com")
        .freshservice(FreshserviceAttributes::new(FreshserviceUserKind::Agent))
        .build();
    let error = client.provision(&agent_without_roles).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.fields[0].field == "roles"), "{error:?}");

    let error = client.find(&Lookup::ExternalId("E1001".into())).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");
    let error = client.find_by_user_name("jdoe").await.unwrap_err();
    assert!(matches!(&error, Error::Validation(_)), "{error:?}");
    for id in ["../888", "888/forget", "", "abc", "-1"] {
        let error = client.get(&UserId::new(id)).await.unwrap_err();
        assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{id}: {error:?}");
    }

    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn find_by_user_name_with_an_at_sign_searches_requesters_then_agents() {
    let server = MockServer::start_async().await;
    let email = "Agent.Smith@example.com";
    // The requester filter may return near matches; only the exact (case-insensitive) one counts.
    let requester =
        find_requesters(&server, email, json!([{"id": 1, "primary_email": "agent.smith2@example.com"}])).await;
    let agent =
        find_agents(&server, email, json!([{"id": 9, "email": "agent.smith@example.com", "active": true}])).await;
    let unexpected = catch_all(&server).await;

    let found = client(connector(&server)).find_by_user_name(email).await.unwrap().unwrap();

    assert_eq!(found.id, UserId::new("9"));
    assert_eq!(found.user.freshservice().cloned().unwrap().kind, Some(FreshserviceUserKind::Agent));
    requester.assert_calls_async(1).await;
    agent.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}
