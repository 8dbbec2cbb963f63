//! `Router::oneshot` tests of the customer page's broker-served data view
//! (a real `AccessService` over a temporary vault and access store) and of
//! its protection state read live from the action-risk engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::tests::{Fixture, event, fixture, new_alert};
use axum::http::{StatusCode, header};
use custos_core::EventTime;
use custos_core::alert::{Alert, Entity, EntityKind, ResponseAction, Severity};
use custos_core::id::{AgentId, CustomerId, EventId, TicketId};
use custos_store::{DirectoryKind, Store};
use std::sync::{Arc, Mutex};

/// The customer's PII in the vault: none of it may appear in clear.
const PLAINTEXT: [&str; 5] = [
    "jane.doe@example.com",
    "Jane Doe",
    "123-45-6789",
    "Doe",
    "415 555",
];

/// Facts from the store's directory (agents and tickets), no live contact,
/// no countermeasure: what the binary's `StoreFacts` reads, minus the
/// pipeline's live parts.
struct DirectoryFacts(Arc<dyn Store>);

impl custos_access::FactsSource for DirectoryFacts {
    fn agent(
        &self,
        agent: &AgentId,
    ) -> Result<Option<custos_broker::AgentFacts>, custos_access::FactsError> {
        match self
            .0
            .directory_current(DirectoryKind::Agent, agent.as_str())
            .unwrap()
        {
            Some(record) => custos_access::agent_facts_from_record(&record.raw).map(Some),
            None => Ok(None),
        }
    }
    fn ticket(
        &self,
        ticket: &TicketId,
    ) -> Result<Option<custos_broker::TicketFacts>, custos_access::FactsError> {
        match self
            .0
            .directory_current(DirectoryKind::Ticket, ticket.as_str())
            .unwrap()
        {
            Some(record) => custos_access::ticket_facts_from_record(&record.raw),
            None => Ok(None),
        }
    }
    fn live_contact(
        &self,
        _agent: &AgentId,
        _customer: &CustomerId,
        _now: EventTime,
    ) -> Result<bool, custos_access::FactsError> {
        Ok(false)
    }
    fn countermeasures(
        &self,
        _agent: &AgentId,
    ) -> Result<Vec<ResponseAction>, custos_access::FactsError> {
        Ok(Vec::new())
    }
    fn lead_of(&self, _agent: &AgentId) -> Result<Option<AgentId>, custos_access::FactsError> {
        Ok(None)
    }
}

struct Broker {
    f: Fixture,
    log: Arc<Mutex<custos_audit::AuditLog>>,
    /// `a-0001`'s custos step-up secret.
    step_up_secret: Vec<u8>,
}

