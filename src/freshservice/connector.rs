//! [`FreshserviceApiKey`]: its configuration and its [`Connector`] implementation.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use super::attributes::{AgentRole, FreshserviceAttributes, FreshserviceUserKind};
use super::body::BodyBuilder;
use super::names::NameCache;
use super::users::{REQUESTERS, Reader, api, item_url, kind_of, numeric_id, required_email};
use super::{error, instance, wire};
use crate::auth::Authorization;
use crate::base_url::{Scheme, parse_base_url};
use crate::connector::Connector;
use crate::error::{ApiError, Error, FieldError, Result};
use crate::group::GroupConnector;
use crate::http::{Http, Request, Response};
use crate::outcome::UpdateOutcome;
use crate::resource::{Lookup, PageRequest, PageToken, RemoteUser, UserId, UserPage};
use crate::user::User;

/// The most users one listing page may hold (`per_page`).
const MAX_PAGE_SIZE: u32 = 100;
const JSON: &str = "application/json";
/// The `assignment_scope` values Freshservice accepts for an agent role.
const ROLE_SCOPES: [&str; 4] = ["entire_helpdesk", "member_groups", "specified_groups", "assigned_items"];
/// The scope a role granted through the groups capability gets unless configured.
const DEFAULT_GRANTED_ROLE_SCOPE: &str = "entire_helpdesk";

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
/// See the [module documentation](crate::freshservice) for the mapping and the requests each operation sends.
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
    pub(super) names: Arc<NameCache>,
    pub(super) granted_role_scope: String,
    /// The most member pages one requester's membership read follows (`with_scan_limit`).
    pub(super) member_scan_limit: u32,
    provisioning: FreshserviceProvisioning,
    /// See `Reader::agents_hidden`; shared by clones, like the name cache.
    agents_hidden: Arc<AtomicBool>,
}

/// The default bound on the member pages one requester's membership read follows, over every
/// requester group together (100 000 member entries at 100 per page), so neither many large
/// groups nor a server that keeps linking to further pages can keep the client busy forever.
/// [`FreshserviceApiKey::with_scan_limit`] sets another.
pub(crate) const DEFAULT_MEMBER_SCAN_PAGES: u32 = 1000;

/// How [`Client::provision`](crate::Client::provision) looks for a person before creating them
/// in Freshservice, chosen with [`FreshserviceApiKey::with_provisioning`]. Either way an existing
/// person is found and linked, never created twice: Freshservice refuses a second user with an
/// address already in use (`duplicate_value`), and provisioning answers that with the full
/// look-up (`GET /requesters?email=…&include_agents=true`, then `GET /agents?email=…`) and links
/// the person it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum FreshserviceProvisioning {
    /// Look up first, with one request that shows requesters and agents
    /// (`GET /requesters?email=…&include_agents=true`), then create: **2 requests** for a new
    /// person. If the full look-up ever finds an agent that this request did not show (a key
    /// without the Manage Agents permission), the connector looks up through both APIs from then
    /// on (3 requests). The default.
    #[default]
    LookUpFirst,
    /// Create straight away: **1 request** for a new person. An existing one costs the refused
    /// create, the full look-up and whatever linking needs (reactivation, an update). Suits
    /// batches that are mostly joiners; it relies on Freshservice refusing duplicate addresses,
    /// including those of deactivated users, which the API documentation does not state.
    CreateFirst,
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
            granted_role_scope: DEFAULT_GRANTED_ROLE_SCOPE.to_string(),
            member_scan_limit: DEFAULT_MEMBER_SCAN_PAGES,
            provisioning: FreshserviceProvisioning::default(),
            agents_hidden: Arc::new(AtomicBool::new(false)),
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

    /// The `assignment_scope` an agent role is granted with through the groups capability
    /// ([`Client::grant`](crate::Client::grant) with a [`GroupKind::AgentRole`](crate::GroupKind::AgentRole)):
    /// `entire_helpdesk` (the default), `member_groups`, `specified_groups` or `assigned_items`.
    /// Any other value is refused.
    pub fn with_granted_role_scope(mut self, scope: &str) -> Result<Self> {
        if !ROLE_SCOPES.contains(&scope) {
            return Err(Error::invalid_config(format!(
                "the role assignment scope must be one of {}",
                ROLE_SCOPES.join(", ")
            )));
        }
        self.granted_role_scope = scope.to_string();
        Ok(self)
    }

    /// The most member pages (of 100 requesters) reading one requester's group memberships may
    /// follow, over all requester groups together (default 1000, so 100,000 member entries; at
    /// least 1). Freshservice has no "groups of a requester" read, so
    /// [`Client::memberships`](crate::Client::memberships) (and `set_memberships`, and
    /// `deprovision_with` revoking memberships) costs the cached list of requester groups plus,
    /// for each group, its member pages up to the one that lists the person: at most
    /// Σ ⌈members / 100⌉ requests. A read that reaches the limit is
    /// [`Error::LookupIncomplete`], never "no memberships".
    #[must_use]
    pub fn with_scan_limit(mut self, pages: u32) -> Self {
        self.member_scan_limit = pages.max(1);
        self
    }

    /// How provisioning looks for a person before creating them: look up first (2 requests for a
    /// new person, the default) or create first (1). See [`FreshserviceProvisioning`].
    pub fn with_provisioning(mut self, provisioning: FreshserviceProvisioning) -> Self {
        self.provisioning = provisioning;
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
            .field("provisioning", &self.provisioning)
            .finish()
    }
}

