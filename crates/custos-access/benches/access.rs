//! `AccessService::access` end to end: facts from an in-memory fixture, the
//! shipped policies, the grant and step-up stores in SQLite (`access.db`,
//! WAL, synchronous=FULL) and the vault read included. Compared with the
//! broker's decision alone on the same request.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use custos_access::totp::{TotpSecret, totp};
use custos_access::{
    AccessService, Approvals, BrokerHandle, FactsError, FactsSource, GrantPolicy, RevealRequest,
    SealingKey, SqliteAccessStore, StepUpPolicy, StepUpStore, StepUps,
};
use custos_broker::{AccessRequest, AgentFacts, Broker, Facts, TicketFacts};
use custos_core::alert::ResponseAction;
use custos_core::event::{AccessAction, FieldClass, OpenedBy, TicketStatus};
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::{EventTime, Span};
use custos_vault::{FieldClass as VaultField, KekId, KeyRing, SecretKey, Vault};

struct Fixture;

fn ticket_facts(id: &str, category: &str) -> TicketFacts {
    TicketFacts {
        id: TicketId::parse(id).unwrap(),
        status: TicketStatus::Assigned,
        category: category.to_owned(),
        assigned_agent: Some(AgentId::parse("a-0042").unwrap()),
        opened_by: Some(OpenedBy::Customer),
        customer: CustomerId::parse("cust-77").unwrap(),
    }
}

impl FactsSource for Fixture {
    fn agent(&self, agent: &AgentId) -> Result<Option<AgentFacts>, FactsError> {
        let role = if agent.as_str() == "l-1" {
            "support_lead"
        } else {
            "support_l1"
        };
        Ok(Some(AgentFacts {
            role: role.to_owned(),
            team: "tier1-chat".to_owned(),
        }))
    }
    fn ticket(&self, ticket: &TicketId) -> Result<Option<TicketFacts>, FactsError> {
        Ok(Some(match ticket.as_str() {
            "t-kyc" => ticket_facts("t-kyc", "kyc_verification"),
            _ => ticket_facts("t-login", "login_issue"),
        }))
    }
    fn live_contact(&self, _: &AgentId, _: &CustomerId, _: EventTime) -> Result<bool, FactsError> {
        Ok(false)
    }
    fn countermeasures(&self, _: &AgentId) -> Result<Vec<ResponseAction>, FactsError> {
        Ok(Vec::new())
    }
    fn lead_of(&self, _: &AgentId) -> Result<Option<AgentId>, FactsError> {
        Ok(None)
    }
}

fn secret_of(uri: &str) -> TotpSecret {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let encoded = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("secret="))
        .unwrap();
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0_u32, 0);
    for c in encoded.bytes() {
        buffer = (buffer << 5) | ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    TotpSecret::from_bytes(out)
}

fn request(action: AccessAction, ticket: &str, fields: &[FieldClass]) -> AccessRequest {
    AccessRequest {
        agent: AgentId::parse("a-0042").unwrap(),
        customer: CustomerId::parse("cust-77").unwrap(),
        ticket: Some(TicketId::parse(ticket).unwrap()),
        fields: fields.to_vec(),
        purpose: "verify identity".to_owned(),
        action,
    }
}

fn bench(c: &mut Criterion) {
    let root = tempfile::tempdir().unwrap();
    let keys = KeyRing::new(
        KekId::parse("bench").unwrap(),
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    );
    let vault = Arc::new(Vault::open(&root.path().join("vault"), keys).unwrap());
    let customer = CustomerId::parse("cust-77").unwrap();
    vault
        .put_customer(
            &customer,
            &[
                (VaultField::Name, "Jane Quincy Doe"),
                (VaultField::Email, "jane.doe@example.com"),
                (VaultField::NationalId, "123-45-6789"),
            ],
        )
        .unwrap();
    let store = Arc::new(SqliteAccessStore::open(&root.path().join("access")).unwrap());
    let step_up_store: Arc<dyn StepUpStore> = store.clone();
    let broker = Arc::new(BrokerHandle::fixed(Broker::default_policies().unwrap()));
    let service = AccessService::new(
        broker.clone(),
        vault.clone(),
        Arc::new(Fixture),
        store.clone(),
        store.clone(),
    )
    .unwrap();

    // A grant with a budget large enough for the whole run, approved by a
    // lead; the agent stepped up a minute before `now`.
    let now = EventTime::from_unix_secs(1_750_000_000);
    let policy = GrantPolicy {
        max_budget: u32::MAX,
        ..GrantPolicy::default()
    };
    let approvals = Approvals::new(
        store.clone(),
        step_up_store.clone(),
        vault.clone(),
        Arc::new(Fixture),
        policy,
    );
    let step_ups = StepUps::new(
        step_up_store,
        SealingKey::from_bytes([7; 32]),
        StepUpPolicy::default(),
    );
    let step_up = |who: &str, at: EventTime| {
        let who = AgentId::parse(who).unwrap();
        let secret = secret_of(step_ups.enrol(&who, at).unwrap().uri.expose());
        step_ups
            .verify(&who, &format!("{:06}", totp(&secret, at)), at)
            .unwrap();
    };
    let before = now.saturating_sub(Span::from_secs(60));
    let grant = approvals
        .request(
            &RevealRequest {
                requester: AgentId::parse("a-0042").unwrap(),
                customer: customer.clone(),
                ticket: TicketId::parse("t-kyc").unwrap(),
                fields: vec![FieldClass::NationalId],
                purpose: "verify identity".to_owned(),
                ttl_secs: Some(3600),
                reveal_budget: Some(u32::MAX),
            },
            before,
        )
        .unwrap();
    step_up("l-1", before);
    approvals
        .approve(
            &grant.grant.id,
            &AgentId::parse("l-1").unwrap(),
            "support_lead",
            before,
        )
        .unwrap();
    step_up("a-0042", before);

    let view = request(
        AccessAction::View,
        "t-login",
        &[FieldClass::Name, FieldClass::Email],
    );
    let reveal = request(AccessAction::Reveal, "t-kyc", &[FieldClass::NationalId]);
    let sanity = service.access(&reveal, now).unwrap();
    assert!(sanity.watermark.is_some(), "the reveal bench must reveal");

    let mut group = c.benchmark_group("access");
    group.bench_function("view_2_fields_masked", |b| {
        b.iter(|| black_box(service.access(black_box(&view), now).unwrap()))
    });
    group.bench_function("reveal_sensitive_with_grant", |b| {
        b.iter(|| black_box(service.access(black_box(&reveal), now).unwrap()))
    });
    // Baseline: the broker's decision alone on the same view (facts built).
    let facts = Facts {
        now,
        agent: Fixture.agent(&view.agent).unwrap(),
        ticket: Fixture.ticket(view.ticket.as_ref().unwrap()).unwrap(),
        live_contact: false,
        countermeasures: Vec::new(),
        grant: None,
        step_up_at: None,
    };
    let current = broker.current();
    group.bench_function("baseline_broker_decide_view", |b| {
        b.iter(|| black_box(current.decide(black_box(&view), &facts)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
