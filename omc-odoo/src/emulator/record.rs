//! Emulator rows as [`omc_core::domain::Record`]s, domain checking, and searching.
//!
//! A search walks the model's rows lazily in id order and stops at `limit`: when the domain's
//! top-level conjunction holds `["id", ">", n]`, `["id", "in", ids]` or (on `g2p.reg.id`)
//! `["partner_id", "in", ids]`, only those rows are visited, so keyset paging through a large
//! registry never rescans it.

use super::schema::{Fault, Kind, Model};
use super::store::{Row, Store, many2one_id};
use omc_core::Domain;
use omc_core::domain::{Criterion, CriterionValue, Operator, Record};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::ops::{Bound, RangeBounds};

/// One stored row seen through the domain language.
pub(crate) struct RowRef<'a> {
    pub(crate) store: &'a Store,
    pub(crate) model: Model,
    pub(crate) id: i64,
    pub(crate) row: &'a Row,
}

impl<'a> RowRef<'a> {
    pub(crate) fn get(store: &'a Store, model: Model, id: i64) -> Option<Self> {
        let row = store.row(model, id)?;
        Some(Self {
            store,
            model,
            id,
            row,
        })
    }
}

impl Record for RowRef<'_> {
    fn id(&self) -> i64 {
        self.id
    }

    fn value(&self, field: &str) -> Value {
        match self.store.kind(self.model, field) {
            Some(Kind::DisplayName) => self.store.display_name(self.model, self.id),
            Some(Kind::Id) => Value::from(self.id),
            _ => self.row.get(field).cloned().unwrap_or(Value::Null),
        }
    }

    fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        let kind = self.store.kind(self.model, field)?;
        let ids: Vec<i64> = match kind {
            Kind::Many2one(_) => many2one_id(self.row.get(field)).into_iter().collect(),
            Kind::One2many(_) => self.store.reg_ids_of(self.id).collect(),
            _ => return None,
        };
        let target = kind.target()?;
        Some(
            ids.into_iter()
                .filter_map(|id| RowRef::get(self.store, target, id))
                .map(|r| Box::new(r) as Box<dyn Record + '_>)
                .collect(),
        )
    }

    fn search_names(&self) -> Vec<String> {
        let fields: &[&str] = match self.model {
            Model::Partner => &["name", "email", "ref"],
            _ => &["name"],
        };
        let mut names: Vec<String> = fields
            .iter()
            .filter_map(|f| self.row.get(*f).and_then(Value::as_str).map(str::to_owned))
            .collect();
        if self.model == Model::RegId {
            if let Value::String(name) = self.store.display_name(self.model, self.id) {
                names.push(name);
            }
        }
        names
    }
}

/// Parses a JSON domain and checks every path against the model, as Odoo does before searching.
pub(crate) fn parse_domain(
    store: &Store,
    model: Model,
    value: Option<&Value>,
) -> Result<Domain, Fault> {
    let value = match value {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(Domain::True),
        Some(v) => v,
    };
    let domain =
        Domain::from_json(value).map_err(|e| Fault::value_error(format!("Invalid domain: {e}")))?;
    check(store, model, &domain)?;
    Ok(domain)
}

fn check(store: &Store, model: Model, domain: &Domain) -> Result<(), Fault> {
    match domain {
        Domain::True | Domain::False => Ok(()),
        Domain::Leaf(c) => check_leaf(store, model, c),
        Domain::And(a, b) | Domain::Or(a, b) => {
            check(store, model, a)?;
            check(store, model, b)
        }
        Domain::Not(a) => check(store, model, a),
    }
}

