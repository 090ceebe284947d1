//! Evaluating a domain over records held in memory, with Odoo 17's semantics.

use super::{Criterion, CriterionValue, Domain, Operator};
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

    /// The names a many2one or one2many pointing at this record is matched against when
    /// compared with a string (Odoo's name search: `g2p.id.type` by `name`; `res.partner` also
    /// by email and reference).
    fn search_names(&self) -> Vec<String> {
        match self.value("name") {
            Value::String(name) => vec![name],
            _ => Vec::new(),
        }
    }
}

pub(super) fn matches(domain: &Domain, record: &dyn Record) -> bool {
    match domain {
        Domain::True => true,
        Domain::False => false,
        Domain::Leaf(c) => criterion(c, &c.path, record),
        Domain::And(a, b) => matches(a, record) && matches(b, record),
        Domain::Or(a, b) => matches(a, record) || matches(b, record),
        Domain::Not(a) => !matches(a, record),
    }
}

fn criterion(c: &Criterion, path: &str, record: &dyn Record) -> bool {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    if head == "id" && rest.is_none() {
        return compare(c.operator, &Value::from(record.id()), value_of(c));
    }
    if let Some(rest) = rest {
        // A path through a relation holds when any related record satisfies the rest; a
        // negative operator at the end negates the positive one over all of them.
        let related = record.related(head).unwrap_or_default();
        if let Some(positive) = c.operator.negated_of().filter(|_| !rest.contains('.')) {
            let positive = Criterion {
                path: rest.to_owned(),
                operator: positive,
                value: c.value.clone(),
            };
            return !related
                .iter()
                .any(|r| criterion(&positive, rest, r.as_ref()));
        }
        return related.iter().any(|r| criterion(c, rest, r.as_ref()));
    }
    match record.related(head) {
        Some(related) => relational(c, &related),
        None => match &c.value {
            CriterionValue::Value(v) => compare(c.operator, &record.value(head), v),
            CriterionValue::Domain(_) => false,
        },
    }
}

fn value_of(c: &Criterion) -> &Value {
    match &c.value {
        CriterionValue::Value(v) => v,
        CriterionValue::Domain(_) => &Value::Null,
    }
}

/// A criterion ending on a relational field: compared by sub-domain, by name, or by id.
fn relational(c: &Criterion, related: &[Box<dyn Record + '_>]) -> bool {
    if let CriterionValue::Domain(sub) = &c.value {
        let any = related.iter().any(|r| matches(sub, r.as_ref()));
        return if c.operator == Operator::NotAny {
            !any
        } else {
            any
        };
    }
    let value = value_of(c);
    if let Some(positive) = c.operator.negated_of() {
        let c = Criterion {
            path: c.path.clone(),
            operator: positive,
            value: c.value.clone(),
        };
        return !relational(&c, related);
    }
    if is_unset(value) {
        // `= false`: no related record; `=?` with false is always true.
        return match c.operator {
            Operator::EqOrUnset => true,
            Operator::Eq => related.is_empty(),
            _ => false,
        };
    }
    let by_name = |v: &Value| matches!(v, Value::String(_));
    match (c.operator, value) {
        (Operator::In, Value::Array(items)) => {
            let wants_unset = items.iter().any(is_unset);
            (wants_unset && related.is_empty())
                || related.iter().any(|r| {
                    items.iter().any(|item| {
                        if by_name(item) {
                            r.search_names()
                                .iter()
                                .any(|n| item.as_str() == Some(n.as_str()))
                        } else {
                            compare(Operator::Eq, &Value::from(r.id()), item)
                        }
                    })
                })
        }
        (op, v) if by_name(v) => related.iter().any(|r| {
            r.search_names()
                .iter()
                .any(|n| compare(op, &Value::from(n.as_str()), v))
        }),
        (op, v) => related.iter().any(|r| compare(op, &Value::from(r.id()), v)),
    }
}

fn is_unset(value: &Value) -> bool {
    matches!(value, Value::Null | Value::Bool(false))
}

/// A plain field's value against a criterion's value.
fn compare(op: Operator, field: &Value, value: &Value) -> bool {
    match op {
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
            } else {
                // Odoo's `!=` keeps NULLs.
                !equal(field, value)
            }
        }
        Operator::EqOrUnset => is_unset(value) || compare(Operator::Eq, field, value),
        Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => {
            if is_unset(field) {
                return false;
            }
            match order(field, value) {
                Some(ord) => match op {
                    Operator::Lt => ord == Ordering::Less,
                    Operator::Le => ord != Ordering::Greater,
                    Operator::Gt => ord == Ordering::Greater,
                    _ => ord != Ordering::Less,
                },
                None => false,
            }
        }
        Operator::In | Operator::NotIn => {
            let items = match value {
                Value::Array(items) => items.as_slice(),
                other => std::slice::from_ref(other),
            };
            let wants_unset = items.iter().any(is_unset);
            let hit = if is_unset(field) {
                wants_unset
            } else {
                items.iter().any(|item| equal(field, item))
            };
            if op == Operator::In { hit } else { !hit }
        }
        Operator::Like | Operator::Ilike | Operator::NotLike | Operator::NotIlike => {
            let insensitive = matches!(op, Operator::Ilike | Operator::NotIlike);
            let positive = matches!(op, Operator::Like | Operator::Ilike);
            let hit = match (text(field), text(value)) {
                (Some(f), Some(v)) => like(&f, &format!("%{v}%"), insensitive),
                _ => false,
            };
            // Odoo's negative like keeps NULLs.
            if positive { hit } else { !hit }
        }
        Operator::EqLike | Operator::EqIlike => match (text(field), text(value)) {
            (Some(f), Some(v)) => like(&f, &v, op == Operator::EqIlike),
            _ => false,
        },
        Operator::Any | Operator::NotAny => false,
    }
}

