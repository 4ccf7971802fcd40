//! SCIM 2.0 (RFC 7643/7644) from the client's side, reusable by any SCIM app.
//!
//! - [`ScimBearer`] is a generic SCIM 2.0 connector (bearer token, no vendor extension) for
//!   Slack-, Zoom- or Entra-style SCIM targets.
//! - [`ops`] holds the user operations both [`ScimBearer`] and
//!   [`InteractBearer`](crate::InteractBearer) are made of, for connectors to other SCIM apps.
//! - [`codec`] is the SCIM JSON of a [`User`] and the lenient readers; [`ScimExtensions`] is the
//!   set of typed extensions a connector reads (the operations leave extension objects in
//!   [`User::extra`](crate::User::extra); [`ScimExtensions::lift`] types them).
//! - [`Filter`] builds filters whose values are always JSON string literals; [`PatchOp`] builds
//!   `PATCH` bodies (by hand, or from a partial [`User`]); [`ListResponse`] reads list responses
//!   leniently.
//!
//! How the lifecycle maps onto SCIM:
//!
//! | [`Client`](crate::Client) call | SCIM request |
//! |---|---|
//! | `test_connection` | `GET /Users?startIndex=1&count=1`, then discovery (once) |
//! | `provision` | `GET /Users?filter=userName eq "…"`, then `POST /Users` or a `PATCH` (`PUT` without PATCH support) |
//! | `get` | `GET /Users/{id}` |
//! | `find_by_user_name` / `_external_id` / `_email` | `GET /Users?filter=userName eq "…"` / `externalId eq` / `emails.value eq` |
//! | `update` | `PATCH /Users/{id}` with one `replace` per changed attribute |
//! | `deactivate` / `reactivate` | `PATCH /Users/{id}` `{"op":"replace","path":"active","value":false}` / `true` |
//! | `hard_delete` | `DELETE /Users/{id}` |
//! | `list` | `GET /Users?startIndex=…&count=…`, page after page |
//!
//! # Discovery
//!
//! Servers differ, so the connectors ask each one what it supports: `GET /ServiceProviderConfig`,
//! `/ResourceTypes` and `/Schemas`, once per connector (shared by every clone of the
//! [`Client`](crate::Client)), lazily on the first call that needs them, and again only on
//! [`Client::refresh_discovery`](crate::Client::refresh_discovery).
//! [`Client::test_connection`](crate::Client::test_connection) says in words what was found. A
//! missing endpoint, an error status or an unreadable document (not JSON, over
//! [`MAX_DISCOVERY_BYTES`]) leaves that part unknown, and unknown keeps the defaults below: a
//! lifecycle call never fails because discovery did. What is used ([`discovery`]):
//!
//! - `/Schemas` mutability: `readOnly` attributes are never sent, `immutable` ones only on
//!   create; extensions neither `/Schemas` nor the User resource type's `schemaExtensions`
//!   declare are not sent. What was left out is listed in
//!   [`Provisioned::skipped`](crate::Provisioned::skipped) /
//!   [`UpdateOutcome::skipped`](crate::UpdateOutcome::skipped) and traced at `WARN` (paths only).
//! - `patch.supported: false`: updates are a full `PUT` of the user as read (every attribute the
//!   server returned kept, read-only ones dropped).
//! - `etag.supported: true`: writes to a user read before carry `If-Match` with its version (the
//!   `ETag` header or `meta.version`); a `412` re-reads, sends what still differs, once.
//! - `filter.supported: false`: look-ups read every page and match locally (see
//!   [`ScimBearer::with_scan_limit`]); so do look-ups whose filtered answer holds a user that does
//!   not match. `userName` look-ups that find nobody ask again in lower case, verified locally.
//!
//! Whatever discovery says, a `PATCH` refused with `400` (`mutability`, `invalidPath`,
//! `noTarget`, `invalidValue`) is sent again without the operations the server's `detail` names,
//! or one operation at a time when it names none; refused attributes are reported as skipped and
//! not sent again by this connector until a refresh, so one refused attribute never stalls every
//! later run.
//!
//! Responses are read leniently: `application/json` as well as `application/scim+json`, empty
//! bodies on `204`, error `status` as a string or a number, booleans as `"True"`/`"False"`,
//! attribute names in any case, unknown attributes kept.

use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;
use url::Url;

use crate::auth::Authorization;
use crate::base_url::{Scheme, parse_base_url};
use crate::connector::Connector;
use crate::error::{ApiError, Error, FieldError, Result};
use crate::http::{Http, Response};
use crate::outcome::UpdateOutcome;
use crate::resource::{Lookup, RemoteUser, UserId, UserPage};
use crate::scim::core::ScimCore;
use crate::user::User;

mod adapt;
pub mod codec;
pub(crate) mod core;
mod decode;
pub mod discovery;
mod error;
mod filter;
pub(crate) mod group_reads;
mod group_wire;
pub mod groups;
mod list;
mod lookup;
pub mod ops;
mod patch;

