//! SCIM 2.0 (RFC 7643/7644) from the client's side, reusable by any SCIM app.
//!
//! [`ScimBearer`] is a generic SCIM 2.0 connector (bearer token, no vendor extension) for
//! Slack-, Zoom- or Entra-style SCIM targets.

use std::fmt;

use secrecy::SecretString;
use url::Url;

use crate::auth::Authorization;
use crate::base_url::{Scheme, parse_base_url};
use crate::error::Result;

/// Any SCIM 2.0 service provider reached with a static bearer token.
#[derive(Clone)]
pub struct ScimBearer {
    pub(crate) base_url: Url,
    pub(crate) authorization: Authorization,
    pub(crate) display_name: String,
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
        Ok(ScimBearer { base_url, authorization, display_name })
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
