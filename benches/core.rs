//! Benchmarks of the crate's pure hot paths: what every provisioning call pays besides the network.
//!
//! Run with `cargo bench --bench core`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use identity_connectors::prelude::*;
use identity_connectors::scim::ScimExtensions;
use identity_connectors::{Client, FreshserviceApiKey, InteractAttributes, InteractBearer, LoginType, User};

fn person(i: usize) -> User {
    User::builder(format!("person{i}@example.com"))
        .external_id(format!("E{i:05}"))
        .given_name("Jane")
        .family_name("Doe")
        .email(format!("person{i}@example.com"))
        .phone("+44 20 7946 0000", "work")
        .title("Analyst")
        .employee_number(format!("{i}"))
        .department("Finance")
        .organization("Acme")
        .manager("26118915-6090-4610-87e4-49d8ca9f808d")
        .interact(InteractAttributes::new(LoginType::Saml).location("London"))
        .build()
}

/// A SCIM user as servers return it, with quirks (odd key case, string booleans, extra attributes).
const SCIM_RESPONSE: &str = r#"{
  "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
  "id": "2819c223-7f76-453a-919d-413861904646",
  "UserName": "person1@example.com", "externalId": "E00001", "Active": "True",
  "name": {"givenName": "Jane", "familyName": "Doe", "formatted": "Jane Doe"},
  "emails": [{"value": "person1@example.com", "type": "work", "primary": "True"}],
  "phoneNumbers": [{"value": 442079460000, "type": "work"}],
  "title": "Analyst", "groups": [{"value": "g1", "display": "Staff"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 1, "department": "Finance"},
  "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User": {"loginType": "SAML", "location": "London"},
  "meta": {"resourceType": "User", "created": "2026-01-05T00:00:00Z", "version": "W/\"3\""}
}"#;

fn user_model(c: &mut Criterion) {
    let user = person(1);
    c.bench_function("user/serialise_scim_json", |b| b.iter(|| serde_json::to_vec(black_box(&user))));
    // As Interact's connector reads it: the extension object typed through the registry.
    let interact = ScimExtensions::new().with::<InteractAttributes>();
    let parse = |json: &str| interact.decode_user(serde_json::from_str(json).unwrap());
    c.bench_function("user/parse_scim_json_with_quirks", |b| b.iter(|| parse(black_box(SCIM_RESPONSE))));
    let current = parse(SCIM_RESPONSE).unwrap();
    let mut desired = person(1);
    desired.title = Some("Lead".into());
    c.bench_function("user/changes_from", |b| b.iter(|| black_box(&desired).changes_from(black_box(&current))));
}

fn construction(c: &mut Criterion) {
    c.bench_function("connector/freshservice_normalise_copied_url", |b| {
        b.iter(|| FreshserviceApiKey::new(black_box(" https://ACME.freshservice.com/a/tickets/1?x=1 "), "key"))
    });
    c.bench_function("connector/interact_new", |b| {
        b.iter(|| InteractBearer::new(black_box("https://intranet.example.com/api/v2/scim/v2/"), "token"))
    });
}

/// One lifecycle call end to end over loopback HTTP against the in-process SCIM sandbox: request
/// building, the auth header, the request path, the sandbox's handling and response parsing. The
/// network of a real deployment adds its round trip on top.
fn request_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (sandbox, client, id) = runtime.block_on(async {
        let sandbox = identity_connectors::sandbox::ScimSandbox::start().await.unwrap();
        let client = Client::new(sandbox.interact_connector().unwrap()).unwrap();
        let id = client.provision(&person(1)).await.unwrap().user.id;
        (sandbox, client, id)
    });
    c.bench_function("client/get_via_sandbox", |b| b.iter(|| runtime.block_on(client.get(black_box(&id))).unwrap()));
    let existing = person(1);
    c.bench_function("client/provision_existing_via_sandbox", |b| {
        b.iter(|| runtime.block_on(client.provision(black_box(&existing))).unwrap())
    });
    drop(sandbox);
}

criterion_group!(benches, user_model, construction, request_path);
criterion_main!(benches);
