//! The customer page: the protection in force on a customer (freeze,
//! security-settings lock with its pending changes, revoked API keys,
//! allow-list, the marks behind elevated protection) read live from the
//! action-risk engine, or derived from alerts without it, with the alert
//! that applied each; the customer's recent actions with custos's decision
//! and reasons (`action_risk` alerts, the action event masked); the
//! conversations in which custos intercepted something; and "View customer
//! data", which asks the access broker for fields as the signed-in user's
//! linked agent.
//!
//! **Architecture Invariant:** customer PII reaches this page only as the
//! access broker served it (`AccessService::access_from`): masked or
//! revealed values, never anything else, on a page that carries a
//! watermark (the broker's token for a revealed view, else one made here of
//! user, agent, time, ticket and decision id). The broker's `agent_access`
//! event is in the store and its record in the audit log before the page is
//! rendered. Values are HTML-escaped by maud and never logged; the answer
//! is `Cache-Control: no-store` like every console page. Everything else
//! on the page is ids and masked events ([`crate::mask`]).

use crate::error::ConsoleError;
use crate::pages::{
    Fields, PageError, PageResult, event_at, page, post_session, require_cases, session,
};
use crate::queries::{self, AlertRow, url_encode};
use crate::services::append_audit;
use crate::session::Session;
use crate::views::{self, Nav, layout};
use crate::{ConsoleState, MOUNT, mask};
use axum::http::HeaderMap;
use custos_access::{AccessOutcome, MAX_PURPOSE_CHARS, Origin};
use custos_broker::{AccessRequest, Obligation, Outcome};
use custos_core::EventTime;
use custos_core::event::{AccessAction, FieldClass};
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_risk::protection::PendingKind;
use custos_risk::{AccountProtection, RiskHandle};
use custos_store::{AlertQuery, NewEvent, StoredEvent};
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

/// What the page shows: everything read for one customer.
struct Loaded {
    customer_id: String,
    record: Option<custos_store::DirectoryRecord>,
    in_force: Vec<queries::InForce>,
    releases: Vec<queries::ReleaseRow>,
    decisions: Vec<Decision>,
}

fn load(state: &ConsoleState, customer_id: &str) -> Result<Loaded, PageError> {
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
    Ok(Loaded {
        customer_id: customer_id.to_owned(),
        record,
        in_force,
        releases,
        decisions,
    })
}

pub fn customer(state: &ConsoleState, headers: &HeaderMap, customer_id: &str) -> PageResult {
    let session = session(state, headers)?;
    require_cases(&session)?;
    let loaded = load(state, customer_id)?;
    Ok(page(render(state, &session, &loaded, None)))
}

// ---------------------------------------------------------------- data view

/// A served view of customer data, as the page shows it.
struct Served {
    agent: AgentId,
    ticket: Option<TicketId>,
    outcome: AccessOutcome,
    /// The text of the watermark the page carries (the broker's token for a
    /// revealed view, else made here).
    watermark: String,
}

/// The console user's linked custos agent, or why there is none.
fn linked_agent(state: &ConsoleState, session: &Session) -> Result<AgentId, PageError> {
    let linked = crate::users::agent_id_of(&state.db(), session.user_id)?;
    linked
        .and_then(|id| AgentId::parse(id).ok())
        .ok_or_else(|| {
            PageError::Forbidden(
                "your console user is not linked to an agent; ask an admin to link it before viewing customer data"
                    .to_owned(),
            )
        })
}

/// The field classes the form offers, in the broker's vocabulary.
fn requested_fields(form: &Fields) -> Vec<FieldClass> {
    FieldClass::ALL
        .iter()
        .copied()
        .filter(|field| form.contains_key(&format!("field.{}", field.as_str())))
        .collect()
}

