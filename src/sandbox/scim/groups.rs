//! The SCIM side's groups (RFC 7643 §4.2): the Group schema table (published by `discovery`), the
//! group store, body checking and the group `PATCH` engine (`displayName`, `externalId`,
//! `members`, and member removal by value filter, `members[value eq "…"]`). The HTTP handlers are
//! in `group_api`.
//!
//! Members must be stored users or groups (`400 invalidValue` otherwise); adding a present member
//! changes nothing; a removal filter that matches no member is `400 noTarget`, as for users'
//! multi-valued attributes. Deleting a user removes them from every group.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::error::{Result, ScimError};
use super::filter::parse_filter;
use super::schema::{Attr, Rules, Schema, Type, attr, find_attr, get_ci, normalise_value};
use crate::sandbox::rng::SplitMix64;
use crate::sandbox::server::rfc3339;
use crate::scim::groups::GROUP_SCHEMA;

const MEMBER: &[Attr] = &[
    Attr { case_exact: true, ..attr("value", Type::String, false) },
    Attr { case_exact: true, ..attr("$ref", Type::Reference(&["User", "Group"]), false) },
    Attr { canonical: &["User", "Group"], ..attr("type", Type::String, false) },
    attr("display", Type::String, false),
];
const GROUP_ATTRS: &[Attr] = &[
    Attr { required: true, ..attr("displayName", Type::String, false) },
    attr("members", Type::Complex(MEMBER), true),
];
/// `externalId`, a common attribute (RFC 7643 §3.1): stored, never published in `/Schemas`.
const EXTERNAL_ID: Attr = Attr { case_exact: true, ..attr("externalId", Type::String, false) };

/// The core Group schema, as `/Schemas` publishes it.
pub(crate) const GROUP: Schema = Schema { urn: GROUP_SCHEMA, name: "Group", description: "Group", attrs: GROUP_ATTRS };

/// The `members` attribute.
fn members_attr() -> &'static Attr {
    &GROUP_ATTRS[1]
}

/// Which resources a list or search covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    Users,
    Groups,
    /// `POST /.search`: every resource type.
    All,
}

impl Scope {
    pub(super) fn users(self) -> bool {
        self != Scope::Groups
    }

    pub(super) fn groups(self) -> bool {
        self != Scope::Users
    }
}

/// One stored group.
pub(super) struct StoredGroup {
    pub(super) id: String,
    /// `displayName`, `externalId`, `members`: canonical names, no `id`, `meta` or `schemas`.
    pub(super) attributes: Map<String, Value>,
    created: String,
    last_modified: String,
    version: u64,
}

impl StoredGroup {
    pub(super) fn location(&self, base_url: &str) -> String {
        format!("{base_url}/Groups/{}", self.id)
    }

    pub(super) fn etag(&self) -> String {
        format!("W/\"g{}\"", self.version)
    }

    /// The group as `GET /Groups/{id}` returns it; `meta.version` only with ETags.
    pub(super) fn render(&self, base_url: &str, etags: bool) -> Map<String, Value> {
        let mut meta = json!({
            "resourceType": "Group",
            "created": self.created,
            "lastModified": self.last_modified,
            "location": self.location(base_url),
        });
        if let (true, Value::Object(meta)) = (etags, &mut meta) {
            meta.insert("version".into(), Value::from(self.etag()));
        }
        let mut out = Map::new();
        out.insert("schemas".into(), json!([GROUP_SCHEMA]));
        out.insert("id".into(), Value::from(self.id.as_str()));
        out.insert("meta".into(), meta);
        out.extend(self.attributes.iter().map(|(k, v)| (k.clone(), v.clone())));
        out
    }

    /// The ids of the members.
    pub(super) fn member_ids(&self) -> impl Iterator<Item = &str> {
        let items = match self.attributes.get("members") {
            Some(Value::Array(items)) => items.as_slice(),
            _ => &[],
        };
        items.iter().filter_map(|m| m.get("value").and_then(Value::as_str))
    }
}

/// Every group, in creation order, and what mints their ids and versions.
pub(super) struct GroupStore {
    pub(super) groups: Vec<StoredGroup>,
    version: u64,
    rng: SplitMix64,
}

