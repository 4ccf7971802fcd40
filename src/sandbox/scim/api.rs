//! The SCIM side's HTTP API: bearer authorisation, routing under `/scim/v2`, the `/Users`
//! handlers (ETags and `If-Match`, list paging, projection) and SCIM error bodies.

use std::sync::{Mutex, MutexGuard, PoisonError};

use hyper::header::{AUTHORIZATION, ETAG, IF_MATCH, IF_NONE_MATCH, LOCATION, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::error::ScimError;
use super::filter::{self, Filter};
use super::patch;
use super::schema;
use super::store::{ScimState, ScimUser};
use crate::sandbox::server::{Api, ApiRequest, ApiResponse, constant_time_eq};

const SCIM_JSON: &str = "application/scim+json";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub(super) const BASE_PATH: &str = "/scim/v2";

/// The API behind the server: the token, the page cap, the base URL for links, and the store.
pub(super) struct ScimApi {
    pub(super) token: String,
    pub(super) max_results: usize,
    /// The base URL, for `Location` and `meta.location`.
    pub(super) base_url: String,
    pub(super) state: Mutex<ScimState>,
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
        // Discovery is public, as in scim2-server; everything else needs the token.
        if let ["ServiceProviderConfig"] = segments.as_slice() {
            return match request.method {
                Method::GET => Ok(self.service_provider_config()),
                _ => Err(ScimError::new(405, None, "Method not allowed")),
            };
        }
        if !self.authorised(request) {
            let error =
                ScimError::new(401, None, "Authorization failure. The authorization header is invalid or missing");
            return Ok(error_response(&error).with_header(WWW_AUTHENTICATE, "Bearer realm=\"SCIM\""));
        }
        match (&request.method, segments.as_slice()) {
            (&Method::GET, ["Users"]) => self.list(request),
            (&Method::POST, ["Users"]) => self.create(request),
            (&Method::GET, ["Users", id]) => self.get(request, id),
            (&Method::PUT, ["Users", id]) => self.replace(request, id),
            (&Method::PATCH, ["Users", id]) => self.patch(request, id),
            (&Method::DELETE, ["Users", id]) => self.delete(request, id),
            (_, ["Users"] | ["Users", _]) => Err(ScimError::new(405, None, "Method not allowed")),
            _ => Err(ScimError::new(404, None, "Not found")),
        }
    }

    fn service_provider_config(&self) -> ApiResponse {
        let body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "meta": { "resourceType": "ServiceProviderConfig", "location": format!("{}/ServiceProviderConfig", self.base_url.as_str()) },
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": self.max_results },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": true },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "bearer_token",
                "description": "HTTP Bearer Token",
                "specUri": "https://datatracker.ietf.org/doc/html/rfc6750",
            }],
        });
        ApiResponse::json(StatusCode::OK, SCIM_JSON, &body)
    }

    fn json_body(request: &ApiRequest) -> Result<Value, ScimError> {
        if !request.has_content_type(&[SCIM_JSON, "application/json"]) {
            return Err(ScimError::new(415, None, "The request body must be application/scim+json"));
        }
        serde_json::from_slice(&request.body)
            .map_err(|e| ScimError::bad_request("invalidSyntax", format!("Invalid JSON: {e}")))
    }

    fn resource_response(&self, status: StatusCode, user: &ScimUser, request: &ApiRequest) -> ApiResponse {
        let base_url = self.base_url.as_str();
        let body = schema::project(
            user.render(base_url),
            request.query_param("attributes").as_deref(),
            request.query_param("excludedAttributes").as_deref(),
        );
        ApiResponse::json(status, SCIM_JSON, &Value::Object(body))
            .with_header(LOCATION, user.location(base_url))
            .with_header(ETAG, user.etag())
    }

    /// `If-Match` on writes: `412` when the client's version is stale.
    fn check_if_match(request: &ApiRequest, user: &ScimUser) -> Result<(), ScimError> {
        match request.header(IF_MATCH) {
            Some(tags) if !tags.split(',').any(|t| t.trim() == "*" || t.trim() == user.etag()) => {
                Err(ScimError::new(412, None, "The resource version does not match If-Match"))
            }
            _ => Ok(()),
        }
    }

    fn list(&self, request: &ApiRequest) -> Handled {
        let integer = |name: &str| -> Result<Option<i64>, ScimError> {
            match request.query_param(name) {
                None => Ok(None),
                Some(v) => v.trim().parse::<i64>().map(Some).map_err(|_| {
                    ScimError::bad_request("invalidValue", format!("Input should be a valid integer: {name}"))
                }),
            }
        };
        // RFC 7644 §3.4.2.4: startIndex below 1 means 1, a negative count means 0.
        let start_index = integer("startIndex")?.unwrap_or(1).max(1);
        let count = integer("count")?
            .map(|c| c.max(0))
            .map_or(self.max_results, |c| (c as u64).min(self.max_results as u64) as usize);
        let filter: Option<Filter> = match request.query_param("filter") {
            Some(f) if !f.trim().is_empty() => Some(filter::parse_filter(&f)?),
            _ => None,
        };
        let base_url = self.base_url.as_str();
        let state = self.state();
        let matching: Vec<Map<String, Value>> = state
            .users
            .iter()
            .map(|u| u.render(base_url))
            .filter(|rendered| filter.as_ref().is_none_or(|f| f.matches(rendered)))
            .collect();
        let total = matching.len();
        let attributes = request.query_param("attributes");
        let excluded = request.query_param("excludedAttributes");
        let page: Vec<Value> = matching
            .into_iter()
            .skip(usize::try_from(start_index - 1).unwrap_or(usize::MAX))
            .take(count)
            .map(|r| Value::Object(schema::project(r, attributes.as_deref(), excluded.as_deref())))
            .collect();
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
        let user = state.create(body)?;
        Ok(self.resource_response(StatusCode::CREATED, user, request))
    }

    fn get(&self, request: &ApiRequest, id: &str) -> Handled {
        let state = self.state();
        let user = &state.users[state.position(id)?];
        if request.header(IF_NONE_MATCH).is_some_and(|tags| tags.split(',').any(|t| t.trim() == user.etag())) {
            return Ok(ApiResponse::empty(StatusCode::NOT_MODIFIED).with_header(ETAG, user.etag()));
        }
        Ok(self.resource_response(StatusCode::OK, user, request))
    }

    fn replace(&self, request: &ApiRequest, id: &str) -> Handled {
        let body = Self::json_body(request)?;
        let mut state = self.state();
        let index = state.position(id)?;
        Self::check_if_match(request, &state.users[index])?;
        let attributes = schema::normalise_resource(body)?;
        state.check_unique(&attributes, Some(id))?;
        state.commit(index, attributes);
        Ok(self.resource_response(StatusCode::OK, &state.users[index], request))
    }

    fn patch(&self, request: &ApiRequest, id: &str) -> Handled {
        let body = Self::json_body(request)?;
        let mut state = self.state();
        let index = state.position(id)?;
        Self::check_if_match(request, &state.users[index])?;
        let patched = patch::apply_patch(&state.users[index].attributes, &body)?;
        state.check_unique(&patched, Some(id))?;
        state.commit(index, patched);
        // Like scim2-server: no body unless the client asks for attributes.
        if request.query_param("attributes").is_some() || request.query_param("excludedAttributes").is_some() {
            return Ok(self.resource_response(StatusCode::OK, &state.users[index], request));
        }
        Ok(ApiResponse::empty(StatusCode::NO_CONTENT).with_header(ETAG, state.users[index].etag()))
    }

    fn delete(&self, request: &ApiRequest, id: &str) -> Handled {
        let mut state = self.state();
        let index = state.position(id)?;
        Self::check_if_match(request, &state.users[index])?;
        state.users.remove(index);
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