/// POST `customers/{id}/view`: asks the access broker for the checked
/// fields as the user's linked agent, records the decision (event store,
/// audit log) and renders the customer page with what was served.
pub fn view_data(
    state: &ConsoleState,
    headers: &HeaderMap,
    customer_id: &str,
    form: &Fields,
) -> PageResult {
    let session = post_session(state, headers, form)?;
    require_cases(&session)?;
    let back = format!("{MOUNT}/customers/{}", url_encode(customer_id));
    let services = state.services();
    let Some(access) = services.access.clone() else {
        return Err(PageError::BadRequest(
            "the access broker is not connected to this console".to_owned(),
            Some(session),
            Some(back),
        ));
    };
    // Nothing is requested for a user who is no agent.
    let agent = linked_agent(state, &session)?;
    let loaded = load(state, customer_id)?;
    let bad = |message: &str| {
        PageError::BadRequest(
            message.to_owned(),
            Some(session.clone()),
            Some(back.clone()),
        )
    };
    let customer = CustomerId::parse(customer_id.to_owned())
        .map_err(|_| bad("the customer id is not valid"))?;
    let ticket = match form
        .get("ticket")
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
    {
        Some(text) => {
            Some(TicketId::parse(text.to_owned()).map_err(|_| bad("the ticket id is not valid"))?)
        }
        None => None,
    };
    let fields = requested_fields(form);
    if fields.is_empty() {
        return Err(bad("choose at least one field to see"));
    }
    let purpose = form.get("purpose").map_or("", |p| p.trim());
    if purpose.chars().count() < 3
        || purpose.chars().count() > MAX_PURPOSE_CHARS
        || purpose.chars().any(char::is_control)
    {
        return Err(bad(&format!(
            "give a purpose of 3 to {MAX_PURPOSE_CHARS} characters"
        )));
    }
    let action = match form.get("action").map(String::as_str) {
        Some("reveal") => AccessAction::Reveal,
        _ => AccessAction::View,
    };
    let now = EventTime::from_unix_secs(state.now());
    // A reveal of a sensitive field needs the agent's fresh step-up: a code
    // from their custos step-up authenticator, verified and audited here as
    // the API's `/v1/step-up/verify` does, before the broker is asked.
    let code = form.get("code").map_or("", |c| c.trim());
    if action == AccessAction::Reveal && !code.is_empty() {
        let Some(step_ups) = &services.step_ups else {
            return Err(bad("step-up is not connected to this console"));
        };
        match step_ups.verify(&agent, code, now) {
            Ok(verified) => {
                append_audit(&services, &verified.audit)?;
            }
            Err(error) => {
                append_audit(
                    &services,
                    &custos_access::StepUps::refusal_record("verify", &agent, &error, now),
                )?;
                return Err(crate::grants_pages::step_up_refusal(&error));
            }
        }
    }
    let request = AccessRequest {
        agent: agent.clone(),
        customer,
        ticket: ticket.clone(),
        fields,
        purpose: purpose.to_owned(),
        action,
    };
    let outcome = access
        .access_from(&request, &Origin::default(), now)
        .map_err(|e| PageError::Internal(ConsoleError::Service(format!("access broker: {e}"))))?;
    if let Some(error) = &outcome.internal_error {
        tracing::warn!(decision = %outcome.id, %error, "console data view failed closed");
    }
    // Who saw what is recorded before anything is shown: the event for the
    // detectors and the audit pump, the broker's record for the audit log.
    record_decision(state, &outcome)?;
    append_audit(&services, &outcome.audit)?;
    let shown = outcome
        .values
        .iter()
        .filter(|v| v.outcome != Outcome::Hidden)
        .count();
    // Ids and counts only: never a value.
    tracing::info!(
        user = session.user_name,
        agent = agent.as_str(),
        decision = %outcome.id,
        shown,
        requested = outcome.values.len(),
        "console served a customer data view"
    );
    let watermark = watermark_text(&session, &agent, ticket.as_ref(), &outcome, now);
    let served = Served {
        agent,
        ticket,
        outcome,
        watermark,
    };
    Ok(page(render(state, &session, &loaded, Some(&served))))
}

