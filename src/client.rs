//! The typed [`Client`]: one lifecycle API for every connector.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_core::Stream;
use secrecy::SecretString;

use crate::auth::CredentialSource;
use crate::connector::Connector;

use crate::error::{Error, Result};
use crate::flight::Flights;
use crate::group::GroupConnector;
use crate::http::{
    Call, ClientIdentity, Http, HttpConfig, Proxy, RateLimitStatus, RetryPolicy, RootCertificate, Target, Transport,
};
use crate::outcome::{ConnectionReport, DeprovisionOutcome, ProvisionPolicy, Provisioned, UpdateOutcome};
use crate::resource::{Lookup, PageRequest, RemoteUser, UserId, UserPage};
use crate::user::User;

mod provision;

/// The default request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default cap on a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;
/// The default cap on requests in flight at once, per client.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4;
/// The largest in-flight cap a client accepts.
const MAX_IN_FLIGHT_LIMIT: usize = 1024;

/// Drives the user lifecycle of one downstream app through its [`Connector`].
///
/// Every method is safe to re-run: provisioning someone who exists links (and by default updates
/// or reactivates) them, deprovisioning someone already inactive or gone succeeds, and a create
/// whose outcome was lost is reconciled by a look-up before it is ever sent again.
///
/// `Client` is cheap to clone; clones share the connection pool, the in-flight cap and the
/// rate-limit budget.
///
/// # Concurrent calls for the same person
///
/// Within one client and its clones, [`provision`](Self::provision) and
/// [`deprovision`](Self::deprovision) / [`deprovision_by`](Self::deprovision_by) of the same match
/// key run one at a time (single-flight): a second call for the person waits for the first and
/// then finds what it did, so one process never creates a person twice, even on a server that
/// does not enforce uniqueness. Keys are compared as the servers compare them (`userName` and
/// e-mail case-insensitively); calls for different people never wait for each other. Calls by id
/// ([`deactivate`](Self::deactivate), [`update`](Self::update), …) are not serialised.
///
/// Nothing of this holds across processes, or across clients built separately: two of them
/// provisioning the same person at once can both miss in the look-up and both create. On a server
/// that enforces uniqueness (Interact, Freshservice, most SCIM servers) the second create is
/// refused and linked; on one that does not, run one process (one client) per app, or partition
/// people between processes so that no person is handled by two at once.
///
/// ```no_run
/// use identity_connectors::{Client, InteractAttributes, InteractBearer, InteractBuilderExt, LoginType, User};
///
/// # async fn run() -> Result<(), identity_connectors::Error> {
/// let interact = InteractBearer::new("https://intranet.example.com/api/v2/scim/v2", "token")?;
/// let client = Client::new(interact)?;
/// let jane = User::builder("jane.doe@example.com")
///     .external_id("E1001")
///     .given_name("Jane")
///     .family_name("Doe")
///     .interact(InteractAttributes::new(LoginType::Saml).location("London"))
///     .build();
/// let provisioned = client.provision(&jane).await?;
/// println!("{} {}", provisioned.outcome, provisioned.user.id);
/// client.deactivate(&provisioned.user.id).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    connector: Arc<dyn Connector>,
    http: Http,
    /// Per-match-key locks, shared by clones.
    flights: Arc<Flights>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").field("connector", &self.connector).field("http", &self.http).finish()
    }
}

/// Settings for a [`Client`]. Start with [`Client::builder`].
#[must_use]
pub struct ClientBuilder {
    connector: Arc<dyn Connector>,
    timeout: Duration,
    user_agent: String,
    max_response_bytes: usize,
    retry: RetryPolicy,
    max_in_flight: usize,
    rate_limit_window: Duration,
    transport: Transport,
    credential_source: Option<Arc<dyn CredentialSource>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("connector", &self.connector)
            .field("timeout", &self.timeout)
            .field("user_agent", &self.user_agent)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("max_in_flight", &self.max_in_flight)
            .field("rate_limit_window", &self.rate_limit_window)
            .field("transport", &self.transport)
            .field("credential_source", &self.credential_source)
            .finish()
    }
}

