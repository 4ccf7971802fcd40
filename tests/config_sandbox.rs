//! Clients built from configuration work: every app's connection, built from TOML, provisions a
//! person in the sandbox, and a wrong credential fails the connection test in words.

use identity_connectors::config::{ConnectionsConfig, ConnectorConfig, ScimConfig, SecretSource};
use identity_connectors::prelude::*;
use identity_connectors::sandbox::{FreshserviceSandbox, ScimSandbox};
use identity_connectors::{InteractAttributes, LoginType, ProvisionOutcome, User};

fn temp_file(name: &str, content: &[u8]) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("identity-connectors-config-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, content).expect("temp file");
    path
}

fn toml_config(text: &str) -> ConnectionsConfig {
    toml::from_str(text).unwrap_or_else(|e| panic!("the TOML must parse: {e}"))
}

/// Every app's connection, built from TOML, provisions a person in the sandbox.
#[tokio::test]
async fn built_clients_provision_against_the_sandbox() {
    let (interact, freshservice) =
        tokio::try_join!(ScimSandbox::start(), FreshserviceSandbox::start()).expect("sandboxes");
    let token_file = temp_file("sandbox-token", format!("{}\n", interact.token()).as_bytes());
    let config = toml_config(&format!(
        r#"
        [[connections]]
        type = "interact"
        name = "Intranet"
        loopback_url = "{interact_url}"
        token = {{ file = "{token_file}" }}
        client = {{ timeout = "5s", retry = {{ max_attempts = 2 }} }}

        [[connections]]
        type = "scim"
        name = "Directory"
        loopback_url = "{interact_url}"
        token = "{interact_token}"

        [[connections]]
        type = "freshservice"
        name = "Service desk"
        loopback_url = "{freshservice_url}"
        api_key = "{api_key}"
        default_kind = "requester"
        "#,
        interact_url = interact.base_url(),
        token_file = token_file.display(),
        interact_token = interact.token(),
        freshservice_url = freshservice.base_url(),
        api_key = freshservice.api_key(),
    ));
    let connections = config.build().expect("every connection builds");
    let names: Vec<(&str, &str)> = connections.iter().map(|c| (c.name.as_str(), c.app())).collect();
    assert_eq!(names, [("Intranet", "interact"), ("Directory", "scim"), ("Service desk", "freshservice")]);

    let jane = User::builder("jane.doe@example.com")
        .external_id("E1001")
        .email("jane.doe@example.com")
        .given_name("Jane")
        .family_name("Doe")
        .interact(InteractAttributes::new(LoginType::Saml))
        .build();
    let [intranet, directory, desk] = connections.as_slice() else { panic!("three") };
    for connection in &connections {
        connection.client.test_connection().await.unwrap_or_else(|e| panic!("{}: {e}", connection.name));
    }
    let provisioned = intranet.client.provision(&jane).await.expect("provisioned in Interact");
    assert_eq!(provisioned.outcome, ProvisionOutcome::Created);
    assert_eq!(interact.user_count(), 1);
    let stored = interact.user_by_user_name("jane.doe@example.com").expect("stored");
    assert_eq!(stored["name"]["givenName"], "Jane");
    // The generic SCIM connection reaches the same server and links the same person (asked
    // without Interact's own attributes, which a generic SCIM client does not manage).
    let plain = User::builder("jane.doe@example.com")
        .external_id("E1001")
        .email("jane.doe@example.com")
        .given_name("Jane")
        .family_name("Doe")
        .build();
    let linked = directory.client.provision(&plain).await.expect("linked");
    assert_eq!((linked.outcome, &linked.user.id), (ProvisionOutcome::Linked, &provisioned.user.id));
    assert_eq!(interact.user_count(), 1);
    let created = desk.client.provision(&jane).await.expect("provisioned in Freshservice");
    assert_eq!(created.outcome, ProvisionOutcome::Created);
    assert_eq!(freshservice.user_count(), 1);
    let record = freshservice.user_by_email("jane.doe@example.com").expect("stored");
    assert_eq!(record["requester"]["first_name"], "Jane", "{record}");
    assert_eq!(record.get("agent"), None, "{record}");
}

/// A wrong credential builds (it is well formed) and the connection test says, in words, that it
/// was refused.
#[tokio::test]
async fn a_wrong_credential_fails_the_connection_test_in_words() {
    let interact = ScimSandbox::start().await.expect("sandbox");
    let config = ScimConfig::loopback("Intranet", interact.base_url(), SecretSource::Inline("wrong-token-0000".into()));
    let client = ConnectorConfig::Interact(config).build_client().expect("builds");
    let error = client.test_connection().await.unwrap_err();
    assert_eq!(error.status(), Some(401));
    assert!(!error.to_string().contains("wrong-token-0000"), "{error}");
}
