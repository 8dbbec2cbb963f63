//! The route table, the router built from it, and the middleware every
//! request passes through (request metrics, then authentication).
//!
//! **Architecture Invariant:** [`ROUTES`] is the only list of routes. The
//! router is built from it, the metrics are labelled by it, and a test holds
//! the OpenAPI document to it, so no route can exist undocumented or
//! unauthenticated by accident.

use crate::AppState;
use crate::access;
use crate::auth::{Scope, authorize};
use crate::error::{ApiError, ErrorCode};
use crate::handlers;
use crate::services;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use std::collections::BTreeMap;
use std::future::Future;
use std::time::Instant;

/// The HTTP methods custos serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    Get,
    Post,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            HttpMethod::Get => MethodFilter::GET,
            HttpMethod::Post => MethodFilter::POST,
        }
    }

    fn matches(self, method: &Method) -> bool {
        match self {
            // axum answers HEAD with the GET handler.
            HttpMethod::Get => method == Method::GET || method == Method::HEAD,
            HttpMethod::Post => method == Method::POST,
        }
    }
}

/// Which handler serves a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    IngestEvents,
    QueryAlerts,
    Health,
    Ready,
    Metrics,
    OpenApi,
    EvaluateAction,
    RiskShadow,
    ScoreMessage,
    AuditCheckpoint,
    AuditEntries,
    AuditInclusion,
    AuditConsistency,
    Access,
    RequestGrant,
    ApproveGrant,
    RejectGrant,
    RevokeGrant,
    GrantApprovers,
    PendingGrants,
    EnrolStepUp,
    VerifyStepUp,
    PutVaultCustomer,
    Protect,
    AuditWitness,
    AuditCosign,
}

/// One route: method, path, and the scope a token needs (`None`: no
/// authentication).
#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    pub method: HttpMethod,
    pub path: &'static str,
    pub scope: Option<Scope>,
    pub endpoint: Endpoint,
}

/// Every route of the API.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/events",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::IngestEvents,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/alerts",
        scope: Some(Scope::Read),
        endpoint: Endpoint::QueryAlerts,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/healthz",
        scope: None,
        endpoint: Endpoint::Health,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/readyz",
        scope: None,
        endpoint: Endpoint::Ready,
    },
    // Metrics reveal traffic volumes and alert counts per detector: they
    // need the `read` scope like the alerts themselves.
    RouteSpec {
        method: HttpMethod::Get,
        path: "/metrics",
        scope: Some(Scope::Read),
        endpoint: Endpoint::Metrics,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/openapi.json",
        scope: None,
        endpoint: Endpoint::OpenApi,
    },
    // The exchange's own systems ask for decisions with the same token
    // they send events with.
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/actions/evaluate",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::EvaluateAction,
    },
    // Decisions compared, counts and the latest differences: no PII.
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/risk/shadow",
        scope: Some(Scope::Read),
        endpoint: Endpoint::RiskShadow,
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/messages",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::ScoreMessage,
    },
    // Audit entries hold commitments, never customer ids: `read` suffices.
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/audit/checkpoint",
        scope: Some(Scope::Read),
        endpoint: Endpoint::AuditCheckpoint,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/audit/entries",
        scope: Some(Scope::Read),
        endpoint: Endpoint::AuditEntries,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/audit/proof/inclusion",
        scope: Some(Scope::Read),
        endpoint: Endpoint::AuditInclusion,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/audit/proof/consistency",
        scope: Some(Scope::Read),
        endpoint: Endpoint::AuditConsistency,
    },
    // The support tool's backend asks on behalf of its agents, with an
    // ingest token: the decision is recorded as an event it could have sent.
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/access",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::Access,
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/grants",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::RequestGrant,
    },
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/grants",
        scope: Some(Scope::Read),
        endpoint: Endpoint::PendingGrants,
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/grants/{id}/approve",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::ApproveGrant,
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/grants/{id}/reject",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::RejectGrant,
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/grants/{id}/revoke",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::RevokeGrant,
    },
    // Names and roles of staff, no customer data: `read`, like the inbox.
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/grants/{id}/approvers",
        scope: Some(Scope::Read),
        endpoint: Endpoint::GrantApprovers,
    },
    // Enrolment hands out a TOTP secret: admin only.
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/step-up/enrol",
        scope: Some(Scope::Admin),
        endpoint: Endpoint::EnrolStepUp,
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/step-up/verify",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::VerifyStepUp,
    },
    // Loading PII is the exchange's KYC system's job: admin only.
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/vault/customers",
        scope: Some(Scope::Admin),
        endpoint: Endpoint::PutVaultCustomer,
    },
    // The exchange's backend relays its customers' and support's protection
    // actions (the factor proved is in the body's `actor`).
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/customers/{id}/protection",
        scope: Some(Scope::Ingest),
        endpoint: Endpoint::Protect,
    },
    // A witness reads what to cosign (public, like the checkpoint) and
    // hands its cosignature back through an operator (admin).
    RouteSpec {
        method: HttpMethod::Get,
        path: "/v1/audit/witness",
        scope: Some(Scope::Read),
        endpoint: Endpoint::AuditWitness,
    },
    RouteSpec {
        method: HttpMethod::Post,
        path: "/v1/audit/cosignatures",
        scope: Some(Scope::Admin),
        endpoint: Endpoint::AuditCosign,
    },
];

