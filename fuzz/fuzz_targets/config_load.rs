//! Any text given to `ConnectorConfig::from_text`, as TOML and as JSON, in an empty
//! environment: it must never panic; a refusal names at least one problem, each with a setting
//! and a message; an accepted configuration passes `validate`, and the TOML and JSON it writes
//! load back to the same settings.

#![no_main]

use libfuzzer_sys::fuzz_target;
use omc_core::ConnectorConfig;
use omc_core::config::{Environment, Format};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let env = Environment::default();
    for format in [Format::Toml, Format::Json] {
        match ConnectorConfig::from_text(text, format, "fuzz", &env) {
            Err(error) => {
                assert!(!error.problems.is_empty(), "a refusal without a problem");
                for problem in &error.problems {
                    assert!(
                        !problem.setting.is_empty() && !problem.message.is_empty(),
                        "{problem:?}"
                    );
                }
                let _ = error.to_string();
            }
            Ok(config) => {
                config
                    .validate()
                    .expect("an accepted configuration validates");
                let _ = format!("{config:?}");
                for (written, format) in [
                    (config.to_toml(), Format::Toml),
                    (config.to_json(), Format::Json),
                ] {
                    let again = ConnectorConfig::from_text(&written, format, "written", &env)
                        .expect("a written configuration loads back");
                    assert_eq!(again.to_tree(), config.to_tree());
                }
            }
        }
    }
});
