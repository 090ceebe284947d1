//! Configuration text to a tree: TOML and JSON read into one JSON tree, each problem naming
//! its setting where the text allows.
//!
//! A key given twice is a problem in both formats (JSON parsers usually keep the last one
//! silently). A number the tree cannot hold as one (`99999999999999999999`, `1e999`, `nan`)
//! and a TOML date are kept as their text, so that the setting that receives them says what it
//! expected instead of the parser failing without naming it.

use super::numbers;
use super::problems::{Problem, setting};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::RefCell;
use std::fmt;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A TOML document as a tree, or every problem of its text.
pub(super) fn toml(text: &str) -> Result<Value, Vec<Problem>> {
    let (table, errors) = DeTable::parse_recoverable(text);
    if errors.is_empty() {
        return Ok(toml_table(table.get_ref()));
    }
    let tree = toml_table(table.get_ref());
    Err(errors
        .iter()
        .map(|e| {
            let span = e.span().unwrap_or(0..0);
            let line = line_of(text, span.start);
            if e.message().starts_with("duplicate key") {
                Problem {
                    setting: toml_path_at(text, span.start, &tree)
                        .unwrap_or_else(|| format!("line {line}")),
                    message: format!("given twice (again at line {line}); keep one"),
                }
            } else {
                Problem {
                    setting: if e.span().is_some() {
                        format!("line {line}")
                    } else {
                        "(file)".into()
                    },
                    message: format!("not valid TOML: {}", e.message()),
                }
            }
        })
        .collect())
}

fn toml_table(table: &DeTable<'_>) -> Value {
    Value::Object(
        table
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), toml_value(v)))
            .collect(),
    )
}

fn toml_value(value: &Spanned<DeValue<'_>>) -> Value {
    match value.get_ref() {
        DeValue::String(s) => Value::String(s.to_string()),
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
            .map(Value::from)
            .or_else(|_| u64::from_str_radix(i.as_str(), i.radix()).map(Value::from))
            .unwrap_or_else(|_| Value::String(i.to_string())),
        DeValue::Float(f) => f
            .as_str()
            .parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map_or_else(|| Value::String(f.as_str().to_owned()), Value::Number),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::String(d.to_string()),
        DeValue::Array(items) => Value::Array(items.iter().map(toml_value).collect()),
        DeValue::Table(t) => toml_table(t),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(0, |before| before.matches('\n').count())
        + 1
}

/// The dotted setting whose key starts at `offset` (a key at the start of its line, below the
/// last `[table]` header), if `tree` holds it; else `None` (the caller names the line).
fn toml_path_at(text: &str, offset: usize, tree: &Value) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let lead = before[line_start..].trim();
    let line = text[line_start..].lines().next().unwrap_or_default();
    let path = if lead == "[" || lead == "[[" {
        dotted(line.trim().trim_matches(['[', ']']))
    } else if lead.is_empty() {
        let key = dotted(line.split('=').next().unwrap_or_default());
        let header = before[..line_start]
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| l.starts_with('['))
            .map(|l| dotted(l.split(']').next().unwrap_or_default().trim_matches('[')));
        match header {
            Some(header) if !header.is_empty() => format!("{header}.{key}"),
            _ => key,
        }
    } else {
        return None;
    };
    if path.is_empty() {
        return None;
    }
    let mut node = tree;
    for part in path.split('.') {
        node = node.get(part)?;
    }
    Some(path)
}

/// `a . "b"` as `a.b`.
fn dotted(key: &str) -> String {
    key.split('.')
        .map(|part| part.trim().trim_matches(['"', '\'']))
        .collect::<Vec<_>>()
        .join(".")
}

/// A JSON document as a tree, or every problem of its text.
pub(super) fn json(text: &str) -> Result<Value, Vec<Problem>> {
    let state = JsonState::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = JsonNode {
        path: String::new(),
        state: &state,
    }
    .deserialize(&mut de)
    .and_then(|tree| de.end().map(|()| tree));
    let tree = match parsed {
        Ok(tree) => tree,
        Err(e) => return Err(vec![json_error(text, &e, state.failed_at.take())]),
    };
    let duplicates = state.duplicates.take();
    if duplicates.is_empty() {
        Ok(tree)
    } else {
        Err(duplicates
            .into_iter()
            .map(|setting| Problem {
                setting,
                message: "given more than once; keep one".into(),
            })
            .collect())
    }
}

