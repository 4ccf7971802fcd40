//! Builds every connection of a configuration file, tests each, and prints one line per
//! connection.
//!
//! ```text
//! cargo run --example from_config                       # examples/connections.toml
//! cargo run --example from_config -- my-connections.toml
//! ```
//!
//! When none of the credentials the file names is available (no variable set, no file present),
//! the connections are pointed at the crate's in-process sandbox (an Interact SCIM server and a
//! Freshservice API on `127.0.0.1`), so the example runs anywhere:
//!
//! ```text
//! No credentials configured (INTERACT_TOKEN, FRESHSERVICE_API_KEY, DIRECTORY_SCIM_TOKEN): testing against the sandbox.
//! Intranet        interact      ok
//! Service desk    freshservice  ok
//! Directory       scim          ok
//! ```
//!
//! With credentials, every connection is built first (all or nothing: one error lists every
//! missing variable or bad field with its path), then tested against the real service. The exit
//! code is non-zero if the file cannot be used or any connection test fails.

use std::process::ExitCode;

use identity_connectors::config::{ConnectionsConfig, ConnectorConfig, SecretSource};
use identity_connectors::sandbox::{FreshserviceSandbox, ScimSandbox};

#[tokio::main]
async fn main() -> ExitCode {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/examples/connections.toml").to_string());
    let mut config: ConnectionsConfig = match std::fs::read_to_string(&path).map(|text| toml::from_str(&text)) {
        Ok(Ok(config)) => config,
        Ok(Err(error)) => {
            eprintln!("{path}: {error}");
            return ExitCode::from(2);
        }
        Err(error) => {
            eprintln!("{path}: {error}");
            return ExitCode::from(2);
        }
    };

    // Kept until the end of `main`: dropping a sandbox stops its server.
    let mut _sandboxes = None;
    if !config.connections.iter().any(|c| available(c.secret())) {
        let names: Vec<String> = config.connections.iter().map(|c| describe(c.secret())).collect();
        println!("No credentials configured ({}): testing against the sandbox.", names.join(", "));
        let (scim, freshservice) = match tokio::try_join!(ScimSandbox::start(), FreshserviceSandbox::start()) {
            Ok(sandboxes) => sandboxes,
            Err(error) => {
                eprintln!("could not start the sandbox: {error}");
                return ExitCode::FAILURE;
            }
        };
        point_at_sandbox(&mut config, &scim, &freshservice);
        _sandboxes = Some((scim, freshservice));
    }

    let connections = match config.build() {
        Ok(connections) => connections,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    let mut failed = 0;
    for connection in &connections {
        let outcome = match connection.client.test_connection().await {
            Ok(_report) => "ok".to_string(),
            Err(error) => {
                failed += 1;
                format!("failed: {error}")
            }
        };
        println!("{:<15} {:<13} {outcome}", connection.name, connection.app());
    }
    if failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Whether the credential can be read: its variable is set or its file exists.
fn available(secret: &SecretSource) -> bool {
    match secret {
        SecretSource::Env(name) => std::env::var_os(name).is_some(),
        SecretSource::File(path) => path.exists(),
        _ => true,
    }
}

/// The variable's name or the file's path, never a value.
fn describe(secret: &SecretSource) -> String {
    match secret {
        SecretSource::Env(name) => name.clone(),
        SecretSource::File(path) => path.display().to_string(),
        _ => "an inline secret".to_string(),
    }
}

/// The same connections, with each app's address and credential replaced by the sandbox's (the
/// SCIM sandbox plays Interact and any SCIM service). Client settings and options stay as written.
fn point_at_sandbox(config: &mut ConnectionsConfig, scim: &ScimSandbox, freshservice: &FreshserviceSandbox) {
    for connection in &mut config.connections {
        match connection {
            ConnectorConfig::Interact(c) | ConnectorConfig::Scim(c) => {
                c.instance_url = None;
                c.loopback_url = Some(scim.base_url().to_string());
                c.token = SecretSource::Inline(scim.token().into());
            }
            ConnectorConfig::Freshservice(c) => {
                c.instance = None;
                c.loopback_url = Some(freshservice.base_url().to_string());
                c.api_key = SecretSource::Inline(freshservice.api_key().into());
            }
            _ => {}
        }
    }
}
