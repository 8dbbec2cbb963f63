//! The customer page: the protection in force on a customer (freeze,
//! security-settings lock, revoked API keys) and the alert that applied it,
//! the customer's recent actions with custos's decision and reasons
//! (`action_risk` alerts, the action event masked), and the conversations
//! in which custos intercepted something (`conversation` alerts about the
//! customer).
//!
//! **Architecture Invariant:** no customer PII is shown: the customer is
//! their id, as in alerts, and events go through [`crate::mask`]. Revealing
//! a field is the access broker's job (custos-access), not this page's.

use crate::pages::{PageError, PageResult, event_at, page, require_cases, session};
use crate::queries::{self, AlertRow, url_encode};
use crate::views::{self, Nav, layout};
use crate::{ConsoleState, MOUNT, mask};
use axum::http::HeaderMap;
use custos_store::{AlertQuery, StoredEvent};
use maud::{Markup, html};
use serde::Deserialize;

/// Responses that put a customer under lasting protection (the others are
/// per-action decisions: `step_up`, `hold`, `deny`, `intercept`).
pub const PROTECTIONS: [&str; 3] = ["freeze", "lock_security_settings", "revoke_api_keys"];

/// Alerts of the customer the page reads from the store at most.
const CUSTOMER_ALERTS: usize = 60;

#[derive(Deserialize)]
struct AlertBody {
    #[serde(default)]
    reasons: Vec<Reason>,
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default)]
    response: Vec<String>,
}

#[derive(Deserialize)]
struct Reason {
    code: String,
    #[serde(default)]
    detail: String,
}

/// An alert of the customer with its body and first evidence event.
struct Decision {
    row: AlertRow,
    body: Option<AlertBody>,
    event: Option<StoredEvent>,
}

fn read_body(state: &ConsoleState, row: &AlertRow) -> Result<Option<AlertBody>, PageError> {
    let page = state.store().query_alerts(&AlertQuery {
        after_seq: Some(row.seq.saturating_sub(1)),
        limit: 1,
        ..AlertQuery::default()
    })?;
    Ok(page
        .alerts
        .first()
        .filter(|a| a.alert_id == row.alert_id)
        .and_then(|a| serde_json::from_str(&a.json).ok()))
}

pub fn customer(state: &ConsoleState, headers: &HeaderMap, customer_id: &str) -> PageResult {
    let session = session(state, headers)?;
    require_cases(&session)?;
    let (rows, in_force, releases) = {
        let conn = state.db();
        (
            queries::entity_alerts(&conn, "customer", customer_id, CUSTOMER_ALERTS)?,
            queries::in_force(&conn, "customer", Some(customer_id))?,
            queries::releases(&conn, "customer", customer_id)?,
        )
    };
    let record = state
        .store()
        .directory_current(custos_store::DirectoryKind::Customer, customer_id)?;
    if record.is_none() && rows.is_empty() {
        return Err(PageError::NotFound(format!("no customer `{customer_id}`")));
    }
    let mut decisions = Vec::with_capacity(rows.len());
    for row in rows {
        let body = read_body(state, &row)?;
        let first_evidence = body.as_ref().and_then(|b| b.evidence.first().cloned());
        let event = match first_evidence {
            Some(id) => {
                let seq = {
                    let conn = state.db();
                    queries::event_seqs(&conn, &id, 1)?.into_iter().next()
                };
                match seq {
                    Some(seq) => event_at(state, seq)?,
                    None => None,
                }
            }
            None => None,
        };
        decisions.push(Decision { row, body, event });
    }
    let protections: Vec<&queries::InForce> = in_force
        .iter()
        .filter(|item| PROTECTIONS.contains(&item.action.as_str()))
        .collect();
    let (conversations, actions): (Vec<&Decision>, Vec<&Decision>) = decisions
        .iter()
        .partition(|d| d.row.detector == "conversation");
    let reasons_of = |alert_id: &str| -> Vec<String> {
        decisions
            .iter()
            .find(|d| d.row.alert_id == alert_id)
            .and_then(|d| d.body.as_ref())
            .map(|b| b.reasons.iter().map(|r| r.code.clone()).collect())
            .unwrap_or_default()
    };
    let body = html! {
        h1 { "Customer " (customer_id) }
        section aria-labelledby="protection-heading" {
            h2 id="protection-heading" { "Protection" }
            @if protections.is_empty() {
                p id="protection-state" { "Normal: no freeze, settings lock or key revocation in force." }
            } @else {
                p id="protection-state" class="notice" { "Elevated protection: " (protections.len()) " in force." }
                ul class="in-force" {
                    @for item in &protections {
                        li {
                            span class="badge cm" { (item.action) } " since " (views::time(item.since_micros))
                            @if !item.alert_id.is_empty() {
                                " — why: alert " a href={ (MOUNT) "/alerts/" (url_encode(&item.alert_id)) } { (item.alert_id) }
                                @let reasons = reasons_of(&item.alert_id);
                                @if !reasons.is_empty() {
                                    " (" @for (n, code) in reasons.iter().enumerate() { @if n > 0 { ", " } code { (code) } } ")"
                                }
                            }
                        }
                    }
                }
            }
            @if !releases.is_empty() {
                h3 { "Lifted" }
                ul {
                    @for release in &releases {
                        li { (views::time(release.ts_micros)) " — " (release.released_by) " lifted " span class="badge cm" { (release.action) } ": " (release.reason) }
                    }
                }
            }
            @if let Some(record) = &record {
                dl class="facts" {
                    dt { "Directory record since" } dd { (views::time(record.ts_micros)) }
                    @for field in mask::shown_fields(&record.raw) {
                        dt { (field.name) } dd { (field.value) }
                    }
                }
            }
        }
        section aria-labelledby="actions-heading" {
            h2 id="actions-heading" { "Recent actions and decisions" }
            @if actions.is_empty() { p { "No decision other than allow." } } @else {
                ol class="timeline" {
                    @for decision in &actions { li { (decision_item(decision)) } }
                }
            }
        }
        section aria-labelledby="conversations-heading" {
            h2 id="conversations-heading" { "Conversations with interceptions" }
            @if conversations.is_empty() { p { "None." } } @else {
                ol class="timeline" {
                    @for decision in &conversations { li { (decision_item(decision)) } }
                }
            }
        }
        p class="help" { "Personal data stays masked here; revealing a field goes through the access broker with a ticket, a purpose and, for sensitive fields, a second person's approval." }
    };
    Ok(page(layout(
        &format!("Customer {customer_id}"),
        Some(&session),
        Nav::None,
        body,
    )))
}

fn decision_item(decision: &Decision) -> Markup {
    let row = &decision.row;
    html! {
        div class="event-head" {
            (views::time(row.ts_micros)) " "
            (views::severity(row.severity)) " "
            a href={ (MOUNT) "/alerts/" (url_encode(&row.alert_id)) } { (row.alert_id) } " "
            span class="muted" { (row.detector) }
        }
        @if let Some(body) = &decision.body {
            p {
                "Decision: "
                @if body.response.is_empty() { "none recorded" }
                @for action in &body.response { span class="badge cm" { (action) } " " }
            }
            ul class="reasons" {
                @for reason in &body.reasons { li { code { (reason.code) } " — " (reason.detail) } }
            }
        }
        @if let Some(event) = &decision.event {
            dl class="fields" {
                dt { "event" } dd { span class="badge type" { (event.event_type) } " " code { (event.event_id) } }
                @for field in mask::shown_fields(&event.raw) {
                    dt { (field.name) } dd { (field.value) }
                }
            }
        }
    }
}
