//! The conformance suite for [`TokenSeeder`] implementations.

use super::eventually;
use crate::error::SeederError;
use crate::pii::{PersonalRecord, Vid};
use crate::registry::RegistrantId;
use crate::seeder::{Mapping, RequestId, SeedRequest, TokenSeeder};
use crate::sink::{Delivery, RecordStatus, SeedResult};
use crate::token::mock_token;
use async_trait::async_trait;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What the suite needs around a seeder: a delivery whose results it can observe.
#[async_trait]
pub trait SeederHarness: Send + Sync {
    /// The seeder under test.
    fn seeder(&self) -> Arc<dyn TokenSeeder>;
    /// A delivery whose results [`delivered`](Self::delivered) will show.
    async fn delivery(&self) -> Delivery;
    /// Every result delivered so far.
    async fn delivered(&self) -> Vec<SeedResult>;
    /// The partner id the seeder derives `mts-mock` tokens with.
    fn partner_id(&self) -> String;
    /// How long results may take to arrive.
    fn patience(&self) -> Duration {
        Duration::from_secs(30)
    }
}

fn record(id: i64, vid: &str, gender: Option<&str>) -> PersonalRecord {
    let mut r = json!({"id": id, "vid": vid, "given_name": "Given", "family_name": "Family",
                       "birthdate": "1990-02-03", "address": "1 Road", "email": "a@example.org"});
    if let Some(g) = gender {
        r["gender"] = Value::from(g);
    }
    match r {
        Value::Object(map) => PersonalRecord(map),
        _ => unreachable!("a JSON object literal"),
    }
}

fn request(records: Vec<PersonalRecord>) -> SeedRequest {
    SeedRequest {
        mapping: Mapping::default(),
        lang: "eng".into(),
        authdata: records,
    }
}

async fn results_for(
    harness: &dyn SeederHarness,
    ids: &[i64],
) -> BTreeMap<RegistrantId, SeedResult> {
    eventually("results for every record", harness.patience(), || async {
        let got: BTreeMap<_, _> = harness
            .delivered()
            .await
            .into_iter()
            .filter(|r| ids.contains(&r.registrant.0))
            .map(|r| (r.registrant, r))
            .collect();
        (got.len() == ids.len()).then_some(got)
    })
    .await
}

/// Runs the whole suite against `harness`.
pub async fn run_seeder_suite(harness: &dyn SeederHarness) {
    let seeder = harness.seeder();
    let delivery: Delivery = harness.delivery().await;
    let partner = harness.partner_id();

    // A batch with one record MTS refuses: the rest goes through, the refusal has its code.
    let batch = request(vec![
        record(101, "4918350000000001", Some("Female")),
        record(102, "4918350000000002", Some("Male")),
        record(103, "4918350000000003", None),
    ]);
    let first = seeder
        .submit(&batch, &delivery)
        .await
        .expect("submit a batch");
    assert!(!first.0.is_empty(), "a request identifier");
    let status = eventually("a final status", harness.patience(), || async {
        let s = seeder.status(&first).await.expect("status");
        s.is_final().then_some(s)
    })
    .await;
    assert_ne!(
        status,
        crate::RequestStatus::Gone,
        "a fresh request is known"
    );
    let results = results_for(harness, &[101, 102, 103]).await;
    let r101 = &results[&RegistrantId(101)];
    assert_eq!(r101.status, RecordStatus::Processed);
    let expected = mock_token(&Vid::new("4918350000000001"), &partner);
    assert_eq!(
        r101.token.as_ref(),
        Some(&expected),
        "token derived from VID and partner"
    );
    if partner == "mpartner-default-omc" {
        assert_eq!(
            r101.token.as_ref().map(|t| t.expose()),
            Some("LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA"),
            "MTS's known answer"
        );
    }
    assert_eq!(results[&RegistrantId(102)].status, RecordStatus::Processed);
    let r103 = &results[&RegistrantId(103)];
    assert_eq!(
        r103.status,
        RecordStatus::Invalid,
        "a record without gender is invalid"
    );
    assert_eq!(r103.error_code.as_deref(), Some("ATS-REQ-011"));
    assert!(r103.token.is_none());

    // Every submission is a new request; tokens are deterministic.
    let again = seeder
        .submit(
            &request(vec![record(104, "4918350000000001", Some("Female"))]),
            &delivery,
        )
        .await
        .expect("submit again");
    assert_ne!(again, first, "each submission is a new request");
    let results = results_for(harness, &[104]).await;
    assert_eq!(
        results[&RegistrantId(104)].token.as_ref(),
        Some(&expected),
        "same VID, same token"
    );

    // Refusals and unknown requests.
    match seeder.submit(&request(Vec::new()), &delivery).await {
        Err(SeederError::Rejected { code, .. }) => assert_eq!(code, "ATS-REQ-102"),
        other => panic!("an empty batch must be rejected with ATS-REQ-102, got {other:?}"),
    }
    let unknown = seeder
        .status(&RequestId("no-such-request".into()))
        .await
        .expect("status of an unknown request");
    assert_eq!(
        unknown,
        crate::RequestStatus::Gone,
        "an unknown request is gone"
    );
}
