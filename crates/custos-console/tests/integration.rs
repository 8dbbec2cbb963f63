//! The console on a real port over a store seeded from the simulator and
//! analysed by the behaviour detectors: page timings, and the browser test
//! (Playwright driving Debian's Chromium, `e2e/console.spec.mjs`).
//!
//! - `console_on_a_real_port`: always runs (a week of a small floor); runs
//!   the browser test when node, `e2e/node_modules` and `/usr/bin/chromium`
//!   are there, and otherwise prints `skipped:` with the reason.
//! - `month_of_simulator_data_pages_under_200ms`: the full default month
//!   (about a million events, 100,000 audit entries, 50 pending reveal
//!   requests); slow, so it runs only with
//!   `CUSTOS_CONSOLE_MONTH=1` (use `--release` for production figures).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use custos_behavior::{AgentBehavior, BehaviorConfig, LeakAttribution};
use custos_console::{ConsoleSettings, ConsoleState, Role};
use custos_core::event::EventBody;
use custos_core::parse::parse_event;
use custos_core::pipeline::{Output, Pipeline, PipelineConfig};
use custos_core::{Alert, Detector};
use custos_sim::{SimConfig, Simulator};
use custos_store::{DirectoryKind, DirectoryUpdate, NewAlert, NewEvent, SqliteStore, Store};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const PASSWORD: &str = "correct horse battery staple";

/// The customer and ticket of the browser's data view: the ticket is open,
/// assigned to `lee` (linked to agent `lee`) and in the `login_issue`
/// category (name and email).
const DATA_CUSTOMER: &str = "c-e2e-1";
const DATA_TICKET: &str = "t-e2e-1";

/// What seeding produced.
struct Seeded {
    events: u64,
    alerts: u64,
    by_detector: BTreeMap<String, u64>,
}

fn to_new_event(line: &str, index: usize) -> Option<NewEvent> {
    let event = parse_event(line, || (index + 1).to_string()).ok()?;
    let directory = match &event.body {
        EventBody::Agent(a) => Some((DirectoryKind::Agent, a.agent_id.as_str().to_owned())),
        EventBody::Customer(c) => {
            Some((DirectoryKind::Customer, c.customer_id.as_str().to_owned()))
        }
        EventBody::Ticket(t) => Some((DirectoryKind::Ticket, t.ticket_id.as_str().to_owned())),
        _ => None,
    }
    .map(|(kind, id)| DirectoryUpdate { kind, id });
    Some(NewEvent {
        event_id: event.id.as_str().to_owned(),
        event_type: event.body.type_name().to_owned(),
        ts_micros: event.ts.as_micros(),
        raw: line.to_owned(),
        directory,
    })
}

fn to_new_alert(alert: &Alert) -> NewAlert {
    use custos_core::Severity as S;
    NewAlert {
        alert_id: alert.alert_id.clone(),
        ts_micros: alert.ts.as_micros(),
        detector: alert.detector.clone(),
        entity_kind: alert.entity.kind.as_str().to_owned(),
        entity_id: alert.entity.id.clone(),
        severity: match alert.severity {
            S::Low => custos_store::Severity::Low,
            S::Medium => custos_store::Severity::Medium,
            S::High => custos_store::Severity::High,
            S::Critical => custos_store::Severity::Critical,
        },
        json: alert.to_json(),
    }
}

