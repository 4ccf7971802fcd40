//! The user lifecycle against any SCIM 2.0 service provider, through `ScimBearer`.
//!
//! ```text
//! cargo run --example scim
//! ```
//!
//! With no environment variables, it starts the crate's embedded SCIM sandbox (an in-process
//! server on `127.0.0.1`; no credentials, no network) and runs against that. To run against a real
//! SCIM 2.0 server, set both:
//!
//! ```text
//! SCIM_BASE_URL=https://api.example.com/scim/v2 \
//! SCIM_TOKEN=<a bearer token allowed to manage users> \
//!     cargo run --example scim
//! ```
//!
//! `SCIM_BASE_URL` is the URL `/Users` hangs off. It must be `https`, except for a loopback host
//! (`http://127.0.0.1:8000/scim/v2`, a local server).
//!
//! With one test person (`scim.example@example.com`) it: tests the connection; provisions them
//! (created, or found from an earlier run), and again (linked, never duplicated); updates their
//! title (a mover); deactivates them (a leaver); provisions them again (a rehire: reactivated);
//! deprovisions them, and again (already inactive, nothing sent). It prints each step's outcome and
//! exits non-zero if any is not the expected one. Nothing is ever deleted: the person is left
//! deactivated, and a later run reactivates them.

use std::process::ExitCode;

use identity_connectors::sandbox::ScimSandbox;
use identity_connectors::{Client, DeprovisionOutcome, ProvisionOutcome, ScimBearer, User, UserId};

const USER_NAME: &str = "scim.example@example.com";

#[tokio::main]
async fn main() -> ExitCode {
    let env = (std::env::var("SCIM_BASE_URL").ok(), std::env::var("SCIM_TOKEN").ok());
    // The sandbox runs until the end of `main`; dropping it stops the server.
    let (connector, sandbox) = match env {
        (Some(url), Some(token)) => {
            let connector = if url.trim_start().starts_with("http://") {
                ScimBearer::for_loopback(&url, token)
            } else {
                ScimBearer::new(&url, token)
            };
            match connector {
                Ok(connector) => (connector, None),
                Err(error) => {
                    eprintln!("SCIM_BASE_URL or SCIM_TOKEN: {error}");
                    return ExitCode::from(2);
                }
            }
        }
        (None, None) => {
            let started = ScimSandbox::start().await.map_err(|e| e.to_string());
            match started.and_then(|s| Ok((s.scim_connector().map_err(|e| e.to_string())?, s))) {
                Ok((connector, sandbox)) => (connector, Some(sandbox)),
                Err(error) => {
                    eprintln!("Could not start the sandbox: {error}");
                    return ExitCode::FAILURE;
                }
            }
        }
        _ => {
            eprintln!("Set both SCIM_BASE_URL and SCIM_TOKEN, or neither (to use the sandbox).");
            return ExitCode::from(2);
        }
    };

    let mut report = Report::default();
    let client = match Client::new(connector) {
        Ok(client) => client,
        Err(error) => {
            eprintln!("Could not build the client: {error}");
            return ExitCode::FAILURE;
        }
    };
    let place = match &sandbox {
        Some(sandbox) => format!("sandbox at {}", sandbox.base_url()),
        None => client.connector().base_url().to_string(),
    };
    println!("{}: {place}", client.connector().display_name());
    if let Err(error) = steps(&client, sandbox.as_ref(), &mut report).await {
        report.step("(remaining steps skipped)", &format!("error: {error}"), false);
    }

    println!();
    if report.failed == 0 {
        println!("All {} steps gave the expected outcome.", report.passed);
        ExitCode::SUCCESS
    } else {
        println!("{} of {} steps did not give the expected outcome.", report.failed, report.passed + report.failed);
        ExitCode::FAILURE
    }
}

#[derive(Default)]
struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    /// Prints one step's outcome and whether it was the expected one.
    fn step(&mut self, step: &str, outcome: &str, ok: bool) {
        let verdict = if ok { "ok" } else { "WRONG" };
        println!("  {verdict:<5} {step:<22} {outcome}");
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }
}

fn person(title: &str) -> User {
    User::builder(USER_NAME)
        .external_id("SCIM-EXAMPLE-1")
        .given_name("Scim")
        .family_name("Example")
        .email(USER_NAME)
        .title(title)
        .build()
}

/// Whether the user is active, as the server reports it.
async fn active(client: &Client, id: &UserId) -> Result<bool, identity_connectors::Error> {
    Ok(client.get(id).await?.is_active())
}

async fn steps(
    client: &Client,
    sandbox: Option<&ScimSandbox>,
    report: &mut Report,
) -> Result<(), identity_connectors::Error> {
    // In the sandbox, the server's own state must agree with what the client reports.
    let stored = |expected: usize| match sandbox.map(ScimSandbox::user_count) {
        Some(count) => (format!("; the server stores {count}"), count == expected),
        None => (String::new(), true),
    };

    client.test_connection().await?;
    report.step("test the connection", "URL and token accepted", true);

    // 1. A joiner. A real server may have them from an earlier run, deactivated.
    let joiner = person("Analyst");
    let first = client.provision(&joiner).await?;
    let id = first.user.id.clone();
    let (note, ok) = stored(1);
    let expected = sandbox.is_none() || first.outcome == ProvisionOutcome::Created;
    report.step("provision", &format!("{} (id {id}){note}", first.outcome), expected && ok);

    // 2. The same person again: linked to the same account, nothing created.
    let again = client.provision(&joiner).await?;
    let (note, ok) = stored(1);
    report.step(
        "provision again",
        &format!("{}{note}", again.outcome),
        again.outcome == ProvisionOutcome::Linked && again.user.id == id && ok,
    );

    // 3. A mover: a new title.
    let moved = client.provision(&person("Lead Analyst")).await?;
    let title = client.get(&id).await?.user.title;
    report.step(
        "update the title",
        &format!("{}; title now {:?}", moved.outcome, title.as_deref().unwrap_or("")),
        moved.outcome == ProvisionOutcome::Updated && title.as_deref() == Some("Lead Analyst"),
    );

    // 4. A leaver: deactivated, not deleted.
    let left = client.deactivate(&id).await?;
    let now_active = active(client, &id).await?;
    report.step(
        "deactivate",
        &format!("{left}; active: {now_active}"),
        left == DeprovisionOutcome::Deactivated && !now_active,
    );

    // 5. A rehire: provisioning them again reactivates the same account.
    let back = client.provision(&person("Lead Analyst")).await?;
    let now_active = active(client, &id).await?;
    report.step(
        "reactivate",
        &format!("{}; active: {now_active}", back.outcome),
        back.outcome == ProvisionOutcome::Reactivated && back.user.id == id && now_active,
    );

    // 6. Deprovisioning finds them by user name; a second run has nothing to do.
    let gone = client.deprovision(&joiner).await?;
    let repeat = client.deprovision(&joiner).await?;
    let now_active = active(client, &id).await?;
    let (note, ok) = stored(1);
    report.step(
        "deprovision twice",
        &format!("{gone}, then {repeat}; active: {now_active}{note}"),
        gone == DeprovisionOutcome::Deactivated && repeat == DeprovisionOutcome::AlreadyInactive && !now_active && ok,
    );
    Ok(())
}
