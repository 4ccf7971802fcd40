//! How a client reaches its app: extra trusted root certificates, a client certificate for mutual
//! TLS, and the proxy. The crate's own types; they become the HTTP library's settings only here.

use std::fmt;

use secrecy::{ExposeSecret as _, SecretString};
use url::Url;

use crate::error::{Error, Result};

/// A certificate authority to trust besides the platform's roots (a company CA that signs an
/// internal SCIM server's certificate, say). Give it to
/// [`ClientBuilder::root_certificate`](crate::ClientBuilder::root_certificate).
///
/// `Debug` names how many certificates it holds, not their content.
#[derive(Clone)]
pub struct RootCertificate {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    certificates: Vec<reqwest::Certificate>,
    count: usize,
}

impl RootCertificate {
    /// One or more PEM certificates (`-----BEGIN CERTIFICATE-----`), as a `.pem`/`.crt` file holds
    /// them. Fails with [`Error::InvalidConfig`] (never quoting `pem`) when it holds no certificate,
    /// one that cannot be decoded, or a private key, or when the crate is built without TLS.
    pub fn from_pem(pem: impl AsRef<[u8]>) -> Result<Self> {
        let pem = pem.as_ref();
        if contains(pem, b"PRIVATE KEY-----") {
            return Err(Error::invalid_config(
                "the root certificate holds a private key; give only the CA's certificate",
            ));
        }
        if !contains(pem, b"-----BEGIN CERTIFICATE-----") {
            return Err(Error::invalid_config(
                "the root certificate is not PEM: expected `-----BEGIN CERTIFICATE-----`",
            ));
        }
        Self::parse(pem)
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    fn parse(pem: &[u8]) -> Result<Self> {
        let certificates = reqwest::Certificate::from_pem_bundle(pem)
            .map_err(|e| Error::invalid_config(format!("the root certificate cannot be read: {}", reason(&e))))?;
        if certificates.is_empty() {
            return Err(Error::invalid_config("the root certificate holds no certificate"));
        }
        #[cfg(not(feature = "native-tls"))]
        checked_by_rustls(|b| b.tls_certs_merge(certificates.iter().cloned()))
            .map_err(|e| Error::invalid_config(format!("the root certificate cannot be used: {}", reason(&e))))?;
        Ok(RootCertificate { count: certificates.len(), certificates })
    }

    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    fn parse(_: &[u8]) -> Result<Self> {
        Err(no_tls())
    }
}

impl fmt::Debug for RootCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RootCertificate({} certificate{})", self.count, if self.count == 1 { "" } else { "s" })
    }
}

/// The client's certificate and private key for servers that require mutual TLS. Give it to
/// [`ClientBuilder::identity`](crate::ClientBuilder::identity).
///
/// The key is held as a [`SecretString`]; `Debug` prints `ClientIdentity([REDACTED])`.
#[derive(Clone)]
pub struct ClientIdentity {
    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    identity: reqwest::Identity,
}

impl ClientIdentity {
    /// The PEM certificate chain (the client's certificate first, then any intermediates) and
    /// its PEM private key. The key must be PKCS #8 (`-----BEGIN PRIVATE KEY-----`, what
    /// `openssl genpkey` writes) for the `native-tls` feature; with `rustls` PKCS #1 (`RSA PRIVATE
    /// KEY`) and SEC1 (`EC PRIVATE KEY`) work too.
    ///
    /// Fails with [`Error::InvalidConfig`], never quoting either argument, when the chain holds no
    /// certificate (or holds a key), the key is not a PEM private key, or either cannot be decoded.
    pub fn from_pem(certificate_chain: impl AsRef<[u8]>, private_key: impl Into<SecretString>) -> Result<Self> {
        let chain = certificate_chain.as_ref();
        let key = private_key.into();
        if contains(chain, b"PRIVATE KEY-----") {
            return Err(Error::invalid_config(
                "the client certificate chain holds a private key; give the key separately, as a secret",
            ));
        }
        if !contains(chain, b"-----BEGIN CERTIFICATE-----") {
            return Err(Error::invalid_config(
                "the client certificate chain is not PEM: expected `-----BEGIN CERTIFICATE-----`",
            ));
        }
        if !contains(key.expose_secret().as_bytes(), b"PRIVATE KEY-----") {
            return Err(Error::invalid_config(
                "the client private key is not PEM: expected `-----BEGIN PRIVATE KEY-----`",
            ));
        }
        Self::parse(chain, &key)
    }

    /// The native backend is the one the HTTP library uses whenever `native-tls` is on (see
    /// [`Transport::apply`]), and it takes the chain and the key apart.
    #[cfg(feature = "native-tls")]
    fn parse(chain: &[u8], key: &SecretString) -> Result<Self> {
        reqwest::Identity::from_pkcs8_pem(chain, key.expose_secret().as_bytes())
            .map(|identity| ClientIdentity { identity })
            .map_err(|e| Error::invalid_config(format!("the client certificate or key cannot be read: {}", reason(&e))))
    }

