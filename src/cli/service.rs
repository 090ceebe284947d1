//! `omc run`: one run (`--once`, or a one-time job), or the recurring service: runs on the
//! schedule (`interval_minutes`, anchored at `runs.run_at` when set), a failed run retried with
//! backoff, never ending the service; SIGTERM or SIGINT stops selecting, lets the batches
//! already sent finish, records the run as interrupted and exits.

use super::diagnose::explain;
use super::http::{self, Health};
use super::metrics::{Metered, Metrics};
use super::{RunArgs, ledger, load, progress};
use crate::connector::Connector;
use omc_core::ConnectorConfig;
use omc_core::config::{JobType, SinkKind};
use omc_core::engine::{CancellationToken, EngineSettings, Progress, RunEnd, RunHooks};
use omc_core::ledger::{LedgerLock, RunOutcome};
use omc_core::runs::{RunRequest, Runner, chain};
use omc_core::time::Timestamp;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::Instrument;

/// A connector ready to run: its configuration, the adapters, the runner over its ledger and
/// the ledger's lock, held for as long as this process runs.
pub(super) struct Service {
    pub(super) config: Arc<ConnectorConfig>,
    pub(super) connector: Connector,
    pub(super) runner: Runner,
    pub(super) lock: LedgerLock,
    pub(super) metrics: Metrics,
}

impl Service {
    /// Loads the configuration at `path`, wires it, and takes its ledger's lock as `what`.
    pub(super) async fn start(path: &Path, what: &str) -> Result<Self, String> {
        let mut config = load(path)?;
        // The self-hosted sink's receiver listens before the sink is made, so that MTS can be
        // given the port bound when `callback.listen` asks for a free one (port 0).
        let listener = match config.callback.listen {
            Some(listen) if config.callback.sink == SinkKind::SelfHosted => {
                let (listener, bound) = super::receiver::bind(listen)
                    .map_err(|e| format!("callback.listen {listen}: cannot listen: {e}"))?;
                if config.callback.url.is_none() {
                    config.callback.url = url::Url::parse(&format!("http://{bound}/")).ok();
                }
                tracing::info!(address = %bound, "receiving MTS's callbacks");
                Some(listener)
            }
            _ => None,
        };
        let mut connector =
            Connector::new(&config, EngineSettings::from(&config)).map_err(|e| chain(&e))?;
        let metrics = Metrics::default();
        let metered = Metered::new(connector.engine.seeder().clone(), metrics.clone());
        connector.engine = connector.engine.clone().with_seeder(Arc::new(metered));
        let ledger = ledger::open(path, &config)?;
        let runner = Runner::new(connector.engine.clone(), ledger, config.runs.clone());
        let lock = runner.lock(what).await.map_err(|e| chain(&e))?;
        // The self-hosted sink's receiver, served by this process for as long as it runs.
        if let (Some(receiver), Some(listener)) = (connector.receiver.clone(), listener) {
            super::receiver::serve(receiver, listener);
        }
        Ok(Self {
            config: Arc::new(config),
            connector,
            runner,
            lock,
            metrics,
        })
    }

    /// What a run needs, checked before it sends anything (`Connector::preflight`). A failure
    /// is a run that could not run: recorded as failed in the ledger and in the metrics.
    pub(super) async fn preflight(&self) -> Result<(), String> {
        let Err(e) = self.connector.preflight().await else {
            return Ok(());
        };
        self.metrics.run_ended(RunOutcome::Failed);
        let message = explain(&e, &self.config, "the run cannot start");
        if let Err(e) = self.runner.record_failed(&self.lock, &message).await {
            tracing::warn!("recording the run that could not run failed: {}", chain(&e));
        }
        Err(message)
    }
}

/// Prints a run's report as one JSON line; an error that stopped it goes to stderr.
pub(super) fn finish(end: RunEnd, config: &ConnectorConfig) -> Result<(), String> {
    outln!("{}", serde_json::to_string(&end.report).unwrap_or_default());
    match end.error {
        None => Ok(()),
        Some(e) => Err(explain(&e, config, "the run stopped")),
    }
}

/// How a run ended, for the exit status a scheduler acts on (docs/OPERATIONS.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// No selected registrant is left pending (exit 0).
    Settled,
    /// Some are pending: the next run sends them again (exit 3).
    Pending,
    /// The run stopped by itself (MTS not reachable, callbacks not arriving): the rest is
    /// pending (exit 3); a service retries it with backoff.
    Stopped,
    /// Stopped by SIGTERM or SIGINT (exit 4 for `--once`; a recurring service exits 0).
    Interrupted,
}

impl Ended {
    fn of(end: &RunEnd, cancel: &CancellationToken) -> Self {
        if cancel.is_cancelled() {
            Self::Interrupted
        } else if end.report.stopped.is_some() {
            Self::Stopped
        } else if end.report.pending > 0 {
            Self::Pending
        } else {
            Self::Settled
        }
    }

    fn code(self) -> ExitCode {
        match self {
            Self::Settled => ExitCode::SUCCESS,
            Self::Pending | Self::Stopped => ExitCode::from(3),
            Self::Interrupted => ExitCode::from(4),
        }
    }

