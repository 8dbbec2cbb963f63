//! The property of issue 4: **no sequence of requests yields a revealed
//! sensitive field without an approval from a different eligible person.**
//!
//! proptest generates sequences of operations over a small world (two
//! agents and a lead who work tickets, a non-lead, a security officer,
//! two customers, four tickets): grant requests by anyone for any fields,
//! ticket and purpose; approvals, rejections and revocations by anyone
//! (the requester included, in other spellings of their id, non-leads
//! included); TOTP step-ups with codes from `custos_access::totp` at
//! various times (valid, early, late, wrong, replayed); time passing grant
//! expiry and step-up freshness; countermeasures imposed and released;
//! tickets reassigned (with `revoke_for_ticket`); and access requests
//! (view or reveal, any fields, any purpose).
//!
//! A model of the rules runs beside the real service (SQLite store, a real
//! vault, the shipped policies). The model is the oracle:
//!
//! - every grant decision the crate accepts must be one the rules allow
//!   (and the other way round): approval only of a pending grant, by a
//!   different person (compared by `agent_key`), whose directory role
//!   approves, who is not in the requester's lead chain (lead, lead's lead,
//!   ... through a cycle), under no countermeasure, with a step-up in the
//!   last five minutes; and the listing of eligible approvers names exactly
//!   the people the same rules allow;
//! - every step-up the crate accepts matches a code of a time step within
//!   the window and later than the last one accepted;
//! - after every access, every revealed sensitive field (and every revealed
//!   field of an agent under `require_approval`) was covered by the grant
//!   the outcome names: approved (not revoked, not rejected), unexpired,
//!   for exactly that requester, ticket, customer, field and purpose,
//!   approved that way; the requester had a fresh step-up; the ticket is
//!   open, assigned to the agent and about the customer; a suspended agent
//!   sees nothing; and the reveals served from a grant never exceed its
//!   budget (`reveals_left` counts down exactly);
//! - no masked or hidden sensitive field carries its plaintext.
//!
//! Cases: `PROPTEST_CASES` (default 128), sequences of 8 to 40 operations.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use custos_access::totp::{TotpSecret, matching_step, time_step, totp};
use custos_access::{
    AccessOutcome, AccessService, Approvals, ApproverCandidate, BrokerHandle, FactsError,
    FactsSource, GrantId, GrantPolicy, GrantStore, RevealRequest, SqliteAccessStore, StepUpPolicy,
    StepUpStore, StepUps, agent_key,
};
use custos_broker::{
    AccessRequest, AgentFacts, Broker, GrantStatus, Outcome, STEP_UP_MAX_AGE, TicketFacts,
};
use custos_core::alert::ResponseAction;
use custos_core::event::{AccessAction, FieldClass, OpenedBy, TicketStatus};
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::{EventTime, Span};
use custos_vault::{FieldClass as VaultField, KekId, KeyRing, SecretKey, Vault};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::{T0, agent, customer, sealing_key, secret_of, ticket};

// ------------------------------------------------------------------ world

/// People and their directory roles. `l-1` (lead) and `s-1` (security)
/// may approve; `n-1` is a non-lead; `a-1`, `a-2` and `l-1` work tickets.
const PEOPLE: &[(&str, &str)] = &[
    ("a-1", "support_l1"),
    ("a-2", "support_l1"),
    ("l-1", "support_lead"),
    ("n-1", "support_l2"),
    ("s-1", "security"),
];
const LEAD: usize = 2;

/// Reporting lines (exact ids, as the directory keys them): `a-1` reports
/// to `l-1`; `a-2` to `n-1`, who reports to `s-1`, who reports to `n-1` (a
/// cycle). So `l-1` may not approve for `a-1`, and `s-1` not for `a-2`.
const LEADS: &[(&str, &str)] = &[
    ("a-1", "l-1"),
    ("a-2", "n-1"),
    ("n-1", "s-1"),
    ("s-1", "n-1"),
];

fn lead_of(id: &str) -> Option<&'static str> {
    LEADS
        .iter()
        .find(|(who, _)| *who == id)
        .map(|(_, lead)| *lead)
}

/// The model's lead chain of `requester`: exact-id lookups, stopped at a
/// cycle (by `agent_key`).
fn in_lead_chain(requester: &AgentId, approver: &AgentId) -> bool {
    let mut seen = vec![agent_key(requester.as_str())];
    let mut current = requester.as_str().to_owned();
    while let Some(lead) = lead_of(&current) {
        let key = agent_key(lead);
        if seen.contains(&key) {
            break;
        }
        if key == agent_key(approver.as_str()) {
            return true;
        }
        seen.push(key);
        current = lead.to_owned();
    }
    false
}

const CUSTOMERS: &[&str] = &["c-1", "c-2"];

/// (ticket, category, first assignee, customer).
const TICKETS: &[(&str, &str, usize, usize)] = &[
    ("t-1", "kyc_verification", 0, 0),
    ("t-2", "card_payment", 1, 1),
    ("t-3", "kyc_verification", LEAD, 1),
    ("t-4", "card_payment", 0, 0),
];

