//! `OdooClient` and `OdooRegistry` against the Odoo emulator over real HTTP.

use omc_core::domain::Operator;
use omc_core::memory::RegistrantSeed;
use omc_core::testing::{synthetic, synthetic_one};
use omc_core::time::{ManualClock, Timestamp};
use omc_core::{
    Candidate, CandidateQuery, Domain, IdTypes, RegistrantId, Registry, RegistryError, StoreReport,
    Token, Vid,
};
use omc_odoo::emulator::{OdooEmulator, RunningOdoo};
use omc_odoo::{OdooClient, OdooRegistry};
use secrecy::SecretString;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;

fn client(odoo: &RunningOdoo, password: &str) -> OdooClient {
    OdooClient::builder()
        .base_url(odoo.base_url())
        .database(odoo.database())
        .login("admin")
        .password(SecretString::from(password))
        .build()
        .expect("client")
}

async fn start(seeds: Vec<RegistrantSeed>) -> (RunningOdoo, OdooRegistry) {
    let odoo = OdooEmulator::builder().start().await.expect("emulator");
    odoo.seed(seeds);
    let registry = OdooRegistry::new(client(&odoo, "admin"), IdTypes::default());
    (odoo, registry)
}

fn query(after: Option<i64>, limit: usize) -> CandidateQuery {
    CandidateQuery {
        filter: Domain::openg2p_default(),
        fields: ["given_name", "family_name", "birthdate", "gender"]
            .map(String::from)
            .to_vec(),
        after: after.map(RegistrantId),
        limit,
    }
}

#[tokio::test]
async fn candidates_page_by_id_with_openg2p_default_filter() {
    let mut seeds: Vec<_> = synthetic(25, 3).collect();
    seeds[4]
        .fields
        .expose_mut()
        .insert("active".into(), json!(false)); // id 5 archived
    seeds[5]
        .fields
        .expose_mut()
        .insert("is_registrant".into(), json!(false)); // id 6 not a registrant
    seeds[6].token = Some(Token::new("token-7")); // id 7 done
    seeds[7].vid = None; // id 8 has nothing to send
    let (odoo, registry) = start(seeds).await;

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        odoo.reset_calls();
        let page = registry.candidates(&query(after, 4)).await.expect("page");
        assert_eq!(odoo.calls("res.partner", "search_read"), 1);
        assert!(odoo.calls("g2p.reg.id", "search_read") <= 1);
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        after = Some(last.id.0);
        for c in &page {
            assert!(c.vid.is_some() && !c.has_token, "{c:?}");
            assert!(
                c.fields.expose().contains_key("id") && c.fields.expose().contains_key("birthdate")
            );
        }
        seen.extend(page.iter().map(|c| c.id.0));
    }
    let expected: Vec<i64> = (1..=25).filter(|id| ![5, 6, 7, 8].contains(id)).collect();
    assert_eq!(seen, expected);
    let first = registry.candidates(&query(None, 1)).await.expect("page");
    assert_eq!(
        first[0].vid.as_ref().map(|v| v.expose().to_owned()),
        odoo.vid_of(RegistrantId(1)).map(|v| v.expose().to_owned())
    );
    odoo.shutdown().await;
}

#[tokio::test]
async fn groups_are_excluded_when_the_filter_says_so() {
    let mut seeds: Vec<_> = synthetic(4, 1).collect();
    seeds[1]
        .fields
        .expose_mut()
        .insert("is_group".into(), json!(true));
    let (odoo, registry) = start(seeds).await;
    let individuals =
        Domain::openg2p_default().and(Domain::leaf("is_group", Operator::Eq, json!(false)));
    let mut q = query(None, 10);
    q.filter = individuals;
    let ids: Vec<i64> = registry
        .candidates(&q)
        .await
        .expect("page")
        .iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(ids, [1, 3, 4]);
    let all: Vec<i64> = registry
        .candidates(&query(None, 10))
        .await
        .expect("page")
        .iter()
        .map(|c| c.id.0)
        .collect();
    assert_eq!(all, [1, 2, 3, 4], "the default filter keeps groups");
    odoo.shutdown().await;
}

