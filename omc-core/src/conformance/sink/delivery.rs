//! The [`CallbackSink`](crate::CallbackSink) suite: the delivery a run is opened with, what
//! MTS is told. Every sink passes every case.

use super::super::check::{CaseError, check};
use super::super::{Case, CaseResult, Suite, SuiteReport};
use super::{SinkHarness, callback_bodies, mts_item, open_run, processed, refused, token_for};
use crate::jq::{Output, Program};
use crate::registry::RegistrantId;
use crate::sink::{CallbackAuth, RecordStatus, SeedResult};
use secrecy::ExposeSecret;
use serde_json::Value;
use std::sync::Arc;

/// Runs every case against `harness`.
pub async fn run(harness: impl SinkHarness) -> SuiteReport {
    suite().run(Arc::new(harness) as Arc<dyn SinkHarness>).await
}

/// The names of the suite's cases, in the order they run.
pub fn case_names() -> Vec<&'static str> {
    suite().case_names()
}

pub(super) fn suite() -> Suite<dyn SinkHarness> {
    Suite::new(
        "CallbackSink",
        vec![
            Case::new(
                "a_run_opens_with_a_timeout_and_absolute_urls",
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
                "neither_the_sink_nor_its_delivery_nor_its_run_prints_a_secret",
                no_secret_printed,
            ),
            Case::new("runs_open_at_once_never_share_a_bearer_secret", runs_apart),
        ],
    )
}

async fn delivery_described(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let delivery = open_run(harness.as_ref()).await?.delivery;
    check(delivery.timeout_seconds > 0, || {
        "open_run: the delivery's timeout is 0 s, the contract wants a positive one".into()
    })?;
    check(!delivery.url.cannot_be_a_base(), || {
        format!(
            "open_run: the callback URL's scheme {:?} is not of a URL with a host and path, \
             the contract wants one",
            delivery.url.scheme()
        )
    })?;
    if let CallbackAuth::Odoo { auth_url, .. } = &delivery.auth {
        check(matches!(auth_url.scheme(), "http" | "https"), || {
            format!(
                "a delivery with auth type odoo: the login URL's scheme is {:?}, the contract \
                 wants http or https",
                auth_url.scheme()
            )
        })?;
    }
    Ok(())
}

async fn output_format_applies(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let delivery = open_run(harness.as_ref()).await?.delivery;
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
    let delivery = open_run(harness.as_ref()).await?.delivery;
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
    failed.token = Some(crate::pii::Token::new(""));
    let body = sent(&failed)?;
    check(!body.contains(token.expose()), || {
        "a failed result through the output format carries a token, the contract wants none".into()
    })
}

async fn no_secret_printed(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let sink = harness.sink();
    let run = open_run(harness.as_ref()).await?;
    let delivery = &run.delivery;
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
    let shown = format!("{sink:?} {run:?}");
    for (what, secret) in secrets.iter().filter(|(_, s)| s.len() >= 4) {
        check(!shown.contains(secret.as_str()), || {
            format!(
                "{what} appears in the Debug output of the sink, its delivery or its run, the \
                 contract wants secrets never printed"
            )
        })?;
    }
    Ok(())
}

async fn runs_apart(harness: Arc<dyn SinkHarness>) -> CaseResult {
    let first = open_run(harness.as_ref()).await?;
    let second = open_run(harness.as_ref()).await?;
    if let (CallbackAuth::StaticBearer { token: a }, CallbackAuth::StaticBearer { token: b }) =
        (&first.delivery.auth, &second.delivery.auth)
    {
        check(a.expose_secret() != b.expose_secret(), || {
            "two runs open at once were given one bearer secret, the contract wants each its \
             own (ending one run must not revoke the other's)"
                .into()
        })?;
    }
    check(
        first.delivery.auth.auth_type() == second.delivery.auth.auth_type(),
        || "two runs of one sink were given different auth types, the contract wants one".into(),
    )
}
