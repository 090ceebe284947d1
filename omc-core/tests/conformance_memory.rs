//! The conformance suites against the in-memory implementations.
#![cfg(feature = "conformance")]

use async_trait::async_trait;
use omc_core::conformance::registry::run_registry_suite;
use omc_core::conformance::seeder::{SeederHarness, run_seeder_suite};
use omc_core::memory::{MemoryRegistry, MemorySeeder, MemorySink};
use omc_core::sink::SeedResult;
use omc_core::{CallbackSink, Delivery, IdTypes, Registry, TokenSeeder};
use std::sync::Arc;

#[tokio::test]
async fn memory_registry_conforms() {
    run_registry_suite(|seeds, id_types: IdTypes| async move {
        Arc::new(MemoryRegistry::with_seeds(id_types, seeds)) as Arc<dyn Registry>
    })
    .await;
}

struct Harness {
    seeder: Arc<MemorySeeder>,
    sink: Arc<MemorySink>,
}

#[async_trait]
impl SeederHarness for Harness {
    fn seeder(&self) -> Arc<dyn TokenSeeder> {
        self.seeder.clone()
    }
    async fn delivery(&self) -> Delivery {
        self.sink.delivery().await.expect("memory delivery")
    }
    async fn delivered(&self) -> Vec<SeedResult> {
        self.sink.recorded()
    }
    fn partner_id(&self) -> String {
        "mpartner-default-omc".into()
    }
}

#[tokio::test]
async fn memory_seeder_conforms() {
    let registry = Arc::new(MemoryRegistry::default());
    let sink = Arc::new(MemorySink::new(registry).recording());
    let seeder = Arc::new(MemorySeeder::new("mpartner-default-omc", sink.clone()));
    run_seeder_suite(&Harness { seeder, sink }).await;
}
