//! `omc config check FILE --online`: the configuration against the running registry and MTS,
//! one line per check, each `ok` or what is wrong with the fix (docs/OPERATIONS.md).
//!
//! It logs in as OMC and as MTS would, checks both id types by name, reads the registry's own
//! field model and holds the filters and fields against it, asks the registry to count what
//! the filter selects with OMC's own criteria added, and asks MTS for its `ping` and its
//! `authfields`. Nothing is written anywhere.

use super::diagnose::explain;
use crate::connector::{Connector, PreflightError};
use omc_core::config::{AuthType, REGISTRANT_MODEL};
use omc_core::engine::EngineSettings;
use omc_core::runs::chain;
use omc_core::sink::redact_url;
use omc_core::{ConnectorConfig, Registry, RegistryError};
use omc_odoo::CallbackLoginError;
use serde_json::{Value, json};
use std::process::ExitCode;

/// One check's outcome.
enum Outcome {
    Ok(String),
    /// Not wrong here, but worth a look (the run is not refused for it).
    Warn(String),
    Fail(String),
    /// Not tried, because a check it needs failed.
    Skipped(String),
}

/// The lines printed so far, and whether one failed.
#[derive(Default)]
struct Lines {
    failed: bool,
}

impl Lines {
    fn print(&mut self, check: &str, outcome: Outcome) {
        let (word, text) = match outcome {
            Outcome::Ok(text) => ("ok  ", text),
            Outcome::Warn(text) => ("warn", text),
            Outcome::Fail(text) => {
                self.failed = true;
                ("FAIL", text)
            }
            Outcome::Skipped(text) => ("skip", text),
        };
        outln!("{word} {check}: {text}");
    }
}

