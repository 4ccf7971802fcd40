//! Groups against the SCIM sandbox, for `ScimBearer` and `InteractBearer`: `grant`, `revoke` and
//! `set_memberships` change only the difference and a second run writes nothing; group reads
//! never download members; create and delete are explicit and idempotent. The joiner → mover →
//! leaver flow under faults is the shared one (`common/group_flow.rs`), run for every profile and
//! both connectors by `sandbox_profiles_lifecycle.rs`.

use std::time::Duration;

use futures_util::TryStreamExt;
use identity_connectors::interact::{InteractBuilderExt, InteractGroupAttributes};
use identity_connectors::sandbox::{Fault, FaultKind, Faults, ScimSandbox};
use identity_connectors::{
    Client, Error, GroupKind, GroupRef, InteractAttributes, LoginType, Method, NewGroup, RetryPolicy, User,
};
use serde_json::json;

fn person(i: usize) -> User {
    User::builder(format!("person{i}@example.com"))
        .external_id(format!("E{i}"))
        .given_name(format!("Person{i}"))
        .family_name("Example")
        .interact(InteractAttributes::new(LoginType::Saml))
        .build()
}

fn name(text: &str) -> GroupRef {
    GroupRef::name(text).unwrap()
}

fn retry() -> RetryPolicy {
    RetryPolicy::default().with_base_delay(Duration::from_millis(5)).with_max_delay(Duration::from_millis(50))
}

fn scim_client(sandbox: &ScimSandbox) -> Client {
    Client::builder(sandbox.scim_connector().unwrap()).retry_policy(retry()).build().unwrap()
}

fn interact_client(sandbox: &ScimSandbox) -> Client {
    Client::builder(sandbox.interact_connector().unwrap()).retry_policy(retry()).build().unwrap()
}

/// Stores a group and returns its id.
fn seed_group(sandbox: &ScimSandbox, display_name: &str) -> String {
    let group = sandbox.insert_group(json!({"displayName": display_name})).unwrap();
    group["id"].as_str().unwrap().to_string()
}

fn user_id(sandbox: &ScimSandbox, user: &User) -> String {
    let stored = sandbox.user_by_user_name(user.user_name.as_deref().unwrap()).unwrap();
    stored["id"].as_str().unwrap().to_string()
}

/// The writes (anything but `GET`) the sandbox has seen.
fn writes(sandbox: &ScimSandbox) -> usize {
    sandbox.requests().iter().filter(|r| r.method != "GET").count()
}

#[tokio::test]
async fn set_memberships_changes_the_difference_and_a_second_run_writes_nothing() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let (sales, ops, finance) =
        (seed_group(&sandbox, "Sales"), seed_group(&sandbox, "Ops"), seed_group(&sandbox, "Finance"));
    for client in [scim_client(&sandbox), interact_client(&sandbox)] {
        let jane = person(1);
        client.provision(&jane).await.unwrap();
        let id = user_id(&sandbox, &jane);

        let change = client.set_memberships(&jane, &[name("sales"), name("Ops")]).await.unwrap();
        let added: Vec<&str> = change.added.iter().map(|g| g.display_name.as_str()).collect();
        assert_eq!((added, change.removed.len()), (vec!["Sales", "Ops"], 0));
        assert_eq!(sandbox.group_members(&sales), Some(vec![id.clone()]));
        assert_eq!(sandbox.group_members(&ops), Some(vec![id.clone()]));

        let before = writes(&sandbox);
        assert!(client.set_memberships(&jane, &[name("Sales"), name("Ops")]).await.unwrap().is_unchanged());
        assert!(client.grant(&jane, &name("Sales")).await.unwrap().is_unchanged());
        assert!(client.revoke(&jane, &name("Finance")).await.unwrap().is_unchanged());
        assert_eq!(writes(&sandbox), before, "nothing to do, nothing written");

        let change = client.set_memberships(&jane, &[name("Finance")]).await.unwrap();
        assert_eq!(
            change.to_string(),
            format!("added: group \"Finance\" ({finance}); removed: group \"Sales\" ({sales}), group \"Ops\" ({ops})")
        );
        let memberships: Vec<String> =
            client.memberships(&jane).await.unwrap().into_iter().map(|g| g.display_name).collect();
        assert_eq!(memberships, ["Finance"]);
        // The user's read-only `groups` says the same.
        assert_eq!(sandbox.user(&id).unwrap()["groups"][0]["display"], json!("Finance"));
        client.set_memberships(&jane, &[]).await.unwrap();
        assert_eq!(sandbox.group_members(&finance), Some(vec![]));
        client.hard_delete(&identity_connectors::UserId::new(id)).await.unwrap();
    }
}

#[tokio::test]
async fn group_reads_never_download_members() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let client = scim_client(&sandbox);
    let jane = person(1);
    client.provision(&jane).await.unwrap();
    for i in 0..5 {
        seed_group(&sandbox, &format!("Team {i}"));
    }
    client.grant(&jane, &name("Team 3")).await.unwrap();
    let names: Vec<String> = client.list_groups(None, 2).map_ok(|g| g.display_name).try_collect().await.unwrap();
    assert_eq!(names, ["Team 0", "Team 1", "Team 2", "Team 3", "Team 4"]);
    assert_eq!(client.find_group(&name("team 3")).await.unwrap().display_name, "Team 3");
    let group_reads: Vec<String> = sandbox
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.contains("/Groups"))
        .map(|r| r.path)
        .collect();
    assert!(group_reads.len() >= 5, "{group_reads:?}");
    assert!(group_reads.iter().all(|p| p.ends_with("excludedAttributes=members")), "{group_reads:?}");
}

