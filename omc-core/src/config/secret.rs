//! Where a secret comes from. Secrets are write-only: read from the environment or a file,
//! never from a configuration file's text, never printed, never written back.

use secrecy::SecretString;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Where a secret setting's value was read from. Printing it shows the source, never the value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretSource {
    /// An environment variable, by name.
    Env(String),
    /// A file, by path (its content, without a trailing newline).
    File(PathBuf),
    /// Given in code (a builder); it cannot be written to a configuration file.
    Code,
    /// Not secret: a header value given in plain text (written back as it is).
    Plain,
}

impl fmt::Display for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Env(name) => write!(f, "environment variable {name}"),
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Code => f.write_str("code"),
            Self::Plain => f.write_str("plain text"),
        }
    }
}

/// The environment a configuration is loaded in: variables (for `*_env` settings and the
/// `OMC_` overlay) and the folder relative file paths are read from.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    base_dir: Option<PathBuf>,
}

impl fmt::Debug for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets: names only.
        f.debug_struct("Environment")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("base_dir", &self.base_dir)
            .finish()
    }
}

impl Environment {
    /// This process's environment.
    pub fn process() -> Self {
        Self {
            vars: std::env::vars().collect(),
            base_dir: None,
        }
    }

    /// An environment holding exactly these variables (for tests and embedders).
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            base_dir: None,
        }
    }

    /// Relative secret file paths are read from `dir`.
    pub fn with_base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = Some(dir.into());
        self
    }

    pub(super) fn var(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }

    pub(super) fn vars(&self) -> impl Iterator<Item = (&str, &str)> {
        self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(super) fn path(&self, path: &str) -> PathBuf {
        let path = PathBuf::from(path);
        match &self.base_dir {
            Some(dir) if path.is_relative() => dir.join(path),
            _ => path,
        }
    }

    /// Reads a secret from `source`; the error names the source, never the value.
    pub(super) fn read_secret(&self, source: &SecretSource) -> Result<SecretString, String> {
        match source {
            SecretSource::Env(name) => match self.var(name) {
                Some(v) if !v.is_empty() => Ok(SecretString::from(v.to_owned())),
                Some(_) => Err(format!("environment variable {name} is empty")),
                None => Err(format!("environment variable {name} is not set")),
            },
            SecretSource::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => {
                    let value = text.trim_end_matches(['\n', '\r']);
                    if value.is_empty() {
                        Err(format!("file {} is empty", path.display()))
                    } else {
                        Ok(SecretString::from(value.to_owned()))
                    }
                }
                Err(e) => Err(format!("cannot read {}: {}", path.display(), e.kind())),
            },
            SecretSource::Code | SecretSource::Plain => Err("no source to read from".into()),
        }
    }
}
