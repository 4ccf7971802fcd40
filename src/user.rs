//! The common user model, shared by every connector.
//!
//! [`User`] follows the SCIM 2.0 core and enterprise user schemas (RFC 7643 §4), plus typed places
//! for connector-specific attributes ([`InteractAttributes`], [`FreshserviceAttributes`]) and a
//! map for anything else ([`User::extra`]). Its `Serialize` writes exactly the SCIM JSON, with
//! `schemas` derived from the parts present; its `Deserialize` reads SCIM JSON back, tolerating the
//! quirks real servers have: attribute names in any case, booleans as `"True"`/`"false"` strings,
//! numbers where strings belong, `null`s, and unknown attributes (kept in [`User::extra`]).
//!
//! ```
//! use identity_connectors::User;
//!
//! let user = User::builder("jane.doe@example.com")
//!     .external_id("E1001")
//!     .given_name("Jane")
//!     .family_name("Doe")
//!     .email("jane.doe@example.com")
//!     .department("Finance")
//!     .build();
//! let json = serde_json::to_value(&user).unwrap();
//! assert_eq!(json["schemas"][1], "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
//! assert_eq!(serde_json::from_value::<User>(json).unwrap(), user);
//! ```

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::connector::{RemoteUser, UserId};
use crate::freshservice::FreshserviceAttributes;
use crate::interact::InteractAttributes;

/// The SCIM core user schema URN.
pub const CORE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The SCIM enterprise user extension URN.
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Interact Software's user extension URN.
pub const INTERACT_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User";

/// A person, in the attributes every connector maps from.
///
/// Every attribute is optional, so the same type describes a new user, a user read back from an
/// app, and a set of changes (only the attributes to change are set). Build new users with
/// [`User::builder`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct User {
    /// The unique sign-in name (SCIM `userName`), often the work e-mail address.
    pub user_name: Option<String>,
    /// The HR system's id for the person (SCIM `externalId`).
    pub external_id: Option<String>,
    /// The person's name in parts.
    pub name: Option<Name>,
    /// The name to display.
    pub display_name: Option<String>,
    /// A casual name.
    pub nick_name: Option<String>,
    /// The job title.
    pub title: Option<String>,
    /// The kind of user in the app (Interact: `Intranet User`, `Power User`, …).
    pub user_type: Option<String>,
    /// The preferred language, such as `en-GB`.
    pub preferred_language: Option<String>,
    /// The locale, such as `en-GB`.
    pub locale: Option<String>,
    /// The time zone. SCIM says IANA (`Europe/London`); Interact expects Windows names
    /// (`GMT Standard Time`) and Freshservice Rails names (`Edinburgh`): pass what the app wants.
    pub timezone: Option<String>,
    /// Whether the account is active. [`User::builder`] sets `true`.
    pub active: Option<bool>,
    /// E-mail addresses.
    pub emails: Vec<MultiValue>,
    /// Phone numbers.
    pub phone_numbers: Vec<MultiValue>,
    /// The SCIM enterprise extension: employee number, department, manager, ….
    pub enterprise: Option<EnterpriseAttributes>,
    /// Interact's SCIM extension.
    pub interact: Option<InteractAttributes>,
    /// Freshservice-only settings (requester or agent, roles, …). Not part of the SCIM JSON.
    pub freshservice: Option<FreshserviceAttributes>,
    /// Attributes and extension objects the model has no field for, by their SCIM name. Extension
    /// objects keyed by a URN are listed in `schemas` when serialised.
    pub extra: Map<String, Value>,
}

/// A person's name in parts (SCIM `name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Name {
    /// The full name, formatted for display.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// The family name (surname).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// The given (first) name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Middle names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// A prefix such as `Dr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honorific_prefix: Option<String>,
    /// A suffix such as `Jr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub honorific_suffix: Option<String>,
}

impl Name {
    /// Whether no part is set.
    pub fn is_empty(&self) -> bool {
        *self == Name::default()
    }
}

/// One value of a multi-valued attribute (an e-mail address or a phone number).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct MultiValue {
    /// The address or number.
    pub value: String,
    /// Its type: `work`, `home`, `mobile`, `other`, ….
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether it is the preferred one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
    /// A display label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

