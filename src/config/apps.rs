//! The fields of each app's connection, and how each becomes a connector.

use std::time::Duration;

use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::auth::Authorization;
use crate::base_url::{Scheme, parse_base_url};
use crate::config::error::{ConfigProblem, message_of};
use crate::config::secret::SecretSource;
use crate::config::settings::ClientSettings;
use crate::connector::Connector;
use crate::error::Error;
use crate::freshservice::{AgentRole, FreshserviceApiKey, FreshserviceUserKind, Misplaced, argument_order_problem};
use crate::interact::InteractBearer;
use crate::scim::ScimBearer;

/// A connection to Interact (`type = "interact"`) or to another SCIM 2.0 service provider
/// (`type = "scim"`): Interact is a SCIM service provider, and both take the same fields.
///
/// ```toml
/// [[connections]]
/// type = "interact"
/// name = "Intranet"
/// instance_url = "https://intranet.example.com/api/v2/scim/v2"
/// token = { env = "INTERACT_TOKEN" }
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ScimConfig {
    /// The connection's name, as people call it ("Intranet"). Unique within a list.
    pub name: String,
    /// The SCIM base URL (Interact: `https://<intranet>/api/v2/scim/v2`). Must be `https`.
    #[serde(default)]
    pub instance_url: Option<String>,
    /// Instead of `instance_url`, for tests and the crate's sandbox: a base URL on a loopback host
    /// (`http://127.0.0.1:8080/scim/v2`), where plain `http` is accepted.
    #[serde(default)]
    pub loopback_url: Option<String>,
    /// The bearer token (Interact: the SCIM profile source's key).
    pub token: SecretSource,
    /// How the client behaves.
    #[serde(default)]
    pub client: ClientSettings,
}

impl ScimConfig {
    /// A connection named `name` to the SCIM service at `instance_url`, with default client
    /// settings.
    pub fn new(name: impl Into<String>, instance_url: impl Into<String>, token: SecretSource) -> Self {
        ScimConfig {
            name: name.into(),
            instance_url: Some(instance_url.into()),
            loopback_url: None,
            token,
            client: ClientSettings::default(),
        }
    }

    /// A connection to a loopback test server (such as the crate's sandbox) at `loopback_url`.
    pub fn loopback(name: impl Into<String>, loopback_url: impl Into<String>, token: SecretSource) -> Self {
        ScimConfig { instance_url: None, loopback_url: Some(loopback_url.into()), ..ScimConfig::new(name, "", token) }
    }

    /// The connector (`interact`: an [`InteractBearer`], else a [`ScimBearer`]), or every problem
    /// with its path relative to the connection.
    pub(crate) fn build(&self, interact: bool) -> Result<Box<dyn Connector>, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let url = checked_url(&self.instance_url, &self.loopback_url, &mut problems);
        let token = match self.token.resolve() {
            Ok(token) => check(Authorization::bearer(&token), "token", &mut problems).map(|_| token),
            Err(message) => {
                problems.push(ConfigProblem::new("token", message));
                None
            }
        };
        let (Some((url, scheme)), Some(token)) = (url, token) else { return Err(problems) };
        let built: Result<Box<dyn Connector>, Error> = match (interact, scheme) {
            (true, Scheme::HttpsOnly) => InteractBearer::new(url, token).map(|c| Box::new(c) as _),
            (true, Scheme::Loopback) => InteractBearer::for_loopback(url, token).map(|c| Box::new(c) as _),
            (false, Scheme::HttpsOnly) => ScimBearer::new(url, token).map(|c| Box::new(c) as _),
            (false, Scheme::Loopback) => ScimBearer::for_loopback(url, token).map(|c| Box::new(c) as _),
        };
        built.map_err(|e| vec![ConfigProblem::new("", message_of(e))])
    }
}

