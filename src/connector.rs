//! Wiring a [`ConnectorConfig`] to the Odoo and MTS adapters.

use omc_core::Registry;
use omc_core::SelfHostedSink;
use omc_core::config::{AuthType, ModelProblem, ModelSettings, SinkKind};
use omc_core::engine::EngineSettings;
use omc_core::receiver::{CallbackReceiver, ReceiverSettings};
use omc_core::sink::DynCallbackSink;
use omc_core::{ConnectorConfig, Engine, IdTypes};
use omc_mts::MtsClient;
use omc_odoo::{
    CallbackLogin, CallbackLoginError, OdooCallbackSink, OdooClient, OdooRegistry, OpenG2pApiSink,
};
use std::sync::Arc;
use url::Url;

/// Why a configuration could not be wired to the adapters.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConnectError {
    /// The configuration has problems; nothing was wired.
    #[error(transparent)]
    Config(#[from] omc_core::config::ConfigError),
    /// The CA bundle (`tls.ca_bundle`) could not be read.
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
    /// The MTS client the engine submits through.
    pub mts: Arc<MtsClient>,
    /// MTS's Odoo login as the Odoo sink gives it (auth type `odoo`), which the pre-flight
    /// check tries from OMC's side; `None` for another sink.
    pub callback_login: Option<CallbackLogin>,
    /// The self-hosted sink's receiver (`callback.sink = "self_hosted"`), for the caller to
    /// serve at `callback.listen`; `None` for another sink.
    pub receiver: Option<Arc<CallbackReceiver>>,
    /// The filters and fields the pre-flight check holds against the registry's own model.
    model_settings: ModelSettings,
}

/// What a pre-flight check found wrong, in the order it checks: the registry first.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// Logging in to the registry failed, or an id type is missing.
    #[error(transparent)]
    Registry(#[from] omc_core::RegistryError),
    /// The registry refused MTS's callback login: every callback of the run would be lost.
    #[error(transparent)]
    CallbackLogin(CallbackLoginError),
    /// The filters or fields do not fit the registry's own field model (read with
    /// `fields_get`): a field it lacks, a path through a plain field, a field Odoo cannot
    /// search, a value of the wrong type.
    #[error(
        "check filter, cleanup_filter and fields against the registry's own model (read with \
         fields_get): {}",
        listed(problems)
    )]
    Model {
        /// Every problem found.
        problems: Vec<ModelProblem>,
    },
    /// MTS did not answer its `ping`.
    #[error("MTS at {url} is not reachable")]
    Mts {
        /// MTS's base URL, credentials removed.
        url: String,
        /// Why.
        #[source]
        source: omc_core::SeederError,
    },
}