#[tokio::test]
async fn store_tokens_is_idempotent_and_never_overwrites() {
    let mut seeds: Vec<_> = synthetic(4, 9).collect();
    seeds[3]
        .fields
        .expose_mut()
        .insert("active".into(), json!(false));
    let (odoo, registry) = start(seeds).await;
    let t1 = Token::new("token-one");
    let report = registry
        .store_tokens(&[
            (RegistrantId(1), t1.clone()),
            (RegistrantId(2), Token::new("token-two")),
        ])
        .await
        .expect("store");
    assert_eq!(report.stored, 2);
    assert_eq!(
        odoo.calls("g2p.reg.id", "create"),
        1,
        "one create for the batch"
    );
    assert_eq!(odoo.token_of(RegistrantId(1)), Some(t1.clone()));

    let report = registry
        .store_tokens(&[
            (RegistrantId(1), t1.clone()),
            (RegistrantId(2), Token::new("another")),
            (RegistrantId(4), Token::new("archived")),
            (RegistrantId(99), Token::new("nobody")),
        ])
        .await
        .expect("store again");
    assert_eq!(report.stored, 0);
    assert_eq!(report.unchanged, 1);
    assert_eq!(report.conflicts, [RegistrantId(2)]);
    assert_eq!(report.missing, [RegistrantId(4), RegistrantId(99)]);
    assert_eq!(
        odoo.token_of(RegistrantId(2)),
        Some(Token::new("token-two"))
    );
    assert_eq!(
        odoo.calls("g2p.reg.id", "create"),
        1,
        "nothing more created"
    );

    let tokens = registry
        .tokens(&[RegistrantId(1), RegistrantId(2), RegistrantId(3)])
        .await
        .expect("tokens");
    assert_eq!(tokens.len(), 2);
    assert_eq!(tokens[&RegistrantId(1)], t1);
    odoo.shutdown().await;
}

#[tokio::test]
async fn chunks_keep_requests_bounded() {
    let (odoo, registry) = start(synthetic(25, 2).collect()).await;
    let registry = registry.with_chunk_size(10);
    let tokens: Vec<_> = (1..=25)
        .map(|i| (RegistrantId(i), Token::new(format!("t{i}"))))
        .collect();
    let report = registry.store_tokens(&tokens).await.expect("store");
    assert_eq!(report.stored, 25);
    assert_eq!(odoo.calls("g2p.reg.id", "create"), 3);
    let ids: Vec<_> = (1..=25).map(RegistrantId).collect();
    assert_eq!(registry.tokens(&ids).await.expect("tokens").len(), 25);
    assert_eq!(registry.remove_vids(&ids).await.expect("remove"), 25);
    assert_eq!(odoo.calls("g2p.reg.id", "unlink"), 3);
    assert_eq!(odoo.count_ids("MOSIP VID"), 0);
    odoo.shutdown().await;
}

#[tokio::test]
async fn remove_vids_is_idempotent_and_tolerates_concurrent_deletes() {
    let (odoo, registry) = start(synthetic(5, 4).collect()).await;
    assert!(
        odoo.delete_vid(RegistrantId(2)),
        "OpenG2P's own cleanup ran first"
    );
    let ids: Vec<_> = (1..=3).map(RegistrantId).collect();
    assert_eq!(registry.remove_vids(&ids).await.expect("remove"), 2);
    assert_eq!(registry.remove_vids(&ids).await.expect("again"), 0);
    assert!(odoo.vid_of(RegistrantId(4)).is_some(), "others untouched");
    assert_eq!(odoo.count_ids("MOSIP VID"), 2);
    assert_eq!(registry.remove_vids(&[]).await.expect("none"), 0);
    odoo.shutdown().await;
}

#[tokio::test]
async fn a_missing_token_type_is_invalid_and_names_it() {
    let (odoo, _) = start(synthetic(1, 1).collect()).await;
    let types = IdTypes {
        vid: "MOSIP VID".into(),
        token: "NO SUCH TYPE".into(),
    };
    let registry = OdooRegistry::new(client(&odoo, "admin"), types);
    let error = registry
        .store_tokens(&[(RegistrantId(1), Token::new("t"))])
        .await
        .expect_err("no such type");
    assert!(
        matches!(&error, RegistryError::Invalid { message } if message.contains("NO SUCH TYPE"))
    );
    odoo.shutdown().await;
}