/// Simulates `config`, appends every event to `store`, runs the agent
/// detectors over them in the same order and appends their alerts with the
/// `pipeline` cursor, as `custos serve` would.
fn seed(store: &dyn Store, config: SimConfig) -> Seeded {
    let behavior = BehaviorConfig::default();
    let detectors: Vec<Box<dyn Detector>> = vec![
        Box::new(AgentBehavior::new(behavior.clone())),
        Box::new(LeakAttribution::new(behavior)),
    ];
    let mut pipeline = Pipeline::new(PipelineConfig::default(), detectors);
    let mut batch = Vec::with_capacity(5_000);
    let mut out = Vec::new();
    let mut alerts = Vec::new();
    let mut seeded = Seeded {
        events: 0,
        alerts: 0,
        by_detector: BTreeMap::new(),
    };
    let flush = |batch: &mut Vec<NewEvent>, alerts: &mut Vec<NewAlert>, seeded: &mut Seeded| {
        if batch.is_empty() && alerts.is_empty() {
            return;
        }
        let receipt = store.append_events(batch).unwrap();
        seeded.events += receipt.len();
        store
            .append_alerts(alerts, "pipeline", receipt.last_seq)
            .unwrap();
        seeded.alerts += alerts.len() as u64;
        batch.clear();
        alerts.clear();
    };
    for (index, line) in Simulator::new(config).unwrap().enumerate() {
        let Some(new_event) = to_new_event(&line, index) else {
            continue;
        };
        if let Ok(event) = parse_event(&line, || (index + 1).to_string()) {
            pipeline.push(event, &mut out);
        }
        batch.push(new_event);
        for output in out.drain(..) {
            if let Output::Alert(alert) = output {
                *seeded
                    .by_detector
                    .entry(alert.detector.clone())
                    .or_default() += 1;
                alerts.push(to_new_alert(&alert));
            }
        }
        if batch.len() == 5_000 {
            flush(&mut batch, &mut alerts, &mut seeded);
        }
    }
    pipeline.finish(&mut out);
    for output in out.drain(..) {
        if let Output::Alert(alert) = output {
            *seeded
                .by_detector
                .entry(alert.detector.clone())
                .or_default() += 1;
            alerts.push(to_new_alert(&alert));
        }
    }
    flush(&mut batch, &mut alerts, &mut seeded);
    seeded
}

/// Appends `count` customer alerts spread over the stored events (each
/// citing the event it sits on), as the customer-side detectors would.
fn add_customer_alerts(store: &dyn Store, mut seeded: Seeded, count: u64) -> Seeded {
    let last = store.last_seq().unwrap();
    let stride = (last / count).max(1);
    let cursor = store.cursor("pipeline").unwrap();
    let mut batch = Vec::new();
    for n in 0..count {
        let seq = 1 + n * stride;
        let Some(event) = store.read_events(seq - 1, 1).unwrap().into_iter().next() else {
            break;
        };
        let (detector, severity) = match n % 10 {
            0 => ("conversation", custos_store::Severity::High),
            1..=3 => ("action_risk", custos_store::Severity::Medium),
            _ => ("action_risk", custos_store::Severity::Low),
        };
        let alert_id = format!("syn-{n}");
        let ts = custos_core::EventTime::from_micros(event.ts_micros);
        let json = serde_json::json!({
            "alert_id": alert_id, "ts": ts.to_string(), "detector": detector,
            "entity": {"kind": "customer", "id": format!("c-{:05}", n % 50_000)},
            "severity": severity.as_str(), "score": 0.5,
            "reasons": [{"code": "v1.new_device", "detail": "a device not seen in 90 days"}],
            "evidence": [event.event_id], "response": ["step_up"]
        });
        batch.push(NewAlert {
            alert_id,
            ts_micros: event.ts_micros,
            detector: detector.to_owned(),
            entity_kind: "customer".to_owned(),
            entity_id: format!("c-{:05}", n % 50_000),
            severity,
            json: json.to_string(),
        });
        if batch.len() == 5_000 {
            store.append_alerts(&batch, "pipeline", cursor).unwrap();
            seeded.alerts += batch.len() as u64;
            *seeded
                .by_detector
                .entry("synthetic customer alerts".to_owned())
                .or_default() += batch.len() as u64;
            batch.clear();
        }
    }
    store.append_alerts(&batch, "pipeline", cursor).unwrap();
    seeded.alerts += batch.len() as u64;
    *seeded
        .by_detector
        .entry("synthetic customer alerts".to_owned())
        .or_default() += batch.len() as u64;
    seeded
}

/// The in-process services of the console (grant store, vault, step-up,
/// audit log) in `dir`, as `custos serve` builds them.
struct TestServices {
    approvals: Arc<custos_access::Approvals>,
    step_ups: Arc<custos_access::StepUps>,
    log: Arc<std::sync::Mutex<custos_audit::AuditLog>>,
}

/// Facts for the grant workflow and the access broker from the store's
/// directory, as the binary reads them: roles and leads from `agent`
/// records, `ticket` records; no live contact, no countermeasures.
struct DirectoryFacts(Arc<dyn Store>);

impl DirectoryFacts {
    fn record(&self, agent: &custos_core::id::AgentId) -> Option<String> {
        self.0
            .directory_current(DirectoryKind::Agent, agent.as_str())
            .ok()
            .flatten()
            .map(|r| r.raw)
    }
}

