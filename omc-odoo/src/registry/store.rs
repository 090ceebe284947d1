//! Writing ids: storing tokens and VIDs without ever overwriting one or leaving two of a type
//! to a registrant, and removing VIDs.
//!
//! OpenG2P's "one id per type" is a Python constraint, checked inside the creating transaction:
//! two creates for one registrant that overlap can both pass it (on Odoo 17, two JSON-RPC
//! `create` calls at once both succeeded 7 times in 10). So a store
//! - runs alone for its registrants in this process (per-registrant locks, shared by clones):
//!   concurrent callbacks handled by one receiver cannot both find a registrant without an id
//!   and both create one;
//! - reads back what it created: a registrant holding two or more ids of the type (another
//!   process created one at the same time) keeps its first (lowest id) and the others are
//!   removed. Every writer that keeps this rule ends with the same id, whichever reads last,
//!   and at least the last to commit sees every row. A store whose own id was not the first
//!   reports the registrant unchanged when the first holds its value, a conflict otherwise;
//! - when Odoo refuses the `create` (`ValidationError`: an id of the type was committed
//!   between its read and its create), reads again and creates only for those still without
//!   one, up to [`CREATE_ATTEMPTS`] times.
//!
//! One residue: when Odoo hands out row ids in another order than it commits them, a store
//! that saw only its own row reports it stored, and a later reader may then remove it as the
//! second; the registrant still ends with exactly one id, and with tokens (derived from the
//! person) it holds the same value.

use super::rows::RegIdRow;
use super::{OdooRegistry, PARTNER, REG_ID, protocol};
use crate::error::OdooError;
use omc_core::{RegistrantId, RegistryError, StoreReport};
use serde_json::{Value, json};
use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

/// How many times an `unlink` searches again when an id vanished under it.
const UNLINK_ATTEMPTS: usize = 3;

/// How many times a store creates when Odoo refused the `create` because an id of the type
/// appeared meanwhile.
const CREATE_ATTEMPTS: usize = 3;

/// Odoo's exception for a broken rule (here: `id_validation`, or one id per type).
const VALIDATION_ERROR: &str = "odoo.exceptions.ValidationError";

/// The id type a store writes.
#[derive(Debug, Clone, Copy)]
pub(super) enum IdKind {
    Vid,
    Token,
}

impl IdKind {
    fn noun(self) -> &'static str {
        match self {
            Self::Vid => "VIDs",
            Self::Token => "tokens",
        }
    }
}

/// The ids of one type a set of registrants hold: each one's first (lowest id) row, and the
/// rows beside a first, which break the one-id-per-type rule.
struct Holdings {
    first: BTreeMap<i64, RegIdRow>,
    extra: Vec<i64>,
}

impl Holdings {
    fn of(rows: Vec<RegIdRow>) -> Self {
        let mut first: BTreeMap<i64, RegIdRow> = BTreeMap::new();
        let mut extra = Vec::new();
        for row in rows {
            match first.entry(row.partner) {
                Entry::Vacant(slot) => {
                    slot.insert(row);
                }
                // The lowest id is the first, whatever order the rows came in.
                Entry::Occupied(mut slot) => extra.push(if slot.get().id > row.id {
                    slot.insert(row).id
                } else {
                    row.id
                }),
            }
        }
        Self { first, extra }
    }
}

impl OdooRegistry {
    fn type_name(&self, kind: IdKind) -> &str {
        match kind {
            IdKind::Vid => &self.id_types.vid,
            IdKind::Token => &self.id_types.token,
        }
    }

    /// Stores each value as its registrant's id of `kind`: one id per registrant; the same
    /// value again changes nothing; a registrant holding an id of the type with another value,
    /// or with none, is a conflict (a second id of a type is never kept).
    pub(super) async fn store_values(
        &self,
        kind: IdKind,
        values: &[(RegistrantId, &str)],
    ) -> Result<StoreReport, RegistryError> {
        let mut report = StoreReport::default();
        // One id per registrant: a second, different value in the same call is a conflict.
        let mut wanted: BTreeMap<i64, &str> = BTreeMap::new();
        for (id, value) in values {
            match wanted.get(&id.0) {
                None => {
                    wanted.insert(id.0, value);
                }
                Some(first) if first == value => {}
                Some(_) => report.conflicts.push(*id),
            }
        }
        let wanted: Vec<(i64, &str)> = wanted.into_iter().collect();
        for chunk in wanted.chunks(self.chunk) {
            self.store_chunk(kind, chunk, &mut report).await?;
        }
        Ok(report)
    }

