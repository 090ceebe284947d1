//! The domain language's conformance tables: a fixture registry, domains with the registrant
//! ids Odoo 17 gives for them, and malformed filters with the refusal each must get.
//!
//! OMC runs [`cases`] through the evaluator (over the [`registrants`]), the in-memory registry and, over
//! JSON-RPC, the Odoo emulator; [`malformed`] locally and against the emulator. An embedder that
//! evaluates domains in its own registry runs [`cases`] against it.
//!
//! The fixture (`registrants`, active unless said otherwise; ids held in brackets):
//!
//! | id | who | ids |
//! |---|---|---|
//! | 1 | Amina Abebe, Female, 1980-05-01, income 100.5, farmer | VID |
//! | 2 | Bashir Banda, Male, 1990-01-15, income 2000, teacher | VID, token |
//! | 3 | Chiara Chukwu, Female, 2001-12-31 | token |
//! | 4 | Dawit Diallo, Male, no birthdate, farmer | none |
//! | 5 | Esi Eze, Female, 1975-07-07, income 350, trader | VID, national id |
//! | 6 | Farid Fofana, Male, 1985-03-03 — **archived** | VID |
//! | 7 | "Banda Household", a **group**, income 5000 | VID |
//! | 8 | "Example Ltd", **not a registrant** | none |
//! | 9 | Imani Juma, no gender, 1999-09-09, income 0, "50% farmer" | national id |
//! | 10 | Jomo Kamau, Male, 1980-05-01, income 1200.75, "Farmer" | VID |
//! | 11 | Kofi Haile, Male, 1970-01-01 — **archived** | VID, token |
//! | 12 | amina abebe (lower case), Female, 1960-02-29, income 100.5 | VID, national id |
//! | 13 | Lina Gueye, Female, 1995-06-15, `is_registrant` false | VID |
//! | 14 | Grace O'Neil, Female, 2010-10-10, income -5, teacher | token, national id |
//! | 15 | "Kamau Household", a group — **archived** | token |
//! | 16 | "Odoo Contact": a name only, `is_registrant` and `is_group` unset (NULL in Odoo) | none |
//!
//! Every expected answer was read from a real Odoo 17 + OpenG2P holding these records (the
//! opt-in test in `omc-odoo/tests/domain_table.rs` creates them there and compares live).

use crate::memory::MemoryRegistry;
use crate::memory::RegistrantSeed;
use crate::pii::Token;
use crate::registry::IdTypes;
use serde_json::{Map, Value, json};

/// The VID id type of the fixture.
pub const VID: &str = "MOSIP VID";
/// The token id type of the fixture.
pub const TOKEN: &str = "MOSIP UIN TOKEN";
/// The third id type of the fixture.
pub const NATIONAL_ID: &str = "NATIONAL ID";

/// The national ids of the fixture: (registrant, value). Adapters create them as `g2p.reg.id`
/// rows of type [`NATIONAL_ID`]; the seeds carry them in their `reg_ids` field too.
pub const NATIONAL_IDS: [(i64, &str); 4] = [
    (5, "NAT-100005"),
    (9, "NAT-200009"),
    (12, "NAT-100012"),
    (14, "NAT-300014"),
];

