//! Opt-in (common::real): the field model against the real Odoo 17 + OpenG2P and the real MTS.
//! `omc config check --online` of examples/config/connector.toml, pointed at them, passes every
//! check; and the stock model (omc-core/src/domain/stock_model.tsv) holds every field a domain
//! can search on the live registry's models, with the live type, and what it marks ignored a
//! domain still ignores there.

mod common;

use common::closed_url;
use common::command::Omc;
use common::real::RealStack;
use omc::domain::{FieldModel, ROOT_MODELS};
use serde_json::json;

/// `omc config check --online` of examples/config/connector.toml pointed at the real systems,
/// with `text` in place of the example's text and `env` over the real logins: the exit status
/// and `(status word, check)` of each online line.
async fn check_online(
    real: &RealStack,
    name: &str,
    text: &str,
    env: &[(&str, &str)],
) -> (Option<i32>, Vec<(String, String)>, String) {
    let (odoo_url, mts_url) = (real.odoo_url.to_string(), real.mts_url.to_string());
    let mut vars = vec![
        ("OMC_ODOO__BASE_URL", odoo_url.as_str()),
        ("OMC_ODOO__DATABASE", real.database.as_str()),
        ("OMC_ODOO__LOGIN", real.login.as_str()),
        ("OMC_ODOO__PASSWORD", real.password.as_str()),
        ("OMC_CALLBACK__DATABASE", real.database.as_str()),
        ("OMC_CALLBACK__USERNAME", real.login.as_str()),
        ("OMC_CALLBACK__PASSWORD", real.password.as_str()),
        ("OMC_MTS_URL", mts_url.as_str()),
    ];
    for (name, value) in env {
        vars.retain(|(n, _)| n != name);
        vars.push((name, value));
    }
    let omc = Omc::new(name, text, &vars);
    let out = omc
        .output(&["config", "check", omc.config(), "--online"])
        .await;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines = stdout
        .split_once("online checks:\n")
        .map(|(_, online)| {
            online
                .lines()
                .filter_map(|line| {
                    let (word, rest) = line.split_once(' ')?;
                    let (check, _) = rest.trim_start().split_once(": ")?;
                    Some((word.to_owned(), check.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    (out.status.code(), lines, stdout)
}

const EXAMPLE: &str = include_str!("../examples/config/connector.toml");

#[tokio::test]
async fn the_example_configuration_passes_every_online_check() {
    let Some(real) = RealStack::from_env("the_example_configuration_passes_every_online_check")
    else {
        return;
    };
    real.ensure_reachable().await;
    let (code, lines, stdout) = check_online(&real, "real-online-check", EXAMPLE, &[]).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(lines.len(), 8, "{stdout}");
    for (word, check) in lines {
        assert_eq!(word, "ok", "{check}: {stdout}");
    }
}

#[tokio::test]
async fn a_broken_example_names_its_problem_against_the_real_systems() {
    let Some(real) = RealStack::from_env("a_broken_example_names_its_problem") else {
        return;
    };
    real.ensure_reachable().await;
    let closed = closed_url();
    // A field the registry lacks, allowed offline (model_extended) and refused online.
    let unknown_field = EXAMPLE.replace(
        "fields = [\"id\",",
        "model_extended = true\nfields = [\"id\", \"x_omc_no_such_field\",",
    );
    assert_ne!(unknown_field, EXAMPLE, "the example's field list moved");
    // (name, configuration text, environment over the real logins, the check that fails)
    type Case<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: [Case; 4] = [
        (
            "real-online-password",
            EXAMPLE,
            vec![("OMC_ODOO__PASSWORD", "not-the-password")],
            "OMC's login",
        ),
        (
            "real-online-id-type",
            EXAMPLE,
            vec![("OMC_TOKEN_ID_TYPE", "MOSIP UIN TOKEN OMC-MISSING")],
            "token_id_type",
        ),
        ("real-online-field", &unknown_field, vec![], "field model"),
        (
            "real-online-mts",
            EXAMPLE,
            vec![("OMC_MTS_URL", closed.as_str())],
            "MTS ping",
        ),
    ];
    for (name, text, env, failed) in cases {
        let (code, lines, stdout) = check_online(&real, name, text, &env).await;
        assert_eq!(code, Some(1), "{name}: {stdout}");
        let failures: Vec<&str> = lines
            .iter()
            .filter(|(word, _)| word == "FAIL")
            .map(|(_, check)| check.as_str())
            .collect();
        assert_eq!(failures, [failed], "{name}: {stdout}");
        assert!(!stdout.contains("not-the-password"), "{name}: {stdout}");
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
