//! Reconciliation (`identity_connectors::sync`) against both sandboxes and, where the exact
//! requests matter, httpmock: every plan entry kind, the scope, the brake by share, Freshservice
//! requesters and agents, and 20 % injected faults. Stale plans, the brake by count and re-runs
//! after a crash are in `sync_runs.rs`.

#[path = "support/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::Duration;

use httpmock::prelude::*;
use identity_connectors::prelude::*;
use identity_connectors::sandbox::{Fault, FaultKind, Faults, FreshserviceSandbox, ScimSandbox};
use identity_connectors::sync::{
    Action, Applied, ApplyOptions, Brake, ConflictReason, DeactivateReason, ManagedScope, Plan, UnchangedReason,
};
use identity_connectors::{
    AgentRole, Client, FreshserviceAttributes, FreshserviceUserKind, RetryPolicy, ScimBearer, User,
};
use serde_json::{Value, json};

fn scim_account(name: &str, external_id: Option<&str>, title: &str, active: bool) -> Value {
    let mut body = json!({
        "userName": name,
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"value": name, "type": "work", "primary": true}],
        "title": title,
        "active": active,
    });
    if let Some(id) = external_id {
        body["externalId"] = json!(id);
    }
    body
}

fn scim_person(name: &str, external_id: Option<&str>, title: &str) -> User {
    let mut builder = User::builder(name).given_name("Given").family_name("Family").email(name).title(title);
    if let Some(id) = external_id {
        builder = builder.external_id(id);
    }
    builder.build()
}

