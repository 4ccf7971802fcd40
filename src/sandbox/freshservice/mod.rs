//! The Freshservice side: an in-process Freshservice API v2 at `/api/v2`.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hyper::header::{ACCEPT, AUTHORIZATION, LINK, LOCATION};
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::FreshserviceApiKey;
use crate::sandbox::gate::{Faults, Gate, RateLimit, RequestRecord, SandboxStats};
use crate::sandbox::rng::SplitMix64;
use crate::sandbox::server::{Api, ApiRequest, ApiResponse, Server, Shared, constant_time_eq, rfc3339};

const JSON: &str = "application/json; charset=utf-8";
const BASE_PATH: &str = "/api/v2";
/// Freshservice's default page size and maximum `per_page`.
const DEFAULT_PER_PAGE: usize = 30;
const MAX_PER_PAGE: usize = 100;
/// Freshservice ids are large integers; the sandbox's start in the same range.
const FIRST_USER_ID: u64 = 21_000_000_000;
const FIRST_DEPARTMENT_ID: u64 = 21_000_100_000;
const FIRST_LOCATION_ID: u64 = 21_000_200_000;
const FIRST_ROLE_ID: u64 = 21_000_300_000;
/// The roles every sandbox has, as in a new Freshservice account.
const ROLES: [(&str, u8); 4] = [("Account Admin", 1), ("Admin", 1), ("SD Supervisor", 2), ("SD Agent", 2)];
const ASSIGNMENT_SCOPES: [&str; 4] = ["entire_helpdesk", "member_groups", "specified_groups", "assigned_items"];

/// An in-process Freshservice API v2, for tests and demos.
///
/// It serves `http://127.0.0.1:<random port>/api/v2` on the current tokio runtime until it is
/// dropped, keeps requesters and agents in memory, and follows the documented API shapes (see the
/// [module documentation](super) for the exact behaviour), including the per-window request
/// budget (100 per minute by default, Freshservice Starter's account limit).
///
/// ```
/// use std::time::Duration;
/// use identity_connectors::sandbox::FreshserviceSandbox;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let freshservice = FreshserviceSandbox::builder().rate_limit(20, Duration::from_secs(2)).start().await?;
/// assert!(freshservice.base_url().ends_with("/api/v2"));
/// assert!(freshservice.department_id("Finance").is_some());
/// # Ok(()) }
/// ```
pub struct FreshserviceSandbox {
    server: Server,
    shared: Arc<Shared<FreshserviceApi>>,
    base_url: String,
}

/// Configures a [`FreshserviceSandbox`] before it starts.
#[derive(Clone)]
#[must_use]
pub struct FreshserviceSandboxBuilder {
    api_key: Option<String>,
    seed: u64,
    faults: Faults,
    rate_limit: Option<RateLimit>,
    departments: Vec<String>,
    locations: Vec<String>,
}

impl FreshserviceSandbox {
    /// Starts a sandbox with a generated API key, the default departments (Finance, Engineering,
    /// Sales) and locations (London, Berlin), no faults, and 100 requests per minute.
    pub async fn start() -> io::Result<FreshserviceSandbox> {
        FreshserviceSandbox::builder().start().await
    }

    /// A builder for a sandbox with a chosen key, budget, faults, departments or locations.
    pub fn builder() -> FreshserviceSandboxBuilder {
        FreshserviceSandboxBuilder {
            api_key: None,
            seed: 0xF5E5,
            faults: Faults::none(),
            rate_limit: Some(RateLimit::new(100, Duration::from_secs(60))),
            departments: ["Finance", "Engineering", "Sales"].map(String::from).to_vec(),
            locations: ["London", "Berlin"].map(String::from).to_vec(),
        }
    }

    /// The API base URL, `http://127.0.0.1:<port>/api/v2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API key the sandbox accepts (as the Basic user name; any password is accepted).
    pub fn api_key(&self) -> &str {
        &self.shared.api.api_key
    }

    /// A Freshservice connector for this sandbox.
    pub fn connector(&self) -> crate::Result<FreshserviceApiKey> {
        FreshserviceApiKey::for_loopback(&self.base_url, self.api_key().to_string())
    }

    /// The number of stored users (requesters and agents, active or not).
    pub fn user_count(&self) -> usize {
        self.shared.api.state().users.len()
    }

    /// Every stored user, by id: requesters as `GET /requesters/{id}` returns them (under
    /// `requester`), agents as `GET /agents/{id}` does (under `agent`).
    pub fn users(&self) -> Vec<Value> {
        let state = self.shared.api.state();
        state.users.values().map(|u| state.render_wrapped(u)).collect()
    }

    /// The user with this id, wrapped as in [`users`](Self::users).
    pub fn user(&self, id: u64) -> Option<Value> {
        let state = self.shared.api.state();
        state.users.get(&id).map(|u| state.render_wrapped(u))
    }

    /// The user whose primary e-mail is `email` (case-insensitive), wrapped as in
    /// [`users`](Self::users).
    pub fn user_by_email(&self, email: &str) -> Option<Value> {
        let state = self.shared.api.state();
        state
            .users
            .values()
            .find(|u| u.email().is_some_and(|e| e.eq_ignore_ascii_case(email)))
            .map(|u| state.render_wrapped(u))
    }

    /// The id of a department, by exact name.
    pub fn department_id(&self, name: &str) -> Option<u64> {
        self.shared.api.state().departments.iter().find(|d| d.name == name).map(|d| d.id)
    }

