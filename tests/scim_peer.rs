//! `ScimBearer`, the generic SCIM 2.0 connector, through its whole lifecycle against a real SCIM
//! server: python-scim's `scim2-server` 0.8.3 with RFC 7643's schemas (see `common/peer.rs` for
//! how it is installed and started, and `IDENTITY_CONNECTORS_SKIP_PEER`).

#[path = "support/common/mod.rs"]
mod common;

use common::lifecycle::{self, Quirks, Target};
use common::peer::{self, Schemas};
use identity_connectors::{Connector, Result, ScimBearer};

fn connect(base_url: &str, token: &str) -> Result<Box<dyn Connector>> {
    Ok(Box::new(ScimBearer::for_loopback(base_url, token.to_string())?))
}

/// A fresh tenant of the peer for one test, or `None` when peer tests are skipped.
fn target(tenant: &str) -> Option<Target> {
    let peer = peer::peer(Schemas::Rfc, tenant)?;
    Some(Target {
        base_url: peer.tenant_url(&format!("scim-{tenant}")),
        token: peer::TOKEN.to_string(),
        connect,
        interact_extension: false,
        unauthorized_hint: "Check the bearer token configured for this SCIM service",
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

/// Discovery and the ETag path against the real server.
mod scim2_server_discovery {
    use super::{Schemas, peer};
    use identity_connectors::{Client, Connector, ProvisionOutcome, ScimBearer, User};

    fn connector(tenant: &str) -> Option<ScimBearer> {
        let peer = peer::peer(Schemas::Rfc, tenant)?;
        Some(ScimBearer::for_loopback(&peer.tenant_url(&format!("scim-{tenant}")), peer::TOKEN).expect("connector"))
    }

    fn person(tenant: &str) -> User {
        User::builder(format!("{tenant}@example.com"))
            .external_id(format!("E-{tenant}"))
            .given_name("Dee")
            .family_name("Scovery")
            .title("Engineer")
            .department("R&D")
            .build()
    }

    #[tokio::test]
    async fn discovery_reads_every_document_and_repeated_provisions_send_no_write() {
        let Some(connector) = connector("discovery") else { return };
        let client = Client::new(connector).expect("client");
        let report = client.test_connection().await.expect("test connection");
        for line in [
            "/ServiceProviderConfig: found",
            "/ResourceTypes: found",
            "/Schemas: found",
            "PATCH supported: updates are PATCHes",
            "ETags supported: writes to a read user carry If-Match",
        ] {
            assert!(report.details.iter().any(|d| d == line), "{line:?} missing from {report}");
        }
        assert!(report.details.iter().any(|d| d.contains("extension:enterprise:2.0:user")), "{report}");
        let person = person("discovery");
        let first = client.provision(&person).await.expect("first");
        assert_eq!((first.outcome, first.skipped.len()), (ProvisionOutcome::Created, 0));
        for run in ["second", "third"] {
            let again = client.provision(&person).await.expect(run);
            assert_eq!((again.outcome, again.skipped.len()), (ProvisionOutcome::Linked, 0), "{run}");
        }
    }

    #[tokio::test]
    async fn a_write_from_a_stale_read_is_retried_and_loses_no_concurrent_edit() {
        let Some(ours) = connector("etag") else { return };
        let Some(other) = connector("etag") else { return };
        let client = Client::new(other).expect("client");
        let created = client.provision(&person("etag")).await.expect("provision").user;
        let stale = client.get(&created.id).await.expect("read");
        assert!(stale.version.is_some(), "the peer gives ETags");
        // Someone else changes the nick name after our read.
        let mut nick = User::default();
        nick.nick_name = Some("Dee".into());
        client.update(&created.id, &nick).await.expect("the other edit");
        // Our write names the stale version: 412, re-read, re-diff, retry once.
        let mut title = User::default();
        title.title = Some("Lead".into());
        let outcome = ours.update_user(client.http(), &created.id, &title, Some(&stale)).await.expect("update");
        assert!(outcome.is_applied());
        let now = client.get(&created.id).await.expect("read back");
        assert_eq!((now.user.title.as_deref(), now.user.nick_name.as_deref()), (Some("Lead"), Some("Dee")));
    }
}
