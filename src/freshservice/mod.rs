//! Freshservice, through its REST API v2 with an admin's API key.
//!
//! The API key is sent as HTTP Basic auth with the key as user name and `X` as password. API v2
//! answers only on `https://<name>.freshservice.com/api/v2`, never on a custom (CNAME) domain.
//!
//! # Requesters and agents
//!
//! A Freshservice user is a *requester* (an employee who raises tickets) or an *agent* (IT staff
//! who work them). A [`User`] becomes a requester unless its [`FreshserviceAttributes::kind`] or
//! the connector's [`with_default_kind`](FreshserviceApiKey::with_default_kind) says agent; an
//! agent is created with its roles (at least one), its `occasional` flag and, where given, its
//! group memberships. The connector's default applies when a user is created; an explicit
//! [`FreshserviceAttributes::kind`] that differs from an existing user's converts them
//! (`PUT /requesters/{id}/convert_to_agent` or `PUT /agents/{id}/convert_to_requester`; the id
//! stays the same).
//!
//! # Mapping
//!
//! | [`User`] | Freshservice |
//! |---|---|
//! | given name (else the e-mail's local part) | `first_name` |
//! | family name | `last_name` |
//! | [`primary_email`](User::primary_email), other e-mails | `primary_email` (agents: `email`), `secondary_emails` (requesters) |
//! | `title` | `job_title` |
//! | `work` / `mobile` phone | `work_phone_number` / `mobile_phone_number` |
//! | enterprise `department` (a name) | `department_ids`, resolved through `GET /departments` |
//! | enterprise `manager.value` (a user id, or an e-mail address) | `reporting_manager_id` |
//! | [`FreshserviceAttributes::location`] (a name) | `location_id`, resolved through `GET /locations` |
//! | `timezone` (a Rails name such as `Edinburgh`) | `time_zone` |
//! | `preferred_language` (such as `en`, `pt-BR`) | `language` |
//! | enterprise `employee_number` | a custom field, see [`with_employee_number_field`](FreshserviceApiKey::with_employee_number_field) |
//! | [`FreshserviceAttributes::custom_fields`] | `custom_fields` |
//!
//! Attributes Freshservice has no field for (`externalId`, `displayName`, `locale`, …) are not
//! sent. Read back, every field the model has no place for is kept in
//! [`FreshserviceAttributes::extra`] (including the raw `department_ids` and `location_id`).
//!
//! Department and location lists are fetched once per connector (all pages) the first time a name
//! is needed (to send one, or to name the department or location of a user read back) and cached;
//! a name that is not in them is a validation error naming it, and nothing is sent. Build a new
//! connector to pick up departments or locations created since. Names match exactly, or else
//! case-insensitively.
//!
//! # Requests
//!
//! - Look-up by e-mail: `GET /requesters?email=…&include_agents=true`, exact case-insensitive match
//!   on the e-mail; an agent found so is read again through `GET /agents/{id}` (for its roles).
//!   Nothing found: `GET /agents?email=…`.
//! - By id: `GET /requesters/{id}`; on `404` (or a record that says `is_agent`), `GET /agents/{id}`.
//!   Deactivation, reactivation, deletion and updates without a known current state read the user
//!   this way first, to learn whether they are a requester or an agent, and to succeed without a
//!   request when the user already is as asked.
//! - Deactivate: `DELETE /requesters/{id}` (`204`) or `DELETE /agents/{id}` (`200` with the agent).
//!   Reactivate: `PUT …/{id}/reactivate`.
//! - Delete ([`Client::hard_delete`](crate::Client::hard_delete) only): `DELETE …/{id}/forget`.
//!   **This is irreversible and also deletes every ticket the person requested.** Deprovisioning
//!   deactivates instead.
//! - Update: `PUT …/{id}` with only the fields that change, always with
//!   `can_see_all_tickets_from_associated_departments` (Freshservice resets it to `false` when a
//!   `PUT` omits it). Nothing is sent when no Freshservice field changes.
//! - Listing: `GET /requesters?per_page=…&page=…&include_agents=true` (at most 100 per page),
//!   following the `Link: <…>; rel="next"` header, which must stay on the instance's host. Agents
//!   in a listing carry the requester view (no roles); [`Client::get`](crate::Client::get) reads
//!   their agent record.
//! - Connection test: `GET /requesters?per_page=1`.

