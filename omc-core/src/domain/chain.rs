//! [`Chain`]: two or more terms joined by one binary operator, however the operator was grouped.

use super::Domain;

/// Two or more terms joined by one binary operator: the `"&"` of [`Domain::And`] or the `"|"`
/// of [`Domain::Or`].
///
/// Odoo's prefix form nests one level per operator: a 300-term OR is
/// `["|", "|", ..., A1, ..., A300]`, 299 levels deep as a tree of pairs. Both operators are
/// associative, so a run of one of them is one node here however it was grouped
/// (`["|", "|", A, B, C]` and `["|", A, "|", B, C]` are both a chain of `A`, `B`, `C`), as in
/// Odoo 17's own reading: walking a 100,000-term OR goes no deeper than walking a 2-term one.
///
/// A chain keeps where its operators were written (how many just before each term), so a
/// domain is written back exactly as it was read. A term is never a chain of the same operator
/// (it is merged into this one) nor an implicit AND list ([`Domain::All`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    terms: Vec<Domain>,
    /// How many of the chain's operators are written just before each term: one entry per
    /// term, summing to one less than the number of terms (`[n - 1, 0, ..., 0]` for Odoo's
    /// `["|", "|", ..., A1, ..., An]`).
    ops: Vec<usize>,
}

impl Chain {
    /// A chain from its parts, as the parser and [`join`] build them.
    pub(super) fn from_parts(terms: Vec<Domain>, ops: Vec<usize>) -> Self {
        debug_assert!(terms.len() >= 2 && terms.len() == ops.len());
        debug_assert_eq!(ops.iter().sum::<usize>() + 1, terms.len());
        Self { terms, ops }
    }

    /// The terms, in the order they are written.
    pub fn terms(&self) -> &[Domain] {
        &self.terms
    }

    /// Each term with how many of the chain's operators are written just before it.
    pub(super) fn parts(&self) -> impl Iterator<Item = (usize, &Domain)> {
        self.ops.iter().copied().zip(&self.terms)
    }

    /// This chain with each term passed through `f`, the operators where they were: for
    /// rewriting criteria. `f` keeps each term's shape (a term it returns should not be a chain
    /// of this chain's operator, nor an implicit AND list), or the chain is not what reading its
    /// JSON back gives.
    pub fn map(self, f: impl FnMut(Domain) -> Domain) -> Chain {
        Chain {
            terms: self.terms.into_iter().map(f).collect(),
            ops: self.ops,
        }
    }

    /// [`map`](Self::map) by reference.
    pub(super) fn map_ref(&self, f: impl FnMut(&Domain) -> Domain) -> Chain {
        Chain {
            terms: self.terms.iter().map(f).collect(),
            ops: self.ops.clone(),
        }
    }
}

/// Which binary operator a chain joins with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Joiner {
    /// `"&"`
    And,
    /// `"|"`
    Or,
}

impl Joiner {
    /// The domain of a chain joined by this operator.
    pub(super) fn wrap(self, chain: Chain) -> Domain {
        match self {
            Self::And => Domain::And(chain),
            Self::Or => Domain::Or(chain),
        }
    }

    /// The chain of `domain` when it is one joined by this operator.
    fn chain_of(self, domain: Domain) -> Result<Chain, Domain> {
        match (self, domain) {
            (Self::And, Domain::And(chain)) | (Self::Or, Domain::Or(chain)) => Ok(chain),
            (_, other) => Err(other),
        }
    }
}

/// `[op, ...a, ...b]` as reading its JSON gives it: a chain holding the terms of both sides,
/// merged when a side is itself a chain of `op`. The sides are normalised (no implicit AND
/// lists); the cost is the number of terms on the right.
pub(super) fn join(op: Joiner, a: Domain, b: Domain) -> Chain {
    let parts = |d: Domain| match op.chain_of(d) {
        Ok(chain) => (chain.terms, chain.ops),
        Err(term) => (vec![term], vec![0]),
    };
    let (mut terms, mut ops) = parts(a);
    let (more, more_ops) = parts(b);
    ops[0] += 1;
    terms.extend(more);
    ops.extend(more_ops);
    Chain::from_parts(terms, ops)
}
