//! SCIM service discovery (RFC 7644 §4): what a server says it supports, read once and cached.
//!
//! The SCIM connectors read `GET /ServiceProviderConfig`, `GET /ResourceTypes` and `GET /Schemas`
//! lazily, on the first lifecycle call that needs them, and keep the answer for the connector's
//! life (shared by every clone of the [`Client`](crate::Client)); [`Client::refresh_discovery`]
//! reads them again. Discovery is advice, never a precondition: an endpoint that is missing,
//! answers an error, or serves something that is not a SCIM document (or more than
//! [`MAX_DISCOVERY_BYTES`]) leaves that part unknown, and unknown means today's behaviour (`PATCH`,
//! server-side filters, no `If-Match`, every attribute sent). A lifecycle call never fails because
//! discovery did. When an endpoint failed in a way that may pass (a timeout, a network error, a
//! `5xx` other than `501`, or `429`), the answer is kept for [`REDISCOVER_AFTER`] only, then read again by the next
//! call that needs it.
//!
//! [`Client::refresh_discovery`]: crate::Client::refresh_discovery

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::sync::Mutex;

use crate::http::{Http, Request};
use crate::scim::codec::{boolean, field, string};
use crate::user::CORE_USER_SCHEMA;

/// The largest discovery document read; a larger one is treated as unreadable.
pub const MAX_DISCOVERY_BYTES: usize = 1024 * 1024;
/// The most attribute definitions kept from `/Schemas` (a bound against hostile documents).
const MAX_ATTRIBUTES: usize = 10_000;

/// How long capabilities read while an endpoint failed in a way that may pass (a timeout, a
/// network error, a `5xx` other than `501`, or `429`) are kept before the next request reads them again: a server
/// that was briefly down when a long-running service started is not taken at its defaults for
/// the life of the process.
pub const REDISCOVER_AFTER: Duration = Duration::from_secs(60);

/// What a SCIM attribute's definition says about writing it (RFC 7643 §7, `mutability`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Mutability {
    /// Never sent: the server manages it.
    ReadOnly,
    /// Sent on create and update.
    ReadWrite,
    /// Sent on create only.
    Immutable,
    /// Sent, never returned.
    WriteOnly,
}

impl Mutability {
    fn parse(text: &str) -> Option<Mutability> {
        match text.trim().to_ascii_lowercase().as_str() {
            "readonly" => Some(Mutability::ReadOnly),
            "readwrite" => Some(Mutability::ReadWrite),
            "immutable" => Some(Mutability::Immutable),
            "writeonly" => Some(Mutability::WriteOnly),
            _ => None,
        }
    }
}

/// How one discovery endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndpointStatus {
    /// It served a readable document.
    Found,
    /// It did not: the reason in words (`HTTP 404`, `not JSON`, `timed out`, …), no server text.
    Unavailable(String),
}

/// What a SCIM server said about itself. Every field is `None` (unknown) when the server did not
/// say or said it unreadably; unknown means the connector's default behaviour.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServerCapabilities {
    /// `patch.supported`.
    pub patch: Option<bool>,
    /// `filter.supported`.
    pub filter: Option<bool>,
    /// `filter.maxResults`.
    pub filter_max_results: Option<u64>,
    /// `etag.supported`.
    pub etag: Option<bool>,
    /// The schema URNs the server declares for users (the User resource type's schema and
    /// `schemaExtensions`, and the ids `/Schemas` lists), lower-cased; `None` when neither was read.
    pub declared_schemas: Option<BTreeSet<String>>,
    /// The core User schema's `userName.caseExact`: `true` on a server that compares user names
    /// case-sensitively, where a look-up that finds nobody reads every page (see `lookup`).
    pub user_name_case_exact: Option<bool>,
    /// Attribute mutability from `/Schemas`, keyed `urn|attribute` or `urn|attribute.sub`,
    /// lower-cased.
    mutability: BTreeMap<String, Mutability>,
    /// `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, in that order.
    endpoints: Vec<(&'static str, EndpointStatus)>,
    /// Whether an endpoint failed in a way that may pass: then discovery is read again after
    /// [`REDISCOVER_AFTER`].
    incomplete: bool,
}

/// Why an attribute was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SkipReason {
    ReadOnly,
    Immutable,
    UndeclaredExtension,
    Refused,
}

