//! Checking a domain against a [`FieldModel`]: every problem, with its element's position.

use super::convert::parse_date;
use super::error::{DomainError, Position, closest};
use super::model::{FieldModel, FieldType};
use super::parse::kind;
use super::{Criterion, CriterionValue, Domain, Operator};
use serde_json::Value;
use std::fmt;

/// One problem a domain has against a [`FieldModel`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainProblem {
    /// The criterion's position.
    pub at: Position,
    /// What is wrong.
    pub kind: ProblemKind,
}

/// What is wrong with a criterion against the field model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The model is not in the field model at all.
    UnknownModel {
        /// The model.
        model: String,
    },
    /// No such field on the model.
    UnknownField {
        /// The model.
        model: String,
        /// The field as written.
        field: String,
        /// The closest existing field name, if one is close.
        suggestion: Option<String>,
    },
    /// A field Odoo 17 accepts in a domain and ignores: neither stored nor given a search
    /// method, the criterion becomes TRUE and selects every record.
    NotSearchable {
        /// The model.
        model: String,
        /// The field.
        field: String,
    },
    /// A dotted path continues after a field that is not a relation.
    NotARelation {
        /// The model.
        model: String,
        /// The field the path continues after.
        field: String,
        /// Its type.
        field_type: &'static str,
    },
    /// `any`/`not any` on a field that is not a relation.
    SubDomainOnPlainField {
        /// The model.
        model: String,
        /// The field.
        field: String,
        /// The operator.
        operator: Operator,
    },
    /// A value the field's type cannot be compared with by that operator.
    WrongValueType {
        /// The model.
        model: String,
        /// The field.
        field: String,
        /// Its type.
        field_type: &'static str,
        /// The operator.
        operator: Operator,
        /// The kind of value found (never the value).
        found: &'static str,
    },
}

impl fmt::Display for DomainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.at)?;
        match &self.kind {
            ProblemKind::UnknownModel { model } => write!(f, "unknown model '{model}'"),
            ProblemKind::UnknownField {
                model,
                field,
                suggestion,
            } => {
                write!(f, "unknown field '{field}' on {model}")?;
                match suggestion {
                    Some(s) => write!(f, "; did you mean '{s}'?"),
                    None => Ok(()),
                }
            }
            ProblemKind::NotSearchable { model, field } => write!(
                f,
                "'{field}' on {model} cannot be searched (it is neither stored nor searchable): \
                 Odoo ignores the criterion and selects every record"
            ),
            ProblemKind::NotARelation {
                model,
                field,
                field_type,
            } => write!(
                f,
                "the path continues after '{field}' on {model}, a {field_type} field, not a relation"
            ),
            ProblemKind::SubDomainOnPlainField {
                model,
                field,
                operator,
            } => write!(
                f,
                "'{operator}' takes a relational field, but '{field}' on {model} is not one"
            ),
            ProblemKind::WrongValueType {
                model,
                field,
                field_type,
                operator,
                found,
            } => write!(
                f,
                "'{field}' on {model} is a {field_type} field; '{operator}' cannot compare it with {found}"
            ),
        }
    }
}

/// A filter refused before anything is sent: it does not parse, or it does not fit the model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FilterError {
    /// It does not parse.
    #[error(transparent)]
    Parse(DomainError),
    /// It parses, with these problems against the field model.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<DomainProblem>),
}