impl custos_access::FactsSource for DirectoryFacts {
    fn agent(
        &self,
        agent: &custos_core::id::AgentId,
    ) -> Result<Option<custos_broker::AgentFacts>, custos_access::FactsError> {
        self.record(agent)
            .map(|raw| custos_access::agent_facts_from_record(&raw))
            .transpose()
    }
    fn ticket(
        &self,
        ticket: &custos_core::id::TicketId,
    ) -> Result<Option<custos_broker::TicketFacts>, custos_access::FactsError> {
        match self
            .0
            .directory_current(DirectoryKind::Ticket, ticket.as_str())
            .ok()
            .flatten()
        {
            Some(record) => custos_access::ticket_facts_from_record(&record.raw),
            None => Ok(None),
        }
    }
    fn live_contact(
        &self,
        _agent: &custos_core::id::AgentId,
        _customer: &custos_core::id::CustomerId,
        _now: custos_core::EventTime,
    ) -> Result<bool, custos_access::FactsError> {
        Ok(false)
    }
    fn countermeasures(
        &self,
        _agent: &custos_core::id::AgentId,
    ) -> Result<Vec<custos_core::alert::ResponseAction>, custos_access::FactsError> {
        Ok(Vec::new())
    }
    fn lead_of(
        &self,
        agent: &custos_core::id::AgentId,
    ) -> Result<Option<custos_core::id::AgentId>, custos_access::FactsError> {
        match self.record(agent) {
            Some(raw) => custos_access::agent_lead_from_record(&raw),
            None => Ok(None),
        }
    }
}

fn connect_services(dir: &Path, state: &ConsoleState, audit_entries: u64) -> TestServices {
    let access = Arc::new(custos_access::SqliteAccessStore::open(&dir.join("access")).unwrap());
    let keys = custos_vault::KeyRing::from_json(&format!(
        "{{\"version\": 1, \"active\": \"kek-1\", \"keks\": {{\"kek-1\": \"{}\"}}, \"commitment_key\": \"{}\"}}",
        "11".repeat(32),
        "22".repeat(32)
    ))
    .unwrap();
    let vault = Arc::new(custos_vault::Vault::open(&dir.join("vault"), keys).unwrap());
    let facts = Arc::new(DirectoryFacts(state.store().clone()));
    let approvals = Arc::new(custos_access::Approvals::new(
        access.clone(),
        access.clone(),
        vault.clone(),
        facts.clone(),
        custos_access::GrantPolicy::default(),
    ));
    // The access broker over the same vault: the customer page's data view.
    vault
        .put_customer(
            &custos_core::id::CustomerId::parse(DATA_CUSTOMER).unwrap(),
            &[
                (custos_vault::FieldClass::Name, "Jane Doe"),
                (custos_vault::FieldClass::Email, "jane.doe@example.com"),
            ],
        )
        .unwrap();
    let broker = custos_access::AccessService::new(
        Arc::new(custos_access::BrokerHandle::fixed(
            custos_broker::Broker::default_policies().unwrap(),
        )),
        vault,
        facts,
        access.clone(),
        access.clone(),
    )
    .unwrap();
    // The action-risk engine with the data customer frozen by support.
    let risk = custos_risk::RiskHandle::new(
        custos_risk::ActionRisk::new(custos_risk::RiskConfig::default()).unwrap(),
    );
    risk.protect(
        "p-e2e",
        &custos_core::id::CustomerId::parse(DATA_CUSTOMER).unwrap(),
        custos_core::EventTime::from_unix_secs(now_secs() - 600),
        custos_risk::Actor::Support {
            agent_id: "kim".to_owned(),
        },
        &custos_risk::Command::Freeze,
    )
    .unwrap();
    let step_ups = Arc::new(custos_access::StepUps::new(
        access,
        custos_access::SealingKey::from_bytes([7; 32]),
        custos_access::StepUpPolicy::default(),
    ));
    let signer = custos_audit::NoteSigner::from_seed("custos.test/audit", [9; 32]).unwrap();
    let mut log =
        custos_audit::AuditLog::open(&dir.join("audit.db"), "custos.test/audit", signer).unwrap();
    // A log of a realistic size: access decisions of the month, no PII.
    let mut batch = Vec::new();
    for n in 0..audit_entries {
        batch.push(custos_audit::AuditEntry {
            kind: "access_decision".to_owned(),
            ts: custos_core::EventTime::from_unix_secs(1_740_000_000 + n as i64).to_string(),
            actor: format!("a-{:04}", n % 240),
            subject_commitment: format!("{:064x}", n),
            details: serde_json::json!({"outcome": "served", "fields": ["email"]}),
        });
        if batch.len() == 10_000 {
            log.append(&batch).unwrap();
            batch.clear();
        }
    }
    log.append(&batch).unwrap();
    let log = Arc::new(std::sync::Mutex::new(log));
    let _ = state
        .clone()
        .with_services(custos_console::ConsoleServices {
            approvals: Some(approvals.clone()),
            step_ups: Some(step_ups.clone()),
            audit: Some(log.clone()),
            access: Some(Arc::new(broker)),
            risk: Some(risk),
        });
    TestServices {
        approvals,
        step_ups,
        log,
    }
}

