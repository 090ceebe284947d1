//! The conformance suite for [`TokenSeeder`] implementations.
//!
//! What differs between MTS deployments is a parameter of the harness: how tokens are derived
//! ([`TokenRule`]: `mts-mock`'s formula, an oracle, or only "the same VID gives the same
//! token", as with MTS backed by a real MOSIP IDA) and which fields the deployment requires
//! ([`SeederHarness::mandatory`], and so which `ATS-REQ-*` codes it gives). Each case submits
//! its own records, under registrant keys no other case uses, with VIDs unique to the run.

use super::check::{CaseError, call, check, check_eq, wait_for};
use super::{Case, CaseResult, Suite, SuiteReport};
use crate::authdata::REGISTRANT_KEY;
use crate::error::SeederError;
use crate::mts_rules::{MandatoryFields, MtsField, VID_MISSING};
use crate::pii::{PersonalRecord, Token, Vid};
use crate::seeder::{Mapping, RequestId, RequestStatus, SeedRequest, TokenSeeder};
use crate::sink::{Delivery, RecordStatus, SeedResult};
use crate::testing::mock_token;
use async_trait::async_trait;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How the seeder under test derives tokens.
#[derive(Clone)]
#[non_exhaustive]
pub enum TokenRule {
    /// MTS's `mts-mock` formula ([`mock_token`]) for this partner id.
    MtsMock {
        /// The partner id MTS derives tokens for.
        partner_id: String,
    },
    /// The token this function gives for a VID.
    Oracle(Arc<dyn Fn(&Vid) -> Token + Send + Sync>),
    /// Unknown to the suite (MTS over a real MOSIP IDA): it checks only that each processed
    /// record has a non-empty token, the same VID the same token, different VIDs different ones.
    Opaque,
}

impl TokenRule {
    /// `mts-mock`'s formula for `partner_id`.
    pub fn mts_mock(partner_id: impl Into<String>) -> Self {
        Self::MtsMock {
            partner_id: partner_id.into(),
        }
    }

    /// The token the rule expects for `vid`, when it knows one.
    fn expected(&self, vid: &Vid) -> Option<Token> {
        match self {
            Self::MtsMock { partner_id } => Some(mock_token(vid, partner_id)),
            Self::Oracle(oracle) => Some(oracle(vid)),
            Self::Opaque => None,
        }
    }
}

impl fmt::Debug for TokenRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MtsMock { partner_id } => f
                .debug_struct("MtsMock")
                .field("partner_id", partner_id)
                .finish(),
            Self::Oracle(_) => f.write_str("Oracle"),
            Self::Opaque => f.write_str("Opaque"),
        }
    }
}

/// What the suite needs around a seeder: a delivery whose results it can observe, and what the
/// deployment under test does differently.
#[async_trait]
pub trait SeederHarness: Send + Sync + 'static {
    /// The seeder under test.
    fn seeder(&self) -> Arc<dyn TokenSeeder>;
    /// A delivery whose results [`delivered`](Self::delivered) will show.
    async fn delivery(&self) -> Delivery;
    /// Every result delivered so far.
    async fn delivered(&self) -> Vec<SeedResult>;
    /// How the seeder derives tokens.
    fn tokens(&self) -> TokenRule;
    /// The fields the seeder refuses a record without (MTS's default: name, gender, dob and
    /// fullAddress). With none that has a code, the mandatory-field case is skipped.
    fn mandatory(&self) -> MandatoryFields {
        MandatoryFields::default()
    }
    /// How long results may take to arrive (default 10 s; a case's limit is 15 s).
    fn patience(&self) -> Duration {
        Duration::from_secs(10)
    }
}

/// Runs every case against `harness`.
pub async fn run(harness: impl SeederHarness) -> SuiteReport {
    let run = Run {
        harness: Box::new(harness),
        series: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0),
    };
    suite().run(Arc::new(run)).await
}

/// Runs the suite and panics, listing every failing case with its message, unless all pass;
/// otherwise answers the report.
pub async fn run_seeder_suite(harness: impl SeederHarness) -> SuiteReport {
    let report = run(harness).await;
    report.assert_passed();
    report
}

/// The names of the suite's cases, in the order they run.
pub fn case_names() -> Vec<&'static str> {
    suite().case_names()
}

fn suite() -> Suite<Run> {
    Suite::new(
        "TokenSeeder",
        vec![
            Case::new(
                "a_batch_gets_a_request_id_and_reaches_a_final_status_the_seeder_knows",
                request_reaches_final_status,
            ),
            Case::new(
                "every_record_gets_one_result_with_the_expected_token",
                expected_tokens,
            ),
            Case::new(
                "a_record_missing_a_mandatory_field_is_invalid_with_its_code_and_the_rest_go_through",
                mandatory_fields,
            ),
            Case::new(
                "a_record_without_a_vid_is_invalid_with_ats_req_009",
                missing_vid,
            ),
            Case::new(
                "each_submission_is_a_new_request_and_the_same_vid_gets_the_same_token",
                resubmission,
            ),
            Case::new("an_empty_batch_is_rejected_with_ats_req_102", empty_batch),
            Case::new("an_unknown_request_is_gone", unknown_request),
        ],
    )
}

