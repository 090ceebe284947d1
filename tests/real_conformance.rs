//! The conformance suites against the real systems, opt-in: the `Registry` suite against
//! `OdooRegistry` over a real Odoo 17 + OpenG2P when `OMC_REAL_ODOO_URL` is set (with
//! `OMC_REAL_ODOO_DATABASE`, `OMC_REAL_ODOO_LOGIN`, `OMC_REAL_ODOO_PASSWORD`; defaults omc,
//! admin, admin), and the `TokenSeeder` suite against `MtsClient` over a real MOSIP Token
//! Seeder when `OMC_REAL_MTS_URL` is set (with `OMC_REAL_MTS_PARTNER_ID`, default
//! mpartner-default-omc). Unset, each test prints why it is skipped and passes.
//!
//! ```text
//! OMC_REAL_ODOO_URL=http://127.0.0.1:18069/ OMC_REAL_ODOO_DATABASE=omc \
//! OMC_REAL_ODOO_LOGIN=admin OMC_REAL_ODOO_PASSWORD=admin \
//! OMC_REAL_MTS_URL=http://127.0.0.1:18080/ OMC_REAL_MTS_PARTNER_ID=mpartner-default-omc \
//! cargo test --test real_conformance -- --nocapture
//! ```
//!
//! The registry suite creates its own registrants (30 for each case that writes, with VIDs
//! and tokens unique to the run) and selects only those; MTS calls back a receiver on
//! loopback, so it must run on this machine.
#![allow(clippy::print_stderr)] // skips and each suite's summary line are meant to be seen

#[allow(dead_code)] // this test uses the variables' names only
#[path = "common/real.rs"]
mod real;

use async_trait::async_trait;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use omc::conformance::registry::{self, RegistryHarness, Seeded};
use omc::conformance::seeder::{self, SeederHarness, TokenRule};
use omc::memory::RegistrantSeed;
use omc::mts::{MtsClient, RetryPolicy};
use omc::odoo::{OdooClient, OdooRegistry};
use omc::receiver::{PayloadLimits, output_format, parse_results};
use omc::sink::{CallbackAuth, Delivery, HttpMethod, SeedResult};
use omc::{IdTypes, RegistrantId, TokenSeeder};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// A variable's value, `None` when unset or empty.
fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A base URL with the trailing `/` joining needs.
fn base_url(name: &str, text: &str) -> Url {
    let text = format!("{}/", text.trim().trim_end_matches('/'));
    Url::parse(&text).unwrap_or_else(|e| panic!("{name}={text} is not a URL: {e}"))
}

/// The real Odoo as the suite uses it: it seeds registrants and the id types they need.
struct RealOdoo {
    client: OdooClient,
}

impl RealOdoo {
    fn from_env() -> Option<Self> {
        let Some(url) = var(real::ODOO_URL) else {
            eprintln!(
                "skipped the Registry suite against a real Odoo: set {} (and optionally {}, {}, \
                 {}; defaults omc, admin, admin)",
                real::ODOO_URL,
                real::ODOO_DATABASE,
                real::ODOO_LOGIN,
                real::ODOO_PASSWORD
            );
            return None;
        };
        let client = OdooClient::builder()
            .base_url(base_url(real::ODOO_URL, &url))
            .database(var(real::ODOO_DATABASE).unwrap_or_else(|| "omc".into()))
            .login(var(real::ODOO_LOGIN).unwrap_or_else(|| "admin".into()))
            .password(SecretString::from(
                var(real::ODOO_PASSWORD).unwrap_or_else(|| "admin".into()),
            ))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .expect("an Odoo client");
        Some(Self { client })
    }

    /// The id of the id type named `name`, created when missing.
    async fn id_type(&self, name: &str) -> Result<i64, String> {
        let found = self
            .client
            .search_read(
                "g2p.id.type",
                json!([["name", "=", name]]),
                json!({"fields": ["id"]}),
            )
            .await
            .map_err(|e| format!("reading the id type {name:?}: {e}"))?;
        if let Some(id) = found.first().and_then(|t| t["id"].as_i64()) {
            return Ok(id);
        }
        let created = self
            .client
            .execute_kw("g2p.id.type", "create", json!([{"name": name}]), json!({}))
            .await
            .map_err(|e| format!("creating the id type {name:?}: {e}"))?;
        created
            .as_i64()
            .ok_or_else(|| format!("creating the id type {name:?} answered no id"))
    }
}

