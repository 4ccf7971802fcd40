//! Reading Freshservice users: the paths of the requester and agent APIs, the checks on ids and
//! e-mail addresses, and the look-ups every operation is built from.

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Map, Value};
use url::Url;

use super::attributes::{FreshserviceAttributes, FreshserviceUserKind};
use super::names::{Loaded, NameCache};
use super::wire;
use crate::error::{DecodeError, Error, FieldError, Result};
use crate::http::{Http, Request, Response};
use crate::resource::{RemoteUser, UserId};
use crate::user::User;

/// The paths of one of the two user APIs. Templates name endpoints in traces and errors.
pub(super) struct Api {
    pub(super) segment: &'static str,
    pub(super) envelope: &'static str,
    pub(super) collection: &'static str,
    pub(super) item: &'static str,
    pub(super) reactivate: &'static str,
    pub(super) forget: &'static str,
    pub(super) convert: &'static str,
    pub(super) convert_action: &'static str,
}

pub(super) const REQUESTERS: Api = Api {
    segment: "requesters",
    envelope: "requester",
    collection: "/requesters",
    item: "/requesters/{id}",
    reactivate: "/requesters/{id}/reactivate",
    forget: "/requesters/{id}/forget",
    convert: "/requesters/{id}/convert_to_agent",
    convert_action: "convert_to_agent",
};

pub(super) const AGENTS: Api = Api {
    segment: "agents",
    envelope: "agent",
    collection: "/agents",
    item: "/agents/{id}",
    reactivate: "/agents/{id}/reactivate",
    forget: "/agents/{id}/forget",
    convert: "/agents/{id}/convert_to_requester",
    convert_action: "convert_to_requester",
};

/// The API that serves users of `kind`.
pub(super) fn api(kind: FreshserviceUserKind) -> &'static Api {
    match kind {
        FreshserviceUserKind::Agent => &AGENTS,
        FreshserviceUserKind::Requester => &REQUESTERS,
    }
}

/// Which kind a user read back is (every user this module reads says).
pub(super) fn kind_of(user: &RemoteUser) -> Option<FreshserviceUserKind> {
    user.user.extension::<FreshserviceAttributes>()?.kind
}

/// A Freshservice user id: ASCII digits and nothing else. Nothing is trimmed or parsed away (a
/// sign, padding, a line break), since `42\n` must not address user 42.
pub(super) fn numeric_id(id: &UserId) -> Result<u64> {
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
pub(super) fn required_email(user: &User) -> Result<&str> {
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

/// A decode error for a record that does not fit the model. It quotes no body: records hold
/// personal data, and `message` says what is wrong.
pub(super) fn decode(response: &Response, message: String) -> Error {
    DecodeError::new(Some(response.status()), message, &[]).into()
}

/// The URL of user `id` in `api`, or of one of its actions (`reactivate`, `forget`, …).
pub(super) fn item_url(http: &Http, api: &Api, id: u64, action: Option<&str>) -> Result<Url> {
    let id = id.to_string();
    match action {
        Some(action) => http.endpoint(&[api.segment, &id, action]),
        None => http.endpoint(&[api.segment, &id]),
    }
}

/// What reading users needs of the connector: its cached department and location lists, and the
/// custom field the enterprise employee number maps to.
pub(super) struct Reader<'a> {
    pub(super) names: &'a NameCache,
    pub(super) employee_number_field: Option<&'a str>,
    /// Set once an agent was found through `GET /agents?email=` whom `GET
    /// /requesters?include_agents=true` did not show (a key without the Manage Agents
    /// permission, say): from then on the quick look-up is the full one.
    pub(super) agents_hidden: &'a AtomicBool,
}

impl Reader<'_> {
    /// Maps a record to the common model, loading the department and location lists first when
    /// the record refers to them (so names compare equal and unchanged users send nothing).
    pub(super) async fn to_remote(
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
        let names = Loaded { departments: departments.as_deref(), locations: locations.as_deref() };
        wire::remote_user(record, view, &names, self.employee_number_field).map_err(|message| decode(response, message))
    }

    /// Reads the raw record of user `id` through one API.
    pub(super) async fn fetch(&self, http: &Http, api: &Api, id: u64) -> Result<(Response, Map<String, Value>)> {
        let response = http.send(Request::get(item_url(http, api, id, None)?, api.item)).await?;
        let record = wire::one(&response, api.envelope)?;
        Ok((response, record))
    }

    pub(super) async fn read_agent(&self, http: &Http, id: u64) -> Result<RemoteUser> {
        let (response, record) = self.fetch(http, &AGENTS, id).await?;
        self.to_remote(http, &response, FreshserviceUserKind::Agent, record).await
    }

    /// Finds by e-mail through `view`'s list filter, keeping only an exact (case-insensitive) match.
    pub(super) async fn find_in(
        &self,
        http: &Http,
        api: &Api,
        email: &str,
    ) -> Result<Option<(Response, Map<String, Value>)>> {
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

    /// The full look-up by e-mail: `GET /requesters?email=…&include_agents=true`, then, when that
    /// finds nobody, `GET /agents?email=…` (the reference's Resolve).
    pub(super) async fn find_by_email(&self, http: &Http, email: &str) -> Result<Option<RemoteUser>> {
        if let Some(found) = self.find_with_agents(http, email).await? {
            return Ok(Some(found));
        }
        match self.find_in(http, &AGENTS, email).await? {
            Some((response, record)) => {
                if !self.agents_hidden.swap(true, Ordering::Relaxed) {
                    tracing::warn!(
                        "an agent was found through /agents but not through /requesters?include_agents=true; \
                         joiners are now looked up through both"
                    );
                }
                self.to_remote(http, &response, FreshserviceUserKind::Agent, record).await.map(Some)
            }
            None => Ok(None),
        }
    }

    /// The look-up before a create: `GET /requesters?email=…&include_agents=true` alone, which shows
    /// requesters and agents alike. A person it misses makes the create fail with `duplicate_value`,
    /// and provisioning then runs the full look-up; once that has shown an agent this one missed,
    /// this is the full look-up too.
    pub(super) async fn find_before_create(&self, http: &Http, email: &str) -> Result<Option<RemoteUser>> {
        if self.agents_hidden.load(Ordering::Relaxed) {
            return self.find_by_email(http, email).await;
        }
        self.find_with_agents(http, email).await
    }

    /// `GET /requesters?email=…&include_agents=true`; an agent found so is read again through
    /// `GET /agents/{id}`, for its roles.
    async fn find_with_agents(&self, http: &Http, email: &str) -> Result<Option<RemoteUser>> {
        let Some((response, record)) = self.find_in(http, &REQUESTERS, email).await? else { return Ok(None) };
        if !wire::is_agent(&record) {
            return self.to_remote(http, &response, FreshserviceUserKind::Requester, record).await.map(Some);
        }
        // The requester view of an agent lacks roles and the occasional flag.
        let id = wire::record_id(&record).ok_or_else(|| decode(&response, "the user has no numeric `id`".into()))?;
        match self.read_agent(http, id).await {
            Ok(agent) => Ok(Some(agent)),
            Err(e) if e.is_not_found() => {
                self.to_remote(http, &response, FreshserviceUserKind::Agent, record).await.map(Some)
            }
            Err(e) => Err(e),
        }
    }

    /// The manager's user id: `value` as is when it is all digits, else the id of the user with
    /// that e-mail address.
    pub(super) async fn manager_id(&self, http: &Http, value: &str) -> Result<u64> {
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
}