#[tokio::test]
async fn a_bad_password_is_unauthenticated_and_a_bad_filter_invalid() {
    let (odoo, registry) = start(synthetic(1, 1).collect()).await;
    let bad = OdooRegistry::new(client(&odoo, "wrong"), IdTypes::default());
    let error = bad.candidates(&query(None, 5)).await.expect_err("refused");
    assert!(
        matches!(error, RegistryError::Unauthenticated { .. }),
        "{error}"
    );
    assert!(matches!(
        client(&odoo, "wrong")
            .login()
            .await
            .map_err(RegistryError::from),
        Err(RegistryError::Unauthenticated { .. })
    ));

    let mut q = query(None, 5);
    q.filter = Domain::leaf("no_such_field", Operator::Eq, json!(1));
    let error = registry.candidates(&q).await.expect_err("unknown field");
    assert!(matches!(&error, RegistryError::Invalid { message } if message.contains("ValueError")));
    assert!(
        !format!("{error:?}").contains("no_such_field"),
        "Odoo's message is not kept"
    );
    odoo.shutdown().await;
}

/// An emulator whose clock stands at 2026-11-27 10:00:00 until the test moves it.
async fn start_at_ten(
    seeds: Vec<RegistrantSeed>,
    builder: OdooEmulator,
) -> (RunningOdoo, OdooRegistry, ManualClock) {
    let clock = ManualClock::at(at("2026-11-27 10:00:00"));
    let odoo = builder
        .clock(Arc::new(clock.clone()))
        .start()
        .await
        .expect("emulator");
    odoo.seed(seeds);
    let registry = OdooRegistry::new(client(&odoo, "admin"), IdTypes::default());
    (odoo, registry, clock)
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_odoo(text).expect("a datetime")
}

fn ids_query(filter: serde_json::Value, fields: &[&str]) -> CandidateQuery {
    CandidateQuery {
        filter: Domain::from_json(&filter).expect("domain"),
        fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        after: None,
        limit: 100,
    }
}

async fn by_id(registry: &OdooRegistry, fields: &[&str]) -> BTreeMap<i64, Candidate> {
    registry
        .candidates(&ids_query(json!([]), fields))
        .await
        .expect("candidates")
        .into_iter()
        .map(|c| (c.id.0, c))
        .collect()
}

async fn selected(registry: &OdooRegistry, filter: serde_json::Value) -> Vec<i64> {
    registry
        .candidates(&ids_query(filter, &[]))
        .await
        .expect("candidates")
        .iter()
        .map(|c| c.id.0)
        .collect()
}

