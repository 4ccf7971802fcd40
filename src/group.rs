//! The groups capability: the group resource, how a caller names a group ([`GroupRef`]), and
//! what an app with groups provides ([`GroupConnector`]).
//!
//! A connector whose app has groups returns itself (or a helper) from
//! [`Connector::groups`](crate::Connector::groups); every other connector keeps the default
//! `None`, and [`Client::groups`](crate::Client::groups) turns that into
//! [`Error::Unsupported`](crate::Error::Unsupported) naming the connector and the capability. See
//! [the connector module's documentation](crate::Connector#optional-capabilities) for the pattern.
//!
//! The connector provides primitives (find one group, list a page, read a person's memberships,
//! add and remove one member); [`Client`](crate::Client) builds the idempotent operations on them
//! (`grant`, `revoke`, `set_memberships`), as it does for users.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::error::{Error, FieldError, Result};
use crate::http::Http;
use crate::resource::{PageRequest, PageToken, RemoteUser};

/// The longest group name or id a [`GroupRef`] accepts, in characters.
const MAX_REF_CHARS: usize = 256;

/// A group's id in its app, as the app spells it (SCIM: the `id` string; Freshservice: a number).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(String);

impl GroupId {
    /// Wraps an id as the app returned it.
    pub fn new(id: impl Into<String>) -> Self {
        GroupId(id.into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupId({:?})", self.0)
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which of an app's group-like resources a group is. Most apps have one kind
/// ([`Group`](Self::Group)); Freshservice has four, and which one a plain name means follows the
/// person's user kind (see [`GroupConnector::default_kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum GroupKind {
    /// A SCIM `Group` (the kind of every app with one kind of group).
    Group,
    /// A Freshservice requester group (`/requester_groups`), for requesters.
    RequesterGroup,
    /// A Freshservice agent group (`/groups`), as a member (the agent's `member_of`).
    AgentGroup,
    /// A Freshservice agent group, as an observer (the agent's `observer_of`).
    AgentGroupObserver,
    /// A Freshservice agent role (`/roles`, the agent's `roles[]`).
    AgentRole,
}

impl GroupKind {
    /// A short name for messages: `group`, `requester group`, `agent group`, …
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Group => "group",
            GroupKind::RequesterGroup => "requester group",
            GroupKind::AgentGroup => "agent group",
            GroupKind::AgentGroupObserver => "agent group (observer)",
            GroupKind::AgentRole => "agent role",
        }
    }
}

impl fmt::Display for GroupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a group is named: by id or by display name. Names match exactly, or else
/// case-insensitively; a name two groups share is [`Error::Ambiguous`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupKey {
    /// The app's id.
    Id(GroupId),
    /// The display name (SCIM `displayName`, Freshservice `name`).
    Name(String),
}

/// A group as a caller names it: an id or a display name, and optionally which kind of group
/// (where the app has several). Built through [`id`](Self::id) and [`name`](Self::name), which
/// check the text, so a reference that exists is always one that can be sent.
///
/// ```
/// use identity_connectors::{GroupKind, GroupRef};
///
/// let sales = GroupRef::name("Sales")?;
/// let admins = GroupRef::name("SD Agent")?.of_kind(GroupKind::AgentRole);
/// assert_eq!(admins.kind(), Some(GroupKind::AgentRole));
/// assert!(GroupRef::name("  ").is_err());
/// assert!(GroupRef::name("Sales\n").is_err());
/// # let _ = sales;
/// # Ok::<(), identity_connectors::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupRef {
    key: GroupKey,
    kind: Option<GroupKind>,
}

impl GroupRef {
    /// A group by its id. Fails (nothing sent) when the id is empty, has surrounding whitespace
    /// or control characters, or is longer than 256 characters.
    pub fn id(id: impl Into<String>) -> Result<Self> {
        let id = id.into();
        check_text("group id", &id)?;
        if id.trim() != id {
            return Err(invalid("group id", "must not start or end with whitespace"));
        }
        Ok(GroupRef { key: GroupKey::Id(GroupId(id)), kind: None })
    }

    /// A group by its display name. Surrounding whitespace is trimmed; fails (nothing sent) when
    /// the name is empty, has control characters, or is longer than 256 characters.
    pub fn name(name: impl Into<String>) -> Result<Self> {
        let name = name.into();
        check_text("group name", &name)?;
        Ok(GroupRef { key: GroupKey::Name(name.trim().to_string()), kind: None })
    }

