//! Client settings in configuration: what [`ClientBuilder`] and [`RetryPolicy`] take in code.

use std::fmt;
use std::time::Duration;

use secrecy::ExposeSecret as _;
use serde::Deserialize;

use crate::client::ClientBuilder;
use crate::config::error::{ConfigError, ConfigProblem, message_of};
use crate::config::secret::SecretSource;
use crate::error::Error;
use crate::http::{ClientIdentity, Proxy, RetryPolicy, RootCertificate};

/// [`ClientBuilder`]'s own upper bound on requests in flight.
const MAX_IN_FLIGHT: usize = 1024;
/// [`ClientBuilder`]'s own upper bound on the rate-limit window.
const MAX_RATE_LIMIT_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How the [`Client`](crate::Client) of one connection behaves: the `client` table of a
/// connection. Every field is optional; one left out keeps the [`ClientBuilder`] default.
///
/// Durations are written `"30s"`, `"2m"`, `"1h"`, `"500ms"` or as a whole number of seconds.
///
/// ```toml
/// [connections.client]
/// timeout = "30s"            # each request attempt (default 30 s)
/// max_in_flight = 4          # requests at once (default 4, 1 to 1024)
/// rate_limit_window = "1m"   # the app's rate-limit window (default 60 s, at most a day)
/// user_agent = "hr-sync/2.1" # default identity-connectors/<version>
/// max_response_bytes = 10485760
/// proxy = "http://proxy.internal:3128"  # or "none"; default: HTTPS_PROXY / HTTP_PROXY / NO_PROXY
///
/// [connections.client.retry]
/// max_attempts = 4           # every attempt, the first included (default 4)
/// base_delay = "200ms"
/// max_delay = "60s"
/// deadline = "2m"            # all waits of one request (default 120 s)
///
/// [connections.client.tls]
/// root_certificate = { file = "/etc/ssl/company-root-ca.pem" }
/// identity = { certificate = { file = "/run/secrets/client.pem" }, key = { file = "/run/secrets/client.key" } }
/// ```
///
/// `Debug` shows a proxy URL without its user name and password.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientSettings {
    /// [`ClientBuilder::timeout`]: the timeout of each request attempt.
    #[serde(default, deserialize_with = "super::duration::option")]
    pub timeout: Option<Duration>,
    /// [`ClientBuilder::max_in_flight`]: how many requests may be in flight at once.
    #[serde(default)]
    pub max_in_flight: Option<usize>,
    /// [`ClientBuilder::rate_limit_window`]: the length of the app's rate-limit window.
    #[serde(default, deserialize_with = "super::duration::option")]
    pub rate_limit_window: Option<Duration>,
    /// [`ClientBuilder::user_agent`]: the `User-Agent` header.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// [`ClientBuilder::max_response_bytes`]: the largest response body accepted.
    #[serde(default)]
    pub max_response_bytes: Option<usize>,
    /// [`ClientBuilder::retry_policy`]: how failed requests are retried.
    #[serde(default)]
    pub retry: Option<RetrySettings>,
    /// [`ClientBuilder::proxy`]: `"none"` ([`Proxy::none`]) or a proxy URL ([`Proxy::url`]); left
    /// out, the environment's ([`Proxy::from_environment`]). Checked when the connection is built,
    /// so no error quotes it.
    #[serde(default)]
    pub proxy: Option<String>,
    /// Extra trusted roots and a client certificate.
    #[serde(default)]
    pub tls: Option<TlsSettings>,
}

impl fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A proxy URL may hold a password: shown as the parsed Proxy, which redacts it.
        let proxy = self
            .proxy
            .as_deref()
            .map(|p| Proxy::parse(p).map_or_else(|_| "(invalid)".to_string(), |p| format!("{p:?}")));
        f.debug_struct("ClientSettings")
            .field("timeout", &self.timeout)
            .field("max_in_flight", &self.max_in_flight)
            .field("rate_limit_window", &self.rate_limit_window)
            .field("user_agent", &self.user_agent)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("retry", &self.retry)
            .field("proxy", &proxy)
            .field("tls", &self.tls)
            .finish()
    }
}

