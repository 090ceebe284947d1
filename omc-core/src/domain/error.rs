//! Why a filter is refused: where, and what.
//!
//! Messages name positions, fields, operators and the *kind* of a value, never the value
//! itself: an operator may have written a name or a VID into a filter.

use std::fmt;

/// Where an element sits in a domain: its index (0-based) in the top-level list, then, for
/// an element inside the sub-domain of an `any`/`not any` criterion, its index there.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Position(pub Vec<usize>);

impl Position {
    /// The position of the `index`th element of the sub-domain at this position.
    pub fn child(&self, index: usize) -> Self {
        let mut path = self.0.clone();
        path.push(index);
        Self(path)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_first() {
            None => f.write_str("the filter"),
            Some((first, rest)) => {
                write!(f, "element {first}")?;
                for index in rest {
                    write!(f, ", sub-domain element {index}")?;
                }
                Ok(())
            }
        }
    }
}

/// A domain that could not be parsed: where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The text is neither JSON nor a Python literal.
    #[error("filter text, line {line} column {column}: {problem}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong there.
        problem: &'static str,
    },
    /// The filter (or an `any` sub-domain) is not a list.
    #[error("{at}: a domain must be a list of criteria, found {found}")]
    NotAList {
        /// Where.
        at: Position,
        /// The kind of value found instead.
        found: &'static str,
    },
    /// An element is neither a criterion nor one of `"&"`, `"|"`, `"!"`.
    #[error("{at}: expected a criterion [field, operator, value] or '&', '|', '!', found {found}")]
    BadElement {
        /// Where.
        at: Position,
        /// The kind of element found (a string that is no operator is shown when short).
        found: String,
    },
    /// `"&"`, `"|"` or `"!"` without enough terms after it.
    #[error("{at}: '{operator}' needs {needed} operand(s), found {found}")]
    MissingOperands {
        /// The operator's position.
        at: Position,
        /// `&`, `|` or `!`.
        operator: &'static str,
        /// How many it takes.
        needed: usize,
        /// How many follow it.
        found: usize,
    },
    /// A criterion's operator is not one of Odoo's.
    #[error("{at}: unknown operator {operator} in the criterion on '{field}'{}",
        suggestion.map(|s| format!("; did you mean '{s}'?")).unwrap_or_default())]
    UnknownOperator {
        /// Where.
        at: Position,
        /// The field path of the criterion.
        field: String,
        /// The operator as written (quoted when short, described otherwise).
        operator: String,
        /// The closest of Odoo's operators, if one is close.
        suggestion: Option<&'static str>,
    },
    /// An operator of Odoo's that OMC does not evaluate (`child_of`, `parent_of`).
    #[error("{at}: operator '{operator}' is not supported by OMC")]
    UnsupportedOperator {
        /// Where.
        at: Position,
        /// The operator.
        operator: &'static str,
    },
    /// A criterion of the wrong shape.
    #[error("{at}: {problem}")]
    BadCriterion {
        /// Where.
        at: Position,
        /// What is wrong (no values in it).
        problem: String,
    },
    /// Nested deeper than OMC evaluates ([`MAX_DEPTH`](super::MAX_DEPTH) levels of different
    /// operators, [`MAX_SUB_DOMAINS`](super::MAX_SUB_DOMAINS) levels of `any` sub-domains; a
    /// run of one operator, however long, is one level).
    #[error("{at}: the filter nests deeper than {limit} levels")]
    TooDeep {
        /// Where.
        at: Position,
        /// The limit.
        limit: usize,
    },
}

impl DomainError {
    /// Where the problem is (`None` for a syntax error, which has a line and column).
    pub fn position(&self) -> Option<&Position> {
        match self {
            Self::Syntax { .. } => None,
            Self::NotAList { at, .. }
            | Self::BadElement { at, .. }
            | Self::MissingOperands { at, .. }
            | Self::UnknownOperator { at, .. }
            | Self::UnsupportedOperator { at, .. }
            | Self::BadCriterion { at, .. }
            | Self::TooDeep { at, .. } => Some(at),
        }
    }
}

/// A word an operator wrote where an operator belongs, quoted when it looks like one (only
/// symbols, or close to `near`), described otherwise, so a value typed in the wrong place
/// never reaches a log.
pub(super) fn show_word(text: &str, near: &[&str]) -> String {
    let symbols = !text.is_empty() && text.chars().all(|c| " =!<>?&|~%^*+-/".contains(c));
    let plain =
        text.chars().count() <= 12 && (symbols || closest(text, near.iter().copied()).is_some());
    if plain {
        format!("'{text}'")
    } else {
        format!("(a string of {} characters)", text.chars().count())
    }
}

/// The Levenshtein distance between two strings, in characters.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub(super) fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = ((word.chars().count() + 1) / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(edit_distance("birth_date", "birthdate"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("lik", ["like", "ilike", "in"]), Some("like"));
        assert_eq!(closest("xyzzy", ["like", "in"]), None);
    }

    #[test]
    fn positions_read_well() {
        assert_eq!(Position(vec![3]).to_string(), "element 3");
        assert_eq!(
            Position(vec![3, 0]).to_string(),
            "element 3, sub-domain element 0"
        );
        assert_eq!(show_word("lik", &["like"]), "'lik'");
        assert_eq!(show_word("=>", &[]), "'=>'");
        assert_eq!(show_word("Jane", &["like"]), "(a string of 4 characters)");
    }
}
