//! Quickstart: joiners, a mover and a leaver in Interact and Freshservice, with no account anywhere.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! With no environment variables, it starts the crate's embedded sandbox (an in-process Interact
//! SCIM server and an in-process Freshservice API on `127.0.0.1`; no credentials, no network) and,
//! for each app, through a `Box<dyn Connector>`: provisions three people, provisions them again
//! (linked, not duplicated), gives them their group (joiners), updates one and adds a group (a
//! mover), deactivates one and removes their groups (a leaver), reactivates them (a rehire) and
//! lists everyone. It prints each step's outcome and exits non-zero if any outcome is not the
//! expected one.
//!
//! To run the same steps against real services instead, set the credentials of one or both:
//!
//! ```text
//! INTERACT_URL=https://intranet.example.com/api/v2/scim/v2 \
//! INTERACT_TOKEN=<the SCIM profile source's key> \
//! FRESHSERVICE_INSTANCE=acme \
//! FRESHSERVICE_API_KEY=<an administrator's API key> \
//!     cargo run --example quickstart
//! ```
//!
//! Only the services configured are used then, without the group steps (the groups would have to
//! exist in the account first). The three people are `…@example.com` test users;
//! nothing is ever hard-deleted: the run ends by deactivating them, and a later run reactivates
//! them. Against a real Freshservice the people carry no department or location, since those
//! names must exist in the account.

use std::process::ExitCode;

use futures_util::TryStreamExt as _;
use identity_connectors::prelude::*;
use identity_connectors::sandbox::{FreshserviceSandbox, ScimSandbox};
use identity_connectors::{
    Client, Connector, DeprovisionOutcome, DeprovisionPolicy, FreshserviceApiKey, FreshserviceAttributes,
    FreshserviceUserKind, GroupRef, InteractAttributes, InteractBearer, LoginType, ProvisionOutcome, User,
};

/// One app to run the steps against.
struct Target<'a> {
    connector: Box<dyn Connector>,
    /// `sandbox at …` or the real base URL, for the report.
    place: String,
    /// In the sandbox, what the server itself has seen (not what the client says).
    server: Option<ServerView<'a>>,
    /// Whether the people carry a department and location (the sandbox has them seeded).
    with_directory: bool,
    /// The group every joiner gets and the one a promoted mover gets too (the sandbox has them).
    groups: Option<[&'static str; 2]>,
}

/// The sandboxes' groups: every joiner's, and the one a promoted mover gets too.
const GROUPS: [&str; 2] = ["Employees", "Team Leads"];

/// Reads a sandbox's own state.
struct ServerView<'a> {
    /// Users stored.
    users: Box<dyn Fn() -> usize + 'a>,
    /// Requests received that could change something (`POST`, `PUT`, `PATCH`, `DELETE`).
    writes: Box<dyn Fn() -> usize + 'a>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let interact_env = (std::env::var("INTERACT_URL").ok(), std::env::var("INTERACT_TOKEN").ok());
    let freshservice_env = (std::env::var("FRESHSERVICE_INSTANCE").ok(), std::env::var("FRESHSERVICE_API_KEY").ok());
    let real = [&interact_env.0, &interact_env.1, &freshservice_env.0, &freshservice_env.1].iter().any(|v| v.is_some());

    // The sandboxes run until the end of `main`; dropping them stops the servers.
    let sandboxes = if real {
        None
    } else {
        match tokio::try_join!(ScimSandbox::start(), FreshserviceSandbox::builder().requester_group(GROUPS[1]).start())
        {
            Ok(sandboxes) => Some(sandboxes),
            Err(error) => {
                eprintln!("could not start the sandbox: {error}");
                return ExitCode::FAILURE;
            }
        }
    };
    let targets = match &sandboxes {
        Some((interact, freshservice)) => sandbox_targets(interact, freshservice),
        None => real_targets(interact_env, freshservice_env),
    };
    let targets = match targets {
        Ok(targets) => targets,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };

    let mut report = Report::default();
    for target in targets {
        run(target, real, &mut report).await;
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

fn sandbox_targets<'a>(
    interact: &'a ScimSandbox,
    freshservice: &'a FreshserviceSandbox,
) -> Result<Vec<Target<'a>>, String> {
    let interact_connector = interact.interact_connector().map_err(|e| e.to_string())?;
    // Freshservice's sandbox has the requester groups; Interact's gets its groups here.
    for group in GROUPS {
        interact.insert_group(serde_json::json!({ "displayName": group }))?;
    }
    let freshservice_connector = freshservice.connector().map_err(|e| e.to_string())?;
    Ok(vec![
        Target {
            connector: Box::new(interact_connector),
            place: format!("sandbox at {}", interact.base_url()),
            server: Some(ServerView {
                users: Box::new(|| interact.user_count()),
                writes: Box::new(|| interact.requests().iter().filter(|r| r.method != "GET").count()),
            }),
            with_directory: true,
            groups: Some(GROUPS),
        },
        Target {
            connector: Box::new(freshservice_connector),
            place: format!("sandbox at {}", freshservice.base_url()),
            server: Some(ServerView {
                users: Box::new(|| freshservice.user_count()),
                writes: Box::new(|| freshservice.requests().iter().filter(|r| r.method != "GET").count()),
            }),
            with_directory: true,
            groups: Some(GROUPS),
        },
    ])
}