#[tokio::test]
async fn candidates_report_write_dates_and_id_writes_leave_the_partner_alone() {
    let (odoo, registry, clock) =
        start_at_ten(synthetic(3, 6).collect(), OdooEmulator::builder()).await;
    let c = client(&odoo, "admin");
    let ten = Some("2026-11-27 10:00:00".to_owned());
    let before = by_id(&registry, &["given_name"]).await;
    assert_eq!(before.len(), 3);
    for candidate in before.values() {
        assert_eq!(candidate.written.partner, ten);
        assert_eq!(candidate.written.ids, ten);
        assert!(
            !candidate.fields.expose().contains_key("write_date"),
            "not asked for"
        );
        assert!(candidate.fields.expose().contains_key("given_name"));
    }

    // A new VID for 1, through JSON-RPC as OpenG2P's UI or an import would write it.
    clock.advance(10);
    let vid_type = odoo.id_type_id("MOSIP VID").expect("VID type");
    let held = c
        .execute_kw(
            "g2p.reg.id",
            "search",
            json!([[["partner_id", "=", 1], ["id_type", "=", vid_type]]]),
            json!({}),
        )
        .await
        .expect("search");
    c.execute_kw("g2p.reg.id", "unlink", json!([held]), json!({}))
        .await
        .expect("unlink");
    let fresh = "4918350000000042";
    c.execute_kw(
        "g2p.reg.id",
        "create",
        json!([{"partner_id": 1, "id_type": vid_type, "value": fresh}]),
        json!({}),
    )
    .await
    .expect("create");
    let after = by_id(&registry, &[]).await;
    let one = &after[&1];
    assert_eq!(one.written.ids.as_deref(), Some("2026-11-27 10:00:10"));
    assert_eq!(
        one.written.partner, ten,
        "an id written is not its registrant"
    );
    assert_eq!(one.vid.as_ref().map(Vid::expose), Some(fresh));
    assert_eq!(after[&2].written, before[&2].written, "others untouched");

    // An edit of registrant 2 itself moves its own stamp.
    clock.advance(10);
    let written = c
        .execute_kw(
            "res.partner",
            "write",
            json!([[2], {"phone": "+2000"}]),
            json!({}),
        )
        .await
        .expect("write");
    assert_eq!(written, true);
    let asked = by_id(&registry, &["write_date"]).await;
    let two = &asked[&2];
    assert_eq!(two.written.partner.as_deref(), Some("2026-11-27 10:00:20"));
    assert_eq!(two.written.ids, ten);
    assert_eq!(
        two.fields.expose().get("write_date"),
        Some(&json!("2026-11-27 10:00:20")),
        "kept when asked for"
    );

    // The delta filters a run would use, as real Odoo answers them.
    let since = |op: &str, when: &str| json!([["reg_ids.write_date", op, when]]);
    assert_eq!(
        selected(&registry, since(">=", "2026-11-27 10:00:10")).await,
        [1]
    );
    assert_eq!(
        selected(&registry, since(">", "2026-11-27 10:00:10")).await,
        [1],
        "stored to a fraction of a second: later than the second read back"
    );
    assert!(
        selected(&registry, since("=", "2026-11-27 10:00:10"))
            .await
            .is_empty()
    );
    assert!(
        selected(&registry, since(">", "2026-11-27"))
            .await
            .is_empty(),
        "a date alone: its last second"
    );
    assert_eq!(
        selected(&registry, since("<=", "2026-11-27")).await,
        [1, 2, 3]
    );
    assert_eq!(
        selected(
            &registry,
            json!([["write_date", ">=", "2026-11-27 10:00:20"]])
        )
        .await,
        [2]
    );
    odoo.shutdown().await;
}

/// Gives registrant `partner` an id of the type `id_type` whose value is "" (Odoo keeps "").
async fn empty_id(odoo: &RunningOdoo, partner: i64, id_type: i64) {
    client(odoo, "admin")
        .execute_kw(
            "g2p.reg.id",
            "create",
            json!([{"partner_id": partner, "id_type": id_type, "value": ""}]),
            json!({}),
        )
        .await
        .expect("an id with an empty value");
}

#[tokio::test]
async fn an_empty_token_id_is_not_a_token_and_is_never_doubled() {
    let (odoo, registry, _clock) =
        start_at_ten(synthetic(4, 7).collect(), OdooEmulator::builder()).await;
    let token_type = odoo.id_type_id("MOSIP UIN TOKEN").expect("token type");
    // 2: a token id set to "" over JSON-RPC (Odoo keeps ""); 3: one never given a value.
    empty_id(&odoo, 2, token_type).await;
    assert!(odoo.add_empty_token_id(RegistrantId(3)));
    let seen = by_id(&registry, &[]).await;
    for id in [2, 3] {
        let c = &seen[&id];
        assert!(c.empty_token_id && !c.has_token, "{id}: {c:?}");
        assert!(c.vid.is_some(), "its VID stays");
    }
    assert!(!seen[&1].empty_token_id && !seen[&1].has_token);

    let ids: Vec<_> = (1..=4).map(RegistrantId).collect();
    assert!(registry.tokens(&ids).await.expect("tokens").is_empty());
    assert!(
        registry
            .holders(&[Token::new("")])
            .await
            .expect("holders")
            .is_empty()
    );

    let report = registry
        .store_tokens(&[
            (RegistrantId(2), Token::new("token-two")),
            (RegistrantId(3), Token::new("token-three")),
            (RegistrantId(4), Token::new("token-four")),
        ])
        .await
        .expect("store");
    assert_eq!(report.conflicts, [RegistrantId(2), RegistrantId(3)]);
    assert_eq!(report.stored, 1);
    assert_eq!(odoo.count_ids("MOSIP UIN TOKEN"), 3, "no second token id");
    let four = &by_id(&registry, &[]).await[&4];
    assert!(four.has_token && !four.empty_token_id);
    odoo.shutdown().await;
}

