//! Decision latency with the shipped policies, against a baseline of building
//! the request and facts alone. Also prints p50/p99 of single decisions
//! measured one by one (criterion reports means; the target is p99).

// Test code may unwrap: a panic here is a failing test, not a failing request.
#![allow(clippy::unwrap_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use custos_broker::{AccessRequest, AgentFacts, Broker, Facts, Grant, GrantStatus, TicketFacts};
use custos_core::event::{AccessAction, FieldClass, OpenedBy, TicketStatus};
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::{EventTime, Span};
use std::hint::black_box;
use std::time::Instant;

fn build(action: AccessAction, fields: &[FieldClass], with_grant: bool) -> (AccessRequest, Facts) {
    let now = EventTime::from_unix_secs(1_740_830_400);
    let agent = AgentId::parse("a-0042").unwrap();
    let customer = CustomerId::parse("c-18812").unwrap();
    let ticket = TicketId::parse("t-9001").unwrap();
    let req = AccessRequest {
        agent: agent.clone(),
        customer: customer.clone(),
        ticket: Some(ticket.clone()),
        fields: fields.to_vec(),
        purpose: "kyc document check".to_owned(),
        action,
    };
    let facts = Facts {
        now,
        agent: Some(AgentFacts {
            role: "support_l1".to_owned(),
            team: "tier1-chat".to_owned(),
        }),
        ticket: Some(TicketFacts {
            id: ticket.clone(),
            status: TicketStatus::Assigned,
            category: "kyc_verification".to_owned(),
            assigned_agent: Some(agent.clone()),
            opened_by: Some(OpenedBy::Customer),
            customer: customer.clone(),
        }),
        live_contact: false,
        countermeasures: Vec::new(),
        grant: with_grant.then(|| Grant {
            status: GrantStatus::Approved,
            requester: agent.clone(),
            approver: Some(AgentId::parse("a-0007").unwrap()),
            ticket,
            customer,
            fields: vec![FieldClass::IdDocument],
            expires_at: now.saturating_add(Span::from_minutes(15)),
            reveals_remaining: 3,
        }),
        step_up_at: with_grant.then_some(now),
    };
    (req, facts)
}

const VIEW_FIELDS: &[FieldClass] = &[FieldClass::Name, FieldClass::Dob, FieldClass::Address];

/// Which code path decides: the broker's, or the one before the field index
/// (the baseline, kept as the reference of the differential test).
type DecideFn = fn(&Broker, &AccessRequest, &Facts) -> custos_broker::Decision;
const FAST: DecideFn = Broker::decide;
const BASELINE: DecideFn = Broker::decide_without_field_index;

fn percentiles(broker: &Broker, decide: DecideFn, req: &AccessRequest, facts: &Facts, label: &str) {
    let mut samples: Vec<u128> = Vec::with_capacity(20_000);
    for _ in 0..20_000 {
        let start = Instant::now();
        black_box(decide(broker, black_box(req), black_box(facts)));
        samples.push(start.elapsed().as_nanos());
    }
    samples.sort_unstable();
    let at = |q: f64| {
        samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)] as f64 / 1000.0
    };
    println!(
        "{label}: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs (20000 decisions)",
        at(0.50),
        at(0.99),
        at(1.0)
    );
}

fn bench(c: &mut Criterion) {
    let broker = Broker::default_policies().unwrap();
    let (view_req, view_facts) = build(AccessAction::View, VIEW_FIELDS, false);
    let (reveal_req, reveal_facts) = build(AccessAction::Reveal, &[FieldClass::IdDocument], true);
    let (reveal_name_req, _) = build(
        AccessAction::Reveal,
        &[FieldClass::Name, FieldClass::Dob, FieldClass::IdDocument],
        true,
    );
    let (export_req, export_facts) = build(AccessAction::Export, &[FieldClass::Name], false);
    assert_eq!(
        FAST(&broker, &view_req, &view_facts),
        BASELINE(&broker, &view_req, &view_facts)
    );
    // Baseline and fast path interleaved, so both see the same machine load.
    for round in 1..=2 {
        println!("round {round}");
        for (decide, path) in [(BASELINE, "baseline"), (FAST, "indexed")] {
            percentiles(
                &broker,
                decide,
                &view_req,
                &view_facts,
                &format!("{path}: view 3 fields"),
            );
            percentiles(
                &broker,
                decide,
                &reveal_req,
                &reveal_facts,
                &format!("{path}: reveal 1 sensitive field with grant"),
            );
            percentiles(
                &broker,
                decide,
                &reveal_name_req,
                &reveal_facts,
                &format!("{path}: reveal 3 fields (1 sensitive) with grant"),
            );
        }
    }

    let mut group = c.benchmark_group("broker");
    group.bench_function("baseline_build_request_and_facts", |b| {
        b.iter(|| black_box(build(AccessAction::View, black_box(VIEW_FIELDS), false)))
    });
    group.bench_function("decide_view_3_fields", |b| {
        b.iter(|| black_box(broker.decide(&view_req, &view_facts)))
    });
    group.bench_function("baseline_path_decide_view_3_fields", |b| {
        b.iter(|| black_box(BASELINE(&broker, &view_req, &view_facts)))
    });
    group.bench_function("baseline_path_decide_reveal_sensitive_with_grant", |b| {
        b.iter(|| black_box(BASELINE(&broker, &reveal_req, &reveal_facts)))
    });
    group.bench_function("decide_reveal_sensitive_with_grant", |b| {
        b.iter(|| black_box(broker.decide(&reveal_req, &reveal_facts)))
    });
    group.bench_function("decide_export_denied", |b| {
        b.iter(|| black_box(broker.decide(&export_req, &export_facts)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
