//! Evaluating a domain over records held in memory, with Odoo 17's semantics (see the module
//! documentation of [`crate::domain`] for the rules).

use super::convert::{to_field, truthy};
use super::model::FieldType;
use super::{CriterionValue, Domain, Operator};
use serde_json::Value;
use std::cmp::Ordering;

/// A record a domain can be evaluated on: a registrant, an id, an id type.
///
/// Relations are resolved through [`related`](Record::related), so an embedder's own store
/// (or the Odoo emulator) evaluates domains exactly as the in-memory registry does.
pub trait Record {
    /// The record's id.
    fn id(&self) -> i64;

    /// The value of a plain field; `Value::Null` when the record has no such value.
    /// Odoo's `false` for an empty field may be given as `Value::Bool(false)` or `Null`.
    fn value(&self, field: &str) -> Value;

    /// The related records of a relational field (many2one: zero or one; one2many: any
    /// number), or `None` when `field` is not relational.
    fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>>;

    /// The type of a field of this record's model, when known: a criterion's value is then
    /// converted to it as Odoo converts it (a number given as text, a date written with a time
    /// or in another form; see [`crate::domain`]). `None`, the default, compares values as
    /// they are.
    fn field_type(&self, field: &str) -> Option<FieldType> {
        let _ = field;
        None
    }

    /// The names a many2one or one2many pointing at this record is matched against when
    /// compared with a string (Odoo's name search: `g2p.id.type` by `name`; `res.partner` by
    /// name, email and reference; `g2p.reg.id` by its registrant's names).
    fn search_names(&self) -> Vec<String> {
        match self.value("name") {
            Value::String(name) => vec![name],
            _ => Vec::new(),
        }
    }
}

pub(super) fn matches(domain: &Domain, record: &dyn Record) -> bool {
    truth(domain) != Truth::False && eval(domain, record, false)
}

/// What a domain is before any record is read, in Odoo's three-valued `is_false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Truth {
    False,
    Unknown,
    True,
}

/// Odoo's `is_false`: a search whose domain is false by this logic returns nothing, whatever
/// its records. `in` with an empty value (`false`, `null`, `[]`) is false, `not in` with one
/// true, and `!`, `&`, `|` combine them; every other criterion is unknown. So
/// `[["gender", "in", false]]` alone finds nothing, while inside an OR it means "unset".
fn truth(domain: &Domain) -> Truth {
    let not = |t: Truth| match t {
        Truth::False => Truth::True,
        Truth::True => Truth::False,
        Truth::Unknown => Truth::Unknown,
    };
    match domain {
        Domain::True => Truth::True,
        Domain::False => Truth::False,
        Domain::Leaf(c) => match (&c.value, c.operator) {
            (CriterionValue::Value(v), Operator::In) if !truthy(v) => Truth::False,
            (CriterionValue::Value(v), Operator::NotIn) if !truthy(v) => Truth::True,
            _ => Truth::Unknown,
        },
        Domain::And(chain) => chain.terms().iter().map(truth).min().unwrap_or(Truth::True),
        Domain::Or(chain) => chain
            .terms()
            .iter()
            .map(truth)
            .max()
            .unwrap_or(Truth::False),
        Domain::Not(a) => not(truth(a)),
        Domain::All(terms) => terms.iter().map(truth).min().unwrap_or(Truth::True),
    }
}

/// `domain` (negated when `negate`), pushing negations down the way Odoo's `distribute_not`
/// does: into a criterion on a plain path as its complementary operator, otherwise kept as a
/// boolean "not".
fn eval(domain: &Domain, record: &dyn Record, negate: bool) -> bool {
    match domain {
        Domain::True => !negate,
        Domain::False => negate,
        Domain::Leaf(c) => {
            if !negate {
                return leaf(&c.path, c.operator, &c.value, record);
            }
            match c.operator.complement() {
                Some(complement) if !c.path.contains('.') => {
                    leaf(&c.path, complement, &c.value, record)
                }
                // Odoo keeps a SQL NOT in front of `=?`, `=like` and `=ilike`: an unset value
                // makes the comparison unknown, and NOT of unknown is not true.
                None if !c.path.contains('.') => {
                    !leaf(&c.path, c.operator, &c.value, record) && has_value(&c.path, record)
                }
                _ => !leaf(&c.path, c.operator, &c.value, record),
            }
        }
        // A chain is walked term by term: a 100,000-term OR goes no deeper than a 2-term one.
        Domain::And(chain) if negate => chain.terms().iter().any(|t| eval(t, record, true)),
        Domain::And(chain) => chain.terms().iter().all(|t| eval(t, record, false)),
        Domain::Or(chain) if negate => chain.terms().iter().all(|t| eval(t, record, true)),
        Domain::Or(chain) => chain.terms().iter().any(|t| eval(t, record, false)),
        Domain::Not(a) => eval(a, record, !negate),
        Domain::All(terms) if negate => terms.iter().any(|t| eval(t, record, true)),
        Domain::All(terms) => terms.iter().all(|t| eval(t, record, false)),
    }
}