impl TestServices {
    /// A pending reveal request by `requester`, audited as the API does.
    fn request(&self, requester: &str, purpose: &str) -> custos_access::GrantId {
        let change = self
            .approvals
            .request(
                &custos_access::RevealRequest {
                    requester: custos_core::id::AgentId::parse(requester).unwrap(),
                    customer: custos_core::id::CustomerId::parse("c-00042").unwrap(),
                    ticket: custos_core::id::TicketId::parse("t-000042").unwrap(),
                    fields: vec![
                        custos_core::event::FieldClass::NationalId,
                        custos_core::event::FieldClass::Address,
                    ],
                    purpose: purpose.to_owned(),
                    ttl_secs: None,
                    reveal_budget: None,
                },
                custos_core::EventTime::from_unix_secs(now_secs() - 420),
            )
            .unwrap();
        let details = serde_json::to_value(&change.audit).unwrap();
        self.log
            .lock()
            .unwrap()
            .append(&[custos_audit::AuditEntry {
                kind: change.audit.kind.to_owned(),
                ts: change.audit.ts.to_string(),
                actor: change.audit.actor.as_str().to_owned(),
                subject_commitment: change.audit.customer_ref.clone().unwrap_or_default(),
                details,
            }])
            .unwrap();
        change.grant.id
    }

    /// Enrols `agent` for step-up; returns the base32 secret.
    fn enrol(&self, agent: &str) -> String {
        let enrolment = self
            .step_ups
            .enrol(
                &custos_core::id::AgentId::parse(agent).unwrap(),
                custos_core::EventTime::from_unix_secs(now_secs()),
            )
            .unwrap();
        secret_of(enrolment.uri.expose())
    }
}

/// Directory records making `names` support leads (approvers).
fn add_leads(store: &dyn Store, names: &[&str]) {
    let events: Vec<NewEvent> = names
        .iter()
        .map(|name| {
            let line = serde_json::json!({
                "type": "agent", "id": format!("dir-{name}"), "ts": "2025-01-01T00:00:00Z",
                "agent_id": name, "team": "leads", "role": "support_lead", "site": "IN"
            })
            .to_string();
            to_new_event(&line, 0).unwrap()
        })
        .collect();
    store.append_events(&events).unwrap();
}

/// The data view's customer and ticket in the directory (see [`DATA_CUSTOMER`]).
fn add_data_customer(store: &dyn Store) {
    let lines = [
        serde_json::json!({
            "type": "customer", "id": "dir-c-e2e-1", "ts": "2025-01-01T00:00:00Z",
            "customer_id": DATA_CUSTOMER, "tier": "retail"
        }),
        serde_json::json!({
            "type": "ticket", "id": "dir-t-e2e-1", "ts": "2025-01-01T00:00:00Z",
            "ticket_id": DATA_TICKET, "customer_id": DATA_CUSTOMER, "agent_id": "lee",
            "status": "assigned", "channel": "chat", "category": "login_issue",
            "opened_by": "customer"
        }),
    ];
    let events: Vec<NewEvent> = lines
        .iter()
        .map(|line| to_new_event(&line.to_string(), 0).unwrap())
        .collect();
    store.append_events(&events).unwrap();
}

