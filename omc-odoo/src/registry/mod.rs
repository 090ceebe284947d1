//! [`OdooRegistry`]: OpenG2P's registry (`res.partner`, `g2p.reg.id`, `g2p.id.type`) as an
//! [`omc_core::Registry`].

mod locks;
mod rows;
mod store;

use crate::client::OdooClient;
use crate::error::OdooError;
use async_trait::async_trait;
use locks::KeyedLocks;
use omc_core::domain::Operator;
use omc_core::idcheck::IdPattern;
use omc_core::registry::WriteDates;
use omc_core::{
    Candidate, CandidateQuery, Domain, IdTypes, PersonalRecord, RegistrantId, Registry,
    RegistryError, StoreReport, Token, Vid,
};
use rows::{IdTypeRow, REG_ID_FIELDS, RegIdRow};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use store::IdKind;

/// How many ids one request carries at most.
const DEFAULT_CHUNK: usize = 1_000;

const PARTNER: &str = "res.partner";
const REG_ID: &str = "g2p.reg.id";
const ID_TYPE: &str = "g2p.id.type";
/// The registrant's own stamp, read with every candidate.
const WRITE_DATE: &str = "write_date";

/// OpenG2P's registry reached through Odoo's JSON-RPC API. Cheap to clone.
///
/// Every request is bounded: id lists are sent in chunks (1,000 by default). A page of
/// candidates costs two calls (`res.partner` then `g2p.reg.id` `search_read`); storing tokens
/// or VIDs three per chunk (which registrants exist and are active, which ids of the type they
/// hold, one `create` of the rest) and a fourth when something was created (reading the
/// created ids back), plus one lookup of the id type's id, cached per type name; storing VIDs
/// also reads the VID type's `id_validation` once per call and refuses the whole call, before
/// anything is stored, when a value does not match it; removing VIDs a `search` and an
/// `unlink` per chunk, searching again (up to 3 times) when Odoo's own clean-up deleted a VID
/// in between. Archived registrants count as missing when storing.
///
/// Stores are safe under concurrency (see [`Registry::store_tokens`]): the stores of one
/// registrant through this registry and its clones run one after another (per-registrant
/// locks held across the chunk's calls); and as stores from other processes can still overlap
/// (OpenG2P's one id per type is a Python check that two overlapping transactions both pass),
/// a store that finds a registrant holding two or more ids of the type keeps the first (lowest
/// id) and removes the others (a `search` and an `unlink`), and a `create` Odoo refuses because
/// an id appeared meanwhile is settled by reading again (up to 3 attempts). Between processes
/// one report can be wrong: when Odoo commits two ids in the opposite order to their ids, the
/// store whose id is later removed may already have reported it stored; the registrant still
/// ends with one id.
#[derive(Debug, Clone)]
pub struct OdooRegistry {
    client: OdooClient,
    id_types: IdTypes,
    /// `g2p.id.type` ids by type name, looked up once each.
    type_ids: Arc<Mutex<BTreeMap<String, i64>>>,
    /// Per-registrant locks shared by clones: one store of a registrant at a time.
    locks: Arc<KeyedLocks>,
    chunk: usize,
}

impl OdooRegistry {
    /// A registry over `client`, with the id type names of `id_types`.
    pub fn new(client: OdooClient, id_types: IdTypes) -> Self {
        Self {
            client,
            id_types,
            type_ids: Arc::default(),
            locks: Arc::default(),
            chunk: DEFAULT_CHUNK,
        }
    }

    /// At most `chunk` ids per request (at least 1).
    pub fn with_chunk_size(mut self, chunk: usize) -> Self {
        self.chunk = chunk.max(1);
        self
    }

    /// The client.
    pub fn client(&self) -> &OdooClient {
        &self.client
    }

    /// The id type names.
    pub fn id_types(&self) -> &IdTypes {
        &self.id_types
    }

    /// The `g2p.id.type` id of the token type, looked up by name once and cached. A type that
    /// does not exist is `RegistryError::Invalid`, naming it.
    pub async fn token_type_id(&self) -> Result<i64, RegistryError> {
        self.type_id(&self.id_types.token).await
    }

