//! Access events per second through `AgentBehavior`, on simulated traffic,
//! with baselines in the same run: the directory lookups every access needs
//! (the floor), and the whole pipeline with no detectors against the same
//! pipeline with `agent_behavior`.
#![allow(clippy::panic)]
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use custos_behavior::{AgentBehavior, BehaviorConfig};
use custos_core::detector::Detector;
use custos_core::parse::parse_event;
use custos_core::{Context, Event, EventBody, Pipeline, PipelineConfig};
use std::hint::black_box;

/// Four days to warm the state, the fifth measured.
fn simulated() -> (Vec<Event>, Vec<Event>) {
    let config = custos_sim::SimConfig {
        days: 5,
        seed: 42,
        ..Default::default()
    };
    let sim = custos_sim::Simulator::new(config).unwrap_or_else(|e| panic!("simulator: {e}"));
    let events: Vec<Event> = sim
        .enumerate()
        .map(|(n, l)| parse_event(&l, || n.to_string()).unwrap_or_else(|e| panic!("{e:?}")))
        .collect();
    let last_day = events.iter().map(|e| e.ts.day_index()).max().unwrap_or(0);
    events
        .into_iter()
        .partition(|e| e.ts.day_index() < last_day)
}

fn bench(c: &mut Criterion) {
    let (warm, day) = simulated();
    let mut ctx = Context::default();
    let mut detector = AgentBehavior::new(BehaviorConfig::default());
    for e in &warm {
        ctx.directory.apply(e);
        black_box(detector.observe(e, &mut ctx));
    }
    for e in &day {
        ctx.directory.apply(e);
    }
    let accesses: Vec<&Event> = day
        .iter()
        .filter(|e| matches!(e.body, EventBody::AgentAccess(_)))
        .collect();

    let mut group = c.benchmark_group("agent_behavior");
    group.throughput(Throughput::Elements(accesses.len() as u64));
    group.bench_function(BenchmarkId::new("observe_access", accesses.len()), |b| {
        b.iter(|| {
            let mut signals = 0usize;
            for e in &accesses {
                signals += detector.observe(black_box(e), &mut ctx).len();
            }
            signals
        })
    });
    group.bench_function(
        BenchmarkId::new("baseline_directory_lookups", accesses.len()),
        |b| {
            b.iter(|| {
                let mut found = 0usize;
                for e in &accesses {
                    if let EventBody::AgentAccess(a) = &black_box(e).body {
                        found += usize::from(ctx.directory.agent(&a.agent_id).is_some());
                        found += usize::from(
                            a.ticket_id
                                .as_ref()
                                .is_some_and(|t| ctx.directory.ticket(t).is_some()),
                        );
                        found += usize::from(
                            a.customer_id
                                .as_ref()
                                .is_some_and(|c| ctx.directory.customer(c).is_some()),
                        );
                    }
                }
                found
            })
        },
    );
    group.finish();

    let all: Vec<Event> = warm.iter().chain(&day).cloned().collect();
    let mut group = c.benchmark_group("pipeline_5_days");
    group.sample_size(10);
    group.throughput(Throughput::Elements(all.len() as u64));
    for (name, with_detector) in [("no_detectors", false), ("agent_behavior", true)] {
        group.bench_function(BenchmarkId::new(name, all.len()), |b| {
            b.iter(|| {
                let detectors: Vec<Box<dyn Detector>> = if with_detector {
                    vec![Box::new(AgentBehavior::new(BehaviorConfig::default()))]
                } else {
                    Vec::new()
                };
                let mut p = Pipeline::new(PipelineConfig::default(), detectors);
                let mut out = Vec::new();
                for e in &all {
                    p.push(e.clone(), &mut out);
                    out.clear();
                }
                p.finish(&mut out);
                p.stats().processed
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
