//! The Odoo emulator's protocols, driven over real HTTP as OMC and MTS drive Odoo.

use omc_core::testing::synthetic;
use omc_core::time::{ManualClock, Timestamp};
use omc_core::{RegistrantId, Token, Vid};
use omc_odoo::emulator::{OdooEmulator, RunningOdoo};
use omc_odoo::{MISSING_ERROR, OdooClient, OdooError, SESSION_EXPIRED};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::sync::Arc;

fn client(odoo: &RunningOdoo) -> OdooClient {
    odoo.client("admin", "admin")
}

/// Logs in as MTS does: a GET with a JSON body; returns the session cookie.
async fn mts_login(odoo: &RunningOdoo, password: &str) -> (Value, Option<String>) {
    let body = json!({"jsonrpc": "2.0", "params": {"db": odoo.database(), "login": "admin", "password": password}});
    let response = reqwest::Client::new()
        .request(
            Method::GET,
            odoo.base_url().join("web/session/authenticate").unwrap(),
        )
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("authenticate");
    let cookie = response
        .headers()
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (response.json().await.expect("json"), cookie)
}

async fn call_kw(odoo: &RunningOdoo, cookie: Option<&str>, params: Value) -> Value {
    let mut request = reqwest::Client::new()
        .post(
            odoo.base_url()
                .join("web/dataset/call_kw/g2p.reg.id/create")
                .unwrap(),
        )
        .json(&json!({"jsonrpc": "2.0", "method": "call", "params": params}));
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request
        .send()
        .await
        .expect("call_kw")
        .json()
        .await
        .expect("json")
}

fn create_params(partner: i64, type_id: i64, value: &str) -> Value {
    json!({"model": "g2p.reg.id", "method": "create",
           "args": [{"partner_id": partner, "id_type": type_id, "value": value}], "kwargs": {}})
}

#[tokio::test]
async fn call_kw_needs_a_valid_session_and_runs_as_its_user() {
    let odoo = OdooEmulator::builder().start().await.expect("start");
    odoo.seed(synthetic(2, 1));
    let token_type = odoo.id_type_id("MOSIP UIN TOKEN").expect("type");

    let refused = call_kw(&odoo, None, create_params(1, token_type, "tok")).await;
    assert_eq!(refused["error"]["code"], 100);
    assert_eq!(refused["error"]["message"], "Odoo Session Expired");
    assert_eq!(refused["error"]["data"]["name"], SESSION_EXPIRED);
    let refused = call_kw(
        &odoo,
        Some("session_id=forged"),
        create_params(1, token_type, "tok"),
    )
    .await;
    assert_eq!(refused["error"]["code"], 100);

    let (answer, cookie) = mts_login(&odoo, "wrong").await;
    assert!(cookie.is_none(), "no cookie for bad credentials");
    assert_eq!(
        answer["error"]["data"]["name"],
        "odoo.exceptions.AccessDenied"
    );

    let (answer, cookie) = mts_login(&odoo, "admin").await;
    assert_eq!(answer["result"]["uid"], 2);
    assert_eq!(answer["result"]["db"], odoo.database());
    let cookie = cookie.expect("session cookie");
    let created = call_kw(&odoo, Some(&cookie), create_params(1, token_type, "tok")).await;
    assert!(created["result"].is_i64(), "{created}");
    assert_eq!(odoo.token_of(RegistrantId(1)), Some(Token::new("tok")));
    assert_eq!(odoo.calls("g2p.reg.id", "create"), 1);

    let harmless = json!({"model": "g2p.id.type", "method": "search_count",
                          "args": [[["id", "=", token_type]]], "kwargs": {}});
    assert_eq!(call_kw(&odoo, Some(&cookie), harmless).await["result"], 1);

    let logout = reqwest::Client::new()
        .get(odoo.base_url().join("web/session/logout").unwrap())
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("logout");
    assert!(logout.status().is_success());
    assert_eq!(odoo.open_sessions(), 0);
    let after = call_kw(&odoo, Some(&cookie), create_params(2, token_type, "tok2")).await;
    assert_eq!(after["error"]["code"], 100, "the session ended");
    odoo.shutdown().await;
}

