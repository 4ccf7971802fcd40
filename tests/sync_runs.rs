//! Applying reconciliation plans (`identity_connectors::sync`) when things go wrong: the brake by
//! count and by explicit allowance, a plan gone stale because the app changed underneath it (on
//! both sandboxes, with what the re-verification costs), a run cut short by a crash, and what a
//! plan's creates cost on servers where a look-up would read every page.

use std::time::Duration;

use identity_connectors::prelude::*;
use identity_connectors::sandbox::{FreshserviceSandbox, RequestRecord, ScimProfile, ScimSandbox};
use identity_connectors::sync::{Action, Applied, ApplyOptions, Brake, ManagedScope, Plan, SkipReason};
use identity_connectors::{
    Client, FreshserviceAttributes, FreshserviceUserKind, ProvisionOutcome, RemoteUser, User, UserId,
};
use serde_json::{Value, json};

fn scim_account(name: &str, external_id: &str, title: &str) -> Value {
    json!({
        "userName": name,
        "externalId": external_id,
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"value": name, "type": "work", "primary": true}],
        "title": title,
        "active": true,
    })
}

fn scim_person(name: &str, external_id: &str, title: &str) -> User {
    User::builder(name)
        .external_id(external_id)
        .given_name("Given")
        .family_name("Family")
        .email(name)
        .title(title)
        .build()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().expect("an id").to_string()
}

/// The result of the entry about `account`.
fn outcome(plan: &Plan, report: &identity_connectors::sync::ApplyReport, account: &str) -> Applied {
    let position = plan.entries.iter().position(|e| e.account() == Some(account)).expect("an entry about the account");
    *report.results[position].result.as_ref().expect("no failure")
}

/// The requests the sandbox received after the first `from`, as `METHOD path`.
fn since(records: Vec<RequestRecord>, from: usize) -> Vec<String> {
    records.into_iter().skip(from).map(|r| format!("{} {}", r.method, r.path)).collect()
}

#[tokio::test]
async fn the_brake_holds_by_count_names_both_numbers_and_yields_only_to_an_explicit_allowance() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let ids: Vec<String> = (0..10)
        .map(|i| {
            id_of(&sandbox.insert_user(scim_account(&format!("p{i}@corp.example"), &format!("E{i}"), "Dev")).unwrap())
        })
        .collect();
    let client = Client::new(sandbox.scim_connector().unwrap()).unwrap();
    // Three leavers of ten managed accounts: 30 % is under the share (50 %), over the count (2).
    let sync = client.reconciler().brake(Brake::new(2, 0.5));
    let people: Vec<User> =
        (0..7).map(|i| scim_person(&format!("p{i}@corp.example"), &format!("E{i}"), "Dev")).collect();
    let plan = sync.plan(people.clone()).await.unwrap();
    assert_eq!((plan.counts.deactivate, plan.counts.managed, plan.counts.unchanged), (3, 10, 7));

    let requests = sandbox.stats().requests;
    let refused = sync.apply(&plan, ApplyOptions::default(), |_| panic!("no entry runs")).await.expect_err("over 2");
    assert_eq!((refused.deactivations, refused.managed, refused.max_count), (3, 10, 2));
    assert_eq!(
        refused.to_string(),
        "The plan would deactivate 3 of 10 managed accounts (30.0 %), more than the brake allows (2 accounts or 50.0 %); nothing was sent: review the plan, then allow it for this run"
    );
    assert_eq!(sandbox.stats().requests, requests, "nothing was sent");
    assert!(sandbox.users().iter().all(|u| u["active"] == true));

    // Allowed for this run only: the same reconciler still refuses the next such plan.
    let report = sync.apply(&plan, ApplyOptions::default().allow_over_brake(), |_| {}).await.unwrap();
    assert_eq!(report.counts.deactivated, 3, "{report}");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(sandbox.user(id).unwrap()["active"], i < 7, "p{i}");
    }
    let fewer = sync.plan(people[..4].to_vec()).await.unwrap();
    assert_eq!((fewer.counts.deactivate, fewer.counts.managed), (3, 7));
    assert!(sync.apply(&fewer, ApplyOptions::default(), |_| {}).await.is_err(), "the allowance was for one run");
}

