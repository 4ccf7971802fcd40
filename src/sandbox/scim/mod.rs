//! The SCIM side: an in-process Interact (SCIM 2.0 service provider) at `/scim/v2`.
//!
//! [`ScimSandbox`] and its builder live here; `api` authorises and routes requests, and `store`
//! keeps the users. The engines have a file each, as in the client's `scim/` module: `schema`
//! (attributes, body normalisation, projection), `filter` (the filter language) and `patch` (PATCH
//! operations), all over the shared `error`. `profile` holds the server profiles and
//! `discovery` renders `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas` from the same
//! tables and profile.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

mod api;
mod discovery;
mod error;
mod filter;
mod group_api;
mod groups;
mod index;
mod patch;
mod profile;
mod schema;
mod store;

pub use profile::ScimProfile;

use api::{BASE_PATH, ScimApi};
use store::ScimState;

use crate::sandbox::gate::{Faults, Gate, RateLimit, RequestRecord, SandboxStats};
use crate::sandbox::rng::SplitMix64;
use crate::sandbox::server::{Server, Shared};
use crate::{InteractBearer, ScimBearer};

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
    max_results: Option<usize>,
    unique_user_names: bool,
    profile: ScimProfile,
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
            max_results: None,
            unique_user_names: true,
            profile: ScimProfile::Standard,
        }
    }

    /// The SCIM base URL, `http://127.0.0.1:<port>/scim/v2`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The server profile it plays.
    pub fn profile(&self) -> ScimProfile {
        self.shared.api.profile
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

    /// A stored user as `GET /Users/{id}` returns it.
    fn render(&self, user: &store::ScimUser) -> Value {
        Value::Object(self.shared.api.with_groups(user.render(&self.base_url, self.profile().etag())))
    }

    /// Every stored user as `GET /Users/{id}` would return it, oldest first.
    pub fn users(&self) -> Vec<Value> {
        let state = self.shared.api.state();
        state.users.iter().map(|u| self.render(u)).collect()
    }

    /// The stored user with this id.
    pub fn user(&self, id: &str) -> Option<Value> {
        let state = self.shared.api.state();
        state.user(id).map(|u| self.render(u))
    }

    /// The stored user with this `userName`, compared as the server compares it:
    /// case-insensitively, except under [`ScimProfile::CaseSensitiveUserName`].
    pub fn user_by_user_name(&self, user_name: &str) -> Option<Value> {
        let state = self.shared.api.state();
        state.find_by_user_name(user_name, None).map(|u| self.render(u))
    }

    /// The first stored user with this address among its `emails` (case-insensitive).
    pub fn user_by_email(&self, email: &str) -> Option<Value> {
        let state = self.shared.api.state();
        state.first_with_email(email).map(|u| self.render(u))
    }

    /// Stores a user directly (as if created earlier by someone else) and returns it as the server
    /// renders it. The body is checked like a `POST /Users` body, except that a read-only
    /// `externalId` ([`ScimProfile::ReadOnlyExternalId`]) is kept: this is how the server's own
    /// side sets it.
    pub fn insert_user(&self, body: Value) -> Result<Value, String> {
        let mut state = self.shared.api.state();
        let rules = schema::Rules { external_id_read_only: false, ..state.rules };
        let created = state.create(body, rules).map_err(|e| e.detail)?;
        let created = Value::Object(created.render(&self.base_url, self.profile().etag()));
        Ok(created)
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
            .field("profile", &self.profile)
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

    /// The most resources one list page returns, whatever `count` asks for (1000 by default; 2
    /// under [`ScimProfile::FilterIgnoredPaged`]). `/ServiceProviderConfig` advertises it as
    /// `filter.maxResults`.
    pub fn max_results(mut self, max: usize) -> Self {
        self.max_results = Some(max.max(1));
        self
    }

    /// The server profile to play ([`ScimProfile::Standard`] by default): see [`ScimProfile`]
    /// for what each changes.
    pub fn profile(mut self, profile: ScimProfile) -> Self {
        self.profile = profile;
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
        let profile = self.profile;
        let state = ScimState {
            users: Vec::new(),
            indexes: Default::default(),
            next_seq: 0,
            version: 0,
            rng,
            unique_user_names: self.unique_user_names,
            rules: profile.rules(),
        };
        let (listener, addr) = Server::bind().await?;
        let base_url = format!("http://{addr}{BASE_PATH}");
        let max_results = self.max_results.unwrap_or_else(|| profile.default_page_size(DEFAULT_MAX_RESULTS));
        let groups = Mutex::new(groups::GroupStore::new(self.seed));
        let api = ScimApi { token, profile, max_results, base_url: base_url.clone(), state: Mutex::new(state), groups };
        let shared = Shared::new(api, Gate::new(self.faults, self.rate_limit));
        let server = Server::serve(listener, addr, Arc::clone(&shared));
        Ok(ScimSandbox { server, shared, base_url })
    }
}
