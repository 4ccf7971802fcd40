//! Issue 11's "done when", under every SCIM sandbox profile ([`ScimProfile::ALL`]) and through
//! both SCIM connectors:
//!
//! - the shared lifecycle suite (`common/lifecycle.rs`), one test per profile, connector and step,
//!   told what the profile does not store ([`Quirks`]) so that it states exactly what must hold;
//! - the scenario: a person with `externalId`, department, manager (and Interact's
//!   attributes through `InteractBearer`) provisioned three times: the second and third runs send
//!   no write, a real change sends exactly one; a change someone else makes meanwhile survives (also
//!   when it lands between the client's read and its write: ETag profiles answer the stale write
//!   `412` and the client re-reads); deprovisioning under a case variant deactivates the account.
//!
//! - the shared group flow (`common/group_flow.rs`): joiners → mover → leavers under injected
//!   faults, ending with exactly the memberships asked for; under `NoPatch` the connectors refuse
//!   member changes with `Error::Unsupported` and nothing changes.
//!
//! Profiles a test cannot miss: a macro lists them with an exhaustive `match`, so a new profile does
//! not compile until it is added here.

#[path = "support/common/mod.rs"]
mod common;

use std::time::Duration;

use common::lifecycle::{Quirks, Target, sorted};
use identity_connectors::prelude::*;
use identity_connectors::sandbox::{Fault, FaultKind, Faults, RequestRecord, ScimProfile, ScimSandbox};
use identity_connectors::{
    Client, Connector, DeprovisionOutcome, InteractAttributes, InteractBearer, LoginType, Method, ProvisionOutcome,
    Result, ScimBearer, User, UserId,
};
use serde_json::{Value, json};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const INTERACT: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn interact(base_url: &str, token: &str) -> Result<Box<dyn Connector>> {
    Ok(Box::new(InteractBearer::for_loopback(base_url, token.to_string())?))
}

fn scim(base_url: &str, token: &str) -> Result<Box<dyn Connector>> {
    Ok(Box::new(ScimBearer::for_loopback(base_url, token.to_string())?))
}

/// What `profile` does not store, as the lifecycle suite needs to know it. An exhaustive match,
/// so a new profile must be placed here.
fn quirks(profile: ScimProfile) -> Quirks {
    let standard = Quirks::STANDARD;
    match profile {
        ScimProfile::NoEnterpriseExtension => Quirks { enterprise: false, ..standard },
        ScimProfile::ReadOnlyExternalId => Quirks { external_id_writable: false, ..standard },
        // Members change only through PATCH: without it the connectors refuse (Unsupported).
        ScimProfile::NoPatch => Quirks { group_writes: false, ..standard },
        // The sandbox's page size under this profile when the builder sets none (see its docs).
        ScimProfile::FilterIgnoredPaged => Quirks { page_size: 2, ..standard },
        ScimProfile::Standard
        | ScimProfile::NoFilter
        | ScimProfile::NoEtag
        | ScimProfile::CaseSensitiveUserName
        | ScimProfile::NoDiscovery
        | ScimProfile::GarbageDiscovery => standard,
        _ => panic!("profile {profile} is not described here yet"),
    }
}

/// A fresh sandbox playing `profile`, and the lifecycle target describing it through the
/// Interact connector (`interact_extension`) or the generic one.
async fn target(profile: ScimProfile, interact_extension: bool) -> (ScimSandbox, Target) {
    let sandbox = ScimSandbox::builder().profile(profile).start().await.expect("the sandbox must start");
    let (connect, unauthorized_hint): (common::lifecycle::Connect, &'static str) = if interact_extension {
        (interact, "Check the SCIM profile source's key (Control Panel > Profile Sources)")
    } else {
        (scim, "Check the bearer token configured for this SCIM service")
    };
    let target = Target {
        base_url: sandbox.base_url().to_string(),
        token: sandbox.token().to_string(),
        connect,
        interact_extension,
        unauthorized_hint,
        quirks: quirks(profile),
    };
    (sandbox, target)
}

