//! Recurring runs against the real systems: the `omc` command as a real process against a real
//! Odoo 17 + OpenG2P and a real MOSIP Token Seeder (`mts-mock`), the scenario of
//! `recurring_runs_send_the_delta_the_pending_and_a_fixed_failure` in `tests/runs.rs`.
//!
//! Opt-in: it runs only when `OMC_REAL_ODOO_URL` and `OMC_REAL_MTS_URL` are set (see
//! `tests/common/real.rs` for every variable); otherwise it prints why it is skipped and passes.
//! Run it with `.ci/real --test real_runs`, or:
//!
//! ```text
//! OMC_REAL_ODOO_URL=http://127.0.0.1:18069/ OMC_REAL_ODOO_DATABASE=omc \
//! OMC_REAL_ODOO_LOGIN=admin OMC_REAL_ODOO_PASSWORD=admin \
//! OMC_REAL_MTS_URL=http://127.0.0.1:18080/ OMC_REAL_MTS_PARTNER_ID=mpartner-default-omc \
//! cargo test --test real_runs
//! ```
//!
//! The real MTS shows nothing of what it received, so what was sent is read from the runs'
//! reports, and the outcome from the registry over JSON-RPC.

mod common;

use common::command::Omc;
use common::real::{RealStack, VidSeries};
use omc::Vid;
use omc::odoo::OdooClient;
use omc::testing::mock_token;
use omc::time::Timestamp;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::time::Instant;

/// The ID types OpenG2P's MTS connector uses.
const VID_TYPE: &str = "MOSIP VID";
const TOKEN_TYPE: &str = "MOSIP UIN TOKEN";
/// The child process's password variables: names starting with `OMC_` are configuration
/// overrides, so these do not.
const ODOO_PASSWORD_VAR: &str = "REAL_TEST_ODOO_PASSWORD";
const CALLBACK_PASSWORD_VAR: &str = "REAL_TEST_CALLBACK_PASSWORD";

/// The real registry as this test uses it: registrants it creates, tagged with a family name
/// unique to the run.
#[derive(Clone)]
struct Registry {
    client: OdooClient,
    vid_type: i64,
    tag: String,
    vids: VidSeries,
}

impl Registry {
    async fn new(stack: &RealStack) -> Self {
        let client = stack.odoo_client();
        let types = client
            .search_read(
                "g2p.id.type",
                json!([["name", "=", VID_TYPE]]),
                json!({"fields": ["id"]}),
            )
            .await
            .expect("the id types are read");
        assert_eq!(
            types.len(),
            1,
            "exactly one id type named {VID_TYPE:?} in {}",
            stack.odoo_url
        );
        let vid_type = types[0]["id"].as_i64().expect("an id");
        let vids = VidSeries::new();
        Self {
            client,
            vid_type,
            tag: vids.tag("OMCREAL"),
            vids,
        }
    }

    /// Creates registrant number `index` (its given name says which), with `gender` if given
    /// and a VID if `with_vid`: its id and VID.
    async fn create(
        &self,
        index: usize,
        gender: Option<&str>,
        with_vid: bool,
    ) -> (i64, Option<Vid>) {
        let given = format!("Given{index:03}");
        let mut values = json!({
            "name": format!("{}, {given}", self.tag),
            "is_registrant": true,
            "is_group": false,
            "given_name": given,
            "family_name": self.tag,
            "birthdate": format!("19{:02}-0{}-1{}", 50 + index % 40, 1 + index % 9, index % 10),
            "address": format!("{} Main Street, North District", 10 + index),
        });
        if let Some(gender) = gender {
            values["gender"] = json!(gender);
        }
        let id = self
            .client
            .execute_kw("res.partner", "create", json!([values]), json!({}))
            .await
            .expect("a registrant is created")
            .as_i64()
            .expect("create answers the new id");
        let vid = if with_vid {
            Some(self.add_vid(id, index).await)
        } else {
            None
        };
        (id, vid)
    }

    /// Gives registrant `id` the VID of `index` in this run's series.
    async fn add_vid(&self, id: i64, index: usize) -> Vid {
        let vid = self.vids.vid(index);
        self.client
            .execute_kw(
                "g2p.reg.id",
                "create",
                json!([{"partner_id": id, "id_type": self.vid_type, "value": vid.expose()}]),
                json!({}),
            )
            .await
            .expect("a VID id is created");
        vid
    }

