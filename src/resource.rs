//! The user resource as a downstream app holds it: its id there ([`UserId`]), how to find it
//! ([`Lookup`]), the user with that id ([`RemoteUser`]) and pages of them ([`PageRequest`],
//! [`PageToken`], [`UserPage`]). The vocabulary the [`Connector`](crate::Connector) trait, the
//! [`Client`](crate::Client) and its outcomes share; it depends on the common model only.

use std::fmt;

use crate::user::User;

/// The id a downstream app gave a user (SCIM `id`, Freshservice user id), as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        UserId(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for UserId {
    fn from(id: &str) -> Self {
        UserId(id.to_string())
    }
}

impl From<String> for UserId {
    fn from(id: String) -> Self {
        UserId(id)
    }
}

/// How to find a user. Its `Debug` hides the value, so a look-up can be logged without leaking an
/// e-mail address.
#[derive(Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Lookup {
    /// By user name (SCIM `userName`, compared case-insensitively by SCIM servers).
    UserName(String),
    /// By e-mail address.
    Email(String),
    /// By the HR system's id (SCIM `externalId`).
    ExternalId(String),
}

impl Lookup {
    /// The attribute's name, for messages: `userName`, `email`, `externalId`.
    pub fn attribute(&self) -> &'static str {
        match self {
            Lookup::UserName(_) => "userName",
            Lookup::Email(_) => "email",
            Lookup::ExternalId(_) => "externalId",
        }
    }

    /// The value looked up.
    pub fn value(&self) -> &str {
        match self {
            Lookup::UserName(v) | Lookup::Email(v) | Lookup::ExternalId(v) => v,
        }
    }
}

impl fmt::Debug for Lookup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Lookup({} = [REDACTED])", self.attribute())
    }
}

/// A user as it exists in a downstream app: its id there and its attributes in the common model.
///
/// Equality compares the id and the attributes, not the [`version`](Self::version): two reads of
/// the same user are equal whatever their ETags.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RemoteUser {
    /// The app's id for the user.
    pub id: UserId,
    /// The user's attributes, in the common model. Attributes the model has no field for are kept
    /// in [`User::extra`]. Boxed, so a found user moves through the connector, the client and
    /// the caller as a pointer rather than as the whole user (~650 bytes).
    pub user: Box<User>,
    /// The resource's version as read (a SCIM `ETag` header or `meta.version`), sent back as
    /// `If-Match` by connectors whose server supports ETags. `None` when the app gave none.
    pub version: Option<String>,
}

impl PartialEq for RemoteUser {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id && self.user == other.user
    }
}

impl RemoteUser {
    /// A remote user from its id and attributes.
    pub fn new(id: UserId, user: User) -> Self {
        RemoteUser { id, user: Box::new(user), version: None }
    }

    /// A user with no id and no attributes, for a decoder to fill where it lies: the attributes
    /// are made in their box, not made aside and copied in.
    pub(crate) fn empty() -> Self {
        RemoteUser { id: UserId::new(String::new()), user: Box::default(), version: None }
    }

    /// Whether the user is active. A user whose app did not say is taken as active.
    pub fn is_active(&self) -> bool {
        self.user.active.unwrap_or(true)
    }
}

/// Which page of users to read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PageRequest {
    /// Where to continue: `None` for the first page, else the [`UserPage::next`] of the previous one.
    pub token: Option<PageToken>,
    /// How many users to ask for. Connectors clamp it to what their API allows.
    pub size: u32,
}

impl PageRequest {
    /// The first page, of `size` users.
    pub fn first(size: u32) -> Self {
        PageRequest { token: None, size }
    }

    /// The page after the one that returned `token`.
    pub fn next(token: PageToken, size: u32) -> Self {
        PageRequest { token: Some(token), size }
    }
}

/// An opaque position in a listing, produced by a connector and passed back to it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageToken(String);

impl PageToken {
    /// Wraps a connector's position.
    pub fn new(token: impl Into<String>) -> Self {
        PageToken(token.into())
    }

    /// The position as the connector wrote it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One page of users.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct UserPage {
    /// The users on this page.
    pub users: Vec<RemoteUser>,
    /// Where the next page starts, or `None` when this is the last.
    pub next: Option<PageToken>,
    /// The total number of users, when the app says.
    pub total: Option<u64>,
}

impl UserPage {
    /// A page of users.
    pub fn new(users: Vec<RemoteUser>, next: Option<PageToken>, total: Option<u64>) -> Self {
        UserPage { users, next, total }
    }
}
