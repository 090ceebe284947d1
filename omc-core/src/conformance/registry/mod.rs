//! The conformance suite for [`Registry`] implementations.
//!
//! The harness seeds a registry with the suite's registrants ([`fixture`]) and says which id
//! each one got; the cases talk of registrants by their number in the fixture (1 to 30) and
//! select only the fixture's registrants, so a real registry holding other data passes too.
//! Cases that only read share one seeded registry; each case that writes seeds its own.

mod reads;
mod writes;

use super::check::{CaseError, call, check};
use super::{Suite, SuiteReport};
use crate::domain::Domain;
use crate::memory::RegistrantSeed;
use crate::pii::{Token, Vid};
use crate::registry::{Candidate, CandidateQuery, IdTypes, RegistrantId, Registry};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::OnceCell;

/// How many registrants [`fixture`] seeds.
pub const FIXTURE_SIZE: i64 = 30;

/// A registry seeded by a harness, and the id each seed got in it.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// The registry under test.
    pub registry: Arc<dyn Registry>,
    /// For each seed's id, the id the registry gave that registrant. Ids must ascend as the
    /// seeds' ids do (create them in the seeds' order).
    pub ids: BTreeMap<RegistrantId, RegistrantId>,
}

impl Seeded {
    /// A registry that kept the seeds' own ids.
    pub fn same_ids(registry: Arc<dyn Registry>, seeds: &[RegistrantSeed]) -> Self {
        let ids = seeds.iter().map(|s| (s.id, s.id)).collect();
        Self { registry, ids }
    }
}

/// What the suite needs: registries holding given registrants.
///
/// A closure `Fn(Vec<RegistrantSeed>, IdTypes) -> impl Future<Output = Arc<dyn Registry>>`
/// making a registry that keeps the seeds' ids is a harness.
#[async_trait]
pub trait RegistryHarness: Send + Sync + 'static {
    /// A registry holding `seeds` (with their fields, VIDs and tokens) whose id types are
    /// named `id_types`, and the ids they got. A registry shared with other data is fine;
    /// the suite selects only these registrants. Called once per writing case.
    async fn seed(&self, seeds: Vec<RegistrantSeed>, id_types: IdTypes) -> Result<Seeded, String>;
}

#[async_trait]
impl<F, Fut> RegistryHarness for F
where
    F: Fn(Vec<RegistrantSeed>, IdTypes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Arc<dyn Registry>> + Send + 'static,
{
    async fn seed(&self, seeds: Vec<RegistrantSeed>, id_types: IdTypes) -> Result<Seeded, String> {
        let registry = self(seeds.clone(), id_types).await;
        Ok(Seeded::same_ids(registry, &seeds))
    }
}

/// Runs every case against registries `harness` makes.
pub async fn run(harness: impl RegistryHarness) -> SuiteReport {
    let run = Run {
        harness: Box::new(harness),
        series: series(),
        seedings: AtomicU64::new(0),
        shared: OnceCell::new(),
    };
    suite().run(Arc::new(run)).await
}

/// Runs the suite and panics, listing every failing case with its message, unless all pass;
/// otherwise answers the report.
pub async fn run_registry_suite(harness: impl RegistryHarness) -> SuiteReport {
    let report = run(harness).await;
    report.assert_passed();
    report
}

/// The names of the suite's cases, in the order they run.
pub fn case_names() -> Vec<&'static str> {
    suite().case_names()
}

fn suite() -> Suite<Run> {
    let mut cases = reads::cases();
    cases.extend(writes::cases());
    Suite::new("Registry", cases)
}

