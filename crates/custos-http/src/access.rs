//! The access broker's edge: `POST /v1/access` (what an agent may see of a
//! customer, served from the vault), reveal grants with a second person's
//! approval (`/v1/grants...`), TOTP step-up (`/v1/step-up/...`), and loading
//! PII into the vault (`POST /v1/vault/customers`).
//!
//! Every decision becomes an `agent_access` event, durably appended to the
//! event log before the answer (so the behaviour detectors and the audit
//! pump see it); if that append fails the request fails and nothing is
//! shown. Grant and step-up changes go straight into the audit log.

use crate::AppState;
use crate::error::{ApiError, ErrorCode, ProblemItem};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use custos_access::{
    AccessService, Approvals, ApproverCandidate, AuditRecord, FactsError, FactsSource, GrantError,
    GrantId, LiveContacts, Origin, RevealRequest, StepUpError, StepUps,
};
use custos_broker::{AccessRequest, AgentFacts, TicketFacts};
use custos_core::alert::ResponseAction;
use custos_core::id::{AgentId, CustomerId, TicketId};
use custos_core::time::EventTime;
use custos_store::{DirectoryKind, Store};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// Countermeasures in force per agent id, kept current by the pipeline.
pub type AgentCountermeasures = Arc<RwLock<HashMap<String, Vec<ResponseAction>>>>;

/// The broker's edge, as `serve` wires it.
pub struct AccessServices {
    pub service: Arc<AccessService>,
    pub approvals: Arc<Approvals>,
    pub step_ups: Arc<StepUps>,
    pub vault: Arc<custos_vault::Vault>,
    pub facts: Arc<dyn FactsSource>,
}

/// Facts from the event store's directory, the pipeline's
/// countermeasures and its live contacts.
pub struct StoreFacts {
    pub store: Arc<dyn Store>,
    pub countermeasures: AgentCountermeasures,
    /// Fed by the pipeline tailer (`LiveContacts::observe_event` on every
    /// event).
    pub live_contacts: Arc<LiveContacts>,
}

impl FactsSource for StoreFacts {
    fn agent(&self, agent: &AgentId) -> Result<Option<AgentFacts>, FactsError> {
        match self
            .store
            .directory_current(DirectoryKind::Agent, agent.as_str())
            .map_err(|e| FactsError::Unavailable(e.to_string()))?
        {
            None => Ok(None),
            Some(record) => custos_access::agent_facts_from_record(&record.raw).map(Some),
        }
    }

    fn ticket(&self, ticket: &TicketId) -> Result<Option<TicketFacts>, FactsError> {
        match self
            .store
            .directory_current(DirectoryKind::Ticket, ticket.as_str())
            .map_err(|e| FactsError::Unavailable(e.to_string()))?
        {
            None => Ok(None),
            Some(record) => custos_access::ticket_facts_from_record(&record.raw),
        }
    }

    /// An agent's `message` to the customer in `chat` or `phone` within
    /// the tracker's window (10 minutes by default) of `now`.
    fn live_contact(
        &self,
        agent: &AgentId,
        customer: &CustomerId,
        now: EventTime,
    ) -> Result<bool, FactsError> {
        Ok(self.live_contacts.is_live(agent, customer, now))
    }

    /// The `lead_id` extension of the agent's directory record.
    fn lead_of(&self, agent: &AgentId) -> Result<Option<AgentId>, FactsError> {
        match self
            .store
            .directory_current(DirectoryKind::Agent, agent.as_str())
            .map_err(|e| FactsError::Unavailable(e.to_string()))?
        {
            None => Ok(None),
            Some(record) => custos_access::agent_lead_from_record(&record.raw),
        }
    }

    fn countermeasures(&self, agent: &AgentId) -> Result<Vec<ResponseAction>, FactsError> {
        let map = self
            .countermeasures
            .read()
            .map_err(|_| FactsError::Unavailable("countermeasure snapshot poisoned".into()))?;
        Ok(map.get(agent.as_str()).cloned().unwrap_or_default())
    }
}

fn now() -> EventTime {
    EventTime::from_micros(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64),
    )
}

fn services(state: &AppState) -> Result<Arc<AccessServices>, ApiError> {
    state.services.access.clone().ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            "this server runs without the access broker (no vault configured)",
        )
    })
}

