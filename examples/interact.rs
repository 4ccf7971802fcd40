//! The whole user lifecycle against a real Interact intranet, through its SCIM 2.0 API.
//!
//! ```text
//! INTERACT_URL=https://intranet.example.com/api/v2/scim/v2 \
//! INTERACT_TOKEN='<the SCIM profile source key>' \
//!     cargo run --example interact -- [--user-name NAME] [--hard-delete]
//! ```
//!
//! Where to find them: in Interact, *Control Panel > Profile Sources*, create (or edit) a **SCIM**
//! profile source, tick **Active**, click **Generate Key**: that is `INTERACT_TOKEN`. The table's
//! **Api Url Suffix** column gives `INTERACT_URL`. (A plain `http://` URL is accepted for loopback
//! hosts only, for trying this against a local SCIM server.)
//!
//! What it does, with a test person (`--user-name`, default
//! `identity-connectors.example@example.com`):
//! 1. tests the connection (URL and key);
//! 2. provisions the person (created, or linked if they already exist), then provisions them again
//!    (linked, never duplicated);
//! 3. updates their title and location, and finds them by user name;
//! 4. reads the first page of users;
//! 5. deactivates them (a soft deprovision, which can be undone by provisioning again), and
//!    reactivates and deactivates them again to show both are safe to repeat.
//!
//! The person is left **deactivated**. Only with `--hard-delete` is the person then deleted with
//! `DELETE /Users/{id}`: on Interact that may also remove content the person authored, so the
//! example never deletes unless asked explicitly.

use std::process::ExitCode;

use identity_connectors::prelude::*;
use identity_connectors::{Client, InteractAttributes, InteractBearer, LoginType, PageRequest, UpdateOutcome, User};

struct Options {
    user_name: String,
    hard_delete: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options { user_name: "identity-connectors.example@example.com".to_string(), hard_delete: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--hard-delete" => options.hard_delete = true,
            "--user-name" => options.user_name = args.next().ok_or("--user-name needs a value")?,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(options)
}

fn connector() -> Result<InteractBearer, String> {
    let url = std::env::var("INTERACT_URL").map_err(|_| "set INTERACT_URL to the SCIM profile source's URL")?;
    let token = std::env::var("INTERACT_TOKEN").map_err(|_| "set INTERACT_TOKEN to the SCIM profile source's key")?;
    let connector = if url.trim_start().starts_with("http://") {
        InteractBearer::for_loopback(&url, token)
    } else {
        InteractBearer::new(&url, token)
    };
    connector.map_err(|e| e.to_string())
}

#[tokio::main]
async fn main() -> ExitCode {
    let (options, connector) = match options().and_then(|o| Ok((o, connector()?))) {
        Ok(ready) => ready,
        Err(message) => {
            if !message.is_empty() {
                eprintln!("error: {message}\n");
            }
            eprintln!(
                "usage: INTERACT_URL=… INTERACT_TOKEN=… cargo run --example interact -- [--user-name NAME] [--hard-delete]"
            );
            return ExitCode::from(2);
        }
    };
    match run(connector, &options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(connector: InteractBearer, options: &Options) -> Result<(), identity_connectors::Error> {
    let client = Client::new(connector)?;
    let name = client.connector().display_name().to_string();

    client.test_connection().await?;
    println!("{name}: connection works");

    let person = User::builder(&options.user_name)
        .external_id("IDENTITY-CONNECTORS-EXAMPLE")
        .given_name("Example")
        .family_name("Person")
        .email(&options.user_name)
        .title("Test account")
        .interact(InteractAttributes::new(LoginType::Saml).location("Location - Not Specified"))
        .build();
    let provisioned = client.provision(&person).await?;
    let id = provisioned.user.id.clone();
    println!("provision: {} (id {id})", provisioned.outcome);
    let again = client.provision(&person).await?;
    println!("provision again: {} (id {})", again.outcome, again.user.id);

    let mut changes = User::default();
    changes.title = Some("Test account (updated)".to_string());
    changes.set_interact(InteractAttributes::default().location("London"));
    match client.update(&id, &changes).await? {
        UpdateOutcome::Updated(_) => println!("update: title and location sent"),
        UpdateOutcome::Unchanged => println!("update: nothing to change"),
        other => println!("update: {other:?}"),
    }
    let found = client.find_by_user_name(&options.user_name.to_uppercase()).await?;
    println!("find by user name (upper-cased): {}", found.map_or("not found".to_string(), |u| format!("id {}", u.id)));

    let page = client.list_page(&PageRequest::first(10)).await?;
    println!(
        "list: {} users on the first page, {} in all",
        page.users.len(),
        page.total.map_or("unknown".to_string(), |t| t.to_string())
    );

    println!("deactivate: {}", client.deactivate(&id).await?);
    client.reactivate(&id).await?;
    println!("reactivate: done");
    println!("deactivate again: {}", client.deactivate(&id).await?);

    if options.hard_delete {
        println!("hard delete: {}", client.hard_delete(&id).await?);
    } else {
        println!(
            "not deleting {id}: the person is left deactivated. Pass --hard-delete to DELETE them \
             (on Interact this may remove content they authored)."
        );
    }
    Ok(())
}
