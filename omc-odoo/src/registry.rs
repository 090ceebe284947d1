//! [`OdooRegistry`]: OpenG2P's registry (`res.partner`, `g2p.reg.id`, `g2p.id.type`) as an
//! [`omc_core::Registry`].

use crate::client::OdooClient;
use crate::error::OdooError;
use async_trait::async_trait;
use omc_core::domain::Operator;
use omc_core::{
    Candidate, CandidateQuery, Domain, IdTypes, PersonalRecord, RegistrantId, Registry,
    RegistryError, StoreReport, Token, Vid,
};
use serde::de::{IgnoredAny, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// How many ids one request carries at most.
const DEFAULT_CHUNK: usize = 1_000;
/// How many times `remove_vids` searches again when a VID vanished under its `unlink`.
const UNLINK_ATTEMPTS: usize = 3;

const PARTNER: &str = "res.partner";
const REG_ID: &str = "g2p.reg.id";
const ID_TYPE: &str = "g2p.id.type";

/// OpenG2P's registry reached through Odoo's JSON-RPC API. Cheap to clone.
///
/// Every request is bounded: id lists are sent in chunks (1,000 by default). A page of
/// candidates costs two calls (`res.partner` then `g2p.reg.id` `search_read`); storing tokens
/// three per chunk (which registrants exist and are active, which tokens they hold, one `create`
/// of the rest) plus one lookup of the token type's id, cached; removing VIDs a `search` and an
/// `unlink` per chunk, searching again (up to 3 times) when Odoo's own clean-up deleted a VID
/// in between. Archived registrants count as missing when storing.
#[derive(Debug, Clone)]
pub struct OdooRegistry {
    client: OdooClient,
    id_types: IdTypes,
    token_type: Arc<OnceCell<i64>>,
    chunk: usize,
}

impl OdooRegistry {
    /// A registry over `client`, with the id type names of `id_types`.
    pub fn new(client: OdooClient, id_types: IdTypes) -> Self {
        Self {
            client,
            id_types,
            token_type: Arc::new(OnceCell::new()),
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
        self.token_type
            .get_or_try_init(|| async {
                let name = &self.id_types.token;
                let rows = self
                    .client
                    .search_read(
                        ID_TYPE,
                        json!([["name", "=", name]]),
                        json!({"fields": ["id"], "limit": 1, "order": "id asc"}),
                    )
                    .await?;
                rows.first()
                    .and_then(|row| row.get("id"))
                    .and_then(Value::as_i64)
                    .ok_or_else(|| RegistryError::Invalid {
                        message: format!("the id type '{name}' does not exist in g2p.id.type"),
                    })
            })
            .await
            .copied()
    }

    /// The `g2p.reg.id` rows of the given types (by name) held by `partners`.
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
                json!({"fields": ["partner_id", "id_type", "value"], "order": "id asc"}),
            )
            .await?)
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

    async fn store_chunk(
        &self,
        tokens: &BTreeMap<i64, &Token>,
        report: &mut StoreReport,
    ) -> Result<(), RegistryError> {
        let ids: Vec<i64> = tokens.keys().copied().collect();
        let existing = self.existing(&ids).await?;
        report.missing.extend(
            ids.iter()
                .filter(|id| !existing.contains(id))
                .map(|&id| RegistrantId(id)),
        );
        let present: Vec<i64> = existing.into_iter().collect();
        if present.is_empty() {
            return Ok(());
        }
        let held = self.reg_ids(&present, &[&self.id_types.token]).await?;
        let held: BTreeMap<i64, Option<String>> = held
            .into_iter()
            .map(|row| (row.partner, row.value))
            .collect();
        let mut create = Vec::new();
        for id in present {
            match held.get(&id) {
                Some(Some(value)) if value == tokens[&id].expose() => report.unchanged += 1,
                Some(_) => report.conflicts.push(RegistrantId(id)),
                None => create.push(id),
            }
        }
        if create.is_empty() {
            return Ok(());
        }
        let type_id = self.token_type_id().await?;
        let vals: Vec<Value> = create
            .iter()
            .map(|id| json!({"partner_id": id, "id_type": type_id, "value": tokens[id].expose()}))
            .collect();
        self.client
            .execute_kw(REG_ID, "create", json!([vals]), json!({}))
            .await?;
        report.stored += create.len();
        Ok(())
    }

    async fn remove_chunk(&self, partners: &[i64]) -> Result<usize, RegistryError> {
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

/// One `g2p.reg.id` row as read back, decoded straight from the answer: `partner_id` and
/// `id_type` are many2one pairs `[id, name]`. Only the partner's id is kept (a registrant
/// without a name reads back as `[id, false]` or `[id, ""]`, and the name is personal data
/// anyway); `value` is a string, or `false` when empty.
#[derive(Deserialize)]
struct RegIdRow {
    #[serde(rename = "partner_id", deserialize_with = "many2one_id")]
    partner: i64,
    #[serde(rename = "id_type", deserialize_with = "many2one_name")]
    type_name: String,
    #[serde(default, deserialize_with = "text_or_false")]
    value: Option<String>,
}

fn many2one_id<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let (id, _name): (i64, IgnoredAny) = Deserialize::deserialize(d)?;
    Ok(id)
}

fn many2one_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let (_id, name): (IgnoredAny, String) = Deserialize::deserialize(d)?;
    Ok(name)
}