/// Runs every online check of `config`; exit status 0 when all pass, 1 otherwise.
pub(super) async fn check(config: &ConnectorConfig) -> ExitCode {
    outln!("online checks:");
    let mut lines = Lines::default();
    let connector = match Connector::new(config, EngineSettings::from(config)) {
        Ok(connector) => connector,
        Err(e) => {
            lines.print("wiring", Outcome::Fail(chain(&e)));
            return ExitCode::FAILURE;
        }
    };
    let registry_up = registry_checks(config, &connector, &mut lines).await;
    if !registry_up {
        for check in ["vid_id_type", "token_id_type", "field model", "filter"] {
            lines.print(
                check,
                Outcome::Skipped("needs OMC's login to the registry".into()),
            );
        }
    }
    callback_login(config, &connector, &mut lines).await;
    mts_checks(config, &connector, &mut lines).await;
    if lines.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// OMC's login, the id types, the field model and the filter's count; false when the login
/// failed (and nothing else was tried).
async fn registry_checks(
    config: &ConnectorConfig,
    connector: &Connector,
    lines: &mut Lines,
) -> bool {
    let client = connector.registry.client();
    let odoo = format!(
        "Odoo at {} (database {}, login {})",
        redact_url(&config.odoo.base_url),
        config.odoo.database,
        config.odoo.login
    );
    if let Err(e) = client.login().await {
        let e = RegistryError::from(e);
        lines.print(
            "OMC's login",
            Outcome::Fail(explain(&e, config, "OMC's login")),
        );
        return false;
    }
    lines.print("OMC's login", Outcome::Ok(format!("{odoo} accepted it")));
    let types = [
        ("vid_id_type", &config.id_types.vid),
        ("token_id_type", &config.id_types.token),
    ];
    for (setting, name) in types {
        let outcome = match connector.registry.id_validation(name).await {
            Ok(_) => Outcome::Ok(format!("the id type '{name}' exists (g2p.id.type)")),
            Err(e) => Outcome::Fail(explain(&e, config, setting)),
        };
        lines.print(setting, outcome);
    }
    let settings = omc_core::config::ModelSettings::of(config);
    let model = match client.field_model(&settings.filters()).await {
        Ok(model) => model,
        Err(e) => {
            let e = RegistryError::from(e);
            lines.print(
                "field model",
                Outcome::Fail(explain(&e, config, "fields_get")),
            );
            lines.print("filter", Outcome::Skipped("needs the field model".into()));
            return true;
        }
    };
    let problems = config.check_model(&model);
    if problems.is_empty() {
        lines.print(
            "field model",
            Outcome::Ok(format!(
                "the filters and the {} fields are in the registry's own model ({} models \
                 read with fields_get)",
                config.fields.len(),
                model.models().count()
            )),
        );
    } else {
        for p in &problems {
            lines.print(
                "field model",
                Outcome::Fail(format!("fix {}: {}", p.setting, p.message)),
            );
        }
        lines.print(
            "filter",
            Outcome::Skipped("not counted: it does not fit the registry's model".into()),
        );
        return true;
    }
    let domain = config.filter.for_connector(&config.id_types).to_json();
    let counted = client
        .execute_kw(REGISTRANT_MODEL, "search_count", json!([domain]), json!({}))
        .await;
    let outcome = match counted {
        Ok(Value::Number(n)) => Outcome::Ok(format!(
            "selects {n} registrants holding a '{}' (the filter AND OMC's own criteria, \
             search_count)",
            config.id_types.vid
        )),
        Ok(_) => Outcome::Fail("search_count answered something other than a number".into()),
        Err(e) => Outcome::Fail(format!(
            "the registry refused to count what the filter selects; fix filter: {}",
            chain(&RegistryError::from(e))
        )),
    };
    lines.print("filter", outcome);
    true
}

/// MTS's login to the registry (auth type `odoo`), tried from OMC's host.
async fn callback_login(config: &ConnectorConfig, connector: &Connector, lines: &mut Lines) {
    let check = "MTS's callback login";
    let Some(login) = &connector.callback_login else {
        let auth = config.callback.auth_type;
        let why = if auth == AuthType::Odoo {
            "no callback.username and callback.password".to_owned()
        } else {
            format!("auth type {auth:?}")
        };
        lines.print(check, Outcome::Skipped(format!("not used ({why})")));
        return;
    };
    let outcome = match login.check().await {
        Ok(()) => Outcome::Ok(format!("{} accepted it", login.url())),
        Err(e @ CallbackLoginError::Refused { .. }) => {
            Outcome::Fail(explain(&PreflightError::CallbackLogin(e), config, check))
        }
        Err(e) => Outcome::Warn(format!(
            "{}: check callback.auth_url (MTS may reach it where OMC does not)",
            chain(&e)
        )),
    };
    lines.print(check, outcome);
}

/// MTS's ping, and whether the mapping's keys are among its authfields.
async fn mts_checks(config: &ConnectorConfig, connector: &Connector, lines: &mut Lines) {
    let url = redact_url(connector.mts.base_url());
    if let Err(source) = connector.mts.ping().await {
        let e = PreflightError::Mts {
            url: url.clone(),
            source,
        };
        lines.print("MTS ping", Outcome::Fail(explain(&e, config, "MTS ping")));
        lines.print(
            "MTS authfields",
            Outcome::Skipped("needs MTS's ping".into()),
        );
        return;
    }
    lines.print("MTS ping", Outcome::Ok(format!("MTS at {url} answers")));
    let outcome = match connector.mts.authfields().await {
        Ok(known) => {
            let keys = mapping_keys(config);
            let unknown: Vec<&str> = keys
                .iter()
                .map(String::as_str)
                .filter(|k| !known.iter().any(|f| f == k))
                .collect();
            if unknown.is_empty() {
                Outcome::Ok(format!("MTS knows every mapping key ({})", keys.join(", ")))
            } else {
                Outcome::Fail(format!(
                    "MTS at {url} does not know the mapping keys {} (it knows {}): remove them \
                     from mapping, or use an MTS that knows them",
                    unknown.join(", "),
                    known.join(", ")
                ))
            }
        }
        Err(e) => Outcome::Fail(format!(
            "check mts_url: MTS at {url} answered its ping but not GET authtoken/authfields: {}",
            chain(&e)
        )),
    };
    lines.print("MTS authfields", outcome);
}

/// The mapping's keys as MTS reads them (`vid`, `name`, `phoneNumber`, ...).
fn mapping_keys(config: &ConnectorConfig) -> Vec<String> {
    match serde_json::to_value(&config.mapping) {
        Ok(Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}
