//! The Odoo emulator's OpenG2P `update_individual` endpoint: what OpenG2P 17 checks.

use omc_core::fixture::synthetic;
use omc_core::{RegistrantId, Token};
use omc_odoo::emulator::{OdooEmulator, RunningOdoo};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn odoo() -> RunningOdoo {
    let odoo = OdooEmulator::builder()
        .database("openg2p")
        .user("api", "api-pw")
        .id_validation("MOSIP UIN TOKEN", "[A-Za-z0-9_-]{8,}")
        .start()
        .await
        .unwrap();
    odoo.seed(synthetic(5, 1));
    odoo
}

async fn put(
    odoo: &RunningOdoo,
    auth: Option<(&str, &str)>,
    id_type: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let mut url = odoo
        .base_url()
        .join("api/v1/registry/update_individual")
        .unwrap();
    url.query_pairs_mut().append_pair("id_type", id_type);
    let mut call = reqwest::Client::new().put(url).json(body);
    if let Some((user, password)) = auth {
        call = call.basic_auth(user, Some(password));
    }
    let response = call.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn element(odoo: &RunningOdoo, id: i64, token: &str) -> Value {
    let vid = odoo.vid_of(RegistrantId(id)).unwrap();
    json!({"updateId": vid.expose(), "name": "Family, Given", "given_name": "Given",
           "family_name": "Family", "gender": "Female", "birth_place": null,
           "birthdate": "1990-01-02",
           "ids": [{"id_type": "MOSIP UIN TOKEN", "value": token}]})
}

const OK: Option<(&str, &str)> = Some(("api", "api-pw"));

#[tokio::test]
async fn basic_auth_is_required() {
    let odoo = odoo().await;
    let body = json!([element(&odoo, 1, "token-0001")]);
    for auth in [None, Some(("api", "wrong")), Some(("nobody", "api-pw"))] {
        let (status, _) = put(&odoo, auth, "MOSIP VID", &body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{auth:?}");
    }
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 0);
}

#[tokio::test]
async fn the_required_keys_are_checked_before_anything_happens() {
    let odoo = odoo().await;
    for key in [
        "name",
        "given_name",
        "gender",
        "birth_place",
        "ids",
        "updateId",
    ] {
        let mut bad = element(&odoo, 2, "token-0002");
        bad.as_object_mut().unwrap().remove(key);
        let body = json!([element(&odoo, 1, "token-0001"), bad]);
        let (status, _) = put(&odoo, OK, "MOSIP VID", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{key}");
    }
    let (status, _) = put(&odoo, OK, "MOSIP VID", &json!({"not": "a list"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 0, "nothing happened");
}

#[tokio::test]
async fn a_token_is_added_to_the_holder_of_the_vid_and_a_replay_changes_nothing() {
    let odoo = odoo().await;
    let body = json!([element(&odoo, 3, "token-0003")]);
    let (status, answer) = put(&odoo, OK, "MOSIP VID", &body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer, json!([{"id": 3}]));
    assert_eq!(
        odoo.token_of(RegistrantId(3)),
        Some(Token::new("token-0003"))
    );
    let (status, _) = put(&odoo, OK, "MOSIP VID", &body).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a replay finds the token and rewrites it"
    );
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 1);
    let (status, answer) = put(&odoo, OK, "MOSIP VID", &json!([])).await;
    assert_eq!(
        (status, answer),
        (StatusCode::OK, json!([])),
        "an empty list does nothing"
    );
}

#[tokio::test]
async fn openg2p_rules_and_the_first_failure_fail_the_whole_list() {
    let odoo = odoo().await;
    let (status, _) = put(
        &odoo,
        OK,
        "MOSIP VID",
        &json!([element(&odoo, 1, "token-0001")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // A second token of the type for one registrant: OpenG2P's one-id-per-type rule.
    let twin = json!([element(&odoo, 1, "token-other")]);
    assert_eq!(
        put(&odoo, OK, "MOSIP VID", &twin).await.0,
        StatusCode::BAD_REQUEST
    );
    // id_validation.
    let short = json!([element(&odoo, 2, "short")]);
    assert_eq!(
        put(&odoo, OK, "MOSIP VID", &short).await.0,
        StatusCode::BAD_REQUEST
    );
    // Nobody holds this VID; an unknown lookup type; no lookup type.
    let mut stranger = element(&odoo, 2, "token-0002");
    stranger["updateId"] = json!("0000000000000000");
    assert_eq!(
        put(&odoo, OK, "MOSIP VID", &json!([stranger])).await.0,
        StatusCode::BAD_REQUEST
    );
    let ok2 = element(&odoo, 2, "token-0002");
    assert_eq!(
        put(&odoo, OK, "NO SUCH TYPE", &json!([ok2.clone()]))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        put(&odoo, OK, "", &json!([ok2.clone()])).await.0,
        StatusCode::BAD_REQUEST
    );
    // A good element before a bad one: the whole list fails and is rolled back.
    let list = json!([ok2, element(&odoo, 4, "short")]);
    assert_eq!(
        put(&odoo, OK, "MOSIP VID", &list).await.0,
        StatusCode::BAD_REQUEST
    );
    assert!(odoo.token_of(RegistrantId(2)).is_none(), "rolled back");
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 1);
}
