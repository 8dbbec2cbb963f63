//! The conformance suite: the same cases against every backend. Each case
//! works through the public workflow (`Approvals`, `StepUps`) and the store
//! traits, so both backends are held to one behaviour.

use std::sync::{Arc, Barrier};
use std::thread;

use custos_access::{
    Approvals, ApproverCandidate, EligibleApprover, FactsError, GrantError, GrantId, GrantPolicy,
    MAX_LEAD_CHAIN, RevealRequest, StepUpError, StepUpFactor, StepUpPolicy, StepUps,
};
use custos_broker::GrantStatus;
use custos_core::alert::ResponseAction;
use custos_core::event::FieldClass;

use crate::support::*;

struct World {
    stores: Stores,
    directory: Arc<Directory>,
    approvals: Approvals,
    step_ups: StepUps,
    _vault_dir: tempfile::TempDir,
}

fn world(backend: &dyn Backend) -> World {
    let stores = backend.open();
    let (vault_dir, vault) = vault();
    let directory = Arc::new(Directory::default());
    World {
        approvals: Approvals::new(
            stores.grants.clone(),
            stores.step_ups.clone(),
            vault,
            directory.clone(),
            GrantPolicy::default(),
        ),
        directory,
        step_ups: StepUps::new(
            stores.step_ups.clone(),
            sealing_key(),
            StepUpPolicy::default(),
        ),
        stores,
        _vault_dir: vault_dir,
    }
}

fn reveal_request(budget: u32) -> RevealRequest {
    RevealRequest {
        requester: agent("a-0042"),
        customer: customer(CUSTOMER),
        ticket: ticket("t-kyc"),
        fields: vec![
            FieldClass::NationalId,
            FieldClass::IdDocument,
            FieldClass::NationalId,
        ],
        purpose: " verify identity for kyc review ".to_owned(),
        ttl_secs: Some(600),
        reveal_budget: Some(budget),
    }
}

/// Enrols `who` and completes a step-up at `when`.
fn step_up(w: &World, who: &str, when: custos_core::time::EventTime) {
    let enrolment = w.step_ups.enrol(&agent(who), T0).unwrap();
    let secret = secret_of(&enrolment);
    w.step_ups
        .verify(&agent(who), &code(&secret, when), when)
        .unwrap();
}

/// A grant approved at `at(10)` by lead `l-1`.
fn approved(w: &World, budget: u32) -> GrantId {
    let id = w
        .approvals
        .request(&reveal_request(budget), T0)
        .unwrap()
        .grant
        .id;
    if w.step_ups.step_up_at(&agent("l-1")).unwrap().is_none() {
        step_up(w, "l-1", at(5));
    }
    w.approvals
        .approve(&id, &agent("l-1"), "support_lead", at(10))
        .unwrap();
    id
}

pub fn request_then_approve_by_a_lead_with_step_up(backend: &dyn Backend) {
    let w = world(backend);
    assert_eq!(w.stores.grants.backend(), backend.name());
    let requested = w.approvals.request(&reveal_request(3), T0).unwrap();
    let grant = &requested.grant;
    assert_eq!(grant.status, GrantStatus::Pending);
    assert_eq!(
        grant.fields,
        vec![FieldClass::IdDocument, FieldClass::NationalId]
    );
    assert_eq!(grant.purpose, "verify identity for kyc review");
    assert_eq!(grant.expires_at, None);
    assert_eq!(grant.to_broker_grant(), None);
    let inbox = w.approvals.pending_grants(10).unwrap();
    assert_eq!(inbox, vec![grant.clone()]);

    step_up(&w, "l-1", at(5));
    let approved = w
        .approvals
        .approve(&grant.id, &agent("l-1"), "Support_Lead", at(10))
        .unwrap();
    let g = &approved.grant;
    assert_eq!(g.status, GrantStatus::Approved);
    assert_eq!(g.decided_by, Some(agent("l-1")));
    assert_eq!(g.decided_at, Some(at(10)));
    assert_eq!(g.expires_at, Some(at(610)));
    assert_eq!(g.reveals_remaining, 3);
    assert!(w.approvals.pending_grants(10).unwrap().is_empty());
    assert_eq!(w.approvals.grant(&grant.id).unwrap(), *g);
    let active = w
        .stores
        .grants
        .active_grants(
            &agent("a-0042"),
            &customer(CUSTOMER),
            &ticket("t-kyc"),
            at(20),
        )
        .unwrap();
    assert_eq!(active, vec![g.clone()]);
    // Audit records: ids, fields, statuses; no customer id, no purpose.
    for record in [&requested.audit, &approved.audit] {
        let json = record.to_json_line();
        assert!(!json.contains(CUSTOMER), "{json}");
        assert!(!json.contains("kyc review"), "{json}");
        assert_eq!(record.customer_ref.as_ref().map(String::len), Some(64));
        assert_eq!(record.grant.as_ref(), Some(&grant.id));
    }
    assert_eq!(approved.audit.kind, "grant_approved");
    assert_eq!(approved.audit.actor, agent("l-1"));
    assert_eq!(approved.audit.subject, Some(agent("a-0042")));
}

