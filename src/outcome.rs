//! What the lifecycle calls did: the typed outcomes of [`Client`](crate::Client)'s calls and of
//! [`Connector::update_user`](crate::Connector::update_user). They sit below both, so the trait
//! and the client share them without either importing the other.

use std::fmt;

use crate::resource::RemoteUser;

/// What provisioning did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProvisionOutcome {
    /// The user did not exist and was created.
    Created,
    /// The user did not exist and a create was sent whose outcome was unknown (a timeout, a
    /// dropped connection, a `5xx`, or a success answer that could not be read); the look-up
    /// after it found the user, so the create was applied. The user is as found, updated where
    /// attributes differed. Counted as created by [`BulkSummary`](crate::BulkSummary). (Within
    /// one client the create was this call's; another process creating the same person at that
    /// moment would look the same.)
    CreatedConfirmed,
    /// The user already existed and was linked as it was (nothing differed, or the policy said not
    /// to update). Also the outcome when a create was answered "already exists" and a look-up
    /// found the user.
    Linked,
    /// The user already existed and the attributes that differed were updated.
    Updated,
    /// The user existed but was inactive, and was reactivated (and updated where attributes
    /// differed).
    Reactivated,
}

impl fmt::Display for ProvisionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProvisionOutcome::Created => "created",
            ProvisionOutcome::CreatedConfirmed => "created (confirmed by look-up)",
            ProvisionOutcome::Linked => "already existed, linked",
            ProvisionOutcome::Updated => "already existed, updated",
            ProvisionOutcome::Reactivated => "was inactive, reactivated",
        })
    }
}

/// The result of [`Client::provision`](crate::Client::provision).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Provisioned {
    /// What happened.
    pub outcome: ProvisionOutcome,
    /// The user as it now is (as returned by the app, or as last read with the changes applied).
    pub user: RemoteUser,
    /// The attribute paths that were not sent, or that the app refused (`externalId`,
    /// `urn:…:enterprise:2.0:User:department`): read-only or immutable on this server, of an
    /// extension it does not declare, or refused with a `400`. Empty when everything landed.
    pub skipped: Vec<String>,
}

impl Provisioned {
    /// A result with nothing skipped.
    #[cfg(test)]
    pub(crate) fn new(outcome: ProvisionOutcome, user: RemoteUser) -> Self {
        Provisioned { outcome, user, skipped: Vec::new() }
    }
}

/// One step of [`Client::provision`](crate::Client::provision), as named by
/// [`Error::ProvisionIncomplete`](crate::Error::ProvisionIncomplete).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProvisionStep {
    /// Looking the person up.
    LookUp,
    /// Creating the person.
    Create,
    /// Reactivating an inactive person.
    Reactivate,
    /// Updating the attributes that differed.
    Update,
}

impl fmt::Display for ProvisionStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ProvisionStep::LookUp => "look-up",
            ProvisionStep::Create => "create",
            ProvisionStep::Reactivate => "reactivation",
            ProvisionStep::Update => "update",
        })
    }
}

/// The steps, as `look-up, reactivation`, for [`Error::ProvisionIncomplete`](crate::Error::ProvisionIncomplete).
pub(crate) fn fmt_steps(steps: &[ProvisionStep]) -> String {
    if steps.is_empty() {
        return "nothing".to_string();
    }
    steps.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// What [`Client::test_connection`](crate::Client::test_connection) found: the connection works,
/// and what the server said about itself, in words (for SCIM, what discovery found and what it
/// did not). `Display` gives one line per point.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConnectionReport {
    /// The connector's display name.
    pub connector: String,
    /// One sentence per point; empty for connectors without discovery.
    pub details: Vec<String>,
}

impl fmt::Display for ConnectionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: connection works", self.connector)?;
        for line in &self.details {
            write!(f, "\n- {line}")?;
        }
        Ok(())
    }
}

/// What provisioning may do to a user who already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProvisionPolicy {
    /// Update the attributes that differ (default `true`).
    pub update_existing: bool,
    /// Reactivate an inactive user (default `true`).
    pub reactivate: bool,
}

impl Default for ProvisionPolicy {
    fn default() -> Self {
        ProvisionPolicy { update_existing: true, reactivate: true }
    }
}

impl ProvisionPolicy {
    /// Link existing users only: never update or reactivate them.
    pub fn link_only() -> Self {
        ProvisionPolicy { update_existing: false, reactivate: false }
    }
}

/// What deprovisioning or deleting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeprovisionOutcome {
    /// The user was active and is now deactivated.
    Deactivated,
    /// The user was already inactive; nothing was sent.
    AlreadyInactive,
    /// The user was permanently deleted.
    Deleted,
    /// No such user exists (any more); nothing to do.
    AlreadyGone,
}

impl fmt::Display for DeprovisionOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeprovisionOutcome::Deactivated => "deactivated",
            DeprovisionOutcome::AlreadyInactive => "was already inactive",
            DeprovisionOutcome::Deleted => "deleted",
            DeprovisionOutcome::AlreadyGone => "was already gone",
        })
    }
}

/// What an update did.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum UpdateOutcome {
    /// The changes were sent. Holds the updated user when the app returned it.
    Updated(Option<RemoteUser>),
    /// There was nothing to change (or nothing the app stores); nothing was sent.
    Unchanged,
    /// Some changes were not applied: `skipped` lists their attribute paths (read-only or
    /// immutable on the server, of an extension it does not declare, or refused with a `400`).
    /// The others were sent when `applied` is true; `user` is the updated user when the app
    /// returned it.
    Partial {
        /// Whether any change was sent and accepted.
        applied: bool,
        /// The updated user, when the app returned it.
        user: Option<RemoteUser>,
        /// The attribute paths not applied.
        skipped: Vec<String>,
    },
}

impl UpdateOutcome {
    /// Whether a change was sent and accepted.
    pub fn is_applied(&self) -> bool {
        match self {
            UpdateOutcome::Updated(_) => true,
            UpdateOutcome::Unchanged => false,
            UpdateOutcome::Partial { applied, .. } => *applied,
        }
    }

    /// The attribute paths that were not applied (empty unless [`Partial`](Self::Partial)).
    pub fn skipped(&self) -> &[String] {
        match self {
            UpdateOutcome::Partial { skipped, .. } => skipped,
            _ => &[],
        }
    }

    /// The updated user, when the app returned it.
    pub fn user(&self) -> Option<&RemoteUser> {
        match self {
            UpdateOutcome::Updated(user) | UpdateOutcome::Partial { user, .. } => user.as_ref(),
            UpdateOutcome::Unchanged => None,
        }
    }

    /// Takes the updated user out, when the app returned it.
    pub(crate) fn into_user(self) -> Option<RemoteUser> {
        match self {
            UpdateOutcome::Updated(user) | UpdateOutcome::Partial { user, .. } => user,
            UpdateOutcome::Unchanged => None,
        }
    }
}
