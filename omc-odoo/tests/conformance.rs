//! omc-core's `Registry` conformance suite run against `OdooRegistry` over a fresh Odoo emulator
//! per registry, and the `CallbackSink` suite against `OdooCallbackSink` over the emulator.
#![allow(clippy::print_stderr)] // each suite's summary line, for `--nocapture`

use async_trait::async_trait;
use omc_core::conformance::registry::run_registry_suite;
use omc_core::conformance::sink::{SinkHarness, run_sink_suite};
use omc_core::{CallbackSink, IdTypes, Registry};
use omc_odoo::emulator::{OdooEmulator, RunningOdoo};
use omc_odoo::{OdooCallbackSink, OdooRegistry};
use secrecy::SecretString;
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread")]
async fn odoo_registry_passes_the_registry_suite() {
    let running: Arc<Mutex<Vec<RunningOdoo>>> = Arc::default();
    let kept = Arc::clone(&running);
    let report = run_registry_suite(move |seeds, id_types: IdTypes| {
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
    eprintln!("{report}");
    let emulators = std::mem::take(&mut *running.lock().unwrap());
    for odoo in emulators {
        odoo.shutdown().await;
    }
}

/// The Odoo callback sink over the emulator: a read-back sink, so the receiving cases skip.
struct OdooSink {
    sink: Arc<OdooCallbackSink>,
}

#[async_trait]
impl SinkHarness for OdooSink {
    fn sink(&self) -> Arc<dyn CallbackSink> {
        self.sink.clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn odoo_callback_sink_passes_the_sink_suite() {
    let odoo = OdooEmulator::builder().start().await.expect("emulator");
    let registry = OdooRegistry::new(odoo.client("admin", "admin"), IdTypes::default());
    let sink = OdooCallbackSink::new(registry)
        .expect("a sink")
        .with_callback_user("mts", SecretString::from("mts-callback-password"))
        .with_login_header("X-Proxy-Key", SecretString::from("proxy-key-secret"));
    let report = run_sink_suite(OdooSink {
        sink: Arc::new(sink),
    })
    .await;
    eprintln!("{report}");
    odoo.shutdown().await;
}