/// The registrants the suite seeds, with VIDs and tokens of the series `series` (16-digit
/// VIDs: 11 digits of the series, 5 of the registrant's number).
///
/// 1: complete, VID. 2: VID and token. 3: token only. 4: no id. 5: archived, VID.
/// 6: a group with a VID. 7: gender empty, VID. 8..=30: complete, VID.
pub fn fixture(series: u64) -> Vec<RegistrantSeed> {
    let complete = |id: i64| {
        RegistrantSeed::individual(
            id,
            json!({"given_name": format!("Given{id}"), "family_name": "Family",
                   "birthdate": "1990-02-03", "gender": "Female",
                   "address": "1 Road", "email": format!("p{id}@example.org"), "phone": "+1000"}),
            Some(vid_of(series, id).expose()),
        )
    };
    let mut seeds: Vec<RegistrantSeed> = (1..=FIXTURE_SIZE).map(complete).collect();
    seeds[1].token = Some(token_of(series, "of-2"));
    seeds[2].vid = None;
    seeds[2].token = Some(token_of(series, "of-3"));
    seeds[3].vid = None;
    seeds[4]
        .fields
        .0
        .insert("active".into(), Value::Bool(false));
    seeds[5]
        .fields
        .0
        .insert("is_group".into(), Value::Bool(true));
    seeds[6]
        .fields
        .0
        .insert("gender".into(), Value::Bool(false));
    seeds
}

fn vid_of(series: u64, n: i64) -> Vid {
    Vid::new(format!("{:011}{n:05}", series % 100_000_000_000))
}

fn token_of(series: u64, name: &str) -> Token {
    Token::new(format!("omc-conformance-{series}-{name}"))
}

/// A number unique to this run of the suite (milliseconds since 1970).
fn series() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// One run of the suite: the harness and the registry the reading cases share.
struct Run {
    harness: Box<dyn RegistryHarness>,
    series: u64,
    /// How many registries it has seeded: each gets VIDs and tokens of its own, so that
    /// registries sharing one database (a real Odoo) never share a value.
    seedings: AtomicU64,
    shared: OnceCell<Result<Arc<Fixture>, CaseError>>,
}

impl Run {
    /// A registry of its own holding the fixture, its id types named `id_types`.
    async fn fresh(&self, id_types: IdTypes) -> Result<Fixture, CaseError> {
        let series = self.series * 100 + self.seedings.fetch_add(1, Ordering::Relaxed);
        let seeded = self
            .harness
            .seed(fixture(series), id_types)
            .await
            .map_err(|e| {
                CaseError::failed(format!("the harness could not seed a registry: {e}"))
            })?;
        let ids: BTreeMap<i64, RegistrantId> =
            seeded.ids.iter().map(|(seed, id)| (seed.0, *id)).collect();
        check(ids.len() == FIXTURE_SIZE as usize, || {
            format!(
                "the harness seeded {} of the fixture's {FIXTURE_SIZE} registrants",
                ids.len()
            )
        })?;
        Ok(Fixture {
            registry: seeded.registry,
            ids,
            series,
        })
    }

    /// The registry the reading cases share (seeded on first use, never written to).
    async fn shared(&self) -> Result<Arc<Fixture>, CaseError> {
        self.shared
            .get_or_init(|| async { self.fresh(IdTypes::default()).await.map(Arc::new) })
            .await
            .clone()
    }
}

/// A seeded registry and the ids of the fixture's registrants in it.
struct Fixture {
    registry: Arc<dyn Registry>,
    ids: BTreeMap<i64, RegistrantId>,
    series: u64,
}

/// A registrant as messages name it: its number in the fixture, or its id when it is none of
/// the fixture's.
#[derive(PartialEq, Eq)]
enum Shown {
    Number(i64),
    Other(RegistrantId),
}

impl fmt::Debug for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::Other(id) => write!(f, "id {id} (not the fixture's)"),
        }
    }
}

/// A registrant id no registry holds.
const NOBODY: RegistrantId = RegistrantId(2_000_000_000);

impl Fixture {
    /// The id of the fixture's registrant number `n`.
    fn id(&self, n: i64) -> RegistrantId {
        self.ids.get(&n).copied().unwrap_or(RegistrantId(-n))
    }

    fn ids(&self, numbers: impl IntoIterator<Item = i64>) -> Vec<RegistrantId> {
        numbers.into_iter().map(|n| self.id(n)).collect()
    }

    /// Ids as messages show them.
    fn shown(&self, ids: &[RegistrantId]) -> Vec<Shown> {
        ids.iter()
            .map(|id| match self.ids.iter().find(|(_, i)| *i == id) {
                Some((n, _)) => Shown::Number(*n),
                None => Shown::Other(*id),
            })
            .collect()
    }

