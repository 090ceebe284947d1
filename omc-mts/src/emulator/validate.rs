//! The checks MTS makes on `POST authtoken/json`, with its HTTP statuses and error codes.
//!
//! MTS's pydantic models collect type errors (answered 422, `ATS-REQ-102`) but stop at the
//! first of its own refusals (answered 400 with the refusal's code), checking fields in
//! declaration order. [`Check`] mirrors that: type errors pile up, refusals return at once.

use super::props::{self, CallbackSpec};
use crate::envelope::parse_time;
use omc_core::Mapping;
use omc_core::jq::Program;
use omc_core::rules::{MandatoryFields, Refusal as RecordRefusal, lookup, mts_verdict};
use serde_json::{Map, Value};

/// An envelope refusal: HTTP status, MTS code and message (no personal data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) http: u16,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn new(http: u16, code: &'static str, message: &str) -> Self {
        Self {
            http,
            code,
            message: message.to_owned(),
        }
    }
}

/// Collected type errors (422).
#[derive(Debug, Default)]
pub(crate) struct Check {
    type_errors: Vec<String>,
}

impl Check {
    /// Records a type error.
    pub(crate) fn note(&mut self, what: &str) {
        self.type_errors.push(what.to_owned());
    }

    /// Records a type error; returns `None` for the caller's convenience.
    pub(crate) fn type_error<T>(&mut self, what: &str) -> Option<T> {
        self.note(what);
        None
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Refusal> {
        match value {
            Some(value) if self.type_errors.is_empty() => Ok(value),
            _ => Err(Refusal::new(
                422,
                "ATS-REQ-102",
                &format!("invalid input: {}", self.type_errors.join("; ")),
            )),
        }
    }
}

/// Python's truthiness: `None`, `False`, `0`, `""`, `[]` and `{}` are false.
pub(crate) fn falsy(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// A request that passed the envelope checks.
#[derive(Debug)]
pub(crate) struct Accepted {
    pub(crate) csv_output: bool,
    pub(crate) mapping: Mapping,
    pub(crate) output_format: Option<Program>,
    /// `None` for delivery type `download`.
    pub(crate) callback: Option<CallbackSpec>,
    pub(crate) authdata: Vec<Map<String, Value>>,
}

fn bad(code: &'static str, message: &str) -> Refusal {
    Refusal::new(400, code, message)
}

/// Checks the raw body of `POST authtoken/json`.
pub(crate) fn envelope(body: &[u8]) -> Result<Accepted, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(bad("ATS-REQ-102", "missing request body"));
    }
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return Err(Refusal::new(
            422,
            "ATS-REQ-102",
            "invalid input: body is not a JSON object",
        ));
    };
    let mut check = Check::default();
    for key in ["id", "version", "metadata"] {
        match top.get(key) {
            Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => {}
            Some(_) => check.note(&format!("{key}: not a string")),
            None => check.note(&format!("{key}: field required")),
        }
    }
    match top.get("requesttime") {
        None => check.note("requesttime: field required"),
        Some(Value::String(t)) if parse_time(t).is_some() => {}
        Some(_) => {
            return Err(bad(
                "ATS-REQ-102",
                "invalid input. requesttime is not in valid format",
            ));
        }
    }
    let accepted = match top.get("request") {
        Some(Value::Object(request)) => inner(&mut check, request)?,
        Some(_) => check.type_error("request: not an object"),
        None => check.type_error("request: field required"),
    };
    check.finish(accepted)
}