pub fn the_requesters_lead_chain_may_not_approve(backend: &dyn Backend) {
    let w = world(backend);
    // a-0042 reports to l-1, l-1 to s-1 (written in another spelling),
    // s-1 to l-1 (a cycle the walk stops at).
    w.directory.set_lead("a-0042", "l-1");
    w.directory.set_lead("l-1", "S-1");
    w.directory.set_lead("S-1", "l-1");
    let id = w
        .approvals
        .request(&reveal_request(3), T0)
        .unwrap()
        .grant
        .id;
    for who in ["l-1", "s-1", "x-9"] {
        step_up(&w, who, at(5));
    }
    for (who, role) in [
        ("l-1", "support_lead"),
        ("s-1", "security"),
        ("L-1", "lead"),
    ] {
        assert_eq!(
            w.approvals.approve(&id, &agent(who), role, at(10)),
            Err(GrantError::ApproverInLeadChain),
            "{who}"
        );
    }
    let record = Approvals::refusal_record(
        "approve",
        &agent("l-1"),
        Some(&id),
        &GrantError::ApproverInLeadChain,
        at(10),
    );
    assert_eq!(record.code.as_deref(), Some("approver_in_lead_chain"));
    assert_eq!(record.outcome, "refused");
    // Rejecting only takes access away: a lead may.
    let other = w
        .approvals
        .request(&reveal_request(1), T0)
        .unwrap()
        .grant
        .id;
    w.approvals
        .reject(&other, &agent("l-1"), "support_lead", "not_needed", at(10))
        .unwrap();

    // The listing says who can: not the requester, not the chain, not a
    // non-approving role, not an approver under a countermeasure.
    let candidates: Vec<ApproverCandidate> = [
        ("a-0042", "support_lead"),
        ("l-1", "support_lead"),
        ("s-1", "security"),
        ("x-9", "supervisor"),
        ("y-3", "Admin"),
        ("z-1", "support_l1"),
        ("m-5", "security"),
    ]
    .into_iter()
    .map(|(who, role)| ApproverCandidate {
        agent: agent(who),
        role: role.to_owned(),
    })
    .collect();
    w.directory
        .countermeasures
        .lock()
        .unwrap()
        .insert("m-5".into(), vec![ResponseAction::StepUp]);
    let listed = w
        .approvals
        .eligible_approvers(&id, &candidates, at(10))
        .unwrap();
    assert_eq!(
        listed,
        vec![
            EligibleApprover {
                agent: agent("x-9"),
                role: "supervisor".into(),
                enrolled: true,
                fresh_step_up: true,
            },
            EligibleApprover {
                agent: agent("y-3"),
                role: "Admin".into(),
                enrolled: false,
                fresh_step_up: false,
            },
        ]
    );
    // Step-ups go stale: still listed, no longer ready.
    let later = w
        .approvals
        .eligible_approvers(&id, &candidates, at(5 + 301))
        .unwrap();
    assert_eq!(later.len(), 2);
    assert!(later.iter().all(|a| !a.fresh_step_up));
    // An approver under a countermeasure is refused outright.
    step_up(&w, "m-5", at(8));
    assert_eq!(
        w.approvals.approve(&id, &agent("m-5"), "security", at(10)),
        Err(GrantError::ApproverUnderCountermeasure { action: "step_up" })
    );
    // Without the lead-chain rule the listing and approval allow the lead.
    let (_lenient_vault_dir, lenient_vault) = vault();
    let lenient = Approvals::new(
        w.stores.grants.clone(),
        w.stores.step_ups.clone(),
        lenient_vault,
        w.directory.clone(),
        GrantPolicy {
            forbid_lead_chain: false,
            ..GrantPolicy::default()
        },
    );
    let names = |list: Vec<EligibleApprover>| -> Vec<String> {
        list.into_iter().map(|a| a.agent.to_string()).collect()
    };
    assert_eq!(
        names(
            lenient
                .eligible_approvers(&id, &candidates, at(10))
                .unwrap()
        ),
        vec!["l-1", "s-1", "x-9", "y-3"]
    );
    // A directory that cannot be read refuses (and lists nothing).
    *w.directory.fail.lock().unwrap() = true;
    let down = w
        .approvals
        .approve(&id, &agent("x-9"), "supervisor", at(10));
    assert!(
        matches!(down, Err(GrantError::Facts(FactsError::Unavailable(_)))),
        "{down:?}"
    );
    assert_eq!(down.unwrap_err().code(), "facts_unavailable");
    assert!(
        w.approvals
            .eligible_approvers(&id, &candidates, at(10))
            .is_err()
    );
    *w.directory.fail.lock().unwrap() = false;
    // The one listed and stepped up approves.
    w.approvals
        .approve(&id, &agent("x-9"), "supervisor", at(10))
        .unwrap();
    // Only a pending grant has approvers.
    assert!(matches!(
        w.approvals.eligible_approvers(&id, &candidates, at(11)),
        Err(GrantError::WrongStatus { .. })
    ));

    // A chain longer than the cap is a directory error: refused.
    for i in 0..=MAX_LEAD_CHAIN {
        w.directory
            .set_lead(&format!("q-{i}"), &format!("q-{}", i + 1));
    }
    let mut deep = reveal_request(1);
    deep.requester = agent("q-0");
    let deep = w.approvals.request(&deep, T0).unwrap().grant.id;
    let refused = w
        .approvals
        .approve(&deep, &agent("x-9"), "supervisor", at(10));
    assert!(
        matches!(refused, Err(GrantError::Facts(FactsError::Invalid(_)))),
        "{refused:?}"
    );
}