mod attributes;
pub(crate) mod error;
mod instance;
mod names;
pub(crate) mod wire;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};
use url::Url;

pub use attributes::{
    AgentRole, FreshserviceAttributes, FreshserviceBuilderExt, FreshserviceUserExt, FreshserviceUserKind,
};

use crate::auth::Authorization;
use crate::base_url::{Scheme, parse_base_url};
use crate::client::UpdateOutcome;
use crate::connector::{Connector, Lookup, PageRequest, PageToken, RemoteUser, UserId, UserPage};
use crate::error::{ApiError, DecodeError, Error, FieldError, Result};
use crate::http::{Http, Request, Response};
use crate::user::User;
use names::NameCache;

/// The most users one listing page may hold (`per_page`).
const MAX_PAGE_SIZE: u32 = 100;
const JSON: &str = "application/json";

/// A Freshservice account, reached through API v2 with an administrator's API key.
///
/// ```
/// use identity_connectors::FreshserviceApiKey;
///
/// for instance in ["acme", "ACME.freshservice.com", "https://acme.freshservice.com/a/tickets/1"] {
///     let fs = FreshserviceApiKey::new(instance, "api-key")?;
///     assert_eq!(fs.base_url().as_str(), "https://acme.freshservice.com/api/v2");
/// }
/// assert!(FreshserviceApiKey::new("https://help.acme.com", "api-key").is_err());
/// # Ok::<(), identity_connectors::Error>(())
/// ```
///
/// See the [module documentation](self) for the mapping and the requests each operation sends.
/// Clones share the cached department and location lists.
#[derive(Clone)]
pub struct FreshserviceApiKey {
    pub(crate) base_url: Url,
    pub(crate) authorization: Authorization,
    pub(crate) display_name: String,
    pub(crate) default_kind: FreshserviceUserKind,
    default_agent_roles: Vec<AgentRole>,
    default_occasional: Option<bool>,
    employee_number_field: Option<String>,
    names: Arc<NameCache>,
}

impl FreshserviceApiKey {
    /// A Freshservice account from its instance name and an admin's API key.
    ///
    /// `instance` may be the bare name (`acme`), the host (`acme.freshservice.com`) or any URL
    /// copied from the browser or the API docs (`https://acme.freshservice.com/a/tickets/1`,
    /// `https://acme.freshservice.com/api/v2/`); `http` is upgraded to `https`. Custom domains,
    /// other Freshworks products' hosts, ports, user info and `/api/` paths other than v2 are
    /// rejected with an explanation.
    ///
    /// Errors never repeat either argument. An API key given as the instance (or an address given
    /// as the key) is refused: the arguments are the instance first, the key second.
    pub fn new(instance: &str, api_key: impl Into<SecretString>) -> Result<Self> {
        let api_key = api_key.into();
        instance::check_argument_order(instance, api_key.expose_secret())?;
        let name = instance::normalise_instance(instance)?;
        let base_url = Url::parse(&format!("https://{name}.freshservice.com/api/v2"))
            .map_err(|e| Error::invalid_config(format!("the Freshservice instance name is not usable: {e}")))?;
        Self::with_base(base_url, api_key, format!("Freshservice ({name})"))
    }

    /// A Freshservice-compatible API at a loopback base URL such as `http://127.0.0.1:8080/api/v2`:
    /// for tests and the crate's sandbox. Any other host is rejected.
    pub fn for_loopback(base_url: &str, api_key: impl Into<SecretString>) -> Result<Self> {
        let base_url = parse_base_url(base_url, Scheme::Loopback, "Freshservice base URL")?;
        let display_name = format!("Freshservice ({})", base_url.host_str().unwrap_or_default());
        Self::with_base(base_url, api_key.into(), display_name)
    }

