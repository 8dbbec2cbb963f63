//! `AccessService` end to end: a real vault (temporary directory, test
//! keys), the shipped broker policies, a `FactsSource` fixture and the
//! SQLite grant store.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use custos_access::totp::TotpSecret;
use custos_access::{
    AccessOutcome, AccessService, AccessStoreError, Approvals, BrokerHandle, FactsError,
    FactsSource, GrantError, GrantId, GrantPolicy, GrantRecord, GrantStore, Origin, RevealRequest,
    SqliteAccessStore, StepUpPolicy, StepUpStore, StepUps, Transition,
};
use custos_broker::{
    AccessRequest, AgentFacts, Broker, BrokerConfig, DEFAULT_CATEGORIES, DEFAULT_POLICY_FILES,
    DEFAULT_SCHEMA, Outcome, TicketFacts,
};
use custos_core::alert::ResponseAction;
use custos_core::event::{AccessAction, EventBody, FieldClass, OpenedBy, TicketStatus};
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::parse::parse_event;
use custos_core::time::EventTime;
use custos_vault::Vault;

use crate::support::*;

const PURPOSE: &str = "verify identity for kyc review";

/// The directory and countermeasures, from a fixture.
pub struct Fixture {
    agents: HashMap<AgentId, AgentFacts>,
    tickets: HashMap<TicketId, TicketFacts>,
    countermeasures: Mutex<HashMap<AgentId, Vec<ResponseAction>>>,
    failing: AtomicBool,
}

impl Fixture {
    pub fn new() -> Fixture {
        let agent_facts = |role: &str| AgentFacts {
            role: role.to_owned(),
            team: "tier1-chat".to_owned(),
        };
        let ticket_facts = |id: &str, category: &str| {
            (
                ticket(id),
                TicketFacts {
                    id: ticket(id),
                    status: TicketStatus::Assigned,
                    category: category.to_owned(),
                    assigned_agent: Some(agent("a-0042")),
                    opened_by: Some(OpenedBy::Customer),
                    customer: customer(CUSTOMER),
                },
            )
        };
        Fixture {
            agents: HashMap::from([
                (agent("a-0042"), agent_facts("support_l1")),
                (agent("a-0007"), agent_facts("support_l1")),
                (agent("l-1"), agent_facts("support_lead")),
            ]),
            tickets: HashMap::from([
                ticket_facts("t-kyc", "kyc_verification"),
                ticket_facts("t-login", "login_issue"),
            ]),
            countermeasures: Mutex::new(HashMap::new()),
            failing: AtomicBool::new(false),
        }
    }

    fn check(&self) -> Result<(), FactsError> {
        if self.failing.load(Ordering::SeqCst) {
            return Err(FactsError::Unavailable("event store is down".into()));
        }
        Ok(())
    }

    pub fn impose(&self, who: &str, action: ResponseAction) {
        self.countermeasures
            .lock()
            .unwrap()
            .entry(agent(who))
            .or_default()
            .push(action);
    }
}

impl FactsSource for Fixture {
    fn agent(&self, agent: &AgentId) -> Result<Option<AgentFacts>, FactsError> {
        self.check()?;
        Ok(self.agents.get(agent).cloned())
    }
    fn ticket(&self, ticket: &TicketId) -> Result<Option<TicketFacts>, FactsError> {
        self.check()?;
        Ok(self.tickets.get(ticket).cloned())
    }
    fn live_contact(
        &self,
        _agent: &AgentId,
        _customer: &CustomerId,
        _now: EventTime,
    ) -> Result<bool, FactsError> {
        self.check()?;
        Ok(false)
    }
    fn countermeasures(&self, agent: &AgentId) -> Result<Vec<ResponseAction>, FactsError> {
        self.check()?;
        Ok(self
            .countermeasures
            .lock()
            .unwrap()
            .get(agent)
            .cloned()
            .unwrap_or_default())
    }
    fn lead_of(&self, _agent: &AgentId) -> Result<Option<AgentId>, FactsError> {
        self.check()?;
        Ok(None)
    }
}

