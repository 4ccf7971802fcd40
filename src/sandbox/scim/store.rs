//! The SCIM side's user store: users in creation order with their ids, versions and timestamps,
//! `userName` uniqueness, and each user rendered as `GET /Users/{id}` returns it. Look-ups go
//! through the indexes in `index`; the store keeps them in step with every write.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::filter::Filter;
use super::index::{Indexes, Seq, fold_user_name};
use super::schema::{self, EXTENSIONS, Rules};
use crate::CORE_USER_SCHEMA;
use crate::sandbox::rng::SplitMix64;
use crate::sandbox::server::rfc3339;

/// Every user, in creation order, and what mints ids and versions.
pub(super) struct ScimState {
    /// In creation order (so in `seq` order). Read freely; write only through the methods below,
    /// which keep the indexes in step.
    pub(super) users: Vec<ScimUser>,
    pub(super) indexes: Indexes,
    /// The next user's sequence number.
    pub(super) next_seq: Seq,
    /// One server-wide version counter for ETags, like scim2-server.
    pub(super) version: u64,
    pub(super) rng: SplitMix64,
    /// Whether a taken `userName` is refused (see `enforce_unique_user_names`).
    pub(super) unique_user_names: bool,
    /// The profile's schema rules (`userName` case, read-only `externalId`, extensions).
    pub(super) rules: Rules,
}

/// One stored user.
pub(super) struct ScimUser {
    pub(super) id: String,
    /// Its creation sequence number, which the indexes name it by.
    seq: Seq,
    /// The stored attributes: canonical names, no `id`, `meta` or `schemas`.
    pub(super) attributes: Map<String, Value>,
    created: String,
    last_modified: String,
    version: u64,
}

impl ScimUser {
    pub(super) fn location(&self, base_url: &str) -> String {
        format!("{base_url}/Users/{}", self.id)
    }

    pub(super) fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// The user as the server returns it; `meta.version` only when the server has ETags. The
    /// password is stored but never returned (RFC 7643 `returned: never`).
    pub(super) fn render(&self, base_url: &str, etags: bool) -> Map<String, Value> {
        let mut schemas = vec![Value::from(CORE_USER_SCHEMA)];
        schemas.extend(EXTENSIONS.iter().filter(|s| self.attributes.contains_key(s.urn)).map(|s| Value::from(s.urn)));
        let mut out = Map::new();
        out.insert("schemas".into(), Value::Array(schemas));
        out.insert("id".into(), Value::from(self.id.as_str()));
        let mut meta = json!({
            "resourceType": "User",
            "created": self.created,
            "lastModified": self.last_modified,
            "location": self.location(base_url),
        });
        if let (true, Value::Object(meta)) = (etags, &mut meta) {
            meta.insert("version".into(), Value::from(self.etag()));
        }
        out.insert("meta".into(), meta);
        out.extend(
            self.attributes.iter().filter(|(k, _)| !schema::never_returned(k)).map(|(k, v)| (k.clone(), v.clone())),
        );
        out
    }
}

impl ScimState {
    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// The user with this `userName`, compared as the profile compares it (case-insensitively
    /// unless `userName` is case-exact).
    pub(super) fn find_by_user_name(&self, user_name: &str, except_id: Option<&str>) -> Option<&ScimUser> {
        let exact = self.rules.user_name_case_exact;
        // The index folds with `to_lowercase`, which every ASCII-case-insensitive match shares.
        let folded = fold_user_name(user_name, exact);
        self.indexes.by_user_name(&folded).iter().filter_map(|seq| self.by_seq(*seq)).find(|u| {
            Some(u.id.as_str()) != except_id
                && u.attributes
                    .get("userName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| if exact { n == user_name } else { n.eq_ignore_ascii_case(user_name) })
        })
    }

    /// The user with this sequence number.
    fn by_seq(&self, seq: Seq) -> Option<&ScimUser> {
        self.position_of(seq).map(|at| &self.users[at])
    }

    fn position_of(&self, seq: Seq) -> Option<usize> {
        self.users.binary_search_by_key(&seq, |u| u.seq).ok()
    }

    /// The user with this id.
    pub(super) fn user(&self, id: &str) -> Option<&ScimUser> {
        self.indexes.seq_of(id).and_then(|seq| self.by_seq(seq))
    }

    /// The first user (oldest) with this address among its `emails`, compared ignoring ASCII case.
    pub(super) fn first_with_email(&self, email: &str) -> Option<&ScimUser> {
        self.indexes.by_email(email).iter().filter_map(|seq| self.by_seq(*seq)).find(|u| {
            match u.attributes.get("emails") {
                Some(Value::Array(emails)) => emails
                    .iter()
                    .any(|e| e.get("value").and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(email))),
                _ => false,
            }
        })
    }

