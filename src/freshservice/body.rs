//! The request body that creates a Freshservice user or updates one.

use serde_json::{Map, Value, json};

use super::attributes::{AgentRole, FreshserviceAttributes, FreshserviceUserKind};
use super::users::{Reader, required_email};
use super::wire;
use crate::error::Result;
use crate::http::Http;
use crate::resource::RemoteUser;
use crate::user::User;

/// What building a body needs of the connector: its look-ups, and the defaults agents are
/// created with.
pub(super) struct BodyBuilder<'a> {
    pub(super) reader: Reader<'a>,
    pub(super) default_agent_roles: &'a [AgentRole],
    pub(super) default_occasional: Option<bool>,
}

impl BodyBuilder<'_> {
    /// The request body that creates `user` (when `current` is `None`) or applies the partial
    /// user `user` to `current`. `None` when an update has no Freshservice field to change.
    pub(super) async fn body(
        &self,
        http: &Http,
        user: &User,
        kind: FreshserviceUserKind,
        current: Option<&RemoteUser>,
    ) -> Result<Option<Map<String, Value>>> {
        let creating = current.is_none();
        let fs = user.extension::<FreshserviceAttributes>().cloned().unwrap_or_default();
        let mut body = Map::new();
        let mut put = |key: &str, value: Value| {
            body.insert(key.to_string(), value);
        };

        let given = user.given_name().map(str::trim).filter(|g| !g.is_empty());
        match (given, creating) {
            (Some(given), _) => put("first_name", json!(given)),
            // Freshservice requires a first name; the e-mail's local part is the usual stand-in.
            (None, true) => {
                let email = required_email(user)?;
                put("first_name", json!(email.split('@').next().unwrap_or(email)));
            }
            (None, false) => {}
        }
        if let Some(family) = user.family_name() {
            put("last_name", json!(family));
        }
        if let Some(primary) = user.primary_email().map(str::trim) {
            let current_primary = current.and_then(|c| c.user.primary_email());
            if !current_primary.is_some_and(|c| wire::same_email(c, primary)) {
                let key = if kind == FreshserviceUserKind::Agent { "email" } else { "primary_email" };
                put(key, json!(primary));
            }
            let secondary: Vec<&str> =
                user.emails.iter().map(|e| e.value.trim()).filter(|e| !wire::same_email(e, primary)).collect();
            if kind == FreshserviceUserKind::Requester && !secondary.is_empty() {
                put("secondary_emails", json!(secondary));
            }
        }
        if let Some(title) = &user.title {
            put("job_title", json!(title));
        }
        if let Some(phone) = user.phone("work") {
            put("work_phone_number", json!(phone));
        }
        if let Some(phone) = user.phone("mobile") {
            put("mobile_phone_number", json!(phone));
        }
        let enterprise = user.enterprise.clone().unwrap_or_default();
        if let Some(department) = &enterprise.department {
            let id = self.reader.names.department_id(http, department).await?;
            put("department_ids", json!([id]));
        }
        if let Some(manager) = enterprise.manager.as_ref().and_then(|m| m.value.as_deref()) {
            let id = self.reader.manager_id(http, manager).await?;
            let current_manager = current
                .and_then(|c| c.user.enterprise.as_ref()?.manager.as_ref()?.value.as_deref()?.parse::<u64>().ok());
            if current_manager != Some(id) {
                put("reporting_manager_id", json!(id));
            }
        }
        if let Some(location) = &fs.location {
            let id = self.reader.names.location_id(http, location).await?;
            put("location_id", json!(id));
        }
        if let Some(time_zone) = &user.timezone {
            put("time_zone", json!(time_zone));
        }
        if let Some(language) = &user.preferred_language {
            put("language", json!(language));
        }
        let mut custom_fields = fs.custom_fields.clone();
        if let (Some(field), Some(number)) = (self.reader.employee_number_field, &enterprise.employee_number) {
            custom_fields.insert(field.to_string(), json!(number));
        }
        if !custom_fields.is_empty() {
            put("custom_fields", Value::Object(custom_fields));
        }
        if kind == FreshserviceUserKind::Agent {
            let occasional = if creating { fs.occasional.or(self.default_occasional) } else { fs.occasional };
            if let Some(occasional) = occasional {
                put("occasional", json!(occasional));
            }
            let roles = if creating && fs.roles.is_empty() { self.default_agent_roles } else { &fs.roles[..] };
            if !roles.is_empty() {
                put("roles", json!(roles));
            }
            if !fs.member_of.is_empty() {
                put("member_of", json!(fs.member_of));
            }
        }
        const CAN_SEE: &str = "can_see_all_tickets_from_associated_departments";
        match (fs.can_see_all_tickets_from_associated_departments, current) {
            (Some(can_see), _) => put(CAN_SEE, json!(can_see)),
            (None, None) => {}
            (None, Some(current)) => {
                if body.is_empty() {
                    return Ok(None);
                }
                // A PUT without it resets it to false, so the current value always goes along.
                let value = current
                    .user
                    .extension::<FreshserviceAttributes>()
                    .and_then(|f| f.can_see_all_tickets_from_associated_departments)
                    .unwrap_or(false);
                body.insert(CAN_SEE.to_string(), json!(value));
            }
        }
        Ok(Some(body))
    }
}
