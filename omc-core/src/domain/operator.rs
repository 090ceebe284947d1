//! The comparison operators of a criterion.

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

    /// Parses Odoo's spelling, and `<>` for `!=`. Only lower case: Odoo 17 refuses `LIKE` or
    /// `In` as an invalid leaf (measured) before it would lower-case them.
    pub fn parse(text: &str) -> Option<Self> {
        if text == "<>" {
            return Some(Self::Ne);
        }
        Self::ALL.into_iter().find(|op| op.as_str() == text)
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

    /// The operator Odoo puts in place of this one when it pushes a `"!"` into a criterion
    /// (its `TERM_OPERATORS_NEGATION`), or `None` when it keeps the `"!"` in front
    /// (`=?`, `=like`, `=ilike`).
    ///
    /// Not always a boolean negation: `"!", ["income", "<", 10]` becomes `income >= 10`,
    /// which leaves out registrants with no income at all.
    pub fn complement(self) -> Option<Self> {
        Some(match self {
            Self::Lt => Self::Ge,
            Self::Gt => Self::Le,
            Self::Le => Self::Gt,
            Self::Ge => Self::Lt,
            Self::Eq => Self::Ne,
            Self::Ne => Self::Eq,
            Self::In => Self::NotIn,
            Self::NotIn => Self::In,
            Self::Like => Self::NotLike,
            Self::NotLike => Self::Like,
            Self::Ilike => Self::NotIlike,
            Self::NotIlike => Self::Ilike,
            Self::Any => Self::NotAny,
            Self::NotAny => Self::Any,
            Self::EqOrUnset | Self::EqLike | Self::EqIlike => return None,
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