pub use codec::{ScimExtension, ScimExtensions};
pub use core::{DEFAULT_SCAN_PAGES, SCAN_PAGE_SIZE};
pub use discovery::{EndpointStatus, MAX_DISCOVERY_BYTES, Mutability, REDISCOVER_AFTER, ServerCapabilities};
pub(crate) use error::api_error_with_401_hint;
pub use filter::Filter;
pub use list::{LIST_RESPONSE_SCHEMA, ListResponse};
pub use ops::{SCIM_ACCEPT, SCIM_CONTENT_TYPE};
pub use patch::{PATCH_OP_SCHEMA, PatchKind, PatchOp, PatchOperation};

/// Any SCIM 2.0 service provider reached with a static bearer token.
///
/// It sends standard SCIM (core and enterprise user schemas, plus whatever extension objects a
/// [`User`] carries) and requires only `userName` of a new user. Extension objects it reads stay
/// in [`User::extra`](crate::User::extra) unless their type is registered with
/// [`with_extension`](Self::with_extension). The lifecycle is driven by
/// [`Client`](crate::Client):
///
/// ```no_run
/// use identity_connectors::{Client, ScimBearer, User};
///
/// # async fn run() -> Result<(), identity_connectors::Error> {
/// let client = Client::new(ScimBearer::new("https://api.example.com/scim/v2", "token")?)?;
/// let user = User::builder("jane.doe@example.com").given_name("Jane").family_name("Doe").build();
/// let provisioned = client.provision(&user).await?;
/// client.deactivate(&provisioned.user.id).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ScimBearer {
    pub(crate) base_url: Url,
    pub(crate) authorization: Authorization,
    pub(crate) display_name: String,
    /// Extensions, discovery state (shared by clones) and the look-up page limit.
    pub(crate) core: ScimCore,
}

impl ScimBearer {
    /// A SCIM service from its base URL (the one `/Users` hangs off) and a bearer token, with the
    /// same URL rules as [`InteractBearer::new`](crate::InteractBearer::new).
    pub fn new(base_url: &str, token: impl Into<SecretString>) -> Result<Self> {
        Self::build(base_url, token.into(), Scheme::HttpsOnly)
    }

    /// Like [`new`](Self::new), but also accepts plain `http`, and only for loopback hosts: for
    /// tests, the sandbox and local SCIM servers.
    pub fn for_loopback(base_url: &str, token: impl Into<SecretString>) -> Result<Self> {
        Self::build(base_url, token.into(), Scheme::Loopback)
    }

    fn build(base_url: &str, token: SecretString, scheme: Scheme) -> Result<Self> {
        let base_url = parse_base_url(base_url, scheme, "SCIM base URL")?;
        let authorization = Authorization::bearer(&token)?;
        let display_name = format!("SCIM ({})", base_url.host_str().unwrap_or_default());
        Ok(ScimBearer { base_url, authorization, display_name, core: ScimCore::new(ScimExtensions::new()) })
    }

    /// Reads the SCIM extension `T` into its type (instead of leaving the object in
    /// [`User::extra`](crate::User::extra)), for a service provider with that extension.
    ///
    /// ```
    /// use identity_connectors::{InteractAttributes, ScimBearer};
    ///
    /// let scim = ScimBearer::new("https://api.example.com/scim/v2", "token")?.with_extension::<InteractAttributes>();
    /// # Ok::<(), identity_connectors::Error>(())
    /// ```
    #[must_use]
    pub fn with_extension<T: ScimExtension>(mut self) -> Self {
        self.core.extensions = self.core.extensions.with::<T>();
        self
    }

    /// The most pages (of [`SCAN_PAGE_SIZE`] users) a look-up reads when the server does not
    /// filter or ignores the filter (default [`DEFAULT_SCAN_PAGES`], so 10,000 users; at least 1).
    /// A look-up that reaches it without seeing the last page is
    /// [`Error::LookupIncomplete`], never "not found".
    #[must_use]
    pub fn with_scan_limit(mut self, pages: u32) -> Self {
        self.core.scan_limit = pages.max(1);
        self
    }

    /// The normalised SCIM base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// A create, after the user name is checked: both create methods of the trait, unboxed.
    async fn create_checked(&self, http: &Http, user: &User) -> Result<(RemoteUser, Vec<String>)> {
        check_user_name(user)?;
        self.core.create(http, user).await
    }
}

impl fmt::Debug for ScimBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScimBearer").field("base_url", &self.base_url.as_str()).field("token", &"[REDACTED]").finish()
    }
}

/// The hint a `401` from a generic SCIM service gets.
const SCIM_UNAUTHORIZED_HINT: &str =
    "Check the bearer token configured for this SCIM service: it may be wrong, expired or revoked";

/// The page with every user's registered extension objects typed.
pub(crate) fn lift_page(extensions: &ScimExtensions, mut page: UserPage) -> UserPage {
    for user in &mut page.users {
        extensions.lift(&mut user.user);
    }
    page
}