impl ClientBuilder {
    /// The timeout of each request attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The `User-Agent` header (default `identity-connectors/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The largest response body accepted, in bytes (default 10 MiB). A larger one is a
    /// [`DecodeError`](crate::DecodeError), and is not read past the limit.
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// How failed requests are retried (default [`RetryPolicy::default`]; [`RetryPolicy::none`] to
    /// turn retries off).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How many requests may be in flight at once (default 4, at least 1, at most 1024). Bulk
    /// operations run this many people at a time.
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.max_in_flight = requests.max(1);
        self
    }

    /// The length of the server's rate-limit window (default 60 s, Freshservice's per-minute
    /// budget; at most a day). Pacing uses it to know when a spent `X-RateLimit-Remaining` budget is
    /// refilled, and never waits longer than one window: a `429` whose `Retry-After` announces a
    /// reset further ahead is taken to reset one window after it arrived (zero: no pacing waits).
    /// Pacing waits also count against the [`RetryPolicy::deadline`].
    pub fn rate_limit_window(mut self, window: Duration) -> Self {
        self.rate_limit_window = window;
        self
    }

    /// Trusts the certificate authorities in `certificate` besides the platform's roots (a
    /// company CA, say). May be given more than once.
    pub fn root_certificate(mut self, certificate: RootCertificate) -> Self {
        self.transport.roots.push(certificate);
        self
    }

    /// Presents `identity` to servers that ask for a client certificate (mutual TLS).
    pub fn identity(mut self, identity: ClientIdentity) -> Self {
        self.transport.identity = Some(identity);
        self
    }

    /// Which proxy requests go through (default [`Proxy::from_environment`]; [`Proxy::none`] to
    /// ignore the environment).
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.transport.proxy = proxy;
        self
    }

    /// Where the client gets its credential again when the app answers `401` (none by default):
    /// the request is sent once more if the source yields a different credential. See
    /// [`CredentialSource`]. A client built from configuration reads the connection's
    /// [`SecretSource`](crate::SecretSource).
    pub fn credential_source(mut self, source: impl CredentialSource + 'static) -> Self {
        self.credential_source = Some(Arc::new(source));
        self
    }

    /// Builds the client. Fails with [`Error::InvalidConfig`] if the TLS backend cannot be
    /// initialised or a setting is out of range: a zero timeout or body cap, an empty user agent,
    /// more than 1024 requests in flight, or a rate-limit window over a day.
    pub fn build(self) -> Result<Client> {
        if self.timeout.is_zero() {
            return Err(Error::invalid_config("the request timeout must be greater than zero"));
        }
        if self.user_agent.trim().is_empty() {
            return Err(Error::invalid_config("the user agent is empty; set one, or leave the default"));
        }
        if self.max_response_bytes == 0 {
            return Err(Error::invalid_config("the response size limit must be greater than zero"));
        }
        if self.max_in_flight > MAX_IN_FLIGHT_LIMIT {
            return Err(Error::invalid_config(format!("at most {MAX_IN_FLIGHT_LIMIT} requests may be in flight")));
        }
        if self.rate_limit_window > Duration::from_secs(24 * 60 * 60) {
            return Err(Error::invalid_config("the rate-limit window must be at most one day"));
        }
        let config = HttpConfig {
            timeout: self.timeout,
            user_agent: self.user_agent,
            max_response_bytes: self.max_response_bytes,
            retry: self.retry,
            max_in_flight: self.max_in_flight,
            rate_limit_window: self.rate_limit_window,
            transport: self.transport,
        };
        // The request path gets a description of the app, not the connector itself.
        let connector = &self.connector;
        let parser = Arc::clone(connector);
        let authorizer = Arc::clone(connector);
        let target = Target::new(
            connector.kind(),
            connector.base_url().clone(),
            connector.accept(),
            connector.authorization(),
            Arc::new(move |credential| authorizer.authorization_for(credential)),
            self.credential_source,
            Arc::new(move |response| parser.api_error(response)),
        )?;
        let http = Http::new(target, config)?;
        Ok(Client { connector: self.connector, http, flights: Arc::default() })
    }
}