/// One module per profile, holding `interact` and `scim` modules with one test per lifecycle step
/// plus the scenario, so the output reads `no_patch::scim::deactivate_and_reactivate`.
macro_rules! profile_tests {
    ($($module:ident => $profile:ident),* $(,)?) => {
        /// Every profile has a module here.
        #[test]
        fn every_profile_is_covered() {
            let covered = [$(ScimProfile::$profile),*];
            assert_eq!(covered.as_slice(), ScimProfile::ALL);
        }
        $(
            mod $module {
                use super::ScimProfile;
                pub(super) const PROFILE: ScimProfile = ScimProfile::$profile;
                mod interact {
                    use crate::common::group_flow::{Injector, ScimWorld};
                    steps!(true);
                }
                mod scim {
                    use crate::common::group_flow::{Injector, ScimWorld};
                    steps!(false);
                }
            }
        )*
    };
}

/// The tests of one profile module and connector.
macro_rules! steps {
    ($interact:expr) => {
        steps!(@each $interact;
            provision_then_provision_again_links,
            provision_refuses_incomplete_user,
            update_changes_only_what_is_given,
            deactivate_and_reactivate,
            find_by_user_name_email_and_external_id,
            list_pages_through_everyone,
            delete_then_delete_again,
            wrong_token_is_unauthorized,
        );
        #[tokio::test]
        async fn provisioned_three_times_concurrent_edit_and_case_variant() {
            crate::scenario(super::PROFILE, $interact).await;
        }
        #[tokio::test]
        async fn joiner_mover_leaver_groups_under_faults() {
            let (sandbox, target) = crate::target(super::PROFILE, $interact).await;
            let seed = 12 + super::ScimProfile::ALL.iter().position(|p| *p == super::PROFILE).unwrap_or(0) as u64;
            let world = ScimWorld { target: &target, injector: Injector::Sandbox(&sandbox, seed) };
            crate::common::group_flow::joiner_mover_leaver(&world).await;
        }
    };
    (@each $interact:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                let (_sandbox, target) = crate::target(super::PROFILE, $interact).await;
                crate::common::lifecycle::$name(&target).await;
            }
        )*
    };
}

profile_tests!(
    standard => Standard,
    no_patch => NoPatch,
    no_filter => NoFilter,
    filter_ignored_paged => FilterIgnoredPaged,
    no_etag => NoEtag,
    read_only_external_id => ReadOnlyExternalId,
    no_enterprise_extension => NoEnterpriseExtension,
    case_sensitive_user_name => CaseSensitiveUserName,
    no_discovery => NoDiscovery,
    garbage_discovery => GarbageDiscovery,
);

/// The writes (`POST`/`PUT`/`PATCH`/`DELETE` of users; `/.search` is a read) among `records`.
fn writes(records: &[RequestRecord]) -> Vec<(String, String, Option<u16>)> {
    records
        .iter()
        .filter(|r| r.method != "GET" && r.path.contains("/Users") && !r.path.contains("/.search"))
        .map(|r| (r.method.clone(), r.path.clone(), r.status))
        .collect()
}

/// The writes the sandbox received since request number `mark`.
fn writes_since(sandbox: &ScimSandbox, mark: usize) -> Vec<(String, String, Option<u16>)> {
    writes(sandbox.requests().get(mark..).unwrap_or_default())
}

/// Someone else's change through plain HTTP: `nickName` set to `value` with a `PATCH`, or, where
/// the server has no `PATCH`, with a `PUT` of the user as read.
async fn someone_else_sets_nick_name(sandbox: &ScimSandbox, id: &UserId, value: &str) {
    let http = reqwest::Client::builder().no_proxy().build().expect("client");
    let url = format!("{}/Users/{}", sandbox.base_url(), id.as_str());
    let request = if sandbox.profile() == ScimProfile::NoPatch {
        let mut body = sandbox.user(id.as_str()).expect("the user exists");
        body["nickName"] = json!(value);
        http.put(&url).body(body.to_string())
    } else {
        let body =
            json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "nickName", "value": value}]});
        http.patch(&url).body(body.to_string())
    };
    let response = request
        .bearer_auth(sandbox.token())
        .header("Content-Type", "application/scim+json")
        .send()
        .await
        .expect("the sandbox answers");
    let status = response.status().as_u16();
    assert!(matches!(status, 200 | 204), "{}: someone else's write must land: {status}", sandbox.profile());
}

fn stored(sandbox: &ScimSandbox, id: &UserId) -> Value {
    sandbox.user(id.as_str()).expect("the user exists")
}

