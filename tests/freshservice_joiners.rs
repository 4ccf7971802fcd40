//! Requests per joiner in Freshservice: the exact requests `Client::provision` sends for a new and
//! an existing person under both provisioning policies (look up first: 2 requests for a new
//! person; create first: 1), and the same counts against the sandbox's request counter.

#[path = "support/common/mod.rs"]
mod common;

use common::freshservice::{catch_all, connector, find_agents, find_requesters, json_body, no_body, request, respond};
use httpmock::{Method, Mock, MockServer};
use identity_connectors::sandbox::FreshserviceSandbox;
use identity_connectors::{
    AgentRole, Client, FreshserviceAttributes, FreshserviceBuilderExt, FreshserviceProvisioning, FreshserviceUserExt,
    FreshserviceUserKind, ProvisionOutcome, User, UserId,
};
use serde_json::{Value, json};

const EMAIL: &str = "jane.doe@example.com";

fn client(server: &MockServer, provisioning: FreshserviceProvisioning) -> Client {
    common::freshservice::client(connector(server).with_provisioning(provisioning))
}

fn jane() -> User {
    User::builder(EMAIL).given_name("Jane").family_name("Doe").email(EMAIL).title("Analyst").build()
}

fn requester(id: u64, active: bool, title: &str) -> Value {
    json!({"id": id, "is_agent": false, "first_name": "Jane", "last_name": "Doe", "primary_email": EMAIL,
           "job_title": title, "active": active, "department_ids": [], "location_id": null, "custom_fields": {}})
}

async fn create<'a>(server: &'a MockServer, status: u16, answer: Value) -> Mock<'a> {
    server
        .mock_async(move |when, then| {
            json_body(
                request(when, Method::POST, "/requesters", &[]),
                json!({"first_name": "Jane", "last_name": "Doe", "primary_email": EMAIL, "job_title": "Analyst"}),
            );
            respond(then, status, answer);
        })
        .await
}

fn duplicate() -> Value {
    json!({"description": "Validation failed",
           "errors": [{"field": "primary_email", "message": "It should be a unique value", "code": "duplicate_value"}]})
}

#[tokio::test]
async fn a_new_person_costs_one_look_up_that_shows_agents_and_the_create() {
    let server = MockServer::start_async().await;
    let find = find_requesters(&server, EMAIL, json!([])).await;
    let created = create(&server, 201, json!({ "requester": requester(7, true, "Analyst") })).await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server, FreshserviceProvisioning::default()).provision(&jane()).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.user.id, UserId::new("7"));
    find.assert_calls_async(1).await;
    created.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await; // No `GET /agents?email=`.
}

