//! [`MemoryRegistry`]: a registry held in memory, evaluating Odoo domains itself.

use super::record::{Partner, PartnerView, RegId};
use crate::error::RegistryError;
use crate::idcheck::IdPattern;
use crate::memory::RegistrantSeed;
use crate::pii::{PersonalRecord, Token, Vid};
use crate::registry::{
    Candidate, CandidateQuery, IdTypes, RegistrantId, Registry, StoreReport, WriteDates,
};
use crate::time::{Clock, SystemClock};
use async_trait::async_trait;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, RwLock};

/// A registry held in memory: registrants with their fields and ids, searched with the same
/// domain semantics as Odoo. Like Odoo, it stamps `write_date` on a registrant when its fields
/// change and on an id when the id is written (not on the registrant), from its [`Clock`].
pub struct MemoryRegistry {
    id_types: IdTypes,
    partners: RwLock<BTreeMap<i64, Partner>>,
    clock: Arc<dyn Clock>,
    validation: RwLock<BTreeMap<String, String>>,
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
            clock: Arc::new(SystemClock),
            validation: RwLock::new(BTreeMap::new()),
        }
    }

    /// The same registry stamping write dates from `clock`.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Gives the id type named `id_type` an `id_validation` pattern (a Python regular
    /// expression, applied as OpenG2P does with `re.match`).
    pub fn set_id_validation(&self, id_type: &str, pattern: &str) {
        self.validation
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id_type.to_owned(), pattern.to_owned());
    }

    fn now(&self) -> String {
        self.clock.now().to_string()
    }

    fn reg_id(&self, id_type: &str, value: Option<String>) -> RegId {
        RegId {
            id_type: id_type.to_owned(),
            value,
            written: self.now(),
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
        let now = self.now();
        let mut partners = self.write();
        for seed in seeds {
            let mut ids = Vec::new();
            if let Some(vid) = seed.vid {
                ids.push(self.reg_id(&self.id_types.vid, Some(vid.into_inner())));
            }
            if let Some(token) = seed.token {
                ids.push(self.reg_id(&self.id_types.token, Some(token.into_inner())));
            }
            let mut fields = seed.fields.0;
            for stamp in ["create_date", "write_date"] {
                fields
                    .entry(stamp)
                    .or_insert_with(|| Value::from(now.clone()));
            }
            partners.insert(seed.id.0, Partner { fields, ids });
        }
    }

    /// Changes a registrant's fields (as an edit in the registry would), stamping its
    /// `write_date`; returns whether it exists.
    pub fn update(&self, id: RegistrantId, fields: PersonalRecord) -> bool {
        let now = self.now();
        let mut partners = self.write();
        let Some(p) = partners.get_mut(&id.0) else {
            return false;
        };
        p.fields.extend(fields.0);
        p.fields.insert("write_date".into(), Value::from(now));
        true
    }

    /// Gives a registrant a VID (replacing the one it holds), stamping only the id's
    /// `write_date`, as Odoo does; returns whether it exists.
    pub fn set_vid(&self, id: RegistrantId, vid: Vid) -> bool {
        let entry = self.reg_id(&self.id_types.vid, Some(vid.into_inner()));
        let mut partners = self.write();
        let Some(p) = partners.get_mut(&id.0) else {
            return false;
        };
        p.ids.retain(|r| r.id_type != self.id_types.vid);
        p.ids.push(entry);
        true
    }

    /// Gives a registrant an id of the token type with no value (which OpenG2P allows).
    pub fn add_empty_token_id(&self, id: RegistrantId) -> bool {
        let entry = self.reg_id(&self.id_types.token, None);
        let mut partners = self.write();
        let Some(p) = partners.get_mut(&id.0) else {
            return false;
        };
        p.ids.retain(|r| r.id_type != self.id_types.token);
        p.ids.push(entry);
        true
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
        p.ids.retain(|r| r.id_type != self.id_types.vid);
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

    /// Stores each value as its registrant's id of `id_type`: one id per type; the same value
    /// again changes nothing; another value (or an id of the type without one) is a conflict;
    /// a registrant that does not exist or is archived is missing.
    fn store_ids(&self, id_type: &str, values: &[(RegistrantId, &str)]) -> StoreReport {
        let now = self.now();
        let mut partners = self.write();
        let mut report = StoreReport::default();
        for (id, value) in values {
            let Some(p) = partners.get_mut(&id.0) else {
                report.missing.push(*id);
                continue;
            };
            if p.fields.get("active") == Some(&Value::Bool(false)) {
                report.missing.push(*id);
                continue;
            }
            match p.id_of_type(id_type) {
                Some(held) if held == *value => report.unchanged += 1,
                Some(_) => report.conflicts.push(*id),
                None if p.holds_type(id_type) => report.conflicts.push(*id),
                None => {
                    p.ids.push(RegId {
                        id_type: id_type.to_owned(),
                        value: Some((*value).to_owned()),
                        written: now.clone(),
                    });
                    report.stored += 1;
                    report.stored_ids.push(*id);
                }
            }
        }
        report
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
            let token = &self.id_types.token;
            let has_token = partner.id_of_type(token).is_some();
            page.push(Candidate {
                id: RegistrantId(id),
                vid: partner.id_of_type(&self.id_types.vid).map(Vid::new),
                has_token,
                empty_token_id: partner.holds_type(token) && !has_token,
                written: WriteDates {
                    partner: partner
                        .fields
                        .get("write_date")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    ids: partner.ids_written(),
                },
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
        let values: Vec<(RegistrantId, &str)> =
            tokens.iter().map(|(id, t)| (*id, t.expose())).collect();
        Ok(self.store_ids(&self.id_types.token, &values))
    }

    async fn store_vids(&self, vids: &[(RegistrantId, Vid)]) -> Result<StoreReport, RegistryError> {
        if let Some(pattern) = self.id_validation(&self.id_types.vid).await? {
            let pattern = IdPattern::compile(&pattern).map_err(|e| RegistryError::Invalid {
                message: format!("the id type '{}': {e}", self.id_types.vid),
            })?;
            if let Some((id, _)) = vids.iter().find(|(_, v)| !pattern.matches(v.expose())) {
                return Err(RegistryError::Invalid {
                    message: format!(
                        "registrant {id}: the value does not match the id type '{}'",
                        self.id_types.vid
                    ),
                });
            }
        }
        let values: Vec<(RegistrantId, &str)> =
            vids.iter().map(|(id, v)| (*id, v.expose())).collect();
        Ok(self.store_ids(&self.id_types.vid, &values))
    }

    async fn id_validation(&self, id_type: &str) -> Result<Option<String>, RegistryError> {
        if id_type != self.id_types.vid && id_type != self.id_types.token {
            return Err(RegistryError::Invalid {
                message: format!("the id type '{id_type}' does not exist in the registry"),
            });
        }
        Ok(self
            .validation
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id_type)
            .cloned())
    }

    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, RegistryError> {
        let mut partners = self.write();
        let mut removed = 0;
        for id in ids {
            if let Some(p) = partners.get_mut(&id.0) {
                let before = p.ids.len();
                p.ids.retain(|r| r.id_type != self.id_types.vid);
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
            if let Some(held) = partner.id_of_type(&self.id_types.token)
                && wanted.contains(held)
            {
                out.entry(Token::new(held))
                    .or_default()
                    .push(RegistrantId(id));
            }
        }
        Ok(out)
    }
}
