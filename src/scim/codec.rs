//! The SCIM JSON of a [`User`] (RFC 7643 §4), and the lenient readers every connector parses with.
//!
//! `Serialize` for [`User`] writes exactly the SCIM JSON: core attributes, the enterprise
//! extension, every typed [`UserExtension`] with a schema URN (under that URN), and
//! [`User::extra`], with `schemas` derived from the parts present. `Deserialize` reads SCIM JSON
//! back, tolerating the quirks real servers have: attribute names in any case, booleans as
//! `"True"`/`"false"` strings, numbers where strings belong, `null`s, and unknown attributes (kept
//! in [`User::extra`]). It knows no app: an extension object is read into its typed
//! [`UserExtension`] only through [`ScimExtensions`], the set of extension types a connector
//! registers.
//!
//! ```
//! use identity_connectors::scim::codec::ScimExtensions;
//! use identity_connectors::{InteractAttributes, LoginType, User};
//! use identity_connectors::interact::{InteractBuilderExt, InteractUserExt};
//!
//! let user = User::builder("jdoe").interact(InteractAttributes::new(LoginType::Saml)).build();
//! let json = serde_json::to_value(&user).unwrap();
//! assert_eq!(json["urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User"]["loginType"], "SAML");
//!
//! // Without a registry the extension object stays raw, in `extra`.
//! let generic: User = serde_json::from_value(json.clone()).unwrap();
//! assert!(generic.interact().is_none());
//! // With one, it is read into its type.
//! let typed = ScimExtensions::new().with::<InteractAttributes>().decode_user(json).unwrap();
//! assert_eq!(typed, user);
//! ```

use std::fmt;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{DecodeError, Error, Result};
use crate::extension::{ErasedExtension, UserExtension};
use crate::scim::decode::{NOT_AN_OBJECT, ScimUser};
use crate::user::{CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, User};

impl User {
    /// The schema URNs this user's SCIM JSON carries: core, then enterprise when present, then
    /// the typed extensions that have a schema URN (in URN order), then the URN-keyed objects in
    /// [`User::extra`].
    pub fn schemas(&self) -> Vec<String> {
        let mut schemas = vec![CORE_USER_SCHEMA.to_string()];
        if self.enterprise.as_ref().is_some_and(|e| !e.is_empty()) {
            schemas.push(ENTERPRISE_USER_SCHEMA.to_string());
        }
        let typed = typed_extensions(self);
        schemas.extend(typed.iter().map(|(urn, _)| urn.to_string()));
        for (key, value) in &self.extra {
            if key.starts_with("urn:")
                && value.is_object()
                && !typed.iter().any(|(urn, _)| urn.eq_ignore_ascii_case(key))
            {
                schemas.push(key.clone());
            }
        }
        schemas
    }
}

