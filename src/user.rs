//! The common user model, shared by every connector.
//!
//! [`User`] follows the SCIM 2.0 core and enterprise user schemas (RFC 7643 §4), plus a typed slot
//! for attributes that belong to one app ([`UserExtension`]: Interact's
//! [`InteractAttributes`](crate::InteractAttributes), Freshservice's
//! [`FreshserviceAttributes`](crate::FreshserviceAttributes), or a connector's own) and a map for
//! anything else ([`User::extra`]). This module knows no app and no wire format: the SCIM JSON
//! (`Serialize`/`Deserialize` for [`User`]) lives in `scim::codec`.
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

use serde::Serialize;
use serde_json::{Map, Value};

use crate::extension::{ErasedExtension, Extensions, UserExtension};

mod changes;

/// The SCIM core user schema URN.
pub const CORE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The SCIM enterprise user extension URN.
pub const ENTERPRISE_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

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
    /// Attributes and extension objects the model has no field (or registered extension type)
    /// for, by their SCIM name. Extension objects keyed by a URN are listed in `schemas` when
    /// serialised.
    pub extra: Map<String, Value>,
    /// Typed attributes that belong to one app, at most one value per type ([`UserExtension`]).
    pub(crate) extensions: Extensions,
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
        // Field by field, not against a `User::default()` built and dropped on every check; the
        // pattern names every field, so a new one fails to compile here until it is added.
        let User {
            user_name,
            external_id,
            name,
            display_name,
            nick_name,
            title,
            user_type,
            preferred_language,
            locale,
            timezone,
            active,
            emails,
            phone_numbers,
            enterprise,
            extra,
            extensions,
        } = self;
        [user_name, external_id, display_name, nick_name, title, user_type, preferred_language, locale, timezone]
            .iter()
            .all(|text| text.is_none())
            && name.is_none()
            && active.is_none()
            && emails.is_empty()
            && phone_numbers.is_empty()
            && enterprise.is_none()
            && extra.is_empty()
            && extensions.is_empty()
    }

    /// The value of extension type `T` this user carries, if any.
    pub fn extension<T: UserExtension>(&self) -> Option<&T> {
        self.extensions.get::<T>()
    }

    /// The value of extension type `T`, to change in place.
    pub fn extension_mut<T: UserExtension>(&mut self) -> Option<&mut T> {
        self.extensions.get_mut::<T>()
    }

    /// Sets the value of extension type `T`, returning the one it replaces.
    pub fn set_extension<T: UserExtension>(&mut self, value: T) -> Option<T> {
        self.extensions.insert(value)
    }

    /// Removes the value of extension type `T`, returning it.
    pub fn remove_extension<T: UserExtension>(&mut self) -> Option<T> {
        self.extensions.remove::<T>()
    }

    /// Every extension value, for the wire codecs.
    pub(crate) fn extensions(&self) -> impl Iterator<Item = &dyn ErasedExtension> {
        self.extensions.iter()
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

    /// Sets the value of an extension type (an app's typed attributes), replacing any earlier one
    /// of the same type. Apps offer shorthands such as
    /// [`InteractBuilderExt::interact`](crate::InteractBuilderExt::interact).
    pub fn extension<T: UserExtension>(mut self, value: T) -> Self {
        self.user.extensions.insert(value);
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
