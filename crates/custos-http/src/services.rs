//! The synchronous decision APIs beside ingest: `POST /v1/actions/evaluate`
//! (customer action risk), `POST /v1/messages` (conversation guard), and
//! the audit log's proofs (`/v1/audit/...`). Each runs on a blocking
//! thread; a service the server was started without answers 503.

use crate::AppState;
use crate::error::{ApiError, ErrorCode, ProblemItem};
use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use custos_audit::AuditLog;
use custos_conversation::{ConversationConfig, Guard, GuardError, Scanner};
use custos_core::EventBody;
use custos_core::parse::parse_event;
use custos_risk::{ActionRequest, RiskHandle};
use serde::Serialize;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// The services `serve` wires in; `None` answers 503.
#[derive(Clone, Default)]
pub struct Services {
    pub audit: Option<Arc<Mutex<AuditLog>>>,
    pub risk: Option<RiskHandle>,
    pub messages: Option<Arc<MessageScorer>>,
    pub access: Option<Arc<crate::access::AccessServices>>,
}

/// Scores messages in their conversations, as `custos scan` does.
pub struct MessageScorer {
    scanner: Mutex<Scanner<'static>>,
}

impl MessageScorer {
    /// Loads the compiled-in model. The guard lives as long as the process
    /// (one per server), which lets the scanner borrow it from any thread.
    pub fn new(config: ConversationConfig) -> Result<MessageScorer, GuardError> {
        let guard: &'static Guard = Box::leak(Box::new(Guard::new()?));
        Ok(MessageScorer {
            scanner: Mutex::new(Scanner::new(guard, config)),
        })
    }
}

/// Appends one event durably through the ingest thread (as `POST
/// /v1/events` would).
pub(crate) async fn append_event(
    state: &AppState,
    event: custos_core::Event,
    raw: &str,
) -> Result<custos_store::AppendReceipt, ApiError> {
    state
        .ingestor
        .append(vec![crate::events::new_event(event, raw)])
        .await
        .map_err(|e| {
            if e.is_unavailable() {
                ApiError::unavailable(&e)
            } else {
                ApiError::internal(&e)
            }
        })
}

fn now() -> custos_core::EventTime {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    custos_core::EventTime::from_micros(micros)
}

fn not_configured(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Unavailable,
        format!("this server runs without the {what}"),
    )
}

/// An invalid JSON body field, with its pointer.
fn invalid_field(pointer: &str, detail: impl Into<String>) -> ApiError {
    let detail = detail.into();
    ApiError {
        code: ErrorCode::InvalidBody,
        detail: detail.clone(),
        errors: vec![ProblemItem {
            pointer: Some(pointer.to_owned()),
            parameter: None,
            detail,
        }],
    }
}

/// Reads a JSON object body as a contract event of `kind`: `type` may be
/// left out, `ts` defaults to now. Returns the event and its JSON text.
async fn body_event(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    kind: &str,
) -> Result<(custos_core::Event, String), ApiError> {
    let bytes = crate::handlers::read_body(body, headers, state.settings.max_body_bytes).await?;
    let mut value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("the body is not JSON: {e}")))?;
    let Some(object) = value.as_object_mut() else {
        return Err(invalid_field("", "the body must be a JSON object"));
    };
    match object.get("type") {
        None => {
            object.insert("type".into(), Value::String(kind.to_owned()));
        }
        Some(Value::String(t)) if t == kind => {}
        Some(_) => return Err(invalid_field("/type", format!("`type` must be `{kind}`"))),
    }
    if !object.contains_key("ts") {
        object.insert("ts".into(), Value::String(now().to_string()));
    }
    let text = value.to_string();
    let event = parse_event(&text, || "api".to_owned())
        .map_err(|r| invalid_field(&r.pointer, r.reason.clone()))?;
    Ok((event, text))
}

#[derive(Serialize)]
struct EvaluateBody {
    decision: custos_risk::Decision,
    /// Where a candidate rule set (shadow mode) would decide differently.
    #[serde(skip_serializing_if = "Option::is_none")]
    shadow: Option<Value>,
}

