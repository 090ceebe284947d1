//! [`OdooCallbackSink`]: MTS logs in to Odoo (callback auth type `odoo`) and creates each token
//! id itself through Odoo's web client endpoint; OMC reads the tokens back.

use crate::callback_login::CallbackLogin;
use crate::client::endpoint;
use crate::registry::OdooRegistry;
use async_trait::async_trait;
use omc_core::authdata::REGISTRANT_KEY;
use omc_core::sink::{Headers, redact_url};
use omc_core::{CallbackAuth, CallbackSink, Delivery, HttpMethod, SinkError, SinkRun};
use secrecy::SecretString;
use std::fmt;
use url::Url;

/// The output format MTS applies to each result for the token type `token_type_id`.
///
/// For a processed result with a non-empty string token it builds the JSON-RPC body of
/// `g2p.reg.id.create` with `{partner_id: .input.id, id_type: <type id>, value: <token>}`;
/// for anything else a harmless `g2p.id.type.search_count`, so that a failed record never
/// becomes an empty token. Written for jq 1.6, which MTS runs.
pub fn output_format(token_type_id: i64) -> String {
    format!(
        concat!(
            r#"if .output.status == "processed" and (.output.token | type) == "string""#,
            r#" and .output.token != """#,
            r#" then {{"jsonrpc": "2.0", "method": "call", "params": {{"model": "g2p.reg.id","#,
            r#" "method": "create", "args": [{{"partner_id": .input.{key}, "id_type": {id},"#,
            r#" "value": .output.token}}], "kwargs": {{}}}}}}"#,
            r#" else {{"jsonrpc": "2.0", "method": "call", "params": {{"model": "g2p.id.type","#,
            r#" "method": "search_count", "args": [[["id", "=", {id}]]], "kwargs": {{}}}}}}"#,
            r#" end"#
        ),
        key = REGISTRANT_KEY,
        id = token_type_id
    )
}

/// A [`CallbackSink`] for MTS's callback auth type `odoo`, whose runs read tokens back
/// ([`omc_core::ReadBackOnly`]).
///
/// MTS logs in at `{base}/web/session/authenticate` (or the configured auth URL) with the
/// callback user's database, login and password ([`with_callback_user`], required: MTS stores
/// them, so they are never the registry client's own), then calls
/// `{base}/web/dataset/call_kw/g2p.reg.id/create` once per record with a body built by
/// [`output_format`]. MTS ignores the answers, so OMC learns the outcome only by reading the
/// tokens back; a replayed token is refused by OpenG2P's one-id-per-type rule, harmlessly.
///
/// [`with_callback_user`]: Self::with_callback_user
pub struct OdooCallbackSink {
    registry: OdooRegistry,
    callback_url: Url,
    auth_url: Url,
    database: Option<String>,
    login: Option<(String, SecretString)>,
    timeout_seconds: u32,
    http_method: HttpMethod,
    extra_headers: Headers,
    login_headers: Headers,
    custom_format: Option<String>,
}

