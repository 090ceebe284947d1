//! Benchmarks of the domain language: OpenG2P's default filter over a million registrants held
//! in memory, and parsing a 50-criterion domain.
//!
//! `cargo bench --bench domain`; figures and the machine they came from are in
//! docs/PERFORMANCE.md.

use criterion::{Criterion, criterion_group, criterion_main};
use omc::domain::Record;
use omc::memory::MemoryRegistry;
use omc::memory::RegistrantSeed;
use omc::{CandidateQuery, Domain, IdTypes, Registry};
use serde_json::{Value, json};
use std::hint::black_box;

const REGISTRANTS: i64 = 1_000_000;

/// A million registrants: three in four hold a VID, one in eight of those also a token, one in
/// fifty is archived, one in twenty is a group.
fn registry() -> MemoryRegistry {
    let seeds = (1..=REGISTRANTS).map(|id| {
        let fields = json!({
            "given_name": "Amina",
            "family_name": "Banda",
            "is_group": id % 20 == 0,
            "active": id % 50 != 0,
        });
        let vid = (id % 4 != 0).then(|| format!("{:016}", id));
        let mut seed = RegistrantSeed::individual(id, fields, vid.as_deref());
        if id % 32 == 1 {
            seed.token = Some(omc::Token::new(format!("T{id}")));
        }
        seed
    });
    MemoryRegistry::with_seeds(IdTypes::default(), seeds)
}

fn default_filter(c: &mut Criterion) {
    let registry = registry();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let mut group = c.benchmark_group("domain");
    group.sample_size(10);
    group.bench_function("openg2p_default_over_1m_registrants", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let mut selected = 0usize;
                let mut after = None;
                loop {
                    let query = CandidateQuery {
                        filter: Domain::openg2p_default(),
                        fields: vec!["id".into()],
                        after,
                        limit: 1_000,
                    };
                    let page = registry.candidates(&query).await.expect("in memory");
                    let Some(last) = page.last() else { break };
                    after = Some(last.id);
                    selected += page.len();
                }
                black_box(selected)
            })
        })
    });
    group.finish();
}

/// A registrant as an embedder's own store might hold it: flags and its ids' type names.
struct Row {
    id: i64,
    registrant: bool,
    active: bool,
    id_types: Vec<&'static str>,
}

struct RegId(&'static str);
struct IdType(&'static str);

impl Record for Row {
    fn id(&self) -> i64 {
        self.id
    }
    fn value(&self, field: &str) -> Value {
        match field {
            "is_registrant" => Value::Bool(self.registrant),
            "active" => Value::Bool(self.active),
            _ => Value::Null,
        }
    }
    fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        (field == "reg_ids").then(|| {
            self.id_types
                .iter()
                .map(|t| Box::new(RegId(t)) as Box<dyn Record>)
                .collect()
        })
    }
}

impl Record for RegId {
    fn id(&self) -> i64 {
        0
    }
    fn value(&self, _field: &str) -> Value {
        Value::Null
    }
    fn related(&self, field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        (field == "id_type").then(|| vec![Box::new(IdType(self.0)) as Box<dyn Record>])
    }
}

impl Record for IdType {
    fn id(&self) -> i64 {
        0
    }
    fn value(&self, field: &str) -> Value {
        match field {
            "name" => Value::from(self.0),
            _ => Value::Null,
        }
    }
    fn related(&self, _field: &str) -> Option<Vec<Box<dyn Record + '_>>> {
        None
    }
}

fn default_filter_direct(c: &mut Criterion) {
    let rows: Vec<Row> = (1..=REGISTRANTS)
        .map(|id| {
            let mut id_types = Vec::new();
            if id % 4 != 0 {
                id_types.push("MOSIP VID");
            }
            if id % 32 == 1 {
                id_types.push("MOSIP UIN TOKEN");
            }
            Row {
                id,
                registrant: true,
                active: id % 50 != 0,
                id_types,
            }
        })
        .collect();
    let filter = Domain::openg2p_default();
    let mut group = c.benchmark_group("domain");
    group.sample_size(10);
    group.bench_function("openg2p_default_evaluated_on_1m_records", |b| {
        b.iter(|| rows.iter().filter(|r| filter.selects(*r)).count())
    });
    group.finish();
}

fn parse_fifty(c: &mut Criterion) {
    let criteria: Vec<serde_json::Value> = (0..50)
        .map(|i| match i % 5 {
            0 => json!(["reg_ids.id_type", "=like", format!("TYPE {i}")]),
            1 => json!(["birthdate", ">=", "1980-01-01"]),
            2 => json!(["gender", "in", ["Male", "Female"]]),
            3 => json!(["name", "not ilike", format!("x{i}")]),
            _ => json!(["reg_ids", "any", [["value", "!=", false]]]),
        })
        .collect();
    let mut domain = vec![json!("|"), json!("!")];
    domain.extend(criteria);
    let text = serde_json::Value::Array(domain).to_string();
    let python = text.replace("true", "True").replace('"', "'");
    let mut group = c.benchmark_group("domain");
    group.sample_size(10);
    group.bench_function("parse_50_criteria_json", |b| {
        b.iter(|| Domain::parse(black_box(&text)).expect("well formed"))
    });
    group.bench_function("parse_50_criteria_python", |b| {
        b.iter(|| Domain::parse(black_box(&python)).expect("well formed"))
    });
    group.finish();
}

criterion_group!(benches, default_filter, default_filter_direct, parse_fifty);
criterion_main!(benches);