fn json_error(text: &str, e: &serde_json::Error, at: Option<String>) -> Problem {
    let position = format!("line {}, column {}", e.line(), e.column());
    let setting = at.unwrap_or_else(|| position.clone());
    if e.to_string().starts_with("number out of range") {
        let literal = number_at(text, e.line(), e.column());
        Problem {
            message: numbers::refusal(&setting, &literal),
            setting,
        }
    } else {
        Problem {
            setting,
            message: format!("not valid JSON: {e}"),
        }
    }
}

/// The number literal around `line`, `column` (serde_json's position of a number it refused).
fn number_at(text: &str, line: usize, column: usize) -> String {
    let Some(row) = text.lines().nth(line.saturating_sub(1)) else {
        return "the number".into();
    };
    let numeric = |c: char| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-');
    let mut end = column.min(row.len());
    while !row.is_char_boundary(end) {
        end -= 1;
    }
    let start = row[..end].rfind(|c: char| !numeric(c)).map_or(0, |i| i + 1);
    let end = row[start..]
        .find(|c: char| !numeric(c))
        .map_or(row.len(), |i| start + i);
    match &row[start..end] {
        "" => "the number".into(),
        literal => literal.to_owned(),
    }
}

#[derive(Default)]
struct JsonState {
    /// Settings given more than once.
    duplicates: RefCell<Vec<String>>,
    /// The innermost setting whose value failed to parse.
    failed_at: RefCell<Option<String>>,
}

/// One value of the JSON document, at `path` (dotted; list items as `[i]`).
struct JsonNode<'a> {
    path: String,
    state: &'a JsonState,
}

impl JsonNode<'_> {
    fn child(&self, path: String) -> Self {
        JsonNode {
            path,
            state: self.state,
        }
    }

    fn failed<E>(&self, path: String, e: E) -> E {
        self.state.failed_at.borrow_mut().get_or_insert(path);
        e
    }
}

impl<'de> DeserializeSeed<'de> for JsonNode<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonNode<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or_else(|| Value::String(v.to_string()), Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let path = format!("{}[{}]", self.path, items.len());
            match seq.next_element_seed(self.child(path.clone())) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => return Err(self.failed(path, e)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = setting(&self.path, &key);
            let value = map
                .next_value_seed(self.child(path.clone()))
                .map_err(|e| self.failed(path.clone(), e))?;
            if object.insert(key, value).is_some() {
                self.state.duplicates.borrow_mut().push(path);
            }
        }
        Ok(Value::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(result: Result<Value, Vec<Problem>>) -> Vec<String> {
        result
            .expect_err("refused")
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn keys_given_twice_are_named() {
        assert_eq!(
            problems(json(
                r#"{"batch_size": 1, "callback": {"url": "a", "url": "b"}, "batch_size": 2}"#
            )),
            [
                "callback.url: given more than once; keep one",
                "batch_size: given more than once; keep one"
            ]
        );
        assert_eq!(
            problems(toml("batch_size = 1\n[callback]\nurl = 'a'\nurl = 'b'\n")),
            ["callback.url: given twice (again at line 4); keep one"]
        );
        assert_eq!(
            problems(toml("[odoo]\nlogin = 'a'\n[odoo]\n")),
            ["odoo: given twice (again at line 3); keep one"]
        );
    }

    #[test]
    fn numbers_a_tree_cannot_hold_keep_their_text() {
        let tree =
            toml("a = 99999999999999999999\nb = nan\nc = 1e999\nd = 1979-05-27\ne = 0x10").unwrap();
        assert_eq!(tree["a"], "99999999999999999999");
        assert_eq!(tree["b"], "nan");
        assert_eq!(tree["c"], "1e999");
        assert_eq!(tree["d"], "1979-05-27");
        assert_eq!(tree["e"], 16);
        assert_eq!(
            problems(json(r#"{"runs": {"max_attempts": 1e999}}"#)),
            ["runs.max_attempts: 1e999 is not a whole number from 1 to 100"]
        );
        assert_eq!(
            problems(json(r#"{"lang": -1e999}"#)),
            ["lang: -1e999 is not a number OMC can read"]
        );
    }

    #[test]
    fn an_empty_key_is_named_quoted() {
        let found = problems(json(r#"{"name": "a", "": 1, "": {"x" 1}}"#));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("\"\".x: not valid JSON: "),
            "{found:?}"
        );
    }

    #[test]
    fn a_syntax_error_names_the_setting_it_is_in() {
        let found = problems(json("{\"callback\": {\"url\": tru}}"));
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("callback.url: not valid JSON: "),
            "{found:?}"
        );
    }
}
