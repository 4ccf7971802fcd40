//! Freshservice, through its REST API v2 with an admin's API key.
//!
//! The API key is sent as HTTP Basic auth with the key as user name and `X` as password. API v2
//! answers only on `https://<name>.freshservice.com/api/v2`, never on a custom (CNAME) domain.

use std::fmt;

use secrecy::SecretString;
use serde_json::{Map, Value};
use url::Url;

use crate::auth::Authorization;
use crate::base_url::{Scheme, parse_base_url};
use crate::error::{Error, Result};

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
#[derive(Clone)]
pub struct FreshserviceApiKey {
    pub(crate) base_url: Url,
    pub(crate) authorization: Authorization,
    pub(crate) display_name: String,
    pub(crate) default_kind: FreshserviceUserKind,
}

impl FreshserviceApiKey {
    /// A Freshservice account from its instance name and an admin's API key.
    ///
    /// `instance` may be the bare name (`acme`), the host (`acme.freshservice.com`) or any URL
    /// copied from the browser or the API docs (`https://acme.freshservice.com/a/tickets/1`,
    /// `https://acme.freshservice.com/api/v2/`); `http` is upgraded to `https`. Custom domains,
    /// other Freshworks products' hosts, ports, user info and `/api/` paths other than v2 are
    /// rejected with an explanation.
    pub fn new(instance: &str, api_key: impl Into<SecretString>) -> Result<Self> {
        let name = normalise_instance(instance)?;
        let base_url = Url::parse(&format!("https://{name}.freshservice.com/api/v2"))
            .map_err(|e| Error::invalid_config(format!("the Freshservice instance name is not usable: {e}")))?;
        Self::with_base(base_url, api_key.into(), format!("Freshservice ({name})"))
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
        Ok(FreshserviceApiKey { base_url, authorization, display_name, default_kind: FreshserviceUserKind::Requester })
    }

    /// Makes users without an explicit [`FreshserviceAttributes::kind`] agents (or requesters,
    /// the default).
    pub fn with_default_kind(mut self, kind: FreshserviceUserKind) -> Self {
        self.default_kind = kind;
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
            .finish()
    }
}

const ACCEPTED_FORMS: &str = "use the instance name (`acme`), its host (`acme.freshservice.com`) or a URL on that host";

/// Reduces any accepted form of a Freshservice instance to its one-label name (`acme`).
pub(crate) fn normalise_instance(input: &str) -> Result<String> {
    let reject = |why: &str| {
        Error::invalid_config(format!("the Freshservice instance `{}` {why}; {ACCEPTED_FORMS}", input.trim()))
    };
    let trimmed = input.trim_matches(char::is_whitespace);
    if trimmed.is_empty() {
        return Err(Error::invalid_config(format!("the Freshservice instance is empty; {ACCEPTED_FORMS}")));
    }
    if !trimmed.is_ascii() {
        return Err(reject("contains non-ASCII characters"));
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(reject("contains whitespace"));
    }
    let host = if trimmed.contains("://") {
        let url = Url::parse(trimmed).map_err(|e| reject(&format!("is not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(reject(&format!("uses `{}`; API v2 is served over https only", url.scheme())));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(reject("contains a user name or password; pass the API key separately"));
        }
        if url.port().is_some() {
            return Err(reject("names a port; API v2 is served on the default https port only"));
        }
        check_path(url.path()).map_err(|why| reject(why))?;
        url.host_str().unwrap_or_default().to_string()
    } else {
        let (host, path) = match trimmed.find('/') {
            Some(at) => trimmed.split_at(at),
            None => (trimmed, ""),
        };
        if host.contains(':') || host.contains('@') {
            return Err(reject("names a port or user info; API v2 is served on the default https port only"));
        }
        check_path(path).map_err(|why| reject(why))?;
        host.to_string()
    };
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    let label = if host.contains('.') {
        match host.strip_suffix(".freshservice.com") {
            Some(label) if !label.contains('.') => label,
            Some(_) => return Err(reject("has more than one name before `.freshservice.com`")),
            None if host == "freshservice.com" => return Err(reject("has no instance name")),
            None => {
                return Err(reject(
                    "is not on freshservice.com: API v2 works only via `<name>.freshservice.com`, not via a custom domain (CNAME) or another Freshworks product",
                ));
            }
        }
    } else {
        host
    };
    if matches!(label, "api" | "www" | "scim") {
        return Err(reject("names a Freshservice service host, not an account"));
    }
    let valid_label = !label.is_empty()
        && label.len() <= 63
        && label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-');
    if !valid_label {
        return Err(reject("is not a valid instance name (letters, digits and inner hyphens only)"));
    }
    Ok(label.to_string())
}

/// Accepts an empty path, `/api/v2` (with or without a trailing slash) and UI paths; rejects other
/// API versions.
fn check_path(path: &str) -> std::result::Result<(), &'static str> {
    let path = path.trim_end_matches('/');
    let lower = path.to_ascii_lowercase();
    if lower == "/api" || (lower.starts_with("/api/") && lower != "/api/v2" && !lower.starts_with("/api/v2/")) {
        return Err("names an API path other than `/api/v2`; this crate speaks API v2 only");
    }
    Ok(())
}

/// Whether a Freshservice user is a requester (an employee who raises tickets) or an agent (IT
/// staff who work them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FreshserviceUserKind {
    /// A requester (the default).
    #[default]
    Requester,
    /// An agent.
    Agent,
}