/// The `tls` table of a connection's [`ClientSettings`]. Each part is a [`SecretSource`]: a file,
/// an environment variable or inline PEM (inline is fine for a certificate, for tests only for a
/// key). Read and checked when the connection is built; errors name the field, never the PEM.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TlsSettings {
    /// [`ClientBuilder::root_certificate`]: PEM certificate authorities to trust besides the
    /// platform's ([`RootCertificate::from_pem`]).
    #[serde(default)]
    pub root_certificate: Option<SecretSource>,
    /// [`ClientBuilder::identity`]: the client certificate for servers that require mutual TLS.
    #[serde(default)]
    pub identity: Option<IdentitySettings>,
}

/// The `tls.identity` table: a client certificate and its key ([`ClientIdentity::from_pem`]).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct IdentitySettings {
    /// The PEM certificate chain, the client's certificate first.
    pub certificate: SecretSource,
    /// The PEM private key (PKCS #8, `-----BEGIN PRIVATE KEY-----`). A secret: `Debug` and errors
    /// never show it.
    pub key: SecretSource,
}

impl IdentitySettings {
    /// An identity from where its certificate chain and key are.
    pub fn new(certificate: SecretSource, key: SecretSource) -> Self {
        IdentitySettings { certificate, key }
    }
}

/// The transport settings read, each problem with its path under `client`.
#[derive(Default)]
struct TransportParts {
    proxy: Option<Proxy>,
    root: Option<RootCertificate>,
    identity: Option<ClientIdentity>,
}

/// The `retry` table of a connection's [`ClientSettings`]: [`RetryPolicy`]'s settings. Every field
/// left out keeps [`RetryPolicy::default`]'s value. `max_attempts = 1` with `deadline = 0` is
/// [`RetryPolicy::none`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RetrySettings {
    /// [`RetryPolicy::with_max_attempts`]: attempts of one request in all, the first included.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// [`RetryPolicy::with_base_delay`]: the first backoff step.
    #[serde(default, deserialize_with = "super::duration::option")]
    pub base_delay: Option<Duration>,
    /// [`RetryPolicy::with_max_delay`]: the longest single wait.
    #[serde(default, deserialize_with = "super::duration::option")]
    pub max_delay: Option<Duration>,
    /// [`RetryPolicy::with_deadline`]: how long the waits of one request may last in all.
    #[serde(default, deserialize_with = "super::duration::option")]
    pub deadline: Option<Duration>,
}

impl RetrySettings {
    /// The policy: [`RetryPolicy::default`] with the fields that are set.
    pub fn policy(&self) -> RetryPolicy {
        let mut policy = RetryPolicy::default();
        if let Some(attempts) = self.max_attempts {
            policy = policy.with_max_attempts(attempts);
        }
        if let Some(delay) = self.base_delay {
            policy = policy.with_base_delay(delay);
        }
        if let Some(delay) = self.max_delay {
            policy = policy.with_max_delay(delay);
        }
        if let Some(deadline) = self.deadline {
            policy = policy.with_deadline(deadline);
        }
        policy
    }

    fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        if self.max_attempts == Some(0) {
            problems.push(ConfigProblem::new("max_attempts", "must be at least 1 (1: no retries)"));
        }
        if let (Some(base), Some(max)) = (self.base_delay, self.max_delay) {
            if base > max {
                problems.push(ConfigProblem::new("base_delay", "must not be longer than `max_delay`"));
            }
        }
        problems
    }
}