/// A grant store whose reads work and whose chosen operations fail.
struct Flaky {
    inner: Arc<SqliteAccessStore>,
    fail_reads: bool,
    fail_spend: bool,
}

fn down() -> AccessStoreError {
    AccessStoreError::Unavailable("database is locked".into())
}

impl GrantStore for Flaky {
    fn backend(&self) -> &'static str {
        "flaky"
    }
    fn insert_grant(&self, grant: &GrantRecord) -> Result<(), AccessStoreError> {
        self.inner.insert_grant(grant)
    }
    fn grant(&self, id: &GrantId) -> Result<Option<GrantRecord>, AccessStoreError> {
        self.inner.grant(id)
    }
    fn transition(
        &self,
        id: &GrantId,
        change: &Transition,
    ) -> Result<Option<GrantRecord>, AccessStoreError> {
        self.inner.transition(id, change)
    }
    fn spend(&self, id: &GrantId, n: u32, now: EventTime) -> Result<Option<u32>, AccessStoreError> {
        if self.fail_spend {
            return Err(down());
        }
        self.inner.spend(id, n, now)
    }
    fn active_grants(
        &self,
        a: &AgentId,
        c: &CustomerId,
        t: &TicketId,
        now: EventTime,
    ) -> Result<Vec<GrantRecord>, AccessStoreError> {
        if self.fail_reads {
            return Err(down());
        }
        self.inner.active_grants(a, c, t, now)
    }
    fn pending_grants(&self, limit: usize) -> Result<Vec<GrantRecord>, AccessStoreError> {
        self.inner.pending_grants(limit)
    }
    fn open_grants_for_ticket(&self, t: &TicketId) -> Result<Vec<GrantRecord>, AccessStoreError> {
        self.inner.open_grants_for_ticket(t)
    }
}

pub struct Harness {
    pub service: AccessService,
    pub approvals: Approvals,
    pub step_ups: StepUps,
    pub facts: Arc<Fixture>,
    pub vault: Arc<Vault>,
    secrets: Mutex<HashMap<String, TotpSecret>>,
    _dirs: (tempfile::TempDir, tempfile::TempDir),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum GrantFault {
    None,
    Reads,
    Spend,
}

fn harness() -> Harness {
    harness_with(GrantFault::None)
}

fn harness_with(fault: GrantFault) -> Harness {
    let (vault_dir, vault) = vault();
    let store_dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteAccessStore::open(store_dir.path()).unwrap());
    let grants: Arc<dyn GrantStore> = match fault {
        GrantFault::None => store.clone(),
        fault => Arc::new(Flaky {
            inner: store.clone(),
            fail_reads: fault == GrantFault::Reads,
            fail_spend: fault == GrantFault::Spend,
        }),
    };
    let step_ups: Arc<dyn StepUpStore> = store;
    let facts = Arc::new(Fixture::new());
    let broker = Arc::new(BrokerHandle::fixed(Broker::default_policies().unwrap()));
    let service = AccessService::new(
        broker,
        vault.clone(),
        facts.clone(),
        grants.clone(),
        step_ups.clone(),
    )
    .unwrap();
    Harness {
        service,
        approvals: Approvals::new(
            grants,
            step_ups.clone(),
            vault.clone(),
            facts.clone(),
            GrantPolicy::default(),
        ),
        step_ups: StepUps::new(step_ups, sealing_key(), StepUpPolicy::default()),
        facts,
        vault,
        secrets: Mutex::new(HashMap::new()),
        _dirs: (vault_dir, store_dir),
    }
}

impl Harness {
    /// `who` completes a step-up at `when` (enrolling first if needed).
    fn step_up(&self, who: &str, when: EventTime) {
        let mut secrets = self.secrets.lock().unwrap();
        let secret = secrets
            .entry(who.to_owned())
            .or_insert_with(|| secret_of(&self.step_ups.enrol(&agent(who), T0).unwrap()));
        self.step_ups
            .verify(&agent(who), &code(secret, when), when)
            .unwrap();
    }