fn entry(plan: &Plan, index: usize) -> &Action {
    &plan.entries.iter().find(|e| e.index() == Some(index)).expect("an entry for every person").action
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

#[tokio::test]
async fn a_plan_has_every_entry_kind_and_the_brake_holds_until_allowed() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let add = |body: Value| id_of(&sandbox.insert_user(body).expect("stored"));
    let same = add(scim_account("same@corp.example", Some("E1"), "Dev", true));
    let differs = add(scim_account("differs@corp.example", Some("E2"), "Dev", true));
    let inactive = add(scim_account("inactive@corp.example", Some("E3"), "Dev", false));
    let leaver = add(scim_account("leaver@corp.example", Some("E4"), "Dev", true));
    add(scim_account("admin@corp.example", None, "Admin", true));
    let by_key = add(scim_account("two@corp.example", None, "Dev", true));
    let by_external_id = add(scim_account("other@corp.example", Some("E6"), "Dev", true));
    let shared = add(scim_account("shared@corp.example", Some("E8"), "Dev", true));
    let hr_inactive = add(scim_account("hr-inactive@corp.example", Some("E11"), "Dev", true));
    let reused = add(scim_account("reused@corp.example", Some("E12"), "Dev", true));
    let before = sandbox.users();

    let desired = vec![
        scim_person("same@corp.example", Some("E1"), "Dev"), // 0 unchanged
        scim_person("Differs@corp.example", Some("E2"), "Lead"), // 1 update (key case ignored)
        scim_person("inactive@corp.example", Some("E3"), "Dev"), // 2 reactivate
        scim_person("two@corp.example", Some("E6"), "Dev"),  // 3 two accounts
        scim_person("shared@corp.example", None, "Dev"),     // 4 account matches two people
        scim_person("shared.too@corp.example", Some("E8"), "Dev"), // 5 ... the other
        User::builder("").email("nameless@corp.example").build(), // 6 invalid
        scim_person("dup@corp.example", Some("E9"), "Dev"),  // 7 duplicate
        scim_person("DUP@corp.example", Some("E9b"), "Dev"), // 8 ... the other
        scim_person("new@corp.example", Some("E10"), "Dev"), // 9 create
        User::builder("hr-inactive@corp.example").external_id("E11").active(false).build(), // 10
        scim_person("reused@corp.example", Some("E99"), "Dev"), // 11 another HR id
        User::builder("gone@corp.example").external_id("E13").active(false).build(), // 12
    ];
    let client = Client::new(sandbox.scim_connector().unwrap()).unwrap();
    let sync = client.reconciler();
    let plan = sync.plan(desired.clone()).await.unwrap();

    assert!(matches!(entry(&plan, 0), Action::Unchanged { reason: UnchangedReason::UpToDate }));
    match entry(&plan, 1) {
        Action::Update { changes, attributes } => {
            assert_eq!(attributes, &["title"]);
            assert_eq!(changes.title.as_deref(), Some("Lead"));
            assert_eq!(changes.user_name, None, "a key differing only in case is not a change");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(entry(&plan, 2), Action::Reactivate { attributes, .. } if attributes.is_empty()));
    match entry(&plan, 3) {
        Action::Conflict { reason: ConflictReason::SeveralAccounts { accounts } } => {
            let mut ids: Vec<&str> = accounts.iter().map(|a| a.as_str()).collect();
            ids.sort();
            let mut expected = [by_key.as_str(), by_external_id.as_str()];
            expected.sort();
            assert_eq!(ids, expected);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        entry(&plan, 4),
        Action::Conflict { reason: ConflictReason::AccountMatchesSeveralPeople { other: 5 } }
    ));
    assert!(matches!(
        entry(&plan, 5),
        Action::Conflict { reason: ConflictReason::AccountMatchesSeveralPeople { other: 4 } }
    ));
    assert!(matches!(entry(&plan, 6), Action::Conflict { reason: ConflictReason::Invalid { .. } }));
    assert!(matches!(entry(&plan, 7), Action::Conflict { reason: ConflictReason::DuplicateInInput { other: 8 } }));
    assert!(matches!(entry(&plan, 8), Action::Conflict { reason: ConflictReason::DuplicateInInput { other: 7 } }));
    assert!(
        matches!(entry(&plan, 9), Action::Create { user } if user.user_name.as_deref() == Some("new@corp.example"))
    );
    assert!(matches!(entry(&plan, 10), Action::Deactivate { reason: DeactivateReason::InactiveInHr, .. }));
    assert!(matches!(entry(&plan, 11), Action::Conflict { reason: ConflictReason::ExternalIdMismatch }));
    assert!(matches!(entry(&plan, 12), Action::Unchanged { reason: UnchangedReason::InactiveNotInApp }));
    let leavers: Vec<_> = plan.entries.iter().filter(|e| e.index().is_none()).collect();
    assert_eq!(leavers.len(), 1, "only the managed leaver; the admin without externalId is not managed");
    assert_eq!(leavers[0].account(), Some(leaver.as_str()));
    assert!(matches!(leavers[0].action, Action::Deactivate { reason: DeactivateReason::NotInHr, .. }));

    let c = plan.counts;
    assert_eq!((c.people, c.accounts, c.unmanaged, c.inactive_not_in_hr), (13, 10, 1, 0));
    // Managed: active accounts with an externalId (E1, E2, E4, E6, E8, E11, E12).
    assert_eq!(c.managed, 7);
    assert_eq!((c.create, c.update, c.reactivate, c.deactivate, c.unchanged, c.conflict), (1, 1, 1, 2, 2, 7));
    assert_eq!(plan.entries.len(), 14, "every person has an entry, plus the leaver");

    // The table starts with the counts; the JSON carries every entry.
    let table = plan.to_string();
    assert!(table.starts_with("plan for "), "{table}");
    assert!(table.contains("  deactivate         2\n"), "{table}");
    assert!(table.contains("managed account not in HR"), "{table}");
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["counts"]["create"], 1);
    assert_eq!(json["entries"][1]["action"], "update");
    assert_eq!(json["entries"][1]["changes"]["title"], "Lead");
    assert_eq!(json["entries"][3]["reason"]["conflict"], "several_accounts");

    // Two deactivations of seven managed accounts (29 %) are over the default 20 %.
    let requests = sandbox.stats().requests;
    let refused = sync.apply(&plan, ApplyOptions::default(), |_| {}).await.expect_err("the brake holds");
    assert_eq!((refused.deactivations, refused.managed), (2, 7));
    assert!(refused.to_string().contains("deactivate 2 of 7 managed accounts"), "{refused}");
    assert_eq!(sandbox.stats().requests, requests, "nothing was sent");
    assert_eq!(sandbox.users(), before);
    // A brake that allows it, or an explicit allowance for this run.
    let loose = client.reconciler().brake(Brake::new(2, 0.3));
    let mut seen = Vec::new();
    let report = loose.apply(&plan, ApplyOptions::default(), |p| seen.push(p.done)).await.expect("within the brake");
    assert_eq!(seen, (1..=14).collect::<Vec<_>>(), "progress after every entry");
    assert_eq!(report.results.len(), 14);
    assert!(report.all_succeeded(), "{report}");
    let rc = report.counts;
    assert_eq!((rc.created, rc.updated, rc.reactivated, rc.deactivated, rc.needs_review), (1, 1, 1, 2, 7), "{report}");

    let user = |id: &str| sandbox.user(id).expect("still there");
    assert_eq!(user(&differs)["title"], "Lead");
    assert_eq!(user(&inactive)["active"], true);
    assert_eq!(user(&leaver)["active"], false);
    assert_eq!(user(&hr_inactive)["active"], false);
    for untouched in [&same, &by_key, &by_external_id, &shared, &reused] {
        let was = before.iter().find(|u| u["id"] == json!(untouched)).unwrap();
        assert_eq!(&user(untouched), was, "conflicts and unchanged accounts are not touched");
    }
    assert_eq!(sandbox.user_by_user_name("admin@corp.example").unwrap()["active"], true, "outside the scope");
    assert!(sandbox.user_by_user_name("new@corp.example").is_some());

    // Planning again: nothing left to change, the conflicts still there.
    let again = sync.plan(desired).await.unwrap();
    assert!(again.is_noop(), "{again}");
    assert_eq!(again.counts.conflict, 7);
}