struct Run {
    harness: Box<dyn SeederHarness>,
    series: u64,
}

impl Run {
    /// A VID unique to the run: 11 digits of the series, 5 of `n`.
    fn vid(&self, n: i64) -> Vid {
        Vid::new(format!("{:011}{n:05}", self.series % 100_000_000_000))
    }

    /// Submits `records` with the harness's delivery.
    async fn submit(&self, records: Vec<PersonalRecord>) -> Result<RequestId, CaseError> {
        let delivery = self.harness.delivery().await;
        let request = SeedRequest {
            mapping: Mapping::default(),
            lang: "eng".into(),
            authdata: records,
        };
        self.harness
            .seeder()
            .submit(&request, &delivery)
            .await
            .map_err(call("submit"))
    }

    /// The results delivered for `ids`, once there is one for each.
    async fn results(&self, ids: &[i64]) -> Result<BTreeMap<i64, SeedResult>, CaseError> {
        let what = format!("a delivered result for each of the registrants {ids:?}");
        wait_for(&what, self.harness.patience(), || async {
            let got: BTreeMap<i64, SeedResult> = self
                .harness
                .delivered()
                .await
                .into_iter()
                .filter(|r| ids.contains(&r.registrant.0))
                .map(|r| (r.registrant.0, r))
                .collect();
            Ok(if got.len() == ids.len() {
                Ok(got)
            } else {
                Err(format!("results for {:?}", got.keys().collect::<Vec<_>>()))
            })
        })
        .await
    }
}

/// A complete record for registrant key `id` with VID `vid`.
fn record(id: i64, vid: &Vid) -> PersonalRecord {
    let value = json!({REGISTRANT_KEY: id, "vid": vid.expose(), "given_name": "Given",
                       "family_name": "Family", "gender": "Female", "birthdate": "1990-02-03",
                       "address": "1 Road", "email": "a@example.org", "phone": "+1000"});
    match value {
        Value::Object(map) => PersonalRecord(map),
        _ => PersonalRecord::new(),
    }
}

/// The record keys that feed an MTS field under the default mapping.
fn keys_of(field: MtsField) -> &'static [&'static str] {
    match field {
        MtsField::Vid => &["vid"],
        MtsField::Name => &["given_name", "family_name"],
        MtsField::Gender => &["gender"],
        MtsField::Dob => &["birthdate"],
        MtsField::PhoneNumber => &["phone"],
        MtsField::EmailId => &["email"],
        MtsField::FullAddress => &["address"],
    }
}

/// `(status, has a token, error code)` of a result, as messages show it.
fn state(r: &SeedResult) -> (RecordStatus, bool, Option<String>) {
    (r.status, r.token.is_some(), r.error_code.clone())
}

fn processed() -> (RecordStatus, bool, Option<String>) {
    (RecordStatus::Processed, true, None)
}

async fn request_reaches_final_status(run: Arc<Run>) -> CaseResult {
    let request = run
        .submit(vec![
            record(1001, &run.vid(1001)),
            record(1002, &run.vid(1002)),
        ])
        .await?;
    check(!request.0.is_empty(), || {
        "submit: the implementation gave an empty request id, the contract wants one".into()
    })?;
    let seeder = run.harness.seeder();
    let status = wait_for(
        "a final status of a fresh request",
        run.harness.patience(),
        || async {
            let status = seeder.status(&request).await.map_err(call("status"))?;
            Ok(if status.is_final() {
                Ok(status)
            } else {
                Err(format!("{status:?}"))
            })
        },
    )
    .await?;
    check(status != RequestStatus::Gone, || {
        "the status of a request just submitted: the implementation gave Gone, the contract \
         wants it known"
            .into()
    })
}

