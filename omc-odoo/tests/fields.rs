//! The Odoo emulator's `fields_get`, and `OdooClient::field_model` over it: the emulator
//! describes each field as the real Odoo 17 + OpenG2P does (the stock model, read from one),
//! and a deployment's own fields appear in the live model.

use omc_core::domain::{Domain, FieldModel, FieldType};
use omc_core::testing::synthetic_one;
use omc_odoo::emulator::OdooEmulator;
use serde_json::json;

#[tokio::test]
async fn the_emulator_describes_its_fields_as_odoo_17_does() {
    let odoo = OdooEmulator::builder().start().await.expect("emulator");
    let mut seed = synthetic_one(1, 1);
    seed.fields
        .expose_mut()
        .insert("x_kebele".into(), json!("North"));
    odoo.seed([seed]);
    let client = odoo.client("admin", "admin");
    let stock = FieldModel::stock();
    let mut compared = 0;
    for model in ["res.partner", "g2p.reg.id", "g2p.id.type"] {
        let answer = client.fields_get(model).await.expect("fields_get");
        let fields = answer.as_object().expect("an object of fields");
        for (field, description) in fields {
            for key in description.as_object().unwrap().keys() {
                assert!(
                    ["type", "relation", "store", "searchable"].contains(&key.as_str()),
                    "{model}.{field}: only the attributes asked for, not {key}"
                );
            }
            if field == "x_kebele" {
                continue;
            }
            let live = FieldModel::new()
                .with_fields_get(model, &json!({ field: description }))
                .unwrap();
            assert_eq!(
                live.field(model, field),
                stock.field(model, field),
                "{model}.{field}: the emulator's type is the real Odoo's"
            );
            assert_eq!(
                live.is_searchable(model, field),
                stock.is_searchable(model, field),
                "{model}.{field}: searchable as on the real Odoo"
            );
            compared += 1;
        }
    }
    assert!(compared >= 40, "{compared} fields compared");
    let all = client
        .execute_kw(
            "res.partner",
            "fields_get",
            json!([["gender", "reg_ids"]]),
            json!({}),
        )
        .await
        .unwrap();
    assert_eq!(
        all,
        json!({
            "gender": {"type": "selection", "string": "Gender", "store": true, "searchable": true,
                       "sortable": true, "required": false, "readonly": false},
            "reg_ids": {"type": "one2many", "string": "Reg", "relation": "g2p.reg.id",
                        "store": true, "searchable": true, "sortable": true, "required": false,
                        "readonly": false},
        })
    );
    let unknown = client.fields_get("res.country").await.unwrap_err();
    assert!(unknown.to_string().contains("res.country"), "{unknown}");
    odoo.shutdown().await;
}

#[tokio::test]
async fn the_live_model_follows_the_filter_and_holds_the_deployments_fields() {
    let odoo = OdooEmulator::builder().start().await.expect("emulator");
    let mut seed = synthetic_one(1, 1);
    seed.fields
        .expose_mut()
        .insert("x_kebele".into(), json!("North"));
    odoo.seed([seed]);
    let client = odoo.client("admin", "admin");
    let filter = Domain::parse(
        r#"[["x_kebele", "=", "North"], ["reg_ids.id_type.name", "=", "MOSIP VID"], ["company_id.name", "=", "X"]]"#,
    )
    .unwrap();
    odoo.reset_calls();
    let model = client
        .field_model(&[&filter])
        .await
        .expect("the live model");
    assert_eq!(
        model.field("res.partner", "x_kebele"),
        Some(&FieldType::Char)
    );
    assert!(!model.is_searchable("res.partner", "display_name"));
    assert!(
        model.has_model("g2p.id.type"),
        "read because the filter reaches it"
    );
    assert!(!model.has_model("res.company"));
    assert!(filter.validate(&model, "res.partner").is_ok());
    assert_eq!(odoo.calls("g2p.id.type", "fields_get"), 1);
    assert_eq!(
        odoo.calls("res.company", "fields_get"),
        1,
        "tried once: the emulator has no res.company"
    );
    let plain = client
        .field_model(&[&Domain::parse("[]").unwrap()])
        .await
        .unwrap();
    assert!(!plain.has_model("g2p.id.type"), "nothing reaches it");
    let wrong = odoo.client("admin", "wrong");
    assert!(wrong.field_model(&[&filter]).await.is_err());
    odoo.shutdown().await;
}
