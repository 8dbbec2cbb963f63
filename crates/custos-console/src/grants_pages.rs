//! The leads' approvals inbox: pending reveal requests (ticket, customer,
//! fields, purpose, requester, age) and the approve / deny decision, made
//! through `custos_access::Approvals` so its rules apply unchanged.
//!
//! A console user acts as the agent they are linked to (`custos console
//! link-agent`), or, unlinked, the agent whose id is their user name: their
//! approving role is that agent's directory `role` (from the store), and
//! the step-up is their custos step-up authenticator (`StepUps`), which
//! records the fresh step-up `Approvals::approve` checks, or one of their
//! console passkeys (checked here, recorded with `StepUps::record_verified`).
//!
//! **Architecture Invariant:** the console never decides a grant itself: it
//! refuses a self-approval early (so the decider keeps their code and sees
//! why), but the decision is always `Approvals::approve` / `reject`, which
//! checks self-approval, the role and the step-up again.

use crate::error::ConsoleError;
use crate::pages::{PageError, PageResult, page, post_session, redirect, session};
use crate::queries::url_encode;
use crate::services::{ConsoleServices, append_audit};
use crate::session::Session;
use crate::views::{self, Nav, layout};
use crate::{ConsoleState, MOUNT};
use axum::http::HeaderMap;
use custos_access::{
    Approvals, ApproverCandidate, GrantError, GrantId, GrantRecord, StepUpError, StepUpFactor,
    StepUps, agent_key,
};
use custos_core::EventTime;
use custos_core::id::AgentId;
use maud::{Markup, html};
use std::collections::BTreeMap;

type Fields = BTreeMap<String, String>;

/// Pending requests the inbox shows at most.
const INBOX_LIMIT: usize = 200;

/// Reason codes a lead may give when denying (`custos-access` takes codes,
/// not free text, so no PII reaches the audit log).
pub const DENY_REASONS: [(&str, &str); 4] = [
    ("not_needed", "Not needed for the ticket"),
    ("purpose_unclear", "Purpose unclear"),
    ("wrong_ticket", "Wrong ticket or customer"),
    ("too_many_fields", "More fields than needed"),
];

fn require_approver(session: &Session) -> Result<(), PageError> {
    if session.role.can_approve() {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "the `{}` role cannot see or decide reveal requests",
            session.role
        )))
    }
}

/// The directory role of the agent a console user is (`""` when the user
/// name is no agent with a record: such a user approves nothing).
fn directory_role(state: &ConsoleState, user_name: &str) -> Result<String, PageError> {
    let record = state
        .store()
        .directory_current(custos_store::DirectoryKind::Agent, user_name)?;
    Ok(record
        .and_then(|r| custos_access::agent_facts_from_record(&r.raw).ok())
        .map(|facts| facts.role)
        .unwrap_or_default())
}

/// The agent id the signed-in user acts as: their linked agent, else their
/// user name (the customer page's data view requires the link).
fn acting_agent(state: &ConsoleState, session: &Session) -> Result<String, PageError> {
    let linked = crate::users::agent_id_of(&state.db(), session.user_id)?;
    Ok(linked.unwrap_or_else(|| session.user_name.clone()))
}

fn is_approver_role(approvals: &Approvals, role: &str) -> bool {
    !role.is_empty()
        && approvals
            .policy()
            .approver_roles
            .iter()
            .any(|r| r.eq_ignore_ascii_case(role))
}

/// Whether `user_name` is the requester of `grant`, by `custos-access`'s
/// own comparison (case, width and invisible characters folded).
fn is_own_request(user_name: &str, grant: &GrantRecord) -> bool {
    agent_key(user_name) == agent_key(grant.requester.as_str())
}

/// `4 min`, `2 h 5 min`, `3 d 4 h`.
pub fn age_label(micros: i64) -> String {
    let minutes = micros.max(0) / 60_000_000;
    match minutes {
        0 => "under a minute".to_owned(),
        1..=59 => format!("{minutes} min"),
        60..=1439 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d {} h", minutes / 1440, (minutes % 1440) / 60),
    }
}

