//! Loading a configuration from TOML, JSON and the environment.

use super::ConnectorConfig;
use super::problems::{ConfigError, Origins, Problem};
use super::secret::Environment;
use super::{build, parse};
use serde_json::{Map, Value};
use std::path::Path;

/// The prefix of the environment variables that set connector settings.
pub const ENV_PREFIX: &str = "OMC_";

/// Secret settings: in the environment, `OMC_ODOO__PASSWORD` holds the secret itself.
const SECRET_KEYS: &[&str] = &["password", "bearer_token"];

/// The format of a configuration text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl Format {
    /// The format a file's extension names (`.toml`, `.json`).
    pub fn of(path: &Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "toml" => Some(Self::Toml),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

fn single(source: &str, setting: &str, message: String) -> ConfigError {
    ConfigError {
        source_name: source.to_owned(),
        problems: vec![Problem {
            setting: setting.to_owned(),
            message,
        }],
    }
}

/// Parses configuration text into a tree (the lenient first phase). A key given twice, and
/// text that is not TOML or JSON, refuse the text, each problem naming its setting or line.
pub fn parse_text(text: &str, format: Format, source: &str) -> Result<Value, ConfigError> {
    let parsed = match format {
        Format::Json => parse::json(text),
        Format::Toml => parse::toml(text),
    };
    parsed.map_err(|problems| ConfigError {
        source_name: source.to_owned(),
        problems,
    })
}

/// Lays `OMC_*` variables over a tree: `OMC_CALLBACK__TIMEOUT_SECONDS=20` sets
/// `callback.timeout_seconds`; values that read as JSON (numbers, booleans, lists) are taken as
/// such. `OMC_ODOO__PASSWORD` (and every `…__PASSWORD`, `…__BEARER_TOKEN`) names itself as the
/// secret's source, so its value never enters the tree.
///
/// Not overrides: a variable the configuration names as a secret's source
/// (`password_env = "OMC_ODOO_PASSWORD"`, `{ env = "OMC_TOKEN" }`), and `OMC_REAL_*`, reserved
/// for the opt-in tests against real systems.
pub fn overlay_env(tree: &mut Value, env: &Environment) {
    overlay(tree, env);
}

/// [`overlay_env`], saying which setting each variable set, so that problems name it.
pub(super) fn overlay(tree: &mut Value, env: &Environment) -> Origins {
    let mut origins = Origins::default();
    if !tree.is_object() {
        return origins;
    }
    let mut named = Vec::new();
    secret_sources(tree, &mut named);
    for (name, raw) in env.vars() {
        if name.starts_with("OMC_REAL_") || named.iter().any(|n| n == name) {
            continue;
        }
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let path: Vec<String> = rest.split("__").map(str::to_ascii_lowercase).collect();
        if path.iter().any(String::is_empty) {
            origins.refused.push((
                name.to_owned(),
                "not a setting: a double underscore separates two names".into(),
            ));
            continue;
        }
        if let Err(why) = overlay_one(tree, name, raw, &path, &mut origins) {
            origins.refused.push((name.to_owned(), why));
        }
    }
    origins
}

/// Lays one variable over the tree at `path`.
fn overlay_one(
    tree: &mut Value,
    name: &str,
    raw: &str,
    path: &[String],
    origins: &mut Origins,
) -> Result<(), String> {
    let (last, parents) = path.split_last().expect("split yields at least one part");
    let mut node = &mut *tree;
    let mut at = Vec::new();
    for part in parents {
        let Value::Object(map) = node else {
            return Err(format!(
                "'{}' is not a table, so it holds no '{part}'",
                at.join(".")
            ));
        };
        at.push(part.as_str());
        if !map.contains_key(part) {
            origins
                .created
                .entry(at.join("."))
                .or_insert_with(|| name.to_owned());
        }
        node = map
            .entry(part.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    let Value::Object(map) = node else {
        return Err(format!(
            "'{}' is not a table, so it holds no '{last}'",
            at.join(".")
        ));
    };
    let in_headers = parents.last().is_some_and(|p| p == "extra_headers");
    let (key, value) = if in_headers {
        (last.replace('_', "-"), serde_json::json!({ "env": name }))
    } else if SECRET_KEYS.contains(&last.as_str()) {
        (format!("{last}_env"), Value::String(name.to_owned()))
    } else {
        let value = serde_json::from_str::<Value>(raw)
            .ok()
            .filter(|v| !v.is_string() && !v.is_object())
            .unwrap_or_else(|| Value::String(raw.to_owned()));
        (last.clone(), value)
    };
    at.push(&key);
    let setting = at.join(".");
    if !map.contains_key(&key) {
        origins
            .created
            .entry(setting.clone())
            .or_insert_with(|| name.to_owned());
    }
    origins.set.insert(setting, name.to_owned());
    map.insert(key, value);
    Ok(())
}

/// The variable names a tree gives as secrets' sources (`*_env` settings and `{ env = ... }`).
fn secret_sources(tree: &Value, out: &mut Vec<String>) {
    match tree {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(name) if key == "env" || key.ends_with("_env") => {
                        out.push(name.clone());
                    }
                    other => secret_sources(other, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| secret_sources(v, out)),
        _ => {}
    }
}

impl ConnectorConfig {
    /// Loads a TOML or JSON file (by its extension), with the process's `OMC_*` variables laid
    /// over it; relative secret files are read from the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::load_in(path, &Environment::process().with_base_dir(dir))
    }

    /// [`load`](Self::load) in a given environment.
    pub fn load_in(path: &Path, env: &Environment) -> Result<Self, ConfigError> {
        let source = path.display().to_string();
        let format = Format::of(path).ok_or_else(|| {
            single(
                &source,
                "(file)",
                "the file's extension must be .toml or .json".into(),
            )
        })?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| single(&source, "(file)", format!("cannot read it: {}", e.kind())))?;
        Self::from_text(&text, format, &source, env)
    }

    /// Parses configuration text, lays `env`'s `OMC_*` variables over it, and checks it all.
    pub fn from_text(
        text: &str,
        format: Format,
        source: &str,
        env: &Environment,
    ) -> Result<Self, ConfigError> {
        let mut tree = parse_text(text, format, source)?;
        let origins = overlay(&mut tree, env);
        build::build(&tree, env, source, origins)
    }

    /// A configuration from `OMC_*` environment variables alone.
    pub fn from_env(env: &Environment) -> Result<Self, ConfigError> {
        let mut tree = Value::Object(Map::new());
        let origins = overlay(&mut tree, env);
        build::build(&tree, env, "environment", origins)
    }
}
