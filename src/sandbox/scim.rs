//! The SCIM side: an in-process Interact (SCIM 2.0 service provider) at `/scim/v2`.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use hyper::header::{AUTHORIZATION, ETAG, IF_MATCH, IF_NONE_MATCH, LOCATION, WWW_AUTHENTICATE};
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use super::gate::{Faults, Gate, RateLimit, RequestRecord, SandboxStats};
use super::rng::SplitMix64;
use super::scim_model::{self, EXTENSIONS, Filter, ScimError};
use super::server::{Api, ApiRequest, ApiResponse, Server, Shared, constant_time_eq, rfc3339};
use crate::{CORE_USER_SCHEMA, InteractBearer, ScimBearer};

const SCIM_JSON: &str = "application/scim+json";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const BASE_PATH: &str = "/scim/v2";
/// The most resources one list page returns, as advertised in `/ServiceProviderConfig`.
const DEFAULT_MAX_RESULTS: usize = 1000;

/// An in-process SCIM 2.0 service provider that plays Interact, for tests and demos.
///
/// It serves `http://127.0.0.1:<random port>/scim/v2` on the current tokio runtime until it is
/// dropped, keeps users in memory, and behaves like the `scim2-server` reference peer (see the
/// [module documentation](super) for the exact behaviour), plus Interact's user extension.
///
/// ```
/// use identity_connectors::sandbox::ScimSandbox;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let interact = ScimSandbox::start().await?;
/// assert!(interact.base_url().starts_with("http://127.0.0.1:"));
/// assert!(interact.base_url().ends_with("/scim/v2"));
/// assert_eq!(interact.user_count(), 0);
/// # Ok(()) }
/// ```
pub struct ScimSandbox {
    server: Server,
    shared: Arc<Shared<ScimApi>>,
    base_url: String,
}

/// Configures a [`ScimSandbox`] before it starts.
#[derive(Clone)]
#[must_use]
pub struct ScimSandboxBuilder {
    token: Option<String>,
    seed: u64,
    faults: Faults,
    rate_limit: Option<RateLimit>,
    max_results: usize,
    unique_user_names: bool,
}

impl ScimSandbox {
    /// Starts a sandbox with a generated token, no faults and no request budget.
    pub async fn start() -> io::Result<ScimSandbox> {
        ScimSandbox::builder().start().await
    }

    /// A builder for a sandbox with a chosen token, faults, budget or seed.
    pub fn builder() -> ScimSandboxBuilder {
        ScimSandboxBuilder {
            token: None,
            seed: 0x5EED,
            faults: Faults::none(),
            rate_limit: None,
            max_results: DEFAULT_MAX_RESULTS,
            unique_user_names: true,
        }
    }

    /// The SCIM base URL, `http://127.0.0.1:<port>/scim/v2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bearer token every endpoint but `/ServiceProviderConfig` requires.
    pub fn token(&self) -> &str {
        &self.shared.api.token
    }

    /// An Interact connector for this sandbox.
    pub fn interact_connector(&self) -> crate::Result<InteractBearer> {
        InteractBearer::for_loopback(&self.base_url, self.token().to_string())
    }

    /// A generic SCIM connector for this sandbox.
    pub fn scim_connector(&self) -> crate::Result<ScimBearer> {
        ScimBearer::for_loopback(&self.base_url, self.token().to_string())
    }

    /// The number of stored users.
    pub fn user_count(&self) -> usize {
        self.shared.api.state().users.len()
    }

    /// Every stored user as `GET /Users/{id}` would return it, oldest first.
    pub fn users(&self) -> Vec<Value> {
        let state = self.shared.api.state();
        state.users.iter().map(|u| Value::Object(u.render(&self.base_url))).collect()
    }

    /// The stored user with this id.
    pub fn user(&self, id: &str) -> Option<Value> {
        let state = self.shared.api.state();
        state.users.iter().find(|u| u.id == id).map(|u| Value::Object(u.render(&self.base_url)))
    }

