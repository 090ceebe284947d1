//! OpenG2P's `id_validation`, applied to `g2p.reg.id` values as `g2p_registry_base` applies it
//! (`@api.constrains("value")`, Python's `re.match`).

use super::schema::Fault;
use regex::Regex;
use std::collections::HashMap;

/// Compiles an `id_validation` pattern anchored at the start only, as `re.match` applies it.
pub(crate) fn compile(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!(r"\A(?:{pattern})"))
}

/// The compiled patterns of the id types that have one (a pattern that does not compile is
/// kept as its error: Odoo accepts it on the type and fails each check with `re.error`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Validators {
    by_type: HashMap<i64, Result<Regex, String>>,
}

/// One `g2p.reg.id` row to check, in the order the records are checked.
pub(crate) struct Checked<'a> {
    pub(crate) type_id: Option<i64>,
    pub(crate) type_name: &'a str,
    pub(crate) value: Option<&'a str>,
}

impl Validators {
    /// Sets (or, for `None` and `""`, clears) the pattern of an id type.
    pub(crate) fn set(&mut self, type_id: i64, pattern: Option<&str>) {
        match pattern.filter(|p| !p.is_empty()) {
            Some(p) => {
                let compiled = compile(p).map_err(|e| {
                    let text = e.to_string();
                    text.lines()
                        .rev()
                        .find(|l| l.starts_with("error:"))
                        .unwrap_or("invalid pattern")
                        .trim_start_matches("error: ")
                        .to_owned()
                });
                self.by_type.insert(type_id, compiled);
            }
            None => {
                self.by_type.remove(&type_id);
            }
        }
    }

    /// Forgets an id type.
    pub(crate) fn remove(&mut self, type_id: i64) {
        self.by_type.remove(&type_id);
    }

    /// Checks records the way OpenG2P's constraint loops over them: a record without a value
    /// ends the check for the records after it (its `return`, where `continue` was meant: real
    /// Odoo 17 stores `[{"value": ""}, {"value": "<refused>"}]` created in one call).
    pub(crate) fn check<'a>(
        &self,
        records: impl IntoIterator<Item = Checked<'a>>,
    ) -> Result<(), Fault> {
        for record in records {
            let Some(value) = record.value.filter(|v| !v.is_empty()) else {
                return Ok(());
            };
            match record.type_id.and_then(|t| self.by_type.get(&t)) {
                None => {}
                Some(Err(reason)) => return Err(Fault::server_named("re.error", reason.clone())),
                Some(Ok(regex)) if regex.is_match(value) => {}
                Some(Ok(_)) => return Err(Fault::invalid_value(record.type_name, value)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked<'a>(value: Option<&'a str>) -> Checked<'a> {
        Checked {
            type_id: Some(1),
            type_name: "T",
            value,
        }
    }

    #[test]
    fn like_re_match_and_openg2p_loop() {
        let mut v = Validators::default();
        v.set(1, Some("[0-9]{4}"));
        assert!(
            v.check([checked(Some("1234xyz"))]).is_ok(),
            "anchored at the start only"
        );
        let fault = v.check([checked(Some("x1234"))]).unwrap_err();
        assert_eq!(fault.name, "odoo.exceptions.ValidationError");
        assert_eq!(fault.message, "The provided T ID 'x1234' is invalid.");
        assert!(v.check([checked(Some("")), checked(Some("zz"))]).is_ok());
        assert!(v.check([checked(None), checked(Some("zz"))]).is_ok());
        assert!(
            v.check([checked(Some("1234")), checked(Some("zz"))])
                .is_err()
        );
        v.set(1, Some(""));
        assert!(
            v.check([checked(Some("zz"))]).is_ok(),
            "an empty pattern is none"
        );
        v.set(1, Some("[0-9"));
        assert_eq!(v.check([checked(Some("1"))]).unwrap_err().name, "re.error");
    }
}