    /// The same reference, restricted to one kind of group (Freshservice: an agent role, an agent
    /// group as observer, …). Without it the connector's [default](GroupConnector::default_kind)
    /// applies.
    pub fn of_kind(mut self, kind: GroupKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// The id or name.
    pub fn key(&self) -> &GroupKey {
        &self.key
    }

    /// The kind asked for, if any.
    pub fn kind(&self) -> Option<GroupKind> {
        self.kind
    }
}

impl fmt::Display for GroupRef {
    /// `group "Sales"`, `agent role "SD Agent"`, `group with id 42`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.kind.unwrap_or(GroupKind::Group);
        match &self.key {
            GroupKey::Id(id) => write!(f, "{kind} with id {id}"),
            GroupKey::Name(name) => write!(f, "{kind} {name:?}"),
        }
    }
}

fn invalid(field: &'static str, why: &str) -> Error {
    Error::invalid_input(format!("the {field} is not usable: it {why}"), vec![FieldError::new(field, why)])
}

/// The checks every group id and name passes before it can reach a URL, a filter or a body.
fn check_text(field: &'static str, text: &str) -> Result<()> {
    if text.trim().is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if text.chars().any(char::is_control) {
        return Err(invalid(field, "must not contain control characters (line breaks, tabs, NUL)"));
    }
    if text.chars().count() > MAX_REF_CHARS {
        return Err(invalid(field, "must be at most 256 characters long"));
    }
    Ok(())
}

/// A group as the app holds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Group {
    /// Which kind of group.
    pub kind: GroupKind,
    /// The app's id.
    pub id: GroupId,
    /// The display name.
    pub display_name: String,
}

impl Group {
    /// A group of `kind` with an id and a display name.
    pub fn new(kind: GroupKind, id: GroupId, display_name: impl Into<String>) -> Self {
        Group { kind, id, display_name: display_name.into() }
    }

    /// Whether `self` and `other` are the same group (same kind and id; names may differ in case).
    pub fn same_as(&self, other: &Group) -> bool {
        self.kind == other.kind && self.id == other.id
    }
}

impl fmt::Display for Group {
    /// `requester group "Sales" (42)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?} ({})", self.kind, self.display_name, self.id)
    }
}

/// One page of groups.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GroupPage {
    /// The groups on this page.
    pub groups: Vec<Group>,
    /// The token of the next page, or `None` on the last one.
    pub next: Option<PageToken>,
}

impl GroupPage {
    /// A page of groups and the token of the next page.
    pub fn new(groups: Vec<Group>, next: Option<PageToken>) -> Self {
        GroupPage { groups, next }
    }
}

/// A group to create with [`Client::create_group`](crate::Client::create_group): a display name,
/// optionally an `externalId` and extension objects (SCIM: each under its schema URN, such as
/// [`InteractGroupAttributes`](crate::interact::InteractGroupAttributes)). Built through
/// [`new`](Self::new), which checks the name as [`GroupRef::name`] does, so nothing unusable
/// reaches the wire.
///
/// ```
/// use identity_connectors::NewGroup;
///
/// let sales = NewGroup::new(" Sales ")?.with_external_id("hr-42")?;
/// assert_eq!(sales.external_id(), Some("hr-42"));
/// assert_eq!(sales.display_name(), "Sales");
/// assert!(NewGroup::new("").is_err());
/// assert!(NewGroup::new("Sales\nAdmins").is_err());
/// # Ok::<(), identity_connectors::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewGroup {
    kind: Option<GroupKind>,
    display_name: String,
    external_id: Option<String>,
    extensions: BTreeMap<String, Map<String, Value>>,
}

impl NewGroup {
    /// A group named `display_name` (trimmed). Fails (nothing sent) when the name is empty, has
    /// control characters, or is longer than 256 characters.
    pub fn new(display_name: impl Into<String>) -> Result<Self> {
        let name = display_name.into();
        check_text("group name", &name)?;
        Ok(NewGroup {
            kind: None,
            display_name: name.trim().to_string(),
            external_id: None,
            extensions: BTreeMap::new(),
        })
    }