impl fmt::Debug for OdooCallbackSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooCallbackSink")
            .field("registry", &self.registry)
            .field("callback_url", &redact_url(&self.callback_url))
            .field("auth_url", &redact_url(&self.auth_url))
            .field("database", &self.database)
            .field("login", &self.login.as_ref().map(|_| "<set>"))
            .field("timeout_seconds", &self.timeout_seconds)
            .field("http_method", &self.http_method)
            .field(
                "extra_headers",
                &self.extra_headers.keys().collect::<Vec<_>>(),
            )
            .field(
                "login_headers",
                &self.login_headers.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl OdooCallbackSink {
    /// A sink whose callbacks go to the registry's Odoo. MTS's own Odoo login must be given
    /// with [`with_callback_user`](Self::with_callback_user) before a delivery is described: the
    /// registry client's login is never handed to MTS.
    pub fn new(registry: OdooRegistry) -> Result<Self, SinkError> {
        let base = registry.client().base_url().clone();
        let url = |path: &str| {
            endpoint(&base, path).map_err(|e| SinkError::Misconfigured {
                message: e.to_string(),
            })
        };
        Ok(Self {
            callback_url: url("web/dataset/call_kw/g2p.reg.id/create")?,
            auth_url: url("web/session/authenticate")?,
            database: None,
            login: None,
            timeout_seconds: 10,
            http_method: HttpMethod::Post,
            extra_headers: Headers::new(),
            login_headers: Headers::new(),
            custom_format: None,
            registry,
        })
    }

    /// MTS's login as this sink gives it (`None` until the callback user is set), for OMC to
    /// try from its side ([`CallbackLogin::check`]).
    pub fn callback_login(&self) -> Option<CallbackLogin> {
        let (login, password) = self.login.as_ref()?;
        let database = self
            .database
            .clone()
            .unwrap_or_else(|| self.registry.client().database().to_owned());
        Some(CallbackLogin::new(
            self.registry.client().http().clone(),
            self.auth_url.clone(),
            database,
            login.clone(),
            password.clone(),
        ))
    }

    /// The Odoo user MTS logs in as (`callback.username`, `callback.password`; required). It
    /// needs create on `g2p.reg.id` and read on `g2p.id.type`, and nothing more: MTS stores it.
    pub fn with_callback_user(
        mut self,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        self.login = Some((username.into(), password));
        self
    }

    /// The Odoo database MTS logs in to (`callback.database`; default: the registry client's).
    pub fn with_callback_database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// Where MTS logs in, when Odoo is reached at another address from MTS than from OMC.
    pub fn with_auth_url(mut self, auth_url: Url) -> Self {
        self.auth_url = auth_url;
        self
    }

    /// Where MTS calls back, when Odoo is reached at another address from MTS than from OMC.
    pub fn with_callback_url(mut self, callback_url: Url) -> Self {
        self.callback_url = callback_url;
        self
    }

    /// MTS's timeout for each callback, in seconds (default 10).
    pub fn with_timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = seconds;
        self
    }

    /// Uses the operator's own output format instead of the generated one (an OpenG2P
    /// connector's `output_format`, which builds the `call_kw` body itself).
    pub fn with_output_format(mut self, format: impl Into<String>) -> Self {
        self.custom_format = Some(format.into());
        self
    }

    /// The callbacks' HTTP method (default POST; Odoo's JSON routes take any).
    pub fn with_http_method(mut self, method: HttpMethod) -> Self {
        self.http_method = method;
        self
    }

    /// A header MTS adds to every callback.
    pub fn with_header(mut self, name: impl Into<String>, value: SecretString) -> Self {
        self.extra_headers.insert(name.into(), value);
        self
    }

    /// A header MTS adds to its login call.
    pub fn with_login_header(mut self, name: impl Into<String>, value: SecretString) -> Self {
        self.login_headers.insert(name.into(), value);
        self
    }
}

/// Why a sink without MTS's own login describes no delivery.
const MISSING_LOGIN: &str = "callback.username and callback.password are not set: auth type odoo \
     needs an Odoo login of MTS's own (create on g2p.reg.id, read on g2p.id.type); OMC never gives \
     MTS its own Odoo login";

impl OdooCallbackSink {
    /// The delivery MTS is told: its own login, and the `call_kw` body built by
    /// [`output_format`] for the token type's id, read from the registry.
    pub async fn delivery(&self) -> Result<Delivery, SinkError> {
        let Some((username, password)) = &self.login else {
            return Err(SinkError::Misconfigured {
                message: MISSING_LOGIN.into(),
            });
        };
        let type_id = self.registry.token_type_id().await.map_err(|e| match e {
            omc_core::RegistryError::Invalid { message } => SinkError::Misconfigured { message },
            other => other.into(),
        })?;
        Ok({
            let mut delivery = Delivery::new(
                self.callback_url.clone(),
                CallbackAuth::Odoo {
                    auth_url: self.auth_url.clone(),
                    database: self
                        .database
                        .clone()
                        .unwrap_or_else(|| self.registry.client().database().to_owned()),
                    username: username.clone(),
                    password: password.clone(),
                    extra_headers: self.login_headers.clone(),
                },
            );
            delivery.http_method = self.http_method;
            delivery.timeout_seconds = self.timeout_seconds;
            delivery.call_in_bulk = false;
            delivery.output_format = Some(
                self.custom_format
                    .clone()
                    .unwrap_or_else(|| output_format(type_id)),
            );
            delivery.extra_headers = self.extra_headers.clone();
            delivery
        })
    }
}

