//! Departments, locations, roles and requester groups: the seeded lists, `query="name:'…'"` parsing, and their
//! wire shape.

use serde_json::{Value, json};

use super::error::{FsError, field_error};

/// Freshservice ids are large integers; the sandbox's start in the same range.
pub(super) const FIRST_DEPARTMENT_ID: u64 = 21_000_100_000;
pub(super) const FIRST_LOCATION_ID: u64 = 21_000_200_000;
pub(super) const FIRST_ROLE_ID: u64 = 21_000_300_000;
/// The roles every sandbox has, as in a new Freshservice account.
pub(super) const ROLES: [(&str, u8); 4] = [("Account Admin", 1), ("Admin", 1), ("SD Supervisor", 2), ("SD Agent", 2)];

/// A department, location or role.
pub(super) struct Named {
    pub(super) id: u64,
    pub(super) name: String,
    /// Roles only: 1 admin, 2 agent.
    pub(super) role_type: u8,
    pub(super) created_at: String,
}

/// A manual requester group and its members (requester ids).
pub(super) struct RequesterGroup {
    pub(super) named: Named,
    pub(super) members: std::collections::BTreeSet<u64>,
}

/// `"name:'Sales'"` (outer double quotes optional) → `Sales`.
pub(super) fn parse_name_query(query: &str) -> Result<String, FsError> {
    let query = query.trim();
    let query = query.strip_prefix('"').and_then(|q| q.strip_suffix('"')).unwrap_or(query);
    query.strip_prefix("name:'").and_then(|q| q.strip_suffix('\'')).map(str::to_string).ok_or_else(|| {
        FsError::validation(vec![field_error("query", "Only name:'…' is supported here", "invalid_value")])
    })
}

/// A department, location or role as `GET /{collection}/{id}` returns it.
pub(super) fn render_named(collection: &str, named: &Named) -> Value {
    match collection {
        "departments" => json!({
            "id": named.id, "name": named.name, "description": null, "head_user_id": null, "prime_user_id": null,
            "domains": [], "custom_fields": {}, "created_at": named.created_at, "updated_at": named.created_at,
        }),
        "locations" => json!({
            "id": named.id, "name": named.name, "parent_location_id": null, "primary_contact_id": null,
            "address": null, "created_at": named.created_at, "updated_at": named.created_at,
        }),
        _ => json!({
            "id": named.id, "name": named.name, "description": null, "default": true, "role_type": named.role_type,
            "created_at": named.created_at, "updated_at": named.created_at,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::freshservice::fields::is_email;

    #[test]
    fn name_queries_parse() {
        assert_eq!(parse_name_query("\"name:'Sales'\""), Ok("Sales".to_string()));
        assert_eq!(parse_name_query("name:'Sales'"), Ok("Sales".to_string()));
        assert!(parse_name_query("name:Sales").is_err());
        assert!(is_email("a@b") && !is_email("a b@c") && !is_email("@b") && !is_email("a@b@c"));
    }
}