impl ClientSettings {
    /// `builder` with the settings that are set. The proxy and TLS settings are read here (their
    /// files and variables) and fail with every problem and its path under `client`
    /// (`client.tls.root_certificate: …`). Other values are checked by [`ClientBuilder::build`];
    /// a connection's [`build_client`](crate::config::ConnectorConfig::build_client) reports
    /// each of them with its path too.
    pub fn apply(&self, mut builder: ClientBuilder) -> Result<ClientBuilder, ConfigError> {
        if let Some(timeout) = self.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(requests) = self.max_in_flight {
            builder = builder.max_in_flight(requests);
        }
        if let Some(window) = self.rate_limit_window {
            builder = builder.rate_limit_window(window);
        }
        if let Some(user_agent) = &self.user_agent {
            builder = builder.user_agent(user_agent.clone());
        }
        if let Some(bytes) = self.max_response_bytes {
            builder = builder.max_response_bytes(bytes);
        }
        if let Some(retry) = &self.retry {
            builder = builder.retry_policy(retry.policy());
        }
        let transport = self
            .transport()
            .map_err(|problems| ConfigError::new(problems.into_iter().map(|p| p.under("client")).collect()))?;
        if let Some(proxy) = transport.proxy {
            builder = builder.proxy(proxy);
        }
        if let Some(root) = transport.root {
            builder = builder.root_certificate(root);
        }
        if let Some(identity) = transport.identity {
            builder = builder.identity(identity);
        }
        Ok(builder)
    }

    /// The proxy and TLS settings, read and parsed; or every problem, with its path relative to
    /// `client`.
    fn transport(&self) -> Result<TransportParts, Vec<ConfigProblem>> {
        fn check<T>(path: &str, result: Result<T, Error>, problems: &mut Vec<ConfigProblem>) -> Option<T> {
            result.map_err(|error| problems.push(ConfigProblem::new(path, message_of(error)))).ok()
        }
        let read = |source: &SecretSource| source.resolve().map_err(Error::invalid_config);
        let mut problems = Vec::new();
        let mut parts = TransportParts::default();
        if let Some(proxy) = &self.proxy {
            parts.proxy = check("proxy", Proxy::parse(proxy), &mut problems);
        }
        let tls = self.tls.clone().unwrap_or_default();
        if let Some(source) = &tls.root_certificate {
            let root = read(source).and_then(|pem| RootCertificate::from_pem(pem.expose_secret()));
            parts.root = check("tls.root_certificate", root, &mut problems);
        }
        if let Some(identity) = &tls.identity {
            let certificate = check("tls.identity.certificate", read(&identity.certificate), &mut problems);
            let key = check("tls.identity.key", read(&identity.key), &mut problems);
            if let (Some(certificate), Some(key)) = (certificate, key) {
                let built = ClientIdentity::from_pem(certificate.expose_secret(), key);
                parts.identity = check("tls.identity", built, &mut problems);
            }
        }
        if problems.is_empty() { Ok(parts) } else { Err(problems) }
    }

    /// Every value [`ClientBuilder::build`] would refuse, each with its path under `client`.
    pub(crate) fn problems(&self) -> Vec<ConfigProblem> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, message: &str| problems.push(ConfigProblem::new(field, message));
        if self.timeout.is_some_and(|t| t.is_zero()) {
            problem("timeout", "must be greater than zero");
        }
        match self.max_in_flight {
            Some(0) => problem("max_in_flight", "must be at least 1"),
            Some(n) if n > MAX_IN_FLIGHT => problem("max_in_flight", "must be at most 1024"),
            _ => {}
        }
        if self.rate_limit_window.is_some_and(|w| w > MAX_RATE_LIMIT_WINDOW) {
            problem("rate_limit_window", "must be at most one day (\"24h\")");
        }
        if self.user_agent.as_deref().is_some_and(|ua| ua.trim().is_empty()) {
            problem("user_agent", "is empty");
        } else if self.user_agent.as_deref().is_some_and(|ua| ua.chars().any(char::is_control)) {
            problem("user_agent", "contains a control character");
        }
        if self.max_response_bytes == Some(0) {
            problem("max_response_bytes", "must be greater than zero");
        }
        if let Some(retry) = &self.retry {
            problems.extend(retry.problems().into_iter().map(|p| p.under("retry")));
        }
        if let Err(found) = self.transport() {
            problems.extend(found);
        }
        problems.into_iter().map(|p| p.under("client")).collect()
    }
}
