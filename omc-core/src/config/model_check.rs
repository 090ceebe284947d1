//! A configuration's filters and fields against a [`FieldModel`]: the stock model offline
//! (where `model_extended` turns unknown fields into warnings), the registry's own model
//! online (`omc config check --online`, a run's pre-flight check).

use super::ConnectorConfig;
use super::problems::closest;
use crate::domain::{Domain, FieldModel, ProblemKind};

/// The model registrants live in: `filter`, `cleanup_filter` and `fields` are read on it.
pub const REGISTRANT_MODEL: &str = "res.partner";

/// One problem of a configuration against a field model.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelProblem {
    /// The setting (`filter`, `cleanup_filter`, `fields[2]`).
    pub setting: String,
    /// What is wrong, with the closest known field when one is close.
    pub message: String,
    /// The problem is a field or model the model does not know (rather than a known field
    /// used wrongly): what `model_extended` makes a warning offline.
    pub unknown: bool,
}

/// The settings a field model is asked about, kept apart from their configuration (a
/// connector holds them to check the registry's own model before each run).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSettings {
    /// `filter`.
    pub filter: Domain,
    /// `cleanup_filter`.
    pub cleanup_filter: Option<Domain>,
    /// `fields`.
    pub fields: Vec<String>,
}

impl ModelSettings {
    /// The settings of `config`.
    pub fn of(config: &ConnectorConfig) -> Self {
        Self {
            filter: config.filter.clone(),
            cleanup_filter: config.cleanup_filter.clone(),
            fields: config.fields.clone(),
        }
    }

    /// The filters, for reading the models their paths reach.
    pub fn filters(&self) -> Vec<&Domain> {
        std::iter::once(&self.filter)
            .chain(self.cleanup_filter.as_ref())
            .collect()
    }

    /// Every problem of the filters and fields against `model` (see
    /// [`ConnectorConfig::check_model`]).
    pub fn check(&self, model: &FieldModel) -> Vec<ModelProblem> {
        check(
            &self.fields,
            &self.filter,
            self.cleanup_filter.as_ref(),
            model,
        )
    }
}

impl ConnectorConfig {
    /// Every problem of `filter`, `cleanup_filter` and `fields` against `model`: unknown
    /// fields (with "did you mean"), paths through plain fields, fields Odoo cannot search,
    /// values of the wrong type.
    pub fn check_model(&self, model: &FieldModel) -> Vec<ModelProblem> {
        check(
            &self.fields,
            &self.filter,
            self.cleanup_filter.as_ref(),
            model,
        )
    }

    /// What the stock model does not know of this configuration's filters and fields, when
    /// `model_extended` is set (else these are errors of [`validate`](Self::validate)).
    pub fn model_warnings(&self) -> Vec<ModelProblem> {
        if !self.model_extended {
            return Vec::new();
        }
        self.check_model(&FieldModel::stock())
            .into_iter()
            .filter(|p| p.unknown)
            .collect()
    }
}

