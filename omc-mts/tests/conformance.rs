//! omc-core's TokenSeeder conformance suite, run against MtsClient and the MTS emulator, with
//! a loopback callback receiver turning callbacks into results.

mod common;

use async_trait::async_trait;
use common::{Receiver, delivery};
use omc_core::conformance::seeder::{SeederHarness, run_seeder_suite};
use omc_core::registry::RegistrantId;
use omc_core::sink::{CallbackAuth, RecordStatus, SeedResult};
use omc_core::{Delivery, Token, TokenSeeder, Vid};
use omc_mts::emulator::{MtsEmulator, RunningMts};
use omc_mts::{MtsClient, RetryPolicy};
use serde_json::Value;
use std::sync::Arc;

struct Harness {
    mts: RunningMts,
    receiver: Receiver,
    client: Arc<MtsClient>,
}

fn text(value: &Value) -> Option<String> {
    value.as_str().map(String::from)
}

fn result(body: &Value) -> Option<SeedResult> {
    Some(SeedResult {
        registrant: RegistrantId(body["id"].as_i64()?),
        vid: text(&body["vid"]).map(Vid::new),
        status: serde_json::from_value::<RecordStatus>(body["status"].clone()).ok()?,
        token: text(&body["token"]).map(Token::new),
        error_code: text(&body["errorCode"]),
        error_message: text(&body["errorMessage"]),
    })
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
            .filter_map(|call| serde_json::from_slice::<Value>(&call.body).ok())
            .flat_map(|body| body.as_array().cloned().unwrap_or_default())
            .filter_map(|item| result(&item))
            .collect()
    }

    fn partner_id(&self) -> String {
        "mpartner-default-omc".into()
    }
}

#[tokio::test]
async fn mts_client_against_the_emulator_passes_the_seeder_suite() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let client = MtsClient::builder(mts.base_url())
        .with_retry(RetryPolicy::never())
        .build()
        .unwrap();
    let harness = Harness {
        receiver: Receiver::ok().await,
        client: Arc::new(client),
        mts,
    };
    run_seeder_suite(&harness).await;
    harness.mts.shutdown().await;
}
