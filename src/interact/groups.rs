//! Interact's groups: SCIM groups (see [`scim::groups`](crate::scim::groups)) plus Interact's
//! group extension, [`INTERACT_GROUP_SCHEMA`], whose attributes [`InteractGroupAttributes`] holds.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::InteractBearer;
use crate::error::{Error, FieldError, Result};
use crate::group::NewGroup;
use crate::scim::groups::scim_group_connector;

/// The URN of Interact's group extension.
pub const INTERACT_GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:Group";

/// The longest attribute name [`InteractGroupAttributes`] accepts.
const MAX_NAME_CHARS: usize = 64;

/// One attribute value of Interact's group extension, by its JSON type. Reading keeps every
/// value: one of a type this crate does not name is [`Other`](Self::Other), sent back as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum InteractGroupValue {
    /// A boolean (SCIM `boolean`).
    Flag(bool),
    /// A number (SCIM `integer` or `decimal`), as the server wrote it.
    Number(Number),
    /// A string (SCIM `string`, `dateTime`, `reference`).
    Text(String),
    /// Anything else (a complex or multi-valued attribute, `null`), kept verbatim.
    Other(Value),
}

/// Attributes of Interact's group extension ([`INTERACT_GROUP_SCHEMA`]): sent under its URN
/// when a group is created, and read back from a group resource with
/// [`from_group`](Self::from_group).
///
/// The reference material this crate follows (`scim-and-interact.md` §3.2: Interact's
/// developer pages on SCIM) documents the extension's URN and that Interact serves it, but none
/// of its attributes: an instance lists them at `GET /Schemas`. So the attributes are held by
/// name, each with a typed value ([`InteractGroupValue`]); names are checked before anything is
/// sent; every attribute read from the server is kept, whatever its type, so a value read and
/// sent back is unchanged. Serialises to (and deserialises from) the extension object itself.
///
/// ```
/// use identity_connectors::NewGroup;
/// use identity_connectors::interact::{INTERACT_GROUP_SCHEMA, InteractGroupAttributes};
///
/// let extension = InteractGroupAttributes::new().text("description", "Everyone in Sales")?;
/// assert_eq!(extension.get_text("description"), Some("Everyone in Sales"));
/// let sales = extension.apply_to(NewGroup::new("Sales")?)?;
/// assert_eq!(sales.extensions().next().map(|(urn, _)| urn), Some(INTERACT_GROUP_SCHEMA));
/// assert!(InteractGroupAttributes::new().flag("bad name", true).is_err());
/// # Ok::<(), identity_connectors::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InteractGroupAttributes {
    /// Every attribute by name, in name order.
    attributes: BTreeMap<String, InteractGroupValue>,
}

impl InteractGroupAttributes {
    /// No attributes.
    pub fn new() -> Self {
        InteractGroupAttributes::default()
    }

    /// The extension object of a SCIM group resource as the server sent it (its URN matched
    /// without case, as SCIM compares URNs), or `None` when the group has none.
    pub fn from_group(group: &Value) -> Option<Self> {
        let (_, object) = group.as_object()?.iter().find(|(key, _)| key.eq_ignore_ascii_case(INTERACT_GROUP_SCHEMA))?;
        InteractGroupAttributes::deserialize(object).ok()
    }

    /// Sets the text attribute `name`. Fails (nothing sent) for a name that is not a SCIM
    /// attribute name (a letter, then letters, digits, `-` or `_`; at most 64 characters).
    pub fn text(self, name: &str, value: impl Into<String>) -> Result<Self> {
        self.set(name, InteractGroupValue::Text(value.into()))
    }

    /// Sets the boolean attribute `name`; the name is checked as by [`text`](Self::text).
    pub fn flag(self, name: &str, value: bool) -> Result<Self> {
        self.set(name, InteractGroupValue::Flag(value))
    }

    /// Sets the integer attribute `name`; the name is checked as by [`text`](Self::text).
    pub fn integer(self, name: &str, value: i64) -> Result<Self> {
        self.set(name, InteractGroupValue::Number(value.into()))
    }

