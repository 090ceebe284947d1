//! One line for every error an operator can meet: its whole cause chain, the outermost words
//! saying what to do (docs/OPERATIONS.md's troubleshooting table lists them).

use crate::connector::PreflightError;
use omc_core::engine::CALLBACKS_NOT_ARRIVING;
use omc_core::runs::chain;
use omc_core::sink::redact_url;
use omc_core::{ConnectorConfig, RegistryError, SinkError};
use omc_odoo::{CallbackLogin, CallbackLoginError};
use std::error::Error;

/// An error's whole cause chain in one line, its first words saying what to do when the
/// registry is at fault. The engine first reaches the registry when the callback sink reads
/// the token id type, so a wrong login or an unreachable Odoo surfaces through the sink: the
/// line is told from the registry's own error, which is what the operator can act on.
pub(super) fn explain(
    error: &(dyn Error + 'static),
    config: &ConnectorConfig,
    what: &str,
) -> String {
    diagnose(error, config).unwrap_or_else(|| format!("{what}: {}", chain(error)))
}

/// What to do about `error`, then its chain, when the registry's configuration is at fault.
fn diagnose(error: &(dyn Error + 'static), config: &ConnectorConfig) -> Option<String> {
    let odoo = format!(
        "Odoo at {} (database {}, login {})",
        redact_url(&config.odoo.base_url),
        config.odoo.database,
        config.odoo.login
    );
    let missing_type = |what: &str, setting: &str, name: &str| {
        format!(
            "create the id type '{name}' in the registry (g2p.id.type) or set {setting}: the \
             {what} id type '{name}' does not exist in the registry ({odoo})"
        )
    };
    let mut cause = Some(error);
    while let Some(e) = cause {
        match e.downcast_ref::<PreflightError>() {
            // A transparent wrapper's `source()` skips the error it wraps: look at that one.
            Some(PreflightError::Registry(registry)) => {
                cause = Some(registry);
                continue;
            }
            Some(PreflightError::CallbackLogin(login)) => {
                return Some(format!(
                    "check callback.username, its password and callback.database: {}",
                    chain(login)
                ));
            }
            // Its own words say what to fix, and name each setting and field.
            Some(model @ PreflightError::Model { .. }) => return Some(model.to_string()),
            Some(PreflightError::Mts { .. }) => {
                return Some(format!(
                    "check mts_url and that MTS is running: {}",
                    chain(e)
                ));
            }
            _ => {}
        }
        if let Some(registry) = e.downcast_ref::<RegistryError>() {
            let said = chain(registry);
            return Some(match registry {
                RegistryError::Unauthenticated { .. } => format!(
                    "check odoo.login, its password and odoo.database: logging in to {odoo} \
                     failed: {said}"
                ),
                // Odoo raising during its login (not a refusal): a database it cannot open.
                RegistryError::Unavailable { .. }
                    if said.contains("common.login") && said.contains("Odoo raised") =>
                {
                    format!("check odoo.database: logging in to {odoo} failed: {said}")
                }
                RegistryError::Unavailable { .. } if said.contains("common.login") => format!(
                    "check odoo.base_url and that Odoo is running: logging in to {odoo} \
                     failed: {said}"
                ),
                RegistryError::Unavailable { .. } if said.contains("not reached") => format!(
                    "check odoo.base_url and that Odoo is running: {odoo} stopped answering: \
                     {said}"
                ),
                RegistryError::PermissionDenied { .. } => {
                    format!("grant the rights docs/OPERATIONS.md lists: {odoo}: {said}")
                }
                RegistryError::Invalid { message } => {
                    let types = [
                        ("token", "token_id_type", &config.id_types.token),
                        ("VID", "vid_id_type", &config.id_types.vid),
                    ];
                    let missing = types.iter().find(|(_, _, name)| {
                        *message == format!("the id type '{name}' does not exist in the registry")
                    });
                    let (what, setting, name) = missing?;
                    missing_type(what, setting, name)
                }
                _ => return None,
            });
        }
        if let Some(SinkError::Misconfigured { message }) = e.downcast_ref::<SinkError>() {
            let token = &config.id_types.token;
            if *message == format!("the id type '{token}' does not exist in the registry") {
                return Some(missing_type("token", "token_id_type", token));
            }
        }
        cause = e.source();
    }
    None
}

/// Why callbacks did not arrive, told more precisely by trying MTS's login from OMC's side
/// (`stopped` is the run's reason; another reason is returned as it is).
pub(super) async fn callbacks(stopped: &str, login: Option<&CallbackLogin>) -> String {
    let Some(login) = login.filter(|_| stopped == CALLBACKS_NOT_ARRIVING) else {
        return stopped.to_owned();
    };
    match login.check().await {
        Ok(()) => stopped.to_owned(),
        Err(e @ CallbackLoginError::NoAnswer { .. }) => format!(
            "callbacks are not arriving: {}: check callback.url and callback.auth_url, and what \
             listens there; MTS waits for its login without a time limit, so restart MTS once \
             it is fixed",
            chain(&e)
        ),
        Err(e @ CallbackLoginError::Refused { .. }) => format!(
            "callbacks are not arriving: check callback.username, its password and \
             callback.database: {}",
            chain(&e)
        ),
        Err(e) => format!(
            "callbacks are not arriving: {}: check callback.url and callback.auth_url",
            chain(&e)
        ),
    }
}
