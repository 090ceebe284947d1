//! The [`Registry`] trait: where registrants come from and where tokens go.
//!
//! # Implementing a registry
//!
//! [`Registry`] states the contract; `conformance::registry` (feature
//! `conformance`) checks it, one named case per behaviour. `OdooRegistry` hands each filter to
//! Odoo; any other store evaluates it itself through [`domain::Record`](crate::domain::Record),
//! one implementation per kind of record a filter reaches: the registrant, its ids (`reg_ids`),
//! an id's type (`id_type`). A row of your store seen as those records:
//!
//! ```
//! use omc_core::domain::Record;
//! use omc_core::{Domain, IdTypes};
//! use serde_json::{Map, Value, json};
//!
//! /// A registrant of your store: its fields and its ids as (type name, value, write_date).
//! struct Row {
//!     id: i64,
//!     fields: Map<String, Value>,
//!     ids: Vec<(String, String, String)>,
//! }
//! struct Registrant<'a>(&'a Row);
//! struct RegId<'a>(&'a Row, usize);
//! struct IdType<'a>(&'a str);
//!
//! impl Record for Registrant<'_> {
//!     fn id(&self) -> i64 {
//!         self.0.id
//!     }
//!     fn value(&self, field: &str) -> Value {
//!         // Odoo's convention: a field with no value is `false`.
//!         self.0.fields.get(field).cloned().unwrap_or(Value::Bool(false))
//!     }
//!     fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
//!         // `reg_ids`, the one2many to the registrant's ids; other fields are plain.
//!         (field == "reg_ids").then(|| {
//!             (0..self.0.ids.len())
//!                 .map(|i| Box::new(RegId(self.0, i)) as Box<dyn Record + '_>)
//!                 .collect()
//!         })
//!     }
//! }
//!
//! impl Record for RegId<'_> {
//!     fn id(&self) -> i64 {
//!         self.0.id * 100 + self.1 as i64
//!     }
//!     fn value(&self, field: &str) -> Value {
//!         let (_, value, written) = &self.0.ids[self.1];
//!         match field {
//!             "value" if value.is_empty() => Value::Bool(false),
//!             "value" => json!(value),
//!             "write_date" => json!(written),
//!             _ => Value::Bool(false),
//!         }
//!     }
//!     fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
//!         // `id_type`, the many2one to the id type, compared by its `name`.
//!         (field == "id_type").then(|| vec![Box::new(IdType(&self.0.ids[self.1].0)) as _])
//!     }
//! }
//!
//! impl Record for IdType<'_> {
//!     fn id(&self) -> i64 {
//!         self.0.len() as i64
//!     }
//!     fn value(&self, field: &str) -> Value {
//!         if field == "name" { json!(self.0) } else { Value::Bool(false) }
//!     }
//!     fn related(&self, _field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
//!         None
//!     }
//! }
//!
//! let stamp = "2026-01-05 10:00:00".to_owned();
//! let mut row = Row {
//!     id: 7,
//!     // `active` must be there: like any field without a value, a missing one reads `false`,
//!     // and an archived registrant is never selected.
//!     fields: json!({"is_registrant": true, "active": true, "write_date": stamp})
//!         .as_object()
//!         .unwrap()
//!         .clone(),
//!     ids: vec![("MOSIP VID".into(), "4918350000000001".into(), stamp.clone())],
//! };
//! // What the engine selects: OpenG2P's default filter AND "holds a VID".
//! let selected = Domain::openg2p_default().for_connector(&IdTypes::default());
//! assert!(selected.selects(&Registrant(&row)), "selected");
//! // A delta run's window reaches the ids' write dates too.
//! let changed = Domain::parse(r#"["|", ["write_date", ">=", "2026-01-05 00:00:00"],
//!                                      ["reg_ids.write_date", ">=", "2026-01-05 00:00:00"]]"#)
//!     .unwrap();
//! assert!(changed.selects(&Registrant(&row)), "changed");
//! // Once it holds a token, the default filter leaves it out.
//! row.ids.push(("MOSIP UIN TOKEN".into(), "tok".into(), stamp));
//! assert!(!selected.selects(&Registrant(&row)), "tokenised");
//! ```
//!
//! The trait itself, implemented under [`#[omc_core::async_trait]`](macro@crate::async_trait).
//! For brevity this one keeps its registrants in a [`MemoryRegistry`](crate::memory::MemoryRegistry);
//! the comments say what each method owes the engine:
//!
//! ```
//! use omc_core::memory::MemoryRegistry;
//! use omc_core::{
//!     Candidate, CandidateQuery, RegistrantId, Registry, RegistryError, StoreReport, Token, Vid,
//!     async_trait,
//! };
//! use std::collections::BTreeMap;
//!
//! #[derive(Debug, Default)] // Debug shows no personal data
//! struct MyRegistry {
//!     store: MemoryRegistry,
//! }
//!
//! #[async_trait]
//! impl Registry for MyRegistry {
//!     async fn candidates(&self, q: &CandidateQuery) -> Result<Vec<Candidate>, RegistryError> {
//!         // Registrants `q.filter.selects(..)` (archived ones left out unless the filter names
//!         // `active`), id > q.after, ascending, at most q.limit; each with its VID, whether it
//!         // holds a token, its write dates and exactly q.fields (`false` where empty).
//!         self.store.candidates(q).await
//!     }
//!     async fn tokens(
//!         &self,
//!         ids: &[RegistrantId],
//!     ) -> Result<BTreeMap<RegistrantId, Token>, RegistryError> {
//!         // Only registrants holding a token with a value.
//!         self.store.tokens(ids).await
//!     }
//!     async fn store_tokens(
//!         &self,
//!         tokens: &[(RegistrantId, Token)],
//!     ) -> Result<StoreReport, RegistryError> {
//!         // One token per registrant: the same again is `unchanged`, another a conflict.
//!         self.store.store_tokens(tokens).await
//!     }
//!     async fn store_vids(&self, vids: &[(RegistrantId, Vid)]) -> Result<StoreReport, RegistryError> {
//!         self.store.store_vids(vids).await
//!     }
//!     async fn id_validation(&self, id_type: &str) -> Result<Option<String>, RegistryError> {
//!         self.store.id_validation(id_type).await
//!     }
//!     async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, RegistryError> {
//!         // Idempotent: a VID already gone is no error.
//!         self.store.remove_vids(ids).await
//!     }
//!     async fn holders(
//!         &self,
//!         tokens: &[Token],
//!     ) -> Result<BTreeMap<Token, Vec<RegistrantId>>, RegistryError> {
//!         self.store.holders(tokens).await
//!     }
//! }
//!
//! # #[cfg(feature = "conformance")]
//! # {
//! // The Registry suite, one named case per behaviour (feature `conformance`).
//! use omc_core::IdTypes;
//! use std::sync::Arc;
//! let report = tokio::runtime::Runtime::new().unwrap().block_on(
//!     omc_core::conformance::registry::run(|seeds, id_types: IdTypes| async move {
//!         let store = MemoryRegistry::with_seeds(id_types, seeds);
//!         Arc::new(MyRegistry { store }) as Arc<dyn Registry>
//!     }),
//! );
//! report.assert_passed();
//! # }
//! ```

