//! The credential as the request path holds it: the `Authorization` header value, built once and
//! marked sensitive, beside the [`Authorization`] it came from (to redact server echoes of it).

use std::fmt;

use reqwest::header::HeaderValue;

use crate::auth::Authorization;
use crate::error::{Error, Result};

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
        let mut header = HeaderValue::from_str(authorization.expose())
            .map_err(|_| Error::invalid_config("the credential cannot be sent in an HTTP header"))?;
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