/// Whether the field is set: SQL's NULL is what an unset many2one or plain value is; an
/// x2many criterion is rewritten by Odoo into one on `id`, never NULL.
fn has_value(path: &str, record: &dyn Record) -> bool {
    if path == "id" {
        return true;
    }
    match record.field_type(path) {
        Some(FieldType::One2many(_) | FieldType::Many2many(_)) => return true,
        Some(FieldType::Many2one(_)) | None => {
            if let Some(related) = record.related(path) {
                return !related.is_empty();
            }
        }
        _ => {}
    }
    !is_unset(&record.value(path))
}

fn leaf(path: &str, op: Operator, value: &CriterionValue, record: &dyn Record) -> bool {
    if let Some((head, rest)) = path.split_once('.') {
        // Through a relation: any related record satisfies the rest, whatever the operator.
        return record
            .related(head)
            .unwrap_or_default()
            .iter()
            .any(|r| leaf(rest, op, value, r.as_ref()));
    }
    if path == "id" {
        return match value {
            CriterionValue::Value(v) => {
                typed(op, &Value::from(record.id()), v, Some(&FieldType::Integer))
            }
            CriterionValue::Domain(_) => false,
        };
    }
    match (record.related(path), value) {
        (Some(related), _) => relational(op, value, &related),
        (None, CriterionValue::Value(v)) => {
            typed(op, &record.value(path), v, record.field_type(path).as_ref())
        }
        (None, CriterionValue::Domain(_)) => false,
    }
}

/// A plain field's value against a criterion's value converted to the field's type (the like
/// family compares text, as Odoo casts the column to text).
fn typed(op: Operator, field: &Value, value: &Value, ty: Option<&FieldType>) -> bool {
    let converts = !matches!(
        op,
        Operator::Like
            | Operator::NotLike
            | Operator::Ilike
            | Operator::NotIlike
            | Operator::EqLike
            | Operator::EqIlike
    );
    if converts && ty.is_some() {
        plain(op, field, &to_field(ty, value))
    } else {
        plain(op, field, value)
    }
}

/// Odoo's rewriting of an operator by its value: `in` with a boolean is `=`, `=` with a list
/// is `in`.
fn effective(op: Operator, value: &Value) -> Operator {
    match (op, value) {
        (Operator::In, Value::Bool(_)) => Operator::Eq,
        (Operator::NotIn, Value::Bool(_)) => Operator::Ne,
        (Operator::Eq | Operator::EqOrUnset, Value::Array(_)) => Operator::In,
        (Operator::Ne, Value::Array(_)) => Operator::NotIn,
        (op, _) => op,
    }
}

