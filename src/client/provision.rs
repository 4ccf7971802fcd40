//! The provisioning lifecycle behind [`Client::provision`]: look up, link, update or reactivate an
//! existing person, or create them, reconciling every create whose outcome is unknown.

use super::Client;
use crate::connector::Boxed;
use crate::error::{Error, Result};
use crate::outcome::{ProvisionOutcome, ProvisionPolicy, ProvisionStep, Provisioned, UpdateOutcome};
use crate::resource::{Lookup, RemoteUser};
use crate::user::User;

impl Client {
    /// [`Client::provision_with`]'s body.
    /// `planned`: a sync plan found the person missing from its listing of every account.
    pub(super) async fn provision_inner(
        &self,
        user: &User,
        policy: ProvisionPolicy,
        planned: bool,
    ) -> Result<Provisioned> {
        self.connector.check_new_user(user)?;
        let key = self.connector.match_key(user)?;
        // Held until the person is provisioned: a concurrent call for them then finds this one's
        // result instead of creating them again.
        let _flight = self.flights.acquire(&key).await;
        // The connector's pre-create look-up (cheaper, or none, where its server refuses
        // duplicates); a conflict below still gets the full `find_user`.
        let found = if planned {
            self.connector.find_before_planned_create(&self.http, &key).await?
        } else {
            self.connector.find_before_create(&self.http, &key).await?
        };
        let existing = match found {
            // Most runs find most people as HR has them: linked here, with no write.
            Some(existing) if in_line(&existing, user, policy) => return Ok(linked(existing)),
            existing => existing,
        };
        self.write_path(existing, user, &key, policy).await
    }

