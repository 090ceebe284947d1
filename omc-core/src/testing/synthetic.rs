//! Synthetic registrants: complete demographics and distinct VIDs, deterministic for a seed.

use crate::memory::RegistrantSeed;
use crate::pii::Vid;

const GIVEN: [&str; 12] = [
    "Amina", "Bashir", "Chiara", "Dawit", "Esi", "Farid", "Grace", "Hamza", "Imani", "Jomo",
    "Kofi", "Lina",
];
const FAMILY: [&str; 10] = [
    "Abebe", "Banda", "Chukwu", "Diallo", "Eze", "Fofana", "Gueye", "Haile", "Juma", "Kamau",
];
const PLACES: [&str; 6] = [
    "Addis Ababa",
    "Lusaka",
    "Kigali",
    "Accra",
    "Dakar",
    "Nairobi",
];

/// The VID the synthetic registrant `id` holds for `seed`: 16 digits, distinct for distinct ids
/// below ten billion.
pub fn synthetic_vid(id: i64, seed: u64) -> Vid {
    // An affine map modulo 10^10 with a multiplier coprime to 10: a bijection on ids.
    const MODULUS: u128 = 10_000_000_000;
    let mixed = (id as u128 * 7_919_000_003 + seed as u128 * 104_729) % MODULUS;
    Vid::new(format!("491835{mixed:010}"))
}

/// `n` synthetic individuals with ids `1..=n`, each with complete demographics and a VID,
/// deterministic for `seed`.
pub fn synthetic(n: usize, seed: u64) -> impl Iterator<Item = RegistrantSeed> {
    (1..=n as i64).map(move |id| synthetic_one(id, seed))
}

/// The synthetic individual `id` for `seed`.
pub fn synthetic_one(id: i64, seed: u64) -> RegistrantSeed {
    let h = splitmix(id as u64 ^ seed.rotate_left(17));
    let given = GIVEN[(h % GIVEN.len() as u64) as usize];
    let family = FAMILY[((h >> 8) % FAMILY.len() as u64) as usize];
    let year = 1940 + (h >> 16) % 70;
    let month = 1 + (h >> 24) % 12;
    let day = 1 + (h >> 32) % 28;
    let place = PLACES[((h >> 40) % PLACES.len() as u64) as usize];
    let gender = if (h >> 48).is_multiple_of(2) {
        "Female"
    } else {
        "Male"
    };
    let fields = serde_json::json!({
        "given_name": given,
        "family_name": family,
        "birthdate": format!("{year:04}-{month:02}-{day:02}"),
        "gender": gender,
        "address": format!("{} Main Road, {place}", 1 + (h >> 52) % 400),
        "email": format!("{}.{}{id}@example.org", given.to_lowercase(), family.to_lowercase()),
        "phone": format!("+2507{:08}", h % 100_000_000),
    });
    RegistrantSeed::individual(id, fields, Some(synthetic_vid(id, seed).expose()))
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use std::collections::HashSet;

    #[test]
    fn synthetic_is_deterministic_and_vids_are_distinct() {
        let a: Vec<_> = synthetic(2000, 7).collect();
        let b: Vec<_> = synthetic(2000, 7).collect();
        assert_eq!(a[5].fields, b[5].fields);
        let vids: HashSet<_> = a.iter().map(|r| r.vid.clone().unwrap()).collect();
        assert_eq!(vids.len(), 2000);
        assert!(
            a.iter()
                .all(|r| r.vid.as_ref().unwrap().expose().len() == 16)
        );
        assert_eq!(
            a[0].fields.0["name"],
            Value::from(format!(
                "{}, {}",
                a[0].fields.0["family_name"].as_str().unwrap(),
                a[0].fields.0["given_name"].as_str().unwrap()
            ))
        );
    }
}
