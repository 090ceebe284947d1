//! Odoo's error answers mapped to `RegistryError`, with a scripted loopback server.

use omc_core::RegistryError;
use omc_odoo::{OdooClient, OdooError};
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A server whose login succeeds and whose `execute_kw` answers `answer`.
async fn server(answer: ResponseTemplate) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(
            json!({"params": {"service": "common", "method": "login"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"jsonrpc": "2.0", "id": 1, "result": 2})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(body_partial_json(json!({"params": {"service": "object"}})))
        .respond_with(answer)
        .mount(&server)
        .await;
    server
}

fn odoo_error(code: i64, name: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "jsonrpc": "2.0", "id": 2,
        "error": {"code": code, "message": "Odoo Server Error", "data": {
            "name": name, "message": "Amina Abebe 4918350000000001 refused",
            "arguments": ["Amina Abebe 4918350000000001 refused"], "debug": "Traceback ..."}}
    }))
}

async fn call(answer: ResponseTemplate) -> Result<Value, OdooError> {
    let server = server(answer).await;
    let client = client(server.uri().parse().unwrap(), "secret-password");
    client
        .execute_kw(
            "res.partner",
            "search_read",
            json!([[]]),
            json!({"fields": ["id"]}),
        )
        .await
}

async fn mapped(answer: ResponseTemplate) -> RegistryError {
    let error = call(answer).await.expect_err("an error");
    let printed = format!("{error} {error:?}");
    assert!(
        !printed.contains("Amina") && !printed.contains("4918350000000001"),
        "{printed}"
    );
    assert!(!printed.contains("secret-password"), "{printed}");
    error.into()
}

#[tokio::test]
async fn access_error_is_permission_denied() {
    let error = mapped(odoo_error(200, "odoo.exceptions.AccessError")).await;
    assert!(
        matches!(error, RegistryError::PermissionDenied { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn access_denied_is_unauthenticated() {
    let error = mapped(odoo_error(200, "odoo.exceptions.AccessDenied")).await;
    assert!(
        matches!(error, RegistryError::Unauthenticated { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn missing_error_is_invalid_and_detectable() {
    let error = call(odoo_error(200, "odoo.exceptions.MissingError"))
        .await
        .expect_err("missing");
    assert!(error.is_missing());
    let error = RegistryError::from(error);
    assert!(
        matches!(&error, RegistryError::Invalid { message } if message.contains("MissingError")),
        "{error}"
    );
}

#[tokio::test]
async fn validation_error_keeps_the_exception_name_only() {
    let error = mapped(odoo_error(200, "odoo.exceptions.ValidationError")).await;
    assert!(
        matches!(&error, RegistryError::Invalid { message } if message.contains("odoo.exceptions.ValidationError")),
        "{error}"
    );
}

#[tokio::test]
async fn session_expired_is_unauthenticated() {
    let error = mapped(odoo_error(100, "odoo.http.SessionExpiredException")).await;
    assert!(
        matches!(error, RegistryError::Unauthenticated { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn bad_gateway_is_unavailable() {
    let error = mapped(ResponseTemplate::new(502).set_body_string("Bad Gateway")).await;
    assert!(error.is_transient(), "{error}");
}

#[tokio::test]
async fn garbage_is_a_protocol_error() {
    let error =
        mapped(ResponseTemplate::new(200).set_body_string("<html>maintenance</html>")).await;
    assert!(matches!(error, RegistryError::Protocol { .. }), "{error}");
    let error =
        mapped(ResponseTemplate::new(200).set_body_json(json!({"jsonrpc": "2.0", "id": 2}))).await;
    assert!(matches!(error, RegistryError::Protocol { .. }), "{error}");
}

#[tokio::test]
async fn a_refused_connection_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = client(format!("http://{addr}/").parse().unwrap(), "p");
    let error = RegistryError::from(client.login().await.expect_err("refused"));
    assert!(error.is_transient(), "{error}");
}

#[tokio::test]
async fn a_refused_login_is_unauthenticated_and_not_cached() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"jsonrpc": "2.0", "id": 1, "result": false})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let client = client(server.uri().parse().unwrap(), "p");
    for _ in 0..2 {
        let error = RegistryError::from(client.login().await.expect_err("refused"));
        assert!(
            matches!(error, RegistryError::Unauthenticated { .. }),
            "{error}"
        );
    }
}

#[test]
fn the_builder_reports_every_missing_setting() {
    let error = OdooClient::builder().build().expect_err("incomplete");
    let message = error.to_string();
    for what in ["base URL", "database", "login", "password"] {
        assert!(message.contains(what), "{message}");
    }
}

/// Matches JSON-RPC calls whose body names `method` (e.g. `"unlink"`).
struct Calls(&'static str);

impl wiremock::Match for Calls {
    fn matches(&self, request: &wiremock::Request) -> bool {
        let body = String::from_utf8_lossy(&request.body);
        body.contains(&format!("\"{}\"", self.0))
    }
}

#[tokio::test]
async fn remove_vids_searches_again_when_a_vid_vanished_under_unlink() {
    use omc_core::{IdTypes, RegistrantId, Registry};
    let server = server(ResponseTemplate::new(500)).await;
    let result = |value: Value| {
        ResponseTemplate::new(200)
            .set_body_json(json!({"jsonrpc": "2.0", "id": 3, "result": value}))
    };
    // The first search finds two VIDs; one is deleted by someone else before the unlink.
    Mock::given(Calls("search"))
        .respond_with(result(json!([5, 6])))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(Calls("search"))
        .respond_with(result(json!([6])))
        .with_priority(2)
        .mount(&server)
        .await;
    Mock::given(Calls("unlink"))
        .respond_with(odoo_error(200, "odoo.exceptions.MissingError"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(Calls("unlink"))
        .respond_with(result(json!(true)))
        .expect(1)
        .with_priority(2)
        .mount(&server)
        .await;
    let client = client(server.uri().parse().unwrap(), "p");
    let registry = omc_odoo::OdooRegistry::new(client, IdTypes::default());
    let removed = registry
        .remove_vids(&[RegistrantId(1), RegistrantId(2)])
        .await
        .expect("remove");
    assert_eq!(removed, 1);
}

/// A client of database `omc` as user `omc` at `base`.
fn client(base: url::Url, password: &str) -> OdooClient {
    OdooClient::builder()
        .base_url(base)
        .database("omc")
        .login("omc")
        .password(SecretString::from(password))
        .build()
        .expect("client")
}