/// The fields SCIM requires of a new user: `userName`.
fn check_user_name(user: &User) -> Result<()> {
    if user.user_name.as_deref().is_some_and(|n| !n.trim().is_empty()) {
        return Ok(());
    }
    Err(Error::invalid_input("a new SCIM user needs a user name", vec![FieldError::new("userName", "is required")]))
}

/// The request methods of a `Connector` impl whose type has a `core: ScimCore` and a
/// `create_checked` (the SCIM and Interact connectors), each future built in its box (see
/// [`in_place`](crate::connector::in_place)). `self` is named by the caller (a macro cannot name
/// it for the bodies it writes).
macro_rules! scim_requests {
    ($self:ident) => {
        // `create_user` not through `create_user_reporting`, which is boxed again.
        $crate::connector::in_place!(create_user<'life1, 'life2>(
            $self, http: &'life1 $crate::http::Http, user: &'life2 $crate::user::User
        ) -> $crate::error::Result<$crate::resource::RemoteUser>
            => async move { Ok($self.create_checked(http, user).await?.0) });
        $crate::connector::in_place!(create_user_reporting<'life1, 'life2>(
            $self, http: &'life1 $crate::http::Http, user: &'life2 $crate::user::User
        ) -> $crate::error::Result<($crate::resource::RemoteUser, Vec<String>)>
            => $self.create_checked(http, user));
        $crate::connector::in_place!(get_user<'life1, 'life2>(
            $self, http: &'life1 $crate::http::Http, id: &'life2 $crate::resource::UserId
        ) -> $crate::error::Result<$crate::resource::RemoteUser>
            => async move { Ok($self.core.lift($crate::scim::ops::get_user(http, id).await?)) });
        $crate::connector::in_place!(find_user<'life1, 'life2>(
            $self, http: &'life1 $crate::http::Http, lookup: &'life2 $crate::resource::Lookup
        ) -> $crate::error::Result<Option<$crate::resource::RemoteUser>>
            => $self.core.find(http, lookup));
        // The default's, without boxing `find_user` a second time.
        $crate::connector::in_place!(find_before_create<'life1, 'life2>(
            $self, http: &'life1 $crate::http::Http, lookup: &'life2 $crate::resource::Lookup
        ) -> $crate::error::Result<Option<$crate::resource::RemoteUser>>
            => $self.core.find(http, lookup));
        $crate::connector::in_place!(find_before_planned_create<'life1, 'life2>(
            $self, http: &'life1 $crate::http::Http, lookup: &'life2 $crate::resource::Lookup
        ) -> $crate::error::Result<Option<$crate::resource::RemoteUser>>
            => $self.core.find_planned(http, lookup));
        $crate::connector::in_place!(list_users<'life1, 'life2>(
            $self, http: &'life1 $crate::http::Http, page: &'life2 $crate::resource::PageRequest
        ) -> $crate::error::Result<$crate::resource::UserPage>
            => async move {
                let page = $crate::scim::ops::list_users(http, page).await?;
                Ok($crate::scim::lift_page(&$self.core.extensions, page))
            });
    };
}
pub(crate) use scim_requests;

#[async_trait]
impl Connector for ScimBearer {
    fn kind(&self) -> &'static str {
        "scim"
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
        Authorization::bearer(credential)
    }

    fn accept(&self) -> &'static str {
        SCIM_ACCEPT
    }

    fn api_error(&self, response: &Response) -> ApiError {
        api_error_with_401_hint(response, SCIM_UNAUTHORIZED_HINT)
    }

    fn match_key(&self, user: &User) -> Result<Lookup> {
        ops::match_key(user)
    }

    fn check_new_user(&self, user: &User) -> Result<()> {
        check_user_name(user)
    }

    async fn test_connection(&self, http: &Http) -> Result<()> {
        ops::test_connection(http).await
    }

    async fn discovery(&self, http: &Http, refresh: bool) -> Option<Vec<String>> {
        Some(self.core.describe(http, refresh).await)
    }

    scim_requests!(self);

    async fn update_user(
        &self,
        http: &Http,
        id: &UserId,
        changes: &User,
        current: Option<&RemoteUser>,
    ) -> Result<UpdateOutcome> {
        self.core.update(http, id, changes, current).await
    }

    async fn set_active(&self, http: &Http, id: &UserId, active: bool) -> Result<()> {
        self.core.set_active(http, id, active).await
    }

    async fn set_active_of(&self, http: &Http, user: &RemoteUser, active: bool) -> Result<()> {
        self.core.set_active_of(http, user, active).await
    }

    async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()> {
        ops::delete_user(http, id).await
    }

    fn max_page_size(&self) -> u32 {
        ops::MAX_PAGE_SIZE
    }

    /// SCIM groups: see [`scim::groups`](crate::scim::groups).
    fn groups(&self) -> Option<&dyn crate::GroupConnector> {
        Some(self)
    }
}
