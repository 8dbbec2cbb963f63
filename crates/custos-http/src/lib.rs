//! The HTTP edge of `custos serve`: authenticated, durable event ingest
//! (`POST /v1/events`), alert queries (`GET /v1/alerts`), health, readiness,
//! Prometheus metrics and the OpenAPI document.
//!
//! **Architecture Invariant:** this is the only crate that knows axum or the
//! JSON shapes of requests and responses. It decides nothing about events:
//! parsing is `custos_core::parse`, storage is `custos_store`, detection runs
//! in the binary's pipeline thread, which reads what this crate stored.
//!
//! **Architecture Invariant:** the store is never called from an async task;
//! writes go through the [`Ingestor`] thread, reads through
//! `tokio::task::spawn_blocking`.

mod access;
mod alerts;
mod auth;
mod error;
mod events;
mod handlers;
mod ingest;
mod metrics;
mod openapi;
mod routes;
mod services;

pub use crate::access::{AccessServices, AgentCountermeasures, StoreFacts};
pub use crate::auth::{DigestParse, Scope, TokenSpec, parse_sha256_hex, token_sha256};
pub use crate::error::{ApiError, ErrorCode, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE};
pub use crate::handlers::REQUEST_ID_HEADER;
pub use crate::ingest::{IngestError, Ingestor};
pub use crate::metrics::{METRICS_CONTENT_TYPE, Metrics};
pub use crate::openapi::OPENAPI_JSON;
pub use crate::routes::{Endpoint, HttpMethod, ROUTES, RouteSpec, router, serve, serve_app};
pub use crate::services::{MessageScorer, Services};

use custos_store::Store;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Limits and credentials of the HTTP edge, resolved from the configuration.
#[derive(Clone, Debug)]
pub struct HttpSettings {
    /// The tokens that may call authenticated routes. Empty: every
    /// authenticated route answers 401.
    pub tokens: Vec<TokenSpec>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// The most events one `POST /v1/events` may carry.
    pub max_batch_events: usize,
    /// How far ahead of the server clock an event's `ts` may be.
    pub max_future_skew: Duration,
}

impl HttpSettings {
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
    pub const DEFAULT_MAX_BATCH_EVENTS: usize = 10_000;
    pub const DEFAULT_MAX_FUTURE_SKEW: Duration = Duration::from_secs(3600);
}

impl Default for HttpSettings {
    fn default() -> HttpSettings {
        HttpSettings {
            tokens: Vec::new(),
            max_body_bytes: HttpSettings::DEFAULT_MAX_BODY_BYTES,
            max_batch_events: HttpSettings::DEFAULT_MAX_BATCH_EVENTS,
            max_future_skew: HttpSettings::DEFAULT_MAX_FUTURE_SKEW,
        }
    }
}

/// Everything a request handler reaches. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<HttpSettings>,
    pub metrics: Arc<Metrics>,
    pub ingestor: Ingestor,
    /// Set by the binary while its detection pipeline runs; `/readyz`
    /// answers 503 while it is false.
    pub pipeline_running: Arc<AtomicBool>,
    /// Bounds how many request bodies are parsed at once, so parsing never
    /// takes every core from the ingest thread that commits the results.
    decode_slots: Arc<Semaphore>,
    /// The decision APIs beside ingest; `None` parts answer 503.
    pub services: Services,
}

impl AppState {
    /// Starts the ingest thread and bundles the state. The thread stops once
    /// every clone of the state (and of its [`Ingestor`]) is dropped.
    pub fn new(
        store: Arc<dyn Store>,
        settings: HttpSettings,
        metrics: Arc<Metrics>,
        pipeline_running: Arc<AtomicBool>,
    ) -> std::io::Result<AppState> {
        let ingestor = Ingestor::start(store.clone(), metrics.clone())?;
        // One core stays with the ingest thread (and the async workers).
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Ok(AppState {
            store,
            settings: Arc::new(settings),
            metrics,
            ingestor,
            pipeline_running,
            decode_slots: Arc::new(Semaphore::new(cores.saturating_sub(1).max(1))),
            services: Services::default(),
        })
    }

    /// Wires in the decision APIs (`/v1/actions/evaluate`, `/v1/messages`,
    /// `/v1/audit/...`).
    pub fn with_services(mut self, services: Services) -> AppState {
        self.services = services;
        self
    }
}
