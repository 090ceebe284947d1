//! Reading Odoo's JSON form of a domain into the tree, keeping its structure.

use super::chain::{Chain, Joiner};
use super::error::{DomainError, Position, closest, show_word};
use super::{Criterion, CriterionValue, Domain, Operator};
use serde_json::Value;
use std::collections::VecDeque;

/// How deep a domain may nest: levels of different prefix operators (a run of one of `"&"` or
/// `"|"`, however long, is one level; each `"!"` is one) and `any` sub-domains. Deeper ones
/// are refused so walking them can never exhaust a thread's stack. Odoo 17 itself gives up (a
/// Python `RecursionError`) at 483 levels of alternating `"&"` and `"|"` (measured); it reads
/// longer runs of `"!"`, which OMC refuses past this limit.
pub const MAX_DEPTH: usize = 480;

/// How deep `any` sub-domains may nest in one another.
pub const MAX_SUB_DOMAINS: usize = 16;

/// Odoo's operators OMC refuses, because it cannot evaluate them in memory.
const UNSUPPORTED: [&str; 2] = ["child_of", "parent_of"];

pub(super) fn from_json(value: &Value) -> Result<Domain, DomainError> {
    list(value, &Position::default(), 0, 0).map(|(domain, _)| domain)
}

/// A term on the reading stack (beside its depth): a domain, or a chain still growing (in
/// deques, as a chain read from the right grows at both ends).
enum Node {
    Done(Domain),
    Chain {
        op: Joiner,
        terms: VecDeque<Domain>,
        ops: VecDeque<usize>,
    },
}

impl Node {
    fn finish(self) -> Domain {
        match self {
            Self::Done(domain) => domain,
            Self::Chain { op, terms, ops } => {
                op.wrap(Chain::from_parts(Vec::from(terms), Vec::from(ops)))
            }
        }
    }

    /// The terms of `op` this node brings to a chain, and the depth of such a chain.
    fn open(self, op: Joiner, depth: usize) -> (VecDeque<Domain>, VecDeque<usize>, usize) {
        match self {
            Self::Chain {
                op: same,
                terms,
                ops,
            } if same == op => (terms, ops, depth),
            other => (
                VecDeque::from([other.finish()]),
                VecDeque::from([0]),
                depth + 1,
            ),
        }
    }
}

/// `[op, ...a, ...b]`: one chain, growing the longer side by the shorter so reading a chain
/// of n terms costs O(n log n) whichever way it is grouped.
fn join(op: Joiner, (a, da): (Node, usize), (b, db): (Node, usize)) -> (Node, usize) {
    let (mut terms, mut ops, da) = a.open(op, da);
    let (mut more, mut more_ops, db) = b.open(op, db);
    if terms.len() >= more.len() {
        terms.append(&mut more);
        ops.append(&mut more_ops);
    } else {
        while let (Some(term), Some(count)) = (terms.pop_back(), ops.pop_back()) {
            more.push_front(term);
            more_ops.push_front(count);
        }
        (terms, ops) = (more, more_ops);
    }
    if let Some(first) = ops.front_mut() {
        *first += 1;
    }
    (Node::Chain { op, terms, ops }, da.max(db))
}

