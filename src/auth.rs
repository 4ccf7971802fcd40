//! Credentials and the `Authorization` header built from them.

use std::fmt;

use async_trait::async_trait;
use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::redact;

/// A ready-to-send `Authorization` header value, built once when a connector is constructed.
///
/// It is held as a [`SecretString`]: its `Debug` prints `Authorization([REDACTED])`, and the
/// request path marks the header sensitive so HTTP-level logging does not print it either. Its
/// value cannot be read outside this crate:
///
/// ```compile_fail
/// let auth = identity_connectors::Authorization::bearer(&"token".into()).unwrap();
/// println!("{}", auth.expose());
/// ```
#[derive(Clone)]
pub struct Authorization {
    header: SecretString,
    /// The credential as the user gave it (for Basic: user name and password), kept only to redact
    /// it from server messages that echo it.
    credentials: Vec<SecretString>,
}

impl Authorization {
    /// `Bearer <token>`. An empty or whitespace-only token is an [`Error::InvalidConfig`].
    pub fn bearer(token: &SecretString) -> Result<Self> {
        let token = checked_credential(token, "bearer token")?;
        Ok(Authorization {
            header: SecretString::from(format!("Bearer {token}")),
            credentials: vec![SecretString::from(token)],
        })
    }

    /// `Basic base64(<username>:<password>)`. An empty or whitespace-only user name is an
    /// [`Error::InvalidConfig`].
    pub fn basic(username: &SecretString, password: &str) -> Result<Self> {
        let username = checked_credential(username, "API key")?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        Ok(Authorization {
            header: SecretString::from(format!("Basic {encoded}")),
            credentials: vec![SecretString::from(username), SecretString::from(password)],
        })
    }

    /// The header value.
    ///
    /// # Security
    ///
    /// This is the credential itself. Send it; never log or display it.
    pub(crate) fn expose(&self) -> &str {
        self.header.expose_secret()
    }

    /// `text` with every occurrence of the credential (as given, or as sent in the header; raw,
    /// percent-encoded in either case, or JSON-escaped) replaced by `[REDACTED]`: for server
    /// messages that echo what they were sent. Values shorter than 4 characters (Freshservice's
    /// `X` password, say) are left alone: they would match ordinary words.
    pub(crate) fn redact(&self, text: &str) -> String {
        let header = self.header.expose_secret();
        let encoded = header.split_once(' ').map_or(header, |(_, value)| value);
        redact::credentials(text, self.credentials.iter().map(|c| c.expose_secret()).chain([encoded]))
    }
}

impl fmt::Debug for Authorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Authorization([REDACTED])")
    }
}

/// Where a [`Client`](crate::Client) gets its credential again when the app answers `401`, so a
/// credential rotated outside the process (a secret file rewritten, a variable changed) is picked
/// up without a restart.
///
/// The client reads it at most once per request: after a `401`, it asks [`current`](Self::current)
/// for the credential, and sends the request once more only if that differs from the one just
/// refused (a `401` leaves the request unprocessed, so repeating it is safe for every method). A
/// second `401`, a source that still yields the refused credential, and a source that cannot be
/// read all give the `401`'s [`Error::Unauthorized`]. The credential is what the connector's
/// constructor takes (a bearer token, a Freshservice API key) and becomes a header through
/// [`Connector::authorization_for`](crate::Connector::authorization_for).
///
/// [`SecretSource`](crate::SecretSource) (an environment variable or a file) is one; connections
/// built from configuration use theirs. Set one on a client with
/// [`ClientBuilder::credential_source`](crate::ClientBuilder::credential_source).
///
/// ```
/// use async_trait::async_trait;
/// use identity_connectors::{CredentialSource, Result};
/// use secrecy::SecretString;
///
/// /// A token a vault agent keeps fresh in memory.
/// #[derive(Debug)]
/// struct VaultToken(std::sync::Arc<std::sync::RwLock<SecretString>>);
///
/// #[async_trait]
/// impl CredentialSource for VaultToken {
///     async fn current(&self) -> Result<SecretString> {
///         Ok(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
///     }
/// }
/// ```
///
/// Implementations must not print the credential in `Debug`, and their errors must not contain it.
#[async_trait]
pub trait CredentialSource: Send + Sync + fmt::Debug {
    /// The credential as it is now. An error is logged (at `WARN`, as its `Display`) and the `401`
    /// is returned.
    async fn current(&self) -> Result<SecretString>;
}

