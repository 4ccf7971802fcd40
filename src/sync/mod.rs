//! Reconciliation: make an app match HR, from a snapshot to a reviewed [`Plan`] to an applied
//! change, with a [`Brake`] on mass deactivation.
//!
//! Provisioning one person at a time costs one or two look-ups per person even when nothing
//! changed, and never notices leavers who are simply missing from the HR export. A
//! [`Reconciler`] instead reads the app's users once, as a stream of pages at the largest size the
//! connector allows ([`Connector::max_page_size`]), and compares them with the desired people:
//!
//! 1. [`plan`](Reconciler::plan) lists every account, keeping only its id, its match key
//!    ([`Connector::match_key`]), its `externalId`, whether it is active and inside the
//!    [`ManagedScope`], and one 64-bit fingerprint per attribute (of the part the app stores,
//!    [`Connector::comparable`]). Then it reads the desired people one at a time and matches each
//!    by key and by `externalId` where both sides have one. The [`Plan`] has one [`PlanEntry`] per
//!    person (create, update with the attribute-level diff, reactivate, deactivate when HR marks
//!    them inactive, unchanged, or a [`ConflictReason`] for a human) and one deactivation per
//!    managed, active account no person matched. Nothing is dropped: every person has an entry.
//! 2. Print the plan (a table, counts first) or serialise it (`serde_json`), and review it.
//! 3. [`apply`](Reconciler::apply) refuses a plan that deactivates more than the [`Brake`] allows
//!    ([`BrakeEngaged`] states both numbers) unless [`ApplyOptions::allow_over_brake`] says so for
//!    this run. It runs the entries at the client's in-flight cap, reports progress, and returns
//!    one [`EntryResult`] per entry. Each entry is checked again cheaply before it acts: a create
//!    is a [`Client::provision`] (which looks the key up first); an update or reactivation reads
//!    the account, checks it is still the person's, and sends only what still differs; a
//!    deactivation reads the account and acts only if it is still active, still inside the scope,
//!    and unchanged since it was planned: its key, `externalId`, attributes and, where the app
//!    gives one (SCIM `meta.version`), its version. So an account someone updated meanwhile, or
//!    deactivated and reactivated (a leaver who came back), is skipped, never deactivated. An app
//!    without versions (Freshservice) shows only changed attributes: an account reactivated with
//!    exactly its old attributes looks unchanged there.
//!
//! A run that stops halfway (a crash, an error) is finished by planning again: what was applied
//! is now unchanged, and the new plan holds only the remainder.
//!
//! ```no_run
//! use identity_connectors::sync::{ApplyOptions, ManagedScope};
//! use identity_connectors::{Client, InteractBearer, User};
//!
//! # async fn run(people: Vec<User>) -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::new(InteractBearer::new("https://intranet.example.com/api/v2/scim/v2", "token")?)?;
//! let sync = client.reconciler().scope(ManagedScope::with_external_id());
//! let plan = sync.plan(people).await?;
//! println!("{plan}");
//! let report = sync.apply(&plan, ApplyOptions::default(), |p| eprint!("\r{}/{}", p.done, p.total)).await?;
//! println!("{report}");
//! # Ok(()) }
//! ```
//!
//! # What is compared
//!
//! An update is planned when an attribute the desired person sets differs from the account's
//! (attributes the person leaves unset are left alone, as in [`User::changes_from`]). Only what
//! the connector's [`comparable`](Connector::comparable) view keeps is compared: for Freshservice
//! that leaves out what it does not store (`externalId`, display name, …) and what its listing
//! does not show (an agent's roles, groups and occasional flag, so reconciliation does not
//! change those). A Freshservice manager given by e-mail address compares unequal with the
//! manager id the app stores, so such a person shows as an update on every run (the update then
//! sends nothing when the manager is the same); give managers by their Freshservice id.
//!
//! # Requests
//!
//! Planning sends one request per page of accounts (plus whatever the connector reads once, such
//! as Freshservice's department and location lists). Applying sends, per entry: create, a look-up
//! and a create (the look-up is at most one filter, never every page again: the plan's listing
//! was that; a SCIM server that cannot filter gets none, see
//! [`Connector::find_before_planned_create`]); update, a read and the update; reactivate, a
//! read, the reactivation and any update; deactivate, a read and the deactivation (Freshservice
//! reads once more to pick the requester or agent API). Unchanged and conflicting entries send
//! nothing.
//!
//! # Tracing
//!
//! Planning emits one INFO event `sync planned` with the counts; applying emits `sync applied`
//! with the counts of outcomes. Neither carries a key, an e-mail address or any attribute.

