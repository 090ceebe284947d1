//! A manual import's input: lists of ids, and CSV files of registrant ids and VIDs, checked
//! whole before anything is written.

use crate::error::RegistryError;
use crate::idcheck::IdPattern;
use crate::pii::Vid;
use crate::registry::candidates_of;
use crate::registry::{IdTypes, RegistrantId, Registry};
use std::collections::BTreeMap;
use std::fmt;

/// The most characters a `g2p.reg.id` value holds (the column's size).
const VALUE_SIZE: usize = 100;
/// The most problems one refusal lists.
const SHOWN: usize = 20;

/// One refused row (or line) of an import's input, named by its number (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvProblem {
    /// The row's number in the file, from 1 (a header is row 1).
    pub row: usize,
    /// What is wrong (never the VID itself).
    pub reason: String,
}

impl fmt::Display for CsvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}: {}", self.row, self.reason)
    }
}

/// A manual import's input refused as a whole: nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// Rows of the input are wrong.
    #[error("{} refused, nothing written: {}{}", .source_name, list(.problems), more(.problems))]
    Rows {
        /// The input (a file name).
        source_name: String,
        /// Every bad row found.
        problems: Vec<CsvProblem>,
    },
    /// The input names nobody.
    #[error("{0} names no registrant")]
    Empty(String),
    /// The VID id type's `id_validation` pattern cannot be applied by OMC.
    #[error("the id type '{id_type}': {reason}; nothing written")]
    Pattern {
        /// The id type.
        id_type: String,
        /// Why.
        reason: String,
    },
}

fn list(problems: &[CsvProblem]) -> String {
    problems
        .iter()
        .take(SHOWN)
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

fn more(problems: &[CsvProblem]) -> String {
    if problems.len() > SHOWN {
        format!("; and {} more", problems.len() - SHOWN)
    } else {
        String::new()
    }
}

fn refuse(source_name: &str, problems: Vec<CsvProblem>) -> ImportError {
    ImportError::Rows {
        source_name: source_name.to_owned(),
        problems,
    }
}

fn parse_id(text: &str) -> Result<RegistrantId, String> {
    match text.parse::<i64>() {
        Ok(id) if id > 0 => Ok(RegistrantId(id)),
        Ok(_) => Err(format!("registrant id {text} is not a positive number")),
        Err(_) => Err(format!("'{}' is not a registrant id", shorten(text))),
    }
}

/// At most 20 characters of a text, for messages (ids, not personal data, are expected here).
fn shorten(text: &str) -> String {
    let short: String = text.chars().take(20).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Reads registrant ids separated by commas, blanks or new lines (`#` starts a comment).
/// A repeated id is refused, naming its line.
pub fn parse_ids(text: &str, source_name: &str) -> Result<Vec<RegistrantId>, ImportError> {
    let mut ids = Vec::new();
    let mut seen: BTreeMap<RegistrantId, usize> = BTreeMap::new();
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let row = n + 1;
        let line = line.split('#').next().unwrap_or_default();
        for word in line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            match parse_id(word) {
                Ok(id) => match seen.insert(id, row) {
                    Some(first) => problems.push(CsvProblem {
                        row,
                        reason: format!("registrant {id} is named again (first on line {first})"),
                    }),
                    None => ids.push(id),
                },
                Err(reason) => problems.push(CsvProblem { row, reason }),
            }
        }
    }
    if !problems.is_empty() {
        return Err(refuse(source_name, problems));
    }
    if ids.is_empty() {
        return Err(ImportError::Empty(source_name.to_owned()));
    }
    Ok(ids)
}

/// Reads a CSV of `registrant id,VID` rows (a first row `registrant id,vid` or `id,vid` is a
/// header). Checks what needs no registry: two cells, a registrant id, a VID of 1 to 100
/// characters, no registrant or VID twice. Every bad row is reported; the VIDs never are.
pub fn parse_csv(text: &str, source_name: &str) -> Result<Vec<(RegistrantId, Vid)>, ImportError> {
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut by_id: BTreeMap<RegistrantId, usize> = BTreeMap::new();
    let mut by_vid: BTreeMap<String, usize> = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let row = n + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line
            .split(',')
            .map(|c| c.trim().trim_matches('"'))
            .collect();
        if row == 1 && is_header(&cells) {
            continue;
        }
        let mut fail = |reason: String| problems.push(CsvProblem { row, reason });
        if cells.len() != 2 {
            fail(format!(
                "expected 2 cells (registrant id,VID), found {}",
                cells.len()
            ));
            continue;
        }
        let id = match parse_id(cells[0]) {
            Ok(id) => id,
            Err(reason) => {
                fail(reason);
                continue;
            }
        };
        let vid = cells[1];
        if vid.is_empty() {
            fail(format!("registrant {id}: the VID is empty"));
            continue;
        }
        if vid.chars().count() > VALUE_SIZE {
            fail(format!(
                "registrant {id}: the VID is longer than {VALUE_SIZE} characters"
            ));
            continue;
        }
        if let Some(first) = by_id.insert(id, row) {
            fail(format!("registrant {id} is also on row {first}"));
            continue;
        }
        if let Some(first) = by_vid.insert(vid.to_owned(), row) {
            fail(format!(
                "registrant {id}: the same VID as row {first} (a duplicate row)"
            ));
            continue;
        }
        rows.push((id, Vid::new(vid)));
    }
    if !problems.is_empty() {
        return Err(refuse(source_name, problems));
    }
    if rows.is_empty() {
        return Err(ImportError::Empty(source_name.to_owned()));
    }
    Ok(rows)
}