pub fn approvals(state: &ConsoleState, headers: &HeaderMap, query: &Fields) -> PageResult {
    let session = session(state, headers)?;
    require_approver(&session)?;
    let services = state.services();
    let Some(approvals) = &services.approvals else {
        return Ok(page(layout(
            "Approvals",
            Some(&session),
            Nav::Approvals,
            html! {
                h1 { "Approvals" }
                p class="notice" { "Reveal approvals are not connected to this console." }
            },
        )));
    };
    let pending = approvals
        .pending_grants(INBOX_LIMIT)
        .map_err(|e| PageError::Internal(ConsoleError::Service(e.to_string())))?;
    let acting = acting_agent(state, &session)?;
    let role = directory_role(state, &acting)?;
    let may_approve = is_approver_role(approvals, &role);
    let now = EventTime::from_unix_secs(state.now());
    let now_micros = now.as_micros();
    // Who may decide each request is custos-access's rule (role, not the
    // requester, not in their lead chain, no barring countermeasure).
    let me = AgentId::parse(acting.clone()).ok();
    let mut eligibility = Vec::with_capacity(pending.len());
    for grant in &pending {
        let eligible = match (&me, may_approve) {
            (Some(agent), true) => approvals
                .eligible_approvers(
                    &grant.id,
                    &[ApproverCandidate {
                        agent: agent.clone(),
                        role: role.clone(),
                    }],
                    now,
                )
                .map(|list| list.into_iter().next())
                // Decided meanwhile, or the directory cannot be read: no button.
                .unwrap_or(None),
            _ => None,
        };
        eligibility.push(eligible);
    }
    let step_ups_connected = services.step_ups.is_some();
    let has_passkey = state.relying_party().is_some()
        && crate::passkeys::has_passkey(&state.db(), session.user_id)?;
    let done = query
        .get("done")
        .filter(|d| matches!(d.as_str(), "approved" | "denied"));
    let done_grant = query.get("grant").and_then(|g| GrantId::parse(g));
    let body = html! {
        h1 { "Approvals" }
        @if let (Some(done), Some(grant)) = (done, &done_grant) {
            p class="notice ok" role="status" { "Request " code { (grant.as_str()) } " " (done) ". The decision is in the audit log." }
        }
        p {
            "Pending requests to reveal customer fields, oldest first. You decide as agent "
            code { (acting) }
            @if role.is_empty() { " (no directory record)" } @else { ", directory role " code { (role) } }
            ". Deciding asks for a fresh code from your custos step-up authenticator."
        }
        @if !may_approve {
            p class="notice" id="not-approver" {
                "Your directory role cannot approve or deny reveal requests; only "
                (approvals.policy().approver_roles.join(", ")) " can."
            }
        }
        @if services.step_ups.is_none() {
            p class="notice" { "Step-up is not connected to this console, so no request can be decided here." }
        }
        @if pending.is_empty() {
            p { "No pending requests." }
        } @else {
            p role="status" { (pending.len()) " pending." }
            ol class="grants" {
                @for (grant, eligible) in pending.iter().zip(&eligibility) {
                    li { (grant_card(&session, &acting, grant, now_micros, eligible.as_ref(), step_ups_connected, has_passkey)) }
                }
            }
        }
    };
    Ok(page(layout(
        "Approvals",
        Some(&session),
        Nav::Approvals,
        body,
    )))
}

