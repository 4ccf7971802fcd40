//! What a plan holds: one [`PlanEntry`] per person and per account to act on, each with its
//! [`Action`] and the reason for it, and the [`PlanCounts`].

use std::fmt;

use serde::{Serialize, Serializer};

use crate::resource::UserId;
use crate::user::User;

/// What reconciliation would do to make an app match HR: read with
/// [`Reconciler::plan`](crate::sync::Reconciler::plan), printed (its `Display` is a table, counts
/// first) or serialised (`serde_json::to_string(&plan)`) for review, then run with
/// [`Reconciler::apply`](crate::sync::Reconciler::apply).
///
/// Every desired person has exactly one entry (in input order), followed by one entry per managed
/// account to deactivate because HR no longer has it. The plan holds the desired attributes of the
/// people it creates, updates or reactivates; of the others only their key, external id and
/// account id. It holds what its user reviews (user names, e-mail addresses): print or store it as
/// the personal data it is. The crate's own traces never carry it.
///
/// Application-specific attributes without a SCIM schema (such as Freshservice's) are not part of
/// the JSON form, which is the SCIM JSON of each user; the plan in memory keeps them.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Plan {
    /// The connector's kind (`scim`, `interact`, `freshservice`).
    pub connector: &'static str,
    /// The app's display name.
    pub app: String,
    /// How many of each.
    pub counts: PlanCounts,
    /// The entries: desired people in input order, then accounts to deactivate.
    pub entries: Vec<PlanEntry>,
}

impl Plan {
    /// Whether applying the plan would send nothing: no create, update, reactivation or
    /// deactivation (conflicts may remain; they need a person, not a request).
    pub fn is_noop(&self) -> bool {
        let c = &self.counts;
        c.create + c.update + c.reactivate + c.deactivate == 0
    }

    /// The entries that change something (create, update, reactivate, deactivate).
    pub fn changes(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| e.action.changes_something())
    }

    /// The entries that need a person to decide.
    pub fn conflicts(&self) -> impl Iterator<Item = &PlanEntry> {
        self.entries.iter().filter(|e| matches!(e.action, Action::Conflict { .. }))
    }
}

/// How many people, accounts and entries of each kind a plan has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PlanCounts {
    /// Desired people read.
    pub people: usize,
    /// App accounts listed.
    pub accounts: usize,
    /// Listed accounts inside the managed scope and active: what the brake's share is of.
    pub managed: usize,
    /// Listed accounts outside the managed scope that no desired person matched: never touched.
    pub unmanaged: usize,
    /// Managed accounts no desired person matched that are already inactive: nothing to do.
    pub inactive_not_in_hr: usize,
    /// Entries: people to create.
    pub create: usize,
    /// Entries: people whose attributes differ.
    pub update: usize,
    /// Entries: people whose account is inactive.
    pub reactivate: usize,
    /// Entries: accounts to deactivate.
    pub deactivate: usize,
    /// Entries: people with nothing to do.
    pub unchanged: usize,
    /// Entries: people that need a person to decide.
    pub conflict: usize,
}

/// One person (or one account HR no longer has) and what the plan does about them.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PlanEntry {
    /// The person's position in the desired input, from 0; `None` for an account no person
    /// matched.
    pub index: Option<usize>,
    /// The value of the connector's match key (a user name or e-mail address), when there is one.
    pub key: Option<String>,
    /// The HR id (`externalId`), when known.
    pub external_id: Option<String>,
    /// The app's id of the account the entry is about, if it has one.
    #[serde(serialize_with = "id_as_text")]
    pub account: Option<UserId>,
    /// What to do, and why (in JSON, its members sit beside the entry's: `"action": "update"`).
    #[serde(flatten)]
    pub action: Action,
}

fn id_as_text<S: Serializer>(id: &Option<UserId>, serializer: S) -> Result<S::Ok, S::Error> {
    id.as_ref().map(UserId::as_str).serialize(serializer)
}

/// What a plan does about one entry.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// The person has no account: create it (provisioning, which looks the key up first).
    Create {
        /// The person, as desired.
        user: Box<User>,
    },
    /// The person's account differs: send the changes.
    Update {
        /// The attributes to send, as a partial user (what the update would send).
        changes: Box<User>,
        /// Their names (`title`, `name.givenName`, …).
        attributes: Vec<String>,
    },
    /// The person's account is inactive: reactivate it, then send the changes (if any).
    Reactivate {
        /// The attributes to send after reactivating, as a partial user (may be empty).
        changes: Box<User>,
        /// Their names.
        attributes: Vec<String>,
    },
    /// Deactivate the account.
    Deactivate {
        /// Why.
        reason: DeactivateReason,
        /// The account's identity and attributes when planned, to refuse a stale deactivation.
        #[serde(skip)]
        digest: u64,
    },
    /// Nothing to do.
    Unchanged {
        /// Why.
        reason: UnchangedReason,
    },
    /// A person must decide; nothing is sent for this person or the accounts they match.
    Conflict {
        /// What is wrong.
        reason: ConflictReason,
    },
}