#[tokio::test]
async fn unlink_of_a_missing_id_fails_whole() {
    let odoo = OdooEmulator::builder().start().await.expect("start");
    odoo.seed(synthetic(1, 1));
    let c = client(&odoo);
    let ids = c
        .execute_kw("g2p.reg.id", "search", json!([[]]), json!({}))
        .await
        .expect("search");
    let ids: Vec<i64> = serde_json::from_value(ids).unwrap();
    assert_eq!(ids.len(), 1);
    let error = c
        .execute_kw("g2p.reg.id", "unlink", json!([[ids[0], 999]]), json!({}))
        .await
        .expect_err("missing");
    assert!(error.is_missing(), "{error}");
    assert_eq!(error.exception(), Some(MISSING_ERROR));
    assert!(odoo.vid_of(RegistrantId(1)).is_some(), "nothing deleted");
    let done = c
        .execute_kw("g2p.reg.id", "unlink", json!([ids]), json!({}))
        .await
        .expect("unlink");
    assert_eq!(done, json!(true));
    odoo.shutdown().await;
}

#[tokio::test]
async fn one_id_per_type_and_id_validation_are_enforced() {
    let odoo = OdooEmulator::builder()
        .id_validation("MOSIP UIN TOKEN", r"[A-Za-z0-9_-]{43}")
        .start()
        .await
        .expect("start");
    odoo.seed(synthetic(2, 1));
    let c = client(&odoo);
    let vid_type = odoo.id_type_id("MOSIP VID").unwrap();
    let token_type = odoo.id_type_id("MOSIP UIN TOKEN").unwrap();
    let create = |vals: Value| c.execute_kw("g2p.reg.id", "create", json!([vals]), json!({}));
    let name = |e: OdooError| e.exception().map(str::to_owned);

    let twin = create(json!({"partner_id": 1, "id_type": vid_type, "value": "1234"})).await;
    assert_eq!(
        name(twin.expect_err("twin")).as_deref(),
        Some("odoo.exceptions.ValidationError")
    );
    let short = create(json!({"partner_id": 1, "id_type": token_type, "value": "short"})).await;
    assert_eq!(
        name(short.expect_err("short")).as_deref(),
        Some("odoo.exceptions.ValidationError")
    );
    let no_type = create(json!({"partner_id": 1, "value": "x"})).await;
    assert_eq!(
        name(no_type.expect_err("no type")).as_deref(),
        Some("odoo.exceptions.ValidationError")
    );
    let good = "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA";
    // A list creates all or nothing.
    let batch = c
        .execute_kw(
            "g2p.reg.id",
            "create",
            json!([[{"partner_id": 2, "id_type": token_type, "value": good},
                    {"partner_id": 1, "id_type": token_type, "value": "bad"}]]),
            json!({}),
        )
        .await;
    assert!(batch.is_err());
    assert_eq!(
        odoo.count_ids("MOSIP UIN TOKEN"),
        0,
        "nothing of a failed batch stays"
    );
    let ok = create(json!({"partner_id": 1, "id_type": token_type, "value": good})).await;
    assert!(ok.expect("valid").is_i64());
    odoo.shutdown().await;
}

