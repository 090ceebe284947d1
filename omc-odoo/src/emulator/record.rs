//! Emulator rows as [`omc_core::domain::Record`]s, domain checking, and searching.
//!
//! A search walks the model's rows lazily in id order and stops at `limit`: when the domain's
//! top-level conjunction holds `["id", ">", n]`, `["id", "in", ids]` or (on `g2p.reg.id`)
//! `["partner_id", "in", ids]`, only those rows are visited, so keyset paging through a large
//! registry never rescans it.

use super::clock::is_date;
use super::schema::{Fault, Kind, Model};
use super::store::{Row, Store, many2one_id};
use omc_core::Domain;
use omc_core::domain::{Criterion, CriterionValue, DomainError, FieldType, Operator, Record};
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

    fn field_type(&self, field: &str) -> Option<FieldType> {
        Some(match self.store.kind(self.model, field)? {
            Kind::Id => FieldType::Integer,
            Kind::DisplayName | Kind::Char => FieldType::Char,
            Kind::Bool => FieldType::Boolean,
            Kind::Number => FieldType::Float,
            Kind::Date => FieldType::Date,
            Kind::Datetime => FieldType::Datetime,
            Kind::Many2one(m) => FieldType::Many2one(m.name().to_owned()),
            Kind::One2many(m) => FieldType::One2many(m.name().to_owned()),
        })
    }

    /// Odoo's name search: `res.partner` by name, email and reference; `g2p.reg.id` (OpenG2P's
    /// `_name_search`) by its registrant's; `g2p.id.type` by name.
    fn search_names(&self) -> Vec<String> {
        if self.model == Model::RegId {
            return self
                .related("partner_id")
                .unwrap_or_default()
                .iter()
                .flat_map(|partner| partner.search_names())
                .collect();
        }
        let fields: &[&str] = match self.model {
            Model::Partner => &["name", "email", "ref"],
            _ => &["name"],
        };
        fields
            .iter()
            .filter_map(|f| self.row.get(*f).and_then(Value::as_str).map(str::to_owned))
            .collect()
    }
}

/// Parses a JSON domain and checks every path against the model, as Odoo does before searching,
/// refusing a malformed one with the exception and message Odoo 17 raises for it.
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
        Domain::from_json(value).map_err(|e| match hierarchy(store, model, value, &e) {
            Some(fault) => fault,
            None => refusal(value, &e),
        })?;
    check_list(store, model, &domain)?;
    Ok(datetimes(store, model, domain))
}

/// The kind of the field a (checked) path ends on.
fn field_kind(store: &Store, model: Model, path: &str) -> Option<Kind> {
    let mut current = model;
    let mut kind = None;
    for part in path.split('.') {
        if let Some(previous) = kind {
            current = Kind::target(previous)?;
        }
        kind = Some(store.kind(current, part)?);
    }
    kind
}

/// Odoo's reading of a datetime criterion's text before PostgreSQL compares it: a date alone
/// is its first second, or its last for `>` and `<=`; an ISO `T` between date and time reads
/// as a space. Other stored datetimes compare as text, which orders as time does.
fn datetimes(store: &Store, model: Model, domain: Domain) -> Domain {
    let boxed = |d: Box<Domain>| Box::new(datetimes(store, model, *d));
    match domain {
        Domain::Leaf(mut c) => {
            let kind = field_kind(store, model, &c.path);
            match (&mut c.value, kind) {
                (CriterionValue::Domain(sub), Some(kind)) => {
                    if let Some(target) = kind.target() {
                        let inner = std::mem::replace(sub.as_mut(), Domain::True);
                        **sub = datetimes(store, target, inner);
                    }
                }
                (CriterionValue::Value(Value::String(text)), Some(Kind::Datetime)) => {
                    if is_date(text) {
                        let suffix = match c.operator {
                            Operator::Gt | Operator::Le => " 23:59:59",
                            _ => " 00:00:00",
                        };
                        text.push_str(suffix);
                    } else if text.len() > 10
                        && text.get(..10).is_some_and(is_date)
                        && text.as_bytes()[10] == b'T'
                    {
                        text.replace_range(10..11, " ");
                    }
                }
                _ => {}
            }
            Domain::Leaf(c)
        }
        Domain::And(chain) => Domain::And(chain.map(|t| datetimes(store, model, t))),
        Domain::Or(chain) => Domain::Or(chain.map(|t| datetimes(store, model, t))),
        Domain::Not(a) => Domain::Not(boxed(a)),
        Domain::All(terms) => Domain::All(
            terms
                .into_iter()
                .map(|t| datetimes(store, model, t))
                .collect(),
        ),
        other @ (Domain::True | Domain::False) => other,
    }
}

