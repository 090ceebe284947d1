//! Benchmarks of OMC's hot paths that need no network.
//!
//! `cargo bench --bench engine`; figures and the machine they came from are in
//! docs/PERFORMANCE.md.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use omc::core::fixture::synthetic;
use omc::core::memory::MemoryRegistry;
use omc::core::rules::{MandatoryFields, build_authdata, mts_verdict};
use omc::core::{
    Candidate, CandidateQuery, Domain, IdTypes, Mapping, RegistrantId, Registry, Token,
};
use std::hint::black_box;

fn candidates(n: usize) -> Vec<Candidate> {
    synthetic(n, 1)
        .map(|s| Candidate {
            id: s.id,
            vid: s.vid,
            has_token: false,
            fields: s.fields,
        })
        .collect()
}

fn build_request(c: &mut Criterion) {
    let page = candidates(500);
    let fields = omc::core::config::default_fields();
    let mapping = Mapping::default();
    let mandatory = MandatoryFields::default();
    c.bench_function("build and serialise a 500-record MTS request", |b| {
        b.iter(|| {
            let authdata: Vec<_> = page
                .iter()
                .map(|c| build_authdata(c, &fields, "vid"))
                .filter(|r| mts_verdict(&r.0, &mapping, &mandatory).is_none())
                .collect();
            black_box(serde_json::to_vec(&authdata).unwrap())
        })
    });
}

fn default_filter(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
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
                        let page = registry.candidates(&q).await.unwrap();
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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tokens: Vec<_> = (1..=10_000)
        .map(|i| (RegistrantId(i), Token::new(format!("token-{i:040}"))))
        .collect();
    let mut group = c.benchmark_group("store tokens");
    group.sample_size(20);
    group.bench_function("store 10,000 tokens in the in-memory registry", |b| {
        b.iter_batched(
            || MemoryRegistry::with_seeds(IdTypes::default(), synthetic(10_000, 1)),
            |registry| {
                runtime.block_on(async { black_box(registry.store_tokens(&tokens).await.unwrap()) })
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, build_request, default_filter, store_tokens);
criterion_main!(benches);
