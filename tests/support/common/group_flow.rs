//! The group part of the shared lifecycle suite: joiners get groups, movers change them, leavers
//! lose them, under injected faults where the target can inject them, and afterwards the server
//! holds exactly the memberships asked for: nobody lost, nobody twice, no account or group
//! created twice.
//!
//! It runs against any target that implements [`GroupWorld`]: a SCIM server ([`ScimWorld`]: the
//! `scim2-server` peer, or the SCIM sandbox under any profile, through `ScimBearer` or
//! `InteractBearer`), or the Freshservice sandbox ([`FreshserviceWorld`]). State is checked with
//! faults switched off: through plain HTTP for SCIM (so the peer is checked the same way), through
//! the sandbox's accessors for Freshservice. A target whose server cannot change memberships
//! (no `PATCH`) must refuse with [`Error::Unsupported`] and change nothing.

use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt as _;
use identity_connectors::sandbox::{Fault, FaultKind, Faults, FreshserviceSandbox, ScimSandbox};
use identity_connectors::{
    Client, DeprovisionOutcome, DeprovisionPolicy, Error, GroupRef, NewGroup, Result, RetryPolicy, User,
};
use serde_json::Value;

use super::lifecycle::{Target, sorted};

/// The groups every run uses: three, so that a server paging two at a time shows whether the
/// client reads past the first page.
pub const GROUPS: [&str; 3] = ["Employees", "Contractors", "Engineering"];

/// A retry policy short enough for runs with many injected faults.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy::default().with_base_delay(Duration::from_millis(5)).with_max_delay(Duration::from_millis(50))
}

/// The faults the flow runs under: 30 % of requests throttled, unavailable, dropped before or
/// after the server applied them.
pub fn faults(seed: u64) -> Faults {
    Faults::seeded(seed)
        .rate(0.3)
        .fault(Fault::Throttle { retry_after: Duration::from_millis(10) })
        .fault(Fault::Unavailable)
        .fault(Fault::Drop)
        .fault(Fault::DropAfterCommit)
}

fn name(text: &str) -> GroupRef {
    GroupRef::name(text).expect("a valid group name")
}

/// Runs `step` until it succeeds, at most 20 times: every step is idempotent, so a run cut short
/// by a fault is simply run again. Only a fault may fail a run.
pub async fn until_ok<T, F, Fut>(what: &str, mut step: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    for run in 1..=20 {
        match step().await {
            Ok(value) => return value,
            Err(error) if run < 20 => {
                assert!(error.is_retryable() || error.outcome_unknown(), "{what}: only faults may fail a run: {error}");
            }
            Err(error) => panic!("{what}: still failing after 20 runs: {error}"),
        }
    }
    unreachable!("the loop returns or panics")
}

/// A target of the group flow: how to reach it, seed it, inject faults and read its state.
pub trait GroupWorld {
    /// Names the target in assertion messages.
    fn label(&self) -> String;
    /// A client of the connector under test, with [`fast_retry`].
    fn client(&self) -> Client;
    /// Person number `i`, with everything the connector requires.
    fn person(&self, i: usize) -> User;
    /// Whether the server lets the client change memberships (else: [`Error::Unsupported`]).
    fn group_writes(&self) -> bool;
    /// Whether deactivating an account leaves its memberships (Freshservice removes a
    /// deactivated requester from every requester group itself; a sandbox may not).
    fn deactivation_keeps_memberships(&self) -> bool;
    /// Makes the groups [`GROUPS`] exist (faults off) and returns their ids, in that order.
    fn seed_groups(&self, client: &Client) -> impl Future<Output = Vec<String>>;
    /// Switches fault injection on or off (a no-op for a target without it).
    fn faults(&self, on: bool);
    /// How many faults were injected, or `None` for a target without fault injection.
    fn faults_injected(&self) -> Option<u64>;
    /// The server's member ids of group `id`, as stored (a duplicate would show twice).
    fn members(&self, id: &str) -> impl Future<Output = Vec<String>>;
    /// The server's id of `person`, who must exist once.
    fn user_id(&self, person: &User) -> impl Future<Output = String>;
    /// How many accounts and how many groups the server holds.
    fn counts(&self) -> impl Future<Output = (usize, usize)>;
    /// Whether `person`'s account is active.
    fn active(&self, person: &User) -> impl Future<Output = bool>;
}