    /// A writer's or a joiner's path, boxed and polled through a pointer: its state (~1 KB) is
    /// not part of every provisioning call's future, and its code is not inlined into the
    /// look-up-and-link path most calls take (which then spans fewer instruction-cache lines).
    #[inline(never)]
    fn write_path<'a>(
        &'a self,
        existing: Option<RemoteUser>,
        user: &'a User,
        key: &'a Lookup,
        policy: ProvisionPolicy,
    ) -> Boxed<'a, Result<Provisioned>> {
        match existing {
            Some(existing) => Box::pin(self.link_as(existing, user, policy, false)),
            None => Box::pin(self.create_reconciling(user, key, policy)),
        }
    }

    /// Creates `user`, found missing by `key`; a create whose outcome is unknown (or a conflict)
    /// is followed by a look-up, and repeated only while nobody is found.
    async fn create_reconciling(&self, user: &User, key: &Lookup, policy: ProvisionPolicy) -> Result<Provisioned> {
        let retry = self.http.retry_policy();
        let mut attempt = 1;
        // Whether a create this call sent may have been applied although its answer was lost.
        let mut maybe_created = false;
        loop {
            let error = match self.connector.create_user_reporting(&self.http, user).await {
                Ok((created, skipped)) => {
                    tracing::info!(outcome = "created", "provisioned");
                    return Ok(Provisioned { outcome: ProvisionOutcome::Created, user: created, skipped });
                }
                Err(e) if e.is_conflict() || e.outcome_unknown() => e,
                Err(e) => return Err(e),
            };
            maybe_created |= error.outcome_unknown();
            tracing::info!(attempt, conflict = error.is_conflict(), "create not confirmed; looking the user up");
            let found = self.connector.find_user(&self.http, key).await?;
            if let Some(existing) = found {
                // Missing before this call's create and present after it: this call created them
                // (a conflict after an earlier lost create is that create's doing too).
                return self.link_as(existing, user, policy, maybe_created).await;
            }
            // A conflict or a success whose answer was unreadable means the server has the user:
            // if the look-up cannot see them, sending the create again cannot help.
            let server_has_it = error.is_conflict() || matches!(error, Error::Decode(_));
            if server_has_it || attempt >= retry.max_attempts() {
                return Err(error);
            }
            // A server that asked for a wait (a 503 with Retry-After) gets it; one that asked for
            // longer than the policy allows gets the error back, for the caller to schedule.
            let wait = match error.retry_after() {
                Some(wait) if wait > retry.max_delay() => return Err(error),
                Some(wait) => wait,
                None => retry.backoff(attempt),
            };
            // The wait counts against the call's deadline, like every retry wait of the request path.
            let ends = std::time::Instant::now().checked_add(wait);
            if crate::http::current_call_deadline().is_some_and(|deadline| ends.is_none_or(|end| end > deadline)) {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// Brings an existing user in line with `desired`; `created_here` when this call's own create
    /// (whose answer was lost) made them, which is what the outcome then says.
    async fn link_as(
        &self,
        mut current: RemoteUser,
        desired: &User,
        policy: ProvisionPolicy,
        created_here: bool,
    ) -> Result<Provisioned> {
        let mut outcome = ProvisionOutcome::Linked;
        // The steps done so far are always a run of these (no allocation unless one is reported).
        const STEPS: [ProvisionStep; 3] = [ProvisionStep::Create, ProvisionStep::LookUp, ProvisionStep::Reactivate];
        let first = if created_here { 0 } else { 1 };
        let mut completed = &STEPS[first..2];
        // A step failing after another succeeded says what happened (a reactivation is not undone).
        let incomplete = |completed: &[ProvisionStep], failed, error: Error| {
            if completed.iter().any(|s| matches!(s, ProvisionStep::Reactivate | ProvisionStep::Create)) {
                Error::ProvisionIncomplete { completed: completed.to_vec(), failed, error: Box::new(error) }
            } else {
                error
            }
        };
        if reactivates(&current, desired, policy) {
            self.connector
                .set_active_of(&self.http, &current, true)
                .await
                .map_err(|e| incomplete(completed, ProvisionStep::Reactivate, e))?;
            current.user.active = Some(true);
            // The write made a new version; the update reads it again if it needs one.
            current.version = None;
            outcome = ProvisionOutcome::Reactivated;
            completed = &STEPS[first..3];
        }
        let mut skipped = Vec::new();
        if policy.update_existing {
            let changes = desired.changes_from(&current.user);
            if !changes.is_empty() {
                let result = self
                    .connector
                    .update_user(&self.http, &current.id, &changes, Some(&current))
                    .await
                    .map_err(|e| incomplete(completed, ProvisionStep::Update, e))?;
                skipped = result.skipped().to_vec();
                let applied = result.is_applied();
                let partial = matches!(result, UpdateOutcome::Partial { .. });
                // In a block of its own, so the (large) returned user is not kept across the read.
                let read_back = {
                    let returned = result.into_user();
                    // Some changes were refused: read back what the app now holds.
                    let read_back = returned.is_none() && applied && partial;
                    match returned {
                        Some(user) => current = user,
                        None if applied && !partial => current.user.apply(&changes),
                        None => {}
                    }
                    read_back
                };
                if read_back {
                    current = self.connector.get_user(&self.http, &current.id).await?;
                }
                if applied && outcome == ProvisionOutcome::Linked {
                    outcome = ProvisionOutcome::Updated;
                }
            }
        }
        if created_here {
            outcome = ProvisionOutcome::CreatedConfirmed;
        }
        tracing::info!(outcome = %outcome, skipped = skipped.len(), "provisioned");
        Ok(Provisioned { outcome, user: current, skipped })
    }
}

/// `existing`, linked as it is. Out of line, as [`in_line`]: the code of the look-up-and-link
/// path most calls take stays together.
#[inline(never)]
fn linked(existing: RemoteUser) -> Provisioned {
    tracing::info!(outcome = %ProvisionOutcome::Linked, skipped = 0, "provisioned");
    Provisioned { outcome: ProvisionOutcome::Linked, user: existing, skipped: Vec::new() }
}

/// Whether `current` already is what `desired` asks for under `policy`: [`Client::link_as`] would
/// send nothing and report [`ProvisionOutcome::Linked`].
#[inline(never)]
fn in_line(current: &RemoteUser, desired: &User, policy: ProvisionPolicy) -> bool {
    let updates = policy.update_existing && desired.differs_from(&current.user);
    !reactivates(current, desired, policy) && !updates
}

/// Whether provisioning `desired` reactivates `current` under `policy` (one rule for
/// [`Client::link_as`] and [`in_line`]).
fn reactivates(current: &RemoteUser, desired: &User, policy: ProvisionPolicy) -> bool {
    !current.is_active() && policy.reactivate && desired.active != Some(false)
}
