//! Groups against the Freshservice sandbox: `grant`, `revoke` and `set_memberships` change only
//! the difference and a second run writes nothing; agents' groups and roles; and the shared
//! joiner → mover → leaver flow (`common/group_flow.rs`) under injected faults.

#[path = "support/common/mod.rs"]
mod common;

use std::time::Duration;

use identity_connectors::prelude::*;
use identity_connectors::sandbox::{Fault, Faults, FreshserviceSandbox};
use identity_connectors::{
    AgentRole, Client, Error, FreshserviceAttributes, GroupKind, GroupRef, Method, RetryPolicy, User,
};
use serde_json::{Value, json};

fn person(i: usize) -> User {
    let email = format!("person{i}@example.com");
    User::builder(&email).email(&email).given_name(format!("Person{i}")).external_id(format!("E{i}")).build()
}

fn name(text: &str) -> GroupRef {
    GroupRef::name(text).unwrap()
}

fn client(sandbox: &FreshserviceSandbox) -> Client {
    let retry =
        RetryPolicy::default().with_base_delay(Duration::from_millis(5)).with_max_delay(Duration::from_millis(50));
    Client::builder(sandbox.connector().unwrap()).retry_policy(retry).build().unwrap()
}

/// The writes (anything but `GET`) the sandbox has seen.
fn writes(sandbox: &FreshserviceSandbox) -> usize {
    sandbox.requests().iter().filter(|r| r.method != "GET").count()
}

fn id_of(sandbox: &FreshserviceSandbox, user: &User) -> u64 {
    let record = sandbox.user_by_email(user.primary_email().unwrap()).unwrap();
    let record = record.get("requester").or_else(|| record.get("agent")).unwrap();
    record["id"].as_u64().unwrap()
}

#[tokio::test]
async fn set_memberships_changes_the_difference_and_a_second_run_writes_nothing() {
    let sandbox = FreshserviceSandbox::builder().requester_group("Sales").no_rate_limit().start().await.unwrap();
    let client = client(&sandbox);
    let jane = person(1);
    client.provision(&jane).await.unwrap();
    let id = id_of(&sandbox, &jane);
    let (employees, contractors, sales) = (
        sandbox.requester_group_id("Employees").unwrap(),
        sandbox.requester_group_id("Contractors").unwrap(),
        sandbox.requester_group_id("Sales").unwrap(),
    );

    let change = client.set_memberships(&jane, &[name("Employees"), name("sales")]).await.unwrap();
    let added: Vec<&str> = change.added.iter().map(|g| g.display_name.as_str()).collect();
    assert_eq!((added, change.removed.len()), (vec!["Employees", "Sales"], 0));
    assert_eq!(
        (sandbox.requester_group_members(employees), sandbox.requester_group_members(sales)),
        (vec![id], vec![id])
    );

    let before = writes(&sandbox);
    let again = client.set_memberships(&jane, &[name("Sales"), name("Employees"), name("EMPLOYEES")]).await.unwrap();
    assert!(again.is_unchanged(), "{again}");
    assert_eq!(writes(&sandbox), before, "a second run sends no write");

    let moved = client.set_memberships(&jane, &[name("Contractors")]).await.unwrap();
    assert_eq!(moved.to_string().matches("requester group").count(), 3, "{moved}");
    assert_eq!(moved.added.len(), 1);
    assert_eq!(moved.removed.len(), 2);
    assert_eq!(sandbox.requester_group_members(contractors), vec![id]);
    assert!(sandbox.requester_group_members(employees).is_empty() && sandbox.requester_group_members(sales).is_empty());
    assert_eq!(client.memberships(&jane).await.unwrap(), moved.added);
}

#[tokio::test]
async fn grant_and_revoke_are_idempotent() {
    let sandbox = FreshserviceSandbox::builder().no_rate_limit().start().await.unwrap();
    let client = client(&sandbox);
    let jane = person(1);
    client.provision(&jane).await.unwrap();
    let employees = sandbox.requester_group_id("Employees").unwrap();

    assert_eq!(client.grant(&jane, &name("Employees")).await.unwrap().added.len(), 1);
    let before = writes(&sandbox);
    assert!(client.grant(&jane, &name("Employees")).await.unwrap().is_unchanged());
    assert_eq!(writes(&sandbox), before);
    assert_eq!(sandbox.requester_group_members(employees).len(), 1);

    assert_eq!(client.revoke(&jane, &name("Employees")).await.unwrap().removed.len(), 1);
    let before = writes(&sandbox);
    assert!(client.revoke(&jane, &name("Employees")).await.unwrap().is_unchanged());
    assert_eq!(writes(&sandbox), before);
    assert!(sandbox.requester_group_members(employees).is_empty());
}

