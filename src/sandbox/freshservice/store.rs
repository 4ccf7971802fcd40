//! The Freshservice side's store: requesters and agents by id, checked as Freshservice checks them
//! (field types, known departments, locations, managers and roles, required fields, unique
//! e-mails), with an index of addresses so uniqueness checks and `?email=` look-ups do not scan.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::SystemTime;

use hyper::StatusCode;
use serde_json::{Map, Value};

use super::error::{FieldError, FsError, field_error};
use super::fields::{ASSIGNMENT_SCOPES, Field, FieldType, Kind, is_email};
use super::names::{Named, RequesterGroup};
use crate::sandbox::rng::SplitMix64;
use crate::sandbox::server::rfc3339;

/// Freshservice ids are large integers; the sandbox's start in the same range.
pub(super) const FIRST_USER_ID: u64 = 21_000_000_000;

/// A requester or an agent, as stored.
pub(super) struct FsUser {
    pub(super) id: u64,
    pub(super) kind: Kind,
    pub(super) active: bool,
    /// Writable fields as last set, by their name for this kind.
    pub(super) fields: Map<String, Value>,
    pub(super) created_at: String,
    pub(super) updated_at: String,
}

impl FsUser {
    pub(super) fn email(&self) -> Option<&str> {
        self.fields.get(self.kind.email_field()).and_then(Value::as_str)
    }

    pub(super) fn secondary_emails(&self) -> impl Iterator<Item = &str> {
        self.fields.get("secondary_emails").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
    }

    pub(super) fn first_name(&self) -> String {
        self.fields.get("first_name").and_then(Value::as_str).unwrap_or("").to_lowercase()
    }
}

/// Every user, the departments, locations, roles and agent groups they may refer to, and the
/// requester groups that hold requesters.
pub(super) struct FreshserviceState {
    /// Read freely; create, update, convert and forget go through `create`, `update` and
    /// `reindexed`/`unindex`, which keep `emails` in step.
    pub(super) users: BTreeMap<u64, FsUser>,
    /// Every primary and secondary address, ASCII-lowercased (how Freshservice compares them),
    /// to the users that have it.
    pub(super) emails: HashMap<String, BTreeSet<u64>>,
    pub(super) next_id: u64,
    pub(super) rng: SplitMix64,
    pub(super) departments: Vec<Named>,
    pub(super) locations: Vec<Named>,
    pub(super) roles: Vec<Named>,
    pub(super) requester_groups: Vec<RequesterGroup>,
    pub(super) agent_groups: Vec<Named>,
}

impl FreshserviceState {
    pub(super) fn get(&self, kind: Kind, id: &str) -> Result<&FsUser, FsError> {
        let id: u64 = id.parse().map_err(|_| FsError::not_found())?;
        self.users.get(&id).filter(|u| u.kind == kind).ok_or_else(FsError::not_found)
    }

    fn get_mut(&mut self, kind: Kind, id: &str) -> Result<&mut FsUser, FsError> {
        let id: u64 = id.parse().map_err(|_| FsError::not_found())?;
        self.users.get_mut(&id).filter(|u| u.kind == kind).ok_or_else(FsError::not_found)
    }

