//! Field models read from Odoo: the stock model OMC ships (a table read from a real Odoo 17 +
//! OpenG2P, `stock_model.tsv`), and a live one from `fields_get` answers.

use super::model::{FieldModel, FieldType};
use super::{CriterionValue, Domain};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The models OMC's filters start from: registrants and their ids.
pub const ROOT_MODELS: [&str; 2] = ["res.partner", "g2p.reg.id"];

/// The stock model's table (its header says how it was read).
const STOCK_TABLE: &str = include_str!("stock_model.tsv");

/// A `fields_get` answer that cannot be read as a field model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fields_get of {model}: {problem}")]
pub struct FieldsGetError {
    /// The model asked about.
    pub model: String,
    /// What is wrong with the answer (never a value of a record: fields_get holds none).
    pub problem: String,
}

impl FieldModel {
    /// Every field Odoo 17 with OpenG2P's registry modules has on `res.partner` and
    /// `g2p.reg.id`, and on each model their relations reach, with what a domain can search,
    /// read from a real registry (see the table `omc-core/src/domain/stock_model.tsv`): what
    /// a configuration is checked against offline. A deployment's own fields are not in it.
    pub fn stock() -> Self {
        static STOCK: OnceLock<FieldModel> = OnceLock::new();
        STOCK
            .get_or_init(|| {
                parse_table(STOCK_TABLE).unwrap_or_else(|line| {
                    // The table is part of the source; its unit test parses every line.
                    panic!("stock_model.tsv line {line} is malformed")
                })
            })
            .clone()
    }

    /// This model with `model` described as Odoo's `fields_get` answers it (the attributes
    /// `type`, `relation` and `searchable` are read), replacing what it said of `model`
    /// before. A field without `searchable` (res.users' `in_group_*`, which a domain refuses)
    /// and one of a type Odoo 17 does not have are left out.
    pub fn with_fields_get(mut self, model: &str, answer: &Value) -> Result<Self, FieldsGetError> {
        let problem = |problem: &str| FieldsGetError {
            model: model.to_owned(),
            problem: problem.to_owned(),
        };
        let fields = answer
            .as_object()
            .ok_or_else(|| problem("the answer is not an object of fields"))?;
        self.forget(model);
        let mut any = false;
        for (name, description) in fields {
            let odoo_type = description
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| problem(&format!("field '{name}' has no type")))?;
            let relation = description.get("relation").and_then(Value::as_str);
            let (Some(field_type), Some(searchable)) = (
                FieldType::from_odoo(odoo_type, relation),
                description.get("searchable").and_then(Value::as_bool),
            ) else {
                continue;
            };
            self.insert(model, name, field_type, searchable);
            any = true;
        }
        if !any {
            return Err(problem("no field at all"));
        }
        Ok(self)
    }

    /// The models `domain`'s paths (from `root`) reach that this model does not describe:
    /// what to read next to check it all. A path stops at the first unknown field.
    pub fn missing_models(&self, domain: &Domain, root: &str) -> BTreeSet<String> {
        let mut missing = BTreeSet::new();
        self.reach(domain, root, &mut missing);
        missing
    }

    fn reach(&self, domain: &Domain, root: &str, missing: &mut BTreeSet<String>) {
        if !self.has_model(root) {
            missing.insert(root.to_owned());
            return;
        }
        match domain {
            Domain::True | Domain::False => {}
            Domain::Leaf(c) => {
                let mut current = root.to_owned();
                let parts: Vec<&str> = c.path.split('.').collect();
                for (i, part) in parts.iter().enumerate() {
                    let Some(target) = self.field(&current, part).and_then(FieldType::target)
                    else {
                        return;
                    };
                    let last = i + 1 == parts.len();
                    if last && !matches!(c.value, CriterionValue::Domain(_)) {
                        return;
                    }
                    if !self.has_model(target) {
                        missing.insert(target.to_owned());
                        return;
                    }
                    current = target.to_owned();
                }
                if let CriterionValue::Domain(sub) = &c.value {
                    self.reach(sub, &current, missing);
                }
            }
            Domain::And(chain) | Domain::Or(chain) => {
                for (_, term) in chain.parts() {
                    self.reach(term, root, missing);
                }
            }
            Domain::Not(a) => self.reach(a, root, missing),
            Domain::All(terms) => {
                for t in terms {
                    self.reach(t, root, missing);
                }
            }
        }
    }
}

