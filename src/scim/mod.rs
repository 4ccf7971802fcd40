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
//! | `test_connection` | `GET /Users?startIndex=1&count=1` |
//! | `provision` | `GET /Users?filter=userName eq "…"`, then `POST /Users` or a `PATCH` |
//! | `get` | `GET /Users/{id}` |
//! | `find_by_user_name` / `_external_id` / `_email` | `GET /Users?filter=userName eq "…"` / `externalId eq` / `emails.value eq` |
//! | `update` | `PATCH /Users/{id}` with one `replace` per changed attribute |
//! | `deactivate` / `reactivate` | `PATCH /Users/{id}` `{"op":"replace","path":"active","value":false}` / `true` |
//! | `hard_delete` | `DELETE /Users/{id}` |
//! | `list` | `GET /Users?startIndex=…&count=…`, page after page |
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
use crate::resource::{Lookup, PageRequest, RemoteUser, UserId, UserPage};
use crate::user::User;

pub mod codec;
mod error;
mod filter;
pub mod groups;
mod list;
pub mod ops;
mod patch;

pub use codec::{ScimExtension, ScimExtensions};
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
    pub(crate) extensions: ScimExtensions,
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
        Ok(ScimBearer { base_url, authorization, display_name, extensions: ScimExtensions::new() })
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
        self.extensions = self.extensions.with::<T>();
        self
    }

    /// The normalised SCIM base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
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

/// `user` with its registered extension objects typed.
pub(crate) fn lift_remote(extensions: &ScimExtensions, mut user: RemoteUser) -> RemoteUser {
    extensions.lift(&mut user.user);
    user
}

/// The outcome with the returned user's registered extension objects typed.
pub(crate) fn lift_outcome(extensions: &ScimExtensions, mut outcome: UpdateOutcome) -> UpdateOutcome {
    if let UpdateOutcome::Updated(Some(user)) = &mut outcome {
        extensions.lift(&mut user.user);
    }
    outcome
}

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

    async fn create_user(&self, http: &Http, user: &User) -> Result<RemoteUser> {
        self.check_new_user(user)?;
        Ok(lift_remote(&self.extensions, ops::create_user(http, user).await?))
    }

    async fn get_user(&self, http: &Http, id: &UserId) -> Result<RemoteUser> {
        Ok(lift_remote(&self.extensions, ops::get_user(http, id).await?))
    }

    async fn find_user(&self, http: &Http, lookup: &Lookup) -> Result<Option<RemoteUser>> {
        Ok(ops::find_user(http, lookup).await?.map(|user| lift_remote(&self.extensions, user)))
    }

    async fn update_user(
        &self,
        http: &Http,
        id: &UserId,
        changes: &User,
        current: Option<&RemoteUser>,
    ) -> Result<UpdateOutcome> {
        Ok(lift_outcome(&self.extensions, ops::update_user(http, id, changes, current).await?))
    }

    async fn set_active(&self, http: &Http, id: &UserId, active: bool) -> Result<()> {
        ops::set_active(http, id, active).await
    }

    async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()> {
        ops::delete_user(http, id).await
    }

    async fn list_users(&self, http: &Http, page: &PageRequest) -> Result<UserPage> {
        Ok(lift_page(&self.extensions, ops::list_users(http, page).await?))
    }

    /// SCIM groups: see [`scim::groups`](crate::scim::groups).
    fn groups(&self) -> Option<&dyn crate::GroupConnector> {
        Some(self)
    }
}
