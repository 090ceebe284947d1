//! `MemorySink` stores through the receiver's own code: one sequence of callbacks (replays,
//! a conflict, a duplicate group, failures, a registrant gone, registrants never sent) fed to
//! a `MemorySink` and, as MTS would send it, to the self-hosted receiver; each answer, what each
//! registry holds and what each run and receiver report must be the same.

use omc_core::jq::{Output, Program};
use omc_core::memory::{MemoryRegistry, MemorySink};
use omc_core::receiver::{CallbackReceiver, CallbackRequest, ReceiverSettings};
use omc_core::sink::{CallbackAuth, RecordStatus, SeedResult};
use omc_core::testing::synthetic;
use omc_core::{
    CallbackSink, Delivery, DeliveryProblems, IdTypes, RegistrantId, Registry, SelfHostedSink,
    SinkRun, Token, Vid,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::sync::Arc;

fn processed(id: i64, token: &str) -> SeedResult {
    SeedResult {
        registrant: RegistrantId(id),
        vid: Some(Vid::new(format!("{id:016}"))),
        status: RecordStatus::Processed,
        token: Some(Token::new(token)),
        error_code: None,
        error_message: None,
    }
}

fn failed(id: i64, status: RecordStatus, code: &str) -> SeedResult {
    SeedResult {
        registrant: RegistrantId(id),
        vid: Some(Vid::new(format!("{id:016}"))),
        status,
        token: None,
        error_code: Some(code.into()),
        error_message: Some(format!("{code} in the sequence")),
    }
}

/// The callbacks, in order: each one body of results (bulk), as MTS makes them.
fn sequence() -> Vec<Vec<SeedResult>> {
    let first = vec![
        processed(1, "tok-1"),
        processed(2, "tok-2"),
        failed(3, RecordStatus::Invalid, "ATS-REQ-011"),
        // Expected by the run, but not in the registry.
        processed(13, "tok-13"),
    ];
    vec![
        first.clone(),
        // A replay of the same callback.
        first,
        // A different token for a registrant holding one: a conflict.
        vec![processed(1, "another-token")],
        // One person registered twice: a duplicate group.
        vec![processed(5, "tok-same"), processed(6, "tok-same")],
        // Registrant 11 was never sent: the whole body is refused.
        vec![processed(4, "tok-4"), processed(11, "tok-11")],
        vec![processed(4, "tok-4")],
        // A failure, then a success that clears it.
        vec![failed(7, RecordStatus::Error, "IDA-MLC-009")],
        vec![
            processed(7, "tok-7"),
            failed(8, RecordStatus::Error, "IDA-MLC-009"),
        ],
    ]
}

/// What MTS sends for `results` through `delivery`: `{"input", "output"}` for each result, run
/// through the delivery's output format, in one list.
fn as_mts_sends(delivery: &Delivery, results: &[SeedResult]) -> String {
    let program = Program::compile(delivery.output_format.as_deref().expect("a format"))
        .expect("the output format compiles");
    let items: Vec<Value> = results
        .iter()
        .map(|r| {
            let status = serde_json::to_value(r.status).unwrap();
            let item = json!({
                "input": {"id": r.registrant.0, "vid": r.vid.as_ref().map(|v| v.expose())},
                "output": {"vid": r.vid.as_ref().map(|v| v.expose()), "status": status,
                           "token": r.token.as_ref().map(Token::expose),
                           "errorCode": r.error_code, "errorMessage": r.error_message}
            });
            match program.first(&item) {
                Output::Value(value) => value,
                other => panic!("the output format gave {other:?}"),
            }
        })
        .collect();
    Value::Array(items).to_string()
}

/// What one side stored and reported.
#[derive(Debug, PartialEq)]
struct Seen {
    answers: Vec<(u16, Value)>,
    tokens: Vec<(RegistrantId, String)>,
    failures: Vec<(RegistrantId, String, String)>,
    stored_here: Vec<RegistrantId>,
    run_problems: DeliveryProblems,
    receiver_problems: DeliveryProblems,
}

const SENT: [i64; 11] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13];

fn registry() -> Arc<MemoryRegistry> {
    Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(12, 5).collect::<Vec<_>>(),
    ))
}