const FIELDS: &[FieldClass] = &[
    FieldClass::Name,
    FieldClass::Email,
    FieldClass::Dob,
    FieldClass::Balance,
    FieldClass::NationalId,
    FieldClass::IdDocument,
    FieldClass::BankAccount,
];

fn sensitive(field: FieldClass) -> bool {
    matches!(
        field,
        FieldClass::NationalId | FieldClass::IdDocument | FieldClass::BankAccount
    )
}

/// The first two are one purpose once trimmed.
const PURPOSES: &[&str] = &[
    "verify identity for kyc review",
    "  verify identity for kyc review ",
    "refund check",
    "curiosity",
];

/// Each customer's PII: distinct per customer, so a value shown can be
/// traced to whom it belongs.
fn pii(customer: usize) -> Vec<(VaultField, String)> {
    let n = customer + 1;
    vec![
        (VaultField::Name, format!("Customer Number{n} Doe")),
        (VaultField::Email, format!("customer{n}@example.com")),
        (VaultField::Phone, format!("+1 415 555 010{n}")),
        (VaultField::Address, format!("{n} Main Street, Springfield")),
        (VaultField::Dob, format!("1980-04-0{n}")),
        (VaultField::IdDocument, format!("passport-X123456{n}")),
        (VaultField::NationalId, format!("123-45-678{n}")),
        (VaultField::BankAccount, format!("DE8937040044053201300{n}")),
    ]
}

fn plaintext(customer: &CustomerId, field: FieldClass) -> Option<String> {
    let index = CUSTOMERS.iter().position(|c| *c == customer.as_str())?;
    pii(index)
        .into_iter()
        .find(|(class, _)| class.as_str() == field.as_str())
        .map(|(_, value)| value)
}

/// Indexes in [`FIELDS`] of the sensitive fields ticket `t`'s category needs.
fn sensitive_fields_of(t: usize) -> Vec<usize> {
    let kyc = TICKETS[t].1 == "kyc_verification";
    (0..FIELDS.len())
        .filter(|&f| sensitive(FIELDS[f]) && kyc != (FIELDS[f] == FieldClass::BankAccount))
        .collect()
}

/// Spellings of one id: all the same person by `agent_key`.
fn spell(id: &str, spelling: usize) -> String {
    match spelling {
        1 => id.to_uppercase(),
        2 => format!(" {id} "),
        3 => {
            let mut chars = id.chars();
            let first = chars.next().unwrap_or('x');
            format!("{first}\u{200B}{}", chars.as_str())
        }
        4 => id
            .chars()
            .map(|c| match u32::from(c) {
                code @ 0x21..=0x7E => char::from_u32(code - 0x21 + 0xFF01).unwrap_or(c),
                _ => c,
            })
            .collect(),
        _ => id.to_owned(),
    }
}

/// The directory as a lenient caller might read it for a decider's role:
/// by canonical key, so every spelling of a lead has the lead's role. (The
/// strongest adversary for the self-approval check; an id with no record
/// has no role.)
fn role_of(id: &AgentId) -> &'static str {
    let key = agent_key(id.as_str());
    PEOPLE
        .iter()
        .find(|(person, _)| *person == key)
        .map_or("", |(_, role)| role)
}

fn eligible(id: &AgentId) -> bool {
    let role = role_of(id);
    GrantPolicy::default()
        .approver_roles
        .iter()
        .any(|r| r.eq_ignore_ascii_case(role))
}

/// The person an exact id names in the access directory (exact ids only,
/// as the directory keys them).
fn person_exactly(id: &AgentId) -> Option<usize> {
    PEOPLE.iter().position(|(p, _)| *p == id.as_str())
}

fn fresh(step_up_at: Option<EventTime>, now: EventTime) -> bool {
    step_up_at.is_some_and(|at| at <= now && now.since(at) <= STEP_UP_MAX_AGE)
}

/// The directory and countermeasures the service reads.
struct World {
    assignees: Mutex<Vec<usize>>,
    countermeasures: Mutex<HashMap<AgentId, Vec<ResponseAction>>>,
}

impl World {
    fn new() -> World {
        World {
            assignees: Mutex::new(TICKETS.iter().map(|t| t.2).collect()),
            countermeasures: Mutex::new(HashMap::new()),
        }
    }
}

