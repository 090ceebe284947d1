//! The [`Registry`] trait: where registrants come from and where tokens go.

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
/// Records must expose what OMC's filters reach: on registrants `write_date` and the one2many
/// `reg_ids` to their ids, on ids `id_type` (a relation to the id type, whose `name` is
/// compared), `value` and `write_date`; an empty value reads as `false`.
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