#[tokio::test]
async fn typed_errors_change_nothing() {
    let sandbox = FreshserviceSandbox::builder()
        .requester_group("Sales")
        .requester_group("Sales")
        .no_rate_limit()
        .start()
        .await
        .unwrap();
    let client = client(&sandbox);
    let jane = person(1);
    client.provision(&jane).await.unwrap();
    let before = writes(&sandbox);
    let ambiguous = client.grant(&jane, &name("Sales")).await.unwrap_err();
    assert!(matches!(ambiguous, Error::Ambiguous { matches: 2, .. }), "{ambiguous:?}");
    let unknown = client.set_memberships(&jane, &[name("Employees"), name("Atlantis")]).await.unwrap_err();
    assert!(matches!(unknown, Error::Missing { resource: "requester group", .. }), "{unknown:?}");
    let nobody = client.grant(&person(2), &name("Employees")).await.unwrap_err();
    assert!(matches!(nobody, Error::Missing { resource: "user", .. }), "{nobody:?}");
    assert_eq!(writes(&sandbox), before, "nothing was written");
    assert!(sandbox.requester_group_members(sandbox.requester_group_id("Employees").unwrap()).is_empty());
}

#[tokio::test]
async fn an_agent_s_groups_observers_and_roles() {
    let sandbox = FreshserviceSandbox::builder().no_rate_limit().start().await.unwrap();
    let client = client(&sandbox);
    let sd_agent = sandbox.role_id("SD Agent").unwrap();
    let agent = User::builder("tech@example.com")
        .email("tech@example.com")
        .given_name("Tech")
        .freshservice(FreshserviceAttributes::agent(vec![AgentRole::new(sd_agent, "entire_helpdesk")]))
        .build();
    client.provision(&agent).await.unwrap();
    let (hardware, network) = (sandbox.agent_group_id("Hardware").unwrap(), sandbox.agent_group_id("Network").unwrap());
    let record = |sandbox: &FreshserviceSandbox| -> Value {
        sandbox.user_by_email("tech@example.com").unwrap()["agent"].clone()
    };

    assert_eq!(client.grant(&agent, &name("Hardware")).await.unwrap().added.len(), 1);
    assert_eq!(record(&sandbox)["member_of"], json!([hardware]));
    let observer = name("Network").of_kind(GroupKind::AgentGroupObserver);
    assert_eq!(client.grant(&agent, &observer).await.unwrap().added.len(), 1);
    assert_eq!(record(&sandbox)["observer_of"], json!([network]));

    // Moving to Network as a member leaves the observer role and the roles alone.
    let moved = client.set_memberships(&agent, &[name("Network")]).await.unwrap();
    assert_eq!(
        (moved.added[0].id.as_str(), moved.removed[0].id.as_str()),
        (network.to_string().as_str(), hardware.to_string().as_str())
    );
    assert_eq!(
        (record(&sandbox)["member_of"].clone(), record(&sandbox)["observer_of"].clone()),
        (json!([network]), json!([network]))
    );

    // Swapping roles through set_memberships adds before it removes, so the agent always has one.
    let admin = name("Admin").of_kind(GroupKind::AgentRole);
    let swapped = client.set_memberships(&agent, std::slice::from_ref(&admin)).await.unwrap();
    assert_eq!((swapped.added.len(), swapped.removed.len()), (1, 1));
    let roles = record(&sandbox)["roles"].clone();
    assert_eq!(roles, json!([{"role_id": sandbox.role_id("Admin").unwrap(), "assignment_scope": "entire_helpdesk"}]));
    assert!(client.set_memberships(&agent, &[admin]).await.unwrap().is_unchanged());
    // The flag Freshservice resets on a PUT that omits it was sent as read.
    assert_eq!(record(&sandbox)["can_see_all_tickets_from_associated_departments"], json!(false));
}

/// The shared group flow (`common/group_flow.rs`) against the Freshservice sandbox: joiners →
/// mover → leavers under injected faults, nothing lost or duplicated.
#[tokio::test]
async fn joiner_mover_leaver_under_faults_loses_and_duplicates_nothing() {
    let world = common::group_flow::FreshserviceWorld::start(12).await;
    common::group_flow::joiner_mover_leaver(&world).await;
}

#[tokio::test]
async fn a_lost_add_answer_is_confirmed_by_reading_not_sent_twice() {
    let sandbox = FreshserviceSandbox::builder().no_rate_limit().start().await.unwrap();
    let client = client(&sandbox);
    let jane = person(1);
    client.provision(&jane).await.unwrap();
    sandbox.set_faults(Faults::seeded(1).rate(1.0).fault(Fault::DropAfterCommit).only(&[Method::Post]).at_most(1));
    let change = client.grant(&jane, &name("Employees")).await.unwrap();
    assert_eq!(change.added.len(), 1);
    let posts = sandbox.requests().iter().filter(|r| r.method == "POST" && r.path.contains("/members/")).count();
    assert_eq!(posts, 1, "the add was applied once and confirmed by a read");
    assert_eq!(
        sandbox.requester_group_members(sandbox.requester_group_id("Employees").unwrap()),
        vec![id_of(&sandbox, &jane)]
    );
}
