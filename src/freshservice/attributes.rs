//! Freshservice-only settings of a user: requester or agent, roles, location, custom fields; a
//! [`UserExtension`] without a SCIM schema, and the shorthands that put it on a [`User`].

use serde_json::{Map, Value, json};

use crate::extension::UserExtension;
use crate::user::{User, UserBuilder};

/// Whether a Freshservice user is a requester (an employee who raises tickets) or an agent (IT
/// staff who work them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FreshserviceUserKind {
    /// A requester (the default).
    #[default]
    Requester,
    /// An agent.
    Agent,
}

/// An agent's role: which role, and where it applies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct AgentRole {
    /// The role's id (`GET /api/v2/roles`).
    pub role_id: u64,
    /// `entire_helpdesk`, `member_groups`, `specified_groups` or `assigned_items`.
    pub assignment_scope: String,
    /// The agent groups, for `specified_groups`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<u64>,
}

impl AgentRole {
    /// A role with a scope and no groups.
    pub fn new(role_id: u64, assignment_scope: impl Into<String>) -> Self {
        AgentRole { role_id, assignment_scope: assignment_scope.into(), groups: Vec::new() }
    }
}

/// Freshservice-only settings of a user. None of it is part of the SCIM JSON.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct FreshserviceAttributes {
    /// Requester or agent; `None` uses the connector's default.
    pub kind: Option<FreshserviceUserKind>,
    /// For agents: whether they are occasional (day-pass) rather than full-time.
    pub occasional: Option<bool>,
    /// For agents: their roles (at least one is needed to create an agent).
    pub roles: Vec<AgentRole>,
    /// For agents: the agent groups they are a member of.
    pub member_of: Vec<u64>,
    /// The location, by name (resolved to `location_id`).
    pub location: Option<String>,
    /// Custom fields, by their field name.
    pub custom_fields: Map<String, Value>,
    /// Whether the user sees all tickets of their departments. Sent on every update, because
    /// Freshservice resets it to `false` otherwise.
    pub can_see_all_tickets_from_associated_departments: Option<bool>,
    /// Fields of the Freshservice record the model has no place for, kept as read.
    pub extra: Map<String, Value>,
}

impl FreshserviceAttributes {
    /// Settings for a user of the given kind.
    pub fn new(kind: FreshserviceUserKind) -> Self {
        FreshserviceAttributes { kind: Some(kind), ..FreshserviceAttributes::default() }
    }

    /// Settings for an agent with these roles.
    pub fn agent(roles: Vec<AgentRole>) -> Self {
        FreshserviceAttributes { kind: Some(FreshserviceUserKind::Agent), roles, ..FreshserviceAttributes::default() }
    }

    /// Sets the location, by name.
    pub fn location(mut self, name: impl Into<String>) -> Self {
        self.location = Some(name.into());
        self
    }

    /// Sets a custom field.
    pub fn custom_field(mut self, name: impl Into<String>, value: Value) -> Self {
        self.custom_fields.insert(name.into(), value);
        self
    }