/// Reads a JSON body into `T`, naming the bad field with a pointer.
async fn json_body<T: DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<T, ApiError> {
    let bytes = crate::handlers::read_body(body, headers, state.settings.max_body_bytes).await?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = pointer_of(e.path());
        let detail = e.inner().to_string();
        ApiError {
            code: ErrorCode::InvalidBody,
            detail: format!("`{pointer}`: {detail}"),
            errors: vec![ProblemItem {
                pointer: Some(pointer),
                parameter: None,
                detail,
            }],
        }
    })
}

/// A JSON pointer (RFC 6901) from a serde path.
pub(crate) fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

fn grant_error(e: GrantError) -> ApiError {
    let code = e.code();
    let kind = match &e {
        GrantError::Invalid(_) => ErrorCode::InvalidBody,
        GrantError::NotFound { .. } => ErrorCode::NotFound,
        GrantError::SelfApproval
        | GrantError::NotAnApprover { .. }
        | GrantError::ApproverStepUpNeeded
        | GrantError::ApproverInLeadChain
        | GrantError::ApproverUnderCountermeasure { .. }
        | GrantError::Facts(FactsError::Invalid(_)) => ErrorCode::Refused,
        GrantError::Facts(FactsError::Unavailable(_)) => return ApiError::unavailable(&e),
        GrantError::WrongStatus { .. }
        | GrantError::Expired { .. }
        | GrantError::BudgetExhausted { .. } => ErrorCode::Conflict,
        GrantError::Store(custos_access::AccessStoreError::Unavailable(_)) => {
            return ApiError::unavailable(&e);
        }
        GrantError::Store(_) => return ApiError::internal(&e),
    };
    ApiError::new(kind, format!("`{code}`: {e}"))
}

fn step_up_error(e: StepUpError) -> ApiError {
    let code = e.code();
    let kind = match &e {
        StepUpError::NotEnrolled { .. } => ErrorCode::NotFound,
        StepUpError::AlreadyEnrolled { .. } => ErrorCode::Conflict,
        StepUpError::InvalidCode { .. } | StepUpError::Replayed | StepUpError::Locked { .. } => {
            ErrorCode::Refused
        }
        StepUpError::Store(custos_access::AccessStoreError::Unavailable(_)) => {
            return ApiError::unavailable(&e);
        }
        _ => return ApiError::internal(&e),
    };
    ApiError::new(kind, format!("`{code}`: {e}"))
}

/// Appends an audit record from the broker's workflow to the audit log.
/// The audit log is the record of who approved what: a request whose
/// record cannot be written fails.
fn audit(state: &AppState, record: &AuditRecord) -> Result<(), ApiError> {
    let Some(log) = &state.services.audit else {
        return Ok(());
    };
    let details = serde_json::to_value(record).map_err(|e| ApiError::internal(&e))?;
    let entry = custos_audit::AuditEntry {
        kind: record.kind.to_owned(),
        ts: record.ts.to_string(),
        actor: record.actor.as_str().to_owned(),
        subject_commitment: record.customer_ref.clone().unwrap_or_default(),
        details: strip_floats(details),
    };
    let mut log = log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    log.append(&[entry]).map_err(|e| ApiError::internal(&e))?;
    Ok(())
}

/// Canonical JSON in the audit log has no floats: numbers other than
/// integers become strings.
fn strip_floats(value: Value) -> Value {
    match value {
        Value::Number(n) if !(n.is_u64() || n.is_i64()) => Value::String(n.to_string()),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_floats).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, strip_floats(v))).collect())
        }
        other => other,
    }
}

/// `AccessRequest`'s fields plus where the request came from (one flat
/// struct: serde's `flatten` would lose the path of a bad field).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccessBody {
    agent: AgentId,
    customer: CustomerId,
    #[serde(default)]
    ticket: Option<TicketId>,
    fields: Vec<custos_core::event::FieldClass>,
    purpose: String,
    action: custos_core::event::AccessAction,
    #[serde(default)]
    ip: Option<String>,
    #[serde(default)]
    device_id: Option<String>,
}

