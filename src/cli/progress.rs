//! A run's progress as it goes: a live line on a terminal, a `progress` log line every 10
//! seconds otherwise (counts, rate, ETA), and the metrics' counters either way.

use super::logging;
use super::metrics::Metrics;
use indicatif::{ProgressBar, ProgressStyle};
use omc_core::engine::Progress;
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How often a `progress` line is logged when no live line is drawn.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Follows `progress` until its run ends (the sender is dropped). The returned future resolves
/// once the last counts are in the metrics and the live line is gone.
pub(super) fn show(
    mut progress: watch::Receiver<Progress>,
    metrics: Metrics,
) -> impl Future<Output = ()> {
    let handle = tokio::spawn(async move {
        let started = Instant::now();
        let bar = logging::on_a_terminal().then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            logging::show_bar(bar.clone());
            bar
        });
        let mut seen = Progress::default();
        let mut tick = tokio::time::interval(LOG_EVERY);
        tick.tick().await;
        loop {
            tokio::select! {
                changed = progress.changed() => {
                    let now = *progress.borrow_and_update();
                    metrics.progress(&seen, &now);
                    seen = now;
                    if let Some(bar) = &bar {
                        bar.set_message(line(&now, started.elapsed()));
                    }
                    if changed.is_err() {
                        break;
                    }
                }
                _ = tick.tick(), if bar.is_none() => {
                    let p = *progress.borrow();
                    let (per_second, eta) = pace(&p, started.elapsed());
                    tracing::info!(
                        selected = p.selected,
                        sent = p.sent,
                        tokenised = p.tokenised,
                        already_tokenised = p.already_tokenised,
                        pending = p.pending,
                        failed = p.failed,
                        in_flight = p.in_flight,
                        per_second = per_second.round(),
                        eta_seconds = eta.map(|d| d.as_secs()),
                        "progress"
                    );
                }
            }
        }
        if bar.is_some() {
            logging::clear_bar();
        }
    });
    async move {
        let _ = handle.await;
    }
}

/// Registrants settled a second so far, and the time left for those selected so far at that
/// pace (none before the first settles).
fn pace(p: &Progress, elapsed: Duration) -> (f64, Option<Duration>) {
    let settled = p.tokenised + p.already_tokenised + p.pending + p.failed;
    let per_second = settled as f64 / elapsed.as_secs_f64().max(0.001);
    let left = p.selected.saturating_sub(settled);
    let eta = (per_second > 0.0).then(|| Duration::from_secs_f64(left as f64 / per_second));
    (per_second, eta)
}

/// The live line: counts, rate and ETA.
fn line(p: &Progress, elapsed: Duration) -> String {
    let (per_second, eta) = pace(p, elapsed);
    let eta = eta.map_or_else(|| "—".to_owned(), |d| format!("{} s", d.as_secs()));
    format!(
        "selected {} · sent {} · tokenised {} · already {} · pending {} · failed {} · {:.0}/s · ETA {eta}",
        p.selected, p.sent, p.tokenised, p.already_tokenised, p.pending, p.failed, per_second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_counts_what_settled_and_leaves_no_eta_before_anything_did() {
        let mut p = Progress {
            selected: 1_000,
            ..Progress::default()
        };
        assert_eq!(pace(&p, Duration::from_secs(10)).1, None);
        p.tokenised = 180;
        p.failed = 20;
        let (per_second, eta) = pace(&p, Duration::from_secs(10));
        assert!((per_second - 20.0).abs() < 1e-9, "{per_second}");
        assert_eq!(eta, Some(Duration::from_secs(40)));
        assert!(line(&p, Duration::from_secs(10)).contains("ETA 40 s"));
    }
}