    /// The settings of `self` that differ from `current`, or `None` when nothing differs.
    /// [`extra`](Self::extra) is read-only and never part of a change.
    pub fn changes_from(&self, current: Option<&FreshserviceAttributes>) -> Option<FreshserviceAttributes> {
        let c = current.cloned().unwrap_or_default();
        let pick = |d: &Option<bool>, c: &Option<bool>| d.filter(|d| Some(*d) != *c);
        let changes = FreshserviceAttributes {
            kind: self.kind.filter(|k| Some(*k) != c.kind),
            occasional: pick(&self.occasional, &c.occasional),
            roles: if !self.roles.is_empty() && self.roles != c.roles { self.roles.clone() } else { Vec::new() },
            member_of: if !self.member_of.is_empty() && self.member_of != c.member_of {
                self.member_of.clone()
            } else {
                Vec::new()
            },
            location: self.location.clone().filter(|l| Some(l) != c.location.as_ref()),
            custom_fields: self
                .custom_fields
                .iter()
                .filter(|(k, v)| c.custom_fields.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            can_see_all_tickets_from_associated_departments: pick(
                &self.can_see_all_tickets_from_associated_departments,
                &c.can_see_all_tickets_from_associated_departments,
            ),
            extra: Map::new(),
        };
        (!changes.is_empty()).then_some(changes)
    }

    /// Whether no setting is set.
    pub fn is_empty(&self) -> bool {
        *self == FreshserviceAttributes::default()
    }

    /// Applies a partial value (as made by [`changes_from`](Self::changes_from)): every setting
    /// `changes` sets replaces the one in `self`; custom fields are merged; `extra` is read-only
    /// and left alone.
    pub fn apply(&mut self, changes: &FreshserviceAttributes) {
        if changes.kind.is_some() {
            self.kind = changes.kind;
        }
        if changes.occasional.is_some() {
            self.occasional = changes.occasional;
        }
        if !changes.roles.is_empty() {
            self.roles = changes.roles.clone();
        }
        if !changes.member_of.is_empty() {
            self.member_of = changes.member_of.clone();
        }
        if changes.location.is_some() {
            self.location = changes.location.clone();
        }
        if changes.can_see_all_tickets_from_associated_departments.is_some() {
            self.can_see_all_tickets_from_associated_departments =
                changes.can_see_all_tickets_from_associated_departments;
        }
        self.custom_fields.extend(changes.custom_fields.clone());
    }
}

/// Not part of the SCIM JSON (no schema URN): the Freshservice connector maps it to its own
/// request bodies.
impl UserExtension for FreshserviceAttributes {
    fn to_json(&self) -> Value {
        let kind = self.kind.map(|k| match k {
            FreshserviceUserKind::Requester => "requester",
            FreshserviceUserKind::Agent => "agent",
        });
        json!({
            "kind": kind,
            "occasional": self.occasional,
            "roles": self.roles,
            "member_of": self.member_of,
            "location": self.location,
            "custom_fields": self.custom_fields,
            "can_see_all_tickets_from_associated_departments": self.can_see_all_tickets_from_associated_departments,
            "extra": self.extra,
        })
    }

    fn is_empty(&self) -> bool {
        FreshserviceAttributes::is_empty(self)
    }

    fn changes_from(&self, current: Option<&Self>) -> Option<Self> {
        FreshserviceAttributes::changes_from(self, current)
    }

    fn apply(&mut self, changes: &Self) {
        FreshserviceAttributes::apply(self, changes)
    }
}

/// Freshservice's settings on a [`User`]: `user.freshservice()`.
pub trait FreshserviceUserExt {
    /// Freshservice's settings, if the user has them (every user the connector reads does).
    fn freshservice(&self) -> Option<&FreshserviceAttributes>;

    /// Sets Freshservice's settings, returning the ones they replace.
    fn set_freshservice(&mut self, attributes: FreshserviceAttributes) -> Option<FreshserviceAttributes>;
}

impl FreshserviceUserExt for User {
    fn freshservice(&self) -> Option<&FreshserviceAttributes> {
        self.extension::<FreshserviceAttributes>()
    }

    fn set_freshservice(&mut self, attributes: FreshserviceAttributes) -> Option<FreshserviceAttributes> {
        self.set_extension(attributes)
    }
}

/// Freshservice's settings on a [`UserBuilder`]: `User::builder(..).freshservice(..)`.
pub trait FreshserviceBuilderExt {
    /// Sets Freshservice's settings for this user.
    #[must_use]
    fn freshservice(self, attributes: FreshserviceAttributes) -> Self;
}

impl FreshserviceBuilderExt for UserBuilder {
    fn freshservice(self, attributes: FreshserviceAttributes) -> Self {
        self.extension(attributes)
    }
}
