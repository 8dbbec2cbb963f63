//! The request handlers. Each reads its input, calls the store from a
//! blocking thread (never from the async runtime) and answers with JSON or a
//! problem.

use crate::AppState;
use crate::alerts;
use crate::error::{ApiError, ErrorCode};
use crate::events::{self, DecodeContext, ItemError};
use crate::metrics::METRICS_CONTENT_TYPE;
use crate::openapi::OPENAPI_JSON;
use crate::routes::Caller;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long `/readyz` and `/metrics` wait for the store to answer a ping.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The response header that carries the request id of an ingest.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The body of a successful `POST /v1/events`.
#[derive(Serialize)]
struct IngestBody {
    /// Ids assigned to events without one are `{request_id}-{index}`.
    request_id: String,
    accepted: usize,
    rejected: usize,
    first_seq: Option<u64>,
    last_seq: Option<u64>,
    errors: Vec<ItemError>,
}

pub(crate) async fn ingest_events(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let settings = &state.settings;
    let bytes = read_body(body, &headers, settings.max_body_bytes).await?;
    let content_type = match headers.get(header::CONTENT_TYPE) {
        None => None,
        Some(value) => Some(value.to_str().map_err(|_| {
            ApiError::new(
                ErrorCode::UnsupportedMediaType,
                "the content type is not readable text",
            )
        })?),
    };
    let format = events::body_format(content_type, &bytes)?;
    let request_id = request_id()?;
    let skew = settings.max_future_skew;
    let now_micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_micros() as i64);
    let max_events = settings.max_batch_events;
    let may_release_countermeasures =
        crate::auth::authorize(&headers, &settings.tokens, crate::auth::Scope::Admin).is_ok();

    // Parsing a large batch takes milliseconds: keep it off the async
    // workers, and leave a core to the ingest thread.
    let slot = state
        .decode_slots
        .acquire()
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let id = request_id.clone();
    let decoded = tokio::task::spawn_blocking(move || {
        let context = DecodeContext {
            max_events,
            latest_ts_micros: now_micros.saturating_add(skew.as_micros() as i64),
            max_future_skew_secs: skew.as_secs(),
            request_id: &id,
            may_release_countermeasures,
        };
        events::decode_body(&bytes, format, &context)
    })
    .await
    .map_err(|e| ApiError::internal(&e))??;
    drop(slot);

    let accepted = decoded.events.len();
    let rejected = decoded.errors.len();
    let receipt = if accepted == 0 {
        None
    } else {
        let receipt = state.ingestor.append(decoded.events).await.map_err(|e| {
            if e.is_unavailable() {
                ApiError::unavailable(&e)
            } else {
                ApiError::internal(&e)
            }
        })?;
        Some(receipt)
    };
    state.metrics.add_ingest(accepted as u64, rejected as u64);
    let caller = caller
        .as_ref()
        .map_or("", |Extension(Caller(name))| name.as_str());
    tracing::debug!(%request_id, caller, accepted, rejected, "ingested");
    let body = IngestBody {
        request_id: request_id.clone(),
        accepted,
        rejected,
        first_seq: receipt.map(|r| r.first_seq),
        last_seq: receipt.map(|r| r.last_seq),
        errors: decoded.errors,
    };
    let mut response = Json(body).into_response();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

/// Reads at most `limit` bytes; a longer body is a 413, whether its
/// `Content-Length` says so up front or it just keeps coming.
pub(crate) async fn read_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is over the limit of {limit} bytes: split the batch"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(error) => {
            tracing::info!(%error, "could not read a request body");
            Err(ApiError::new(
                ErrorCode::InvalidBody,
                "the body could not be read to the end",
            ))
        }
    }
}

/// 64 random bits in hex: unique enough to prefix the ids of one request.
fn request_id() -> Result<String, ApiError> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(&e))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

pub(crate) async fn query_alerts(
    State(state): State<AppState>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(pairs) = query.map_err(|rejection| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!(
                "the query string cannot be decoded: {}",
                rejection.body_text()
            ),
        )
    })?;
    let alert_query = alerts::parse_query(&pairs)?;
    let store = state.store.clone();
    let page = tokio::task::spawn_blocking(move || store.query_alerts(&alert_query))
        .await
        .map_err(|e| ApiError::internal(&e))?
        .map_err(|e| {
            if e.is_unavailable() {
                ApiError::unavailable(&e)
            } else {
                ApiError::internal(&e)
            }
        })?;
    let body = alerts::page_body(page).map_err(|e| ApiError::internal(&e))?;
    Ok(Json(body).into_response())
}

#[derive(Serialize)]
pub(crate) struct StatusBody {
    status: &'static str,
}

pub(crate) async fn health() -> Json<StatusBody> {
    Json(StatusBody { status: "ok" })
}

pub(crate) async fn ready(State(state): State<AppState>) -> Result<Json<StatusBody>, ApiError> {
    if !state.pipeline_running.load(Ordering::Acquire) {
        return Err(ApiError::unavailable(
            &"not ready: the pipeline is not running",
        ));
    }
    if !state.ingestor.is_running() {
        return Err(ApiError::unavailable(
            &"not ready: the ingest thread has stopped",
        ));
    }
    if let Err(error) = ping(&state).await {
        return Err(ApiError::unavailable(&format_args!(
            "not ready: store ping failed: {error}"
        )));
    }
    Ok(Json(StatusBody { status: "ready" }))
}

/// Pings the store from a blocking thread, giving up after [`PING_TIMEOUT`].
async fn ping(state: &AppState) -> Result<(), String> {
    let store = state.store.clone();
    match tokio::time::timeout(
        PING_TIMEOUT,
        tokio::task::spawn_blocking(move || store.ping()),
    )
    .await
    {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(error))) => Err(error.to_string()),
        Ok(Err(join)) => Err(join.to_string()),
        Err(_) => Err(format!("no answer within {} s", PING_TIMEOUT.as_secs())),
    }
}

pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    let store_up = ping(&state).await.is_ok();
    let running = state.pipeline_running.load(Ordering::Acquire);
    let text = state.metrics.render(store_up, running);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        text,
    )
        .into_response()
}

pub(crate) async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}
