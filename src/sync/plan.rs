//! The planner: accounts in, people in, a [`Plan`] out.
//!
//! Accounts are kept as keys and fingerprints only, in columns ([`Accounts`]), indexed by the
//! hash of their normalised match key and external id in sorted vectors (no per-entry
//! allocation). People are read one at a time and compared at once; only those to create, update
//! or reactivate are kept whole in their entry.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use super::accounts::{Accounts, NewAccount};
use super::entry::{Action, ConflictReason, DeactivateReason, Plan, PlanCounts, PlanEntry, UnchangedReason};
use super::fingerprint::{account_digest, account_prints, changes};
use super::scope::ManagedScope;
use crate::connector::Connector;
use crate::resource::{Lookup, RemoteUser, UserId};
use crate::user::User;

/// The hash of a match key as compared (user names and e-mail addresses trimmed and ignoring
/// ASCII case, external ids exactly), taken from the key as it is: no normalised copy per person
/// or account.
fn key_hash(lookup: &Lookup) -> u64 {
    let mut hasher = DefaultHasher::new();
    match lookup {
        Lookup::ExternalId(id) => hasher.write(id.as_bytes()),
        other => other.value().trim().bytes().for_each(|b| hasher.write_u8(b.to_ascii_lowercase())),
    }
    hasher.finish()
}

/// The key's text as compared with an account's (case aside).
fn key_text(lookup: &Lookup) -> &str {
    match lookup {
        Lookup::ExternalId(id) => id,
        other => other.value().trim(),
    }
}

fn hash_text(text: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

/// The positions in `index` (sorted by hash) whose hash is `hash`.
fn hits(index: &[(u64, u32)], hash: u64) -> impl Iterator<Item = u32> + '_ {
    let start = index.partition_point(|(h, _)| *h < hash);
    index[start..].iter().take_while(move |(h, _)| *h == hash).map(|(_, i)| *i)
}

pub(crate) struct Planner<'a> {
    connector: &'a dyn Connector,
    scope: &'a ManagedScope,
    accounts: Accounts,
    by_key: Vec<(u64, u32)>,
    by_external_id: Vec<(u64, u32)>,
    entries: Vec<PlanEntry>,
    /// Desired keys and external ids seen so far, by hash, with their entry.
    seen_keys: HashMap<u64, u32>,
    seen_external_ids: HashMap<u64, u32>,
    people: usize,
}

impl<'a> Planner<'a> {
    /// A planner expecting about `people` desired people.
    pub(crate) fn new(connector: &'a dyn Connector, scope: &'a ManagedScope, people: usize) -> Self {
        Planner {
            connector,
            scope,
            accounts: Accounts::default(),
            by_key: Vec::new(),
            by_external_id: Vec::new(),
            entries: Vec::with_capacity(people),
            seen_keys: HashMap::with_capacity(people),
            seen_external_ids: HashMap::with_capacity(people),
            people: 0,
        }
    }

    /// Keeps what matching needs of one listed account.
    pub(crate) fn add_account(&mut self, remote: &RemoteUser) {
        let key = self.connector.match_key(&remote.user).ok();
        let external_id = remote.user.external_id.as_deref().map(str::trim).filter(|e| !e.is_empty());
        let prints = account_prints(&self.connector.comparable(&remote.user));
        let key_text = key.as_ref().map(Lookup::value);
        let position = self.accounts.push(NewAccount {
            id: remote.id.as_str(),
            key: key_text,
            external_id,
            prints: &prints,
            digest: account_digest(key_text, external_id, &prints, remote.version.as_deref()),
            active: remote.is_active(),
            in_scope: self.scope.contains(remote),
        });
        if let Some(key) = &key {
            self.by_key.push((key_hash(key), position));
        }
        if let Some(external_id) = external_id {
            self.by_external_id.push((hash_text(external_id), position));
        }
    }

    /// Sorts the indexes; call once every account is added.
    pub(crate) fn index_accounts(&mut self) {
        self.by_key.sort_unstable();
        self.by_external_id.sort_unstable();
        self.by_key.shrink_to_fit();
        self.by_external_id.shrink_to_fit();
        self.accounts.shrink_to_fit();
    }

    fn account_key_is(&self, account: u32, key: &str, exact: bool) -> bool {
        let Some(have) = self.accounts.key(account) else { return false };
        if exact { have == key } else { have.trim().eq_ignore_ascii_case(key) }
    }

