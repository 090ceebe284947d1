//! Writing a configuration back (TOML or JSON): every setting but the secrets, which appear only
//! as where they are read from.

use super::secret::SecretSource;
use super::{AuthType, ConnectorConfig, JobType};
use secrecy::ExposeSecret;
use serde_json::{Map, Value, json};

impl ConnectorConfig {
    /// The configuration as a tree: what [`to_toml`](Self::to_toml) and
    /// [`to_json`](Self::to_json) write. Secrets given in code are left out.
    pub fn to_tree(&self) -> Value {
        let mut root = Map::new();
        root.insert("name".into(), json!(self.name));
        root.insert("mts_url".into(), json!(self.mts_url.as_str()));
        root.insert("input_type".into(), json!("openg2p_registry"));
        root.insert("output_type".into(), json!("json"));
        root.insert("delivery_type".into(), json!("callback"));
        root.insert(
            "job_type".into(),
            json!(if self.job_type == JobType::OneTime {
                "one_time"
            } else {
                "recurring"
            }),
        );
        root.insert("lang".into(), json!(self.lang));
        root.insert("interval_minutes".into(), json!(self.interval_minutes));
        if let Some(format) = &self.output_format {
            root.insert("output_format".into(), json!(format));
        }
        root.insert("filter".into(), json!(self.filter.to_json().to_string()));
        root.insert("fields".into(), json!(self.fields));
        if self.model_extended {
            root.insert("model_extended".into(), json!(true));
        }
        root.insert("vid_id_type".into(), json!(self.id_types.vid));
        root.insert("token_id_type".into(), json!(self.id_types.token));
        root.insert("remove_vids".into(), json!(self.remove_vids));
        if let Some(filter) = &self.cleanup_filter {
            root.insert("cleanup_filter".into(), json!(filter.to_json().to_string()));
        }
        if let Some(path) = &self.ledger {
            root.insert("ledger".into(), json!(path.display().to_string()));
        }
        let r = &self.runs;
        root.insert(
            "runs".into(),
            json!({
                "delta_overlap_minutes": r.delta_overlap_minutes,
                "full_sweep_days": r.full_sweep_days,
                "max_attempts": r.max_attempts,
                "retention_days": r.retention_days,
                "retry_seconds": r.retry_seconds,
                "health_check_seconds": r.health_check_seconds,
            }),
        );
        if let Some(run_at) = r.run_at
            && let Some(runs) = root.get_mut("runs").and_then(|v| v.as_object_mut())
        {
            runs.insert("run_at".into(), json!(run_at.to_string()));
        }
        root.insert("batch_size".into(), json!(self.batch_size));
        root.insert("max_in_flight".into(), json!(self.max_in_flight));
        if let Some(bytes) = self.max_request_bytes {
            root.insert("max_request_bytes".into(), json!(bytes));
        }
        root.insert(
            "mandatory_fields".into(),
            json!(
                self.mandatory_fields
                    .0
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
            ),
        );
        root.insert(
            "mapping".into(),
            serde_json::to_value(&self.mapping).unwrap_or_default(),
        );
        root.insert("callback".into(), self.callback_tree());
        let mut odoo = Map::new();
        odoo.insert("base_url".into(), json!(self.odoo.base_url.as_str()));
        odoo.insert("database".into(), json!(self.odoo.database));
        odoo.insert("login".into(), json!(self.odoo.login));
        self.write_secret(&mut odoo, "odoo.password", "password");
        root.insert("odoo".into(), Value::Object(odoo));
        if let Some(path) = &self.tls_ca_bundle {
            root.insert(
                "tls".into(),
                json!({"ca_bundle": path.display().to_string()}),
            );
        }
        Value::Object(root)
    }

    fn callback_tree(&self) -> Value {
        let c = &self.callback;
        let mut t = Map::new();
        t.insert("sink".into(), json!(c.sink.as_str()));
        if let Some(listen) = &c.listen {
            t.insert("listen".into(), json!(listen.to_string()));
        }
        if let Some(url) = &c.url {
            t.insert("url".into(), json!(url.as_str()));
        }
        t.insert("http_method".into(), json!(c.http_method.as_str()));
        t.insert("timeout_seconds".into(), json!(c.timeout_seconds));
        let auth = match c.auth_type {
            AuthType::Odoo => "odoo",
            AuthType::StaticBearer => "staticBearer",
            AuthType::None => "none",
        };
        t.insert("auth_type".into(), json!(auth));
        if let Some(url) = &c.auth_url {
            t.insert("auth_url".into(), json!(url.as_str()));
        }
        if let Some(db) = &c.database {
            t.insert("database".into(), json!(db));
        }
        if let Some(user) = &c.username {
            t.insert("username".into(), json!(user));
        }
        self.write_secret(&mut t, "callback.password", "password");
        self.write_secret(&mut t, "callback.bearer_token", "bearer_token");
        t.insert("bulk".into(), json!(c.bulk));
        let mut headers = Map::new();
        for (name, value) in &c.extra_headers {
            let source = self
                .secret_sources
                .get(&format!("callback.extra_headers.{name}"));
            let written = match source {
                Some(SecretSource::Plain) => json!(value.expose_secret()),
                Some(SecretSource::Env(var)) => json!({"env": var}),
                Some(SecretSource::File(path)) => json!({"file": path.display().to_string()}),
                Some(SecretSource::Code) | None => continue,
            };
            headers.insert(name.clone(), written);
        }
        if !headers.is_empty() {
            t.insert("extra_headers".into(), Value::Object(headers));
        }
        Value::Object(t)
    }

    fn write_secret(&self, table: &mut Map<String, Value>, setting: &str, key: &str) {
        match self.secret_sources.get(setting) {
            Some(SecretSource::Env(var)) => {
                table.insert(format!("{key}_env"), json!(var));
            }
            Some(SecretSource::File(path)) => {
                table.insert(format!("{key}_file"), json!(path.display().to_string()));
            }
            _ => {}
        }
    }

    /// The configuration as TOML, secrets only as their sources.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.to_tree()).unwrap_or_default()
    }

    /// The configuration as JSON, secrets only as their sources.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.to_tree()).unwrap_or_default()
    }
}