#[tokio::test]
async fn reads_follow_odoo_conventions() {
    let odoo = OdooEmulator::builder().start().await.expect("start");
    odoo.seed(synthetic(3, 5));
    let c = client(&odoo);
    let rows = c
        .search_read(
            "g2p.reg.id",
            json!([["partner_id", "=", 2]]),
            json!({"fields": ["partner_id", "id_type", "value", "expiry_date"]}),
        )
        .await
        .expect("reg ids");
    assert_eq!(rows.len(), 1);
    let partner_name = rows[0]["partner_id"][1]
        .as_str()
        .expect("a name")
        .to_owned();
    assert_eq!(rows[0]["partner_id"][0], 2);
    assert_eq!(rows[0]["id_type"][1], "MOSIP VID");
    assert_eq!(rows[0]["expiry_date"], false, "empty is false, never null");

    let partners = c
        .execute_kw(
            "res.partner",
            "read",
            json!([[2]]),
            json!({"fields": ["name", "reg_ids", "birthdate", "phone"]}),
        )
        .await
        .expect("read");
    assert_eq!(partners[0]["name"], partner_name);
    assert_eq!(partners[0]["reg_ids"], json!([rows[0]["id"]]));
    let birthdate = partners[0]["birthdate"].as_str().expect("a date");
    assert_eq!(birthdate.len(), 10);

    let desc = c
        .execute_kw(
            "res.partner",
            "search",
            json!([[]]),
            json!({"order": "id desc", "limit": 2}),
        )
        .await
        .expect("search");
    assert_eq!(desc, json!([3, 2]));
    let count = c
        .execute_kw(
            "res.partner",
            "search_count",
            json!([[["reg_ids.id_type", "=", "MOSIP VID"]]]),
            json!({}),
        )
        .await
        .expect("count");
    assert_eq!(count, 3);
    let written = c
        .execute_kw(
            "res.partner",
            "write",
            json!([[1], {"active": false}]),
            json!({}),
        )
        .await
        .expect("write");
    assert_eq!(written, true);
    let count = c
        .execute_kw("res.partner", "search_count", json!([[]]), json!({}))
        .await
        .expect("count");
    assert_eq!(count, 2, "archived partners are left out");
    odoo.shutdown().await;
}

#[tokio::test]
async fn odoo_errors_come_in_its_envelope() {
    let odoo = OdooEmulator::builder().start().await.expect("start");
    let c = client(&odoo);
    let cases = [
        (
            "res.partner",
            "search_read",
            json!([[["id", "~", 1]]]),
            "builtins.ValueError",
        ),
        (
            "res.partner",
            "search_read",
            json!([["&"]]),
            "builtins.ValueError",
        ),
        (
            "res.partner",
            "search_read",
            json!([[["nope", "=", 1]]]),
            "builtins.ValueError",
        ),
        (
            "res.partner",
            "read",
            json!([[1], ["nope"]]),
            "builtins.ValueError",
        ),
        (
            "no.model",
            "search",
            json!([[]]),
            "odoo.exceptions.UserError",
        ),
        ("res.partner", "nope", json!([]), "builtins.AttributeError"),
        (
            "res.partner",
            "_private",
            json!([]),
            "odoo.exceptions.AccessError",
        ),
    ];
    for (model, method, args, expected) in cases {
        let error = c
            .execute_kw(model, method, args, json!({}))
            .await
            .expect_err(expected);
        assert_eq!(error.exception(), Some(expected), "{model}.{method}");
    }
    let raw: Value = reqwest::Client::new()
        .post(odoo.base_url().join("jsonrpc").unwrap())
        .json(
            &json!({"jsonrpc": "2.0", "method": "call", "id": 7, "params": {
            "service": "object", "method": "execute_kw",
            "args": [odoo.database(), 2, "admin", "res.partner", "search", [["bad"]], {}]}}),
        )
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(raw["id"], 7);
    assert_eq!(raw["error"]["code"], 200);
    assert_eq!(raw["error"]["message"], "Odoo Server Error");
    assert!(
        raw["error"]["data"]["debug"]
            .as_str()
            .unwrap()
            .starts_with("Traceback")
    );
    let denied = c
        .execute_kw("res.partner", "search", json!([[]]), json!({}))
        .await;
    assert!(denied.is_ok());
    odoo.shutdown().await;
}

