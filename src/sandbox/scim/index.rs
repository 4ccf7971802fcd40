//! The SCIM store's indexes: users by id, `userName`, e-mail address and `externalId`, so look-ups,
//! uniqueness checks and indexed filters cost the same at 100,000 users as at ten.
//!
//! Users are named by their creation sequence number, which never changes (positions in the store
//! shift when a user is deleted). Keys are folded the way the filter engine compares values:
//! `userName` and e-mail addresses lowercased (`userName` exact under a case-exact profile),
//! `externalId` and `id` exact. An index answers a *superset* of the users a filter matches; the
//! filter is still applied to each of them.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::filter::{Indexed, Plan};
use super::schema::get_ci;

/// A user's creation sequence number: stable, and increasing in creation order.
pub(super) type Seq = u64;

/// The indexes of one store.
#[derive(Default)]
pub(super) struct Indexes {
    by_id: HashMap<String, Seq>,
    user_names: HashMap<String, Vec<Seq>>,
    emails: HashMap<String, Vec<Seq>>,
    external_ids: HashMap<String, Vec<Seq>>,
}

/// The keys one user is indexed under.
struct Keys {
    user_name: Option<String>,
    emails: Vec<String>,
    external_id: Option<String>,
}

/// A `userName` as the index keys it.
pub(super) fn fold_user_name(user_name: &str, case_exact: bool) -> String {
    if case_exact { user_name.to_string() } else { user_name.to_lowercase() }
}

fn keys(attributes: &Map<String, Value>, user_name_case_exact: bool) -> Keys {
    let user_name = attributes.get("userName").and_then(Value::as_str).map(|n| fold_user_name(n, user_name_case_exact));
    // Every value the filter engine could compare an `emails` path with: each item's `value`, or
    // the item itself when it is a bare string.
    let items: Vec<&Value> = match attributes.get("emails") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single) => vec![single],
        None => Vec::new(),
    };
    let mut emails: Vec<String> = items
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(item) => get_ci(item, "value").and_then(Value::as_str),
            other => other.as_str(),
        })
        .map(str::to_lowercase)
        .collect();
    emails.sort_unstable();
    emails.dedup();
    let external_id = attributes.get("externalId").and_then(Value::as_str).map(str::to_string);
    Keys { user_name, emails, external_id }
}

fn add(map: &mut HashMap<String, Vec<Seq>>, key: String, seq: Seq) {
    let seqs = map.entry(key).or_default();
    // Kept sorted: a user re-indexed after an update may be older than the key's other users.
    if let Err(at) = seqs.binary_search(&seq) {
        seqs.insert(at, seq);
    }
}

fn drop_key(map: &mut HashMap<String, Vec<Seq>>, key: &str, seq: Seq) {
    if let Some(seqs) = map.get_mut(key) {
        seqs.retain(|s| *s != seq);
        if seqs.is_empty() {
            map.remove(key);
        }
    }
}

impl Indexes {
    /// The sequence number of the user with this id.
    pub(super) fn seq_of(&self, id: &str) -> Option<Seq> {
        self.by_id.get(id).copied()
    }

    /// Indexes a new user.
    pub(super) fn insert(&mut self, id: &str, seq: Seq, attributes: &Map<String, Value>, case_exact: bool) {
        self.by_id.insert(id.to_string(), seq);
        self.add_attributes(seq, attributes, case_exact);
    }

    /// Forgets a deleted user.
    pub(super) fn remove(&mut self, id: &str, seq: Seq, attributes: &Map<String, Value>, case_exact: bool) {
        self.by_id.remove(id);
        self.remove_attributes(seq, attributes, case_exact);
    }

    /// Re-indexes a user whose attributes changed from `old` to `new`.
    pub(super) fn replace(&mut self, seq: Seq, old: &Map<String, Value>, new: &Map<String, Value>, case_exact: bool) {
        self.remove_attributes(seq, old, case_exact);
        self.add_attributes(seq, new, case_exact);
    }

    fn add_attributes(&mut self, seq: Seq, attributes: &Map<String, Value>, case_exact: bool) {
        let keys = keys(attributes, case_exact);
        if let Some(name) = keys.user_name {
            add(&mut self.user_names, name, seq);
        }
        for email in keys.emails {
            add(&mut self.emails, email, seq);
        }
        if let Some(external_id) = keys.external_id {
            add(&mut self.external_ids, external_id, seq);
        }
    }

    fn remove_attributes(&mut self, seq: Seq, attributes: &Map<String, Value>, case_exact: bool) {
        let keys = keys(attributes, case_exact);
        if let Some(name) = keys.user_name {
            drop_key(&mut self.user_names, &name, seq);
        }
        for email in keys.emails {
            drop_key(&mut self.emails, &email, seq);
        }
        if let Some(external_id) = keys.external_id {
            drop_key(&mut self.external_ids, &external_id, seq);
        }
    }

    /// The users indexed under this (already folded) `userName`, oldest first.
    pub(super) fn by_user_name(&self, folded: &str) -> &[Seq] {
        self.user_names.get(folded).map_or(&[], Vec::as_slice)
    }

    /// The users with this address among their e-mails (any case), oldest first.
    pub(super) fn by_email(&self, email: &str) -> &[Seq] {
        self.emails.get(&email.to_lowercase()).map_or(&[], Vec::as_slice)
    }

    /// The users a filter's plan can match, oldest first, with no repeats.
    pub(super) fn candidates(&self, plan: &Plan, case_exact: bool) -> Vec<Seq> {
        match plan {
            Plan::Lookup(Indexed::Id, id) => self.seq_of(id).into_iter().collect(),
            Plan::Lookup(Indexed::UserName, name) => self.by_user_name(&fold_user_name(name, case_exact)).to_vec(),
            Plan::Lookup(Indexed::Email, email) => self.by_email(email).to_vec(),
            Plan::Lookup(Indexed::ExternalId, external_id) => {
                self.external_ids.get(external_id.as_str()).cloned().unwrap_or_default()
            }
            Plan::Both(a, b) => {
                let (a, b) = (self.candidates(a, case_exact), self.candidates(b, case_exact));
                a.into_iter().filter(|s| b.binary_search(s).is_ok()).collect()
            }
            Plan::Either(a, b) => {
                let mut all = self.candidates(a, case_exact);
                all.extend(self.candidates(b, case_exact));
                all.sort_unstable();
                all.dedup();
                all
            }
        }
    }
}