#[tokio::test]
async fn store_vids_is_idempotent_and_reports_conflicts_and_missing() {
    let mut seeds: Vec<_> = synthetic(6, 8).collect();
    for seed in &mut seeds[..4] {
        seed.vid = None; // 1..=4 without a VID; 5 and 6 hold one
    }
    seeds[3]
        .fields
        .expose_mut()
        .insert("active".into(), json!(false)); // 4 archived
    let held_by_six = seeds[5].vid.clone().expect("a VID");
    let (odoo, registry, _clock) = start_at_ten(seeds, OdooEmulator::builder()).await;
    let vid_type = odoo.id_type_id("MOSIP VID").expect("VID type");
    empty_id(&odoo, 3, vid_type).await;
    let vid = |n: u64| Vid::new(format!("49183599999999{n:02}"));
    let batch = vec![
        (RegistrantId(1), vid(1)),
        (RegistrantId(2), vid(2)),
        (RegistrantId(3), vid(3)),
        (RegistrantId(4), vid(4)),
        (RegistrantId(5), vid(5)),
        (RegistrantId(6), held_by_six.clone()),
        (RegistrantId(99), vid(99)),
    ];
    odoo.reset_calls();
    let report = registry.store_vids(&batch).await.expect("store");
    assert_eq!(report.stored, 2);
    assert_eq!(report.unchanged, 1, "6 already holds this VID");
    assert_eq!(report.conflicts, [RegistrantId(3), RegistrantId(5)]);
    assert_eq!(report.missing, [RegistrantId(4), RegistrantId(99)]);
    assert_eq!(
        odoo.calls("g2p.reg.id", "create"),
        1,
        "one create for the batch"
    );
    assert_eq!(odoo.vid_of(RegistrantId(1)), Some(vid(1)));
    assert_ne!(
        odoo.vid_of(RegistrantId(5)),
        Some(vid(5)),
        "never overwritten"
    );

    let again = registry.store_vids(&batch).await.expect("again");
    assert_eq!((again.stored, again.unchanged), (0, 3));
    assert_eq!(
        odoo.calls("g2p.reg.id", "create"),
        1,
        "nothing more created"
    );
    assert_eq!(odoo.count_ids("MOSIP VID"), 5);
    let seen = by_id(&registry, &[]).await;
    assert_eq!(seen[&2].vid, Some(vid(2)));
    assert_eq!(seen[&3].vid, None, "an empty VID id is no VID");
    assert_eq!(
        registry.store_vids(&[]).await.expect("none"),
        StoreReport::default()
    );
    odoo.shutdown().await;
}

#[tokio::test]
async fn store_vids_refuses_a_value_the_id_validation_refuses_without_quoting_it() {
    let mut seeds: Vec<_> = synthetic(3, 9).collect();
    for seed in &mut seeds {
        seed.vid = None;
    }
    let builder = OdooEmulator::builder().id_validation("MOSIP VID", "[0-9]{16}");
    let (odoo, registry, _clock) = start_at_ten(seeds, builder).await;
    let secret = "secret-not-a-vid";
    odoo.reset_calls();
    let error = registry
        .store_vids(&[
            (RegistrantId(1), Vid::new("4918350000000001")),
            (RegistrantId(2), Vid::new(secret)),
        ])
        .await
        .expect_err("refused");
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, RegistryError::Invalid { .. }), "{shown}");
    assert!(
        shown.contains("registrant 2") && shown.contains("MOSIP VID"),
        "{shown}"
    );
    assert!(!shown.contains(secret), "{shown}");
    assert_eq!(odoo.calls("g2p.reg.id", "create"), 0, "nothing stored");
    assert_eq!(odoo.count_ids("MOSIP VID"), 0);

    // Odoo's own refusal (its message quotes the value) is kept by name only.
    let vid_type = odoo.id_type_id("MOSIP VID").expect("VID type");
    let raw = client(&odoo, "admin")
        .execute_kw(
            "g2p.reg.id",
            "create",
            json!([{"partner_id": 2, "id_type": vid_type, "value": secret}]),
            json!({}),
        )
        .await
        .expect_err("refused by Odoo");
    assert_eq!(raw.exception(), Some("odoo.exceptions.ValidationError"));
    let error = RegistryError::from(raw);
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, RegistryError::Invalid { .. }), "{shown}");
    assert!(!shown.contains(secret), "{shown}");

    // A pattern only Python reads is left to Odoo, whose refusal is just as clean.
    client(&odoo, "admin")
        .execute_kw(
            "g2p.id.type",
            "write",
            json!([[vid_type], {"id_validation": "(?=4)[0-9]{16}"}]),
            json!({}),
        )
        .await
        .expect("write the pattern");
    let error = registry
        .store_vids(&[(RegistrantId(3), Vid::new(secret))])
        .await
        .expect_err("refused by Odoo");
    let shown = format!("{error} {error:?}");
    assert!(matches!(error, RegistryError::Invalid { .. }), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
    assert_eq!(odoo.count_ids("MOSIP VID"), 0);
    odoo.shutdown().await;
}