impl FactsSource for World {
    fn agent(&self, id: &AgentId) -> Result<Option<AgentFacts>, FactsError> {
        Ok(person_exactly(id).map(|p| AgentFacts {
            role: PEOPLE[p].1.to_owned(),
            team: "tier1-chat".to_owned(),
        }))
    }
    fn ticket(&self, id: &TicketId) -> Result<Option<TicketFacts>, FactsError> {
        let assignees = self.assignees.lock().unwrap();
        Ok(TICKETS
            .iter()
            .enumerate()
            .find(|(_, t)| t.0 == id.as_str())
            .map(|(index, t)| TicketFacts {
                id: ticket(t.0),
                status: TicketStatus::Assigned,
                category: t.1.to_owned(),
                assigned_agent: Some(agent(PEOPLE[assignees[index]].0)),
                opened_by: Some(OpenedBy::Customer),
                customer: customer(CUSTOMERS[t.3]),
            }))
    }
    fn live_contact(
        &self,
        _agent: &AgentId,
        _customer: &CustomerId,
        _now: EventTime,
    ) -> Result<bool, FactsError> {
        Ok(false)
    }
    fn countermeasures(&self, id: &AgentId) -> Result<Vec<ResponseAction>, FactsError> {
        Ok(self
            .countermeasures
            .lock()
            .unwrap()
            .get(id)
            .cloned()
            .unwrap_or_default())
    }
    fn lead_of(&self, id: &AgentId) -> Result<Option<AgentId>, FactsError> {
        Ok(lead_of(id.as_str()).map(agent))
    }
}

// ------------------------------------------------------------ operations

/// One person in one spelling of their id.
#[derive(Clone, Copy, Debug)]
struct Who {
    person: usize,
    spelling: usize,
}

impl Who {
    fn id(self) -> AgentId {
        agent(&spell(PEOPLE[self.person].0, self.spelling))
    }
}

#[derive(Clone, Debug)]
enum Op {
    /// `by`: `None` is the ticket's assignee; `customer`: `None` is the
    /// ticket's customer.
    Request {
        by: Option<Who>,
        ticket: usize,
        customer: Option<usize>,
        fields: Vec<usize>,
        purpose: usize,
        ttl_secs: Option<u32>,
        budget: Option<u32>,
    },
    /// `grant`: `None` is the latest; `by`: `None` is the lead.
    Approve {
        grant: Option<Index>,
        by: Option<Who>,
    },
    /// The honest path, as atomic operations: the ticket's assignee asks
    /// for the sensitive fields its category needs, the approver (the lead,
    /// or security) steps up and approves, the assignee steps up. Keeps the
    /// sequences reaching reveals; everything else interleaves.
    Escort {
        ticket: usize,
        security: bool,
    },
    Reject {
        grant: Index,
        by: Who,
    },
    Revoke {
        grant: Index,
        by: Who,
    },
    /// A code from `skew` periods away (0: now), or a wrong one.
    StepUp {
        who: Who,
        skew: i64,
        wrong: bool,
    },
    Advance {
        secs: i64,
    },
    Impose {
        person: usize,
        suspend: bool,
    },
    Release {
        person: usize,
    },
    /// Reassigns the ticket; the caller revokes its grants.
    Reassign {
        ticket: usize,
        to: usize,
    },
    /// `who`: `None` is the ticket's assignee; `customer`: `None` is the
    /// ticket's customer.
    Access {
        who: Option<Who>,
        ticket: Option<usize>,
        customer: Option<usize>,
        /// `None`: the sensitive fields the ticket's category needs.
        fields: Option<Vec<usize>>,
        purpose: usize,
        reveal: bool,
    },
}

fn who() -> impl Strategy<Value = Who> {
    (
        0..PEOPLE.len(),
        prop_oneof![6 => Just(0_usize), 4 => 1..5_usize],
    )
        .prop_map(|(person, spelling)| Who { person, spelling })
}

/// One to three fields, the sensitive ones three times as likely.
fn fields() -> impl Strategy<Value = Vec<usize>> {
    let field = prop_oneof![4 => 0..4_usize, 9 => 4..FIELDS.len()];
    prop::collection::vec(field, 1..=3)
}

fn purpose() -> impl Strategy<Value = usize> {
    prop_oneof![4 => Just(0_usize), 2 => Just(1_usize), 1 => Just(2_usize), 1 => Just(3_usize)]
}