    /// a-0042 asks for `fields` on t-kyc; lead l-1 approves at `at(10)`.
    fn approved_grant(&self, fields: &[FieldClass], budget: u32, ttl_secs: u32) -> GrantId {
        let id = self
            .approvals
            .request(
                &RevealRequest {
                    requester: agent("a-0042"),
                    customer: customer(CUSTOMER),
                    ticket: ticket("t-kyc"),
                    fields: fields.to_vec(),
                    purpose: PURPOSE.to_owned(),
                    ttl_secs: Some(ttl_secs),
                    reveal_budget: Some(budget),
                },
                T0,
            )
            .unwrap()
            .grant
            .id;
        self.step_up("l-1", at(5));
        self.approvals
            .approve(&id, &agent("l-1"), "support_lead", at(10))
            .unwrap();
        id
    }

    fn access(
        &self,
        action: AccessAction,
        on: &str,
        fields: &[FieldClass],
        when: EventTime,
    ) -> AccessOutcome {
        let outcome = self
            .service
            .access(&request(action, on, fields), when)
            .unwrap();
        check_evidence(&outcome);
        outcome
    }
}

fn request(action: AccessAction, on: &str, fields: &[FieldClass]) -> AccessRequest {
    AccessRequest {
        agent: agent("a-0042"),
        customer: customer(CUSTOMER),
        ticket: Some(ticket(on)),
        fields: fields.to_vec(),
        purpose: PURPOSE.to_owned(),
        action,
    }
}

/// Every outcome: the event parses as a contract-v1 `agent_access` naming
/// the fields shown; no PII in reasons, audit record, event or `Debug`.
fn check_evidence(outcome: &AccessOutcome) {
    let event = parse_event(&outcome.event, || "fallback".into()).unwrap();
    assert_eq!(event.id.as_str(), outcome.id);
    assert!(outcome.id.starts_with("acc-"));
    let EventBody::AgentAccess(access) = &event.body else {
        panic!("not an agent_access event: {}", outcome.event);
    };
    let shown: Vec<FieldClass> = outcome
        .decision
        .fields
        .iter()
        .filter(|d| d.outcome != Outcome::Hidden)
        .map(|d| d.field)
        .collect();
    assert_eq!(access.fields, shown);
    assert_eq!(access.agent_id, agent("a-0042"));
    let revealed = outcome
        .decision
        .fields
        .iter()
        .any(|d| d.outcome == Outcome::Revealed);
    assert_eq!(access.action == AccessAction::Reveal, revealed);
    let raw: serde_json::Value = serde_json::from_str(&outcome.event).unwrap();
    assert_eq!(raw["denied"], serde_json::json!(outcome.decision.denied));

    let reasons = serde_json::to_string(&outcome.decision).unwrap();
    let audit = outcome.audit.to_json_line();
    let debug = format!("{outcome:?}");
    for (_, value) in PII {
        for (what, text) in [
            ("reasons", &reasons),
            ("audit", &audit),
            ("event", &outcome.event),
            ("debug", &debug),
        ] {
            assert!(!text.contains(value), "{what} leaks `{value}`: {text}");
        }
    }
    for (what, text) in [("reasons", &reasons), ("audit", &audit)] {
        assert!(
            !text.contains(CUSTOMER),
            "{what} names the customer: {text}"
        );
        assert!(
            !text.contains(PURPOSE),
            "{what} carries the purpose: {text}"
        );
    }
    assert_eq!(outcome.audit.kind, "access_decision");
    assert_eq!(
        outcome.audit.outcome,
        if outcome.decision.denied {
            "denied"
        } else {
            "served"
        }
    );
}

fn outcome_of(outcome: &AccessOutcome, field: FieldClass) -> Outcome {
    outcome.decision.field(field).unwrap().outcome
}

fn value_of(outcome: &AccessOutcome, field: FieldClass) -> Option<String> {
    outcome
        .values
        .iter()
        .find(|v| v.field == field)
        .and_then(|v| v.value.as_ref())
        .map(|v| v.expose().to_owned())
}

fn has(outcome: &AccessOutcome, field: FieldClass, obligation: &str) -> bool {
    outcome
        .decision
        .field(field)
        .unwrap()
        .has_obligation(obligation)
}

