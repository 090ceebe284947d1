//! MTS's output formats: jq programs, compiled and run with jaq.
//!
//! MTS applies the connector's `outputFormat` to `{"input": record, "output": result}` with
//! jq 1.6 and keeps only the first output; a program that yields nothing or fails at run time
//! gives a callback with no JSON body. jaq agrees with jq on what OMC's formats use (object
//! construction, paths, `select`, `if`); it differs in corners listed in jaq's README (for
//! example `limit(0; ...)`, `@sh` on objects, and some number formatting).

use jaq_core::load::{Arena, File, Loader};
use jaq_core::{Compiler, Ctx, Vars, data, unwrap_valr};
use jaq_json::Val;
use serde::Deserialize as _;
use serde_json::Value;
use std::fmt;

type Native = jaq_core::Native<data::JustLut<Val>>;

/// A compiled jq program.
pub struct Program {
    filter: jaq_core::compile::Filter<Native>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Program(..)")
    }
}

/// A jq program that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("output format does not compile: {message}")]
pub struct CompileError {
    /// What the compiler said, with the offending fragment.
    pub message: String,
}

/// The outcome of running a program on one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The first value the program yielded.
    Value(Value),
    /// The program yielded nothing.
    Nothing,
    /// The program failed at run time (MTS swallows this and sends no body).
    Failed(String),
}

impl Program {
    /// Compiles `code`.
    pub fn compile(code: &str) -> Result<Self, CompileError> {
        let defs = jaq_core::defs()
            .chain(jaq_std::defs())
            .chain(jaq_json::defs());
        let funs = jaq_core::funs()
            .chain(jaq_std::funs())
            .chain(jaq_json::funs());
        let loader = Loader::new(defs);
        let arena = Arena::default();
        let modules = loader
            .load(&arena, File { code, path: () })
            .map_err(|errors| CompileError {
                message: format!("{} parse error(s) in the program", errors.len()),
            })?;
        let filter = Compiler::default()
            .with_funs(funs)
            .compile(modules)
            .map_err(|errors| CompileError {
                message: errors
                    .iter()
                    .flat_map(|(_, errs)| {
                        errs.iter().map(|(name, _)| format!("undefined '{name}'"))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        Ok(Self { filter })
    }

    /// Runs the program on `input` and keeps the first output, as MTS does.
    pub fn first(&self, input: &Value) -> Output {
        let input = match Val::deserialize(input) {
            Ok(v) => v,
            Err(e) => return Output::Failed(e.to_string()),
        };
        let ctx = Ctx::<data::JustLut<Val>>::new(&self.filter.lut, Vars::new([]));
        let mut out = self.filter.id.run((ctx, input)).map(unwrap_valr);
        match out.next() {
            None => Output::Nothing,
            Some(Err(e)) => Output::Failed(format!("{e:?}").chars().take(200).collect()),
            Some(Ok(v)) => match serde_json::from_str(&v.to_string()) {
                Ok(v) => Output::Value(v),
                Err(e) => Output::Failed(e.to_string()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn runs_mts_style_formats() {
        let p = Program::compile(
            r#"{"id": .input.id, "token": .output.token, "status": .output.status}"#,
        )
        .unwrap();
        let out =
            p.first(&json!({"input": {"id": 4}, "output": {"token": "t", "status": "processed"}}));
        assert_eq!(
            out,
            Output::Value(json!({"id": 4, "token": "t", "status": "processed"}))
        );
        let p = Program::compile(r#"if .output.token then . else empty end"#).unwrap();
        assert_eq!(
            p.first(&json!({"output": {"token": null}})),
            Output::Nothing
        );
        assert!(Program::compile("{").is_err());
        assert!(Program::compile("nosuchfn(1)").is_err());
        let p = Program::compile(".a + 1").unwrap();
        assert!(matches!(p.first(&json!({"a": "x"})), Output::Failed(_)));
    }
}

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn program_is_send_and_sync() {
        assert_send_sync::<super::Program>();
    }
}
