//! The one place where MTS's answers and transport failures become [`SeederError`]s.

use omc_core::SeederError;
use serde_json::Value;

/// MTS's code for "none of the records form a valid request": HTTP 200, and the request
/// exists all the same.
pub(crate) const ALL_RECORDS_INVALID: &str = "ATS-REQ-101";

/// MTS's code for an unknown (or expired) request identifier.
pub(crate) const UNKNOWN_REQUEST: &str = "ATS-REQ-016";

/// Maps an answer of MTS (HTTP status and body) to its `response` object, or to the error it
/// stands for.
///
/// - a JSON body with `errors[0].errorCode` is a refusal ([`SeederError::Rejected`]), except
///   `ATS-REQ-101` on HTTP 200, which still carries the request and counts as success;
/// - a 2xx JSON body without errors yields its `response`;
/// - anything else is [`SeederError::Uncertain`] on HTTP 5xx (a proxy may have passed the
///   request on) and [`SeederError::Protocol`] otherwise.
pub(crate) fn answer(call: &str, status: u16, body: &[u8]) -> Result<Value, SeederError> {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let Some(mut envelope) = parsed.filter(Value::is_object) else {
        return Err(unexpected(
            call,
            status,
            "a body that is not an MTS envelope",
        ));
    };
    if let Some((code, message)) = first_error(&envelope) {
        let response = envelope.get_mut("response").map(Value::take);
        let carries_request = response
            .as_ref()
            .and_then(|r| r.get("request_identifier"))
            .is_some_and(Value::is_string);
        if status == 200 && code == ALL_RECORDS_INVALID && carries_request {
            return Ok(response.unwrap_or_default());
        }
        return Err(SeederError::Rejected {
            http_status: status,
            code,
            message: safe_message(status, message),
        });
    }
    match envelope.get_mut("response").map(Value::take) {
        Some(response) if (200..300).contains(&status) && response.is_object() => Ok(response),
        _ => Err(unexpected(call, status, "an answer without a response")),
    }
}

/// What of MTS's `errorMessage` may be kept. A 422 comes from request validation, whose text
/// can quote the values it refused (personal data): it is replaced. Others are MTS's own fixed
/// texts or exception summaries, kept short.
fn safe_message(status: u16, message: String) -> String {
    const MAX: usize = 200;
    if status == 422 {
        return "the request's shape was refused (validation error)".into();
    }
    if message.chars().count() > MAX {
        return message.chars().take(MAX).chain("…".chars()).collect();
    }
    message
}

fn first_error(envelope: &Value) -> Option<(String, String)> {
    let first = envelope.get("errors")?.as_array()?.first()?;
    let code = first.get("errorCode")?.as_str()?.to_owned();
    let message = first
        .get("errorMessage")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Some((code, message))
}

fn unexpected(call: &str, status: u16, what: &str) -> SeederError {
    let message = format!("{call}: HTTP {status} with {what}");
    if status >= 500 {
        SeederError::Uncertain {
            message,
            source: None,
        }
    } else {
        SeederError::Protocol { message }
    }
}

/// Maps a transport failure: a connection never established is
/// [`NotDelivered`](SeederError::NotDelivered) (safe to retry); a timeout, a connection
/// dropped after sending or a body that could not be read is
/// [`Uncertain`](SeederError::Uncertain); a request that could not even be built is
/// [`Protocol`](SeederError::Protocol).
pub(crate) fn transport(call: &str, error: reqwest::Error) -> SeederError {
    let error = error.without_url();
    if error.is_builder() {
        return SeederError::Protocol {
            message: format!("{call}: the request could not be built"),
        };
    }
    if error.is_connect() {
        return SeederError::NotDelivered {
            message: format!("{call}: no connection to MTS"),
            source: Some(Box::new(error)),
        };
    }
    let what = if error.is_timeout() {
        "timed out waiting for MTS"
    } else if error.is_body() || error.is_decode() {
        "the answer could not be read"
    } else {
        "the connection failed after the request was sent"
    };
    SeederError::Uncertain {
        message: format!("{call}: {what}"),
        source: Some(Box::new(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).unwrap()
    }

    fn refusal(code: &str) -> Vec<u8> {
        body(
            json!({"id": "mosip.token.seeder", "errors": [{"errorCode": code, "errorMessage": "m"}],
                    "response": null}),
        )
    }

    #[test]
    fn refusals_keep_status_and_code() {
        for (status, code) in [
            (400, "ATS-REQ-102"),
            (422, "ATS-REQ-102"),
            (500, "ATS-REQ-100"),
        ] {
            match answer("submit", status, &refusal(code)) {
                Err(SeederError::Rejected {
                    http_status,
                    code: got,
                    message,
                }) => {
                    let kept = if status == 422 {
                        message != "m"
                    } else {
                        message == "m"
                    };
                    assert_eq!((http_status, got.as_str()), (status, code));
                    assert!(kept, "{status}: {message}");
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn validation_messages_never_pass_through_and_others_are_bounded() {
        let echo = body(json!({"errors": [{"errorCode": "ATS-REQ-102",
            "errorMessage": "value 4918350000000001 is not valid"}], "response": null}));
        let Err(SeederError::Rejected { message, .. }) = answer("submit", 422, &echo) else {
            panic!("a refusal");
        };
        assert!(!message.contains("4918350000000001"), "{message}");
        let long = body(json!({"errors": [{"errorCode": "ATS-REQ-100",
            "errorMessage": "x".repeat(5000)}], "response": null}));
        let Err(SeederError::Rejected { message, .. }) = answer("submit", 500, &long) else {
            panic!("a refusal");
        };
        assert!(message.chars().count() <= 201);
    }

    #[test]
    fn all_invalid_still_carries_the_request() {
        let b = body(
            json!({"errors": [{"errorCode": "ATS-REQ-101", "errorMessage": "none"}],
                            "response": {"request_identifier": "r1"}}),
        );
        assert_eq!(
            answer("submit", 200, &b).unwrap(),
            json!({"request_identifier": "r1"})
        );
        let b = body(json!({"errors": [{"errorCode": "ATS-REQ-101"}], "response": null}));
        assert!(matches!(
            answer("submit", 200, &b),
            Err(SeederError::Rejected { .. })
        ));
    }

    #[test]
    fn garbage_is_uncertain_on_5xx_and_protocol_otherwise() {
        assert!(matches!(
            answer("s", 502, b"<html>"),
            Err(SeederError::Uncertain { .. })
        ));
        assert!(matches!(
            answer("s", 404, b"<html>"),
            Err(SeederError::Protocol { .. })
        ));
        assert!(matches!(
            answer("s", 200, b"{}"),
            Err(SeederError::Protocol { .. })
        ));
        let ok = body(json!({"errors": null, "response": {"status": "processed"}}));
        assert_eq!(
            answer("s", 200, &ok).unwrap(),
            json!({"status": "processed"})
        );
    }
}