/// `child_of` and `parent_of`, which the emulator does not evaluate: it holds no `parent_id`,
/// so it answers as Odoo 17 answers on a model without one (`KeyError: 'parent_id'`), or, on
/// a field that is neither `id` nor a relation, with Odoo's own `KeyError` for the operator.
fn hierarchy(store: &Store, model: Model, domain: &Value, error: &DomainError) -> Option<Fault> {
    let DomainError::UnsupportedOperator { at, operator } = error else {
        return None;
    };
    let path = element_at(domain, &at.0)?.get(0)?.as_str()?;
    let mut current = model;
    let parts: Vec<&str> = path.split('.').collect();
    for part in &parts[..parts.len() - 1] {
        current = store.kind(current, part)?.target()?;
    }
    let last = store.kind(current, parts[parts.len() - 1])?;
    Some(match last {
        Kind::Id | Kind::Many2one(_) | Kind::One2many(_) => Fault::key_error("parent_id"),
        _ => Fault::key_error(*operator),
    })
}

/// What Odoo 17 raises for `=like`/`=ilike` on a boolean or number field: it converts the
/// pattern to the column's type, and PostgreSQL has no LIKE between text and that type.
fn pattern_on_non_text(kind: Kind, op: Operator, value: &Value) -> Option<Fault> {
    let like = match op {
        Operator::EqLike => "~~",
        Operator::EqIlike => "~~*",
        _ => return None,
    };
    let column = match kind {
        Kind::Bool => "boolean",
        Kind::Number => "numeric",
        Kind::Id => "integer",
        _ => return None,
    };
    if let (Kind::Number, Value::String(text)) = (kind, value)
        && text.trim().parse::<f64>().is_err()
    {
        return Some(Fault::value_error(format!(
            "could not convert string to float: {}",
            python_repr(value)
        )));
    }
    Some(Fault::server_named(
        "psycopg2.errors.UndefinedFunction",
        format!("operator does not exist: text {like} {column}"),
    ))
}

/// Odoo's exception for a domain its `expression` module cannot read.
fn refusal(domain: &Value, error: &DomainError) -> Fault {
    let element = error.position().and_then(|at| element_at(domain, &at.0));
    let shown = element.map(python_repr).unwrap_or_default();
    match error {
        DomainError::NotAList { at, .. } if at.0.is_empty() => Fault::value_error(
            "Domains to normalize must have a 'domain' form: a list or tuple of domain components",
        ),
        DomainError::MissingOperands { at, .. } => {
            // Odoo names the (sub-)domain list the operator sits in.
            let list = match at.0.split_last() {
                Some((_, [])) | None => Some(domain),
                Some((_, parent)) => element_at(domain, parent).and_then(|leaf| leaf.get(2)),
            };
            Fault::value_error(format!(
                "Domain {} is syntactically not correct.",
                list.map(python_repr).unwrap_or_default()
            ))
        }
        DomainError::BadElement { .. } if matches!(element, Some(Value::Object(_))) => {
            Fault::type_error("unhashable type: 'dict'")
        }
        DomainError::BadCriterion { .. } if element.is_some_and(is_well_formed_leaf) => {
            Fault::value_error(format!("Invalid domain term {}", leaf_repr(element)))
        }
        DomainError::BadElement { .. }
        | DomainError::BadCriterion { .. }
        | DomainError::UnknownOperator { .. } => {
            Fault::value_error(format!("Invalid leaf {}", leaf_repr(element)))
        }
        DomainError::TooDeep { .. } => Fault::server_named(
            "builtins.RecursionError",
            "maximum recursion depth exceeded",
        ),
        other => Fault::value_error(format!("Invalid domain: {other} {shown}")),
    }
}

/// A criterion Odoo's `is_leaf` accepts: three parts, a field name, a known operator.
fn is_well_formed_leaf(element: &Value) -> bool {
    match element.as_array().map(Vec::as_slice) {
        Some([Value::String(field), Value::String(op), _]) => {
            !field.is_empty() && Operator::parse(op).is_some()
        }
        _ => false,
    }
}

/// The element at a position (indices into the list, then into an `any` sub-domain).
fn element_at<'a>(domain: &'a Value, path: &[usize]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let element = domain.as_array()?.get(*first)?;
    if rest.is_empty() {
        return Some(element);
    }
    element_at(element.as_array()?.get(2)?, rest)
}

/// A leaf as Python prints a tuple (Odoo turns a domain's terms into tuples).
fn leaf_repr(element: Option<&Value>) -> String {
    match element {
        Some(Value::Array(parts)) => {
            let inner: Vec<String> = parts.iter().map(python_repr).collect();
            match inner.len() {
                1 => format!("({},)", inner[0]),
                _ => format!("({})", inner.join(", ")),
            }
        }
        // Python's `str` of a string is the string itself.
        Some(Value::String(s)) => s.clone(),
        Some(other) => python_repr(other),
        None => String::new(),
    }
}

