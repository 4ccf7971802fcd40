//! Freshservice-only settings of a user: requester or agent, roles, location, custom fields.

use serde_json::{Map, Value};

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
        (changes != FreshserviceAttributes::default()).then_some(changes)
    }
}