    /// The `g2p.id.type` id of the type named `name`: cached, or looked up (and cached).
    async fn type_id(&self, name: &str) -> Result<i64, RegistryError> {
        if let Some(id) = self.cached_type_id(name) {
            return Ok(id);
        }
        Ok(self.id_type(name).await?.id)
    }

    fn cached_type_id(&self, name: &str) -> Option<i64> {
        self.type_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .copied()
    }

    /// The `g2p.id.type` named `name` (compared exactly, as Odoo's `=` does), caching its id.
    async fn id_type(&self, name: &str) -> Result<IdTypeRow, RegistryError> {
        let rows: Vec<IdTypeRow> = self
            .client
            .search_read_as(
                ID_TYPE,
                json!([["name", "=", name]]),
                json!({"fields": ["id", "id_validation"], "limit": 1, "order": "id asc"}),
            )
            .await?;
        let row = rows
            .into_iter()
            .next()
            .ok_or_else(|| RegistryError::Invalid {
                message: format!("the id type '{name}' does not exist in the registry"),
            })?;
        self.type_ids
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.to_owned(), row.id);
        Ok(row)
    }

    /// The `g2p.reg.id` rows of the given types (by name) held by `partners`, in id order.
    async fn reg_ids(
        &self,
        partners: &[i64],
        types: &[&str],
    ) -> Result<Vec<RegIdRow>, RegistryError> {
        Ok(self
            .client
            .search_read_as(
                REG_ID,
                json!([["partner_id", "in", partners], ["id_type", "in", types]]),
                json!({"fields": REG_ID_FIELDS, "order": "id asc"}),
            )
            .await?)
    }

    /// What candidates need of their VID and token ids.
    async fn held_ids(&self, partners: &[i64]) -> Result<BTreeMap<i64, Held>, RegistryError> {
        let types = [self.id_types.vid.as_str(), self.id_types.token.as_str()];
        let mut held: BTreeMap<i64, Held> = BTreeMap::new();
        for chunk in partners.chunks(self.chunk) {
            for row in self.reg_ids(chunk, &types).await? {
                let entry = held.entry(row.partner).or_default();
                if entry.written < row.written {
                    entry.written.clone_from(&row.written);
                }
                if row.type_name == self.id_types.token {
                    entry.token_row = true;
                    entry.token |= row.value().is_some();
                } else if row.type_name == self.id_types.vid && entry.vid.is_none() {
                    entry.vid = row.into_value().map(Vid::new);
                }
            }
        }
        Ok(held)
    }
}

/// A registrant's VID and token ids, as a candidate shows them.
#[derive(Default)]
struct Held {
    /// The value of its first VID row that has one (OpenG2P allows one VID row).
    vid: Option<Vid>,
    /// Whether it holds a token row with a value.
    token: bool,
    /// Whether it holds a token row at all.
    token_row: bool,
    /// The latest `write_date` of those rows.
    written: Option<String>,
}

fn protocol(context: &str, problem: &str) -> RegistryError {
    OdooError::Protocol {
        context: context.into(),
        problem: problem.into(),
    }
    .into()
}

