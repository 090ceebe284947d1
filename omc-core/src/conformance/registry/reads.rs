//! The registry cases that only read: paging, what a candidate carries, filters, tokens read
//! back. They share one seeded registry.

use super::{Fixture, NOBODY, Run, candidate, check_page};
use crate::conformance::check::{CaseError, call, check, check_eq};
use crate::conformance::{Case, CaseResult};
use crate::domain::{Domain, Operator};
use serde_json::{Value, json};
use std::sync::Arc;

pub(super) fn cases() -> Vec<Case<Run>> {
    vec![
        Case::new(
            "pages_of_the_default_filter_ascend_without_overlap_and_leave_out_the_archived",
            default_filter_pages,
        ),
        Case::new(
            "a_page_holds_only_ids_after_after_and_at_most_limit",
            after_and_limit,
        ),
        Case::new(
            "a_candidate_carries_its_vid_its_token_flag_and_its_fields",
            candidate_contents,
        ),
        Case::new("an_empty_field_reads_as_false", empty_field),
        Case::new(
            "archived_registrants_are_found_when_the_filter_mentions_active",
            archived,
        ),
        Case::new(
            "a_filter_selects_only_the_registrants_it_matches",
            filter_selects,
        ),
        Case::new(
            "tokens_are_read_back_for_their_holders_only",
            tokens_read_back,
        ),
        Case::new(
            "the_id_types_validation_is_read_and_an_unknown_type_is_invalid",
            id_validation,
        ),
    ]
}

/// The fixture's registrants OpenG2P's default filter selects: those with a VID and no token,
/// active, individuals or groups.
fn default_selection() -> Vec<i64> {
    [1, 6, 7].into_iter().chain(8..=30).collect()
}

async fn default_filter_pages(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    let want = Fixture::numbers(default_selection());
    for limit in [5, 1000] {
        let got = f.all(&Domain::openg2p_default(), limit).await?;
        check_eq(
            &got,
            &want,
            &format!("the default filter's registrants, in pages of {limit}"),
        )?;
    }
    Ok(())
}

async fn after_and_limit(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    let filter = Domain::openg2p_default();
    let after = f.id(10);
    let page = f.page(filter.clone(), Some(after), 3).await?;
    let got: Vec<_> = page.iter().map(|c| c.id).collect();
    check_page(&got, Some(after), 3, |ids| f.shown(ids))?;
    check_eq(
        f.shown(&got),
        Fixture::numbers([11, 12, 13]),
        "the default filter's registrants after registrant 10, 3 of them",
    )?;
    let last = f.page(filter.clone(), Some(f.id(30)), 10).await?;
    let got: Vec<_> = last.iter().map(|c| c.id).collect();
    check_page(&got, Some(f.id(30)), 10, |ids| f.shown(ids))?;
    check_eq(
        f.shown(&got),
        vec![],
        "the default filter's registrants after the last one",
    )?;
    let none = f.page(filter, None, 0).await?;
    check_eq(none.len(), 0, "candidates with limit 0")
}

async fn candidate_contents(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    let page = f.page(Domain::id_in(&[]), None, 10).await?;
    check_eq(page.len(), 0, "candidates with id in an empty list")?;
    let ids: Vec<i64> = f.ids([1, 2, 3, 4, 7]).iter().map(|id| id.0).collect();
    let page = f.page(Domain::id_in(&ids), None, 10).await?;
    let got: Vec<_> = page.iter().map(|c| c.id).collect();
    check_eq(
        f.shown(&got),
        Fixture::numbers([1, 2, 3, 4, 7]),
        "candidates with id in [1, 2, 3, 4, 7]",
    )?;
    let has = |n: i64| -> Result<(bool, bool), CaseError> {
        let c = candidate(&f, &page, n)?;
        Ok((c.vid.is_some(), c.has_token))
    };
    let check_ids = |n: i64, want: (bool, bool), what: &str| -> CaseResult {
        check_eq(
            has(n)?,
            want,
            &format!("registrant {n} ({what}): (has a VID, has a token)"),
        )
    };
    check_ids(1, (true, false), "a VID, no token")?;
    check_ids(2, (true, true), "a VID and a token")?;
    check_ids(3, (false, true), "a token only")?;
    check_ids(4, (false, false), "no id")?;
    let one = candidate(&f, &page, 1)?;
    check(one.vid.as_ref() == Some(&f.vid(1)), || {
        "registrant 1's VID: the implementation gave another value than the one seeded, the \
         contract wants the seeded value"
            .into()
    })?;
    let field = |name: &str| one.fields.0.get(name).cloned().unwrap_or(Value::Null);
    check_eq(
        field("birthdate"),
        json!("1990-02-03"),
        "registrant 1's birthdate (a date as YYYY-MM-DD)",
    )?;
    check_eq(
        field("given_name"),
        json!("Given1"),
        "registrant 1's given_name",
    )
}