#[tokio::test]
async fn id_validation_reads_the_pattern_or_none_and_names_an_unknown_type() {
    let builder = OdooEmulator::builder().id_validation("MOSIP VID", "[0-9]{16}");
    let (odoo, registry, _clock) = start_at_ten(synthetic(1, 1).collect(), builder).await;
    assert_eq!(
        registry.id_validation("MOSIP VID").await.expect("VID"),
        Some("[0-9]{16}".to_owned())
    );
    assert_eq!(
        registry
            .id_validation("MOSIP UIN TOKEN")
            .await
            .expect("token"),
        None
    );
    // Cleared in the UI, it reads "" (not false): still none.
    let token_type = odoo.id_type_id("MOSIP UIN TOKEN").expect("token type");
    client(&odoo, "admin")
        .execute_kw(
            "g2p.id.type",
            "write",
            json!([[token_type], {"id_validation": ""}]),
            json!({}),
        )
        .await
        .expect("write");
    assert_eq!(
        registry
            .id_validation("MOSIP UIN TOKEN")
            .await
            .expect("token"),
        None
    );
    let error = registry
        .id_validation("NO SUCH TYPE")
        .await
        .expect_err("unknown");
    assert!(
        matches!(&error, RegistryError::Invalid { message }
            if message == "the id type 'NO SUCH TYPE' does not exist in the registry"),
        "{error}"
    );
    assert!(
        registry.id_validation("mosip vid").await.is_err(),
        "names compare exactly"
    );
    odoo.shutdown().await;
}

/// The token rows each of `ids` holds in the emulator.
fn token_rows(odoo: &RunningOdoo, ids: &[i64]) -> Vec<usize> {
    ids.iter()
        .map(|id| {
            odoo.reg_ids_of(RegistrantId(*id))
                .iter()
                .filter(|r| r.id_type == "MOSIP UIN TOKEN")
                .count()
        })
        .collect()
}

/// The sum of one count over reports.
fn total(reports: &[StoreReport], count: fn(&StoreReport) -> usize) -> usize {
    reports.iter().map(count).sum()
}

#[tokio::test]
async fn concurrent_stores_through_one_registry_create_one_token_id_each() {
    let (odoo, registry) = start(synthetic(6, 3).collect()).await;
    let registry = Arc::new(registry);
    let batch: Vec<_> = (1..=6)
        .map(|i| (RegistrantId(i), Token::new(format!("t{i}"))))
        .collect();
    let mut racers = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (registry, batch) = (Arc::clone(&registry), batch.clone());
        racers.spawn(async move { registry.store_tokens(&batch).await });
    }
    let mut reports = Vec::new();
    while let Some(joined) = racers.join_next().await {
        reports.push(joined.expect("joined").expect("every store succeeds"));
    }
    assert_eq!(total(&reports, |r| r.stored), 6);
    assert_eq!(total(&reports, |r| r.unchanged), 7 * 6);
    assert_eq!(token_rows(&odoo, &[1, 2, 3, 4, 5, 6]), [1; 6]);
    assert_eq!(odoo.calls("g2p.reg.id", "create"), 1, "one store created");
    odoo.shutdown().await;
}

