//! `InteractBearer` through its whole lifecycle against a real SCIM server: python-scim's
//! `scim2-server` 0.8.3, loaded with RFC 7643's schemas plus Interact's user extension
//! (`tests/fixtures/scim/interact-*.json`), so the extension is validated, stored and patched by
//! an independent implementation like the core attributes. See `common/peer.rs` for how the server
//! is installed and started, and `IDENTITY_CONNECTORS_SKIP_PEER`.

#[path = "support/common/mod.rs"]
mod common;

use common::lifecycle::{self, Quirks, Target};
use common::peer::{self, Schemas};
use identity_connectors::{Connector, InteractBearer, Result};

fn connect(base_url: &str, token: &str) -> Result<Box<dyn Connector>> {
    Ok(Box::new(InteractBearer::for_loopback(base_url, token.to_string())?))
}

/// A fresh tenant of the peer for one test, or `None` when peer tests are skipped.
fn target(tenant: &str) -> Option<Target> {
    let peer = peer::peer(Schemas::Interact, tenant)?;
    Some(Target {
        base_url: peer.tenant_url(&format!("interact-{tenant}")),
        token: peer::TOKEN.to_string(),
        connect,
        interact_extension: true,
        unauthorized_hint: "Check the SCIM profile source's key (Control Panel > Profile Sources)",
        quirks: Quirks::STANDARD,
    })
}

/// One test per lifecycle step, named after it, in a module named after the peer so the test
/// output reads `scim2_server::<step> ... ok`.
macro_rules! peer_tests {
    ($($name:ident),* $(,)?) => {
        mod scim2_server {
            use super::{lifecycle, target};
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(target) = target(stringify!($name)) else { return };
                    lifecycle::$name(&target).await;
                }
            )*
        }
    };
}

peer_tests!(
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
