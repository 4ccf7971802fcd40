//! The Freshservice side: an in-process Freshservice API v2 at `/api/v2`.
//!
//! [`FreshserviceSandbox`] and its builder live here; `api` authorises and routes requests, `store`
//! keeps and checks requesters and agents, `render` shapes them as the API returns them, `fields`
//! lists what each kind accepts, `names` holds departments, locations and roles, `groups` the
//! requester groups (with their members) and agent groups, and `error` Freshservice's error
//! bodies.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;

mod api;
mod error;
mod fields;
mod groups;
mod names;
mod render;
mod store;

use api::{BASE_PATH, FreshserviceApi};
use fields::Kind;
use groups::{FIRST_AGENT_GROUP_ID, FIRST_REQUESTER_GROUP_ID};
use names::{FIRST_DEPARTMENT_ID, FIRST_LOCATION_ID, FIRST_ROLE_ID, Named, ROLES, RequesterGroup};
use store::{FIRST_USER_ID, FreshserviceState};

use crate::FreshserviceApiKey;
use crate::sandbox::gate::{Faults, Gate, RateLimit, RequestRecord, SandboxStats};
use crate::sandbox::rng::SplitMix64;
use crate::sandbox::server::{Server, Shared, rfc3339};

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
    requester_groups: Vec<String>,
    agent_groups: Vec<String>,
}

impl FreshserviceSandbox {
    /// Starts a sandbox with a generated API key, the default departments (Finance, Engineering,
    /// Sales), locations (London, Berlin), requester groups (Employees, Contractors) and agent
    /// groups (Service Desk, Hardware, Network), no faults, and 100 requests per minute.
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
            requester_groups: ["Employees", "Contractors"].map(String::from).to_vec(),
            agent_groups: ["Service Desk", "Hardware", "Network"].map(String::from).to_vec(),
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
        let user = state
            .with_email(email)
            .filter_map(|id| state.users.get(&id))
            .find(|u| u.email().is_some_and(|e| e.eq_ignore_ascii_case(email)));
        user.map(|u| state.render_wrapped(u))
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

    /// The id of a requester group, by exact name (the first, if several share it).
    pub fn requester_group_id(&self, name: &str) -> Option<u64> {
        self.shared.api.state().requester_groups.iter().find(|g| g.named.name == name).map(|g| g.named.id)
    }

    /// The members (requester ids) of requester group `id`, in id order; empty for an unknown
    /// group.
    pub fn requester_group_members(&self, id: u64) -> Vec<u64> {
        let state = self.shared.api.state();
        state
            .requester_groups
            .iter()
            .find(|g| g.named.id == id)
            .map(|g| g.members.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The id of an agent group, by exact name (the first, if several share it).
    pub fn agent_group_id(&self, name: &str) -> Option<u64> {
        self.shared.api.state().agent_groups.iter().find(|g| g.name == name).map(|g| g.id)
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
            .field("requester_groups", &self.requester_groups)
            .field("agent_groups", &self.agent_groups)
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

    /// Adds a requester group (a name given twice makes two groups, for ambiguity tests).
    pub fn requester_group(mut self, name: impl Into<String>) -> Self {
        self.requester_groups.push(name.into());
        self
    }

    /// Adds an agent group.
    pub fn agent_group(mut self, name: impl Into<String>) -> Self {
        self.agent_groups.push(name.into());
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
            emails: Default::default(),
            next_id: FIRST_USER_ID,
            rng,
            departments: named(FIRST_DEPARTMENT_ID, self.departments),
            locations: named(FIRST_LOCATION_ID, self.locations),
            roles,
            requester_groups: named(FIRST_REQUESTER_GROUP_ID, self.requester_groups)
                .into_iter()
                .map(|named| RequesterGroup { named, members: Default::default() })
                .collect(),
            agent_groups: named(FIRST_AGENT_GROUP_ID, self.agent_groups),
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