impl MultiValue {
    /// A value of the given type.
    pub fn new(value: impl Into<String>, kind: impl Into<String>) -> Self {
        MultiValue { value: value.into(), kind: Some(kind.into()), primary: None, display: None }
    }

    /// Marks it as the primary value.
    pub fn primary(mut self) -> Self {
        self.primary = Some(true);
        self
    }

    fn is_kind(&self, kind: &str) -> bool {
        self.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(kind))
    }
}

/// The SCIM enterprise user extension (RFC 7643 §4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EnterpriseAttributes {
    /// The employee number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    /// The cost centre.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_center: Option<String>,
    /// The organisation (Interact: Company).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The division.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub division: Option<String>,
    /// The department, by name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The manager.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manager: Option<Manager>,
}

impl EnterpriseAttributes {
    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        *self == EnterpriseAttributes::default()
    }
}

/// A user's manager (SCIM enterprise `manager`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Manager {
    /// The manager's id in the target app (SCIM). Freshservice also accepts the manager's e-mail
    /// address here and resolves it to their user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// The manager resource's URI.
    #[serde(rename = "$ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The manager's display name (read-only in SCIM).
    #[serde(rename = "displayName", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

impl Manager {
    /// A manager by id (or, for Freshservice, by e-mail address).
    pub fn new(value: impl Into<String>) -> Self {
        Manager { value: Some(value.into()), reference: None, display_name: None }
    }
}

impl User {
    /// Starts a new user with its user name, active by default.
    pub fn builder(user_name: impl Into<String>) -> UserBuilder {
        UserBuilder { user: User { user_name: Some(user_name.into()), active: Some(true), ..User::default() } }
    }

    /// The given name, if set.
    pub fn given_name(&self) -> Option<&str> {
        self.name.as_ref()?.given_name.as_deref()
    }

    /// The family name, if set.
    pub fn family_name(&self) -> Option<&str> {
        self.name.as_ref()?.family_name.as_deref()
    }

    /// The e-mail address to use: the one marked primary, else the first `work` one, else the first.
    pub fn primary_email(&self) -> Option<&str> {
        Self::preferred(&self.emails, "work")
    }

    /// The phone number of a type (`work`, `mobile`, …), if any.
    pub fn phone(&self, kind: &str) -> Option<&str> {
        self.phone_numbers.iter().find(|p| p.is_kind(kind)).map(|p| p.value.as_str())
    }