/// A string, or `None` for Odoo's `false` (or `null`).
fn text_or_false<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct TextOrFalse;
    impl<'de> Visitor<'de> for TextOrFalse {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or false")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(TextOrFalse)
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
        let rows: Vec<Map<String, Value>> = self
            .client
            .search_read_as(
                PARTNER,
                domain.to_json(),
                json!({"fields": fields, "limit": query.limit, "order": "id asc"}),
            )
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        for map in rows {
            let Some(id) = map.get("id").and_then(Value::as_i64) else {
                return Err(protocol(
                    "res.partner.search_read",
                    "a row has no integer id",
                ));
            };
            records.push((id, map));
        }
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = records.iter().map(|(id, _)| *id).collect();
        let mut held = Vec::new();
        for chunk in ids.chunks(self.chunk) {
            let types = [self.id_types.vid.as_str(), self.id_types.token.as_str()];
            held.extend(self.reg_ids(chunk, &types).await?);
        }
        let mut vids: BTreeMap<i64, Vid> = BTreeMap::new();
        let mut tokens: BTreeSet<i64> = BTreeSet::new();
        for row in held {
            if row.type_name == self.id_types.token {
                tokens.insert(row.partner);
            } else if row.type_name == self.id_types.vid {
                if let Some(value) = row.value {
                    vids.entry(row.partner).or_insert_with(|| Vid::new(value));
                }
            }
        }
        Ok(records
            .into_iter()
            .map(|(id, map): (i64, Map<String, Value>)| Candidate {
                id: RegistrantId(id),
                vid: vids.remove(&id),
                has_token: tokens.contains(&id),
                fields: PersonalRecord(map),
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
                if let Some(value) = row.value {
                    out.entry(RegistrantId(row.partner))
                        .or_insert_with(|| Token::new(value));
                }
            }
        }
        Ok(out)
    }

    async fn store_tokens(
        &self,
        tokens: &[(RegistrantId, Token)],
    ) -> Result<StoreReport, RegistryError> {
        let mut report = StoreReport::default();
        // One token per registrant: a second, different token in the same call is a conflict.
        let mut wanted: BTreeMap<i64, &Token> = BTreeMap::new();
        for (id, token) in tokens {
            match wanted.get(&id.0) {
                None => {
                    wanted.insert(id.0, token);
                }
                Some(first) if *first == token => {}
                Some(_) => report.conflicts.push(*id),
            }
        }
        let wanted: Vec<(i64, &Token)> = wanted.into_iter().collect();
        for chunk in wanted.chunks(self.chunk) {
            let chunk: BTreeMap<i64, &Token> = chunk.iter().copied().collect();
            self.store_chunk(&chunk, &mut report).await?;
        }
        Ok(report)
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
        let values: BTreeSet<&str> = tokens.iter().map(Token::expose).collect();
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
                if let Some(value) = row.value {
                    out.entry(Token::new(value))
                        .or_default()
                        .push(RegistrantId(row.partner));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::parse_rows;

    const CONTEXT: &str = "g2p.reg.id.search_read";

    #[test]
    fn reg_id_rows_decode_without_a_json_tree() {
        let body = br#"{"jsonrpc": "2.0", "id": 3, "error": null, "result": [
            {"id": 9, "partner_id": [4, "Amina Banda"], "id_type": [2, "MOSIP VID"], "value": "123"},
            {"id": 10, "partner_id": [5, false], "id_type": [3, "MOSIP UIN TOKEN"], "value": false}
        ]}"#;
        let rows: Vec<RegIdRow> = parse_rows(body, CONTEXT).unwrap();
        let seen: Vec<_> = rows
            .iter()
            .map(|r| (r.partner, r.type_name.as_str(), r.value.as_deref()))
            .collect();
        assert_eq!(
            seen,
            [(4, "MOSIP VID", Some("123")), (5, "MOSIP UIN TOKEN", None)]
        );
    }

    #[test]
    fn odoo_errors_and_odd_shapes_are_named_without_values() {
        let denied = br#"{"jsonrpc": "2.0", "id": 3, "error": {"code": 200,
            "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.AccessError",
            "message": "secret-value"}}}"#;
        match parse_rows::<RegIdRow>(denied, CONTEXT) {
            Err(OdooError::Server { name, .. }) => assert_eq!(name, "odoo.exceptions.AccessError"),
            Err(other) => panic!("{other:?}"),
            Ok(rows) => panic!("{} rows", rows.len()),
        }
        for (body, problem) in [
            (
                &br#"{"result": [{"partner_id": false, "id_type": [2, "T"], "value": "secret-value"}]}"#[..],
                "a row does not have the fields asked for",
            ),
            (&br#"{"result": {"secret-value": 1}}"#[..], "the result is not a list"),
            (&br#"not json secret-value"#[..], "the body is not a JSON object"),
        ] {
            let Err(error) = parse_rows::<RegIdRow>(body, CONTEXT) else {
                panic!("{problem}: decoded")
            };
            let shown = format!("{error} {error:?}");
            assert!(shown.contains(problem), "{shown}");
            assert!(!shown.contains("secret-value"), "{shown}");
        }
    }
}
