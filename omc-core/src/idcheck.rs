//! An id type's `id_validation`, applied as OpenG2P applies it.
//!
//! OpenG2P checks a `g2p.reg.id` value with Python's `re.match(pattern, value)`: anchored at the
//! start of the value only, so `[0-9]{10}` accepts `0123456789xyz`. OMC compiles the pattern with
//! the `regex` crate anchored the same way; the few Python constructs it lacks (look-around,
//! back-references) make the pattern one OMC cannot compile, which is reported, not guessed.

use std::fmt;

/// A compiled `id_validation` pattern.
#[derive(Clone)]
pub struct IdPattern {
    regex: regex::Regex,
}

impl fmt::Debug for IdPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdPattern").finish_non_exhaustive()
    }
}

/// A pattern OMC cannot compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its id_validation pattern cannot be compiled by OMC: {reason}")]
pub struct PatternError {
    /// Why (the regex crate's words, first line).
    pub reason: String,
}

impl IdPattern {
    /// Compiles `pattern` anchored at the start, as `re.match` applies it.
    pub fn compile(pattern: &str) -> Result<Self, PatternError> {
        regex::Regex::new(&format!(r"\A(?:{pattern})"))
            .map(|regex| Self { regex })
            .map_err(|e| PatternError {
                reason: e
                    .to_string()
                    .lines()
                    .rev()
                    .find(|l| l.starts_with("error:"))
                    .unwrap_or("not a regular expression")
                    .trim_start_matches("error: ")
                    .to_owned(),
            })
    }

    /// Whether `value` passes (`re.match` finds a match at its start).
    pub fn matches(&self, value: &str) -> bool {
        self.regex.is_match(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_at_the_start_only() {
        let p = IdPattern::compile("[0-9]{10}").unwrap();
        assert!(p.matches("0123456789"));
        assert!(
            p.matches("0123456789xyz"),
            "re.match does not anchor the end"
        );
        assert!(!p.matches("x0123456789"));
        let alt = IdPattern::compile("a|b").unwrap();
        assert!(alt.matches("bz"), "the whole alternation is anchored");
        assert!(!alt.matches("zb"));
        let full = IdPattern::compile(r"^\d{16}$").unwrap();
        assert!(full.matches("4918350000000001"));
        assert!(!full.matches("49183500000000012"));
    }

    #[test]
    fn python_only_syntax_is_reported() {
        let e = IdPattern::compile(r"(?=\d)\d+").unwrap_err();
        assert!(e.to_string().contains("cannot be compiled"), "{e}");
        assert!(IdPattern::compile("[0-9").is_err());
    }
}
