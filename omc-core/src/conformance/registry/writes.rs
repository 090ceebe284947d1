//! The registry cases that write: storing tokens and VIDs, holders, removing VIDs, stores at
//! once, other id type names. Each seeds a registry of its own.

use super::{Fixture, NOBODY, Run};
use crate::conformance::check::{CaseError, call, check, check_eq};
use crate::conformance::{Case, CaseResult};
use crate::domain::{Domain, Operator};
use crate::pii::Token;
use crate::registry::{IdTypes, RegistrantId, Registry, StoreReport};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::task::JoinSet;

/// How many stores of the same registrants the suite runs at once.
const RACERS: usize = 8;

pub(super) fn cases() -> Vec<Case<Run>> {
    vec![
        Case::new(
            "a_token_is_stored_once_and_a_replay_changes_nothing",
            store_and_replay,
        ),
        Case::new(
            "a_different_token_is_a_conflict_and_the_first_stays",
            conflict,
        ),
        Case::new("a_token_for_an_unknown_registrant_is_missing", missing),
        Case::new(
            "a_tokenised_registrant_leaves_the_default_filter",
            leaves_default_filter,
        ),
        Case::new("several_tokens_are_stored_in_one_call", several),
        Case::new(
            "the_holders_of_a_token_come_in_id_order_and_a_token_nobody_holds_is_absent",
            holders,
        ),
        Case::new(
            "removing_vids_is_idempotent_and_keeps_the_tokens",
            remove_vids,
        ),
        Case::new(
            "storing_vids_is_idempotent_and_never_overwrites",
            store_vids,
        ),
        Case::new("stores_of_one_token_at_once_store_it_once", concurrent_same),
        Case::new(
            "stores_of_different_tokens_at_once_keep_the_first_and_report_the_rest_as_conflicts",
            concurrent_different,
        ),
        Case::new("other_id_type_names_are_honoured", custom_id_types),
    ]
}

/// `(stored, unchanged, conflicts, missing)` as messages show them, the lists in id order
/// (the contract gives them in none).
fn counts(f: &Fixture, r: &StoreReport) -> (usize, usize, Vec<super::Shown>, Vec<super::Shown>) {
    let sorted = |ids: &[RegistrantId]| {
        let mut ids = ids.to_vec();
        ids.sort();
        f.shown(&ids)
    };
    (
        r.stored,
        r.unchanged,
        sorted(&r.conflicts),
        sorted(&r.missing),
    )
}

async fn store(
    f: &Fixture,
    tokens: &[(RegistrantId, Token)],
    what: &str,
) -> Result<StoreReport, CaseError> {
    f.registry.store_tokens(tokens).await.map_err(call(what))
}

/// Fails unless registrant `n` holds `want` (as `tokens` reads it).
async fn holds(f: &Fixture, n: i64, want: &Token, what: &str) -> CaseResult {
    let held = f
        .registry
        .tokens(&[f.id(n)])
        .await
        .map_err(call("tokens"))?;
    let got = held.get(&f.id(n));
    check(got == Some(want), || {
        format!(
            "{what}: registrant {n} holds {}, the contract wants the token stored first",
            match got {
                Some(_) => "another token",
                None => "no token",
            }
        )
    })
}

async fn store_and_replay(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let t1 = f.token("of-1");
    let report = store(&f, &[(f.id(1), t1.clone())], "store_tokens").await?;
    check_eq(
        counts(&f, &report),
        (1, 0, vec![], vec![]),
        "the first store of registrant 1's token: (stored, unchanged, conflicts, missing)",
    )?;
    check_eq(
        f.shown(&report.stored_ids),
        Fixture::numbers([1]),
        "the first store's stored_ids",
    )?;
    let report = store(&f, &[(f.id(1), t1.clone())], "store_tokens again").await?;
    check_eq(
        counts(&f, &report),
        (0, 1, vec![], vec![]),
        "the same token stored again: (stored, unchanged, conflicts, missing)",
    )?;
    holds(&f, 1, &t1, "after a replay").await
}

