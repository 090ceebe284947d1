//! The message Python's `json` module gives for a body that is not JSON, as MTS (FastAPI)
//! passes it on in its 422: `Expecting value: line 1 column 8 (char 7)`.
//!
//! A small scanner that follows the decoder's steps far enough to find its first complaint
//! and where it is (positions count characters, as Python's do). Only called for a body that
//! did not parse.

/// Python's message for `body`, or `None` when Python's decoder would take it (it reads
/// `NaN` and `Infinity`, which JSON does not have).
pub(crate) fn decode_error(body: &[u8]) -> Option<String> {
    let text: Vec<char> = String::from_utf8_lossy(body).chars().collect();
    let mut scanner = Scanner { s: &text };
    let start = scanner.ws(0);
    let failure = match scanner.value(start) {
        Ok(end) => {
            let end = scanner.ws(end);
            if end == text.len() {
                return None;
            }
            Failure("Extra data", end)
        }
        Err(failure) => failure,
    };
    let Failure(message, pos) = failure;
    let before = &text[..pos.min(text.len())];
    let line = before.iter().filter(|c| **c == '\n').count() + 1;
    let column = match before.iter().rposition(|c| *c == '\n') {
        Some(newline) => pos - newline,
        None => pos + 1,
    };
    Some(format!(
        "{message}: line {line} column {column} (char {pos})"
    ))
}

/// A complaint and the character position it names.
struct Failure(&'static str, usize);

struct Scanner<'a> {
    s: &'a [char],
}

const EXPECTING_VALUE: &str = "Expecting value";
const EXPECTING_NAME: &str = "Expecting property name enclosed in double quotes";

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn ws(&self, mut i: usize) -> usize {
        while matches!(self.at(i), Some(' ' | '\t' | '\n' | '\r')) {
            i += 1;
        }
        i
    }

    fn starts(&self, i: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, c)| self.at(i + k) == Some(c))
    }

    /// One value starting exactly at `i`; the position after it.
    fn value(&mut self, i: usize) -> Result<usize, Failure> {
        match self.at(i) {
            Some('"') => self.string(i + 1),
            Some('{') => self.object(i + 1),
            Some('[') => self.array(i + 1),
            _ => {
                for word in ["null", "true", "false", "NaN", "Infinity", "-Infinity"] {
                    if self.starts(i, word) {
                        return Ok(i + word.chars().count());
                    }
                }
                self.number(i).ok_or(Failure(EXPECTING_VALUE, i))
            }
        }
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?` at `i`.
    fn number(&self, i: usize) -> Option<usize> {
        let digits = |mut j: usize| {
            let from = j;
            while self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            (j > from).then_some(j)
        };
        let mut j = i + usize::from(self.at(i) == Some('-'));
        j = match self.at(j) {
            Some('0') => j + 1,
            Some('1'..='9') => digits(j)?,
            _ => return None,
        };
        if self.at(j) == Some('.')
            && let Some(end) = digits(j + 1)
        {
            j = end;
        }
        if matches!(self.at(j), Some('e' | 'E')) {
            let sign = usize::from(matches!(self.at(j + 1), Some('+' | '-')));
            if let Some(end) = digits(j + 1 + sign) {
                j = end;
            }
        }
        Some(j)
    }

    /// A string whose opening quote is just before `i`.
    fn string(&self, mut i: usize) -> Result<usize, Failure> {
        let begin = i - 1;
        loop {
            match self.at(i) {
                None => return Err(Failure("Unterminated string starting at", begin)),
                Some('"') => return Ok(i + 1),
                Some(c) if u32::from(c) < 0x20 => {
                    return Err(Failure("Invalid control character at", i));
                }
                Some('\\') => match self.at(i + 1) {
                    None => return Err(Failure("Unterminated string starting at", begin)),
                    Some('u') => {
                        let hex =
                            (2..6).all(|k| self.at(i + k).is_some_and(|c| c.is_ascii_hexdigit()));
                        if !hex {
                            return Err(Failure("Invalid \\uXXXX escape", i + 1));
                        }
                        i += 6;
                    }
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => i += 2,
                    Some(_) => return Err(Failure("Invalid \\escape", i)),
                },
                Some(_) => i += 1,
            }
        }
    }

    /// An object whose `{` is just before `i`.
    fn object(&mut self, i: usize) -> Result<usize, Failure> {
        let mut i = self.ws(i);
        match self.at(i) {
            Some('}') => return Ok(i + 1),
            Some('"') => {}
            _ => return Err(Failure(EXPECTING_NAME, i)),
        }
        loop {
            i = self.string(i + 1)?;
            i = self.ws(i);
            if self.at(i) != Some(':') {
                return Err(Failure("Expecting ':' delimiter", i));
            }
            i = self.ws(i + 1);
            i = self.value(i)?;
            i = self.ws(i);
            match self.at(i) {
                Some('}') => return Ok(i + 1),
                Some(',') => {}
                _ => return Err(Failure("Expecting ',' delimiter", i)),
            }
            i = self.ws(i + 1);
            if self.at(i) != Some('"') {
                return Err(Failure(EXPECTING_NAME, i));
            }
        }
    }

    /// An array whose `[` is just before `i`.
    fn array(&mut self, i: usize) -> Result<usize, Failure> {
        let mut i = self.ws(i);
        if self.at(i) == Some(']') {
            return Ok(i + 1);
        }
        loop {
            i = self.value(i)?;
            i = self.ws(i);
            match self.at(i) {
                Some(']') => return Ok(i + 1),
                Some(',') => {}
                _ => return Err(Failure("Expecting ',' delimiter", i)),
            }
            i = self.ws(i + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::decode_error;

    #[test]
    fn messages_and_positions_are_pythons() {
        for (body, message) in [
            (r#"{"id": "#, "Expecting value: line 1 column 8 (char 7)"),
            (
                r#"{"a":1,}"#,
                "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
            ),
            (
                r#"{"a" 1}"#,
                "Expecting ':' delimiter: line 1 column 6 (char 5)",
            ),
            (
                r#"{"a":"b"#,
                "Unterminated string starting at: line 1 column 6 (char 5)",
            ),
            ("{} x", "Extra data: line 1 column 4 (char 3)"),
            ("  ", "Expecting value: line 1 column 3 (char 2)"),
            (
                "{a:1}",
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            ),
            ("[1 2]", "Expecting ',' delimiter: line 1 column 4 (char 3)"),
            (
                "{\n\"a\": tru}",
                "Expecting value: line 2 column 6 (char 7)",
            ),
        ] {
            assert_eq!(
                decode_error(body.as_bytes()).as_deref(),
                Some(message),
                "{body}"
            );
        }
        assert_eq!(decode_error(br#"{"a": NaN}"#), None);
    }
}