#[tokio::test]
async fn a_stale_plan_deactivates_no_one_who_came_back_and_checks_each_account_with_one_read() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let add = |name: &str, external_id: &str| {
        id_of(&sandbox.insert_user(scim_account(&format!("{name}@corp.example"), external_id, "Dev")).unwrap())
    };
    let (leaver, returner, quiet, mover) =
        (add("leaver", "E1"), add("returner", "E2"), add("quiet", "E3"), add("mover", "E4"));
    let client = Client::new(sandbox.scim_connector().unwrap()).unwrap();
    let sync = client.reconciler().brake(Brake::new(10, 1.0));
    let desired =
        vec![scim_person("mover@corp.example", "E4", "Lead"), scim_person("joiner@corp.example", "E5", "Dev")];
    let plan = sync.plan(desired).await.unwrap();
    assert_eq!((plan.counts.deactivate, plan.counts.update, plan.counts.create), (3, 1, 1));

    // Underneath the plan: the leaver is rehired with a new title; the returner left and came
    // back (deactivated, then reactivated: the same attributes, a new version); the mover's
    // account is deleted; someone else creates the joiner.
    let mut rehired = User::default();
    rehired.title = Some("Rehired".into());
    client.update(&UserId::new(leaver.clone()), &rehired).await.unwrap();
    client.deactivate(&UserId::new(returner.clone())).await.unwrap();
    client.reactivate(&UserId::new(returner.clone())).await.unwrap();
    client.hard_delete(&UserId::new(mover.clone())).await.unwrap();
    client.provision(&scim_person("joiner@corp.example", "E5", "Dev")).await.unwrap();

    let from = sandbox.requests().len();
    let report = sync.apply(&plan, ApplyOptions::default(), |_| {}).await.unwrap();
    assert_eq!(outcome(&plan, &report, &leaver), Applied::Skipped(SkipReason::ChangedSincePlan));
    assert_eq!(outcome(&plan, &report, &returner), Applied::Skipped(SkipReason::ChangedSincePlan));
    assert_eq!(outcome(&plan, &report, &quiet), Applied::Deactivated);
    assert_eq!(outcome(&plan, &report, &mover), Applied::Skipped(SkipReason::AccountGone));
    let create = plan.entries.iter().position(|e| matches!(e.action, Action::Create { .. })).unwrap();
    assert_eq!(*report.results[create].result.as_ref().unwrap(), Applied::Provisioned(ProvisionOutcome::Linked));
    for id in [&leaver, &returner] {
        assert_eq!(sandbox.user(id).unwrap()["active"], true, "back since the plan: not deactivated");
    }
    assert_eq!(sandbox.user(&quiet).unwrap()["active"], false);
    assert_eq!(sandbox.user_count(), 4, "the joiner exists once");

    // Re-verifying costs one read per entry: the deactivation it confirms adds its PATCH, the
    // create its look-up (which found the joiner), and nothing else is sent.
    let mut sent = since(sandbox.requests(), from);
    sent.sort();
    let prefix = url::Url::parse(sandbox.base_url()).unwrap().path().trim_end_matches('/').to_string();
    let mut expected: Vec<String> =
        [("GET", &leaver), ("GET", &returner), ("GET", &quiet), ("PATCH", &quiet), ("GET", &mover)]
            .into_iter()
            .map(|(method, id)| format!("{method} {prefix}/Users/{id}"))
            .collect();
    expected.sort();
    let lookups: Vec<&String> = sent.iter().filter(|r| r.contains("filter=")).collect();
    assert_eq!(lookups.len(), 1, "{sent:?}");
    assert!(lookups[0].starts_with(&format!("GET {prefix}/Users?")), "{sent:?}");
    sent.retain(|r| !r.contains("filter="));
    assert_eq!(sent, expected);
}

fn fs_person(email: &str, title: &str, kind: FreshserviceUserKind, role: u64) -> User {
    let attributes = match kind {
        FreshserviceUserKind::Agent => {
            FreshserviceAttributes::agent(vec![identity_connectors::AgentRole::new(role, "entire_helpdesk")])
        }
        _ => FreshserviceAttributes::new(FreshserviceUserKind::Requester),
    };
    User::builder(email)
        .given_name("Given")
        .family_name("Family")
        .email(email)
        .title(title)
        .freshservice(attributes)
        .build()
}

fn corp(account: &RemoteUser) -> bool {
    account.user.primary_email().is_some_and(|e| e.ends_with("@corp.example"))
}

