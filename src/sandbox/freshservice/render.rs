//! Requesters and agents as the API returns them: every documented field, Freshservice's defaults
//! for blank ones, and department and location names beside their ids.

use serde_json::{Map, Value, json};

use super::fields::{AGENT_FIELDS, FieldType, Kind, REQUESTER_FIELDS};
use super::names::Named;
use super::store::{FreshserviceState, FsUser};

impl FreshserviceState {
    fn names(list: &[Named], ids: Option<&Value>) -> Vec<Value> {
        ids.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|id| list.iter().find(|n| Some(n.id) == id.as_u64()))
            .map(|n| Value::from(n.name.as_str()))
            .collect()
    }

    /// A user in the requester shape (agents included with `is_agent: true`).
    pub(super) fn render_requester(&self, user: &FsUser) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), Value::from(user.id));
        for field in REQUESTER_FIELDS {
            let source = if field.name == "primary_email" { user.kind.email_field() } else { field.name };
            out.insert(field.name.into(), self.field_or_default(user, source, field.ty));
        }
        self.add_common(user, &mut out);
        out.insert("is_agent".into(), Value::Bool(user.kind == Kind::Agent));
        out.insert("vip_user".into(), Value::Bool(false));
        Value::Object(out)
    }

    fn render_agent(&self, user: &FsUser) -> Value {
        let mut out = Map::new();
        out.insert("id".into(), Value::from(user.id));
        for field in AGENT_FIELDS {
            out.insert(field.name.into(), self.field_or_default(user, field.name, field.ty));
        }
        self.add_common(user, &mut out);
        out.insert("last_login_at".into(), Value::Null);
        out.insert("last_active_at".into(), Value::Null);
        Value::Object(out)
    }

    fn add_common(&self, user: &FsUser, out: &mut Map<String, Value>) {
        out.insert(
            "department_names".into(),
            Value::Array(Self::names(&self.departments, user.fields.get("department_ids"))),
        );
        let location = user.fields.get("location_id").map(|id| Self::names(&self.locations, Some(&json!([id]))));
        out.insert("location_name".into(), location.and_then(|n| n.into_iter().next()).unwrap_or(Value::Null));
        out.insert("active".into(), Value::Bool(user.active));
        out.insert("has_logged_in".into(), Value::Bool(false));
        out.insert("created_at".into(), Value::from(user.created_at.as_str()));
        out.insert("updated_at".into(), Value::from(user.updated_at.as_str()));
    }

    /// A stored field, or what Freshservice returns for a blank one.
    fn field_or_default(&self, user: &FsUser, name: &str, ty: FieldType) -> Value {
        match user.fields.get(name) {
            Some(value) if !value.is_null() => value.clone(),
            _ => match (name, ty) {
                ("language", _) => Value::from("en"),
                ("time_format", _) => Value::from("12h"),
                ("occasional" | "can_see_all_tickets_from_associated_departments", _) => Value::Bool(false),
                (
                    _,
                    FieldType::Emails
                    | FieldType::Departments
                    | FieldType::IntegerList
                    | FieldType::AgentGroups
                    | FieldType::Roles,
                ) => {
                    json!([])
                }
                (_, FieldType::Object) => json!({}),
                _ => Value::Null,
            },
        }
    }

    pub(super) fn render(&self, kind: Kind, user: &FsUser) -> Value {
        match kind {
            Kind::Requester => self.render_requester(user),
            Kind::Agent => self.render_agent(user),
        }
    }

    pub(super) fn render_wrapped(&self, user: &FsUser) -> Value {
        json!({ user.kind.singular(): self.render(user.kind, user) })
    }
}