    /// The id of a location, by exact name.
    pub fn location_id(&self, name: &str) -> Option<u64> {
        self.shared.api.state().locations.iter().find(|l| l.name == name).map(|l| l.id)
    }

    /// The id of an agent role (`Account Admin`, `Admin`, `SD Supervisor`, `SD Agent`).
    pub fn role_id(&self, name: &str) -> Option<u64> {
        self.shared.api.state().roles.iter().find(|r| r.name == name).map(|r| r.id)
    }

    /// Stores a requester directly (as if created earlier by someone else); the body is checked
    /// like a `POST /requesters` body. Returns the new id.
    pub fn insert_requester(&self, body: Value) -> Result<u64, String> {
        self.shared.api.state().create(Kind::Requester, body).map_err(|e| e.to_string())
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

impl fmt::Debug for FreshserviceSandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreshserviceSandbox")
            .field("base_url", &self.base_url)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for FreshserviceSandboxBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreshserviceSandboxBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "[REDACTED]"))
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .field("rate_limit", &self.rate_limit)
            .field("departments", &self.departments)
            .field("locations", &self.locations)
            .finish()
    }
}

impl FreshserviceSandboxBuilder {
    /// The API key to accept (by default one is generated from the seed).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The seed of the generated key and id steps (the default is fixed, so runs repeat).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Faults to inject (none by default).
    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// `budget` requests per `window` (100 per 60 s by default).
    pub fn rate_limit(mut self, budget: u32, window: Duration) -> Self {
        self.rate_limit = Some(RateLimit::new(budget, window));
        self
    }

    /// No request budget and no `X-RateLimit-*` headers.
    pub fn no_rate_limit(mut self) -> Self {
        self.rate_limit = None;
        self
    }

    /// Adds a department.
    pub fn department(mut self, name: impl Into<String>) -> Self {
        self.departments.push(name.into());
        self
    }

    /// Adds a location.
    pub fn location(mut self, name: impl Into<String>) -> Self {
        self.locations.push(name.into());
        self
    }

    /// Binds a free port on `127.0.0.1` and starts serving on the current tokio runtime.
    pub async fn start(self) -> io::Result<FreshserviceSandbox> {
        let mut rng = SplitMix64::new(self.seed);
        let api_key = self.api_key.unwrap_or_else(|| rng.hex_id()[..20].to_string());
        let now = rfc3339(SystemTime::now());
        let named = |first: u64, names: Vec<String>| -> Vec<Named> {
            (first + 1..)
                .zip(names)
                .map(|(id, name)| Named { id, name, role_type: 0, created_at: now.clone() })
                .collect()
        };
        let roles = (FIRST_ROLE_ID + 1..)
            .zip(ROLES)
            .map(|(id, (name, role_type))| Named { id, name: name.to_string(), role_type, created_at: now.clone() })
            .collect();
        let state = FreshserviceState {
            users: BTreeMap::new(),
            next_id: FIRST_USER_ID,
            rng,
            departments: named(FIRST_DEPARTMENT_ID, self.departments),
            locations: named(FIRST_LOCATION_ID, self.locations),
            roles,
        };
        let (listener, addr) = Server::bind().await?;
        let origin = format!("http://{addr}");
        let base_url = format!("{origin}{BASE_PATH}");
        let api = FreshserviceApi { api_key, origin, state: Mutex::new(state) };
        let shared = Shared::new(api, Gate::new(self.faults, self.rate_limit));
        let server = Server::serve(listener, addr, Arc::clone(&shared));
        Ok(FreshserviceSandbox { server, shared, base_url })
    }
}

/// Requester or agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Requester,
    Agent,
}

impl Kind {
    fn singular(self) -> &'static str {
        match self {
            Kind::Requester => "requester",
            Kind::Agent => "agent",
        }
    }

    fn email_field(self) -> &'static str {
        match self {
            Kind::Requester => "primary_email",
            Kind::Agent => "email",
        }
    }

    fn fields(self) -> &'static [Field] {
        match self {
            Kind::Requester => REQUESTER_FIELDS,
            Kind::Agent => AGENT_FIELDS,
        }
    }
}

/// What a writable field accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldType {
    Text,
    Email,
    Emails,
    /// Documented as a number, sent and returned as a string.
    Phone,
    Bool,
    PositiveInteger,
    IntegerList,
    Departments,
    Location,
    User,
    TimeFormat,
    Object,
    Roles,
    /// `external_id`: documented as a number, seen as a string; either is kept as a string.
    ExternalId,
}

struct Field {
    name: &'static str,
    ty: FieldType,
}

const fn field(name: &'static str, ty: FieldType) -> Field {
    Field { name, ty }
}

const REQUESTER_FIELDS: &[Field] = &[
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

const AGENT_FIELDS: &[Field] = &[
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
    field("member_of", FieldType::IntegerList),
    field("observer_of", FieldType::IntegerList),
    field("roles", FieldType::Roles),
    field("signature", FieldType::Text),
    field("custom_fields", FieldType::Object),
    field("workspace_ids", FieldType::IntegerList),
    field("external_id", FieldType::ExternalId),
];

/// One entry of a Freshservice validation error.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldError {
    field: String,
    message: String,
    code: &'static str,
}

fn field_error(field: &str, message: impl Into<String>, code: &'static str) -> FieldError {
    FieldError { field: field.to_string(), message: message.into(), code }
}

