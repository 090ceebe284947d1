//! docs/OPERATIONS.md's troubleshooting table, read by the tests that check that `omc` prints
//! its messages.

/// The first backquoted text of each row's first column in the Troubleshooting section.
pub(crate) fn documented_messages() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/OPERATIONS.md"))
        .expect("docs/OPERATIONS.md");
    let section = doc
        .split("## Troubleshooting")
        .nth(1)
        .expect("a Troubleshooting section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|row| {
            let first = row.trim_start_matches('|').split(" | ").next()?;
            first.split('`').nth(1).map(str::to_owned)
        })
        .collect()
}

/// True when `line` is `message` with each `…` standing for some text.
pub(crate) fn matches(message: &str, line: &str) -> bool {
    let pieces: Vec<&str> = message.split('…').collect();
    let Some(rest) = line.strip_prefix(pieces[0]) else {
        return false;
    };
    let mut rest = rest;
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        let last = i == pieces.len() - 1;
        if last {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}
