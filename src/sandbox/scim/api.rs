//! The SCIM side's HTTP API: bearer authorisation, routing under `/scim/v2`, discovery, the
//! `/Users` handlers (ETags and `If-Match`, list paging, projection) and SCIM error bodies, each
//! as the server profile plays it.

use std::sync::{Mutex, MutexGuard, PoisonError};

use hyper::header::{AUTHORIZATION, ETAG, IF_MATCH, IF_NONE_MATCH, LOCATION, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::discovery::{self, Describe, Document};
use super::error::ScimError;
use super::filter::{self, Filter};
use super::groups::{GroupStore, Scope};
use super::patch;
use super::profile::{Discovery, FilterMode, ScimProfile};
use super::schema::{self, get_ci};
use super::store::{ScimState, ScimUser};
use crate::sandbox::server::{Api, ApiRequest, ApiResponse, constant_time_eq};

const SCIM_JSON: &str = "application/scim+json";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(super) const BASE_PATH: &str = "/scim/v2";

/// The API behind the server: the token, the profile, the page cap, the base URL for links, and
/// the store.
pub(super) struct ScimApi {
    pub(super) token: String,
    pub(super) profile: ScimProfile,
    pub(super) max_results: usize,
    /// The base URL, for `Location` and `meta.location`.
    pub(super) base_url: String,
    pub(super) state: Mutex<ScimState>,
    /// The groups (`group_api`); locked after `state` when both are needed.
    pub(super) groups: Mutex<GroupStore>,
}

fn error_response(error: &ScimError) -> ApiResponse {
    let mut body = json!({ "schemas": [ERROR_SCHEMA], "status": error.status.to_string(), "detail": error.detail });
    if let (Some(scim_type), Value::Object(map)) = (error.scim_type, &mut body) {
        map.insert("scimType".into(), Value::from(scim_type));
    }
    let status = StatusCode::from_u16(error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    ApiResponse::json(status, SCIM_JSON, &body)
}

type Handled = Result<ApiResponse, ScimError>;

fn method_not_allowed() -> ScimError {
    ScimError::new(405, None, "Method not allowed")
}

fn not_an_integer(name: &str) -> ScimError {
    ScimError::bad_request("invalidValue", format!("Input should be a valid integer: {name}"))
}

/// A list query, from the URL (`GET /Users`) or a SearchRequest body (`POST …/.search`).
struct ListQuery {
    filter: Option<String>,
    start_index: Option<i64>,
    count: Option<i64>,
    attributes: Option<String>,
    excluded: Option<String>,
}

impl ScimApi {
    pub(super) fn state(&self) -> MutexGuard<'_, ScimState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn authorised(&self, request: &ApiRequest) -> bool {
        let Some(value) = request.header(AUTHORIZATION) else { return false };
        let Some((scheme, token)) = value.split_once(' ') else { return false };
        scheme.eq_ignore_ascii_case("bearer") && constant_time_eq(token.trim().as_bytes(), self.token.as_bytes())
    }

    fn route(&self, request: &ApiRequest) -> Handled {
        let Some(segments) = request.segments(BASE_PATH) else {
            return Err(ScimError::new(404, None, "Not found"));
        };
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let discovery = matches!(segments.first(), Some(&("ServiceProviderConfig" | "ResourceTypes" | "Schemas")));
        if discovery && self.profile.discovery() == Discovery::Absent {
            return Err(ScimError::new(404, None, "Not found"));
        }
        // `/ServiceProviderConfig` is public, as in scim2-server; everything else needs the token.
        if segments.as_slice() != ["ServiceProviderConfig"] && !self.authorised(request) {
            let error =
                ScimError::new(401, None, "Authorization failure. The authorization header is invalid or missing");
            return Ok(error_response(&error).with_header(WWW_AUTHENTICATE, "Bearer realm=\"SCIM\""));
        }
        if discovery {
            return self.discovery(request, &segments);
        }
        match (&request.method, segments.as_slice()) {
            (&Method::GET, ["Users"]) => self.list(request, Scope::Users),
            (&Method::POST, ["Users", ".search"]) => self.search(request, Scope::Users),
            (&Method::POST, [".search"]) => self.search(request, Scope::All),
            (_, ["Groups", ..]) => self.route_groups(request, &segments),
            (&Method::POST, ["Users"]) => self.create(request),
            (&Method::GET, ["Users", id]) => self.get(request, id),
            (&Method::PUT, ["Users", id]) => self.replace(request, id),
            (&Method::PATCH, ["Users", _]) if !self.profile.patch() => {
                Err(ScimError::new(501, None, "PATCH is not supported by this service provider"))
            }
            (&Method::PATCH, ["Users", id]) => self.patch(request, id),
            (&Method::DELETE, ["Users", id]) => self.delete(request, id),
            (_, ["Users"] | ["Users", _]) => Err(method_not_allowed()),
            _ => Err(ScimError::new(404, None, "Not found")),
        }
    }

    /// The discovery endpoints: read-only (`405` for any other method), `404` for an unknown id.
    fn discovery(&self, request: &ApiRequest, segments: &[&str]) -> Handled {
        if request.method != Method::GET {
            return Err(method_not_allowed());
        }
        let describe = Describe { profile: self.profile, base_url: &self.base_url, page_size: self.max_results };
        let garbage = self.profile.discovery() == Discovery::Garbage;
        let body = match segments {
            ["ServiceProviderConfig"] if garbage => discovery::garbage(Document::Config),
            ["ResourceTypes"] if garbage => discovery::garbage(Document::ResourceTypes),
            ["Schemas"] if garbage => discovery::garbage(Document::Schemas),
            [_, _] if garbage => discovery::garbage(Document::One),
            ["ServiceProviderConfig"] => describe.service_provider_config(),
            ["ResourceTypes"] => describe.resource_types(),
            ["Schemas"] => describe.all_schemas(),
            ["ResourceTypes", id] => describe
                .resource_type(id)
                .ok_or_else(|| ScimError::new(404, None, format!("Resource type '{id}' not found")))?,
            ["Schemas", id] => describe
                .schema_by_id(id)
                .ok_or_else(|| ScimError::new(404, None, format!("Schema '{id}' not found")))?,
            _ => return Err(ScimError::new(404, None, "Not found")),
        };
        Ok(ApiResponse::json(StatusCode::OK, SCIM_JSON, &body))
    }

    pub(super) fn json_body(request: &ApiRequest) -> Result<Value, ScimError> {
        if !request.has_content_type(&[SCIM_JSON, "application/json"]) {
            return Err(ScimError::new(415, None, "The request body must be application/scim+json"));
        }
        serde_json::from_slice(&request.body)
            .map_err(|e| ScimError::bad_request("invalidSyntax", format!("Invalid JSON: {e}")))
    }

    fn resource_response(&self, status: StatusCode, user: &ScimUser, request: &ApiRequest) -> ApiResponse {
        let base_url = self.base_url.as_str();
        let body = schema::project(
            self.with_groups(user.render(base_url, self.profile.etag())),
            request.query_param("attributes").as_deref(),
            request.query_param("excludedAttributes").as_deref(),
        );
        let response =
            ApiResponse::json(status, SCIM_JSON, &Value::Object(body)).with_header(LOCATION, user.location(base_url));
        self.with_etag(response, user)
    }

    /// The `ETag` header, when the profile has ETags.
    fn with_etag(&self, response: ApiResponse, user: &ScimUser) -> ApiResponse {
        if self.profile.etag() { response.with_header(ETAG, user.etag()) } else { response }
    }

    /// `If-Match` on writes: `412` when the client's version is stale (ignored without ETags).
    fn check_if_match(&self, request: &ApiRequest, user: &ScimUser) -> Result<(), ScimError> {
        if !self.profile.etag() {
            return Ok(());
        }
        match request.header(IF_MATCH) {
            Some(tags) if !tags.split(',').any(|t| t.trim() == "*" || t.trim() == user.etag()) => {
                Err(ScimError::new(412, None, "The resource version does not match If-Match"))
            }
            _ => Ok(()),
        }
    }

    /// `GET /Users` or `GET /Groups`: the query from the URL.
    pub(super) fn list(&self, request: &ApiRequest, scope: Scope) -> Handled {
        let integer = |name: &str| -> Result<Option<i64>, ScimError> {
            match request.query_param(name) {
                None => Ok(None),
                Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| not_an_integer(name)),
            }
        };
        let query = ListQuery {
            filter: request.query_param("filter"),
            start_index: integer("startIndex")?,
            count: integer("count")?,
            attributes: request.query_param("attributes"),
            excluded: request.query_param("excludedAttributes"),
        };
        self.answer_list(query, scope)
    }

    /// `POST /Users/.search`, `POST /Groups/.search` and `POST /.search` (RFC 7644 §3.4.3): the
    /// query from a SearchRequest body, over the users, the groups, or both (users first).
    pub(super) fn search(&self, request: &ApiRequest, scope: Scope) -> Handled {
        let body = Self::json_body(request)?;
        let Value::Object(body) = body else {
            return Err(ScimError::bad_request("invalidSyntax", "The SearchRequest must be a JSON object"));
        };
        let integer = |name: &str| -> Result<Option<i64>, ScimError> {
            match get_ci(&body, name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => v.as_i64().map(Some).ok_or_else(|| not_an_integer(name)),
            }
        };
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match get_ci(&body, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                // `attributes` and `excludedAttributes` are arrays of names in a SearchRequest.
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                    Ok(Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")))
                }
                Some(_) => Err(ScimError::bad_request("invalidValue", format!("'{name}' has the wrong type"))),
            }
        };
        let query = ListQuery {
            filter: text("filter")?,
            start_index: integer("startIndex")?,
            count: integer("count")?,
            attributes: text("attributes")?,
            excluded: text("excludedAttributes")?,
        };
        self.answer_list(query, scope)
    }

    fn answer_list(&self, query: ListQuery, scope: Scope) -> Handled {
        // RFC 7644 §3.4.2.4: startIndex below 1 means 1, a negative count means 0.
        let start_index = query.start_index.unwrap_or(1).max(1);
        let count = query
            .count
            .map(|c| c.max(0))
            .map_or(self.max_results, |c| (c as u64).min(self.max_results as u64) as usize);
        let filter: Option<Filter> = match (query.filter, self.profile.filter()) {
            (Some(f), FilterMode::Applied) if !f.trim().is_empty() => Some(filter::parse_filter(&f)?),
            (Some(_), FilterMode::Refused) => {
                return Err(ScimError::bad_request("invalidFilter", "Filtering is not supported"));
            }
            _ => None,
        };
        let base_url = self.base_url.as_str();
        let etags = self.profile.etag();
        let state = self.state();
        // Filtered before rendering, and only the requested page is rendered.
        let skip = usize::try_from(start_index - 1).unwrap_or(usize::MAX);
        let rules = state.rules;
        let render = |u: &ScimUser| self.with_groups(u.render(base_url, etags));
        let mut total = 0;
        let mut page = Vec::new();
        let mut keep = |rendered: &dyn Fn() -> Map<String, Value>| {
            if total >= skip && page.len() < count {
                page.push(Value::Object(schema::project(
                    rendered(),
                    query.attributes.as_deref(),
                    query.excluded.as_deref(),
                )));
            }
            total += 1;
        };
        if scope.users() {
            for user in state.matching(filter.as_ref(), render) {
                keep(&|| render(user));
            }
        }
        drop(state);
        if scope.groups() {
            for group in self.rendered_groups() {
                if filter.as_ref().is_none_or(|f| f.matches(&group, rules)) {
                    keep(&|| group.clone());
                }
            }
        }
        let body = json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": page.len(),
            "Resources": page,
        });
        Ok(ApiResponse::json(StatusCode::OK, SCIM_JSON, &body))
    }

    fn create(&self, request: &ApiRequest) -> Handled {
        let body = Self::json_body(request)?;
        let mut state = self.state();
        let rules = state.rules;
        let user = state.create(body, rules)?;
        Ok(self.resource_response(StatusCode::CREATED, user, request))
    }

    fn get(&self, request: &ApiRequest, id: &str) -> Handled {
        let state = self.state();
        let user = &state.users[state.position(id)?];
        let cached = request.header(IF_NONE_MATCH).is_some_and(|tags| tags.split(',').any(|t| t.trim() == user.etag()));
        if cached && self.profile.etag() {
            return Ok(ApiResponse::empty(StatusCode::NOT_MODIFIED).with_header(ETAG, user.etag()));
        }
        Ok(self.resource_response(StatusCode::OK, user, request))
    }

    fn replace(&self, request: &ApiRequest, id: &str) -> Handled {
        let body = Self::json_body(request)?;
        let mut state = self.state();
        let index = state.position(id)?;
        self.check_if_match(request, &state.users[index])?;
        let rules = state.rules;
        let stored_external_id = state.users[index].attributes.get("externalId").cloned();
        if rules.external_id_read_only {
            // A read-only attribute may be repeated in a PUT, not changed (RFC 7644 §3.5.1).
            let sent = body.as_object().and_then(|b| get_ci(b, "externalId")).filter(|v| !v.is_null());
            if sent.is_some_and(|sent| Some(sent) != stored_external_id.as_ref()) {
                return Err(ScimError::bad_request("mutability", "'externalId' is read-only"));
            }
        }
        let mut attributes = schema::normalise_resource(body, rules)?;
        if let (true, Some(external_id)) = (rules.external_id_read_only, stored_external_id) {
            attributes.insert("externalId".into(), external_id);
        }
        state.check_unique(&attributes, Some(id))?;
        state.commit(index, attributes);
        Ok(self.resource_response(StatusCode::OK, &state.users[index], request))
    }

    fn patch(&self, request: &ApiRequest, id: &str) -> Handled {
        let body = Self::json_body(request)?;
        let mut state = self.state();
        let index = state.position(id)?;
        self.check_if_match(request, &state.users[index])?;
        let patched = patch::apply_patch(&state.users[index].attributes, &body, state.rules)?;
        state.check_unique(&patched, Some(id))?;
        state.commit(index, patched);
        // Like scim2-server: no body unless the client asks for attributes.
        if request.query_param("attributes").is_some() || request.query_param("excludedAttributes").is_some() {
            return Ok(self.resource_response(StatusCode::OK, &state.users[index], request));
        }
        Ok(self.with_etag(ApiResponse::empty(StatusCode::NO_CONTENT), &state.users[index]))
    }

    fn delete(&self, request: &ApiRequest, id: &str) -> Handled {
        let mut state = self.state();
        let index = state.position(id)?;
        self.check_if_match(request, &state.users[index])?;
        state.remove(index);
        self.groups().forget_member(id);
        Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
    }
}

impl Api for ScimApi {
    fn handle(&self, request: &ApiRequest) -> ApiResponse {
        self.route(request).unwrap_or_else(|error| error_response(&error))
    }

    fn too_many_requests(&self, retry_after_secs: u64) -> ApiResponse {
        error_response(&ScimError::new(429, None, format!("Too many requests; retry after {retry_after_secs} s")))
    }

    fn payload_too_large(&self) -> ApiResponse {
        error_response(&ScimError::new(413, None, "The request body is too large"))
    }
}
