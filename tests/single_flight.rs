//! Single-flight per match key: concurrent calls for one person through one client (and its
//! clones) never create them twice, even on a SCIM server without a uniqueness rule, and
//! provisioning and deprovisioning of one person run one after the other.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt as _;
use identity_connectors::prelude::*;
use identity_connectors::sandbox::{Fault, Faults, ScimSandbox};
use identity_connectors::{
    BulkSummary, Client, DeprovisionOutcome, InteractAttributes, LoginType, Method, ProvisionOutcome, User,
};

fn person(i: usize) -> User {
    User::builder(format!("person{i:02}@example.com"))
        .external_id(format!("E{i:02}"))
        .given_name("Test")
        .family_name(format!("Person {i}"))
        .email(format!("person{i:02}@example.com"))
        .interact(InteractAttributes::new(LoginType::Saml).location("London"))
        .build()
}

async fn lax_sandbox() -> ScimSandbox {
    ScimSandbox::builder().enforce_unique_user_names(false).start().await.unwrap()
}

#[tokio::test]
async fn the_lax_sandbox_stores_a_taken_user_name_and_the_default_refuses_it() {
    let body = serde_json::json!({"userName": "Jane.Doe@example.com"});
    let lax = lax_sandbox().await;
    lax.insert_user(body.clone()).unwrap();
    lax.insert_user(serde_json::json!({"userName": "jane.doe@example.com"})).unwrap();
    assert_eq!(lax.user_count(), 2);
    let strict = ScimSandbox::start().await.unwrap();
    strict.insert_user(body).unwrap();
    let refused = strict.insert_user(serde_json::json!({"userName": "jane.doe@example.com"})).unwrap_err();
    assert_eq!(refused, "One or more of the attribute values are already in use or are reserved");
    assert_eq!(strict.user_count(), 1);
}

#[tokio::test]
async fn eight_concurrent_provisions_of_one_person_create_one_user() {
    let sandbox = lax_sandbox().await;
    let client = Client::builder(sandbox.interact_connector().unwrap()).max_in_flight(8).build().unwrap();
    let jane = person(1);
    // The client and seven clones, all at once.
    let clients: Vec<Client> = (0..8).map(|_| client.clone()).collect();
    let results = futures_util::future::join_all(clients.iter().map(|c| c.provision(&jane))).await;

    let mut outcomes: HashMap<ProvisionOutcome, usize> = HashMap::new();
    for result in results {
        *outcomes.entry(result.unwrap().outcome).or_default() += 1;
    }
    assert_eq!(outcomes, HashMap::from([(ProvisionOutcome::Created, 1), (ProvisionOutcome::Linked, 7)]));
    assert_eq!(sandbox.user_count(), 1);
    let posts = sandbox.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "one create was sent");
}

#[tokio::test]
async fn twenty_people_eight_times_each_give_twenty_users() {
    let sandbox = lax_sandbox().await;
    let client = Client::builder(sandbox.interact_connector().unwrap()).max_in_flight(16).build().unwrap();
    // Each person 8 times, interleaved, split over two clones running at once.
    let everyone: Vec<User> = (0..8).flat_map(|_| (0..20).map(person)).collect();
    let (first, second) = everyone.split_at(80);
    let (a, b) = (client.clone(), client.clone());
    let (first, second) = tokio::join!(
        a.provision_all(first.to_vec()).collect::<Vec<_>>(),
        b.provision_all(second.to_vec()).collect::<Vec<_>>()
    );
    let mut summary = BulkSummary::default();
    for item in first.iter().chain(&second) {
        summary.record_provisioned(item);
    }
    assert!(summary.all_succeeded(), "{summary}");
    assert_eq!((summary.total, summary.created, summary.linked, summary.updated), (160, 20, 140, 0), "{summary}");
    assert_eq!(sandbox.user_count(), 20);
    for i in 0..20 {
        let name = format!("person{i:02}@example.com");
        let stored = sandbox.users().iter().filter(|u| u["userName"] == name.as_str()).count();
        assert_eq!(stored, 1, "{name} is stored {stored} times");
    }
}

#[tokio::test]
async fn provisioning_and_deprovisioning_one_person_run_one_after_the_other() {
    // Every look-up takes 100 ms: unserialised, the deprovision's look-up would run beside the
    // provision's, find nobody, and leave the new user active.
    let slow_reads = Faults::seeded(1).rate(1.0).fault(Fault::Delay(Duration::from_millis(100))).only(&[Method::Get]);
    let sandbox = ScimSandbox::builder().enforce_unique_user_names(false).faults(slow_reads).start().await.unwrap();
    let client = Client::builder(sandbox.interact_connector().unwrap()).max_in_flight(8).build().unwrap();
    let jane = person(7);
    let clone = client.clone();
    let (provisioned, deprovisioned) = tokio::join!(client.provision(&jane), clone.deprovision(&jane));

    assert_eq!(provisioned.unwrap().outcome, ProvisionOutcome::Created);
    assert_eq!(deprovisioned.unwrap(), DeprovisionOutcome::Deactivated);
    // SCIM discovery's reads aside.
    let methods: Vec<String> =
        sandbox.requests().iter().filter(|r| r.path.contains("/Users")).map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "POST", "GET", "PATCH"]);
    let stored = sandbox.user_by_user_name("person07@example.com").unwrap();
    assert_eq!(stored["active"], false);
    assert_eq!(sandbox.user_count(), 1);
}

#[tokio::test]
async fn a_look_up_by_a_differently_cased_user_name_waits_for_the_same_person() {
    // The deprovision names the person in upper case: the SCIM server matches userName without
    // case, so the client must serialise it with the provision too.
    let slow_reads = Faults::seeded(1).rate(1.0).fault(Fault::Delay(Duration::from_millis(100))).only(&[Method::Get]);
    let sandbox = ScimSandbox::builder().faults(slow_reads).start().await.unwrap();
    let client = Client::builder(sandbox.interact_connector().unwrap()).max_in_flight(8).build().unwrap();
    let jane = person(8);
    let shouted = identity_connectors::Lookup::UserName("PERSON08@EXAMPLE.COM".to_string());
    let (provisioned, deprovisioned) = tokio::join!(client.provision(&jane), client.deprovision_by(&shouted));
    assert_eq!(provisioned.unwrap().outcome, ProvisionOutcome::Created);
    assert_eq!(deprovisioned.unwrap(), DeprovisionOutcome::Deactivated);
    assert_eq!(sandbox.user_by_user_name("person08@example.com").unwrap()["active"], false);
}