/// Joiners → mover → leavers, under faults (see the module documentation).
pub async fn joiner_mover_leaver<W: GroupWorld>(w: &W) {
    let at = w.label();
    let client = w.client();
    // Discovery is read once per client and kept: read it before any fault can spoil it.
    client.test_connection().await.unwrap_or_else(|e| panic!("{at}: test_connection: {e}"));
    let ids = w.seed_groups(&client).await;
    let (employees, contractors, engineering) = (&ids[0], &ids[1], &ids[2]);
    let people: Vec<User> = (1..=5).map(|i| w.person(i)).collect();

    if !w.group_writes() {
        let jane = &people[0];
        client.provision(jane).await.unwrap_or_else(|e| panic!("{at}: provision: {e}"));
        for error in [
            client.grant(jane, &name("Employees")).await.expect_err("grant must be refused"),
            client.set_memberships(jane, &[name("Engineering")]).await.expect_err("set_memberships must be refused"),
        ] {
            assert!(matches!(&error, Error::Unsupported { .. }), "{at}: {error:?}");
            assert!(error.to_string().contains("without PATCH"), "{at}: {error}");
        }
        for id in &ids {
            assert_eq!(w.members(id).await, Vec::<String>::new(), "{at}: nothing changed");
        }
        return;
    }

    // Joiners: an account each, then Employees and Engineering, many people at a time.
    w.faults(true);
    for (i, person) in people.iter().enumerate() {
        until_ok(&format!("{at}: provision #{i}"), || client.provision(person)).await;
    }
    let joined = vec![name("Employees"), name("Engineering")];
    let mut pending: Vec<(User, Vec<GroupRef>)> = people.iter().map(|p| (p.clone(), joined.clone())).collect();
    for _ in 0..20 {
        let mut failed = Vec::new();
        let mut items = std::pin::pin!(client.set_memberships_all(pending));
        while let Some(item) = items.next().await {
            if let Err(error) = &item.result {
                assert!(error.is_retryable() || error.outcome_unknown(), "{at}: only faults may fail: {error}");
                failed.push((item.user, joined.clone()));
            }
        }
        pending = failed;
        if pending.is_empty() {
            break;
        }
    }
    w.faults(false);
    assert!(pending.is_empty(), "{at}: every joiner got their groups");
    let mut all = Vec::new();
    for person in &people {
        all.push(w.user_id(person).await);
    }
    assert_eq!(w.counts().await, (people.len(), GROUPS.len()), "{at}: no account or group twice");
    assert_eq!(sorted(w.members(employees).await), sorted(all.clone()), "{at}: Employees, each joiner once");
    assert_eq!(sorted(w.members(engineering).await), sorted(all.clone()), "{at}: Engineering, each joiner once");
    assert_eq!(w.members(contractors).await, Vec::<String>::new(), "{at}: Contractors untouched");

    // Movers: the first two go from Employees to Contractors and keep Engineering.
    w.faults(true);
    let moved = vec![name("Contractors"), name("Engineering")];
    for person in &people[..2] {
        until_ok(&format!("{at}: move"), || client.set_memberships(person, &moved)).await;
    }
    w.faults(false);
    assert_eq!(sorted(w.members(contractors).await), sorted(all[..2].to_vec()), "{at}: the movers moved");
    assert_eq!(sorted(w.members(employees).await), sorted(all[2..].to_vec()), "{at}: the others stayed");
    assert_eq!(sorted(w.members(engineering).await), sorted(all.clone()), "{at}: nobody lost Engineering");
    let mut now: Vec<String> = client
        .memberships(&people[0])
        .await
        .unwrap_or_else(|e| panic!("{at}: memberships: {e}"))
        .into_iter()
        .map(|g| g.display_name)
        .collect();
    now.sort();
    assert_eq!(now, ["Contractors", "Engineering"], "{at}: the client reads what the server holds");
    let again = client.set_memberships(&people[0], &moved).await.unwrap_or_else(|e| panic!("{at}: again: {e}"));
    assert!(again.is_unchanged(), "{at}: a second run changes nothing: {again}");

    // Leavers: #1 (a mover) and #3 lose every membership, then their accounts; #2 leaves with the
    // default policy, which revokes nothing (the app may still drop a deactivated account's
    // memberships itself).
    w.faults(true);
    for person in [&people[0], &people[2]] {
        let gone = until_ok(&format!("{at}: leaver"), || {
            client.deprovision_with(person, DeprovisionPolicy::revoke_memberships())
        })
        .await;
        assert!(
            matches!(gone.outcome, DeprovisionOutcome::Deactivated | DeprovisionOutcome::AlreadyInactive),
            "{at}: {gone:?}"
        );
    }
    let kept = until_ok(&format!("{at}: default leaver"), || {
        client.deprovision_with(&people[1], DeprovisionPolicy::default())
    })
    .await;
    assert!(kept.revoked.is_empty(), "{at}: the default policy revokes nothing: {kept:?}");
    w.faults(false);
    let keeps = w.deactivation_keeps_memberships();
    let stay =
        |indices: &[usize]| sorted(indices.iter().filter(|&&i| i != 1 || keeps).map(|&i| all[i].clone()).collect());
    assert_eq!(sorted(w.members(contractors).await), stay(&[1]), "{at}: Contractors: the default leaver only");
    assert_eq!(sorted(w.members(employees).await), stay(&[3, 4]), "{at}: Employees lost leaver #3 only");
    assert_eq!(sorted(w.members(engineering).await), stay(&[1, 3, 4]), "{at}: Engineering lost both leavers");
    for (i, person) in people.iter().enumerate() {
        assert_eq!(w.active(person).await, i > 2, "{at}: person #{} active", i + 1);
    }
    assert_eq!(w.counts().await, (people.len(), GROUPS.len()), "{at}: no account or group twice, none lost");
    if let Some(injected) = w.faults_injected() {
        assert!(injected > 0, "{at}: faults were injected");
    }
}

