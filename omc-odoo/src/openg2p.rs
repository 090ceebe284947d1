//! [`OpenG2pApiSink`]: MTS calls OpenG2P 17's own REST API,
//! `PUT /api/v1/registry/update_individual`, which adds the token id; OMC reads tokens back.

use crate::client::endpoint;
use async_trait::async_trait;
use base64::Engine as _;
use omc_core::sink::{Headers, redact_url};
use omc_core::{CallbackAuth, CallbackSink, Delivery, HttpMethod, IdTypes, SinkError, SinkRun};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use url::Url;

/// The output format for OpenG2P's `update_individual`, adding a token of the type named
/// `token_type`.
///
/// A processed result with a non-empty string token becomes a one-element list:
/// `{"updateId": <VID>, "name": null, "given_name": null, "gender": null,
/// "birth_place": null, "ids": [{"id_type": <token_type>, "value": <token>}]}`. `updateId` is
/// the VID as MTS saw it (`.output.vid`). OpenG2P's request model requires the four personal
/// keys present (null allowed) and writes only the fields that are not null, so no personal
/// field of the registrant is rewritten; every other key is left out (`registration_date` and
/// `birthdate`, if present, must be strings). Anything else becomes an empty list, which
/// OpenG2P accepts and does nothing with: a failure never becomes an empty token. Written for
/// jq 1.6.
pub fn openg2p_output_format(token_type: &str) -> String {
    let token_type = serde_json::Value::from(token_type).to_string();
    format!(
        concat!(
            r#"if .output.status == "processed" and (.output.token | type) == "string""#,
            r#" and .output.token != "" and (.output.vid | type) == "string""#,
            r#" then [{{"updateId": .output.vid,"#,
            r#" "name": null, "given_name": null, "gender": null, "birth_place": null,"#,
            r#" "ids": [{{"id_type": {token_type}, "value": .output.token}}]}}]"#,
            r#" else [] end"#
        ),
        token_type = token_type
    )
}

/// A [`CallbackSink`] for OpenG2P 17's `update_individual` API, whose runs read tokens back
/// ([`omc_core::ReadBackOnly`]).
///
/// MTS calls `PUT {odoo}/api/v1/registry/update_individual?id_type=<VID type>` with auth type
/// `none` and `Authorization: Basic ...` among the extra headers (OpenG2P 17 takes HTTP Basic,
/// never a session), one callback per record: OpenG2P stops at the first failing element of a
/// list and fails the whole list. MTS ignores the answers; OMC reads the tokens back.
///
/// The body carries only the VID, the token and the keys OpenG2P requires, as null (see
/// [`openg2p_output_format`]): OpenG2P writes no personal field. It finds the token id by its
/// type on the registrant holding the VID and rewrites its value in place, or adds one. It
/// detects no conflict: a token another registrant already holds is added all the same (a
/// duplicate OpenG2P does not report), and a different token the registrant held is
/// overwritten; the run report's `conflicts` and `duplicate_groups` stay empty with this sink.
pub struct OpenG2pApiSink {
    url: Url,
    login: String,
    password: SecretString,
    token_type: String,
    timeout_seconds: u32,
}

impl fmt::Debug for OpenG2pApiSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenG2pApiSink")
            .field("url", &redact_url(&self.url))
            .field("login", &"<set>")
            .field("password", &"<secret>")
            .field("token_type", &self.token_type)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

impl OpenG2pApiSink {
    /// A sink calling the API of the OpenG2P at `base_url` as the Odoo user `login`, looking
    /// registrants up by their id of type `id_types.vid` and adding one of type
    /// `id_types.token`.
    pub fn new(
        base_url: &Url,
        login: impl Into<String>,
        password: SecretString,
        id_types: &IdTypes,
    ) -> Result<Self, SinkError> {
        let mut url = endpoint(base_url, "api/v1/registry/update_individual").map_err(|e| {
            SinkError::Misconfigured {
                message: e.to_string(),
            }
        })?;
        url.query_pairs_mut().append_pair("id_type", &id_types.vid);
        let login = login.into();
        if login.contains(':') {
            return Err(SinkError::Misconfigured {
                message: "an HTTP Basic login cannot contain ':'".into(),
            });
        }
        Ok(Self {
            url,
            login,
            password,
            token_type: id_types.token.clone(),
            timeout_seconds: 10,
        })
    }

