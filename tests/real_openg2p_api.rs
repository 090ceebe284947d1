//! The OpenG2P-API sink against the real systems: a real MOSIP Token Seeder (`mts-mock`) calls
//! back into the real OpenG2P 17 REST API (`PUT /api/v1/registry/update_individual`); OMC reads
//! the tokens back over JSON-RPC. Also the MTS answers the emulator copies (ping, authfields,
//! `processed_with_errors`).
//!
//! Opt-in: it runs only when `OMC_REAL_ODOO_URL` and `OMC_REAL_MTS_URL` are set (see
//! `tests/common/real.rs` for every variable); otherwise it prints why it is skipped and passes.
//! The real Odoo must have OpenG2P's `g2p_registry_rest_api` installed, and the real MTS must
//! reach Odoo at the same URL.
//!
//! ```text
//! OMC_REAL_ODOO_URL=http://127.0.0.1:18069/ OMC_REAL_MTS_URL=http://127.0.0.1:18080/ \
//! cargo test --all-features --test real_openg2p_api -- --nocapture
//! ```

mod common;

use common::real::{RealStack, VidSeries};
use omc::engine::{EngineSettings, WaitPolicy};
use omc::mts::MtsClient;
use omc::odoo::{OdooClient, OdooRegistry, OpenG2pApiSink};
use omc::testing::mock_token;
use omc::{Domain, Engine, IdTypes, RequestStatus, TokenSeeder};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Registrants the end-to-end run creates.
const REGISTRANTS: usize = 60;
/// The fields compared before and after (every personal field OpenG2P's API could write).
const PERSONAL: [&str; 11] = [
    "name",
    "given_name",
    "family_name",
    "addl_name",
    "gender",
    "birthdate",
    "birth_place",
    "email",
    "phone",
    "address",
    "registration_date",
];

/// Creates `n` registrants with a family name unique to the run and a VID each: their ids.
async fn create_registrants(
    client: &OdooClient,
    vids: &VidSeries,
    tag: &str,
    n: usize,
) -> Vec<i64> {
    let types = client
        .search_read(
            "g2p.id.type",
            json!([["name", "=", IdTypes::default().vid]]),
            json!({"fields": ["id"]}),
        )
        .await
        .expect("the id types are read");
    let vid_type = types[0]["id"].as_i64().expect("the VID id type exists");
    let mut ids = Vec::with_capacity(n);
    for index in 0..n {
        let given = format!("Given{index:03}");
        let gender = ["Female", "Male"][index % 2];
        let values = json!({
            "name": format!("{tag}, {given}"), "is_registrant": true, "is_group": false,
            "given_name": given, "family_name": tag, "gender": gender,
            "birthdate": format!("19{:02}-0{}-1{}", 50 + index % 40, 1 + index % 9, index % 10),
            "email": format!("p{index}@example.org"), "address": format!("{index} Main Street"),
            "registration_date": "2024-01-15",
            "reg_ids": [[0, 0, {"id_type": vid_type, "value": vids.vid(index).expose()}]],
        });
        let id = client
            .execute_kw("res.partner", "create", json!([values]), json!({}))
            .await
            .expect("a registrant is created")
            .as_i64()
            .expect("create answers the new id");
        ids.push(id);
    }
    ids
}

/// The registrants' personal fields, by id order.
async fn personal(client: &OdooClient, ids: &[i64]) -> Vec<Value> {
    client
        .search_read(
            "res.partner",
            json!([["id", "in", ids]]),
            json!({"fields": PERSONAL, "order": "id asc"}),
        )
        .await
        .expect("the registrants are read")
}

