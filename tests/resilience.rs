//! Resilience against the sandbox with fault injection: bulk provisioning loses nothing and
//! duplicates nothing, and rate-limit pacing keeps within the server's budget.

#[path = "support/trace_capture.rs"]
mod trace_capture;

use std::collections::HashSet;
use std::time::Duration;

use futures_util::StreamExt as _;
use identity_connectors::prelude::*;
use identity_connectors::sandbox::{Fault, FaultKind, Faults, FreshserviceSandbox, ScimSandbox};
use identity_connectors::{
    BulkSummary, Client, InteractAttributes, LoginType, Method, ProvisionOutcome, ProvisionPolicy, RetryPolicy, User,
};
use serde_json::json;

/// Retries generous enough that a 20% fault rate cannot exhaust them by chance (0.2^12 per chain),
/// with short waits so the run stays fast.
fn patient() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(12)
        .with_base_delay(Duration::from_millis(2))
        .with_max_delay(Duration::from_millis(100))
}

fn person(i: usize) -> User {
    User::builder(format!("person{i:04}@example.com"))
        .external_id(format!("E{i:04}"))
        .given_name("Test")
        .family_name(format!("Person {i}"))
        .email(format!("person{i:04}@example.com"))
        .department("Finance")
        .interact(InteractAttributes::new(LoginType::Saml).location("London"))
        .build()
}

fn assert_clean(logs: &str, secret: &str) {
    assert!(logs.contains("http_attempt"), "nothing was captured");
    assert!(!logs.contains(secret), "the credential leaked into traces");
    assert!(!logs.contains("@example.com") && !logs.contains("%40example.com"), "an e-mail address leaked into traces");
}

#[tokio::test]
async fn a_thousand_people_through_twenty_percent_faults_land_exactly_once() {
    let captured = trace_capture::capture();
    let faults = Faults::seeded(2026)
        .rate(0.2)
        .fault(Fault::Throttle { retry_after: Duration::ZERO })
        .fault(Fault::Unavailable)
        .fault(Fault::Drop)
        .fault(Fault::Delay(Duration::from_millis(20)))
        // Longer than the client's timeout: the request times out, its outcome unknown.
        .fault(Fault::Delay(Duration::from_millis(400)))
        .fault(Fault::DropAfterCommit);
    let sandbox = ScimSandbox::builder().faults(faults).start().await.unwrap();
    let client = Client::builder(sandbox.interact_connector().unwrap())
        .retry_policy(patient())
        .timeout(Duration::from_millis(250))
        .build()
        .unwrap();

    let mut summary = BulkSummary::default();
    let mut results = std::pin::pin!(client.provision_all((0..1000).map(person)));
    while let Some(item) = results.next().await {
        if let Err(error) = &item.result {
            panic!("person {} failed: {error}", item.index);
        }
        summary.record_provisioned(&item);
    }

    assert_eq!(summary.total, 1000);
    assert!(summary.all_succeeded(), "{summary}");
    // Everyone was new, so everyone counts as created: a create whose response was lost
    // (DropAfterCommit, or a timeout) is found again and counted as created, confirmed by look-up.
    assert_eq!((summary.created, summary.linked, summary.updated, summary.reactivated), (1000, 0, 0, 0), "{summary}");
    assert!(summary.created_confirmed > 0, "no lost create was confirmed: {summary}");
    assert_eq!(sandbox.user_count(), 1000);
    let names: HashSet<String> =
        sandbox.users().iter().map(|u| u["userName"].as_str().unwrap_or_default().to_ascii_lowercase()).collect();
    assert_eq!(names.len(), 1000, "a user name is stored twice");
    for i in [0, 1, 499, 999] {
        assert!(sandbox.user_by_user_name(&format!("person{i:04}@example.com")).is_some());
    }
    let stats = sandbox.stats();
    for kind in
        [FaultKind::Throttle, FaultKind::Unavailable, FaultKind::Drop, FaultKind::Delay, FaultKind::DropAfterCommit]
    {
        assert!(stats.faults_of(kind) > 0, "no {kind:?} fault was injected: {stats:?}");
    }
    let injected: u64 = stats.faults.values().sum();
    let share = injected as f64 / stats.requests as f64;
    assert!((0.15..0.25).contains(&share), "fault share {share} over {} requests", stats.requests);
    assert_clean(&captured.text(), sandbox.token());
}