impl Action {
    /// A short name: `create`, `update`, `reactivate`, `deactivate`, `unchanged`, `conflict`.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Create { .. } => "create",
            Action::Update { .. } => "update",
            Action::Reactivate { .. } => "reactivate",
            Action::Deactivate { .. } => "deactivate",
            Action::Unchanged { .. } => "unchanged",
            Action::Conflict { .. } => "conflict",
        }
    }

    /// Whether applying it sends a change.
    pub fn changes_something(&self) -> bool {
        matches!(
            self,
            Action::Create { .. } | Action::Update { .. } | Action::Reactivate { .. } | Action::Deactivate { .. }
        )
    }

    /// One line on what and why, for the plan's table.
    pub fn detail(&self) -> String {
        match self {
            Action::Create { .. } => "not in the app".to_string(),
            Action::Update { attributes, .. } => attributes.join(", "),
            Action::Reactivate { attributes, .. } if attributes.is_empty() => "inactive in the app".to_string(),
            Action::Reactivate { attributes, .. } => format!("inactive in the app; then {}", attributes.join(", ")),
            Action::Deactivate { reason, .. } => reason.to_string(),
            Action::Unchanged { reason } => reason.to_string(),
            Action::Conflict { reason } => reason.to_string(),
        }
    }
}

/// Why an account is deactivated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeactivateReason {
    /// A managed account no desired person matched: the person left HR.
    NotInHr,
    /// The desired person is marked inactive (`active: false`) in HR.
    InactiveInHr,
}

impl fmt::Display for DeactivateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeactivateReason::NotInHr => "managed account not in HR",
            DeactivateReason::InactiveInHr => "inactive in HR",
        })
    }
}

/// Why nothing is done for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum UnchangedReason {
    /// The account matches the person.
    UpToDate,
    /// The person is inactive in HR and their account already is.
    AlreadyInactive,
    /// The person is inactive in HR and has no account.
    InactiveNotInApp,
}

impl fmt::Display for UnchangedReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnchangedReason::UpToDate => "up to date",
            UnchangedReason::AlreadyInactive => "inactive in HR and in the app",
            UnchangedReason::InactiveNotInApp => "inactive in HR, no account",
        })
    }
}

/// Why a person needs a human decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "conflict", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConflictReason {
    /// Several app accounts match the person (by key and by external id, or two accounts share the
    /// key).
    SeveralAccounts {
        /// The accounts' ids.
        #[serde(serialize_with = "ids_as_text")]
        accounts: Vec<UserId>,
    },
    /// The account the person matches also matches another person.
    AccountMatchesSeveralPeople {
        /// The other person's position in the input.
        other: usize,
    },
    /// The person appears twice in the input (the same key, or the same external id).
    DuplicateInInput {
        /// The other occurrence's position in the input.
        other: usize,
    },
    /// The account with the person's key belongs to another HR id (its `externalId` differs): a
    /// reused address or user name.
    ExternalIdMismatch,
    /// The person is inactive in HR, but their active account is outside the managed scope, which
    /// reconciliation never deactivates.
    OutsideScope,
    /// The person cannot be matched or created in this app (no key, a missing required attribute).
    Invalid {
        /// The validation error (e-mail addresses masked).
        message: String,
    },
}

fn ids_as_text<S: Serializer>(ids: &[UserId], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(ids.iter().map(UserId::as_str))
}

impl fmt::Display for ConflictReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConflictReason::SeveralAccounts { accounts } => {
                let ids: Vec<&str> = accounts.iter().map(UserId::as_str).collect();
                write!(f, "{} accounts match: {}", accounts.len(), ids.join(", "))
            }
            ConflictReason::AccountMatchesSeveralPeople { other } => {
                write!(f, "the account also matches person #{other}")
            }
            ConflictReason::DuplicateInInput { other } => write!(f, "also in the input as person #{other}"),
            ConflictReason::ExternalIdMismatch => f.write_str("the account with this key has another externalId"),
            ConflictReason::OutsideScope => f.write_str("inactive in HR, but the active account is not managed"),
            ConflictReason::Invalid { message } => write!(f, "invalid for this app: {message}"),
        }
    }
}