    fn set(mut self, name: &str, value: InteractGroupValue) -> Result<Self> {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().count() <= MAX_NAME_CHARS
            && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !valid {
            return Err(Error::invalid_input(
                "an Interact group attribute name must be a SCIM attribute name",
                vec![FieldError::new(
                    "attribute",
                    "must start with a letter and hold only letters, digits, - and _ (at most 64)",
                )],
            ));
        }
        self.attributes.insert(name.to_string(), value);
        Ok(self)
    }

    /// The attribute `name`, if set, with its type.
    pub fn get(&self, name: &str) -> Option<&InteractGroupValue> {
        self.attributes.get(name)
    }

    /// The text attribute `name`, if set (as text).
    pub fn get_text(&self, name: &str) -> Option<&str> {
        match self.attributes.get(name) {
            Some(InteractGroupValue::Text(text)) => Some(text),
            _ => None,
        }
    }

    /// The boolean attribute `name`, if set (as a flag).
    pub fn get_flag(&self, name: &str) -> Option<bool> {
        match self.attributes.get(name) {
            Some(InteractGroupValue::Flag(flag)) => Some(*flag),
            _ => None,
        }
    }

    /// The integer attribute `name`, if set as a whole number.
    pub fn get_integer(&self, name: &str) -> Option<i64> {
        match self.attributes.get(name) {
            Some(InteractGroupValue::Number(number)) => number.as_i64(),
            _ => None,
        }
    }

    /// Every attribute, in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &InteractGroupValue)> {
        self.attributes.iter().map(|(name, value)| (name.as_str(), value))
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }

    /// The extension object, as sent.
    pub fn to_object(&self) -> Map<String, Value> {
        self.attributes
            .iter()
            .map(|(name, value)| {
                let value = match value {
                    InteractGroupValue::Flag(flag) => Value::Bool(*flag),
                    InteractGroupValue::Number(number) => Value::Number(number.clone()),
                    InteractGroupValue::Text(text) => Value::String(text.clone()),
                    InteractGroupValue::Other(other) => other.clone(),
                };
                (name.clone(), value)
            })
            .collect()
    }

    /// `group` with these attributes as its Interact extension object (replacing any set before).
    pub fn apply_to(self, group: NewGroup) -> Result<NewGroup> {
        group.with_extension(INTERACT_GROUP_SCHEMA, self.to_object())
    }
}

scim_group_connector!(InteractBearer);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_keep_their_type_and_unknown_ones_round_trip() {
        let read = json!({"description": "Sales", "hidden": false, "order": 3, "ratio": 0.5,
                          "owners": [{"value": "u1"}], "note": null});
        let attributes: InteractGroupAttributes = serde_json::from_value(read.clone()).unwrap();
        assert_eq!(attributes.get_text("description"), Some("Sales"));
        assert_eq!(attributes.get_flag("hidden"), Some(false));
        assert_eq!(attributes.get_integer("order"), Some(3));
        assert_eq!(attributes.get("ratio"), Some(&InteractGroupValue::Number(Number::from_f64(0.5).unwrap())));
        assert_eq!(attributes.get("owners"), Some(&InteractGroupValue::Other(json!([{"value": "u1"}]))));
        assert_eq!(attributes.get("note"), Some(&InteractGroupValue::Other(Value::Null)));
        assert_eq!(attributes.get_text("hidden"), None, "a flag is not text");
        assert_eq!(serde_json::to_value(&attributes).unwrap(), read, "serialised as read");
        assert_eq!(Value::Object(attributes.to_object()), read, "sent as read");
    }

    #[test]
    fn a_group_resource_yields_its_extension_under_any_urn_case() {
        let group = json!({"id": "g1", "displayName": "Sales",
                           (INTERACT_GROUP_SCHEMA.to_uppercase()): {"description": "x"}});
        let attributes = InteractGroupAttributes::from_group(&group).unwrap();
        assert_eq!(attributes.iter().collect::<Vec<_>>(), [("description", &InteractGroupValue::Text("x".into()))]);
        assert_eq!(InteractGroupAttributes::from_group(&json!({"id": "g1"})), None);
        assert_eq!(InteractGroupAttributes::from_group(&json!({INTERACT_GROUP_SCHEMA: "not an object"})), None);
    }
}