use crate::domain::Domain;
use crate::error::RegistryError;
use crate::pii::{PersonalRecord, Token, Vid};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// A registrant's key in the registry (Odoo's `res.partner.id`). Safe to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistrantId(pub i64);

impl fmt::Display for RegistrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The names of the two registry id types OMC works with (settings, not constants).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdTypes {
    /// The id type holding the VID (default `MOSIP VID`).
    pub vid: String,
    /// The id type holding the token (default `MOSIP UIN TOKEN`).
    pub token: String,
}

impl Default for IdTypes {
    fn default() -> Self {
        Self {
            vid: "MOSIP VID".into(),
            token: "MOSIP UIN TOKEN".into(),
        }
    }
}

/// One keyset page of candidates.
#[derive(Debug, Clone)]
pub struct CandidateQuery {
    /// The operator's filter (an Odoo domain on `res.partner`).
    pub filter: Domain,
    /// The registrant fields to read (OpenG2P's "list of fields to be used").
    pub fields: Vec<String>,
    /// Only registrants whose id is greater than this (keyset paging), or all.
    pub after: Option<RegistrantId>,
    /// At most this many registrants.
    pub limit: usize,
}

/// When a registrant and its ids were last written, as the registry stamps them (Odoo's
/// `write_date`, UTC, `YYYY-MM-DD HH:MM:SS`; text of that form orders as time does).
///
/// Both are needed to see a change: creating, rewriting or deleting a `g2p.reg.id` does not
/// change the partner's own `write_date`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteDates {
    /// The registrant's own `write_date`.
    pub partner: Option<String>,
    /// The latest `write_date` among its ids of the VID and token types.
    pub ids: Option<String>,
}

