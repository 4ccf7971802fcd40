//! The Freshservice side's groups: requester groups with their members
//! (`/requester_groups`, `/requester_groups/{id}/members[/{requester_id}]`) and agent groups
//! (`/groups`), whose members and observers are the agents' `member_of` and `observer_of`.

use hyper::StatusCode;
use serde_json::{Value, json};

use super::api::FreshserviceApi;
use super::error::{FsError, JSON, field_error};
use super::fields::Kind;
use super::names::{Named, RequesterGroup};
use super::store::FreshserviceState;
use crate::sandbox::server::{ApiRequest, ApiResponse};

/// Freshservice ids are large integers; the sandbox's start in the same range.
pub(super) const FIRST_REQUESTER_GROUP_ID: u64 = 21_000_400_000;
pub(super) const FIRST_AGENT_GROUP_ID: u64 = 21_000_500_000;

type Handled = Result<ApiResponse, FsError>;

fn parse_id(id: &str) -> Result<u64, FsError> {
    id.parse().map_err(|_| FsError::not_found())
}

impl FreshserviceState {
    fn requester_group(&self, id: &str) -> Result<&RequesterGroup, FsError> {
        let id = parse_id(id)?;
        self.requester_groups.iter().find(|g| g.named.id == id).ok_or_else(FsError::not_found)
    }

    fn render_requester_group(group: &RequesterGroup) -> Value {
        let n = &group.named;
        json!({
            "id": n.id, "name": n.name, "description": null, "type": "manual",
            "created_at": n.created_at, "updated_at": n.created_at,
        })
    }

    /// The agents whose `field` (`member_of`, `observer_of`) holds group `id`.
    fn agents_in(&self, id: u64, field: &str) -> Vec<u64> {
        self.users
            .values()
            .filter(|u| u.kind == Kind::Agent)
            .filter(|u| u.fields.get(field).and_then(Value::as_array).is_some_and(|ids| ids.contains(&json!(id))))
            .map(|u| u.id)
            .collect()
    }

    fn render_agent_group(&self, group: &Named) -> Value {
        json!({
            "id": group.id, "name": group.name, "description": null, "escalate_to": null,
            "unassigned_for": null, "business_hours_id": null, "group_type": "support_agent_group",
            "members": self.agents_in(group.id, "member_of"),
            "observers": self.agents_in(group.id, "observer_of"),
            "leaders": [], "restricted": false, "approval_required": false, "auto_ticket_assign": false,
            "created_at": group.created_at, "updated_at": group.created_at,
        })
    }

    /// A user leaves every requester group (forgotten, or converted to an agent).
    pub(super) fn leave_requester_groups(&mut self, user: u64) {
        for group in &mut self.requester_groups {
            group.members.remove(&user);
        }
    }
}

impl FreshserviceApi {
    pub(super) fn list_requester_groups(&self, request: &ApiRequest) -> Handled {
        let items: Vec<Value> =
            self.state().requester_groups.iter().map(FreshserviceState::render_requester_group).collect();
        self.page(request, items, "requester_groups")
    }

    pub(super) fn show_requester_group(&self, id: &str) -> Handled {
        let state = self.state();
        let group = FreshserviceState::render_requester_group(state.requester_group(id)?);
        Ok(ApiResponse::json(StatusCode::OK, JSON, &json!({ "requester_group": group })))
    }

    /// `{"requesters": […]}`, in the requester shape, paged like every list.
    pub(super) fn list_requester_group_members(&self, request: &ApiRequest, id: &str) -> Handled {
        let state = self.state();
        let group = state.requester_group(id)?;
        let items: Vec<Value> =
            group.members.iter().filter_map(|m| state.users.get(m)).map(|u| state.render_requester(u)).collect();
        drop(state);
        self.page(request, items, "requesters")
    }

    /// `201` with no body; `409` when the requester already is a member; `404` for an unknown
    /// group or requester (an agent is not a requester).
    pub(super) fn add_requester_group_member(&self, id: &str, requester: &str) -> Handled {
        let mut state = self.state();
        let requester = state.get(Kind::Requester, requester)?.id;
        let group_id = state.requester_group(id)?.named.id;
        let group =
            state.requester_groups.iter_mut().find(|g| g.named.id == group_id).ok_or_else(FsError::not_found)?;
        if !group.members.insert(requester) {
            return Err(FsError::Validation(
                StatusCode::CONFLICT,
                vec![field_error("requester_id", "The requester is already a member of this group", "duplicate_value")],
            ));
        }
        Ok(ApiResponse::empty(StatusCode::CREATED))
    }

    /// `204`; `404` when the group is unknown or the user is not a member.
    pub(super) fn remove_requester_group_member(&self, id: &str, requester: &str) -> Handled {
        let mut state = self.state();
        let group_id = state.requester_group(id)?.named.id;
        let requester = parse_id(requester)?;
        let group =
            state.requester_groups.iter_mut().find(|g| g.named.id == group_id).ok_or_else(FsError::not_found)?;
        if !group.members.remove(&requester) {
            return Err(FsError::not_found());
        }
        Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
    }

    pub(super) fn list_agent_groups(&self, request: &ApiRequest) -> Handled {
        let state = self.state();
        let items: Vec<Value> = state.agent_groups.iter().map(|g| state.render_agent_group(g)).collect();
        drop(state);
        self.page(request, items, "groups")
    }

    pub(super) fn show_agent_group(&self, id: &str) -> Handled {
        let id = parse_id(id)?;
        let state = self.state();
        let group = state.agent_groups.iter().find(|g| g.id == id).ok_or_else(FsError::not_found)?;
        Ok(ApiResponse::json(StatusCode::OK, JSON, &json!({ "group": state.render_agent_group(group) })))
    }
}