    /// Checks a request body's fields for `kind`; returns them canonicalised.
    fn validate(&self, kind: Kind, body: Value) -> Result<Map<String, Value>, FsError> {
        let Value::Object(body) = body else {
            return Err(FsError::validation(vec![field_error(
                "",
                "The request body must be a JSON object",
                "invalid_json",
            )]));
        };
        let mut errors = Vec::new();
        let mut out = Map::new();
        for (name, value) in body {
            let Some(field) = kind.fields().iter().find(|f| f.name == name) else {
                errors.push(field_error(&name, "Unexpected/invalid field in request", "invalid_field"));
                continue;
            };
            match self.check_value(field, value) {
                Ok(value) => {
                    out.insert(name, value);
                }
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            return Ok(out);
        }
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Err(FsError::validation(errors))
    }

    fn check_value(&self, field: &Field, value: Value) -> Result<Value, FieldError> {
        let name = field.name;
        let mismatch = |what: &str| field_error(name, format!("It should be a/an {what}"), "datatype_mismatch");
        let positive = |v: &Value| v.as_u64().filter(|n| *n > 0);
        if value.is_null() {
            return Ok(Value::Null);
        }
        match field.ty {
            FieldType::Text => value.is_string().then_some(value).ok_or_else(|| mismatch("String")),
            FieldType::Email => match value.as_str() {
                Some(email) if is_email(email) => Ok(value),
                Some(_) => Err(field_error(name, "It should be in the 'valid email address' format", "invalid_value")),
                None => Err(mismatch("String")),
            },
            FieldType::Emails => match value.as_array() {
                Some(items) if items.iter().all(|i| i.as_str().is_some_and(is_email)) => Ok(value),
                Some(_) => Err(field_error(
                    name,
                    "It should contain elements in the 'valid email address' format",
                    "invalid_value",
                )),
                None => Err(mismatch("Array")),
            },
            FieldType::Phone => match value {
                Value::String(_) => Ok(value),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                _ => Err(mismatch("String")),
            },
            FieldType::Bool => value.is_boolean().then_some(value).ok_or_else(|| mismatch("Boolean")),
            FieldType::PositiveInteger => positive(&value).map(Value::from).ok_or_else(|| mismatch("Positive Integer")),
            FieldType::AgentGroups => match value.as_array() {
                Some(items) if items.iter().all(|i| positive(i).is_some()) => {
                    match items.iter().find(|i| !self.agent_groups.iter().any(|g| Some(g.id) == i.as_u64())) {
                        Some(unknown) => {
                            Err(field_error(name, format!("There is no group with id {unknown}"), "invalid_value"))
                        }
                        None => Ok(value),
                    }
                }
                _ => Err(mismatch("Array of Positive Integer")),
            },
            FieldType::IntegerList => match value.as_array() {
                Some(items) if items.iter().all(|i| positive(i).is_some()) => Ok(value),
                _ => Err(mismatch("Array of Positive Integer")),
            },
            FieldType::Departments => {
                let Some(items) = value.as_array() else { return Err(mismatch("Array")) };
                for item in items {
                    let id = positive(item).ok_or_else(|| mismatch("Array of Positive Integer"))?;
                    if !self.departments.iter().any(|d| d.id == id) {
                        return Err(field_error(name, format!("There is no department with id {id}"), "invalid_value"));
                    }
                }
                Ok(value)
            }
            FieldType::Location => {
                let id = positive(&value).ok_or_else(|| mismatch("Positive Integer"))?;
                if !self.locations.iter().any(|l| l.id == id) {
                    return Err(field_error(name, format!("There is no location with id {id}"), "invalid_value"));
                }
                Ok(value)
            }
            FieldType::User => {
                let id = positive(&value).ok_or_else(|| mismatch("Positive Integer"))?;
                if !self.users.contains_key(&id) {
                    return Err(field_error(name, format!("There is no user with id {id}"), "invalid_value"));
                }
                Ok(value)
            }
            FieldType::TimeFormat => match value.as_str() {
                Some("12h" | "24h") => Ok(value),
                _ => Err(field_error(name, "It should be one of these values: '12h,24h'", "invalid_value")),
            },
            FieldType::Object => value.is_object().then_some(value).ok_or_else(|| mismatch("key/value pair")),
            FieldType::Roles => self.check_roles(value),
            FieldType::ExternalId => match value {
                Value::String(_) => Ok(value),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                _ => Err(mismatch("String")),
            },
        }
    }

    fn check_roles(&self, value: Value) -> Result<Value, FieldError> {
        let invalid = |message: String| field_error("roles", message, "invalid_value");
        let Some(roles) = value.as_array() else {
            return Err(field_error("roles", "It should be a/an Array", "datatype_mismatch"));
        };
        for role in roles {
            let Some(role) = role.as_object() else { return Err(invalid("Each role should be an object".into())) };
            if let Some(key) = role.keys().find(|k| !["role_id", "assignment_scope", "groups"].contains(&k.as_str())) {
                return Err(field_error(
                    &format!("roles.{key}"),
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ));
            }
            let id =
                role.get("role_id").and_then(Value::as_u64).ok_or_else(|| invalid("role_id is required".into()))?;
            if !self.roles.iter().any(|r| r.id == id) {
                return Err(invalid(format!("There is no role with id {id}")));
            }
            let scope = role.get("assignment_scope").and_then(Value::as_str).unwrap_or("");
            if !ASSIGNMENT_SCOPES.contains(&scope) {
                return Err(invalid(format!("assignment_scope should be one of {}", ASSIGNMENT_SCOPES.join(", "))));
            }
        }
        Ok(value)
    }

    /// The users (ids, ascending) with `email` as their primary or a secondary address, compared
    /// ignoring ASCII case.
    pub(super) fn with_email(&self, email: &str) -> impl Iterator<Item = u64> + '_ {
        self.emails.get(&email.to_ascii_lowercase()).into_iter().flatten().copied()
    }

