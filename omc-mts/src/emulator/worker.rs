//! The one background worker: requests in arrival order, record by record, then callbacks.

use super::Shared;
use super::callback;
use super::store::{RecordState, RequestState};
use omc_core::Vid;
use omc_core::testing::mock_token;
use std::sync::Arc;
use tokio::sync::mpsc;

/// Works through queued request identifiers until the queue closes.
pub(crate) async fn run(shared: Arc<Shared>, mut queue: mpsc::UnboundedReceiver<String>) {
    while let Some(id) = queue.recv().await {
        process(&shared, &id).await;
        shared.finished_one();
    }
}

async fn process(shared: &Shared, id: &str) {
    let records = {
        let mut store = shared.lock_store();
        let Some(request) = store.get_mut(id) else {
            return;
        };
        if request.state == RequestState::Submitted {
            request.state = RequestState::Processing;
        }
        request.records.len()
    };
    for index in 0..records {
        if !set_record(shared, id, index, RecordState::Processing) {
            return;
        }
        if !shared.config.record_delay.is_zero() {
            tokio::time::sleep(shared.config.record_delay).await;
        }
        if !set_record(shared, id, index, RecordState::Processed) {
            return;
        }
    }
    let (spec, program, items) = {
        let mut store = shared.lock_store();
        let Some(request) = store.get_mut(id) else {
            return;
        };
        // MTS counts the records found invalid at submission among the errors.
        let all_processed = request
            .records
            .iter()
            .all(|r| r.state == RecordState::Processed);
        request.state = if all_processed {
            RequestState::Processed
        } else {
            RequestState::ProcessedWithErrors
        };
        let items: Vec<_> = request.records.iter().map(|r| r.callback_input()).collect();
        (
            request.callback.clone(),
            request.output_format.clone(),
            items,
        )
    };
    let Some(spec) = spec else {
        return;
    };
    let delivered = callback::deliver(
        &shared.callbacks,
        &spec,
        program.as_deref(),
        &items,
        &shared.counters,
    )
    .await;
    if delivered.is_err()
        && let Some(request) = shared.lock_store().get_mut(id)
    {
        request.state = RequestState::ErrorMakingCallbackRequest;
    }
}

/// Moves a submitted record on (an invalid one stays invalid); false once the request expired.
fn set_record(shared: &Shared, id: &str, index: usize, state: RecordState) -> bool {
    let mut store = shared.lock_store();
    let Some(request) = store.get_mut(id) else {
        return false;
    };
    let record = &mut request.records[index];
    match (record.state, state) {
        (RecordState::Submitted, RecordState::Processing) => record.state = state,
        (RecordState::Processing, RecordState::Processed) => {
            let vid = Vid::new(record.vid.clone().unwrap_or_default());
            record.token = Some(mock_token(&vid, &shared.config.partner_id).into_inner());
            record.state = state;
        }
        _ => {}
    }
    true
}