/// A Freshservice error response.
#[derive(Debug, Clone, PartialEq, Eq)]
enum FsError {
    /// `400` (or `409` for duplicates) with `{"description":"Validation failed","errors":[…]}`.
    Validation(StatusCode, Vec<FieldError>),
    /// Any other status with the flat `{"code","message"}` body.
    Flat(StatusCode, &'static str, String),
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::Validation(status, errors) => {
                write!(f, "{status} Validation failed:")?;
                for e in errors {
                    write!(f, " {} {} ({});", e.field, e.message, e.code)?;
                }
                Ok(())
            }
            FsError::Flat(status, code, message) => write!(f, "{status} {code}: {message}"),
        }
    }
}

impl FsError {
    fn validation(errors: Vec<FieldError>) -> Self {
        FsError::Validation(StatusCode::BAD_REQUEST, errors)
    }

    fn not_found() -> Self {
        FsError::Flat(StatusCode::NOT_FOUND, "not_found", "The requested resource was not found".into())
    }

    fn response(&self) -> ApiResponse {
        match self {
            FsError::Validation(status, errors) => {
                let errors: Vec<Value> =
                    errors.iter().map(|e| json!({ "field": e.field, "message": e.message, "code": e.code })).collect();
                ApiResponse::json(*status, JSON, &json!({ "description": "Validation failed", "errors": errors }))
            }
            FsError::Flat(status, code, message) => {
                ApiResponse::json(*status, JSON, &json!({ "code": code, "message": message }))
            }
        }
    }
}

/// A department, location or role.
struct Named {
    id: u64,
    name: String,
    /// Roles only: 1 admin, 2 agent.
    role_type: u8,
    created_at: String,
}

struct FsUser {
    id: u64,
    kind: Kind,
    active: bool,
    /// Writable fields as last set, by their name for this kind.
    fields: Map<String, Value>,
    created_at: String,
    updated_at: String,
}

impl FsUser {
    fn email(&self) -> Option<&str> {
        self.fields.get(self.kind.email_field()).and_then(Value::as_str)
    }

    fn secondary_emails(&self) -> impl Iterator<Item = &str> {
        self.fields.get("secondary_emails").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str)
    }

    fn first_name(&self) -> String {
        self.fields.get("first_name").and_then(Value::as_str).unwrap_or("").to_lowercase()
    }
}

struct FreshserviceState {
    users: BTreeMap<u64, FsUser>,
    next_id: u64,
    rng: SplitMix64,
    departments: Vec<Named>,
    locations: Vec<Named>,
    roles: Vec<Named>,
}

impl FreshserviceState {
    fn get(&self, kind: Kind, id: &str) -> Result<&FsUser, FsError> {
        let id: u64 = id.parse().map_err(|_| FsError::not_found())?;
        self.users.get(&id).filter(|u| u.kind == kind).ok_or_else(FsError::not_found)
    }

    fn get_mut(&mut self, kind: Kind, id: &str) -> Result<&mut FsUser, FsError> {
        let id: u64 = id.parse().map_err(|_| FsError::not_found())?;
        self.users.get_mut(&id).filter(|u| u.kind == kind).ok_or_else(FsError::not_found)
    }

    /// Checks a request body's fields for `kind`; returns them canonicalised.
    fn validate(&self, kind: Kind, body: Value) -> Result<Map<String, Value>, FsError> {
        let Value::Object(body) = body else {
            return Err(FsError::validation(vec![field_error(
                "",
                "The request body must be a JSON object",
                "invalid_json",
            )]));
        };
        let mut errors = Vec::new();
        let mut out = Map::new();
        for (name, value) in body {
            let Some(field) = kind.fields().iter().find(|f| f.name == name) else {
                errors.push(field_error(&name, "Unexpected/invalid field in request", "invalid_field"));
                continue;
            };
            match self.check_value(field, value) {
                Ok(value) => {
                    out.insert(name, value);
                }
                Err(error) => errors.push(error),
            }
        }
        if errors.is_empty() {
            return Ok(out);
        }
        errors.sort_by(|a, b| a.field.cmp(&b.field));
        Err(FsError::validation(errors))
    }

