//! Typed attributes a connector attaches to a [`User`](crate::User), without the shared model
//! knowing them.
//!
//! An app whose users have attributes beyond the SCIM core and enterprise schemas defines a type
//! for them in its own module and implements [`UserExtension`] for it: how to compare it with the
//! app's current value, how to apply a change, and (for a SCIM extension) its schema URN and JSON.
//! [`User`](crate::User) carries at most one value of each such type
//! ([`User::extension`](crate::User::extension), [`User::set_extension`](crate::User::set_extension),
//! [`UserBuilder::extension`](crate::UserBuilder::extension)); `changes_from`, `apply`, equality
//! and the SCIM JSON go through the trait. Interact's [`InteractAttributes`](crate::InteractAttributes)
//! and Freshservice's [`FreshserviceAttributes`](crate::FreshserviceAttributes) are extensions
//! like any a connector outside the crate defines.

use std::any::{Any, TypeId};
use std::fmt;

use serde_json::Value;

/// Typed attributes of a user that belong to one app (or one SCIM schema extension).
///
/// A value is also a *partial* set of attributes: [`changes_from`](Self::changes_from) returns
/// only those that differ, and [`apply`](Self::apply) copies the ones a change sets.
///
/// ```
/// use identity_connectors::{User, UserExtension};
/// use serde_json::{Value, json};
///
/// /// A badge number, sent under its own SCIM extension URN.
/// #[derive(Debug, Clone, PartialEq)]
/// struct Badge(Option<u32>);
///
/// impl UserExtension for Badge {
///     const SCHEMA_URN: Option<&'static str> = Some("urn:example:params:scim:schemas:extension:badge:1.0:User");
///     fn to_json(&self) -> Value {
///         self.0.map_or_else(|| json!({}), |n| json!({"badge": n}))
///     }
///     fn is_empty(&self) -> bool {
///         self.0.is_none()
///     }
///     fn changes_from(&self, current: Option<&Self>) -> Option<Self> {
///         (self.0.is_some() && Some(self) != current).then(|| self.clone())
///     }
///     fn apply(&mut self, changes: &Self) {
///         if changes.0.is_some() {
///             self.0 = changes.0;
///         }
///     }
/// }
///
/// let user = User::builder("jdoe").extension(Badge(Some(7))).build();
/// assert_eq!(user.extension::<Badge>(), Some(&Badge(Some(7))));
/// let json = serde_json::to_value(&user).unwrap();
/// assert_eq!(json["urn:example:params:scim:schemas:extension:badge:1.0:User"], json!({"badge": 7}));
/// ```
pub trait UserExtension: Any + Send + Sync + fmt::Debug + Clone + PartialEq {
    /// The SCIM schema URN the attributes are written under (and listed in `schemas` with), or
    /// `None` for attributes that are not part of the SCIM JSON (such as Freshservice's settings).
    const SCHEMA_URN: Option<&'static str> = None;

    /// The attributes as the JSON object written under [`SCHEMA_URN`](Self::SCHEMA_URN): unset
    /// attributes left out.
    fn to_json(&self) -> Value;

