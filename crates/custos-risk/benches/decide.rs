//! Decision latency and throughput with 100,000 customers profiled: every
//! decision includes the profile lookup, the signals, the rules and the
//! sequences. Besides criterion's figures, a per-call timing loop prints
//! the median and the p99 (`p99 estimate:` line).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use custos_core::event::{CustomerAction, CustomerActionKind, CustomerRecord, Geo, Tier};
use custos_core::id::CustomerId;
use custos_core::time::EventTime;
use custos_risk::{ActionRequest, Engine, RiskConfig, RuleSet};
use std::hint::black_box;
use std::time::Instant;

const CUSTOMERS: u32 = 100_000;
const T0: i64 = 1_740_960_000;

/// A small deterministic generator (no dependency).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn action(rng: &mut Rng, customer: &CustomerId, c: u32) -> CustomerAction {
    let kind = match rng.below(10) {
        0..=5 => CustomerActionKind::Login,
        6..=8 => CustomerActionKind::Withdrawal,
        _ => CustomerActionKind::AddressAdd,
    };
    let device = if rng.below(50) == 0 {
        format!("fp-new-{}", rng.next())
    } else {
        format!("fp-{c}-{}", rng.below(2))
    };
    let money = kind != CustomerActionKind::Login;
    CustomerAction {
        customer_id: customer.clone(),
        action: kind,
        ip: Some(format!(
            "23.{}.{}.{}",
            c % 250,
            rng.below(2),
            1 + rng.below(250)
        )),
        device_id: Some(device),
        geo: Some(Geo {
            country: Some("US".into()),
            lat: Some(40.0 + (c % 10) as f64 * 0.1),
            lon: Some(-74.0),
        }),
        amount_usd: money.then(|| 50.0 + rng.below(500) as f64),
        asset: money.then(|| ["BTC", "ETH", "USDT"][rng.below(3) as usize].to_owned()),
        destination: money.then(|| {
            format!(
                "dest-{c}-{}",
                rng.below(if kind == CustomerActionKind::AddressAdd {
                    1_000
                } else {
                    3
                })
            )
        }),
        api_key: None,
        setting: None,
    }
}

/// 100,000 customers with 24 actions each over 24 days.
fn warm_engine() -> (Engine, Vec<CustomerId>) {
    let mut engine = Engine::with_parts(
        RiskConfig::default(),
        RuleSet::default_rules().unwrap(),
        None,
    );
    let ids: Vec<CustomerId> = (0..CUSTOMERS)
        .map(|c| CustomerId::parse(format!("c-{c:06}")).unwrap())
        .collect();
    for (c, id) in ids.iter().enumerate() {
        engine.observe_customer(&CustomerRecord {
            customer_id: id.clone(),
            tier: Tier::Retail,
            balance_usd: Some(5_000.0),
            country: Some("US".into()),
            created_at: None,
        });
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ c as u64);
        for day in 0..24 {
            let a = action(&mut rng, id, c as u32);
            let ts = EventTime::from_unix_secs(T0 + day * 86_400 + 14 * 3600);
            let req = ActionRequest {
                event_id: None,
                ts,
                action: &a,
            };
            engine.decide(&req, &[], ts);
        }
    }
    (engine, ids)
}

fn bench(c: &mut Criterion) {
    let (mut engine, ids) = warm_engine();
    let mut rng = Rng(42);
    let now = EventTime::from_unix_secs(T0 + 25 * 86_400 + 14 * 3600);
    let requests: Vec<CustomerAction> = (0..10_000)
        .map(|_| {
            let c = rng.below(u64::from(CUSTOMERS)) as u32;
            action(&mut rng, &ids[c as usize], c)
        })
        .collect();

    // Per-call timing for the median and the p99.
    let mut nanos: Vec<u128> = Vec::with_capacity(requests.len() * 5);
    for _ in 0..5 {
        for a in &requests {
            let req = ActionRequest {
                event_id: None,
                ts: now,
                action: a,
            };
            let start = Instant::now();
            black_box(engine.evaluate(&req, &[], now));
            nanos.push(start.elapsed().as_nanos());
        }
    }
    nanos.sort_unstable();
    let pct = |p: f64| nanos[((nanos.len() as f64 * p) as usize).min(nanos.len() - 1)];
    println!(
        "p99 estimate: evaluate with {CUSTOMERS} customers profiled: median {:.1} µs, p99 {:.1} µs, p99.9 {:.1} µs over {} calls",
        pct(0.5) as f64 / 1e3,
        pct(0.99) as f64 / 1e3,
        pct(0.999) as f64 / 1e3,
        nanos.len()
    );

    let mut group = c.benchmark_group("action_risk");
    group.throughput(Throughput::Elements(1));
    let mut i = 0usize;
    group.bench_function(BenchmarkId::new("evaluate", CUSTOMERS), |b| {
        b.iter(|| {
            let a = &requests[i % requests.len()];
            i += 1;
            let req = ActionRequest {
                event_id: None,
                ts: now,
                action: a,
            };
            black_box(engine.evaluate(&req, &[], now).decision.outcome)
        })
    });
    group.bench_function(BenchmarkId::new("decide_and_learn", CUSTOMERS), |b| {
        b.iter(|| {
            let a = &requests[i % requests.len()];
            i += 1;
            let req = ActionRequest {
                event_id: None,
                ts: now,
                action: a,
            };
            black_box(engine.decide(&req, &[], now).0.decision.outcome)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
