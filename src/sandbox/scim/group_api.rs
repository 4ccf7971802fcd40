//! The `/Groups` handlers of the SCIM side, the Group resource type for discovery, the users'
//! read-only `groups` attribute, and the sandbox's group accessors for tests.
//!
//! Locks are always taken users first, then groups (never the other way round), so handlers that
//! need both cannot deadlock.

use std::sync::{MutexGuard, PoisonError};

use hyper::header::{ETAG, IF_MATCH, LOCATION};
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::ScimSandbox;
use super::api::ScimApi;
use super::discovery::Describe;
use super::error::ScimError;
use super::groups::{GroupStore, Scope, StoredGroup, normalise_group, patch_group};
use super::schema;
use super::store::ScimState;
use crate::sandbox::server::{ApiRequest, ApiResponse};
use crate::scim::groups::GROUP_SCHEMA;

const SCIM_JSON: &str = "application/scim+json";
const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";

type Handled = Result<ApiResponse, ScimError>;

/// Whether `id` names a stored user or group (a possible member).
fn exists(users: &ScimState, groups: &GroupStore, id: &str) -> bool {
    users.position(id).is_ok() || groups.position(id).is_ok()
}

impl ScimApi {
    pub(super) fn groups(&self) -> MutexGuard<'_, GroupStore> {
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every group rendered, oldest first (for lists; hold the users' lock first if at all).
    pub(super) fn rendered_groups(&self) -> Vec<Map<String, Value>> {
        self.groups().groups.iter().map(|g| g.render(&self.base_url, self.profile.etag())).collect()
    }

    /// A rendered user with its read-only `groups` (the groups that list it), when it has any.
    pub(super) fn with_groups(&self, mut user: Map<String, Value>) -> Map<String, Value> {
        let id = user.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
        let groups = self.groups().groups_of(&id, &self.base_url);
        if !groups.is_empty() {
            user.insert("groups".into(), Value::Array(groups));
        }
        user
    }

    /// `/Groups` and `/Groups/{id}`.
    pub(super) fn route_groups(&self, request: &ApiRequest, segments: &[&str]) -> Handled {
        match (&request.method, segments) {
            (&Method::GET, ["Groups"]) => self.list(request, Scope::Groups),
            (&Method::POST, ["Groups", ".search"]) => self.search(request, Scope::Groups),
            (&Method::POST, ["Groups"]) => self.create_group(request),
            (&Method::GET, ["Groups", id]) => self.get_group(request, id),
            (&Method::PUT, ["Groups", id]) => self.replace_group(request, id),
            (&Method::PATCH, ["Groups", _]) if !self.profile.patch() => {
                Err(ScimError::new(501, None, "PATCH is not supported by this service provider"))
            }
            (&Method::PATCH, ["Groups", id]) => self.patch_group(request, id),
            (&Method::DELETE, ["Groups", id]) => self.delete_group(request, id),
            (_, ["Groups"] | ["Groups", _]) => Err(ScimError::new(405, None, "Method not allowed")),
            _ => Err(ScimError::new(404, None, "Not found")),
        }
    }

    fn group_response(&self, status: StatusCode, group: &StoredGroup, request: &ApiRequest) -> ApiResponse {
        let body = schema::project(
            group.render(&self.base_url, self.profile.etag()),
            request.query_param("attributes").as_deref(),
            request.query_param("excludedAttributes").as_deref(),
        );
        let response = ApiResponse::json(status, SCIM_JSON, &Value::Object(body))
            .with_header(LOCATION, group.location(&self.base_url));
        if self.profile.etag() { response.with_header(ETAG, group.etag()) } else { response }
    }

    /// `If-Match` on writes: `412` when the client's version is stale (ignored without ETags).
    fn check_group_if_match(&self, request: &ApiRequest, group: &StoredGroup) -> Result<(), ScimError> {
        match request.header(IF_MATCH) {
            Some(tags)
                if self.profile.etag() && !tags.split(',').any(|t| t.trim() == "*" || t.trim() == group.etag()) =>
            {
                Err(ScimError::new(412, None, "The resource version does not match If-Match"))
            }
            _ => Ok(()),
        }
    }

    fn create_group(&self, request: &ApiRequest) -> Handled {
        let body = Self::json_body(request)?;
        let users = self.state();
        let mut groups = self.groups();
        let attributes = normalise_group(body, &|id| exists(&users, &groups, id))?;
        let group = groups.create(attributes);
        Ok(self.group_response(StatusCode::CREATED, group, request))
    }

    fn get_group(&self, request: &ApiRequest, id: &str) -> Handled {
        let groups = self.groups();
        let group = &groups.groups[groups.position(id)?];
        Ok(self.group_response(StatusCode::OK, group, request))
    }

    fn replace_group(&self, request: &ApiRequest, id: &str) -> Handled {
        let body = Self::json_body(request)?;
        let users = self.state();
        let mut groups = self.groups();
        let index = groups.position(id)?;
        self.check_group_if_match(request, &groups.groups[index])?;
        let attributes = normalise_group(body, &|member| member != id && exists(&users, &groups, member))?;
        groups.commit(index, attributes);
        Ok(self.group_response(StatusCode::OK, &groups.groups[index], request))
    }

    fn patch_group(&self, request: &ApiRequest, id: &str) -> Handled {
        let body = Self::json_body(request)?;
        let users = self.state();
        let rules = users.rules;
        let mut groups = self.groups();
        let index = groups.position(id)?;
        self.check_group_if_match(request, &groups.groups[index])?;
        let patched = patch_group(&groups.groups[index].attributes, &body, rules, &|member| {
            member != id && exists(&users, &groups, member)
        })?;
        groups.commit(index, patched);
        // Like the users: no body unless the client asks for attributes.
        if request.query_param("attributes").is_some() || request.query_param("excludedAttributes").is_some() {
            return Ok(self.group_response(StatusCode::OK, &groups.groups[index], request));
        }
        let response = ApiResponse::empty(StatusCode::NO_CONTENT);
        Ok(if self.profile.etag() { response.with_header(ETAG, groups.groups[index].etag()) } else { response })
    }

    fn delete_group(&self, request: &ApiRequest, id: &str) -> Handled {
        let mut groups = self.groups();
        let index = groups.position(id)?;
        self.check_group_if_match(request, &groups.groups[index])?;
        groups.groups.remove(index);
        groups.forget_member(id);
        Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
    }
}

impl Describe<'_> {
    /// The Group resource type.
    pub(super) fn group_resource_type(&self) -> Value {
        json!({
            "schemas": [RESOURCE_TYPE_SCHEMA],
            "id": "Group",
            "name": "Group",
            "description": "Group",
            "endpoint": "/Groups",
            "schema": GROUP_SCHEMA,
            "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": format!("{}/ResourceTypes/Group", self.base_url) },
        })
    }
}

