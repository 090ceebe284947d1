//! End to end over real HTTP: the Odoo and MTS adapters against their emulators on loopback,
//! configured as an OpenG2P operator configures a connector (auth type `odoo`).

use async_trait::async_trait;
use omc::config::{AuthType, CallbackSettings, JobType, OdooSettings};
use omc::connector::Connector;
use omc::engine::EngineSettings;
use omc::memory::RegistrantSeed;
use omc::mts::MtsClient;
use omc::mts::emulator::RunningMts;
use omc::odoo::emulator::RunningOdoo;
use omc::odoo::{OdooCallbackSink, OdooRegistry};
use omc::testing::mock_token;
use omc::testing::{synthetic, synthetic_one};
use omc::{
    Candidate, CandidateQuery, ConnectorConfig, Engine, RegistrantId, Registry, RegistryError,
    RunReport, StoreReport, Token, Vid,
};
use secrecy::SecretString;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

mod common;

use common::{PARTNER, emulators, quick_wait};

struct World {
    odoo: RunningOdoo,
    mts: RunningMts,
}

async fn world(seeds: Vec<RegistrantSeed>) -> World {
    let (odoo, mts) = emulators(seeds, &[("mts", "mts-password")]).await;
    World { odoo, mts }
}

fn config(w: &World, callback_password: &str) -> ConnectorConfig {
    let odoo = OdooSettings {
        base_url: w.odoo.base_url(),
        database: "openg2p".into(),
        login: "admin".into(),
        password: SecretString::from("admin"),
    };
    ConnectorConfig::builder("e2e", w.mts.base_url(), odoo)
        .with_job_type(JobType::OneTime)
        .with_batch_size(40)
        .with_callback(CallbackSettings {
            auth_type: AuthType::Odoo,
            database: Some("openg2p".into()),
            username: Some("mts".into()),
            password: Some(SecretString::from(callback_password)),
            ..CallbackSettings::default()
        })
        .build()
}

fn settings(config: &ConnectorConfig) -> EngineSettings {
    let mut settings = EngineSettings::from(config);
    settings.wait = quick_wait(Duration::from_secs(5));
    settings
}

async fn run(w: &World, callback_password: &str) -> RunReport {
    let config = config(w, callback_password);
    let connector = Connector::new(&config, settings(&config)).unwrap();
    connector.engine.run_once().await.unwrap()
}

fn sent_ids(mts: &RunningMts) -> Vec<i64> {
    mts.received()
        .iter()
        .flat_map(|r| {
            r.authdata
                .iter()
                .filter_map(|a| a.expose().get("id")?.as_i64())
        })
        .collect()
}

#[tokio::test]
async fn an_operator_run_tokenises_everyone_and_removes_the_vids() {
    let seeds: Vec<_> = synthetic(120, 5).collect();
    let w = world(seeds.clone()).await;
    let report = run(&w, "mts-password").await;
    assert_eq!(report.selected, 120);
    assert_eq!(report.tokenised, 120);
    assert_eq!(report.vids_removed, 120);
    assert_eq!(report.pending, 0);
    assert_eq!(report.requests, 3, "batches of 40");
    assert!(report.is_balanced());
    for seed in &seeds {
        let token = w.odoo.token_of(seed.id).expect("token stored through Odoo");
        assert_eq!(token, mock_token(seed.vid.as_ref().unwrap(), PARTNER));
        assert!(w.odoo.vid_of(seed.id).is_none());
    }
    let received = w.mts.received();
    assert!(
        received
            .iter()
            .all(|r| r.auth_type.as_deref() == Some("odoo"))
    );

    // A second run sends nothing already tokenised.
    let before = received.len();
    let report = run(&w, "mts-password").await;
    assert_eq!(report.selected, 0);
    assert_eq!(w.mts.received().len(), before, "no new MTS request");
}

fn patched(id: i64, patch: serde_json::Value) -> RegistrantSeed {
    let mut seed = synthetic_one(id, 5);
    for (k, v) in patch.as_object().unwrap() {
        seed.fields.expose_mut().insert(k.clone(), v.clone());
    }
    seed
}