impl FreshserviceApiKey {
    fn reader(&self) -> Reader<'_> {
        Reader {
            names: &self.names,
            employee_number_field: self.employee_number_field.as_deref(),
            agents_hidden: &self.agents_hidden,
        }
    }

    fn body_builder(&self) -> BodyBuilder<'_> {
        BodyBuilder {
            reader: self.reader(),
            default_agent_roles: &self.default_agent_roles,
            default_occasional: self.default_occasional,
        }
    }

    fn desired_kind(&self, user: &User) -> FreshserviceUserKind {
        user.extension::<FreshserviceAttributes>().and_then(|f| f.kind).unwrap_or(self.default_kind)
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

    fn authorization_for(&self, credential: &SecretString) -> Result<Authorization> {
        Authorization::basic(credential, "X")
    }

    /// Adds what to check to `401` (the API key) and `403` (the key owner's rights).
    fn api_error(&self, response: &Response) -> ApiError {
        error::api_error(response)
    }

    /// The primary e-mail address: Freshservice users are unique by e-mail.
    fn match_key(&self, user: &User) -> Result<Lookup> {
        Ok(Lookup::Email(required_email(user)?.to_string()))
    }

    /// What Freshservice stores and its requester listing shows: first and last name, e-mail
    /// addresses, job title, work and mobile phone, department, manager, time zone, language, the
    /// employee-number field when one is mapped, and of [`FreshserviceAttributes`] the kind,
    /// location, custom fields and ticket visibility. An agent's roles, groups and occasional flag
    /// are left out: the listing does not show them, so reconciliation does not compare them.
    fn comparable(&self, user: &User) -> User {
        let mut view = User { active: user.active, ..User::default() };
        view.name = user.name.as_ref().map(|n| crate::user::Name {
            given_name: n.given_name.clone(),
            family_name: n.family_name.clone(),
            ..Default::default()
        });
        view.emails = user.emails.clone();
        view.title = user.title.clone();
        view.phone_numbers = ["work", "mobile"]
            .into_iter()
            .filter_map(|kind| user.phone(kind).map(|number| crate::user::MultiValue::new(number, kind)))
            .collect();
        view.timezone = user.timezone.clone();
        view.preferred_language = user.preferred_language.clone();
        view.enterprise = user.enterprise.as_ref().map(|e| crate::user::EnterpriseAttributes {
            department: e.department.clone(),
            manager: e.manager.clone(),
            employee_number: self.employee_number_field.as_ref().and(e.employee_number.clone()),
            ..Default::default()
        });
        if let Some(fs) = user.extension::<FreshserviceAttributes>() {
            view.set_extension(FreshserviceAttributes {
                kind: fs.kind,
                location: fs.location.clone(),
                custom_fields: fs.custom_fields.clone(),
                can_see_all_tickets_from_associated_departments: fs.can_see_all_tickets_from_associated_departments,
                ..FreshserviceAttributes::default()
            });
        }
        view
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
        let body = self.body_builder().body(http, user, kind, None).await?.unwrap_or_default();
        let request = Request::post(http.endpoint(&[api.segment])?, api.collection).json(JSON, &body)?;
        let response = http.send(request).await?;
        let record = wire::one(&response, api.envelope)?;
        self.reader().to_remote(http, &response, kind, record).await
    }

    async fn get_user(&self, http: &Http, id: &UserId) -> Result<RemoteUser> {
        let id = numeric_id(id)?;
        match self.reader().fetch(http, &REQUESTERS, id).await {
            Ok((_, record)) if wire::is_agent(&record) => self.reader().read_agent(http, id).await,
            Ok((response, record)) => {
                self.reader().to_remote(http, &response, FreshserviceUserKind::Requester, record).await
            }
            Err(e) if e.is_not_found() => self.reader().read_agent(http, id).await,
            Err(e) => Err(e),
        }
    }

    /// By e-mail. A [`Lookup::UserName`] that contains `@` is taken as the e-mail address (this
    /// connector's user name is the primary e-mail); other look-ups are validation errors.
    async fn find_user(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        self.reader().find_by_email(http, lookup_email(lookup)?).await
    }

    /// One request (`GET /requesters?email=…&include_agents=true`), or none under
    /// [`FreshserviceProvisioning::CreateFirst`]: see [`FreshserviceProvisioning`].
    async fn find_before_create(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        let email = lookup_email(lookup)?;
        match self.provisioning {
            FreshserviceProvisioning::CreateFirst => Ok(None),
            FreshserviceProvisioning::LookUpFirst => self.reader().find_before_create(http, email).await,
        }
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
            let url = item_url(http, from, numeric, Some(from.convert_action))?;
            let response = http.send(Request::put(url, from.convert)).await?;
            let record = wire::one(&response, api(target).envelope)?;
            current = self.reader().to_remote(http, &response, target, record).await?;
            converted = true;
        }
        let Some(body) = self.body_builder().body(http, changes, target, Some(&current)).await? else {
            return Ok(if converted { UpdateOutcome::Updated(Some(current)) } else { UpdateOutcome::Unchanged });
        };
        let api = api(target);
        let request = Request::put(item_url(http, api, numeric, None)?, api.item).json(JSON, &body)?;
        let response = http.send(request).await?;
        let record = wire::one(&response, api.envelope)?;
        Ok(UpdateOutcome::Updated(Some(self.reader().to_remote(http, &response, target, record).await?)))
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
            Request::put(item_url(http, api, numeric, Some("reactivate"))?, api.reactivate)
        } else {
            Request::delete(item_url(http, api, numeric, None)?, api.item)
        };
        http.send(request).await.map(|_| ())
    }

    /// `DELETE …/{id}/forget`: irreversible, and also deletes every ticket the person requested.
    async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()> {
        let current = self.get_user(http, id).await?;
        let api = api(kind_of(&current).unwrap_or_default());
        let url = item_url(http, api, numeric_id(id)?, Some("forget"))?;
        http.send(Request::delete(url, api.forget)).await.map(|_| ())
    }

    fn max_page_size(&self) -> u32 {
        MAX_PAGE_SIZE
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
            users.push(self.reader().to_remote(http, &response, FreshserviceUserKind::Requester, record).await?);
        }
        Ok(UserPage::new(users, next.map(|n| PageToken::new(n.to_string())), None))
    }

    /// Requester groups, agent groups and agent roles: see [`GroupConnector`].
    fn groups(&self) -> Option<&dyn GroupConnector> {
        Some(self)
    }
}

/// The e-mail address a look-up searches for, trimmed; anything else is a validation error.
fn lookup_email(lookup: &Lookup) -> Result<&str> {
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
    Ok(email)
}