    /// The users `filter` matches (every user without one), oldest first, unrendered. Indexed
    /// filters try only the users the indexes name; the others try every user's stored
    /// attributes, rendering a user only when the filter names what rendering adds.
    pub(super) fn matching<'a>(
        &'a self,
        filter: Option<&'a Filter>,
        render: impl Fn(&ScimUser) -> Map<String, Value> + 'a,
    ) -> Box<dyn Iterator<Item = &'a ScimUser> + 'a> {
        let Some(filter) = filter else { return Box::new(self.users.iter()) };
        let rules = self.rules;
        let rendered = filter.needs_rendering();
        let matches = move |u: &&ScimUser| {
            if rendered { filter.matches(&render(u), rules) } else { filter.matches(&u.attributes, rules) }
        };
        match filter.plan() {
            Some(plan) => {
                let seqs = self.indexes.candidates(&plan, rules.user_name_case_exact);
                Box::new(seqs.into_iter().filter_map(|seq| self.by_seq(seq)).filter(matches))
            }
            None => Box::new(self.users.iter().filter(matches)),
        }
    }

    pub(super) fn check_unique(
        &self,
        attributes: &Map<String, Value>,
        except_id: Option<&str>,
    ) -> Result<(), ScimError> {
        let user_name = schema::user_name(attributes)?;
        if self.unique_user_names && self.find_by_user_name(user_name, except_id).is_some() {
            return Err(ScimError::new(
                409,
                Some("uniqueness"),
                "One or more of the attribute values are already in use or are reserved",
            ));
        }
        Ok(())
    }

    /// Stores a new user from a `POST` body checked under `rules`.
    pub(super) fn create(&mut self, body: Value, rules: Rules) -> Result<&ScimUser, ScimError> {
        let attributes = schema::normalise_resource(body, rules)?;
        self.check_unique(&attributes, None)?;
        let now = rfc3339(SystemTime::now());
        let mut id = self.rng.hex_id();
        while self.indexes.seq_of(&id).is_some() {
            id = self.rng.hex_id();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.indexes.insert(&id, seq, &attributes, self.rules.user_name_case_exact);
        let user =
            ScimUser { id, seq, attributes, created: now.clone(), last_modified: now, version: self.next_version() };
        self.users.push(user);
        self.users.last().ok_or_else(|| ScimError::new(500, None, "the user was not stored"))
    }

    pub(super) fn position(&self, id: &str) -> Result<usize, ScimError> {
        self.indexes.seq_of(id).and_then(|seq| self.position_of(seq)).ok_or_else(|| not_found(id))
    }

    pub(super) fn commit(&mut self, index: usize, attributes: Map<String, Value>) {
        let version = self.next_version();
        let exact = self.rules.user_name_case_exact;
        if let Some(user) = self.users.get_mut(index) {
            self.indexes.replace(user.seq, &user.attributes, &attributes, exact);
            user.attributes = attributes;
            user.last_modified = rfc3339(SystemTime::now());
            user.version = version;
        }
    }
}

impl ScimState {
    /// Deletes the user at `index` (a position from [`position`](Self::position)).
    pub(super) fn remove(&mut self, index: usize) {
        if index < self.users.len() {
            let user = self.users.remove(index);
            self.indexes.remove(&user.id, user.seq, &user.attributes, self.rules.user_name_case_exact);
        }
    }
}