    fn numbers(numbers: impl IntoIterator<Item = i64>) -> Vec<Shown> {
        numbers.into_iter().map(Shown::Number).collect()
    }

    fn vid(&self, n: i64) -> Vid {
        vid_of(self.series, n)
    }

    fn token(&self, name: &str) -> Token {
        token_of(self.series, name)
    }

    /// `filter`, narrowed to the fixture's registrants.
    fn scoped(&self, filter: Domain) -> Domain {
        let ids: Vec<i64> = self.ids.values().map(|id| id.0).collect();
        filter.and(Domain::id_in(&ids))
    }

    /// One page of the fixture's registrants matching `filter`.
    async fn page(
        &self,
        filter: Domain,
        after: Option<RegistrantId>,
        limit: usize,
    ) -> Result<Vec<Candidate>, CaseError> {
        let query = CandidateQuery {
            filter: self.scoped(filter),
            fields: crate::config::default_fields(),
            after,
            limit,
        };
        self.registry
            .candidates(&query)
            .await
            .map_err(call("candidates"))
    }

    /// Every fixture registrant matching `filter`, read in pages of `limit`, as numbers. Fails
    /// at the first page that holds more than `limit`, does not start past `after` or does not
    /// ascend, and after more pages than the fixture could fill.
    async fn all(&self, filter: &Domain, limit: usize) -> Result<Vec<Shown>, CaseError> {
        let mut ids: Vec<RegistrantId> = Vec::new();
        let mut after = None;
        let most_pages = FIXTURE_SIZE as usize / limit.max(1) + 2;
        for _ in 0..most_pages {
            let page = self.page(filter.clone(), after, limit).await?;
            let got: Vec<RegistrantId> = page.iter().map(|c| c.id).collect();
            check_page(&got, after, limit, |ids| self.shown(ids))?;
            let Some(last) = got.last() else {
                return Ok(self.shown(&ids));
            };
            after = Some(*last);
            ids.extend(got);
            // Let a time limit fire even when the registry never waits.
            tokio::task::yield_now().await;
        }
        Err(CaseError::failed(format!(
            "paging in pages of {limit}: still not at an empty page after {most_pages} pages \
             of a fixture of {FIXTURE_SIZE}; the contract wants an empty page at the end"
        )))
    }
}

/// Fails unless `page` (ids in the order given) holds at most `limit` ids, ascending, all
/// greater than `after`.
fn check_page(
    page: &[RegistrantId],
    after: Option<RegistrantId>,
    limit: usize,
    shown: impl Fn(&[RegistrantId]) -> Vec<Shown>,
) -> Result<(), CaseError> {
    check(page.len() <= limit, || {
        format!(
            "candidates with limit {limit}: the implementation gave {} registrants, the \
             contract wants at most {limit}",
            page.len()
        )
    })?;
    if let Some(after) = after
        && let Some(first) = page.first()
        && *first <= after
    {
        return Err(CaseError::failed(format!(
            "candidates with `after` = registrant {:?}: the page starts at registrant {:?} \
             (the page: {:?}), the contract wants only ids greater than `after`; is `after` \
             ignored?",
            shown(&[after])[0],
            shown(&[*first])[0],
            shown(page)
        )));
    }
    check(page.windows(2).all(|w| w[0] < w[1]), || {
        format!(
            "candidates: the page {:?} is not in ascending id order without repeats, as the \
             contract wants",
            shown(page)
        )
    })
}

/// The fixture's candidate `n` in `page`, or a failure naming what the page held.
fn candidate<'a>(
    fixture: &Fixture,
    page: &'a [Candidate],
    n: i64,
) -> Result<&'a Candidate, CaseError> {
    let id = fixture.id(n);
    page.iter().find(|c| c.id == id).ok_or_else(|| {
        let ids: Vec<RegistrantId> = page.iter().map(|c| c.id).collect();
        CaseError::failed(format!(
            "registrant {n} is not among the candidates {:?}, the contract wants it there",
            fixture.shown(&ids)
        ))
    })
}