/// The first `count` `agent_access` events of `agent` with distinct
/// customers: `(event id, customer id)`.
fn first_customer_of(store: &dyn Store, agent: &str, count: usize) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut after = 0;
    while out.len() < count {
        let events = store.read_events(after, 5_000).unwrap();
        let Some(last) = events.last() else { break };
        after = last.seq;
        for event in &events {
            if event.event_type != "agent_access" {
                continue;
            }
            let raw: serde_json::Value = serde_json::from_str(&event.raw).unwrap();
            let customer = raw["customer_id"].as_str().unwrap_or_default();
            if raw["agent_id"] == agent
                && !customer.is_empty()
                && !out.iter().any(|(_, c)| c == customer)
            {
                out.push((event.event_id.clone(), customer.to_owned()));
                if out.len() == count {
                    break;
                }
            }
        }
    }
    out
}

/// A `leak_attribution` run naming `agent` when the simulated week raised
/// none (the detector needs weeks of scam reports): its evidence is five
/// real lookups of the agent, as a run's evidence is.
fn add_attribution_run(store: &dyn Store, agent: &str) {
    let lookups = first_customer_of(store, agent, 5);
    let last = store.read_events(store.last_seq().unwrap() - 1, 1).unwrap();
    let ts = custos_core::EventTime::from_micros(last[0].ts_micros);
    let json = serde_json::json!({
        "alert_id": "leak-week", "ts": ts.to_string(), "detector": "leak_attribution",
        "entity": {"kind": "agent", "id": agent}, "severity": "high", "score": 0.97,
        "reasons": [{"code": "victims_in_common", "detail": format!("agent {agent} viewed 5 of 9 reporting victims")}],
        "evidence": lookups.iter().map(|(e, _)| e.clone()).collect::<Vec<_>>(),
        "response": ["require_approval", "notify_security"],
        "ranking": [
            {"agent_id": agent, "observed": 5.0, "expected": 0.4, "p_value": 1e-7},
            {"agent_id": "a-0002", "observed": 1.0, "expected": 0.8, "p_value": 0.5}
        ]
    });
    let cursor = store.cursor("pipeline").unwrap();
    store
        .append_alerts(
            &[NewAlert {
                alert_id: "leak-week".to_owned(),
                ts_micros: ts.as_micros(),
                detector: "leak_attribution".to_owned(),
                entity_kind: "agent".to_owned(),
                entity_id: agent.to_owned(),
                severity: custos_store::Severity::High,
                json: json.to_string(),
            }],
            "pipeline",
            cursor,
        )
        .unwrap();
}

/// A console server on 127.0.0.1 (random port); returns its base URL.
async fn serve(state: ConsoleState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, custos_console::router(state)).await;
    });
    format!("http://{address}")
}

/// A tiny HTTP/1.1 client over a plain socket (no client crate needed):
/// returns status, headers and body.
async fn http(
    base: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let body = form.unwrap_or("");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(cookie) = cookie {
        request.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        request.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_owned(), body.to_owned())
}