#[async_trait]
impl CallbackSink for OdooCallbackSink {
    async fn open_run(&self) -> Result<SinkRun, SinkError> {
        Ok(SinkRun::read_back(self.delivery().await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OdooClient;
    use omc_core::IdTypes;
    use omc_core::jq::{Output, Program};
    use serde_json::json;

    const OMC_PASSWORD: &str = "omc-own-Password-5521";

    /// A sink over a registry client at `base`.
    fn sink(base: &str) -> OdooCallbackSink {
        let client = OdooClient::builder()
            .base_url(base.parse().unwrap())
            .database("registry-db")
            .login("omc-admin")
            .password(SecretString::from(OMC_PASSWORD))
            .build()
            .unwrap();
        OdooCallbackSink::new(OdooRegistry::new(client, IdTypes::default())).unwrap()
    }

    /// An Odoo that logs anyone in and knows the token type as id 7.
    async fn odoo() -> wiremock::MockServer {
        use wiremock::matchers::{body_partial_json, method};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(body_partial_json(json!({"params": {"service": "common"}})))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"jsonrpc": "2.0", "id": 1, "result": 2})),
            )
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(body_partial_json(json!({"params": {"service": "object"}})))
            .respond_with(ResponseTemplate::new(200).set_body_json(
                json!({"jsonrpc": "2.0", "id": 1, "result": [{"id": 7, "id_validation": false}]}),
            ))
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn without_mts_own_login_no_delivery_is_described() {
        // Refused before any call: `unreachable.invalid` does not resolve.
        let error = sink("http://unreachable.invalid/")
            .delivery()
            .await
            .expect_err("no callback login");
        let shown = error.to_string();
        assert!(
            shown.contains("callback.username") && shown.contains("callback.password"),
            "{shown}"
        );
        assert!(!shown.contains("omc-admin") && !shown.contains(OMC_PASSWORD));
    }

    #[tokio::test]
    async fn mts_logs_in_with_the_callback_login_and_database() {
        let odoo = odoo().await;
        let sink = sink(&odoo.uri())
            .with_callback_user("mts", SecretString::from("mts-password"))
            .with_callback_database("callback-db");
        let delivery = sink.delivery().await.expect("delivery");
        let CallbackAuth::Odoo {
            database,
            username,
            password,
            ..
        } = &delivery.auth
        else {
            panic!("auth type odoo expected");
        };
        use secrecy::ExposeSecret;
        assert_eq!(
            (
                database.as_str(),
                username.as_str(),
                password.expose_secret()
            ),
            ("callback-db", "mts", "mts-password")
        );
        // Without a callback database, the registry's.
        let sink =
            self::sink(&odoo.uri()).with_callback_user("mts", SecretString::from("mts-password"));
        let CallbackAuth::Odoo { database, .. } = sink.delivery().await.unwrap().auth else {
            panic!("auth type odoo expected");
        };
        assert_eq!(database, "registry-db");
    }

    #[test]
    fn processed_results_become_a_create_and_the_rest_a_harmless_call() {
        let program = Program::compile(&output_format(7)).expect("compiles");
        let processed = json!({
            "input": {"id": 42, "vid": "4918350000000001"},
            "output": {"vid": "4918350000000001", "status": "processed",
                       "token": "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA",
                       "errorCode": null, "errorMessage": null}
        });
        let create = json!({"jsonrpc": "2.0", "method": "call", "params": {
            "model": "g2p.reg.id", "method": "create",
            "args": [{"partner_id": 42, "id_type": 7,
                      "value": "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA"}],
            "kwargs": {}}});
        assert_eq!(program.first(&processed), Output::Value(create));
        let harmless = json!({"jsonrpc": "2.0", "method": "call", "params": {
            "model": "g2p.id.type", "method": "search_count",
            "args": [[["id", "=", 7]]], "kwargs": {}}});
        for output in [
            json!({"vid": null, "status": "invalid", "token": null,
                   "errorCode": "ATS-REQ-009", "errorMessage": "vid missing"}),
            json!({"vid": "1", "status": "error", "token": null,
                   "errorCode": "IDA-MLC-009", "errorMessage": "x"}),
            json!({"vid": "1", "status": "processed", "token": ""}),
            json!({"vid": "1", "status": "processed", "token": 5}),
        ] {
            let result = json!({"input": {"id": 42}, "output": output});
            assert_eq!(
                program.first(&result),
                Output::Value(harmless.clone()),
                "{output}"
            );
        }
    }
}
