//! Applying a [`Plan`]: the brake first, then every entry at the client's in-flight cap, each
//! checked again against the app before it acts.

use futures_util::StreamExt as _;

use super::Reconciler;
use super::entry::{Action, Plan, PlanEntry};
use super::plan::digest_of_remote;
use super::scope::BrakeEngaged;
use crate::error::{Error, Result};
use crate::outcome::{ProvisionOutcome, UpdateOutcome};
use crate::resource::{Lookup, RemoteUser, UserId};
use crate::user::User;

/// Settings for one [`apply`](Reconciler::apply) run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
#[non_exhaustive]
pub struct ApplyOptions {
    /// Apply the plan even if it deactivates more than the brake allows (this run only).
    pub allow_over_brake: bool,
}

impl ApplyOptions {
    /// Lets this run deactivate more than the brake allows: for a plan a person has reviewed.
    pub fn allow_over_brake(mut self) -> Self {
        self.allow_over_brake = true;
        self
    }
}

/// How far a run is, passed to the progress callback after each entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Entries finished.
    pub done: usize,
    /// Entries in the plan.
    pub total: usize,
    /// Of `done`, those that failed.
    pub failed: usize,
}

/// What applying one entry did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// A create entry, provisioned: created, or (when someone created the person since the plan)
    /// linked, updated or reactivated.
    Provisioned(ProvisionOutcome),
    /// The changes were sent.
    Updated,
    /// The account was reactivated (and any changes sent).
    Reactivated,
    /// Read again, the account already matched: nothing was sent.
    AlreadyUpToDate,
    /// The account was deactivated.
    Deactivated,
    /// The account was already inactive.
    AlreadyInactive,
    /// The account no longer exists.
    AlreadyGone,
    /// The entry was not applied because the app changed since the plan; plan again.
    Skipped(SkipReason),
    /// An unchanged entry: nothing to do.
    NoAction,
    /// A conflict entry: a person must decide; nothing was sent.
    NeedsReview,
}

/// Why an entry was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The account is gone.
    AccountGone,
    /// The account's key or `externalId` no longer belongs to the person.
    NotThePerson,
    /// The account to deactivate changed since the plan (updated, or its key or HR id did).
    ChangedSincePlan,
    /// The account to deactivate is no longer inside the managed scope.
    OutsideScope,
}

/// The result of one plan entry.
#[derive(Debug)]
#[non_exhaustive]
pub struct EntryResult {
    /// The entry's position in [`Plan::entries`].
    pub entry: usize,
    /// Its action's name.
    pub action: &'static str,
    /// What happened, or the error.
    pub result: Result<Applied>,
}

/// How many entries ended each way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyCounts {
    /// Provisioned by a create entry (any provisioning outcome).
    pub created: usize,
    /// Updated.
    pub updated: usize,
    /// Reactivated.
    pub reactivated: usize,
    /// Deactivated.
    pub deactivated: usize,
    /// Nothing needed doing (already up to date, inactive or gone, or unchanged entries).
    pub unchanged: usize,
    /// Skipped because the app changed since the plan.
    pub skipped: usize,
    /// Conflicts left for review.
    pub needs_review: usize,
    /// Failed.
    pub failed: usize,
}

/// One result per entry of the plan, in plan order, and their counts.
#[derive(Debug)]
#[non_exhaustive]
pub struct ApplyReport {
    /// The results, in the order of [`Plan::entries`].
    pub results: Vec<EntryResult>,
    /// Their counts.
    pub counts: ApplyCounts,
}

impl ApplyReport {
    /// Whether no entry failed.
    pub fn all_succeeded(&self) -> bool {
        self.counts.failed == 0
    }
}

impl ApplyCounts {
    fn record(&mut self, result: &Result<Applied>) {
        let slot = match result {
            Err(_) => &mut self.failed,
            Ok(Applied::Provisioned(_)) => &mut self.created,
            Ok(Applied::Updated) => &mut self.updated,
            Ok(Applied::Reactivated) => &mut self.reactivated,
            Ok(Applied::Deactivated) => &mut self.deactivated,
            Ok(Applied::Skipped(_)) => &mut self.skipped,
            Ok(Applied::NeedsReview) => &mut self.needs_review,
            Ok(Applied::AlreadyUpToDate | Applied::AlreadyInactive | Applied::AlreadyGone | Applied::NoAction) => {
                &mut self.unchanged
            }
        };
        *slot += 1;
    }
}