pub fn self_approval_is_refused_in_any_spelling(backend: &dyn Backend) {
    let w = world(backend);
    let id = w
        .approvals
        .request(&reveal_request(3), T0)
        .unwrap()
        .grant
        .id;
    for (index, spelling) in ["a-0042", "A-0042", "ａ-００４２", "a-0042\u{200B}"]
        .into_iter()
        .enumerate()
    {
        // Each spelling has its own fresh step-up, and a lead's role.
        let now = at(100 * (index as i64 + 1));
        step_up(&w, spelling, now);
        let refused = w
            .approvals
            .approve(&id, &agent(spelling), "support_lead", now);
        assert_eq!(refused, Err(GrantError::SelfApproval), "{spelling:?}");
        let rejected = w
            .approvals
            .reject(&id, &agent(spelling), "support_lead", "not_needed", now);
        assert_eq!(rejected, Err(GrantError::SelfApproval), "{spelling:?}");
    }
    assert_eq!(w.approvals.grant(&id).unwrap().status, GrantStatus::Pending);
    let record = Approvals::refusal_record(
        "approve",
        &agent("A-0042"),
        Some(&id),
        &GrantError::SelfApproval,
        at(1),
    );
    assert_eq!(record.code.as_deref(), Some("self_approval"));
    assert_eq!(record.outcome, "refused");
}

