//! The conformance suite for [`CallbackSink`] implementations.
//!
//! Its cases fall in two roles, kept apart so that they hold when the trait is split: how a
//! sink **describes the delivery** MTS must use (every sink), and how a sink that
//! **receives results** ([`ResultPath::Received`]) reports them back. The receiving cases
//! need the harness to deliver results as MTS would ([`SinkHarness::deliver`], helped by
//! [`callback_bodies`]); without that, or for a read-back sink, they are skipped.

use super::check::{CaseError, call, check, check_eq, wait_for};
use super::{Case, CaseResult, Suite, SuiteReport};
use crate::authdata::REGISTRANT_KEY;
use crate::jq::{Output, Program};
use crate::pii::{Token, Vid};
use crate::registry::RegistrantId;
use crate::sink::{CallbackAuth, CallbackSink, Delivery, RecordStatus, ResultPath, SeedResult};
use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// What the suite needs around a sink.
#[async_trait]
pub trait SinkHarness: Send + Sync + 'static {
    /// The sink under test.
    fn sink(&self) -> Arc<dyn CallbackSink>;

    /// Delivers `results` to the sink as MTS would through `delivery` (for an HTTP sink:
    /// sends [`callback_bodies`] to `delivery.url` with its method and authentication);
    /// `None` (the default) when the harness cannot, which skips the receiving cases.
    async fn deliver(
        &self,
        delivery: &Delivery,
        results: &[SeedResult],
    ) -> Option<Result<(), String>> {
        let _ = (delivery, results);
        None
    }

    /// Registrants the suite may deliver results for: ids that exist in the registry the sink
    /// stores into, holding no token, one for each of the suite's needs (4 at least).
    fn registrants(&self) -> Vec<RegistrantId> {
        (1..=4).map(RegistrantId).collect()
    }

    /// How long delivered results may take to show (default 10 s).
    fn patience(&self) -> Duration {
        Duration::from_secs(10)
    }
}

/// Runs every case against `harness`.
pub async fn run(harness: impl SinkHarness) -> SuiteReport {
    suite().run(Arc::new(harness) as Arc<dyn SinkHarness>).await
}

/// Runs the suite and panics, listing every failing case with its message, unless all pass;
/// otherwise answers the report.
pub async fn run_sink_suite(harness: impl SinkHarness) -> SuiteReport {
    let report = run(harness).await;
    report.assert_passed();
    report
}

/// The names of the suite's cases, in the order they run.
pub fn case_names() -> Vec<&'static str> {
    suite().case_names()
}

fn suite() -> Suite<dyn SinkHarness> {
    Suite::new(
        "CallbackSink",
        vec![
            Case::new(
                "a_delivery_is_described_with_a_timeout_and_absolute_urls",
                delivery_described,
            ),
            Case::new(
                "the_output_format_compiles_and_turns_every_kind_of_result_into_json",
                output_format_applies,
            ),
            Case::new(
                "a_processed_result_keeps_its_token_through_the_output_format_and_a_failure_gets_none",
                token_through_format,
            ),
            Case::new(
                "neither_the_sink_nor_its_delivery_prints_a_secret",
                no_secret_printed,
            ),
            Case::new("the_result_path_does_not_change", result_path_stable),
            Case::new(
                "a_fresh_sink_holds_no_failure_for_anyone",
                fresh_sink_knows_nothing,
            ),
            Case::new(
                "a_delivered_failure_is_read_with_its_code_and_a_success_holds_none",
                failure_until_settled,
            ),
            Case::new(
                "a_token_the_sink_stored_is_reported_as_stored_by_it",
                stored_by_the_sink,
            ),
            Case::new(
                "the_delivery_problems_are_drained_by_reading_them",
                problems_drained,
            ),
        ],
    )
}