fn reason_codes(outcome: &AccessOutcome, field: FieldClass) -> Vec<String> {
    outcome
        .decision
        .field(field)
        .unwrap()
        .reasons
        .iter()
        .map(|r| r.code.clone())
        .collect()
}

#[test]
fn fields_are_masked_by_default() {
    let h = harness();
    let out = h.access(
        AccessAction::View,
        "t-login",
        &[FieldClass::Email, FieldClass::Name, FieldClass::NationalId],
        at(1),
    );
    assert_eq!(outcome_of(&out, FieldClass::Email), Outcome::Masked);
    assert_eq!(
        value_of(&out, FieldClass::Email).as_deref(),
        Some("j***@e***.com")
    );
    assert_eq!(outcome_of(&out, FieldClass::Name), Outcome::Masked);
    let name = value_of(&out, FieldClass::Name).unwrap();
    assert!(!name.contains("Jane"), "{name}");
    // Not needed by a login ticket: hidden, no value.
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Hidden);
    assert_eq!(value_of(&out, FieldClass::NationalId), None);
    assert_eq!(out.watermark, None);
    assert_eq!(out.grant, None);
    let event = parse_event(&out.event, || "x".into()).unwrap();
    let EventBody::AgentAccess(access) = event.body else {
        panic!()
    };
    assert_eq!(access.action, AccessAction::View);
    assert_eq!(access.fields, vec![FieldClass::Email, FieldClass::Name]);
    assert_eq!(access.ticket_id, Some(ticket("t-login")));
    assert_eq!(access.customer_id, Some(customer(CUSTOMER)));
    assert_eq!(event.ts, at(1));
    assert_eq!(out.audit.customer_ref.as_ref().map(String::len), Some(64));
}

#[test]
fn a_sensitive_reveal_needs_an_approved_grant_and_a_step_up() {
    let h = harness();
    let fields = [FieldClass::NationalId, FieldClass::Name];
    // No grant, no step-up: masked, with both obligations.
    let out = h.access(AccessAction::Reveal, "t-kyc", &fields, at(1));
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Masked);
    assert_eq!(
        value_of(&out, FieldClass::NationalId).as_deref(),
        Some("***-**-6789")
    );
    assert!(has(&out, FieldClass::NationalId, "approval_needed"));
    assert!(has(&out, FieldClass::NationalId, "step_up_needed"));
    // A non-sensitive field on a reveal request is revealed, watermarked,
    // and spends no grant.
    assert_eq!(outcome_of(&out, FieldClass::Name), Outcome::Revealed);
    assert_eq!(
        value_of(&out, FieldClass::Name).as_deref(),
        Some("Jane Quincy Doe")
    );
    assert!(out.watermark.is_some());
    assert_eq!(out.grant, None);

    // Requested, still pending: masked.
    let pending = h
        .approvals
        .request(
            &RevealRequest {
                requester: agent("a-0042"),
                customer: customer(CUSTOMER),
                ticket: ticket("t-kyc"),
                fields: vec![FieldClass::NationalId],
                purpose: PURPOSE.to_owned(),
                ttl_secs: None,
                reveal_budget: Some(2),
            },
            at(2),
        )
        .unwrap();
    let out = h.access(AccessAction::Reveal, "t-kyc", &fields, at(3));
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Masked);
    assert!(has(&out, FieldClass::NationalId, "approval_needed"));

    // Approved, but the agent has not stepped up: masked, step-up needed.
    h.step_up("l-1", at(4));
    h.approvals
        .approve(&pending.grant.id, &agent("l-1"), "support_lead", at(5))
        .unwrap();
    let out = h.access(AccessAction::Reveal, "t-kyc", &fields, at(6));
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Masked);
    assert!(!has(&out, FieldClass::NationalId, "approval_needed"));
    assert!(has(&out, FieldClass::NationalId, "step_up_needed"));

    // Stepped up: revealed, watermarked, one reveal spent.
    h.step_up("a-0042", at(40));
    let out = h.access(AccessAction::Reveal, "t-kyc", &fields, at(41));
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Revealed);
    assert_eq!(
        value_of(&out, FieldClass::NationalId).as_deref(),
        Some("123-45-6789")
    );
    assert!(has(&out, FieldClass::NationalId, "watermark"));
    assert_eq!(out.watermark.as_ref().map(String::len), Some(16));
    assert_eq!(out.grant, Some(pending.grant.id.clone()));
    assert_eq!(out.reveals_left, Some(1));
    let event = parse_event(&out.event, || "x".into()).unwrap();
    let EventBody::AgentAccess(access) = event.body else {
        panic!()
    };
    assert_eq!(access.action, AccessAction::Reveal);
    assert_eq!(out.audit.grant, Some(pending.grant.id.clone()));
    assert_eq!(out.audit.detail["reveals_spent"], 1);

    // A different purpose does not use the grant.
    let mut other = request(AccessAction::Reveal, "t-kyc", &fields);
    other.purpose = "curiosity".into();
    let out = h.service.access(&other, at(42)).unwrap();
    check_evidence(&out);
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Masked);
}

