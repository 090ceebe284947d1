//! Benchmarks of OMC's hot paths that need no network: building MTS's request, decoding a
//! `search_read` page, selecting candidates, and storing a bulk callback's tokens.
//!
//! `cargo bench --bench engine`; figures and the machine they came from are in
//! docs/PERFORMANCE.md.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use omc::authdata::build_authdata;
use omc::memory::MemoryRegistry;
use omc::mts_rules::{MandatoryFields, mts_verdict};
use omc::receiver::{
    CallbackReceiver, CallbackRequest, PayloadLimits, ReceiverSettings, SelfHostedSink,
    parse_results,
};
use omc::testing::mock_token;
use omc::testing::synthetic;
use omc::{
    CallbackSink, Candidate, CandidateQuery, Domain, IdTypes, Mapping, RegistrantId, Registry,
    SeedRequest, Token,
};
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;

const RESULTS: usize = 10_000;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime")
}

fn candidates(n: usize) -> Vec<Candidate> {
    synthetic(n, 1)
        .map(|s| Candidate::new(s.id, s.vid, false, s.fields))
        .collect()
}

/// A registry of `n` synthetic registrants with a receiver expecting all of them.
fn receiving(n: usize) -> (Arc<MemoryRegistry>, Arc<CallbackReceiver>, String) {
    let registry = Arc::new(MemoryRegistry::with_seeds(
        IdTypes::default(),
        synthetic(n, 1),
    ));
    let receiver = Arc::new(CallbackReceiver::new(
        registry.clone(),
        ReceiverSettings::default(),
    ));
    let bearer = receiver.rotate_bearer().expose_secret().to_owned();
    let ids: Vec<_> = (1..=n as i64).map(RegistrantId).collect();
    receiver.expect(&ids);
    (registry, receiver, bearer)
}

/// The body of a bulk callback of `n` processed results, in OMC's own output format.
fn bulk_callback(n: usize) -> Vec<u8> {
    let results: Vec<Value> = synthetic(n, 1)
        .map(|s| {
            let token = mock_token(s.vid.as_ref().expect("a VID"), "bench");
            json!({"id": s.id.0, "status": "processed", "token": token.expose(),
                   "errorCode": null, "errorMessage": null})
        })
        .collect();
    serde_json::to_vec(&results).expect("JSON")
}

fn build_request(c: &mut Criterion) {
    let page = candidates(500);
    let fields = omc::config::default_fields();
    let mapping = Mapping::default();
    let mandatory = MandatoryFields::default();
    let (_, receiver, _) = receiving(0);
    let sink = SelfHostedSink::new(receiver, "http://127.0.0.1:1/omc/".parse().expect("URL"));
    let delivery = runtime().block_on(sink.delivery()).expect("a delivery");
    let client = omc::mts::MtsClient::builder("http://127.0.0.1:1/v1/mts/".parse().expect("URL"))
        .build()
        .expect("a client");
    c.bench_function("build and serialise a 500-record MTS request", |b| {
        b.iter_batched(
            || page.clone(),
            |page| {
                let authdata: Vec<_> = page
                    .into_iter()
                    .map(|c| build_authdata(c, &fields, "vid"))
                    .filter(|r| mts_verdict(r.expose(), &mapping, &mandatory).is_none())
                    .collect();
                let request = SeedRequest {
                    mapping: mapping.clone(),
                    lang: "eng".into(),
                    authdata,
                };
                black_box(client.submission_body(&request, &delivery))
            },
            BatchSize::SmallInput,
        )
    });
}

fn decode_page(c: &mut Criterion) {
    let rows: Vec<Value> = synthetic(500, 1)
        .map(|s| {
            let mut row = s.fields.into_inner();
            row.insert("id".into(), json!(s.id.0));
            Value::Object(row)
        })
        .collect();
    let body =
        serde_json::to_vec(&json!({"jsonrpc": "2.0", "id": 7, "result": rows})).expect("JSON");
    c.bench_function("decode a 500-row search_read answer", |b| {
        b.iter(|| {
            let rows = omc::odoo::parse_rows::<serde_json::Map<String, Value>>(
                black_box(&body),
                "res.partner.search_read",
            );
            black_box(rows.expect("an answer"))
        })
    });
}

fn default_filter(c: &mut Criterion) {
    let runtime = runtime();
    let registry = MemoryRegistry::with_seeds(IdTypes::default(), synthetic(100_000, 1));
    let mut group = c.benchmark_group("default filter");
    group.sample_size(10);
    group.bench_function(
        "select 100,000 in-memory registrants in pages of 500",
        |b| {
            b.iter(|| {
                runtime.block_on(async {
                    let mut after = None;
                    let mut n = 0;
                    loop {
                        let q = CandidateQuery {
                            filter: Domain::openg2p_default(),
                            fields: vec!["id".into()],
                            after,
                            limit: 500,
                        };
                        let page = registry.candidates(&q).await.expect("in memory");
                        let Some(last) = page.last() else { break };
                        after = Some(last.id);
                        n += page.len();
                    }
                    black_box(n)
                })
            })
        },
    );
    group.finish();
}

fn store_tokens(c: &mut Criterion) {
    let runtime = runtime();
    let tokens: Vec<_> = (1..=RESULTS as i64)
        .map(|i| (RegistrantId(i), Token::new(format!("token-{i:040}"))))
        .collect();
    let body = bulk_callback(RESULTS);
    let limits = PayloadLimits::default();
    let mut group = c.benchmark_group("bulk callback");
    group.sample_size(20);
    // The registries are made and dropped outside the measured routine.
    group.bench_function("store 10,000 tokens in the in-memory registry", |b| {
        b.iter_batched_ref(
            || MemoryRegistry::with_seeds(IdTypes::default(), synthetic(RESULTS, 1)),
            |registry| runtime.block_on(async { black_box(registry.store_tokens(&tokens).await) }),
            BatchSize::LargeInput,
        )
    });
    group.bench_function(
        "parse a 10,000-result bulk callback and store its tokens in the in-memory registry",
        |b| {
            b.iter_batched_ref(
                || MemoryRegistry::with_seeds(IdTypes::default(), synthetic(RESULTS, 1)),
                |registry| {
                    let results = parse_results(&body, &limits).expect("well formed");
                    let tokens: Vec<_> = results
                        .into_iter()
                        .filter_map(|r| Some((r.registrant, r.token?)))
                        .collect();
                    runtime.block_on(async { black_box(registry.store_tokens(&tokens).await) })
                },
                BatchSize::LargeInput,
            )
        },
    );
    group.bench_function(
        "the receiver handles a 10,000-result bulk callback (auth, parse, store, duplicates)",
        |b| {
            b.iter_batched_ref(
                || {
                    let (registry, receiver, bearer) = receiving(RESULTS);
                    let request = CallbackRequest::new("POST", "/omc/callback", body.clone())
                        .with_header("Authorization", &format!("Bearer {bearer}"));
                    (registry, receiver, Some(request))
                },
                |(_, receiver, request)| {
                    let request = request.take().expect("one request per setup");
                    let answer = runtime.block_on(receiver.handle(request));
                    assert_eq!(answer.status, 200);
                    black_box(answer)
                },
                BatchSize::LargeInput,
            )
        },
    );
    group.finish();
}

criterion_group!(
    benches,
    build_request,
    decode_page,
    default_filter,
    store_tokens
);
criterion_main!(benches);