#[tokio::test]
async fn records_mts_would_refuse_are_held_back_and_keep_their_vids() {
    let mut seeds: Vec<_> = synthetic(30, 5).collect();
    seeds[9] = patched(
        10,
        json!({"given_name": false, "family_name": false, "name": false}),
    );
    seeds[19] = patched(20, json!({"gender": false}));
    let w = world(seeds).await;
    let report = run(&w, "mts-password").await;
    assert_eq!(report.failed.get("ATS-REQ-010"), Some(&1), "{report:?}");
    assert_eq!(report.failed.get("ATS-REQ-011"), Some(&1), "{report:?}");
    assert_eq!(report.tokenised, 28, "the rest of the batch goes through");
    assert!(report.is_balanced());
    let sent = sent_ids(&w.mts);
    assert_eq!(sent.len(), 28);
    for held in [10, 20] {
        assert!(!sent.contains(&held), "{held} not sent");
        assert!(
            w.odoo.vid_of(RegistrantId(held)).is_some(),
            "{held} keeps its VID"
        );
        assert!(w.odoo.token_of(RegistrantId(held)).is_none());
    }
    assert!(
        w.mts.received().iter().all(|r| r.http_status == 200),
        "no batch refused as a whole"
    );
}

#[tokio::test]
async fn refused_callbacks_leave_registrants_pending_with_their_vids() {
    let w = world(synthetic(15, 5).collect()).await;
    let report = run(&w, "wrong-password").await;
    assert_eq!(report.sent, 15);
    assert_eq!(report.tokenised, 0);
    assert_eq!(
        report.pending, 15,
        "MTS ignores the failed login; OMC reconciles"
    );
    assert_eq!(report.vids_removed, 0);
    assert_eq!(w.odoo.count_ids("MOSIP VID"), 15);
    assert_eq!(w.odoo.count_ids("MOSIP UIN TOKEN"), 0);
    // Fixed credentials: the next run gets them all.
    let report = run(&w, "mts-password").await;
    assert_eq!((report.tokenised, report.vids_removed), (15, 15));
}

/// OpenG2P's own VID clean-up job, racing the connector: VIDs vanish as tokens are read back.
#[derive(Debug)]
struct RacingCleanup {
    inner: OdooRegistry,
    odoo: Arc<RunningOdoo>,
}

#[async_trait]
impl Registry for RacingCleanup {
    async fn candidates(&self, q: &CandidateQuery) -> Result<Vec<Candidate>, RegistryError> {
        self.inner.candidates(q).await
    }
    async fn tokens(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, Token>, RegistryError> {
        let found = self.inner.tokens(ids).await?;
        for id in found.keys().filter(|id| id.0 % 2 == 0) {
            self.odoo.delete_vid(*id);
        }
        Ok(found)
    }
    async fn store_tokens(
        &self,
        t: &[(RegistrantId, Token)],
    ) -> Result<StoreReport, RegistryError> {
        self.inner.store_tokens(t).await
    }
    async fn store_vids(&self, v: &[(RegistrantId, Vid)]) -> Result<StoreReport, RegistryError> {
        self.inner.store_vids(v).await
    }
    async fn id_validation(&self, t: &str) -> Result<Option<String>, RegistryError> {
        self.inner.id_validation(t).await
    }
    async fn remove_vids(&self, ids: &[RegistrantId]) -> Result<usize, RegistryError> {
        self.inner.remove_vids(ids).await
    }
    async fn holders(
        &self,
        tokens: &[Token],
    ) -> Result<BTreeMap<Token, Vec<RegistrantId>>, RegistryError> {
        self.inner.holders(tokens).await
    }
}

#[tokio::test]
async fn a_vid_deleted_by_someone_else_does_not_fail_the_run() {
    let w = world(synthetic(20, 5).collect()).await;
    let config = config(&w, "mts-password");
    let connector = Connector::new(&config, settings(&config)).unwrap();
    let inner = (*connector.registry).clone();
    let World { odoo, mts } = w;
    let odoo = Arc::new(odoo);
    let registry = Arc::new(RacingCleanup {
        inner: inner.clone(),
        odoo: odoo.clone(),
    });
    let sink = OdooCallbackSink::new(inner)
        .unwrap()
        .with_callback_user("mts", SecretString::from("mts-password"));
    let seeder = MtsClient::builder(mts.base_url()).build().unwrap();
    let engine = Engine::new(
        registry,
        Arc::new(seeder),
        Arc::new(sink),
        settings(&config),
    );
    let report = engine.run_once().await.unwrap();
    assert_eq!(report.tokenised, 20);
    assert_eq!(report.vids_removed, 10, "the other ten were already gone");
    assert_eq!(odoo.count_ids("MOSIP VID"), 0);
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 20);
}
