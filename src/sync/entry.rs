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
///
/// A plan of 100,000 people holds 100,000 entries, so an entry keeps its three names (key,
/// external id, account id) in one allocation and hands them out through its methods. In JSON it
/// is `{"index", "key", "external_id", "account", "action", …}`, the action's members beside the
/// entry's.
#[derive(Clone)]
#[non_exhaustive]
pub struct PlanEntry {
    /// What to do, and why.
    pub action: Action,
    /// The key, the external id and the account id, back to back.
    text: Box<str>,
    key_len: u32,
    external_id_len: u32,
    /// The input position; [`NO_INDEX`] for an account no person matched.
    index: u32,
    /// Which of key, external id and account the entry has ([`HAS_KEY`], …).
    present: u8,
}

const NO_INDEX: u32 = u32::MAX;
const HAS_KEY: u8 = 1;
const HAS_EXTERNAL_ID: u8 = 2;
const HAS_ACCOUNT: u8 = 4;

impl PlanEntry {
    /// An entry for the person at `index` in the input (`None`: an account no person matched).
    pub(crate) fn new(
        index: Option<usize>,
        key: Option<&str>,
        external_id: Option<&str>,
        account: Option<&str>,
        action: Action,
    ) -> Self {
        let mut entry = PlanEntry {
            action,
            text: Box::default(),
            key_len: 0,
            external_id_len: 0,
            // Positions past u32::MAX would need a plan of hundreds of gigabytes.
            index: index.and_then(|i| u32::try_from(i).ok()).unwrap_or(NO_INDEX),
            present: 0,
        };
        entry.set_names(key, external_id, account);
        entry
    }

    fn set_names(&mut self, key: Option<&str>, external_id: Option<&str>, account: Option<&str>) {
        let parts = [key, external_id, account];
        let mut text = String::with_capacity(parts.iter().flatten().map(|p| p.len()).sum());
        self.present = 0;
        for (part, flag) in parts.into_iter().zip([HAS_KEY, HAS_EXTERNAL_ID, HAS_ACCOUNT]) {
            if let Some(part) = part {
                text.push_str(part);
                self.present |= flag;
            }
        }
        self.key_len = key.map_or(0, |k| u32::try_from(k.len()).unwrap_or(u32::MAX));
        self.external_id_len = external_id.map_or(0, |e| u32::try_from(e.len()).unwrap_or(u32::MAX));
        self.text = text.into_boxed_str();
    }

    fn part(&self, flag: u8, start: usize, len: usize) -> Option<&str> {
        (self.present & flag != 0).then(|| self.text.get(start..start + len).unwrap_or_default())
    }

    /// The person's position in the desired input, from 0; `None` for an account no person
    /// matched.
    pub fn index(&self) -> Option<usize> {
        (self.index != NO_INDEX).then_some(self.index as usize)
    }

    /// The value of the connector's match key (a user name or e-mail address), when there is one.
    pub fn key(&self) -> Option<&str> {
        self.part(HAS_KEY, 0, self.key_len as usize)
    }

    /// The HR id (`externalId`), when known.
    pub fn external_id(&self) -> Option<&str> {
        self.part(HAS_EXTERNAL_ID, self.key_len as usize, self.external_id_len as usize)
    }

    /// The app's id of the account the entry is about, if it has one.
    pub fn account(&self) -> Option<&str> {
        let start = self.key_len as usize + self.external_id_len as usize;
        self.part(HAS_ACCOUNT, start, self.text.len().saturating_sub(start))
    }
}

impl fmt::Debug for PlanEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlanEntry")
            .field("index", &self.index())
            .field("key", &self.key())
            .field("external_id", &self.external_id())
            .field("account", &self.account())
            .field("action", &self.action)
            .finish()
    }
}

impl Serialize for PlanEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            index: Option<usize>,
            key: Option<&'a str>,
            external_id: Option<&'a str>,
            account: Option<&'a str>,
            #[serde(flatten)]
            action: &'a Action,
        }
        Wire {
            index: self.index(),
            key: self.key(),
            external_id: self.external_id(),
            account: self.account(),
            action: &self.action,
        }
        .serialize(serializer)
    }
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
