//! `OdooClient` and `OdooRegistry` against the Odoo emulator over real HTTP.

use omc_core::domain::Operator;
use omc_core::fixture::{RegistrantSeed, synthetic};
use omc_core::{CandidateQuery, Domain, IdTypes, RegistrantId, Registry, RegistryError, Token};
use omc_odoo::emulator::{OdooEmulator, RunningOdoo};
use omc_odoo::{OdooClient, OdooRegistry};
use secrecy::SecretString;
use serde_json::json;

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
    seeds[4].fields.0.insert("active".into(), json!(false)); // id 5 archived
    seeds[5]
        .fields
        .0
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
            assert!(c.fields.0.contains_key("id") && c.fields.0.contains_key("birthdate"));
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
    seeds[1].fields.0.insert("is_group".into(), json!(true));
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
    seeds[3].fields.0.insert("active".into(), json!(false));
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
