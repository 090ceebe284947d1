//! Odoo domains: the filter language operators already write in OpenG2P.
//!
//! A domain is a list of criteria `[path, operator, value]` combined in prefix notation by `"&"`
//! (implicit between consecutive terms), `"|"` and `"!"`. [`Domain`] is the parsed tree:
//!
//! - [`Domain::parse`] reads Odoo's JSON text or the Python-literal form operators paste from
//!   Odoo (`True`, `None`, single quotes, tuples); [`Domain::from_json`] a decoded value. A
//!   broken filter is refused with the position and the problem ([`DomainError`]).
//! - [`Domain::to_json`] writes the operator's own structure back: parsing a domain and writing it
//!   gives the same JSON (operators in Odoo's lower-case spelling; `<>` is written `!=`).
//!   [`Domain::normalize`] is Odoo's normal form (every `&` explicit); [`Domain::canonical`] is
//!   its compact text, for logs and reports.
//! - [`Domain::validate`] checks fields, relations and value types against a [`FieldModel`]
//!   (OpenG2P's models by [`FieldModel::openg2p`], extended by embedders with their own fields).
//! - [`Domain::and`] adds criteria without changing the operator's meaning: both sides are
//!   normalised and joined by an explicit `"&"`, as Odoo's own `AND` does.
//! - [`Domain::matches`] and [`Domain::selects`] evaluate a domain over a [`Record`] with Odoo
//!   17's semantics, so the in-memory registry, the Odoo emulator and an embedder's registry give
//!   exactly the registrants Odoo would give.
//!
//! A run of one of `"&"` and `"|"` is one [`Chain`] node however long and however grouped, as
//! Odoo 17 reads it: a 100,000-term OR (`["|", "|", ..., A1, ..., A100000]`) is parsed, written,
//! normalised, validated and evaluated without recursing once per operator. Only nesting of
//! different operators and `any` sub-domains counts toward [`MAX_DEPTH`] and
//! [`MAX_SUB_DOMAINS`]; deeper filters are refused naming the element (Odoo 17 itself fails
//! with a `RecursionError` at 483 levels of alternating `"&"` and `"|"`; and, measured here,
//! PostgreSQL refuses the SQL Odoo writes for an OR of 10,000 terms, not of 8,000).
//!
//! # What OMC adds to an operator's filter
//!
//! The filter is the operator's: OpenG2P's default unless configured. OMC never rewrites it; it
//! only narrows it with criteria of its own, each ANDed by [`Domain::and`] after normalising:
//!
//! - **Keyset paging**: `["id", ">", last]` per page, so a run never rescans the registry.
//! - **The delta window**, for a delta run: [`Domain::written_since`].
//! - **A partition**, when several instances share a registry: [`Domain::id_between`] or
//!   [`Domain::id_in`].
//! - **Holding a VID**, always: [`Domain::for_connector`] is the operator's filter AND "holds an
//!   id of the VID type" (a `reg_ids` `any` criterion on the configured type name, compared
//!   exactly). A registrant without a VID can never be sent, and a tokenised one loses its VID,
//!   so without it a filter that does not say so (`[["is_registrant", "=", true]]`) would read
//!   every finished registrant again on every run. It does not add "holds no token": a
//!   registrant holding both must still reach the engine, which removes its VID.
//!
//! Whatever the filter says and however a registry evaluates it, the engine sends a registrant
//! only when its page shows it holding a VID and no token: a filter can narrow what is sent,
//! never widen it to a registrant that is done or cannot be sent.
//!
//! # Semantics (Odoo 17)
//!
//! Each rule below was checked against a real Odoo 17 + OpenG2P (the conformance table in
//! `conformance::domain` (feature `conformance`) holds the measured answers).
//!
//! `=` with `false` matches empty values (on a boolean, `false` and empty); `!=` with `false`
//! means "is set". `!=`, `not in`, `not like` and `not ilike` keep empty values, but `!=` only
//! for a value that is true in Python: `!= ""` and `!= 0` leave empty values out. `<`, `>`,
//! `<=`, `>=` never match empty values (an unset boolean is empty, not `false`). `=?` with
//! `false`/`null` matches everything. `like`/`ilike` match a substring, `=like`/`=ilike` the
//! SQL pattern itself; `like`/`ilike` with `""` or `false` match everything, empty values too,
//! and `not like ""` only empty values. `in`/`not in` with `false` in the list also
//! match/exclude empty values; with a boolean instead of a list they act as `=`/`!=`, and
//! `=`/`!=` with a list act as `in`/`not in`; but a domain that is false in Odoo's three-valued
//! `is_false` (an `in` with `false`, `null` or `[]` that decides the whole domain, as
//! `[["gender", "in", false]]`) finds nothing.
//!
//! A value is converted to its field's type when the [`Record`] names it
//! ([`Record::field_type`]): text to a number for number fields, Python's truth for booleans
//! (`"false"` is true), a date written with a time or in another form to that day, as
//! PostgreSQL reads it ([`parse_date`]).
//!
//! A dotted path through a relation holds when **any** related record satisfies the rest of it
//! (for every operator); a many2one or x2many compared with a string compares the related
//! records' names (Odoo's name search: `g2p.id.type` by `name`; `res.partner` by name, email and
//! reference; `g2p.reg.id` by its registrant's), `<`, `>`, `<=`, `>=` against a name acting as
//! `=`, and compared with integers their ids. `"!"` is pushed into a criterion the way Odoo
//! pushes it (`"!", ["income", "<", 10]` is `income >= 10`, which leaves out an empty income);
//! in front of `=?`, `=like` and `=ilike` it stays a SQL `NOT`, so empty values drop out; over a
//! dotted path it means "no related record satisfies it". Archived records (`active = false`)
//! are left out unless the domain mentions `active` at its top level. Operators are lower
//! case only (Odoo refuses `LIKE`); `=like` on a boolean or number field is refused by
//! [`Domain::validate`], as Odoo fails on it. `child_of` and `parent_of` are refused.