    fn addresses(&self, id: u64) -> Vec<String> {
        let Some(user) = self.users.get(&id) else { return Vec::new() };
        user.email().into_iter().chain(user.secondary_emails()).map(str::to_ascii_lowercase).collect()
    }

    /// Takes user `id`'s addresses out of the index, before a change or a removal.
    pub(super) fn unindex(&mut self, id: u64) {
        for address in self.addresses(id) {
            if let Some(ids) = self.emails.get_mut(&address) {
                ids.remove(&id);
                if ids.is_empty() {
                    self.emails.remove(&address);
                }
            }
        }
    }

    /// Puts user `id`'s addresses (back) into the index, after it was stored or changed.
    pub(super) fn reindexed(&mut self, id: u64) {
        for address in self.addresses(id) {
            self.emails.entry(address).or_default().insert(id);
        }
    }

    /// The `409 duplicate_value` error when an address in `fields` is already some other user's.
    fn check_duplicates(&self, kind: Kind, fields: &Map<String, Value>, except: Option<u64>) -> Result<(), FsError> {
        let taken = |email: &str| self.with_email(email).any(|id| Some(id) != except);
        let mut errors = Vec::new();
        if fields.get(kind.email_field()).and_then(Value::as_str).is_some_and(taken) {
            errors.push(field_error(kind.email_field(), "It should be a unique value", "duplicate_value"));
        }
        let secondary = fields.get("secondary_emails").and_then(Value::as_array).into_iter().flatten();
        if secondary.filter_map(Value::as_str).any(taken) {
            errors.push(field_error("secondary_emails", "It should be a unique value", "duplicate_value"));
        }
        if errors.is_empty() { Ok(()) } else { Err(FsError::Validation(StatusCode::CONFLICT, errors)) }
    }

    pub(super) fn create(&mut self, kind: Kind, body: Value) -> Result<u64, FsError> {
        let fields = self.validate(kind, body)?;
        let present = |name: &str| match fields.get(name) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        let mut missing = Vec::new();
        if !present("first_name") {
            missing.push(field_error("first_name", "It should be a/an String", "missing_field"));
        }
        match kind {
            Kind::Requester => {
                if !["primary_email", "work_phone_number", "mobile_phone_number"].iter().any(|f| present(f)) {
                    missing.push(field_error(
                        "primary_email",
                        "Please specify at least one of primary_email, work_phone_number, mobile_phone_number",
                        "missing_field",
                    ));
                }
            }
            Kind::Agent => {
                if !present("email") {
                    missing.push(field_error("email", "It should be a/an String", "missing_field"));
                }
                if !present("roles") {
                    missing.push(field_error("roles", "It should be a/an Array", "missing_field"));
                }
            }
        }
        if !missing.is_empty() {
            return Err(FsError::validation(missing));
        }
        self.check_duplicates(kind, &fields, None)?;
        // Ids grow by a seeded random step, so clients cannot rely on them being consecutive.
        self.next_id += 1 + self.rng.below(1000) as u64;
        let now = rfc3339(SystemTime::now());
        let id = self.next_id;
        let user = FsUser { id, kind, active: true, fields, created_at: now.clone(), updated_at: now };
        self.users.insert(id, user);
        self.reindexed(id);
        Ok(id)
    }