#[tokio::test]
async fn several_users_log_in_with_their_own_passwords() {
    let odoo = OdooEmulator::builder()
        .database("registry")
        .user("admin", "a")
        .user("omc", "o")
        .start()
        .await
        .expect("start");
    let login = |login: &str, password: &str| {
        OdooClient::builder()
            .base_url(odoo.base_url())
            .database("registry")
            .login(login)
            .password(SecretString::from(password))
            .build()
            .expect("client")
    };
    assert_eq!(login("admin", "a").login().await.expect("admin"), 2);
    assert_eq!(login("omc", "o").login().await.expect("omc"), 3);
    assert!(matches!(
        login("omc", "a").login().await,
        Err(OdooError::LoginRefused { .. })
    ));
    odoo.shutdown().await;
}

/// `execute_kw` as raw JSON-RPC: the whole answer, Odoo's error message included.
async fn raw_execute_kw(odoo: &RunningOdoo, model: &str, method: &str, args: Value) -> Value {
    reqwest::Client::new()
        .post(odoo.base_url().join("jsonrpc").unwrap())
        .json(
            &json!({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
            "service": "object", "method": "execute_kw",
            "args": [odoo.database(), 2, "admin", model, method, args, {}]}}),
        )
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn ids_are_stamped_on_themselves_as_odoo_stamps_them() {
    let clock = ManualClock::at(Timestamp::parse_odoo("2026-11-27 11:42:45").unwrap());
    let odoo = OdooEmulator::builder()
        .clock(Arc::new(clock.clone()))
        .start()
        .await
        .expect("start");
    odoo.seed(synthetic(1, 2));
    let c = client(&odoo);
    let partner_stamp = || async {
        c.execute_kw(
            "res.partner",
            "read",
            json!([[1]]),
            json!({"fields": ["write_date", "create_date"]}),
        )
        .await
        .expect("read")[0]
            .clone()
    };
    let seeded = partner_stamp().await;
    assert_eq!(seeded["write_date"], "2026-11-27 11:42:45");

    clock.advance(2);
    let token_type = odoo.id_type_id("MOSIP UIN TOKEN").unwrap();
    let created = c
        .execute_kw(
            "g2p.reg.id",
            "create",
            json!([{"partner_id": 1, "id_type": token_type, "value": "t"}]),
            json!({}),
        )
        .await
        .expect("create");
    let stamps = |id: Value| {
        let c = &c;
        async move {
            c.search_read(
                "g2p.reg.id",
                json!([["id", "=", id]]),
                json!({"fields": ["write_date", "create_date"]}),
            )
            .await
            .expect("read")[0]
                .clone()
        }
    };
    let row = stamps(created.clone()).await;
    assert_eq!(row["write_date"], "2026-11-27 11:42:47");
    assert_eq!(row["create_date"], "2026-11-27 11:42:47");
    clock.advance(1);
    c.execute_kw(
        "g2p.reg.id",
        "write",
        json!([[created.clone()], {"value": "u"}]),
        json!({}),
    )
    .await
    .expect("write");
    let row = stamps(created.clone()).await;
    assert_eq!(row["write_date"], "2026-11-27 11:42:48");
    assert_eq!(row["create_date"], "2026-11-27 11:42:47");
    clock.advance(1);
    c.execute_kw("g2p.reg.id", "unlink", json!([[created]]), json!({}))
        .await
        .expect("unlink");
    assert_eq!(
        partner_stamp().await,
        seeded,
        "ids never stamp their registrant"
    );

    // Stored past the second, as PostgreSQL keeps it: `>` the value read selects the row,
    // `=` does not.
    let count = |domain: Value| {
        let c = &c;
        async move {
            c.execute_kw("res.partner", "search_count", json!([domain]), json!({}))
                .await
                .expect("count")
        }
    };
    assert_eq!(
        count(json!([["write_date", ">", "2026-11-27 11:42:45"]])).await,
        1
    );
    assert_eq!(
        count(json!([["write_date", "=", "2026-11-27 11:42:45"]])).await,
        0
    );
    assert_eq!(
        count(json!([["write_date", ">=", "2026-11-27T11:42:45"]])).await,
        1
    );
    assert_eq!(count(json!([["write_date", "<=", "2026-11-27"]])).await, 1);
    assert_eq!(count(json!([["write_date", "<", "2026-11-27"]])).await, 0);
    clock.advance(1);
    c.execute_kw(
        "res.partner",
        "write",
        json!([[1], {"phone": "+1"}]),
        json!({}),
    )
    .await
    .expect("write");
    assert_eq!(partner_stamp().await["write_date"], "2026-11-27 11:42:50");
    odoo.shutdown().await;
}

