//! Interact's groups: SCIM groups (see [`scim::groups`](crate::scim::groups)) plus Interact's
//! group extension, [`INTERACT_GROUP_SCHEMA`], whose attributes [`InteractGroupAttributes`] holds.

use serde_json::{Map, Value};

use super::InteractBearer;
use crate::error::{Error, FieldError, Result};
use crate::group::NewGroup;
use crate::scim::groups::scim_group_connector;

/// The URN of Interact's group extension.
pub const INTERACT_GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:Group";

/// The longest attribute name [`InteractGroupAttributes`] accepts.
const MAX_NAME_CHARS: usize = 64;

/// Attributes of Interact's group extension ([`INTERACT_GROUP_SCHEMA`]), sent under its URN when a
/// group is created.
///
/// Interact documents the extension's URN but, in the public pages this crate was written from,
/// not its attributes; an instance lists them at `GET /Schemas`. So each attribute is set by its
/// name with a typed value (text or flag), and the name is checked before anything is sent.
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
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InteractGroupAttributes {
    attributes: Map<String, Value>,
}

impl InteractGroupAttributes {
    /// No attributes.
    pub fn new() -> Self {
        InteractGroupAttributes::default()
    }

    /// Sets the text attribute `name`. Fails (nothing sent) for a name that is not a SCIM
    /// attribute name (a letter, then letters, digits, `-` or `_`; at most 64 characters).
    pub fn text(self, name: &str, value: impl Into<String>) -> Result<Self> {
        self.set(name, Value::String(value.into()))
    }

    /// Sets the boolean attribute `name`; the name is checked as by [`text`](Self::text).
    pub fn flag(self, name: &str, value: bool) -> Result<Self> {
        self.set(name, Value::Bool(value))
    }

    fn set(mut self, name: &str, value: Value) -> Result<Self> {
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

    /// The text attribute `name`, if set (as text).
    pub fn get_text(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).and_then(Value::as_str)
    }

    /// The boolean attribute `name`, if set (as a flag).
    pub fn get_flag(&self, name: &str) -> Option<bool> {
        self.attributes.get(name).and_then(Value::as_bool)
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.attributes.is_empty()
    }

    /// `group` with these attributes as its Interact extension object (replacing any set before).
    pub fn apply_to(self, group: NewGroup) -> Result<NewGroup> {
        group.with_extension(INTERACT_GROUP_SCHEMA, self.attributes)
    }
}

scim_group_connector!(InteractBearer);