pub(super) fn validate(
    domain: &Domain,
    model: &FieldModel,
    root: &str,
) -> Result<(), Vec<DomainProblem>> {
    let mut problems = Vec::new();
    if !model.has_model(root) {
        problems.push(DomainProblem {
            at: Position::default(),
            kind: ProblemKind::UnknownModel {
                model: root.to_owned(),
            },
        });
        return Err(problems);
    }
    walk_list(domain, model, root, &Position::default(), &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Walks a domain as written, numbering its elements as the JSON list does.
fn walk_list(
    domain: &Domain,
    model: &FieldModel,
    root: &str,
    at: &Position,
    out: &mut Vec<DomainProblem>,
) {
    let mut index = 0;
    match domain {
        Domain::All(terms) => {
            for t in terms {
                walk(t, model, root, at, &mut index, out);
            }
        }
        other => walk(other, model, root, at, &mut index, out),
    }
}

fn walk(
    domain: &Domain,
    model: &FieldModel,
    root: &str,
    at: &Position,
    index: &mut usize,
    out: &mut Vec<DomainProblem>,
) {
    match domain {
        Domain::True | Domain::False => *index += 1,
        Domain::Leaf(c) => {
            criterion(c, model, root, &at.child(*index), out);
            *index += 1;
        }
        // Each term after the operators written before it.
        Domain::And(chain) | Domain::Or(chain) => {
            for (ops, term) in chain.parts() {
                *index += ops;
                walk(term, model, root, at, index, out);
            }
        }
        Domain::Not(a) => {
            *index += 1;
            walk(a, model, root, at, index, out);
        }
        // Nested implicit ANDs are written with (n - 1) explicit '&'s, `[]` as TRUE_LEAF.
        Domain::All(terms) => {
            *index += match terms.len() {
                0 => 1,
                n => n - 1,
            };
            for t in terms {
                walk(t, model, root, at, index, out);
            }
        }
    }
}

fn criterion(
    c: &Criterion,
    model: &FieldModel,
    root: &str,
    at: &Position,
    out: &mut Vec<DomainProblem>,
) {
    let mut current = root.to_owned();
    let parts: Vec<&str> = c.path.split('.').collect();
    let mut field_type = FieldType::Integer;
    for (i, part) in parts.iter().enumerate() {
        let Some(ty) = model.field(&current, part) else {
            let names = model.searchable_fields_of(&current);
            out.push(DomainProblem {
                at: at.clone(),
                kind: ProblemKind::UnknownField {
                    model: current.clone(),
                    field: (*part).to_owned(),
                    suggestion: closest(part, names).map(str::to_owned),
                },
            });
            return;
        };
        field_type = ty.clone();
        if !model.is_searchable(&current, part) {
            out.push(DomainProblem {
                at: at.clone(),
                kind: ProblemKind::NotSearchable {
                    model: current.clone(),
                    field: (*part).to_owned(),
                },
            });
            return;
        }
        if i + 1 < parts.len() {
            match ty.target() {
                Some(target) if model.has_model(target) => current = target.to_owned(),
                Some(_) => return, // a relation to a model OMC does not describe: not checked
                None => {
                    out.push(DomainProblem {
                        at: at.clone(),
                        kind: ProblemKind::NotARelation {
                            model: current.clone(),
                            field: (*part).to_owned(),
                            field_type: ty.name(),
                        },
                    });
                    return;
                }
            }
        }
    }
    let field = parts.last().copied().unwrap_or_default();
    match &c.value {
        CriterionValue::Domain(sub) => match field_type.target() {
            Some(target) if model.has_model(target) => walk_list(sub, model, target, at, out),
            Some(_) => {}
            None => out.push(DomainProblem {
                at: at.clone(),
                kind: ProblemKind::SubDomainOnPlainField {
                    model: current,
                    field: field.to_owned(),
                    operator: c.operator,
                },
            }),
        },
        CriterionValue::Value(value) => {
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            if let Some(bad) = items
                .into_iter()
                .find(|v| !fits(&field_type, c.operator, v))
            {
                out.push(DomainProblem {
                    at: at.clone(),
                    kind: ProblemKind::WrongValueType {
                        model: current,
                        field: field.to_owned(),
                        field_type: field_type.name(),
                        operator: c.operator,
                        found: kind(bad),
                    },
                });
            }
        }
    }
}

/// Whether `value` can be compared with a field of type `ty` by `op`.
fn fits(ty: &FieldType, op: Operator, value: &Value) -> bool {
    use FieldType::*;
    if matches!(value, Value::Null | Value::Bool(false)) {
        return true;
    }
    let like = matches!(
        op,
        Operator::Like
            | Operator::NotLike
            | Operator::Ilike
            | Operator::NotIlike
            | Operator::EqLike
            | Operator::EqIlike
    );
    let pattern = matches!(op, Operator::EqLike | Operator::EqIlike);
    match (ty, value) {
        // `=like` converts its pattern to the column's type first, and PostgreSQL has no LIKE
        // between text and a boolean or a number (Odoo 17 fails either way, measured).
        (Boolean, _) if pattern => false,
        (Integer | Float | Monetary, _) if pattern => false,
        // Odoo compares any other column with a pattern as text.
        (_, Value::String(_)) if like => true,
        (_, Value::Number(_)) if like => !matches!(ty, Boolean),
        (Char | Text | Html | Selection, Value::String(_)) => true,
        (Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
        (Float | Monetary, Value::Number(_)) => true,
        // A number written as text is read as a number.
        (Integer | Float | Monetary, Value::String(s)) => s.trim().parse::<f64>().is_ok(),
        // Types OMC does not compare itself: left to Odoo.
        (Binary | Reference | Many2oneReference | Json | Properties, _) => true,
        (Boolean, Value::Bool(_)) => true,
        (Boolean, Value::Number(n)) => matches!(n.as_i64(), Some(0 | 1)),
        (Date, Value::String(s)) => parse_date(s).is_some(),
        (Datetime, Value::String(s)) => is_datetime(s) || is_date(s),
        (Many2one(_) | One2many(_) | Many2many(_), Value::String(_)) => true,
        (Many2one(_) | One2many(_) | Many2many(_), Value::Number(n)) => n.is_i64() || n.is_u64(),
        _ => false,
    }
}

fn digits_at(s: &[u8], spec: &str) -> bool {
    s.len() == spec.len()
        && s.iter().zip(spec.bytes()).all(|(c, p)| match p {
            b'9' => c.is_ascii_digit(),
            other => *c == other,
        })
}

fn is_date(s: &str) -> bool {
    digits_at(s.as_bytes(), "9999-99-99")
}

fn is_datetime(s: &str) -> bool {
    digits_at(s.as_bytes(), "9999-99-99 99:99:99")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str) -> Vec<String> {
        let d = Domain::parse(text).unwrap();
        match d.validate(&FieldModel::openg2p(), "res.partner") {
            Ok(()) => Vec::new(),
            Err(p) => p.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn names_every_problem_with_its_position() {
        assert_eq!(
            problems(r#"[["birth_date", "=", "2000-01-01"]]"#),
            ["element 0: unknown field 'birth_date' on res.partner; did you mean 'birthdate'?"]
        );
        assert_eq!(
            problems(
                r#"["|", ["name.x", "=", 1], ["reg_ids.id_typ", "=", "X"], ["income", "=", "lots"]]"#
            ),
            [
                "element 1: the path continues after 'name' on res.partner, a char field, not a relation",
                "element 2: unknown field 'id_typ' on g2p.reg.id; did you mean 'id_type'?",
                "element 3: 'income' on res.partner is a float field; '=' cannot compare it with a string",
            ]
        );
        assert_eq!(
            problems(r#"[["reg_ids", "any", [["id_type.nam", "=", "X"]]], ["gender", "any", []]]"#),
            [
                "element 0, sub-domain element 0: unknown field 'nam' on g2p.id.type; did you mean 'name'?",
                "element 1: 'any' takes a relational field, but 'gender' on res.partner is not one",
            ]
        );
        assert!(problems(&Domain::openg2p_default().to_json().to_string()).is_empty());
        assert!(problems(r#"[["birthdate", "<", "2000-01-01"], ["is_group", "=", 0], ["reg_ids", "in", [1, 2]]]"#).is_empty());
        let extended = FieldModel::openg2p().with_field("res.partner", "district", FieldType::Char);
        let d = Domain::parse(r#"[["district", "=", "North"]]"#).unwrap();
        assert!(d.validate(&extended, "res.partner").is_ok());
        assert!(d.validate(&extended, "no.model").is_err());
    }
}
