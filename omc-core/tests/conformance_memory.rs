//! The conformance suites against the in-memory implementations.
#![cfg(feature = "conformance")]
#![allow(clippy::print_stderr)] // each suite's summary line, for `--nocapture`

use async_trait::async_trait;
use omc_core::conformance::seeder::{SeederHarness, TokenRule};
use omc_core::conformance::sink::SinkHarness;
use omc_core::conformance::{registry, seeder, sink};
use omc_core::memory::RegistrantSeed;
use omc_core::memory::{MemoryRegistry, MemorySeeder, MemorySink};
use omc_core::sink::SeedResult;
use omc_core::testing::mock_token;
use omc_core::{CallbackSink, Delivery, IdTypes, Registry, TokenSeeder, Vid};
use serde_json::json;
use std::sync::Arc;

const PARTNER: &str = "mpartner-default-omc";

#[tokio::test(flavor = "multi_thread")]
async fn memory_registry_conforms() {
    let report = registry::run_registry_suite(|seeds, id_types: IdTypes| async move {
        Arc::new(MemoryRegistry::with_seeds(id_types, seeds)) as Arc<dyn Registry>
    })
    .await;
    eprintln!("{report}");
}

struct Seeding {
    seeder: Arc<MemorySeeder>,
    sink: Arc<MemorySink>,
    rule: TokenRule,
}

#[async_trait]
impl SeederHarness for Seeding {
    fn seeder(&self) -> Arc<dyn TokenSeeder> {
        self.seeder.clone()
    }
    async fn delivery(&self) -> Delivery {
        self.sink.delivery().await.expect("memory delivery")
    }
    async fn delivered(&self) -> Vec<SeedResult> {
        self.sink.recorded()
    }
    fn tokens(&self) -> TokenRule {
        self.rule.clone()
    }
}

fn seeding(rule: TokenRule) -> Seeding {
    let registry = Arc::new(MemoryRegistry::default());
    let sink = Arc::new(MemorySink::new(registry).recording());
    let seeder = Arc::new(MemorySeeder::new(PARTNER, sink.clone()));
    Seeding { seeder, sink, rule }
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_seeder_conforms() {
    let report = seeder::run_seeder_suite(seeding(TokenRule::mts_mock(PARTNER))).await;
    eprintln!("{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_seeder_suite_takes_an_oracle_or_no_token_rule_and_names_a_wrong_token() {
    let oracle = TokenRule::Oracle(Arc::new(|vid: &Vid| mock_token(vid, PARTNER)));
    seeder::run_seeder_suite(seeding(oracle)).await;
    seeder::run_seeder_suite(seeding(TokenRule::Opaque)).await;
    let report = seeder::run(seeding(TokenRule::mts_mock("another-partner"))).await;
    assert_eq!(
        report.failed(),
        ["every_record_gets_one_result_with_the_expected_token"],
        "{report}"
    );
}

/// The memory sink, storing into a registry holding registrants 1 to 4 with a VID each.
struct Sinking {
    sink: Arc<MemorySink>,
}

#[async_trait]
impl SinkHarness for Sinking {
    fn sink(&self) -> Arc<dyn CallbackSink> {
        self.sink.clone()
    }
    async fn deliver(
        &self,
        _delivery: &Delivery,
        results: &[SeedResult],
    ) -> Option<Result<(), String>> {
        Some(
            self.sink
                .receive(results)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string()),
        )
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_sink_conforms() {
    let seeds = (1..=4).map(|id| {
        RegistrantSeed::individual(
            id,
            json!({"given_name": "Given", "family_name": "Family"}),
            Some(&format!("49183500000{id:05}")),
        )
    });
    let registry = Arc::new(MemoryRegistry::with_seeds(IdTypes::default(), seeds));
    let sink = Arc::new(MemorySink::new(registry));
    let report = sink::run_sink_suite(Sinking { sink }).await;
    eprintln!("{report}");
}
