//! Odoo domains: the filter language operators already write in OpenG2P.
//!
//! A domain is a list of criteria `[path, operator, value]` combined in prefix notation by `"&"`
//! (implicit between consecutive terms), `"|"` and `"!"`. [`Domain`] is the parsed tree;
//! [`Domain::parse`] reads Odoo's JSON form and [`Domain::to_json`] writes it back;
//! [`Domain::matches`] evaluates it over a [`Record`] with Odoo 17's semantics.

mod eval;
mod parse;

pub use eval::Record;
pub use parse::DomainError;

use serde_json::{Value, json};
use std::fmt;

/// A comparison operator of Odoo's domain language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operator {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `=?`: true when the value is false/null, `=` otherwise.
    EqOrUnset,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `like`: substring, case-sensitive.
    Like,
    /// `not like`
    NotLike,
    /// `ilike`: substring, case-insensitive.
    Ilike,
    /// `not ilike`
    NotIlike,
    /// `=like`: the value is the SQL pattern itself.
    EqLike,
    /// `=ilike`: the value is the SQL pattern itself, case-insensitive.
    EqIlike,
    /// `any`: a sub-domain on the related records.
    Any,
    /// `not any`
    NotAny,
}

impl Operator {
    /// Every operator, in the order Odoo documents them.
    pub const ALL: [Operator; 17] = [
        Self::Eq,
        Self::Ne,
        Self::Lt,
        Self::Le,
        Self::Gt,
        Self::Ge,
        Self::EqOrUnset,
        Self::In,
        Self::NotIn,
        Self::Like,
        Self::NotLike,
        Self::Ilike,
        Self::NotIlike,
        Self::EqLike,
        Self::EqIlike,
        Self::Any,
        Self::NotAny,
    ];

    /// The operator as Odoo spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "!=",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
            Self::EqOrUnset => "=?",
            Self::In => "in",
            Self::NotIn => "not in",
            Self::Like => "like",
            Self::NotLike => "not like",
            Self::Ilike => "ilike",
            Self::NotIlike => "not ilike",
            Self::EqLike => "=like",
            Self::EqIlike => "=ilike",
            Self::Any => "any",
            Self::NotAny => "not any",
        }
    }

    /// Parses Odoo's spelling (Odoo accepts upper case too, and `<>` for `!=`).
    pub fn parse(text: &str) -> Option<Self> {
        let lower = text.to_ascii_lowercase();
        if lower == "<>" {
            return Some(Self::Ne);
        }
        Self::ALL.into_iter().find(|op| op.as_str() == lower)
    }

    /// The positive operator this one negates, for `!=`, `not in`, `not like`, `not ilike`
    /// and `not any`.
    pub fn negated_of(self) -> Option<Self> {
        match self {
            Self::Ne => Some(Self::Eq),
            Self::NotIn => Some(Self::In),
            Self::NotLike => Some(Self::Like),
            Self::NotIlike => Some(Self::Ilike),
            Self::NotAny => Some(Self::Any),
            _ => None,
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// Matches everything (the empty domain `[]`, Odoo's `TRUE_LEAF`).
    True,
    /// Matches nothing (Odoo's `FALSE_LEAF`).
    False,
    /// One criterion.
    Leaf(Criterion),
    /// Both (`"&"`).
    And(Box<Domain>, Box<Domain>),
    /// Either (`"|"`).
    Or(Box<Domain>, Box<Domain>),
    /// Not (`"!"`).
    Not(Box<Domain>),
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

    /// Parses Odoo's JSON text form.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        parse::parse_text(text)
    }

    /// Parses an already decoded JSON domain.
    pub fn from_json(value: &Value) -> Result<Self, DomainError> {
        parse::from_json(value)
    }

    /// Odoo's JSON form, in prefix notation with explicit operators only where needed.
    pub fn to_json(&self) -> Value {
        let mut out = Vec::new();
        self.write_prefix(&mut out);
        Value::Array(out)
    }

    fn write_prefix(&self, out: &mut Vec<Value>) {
        match self {
            Self::True => {
                // Odoo's TRUE_LEAF: (1, '=', 1).
                out.push(json!([1, "=", 1]));
            }
            Self::False => out.push(json!([0, "=", 1])),
            Self::Leaf(c) => out.push(json!([
                c.path,
                c.operator.as_str(),
                match &c.value {
                    CriterionValue::Value(v) => v.clone(),
                    CriterionValue::Domain(d) => d.to_json(),
                }
            ])),
            Self::And(a, b) => {
                out.push(json!("&"));
                a.write_prefix(out);
                b.write_prefix(out);
            }
            Self::Or(a, b) => {
                out.push(json!("|"));
                a.write_prefix(out);
                b.write_prefix(out);
            }
            Self::Not(a) => {
                out.push(json!("!"));
                a.write_prefix(out);
            }
        }
    }

    /// Both this domain and `other`, without changing either's meaning.
    pub fn and(self, other: Domain) -> Domain {
        match (self, other) {
            (Self::True, d) | (d, Self::True) => d,
            (a, b) => Self::And(Box::new(a), Box::new(b)),
        }
    }

    /// Whether any criterion's path starts with `field` (Odoo keeps archived records only
    /// when the domain mentions `active`).
    pub fn mentions(&self, field: &str) -> bool {
        match self {
            Self::True | Self::False => false,
            Self::Leaf(c) => c.path.split('.').next() == Some(field),
            Self::And(a, b) | Self::Or(a, b) => a.mentions(field) || b.mentions(field),
            Self::Not(a) => a.mentions(field),
        }
    }

    /// Whether `record` satisfies this domain, as Odoo 17 would decide it.
    ///
    /// This does not apply the archived-record rule; see [`Domain::selects`].
    pub fn matches(&self, record: &dyn Record) -> bool {
        eval::matches(self, record)
    }

    /// Whether a search with this domain returns `record`: [`matches`](Domain::matches) plus
    /// Odoo's rule that archived records (`active = false`) are left out unless the domain
    /// mentions `active`.
    pub fn selects(&self, record: &dyn Record) -> bool {
        if !self.mentions("active") && record.value("active") == Value::Bool(false) {
            return false;
        }
        self.matches(record)
    }
}

impl fmt::Display for Domain {
    /// The canonical JSON form (domains hold no personal data unless an operator wrote some).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_json())
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
        let value = match value {
            // Odoo stores domains as text: accept both.
            Value::String(text) => serde_json::from_str(&text).map_err(serde::de::Error::custom)?,
            other => other,
        };
        Self::from_json(&value).map_err(serde::de::Error::custom)
    }
}