#[test]
fn self_approval_is_refused_and_reveals_nothing() {
    let h = harness();
    let id = h
        .approvals
        .request(
            &RevealRequest {
                requester: agent("a-0042"),
                customer: customer(CUSTOMER),
                ticket: ticket("t-kyc"),
                fields: vec![FieldClass::NationalId],
                purpose: PURPOSE.to_owned(),
                ttl_secs: None,
                reveal_budget: None,
            },
            T0,
        )
        .unwrap()
        .grant
        .id;
    h.step_up("a-0042", at(1));
    for spelling in ["a-0042", "A-0042"] {
        let refused = h
            .approvals
            .approve(&id, &agent(spelling), "support_lead", at(2));
        assert_eq!(refused, Err(GrantError::SelfApproval));
    }
    let out = h.access(
        AccessAction::Reveal,
        "t-kyc",
        &[FieldClass::NationalId],
        at(3),
    );
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Masked);
    assert!(has(&out, FieldClass::NationalId, "approval_needed"));
}

#[test]
fn approval_by_a_non_lead_is_refused() {
    let h = harness();
    let id = h
        .approvals
        .request(
            &RevealRequest {
                requester: agent("a-0042"),
                customer: customer(CUSTOMER),
                ticket: ticket("t-kyc"),
                fields: vec![FieldClass::NationalId],
                purpose: PURPOSE.to_owned(),
                ttl_secs: None,
                reveal_budget: None,
            },
            T0,
        )
        .unwrap()
        .grant
        .id;
    h.step_up("a-0007", at(1));
    assert_eq!(
        h.approvals
            .approve(&id, &agent("a-0007"), "support_l1", at(2)),
        Err(GrantError::NotAnApprover {
            role: "support_l1".into()
        })
    );
    h.step_up("a-0042", at(3));
    let out = h.access(
        AccessAction::Reveal,
        "t-kyc",
        &[FieldClass::NationalId],
        at(4),
    );
    assert_eq!(outcome_of(&out, FieldClass::NationalId), Outcome::Masked);
}

#[test]
fn an_expired_grant_reveals_nothing() {
    let h = harness();
    h.approved_grant(&[FieldClass::NationalId], 3, 60); // expires at at(70)
    h.step_up("a-0042", at(60));
    let before = h.access(
        AccessAction::Reveal,
        "t-kyc",
        &[FieldClass::NationalId],
        at(69),
    );
    assert_eq!(
        outcome_of(&before, FieldClass::NationalId),
        Outcome::Revealed
    );
    let after = h.access(
        AccessAction::Reveal,
        "t-kyc",
        &[FieldClass::NationalId],
        at(70),
    );
    assert_eq!(outcome_of(&after, FieldClass::NationalId), Outcome::Masked);
    assert!(has(&after, FieldClass::NationalId, "approval_needed"));
    assert_eq!(after.grant, None);
}