    fn check_value(&self, field: &Field, value: Value) -> Result<Value, FieldError> {
        let name = field.name;
        let mismatch = |what: &str| field_error(name, format!("It should be a/an {what}"), "datatype_mismatch");
        let positive = |v: &Value| v.as_u64().filter(|n| *n > 0);
        if value.is_null() {
            return Ok(Value::Null);
        }
        match field.ty {
            FieldType::Text => value.is_string().then_some(value).ok_or_else(|| mismatch("String")),
            FieldType::Email => match value.as_str() {
                Some(email) if is_email(email) => Ok(value),
                Some(_) => Err(field_error(name, "It should be in the 'valid email address' format", "invalid_value")),
                None => Err(mismatch("String")),
            },
            FieldType::Emails => match value.as_array() {
                Some(items) if items.iter().all(|i| i.as_str().is_some_and(is_email)) => Ok(value),
                Some(_) => Err(field_error(
                    name,
                    "It should contain elements in the 'valid email address' format",
                    "invalid_value",
                )),
                None => Err(mismatch("Array")),
            },
            FieldType::Phone => match value {
                Value::String(_) => Ok(value),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                _ => Err(mismatch("String")),
            },
            FieldType::Bool => value.is_boolean().then_some(value).ok_or_else(|| mismatch("Boolean")),
            FieldType::PositiveInteger => positive(&value).map(Value::from).ok_or_else(|| mismatch("Positive Integer")),
            FieldType::IntegerList => match value.as_array() {
                Some(items) if items.iter().all(|i| positive(i).is_some()) => Ok(value),
                _ => Err(mismatch("Array of Positive Integer")),
            },
            FieldType::Departments => {
                let Some(items) = value.as_array() else { return Err(mismatch("Array")) };
                for item in items {
                    let id = positive(item).ok_or_else(|| mismatch("Array of Positive Integer"))?;
                    if !self.departments.iter().any(|d| d.id == id) {
                        return Err(field_error(name, format!("There is no department with id {id}"), "invalid_value"));
                    }
                }
                Ok(value)
            }
            FieldType::Location => {
                let id = positive(&value).ok_or_else(|| mismatch("Positive Integer"))?;
                if !self.locations.iter().any(|l| l.id == id) {
                    return Err(field_error(name, format!("There is no location with id {id}"), "invalid_value"));
                }
                Ok(value)
            }
            FieldType::User => {
                let id = positive(&value).ok_or_else(|| mismatch("Positive Integer"))?;
                if !self.users.contains_key(&id) {
                    return Err(field_error(name, format!("There is no user with id {id}"), "invalid_value"));
                }
                Ok(value)
            }
            FieldType::TimeFormat => match value.as_str() {
                Some("12h" | "24h") => Ok(value),
                _ => Err(field_error(name, "It should be one of these values: '12h,24h'", "invalid_value")),
            },
            FieldType::Object => value.is_object().then_some(value).ok_or_else(|| mismatch("key/value pair")),
            FieldType::Roles => self.check_roles(value),
            FieldType::ExternalId => match value {
                Value::String(_) => Ok(value),
                Value::Number(n) => Ok(Value::String(n.to_string())),
                _ => Err(mismatch("String")),
            },
        }
    }

    fn check_roles(&self, value: Value) -> Result<Value, FieldError> {
        let invalid = |message: String| field_error("roles", message, "invalid_value");
        let Some(roles) = value.as_array() else {
            return Err(field_error("roles", "It should be a/an Array", "datatype_mismatch"));
        };
        for role in roles {
            let Some(role) = role.as_object() else { return Err(invalid("Each role should be an object".into())) };
            if let Some(key) = role.keys().find(|k| !["role_id", "assignment_scope", "groups"].contains(&k.as_str())) {
                return Err(field_error(
                    &format!("roles.{key}"),
                    "Unexpected/invalid field in request",
                    "invalid_field",
                ));
            }
            let id =
                role.get("role_id").and_then(Value::as_u64).ok_or_else(|| invalid("role_id is required".into()))?;
            if !self.roles.iter().any(|r| r.id == id) {
                return Err(invalid(format!("There is no role with id {id}")));
            }
            let scope = role.get("assignment_scope").and_then(Value::as_str).unwrap_or("");
            if !ASSIGNMENT_SCOPES.contains(&scope) {
                return Err(invalid(format!("assignment_scope should be one of {}", ASSIGNMENT_SCOPES.join(", "))));
            }
        }
        Ok(value)
    }

    /// The `409 duplicate_value` error when an address in `fields` is already some other user's.
    fn check_duplicates(&self, kind: Kind, fields: &Map<String, Value>, except: Option<u64>) -> Result<(), FsError> {
        let taken = |email: &str| {
            self.users.values().filter(|u| Some(u.id) != except).any(|u| {
                u.email().is_some_and(|e| e.eq_ignore_ascii_case(email))
                    || u.secondary_emails().any(|e| e.eq_ignore_ascii_case(email))
            })
        };
        let mut errors = Vec::new();
        if fields.get(kind.email_field()).and_then(Value::as_str).is_some_and(taken) {
            errors.push(field_error(kind.email_field(), "It should be a unique value", "duplicate_value"));
        }
        let secondary = fields.get("secondary_emails").and_then(Value::as_array).into_iter().flatten();
        if secondary.filter_map(Value::as_str).any(taken) {
            errors.push(field_error("secondary_emails", "It should be a unique value", "duplicate_value"));
        }
        if errors.is_empty() { Ok(()) } else { Err(FsError::Validation(StatusCode::CONFLICT, errors)) }
    }

    fn create(&mut self, kind: Kind, body: Value) -> Result<u64, FsError> {
        let fields = self.validate(kind, body)?;
        let present = |name: &str| match fields.get(name) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        let mut missing = Vec::new();
        if !present("first_name") {
            missing.push(field_error("first_name", "It should be a/an String", "missing_field"));
        }
        match kind {
            Kind::Requester => {
                if !["primary_email", "work_phone_number", "mobile_phone_number"].iter().any(|f| present(f)) {
                    missing.push(field_error(
                        "primary_email",
                        "Please specify at least one of primary_email, work_phone_number, mobile_phone_number",
                        "missing_field",
                    ));
                }
            }
            Kind::Agent => {
                if !present("email") {
                    missing.push(field_error("email", "It should be a/an String", "missing_field"));
                }
                if !present("roles") {
                    missing.push(field_error("roles", "It should be a/an Array", "missing_field"));
                }
            }
        }
        if !missing.is_empty() {
            return Err(FsError::validation(missing));
        }
        self.check_duplicates(kind, &fields, None)?;
        // Ids grow by a seeded random step, so clients cannot rely on them being consecutive.
        self.next_id += 1 + self.rng.below(1000) as u64;
        let now = rfc3339(SystemTime::now());
        let id = self.next_id;
        let user = FsUser { id, kind, active: true, fields, created_at: now.clone(), updated_at: now };
        self.users.insert(id, user);
        Ok(id)
    }