/// What MTS sends for `results` through `delivery`: each result as `{"input", "output"}`
/// (the input holding the registrant key and the VID), run through the delivery's output
/// format (or `.output` without one); one body holding a list when `call_in_bulk`, else one
/// body per result; a result the format yields nothing for gets no body (`null` in a list).
pub fn callback_bodies(delivery: &Delivery, results: &[SeedResult]) -> Result<Vec<Value>, String> {
    let program = match &delivery.output_format {
        Some(code) => Some(Program::compile(code).map_err(|e| e.to_string())?),
        None => None,
    };
    let format = |item: &Value| match &program {
        None => item.get("output").cloned(),
        Some(program) => match program.first(item) {
            Output::Value(value) => Some(value),
            Output::Nothing | Output::Failed(_) => None,
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

/// The token the suite delivers for registrant `id`.
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

async fn delivery_of(harness: &dyn SinkHarness) -> Result<Delivery, CaseError> {
    harness.sink().delivery().await.map_err(call("delivery"))
}

async fn delivery_described(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let delivery = delivery_of(harness.as_ref()).await?;
    check(delivery.timeout_seconds > 0, || {
        "delivery: the implementation gave a timeout of 0 s, the contract wants a positive one"
            .into()
    })?;
    check(!delivery.url.cannot_be_a_base(), || {
        format!(
            "delivery: the callback URL's scheme {:?} is not of a URL with a host and path, \
             the contract wants one",
            delivery.url.scheme()
        )
    })?;
    if let CallbackAuth::Odoo { auth_url, .. } = &delivery.auth {
        check(matches!(auth_url.scheme(), "http" | "https"), || {
            format!(
                "delivery with auth type odoo: the login URL's scheme is {:?}, the contract \
                 wants http or https",
                auth_url.scheme()
            )
        })?;
    }
    // Each run asks again: a second description is as good as the first.
    delivery_of(harness.as_ref()).await.map(|_| ())
}

async fn output_format_applies(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let delivery = delivery_of(harness.as_ref()).await?;
    let Some(code) = &delivery.output_format else {
        return Err(CaseError::skipped(
            "the delivery has no output format (MTS sends `.output`)",
        ));
    };
    let program = Program::compile(code).map_err(|e| {
        CaseError::failed(format!(
            "the delivery's output format does not compile ({e}), the contract wants a jq \
             program MTS can run"
        ))
    })?;
    let id = RegistrantId(7);
    for (kind, result) in [
        ("processed", processed(id)),
        ("invalid", refused(id, "ATS-REQ-011")),
        ("error", {
            let mut r = refused(id, "IDA-MLC-009");
            r.status = RecordStatus::Error;
            r
        }),
    ] {
        match program.first(&mts_item(&result)) {
            Output::Value(_) => {}
            other => {
                return Err(CaseError::failed(format!(
                    "the output format on a {kind} result: it gave {}, the contract wants a \
                     JSON value (MTS sends nothing otherwise)",
                    match other {
                        Output::Nothing => "nothing".to_owned(),
                        Output::Failed(e) => format!("an error ({e})"),
                        Output::Value(_) => unreachable!("matched above"),
                    }
                )));
            }
        }
    }
    Ok(())
}

async fn token_through_format(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let delivery = delivery_of(harness.as_ref()).await?;
    let id = RegistrantId(7);
    let token = token_for(id);
    let sent = |r: &SeedResult| -> Result<String, CaseError> {
        callback_bodies(&delivery, std::slice::from_ref(r))
            .map(|bodies| Value::Array(bodies).to_string())
            .map_err(|e| CaseError::failed(format!("the delivery's output format: {e}")))
    };
    check(sent(&processed(id))?.contains(token.expose()), || {
        "a processed result through the output format: the token is not in what MTS would \
         send, the contract wants it there"
            .into()
    })?;
    let mut failed = refused(id, "ATS-REQ-011");
    failed.token = Some(Token::new(""));
    let body = sent(&failed)?;
    check(!body.contains(token.expose()), || {
        "a failed result through the output format carries a token, the contract wants none".into()
    })
}

async fn no_secret_printed(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let sink = harness.sink();
    let delivery = delivery_of(harness.as_ref()).await?;
    let mut secrets: Vec<(String, String)> = delivery
        .extra_headers
        .iter()
        .map(|(name, value)| {
            (
                format!("the header {name}"),
                value.expose_secret().to_owned(),
            )
        })
        .collect();
    match &delivery.auth {
        CallbackAuth::StaticBearer { token } => {
            secrets.push(("the bearer token".into(), token.expose_secret().to_owned()));
        }
        CallbackAuth::Odoo {
            password,
            extra_headers,
            ..
        } => {
            secrets.push(("the login password".into(), password.expose_secret().into()));
            for (name, value) in extra_headers {
                secrets.push((
                    format!("the login header {name}"),
                    value.expose_secret().to_owned(),
                ));
            }
        }
        _ => {}
    }
    if let Some(password) = delivery.url.password() {
        secrets.push(("the callback URL's password".into(), password.to_owned()));
    }
    let shown = format!("{sink:?} {delivery:?}");
    for (what, secret) in secrets.iter().filter(|(_, s)| s.len() >= 4) {
        check(!shown.contains(secret.as_str()), || {
            format!(
                "{what} appears in the Debug output of the sink or its delivery, the contract \
                 wants secrets never printed"
            )
        })?;
    }
    Ok(())
}

async fn result_path_stable(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let sink = harness.sink();
    let before = sink.result_path();
    delivery_of(harness.as_ref()).await?;
    check_eq(
        sink.result_path(),
        before,
        "the result path after a delivery was described",
    )
}

/// The harness's registrants, failing unless there are at least `n`.
fn registrants(harness: &dyn SinkHarness, n: usize) -> Result<Vec<RegistrantId>, CaseError> {
    let ids = harness.registrants();
    check(ids.len() >= n, || {
        format!(
            "the harness names {} registrants, the suite needs {n}",
            ids.len()
        )
    })?;
    Ok(ids)
}

async fn fresh_sink_knows_nothing(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let sink = harness.sink();
    let ids = registrants(harness.as_ref(), 1)?;
    let failures = sink.failures(&ids).await.map_err(call("failures"))?;
    let with: Vec<_> = failures.keys().copied().collect();
    check_eq(
        with,
        vec![],
        "failures of registrants nothing was delivered for",
    )?;
    if let Some(stored) = sink.stored(&ids).await {
        let by_it: Vec<_> = stored.into_iter().collect();
        check_eq(
            by_it,
            vec![],
            "registrants whose token the sink stored, before anything was delivered",
        )?;
    }
    Ok(())
}

/// Delivers `results` through the harness, or skips when the sink does not receive results
/// or the harness cannot deliver.
async fn deliver(
    harness: &dyn SinkHarness,
    delivery: &Delivery,
    results: &[SeedResult],
) -> CaseResult {
    if harness.sink().result_path() != ResultPath::Received {
        return Err(CaseError::skipped(
            "a read-back sink receives no results itself",
        ));
    }
    match harness.deliver(delivery, results).await {
        None => Err(CaseError::skipped("the harness cannot deliver results")),
        Some(Err(e)) => Err(CaseError::failed(format!(
            "delivering results as MTS would: {e}"
        ))),
        Some(Ok(())) => Ok(()),
    }
}

async fn failure_until_settled(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let sink = harness.sink();
    let ids = registrants(harness.as_ref(), 2)?;
    let (ok, bad) = (ids[0], ids[1]);
    let delivery = delivery_of(harness.as_ref()).await?;
    sink.expect_results(&[ok, bad]).await;
    let results = [processed(ok), refused(bad, "ATS-REQ-011")];
    deliver(harness.as_ref(), &delivery, &results).await?;
    let code = wait_for(
        &format!("the failure delivered for registrant {bad}"),
        harness.patience(),
        || async {
            let found = sink.failures(&[ok, bad]).await.map_err(call("failures"))?;
            Ok(match found.get(&bad) {
                Some(f) => Ok((found.contains_key(&ok), f.code.clone())),
                None => Err(format!(
                    "failures for {:?}",
                    found.keys().collect::<Vec<_>>()
                )),
            })
        },
    )
    .await?;
    check_eq(
        code,
        (false, "ATS-REQ-011".to_owned()),
        &format!(
            "failures after a processed result for {ok} and an invalid one for {bad}: \
             (a failure for {ok}, the code for {bad})"
        ),
    )?;
    // Once settled, a sink may forget them (the contract allows, not requires, it).
    sink.results_settled(&[ok, bad]).await;
    Ok(())
}

async fn stored_by_the_sink(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let sink = harness.sink();
    let ids = registrants(harness.as_ref(), 3)?;
    let id = ids[2];
    let delivery = delivery_of(harness.as_ref()).await?;
    sink.expect_results(&[id]).await;
    deliver(harness.as_ref(), &delivery, &[processed(id)]).await?;
    if sink.stored(&[id]).await.is_none() {
        return Err(CaseError::skipped(
            "the sink does not say which tokens it stored (stored answers None)",
        ));
    }
    let stored = wait_for(
        &format!("registrant {id}'s token, stored by the sink"),
        harness.patience(),
        || async {
            let stored = sink.stored(&[id]).await.unwrap_or_default();
            Ok(if stored.contains(&id) {
                Ok(())
            } else {
                Err("not among those stored".to_owned())
            })
        },
    )
    .await;
    sink.results_settled(&[id]).await;
    stored
}

async fn problems_drained(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let sink = harness.sink();
    let ids = registrants(harness.as_ref(), 4)?;
    let delivery = delivery_of(harness.as_ref()).await?;
    // A result for a registrant the engine never said it sent: a problem for a sink that
    // refuses those, nothing for one that does not.
    deliver(harness.as_ref(), &delivery, &[processed(ids[3])]).await?;
    let _first = sink.delivery_problems().await;
    let second = sink.delivery_problems().await;
    check(second.is_empty(), || {
        format!(
            "delivery problems read a second time with nothing delivered in between: the \
             implementation gave {second:?} again, the contract wants them drained"
        )
    })
}
