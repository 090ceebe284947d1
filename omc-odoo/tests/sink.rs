//! `OdooCallbackSink` end to end: the delivery it describes, driven the way MTS drives it,
//! against the Odoo emulator.

use omc_core::jq::{Output, Program};
use omc_core::testing::synthetic;
use omc_core::{CallbackAuth, CallbackSink, IdTypes, RegistrantId, Registry, ResultPath, Token};
use omc_odoo::emulator::OdooEmulator;
use omc_odoo::{OdooCallbackSink, OdooRegistry};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

#[tokio::test]
async fn mts_following_the_delivery_stores_tokens_and_nothing_else() {
    let odoo = OdooEmulator::builder().start().await.expect("start");
    odoo.seed(synthetic(3, 11));
    let client = odoo.client("admin", "admin");
    let registry = OdooRegistry::new(client, IdTypes::default());
    let sink = OdooCallbackSink::new(registry.clone())
        .expect("sink")
        .with_callback_user("admin", SecretString::from("admin"))
        .with_timeout_seconds(5);
    assert_eq!(sink.result_path(), ResultPath::ReadBack);
    let delivery = sink.delivery().await.expect("delivery");
    assert!(!delivery.call_in_bulk);
    assert!(
        delivery
            .url
            .path()
            .ends_with("/web/dataset/call_kw/g2p.reg.id/create")
    );
    assert_eq!(delivery.timeout_seconds, 5);
    let CallbackAuth::Odoo {
        auth_url,
        database,
        username,
        password,
        ..
    } = &delivery.auth
    else {
        panic!("auth type odoo expected, got {:?}", delivery.auth);
    };
    assert_eq!(auth_url.path(), "/web/session/authenticate");
    let printed = format!("{sink:?} {delivery:?}");
    assert!(!printed.contains("\"admin\""), "{printed}");

    // MTS logs in with a GET carrying a JSON body and keeps the cookie.
    let http = reqwest::Client::new();
    let login = json!({"jsonrpc": "2.0", "params": {"db": database, "login": username,
                                                   "password": password.expose_secret()}});
    let answer = http
        .request(Method::GET, auth_url.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(login.to_string())
        .send()
        .await
        .expect("login");
    let cookie = answer.headers()[SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    // One callback per record, each body built by the output format.
    let program =
        Program::compile(delivery.output_format.as_deref().expect("a format")).expect("compiles");
    let token = "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA";
    let results = [
        json!({"input": {"id": 1}, "output": {"vid": "1", "status": "processed", "token": token,
                                             "errorCode": null, "errorMessage": null}}),
        json!({"input": {"id": 2}, "output": {"vid": null, "status": "invalid", "token": null,
                                             "errorCode": "ATS-REQ-009", "errorMessage": "vid missing"}}),
        json!({"input": {"id": 1}, "output": {"vid": "1", "status": "processed", "token": token,
                                             "errorCode": null, "errorMessage": null}}),
    ];
    let mut answers = Vec::new();
    for result in &results {
        let Output::Value(body) = program.first(result) else {
            panic!("the format yields a body");
        };
        let answer: Value = http
            .request(Method::POST, delivery.url.clone())
            .header(COOKIE, &cookie)
            .json(&body)
            .send()
            .await
            .expect("callback")
            .json()
            .await
            .expect("json");
        answers.push(answer);
    }
    assert!(answers[0]["result"].is_i64(), "{}", answers[0]);
    assert_eq!(answers[1]["result"], 1, "the harmless call");
    assert_eq!(
        answers[2]["error"]["data"]["name"], "odoo.exceptions.ValidationError",
        "a replay is refused by the one-id-per-type rule"
    );
    assert_eq!(odoo.calls("g2p.id.type", "search_count"), 1);

    // OMC reads the outcome back.
    let tokens = registry
        .tokens(&[RegistrantId(1), RegistrantId(2)])
        .await
        .expect("tokens");
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[&RegistrantId(1)], Token::new(token));
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 1);
    odoo.shutdown().await;
}

#[tokio::test]
async fn a_missing_token_type_is_a_misconfiguration() {
    let odoo = OdooEmulator::builder().start().await.expect("start");
    let client = odoo.client("admin", "admin");
    let types = IdTypes {
        vid: "MOSIP VID".into(),
        token: "ABSENT".into(),
    };
    let sink = OdooCallbackSink::new(OdooRegistry::new(client, types))
        .expect("sink")
        .with_callback_user("mts", SecretString::from("mts-password"));
    let error = sink.delivery().await.expect_err("no such type");
    assert!(error.to_string().contains("ABSENT"), "{error}");
    odoo.shutdown().await;
}