async fn empty_field(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    let page = f.page(Domain::id_in(&[f.id(7).0]), None, 10).await?;
    let seven = candidate(&f, &page, 7)?;
    let gender = seven.fields.0.get("gender").cloned().unwrap_or(Value::Null);
    check(matches!(gender, Value::Bool(false) | Value::Null), || {
        format!(
            "registrant 7's empty gender: the implementation gave a {}, the contract wants \
             false (or the field absent)",
            kind(&gender)
        )
    })
}

/// A JSON value's kind, for messages (never the value: it may be personal data).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(true) => "true",
        Value::Bool(false) => "false",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

async fn archived(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    let archived = Domain::leaf("active", Operator::Eq, json!(false));
    check_eq(
        f.all(&archived, 10).await?,
        Fixture::numbers([5]),
        "registrants with active = false",
    )
}

async fn filter_selects(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    let given = Domain::leaf("given_name", Operator::Eq, json!("Given9"));
    check_eq(
        f.all(&given, 10).await?,
        Fixture::numbers([9]),
        "registrants with given_name = Given9",
    )?;
    let groups = Domain::leaf("is_group", Operator::Eq, json!(true));
    check_eq(
        f.all(&groups, 10).await?,
        Fixture::numbers([6]),
        "registrants with is_group = true",
    )?;
    let without_vid = Domain::from_json(&json!(["!", ["reg_ids.id_type", "=like", "MOSIP VID"]]))
        .map_err(|e| CaseError::failed(format!("the suite's own filter: {e}")))?;
    check_eq(
        f.all(&without_vid, 10).await?,
        Fixture::numbers([3, 4]),
        "active registrants without a VID",
    )
}

async fn tokens_read_back(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    let mut asked = f.ids([1, 2, 3]);
    asked.push(NOBODY);
    let tokens = f.registry.tokens(&asked).await.map_err(call("tokens"))?;
    let holders: Vec<_> = tokens.keys().copied().collect();
    check_eq(
        f.shown(&holders),
        Fixture::numbers([2, 3]),
        "the registrants tokens() answers for, of 1, 2, 3 and one that does not exist",
    )?;
    for (n, name) in [(2, "of-2"), (3, "of-3")] {
        check(tokens.get(&f.id(n)) == Some(&f.token(name)), || {
            format!(
                "registrant {n}'s token: the implementation gave another value than the one \
                 seeded, the contract wants the seeded value"
            )
        })?;
    }
    let none = f
        .registry
        .tokens(&[])
        .await
        .map_err(call("tokens of none"))?;
    check_eq(none.len(), 0, "tokens of no registrant")
}

async fn id_validation(run: Arc<Run>) -> CaseResult {
    let f = run.shared().await?;
    f.registry
        .id_validation("MOSIP VID")
        .await
        .map_err(call("id_validation of the VID type"))?;
    let unknown = "OMC CONFORMANCE NO SUCH TYPE";
    match f.registry.id_validation(unknown).await {
        Err(crate::RegistryError::Invalid { message }) if message.contains(unknown) => Ok(()),
        Err(crate::RegistryError::Invalid { .. }) => Err(CaseError::failed(
            "id_validation of a type that does not exist: the implementation's Invalid error \
             does not name the type, the contract wants it named",
        )),
        Err(e) => Err(CaseError::failed(format!(
            "id_validation of a type that does not exist: the implementation failed with \
             \"{e}\", the contract wants RegistryError::Invalid naming the type"
        ))),
        Ok(found) => Err(CaseError::failed(format!(
            "id_validation of a type that does not exist: the implementation gave {}, the \
             contract wants RegistryError::Invalid naming the type",
            if found.is_some() {
                "a pattern"
            } else {
                "no pattern"
            }
        ))),
    }
}