impl Endpoint {
    fn method_router(self, method: HttpMethod) -> MethodRouter<AppState> {
        let filter = method.filter();
        match self {
            Endpoint::IngestEvents => on(filter, handlers::ingest_events),
            Endpoint::QueryAlerts => on(filter, handlers::query_alerts),
            Endpoint::Health => on(filter, handlers::health),
            Endpoint::Ready => on(filter, handlers::ready),
            Endpoint::Metrics => on(filter, handlers::metrics),
            Endpoint::OpenApi => on(filter, handlers::openapi),
            Endpoint::EvaluateAction => on(filter, services::evaluate_action),
            Endpoint::RiskShadow => on(filter, services::risk_shadow),
            Endpoint::ScoreMessage => on(filter, services::score_message),
            Endpoint::AuditCheckpoint => on(filter, services::audit_checkpoint),
            Endpoint::AuditEntries => on(filter, services::audit_entries),
            Endpoint::AuditInclusion => on(filter, services::audit_inclusion),
            Endpoint::AuditConsistency => on(filter, services::audit_consistency),
            Endpoint::Access => on(filter, access::access),
            Endpoint::RequestGrant => on(filter, access::request_grant),
            Endpoint::ApproveGrant => on(filter, access::approve_grant),
            Endpoint::RejectGrant => on(filter, access::reject_grant),
            Endpoint::RevokeGrant => on(filter, access::revoke_grant),
            Endpoint::GrantApprovers => on(filter, access::grant_approvers),
            Endpoint::PendingGrants => on(filter, access::pending_grants),
            Endpoint::EnrolStepUp => on(filter, access::enrol_step_up),
            Endpoint::VerifyStepUp => on(filter, access::verify_step_up),
            Endpoint::PutVaultCustomer => on(filter, access::put_customer),
            Endpoint::Protect => on(filter, services::protect),
            Endpoint::AuditWitness => on(filter, services::audit_witness),
            Endpoint::AuditCosign => on(filter, services::audit_cosign),
        }
    }
}

/// The router of `custos serve`, built from [`ROUTES`].
pub fn router(state: AppState) -> Router {
    let mut by_path: BTreeMap<&'static str, MethodRouter<AppState>> = BTreeMap::new();
    for route in ROUTES {
        let mut method_router = route.endpoint.method_router(route.method);
        if let Some(scope) = route.scope {
            method_router = method_router.route_layer(middleware::from_fn_with_state(
                (state.clone(), scope),
                require_scope,
            ));
        }
        let merged = match by_path.remove(route.path) {
            Some(existing) => existing.merge(method_router),
            None => method_router,
        };
        by_path.insert(route.path, merged);
    }
    let mut router = Router::new();
    for (path, method_router) in by_path {
        router = router.route(path, method_router);
    }
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), track_request))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` completes, then
/// stops accepting and waits for the requests in flight (an ingest in flight
/// is answered after its commit).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_app(listener, router(state), shutdown).await
}

/// Serves an application built from [`router`] (with more merged into it,
/// such as the web console under `/console`) like [`serve`].
pub async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, "http server listening");
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// The name of the token that authenticated a request, for handlers' logs.
#[derive(Clone, Debug)]
pub(crate) struct Caller(pub String);

async fn require_scope(
    State((state, scope)): State<(AppState, Scope)>,
    mut request: Request,
    next: Next,
) -> Response {
    match authorize(request.headers(), &state.settings.tokens, scope) {
        Ok(name) => {
            let caller = Caller(name.to_owned());
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

/// Counts every answer by route and status class, and logs it.
async fn track_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .and_then(|matched| {
            ROUTES
                .iter()
                .position(|r| r.path == matched.as_str() && r.method.matches(&method))
        });
    let response = next.run(request).await;
    let status = response.status();
    state.metrics.count_request(route, status.as_u16());
    tracing::debug!(
        %method,
        route = route.map_or("unmatched", |i| ROUTES[i].path),
        status = status.as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "http request"
    );
    response
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        format!("no route for path `{}`", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        format!("method `{method}` is not allowed on `{}`", uri.path()),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_unique_and_versioned_or_operational() {
        let mut seen = std::collections::HashSet::new();
        for route in ROUTES {
            assert!(
                seen.insert((route.method, route.path)),
                "duplicate {route:?}"
            );
            assert!(route.path.starts_with('/'), "{route:?}");
            if route.path.starts_with("/v1/") {
                assert!(route.scope.is_some(), "api route without auth: {route:?}");
            }
        }
    }
}
