//! Every row of MTS's refusal table, the `false` trap and the answer shapes, over real HTTP.

mod common;

use common::envelope;
use omc_mts::emulator::{MtsEmulator, RunningMts};
use serde_json::{Value, json};

async fn post(mts: &RunningMts, body: Vec<u8>) -> (u16, Value) {
    let url = mts.base_url().join("authtoken/json").unwrap();
    let response = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn post_json(mts: &RunningMts, body: &Value) -> (u16, Value) {
    post(mts, serde_json::to_vec(body).unwrap()).await
}

fn code(body: &Value) -> &str {
    body["errors"][0]["errorCode"].as_str().unwrap_or("<none>")
}

fn assert_error_shape(body: &Value) {
    let keys: Vec<_> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "errors",
            "id",
            "metadata",
            "response",
            "responsetime",
            "version"
        ],
        "{body}"
    );
    assert_eq!(body["id"], "mosip.token.seeder");
    assert_eq!(body["metadata"], json!({}));
    let error = body["errors"][0].as_object().unwrap();
    assert_eq!(
        error.keys().cloned().collect::<Vec<_>>(),
        ["errorCode", "errorMessage"]
    );
}

type Edit = fn(&mut Value);

#[tokio::test]
async fn every_row_of_the_refusal_table() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    // Statuses, codes and messages as the real MTS (mts-mock) answers them.
    let rows: Vec<(&str, Edit, u16, &str, &str)> = vec![
        (
            "outputFormat does not compile",
            |b| b["request"]["outputFormat"] = json!("{\"a\": "),
            400,
            "ATS-REQ-103",
            "outputFormat is not a valid jq expression",
        ),
        (
            "outputFormat calls an unknown function",
            |b| b["request"]["outputFormat"] = json!("nosuch(1)"),
            400,
            "ATS-REQ-103",
            "outputFormat is not a valid jq expression",
        ),
        (
            "requesttime without fraction",
            |b| b["requesttime"] = json!("2026-11-26T14:13:21Z"),
            400,
            "ATS-REQ-102",
            "invalid input. requesttime is not in valid format",
        ),
        (
            "requesttime with +00:00",
            |b| b["requesttime"] = json!("2026-11-26T14:13:21.123+00:00"),
            400,
            "ATS-REQ-102",
            "invalid input. requesttime is not in valid format",
        ),
        (
            "requesttime with 7 digits",
            |b| b["requesttime"] = json!("2026-11-26T14:13:21.1234567Z"),
            400,
            "ATS-REQ-102",
            "invalid input. requesttime is not in valid format",
        ),
        (
            "requesttime absent",
            |b| {
                b.as_object_mut().unwrap().remove("requesttime");
            },
            422,
            "ATS-REQ-102",
            "Invalid Input. field required",
        ),
        (
            "request absent",
            |b| {
                b.as_object_mut().unwrap().remove("request");
            },
            422,
            "ATS-REQ-102",
            "Invalid Input. field required",
        ),
        (
            "output absent",
            |b| {
                b["request"].as_object_mut().unwrap().remove("output");
            },
            500,
            "ATS-REQ-100",
            "'output'",
        ),
        (
            "metadata an object",
            |b| b["metadata"] = json!({}),
            422,
            "ATS-REQ-102",
            "Invalid Input. str type expected",
        ),
        (
            "id absent",
            |b| {
                b.as_object_mut().unwrap().remove("id");
            },
            422,
            "ATS-REQ-102",
            "Invalid Input. field required",
        ),
        (
            "callbackProperties absent",
            |b| {
                b["request"]
                    .as_object_mut()
                    .unwrap()
                    .remove("callbackProperties");
            },
            400,
            "ATS-REQ-024",
            "callbackProperties cannot be empty for deliverytype callback",
        ),
        (
            "callback url not a URL",
            |b| b["request"]["callbackProperties"]["url"] = json!("not a url"),
            422,
            "ATS-REQ-102",
            "Invalid Input. invalid or missing URL scheme",
        ),
        (
            "unknown authType",
            |b| b["request"]["callbackProperties"]["authType"] = json!("kerberos"),
            400,
            "ATS-REQ-027",
            "unsupported authType in CallbackProperties",
        ),
        (
            "odoo without authOdoo",
            |b| b["request"]["callbackProperties"]["authType"] = json!("odoo"),
            400,
            "ATS-REQ-028",
            "authOdoo cannot be empty for authType odoo",
        ),
        (
            "odoo without authUrl",
            |b| {
                b["request"]["callbackProperties"]["authType"] = json!("odoo");
                b["request"]["callbackProperties"]["authOdoo"] =
                    json!({"database": "db", "username": "u", "password": "p"});
            },
            400,
            "ATS-REQ-031",
            "authUrl in authOdoo, cannot be empty for authType odoo",
        ),
        (
            "staticBearer without authStaticBearer",
            |b| b["request"]["callbackProperties"]["authType"] = json!("staticBearer"),
            400,
            "ATS-REQ-030",
            "authStaticBearer cannot be empty for authType staticBearer",
        ),
        (
            "output not supported",
            |b| b["request"]["output"] = json!("xml"),
            400,
            "ATS-REQ-102",
            "invalid input. output type is not supported",
        ),
        (
            "deliverytype not supported",
            |b| b["request"]["deliverytype"] = json!("carrier-pigeon"),
            400,
            "ATS-REQ-102",
            "invalid input. delivery type is not supported",
        ),
        (
            "authdata missing",
            |b| {
                b["request"].as_object_mut().unwrap().remove("authdata");
            },
            400,
            "ATS-REQ-102",
            "invalid input. authdata missing",
        ),
        (
            "authdata empty",
            |b| b["request"]["authdata"] = json!([]),
            400,
            "ATS-REQ-102",
            "invalid input. authdata missing",
        ),
        (
            "csv output, callback, no requestFileName",
            |b| {
                b["request"]["output"] = json!("csv");
                b["request"]["callbackProperties"]["callInBulk"] = json!(true);
            },
            400,
            "ATS-REQ-025",
            "requestFileName is not valid in callbackProperties",
        ),
        (
            "gender false",
            |b| b["request"]["authdata"][0]["gender"] = json!(false),
            500,
            "ATS-REQ-100",
            "object of type 'bool' has no len()",
        ),
        (
            "dob false",
            |b| b["request"]["authdata"][0]["birthdate"] = json!(false),
            500,
            "ATS-REQ-100",
            "object of type 'bool' has no len()",
        ),
    ];
    for (what, edit, status, expected, message) in rows {
        let mut body = envelope("http://127.0.0.1:9/cb");
        edit(&mut body);
        let (got_status, got) = post_json(&mts, &body).await;
        assert_eq!(
            (got_status, code(&got), &got["errors"][0]["errorMessage"]),
            (status, expected, &json!(message)),
            "{what}: {got}"
        );
        assert_error_shape(&got);
        assert_eq!(got["response"], Value::Null, "{what}");
    }
    let raw: [(&[u8], u16, &str); 5] = [
        (b"", 400, "invalid input. missing request body"),
        (b"null", 400, "invalid input. missing request body"),
        (
            b"{\"id\": ",
            422,
            "Invalid Input. Expecting value: line 1 column 8 (char 7)",
        ),
        (b"\"x\"", 422, "Invalid Input. value is not a valid dict"),
        (
            b"  ",
            422,
            "Invalid Input. Expecting value: line 1 column 3 (char 2)",
        ),
    ];
    for (body, status, message) in raw {
        let (got_status, got) = post(&mts, body.to_vec()).await;
        assert_eq!(
            (got_status, code(&got), &got["errors"][0]["errorMessage"]),
            (status, "ATS-REQ-102", &json!(message)),
            "{body:?}"
        );
        assert_error_shape(&got);
    }
    // Pydantic's errors pile up, one each; MTS's own refusals stop at the first.
    let mut body = envelope("http://127.0.0.1:9/cb");
    body.as_object_mut().unwrap().remove("id");
    body["metadata"] = json!({});
    let (_, got) = post_json(&mts, &body).await;
    assert_eq!(
        got["errors"],
        json!([{"errorCode": "ATS-REQ-102", "errorMessage": "Invalid Input. field required"},
               {"errorCode": "ATS-REQ-102", "errorMessage": "Invalid Input. str type expected"}])
    );
    body["request"]["output"] = json!("xml");
    let (status, got) = post_json(&mts, &body).await;
    assert_eq!((status, code(&got)), (400, "ATS-REQ-102"), "{got}");
    assert!(
        mts.received().iter().all(|r| r.request_id.is_none()),
        "nothing was accepted"
    );
    mts.shutdown().await;
}