async fn conflict(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let t1 = f.token("of-1");
    store(&f, &[(f.id(1), t1.clone())], "store_tokens").await?;
    let report = store(
        &f,
        &[(f.id(1), f.token("another"))],
        "store_tokens of another token",
    )
    .await?;
    check_eq(
        counts(&f, &report),
        (0, 0, Fixture::numbers([1]), vec![]),
        "another token for registrant 1: (stored, unchanged, conflicts, missing)",
    )?;
    holds(&f, 1, &t1, "after a conflicting store").await
}

async fn missing(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let report = store(
        &f,
        &[(NOBODY, f.token("of-nobody")), (f.id(5), f.token("of-5"))],
        "store_tokens",
    )
    .await?;
    check_eq(
        counts(&f, &report),
        (0, 0, vec![], f.shown(&[f.id(5), NOBODY])),
        "tokens for a registrant that does not exist and for archived registrant 5: \
         (stored, unchanged, conflicts, missing)",
    )?;
    let held = f.registry.tokens(&[NOBODY]).await.map_err(call("tokens"))?;
    check_eq(held.len(), 0, "tokens of a registrant that does not exist")
}

async fn leaves_default_filter(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    store(&f, &[(f.id(1), f.token("of-1"))], "store_tokens").await?;
    let remaining = f.all(&Domain::openg2p_default(), 100).await?;
    check(!remaining.contains(&super::Shown::Number(1)), || {
        format!(
            "the default filter after registrant 1 got a token: the implementation gave \
             {remaining:?}, the contract wants registrant 1 left out"
        )
    })
}

async fn several(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let many: Vec<_> = (8..=20)
        .map(|n| (f.id(n), f.token(&format!("t{n}"))))
        .collect();
    let report = store(&f, &many, "store_tokens of 13").await?;
    check_eq(
        counts(&f, &report),
        (13, 0, vec![], vec![]),
        "13 tokens in one call: (stored, unchanged, conflicts, missing)",
    )?;
    let mut stored = report.stored_ids.clone();
    stored.sort();
    check_eq(
        f.shown(&stored),
        Fixture::numbers(8..=20),
        "stored_ids of 13 tokens in one call",
    )?;
    let ids = f.ids(8..=20);
    let held = f.registry.tokens(&ids).await.map_err(call("tokens"))?;
    let right: Vec<i64> = (8..=20)
        .filter(|n| held.get(&f.id(*n)) == Some(&f.token(&format!("t{n}"))))
        .collect();
    check_eq(
        right,
        (8..=20).collect(),
        "the registrants that read back the token stored for them",
    )
}

async fn holders(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let shared = f.token("shared");
    let t8 = f.token("t8");
    store(&f, &[(f.id(8), t8.clone())], "store_tokens").await?;
    store(
        &f,
        &[(f.id(22), shared.clone()), (f.id(21), shared.clone())],
        "store_tokens of one token for two registrants",
    )
    .await?;
    let nobody = f.token("held-by-nobody");
    let found = f
        .registry
        .holders(&[shared.clone(), t8.clone(), nobody.clone()])
        .await
        .map_err(call("holders"))?;
    let of = |t: &Token| found.get(t).map(|ids| f.shown(ids));
    check_eq(
        of(&shared),
        Some(Fixture::numbers([21, 22])),
        "the holders of a token registrants 21 and 22 share",
    )?;
    check_eq(
        of(&t8),
        Some(Fixture::numbers([8])),
        "the holders of registrant 8's token",
    )?;
    check(!found.contains_key(&nobody), || {
        "holders of a token nobody holds: the implementation answered for it, the contract \
         wants it absent"
            .into()
    })?;
    let none = f
        .registry
        .holders(&[])
        .await
        .map_err(call("holders of none"))?;
    check_eq(none.len(), 0, "holders of no token")
}