fn is_header(cells: &[&str]) -> bool {
    let lower: Vec<String> = cells.iter().map(|c| c.to_ascii_lowercase()).collect();
    matches!(
        lower
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice(),
        ["registrant id" | "registrant_id" | "id", "vid"]
    )
}

/// Checks the rows against the registry (each registrant exists and is active, holds no token
/// and no other VID; each VID passes the VID type's `id_validation` as OpenG2P applies it),
/// then stores the VIDs. One bad row refuses them all, before anything is written.
pub(super) async fn store_vids(
    registry: &dyn Registry,
    id_types: &IdTypes,
    rows: &[(RegistrantId, Vid)],
) -> Result<(), super::RunnerError> {
    let pattern = registry
        .id_validation(&id_types.vid)
        .await
        .map_err(super::RunnerError::Registry)?;
    let pattern = match pattern.filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(IdPattern::compile(&p).map_err(|e| ImportError::Pattern {
            id_type: id_types.vid.clone(),
            reason: e.to_string(),
        })?),
    };
    let ids: Vec<RegistrantId> = rows.iter().map(|(id, _)| *id).collect();
    let held = candidates_of(registry, &ids)
        .await
        .map_err(super::RunnerError::Registry)?;
    let mut problems = Vec::new();
    for (n, (id, vid)) in rows.iter().enumerate() {
        let row = n + 1;
        let reason = match held.get(id) {
            None => Some(format!("registrant {id} does not exist or is archived")),
            Some(c) if c.has_token || c.empty_token_id => Some(format!(
                "registrant {id} already holds a '{}' id",
                id_types.token
            )),
            Some(c) => match &c.vid {
                Some(v) if v.expose() != vid.expose() => Some(format!(
                    "registrant {id} already holds a different '{}'",
                    id_types.vid
                )),
                _ if pattern.as_ref().is_some_and(|p| !p.matches(vid.expose())) => Some(format!(
                    "registrant {id}: the VID does not match the id_validation of '{}'",
                    id_types.vid
                )),
                _ => None,
            },
        };
        if let Some(reason) = reason {
            problems.push(CsvProblem { row, reason });
        }
    }
    if !problems.is_empty() {
        return Err(refuse("the import", problems).into());
    }
    let report = registry
        .store_vids(rows)
        .await
        .map_err(super::RunnerError::Registry)?;
    if !report.conflicts.is_empty() || !report.missing.is_empty() {
        return Err(super::RunnerError::Registry(RegistryError::Invalid {
            message: format!(
                "while the VIDs were stored, {} registrants gained another VID and {} vanished",
                report.conflicts.len(),
                report.missing.len()
            ),
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_with_comments_and_refused_by_line() {
        let ids = parse_ids("1, 2\n# x\n3 4 # five\n", "ids").unwrap();
        assert_eq!(ids, [1, 2, 3, 4].map(RegistrantId));
        let e = parse_ids("1\n2,x\n0\n1", "ids.txt").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("row 2: 'x' is not a registrant id"), "{text}");
        assert!(
            text.contains("row 3: registrant id 0 is not a positive number"),
            "{text}"
        );
        assert!(
            text.contains("row 4: registrant 1 is named again (first on line 1)"),
            "{text}"
        );
        assert_eq!(
            parse_ids("# none\n", "f"),
            Err(ImportError::Empty("f".into()))
        );
    }

    #[test]
    fn csv_rows_are_checked_whole_and_never_show_a_vid() {
        let rows = parse_csv(
            "registrant id,VID\n7,4918350000000001\r\n8, 4918350000000002\n",
            "f",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].1.expose(), "4918350000000002");
        let long = "9".repeat(101);
        let text =
            format!("1,111SECRET\n2\n1,222SECRET\n3,111SECRET\nx,444SECRET\n5,\n6,{long}\n7,a,b\n");
        let e = parse_csv(&text, "vids.csv").unwrap_err().to_string();
        for want in [
            "vids.csv refused, nothing written",
            "row 2: expected 2 cells",
            "row 3: registrant 1 is also on row 1",
            "row 4: registrant 3: the same VID as row 1",
            "row 5: 'x' is not a registrant id",
            "row 6: registrant 5: the VID is empty",
            "row 7: registrant 6: the VID is longer than 100 characters",
            "row 8: expected 2 cells",
        ] {
            assert!(e.contains(want), "{want} in {e}");
        }
        assert!(!e.contains("SECRET") && !e.contains("999"), "{e}");
    }
}