#[async_trait]
impl RegistryHarness for RealOdoo {
    async fn seed(&self, seeds: Vec<RegistrantSeed>, id_types: IdTypes) -> Result<Seeded, String> {
        let vid_type = self.id_type(&id_types.vid).await?;
        let token_type = self.id_type(&id_types.token).await?;
        let values: Vec<Value> = seeds
            .iter()
            .map(|s| Value::Object(s.fields.expose().clone()))
            .collect();
        let created = self
            .client
            .execute_kw("res.partner", "create", json!([values]), json!({}))
            .await
            .map_err(|e| format!("creating the registrants: {e}"))?;
        let new_ids: Vec<i64> = created
            .as_array()
            .map(|ids| ids.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        if new_ids.len() != seeds.len() {
            return Err(format!(
                "creating {} registrants answered {} ids",
                seeds.len(),
                new_ids.len()
            ));
        }
        let mut reg_ids = Vec::new();
        for (seed, id) in seeds.iter().zip(&new_ids) {
            if let Some(vid) = &seed.vid {
                reg_ids.push(json!({"partner_id": id, "id_type": vid_type, "value": vid.expose()}));
            }
            if let Some(token) = &seed.token {
                reg_ids.push(
                    json!({"partner_id": id, "id_type": token_type, "value": token.expose()}),
                );
            }
        }
        self.client
            .execute_kw("g2p.reg.id", "create", json!([reg_ids]), json!({}))
            .await
            .map_err(|e| format!("creating the registrants' ids: {e}"))?;
        let ids: BTreeMap<RegistrantId, RegistrantId> = seeds
            .iter()
            .zip(&new_ids)
            .map(|(seed, id)| (seed.id, RegistrantId(*id)))
            .collect();
        let registry = OdooRegistry::new(self.client.clone(), id_types);
        Ok(Seeded {
            registry: Arc::new(registry),
            ids,
        })
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_odoo_registry_passes_the_registry_suite() {
    let Some(odoo) = RealOdoo::from_env() else {
        return;
    };
    if let Err(e) = odoo.client.login().await {
        panic!("the real Odoo ({}) refuses the login: {e}", real::ODOO_URL);
    }
    let report = registry::run(odoo).await;
    eprintln!("{report}");
    report.assert_passed();
}

/// Callback bodies a loopback receiver got, as results.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<SeedResult>>>);

async fn receive(State(received): State<Received>, body: Bytes) -> &'static str {
    if let Ok(results) = parse_results(&body, &PayloadLimits::default()) {
        received.0.lock().expect("results").extend(results);
    }
    "{}"
}

/// The real MTS, calling back a receiver on loopback.
struct RealMts {
    client: Arc<MtsClient>,
    callback: Url,
    received: Received,
    partner_id: String,
}

#[async_trait]
impl SeederHarness for RealMts {
    fn seeder(&self) -> Arc<dyn TokenSeeder> {
        self.client.clone()
    }

    async fn delivery(&self) -> Delivery {
        {
            let mut delivery = Delivery::new(self.callback.clone(), CallbackAuth::None);
            delivery.http_method = HttpMethod::Post;
            delivery.timeout_seconds = 10;
            delivery.call_in_bulk = true;
            delivery.output_format = Some(output_format());
            delivery.extra_headers = BTreeMap::new();
            delivery
        }
    }

    async fn delivered(&self) -> Vec<SeedResult> {
        self.received.0.lock().expect("results").clone()
    }

    fn tokens(&self) -> TokenRule {
        TokenRule::mts_mock(self.partner_id.clone())
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_real_mts_passes_the_seeder_suite() {
    let Some(url) = var(real::MTS_URL) else {
        eprintln!(
            "skipped the TokenSeeder suite against a real MTS: set {} (and optionally {}; \
             default mpartner-default-omc)",
            real::MTS_URL,
            real::MTS_PARTNER_ID
        );
        return;
    };
    let received = Received::default();
    let app = Router::new()
        .route("/results", axum::routing::any(receive))
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let callback = Url::parse(&format!(
        "http://{}/results",
        listener.local_addr().expect("an address")
    ))
    .expect("a URL");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = MtsClient::builder(base_url(real::MTS_URL, &url))
        .with_retry(RetryPolicy::never())
        .build()
        .expect("an MTS client");
    let report = seeder::run(RealMts {
        client: Arc::new(client),
        callback,
        received,
        partner_id: var(real::MTS_PARTNER_ID).unwrap_or_else(|| "mpartner-default-omc".into()),
    })
    .await;
    eprintln!("{report}");
    report.assert_passed();
}