/// Appends the broker's `agent_access` event to the store, as the HTTP API
/// does through its ingest path.
fn record_decision(state: &ConsoleState, outcome: &AccessOutcome) -> Result<(), PageError> {
    let event = custos_core::parse::parse_event(&outcome.event, || outcome.id.clone())
        .map_err(|r| ConsoleError::Service(format!("broker event does not parse: {}", r.reason)))?;
    let new_event = NewEvent {
        event_id: event.id.as_str().to_owned(),
        event_type: event.body.type_name().to_owned(),
        ts_micros: event.ts.as_micros(),
        raw: outcome.event.clone(),
        directory: None,
    };
    state
        .store()
        .append_events(std::slice::from_ref(&new_event))?;
    Ok(())
}

/// The watermark of a served view: who (console user and agent), when,
/// which ticket and decision, and the broker's per-agent token when it
/// revealed something.
fn watermark_text(
    session: &Session,
    agent: &AgentId,
    ticket: Option<&TicketId>,
    outcome: &AccessOutcome,
    now: EventTime,
) -> String {
    let ticket = ticket.map_or("no ticket", TicketId::as_str);
    let base = format!(
        "{} as {} · {} · {} · {}",
        session.user_name,
        agent.as_str(),
        now,
        ticket,
        outcome.id
    );
    match &outcome.watermark {
        Some(token) => format!("{token} · {base}"),
        None => base,
    }
}

fn outcome_label(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Hidden => "hidden",
        Outcome::Masked => "masked",
        Outcome::Revealed => "revealed",
    }
}

fn obligation_label(obligation: &Obligation) -> &'static str {
    match obligation {
        Obligation::ApprovalNeeded => {
            "revealing it needs a reveal grant approved by a second person (POST /v1/grants with this ticket and purpose; leads decide in Approvals)"
        }
        Obligation::StepUpNeeded => {
            "revealing it needs a fresh step-up with your custos step-up authenticator"
        }
        Obligation::Watermark { .. } => "the revealed view is watermarked",
    }
}