/// A criterion ending on a relational field: compared by sub-domain, by name, or by id.
fn relational(op: Operator, value: &CriterionValue, related: &[Box<dyn Record + '_>]) -> bool {
    let value = match value {
        CriterionValue::Domain(sub) => {
            let any = related.iter().any(|r| matches(sub, r.as_ref()));
            return match op {
                Operator::Any => any,
                Operator::NotAny => !any,
                _ => false,
            };
        }
        CriterionValue::Value(v) => v,
    };
    let op = effective(op, value);
    if let Some(positive) = op.negated_of() {
        // Odoo searches the positive and takes the complement: empty relations included.
        return !relational_positive(positive, value, related);
    }
    relational_positive(op, value, related)
}

fn relational_positive(op: Operator, value: &Value, related: &[Box<dyn Record + '_>]) -> bool {
    if op == Operator::EqOrUnset && is_unset(value) {
        return true;
    }
    let op = if op == Operator::EqOrUnset {
        Operator::Eq
    } else {
        op
    };
    let one = |r: &dyn Record, item: &Value, op: Operator| match item {
        // Odoo reads `<`, `>`, `<=`, `>=` against a name as `=` (its "ill-formed domains").
        Value::String(_)
            if matches!(
                op,
                Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge
            ) =>
        {
            r.search_names()
                .into_iter()
                .any(|n| plain(Operator::Eq, &Value::String(n), item))
        }
        Value::String(_) => r
            .search_names()
            .into_iter()
            .any(|n| plain(op, &Value::String(n), item)),
        Value::Number(_) => plain(op, &Value::from(r.id()), item),
        _ => false,
    };
    match (op, value) {
        (Operator::In, Value::Array(items)) => {
            (related.is_empty() && items.iter().any(is_unset))
                || related
                    .iter()
                    .any(|r| items.iter().any(|item| one(r.as_ref(), item, Operator::Eq)))
        }
        (Operator::Eq, v) if is_unset(v) => related.is_empty(),
        (_, v) if is_unset(v) => false,
        (op, v) => related.iter().any(|r| one(r.as_ref(), v, op)),
    }
}

fn is_unset(value: &Value) -> bool {
    matches!(value, Value::Null | Value::Bool(false))
}

/// A plain field's value against a criterion's value.
fn plain(op: Operator, field: &Value, value: &Value) -> bool {
    match effective(op, value) {
        Operator::Eq => {
            if is_unset(value) {
                is_unset(field)
            } else {
                equal(field, value)
            }
        }
        Operator::Ne => {
            if is_unset(value) {
                !is_unset(field)
            } else if truthy(value) {
                // Odoo's `!=` keeps empty values, for a value that is true in Python.
                is_unset(field) || !equal(field, value)
            } else {
                // `!= ""` and `!= 0` do not: PostgreSQL's NULL is not different from them.
                !is_unset(field) && !equal(field, value)
            }
        }
        Operator::EqOrUnset => is_unset(value) || plain(Operator::Eq, field, value),
        op @ (Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge) => {
            // A stored `false` is a value only for a boolean compared with a boolean.
            let boolean = matches!((field, value), (Value::Bool(_), Value::Bool(_)));
            if field.is_null() || (is_unset(field) && !boolean) || is_unset(value) {
                return false;
            }
            order(field, value).is_some_and(|ord| match op {
                Operator::Lt => ord == Ordering::Less,
                Operator::Le => ord != Ordering::Greater,
                Operator::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            })
        }
        op @ (Operator::In | Operator::NotIn) => {
            let items = match value {
                Value::Array(items) => items.as_slice(),
                other => std::slice::from_ref(other),
            };
            let wants_unset = items.iter().any(is_unset);
            if is_unset(field) {
                // `in` with false takes empty values; `not in` keeps them unless false is listed.
                return (op == Operator::In) == wants_unset;
            }
            let hit = items.iter().any(|item| equal(field, item));
            (op == Operator::In) == hit
        }
        op @ (Operator::Like | Operator::Ilike | Operator::NotLike | Operator::NotIlike) => {
            let insensitive = matches!(op, Operator::Ilike | Operator::NotIlike);
            // An empty pattern (`""`, `false`, `null`) is `%%`: every value.
            let pattern = text(value).unwrap_or_default();
            let hit = match text(field) {
                Some(f) if !is_unset(field) => like(&f, &format!("%{pattern}%"), insensitive),
                _ => false,
            };
            if matches!(op, Operator::Like | Operator::Ilike) {
                // With an empty pattern Odoo adds "or unset".
                hit || (!truthy(value) && is_unset(field))
            } else {
                // Odoo's negative like keeps empty values.
                !hit
            }
        }
        op @ (Operator::EqLike | Operator::EqIlike) => match (text(field), text(value)) {
            (Some(f), Some(v)) => like(&f, &v, op == Operator::EqIlike),
            _ => false,
        },
        Operator::Any | Operator::NotAny => false,
    }
}

fn equal(field: &Value, value: &Value) -> bool {
    match (field, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        // A boolean column compared with 1 or 0, as Odoo's own `active = 1`.
        (Value::Bool(a), Value::Number(b)) => Some(*a) == b.as_f64().map(|b| b != 0.0),
        (a, b) => a == b,
    }
}

fn order(field: &Value, value: &Value) -> Option<Ordering> {
    match (field, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        // PostgreSQL orders false before true.
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Number(b)) => f64::from(u8::from(*a)).partial_cmp(&b.as_f64()?),
        _ => None,
    }
}

/// A value as PostgreSQL's `::text` writes it (booleans `true`/`false`).
fn text(value: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match value {
        Value::String(s) => Some(std::borrow::Cow::Borrowed(s)),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        Value::Bool(true) => Some(std::borrow::Cow::Borrowed("true")),
        _ => None,
    }
}

/// SQL `LIKE`: `%` any run, `_` any one character, `\` escapes.
fn like(text: &str, pattern: &str, insensitive: bool) -> bool {
    if insensitive {
        return like(&text.to_lowercase(), &pattern.to_lowercase(), false);
    }
    if !pattern.contains(['_', '\\']) {
        return like_percent(text, pattern);
    }
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    like_at(&t, &p)
}

/// `LIKE` with `%` as the only wildcard: the first piece is a prefix, the last a suffix, the
/// others found in order between them.
fn like_percent(text: &str, pattern: &str) -> bool {
    let Some((first, tail)) = pattern.split_once('%') else {
        return text == pattern;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let (middle, last) = tail.rsplit_once('%').unwrap_or(("", tail));
    for piece in middle.split('%') {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn like_at(t: &[char], p: &[char]) -> bool {
    // Iterative matcher with backtracking to the last `%`.
    let (mut ti, mut pi) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() {
            match p[pi] {
                '%' => {
                    star = Some((pi, ti));
                    pi += 1;
                    continue;
                }
                '_' => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                '\\' if pi + 1 < p.len() && p[pi + 1] == t[ti] => {
                    ti += 1;
                    pi += 2;
                    continue;
                }
                c if c == t[ti] && c != '\\' => {
                    ti += 1;
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, st)) => {
                pi = sp + 1;
                ti = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|&c| c == '%')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_patterns() {
        for (text, pattern, insensitive, expected) in [
            ("MOSIP VID", "MOSIP VID", false, true),
            ("MOSIP VID", "MOSIP UIN TOKEN", false, false),
            ("MOSIP VID", "MOSIP%", false, true),
            ("MOSIP VID", "%VID", false, true),
            ("MOSIP VID", "%SIP%", false, true),
            ("MOSIP VID", "MOSIP _ID", false, true),
            ("MOSIP VID", "mosip%", false, false),
            ("MOSIP VID", "mosip%", true, true),
            ("100%", "100\\%", false, true),
            ("1000", "100\\%", false, false),
            ("", "%", false, true),
            ("", "", false, true),
            ("a", "", false, false),
            ("abc", "%%", false, true),
            ("abc", "a%c", false, true),
            ("abc", "a%b", false, false),
            ("VID", "VID%", false, true),
        ] {
            assert_eq!(
                like(text, pattern, insensitive),
                expected,
                "{text} like {pattern}"
            );
            let t: Vec<char> = text.chars().collect();
            let p: Vec<char> = pattern.chars().collect();
            let reference = if insensitive {
                expected
            } else {
                like_at(&t, &p)
            };
            assert_eq!(reference, expected, "matcher: {text} like {pattern}");
        }
    }

    #[test]
    fn odoo_null_rules() {
        let f = Value::Bool(false);
        assert!(plain(Operator::Eq, &Value::Null, &f));
        assert!(!plain(Operator::Ne, &Value::Null, &f));
        assert!(plain(Operator::Ne, &Value::Null, &Value::from("x")));
        assert!(plain(Operator::EqOrUnset, &Value::from("y"), &f));
        assert!(plain(Operator::In, &Value::Null, &json!([false, "a"])));
        assert!(!plain(Operator::In, &Value::Null, &json!(["a"])));
        assert!(plain(Operator::NotIn, &Value::Null, &json!(["a"])));
        assert!(!plain(Operator::NotIn, &Value::Null, &json!([false, "a"])));
        assert!(plain(Operator::NotLike, &Value::Null, &Value::from("a")));
        assert!(!plain(Operator::Lt, &Value::Null, &Value::from(3)));
        assert!(plain(Operator::Eq, &Value::Bool(true), &json!(1)));
        assert!(plain(Operator::In, &json!("a"), &json!(["a"])));
        assert!(plain(Operator::Eq, &json!("a"), &json!(["b", "a"])));
    }
}
