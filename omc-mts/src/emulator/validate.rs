//! The checks MTS makes on `POST authtoken/json`, with its HTTP statuses and error codes.
//!
//! MTS's pydantic models collect type errors (answered 422, one `ATS-REQ-102` error each,
//! `Invalid Input. ` and pydantic's message) but stop at the first of its own refusals
//! (answered 400 with the refusal's code and MTS's text), checking fields in declaration
//! order. [`Check`] mirrors that: type errors pile up, refusals return at once. A few shapes
//! make MTS's own validators raise a Python error instead (HTTP 500, `ATS-REQ-100`, the
//! error's text): a callback request without `deliverytype` or `output`, a mandatory gender or
//! dob without a length.

use super::props::{self, CallbackSpec};
use crate::envelope::parse_time;
use omc_core::Mapping;
use omc_core::jq::Program;
use omc_core::mts_rules::{MandatoryFields, RecordCheck, Refusal as RecordRefusal, mts_check};
use serde_json::{Map, Value};

/// An envelope refusal: HTTP status, MTS code and its messages, one error each (no personal
/// data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) http: u16,
    pub(crate) code: &'static str,
    pub(crate) messages: Vec<String>,
}

impl Refusal {
    pub(crate) fn new(http: u16, code: &'static str, message: &str) -> Self {
        Self {
            http,
            code,
            messages: vec![message.to_owned()],
        }
    }

    /// A Python error raised by MTS's own code: HTTP 500, `ATS-REQ-100`, the error's text
    /// (a `KeyError` prints as the quoted key).
    pub(crate) fn crash(message: &str) -> Self {
        Self::new(500, "ATS-REQ-100", message)
    }
}

/// Pydantic's messages for the type errors MTS's models report.
pub(crate) mod pydantic {
    pub(crate) const REQUIRED: &str = "field required";
    pub(crate) const STR: &str = "str type expected";
    pub(crate) const DICT: &str = "value is not a valid dict";
    pub(crate) const LIST: &str = "value is not a valid list";
    pub(crate) const INT: &str = "value is not a valid integer";
    pub(crate) const BOOL: &str = "value could not be parsed to a boolean";
    pub(crate) const NONE: &str = "none is not an allowed value";
    pub(crate) const URL_SCHEME: &str = "invalid or missing URL scheme";
    pub(crate) const URL_HOST: &str = "URL host invalid";
}

/// Collected type errors (422), pydantic's messages in the order pydantic meets them.
#[derive(Debug, Default)]
pub(crate) struct Check {
    type_errors: Vec<String>,
}

impl Check {
    /// Records a type error.
    pub(crate) fn note(&mut self, message: &str) {
        self.type_errors.push(message.to_owned());
    }

    /// Records a type error; returns `None` for the caller's convenience.
    pub(crate) fn type_error<T>(&mut self, message: &str) -> Option<T> {
        self.note(message);
        None
    }

    fn finish<T>(self, value: Option<T>) -> Result<T, Refusal> {
        match value {
            Some(value) if self.type_errors.is_empty() => Ok(value),
            _ => Err(Self::unprocessable(self.type_errors)),
        }
    }