    #[cfg(all(feature = "rustls", not(feature = "native-tls")))]
    fn parse(chain: &[u8], key: &SecretString) -> Result<Self> {
        // rustls reads both from one buffer; it is dropped (and its key with it) right after.
        // Sized up front, so no reallocation leaves a copy of the key behind.
        let key = key.expose_secret().as_bytes();
        let mut bytes = Vec::with_capacity(chain.len() + 1 + key.len());
        bytes.extend_from_slice(chain);
        bytes.push(b'\n');
        bytes.extend_from_slice(key);
        let both = secrecy::SecretBox::new(Box::new(bytes));
        let identity = reqwest::Identity::from_pem(both.expose_secret())
            .and_then(|identity| checked_by_rustls(|b| b.identity(identity.clone())).map(|()| identity))
            .map_err(|e| {
                Error::invalid_config(format!("the client certificate or key cannot be read: {}", reason(&e)))
            })?;
        Ok(ClientIdentity { identity })
    }

    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    fn parse(_: &[u8], _: &SecretString) -> Result<Self> {
        Err(no_tls())
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientIdentity([REDACTED])")
    }
}

/// Which proxy a client sends its requests through. Give it to
/// [`ClientBuilder::proxy`](crate::ClientBuilder::proxy).
///
/// The default, [`from_environment`](Self::from_environment), follows `HTTPS_PROXY`,
/// `HTTP_PROXY`, `ALL_PROXY` and `NO_PROXY` (and the system's settings on macOS and Windows).
/// `Debug` shows the proxy's scheme, host and port, with any user name and password in the URL
/// replaced by `[REDACTED]`.
#[derive(Clone, Default)]
pub struct Proxy(ProxyKind);

#[derive(Clone, Default)]
enum ProxyKind {
    #[default]
    Environment,
    None,
    Url(Url),
}

impl Proxy {
    /// The proxy the environment names, if any (the default).
    pub fn from_environment() -> Self {
        Proxy(ProxyKind::Environment)
    }

    /// No proxy: every request goes straight to the app, whatever the environment says.
    pub fn none() -> Self {
        Proxy(ProxyKind::None)
    }

    /// Every request through the proxy at `url` (`http://proxy.internal:3128`; `https://` for a
    /// proxy reached over TLS). A user name and password in the URL are sent to the proxy as
    /// Basic credentials. Fails with [`Error::InvalidConfig`], never quoting `url`, when it is not
    /// an `http` or `https` URL with a host.
    pub fn url(url: &str) -> Result<Self> {
        let parsed = Url::parse(url.trim())
            .map_err(|e| Error::invalid_config(format!("the proxy URL is not a valid URL ({e})")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::invalid_config(
                "the proxy URL must start with http:// or https:// (SOCKS is not supported)",
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(Error::invalid_config("the proxy URL has no host"));
        }
        Ok(Proxy(ProxyKind::Url(parsed)))
    }

    /// `none` (any case) for [`none`](Self::none), else [`url`](Self::url): the configuration's
    /// `proxy` field.
    pub fn parse(value: &str) -> Result<Self> {
        if value.trim().eq_ignore_ascii_case("none") { Ok(Proxy::none()) } else { Proxy::url(value) }
    }
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ProxyKind::Environment => f.write_str("Proxy(from environment)"),
            ProxyKind::None => f.write_str("Proxy(none)"),
            ProxyKind::Url(url) => {
                let userinfo = if url.username().is_empty() && url.password().is_none() { "" } else { "[REDACTED]@" };
                let host = url.host_str().unwrap_or_default();
                let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
                write!(f, "Proxy({}://{userinfo}{host}{port})", url.scheme())
            }
        }
    }
}

/// A client's transport settings, applied to the HTTP library's builder when the client is built.
#[derive(Debug, Clone, Default)]
pub(crate) struct Transport {
    pub(crate) roots: Vec<RootCertificate>,
    pub(crate) identity: Option<ClientIdentity>,
    pub(crate) proxy: Proxy,
}

impl Transport {
    /// `builder` with these settings. With `native-tls` on, the native backend is chosen
    /// explicitly (the library's own default when both backends are built), so a
    /// [`ClientIdentity`] is always read for the backend that uses it.
    pub(crate) fn apply(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        #[cfg(feature = "native-tls")]
        let builder = builder.tls_backend_native();
        let builder = match &self.proxy.0 {
            ProxyKind::Environment => builder,
            ProxyKind::None => builder.no_proxy(),
            ProxyKind::Url(url) => builder.proxy(
                reqwest::Proxy::all(url.as_str())
                    .map_err(|_| Error::invalid_config("the proxy URL cannot be used by the HTTP client"))?,
            ),
        };
        self.apply_tls(builder)
    }

    #[cfg(any(feature = "rustls", feature = "native-tls"))]
    fn apply_tls(&self, mut builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        // Merged with the platform's roots: trusting a company CA must not distrust public ones.
        builder = builder.tls_certs_merge(self.roots.iter().flat_map(|root| root.certificates.iter().cloned()));
        if let Some(identity) = &self.identity {
            builder = builder.identity(identity.identity.clone());
        }
        Ok(builder)
    }

