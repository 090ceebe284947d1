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

use crate::fixture::RegistrantSeed;
use crate::memory::MemoryRegistry;
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
    ];
    let vids = [1, 2, 5, 6, 7, 10, 11, 12, 13];
    let tokens = [2, 3, 11, 14, 15];
    rows.into_iter()
        .map(|(id, fields)| {
            let vid = vids.contains(&id).then(|| format!("49183500000{id:05}"));
            let mut seed = RegistrantSeed::individual(id, fields, vid.as_deref());
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

/// One domain and the registrants a search with it returns, in id order.
#[derive(Debug, Clone)]
pub struct DomainCase {
    /// The domain as an operator writes it: JSON, or the Python-literal form.
    pub text: &'static str,
    /// The ids Odoo 17 returns for it on the fixture.
    pub expected: Vec<i64>,
}

impl DomainCase {
    /// The domain as JSON (what goes over JSON-RPC).
    pub fn json(&self) -> Value {
        crate::domain::Domain::parse(self.text)
            .unwrap_or_else(|e| panic!("case {} does not parse: {e}", self.text))
            .to_json()
    }
}

/// Every active registrant of the fixture.
const ACTIVE: [i64; 12] = [1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 14];

/// The domain cases, each with its expected registrant ids.
pub fn cases() -> Vec<DomainCase> {
    let all: Vec<i64> = (1..=15).collect();
    let raw: Vec<(&'static str, Vec<i64>)> = vec![
        // The empty domain, TRUE_LEAF and FALSE_LEAF; the archived rule.
        ("[]", ACTIVE.to_vec()),
        (r#"[[1, "=", 1]]"#, ACTIVE.to_vec()),
        (r#"[[0, "=", 1]]"#, vec![]),
        (r#"["|", [0, "=", 1], ["id", "=", 4]]"#, vec![4]),
        (r#"[["active", "=", false]]"#, vec![6, 11, 15]),
        (r#"[["active", "in", [true, false]]]"#, all.clone()),
        (
            r#"["|", ["active", "=", false], ["active", "=", true]]"#,
            all.clone(),
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
        (r#"[["is_registrant", "=", false]]"#, vec![8, 13]),
        (
            r#"[["is_group", "!=", true]]"#,
            vec![1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 14],
        ),
        // Selections and text: equality, emptiness, lists with false.
        (r#"[["gender", "=", "Female"]]"#, vec![1, 3, 5, 12, 13, 14]),
        (r#"[["gender", "=", false]]"#, vec![7, 8, 9]),
        (
            r#"[["gender", "!=", false]]"#,
            vec![1, 2, 3, 4, 5, 10, 12, 13, 14],
        ),
        (r#"[["gender", "!=", "Female"]]"#, vec![2, 4, 7, 8, 9, 10]),
        (
            r#"[["gender", "in", ["Male", false]]]"#,
            vec![2, 4, 7, 8, 9, 10],
        ),
        (
            r#"[["gender", "not in", ["Male", false]]]"#,
            vec![1, 3, 5, 12, 13, 14],
        ),
        (
            r#"[["gender", "not in", ["Male"]]]"#,
            vec![1, 3, 5, 7, 8, 9, 12, 13, 14],
        ),
        (r#"[["gender", "in", []]]"#, vec![]),
        (r#"[["gender", "not in", []]]"#, ACTIVE.to_vec()),
        (
            r#"[["gender", "=", ["Male", "Female"]]]"#,
            vec![1, 2, 3, 4, 5, 10, 12, 13, 14],
        ),
        (r#"[["gender", "in", false]]"#, vec![7, 8, 9]),
        (
            r#"["!", ["gender", "in", ["Male", "Female"]]]"#,
            vec![7, 8, 9],
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
        (r#"[["birthdate", "=", false]]"#, vec![4, 7, 8]),
        (
            "[('gender', '=', 'Male'), ('birthdate', '<', '1985-01-01')]",
            vec![10],
        ),
        // Numbers, zero is not empty; `=?`.
        (r#"[["income", ">", 100]]"#, vec![1, 2, 5, 7, 10, 12]),
        (r#"[["income", "<", 0]]"#, vec![14]),
        (r#"[["income", "=", 0]]"#, vec![9]),
        (r#"[["income", "=", false]]"#, vec![3, 4, 8, 13]),
        (
            r#"[["income", "!=", 100.5]]"#,
            vec![2, 3, 4, 5, 7, 8, 9, 10, 13, 14],
        ),
        (r#"[["income", "=?", false]]"#, ACTIVE.to_vec()),
        (r#"[["income", "=?", 100.5]]"#, vec![1, 12]),
        (r#"[["name", "=?", null], ["id", "<", 3]]"#, vec![1, 2]),
        // The like family.
        (r#"[["name", "like", "Banda"]]"#, vec![2, 7]),
        (r#"[["name", "ilike", "amina"]]"#, vec![1, 12]),
        (r#"[["name", "like", "amina"]]"#, vec![12]),
        (
            r#"[["name", "not ilike", "household"]]"#,
            vec![1, 2, 3, 4, 5, 8, 9, 10, 12, 13, 14],
        ),
        (
            r#"[["occupation", "not like", "farmer"]]"#,
            vec![2, 3, 5, 7, 8, 10, 12, 13, 14],
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
        (r#"[["id", ">", 10]]"#, vec![12, 13, 14]),
        (r#"["&", ["id", ">=", 3], ["id", "<=", 5]]"#, vec![3, 4, 5]),
        (
            r#"[["id", "not in", [1, 2, 3]]]"#,
            vec![4, 5, 7, 8, 9, 10, 12, 13, 14],
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
            vec![3, 4, 8, 9, 14],
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
        (r#"[["reg_ids", "=", false]]"#, vec![4, 8]),
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
            vec![1, 4, 5, 7, 8, 9, 10, 12, 13],
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
            vec![1, 3, 5, 8, 9, 12, 13, 14],
        ),
        (
            r#"["&", ["is_registrant", "=", true], "|", ["reg_ids.id_type", "=", "NATIONAL ID"], ["income", ">", 1000]]"#,
            vec![2, 5, 7, 9, 10, 12, 14],
        ),
    ];
    raw.into_iter()
        .map(|(text, expected)| DomainCase { text, expected })
        .collect()
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
            None,
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