impl GroupStore {
    pub(super) fn new(seed: u64) -> Self {
        // Another stream than the users', so ids never collide.
        GroupStore { groups: Vec::new(), version: 0, rng: SplitMix64::new(seed ^ 0x6709_u64.rotate_left(32)) }
    }

    pub(super) fn position(&self, id: &str) -> Result<usize> {
        self.groups
            .iter()
            .position(|g| g.id == id)
            .ok_or_else(|| ScimError::new(404, None, format!("Group '{id}' not found")))
    }

    pub(super) fn create(&mut self, attributes: Map<String, Value>) -> &StoredGroup {
        self.version += 1;
        let now = rfc3339(SystemTime::now());
        let group = StoredGroup {
            id: self.rng.hex_id(),
            attributes,
            created: now.clone(),
            last_modified: now,
            version: self.version,
        };
        self.groups.push(group);
        let last = self.groups.len() - 1;
        &self.groups[last]
    }

    pub(super) fn commit(&mut self, index: usize, attributes: Map<String, Value>) {
        self.version += 1;
        let version = self.version;
        if let Some(group) = self.groups.get_mut(index) {
            group.attributes = attributes;
            group.last_modified = rfc3339(SystemTime::now());
            group.version = version;
        }
    }

    /// Removes `id` (a deleted user or group) from every group's members.
    pub(super) fn forget_member(&mut self, id: &str) {
        for group in &mut self.groups {
            if let Some(Value::Array(members)) = group.attributes.get_mut("members") {
                members.retain(|m| m.get("value").and_then(Value::as_str) != Some(id));
                if members.is_empty() {
                    group.attributes.remove("members");
                }
            }
        }
    }

    /// The groups `user` is a direct member of, as the user's read-only `groups` attribute.
    pub(super) fn groups_of(&self, user: &str, base_url: &str) -> Vec<Value> {
        self.groups
            .iter()
            .filter(|g| g.member_ids().any(|m| m == user))
            .map(|g| {
                json!({
                    "value": g.id,
                    "$ref": g.location(base_url),
                    "display": g.attributes.get("displayName").cloned().unwrap_or(Value::Null),
                    "type": "direct",
                })
            })
            .collect()
    }
}

fn extra_input(at: &str) -> ScimError {
    ScimError::bad_request("invalidSyntax", format!("Extra inputs are not permitted: {at}"))
}