fn real_targets(
    interact: (Option<String>, Option<String>),
    freshservice: (Option<String>, Option<String>),
) -> Result<Vec<Target<'static>>, String> {
    let mut targets = Vec::new();
    match interact {
        (Some(url), Some(token)) => {
            let connector = InteractBearer::new(&url, token).map_err(|e| format!("INTERACT_URL: {e}"))?;
            let place = connector.base_url().to_string();
            targets.push(Target {
                connector: Box::new(connector),
                place,
                server: None,
                with_directory: true,
                groups: None,
            });
        }
        (None, None) => {}
        _ => return Err("Set both INTERACT_URL and INTERACT_TOKEN, or neither.".to_string()),
    }
    match freshservice {
        (Some(instance), Some(api_key)) => {
            let connector =
                FreshserviceApiKey::new(&instance, api_key).map_err(|e| format!("FRESHSERVICE_INSTANCE: {e}"))?;
            let place = connector.base_url().to_string();
            targets.push(Target {
                connector: Box::new(connector),
                place,
                server: None,
                with_directory: false,
                groups: None,
            });
        }
        (None, None) => {}
        _ => return Err("Set both FRESHSERVICE_INSTANCE and FRESHSERVICE_API_KEY, or neither.".to_string()),
    }
    Ok(targets)
}

/// The three people, the same for every app: each connector uses the attributes its app stores
/// (Interact: `externalId` and its extension; Freshservice: the location) and ignores the rest.
fn people(with_directory: bool) -> Vec<User> {
    [
        ("ada.lovelace", "Ada", "Lovelace", "QS-1001", "Engineering", "London"),
        ("grace.hopper", "Grace", "Hopper", "QS-1002", "Engineering", "Berlin"),
        ("alan.turing", "Alan", "Turing", "QS-1003", "Finance", "London"),
    ]
    .into_iter()
    .map(|(login, given, family, employee_id, department, location)| {
        let email = format!("{login}@example.com");
        let mut person = User::builder(email.as_str())
            .external_id(employee_id)
            .given_name(given)
            .family_name(family)
            .email(email.as_str())
            .title("Analyst")
            .interact(InteractAttributes::new(LoginType::Saml).location(location));
        if with_directory {
            person = person
                .department(department)
                .freshservice(FreshserviceAttributes::new(FreshserviceUserKind::Requester).location(location));
        }
        person.build()
    })
    .collect()
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

    fn error(&mut self, step: &str, error: &identity_connectors::Error) {
        self.step(step, &format!("error: {error}"), false);
    }
}

/// `created ×3`, or each outcome when they differ.
fn outcomes(list: &[ProvisionOutcome]) -> String {
    match list.first() {
        Some(first) if list.iter().all(|o| o == first) => format!("{first} ×{}", list.len()),
        _ => list.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
    }
}

async fn run(target: Target<'_>, real: bool, report: &mut Report) {
    let client = match Client::new(target.connector) {
        Ok(client) => client,
        Err(error) => return report.error("build the client", &error),
    };
    println!("\n{}: {}", client.connector().display_name(), target.place);
    let people = people(target.with_directory);
    if let Err(error) = steps(&client, &people, target.server.as_ref(), target.groups, real, report).await {
        report.error("(remaining steps skipped)", &error);
    }
}