    /// The attributes a SCIM `PATCH` replaces for this (partial) value, as paths relative to the
    /// schema URN (`location`, `name.title`) with their values, in the order to send them. By
    /// default each top-level member of [`to_json`](Self::to_json), replaced whole.
    fn scim_patch_attributes(&self) -> Vec<(String, Value)> {
        match self.to_json() {
            Value::Object(members) => members.into_iter().filter(|(_, v)| !v.is_null()).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether no attribute is set. An empty value is left out of the SCIM JSON.
    fn is_empty(&self) -> bool;

    /// The attributes of `self` that differ from `current` (what an update must send), or `None`
    /// when nothing differs. Attributes `self` leaves unset are left alone.
    fn changes_from(&self, current: Option<&Self>) -> Option<Self>;

    /// Applies a partial value (as made by [`changes_from`](Self::changes_from)): every attribute
    /// `changes` sets replaces the one in `self`.
    fn apply(&mut self, changes: &Self);
}

/// The object-safe face of a [`UserExtension`], so values of different types share one map.
pub(crate) trait ErasedExtension: Any + Send + Sync + fmt::Debug {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    fn schema_urn(&self) -> Option<&'static str>;
    fn to_json(&self) -> Value;
    fn scim_patch_attributes(&self) -> Vec<(String, Value)>;
    fn is_empty(&self) -> bool;
    fn changes_from(&self, current: Option<&dyn ErasedExtension>) -> Option<Box<dyn ErasedExtension>>;
    fn apply(&mut self, changes: &dyn ErasedExtension);
    fn clone_box(&self) -> Box<dyn ErasedExtension>;
    /// The type's name without its module path (`InteractAttributes`), for naming its attributes.
    fn type_name(&self) -> &'static str;
    fn eq_dyn(&self, other: &dyn ErasedExtension) -> bool;
}

impl<T: UserExtension> ErasedExtension for T {
    fn as_any(&self) -> &dyn Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    fn schema_urn(&self) -> Option<&'static str> {
        T::SCHEMA_URN
    }

    fn to_json(&self) -> Value {
        UserExtension::to_json(self)
    }

    fn scim_patch_attributes(&self) -> Vec<(String, Value)> {
        UserExtension::scim_patch_attributes(self)
    }

    fn is_empty(&self) -> bool {
        UserExtension::is_empty(self)
    }

    fn changes_from(&self, current: Option<&dyn ErasedExtension>) -> Option<Box<dyn ErasedExtension>> {
        let current = current.and_then(|c| c.as_any().downcast_ref::<T>());
        UserExtension::changes_from(self, current).map(|c| Box::new(c) as Box<dyn ErasedExtension>)
    }

    fn apply(&mut self, changes: &dyn ErasedExtension) {
        if let Some(changes) = changes.as_any().downcast_ref::<T>() {
            UserExtension::apply(self, changes);
        }
    }

    fn clone_box(&self) -> Box<dyn ErasedExtension> {
        Box::new(self.clone())
    }

    fn type_name(&self) -> &'static str {
        let full = std::any::type_name::<T>();
        full.rsplit("::").next().unwrap_or(full)
    }

    fn eq_dyn(&self, other: &dyn ErasedExtension) -> bool {
        other.as_any().downcast_ref::<T>() == Some(self)
    }
}

/// At most one value per extension type, in insertion order.
///
/// A short list rather than a hash map: a user carries a handful of extensions at most.
#[derive(Default)]
pub(crate) struct Extensions {
    entries: Vec<Box<dyn ErasedExtension>>,
}

impl Extensions {
    /// Whether no extension is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, type_id: TypeId) -> Option<usize> {
        self.entries.iter().position(|e| e.as_any().type_id() == type_id)
    }

    pub(crate) fn get<T: UserExtension>(&self) -> Option<&T> {
        self.entries.iter().find_map(|e| e.as_any().downcast_ref::<T>())
    }

    pub(crate) fn get_mut<T: UserExtension>(&mut self) -> Option<&mut T> {
        self.entries.iter_mut().find_map(|e| e.as_any_mut().downcast_mut::<T>())
    }

    pub(crate) fn get_dyn(&self, type_id: TypeId) -> Option<&dyn ErasedExtension> {
        self.position(type_id).map(|i| &*self.entries[i])
    }

    /// Inserts `value`, returning the value of its type it replaces.
    pub(crate) fn insert_box(&mut self, value: Box<dyn ErasedExtension>) -> Option<Box<dyn ErasedExtension>> {
        match self.position(value.as_any().type_id()) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i], value)),
            None => {
                self.entries.push(value);
                None
            }
        }
    }

    pub(crate) fn insert<T: UserExtension>(&mut self, value: T) -> Option<T> {
        self.insert_box(Box::new(value)).and_then(|old| old.into_any().downcast::<T>().ok()).map(|old| *old)
    }

    pub(crate) fn remove<T: UserExtension>(&mut self) -> Option<T> {
        let i = self.position(TypeId::of::<T>())?;
        self.entries.remove(i).into_any().downcast::<T>().ok().map(|v| *v)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn ErasedExtension> {
        self.entries.iter().map(|e| &**e)
    }

    /// Applies a partial value to the value of its type; a user without one gets the changes
    /// themselves, as there is nothing to merge them into.
    pub(crate) fn apply(&mut self, changes: &dyn ErasedExtension) {
        match self.position(changes.as_any().type_id()) {
            Some(i) => self.entries[i].apply(changes),
            None => self.entries.push(changes.clone_box()),
        }
    }
}