/// The scenario under `profile`, through `InteractBearer` (with Interact's attributes) or
/// `ScimBearer`. Every assertion names the profile and connector.
async fn scenario(profile: ScimProfile, with_interact: bool) {
    let (sandbox, target) = target(profile, with_interact).await;
    let at = format!("{profile} / {}", if with_interact { "interact" } else { "scim" });
    let quirks = target.quirks;
    let client: Client = target.client();

    let mut boss = User::builder("boss-x").external_id("E-BOSS").given_name("Bo").family_name("Ss").build();
    if with_interact {
        boss.set_interact(InteractAttributes::new(LoginType::Saml));
    }
    let boss_id = client.provision(&boss).await.unwrap_or_else(|e| panic!("{at}: provision the manager: {e}")).user.id;

    let mut builder = User::builder("casey-x")
        .external_id("E-CASEY")
        .given_name("Casey")
        .family_name("Exe")
        .email("casey@example.com")
        .title("Analyst")
        .department("Finance")
        .manager(boss_id.as_str());
    if with_interact {
        builder = builder.interact(
            InteractAttributes::new(LoginType::Saml).location("London").job_start_date("2026-01-05T00:00:00Z"),
        );
    }
    let mut casey = builder.build();
    let mut expected_skipped = Vec::new();
    if !quirks.external_id_writable {
        expected_skipped.push("externalId".to_string());
    }
    if !quirks.enterprise {
        expected_skipped.push(format!("{ENTERPRISE}:department"));
        expected_skipped.push(format!("{ENTERPRISE}:manager"));
    }
    let expected_skipped = sorted(expected_skipped);

    // Run 1 creates.
    let first = client.provision(&casey).await.unwrap_or_else(|e| panic!("{at}: run 1: {e}"));
    assert_eq!(first.outcome, ProvisionOutcome::Created, "{at}: run 1");
    assert_eq!(sorted(first.skipped.clone()), expected_skipped, "{at}: run 1 reports what was not stored");
    let id = first.user.id.clone();
    let user = stored(&sandbox, &id);
    if quirks.enterprise {
        assert_eq!(user[ENTERPRISE]["department"], "Finance", "{at}: {user}");
        assert_eq!(user[ENTERPRISE]["manager"]["value"], boss_id.as_str(), "{at}: {user}");
    } else {
        assert_eq!(user.get(ENTERPRISE), None, "{at}: {user}");
    }
    let external_id = if quirks.external_id_writable { json!("E-CASEY") } else { Value::Null };
    assert_eq!(user["externalId"], external_id, "{at}: {user}");
    if with_interact {
        assert_eq!(user[INTERACT]["location"], "London", "{at}: {user}");
    }

    // Runs 2 and 3 link and write nothing.
    for run in 2..=3 {
        let mark = sandbox.requests().len();
        let again = client.provision(&casey).await.unwrap_or_else(|e| panic!("{at}: run {run}: {e}"));
        assert_eq!(again.outcome, ProvisionOutcome::Linked, "{at}: run {run}");
        assert_eq!(again.user.id, id, "{at}: run {run}");
        assert_eq!(sorted(again.skipped.clone()), expected_skipped, "{at}: run {run} still reports the skipped");
        assert_eq!(writes_since(&sandbox, mark), [], "{at}: run {run} must send no write");
    }

    // A real change between runs: exactly one write, of that user.
    casey.title = Some("Lead Analyst".to_string());
    let mark = sandbox.requests().len();
    let changed = client.provision(&casey).await.unwrap_or_else(|e| panic!("{at}: changed run: {e}"));
    assert_eq!(changed.outcome, ProvisionOutcome::Updated, "{at}: changed run");
    let method = if profile == ScimProfile::NoPatch { "PUT" } else { "PATCH" };
    let path = format!("/scim/v2/Users/{}", id.as_str());
    let written = writes_since(&sandbox, mark);
    let sent: Vec<_> = written.iter().map(|w| (w.0.as_str(), w.1.as_str())).collect();
    assert_eq!(sent, [(method, path.as_str())], "{at}: only the real change is written: {written:?}");
    assert!(matches!(written[0].2, Some(200 | 204)), "{at}: the change is accepted: {written:?}");
    assert_eq!(stored(&sandbox, &id)["title"], "Lead Analyst", "{at}");

    // Someone else changes nickName; our next run changes familyName; both hold.
    someone_else_sets_nick_name(&sandbox, &id, "Cas").await;
    casey.name.get_or_insert_with(Default::default).family_name = Some("Exeter".to_string());
    let next = client.provision(&casey).await.unwrap_or_else(|e| panic!("{at}: run after someone else's edit: {e}"));
    assert_eq!(next.outcome, ProvisionOutcome::Updated, "{at}");
    let user = stored(&sandbox, &id);
    assert_eq!(user["nickName"], "Cas", "{at}: someone else's change must survive: {user}");
    assert_eq!(user["name"]["familyName"], "Exeter", "{at}: {user}");

    // Someone else's change lands between our read and our write: the write is held back (a
    // delay fault on the first write, long enough for a loaded machine) while the other lands.
    sandbox.set_faults(
        Faults::seeded(1)
            .rate(1.0)
            .fault(Fault::Delay(Duration::from_millis(1500)))
            .only(&[Method::Patch, Method::Put])
            .at_most(1),
    );
    casey.title = Some("Director".to_string());
    let mark = sandbox.requests().len();
    let racing = tokio::spawn({
        let client = client.clone();
        let casey = casey.clone();
        async move { client.provision(&casey).await }
    });
    let mut waited = 0;
    while sandbox.stats().faults.get(&FaultKind::Delay).copied().unwrap_or(0) == 0 {
        assert!(waited < 500, "{at}: the client's write never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
        waited += 1;
    }
    someone_else_sets_nick_name(&sandbox, &id, "Cassie").await;
    let raced = racing.await.expect("the task runs").unwrap_or_else(|e| panic!("{at}: the racing run: {e}"));
    assert_eq!(raced.outcome, ProvisionOutcome::Updated, "{at}");
    let user = stored(&sandbox, &id);
    assert_eq!(user["nickName"], "Cassie", "{at}: a change made between our read and write must survive: {user}");
    assert_eq!(user["title"], "Director", "{at}: our change lands too: {user}");
    let ours: Vec<_> = writes_since(&sandbox, mark).into_iter().filter(|w| w.1 == path).collect();
    // The client uses ETags only where discovery declares them; elsewhere its PATCH names only
    // what it changes, so the other change survives without them (asserted above).
    let etag_declared =
        !matches!(profile, ScimProfile::NoEtag | ScimProfile::NoDiscovery | ScimProfile::GarbageDiscovery);
    if !etag_declared {
        assert_eq!(ours.iter().filter(|w| w.2 == Some(412)).count(), 0, "{at}: no If-Match, no 412: {ours:?}");
    } else {
        let statuses: Vec<_> = ours.iter().filter(|w| w.0 == method).map(|w| w.2).collect();
        // The other writer's own request is among them (200); ours is refused once, then lands.
        assert_eq!(
            statuses.iter().filter(|s| **s == Some(412)).count(),
            1,
            "{at}: the stale write must get 412: {ours:?}"
        );
        assert!(matches!(statuses.last(), Some(Some(200 | 204))), "{at}: then re-read and written: {ours:?}");
    }

    // Deprovisioning under a case variant deactivates the account.
    let variant = User::builder("CASEY-X").build();
    let outcome = client.deprovision(&variant).await.unwrap_or_else(|e| panic!("{at}: deprovision CASEY-X: {e}"));
    assert_eq!(outcome, DeprovisionOutcome::Deactivated, "{at}: CASEY-X is casey-x");
    assert_eq!(stored(&sandbox, &id)["active"], false, "{at}: the account must be inactive");

    // Also when the stored name is in neither the asked case nor lower case.
    let mut robin = User::builder("Robin-Y").external_id("E-ROBIN").given_name("Robin").family_name("Why").build();
    if with_interact {
        robin.set_interact(InteractAttributes::new(LoginType::Saml));
    }
    let robin_id = client.provision(&robin).await.unwrap_or_else(|e| panic!("{at}: provision Robin-Y: {e}")).user.id;
    let outcome = client
        .deprovision(&User::builder("ROBIN-Y").build())
        .await
        .unwrap_or_else(|e| panic!("{at}: deprovision ROBIN-Y: {e}"));
    assert_eq!(outcome, DeprovisionOutcome::Deactivated, "{at}: ROBIN-Y is Robin-Y");
    assert_eq!(stored(&sandbox, &robin_id)["active"], false, "{at}: the account must be inactive");
    assert_eq!(sandbox.user_count(), 3, "{at}: no one created twice");
}
