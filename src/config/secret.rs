//! Where a credential comes from: an environment variable, a file, or (for tests) the
//! configuration itself.

use std::fmt;
use std::io::Read as _;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::auth::CredentialSource;
use crate::error::Error;
use crate::redact::{has_mixed_case, looks_like_api_key};

/// The largest secret file read, in bytes: a token or an API key is far smaller, and a wrong path
/// (a log, a disk image) must not be read into memory whole.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

const EXPECTED: &str = "a secret: { env = \"VARIABLE\" }, { file = \"/path\" }, or an inline string (for tests only)";

/// Where a credential (a token, an API key) comes from.
///
/// In configuration it is written as one of:
///
/// | Form (TOML) | Meaning |
/// |---|---|
/// | `token = { env = "INTERACT_TOKEN" }` | the value of that environment variable |
/// | `token = { file = "/run/secrets/interact" }` | the content of that file, its trailing line break removed |
/// | `token = "…"` | the value itself: **for tests only** |
///
/// The value is read when a connection is [built](crate::config::ConnectorConfig::build), not when
/// the configuration is parsed, so every missing variable and file is reported at once, each with
/// the field's path. An inline value is held as a [`SecretString`] from the moment it is parsed.
///
/// `Debug` shows the variable's name or the file's path, never a value:
/// `Env("INTERACT_TOKEN")`, `File("/run/secrets/interact")`, `Inline([REDACTED])`.
///
/// # Security
///
/// An inline secret sits in the configuration file, in its backups and in version control, and a
/// parser's error message may quote the line it is on: use `env` or `file` everywhere but in tests.
#[derive(Clone)]
#[non_exhaustive]
pub enum SecretSource {
    /// The value of this environment variable.
    Env(String),
    /// The content of this file (at most 64 KiB), with its trailing line breaks removed. A
    /// relative path is relative to the working directory.
    File(PathBuf),
    /// The value itself. For tests only: see the type's Security note.
    Inline(SecretString),
}

impl SecretSource {
    /// Reads the secret. The error says which variable or file is missing, unreadable or empty,
    /// never what it holds.
    pub fn resolve(&self) -> Result<SecretString, String> {
        if let Some(problem) = self.naming_problem() {
            return Err(problem.to_string());
        }
        match self {
            SecretSource::Env(name) => match std::env::var(name) {
                Ok(value) if value.trim().is_empty() => Err(format!("environment variable {name} is empty")),
                Ok(value) => Ok(SecretString::from(value)),
                Err(std::env::VarError::NotPresent) => Err(format!("environment variable {name} is not set")),
                Err(std::env::VarError::NotUnicode(_)) => {
                    Err(format!("environment variable {name} is not valid Unicode"))
                }
            },
            SecretSource::File(path) => read_secret_file(path),
            SecretSource::Inline(value) => Ok(value.clone()),
        }
    }
}

/// Read again after a `401`: a connection built from configuration picks up a rotated token or
/// key (the file rewritten, the variable changed) without a restart. A file is read on a blocking
/// thread; an inline value never changes.
#[async_trait::async_trait]
impl CredentialSource for SecretSource {
    async fn current(&self) -> crate::Result<SecretString> {
        let source = self.clone();
        let resolved = match self {
            SecretSource::File(_) => tokio::task::spawn_blocking(move || source.resolve())
                .await
                .unwrap_or_else(|_| Err("the secret file could not be read (the read was cancelled)".to_string())),
            _ => source.resolve(),
        };
        resolved.map_err(Error::invalid_config)
    }
}

impl SecretSource {
    /// Why the variable's name or the file's path cannot be one: it looks like a pasted secret
    /// (which errors and `Debug` would then show), or is not a variable name at all.
    fn naming_problem(&self) -> Option<&'static str> {
        match self {
            SecretSource::Env(name) if looks_like_credential(name) => Some(
                "`env` looks like a credential, not the name of an environment variable; put the secret in the variable and its name here",
            ),
            SecretSource::Env(name)
                if name.is_empty()
                    || name.starts_with(|c: char| c.is_ascii_digit())
                    || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                Some("`env` must be the name of an environment variable (letters, digits and `_`)")
            }
            SecretSource::File(path) if path.to_str().is_some_and(looks_like_credential) => {
                Some("`file` looks like a credential, not a path; put the secret in the file and its path here")
            }
            _ => None,
        }
    }
}