    fn update(&mut self, kind: Kind, id: &str, body: Value) -> Result<u64, FsError> {
        let current = self.get(kind, id)?.id;
        let changes = self.validate(kind, body)?;
        if matches!(changes.get("first_name"), Some(Value::Null))
            || matches!(changes.get(kind.email_field()), Some(Value::Null))
        {
            let field =
                if changes.get("first_name").is_some_and(Value::is_null) { "first_name" } else { kind.email_field() };
            return Err(FsError::validation(vec![field_error(field, "It should not be blank", "invalid_value")]));
        }
        self.check_duplicates(kind, &changes, Some(current))?;
        let user = self.users.get_mut(&current).ok_or_else(FsError::not_found)?;
        // Freshservice resets this flag on every update that does not send it as true.
        let keep_flag = changes.get("can_see_all_tickets_from_associated_departments") == Some(&Value::Bool(true));
        user.fields.extend(changes);
        user.fields.insert("can_see_all_tickets_from_associated_departments".into(), Value::Bool(keep_flag));
        user.updated_at = rfc3339(SystemTime::now());
        Ok(current)
    }

    fn set_active(&mut self, kind: Kind, id: &str, active: bool) -> Result<u64, FsError> {
        let user = self.get_mut(kind, id)?;
        user.active = active;
        user.updated_at = rfc3339(SystemTime::now());
        Ok(user.id)
    }

    fn names(list: &[Named], ids: Option<&Value>) -> Vec<Value> {
        ids.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|id| list.iter().find(|n| Some(n.id) == id.as_u64()))
            .map(|n| Value::from(n.name.as_str()))
            .collect()
    }

    /// A user in the requester shape (agents included with `is_agent: true`).
    fn render_requester(&self, user: &FsUser) -> Value {
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
                (_, FieldType::Emails | FieldType::Departments | FieldType::IntegerList | FieldType::Roles) => {
                    json!([])
                }
                (_, FieldType::Object) => json!({}),
                _ => Value::Null,
            },
        }
    }

    fn render(&self, kind: Kind, user: &FsUser) -> Value {
        match kind {
            Kind::Requester => self.render_requester(user),
            Kind::Agent => self.render_agent(user),
        }
    }

    fn render_wrapped(&self, user: &FsUser) -> Value {
        json!({ user.kind.singular(): self.render(user.kind, user) })
    }
}

/// A deliberately loose e-mail check: something before and after one `@`, no spaces.
fn is_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@') && !value.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

struct FreshserviceApi {
    api_key: String,
    /// `http://127.0.0.1:<port>`, for `Location` and `Link`.
    origin: String,
    state: Mutex<FreshserviceState>,
}

type Handled = Result<ApiResponse, FsError>;

impl FreshserviceApi {
    fn state(&self) -> MutexGuard<'_, FreshserviceState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// `Authorization: Basic base64("<api key>:<anything>")`.
    fn authorised(&self, request: &ApiRequest) -> bool {
        let Some((scheme, encoded)) = request.header(AUTHORIZATION).and_then(|v| v.split_once(' ')) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("basic") {
            return false;
        }
        let Ok(decoded) = BASE64.decode(encoded.trim()) else { return false };
        let user = decoded.split(|b| *b == b':').next().unwrap_or(&[]);
        decoded.contains(&b':') && constant_time_eq(user, self.api_key.as_bytes())
    }

    fn accepts_json(request: &ApiRequest) -> bool {
        request.header(ACCEPT).is_none_or(|accept| {
            accept.split(',').any(|range| {
                let range = range.split(';').next().unwrap_or("").trim();
                ["application/json", "application/*", "*/*"].iter().any(|ok| ok.eq_ignore_ascii_case(range))
            })
        })
    }