#[tokio::test]
async fn a_scope_predicate_decides_which_accounts_are_deactivated() {
    let sandbox = ScimSandbox::start().await.unwrap();
    for name in ["a@corp.example", "b@corp.example", "svc@corp.example"] {
        sandbox.insert_user(scim_account(name, None, "Dev", true)).unwrap();
    }
    let client = Client::new(sandbox.scim_connector().unwrap()).unwrap();
    let owned = ManagedScope::predicate(|a| !a.user.user_name.as_deref().unwrap_or_default().starts_with("svc@"));
    let sync = client.reconciler().scope(owned).brake(Brake::new(10, 1.0));
    let plan = sync.plan(vec![scim_person("a@corp.example", None, "Dev")]).await.unwrap();
    assert_eq!((plan.counts.managed, plan.counts.unmanaged, plan.counts.deactivate), (2, 1, 1));
    let report = sync.apply(&plan, ApplyOptions::default(), |_| {}).await.unwrap();
    assert_eq!(report.counts.deactivated, 1);
    assert_eq!(sandbox.user_by_user_name("b@corp.example").unwrap()["active"], false);
    assert_eq!(sandbox.user_by_user_name("svc@corp.example").unwrap()["active"], true);
    // The default scope (externalId) owns none of them: nothing to deactivate.
    let plan = client.reconciler().plan(Vec::<User>::new()).await.unwrap();
    assert_eq!((plan.counts.managed, plan.counts.deactivate), (0, 0));
}

fn fs_person(email: &str, title: &str, kind: FreshserviceUserKind, role: u64) -> User {
    let attributes = match kind {
        FreshserviceUserKind::Agent => FreshserviceAttributes::agent(vec![AgentRole::new(role, "entire_helpdesk")]),
        _ => FreshserviceAttributes::new(FreshserviceUserKind::Requester),
    };
    User::builder(email)
        .given_name("Given")
        .family_name("Family")
        .email(email)
        .title(title)
        .department("Finance")
        .freshservice(attributes)
        .build()
}

fn corp(account: &identity_connectors::RemoteUser) -> bool {
    account.user.primary_email().is_some_and(|e| e.ends_with("@corp.example"))
}