    /// The latest `write_date` of these registrants and of their ids.
    async fn latest_write(&self, ids: &[i64]) -> Timestamp {
        let partners = self
            .client
            .search_read(
                "res.partner",
                json!([["id", "in", ids]]),
                json!({"fields": ["write_date"]}),
            )
            .await
            .expect("the registrants are read");
        let reg_ids = self
            .client
            .search_read(
                "g2p.reg.id",
                json!([["partner_id", "in", ids]]),
                json!({"fields": ["write_date"]}),
            )
            .await
            .expect("their ids are read");
        assert_eq!(partners.len(), ids.len(), "every registrant reads back");
        partners
            .iter()
            .chain(&reg_ids)
            .map(|row| {
                let text = row["write_date"].as_str().expect("a write_date");
                Timestamp::parse_odoo(text).unwrap_or_else(|| panic!("write_date {text:?}"))
            })
            .max()
            .expect("at least one row")
    }

    /// Each registrant's ids: (type name, value) pairs.
    async fn ids_of(&self, ids: &[i64]) -> BTreeMap<i64, Vec<(String, String)>> {
        let rows = self
            .client
            .search_read(
                "g2p.reg.id",
                json!([["partner_id", "in", ids]]),
                json!({"fields": ["partner_id", "id_type", "value"]}),
            )
            .await
            .expect("the ids are read");
        let mut held: BTreeMap<i64, Vec<(String, String)>> =
            ids.iter().map(|id| (*id, Vec::new())).collect();
        for row in rows {
            let partner = row["partner_id"][0].as_i64().expect("a partner");
            let id_type = row["id_type"][1].as_str().unwrap_or_default().to_owned();
            let value = row["value"].as_str().unwrap_or_default().to_owned();
            held.entry(partner).or_default().push((id_type, value));
        }
        held
    }