impl Reconciler<'_> {
    /// Applies `plan`: refuses it with [`BrakeEngaged`] (sending nothing) when it deactivates more
    /// than the brake allows and `options` does not allow it; otherwise runs every entry, up to the
    /// client's in-flight cap at a time, calls `progress` after each, and returns one result per
    /// entry. One entry's failure does not stop the others; plan again to retry what failed.
    pub async fn apply<F>(
        &self,
        plan: &Plan,
        options: ApplyOptions,
        mut progress: F,
    ) -> std::result::Result<ApplyReport, BrakeEngaged>
    where
        F: FnMut(Progress) + Send,
    {
        if !options.allow_over_brake {
            self.brake.check(plan.counts.deactivate, plan.counts.managed)?;
        }
        let total = plan.entries.len();
        let mut results: Vec<Option<EntryResult>> = Vec::with_capacity(total);
        results.resize_with(total, || None);
        let mut counts = ApplyCounts::default();
        let mut done = 0;
        let entries = futures_util::stream::iter(&plan.entries);
        let mut running = std::pin::pin!(self.client.bounded(entries, |position, entry| async move {
            (position, entry.action.name(), self.apply_entry(entry).await)
        }));
        while let Some((entry, action, result)) = running.next().await {
            counts.record(&result);
            done += 1;
            progress(Progress { done, total, failed: counts.failed });
            results[entry] = Some(EntryResult { entry, action, result });
        }
        tracing::info!(
            created = counts.created,
            updated = counts.updated,
            reactivated = counts.reactivated,
            deactivated = counts.deactivated,
            skipped = counts.skipped,
            failed = counts.failed,
            "sync applied"
        );
        Ok(ApplyReport { results: results.into_iter().flatten().collect(), counts })
    }

    async fn apply_entry(&self, entry: &PlanEntry) -> Result<Applied> {
        let account = entry.account().map(UserId::new);
        match (&entry.action, account.as_ref()) {
            (Action::Unchanged { .. }, _) => Ok(Applied::NoAction),
            (Action::Conflict { .. }, _) => Ok(Applied::NeedsReview),
            (Action::Create { user }, _) => {
                Ok(Applied::Provisioned(self.client.provision_planned(user).await?.outcome))
            }
            (Action::Update { changes, .. }, Some(id)) => self.update(entry, id, changes, false).await,
            (Action::Reactivate { changes, .. }, Some(id)) => self.update(entry, id, changes, true).await,
            (Action::Deactivate { digest, .. }, Some(id)) => self.deactivate(id, *digest).await,
            (_, None) => Err(Error::invalid_input("the plan entry names no account", Vec::new())),
        }
    }

    /// Reads the account again; `None` when it is gone.
    async fn read(&self, id: &UserId) -> Result<Option<RemoteUser>> {
        match self.client.get(id).await {
            Ok(account) => Ok(Some(account)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Whether `account` still carries the entry's key and (where both have one) HR id.
    fn same_person(&self, entry: &PlanEntry, account: &RemoteUser) -> bool {
        let key = self.client.connector().match_key(&account.user).ok();
        let key_matches = match (entry.key(), &key) {
            (Some(planned), Some(Lookup::ExternalId(now))) => planned == now,
            (Some(planned), Some(now)) => planned.trim().eq_ignore_ascii_case(now.value().trim()),
            _ => false,
        };
        let external_matches = match (entry.external_id(), &account.user.external_id) {
            (Some(planned), Some(now)) => planned.trim() == now.trim() || now.trim().is_empty(),
            _ => true,
        };
        // Matched by external id alone (a changed key is then the update itself).
        let by_external_id = entry.external_id().is_some()
            && entry.external_id().map(str::trim) == account.user.external_id.as_deref().map(str::trim);
        (key_matches || by_external_id) && external_matches
    }

    async fn update(&self, entry: &PlanEntry, id: &UserId, changes: &User, reactivate: bool) -> Result<Applied> {
        let Some(mut current) = self.read(id).await? else {
            return Ok(Applied::Skipped(SkipReason::AccountGone));
        };
        if !self.same_person(entry, &current) {
            return Ok(Applied::Skipped(SkipReason::NotThePerson));
        }
        let mut reactivated = false;
        if reactivate && !current.is_active() {
            // As read, like the deactivation below.
            let connector = self.client.connector();
            self.client.traced("reactivate", connector.set_active_of(self.client.http(), &current, true)).await?;
            current.user.active = Some(true);
            reactivated = true;
        }
        let mut diff = changes.changes_from(&current.user);
        diff.active = None;
        let sent = if diff.is_empty() {
            false
        } else {
            let work = self.client.connector().update_user(self.client.http(), id, &diff, Some(&current));
            matches!(self.client.traced("update", work).await?, UpdateOutcome::Updated(_))
        };
        Ok(match (reactivated, sent) {
            (true, _) => Applied::Reactivated,
            (false, true) => Applied::Updated,
            (false, false) => Applied::AlreadyUpToDate,
        })
    }

    async fn deactivate(&self, id: &UserId, digest: u64) -> Result<Applied> {
        let Some(current) = self.read(id).await? else { return Ok(Applied::AlreadyGone) };
        if !current.is_active() {
            return Ok(Applied::AlreadyInactive);
        }
        if !self.scope.contains(&current) {
            return Ok(Applied::Skipped(SkipReason::OutsideScope));
        }
        if digest_of_remote(self.client.connector(), &current) != digest {
            return Ok(Applied::Skipped(SkipReason::ChangedSincePlan));
        }
        // Written as verified, so no second read where the connector can use this one (SCIM sends
        // its version back as `If-Match`); Freshservice reads again to pick the requester or
        // agent API.
        let connector = self.client.connector();
        match self.client.traced("deactivate", connector.set_active_of(self.client.http(), &current, false)).await {
            Ok(()) => Ok(Applied::Deactivated),
            Err(error) if error.is_not_found() => Ok(Applied::AlreadyGone),
            Err(error) => Err(error),
        }
    }
}
