//! The run ledger's commands: `omc import` (a manual run of chosen registrants) and
//! `omc status`.

use super::diagnose::explain;
use super::{Chosen, load, service};
use omc_core::ConnectorConfig;
use omc_core::Domain;
use omc_core::ledger::{RunLedger, SqliteLedger};
use omc_core::runs::{Import, RunRequest, chain, parse_csv, parse_ids};
use omc_core::time::Timestamp;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// The configuration's ledger file: `ledger`, or `omc-ledger.sqlite` beside the configuration.
pub(super) fn ledger_file(path: &Path, config: &ConnectorConfig) -> PathBuf {
    config.ledger.clone().unwrap_or_else(|| {
        path.parent()
            .unwrap_or(Path::new("."))
            .join("omc-ledger.sqlite")
    })
}

/// The configuration's ledger, opened.
pub(super) fn open(path: &Path, config: &ConnectorConfig) -> Result<Arc<dyn RunLedger>, String> {
    let file = ledger_file(path, config);
    Ok(Arc::new(SqliteLedger::open(&file).map_err(|e| chain(&e))?))
}

/// `omc import`: the chosen registrants are checked, then tokenised in one run.
pub(super) async fn import(path: &Path, chosen: Chosen) -> Result<ExitCode, String> {
    let read =
        |file: &Path| std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()));
    let import = if let Some(ids) = chosen.ids {
        Import::Ids(parse_ids(&ids, "--ids").map_err(|e| e.to_string())?)
    } else if let Some(file) = chosen.ids_file {
        let name = file.display().to_string();
        Import::Ids(parse_ids(&read(&file)?, &name).map_err(|e| e.to_string())?)
    } else if let Some(file) = chosen.csv {
        let name = file.display().to_string();
        Import::Vids(parse_csv(&read(&file)?, &name).map_err(|e| e.to_string())?)
    } else if let Some(domain) = chosen.domain {
        Import::Domain(Domain::parse(&domain).map_err(|e| format!("--domain: {e}"))?)
    } else {
        return Err("choose the registrants: --ids, --ids-file, --domain or --csv".into());
    };
    let service = service::Service::start(path, "omc import").await?;
    service.preflight().await?;
    let end = service
        .runner
        .run(&service.lock, RunRequest::Import(import))
        .await
        .map_err(|e| explain(&e, &service.config, "the import could not start"))?;
    let pending = end.report.pending > 0;
    service::finish(end, &service.config)?;
    Ok(if pending {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

/// `omc status`: read without the ledger's lock, so it works beside a running service.
pub(super) async fn status(path: &Path, ids: bool, json: bool) -> Result<ExitCode, String> {
    let config = load(path)?;
    let ledger = open(path, &config)?;
    let status = omc_core::runs::status(&*ledger, &config.runs, 20, Timestamp::now())
        .await
        .map_err(|e| chain(&e))?;
    if json {
        outln!("{}", serde_json::to_string(&status).unwrap_or_default());
    } else {
        out!("{}", omc_core::runs::describe(&status));
    }
    if ids {
        let mut after = None;
        loop {
            let page = ledger.pending(after, 1000).await.map_err(|e| chain(&e))?;
            let Some(last) = page.last() else { break };
            after = Some(*last);
            for id in page {
                outln!("pending {id}");
            }
        }
        let mut after = None;
        loop {
            let page = ledger.failed(after, 1000).await.map_err(|e| chain(&e))?;
            let Some((last, _)) = page.last() else { break };
            after = Some(*last);
            for (id, code) in page {
                outln!("failed {id} {code}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