fn check_leaf(store: &Store, model: Model, c: &Criterion) -> Result<(), Fault> {
    let invalid = |m: Model, f: &str| {
        Fault::value_error(format!(
            "Invalid field {}.{f} in leaf {}",
            m.name(),
            Domain::Leaf(c.clone())
        ))
    };
    let mut current = model;
    let mut kind = Kind::Id;
    let parts: Vec<&str> = c.path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        kind = store
            .kind(current, part)
            .ok_or_else(|| invalid(current, part))?;
        if i + 1 < parts.len() {
            current = kind.target().ok_or_else(|| invalid(current, part))?;
        }
    }
    match (&c.value, c.operator) {
        (CriterionValue::Domain(sub), Operator::Any | Operator::NotAny) => match kind.target() {
            Some(target) => check(store, target, sub),
            None => Err(Fault::value_error(format!(
                "Operator '{}' applies to relational fields only",
                c.operator
            ))),
        },
        (CriterionValue::Domain(_), _) | (_, Operator::Any | Operator::NotAny) => {
            Err(Fault::value_error(format!(
                "Invalid domain: operator '{}' with this value",
                c.operator
            )))
        }
        _ => Ok(()),
    }
}

/// A sort order: `(field, descending)` keys, `id` last.
pub(crate) fn parse_order(
    store: &Store,
    model: Model,
    order: Option<&Value>,
) -> Result<Vec<(String, bool)>, Fault> {
    let text = match order {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(Vec::new()),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(Fault::value_error("Invalid \"order\" specified")),
    };
    let mut keys = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut words = part.split_whitespace();
        let field = words.next().unwrap_or_default().to_owned();
        let descending = match words.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => {
                return Err(Fault::value_error(format!(
                    "Invalid \"order\" specified ({text})"
                )));
            }
        };
        match store.kind(model, &field) {
            Some(kind) if !kind.is_relational() || matches!(kind, Kind::Many2one(_)) => {
                keys.push((field, descending))
            }
            _ => {
                return Err(Fault::value_error(format!(
                    "Invalid \"order\" specified ({text})"
                )));
            }
        }
    }
    Ok(keys)
}

/// The ids matching `domain`, sorted by `order`, after skipping `offset`, at most `limit`.
pub(crate) fn search(
    store: &Store,
    model: Model,
    domain: &Domain,
    order: &[(String, bool)],
    offset: usize,
    limit: Option<usize>,
) -> Vec<i64> {
    let limit = limit.unwrap_or(usize::MAX);
    let by_id_only = order.iter().all(|(f, _)| f == "id");
    let descending = order.first().is_some_and(|(_, d)| *d);
    let matching = candidates(store, model, domain, descending)
        .filter(|id| RowRef::get(store, model, *id).is_some_and(|r| domain.selects(&r)));
    if by_id_only {
        return matching.skip(offset).take(limit).collect();
    }
    let mut ids: Vec<i64> = matching.collect();
    ids.sort_by(|a, b| compare_rows(store, model, *a, *b, order));
    ids.into_iter().skip(offset).take(limit).collect()
}

fn compare_rows(store: &Store, model: Model, a: i64, b: i64, order: &[(String, bool)]) -> Ordering {
    let key = |id: i64, field: &str| RowRef::get(store, model, id).map(|r| r.value(field));
    for (field, descending) in order {
        let ord = sort_value(key(a, field)).partial_cmp(&sort_value(key(b, field)));
        let ord = ord.unwrap_or(Ordering::Equal);
        let ord = if *descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.cmp(&b)
}

/// A comparable key: empty values last (PostgreSQL's `NULLS LAST` for ascending order).
#[derive(PartialEq, PartialOrd)]
enum SortKey {
    Number(f64),
    Text(String),
    Unset,
}

fn sort_value(value: Option<Value>) -> SortKey {
    match value {
        Some(Value::Number(n)) => SortKey::Number(n.as_f64().unwrap_or(0.0)),
        Some(Value::Bool(true)) => SortKey::Number(1.0),
        Some(Value::String(s)) => SortKey::Text(s),
        _ => SortKey::Unset,
    }
}

/// The ids worth visiting, in id order: narrowed by the top-level conjunction where it can be.
fn candidates<'a>(
    store: &'a Store,
    model: Model,
    domain: &Domain,
    descending: bool,
) -> Box<dyn Iterator<Item = i64> + 'a> {
    let mut after = Bound::Unbounded;
    let mut only: Option<BTreeSet<i64>> = None;
    let mut narrow = |ids: BTreeSet<i64>| {
        only = Some(match only.take() {
            Some(previous) => previous.intersection(&ids).copied().collect(),
            None => ids,
        });
    };
    for c in conjuncts(domain) {
        let CriterionValue::Value(value) = &c.value else {
            continue;
        };
        match (c.path.as_str(), c.operator, value) {
            ("id", Operator::Gt, Value::Number(n)) => {
                if let Some(n) = n.as_i64() {
                    after = Bound::Excluded(bound_max(after, n));
                }
            }
            ("id", Operator::In, Value::Array(items)) => narrow(ints(items)),
            ("id", Operator::Eq, Value::Number(n)) => narrow(n.as_i64().into_iter().collect()),
            ("partner_id", Operator::In, Value::Array(items)) if model == Model::RegId => {
                let partners = ints(items);
                if partners.len() == items.len() {
                    narrow(partners.iter().flat_map(|p| store.reg_ids_of(*p)).collect());
                }
            }
            _ => {}
        }
    }
    let range: (Bound<i64>, Bound<i64>) = (after, Bound::Unbounded);
    match (only, descending) {
        (Some(ids), false) => Box::new(ids.into_iter().filter(move |id| range.contains(id))),
        (Some(ids), true) => Box::new(ids.into_iter().rev().filter(move |id| range.contains(id))),
        (None, false) => Box::new(store.table(model).range(range).map(|(id, _)| *id)),
        (None, true) => Box::new(store.table(model).range(range).rev().map(|(id, _)| *id)),
    }
}

