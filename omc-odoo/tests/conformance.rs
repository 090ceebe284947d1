//! omc-core's `Registry` conformance suite run against `OdooRegistry` over a fresh Odoo emulator
//! per registry.

use omc_core::conformance::registry::run_registry_suite;
use omc_core::{IdTypes, Registry};
use omc_odoo::OdooRegistry;
use omc_odoo::emulator::{OdooEmulator, RunningOdoo};
use std::sync::{Arc, Mutex};

#[tokio::test]
async fn odoo_registry_passes_the_registry_suite() {
    let running: Arc<Mutex<Vec<RunningOdoo>>> = Arc::default();
    let kept = Arc::clone(&running);
    run_registry_suite(move |seeds, id_types: IdTypes| {
        let kept = Arc::clone(&kept);
        async move {
            let odoo = OdooEmulator::builder()
                .id_types(id_types.clone())
                .start()
                .await
                .expect("emulator");
            odoo.seed(seeds);
            let client = odoo.client("admin", "admin");
            kept.lock().unwrap().push(odoo);
            Arc::new(OdooRegistry::new(client, id_types)) as Arc<dyn Registry>
        }
    })
    .await;
    let emulators = std::mem::take(&mut *running.lock().unwrap());
    for odoo in emulators {
        odoo.shutdown().await;
    }
}
