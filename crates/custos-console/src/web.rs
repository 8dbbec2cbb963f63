//! The console's axum router: the route table, the blocking bridge to the
//! page functions, the embedded assets, and the security headers every
//! response carries (strict CSP, no framing, no sniffing, no caching).

use crate::pages::{self, Fields, PageResult};
use crate::{ConsoleError, ConsoleState, MOUNT};
use crate::{attribution_pages, audit_pages, customer_pages, grants_pages, passkeys};
use axum::Router;
use axum::extract::{Form, Path, Query, Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

/// The stylesheet, embedded at compile time.
pub const CONSOLE_CSS: &str = include_str!("../assets/console.css");
/// The one script, embedded at compile time (no inline script anywhere).
pub const CONSOLE_JS: &str = include_str!("../assets/console.js");

/// The page icon (browsers ask for one; without it they log a 404).
pub const FAVICON_SVG: &str = include_str!("../assets/favicon.svg");

/// Only this origin's files; no inline script or style; no framing; forms
/// post only here.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The console's router. Every route is under [`MOUNT`] (`/console`), so
/// merge it into the application's router: `app.merge(router(state))`.
pub fn router(state: ConsoleState) -> Router {
    Router::new()
        .route(MOUNT, get(root_redirect))
        .route(&format!("{MOUNT}/"), get(overview))
        .route(
            &format!("{MOUNT}/signin"),
            get(signin_form).post(signin_submit),
        )
        .route(&format!("{MOUNT}/signout"), post(signout))
        .route(
            &format!("{MOUNT}/signin/passkey/options"),
            post(passkey_signin_options),
        )
        .route(&format!("{MOUNT}/signin/passkey"), post(passkey_signin))
        .route(&format!("{MOUNT}/account"), get(account))
        .route(
            &format!("{MOUNT}/passkeys/register/options"),
            post(passkey_register_options),
        )
        .route(
            &format!("{MOUNT}/passkeys/register"),
            post(passkey_register),
        )
        .route(
            &format!("{MOUNT}/passkeys/step-up/options"),
            post(passkey_step_up_options),
        )
        .route(&format!("{MOUNT}/passkeys/remove"), post(passkey_remove))
        .route(&format!("{MOUNT}/alerts"), get(alerts))
        .route(&format!("{MOUNT}/alerts/{{id}}"), get(alert_detail))
        .route(&format!("{MOUNT}/alerts/{{id}}/triage"), post(triage))
        .route(&format!("{MOUNT}/agents"), get(agent_lookup))
        .route(&format!("{MOUNT}/agents/{{id}}"), get(agent))
        .route(&format!("{MOUNT}/agents/{{id}}/release"), post(release))
        .route(&format!("{MOUNT}/customers/{{id}}"), get(customer))
        .route(
            &format!("{MOUNT}/customers/{{id}}/view"),
            post(view_customer_data),
        )
        .route(&format!("{MOUNT}/attribution"), get(attribution))
        .route(&format!("{MOUNT}/approvals"), get(approvals))
        .route(&format!("{MOUNT}/approvals/{{id}}"), post(decide_grant))
        .route(&format!("{MOUNT}/audit"), get(audit))
        .route(&format!("{MOUNT}/audit/checkpoint"), post(sign_checkpoint))
        .route(
            &format!("{MOUNT}/audit/entries/{{index}}"),
            get(audit_entry),
        )
        .route(
            &format!("{MOUNT}/audit/entries/{{index}}/proof"),
            get(audit_proof),
        )
        .route(&format!("{MOUNT}/assets/console.css"), get(css))
        .route(&format!("{MOUNT}/assets/console.js"), get(js))
        .route(&format!("{MOUNT}/assets/favicon.svg"), get(favicon))
        .route(&format!("{MOUNT}/{{*rest}}"), get(not_found))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let set = |headers: &mut HeaderMap, name: HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(
        headers,
        HeaderName::from_static("content-security-policy"),
        CONTENT_SECURITY_POLICY,
    );
    set(headers, HeaderName::from_static("x-frame-options"), "DENY");
    set(
        headers,
        HeaderName::from_static("x-content-type-options"),
        "nosniff",
    );
    set(
        headers,
        HeaderName::from_static("referrer-policy"),
        "no-referrer",
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
    set(
        headers,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if !headers.contains_key(CACHE_CONTROL) {
        set(headers, CACHE_CONTROL, "no-store");
    }
    response
}

/// Runs a page function on a blocking thread (the store and SQLite block).
async fn blocking<F>(state: ConsoleState, work: F) -> Response
where
    F: FnOnce(&ConsoleState) -> PageResult + Send + 'static,
{
    match tokio::task::spawn_blocking(move || work(&state)).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => error.into_response(),
        Err(_) => pages::PageError::Internal(ConsoleError::Join).into_response(),
    }
}

async fn root_redirect() -> Response {
    (
        StatusCode::SEE_OTHER,
        [(LOCATION, HeaderValue::from_static("/console/"))],
    )
        .into_response()
}

async fn overview(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    blocking(state, move |s| pages::overview(s, &headers)).await
}

async fn signin_form(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    blocking(state, move |s| pages::signin_form(s, &headers)).await
}

async fn signin_submit(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| pages::signin_submit(s, &headers, &form)).await
}

async fn signout(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| pages::signout(s, &headers, &form)).await
}