/// A registrant selected by a filter, with what OMC needs to send it.
#[derive(Clone)]
pub struct Candidate {
    /// The registrant's key.
    pub id: RegistrantId,
    /// Its VID (the value of its id of the VID type), if it holds one.
    pub vid: Option<Vid>,
    /// Whether it holds a token: an id of the token type with a non-empty value.
    pub has_token: bool,
    /// Whether it holds an id of the token type with no value (OpenG2P does not require
    /// one): not a token, so its VID is never removed; reported for an operator to look at.
    pub empty_token_id: bool,
    /// When it and its ids were last written.
    pub written: WriteDates,
    /// The requested fields, as the registry gives them (Odoo's `false` for empty).
    pub fields: PersonalRecord,
}

impl Candidate {
    /// A candidate with no empty token id and unknown write dates.
    pub fn new(
        id: RegistrantId,
        vid: Option<Vid>,
        has_token: bool,
        fields: PersonalRecord,
    ) -> Self {
        Self {
            id,
            vid,
            has_token,
            empty_token_id: false,
            written: WriteDates::default(),
            fields,
        }
    }
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("id", &self.id)
            .field("has_vid", &self.vid.is_some())
            .field("has_token", &self.has_token)
            .field("empty_token_id", &self.empty_token_id)
            .field("written", &self.written)
            .field("fields", &self.fields)
            .finish()
    }
}

/// What storing a set of tokens did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreReport {
    /// Tokens newly stored.
    pub stored: usize,
    /// The registrants whose token (or VID) this call stored: `stored` of them.
    pub stored_ids: Vec<RegistrantId>,
    /// Registrants that already held this very token (a replay: nothing changed).
    pub unchanged: usize,
    /// Registrants that already held a different token: not overwritten.
    pub conflicts: Vec<RegistrantId>,
    /// Registrants that do not exist (or are archived): nothing stored.
    pub missing: Vec<RegistrantId>,
}