/// An agent's role: which role, and where it applies.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct AgentRole {
    /// The role's id (`GET /api/v2/roles`).
    pub role_id: u64,
    /// `entire_helpdesk`, `member_groups`, `specified_groups` or `assigned_items`.
    pub assignment_scope: String,
    /// The agent groups, for `specified_groups`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<u64>,
}

impl AgentRole {
    /// A role with a scope and no groups.
    pub fn new(role_id: u64, assignment_scope: impl Into<String>) -> Self {
        AgentRole { role_id, assignment_scope: assignment_scope.into(), groups: Vec::new() }
    }
}

/// Freshservice-only settings of a user. None of it is part of the SCIM JSON.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct FreshserviceAttributes {
    /// Requester or agent; `None` uses the connector's default.
    pub kind: Option<FreshserviceUserKind>,
    /// For agents: whether they are occasional (day-pass) rather than full-time.
    pub occasional: Option<bool>,
    /// For agents: their roles (at least one is needed to create an agent).
    pub roles: Vec<AgentRole>,
    /// For agents: the agent groups they are a member of.
    pub member_of: Vec<u64>,
    /// The location, by name (resolved to `location_id`).
    pub location: Option<String>,
    /// Custom fields, by their field name.
    pub custom_fields: Map<String, Value>,
    /// Whether the user sees all tickets of their departments. Sent on every update, because
    /// Freshservice resets it to `false` otherwise.
    pub can_see_all_tickets_from_associated_departments: Option<bool>,
    /// Fields of the Freshservice record the model has no place for, kept as read.
    pub extra: Map<String, Value>,
}

impl FreshserviceAttributes {
    /// Settings for a user of the given kind.
    pub fn new(kind: FreshserviceUserKind) -> Self {
        FreshserviceAttributes { kind: Some(kind), ..FreshserviceAttributes::default() }
    }

    /// Settings for an agent with these roles.
    pub fn agent(roles: Vec<AgentRole>) -> Self {
        FreshserviceAttributes { kind: Some(FreshserviceUserKind::Agent), roles, ..FreshserviceAttributes::default() }
    }

    /// Sets the location, by name.
    pub fn location(mut self, name: impl Into<String>) -> Self {
        self.location = Some(name.into());
        self
    }

    /// Sets a custom field.
    pub fn custom_field(mut self, name: impl Into<String>, value: Value) -> Self {
        self.custom_fields.insert(name.into(), value);
        self
    }

    /// The settings of `self` that differ from `current`, or `None` when nothing differs.
    /// [`extra`](Self::extra) is read-only and never part of a change.
    pub fn changes_from(&self, current: Option<&FreshserviceAttributes>) -> Option<FreshserviceAttributes> {
        let c = current.cloned().unwrap_or_default();
        let pick = |d: &Option<bool>, c: &Option<bool>| d.filter(|d| Some(*d) != *c);
        let changes = FreshserviceAttributes {
            kind: self.kind.filter(|k| Some(*k) != c.kind),
            occasional: pick(&self.occasional, &c.occasional),
            roles: if !self.roles.is_empty() && self.roles != c.roles { self.roles.clone() } else { Vec::new() },
            member_of: if !self.member_of.is_empty() && self.member_of != c.member_of {
                self.member_of.clone()
            } else {
                Vec::new()
            },
            location: self.location.clone().filter(|l| Some(l) != c.location.as_ref()),
            custom_fields: self
                .custom_fields
                .iter()
                .filter(|(k, v)| c.custom_fields.get(*k) != Some(*v))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            can_see_all_tickets_from_associated_departments: pick(
                &self.can_see_all_tickets_from_associated_departments,
                &c.can_see_all_tickets_from_associated_departments,
            ),
            extra: Map::new(),
        };
        (changes != FreshserviceAttributes::default()).then_some(changes)
    }
}