    /// The kind of group to create, where the app has several (default: the connector's
    /// [default kind](GroupConnector::default_kind)).
    #[must_use]
    pub fn of_kind(mut self, kind: GroupKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// The caller's id for the group (SCIM `externalId`). Fails like [`GroupRef::id`].
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Result<Self> {
        let external_id = external_id.into();
        check_text("group externalId", &external_id)?;
        self.external_id = Some(external_id);
        Ok(self)
    }

    /// An extension object, sent under its schema URN (and listed in `schemas`). Fails when
    /// `urn` is not a URN (`urn:` then letters, digits and `-_.:` only).
    pub fn with_extension(mut self, urn: &str, attributes: Map<String, Value>) -> Result<Self> {
        let valid = urn.len() > 4
            && urn.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
            && urn.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
        if !valid {
            return Err(invalid("group extension URN", "must be a URN (urn: then letters, digits and -_.: only)"));
        }
        self.extensions.insert(urn.to_string(), attributes);
        Ok(self)
    }

    /// The kind asked for, if any.
    pub fn kind(&self) -> Option<GroupKind> {
        self.kind
    }

    /// The display name.
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The `externalId`, if set.
    pub fn external_id(&self) -> Option<&str> {
        self.external_id.as_deref()
    }

    /// The extension objects by schema URN, in URN order.
    pub fn extensions(&self) -> impl Iterator<Item = (&str, &Map<String, Value>)> {
        self.extensions.iter().map(|(urn, map)| (urn.as_str(), map))
    }
}

/// The `Unsupported` error of a primitive a group connector does not override.
fn not_provided<T: ?Sized>(capability: &'static str) -> Error {
    let name = std::any::type_name::<T>();
    Error::unsupported(name.rsplit("::").next().unwrap_or(name), capability)
}

/// What an app with groups provides, beside the user primitives of
/// [`Connector`](crate::Connector): primitives that each send the least the app needs, which
/// [`Client`](crate::Client) makes idempotent (`grant`, `revoke`, `set_memberships`).
///
/// Every method has a default (a primitive the app lacks answers
/// [`Error::Unsupported`](crate::Error::Unsupported)), so adding one never breaks an
/// implementation. Object safe, like `Connector`, so a client hands it out as
/// `&dyn GroupConnector`. Methods that take `http` must send every request through it.
///
/// Contract, for implementers:
/// - [`find_group`](Self::find_group) answers `Ok(None)` for a group that does not exist (an
///   unknown id included), and [`Error::Ambiguous`](crate::Error::Ambiguous) for a name several
///   groups share;
/// - [`add_member`](Self::add_member) and [`remove_member`](Self::remove_member) succeed when
///   the person already is (or is not) a member, so a retried request cannot fail the call;
/// - `member` is the person as [`Connector::get_user`](crate::Connector::get_user) or
///   [`find_user`](crate::Connector::find_user) returned them.
///
/// ```
/// use identity_connectors::GroupConnector;
///
/// #[derive(Debug)]
/// struct DirectoryGroups;
///
/// impl GroupConnector for DirectoryGroups {}
///
/// let groups: &dyn GroupConnector = &DirectoryGroups;
/// assert_eq!(format!("{groups:?}"), "DirectoryGroups");
/// ```
#[async_trait]
pub trait GroupConnector: Send + Sync + fmt::Debug {
    /// The kind of group a [`GroupRef`] without a kind names, for `member` (or, without a
    /// person, for the connector's default user kind). Defaults to [`GroupKind::Group`].
    fn default_kind(&self, member: Option<&RemoteUser>) -> GroupKind {
        let _ = member;
        GroupKind::Group
    }

    /// The kinds of group [`memberships`](Self::memberships) reports for `member`; the kinds
    /// [`Client::set_memberships`](crate::Client::set_memberships) manages when `desired` names
    /// none of a kind. Defaults to the [default kind](Self::default_kind) alone.
    fn member_kinds(&self, member: &RemoteUser) -> Vec<GroupKind> {
        vec![self.default_kind(Some(member))]
    }

    /// Checks that `group` is a reference this app can use (a kind it has, an id of the right
    /// form) without sending anything. [`Client`](crate::Client) calls it before any request.
    /// Defaults to accepting every reference.
    fn check_group_ref(&self, group: &GroupRef) -> Result<()> {
        let _ = group;
        Ok(())
    }

    /// Finds the group `group` names (its kind set, or the default kind for no person). `Ok(None)`
    /// when there is none; [`Error::Ambiguous`] when several groups have the name.
    async fn find_group(&self, http: &Http, group: &GroupRef) -> Result<Option<Group>> {
        let _ = (http, group);
        Err(not_provided::<Self>("finding groups"))
    }

    /// Reads one page of the groups of `kind` (`None`: the default kind for no person).
    async fn list_groups(&self, http: &Http, kind: Option<GroupKind>, page: &PageRequest) -> Result<GroupPage> {
        let _ = (http, kind, page);
        Err(not_provided::<Self>("listing groups"))
    }

