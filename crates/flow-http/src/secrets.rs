//! Secrets for `{{secret.NAME}}`: read from the environment and a file, and masked in any text.
//!
//! A secret comes from an environment variable `FLOWBOT_SECRET_<NAME>` or from a secrets file of
//! `NAME=value` lines:
//!
//! ```text
//! # Lines starting with # and blank lines are ignored.
//! SHOP_TOKEN=abc123
//! CRM_KEY = s3cr3t value
//! ```
//!
//! `NAME` is ASCII letters, digits and `_`, and is case-sensitive. Spaces around the name and
//! around the value are trimmed; everything else after the first `=` is the value, quotes
//! included. Where a name is in both, the environment wins, so a deployment can override a file.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::encode::percent_encode;
use crate::error::WebhookError;

#[cfg(test)]
mod tests;

/// The prefix of the environment variables that hold secrets.
pub const ENV_PREFIX: &str = "FLOWBOT_SECRET_";

/// What replaces a secret's value in any text.
pub const MASK: &str = "***";

/// The secrets of one running bot, looked up by name when a request is rendered.
///
/// `Debug` shows the names only, never a value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    values: BTreeMap<String, String>,
}

/// Secrets that could not be read. No variant carries a value, nor a line of the file.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The secrets file could not be read.
    #[error("could not read secrets file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A line is not `NAME=value`.
    #[error(
        "{}:{line}: expected `NAME=value`, NAME being ASCII letters, digits and _",
        path.display()
    )]
    BadLine {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
    },
    /// A name is given twice in the file.
    #[error("{}:{line}: secret `{name}` is already defined on line {first}", path.display())]
    Duplicate {
        /// The file.
        path: PathBuf,
        /// The line number of the second definition, from 1.
        line: usize,
        /// The secret's name.
        name: String,
        /// The line number of the first definition.
        first: usize,
    },
    /// A value is empty, which could never be masked.
    #[error("{origin}: secret `{name}` has an empty value")]
    EmptyValue {
        /// Where: `<file>:<line>` or the environment variable.
        origin: String,
        /// The secret's name.
        name: String,
    },
    /// An environment variable with the prefix is not a valid secret name.
    #[error(
        "environment variable `{var}` is no secret name (expected {ENV_PREFIX}<NAME>, \
         NAME being ASCII letters, digits and _)"
    )]
    BadEnvName {
        /// The variable's name, lossily decoded.
        var: String,
    },
    /// An environment variable with the prefix has a value that is not UTF-8.
    #[error("environment variable `{var}` is not valid UTF-8")]
    NotUnicode {
        /// The variable's name.
        var: String,
    },
}

impl Secrets {
    /// No secrets.
    pub fn new() -> Self {
        Secrets::default()
    }

    /// The secrets of the file at `path` (if any), then of the environment, which wins.
    pub fn load(path: Option<&Path>) -> Result<Self, SecretsError> {
        let mut secrets = match path {
            Some(path) => Secrets::from_file(path)?,
            None => Secrets::new(),
        };
        secrets.extend(Secrets::from_env()?);
        Ok(secrets)
    }

    /// The secrets of this process's `FLOWBOT_SECRET_<NAME>` environment variables.
    pub fn from_env() -> Result<Self, SecretsError> {
        Secrets::from_env_vars(std::env::vars_os())
    }

    /// The secrets among `vars`, given as the environment would be; other variables are ignored.
    pub fn from_env_vars(
        vars: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<Self, SecretsError> {
        let mut secrets = Secrets::new();
        for (var, value) in vars {
            let var = var.to_string_lossy().into_owned();
            let Some(name) = var.strip_prefix(ENV_PREFIX) else {
                continue;
            };
            if !is_secret_name(name) {
                return Err(SecretsError::BadEnvName { var });
            }
            let name = name.to_owned();
            let value = value
                .into_string()
                .map_err(|_| SecretsError::NotUnicode { var: var.clone() })?;
            if value.is_empty() {
                return Err(SecretsError::EmptyValue {
                    origin: format!("environment variable `{var}`"),
                    name,
                });
            }
            secrets.values.insert(name, value);
        }
        Ok(secrets)
    }

    /// The secrets of the file at `path` (format in the module doc).
    pub fn from_file(path: &Path) -> Result<Self, SecretsError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretsError::Read {
            path: path.to_owned(),
            source,
        })?;
        Secrets::parse(&text, path)
    }

    /// The secrets in `text`, a secrets file whose errors name `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SecretsError> {
        let mut secrets = Secrets::new();
        let mut first_lines = BTreeMap::new();
        for (idx, line) in text.lines().enumerate() {
            let line_no = idx + 1;
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let bad_line = || SecretsError::BadLine {
                path: path.to_owned(),
                line: line_no,
            };
            let (name, value) = line.split_once('=').ok_or_else(bad_line)?;
            let (name, value) = (name.trim(), value.trim());
            if !is_secret_name(name) {
                return Err(bad_line());
            }
            if value.is_empty() {
                return Err(SecretsError::EmptyValue {
                    origin: format!("{}:{line_no}", path.display()),
                    name: name.to_owned(),
                });
            }
            if let Some(&first) = first_lines.get(name) {
                return Err(SecretsError::Duplicate {
                    path: path.to_owned(),
                    line: line_no,
                    name: name.to_owned(),
                    first,
                });
            }
            first_lines.insert(name.to_owned(), line_no);
            secrets.values.insert(name.to_owned(), value.to_owned());
        }
        Ok(secrets)
    }

    /// Adds or replaces secret `name`; an empty value is ignored, since it could not be masked.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.values.insert(name.into(), value);
        }
    }

    /// Adds the secrets of `other`, which win over those of the same name.
    pub fn extend(&mut self, other: Secrets) {
        self.values.extend(other.values);
    }

    /// The value of secret `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The names of the secrets, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }

    /// How many secrets there are.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every secret value replaced by `***`.
    ///
    /// Besides the value as written, its percent-encoded, form-encoded and JSON-escaped forms
    /// are masked too, since that is how a value appears in a URL, a form or a JSON body. Longer
    /// values are masked first, so a secret that contains another is masked whole.
    pub fn redact(&self, text: &str) -> String {
        let mut redacted = text.to_owned();
        for needle in self.needles() {
            if redacted.contains(&needle) {
                redacted = redacted.replace(&needle, MASK);
            }
        }
        redacted
    }

    /// `value` with every string (keys included) passed through [`Secrets::redact`].
    pub fn redact_json(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::String(self.redact(text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|item| self.redact_json(item)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(key, item)| (self.redact(key), self.redact_json(item)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// `error` with its message and body redacted, fit to be stored or logged.
    pub fn redact_error(&self, mut error: WebhookError) -> WebhookError {
        if self.is_empty() {
            return error;
        }
        error.message = self.redact(&error.message);
        error.body = error.body.map(|body| self.redact_json(&body));
        error
    }

    /// Every form of every value to mask, longest first.
    fn needles(&self) -> Vec<String> {
        let mut needles: Vec<String> = self
            .values
            .values()
            .flat_map(|value| encoded_forms(value))
            .filter(|needle| !needle.is_empty())
            .collect();
        needles.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        needles.dedup();
        needles
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn is_secret_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `value` as written, percent-encoded (RFC 3986 unreserved bytes kept), form-encoded and
/// JSON-escaped.
fn encoded_forms(value: &str) -> [String; 4] {
    let percent = percent_encode(value, false);
    let form = percent_encode(value, true);
    let quoted = Value::String(value.to_owned()).to_string();
    let json = quoted[1..quoted.len() - 1].to_owned();
    [value.to_owned(), percent, form, json]
}