async fn remove_vids(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let removed = f
        .registry
        .remove_vids(&f.ids([1, 2]))
        .await
        .map_err(call("remove_vids"))?;
    check_eq(
        removed,
        2,
        "VIDs removed of registrants 1 and 2 (each holds one)",
    )?;
    let removed = f
        .registry
        .remove_vids(&f.ids([1, 2, 3]))
        .await
        .map_err(call("remove_vids again"))?;
    check_eq(
        removed,
        0,
        "VIDs removed of registrants 1, 2 (already removed) and 3 (none)",
    )?;
    let ids: Vec<i64> = f.ids([1, 2]).iter().map(|id| id.0).collect();
    let page = f.page(Domain::id_in(&ids), None, 10).await?;
    let state: Vec<(bool, bool)> = page
        .iter()
        .map(|c| (c.vid.is_some(), c.has_token))
        .collect();
    check_eq(
        state,
        vec![(false, false), (false, true)],
        "registrants 1 and 2 after their VIDs were removed: (has a VID, has a token)",
    )?;
    let none = f
        .registry
        .remove_vids(&[])
        .await
        .map_err(call("remove_vids of none"))?;
    check_eq(none, 0, "VIDs removed of no registrant")
}

async fn store_vids(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let vid4 = f.vid(90_004);
    let report = f
        .registry
        .store_vids(&[(f.id(4), vid4.clone())])
        .await
        .map_err(call("store_vids"))?;
    check_eq(
        counts(&f, &report),
        (1, 0, vec![], vec![]),
        "a VID for registrant 4 (holding none): (stored, unchanged, conflicts, missing)",
    )?;
    let report = f
        .registry
        .store_vids(&[(f.id(4), vid4.clone())])
        .await
        .map_err(call("store_vids again"))?;
    check_eq(
        counts(&f, &report),
        (0, 1, vec![], vec![]),
        "the same VID again: (stored, unchanged, conflicts, missing)",
    )?;
    let report = f
        .registry
        .store_vids(&[(f.id(1), vid4.clone()), (NOBODY, vid4.clone())])
        .await
        .map_err(call("store_vids of a different VID"))?;
    check_eq(
        counts(&f, &report),
        (0, 0, Fixture::numbers([1]), f.shown(&[NOBODY])),
        "another VID for registrant 1 and one for a registrant that does not exist: \
         (stored, unchanged, conflicts, missing)",
    )?;
    let page = f.page(Domain::id_in(&[f.id(1).0]), None, 10).await?;
    let kept = page.first().and_then(|c| c.vid.as_ref()) == Some(&f.vid(1));
    check(kept, || {
        "registrant 1's VID after a conflicting store: not the one seeded, the contract wants \
         it kept"
            .into()
    })
}

/// `RACERS` stores at once of one batch each (`batch(racer)`), every result.
async fn race(
    registry: &Arc<dyn Registry>,
    batch: impl Fn(usize) -> Vec<(RegistrantId, Token)>,
) -> Result<Vec<(usize, StoreReport)>, CaseError> {
    let mut racers = JoinSet::new();
    for racer in 0..RACERS {
        let registry = Arc::clone(registry);
        let batch = batch(racer);
        racers.spawn(async move { (racer, registry.store_tokens(&batch).await) });
    }
    let mut reports = Vec::new();
    while let Some(joined) = racers.join_next().await {
        let (racer, report) = joined.map_err(|e| {
            CaseError::failed(format!(
                "a store running beside others panicked or was cancelled ({e}), the contract \
                 wants it to succeed"
            ))
        })?;
        reports.push((
            racer,
            report.map_err(call("a store running beside others"))?,
        ));
    }
    Ok(reports)
}

fn sum(reports: &[(usize, StoreReport)], f: fn(&StoreReport) -> usize) -> usize {
    reports.iter().map(|(_, r)| f(r)).sum()
}