#[tokio::test]
async fn freshservice_requesters_and_agents_reconcile_and_a_second_run_changes_nothing() {
    let sandbox = FreshserviceSandbox::builder().rate_limit(10_000, Duration::from_secs(60)).start().await.unwrap();
    let role = sandbox.role_id("SD Agent").unwrap();
    let client = Client::new(sandbox.connector().unwrap()).unwrap();
    let (requester, agent) = (FreshserviceUserKind::Requester, FreshserviceUserKind::Agent);
    let existing = [
        fs_person("stay.req@corp.example", "Dev", requester, role),
        fs_person("stay.agent@corp.example", "Support", agent, role),
        fs_person("move.agent@corp.example", "Support", agent, role),
        fs_person("leave.req@corp.example", "Dev", requester, role),
        fs_person("leave.agent@corp.example", "Support", agent, role),
        fs_person("owner@vendor.example", "Admin", agent, role),
    ];
    for person in &existing {
        client.provision(person).await.unwrap();
    }
    let desired = vec![
        fs_person("stay.req@corp.example", "Dev", requester, role),
        fs_person("stay.agent@corp.example", "Support", agent, role),
        fs_person("move.agent@corp.example", "Support lead", agent, role),
        fs_person("new.agent@corp.example", "Support", agent, role),
        fs_person("new.req@corp.example", "Dev", requester, role),
    ];
    let sync = client.reconciler().scope(ManagedScope::predicate(corp)).brake(Brake::new(10, 1.0));
    let requests = sandbox.stats().requests;
    let plan = sync.plan(desired.clone()).await.unwrap();
    assert!(sandbox.stats().requests - requests <= 3, "one listing page, plus the department list at most");
    let c = plan.counts;
    assert_eq!((c.accounts, c.managed, c.unmanaged), (6, 5, 1));
    assert_eq!((c.create, c.update, c.reactivate, c.deactivate, c.unchanged, c.conflict), (2, 1, 0, 2, 2, 0), "{plan}");
    match entry(&plan, 2) {
        Action::Update { attributes, .. } => assert_eq!(attributes, &["title"]),
        other => panic!("{other:?}"),
    }

    let report = sync.apply(&plan, ApplyOptions::default(), |_| {}).await.unwrap();
    assert!(report.all_succeeded(), "{report}");
    assert_eq!((report.counts.created, report.counts.updated, report.counts.deactivated), (2, 1, 2), "{report}");
    let stored = |email: &str| {
        let wrapped = sandbox.user_by_email(email).expect("stored");
        wrapped.get("agent").or_else(|| wrapped.get("requester")).cloned().unwrap()
    };
    assert_eq!(stored("leave.req@corp.example")["active"], false);
    assert_eq!(stored("leave.agent@corp.example")["active"], false);
    assert_eq!(stored("owner@vendor.example")["active"], true, "outside the scope");
    assert_eq!(stored("move.agent@corp.example")["job_title"], "Support lead");
    assert!(sandbox.user_by_email("new.agent@corp.example").unwrap().get("agent").is_some(), "created as an agent");

    let again = sync.plan(desired).await.unwrap();
    assert!(again.is_noop(), "{again}");
    assert_eq!(again.counts.unchanged, 5);
}

fn patient() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(12)
        .with_base_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(50))
}

fn twenty_percent(seed: u64) -> Faults {
    Faults::seeded(seed)
        .rate(0.2)
        .fault(Fault::Throttle { retry_after: Duration::ZERO })
        .fault(Fault::Unavailable)
        .fault(Fault::Drop)
        .fault(Fault::DropAfterCommit)
}

/// Plans and applies until a plan has nothing left to change (at most `rounds` times).
async fn converge(sync: &identity_connectors::sync::Reconciler<'_>, people: &[User], rounds: usize) -> usize {
    for round in 1..=rounds {
        let Ok(plan) = sync.plan(people.to_vec()).await else { continue };
        if plan.is_noop() {
            return round;
        }
        let _ = sync.apply(&plan, ApplyOptions::default().allow_over_brake(), |_| {}).await;
    }
    panic!("no convergence in {rounds} rounds");
}

#[tokio::test]
async fn twenty_percent_faults_lose_nothing_duplicate_nothing_and_deactivate_only_leavers_on_scim() {
    let sandbox = ScimSandbox::builder().enforce_unique_user_names(false).start().await.unwrap();
    // 60 existing: 0..40 stay (20..40 with a new title), 40..60 leave; 60..100 join.
    for i in 0..60 {
        sandbox
            .insert_user(scim_account(&format!("p{i:03}@corp.example"), Some(&format!("E{i:03}")), "Dev", true))
            .unwrap();
    }
    let people: Vec<User> = (0..100)
        .filter(|i| !(40..60).contains(i))
        .map(|i| {
            scim_person(
                &format!("p{i:03}@corp.example"),
                Some(&format!("E{i:03}")),
                if i < 20 { "Dev" } else { "Lead" },
            )
        })
        .collect();
    sandbox.set_faults(twenty_percent(13));
    let client = Client::builder(sandbox.scim_connector().unwrap()).retry_policy(patient()).build().unwrap();
    let sync = client.reconciler().page_size(25);
    converge(&sync, &people, 8).await;
    let stats = sandbox.stats();
    let injected: u64 = [FaultKind::Throttle, FaultKind::Unavailable, FaultKind::Drop, FaultKind::DropAfterCommit]
        .into_iter()
        .map(|kind| stats.faults_of(kind))
        .sum();
    assert!(injected * 10 >= stats.requests, "about a fifth of {} requests faulted, not {injected}", stats.requests);
    assert!(stats.faults_of(FaultKind::DropAfterCommit) > 0, "some applied requests lost their answer");
    sandbox.set_faults(Faults::none());

    let mut by_name: HashMap<String, Vec<Value>> = HashMap::new();
    for user in sandbox.users() {
        by_name.entry(user["userName"].as_str().unwrap().to_ascii_lowercase()).or_default().push(user);
    }
    assert_eq!(by_name.len(), 100, "no one lost");
    assert!(by_name.values().all(|u| u.len() == 1), "no one twice");
    for (name, users) in &by_name {
        let i: usize = name[1..4].parse().unwrap();
        let leaver = (40..60).contains(&i);
        assert_eq!(users[0]["active"], !leaver, "{name}: only leavers are inactive");
        if !leaver {
            assert_eq!(users[0]["title"], if i < 20 { "Dev" } else { "Lead" }, "{name}");
        }
    }
}