/// The fixture registrants, with their VIDs and tokens; ids of other types are in each seed's
/// `reg_ids` field as `[{"id_type": .., "value": ..}]` (the in-memory registry reads them from
/// there; an adapter creates them from [`NATIONAL_IDS`]).
pub fn registrants() -> Vec<RegistrantSeed> {
    let person = |id: i64, given: &str, family: &str, fields: Value| {
        let mut map = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        map.insert("given_name".into(), json!(given));
        map.insert("family_name".into(), json!(family));
        (id, Value::Object(map))
    };
    let rows = [
        person(
            1,
            "Amina",
            "Abebe",
            json!({"birthdate": "1980-05-01", "gender": "Female", "income": 100.5, "occupation": "farmer", "email": "amina@example.org"}),
        ),
        person(
            2,
            "Bashir",
            "Banda",
            json!({"birthdate": "1990-01-15", "gender": "Male", "income": 2000, "occupation": "teacher"}),
        ),
        person(
            3,
            "Chiara",
            "Chukwu",
            json!({"birthdate": "2001-12-31", "gender": "Female", "email": "chiara@example.org"}),
        ),
        person(
            4,
            "Dawit",
            "Diallo",
            json!({"birthdate": false, "gender": "Male", "occupation": "farmer"}),
        ),
        person(
            5,
            "Esi",
            "Eze",
            json!({"birthdate": "1975-07-07", "gender": "Female", "income": 350, "occupation": "trader", "email": "esi@example.net"}),
        ),
        person(
            6,
            "Farid",
            "Fofana",
            json!({"birthdate": "1985-03-03", "gender": "Male", "income": 10, "occupation": "farmer", "active": false}),
        ),
        (
            7,
            json!({"name": "Banda Household", "is_group": true, "gender": false, "income": 5000}),
        ),
        (
            8,
            json!({"name": "Example Ltd", "is_registrant": false, "email": "info@example.com"}),
        ),
        person(
            9,
            "Imani",
            "Juma",
            json!({"birthdate": "1999-09-09", "gender": false, "income": 0, "occupation": "50% farmer"}),
        ),
        person(
            10,
            "Jomo",
            "Kamau",
            json!({"birthdate": "1980-05-01", "gender": "Male", "income": 1200.75, "occupation": "Farmer", "email": "jomo@example.org"}),
        ),
        person(
            11,
            "Kofi",
            "Haile",
            json!({"birthdate": "1970-01-01", "gender": "Male", "active": false}),
        ),
        person(
            12,
            "amina",
            "abebe",
            json!({"birthdate": "1960-02-29", "gender": "Female", "income": 100.5}),
        ),
        person(
            13,
            "Lina",
            "Gueye",
            json!({"birthdate": "1995-06-15", "gender": "Female", "is_registrant": false}),
        ),
        person(
            14,
            "Grace",
            "O'Neil",
            json!({"birthdate": "2010-10-10", "gender": "Female", "income": -5, "occupation": "teacher"}),
        ),
        (
            15,
            json!({"name": "Kamau Household", "is_group": true, "active": false}),
        ),
        (16, json!({"name": "Odoo Contact"})),
    ];
    let vids = [1, 2, 5, 6, 7, 10, 11, 12, 13];
    let tokens = [2, 3, 11, 14, 15];
    rows.into_iter()
        .map(|(id, fields)| {
            let vid = vids.contains(&id).then(|| format!("49183500000{id:05}"));
            let mut seed = RegistrantSeed::individual(id, fields, vid.as_deref());
            if id == UNSET_BOOLEANS {
                let fields = seed.fields.expose_mut();
                fields.remove("is_registrant");
                fields.remove("is_group");
            }
            if tokens.contains(&id) {
                seed.token = Some(Token::new(format!("token-of-{id}")));
            }
            let others: Vec<Value> = NATIONAL_IDS
                .iter()
                .filter(|(holder, _)| *holder == id)
                .map(|(_, value)| json!({"id_type": NATIONAL_ID, "value": value}))
                .collect();
            if !others.is_empty() {
                seed.fields.0.insert("reg_ids".into(), Value::Array(others));
            }
            seed
        })
        .collect()
}

/// The fixture registrant created with only a name: its booleans are unset (NULL in Odoo).
pub const UNSET_BOOLEANS: i64 = 16;

/// One domain and the registrants a search with it returns, in id order.
#[derive(Debug, Clone)]
pub struct DomainCase {
    /// The domain as an operator writes it: JSON, or the Python-literal form.
    pub text: &'static str,
    /// The ids Odoo 17 returns for it on the fixture.
    pub expected: Vec<i64>,
    /// The search's `active_test` context flag (`false`: archived records too).
    pub active_test: bool,
    /// Whether the answer depends on what Odoo stores on create beyond the domain language
    /// (its defaults, `registration_date` and `company_id`) or on the search's context: such
    /// rows hold for the Odoo emulator and the real Odoo, not for a registry that stores only
    /// what it is given (the in-memory one).
    pub odoo_only: bool,
    /// Whether OMC's own check of a filter ([`crate::domain::Domain::validate`]) accepts it;
    /// `false` for what Odoo answers but OMC refuses before sending (a boolean compared with
    /// text, where Odoo reads `"false"` as true).
    pub checked: bool,
}

fn case(text: &'static str, expected: Vec<i64>) -> DomainCase {
    DomainCase {
        text,
        expected,
        active_test: true,
        odoo_only: false,
        checked: true,
    }
}

/// A case OMC's check refuses (see [`DomainCase::checked`]).
fn unchecked(text: &'static str, expected: Vec<i64>) -> DomainCase {
    DomainCase {
        checked: false,
        ..case(text, expected)
    }
}

/// A case on Odoo's stored defaults (see [`DomainCase::odoo_only`]).
fn stored_defaults(text: &'static str, expected: Vec<i64>) -> DomainCase {
    DomainCase {
        odoo_only: true,
        ..case(text, expected)
    }
}

/// A case searched with `active_test` false in the context.
fn archived_too(text: &'static str, expected: Vec<i64>) -> DomainCase {
    DomainCase {
        active_test: false,
        odoo_only: true,
        ..case(text, expected)
    }
}

