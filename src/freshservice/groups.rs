//! Freshservice's groups: requester groups (for requesters), agent groups as member or observer,
//! and agent roles (for agents), behind [`GroupConnector`].
//!
//! - Requester groups: `GET /requester_groups`, members through
//!   `GET /requester_groups/{id}/members`, `POST` / `DELETE /requester_groups/{id}/members/{requester_id}`.
//!   The API has no "groups of a requester" read and no member filter (the reference's §4.13
//!   lists only these three endpoints), so a requester's memberships cost the cached group list
//!   plus each group's member pages up to the one that lists them, each list read once per call
//!   and all together bounded by [`FreshserviceApiKey::with_scan_limit`].
//! - Agent groups and roles live on the agent: `GET /agents/{id}` reads `member_of`,
//!   `observer_of` and `roles`, and `PUT /agents/{id}` sends the whole changed list (the API
//!   replaces it) with `can_see_all_tickets_from_associated_departments` as read (the API resets
//!   it otherwise).
//!
//! Names are resolved to ids through the connector's cached lists (`/requester_groups`, `/groups`,
//! `/roles`), like departments and locations; ids are checked against the same lists, so an
//! unknown group is found out before anything is written.

use async_trait::async_trait;
use serde_json::{Map, Value, json};

use super::attributes::FreshserviceUserKind;
use super::connector::FreshserviceApiKey;
use super::names::GroupList;
use super::users::{AGENTS, kind_of, numeric_id};
use super::wire;
use crate::error::{Error, FieldError, Result};
use crate::group::{Group, GroupConnector, GroupId, GroupKey, GroupKind, GroupPage, GroupRef};
use crate::http::{Http, Request};
use crate::resource::{PageRequest, PageToken, RemoteUser};

const JSON: &str = "application/json";
/// The most entries one listing page may hold (`per_page`).
const MAX_PAGE_SIZE: u32 = 100;

/// Where one kind of group lives: its list, its collection path, and the agent field that holds
/// an agent's memberships of it.
struct Place {
    list: GroupList,
    segment: &'static str,
    template: &'static str,
    /// The attribute an ambiguous name is reported against.
    name_attribute: &'static str,
    agent_field: Option<&'static str>,
}

fn place(kind: GroupKind) -> Result<Place> {
    let (list, segment, template, name_attribute, agent_field) = match kind {
        GroupKind::RequesterGroup => {
            (GroupList::RequesterGroups, "requester_groups", "/requester_groups", "requester group name", None)
        }
        GroupKind::AgentGroup => (GroupList::AgentGroups, "groups", "/groups", "agent group name", Some("member_of")),
        GroupKind::AgentGroupObserver => {
            (GroupList::AgentGroups, "groups", "/groups", "agent group name", Some("observer_of"))
        }
        GroupKind::AgentRole => (GroupList::Roles, "roles", "/roles", "agent role name", Some("roles")),
        other => {
            return Err(Error::invalid_input(
                format!(
                    "Freshservice has no {other}s: name a requester group, an agent group (as member or observer) \
                     or an agent role"
                ),
                vec![FieldError::new("kind", "not a Freshservice group kind")],
            ));
        }
    };
    Ok(Place { list, segment, template, name_attribute, agent_field })
}

/// A Freshservice group id: ASCII digits only, like a user id.
fn numeric_group_id(id: &GroupId) -> Result<u64> {
    let digits = id.as_str();
    let parsed = if digits.bytes().all(|b| b.is_ascii_digit()) { digits.parse::<u64>().ok() } else { None };
    parsed.ok_or_else(|| {
        Error::invalid_input(
            "a Freshservice group or role id is a number",
            vec![FieldError::new("group", "must be the numeric Freshservice id")],
        )
    })
}

/// The ids in an agent record's `member_of` / `observer_of`, or the role ids of its `roles`.
fn agent_ids(record: &Map<String, Value>, field: &str) -> Vec<u64> {
    let Some(Value::Array(items)) = record.get(field) else { return Vec::new() };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Object(role) => role.get("role_id").and_then(wire::id_value),
            other => wire::id_value(other),
        })
        .collect()
}

