//! The conformance suite for [`Registry`] implementations.

use crate::domain::{Domain, Operator};
use crate::fixture::RegistrantSeed;
use crate::pii::Token;
use crate::registry::{CandidateQuery, IdTypes, RegistrantId, Registry, StoreReport};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use tokio::task::JoinSet;

/// How many stores of the same registrants the suite runs at once.
const RACERS: usize = 8;

/// The registrants the suite seeds.
///
/// 1: complete, VID. 2: VID and token. 3: token only. 4: no id. 5: archived, VID.
/// 6: a group with a VID. 7: gender empty, VID. 8..=30: complete, VID.
pub fn fixture() -> Vec<RegistrantSeed> {
    let complete = |id: i64| {
        RegistrantSeed::individual(
            id,
            json!({"given_name": format!("Given{id}"), "family_name": "Family",
                   "birthdate": "1990-02-03", "gender": "Female",
                   "address": "1 Road", "email": format!("p{id}@example.org"), "phone": "+1000"}),
            Some(&format!("49183500000{id:05}")),
        )
    };
    let mut seeds = Vec::new();
    seeds.push(complete(1));
    let mut two = complete(2);
    two.token = Some(Token::new("token-of-2"));
    seeds.push(two);
    let mut three = complete(3);
    three.vid = None;
    three.token = Some(Token::new("token-of-3"));
    seeds.push(three);
    let mut four = complete(4);
    four.vid = None;
    seeds.push(four);
    let mut five = complete(5);
    five.fields.0.insert("active".into(), Value::Bool(false));
    seeds.push(five);
    let mut six = complete(6);
    six.fields.0.insert("is_group".into(), Value::Bool(true));
    seeds.push(six);
    let mut seven = complete(7);
    seven.fields.0.insert("gender".into(), Value::Bool(false));
    seeds.push(seven);
    seeds.extend((8..=30).map(complete));
    seeds
}

fn query(filter: Domain, after: Option<RegistrantId>, limit: usize) -> CandidateQuery {
    CandidateQuery {
        filter,
        fields: crate::config::default_fields(),
        after,
        limit,
    }
}

async fn all_ids(registry: &dyn Registry, filter: &Domain, limit: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let page = registry
            .candidates(&query(filter.clone(), after, limit))
            .await
            .expect("candidates");
        assert!(
            page.len() <= limit,
            "a page holds at most `limit` registrants"
        );
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        ids.extend(page.iter().map(|c| c.id.0));
    }
    ids
}

fn ids_in(ids: &[i64]) -> Domain {
    Domain::leaf("id", Operator::In, json!(ids))
}