    fn preferred<'a>(values: &'a [MultiValue], kind: &str) -> Option<&'a str> {
        values
            .iter()
            .find(|v| v.primary == Some(true))
            .or_else(|| values.iter().find(|v| v.is_kind(kind)))
            .or_else(|| values.first())
            .map(|v| v.value.as_str())
    }

    /// Whether no attribute is set (an empty set of changes).
    pub fn is_empty(&self) -> bool {
        *self == User::default()
    }

    /// The attributes of `self` that differ from `current`, as a partial user: what an update must
    /// send to make `current` look like `self`. Attributes `self` leaves unset are left alone, and
    /// `active` is never included (activation has its own operation).
    pub fn changes_from(&self, current: &User) -> User {
        fn pick<T: Clone + PartialEq>(desired: &Option<T>, current: &Option<T>) -> Option<T> {
            match desired {
                Some(v) if Some(v) != current.as_ref() => Some(v.clone()),
                _ => None,
            }
        }
        let name = match (&self.name, &current.name) {
            (Some(d), c) => {
                let c = c.clone().unwrap_or_default();
                let n = Name {
                    formatted: pick(&d.formatted, &c.formatted),
                    family_name: pick(&d.family_name, &c.family_name),
                    given_name: pick(&d.given_name, &c.given_name),
                    middle_name: pick(&d.middle_name, &c.middle_name),
                    honorific_prefix: pick(&d.honorific_prefix, &c.honorific_prefix),
                    honorific_suffix: pick(&d.honorific_suffix, &c.honorific_suffix),
                };
                (!n.is_empty()).then_some(n)
            }
            (None, _) => None,
        };
        let enterprise = match (&self.enterprise, &current.enterprise) {
            (Some(d), c) => {
                let c = c.clone().unwrap_or_default();
                let e = EnterpriseAttributes {
                    employee_number: pick(&d.employee_number, &c.employee_number),
                    cost_center: pick(&d.cost_center, &c.cost_center),
                    organization: pick(&d.organization, &c.organization),
                    division: pick(&d.division, &c.division),
                    department: pick(&d.department, &c.department),
                    manager: match (&d.manager, &c.manager) {
                        (Some(dm), Some(cm)) if dm.value == cm.value => None,
                        (Some(dm), _) => Some(dm.clone()),
                        (None, _) => None,
                    },
                };
                (!e.is_empty()).then_some(e)
            }
            (None, _) => None,
        };
        let same_values = |a: &[MultiValue], b: &[MultiValue]| {
            a.len() == b.len()
                && a.iter().all(|x| {
                    b.iter().any(|y| x.value.eq_ignore_ascii_case(&y.value) && (x.kind.is_none() || x.kind == y.kind))
                })
        };
        let emails = if !self.emails.is_empty() && !same_values(&self.emails, &current.emails) {
            self.emails.clone()
        } else {
            Vec::new()
        };
        let phone_numbers =
            if !self.phone_numbers.is_empty() && !same_values(&self.phone_numbers, &current.phone_numbers) {
                self.phone_numbers.clone()
            } else {
                Vec::new()
            };
        let mut extra = Map::new();
        for (key, value) in &self.extra {
            if current.extra.get(key) != Some(value) {
                extra.insert(key.clone(), value.clone());
            }
        }
        User {
            // User names compare case-insensitively (SCIM `caseExact: false`; e-mail addresses):
            // a case-only difference is not worth an update.
            user_name: match (&self.user_name, &current.user_name) {
                (Some(d), Some(c)) if d.eq_ignore_ascii_case(c) => None,
                (d, c) => pick(d, c),
            },
            external_id: pick(&self.external_id, &current.external_id),
            name,
            display_name: pick(&self.display_name, &current.display_name),
            nick_name: pick(&self.nick_name, &current.nick_name),
            title: pick(&self.title, &current.title),
            user_type: pick(&self.user_type, &current.user_type),
            preferred_language: pick(&self.preferred_language, &current.preferred_language),
            locale: pick(&self.locale, &current.locale),
            timezone: pick(&self.timezone, &current.timezone),
            active: None,
            emails,
            phone_numbers,
            enterprise,
            interact: match &self.interact {
                Some(d) => d.changes_from(current.interact.as_ref()),
                None => None,
            },
            freshservice: match &self.freshservice {
                Some(d) => d.changes_from(current.freshservice.as_ref()),
                None => None,
            },
            extra,
        }
    }

    /// Applies a partial user (as made by [`changes_from`](Self::changes_from)): every attribute
    /// `changes` sets replaces the one in `self`.
    pub fn apply(&mut self, changes: &User) {
        macro_rules! take {
            ($($field:ident),*) => {$(
                if changes.$field.is_some() {
                    self.$field = changes.$field.clone();
                }
            )*};
        }
        take!(
            user_name,
            external_id,
            display_name,
            nick_name,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
            active
        );
        if let Some(n) = &changes.name {
            let name = self.name.get_or_insert_with(Name::default);
            macro_rules! part { ($($f:ident),*) => {$( if n.$f.is_some() { name.$f = n.$f.clone(); } )*}; }
            part!(formatted, family_name, given_name, middle_name, honorific_prefix, honorific_suffix);
        }
        if let Some(e) = &changes.enterprise {
            let ent = self.enterprise.get_or_insert_with(EnterpriseAttributes::default);
            macro_rules! part { ($($f:ident),*) => {$( if e.$f.is_some() { ent.$f = e.$f.clone(); } )*}; }
            part!(employee_number, cost_center, organization, division, department, manager);
        }
        if !changes.emails.is_empty() {
            self.emails = changes.emails.clone();
        }
        if !changes.phone_numbers.is_empty() {
            self.phone_numbers = changes.phone_numbers.clone();
        }
        if let Some(i) = &changes.interact {
            let cur = self.interact.get_or_insert_with(InteractAttributes::default);
            macro_rules! part { ($($f:ident),*) => {$( if i.$f.is_some() { cur.$f = i.$f.clone(); } )*}; }
            part!(
                login_type,
                location,
                job_start_date,
                force_password_reset,
                omit_from_search,
                pronouns,
                date_of_birth,
                name
            );
        }
        if let Some(f) = &changes.freshservice {
            let cur = self.freshservice.get_or_insert_with(FreshserviceAttributes::default);
            if f.kind.is_some() {
                cur.kind = f.kind;
            }
            if f.occasional.is_some() {
                cur.occasional = f.occasional;
            }
            if !f.roles.is_empty() {
                cur.roles = f.roles.clone();
            }
            if !f.member_of.is_empty() {
                cur.member_of = f.member_of.clone();
            }
            if f.location.is_some() {
                cur.location = f.location.clone();
            }
            if f.can_see_all_tickets_from_associated_departments.is_some() {
                cur.can_see_all_tickets_from_associated_departments = f.can_see_all_tickets_from_associated_departments;
            }
            cur.custom_fields.extend(f.custom_fields.clone());
        }
        for (k, v) in &changes.extra {
            self.extra.insert(k.clone(), v.clone());
        }
    }

    /// The schema URNs this user's SCIM JSON carries: core, then enterprise and Interact when those
    /// parts are present, then the URN-keyed objects in [`User::extra`].
    pub fn schemas(&self) -> Vec<String> {
        let mut schemas = vec![CORE_USER_SCHEMA.to_string()];
        if self.enterprise.as_ref().is_some_and(|e| !e.is_empty()) {
            schemas.push(ENTERPRISE_USER_SCHEMA.to_string());
        }
        if self.interact.as_ref().is_some_and(|i| !i.is_empty()) {
            schemas.push(INTERACT_USER_SCHEMA.to_string());
        }
        for (key, value) in &self.extra {
            if key.starts_with("urn:") && value.is_object() {
                schemas.push(key.clone());
            }
        }
        schemas
    }
}