#[async_trait]
impl Registry for OdooRegistry {
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, RegistryError> {
        if query.limit == 0 {
            return Ok(Vec::new());
        }
        let mut domain = query.filter.clone();
        if let Some(after) = query.after {
            domain = domain.and(Domain::leaf("id", Operator::Gt, json!(after.0)));
        }
        let mut fields: Vec<&str> = vec!["id"];
        fields.extend(
            query
                .fields
                .iter()
                .map(String::as_str)
                .filter(|f| *f != "id"),
        );
        let write_date_asked = fields.contains(&WRITE_DATE);
        if !write_date_asked {
            fields.push(WRITE_DATE);
        }
        let rows: Vec<Map<String, Value>> = self
            .client
            .search_read_as(
                PARTNER,
                domain.to_json(),
                json!({"fields": fields, "limit": query.limit, "order": "id asc"}),
            )
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        for mut map in rows {
            let Some(id) = map.get("id").and_then(Value::as_i64) else {
                return Err(protocol(
                    "res.partner.search_read",
                    "a row has no integer id",
                ));
            };
            let stamp = if write_date_asked {
                map.get(WRITE_DATE).cloned()
            } else {
                map.remove(WRITE_DATE)
            };
            let written = stamp.and_then(|v| v.as_str().map(str::to_owned));
            records.push((id, written, map));
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = records.iter().map(|(id, _, _)| *id).collect();
        let mut held = self.held_ids(&ids).await?;
        Ok(records
            .into_iter()
            .map(|(id, partner_written, map)| {
                let held = held.remove(&id).unwrap_or_default();
                let mut candidate = Candidate::new(
                    RegistrantId(id),
                    held.vid,
                    held.token,
                    PersonalRecord::from(map),
                );
                candidate.empty_token_id = held.token_row && !held.token;
                candidate.written = WriteDates {
                    partner: partner_written,
                    ids: held.written,
                };
                candidate
            })
            .collect())
    }

    async fn tokens(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, Token>, RegistryError> {
        let mut out = BTreeMap::new();
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        for chunk in ids.chunks(self.chunk) {
            for row in self.reg_ids(chunk, &[&self.id_types.token]).await? {
                let partner = RegistrantId(row.partner);
                if let Some(value) = row.into_value() {
                    out.entry(partner).or_insert_with(|| Token::new(value));
                }
            }
        }
        Ok(out)
    }

    async fn store_tokens(
        &self,
        tokens: &[(RegistrantId, Token)],
    ) -> Result<StoreReport, RegistryError> {
        let values: Vec<(RegistrantId, &str)> =
            tokens.iter().map(|(id, t)| (*id, t.expose())).collect();
        self.store_values(IdKind::Token, &values).await
    }

    async fn store_vids(&self, vids: &[(RegistrantId, Vid)]) -> Result<StoreReport, RegistryError> {
        if vids.is_empty() {
            return Ok(StoreReport::default());
        }
        let name = &self.id_types.vid;
        // A pattern OMC cannot compile (Python-only syntax) is left to Odoo's own check.
        let pattern = self.id_type(name).await?.into_validation();
        if let Some(pattern) = pattern.and_then(|p| IdPattern::compile(&p).ok())
            && let Some((id, _)) = vids.iter().find(|(_, v)| !pattern.matches(v.expose()))
        {
            return Err(RegistryError::Invalid {
                message: format!(
                    "registrant {id}: the value does not match the id_validation of the id type '{name}'; nothing stored"
                ),
            });
        }
        let values: Vec<(RegistrantId, &str)> =
            vids.iter().map(|(id, v)| (*id, v.expose())).collect();
        self.store_values(IdKind::Vid, &values).await
    }

    async fn id_validation(&self, id_type: &str) -> Result<Option<String>, RegistryError> {
        Ok(self.id_type(id_type).await?.into_validation())
    }

    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, RegistryError> {
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        let mut removed = 0;
        for chunk in ids.chunks(self.chunk) {
            removed += self.remove_chunk(chunk).await?;
        }
        Ok(removed)
    }

    async fn holders(
        &self,
        tokens: &[Token],
    ) -> Result<BTreeMap<Token, Vec<RegistrantId>>, RegistryError> {
        let values: BTreeSet<&str> = tokens
            .iter()
            .map(Token::expose)
            .filter(|t| !t.is_empty())
            .collect();
        let values: Vec<&str> = values.into_iter().collect();
        let mut out: BTreeMap<Token, Vec<RegistrantId>> = BTreeMap::new();
        for chunk in values.chunks(self.chunk) {
            let rows: Vec<RegIdRow> = self
                .client
                .search_read_as(
                    REG_ID,
                    json!([
                        ["id_type", "in", [&self.id_types.token]],
                        ["value", "in", chunk]
                    ]),
                    json!({"fields": ["partner_id", "id_type", "value"], "order": "id asc"}),
                )
                .await?;
            for row in rows {
                let partner = RegistrantId(row.partner);
                if let Some(value) = row.into_value() {
                    out.entry(Token::new(value)).or_default().push(partner);
                }
            }
        }
        for holders in out.values_mut() {
            holders.sort_unstable();
            holders.dedup();
        }
        Ok(out)
    }
}
