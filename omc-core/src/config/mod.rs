//! The connector configuration: every setting of OpenG2P's own MTS connector, plus OMC's own.
//!
//! Built in code with [`ConnectorConfig::builder`], or loaded from TOML, JSON and `OMC_*`
//! environment variables ([`ConnectorConfig::load`]) in two phases: the text is read leniently
//! into a tree, then every setting is checked and every problem reported at once
//! ([`ConfigError`]), each naming its setting. Every setting has the documented default.
//! Credentials are [`SecretString`]s from the moment they are read (from the environment or a
//! file, never from a configuration file's text) and are never printed or written back.

mod build;
mod check;
mod load;
mod model_check;
mod numbers;
mod openg2p;
mod parse;
mod problems;
mod read;
mod secret;
mod write;

pub use load::{ENV_PREFIX, Format, overlay_env, parse_text};
pub use model_check::{ModelProblem, ModelSettings, REGISTRANT_MODEL};
pub use openg2p::{CALLBACK_PASSWORD_VAR, ImportReport, ODOO_PASSWORD_VAR, import_openg2p};
pub use problems::{ConfigError, Problem};
pub use secret::{Environment, SecretSource};
// Public as `testing::sample_result`.
#[cfg(feature = "testing")]
#[doc(hidden)]
pub use check::sample_result;

use crate::domain::Domain;
use crate::mts_rules::MandatoryFields;
use crate::registry::IdTypes;
use crate::runs::RunSettings;
use crate::seeder::Mapping;
use crate::sink::{Headers, HttpMethod, redact_url};
use secrecy::SecretString;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use url::Url;

/// Where MTS's records come from (OpenG2P's "MTS input type").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputType {
    /// The OpenG2P registry (OpenG2P calls it `custom`): the only one OMC supports.
    #[default]
    OpenG2pRegistry,
    /// MTS pulls from ODK Central itself: not supported by OMC.
    Odk,
    /// A CSV upload: not supported by OMC.
    Csv,
}

/// MTS's output type; OMC supports `json` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OutputType {
    /// JSON callbacks.
    #[default]
    Json,
}

/// MTS's delivery type; OMC supports `callback` only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryType {
    /// Results delivered to a callback URL.
    #[default]
    Callback,
}

/// How the connector runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobType {
    /// Every `interval_minutes` (the daily delta).
    #[default]
    Recurring,
    /// Once.
    OneTime,
}

/// The callback auth type MTS uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthType {
    /// MTS logs in to Odoo and sends the session cookie.
    #[default]
    Odoo,
    /// A static bearer token.
    StaticBearer,
    /// None.
    None,
}

/// Which callback sink receives MTS's results (`callback.sink`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SinkKind {
    /// MTS logs in to the registry's Odoo and creates each token id through `call_kw`
    /// (OpenG2P's own setup; auth type `odoo`).
    #[default]
    Odoo,
    /// MTS calls OMC's own receiver, served by the `omc` process at `callback.listen`
    /// (bulk callbacks; a random bearer secret per run, or Odoo-style sessions).
    SelfHosted,
    /// MTS calls OpenG2P 17's `update_individual` REST API with HTTP Basic
    /// (`callback.username`, `callback.password`).
    OpenG2pApi,
}

impl SinkKind {
    /// The setting's word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Odoo => "odoo",
            Self::SelfHosted => "self_hosted",
            Self::OpenG2pApi => "openg2p_api",
        }
    }
}

/// Where and how MTS calls back.
pub struct CallbackSettings {
    /// Which sink receives the results (`odoo` by default).
    pub sink: SinkKind,
    /// The address the self-hosted receiver listens on (`callback.listen`; that sink only).
    pub listen: Option<std::net::SocketAddr>,
    /// The callback URL (default: the Odoo sink's `call_kw` URL, derived from the Odoo base URL).
    pub url: Option<Url>,
    /// The HTTP method (POST by default).
    pub http_method: HttpMethod,
    /// MTS's callback timeout, 1 to 600 seconds (10 by default).
    pub timeout_seconds: u32,
    /// The auth type (`odoo` by default).
    pub auth_type: AuthType,
    /// The login URL for auth type `odoo` (default: the Odoo base URL's
    /// `/web/session/authenticate`).
    pub auth_url: Option<Url>,
    /// The Odoo database MTS logs in to.
    pub database: Option<String>,
    /// The Odoo login MTS uses.
    pub username: Option<String>,
    /// The Odoo password MTS uses.
    pub password: Option<SecretString>,
    /// The bearer token for auth type `staticBearer`.
    pub bearer_token: Option<SecretString>,
    /// Headers added to every callback (values may be secret).
    pub extra_headers: Headers,
    /// One callback with a JSON array instead of one per record.
    pub bulk: bool,
}

