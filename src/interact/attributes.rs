//! Interact's user extension ([`InteractAttributes`]) and the shorthands that put it on a
//! [`User`].

use serde::Serialize;
use serde_json::{Value, json};

use crate::extension::UserExtension;
use crate::scim::codec::{self, ScimExtension};
use crate::user::{User, UserBuilder};

/// Interact Software's user extension URN.
pub const INTERACT_USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User";

/// How a user signs in to Interact (`loginType`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoginType {
    /// `SAML` single sign-on.
    Saml,
    /// `Local Login`: an Interact password.
    LocalLogin,
    /// `Windows Login`.
    WindowsLogin,
    /// Any other value the server uses.
    Other(String),
}

impl LoginType {
    /// The value as Interact spells it.
    pub fn as_str(&self) -> &str {
        match self {
            LoginType::Saml => "SAML",
            LoginType::LocalLogin => "Local Login",
            LoginType::WindowsLogin => "Windows Login",
            LoginType::Other(s) => s,
        }
    }

    /// Reads Interact's spelling, case-insensitively.
    pub fn parse(value: &str) -> LoginType {
        match value.trim().to_ascii_lowercase().as_str() {
            "saml" => LoginType::Saml,
            "local login" => LoginType::LocalLogin,
            "windows login" => LoginType::WindowsLogin,
            _ => LoginType::Other(value.to_string()),
        }
    }
}

impl Serialize for LoginType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Interact's user extension (`urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct InteractAttributes {
    /// How the user signs in. Required by Interact.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_type: Option<LoginType>,
    /// The office or site. Interact's Okta guide treats it as required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The first working day, as an ISO date-time such as `2026-01-05T00:00:00Z`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_start_date: Option<String>,
    /// Whether the user must change their password at next sign-in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_password_reset: Option<bool>,
    /// Whether the profile is hidden from search.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub omit_from_search: Option<bool>,
    /// Pronouns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pronouns: Option<String>,
    /// The date of birth, as an ISO date-time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Title and initials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<InteractName>,
}

/// The `name` object of Interact's extension.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct InteractName {
    /// A title such as `Mrs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Initials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initials: Option<String>,
}

impl InteractAttributes {
    /// Attributes with the required login type set.
    pub fn new(login_type: LoginType) -> Self {
        InteractAttributes { login_type: Some(login_type), ..InteractAttributes::default() }
    }

    /// Sets the location.
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// Sets the job start date (ISO date-time).
    pub fn job_start_date(mut self, date: impl Into<String>) -> Self {
        self.job_start_date = Some(date.into());
        self
    }

    /// Whether no attribute is set.
    pub fn is_empty(&self) -> bool {
        *self == InteractAttributes::default()
    }

