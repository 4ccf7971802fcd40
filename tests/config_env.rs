//! Secrets from environment variables that are set. Alone in its own test binary: it sets
//! variables, and changing the environment is sound only while no other thread reads it.

use identity_connectors::config::{ConnectionsConfig, SecretSource};
use identity_connectors::sandbox::ScimSandbox;
use secrecy::ExposeSecret as _;

const TOKEN_VAR: &str = "IDENTITY_CONNECTORS_TEST_CONFIG_TOKEN";
const EMPTY_VAR: &str = "IDENTITY_CONNECTORS_TEST_CONFIG_EMPTY";

#[test]
fn environment_variables_resolve_and_build() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let sandbox = runtime.block_on(ScimSandbox::start()).expect("sandbox");
    // SAFETY: this is the only test in this binary and the runtime above is single-threaded and
    // idle, so no other thread reads the environment while it changes.
    unsafe {
        std::env::set_var(TOKEN_VAR, sandbox.token());
        std::env::set_var(EMPTY_VAR, "  ");
    }

    assert_eq!(SecretSource::Env(TOKEN_VAR.into()).resolve().unwrap().expose_secret(), sandbox.token());
    assert_eq!(
        SecretSource::Env(EMPTY_VAR.into()).resolve().unwrap_err(),
        format!("environment variable {EMPTY_VAR} is empty")
    );

    let config: ConnectionsConfig = toml::from_str(&format!(
        "[[connections]]\ntype = \"interact\"\nname = \"Intranet\"\nloopback_url = \"{}\"\ntoken = {{ env = \"{TOKEN_VAR}\" }}\n",
        sandbox.base_url()
    ))
    .expect("parses");
    let connections = config.build().expect("builds");
    runtime.block_on(connections[0].client.test_connection()).expect("the token from the environment is accepted");
    let debug = format!("{config:?} {connections:?}");
    assert!(debug.contains(TOKEN_VAR) && !debug.contains(sandbox.token()), "{debug}");
}
