//! Fuzzes the self-hosted sink's callback parser: it must never panic, and what it accepts
//! must hold the parser's promises.
#![no_main]

use libfuzzer_sys::fuzz_target;
use omc_core::receiver::{PayloadLimits, parse_results};
use omc_core::sink::RecordStatus;
use std::collections::BTreeSet;

fuzz_target!(|data: &[u8]| {
    let limits = PayloadLimits {
        max_bytes: 64 * 1024,
        max_records: 64,
    };
    if let Ok(results) = parse_results(data, &limits) {
        assert!(!results.is_empty() && results.len() <= limits.max_records);
        let ids: BTreeSet<_> = results.iter().map(|r| r.registrant).collect();
        assert_eq!(ids.len(), results.len(), "registrants are unique");
        for r in &results {
            assert!(r.registrant.0 > 0);
            match r.status {
                RecordStatus::Processed => {
                    assert!(
                        r.token
                            .as_ref()
                            .is_some_and(|t| !t.expose().trim().is_empty())
                    )
                }
                _ => assert!(r.token.is_none()),
            }
        }
    }
});