#[test]
fn an_exhausted_budget_reveals_nothing() {
    let h = harness();
    h.approved_grant(&[FieldClass::NationalId, FieldClass::IdDocument], 3, 600);
    h.step_up("a-0042", at(20));
    let one = [FieldClass::NationalId];
    let two = [FieldClass::NationalId, FieldClass::IdDocument];
    let cases = [
        (&one[..], at(21), Outcome::Revealed, Some(2)),
        // Two reveals with one... no: two with two left.
        (&two[..], at(22), Outcome::Revealed, Some(0)),
        (&one[..], at(23), Outcome::Masked, None),
    ];
    for (fields, when, expect, left) in cases {
        let out = h.access(AccessAction::Reveal, "t-kyc", fields, when);
        for &field in fields {
            assert_eq!(outcome_of(&out, field), expect, "{field} at {when}");
        }
        assert_eq!(out.reveals_left, left);
    }
    // A reveal that would overspend is refused whole: one left, two asked.
    let h = harness();
    h.approved_grant(&[FieldClass::NationalId, FieldClass::IdDocument], 1, 600);
    h.step_up("a-0042", at(20));
    let out = h.access(AccessAction::Reveal, "t-kyc", &two, at(21));
    for field in two {
        assert_eq!(outcome_of(&out, field), Outcome::Masked);
        assert!(has(&out, field, "approval_needed"));
        assert!(!has(&out, field, "watermark"));
        assert!(reason_codes(&out, field).contains(&"grant_budget_exhausted".to_owned()));
    }
    assert_eq!(out.watermark, None);
    assert_eq!(out.reveals_left, None);
}

#[test]
fn a_suspended_agent_sees_nothing() {
    let h = harness();
    h.approved_grant(&[FieldClass::NationalId], 3, 600);
    h.step_up("a-0042", at(20));
    h.facts.impose("a-0042", ResponseAction::SuspendAccess);
    for (action, on, fields) in [
        (
            AccessAction::View,
            "t-login",
            &[FieldClass::Email, FieldClass::Name][..],
        ),
        (
            AccessAction::Reveal,
            "t-kyc",
            &[FieldClass::NationalId, FieldClass::Name][..],
        ),
    ] {
        let out = h.access(action, on, fields, at(21));
        assert!(out.decision.denied);
        assert!(
            out.values
                .iter()
                .all(|v| v.outcome == Outcome::Hidden && v.value.is_none())
        );
        assert!(reason_codes(&out, fields[0]).contains(&"suspended_agent".to_owned()));
        let raw: serde_json::Value = serde_json::from_str(&out.event).unwrap();
        assert_eq!(raw["fields"], serde_json::json!([]));
        assert_eq!(raw["denied"], true);
        assert_eq!(out.audit.outcome, "denied");
    }
}

#[test]
fn an_agent_under_approval_needs_a_grant_even_to_view() {
    let h = harness();
    h.facts.impose("a-0042", ResponseAction::RequireApproval);
    let out = h.access(AccessAction::View, "t-login", &[FieldClass::Email], at(1));
    assert_eq!(outcome_of(&out, FieldClass::Email), Outcome::Hidden);
    assert!(has(&out, FieldClass::Email, "approval_needed"));
}

#[test]
fn store_errors_fail_closed() {
    // The directory is down: every field hidden, the error kept for the log.
    let h = harness();
    h.facts.failing.store(true, Ordering::SeqCst);
    let out = h.access(AccessAction::View, "t-login", &[FieldClass::Email], at(1));
    assert!(out.decision.denied);
    assert_eq!(
        reason_codes(&out, FieldClass::Email),
        vec!["facts_unavailable"]
    );
    assert!(
        out.internal_error
            .as_deref()
            .unwrap()
            .contains("event store is down")
    );

    // Grants cannot be read: a reveal shows nothing at all.
    let h = harness_with(GrantFault::Reads);
    h.approved_grant(&[FieldClass::NationalId], 3, 600);
    h.step_up("a-0042", at(20));
    let fields = [FieldClass::NationalId, FieldClass::Name];
    let out = h.access(AccessAction::Reveal, "t-kyc", &fields, at(21));
    assert!(out.decision.denied);
    for field in fields {
        assert_eq!(reason_codes(&out, field), vec!["access_store_unavailable"]);
    }

    // The budget cannot be spent: nothing shown, nothing revealed.
    let h = harness_with(GrantFault::Spend);
    h.approved_grant(&[FieldClass::NationalId], 3, 600);
    h.step_up("a-0042", at(20));
    let out = h.access(AccessAction::Reveal, "t-kyc", &fields, at(21));
    assert!(out.decision.denied);
    assert!(out.values.iter().all(|v| v.value.is_none()));
    assert_eq!(out.watermark, None);
    assert!(out.internal_error.is_some());
}