#[allow(clippy::too_many_arguments)]
fn grant_card(
    session: &Session,
    acting: &str,
    grant: &GrantRecord,
    now_micros: i64,
    eligible: Option<&custos_access::EligibleApprover>,
    step_ups_connected: bool,
    has_passkey: bool,
) -> Markup {
    let id = grant.id.as_str();
    let heading = format!("h-{id}");
    let own = is_own_request(acting, grant);
    html! {
        article class="grant" aria-labelledby=(heading) {
            h2 id=(heading) { "Request " code { (id) } }
            dl class="facts" {
                dt { "Requester" } dd { (views::entity("agent", grant.requester.as_str())) }
                dt { "Ticket" } dd { code { (grant.ticket.as_str()) } }
                dt { "Customer" } dd { code { (grant.customer.as_str()) } }
                dt { "Fields" } dd {
                    @for field in &grant.fields {
                        span class={ "badge" @if field.is_sensitive() { " sensitive" } } { (field.as_str()) } " "
                    }
                }
                dt { "Purpose" } dd class="purpose" { (grant.purpose) }
                dt { "Asked" } dd {
                    (views::time(grant.requested_at.as_micros())) " ("
                    (age_label(now_micros - grant.requested_at.as_micros())) " ago)"
                }
                dt { "If approved" } dd {
                    (grant.reveal_budget) " reveals within "
                    (age_label(grant.ttl.as_micros()))
                }
            }
            @if own {
                p class="notice own" { "This is your own request: another lead decides on it." }
            } @else if eligible.is_none() {
                p class="help" { "You cannot decide this request (your directory role, being in the requester's lead chain, or a countermeasure on you)." }
            } @else if eligible.is_some_and(|e| !e.enrolled) {
                p class="notice" { "You are not enrolled for custos step-up: ask an administrator to enrol you before deciding." }
            } @else if step_ups_connected {
                form method="post" action={ (MOUNT) "/approvals/" (url_encode(id)) } class="stack decide" {
                    input type="hidden" name="csrf" value=(session.csrf);
                    label for={ "code-" (id) } { "Step-up code" }
                    input id={ "code-" (id) } name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="7" aria-describedby={ "code-help-" (id) };
                    p id={ "code-help-" (id) } class="help" { "Six digits from your custos step-up authenticator." }
                    (crate::passkeys::step_up_choice(has_passkey, "Approve or Deny"))
                    label for={ "reason-" (id) } { "Reason, if denying" }
                    select id={ "reason-" (id) } name="reason" {
                        @for (code, label) in DENY_REASONS { option value=(code) { (label) } }
                    }
                    div class="actions" {
                        button type="submit" name="decision" value="approve" { "Approve" }
                        button type="submit" name="decision" value="deny" class="danger" { "Deny" }
                    }
                }
            }
        }
    }
}

/// What a refused decision tells the lead (codes from custos-access; no
/// value of the grant is repeated).
fn grant_refusal(error: &GrantError) -> PageError {
    let message = match error {
        GrantError::SelfApproval => "nobody decides on their own request",
        GrantError::NotAnApprover { .. } => {
            "your directory role may not approve or deny reveal requests"
        }
        GrantError::ApproverStepUpNeeded => "a fresh step-up is needed: enter a new code",
        GrantError::WrongStatus { .. } => "this request was already decided or withdrawn",
        GrantError::NotFound { .. } => "no such request",
        GrantError::Expired { .. } => "this grant has expired",
        GrantError::ApproverInLeadChain => {
            "you are in the requester's lead chain: someone outside it decides"
        }
        GrantError::ApproverUnderCountermeasure { .. } => {
            "a countermeasure is in force on you: you cannot approve reveals now"
        }
        GrantError::Invalid(_) | GrantError::BudgetExhausted { .. } => "the decision is not valid",
        // The store or the directory cannot be read: internal, logged.
        _ => {
            return PageError::Internal(ConsoleError::Service(error.to_string()));
        }
    };
    match error {
        GrantError::SelfApproval
        | GrantError::NotAnApprover { .. }
        | GrantError::ApproverInLeadChain
        | GrantError::ApproverUnderCountermeasure { .. } => {
            PageError::Forbidden(message.to_owned())
        }
        GrantError::NotFound { .. } => PageError::NotFound(message.to_owned()),
        _ => PageError::BadRequest(message.to_owned(), None, Some(format!("{MOUNT}/approvals"))),
    }
}

pub(crate) fn step_up_refusal(error: &StepUpError) -> PageError {
    let message = match error {
        StepUpError::NotEnrolled { .. } => {
            "you are not enrolled for custos step-up: ask an administrator to enrol you".to_owned()
        }
        StepUpError::InvalidCode { failures_left } => format!(
            "the step-up code is wrong ({failures_left} attempts left before a 5-minute lock)"
        ),
        StepUpError::Replayed => {
            "that code was already used: wait for the next one and try again".to_owned()
        }
        StepUpError::Locked { .. } => {
            "step-up is locked after too many wrong codes: wait 5 minutes".to_owned()
        }
        _ => return PageError::Internal(ConsoleError::Service(error.to_string())),
    };
    PageError::Forbidden(message)
}

/// Appends an audit record; a decision whose record cannot be written
/// fails, as in the API (the audit log is the record of who approved what).
fn audit(services: &ConsoleServices, record: &custos_access::AuditRecord) -> Result<(), PageError> {
    append_audit(services, record)?;
    Ok(())
}

