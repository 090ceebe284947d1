//! Writing ids: storing tokens and VIDs without ever overwriting one, and removing VIDs.

use super::{OdooRegistry, PARTNER, REG_ID, protocol};
use crate::error::OdooError;
use omc_core::{RegistrantId, RegistryError, StoreReport};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// How many times `remove_vids` searches again when a VID vanished under its `unlink`.
const UNLINK_ATTEMPTS: usize = 3;

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

impl OdooRegistry {
    fn type_name(&self, kind: IdKind) -> &str {
        match kind {
            IdKind::Vid => &self.id_types.vid,
            IdKind::Token => &self.id_types.token,
        }
    }

    /// Stores each value as its registrant's id of `kind`: one id per registrant; the same
    /// value again changes nothing; a registrant holding an id of the type with another value,
    /// or with none, is a conflict (a second id of a type is never created).
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

    /// One chunk of distinct registrants, in id order.
    async fn store_chunk(
        &self,
        kind: IdKind,
        chunk: &[(i64, &str)],
        report: &mut StoreReport,
    ) -> Result<(), RegistryError> {
        let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
        let existing = self.existing(&ids).await?;
        let (present, absent): (Vec<i64>, Vec<i64>) =
            ids.iter().copied().partition(|id| existing.contains(id));
        report.missing.extend(absent.into_iter().map(RegistrantId));
        if present.is_empty() {
            return Ok(());
        }
        let type_name = self.type_name(kind);
        // The first row of the type each registrant holds, with its value if it has one.
        let mut held: BTreeMap<i64, Option<String>> = BTreeMap::new();
        for row in self.reg_ids(&present, &[type_name]).await? {
            held.entry(row.partner).or_insert_with(|| row.into_value());
        }
        let mut create = Vec::new();
        for &(id, value) in chunk.iter().filter(|(id, _)| existing.contains(id)) {
            match held.get(&id) {
                Some(Some(current)) if current == value => report.unchanged += 1,
                Some(_) => report.conflicts.push(RegistrantId(id)),
                None => create.push((id, value)),
            }
        }
        if create.is_empty() {
            return Ok(());
        }
        let type_id = self.type_id(type_name).await?;
        let vals: Vec<Value> = create
            .iter()
            .map(|(id, value)| json!({"partner_id": id, "id_type": type_id, "value": value}))
            .collect();
        if let Err(error) = self
            .client
            .execute_kw(REG_ID, "create", json!([vals]), json!({}))
            .await
        {
            return Err(self.refused(kind, create.len(), error));
        }
        report.stored += create.len();
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
        let mut attempt = 0;
        loop {
            attempt += 1;
            let found = self
                .client
                .execute_kw(
                    REG_ID,
                    "search",
                    json!([[
                        ["partner_id", "in", partners],
                        ["id_type", "in", [&self.id_types.vid]]
                    ]]),
                    json!({}),
                )
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
                    tracing::debug!(attempt, "a VID vanished before unlink; searching again");
                }
                Err(e) if e.is_missing() => {
                    return Err(RegistryError::Unavailable {
                        message: format!(
                            "VIDs kept vanishing under unlink ({UNLINK_ATTEMPTS} attempts)"
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