    pub(super) fn update(&mut self, kind: Kind, id: &str, body: Value) -> Result<u64, FsError> {
        let current = self.get(kind, id)?.id;
        let changes = self.validate(kind, body)?;
        if matches!(changes.get("first_name"), Some(Value::Null))
            || matches!(changes.get(kind.email_field()), Some(Value::Null))
        {
            let field =
                if changes.get("first_name").is_some_and(Value::is_null) { "first_name" } else { kind.email_field() };
            return Err(FsError::validation(vec![field_error(field, "It should not be blank", "invalid_value")]));
        }
        self.check_duplicates(kind, &changes, Some(current))?;
        self.unindex(current);
        let user = self.users.get_mut(&current).ok_or_else(FsError::not_found)?;
        // Freshservice resets this flag on every update that does not send it as true.
        let keep_flag = changes.get("can_see_all_tickets_from_associated_departments") == Some(&Value::Bool(true));
        user.fields.extend(changes);
        user.fields.insert("can_see_all_tickets_from_associated_departments".into(), Value::Bool(keep_flag));
        user.updated_at = rfc3339(SystemTime::now());
        self.reindexed(current);
        Ok(current)
    }

    pub(super) fn set_active(&mut self, kind: Kind, id: &str, active: bool) -> Result<u64, FsError> {
        let user = self.get_mut(kind, id)?;
        user.active = active;
        user.updated_at = rfc3339(SystemTime::now());
        Ok(user.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> FreshserviceState {
        FreshserviceState {
            users: BTreeMap::new(),
            emails: HashMap::new(),
            next_id: FIRST_USER_ID,
            rng: SplitMix64::new(1),
            departments: vec![Named { id: 7, name: "Finance".into(), role_type: 0, created_at: String::new() }],
            locations: Vec::new(),
            roles: vec![Named { id: 4, name: "SD Agent".into(), role_type: 2, created_at: String::new() }],
            requester_groups: Vec::new(),
            agent_groups: Vec::new(),
        }
    }

    fn codes(error: FsError) -> Vec<(String, &'static str)> {
        match error {
            FsError::Validation(_, errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            FsError::Flat(_, code, _) => vec![(String::new(), code)],
        }
    }

    #[test]
    fn create_validates_like_freshservice() {
        let mut s = state();
        let err = |s: &mut FreshserviceState, kind, body| s.create(kind, body).map_err(codes);
        assert_eq!(
            err(&mut s, Kind::Requester, json!({"last_name": "X", "ticket_scope": 1})),
            Err(vec![("ticket_scope".into(), "invalid_field"),])
        );
        assert_eq!(
            err(&mut s, Kind::Requester, json!({"last_name": "X"})),
            Err(vec![("first_name".into(), "missing_field"), ("primary_email".into(), "missing_field")])
        );
        assert_eq!(
            err(
                &mut s,
                Kind::Requester,
                json!({"first_name": "A", "primary_email": "nope", "department_ids": [8], "time_format": "1h"})
            ),
            Err(vec![
                ("department_ids".into(), "invalid_value"),
                ("primary_email".into(), "invalid_value"),
                ("time_format".into(), "invalid_value"),
            ])
        );
        assert_eq!(
            err(&mut s, Kind::Agent, json!({"first_name": "A", "email": "a@x.com"})),
            Err(vec![("roles".into(), "missing_field")])
        );
        assert_eq!(
            err(
                &mut s,
                Kind::Agent,
                json!({"first_name": "A", "email": "a@x.com", "roles": [{"role_id": 5, "assignment_scope": "entire_helpdesk"}]})
            ),
            Err(vec![("roles".into(), "invalid_value")])
        );
        let id =
            s.create(Kind::Requester, json!({"first_name": "A", "primary_email": "A@x.com", "work_phone_number": 123}));
        assert!(id.is_ok_and(|id| id > FIRST_USER_ID));
        assert_eq!(
            err(
                &mut s,
                Kind::Agent,
                json!({"first_name": "B", "email": "a@X.com", "roles": [{"role_id": 4, "assignment_scope": "entire_helpdesk"}]})
            ),
            Err(vec![("email".into(), "duplicate_value")])
        );
        let stored = s.users.values().next().map(|u| s.render_requester(u));
        assert_eq!(stored.as_ref().map(|u| &u["work_phone_number"]), Some(&json!("123")));
        assert_eq!(stored.as_ref().map(|u| &u["department_ids"]), Some(&json!([])));
    }

    #[test]
    fn update_resets_the_department_visibility_flag() {
        let mut s = state();
        let id = s
            .create(Kind::Requester, json!({"first_name": "A", "primary_email": "a@x.com", "can_see_all_tickets_from_associated_departments": true}))
            .map(|id| id.to_string());
        let id = id.unwrap_or_default();
        let flag = |s: &FreshserviceState| {
            s.users
                .values()
                .next()
                .and_then(|u| u.fields.get("can_see_all_tickets_from_associated_departments").cloned())
        };
        assert_eq!(flag(&s), Some(json!(true)));
        assert!(s.update(Kind::Requester, &id, json!({"job_title": "Analyst"})).is_ok());
        assert_eq!(flag(&s), Some(json!(false)));
        assert!(
            s.update(Kind::Requester, &id, json!({"can_see_all_tickets_from_associated_departments": true})).is_ok()
        );
        assert_eq!(flag(&s), Some(json!(true)));
        assert_eq!(
            s.update(Kind::Requester, &id, json!({"active": false})).map_err(codes),
            Err(vec![("active".into(), "invalid_field")])
        );
        assert_eq!(s.update(Kind::Agent, &id, json!({})).map_err(codes), Err(vec![(String::new(), "not_found")]));
    }

    #[test]
    fn the_address_index_follows_updates_and_removals() {
        let mut s = state();
        let body = json!({"first_name": "A", "primary_email": "A@x.com", "secondary_emails": ["a2@x.com"]});
        let id = s.create(Kind::Requester, body).unwrap_or_default();
        let ids = |s: &FreshserviceState, email: &str| s.with_email(email).collect::<Vec<_>>();
        assert_eq!((ids(&s, "a@X.COM"), ids(&s, "A2@x.com")), (vec![id], vec![id]));
        let taken = |s: &mut FreshserviceState, email: &str| {
            s.create(Kind::Requester, json!({"first_name": "B", "primary_email": email})).map_err(codes)
        };
        assert_eq!(taken(&mut s, "a2@x.COM"), Err(vec![("primary_email".into(), "duplicate_value")]));
        // A changed address frees the old one and takes the new one.
        let changed = s.update(Kind::Requester, &id.to_string(), json!({"primary_email": "new@x.com"}));
        assert_eq!(changed.map_err(codes), Ok(id));
        assert_eq!((ids(&s, "a@x.com"), ids(&s, "NEW@x.com")), (vec![], vec![id]));
        assert_eq!(taken(&mut s, "new@x.com"), Err(vec![("primary_email".into(), "duplicate_value")]));
        let other = taken(&mut s, "a@x.com");
        assert!(other.as_ref().is_ok_and(|other| *other != id), "{other:?}");
        // Its own address is no duplicate for the user itself.
        assert!(s.update(Kind::Requester, &id.to_string(), json!({"primary_email": "NEW@x.com"})).is_ok());
        s.unindex(id);
        s.users.remove(&id);
        assert_eq!((ids(&s, "new@x.com"), ids(&s, "a2@x.com")), (vec![], vec![]));
    }
}
