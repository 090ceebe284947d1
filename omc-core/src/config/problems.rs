//! Configuration problems: each names its setting; all of a file's are reported together.

use std::collections::BTreeMap;
use std::fmt;

/// One problem with one setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The setting, as a dotted path (`callback.timeout_seconds`).
    pub setting: String,
    /// What is wrong, and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.message)
    }
}

/// Every problem found in one configuration source. Nothing was built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// Where the configuration came from (a file's path, `environment`, `builder`).
    pub source_name: String,
    /// Every problem, in the order of the settings.
    pub problems: Vec<Problem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(
            f,
            "{}: {n} problem{}",
            self.source_name,
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

impl ConfigError {
    /// The problems about `setting` (exactly, or below it).
    pub fn about(&self, setting: &str) -> Vec<&Problem> {
        self.problems
            .iter()
            .filter(|p| {
                p.setting == setting
                    || p.setting.starts_with(&format!("{setting}."))
                    || p.setting.starts_with(&format!("{setting}["))
            })
            .collect()
    }
}

/// Collects problems while a configuration is read.
#[derive(Debug, Default)]
pub(super) struct Problems {
    pub(super) list: Vec<Problem>,
    /// Which settings `OMC_*` variables set, so that a problem they caused names them.
    pub(super) origins: Origins,
}

impl Problems {
    pub(super) fn add(&mut self, setting: impl Into<String>, message: impl Into<String>) {
        self.list.push(Problem {
            setting: setting.into(),
            message: message.into(),
        });
    }

    /// An unknown key at `setting`: blamed on each `OMC_*` variable that set it (or a setting
    /// under it), and on the file where the file holds it too.
    pub(super) fn unknown(&mut self, setting: &str, hint: &str) {
        let vars = self.origins.vars_at_or_under(setting);
        for var in &vars {
            self.add(
                format!("environment variable {var}"),
                format!("unknown setting '{setting}'{hint}"),
            );
        }
        if vars.is_empty() || !self.origins.created(setting) {
            self.add(setting, format!("unknown setting{hint}"));
        }
    }

    /// Every problem: a problem about a setting an `OMC_*` variable set names the variable.
    pub(super) fn into_list(self) -> Vec<Problem> {
        let Self { mut list, origins } = self;
        for problem in &mut list {
            if let Some(var) = origins.set.get(&problem.setting)
                && !problem.message.contains(var.as_str())
            {
                problem.message =
                    format!("{} (set by environment variable {var})", problem.message);
            }
        }
        list
    }
}

/// Where the settings `OMC_*` variables laid over a configuration came from.
#[derive(Debug, Default, Clone)]
pub(super) struct Origins {
    /// Setting (dotted) to the variable that set it.
    pub(super) set: BTreeMap<String, String>,
    /// Settings (dotted) that were absent until a variable created them (a table or a key).
    pub(super) created: BTreeMap<String, String>,
    /// Variables that could not be laid over the tree, and why.
    pub(super) refused: Vec<(String, String)>,
}

impl Origins {
    fn vars_at_or_under(&self, setting: &str) -> Vec<String> {
        let under = format!("{setting}.");
        self.set
            .iter()
            .filter(|(path, _)| *path == setting || path.starts_with(&under))
            .map(|(_, var)| var.clone())
            .collect()
    }

    fn created(&self, setting: &str) -> bool {
        self.created.contains_key(setting)
    }
}

/// `path` and `key` as one dotted setting; a key that is empty or holds a dot, a bracket or a
/// blank is quoted, so that every setting has a name that points at one key.
pub(super) fn setting(path: &str, key: &str) -> String {
    let key =
        if key.is_empty() || key.contains(['.', '[', ']']) || key.contains(char::is_whitespace) {
            format!("{key:?}")
        } else {
            key.to_owned()
        };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// The candidate closest to `name` by edit distance, if close enough to be a likely typo.
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (levenshtein(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let next = (row[j + 1] + 1).min(row[j] + 1).min(prev + cost);
            prev = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_names_a_setting() {
        assert_eq!(setting("", "name"), "name");
        assert_eq!(setting("callback", "url"), "callback.url");
        assert_eq!(setting("", ""), "\"\"");
        assert_eq!(
            setting("callback.extra_headers", "a.b c"),
            "callback.extra_headers.\"a.b c\""
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            closest("timout_seconds", ["timeout_seconds", "url"]),
            Some("timeout_seconds")
        );
        assert_eq!(closest("zzz", ["timeout_seconds", "url"]), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