    fn with_base(base_url: Url, api_key: SecretString, display_name: String) -> Result<Self> {
        let authorization = Authorization::basic(&api_key, "X")?;
        Ok(FreshserviceApiKey {
            base_url,
            authorization,
            display_name,
            default_kind: FreshserviceUserKind::Requester,
            default_agent_roles: Vec::new(),
            default_occasional: None,
            employee_number_field: None,
            names: Arc::new(NameCache::default()),
        })
    }

    /// Makes users without an explicit [`FreshserviceAttributes::kind`] agents (or requesters,
    /// the default) when they are created.
    pub fn with_default_kind(mut self, kind: FreshserviceUserKind) -> Self {
        self.default_kind = kind;
        self
    }

    /// The roles an agent is created with when its [`FreshserviceAttributes::roles`] is empty.
    /// Freshservice needs at least one role to create an agent.
    pub fn with_default_agent_roles(mut self, roles: Vec<AgentRole>) -> Self {
        self.default_agent_roles = roles;
        self
    }

    /// Whether agents are created occasional (day-pass) or full-time when their
    /// [`FreshserviceAttributes::occasional`] is unset. Unset here too, the field is not sent and
    /// Freshservice decides.
    pub fn with_default_occasional(mut self, occasional: bool) -> Self {
        self.default_occasional = Some(occasional);
        self
    }

    /// Maps the enterprise employee number to this custom field (its *name* in
    /// `GET /api/v2/requester_fields`, such as `employee_id`), both ways.
    pub fn with_employee_number_field(mut self, field_name: impl Into<String>) -> Self {
        self.employee_number_field = Some(field_name.into());
        self
    }

    /// How long the department and location lists are trusted (default 60 s): a name that is not
    /// in a list older than this makes the connector read the list again once before reporting the
    /// name unknown. Lists are read on first use and shared by clones of this connector.
    pub fn with_name_cache_ttl(mut self, ttl: Duration) -> Self {
        self.names = Arc::new(NameCache::with_ttl(ttl));
        self
    }

    /// The normalised API base URL, `https://<name>.freshservice.com/api/v2`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }
}

impl fmt::Debug for FreshserviceApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FreshserviceApiKey")
            .field("base_url", &self.base_url.as_str())
            .field("api_key", &"[REDACTED]")
            .field("default_kind", &self.default_kind)
            .field("default_agent_roles", &self.default_agent_roles)
            .field("default_occasional", &self.default_occasional)
            .field("employee_number_field", &self.employee_number_field)
            .finish()
    }
}

/// The paths of one of the two user APIs. Templates name endpoints in traces and errors.
struct Api {
    segment: &'static str,
    envelope: &'static str,
    collection: &'static str,
    item: &'static str,
    reactivate: &'static str,
    forget: &'static str,
    convert: &'static str,
    convert_action: &'static str,
}

const REQUESTERS: Api = Api {
    segment: "requesters",
    envelope: "requester",
    collection: "/requesters",
    item: "/requesters/{id}",
    reactivate: "/requesters/{id}/reactivate",
    forget: "/requesters/{id}/forget",
    convert: "/requesters/{id}/convert_to_agent",
    convert_action: "convert_to_agent",
};

const AGENTS: Api = Api {
    segment: "agents",
    envelope: "agent",
    collection: "/agents",
    item: "/agents/{id}",
    reactivate: "/agents/{id}/reactivate",
    forget: "/agents/{id}/forget",
    convert: "/agents/{id}/convert_to_requester",
    convert_action: "convert_to_requester",
};

fn api(kind: FreshserviceUserKind) -> &'static Api {
    match kind {
        FreshserviceUserKind::Agent => &AGENTS,
        FreshserviceUserKind::Requester => &REQUESTERS,
    }
}

/// Which kind a user read back is (every user this module reads says).
fn kind_of(user: &RemoteUser) -> Option<FreshserviceUserKind> {
    user.user.extension::<FreshserviceAttributes>()?.kind
}