fn equal(field: &Value, value: &Value) -> bool {
    match (field, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (a, b) => a == b,
    }
}

fn order(field: &Value, value: &Value) -> Option<Ordering> {
    match (field, value) {
        (Value::Number(a), Value::Number(b)) => a.as_f64()?.partial_cmp(&b.as_f64()?),
        (Value::String(a), Value::String(b)) => Some(a.as_str().cmp(b.as_str())),
        _ => None,
    }
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// SQL `LIKE`: `%` any run, `_` any one character, `\` escapes.
fn like(text: &str, pattern: &str, insensitive: bool) -> bool {
    let (text, pattern) = if insensitive {
        (text.to_lowercase(), pattern.to_lowercase())
    } else {
        (text.to_owned(), pattern.to_owned())
    };
    let t: Vec<char> = text.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    like_at(&t, &p)
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

    #[test]
    fn like_patterns() {
        assert!(like("MOSIP VID", "MOSIP VID", false));
        assert!(!like("MOSIP VID", "MOSIP UIN TOKEN", false));
        assert!(like("MOSIP VID", "MOSIP%", false));
        assert!(like("MOSIP VID", "%VID", false));
        assert!(like("MOSIP VID", "MOSIP _ID", false));
        assert!(!like("MOSIP VID", "mosip%", false));
        assert!(like("MOSIP VID", "mosip%", true));
        assert!(like("100%", "100\\%", false));
        assert!(!like("1000", "100\\%", false));
        assert!(like("", "%", false));
    }

    #[test]
    fn odoo_null_rules() {
        let f = Value::Bool(false);
        assert!(compare(Operator::Eq, &Value::Null, &f));
        assert!(!compare(Operator::Ne, &Value::Null, &f));
        assert!(compare(Operator::Ne, &Value::Null, &Value::from("x")));
        assert!(compare(Operator::EqOrUnset, &Value::from("y"), &f));
        assert!(compare(
            Operator::In,
            &Value::Null,
            &serde_json::json!([false, "a"])
        ));
        assert!(!compare(
            Operator::In,
            &Value::Null,
            &serde_json::json!(["a"])
        ));
        assert!(compare(Operator::NotLike, &Value::Null, &Value::from("a")));
        assert!(!compare(Operator::Lt, &Value::Null, &Value::from(3)));
    }
}
