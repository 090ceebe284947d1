//! A connector exported from OpenG2P (with OpenG2P's own defaults) is imported, checked, fixed,
//! and run against the emulators.

use omc::ConnectorConfig;
use omc::config::{Environment, Format, import_openg2p};
use omc::connector::Connector;
use omc::engine::{EngineSettings, WaitPolicy};
use omc::testing::synthetic;

mod common;

use common::{emulators, quick_wait};

const EXPORT: &str = r#"{
  "name": "MOSIP tokens",
  "mts_url": "http://mosip-token-seeder.mosip-token-seeder",
  "input_type": "custom",
  "mapping": "{\"vid\": \"vid\", \"name\": [\"name\"], \"gender\": \"gender\", \"dob\": \"dob\", \"phoneNumber\": \"phoneNumber\", \"emailId\": \"emailId\", \"fullAddress\": [\"fullAddress\"]}",
  "output_type": "json",
  "output_format": false,
  "delivery_type": "callback",
  "lang_code": "eng",
  "is_recurring": "onetime",
  "interval_minutes": 0,
  "g2p_search_domain": "[[\"is_registrant\",\"=\", true], [\"reg_ids.id_type\",\"=like\", \"MOSIP VID\"], \"!\", [\"reg_ids.id_type\",\"=like\",\"MOSIP UIN TOKEN\"]]",
  "g2p_selected_fields": "[\"id\", \"given_name\", \"family_name\", \"birthdate\", \"gender\", \"address\", \"email\", \"phone\"]",
  "callback_url": "ODOO/web/dataset/call_kw/g2p.reg.id/create",
  "callback_httpmethod": "POST",
  "callback_timeout": 10,
  "callback_authtype": "odoo",
  "callback_auth_url": "ODOO/web/session/authenticate",
  "callback_auth_database": "openg2p",
  "callback_auth_username": "admin",
  "callback_auth_password": "admin"
}"#;

#[tokio::test]
async fn an_imported_connector_runs_once_its_mapping_is_fixed() {
    let (odoo, mts) = emulators(synthetic(60, 11), &[]).await;
    let base = odoo.base_url().to_string();
    let export = EXPORT.replace("ODOO/", &base).replace(
        "http://mosip-token-seeder.mosip-token-seeder",
        mts.base_url().as_str(),
    );
    let imported = import_openg2p(&export, "export.json").unwrap();
    let env = Environment::from_vars([
        ("OMC_CALLBACK__PASSWORD", "admin"),
        ("OMC_ODOO__PASSWORD", "admin"),
    ]);
    let refused = ConnectorConfig::from_text(&imported.toml, Format::Toml, "imported.toml", &env)
        .unwrap_err();
    assert!(
        refused
            .problems
            .iter()
            .all(|p| p.setting.starts_with("mapping.")),
        "{refused}"
    );
    let fixed = imported
        .toml
        .replace(
            "name = [\"name\"]",
            "name = [\"given_name\", \"family_name\"]",
        )
        .replace("dob = \"dob\"", "dob = \"birthdate\"")
        .replace("phoneNumber = \"phoneNumber\"", "phoneNumber = \"phone\"")
        .replace("emailId = \"emailId\"", "emailId = \"email\"")
        .replace(
            "fullAddress = [\"fullAddress\"]",
            "fullAddress = [\"address\"]",
        );
    let config = ConnectorConfig::from_text(&fixed, Format::Toml, "fixed.toml", &env).unwrap();
    let mut settings = EngineSettings::from(&config);
    settings.wait = quick_wait(WaitPolicy::default().readback_base);
    let connector = Connector::new(&config, settings).unwrap();
    let report = connector.engine.run_once().await.unwrap();
    assert_eq!(
        (report.selected, report.tokenised, report.vids_removed),
        (60, 60, 60),
        "{report:?}"
    );
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 60);
    assert_eq!(odoo.count_ids("MOSIP VID"), 0);
}