mod chain;
mod convert;
mod error;
mod eval;
mod model;
mod odoo_fields;
mod operator;
mod parse;
mod python;
mod validate;
mod write;

pub use chain::Chain;
pub use convert::parse_date;
pub use error::{DomainError, Position};
pub use eval::Record;
pub use model::{FieldModel, FieldType};
pub use odoo_fields::{FieldsGetError, ROOT_MODELS};
pub use operator::Operator;
pub use parse::{MAX_DEPTH, MAX_SUB_DOMAINS};
pub use validate::{DomainProblem, FilterError, ProblemKind};

use crate::registry::IdTypes;
use chain::{Joiner, join};
use serde_json::{Value, json};
use std::fmt;

/// One criterion `[path, operator, value]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Criterion {
    /// A field name, or a dotted path through relations (`reg_ids.id_type`).
    pub path: String,
    /// The operator.
    pub operator: Operator,
    /// The value: a JSON value, or for `any`/`not any` a sub-domain.
    pub value: CriterionValue,
}

/// The right-hand side of a criterion.
#[derive(Debug, Clone, PartialEq)]
pub enum CriterionValue {
    /// A JSON value (`true`, `false`, `null`, numbers, strings, lists).
    Value(Value),
    /// A sub-domain (for `any` and `not any`).
    Domain(Box<Domain>),
}

/// A parsed domain: a tree of criteria.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// Matches everything (Odoo's `TRUE_LEAF`, `[1, "=", 1]`).
    True,
    /// Matches nothing (Odoo's `FALSE_LEAF`, `[0, "=", 1]`).
    False,
    /// One criterion.
    Leaf(Criterion),
    /// All of two or more terms, joined by explicit `"&"`s: one node however many (see
    /// [`Chain`]).
    And(Chain),
    /// Any of two or more terms, joined by `"|"`s: one node however many (see [`Chain`]).
    Or(Chain),
    /// Not (`"!"`).
    Not(Box<Domain>),
    /// Consecutive terms of a list, implicitly AND-ed: `[A, B, C]`; the empty domain `[]` (which
    /// matches everything) is `All(vec![])`. Kept as written so the JSON round-trips exactly.
    All(Vec<Domain>),
}

impl Default for Domain {
    fn default() -> Self {
        Self::openg2p_default()
    }
}

impl Domain {
    /// The default filter of OpenG2P's own MTS connector: registrants with a VID and no token.
    pub fn openg2p_default() -> Self {
        Self::from_json(&json!([
            ["is_registrant", "=", true],
            ["reg_ids.id_type", "=like", "MOSIP VID"],
            "!",
            ["reg_ids.id_type", "=like", "MOSIP UIN TOKEN"]
        ]))
        .expect("the default filter is well formed")
    }

    /// A single criterion.
    pub fn leaf(path: impl Into<String>, operator: Operator, value: Value) -> Self {
        Self::Leaf(Criterion {
            path: path.into(),
            operator,
            value: CriterionValue::Value(value),
        })
    }

    /// `[path, "any" | "not any", sub]`.
    pub fn any(path: impl Into<String>, negated: bool, sub: Domain) -> Self {
        Self::Leaf(Criterion {
            path: path.into(),
            operator: if negated {
                Operator::NotAny
            } else {
                Operator::Any
            },
            value: CriterionValue::Domain(Box::new(sub)),
        })
    }

    /// Registrants written (created or changed) at or after `stamp`, Odoo's UTC
    /// `"YYYY-MM-DD HH:MM:SS"`: the delta window.
    pub fn written_since(stamp: &str) -> Self {
        Self::leaf("write_date", Operator::Ge, json!(stamp))
    }

    /// Registrants whose id is in `first..=last`: a partition by range.
    pub fn id_between(first: i64, last: i64) -> Self {
        Self::leaf("id", Operator::Ge, json!(first)).and(Self::leaf(
            "id",
            Operator::Le,
            json!(last),
        ))
    }

    /// Registrants with one of these ids.
    pub fn id_in(ids: &[i64]) -> Self {
        Self::leaf("id", Operator::In, json!(ids))
    }