/// A connection to Freshservice (`type = "freshservice"`), with the connector's options.
///
/// ```toml
/// [[connections]]
/// type = "freshservice"
/// name = "Service desk"
/// instance = "acme"                       # or acme.freshservice.com, or any URL on it
/// api_key = { file = "/run/secrets/freshservice" }
/// default_kind = "requester"              # or "agent"
/// default_agent_roles = [{ role_id = 7, assignment_scope = "entire_helpdesk" }]
/// default_occasional = false
/// employee_number_field = "employee_id"
/// name_cache_ttl = "5m"
/// ```
///
/// The options are [`FreshserviceApiKey`]'s:
/// [`with_default_kind`](FreshserviceApiKey::with_default_kind),
/// [`with_default_agent_roles`](FreshserviceApiKey::with_default_agent_roles),
/// [`with_default_occasional`](FreshserviceApiKey::with_default_occasional),
/// [`with_employee_number_field`](FreshserviceApiKey::with_employee_number_field) and
/// [`with_name_cache_ttl`](FreshserviceApiKey::with_name_cache_ttl).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FreshserviceConfig {
    /// The connection's name, as people call it ("Service desk"). Unique within a list.
    pub name: String,
    /// The instance: its name (`acme`), its host (`acme.freshservice.com`) or a URL on it.
    #[serde(default)]
    pub instance: Option<String>,
    /// Instead of `instance`, for tests and the crate's sandbox: an API base URL on a loopback
    /// host (`http://127.0.0.1:8080/api/v2`).
    #[serde(default)]
    pub loopback_url: Option<String>,
    /// An administrator's API key.
    pub api_key: SecretSource,
    /// Whether users without an explicit kind are created as requesters (the default) or agents:
    /// `"requester"` or `"agent"`.
    #[serde(default, deserialize_with = "user_kind")]
    pub default_kind: Option<FreshserviceUserKind>,
    /// The roles an agent is created with when the user names none.
    #[serde(default, deserialize_with = "agent_roles")]
    pub default_agent_roles: Vec<AgentRole>,
    /// Whether agents are created occasional (day-pass) or full-time when the user does not say.
    #[serde(default)]
    pub default_occasional: Option<bool>,
    /// The custom field that holds the enterprise employee number (its name in
    /// `GET /api/v2/requester_fields`, such as `employee_id`).
    #[serde(default)]
    pub employee_number_field: Option<String>,
    /// How long the department and location lists are trusted (default 60 s).
    #[serde(default, deserialize_with = "super::duration::option")]
    pub name_cache_ttl: Option<Duration>,
    /// How the client behaves.
    #[serde(default)]
    pub client: ClientSettings,
}

impl FreshserviceConfig {
    /// A connection named `name` to the Freshservice `instance`, with the connector's and the
    /// client's defaults.
    pub fn new(name: impl Into<String>, instance: impl Into<String>, api_key: SecretSource) -> Self {
        FreshserviceConfig {
            name: name.into(),
            instance: Some(instance.into()),
            loopback_url: None,
            api_key,
            default_kind: None,
            default_agent_roles: Vec::new(),
            default_occasional: None,
            employee_number_field: None,
            name_cache_ttl: None,
            client: ClientSettings::default(),
        }
    }

    /// A connection to a loopback test server (such as the crate's sandbox) at `loopback_url`.
    pub fn loopback(name: impl Into<String>, loopback_url: impl Into<String>, api_key: SecretSource) -> Self {
        FreshserviceConfig {
            instance: None,
            loopback_url: Some(loopback_url.into()),
            ..FreshserviceConfig::new(name, "", api_key)
        }
    }

    /// The connector, or every problem with its path relative to the connection.
    pub(crate) fn build(&self) -> Result<FreshserviceApiKey, Vec<ConfigProblem>> {
        let mut problems = Vec::new();
        let key = match self.api_key.resolve() {
            Ok(key) => check(Authorization::basic(&key, "X"), "api_key", &mut problems).map(|_| key),
            Err(message) => {
                problems.push(ConfigProblem::new("api_key", message));
                None
            }
        };
        let place = match (&self.instance, &self.loopback_url) {
            (Some(_), Some(_)) => {
                problems.push(ConfigProblem::new("", "give `instance` or `loopback_url`, not both"));
                None
            }
            (None, None) => {
                problems.push(ConfigProblem::new("instance", "is missing (the instance name, such as `acme`)"));
                None
            }
            (Some(instance), None) => Some((instance.as_str(), false)),
            (None, Some(url)) => {
                check(parse_base_url(url, Scheme::Loopback, "loopback URL"), "loopback_url", &mut problems)
                    .map(|_| (url.as_str(), true))
            }
        };
        let connector = match (place, key) {
            (Some((place, true)), Some(key)) => FreshserviceApiKey::for_loopback(place, key)
                .map_err(|error| problems.push(ConfigProblem::new("loopback_url", message_of(error))))
                .ok(),
            (Some((place, false)), Some(key)) => {
                // The order check names the argument it blames; the key was checked on its own
                // above, so anything else the constructor refuses is about the instance.
                match argument_order_problem(place, key.expose_secret()) {
                    Some((Misplaced::ApiKey, error)) => {
                        problems.push(ConfigProblem::new("api_key", message_of(error)));
                        None
                    }
                    Some((Misplaced::Instance, error)) => {
                        problems.push(ConfigProblem::new("instance", message_of(error)));
                        None
                    }
                    None => FreshserviceApiKey::new(place, key)
                        .map_err(|error| problems.push(ConfigProblem::new("instance", message_of(error))))
                        .ok(),
                }
            }
            _ => None,
        };
        problems.extend(self.option_problems());
        let Some(connector) = connector.filter(|_| problems.is_empty()) else { return Err(problems) };
        let mut connector = connector
            .with_default_kind(self.default_kind.unwrap_or_default())
            .with_default_agent_roles(self.default_agent_roles.clone());
        if let Some(occasional) = self.default_occasional {
            connector = connector.with_default_occasional(occasional);
        }
        if let Some(field) = &self.employee_number_field {
            connector = connector.with_employee_number_field(field.trim());
        }
        if let Some(ttl) = self.name_cache_ttl {
            connector = connector.with_name_cache_ttl(ttl);
        }
        Ok(connector)
    }

