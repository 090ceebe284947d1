//! Reading the Python-literal form operators paste from Odoo (`[('is_registrant', '=', True)]`)
//! into JSON values: `True`/`False`/`None` (and JSON's `true`/`false`/`null`), single- or
//! double-quoted strings with Python's escapes, tuples as lists, trailing commas.
//! Anything else (names, calls such as `context_today()`, dictionaries) is refused: OMC
//! evaluates no Python.

use super::error::DomainError;
use serde_json::{Number, Value};

/// How deep lists may nest in the text.
const MAX_NESTING: usize = 128;

pub(super) fn parse(text: &str) -> Result<Value, DomainError> {
    let mut reader = Reader {
        text,
        at: 0,
        nesting: 0,
    };
    reader.blank();
    let value = reader.value()?;
    reader.blank();
    if reader.at < text.len() {
        return Err(reader.error("unexpected text after the filter"));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    /// Byte offset of the next character.
    at: usize,
    nesting: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.at..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.at += c.len_utf8();
        Some(c)
    }

    fn blank(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.bump();
            } else if c == '#' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    fn error(&self, problem: &'static str) -> DomainError {
        let before = &self.text[..self.at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        DomainError::Syntax {
            line,
            column,
            problem,
        }
    }

    fn value(&mut self) -> Result<Value, DomainError> {
        match self.peek() {
            None => Err(self.error("the filter ends where a value was expected")),
            Some('[') => self.sequence(']'),
            Some('(') => self.sequence(')'),
            Some(quote @ ('\'' | '"')) => {
                self.bump();
                self.string(quote).map(Value::String)
            }
            Some(c) if c == '-' || c == '+' || c == '.' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => self.word(),
            Some('{') => Err(self.error("a dictionary is not allowed in a filter")),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    /// A list `[..]` or a tuple `(..)`; `(x)` without a comma is `x` itself, as in Python.
    fn sequence(&mut self, close: char) -> Result<Value, DomainError> {
        if self.nesting >= MAX_NESTING {
            return Err(self.error("the filter nests too deeply"));
        }
        self.nesting += 1;
        self.bump();
        let mut items = Vec::new();
        let mut comma = false;
        loop {
            self.blank();
            if self.peek() == Some(close) {
                self.bump();
                break;
            }
            if !items.is_empty() && !comma {
                return Err(self.error(if close == ']' {
                    "expected ',' or ']'"
                } else {
                    "expected ',' or ')'"
                }));
            }
            items.push(self.value()?);
            self.blank();
            comma = self.peek() == Some(',');
            if comma {
                self.bump();
            }
        }
        self.nesting -= 1;
        if close == ')' && items.len() == 1 && !comma {
            return Ok(items.pop().expect("one item"));
        }
        if close == ')' && items.is_empty() && comma {
            return Err(self.error("unexpected ','"));
        }
        Ok(Value::Array(items))
    }

    fn word(&mut self) -> Result<Value, DomainError> {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        let word = &self.text[start..self.at];
        match (word, self.peek()) {
            ("u" | "U", Some(quote @ ('\'' | '"'))) => {
                self.bump();
                self.string(quote).map(Value::String)
            }
            ("True" | "true", _) => Ok(Value::Bool(true)),
            ("False" | "false", _) => Ok(Value::Bool(false)),
            ("None" | "null", _) => Ok(Value::Null),
            _ => {
                self.at = start;
                Err(self.error(
                    "only literals are allowed in a filter (no names or calls such as context_today())",
                ))
            }
        }
    }

    fn number(&mut self) -> Result<Value, DomainError> {
        let start = self.at;
        if matches!(self.peek(), Some('-' | '+')) {
            self.bump();
        }
        let mut decimal = false;
        while let Some(c) = self.peek() {
            match c {
                '0'..='9' | '_' => {}
                '.' => decimal = true,
                'e' | 'E' => {
                    decimal = true;
                    self.bump();
                    if matches!(self.peek(), Some('-' | '+')) {
                        self.bump();
                    }
                    continue;
                }
                _ => break,
            }
            self.bump();
        }
        let digits: String = self.text[start..self.at]
            .chars()
            .filter(|c| *c != '_' && *c != '+')
            .collect();
        let number = if decimal {
            digits
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(Number::from_f64)
        } else {
            digits.parse::<i64>().ok().map(Number::from)
        };
        match number {
            Some(n) => Ok(Value::Number(n)),
            None => {
                self.at = start;
                Err(self.error("not a number OMC can read"))
            }
        }
    }

    /// The rest of a string after its opening `quote`.
    fn string(&mut self, quote: char) -> Result<String, DomainError> {
        let mut out = String::new();
        loop {
            let Some(c) = self.bump() else {
                return Err(self.error("unterminated string"));
            };
            match c {
                c if c == quote => return Ok(out),
                '\n' => return Err(self.error("unterminated string")),
                '\\' => {
                    let Some(escaped) = self.bump() else {
                        return Err(self.error("unterminated string"));
                    };
                    match escaped {
                        '\\' | '\'' | '"' => out.push(escaped),
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '0' => out.push('\0'),
                        '\n' => {}
                        'x' => out.push(self.code_point(2)?),
                        'u' => out.push(self.code_point(4)?),
                        'U' => out.push(self.code_point(8)?),
                        // Python keeps unknown escapes as written.
                        other => {
                            out.push('\\');
                            out.push(other);
                        }
                    }
                }
                c => out.push(c),
            }
        }
    }

    fn code_point(&mut self, digits: usize) -> Result<char, DomainError> {
        let start = self.at;
        let mut code = 0u32;
        for _ in 0..digits {
            match self.peek().and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    code = code * 16 + d;
                    self.bump();
                }
                None => return Err(self.error("truncated escape in a string")),
            }
        }
        char::from_u32(code).ok_or_else(|| {
            self.at = start;
            self.error("escape for an invalid character in a string")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn python_literals() {
        let v =
            parse("[('is_registrant', '=', True), '!', (\"a\", 'in', (1, -2.5, None,)),]").unwrap();
        assert_eq!(
            v,
            json!([
                ["is_registrant", "=", true],
                "!",
                ["a", "in", [1, -2.5, null]]
            ])
        );
        assert_eq!(parse("('x',)").unwrap(), json!(["x"]));
        assert_eq!(parse("('x')").unwrap(), json!("x"));
        assert_eq!(parse("u'\\xe9\\u00e9\\n'").unwrap(), json!("éé\n"));
        assert_eq!(parse("[] # nothing").unwrap(), json!([]));
    }

    #[test]
    fn refusals_say_where() {
        let e = parse("[('a', '=', 1)\n ('b', '=', 2)]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "filter text, line 2 column 2: expected ',' or ']'"
        );
        let e = parse("[('d', '=', context_today())]").unwrap_err();
        assert!(
            matches!(
                e,
                DomainError::Syntax {
                    line: 1,
                    column: 13,
                    ..
                }
            ),
            "{e}"
        );
        assert!(parse("['a").is_err());
        assert!(parse(&"[".repeat(500)).is_err());
        assert!(parse("[1] 2").is_err());
        assert!(parse("(,)").is_err());
    }
}
