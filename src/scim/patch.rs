//! SCIM `PATCH` requests (RFC 7644 §3.5.2): a [`PatchOp`] of `add`/`remove`/`replace` operations,
//! built by hand or from a partial [`User`] with [`PatchOp::from_changes`].

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Map, Value};

use crate::scim::codec::typed_extensions;
use crate::scim::filter::json_string;
use crate::user::{ENTERPRISE_USER_SCHEMA, MultiValue, User};

/// The URN of a SCIM `PATCH` request body.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// What one operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum PatchKind {
    /// `add`: add values (to a multi-valued attribute) or set an attribute.
    Add,
    /// `remove`: remove an attribute or matching values. Needs a path.
    Remove,
    /// `replace`: replace an attribute's value (or matching values of a multi-valued one).
    Replace,
}

/// One operation of a [`PatchOp`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct PatchOperation {
    /// What it does. Serialised in the RFC's lowercase spelling.
    pub op: PatchKind,
    /// The attribute path it targets: `active`, `name.givenName`, `emails[type eq "work"].value`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department`, ….
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The value, absent for `remove`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
}

/// A SCIM `PATCH` request body: `{"schemas":[PatchOp URN],"Operations":[…]}`.
///
/// ```
/// use identity_connectors::scim::PatchOp;
/// use serde_json::json;
///
/// let patch = PatchOp::new().replace("active", false);
/// assert_eq!(
///     serde_json::to_value(&patch).unwrap(),
///     json!({
///         "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
///         "Operations": [{"op": "replace", "path": "active", "value": false}]
///     })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PatchOp {
    operations: Vec<PatchOperation>,
}

impl PatchOp {
    /// A request with no operations yet. (A server rejects an empty one: send it only once it has
    /// at least one.)
    pub fn new() -> Self {
        PatchOp::default()
    }

    /// Adds a `replace` of `path` with `value`.
    #[must_use]
    pub fn replace(self, path: impl Into<String>, value: impl Into<Value>) -> Self {
        self.push(PatchKind::Replace, Some(path.into()), Some(value.into()))
    }

    /// Adds an `add` of `value` at `path`.
    #[must_use]
    pub fn add(self, path: impl Into<String>, value: impl Into<Value>) -> Self {
        self.push(PatchKind::Add, Some(path.into()), Some(value.into()))
    }

    /// Adds a `remove` of `path`.
    #[must_use]
    pub fn remove(self, path: impl Into<String>) -> Self {
        self.push(PatchKind::Remove, Some(path.into()), None)
    }

    fn push(mut self, op: PatchKind, path: Option<String>, value: Option<Value>) -> Self {
        self.operations.push(PatchOperation { op, path, value });
        self
    }

    /// The operations, in order.
    pub fn operations(&self) -> &[PatchOperation] {
        &self.operations
    }

    /// Whether there is no operation.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }

    /// A request made of `operations`.
    pub(crate) fn from_operations(operations: Vec<PatchOperation>) -> PatchOp {
        PatchOp { operations }
    }

    /// The operations, taken out.
    pub(crate) fn into_operations(self) -> Vec<PatchOperation> {
        self.operations
    }

