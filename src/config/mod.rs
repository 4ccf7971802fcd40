//! Connections built from configuration files: which apps, where, with which credential and
//! client settings.
//!
//! A service lists its connections in any format serde reads (TOML, JSON, YAML, …). Each entry is
//! what a person fills in on a connection form: a name, the `type` of app, where it is (the
//! instance URL for Interact and SCIM, the instance name for Freshservice) and the credential,
//! plus optional [client settings](ClientSettings) and app options.
//!
//! ```
//! use identity_connectors::config::ConnectionsConfig;
//!
//! let config: ConnectionsConfig = toml::from_str(r#"
//!     [[connections]]
//!     type = "interact"
//!     name = "Intranet"
//!     instance_url = "https://intranet.example.com/api/v2/scim/v2"
//!     token = { env = "INTERACT_TOKEN" }
//!
//!     [connections.client]
//!     timeout = "20s"
//!     max_in_flight = 8
//!     retry = { max_attempts = 3, deadline = "1m" }
//!
//!     [[connections]]
//!     type = "freshservice"
//!     name = "Service desk"
//!     instance = "acme"
//!     api_key = { file = "/run/secrets/freshservice-api-key" }
//!     default_kind = "requester"
//!     employee_number_field = "employee_id"
//!
//!     [connections.client]
//!     rate_limit_window = "1m"
//!
//!     [[connections]]
//!     type = "scim"
//!     name = "Directory"
//!     instance_url = "https://scim.example.net/v2"
//!     token = { env = "DIRECTORY_TOKEN" }
//! "#)?;
//! assert_eq!(config.connections.len(), 3);
//! assert_eq!(config.connections[1].name(), "Service desk");
//! assert_eq!(config.connections[1].app(), "freshservice");
//!
//! // Building reads the secrets and checks every field; one error lists every problem.
//! match config.build() {
//!     Ok(connections) => {
//!         for connection in connections {
//!             println!("{} ({}) is ready", connection.name, connection.app());
//!         }
//!     }
//!     Err(error) => eprintln!("{error}"),
//! }
//! # Ok::<(), toml::de::Error>(())
//! ```
//!
//! The same in JSON: `{"connections": [{"type": "interact", "name": "Intranet", "instance_url":
//! "https://…", "token": {"env": "INTERACT_TOKEN"}}]}`.
//!
//! # Fields
//!
//! | Field | Apps | Meaning |
//! |---|---|---|
//! | `type` | all | `interact`, `scim` or `freshservice` |
//! | `name` | all | what people call the connection; unique within a list |
//! | `instance_url` | interact, scim | the SCIM base URL (`https` only) |
//! | `instance` | freshservice | `acme`, `acme.freshservice.com` or a URL on it |
//! | `loopback_url` | all | instead of the two above, for tests and the [sandbox](crate::sandbox): a loopback base URL, `http` allowed |
//! | `token` / `api_key` | interact, scim / freshservice | a [`SecretSource`] |
//! | `client` | all | [`ClientSettings`], including its `retry` and `tls` tables and `proxy` |
//! | `default_kind`, `default_agent_roles`, `default_occasional`, `employee_number_field`, `name_cache_ttl` | freshservice | see [`FreshserviceConfig`] |
//!
//! Unknown fields are refused, with their path, so a misspelt option is never silently ignored.
//! Durations are written `"30s"`, `"2m"`, `"1h"`, `"500ms"` or as whole seconds.
//!
//! # Building
//!
//! [`ConnectorConfig::build`] gives a `Box<dyn Connector>`, [`ConnectorConfig::build_client`] a
//! [`Client`] with the connection's settings, and [`ConnectionsConfig::build`] every connection of
//! a list, all or nothing. Building resolves the secrets and checks every field before giving up,
//! so one [`ConfigError`] names every field to fix with its path:
//!
//! ```text
//! invalid configuration (2 problems):
//!   connections[0].token: environment variable INTERACT_TOKEN is not set
//!   connections[2].instance_url: must use https; plain http is accepted only for loopback test servers, as `loopback_url`
//! ```
//!
//! Parsing, too, reads every entry of a list before failing, and its error lists each entry's
//! first problem with its path (`connections[1].client.timout: unknown field …`).
//!
//! # Security
//!
//! - A secret is never forced inline: write `{ env = "VARIABLE" }` or `{ file = "/path" }`. The
//!   inline form (`token = "…"`) is **for tests only**: it sits in the file, its backups and
//!   version control, and a parser's error may quote the line it is on.
//! - Secrets are [`SecretString`](secrecy::SecretString)s from the moment they are read. Every
//!   configuration type prints `[REDACTED]` in `Debug` in place of an inline secret (and the name
//!   of the variable or file otherwise), and no [`ConfigError`] contains a secret's value or an
//!   e-mail address.
//! - Plain `http` is accepted only through `loopback_url`, which accepts only loopback hosts.
//! - A client built from configuration reads its `env` or `file` secret again when the app
//!   answers `401` (at most once per request), so rotating a token or key means changing the
//!   variable or rewriting the file: no restart.
//! - In `client.tls`, the certificates and the client key are [`SecretSource`]s too; the key is
//!   a secret (keep it in a file), and no error quotes a PEM. A `client.proxy` URL's password is
//!   redacted in `Debug` and never quoted in an error.