/// The fixture plus customer `c-77` (directory record, vault PII), ticket
/// `t-1` (open, assigned to `a-0001`, about `c-77`, category
/// `account_security`: name, email, phone and security settings), and the
/// `t-2` (the same for `kyc_verification`: name, dob, address, id document,
/// national id), and the access broker and step-up connected (`a-0001`
/// enrolled). Console user
/// `ana` is linked to agent `a-0001`; `lee` is not linked.
fn broker_fixture() -> Broker {
    let f = fixture();
    let dir = f._dir.path();
    f.store
        .append_events(&[
            event(
                "d-c77",
                "2025-03-01T00:00:00Z",
                serde_json::json!({"type":"customer","customer_id":"c-77","tier":"retail"}),
                Some((DirectoryKind::Customer, "c-77")),
            ),
            event(
                "d-t2",
                "2025-03-03T00:00:00Z",
                serde_json::json!({"type":"ticket","ticket_id":"t-2","customer_id":"c-77","agent_id":"a-0001","status":"assigned","channel":"chat","category":"kyc_verification","opened_by":"customer"}),
                Some((DirectoryKind::Ticket, "t-2")),
            ),
            event(
                "d-t1",
                "2025-03-03T00:00:00Z",
                serde_json::json!({"type":"ticket","ticket_id":"t-1","customer_id":"c-77","agent_id":"a-0001","status":"assigned","channel":"chat","category":"account_security","opened_by":"customer"}),
                Some((DirectoryKind::Ticket, "t-1")),
            ),
        ])
        .unwrap();
    f.state.sync_index().unwrap();
    let keys = custos_vault::KeyRing::new(
        custos_vault::KekId::parse("test-kek").unwrap(),
        custos_vault::SecretKey::from_bytes([1; 32]),
        custos_vault::SecretKey::from_bytes([2; 32]),
    );
    let vault = Arc::new(custos_vault::Vault::open(&dir.join("vault"), keys).unwrap());
    vault
        .put_customer(
            &CustomerId::parse("c-77").unwrap(),
            &[
                (custos_vault::FieldClass::Name, "Jane Doe"),
                (custos_vault::FieldClass::Email, "jane.doe@example.com"),
                (custos_vault::FieldClass::NationalId, "123-45-6789"),
                (custos_vault::FieldClass::Phone, "+1 415 555 0100"),
            ],
        )
        .unwrap();
    let access_store =
        Arc::new(custos_access::SqliteAccessStore::open(&dir.join("access")).unwrap());
    let step_ups = Arc::new(custos_access::StepUps::new(
        access_store.clone(),
        custos_access::SealingKey::from_bytes([7; 32]),
        custos_access::StepUpPolicy::default(),
    ));
    let enrolment = step_ups
        .enrol(
            &AgentId::parse("a-0001").unwrap(),
            EventTime::from_unix_secs(f.state.now()),
        )
        .unwrap();
    let secret = enrolment
        .uri
        .expose()
        .split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let step_up_secret = crate::tests::base32_decode(&secret);
    let service = custos_access::AccessService::new(
        Arc::new(custos_access::BrokerHandle::fixed(
            custos_broker::Broker::default_policies().unwrap(),
        )),
        vault,
        Arc::new(DirectoryFacts(f.store.clone())),
        access_store.clone(),
        access_store,
    )
    .unwrap();
    let signer = custos_audit::NoteSigner::from_seed("custos.test/audit", [9; 32]).unwrap();
    let log = Arc::new(Mutex::new(
        custos_audit::AuditLog::open(&dir.join("audit.db"), "custos.test/audit", signer).unwrap(),
    ));
    let _ = f.state.clone().with_services(crate::ConsoleServices {
        access: Some(Arc::new(service)),
        step_ups: Some(step_ups),
        audit: Some(log.clone()),
        ..crate::ConsoleServices::default()
    });
    f.state.set_agent_id("ana", Some("a-0001")).unwrap();
    Broker {
        f,
        log,
        step_up_secret,
    }
}

impl Broker {
    fn events(&self) -> Vec<custos_store::StoredEvent> {
        self.f.store.read_events(0, 1000).unwrap()
    }

