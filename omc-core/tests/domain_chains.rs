//! Long runs of one operator (`["|", "|", ..., A1, ..., An]`), which Odoo 17 reads as one
//! n-ary node: OMC parses, writes, normalises, validates and evaluates them without recursing
//! once per operator, on a test thread's stack, while genuine deep nesting is still refused.

use omc_core::domain::{Domain, DomainError, FieldModel, MAX_DEPTH, Record};
use serde_json::{Value, json};

const TERMS: usize = 100_000;

/// A registrant with an id and an income.
struct Partner {
    id: i64,
    income: f64,
}

impl Record for Partner {
    fn id(&self) -> i64 {
        self.id
    }
    fn value(&self, field: &str) -> Value {
        match field {
            "income" => json!(self.income),
            "active" => json!(true),
            _ => Value::Null,
        }
    }
    fn related(&self, _field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        None
    }
}

fn term(i: usize) -> Value {
    json!(["id", "=", i])
}

/// `op` × (n - 1), then the n terms: Odoo's own `OR([...])`.
fn left(op: &str, n: usize) -> Vec<Value> {
    std::iter::repeat_n(json!(op), n - 1)
        .chain((1..=n).map(term))
        .collect()
}

/// `op, A1, op, A2, ..., An`.
fn right(op: &str, n: usize) -> Vec<Value> {
    let mut items = Vec::with_capacity(2 * n);
    for i in 1..n {
        items.push(json!(op));
        items.push(term(i));
    }
    items.push(term(n));
    items
}

/// Pairs `op, A, B` joined by `op`s in front: `op, op, op, A1, A2, op, A3, A4, ...`.
fn pairs(op: &str, n: usize) -> Vec<Value> {
    let mut items = vec![json!(op); n / 2 - 1];
    for i in (1..=n).step_by(2) {
        items.extend([json!(op), term(i), term(i + 1)]);
    }
    items
}

/// Everything a connector does with a filter, on this thread's stack.
fn exercise(json: &Value, hits: &[i64], misses: &[i64]) -> Domain {
    let domain = Domain::from_json(json).expect("a long run of one operator parses");
    assert_eq!(&domain.to_json(), json, "written back as read");
    let again = Domain::from_json(&domain.to_json()).expect("parses again");
    assert_eq!(again, domain, "the same tree");
    let copy = domain.clone();
    assert_eq!(copy, domain);
    let normal = domain.normalize();
    assert_eq!(Domain::from_json(&normal.to_json()).unwrap(), normal);
    let canonical = domain.canonical();
    assert_eq!(Domain::parse(&canonical).unwrap().canonical(), canonical);
    domain
        .validate(&FieldModel::openg2p(), "res.partner")
        .expect("valid");
    for id in hits {
        let p = Partner {
            id: *id,
            income: 0.0,
        };
        assert!(domain.selects(&p) && normal.selects(&p), "{id} is selected");
    }
    for id in misses {
        let p = Partner {
            id: *id,
            income: 0.0,
        };
        assert!(!domain.selects(&p) && !normal.selects(&p), "{id} is not");
    }
    let _ = format!("{domain:?}");
    domain
}

#[test]
fn a_300_term_or_as_odoo_writes_it_is_accepted() {
    let json = Value::Array(left("|", 300));
    exercise(&json, &[1, 150, 300], &[0, 301]);
}

#[test]
fn a_100000_term_or_in_any_grouping_never_recurses_per_operator() {
    let n = TERMS as i64;
    for items in [left("|", TERMS), right("|", TERMS), pairs("|", TERMS)] {
        exercise(&Value::Array(items), &[1, n / 2, n], &[0, n + 1]);
    }
}