impl Default for CallbackSettings {
    fn default() -> Self {
        Self {
            sink: SinkKind::Odoo,
            listen: None,
            url: None,
            http_method: HttpMethod::Post,
            timeout_seconds: 10,
            auth_type: AuthType::Odoo,
            auth_url: None,
            database: None,
            username: None,
            password: None,
            bearer_token: None,
            extra_headers: Headers::new(),
            bulk: false,
        }
    }
}

impl fmt::Debug for CallbackSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackSettings")
            .field("url", &self.url.as_ref().map(redact_url))
            .field("http_method", &self.http_method)
            .field("timeout_seconds", &self.timeout_seconds)
            .field("auth_type", &self.auth_type)
            .field("auth_url", &self.auth_url.as_ref().map(redact_url))
            .field("database", &self.database)
            .field("username", &self.username.as_ref().map(|_| "<set>"))
            .field("password", &self.password.as_ref().map(|_| "<secret>"))
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<secret>"),
            )
            .field(
                "extra_headers",
                &self.extra_headers.keys().collect::<Vec<_>>(),
            )
            .field("bulk", &self.bulk)
            .finish()
    }
}

/// How OMC itself reaches the OpenG2P registry (Odoo's JSON-RPC API).
pub struct OdooSettings {
    /// Odoo's base URL.
    pub base_url: Url,
    /// The database.
    pub database: String,
    /// The login of the API user.
    pub login: String,
    /// Its password or API key.
    pub password: SecretString,
}

impl fmt::Debug for OdooSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooSettings")
            .field("base_url", &redact_url(&self.base_url))
            .field("database", &self.database)
            .field("login", &self.login)
            .field("password", &"<secret>")
            .finish()
    }
}

/// A connector: every setting of OpenG2P's MTS connector plus OMC's own.
///
/// Its `Debug` shows URLs without credentials, query or fragment, and no secret.
pub struct ConnectorConfig {
    /// The connector's name.
    pub name: String,
    /// The URL to reach MTS.
    pub mts_url: Url,
    /// MTS input type.
    pub input_type: InputType,
    /// MTS field to registrant field.
    pub mapping: Mapping,
    /// Output type (`json`).
    pub output_type: OutputType,
    /// The jq output format; `None` lets the callback sink choose the one it needs.
    pub output_format: Option<String>,
    /// Delivery type (`callback`).
    pub delivery_type: DeliveryType,
    /// Recurring or one time.
    pub job_type: JobType,
    /// MOSIP language (`eng`).
    pub lang: String,
    /// Interval in minutes for recurring runs.
    pub interval_minutes: u32,
    /// The registry filter (OpenG2P's default by default).
    pub filter: Domain,
    /// The registrant fields to send.
    pub fields: Vec<String>,
    /// The registry has fields of its own besides the stock model's (`model_extended`): a
    /// field the stock model lacks is a warning offline instead of an error; `omc config check
    /// --online` and a run's pre-flight check it against the registry's own model.
    pub model_extended: bool,
    /// Callback settings.
    pub callback: CallbackSettings,
    /// The VID and token id type names.
    pub id_types: IdTypes,
    /// Remove the VID once the token is read back (default yes).
    pub remove_vids: bool,
    /// Registrants whose VID is removed before each run where they hold a token; `None`: those
    /// holding ids of both types.
    pub cleanup_filter: Option<Domain>,
    /// The run ledger's file (`ledger`, relative to the configuration file); `None` when not
    /// set (the `omc` command then keeps `omc-ledger.sqlite` beside the configuration file).
    pub ledger: Option<PathBuf>,
    /// Deltas, full sweeps, attempts and retention (`[runs]`).
    pub runs: RunSettings,
    /// Records per MTS request (500).
    pub batch_size: usize,
    /// MTS requests outstanding at once (2).
    pub max_in_flight: usize,
    /// The largest request body OMC sends to MTS (for a proxy in front of MTS that limits
    /// bodies); a batch is cut to fit. `None`: no limit (MTS itself has none).
    pub max_request_bytes: Option<usize>,
    /// The fields MTS refuses a record without.
    pub mandatory_fields: MandatoryFields,
    /// How OMC reaches the registry.
    pub odoo: OdooSettings,
    /// A PEM bundle of the certificate authorities to trust instead of the system's (TLS is
    /// always verified).
    pub tls_ca_bundle: Option<PathBuf>,
    /// Where each secret setting was read from (`odoo.password`, `callback.password`,
    /// `callback.extra_headers.<name>`, ...), so the configuration can be written back without
    /// its secrets.
    pub secret_sources: BTreeMap<String, SecretSource>,
}