/// The table's rows as a model, or the number of the first malformed line.
fn parse_table(table: &str) -> Result<FieldModel, usize> {
    let mut model = FieldModel::new();
    for (i, line) in table.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let [name, field, odoo_type, relation, search] = cols[..] else {
            return Err(i + 1);
        };
        let relation = (relation != "-").then_some(relation);
        let searchable = match search {
            "yes" => true,
            "ignored" => false,
            _ => return Err(i + 1),
        };
        let field_type = FieldType::from_odoo(odoo_type, relation).ok_or(i + 1)?;
        model.insert(name, field, field_type, searchable);
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_stock_table_reads_whole() {
        let stock = parse_table(STOCK_TABLE).expect("every line parses");
        let rows = STOCK_TABLE
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count();
        let fields: usize = stock.models().map(|m| stock.fields_of(m).count()).sum();
        assert_eq!(fields, rows, "one field per row, no duplicates");
        for root in ROOT_MODELS {
            for field in stock.fields_of(root) {
                if let Some(target) = stock.field(root, field).and_then(FieldType::target) {
                    assert!(stock.has_model(target), "{root}.{field} reaches {target}");
                }
            }
        }
        for (model, field) in [
            ("res.partner", "country_id"),
            ("res.partner", "city"),
            ("res.partner", "mobile"),
            ("res.partner", "tags_ids"),
            ("res.partner", "phone_number_ids"),
            ("res.partner", "complete_name"),
            ("res.partner", "reg_ids"),
            ("res.country", "code"),
            ("g2p.reg.id", "id_type"),
            ("g2p.id.type", "name"),
        ] {
            assert!(stock.is_searchable(model, field), "{model}.{field}");
        }
        assert_eq!(
            stock.field("res.partner", "country_id"),
            Some(&FieldType::Many2one("res.country".into()))
        );
        // Known, but Odoo 17 ignores a criterion on it.
        assert!(stock.field("res.partner", "display_name").is_some());
        assert!(!stock.is_searchable("res.partner", "display_name"));
        assert!(stock.field("res.users", "in_group_12").is_none());
    }

    #[test]
    fn malformed_rows_are_named_by_line() {
        assert_eq!(parse_table("# c\nm\tf\tchar\t-\tyes\nm\tg\tchar\n"), Err(3));
        assert_eq!(parse_table("m\tf\tmany2one\t-\tyes"), Err(1));
        assert_eq!(parse_table("m\tf\tchar\t-\tmaybe"), Err(1));
    }

    #[test]
    fn fields_get_answers_become_a_model() {
        let answer = json!({
            "name": {"type": "char", "searchable": true, "store": true},
            "display_name": {"type": "char", "searchable": false, "store": false},
            "country_id": {"type": "many2one", "relation": "res.country", "searchable": true},
            "in_group_3": {"type": "boolean", "string": "Bypass"},
            "x_odd": {"type": "no_such_type", "searchable": true},
        });
        let model = FieldModel::new()
            .with_fields_get("res.partner", &answer)
            .unwrap();
        assert!(model.is_searchable("res.partner", "name"));
        assert!(!model.is_searchable("res.partner", "display_name"));
        assert!(model.field("res.partner", "in_group_3").is_none());
        assert!(model.field("res.partner", "x_odd").is_none());
        assert!(model.is_searchable("res.partner", "id"));
        let e = FieldModel::new()
            .with_fields_get("res.partner", &json!({"name": {"searchable": true}}))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "fields_get of res.partner: field 'name' has no type"
        );
        assert!(FieldModel::new().with_fields_get("m", &json!([])).is_err());
        let d = Domain::parse(
            r#"[["country_id.code", "=", "PH"], ["reg_ids", "any", [["id_type.name", "=", "X"]]], ["name", "=", "a"]]"#,
        )
        .unwrap();
        assert_eq!(
            model.missing_models(&d, "res.partner"),
            BTreeSet::from(["res.country".to_owned()])
        );
        assert_eq!(
            FieldModel::stock().missing_models(&d, "res.partner"),
            BTreeSet::new()
        );
        let deep = Domain::parse(r#"[["country_id.currency_id.name", "=", "PHP"]]"#).unwrap();
        assert_eq!(
            FieldModel::stock().missing_models(&deep, "res.partner"),
            BTreeSet::from(["res.currency".to_owned()])
        );
    }
}