impl FreshserviceApiKey {
    fn person_kind(member: &RemoteUser) -> FreshserviceUserKind {
        kind_of(member).unwrap_or_default()
    }

    /// A validation error unless `member` is the kind of user `kind` of group holds.
    fn check_member_kind(kind: GroupKind, member: &RemoteUser) -> Result<()> {
        let needs = if kind == GroupKind::RequesterGroup {
            FreshserviceUserKind::Requester
        } else {
            FreshserviceUserKind::Agent
        };
        if Self::person_kind(member) == needs {
            return Ok(());
        }
        let (holds, person) = match needs {
            FreshserviceUserKind::Agent => ("agents", "a requester"),
            _ => ("requesters", "an agent"),
        };
        Err(Error::invalid_input(
            format!("a Freshservice {kind} holds {holds}, and this user is {person}"),
            vec![FieldError::new("group", format!("{kind}s hold {holds} only"))],
        ))
    }

    fn group(kind: GroupKind, id: u64, name: Option<String>) -> Group {
        Group::new(kind, GroupId::new(id.to_string()), name.unwrap_or_else(|| id.to_string()))
    }

    /// The agent record of `member`, read now (memberships change between calls).
    async fn agent_record(&self, http: &Http, member: &RemoteUser) -> Result<Map<String, Value>> {
        let id = numeric_id(&member.id)?;
        let url = http.endpoint(&[AGENTS.segment, &id.to_string()])?;
        let response = http.send(Request::get(url, AGENTS.item)).await?;
        wire::one(&response, AGENTS.envelope)
    }

    /// Sends `PUT /agents/{id}` with one changed membership list.
    async fn put_agent(
        &self,
        http: &Http,
        member: &RemoteUser,
        field: &str,
        value: Value,
        record: &Map<String, Value>,
    ) -> Result<()> {
        let id = numeric_id(&member.id)?;
        let mut body = Map::new();
        body.insert(field.to_string(), value);
        // Freshservice resets the flag to false on a PUT that omits it: send it as read.
        let flag = record.get("can_see_all_tickets_from_associated_departments").and_then(Value::as_bool);
        body.insert("can_see_all_tickets_from_associated_departments".into(), json!(flag.unwrap_or(false)));
        let url = http.endpoint(&[AGENTS.segment, &id.to_string()])?;
        http.send(Request::put(url, AGENTS.item).json(JSON, &body)?).await.map(drop)
    }

    /// Whether requester `member` is in requester group `group`, paging through its members
    /// (`GET /requester_groups/{id}/members?per_page=100&page=…`) until one lists them. Each page
    /// read spends one of `budget`; an empty budget is [`Error::LookupIncomplete`].
    async fn requester_group_has(&self, http: &Http, group: u64, member: u64, budget: &mut u32) -> Result<bool> {
        let mut page = 1;
        loop {
            if *budget == 0 {
                return Err(Error::LookupIncomplete {
                    attribute: "requester group members",
                    pages: self.member_scan_limit,
                });
            }
            *budget -= 1;
            let mut url = http.endpoint(&["requester_groups", &group.to_string(), "members"])?;
            url.query_pairs_mut().append_pair("per_page", "100").append_pair("page", &page.to_string());
            let response = http.send(Request::get(url.clone(), "/requester_groups/{id}/members")).await?;
            let members = wire::many(&response, "requesters", "members")?;
            if members.iter().any(|m| wire::record_id(m) == Some(member)) {
                return Ok(true);
            }
            match wire::next_page(&response, &url, page)? {
                Some(next) => page = next,
                None => return Ok(false),
            }
        }
    }
}

#[async_trait]
impl GroupConnector for FreshserviceApiKey {
    /// Requester groups for requesters, agent groups (as member) for agents; without a person, by
    /// the connector's [default kind](FreshserviceApiKey::with_default_kind).
    fn default_kind(&self, member: Option<&RemoteUser>) -> GroupKind {
        let kind = member.map(Self::person_kind).unwrap_or(self.default_kind);
        match kind {
            FreshserviceUserKind::Agent => GroupKind::AgentGroup,
            _ => GroupKind::RequesterGroup,
        }
    }