/// The active fixture registrants in `res.partner`'s default order (`complete_name ASC, id
/// DESC`, text compared bytewise as in a database with the C collation, which OpenG2P's
/// installs use): what `search` and `search_read` give without an `order`. OMC itself always
/// names its order; this is for emulators.
pub fn default_order() -> Vec<i64> {
    vec![1, 7, 2, 3, 4, 8, 5, 13, 9, 10, 14, 16, 12]
}

impl DomainCase {
    /// The domain as JSON (what goes over JSON-RPC).
    pub fn json(&self) -> Value {
        crate::domain::Domain::parse(self.text)
            .unwrap_or_else(|e| panic!("case {} does not parse: {e}", self.text))
            .to_json()
    }
}

/// The domain cases, each with its expected registrant ids.
pub fn cases() -> Vec<DomainCase> {
    let raw: Vec<(&'static str, Vec<i64>)> = vec![
        // The empty domain, TRUE_LEAF and FALSE_LEAF; the archived rule.
        ("[]", vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16]),
        (
            r#"[[1, "=", 1]]"#,
            vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        (r#"[[0, "=", 1]]"#, vec![]),
        (r#"["|", [0, "=", 1], ["id", "=", 4]]"#, vec![4]),
        (r#"[["active", "=", false]]"#, vec![6, 11, 15]),
        (
            r#"[["active", "in", [true, false]]]"#,
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        ),
        (
            r#"["|", ["active", "=", false], ["active", "=", true]]"#,
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        ),
        (
            r#"[["is_group", "=", true], ["active", "in", [true, false]]]"#,
            vec![7, 15],
        ),
        // OpenG2P's default filter, in both forms.
        (
            r#"[["is_registrant", "=", true], ["reg_ids.id_type", "=like", "MOSIP VID"], "!", ["reg_ids.id_type", "=like", "MOSIP UIN TOKEN"]]"#,
            vec![1, 5, 7, 10, 12],
        ),
        (
            "[('is_registrant','=',True),('reg_ids.id_type','=like','MOSIP VID'),'!',('reg_ids.id_type','=like','MOSIP UIN TOKEN')]",
            vec![1, 5, 7, 10, 12],
        ),
        (
            r#"[["reg_ids.id_type", "=like", "MOSIP VID"], "!", ["reg_ids.id_type", "=like", "MOSIP UIN TOKEN"], ["active", "=", false]]"#,
            vec![6],
        ),
        // Booleans: `= false` takes empty values; `!= true` too.
        (
            r#"[["is_registrant", "=", true]]"#,
            vec![1, 2, 3, 4, 5, 7, 9, 10, 12, 14],
        ),
        (r#"[["is_registrant", "=", false]]"#, vec![8, 13, 16]),
        (
            r#"[["is_group", "!=", true]]"#,
            vec![1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 14, 16],
        ),
        // Selections and text: equality, emptiness, lists with false.
        (r#"[["gender", "=", "Female"]]"#, vec![1, 3, 5, 12, 13, 14]),
        (r#"[["gender", "=", false]]"#, vec![7, 8, 9, 16]),
        (
            r#"[["gender", "!=", false]]"#,
            vec![1, 2, 3, 4, 5, 10, 12, 13, 14],
        ),
        (
            r#"[["gender", "!=", "Female"]]"#,
            vec![2, 4, 7, 8, 9, 10, 16],
        ),
        (
            r#"[["gender", "in", ["Male", false]]]"#,
            vec![2, 4, 7, 8, 9, 10, 16],
        ),
        (
            r#"[["gender", "not in", ["Male", false]]]"#,
            vec![1, 3, 5, 12, 13, 14],
        ),
        (
            r#"[["gender", "not in", ["Male"]]]"#,
            vec![1, 3, 5, 7, 8, 9, 12, 13, 14, 16],
        ),
        (r#"[["gender", "in", []]]"#, vec![]),
        (
            r#"[["gender", "not in", []]]"#,
            vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        (
            r#"[["gender", "=", ["Male", "Female"]]]"#,
            vec![1, 2, 3, 4, 5, 10, 12, 13, 14],
        ),
        (r#"[["gender", "in", false]]"#, vec![]),
        (
            r#"["!", ["gender", "in", ["Male", "Female"]]]"#,
            vec![7, 8, 9, 16],
        ),
        (
            r#"[["family_name", "in", ["O'Neil", "Juma"]]]"#,
            vec![9, 14],
        ),
        // Dates: comparisons never take empty values, and "!" turns `<` into `>=`.
        (r#"[["birthdate", "<", "1980-05-01"]]"#, vec![5, 12]),
        (r#"[["birthdate", "<=", "1980-05-01"]]"#, vec![1, 5, 10, 12]),
        (r#"[["birthdate", ">", "2000-01-01"]]"#, vec![3, 14]),
        (r#"[["birthdate", ">=", "1999-09-09"]]"#, vec![3, 9, 14]),
        (
            r#"["!", ["birthdate", "<", "1980-05-01"]]"#,
            vec![1, 2, 3, 9, 10, 13, 14],
        ),
        (r#"[["birthdate", "=", false]]"#, vec![4, 7, 8, 16]),
        (
            "[('gender', '=', 'Male'), ('birthdate', '<', '1985-01-01')]",
            vec![10],
        ),
        // Numbers, zero is not empty; `=?`.
        (r#"[["income", ">", 100]]"#, vec![1, 2, 5, 7, 10, 12]),
        (r#"[["income", "<", 0]]"#, vec![14]),
        (r#"[["income", "=", 0]]"#, vec![9]),
        (r#"[["income", "=", false]]"#, vec![3, 4, 8, 13, 16]),
        (
            r#"[["income", "!=", 100.5]]"#,
            vec![2, 3, 4, 5, 7, 8, 9, 10, 13, 14, 16],
        ),
        (
            r#"[["income", "=?", false]]"#,
            vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        (r#"[["income", "=?", 100.5]]"#, vec![1, 12]),
        (r#"[["name", "=?", null], ["id", "<", 3]]"#, vec![1, 2]),
        // The like family.
        (r#"[["name", "like", "Banda"]]"#, vec![2, 7]),
        (r#"[["name", "ilike", "amina"]]"#, vec![1, 12]),
        (r#"[["name", "like", "amina"]]"#, vec![12]),
        (
            r#"[["name", "not ilike", "household"]]"#,
            vec![1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 14, 16],
        ),
        (
            r#"[["occupation", "not like", "farmer"]]"#,
            vec![2, 3, 5, 7, 8, 10, 12, 13, 14, 16],
        ),
        (r#"[["occupation", "=like", "Farmer"]]"#, vec![10]),
        (r#"[["occupation", "=ilike", "farmer"]]"#, vec![1, 4, 10]),
        (r#"[["occupation", "=like", "%farmer"]]"#, vec![1, 4, 9]),
        (r#"[["occupation", "=like", "50\\% farmer"]]"#, vec![9]),
        (r#"[["occupation", "=like", "_armer"]]"#, vec![1, 4, 10]),
        (r#"[["email", "=ilike", "%@EXAMPLE.ORG"]]"#, vec![1, 3, 10]),
        (r#"[["email", "like", "example"]]"#, vec![1, 3, 5, 8, 10]),
        ("[('name', 'ilike', 'o\\'neil')]", vec![14]),
        // Ids: lists, ranges, keyset.
        (r#"[["id", "in", [1, 2, 3, 6]]]"#, vec![1, 2, 3]),
        (r#"[["id", ">", 10]]"#, vec![12, 13, 14, 16]),
        (r#"["&", ["id", ">=", 3], ["id", "<=", 5]]"#, vec![3, 4, 5]),
        (
            r#"[["id", "not in", [1, 2, 3]]]"#,
            vec![4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        // One2many paths: any related record; "!" in front: none.
        (
            r#"[["reg_ids.id_type", "=", "NATIONAL ID"]]"#,
            vec![5, 9, 12, 14],
        ),
        (
            r#"[["reg_ids.id_type", "=like", "MOSIP%"]]"#,
            vec![1, 2, 3, 5, 7, 10, 12, 13, 14],
        ),
        (
            r#"[["reg_ids.id_type", "!=", "MOSIP VID"]]"#,
            vec![2, 3, 5, 9, 12, 14],
        ),
        (
            r#"[["reg_ids.id_type", "not in", ["MOSIP VID"]]]"#,
            vec![2, 3, 5, 9, 12, 14],
        ),
        (
            r#"["!", ["reg_ids.id_type", "=", "MOSIP VID"]]"#,
            vec![3, 4, 8, 9, 14, 16],
        ),
        (
            r#"[["reg_ids.id_type", "in", ["MOSIP UIN TOKEN", "NATIONAL ID"]]]"#,
            vec![2, 3, 5, 9, 12, 14],
        ),
        (
            r#"[["reg_ids.id_type.name", "=", "MOSIP VID"], ["gender", "=", "Male"]]"#,
            vec![2, 10],
        ),
        (r#"[["reg_ids.value", "=", "NAT-200009"]]"#, vec![9]),
        (
            r#"[["reg_ids.partner_id.name", "ilike", "abebe"]]"#,
            vec![1, 12],
        ),
        (r#"[["reg_ids.partner_id", "=", "Eze, Esi"]]"#, vec![5]),
        // A one2many compared with false; any / not any.
        (r#"[["reg_ids", "=", false]]"#, vec![4, 8, 16]),
        (
            r#"[["reg_ids", "!=", false]]"#,
            vec![1, 2, 3, 5, 7, 9, 10, 12, 13, 14],
        ),
        (
            r#"[["reg_ids", "any", []]]"#,
            vec![1, 2, 3, 5, 7, 9, 10, 12, 13, 14],
        ),
        (
            r#"[["reg_ids", "any", [["id_type", "=", "MOSIP UIN TOKEN"]]]]"#,
            vec![2, 3, 14],
        ),
        (
            r#"[["reg_ids", "not any", [["id_type", "=", "MOSIP UIN TOKEN"]]]]"#,
            vec![1, 4, 5, 7, 8, 9, 10, 12, 13, 16],
        ),
        (
            r#"[["reg_ids", "any", [["id_type.name", "ilike", "national"], ["value", "=like", "NAT-1%"]]]]"#,
            vec![5, 12],
        ),
        // Prefix operators.
        (
            r#"["|", ["gender", "=", "Male"], ["is_group", "=", true]]"#,
            vec![2, 4, 7, 10],
        ),
        (
            r#"["!", "|", ["gender", "=", "Male"], ["is_group", "=", true]]"#,
            vec![1, 3, 5, 8, 9, 12, 13, 14, 16],
        ),
        (
            r#"["&", ["is_registrant", "=", true], "|", ["reg_ids.id_type", "=", "NATIONAL ID"], ["income", ">", 1000]]"#,
            vec![2, 5, 7, 9, 10, 12, 14],
        ),
    ];
    let mut cases: Vec<DomainCase> = raw.into_iter().map(|(t, e)| case(t, e)).collect();
    cases.extend(differences());
    cases
}

/// The kinds of criteria where a simpler reading of Odoo's rules goes wrong, each answered by
/// the real Odoo 17.
fn differences() -> Vec<DomainCase> {
    vec![
        // `!=` adds "or unset" only for a value that is true in Python.
        case(r#"[["occupation", "!=", ""]]"#, vec![1, 2, 4, 5, 9, 10, 14]),
        case(r#"[["income", "!=", 0]]"#, vec![1, 2, 5, 7, 10, 12, 14]),
        case(
            r#"[["gender", "!=", ""]]"#,
            vec![1, 2, 3, 4, 5, 10, 12, 13, 14],
        ),
        case(
            r#"[["income", "!=", false]]"#,
            vec![1, 2, 5, 7, 9, 10, 12, 14],
        ),
        // "!" in front of `=?`, `=like`, `=ilike` stays a SQL NOT: unset values drop out.
        case(
            r#"["!", ["occupation", "=like", "farmer"]]"#,
            vec![2, 5, 9, 10, 14],
        ),
        case(
            r#"["!", ["occupation", "=ilike", "farmer"]]"#,
            vec![2, 5, 9, 14],
        ),
        case(
            r#"["!", ["income", "=?", 100.5]]"#,
            vec![2, 5, 7, 9, 10, 14],
        ),
        case(r#"["!", ["income", "=?", false]]"#, vec![]),
        case(r#"["!", ["email", "=like", "%.org"]]"#, vec![5, 8]),
        // like/ilike with an empty value match everything, unset values too.
        case(
            r#"[["occupation", "like", ""]]"#,
            vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        case(
            r#"[["occupation", "ilike", false]]"#,
            vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        case(
            r#"[["occupation", "not like", ""]]"#,
            vec![3, 7, 8, 12, 13, 16],
        ),
        case(
            r#"[["occupation", "not ilike", false]]"#,
            vec![3, 7, 8, 12, 13, 16],
        ),
        case(r#"[["occupation", "=like", ""]]"#, vec![]),
        // Dates as PostgreSQL reads them.
        case(
            r#"[["birthdate", "<", "1980-05-01 12:00:00"]]"#,
            vec![5, 12],
        ),
        case(
            r#"[["birthdate", "=", "1980-05-01T10:00:00"]]"#,
            vec![1, 10],
        ),
        case(r#"[["birthdate", ">", "19800501"]]"#, vec![2, 3, 9, 13, 14]),
        case(r#"[["birthdate", "<", "1980-5-1"]]"#, vec![5, 12]),
        case(r#"[["birthdate", "=", "May 1, 1980"]]"#, vec![1, 10]),
        case(r#"[["birthdate", "<=", "05/01/1980"]]"#, vec![1, 5, 10, 12]),
        // Values converted to the field's type.
        case(r#"[["income", "=", "100.5"]]"#, vec![1, 12]),
        case(r#"[["income", ">", "1000"]]"#, vec![2, 7, 10]),
        unchecked(r#"[["is_group", "=", "false"]]"#, vec![7]),
        unchecked(
            r#"[["is_group", "=", ""]]"#,
            vec![1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 14],
        ),
        // `in` with an empty value makes a whole domain false; inside it, it means "unset".
        case(r#"[["gender", "in", false]]"#, vec![]),
        case(
            r#"["|", ["gender", "in", false], ["gender", "=", "Male"]]"#,
            vec![2, 4, 7, 8, 9, 10, 16],
        ),
        case(
            r#"["!", ["gender", "in", false]]"#,
            vec![1, 2, 3, 4, 5, 10, 12, 13, 14],
        ),
        case(
            r#"["|", ["gender", "in", []], ["is_group", "=", true]]"#,
            vec![7],
        ),
        case(r#"[["is_group", "=", true], ["gender", "in", []]]"#, vec![]),
        // A many2one compared with a name by `<`, `>`: Odoo reads it as `=`.
        case(
            r#"[["reg_ids.id_type", "<", "MOSIP VID"]]"#,
            vec![1, 2, 5, 7, 10, 12, 13],
        ),
        case(r#"[["reg_ids.id_type", ">", "MOSIP"]]"#, vec![]),
        case(
            r#"[["reg_ids.id_type", ">=", "NATIONAL ID"]]"#,
            vec![5, 9, 12, 14],
        ),
        // An x2many compared with a string: g2p.reg.id is searched by its registrant's name.
        case(r#"[["reg_ids", "=", "MOSIP VID"]]"#, vec![]),
        case(r#"[["reg_ids", "ilike", "abebe"]]"#, vec![1, 12]),
        case(r#"[["reg_ids", "=", "Eze, Esi"]]"#, vec![5]),
        case(
            r#"[["reg_ids", "!=", "Eze, Esi"]]"#,
            vec![1, 2, 3, 4, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        case(r#"[["reg_ids", "like", "Banda"]]"#, vec![2, 7]),
        // Unset booleans are NULL, not false.
        case(r#"[["is_registrant", "<", true]]"#, vec![8, 13]),
        case(
            r#"[["is_registrant", "not in", [false]]]"#,
            vec![1, 2, 3, 4, 5, 7, 9, 10, 12, 14],
        ),
        case(
            r#"[["is_registrant", "!=", false]]"#,
            vec![1, 2, 3, 4, 5, 7, 9, 10, 12, 14],
        ),
        case(
            r#"[["is_group", "in", [true, false]]]"#,
            vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        unchecked(r#"[["is_registrant", "=", ""]]"#, vec![8, 13]),
        // Odoo's stored defaults.
        stored_defaults(r#"[["registration_date", "=", false]]"#, vec![]),
        stored_defaults(r#"[["company_id", "=", false]]"#, vec![]),
        stored_defaults(
            r#"[["registration_date", "!=", false], ["company_id", "=", 1]]"#,
            vec![1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14, 16],
        ),
        // The `active_test` context flag.
        archived_too(
            "[]",
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16],
        ),
        archived_too(r#"[["is_group", "=", true]]"#, vec![7, 15]),
        archived_too(
            r#"[["reg_ids.id_type", "=", "MOSIP UIN TOKEN"]]"#,
            vec![2, 3, 11, 14, 15],
        ),
    ]
}

/// How Odoo answers a malformed domain: its exception's name and the start of its message.
#[derive(Debug, Clone, Copy)]
pub struct OdooRefusal {
    /// `error.data.name`, e.g. `builtins.ValueError`.
    pub name: &'static str,
    /// How `error.data.message` starts.
    pub message: &'static str,
}

/// A filter OMC must refuse, and the message it refuses it with.
#[derive(Debug, Clone)]
pub struct MalformedCase {
    /// The filter as an operator wrote it.
    pub text: &'static str,
    /// OMC's message: [`crate::domain::FilterError`]'s `Display` (parsing, then validation
    /// against OpenG2P's field model on `res.partner`).
    pub message: &'static str,
    /// Odoo's answer when the filter (JSON only) is sent to it; `None` for text that cannot be
    /// sent as JSON, and for what Odoo accepts but OMC refuses.
    pub odoo: Option<OdooRefusal>,
}

/// The malformed filters.
pub fn malformed() -> Vec<MalformedCase> {
    let value_error = |message| {
        Some(OdooRefusal {
            name: "builtins.ValueError",
            message,
        })
    };
    let raw: Vec<(&'static str, &'static str, Option<OdooRefusal>)> = vec![
        (
            r#"["&", ["name", "=", "x"]]"#,
            "element 0: '&' needs 2 operand(s), found 1",
            value_error("Domain ['&', ['name', '=', 'x']] is syntactically not correct."),
        ),
        (
            r#"["|"]"#,
            "element 0: '|' needs 2 operand(s), found 0",
            value_error("Domain ['|'] is syntactically not correct."),
        ),
        (
            r#"[["name", "=", "x"], "!"]"#,
            "element 1: '!' needs 1 operand(s), found 0",
            value_error("Domain [['name', '=', 'x'], '!'] is syntactically not correct."),
        ),
        (
            r#"[["is_group", "=", true], "&"]"#,
            "element 1: '&' needs 2 operand(s), found 0",
            value_error("Domain [['is_group', '=', True], '&'] is syntactically not correct."),
        ),
        (
            r#"[["name", "lik", "x"]]"#,
            "element 0: unknown operator 'lik' in the criterion on 'name'; did you mean 'like'?",
            value_error("Invalid leaf ('name', 'lik', 'x')"),
        ),
        (
            r#"[["gender", "==", "Male"]]"#,
            "element 0: unknown operator '==' in the criterion on 'gender'; did you mean '='?",
            value_error("Invalid leaf ('gender', '==', 'Male')"),
        ),
        (
            r#"[["gender", "Female", "="]]"#,
            "element 0: unknown operator (a string of 6 characters) in the criterion on 'gender'",
            value_error("Invalid leaf ('gender', 'Female', '=')"),
        ),
        (
            r#"[["name", "="]]"#,
            "element 0: a criterion has 3 parts [field, operator, value], found 2",
            value_error("Invalid leaf ('name', '=')"),
        ),
        (
            r#"[["is_group", "=", true, false]]"#,
            "element 0: a criterion has 3 parts [field, operator, value], found 4",
            value_error("Invalid leaf ('is_group', '=', True, False)"),
        ),
        (
            r#"[[]]"#,
            "element 0: a criterion has 3 parts [field, operator, value], found 0",
            value_error("Invalid leaf ()"),
        ),
        (
            r#"[[5, "=", "x"]]"#,
            "element 0: the field of a criterion must be a string, found an integer",
            value_error("Invalid leaf (5, '=', 'x')"),
        ),
        (
            r#"[["", "=", "x"]]"#,
            "element 0: the field path of a criterion has an empty part",
            value_error("Invalid leaf ('', '=', 'x')"),
        ),
        (
            r#"[["name", 5, "x"]]"#,
            "element 0: the operator of the criterion on 'name' must be a string, found an integer",
            value_error("Invalid leaf ('name', 5, 'x')"),
        ),
        (
            r#"[["is_group", "=", true], "and"]"#,
            "element 1: expected a criterion [field, operator, value] or '&', '|', '!', found the string (a string of 3 characters)",
            value_error("Invalid leaf and"),
        ),
        (
            r#"[5]"#,
            "element 0: expected a criterion [field, operator, value] or '&', '|', '!', found an integer",
            value_error("Invalid leaf 5"),
        ),
        (
            r#"[null]"#,
            "element 0: expected a criterion [field, operator, value] or '&', '|', '!', found null",
            value_error("Invalid leaf None"),
        ),
        (
            r#"[{"name": "x"}]"#,
            "element 0: expected a criterion [field, operator, value] or '&', '|', '!', found an object",
            Some(OdooRefusal {
                name: "builtins.TypeError",
                message: "unhashable type: 'dict'",
            }),
        ),
        (
            r#"{"name": "x"}"#,
            "the filter: a domain must be a list of criteria, found an object",
            value_error("Domains to normalize must have a 'domain' form"),
        ),
        (
            r#"[["gender", "in", "Male"]]"#,
            "element 0: 'in' on 'gender' takes a list, found a string",
            value_error("Invalid domain term ('gender', 'in', 'Male')"),
        ),
        (
            r#"[["reg_ids", "any", "MOSIP VID"]]"#,
            "element 0: 'any' on 'reg_ids' takes a sub-domain (a list of criteria), found a string",
            value_error("Invalid domain term ('reg_ids', 'any', 'MOSIP VID')"),
        ),
        (
            r#"[["name", "like", ["a", "b"]]]"#,
            "element 0: 'like' on 'name' takes a single value, found a list",
            value_error("Invalid domain term ('name', 'like', ['a', 'b'])"),
        ),
        (
            r#"[["name", "=", {"first": "x"}]]"#,
            "element 0: '=' on 'name' takes a value or a list, found an object",
            value_error("Invalid domain term ('name', '=', {'first': 'x'})"),
        ),
        (
            r#"[["reg_ids", "any", [["id_type", "==", "X"]]]]"#,
            "element 0, sub-domain element 0: unknown operator '==' in the criterion on 'id_type'; did you mean '='?",
            value_error("Invalid leaf ('id_type', '==', 'X')"),
        ),
        (
            r#"[["reg_ids", "any", ["&"]]]"#,
            "element 0, sub-domain element 0: '&' needs 2 operand(s), found 0",
            value_error("Domain ['&'] is syntactically not correct."),
        ),
        (
            r#"[["birth_date", "=", "2000-01-01"]]"#,
            "element 0: unknown field 'birth_date' on res.partner; did you mean 'birthdate'?",
            value_error(
                "Invalid field res.partner.birth_date in leaf ('birth_date', '=', '2000-01-01')",
            ),
        ),
        (
            r#"[["name.first", "=", "x"]]"#,
            "element 0: the path continues after 'name' on res.partner, a char field, not a relation",
            value_error("Invalid field res.partner.name in leaf ('name.first', '=', 'x')"),
        ),
        (
            r#"[["reg_ids.kind", "=", "x"]]"#,
            "element 0: unknown field 'kind' on g2p.reg.id",
            value_error("Invalid field g2p.reg.id.kind in leaf"),
        ),
        (
            r#"[["gender", "any", [["name", "=", "x"]]]]"#,
            "element 0: 'any' takes a relational field, but 'gender' on res.partner is not one",
            value_error("Invalid domain term ('gender', 'any', [['name', '=', 'x']])"),
        ),
        (
            r#"[["income", "=", "lots"]]"#,
            "element 0: 'income' on res.partner is a float field; '=' cannot compare it with a string",
            None,
        ),
        (
            r#"[["birthdate", ">", "yesterday"]]"#,
            "element 0: 'birthdate' on res.partner is a date field; '>' cannot compare it with a string",
            None,
        ),
        (
            r#"[["is_group", "=", "yes"], ["id", "in", [1, "two"]]]"#,
            "element 0: 'is_group' on res.partner is a boolean field; '=' cannot compare it with a string; element 1: 'id' on res.partner is a integer field; 'in' cannot compare it with a string",
            None,
        ),
        (
            r#"[["name", "child_of", 1]]"#,
            "element 0: operator 'child_of' is not supported by OMC",
            Some(OdooRefusal {
                name: "builtins.KeyError",
                message: "child_of",
            }),
        ),
        // A hierarchy operator on a model without `parent_id`; the Odoo emulator also answers
        // this for `res.partner`, whose hierarchy it does not hold.
        (
            r#"[["reg_ids.id_type", "parent_of", 1]]"#,
            "element 0: operator 'parent_of' is not supported by OMC",
            Some(OdooRefusal {
                name: "builtins.KeyError",
                message: "parent_id",
            }),
        ),
        // Operators in upper case, and `=like` where PostgreSQL has no LIKE.
        (
            r#"[["name", "LIKE", "Banda"]]"#,
            "element 0: unknown operator 'LIKE' in the criterion on 'name'; did you mean 'like'?",
            value_error("Invalid leaf ('name', 'LIKE', 'Banda')"),
        ),
        (
            r#"[["gender", "In", ["Male"]]]"#,
            "element 0: unknown operator 'In' in the criterion on 'gender'; did you mean 'in'?",
            value_error("Invalid leaf ('gender', 'In', ['Male'])"),
        ),
        (
            r#"[["is_group", "=like", "t%"]]"#,
            "element 0: 'is_group' on res.partner is a boolean field; '=like' cannot compare it with a string",
            Some(OdooRefusal {
                name: "psycopg2.errors.UndefinedFunction",
                message: "operator does not exist: text ~~ boolean",
            }),
        ),
        (
            r#"[["is_registrant", "=ilike", "t%"]]"#,
            "element 0: 'is_registrant' on res.partner is a boolean field; '=ilike' cannot compare it with a string",
            Some(OdooRefusal {
                name: "psycopg2.errors.UndefinedFunction",
                message: "operator does not exist: text ~~* boolean",
            }),
        ),
        (
            r#"[["income", "=like", "100%"]]"#,
            "element 0: 'income' on res.partner is a float field; '=like' cannot compare it with a string",
            value_error("could not convert string to float: '100%'"),
        ),
        (
            r#"[["income", "=ilike", "100"]]"#,
            "element 0: 'income' on res.partner is a float field; '=ilike' cannot compare it with a string",
            Some(OdooRefusal {
                name: "psycopg2.errors.UndefinedFunction",
                message: "operator does not exist: text ~~* numeric",
            }),
        ),
        (
            "[('name', '=', 'x')",
            "filter text, line 1 column 20: expected ',' or ']'",
            None,
        ),
        (
            "[('birthdate', '<', context_today())]",
            "filter text, line 1 column 21: only literals are allowed in a filter (no names or calls such as context_today())",
            None,
        ),
        (
            "[[\"name\", \"=\", 'x]]",
            "filter text, line 1 column 20: unterminated string",
            None,
        ),
    ];
    raw.into_iter()
        .map(|(text, message, odoo)| MalformedCase {
            text,
            message,
            odoo,
        })
        .collect()
}

/// The fixture in a [`MemoryRegistry`], for evaluating domains directly
/// ([`MemoryRegistry::selected`]).
pub fn registry() -> MemoryRegistry {
    MemoryRegistry::with_seeds(
        IdTypes {
            vid: VID.into(),
            token: TOKEN.into(),
        },
        registrants(),
    )
}