/// Where registrants come from and where tokens go.
///
/// Implementations: [`MemoryRegistry`](crate::memory::MemoryRegistry) and `omc_odoo::OdooRegistry`.
/// Every method is idempotent; none is atomic with another (Odoo runs each call in its own
/// transaction), which is why the engine removes a VID only after reading its token back.
///
/// Implement it under `#[omc_core::async_trait]` (rustdoc shows the methods in their expanded
/// form, each returning a boxed `Send` future); the [module documentation](self) has an example
/// and the conformance suite (`omc_core::conformance::registry`, feature `conformance`) checks
/// an implementation against everything below.
///
/// # The records behind the filters
///
/// [`candidates`](Self::candidates) evaluates `query.filter`, an Odoo domain on `res.partner`,
/// with Odoo 17's semantics. Besides the fields an operator's own filter names, the domains OMC
/// builds reach these records, relations and fields, which every registry must expose:
///
/// | record | field | OMC's domains that use it |
/// |---|---|---|
/// | registrant (`res.partner`) | `id` | keyset paging (`id > after`), imports (`id in [...]`), partitions |
/// | | `active` | archived (`false`) registrants are left out unless the filter names `active` |
/// | | `is_registrant` | OpenG2P's default filter |
/// | | `write_date` | delta runs: `write_date >= watermark` |
/// | | `reg_ids` (one2many to its ids) | every criterion on ids below |
/// | id (`g2p.reg.id`) | `id_type` (many2one to the id type) | "holds a VID" (`reg_ids` `any` `id_type = <VID type>`), the default filter (`reg_ids.id_type =like "MOSIP VID"`, `! … "MOSIP UIN TOKEN"`), the cleanup filter, imports by domain |
/// | | `value` | the VID or token itself |
/// | | `write_date` | delta runs: `reg_ids.write_date >= watermark` (writing an id does not stamp the registrant) |
/// | id type (`g2p.id.type`) | `name` | what `id_type` is compared with (a many2one compared with a string matches the related record's name) |
///
/// A registry that is not Odoo evaluates domains itself: it implements
/// [`domain::Record`](crate::domain::Record) for each of those records (`value` for plain
/// fields, `related` for `reg_ids` and `id_type`, `field_type` so that values convert as
/// Odoo converts them) and keeps a registrant when
/// [`Domain::selects`](crate::Domain::selects) says so, which also leaves archived
/// registrants out as Odoo does. `conformance::domain` holds the table of filters with the
/// registrants Odoo 17 answered for each.
///
/// # Conventions
///
/// - **Empty is `false`**, as in Odoo: a field or id value with no value reads as JSON
///   `false`, in domain evaluation (`[field, "=", false]` selects unset fields; `Record::value`
///   may give `Null` or `false`) and in [`Candidate::fields`], where every requested field is
///   present (`false` when the registrant has no value); the engine leaves such fields out of
///   what it sends. A many2one field reads as `[id, name]` (the engine sends the name).
/// - **Ids by type name**: a registrant's VID is the value of its id of type
///   [`IdTypes::vid`], its token that of its id of type [`IdTypes::token`]; an id with an
///   empty value is not a VID or a token ([`Candidate::empty_token_id`] reports such a token
///   id). A registrant holds at most one id of each type.
/// - **Write dates** are Odoo's `write_date`, UTC, `YYYY-MM-DD HH:MM:SS`, stamped on a
///   registrant when its fields change and on an id when the id is written;
///   [`WriteDates::ids`] is the latest among its ids of the VID and token types.
/// - **Personal data** (fields, VIDs, tokens) stays in [`PersonalRecord`], [`Vid`] and
///   [`Token`], and out of `Debug`, `Display`, logs and [`RegistryError`]s.
#[async_trait]
pub trait Registry: fmt::Debug + Send + Sync + 'static {
    /// One page of registrants matching `query.filter`, in ascending id order, each with its VID,
    /// whether it holds a token, its write dates, and the requested fields. Archived registrants
    /// are left out unless the filter mentions `active`. An empty page means the end.
    async fn candidates(&self, query: &CandidateQuery) -> Result<Vec<Candidate>, RegistryError>;

    /// The tokens held by the given registrants; registrants without one are absent.
    async fn tokens(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, Token>, RegistryError>;

    /// Stores each token as its registrant's token id. Idempotent: one token id per registrant;
    /// the same token again changes nothing; a different token is reported, never overwritten.
    ///
    /// Safe under concurrency (a receiver stores from concurrent callbacks): calls for the same
    /// registrant through one registry (one `Arc<dyn Registry>`, or clones of one adapter) act
    /// as if one ran after the other, so it ends with exactly one token id, the first stored;
    /// exactly one call reports it `stored`, every other `unchanged` (the same token) or a
    /// conflict (another token). Calls from several processes sharing a registry never leave
    /// it two token ids either; an adapter says what it reports then. A registry whose check
    /// and create are not one atomic step (OpenG2P's one id per type is a Python check, which
    /// two overlapping Odoo transactions can both pass) serialises its own stores per
    /// registrant and, after creating, removes every token id beside a registrant's first.
    async fn store_tokens(
        &self,
        tokens: &[(RegistrantId, Token)],
    ) -> Result<StoreReport, RegistryError>;

    /// Stores each VID as its registrant's VID id (a manual import). Idempotent and safe under
    /// concurrency like [`store_tokens`](Self::store_tokens): the same VID again changes
    /// nothing; a registrant already holding a different VID is a conflict, never overwritten.
    /// A value the id type's `id_validation` refuses fails the call
    /// ([`RegistryError::Invalid`]).
    async fn store_vids(&self, vids: &[(RegistrantId, Vid)]) -> Result<StoreReport, RegistryError>;

    /// The `id_validation` pattern of the id type named `id_type` (a Python regular expression
    /// applied with `re.match`), or `None` when it has none. A type that does not exist is
    /// [`RegistryError::Invalid`], naming it.
    async fn id_validation(&self, id_type: &str) -> Result<Option<String>, RegistryError>;

    /// Removes the VID ids of the given registrants and returns how many were removed.
    /// Idempotent: a VID already gone is not an error.
    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, RegistryError>;

    /// For each of the given tokens held by at least one registrant, the registrants holding it
    /// as their token id, in ascending id order; tokens nobody holds are absent.
    ///
    /// This is what deduplication rests on: a token is derived from the person, so two holders
    /// of one token are one person registered twice.
    async fn holders(
        &self,
        tokens: &[Token],
    ) -> Result<BTreeMap<Token, Vec<RegistrantId>>, RegistryError>;
}

/// A registry chosen at run time.
pub type DynRegistry = Arc<dyn Registry>;

/// The given registrants as candidates (their VID, token and write dates; no fields), read in
/// pages of 500: those that exist and are active.
pub async fn candidates_of(
    registry: &dyn Registry,
    ids: &[RegistrantId],
) -> Result<BTreeMap<RegistrantId, Candidate>, RegistryError> {
    let mut out = BTreeMap::new();
    for chunk in ids.chunks(500) {
        let raw: Vec<i64> = chunk.iter().map(|id| id.0).collect();
        let query = CandidateQuery {
            filter: Domain::id_in(&raw),
            fields: Vec::new(),
            after: None,
            limit: chunk.len(),
        };
        for c in registry.candidates(&query).await? {
            out.insert(c.id, c);
        }
    }
    Ok(out)
}