    /// Registrants holding an id of the type named `type_name`.
    pub fn holds_id_type(type_name: &str) -> Self {
        Self::any(
            "reg_ids",
            false,
            Self::leaf("id_type", Operator::Eq, json!(type_name)),
        )
    }

    /// This (operator's) filter with what OMC adds to every query on its own: holding an id of
    /// the VID type (see the module documentation for why, and what it does not add).
    pub fn for_connector(&self, id_types: &IdTypes) -> Self {
        self.clone().and(Self::holds_id_type(&id_types.vid))
    }

    /// Parses Odoo's JSON text form, or the Python-literal form (`[('active', '=', True)]`).
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => Self::from_json(&value),
            // The Python reader accepts JSON too, and says where the text went wrong.
            Err(_) => Self::from_json(&python::parse(text)?),
        }
    }

    /// Parses a filter and checks it against `model` (fields of `root_model`): the one call a
    /// connector makes before anything is sent.
    pub fn parse_checked(
        text: &str,
        model: &FieldModel,
        root_model: &str,
    ) -> Result<Self, FilterError> {
        let domain = Self::parse(text).map_err(FilterError::Parse)?;
        domain
            .validate(model, root_model)
            .map_err(FilterError::Invalid)?;
        Ok(domain)
    }

    /// Parses an already decoded JSON domain.
    pub fn from_json(value: &Value) -> Result<Self, DomainError> {
        parse::from_json(value)
    }

    /// Odoo's JSON form, with the structure it was written in.
    pub fn to_json(&self) -> Value {
        write::to_json(self)
    }

    /// Odoo's normal form: every implicit `"&"` made explicit (`[A, B, C]` is
    /// `["&", "&", A, B, C]`), in sub-domains too; the empty domain is `[[1, "=", 1]]`. It
    /// matches exactly the records this domain matches.
    pub fn normalize(&self) -> Domain {
        write::normalize(self)
    }

    /// The canonical JSON text: the normal form, compact, for logs and reports.
    pub fn canonical(&self) -> String {
        self.normalize().to_json().to_string()
    }

    /// Both this domain and `other`, without changing either's meaning: both normalised and
    /// joined by `"&"` (`[]` and `[[1, "=", 1]]` leave the other side as it is).
    pub fn and(self, other: Domain) -> Domain {
        match (self.is_trivially_true(), other.is_trivially_true()) {
            (true, _) => other,
            (_, true) => self,
            _ => Self::And(join(Joiner::And, self.normalize(), other.normalize())),
        }
    }

    /// Either this domain or `other`, both normalised.
    pub fn or(self, other: Domain) -> Domain {
        Self::Or(join(Joiner::Or, self.normalize(), other.normalize()))
    }

    fn is_trivially_true(&self) -> bool {
        match self {
            Self::True => true,
            Self::All(terms) => terms.iter().all(Self::is_trivially_true),
            _ => false,
        }
    }

    /// Whether a criterion at this domain's top level (not inside an `any` sub-domain) has
    /// the path `field` or a path starting with `field.`; Odoo keeps archived records only
    /// when the domain mentions `active` this way.
    pub fn mentions(&self, field: &str) -> bool {
        match self {
            Self::True | Self::False => false,
            Self::Leaf(c) => c.path.split('.').next() == Some(field),
            Self::And(chain) | Self::Or(chain) => chain.terms().iter().any(|t| t.mentions(field)),
            Self::Not(a) => a.mentions(field),
            Self::All(terms) => terms.iter().any(|t| t.mentions(field)),
        }
    }

    /// Every problem of this domain against `model`, each with its element's position: unknown
    /// fields (with the closest existing name), paths through fields that are not relations,
    /// values of the wrong type for their field.
    pub fn validate(&self, model: &FieldModel, root_model: &str) -> Result<(), Vec<DomainProblem>> {
        validate::validate(self, model, root_model)
    }

    /// Whether `record` satisfies this domain, as Odoo 17 would decide it.
    ///
    /// This does not apply the archived-record rule; see [`Domain::selects`].
    pub fn matches(&self, record: &dyn Record) -> bool {
        eval::matches(self, record)
    }

    /// Whether a search with this domain returns `record`: [`matches`](Domain::matches) plus
    /// Odoo's rule that archived records (`active = false`) are left out unless the domain
    /// mentions `active`. A record without an `active` value (a model without the field) counts
    /// as active.
    pub fn selects(&self, record: &dyn Record) -> bool {
        if !self.mentions("active") && record.value("active") == Value::Bool(false) {
            return false;
        }
        self.matches(record)
    }
}

impl fmt::Display for Domain {
    /// The canonical form (domains hold no personal data unless an operator wrote some).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl serde::Serialize for Domain {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Domain {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        match value {
            // Odoo stores domains as text: accept both, and the Python-literal form.
            Value::String(text) => Self::parse(&text),
            other => Self::from_json(&other),
        }
        .map_err(serde::de::Error::custom)
    }
}
