//! Throughput of the simulator: events generated per second on one core,
//! without IO (the iterator only), for the default population over a few
//! days.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use custos_sim::{SimConfig, Simulator};

fn config() -> SimConfig {
    SimConfig {
        days: 3,
        ..SimConfig::default()
    }
}

fn bench_generate(c: &mut Criterion) {
    let events = Simulator::new(config()).map(Iterator::count).unwrap_or(0) as u64;
    let mut group = c.benchmark_group("sim");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("default_population_3_days", |b| {
        b.iter(|| {
            let sim = Simulator::new(config()).map(|s| s.map(|line| line.len()).sum::<usize>());
            std::hint::black_box(sim.unwrap_or(0))
        });
    });
    group.finish();
}

criterion_group!(benches, bench_generate);
criterion_main!(benches);