    /// The stored user with this `userName` (compared case-insensitively, as the server does).
    pub fn user_by_user_name(&self, user_name: &str) -> Option<Value> {
        let state = self.shared.api.state();
        state.find_by_user_name(user_name, None).map(|u| Value::Object(u.render(&self.base_url)))
    }

    /// The first stored user with this address among its `emails` (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<Value> {
        let state = self.shared.api.state();
        state
            .users
            .iter()
            .find(|u| match u.attributes.get("emails") {
                Some(Value::Array(emails)) => emails
                    .iter()
                    .any(|e| e.get("value").and_then(Value::as_str).is_some_and(|v| v.eq_ignore_ascii_case(email))),
                _ => false,
            })
            .map(|u| Value::Object(u.render(&self.base_url)))
    }

    /// Stores a user directly (as if created earlier by someone else) and returns it as the server
    /// renders it. The body is checked like a `POST /Users` body.
    pub fn insert_user(&self, body: Value) -> Result<Value, String> {
        let mut state = self.shared.api.state();
        let created = state.create(body).map_err(|e| e.detail)?;
        Ok(Value::Object(created.render(&self.base_url)))
    }

    /// Replaces the fault configuration (and restarts its generator from the new seed).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.gate().set_faults(faults);
    }

    /// What the sandbox has seen and sent so far.
    pub fn stats(&self) -> SandboxStats {
        self.shared.gate().stats()
    }

    /// Every request seen so far, in arrival order (the first 100 000).
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.gate().log()
    }
}

impl fmt::Debug for ScimSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimSandbox")
            .field("base_url", &self.base_url)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for ScimSandboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimSandboxBuilder")
            .field("token", &self.token.as_ref().map(|_| "[REDACTED]"))
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .field("rate_limit", &self.rate_limit)
            .field("max_results", &self.max_results)
            .field("unique_user_names", &self.unique_user_names)
            .finish()
    }
}

impl ScimSandboxBuilder {
    /// The bearer token to require (by default one is generated from the seed).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The seed of the generated token and user ids (the default is fixed, so runs repeat).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Faults to inject (none by default).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// A request budget per window (none by default; Interact documents no limit).
    pub fn rate_limit(mut self, budget: u32, window: Duration) -> Self {
        self.rate_limit = Some(RateLimit::new(budget, window));
        self
    }

    /// The most resources one list page returns, whatever `count` asks for (1000 by default).
    pub fn max_results(mut self, max: usize) -> Self {
        self.max_results = max.max(1);
        self
    }

    /// Whether a `userName` already taken is refused with `409 uniqueness` (the default, as every
    /// real SCIM server here does). `false` plays a server with no uniqueness rule, which stores
    /// every create: for testing that a client itself never creates a person twice.
    pub fn enforce_unique_user_names(mut self, enforce: bool) -> Self {
        self.unique_user_names = enforce;
        self
    }

    /// Binds a free port on `127.0.0.1` and starts serving on the current tokio runtime.
    pub async fn start(self) -> io::Result<ScimSandbox> {
        let mut rng = SplitMix64::new(self.seed);
        let token = self.token.unwrap_or_else(|| format!("sandbox-scim-{}", rng.hex_id()));
        let state = ScimState { users: Vec::new(), version: 0, rng, unique_user_names: self.unique_user_names };
        let (listener, addr) = Server::bind().await?;
        let base_url = format!("http://{addr}{BASE_PATH}");
        let api =
            ScimApi { token, max_results: self.max_results, base_url: base_url.clone(), state: Mutex::new(state) };
        let shared = Shared::new(api, Gate::new(self.faults, self.rate_limit));
        let server = Server::serve(listener, addr, Arc::clone(&shared));
        Ok(ScimSandbox { server, shared, base_url })
    }
}

struct ScimApi {
    token: String,
    max_results: usize,
    /// The base URL, for `Location` and `meta.location`.
    base_url: String,
    state: Mutex<ScimState>,
}