impl Client {
    /// A client with default settings for `connector` (any [`Connector`], including a
    /// `Box<dyn Connector>` or `Arc<dyn Connector>`).
    pub fn new<C: Connector + 'static>(connector: C) -> Result<Client> {
        Client::builder(connector).build()
    }

    /// A builder for a client of `connector`.
    pub fn builder<C: Connector + 'static>(connector: C) -> ClientBuilder {
        ClientBuilder {
            connector: Arc::new(connector),
            timeout: DEFAULT_TIMEOUT,
            user_agent: concat!("identity-connectors/", env!("CARGO_PKG_VERSION")).to_string(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            retry: RetryPolicy::default(),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            rate_limit_window: Duration::from_secs(60),
            transport: Transport::default(),
            credential_source: None,
        }
    }

    /// The connector this client drives.
    pub fn connector(&self) -> &dyn Connector {
        &*self.connector
    }

    /// The connector's group operations, or [`Error::Unsupported`] naming the connector and the
    /// capability when its app has none (the connector's [`groups`](Connector::groups) is `None`).
    pub fn groups(&self) -> Result<&dyn GroupConnector> {
        self.connector.groups().ok_or_else(|| Error::unsupported(self.connector.display_name(), "groups"))
    }

    /// Replaces the credential of this client and its clones, with no restart: the token for
    /// Interact and SCIM, the API key for Freshservice (what the connector's constructor takes;
    /// see [`Connector::authorization_for`]). Requests already sent keep the credential they were
    /// sent with; every later one carries the new one, and no request ever carries part of each.
    /// A request refused with `401` while the credential was replaced is sent once more with the
    /// new one.
    ///
    /// Fails with [`Error::InvalidConfig`] (not repeating the credential) when it is empty or
    /// cannot be sent in a header, and with [`Error::Unsupported`] for a connector that cannot
    /// rotate its credential; the client keeps its credential then. [`connector`](Self::connector)'s
    /// [`authorization`](Connector::authorization) stays the one it was built with.
    pub fn set_credential(&self, credential: impl Into<SecretString>) -> Result<()> {
        self.http.set_credential(&credential.into())
    }

    /// The latest rate-limit budget the app reported (`X-RateLimit-*` headers), if it reports one.
    pub fn rate_limit(&self) -> Option<RateLimitStatus> {
        self.http.rate_limit()
    }

    /// Proves that the base URL and the credential work, and reports what the app says about
    /// itself: for SCIM connectors, what discovery (`/ServiceProviderConfig`, `/ResourceTypes`,
    /// `/Schemas`) found and what it did not, and what the connector does about it, in words.
    /// Discovery that fails is reported, never an error.
    ///
    /// ```no_run
    /// # async fn run(client: identity_connectors::Client) -> Result<(), identity_connectors::Error> {
    /// let report = client.test_connection().await?;
    /// println!("{report}"); // "SCIM (host): connection works\n- /ServiceProviderConfig: found\n- …"
    /// # Ok(()) }
    /// ```
    pub async fn test_connection(&self) -> Result<ConnectionReport> {
        let work = async {
            self.connector.test_connection(&self.http).await?;
            let details = self.connector.discovery(&self.http, false).await.unwrap_or_default();
            Ok(ConnectionReport { connector: self.connector.display_name().to_string(), details })
        };
        self.traced("test_connection", work).await
    }

    /// Reads the app's discovery documents again (SCIM: `/ServiceProviderConfig`,
    /// `/ResourceTypes`, `/Schemas`), for every clone of this client, and forgets the attributes
    /// the server refused so far; returns what was found, in words. Discovery is otherwise read
    /// once, on the first call that needs it: refresh after the server's configuration changed.
    /// `None` for connectors without discovery.
    pub async fn refresh_discovery(&self) -> Option<ConnectionReport> {
        let details = self.connector.discovery(&self.http, true).await?;
        Some(ConnectionReport { connector: self.connector.display_name().to_string(), details })
    }

    /// Makes sure `user` exists and is active, with the default [`ProvisionPolicy`].
    ///
    /// The connector's [`match_key`](Connector::match_key) (SCIM: `userName`; Freshservice: the
    /// e-mail address) is looked up first, through [`Connector::find_before_create`] (which a
    /// connector may make cheaper, or skip, where its server refuses duplicates). An existing user
    /// is linked, reactivated if inactive, and updated where attributes differ; a missing one is
    /// created.
    ///
    /// A create is never sent twice without a look-up in between, so a person is never created
    /// twice:
    /// - answered "already exists": looked up again and linked ([`ProvisionOutcome::Linked`], or
    ///   updated / reactivated);
    /// - answered with success that cannot be read: looked up again (never re-created) and
    ///   reported as [`ProvisionOutcome::CreatedConfirmed`];
    /// - outcome unknown (timeout, dropped connection, `5xx`): looked up, and created again only if
    ///   still missing, after the server's `Retry-After` (or the policy's backoff), at most
    ///   [`RetryPolicy::max_attempts`] creates in all. A `429` is retried inside each create, as the
    ///   server did not act on it. Found after such a create, the person is reported as
    ///   [`ProvisionOutcome::CreatedConfirmed`].
    ///
    /// Calls for the same match key through this client and its clones run one at a time (see
    /// [`Client`]'s documentation for what holds across processes).
    ///
    /// [`ProvisionOutcome::Linked`]: crate::ProvisionOutcome::Linked
    /// [`ProvisionOutcome::CreatedConfirmed`]: crate::ProvisionOutcome::CreatedConfirmed
    pub fn provision(&self, user: &User) -> impl Future<Output = Result<Provisioned>> + Send {
        self.provision_with(user, ProvisionPolicy::default())
    }

    /// [`provision`](Self::provision) with an explicit policy for existing users.
    pub fn provision_with(
        &self,
        user: &User,
        policy: ProvisionPolicy,
    ) -> impl Future<Output = Result<Provisioned>> + Send {
        self.traced("provision", self.provision_inner(user, policy, false))
    }

    /// [`provision`](Self::provision) of a person a sync plan found missing from its full
    /// listing: the pre-create look-up is the connector's
    /// [`find_before_planned_create`](Connector::find_before_planned_create).
    pub(crate) async fn provision_planned(&self, user: &User) -> Result<Provisioned> {
        self.traced("provision", self.provision_inner(user, ProvisionPolicy::default(), true)).await
    }

    /// Runs `work` inside an `operation` span naming the connector and the operation.
    pub(crate) fn traced<T, F: Future<Output = Result<T>>>(&self, operation: &'static str, work: F) -> Call<F> {
        self.http.call(self.connector.kind(), operation, work)
    }

    /// The per-match-key locks, for the client's other modules (memberships).
    pub(crate) fn flights(&self) -> &Arc<Flights> {
        &self.flights
    }

    /// Reads a user by id. An unknown id is [`Error::NotFound`].
    pub fn get<'a>(&'a self, id: &'a UserId) -> impl Future<Output = Result<RemoteUser>> + Send + 'a {
        self.traced("get", self.connector.get_user(&self.http, id))
    }

    /// Finds the user matching `lookup`, active or not.
    pub fn find<'a>(&'a self, lookup: &'a Lookup) -> impl Future<Output = Result<Option<RemoteUser>>> + Send + 'a {
        self.traced("find", self.connector.find_user(&self.http, lookup))
    }

    /// Finds a user by user name.
    pub fn find_by_user_name(&self, user_name: &str) -> impl Future<Output = Result<Option<RemoteUser>>> + Send {
        self.find_owned(Lookup::UserName(user_name.to_string()))
    }

    /// Finds a user by e-mail address.
    pub fn find_by_email(&self, email: &str) -> impl Future<Output = Result<Option<RemoteUser>>> + Send {
        self.find_owned(Lookup::Email(email.to_string()))
    }

    /// Finds a user by the HR system's id (external id).
    pub fn find_by_external_id(&self, external_id: &str) -> impl Future<Output = Result<Option<RemoteUser>>> + Send {
        self.find_owned(Lookup::ExternalId(external_id.to_string()))
    }

    /// [`find`](Self::find) of a look-up the call owns.
    fn find_owned(&self, lookup: Lookup) -> impl Future<Output = Result<Option<RemoteUser>>> + Send {
        self.traced("find", async move { self.connector.find_user(&self.http, &lookup).await })
    }

    /// Sets the attributes `changes` sets (a partial user) on user `id`. Sends nothing when
    /// `changes` is empty, or holds only attributes the app does not store.
    ///
    /// Returns [`UpdateOutcome::Updated`] with the updated user when the app answered with it, and
    /// `Updated(None)` when it answered without (a SCIM `204`): call [`get`](Self::get) if you need
    /// the user read back, so no request is spent when you do not. Use [`deactivate`](Self::deactivate) / [`reactivate`](Self::reactivate)
    /// for `active`.
    pub async fn update(&self, id: &UserId, changes: &User) -> Result<UpdateOutcome> {
        let mut changes = changes.clone();
        changes.active = None;
        if changes.is_empty() {
            return Ok(UpdateOutcome::Unchanged);
        }
        self.traced("update", self.connector.update_user(&self.http, id, &changes, None)).await
    }

    /// Deactivates user `id` (a soft deprovision that can be undone). Succeeds if the user is
    /// already inactive, and reports [`DeprovisionOutcome::AlreadyGone`] if there is no such user.
    pub async fn deactivate(&self, id: &UserId) -> Result<DeprovisionOutcome> {
        match self.traced("deactivate", self.connector.set_active(&self.http, id, false)).await {
            Ok(()) => Ok(DeprovisionOutcome::Deactivated),
            Err(e) if e.is_not_found() => Ok(DeprovisionOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// Reactivates user `id`. Succeeds if the user is already active.
    pub async fn reactivate(&self, id: &UserId) -> Result<()> {
        self.traced("reactivate", self.connector.set_active(&self.http, id, true)).await
    }

    /// Deactivates the user `user` identifies (by the connector's match key), if they exist and
    /// are active: safe to run for someone already deactivated or never provisioned.
    pub async fn deprovision(&self, user: &User) -> Result<DeprovisionOutcome> {
        let key = self.connector.match_key(user)?;
        self.deprovision_by(&key).await
    }

    /// Deactivates the user `lookup` finds, if they exist and are active. Runs one at a time with
    /// provisioning and deprovisioning of the same key through this client and its clones.
    pub async fn deprovision_by(&self, lookup: &Lookup) -> Result<DeprovisionOutcome> {
        let work = async {
            let _flight = self.flights.acquire(lookup).await;
            let outcome = match self.connector.find_user(&self.http, lookup).await? {
                None => DeprovisionOutcome::AlreadyGone,
                Some(user) if !user.is_active() => DeprovisionOutcome::AlreadyInactive,
                Some(user) => match self.connector.set_active_of(&self.http, &user, false).await {
                    Ok(()) => DeprovisionOutcome::Deactivated,
                    Err(e) if e.is_not_found() => DeprovisionOutcome::AlreadyGone,
                    Err(e) => return Err(e),
                },
            };
            tracing::info!(outcome = %outcome, "deprovisioned");
            Ok(outcome)
        };
        self.traced("deprovision", work).await
    }

    /// Permanently deletes user `id`. Succeeds with [`DeprovisionOutcome::AlreadyGone`] if there is
    /// no such user.
    ///
    /// Prefer [`deactivate`](Self::deactivate): deletion cannot be undone, and some apps delete
    /// more than the account (Interact may remove content the person authored; Freshservice's
    /// "forget" also deletes the tickets they requested).
    pub async fn hard_delete(&self, id: &UserId) -> Result<DeprovisionOutcome> {
        match self.traced("hard_delete", self.connector.delete_user(&self.http, id)).await {
            Ok(()) => Ok(DeprovisionOutcome::Deleted),
            Err(e) if e.is_not_found() => Ok(DeprovisionOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }

    /// Reads one page of users.
    pub fn list_page<'a>(&'a self, page: &'a PageRequest) -> impl Future<Output = Result<UserPage>> + Send + 'a {
        self.traced("list_page", self.connector.list_users(&self.http, page))
    }

    /// Every user, as a stream read one page of `page_size` at a time, so memory stays bounded by
    /// one page. The stream ends after the last page (or an empty one), and yields an error (then
    /// ends) if a page cannot be read.
    pub fn list(&self, page_size: u32) -> impl Stream<Item = Result<RemoteUser>> + Send + '_ {
        struct State {
            next: Option<PageRequest>,
            buffer: VecDeque<RemoteUser>,
            previous_first: Option<UserId>,
        }
        let state =
            State { next: Some(PageRequest::first(page_size.max(1))), buffer: VecDeque::new(), previous_first: None };
        futures_util::stream::unfold(state, move |mut state| async move {
            loop {
                if let Some(user) = state.buffer.pop_front() {
                    return Some((Ok(user), state));
                }
                let request = state.next.take()?;
                match self.list_page(&request).await {
                    Ok(page) => {
                        // A server that ignores the paging parameters answers the same page again:
                        // stop instead of looping forever.
                        let first = page.users.first().map(|u| u.id.clone());
                        if first.is_some() && first == state.previous_first {
                            let message = "the server returned the same page twice; it may not support paging";
                            return Some((Err(crate::error::DecodeError::new(None, message, &[]).into()), state));
                        }
                        let repeated = page.next.is_some() && page.next == request.token;
                        if !page.users.is_empty() && !repeated {
                            state.next = page.next.map(|token| PageRequest::next(token, request.size));
                        }
                        state.previous_first = first;
                        state.buffer.extend(page.users);
                    }
                    Err(error) => return Some((Err(error), state)),
                }
            }
        })
    }

    /// The one request path, for code that extends a connector.
    pub fn http(&self) -> &Http {
        &self.http
    }
}
