//! Provisions the people of a CSV file in bulk, with a progress bar and a summary table.
//!
//! Against the crate's embedded Interact sandbox (no credentials, no network):
//!
//! ```sh
//! cargo run --example bulk                          # examples/data/people.csv
//! cargo run --example bulk -- path/to/people.csv
//! ```
//!
//! Against a real Interact instance (a SCIM profile source's URL and key; see Interact's Control
//! Panel > Profile Sources):
//!
//! ```sh
//! INTERACT_URL=https://intranet.example.com/api/v2/scim/v2 INTERACT_TOKEN=… \
//!     cargo run --example bulk -- people.csv
//! ```
//!
//! The file needs a header row with the columns `user_name,external_id,given_name,family_name`
//! and may add `title`, `department`, `location` (quoted fields may hold commas). People are
//! provisioned four at a time (the client's in-flight cap); one person's failure does not stop the
//! others, and the run exits non-zero if anyone failed.

use std::error::Error;
use std::process::ExitCode;

use futures_util::StreamExt as _;
use identity_connectors::prelude::*;
use identity_connectors::sandbox::ScimSandbox;
use identity_connectors::{BulkSummary, Client, InteractAttributes, InteractBearer, LoginType, User};
use indicatif::{ProgressBar, ProgressStyle};

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

async fn run() -> Result<bool, Box<dyn Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/people.csv").to_string());
    let mut reader = csv::Reader::from_path(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let people: Vec<User> = reader
        .deserialize::<Row>()
        .enumerate()
        .map(|(line, row)| row.map(Row::into_user).map_err(|e| format!("{path}, record {}: {e}", line + 1)))
        .collect::<Result<_, _>>()?;

    // The sandbox lives as long as this binding; it stops when dropped.
    let (connector, _sandbox) = match (std::env::var("INTERACT_URL"), std::env::var("INTERACT_TOKEN")) {
        (Ok(url), Ok(token)) => (InteractBearer::new(&url, token)?, None),
        _ => {
            let sandbox = ScimSandbox::start().await?;
            (sandbox.interact_connector()?, Some(sandbox))
        }
    };
    let client = Client::new(connector)?;
    println!("Provisioning {} people from {path} into {}", people.len(), client.connector().display_name());

    let bar = ProgressBar::new(people.len() as u64);
    bar.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")?);
    let mut summary = BulkSummary::default();
    let mut results = std::pin::pin!(client.provision_all(people));
    while let Some(item) = results.next().await {
        summary.record_provisioned(&item);
        if let Err(error) = &item.result {
            bar.println(format!("#{} failed: {error}", item.index));
        }
        bar.inc(1);
    }
    bar.finish_with_message("done");
    println!("\n{summary}");
    Ok(summary.all_succeeded())
}
