//! Properties of the domain language over generated domains: parse → write → parse is the
//! identity (from JSON and from the Python-literal form), and normalisation never changes which
//! records match.
#![cfg(feature = "conformance")]

use omc_core::conformance::domain::registry;
use omc_core::domain::Domain;
use proptest::prelude::*;
use serde_json::{Value, json};

const FIELDS: [&str; 12] = [
    "id",
    "name",
    "gender",
    "birthdate",
    "income",
    "is_group",
    "is_registrant",
    "active",
    "occupation",
    "reg_ids",
    "reg_ids.id_type",
    "reg_ids.value",
];
const OPERATORS: [&str; 15] = [
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "=?",
    "in",
    "not in",
    "like",
    "not like",
    "ilike",
    "not ilike",
    "=like",
    "=ilike",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(false)),
        Just(json!(true)),
        Just(Value::Null),
        (-5i64..3000).prop_map(|n| json!(n)),
        Just(json!(100.5)),
        prop::sample::select(vec![
            "Male",
            "Female",
            "",
            "amina",
            "Banda",
            "%farmer",
            "_armer",
            "MOSIP VID",
            "MOSIP%",
            "NATIONAL ID",
            "1980-05-01",
            "it's",
            "NAT-1%",
        ])
        .prop_map(|s| json!(s)),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(FIELDS.to_vec()),
        prop::sample::select(OPERATORS.to_vec()),
        scalar(),
        prop::collection::vec(scalar(), 0..4),
    )
        .prop_map(|(field, op, one, many)| match op {
            "in" | "not in" => json!([field, op, many]),
            _ => json!([field, op, one]),
        })
}

/// One prefix expression, as a list of domain elements.
fn expression() -> impl Strategy<Value = Vec<Value>> {
    let base = prop_oneof![
        8 => leaf().prop_map(|l| vec![l]),
        1 => Just(vec![json!([1, "=", 1])]),
        1 => Just(vec![json!([0, "=", 1])]),
    ];
    base.prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| [vec![json!("!")], e].concat()),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| [vec![json!("&")], a, b].concat()),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| [vec![json!("|")], a, b].concat()),
            (prop::bool::ANY, prop::collection::vec(inner, 0..3)).prop_map(|(negated, terms)| {
                let sub: Vec<Value> = terms.concat();
                vec![json!([
                    "reg_ids",
                    if negated { "not any" } else { "any" },
                    sub
                ])]
            }),
        ]
    })
}

fn domain_json() -> impl Strategy<Value = Value> {
    prop::collection::vec(expression(), 0..4).prop_map(|terms| Value::Array(terms.concat()))
}

/// The Python-literal form of a JSON domain: tuples for criteria, single quotes, True/None.
fn python(value: &Value, criterion: bool) -> String {
    match value {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Value::Array(items) if criterion && items.len() == 3 => format!(
            "({}, {}, {})",
            python(&items[0], false),
            python(&items[1], false),
            python(&items[2], false)
        ),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|i| python(i, i.is_array()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(_) => unreachable!("generated domains hold no objects"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_write_parse_is_the_identity(json in domain_json()) {
        let domain = Domain::from_json(&json).expect("generated domains are well formed");
        prop_assert_eq!(&domain.to_json(), &json);
        let again = Domain::parse(&domain.to_json().to_string()).unwrap();
        prop_assert_eq!(&again, &domain);
        let from_python = Domain::parse(&python(&json, false)).unwrap();
        prop_assert_eq!(&from_python, &domain);
        // The normal form is a fixed point, and so is the canonical text.
        let normal = domain.normalize();
        prop_assert_eq!(&Domain::from_json(&normal.to_json()).unwrap(), &normal);
        prop_assert_eq!(Domain::parse(&domain.canonical()).unwrap().canonical(), domain.canonical());
    }

    #[test]
    fn normalisation_never_changes_which_records_match(json in domain_json()) {
        let domain = Domain::from_json(&json).unwrap();
        let normal = domain.normalize();
        let registry = registry();
        prop_assert_eq!(registry.selected(&domain), registry.selected(&normal));
        // Nor does ANDing with what matches everything.
        let widened = domain.clone().and(Domain::parse("[]").unwrap());
        prop_assert_eq!(registry.selected(&domain), registry.selected(&widened));
    }
}