#[tokio::test]
async fn id_validation_is_applied_as_openg2p_applies_it() {
    let odoo = OdooEmulator::builder()
        .id_validation("MOSIP VID", "[0-9]{4}")
        .start()
        .await
        .expect("start");
    odoo.seed(synthetic(4, 3).map(|mut s| {
        s.vid = None;
        s
    }));
    let vid_type = odoo.id_type_id("MOSIP VID").unwrap();
    let vals = |partner: i64, value: &str| json!({"partner_id": partner, "id_type": vid_type, "value": value});
    let refused = raw_execute_kw(&odoo, "g2p.reg.id", "create", json!([vals(1, "abc123")])).await;
    assert_eq!(
        refused["error"]["data"]["name"],
        "odoo.exceptions.ValidationError"
    );
    assert_eq!(
        refused["error"]["data"]["message"], "The provided MOSIP VID ID 'abc123' is invalid.",
        "worded as g2p_registry_base words it"
    );
    let prefix = raw_execute_kw(&odoo, "g2p.reg.id", "create", json!([vals(1, "1234xyz")])).await;
    assert!(
        prefix["result"].is_i64(),
        "re.match: anchored at the start only"
    );
    let twin = raw_execute_kw(&odoo, "g2p.reg.id", "create", json!([vals(1, "5678")])).await;
    assert_eq!(twin["error"]["data"]["message"], "ID Type must be unique.");
    // OpenG2P's check stops at the first record without a value: in one create, an empty
    // value shields the records after it.
    let shielded = raw_execute_kw(
        &odoo,
        "g2p.reg.id",
        "create",
        json!([[vals(2, ""), vals(3, "zz")]]),
    )
    .await;
    assert_eq!(shielded["result"].as_array().map(Vec::len), Some(2));
    let all_or_nothing = raw_execute_kw(
        &odoo,
        "g2p.reg.id",
        "create",
        json!([[vals(4, "9999"), vals(4, "zz")]]),
    )
    .await;
    assert!(all_or_nothing["error"].is_object());
    assert_eq!(odoo.vid_of(RegistrantId(4)), None);

    // Written over JSON-RPC, a pattern applies at once; one Python would refuse to compile
    // fails each check with Python's `re.error`.
    let c = client(&odoo);
    let write = |pattern: &str| {
        c.execute_kw(
            "g2p.id.type",
            "write",
            json!([[vid_type], {"id_validation": pattern}]),
            json!({}),
        )
    };
    write("[a-z]+").await.expect("write");
    assert!(odoo.set_vid(RegistrantId(4), Vid::new("abcd")));
    assert!(!odoo.set_vid(RegistrantId(4), Vid::new("1234")), "refused");
    write("[0-9").await.expect("Odoo stores any text");
    let broken = raw_execute_kw(
        &odoo,
        "g2p.reg.id",
        "write",
        json!([[prefix["result"]], {"value": "1"}]),
    )
    .await;
    assert_eq!(broken["error"]["data"]["name"], "re.error");
    write("").await.expect("cleared");
    let read = c
        .search_read(
            "g2p.id.type",
            json!([["id", "=", vid_type]]),
            json!({"fields": ["id_validation"]}),
        )
        .await
        .expect("read");
    assert_eq!(read[0]["id_validation"], "", "a cleared pattern reads \"\"");
    assert!(odoo.set_vid(RegistrantId(4), Vid::new("anything")));
    odoo.shutdown().await;
}
