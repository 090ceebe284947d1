//! Any text given to `Domain::parse`: it must never panic, and whatever it accepts must
//! round-trip (written JSON parses back to the same tree and the same JSON), normalise to an
//! equivalent domain, and survive validation against OpenG2P's field model.

#![no_main]

use libfuzzer_sys::fuzz_target;
use omc_core::domain::{Domain, FieldModel};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(domain) = Domain::parse(text) else {
        return;
    };
    let json = domain.to_json();
    let again = Domain::from_json(&json).expect("a written domain parses back");
    assert_eq!(again, domain, "parse -> write -> parse changed the tree");
    assert_eq!(again.to_json(), json, "parse -> write -> parse changed the JSON");
    let normal = domain.normalize();
    assert_eq!(
        Domain::from_json(&normal.to_json()).expect("a normal form parses"),
        normal
    );
    let _ = domain.canonical();
    let _ = domain.validate(&FieldModel::openg2p(), "res.partner");
});