#[tokio::test]
async fn freshservice_bulk_run_keeps_within_a_small_budget() {
    let captured = trace_capture::capture();
    const BUDGET: u32 = 120;
    const WINDOW: Duration = Duration::from_secs(2);
    const IN_FLIGHT: usize = 4;
    let sandbox = FreshserviceSandbox::builder().rate_limit(BUDGET, WINDOW).start().await.unwrap();
    let client = Client::builder(sandbox.connector().unwrap())
        .max_in_flight(IN_FLIGHT)
        .rate_limit_window(WINDOW)
        .retry_policy(patient().with_max_delay(Duration::from_secs(5)))
        .build()
        .unwrap();

    let people: Vec<User> = (0..150).map(person).collect();
    let items: Vec<_> = client.provision_all(people.clone()).collect().await;
    assert_eq!(items.len(), 150);
    for item in &items {
        match &item.result {
            Ok(provisioned) => assert_eq!(provisioned.outcome, ProvisionOutcome::Created, "person {}", item.index),
            Err(error) => panic!("person {} failed: {error}", item.index),
        }
    }
    assert_eq!(sandbox.user_count(), 150);
    assert!(sandbox.user_by_email("person0149@example.com").is_some());

    let stats = sandbox.stats();
    // Far more requests than one window allows (two per new person: the look-up and the create)...
    assert!(stats.requests >= 2 * 150, "{stats:?}");
    assert!(stats.requests > 2 * u64::from(BUDGET), "{stats:?}");
    // ...yet few were refused: at most one burst of in-flight requests before the client learnt
    // when the window resets, then none.
    assert!(stats.rate_limited <= 2 * IN_FLIGHT as u64, "{} requests were rate limited", stats.rate_limited);
    // The client never sent more in one window than the budget plus what was already in flight.
    assert!(
        stats.max_received_in_window <= u64::from(BUDGET) + IN_FLIGHT as u64,
        "received {} in one window (budget {BUDGET})",
        stats.max_received_in_window
    );
    assert!(client.rate_limit().is_some_and(|r| r.total == Some(u64::from(BUDGET))));
    assert_clean(&captured.text(), sandbox.api_key());
}

#[tokio::test]
async fn creates_whose_answers_are_lost_are_counted_as_created_confirmed_by_look_up() {
    // Every create is applied, then its connection closed without an answer.
    let lost = Faults::seeded(9).rate(1.0).fault(Fault::DropAfterCommit).only(&[Method::Post]);
    let sandbox = ScimSandbox::builder().faults(lost).start().await.unwrap();
    let client = Client::builder(sandbox.interact_connector().unwrap()).retry_policy(patient()).build().unwrap();

    let mut summary = BulkSummary::default();
    let mut results = std::pin::pin!(client.provision_all((0..10).map(person)));
    while let Some(item) = results.next().await {
        let outcome = item.result.as_ref().map(|p| p.outcome);
        assert!(matches!(outcome, Ok(ProvisionOutcome::CreatedConfirmed)), "person {}: {outcome:?}", item.index);
        summary.record_provisioned(&item);
    }
    assert_eq!(
        (summary.total, summary.created, summary.created_confirmed, summary.linked, summary.updated),
        (10, 10, 10, 0, 0),
        "{summary}"
    );
    assert_eq!(ProvisionOutcome::CreatedConfirmed.to_string(), "created (confirmed by look-up)");
    assert_eq!(sandbox.user_count(), 10);
    let stats = sandbox.stats();
    assert_eq!(stats.faults_of(FaultKind::DropAfterCommit), 10);
    assert_eq!(stats.status(201), 0, "no create answer reached the client");
    let posts = sandbox.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 10, "no create was sent twice");
}

#[tokio::test]
async fn a_create_refused_because_someone_else_made_the_user_stays_linked() {
    // The create waits 300 ms before it is handled; meanwhile another party stores the person,
    // so the create is answered 409 and the look-up after it finds them.
    let slow_create =
        Faults::seeded(3).rate(1.0).fault(Fault::Delay(Duration::from_millis(300))).only(&[Method::Post]).at_most(1);
    let sandbox = ScimSandbox::builder().faults(slow_create).start().await.unwrap();
    let client = Client::builder(sandbox.interact_connector().unwrap()).retry_policy(patient()).build().unwrap();
    let provisioning = tokio::spawn({
        let client = client.clone();
        async move { client.provision_with(&person(1), ProvisionPolicy::link_only()).await }
    });
    // The look-up and the create have arrived (after SCIM discovery's three reads; requests are
    // counted on arrival, recorded once answered).
    let is_user_request = |r: &identity_connectors::sandbox::RequestRecord| r.path.contains("/Users");
    while sandbox.stats().requests < 5 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sandbox.insert_user(json!({"userName": "person0001@example.com"})).unwrap();
    let provisioned = provisioning.await.unwrap().unwrap();
    assert_eq!(provisioned.outcome, ProvisionOutcome::Linked);
    let statuses: Vec<(String, Option<u16>)> =
        sandbox.requests().iter().filter(|r| is_user_request(r)).map(|r| (r.method.clone(), r.status)).collect();
    assert_eq!(
        statuses,
        [("GET".to_string(), Some(200)), ("POST".to_string(), Some(409)), ("GET".to_string(), Some(200))]
    );
    assert_eq!(sandbox.user_count(), 1);
}
