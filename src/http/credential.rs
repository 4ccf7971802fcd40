//! The credential as the request path holds it: the `Authorization` header value, built once and
//! marked sensitive, beside the [`Authorization`] it came from (to redact server echoes of it);
//! and its replacement after a `401`.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};

use reqwest::header::HeaderValue;
use secrecy::SecretString;

use crate::auth::{Authorization, CredentialSource};
use crate::error::{Error, Result};

/// Builds the `Authorization` for a replacement credential (the connector's
/// [`authorization_for`](crate::Connector::authorization_for)).
pub(crate) type Authorizer = Arc<dyn Fn(&SecretString) -> Result<Authorization> + Send + Sync>;

/// One credential, ready to send. Swapped as a whole when the credential changes, so a request
/// and the redaction of its response always use the same one.
pub(crate) struct Credential {
    header: HeaderValue,
    authorization: Authorization,
}

impl Credential {
    /// Builds the header value from `authorization`. Fails with [`Error::InvalidConfig`] if it
    /// cannot be sent in an HTTP header.
    pub(crate) fn new(authorization: &Authorization) -> Result<Self> {
        let mut header = HeaderValue::from_str(authorization.expose()).map_err(|_| {
            Error::invalid_config(
                "the credential cannot be sent in an HTTP header; check it for line breaks or other control characters",
            )
        })?;
        // Marked sensitive so HTTP-level logging never prints it.
        header.set_sensitive(true);
        Ok(Credential { header, authorization: authorization.clone() })
    }

    /// The `Authorization` header value.
    pub(crate) fn header(&self) -> &HeaderValue {
        &self.header
    }

    /// `text` with this credential replaced by `[REDACTED]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        self.authorization.redact(text)
    }
}

/// After `used` was refused with a `401`: whether the request should be sent once more, with the
/// credential now in `current`. True when it was replaced since `used` was taken (by
/// [`Client::set_credential`](crate::Client::set_credential) or another request's refresh), or
/// when `source` yields a different one, which then replaces it. The source is read only when
/// `used` is still the current credential.
pub(super) async fn replaced(
    current: &RwLock<Arc<Credential>>,
    used: &Credential,
    source: Option<&dyn CredentialSource>,
    authorize: &Authorizer,
) -> bool {
    let snapshot = Arc::clone(&current.read().unwrap_or_else(PoisonError::into_inner));
    if snapshot.header() != used.header() {
        return true;
    }
    let Some(source) = source else { return false };
    let fresh = match source.current().await.and_then(|secret| authorize(&secret)) {
        Ok(authorization) => authorization,
        Err(error) => {
            tracing::warn!(error = %error, "the credential source could not be read; not retrying");
            return false;
        }
    };
    let fresh = match Credential::new(&fresh) {
        Ok(fresh) => fresh,
        Err(error) => {
            tracing::warn!(error = %error, "the credential source's credential cannot be sent; not retrying");
            return false;
        }
    };
    if fresh.header() == used.header() {
        tracing::debug!("the credential source still yields the refused credential; not retrying");
        return false;
    }
    let mut current = current.write().unwrap_or_else(PoisonError::into_inner);
    // Replaced only if nothing else replaced it while the source was read: a credential set
    // meanwhile is newer than what the source said.
    if current.header() == used.header() {
        *current = Arc::new(fresh);
    }
    true
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_header_is_exact_and_marked_sensitive() {
        let bearer = Credential::new(&Authorization::bearer(&"tok-123".into()).unwrap()).unwrap();
        let header = bearer.header();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().unwrap(), "Bearer tok-123");
        assert_eq!(format!("{header:?}"), "Sensitive");
        assert_eq!(format!("{bearer:?}"), "Credential([REDACTED])");
        let basic = Credential::new(&Authorization::basic(&"abcdefgh12345678".into(), "X").unwrap()).unwrap();
        let header = basic.header();
        assert!(header.is_sensitive());
        assert_eq!(header.to_str().unwrap(), "Basic YWJjZGVmZ2gxMjM0NTY3ODpY");
        assert_eq!(basic.redact("key abcdefgh12345678 echoed"), "key [REDACTED] echoed");
    }
}