#[tokio::test]
async fn the_false_trap_spares_names_email_and_phone_and_other_batches() {
    let mts = MtsEmulator::builder().start().await.unwrap();
    let mut body = envelope("http://127.0.0.1:9/cb");
    let mut second = body["request"]["authdata"][0].clone();
    second["gender"] = json!(false);
    body["request"]["authdata"]
        .as_array_mut()
        .unwrap()
        .push(second);
    let (status, got) = post_json(&mts, &body).await;
    assert_eq!(
        (status, code(&got)),
        (500, "ATS-REQ-100"),
        "one false gender refuses the whole batch"
    );
    assert_eq!(
        got["errors"][0]["errorMessage"],
        "object of type 'bool' has no len()"
    );

    let mut body = envelope("http://127.0.0.1:9/cb");
    for key in ["given_name", "email", "phone"] {
        body["request"]["authdata"][0][key] = json!(false);
    }
    let (status, got) = post_json(&mts, &body).await;
    assert_eq!(status, 200, "{got}");
    assert!(got["response"]["request_identifier"].is_string());
}

#[tokio::test]
async fn success_and_all_invalid_answers() {
    let mts = MtsEmulator::builder()
        .api_prefix("v1/mts")
        .start()
        .await
        .unwrap();
    assert_eq!(mts.base_url().path(), "/v1/mts/");
    let (status, got) = post_json(&mts, &envelope("http://127.0.0.1:9/cb")).await;
    assert_eq!(status, 200);
    let keys: Vec<_> = got.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "errors",
            "id",
            "metadata",
            "response",
            "responsetime",
            "version"
        ]
    );
    assert_eq!(got["errors"], Value::Null);
    let id = got["response"]["request_identifier"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut body = envelope("http://127.0.0.1:9/cb");
    body["request"]["authdata"][0]
        .as_object_mut()
        .unwrap()
        .remove("vid");
    let (status, got) = post_json(&mts, &body).await;
    assert_eq!((status, code(&got)), (200, "ATS-REQ-101"));
    assert_eq!(
        got["errors"][0]["errorMessage"],
        "none of the record form a valid request"
    );
    let invalid_id = got["response"]["request_identifier"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(id, invalid_id);

    let http = reqwest::Client::new();
    let status_of = |id: &str| {
        mts.base_url()
            .join(&format!("authtoken/status/{id}"))
            .unwrap()
    };
    let answer = http.get(status_of(&id)).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let word: Value = answer.json().await.unwrap();
    assert!(word["response"]["status"].is_string(), "{word}");
    let answer = http.get(status_of("nope")).send().await.unwrap();
    assert_eq!(answer.status(), 404);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(code(&body), "ATS-REQ-016");
    assert_eq!(
        body["errors"][0]["errorMessage"],
        "no auth request found for the given identifier"
    );
    assert_error_shape(&body);

    let fields: Value = http
        .get(mts.base_url().join("authtoken/authfields").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        fields["response"],
        json!({"authfields": [
            "vid",
            "name",
            "gender",
            "dob",
            "phoneNumber",
            "emailId",
            "fullAddress"
        ]})
    );
    assert_eq!(fields["errors"], Value::Null);
    let ping = http
        .get(mts.base_url().join("ping").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ping.status(), 200);
    assert_eq!(
        ping.json::<Value>().await.unwrap(),
        json!("[0 - 0] pong"),
        "a bare JSON string"
    );

    let received = mts.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[1].error_code.as_deref(), Some("ATS-REQ-101"));
    let printed = format!("{received:?}");
    assert!(
        !printed.contains("4918350000000001") && !printed.contains("Amina"),
        "{printed}"
    );
}
