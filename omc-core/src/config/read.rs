//! Reading a configuration tree leniently: every value is checked, every problem collected.

use super::numbers;
use super::problems::{self, Problems, closest};
use super::secret::{Environment, SecretSource};
use secrecy::SecretString;
use serde_json::{Map, Value};
use url::Url;

/// A table of the configuration being read, with the keys it may hold.
pub(super) struct Table<'a> {
    pub(super) path: String,
    map: Option<&'a Map<String, Value>>,
}

pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a table",
    }
}

impl<'a> Table<'a> {
    /// The root table (a tree that is not a table is a problem).
    pub(super) fn root(tree: &'a Value, p: &mut Problems) -> Self {
        let map = match tree {
            Value::Object(map) => Some(map),
            other => {
                p.add(
                    "(top level)",
                    format!("expected a table of settings, found {}", kind(other)),
                );
                None
            }
        };
        Self {
            path: String::new(),
            map,
        }
    }

    pub(super) fn setting(&self, key: &str) -> String {
        problems::setting(&self.path, key)
    }

    /// Reports every key not in `allowed`, with the closest allowed one.
    pub(super) fn only(&self, allowed: &[&str], p: &mut Problems) {
        for key in self.map.into_iter().flat_map(|m| m.keys()) {
            if allowed.contains(&key.as_str()) {
                continue;
            }
            let hint = closest(key, allowed.iter().copied())
                .map(|c| format!("; did you mean '{c}'?"))
                .unwrap_or_default();
            p.unknown(&self.setting(key), &hint);
        }
    }

    pub(super) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map?.get(key).filter(|v| !v.is_null())
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A sub-table (absent: an empty one).
    pub(super) fn table(&self, key: &str, p: &mut Problems) -> Table<'a> {
        let map = match self.get(key) {
            None => None,
            Some(Value::Object(map)) => Some(map),
            Some(other) => {
                p.add(
                    self.setting(key),
                    format!("expected a table, found {}", kind(other)),
                );
                None
            }
        };
        Table {
            path: self.setting(key),
            map,
        }
    }

    pub(super) fn entries(&self) -> impl Iterator<Item = (&'a String, &'a Value)> {
        self.map.into_iter().flat_map(|m| m.iter())
    }

    pub(super) fn string(&self, key: &str, p: &mut Problems) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            // Values from the environment that look like numbers arrive as numbers.
            Value::Number(n) => Some(n.to_string()),
            other => {
                p.add(
                    self.setting(key),
                    format!("expected a string, found {}", kind(other)),
                );
                None
            }
        }
    }

    pub(super) fn required_string(&self, key: &str, p: &mut Problems) -> Option<String> {
        let value = self.string(key, p);
        match &value {
            None if !self.has(key) => p.add(self.setting(key), "required, and missing"),
            Some(s) if s.trim().is_empty() => p.add(self.setting(key), "must not be empty"),
            _ => {}
        }
        value.filter(|s| !s.trim().is_empty())
    }

    pub(super) fn boolean(&self, key: &str, default: bool, p: &mut Problems) -> bool {
        match self.get(key) {
            None => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            Some(other) => {
                p.add(
                    self.setting(key),
                    format!("expected true or false, found {}", kind(other)),
                );
                default
            }
        }
    }

    /// A whole number in the setting's range (see `numbers`); out of it, the default.
    pub(super) fn number(&self, key: &str, default: u64, p: &mut Problems) -> u64 {
        let Some(value) = self.get(key) else {
            return default;
        };
        let setting = self.setting(key);
        numbers::whole(&setting, value).unwrap_or_else(|why| {
            p.add(setting, why);
            default
        })
    }

    /// One of `choices` (compared without case); the canonical spelling is returned.
    pub(super) fn choice(
        &self,
        key: &str,
        choices: &[&'static str],
        p: &mut Problems,
    ) -> Option<&'static str> {
        let value = self.string(key, p)?;
        let found = choices
            .iter()
            .find(|c| c.eq_ignore_ascii_case(value.trim()))
            .copied();
        if found.is_none() {
            p.add(
                self.setting(key),
                format!("'{value}' is not one of: {}", choices.join(", ")),
            );
        }
        found
    }

    pub(super) fn url(&self, key: &str, required: bool, p: &mut Problems) -> Option<Url> {
        let text = if required {
            self.required_string(key, p)?
        } else {
            self.string(key, p)?
        };
        parse_url(&self.setting(key), &text, p)
    }

    pub(super) fn strings(&self, key: &str, p: &mut Problems) -> Option<Vec<String>> {
        let value = self.get(key)?;
        let value = match value {
            // Lists held as JSON text (OpenG2P stores them so; so does the environment).
            Value::String(text) => match serde_json::from_str::<Value>(text) {
                Ok(v @ Value::Array(_)) => v,
                _ => {
                    p.add(self.setting(key), "expected a list of strings");
                    return None;
                }
            },
            other => other.clone(),
        };
        let Value::Array(items) = value else {
            p.add(
                self.setting(key),
                format!("expected a list of strings, found {}", kind(&value)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) if !s.trim().is_empty() => out.push(s.trim().to_owned()),
                other => p.add(
                    format!("{}[{i}]", self.setting(key)),
                    format!("expected a non-empty string, found {}", kind(other)),
                ),
            }
        }
        Some(out)
    }

    /// A secret given as `<key>_env` (a variable's name) or `<key>_file` (a path); the key
    /// itself is refused, so that no secret sits in a configuration file.
    pub(super) fn secret(
        &self,
        key: &str,
        env: &Environment,
        p: &mut Problems,
    ) -> Option<(SecretString, SecretSource)> {
        if self.has(key) {
            p.add(
                self.setting(key),
                format!(
                    "secrets are not read from configuration files; set {key}_env (an \
                     environment variable's name) or {key}_file (a file's path)"
                ),
            );
            return None;
        }
        let env_key = format!("{key}_env");
        let file_key = format!("{key}_file");
        let source = match (self.string(&env_key, p), self.string(&file_key, p)) {
            (Some(_), Some(_)) => {
                p.add(
                    self.setting(key),
                    format!("set {env_key} or {file_key}, not both"),
                );
                return None;
            }
            (Some(var), None) => SecretSource::Env(var),
            (None, Some(path)) => SecretSource::File(env.path(&path)),
            (None, None) => return None,
        };
        match env.read_secret(&source) {
            Ok(secret) => Some((secret, source)),
            Err(why) => {
                p.add(self.setting(key), why);
                None
            }
        }
    }
}

/// A URL's syntax (its scheme, host and credentials are checked with the whole configuration).
fn parse_url(setting: &str, text: &str, p: &mut Problems) -> Option<Url> {
    match Url::parse(text.trim()) {
        Ok(url) => Some(url),
        Err(e) => {
            p.add(setting, format!("not a URL: {e}"));
            None
        }
    }
}