fn set_cookie_value(head: &str, name: &str) -> Option<String> {
    head.lines()
        .filter_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

fn hidden_csrf(body: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = body.find(marker).unwrap() + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

fn base32_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0_u32, 0);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => continue,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

fn secret_of(uri: &str) -> String {
    uri.split("secret=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned()
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Signs in over the socket; returns the session cookie.
async fn sign_in(base: &str, name: &str, secret: &[u8]) -> String {
    let (status, head, body) = http(base, "GET", "/console/signin", None, None).await;
    assert_eq!(status, 200);
    let pre = set_cookie_value(&head, "custos_console_pre").unwrap();
    let code = custos_console::totp_code_at(secret, now_secs());
    let form = format!(
        "csrf={}&name={name}&password={}&code={code}",
        hidden_csrf(&body),
        PASSWORD.replace(' ', "+")
    );
    let (status, head, _) = http(base, "POST", "/console/signin", Some(&pre), Some(&form)).await;
    assert_eq!(status, 303, "{head}");
    set_cookie_value(&head, "custos_console").unwrap()
}

/// Server time of one GET, median of `runs` (the socket round trip on
/// loopback is included, so this is an upper bound of server time).
async fn time_page(base: &str, path: &str, cookie: &str, runs: usize) -> (u16, Duration, usize) {
    let mut times = Vec::with_capacity(runs);
    let mut last = (0, 0);
    for _ in 0..runs {
        let started = Instant::now();
        let (status, _, body) = http(base, "GET", path, Some(cookie), None).await;
        times.push(started.elapsed());
        last = (status, body.len());
    }
    times.sort();
    (last.0, times[times.len() / 2], last.1)
}

/// The pages an analyst visits, with real ids from the seeded store.
fn page_set(state: &ConsoleState) -> Vec<(String, String)> {
    let store = state.store();
    let page = store
        .query_alerts(&custos_store::AlertQuery {
            detector: Some("agent_behavior".to_owned()),
            min_severity: Some(custos_store::Severity::Critical),
            limit: 1,
            ..Default::default()
        })
        .unwrap();
    let alert = page
        .alerts
        .first()
        .expect("a critical agent_behavior alert");
    let json: serde_json::Value = serde_json::from_str(&alert.json).unwrap();
    let agent = json["entity"]["id"].as_str().unwrap().to_owned();
    // A customer the agent looked up (they have a directory record).
    let customer = first_customer_of(store.as_ref(), &agent, 1)
        .into_iter()
        .next()
        .expect("the agent looked a customer up")
        .1;
    vec![
        ("overview".into(), "/console/".into()),
        (
            "alert queue (open, newest)".into(),
            "/console/alerts".into(),
        ),
        (
            "alert queue (all, oldest, page 3)".into(),
            "/console/alerts?status=all&sort=oldest&page=3".into(),
        ),
        (
            "alert queue (detector + severity)".into(),
            "/console/alerts?detector=agent_behavior&severity=high&status=all".into(),
        ),
        (
            "alert queue (all, page 200)".into(),
            "/console/alerts?status=all&page=200".into(),
        ),
        (
            "alert queue (entity filter)".into(),
            format!("/console/alerts?status=all&entity={agent}"),
        ),
        (
            "alert detail".into(),
            format!("/console/alerts/{}", alert.alert_id),
        ),
        ("agent page".into(), format!("/console/agents/{agent}")),
        (
            "customer page".into(),
            format!("/console/customers/{customer}"),
        ),
        ("leak attribution".into(), "/console/attribution".into()),
        ("approvals inbox".into(), "/console/approvals".into()),
        ("audit log (newest page)".into(), "/console/audit".into()),
        (
            "audit search (5,000 newest)".into(),
            "/console/audit?q=nobody-at-all".into(),
        ),
        ("audit entry".into(), "/console/audit/entries/0".into()),
        (
            "audit proof (JSON)".into(),
            "/console/audit/entries/0/proof".into(),
        ),
    ]
}

async fn measure(
    base: &str,
    state: &ConsoleState,
    cookie: &str,
) -> Vec<(String, u16, Duration, usize)> {
    let mut rows = Vec::new();
    for (name, path) in page_set(state) {
        let (status, median, bytes) = time_page(base, &path, cookie, 5).await;
        rows.push((name, status, median, bytes));
    }
    rows
}

fn report(
    title: &str,
    seeded: &Seeded,
    index_time: Duration,
    rows: &[(String, u16, Duration, usize)],
) {
    println!(
        "{title}: {} events, {} alerts {:?}, console index built in {:.1} s",
        seeded.events,
        seeded.alerts,
        seeded.by_detector,
        index_time.as_secs_f64()
    );
    for (name, status, median, bytes) in rows {
        println!(
            "  {name:<36} {status}  median {:>7.1} ms  {bytes} bytes",
            median.as_secs_f64() * 1000.0
        );
    }
}

fn settings() -> ConsoleSettings {
    ConsoleSettings {
        index_thread: true,
        index_poll: Duration::from_millis(100),
        ..ConsoleSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_on_a_real_port() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("store")).unwrap());
    let config = SimConfig {
        days: 7,
        agents: 60,
        customers: 3_000,
        ..SimConfig::default()
    };
    let seeded = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || seed(store.as_ref(), config))
            .await
            .unwrap()
    };
    assert!(seeded.alerts > 0, "the simulator's attacks raise alerts");
    let state =
        ConsoleState::open_with(&dir.path().join("console"), store.clone(), settings()).unwrap();
    let started = Instant::now();
    {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.sync_index().unwrap())
            .await
            .unwrap();
    }
    let index_time = started.elapsed();
    let lead = state.create_user("lee", Role::Lead, PASSWORD).unwrap();
    // Times the pages as a second lead (the approvals inbox is for leads),
    // so the browser's sign-in as lee uses a TOTP step of its own.
    let timing_lead = state.create_user("lia", Role::Lead, PASSWORD).unwrap();
    // Approvals: `lee` and `kim` are support leads in the directory; kim
    // asks to reveal, lee approves in the browser (a second person); lee's
    // own request has no button.
    add_leads(store.as_ref(), &["lee", "kim"]);
    // lee views customer data in the browser as agent `lee`, on their ticket.
    add_data_customer(store.as_ref());
    state.set_agent_id("lee", Some("lee")).unwrap();
    if !seeded.by_detector.contains_key("leak_attribution") {
        let critical = &page_set(&state)[7].1;
        let agent = critical.trim_start_matches("/console/agents/").to_owned();
        add_attribution_run(store.as_ref(), &agent);
    }
    let services = connect_services(dir.path(), &state, 2_000);
    let kims = services.request("kim", "verify identity for a KYC review");
    let _lees = services.request("lee", "confirm the address for a card delivery");
    let step_up_secret = services.enrol("lee");
    services.log.lock().unwrap().checkpoint().unwrap();
    {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.sync_index().unwrap())
            .await
            .unwrap();
    }
    let base = serve(state.clone()).await;
    // The browser uses `localhost` (a secure context, and the passkeys'
    // relying party id: an IP address cannot be one).
    let port = base.rsplit(':').next().unwrap().to_owned();
    let browser_base = format!("http://localhost:{port}");
    let _ = state
        .clone()
        .with_relying_party("localhost", vec![browser_base.clone()])
        .unwrap();

    // Headers and sign-in over a real socket.
    let (status, head, _) = http(&base, "GET", "/console/alerts", None, None).await;
    assert_eq!(status, 303);
    assert!(
        head.to_ascii_lowercase()
            .contains("location: /console/signin")
    );
    assert!(head.to_ascii_lowercase().contains("x-frame-options: deny"));
    let cookie = sign_in(
        &base,
        "lia",
        &base32_decode(&secret_of(timing_lead.expose())),
    )
    .await;
    let rows = measure(&base, &state, &cookie).await;
    report(
        "a week, 60 agents (debug build unless --release)",
        &seeded,
        index_time,
        &rows,
    );
    for (name, status, _, _) in &rows {
        assert_eq!(*status, 200, "{name}");
    }

    let ran = run_browser_test(
        &browser_base,
        &secret_of(lead.expose()),
        &step_up_secret,
        store.as_ref(),
    )
    .await;
    if ran {
        // The browser approved kim's request as lee, through custos-access.
        let grant = services.approvals.grant(&kims).unwrap();
        assert_eq!(grant.decided_by.unwrap().as_str(), "lee");
        assert!(grant.expires_at.is_some(), "approved grants get an expiry");
        let log = services.log.lock().unwrap();
        // The approval, then the data view's broker decision, by lee.
        let last = log.entries(log.size() - 2..log.size()).unwrap();
        assert_eq!(last[0].kind, "grant_approved");
        assert_eq!(last[0].actor, "lee");
        assert_eq!(last[1].kind, "access_decision");
        assert_eq!(last[1].actor, "lee");
        // The browser added a passkey (lee's WebAuthn user handle was made),
        // signed in with it, and removed it again.
        let db = rusqlite::Connection::open(dir.path().join("console").join("console.db")).unwrap();
        let handle: Option<Vec<u8>> = db
            .query_row(
                "SELECT webauthn_user_handle FROM users WHERE name = 'lee'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(handle.map(|h| h.len()), Some(16));
        let left: i64 = db
            .query_row("SELECT count(*) FROM passkeys", [], |row| row.get(0))
            .unwrap();
        assert_eq!(left, 0, "the browser removed its passkey");
    }
}