    /// MTS's timeout for each callback, in seconds (default 10).
    pub fn with_timeout_seconds(mut self, seconds: u32) -> Self {
        self.timeout_seconds = seconds;
        self
    }

    fn basic(&self) -> SecretString {
        let pair = format!("{}:{}", self.login, self.password.expose_secret());
        SecretString::from(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ))
    }
}

impl OpenG2pApiSink {
    /// The delivery MTS is told: a PUT per record with HTTP Basic among the extra headers and
    /// [`openg2p_output_format`]'s body.
    pub fn delivery(&self) -> Delivery {
        let mut extra_headers = Headers::new();
        extra_headers.insert("Authorization".into(), self.basic());
        {
            let mut delivery = Delivery::new(self.url.clone(), CallbackAuth::None);
            delivery.http_method = HttpMethod::Put;
            delivery.timeout_seconds = self.timeout_seconds;
            delivery.call_in_bulk = false;
            delivery.output_format = Some(openg2p_output_format(&self.token_type));
            delivery.extra_headers = extra_headers;
            delivery
        }
    }
}

#[async_trait]
impl CallbackSink for OpenG2pApiSink {
    async fn open_run(&self) -> Result<SinkRun, SinkError> {
        Ok(SinkRun::read_back(self.delivery()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use omc_core::jq::{Output, Program};
    use serde_json::json;

    #[test]
    fn processed_results_become_one_update_and_the_rest_an_empty_list() {
        let program = Program::compile(&openg2p_output_format("MOSIP UIN TOKEN")).unwrap();
        let processed = json!({
            "input": {"id": 42, "vid": "4918350000000001", "given_name": "Amina",
                      "family_name": "Abebe", "gender": "Female", "birthdate": "1990-01-02"},
            "output": {"vid": "4918350000000001", "status": "processed", "token": "tok",
                       "errorCode": null, "errorMessage": null}
        });
        let Output::Value(body) = program.first(&processed) else {
            panic!("a value")
        };
        assert_eq!(
            body,
            json!([{"updateId": "4918350000000001", "name": null, "given_name": null,
                    "gender": null, "birth_place": null,
                    "ids": [{"id_type": "MOSIP UIN TOKEN", "value": "tok"}]}]),
            "no personal field of the record is sent back"
        );
        for output in [
            json!({"vid": null, "status": "invalid", "token": null}),
            json!({"vid": "1", "status": "error", "token": null}),
            json!({"vid": "1", "status": "processed", "token": ""}),
            json!({"vid": null, "status": "processed", "token": "t"}),
        ] {
            let item = json!({"input": {"id": 1}, "output": output});
            assert_eq!(program.first(&item), Output::Value(json!([])), "{output}");
        }
    }

    #[tokio::test]
    async fn delivery_is_a_put_with_basic_and_no_auth_type() {
        let sink = OpenG2pApiSink::new(
            &"http://odoo.example/".parse().unwrap(),
            "api",
            SecretString::from("pw"),
            &IdTypes::default(),
        )
        .unwrap();
        let d = sink.delivery();
        assert_eq!(
            d.url.as_str(),
            "http://odoo.example/api/v1/registry/update_individual?id_type=MOSIP+VID"
        );
        assert_eq!(d.http_method, HttpMethod::Put);
        assert!(!d.call_in_bulk);
        assert_eq!(d.auth.auth_type(), "none");
        assert_eq!(
            d.extra_headers["Authorization"].expose_secret(),
            "Basic YXBpOnB3"
        );
        assert!(!format!("{sink:?} {d:?}").contains("pw\""));
    }
}