async fn seen(
    registry: &MemoryRegistry,
    receiver: &CallbackReceiver,
    run: &SinkRun,
    answers: Vec<(u16, Value)>,
) -> Seen {
    let ids: Vec<RegistrantId> = (1..=13).map(RegistrantId).collect();
    let tokens = registry.tokens(&ids).await.unwrap();
    let failures = run.results.failures(&ids).await.unwrap();
    let stored_here = run.results.stored_here(&ids).await.unwrap();
    Seen {
        answers,
        tokens: tokens
            .into_iter()
            .map(|(id, t)| (id, t.expose().to_owned()))
            .collect(),
        failures: failures
            .into_iter()
            .map(|(id, f)| (id, f.code, f.message))
            .collect(),
        stored_here: stored_here.expect("a receiving run").into_iter().collect(),
        run_problems: run.results.take_problems().await.unwrap(),
        receiver_problems: receiver.take_problems(),
    }
}

#[tokio::test]
async fn the_memory_sink_stores_and_reports_what_the_self_hosted_receiver_does() {
    let sent: Vec<RegistrantId> = SENT.into_iter().map(RegistrantId).collect();

    // In process: the memory sink, called back as the in-memory seeder calls it.
    let memory_registry = registry();
    let memory = MemorySink::new(memory_registry.clone());
    let memory_run = memory.open_run().await.unwrap();
    memory_run.results.expect(&sent).await.unwrap();
    let mut answers = Vec::new();
    for results in sequence() {
        for answer in memory.receive(&memory_run.delivery, &results).await {
            answers.push((answer.status, answer.body));
        }
    }
    let in_memory = seen(&memory_registry, memory.receiver(), &memory_run, answers).await;

    // The self-hosted receiver, sent the bodies MTS makes with the sink's output format.
    let hosted_registry = registry();
    let receiver = Arc::new(CallbackReceiver::new(
        hosted_registry.clone(),
        ReceiverSettings::default(),
    ));
    let sink = SelfHostedSink::new(receiver.clone(), "http://omc.example/".parse().unwrap());
    let hosted_run = sink.open_run().await.unwrap();
    hosted_run.results.expect(&sent).await.unwrap();
    let CallbackAuth::StaticBearer { token } = &hosted_run.delivery.auth else {
        panic!("bearer auth")
    };
    let path = hosted_run.delivery.url.path().to_owned();
    let mut answers = Vec::new();
    for results in sequence() {
        let body = as_mts_sends(&hosted_run.delivery, &results);
        let request = CallbackRequest::new("POST", &path, body).with_header(
            "Authorization",
            &format!("Bearer {}", token.expose_secret()),
        );
        let answer = receiver.handle(request).await;
        answers.push((answer.status, answer.body));
    }
    let self_hosted = seen(&hosted_registry, &receiver, &hosted_run, answers).await;

    assert_eq!(in_memory, self_hosted);
    // And what both saw is what the sequence holds.
    let statuses: Vec<u16> = in_memory.answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses, [200, 200, 200, 200, 422, 200, 200, 200]);
    assert_eq!(in_memory.answers[1].1["alreadyStored"], 2, "the replay");
    let problems = &in_memory.run_problems;
    assert_eq!(
        problems.conflicts.iter().copied().collect::<Vec<_>>(),
        [RegistrantId(1)]
    );
    assert_eq!(
        problems
            .duplicate_groups
            .iter()
            .cloned()
            .collect::<Vec<_>>(),
        [vec![RegistrantId(5), RegistrantId(6)]]
    );
    assert_eq!(
        problems
            .refused
            .get("registrant not sent by this connector"),
        Some(&1)
    );
    let codes: Vec<(i64, &str)> = in_memory
        .failures
        .iter()
        .map(|(id, code, _)| (id.0, code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            (3, "ATS-REQ-011"),
            (8, "IDA-MLC-009"),
            (13, "OMC-REGISTRANT-GONE")
        ]
    );
    let holding: Vec<i64> = in_memory.tokens.iter().map(|(id, _)| id.0).collect();
    assert_eq!(holding, [1, 2, 4, 5, 6, 7]);
    assert_eq!(in_memory.tokens[0].1, "tok-1", "never overwritten");
    assert_eq!(
        in_memory.stored_here,
        [1, 2, 4, 5, 6, 7].map(RegistrantId),
        "the tokens the run's callbacks stored"
    );
}