#[tokio::test]
async fn create_and_delete_are_explicit_and_idempotent() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let client = interact_client(&sandbox);
    let new = NewGroup::new("Sales").unwrap().with_external_id("hr-7").unwrap();
    let created = client.create_group(&new).await.unwrap();
    assert!(created.created);
    let again = client.create_group(&new).await.unwrap();
    assert_eq!((again.created, again.group.id.clone()), (false, created.group.id.clone()));
    assert_eq!(sandbox.group_count(), 1);
    assert_eq!(sandbox.groups()[0]["externalId"], json!("hr-7"));
    assert_eq!(sandbox.groups_named("SALES").len(), 1);

    // The sandbox declares no Interact group extension, and says so as a SCIM error.
    let extended =
        InteractGroupAttributes::new().text("description", "x").unwrap().apply_to(NewGroup::new("Ops").unwrap());
    let error = client.create_group(&extended.unwrap()).await.unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(sandbox.group_count(), 1);

    let deleted = client.delete_group(&name("sales")).await.unwrap();
    assert_eq!(deleted.map(|g| g.id), Some(created.group.id));
    assert_eq!(client.delete_group(&name("Sales")).await.unwrap(), None);
    assert_eq!(sandbox.group_count(), 0);
}

#[tokio::test]
async fn unknown_ambiguous_and_bad_groups_change_nothing() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let client = scim_client(&sandbox);
    let jane = person(1);
    client.provision(&jane).await.unwrap();
    seed_group(&sandbox, "Twins");
    seed_group(&sandbox, "Twins");
    let sales = seed_group(&sandbox, "Sales");
    let before = writes(&sandbox);
    let error = client.set_memberships(&jane, &[name("Sales"), name("Nobody")]).await.unwrap_err();
    assert!(matches!(&error, Error::Missing { resource: "group", .. }), "{error:?}");
    let error = client.grant(&jane, &name("Twins")).await.unwrap_err();
    assert!(matches!(error, Error::Ambiguous { matches: 2, .. }), "{error:?}");
    let error = client.grant(&jane, &GroupRef::id("no-such-id").unwrap()).await.unwrap_err();
    assert!(matches!(error, Error::Missing { .. }), "{error:?}");
    let error = client.grant(&person(2), &name("Sales")).await.unwrap_err();
    assert!(matches!(error, Error::Missing { resource: "user", .. }), "{error:?}");
    assert_eq!(writes(&sandbox), before);
    assert_eq!(sandbox.group_members(&sales), Some(vec![]));

    let requests = sandbox.requests().len();
    let error = client.grant(&jane, &name("Sales").of_kind(GroupKind::AgentGroup)).await.unwrap_err();
    assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{error:?}");
    assert!(GroupRef::name("Sales\r\n").is_err() && NewGroup::new(" ").is_err());
    assert_eq!(sandbox.requests().len(), requests, "bad input never reaches the wire");
}

#[tokio::test]
async fn a_lost_patch_answer_adds_the_member_once() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let sales = seed_group(&sandbox, "Sales");
    let client = scim_client(&sandbox);
    let jane = person(1);
    client.provision(&jane).await.unwrap();
    sandbox.set_faults(Faults::seeded(1).rate(1.0).fault(Fault::DropAfterCommit).only(&[Method::Patch]).at_most(1));
    let change = client.grant(&jane, &name("Sales")).await.unwrap();
    assert_eq!(change.added.len(), 1);
    assert_eq!(sandbox.group_members(&sales), Some(vec![user_id(&sandbox, &jane)]));
    assert_eq!(sandbox.stats().faults_of(FaultKind::DropAfterCommit), 1);
}

/// `grant_all` adds every person once, a second run writes nothing, and `revoke_all` takes them
/// out again; one unknown person fails alone with `Error::Missing`.
#[tokio::test]
async fn grant_all_and_revoke_all_change_each_person_once() {
    use futures_util::StreamExt;

    let sandbox = ScimSandbox::start().await.unwrap();
    let sales = seed_group(&sandbox, "Sales");
    let client = scim_client(&sandbox);
    let people: Vec<User> = (1..=3).map(person).collect();
    for user in &people {
        client.provision(user).await.unwrap();
    }
    let ids: Vec<String> = people.iter().map(|user| user_id(&sandbox, user)).collect();
    let ghost = person(9);

    let mut items: Vec<_> =
        client.grant_all(people.iter().cloned().chain([ghost.clone()]), &name("Sales")).collect().await;
    items.sort_by_key(|item| item.index);
    for item in &items[..3] {
        let change = item.result.as_ref().unwrap();
        let added: Vec<&str> = change.added.iter().map(|g| g.display_name.as_str()).collect();
        assert_eq!((added, change.removed.len()), (vec!["Sales"], 0), "person #{}", item.index);
    }
    assert!(matches!(items[3].result, Err(Error::Missing { .. })), "{:?}", items[3].result);
    let mut members = sandbox.group_members(&sales).unwrap();
    members.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(members, expected);

    let before = writes(&sandbox);
    let again: Vec<_> = client.grant_all(people.iter().cloned(), &name("Sales")).collect().await;
    assert!(again.iter().all(|item| item.result.as_ref().unwrap().is_unchanged()));
    assert_eq!(writes(&sandbox), before, "everyone is a member already: nothing written");

    let removed: Vec<_> = client.revoke_all(people.iter().cloned(), &name("Sales")).collect().await;
    for item in &removed {
        let change = item.result.as_ref().unwrap();
        let gone: Vec<&str> = change.removed.iter().map(|g| g.display_name.as_str()).collect();
        assert_eq!((change.added.len(), gone), (0, vec!["Sales"]), "person #{}", item.index);
    }
    assert_eq!(sandbox.group_members(&sales), Some(vec![]));
}
