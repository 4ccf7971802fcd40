//! Interact Software's intranet, through its SCIM 2.0 API.
//!
//! Interact speaks standard SCIM plus one user extension,
//! `urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User` ([`InteractAttributes`]).
//! A SCIM *profile source* in Interact's Control Panel gives the base URL (its "Api Url Suffix",
//! typically `https://<intranet>/api/v2/scim/v2`) and a static bearer token ("Generate Key").
//!
//! [`InteractBearer`] speaks SCIM through [`scim::ops`](crate::scim::ops), like
//! [`ScimBearer`](crate::ScimBearer), and adds what Interact needs:
//!
//! - the typed extension ([`InteractAttributes`], a [`UserExtension`](crate::UserExtension) set
//!   with [`InteractBuilderExt::interact`] and read with [`InteractUserExt::interact`]:
//!   `loginType`, `location`, `jobStartDate`,
//!   `forcePasswordReset`, `omitFromSearch`, `pronouns`, `dateOfBirth`, `name.title`,
//!   `name.initials`), written under its URN and listed in `schemas` exactly when present, and
//!   updated through URN-prefixed `PATCH` paths such as
//!   `urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User:location`;
//! - a check, before any request, that a new user has every field Interact requires
//!   (`externalId`, `userName`, `active`, `name.givenName`, `name.familyName`, `loginType`), naming
//!   all the missing ones;
//! - a hint on `401` pointing at the profile source's key.
//!
//! Deprovision with [`Client::deactivate`](crate::Client::deactivate) (`active = false`), which
//! can be undone. [`Client::hard_delete`](crate::Client::hard_delete) sends `DELETE /Users/{id}`:
//! on Interact, deleting a person may also remove content they authored, so use it only when that
//! is what you want.
//!
//! ```no_run
//! use identity_connectors::interact::InteractBuilderExt;
//! use identity_connectors::{Client, InteractAttributes, InteractBearer, LoginType, User};
//!
//! # async fn run() -> Result<(), identity_connectors::Error> {
//! let interact = InteractBearer::new("https://intranet.example.com/api/v2/scim/v2", "profile-source-key")?;
//! let client = Client::new(interact)?;
//! let jane = User::builder("jane.doe@example.com")
//!     .external_id("E1001")
//!     .given_name("Jane")
//!     .family_name("Doe")
//!     .email("jane.doe@example.com")
//!     .interact(InteractAttributes::new(LoginType::Saml).location("London"))
//!     .build();
//! let provisioned = client.provision(&jane).await?;
//! println!("{}: {}", provisioned.user.id, provisioned.outcome);
//! # Ok(()) }
//! ```

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
use crate::resource::{Lookup, RemoteUser, UserId};
use crate::scim::core::ScimCore;
use crate::scim::{SCIM_ACCEPT, ScimExtensions, api_error_with_401_hint, ops, scim_requests};
use crate::user::User;

mod attributes;
mod groups;

pub use attributes::{
    INTERACT_USER_SCHEMA, InteractAttributes, InteractBuilderExt, InteractName, InteractUserExt, LoginType,
};
pub use groups::{INTERACT_GROUP_SCHEMA, InteractGroupAttributes, InteractGroupValue};

/// The Interact intranet, reached through its SCIM 2.0 API with a profile source's bearer token.
///
/// ```
/// use identity_connectors::InteractBearer;
///
/// let interact = InteractBearer::new(" https://intranet.example.com/api/v2/scim/v2/ ", "token")?;
/// assert_eq!(interact.base_url().as_str(), "https://intranet.example.com/api/v2/scim/v2");
/// assert!(!format!("{interact:?}").contains("token\""));
/// # Ok::<(), identity_connectors::Error>(())
/// ```
#[derive(Clone)]
pub struct InteractBearer {
    pub(crate) base_url: Url,
    pub(crate) authorization: Authorization,
    pub(crate) display_name: String,
    /// Interact's extension (read into [`InteractAttributes`]), discovery state and the look-up
    /// page limit.
    pub(crate) core: ScimCore,
}

impl InteractBearer {
    /// An Interact instance from its SCIM base URL and the profile source's token.
    ///
    /// The URL is trimmed and must be `https` with a host and no user info, query or fragment; a
    /// trailing slash is dropped and the path kept. An empty token is rejected.
    pub fn new(instance_url: &str, token: impl Into<SecretString>) -> Result<Self> {
        Self::build(instance_url, token.into(), Scheme::HttpsOnly)
    }

    /// Like [`new`](Self::new), but also accepts plain `http`, and only for loopback hosts
    /// (`127.0.0.0/8`, `localhost`, `[::1]`): for tests and the crate's sandbox.
    pub fn for_loopback(instance_url: &str, token: impl Into<SecretString>) -> Result<Self> {
        Self::build(instance_url, token.into(), Scheme::Loopback)
    }