/// Runs `e2e/console.spec.mjs` when its tools are there; `false` when skipped.
async fn run_browser_test(
    base: &str,
    secret: &str,
    step_up_secret: &str,
    store: &dyn Store,
) -> bool {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chromium =
        std::env::var("CUSTOS_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let node_ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let missing = if !node_ok {
        Some("node is not installed (run crates/custos-console/e2e/install.sh)".to_owned())
    } else if !crate_dir.join("e2e/node_modules/playwright-core").is_dir() {
        Some(
            "playwright-core is not installed (run crates/custos-console/e2e/install.sh)"
                .to_owned(),
        )
    } else if !Path::new(&chromium).exists() {
        Some(format!(
            "`{chromium}` is missing (run crates/custos-console/e2e/install.sh)"
        ))
    } else {
        None
    };
    if let Some(reason) = missing {
        println!("skipped: browser test: {reason}");
        return false;
    }
    let before = store.last_seq().unwrap();
    let output = {
        let base = base.to_owned();
        let secret = secret.to_owned();
        let step_up_secret = step_up_secret.to_owned();
        let crate_dir = crate_dir.to_owned();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("node")
                .arg(crate_dir.join("e2e/console.spec.mjs"))
                .current_dir(crate_dir.join("e2e"))
                .env("CONSOLE_URL", &base)
                .env("CONSOLE_USER", "lee")
                .env("CONSOLE_PASSWORD", PASSWORD)
                .env("CONSOLE_TOTP_SECRET", &secret)
                .env("CONSOLE_STEPUP_SECRET", &step_up_secret)
                .env("CONSOLE_DATA_CUSTOMER", DATA_CUSTOMER)
                .env("CONSOLE_DATA_TICKET", DATA_TICKET)
                .env("CHROMIUM", &chromium)
                .env("SCREENSHOT_DIR", crate_dir.join("screenshots"))
                .output()
                .unwrap()
        })
        .await
        .unwrap()
    };
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the browser test failed");
    // The release the browser made is in the event log, by the signed-in user.
    let appended = store.read_events(before, 100).unwrap();
    let release = appended
        .iter()
        .find(|e| e.event_type == "countermeasure_release")
        .expect("the browser's release was appended");
    let raw: serde_json::Value = serde_json::from_str(&release.raw).unwrap();
    assert_eq!(raw["released_by"], "lee");
    assert_eq!(raw["action"], "suspend_access");
    // The browser's data view is an `agent_access` event of agent lee on
    // the ticket, with the field names shown and no value.
    let access = appended
        .iter()
        .find(|e| e.event_type == "agent_access" && e.raw.contains(DATA_CUSTOMER))
        .expect("the browser's data view was recorded");
    let raw: serde_json::Value = serde_json::from_str(&access.raw).unwrap();
    assert_eq!(raw["agent_id"], "lee");
    assert_eq!(raw["ticket_id"], DATA_TICKET);
    assert_eq!(raw["fields"], serde_json::json!(["name", "email"]));
    assert!(!access.raw.contains("jane.doe@example.com") && !access.raw.contains("Jane"));
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn month_of_simulator_data_pages_under_200ms() {
    if std::env::var_os("CUSTOS_CONSOLE_MONTH").is_none() {
        println!(
            "skipped: set CUSTOS_CONSOLE_MONTH=1 to seed a simulated month (about a million events) and time every page"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("store")).unwrap());
    let started = Instant::now();
    let seeded = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || seed(store.as_ref(), SimConfig::default()))
            .await
            .unwrap()
    };
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    // Only the agent detectors run here; `serve` also runs `action_risk` and
    // `conversation`, which raise many more (customer) alerts. Add that many,
    // with real evidence ids, so the queue is timed at a realistic size.
    let seeded = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || add_customer_alerts(store.as_ref(), seeded, 30_000))
            .await
            .unwrap()
    };
    let state =
        ConsoleState::open_with(&dir.path().join("console"), store.clone(), settings()).unwrap();
    let started = Instant::now();
    {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.sync_index().unwrap())
            .await
            .unwrap();
    }
    let index_time = started.elapsed();
    let uri = state.create_user("lee", Role::Lead, PASSWORD).unwrap();
    add_leads(store.as_ref(), &["lee", "kim"]);
    let services = connect_services(dir.path(), &state, 100_000);
    for n in 0..50 {
        services.request(
            if n % 2 == 0 { "kim" } else { "a-0001" },
            "verify identity for a KYC review",
        );
    }
    services.log.lock().unwrap().checkpoint().unwrap();
    {
        let state = state.clone();
        tokio::task::spawn_blocking(move || state.sync_index().unwrap())
            .await
            .unwrap();
    }
    let base = serve(state.clone()).await;
    let cookie = sign_in(&base, "lee", &base32_decode(&secret_of(uri.expose()))).await;
    let rows = measure(&base, &state, &cookie).await;
    report("a month, default floor", &seeded, index_time, &rows);
    for (name, status, median, _) in &rows {
        assert_eq!(*status, 200, "{name}");
        assert!(*median < Duration::from_millis(200), "{name}: {median:?}");
    }
}