impl fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field, so that a new one is not forgotten here.
        let Self {
            name,
            mts_url,
            input_type,
            mapping,
            output_type,
            output_format,
            delivery_type,
            job_type,
            lang,
            interval_minutes,
            filter,
            fields,
            model_extended,
            callback,
            id_types,
            remove_vids,
            cleanup_filter,
            ledger,
            runs,
            batch_size,
            max_in_flight,
            max_request_bytes,
            mandatory_fields,
            odoo,
            tls_ca_bundle,
            secret_sources,
        } = self;
        f.debug_struct("ConnectorConfig")
            .field("name", name)
            .field("mts_url", &redact_url(mts_url))
            .field("input_type", input_type)
            .field("mapping", mapping)
            .field("output_type", output_type)
            .field("output_format", output_format)
            .field("delivery_type", delivery_type)
            .field("job_type", job_type)
            .field("lang", lang)
            .field("interval_minutes", interval_minutes)
            .field("filter", filter)
            .field("fields", fields)
            .field("model_extended", model_extended)
            .field("callback", callback)
            .field("id_types", id_types)
            .field("remove_vids", remove_vids)
            .field("cleanup_filter", cleanup_filter)
            .field("ledger", ledger)
            .field("runs", runs)
            .field("batch_size", batch_size)
            .field("max_in_flight", max_in_flight)
            .field("max_request_bytes", max_request_bytes)
            .field("mandatory_fields", mandatory_fields)
            .field("odoo", odoo)
            .field("tls_ca_bundle", tls_ca_bundle)
            .field("secret_sources", secret_sources)
            .finish()
    }
}

/// OMC's default list of fields to send.
pub fn default_fields() -> Vec<String> {
    [
        "id",
        "given_name",
        "family_name",
        "birthdate",
        "gender",
        "address",
        "email",
        "phone",
    ]
    .map(String::from)
    .to_vec()
}

impl ConnectorConfig {
    /// Every problem of this configuration at once (the same checks a loaded one passes).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = check::check(self);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError {
                source_name: format!("connector '{}'", self.name),
                problems,
            })
        }
    }

    /// A builder with every default, for a connector named `name` between the MTS at `mts_url`
    /// and the OpenG2P registry at `odoo`.
    pub fn builder(name: impl Into<String>, mts_url: Url, odoo: OdooSettings) -> ConnectorBuilder {
        ConnectorBuilder {
            config: ConnectorConfig {
                name: name.into(),
                mts_url,
                input_type: InputType::default(),
                mapping: Mapping::default(),
                output_type: OutputType::default(),
                output_format: None,
                delivery_type: DeliveryType::default(),
                job_type: JobType::default(),
                lang: "eng".into(),
                interval_minutes: 1440,
                filter: Domain::openg2p_default(),
                fields: default_fields(),
                model_extended: false,
                callback: CallbackSettings::default(),
                id_types: IdTypes::default(),
                remove_vids: true,
                cleanup_filter: None,
                ledger: None,
                runs: RunSettings::default(),
                batch_size: 500,
                max_in_flight: 2,
                max_request_bytes: None,
                mandatory_fields: MandatoryFields::default(),
                odoo,
                tls_ca_bundle: None,
                secret_sources: BTreeMap::new(),
            },
        }
    }
}

/// Builds a [`ConnectorConfig`] in code.
#[derive(Debug)]
pub struct ConnectorBuilder {
    config: ConnectorConfig,
}

impl ConnectorBuilder {
    /// Sets the mapping.
    pub fn with_mapping(mut self, mapping: Mapping) -> Self {
        self.config.mapping = mapping;
        self
    }

    /// Sets the output format.
    pub fn with_output_format(mut self, format: impl Into<String>) -> Self {
        self.config.output_format = Some(format.into());
        self
    }

    /// Sets the job type.
    pub fn with_job_type(mut self, job_type: JobType) -> Self {
        self.config.job_type = job_type;
        self
    }