/// How a SCIM target injects faults: not at all (the peer) or through its sandbox.
pub enum Injector<'a> {
    /// No fault injection.
    None,
    /// The SCIM sandbox serving the target, under [`faults`] with this seed.
    Sandbox(&'a ScimSandbox, u64),
}

/// A SCIM target of the group flow: state read through plain HTTP.
pub struct ScimWorld<'a> {
    /// The target (its quirks say whether memberships can be changed).
    pub target: &'a Target,
    /// How faults are injected.
    pub injector: Injector<'a>,
}

impl ScimWorld<'_> {
    async fn get(&self, path_and_query: &str) -> Value {
        let (status, body) = self.target.server().get_path(path_and_query).await;
        assert_eq!(status, 200, "GET {path_and_query}: {body}");
        body
    }
}

impl GroupWorld for ScimWorld<'_> {
    fn label(&self) -> String {
        let connector = if self.target.interact_extension { "interact" } else { "scim" };
        match &self.injector {
            Injector::None => format!("{connector} (no faults)"),
            Injector::Sandbox(sandbox, _) => format!("{} / {connector}", sandbox.profile()),
        }
    }

    fn client(&self) -> Client {
        let connector = (self.target.connect)(&self.target.base_url, &self.target.token).expect("connector");
        Client::builder(connector).retry_policy(fast_retry()).build().expect("client")
    }

    fn person(&self, i: usize) -> User {
        self.target.person(&format!("member{i}@example.com"), 900 + i as u32)
    }

    fn group_writes(&self) -> bool {
        self.target.quirks.group_writes
    }

    fn deactivation_keeps_memberships(&self) -> bool {
        true
    }

    async fn seed_groups(&self, client: &Client) -> Vec<String> {
        let mut ids = Vec::new();
        for group in GROUPS {
            let created = client.create_group(&NewGroup::new(group).expect("name")).await.expect("create a group");
            assert!(created.created, "{}: {group} is new", self.label());
            ids.push(created.group.id.as_str().to_string());
        }
        ids
    }

    fn faults(&self, on: bool) {
        if let Injector::Sandbox(sandbox, seed) = &self.injector {
            sandbox.set_faults(if on { faults(*seed) } else { Faults::none() });
        }
    }

    fn faults_injected(&self) -> Option<u64> {
        match &self.injector {
            Injector::None => None,
            Injector::Sandbox(sandbox, _) => Some(sandbox.stats().faults.values().sum()),
        }
    }

    async fn members(&self, id: &str) -> Vec<String> {
        let group = self.get(&format!("/Groups/{id}")).await;
        let members = group.get("members").and_then(Value::as_array).cloned().unwrap_or_default();
        members.iter().filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string)).collect()
    }

    async fn user_id(&self, person: &User) -> String {
        let user_name = person.user_name.as_deref().expect("a user name");
        let all = self.target.server().all_users().await;
        let ids: Vec<String> = all
            .iter()
            .filter(|u| u.get("userName").and_then(Value::as_str).is_some_and(|n| n.eq_ignore_ascii_case(user_name)))
            .filter_map(|u| u.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
        assert_eq!(ids.len(), 1, "{}: {user_name} exists once", self.label());
        ids[0].clone()
    }

    async fn counts(&self) -> (usize, usize) {
        let users = self.target.server().all_users().await.len();
        let mut groups = 0;
        loop {
            let page =
                self.get(&format!("/Groups?startIndex={}&count=100&excludedAttributes=members", groups + 1)).await;
            let listed = page.get("Resources").and_then(Value::as_array).map_or(0, Vec::len);
            let total = page.get("totalResults").and_then(Value::as_u64).unwrap_or(0) as usize;
            groups += listed;
            if listed == 0 || groups >= total {
                return (users, groups);
            }
        }
    }

    async fn active(&self, person: &User) -> bool {
        let id = self.user_id(person).await;
        self.get(&format!("/Users/{id}")).await.get("active") == Some(&Value::Bool(true))
    }
}