#[tokio::test]
async fn a_stale_freshservice_plan_deactivates_no_agent_or_requester_who_came_back() {
    let sandbox = FreshserviceSandbox::builder().rate_limit(10_000, Duration::from_secs(60)).start().await.unwrap();
    let role = sandbox.role_id("SD Agent").unwrap();
    let client = Client::new(sandbox.connector().unwrap()).unwrap();
    let (requester, agent) = (FreshserviceUserKind::Requester, FreshserviceUserKind::Agent);
    let mut ids = Vec::new();
    for (email, kind) in [
        ("back.agent@corp.example", agent),
        ("back.req@corp.example", requester),
        ("gone.agent@corp.example", agent),
        ("gone.req@corp.example", requester),
    ] {
        ids.push(client.provision(&fs_person(email, "Dev", kind, role)).await.unwrap().user.id);
    }
    let sync = client.reconciler().scope(ManagedScope::predicate(corp)).brake(Brake::new(10, 1.0));
    let plan = sync.plan(Vec::<User>::new()).await.unwrap();
    assert_eq!((plan.counts.managed, plan.counts.deactivate), (4, 4));

    // The first two come back before the plan is applied: their records change.
    let mut rehired = User::default();
    rehired.title = Some("Rehired".into());
    for id in &ids[..2] {
        client.update(id, &rehired).await.unwrap();
    }
    let report = sync.apply(&plan, ApplyOptions::default(), |_| {}).await.unwrap();
    let kinds = |email: &str| {
        let wrapped = sandbox.user_by_email(email).expect("stored");
        let (shape, record) = wrapped.as_object().unwrap().iter().next().map(|(k, v)| (k.clone(), v.clone())).unwrap();
        (shape, record["active"].clone())
    };
    for (position, id) in ids.iter().enumerate() {
        let expected = if position < 2 { Applied::Skipped(SkipReason::ChangedSincePlan) } else { Applied::Deactivated };
        assert_eq!(outcome(&plan, &report, id.as_str()), expected, "account {position}");
    }
    assert_eq!(kinds("back.agent@corp.example"), ("agent".to_string(), json!(true)));
    assert_eq!(kinds("back.req@corp.example"), ("requester".to_string(), json!(true)));
    assert_eq!(kinds("gone.agent@corp.example").1, json!(false));
    assert_eq!(kinds("gone.req@corp.example").1, json!(false));
}