struct ScimState {
    users: Vec<ScimUser>,
    /// One server-wide version counter for ETags, like scim2-server.
    version: u64,
    rng: SplitMix64,
    /// Whether a taken `userName` is refused (see `enforce_unique_user_names`).
    unique_user_names: bool,
}

struct ScimUser {
    id: String,
    /// The stored attributes: canonical names, no `id`, `meta` or `schemas`.
    attributes: Map<String, Value>,
    created: String,
    last_modified: String,
    version: u64,
}

impl ScimUser {
    fn location(&self, base_url: &str) -> String {
        format!("{base_url}/Users/{}", self.id)
    }

    fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    fn render(&self, base_url: &str) -> Map<String, Value> {
        let mut schemas = vec![Value::from(CORE_USER_SCHEMA)];
        schemas.extend(EXTENSIONS.iter().filter(|s| self.attributes.contains_key(s.urn)).map(|s| Value::from(s.urn)));
        let mut out = Map::new();
        out.insert("schemas".into(), Value::Array(schemas));
        out.insert("id".into(), Value::from(self.id.as_str()));
        out.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": self.created,
                "lastModified": self.last_modified,
                "location": self.location(base_url),
                "version": self.etag(),
            }),
        );
        out.extend(self.attributes.clone());
        out
    }
}

impl ScimState {
    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    fn find_by_user_name(&self, user_name: &str, except_id: Option<&str>) -> Option<&ScimUser> {
        self.users.iter().find(|u| {
            Some(u.id.as_str()) != except_id
                && u.attributes
                    .get("userName")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(user_name))
        })
    }

    fn check_unique(&self, attributes: &Map<String, Value>, except_id: Option<&str>) -> Result<(), ScimError> {
        let user_name = scim_model::user_name(attributes)?;
        if self.unique_user_names && self.find_by_user_name(user_name, except_id).is_some() {
            return Err(ScimError::new(
                409,
                Some("uniqueness"),
                "One or more of the attribute values are already in use or are reserved",
            ));
        }
        Ok(())
    }

    fn create(&mut self, body: Value) -> Result<&ScimUser, ScimError> {
        let attributes = scim_model::normalise_resource(body)?;
        self.check_unique(&attributes, None)?;
        let now = rfc3339(SystemTime::now());
        let user = ScimUser {
            id: self.rng.hex_id(),
            attributes,
            created: now.clone(),
            last_modified: now,
            version: self.next_version(),
        };
        self.users.push(user);
        self.users.last().ok_or_else(|| ScimError::new(500, None, "the user was not stored"))
    }

    fn position(&self, id: &str) -> Result<usize, ScimError> {
        self.users.iter().position(|u| u.id == id).ok_or_else(|| not_found(id))
    }

    fn commit(&mut self, index: usize, attributes: Map<String, Value>) {
        let version = self.next_version();
        if let Some(user) = self.users.get_mut(index) {
            user.attributes = attributes;
            user.last_modified = rfc3339(SystemTime::now());
            user.version = version;
        }
    }
}

fn not_found(id: &str) -> ScimError {
    ScimError::new(404, None, format!("User '{id}' not found"))
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
    fn state(&self) -> MutexGuard<'_, ScimState> {
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
        let body = scim_model::project(
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
            Some(f) if !f.trim().is_empty() => Some(scim_model::parse_filter(&f)?),
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
            .map(|r| Value::Object(scim_model::project(r, attributes.as_deref(), excluded.as_deref())))
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
        let attributes = scim_model::normalise_resource(body)?;
        state.check_unique(&attributes, Some(id))?;
        state.commit(index, attributes);
        Ok(self.resource_response(StatusCode::OK, &state.users[index], request))
    }

    fn patch(&self, request: &ApiRequest, id: &str) -> Handled {
        let body = Self::json_body(request)?;
        let mut state = self.state();
        let index = state.position(id)?;
        Self::check_if_match(request, &state.users[index])?;
        let patched = scim_model::apply_patch(&state.users[index].attributes, &body)?;
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