/// Builds a new [`User`]. Start with [`User::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct UserBuilder {
    user: User,
}

macro_rules! setters {
    ($( $(#[$doc:meta])* $method:ident => $($field:ident).+ ; )*) => {
        $(
            $(#[$doc])*
            pub fn $method(mut self, value: impl Into<String>) -> Self {
                self.user.$($field).+ = Some(value.into());
                self
            }
        )*
    };
}

impl UserBuilder {
    setters! {
        /// Sets the HR system's id (SCIM `externalId`).
        external_id => external_id;
        /// Sets the display name.
        display_name => display_name;
        /// Sets the job title.
        title => title;
        /// Sets the user type (Interact profile type).
        user_type => user_type;
        /// Sets the preferred language.
        preferred_language => preferred_language;
        /// Sets the locale.
        locale => locale;
        /// Sets the time zone, in the form the target app expects.
        timezone => timezone;
    }

    fn name_mut(&mut self) -> &mut Name {
        self.user.name.get_or_insert_with(Name::default)
    }

    fn enterprise_mut(&mut self) -> &mut EnterpriseAttributes {
        self.user.enterprise.get_or_insert_with(EnterpriseAttributes::default)
    }

    /// Sets the given (first) name.
    pub fn given_name(mut self, value: impl Into<String>) -> Self {
        self.name_mut().given_name = Some(value.into());
        self
    }

    /// Sets the family name.
    pub fn family_name(mut self, value: impl Into<String>) -> Self {
        self.name_mut().family_name = Some(value.into());
        self
    }

    /// Sets the formatted full name.
    pub fn formatted_name(mut self, value: impl Into<String>) -> Self {
        self.name_mut().formatted = Some(value.into());
        self
    }

    /// Adds a `work` e-mail address; the first one added is marked primary.
    pub fn email(self, value: impl Into<String>) -> Self {
        self.email_of_kind(value, "work")
    }

    /// Adds an e-mail address of a type (`work`, `home`, …); the first one added is marked primary.
    pub fn email_of_kind(mut self, value: impl Into<String>, kind: &str) -> Self {
        let mut email = MultiValue::new(value, kind);
        if self.user.emails.is_empty() {
            email = email.primary();
        }
        self.user.emails.push(email);
        self
    }

    /// Adds a phone number of a type (`work`, `mobile`, …).
    pub fn phone(mut self, value: impl Into<String>, kind: &str) -> Self {
        self.user.phone_numbers.push(MultiValue::new(value, kind));
        self
    }

    /// Sets whether the account is active (default `true`).
    pub fn active(mut self, active: bool) -> Self {
        self.user.active = Some(active);
        self
    }

    /// Sets the employee number (enterprise extension).
    pub fn employee_number(mut self, value: impl Into<String>) -> Self {
        self.enterprise_mut().employee_number = Some(value.into());
        self
    }

    /// Sets the department, by name (enterprise extension).
    pub fn department(mut self, value: impl Into<String>) -> Self {
        self.enterprise_mut().department = Some(value.into());
        self
    }

    /// Sets the organisation (enterprise extension; Interact's Company).
    pub fn organization(mut self, value: impl Into<String>) -> Self {
        self.enterprise_mut().organization = Some(value.into());
        self
    }

    /// Sets the division (enterprise extension).
    pub fn division(mut self, value: impl Into<String>) -> Self {
        self.enterprise_mut().division = Some(value.into());
        self
    }

    /// Sets the cost centre (enterprise extension).
    pub fn cost_center(mut self, value: impl Into<String>) -> Self {
        self.enterprise_mut().cost_center = Some(value.into());
        self
    }

    /// Sets the manager, by id in the target app (Freshservice: or by e-mail address).
    pub fn manager(mut self, value: impl Into<String>) -> Self {
        self.enterprise_mut().manager = Some(Manager::new(value));
        self
    }

    /// Sets Interact's extension attributes.
    pub fn interact(mut self, attributes: InteractAttributes) -> Self {
        self.user.interact = Some(attributes);
        self
    }

    /// Sets Freshservice's settings for this user.
    pub fn freshservice(mut self, attributes: FreshserviceAttributes) -> Self {
        self.user.freshservice = Some(attributes);
        self
    }

    /// Sets an attribute the model has no field for, by its SCIM name (a URN-keyed object is an
    /// extension and is listed in `schemas`).
    pub fn extra(mut self, name: impl Into<String>, value: Value) -> Self {
        self.user.extra.insert(name.into(), value);
        self
    }

    /// Finishes the user.
    pub fn build(self) -> User {
        self.user
    }
}

impl Serialize for User {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
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
        if let Some(interact) = self.interact.as_ref().filter(|i| !i.is_empty()) {
            map.serialize_entry(INTERACT_USER_SCHEMA, interact)?;
        }
        for (key, value) in &self.extra {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for User {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        scim_json::user_from_value(value).map(|(_, user)| user).map_err(de::Error::custom)
    }
}

/// Reads a SCIM user resource (with its server-assigned `id`) leniently.
pub(crate) fn remote_user_from_scim(value: Value) -> Result<RemoteUser, String> {
    let (id, user) = scim_json::user_from_value(value)?;
    let id = id.ok_or_else(|| "the SCIM user has no `id`".to_string())?;
    Ok(RemoteUser::new(UserId::new(id), user))
}

/// Lenient readers for SCIM JSON. Public within the crate so connectors parse the same way.
pub(crate) mod scim_json {
    use super::*;

    /// A string, or a number or boolean rendered as one; `None` for null, empty or anything else.
    pub(crate) fn string(value: &Value) -> Option<String> {
        match value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A boolean, also from `"True"`/`"false"`/`"1"`/`"0"` strings or 0/1 numbers.
    pub(crate) fn boolean(value: &Value) -> Option<bool> {
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
    pub(crate) fn field<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
        map.get(key).or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v))
    }

    fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
        field(map, key).and_then(string)
    }

    fn name(value: &Value) -> Option<Name> {
        let map = value.as_object()?;
        let n = Name {
            formatted: text(map, "formatted"),
            family_name: text(map, "familyName"),
            given_name: text(map, "givenName"),
            middle_name: text(map, "middleName"),
            honorific_prefix: text(map, "honorificPrefix"),
            honorific_suffix: text(map, "honorificSuffix"),
        };
        (!n.is_empty()).then_some(n)
    }

    fn multi(value: &Value) -> Vec<MultiValue> {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            Value::Object(_) => vec![value],
            _ => Vec::new(),
        };
        items
            .into_iter()
            .filter_map(|item| {
                let map = item.as_object()?;
                Some(MultiValue {
                    value: text(map, "value")?,
                    kind: text(map, "type"),
                    primary: field(map, "primary").and_then(boolean),
                    display: text(map, "display"),
                })
            })
            .collect()
    }

    fn enterprise(value: &Value) -> Option<EnterpriseAttributes> {
        let map = value.as_object()?;
        let manager = match field(map, "manager") {
            Some(Value::Object(m)) => Some(Manager {
                value: text(m, "value"),
                reference: text(m, "$ref"),
                display_name: text(m, "displayName"),
            }),
            Some(Value::String(s)) => Some(Manager::new(s.clone())),
            _ => None,
        };
        let e = EnterpriseAttributes {
            employee_number: text(map, "employeeNumber"),
            cost_center: text(map, "costCenter"),
            organization: text(map, "organization"),
            division: text(map, "division"),
            department: text(map, "department"),
            manager,
        };
        (!e.is_empty()).then_some(e)
    }

    /// Reads a SCIM user object: its `id` (if any) and its attributes.
    pub(crate) fn user_from_value(value: Value) -> Result<(Option<String>, User), String> {
        let Value::Object(map) = value else {
            return Err("a SCIM user must be a JSON object".to_string());
        };
        let mut user = User::default();
        let mut id = None;
        for (key, value) in map {
            let lower = key.to_ascii_lowercase();
            match lower.as_str() {
                "schemas" | "meta" => {}
                "id" => id = string(&value),
                "username" => user.user_name = string(&value),
                "externalid" => user.external_id = string(&value),
                "name" => user.name = name(&value),
                "displayname" => user.display_name = string(&value),
                "nickname" => user.nick_name = string(&value),
                "title" => user.title = string(&value),
                "usertype" => user.user_type = string(&value),
                "preferredlanguage" => user.preferred_language = string(&value),
                "locale" => user.locale = string(&value),
                "timezone" => user.timezone = string(&value),
                "active" => user.active = boolean(&value),
                "emails" => user.emails = multi(&value),
                "phonenumbers" => user.phone_numbers = multi(&value),
                _ if lower == ENTERPRISE_USER_SCHEMA.to_ascii_lowercase() => user.enterprise = enterprise(&value),
                _ if lower == INTERACT_USER_SCHEMA.to_ascii_lowercase() => {
                    user.interact = InteractAttributes::from_scim_value(&value)
                }
                _ => {
                    if !value.is_null() {
                        user.extra.insert(key, value);
                    }
                }
            }
        }
        Ok((id, user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn changes_from_lists_only_what_differs() {
        let current = User::builder("jdoe").given_name("John").family_name("Doe").email("j@x.io").title("Dev").build();
        let desired = User::builder("jdoe")
            .given_name("Johnny")
            .family_name("Doe")
            .email("J@X.io")
            .title("Lead")
            .department("R&D")
            .active(false)
            .build();
        let changes = desired.changes_from(&current);
        let expected = User {
            name: Some(Name { given_name: Some("Johnny".into()), ..Name::default() }),
            title: Some("Lead".into()),
            enterprise: Some(EnterpriseAttributes { department: Some("R&D".into()), ..Default::default() }),
            ..User::default()
        };
        assert_eq!(changes, expected);
        assert!(current.changes_from(&current).is_empty());
        let shouting = User::builder("JDOE").build();
        assert!(shouting.changes_from(&current).is_empty());
        assert_eq!(User::builder("jdoe2").build().changes_from(&current).user_name.as_deref(), Some("jdoe2"));
    }
}
