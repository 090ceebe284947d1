//! Opt-in (common::real): the field model against the real Odoo 17 + OpenG2P and the real MTS.
//! `omc config check --online` of examples/config/connector.toml, pointed at them, passes every
//! check; and the stock model (omc-core/src/domain/stock_model.tsv) holds every field a domain
//! can search on the live registry's models, with the live type, and what it marks ignored a
//! domain still ignores there.

mod common;

use common::command::Omc;
use common::real::RealStack;
use omc::domain::{FieldModel, ROOT_MODELS};
use serde_json::json;

#[tokio::test]
async fn the_example_configuration_passes_every_online_check() {
    let Some(real) = RealStack::from_env("the_example_configuration_passes_every_online_check")
    else {
        return;
    };
    real.ensure_reachable().await;
    let example = include_str!("../examples/config/connector.toml");
    let (odoo_url, mts_url) = (real.odoo_url.to_string(), real.mts_url.to_string());
    let omc = Omc::new(
        "real-online-check",
        example,
        &[
            ("OMC_ODOO__BASE_URL", odoo_url.as_str()),
            ("OMC_ODOO__DATABASE", &real.database),
            ("OMC_ODOO__LOGIN", &real.login),
            ("OMC_ODOO__PASSWORD", &real.password),
            ("OMC_CALLBACK__DATABASE", &real.database),
            ("OMC_CALLBACK__USERNAME", &real.login),
            ("OMC_CALLBACK__PASSWORD", &real.password),
            ("OMC_MTS_URL", mts_url.as_str()),
        ],
    );
    let out = omc
        .output(&["config", "check", omc.config(), "--online"])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
    let online: Vec<&str> = stdout
        .split_once("online checks:\n")
        .unwrap_or_else(|| panic!("no online checks: {stdout}"))
        .1
        .lines()
        .collect();
    assert_eq!(online.len(), 8, "{stdout}");
    for line in online {
        assert!(line.starts_with("ok "), "{line}");
    }
}

#[tokio::test]
#[allow(clippy::print_stdout)] // what was compared is meant to be seen with --nocapture
async fn the_stock_model_holds_every_field_the_live_registry_searches() {
    let Some(real) =
        RealStack::from_env("the_stock_model_holds_every_field_the_live_registry_searches")
    else {
        return;
    };
    real.ensure_reachable().await;
    let client = real.odoo_client();
    let stock = FieldModel::stock();
    let mut lacking = Vec::new();
    let mut differing = Vec::new();
    let mut only_stock = Vec::new();
    let mut compared = 0;
    for model in stock.models() {
        let answer = client
            .fields_get(model)
            .await
            .unwrap_or_else(|e| panic!("fields_get of {model}: {e}"));
        let live = FieldModel::new()
            .with_fields_get(model, &answer)
            .unwrap_or_else(|e| panic!("{e}"));
        for field in live.fields_of(model) {
            compared += 1;
            let (live_type, stock_type) = (live.field(model, field), stock.field(model, field));
            if live.is_searchable(model, field) && !stock.is_searchable(model, field) {
                lacking.push(format!("{model}.{field} ({live_type:?})"));
            } else if stock_type.is_some() && live_type != stock_type {
                differing.push(format!(
                    "{model}.{field}: live {live_type:?}, stock {stock_type:?}"
                ));
            }
        }
        only_stock.extend(
            stock
                .fields_of(model)
                .filter(|f| live.field(model, f).is_none())
                .map(|f| format!("{model}.{f}")),
        );
    }
    println!(
        "{compared} live fields of {} models compared; in the stock model only: {only_stock:?}",
        stock.models().count()
    );
    assert!(
        lacking.is_empty(),
        "fields a domain can search on the live registry that the stock model lacks (read \
         them into stock_model.tsv as its header says): {lacking:?}"
    );
    assert!(differing.is_empty(), "types differ: {differing:?}");

    // What the stock model marks ignored, the live Odoo still ignores: a criterion on it
    // selects every record, whichever way it is put.
    for model in ROOT_MODELS {
        let count = |domain: serde_json::Value| {
            let client = client.clone();
            async move {
                client
                    .execute_kw(model, "search_count", json!([domain]), json!({}))
                    .await
                    .unwrap_or_else(|e| panic!("{model}.search_count: {e}"))
            }
        };
        let all = count(json!([])).await;
        assert_ne!(all, json!(0), "{model} has records to try on");
        for field in stock
            .fields_of(model)
            .filter(|f| !stock.is_searchable(model, f))
        {
            for operator in ["=", "!="] {
                let got = count(json!([[field, operator, false]])).await;
                assert_eq!(
                    got, all,
                    "{model}.{field} {operator} false selects every record"
                );
            }
        }
    }
}