impl SkipReason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SkipReason::ReadOnly => "read-only on this server",
            SkipReason::Immutable => "immutable on this server (set on create only)",
            SkipReason::UndeclaredExtension => "its extension is not declared by this server",
            SkipReason::Refused => "refused by this server earlier",
        }
    }
}

/// Splits an attribute path into its schema URN (lower-cased; core when none) and the attribute
/// path without value filters, lower-cased: `emails[type eq "work"].value` → (core, `emails.value`).
pub(crate) fn split_path(path: &str) -> (String, String) {
    let mut plain = String::with_capacity(path.len());
    let mut depth = 0usize;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => plain.push(c),
            _ => {}
        }
    }
    if plain.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        if let Some(colon) = plain.rfind(':') {
            let (urn, attribute) = plain.split_at(colon);
            return (urn.to_ascii_lowercase(), attribute[1..].to_ascii_lowercase());
        }
    }
    (CORE_USER_SCHEMA.to_ascii_lowercase(), plain.to_ascii_lowercase())
}

impl ServerCapabilities {
    /// How each discovery endpoint answered, in words: `("/Schemas", Found)`, ….
    pub fn endpoints(&self) -> &[(&'static str, EndpointStatus)] {
        &self.endpoints
    }

    /// The mutability `/Schemas` gives attribute `path` (`externalId`, `name.givenName`,
    /// `urn:…:enterprise:2.0:User:department`), if it gave one. A sub-attribute without its own
    /// definition takes its parent's.
    pub fn mutability(&self, path: &str) -> Option<Mutability> {
        if self.mutability.is_empty() {
            // Nothing known (no readable `/Schemas`): no need to normalise the path.
            return None;
        }
        let (urn, attribute) = split_path(path);
        if let Some(m) = self.mutability.get(&format!("{urn}|{attribute}")) {
            return Some(*m);
        }
        let parent = attribute.split('.').next().unwrap_or_default();
        self.mutability.get(&format!("{urn}|{parent}")).copied()
    }

    /// Whether a write is sent as it is: no attribute's mutability is known and no extension can be
    /// undeclared, so `strip_read_only` removes only `id` and
    /// `meta`.
    pub(crate) fn adapts_nothing(&self) -> bool {
        self.mutability.is_empty() && self.declared_schemas.is_none()
    }

    /// Whether `/Schemas` gave the mutability of any attribute.
    pub(crate) fn knows_mutability(&self) -> bool {
        !self.mutability.is_empty()
    }

    /// Whether the server declares the extension `urn` (always true for the core schema, and
    /// when the server declared nothing readable).
    pub fn declares(&self, urn: &str) -> bool {
        urn.eq_ignore_ascii_case(CORE_USER_SCHEMA)
            || self.declared_schemas.as_ref().is_none_or(|s| s.contains(&urn.to_ascii_lowercase()))
    }

    /// Why attribute `path` must not be sent (on a create when `creating`), if it must not.
    pub(crate) fn skip_reason(&self, path: &str, creating: bool) -> Option<SkipReason> {
        let (urn, _) = split_path(path);
        if !self.declares(&urn) {
            return Some(SkipReason::UndeclaredExtension);
        }
        match self.mutability(path) {
            Some(Mutability::ReadOnly) => Some(SkipReason::ReadOnly),
            Some(Mutability::Immutable) if !creating => Some(SkipReason::Immutable),
            _ => None,
        }
    }

    /// What was found and what was not, one line per point, for
    /// [`Client::test_connection`](crate::Client::test_connection).
    pub fn describe(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .endpoints
            .iter()
            .map(|(endpoint, status)| match status {
                EndpointStatus::Found => format!("{endpoint}: found"),
                EndpointStatus::Unavailable(why) => format!("{endpoint}: not available ({why}); defaults apply"),
            })
            .collect();
        if self.incomplete {
            lines.push(format!(
                "discovery incomplete (a failure that may pass): read again after {} s",
                REDISCOVER_AFTER.as_secs()
            ));
        }
        let said = |value: Option<bool>, yes: &str, no: &str, unknown: &str| match value {
            Some(true) => yes.to_string(),
            Some(false) => no.to_string(),
            None => unknown.to_string(),
        };
        lines.push(said(
            self.patch,
            "PATCH supported: updates are PATCHes",
            "PATCH not supported: updates are full PUTs of the resource as read",
            "PATCH support not stated: updates are PATCHes",
        ));
        let filter = said(
            self.filter,
            "filters supported: look-ups filter on the server (answers are still checked)",
            "filters not supported: look-ups read every page and match locally",
            "filter support not stated: look-ups filter on the server (answers are still checked)",
        );
        lines.push(match self.filter_max_results {
            Some(max) => format!("{filter}; at most {max} results per filter"),
            None => filter,
        });
        lines.push(said(
            self.etag,
            "ETags supported: writes to a read user carry If-Match",
            "ETags not supported: writes carry no If-Match",
            "ETag support not stated: writes carry no If-Match",
        ));
        // Said only when stated: most servers do not say, and then nothing changes.
        match self.user_name_case_exact {
            Some(true) => lines.push(
                "userName compared case-sensitively (caseExact): a look-up that finds nobody reads every page"
                    .to_string(),
            ),
            Some(false) => lines.push("userName compared ignoring case (caseExact false)".to_string()),
            None => {}
        }
        match &self.declared_schemas {
            Some(schemas) => {
                let extensions: Vec<&str> = schemas
                    .iter()
                    .map(String::as_str)
                    .filter(|s| *s != CORE_USER_SCHEMA.to_ascii_lowercase() && s.contains(":extension:"))
                    .collect();
                lines.push(if extensions.is_empty() {
                    "user extensions declared: none (extension attributes are not sent)".to_string()
                } else {
                    format!("user extensions declared: {}", extensions.join(", "))
                });
            }
            None => lines.push("user extensions not declared readably: every extension is sent".to_string()),
        }
        let (read_only, immutable) = self.mutability.values().fold((0, 0), |(r, i), m| match m {
            Mutability::ReadOnly => (r + 1, i),
            Mutability::Immutable => (r, i + 1),
            _ => (r, i),
        });
        if !self.mutability.is_empty() {
            lines.push(format!(
                "attribute definitions: {} read ({read_only} read-only, never sent; {immutable} immutable, sent on create only)",
                self.mutability.len()
            ));
        }
        lines
    }
}

/// The discovery state a connector and its clones share: the capabilities once read, and the
/// attribute paths the server refused since (so one refused attribute does not fail every run).
#[derive(Debug, Clone)]
pub(crate) struct DiscoveryCache {
    inner: Arc<Mutex<CacheState>>,
    /// The capabilities once read: read without waiting on `inner` (every request of a connector
    /// asks for them), written with `inner` held.
    known: Arc<std::sync::RwLock<Option<Known>>>,
    /// [`REDISCOVER_AFTER`], shorter in tests.
    rediscover_after: Duration,
}

impl Default for DiscoveryCache {
    fn default() -> Self {
        DiscoveryCache { inner: Arc::default(), known: Arc::default(), rediscover_after: REDISCOVER_AFTER }
    }
}

/// Capabilities read, and when they are to be read again (incomplete ones only).
#[derive(Debug)]
struct Known {
    capabilities: Arc<ServerCapabilities>,
    stale_at: Option<Instant>,
}

#[derive(Debug, Default)]
struct CacheState {
    refused: BTreeSet<String>,
    /// Whether the server applies `members[value eq "…"]` on `/Groups`, once a probe found out
    /// (see `scim::groups`); `ServiceProviderConfig` cannot say, as servers that ignore a filter
    /// still declare `filter.supported`.
    members_filter: Option<bool>,
}

impl DiscoveryCache {
    /// The capabilities, read on the first call (one reader at a time; the others wait for it).
    pub(crate) async fn get(&self, http: &Http) -> Arc<ServerCapabilities> {
        if let Some(capabilities) = self.known() {
            return capabilities;
        }
        // Boxed: the discovery requests' state would otherwise make every caller's future as
        // large as theirs, for a path taken once.
        Box::pin(async {
            let _state = self.inner.lock().await;
            // Another caller may have read them while this one waited for the lock.
            if let Some(capabilities) = self.known() {
                return capabilities;
            }
            self.remember(discover(http).await)
        })
        .await
    }

