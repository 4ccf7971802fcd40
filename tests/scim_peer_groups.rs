//! SCIM groups against a real SCIM server: python-scim's `scim2-server` 0.8.3 (see
//! `common/peer.rs` for how it is installed and started, and `IDENTITY_CONNECTORS_SKIP_PEER`).
//! Every group operation of `ScimBearer` (RFC schemas) and `InteractBearer` (Interact's schemas)
//! runs against it: create, find, list, grant, set, revoke, memberships, replace, delete.

#[path = "support/common/mod.rs"]
mod common;

use common::peer::{self, Schemas};
use futures_util::TryStreamExt as _;
use identity_connectors::interact::InteractBuilderExt;
use identity_connectors::{
    Client, Connector, DeprovisionPolicy, Error, GroupRef, InteractAttributes, InteractBearer, LoginType, NewGroup,
    RetryPolicy, ScimBearer, User,
};

fn person(i: usize) -> User {
    User::builder(format!("peer.person{i}@example.com"))
        .external_id(format!("P{i}"))
        .given_name(format!("Person{i}"))
        .family_name("Peer")
        .build()
}

fn name(text: &str) -> GroupRef {
    GroupRef::name(text).unwrap()
}

fn client(connector: impl Connector + 'static) -> Client {
    Client::builder(connector).retry_policy(RetryPolicy::none()).build().unwrap()
}

fn names(groups: &[identity_connectors::Group]) -> Vec<&str> {
    groups.iter().map(|g| g.display_name.as_str()).collect()
}

/// The whole group surface against one tenant of the peer.
async fn every_group_operation(client: &Client, people: &[User]) {
    for user in people {
        client.provision(user).await.expect("provision");
    }
    for group in ["Sales", "Ops", "Finance"] {
        let created = client.create_group(&NewGroup::new(group).unwrap()).await.expect("create");
        assert!(created.created, "{group}");
    }
    assert!(!client.create_group(&NewGroup::new("sales").unwrap()).await.expect("exists").created);
    // Paged two at a time, in the server's order.
    let mut listed: Vec<String> = client.list_groups(None, 2).map_ok(|g| g.display_name).try_collect().await.unwrap();
    listed.sort();
    assert_eq!(listed, ["Finance", "Ops", "Sales"]);
    let sales = client.find_group(&name("sales")).await.expect("find by name");
    assert_eq!(client.find_group(&GroupRef::id(sales.id.as_str()).unwrap()).await.unwrap(), sales);
    let missing = client.find_group(&name("Nobody")).await.unwrap_err();
    assert!(matches!(missing, Error::Missing { .. }), "{missing:?}");

    let (jane, john) = (&people[0], &people[1]);
    assert_eq!(client.grant(jane, &name("Sales")).await.unwrap().added.len(), 1);
    assert!(client.grant(jane, &name("Sales")).await.unwrap().is_unchanged());
    client.grant(john, &name("Sales")).await.unwrap();
    let change = client.set_memberships(jane, &[name("Ops"), name("Finance")]).await.unwrap();
    assert_eq!((names(&change.added), names(&change.removed)), (vec!["Ops", "Finance"], vec!["Sales"]));
    let mut now = client.memberships(jane).await.unwrap();
    now.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    assert_eq!(names(&now), ["Finance", "Ops"]);
    assert_eq!(names(&client.memberships(john).await.unwrap()), ["Sales"], "John kept his group");
    assert_eq!(names(&client.revoke(jane, &name("Ops")).await.unwrap().removed), ["Ops"]);
    assert!(client.revoke(jane, &name("Ops")).await.unwrap().is_unchanged());

    // The explicit whole-list replace: Sales now holds exactly Jane.
    client.replace_members(&name("Sales"), std::slice::from_ref(jane)).await.unwrap();
    assert!(client.memberships(john).await.unwrap().is_empty());
    assert_eq!(names(&client.memberships(jane).await.unwrap()).len(), 2);

    let gone = client.deprovision_with(jane, DeprovisionPolicy::revoke_memberships()).await.unwrap();
    assert_eq!(gone.revoked.len(), 2);
    assert!(client.memberships(jane).await.unwrap().is_empty());

    assert!(client.delete_group(&name("Finance")).await.unwrap().is_some());
    assert_eq!(client.delete_group(&name("Finance")).await.unwrap(), None);
    let error = client.grant(john, &name("Finance")).await.unwrap_err();
    assert!(matches!(error, Error::Missing { .. }), "{error:?}");
}

#[tokio::test]
async fn scim_bearer_groups_against_scim2_server() {
    let Some(peer) = peer::peer(Schemas::Rfc, "scim_bearer_groups") else { return };
    let base_url = peer.tenant_url("groups-scim");
    let client = client(ScimBearer::for_loopback(&base_url, peer::TOKEN).unwrap());
    every_group_operation(&client, &[person(1), person(2)]).await;
}

#[tokio::test]
async fn interact_bearer_groups_against_scim2_server() {
    let Some(peer) = peer::peer(Schemas::Interact, "interact_bearer_groups") else { return };
    let base_url = peer.tenant_url("groups-interact");
    let client = client(InteractBearer::for_loopback(&base_url, peer::TOKEN).unwrap());
    let people: Vec<User> = (1..=2)
        .map(|i| {
            User::builder(format!("peer.person{i}@example.com"))
                .external_id(format!("P{i}"))
                .given_name(format!("Person{i}"))
                .family_name("Peer")
                .interact(InteractAttributes::new(LoginType::Saml))
                .build()
        })
        .collect();
    every_group_operation(&client, &people).await;
}