#[tokio::test]
async fn creates_overlapping_as_on_odoo_leave_each_registrant_its_first_token_id() {
    // Two processes (two registries: no lock in common) store at once, and Odoo lets both
    // creates pass OpenG2P's one-id-per-type check, as overlapping transactions do.
    let (odoo, one) = start(synthetic(4, 5).collect()).await;
    let two = OdooRegistry::new(client(&odoo, "admin"), IdTypes::default());
    let stores = |tokens: [(i64, &str); 2]| {
        let tokens: Vec<_> = tokens
            .iter()
            .map(|(id, t)| (RegistrantId(*id), Token::new(*t)))
            .collect();
        tokens
    };

    // The same token from both: one stored, one unchanged, one token id left.
    let held = odoo.hold_reg_id_creates();
    let same = stores([(1, "same-1"), (2, "same-2")]);
    let (a, b) = (one.clone(), two.clone());
    let (batch_a, batch_b) = (same.clone(), same.clone());
    let first = tokio::spawn(async move { a.store_tokens(&batch_a).await });
    let second = tokio::spawn(async move { b.store_tokens(&batch_b).await });
    held.arrived(2).await;
    held.release();
    let reports = [
        first.await.unwrap().expect("store"),
        second.await.unwrap().expect("store"),
    ];
    assert_eq!(
        token_rows(&odoo, &[1, 2]),
        [1, 1],
        "the later duplicate is removed"
    );
    assert_eq!(total(&reports, |r| r.stored), 2, "{reports:?}");
    assert_eq!(total(&reports, |r| r.unchanged), 2, "{reports:?}");
    assert_eq!(odoo.token_of(RegistrantId(1)), Some(Token::new("same-1")));

    // Different tokens: each registrant keeps the first created, the other store reports a
    // conflict.
    let held = odoo.hold_reg_id_creates();
    let (a, b) = (one.clone(), two.clone());
    let batch_a = stores([(3, "a-3"), (4, "a-4")]);
    let batch_b = stores([(3, "b-3"), (4, "b-4")]);
    let first = tokio::spawn(async move { a.store_tokens(&batch_a).await });
    let second = tokio::spawn(async move { b.store_tokens(&batch_b).await });
    held.arrived(2).await;
    drop(held);
    let reports = [
        first.await.unwrap().expect("store"),
        second.await.unwrap().expect("store"),
    ];
    assert_eq!(token_rows(&odoo, &[3, 4]), [1, 1]);
    assert_eq!(total(&reports, |r| r.stored), 2, "{reports:?}");
    assert_eq!(total(&reports, |r| r.conflicts.len()), 2, "{reports:?}");
    for id in [3, 4] {
        let id = RegistrantId(id);
        let winner = if reports[0].conflicts.contains(&id) {
            "b"
        } else {
            "a"
        };
        assert_eq!(
            odoo.token_of(id),
            Some(Token::new(format!("{winner}-{id}"))),
            "the registrant keeps the token of the store that reported it stored"
        );
    }
    odoo.shutdown().await;
}

#[tokio::test]
async fn a_create_refused_for_an_id_committed_meanwhile_is_settled_by_reading_again() {
    let (odoo, registry) = start(synthetic(3, 6).collect()).await;
    let held = odoo.hold_reg_id_creates();
    let batch = [
        (RegistrantId(1), Token::new("t1")),
        (RegistrantId(2), Token::new("t2")),
        (RegistrantId(3), Token::new("t3")),
    ];
    let store = tokio::spawn(async move { registry.store_tokens(&batch).await });
    held.arrived(1).await;
    // Between the store's read and its create, another writer commits registrant 1's token
    // (the same) and an empty token id for 2: Odoo refuses the whole create.
    let mut one = synthetic_one(1, 6);
    one.token = Some(Token::new("t1"));
    odoo.seed([one]);
    assert!(odoo.add_empty_token_id(RegistrantId(2)));
    held.release();
    let report = store.await.unwrap().expect("settled, not refused");
    assert_eq!(
        (report.stored, report.unchanged, report.conflicts),
        (1, 1, vec![RegistrantId(2)])
    );
    assert_eq!(token_rows(&odoo, &[1, 2, 3]), [1, 1, 1]);
    assert_eq!(odoo.token_of(RegistrantId(3)), Some(Token::new("t3")));
    assert_eq!(odoo.calls("g2p.reg.id", "create"), 2, "created again once");
    odoo.shutdown().await;
}