pub fn approver_needs_an_approving_role_and_a_fresh_step_up(backend: &dyn Backend) {
    let w = world(backend);
    let id = w
        .approvals
        .request(&reveal_request(3), T0)
        .unwrap()
        .grant
        .id;
    step_up(&w, "a-0007", at(5));
    assert_eq!(
        w.approvals
            .approve(&id, &agent("a-0007"), "support_l1", at(10)),
        Err(GrantError::NotAnApprover {
            role: "support_l1".into()
        })
    );
    assert_eq!(
        w.approvals
            .approve(&id, &agent("l-1"), "support_lead", at(10)),
        Err(GrantError::ApproverStepUpNeeded),
        "never stepped up"
    );
    step_up(&w, "l-1", at(10));
    assert_eq!(
        w.approvals
            .approve(&id, &agent("l-1"), "support_lead", at(10 + 301)),
        Err(GrantError::ApproverStepUpNeeded),
        "stale step-up"
    );
    assert_eq!(w.approvals.grant(&id).unwrap().status, GrantStatus::Pending);
    for role in ["supervisor", "security", "admin", " LEAD "] {
        let other = w
            .approvals
            .request(&reveal_request(1), T0)
            .unwrap()
            .grant
            .id;
        w.approvals
            .approve(&other, &agent("l-1"), role, at(20))
            .unwrap_or_else(|e| panic!("{role}: {e}"));
    }
    w.approvals
        .approve(&id, &agent("l-1"), "support_lead", at(20))
        .unwrap();
}

pub fn decided_grants_cannot_be_decided_again(backend: &dyn Backend) {
    let w = world(backend);
    let id = approved(&w, 3);
    let wrong = |result: Result<_, GrantError>| {
        assert!(
            matches!(result, Err(GrantError::WrongStatus { .. })),
            "{result:?}"
        );
    };
    wrong(
        w.approvals
            .approve(&id, &agent("l-1"), "support_lead", at(20)),
    );
    wrong(
        w.approvals
            .reject(&id, &agent("l-1"), "support_lead", "late", at(20)),
    );
    let other = w
        .approvals
        .request(&reveal_request(3), T0)
        .unwrap()
        .grant
        .id;
    let rejected = w
        .approvals
        .reject(&other, &agent("l-1"), "support_lead", "not_needed", at(20))
        .unwrap();
    assert_eq!(rejected.grant.status, GrantStatus::Rejected);
    assert_eq!(rejected.grant.reason.as_deref(), Some("not_needed"));
    assert_eq!(rejected.audit.code.as_deref(), Some("not_needed"));
    wrong(
        w.approvals
            .approve(&other, &agent("l-1"), "support_lead", at(21)),
    );
    wrong(w.approvals.revoke(&other, &agent("l-1"), "x", at(21)));
    let unknown = GrantId::generate().unwrap();
    assert!(matches!(
        w.approvals
            .approve(&unknown, &agent("l-1"), "support_lead", at(21)),
        Err(GrantError::NotFound { .. })
    ));
}

pub fn budget_is_spent_all_or_nothing(backend: &dyn Backend) {
    let w = world(backend);
    let id = approved(&w, 3);
    assert_eq!(w.approvals.spend(&id, 2, at(20)), Ok(1));
    assert_eq!(
        w.approvals.spend(&id, 2, at(21)),
        Err(GrantError::BudgetExhausted {
            grant: id.to_string(),
            remaining: 1,
            asked: 2
        })
    );
    assert_eq!(w.approvals.spend(&id, 1, at(22)), Ok(0));
    assert!(matches!(
        w.approvals.spend(&id, 1, at(23)),
        Err(GrantError::BudgetExhausted { remaining: 0, .. })
    ));
    assert!(
        w.stores
            .grants
            .active_grants(
                &agent("a-0042"),
                &customer(CUSTOMER),
                &ticket("t-kyc"),
                at(24)
            )
            .unwrap()
            .is_empty(),
        "an exhausted grant is not active"
    );
    let pending = w
        .approvals
        .request(&reveal_request(3), T0)
        .unwrap()
        .grant
        .id;
    assert!(matches!(
        w.approvals.spend(&pending, 1, at(25)),
        Err(GrantError::WrongStatus { .. })
    ));
}