    fn audit_kinds(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.entries(0..log.size())
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    async fn view(&self, cookie: &str, form: &str) -> crate::tests::Answer {
        let csrf = self.f.csrf(cookie).await;
        self.f
            .post(
                "/console/customers/c-77/view",
                cookie,
                &format!("csrf={csrf}&{form}"),
            )
            .await
    }
}

fn assert_no_plaintext(body: &str) {
    for secret in PLAINTEXT {
        assert!(!body.contains(secret), "`{secret}` leaked");
    }
}

#[tokio::test]
async fn an_agent_on_their_open_ticket_sees_masked_fields_under_a_watermark() {
    let b = broker_fixture();
    let ana = b.f.sign_in("ana").await;
    let page = b.f.get("/console/customers/c-77", &ana).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(r#"action="/console/customers/c-77/view""#)
    );
    for field in ["name", "email", "national_id", "bank_account", "balance"] {
        assert!(
            page.body.contains(&format!(r#"name="field.{field}""#)),
            "{field}"
        );
    }
    assert!(page.body.contains("a-0001"), "the agent asked as");
    // The broker's own sensitive classes are marked.
    assert!(
        page.body
            .contains(r#"national_id <span class="badge sensitive">sensitive</span>"#)
    );
    assert!(
        !page
            .body
            .contains(r#"email <span class="badge sensitive">"#)
    );
    let before = b.events().len();
    let answer = b
        .view(
            &ana,
            "ticket=t-1&field.name=1&field.email=1&field.national_id=1&purpose=customer+cannot+log+in",
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(
        answer.headers.get(header::CACHE_CONTROL).unwrap(),
        "no-store"
    );
    // Masked values as the broker rendered them; the national id is not in
    // the ticket's category: hidden, with the broker's reason.
    assert!(
        answer.body.contains("j***@e***.com"),
        "the masked email: {}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains(r#"<span class="badge outcome-masked">masked</span>"#)
    );
    assert!(
        answer
            .body
            .contains(r#"<span class="badge outcome-hidden">hidden</span>"#)
    );
    assert!(answer.body.contains("assigned_open_ticket"), "why masked");
    assert_no_plaintext(&answer.body);
    // The watermark: user, agent, ticket and decision id, as a band and an overlay.
    let events = b.events();
    assert_eq!(events.len(), before + 1, "one agent_access event");
    let access = events.last().unwrap();
    assert_eq!(access.event_type, "agent_access");
    assert!(access.event_id.starts_with("acc-"));
    let mark = "ana as a-0001 · ";
    assert!(answer.body.contains(r#"id="watermark""#));
    assert!(answer.body.contains(mark), "{}", answer.body);
    assert!(
        answer
            .body
            .contains(&format!("· t-1 · {}", access.event_id))
    );
    assert!(
        answer
            .body
            .contains(r#"class="watermark" aria-hidden="true""#)
    );
    // The event names the agent, the ticket and what was shown, and no value.
    let raw: serde_json::Value = serde_json::from_str(&access.raw).unwrap();
    assert_eq!(raw["agent_id"], "a-0001");
    assert_eq!(raw["customer_id"], "c-77");
    assert_eq!(raw["ticket_id"], "t-1");
    assert_eq!(raw["fields"], serde_json::json!(["name", "email"]));
    assert_no_plaintext(&access.raw);
    assert_eq!(b.audit_kinds(), vec!["access_decision".to_owned()]);
}

#[tokio::test]
async fn a_reveal_shows_plaintext_under_the_brokers_watermark_and_sensitive_fields_stay_masked() {
    let b = broker_fixture();
    let ana = b.f.sign_in("ana").await;
    // A wrong step-up code: refused, audited, nothing asked of the broker.
    let before = b.events().len();
    let answer = b
        .view(
            &ana,
            "action=reveal&code=000000&ticket=t-2&field.name=1&field.national_id=1&purpose=verify+the+caller",
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    assert!(answer.body.contains("step-up code is wrong"));
    assert_eq!(b.events().len(), before);
    assert_eq!(b.audit_kinds(), vec!["step_up_refused".to_owned()]);
    // A right code: the name (not sensitive, needed by the ticket) is
    // revealed; the national id (sensitive) stays masked until a grant is
    // approved.
    let code = crate::totp::code_at(&b.step_up_secret, b.f.state.now());
    let answer = b
        .view(
            &ana,
            &format!(
                "action=reveal&code={code}&ticket=t-2&field.name=1&field.national_id=1&purpose=verify+the+caller"
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(
        answer.body.contains(r#"<code class="pii">Jane Doe</code>"#),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains(r#"<span class="badge outcome-revealed">revealed</span>"#)
    );
    assert!(
        !answer.body.contains("123-45-6789"),
        "the national id stays masked"
    );
    assert!(answer.body.contains("***-**-6789"), "{}", answer.body);
    assert!(
        answer
            .body
            .contains("needs a reveal grant approved by a second person")
    );
    assert!(
        !answer.body.contains("needs a fresh step-up"),
        "the step-up was just made"
    );
    // The broker's per-agent token leads the watermark, as in its record.
    let log = b.log.lock().unwrap();
    let last = log.entries(log.size() - 1..log.size()).unwrap().remove(0);
    drop(log);
    assert_eq!(last.kind, "access_decision");
    let token = last.details["detail"]["watermark"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!token.is_empty());
    assert!(
        answer
            .body
            .contains(&format!("Watermark: {token} · ana as a-0001 · ")),
        "{}",
        answer.body
    );
    assert_eq!(
        b.audit_kinds(),
        vec![
            "step_up_refused".to_owned(),
            "step_up_verified".to_owned(),
            "access_decision".to_owned()
        ]
    );
    let access = b.events().pop().unwrap();
    let raw: serde_json::Value = serde_json::from_str(&access.raw).unwrap();
    assert_eq!(raw["action"], "reveal");
    assert!(!access.raw.contains("Jane") && !access.raw.contains("6789"));
}

#[tokio::test]
async fn without_a_ticket_every_field_is_hidden_with_the_reason_and_no_watermark() {
    let b = broker_fixture();
    let ana = b.f.sign_in("ana").await;
    let answer = b
        .view(&ana, "field.email=1&field.name=1&purpose=just+curious")
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert!(answer.body.contains("Nothing may be shown."));
    assert!(
        !answer
            .body
            .contains(r#"<span class="badge outcome-masked">"#)
    );
    assert!(
        answer.body.contains("<code>denied</code>"),
        "{}",
        answer.body
    );
    assert!(
        !answer.body.contains(r#"id="watermark""#),
        "nothing to trace"
    );
    assert_no_plaintext(&answer.body);
    // Refusals are recorded too.
    let access = b.events().pop().unwrap();
    assert_eq!(access.event_type, "agent_access");
    assert!(access.raw.contains(r#""denied":true"#), "{}", access.raw);
    assert_eq!(b.audit_kinds(), vec!["access_decision".to_owned()]);
}

#[tokio::test]
async fn an_unlinked_user_is_refused_and_nothing_is_requested() {
    let b = broker_fixture();
    let lee = b.f.sign_in("lee").await;
    let page = b.f.get("/console/customers/c-77", &lee).await;
    assert!(page.body.contains(r#"id="not-linked""#));
    assert!(
        !page
            .body
            .contains(r#"action="/console/customers/c-77/view""#)
    );
    let account = b.f.get("/console/account", &lee).await;
    assert!(account.body.contains("Not linked to a custos agent"));
    let before = b.events().len();
    let answer = b
        .view(
            &lee,
            "ticket=t-1&field.email=1&purpose=customer+cannot+log+in",
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer
            .body
            .contains("your console user is not linked to an agent; ask an admin")
    );
    assert_eq!(b.events().len(), before, "no decision was asked for");
    assert!(b.audit_kinds().is_empty());
    let ana = b.f.sign_in("ana").await;
    let account = b.f.get("/console/account", &ana).await;
    assert!(
        account
            .body
            .contains("Linked to custos agent <code>a-0001</code>")
    );
}

#[tokio::test]
async fn the_data_view_needs_the_sessions_csrf_token_and_valid_input() {
    let b = broker_fixture();
    let ana = b.f.sign_in("ana").await;
    let before = b.events().len();
    for form in [
        "ticket=t-1&field.email=1&purpose=customer+cannot+log+in",
        "csrf=wrong&ticket=t-1&field.email=1&purpose=customer+cannot+log+in",
    ] {
        let answer = b.f.post("/console/customers/c-77/view", &ana, form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{form}");
    }
    // No field, or no purpose: asked again, nothing requested.
    for form in [
        "ticket=t-1&purpose=customer+cannot+log+in",
        "ticket=t-1&field.email=1&purpose=",
    ] {
        let answer = b.view(&ana, form).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{form}");
    }
    assert_eq!(b.events().len(), before);
    // The agent role never reaches the customer page.
    let sam = b.f.sign_in("sam").await;
    assert_eq!(
        b.view(
            &sam,
            "ticket=t-1&field.email=1&purpose=customer+cannot+log+in"
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(b.events().len(), before);
}

#[tokio::test]
async fn without_the_broker_the_page_says_so() {
    let f = fixture();
    f.store
        .append_events(&[event(
            "d-c77",
            "2025-03-01T00:00:00Z",
            serde_json::json!({"type":"customer","customer_id":"c-77","tier":"retail"}),
            Some((DirectoryKind::Customer, "c-77")),
        )])
        .unwrap();
    f.state.set_agent_id("ana", Some("a-0001")).unwrap();
    let ana = f.sign_in("ana").await;
    let page = f.get("/console/customers/c-77", &ana).await;
    assert!(page.body.contains("The access broker is not connected"));
    let csrf = f.csrf(&ana).await;
    let answer = f
        .post(
            "/console/customers/c-77/view",
            &ana,
            &format!("csrf={csrf}&field.email=1&purpose=a+purpose"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}

#[test]
fn linking_checks_the_user_and_the_agent_id() {
    let f = fixture();
    assert!(f.state.set_agent_id("nobody", Some("a-1")).is_err());
    assert!(f.state.set_agent_id("ana", Some("a\n1")).is_err());
    f.state.set_agent_id("ana", Some("a-0001")).unwrap();
    let user_id: i64 = f
        .state
        .db()
        .query_row("SELECT id FROM users WHERE name = 'ana'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        crate::users::agent_id_of(&f.state.db(), user_id).unwrap(),
        Some("a-0001".to_owned())
    );
    f.state.set_agent_id("ana", None).unwrap();
    assert_eq!(
        crate::users::agent_id_of(&f.state.db(), user_id).unwrap(),
        None
    );
}

#[tokio::test]
async fn the_protection_state_is_read_live_from_the_engine_with_why() {
    use custos_risk::protection::{Actor, Command};
    let f = fixture();
    f.store
        .append_events(&[event(
            "d-c77",
            "2025-03-01T00:00:00Z",
            serde_json::json!({"type":"customer","customer_id":"c-77","tier":"retail"}),
            Some((DirectoryKind::Customer, "c-77")),
        )])
        .unwrap();
    // The alert whose response froze the account, and a scam conversation.
    let mut risk = Alert::new(
        "action_risk",
        EventTime::parse("2025-03-04T10:10:00Z").unwrap(),
        Entity::new(EntityKind::Customer, "c-77"),
        Severity::High,
        0.9,
    )
    .reason("v1.new_device_withdrawal", "a new device")
    .evidence(EventId::parse("e2").unwrap())
    .respond(ResponseAction::Freeze);
    risk.alert_id = "al-risk".to_owned();
    let mut call = Alert::new(
        "conversation",
        EventTime::parse("2025-03-04T10:05:00Z").unwrap(),
        Entity::new(EntityKind::Customer, "c-77"),
        Severity::High,
        0.8,
    )
    .reason("credential_request", "asks for a code")
    .evidence(EventId::parse("e3").unwrap())
    .respond(ResponseAction::Intercept);
    call.alert_id = "al-call".to_owned();
    f.store
        .append_alerts(&[new_alert(&risk), new_alert(&call)], "pipeline", 5)
        .unwrap();
    f.state.sync_index().unwrap();
    let handle = custos_risk::RiskHandle::new(
        custos_risk::ActionRisk::new(custos_risk::RiskConfig::default()).unwrap(),
    );
    let _ = f.state.clone().with_services(crate::ConsoleServices {
        risk: Some(handle.clone()),
        ..crate::ConsoleServices::default()
    });
    let ana = f.sign_in("ana").await;
    // Nothing in the engine yet: normal, whatever the alerts said.
    let page = f.get("/console/customers/c-77", &ana).await;
    assert!(page.body.contains("Normal: not frozen"), "{}", page.body);
    assert!(page.body.contains("Live from the action-risk engine."));

    let customer = CustomerId::parse("c-77").unwrap();
    let now = EventTime::from_unix_secs(f.state.now());
    let hour_ago = EventTime::from_unix_secs(f.state.now() - 3600);
    let support = Actor::Support {
        agent_id: "a-0002".to_owned(),
    };
    handle
        .protect("p1", &customer, hour_ago, support.clone(), &Command::Freeze)
        .unwrap();
    let link = Actor::Customer { factor: None };
    handle
        .protect(
            "p2",
            &customer,
            hour_ago,
            link.clone(),
            &Command::LockSecuritySettings,
        )
        .unwrap();
    let pending = handle
        .protect(
            "p3",
            &customer,
            now,
            link,
            &Command::RequestSecurityChange {
                setting: custos_core::event::SecuritySetting::Email,
            },
        )
        .unwrap();
    assert_eq!(pending.outcome, "pending");
    handle.with(|r| {
        r.engine_mut().add_mark(
            &customer,
            custos_risk::MarkFact {
                code: "scam_conversation".to_owned(),
                source: "conversation".to_owned(),
                since: hour_ago,
            },
            EventTime::from_unix_secs(f.state.now() + 3600),
        );
    });
    let page = f.get("/console/customers/c-77", &ana).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Elevated protection: 3 in force."),
        "{}",
        page.body
    );
    let item = |id: &str| -> String {
        let start = page.body.find(&format!(r#"<li id="{id}">"#)).unwrap();
        let end = start + page.body[start..].find("</li>").unwrap();
        page.body[start..end].to_owned()
    };
    let frozen = item("live-frozen");
    assert!(frozen.contains("frozen"));
    assert!(
        frozen.contains(r#"href="/console/alerts/al-risk""#),
        "{frozen}"
    );
    assert!(frozen.contains("v1.new_device_withdrawal"), "{frozen}");
    let locked = item("live-locked");
    assert!(locked.contains("by a protection command"), "{locked}");
    assert!(
        page.body.contains("change of `email`"),
        "the pending change"
    );
    assert!(page.body.contains("scam_conversation"), "the mark");
    assert!(
        page.body.contains(r#"href="/console/alerts/al-call""#),
        "the alert behind the mark"
    );
    assert!(!page.body.contains(r#"id="live-revoked""#));
}