#[test]
fn vault_failures_hide_the_field_without_naming_the_customer() {
    let h = harness();
    let mut req = request(AccessAction::View, "t-login", &[FieldClass::Email]);
    // Crypto-erasure: the vault refuses every read of the customer.
    h.vault.delete_customer_key(&customer(CUSTOMER)).unwrap();
    let out = h.service.access(&req, at(1)).unwrap();
    check_evidence(&out);
    assert_eq!(outcome_of(&out, FieldClass::Email), Outcome::Hidden);
    assert!(reason_codes(&out, FieldClass::Email).contains(&"vault_erased".to_owned()));
    assert_eq!(out.audit.customer_ref, None, "erased: no commitment");
    req.fields = vec![FieldClass::Name];
    let out = h.service.access(&req, at(2)).unwrap();
    assert!(out.decision.denied);
}

#[test]
fn decision_ids_are_unique_and_origin_reaches_the_event() {
    let h = harness();
    let origin = Origin {
        ip: Some("203.0.113.7".into()),
        device_id: Some("dev-77".into()),
    };
    let req = request(AccessAction::View, "t-login", &[FieldClass::Email]);
    let a = h.service.access_from(&req, &origin, at(1)).unwrap();
    let b = h.service.access_from(&req, &origin, at(1)).unwrap();
    assert_ne!(a.id, b.id);
    let event = parse_event(&a.event, || "x".into()).unwrap();
    let EventBody::AgentAccess(access) = event.body else {
        panic!()
    };
    assert_eq!(access.ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(access.device_id.as_deref(), Some("dev-77"));
}

fn write_policies(dir: &Path) {
    for (name, text) in DEFAULT_POLICY_FILES {
        std::fs::write(dir.join(name), text).unwrap();
    }
    std::fs::write(dir.join("schema.cedarschema"), DEFAULT_SCHEMA).unwrap();
    std::fs::write(dir.join("categories.json"), DEFAULT_CATEGORIES).unwrap();
}

#[test]
fn policies_hot_reload_and_a_bad_set_keeps_the_old_one() {
    let dir = tempfile::tempdir().unwrap();
    write_policies(dir.path());
    let handle = BrokerHandle::from_dir(dir.path(), BrokerConfig::default()).unwrap();
    assert_eq!(handle.reload_if_changed(), Ok(false));
    let before = handle.current();

    // A policy that does not parse: refused once, the old broker stays.
    std::fs::write(dir.path().join("extra.cedar"), "permit (principal, action").unwrap();
    assert!(handle.reload_if_changed().is_err());
    assert!(Arc::ptr_eq(&before, &handle.current()));
    assert_eq!(
        handle.reload_if_changed(),
        Ok(false),
        "refused once per change"
    );

    // Fixed: loaded.
    std::fs::write(
        dir.path().join("extra.cedar"),
        "@id(\"extra\")\nforbid (principal, action == Action::\"export\", resource);\n",
    )
    .unwrap();
    assert_eq!(handle.reload_if_changed(), Ok(true));
    assert!(!Arc::ptr_eq(&before, &handle.current()));
    assert_eq!(handle.current().slice_sizes().1, before.slice_sizes().1 + 1);

    // Removing it is a change too.
    std::fs::remove_file(dir.path().join("extra.cedar")).unwrap();
    assert_eq!(handle.reload_if_changed(), Ok(true));
    let fixed = BrokerHandle::fixed(Broker::default_policies().unwrap());
    assert_eq!(fixed.reload_if_changed(), Ok(false));
}
