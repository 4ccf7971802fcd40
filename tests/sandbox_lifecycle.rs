//! The shared SCIM lifecycle suite (`common/lifecycle.rs`), unchanged, against the in-process
//! SCIM sandbox: once through `InteractBearer` (the sandbox plays Interact and knows its
//! extension) and once through the generic `ScimBearer`. The same functions run against the real
//! `scim2-server` in `interact_peer.rs` and `scim_peer.rs`.

#[path = "support/common/mod.rs"]
mod common;

use common::lifecycle::{self, Quirks, Target};
use identity_connectors::sandbox::ScimSandbox;
use identity_connectors::{Connector, InteractBearer, Result, ScimBearer};

fn interact(base_url: &str, token: &str) -> Result<Box<dyn Connector>> {
    Ok(Box::new(InteractBearer::for_loopback(base_url, token.to_string())?))
}

fn scim(base_url: &str, token: &str) -> Result<Box<dyn Connector>> {
    Ok(Box::new(ScimBearer::for_loopback(base_url, token.to_string())?))
}

/// A fresh sandbox for one test, and the target describing it (the sandbox must outlive the test).
async fn interact_target() -> (ScimSandbox, Target) {
    let sandbox = ScimSandbox::start().await.expect("the sandbox must start");
    let target = Target {
        base_url: sandbox.base_url().to_string(),
        token: sandbox.token().to_string(),
        connect: interact,
        interact_extension: true,
        unauthorized_hint: "Check the SCIM profile source's key (Control Panel > Profile Sources)",
        quirks: Quirks::STANDARD,
    };
    (sandbox, target)
}

async fn scim_target() -> (ScimSandbox, Target) {
    let sandbox = ScimSandbox::start().await.expect("the sandbox must start");
    let target = Target {
        base_url: sandbox.base_url().to_string(),
        token: sandbox.token().to_string(),
        connect: scim,
        interact_extension: false,
        unauthorized_hint: "Check the bearer token configured for this SCIM service",
        quirks: Quirks::STANDARD,
    };
    (sandbox, target)
}

/// One test per lifecycle step and connector, named after the step, in modules named after the
/// connector so the output reads `interact::<step> ... ok`.
macro_rules! sandbox_tests {
    ($($name:ident),* $(,)?) => {
        mod interact {
            use super::{interact_target, lifecycle};
            $(
                #[tokio::test]
                async fn $name() {
                    let (_sandbox, target) = interact_target().await;
                    lifecycle::$name(&target).await;
                }
            )*
        }
        mod scim {
            use super::{lifecycle, scim_target};
            $(
                #[tokio::test]
                async fn $name() {
                    let (_sandbox, target) = scim_target().await;
                    lifecycle::$name(&target).await;
                }
            )*
        }
    };
}

sandbox_tests!(
    provision_then_provision_again_links,
    provision_refuses_incomplete_user,
    update_changes_only_what_is_given,
    deactivate_and_reactivate,
    find_by_user_name_email_and_external_id,
    list_pages_through_everyone,
    delete_then_delete_again,
    wrong_token_is_unauthorized,
    joiner_mover_leaver_groups,
);