    /// The capabilities read, unless there are none or they are incomplete and due to be read
    /// again (the clock is read only then).
    fn known(&self) -> Option<Arc<ServerCapabilities>> {
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        let known = known.as_ref()?;
        if known.stale_at.is_some_and(|at| Instant::now() >= at) {
            return None;
        }
        Some(Arc::clone(&known.capabilities))
    }

    /// Keeps `capabilities` (call with `inner` held, so two discoveries never race).
    fn remember(&self, capabilities: ServerCapabilities) -> Arc<ServerCapabilities> {
        let stale_at = if capabilities.incomplete { Instant::now().checked_add(self.rediscover_after) } else { None };
        let capabilities = Arc::new(capabilities);
        let known = Known { capabilities: Arc::clone(&capabilities), stale_at };
        *self.known.write().unwrap_or_else(PoisonError::into_inner) = Some(known);
        capabilities
    }

    /// Reads the discovery endpoints again and forgets the refused attributes.
    pub(crate) async fn refresh(&self, http: &Http) -> Arc<ServerCapabilities> {
        let mut state = self.inner.lock().await;
        let capabilities = self.remember(Box::pin(discover(http)).await);
        state.refused.clear();
        state.members_filter = None;
        capabilities
    }

    /// Whether the server applies the group members filter, if a probe found out.
    pub(crate) async fn members_filter(&self) -> Option<bool> {
        self.inner.lock().await.members_filter
    }