    /// Turns an earlier entry into a conflict (when a later person shows it was not what it seemed).
    fn make_conflict(&mut self, entry: u32, reason: ConflictReason) {
        let entry = &mut self.entries[entry as usize];
        if !matches!(entry.action, Action::Conflict { .. }) {
            entry.action = Action::Conflict { reason };
        }
    }

    /// Compares one desired person (at `index` in the input) with the accounts.
    pub(crate) fn add_person(&mut self, index: usize, user: User) {
        self.people += 1;
        let external_id = user.external_id.as_deref().map(str::trim).filter(|e| !e.is_empty());
        let mut create = false;
        let mut entry = match self.connector.match_key(&user) {
            Ok(lookup) => {
                let decided = self.decide(index, &user, &lookup, external_id);
                create = decided.is_none();
                let (account, action) =
                    decided.unwrap_or((None, Action::Unchanged { reason: UnchangedReason::UpToDate }));
                let account = account.map(|a| self.accounts.id(a));
                PlanEntry::new(Some(index), Some(lookup.value()), external_id, account, action)
            }
            Err(error) => {
                let action = Action::Conflict { reason: ConflictReason::Invalid { message: error.to_string() } };
                PlanEntry::new(Some(index), None, external_id, None, action)
            }
        };
        // The entry holds its own copy of the names, so the person can move into it whole.
        if create {
            entry.action = Action::Create { user: Box::new(user) };
        }
        self.entries.push(entry);
    }

    /// The account the person at `index` (with key `lookup`) is about, if any, and what to do;
    /// `None`: create them. Their entry is the next one.
    fn decide(
        &mut self,
        index: usize,
        user: &User,
        lookup: &Lookup,
        external_id: Option<&str>,
    ) -> Option<(Option<u32>, Action)> {
        let this = u32::try_from(self.entries.len()).unwrap_or(u32::MAX);
        let exact = matches!(lookup, Lookup::ExternalId(_));
        let key = key_text(lookup);

        // The same person twice in the input: both need a human.
        let key_hash = key_hash(lookup);
        let external_hash = external_id.map(hash_text);
        let earlier = self.seen_keys.get(&key_hash).copied().or_else(|| {
            external_hash.and_then(|h| self.seen_external_ids.get(&h).copied()).filter(|e| {
                self.entries[*e as usize].external_id() == external_id // not a hash collision
            })
        });
        if let Some(earlier) = earlier {
            let other = self.entries[earlier as usize].index().unwrap_or_default();
            self.make_conflict(earlier, ConflictReason::DuplicateInInput { other: index });
            return Some((None, Action::Conflict { reason: ConflictReason::DuplicateInInput { other } }));
        }
        self.seen_keys.insert(key_hash, this);
        if let Some(h) = external_hash {
            self.seen_external_ids.insert(h, this);
        }

        // Candidates: accounts with the key, and accounts with the external id.
        let mut by_key: Vec<u32> =
            hits(&self.by_key, key_hash).filter(|a| self.account_key_is(*a, key, exact)).collect();
        let mut candidates = by_key.clone();
        if let (Some(id), Some(h)) = (external_id, external_hash) {
            let same = |a: &u32| self.accounts.external_id(*a) == Some(id);
            candidates.extend(hits(&self.by_external_id, h).filter(same));
        }
        candidates.sort_unstable();
        candidates.dedup();
        // The account with this key carries another HR id: the key was reused.
        by_key.retain(|a| {
            let theirs = self.accounts.external_id(*a);
            theirs.is_some() && external_id.is_some() && theirs != external_id
        });
        if let Some(&account) = by_key.first() {
            self.claim_all(&candidates, this, index);
            return Some((Some(account), Action::Conflict { reason: ConflictReason::ExternalIdMismatch }));
        }
        let account = match candidates[..] {
            [] => {
                let action = if user.active == Some(false) {
                    Action::Unchanged { reason: UnchangedReason::InactiveNotInApp }
                } else {
                    match self.connector.check_new_user(user) {
                        Ok(()) => return None,
                        Err(error) => {
                            Action::Conflict { reason: ConflictReason::Invalid { message: error.to_string() } }
                        }
                    }
                };
                return Some((None, action));
            }
            [one] => one,
            _ => {
                let accounts = candidates.iter().map(|a| UserId::new(self.accounts.id(*a))).collect();
                self.claim_all(&candidates, this, index);
                return Some((None, Action::Conflict { reason: ConflictReason::SeveralAccounts { accounts } }));
            }
        };
        if let Some(earlier) = self.accounts.claimed(account) {
            let other = self.entries[earlier as usize].index().unwrap_or_default();
            self.make_conflict(earlier, ConflictReason::AccountMatchesSeveralPeople { other: index });
            return Some((
                Some(account),
                Action::Conflict { reason: ConflictReason::AccountMatchesSeveralPeople { other } },
            ));
        }
        let action = if user.active == Some(false) {
            match (self.accounts.active(account), self.accounts.in_scope(account)) {
                (false, _) => Action::Unchanged { reason: UnchangedReason::AlreadyInactive },
                (true, true) => {
                    Action::Deactivate { reason: DeactivateReason::InactiveInHr, digest: self.accounts.digest(account) }
                }
                (true, false) => Action::Conflict { reason: ConflictReason::OutsideScope },
            }
        } else {
            let (changes, attributes) = changes(&self.connector.comparable(user), self.accounts.prints(account));
            if !self.accounts.active(account) {
                Action::Reactivate { changes: Box::new(changes), attributes }
            } else if changes.is_empty() {
                Action::Unchanged { reason: UnchangedReason::UpToDate }
            } else {
                Action::Update { changes: Box::new(changes), attributes }
            }
        };
        // Claimed, the account is needed no more for comparing: its fingerprints are dropped. Its
        // key and external id are released when this person has the same (a later person with
        // either is then a duplicate, caught above); otherwise a later person may still match the
        // account by them, which is a conflict.
        if self.account_key_is(account, key, exact) {
            self.accounts.release_key(account);
        }
        if self.accounts.external_id(account) == external_id {
            self.accounts.release_external_id(account);
        }
        self.accounts.release_prints(account);
        self.accounts.claim(account, this);
        Some((Some(account), action))
    }