#[tokio::test]
async fn twenty_percent_faults_lose_nothing_duplicate_nothing_and_deactivate_only_leavers_on_freshservice() {
    let sandbox = FreshserviceSandbox::builder().rate_limit(100_000, Duration::from_secs(60)).start().await.unwrap();
    let role = sandbox.role_id("SD Agent").unwrap();
    let kind =
        |i: usize| if i.is_multiple_of(5) { FreshserviceUserKind::Agent } else { FreshserviceUserKind::Requester };
    let email = |i: usize| format!("p{i:03}@corp.example");
    let seed_client = Client::new(sandbox.connector().unwrap()).unwrap();
    for i in 0..30 {
        seed_client.provision(&fs_person(&email(i), "Dev", kind(i), role)).await.unwrap();
    }
    // 0..20 stay (10..20 with a new title), 20..30 leave, 30..50 join.
    let people: Vec<User> = (0..50)
        .filter(|i| !(20..30).contains(i))
        .map(|i| fs_person(&email(i), if i < 10 { "Dev" } else { "Lead" }, kind(i), role))
        .collect();
    sandbox.set_faults(twenty_percent(29));
    let client = Client::builder(sandbox.connector().unwrap()).retry_policy(patient()).build().unwrap();
    let sync = client.reconciler().scope(ManagedScope::predicate(corp)).page_size(10);
    converge(&sync, &people, 8).await;
    let stats = sandbox.stats();
    let injected: u64 = [FaultKind::Throttle, FaultKind::Unavailable, FaultKind::Drop, FaultKind::DropAfterCommit]
        .into_iter()
        .map(|kind| stats.faults_of(kind))
        .sum();
    assert!(injected * 10 >= stats.requests, "about a fifth of {} requests faulted, not {injected}", stats.requests);
    assert!(stats.faults_of(FaultKind::DropAfterCommit) > 0, "some applied requests lost their answer");
    sandbox.set_faults(Faults::none());

    let users = sandbox.users();
    assert_eq!(users.len(), 50, "no one lost, no one twice");
    for i in 0..50 {
        let wrapped = sandbox.user_by_email(&email(i)).unwrap_or_else(|| panic!("{i} lost"));
        let (shape, record) = wrapped.as_object().unwrap().iter().next().unwrap();
        let leaver = (20..30).contains(&i);
        assert_eq!(record["active"], !leaver, "{i}: only leavers are inactive");
        assert_eq!(shape == "agent", kind(i) == FreshserviceUserKind::Agent, "{i}");
        if !leaver {
            assert_eq!(record["job_title"], if i < 10 { "Dev" } else { "Lead" }, "{i}");
        }
    }
}

/// The exact requests: planning lists at the connector's largest page, once; applying a plan with
/// nothing to change sends nothing.
#[tokio::test]
async fn a_no_change_plan_reads_one_page_of_the_largest_size_and_applies_without_a_request() {
    let server = MockServer::start_async().await;
    let resources =
        vec![json!({"id": "1", "userName": "a@corp.example", "externalId": "E1", "active": true, "title": "Dev"})];
    let listing = server
        .mock_async(|when, then| {
            let when = common::mock::without_body(when.method(GET).path(common::mock::path("/Users")));
            common::mock::raw_query(when, "startIndex=1&count=1000");
            then.status(200)
                .header("content-type", "application/scim+json")
                .json_body(common::mock::list(1, 1, resources));
        })
        .await;
    let other = common::mock::catch_all(&server).await;
    let scim = ScimBearer::for_loopback(&server.url(common::mock::path("")), common::mock::TOKEN).unwrap();
    let client = Client::new(scim).unwrap();
    let sync = client.reconciler();
    let plan = sync.plan(vec![User::builder("A@corp.example").external_id("E1").title("Dev").build()]).await.unwrap();
    assert!(plan.is_noop(), "{plan}");
    assert_eq!(plan.counts.unchanged, 1);
    let report = sync.apply(&plan, ApplyOptions::default(), |_| {}).await.unwrap();
    assert_eq!(report.results[0].result.as_ref().copied().unwrap(), Applied::NoAction);
    listing.assert_calls_async(1).await;
    other.assert_calls_async(0).await;
}