    /// Remembers whether the server applies the group members filter.
    pub(crate) async fn set_members_filter(&self, applied: bool) {
        self.inner.lock().await.members_filter = Some(applied);
    }

    /// Remembers that the server refused attribute `path` (normalised by [`split_path`]).
    pub(crate) async fn refuse(&self, path: &str) {
        let (urn, attribute) = split_path(path);
        let mut state = self.inner.lock().await;
        if state.refused.len() < MAX_ATTRIBUTES {
            state.refused.insert(format!("{urn}|{attribute}"));
        }
    }

    /// The refused attribute keys so far.
    pub(crate) async fn refused(&self) -> BTreeSet<String> {
        self.inner.lock().await.refused.clone()
    }
}

/// Reads the three discovery endpoints. Never fails: what cannot be read stays unknown.
pub(crate) async fn discover(http: &Http) -> ServerCapabilities {
    let mut capabilities = ServerCapabilities::default();
    let config = fetch(http, "ServiceProviderConfig", "/ServiceProviderConfig").await;
    capabilities.endpoints.push(("/ServiceProviderConfig", status_of(&config)));
    if let Ok(Value::Object(map)) = &config {
        let supported = |key: &str| field(map, key).and_then(Value::as_object).and_then(|o| field(o, "supported"));
        capabilities.patch = supported("patch").and_then(boolean);
        capabilities.filter = supported("filter").and_then(boolean);
        capabilities.etag = supported("etag").and_then(boolean);
        capabilities.filter_max_results = field(map, "filter")
            .and_then(Value::as_object)
            .and_then(|o| field(o, "maxResults"))
            .and_then(|v| string(v)?.trim().parse().ok());
    }
    let mut declared: Option<BTreeSet<String>> = None;
    let types = fetch(http, "ResourceTypes", "/ResourceTypes").await;
    capabilities.endpoints.push(("/ResourceTypes", status_of(&types)));
    if let Ok(value) = &types {
        if let Some(user_type) = resources(value).into_iter().find(|t| is_user_type(t)) {
            let set = declared.get_or_insert_with(BTreeSet::new);
            if let Some(schema) = field(user_type, "schema").and_then(string) {
                set.insert(schema.to_ascii_lowercase());
            }
            for extension in field(user_type, "schemaExtensions").and_then(Value::as_array).into_iter().flatten() {
                if let Some(urn) = extension.as_object().and_then(|e| field(e, "schema")).and_then(string) {
                    set.insert(urn.to_ascii_lowercase());
                }
            }
        }
    }
    let schemas = fetch(http, "Schemas", "/Schemas").await;
    capabilities.endpoints.push(("/Schemas", status_of(&schemas)));
    if let Ok(value) = &schemas {
        for schema in resources(value) {
            let Some(id) = field(schema, "id").and_then(string) else { continue };
            let id = id.to_ascii_lowercase();
            for attribute in field(schema, "attributes").and_then(Value::as_array).into_iter().flatten() {
                read_attribute(&mut capabilities.mutability, &id, "", attribute, 0);
                if id == CORE_USER && is_named(attribute, "userName") {
                    let case_exact = attribute.as_object().and_then(|a| field(a, "caseExact")).and_then(Value::as_bool);
                    capabilities.user_name_case_exact = case_exact;
                }
            }
            declared.get_or_insert_with(BTreeSet::new).insert(id);
        }
    }
    capabilities.declared_schemas = declared.filter(|set| !set.is_empty());
    capabilities.incomplete =
        [&config, &types, &schemas].iter().any(|fetched| matches!(fetched, Err(why) if why.transient));
    tracing::debug!(found = ?capabilities.endpoints, "SCIM discovery");
    capabilities
}

fn status_of(fetched: &Result<Value, Unavailable>) -> EndpointStatus {
    match fetched {
        Ok(_) => EndpointStatus::Found,
        Err(unavailable) => EndpointStatus::Unavailable(unavailable.why.clone()),
    }
}

/// Why a discovery document could not be read, and whether that may pass.
struct Unavailable {
    why: String,
    transient: bool,
}

impl Unavailable {
    /// A failure that reading again will not change (a `404`, a document that is not JSON).
    fn lasting(why: &str) -> Self {
        Unavailable { why: why.to_string(), transient: false }
    }
}

/// One discovery document as JSON, or why it is unavailable.
async fn fetch(http: &Http, segment: &str, template: &'static str) -> Result<Value, Unavailable> {
    let url = http.endpoint(&[segment]).map_err(|_| Unavailable::lasting("no URL"))?;
    let response = match http.send(Request::get(url, template)).await {
        Ok(response) => response,
        Err(error) => {
            let why = match (error.status(), &error) {
                (Some(status), _) => format!("HTTP {status}"),
                (None, crate::Error::Transport(t)) if t.is_timeout() => "timed out".to_string(),
                (None, crate::Error::Transport(_)) => "network error".to_string(),
                (None, _) => "unreadable".to_string(),
            };
            // Throttling, timeouts, network errors and `5xx` may pass; a `4xx`, a TLS refusal or
            // `501 Not Implemented` (a server saying it has no such endpoint) won't.
            let transient = error.is_retryable() || error.status().is_some_and(|status| status >= 500 && status != 501);
            return Err(Unavailable { why, transient });
        }
    };
    if response.body().len() > MAX_DISCOVERY_BYTES {
        return Err(Unavailable::lasting("larger than the discovery limit"));
    }
    let value: Value = serde_json::from_slice(response.body()).map_err(|_| Unavailable::lasting("not JSON"))?;
    match value {
        Value::Object(_) | Value::Array(_) => Ok(value),
        _ => Err(Unavailable::lasting("not a SCIM document")),
    }
}

/// The resources of a list response, of a bare array, or the one object itself.
fn resources(value: &Value) -> Vec<&Map<String, Value>> {
    match value {
        Value::Array(items) => items.iter().filter_map(Value::as_object).collect(),
        Value::Object(map) => match field(map, "Resources") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_object).collect(),
            _ => vec![map],
        },
        _ => Vec::new(),
    }
}