async fn passkey_signin_options(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| passkeys::signin_options(s, &headers, &form)).await
}

async fn passkey_signin(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| passkeys::signin_finish(s, &headers, &form)).await
}

async fn account(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    blocking(state, move |s| passkeys::account(s, &headers, &query)).await
}

async fn passkey_register_options(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| {
        passkeys::register_options(s, &headers, &form)
    })
    .await
}

async fn passkey_register(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| {
        passkeys::register_finish(s, &headers, &form)
    })
    .await
}

async fn passkey_step_up_options(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| {
        passkeys::step_up_options(s, &headers, &form)
    })
    .await
}

async fn passkey_remove(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| passkeys::remove(s, &headers, &form)).await
}

async fn alerts(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    blocking(state, move |s| pages::alerts(s, &headers, &query)).await
}

async fn alert_detail(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    blocking(state, move |s| pages::alert_detail(s, &headers, &id)).await
}

async fn triage(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| pages::triage(s, &headers, &id, &form)).await
}

async fn agent_lookup(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    blocking(state, move |s| pages::agent_lookup(s, &headers, &query)).await
}

async fn agent(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(query): Query<Fields>,
) -> Response {
    blocking(state, move |s| pages::agent(s, &headers, &id, &query)).await
}

async fn release(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| pages::release(s, &headers, &id, &form)).await
}

async fn attribution(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    blocking(state, move |s| {
        attribution_pages::attribution(s, &headers, &query)
    })
    .await
}

async fn customer(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    blocking(state, move |s| customer_pages::customer(s, &headers, &id)).await
}

async fn view_customer_data(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| {
        customer_pages::view_data(s, &headers, &id, &form)
    })
    .await
}

async fn approvals(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    blocking(state, move |s| grants_pages::approvals(s, &headers, &query)).await
}

async fn decide_grant(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| {
        grants_pages::decide(s, &headers, &id, &form)
    })
    .await
}

async fn audit(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Query(query): Query<Fields>,
) -> Response {
    blocking(state, move |s| audit_pages::audit(s, &headers, &query)).await
}

async fn audit_entry(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(index): Path<String>,
) -> Response {
    blocking(state, move |s| audit_pages::entry(s, &headers, &index)).await
}

async fn audit_proof(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Path(index): Path<String>,
) -> Response {
    blocking(state, move |s| audit_pages::proof(s, &headers, &index)).await
}

async fn sign_checkpoint(
    State(state): State<ConsoleState>,
    headers: HeaderMap,
    Form(form): Form<Fields>,
) -> Response {
    blocking(state, move |s| {
        audit_pages::sign_checkpoint(s, &headers, &form)
    })
    .await
}

async fn not_found(State(state): State<ConsoleState>, headers: HeaderMap) -> Response {
    blocking(state, move |s| pages::not_found(s, &headers)).await
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

async fn css() -> Response {
    asset("text/css; charset=utf-8", CONSOLE_CSS)
}

async fn js() -> Response {
    asset("text/javascript; charset=utf-8", CONSOLE_JS)
}

async fn favicon() -> Response {
    asset("image/svg+xml", FAVICON_SVG)
}