/// A Freshservice user id: ASCII digits and nothing else. Nothing is trimmed or parsed away (a
/// sign, padding, a line break), since `42\n` must not address user 42.
fn numeric_id(id: &UserId) -> Result<u64> {
    let digits = id.as_str();
    let parsed = if digits.bytes().all(|b| b.is_ascii_digit()) { digits.parse::<u64>().ok() } else { None };
    parsed.ok_or_else(|| {
        Error::invalid_input(
            "a Freshservice user id is a number",
            vec![FieldError::new("id", "must be the numeric Freshservice user id")],
        )
    })
}

/// The user's e-mail address, which Freshservice identifies users by.
fn required_email(user: &User) -> Result<&str> {
    match user.primary_email().map(str::trim) {
        Some(email) if email.contains('@') && !email.starts_with('@') => Ok(email),
        Some(_) => Err(Error::invalid_input(
            "the user's e-mail address is not usable in Freshservice",
            vec![FieldError::new("emails", "the primary e-mail address must have the form name@domain")],
        )),
        None => Err(Error::invalid_input(
            "Freshservice identifies users by e-mail address, and the user has none",
            vec![FieldError::new("emails", "a primary e-mail address is required")],
        )),
    }
}

fn decode(response: &Response, message: String) -> Error {
    DecodeError::new(Some(response.status()), message, &[]).into()
}

impl FreshserviceApiKey {
    fn desired_kind(&self, user: &User) -> FreshserviceUserKind {
        user.extension::<FreshserviceAttributes>().and_then(|f| f.kind).unwrap_or(self.default_kind)
    }

    fn item_url(&self, http: &Http, api: &Api, id: u64, action: Option<&str>) -> Result<Url> {
        let id = id.to_string();
        match action {
            Some(action) => http.endpoint(&[api.segment, &id, action]),
            None => http.endpoint(&[api.segment, &id]),
        }
    }

    /// Maps a record to the common model, loading the department and location lists first when
    /// the record refers to them (so names compare equal and unchanged users send nothing).
    async fn to_remote(
        &self,
        http: &Http,
        response: &Response,
        view: FreshserviceUserKind,
        record: Map<String, Value>,
    ) -> Result<RemoteUser> {
        let has_departments = matches!(record.get("department_ids"), Some(Value::Array(ids)) if !ids.is_empty());
        let departments = if has_departments { Some(self.names.departments(http).await?) } else { None };
        let has_location = record.get("location_id").is_some_and(|v| !v.is_null());
        let locations = if has_location { Some(self.names.locations(http).await?) } else { None };
        let names = names::Loaded { departments: departments.as_deref(), locations: locations.as_deref() };
        wire::remote_user(record, view, &names, self.employee_number_field.as_deref())
            .map_err(|message| decode(response, message))
    }

    /// Reads the raw record of user `id` through one API.
    async fn fetch(&self, http: &Http, api: &Api, id: u64) -> Result<(Response, Map<String, Value>)> {
        let response = http.send(Request::get(self.item_url(http, api, id, None)?, api.item)).await?;
        let record = wire::one(&response, api.envelope)?;
        Ok((response, record))
    }

    async fn read_agent(&self, http: &Http, id: u64) -> Result<RemoteUser> {
        let (response, record) = self.fetch(http, &AGENTS, id).await?;
        self.to_remote(http, &response, FreshserviceUserKind::Agent, record).await
    }

    /// Finds by e-mail through `view`'s list filter, keeping only an exact (case-insensitive) match.
    async fn find_in(&self, http: &Http, api: &Api, email: &str) -> Result<Option<(Response, Map<String, Value>)>> {
        let mut url = http.endpoint(&[api.segment])?;
        url.query_pairs_mut().append_pair("email", email);
        if api.segment == REQUESTERS.segment {
            url.query_pairs_mut().append_pair("include_agents", "true");
        }
        let response = http.send(Request::get(url, api.collection)).await?;
        let records = wire::many(&response, api.segment, api.envelope)?;
        let found = records.into_iter().find(|r| wire::record_email(r).is_some_and(|e| wire::same_email(e, email)));
        Ok(found.map(|record| (response, record)))
    }