    /// Applies a partial value (as made by [`changes_from`](Self::changes_from)): every attribute
    /// `changes` sets replaces the one in `self`.
    pub fn apply(&mut self, changes: &InteractAttributes) {
        macro_rules! take { ($($f:ident),*) => {$( if changes.$f.is_some() { self.$f = changes.$f.clone(); } )*}; }
        take!(
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

    /// The attributes of `self` that differ from `current`, or `None` when nothing differs.
    pub fn changes_from(&self, current: Option<&InteractAttributes>) -> Option<InteractAttributes> {
        fn pick<T: Clone + PartialEq>(d: &Option<T>, c: Option<&T>) -> Option<T> {
            d.as_ref().filter(|d| Some(*d) != c).cloned()
        }
        let c = current.cloned().unwrap_or_default();
        let changes = InteractAttributes {
            login_type: pick(&self.login_type, c.login_type.as_ref()),
            location: pick(&self.location, c.location.as_ref()),
            job_start_date: pick(&self.job_start_date, c.job_start_date.as_ref()),
            force_password_reset: pick(&self.force_password_reset, c.force_password_reset.as_ref()),
            omit_from_search: pick(&self.omit_from_search, c.omit_from_search.as_ref()),
            pronouns: pick(&self.pronouns, c.pronouns.as_ref()),
            date_of_birth: pick(&self.date_of_birth, c.date_of_birth.as_ref()),
            name: pick(&self.name, c.name.as_ref()),
        };
        (!changes.is_empty()).then_some(changes)
    }
}

impl UserExtension for InteractAttributes {
    const SCHEMA_URN: Option<&'static str> = Some(INTERACT_USER_SCHEMA);

    fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }

    /// Text attributes first, then the flags, then the name parts (`name.title`, `name.initials`):
    /// a partial name must not clear the other part.
    fn scim_patch_attributes(&self) -> Vec<(String, Value)> {
        let name = self.name.clone().unwrap_or_default();
        let text = |value: &Option<String>| value.clone().map(Value::String);
        let attributes = [
            ("loginType", self.login_type.as_ref().map(|l| Value::String(l.as_str().to_string()))),
            ("location", text(&self.location)),
            ("jobStartDate", text(&self.job_start_date)),
            ("pronouns", text(&self.pronouns)),
            ("dateOfBirth", text(&self.date_of_birth)),
            ("forcePasswordReset", self.force_password_reset.map(Value::Bool)),
            ("omitFromSearch", self.omit_from_search.map(Value::Bool)),
            ("name.title", text(&name.title)),
            ("name.initials", text(&name.initials)),
        ];
        attributes.into_iter().filter_map(|(attribute, value)| Some((attribute.to_string(), value?))).collect()
    }

    fn is_empty(&self) -> bool {
        InteractAttributes::is_empty(self)
    }

    fn changes_from(&self, current: Option<&Self>) -> Option<Self> {
        InteractAttributes::changes_from(self, current)
    }

    fn apply(&mut self, changes: &Self) {
        InteractAttributes::apply(self, changes)
    }
}

impl ScimExtension for InteractAttributes {
    /// Reads the extension object leniently (any key case, booleans as strings).
    fn from_scim(value: &Value) -> Option<InteractAttributes> {
        let map = value.as_object()?;
        let text = |k: &str| codec::field(map, k).and_then(codec::string);
        let flag = |k: &str| codec::field(map, k).and_then(codec::boolean);
        let name = codec::field(map, "name").and_then(Value::as_object).map(|n| InteractName {
            title: codec::field(n, "title").and_then(codec::string),
            initials: codec::field(n, "initials").and_then(codec::string),
        });
        let attributes = InteractAttributes {
            login_type: text("loginType").map(|s| LoginType::parse(&s)),
            location: text("location"),
            job_start_date: text("jobStartDate"),
            force_password_reset: flag("forcePasswordReset"),
            omit_from_search: flag("omitFromSearch"),
            pronouns: text("pronouns"),
            date_of_birth: text("dateOfBirth"),
            name: name.filter(|n| *n != InteractName::default()),
        };
        (!attributes.is_empty()).then_some(attributes)
    }
}

/// Interact's attributes on a [`User`]: `user.interact()`.
pub trait InteractUserExt {
    /// Interact's extension attributes, if the user has them.
    fn interact(&self) -> Option<&InteractAttributes>;

    /// Sets Interact's extension attributes, returning the ones they replace.
    fn set_interact(&mut self, attributes: InteractAttributes) -> Option<InteractAttributes>;
}

impl InteractUserExt for User {
    fn interact(&self) -> Option<&InteractAttributes> {
        self.extension::<InteractAttributes>()
    }

    fn set_interact(&mut self, attributes: InteractAttributes) -> Option<InteractAttributes> {
        self.set_extension(attributes)
    }
}

/// Interact's attributes on a [`UserBuilder`]: `User::builder(..).interact(..)`.
pub trait InteractBuilderExt {
    /// Sets Interact's extension attributes.
    #[must_use]
    fn interact(self, attributes: InteractAttributes) -> Self;
}

impl InteractBuilderExt for UserBuilder {
    fn interact(self, attributes: InteractAttributes) -> Self {
        self.extension(attributes)
    }
}
