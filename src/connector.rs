//! Wiring a [`ConnectorConfig`] to the Odoo and MTS adapters.

use omc_core::config::AuthType;
use omc_core::engine::EngineSettings;
use omc_core::sink::DynCallbackSink;
use omc_core::{ConnectorConfig, Engine, IdTypes};
use omc_mts::MtsClient;
use omc_odoo::{OdooCallbackSink, OdooClient, OdooRegistry};
use std::sync::Arc;

/// Why a configuration could not be wired to the adapters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The configuration has problems; nothing was wired.
    #[error(transparent)]
    Config(#[from] omc_core::config::ConfigError),
    /// The CA bundle could not be read.
    #[error("tls.ca_bundle: cannot read it: {0}")]
    CaBundle(#[source] std::io::Error),
    /// The Odoo client could not be built.
    #[error("odoo settings: {0}")]
    Odoo(#[source] omc_odoo::OdooError),
    /// The MTS client could not be built.
    #[error("mts_url: {0}")]
    Mts(#[source] omc_mts::BuildError),
    /// The callback sink could not be built.
    #[error("callback settings: {0}")]
    Sink(#[source] omc_core::SinkError),
    /// A setting this wiring does not support yet.
    #[error("{setting}: {message}")]
    Unsupported {
        /// The setting.
        setting: &'static str,
        /// Why.
        message: String,
    },
}

/// The adapters a configuration wires together, for callers that want them besides the engine.
#[derive(Debug, Clone)]
pub struct Connector {
    /// The registry (OpenG2P over Odoo's JSON-RPC).
    pub registry: Arc<OdooRegistry>,
    /// The engine driving registry, MTS and sink.
    pub engine: Engine,
}

impl Connector {
    /// Wires `config` to an [`OdooRegistry`], an [`MtsClient`] and (auth type `odoo`) an
    /// [`OdooCallbackSink`], with `settings` for the engine (start from
    /// `EngineSettings::from(&config)`).
    pub fn new(config: &ConnectorConfig, settings: EngineSettings) -> Result<Self, ConnectError> {
        config.validate()?;
        let id_types: IdTypes = config.id_types.clone();
        let registry = OdooRegistry::new(Self::odoo_client(config)?, id_types);
        let callback = &config.callback;
        if callback.auth_type != AuthType::Odoo {
            return Err(ConnectError::Unsupported {
                setting: "callback.auth_type",
                message: "only auth type odoo is wired from the configuration; for the \
                          self-hosted or OpenG2P API sinks use Connector::with_sink"
                    .into(),
            });
        }
        if callback.bulk {
            return Err(ConnectError::Unsupported {
                setting: "callback.bulk",
                message: "Odoo's call_kw takes one record per callback".into(),
            });
        }
        let mut sink = OdooCallbackSink::new(registry.clone())
            .map_err(ConnectError::Sink)?
            .with_timeout_seconds(callback.timeout_seconds)
            .with_http_method(callback.http_method);
        if let (Some(user), Some(password)) = (&callback.username, &callback.password) {
            sink = sink.with_callback_user(user.clone(), password.clone());
        }
        if let Some(url) = &callback.auth_url {
            sink = sink.with_auth_url(url.clone());
        }
        if let Some(url) = &callback.url {
            sink = sink.with_callback_url(url.clone());
        }
        for (name, value) in &callback.extra_headers {
            sink = sink.with_header(name.clone(), value.clone());
        }
        if let Some(format) = &config.output_format {
            sink = sink.with_output_format(format.clone());
        }
        Self::assemble(config, settings, registry, Arc::new(sink))
    }

    /// Wires `config` to an [`OdooRegistry`] and an [`MtsClient`] with a sink of the caller's
    /// choosing: an `omc_core::SelfHostedSink` whose receiver the embedding service mounts
    /// (its receiver stores through any `Registry`), or an
    /// [`omc_odoo::OpenG2pApiSink`]. The configuration's callback settings are not used.
    pub fn with_sink(
        config: &ConnectorConfig,
        settings: EngineSettings,
        sink: DynCallbackSink,
    ) -> Result<Self, ConnectError> {
        config.validate()?;
        let registry = OdooRegistry::new(Self::odoo_client(config)?, config.id_types.clone());
        Self::assemble(config, settings, registry, sink)
    }

    fn ca_bundle(config: &ConnectorConfig) -> Result<Option<Vec<u8>>, ConnectError> {
        config
            .tls_ca_bundle
            .as_ref()
            .map(std::fs::read)
            .transpose()
            .map_err(ConnectError::CaBundle)
    }

    fn odoo_client(config: &ConnectorConfig) -> Result<OdooClient, ConnectError> {
        let mut builder = OdooClient::builder()
            .base_url(config.odoo.base_url.clone())
            .database(config.odoo.database.clone())
            .login(config.odoo.login.clone())
            .password(config.odoo.password.clone());
        if let Some(pem) = Self::ca_bundle(config)? {
            builder = builder.ca_bundle_pem(pem);
        }
        builder.build().map_err(ConnectError::Odoo)
    }

    fn assemble(
        config: &ConnectorConfig,
        settings: EngineSettings,
        registry: OdooRegistry,
        sink: DynCallbackSink,
    ) -> Result<Self, ConnectError> {
        let mut builder = MtsClient::builder(config.mts_url.clone());
        if let Some(pem) = Self::ca_bundle(config)? {
            builder = builder.with_ca_bundle(pem);
        }
        let seeder = builder.build().map_err(ConnectError::Mts)?;
        let registry = Arc::new(registry);
        let engine = Engine::new(registry.clone(), Arc::new(seeder), sink, settings);
        Ok(Self { registry, engine })
    }
}