fn op() -> impl Strategy<Value = Op> {
    let request = (
        prop::option::weighted(0.3, who()),
        0..TICKETS.len(),
        prop::option::weighted(0.2, 0..CUSTOMERS.len()),
        fields(),
        purpose(),
        prop_oneof![
            Just(None),
            Just(Some(60_u32)),
            Just(Some(600)),
            Just(Some(3600))
        ],
        prop_oneof![Just(None), Just(Some(1_u32)), Just(Some(2))],
    )
        .prop_map(
            |(by, ticket, customer, fields, purpose, ttl_secs, budget)| Op::Request {
                by,
                ticket,
                customer,
                fields,
                purpose,
                ttl_secs,
                budget,
            },
        );
    let approve = (
        prop::option::weighted(0.7, any::<Index>()),
        prop::option::weighted(0.5, who()),
    )
        .prop_map(|(grant, by)| Op::Approve { grant, by });
    let reject = (any::<Index>(), who()).prop_map(|(grant, by)| Op::Reject { grant, by });
    let revoke = (any::<Index>(), who()).prop_map(|(grant, by)| Op::Revoke { grant, by });
    let step_up = (
        prop_oneof![
            2 => Just(Who { person: LEAD, spelling: 0 }),
            5 => who(),
        ],
        prop_oneof![6 => Just(0_i64), 3 => -3..=2_i64],
        prop::bool::weighted(0.1),
    )
        .prop_map(|(who, skew, wrong)| Op::StepUp { who, skew, wrong });
    let advance = prop_oneof![
        Just(1_i64),
        Just(15),
        Just(31),
        Just(90),
        Just(299),
        Just(301),
        Just(700),
        Just(3601),
    ]
    .prop_map(|secs| Op::Advance { secs });
    let impose = (0..PEOPLE.len(), any::<bool>())
        .prop_map(|(person, suspend)| Op::Impose { person, suspend });
    let release = (0..PEOPLE.len()).prop_map(|person| Op::Release { person });
    let reassign =
        (0..TICKETS.len(), 0..PEOPLE.len()).prop_map(|(ticket, to)| Op::Reassign { ticket, to });
    let access = (
        prop::option::weighted(0.3, who()),
        prop::option::weighted(0.9, 0..TICKETS.len()),
        prop::option::weighted(0.2, 0..CUSTOMERS.len()),
        prop::option::weighted(0.6, fields()),
        purpose(),
        prop::bool::weighted(0.8),
    )
        .prop_map(
            |(who, ticket, customer, fields, purpose, reveal)| Op::Access {
                who,
                ticket,
                customer,
                fields,
                purpose,
                reveal,
            },
        );
    let escort = (0..TICKETS.len(), prop::bool::weighted(0.3))
        .prop_map(|(ticket, security)| Op::Escort { ticket, security });
    prop_oneof![
        3 => escort,
        3 => request,
        3 => approve,
        1 => reject,
        1 => revoke,
        5 => step_up,
        2 => advance,
        1 => impose,
        1 => release,
        1 => reassign,
        8 => access,
    ]
}

// ------------------------------------------------------------------ model

#[derive(Clone, Debug)]
struct ModelGrant {
    id: GrantId,
    requester: AgentId,
    customer: CustomerId,
    ticket: TicketId,
    fields: Vec<FieldClass>,
    purpose: String,
    ttl: Span,
    budget: u32,
    status: GrantStatus,
    approver: Option<AgentId>,
    /// Whether the approver had a fresh step-up when approving (the model's
    /// own record of the step-ups the crate accepted).
    approver_stepped_up: bool,
    expires_at: Option<EventTime>,
    /// Reveals served from this grant so far.
    spent: u32,
}

struct Model {
    now: EventTime,
    grants: Vec<ModelGrant>,
    /// By exact id: when the crate last accepted a step-up, and its step.
    step_up_at: HashMap<String, EventTime>,
    last_step: HashMap<String, i64>,
    assignees: Vec<usize>,
    countermeasures: HashMap<usize, Vec<ResponseAction>>,
}

/// What a run saw, to show the sequences reach the interesting states.
#[derive(Default)]
struct Stats {
    cases: AtomicU64,
    accesses: AtomicU64,
    approvals: AtomicU64,
    self_approvals_refused: AtomicU64,
    lead_chain_refused: AtomicU64,
    sensitive_reveals: AtomicU64,
    refused_reveals: AtomicU64,
}

/// The crate under test, fresh per case; the vault and broker are shared.
struct System {
    service: AccessService,
    approvals: Approvals,
    step_ups: StepUps,
    world: Arc<World>,
    secrets: HashMap<String, TotpSecret>,
    _dir: tempfile::TempDir,
}

impl System {
    fn new(vault: &Arc<Vault>, broker: &Arc<BrokerHandle>) -> System {
        // In memory where there is a tmpfs: every grant change is a durable
        // commit (`synchronous=FULL`), and thousands of fsyncs would be the
        // whole cost of the test.
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm).unwrap_or_else(|_| tempfile::tempdir().unwrap())
        } else {
            tempfile::tempdir().unwrap()
        };
        let store = Arc::new(SqliteAccessStore::open(dir.path()).unwrap());
        let grants: Arc<dyn GrantStore> = store.clone();
        let step_ups: Arc<dyn StepUpStore> = store;
        let world = Arc::new(World::new());
        let service = AccessService::new(
            broker.clone(),
            vault.clone(),
            world.clone(),
            grants.clone(),
            step_ups.clone(),
        )
        .unwrap();
        System {
            service,
            approvals: Approvals::new(
                grants,
                step_ups.clone(),
                vault.clone(),
                world.clone(),
                GrantPolicy::default(),
            ),
            step_ups: StepUps::new(step_ups, sealing_key(), StepUpPolicy::default()),
            world,
            secrets: HashMap::new(),
            _dir: dir,
        }
    }
}

fn shared_vault() -> (tempfile::TempDir, Arc<Vault>) {
    let dir = tempfile::tempdir().unwrap();
    let keys = KeyRing::new(
        KekId::parse("test-kek").unwrap(),
        SecretKey::from_bytes([1; 32]),
        SecretKey::from_bytes([2; 32]),
    );
    let vault = Vault::open(dir.path(), keys).unwrap();
    for (index, id) in CUSTOMERS.iter().enumerate() {
        let values = pii(index);
        let values: Vec<(VaultField, &str)> =
            values.iter().map(|(f, v)| (*f, v.as_str())).collect();
        vault.put_customer(&customer(id), &values).unwrap();
    }
    (dir, Arc::new(vault))
}

