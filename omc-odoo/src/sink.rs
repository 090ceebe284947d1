//! [`OdooCallbackSink`]: MTS logs in to Odoo (callback auth type `odoo`) and creates each token
//! id itself through Odoo's web client endpoint; OMC reads the tokens back.

use crate::client::endpoint;
use crate::registry::OdooRegistry;
use async_trait::async_trait;
use omc_core::rules::REGISTRANT_KEY;
use omc_core::sink::{Headers, redact_url};
use omc_core::{CallbackAuth, CallbackSink, Delivery, HttpMethod, ResultPath, SinkError};
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

/// A [`CallbackSink`] for MTS's callback auth type `odoo`, with [`ResultPath::ReadBack`].
///
/// MTS logs in at `{base}/web/session/authenticate` (or the configured auth URL) with the
/// callback user's database, login and password, then calls
/// `{base}/web/dataset/call_kw/g2p.reg.id/create` once per record with a body built by
/// [`output_format`]. MTS ignores the answers, so OMC learns the outcome only by reading the
/// tokens back; a replayed token is refused by OpenG2P's one-id-per-type rule, harmlessly.
pub struct OdooCallbackSink {
    registry: OdooRegistry,
    callback_url: Url,
    auth_url: Url,
    username: String,
    password: SecretString,
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
            .field("username", &"<set>")
            .field("password", &"<secret>")
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
    /// A sink whose callbacks go to the registry's Odoo, made as the registry client's own user
    /// (change it with [`with_callback_user`](Self::with_callback_user)).
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
            username: registry.client().login_name().to_owned(),
            password: registry.client().password().clone(),
            timeout_seconds: 10,
            http_method: HttpMethod::Post,
            extra_headers: Headers::new(),
            login_headers: Headers::new(),
            custom_format: None,
            registry,
        })
    }

    /// The Odoo user MTS logs in as (it needs create on `g2p.reg.id`, read on `g2p.id.type`).
    pub fn with_callback_user(
        mut self,
        username: impl Into<String>,
        password: SecretString,
    ) -> Self {
        self.username = username.into();
        self.password = password;
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

#[async_trait]
impl CallbackSink for OdooCallbackSink {
    async fn delivery(&self) -> Result<Delivery, SinkError> {
        let type_id = self.registry.token_type_id().await.map_err(|e| match e {
            omc_core::RegistryError::Invalid { message } => SinkError::Misconfigured { message },
            other => other.into(),
        })?;
        Ok(Delivery {
            url: self.callback_url.clone(),
            http_method: self.http_method,
            timeout_seconds: self.timeout_seconds,
            call_in_bulk: false,
            output_format: Some(
                self.custom_format
                    .clone()
                    .unwrap_or_else(|| output_format(type_id)),
            ),
            extra_headers: self.extra_headers.clone(),
            auth: CallbackAuth::Odoo {
                auth_url: self.auth_url.clone(),
                database: self.registry.client().database().to_owned(),
                username: self.username.clone(),
                password: self.password.clone(),
                extra_headers: self.login_headers.clone(),
            },
        })
    }

    fn result_path(&self) -> ResultPath {
        ResultPath::ReadBack
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omc_core::jq::{Output, Program};
    use serde_json::json;

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