pub fn decide(
    state: &ConsoleState,
    headers: &HeaderMap,
    grant_id: &str,
    form: &Fields,
) -> PageResult {
    let session = post_session(state, headers, form)?;
    require_approver(&session)?;
    let services = state.services();
    let (Some(approvals), Some(step_ups)) = (&services.approvals, &services.step_ups) else {
        return Err(PageError::BadRequest(
            "reveal approvals are not connected to this console".to_owned(),
            Some(session),
            Some(format!("{MOUNT}/approvals")),
        ));
    };
    let Some(id) = GrantId::parse(grant_id) else {
        return Err(PageError::NotFound("no such request".to_owned()));
    };
    let operation = match form.get("decision").map(String::as_str) {
        Some("approve") => "approve",
        Some("deny") => "reject",
        _ => {
            return Err(PageError::BadRequest(
                "choose approve or deny".to_owned(),
                Some(session),
                Some(format!("{MOUNT}/approvals")),
            ));
        }
    };
    let reason = form.get("reason").map_or("not_needed", String::as_str);
    if operation == "reject" && !DENY_REASONS.iter().any(|(code, _)| *code == reason) {
        return Err(PageError::BadRequest(
            "choose a reason for denying".to_owned(),
            Some(session),
            Some(format!("{MOUNT}/approvals")),
        ));
    }
    let acting = acting_agent(state, &session)?;
    let Ok(approver) = AgentId::parse(acting.clone()) else {
        return Err(PageError::Forbidden(
            "your console user is not linked to an agent id, so you cannot decide reveal requests"
                .to_owned(),
        ));
    };
    let now = EventTime::from_unix_secs(state.now());
    let grant = approvals.grant(&id).map_err(|e| grant_refusal(&e))?;
    // Refused before the step-up, so the requester's code is not spent on a
    // decision that cannot happen; audited like the API's refusals.
    if is_own_request(&acting, &grant) {
        let error = GrantError::SelfApproval;
        audit(
            &services,
            &Approvals::refusal_record(operation, &approver, Some(&id), &error, now),
        )?;
        tracing::warn!(
            user = session.user_name,
            grant = id.as_str(),
            "console refused a self-approval"
        );
        return Err(grant_refusal(&error));
    }
    // A console passkey counts as the approver's step-up: the console checks
    // the assertion (the signed-in user is this agent) and custos-access
    // records it, so `approve` finds the fresh step-up it requires.
    let passkey_used = form.get("webauthn").is_some_and(|text| !text.is_empty());
    if passkey_used {
        if let Err(refusal) = crate::passkeys::console_step_up(state, headers, &session, form) {
            audit(
                &services,
                &custos_access::AuditRecord::refused(
                    "step_up_refused",
                    "verify",
                    &approver,
                    "passkey_refused",
                    now,
                ),
            )?;
            return Err(refusal);
        }
    }
    let code = form.get("code").map_or("", String::as_str);
    let verified = if passkey_used {
        step_ups.record_verified(&approver, StepUpFactor::WebAuthn, now)
    } else {
        step_ups.verify(&approver, code, now)
    };
    match verified {
        Ok(verified) => audit(&services, &verified.audit)?,
        Err(error) => {
            audit(
                &services,
                &StepUps::refusal_record("verify", &approver, &error, now),
            )?;
            return Err(step_up_refusal(&error));
        }
    }
    let role = directory_role(state, &acting)?;
    let result = if operation == "approve" {
        approvals.approve(&id, &approver, &role, now)
    } else {
        approvals.reject(&id, &approver, &role, reason, now)
    };
    match result {
        Ok(change) => {
            audit(&services, &change.audit)?;
            tracing::info!(
                user = session.user_name,
                grant = id.as_str(),
                operation,
                "console decided a reveal request"
            );
            let done = if operation == "approve" {
                "approved"
            } else {
                "denied"
            };
            Ok(redirect(&format!(
                "{MOUNT}/approvals?done={done}&grant={}",
                url_encode(id.as_str())
            )))
        }
        Err(error) => {
            audit(
                &services,
                &Approvals::refusal_record(operation, &approver, Some(&id), &error, now),
            )?;
            Err(grant_refusal(&error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::age_label;

    #[test]
    fn ages_read_as_minutes_hours_and_days() {
        for (micros, expect) in [
            (0, "under a minute"),
            (-5, "under a minute"),
            (59_000_000, "under a minute"),
            (60_000_000, "1 min"),
            (3_599_000_000, "59 min"),
            (3_900_000_000, "1 h 5 min"),
            (90_000_000_000, "1 d 1 h"),
        ] {
            assert_eq!(age_label(micros), expect, "{micros}");
        }
    }
}