fn bound_max(bound: Bound<i64>, n: i64) -> i64 {
    match bound {
        Bound::Excluded(m) => m.max(n),
        _ => n,
    }
}

fn ints(items: &[Value]) -> BTreeSet<i64> {
    items.iter().filter_map(Value::as_i64).collect()
}

/// The criteria of the domain's top-level conjunction.
fn conjuncts(domain: &Domain) -> Vec<&Criterion> {
    match domain {
        Domain::Leaf(c) => vec![c],
        Domain::And(a, b) => {
            let mut out = conjuncts(a);
            out.extend(conjuncts(b));
            out
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omc_core::fixture::synthetic;
    use serde_json::{Map, json};

    fn store(n: usize) -> Store {
        let mut store = Store::default();
        store.add_id_type("MOSIP VID", None);
        let vid = store.id_type_named("MOSIP VID");
        for seed in synthetic(n, 1) {
            store.seed(seed, vid, None);
        }
        store
    }

    #[test]
    fn keyset_and_id_lists_narrow_the_scan() {
        let store = store(1_000);
        let domain = Domain::openg2p_default().and(Domain::leaf("id", Operator::Gt, json!(990)));
        let visited: Vec<i64> = candidates(&store, Model::Partner, &domain, false).collect();
        assert_eq!(visited, (991..=1_000).collect::<Vec<_>>());
        let by_partner = Domain::from_json(&json!([["partner_id", "in", [3, 4]]])).unwrap();
        assert_eq!(
            candidates(&store, Model::RegId, &by_partner, false).count(),
            2
        );
        let either = Domain::from_json(&json!(["|", ["id", ">", 990], ["id", "=", 1]])).unwrap();
        assert_eq!(
            candidates(&store, Model::Partner, &either, false).count(),
            1_000
        );
        let page = search(&store, Model::Partner, &domain, &[], 0, Some(3));
        assert_eq!(page, [991, 992, 993]);
    }

    #[test]
    fn other_orders_sort_with_empty_values_last() {
        let mut store = store(5);
        let mut blank = Map::new();
        blank.insert("family_name".into(), Value::Bool(false));
        store.write(Model::Partner, &[2], &blank).unwrap();
        let order = parse_order(
            &store,
            Model::Partner,
            Some(&json!("family_name asc, id desc")),
        )
        .unwrap();
        let ids = search(&store, Model::Partner, &Domain::True, &order, 0, None);
        assert_eq!(ids.len(), 5);
        assert_eq!(ids.last(), Some(&2));
        assert!(parse_order(&store, Model::Partner, Some(&json!("nope"))).is_err());
    }
}