    fn outcome(self) -> RunOutcome {
        match self {
            Self::Settled | Self::Pending => RunOutcome::Completed,
            Self::Stopped => RunOutcome::Failed,
            Self::Interrupted => RunOutcome::Interrupted,
        }
    }
}

/// Cancels `token` at SIGTERM or SIGINT: the run stops selecting and finishes what it sent.
fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let mut term = match signal(SignalKind::terminate()) {
            Ok(term) => term,
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                return;
            }
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        tracing::info!("stopping: no new batch is sent; waiting for the batches already sent");
        token.cancel();
    });
}

/// One run with signals, progress and metrics wired: its end, printed, and how it ended.
async fn one_run(
    service: &Service,
    request: RunRequest,
    cancel: &CancellationToken,
) -> Result<Ended, String> {
    let (progress, watched) = watch::channel(Progress::default());
    let shown = progress::show(watched, service.metrics.clone());
    let hooks = RunHooks::default()
        .with_progress(progress)
        .with_cancel(cancel.clone());
    service.metrics.run_started();
    let end = service.runner.run_with(&service.lock, request, hooks).await;
    shown.await;
    let end = end.map_err(|e| {
        service.metrics.run_ended(RunOutcome::Failed);
        explain(&e, &service.config, "the run could not start")
    })?;
    let ended = Ended::of(&end, cancel);
    if let Some(why) = &end.report.stopped
        && ended != Ended::Interrupted
    {
        let why = super::diagnose::callbacks(why, service.connector.callback_login.as_ref()).await;
        super::logging::error("omc", &format!("the run stopped early: {why}"));
    }
    let failed = end.error.is_some();
    service.metrics.run_ended(if failed {
        RunOutcome::Failed
    } else {
        ended.outcome()
    });
    finish(end, &service.config)?;
    Ok(ended)
}

/// `omc run`.
pub(super) async fn run(args: RunArgs) -> Result<ExitCode, String> {
    let request = if args.full {
        RunRequest::Full
    } else if args.delta {
        RunRequest::Delta
    } else {
        RunRequest::Due
    };
    let what = if args.once {
        "omc run --once"
    } else {
        "omc run"
    };
    let service = Service::start(&args.file, what).await?;
    let span = tracing::info_span!("connector", name = %service.config.name);
    let once = args.once || service.config.job_type == JobType::OneTime;
    let cancel = CancellationToken::new();
    cancel_on_signals(cancel.clone());
    let health = Arc::new(Health::new(
        service.connector.clone(),
        service.config.clone(),
        Duration::from_secs(u64::from(service.config.runs.health_check_seconds)),
    ));
    if let Some(addr) = args.http {
        let bound = http::serve(
            addr,
            health.clone(),
            service.metrics.clone(),
            cancel.clone(),
        )
        .await
        .map_err(|e| format!("--http {addr}: cannot listen: {e}"))?;
        tracing::info!(address = %bound, "serving /healthz and /metrics");
    }
    if once {
        return async {
            service.preflight().await?;
            Ok(one_run(&service, request, &cancel).await?.code())
        }
        .instrument(span)
        .await;
    }
    recurring(&service, request, &cancel, &health)
        .instrument(span)
        .await;
    Ok(ExitCode::SUCCESS)
}

/// The recurring service: a run at each scheduled time, a failed one retried with backoff, until
/// a signal (after which the current run finishes what it sent, and the service ends).
async fn recurring(
    service: &Service,
    request: RunRequest,
    cancel: &CancellationToken,
    health: &Health,
) {
    let runs = &service.config.runs;
    let interval = i64::from(service.config.interval_minutes.max(1)) * 60;
    let mut failures_in_a_row: u32 = 0;
    loop {
        let started = Timestamp::now();
        let result = match service.preflight().await {
            Ok(()) => one_run(service, request.clone(), cancel).await,
            Err(message) => Err(message),
        };
        let failure = match &result {
            Ok(Ended::Stopped) => Some("the run stopped early".to_owned()),
            Ok(_) => None,
            // Counted in the metrics where it failed (pre-flight, or the run itself).
            Err(message) => {
                super::logging::error("omc", message);
                Some(message.clone())
            }
        };
        health.last_run(failure.as_deref());
        if cancel.is_cancelled() {
            return;
        }
        let now = Timestamp::now();
        let scheduled = match runs.run_at {
            Some(at) => at.next_after(now, service.config.interval_minutes),
            None => started.plus_seconds(interval).max(now),
        };
        let next = if failure.is_some() {
            failures_in_a_row += 1;
            let backoff = i64::from(runs.retry_seconds)
                .saturating_mul(1_i64 << (failures_in_a_row - 1).min(20))
                .min(interval);
            now.plus_seconds(backoff).min(scheduled)
        } else {
            failures_in_a_row = 0;
            scheduled
        };
        tracing::info!(
            at = %next,
            retry = failures_in_a_row,
            "next run at {next} UTC"
        );
        let wait = Duration::from_secs(u64::try_from(next.0 - now.0).unwrap_or(0));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = cancel.cancelled() => return,
        }
    }
}