#[test]
fn a_100000_term_and_negated_and_nested_in_lists_and_sub_domains() {
    let n = TERMS as i64;
    // Every id differs from -1..=-n: all selected; "!" of that: none.
    let nes = |items: Vec<Value>| -> Vec<Value> {
        items
            .into_iter()
            .map(|v| match v.as_array() {
                Some(t) => json!(["id", "!=", -t[2].as_i64().unwrap()]),
                None => v,
            })
            .collect()
    };
    let all = exercise(&Value::Array(nes(left("&", TERMS))), &[1, n], &[]);
    let not: Vec<Value> = std::iter::once(json!("!"))
        .chain(nes(right("&", TERMS)))
        .collect();
    exercise(&Value::Array(not), &[], &[1, 5]);
    // Beside other criteria (an implicit AND), and ANDed by OMC with its own.
    let mut listed = vec![json!(["income", ">=", 0])];
    listed.extend(left("|", TERMS));
    listed.push(json!(["active", "=", true]));
    let listed = exercise(&Value::Array(listed), &[3], &[n + 1]);
    let narrowed = listed.clone().and(Domain::id_between(2, 4)).and(all);
    assert!(narrowed.selects(&Partner { id: 3, income: 1.0 }));
    assert!(!narrowed.selects(&Partner { id: 5, income: 1.0 }));
    assert_eq!(
        Domain::from_json(&narrowed.to_json()).unwrap(),
        narrowed,
        "what OMC adds reads back as written"
    );
    // Inside an `any` sub-domain.
    let sub = json!([["reg_ids", "any", Value::Array(left("|", TERMS))]]);
    let domain = Domain::from_json(&sub).unwrap();
    assert_eq!(domain.to_json(), sub);
    domain
        .validate(&FieldModel::openg2p(), "res.partner")
        .unwrap();
}

#[test]
fn the_python_literal_form_of_a_long_or_parses_too() {
    let text = format!(
        "[{}{}]",
        "'|', ".repeat(TERMS - 1),
        (1..=TERMS)
            .map(|i| format!("('id', '=', {i})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let domain = Domain::parse(&text).unwrap();
    assert_eq!(domain.to_json(), Value::Array(left("|", TERMS)));
}

#[test]
fn problems_in_a_long_or_are_named_at_their_element() {
    // `["|", A1, "|", A2, ..., An]`: term k (1-based) sits at element 2k - 1.
    let mut items = right("|", 1_000);
    items[2 * 700 - 1] = json!(["incme", "=", 1]);
    let domain = Domain::from_json(&Value::Array(items)).unwrap();
    let problems = domain
        .validate(&FieldModel::openg2p(), "res.partner")
        .unwrap_err();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .to_string()
            .starts_with("element 1399: unknown field 'incme'"),
        "{}",
        problems[0]
    );
    let mut items = left("|", 1_000);
    items[999 + 499] = json!(["income", "=", "lots"]);
    let problems = Domain::from_json(&Value::Array(items))
        .unwrap()
        .validate(&FieldModel::openg2p(), "res.partner")
        .unwrap_err();
    assert!(
        problems[0].to_string().starts_with("element 1498: "),
        "{}",
        problems[0]
    );
}

#[test]
fn genuinely_deep_nesting_is_still_refused_at_its_position() {
    // Alternating operators nest one level each: Odoo 17 gives up at about 480 levels.
    let alternating = |levels: usize| -> Value {
        let mut items = Vec::new();
        for i in 0..levels {
            items.push(json!(if i % 2 == 0 { "&" } else { "|" }));
            items.push(json!(["id", "!=", i]));
        }
        items.push(json!(["id", ">", 0]));
        Value::Array(items)
    };
    let ok = Domain::from_json(&alternating(MAX_DEPTH - 2)).unwrap();
    assert!(ok.selects(&Partner { id: 1, income: 0.0 }));
    let error = Domain::from_json(&alternating(MAX_DEPTH + 10)).unwrap_err();
    assert!(matches!(error, DomainError::TooDeep { .. }), "{error}");
    let at = error.position().expect("a position").0.clone();
    assert_eq!(at.len(), 1);
    assert!(
        error
            .to_string()
            .starts_with(&format!("element {}: ", at[0])),
        "{error}"
    );
}