/// `(partner id, id type name, value)` of the registrants' ids.
async fn reg_ids(client: &OdooClient, ids: &[i64]) -> Vec<(i64, String, String)> {
    let rows = client
        .search_read(
            "g2p.reg.id",
            json!([["partner_id", "in", ids]]),
            json!({"fields": ["partner_id", "id_type", "value"]}),
        )
        .await
        .expect("the ids are read");
    rows.iter()
        .map(|r| {
            (
                r["partner_id"][0].as_i64().unwrap_or_default(),
                r["id_type"][1].as_str().unwrap_or_default().to_owned(),
                r["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
#[allow(clippy::print_stdout)] // the measured time is meant to be seen (docs/PERFORMANCE.md)
async fn mts_calls_openg2p_back_and_every_registrant_gets_its_token_and_keeps_its_data() {
    let Some(stack) = RealStack::from_env("real_openg2p_api") else {
        return;
    };
    stack.ensure_reachable().await;
    let client = stack.odoo_client();
    let vids = VidSeries::new();
    let tag = vids.tag("OMCAPI");
    let ids = create_registrants(&client, &vids, &tag, REGISTRANTS).await;
    let before = personal(&client, &ids).await;

    let id_types = IdTypes::default();
    let registry = Arc::new(OdooRegistry::new(stack.odoo_client(), id_types.clone()));
    let sink = OpenG2pApiSink::new(
        &stack.odoo_url,
        stack.login.clone(),
        SecretString::from(stack.password.clone()),
        &id_types,
    )
    .expect("the sink is built");
    let seeder = MtsClient::builder(stack.mts_url.clone())
        .build()
        .expect("an MTS client");
    let mine = Domain::from_json(&json!([["family_name", "=", tag]])).expect("a domain");
    let mut settings = EngineSettings::default();
    settings.filter = EngineSettings::default().filter.and(mine);
    settings.batch_size = 20;
    settings.wait = {
        let mut wait = WaitPolicy::default();
        wait.poll_interval = Duration::from_millis(200);
        wait
    };
    let started = Instant::now();
    let report = Engine::new(registry, Arc::new(seeder), Arc::new(sink), settings)
        .run_once()
        .await
        .expect("the run completes");
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "real OpenG2P API sink: {REGISTRANTS} registrants tokenised in {seconds:.1} s \
         ({} requests)",
        report.requests
    );
    assert!(report.is_balanced(), "{report:?}");
    assert_eq!(
        (report.selected, report.tokenised, report.vids_removed),
        (REGISTRANTS as u64, REGISTRANTS as u64, REGISTRANTS as u64),
        "{report:?}"
    );

    let held = reg_ids(&client, &ids).await;
    for (index, id) in ids.iter().enumerate() {
        let expected = mock_token(&vids.vid(index), &stack.partner_id);
        let mine: Vec<_> = held.iter().filter(|(p, _, _)| p == id).collect();
        assert_eq!(
            mine.len(),
            1,
            "registrant {id} holds exactly one id (the token)"
        );
        assert_eq!(mine[0].1, id_types.token, "registrant {id}");
        assert!(
            mine[0].2 == expected.expose(),
            "registrant {id} holds the wrong token"
        );
    }
    assert_eq!(
        personal(&client, &ids).await,
        before,
        "no personal field changed"
    );
}

#[tokio::test]
async fn mts_ping_authfields_and_processed_with_errors_are_as_the_emulator_says() {
    let Some(stack) = RealStack::from_env("real_openg2p_api (MTS answers)") else {
        return;
    };
    stack.ensure_reachable().await;
    let http = reqwest::Client::new();
    let ping: Value = http
        .get(stack.mts_url.join("ping").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        ping.as_str().is_some_and(|p| p.ends_with("] pong")),
        "a bare string: {ping}"
    );
    let seeder = MtsClient::builder(stack.mts_url.clone()).build().unwrap();
    seeder
        .ping()
        .await
        .expect("MtsClient::ping takes the real answer");
    let fields: Value = http
        .get(stack.mts_url.join("authtoken/authfields").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        fields["response"],
        json!({"authfields": ["vid", "name", "gender", "dob", "phoneNumber", "emailId",
                              "fullAddress"]})
    );

    // One valid record and one without a VID; then only the invalid one.
    let vids = VidSeries::new();
    let record = |vid: Option<String>| {
        let mut r = json!({"id": 1, "given_name": "A", "family_name": "B", "gender": "Female",
                           "birthdate": "1990-01-02", "address": "1 Road"});
        if let Some(vid) = vid {
            r["vid"] = json!(vid);
        }
        omc::PersonalRecord::from(r.as_object().unwrap().clone())
    };
    // A callback endpoint that answers 200 to anything, so the status stays what processing
    // left.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let callback_url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buffer = vec![0; 64 * 1024];
                let _ = socket.read(&mut buffer).await;
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = socket.write_all(answer).await;
            });
        }
    });
    let delivery = {
        let mut delivery =
            omc::Delivery::new(callback_url.parse().unwrap(), omc::CallbackAuth::None);
        delivery.http_method = omc::HttpMethod::Post;
        delivery.timeout_seconds = 1;
        delivery.call_in_bulk = true;
        delivery.output_format = None;
        delivery.extra_headers = Default::default();
        delivery
    };
    for records in [
        vec![record(Some(vids.vid(0).expose().to_owned())), record(None)],
        vec![record(None)],
    ] {
        let request = omc::SeedRequest {
            mapping: omc::Mapping::default(),
            lang: "eng".into(),
            authdata: records,
        };
        let id = seeder.submit(&request, &delivery).await.expect("accepted");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            let status = seeder.status(&id).await.expect("a status");
            if status.is_final() || Instant::now() > deadline {
                break status;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(status, RequestStatus::ProcessedWithErrors);
    }
}
