//! What the demo and the benchmark share: the operator's configuration against the emulators,
//! the in-process self-hosted receiver, and the registry checks over JSON-RPC.

use super::router;
use omc::config::{AuthType, CallbackSettings, ConnectorBuilder, JobType, OdooSettings};
use omc::odoo::{OdooClient, OdooRegistry};
use omc::receiver::{CallbackReceiver, ReceiverSettings};
use omc::{ConnectorConfig, SelfHostedSink};
use secrecy::SecretString;
use serde_json::json;
use std::sync::Arc;
use url::Url;

/// The emulated registry's database, and the user both OMC and MTS log in as.
pub(crate) const DATABASE: &str = "openg2p";
pub(crate) const LOGIN: &str = "admin";
pub(crate) const PASSWORD: &str = "admin";

/// A one-time connector as an OpenG2P operator configures it: OpenG2P's default filter and
/// fields, callback auth type `odoo` with database, username and password.
pub(crate) fn operator_config(name: &str, mts_url: Url, odoo_url: Url) -> ConnectorBuilder {
    let odoo = OdooSettings {
        base_url: odoo_url,
        database: DATABASE.into(),
        login: LOGIN.into(),
        password: SecretString::from(PASSWORD),
    };
    ConnectorConfig::builder(name, mts_url, odoo)
        .with_job_type(JobType::OneTime)
        .with_callback(CallbackSettings {
            auth_type: AuthType::Odoo,
            database: Some(DATABASE.into()),
            username: Some(LOGIN.into()),
            password: Some(SecretString::from(PASSWORD)),
            ..CallbackSettings::default()
        })
}

/// A JSON-RPC client of the emulated registry.
pub(crate) fn odoo_client(base_url: Url) -> Result<OdooClient, String> {
    OdooClient::builder()
        .base_url(base_url)
        .database(DATABASE)
        .login(LOGIN)
        .password(SecretString::from(PASSWORD))
        .build()
        .map_err(|e| e.to_string())
}

/// `g2p.reg.id` rows of the type named `type_name`, counted over JSON-RPC.
pub(crate) async fn count_ids(client: &OdooClient, type_name: &str) -> Result<u64, String> {
    client
        .execute_kw(
            "g2p.reg.id",
            "search_count",
            json!([[["id_type", "=", type_name]]]),
            json!({}),
        )
        .await
        .map_err(|e| e.to_string())
        .map(|v| v.as_u64().unwrap_or(0))
}

/// OMC's receiver served in process on a loopback port, and the sink (bulk delivery) that points
/// MTS at it.
pub(crate) async fn self_hosted(registry: Arc<OdooRegistry>) -> Result<SelfHostedSink, String> {
    let receiver = Arc::new(CallbackReceiver::new(registry, ReceiverSettings::default()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| format!("binding the receiver: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = router::router(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let public_url = Url::parse(&format!("http://{addr}/")).map_err(|e| e.to_string())?;
    Ok(SelfHostedSink::new(receiver, public_url).with_bulk(true))
}