pub fn expired_grants_are_neither_active_nor_spendable(backend: &dyn Backend) {
    let w = world(backend);
    let id = approved(&w, 3);
    let expiry = at(610);
    let active = |when| {
        w.stores
            .grants
            .active_grants(
                &agent("a-0042"),
                &customer(CUSTOMER),
                &ticket("t-kyc"),
                when,
            )
            .unwrap()
            .len()
    };
    assert_eq!(active(at(609)), 1);
    assert_eq!(active(expiry), 0);
    assert_eq!(
        w.approvals.spend(&id, 1, expiry),
        Err(GrantError::Expired {
            grant: id.to_string()
        })
    );
    // Another agent, customer or ticket never sees it.
    for (a, c, t) in [
        ("a-0043", CUSTOMER, "t-kyc"),
        ("a-0042", "cust-78", "t-kyc"),
        ("a-0042", CUSTOMER, "t-2"),
    ] {
        assert!(
            w.stores
                .grants
                .active_grants(&agent(a), &customer(c), &ticket(t), at(20))
                .unwrap()
                .is_empty()
        );
    }
}

pub fn revoked_grants_stop_at_once(backend: &dyn Backend) {
    let w = world(backend);
    let id = approved(&w, 3);
    let revoked = w
        .approvals
        .revoke(&id, &agent("a-0042"), "withdrawn", at(20))
        .unwrap();
    assert_eq!(revoked.grant.status, GrantStatus::Revoked);
    assert_eq!(revoked.grant.revoked_at, Some(at(20)));
    assert!(matches!(
        w.approvals.spend(&id, 1, at(21)),
        Err(GrantError::WrongStatus { .. })
    ));
    // Ticket closed: its pending and approved grants go, others stay.
    let on_ticket = approved(&w, 2);
    let pending = w
        .approvals
        .request(&reveal_request(1), T0)
        .unwrap()
        .grant
        .id;
    let mut elsewhere = reveal_request(1);
    elsewhere.ticket = ticket("t-other");
    let elsewhere = w.approvals.request(&elsewhere, T0).unwrap().grant.id;
    let changes = w
        .approvals
        .revoke_for_ticket(&ticket("t-kyc"), &agent("system"), "ticket_closed", at(30))
        .unwrap();
    let mut ids: Vec<_> = changes.iter().map(|c| c.grant.id.clone()).collect();
    ids.sort();
    let mut expect = vec![on_ticket, pending];
    expect.sort();
    assert_eq!(ids, expect);
    assert!(changes.iter().all(|c| c.audit.kind == "grant_revoked"));
    assert_eq!(
        w.approvals.grant(&elsewhere).unwrap().status,
        GrantStatus::Pending
    );
}

pub fn invalid_requests_are_refused_without_writing(backend: &dyn Backend) {
    let w = world(backend);
    let policy = GrantPolicy::default();
    type Change<'a> = Box<dyn Fn(&mut RevealRequest) + 'a>;
    let cases: Vec<(&str, Change)> = vec![
        ("no field", Box::new(|r| r.fields.clear())),
        ("blank purpose", Box::new(|r| r.purpose = "  ".into())),
        (
            "control in purpose",
            Box::new(|r| r.purpose = "a\u{7}b".into()),
        ),
        ("long purpose", Box::new(|r| r.purpose = "x".repeat(501))),
        ("zero ttl", Box::new(|r| r.ttl_secs = Some(0))),
        ("long ttl", Box::new(|r| r.ttl_secs = Some(3601))),
        ("zero budget", Box::new(|r| r.reveal_budget = Some(0))),
        (
            "big budget",
            Box::new(|r| r.reveal_budget = Some(policy.max_budget + 1)),
        ),
    ];
    for (name, change) in cases {
        let mut req = reveal_request(3);
        change(&mut req);
        assert!(
            matches!(w.approvals.request(&req, T0), Err(GrantError::Invalid(_))),
            "{name}"
        );
    }
    assert!(w.approvals.pending_grants(100).unwrap().is_empty());
    let id = w
        .approvals
        .request(&reveal_request(3), T0)
        .unwrap()
        .grant
        .id;
    for reason in ["", "Has Caps", "jane@example.com"] {
        assert!(matches!(
            w.approvals.revoke(&id, &agent("l-1"), reason, at(1)),
            Err(GrantError::Invalid(_))
        ));
    }
    assert_eq!(w.approvals.grant(&id).unwrap().status, GrantStatus::Pending);
}

