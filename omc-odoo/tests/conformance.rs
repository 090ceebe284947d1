//! omc-core's `Registry` conformance suite run against `OdooRegistry` over a fresh Odoo emulator
//! per registry, and the two sink suites (`CallbackSink`, `RunResults`) against
//! `OdooCallbackSink` over the emulator and against `OpenG2pApiSink`.
#![allow(clippy::print_stderr)] // each suite's summary line, for `--nocapture`

use async_trait::async_trait;
use omc_core::conformance::registry::run_registry_suite;
use omc_core::conformance::sink::{SinkHarness, run_sink_suites};
use omc_core::{CallbackSink, IdTypes, Registry};
use omc_odoo::emulator::{OdooEmulator, RunningOdoo};
use omc_odoo::{OdooCallbackSink, OdooRegistry, OpenG2pApiSink};
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

/// A read-back sink (Odoo's `call_kw`, OpenG2P's API): the results cases that deliver skip.
struct ReadBackSink {
    sink: Arc<dyn CallbackSink>,
}

#[async_trait]
impl SinkHarness for ReadBackSink {
    fn sink(&self) -> Arc<dyn CallbackSink> {
        self.sink.clone()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn odoo_callback_sink_passes_the_sink_suites() {
    let odoo = OdooEmulator::builder().start().await.expect("emulator");
    let registry = OdooRegistry::new(odoo.client("admin", "admin"), IdTypes::default());
    let sink = OdooCallbackSink::new(registry)
        .expect("a sink")
        .with_callback_user("mts", SecretString::from("mts-callback-password"))
        .with_login_header("X-Proxy-Key", SecretString::from("proxy-key-secret"));
    let reports = run_sink_suites(ReadBackSink {
        sink: Arc::new(sink),
    })
    .await;
    for report in reports {
        eprintln!("{report}");
    }
    odoo.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn openg2p_api_sink_passes_the_sink_suites() {
    let sink = OpenG2pApiSink::new(
        &"http://openg2p.example/".parse().unwrap(),
        "api-user",
        SecretString::from("api-user-password"),
        &IdTypes::default(),
    )
    .expect("a sink");
    let reports = run_sink_suites(ReadBackSink {
        sink: Arc::new(sink),
    })
    .await;
    for report in reports {
        eprintln!("{report}");
    }
}