/// The typed extensions written into the SCIM JSON (those with a schema URN and some attribute),
/// in URN order so the JSON does not depend on the order they were set in.
pub(crate) fn typed_extensions(user: &User) -> Vec<(&'static str, &dyn ErasedExtension)> {
    let mut typed: Vec<_> =
        user.extensions().filter(|e| !e.is_empty()).filter_map(|e| Some((e.schema_urn()?, e))).collect();
    typed.sort_by_key(|(urn, _)| *urn);
    typed
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("schemas", &self.schemas())?;
        macro_rules! opt {
            ($key:literal, $value:expr) => {
                if let Some(v) = &$value {
                    map.serialize_entry($key, v)?;
                }
            };
        }
        opt!("userName", self.user_name);
        opt!("externalId", self.external_id);
        if let Some(name) = self.name.as_ref().filter(|n| !n.is_empty()) {
            map.serialize_entry("name", name)?;
        }
        opt!("displayName", self.display_name);
        opt!("nickName", self.nick_name);
        opt!("title", self.title);
        opt!("userType", self.user_type);
        opt!("preferredLanguage", self.preferred_language);
        opt!("locale", self.locale);
        opt!("timezone", self.timezone);
        opt!("active", self.active);
        if !self.emails.is_empty() {
            map.serialize_entry("emails", &self.emails)?;
        }
        if !self.phone_numbers.is_empty() {
            map.serialize_entry("phoneNumbers", &self.phone_numbers)?;
        }
        if let Some(enterprise) = self.enterprise.as_ref().filter(|e| !e.is_empty()) {
            map.serialize_entry(ENTERPRISE_USER_SCHEMA, enterprise)?;
        }
        let typed = typed_extensions(self);
        for (urn, extension) in &typed {
            map.serialize_entry(urn, &extension.to_json())?;
        }
        for (key, value) in &self.extra {
            // A typed extension wins over a raw object under the same URN.
            if !typed.iter().any(|(urn, _)| urn.eq_ignore_ascii_case(key)) {
                map.serialize_entry(key, value)?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for User {
    /// Reads SCIM JSON leniently. Extension objects stay in [`User::extra`]; read them into their
    /// types with [`ScimExtensions::decode_user`] or [`ScimExtensions::lift`].
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        // Straight into the model, no `Value` in between (see `decode`).
        match ScimUser::deserialize(deserializer)? {
            ScimUser::Read { user, .. } => Ok(user),
            ScimUser::NotAnObject => Err(de::Error::custom(NOT_AN_OBJECT)),
        }
    }
}

/// A typed [`UserExtension`] that is read from SCIM JSON: the object under its
/// [`SCHEMA_URN`](UserExtension::SCHEMA_URN).
pub trait ScimExtension: UserExtension {
    /// Reads the extension object leniently (use [`field`], [`string`] and [`boolean`]); `None`
    /// when it is not an object or carries nothing.
    fn from_scim(value: &Value) -> Option<Self>;
}

/// Reads one extension object into `user`, replacing (or, when it carries nothing, removing) the
/// typed value.
type Decoder = fn(&Value, &mut User);

fn decode_into<T: ScimExtension>(value: &Value, user: &mut User) {
    match T::from_scim(value) {
        Some(extension) => {
            user.set_extension(extension);
        }
        None => {
            user.remove_extension::<T>();
        }
    }
}

/// The SCIM extension types a connector reads into their types: what the codec needs to turn an
/// extension object into a typed [`UserExtension`]. URNs match in any case, as servers spell
/// them differently.
///
/// A connector registers the extensions its app has
/// ([`InteractBearer`](crate::InteractBearer) registers
/// [`InteractAttributes`](crate::InteractAttributes)); objects under other URNs stay in
/// [`User::extra`].
#[derive(Clone, Default)]
pub struct ScimExtensions {
    decoders: Vec<(&'static str, Decoder)>,
}

impl ScimExtensions {
    /// No extension types: every extension object stays in [`User::extra`].
    pub fn new() -> Self {
        ScimExtensions::default()
    }

    /// Adds extension type `T`, read from the object under its schema URN.
    pub fn with<T: ScimExtension>(mut self) -> Self {
        const { assert!(T::SCHEMA_URN.is_some(), "a ScimExtension needs a SCHEMA_URN") };
        if let Some(urn) = T::SCHEMA_URN {
            self.decoders.retain(|(known, _)| !known.eq_ignore_ascii_case(urn));
            self.decoders.push((urn, decode_into::<T>));
        }
        self
    }

    /// Whether no extension type is registered.
    pub fn is_empty(&self) -> bool {
        self.decoders.is_empty()
    }

    /// Moves every object in `user.extra` under a registered URN into its typed extension. An
    /// object that carries nothing (or is not an object) is dropped, as the typed model has no
    /// place for it.
    pub fn lift(&self, user: &mut User) {
        if self.decoders.is_empty() {
            return;
        }
        let keys: Vec<String> = user
            .extra
            .keys()
            .filter(|key| self.decoders.iter().any(|(urn, _)| urn.eq_ignore_ascii_case(key)))
            .cloned()
            .collect();
        for key in keys {
            let Some(value) = user.extra.remove(&key) else { continue };
            if let Some((_, decode)) = self.decoders.iter().find(|(urn, _)| urn.eq_ignore_ascii_case(&key)) {
                decode(&value, user);
            }
        }
    }

    /// Reads a SCIM user object leniently, with the registered extensions typed. Anything but a
    /// JSON object is a decode error.
    pub fn decode_user(&self, value: Value) -> Result<User> {
        let (_, mut user) =
            user_from_value(value).map_err(|message| Error::from(DecodeError::new(None, message, &[])))?;
        self.lift(&mut user);
        Ok(user)
    }
}

impl fmt::Debug for ScimExtensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.decoders.iter().map(|(urn, _)| urn)).finish()
    }
}