/// A domain list at `at`, nested `depth` deep in the tree and inside `subs` sub-domains: the
/// domain and its own depth.
fn list(
    value: &Value,
    at: &Position,
    depth: usize,
    subs: usize,
) -> Result<(Domain, usize), DomainError> {
    if subs > MAX_SUB_DOMAINS {
        return Err(DomainError::TooDeep {
            at: at.clone(),
            limit: MAX_SUB_DOMAINS,
        });
    }
    let Value::Array(items) = value else {
        return Err(DomainError::NotAList {
            at: at.clone(),
            found: kind(value),
        });
    };
    // Prefix notation read from the right with a stack, like Odoo's own reading.
    let mut stack: Vec<(Node, usize)> = Vec::new();
    for (index, item) in items.iter().enumerate().rev() {
        let here = at.child(index);
        let (node, node_depth) = match item {
            Value::String(op) if op == "&" || op == "|" => {
                let (operator, joiner) = if op == "&" {
                    ("&", Joiner::And)
                } else {
                    ("|", Joiner::Or)
                };
                if stack.len() < 2 {
                    return Err(DomainError::MissingOperands {
                        at: here,
                        operator,
                        needed: 2,
                        found: stack.len(),
                    });
                }
                let a = stack.pop().expect("checked");
                let b = stack.pop().expect("checked");
                join(joiner, a, b)
            }
            Value::String(op) if op == "!" => {
                let Some((a, da)) = stack.pop() else {
                    return Err(DomainError::MissingOperands {
                        at: here,
                        operator: "!",
                        needed: 1,
                        found: 0,
                    });
                };
                (Node::Done(Domain::Not(Box::new(a.finish()))), da + 1)
            }
            Value::String(other) => {
                return Err(DomainError::BadElement {
                    at: here,
                    found: format!("the string {}", show_word(other, &["&", "|", "!"])),
                });
            }
            Value::Array(parts) => {
                let (leaf, leaf_depth) = criterion(parts, &here, depth, subs)?;
                (Node::Done(leaf), leaf_depth)
            }
            other => {
                return Err(DomainError::BadElement {
                    at: here,
                    found: kind(other).to_owned(),
                });
            }
        };
        if depth + node_depth > MAX_DEPTH {
            return Err(DomainError::TooDeep {
                at: here,
                limit: MAX_DEPTH,
            });
        }
        stack.push((node, node_depth));
    }
    // The stack holds the consecutive terms last-first; they are implicitly AND-ed.
    let own_depth = stack.iter().map(|(_, d)| *d).max().unwrap_or(0) + 1;
    if stack.len() == 1 {
        let (node, node_depth) = stack.pop().expect("one term");
        return Ok((node.finish(), node_depth));
    }
    let terms = stack
        .into_iter()
        .rev()
        .map(|(node, _)| node.finish())
        .collect();
    Ok((Domain::All(terms), own_depth))
}

fn criterion(
    parts: &[Value],
    at: &Position,
    depth: usize,
    subs: usize,
) -> Result<(Domain, usize), DomainError> {
    let bad = |problem: String| DomainError::BadCriterion {
        at: at.clone(),
        problem,
    };
    if parts.len() != 3 {
        return Err(bad(format!(
            "a criterion has 3 parts [field, operator, value], found {}",
            parts.len()
        )));
    }
    // Odoo's TRUE_LEAF and FALSE_LEAF.
    if parts[1] == "=" && parts[2].as_i64() == Some(1) && parts[2].is_i64() {
        match parts[0].as_i64() {
            Some(1) if parts[0].is_i64() => return Ok((Domain::True, 1)),
            Some(0) if parts[0].is_i64() => return Ok((Domain::False, 1)),
            _ => {}
        }
    }
    let Value::String(path) = &parts[0] else {
        return Err(bad(format!(
            "the field of a criterion must be a string, found {}",
            kind(&parts[0])
        )));
    };
    if path.split('.').any(|part| part.trim().is_empty()) {
        return Err(bad("the field path of a criterion has an empty part".into()));
    }
    let Value::String(op) = &parts[1] else {
        return Err(bad(format!(
            "the operator of the criterion on '{path}' must be a string, found {}",
            kind(&parts[1])
        )));
    };
    let Some(operator) = Operator::parse(op) else {
        let lower = op.to_ascii_lowercase();
        if let Some(unsupported) = UNSUPPORTED.iter().find(|u| **u == lower) {
            return Err(DomainError::UnsupportedOperator {
                at: at.clone(),
                operator: unsupported,
            });
        }
        let names = Operator::ALL.map(Operator::as_str);
        // An operator in the wrong case is shown as written: it is one of Odoo's words.
        let (operator, suggestion) = match Operator::parse(&lower) {
            Some(known) => (format!("'{op}'"), Some(known.as_str())),
            None => (show_word(op, &names), closest(&lower, names)),
        };
        return Err(DomainError::UnknownOperator {
            at: at.clone(),
            field: path.clone(),
            operator,
            suggestion,
        });
    };
    let value = &parts[2];
    let takes = |what: &str| {
        bad(format!(
            "'{operator}' on '{path}' takes {what}, found {}",
            kind(value)
        ))
    };
    let (value, value_depth) = match operator {
        Operator::Any | Operator::NotAny => match value {
            Value::Array(_) => {
                let (sub, sub_depth) = list(value, at, depth + 1, subs + 1)?;
                (CriterionValue::Domain(Box::new(sub)), sub_depth)
            }
            _ => return Err(takes("a sub-domain (a list of criteria)")),
        },
        Operator::In | Operator::NotIn => match value {
            Value::Array(_) | Value::Bool(_) => (CriterionValue::Value(value.clone()), 0),
            _ => return Err(takes("a list")),
        },
        Operator::Eq | Operator::Ne | Operator::EqOrUnset => match value {
            Value::Object(_) => return Err(takes("a value or a list")),
            _ => (CriterionValue::Value(value.clone()), 0),
        },
        _ => match value {
            Value::Object(_) | Value::Array(_) => return Err(takes("a single value")),
            _ => (CriterionValue::Value(value.clone()), 0),
        },
    };
    Ok((
        Domain::Leaf(Criterion {
            path: path.clone(),
            operator,
            value,
        }),
        value_depth + 1,
    ))
}