/// Each problem as `setting: message`, in one line.
fn listed(problems: &[ModelProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("{}: {}", p.setting, p.message))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Connector {
    /// Wires `config` to an [`OdooRegistry`], an [`MtsClient`] and the sink `callback.sink`
    /// names, with `settings` for the engine (start from `EngineSettings::from(&config)`):
    /// - `odoo` (auth type `odoo`): an [`OdooCallbackSink`] that gives MTS the callback login
    ///   (`callback.database`, `callback.username`, `callback.password`), never OMC's own;
    /// - `self_hosted`: a [`SelfHostedSink`] over a new receiver (in
    ///   [`receiver`](Self::receiver), for the caller to serve at `callback.listen`);
    /// - `openg2p_api`: an [`OpenG2pApiSink`] with HTTP Basic.
    ///
    /// `tls.ca_bundle` is read once, and both clients trust its certificates instead of the
    /// system's roots.
    pub fn new(config: &ConnectorConfig, settings: EngineSettings) -> Result<Self, ConnectError> {
        config.validate()?;
        let ca_bundle = Self::ca_bundle(config)?;
        let id_types: IdTypes = config.id_types.clone();
        let registry =
            OdooRegistry::new(Self::odoo_client(config, ca_bundle.as_deref())?, id_types);
        match config.callback.sink {
            SinkKind::SelfHosted => {
                return Self::self_hosted(config, settings, registry, ca_bundle);
            }
            SinkKind::OpenG2pApi => {
                return Self::openg2p_api(config, settings, registry, ca_bundle);
            }
            _ => {}
        }
        let callback = &config.callback;
        if callback.auth_type != AuthType::Odoo {
            return Err(ConnectError::Unsupported {
                setting: "callback.auth_type",
                message: "the Odoo sink needs auth type odoo; for a bearer secret use sink = \
                          \"self_hosted\""
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
        if let Some(database) = &callback.database {
            sink = sink.with_callback_database(database.clone());
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
        let callback_login = sink.callback_login();
        let mut connector = Self::assemble(config, settings, registry, Arc::new(sink), ca_bundle)?;
        connector.callback_login = callback_login;
        Ok(connector)
    }

    /// `callback.sink = "self_hosted"`: OMC's receiver, storing through the registry, reached
    /// by MTS at `callback.url` (default `http://<callback.listen>/`); the caller serves
    /// [`receiver`](Self::receiver) at `callback.listen`.
    fn self_hosted(
        config: &ConnectorConfig,
        settings: EngineSettings,
        registry: OdooRegistry,
        ca_bundle: Option<Vec<u8>>,
    ) -> Result<Self, ConnectError> {
        let callback = &config.callback;
        let public_url = match (&callback.url, callback.listen) {
            (Some(url), _) => url.clone(),
            (None, Some(listen)) => {
                Url::parse(&format!("http://{listen}/")).map_err(|e| ConnectError::Unsupported {
                    setting: "callback.listen",
                    message: e.to_string(),
                })?
            }
            (None, None) => {
                return Err(ConnectError::Unsupported {
                    setting: "callback.listen",
                    message: "the self-hosted sink needs the address its receiver listens on"
                        .into(),
                });
            }
        };
        let receiver = Arc::new(CallbackReceiver::new(
            Arc::new(registry.clone()),
            ReceiverSettings::default(),
        ));
        let mut sink = SelfHostedSink::new(receiver.clone(), public_url)
            .with_http_method(callback.http_method)
            .with_bulk(callback.bulk)
            .with_timeout_seconds(callback.timeout_seconds);
        if callback.auth_type == AuthType::Odoo
            && let (Some(user), Some(password)) = (&callback.username, &callback.password)
        {
            let database = callback
                .database
                .as_deref()
                .unwrap_or(&config.odoo.database);
            sink = sink.with_odoo_auth(database, user.clone(), password.clone());
        }
        for (name, value) in &callback.extra_headers {
            sink = sink.with_header(name.clone(), value.clone());
        }
        let mut connector = Self::assemble(config, settings, registry, Arc::new(sink), ca_bundle)?;
        connector.receiver = Some(receiver);
        Ok(connector)
    }

    /// `callback.sink = "openg2p_api"`: OpenG2P's `update_individual` API at `callback.url`
    /// (OpenG2P's base URL as MTS reaches it; default `odoo.base_url`), HTTP Basic with
    /// `callback.username` and `callback.password`.
    fn openg2p_api(
        config: &ConnectorConfig,
        settings: EngineSettings,
        registry: OdooRegistry,
        ca_bundle: Option<Vec<u8>>,
    ) -> Result<Self, ConnectError> {
        let callback = &config.callback;
        let (Some(user), Some(password)) = (&callback.username, &callback.password) else {
            return Err(ConnectError::Unsupported {
                setting: "callback.username",
                message: "the OpenG2P API sink needs a login and its password".into(),
            });
        };
        let base = callback.url.as_ref().unwrap_or(&config.odoo.base_url);
        let sink = OpenG2pApiSink::new(base, user.clone(), password.clone(), &config.id_types)
            .map_err(ConnectError::Sink)?
            .with_timeout_seconds(callback.timeout_seconds);
        Self::assemble(config, settings, registry, Arc::new(sink), ca_bundle)
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
        let ca_bundle = Self::ca_bundle(config)?;
        let registry = OdooRegistry::new(
            Self::odoo_client(config, ca_bundle.as_deref())?,
            config.id_types.clone(),
        );
        Self::assemble(config, settings, registry, sink, ca_bundle)
    }

    /// The CA bundle's bytes, read once for both clients.
    fn ca_bundle(config: &ConnectorConfig) -> Result<Option<Vec<u8>>, ConnectError> {
        config
            .tls_ca_bundle
            .as_ref()
            .map(std::fs::read)
            .transpose()
            .map_err(ConnectError::CaBundle)
    }

    fn odoo_client(
        config: &ConnectorConfig,
        ca_bundle: Option<&[u8]>,
    ) -> Result<OdooClient, ConnectError> {
        let mut builder = OdooClient::builder()
            .base_url(config.odoo.base_url.clone())
            .database(config.odoo.database.clone())
            .login(config.odoo.login.clone())
            .password(config.odoo.password.clone());
        if let Some(pem) = ca_bundle {
            builder = builder.ca_bundle_pem(pem);
        }
        builder.build().map_err(ConnectError::Odoo)
    }

    fn assemble(
        config: &ConnectorConfig,
        settings: EngineSettings,
        registry: OdooRegistry,
        sink: DynCallbackSink,
        ca_bundle: Option<Vec<u8>>,
    ) -> Result<Self, ConnectError> {
        let mut builder = MtsClient::builder(config.mts_url.clone());
        if let Some(pem) = ca_bundle {
            builder = builder.with_ca_bundle(pem);
        }
        let mts = Arc::new(builder.build().map_err(ConnectError::Mts)?);
        let registry = Arc::new(registry);
        let engine = Engine::new(registry.clone(), mts.clone(), sink, settings);
        Ok(Self {
            registry,
            engine,
            mts,
            callback_login: None,
            receiver: None,
            model_settings: ModelSettings::of(config),
        })
    }

    /// Checks what a run needs before it sends anything: OMC's login to the registry, that
    /// both id types exist, that the filters and fields fit the registry's own field model
    /// ([`check_model`](Self::check_model)), that MTS answers its `ping`, and (Odoo sink) that
    /// the registry accepts MTS's callback login. A callback login URL OMC cannot reach is only
    /// logged: MTS may reach it where OMC does not.
    pub async fn preflight(&self) -> Result<(), PreflightError> {
        self.registry
            .client()
            .login()
            .await
            .map_err(omc_core::RegistryError::from)?;
        let types = self.registry.id_types();
        for id_type in [&types.vid, &types.token] {
            self.registry.id_validation(id_type).await?;
        }
        self.check_model().await?;
        self.mts
            .ping()
            .await
            .map_err(|source| PreflightError::Mts {
                url: omc_core::sink::redact_url(self.mts.base_url()),
                source,
            })?;
        if let Some(login) = &self.callback_login {
            match login.check().await {
                Ok(()) => {}
                Err(e @ CallbackLoginError::Refused { .. }) => {
                    return Err(PreflightError::CallbackLogin(e));
                }
                Err(e) => tracing::warn!(
                    "MTS's callback login could not be tried from here: {}",
                    omc_core::runs::chain(&e)
                ),
            }
        }
        Ok(())
    }

    /// Reads the registry's own field model (`fields_get` of `res.partner`, `g2p.reg.id` and
    /// the models the filters reach) and checks the configuration's `filter`,
    /// `cleanup_filter` and `fields` against it, with the stock model's "did you mean" help:
    /// a deployment's own fields pass, a field the registry lacks is told before anything is
    /// sent.
    pub async fn check_model(&self) -> Result<(), PreflightError> {
        let model = self
            .registry
            .client()
            .field_model(&self.model_settings.filters())
            .await
            .map_err(omc_core::RegistryError::from)?;
        let problems = self.model_settings.check(&model);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PreflightError::Model { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    //! `tls.ca_bundle` replaces the system's roots, for Odoo and MTS alike. The system's roots
    //! are what `SSL_CERT_FILE` names (rustls reads it); a test cannot set a variable for itself
    //! without racing the others, so it runs itself again, alone, with it set.
    //!
    //! The server is a TLS 1.2 stand-in that presents a certificate chain and a key exchange
    //! with a wrong signature: a client that does not trust the chain fails with
    //! `UnknownIssuer`; one that does gets as far as the signature (`BadSignature`).

    use super::*;
    use omc_core::config::{CallbackSettings, OdooSettings};
    use omc_core::{RequestId, TokenSeeder};
    use omc_mts::RetryPolicy;
    use secrecy::SecretString;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// A root that signed [`SERVER`] (valid 2000 to 2100).
    const CA_A: &str = "-----BEGIN CERTIFICATE-----
MIIBZDCCAQqgAwIBAgICEAAwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNT01DIHRl
c3QgQ0EgQTAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAwMFowGDEWMBQG
A1UEAwwNT01DIHRlc3QgQ0EgQTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPwk
+y9qRA85M7IKkOqf2kuHd+KQqZOyR8o0WM5oiA8WDGqXfHGij4F7tQ+a5X4EwSuW
MWnjitYTubq1B9ztnsijQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD
AgEGMB0GA1UdDgQWBBRpP5MGCwwUVrPRBKaubrJWRkMHEDAKBggqhkjOPQQDAgNI
ADBFAiBgGLs7YT4Xnb1KASeSYmSJq7K0BMjBPaF+TPzn0iVYEQIhAN9fOsuvPBEV
suxczbYiI/atl5fOYY1e1IDFjCgv7FLE
-----END CERTIFICATE-----";
    /// Another root.
    const CA_B: &str = "-----BEGIN CERTIFICATE-----
MIIBZTCCAQqgAwIBAgICEAEwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNT01DIHRl
c3QgQ0EgQjAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAwMFowGDEWMBQG
A1UEAwwNT01DIHRlc3QgQ0EgQjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABPnO
zFASOEjRZkeZAzBFvrLOZdtLUmn+8cEbd9Nw2QpmsGCaMjZVQvg7mQhL9w5tn5H8
bmgQmEhbqxE/vdGm6/+jQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD
AgEGMB0GA1UdDgQWBBR02e38yw4FsSk3zcs8xFzXmMwNizAKBggqhkjOPQQDAgNJ
ADBGAiEA8IcmZXscdCkpAEyTcx1EAff0pomqqH5/gS+qXgSzA2ICIQCLSmW+3RGQ
UfeEH80t9HAmJ23qLsLgCb++v1GG//sp9Q==
-----END CERTIFICATE-----";
    /// The server's certificate for 127.0.0.1, signed by [`CA_A`].
    const SERVER: &str = "-----BEGIN CERTIFICATE-----
MIIBsDCCAVegAwIBAgICEAIwCgYIKoZIzj0EAwIwGDEWMBQGA1UEAwwNT01DIHRl
c3QgQ0EgQTAgFw0wMDAxMDEwMDAwMDBaGA8yMTAwMDEwMTAwMDAwMFowFDESMBAG
A1UEAwwJMTI3LjAuMC4xMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEIQzmcGpA
cZiG9tcXCGXEVyMmmqpoXERj99qN9T+LxthRdKPKQoHUkzFWhdm0/FarGoFKkzp/
y5Tz2wd2TqwzY6OBkjCBjzAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDAT
BgNVHSUEDDAKBggrBgEFBQcDATAaBgNVHREEEzARhwR/AAABgglsb2NhbGhvc3Qw
HwYDVR0jBBgwFoAUaT+TBgsMFFaz0QSmrm6yVkZDBxAwHQYDVR0OBBYEFI4HshGx
BEcDlGSVF9gWofcCxtYGMAoGCCqGSM49BAMCA0cAMEQCIF40mDR0HENhjtX+TD5F
J2FnZCpzsyw9y1I3SNiritqkAiBVX0FuZNm3RIDyWRH+oYev4PisyH9xPKze1DEp
sAn2vA==
-----END CERTIFICATE-----";

    /// Set in the test's second run, whose system roots are [`CA_A`].
    const SECOND_RUN: &str = "OMC_CONNECTOR_TEST_SYSTEM_ROOTS_ARE_CA_A";
    const TEST: &str = "connector::tests::a_ca_bundle_replaces_the_system_roots";

    fn scratch_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("omc-ca-bundle-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("no-certs")).unwrap();
        dir
    }

    #[test]
    fn a_ca_bundle_replaces_the_system_roots() {
        let dir = scratch_dir();
        std::fs::write(dir.join("a.pem"), CA_A).unwrap();
        std::fs::write(dir.join("b.pem"), CA_B).unwrap();
        if std::env::var_os(SECOND_RUN).is_none() {
            let run = Command::new(std::env::current_exe().unwrap())
                .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
                .env(SECOND_RUN, "1")
                .env("SSL_CERT_FILE", dir.join("a.pem"))
                .env("SSL_CERT_DIR", dir.join("no-certs"))
                .output()
                .unwrap();
            let shown = format!(
                "{}{}",
                String::from_utf8_lossy(&run.stdout),
                String::from_utf8_lossy(&run.stderr)
            );
            let _ = std::fs::remove_dir_all(&dir);
            assert!(run.status.success(), "{shown}");
            assert!(shown.contains("1 passed"), "{shown}");
            return;
        }
        let port = serve_tls12_stand_in();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for (bundle, trusted) in [("b.pem", false), ("a.pem", true)] {
            let config = config(port, &dir.join(bundle));
            let connector = Connector::new(&config, EngineSettings::from(&config)).unwrap();
            let odoo = runtime
                .block_on(connector.registry.client().login())
                .expect_err("the stand-in never completes a handshake");
            let mts = MtsClient::builder(config.mts_url.clone())
                .with_ca_bundle(std::fs::read(dir.join(bundle)).unwrap())
                .with_retry(RetryPolicy::never())
                .build()
                .unwrap();
            let mts = runtime
                .block_on(mts.status(&RequestId("r".into())))
                .expect_err("the stand-in never completes a handshake");
            for (client, error) in [("odoo", chain(&odoo)), ("mts", chain(&mts))] {
                let expected = if trusted {
                    "BadSignature"
                } else {
                    "UnknownIssuer"
                };
                assert!(
                    error.contains(expected),
                    "{client} with {bundle} (system roots: CA A): {error}"
                );
            }
        }
    }

    fn config(port: u16, ca_bundle: &Path) -> ConnectorConfig {
        let url = |path: &str| format!("https://127.0.0.1:{port}/{path}").parse().unwrap();
        let odoo = OdooSettings {
            base_url: url(""),
            database: "registry".into(),
            login: "omc".into(),
            password: SecretString::from("omc-password"),
        };
        ConnectorConfig::builder("tls", url("v1/mts/"), odoo)
            .with_callback(CallbackSettings {
                database: Some("registry".into()),
                username: Some("mts".into()),
                password: Some(SecretString::from("mts-password")),
                ..CallbackSettings::default()
            })
            .with_tls_ca_bundle(ca_bundle)
            .build()
    }

    fn chain(error: &(dyn std::error::Error + 'static)) -> String {
        let mut shown = error.to_string();
        let mut source = error.source();
        while let Some(e) = source {
            shown = format!("{shown}: {e}");
            source = e.source();
        }
        shown
    }

    /// Serves each connection the stand-in's first flight, on a loopback port.
    fn serve_tls12_stand_in() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                std::thread::spawn(move || first_flight(stream));
            }
        });
        port
    }

    /// Reads the ClientHello, answers ServerHello, Certificate, ServerKeyExchange (signed with
    /// nothing) and ServerHelloDone, then waits for the client to give up.
    fn first_flight(mut stream: TcpStream) {
        let mut header = [0u8; 5];
        if stream.read_exact(&mut header).is_err() {
            return;
        }
        let mut hello = vec![0u8; usize::from(u16::from_be_bytes([header[3], header[4]]))];
        if stream.read_exact(&mut hello).is_err() {
            return;
        }
        let mut server_hello = vec![3, 3];
        server_hello.extend([7u8; 32]); // random
        server_hello.extend([0, 0xC0, 0x2B, 0]); // no session id, ECDHE-ECDSA-AES128-GCM, no compression
        server_hello.extend([0, 0]); // no extensions
        let der = pem_der(SERVER);
        let mut certificate = u24(der.len() + 3);
        certificate.extend(u24(der.len()));
        certificate.extend(der);
        let mut key_exchange = vec![3, 0x00, 0x1D, 32]; // named curve x25519, a 32-byte key
        key_exchange.extend([9u8; 32]);
        key_exchange.extend([0x04, 0x03, 0, 8, 0x30, 6, 2, 1, 1, 2, 1, 1]); // ECDSA P-256 (1, 1)
        let mut flight = Vec::new();
        for (kind, body) in [
            (2u8, server_hello),
            (11, certificate),
            (12, key_exchange),
            (14, Vec::new()),
        ] {
            flight.push(kind);
            flight.extend(u24(body.len()));
            flight.extend(body);
        }
        let mut record = vec![22, 3, 3];
        record.extend(u16::try_from(flight.len()).unwrap().to_be_bytes());
        record.extend(flight);
        if stream.write_all(&record).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }

    fn u24(n: usize) -> Vec<u8> {
        u32::try_from(n).unwrap().to_be_bytes()[1..].to_vec()
    }

    /// The DER of a PEM certificate.
    fn pem_der(pem: &str) -> Vec<u8> {
        let text: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let value = |c: u8| match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            _ => 63,
        };
        let digits: Vec<u8> = text.bytes().filter(|&c| c != b'=').map(value).collect();
        digits
            .chunks(4)
            .flat_map(|chunk| {
                let n = chunk
                    .iter()
                    .enumerate()
                    .fold(0u32, |n, (i, &d)| n | u32::from(d) << (18 - 6 * i));
                n.to_be_bytes()[1..chunk.len()].to_vec()
            })
            .collect()
    }
}
