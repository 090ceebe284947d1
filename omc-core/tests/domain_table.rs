//! The domain conformance tables through the evaluator and the in-memory registry.
#![cfg(feature = "conformance")]

use omc_core::conformance::domain::{cases, malformed, registrants, registry};
use omc_core::domain::{Domain, FieldModel};
use omc_core::memory::MemoryRegistry;
use omc_core::{CandidateQuery, IdTypes, Registry};
use std::collections::BTreeSet;

#[test]
fn the_table_is_large_enough() {
    assert!(cases().len() >= 120, "{} cases", cases().len());
    assert!(malformed().iter().filter(|c| c.odoo.is_some()).count() >= 20);
}

#[test]
fn every_case_through_the_evaluator() {
    let registry = registry();
    let ids =
        |d: &Domain| -> Vec<i64> { registry.selected(d).into_iter().map(|id| id.0).collect() };
    let mut failures = Vec::new();
    for case in cases().into_iter().filter(|c| !c.odoo_only) {
        let domain = Domain::parse(case.text).unwrap();
        let got = ids(&domain);
        if got != case.expected {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.text, case.expected, got
            ));
        }
        // Normalising never changes which records match.
        let normal = domain.normalize();
        let again = ids(&normal);
        assert_eq!(again, got, "normal form of {}", case.text);
        assert_eq!(
            domain
                .validate(&FieldModel::openg2p(), "res.partner")
                .is_ok(),
            case.checked,
            "whether OMC's check accepts {}",
            case.text
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn every_case_through_the_memory_registry() {
    let registry = MemoryRegistry::with_seeds(IdTypes::default(), registrants());
    let mut failures = Vec::new();
    for case in cases().into_iter().filter(|c| !c.odoo_only) {
        // Pages of 4, to exercise keyset paging.
        let mut got = Vec::new();
        let mut after = None;
        loop {
            let query = CandidateQuery {
                filter: Domain::parse(case.text).unwrap(),
                fields: vec!["id".into()],
                after,
                limit: 4,
            };
            let page = registry.candidates(&query).await.unwrap();
            let Some(last) = page.last() else { break };
            after = Some(last.id);
            got.extend(page.iter().map(|c| c.id.0));
        }
        if got != case.expected {
            failures.push(format!(
                "{}: expected {:?}, got {:?}",
                case.text, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_malformed_filter_is_refused_with_its_own_message() {
    let model = FieldModel::openg2p();
    let mut seen = BTreeSet::new();
    let mut failures = Vec::new();
    for case in malformed() {
        match Domain::parse_checked(case.text, &model, "res.partner") {
            Ok(_) => failures.push(format!("{}: accepted", case.text)),
            Err(e) => {
                let message = e.to_string();
                if message != case.message {
                    failures.push(format!(
                        "{}:\n  expected {}\n  got      {message}",
                        case.text, case.message
                    ));
                }
                assert!(seen.insert(message), "{}: message not its own", case.text);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn what_omc_adds_keeps_the_operators_meaning() {
    let operator =
        Domain::parse(r#"["|", ["gender", "=", "Male"], ["is_group", "=", true]]"#).unwrap();
    let filter = operator
        .for_connector(&IdTypes::default())
        .and(Domain::id_between(1, 12));
    assert_eq!(
        filter.to_json(),
        serde_json::json!([
            "&",
            "&",
            "|",
            ["gender", "=", "Male"],
            ["is_group", "=", true],
            ["reg_ids", "any", [["id_type", "=", "MOSIP VID"]]],
            "&",
            ["id", ">=", 1],
            ["id", "<=", 12]
        ])
    );
    let got: Vec<i64> = registry()
        .selected(&filter)
        .into_iter()
        .map(|id| id.0)
        .collect();
    assert_eq!(got, [2, 7, 10]);
}