impl Clone for Extensions {
    fn clone(&self) -> Self {
        Extensions { entries: self.entries.iter().map(|e| e.clone_box()).collect() }
    }
}

/// Equal when both hold the same types with equal values, whatever the order they were set in.
impl PartialEq for Extensions {
    fn eq(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().all(|e| other.get_dyn(e.as_any().type_id()).is_some_and(|o| e.eq_dyn(o)))
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::freshservice::{AgentRole, FreshserviceAttributes, FreshserviceUserKind};
    use crate::interact::{InteractAttributes, InteractBuilderExt, InteractUserExt, LoginType};
    use crate::user::User;
    use serde_json::json;

    #[test]
    fn changes_from_diffs_each_extension_through_its_own_type() {
        let mut location = InteractAttributes::new(LoginType::Saml).location("London");
        let current = User::builder("u").interact(location.clone()).build();
        // Same attributes: no change at all.
        assert!(current.changes_from(&current).is_empty());
        // One attribute differs: only that one, in a value of the same type.
        location.location = Some("Paris".into());
        let desired = User::builder("u").interact(location).build();
        let changes = desired.changes_from(&current);
        assert_eq!(changes.interact(), Some(&InteractAttributes::default().location("Paris")));
        assert_eq!(changes.extensions().count(), 1);
        // The current user lacks the extension: all of it.
        let agent = FreshserviceAttributes::agent(vec![AgentRole::new(7, "entire_helpdesk")]);
        let mut desired = User::builder("u").build();
        desired.set_extension(agent.clone());
        assert_eq!(desired.changes_from(&current).extension::<FreshserviceAttributes>(), Some(&agent));
        // A desired user without an extension leaves the current one alone.
        assert!(User::builder("u").build().changes_from(&current).extension::<InteractAttributes>().is_none());
    }

    #[test]
    fn apply_merges_into_the_value_of_the_same_type_or_adds_it() {
        let mut user = User::builder("u").interact(InteractAttributes::new(LoginType::Saml).location("London")).build();
        let mut fs = FreshserviceAttributes::new(FreshserviceUserKind::Requester).custom_field("a", json!(1));
        fs.extra.insert("vip".into(), json!(true));
        user.set_extension(fs);

        let mut changes = User::default();
        changes.set_interact(InteractAttributes::default().location("Paris"));
        changes.set_extension(FreshserviceAttributes::default().custom_field("b", json!(2)));
        user.apply(&changes);

        assert_eq!(user.interact(), Some(&InteractAttributes::new(LoginType::Saml).location("Paris")));
        let fs = user.extension::<FreshserviceAttributes>().unwrap();
        assert_eq!(fs.kind, Some(FreshserviceUserKind::Requester));
        assert_eq!(fs.custom_fields, json!({"a": 1, "b": 2}).as_object().unwrap().clone());
        assert_eq!(fs.extra, json!({"vip": true}).as_object().unwrap().clone());

        let mut bare = User::builder("u").build();
        bare.apply(&changes);
        assert_eq!(bare.interact(), Some(&InteractAttributes::default().location("Paris")));
    }

    #[test]
    fn equality_and_clone_see_extensions_whatever_their_order() {
        let interact = InteractAttributes::new(LoginType::Saml);
        let fs = FreshserviceAttributes::new(FreshserviceUserKind::Agent);
        let mut a = User::builder("u").build();
        a.set_extension(interact.clone());
        a.set_extension(fs.clone());
        let mut b = User::builder("u").build();
        b.set_extension(fs.clone());
        b.set_extension(interact.clone());
        assert_eq!(a, b);
        let copy = a.clone();
        b.extension_mut::<InteractAttributes>().unwrap().location = Some("Paris".into());
        assert_ne!(a, b);
        assert_eq!(copy, a);
        assert!(format!("{a:?}").contains("InteractAttributes"));

        assert_eq!(a.set_extension(InteractAttributes::new(LoginType::LocalLogin)), Some(interact));
        assert_eq!(a.remove_extension::<FreshserviceAttributes>(), Some(fs));
        assert_eq!(a.remove_extension::<FreshserviceAttributes>(), None);
        assert_eq!(a.extensions().count(), 1);
        assert_ne!(a, User::builder("u").build());
    }
}