    /// The ids among `ids` of registrants that exist and are active.
    async fn existing(&self, ids: &[i64]) -> Result<BTreeSet<i64>, RegistryError> {
        let found = self
            .client
            .execute_kw(PARTNER, "search", json!([[["id", "in", ids]]]), json!({}))
            .await?;
        let Value::Array(found) = found else {
            return Err(protocol("res.partner.search", "the result is not a list"));
        };
        Ok(found.iter().filter_map(Value::as_i64).collect())
    }

    /// The ids of `kind` that `partners` hold, removing any beside each one's first.
    async fn holdings(&self, kind: IdKind, partners: &[i64]) -> Result<Holdings, RegistryError> {
        let holdings = Holdings::of(self.reg_ids(partners, &[self.type_name(kind)]).await?);
        if !holdings.extra.is_empty() {
            tracing::warn!(
                count = holdings.extra.len(),
                id_type = self.type_name(kind),
                "registrants held more than one id of a type (created concurrently); removing all but each one's first"
            );
            self.unlink_found(json!([["id", "in", holdings.extra]]))
                .await?;
        }
        Ok(holdings)
    }

    /// One chunk of distinct registrants, in id order.
    async fn store_chunk(
        &self,
        kind: IdKind,
        chunk: &[(i64, &str)],
        report: &mut StoreReport,
    ) -> Result<(), RegistryError> {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let _locked = self.locks.lock(&ids).await;
        let existing = self.existing(&ids).await?;
        let (present, absent): (Vec<i64>, Vec<i64>) =
            ids.iter().copied().partition(|id| existing.contains(id));
        report.missing.extend(absent.into_iter().map(RegistrantId));
        if present.is_empty() {
            return Ok(());
        }
        let mut pending: Vec<(i64, &str)> = chunk
            .iter()
            .copied()
            .filter(|(id, _)| existing.contains(id))
            .collect();
        let mut held = self.holdings(kind, &present).await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut create = Vec::new();
            for &(id, value) in &pending {
                match held.first.get(&id) {
                    Some(current) if current.value() == Some(value) => report.unchanged += 1,
                    Some(_) => report.conflicts.push(RegistrantId(id)),
                    None => create.push((id, value)),
                }
            }
            if create.is_empty() {
                return Ok(());
            }
            let type_id = self.type_id(self.type_name(kind)).await?;
            let error = match self.create(type_id, &create).await {
                Ok(created) => return self.settle(kind, &create, &created, report).await,
                Err(error) if error.exception() == Some(VALIDATION_ERROR) => error,
                Err(error) => return Err(error.into()),
            };
            let partners: Vec<i64> = create.iter().map(|(id, _)| *id).collect();
            // Refused for an id of the type committed meanwhile: those now holding one are
            // settled by reading them; the rest are created again.
            held = self.holdings(kind, &partners).await?;
            if held.first.is_empty() || attempt == CREATE_ATTEMPTS {
                return Err(self.refused(kind, create.len(), error));
            }
            pending = create;
        }
    }

    /// Creates the ids (of the `g2p.id.type` `type_id`) in one call: their row ids, in order.
    async fn create(&self, type_id: i64, create: &[(i64, &str)]) -> Result<Vec<i64>, OdooError> {
        let vals: Vec<Value> = create
            .iter()
            .map(|(id, value)| json!({"partner_id": id, "id_type": type_id, "value": value}))
            .collect();
        let created = self
            .client
            .execute_kw(REG_ID, "create", json!([vals]), json!({}))
            .await?;
        let ids: Vec<i64> = match created {
            Value::Array(ids) => ids.iter().filter_map(Value::as_i64).collect(),
            _ => Vec::new(),
        };
        if ids.len() != create.len() {
            return Err(OdooError::Protocol {
                context: "g2p.reg.id.create".into(),
                problem: "the result is not one id per record created".into(),
            });
        }
        Ok(ids)
    }

    /// Reads back the ids just created (`created`, in the order of `create`): a registrant
    /// whose first id of the type is not the one created here had another created at the same
    /// time, and keeps that one.
    async fn settle(
        &self,
        kind: IdKind,
        create: &[(i64, &str)],
        created: &[i64],
        report: &mut StoreReport,
    ) -> Result<(), RegistryError> {
        let partners: Vec<i64> = create.iter().map(|(id, _)| *id).collect();
        let held = self.holdings(kind, &partners).await?;
        for (&(partner, value), row) in create.iter().zip(created) {
            match held.first.get(&partner) {
                Some(first) if first.id != *row && first.value() == Some(value) => {
                    report.unchanged += 1;
                }
                Some(first) if first.id != *row => report.conflicts.push(RegistrantId(partner)),
                // Its own, or already removed by someone else: it was stored.
                _ => {
                    report.stored += 1;
                    report.stored_ids.push(RegistrantId(partner));
                }
            }
        }
        Ok(())
    }

    /// A failed `create` of `count` ids: Odoo's `ValidationError` named for what it means here
    /// (its own message quotes the refused value, so it is never kept).
    fn refused(&self, kind: IdKind, count: usize, error: OdooError) -> RegistryError {
        if error.exception() != Some(VALIDATION_ERROR) {
            return error.into();
        }
        RegistryError::Invalid {
            message: format!(
                "Odoo refused to create {count} {} ({VALIDATION_ERROR}): a value the id_validation of the id type '{}' refuses, or an id of that type created meanwhile; none of the {count} was stored",
                kind.noun(),
                self.type_name(kind)
            ),
        }
    }

    pub(super) async fn remove_chunk(&self, partners: &[i64]) -> Result<usize, RegistryError> {
        self.unlink_found(json!([
            ["partner_id", "in", partners],
            ["id_type", "in", [&self.id_types.vid]]
        ]))
        .await
    }

    /// Removes the `g2p.reg.id` rows `domain` finds, searching again (up to
    /// [`UNLINK_ATTEMPTS`] times) when one vanished before the `unlink` (OpenG2P's own VID
    /// clean-up, or another store removing the same extra id); returns how many it removed.
    async fn unlink_found(&self, domain: Value) -> Result<usize, RegistryError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let found = self
                .client
                .execute_kw(REG_ID, "search", json!([domain]), json!({}))
                .await?;
            let ids: Vec<i64> = match found {
                Value::Array(ids) => ids.iter().filter_map(Value::as_i64).collect(),
                _ => return Err(protocol("g2p.reg.id.search", "the result is not a list")),
            };
            if ids.is_empty() {
                return Ok(0);
            }
            match self
                .client
                .execute_kw(REG_ID, "unlink", json!([ids]), json!({}))
                .await
            {
                Ok(_) => return Ok(ids.len()),
                Err(e) if e.is_missing() && attempt < UNLINK_ATTEMPTS => {
                    tracing::debug!(attempt, "an id vanished before unlink; searching again");
                }
                Err(e) if e.is_missing() => {
                    return Err(RegistryError::Unavailable {
                        message: format!(
                            "ids kept vanishing under unlink ({UNLINK_ATTEMPTS} attempts)"
                        ),
                        source: Some(Box::new(e)),
                    });
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::OdooClient;
    use omc_core::IdTypes;
    use secrecy::SecretString;

    fn registry() -> OdooRegistry {
        let client = OdooClient::builder()
            .base_url("http://127.0.0.1:9/".parse().unwrap())
            .database("omc")
            .login("admin")
            .password(SecretString::from("admin"))
            .build()
            .unwrap();
        OdooRegistry::new(client, IdTypes::default())
    }

    fn server(name: &str) -> OdooError {
        OdooError::Server {
            code: 200,
            name: name.into(),
            context: "g2p.reg.id.create".into(),
        }
    }

    #[test]
    fn a_refused_create_says_why_without_values() {
        let registry = registry();
        let error = registry.refused(IdKind::Vid, 3, server(VALIDATION_ERROR));
        let RegistryError::Invalid { message } = &error else {
            panic!("{error:?}")
        };
        assert!(message.contains("3 VIDs"), "{message}");
        assert!(message.contains("'MOSIP VID'"), "{message}");
        let other = registry.refused(IdKind::Token, 1, server("psycopg2.OperationalError"));
        assert!(other.is_transient(), "{other}");
    }
}