fn check(
    fields: &[String],
    filter: &Domain,
    cleanup_filter: Option<&Domain>,
    model: &FieldModel,
) -> Vec<ModelProblem> {
    let mut out = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if model.field(REGISTRANT_MODEL, f).is_none() {
            let hint = closest(f, model.fields_of(REGISTRANT_MODEL))
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_default();
            out.push(ModelProblem {
                setting: format!("fields[{i}]"),
                message: format!("'{f}' is not a registrant field{hint}"),
                unknown: true,
            });
        }
    }
    let filters = [("filter", Some(filter)), ("cleanup_filter", cleanup_filter)];
    for (setting, filter) in filters {
        let Some(Err(problems)) = filter.map(|f| f.validate(model, REGISTRANT_MODEL)) else {
            continue;
        };
        for problem in problems {
            out.push(ModelProblem {
                setting: setting.to_owned(),
                message: problem.to_string(),
                unknown: matches!(
                    problem.kind,
                    ProblemKind::UnknownField { .. } | ProblemKind::UnknownModel { .. }
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{CallbackSettings, OdooSettings};
    use crate::domain::{Domain, FieldType};
    use secrecy::SecretString;

    fn config(filter: &str, fields: &[&str], extended: bool) -> ConnectorConfig {
        let odoo = OdooSettings {
            base_url: "http://odoo.invalid/".parse().unwrap(),
            database: "omc".into(),
            login: "omc".into(),
            password: SecretString::from("p"),
        };
        ConnectorConfig::builder("t", "http://mts.invalid/".parse().unwrap(), odoo)
            .with_filter(Domain::parse(filter).unwrap())
            .with_fields(
                super::super::default_fields()
                    .into_iter()
                    .chain(fields.iter().map(|f| (*f).to_owned())),
            )
            .with_model_extended(extended)
            .with_callback(CallbackSettings {
                database: Some("omc".into()),
                username: Some("mts".into()),
                password: Some(SecretString::from("q")),
                ..CallbackSettings::default()
            })
            .build()
    }

    fn shown(problems: &[ModelProblem]) -> Vec<String> {
        problems
            .iter()
            .map(|p| format!("{}: {}", p.setting, p.message))
            .collect()
    }

    #[test]
    fn the_stock_model_takes_what_the_registry_has() {
        let c = config(
            r#"[["is_registrant", "=", true], ["country_id.code", "=", "PH"], ["city", "ilike", "x"],
                ["tags_ids.name", "=", "t"], ["phone_number_ids.phone_no", "!=", false],
                "|", ["mobile", "!=", false], ["complete_name", "ilike", "a"]]"#,
            &["mobile", "city", "country_code"],
            false,
        );
        assert_eq!(
            shown(&c.check_model(&FieldModel::stock())),
            Vec::<String>::new()
        );
        if let Err(e) = c.validate() {
            panic!("{e}");
        }
    }

    #[test]
    fn unknown_fields_are_errors_unless_the_model_is_extended() {
        let c = config(
            r#"[["x_kebele", "=", "North"], ["birth_date", "<", "2000-01-01"]]"#,
            &["x_household_size", "givenname"],
            false,
        );
        let expected = [
            "fields[8]: 'x_household_size' is not a registrant field",
            "fields[9]: 'givenname' is not a registrant field; did you mean 'given_name'?",
            "filter: element 0: unknown field 'x_kebele' on res.partner",
            "filter: element 1: unknown field 'birth_date' on res.partner; did you mean 'birthdate'?",
        ];
        let problems = c.check_model(&FieldModel::stock());
        assert_eq!(shown(&problems), expected);
        assert!(problems.iter().all(|p| p.unknown));
        let refused = c.validate().unwrap_err().to_string();
        for line in expected {
            let (setting, message) = line.split_once(": ").unwrap();
            assert!(
                refused.contains(setting) && refused.contains(message),
                "{refused}"
            );
        }
        assert!(c.model_warnings().is_empty());

        let extended = config(
            r#"[["x_kebele", "=", "North"], ["birth_date", "<", "2000-01-01"]]"#,
            &["x_household_size", "givenname"],
            true,
        );
        assert!(extended.validate().is_ok());
        assert_eq!(shown(&extended.model_warnings()), expected);
        // The registry's own model knows the deployment's fields.
        let live = FieldModel::stock()
            .with_field("res.partner", "x_kebele", FieldType::Char)
            .with_field("res.partner", "x_household_size", FieldType::Integer);
        assert_eq!(
            shown(&extended.check_model(&live)),
            [
                "fields[9]: 'givenname' is not a registrant field; did you mean 'given_name'?",
                "filter: element 1: unknown field 'birth_date' on res.partner; did you mean 'birthdate'?",
            ]
        );
    }

    #[test]
    fn a_known_field_used_wrongly_stays_an_error_when_extended() {
        let c = config(
            r#"[["display_name", "ilike", "a"], ["income", "=", "lots"], ["city.name", "=", "x"]]"#,
            &[],
            true,
        );
        let problems = c.check_model(&FieldModel::stock());
        assert_eq!(
            shown(&problems),
            [
                "filter: element 0: 'display_name' on res.partner cannot be searched (it is neither stored nor searchable): Odoo ignores the criterion and selects every record",
                "filter: element 1: 'income' on res.partner is a float field; '=' cannot compare it with a string",
                "filter: element 2: the path continues after 'city' on res.partner, a char field, not a relation",
            ]
        );
        assert!(problems.iter().all(|p| !p.unknown));
        assert!(c.validate().is_err());
        assert!(c.model_warnings().is_empty());
    }
}