#[tokio::test]
async fn planning_again_after_a_crash_yields_exactly_the_remainder_of_every_kind() {
    let sandbox = ScimSandbox::start().await.unwrap();
    let name = |i: usize| format!("p{i:02}@corp.example");
    let external_id = |i: usize| format!("E{i:02}");
    // People 0..30: i % 3 == 0 unchanged, 1 a new title, 2 a joiner; accounts 30..40 are leavers.
    for i in (0..40).filter(|i| i % 3 != 2 || *i >= 30) {
        sandbox.insert_user(scim_account(&name(i), &external_id(i), "Dev")).unwrap();
    }
    let people: Vec<User> =
        (0..30).map(|i| scim_person(&name(i), &external_id(i), if i % 3 == 1 { "Lead" } else { "Dev" })).collect();
    let client = Client::builder(sandbox.scim_connector().unwrap()).max_in_flight(2).build().unwrap();
    let sync = client.reconciler().brake(Brake::new(100, 1.0));
    let plan = sync.plan(people.clone()).await.unwrap();
    let c = plan.counts;
    assert_eq!((c.unchanged, c.update, c.create, c.deactivate), (10, 10, 10, 10));

    // The process "crashes" (the apply future is dropped) after 20 of the 40 entries.
    let (crash, crashed) = tokio::sync::oneshot::channel::<()>();
    let mut crash = Some(crash);
    let apply = sync.apply(&plan, ApplyOptions::default(), |p| {
        if p.done == 20 {
            crash.take().map(|c| c.send(()));
        }
    });
    tokio::select! {
        _ = apply => panic!("the run should have been cut short"),
        _ = crashed => {}
    }

    // The requests in flight when the run was dropped still land: wait until the sandbox has
    // answered every request it read and read no new one for a while. Then what the app holds
    // decides what is left.
    let mut last = u64::MAX;
    for _ in 0..100 {
        let stats = sandbox.stats();
        if stats.requests == last && stats.requests == stats.responses_by_status.values().sum::<u64>() {
            break;
        }
        last = stats.requests;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let account = |i: usize| sandbox.user_by_user_name(&name(i));
    let updates_left = (0..30).filter(|i| i % 3 == 1 && account(*i).unwrap()["title"] == "Dev").count();
    let creates_left = (0..30).filter(|i| i % 3 == 2 && account(*i).is_none()).count();
    let deactivations_left = (30..40).filter(|i| account(*i).unwrap()["active"] == true).count();
    let remainder = sync.plan(people.clone()).await.unwrap();
    let r = remainder.counts;
    assert_eq!((r.update, r.create, r.deactivate), (updates_left, creates_left, deactivations_left), "{remainder}");
    assert_eq!(r.unchanged, 30 - updates_left - creates_left, "what was applied is now unchanged");
    assert!(remainder.changes().count() < plan.changes().count(), "the crash came after some changes");
    assert!(remainder.changes().count() > 0, "and before the last");

    let report = sync.apply(&remainder, ApplyOptions::default(), |_| {}).await.unwrap();
    assert!(report.all_succeeded(), "{report}");
    assert_eq!(sandbox.user_count(), 40, "no one twice, no one lost");
    for i in 0..40 {
        let user = account(i).unwrap();
        assert_eq!(user["active"], i < 30, "{i}");
        assert_eq!(user["title"], if i % 3 == 1 && i < 30 { "Lead" } else { "Dev" }, "{i}");
    }
    assert!(sync.plan(people).await.unwrap().is_noop());
}

#[tokio::test]
async fn creates_from_a_plan_read_no_page_again_where_a_look_up_would_read_them_all() {
    // 250 accounts: a full look-up reads three pages of 100. The plan listed them all already.
    for profile in [ScimProfile::NoFilter, ScimProfile::CaseSensitiveUserName] {
        let sandbox = ScimSandbox::builder().profile(profile).start().await.unwrap();
        let people: Vec<(String, String)> = (0..250).map(|i| (format!("p{i}@corp.example"), format!("E{i}"))).collect();
        for (name, external_id) in &people {
            sandbox.insert_user(scim_account(name, external_id, "Dev")).unwrap();
        }
        let client = Client::new(sandbox.scim_connector().unwrap()).unwrap();
        // Fetched before counting: discovery is not what this test measures.
        client.refresh_discovery().await;
        let sync = client.reconciler().brake(Brake::new(10, 1.0));
        let mut desired: Vec<User> = people.iter().map(|(name, id)| scim_person(name, id, "Dev")).collect();
        // Upper case: on a case-sensitive server a full look-up also asks again in lower case.
        desired.extend((0..3).map(|i| scim_person(&format!("Joiner{i}@corp.example"), &format!("J{i}"), "Dev")));
        let plan = sync.plan(desired).await.unwrap();
        assert_eq!((plan.counts.create, plan.counts.update, plan.counts.deactivate), (3, 0, 0), "{profile}");

        let from = sandbox.requests().len();
        let report = sync.apply(&plan, ApplyOptions::default(), |_| {}).await.unwrap();
        assert_eq!(report.counts.created, 3, "{profile}");
        let sent = since(sandbox.requests(), from);
        let prefix = url::Url::parse(sandbox.base_url()).unwrap().path().trim_end_matches('/').to_string();
        let posts = sent.iter().filter(|r| **r == format!("POST {prefix}/Users")).count();
        let reads: Vec<&String> = sent.iter().filter(|r| r.starts_with("GET ")).collect();
        assert_eq!(posts, 3, "{profile}: {sent:?}");
        match profile {
            // Nothing to filter with: the creates go out (a conflict would bring the full look-up).
            ScimProfile::NoFilter => assert!(reads.is_empty(), "{profile}: {sent:?}"),
            // One filter per joiner, no lower-case retry, no page.
            _ => {
                assert_eq!(reads.len(), 3, "{profile}: {sent:?}");
                assert!(reads.iter().all(|r| r.starts_with(&format!("GET {prefix}/Users?filter="))), "{sent:?}");
            }
        }
        assert_eq!(sent.len(), 3 + reads.len(), "{profile}: {sent:?}");
        assert_eq!(sandbox.user_count(), 253, "{profile}");
    }
}