/// The core User schema's id, lower-cased.
const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:user";

fn is_named(attribute: &Value, name: &str) -> bool {
    attribute.as_object().and_then(|a| field(a, "name")).and_then(string).is_some_and(|n| n.eq_ignore_ascii_case(name))
}

fn is_user_type(resource_type: &Map<String, Value>) -> bool {
    let is = |key: &str, want: &str| {
        field(resource_type, key).and_then(string).is_some_and(|v| v.eq_ignore_ascii_case(want))
    };
    is("name", "User") || is("id", "User") || is("endpoint", "/Users")
}

fn read_attribute(into: &mut BTreeMap<String, Mutability>, urn: &str, parent: &str, attribute: &Value, depth: u8) {
    let Some(map) = attribute.as_object() else { return };
    let Some(name) = field(map, "name").and_then(string) else { return };
    if into.len() >= MAX_ATTRIBUTES || depth > 2 {
        return;
    }
    let path =
        if parent.is_empty() { name.to_ascii_lowercase() } else { format!("{parent}.{}", name.to_ascii_lowercase()) };
    if let Some(mutability) = field(map, "mutability").and_then(string).as_deref().and_then(Mutability::parse) {
        into.insert(format!("{urn}|{path}"), mutability);
    }
    for sub in field(map, "subAttributes").and_then(Value::as_array).into_iter().flatten() {
        read_attribute(into, urn, &path, sub, depth + 1);
    }
}

#[cfg(test)]
mod tests;
