//! Makes an app match an HR export: plan (printed for review), apply with a progress bar, then a
//! second run that finds nothing left to change.
//!
//! Against the crate's embedded Interact sandbox (no credentials, no network), which is first
//! filled with the app's "current" state: most people already there (one with an old title, one
//! deactivated), one leaver who is no longer in the export, and an administrator without an HR id
//! that the sync must leave alone.
//!
//! ```sh
//! cargo run --example sync                          # examples/data/hr.csv
//! cargo run --example sync -- path/to/hr.csv
//! ```
//!
//! The file needs the columns `user_name,external_id,given_name,family_name` and may add `title`,
//! `department`, `location`. The run exits non-zero if an entry failed or the second plan is not
//! empty.

use std::error::Error;
use std::process::ExitCode;

use identity_connectors::prelude::*;
use identity_connectors::sandbox::ScimSandbox;
use identity_connectors::sync::{ApplyOptions, ManagedScope};
use identity_connectors::{Client, InteractAttributes, LoginType, User};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

#[derive(Debug, serde::Deserialize)]
struct Row {
    user_name: String,
    external_id: String,
    given_name: String,
    family_name: String,
    title: Option<String>,
    department: Option<String>,
    location: Option<String>,
}

impl Row {
    fn into_user(self) -> User {
        let mut interact = InteractAttributes::new(LoginType::Saml);
        interact.location = self.location.filter(|l| !l.is_empty());
        let mut builder = User::builder(&self.user_name)
            .external_id(self.external_id)
            .given_name(self.given_name)
            .family_name(self.family_name)
            .email(&self.user_name)
            .interact(interact);
        if let Some(title) = self.title.filter(|t| !t.is_empty()) {
            builder = builder.title(title);
        }
        if let Some(department) = self.department.filter(|d| !d.is_empty()) {
            builder = builder.department(department);
        }
        builder.build()
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// The app as it is before the sync: people from earlier runs, a leaver, an administrator.
async fn seed(client: &Client, sandbox: &ScimSandbox, people: &[User]) -> Result<(), Box<dyn Error>> {
    for (i, person) in people.iter().take(8).enumerate() {
        let mut earlier = person.clone();
        if i == 2 {
            earlier.title = Some("Analyst".into()); // promoted since
        }
        let provisioned = client.provision(&earlier).await?;
        if i == 5 {
            client.deactivate(&provisioned.user.id).await?; // back from leave
        }
    }
    let leaver = User::builder("tim.lovelace@example.com")
        .external_id("E1999")
        .given_name("Tim")
        .family_name("Lovelace")
        .email("tim.lovelace@example.com")
        .interact(InteractAttributes::new(LoginType::Saml))
        .build();
    client.provision(&leaver).await?;
    // An administrator created by hand: no HR id, so outside the managed scope.
    sandbox
        .insert_user(json!({"userName": "admin@example.com", "name": {"givenName": "Site", "familyName": "Admin"}}))
        .map_err(|e| format!("cannot seed the administrator: {e}"))?;
    Ok(())
}

async fn run() -> Result<bool, Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/hr.csv").to_string());
    let mut reader = csv::Reader::from_path(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let people: Vec<User> = reader
        .deserialize::<Row>()
        .enumerate()
        .map(|(line, row)| row.map(Row::into_user).map_err(|e| format!("{path}, record {}: {e}", line + 1)))
        .collect::<Result<_, _>>()?;

    let sandbox = ScimSandbox::start().await?;
    let client = Client::new(sandbox.interact_connector()?)?;
    seed(&client, &sandbox, &people).await?;

    // The accounts this service owns: those with an HR id (the default, spelled out).
    let sync = client.reconciler().scope(ManagedScope::with_external_id());
    let plan = sync.plan(people.clone()).await?;
    println!("{plan}\n");

    let bar = ProgressBar::new(plan.entries.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} entries")?);
    let report = sync.apply(&plan, ApplyOptions::default(), |progress| bar.set_position(progress.done as u64)).await?;
    bar.finish();
    println!("\n{report}\n");

    let second = sync.plan(people).await?;
    println!("second run:\n{second}");
    Ok(report.all_succeeded() && second.is_noop())
}