fn run(
    ops: &[Op],
    vault: &Arc<Vault>,
    broker: &Arc<BrokerHandle>,
    stats: &Stats,
) -> Result<(), TestCaseError> {
    let mut sys = System::new(vault, broker);
    let mut model = Model {
        now: T0,
        grants: Vec::new(),
        step_up_at: HashMap::new(),
        last_step: HashMap::new(),
        assignees: TICKETS.iter().map(|t| t.2).collect(),
        countermeasures: HashMap::new(),
    };
    stats.cases.fetch_add(1, Ordering::Relaxed);
    for (step, op) in ops.iter().enumerate() {
        apply(&mut sys, &mut model, op, stats)
            .map_err(|e| TestCaseError::fail(format!("operation {step} ({op:?}): {e}")))?;
    }
    Ok(())
}

fn apply(sys: &mut System, model: &mut Model, op: &Op, stats: &Stats) -> Result<(), TestCaseError> {
    let now = model.now;
    match op {
        Op::Request {
            by,
            ticket: t,
            customer: c,
            fields,
            purpose,
            ttl_secs,
            budget,
        } => {
            let requester = by.map_or_else(|| agent(PEOPLE[model.assignees[*t]].0), Who::id);
            let req = RevealRequest {
                requester: requester.clone(),
                customer: customer(CUSTOMERS[c.unwrap_or(TICKETS[*t].3)]),
                ticket: ticket(TICKETS[*t].0),
                fields: fields.iter().map(|&f| FIELDS[f]).collect(),
                purpose: PURPOSES[*purpose].to_owned(),
                ttl_secs: *ttl_secs,
                reveal_budget: *budget,
            };
            let change = sys
                .approvals
                .request(&req, now)
                .map_err(|e| TestCaseError::fail(format!("a valid request was refused: {e}")))?;
            let grant = change.grant;
            prop_assert_eq!(grant.status, GrantStatus::Pending);
            let mut wanted = req.fields.clone();
            wanted.sort();
            wanted.dedup();
            prop_assert_eq!(&grant.fields, &wanted);
            model.grants.push(ModelGrant {
                id: grant.id,
                requester,
                customer: req.customer,
                ticket: req.ticket,
                fields: wanted,
                purpose: req.purpose.trim().to_owned(),
                ttl: Span::from_secs(i64::from(ttl_secs.unwrap_or(15 * 60))),
                budget: budget.unwrap_or(3),
                status: GrantStatus::Pending,
                approver: None,
                approver_stepped_up: false,
                expires_at: None,
                spent: 0,
            });
        }
        Op::Approve { grant, by } => {
            if model.grants.is_empty() {
                return Ok(());
            }
            let len = model.grants.len();
            let g = &mut model.grants[grant.map_or(len - 1, |i| i.index(len))];
            let approver = by.map_or_else(|| agent(PEOPLE[LEAD].0), Who::id);
            let same_person = agent_key(approver.as_str()) == agent_key(g.requester.as_str());
            let stepped_up = fresh(model.step_up_at.get(approver.as_str()).copied(), now);
            let in_chain = in_lead_chain(&g.requester, &approver);
            // Countermeasures are looked up by exact id, as the directory.
            let countered = |id: &AgentId| {
                person_exactly(id)
                    .is_some_and(|p| model.countermeasures.get(&p).is_some_and(|c| !c.is_empty()))
            };
            let under_countermeasure = countered(&approver);
            let pending = g.status == GrantStatus::Pending;
            if pending {
                // The listing names exactly whom the rules allow (stepped
                // up or not), flagging a fresh step-up.
                let candidates: Vec<ApproverCandidate> = PEOPLE
                    .iter()
                    .map(|(id, role)| ApproverCandidate {
                        agent: agent(id),
                        role: (*role).to_owned(),
                    })
                    .collect();
                let listed = sys
                    .approvals
                    .eligible_approvers(&g.id, &candidates, now)
                    .map_err(|e| TestCaseError::fail(format!("listing approvers: {e}")))?;
                let expected: Vec<(String, bool)> = candidates
                    .iter()
                    .filter(|c| {
                        agent_key(c.agent.as_str()) != agent_key(g.requester.as_str())
                            && eligible(&c.agent)
                            && !in_lead_chain(&g.requester, &c.agent)
                            && !countered(&c.agent)
                    })
                    .map(|c| {
                        (
                            c.agent.to_string(),
                            fresh(model.step_up_at.get(c.agent.as_str()).copied(), now),
                        )
                    })
                    .collect();
                let got: Vec<(String, bool)> = listed
                    .iter()
                    .map(|a| (a.agent.to_string(), a.fresh_step_up))
                    .collect();
                prop_assert_eq!(got, expected, "eligible approvers of {:?}", g.requester);
            }
            let allowed = pending
                && !same_person
                && eligible(&approver)
                && !in_chain
                && !under_countermeasure
                && stepped_up;
            let result = sys
                .approvals
                .approve(&g.id, &approver, role_of(&approver), now);
            if same_person && pending {
                prop_assert_eq!(
                    result.as_ref().err(),
                    Some(&custos_access::GrantError::SelfApproval)
                );
                stats.self_approvals_refused.fetch_add(1, Ordering::Relaxed);
            }
            if pending && !same_person && eligible(&approver) && in_chain {
                prop_assert_eq!(
                    result.as_ref().err(),
                    Some(&custos_access::GrantError::ApproverInLeadChain)
                );
                stats.lead_chain_refused.fetch_add(1, Ordering::Relaxed);
            }
            prop_assert_eq!(
                result.is_ok(),
                allowed,
                "approval of {:?} (requester {:?}) by {:?}: {:?}",
                g.status,
                g.requester,
                approver,
                result.as_ref().err()
            );
            if let Ok(change) = result {
                let expires_at = now.saturating_add(g.ttl);
                prop_assert_eq!(change.grant.status, GrantStatus::Approved);
                prop_assert_eq!(change.grant.expires_at, Some(expires_at));
                prop_assert_eq!(change.grant.reveals_remaining, g.budget);
                g.status = GrantStatus::Approved;
                g.approver = Some(approver);
                g.approver_stepped_up = stepped_up;
                g.expires_at = Some(expires_at);
                stats.approvals.fetch_add(1, Ordering::Relaxed);
            }
        }
        Op::Reject { grant, by } => {
            if model.grants.is_empty() {
                return Ok(());
            }
            let len = model.grants.len();
            let g = &mut model.grants[grant.index(len)];
            let approver = by.id();
            let allowed = g.status == GrantStatus::Pending
                && agent_key(approver.as_str()) != agent_key(g.requester.as_str())
                && eligible(&approver);
            let result =
                sys.approvals
                    .reject(&g.id, &approver, role_of(&approver), "not_needed", now);
            prop_assert_eq!(result.is_ok(), allowed, "{:?}", result.as_ref().err());
            if result.is_ok() {
                g.status = GrantStatus::Rejected;
            }
        }
        Op::Revoke { grant, by } => {
            if model.grants.is_empty() {
                return Ok(());
            }
            let len = model.grants.len();
            let g = &mut model.grants[grant.index(len)];
            let allowed = matches!(g.status, GrantStatus::Pending | GrantStatus::Approved);
            let result = sys.approvals.revoke(&g.id, &by.id(), "withdrawn", now);
            prop_assert_eq!(result.is_ok(), allowed, "{:?}", result.as_ref().err());
            if result.is_ok() {
                g.status = GrantStatus::Revoked;
            }
        }
        Op::StepUp { who, skew, wrong } => {
            let id = who.id();
            if !sys.secrets.contains_key(id.as_str()) {
                let enrolment = sys.step_ups.enrol(&id, now).unwrap();
                sys.secrets
                    .insert(id.as_str().to_owned(), secret_of(&enrolment));
            }
            let secret = &sys.secrets[id.as_str()];
            let when = EventTime::from_micros(now.as_micros() + skew * 30_000_000);
            let mut code = totp(secret, when);
            if *wrong {
                code = (code + 1) % 1_000_000;
            }
            let result = sys.step_ups.verify(&id, &format!("{code:06}"), now);
            if let Ok(verified) = result {
                // Safety of step-up: the code is one of a step within the
                // window, later than every step accepted before.
                let accepted = matching_step(secret, code, now);
                prop_assert!(
                    accepted.is_some(),
                    "accepted a code of no step in the window"
                );
                let accepted = accepted.unwrap_or_default();
                prop_assert!((accepted - time_step(now)).abs() <= 1);
                if let Some(&last) = model.last_step.get(id.as_str()) {
                    prop_assert!(accepted > last, "replayed step {} accepted", accepted);
                }
                prop_assert_eq!(verified.step_up_at, now);
                model.last_step.insert(id.as_str().to_owned(), accepted);
                model.step_up_at.insert(id.as_str().to_owned(), now);
            }
        }
        Op::Escort {
            ticket: t,
            security,
        } => {
            let fields = sensitive_fields_of(*t);
            let approver = Who {
                person: if *security { 4 } else { LEAD },
                spelling: 0,
            };
            let assignee = Who {
                person: model.assignees[*t],
                spelling: 0,
            };
            let script = [
                Op::Request {
                    by: None,
                    ticket: *t,
                    customer: None,
                    fields,
                    purpose: 0,
                    ttl_secs: None,
                    budget: None,
                },
                Op::StepUp {
                    who: approver,
                    skew: 0,
                    wrong: false,
                },
                Op::Approve {
                    grant: None,
                    by: Some(approver),
                },
                Op::StepUp {
                    who: assignee,
                    skew: 0,
                    wrong: false,
                },
            ];
            for op in &script {
                apply(sys, model, op, stats)?;
            }
        }
        Op::Advance { secs } => {
            model.now = EventTime::from_micros(now.as_micros() + secs * 1_000_000);
        }
        Op::Impose { person, suspend } => {
            let action = if *suspend {
                ResponseAction::SuspendAccess
            } else {
                ResponseAction::RequireApproval
            };
            sys.world
                .countermeasures
                .lock()
                .unwrap()
                .entry(agent(PEOPLE[*person].0))
                .or_default()
                .push(action);
            model
                .countermeasures
                .entry(*person)
                .or_default()
                .push(action);
        }
        Op::Release { person } => {
            sys.world
                .countermeasures
                .lock()
                .unwrap()
                .remove(&agent(PEOPLE[*person].0));
            model.countermeasures.remove(person);
        }
        Op::Reassign { ticket: t, to } => {
            if model.assignees[*t] == *to {
                return Ok(());
            }
            sys.world.assignees.lock().unwrap()[*t] = *to;
            model.assignees[*t] = *to;
            let id = ticket(TICKETS[*t].0);
            let changes = sys
                .approvals
                .revoke_for_ticket(&id, &agent("system"), "ticket_reassigned", now)
                .map_err(|e| TestCaseError::fail(format!("revoke_for_ticket: {e}")))?;
            let mut expected = 0;
            for g in model.grants.iter_mut().filter(|g| g.ticket == id) {
                if matches!(g.status, GrantStatus::Pending | GrantStatus::Approved) {
                    g.status = GrantStatus::Revoked;
                    expected += 1;
                }
            }
            prop_assert_eq!(changes.len(), expected);
        }
        Op::Access {
            who,
            ticket: t,
            customer: c,
            fields,
            purpose,
            reveal,
        } => {
            let agent_id = match (who, t) {
                (Some(who), _) => who.id(),
                (None, Some(t)) => agent(PEOPLE[model.assignees[*t]].0),
                (None, None) => agent(PEOPLE[0].0),
            };
            let customer_index = c.or(t.map(|t| TICKETS[t].3)).unwrap_or(0);
            let req = AccessRequest {
                agent: agent_id,
                customer: customer(CUSTOMERS[customer_index]),
                ticket: t.map(|t| ticket(TICKETS[t].0)),
                fields: fields
                    .clone()
                    .unwrap_or_else(|| sensitive_fields_of(t.unwrap_or(0)))
                    .iter()
                    .map(|&f| FIELDS[f])
                    .collect(),
                purpose: PURPOSES[*purpose].to_owned(),
                action: if *reveal {
                    AccessAction::Reveal
                } else {
                    AccessAction::View
                },
            };
            let out = sys
                .service
                .access(&req, now)
                .map_err(|e| TestCaseError::fail(format!("access failed outright: {e}")))?;
            stats.accesses.fetch_add(1, Ordering::Relaxed);
            check_access(model, &req, &out, stats)?;
        }
    }
    Ok(())
}