    /// Requester groups for requesters; agent groups as member and as observer, and roles, for
    /// agents.
    fn member_kinds(&self, member: &RemoteUser) -> Vec<GroupKind> {
        match Self::person_kind(member) {
            FreshserviceUserKind::Agent => {
                vec![GroupKind::AgentGroup, GroupKind::AgentGroupObserver, GroupKind::AgentRole]
            }
            _ => vec![GroupKind::RequesterGroup],
        }
    }

    /// A Freshservice kind of group, and a numeric id.
    fn check_group_ref(&self, group: &GroupRef) -> Result<()> {
        if let Some(kind) = group.kind() {
            place(kind)?;
        }
        match group.key() {
            GroupKey::Id(id) => numeric_group_id(id).map(drop),
            GroupKey::Name(_) => Ok(()),
        }
    }

    async fn find_group(&self, http: &Http, group: &GroupRef) -> Result<Option<Group>> {
        let kind = group.kind().unwrap_or_else(|| self.default_kind(None));
        let place = place(kind)?;
        match group.key() {
            GroupKey::Name(name) => {
                let Some(id) = self.names.group_id(http, place.list, place.name_attribute, name).await? else {
                    return Ok(None);
                };
                let canonical = self.names.group_name(http, place.list, id).await?;
                Ok(Some(Self::group(kind, id, canonical)))
            }
            GroupKey::Id(id) => {
                let id = numeric_group_id(id)?;
                let name = self.names.group_name(http, place.list, id).await?;
                Ok(name.map(|name| Self::group(kind, id, Some(name))))
            }
        }
    }