    async fn find_by_email(&self, http: &Http, email: &str) -> Result<Option<RemoteUser>> {
        if let Some((response, record)) = self.find_in(http, &REQUESTERS, email).await? {
            if !wire::is_agent(&record) {
                return self.to_remote(http, &response, FreshserviceUserKind::Requester, record).await.map(Some);
            }
            // The requester view of an agent lacks roles and the occasional flag.
            let id =
                wire::record_id(&record).ok_or_else(|| decode(&response, "the user has no numeric `id`".into()))?;
            return match self.read_agent(http, id).await {
                Ok(agent) => Ok(Some(agent)),
                Err(e) if e.is_not_found() => {
                    self.to_remote(http, &response, FreshserviceUserKind::Agent, record).await.map(Some)
                }
                Err(e) => Err(e),
            };
        }
        match self.find_in(http, &AGENTS, email).await? {
            Some((response, record)) => {
                self.to_remote(http, &response, FreshserviceUserKind::Agent, record).await.map(Some)
            }
            None => Ok(None),
        }
    }

    /// The manager's user id: `value` as is when it is all digits, else the id of the user with
    /// that e-mail address.
    async fn manager_id(&self, http: &Http, value: &str) -> Result<u64> {
        let value = value.trim();
        if let Ok(id) = value.parse::<u64>() {
            return Ok(id);
        }
        if !value.contains('@') {
            return Err(Error::invalid_input(
                "the manager must be given as a Freshservice user id or an e-mail address",
                vec![FieldError::new("manager", "neither a numeric user id nor an e-mail address")],
            ));
        }
        let manager = self.find_by_email(http, value).await?;
        let id = manager.map(|m| numeric_id(&m.id)).transpose()?;
        // The address stays out of the message: errors must not carry e-mail addresses.
        id.ok_or_else(|| {
            Error::invalid_input(
                "the manager's e-mail address matches no Freshservice user; provision the manager first",
                vec![FieldError::new("manager", "no Freshservice user has this e-mail address")],
            )
        })
    }

    /// The request body that creates `user` (when `current` is `None`) or applies the partial
    /// user `user` to `current`. `None` when an update has no Freshservice field to change.
    async fn body(
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
            let id = self.names.department_id(http, department).await?;
            put("department_ids", json!([id]));
        }
        if let Some(manager) = enterprise.manager.as_ref().and_then(|m| m.value.as_deref()) {
            let id = self.manager_id(http, manager).await?;
            let current_manager = current
                .and_then(|c| c.user.enterprise.as_ref()?.manager.as_ref()?.value.as_deref()?.parse::<u64>().ok());
            if current_manager != Some(id) {
                put("reporting_manager_id", json!(id));
            }
        }
        if let Some(location) = &fs.location {
            let id = self.names.location_id(http, location).await?;
            put("location_id", json!(id));
        }
        if let Some(time_zone) = &user.timezone {
            put("time_zone", json!(time_zone));
        }
        if let Some(language) = &user.preferred_language {
            put("language", json!(language));
        }
        let mut custom_fields = fs.custom_fields.clone();
        if let (Some(field), Some(number)) = (&self.employee_number_field, &enterprise.employee_number) {
            custom_fields.insert(field.clone(), json!(number));
        }
        if !custom_fields.is_empty() {
            put("custom_fields", Value::Object(custom_fields));
        }
        if kind == FreshserviceUserKind::Agent {
            let occasional = if creating { fs.occasional.or(self.default_occasional) } else { fs.occasional };
            if let Some(occasional) = occasional {
                put("occasional", json!(occasional));
            }
            let roles = if creating && fs.roles.is_empty() { &self.default_agent_roles } else { &fs.roles };
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

    fn check_agent_roles(&self, user: &User, fields: &mut Vec<FieldError>) {
        let roles = user.extension::<FreshserviceAttributes>().map(|f| f.roles.len()).unwrap_or(0);
        if self.desired_kind(user) == FreshserviceUserKind::Agent && roles == 0 && self.default_agent_roles.is_empty() {
            fields.push(FieldError::new(
                "roles",
                "an agent needs at least one role: set FreshserviceAttributes::roles or FreshserviceApiKey::with_default_agent_roles",
            ));
        }
    }
}

#[async_trait]
impl Connector for FreshserviceApiKey {
    fn kind(&self) -> &'static str {
        "freshservice"
    }