    /// The operations that set every attribute `changes` sets (a partial user, as made by
    /// [`User::changes_from`]), one `replace` with a path per attribute:
    ///
    /// - singular attributes by name (`title`, `active`, `externalId`, …) and name parts as
    ///   `name.givenName`, `name.familyName`, …;
    /// - enterprise attributes by their URN-prefixed path (`urn:…:enterprise:2.0:User:department`),
    ///   the manager as `…:manager` with `{"value": id}`; typed extensions with a schema URN
    ///   ([`UserExtension`](crate::UserExtension)) by the paths their
    ///   [`scim_patch_attributes`](crate::UserExtension::scim_patch_attributes) give, such as
    ///   `urn:…:interactsoftware:2.0:User:name.title`;
    /// - e-mail addresses and phone numbers that all have distinct types, value by value, as
    ///   `emails[type eq "work"].value`. When `current` (the user as it is) is given, values that
    ///   did not change are skipped and a type the user does not have yet is an `add` to `emails`
    ///   instead (a value filter that matches nothing is an error, `noTarget`). Untyped values or
    ///   repeated types replace the whole attribute. Values `changes` does not list are kept;
    /// - attributes in [`User::extra`] by name, and URN-keyed extension objects attribute by
    ///   attribute (`urn:…:User:attr`).
    ///
    /// Extensions without a schema URN (such as Freshservice's settings) are not SCIM attributes
    /// and are left out. An empty result means
    /// there is nothing to send.
    ///
    /// ```
    /// use identity_connectors::User;
    /// use identity_connectors::scim::PatchOp;
    /// use serde_json::json;
    ///
    /// let mut changes = User::default();
    /// changes.title = Some("Lead".into());
    /// let patch = PatchOp::from_changes(&changes, None);
    /// assert_eq!(serde_json::to_value(&patch).unwrap()["Operations"], json!([
    ///     {"op": "replace", "path": "title", "value": "Lead"}
    /// ]));
    /// ```
    pub fn from_changes(changes: &User, current: Option<&User>) -> PatchOp {
        let mut patch = PatchOp::new();
        let singular = [
            ("userName", &changes.user_name),
            ("externalId", &changes.external_id),
            ("displayName", &changes.display_name),
            ("nickName", &changes.nick_name),
            ("title", &changes.title),
            ("userType", &changes.user_type),
            ("preferredLanguage", &changes.preferred_language),
            ("locale", &changes.locale),
            ("timezone", &changes.timezone),
        ];
        for (path, value) in singular {
            if let Some(value) = value {
                patch = patch.replace(path, value.as_str());
            }
        }
        if let Some(active) = changes.active {
            patch = patch.replace("active", active);
        }
        if let Some(name) = &changes.name {
            let parts = [
                ("name.formatted", &name.formatted),
                ("name.familyName", &name.family_name),
                ("name.givenName", &name.given_name),
                ("name.middleName", &name.middle_name),
                ("name.honorificPrefix", &name.honorific_prefix),
                ("name.honorificSuffix", &name.honorific_suffix),
            ];
            for (path, value) in parts {
                if let Some(value) = value {
                    patch = patch.replace(path, value.as_str());
                }
            }
        }
        patch = patch.multi_valued("emails", &changes.emails, current.map(|c| c.emails.as_slice()));
        patch = patch.multi_valued("phoneNumbers", &changes.phone_numbers, current.map(|c| c.phone_numbers.as_slice()));
        if let Some(enterprise) = &changes.enterprise {
            let parts = [
                ("employeeNumber", &enterprise.employee_number),
                ("costCenter", &enterprise.cost_center),
                ("organization", &enterprise.organization),
                ("division", &enterprise.division),
                ("department", &enterprise.department),
            ];
            for (attribute, value) in parts {
                if let Some(value) = value {
                    patch = patch.replace(format!("{ENTERPRISE_USER_SCHEMA}:{attribute}"), value.as_str());
                }
            }
            if let Some(manager) = &enterprise.manager {
                // `displayName` is read-only in SCIM: only the reference is sent.
                let mut value = Map::new();
                if let Some(id) = &manager.value {
                    value.insert("value".into(), Value::String(id.clone()));
                }
                if let Some(reference) = &manager.reference {
                    value.insert("$ref".into(), Value::String(reference.clone()));
                }
                if !value.is_empty() {
                    patch = patch.replace(format!("{ENTERPRISE_USER_SCHEMA}:manager"), Value::Object(value));
                }
            }
        }
        for (urn, extension) in typed_extensions(changes) {
            for (attribute, value) in extension.scim_patch_attributes() {
                patch = patch.replace(format!("{urn}:{attribute}"), value);
            }
        }
        for (key, value) in &changes.extra {
            match value {
                Value::Object(attributes) if key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) => {
                    for (attribute, value) in attributes {
                        patch = patch.replace(format!("{key}:{attribute}"), value.clone());
                    }
                }
                _ => patch = patch.replace(key.as_str(), value.clone()),
            }
        }
        patch
    }

    fn multi_valued(mut self, attribute: &str, desired: &[MultiValue], current: Option<&[MultiValue]>) -> Self {
        if desired.is_empty() {
            return self;
        }
        let same_kind = |a: &MultiValue, kind: &str| a.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(kind));
        let kinds: Vec<&str> = desired.iter().filter_map(|v| v.kind.as_deref()).collect();
        let distinct_kinds = kinds.len() == desired.len()
            && kinds.iter().enumerate().all(|(i, k)| !kinds[..i].iter().any(|o| o.eq_ignore_ascii_case(k)));
        if !distinct_kinds {
            let values = serde_json::to_value(desired).unwrap_or(Value::Null);
            return self.replace(attribute, values);
        }
        for value in desired {
            let kind = value.kind.as_deref().unwrap_or_default();
            let existing = current.map(|values| values.iter().find(|c| same_kind(c, kind)));
            match existing {
                Some(Some(existing)) if existing.value == value.value => {}
                Some(None) => {
                    let values = serde_json::to_value(std::slice::from_ref(value)).unwrap_or(Value::Null);
                    self = self.add(attribute, values);
                }
                Some(Some(_)) | None => {
                    let path = format!("{attribute}[type eq {}].value", json_string(kind));
                    self = self.replace(path, value.value.as_str());
                }
            }
        }
        self
    }
}

