//! The conformance suites for callback sinks, one per role: [`delivery`] for
//! [`CallbackSink`] (the delivery a run is opened with: what MTS is told) and [`results`] for
//! [`RunResults`](crate::sink::RunResults) (a run's handle on what came back). Both run on one
//! [`SinkHarness`]; [`run_sink_suites`] runs the two.
//!
//! The results cases that need results delivered as MTS would deliver them
//! ([`SinkHarness::deliver`], helped by [`callback_bodies`]) are skipped for a read-back sink
//! (whose runs hear no failure) or a harness that cannot deliver.

pub mod delivery;
pub mod results;

use super::SuiteReport;
use super::check::{CaseError, call, check};
use crate::authdata::REGISTRANT_KEY;
use crate::pii::{Token, Vid};
use crate::registry::RegistrantId;
use crate::sink::{CallbackSink, Delivery, RecordStatus, SeedResult, SinkRun};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// How many registrants the suites deliver results for (each case its own).
pub const REGISTRANTS: usize = 8;

/// What the suites need around a sink.
#[async_trait]
pub trait SinkHarness: Send + Sync + 'static {
    /// The sink under test.
    fn sink(&self) -> Arc<dyn CallbackSink>;

    /// Delivers `results` to the sink as MTS would through `delivery` (for an HTTP sink:
    /// sends [`callback_bodies`] to `delivery.url` with its method and authentication);
    /// `Some(Ok(()))` once every callback was answered, whatever the answer; `None` (the
    /// default) when the harness cannot, which skips the cases that need it.
    async fn deliver(
        &self,
        delivery: &Delivery,
        results: &[SeedResult],
    ) -> Option<Result<(), String>> {
        let _ = (delivery, results);
        None
    }

    /// Registrants the suites may deliver results for: ids that exist in the registry the
    /// sink stores into, holding no token, [`REGISTRANTS`] at least.
    fn registrants(&self) -> Vec<RegistrantId> {
        (1..=REGISTRANTS as i64).map(RegistrantId).collect()
    }

    /// How long delivered results may take to show (default 10 s).
    fn patience(&self) -> Duration {
        Duration::from_secs(10)
    }
}

/// Runs both suites against `harness` and panics, listing every failing case with its
/// message, unless all pass; otherwise answers the two reports (delivery, then results).
pub async fn run_sink_suites(harness: impl SinkHarness) -> [SuiteReport; 2] {
    let harness = Arc::new(harness) as Arc<dyn SinkHarness>;
    let reports = [
        delivery::suite().run(harness.clone()).await,
        results::suite().run(harness).await,
    ];
    for report in &reports {
        report.assert_passed();
    }
    reports
}

/// What MTS sends for `results` through `delivery`: each result as `{"input", "output"}`
/// (the input holding the registrant key and the VID), run through the delivery's output
/// format (or `.output` without one); one body holding a list when `call_in_bulk`, else one
/// body per result; a result the format yields nothing for gets no body (`null` in a list).
pub fn callback_bodies(delivery: &Delivery, results: &[SeedResult]) -> Result<Vec<Value>, String> {
    let program = match &delivery.output_format {
        Some(code) => Some(crate::jq::Program::compile(code).map_err(|e| e.to_string())?),
        None => None,
    };
    let format = |item: &Value| match &program {
        None => item.get("output").cloned(),
        Some(program) => match program.first(item) {
            crate::jq::Output::Value(value) => Some(value),
            crate::jq::Output::Nothing | crate::jq::Output::Failed(_) => None,
        },
    };
    let items: Vec<Value> = results.iter().map(mts_item).collect();
    Ok(if delivery.call_in_bulk {
        let all = items.iter().map(|i| format(i).unwrap_or(Value::Null));
        vec![Value::Array(all.collect())]
    } else {
        items.iter().filter_map(format).collect()
    })
}

/// `{"input": record, "output": result}` as MTS applies the output format to it.
fn mts_item(r: &SeedResult) -> Value {
    let status = match r.status {
        RecordStatus::Processed => "processed",
        RecordStatus::Error => "error",
        RecordStatus::Invalid => "invalid",
        RecordStatus::Submitted => "submitted",
        RecordStatus::Processing => "processing",
    };
    let vid = r.vid.as_ref().map(|v| v.expose().to_owned());
    json!({
        "input": {REGISTRANT_KEY: r.registrant.0, "vid": vid, "given_name": "Given",
                  "family_name": "Family", "gender": "Female", "birthdate": "1990-02-03"},
        "output": {"vid": vid, "status": status, "token": r.token.as_ref().map(Token::expose),
                   "errorCode": r.error_code, "errorMessage": r.error_message}
    })
}

/// The token the suites deliver for registrant `id`.
fn token_for(id: RegistrantId) -> Token {
    Token::new(format!("omc-conformance-sink-token-{id}"))
}

fn processed(id: RegistrantId) -> SeedResult {
    SeedResult {
        registrant: id,
        vid: Some(Vid::new(format!("{:016}", id.0))),
        status: RecordStatus::Processed,
        token: Some(token_for(id)),
        error_code: None,
        error_message: None,
    }
}

fn refused(id: RegistrantId, code: &str) -> SeedResult {
    SeedResult {
        registrant: id,
        vid: Some(Vid::new(format!("{:016}", id.0))),
        status: RecordStatus::Invalid,
        token: None,
        error_code: Some(code.into()),
        error_message: Some(format!("{code} from the conformance suite")),
    }
}

/// Opens a run on the harness's sink.
async fn open_run(harness: &dyn SinkHarness) -> Result<SinkRun, CaseError> {
    harness.sink().open_run().await.map_err(call("open_run"))
}

/// The harness's registrants, failing unless there are [`REGISTRANTS`].
fn registrants(harness: &dyn SinkHarness) -> Result<Vec<RegistrantId>, CaseError> {
    let ids = harness.registrants();
    check(ids.len() >= REGISTRANTS, || {
        format!(
            "the harness names {} registrants, the suites need {REGISTRANTS}",
            ids.len()
        )
    })?;
    Ok(ids)
}