    fn display_name(&self) -> &str {
        &self.display_name
    }

    fn base_url(&self) -> &Url {
        &self.base_url
    }

    fn authorization(&self) -> &Authorization {
        &self.authorization
    }

    /// Adds what to check to `401` (the API key) and `403` (the key owner's rights).
    fn api_error(&self, response: &Response) -> ApiError {
        error::api_error(response)
    }

    /// The primary e-mail address: Freshservice users are unique by e-mail.
    fn match_key(&self, user: &User) -> Result<Lookup> {
        Ok(Lookup::Email(required_email(user)?.to_string()))
    }

    /// A usable e-mail address, and at least one role for an agent.
    fn check_new_user(&self, user: &User) -> Result<()> {
        let mut fields = Vec::new();
        if let Err(Error::Validation(e)) = required_email(user) {
            fields.extend(e.fields);
        }
        self.check_agent_roles(user, &mut fields);
        if fields.is_empty() {
            return Ok(());
        }
        Err(Error::invalid_input("the user cannot be created in Freshservice", fields))
    }

    /// `GET /requesters?per_page=1`. A `404` means the instance name is wrong.
    async fn test_connection(&self, http: &Http) -> Result<()> {
        let mut url = http.endpoint(&[REQUESTERS.segment])?;
        url.query_pairs_mut().append_pair("per_page", "1");
        let response = match http.send(Request::get(url, REQUESTERS.collection)).await {
            Ok(response) => response,
            Err(Error::NotFound(error)) => {
                return Err(Error::NotFound(error::with_not_found_hint(error)));
            }
            Err(error) => return Err(error),
        };
        wire::many(&response, REQUESTERS.segment, REQUESTERS.envelope).map(|_| ())
    }

    async fn create_user(&self, http: &Http, user: &User) -> Result<RemoteUser> {
        self.check_new_user(user)?;
        let kind = self.desired_kind(user);
        let api = api(kind);
        let body = self.body(http, user, kind, None).await?.unwrap_or_default();
        let request = Request::post(http.endpoint(&[api.segment])?, api.collection).json(JSON, &body)?;
        let response = http.send(request).await?;
        let record = wire::one(&response, api.envelope)?;
        self.to_remote(http, &response, kind, record).await
    }

    async fn get_user(&self, http: &Http, id: &UserId) -> Result<RemoteUser> {
        let id = numeric_id(id)?;
        match self.fetch(http, &REQUESTERS, id).await {
            Ok((_, record)) if wire::is_agent(&record) => self.read_agent(http, id).await,
            Ok((response, record)) => self.to_remote(http, &response, FreshserviceUserKind::Requester, record).await,
            Err(e) if e.is_not_found() => self.read_agent(http, id).await,
            Err(e) => Err(e),
        }
    }

    /// By e-mail. A [`Lookup::UserName`] that contains `@` is taken as the e-mail address (this
    /// connector's user name is the primary e-mail); other look-ups are validation errors.
    async fn find_user(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        let email = match lookup {
            Lookup::Email(email) => email,
            Lookup::UserName(name) if name.contains('@') => name,
            other => {
                return Err(Error::invalid_input(
                    format!("Freshservice users can be looked up by e-mail address only, not by {}", other.attribute()),
                    vec![FieldError::new(other.attribute(), "not searchable in Freshservice")],
                ));
            }
        };
        let email = email.trim();
        if email.is_empty() {
            return Err(Error::invalid_input(
                "the e-mail address to look up is empty",
                vec![FieldError::new("email", "must not be empty")],
            ));
        }
        self.find_by_email(http, email).await
    }

