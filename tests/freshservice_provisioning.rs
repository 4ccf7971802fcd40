//! Provisioning through the Freshservice connector at the request level: the exact requests that
//! create a requester or an agent with every mapped field, link a duplicate, reactivate, convert,
//! or send nothing for an unchanged person, and how a department created meanwhile is found.
//! Fixtures follow the API v2 docs' shapes.

#[path = "support/common/mod.rs"]
mod common;

use std::time::Duration;

use common::freshservice::{
    catch_all, client, connector, directory, find_requesters, fixture, json_body, no_body, read, request, respond,
};
use httpmock::{Method, Mock, MockServer};
use identity_connectors::prelude::*;
use identity_connectors::{
    AgentRole, Client, FreshserviceAttributes, FreshserviceUserKind, Manager, ProvisionOutcome, RetryPolicy,
    UpdateOutcome, User, UserId,
};
use serde_json::{Value, json};

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

/// The department list read twice: the first read predates "Marketing" (id 555), later ones
/// have it.
async fn departments_then_marketing(server: &MockServer) -> (Mock<'_>, Mock<'_>) {
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
    (before, after)
}

#[tokio::test]
async fn a_department_created_after_the_list_was_read_is_found_by_reading_it_again() {
    let server = MockServer::start_async().await;
    let email = "new.hire@example.com";
    let find = find_requesters(&server, email, json!([])).await;
    // The first read predates "Marketing"; the second has it.
    let (before, after) = departments_then_marketing(&server).await;
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
    let (before, after) = departments_then_marketing(&server).await;
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
