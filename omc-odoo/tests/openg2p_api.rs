//! The Odoo emulator's OpenG2P `update_individual` endpoint: what OpenG2P 17 checks.

use omc_core::testing::synthetic;
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
    // Another token for the same registrant: OpenG2P rewrites its token id in place.
    let twin = json!([element(&odoo, 1, "token-other")]);
    assert_eq!(put(&odoo, OK, "MOSIP VID", &twin).await.0, StatusCode::OK);
    assert_eq!(
        odoo.token_of(RegistrantId(1)),
        Some(Token::new("token-other"))
    );
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 1);
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

/// The body OMC's OpenG2P API sink sends: the VID, the token, the required keys as null.
fn bare(odoo: &RunningOdoo, id: i64, token: &str) -> Value {
    let vid = odoo.vid_of(RegistrantId(id)).unwrap();
    json!({"updateId": vid.expose(), "name": null, "given_name": null, "gender": null,
           "birth_place": null, "ids": [{"id_type": "MOSIP UIN TOKEN", "value": token}]})
}

const PERSONAL: [&str; 9] = [
    "name",
    "given_name",
    "family_name",
    "addl_name",
    "gender",
    "birthdate",
    "email",
    "address",
    "registration_date",
];

async fn personal(odoo: &RunningOdoo, id: i64) -> Value {
    let rows = odoo
        .client("api", "api-pw")
        .search_read(
            "res.partner",
            json!([["id", "=", id]]),
            json!({"fields": PERSONAL}),
        )
        .await
        .unwrap();
    rows[0].clone()
}

#[tokio::test]
async fn null_fields_are_not_written_and_a_shared_token_is_no_conflict() {
    let odoo = odoo().await;
    let before = personal(&odoo, 1).await;
    assert!(before["given_name"].is_string(), "{before}");
    let (status, _) = put(
        &odoo,
        OK,
        "MOSIP VID",
        &json!([bare(&odoo, 1, "token-0001")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        personal(&odoo, 1).await,
        before,
        "no personal field changed"
    );
    assert_eq!(
        odoo.token_of(RegistrantId(1)),
        Some(Token::new("token-0001"))
    );
    // The same token for another registrant: added all the same, as OpenG2P does.
    let (status, _) = put(
        &odoo,
        OK,
        "MOSIP VID",
        &json!([bare(&odoo, 2, "token-0001")]),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        odoo.token_of(RegistrantId(2)),
        Some(Token::new("token-0001"))
    );
    assert_eq!(
        odoo.token_of(RegistrantId(1)),
        Some(Token::new("token-0001"))
    );
    // Given values are written; an empty one is not.
    let mut given = bare(&odoo, 3, "token-0003");
    given["given_name"] = json!("Renamed");
    given["family_name"] = json!("");
    given["registration_date"] = json!("2024-05-06");
    let before = personal(&odoo, 3).await;
    assert_eq!(
        put(&odoo, OK, "MOSIP VID", &json!([given])).await.0,
        StatusCode::OK
    );
    let after = personal(&odoo, 3).await;
    assert_eq!(after["given_name"], "Renamed");
    assert_eq!(after["family_name"], before["family_name"]);
    assert_eq!(after["registration_date"], "2024-05-06");
}

#[tokio::test]
async fn refusals_have_the_shapes_of_openg2p() {
    let odoo = odoo().await;
    let edit = |key: &str, value: Option<Value>| {
        let mut body = bare(&odoo, 1, "token-0001");
        match value {
            Some(v) => body[key] = v,
            None => {
                body.as_object_mut().unwrap().remove(key);
            }
        }
        json!([body])
    };
    let cases = [
        (
            edit("name", None),
            "missing",
            "Field required",
            json!(["body", 0, "name"]),
        ),
        (
            edit("registration_date", Some(Value::Null)),
            "string_type",
            "Input should be a valid string",
            json!(["body", 0, "registration_date"]),
        ),
        (
            edit("updateId", Some(json!(5))),
            "string_type",
            "Input should be a valid string",
            json!(["body", 0, "updateId"]),
        ),
        (
            edit("ids", Some(Value::Null)),
            "list_type",
            "Input should be a valid list",
            json!(["body", 0, "ids"]),
        ),
        (
            edit("ids", Some(json!([{"value": "x"}]))),
            "missing",
            "Field required",
            json!(["body", 0, "ids", 0, "id_type"]),
        ),
        (
            json!({"not": "a list"}),
            "list_type",
            "Input should be a valid list",
            json!(["body"]),
        ),
    ];
    for (body, kind, msg, loc) in cases {
        let (status, answer) = put(&odoo, OK, "MOSIP VID", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(
            answer,
            json!({"detail": [{"type": kind, "loc": loc, "msg": msg}]}),
            "{body}"
        );
    }
    let (status, answer) = put(
        &odoo,
        OK,
        "MOSIP VID",
        &edit(
            "ids",
            Some(json!([{"id_type": "NO SUCH TYPE", "value": "x"}])),
        ),
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::BAD_REQUEST,
            json!({"detail": "Invalid ID field."})
        )
    );
    let (status, answer) = put(&odoo, None, "MOSIP VID", &json!([])).await;
    assert_eq!(
        (status, answer),
        (
            StatusCode::UNAUTHORIZED,
            json!({"detail": "Not authenticated"})
        )
    );
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 0, "nothing happened");
}