/// Checks `members` values: each an object with a `value` naming a stored resource (`exists`),
/// once each (a repeated value keeps its first entry).
fn members(value: Value, exists: &dyn Fn(&str) -> bool) -> Result<Option<Value>> {
    let Some(Value::Array(items)) = normalise_value(members_attr(), value, "members")? else {
        return Ok(None);
    };
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        let Some(id) = item.get("value").and_then(Value::as_str) else {
            return Err(ScimError::bad_request("invalidValue", "each member needs a 'value'"));
        };
        if !exists(id) {
            return Err(ScimError::bad_request("invalidValue", format!("member '{id}' does not exist")));
        }
        if !out.iter().any(|m| m.get("value") == item.get("value")) {
            out.push(item);
        }
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// Sets one top-level attribute (`displayName`, `externalId`, `members`) from a body or a
/// `replace`; `null` removes it.
fn set(out: &mut Map<String, Value>, key: &str, value: Value, exists: &dyn Fn(&str) -> bool) -> Result<()> {
    let (name, checked) = if key.eq_ignore_ascii_case("members") {
        ("members", members(value, exists)?)
    } else if let Some(attr) =
        find_attr(GROUP_ATTRS, key).or_else(|| EXTERNAL_ID.name.eq_ignore_ascii_case(key).then_some(&EXTERNAL_ID))
    {
        (attr.name, normalise_value(attr, value, attr.name)?)
    } else {
        return Err(extra_input(key));
    };
    match checked {
        Some(value) => out.insert(name.to_string(), value),
        None => out.remove(name),
    };
    Ok(())
}

/// The stored `displayName`, which must be a non-empty string.
fn display_name(attributes: &Map<String, Value>) -> Result<()> {
    match attributes.get("displayName") {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(()),
        _ => Err(ScimError::bad_request(
            "invalidValue",
            "Field 'displayName' is required but value is missing, null or empty",
        )),
    }
}

/// Checks a `POST`/`PUT` body and returns the stored attributes. Unknown attributes (extension
/// objects included: none is declared for groups) are refused.
pub(super) fn normalise_group(body: Value, exists: &dyn Fn(&str) -> bool) -> Result<Map<String, Value>> {
    let Value::Object(body) = body else {
        return Err(ScimError::bad_request("invalidSyntax", "The request body must be a JSON object"));
    };
    let mut out = Map::new();
    for (key, value) in body {
        if ["schemas", "id", "meta"].iter().any(|k| k.eq_ignore_ascii_case(&key)) {
            continue;
        }
        set(&mut out, &key, value, exists)?;
    }
    display_name(&out)?;
    Ok(out)
}

/// A `PATCH` path on a group, without the optional core-schema URN prefix.
fn strip_urn(path: &str) -> &str {
    let path = path.trim();
    match path.get(..GROUP_SCHEMA.len()) {
        Some(prefix) if prefix.eq_ignore_ascii_case(GROUP_SCHEMA) => {
            path[GROUP_SCHEMA.len()..].strip_prefix(':').unwrap_or(path)
        }
        _ => path,
    }
}

/// Applies one operation with a path.
fn apply(
    group: &mut Map<String, Value>,
    op: &str,
    path: &str,
    value: Option<Value>,
    rules: Rules,
    exists: &dyn Fn(&str) -> bool,
) -> Result<()> {
    let path = strip_urn(path);
    if let Some(open) = path.find('[') {
        // `members[value eq "…"]`: only removal by value filter is served.
        let (name, rest) = path.split_at(open);
        let inner = rest.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
        let (true, Some(inner), "remove") = (name.eq_ignore_ascii_case("members"), inner, op) else {
            return Err(ScimError::bad_request("invalidPath", format!("'{path}' is not a path this server patches")));
        };
        let filter = parse_filter(inner).map_err(|e| ScimError::bad_request("invalidPath", e.detail))?;
        let Some(Value::Array(items)) = group.get_mut("members") else {
            return Err(ScimError::bad_request("noTarget", "the filter matched no member"));
        };
        let before = items.len();
        items.retain(|m| !matches!(m, Value::Object(m) if filter.matches(m, rules)));
        if items.len() == before {
            return Err(ScimError::bad_request("noTarget", "the filter matched no member"));
        }
        if items.is_empty() {
            group.remove("members");
        }
        return Ok(());
    }
    match op {
        "remove" => {
            if path.eq_ignore_ascii_case("displayName") {
                return Err(ScimError::bad_request("invalidValue", "'displayName' is required"));
            }
            if !path.eq_ignore_ascii_case("members") && !path.eq_ignore_ascii_case("externalId") {
                return Err(ScimError::bad_request("invalidPath", format!("'{path}' is not a group attribute")));
            }
            group.retain(|k, _| !k.eq_ignore_ascii_case(path));
            Ok(())
        }
        "add" if path.eq_ignore_ascii_case("members") => {
            let Some(value) = value else {
                return Err(ScimError::bad_request("invalidValue", "'add' needs a value"));
            };
            let Some(Value::Array(added)) = members(value, exists)? else { return Ok(()) };
            let mut all = match group.remove("members") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            };
            for item in added {
                if !all.iter().any(|m| m.get("value") == item.get("value")) {
                    all.push(item);
                }
            }
            group.insert("members".into(), Value::Array(all));
            Ok(())
        }
        _ => set(group, path, value.unwrap_or(Value::Null), exists),
    }
}

