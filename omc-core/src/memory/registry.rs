//! [`MemoryRegistry`]: a registry held in memory, evaluating Odoo domains itself.

use super::record::{Partner, PartnerView};
use crate::error::RegistryError;
use crate::fixture::RegistrantSeed;
use crate::pii::{PersonalRecord, Token, Vid};
use crate::registry::{Candidate, CandidateQuery, IdTypes, RegistrantId, Registry, StoreReport};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::RwLock;

/// A registry held in memory: registrants with their fields and ids, searched with the same
/// domain semantics as Odoo.
pub struct MemoryRegistry {
    id_types: IdTypes,
    partners: RwLock<BTreeMap<i64, Partner>>,
}

impl fmt::Debug for MemoryRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryRegistry")
            .field("id_types", &self.id_types)
            .field("registrants", &self.len())
            .finish()
    }
}

impl Default for MemoryRegistry {
    fn default() -> Self {
        Self::new(IdTypes::default())
    }
}

impl MemoryRegistry {
    /// An empty registry using these id type names.
    pub fn new(id_types: IdTypes) -> Self {
        Self {
            id_types,
            partners: RwLock::new(BTreeMap::new()),
        }
    }

    /// A registry holding `seeds`.
    pub fn with_seeds(id_types: IdTypes, seeds: impl IntoIterator<Item = RegistrantSeed>) -> Self {
        let registry = Self::new(id_types);
        registry.seed(seeds);
        registry
    }

    /// Adds (or replaces) registrants.
    pub fn seed(&self, seeds: impl IntoIterator<Item = RegistrantSeed>) {
        let mut partners = self.write();
        for seed in seeds {
            let mut ids = Vec::new();
            if let Some(vid) = seed.vid {
                ids.push((self.id_types.vid.clone(), vid.into_inner()));
            }
            if let Some(token) = seed.token {
                ids.push((self.id_types.token.clone(), token.into_inner()));
            }
            partners.insert(
                seed.id.0,
                Partner {
                    fields: seed.fields.0,
                    ids,
                },
            );
        }
    }

    /// How many registrants it holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The VID a registrant holds.
    pub fn vid_of(&self, id: RegistrantId) -> Option<Vid> {
        let partners = self.read();
        let p = partners.get(&id.0)?;
        p.id_of_type(&self.id_types.vid).map(Vid::new)
    }

    /// The token a registrant holds.
    pub fn token_of(&self, id: RegistrantId) -> Option<Token> {
        let partners = self.read();
        let p = partners.get(&id.0)?;
        p.id_of_type(&self.id_types.token).map(Token::new)
    }

    /// Deletes a registrant's VID behind the connector's back (as OpenG2P's own clean-up job
    /// might), returning whether there was one.
    pub fn delete_vid(&self, id: RegistrantId) -> bool {
        let mut partners = self.write();
        let Some(p) = partners.get_mut(&id.0) else {
            return false;
        };
        let before = p.ids.len();
        p.ids.retain(|(t, _)| t != &self.id_types.vid);
        before != p.ids.len()
    }

    /// Every registrant a search with `filter` returns, in id order: Odoo's semantics, archived
    /// registrants left out unless the filter mentions `active` (no paging, no projection).
    pub fn selected(&self, filter: &crate::domain::Domain) -> Vec<RegistrantId> {
        self.read()
            .iter()
            .filter(|(id, partner)| filter.selects(&PartnerView { id: **id, partner }))
            .map(|(id, _)| RegistrantId(*id))
            .collect()
    }

    /// (registrants holding a token, registrants holding a VID).
    pub fn counts(&self) -> (usize, usize) {
        let partners = self.read();
        let with = |t: &str| {
            partners
                .values()
                .filter(|p| p.id_of_type(t).is_some())
                .count()
        };
        (with(&self.id_types.token), with(&self.id_types.vid))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<i64, Partner>> {
        self.partners.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<i64, Partner>> {
        self.partners.write().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl Registry for MemoryRegistry {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, RegistryError> {
        let partners = self.read();
        let start = query.after.map_or(i64::MIN, |a| a.0.saturating_add(1));
        let mut page = Vec::with_capacity(query.limit.min(1024));
        for (&id, partner) in partners.range(start..) {
            if page.len() >= query.limit {
                break;
            }
            if !query.filter.selects(&PartnerView { id, partner }) {
                continue;
            }
            let mut fields = serde_json::Map::with_capacity(query.fields.len());
            for name in &query.fields {
                let value = match name.as_str() {
                    "id" => Value::from(id),
                    other => partner
                        .fields
                        .get(other)
                        .cloned()
                        .unwrap_or(Value::Bool(false)),
                };
                fields.insert(name.clone(), value);
            }
            page.push(Candidate {
                id: RegistrantId(id),
                vid: partner.id_of_type(&self.id_types.vid).map(Vid::new),
                has_token: partner.id_of_type(&self.id_types.token).is_some(),
                fields: PersonalRecord(fields),
            });
        }
        Ok(page)
    }

    async fn tokens(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, Token>, RegistryError> {
        let partners = self.read();
        Ok(ids
            .iter()
            .filter_map(|id| {
                let token = partners.get(&id.0)?.id_of_type(&self.id_types.token)?;
                Some((*id, Token::new(token)))
            })
            .collect())
    }

    async fn store_tokens(
        &self,
        tokens: &[(RegistrantId, Token)],
    ) -> Result<StoreReport, RegistryError> {
        let mut partners = self.write();
        let mut report = StoreReport::default();
        for (id, token) in tokens {
            let Some(p) = partners.get_mut(&id.0) else {
                report.missing.push(*id);
                continue;
            };
            if p.fields.get("active") == Some(&Value::Bool(false)) {
                report.missing.push(*id);
                continue;
            }
            match p.id_of_type(&self.id_types.token) {
                Some(held) if held == token.expose() => report.unchanged += 1,
                Some(_) => report.conflicts.push(*id),
                None => {
                    p.ids
                        .push((self.id_types.token.clone(), token.expose().to_owned()));
                    report.stored += 1;
                }
            }
        }
        Ok(report)
    }

    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, RegistryError> {
        let mut partners = self.write();
        let mut removed = 0;
        for id in ids {
            if let Some(p) = partners.get_mut(&id.0) {
                let before = p.ids.len();
                p.ids.retain(|(t, _)| t != &self.id_types.vid);
                removed += before - p.ids.len();
            }
        }
        Ok(removed)
    }

    async fn holders(
        &self,
        tokens: &[Token],
    ) -> Result<BTreeMap<Token, Vec<RegistrantId>>, RegistryError> {
        let wanted: std::collections::BTreeSet<&str> = tokens.iter().map(Token::expose).collect();
        let partners = self.read();
        let mut out: BTreeMap<Token, Vec<RegistrantId>> = BTreeMap::new();
        for (&id, partner) in partners.iter() {
            if let Some(held) = partner.id_of_type(&self.id_types.token) {
                if wanted.contains(held) {
                    out.entry(Token::new(held))
                        .or_default()
                        .push(RegistrantId(id));
                }
            }
        }
        Ok(out)
    }
}