pub(crate) async fn evaluate_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let risk = state
        .services
        .risk
        .clone()
        .ok_or_else(|| not_configured("action risk engine"))?;
    let (event, _) = body_event(&state, &headers, body, "customer_action").await?;
    let decided = tokio::task::spawn_blocking(move || {
        let EventBody::CustomerAction(action) = &event.body else {
            return None;
        };
        let req = ActionRequest {
            event_id: None,
            ts: event.ts,
            action,
        };
        Some(risk.evaluate(&req, now()))
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .ok_or_else(|| invalid_field("/type", "`type` must be `customer_action`"))?;
    let shadow = decided.shadow.as_ref().map(|diff| {
        serde_json::json!({
            "outcome": diff.candidate,
            "rules_version": diff.candidate_version,
        })
    });
    Ok(Json(EvaluateBody {
        decision: decided.decision,
        shadow,
    })
    .into_response())
}

/// `GET /v1/risk/shadow`: shadow mode on live traffic (the actions the
/// pipeline decided since the candidate rule set was loaded, where it would
/// have decided differently). `candidate_version` is null without a
/// candidate (`[risk] candidate_rules_path`).
pub(crate) async fn risk_shadow(State(state): State<AppState>) -> Result<Response, ApiError> {
    let risk = state
        .services
        .risk
        .clone()
        .ok_or_else(|| not_configured("action risk engine"))?;
    let report = tokio::task::spawn_blocking(move || risk.with(|r| r.engine().shadow_report()))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(Json(report).into_response())
}

#[derive(Serialize)]
struct MessageBody {
    #[serde(flatten)]
    verdict: custos_conversation::ScanLine,
    /// The message's sequence number in the event log: the pipeline's
    /// `conversation` detector sees it too (alerts, interception marks).
    seq: u64,
}

pub(crate) async fn score_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let scorer = state
        .services
        .messages
        .clone()
        .ok_or_else(|| not_configured("conversation guard"))?;
    let (event, text) = body_event(&state, &headers, body, "message").await?;
    let receipt = append_event(&state, event, &text).await?;
    let verdict = tokio::task::spawn_blocking(move || {
        let mut scanner = scorer
            .scanner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        scanner.scan_line(&text, receipt.first_seq)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|reason| invalid_field("/text", reason))?;
    Ok(Json(MessageBody {
        verdict,
        seq: receipt.first_seq,
    })
    .into_response())
}

// ------------------------------------------------------------------ audit

/// Parses the named non-negative integer parameters, refusing unknown or
/// repeated ones.
fn integer_parameters(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    names: &[&'static str],
) -> Result<Vec<Option<u64>>, ApiError> {
    let Query(pairs) = query.map_err(|rejection| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!(
                "the query string cannot be decoded: {}",
                rejection.body_text()
            ),
        )
    })?;
    let mut values = vec![None; names.len()];
    for (name, value) in pairs {
        let Some(i) = names.iter().position(|n| *n == name) else {
            return Err(ApiError::parameter(
                &name.chars().take(64).collect::<String>(),
                format!(
                    "unknown parameter: expected {}",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        if values[i].is_some() {
            return Err(ApiError::parameter(
                names[i],
                format!("`{}` is given more than once", names[i]),
            ));
        }
        values[i] = Some(value.parse().map_err(|_| {
            ApiError::parameter(names[i], format!("`{}` must be a whole number", names[i]))
        })?);
    }
    Ok(values)
}

/// Two required whole-number parameters, e.g. `index` and `size`.
fn two_required(
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    names: [&'static str; 2],
) -> Result<(u64, u64), ApiError> {
    let values = integer_parameters(query, &names)?;
    let required = |i: usize| {
        values[i]
            .ok_or_else(|| ApiError::parameter(names[i], format!("`{}` is required", names[i])))
    };
    Ok((required(0)?, required(1)?))
}

/// Runs `f` on the audit log from a blocking thread; a range or size the
/// log does not have is the client's error.
async fn with_log<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&AuditLog) -> Result<T, custos_audit::LogError> + Send + 'static,
) -> Result<T, ApiError> {
    let log = state
        .services
        .audit
        .clone()
        .ok_or_else(|| not_configured("audit log"))?;
    tokio::task::spawn_blocking(move || {
        let log = log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&log)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| match e {
        custos_audit::LogError::RangeOutOfBounds { .. } | custos_audit::LogError::Proof(_) => {
            ApiError::new(ErrorCode::InvalidParameter, e.to_string())
        }
        custos_audit::LogError::NoCheckpoint => ApiError::new(ErrorCode::NotFound, e.to_string()),
        other => ApiError::internal(&other),
    })
}

pub(crate) async fn audit_checkpoint(State(state): State<AppState>) -> Result<Response, ApiError> {
    let checkpoint = with_log(&state, custos_audit::api::latest_checkpoint).await?;
    match checkpoint {
        Some(c) => Ok(Json(c).into_response()),
        None => Err(ApiError::new(
            ErrorCode::NotFound,
            "no checkpoint has been issued yet",
        )),
    }
}

pub(crate) async fn audit_entries(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (start, end) = two_required(query, ["start", "end"])?;
    if end < start {
        return Err(ApiError::parameter(
            "end",
            "`end` must not be below `start`",
        ));
    }
    let entries = with_log(&state, move |log| {
        custos_audit::api::entries(log, start, end)
    })
    .await?;
    Ok(Json(entries).into_response())
}

pub(crate) async fn audit_inclusion(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (index, size) = two_required(query, ["index", "size"])?;
    let proof = with_log(&state, move |log| {
        custos_audit::api::inclusion_proof(log, index, size)
    })
    .await?;
    Ok(Json(proof).into_response())
}

pub(crate) async fn audit_consistency(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (old, new) = two_required(query, ["old", "new"])?;
    let proof = with_log(&state, move |log| {
        custos_audit::api::consistency_proof(log, old, new)
    })
    .await?;
    Ok(Json(proof).into_response())
}

// ------------------------------------------------------------- protection

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProtectBody {
    actor: custos_risk::Actor,
    protection: custos_risk::Command,
}

fn protection_error(e: custos_risk::ProtectionError) -> ApiError {
    use custos_risk::ProtectionError as P;
    let code = match &e {
        P::BadAntiPhishingCode => ErrorCode::InvalidBody,
        P::NoSuchChange { .. } => ErrorCode::NotFound,
        P::NotFrozen | P::AllowListDisabled => ErrorCode::Conflict,
        _ => ErrorCode::Refused,
    };
    ApiError::new(code, e.to_string())
}

/// `POST /v1/customers/{id}/protection`: freeze, unfreeze, revoke API keys,
/// lock security settings, allow-list, anti-phishing code. Applied at once
/// on the engine the pipeline shares (the answer says what happened), and
/// recorded as a `protection_command` event so it survives a restart.
pub(crate) async fn protect(
    State(state): State<AppState>,
    axum::extract::Path(customer): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let risk = state
        .services
        .risk
        .clone()
        .ok_or_else(|| not_configured("action risk engine"))?;
    let customer = custos_core::id::CustomerId::parse(&customer)
        .map_err(|e| ApiError::new(ErrorCode::NotFound, format!("no such customer id: {e}")))?;
    let bytes = crate::handlers::read_body(body, &headers, state.settings.max_body_bytes).await?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let parsed: ProtectBody = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = crate::access::pointer_of(e.path());
        invalid_field(&pointer, e.inner().to_string())
    })?;
    let raw: Value = serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(&e))?;
    let now = now();
    let mut id_bytes = [0u8; 8];
    getrandom::fill(&mut id_bytes).map_err(|e| ApiError::internal(&e))?;
    let event_id = format!(
        "prot-{}",
        id_bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let line = serde_json::json!({
        "type": "protection_command",
        "ts": now.to_string(),
        "id": event_id,
        "customer_id": customer.as_str(),
        "actor": raw["actor"],
        "protection": raw["protection"],
    })
    .to_string();
    let event = parse_event(&line, || event_id.clone())
        .map_err(|r| invalid_field(&r.pointer, r.reason.clone()))?;
    let applied = {
        let risk = risk.clone();
        let (id, customer) = (event_id.clone(), customer.clone());
        tokio::task::spawn_blocking(move || {
            risk.protect(&id, &customer, now, parsed.actor, &parsed.protection)
        })
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(protection_error)?
    };
    if let Err(e) = append_event(&state, event, &line).await {
        risk.forget_live(&event_id);
        return Err(e);
    }
    Ok(Json(serde_json::json!({ "event_id": event_id, "record": applied })).into_response())
}

// ---------------------------------------------------------------- witness

/// `GET /v1/audit/witness?old_size=N`: what a witness needs to cosign the
/// latest checkpoint (C2SP `tlog-witness`): the signed note and a
/// consistency proof from the size it cosigned last (0 for a new witness).
pub(crate) async fn audit_witness(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let values = integer_parameters(query, &["old_size"])?;
    let old_size = values[0].unwrap_or(0);
    let request = with_log(&state, move |log| {
        custos_audit::api::witness_request(log, old_size)
    })
    .await?;
    Ok(Json(request).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CosignatureBody {
    /// The checkpoint note with the log's signature and the witness's line.
    note: String,
    /// The witness's public key, as a note verifier (`name+hash+key`).
    witness_key: String,
}

/// `POST /v1/audit/cosignatures`: stores a witness's cosignature after
/// checking the log's own signature, that this log issued that very
/// checkpoint, and the witness's signature (C2SP `tlog-cosignature`).
pub(crate) async fn audit_cosign(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = crate::handlers::read_body(body, &headers, state.settings.max_body_bytes).await?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let parsed: CosignatureBody = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let pointer = crate::access::pointer_of(e.path());
        invalid_field(&pointer, e.inner().to_string())
    })?;
    let witness = custos_audit::NoteVerifier::parse(parsed.witness_key.trim())
        .map_err(|e| invalid_field("/witness_key", e.to_string()))?;
    let log = state
        .services
        .audit
        .clone()
        .ok_or_else(|| not_configured("audit log"))?;
    let stored = tokio::task::spawn_blocking(move || {
        let mut log = log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        log.add_cosignature(&parsed.note, &witness)
    })
    .await
    .map_err(|e| ApiError::internal(&e))?
    .map_err(|e| match e {
        custos_audit::LogError::Note(_) => invalid_field("/note", e.to_string()),
        custos_audit::LogError::ForeignCheckpoint { .. }
        | custos_audit::LogError::CheckpointNotIssued { .. } => {
            ApiError::new(ErrorCode::Conflict, e.to_string())
        }
        other => ApiError::internal(&other),
    })?;
    Ok(Json(serde_json::json!({
        "size": stored.size,
        "witness": stored.witness,
        "timestamp": stored.timestamp,
    }))
    .into_response())
}