/// Checks `request` in MTS's field order.
fn inner(check: &mut Check, request: &Map<String, Value>) -> Result<Option<Accepted>, Refusal> {
    let output = choice(check, request, "output", &["json", "csv"])?;
    let delivery = choice(check, request, "deliverytype", &["download", "callback"])?;
    let mapping = mapping(check, request.get("mapping"));
    if let Some(lang) = request.get("lang")
        && !matches!(lang, Value::Null | Value::String(_) | Value::Number(_))
    {
        check.note("lang: not a string");
    }
    let output_format = match request.get("outputFormat") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) if f.is_empty() => None,
        Some(Value::String(f)) => match Program::compile(f) {
            Ok(program) => Some(program),
            Err(e) => return Err(bad("ATS-REQ-103", &e.to_string())),
        },
        Some(_) => check.type_error("outputFormat: not a string"),
    };
    let callback = match delivery {
        Some("callback") => {
            props::callback_properties(check, output, request.get("callbackProperties"))?
        }
        _ => None,
    };
    let authdata = match request.get("authdata") {
        None => return Err(bad("ATS-REQ-102", "authdata missing")),
        Some(v) if falsy(v) => return Err(bad("ATS-REQ-102", "authdata missing")),
        Some(Value::Array(items)) => {
            let records: Option<Vec<_>> = items.iter().map(|i| i.as_object().cloned()).collect();
            records.or_else(|| check.type_error("authdata: every item must be an object"))
        }
        Some(_) => check.type_error("authdata: not a list"),
    };
    let wants_callback = delivery == Some("callback");
    Ok(match (output, delivery, mapping, authdata) {
        (Some(output), Some(_), Some(mapping), Some(authdata))
            if callback.is_some() || !wants_callback =>
        {
            Some(Accepted {
                csv_output: output == "csv",
                mapping,
                output_format,
                callback,
                authdata,
            })
        }
        _ => None,
    })
}

/// `output` / `deliverytype`: required; empty or unsupported values are MTS refusals.
fn choice<'a>(
    check: &mut Check,
    request: &'a Map<String, Value>,
    key: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, Refusal> {
    let Some(value) = request.get(key) else {
        return Ok(check.type_error(&format!("{key}: field required")));
    };
    if falsy(value) {
        return Err(bad("ATS-REQ-102", &format!("{key} is not mentioned")));
    }
    match value.as_str() {
        Some(word) if allowed.contains(&word) => Ok(Some(word)),
        _ => Err(bad("ATS-REQ-102", &format!("{key} is not supported"))),
    }
}

/// `mapping`, each key defaulting to MTS's own default (the key's own name).
fn mapping(check: &mut Check, value: Option<&Value>) -> Option<Mapping> {
    let mut mapping = Mapping {
        vid: "vid".into(),
        name: vec!["name".into()],
        gender: "gender".into(),
        dob: "dob".into(),
        phone_number: "phoneNumber".into(),
        email_id: "emailId".into(),
        full_address: vec!["fullAddress".into()],
    };
    let given = match value {
        None | Some(Value::Null) => return Some(mapping),
        Some(Value::Object(given)) => given,
        Some(_) => return check.type_error("mapping: not an object"),
    };
    let mut ok = true;
    for (key, slot) in [
        ("vid", &mut mapping.vid),
        ("gender", &mut mapping.gender),
        ("dob", &mut mapping.dob),
        ("phoneNumber", &mut mapping.phone_number),
        ("emailId", &mut mapping.email_id),
    ] {
        match given.get(key) {
            None => {}
            Some(Value::String(s)) => *slot = s.clone(),
            Some(_) => {
                check.note(&format!("mapping.{key}: not a string"));
                ok = false;
            }
        }
    }
    for (key, slot) in [
        ("name", &mut mapping.name),
        ("fullAddress", &mut mapping.full_address),
    ] {
        match given.get(key).map(Value::as_array) {
            None => {}
            Some(Some(items)) if items.iter().all(Value::is_string) => {
                *slot = items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(String::from)
                    .collect();
            }
            Some(_) => {
                check.note(&format!("mapping.{key}: not a list"));
                ok = false;
            }
        }
    }
    ok.then_some(mapping)
}

/// The per-record verdicts, or the whole request's crash: a JSON `false` gender or dob makes
/// MTS fail with HTTP 500 `ATS-REQ-100`.
pub(crate) fn records(
    accepted: &Accepted,
    mandatory: &MandatoryFields,
) -> Result<Vec<Option<RecordRefusal>>, Refusal> {
    let crashes = |record: &Map<String, Value>| {
        [&accepted.mapping.gender, &accepted.mapping.dob]
            .into_iter()
            .any(|path| lookup(record, path) == Some(&Value::Bool(false)))
    };
    if accepted.authdata.iter().any(crashes) {
        return Err(Refusal::new(
            500,
            "ATS-REQ-100",
            "object of type 'bool' has no len()",
        ));
    }
    Ok(accepted
        .authdata
        .iter()
        .map(|record| mts_verdict(record, &accepted.mapping, mandatory))
        .collect())
}