    /// Marks `accounts` as matched by the (conflicting) entry `entry` of person `index`, so none
    /// is deactivated; an account an earlier person matched makes that person a conflict too.
    fn claim_all(&mut self, accounts: &[u32], entry: u32, index: usize) {
        for &account in accounts {
            if let Some(earlier) = self.accounts.claimed(account).filter(|e| *e != entry) {
                self.make_conflict(earlier, ConflictReason::AccountMatchesSeveralPeople { other: index });
            } else {
                self.accounts.claim(account, entry);
            }
        }
    }

    /// The plan: the people's entries, then a deactivation for each managed, active account no
    /// person matched.
    pub(crate) fn finish(mut self) -> Plan {
        let mut counts = PlanCounts { people: self.people, accounts: self.accounts.len(), ..PlanCounts::default() };
        let accounts = std::mem::take(&mut self.accounts);
        for account in (0..accounts.len()).map(|a| u32::try_from(a).unwrap_or(u32::MAX)) {
            let (in_scope, active) = (accounts.in_scope(account), accounts.active(account));
            if in_scope && active {
                counts.managed += 1;
            }
            if accounts.claimed(account).is_some() {
                continue;
            }
            match (in_scope, active) {
                (false, _) => counts.unmanaged += 1,
                (true, false) => counts.inactive_not_in_hr += 1,
                (true, true) => self.entries.push(PlanEntry::new(
                    None,
                    accounts.key(account),
                    accounts.external_id(account),
                    Some(accounts.id(account)),
                    Action::Deactivate { reason: DeactivateReason::NotInHr, digest: accounts.digest(account) },
                )),
            }
        }
        drop(accounts);
        for entry in &self.entries {
            let slot = match entry.action {
                Action::Create { .. } => &mut counts.create,
                Action::Update { .. } => &mut counts.update,
                Action::Reactivate { .. } => &mut counts.reactivate,
                Action::Deactivate { .. } => &mut counts.deactivate,
                Action::Unchanged { .. } => &mut counts.unchanged,
                Action::Conflict { .. } => &mut counts.conflict,
            };
            *slot += 1;
        }
        self.entries.shrink_to_fit();
        Plan {
            connector: self.connector.kind(),
            app: self.connector.display_name().to_string(),
            counts,
            entries: self.entries,
        }
    }
}

/// The digest of an account read again, comparable with the one its plan entry holds.
pub(crate) fn digest_of_remote(connector: &dyn Connector, remote: &RemoteUser) -> u64 {
    let key = connector.match_key(&remote.user).ok();
    let external_id = remote.user.external_id.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let prints = account_prints(&connector.comparable(&remote.user));
    account_digest(key.as_ref().map(Lookup::value), external_id, &prints, remote.version.as_deref())
}