    /// Archives every registrant of this run (their ids stay; the filter never selects them
    /// again: archived partners are excluded, and the tag is unique).
    async fn archive_all(&self) -> Result<(), String> {
        let ids = self
            .client
            .execute_kw(
                "res.partner",
                "search",
                json!([[["family_name", "=", self.tag]]]),
                json!({}),
            )
            .await
            .map_err(|e| e.to_string())?;
        self.client
            .execute_kw(
                "res.partner",
                "write",
                json!([ids, {"active": false}]),
                json!({}),
            )
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// What the registry must show for each registrant: tokenised (exactly one token, the one its
/// VID gives, and no VID), still holding its VID only, or holding nothing.
#[derive(Debug, Clone, PartialEq)]
enum Expect {
    Tokenised(Vid),
    VidOnly,
    Nothing,
}

async fn assert_registry(registry: &Registry, partner: &str, expected: &BTreeMap<i64, Expect>) {
    let ids: Vec<i64> = expected.keys().copied().collect();
    let held = registry.ids_of(&ids).await;
    for (id, expect) in expected {
        let rows = &held[id];
        let of = |t: &str| -> Vec<&str> {
            rows.iter()
                .filter(|(ty, _)| ty == t)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let (tokens, vids) = (of(TOKEN_TYPE), of(VID_TYPE));
        match expect {
            Expect::Tokenised(vid) => {
                let token = mock_token(vid, partner);
                assert_eq!(
                    tokens,
                    [token.expose()],
                    "registrant {id}: exactly the token its VID gives"
                );
                assert!(
                    vids.is_empty(),
                    "registrant {id} keeps its VID beside its token"
                );
            }
            Expect::VidOnly => {
                assert!(tokens.is_empty(), "registrant {id} holds a token");
                assert_eq!(vids.len(), 1, "registrant {id} holds its VID");
            }
            Expect::Nothing => assert!(rows.is_empty(), "registrant {id} holds ids"),
        }
        assert_eq!(
            rows.len(),
            tokens.len() + vids.len(),
            "registrant {id}: ids of other types"
        );
    }
}

/// Waits until OMC's clock is past `stamp`'s second: this models time passing (Odoo and OMC
/// read one clock here), so a bounded poll is the right tool.
async fn until_past(stamp: Timestamp) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Timestamp::now() <= stamp {
        assert!(
            Instant::now() < deadline,
            "the clock did not pass {stamp}: is Odoo's database clock ahead of this machine's?"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The connector's configuration and ledger, in a directory of their own: OpenG2P's default
/// filter narrowed to this run's registrants.
fn connector(stack: &RealStack, tag: &str, first_id: i64) -> Omc {
    let callback = format!(
        r#"auth_type = "odoo"
database = "{db}"
username = "{login}"
password_env = "{CALLBACK_PASSWORD_VAR}""#,
        db = stack.database,
        login = stack.login,
    );
    connector_with(stack, tag, first_id, &callback)
}

/// [`connector`] with `callback` as its `[callback]` table.
fn connector_with(stack: &RealStack, tag: &str, first_id: i64, callback: &str) -> Omc {
    let filter = json!([
        ["is_registrant", "=", true],
        ["reg_ids.id_type", "=like", VID_TYPE],
        "!",
        ["reg_ids.id_type", "=like", TOKEN_TYPE],
        ["id", ">=", first_id],
        ["family_name", "=", tag]
    ]);
    Omc::new(
        &format!("real-runs-{tag}"),
        &format!(
            r#"name = "real-runs-test"
mts_url = "{mts}"
job_type = "recurring"
interval_minutes = 1440
batch_size = 50
max_in_flight = 2
ledger = "ledger.sqlite"
filter = '{filter}'

[runs]
delta_overlap_minutes = 0

[callback]
{callback}

[odoo]
base_url = "{odoo}"
database = "{db}"
login = "{login}"
password_env = "{ODOO_PASSWORD_VAR}"
"#,
            mts = stack.mts_url,
            odoo = stack.odoo_url,
            db = stack.database,
            login = stack.login,
        ),
        &[
            (ODOO_PASSWORD_VAR, &stack.password),
            (CALLBACK_PASSWORD_VAR, &stack.password),
        ],
    )
}

/// The counts of a report that this scenario checks, with every failure code.
fn counts(report: &Value) -> Value {
    json!({
        "kind": report["kind"],
        "selected": report["selected"],
        "already_tokenised": report["already_tokenised"],
        "sent": report["sent"],
        "tokenised": report["tokenised"],
        "pending": report["pending"],
        "failed": report["failed"],
        "failed_unchanged": report["failed_unchanged"],
        "batch_errors": report["batch_errors"],
    })
}

fn expected_counts(kind: &str, selected: u64, sent: u64, failed: Value) -> Value {
    json!({
        "kind": kind,
        "selected": selected,
        "already_tokenised": 0,
        "sent": sent,
        "tokenised": sent,
        "pending": 0,
        "failed": failed,
        "failed_unchanged": 0,
        "batch_errors": {},
    })
}

#[tokio::test]
async fn recurring_runs_against_the_real_odoo_and_mts() {
    let Some(stack) = RealStack::from_env("recurring_runs_against_the_real_odoo_and_mts") else {
        return;
    };
    stack.ensure_reachable().await;
    let registry = Registry::new(&stack).await;
    let outcome = tokio::spawn(scenario(stack, registry.clone())).await;
    // Whatever happened, this run's registrants leave the registry's active set.
    if let Err(e) = registry.archive_all().await {
        panic!("archiving the registrants tagged {}: {e}", registry.tag);
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// The scenario, on registrants tagged with `registry`'s tag.
async fn scenario(stack: RealStack, registry: Registry) {
    let partner = stack.partner_id.as_str();

    // Twelve registrants: number 2 has no gender (MTS requires one), number 11 no VID.
    const FIRST: usize = 12;
    let mut ids = Vec::new();
    let mut expected = BTreeMap::new();
    for index in 0..FIRST {
        let gender = match index {
            2 => None,
            i if i % 2 == 0 => Some("Female"),
            _ => Some("Male"),
        };
        let (id, vid) = registry.create(index, gender, index != 11).await;
        ids.push(id);
        let expect = match (index, vid) {
            (2, _) => Expect::VidOnly,
            (_, Some(vid)) => Expect::Tokenised(vid),
            (_, None) => Expect::Nothing,
        };
        expected.insert(id, expect);
    }
    assert!(ids.is_sorted(), "Odoo hands out increasing ids");
    let (held_back, no_vid) = (ids[2], ids[11]);
    let connector = connector(&stack, &registry.tag, ids[0]);

    // The failed registrant must be outside the next delta's window: written in a second
    // before run 1 starts (the window is `>=` run 1's start second).
    until_past(registry.latest_write(&ids).await).await;
    let first = connector.run_once(&[]).await;
    assert_eq!(
        counts(&first),
        expected_counts("full", 11, 10, json!({"ATS-REQ-011": 1})),
        "run 1: every registrant holding a VID; number 2 held back: {first}"
    );
    assert_registry(&registry, partner, &expected).await;

    // Two new registrants, and one that only gained a VID id (its own write_date is
    // unchanged). Written after run 1 started, on the same clock: inside the window.
    for index in FIRST..FIRST + 2 {
        let (id, vid) = registry.create(index, Some("Other"), true).await;
        ids.push(id);
        expected.insert(id, Expect::Tokenised(vid.expect("a VID")));
    }
    let vid = registry.add_vid(no_vid, 11).await;
    expected.insert(no_vid, Expect::Tokenised(vid));
    let second = connector.run_once(&[]).await;
    assert_eq!(
        counts(&second),
        expected_counts("delta", 3, 3, json!({})),
        "run 2: exactly the two new ones and the one that gained a VID: {second}"
    );
    assert_registry(&registry, partner, &expected).await;

    // Number 2's record is fixed: its write_date moves past run 2's start.
    registry
        .client
        .execute_kw(
            "res.partner",
            "write",
            json!([[held_back], {"gender": "Female"}]),
            json!({}),
        )
        .await
        .expect("the record is fixed");
    let third = connector.run_once(&[]).await;
    assert_eq!(
        counts(&third),
        expected_counts("delta", 1, 1, json!({})),
        "run 3: exactly the fixed one: {third}"
    );
    let vid = registry.vids.vid(2);
    expected.insert(held_back, Expect::Tokenised(vid));
    assert_registry(&registry, partner, &expected).await;

    connector
        .assert_runs(&[
            (3, "delta", "completed"),
            (2, "delta", "completed"),
            (1, "full", "completed"),
        ])
        .await;
    let (ok, text, _) = connector.run(&["status", connector.config()]).await;
    assert!(ok && text.contains("next run: delta"), "{text}");
}

#[tokio::test]
async fn the_self_hosted_sink_against_the_real_odoo_and_mts() {
    let Some(stack) = RealStack::from_env("the_self_hosted_sink_against_the_real_odoo_and_mts")
    else {
        return;
    };
    stack.ensure_reachable().await;
    let registry = Registry::new(&stack).await;
    let outcome = tokio::spawn(self_hosted(stack, registry.clone())).await;
    if let Err(e) = registry.archive_all().await {
        panic!("archiving the registrants tagged {}: {e}", registry.tag);
    }
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// 100 registrants tokenised by `omc run --once` with the self-hosted sink: the real MTS calls
/// OMC's receiver (served by the `omc` process on loopback) in bulk, with a bearer secret.
#[allow(clippy::print_stderr)] // the run's time is for docs/PERFORMANCE.md
async fn self_hosted(stack: RealStack, registry: Registry) {
    let mut created = BTreeMap::new();
    for index in 0..100 {
        let (id, vid) = registry.create(index, Some("Male"), true).await;
        created.insert(id, vid.expect("created with a VID"));
    }
    let first = *created.keys().next().expect("registrants");
    let omc = connector_with(
        &stack,
        &registry.tag,
        first,
        r#"sink = "self_hosted"
listen = "127.0.0.1:0"
auth_type = "staticBearer""#,
    );
    let started = Instant::now();
    let report = omc.run_once(&["--full"]).await;
    eprintln!(
        "self-hosted sink, real Odoo and MTS: {} registrants in {:.1} s",
        created.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(report["tokenised"], 100, "{report}");
    assert_eq!(report["refused_callbacks"], json!({}), "{report}");
    let ids: Vec<i64> = created.keys().copied().collect();
    let held = registry.ids_of(&ids).await;
    for (id, vid) in &created {
        let token = mock_token(vid, &stack.partner_id);
        let expected = vec![(TOKEN_TYPE.to_owned(), token.expose().to_owned())];
        assert_eq!(held.get(id), Some(&expected), "registrant {id}");
    }
}
