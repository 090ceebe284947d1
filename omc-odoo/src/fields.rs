//! The registry's own field model, read with `fields_get`: what `omc config check --online`
//! and a run's pre-flight check hold a configuration's filters and fields against.

use crate::client::OdooClient;
use crate::error::OdooError;
use omc_core::domain::{Domain, FieldModel, ROOT_MODELS};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// How many times the co-models a filter reaches are read, one relation deeper each time.
const MAX_DEPTH: usize = 8;

impl OdooClient {
    /// `fields_get` of `model`, with the attributes a field model needs (`type`, `relation`,
    /// `store`, `searchable`).
    pub async fn fields_get(&self, model: &str) -> Result<Value, OdooError> {
        self.execute_kw(
            model,
            "fields_get",
            json!([]),
            json!({"attributes": ["type", "relation", "store", "searchable"]}),
        )
        .await
    }

    /// The registry's field model: `res.partner` and `g2p.reg.id` (both must answer), and each
    /// model the `filters`' paths reach from `res.partner`, read as far as the paths go. A
    /// co-model Odoo does not describe to this user (no access, no such model) is left out, so
    /// the rest of a path into it is not checked.
    pub async fn field_model(&self, filters: &[&Domain]) -> Result<FieldModel, OdooError> {
        let mut model = FieldModel::new();
        for root in ROOT_MODELS {
            let answer = self.fields_get(root).await?;
            model = model
                .with_fields_get(root, &answer)
                .map_err(|e| protocol(root, e))?;
        }
        let mut refused = BTreeSet::new();
        for _ in 0..MAX_DEPTH {
            let missing: BTreeSet<String> = filters
                .iter()
                .flat_map(|f| model.missing_models(f, omc_core::config::REGISTRANT_MODEL))
                .filter(|m| !refused.contains(m))
                .collect();
            if missing.is_empty() {
                break;
            }
            for name in missing {
                let read = match self.fields_get(&name).await {
                    Ok(answer) => model.clone().with_fields_get(&name, &answer).ok(),
                    Err(OdooError::Server { .. }) => None,
                    Err(other) => return Err(other),
                };
                match read {
                    Some(read) => model = read,
                    None => {
                        tracing::debug!(model = %name, "fields_get refused; paths into it not checked");
                        refused.insert(name);
                    }
                }
            }
        }
        Ok(model)
    }
}

fn protocol(model: &str, e: omc_core::domain::FieldsGetError) -> OdooError {
    OdooError::Protocol {
        context: format!("{model}.fields_get"),
        problem: e.problem,
    }
}