async fn expected_tokens(run: Arc<Run>) -> CaseResult {
    let rule = run.harness.tokens();
    let mut vids: BTreeMap<i64, Vid> = (2001..=2003).map(|id| (id, run.vid(id))).collect();
    // mts-mock's known answer, when the partner is the one it was taken for.
    let known =
        matches!(&rule, TokenRule::MtsMock { partner_id } if partner_id == "mpartner-default-omc");
    if known {
        vids.insert(2004, Vid::new("4918350000000001"));
    }
    run.submit(vids.iter().map(|(id, vid)| record(*id, vid)).collect())
        .await?;
    let ids: Vec<i64> = vids.keys().copied().collect();
    let results = run.results(&ids).await?;
    for (id, r) in &results {
        check_eq(
            state(r),
            processed(),
            &format!("registrant {id}'s result (a complete record): (status, has a token, code)"),
        )?;
        if let Some(want) = rule.expected(&vids[id]) {
            check(r.token.as_ref() == Some(&want), || {
                format!(
                    "registrant {id}'s token: not the one {rule:?} gives for its VID, the \
                     contract wants that one"
                )
            })?;
        }
        check(
            r.token.as_ref().is_some_and(|t| !t.expose().is_empty()),
            || format!("registrant {id}'s token is empty, the contract wants a token"),
        )?;
    }
    if known {
        check(
            results[&2004].token.as_ref().map(Token::expose)
                == Some("LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA"),
            || "mts-mock's known answer for its test VID: another token".into(),
        )?;
    }
    let distinct: std::collections::BTreeSet<_> =
        results.values().filter_map(|r| r.token.clone()).collect();
    check_eq(
        distinct.len(),
        results.len(),
        "distinct tokens among the results of records with distinct VIDs",
    )
}

async fn mandatory_fields(run: Arc<Run>) -> CaseResult {
    let fields: Vec<(MtsField, &str)> = run
        .harness
        .mandatory()
        .0
        .iter()
        .filter_map(|f| Some((*f, f.codes()?.0)))
        .collect();
    if fields.is_empty() {
        return Err(CaseError::skipped(
            "the harness names no mandatory field with a code",
        ));
    }
    let mut records = vec![record(3000, &run.vid(3000))];
    for (i, (field, _)) in (3001..).zip(&fields) {
        let mut r = record(i, &run.vid(i));
        for key in keys_of(*field) {
            r.0.remove(*key);
        }
        records.push(r);
    }
    run.submit(records).await?;
    let ids: Vec<i64> = (3000..=3000 + fields.len() as i64).collect();
    let results = run.results(&ids).await?;
    check_eq(
        state(&results[&3000]),
        processed(),
        "a complete record beside records refused: (status, has a token, code)",
    )?;
    for (i, (field, code)) in (3001..).zip(&fields) {
        check_eq(
            state(&results[&i]),
            (RecordStatus::Invalid, false, Some((*code).to_owned())),
            &format!(
                "a record without the mandatory {}: (status, has a token, code)",
                field.as_str()
            ),
        )?;
    }
    Ok(())
}

async fn missing_vid(run: Arc<Run>) -> CaseResult {
    let mut without = record(4002, &run.vid(4002));
    without.0.remove("vid");
    run.submit(vec![record(4001, &run.vid(4001)), without])
        .await?;
    let results = run.results(&[4001, 4002]).await?;
    check_eq(
        state(&results[&4001]),
        processed(),
        "a complete record beside one without a VID: (status, has a token, code)",
    )?;
    check_eq(
        state(&results[&4002]),
        (RecordStatus::Invalid, false, Some(VID_MISSING.to_owned())),
        "a record without a VID: (status, has a token, code)",
    )
}

async fn resubmission(run: Arc<Run>) -> CaseResult {
    let vid = run.vid(5001);
    let first = run.submit(vec![record(5001, &vid)]).await?;
    let again = run.submit(vec![record(5002, &vid)]).await?;
    check(first != again, || {
        format!(
            "two submissions: the implementation gave the same request id {first} twice, the \
             contract wants a new request each time"
        )
    })?;
    let results = run.results(&[5001, 5002]).await?;
    for id in [5001, 5002] {
        check_eq(
            state(&results[&id]),
            processed(),
            &format!("registrant {id}'s result: (status, has a token, code)"),
        )?;
    }
    check(results[&5001].token == results[&5002].token, || {
        "two submissions of the same VID: different tokens, the contract wants the same".into()
    })
}

async fn empty_batch(run: Arc<Run>) -> CaseResult {
    let delivery = run.harness.delivery().await;
    let request = SeedRequest {
        mapping: Mapping::default(),
        lang: "eng".into(),
        authdata: Vec::new(),
    };
    match run.harness.seeder().submit(&request, &delivery).await {
        Err(SeederError::Rejected { code, .. }) => check_eq(
            code.as_str(),
            "ATS-REQ-102",
            "the code of an empty batch's rejection",
        ),
        Err(e) => Err(CaseError::failed(format!(
            "an empty batch: the implementation failed with \"{e}\", the contract wants \
             SeederError::Rejected with ATS-REQ-102"
        ))),
        Ok(id) => Err(CaseError::failed(format!(
            "an empty batch: the implementation accepted it as request {id}, the contract \
             wants SeederError::Rejected with ATS-REQ-102"
        ))),
    }
}

async fn unknown_request(run: Arc<Run>) -> CaseResult {
    let status = run
        .harness
        .seeder()
        .status(&RequestId("no-such-request".into()))
        .await
        .map_err(call("status of an unknown request"))?;
    check_eq(
        status,
        RequestStatus::Gone,
        "the status of an unknown request",
    )
}