pub(crate) async fn access(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let body: AccessBody = json_body(&state, &headers, body).await?;
    let request = AccessRequest {
        agent: body.agent,
        customer: body.customer,
        ticket: body.ticket,
        fields: body.fields,
        purpose: body.purpose,
        action: body.action,
    };
    let origin = Origin {
        ip: body.ip,
        device_id: body.device_id,
    };
    let outcome =
        tokio::task::spawn_blocking(move || access.service.access_from(&request, &origin, now()))
            .await
            .map_err(|e| ApiError::internal(&e))?
            .map_err(|e| ApiError::internal(&e))?;
    if let Some(error) = &outcome.internal_error {
        tracing::warn!(decision = %outcome.id, error = %error, "access failed closed");
    }
    // Who saw what is recorded before anything is shown.
    let event = custos_core::parse::parse_event(&outcome.event, || outcome.id.clone())
        .map_err(|r| ApiError::internal(&format!("broker event does not parse: {}", r.reason)))?;
    crate::services::append_event(&state, event, &outcome.event).await?;
    Ok(Json(&outcome).into_response())
}

pub(crate) async fn request_grant(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let request: RevealRequest = json_body(&state, &headers, body).await?;
    let state2 = state.clone();
    let change = tokio::task::spawn_blocking(move || {
        let change = access
            .approvals
            .request(&request, now())
            .map_err(grant_error)?;
        audit(&state2, &change.audit)?;
        Ok::<_, ApiError>(change)
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(json!({ "grant": change.grant })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecideBody {
    /// Who decides: an agent id from the directory (their role is looked up).
    by: AgentId,
    /// A short reason code (`ticket_closed`, `not_needed`), for reject and
    /// revoke.
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Clone, Copy)]
pub(crate) enum GrantDecision {
    Approve,
    Reject,
    Revoke,
}

async fn decide_grant(
    state: AppState,
    id: String,
    headers: HeaderMap,
    body: Body,
    decision: GrantDecision,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let body: DecideBody = json_body(&state, &headers, body).await?;
    let grant = GrantId::parse(&id)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no grant has this id"))?;
    let state2 = state.clone();
    let change = tokio::task::spawn_blocking(move || {
        let now = now();
        let reason = body.reason.as_deref().unwrap_or("unspecified");
        // The decider's role comes from the directory; an id without a
        // record has none, so it cannot approve.
        let role = || -> Result<String, ApiError> {
            Ok(access
                .facts
                .agent(&body.by)
                .map_err(|e| ApiError::unavailable(&e))?
                .map(|a| a.role)
                .unwrap_or_default())
        };
        let result = match decision {
            GrantDecision::Approve => access.approvals.approve(&grant, &body.by, &role()?, now),
            GrantDecision::Reject => {
                access
                    .approvals
                    .reject(&grant, &body.by, &role()?, reason, now)
            }
            GrantDecision::Revoke => access.approvals.revoke(&grant, &body.by, reason, now),
        };
        match result {
            Ok(change) => {
                audit(&state2, &change.audit)?;
                Ok(change)
            }
            Err(e) => {
                let operation = match decision {
                    GrantDecision::Approve => "approve",
                    GrantDecision::Reject => "reject",
                    GrantDecision::Revoke => "revoke",
                };
                // Refusals are audited too: a self-approval attempt is news.
                let record = Approvals::refusal_record(operation, &body.by, Some(&grant), &e, now);
                audit(&state2, &record)?;
                Err(grant_error(e))
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(json!({ "grant": change.grant })).into_response())
}

pub(crate) async fn approve_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    decide_grant(state, id, headers, body, GrantDecision::Approve).await
}

pub(crate) async fn reject_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    decide_grant(state, id, headers, body, GrantDecision::Reject).await
}

pub(crate) async fn revoke_grant(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    decide_grant(state, id, headers, body, GrantDecision::Revoke).await
}

pub(crate) async fn pending_grants(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let Query(pairs) = query.map_err(|r| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("the query string cannot be decoded: {}", r.body_text()),
        )
    })?;
    let mut limit = 100usize;
    for (name, value) in pairs {
        if name != "limit" {
            return Err(ApiError::parameter(
                &name.chars().take(64).collect::<String>(),
                "unknown parameter: expected `limit`",
            ));
        }
        limit = value
            .parse()
            .ok()
            .filter(|l| (1..=1000).contains(l))
            .ok_or_else(|| ApiError::parameter("limit", "`limit` must be 1 to 1000"))?;
    }
    let grants = tokio::task::spawn_blocking(move || access.approvals.pending_grants(limit))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(grant_error)?;
    Ok(Json(json!({ "grants": grants })).into_response())
}

/// Directory records read per store call when listing approvers.
const DIRECTORY_PAGE: usize = 500;

/// Every agent of the directory with an approving role, as candidates.
/// A record that does not parse is skipped (and logged by id): it could
/// not approve either, its role being unreadable.
fn approver_candidates(
    store: &dyn Store,
    approvals: &Approvals,
) -> Result<Vec<ApproverCandidate>, ApiError> {
    let roles: Vec<String> = approvals
        .policy()
        .approver_roles
        .iter()
        .map(|r| r.trim().to_lowercase())
        .collect();
    let mut candidates = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store
            .directory_list(DirectoryKind::Agent, after.as_deref(), DIRECTORY_PAGE)
            .map_err(|e| {
                if e.is_unavailable() {
                    ApiError::unavailable(&e)
                } else {
                    ApiError::internal(&e)
                }
            })?;
        let full = page.len() == DIRECTORY_PAGE;
        after = page.last().map(|r| r.id.clone());
        for record in page {
            let parsed = custos_access::agent_facts_from_record(&record.raw)
                .ok()
                .zip(AgentId::parse(record.id.as_str()).ok());
            let Some((facts, agent)) = parsed else {
                tracing::warn!(agent = %record.id, "agent record unreadable; not listed as an approver");
                continue;
            };
            if roles.contains(&facts.role.trim().to_lowercase()) {
                candidates.push(ApproverCandidate {
                    agent,
                    role: facts.role,
                });
            }
        }
        if !full {
            return Ok(candidates);
        }
    }
}

/// `GET /v1/grants/{id}/approvers`: who may approve the pending grant now.
pub(crate) async fn grant_approvers(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let grant = GrantId::parse(&id)
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no grant has this id"))?;
    let store = state.store.clone();
    let (grant, approvers) = tokio::task::spawn_blocking(move || {
        let candidates = approver_candidates(store.as_ref(), &access.approvals)?;
        let approvers = access
            .approvals
            .eligible_approvers(&grant, &candidates, now())
            .map_err(grant_error)?;
        Ok::<_, ApiError>((grant, approvers))
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(json!({ "grant": grant.as_str(), "approvers": approvers })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EnrolBody {
    agent: AgentId,
}

pub(crate) async fn enrol_step_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let body: EnrolBody = json_body(&state, &headers, body).await?;
    let state2 = state.clone();
    let uri = tokio::task::spawn_blocking(move || {
        let enrolment = access
            .step_ups
            .enrol(&body.agent, now())
            .map_err(step_up_error)?;
        audit(&state2, &enrolment.audit)?;
        Ok::<_, ApiError>(enrolment.uri.expose().to_owned())
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    // Shown once: the secret is stored sealed and never returned again.
    Ok(Json(json!({ "otpauth_uri": uri })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyBody {
    agent: AgentId,
    code: String,
}

pub(crate) async fn verify_step_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let body: VerifyBody = json_body(&state, &headers, body).await?;
    let state2 = state.clone();
    let verified = tokio::task::spawn_blocking(move || {
        let now = now();
        match access.step_ups.verify(&body.agent, &body.code, now) {
            Ok(verified) => {
                audit(&state2, &verified.audit)?;
                Ok(verified.step_up_at)
            }
            Err(e) => {
                let record = StepUps::refusal_record("verify", &body.agent, &e, now);
                audit(&state2, &record)?;
                Err(step_up_error(e))
            }
        }
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    Ok(Json(json!({ "step_up_at": verified.to_string() })).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct VaultBody {
    customer: CustomerId,
    /// Field class → value, e.g. `{"email": "jane@example.com"}`.
    fields: HashMap<custos_core::event::FieldClass, String>,
}

pub(crate) async fn put_customer(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let access = services(&state)?;
    let body: VaultBody = json_body(&state, &headers, body).await?;
    let mut fields = Vec::with_capacity(body.fields.len());
    for (class, value) in &body.fields {
        let Some(vault_class) = custos_broker::render::vault_class(*class) else {
            return Err(ApiError {
                code: ErrorCode::InvalidBody,
                detail: format!("`{class}` is not kept in the vault"),
                errors: vec![ProblemItem {
                    pointer: Some(format!("/fields/{class}")),
                    parameter: None,
                    detail: "not a PII class the vault keeps".to_owned(),
                }],
            });
        };
        fields.push((vault_class, value.clone()));
    }
    let token = tokio::task::spawn_blocking(move || {
        let refs: Vec<(custos_vault::FieldClass, &str)> =
            fields.iter().map(|(c, v)| (*c, v.as_str())).collect();
        access.vault.put_customer(&body.customer, &refs)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(json!({ "token": token })).into_response())
}