#[tokio::test]
async fn create_first_sends_the_create_alone_for_a_new_person() {
    let server = MockServer::start_async().await;
    let created = create(&server, 201, json!({ "requester": requester(7, true, "Analyst") })).await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server, FreshserviceProvisioning::CreateFirst).provision(&jane()).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Analyst"));
    created.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn create_first_on_duplicate_value_looks_up_and_updates_what_differs() {
    let server = MockServer::start_async().await;
    let refused = create(&server, 409, duplicate()).await;
    let find = find_requesters(&server, EMAIL, json!([requester(7, true, "Intern")])).await;
    let update = server
        .mock_async(|when, then| {
            json_body(
                request(when, Method::PUT, "/requesters/7", &[]),
                json!({"job_title": "Analyst", "can_see_all_tickets_from_associated_departments": false}),
            );
            respond(then, 200, json!({ "requester": requester(7, true, "Analyst") }));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server, FreshserviceProvisioning::CreateFirst).provision(&jane()).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Updated);
    assert_eq!(provisioned.user.id, UserId::new("7"));
    assert_eq!(provisioned.user.user.title.as_deref(), Some("Analyst"));
    refused.assert_calls_async(1).await;
    find.assert_calls_async(1).await;
    update.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

#[tokio::test]
async fn create_first_reactivates_a_deactivated_person_it_collides_with() {
    let server = MockServer::start_async().await;
    // The flat form of the duplicate answer (400) is recognised too.
    let refused = create(&server, 400, duplicate()).await;
    let find = find_requesters(&server, EMAIL, json!([requester(7, false, "Analyst")])).await;
    // Reactivation reads the user first, to learn requester or agent.
    let read = server
        .mock_async(|when, then| {
            no_body(request(when, Method::GET, "/requesters/7", &[]));
            respond(then, 200, json!({ "requester": requester(7, false, "Analyst") }));
        })
        .await;
    let reactivate = server
        .mock_async(|when, then| {
            no_body(request(when, Method::PUT, "/requesters/7/reactivate", &[]));
            respond(then, 200, json!({ "requester": requester(7, true, "Analyst") }));
        })
        .await;
    let unexpected = catch_all(&server).await;

    let provisioned = client(&server, FreshserviceProvisioning::CreateFirst).provision(&jane()).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Reactivated);
    assert_eq!(provisioned.user.user.active, Some(true));
    refused.assert_calls_async(1).await;
    find.assert_calls_async(1).await;
    read.assert_calls_async(1).await;
    reactivate.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

/// A key whose `include_agents=true` look-ups do not show agents: the refused create leads to the
/// full look-up, which finds the agent through `/agents` and links them; from then on the
/// connector looks joiners up through both APIs.
#[tokio::test]
async fn an_agent_the_quick_look_up_misses_is_linked_and_later_joiners_get_the_full_look_up() {
    let server = MockServer::start_async().await;
    let quick = find_requesters(&server, EMAIL, json!([])).await;
    let agents = find_agents(
        &server,
        EMAIL,
        json!([{"id": 9, "email": EMAIL, "first_name": "Jane", "last_name": "Doe", "job_title": "Analyst",
                "active": true, "occasional": false, "roles": [{"role_id": 3, "assignment_scope": "entire_helpdesk"}],
                "department_ids": [], "location_id": null, "custom_fields": {}}]),
    )
    .await;
    let refused = create(&server, 409, duplicate()).await;
    let unexpected = catch_all(&server).await;

    let client = client(&server, FreshserviceProvisioning::default());
    let provisioned = client.provision(&jane()).await.unwrap();

    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    assert_eq!(provisioned.user.id, UserId::new("9"));
    assert_eq!(provisioned.user.user.freshservice().and_then(|f| f.kind), Some(FreshserviceUserKind::Agent));
    quick.assert_calls_async(2).await; // Before the create, and in the full look-up after it.
    agents.assert_calls_async(1).await;
    refused.assert_calls_async(1).await;

    // The next provisioning of the same address looks through both APIs before any create.
    let again = client.provision(&jane()).await.unwrap();
    assert_eq!(again.outcome, ProvisionOutcome::Linked);
    quick.assert_calls_async(3).await;
    agents.assert_calls_async(2).await;
    refused.assert_calls_async(1).await;
    unexpected.assert_calls_async(0).await;
}

/// The sandbox's request counter, per new person, under both policies (requesters and agents).
#[tokio::test]
async fn requests_per_joiner_against_the_sandbox_are_two_by_default_and_one_creating_first() {
    for (provisioning, per_joiner) in
        [(FreshserviceProvisioning::LookUpFirst, 2), (FreshserviceProvisioning::CreateFirst, 1)]
    {
        let sandbox = FreshserviceSandbox::builder().no_rate_limit().start().await.unwrap();
        let role = sandbox.role_id("SD Agent").unwrap();
        let connector = sandbox.connector().unwrap().with_provisioning(provisioning);
        let client = Client::new(connector).unwrap();
        let people: Vec<User> = (0..6)
            .map(|i| {
                let email = format!("joiner{i}@example.com");
                let fs = if i % 2 == 0 {
                    FreshserviceAttributes::new(FreshserviceUserKind::Requester)
                } else {
                    FreshserviceAttributes::agent(vec![AgentRole::new(role, "entire_helpdesk")])
                };
                User::builder(&email).given_name("Joiner").email(&email).freshservice(fs).build()
            })
            .collect();
        for person in &people {
            let provisioned = client.provision(person).await.unwrap();
            assert_eq!(provisioned.outcome, ProvisionOutcome::Created, "{provisioning:?}");
        }
        assert_eq!(sandbox.stats().requests, 6 * per_joiner, "{provisioning:?}");
        assert_eq!(sandbox.user_count(), 6);

        // Provisioning them again finds each (and changes nothing): no second user.
        for person in &people {
            let provisioned = client.provision(person).await.unwrap();
            assert_eq!(provisioned.outcome, ProvisionOutcome::Linked, "{provisioning:?}");
        }
        assert_eq!(sandbox.user_count(), 6);
    }
}