/// Reads a SCIM user resource (with its server-assigned `id`) leniently. Extension objects stay
/// in [`User::extra`].
#[cfg(test)]
pub(crate) fn remote_user_from_scim(value: Value) -> std::result::Result<crate::resource::RemoteUser, String> {
    ScimUser::deserialize(value).map_err(|e| e.to_string())?.into_remote()
}

/// A string, or a number or boolean rendered as one; `None` for null, empty or anything else.
pub fn string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A boolean, also from `"True"`/`"false"`/`"1"`/`"0"` strings or 0/1 numbers.
pub fn boolean(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    }
}

/// The value under `key`, matched case-insensitively (SCIM attribute names are).
pub fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
}

/// Reads a SCIM user object: its `id` (if any) and its attributes.
pub(crate) fn user_from_value(value: Value) -> std::result::Result<(Option<String>, User), String> {
    match ScimUser::deserialize(value).map_err(|e| e.to_string())? {
        ScimUser::Read { id, user, .. } => Ok((id, user)),
        ScimUser::NotAnObject => Err(NOT_AN_OBJECT.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interact::{INTERACT_USER_SCHEMA, InteractAttributes, InteractBuilderExt, InteractUserExt, LoginType};
    use crate::user::{Manager, MultiValue};
    use serde_json::json;

    #[test]
    fn serialises_to_exact_scim_json_with_derived_schemas() {
        let user = User::builder("bjensen@example.com")
            .external_id("701984")
            .given_name("Barbara")
            .family_name("Jensen")
            .email("bjensen@example.com")
            .phone("555-555-8377", "work")
            .title("Tour Guide")
            .employee_number("701984")
            .department("Tour Operations")
            .manager("26118915-6090-4610-87e4-49d8ca9f808d")
            .build();
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            json!({
                "schemas": [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
                "userName": "bjensen@example.com",
                "externalId": "701984",
                "name": {"familyName": "Jensen", "givenName": "Barbara"},
                "title": "Tour Guide",
                "active": true,
                "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
                "phoneNumbers": [{"value": "555-555-8377", "type": "work"}],
                ENTERPRISE_USER_SCHEMA: {
                    "employeeNumber": "701984",
                    "department": "Tour Operations",
                    "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}
                }
            })
        );
        let minimal = User::builder("a").build();
        assert_eq!(
            serde_json::to_value(&minimal).unwrap(),
            json!({"schemas": [CORE_USER_SCHEMA], "userName": "a", "active": true})
        );
    }

    #[test]
    fn round_trips() {
        let user = User::builder("u")
            .given_name("G")
            .email_of_kind("h@example.com", "home")
            .phone("1", "mobile")
            .locale("en-GB")
            .extra("urn:example:ext:1.0:User", json!({"x": 1}))
            .build();
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["schemas"], json!([CORE_USER_SCHEMA, "urn:example:ext:1.0:User"]));
        assert_eq!(serde_json::from_value::<User>(json).unwrap(), user);
    }

    #[test]
    fn parses_server_quirks() {
        let parsed = remote_user_from_scim(json!({
            "Schemas": [],
            "ID": 42,
            "UserName": "Bjensen",
            "Active": "False",
            "name": {"GivenName": "B", "familyName": null},
            "emails": [{"Value": "b@example.com", "Primary": "True", "type": "work"}, {"primary": true}],
            "phoneNumbers": {"value": 5551234, "type": "work"},
            "urn:ietf:params:scim:schemas:extension:Enterprise:2.0:User": {"employeeNumber": 7, "manager": "m1"},
            "meta": {"resourceType": "User"},
            "groups": [{"value": "g1"}],
            "nickName": null
        }))
        .unwrap();
        assert_eq!(parsed.id.as_str(), "42");
        let u = parsed.user;
        assert_eq!(u.user_name.as_deref(), Some("Bjensen"));
        assert_eq!(u.active, Some(false));
        assert_eq!(u.given_name(), Some("B"));
        assert_eq!(u.family_name(), None);
        assert_eq!(u.emails, vec![MultiValue::new("b@example.com", "work").primary()]);
        assert_eq!(u.phone("work"), Some("5551234"));
        let e = u.enterprise.unwrap();
        assert_eq!(e.employee_number.as_deref(), Some("7"));
        assert_eq!(e.manager, Some(Manager::new("m1")));
        assert_eq!(u.extra.get("groups"), Some(&json!([{"value": "g1"}])));
        assert!(!u.extra.contains_key("nickName"));
        assert!(remote_user_from_scim(json!({"userName": "x"})).is_err());
        assert!(remote_user_from_scim(json!([1, 2])).is_err());
    }

    #[test]
    fn typed_extensions_are_written_under_their_urn_and_listed_in_schemas() {
        let user = User::builder("u")
            .department("R&D")
            .interact(InteractAttributes::new(LoginType::Saml).location("London"))
            .extra("urn:example:ext:1.0:User", json!({"x": 1}))
            .build();
        assert_eq!(
            serde_json::to_value(&user).unwrap(),
            json!({
                "schemas": [CORE_USER_SCHEMA, ENTERPRISE_USER_SCHEMA, INTERACT_USER_SCHEMA, "urn:example:ext:1.0:User"],
                "userName": "u",
                "active": true,
                ENTERPRISE_USER_SCHEMA: {"department": "R&D"},
                INTERACT_USER_SCHEMA: {"loginType": "SAML", "location": "London"},
                "urn:example:ext:1.0:User": {"x": 1}
            })
        );
        // An empty extension is left out, like an empty enterprise part.
        let empty = User::builder("u").interact(InteractAttributes::default()).build();
        assert_eq!(empty.schemas(), [CORE_USER_SCHEMA]);
        assert_eq!(
            serde_json::to_value(&empty).unwrap(),
            json!({"schemas": [CORE_USER_SCHEMA], "userName": "u", "active": true})
        );
    }

    #[test]
    fn a_typed_extension_wins_over_a_raw_object_under_the_same_urn() {
        let mut user =
            User::builder("u").extra(INTERACT_USER_SCHEMA.to_uppercase(), json!({"location": "Old"})).build();
        user.set_interact(InteractAttributes::new(LoginType::Saml));
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["schemas"], json!([CORE_USER_SCHEMA, INTERACT_USER_SCHEMA]));
        assert_eq!(json.as_object().unwrap().len(), 4, "{json}");
        assert_eq!(json[INTERACT_USER_SCHEMA], json!({"loginType": "SAML"}));
    }

    #[test]
    fn registered_extensions_are_read_into_their_type_and_others_stay_raw() {
        let json = json!({
            "id": "7",
            "userName": "u",
            "urn:ietf:params:scim:schemas:extension:InteractSoftware:2.0:User": {"LoginType": "saml", "omitFromSearch": "True"},
            "urn:example:ext:1.0:User": {"x": 1}
        });
        let generic: User = serde_json::from_value(json.clone()).unwrap();
        assert!(generic.interact().is_none());
        assert_eq!(
            generic.extra.get("urn:ietf:params:scim:schemas:extension:InteractSoftware:2.0:User"),
            Some(&json!({"LoginType": "saml", "omitFromSearch": "True"}))
        );

        let registry = ScimExtensions::new().with::<InteractAttributes>();
        assert_eq!(format!("{registry:?}"), format!("[{INTERACT_USER_SCHEMA:?}]"));
        let typed = registry.decode_user(json).unwrap();
        let mut expected = InteractAttributes::new(LoginType::Saml);
        expected.omit_from_search = Some(true);
        assert_eq!(typed.interact(), Some(&expected));
        assert_eq!(typed.extra.keys().collect::<Vec<_>>(), ["urn:example:ext:1.0:User"]);

        // An object that carries nothing has no typed value and is not kept raw either.
        let mut empty = User::builder("u").extra(INTERACT_USER_SCHEMA, json!("not an object")).build();
        registry.lift(&mut empty);
        assert!(empty.interact().is_none() && empty.extra.is_empty());
        assert!(matches!(registry.decode_user(json!([1])), Err(Error::Decode(_))));
    }
}