/// The Freshservice sandbox as a target of the group flow (requesters and requester groups).
pub struct FreshserviceWorld {
    /// The sandbox, started with the [`GROUPS`] as requester groups.
    pub sandbox: FreshserviceSandbox,
    seed: u64,
}

impl FreshserviceWorld {
    /// A sandbox holding the requester groups [`GROUPS`] (Employees and Contractors are there by
    /// default), faults off until the flow asks.
    pub async fn start(seed: u64) -> Self {
        let builder = FreshserviceSandbox::builder().no_rate_limit().requester_group("Engineering");
        FreshserviceWorld { sandbox: builder.start().await.expect("the sandbox must start"), seed }
    }

    fn record(&self, person: &User) -> Value {
        let email = person.primary_email().expect("an e-mail address");
        let record = self.sandbox.user_by_email(email).expect("the person exists");
        record.get("requester").or_else(|| record.get("agent")).cloned().expect("a requester or agent record")
    }
}

impl GroupWorld for FreshserviceWorld {
    fn label(&self) -> String {
        "freshservice".to_string()
    }

    fn client(&self) -> Client {
        Client::builder(self.sandbox.connector().expect("connector"))
            .retry_policy(fast_retry())
            .build()
            .expect("client")
    }

    fn person(&self, i: usize) -> User {
        let email = format!("member{i}@example.com");
        User::builder(&email).email(&email).given_name(format!("Member{i}")).external_id(format!("E{i}")).build()
    }

    fn group_writes(&self) -> bool {
        true
    }

    /// Freshservice itself removes a deactivated requester from every requester group (the
    /// reference's §4.7); the sandbox does not model that yet and keeps them.
    fn deactivation_keeps_memberships(&self) -> bool {
        true
    }

    async fn seed_groups(&self, _client: &Client) -> Vec<String> {
        GROUPS
            .iter()
            .map(|g| self.sandbox.requester_group_id(g).map(|id| id.to_string()).expect("a seeded requester group"))
            .collect()
    }

    fn faults(&self, on: bool) {
        self.sandbox.set_faults(if on { faults(self.seed) } else { Faults::none() });
    }

    fn faults_injected(&self) -> Option<u64> {
        Some(
            self.sandbox.stats().faults_of(FaultKind::DropAfterCommit)
                + self.sandbox.stats().faults_of(FaultKind::Drop),
        )
    }

    async fn members(&self, id: &str) -> Vec<String> {
        let id: u64 = id.parse().expect("a numeric id");
        self.sandbox.requester_group_members(id).into_iter().map(|m| m.to_string()).collect()
    }

    async fn user_id(&self, person: &User) -> String {
        self.record(person)["id"].as_u64().expect("a numeric id").to_string()
    }

    async fn counts(&self) -> (usize, usize) {
        // The connector cannot create requester groups: count the seeded ones still there.
        let groups = GROUPS.iter().filter(|g| self.sandbox.requester_group_id(g).is_some()).count();
        (self.sandbox.user_count(), groups)
    }

    async fn active(&self, person: &User) -> bool {
        self.record(person)["active"] == Value::Bool(true)
    }
}