pub fn totp_step_up_accepts_each_time_step_once(backend: &dyn Backend) {
    let w = world(backend);
    let a = agent("a-0042");
    let enrolment = w.step_ups.enrol(&a, T0).unwrap();
    assert!(
        enrolment
            .uri
            .expose()
            .starts_with("otpauth://totp/custos:a-0042?secret=")
    );
    assert!(!format!("{enrolment:?}").contains("secret="));
    assert_eq!(enrolment.audit.kind, "step_up_enrolled");
    assert!(matches!(
        w.step_ups.enrol(&a, T0),
        Err(StepUpError::AlreadyEnrolled { .. })
    ));
    let secret = secret_of(&enrolment);
    assert_eq!(w.step_ups.step_up_at(&a).unwrap(), None);
    let now = at(60);
    let verified = w.step_ups.verify(&a, &code(&secret, now), now).unwrap();
    assert_eq!(verified.step_up_at, now);
    assert_eq!(w.step_ups.step_up_at(&a).unwrap(), Some(now));
    // The same code again, even a second later: a replay.
    assert_eq!(
        w.step_ups.verify(&a, &code(&secret, now), at(61)),
        Err(StepUpError::Replayed)
    );
    // The previous step's code is still inside the window but older: refused.
    assert_eq!(
        w.step_ups.verify(&a, &code(&secret, at(30)), at(62)),
        Err(StepUpError::Replayed)
    );
    // The next step is new.
    w.step_ups
        .verify(&a, &code(&secret, at(90)), at(90))
        .unwrap();
    assert_eq!(w.step_ups.step_up_at(&a).unwrap(), Some(at(90)));
    // Not enrolled, and the wrong sealing key.
    assert!(matches!(
        w.step_ups.verify(&agent("nobody"), "123456", now),
        Err(StepUpError::NotEnrolled { .. })
    ));
    let wrong_key = StepUps::new(
        w.stores.step_ups.clone(),
        custos_access::SealingKey::from_bytes([8; 32]),
        StepUpPolicy::default(),
    );
    assert_eq!(
        wrong_key.verify(&a, &code(&secret, at(120)), at(120)),
        Err(StepUpError::Sealing)
    );
    // Unenrol, enrol again: a new secret.
    w.step_ups.unenrol(&a, &agent("admin-1"), at(130)).unwrap();
    let again = w.step_ups.enrol(&a, at(131)).unwrap();
    assert_ne!(secret_of(&again).expose(), secret.expose());
}

pub fn a_step_up_verified_by_another_factor_counts_for_approval(backend: &dyn Backend) {
    let w = world(backend);
    let lead = agent("l-1");
    let id = w
        .approvals
        .request(&reveal_request(1), T0)
        .unwrap()
        .grant
        .id;
    // Not enrolled: nothing recorded, the approval still needs a step-up.
    assert!(matches!(
        w.step_ups
            .record_verified(&lead, StepUpFactor::WebAuthn, at(5)),
        Err(StepUpError::NotEnrolled { .. })
    ));
    assert_eq!(
        w.approvals.approve(&id, &lead, "support_lead", at(6)),
        Err(GrantError::ApproverStepUpNeeded)
    );
    let secret = secret_of(&w.step_ups.enrol(&lead, T0).unwrap());
    let verified = w
        .step_ups
        .record_verified(&lead, StepUpFactor::WebAuthn, at(7))
        .unwrap();
    assert_eq!(verified.step_up_at, at(7));
    assert_eq!(verified.audit.kind, "step_up_verified");
    assert_eq!(verified.audit.detail["method"], "webauthn");
    assert_eq!(w.step_ups.step_up_at(&lead).unwrap(), Some(at(7)));
    let approved = w
        .approvals
        .approve(&id, &lead, "support_lead", at(8))
        .unwrap();
    assert_eq!(approved.grant.decided_by, Some(lead.clone()));
    // The TOTP replay counter is untouched: the current code still works once.
    w.step_ups
        .verify(&lead, &code(&secret, at(60)), at(60))
        .unwrap();
    // A lock after failed codes refuses the other factor too.
    for second in 61..66 {
        let _ = w.step_ups.verify(&lead, "000000", at(second));
    }
    assert!(matches!(
        w.step_ups
            .record_verified(&lead, StepUpFactor::WebAuthn, at(70)),
        Err(StepUpError::Locked { .. })
    ));
    assert_eq!(w.step_ups.step_up_at(&lead).unwrap(), Some(at(60)));
}