/// A JSON value as Python's `repr` prints it.
fn python_repr(value: &Value) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            let quote = if s.contains('\'') && !s.contains('"') {
                '"'
            } else {
                '\''
            };
            let mut out = String::from(quote);
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    '\r' => out.push_str("\\r"),
                    c if c == quote => {
                        out.push('\\');
                        out.push(c);
                    }
                    c => out.push(c),
                }
            }
            out.push(quote);
            out
        }
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(python_repr).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!(
                    "{}: {}",
                    python_repr(&Value::from(k.as_str())),
                    python_repr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn check_list(store: &Store, model: Model, domain: &Domain) -> Result<(), Fault> {
    match domain {
        Domain::True | Domain::False => Ok(()),
        Domain::Leaf(c) => check_leaf(store, model, c),
        Domain::And(chain) | Domain::Or(chain) => chain
            .terms()
            .iter()
            .try_for_each(|t| check_list(store, model, t)),
        Domain::Not(a) => check_list(store, model, a),
        Domain::All(terms) => terms.iter().try_for_each(|t| check_list(store, model, t)),
    }
}

fn check_leaf(store: &Store, model: Model, c: &Criterion) -> Result<(), Fault> {
    let leaf = || {
        let value = match &c.value {
            CriterionValue::Value(v) => v.clone(),
            CriterionValue::Domain(d) => d.to_json(),
        };
        leaf_repr(Some(&serde_json::json!([
            c.path,
            c.operator.as_str(),
            value
        ])))
    };
    let invalid = |m: Model, f: &str| {
        Fault::value_error(format!("Invalid field {}.{f} in leaf {}", m.name(), leaf()))
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
            Some(target) => check_list(store, target, sub),
            None => Err(Fault::value_error(format!(
                "Invalid domain term {}: operator '{}' applies to relational fields only",
                leaf(),
                c.operator
            ))),
        },
        (CriterionValue::Domain(_), _) | (_, Operator::Any | Operator::NotAny) => Err(
            Fault::value_error(format!("Invalid domain term {}", leaf())),
        ),
        (CriterionValue::Value(value), op) => match pattern_on_non_text(kind, op, value) {
            Some(fault) => Err(fault),
            None => Ok(()),
        },
    }
}

/// A sort order: `(field, descending)` keys, `id` last.
pub(crate) fn parse_order(
    store: &Store,
    model: Model,
    order: Option<&Value>,
) -> Result<Vec<(String, bool)>, Fault> {
    let default = || {
        model
            .default_order()
            .iter()
            .map(|(field, descending)| ((*field).to_owned(), *descending))
            .collect()
    };
    let text = match order {
        None | Some(Value::Null) | Some(Value::Bool(false)) => return Ok(default()),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(default()),
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

/// The ids matching `domain`, sorted by `order`, after skipping `offset`, at most `limit`;
/// archived records only when the domain mentions `active` or `active_test` is false (the
/// context flag of Odoo's search).
pub(crate) fn search(
    store: &Store,
    model: Model,
    domain: &Domain,
    order: &[(String, bool)],
    window: (usize, Option<usize>),
    active_test: bool,
) -> Vec<i64> {
    let (offset, limit) = (window.0, window.1.unwrap_or(usize::MAX));
    let by_id_only = order.iter().all(|(f, _)| f == "id");
    let descending = order.first().is_some_and(|(_, d)| *d);
    let keeps = |r: &RowRef<'_>| {
        if active_test {
            domain.selects(r)
        } else {
            domain.matches(r)
        }
    };
    let matching = candidates(store, model, domain, descending)
        .filter(|id| RowRef::get(store, model, *id).is_some_and(|r| keeps(&r)));
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
            ("value", Operator::In, Value::Array(items))
                if model == Model::RegId && items.iter().all(Value::is_string) =>
            {
                narrow(
                    items
                        .iter()
                        .filter_map(Value::as_str)
                        .flat_map(|v| store.reg_ids_with_value(v))
                        .collect(),
                );
            }
            ("value", Operator::Eq, Value::String(v)) if model == Model::RegId => {
                narrow(store.reg_ids_with_value(v).collect());
            }
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
        Domain::And(chain) => chain.terms().iter().flat_map(conjuncts).collect(),
        Domain::All(terms) => terms.iter().flat_map(conjuncts).collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omc_core::testing::synthetic;
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
        let page = search(&store, Model::Partner, &domain, &[], (0, Some(3)), true);
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
        let ids = search(
            &store,
            Model::Partner,
            &Domain::True,
            &order,
            (0, None),
            true,
        );
        assert_eq!(ids.len(), 5);
        assert_eq!(ids.last(), Some(&2));
        assert!(parse_order(&store, Model::Partner, Some(&json!("nope"))).is_err());
    }
}