    /// MTS's answer to validation errors: 422, one `ATS-REQ-102` error each.
    fn unprocessable(messages: Vec<String>) -> Refusal {
        Refusal {
            http: 422,
            code: "ATS-REQ-102",
            messages: messages
                .into_iter()
                .map(|m| format!("Invalid Input. {m}"))
                .collect(),
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

const MISSING_BODY: &str = "invalid input. missing request body";

/// Checks the raw body of `POST authtoken/json`.
pub(crate) fn envelope(body: &[u8]) -> Result<Accepted, Refusal> {
    if body.is_empty() {
        return Err(bad("ATS-REQ-102", MISSING_BODY));
    }
    let top = match serde_json::from_slice::<Value>(body) {
        Err(_) => {
            return Err(Check::unprocessable(vec![
                super::pyjson::decode_error(body).unwrap_or_else(|| "Expecting value".into()),
            ]));
        }
        Ok(Value::Null) => return Err(bad("ATS-REQ-102", MISSING_BODY)),
        Ok(Value::Object(top)) => top,
        // pydantic takes what `dict()` takes: an empty list is an empty object.
        Ok(Value::Array(items)) if items.is_empty() => Map::new(),
        Ok(_) => return Err(Check::unprocessable(vec![pydantic::DICT.into()])),
    };
    let mut check = Check::default();
    for key in ["id", "version", "metadata"] {
        match top.get(key) {
            Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => {}
            Some(Value::Null) => check.note(pydantic::NONE),
            Some(_) => check.note(pydantic::STR),
            None => check.note(pydantic::REQUIRED),
        }
    }
    match top.get("requesttime") {
        None => check.note(pydantic::REQUIRED),
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
        Some(Value::Null) => check.type_error(pydantic::NONE),
        Some(_) => check.type_error(pydantic::DICT),
        None => check.type_error(pydantic::REQUIRED),
    };
    check.finish(accepted)
}

/// Checks `request` in MTS's field order.
fn inner(check: &mut Check, request: &Map<String, Value>) -> Result<Option<Accepted>, Refusal> {
    let output = choice(check, request, "output", "output type")?;
    let delivery = choice(check, request, "deliverytype", "delivery type")?;
    let mapping = mapping(check, request.get("mapping"));
    if let Some(lang) = request.get("lang")
        && !matches!(
            lang,
            Value::Null | Value::String(_) | Value::Number(_) | Value::Bool(_)
        )
    {
        check.note(pydantic::STR);
    }
    let output_format = match request.get("outputFormat") {
        None | Some(Value::Null) => None,
        Some(Value::String(f)) if f.is_empty() => None,
        Some(Value::String(f)) => match Program::compile(f) {
            Ok(program) => Some(program),
            Err(_) => return Err(bad("ATS-REQ-103", BAD_FORMAT)),
        },
        Some(v) if !falsy(v) => return Err(bad("ATS-REQ-103", BAD_FORMAT)),
        Some(Value::Array(_) | Value::Object(_)) => check.type_error(pydantic::STR),
        Some(_) => None,
    };
    // MTS's validator of callbackProperties reads `deliverytype`, then `output`, from what
    // validated before it: a missing one raises a KeyError.
    let callback = match delivery {
        None => return Err(Refusal::crash("'deliverytype'")),
        Some("callback") => {
            let props = request.get("callbackProperties");
            if output.is_none() && props.is_some_and(|v| !falsy(v)) {
                return Err(Refusal::crash("'output'"));
            }
            props::callback_properties(check, output, props)?
        }
        Some(_) => None,
    };
    let authdata = match request.get("authdata") {
        None | Some(Value::Null) => return Err(bad("ATS-REQ-102", AUTHDATA_MISSING)),
        Some(Value::Array(items)) if items.is_empty() => {
            return Err(bad("ATS-REQ-102", AUTHDATA_MISSING));
        }
        Some(Value::Array(items)) => {
            let records: Vec<_> = items.iter().map(|i| i.as_object().cloned()).collect();
            for _ in records.iter().filter(|r| r.is_none()) {
                check.note(pydantic::DICT);
            }
            records.into_iter().collect()
        }
        Some(_) => check.type_error(pydantic::LIST),
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

const BAD_FORMAT: &str = "outputFormat is not a valid jq expression";
const AUTHDATA_MISSING: &str = "invalid input. authdata missing";

/// `output` / `deliverytype`: required; empty or unsupported values are MTS refusals, with
/// MTS's name for the field (`output type`, `delivery type`).
fn choice<'a>(
    check: &mut Check,
    request: &'a Map<String, Value>,
    key: &str,
    name: &str,
) -> Result<Option<&'a str>, Refusal> {
    let allowed: &[&str] = if key == "output" {
        &["json", "csv"]
    } else {
        &["download", "callback"]
    };
    let Some(value) = request.get(key) else {
        return Ok(check.type_error(pydantic::REQUIRED));
    };
    if falsy(value) {
        let message = format!("invalid input. {name} is not mentioned");
        return Err(bad("ATS-REQ-102", &message));
    }
    match value.as_str() {
        Some(word) if allowed.contains(&word) => Ok(Some(word)),
        _ => {
            let message = format!("invalid input. {name} is not supported");
            Err(bad("ATS-REQ-102", &message))
        }
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
        None => return Some(mapping),
        Some(Value::Object(given)) => given,
        Some(Value::Null) => return check.type_error(pydantic::NONE),
        Some(_) => return check.type_error(pydantic::DICT),
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
            Some(Value::Number(n)) => *slot = n.to_string(),
            Some(other) => {
                check.note(if other.is_null() {
                    pydantic::NONE
                } else {
                    pydantic::STR
                });
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
            Some(Some(_)) => {
                check.note(pydantic::STR);
                ok = false;
            }
            Some(None) => {
                check.note(pydantic::LIST);
                ok = false;
            }
        }
    }
    ok.then_some(mapping)
}

/// The per-record verdicts in MTS's order, or the whole request's crash: MTS validates the
/// records one by one and the first mandatory gender or dob without a length (a JSON `false`
/// or a number) makes it fail with HTTP 500 `ATS-REQ-100`.
pub(crate) fn records(
    accepted: &Accepted,
    mandatory: &MandatoryFields,
) -> Result<Vec<Option<RecordRefusal>>, Refusal> {
    accepted
        .authdata
        .iter()
        .map(
            |record| match mts_check(record, &accepted.mapping, mandatory) {
                RecordCheck::Accepted => Ok(None),
                RecordCheck::Refused(refusal) => Ok(Some(refusal)),
                RecordCheck::Crashes { message } => Err(Refusal::crash(&message)),
                _ => Err(Refusal::crash("unknown validation outcome")),
            },
        )
        .collect()
}
