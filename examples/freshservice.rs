//! The whole user lifecycle against a real Freshservice instance.
//!
//! ```text
//! FRESHSERVICE_INSTANCE=acme \
//! FRESHSERVICE_API_KEY=<an administrator's API key: Profile settings > Your API key> \
//! FRESHSERVICE_TEST_EMAIL=lifecycle.test@acme.example \
//!     cargo run --example freshservice
//! ```
//!
//! `FRESHSERVICE_INSTANCE` is the instance name (`acme`), its host or any URL on it. The test user
//! (`FRESHSERVICE_TEST_EMAIL`, default `identity-connectors.example@example.com`) is created as a
//! requester, provisioned again (linked), updated, found, listed, deactivated, reactivated and
//! deactivated again: it stays in Freshservice, deactivated.
//!
//! Add `-- --hard-delete` to finish by *forgetting* the user instead. That is irreversible, and
//! Freshservice also deletes every ticket the person requested; without the flag the example
//! refuses to do it.

use std::process::ExitCode;

use futures_util::StreamExt;
use identity_connectors::{Client, DeprovisionOutcome, Error, FreshserviceApiKey, UpdateOutcome, User};

#[tokio::main]
async fn main() -> ExitCode {
    let (Ok(instance), Ok(api_key)) = (std::env::var("FRESHSERVICE_INSTANCE"), std::env::var("FRESHSERVICE_API_KEY"))
    else {
        eprintln!("Set FRESHSERVICE_INSTANCE and FRESHSERVICE_API_KEY to run this example (see its header).");
        return ExitCode::SUCCESS;
    };
    let email = std::env::var("FRESHSERVICE_TEST_EMAIL")
        .unwrap_or_else(|_| "identity-connectors.example@example.com".to_string());
    let hard_delete = std::env::args().skip(1).any(|arg| arg == "--hard-delete");
    match run(&instance, api_key, &email, hard_delete).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(instance: &str, api_key: String, email: &str, hard_delete: bool) -> Result<(), Error> {
    let client = Client::new(FreshserviceApiKey::new(instance, api_key)?)?;
    println!("{}", client.connector().display_name());

    client.test_connection().await?;
    println!("connection: ok");

    let user = User::builder(email)
        .given_name("Lifecycle")
        .family_name("Example")
        .email(email)
        .title("Provisioning test")
        .build();
    let provisioned = client.provision(&user).await?;
    let id = provisioned.user.id.clone();
    println!("provision: {} (user id {id})", provisioned.outcome);
    println!("provision again: {}", client.provision(&user).await?.outcome);

    let mut changes = User::default();
    changes.title = Some("Provisioning test (updated)".to_string());
    match client.update(&id, &changes).await? {
        UpdateOutcome::Updated(Some(updated)) => println!("update: title is now {:?}", updated.user.title),
        other => println!("update: {other:?}"),
    }

    let found = client.find_by_email(email).await?;
    println!("find by e-mail: {}", found.map(|u| format!("user id {}", u.id)).unwrap_or("not found".into()));
    let mut listing = std::pin::pin!(client.list(100).take(100));
    let mut listed = 0;
    while let Some(listed_user) = listing.next().await {
        listed_user?;
        listed += 1;
    }
    println!("list: read the first {listed} users");

    println!("deprovision: {}", client.deprovision(&user).await?);
    println!("deprovision again: {}", client.deprovision(&user).await?);
    println!("provision (rehire): {}", client.provision(&user).await?.outcome);

    if hard_delete {
        let outcome = client.hard_delete(&id).await?;
        println!("hard delete (forget): {outcome}");
    } else {
        let outcome = client.deprovision(&user).await?;
        println!("deprovision: {outcome}");
        if outcome == DeprovisionOutcome::Deactivated {
            println!("hard delete: refused; pass --hard-delete to forget the user and their tickets for good");
        }
    }
    Ok(())
}
