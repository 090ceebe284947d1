//! omc-core's TokenSeeder conformance suite, run against MtsClient and the MTS emulator, with
//! a loopback callback receiver turning callbacks into results with omc-core's own callback
//! parser (the one the self-hosted sink uses).

#![allow(clippy::print_stderr)] // the suite's summary line, for `--nocapture`

mod common;

use async_trait::async_trait;
use common::{Receiver, delivery};
use omc_core::conformance::seeder::{SeederHarness, TokenRule, run_seeder_suite};
use omc_core::receiver::{PayloadLimits, parse_results};
use omc_core::sink::{CallbackAuth, SeedResult};
use omc_core::{Delivery, TokenSeeder};
use omc_mts::emulator::MtsEmulator;
use omc_mts::{MtsClient, RetryPolicy};
use std::sync::Arc;

struct Harness {
    receiver: Receiver,
    client: Arc<MtsClient>,
}

#[async_trait]
impl SeederHarness for Harness {
    fn seeder(&self) -> Arc<dyn TokenSeeder> {
        self.client.clone()
    }

    async fn delivery(&self) -> Delivery {
        delivery(self.receiver.url("/results"), true, CallbackAuth::None)
    }

    async fn delivered(&self) -> Vec<SeedResult> {
        self.receiver
            .calls()
            .iter()
            .filter_map(|call| parse_results(&call.body, &PayloadLimits::default()).ok())
            .flatten()
            .collect()
    }

    fn tokens(&self) -> TokenRule {
        TokenRule::mts_mock("mpartner-default-omc")
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mts_client_against_the_emulator_passes_the_seeder_suite() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let client = MtsClient::builder(mts.base_url())
        .with_retry(RetryPolicy::never())
        .build()
        .unwrap();
    let harness = Harness {
        receiver: Receiver::ok().await,
        client: Arc::new(client),
    };
    let report = run_seeder_suite(harness).await;
    eprintln!("{report}");
    mts.shutdown().await;
}