    /// `GET /requester_groups`, `/groups` or `/roles` with `per_page` (at most 100) and `page`.
    async fn list_groups(&self, http: &Http, kind: Option<GroupKind>, page: &PageRequest) -> Result<GroupPage> {
        let kind = kind.unwrap_or_else(|| self.default_kind(None));
        let place = place(kind)?;
        let number = match &page.token {
            None => 1,
            Some(token) => token.as_str().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Error::invalid_input(
                    "the page token is not one this connector produced",
                    vec![FieldError::new("token", "must be a page number")],
                )
            })?,
        };
        let mut url = http.endpoint(&[place.segment])?;
        url.query_pairs_mut()
            .append_pair("per_page", &page.size.clamp(1, MAX_PAGE_SIZE).to_string())
            .append_pair("page", &number.to_string());
        let response = http.send(Request::get(url.clone(), place.template)).await?;
        let next = wire::next_page(&response, &url, number)?;
        let singular = place.segment.trim_end_matches('s');
        let records = wire::many(&response, place.segment, singular)?;
        let groups = wire::named_entries(records).into_iter().map(|e| Self::group(kind, e.id, Some(e.name))).collect();
        Ok(GroupPage::new(groups, next.map(|n| PageToken::new(n.to_string()))))
    }

    /// Agents: one `GET /agents/{id}`. Requesters: every requester group's member list (the API
    /// has no "groups of a requester" read, nor a member filter), one group at a time, each read
    /// only up to the page that lists the person, so each list is read at most once per call:
    /// the cached `/requester_groups` list plus at most Σ ⌈members / 100⌉ pages, bounded over all
    /// groups by [`with_scan_limit`](FreshserviceApiKey::with_scan_limit).
    async fn memberships(&self, http: &Http, member: &RemoteUser) -> Result<Vec<Group>> {
        let mut groups = Vec::new();
        if Self::person_kind(member) == FreshserviceUserKind::Agent {
            let record = self.agent_record(http, member).await?;
            for kind in [GroupKind::AgentGroup, GroupKind::AgentGroupObserver, GroupKind::AgentRole] {
                let place = place(kind)?;
                for id in agent_ids(&record, place.agent_field.unwrap_or_default()) {
                    groups.push(Self::group(kind, id, self.names.group_name(http, place.list, id).await?));
                }
            }
            return Ok(groups);
        }
        let person = numeric_id(&member.id)?;
        let all = self.names.groups(http, GroupList::RequesterGroups).await?;
        let mut budget = self.member_scan_limit;
        for entry in all.entries() {
            if self.requester_group_has(http, entry.id, person, &mut budget).await? {
                groups.push(Self::group(GroupKind::RequesterGroup, entry.id, Some(entry.name.clone())));
            }
        }
        Ok(groups)
    }

    async fn is_member(&self, http: &Http, group: &Group, member: &RemoteUser) -> Result<bool> {
        let place = place(group.kind)?;
        let id = numeric_group_id(&group.id)?;
        if Self::check_member_kind(group.kind, member).is_err() {
            return Ok(false);
        }
        match place.agent_field {
            None => {
                let mut budget = self.member_scan_limit;
                self.requester_group_has(http, id, numeric_id(&member.id)?, &mut budget).await
            }
            Some(field) => Ok(agent_ids(&self.agent_record(http, member).await?, field).contains(&id)),
        }
    }

    /// Requester groups: `POST /requester_groups/{id}/members/{requester_id}` (a conflict, "already
    /// a member", counts as done). Agent groups and roles: `PUT /agents/{id}` with the list grown
    /// by the group (a role is granted with the connector's
    /// [role scope](FreshserviceApiKey::with_granted_role_scope)); nothing is sent when the agent
    /// already has it.
    async fn add_member(&self, http: &Http, group: &Group, member: &RemoteUser) -> Result<()> {
        let place = place(group.kind)?;
        let id = numeric_group_id(&group.id)?;
        Self::check_member_kind(group.kind, member)?;
        let Some(field) = place.agent_field else {
            let person = numeric_id(&member.id)?.to_string();
            let url = http.endpoint(&["requester_groups", &id.to_string(), "members", &person])?;
            return match http.send(Request::post(url, "/requester_groups/{id}/members/{requester_id}")).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_conflict() => Ok(()),
                Err(e) => Err(e),
            };
        };
        let record = self.agent_record(http, member).await?;
        if agent_ids(&record, field).contains(&id) {
            return Ok(());
        }
        let mut items = match record.get(field) {
            Some(Value::Array(items)) => items.clone(),
            _ => Vec::new(),
        };
        items.push(if group.kind == GroupKind::AgentRole {
            json!({"role_id": id, "assignment_scope": self.granted_role_scope})
        } else {
            json!(id)
        });
        self.put_agent(http, member, field, Value::Array(items), &record).await
    }

    /// Requester groups: `DELETE /requester_groups/{id}/members/{requester_id}` (a `404`, "not a
    /// member", counts as done: a retried delete meets one). Agent groups and roles:
    /// `PUT /agents/{id}` with the list less the group; nothing is sent when the agent does not
    /// have it, and an agent's last role is never removed (Freshservice needs one).
    async fn remove_member(&self, http: &Http, group: &Group, member: &RemoteUser) -> Result<()> {
        let place = place(group.kind)?;
        let id = numeric_group_id(&group.id)?;
        if Self::check_member_kind(group.kind, member).is_err() {
            return Ok(());
        }
        let Some(field) = place.agent_field else {
            let person = numeric_id(&member.id)?.to_string();
            let url = http.endpoint(&["requester_groups", &id.to_string(), "members", &person])?;
            return match http.send(Request::delete(url, "/requester_groups/{id}/members/{requester_id}")).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_not_found() => Ok(()),
                Err(e) => Err(e),
            };
        };
        let record = self.agent_record(http, member).await?;
        let ids = agent_ids(&record, field);
        if !ids.contains(&id) {
            return Ok(());
        }
        if group.kind == GroupKind::AgentRole && ids.iter().all(|r| *r == id) {
            return Err(Error::invalid_input(
                "a Freshservice agent needs at least one role; grant another role before revoking this one",
                vec![FieldError::new("roles", "the agent's last role cannot be removed")],
            ));
        }
        let items: Vec<Value> = match record.get(field) {
            Some(Value::Array(items)) => items
                .iter()
                .filter(|item| match item {
                    Value::Object(role) => role.get("role_id").and_then(wire::id_value) != Some(id),
                    other => wire::id_value(other) != Some(id),
                })
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        self.put_agent(http, member, field, Value::Array(items), &record).await
    }
}