    /// Sets the MOSIP language.
    pub fn with_lang(mut self, lang: impl Into<String>) -> Self {
        self.config.lang = lang.into();
        self
    }

    /// Sets the interval of recurring runs.
    pub fn with_interval_minutes(mut self, minutes: u32) -> Self {
        self.config.interval_minutes = minutes;
        self
    }

    /// Sets the registry filter.
    pub fn with_filter(mut self, filter: Domain) -> Self {
        self.config.filter = filter;
        self
    }

    /// Sets the fields to send.
    pub fn with_fields(mut self, fields: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.config.fields = fields.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the callback settings.
    pub fn with_callback(mut self, callback: CallbackSettings) -> Self {
        self.config.callback = callback;
        self
    }

    /// Sets the id type names.
    pub fn with_id_types(mut self, id_types: IdTypes) -> Self {
        self.config.id_types = id_types;
        self
    }

    /// Sets `model_extended`: the registry has fields the stock model lacks.
    pub fn with_model_extended(mut self, extended: bool) -> Self {
        self.config.model_extended = extended;
        self
    }

    /// Whether VIDs are removed once tokenised.
    pub fn with_remove_vids(mut self, remove: bool) -> Self {
        self.config.remove_vids = remove;
        self
    }

    /// Sets the cleanup filter.
    pub fn with_cleanup_filter(mut self, filter: Domain) -> Self {
        self.config.cleanup_filter = Some(filter);
        self
    }

    /// Sets the run ledger's file.
    pub fn with_ledger(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.ledger = Some(path.into());
        self
    }

    /// Sets the run settings.
    pub fn with_runs(mut self, runs: RunSettings) -> Self {
        self.config.runs = runs;
        self
    }

    /// Sets the batch size.
    pub fn with_batch_size(mut self, size: usize) -> Self {
        self.config.batch_size = size;
        self
    }

    /// Sets how many MTS requests may be outstanding.
    pub fn with_max_in_flight(mut self, n: usize) -> Self {
        self.config.max_in_flight = n;
        self
    }

    /// Sets the largest request body sent to MTS.
    pub fn with_max_request_bytes(mut self, bytes: usize) -> Self {
        self.config.max_request_bytes = Some(bytes);
        self
    }

    /// Sets MTS's mandatory fields.
    pub fn with_mandatory_fields(mut self, fields: MandatoryFields) -> Self {
        self.config.mandatory_fields = fields;
        self
    }

    /// Trusts the certificate authorities in this PEM file instead of the system's.
    pub fn with_tls_ca_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.config.tls_ca_bundle = Some(path.into());
        self
    }

    /// Records where a secret setting came from, so that it is written back as that source.
    pub fn with_secret_source(mut self, setting: impl Into<String>, source: SecretSource) -> Self {
        self.config.secret_sources.insert(setting.into(), source);
        self
    }

    /// The configuration. Check it with [`ConnectorConfig::validate`] (the adapters' wiring
    /// does, before anything is sent).
    pub fn build(self) -> ConnectorConfig {
        self.config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secrets() {
        let odoo = OdooSettings {
            base_url: "https://user:pw-in-url@odoo.example/".parse().unwrap(),
            database: "db".into(),
            login: "api".into(),
            password: SecretString::from("odoo-secret-123"),
        };
        let mut callback = CallbackSettings {
            password: Some(SecretString::from("callback-secret-456")),
            bearer_token: Some(SecretString::from("bearer-secret-789")),
            ..CallbackSettings::default()
        };
        callback
            .extra_headers
            .insert("Authorization".into(), SecretString::from("Basic c2VjcmV0"));
        let mts_url =
            "https://user:mts-secret-1@mts.example/v1/mts/?token=mts-secret-2#mts-secret-3";
        let config = ConnectorConfig::builder("c", mts_url.parse().unwrap(), odoo)
            .with_callback(callback)
            .build();
        let printed = format!("{config:?} {config:#?}");
        for secret in [
            "odoo-secret-123",
            "callback-secret-456",
            "bearer-secret-789",
            "c2VjcmV0",
            "pw-in-url",
            "mts-secret-1",
            "mts-secret-2",
            "mts-secret-3",
            "user:",
        ] {
            assert!(!printed.contains(secret), "{secret} leaked");
        }
        assert!(printed.contains("mts.example/v1/mts/"), "{printed}");
        assert_eq!(config.batch_size, 500);
        assert_eq!(config.filter, Domain::openg2p_default());
    }
}
