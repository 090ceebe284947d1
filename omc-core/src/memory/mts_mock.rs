//! How MTS's `mts-mock` derives a token, for the emulators, the in-memory seeder and checks.
//!
//! The real MTS returns MOSIP's partner-specific user token. The mock derives it locally as the
//! base64url (no padding) of SHA3-256 over the VID's bytes followed by the partner id's bytes:
//! deterministic, so resubmitting a record is harmless.

use crate::pii::{Token, Vid};
use base64::Engine as _;
use sha3::{Digest, Sha3_256};

/// The token `mts-mock` gives for `vid` and `partner_id` (public as `testing::mock_token`).
#[cfg_attr(not(feature = "testing"), allow(unreachable_pub))]
pub fn mock_token(vid: &Vid, partner_id: &str) -> Token {
    let mut hasher = Sha3_256::new();
    hasher.update(vid.expose().as_bytes());
    hasher.update(partner_id.as_bytes());
    Token::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_answer_from_the_real_mts_mock() {
        let token = mock_token(&Vid::new("4918350000000001"), "mpartner-default-omc");
        assert_eq!(
            token.expose(),
            "LfqyCj8Tn9kHCQzdm8QLteWg7XH_r2lRhb2KInYWDrA"
        );
        assert_eq!(token.expose().len(), 43);
    }

    #[test]
    fn partner_changes_the_token() {
        let vid = Vid::new("4918350000000001");
        assert_ne!(mock_token(&vid, "a"), mock_token(&vid, "b"));
    }
}