impl Serialize for PatchOp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("schemas", &[PATCH_OP_SCHEMA])?;
        map.serialize_entry("Operations", &self.operations)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::freshservice::FreshserviceAttributes;
    use crate::interact::{INTERACT_USER_SCHEMA, InteractAttributes, InteractName, LoginType};
    use crate::user::{EnterpriseAttributes, Manager, Name};
    use serde_json::json;

    fn ops(patch: &PatchOp) -> Value {
        serde_json::to_value(patch).unwrap()["Operations"].clone()
    }

    #[test]
    fn every_kind_of_attribute_gets_its_path() {
        let mut changes = User {
            user_name: Some("new@example.com".into()),
            external_id: Some("E2".into()),
            title: Some("Lead".into()),
            timezone: Some("GMT Standard Time".into()),
            active: Some(false),
            name: Some(Name { given_name: Some("Janet".into()), family_name: Some("Roe".into()), ..Name::default() }),
            enterprise: Some(EnterpriseAttributes {
                department: Some("R&D".into()),
                organization: Some("Acme".into()),
                manager: Some(Manager { display_name: Some("Boss".into()), ..Manager::new("m-1") }),
                ..EnterpriseAttributes::default()
            }),
            extra: [
                ("urn:example:ext:1.0:User".to_string(), json!({"badge": 7})),
                ("profileUrl".to_string(), json!("https://p")),
            ]
            .into_iter()
            .collect(),
            ..User::default()
        };
        changes.set_extension(InteractAttributes {
            location: Some("Paris".into()),
            force_password_reset: Some(true),
            name: Some(InteractName { title: Some("Ms".into()), initials: None }),
            ..InteractAttributes::new(LoginType::WindowsLogin)
        });
        let e = ENTERPRISE_USER_SCHEMA;
        let i = INTERACT_USER_SCHEMA;
        assert_eq!(
            ops(&PatchOp::from_changes(&changes, None)),
            json!([
                {"op": "replace", "path": "userName", "value": "new@example.com"},
                {"op": "replace", "path": "externalId", "value": "E2"},
                {"op": "replace", "path": "title", "value": "Lead"},
                {"op": "replace", "path": "timezone", "value": "GMT Standard Time"},
                {"op": "replace", "path": "active", "value": false},
                {"op": "replace", "path": "name.familyName", "value": "Roe"},
                {"op": "replace", "path": "name.givenName", "value": "Janet"},
                {"op": "replace", "path": format!("{e}:organization"), "value": "Acme"},
                {"op": "replace", "path": format!("{e}:department"), "value": "R&D"},
                {"op": "replace", "path": format!("{e}:manager"), "value": {"value": "m-1"}},
                {"op": "replace", "path": format!("{i}:loginType"), "value": "Windows Login"},
                {"op": "replace", "path": format!("{i}:location"), "value": "Paris"},
                {"op": "replace", "path": format!("{i}:forcePasswordReset"), "value": true},
                {"op": "replace", "path": format!("{i}:name.title"), "value": "Ms"},
                {"op": "replace", "path": "profileUrl", "value": "https://p"},
                {"op": "replace", "path": "urn:example:ext:1.0:User:badge", "value": 7},
            ])
        );
    }

    #[test]
    fn typed_emails_use_value_paths_and_skip_unchanged() {
        let changes = User {
            emails: vec![MultiValue::new("new@work.io", "work").primary(), MultiValue::new("me@home.io", "home")],
            phone_numbers: vec![MultiValue::new("+44 1", "mobile")],
            ..User::default()
        };
        assert_eq!(
            ops(&PatchOp::from_changes(&changes, None)),
            json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@work.io"},
                {"op": "replace", "path": "emails[type eq \"home\"].value", "value": "me@home.io"},
                {"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+44 1"},
            ])
        );
        let current = User {
            emails: vec![MultiValue::new("old@work.io", "Work"), MultiValue::new("me@home.io", "home")],
            ..User::default()
        };
        assert_eq!(
            ops(&PatchOp::from_changes(&changes, Some(&current))),
            json!([
                {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@work.io"},
                {"op": "add", "path": "phoneNumbers", "value": [{"value": "+44 1", "type": "mobile"}]},
            ])
        );
    }

    #[test]
    fn untyped_or_repeated_types_replace_the_whole_attribute() {
        let quoted = User { emails: vec![MultiValue::new("x@y.io", "a\"b")], ..User::default() };
        assert_eq!(
            ops(&PatchOp::from_changes(&quoted, None)),
            json!([{"op": "replace", "path": "emails[type eq \"a\\\"b\"].value", "value": "x@y.io"}])
        );
        let repeated = User {
            emails: vec![MultiValue::new("a@w.io", "work"), MultiValue::new("b@w.io", "WORK")],
            ..User::default()
        };
        assert_eq!(
            ops(&PatchOp::from_changes(&repeated, None)),
            json!([{"op": "replace", "path": "emails", "value": [
                {"value": "a@w.io", "type": "work"}, {"value": "b@w.io", "type": "WORK"}
            ]}])
        );
        let untyped =
            User { emails: vec![MultiValue { value: "c@w.io".into(), ..MultiValue::default() }], ..User::default() };
        assert_eq!(
            ops(&PatchOp::from_changes(&untyped, None)),
            json!([{"op": "replace", "path": "emails", "value": [{"value": "c@w.io"}]}])
        );
    }

    #[test]
    fn empty_changes_give_no_operation() {
        assert!(PatchOp::from_changes(&User::default(), None).is_empty());
        let mut freshservice_only = User::default();
        freshservice_only.set_extension(FreshserviceAttributes::agent(Vec::new()).location("Berlin"));
        assert!(PatchOp::from_changes(&freshservice_only, None).is_empty());
    }

    #[test]
    fn manual_operations_serialise_in_rfc_form() {
        let patch = PatchOp::new().add("emails", json!([{"value": "a@b.c"}])).remove("title");
        assert_eq!(
            serde_json::to_value(&patch).unwrap(),
            json!({
                "schemas": [PATCH_OP_SCHEMA],
                "Operations": [
                    {"op": "add", "path": "emails", "value": [{"value": "a@b.c"}]},
                    {"op": "remove", "path": "title"}
                ]
            })
        );
        assert_eq!(patch.operations().len(), 2);
    }
}