mod accounts;
mod apply;
mod entry;
mod fingerprint;
mod plan;
mod scope;
mod table;

use futures_core::Stream;
use futures_util::StreamExt as _;

pub use apply::{Applied, ApplyCounts, ApplyOptions, ApplyReport, EntryResult, Progress, SkipReason};
pub use entry::{Action, ConflictReason, DeactivateReason, Plan, PlanCounts, PlanEntry, UnchangedReason};
pub use scope::{Brake, BrakeEngaged, ManagedScope};

use crate::client::Client;
#[cfg(doc)]
use crate::connector::Connector;
use crate::error::Result;
#[cfg(doc)]
use crate::user::User;

/// Plans and applies reconciliation for one [`Client`]: which accounts it owns
/// ([`ManagedScope`]), the [`Brake`], and the listing page size. Start with
/// [`Client::reconciler`]. See the [module documentation](self).
#[derive(Debug, Clone)]
#[must_use]
pub struct Reconciler<'c> {
    client: &'c Client,
    scope: ManagedScope,
    brake: Brake,
    page_size: Option<u32>,
}

impl Client {
    /// A [`Reconciler`] for this client's app, with the default scope (accounts with an
    /// `externalId`) and brake (500 accounts or 20 %).
    pub fn reconciler(&self) -> Reconciler<'_> {
        Reconciler { client: self, scope: ManagedScope::default(), brake: Brake::default(), page_size: None }
    }
}

impl<'c> Reconciler<'c> {
    /// The accounts this service owns (default: those with an `externalId`).
    pub fn scope(mut self, scope: ManagedScope) -> Self {
        self.scope = scope;
        self
    }

    /// The brake on deactivations (default [`Brake::default`]).
    pub fn brake(mut self, brake: Brake) -> Self {
        self.brake = brake;
        self
    }

    /// The listing page size (default: the connector's [`max_page_size`](Connector::max_page_size)).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.max(1));
        self
    }

    /// The client it runs through.
    pub fn client(&self) -> &'c Client {
        self.client
    }

    /// The scope it plans and applies with.
    pub fn managed_scope(&self) -> &ManagedScope {
        &self.scope
    }

    /// Reads every account, then compares `desired` (read once, one person at a time) with them.
    /// Fails only if the listing fails; people who cannot be matched or created become conflict
    /// entries.
    pub async fn plan<I>(&self, desired: I) -> Result<Plan>
    where
        I: IntoIterator<Item = crate::user::User>,
    {
        self.plan_stream(futures_util::stream::iter(desired)).await
    }

    /// [`plan`](Self::plan) for people arriving as a stream (read after the accounts, lazily).
    pub async fn plan_stream<S>(&self, desired: S) -> Result<Plan>
    where
        S: Stream<Item = crate::user::User>,
    {
        let connector = self.client.connector();
        // Room for every person at once (when the input knows its size), so no growth copies.
        let (people, _) = desired.size_hint();
        let mut planner = plan::Planner::new(connector, &self.scope, people.min(10_000_000));
        let size = self.page_size.unwrap_or_else(|| connector.max_page_size()).max(1);
        {
            let mut accounts = std::pin::pin!(self.client.list(size));
            while let Some(account) = accounts.next().await {
                planner.add_account(&account?);
            }
        }
        planner.index_accounts();
        let mut desired = std::pin::pin!(desired.enumerate());
        while let Some((index, person)) = desired.next().await {
            planner.add_person(index, person);
        }
        let plan = planner.finish();
        let c = &plan.counts;
        tracing::info!(
            connector = connector.kind(),
            people = c.people,
            accounts = c.accounts,
            managed = c.managed,
            create = c.create,
            update = c.update,
            reactivate = c.reactivate,
            deactivate = c.deactivate,
            unchanged = c.unchanged,
            conflict = c.conflict,
            "sync planned"
        );
        Ok(plan)
    }
}
