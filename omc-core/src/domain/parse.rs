//! Reading Odoo's JSON form of a domain.

use super::{Criterion, CriterionValue, Domain, Operator};
use serde_json::Value;

/// A domain that could not be parsed: where and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// The text is not JSON.
    #[error("filter is not valid JSON: {0}")]
    NotJson(String),
    /// The top level is not a list.
    #[error("filter must be a list of criteria, found {0}")]
    NotAList(&'static str),
    /// An element is neither an operator nor a criterion.
    #[error("filter element {position}: {message}")]
    BadElement {
        /// The element's index in the list (0-based).
        position: usize,
        /// What is wrong with it.
        message: String,
    },
    /// An operator lacks operands.
    #[error("filter element {position}: operator '{operator}' is missing an operand")]
    MissingOperand {
        /// The operator's index in the list.
        position: usize,
        /// The operator.
        operator: &'static str,
    },
}

pub(super) fn parse_text(text: &str) -> Result<Domain, DomainError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| DomainError::NotJson(e.to_string()))?;
    from_json(&value)
}

pub(super) fn from_json(value: &Value) -> Result<Domain, DomainError> {
    let Value::Array(items) = value else {
        return Err(DomainError::NotAList(kind(value)));
    };
    // Prefix notation read from the right, with a stack, like Odoo's normalisation.
    let mut stack: Vec<Domain> = Vec::new();
    for (position, item) in items.iter().enumerate().rev() {
        match item {
            Value::String(op) if op == "&" || op == "|" => {
                let operator = if op == "&" { "&" } else { "|" };
                let (Some(a), Some(b)) = (stack.pop(), stack.pop()) else {
                    return Err(DomainError::MissingOperand { position, operator });
                };
                stack.push(if operator == "&" {
                    Domain::And(Box::new(a), Box::new(b))
                } else {
                    Domain::Or(Box::new(a), Box::new(b))
                });
            }
            Value::String(op) if op == "!" => {
                let Some(a) = stack.pop() else {
                    return Err(DomainError::MissingOperand {
                        position,
                        operator: "!",
                    });
                };
                stack.push(Domain::Not(Box::new(a)));
            }
            Value::String(other) => {
                return Err(DomainError::BadElement {
                    position,
                    message: format!(
                        "unknown logical operator '{other}' (expected '&', '|' or '!')"
                    ),
                });
            }
            Value::Array(parts) => stack.push(criterion(position, parts)?),
            other => {
                return Err(DomainError::BadElement {
                    position,
                    message: format!(
                        "expected a criterion [field, operator, value], found {}",
                        kind(other)
                    ),
                });
            }
        }
    }
    // Consecutive terms are implicitly AND-ed; the stack holds them last-first.
    let mut result: Option<Domain> = None;
    while let Some(term) = stack.pop() {
        result = Some(match result {
            None => term,
            Some(acc) => Domain::And(Box::new(acc), Box::new(term)),
        });
    }
    Ok(result.unwrap_or(Domain::True))
}

fn criterion(position: usize, parts: &[Value]) -> Result<Domain, DomainError> {
    let bad = |message: String| DomainError::BadElement { position, message };
    if parts.len() != 3 {
        return Err(bad(format!(
            "a criterion has 3 parts [field, operator, value], found {}",
            parts.len()
        )));
    }
    // Odoo's TRUE_LEAF and FALSE_LEAF.
    if parts[0].as_i64() == Some(1) && parts[1] == "=" && parts[2].as_i64() == Some(1) {
        return Ok(Domain::True);
    }
    if parts[0].as_i64() == Some(0) && parts[1] == "=" && parts[2].as_i64() == Some(1) {
        return Ok(Domain::False);
    }
    let Value::String(path) = &parts[0] else {
        return Err(bad(format!(
            "the field must be a string, found {}",
            kind(&parts[0])
        )));
    };
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(bad(format!("'{path}' is not a field path")));
    }
    let Value::String(op) = &parts[1] else {
        return Err(bad(format!(
            "the operator must be a string, found {}",
            kind(&parts[1])
        )));
    };
    let operator =
        Operator::parse(op).ok_or_else(|| bad(format!("unknown operator '{op}' on '{path}'")))?;
    let value = match operator {
        Operator::Any | Operator::NotAny => match &parts[2] {
            Value::Array(_) => {
                CriterionValue::Domain(Box::new(from_json(&parts[2]).map_err(|e| {
                    bad(format!(
                        "the sub-domain of '{op}' on '{path}' is malformed: {e}"
                    ))
                })?))
            }
            other => {
                return Err(bad(format!(
                    "'{op}' on '{path}' takes a sub-domain, found {}",
                    kind(other)
                )));
            }
        },
        Operator::In | Operator::NotIn => match &parts[2] {
            Value::Array(_) => CriterionValue::Value(parts[2].clone()),
            // Odoo accepts a single value and wraps it.
            other @ (Value::String(_) | Value::Number(_) | Value::Bool(_)) => {
                CriterionValue::Value(Value::Array(vec![other.clone()]))
            }
            other => {
                return Err(bad(format!(
                    "'{op}' on '{path}' takes a list, found {}",
                    kind(other)
                )));
            }
        },
        _ => match &parts[2] {
            Value::Object(_) => {
                return Err(bad(format!("'{op}' on '{path}' cannot take an object")));
            }
            v => CriterionValue::Value(v.clone()),
        },
    };
    Ok(Domain::Leaf(Criterion {
        path: path.clone(),
        operator,
        value,
    }))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