mod apps;
mod duration;
mod error;
mod secret;
mod settings;

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::{Map, Value};

pub use apps::{FreshserviceConfig, ScimConfig};
pub use error::{ConfigError, ConfigProblem};
pub use secret::SecretSource;
pub use settings::{ClientSettings, IdentitySettings, RetrySettings, TlsSettings};

use crate::client::Client;
use crate::connector::Connector;
use error::message_of;

const TYPES: &str = "`interact`, `scim` or `freshservice`";

/// One connection: which app, where, with which credential, client settings and options. Tagged
/// by its `type` field.
///
/// See the [module documentation](self) for the format.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ConnectorConfig {
    /// `type = "interact"`: an [`InteractBearer`](crate::InteractBearer).
    Interact(ScimConfig),
    /// `type = "scim"`: a [`ScimBearer`](crate::ScimBearer).
    Scim(ScimConfig),
    /// `type = "freshservice"`: a [`FreshserviceApiKey`](crate::FreshserviceApiKey).
    Freshservice(FreshserviceConfig),
}

impl ConnectorConfig {
    /// The connection's name.
    pub fn name(&self) -> &str {
        match self {
            ConnectorConfig::Interact(c) | ConnectorConfig::Scim(c) => &c.name,
            ConnectorConfig::Freshservice(c) => &c.name,
        }
    }

    /// The app: `interact`, `scim` or `freshservice` (the `type` field, and the built connector's
    /// [`kind`](Connector::kind)).
    pub fn app(&self) -> &'static str {
        match self {
            ConnectorConfig::Interact(_) => "interact",
            ConnectorConfig::Scim(_) => "scim",
            ConnectorConfig::Freshservice(_) => "freshservice",
        }
    }

    /// Where the connection's credential (`token` or `api_key`) comes from.
    pub fn secret(&self) -> &SecretSource {
        match self {
            ConnectorConfig::Interact(c) | ConnectorConfig::Scim(c) => &c.token,
            ConnectorConfig::Freshservice(c) => &c.api_key,
        }
    }

    /// The connection's client settings.
    pub fn client_settings(&self) -> &ClientSettings {
        match self {
            ConnectorConfig::Interact(c) | ConnectorConfig::Scim(c) => &c.client,
            ConnectorConfig::Freshservice(c) => &c.client,
        }
    }

    /// The connector. Reads the secret and checks every field, the client settings included;
    /// the error lists every problem with its path relative to the connection (`token`,
    /// `client.timeout`).
    pub fn build(&self) -> Result<Box<dyn Connector>, ConfigError> {
        self.checked().map_err(ConfigError::new)
    }

    /// A [`Client`] of the connector, with the connection's [`ClientSettings`]. Fails as
    /// [`build`](Self::build) does.
    ///
    /// The client reads the connection's [`secret`](Self::secret) (a file or a variable) again
    /// when the app answers `401` (see [`CredentialSource`](crate::CredentialSource)), so a token
    /// or key rotated there is used without a restart.
    pub fn build_client(&self) -> Result<Client, ConfigError> {
        let connector = self.build()?;
        let mut builder = Client::builder(connector);
        // An inline secret never changes: reading it again after a 401 could not help.
        if !matches!(self.secret(), SecretSource::Inline(_)) {
            builder = builder.credential_source(self.secret().clone());
        }
        self.client_settings().apply(builder)?.build().map_err(|error| ConfigError::one("client", message_of(error)))
    }

    /// The connector, or every problem found.
    fn checked(&self) -> Result<Box<dyn Connector>, Vec<error::ConfigProblem>> {
        let mut problems = Vec::new();
        let name = self.name();
        if name.trim().is_empty() {
            problems.push(ConfigProblem::new("name", "is empty"));
        } else if name.chars().any(char::is_control) {
            problems.push(ConfigProblem::new("name", "contains a control character"));
        }
        let built = match self {
            ConnectorConfig::Interact(c) => c.build(true),
            ConnectorConfig::Scim(c) => c.build(false),
            ConnectorConfig::Freshservice(c) => c.build().map(|c| Box::new(c) as Box<dyn Connector>),
        };
        let built = built.map_err(|found| problems.extend(found)).ok();
        problems.extend(self.client_settings().problems());
        match built {
            Some(connector) if problems.is_empty() => Ok(connector),
            _ => Err(problems),
        }
    }
}