    #[cfg(not(any(feature = "rustls", feature = "native-tls")))]
    fn apply_tls(&self, builder: reqwest::ClientBuilder) -> Result<reqwest::ClientBuilder> {
        if self.roots.is_empty() && self.identity.is_none() { Ok(builder) } else { Err(no_tls()) }
    }
}

/// Whether rustls accepts what `configure` sets. Its readers of PEM only split the text into DER
/// blocks; the certificates and the key are decoded when a client is built, so one is built here
/// to report a bad one where it is given, not later as a client that cannot be built. (The
/// native backend decodes them in the constructors already.)
#[cfg(all(feature = "rustls", not(feature = "native-tls")))]
fn checked_by_rustls(
    configure: impl FnOnce(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> std::result::Result<(), reqwest::Error> {
    configure(reqwest::Client::builder().no_proxy()).build().map(drop)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

/// The TLS library's reason, without the PEM it was given (it never quotes it; this also keeps
/// only the innermost, most specific cause).
#[cfg(any(feature = "rustls", feature = "native-tls"))]
fn reason(error: &reqwest::Error) -> String {
    let mut source: &dyn std::error::Error = error;
    while let Some(inner) = source.source() {
        source = inner;
    }
    source.to_string()
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn no_tls() -> Error {
    Error::invalid_config("this build of identity-connectors has no TLS (enable the `rustls` or `native-tls` feature)")
}

/// Whether a request failed in the TLS handshake: a TLS library's error is among `error`'s causes
/// while `connecting` (the server's certificate was refused), or the server answered the
/// handshake with a certificate alert (it refused ours, which TLS 1.3 reports after the client
/// considers the handshake done). Either way the server never read the request.
pub(crate) fn tls_failure(error: &(dyn std::error::Error + 'static), connecting: bool) -> Option<TlsError> {
    let mut next = Some(error);
    // Bounded: a chain is short, and a foreign error type could make its own `source` endless.
    for _ in 0..32 {
        let cause = next?;
        match tls_error(cause) {
            Some(TlsError::CertificateAlert) => return Some(TlsError::CertificateAlert),
            Some(TlsError::Other) if connecting => return Some(TlsError::Other),
            _ => {}
        }
        // An I/O error's `source` skips the error it wraps (TLS streams wrap theirs in one, and
        // the connector wraps that in another): its `get_ref` is the next link.
        next = match cause.downcast_ref::<std::io::Error>().and_then(std::io::Error::get_ref) {
            Some(inner) => Some(inner),
            None => cause.source(),
        };
    }
    None
}

/// A TLS library's error, and whether it is the server refusing a certificate.
// Without a TLS library neither is made.
#[cfg_attr(not(any(feature = "rustls", feature = "native-tls")), allow(dead_code))]
pub(crate) enum TlsError {
    /// The server refused this client's certificate (or its lack of one).
    CertificateAlert,
    /// Anything else: most often the server's certificate is not trusted.
    Other,
}

fn tls_error(error: &(dyn std::error::Error + 'static)) -> Option<TlsError> {
    #[cfg(feature = "rustls")]
    if let Some(error) = error.downcast_ref::<rustls::Error>() {
        use rustls::AlertDescription as A;
        let refused = matches!(
            error,
            rustls::Error::AlertReceived(
                A::CertificateRequired
                    | A::BadCertificate
                    | A::UnsupportedCertificate
                    | A::CertificateRevoked
                    | A::CertificateExpired
                    | A::CertificateUnknown
                    | A::UnknownCA
            )
        );
        return Some(if refused { TlsError::CertificateAlert } else { TlsError::Other });
    }
    // With native-tls (OpenSSL) only the reason says that the server refused this client's
    // certificate: in the handshake (TLS 1.2) within a `native_tls::Error`, after it (TLS 1.3) as
    // OpenSSL's own error, whose type native-tls does not export. A certificate this client
    // refuses never reads "alert …".
    #[cfg(feature = "native-tls")]
    {
        let reason = error.to_string();
        if OPENSSL_CERTIFICATE_ALERTS.iter().any(|alert| reason.contains(alert)) {
            return Some(TlsError::CertificateAlert);
        }
    }
    #[cfg(feature = "native-tls")]
    if error.is::<native_tls::Error>() {
        return Some(TlsError::Other);
    }
    let _ = error;
    None
}

/// OpenSSL's reasons for the alerts a server sends when it refuses the client's certificate
/// (`tlsv13 alert certificate required`, `sslv3 alert bad certificate`, …).
#[cfg(feature = "native-tls")]
const OPENSSL_CERTIFICATE_ALERTS: [&str; 7] = [
    "alert certificate required",
    "alert bad certificate",
    "alert unsupported certificate",
    "alert certificate revoked",
    "alert certificate expired",
    "alert certificate unknown",
    "alert unknown ca",
];