    /// Problems with the connector's options.
    fn option_problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        for (i, role) in self.default_agent_roles.iter().enumerate() {
            let path = format!("default_agent_roles[{i}]");
            if !ASSIGNMENT_SCOPES.contains(&role.assignment_scope.as_str()) {
                problems.push(ConfigProblem::new(
                    format!("{path}.assignment_scope"),
                    "must be `entire_helpdesk`, `member_groups`, `specified_groups` or `assigned_items`",
                ));
            } else if role.assignment_scope == "specified_groups" && role.groups.is_empty() {
                problems
                    .push(ConfigProblem::new(format!("{path}.groups"), "`specified_groups` needs at least one group"));
            }
        }
        if self.employee_number_field.as_deref().is_some_and(|f| f.trim().is_empty()) {
            problems.push(ConfigProblem::new("employee_number_field", "is empty"));
        }
        problems
    }
}

/// Freshservice's agent role scopes.
const ASSIGNMENT_SCOPES: [&str; 4] = ["entire_helpdesk", "member_groups", "specified_groups", "assigned_items"];

/// The base URL and how to treat it, from an `instance_url` / `loopback_url` pair; problems go to
/// `problems`.
fn checked_url<'a>(
    instance_url: &'a Option<String>,
    loopback_url: &'a Option<String>,
    problems: &mut Vec<ConfigProblem>,
) -> Option<(&'a str, Scheme)> {
    match (instance_url, loopback_url) {
        (Some(_), Some(_)) => {
            problems.push(ConfigProblem::new("", "give `instance_url` or `loopback_url`, not both"));
            None
        }
        (None, None) => {
            problems.push(ConfigProblem::new("instance_url", "is missing (the SCIM base URL)"));
            None
        }
        (Some(url), None) if url.trim_start().get(..7).is_some_and(|s| s.eq_ignore_ascii_case("http://")) => {
            problems.push(ConfigProblem::new(
                "instance_url",
                "must use https; plain http is accepted only for loopback test servers, as `loopback_url`",
            ));
            None
        }
        (Some(url), None) => check(parse_base_url(url, Scheme::HttpsOnly, "instance URL"), "instance_url", problems)
            .map(|_| (url.as_str(), Scheme::HttpsOnly)),
        (None, Some(url)) => check(parse_base_url(url, Scheme::Loopback, "loopback URL"), "loopback_url", problems)
            .map(|_| (url.as_str(), Scheme::Loopback)),
    }
}

/// `result`'s value, or `None` with its message recorded as a problem at `path`.
fn check<T>(result: Result<T, Error>, path: &str, problems: &mut Vec<ConfigProblem>) -> Option<T> {
    result.map_err(|error| problems.push(ConfigProblem::new(path, message_of(error)))).ok()
}

fn user_kind<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<FreshserviceUserKind>, D::Error> {
    #[derive(Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Kind {
        Requester,
        Agent,
    }
    Ok(Some(match Kind::deserialize(deserializer)? {
        Kind::Requester => FreshserviceUserKind::Requester,
        Kind::Agent => FreshserviceUserKind::Agent,
    }))
}

/// Agent roles, with typos in their fields refused ([`AgentRole`]'s own `Deserialize` reads API
/// answers and so ignores unknown fields).
fn agent_roles<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<AgentRole>, D::Error> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Role {
        role_id: u64,
        assignment_scope: String,
        #[serde(default)]
        groups: Vec<u64>,
    }
    let roles = Vec::<Role>::deserialize(deserializer)?;
    Ok(roles
        .into_iter()
        .map(|r| {
            let mut role = AgentRole::new(r.role_id, r.assignment_scope);
            role.groups = r.groups;
            role
        })
        .collect())
}