    async fn update_user(
        &self,
        http: &Http,
        id: &UserId,
        changes: &User,
        current: Option<&RemoteUser>,
    ) -> Result<UpdateOutcome> {
        let numeric = numeric_id(id)?;
        let mut current = match current.filter(|c| kind_of(c).is_some()) {
            Some(current) => current.clone(),
            None => self.get_user(http, id).await?,
        };
        let current_kind = kind_of(&current).unwrap_or_default();
        let target = changes.extension::<FreshserviceAttributes>().and_then(|f| f.kind).unwrap_or(current_kind);
        let mut converted = false;
        if target != current_kind {
            let from = api(current_kind);
            let url = self.item_url(http, from, numeric, Some(from.convert_action))?;
            let response = http.send(Request::put(url, from.convert)).await?;
            let record = wire::one(&response, api(target).envelope)?;
            current = self.to_remote(http, &response, target, record).await?;
            converted = true;
        }
        let Some(body) = self.body(http, changes, target, Some(&current)).await? else {
            return Ok(if converted {
                UpdateOutcome::Updated(Some(Box::new(current)))
            } else {
                UpdateOutcome::Unchanged
            });
        };
        let api = api(target);
        let request = Request::put(self.item_url(http, api, numeric, None)?, api.item).json(JSON, &body)?;
        let response = http.send(request).await?;
        let record = wire::one(&response, api.envelope)?;
        Ok(UpdateOutcome::Updated(Some(Box::new(self.to_remote(http, &response, target, record).await?))))
    }

    /// Reads the user first (to learn requester or agent); sends nothing when they already are as
    /// asked.
    async fn set_active(&self, http: &Http, id: &UserId, active: bool) -> Result<()> {
        let current = self.get_user(http, id).await?;
        if current.user.active == Some(active) {
            return Ok(());
        }
        let numeric = numeric_id(id)?;
        let api = api(kind_of(&current).unwrap_or_default());
        let request = if active {
            Request::put(self.item_url(http, api, numeric, Some("reactivate"))?, api.reactivate)
        } else {
            Request::delete(self.item_url(http, api, numeric, None)?, api.item)
        };
        http.send(request).await.map(|_| ())
    }

    /// `DELETE …/{id}/forget`: irreversible, and also deletes every ticket the person requested.
    async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()> {
        let current = self.get_user(http, id).await?;
        let api = api(kind_of(&current).unwrap_or_default());
        let url = self.item_url(http, api, numeric_id(id)?, Some("forget"))?;
        http.send(Request::delete(url, api.forget)).await.map(|_| ())
    }

    /// A page of requesters and agents; the token is the next page number.
    async fn list_users(&self, http: &Http, page: &PageRequest) -> Result<UserPage> {
        let number = match &page.token {
            None => 1,
            Some(token) => token.as_str().parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Error::invalid_input(
                    "the page token is not one this connector produced",
                    vec![FieldError::new("token", "must be a page number")],
                )
            })?,
        };
        let size = page.size.clamp(1, MAX_PAGE_SIZE);
        let mut url = http.endpoint(&[REQUESTERS.segment])?;
        url.query_pairs_mut()
            .append_pair("per_page", &size.to_string())
            .append_pair("page", &number.to_string())
            .append_pair("include_agents", "true");
        let response = http.send(Request::get(url.clone(), REQUESTERS.collection)).await?;
        let next = wire::next_page(&response, &url, number)?;
        let mut users = Vec::new();
        for record in wire::many(&response, REQUESTERS.segment, REQUESTERS.envelope)? {
            users.push(self.to_remote(http, &response, FreshserviceUserKind::Requester, record).await?);
        }
        Ok(UserPage::new(users, next.map(|n| PageToken::new(n.to_string())), None))
    }
}