/// The kind of a JSON value, for messages that must not show the value.
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a decimal number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    struct Empty;

    impl crate::domain::Record for Empty {
        fn id(&self) -> i64 {
            1
        }
        fn value(&self, _field: &str) -> Value {
            Value::Null
        }
        fn related(&self, _field: &str) -> Option<Vec<Box<dyn crate::domain::Record + '_>>> {
            None
        }
    }

    fn nots(n: usize) -> Value {
        let mut items = vec![json!("!"); n];
        items.push(json!(["income", "<", 10]));
        Value::Array(items)
    }

    /// `levels` alternating `"&"` and `"|"`, each with a criterion: one level each.
    fn alternating(levels: usize) -> Value {
        let mut items = Vec::new();
        for i in 0..levels {
            items.push(json!(if i % 2 == 0 { "&" } else { "|" }));
            items.push(json!(["income", "!=", i]));
        }
        items.push(json!(["income", "<", 10]));
        Value::Array(items)
    }

    #[test]
    fn deep_domains_are_bounded() {
        // As deep as allowed: parses, evaluates, validates, writes, prints and drops on half
        // the stack of a test thread (1 of 2 MiB, unoptimised).
        let at_the_limit = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(|| {
                for json in [nots(MAX_DEPTH - 1), alternating(MAX_DEPTH - 1)] {
                    let deep = from_json(&json).unwrap();
                    let _ = deep.matches(&Empty);
                    assert_eq!(deep.to_json(), json);
                    let _ = deep.normalize().canonical();
                    let model = crate::domain::FieldModel::openg2p();
                    assert!(deep.validate(&model, "res.partner").is_ok());
                    assert_eq!(deep.clone(), deep);
                    let _ = format!("{deep:?}");
                }
            })
            .unwrap()
            .join();
        assert!(at_the_limit.is_ok());

        for json in [nots(MAX_DEPTH + 5), alternating(MAX_DEPTH)] {
            assert!(matches!(from_json(&json), Err(DomainError::TooDeep { .. })));
        }
        let mut nested = json!([]);
        for _ in 0..MAX_SUB_DOMAINS {
            nested = json!([["reg_ids", "any", nested]]);
        }
        assert!(from_json(&nested).is_ok());
        nested = json!([["reg_ids", "any", nested]]);
        assert!(matches!(
            from_json(&nested),
            Err(DomainError::TooDeep { .. })
        ));
    }
}