    /// Every group `member` belongs to, of the kinds [`member_kinds`](Self::member_kinds) names.
    async fn memberships(&self, http: &Http, member: &RemoteUser) -> Result<Vec<Group>> {
        let _ = (http, member);
        Err(not_provided::<Self>("reading memberships"))
    }

    /// Whether `member` belongs to `group`. Defaults to looking through
    /// [`memberships`](Self::memberships); override it where the app answers more cheaply.
    async fn is_member(&self, http: &Http, group: &Group, member: &RemoteUser) -> Result<bool> {
        Ok(self.memberships(http, member).await?.iter().any(|g| g.same_as(group)))
    }

    /// Makes `member` a member of `group`; succeeds if they already are.
    async fn add_member(&self, http: &Http, group: &Group, member: &RemoteUser) -> Result<()> {
        let _ = (http, group, member);
        Err(not_provided::<Self>("adding group members"))
    }

    /// Removes `member` from `group`; succeeds if they are not a member.
    async fn remove_member(&self, http: &Http, group: &Group, member: &RemoteUser) -> Result<()> {
        let _ = (http, group, member);
        Err(not_provided::<Self>("removing group members"))
    }

    /// Makes the members of `group` exactly `members`, in one write that replaces the whole list
    /// (other members are dropped). Only ever sent when the caller asks for it
    /// ([`Client::replace_members`](crate::Client::replace_members)); `grant`, `revoke` and
    /// `set_memberships` change one member at a time.
    async fn replace_members(&self, http: &Http, group: &Group, members: &[RemoteUser]) -> Result<()> {
        let _ = (http, group, members);
        Err(not_provided::<Self>("replacing group members"))
    }

    /// Creates `group` and returns it as the app stored it. A group that already exists is
    /// [`Error::Conflict`] where the app says so.
    async fn create_group(&self, http: &Http, group: &NewGroup) -> Result<Group> {
        let _ = (http, group);
        Err(not_provided::<Self>("creating groups"))
    }

    /// Deletes `group`; succeeds if it is already gone. Only ever sent by an explicit
    /// [`Client::delete_group`](crate::Client::delete_group).
    async fn delete_group(&self, http: &Http, group: &Group) -> Result<()> {
        let _ = (http, group);
        Err(not_provided::<Self>("deleting groups"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_checked_before_anything_is_sent() {
        for bad in ["", "   ", "Sales\nAdmins", "tab\there", "nul\0", &"x".repeat(257)] {
            let error = GroupRef::name(bad).unwrap_err();
            assert!(matches!(&error, Error::Validation(v) if v.status.is_none()), "{bad:?}: {error}");
            assert!(GroupRef::id(bad).is_err(), "{bad:?}");
        }
        assert!(GroupRef::id(" 42").is_err());
        assert_eq!(GroupRef::name(" Sales ").unwrap().key(), &GroupKey::Name("Sales".into()));
        assert_eq!(GroupRef::id("42").unwrap().key(), &GroupKey::Id(GroupId::new("42")));
        assert_eq!(
            GroupRef::name("x\r").unwrap_err().to_string(),
            "Validation failed before sending (nothing was sent): the group name is not usable: it must not \
             contain control characters (line breaks, tabs, NUL); group name: must not contain control \
             characters (line breaks, tabs, NUL)"
        );
    }

    #[test]
    fn references_and_groups_display_what_they_name() {
        assert_eq!(GroupRef::name("Sales").unwrap().to_string(), "group \"Sales\"");
        let role = GroupRef::id("7").unwrap().of_kind(GroupKind::AgentRole);
        assert_eq!(role.to_string(), "agent role with id 7");
        let group = Group::new(GroupKind::RequesterGroup, GroupId::new("42"), "Sales");
        assert_eq!(group.to_string(), "requester group \"Sales\" (42)");
        assert!(group.same_as(&Group::new(GroupKind::RequesterGroup, GroupId::new("42"), "sales")));
        assert!(!group.same_as(&Group::new(GroupKind::AgentGroup, GroupId::new("42"), "Sales")));
    }

    #[derive(Debug)]
    struct Bare;
    impl GroupConnector for Bare {}

    #[tokio::test]
    async fn primitives_a_connector_lacks_are_unsupported_naming_it() {
        let connector = crate::FreshserviceApiKey::for_loopback("http://127.0.0.1:9/api/v2", "key-123456").unwrap();
        let client = crate::Client::new(connector).unwrap();
        let error = Bare.find_group(client.http(), &GroupRef::name("x").unwrap()).await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "The Bare connector does not support finding groups; nothing was sent. Skip it for this app"
        );
    }
}