impl ScimSandbox {
    /// The number of stored groups.
    pub fn group_count(&self) -> usize {
        self.shared.api.groups().groups.len()
    }

    /// Every stored group as `GET /Groups/{id}` returns it (members included), oldest first.
    pub fn groups(&self) -> Vec<Value> {
        self.shared.api.rendered_groups().into_iter().map(Value::Object).collect()
    }

    /// The stored groups whose `displayName` is `name` (case-insensitive, as the server compares).
    pub fn groups_named(&self, name: &str) -> Vec<Value> {
        let wanted = name.to_lowercase();
        self.groups()
            .into_iter()
            .filter(|g| g.get("displayName").and_then(Value::as_str).is_some_and(|n| n.to_lowercase() == wanted))
            .collect()
    }

    /// The member ids of the stored group with this id, in the order they were added.
    pub fn group_members(&self, id: &str) -> Option<Vec<String>> {
        let groups = self.shared.api.groups();
        let group = groups.groups.iter().find(|g| g.id == id)?;
        Some(group.member_ids().map(str::to_string).collect())
    }

    /// Stores a group directly (as if created earlier by someone else) and returns it as the
    /// server renders it. The body is checked like a `POST /Groups` body.
    pub fn insert_group(&self, body: Value) -> Result<Value, String> {
        let api = &self.shared.api;
        let users = api.state();
        let mut groups = api.groups();
        let attributes = normalise_group(body, &|id| exists(&users, &groups, id)).map_err(|e| e.detail)?;
        let group = groups.create(attributes);
        Ok(Value::Object(group.render(&self.base_url, api.profile.etag())))
    }
}
