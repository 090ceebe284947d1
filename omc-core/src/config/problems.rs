//! Configuration problems: each names its setting; all of a file's are reported together.

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
pub(super) struct Problems(pub(super) Vec<Problem>);

impl Problems {
    pub(super) fn add(&mut self, setting: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            setting: setting.into(),
            message: message.into(),
        });
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
    fn suggestions() {
        assert_eq!(
            closest("timout_seconds", ["timeout_seconds", "url"]),
            Some("timeout_seconds")
        );
        assert_eq!(closest("zzz", ["timeout_seconds", "url"]), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