    fn json_body(request: &ApiRequest, empty_allowed: bool) -> Result<Value, FsError> {
        if empty_allowed && request.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(json!({}));
        }
        if !request.has_content_type(&["application/json"]) {
            return Err(FsError::Flat(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "invalid_content_type",
                "Content-Type header should be application/json".into(),
            ));
        }
        serde_json::from_slice(&request.body).map_err(|e| {
            FsError::validation(vec![field_error(
                "",
                format!("Request body has invalid json format: {e}"),
                "invalid_json",
            )])
        })
    }

    fn route(&self, request: &ApiRequest) -> Handled {
        let Some(segments) = request.segments(BASE_PATH) else { return Err(FsError::not_found()) };
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        if !self.authorised(request) {
            return Err(FsError::Flat(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "You have to be logged in to perform this action.".into(),
            ));
        }
        if !Self::accepts_json(request) {
            return Err(FsError::Flat(
                StatusCode::NOT_ACCEPTABLE,
                "invalid_accept_header",
                "Only application/json is supported".into(),
            ));
        }
        let kind = match segments.first() {
            Some(&"requesters") => Some(Kind::Requester),
            Some(&"agents") => Some(Kind::Agent),
            _ => None,
        };
        match (kind, &request.method, segments.as_slice()) {
            (Some(kind), &Method::GET, [_]) => self.list_users(request, kind),
            (Some(kind), &Method::POST, [_]) => self.create(request, kind),
            (Some(kind), &Method::GET, [_, id]) => self.show(kind, id),
            (Some(kind), &Method::PUT, [_, id]) => self.update(request, kind, id),
            (Some(kind), &Method::DELETE, [_, id]) => self.deactivate(kind, id),
            (Some(kind), &Method::PUT, [_, id, "reactivate"]) => self.reactivate(kind, id),
            (Some(kind), &Method::DELETE, [_, id, "forget"]) => self.forget(kind, id),
            (Some(Kind::Requester), &Method::PUT, [_, id, "convert_to_agent"]) => self.convert(Kind::Requester, id),
            (Some(Kind::Agent), &Method::PUT, [_, id, "convert_to_requester"]) => self.convert(Kind::Agent, id),
            (None, &Method::GET, [collection @ ("departments" | "locations" | "roles")]) => {
                self.list_named(request, collection)
            }
            (None, &Method::GET, [collection @ ("departments" | "locations" | "roles"), id]) => {
                self.show_named(collection, id)
            }
            (
                Some(_),
                _,
                [_] | [_, _] | [_, _, "reactivate" | "forget" | "convert_to_agent" | "convert_to_requester"],
            )
            | (None, _, ["departments" | "locations" | "roles"] | ["departments" | "locations" | "roles", _]) => {
                Err(FsError::Flat(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed".into()))
            }
            _ => Err(FsError::not_found()),
        }
    }

    fn wrapped(&self, status: StatusCode, kind: Kind, id: u64) -> Handled {
        let state = self.state();
        let user = state.users.get(&id).ok_or_else(FsError::not_found)?;
        Ok(ApiResponse::json(status, JSON, &json!({ kind.singular(): state.render(kind, user) })))
    }

    fn create(&self, request: &ApiRequest, kind: Kind) -> Handled {
        let body = Self::json_body(request, false)?;
        let id = self.state().create(kind, body)?;
        let location = format!("{}{BASE_PATH}/{}s/{id}", self.origin, kind.singular());
        Ok(self.wrapped(StatusCode::CREATED, kind, id)?.with_header(LOCATION, location))
    }

    fn show(&self, kind: Kind, id: &str) -> Handled {
        let id = self.state().get(kind, id)?.id;
        self.wrapped(StatusCode::OK, kind, id)
    }

    fn update(&self, request: &ApiRequest, kind: Kind, id: &str) -> Handled {
        let body = Self::json_body(request, false)?;
        let id = self.state().update(kind, id, body)?;
        self.wrapped(StatusCode::OK, kind, id)
    }

    /// `DELETE /requesters/{id}` answers 204; `DELETE /agents/{id}` answers 200 with the agent.
    fn deactivate(&self, kind: Kind, id: &str) -> Handled {
        let id = self.state().set_active(kind, id, false)?;
        match kind {
            Kind::Requester => Ok(ApiResponse::empty(StatusCode::NO_CONTENT)),
            Kind::Agent => self.wrapped(StatusCode::OK, kind, id),
        }
    }

    fn reactivate(&self, kind: Kind, id: &str) -> Handled {
        let id = self.state().set_active(kind, id, true)?;
        self.wrapped(StatusCode::OK, kind, id)
    }

    /// `convert_to_agent` makes an occasional agent with the SD Agent role and no groups;
    /// `convert_to_requester` goes back. The id stays the same.
    fn convert(&self, from: Kind, id: &str) -> Handled {
        let mut state = self.state();
        let id = state.get(from, id)?.id;
        let sd_agent = state.roles.iter().find(|r| r.name == "SD Agent").map(|r| r.id);
        let user = state.users.get_mut(&id).ok_or_else(FsError::not_found)?;
        let to = match from {
            Kind::Requester => Kind::Agent,
            Kind::Agent => Kind::Requester,
        };
        if let Some(email) = user.fields.remove(from.email_field()) {
            user.fields.insert(to.email_field().to_string(), email);
        }
        // Only the fields the new kind has survive (agents have no secondary e-mails, requesters
        // no roles).
        user.fields.retain(|name, _| to.fields().iter().any(|f| f.name == name));
        if to == Kind::Agent {
            user.fields.insert("occasional".into(), Value::Bool(true));
            let roles = sd_agent
                .map(|role_id| json!([{ "role_id": role_id, "assignment_scope": "entire_helpdesk", "groups": [] }]));
            user.fields.insert("roles".into(), roles.unwrap_or_else(|| json!([])));
        }
        user.kind = to;
        user.updated_at = rfc3339(SystemTime::now());
        drop(state);
        self.wrapped(StatusCode::OK, to, id)
    }

    fn forget(&self, kind: Kind, id: &str) -> Handled {
        let mut state = self.state();
        let id = state.get(kind, id)?.id;
        state.users.remove(&id);
        Ok(ApiResponse::empty(StatusCode::NO_CONTENT))
    }

    fn list_users(&self, request: &ApiRequest, kind: Kind) -> Handled {
        let param = |name: &str| request.query_param(name);
        if param("query").is_some() {
            return Err(FsError::validation(vec![field_error(
                "query",
                "The sandbox does not implement query= on this endpoint; use email=",
                "invalid_field",
            )]));
        }
        let flag = |name: &str| -> Result<Option<bool>, FsError> {
            match param(name).as_deref() {
                None => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(_) => Err(FsError::validation(vec![field_error(
                    name,
                    "It should be one of these values: 'true,false'",
                    "invalid_value",
                )])),
            }
        };
        let include_agents = kind == Kind::Requester && flag("include_agents")? == Some(true);
        let active = if kind == Kind::Agent { flag("active")? } else { None };
        let occasional = match (kind, param("state").as_deref()) {
            (Kind::Agent, Some("fulltime")) => Some(false),
            (Kind::Agent, Some("occasional")) => Some(true),
            (Kind::Agent, Some(_)) => {
                return Err(FsError::validation(vec![field_error(
                    "state",
                    "It should be one of these values: 'fulltime,occasional'",
                    "invalid_value",
                )]));
            }
            _ => None,
        };
        let email = param("email");
        let work_phone = param("work_phone_number");
        let mobile_phone = param("mobile_phone_number");
        let state = self.state();
        let mut users: Vec<&FsUser> = state
            .users
            .values()
            .filter(|u| u.kind == kind || include_agents)
            .filter(|u| email.as_deref().is_none_or(|e| u.email().is_some_and(|m| m.eq_ignore_ascii_case(e))))
            .filter(|u| {
                work_phone
                    .as_deref()
                    .is_none_or(|p| u.fields.get("work_phone_number").and_then(Value::as_str) == Some(p))
            })
            .filter(|u| {
                mobile_phone
                    .as_deref()
                    .is_none_or(|p| u.fields.get("mobile_phone_number").and_then(Value::as_str) == Some(p))
            })
            .filter(|u| active.is_none_or(|a| u.active == a))
            .filter(|u| {
                occasional.is_none_or(|o| u.fields.get("occasional").and_then(Value::as_bool).unwrap_or(false) == o)
            })
            .collect();
        // "Always sorted by the first name of the user".
        users.sort_by(|a, b| a.first_name().cmp(&b.first_name()).then(a.id.cmp(&b.id)));
        let items: Vec<Value> = users.into_iter().map(|u| state.render(kind, u)).collect();
        drop(state);
        self.page(request, items, &format!("{}s", kind.singular()))
    }

    fn list_named(&self, request: &ApiRequest, collection: &str) -> Handled {
        let name_filter = match request.query_param("query") {
            Some(query) => Some(parse_name_query(&query)?),
            None => None,
        };
        let state = self.state();
        let list = match collection {
            "departments" => &state.departments,
            "locations" => &state.locations,
            _ => &state.roles,
        };
        let items: Vec<Value> = list
            .iter()
            .filter(|n| name_filter.as_deref().is_none_or(|name| n.name.eq_ignore_ascii_case(name)))
            .map(|n| render_named(collection, n))
            .collect();
        drop(state);
        self.page(request, items, collection)
    }

    fn show_named(&self, collection: &str, id: &str) -> Handled {
        let id: u64 = id.parse().map_err(|_| FsError::not_found())?;
        let state = self.state();
        let list = match collection {
            "departments" => &state.departments,
            "locations" => &state.locations,
            _ => &state.roles,
        };
        let named = list.iter().find(|n| n.id == id).ok_or_else(FsError::not_found)?;
        let singular = collection.strip_suffix('s').unwrap_or(collection);
        Ok(ApiResponse::json(StatusCode::OK, JSON, &json!({ singular: render_named(collection, named) })))
    }

    /// One page of `items` under `key`, with `Link: <…>; rel="next"` while more pages exist.
    fn page(&self, request: &ApiRequest, items: Vec<Value>, key: &str) -> Handled {
        let number = |name: &str, default: usize, max: usize| -> Result<usize, FsError> {
            match request.query_param(name) {
                None => Ok(default),
                Some(v) => v.parse::<usize>().ok().filter(|n| (1..=max).contains(n)).ok_or_else(|| {
                    let message = if max == usize::MAX {
                        "It should be a/an Positive Integer".to_string()
                    } else {
                        format!("It should be a/an Positive Integer less than or equal to {max}")
                    };
                    FsError::validation(vec![field_error(name, message, "invalid_value")])
                }),
            }
        };
        let per_page = number("per_page", DEFAULT_PER_PAGE, MAX_PER_PAGE)?;
        let page = number("page", 1, usize::MAX)?;
        let start = (page - 1).saturating_mul(per_page);
        let has_next = items.len() > start.saturating_add(per_page);
        let items: Vec<Value> = items.into_iter().skip(start).take(per_page).collect();
        let response = ApiResponse::json(StatusCode::OK, JSON, &json!({ key: items }));
        if !has_next {
            return Ok(response);
        }
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in request.query_pairs().iter().filter(|(k, _)| k != "page" && k != "per_page") {
            next.append_pair(k, v);
        }
        next.append_pair("page", &page.saturating_add(1).to_string());
        next.append_pair("per_page", &per_page.to_string());
        let link = format!("<{}{}?{}>; rel=\"next\"", self.origin, request.path, next.finish());
        Ok(response.with_header(LINK, link))
    }
}

/// `"name:'Sales'"` (outer double quotes optional) → `Sales`.
fn parse_name_query(query: &str) -> Result<String, FsError> {
    let query = query.trim();
    let query = query.strip_prefix('"').and_then(|q| q.strip_suffix('"')).unwrap_or(query);
    query.strip_prefix("name:'").and_then(|q| q.strip_suffix('\'')).map(str::to_string).ok_or_else(|| {
        FsError::validation(vec![field_error("query", "Only name:'…' is supported here", "invalid_value")])
    })
}

fn render_named(collection: &str, named: &Named) -> Value {
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

impl Api for FreshserviceApi {
    fn handle(&self, request: &ApiRequest) -> ApiResponse {
        self.route(request).unwrap_or_else(|error| error.response())
    }

    fn too_many_requests(&self, retry_after_secs: u64) -> ApiResponse {
        FsError::Flat(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            format!("You have exceeded the limit of requests per window; retry after {retry_after_secs} seconds"),
        )
        .response()
    }

    fn payload_too_large(&self) -> ApiResponse {
        FsError::Flat(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large".into())
            .response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> FreshserviceState {
        FreshserviceState {
            users: BTreeMap::new(),
            next_id: FIRST_USER_ID,
            rng: SplitMix64::new(1),
            departments: vec![Named { id: 7, name: "Finance".into(), role_type: 0, created_at: String::new() }],
            locations: Vec::new(),
            roles: vec![Named { id: 4, name: "SD Agent".into(), role_type: 2, created_at: String::new() }],
        }
    }

    fn codes(error: FsError) -> Vec<(String, &'static str)> {
        match error {
            FsError::Validation(_, errors) => errors.into_iter().map(|e| (e.field, e.code)).collect(),
            FsError::Flat(_, code, _) => vec![(String::new(), code)],
        }
    }

    #[test]
    fn create_validates_like_freshservice() {
        let mut s = state();
        let err = |s: &mut FreshserviceState, kind, body| s.create(kind, body).map_err(codes);
        assert_eq!(
            err(&mut s, Kind::Requester, json!({"last_name": "X", "ticket_scope": 1})),
            Err(vec![("ticket_scope".into(), "invalid_field"),])
        );
        assert_eq!(
            err(&mut s, Kind::Requester, json!({"last_name": "X"})),
            Err(vec![("first_name".into(), "missing_field"), ("primary_email".into(), "missing_field")])
        );
        assert_eq!(
            err(
                &mut s,
                Kind::Requester,
                json!({"first_name": "A", "primary_email": "nope", "department_ids": [8], "time_format": "1h"})
            ),
            Err(vec![
                ("department_ids".into(), "invalid_value"),
                ("primary_email".into(), "invalid_value"),
                ("time_format".into(), "invalid_value"),
            ])
        );
        assert_eq!(
            err(&mut s, Kind::Agent, json!({"first_name": "A", "email": "a@x.com"})),
            Err(vec![("roles".into(), "missing_field")])
        );
        assert_eq!(
            err(
                &mut s,
                Kind::Agent,
                json!({"first_name": "A", "email": "a@x.com", "roles": [{"role_id": 5, "assignment_scope": "entire_helpdesk"}]})
            ),
            Err(vec![("roles".into(), "invalid_value")])
        );
        let id =
            s.create(Kind::Requester, json!({"first_name": "A", "primary_email": "A@x.com", "work_phone_number": 123}));
        assert!(id.is_ok_and(|id| id > FIRST_USER_ID));
        assert_eq!(
            err(
                &mut s,
                Kind::Agent,
                json!({"first_name": "B", "email": "a@X.com", "roles": [{"role_id": 4, "assignment_scope": "entire_helpdesk"}]})
            ),
            Err(vec![("email".into(), "duplicate_value")])
        );
        let stored = s.users.values().next().map(|u| s.render_requester(u));
        assert_eq!(stored.as_ref().map(|u| &u["work_phone_number"]), Some(&json!("123")));
        assert_eq!(stored.as_ref().map(|u| &u["department_ids"]), Some(&json!([])));
    }

    #[test]
    fn update_resets_the_department_visibility_flag() {
        let mut s = state();
        let id = s
            .create(Kind::Requester, json!({"first_name": "A", "primary_email": "a@x.com", "can_see_all_tickets_from_associated_departments": true}))
            .map(|id| id.to_string());
        let id = id.unwrap_or_default();
        let flag = |s: &FreshserviceState| {
            s.users
                .values()
                .next()
                .and_then(|u| u.fields.get("can_see_all_tickets_from_associated_departments").cloned())
        };
        assert_eq!(flag(&s), Some(json!(true)));
        assert!(s.update(Kind::Requester, &id, json!({"job_title": "Analyst"})).is_ok());
        assert_eq!(flag(&s), Some(json!(false)));
        assert!(
            s.update(Kind::Requester, &id, json!({"can_see_all_tickets_from_associated_departments": true})).is_ok()
        );
        assert_eq!(flag(&s), Some(json!(true)));
        assert_eq!(
            s.update(Kind::Requester, &id, json!({"active": false})).map_err(codes),
            Err(vec![("active".into(), "invalid_field")])
        );
        assert_eq!(s.update(Kind::Agent, &id, json!({})).map_err(codes), Err(vec![(String::new(), "not_found")]));
    }

    #[test]
    fn name_queries_parse() {
        assert_eq!(parse_name_query("\"name:'Sales'\""), Ok("Sales".to_string()));
        assert_eq!(parse_name_query("name:'Sales'"), Ok("Sales".to_string()));
        assert!(parse_name_query("name:Sales").is_err());
        assert!(is_email("a@b") && !is_email("a b@c") && !is_email("@b") && !is_email("a@b@c"));
    }
}
