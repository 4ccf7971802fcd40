//! The SCIM side's user store: users in creation order with their ids, versions and timestamps,
//! `userName` uniqueness, and each user rendered as `GET /Users/{id}` returns it.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::schema::{self, EXTENSIONS, Rules};
use crate::CORE_USER_SCHEMA;
use crate::sandbox::rng::SplitMix64;
use crate::sandbox::server::rfc3339;

/// Every user, in creation order, and what mints ids and versions.
pub(super) struct ScimState {
    pub(super) users: Vec<ScimUser>,
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
        self.users.iter().find(|u| {
            Some(u.id.as_str()) != except_id
                && u.attributes
                    .get("userName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| if exact { n == user_name } else { n.eq_ignore_ascii_case(user_name) })
        })
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
        let user = ScimUser {
            id: self.rng.hex_id(),
            attributes,
            created: now.clone(),
            last_modified: now,
            version: self.next_version(),
        };
        self.users.push(user);
        self.users.last().ok_or_else(|| ScimError::new(500, None, "the user was not stored"))
    }

    pub(super) fn position(&self, id: &str) -> Result<usize, ScimError> {
        self.users.iter().position(|u| u.id == id).ok_or_else(|| not_found(id))
    }

    pub(super) fn commit(&mut self, index: usize, attributes: Map<String, Value>) {
        let version = self.next_version();
        if let Some(user) = self.users.get_mut(index) {
            user.attributes = attributes;
            user.last_modified = rfc3339(SystemTime::now());
            user.version = version;
        }
    }
}

fn not_found(id: &str) -> ScimError {
    ScimError::new(404, None, format!("User '{id}' not found"))
}