fn not_found(id: &str) -> ScimError {
    ScimError::new(404, None, format!("User '{id}' not found"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::scim::filter::parse_filter;

    fn state(case_exact: bool) -> ScimState {
        let rules = Rules { enterprise: true, external_id_read_only: false, user_name_case_exact: case_exact };
        let mut state = ScimState {
            users: Vec::new(),
            indexes: Indexes::default(),
            next_seq: 0,
            version: 0,
            rng: SplitMix64::new(7),
            unique_user_names: !case_exact,
            rules,
        };
        let bodies = [
            json!({"userName": "Jane", "externalId": "E1", "emails": [{"value": "Jane@X.com", "type": "work"}]}),
            json!({"userName": "jane", "externalId": "e1", "emails": [{"value": "jane@x.com"}, {"value": "j@home.org", "type": "home"}]}),
            json!({"userName": "ÉMILE", "emails": [{"value": "émile@x.com", "type": "work"}], "title": "Lead"}),
            json!({"userName": "bob", "externalId": "E2", "password": "secret"}),
        ];
        for body in bodies {
            // Under case-insensitive uniqueness the second Jane is refused; the rest are stored.
            let _ = state.create(body, rules);
        }
        state
    }

    /// What every filter must give: the rendered users it matches, by a scan of them all.
    fn scan(state: &ScimState, filter: &Filter) -> Vec<String> {
        let rendered = |u: &ScimUser| u.render("http://x", true);
        state.users.iter().filter(|u| filter.matches(&rendered(u), state.rules)).map(|u| u.id.clone()).collect()
    }

    #[test]
    fn indexed_and_unrendered_filters_match_exactly_what_a_scan_of_rendered_users_does() {
        for case_exact in [false, true] {
            let mut state = state(case_exact);
            let first = state.users[0].id.clone();
            let filters = [
                r#"userName eq "JANE""#.to_string(),
                r#"userName eq "jane""#.to_string(),
                r#"userName eq "émile""#.to_string(),
                r#"externalId eq "E1""#.to_string(),
                r#"externalId eq "e1""#.to_string(),
                r#"emails.value eq "JANE@x.com""#.to_string(),
                r#"emails eq "j@HOME.org""#.to_string(),
                r#"emails[type eq "work" and value eq "jane@x.com"]"#.to_string(),
                r#"emails[value eq "nobody@x.com"]"#.to_string(),
                r#"userName eq "bob" or externalId eq "E1""#.to_string(),
                r#"userName eq "bob" and title pr"#.to_string(),
                r#"title eq "lead" or userName eq "bob""#.to_string(),
                format!(r#"id eq "{first}""#),
                format!(r#"id eq "{}""#, first.to_uppercase()),
                r#"id pr and meta.resourceType eq "User""#.to_string(),
                r#"password pr"#.to_string(),
                r#"not (userName eq "jane")"#.to_string(),
            ];
            let check = |state: &ScimState| {
                for text in &filters {
                    let filter = parse_filter(text).expect("the test's filters parse");
                    let found: Vec<String> =
                        state.matching(Some(&filter), |u| u.render("http://x", true)).map(|u| u.id.clone()).collect();
                    assert_eq!(found, scan(state, &filter), "{text} (case-exact {case_exact})");
                }
            };
            check(&state);
            assert!(state.find_by_user_name("JANE", None).is_some_and(|u| u.id == first) != case_exact);
            // Writes keep the indexes in step: a changed userName and address, then a deletion.
            let mut changed = state.users[0].attributes.clone();
            changed.insert("userName".into(), json!("Janet"));
            changed.insert("emails".into(), json!([{"value": "janet@x.com"}]));
            state.commit(0, changed);
            check(&state);
            assert!(state.find_by_user_name("janet", None).is_some() != case_exact);
            assert!(state.first_with_email("JANET@x.com").is_some_and(|u| u.id == first));
            assert!(state.first_with_email("jane@x.com").is_none_or(|u| u.id != first));
            state.remove(0);
            check(&state);
            assert!(state.user(&first).is_none());
            assert!(state.position(&first).is_err());
            let last = state.users.last().map(|u| u.id.clone()).unwrap_or_default();
            assert_eq!(state.position(&last).ok(), Some(state.users.len() - 1));
        }
    }
}