fn served_view(served: &Served) -> Markup {
    let outcome = &served.outcome;
    let decisions = &outcome.decision.fields;
    let any_value = outcome.values.iter().any(|v| v.value.is_some());
    html! {
        section aria-labelledby="served-heading" class="served" id="served" {
            h2 id="served-heading" { "Customer data served" }
            p {
                "Decision " code { (outcome.id) } " for agent " code { (served.agent.as_str()) }
                @if let Some(ticket) = &served.ticket { " on ticket " code { (ticket.as_str()) } }
                @else { " without a ticket" }
                ". It is recorded as an " code { "agent_access" } " event and in the audit log."
            }
            @if outcome.decision.denied {
                p class="notice error" role="alert" { "Nothing may be shown." }
            }
            @if !outcome.decision.reasons.is_empty() {
                ul class="reasons" {
                    @for reason in &outcome.decision.reasons { li { code { (reason.code) } " — " (reason.detail) } }
                }
            }
            div class="table-wrap" {
                table class="served-fields" {
                    caption class="visually-hidden" { "Fields requested and what the broker served" }
                    thead { tr {
                        th scope="col" { "Field" } th scope="col" { "Outcome" }
                        th scope="col" { "Value" } th scope="col" { "Why" }
                    } }
                    tbody {
                        @for value in &outcome.values {
                            @let decision = decisions.iter().find(|d| d.field == value.field);
                            tr {
                                th scope="row" { (value.field.as_str()) }
                                td { span class={ "badge outcome-" (outcome_label(value.outcome)) } { (outcome_label(value.outcome)) } }
                                td class="value" {
                                    @match (&value.value, value.outcome) {
                                        (Some(shown), _) => code class="pii" { (shown.expose()) },
                                        (None, Outcome::Hidden) => span class="muted" { "—" },
                                        (None, _) => span class="muted" { "not kept in the vault: the account systems serve it" },
                                    }
                                }
                                td {
                                    @if let Some(decision) = decision {
                                        ul class="reasons" {
                                            @for reason in &decision.reasons { li { code { (reason.code) } " — " (reason.detail) } }
                                            @for obligation in &decision.obligations {
                                                li class="obligation" { (obligation_label(obligation)) }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if any_value {
                p class="watermark-band" id="watermark" { "Watermark: " (served.watermark) }
                div class="watermark" aria-hidden="true" {
                    @for _ in 0..WATERMARK_REPEATS { span { (served.watermark) } }
                }
            }
        }
    }
}

/// Copies of the watermark the overlay tiles over the page.
const WATERMARK_REPEATS: usize = 24;

fn view_form(state: &ConsoleState, session: &Session, customer_id: &str) -> Markup {
    let services = state.services();
    let linked = crate::users::agent_id_of(&state.db(), session.user_id)
        .ok()
        .flatten();
    // The broker's own sensitive classes (its configuration, not the
    // contract's default list).
    let sensitive: Vec<FieldClass> = services.access.as_ref().map_or_else(Vec::new, |access| {
        let broker = access.broker().current();
        FieldClass::ALL
            .iter()
            .copied()
            .filter(|field| broker.is_sensitive(*field))
            .collect()
    });
    html! {
        section aria-labelledby="view-heading" {
            h2 id="view-heading" { "View customer data" }
            @if services.access.is_none() {
                p class="notice" { "The access broker is not connected to this console, so no customer data can be viewed here." }
            } @else if linked.is_none() {
                p class="notice" id="not-linked" { "Your console user is not linked to an agent; ask an admin. Customer data is only requested as an agent." }
            } @else {
                form method="post" action={ (MOUNT) "/customers/" (url_encode(customer_id)) "/view" } class="stack view-data" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    p class="help" {
                        "Asked of the access broker as agent " code { (linked.as_deref().unwrap_or_default()) }
                        ": it decides field by field (hidden, masked or revealed), records the decision, and the page is watermarked."
                    }
                    label for="view-ticket" { "Ticket id (optional)" }
                    input id="view-ticket" name="ticket" type="text" maxlength="128" autocomplete="off";
                    fieldset {
                        legend { "Fields" }
                        @for field in FieldClass::ALL {
                            label class="check" {
                                input type="checkbox" name={ "field." (field.as_str()) } value="1";
                                " " (field.as_str())
                                @if sensitive.contains(field) { " " span class="badge sensitive" { "sensitive" } }
                            }
                        }
                    }
                    label for="view-purpose" { "Purpose (recorded)" }
                    input id="view-purpose" name="purpose" type="text" required minlength="3" maxlength=(MAX_PURPOSE_CHARS) autocomplete="off";
                    fieldset {
                        legend { "How" }
                        label class="check" { input type="radio" name="action" value="view" checked; " view (masked)" }
                        label class="check" { input type="radio" name="action" value="reveal"; " reveal (plaintext where the policies allow)" }
                    }
                    label for="view-code" { "Step-up code (to reveal a sensitive field)" }
                    input id="view-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" maxlength="7" aria-describedby="view-code-help";
                    p id="view-code-help" class="help" {
                        "Six digits from your custos step-up authenticator. A field marked sensitive "
                        "is revealed only with a fresh step-up and a reveal grant another person approved."
                    }
                    button type="submit" { "View" }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- protection

/// A customer's protection as the engine holds it now.
struct LiveProtection {
    account: Option<AccountProtection>,
    now: EventTime,
    /// Marks on the customer the engine's decisions see now: the signal
    /// code's mark name and the engine's sentence (code, source, age).
    marks: Vec<(String, String)>,
}

/// Reads the engine: the account's protection, and the marks the pipeline
/// holds on the customer now (what `action_risk` decides with).
fn live_protection(handle: &RiskHandle, customer: &CustomerId, now: EventTime) -> LiveProtection {
    let account = handle.with(|risk| risk.engine().protection(customer).cloned());
    let marks = handle
        .marks_of(customer, now)
        .into_iter()
        .map(|mark| {
            let detail = format!("set by {} at {}", mark.source, mark.since);
            (mark.code, detail)
        })
        .collect();
    LiveProtection {
        account,
        now,
        marks,
    }
}

fn pending_label(kind: &PendingKind) -> String {
    match kind {
        PendingKind::Unfreeze => "unfreeze".to_owned(),
        PendingKind::Unlock => "unlock of the security settings".to_owned(),
        PendingKind::SecurityChange { setting } => format!("change of `{setting}`"),
        // The address itself is the customer's: not shown.
        PendingKind::AllowListEntry { .. } => "a new allow-list address".to_owned(),
    }
}

/// The detector that sets a mark, to find the alert behind it.
fn mark_detector(code: &str) -> Option<&'static str> {
    match code {
        "scam_conversation" => Some("conversation"),
        "read_by_suspect_agent" => Some("agent_behavior"),
        "leak_victim" => Some("leak_attribution"),
        _ => None,
    }
}

fn alert_link(alert_id: &str) -> Markup {
    html! { a href={ (MOUNT) "/alerts/" (url_encode(alert_id)) } { (alert_id) } }
}

fn live_protection_view(
    live: &LiveProtection,
    loaded: &Loaded,
    reasons_of: &dyn Fn(&str) -> Vec<String>,
) -> Markup {
    let now = live.now;
    let account = live.account.as_ref();
    let frozen = account.filter(|a| a.is_frozen(now));
    let locked = account.filter(|a| a.is_locked(now));
    let revoked = account.and_then(|a| a.api_keys_revoked_at);
    let allow_list = account.and_then(|a| a.allow_list.as_ref());
    let pending: Vec<&custos_risk::protection::Pending> = account
        .map(|a| a.pending.iter().collect())
        .unwrap_or_default();
    let in_force_count = usize::from(frozen.is_some())
        + usize::from(locked.is_some())
        + usize::from(revoked.is_some())
        + live.marks.len();
    // Why: the alert whose response applied it, else a protection command.
    let why = |action: &str| -> Markup {
        let item = loaded
            .in_force
            .iter()
            .find(|i| i.action == action && !i.alert_id.is_empty());
        html! {
            @match item {
                Some(item) => {
                    " — why: alert " (alert_link(&item.alert_id))
                    @let reasons = reasons_of(&item.alert_id);
                    @if !reasons.is_empty() {
                        " (" @for (n, code) in reasons.iter().enumerate() { @if n > 0 { ", " } code { (code) } } ")"
                    }
                }
                None => span class="muted" { " — by a protection command (the customer, support or custos), not an alert" },
            }
        }
    };
    html! {
        @if in_force_count == 0 {
            p id="protection-state" { "Normal: not frozen, security settings unlocked, no API keys revoked, no marks raising protection." }
        } @else {
            p id="protection-state" class="notice" { "Elevated protection: " (in_force_count) " in force." }
        }
        ul class="in-force live-protection" {
            @if let Some(since) = frozen.and_then(|a| a.frozen_since) {
                li id="live-frozen" { span class="badge cm" { "frozen" } " since " (views::time(since.as_micros())) (why("freeze")) }
            }
            @if let Some(since) = locked.and_then(|a| a.locked_since) {
                li id="live-locked" { span class="badge cm" { "security settings locked" } " since " (views::time(since.as_micros())) (why("lock_security_settings")) }
            }
            @if let Some(at) = revoked {
                li id="live-revoked" { span class="badge cm" { "API keys revoked" } " at " (views::time(at.as_micros())) (why("revoke_api_keys")) }
            }
            @for (code, detail) in &live.marks {
                li class="mark" {
                    span class="badge cm" { "mark" } " " code { (code) } " — " (detail)
                    @if let Some(detector) = mark_detector(code) {
                        @if let Some(decision) = loaded.decisions.iter().find(|d| d.row.detector == detector) {
                            " — why: alert " (alert_link(&decision.row.alert_id))
                        }
                    }
                }
            }
        }
        dl class="facts" {
            dt { "Allow-list" }
            dd id="live-allow-list" {
                @match allow_list {
                    None => "not enabled",
                    Some(list) => {
                        "enabled: " (list.values().filter(|t| **t <= now).count()) " active address(es), "
                        (pending.iter().filter(|p| matches!(p.kind, PendingKind::AllowListEntry { .. })).count()) " waiting"
                    }
                }
            }
            dt { "Pending changes" }
            dd id="live-pending" {
                @if pending.is_empty() { "none" } @else {
                    ul {
                        @for p in &pending {
                            li {
                                (pending_label(&p.kind)) " (change " (p.change_id) "), asked "
                                (views::time(p.requested_at.as_micros())) ", effective "
                                (views::time(p.effective_at.as_micros()))
                                @if p.effective_at <= now { " (due)" } " — cancellable"
                            }
                        }
                    }
                }
            }
        }
        p class="help" { "Live from the action-risk engine." }
    }
}

fn render(
    state: &ConsoleState,
    session: &Session,
    loaded: &Loaded,
    served: Option<&Served>,
) -> Markup {
    let customer_id = loaded.customer_id.as_str();
    let decisions = &loaded.decisions;
    let protections: Vec<&queries::InForce> = loaded
        .in_force
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
    let live = match (
        state.services().risk,
        CustomerId::parse(customer_id.to_owned()),
    ) {
        (Some(handle), Ok(customer)) => Some(live_protection(
            &handle,
            &customer,
            EventTime::from_unix_secs(state.now()),
        )),
        _ => None,
    };
    let body = html! {
        h1 { "Customer " (customer_id) }
        @if let Some(served) = served { (served_view(served)) }
        section aria-labelledby="protection-heading" {
            h2 id="protection-heading" { "Protection" }
            @if let Some(live) = &live {
                (live_protection_view(live, loaded, &reasons_of))
            } @else if protections.is_empty() {
                p id="protection-state" { "Normal: no freeze, settings lock or key revocation in force." }
            } @else {
                p id="protection-state" class="notice" { "Elevated protection: " (protections.len()) " in force." }
                ul class="in-force" {
                    @for item in &protections {
                        li {
                            span class="badge cm" { (item.action) } " since " (views::time(item.since_micros))
                            @if !item.alert_id.is_empty() {
                                " — why: alert " (alert_link(&item.alert_id))
                                @let reasons = reasons_of(&item.alert_id);
                                @if !reasons.is_empty() {
                                    " (" @for (n, code) in reasons.iter().enumerate() { @if n > 0 { ", " } code { (code) } } ")"
                                }
                            }
                        }
                    }
                }
            }
            @if !loaded.releases.is_empty() {
                h3 { "Lifted" }
                ul {
                    @for release in &loaded.releases {
                        li { (views::time(release.ts_micros)) " — " (release.released_by) " lifted " span class="badge cm" { (release.action) } ": " (release.reason) }
                    }
                }
            }
            @if let Some(record) = &loaded.record {
                dl class="facts" {
                    dt { "Directory record since" } dd { (views::time(record.ts_micros)) }
                    @for field in mask::shown_fields(&record.raw) {
                        dt { (field.name) } dd { (field.value) }
                    }
                }
            }
        }
        (view_form(state, session, customer_id))
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
        p class="help" { "Personal data appears only as the access broker serves it, masked unless a second person approved a reveal, and always under a watermark." }
    };
    layout(
        &format!("Customer {customer_id}"),
        Some(session),
        Nav::None,
        body,
    )
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