impl<'de> Deserialize<'de> for ConnectorConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        parse_entry(value).map_err(|problem| D::Error::custom(ConfigError::new(vec![problem])))
    }
}

/// One entry, from any format through a JSON value, so the `type` tag can be read first and the
/// app's fields then read with their paths tracked (serde's tagged enums lose the paths).
fn parse_entry(value: Value) -> Result<ConnectorConfig, ConfigProblem> {
    let Value::Object(mut fields) = value else {
        return Err(ConfigProblem::new("", format!("expected a table (an object) with `type` ({TYPES}) and `name`")));
    };
    let app = match fields.remove("type") {
        None => return Err(ConfigProblem::new("type", format!("is missing: {TYPES}"))),
        Some(Value::String(app)) => app,
        Some(_) => return Err(ConfigProblem::new("type", format!("must be {TYPES}"))),
    };
    match app.as_str() {
        "interact" => app_fields(fields).map(ConnectorConfig::Interact),
        "scim" => app_fields(fields).map(ConnectorConfig::Scim),
        "freshservice" => app_fields(fields).map(ConnectorConfig::Freshservice),
        _ => Err(ConfigProblem::new("type", format!("must be {TYPES}"))),
    }
}

fn app_fields<T: DeserializeOwned>(fields: Map<String, Value>) -> Result<T, ConfigProblem> {
    serde_path_to_error::deserialize(Value::Object(fields)).map_err(|error| {
        let path = error.path().to_string();
        let path = if path == "." { String::new() } else { path };
        ConfigProblem::new(path, error.into_inner().to_string())
    })
}

/// A list of connections: the `connections` array of a configuration file.
///
/// Parsing reads every entry and, if any is wrong, fails listing each wrong entry's first problem
/// with its path. [`build`](Self::build) then builds every connection or none.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ConnectionsConfig {
    /// The connections, in file order.
    pub connections: Vec<ConnectorConfig>,
}

/// A connection built from configuration: its name and its ready [`Client`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Connection {
    /// The connection's name, from the configuration.
    pub name: String,
    /// The client, with the connection's settings.
    pub client: Client,
}

impl Connection {
    /// The app: `interact`, `scim` or `freshservice`.
    pub fn app(&self) -> &'static str {
        self.client.connector().kind()
    }
}

impl ConnectionsConfig {
    /// A list of these connections.
    pub fn new(connections: Vec<ConnectorConfig>) -> Self {
        ConnectionsConfig { connections }
    }

    /// Every connection's [`Client`], in order, or an error listing every problem of every
    /// connection with its path (`connections[2].instance_url: …`). Nothing is built unless
    /// everything can be; names must be unique (compared case-insensitively).
    pub fn build(&self) -> Result<Vec<Connection>, ConfigError> {
        let mut problems = Vec::new();
        let mut built = Vec::new();
        for (i, config) in self.connections.iter().enumerate() {
            let prefix = format!("connections[{i}]");
            let name = config.name().trim();
            let first = self.connections[..i].iter().position(|c| c.name().trim().eq_ignore_ascii_case(name));
            if let (Some(first), false) = (first, name.is_empty()) {
                problems.push(
                    ConfigProblem::new("name", format!("is already the name of connections[{first}]")).under(&prefix),
                );
            }
            match config.build_client() {
                Ok(client) => built.push(Connection { name: config.name().to_string(), client }),
                Err(error) => problems.extend(error.under(&prefix).problems),
            }
        }
        if problems.is_empty() { Ok(built) } else { Err(ConfigError::new(problems)) }
    }
}

impl<'de> Deserialize<'de> for ConnectionsConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            #[serde(default)]
            connections: Vec<Value>,
        }
        let raw = Raw::deserialize(deserializer)?;
        let mut problems = Vec::new();
        let mut connections = Vec::new();
        for (i, entry) in raw.connections.into_iter().enumerate() {
            match parse_entry(entry) {
                Ok(config) => connections.push(config),
                Err(problem) => problems.push(problem.under(&format!("connections[{i}]"))),
            }
        }
        if problems.is_empty() {
            Ok(ConnectionsConfig { connections })
        } else {
            Err(D::Error::custom(ConfigError::new(problems)))
        }
    }
}