async fn steps(
    client: &Client,
    people: &[User],
    server: Option<&ServerView<'_>>,
    groups: Option<[&'static str; 2]>,
    real: bool,
    report: &mut Report,
) -> Result<(), identity_connectors::Error> {
    let group = |name: &str| GroupRef::name(name);
    // In the sandbox, the server's own user count must match too.
    let count_note = |expected: usize| match server.map(|server| (server.users)()) {
        Some(stored) => (format!("; the server stores {stored}"), stored == expected),
        None => (String::new(), true),
    };

    // 1. Joiners. A real service may have them from an earlier run, inactive.
    let mut ids = Vec::new();
    let mut first = Vec::new();
    for person in people {
        let provisioned = client.provision(person).await?;
        ids.push(provisioned.user.id);
        first.push(provisioned.outcome);
    }
    let expected = real || first.iter().all(|o| *o == ProvisionOutcome::Created);
    let (note, stored_ok) = count_note(3);
    report.step("provision 3 people", &format!("{}{note}", outcomes(&first)), expected && stored_ok);

    // 2. The same people again: linked, never duplicated, and (in the sandbox) nothing written.
    let writes_before = server.map(|server| (server.writes)());
    let mut again = Vec::new();
    let mut same_ids = true;
    for (person, id) in people.iter().zip(&ids) {
        let provisioned = client.provision(person).await?;
        same_ids &= provisioned.user.id == *id;
        again.push(provisioned.outcome);
    }
    let (mut note, stored_ok) = count_note(3);
    let writes = server.zip(writes_before).map(|(server, before)| (server.writes)().saturating_sub(before));
    if let Some(writes) = writes {
        note.push_str(&format!(", {writes} writes received"));
    }
    let linked = again.iter().all(|o| *o == ProvisionOutcome::Linked) && writes.unwrap_or(0) == 0;
    report.step("provision them again", &format!("{}{note}", outcomes(&again)), linked && same_ids && stored_ok);

    // 3. Joiners get their group; only what is missing is added.
    if let Some([everyone, _]) = groups {
        let mut added = Vec::new();
        for person in people {
            added.push(client.set_memberships(person, &[group(everyone)?]).await?.added.len());
        }
        let ok = added.iter().all(|n| *n == 1);
        report.step(
            "give them their group",
            &format!("{everyone}: added for {} of 3", added.iter().sum::<usize>()),
            ok,
        );
    }

    // 4. A mover: Ada is promoted, and gets the leads' group as well.
    let mut ada = people[0].clone();
    ada.title = Some("Lead Analyst".to_string());
    let moved = client.provision(&ada).await?;
    let title = client.get(&ids[0]).await?.user.title;
    report.step(
        "update Ada's title",
        &format!("{}; title now {:?}", moved.outcome, title.as_deref().unwrap_or("")),
        moved.outcome == ProvisionOutcome::Updated && title.as_deref() == Some("Lead Analyst"),
    );
    if let Some([everyone, leads]) = groups {
        let change = client.set_memberships(&ada, &[group(everyone)?, group(leads)?]).await?;
        let mut now: Vec<String> = client.memberships(&ada).await?.into_iter().map(|g| g.display_name).collect();
        now.sort();
        report.step(
            "change Ada's groups",
            &format!("{change}; now in {}", now.join(", ")),
            change.added.len() == 1 && change.removed.is_empty() && now.len() == 2,
        );
    }

    // 5. A leaver: Grace is deactivated, not deleted, and (where there are groups) loses them.
    let grace = &people[1];
    let policy = if groups.is_some() { DeprovisionPolicy::revoke_memberships() } else { DeprovisionPolicy::default() };
    let left = client.deprovision_with(grace, policy).await?;
    let active = client.get(&ids[1]).await?.is_active();
    let revoked: Vec<&str> = left.revoked.iter().map(|g| g.display_name.as_str()).collect();
    let revoked_text = if revoked.is_empty() { "none".to_string() } else { revoked.join(", ") };
    report.step(
        "deactivate Grace",
        &format!("{}; active: {active}; groups removed: {revoked_text}", left.outcome),
        left.outcome == DeprovisionOutcome::Deactivated && !active && revoked.len() == usize::from(groups.is_some()),
    );

    // 6. A rehire: provisioning Grace again reactivates the same account.
    let back = client.provision(grace).await?;
    let active = client.get(&ids[1]).await?.is_active();
    report.step(
        "reactivate Grace",
        &format!("{}; active: {active}", back.outcome),
        back.outcome == ProvisionOutcome::Reactivated && back.user.id == ids[1] && active,
    );

    // 7. Everyone, page by page.
    let everyone: Vec<_> = client.list(50).try_collect().await?;
    let ours: Vec<&str> = everyone
        .iter()
        .filter(|u| ids.contains(&u.id))
        .filter_map(|u| u.user.primary_email().or(u.user.user_name.as_deref()))
        .collect();
    let all_active = everyone.iter().filter(|u| ids.contains(&u.id)).all(|u| u.is_active());
    let exact = real || everyone.len() == 3;
    report.step(
        "list all",
        &format!("{} users: {}", everyone.len(), ours.join(", ")),
        ours.len() == 3 && all_active && exact,
    );

    // Against a real service, leave the test users deactivated (never deleted).
    if real {
        let mut cleaned = Vec::new();
        for person in people {
            cleaned.push(client.deprovision(person).await?);
        }
        let text = cleaned.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        report.step("deactivate the test users", &text, cleaned.iter().all(|o| *o == DeprovisionOutcome::Deactivated));
    }
    Ok(())
}
