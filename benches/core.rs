//! Benchmarks of the crate's pure hot paths (placeholder until filled in).
use criterion::{Criterion, criterion_group, criterion_main};
use identity_connectors::User;

fn user_json(c: &mut Criterion) {
    let user = User::builder("jane.doe@example.com").given_name("Jane").family_name("Doe").build();
    c.bench_function("user_to_scim_json", |b| b.iter(|| serde_json::to_vec(&user)));
}

criterion_group!(benches, user_json);
criterion_main!(benches);