async fn concurrent_same(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let same = f.ids(8..=19);
    let token = |id: RegistrantId| f.token(&format!("race-{id}"));
    let reports = race(&f.registry, |_| {
        same.iter().map(|id| (*id, token(*id))).collect()
    })
    .await?;
    let n = same.len();
    check_eq(
        (
            sum(&reports, |r| r.stored),
            sum(&reports, |r| r.unchanged),
            sum(&reports, |r| r.conflicts.len() + r.missing.len()),
        ),
        (n, (RACERS - 1) * n, 0),
        &format!(
            "{RACERS} stores at once of the same token for each of 12 registrants, summed: \
             (stored, unchanged, conflicts and missing)"
        ),
    )?;
    let held = f.registry.tokens(&same).await.map_err(call("tokens"))?;
    let wrong: Vec<RegistrantId> = same
        .iter()
        .filter(|id| held.get(id) != Some(&token(**id)))
        .copied()
        .collect();
    check_eq(
        f.shown(&wrong),
        vec![],
        "registrants not holding the token stored at once",
    )?;
    let tokens: Vec<Token> = same.iter().map(|id| token(*id)).collect();
    let found = f.registry.holders(&tokens).await.map_err(call("holders"))?;
    let many: Vec<RegistrantId> = same
        .iter()
        .filter(|id| found.get(&token(**id)) != Some(&vec![**id]))
        .copied()
        .collect();
    check_eq(
        f.shown(&many),
        vec![],
        "registrants whose token does not have exactly them as its one holder",
    )
}

async fn concurrent_different(run: Arc<Run>) -> CaseResult {
    let f = run.fresh(IdTypes::default()).await?;
    let other = f.ids(20..=30);
    let token = |id: RegistrantId, racer: usize| f.token(&format!("race-{id}-{racer}"));
    let reports = race(&f.registry, |racer| {
        other.iter().map(|id| (*id, token(*id, racer))).collect()
    })
    .await?;
    let n = other.len();
    check_eq(
        (
            sum(&reports, |r| r.stored),
            sum(&reports, |r| r.conflicts.len()),
            sum(&reports, |r| r.unchanged + r.missing.len()),
        ),
        (n, (RACERS - 1) * n, 0),
        &format!(
            "{RACERS} stores at once of different tokens for each of 11 registrants, summed: \
             (stored, conflicts, unchanged and missing)"
        ),
    )?;
    let held = f.registry.tokens(&other).await.map_err(call("tokens"))?;
    let mut winners: BTreeMap<RegistrantId, Vec<usize>> = BTreeMap::new();
    for (racer, report) in &reports {
        for id in other.iter().filter(|id| !report.conflicts.contains(id)) {
            winners.entry(*id).or_default().push(*racer);
        }
    }
    for id in &other {
        let shown = f.shown(&[*id]);
        let winner = match winners.get(id).map(Vec::as_slice) {
            Some([winner]) => *winner,
            found => {
                return Err(CaseError::failed(format!(
                    "registrant {shown:?}: {} stores reported no conflict, the contract wants \
                     exactly one",
                    found.map_or(0, <[usize]>::len)
                )));
            }
        };
        check(held.get(id) == Some(&token(*id, winner)), || {
            format!(
                "registrant {shown:?} holds another token than the one of the store that \
                 reported it stored, the contract wants that one"
            )
        })?;
    }
    Ok(())
}

async fn custom_id_types(run: Arc<Run>) -> CaseResult {
    let custom = IdTypes {
        vid: "NATIONAL VID".into(),
        token: "NATIONAL TOKEN".into(),
    };
    let f = run.fresh(custom.clone()).await?;
    let filter = Domain::leaf("reg_ids.id_type", Operator::EqLike, json!(custom.vid));
    let ids = f.all(&filter, 100).await?;
    let want: Vec<i64> = [1, 2, 6, 7].into_iter().chain(8..=30).collect();
    check_eq(
        ids,
        Fixture::numbers(want),
        "registrants holding an id of the type named NATIONAL VID",
    )?;
    let page = f.page(Domain::id_in(&[f.id(2).0]), None, 10).await?;
    let state: Vec<(bool, bool)> = page
        .iter()
        .map(|c| (c.vid.is_some(), c.has_token))
        .collect();
    check_eq(
        state,
        vec![(true, true)],
        "registrant 2 with id types NATIONAL VID and NATIONAL TOKEN: (has a VID, has a token)",
    )?;
    let tokens = f
        .registry
        .tokens(&[f.id(2)])
        .await
        .map_err(call("tokens"))?;
    check(tokens.get(&f.id(2)) == Some(&f.token("of-2")), || {
        "registrant 2's token of the type named NATIONAL TOKEN: not the one seeded, the \
         contract wants it read back"
            .into()
    })
}
