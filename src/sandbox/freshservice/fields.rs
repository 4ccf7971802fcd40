//! Requesters and agents ([`Kind`]) and the writable fields each accepts, with their types, as
//! the API v2 documentation lists them.

/// Requester or agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Requester,
    Agent,
}

impl Kind {
    pub(super) fn singular(self) -> &'static str {
        match self {
            Kind::Requester => "requester",
            Kind::Agent => "agent",
        }
    }

    pub(super) fn email_field(self) -> &'static str {
        match self {
            Kind::Requester => "primary_email",
            Kind::Agent => "email",
        }
    }

    pub(super) fn fields(self) -> &'static [Field] {
        match self {
            Kind::Requester => REQUESTER_FIELDS,
            Kind::Agent => AGENT_FIELDS,
        }
    }
}

/// What a writable field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FieldType {
    Text,
    Email,
    Emails,
    /// Documented as a number, sent and returned as a string.
    Phone,
    Bool,
    PositiveInteger,
    IntegerList,
    /// Agent group ids (`member_of`, `observer_of`): each must exist.
    AgentGroups,
    Departments,
    Location,
    User,
    TimeFormat,
    Object,
    Roles,
    /// `external_id`: documented as a number, seen as a string; either is kept as a string.
    ExternalId,
}

/// One writable field and its type.
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) ty: FieldType,
}

const fn field(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty }
}

pub(super) const REQUESTER_FIELDS: &[Field] = &[
    field("first_name", FieldType::Text),
    field("last_name", FieldType::Text),
    field("job_title", FieldType::Text),
    field("primary_email", FieldType::Email),
    field("secondary_emails", FieldType::Emails),
    field("work_phone_number", FieldType::Phone),
    field("mobile_phone_number", FieldType::Phone),
    field("department_ids", FieldType::Departments),
    field("can_see_all_tickets_from_associated_departments", FieldType::Bool),
    field("reporting_manager_id", FieldType::User),
    field("address", FieldType::Text),
    field("time_zone", FieldType::Text),
    field("time_format", FieldType::TimeFormat),
    field("language", FieldType::Text),
    field("location_id", FieldType::Location),
    field("background_information", FieldType::Text),
    field("custom_fields", FieldType::Object),
    field("external_id", FieldType::ExternalId),
];

pub(super) const AGENT_FIELDS: &[Field] = &[
    field("first_name", FieldType::Text),
    field("last_name", FieldType::Text),
    field("occasional", FieldType::Bool),
    field("job_title", FieldType::Text),
    field("email", FieldType::Email),
    field("work_phone_number", FieldType::Phone),
    field("mobile_phone_number", FieldType::Phone),
    field("department_ids", FieldType::Departments),
    field("can_see_all_tickets_from_associated_departments", FieldType::Bool),
    field("reporting_manager_id", FieldType::User),
    field("address", FieldType::Text),
    field("time_zone", FieldType::Text),
    field("time_format", FieldType::TimeFormat),
    field("language", FieldType::Text),
    field("location_id", FieldType::Location),
    field("background_information", FieldType::Text),
    field("scoreboard_level_id", FieldType::PositiveInteger),
    field("member_of", FieldType::AgentGroups),
    field("observer_of", FieldType::AgentGroups),
    field("roles", FieldType::Roles),
    field("signature", FieldType::Text),
    field("custom_fields", FieldType::Object),
    field("workspace_ids", FieldType::IntegerList),
    field("external_id", FieldType::ExternalId),
];

/// The `assignment_scope` values an agent role accepts.
pub(super) const ASSIGNMENT_SCOPES: [&str; 4] =
    ["entire_helpdesk", "member_groups", "specified_groups", "assigned_items"];

/// A deliberately loose e-mail check: something before and after one `@`, no spaces.
pub(super) fn is_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !value.chars().any(char::is_whitespace)
        }
        None => false,
    }
}
