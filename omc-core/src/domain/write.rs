//! Writing a domain back to Odoo's JSON form, and Odoo's normal form.

use super::chain::{Chain, Joiner, join};
use super::{Criterion, CriterionValue, Domain};
use serde_json::{Value, json};

/// The JSON form with the structure the domain was written in: an implicit AND at the top of a
/// list stays a list of consecutive terms.
pub(super) fn to_json(domain: &Domain) -> Value {
    let mut out = Vec::new();
    match domain {
        Domain::All(terms) => terms.iter().for_each(|t| prefix(t, &mut out)),
        other => prefix(other, &mut out),
    }
    Value::Array(out)
}

fn prefix(domain: &Domain, out: &mut Vec<Value>) {
    match domain {
        Domain::True => out.push(json!([1, "=", 1])),
        Domain::False => out.push(json!([0, "=", 1])),
        Domain::Leaf(c) => out.push(leaf(c)),
        Domain::And(chain) => chained("&", chain, out),
        Domain::Or(chain) => chained("|", chain, out),
        Domain::Not(a) => {
            out.push(json!("!"));
            prefix(a, out);
        }
        // Inside a prefix expression consecutive terms need their "&"s spelt out.
        Domain::All(terms) => match terms.len() {
            0 => out.push(json!([1, "=", 1])),
            n => {
                out.extend(std::iter::repeat_n(json!("&"), n - 1));
                terms.iter().for_each(|t| prefix(t, out));
            }
        },
    }
}

/// A chain's terms, each after the operators written just before it.
fn chained(op: &str, chain: &Chain, out: &mut Vec<Value>) {
    for (ops, term) in chain.parts() {
        out.extend(std::iter::repeat_n(json!(op), ops));
        prefix(term, out);
    }
}

fn leaf(c: &Criterion) -> Value {
    json!([
        c.path,
        c.operator.as_str(),
        match &c.value {
            CriterionValue::Value(v) => v.clone(),
            CriterionValue::Domain(d) => to_json(d),
        }
    ])
}

/// Odoo's `normalize_domain`: explicit operators only, left-nested for consecutive terms.
pub(super) fn normalize(domain: &Domain) -> Domain {
    match domain {
        Domain::True | Domain::False => domain.clone(),
        Domain::Leaf(c) => Domain::Leaf(Criterion {
            path: c.path.clone(),
            operator: c.operator,
            value: match &c.value {
                CriterionValue::Value(v) => CriterionValue::Value(v.clone()),
                CriterionValue::Domain(d) => CriterionValue::Domain(Box::new(normalize(d))),
            },
        }),
        // A chain's terms are never implicit AND lists, so normalising keeps their shape.
        Domain::And(chain) => Domain::And(chain.map_ref(normalize)),
        Domain::Or(chain) => Domain::Or(chain.map_ref(normalize)),
        Domain::Not(a) => Domain::Not(Box::new(normalize(a))),
        Domain::All(terms) => {
            let mut terms = terms.iter().map(normalize);
            let Some(first) = terms.next() else {
                return Domain::True;
            };
            terms.fold(first, |acc, t| Domain::And(join(Joiner::And, acc, t)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_written_structure_and_normalises_like_odoo() {
        for text in [
            r#"[]"#,
            r#"[[1,"=",1]]"#,
            r#"[["a","=",1],["b","=",2],["c","=",3]]"#,
            r#"["&",["a","=",1],["b","=",2],["c","=",3]]"#,
            r#"["|",["a","=",1],["b","=",2],"!",["c","in",[1,false]]]"#,
            r#"[["reg_ids","any",[["id_type","=","X"],["value","!=",false]]]]"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let domain = Domain::from_json(&value).unwrap();
            assert_eq!(domain.to_json(), value, "{text}");
        }
        let d = Domain::parse(r#"[["a","=",1],["b","=",2],["c","=",3]]"#).unwrap();
        assert_eq!(
            d.canonical(),
            r#"["&","&",["a","=",1],["b","=",2],["c","=",3]]"#
        );
        assert_eq!(Domain::parse("[]").unwrap().canonical(), r#"[[1,"=",1]]"#);
        let nested = Domain::All(vec![
            Domain::All(vec![Domain::True, Domain::False]),
            Domain::All(vec![]),
        ]);
        assert_eq!(
            nested.to_json(),
            serde_json::json!(["&", [1, "=", 1], [0, "=", 1], [1, "=", 1]])
        );
    }
}