/// The oracle after one access.
fn check_access(
    model: &mut Model,
    req: &AccessRequest,
    out: &AccessOutcome,
    stats: &Stats,
) -> Result<(), TestCaseError> {
    let now = model.now;
    prop_assert!(out.internal_error.is_none(), "{:?}", out.internal_error);
    prop_assert_eq!(out.values.len(), out.decision.fields.len());
    for (value, decision) in out.values.iter().zip(&out.decision.fields) {
        prop_assert_eq!(value.field, decision.field);
        prop_assert_eq!(value.outcome, decision.outcome);
        if value.outcome == Outcome::Hidden {
            prop_assert!(
                value.value.is_none(),
                "a hidden {} has a value",
                value.field
            );
        }
        if sensitive(value.field) && value.outcome != Outcome::Revealed {
            let plain = plaintext(&req.customer, value.field);
            prop_assert!(
                value.value.as_ref().map(|v| v.expose().to_owned()) != plain || plain.is_none(),
                "a {:?} {} shows its plaintext",
                value.outcome,
                value.field
            );
        }
        if sensitive(value.field) && req.action == AccessAction::Reveal {
            if value.outcome == Outcome::Revealed {
                stats.sensitive_reveals.fetch_add(1, Ordering::Relaxed);
            } else {
                stats.refused_reveals.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
    let suspended = person_exactly(&req.agent).is_some_and(|p| {
        model
            .countermeasures
            .get(&p)
            .is_some_and(|c| c.contains(&ResponseAction::SuspendAccess))
    });
    if suspended {
        prop_assert!(
            out.decision.denied && out.values.iter().all(|v| v.value.is_none()),
            "a suspended agent was shown something"
        );
    }
    let revealed: Vec<FieldClass> = out
        .decision
        .fields
        .iter()
        .filter(|d| d.outcome == Outcome::Revealed)
        .map(|d| d.field)
        .collect();
    if revealed.is_empty() {
        prop_assert!(out.watermark.is_none());
        prop_assert!(out.grant.is_none());
        return Ok(());
    }
    prop_assert!(
        out.watermark.is_some(),
        "a revealed view without a watermark"
    );

    // Who is asking, and may they read this customer at all?
    let person = person_exactly(&req.agent);
    prop_assert!(
        person.is_some(),
        "revealed to {:?}, not in the directory",
        req.agent
    );
    let person = person.unwrap_or_default();
    let countermeasures = model
        .countermeasures
        .get(&person)
        .cloned()
        .unwrap_or_default();
    prop_assert!(
        !countermeasures.contains(&ResponseAction::SuspendAccess),
        "revealed to a suspended agent"
    );
    let under_approval = countermeasures.contains(&ResponseAction::RequireApproval);
    let t = req
        .ticket
        .as_ref()
        .and_then(|id| TICKETS.iter().position(|t| t.0 == id.as_str()));
    prop_assert!(t.is_some(), "revealed without a ticket or live contact");
    let t = t.unwrap_or_default();
    prop_assert_eq!(
        model.assignees[t],
        person,
        "revealed on a ticket not assigned"
    );
    prop_assert_eq!(CUSTOMERS[TICKETS[t].3], req.customer.as_str());

    // The fields that needed a grant, and the grant that covered them.
    let needing: Vec<FieldClass> = revealed
        .iter()
        .copied()
        .filter(|&f| sensitive(f) || under_approval)
        .collect();
    if needing.is_empty() {
        prop_assert!(out.grant.is_none(), "a grant spent on nothing");
        return Ok(());
    }
    let Some(grant_id) = out.grant.as_ref() else {
        return Err(TestCaseError::fail(format!(
            "{needing:?} revealed without a grant"
        )));
    };
    let Some(g) = model.grants.iter_mut().find(|g| &g.id == grant_id) else {
        return Err(TestCaseError::fail("revealed under an unknown grant"));
    };
    prop_assert_eq!(g.status, GrantStatus::Approved, "grant not approved");
    prop_assert_eq!(&g.requester, &req.agent, "someone else's grant");
    prop_assert_eq!(Some(&g.ticket), req.ticket.as_ref());
    prop_assert_eq!(&g.customer, &req.customer);
    prop_assert_eq!(g.purpose.as_str(), req.purpose.trim(), "another purpose");
    for field in &needing {
        prop_assert!(g.fields.contains(field), "{} not in the grant", field);
    }
    prop_assert!(g.expires_at.is_some_and(|at| now < at), "an expired grant");
    let Some(approver) = g.approver.as_ref() else {
        return Err(TestCaseError::fail("an approved grant without an approver"));
    };
    prop_assert_ne!(
        agent_key(approver.as_str()),
        agent_key(g.requester.as_str()),
        "approved by the requester"
    );
    prop_assert!(
        eligible(approver),
        "approved by {:?}, no approving role",
        approver
    );
    prop_assert!(
        !in_lead_chain(&g.requester, approver),
        "approved by {:?}, in the lead chain of {:?}",
        approver,
        g.requester
    );
    prop_assert!(g.approver_stepped_up, "approved without a step-up");
    if needing.iter().any(|&f| sensitive(f)) {
        prop_assert!(
            fresh(model.step_up_at.get(req.agent.as_str()).copied(), now),
            "a sensitive field revealed without the requester's fresh step-up"
        );
    }
    g.spent += u32::try_from(needing.len()).unwrap_or(u32::MAX);
    prop_assert!(
        g.spent <= g.budget,
        "{} reveals from a budget of {}",
        g.spent,
        g.budget
    );
    prop_assert_eq!(out.reveals_left, Some(g.budget - g.spent));
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(128)
}

#[test]
fn no_sequence_reveals_a_sensitive_field_without_a_second_eligible_person() {
    let started = std::time::Instant::now();
    let (_vault_dir, vault) = shared_vault();
    let broker = Arc::new(BrokerHandle::fixed(Broker::default_policies().unwrap()));
    let stats = Stats::default();
    let cases = cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(op(), 8..=40), |ops| {
        run(&ops, &vault, &broker, &stats)
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed);
    eprintln!(
        "property: {} cases, {} accesses, {} approvals, {} self-approvals refused, \
         {} lead-chain approvals refused, {} sensitive fields revealed, {} refused, in {:.1?}",
        count(&stats.cases),
        count(&stats.accesses),
        count(&stats.approvals),
        count(&stats.self_approvals_refused),
        count(&stats.lead_chain_refused),
        count(&stats.sensitive_reveals),
        count(&stats.refused_reveals),
        started.elapsed()
    );
    // The sequences must reach the states the property is about, or it
    // proves nothing.
    if cases >= 32 {
        assert!(count(&stats.approvals) > 0, "no grant was ever approved");
        assert!(
            count(&stats.sensitive_reveals) > 0,
            "no sensitive field was ever revealed"
        );
        assert!(count(&stats.self_approvals_refused) > 0);
        assert!(count(&stats.lead_chain_refused) > 0);
    }
}