    fn build(instance_url: &str, token: SecretString, scheme: Scheme) -> Result<Self> {
        let base_url = parse_base_url(instance_url, scheme, "Interact SCIM URL")?;
        let authorization = Authorization::bearer(&token)?;
        let display_name = format!("Interact ({})", base_url.host_str().unwrap_or_default());
        let extensions = ScimExtensions::new().with::<InteractAttributes>();
        Ok(InteractBearer { base_url, authorization, display_name, core: ScimCore::new(extensions) })
    }

    /// The most pages a look-up reads when the server does not filter; see
    /// [`ScimBearer::with_scan_limit`](crate::ScimBearer::with_scan_limit).
    #[must_use]
    pub fn with_scan_limit(mut self, pages: u32) -> Self {
        self.core.scan_limit = pages.max(1);
        self
    }

    /// The normalised SCIM base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }
}

impl fmt::Debug for InteractBearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InteractBearer")
            .field("base_url", &self.base_url.as_str())
            .field("token", &"[REDACTED]")
            .finish()
    }
}

/// The hint a `401` from Interact gets.
const INTERACT_UNAUTHORIZED_HINT: &str = "Check the SCIM profile source's key (Control Panel > Profile Sources): it may be wrong or regenerated, \
     or the profile source may not be active";

impl InteractBearer {
    /// Checks that `user` has every field Interact requires of a new user: `externalId`,
    /// `userName`, `active`, `name.givenName`, `name.familyName` and the extension's `loginType`.
    /// Blank values count as missing. The error names every missing field at once; nothing is sent.
    ///
    /// ```
    /// use identity_connectors::{Error, InteractBearer, User};
    ///
    /// let interact = InteractBearer::new("https://intranet.example.com/api/v2/scim/v2", "key")?;
    /// let Err(Error::Validation(invalid)) = interact.check_required(&User::builder("jdoe").build()) else {
    ///     panic!("expected a validation error");
    /// };
    /// let fields: Vec<_> = invalid.fields.iter().map(|f| f.field.as_str()).collect();
    /// assert_eq!(fields, [
    ///     "externalId",
    ///     "name.givenName",
    ///     "name.familyName",
    ///     "urn:ietf:params:scim:schemas:extension:interactsoftware:2.0:User:loginType",
    /// ]);
    /// # Ok::<(), identity_connectors::Error>(())
    /// ```
    pub fn check_required(&self, user: &User) -> Result<()> {
        let present = |value: Option<&str>| value.is_some_and(|v| !v.trim().is_empty());
        let login_type =
            user.extension::<InteractAttributes>().and_then(|i| i.login_type.as_ref()).map(LoginType::as_str);
        let required = [
            ("externalId".to_string(), present(user.external_id.as_deref())),
            ("userName".to_string(), present(user.user_name.as_deref())),
            ("active".to_string(), user.active.is_some()),
            ("name.givenName".to_string(), present(user.given_name())),
            ("name.familyName".to_string(), present(user.family_name())),
            (format!("{INTERACT_USER_SCHEMA}:loginType"), present(login_type)),
        ];
        let missing: Vec<FieldError> = required
            .into_iter()
            .filter(|(_, present)| !present)
            .map(|(field, _)| FieldError::new(field, "is required by Interact"))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = missing.iter().map(|f| f.field.as_str()).collect();
        Err(Error::invalid_input(format!("Interact requires {} of a new user", names.join(", ")), missing))
    }

    /// A create, after the required fields are checked: both create methods of the trait, unboxed.
    async fn create_checked(&self, http: &Http, user: &User) -> Result<(RemoteUser, Vec<String>)> {
        self.check_required(user)?;
        self.core.create(http, user).await
    }
}

#[async_trait]
impl Connector for InteractBearer {
    fn kind(&self) -> &'static str {
        "interact"
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
        api_error_with_401_hint(response, INTERACT_UNAUTHORIZED_HINT)
    }

    fn match_key(&self, user: &User) -> Result<Lookup> {
        ops::match_key(user)
    }

    fn check_new_user(&self, user: &User) -> Result<()> {
        self.check_required(user)
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

    /// `DELETE /Users/{id}`. On Interact this may remove content the person authored: prefer
    /// deactivation.
    async fn delete_user(&self, http: &Http, id: &UserId) -> Result<()> {
        ops::delete_user(http, id).await
    }

    fn max_page_size(&self) -> u32 {
        ops::MAX_PAGE_SIZE
    }

    /// SCIM groups, with Interact's group extension ([`InteractGroupAttributes`]).
    fn groups(&self) -> Option<&dyn crate::GroupConnector> {
        Some(self)
    }
}
