//! [`IdSet`]: a compact set of registrant ids, for the receiver's record of whom the connector
//! sent.
//!
//! Odoo's ids are dense integers, so the set splits an id into a high part (a block of 65,536
//! ids) and a low part kept either as a sorted list of `u16` (2 bytes an id, while a block holds
//! few) or as a bitmap (8 KiB a block, once it holds more than 4,096): a million consecutive ids
//! take 128 KiB, where a hash set of them takes about 16 MiB.

use crate::registry::RegistrantId;
use std::collections::BTreeMap;

/// Past this many ids a block is a bitmap (the size at which both forms take 8 KiB).
const SPARSE_MAX: usize = 4096;
const WORDS: usize = 65_536 / 64;

enum Block {
    /// Sorted low parts.
    Sparse(Vec<u16>),
    /// One bit per low part.
    Dense(Box<[u64; WORDS]>),
}

/// The word of a bitmap holding `low`, and its bit there.
fn slot(low: u16) -> (usize, u64) {
    (usize::from(low) / 64, 1 << (low % 64))
}

impl Block {
    fn contains(&self, low: u16) -> bool {
        match self {
            Self::Sparse(lows) => lows.binary_search(&low).is_ok(),
            Self::Dense(bits) => {
                let (word, bit) = slot(low);
                bits[word] & bit != 0
            }
        }
    }

    /// Inserts `low`; whether it was new.
    fn insert(&mut self, low: u16) -> bool {
        match self {
            Self::Sparse(lows) => {
                let Err(at) = lows.binary_search(&low) else {
                    return false;
                };
                lows.insert(at, low);
                if lows.len() > SPARSE_MAX {
                    let mut bits = Box::new([0u64; WORDS]);
                    for &l in lows.iter() {
                        let (word, bit) = slot(l);
                        bits[word] |= bit;
                    }
                    *self = Self::Dense(bits);
                }
                true
            }
            Self::Dense(bits) => {
                let (word, bit) = slot(low);
                let new = bits[word] & bit == 0;
                bits[word] |= bit;
                new
            }
        }
    }
}

/// A set of registrant ids taking about 2 bytes an id when they are scattered and 1 bit an id
/// when they are dense.
#[derive(Default)]
pub(crate) struct IdSet {
    blocks: BTreeMap<i64, Block>,
    len: usize,
}

fn split(id: RegistrantId) -> (i64, u16) {
    (id.0 >> 16, (id.0 & 0xFFFF) as u16)
}

impl IdSet {
    pub(crate) fn insert(&mut self, id: RegistrantId) {
        let (high, low) = split(id);
        let block = self
            .blocks
            .entry(high)
            .or_insert_with(|| Block::Sparse(Vec::new()));
        if block.insert(low) {
            self.len += 1;
        }
    }

    pub(crate) fn contains(&self, id: RegistrantId) -> bool {
        let (high, low) = split(id);
        self.blocks.get(&high).is_some_and(|b| b.contains(low))
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn agrees_with_a_btreeset_across_sparse_and_dense_blocks() {
        let mut set = IdSet::default();
        let mut model = BTreeSet::new();
        // Dense runs, scattered ids, negative and huge ids, repeats.
        let ids = (1..20_000)
            .chain((0..3_000).map(|i| i * 977 + 5))
            .chain([i64::MAX, i64::MIN, -1, 0, 65_535, 65_536, 1, 1])
            .map(RegistrantId);
        for id in ids {
            set.insert(id);
            model.insert(id);
        }
        assert_eq!(set.len(), model.len());
        for probe in (-5..70_000).chain([i64::MAX, i64::MIN, i64::MAX - 1]) {
            let id = RegistrantId(probe);
            assert_eq!(set.contains(id), model.contains(&id), "{probe}");
        }
        assert!(matches!(set.blocks[&0], Block::Dense(_)));
        assert!(matches!(set.blocks[&(i64::MAX >> 16)], Block::Sparse(_)));
    }
}
