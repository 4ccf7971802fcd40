//! The configuration error: every problem found, each with the path of the field it is about.

use std::fmt;

use crate::error::Error;

/// Everything wrong with a configuration, found in one pass.
///
/// Building a connection (or a list of them) checks every field before giving up, so one error
/// names every field to fix, each with its path:
///
/// ```text
/// invalid configuration (2 problems):
///   connections[0].token: environment variable INTERACT_TOKEN is not set
///   connections[2].instance_url: the instance URL must use https; …
/// ```
///
/// A single problem prints on one line. No message contains a secret's value or an e-mail address;
/// messages name environment variables and files, never what they hold.
///
/// Converts into [`Error::InvalidConfig`] (problems joined on one line) for code that returns the
/// crate's [`Result`](crate::Result).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The problems, in the order of the fields in the configuration.
    pub problems: Vec<ConfigProblem>,
}

/// One field that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigProblem {
    /// Where the field is, as `connections[2].client.timeout`; empty for the configuration as a
    /// whole.
    pub path: String,
    /// What is wrong with it, and what is accepted.
    pub message: String,
}

impl ConfigProblem {
    /// A problem at `path`. The message is made one bounded line with e-mail addresses masked, as
    /// every error message of this crate is.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigProblem { path: clean(&path.into()), message: clean(&message.into()) }
    }

    /// The same problem, one level down: `prefix` goes in front of the path (`connections[2]`).
    pub(crate) fn under(mut self, prefix: &str) -> Self {
        self.path = join(prefix, &self.path);
        self
    }
}

/// `parent.child`, or `parent[0]` when the child is an index, or either alone when the other is empty.
pub(crate) fn join(parent: &str, child: &str) -> String {
    match (parent.is_empty(), child.is_empty()) {
        (_, true) => parent.to_string(),
        (true, false) => child.to_string(),
        (false, false) if child.starts_with('[') => format!("{parent}{child}"),
        (false, false) => format!("{parent}.{child}"),
    }
}

/// One line, bounded, e-mail addresses masked: the rules of [`Error::invalid_config`].
fn clean(text: &str) -> String {
    match Error::invalid_config(text) {
        Error::InvalidConfig { message } => message,
        _ => String::new(),
    }
}

impl ConfigError {
    /// An error holding `problems`.
    pub fn new(problems: Vec<ConfigProblem>) -> Self {
        ConfigError { problems }
    }

    /// An error with one problem.
    pub fn one(path: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError { problems: vec![ConfigProblem::new(path, message)] }
    }

    /// The same problems, one level down (see [`ConfigProblem::under`]).
    pub(crate) fn under(self, prefix: &str) -> Self {
        ConfigError { problems: self.problems.into_iter().map(|p| p.under(prefix)).collect() }
    }
}

/// An error's message without the `invalid configuration: ` its `Display` starts with, and in the
/// configuration's words (`loopback_url` is what the `for_loopback` constructors are here).
pub(crate) fn message_of(error: Error) -> String {
    let message = match error {
        Error::InvalidConfig { message } => message,
        other => other.to_string(),
    };
    message.replace("through `for_loopback`", "as `loopback_url`").replace("`for_loopback` accepts", "it accepts")
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() { f.write_str(&self.message) } else { write!(f, "{}: {}", self.path, self.message) }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [] => f.write_str("Invalid configuration"),
            [one] => write!(f, "Invalid configuration: {one}"),
            many => {
                write!(f, "Invalid configuration ({} problems):", many.len())?;
                for problem in many {
                    write!(f, "\n  {problem}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for Error {
    /// [`Error::InvalidConfig`] with every problem, separated by `; ` (that variant is one line).
    fn from(error: ConfigError) -> Self {
        let problems: Vec<String> = error.problems.iter().map(ToString::to_string).collect();
        Error::invalid_config(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_every_problem_on_its_own_line() {
        let error = ConfigError::new(vec![
            ConfigProblem::new("token", "environment variable T is not set").under("connections[0]"),
            ConfigProblem::new("", "`type` is missing").under("connections[1]"),
            ConfigProblem::new("[0].role_id", "is zero").under("roles"),
        ]);
        assert_eq!(
            error.to_string(),
            "Invalid configuration (3 problems):\n  connections[0].token: environment variable T is not set\n  connections[1]: `type` is missing\n  roles[0].role_id: is zero"
        );
        let one = ConfigError::one("client.timeout", "must be greater than zero");
        assert_eq!(one.to_string(), "Invalid configuration: client.timeout: must be greater than zero");
        assert_eq!(
            Error::from(error).to_string(),
            "Invalid configuration: connections[0].token: environment variable T is not set; connections[1]: `type` is missing; roles[0].role_id: is zero"
        );
    }

    #[test]
    fn messages_are_one_line_without_addresses() {
        let problem = ConfigProblem::new("name", "jane.doe@example.com\nforged line");
        assert!(!problem.message.contains("jane.doe@example.com"), "{problem}");
        assert!(!problem.to_string().contains('\n'), "{problem}");
    }
}