pub fn repeated_failures_lock_step_up(backend: &dyn Backend) {
    let w = world(backend);
    let a = agent("a-0042");
    let secret = secret_of(&w.step_ups.enrol(&a, T0).unwrap());
    let right = |when| code(&secret, when);
    let wrong = |when| {
        format!(
            "{:06}",
            (right(when).parse::<u32>().unwrap() + 1) % 1_000_000
        )
    };
    for (attempt, left) in [(1, 4), (2, 3), (3, 2), (4, 1)] {
        let when = at(attempt);
        let text = if attempt == 2 {
            "12x456".to_owned()
        } else {
            wrong(when)
        };
        assert_eq!(
            w.step_ups.verify(&a, &text, when),
            Err(StepUpError::InvalidCode {
                failures_left: left
            }),
            "attempt {attempt}"
        );
    }
    let until = at(5 + 300);
    assert_eq!(
        w.step_ups.verify(&a, &wrong(at(5)), at(5)),
        Err(StepUpError::Locked { until })
    );
    assert_eq!(
        w.step_ups.verify(&a, &right(at(6)), at(6)),
        Err(StepUpError::Locked { until }),
        "the right code is refused during the lock"
    );
    assert_eq!(w.step_ups.step_up_at(&a).unwrap(), None);
    let after = at(5 + 300);
    w.step_ups.verify(&a, &right(after), after).unwrap();
    // A success resets the count.
    assert_eq!(
        w.step_ups.verify(&a, &wrong(at(400)), at(400)),
        Err(StepUpError::InvalidCode { failures_left: 4 })
    );
}

pub fn data_survives_reopen(backend: &dyn Backend) {
    let w = world(backend);
    let id = approved(&w, 3);
    w.approvals.spend(&id, 1, at(20)).unwrap();
    drop(w);
    let stores = backend.open();
    let grant = stores.grants.grant(&id).unwrap().unwrap();
    assert_eq!(grant.status, GrantStatus::Approved);
    assert_eq!(grant.reveals_remaining, 2);
    assert_eq!(
        stores.step_ups.step_up_at(&agent("l-1")).unwrap(),
        Some(at(5))
    );
}

pub fn concurrent_spends_never_overdraw(backend: &dyn Backend) {
    let w = world(backend);
    let id = approved(&w, 5);
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            // A handle of its own per thread: real connection-level races.
            let stores = backend.open();
            let barrier = barrier.clone();
            let id = id.clone();
            thread::spawn(move || {
                barrier.wait();
                (0..3)
                    .filter(|_| stores.grants.spend(&id, 1, at(20)).unwrap().is_some())
                    .count()
            })
        })
        .collect();
    let spent: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(spent, 5);
    assert_eq!(w.approvals.grant(&id).unwrap().reveals_remaining, 0);
}

pub fn concurrent_verifies_of_one_code_accept_it_once(backend: &dyn Backend) {
    let w = world(backend);
    let a = agent("a-0042");
    let secret = secret_of(&w.step_ups.enrol(&a, T0).unwrap());
    let now = at(60);
    let text = code(&secret, now);
    let threads = 6;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let step_ups = StepUps::new(
                backend.open().step_ups,
                sealing_key(),
                StepUpPolicy::default(),
            );
            let barrier = barrier.clone();
            let a = a.clone();
            let text = text.clone();
            thread::spawn(move || {
                barrier.wait();
                step_ups.verify(&a, &text, now)
            })
        })
        .collect();
    let results: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, StepUpError::Replayed | StepUpError::Locked { .. }))
    );
}