/// Applies a PatchOp body to a copy of a stored group; the caller commits it only if every
/// operation succeeded (PATCH is atomic).
pub(super) fn patch_group(
    stored: &Map<String, Value>,
    body: &Value,
    rules: Rules,
    exists: &dyn Fn(&str) -> bool,
) -> Result<Map<String, Value>> {
    let operations = match body.as_object().and_then(|b| get_ci(b, "Operations")) {
        Some(Value::Array(operations)) if !operations.is_empty() => operations,
        _ => return Err(ScimError::bad_request("invalidSyntax", "The PatchOp body needs one or more 'Operations'")),
    };
    let mut group = stored.clone();
    for operation in operations {
        let Value::Object(operation) = operation else {
            return Err(ScimError::bad_request("invalidSyntax", "each operation must be an object"));
        };
        let op = get_ci(operation, "op").and_then(Value::as_str).map(str::to_ascii_lowercase).unwrap_or_default();
        if !["add", "replace", "remove"].contains(&op.as_str()) {
            return Err(ScimError::bad_request("invalidSyntax", "'op' must be add, replace or remove"));
        }
        let value = get_ci(operation, "value").cloned();
        match (get_ci(operation, "path"), value) {
            (Some(Value::String(path)), value) => apply(&mut group, &op, path, value, rules, exists)?,
            (None | Some(Value::Null), Some(Value::Object(values))) if op != "remove" => {
                for (key, value) in values {
                    apply(&mut group, &op, &key, Some(value), rules, exists)?;
                }
            }
            (None | Some(Value::Null), _) if op == "remove" => {
                return Err(ScimError::bad_request("noTarget", "Remove operation requires a path"));
            }
            (None | Some(Value::Null), _) => {
                return Err(ScimError::bad_request(
                    "invalidValue",
                    "an operation without a path needs an object value",
                ));
            }
            (Some(_), _) => return Err(ScimError::bad_request("invalidPath", "'path' must be a string")),
        }
    }
    display_name(&group)?;
    Ok(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn anyone(_: &str) -> bool {
        true
    }

    #[test]
    fn members_are_added_once_and_removed_by_value_filter() {
        let stored =
            normalise_group(json!({"displayName": "Sales", "members": [{"value": "u1"}, {"value": "u1"}]}), &anyone)
                .unwrap();
        assert_eq!(Value::Object(stored.clone()), json!({"displayName": "Sales", "members": [{"value": "u1"}]}));
        let add =
            json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}]});
        let added = patch_group(&stored, &add, Rules::STANDARD, &anyone).unwrap();
        assert_eq!(added["members"], json!([{"value": "u1"}, {"value": "u2"}]));
        let remove = json!({"Operations": [{"op": "remove", "path": "members[value eq \"u1\"]"}]});
        let removed = patch_group(&added, &remove, Rules::STANDARD, &anyone).unwrap();
        assert_eq!(removed["members"], json!([{"value": "u2"}]));
        let again = patch_group(&removed, &remove, Rules::STANDARD, &anyone).unwrap_err();
        assert_eq!(again.scim_type, Some("noTarget"));
        let unknown = patch_group(&stored, &add, Rules::STANDARD, &|id| id == "u1").unwrap_err();
        assert_eq!((unknown.scim_type, unknown.detail.as_str()), (Some("invalidValue"), "member 'u2' does not exist"));
    }

    #[test]
    fn bodies_and_paths_are_checked() {
        let err = |body: Value| normalise_group(body, &anyone).unwrap_err().scim_type;
        assert_eq!(err(json!({"displayName": " "})), Some("invalidValue"));
        assert_eq!(err(json!({"displayName": "x", "bogus": 1})), Some("invalidSyntax"));
        assert_eq!(err(json!({"displayName": "x", "members": [{"display": "no value"}]})), Some("invalidValue"));
        let stored = normalise_group(json!({"displayName": "x", "externalId": "e"}), &anyone).unwrap();
        let patch = |body: Value| patch_group(&stored, &body, Rules::STANDARD, &anyone);
        let renamed = patch(json!({"Operations": [{"op": "Replace", "value": {"displayName": "y"}}]})).unwrap();
        assert_eq!(renamed["displayName"], json!("y"));
        let urn = patch(
            json!({"Operations": [{"op": "replace", "path": format!("{GROUP_SCHEMA}:displayName"), "value": "z"}]}),
        );
        assert_eq!(urn.unwrap()["displayName"], json!("z"));
        assert!(patch(json!({"Operations": [{"op": "remove", "path": "displayName"}]})).is_err());
        assert!(patch(json!({"Operations": [{"op": "add", "path": "members[value eq \"a\"]", "value": 1}]})).is_err());
        assert!(patch(json!({"Operations": []})).is_err());
        let gone = patch(json!({"Operations": [{"op": "remove", "path": "externalId"}]})).unwrap();
        assert!(!gone.contains_key("externalId"));
    }
}