/// Runs the whole suite; `make` builds a fresh registry holding the given registrants with the
/// given id type names.
pub async fn run_registry_suite<F, Fut>(make: F)
where
    F: Fn(Vec<RegistrantSeed>, IdTypes) -> Fut,
    Fut: Future<Output = Arc<dyn Registry>>,
{
    let registry = make(fixture(), IdTypes::default()).await;
    let r = registry.as_ref();

    // Paging with OpenG2P's default filter: ascending, no overlap, archived left out.
    let default = Domain::openg2p_default();
    let expected: Vec<i64> = [1, 6, 7].into_iter().chain(8..=30).collect();
    assert_eq!(
        all_ids(r, &default, 5).await,
        expected,
        "default filter, pages of 5"
    );
    assert_eq!(
        all_ids(r, &default, 1000).await,
        expected,
        "default filter, one page"
    );

    // What a candidate carries.
    let page = r
        .candidates(&query(ids_in(&[1, 2, 3, 4, 7]), None, 10))
        .await
        .expect("candidates");
    let by_id = |id: i64| {
        page.iter()
            .find(|c| c.id.0 == id)
            .expect("candidate present")
    };
    assert_eq!(
        page.iter().map(|c| c.id.0).collect::<Vec<_>>(),
        [1, 2, 3, 4, 7]
    );
    assert!(
        by_id(1).vid.is_some() && !by_id(1).has_token,
        "1 has a VID and no token"
    );
    assert!(by_id(2).vid.is_some() && by_id(2).has_token, "2 has both");
    assert!(
        by_id(3).vid.is_none() && by_id(3).has_token,
        "3 has a token only"
    );
    assert!(by_id(4).vid.is_none() && !by_id(4).has_token, "4 has no id");
    assert_eq!(
        by_id(1).vid.as_ref().map(|v| v.expose().to_owned()),
        Some("4918350000000001".into())
    );
    let fields = &by_id(1).fields.0;
    assert_eq!(
        fields.get("birthdate"),
        Some(&json!("1990-02-03")),
        "dates as YYYY-MM-DD"
    );
    assert_eq!(fields.get("given_name"), Some(&json!("Given1")));
    let gender = by_id(7)
        .fields
        .0
        .get("gender")
        .cloned()
        .unwrap_or(Value::Null);
    assert!(
        matches!(gender, Value::Bool(false) | Value::Null),
        "an empty field reads as false"
    );

    // Archived registrants are found when the filter mentions `active`.
    let archived = Domain::leaf("active", Operator::Eq, json!(false));
    assert_eq!(all_ids(r, &archived, 10).await, [5], "filter on active");

    // Tokens read back.
    let tokens = r
        .tokens(&[
            RegistrantId(1),
            RegistrantId(2),
            RegistrantId(3),
            RegistrantId(999),
        ])
        .await
        .expect("tokens");
    assert_eq!(tokens.keys().map(|k| k.0).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(
        tokens.get(&RegistrantId(2)).map(Token::expose),
        Some("token-of-2")
    );

    // Storing is idempotent and never overwrites.
    let t1 = Token::new("token-of-1");
    let report = r
        .store_tokens(&[(RegistrantId(1), t1.clone())])
        .await
        .expect("store");
    assert_eq!((report.stored, report.unchanged), (1, 0), "first store");
    let report = r
        .store_tokens(&[(RegistrantId(1), t1.clone())])
        .await
        .expect("store again");
    assert_eq!(
        (report.stored, report.unchanged),
        (0, 1),
        "replay changes nothing"
    );
    let report = r
        .store_tokens(&[
            (RegistrantId(1), Token::new("another")),
            (RegistrantId(999), t1.clone()),
        ])
        .await
        .expect("store conflict");
    assert_eq!(
        report.conflicts,
        [RegistrantId(1)],
        "a different token is a conflict"
    );
    assert_eq!(
        report.missing,
        [RegistrantId(999)],
        "an unknown registrant is missing"
    );
    let tokens = r.tokens(&[RegistrantId(1)]).await.expect("tokens");
    assert_eq!(
        tokens.get(&RegistrantId(1)),
        Some(&t1),
        "the first token stays"
    );
    let remaining = all_ids(r, &default, 100).await;
    assert!(
        !remaining.contains(&1),
        "a tokenised registrant leaves the default filter"
    );

    // Several tokens in one call.
    let many: Vec<_> = (8..=20)
        .map(|i| (RegistrantId(i), Token::new(format!("t{i}"))))
        .collect();
    let report = r.store_tokens(&many).await.expect("store many");
    assert_eq!(report.stored, 13);

    // Holders of a token: two registrants sharing one (one person registered twice).
    let shared = Token::new("shared-token");
    r.store_tokens(&[
        (RegistrantId(22), shared.clone()),
        (RegistrantId(21), shared.clone()),
    ])
    .await
    .expect("store a shared token");
    let holders = r
        .holders(&[
            shared.clone(),
            Token::new("t8"),
            Token::new("held-by-nobody"),
        ])
        .await
        .expect("holders");
    assert_eq!(
        holders.get(&shared),
        Some(&vec![RegistrantId(21), RegistrantId(22)]),
        "both holders of a shared token, in id order"
    );
    assert_eq!(holders.get(&Token::new("t8")), Some(&vec![RegistrantId(8)]));
    assert!(
        !holders.contains_key(&Token::new("held-by-nobody")),
        "a token nobody holds is absent"
    );
    assert!(r.holders(&[]).await.expect("holders of none").is_empty());

    // Removing VIDs is idempotent.
    let removed = r
        .remove_vids(&[RegistrantId(1), RegistrantId(2)])
        .await
        .expect("remove");
    assert_eq!(removed, 2);
    let removed = r
        .remove_vids(&[RegistrantId(1), RegistrantId(2), RegistrantId(3)])
        .await
        .expect("remove again");
    assert_eq!(removed, 0, "VIDs already gone are not an error");
    let page = r
        .candidates(&query(ids_in(&[1, 2]), None, 10))
        .await
        .expect("candidates");
    assert!(
        page.iter().all(|c| c.vid.is_none() && c.has_token),
        "tokens stay, VIDs gone"
    );
    assert_eq!(r.remove_vids(&[]).await.expect("remove none"), 0);

    // Stores running at once, as a receiver's concurrent callbacks run them.
    concurrent_stores(make(fixture(), IdTypes::default()).await).await;

    // Other id type names are honoured.
    let custom = IdTypes {
        vid: "NATIONAL VID".into(),
        token: "NATIONAL TOKEN".into(),
    };
    let registry = make(fixture(), custom.clone()).await;
    let filter = Domain::leaf("reg_ids.id_type", Operator::EqLike, json!(custom.vid));
    let ids = all_ids(registry.as_ref(), &filter, 100).await;
    assert!(
        ids.contains(&1) && !ids.contains(&3),
        "custom VID type name"
    );
    let tokens = registry.tokens(&[RegistrantId(2)]).await.expect("tokens");
    assert_eq!(
        tokens.get(&RegistrantId(2)).map(Token::expose),
        Some("token-of-2"),
        "custom token type name"
    );
}

/// `RACERS` stores at once of one batch each (`batch(racer)`), every result.
async fn race(
    registry: &Arc<dyn Registry>,
    batch: impl Fn(usize) -> Vec<(RegistrantId, Token)>,
) -> Vec<(usize, StoreReport)> {
    let mut racers = JoinSet::new();
    for racer in 0..RACERS {
        let registry = Arc::clone(registry);
        let batch = batch(racer);
        racers.spawn(async move { (racer, registry.store_tokens(&batch).await) });
    }
    let mut reports = Vec::new();
    while let Some(joined) = racers.join_next().await {
        let (racer, report) = joined.expect("a store does not panic");
        reports.push((racer, report.expect("a concurrent store succeeds")));
    }
    reports
}

/// Concurrent stores for the same registrants: each ends with exactly one token id, the first
/// stored; exactly one store reports it stored, the others unchanged (the same token) or a
/// conflict (another one).
async fn concurrent_stores(registry: Arc<dyn Registry>) {
    let same: Vec<RegistrantId> = (8..=19).map(RegistrantId).collect();
    let token = |id: RegistrantId| Token::new(format!("race-{id}"));
    let reports = race(&registry, |_| {
        same.iter().map(|id| (*id, token(*id))).collect()
    })
    .await;
    let sum = |f: fn(&StoreReport) -> usize| reports.iter().map(|(_, r)| f(r)).sum::<usize>();
    assert_eq!(
        sum(|r| r.stored),
        same.len(),
        "the same token stored at once: one token id per registrant"
    );
    assert_eq!(sum(|r| r.unchanged), (RACERS - 1) * same.len());
    assert_eq!(sum(|r| r.conflicts.len() + r.missing.len()), 0);
    let held = registry.tokens(&same).await.expect("tokens");
    for id in &same {
        assert_eq!(held.get(id), Some(&token(*id)), "registrant {id}'s token");
    }
    let tokens: Vec<Token> = same.iter().map(|id| token(*id)).collect();
    let holders = registry.holders(&tokens).await.expect("holders");
    for id in &same {
        assert_eq!(holders.get(&token(*id)), Some(&vec![*id]), "one holder");
    }

    // Different tokens at once: the first stored stays; every other store is a conflict.
    let other: Vec<RegistrantId> = (20..=30).map(RegistrantId).collect();
    let token = |id: RegistrantId, racer: usize| Token::new(format!("race-{id}-{racer}"));
    let reports = race(&registry, |racer| {
        other.iter().map(|id| (*id, token(*id, racer))).collect()
    })
    .await;
    let sum = |f: fn(&StoreReport) -> usize| reports.iter().map(|(_, r)| f(r)).sum::<usize>();
    assert_eq!(sum(|r| r.stored), other.len(), "one token stored each");
    assert_eq!(sum(|r| r.conflicts.len()), (RACERS - 1) * other.len());
    assert_eq!(sum(|r| r.unchanged + r.missing.len()), 0);
    let held = registry.tokens(&other).await.expect("tokens");
    let mut winners: BTreeMap<RegistrantId, Vec<usize>> = BTreeMap::new();
    for (racer, report) in &reports {
        for id in other.iter().filter(|id| !report.conflicts.contains(id)) {
            winners.entry(*id).or_default().push(*racer);
        }
    }
    for id in &other {
        let winner = match winners.get(id).map(Vec::as_slice) {
            Some([winner]) => *winner,
            found => panic!("registrant {id}: one store without a conflict, found {found:?}"),
        };
        assert_eq!(
            held.get(id),
            Some(&token(*id, winner)),
            "registrant {id} keeps the token of the store that reported it stored"
        );
    }
}