/// The shape of a generated API key in both cases, not of a variable name (`INTERACT_TOKEN`) or a
/// file name.
fn looks_like_credential(value: &str) -> bool {
    looks_like_api_key(value) && has_mixed_case(value)
}

fn read_secret_file(path: &std::path::Path) -> Result<SecretString, String> {
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("file {shown} does not exist"),
        std::io::ErrorKind::PermissionDenied => format!("file {shown} cannot be read (permission denied)"),
        _ => format!("file {shown} cannot be read ({e})"),
    })?;
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("file {shown} cannot be read ({})", e.kind()))?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(format!("file {shown} is larger than {MAX_SECRET_FILE_BYTES} bytes; is it the right file?"));
    }
    let mut text = String::from_utf8(bytes).map_err(|_| format!("file {shown} is not UTF-8 text"))?;
    // Files written by `echo` or an editor end in a line break, which is not part of the secret.
    let kept = text.trim_end_matches(['\n', '\r']).len();
    text.truncate(kept);
    if text.trim().is_empty() {
        return Err(format!("file {shown} is empty"));
    }
    Ok(SecretString::from(text))
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Env(name) => f.debug_tuple("Env").field(name).finish(),
            SecretSource::File(path) => f.debug_tuple("File").field(path).finish(),
            SecretSource::Inline(_) => f.write_str("Inline([REDACTED])"),
        }
    }
}

impl From<SecretString> for SecretSource {
    fn from(value: SecretString) -> Self {
        SecretSource::Inline(value)
    }
}

impl<'de> serde::Deserialize<'de> for SecretSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(SourceVisitor)
    }
}

/// Reads the three forms. Every refusal is worded here, so serde's default messages (which quote
/// the value they refuse) never run on what may be a secret.
struct SourceVisitor;

impl<'de> Visitor<'de> for SourceVisitor {
    type Value = SecretSource;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXPECTED)
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline(SecretString::from(value)))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<SecretSource, E> {
        Ok(SecretSource::Inline(SecretString::from(value)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SecretSource, A::Error> {
        let mut source = None;
        while let Some(key) = map.next_key::<String>()? {
            let value = match key.as_str() {
                "env" | "file" => map.next_value::<String>().map_err(|_| {
                    de::Error::custom(format!("`{key}` must be a string (the variable's name or the file's path)"))
                })?,
                _ => return Err(de::Error::custom(format!("unknown field `{key}`, expected `env` or `file`"))),
            };
            if source.is_some() {
                return Err(de::Error::custom("give exactly one of `env` and `file`"));
            }
            if value.trim().is_empty() {
                return Err(de::Error::custom(format!("`{key}` is empty")));
            }
            let parsed = if key == "env" { SecretSource::Env(value) } else { SecretSource::File(value.into()) };
            if let Some(problem) = parsed.naming_problem() {
                return Err(de::Error::custom(problem));
            }
            source = Some(parsed);
        }
        source.ok_or_else(|| de::Error::custom("give one of `env` and `file`"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<SecretSource, E> {
        Err(refused())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<SecretSource, E> {
        Err(refused())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<SecretSource, E> {
        Err(refused())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<SecretSource, E> {
        Err(refused())
    }

    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<SecretSource, E> {
        Err(refused())
    }

    fn visit_unit<E: de::Error>(self) -> Result<SecretSource, E> {
        Err(refused())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, _: A) -> Result<SecretSource, A::Error> {
        Err(refused())
    }
}

/// A value of the wrong type, refused without quoting it.
fn refused<E: de::Error>() -> E {
    E::custom(format!("expected {EXPECTED}"))
}