/// Trims a credential and rejects it when empty or when it holds characters that cannot go in a
/// header (control characters, inner whitespace).
fn checked_credential<'a>(secret: &'a SecretString, what: &str) -> Result<&'a str> {
    let value = secret.expose_secret().trim();
    if value.is_empty() {
        return Err(Error::invalid_config(format!("the {what} is empty; pass the one the app issued")));
    }
    if value.chars().any(|c| c.is_control() || c.is_whitespace() || !c.is_ascii()) {
        return Err(Error::invalid_config(format!(
            "the {what} contains whitespace, control or non-ASCII characters; paste it again without them"
        )));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header_is_exact_and_trimmed() {
        let auth = Authorization::bearer(&SecretString::from("  tok-123\n")).unwrap();
        assert_eq!(auth.expose(), "Bearer tok-123");
    }

    #[test]
    fn basic_header_is_base64_of_key_colon_x() {
        let auth = Authorization::basic(&SecretString::from("abcdefgh12345678"), "X").unwrap();
        // printf 'abcdefgh12345678:X' | base64
        assert_eq!(auth.expose(), "Basic YWJjZGVmZ2gxMjM0NTY3ODpY");
    }

    #[test]
    fn empty_and_whitespace_credentials_are_rejected() {
        for bad in ["", "   ", "\t\n"] {
            let err = Authorization::bearer(&SecretString::from(bad)).unwrap_err();
            assert_eq!(
                err.to_string(),
                "Invalid configuration: the bearer token is empty; pass the one the app issued"
            );
            let err = Authorization::basic(&SecretString::from(bad), "X").unwrap_err();
            assert_eq!(err.to_string(), "Invalid configuration: the API key is empty; pass the one the app issued");
        }
        let err = Authorization::bearer(&SecretString::from("ab cd")).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }));
        assert!(!err.to_string().contains("ab cd"));
    }

    #[test]
    fn redact_removes_the_credential_in_both_forms() {
        let auth = Authorization::basic(&SecretString::from("abcdefgh12345678"), "X").unwrap();
        assert_eq!(
            auth.redact("key abcdefgh12345678 or YWJjZGVmZ2gxMjM0NTY3ODpY is wrong"),
            "key [REDACTED] or [REDACTED] is wrong"
        );
        let auth = Authorization::bearer(&SecretString::from("tok-123")).unwrap();
        assert_eq!(auth.redact("Bearer tok-123 invalid"), "Bearer [REDACTED] invalid");
        let auth = Authorization::basic(&SecretString::from("svc-user"), "pa55word").unwrap();
        assert_eq!(auth.redact("svc-user / pa55word rejected; X stays"), "[REDACTED] / [REDACTED] rejected; X stays");
        // base64 holds `+`, `/` and `=`: echoed percent-encoded (either case) or JSON-escaped.
        let auth = Authorization::basic(&SecretString::from("k>?~k>?~"), "X").unwrap();
        assert_eq!(auth.expose(), "Basic az4/fms+P346WA==");
        for echo in ["az4/fms+P346WA==", "az4%2Ffms%2BP346WA%3D%3D", "az4%2ffms%2bP346WA%3d%3d", "az4\\/fms+P346WA=="] {
            assert_eq!(auth.redact(&format!("got {echo}.")), "got [REDACTED].", "{echo}");
        }
    }

    #[test]
    fn debug_is_redacted() {
        let auth = Authorization::bearer(&SecretString::from("tok-123")).unwrap();
        assert_eq!(format!("{auth:?}"), "Authorization([REDACTED])");
    }
}
