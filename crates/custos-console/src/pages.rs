//! What each console route does, synchronously (handlers run these on a
//! blocking thread): authenticate, check the role and the CSRF token, read
//! the index and the store, render. Every function returns a response or a
//! [`PageError`] that becomes one.

use crate::crypto::{hex, random_bytes, random_token};
use crate::error::ConsoleError;
use crate::mask;
use crate::queries::{self, AlertFilter, AlertRow, Resolution, StatusFilter, TriageAction};
use crate::session::{
    self, PRE_COOKIE, SESSION_COOKIE, Session, clear_cookie, cookie, pre_token, pre_token_matches,
    set_cookie,
};
use crate::totp;
use crate::users::{self, is_own_case};
use crate::views::{self, Nav, layout};
use crate::{ConsoleState, MOUNT};
use axum::http::header::{LOCATION, SET_COOKIE, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use custos_core::EventTime;
use custos_core::alert::{Entity, EntityKind, ResponseAction};
use custos_core::event::{CountermeasureRelease, Event, EventBody};
use custos_core::id::EventId;
use custos_store::{AlertQuery, NewEvent, StoredEvent};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Form fields and query parameters, as posted.
pub type Fields = BTreeMap<String, String>;

/// Why a page is not shown.
#[derive(Debug)]
pub enum PageError {
    /// No live session: go and sign in.
    SignIn,
    Forbidden(String),
    NotFound(String),
    BadRequest(String, Option<Session>, Option<String>),
    Internal(ConsoleError),
}

impl From<ConsoleError> for PageError {
    fn from(error: ConsoleError) -> PageError {
        PageError::Internal(error)
    }
}

impl From<custos_store::StoreError> for PageError {
    fn from(error: custos_store::StoreError) -> PageError {
        PageError::Internal(ConsoleError::Store(error))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn => redirect(&format!("{MOUNT}/signin")),
            PageError::Forbidden(message) => (
                StatusCode::FORBIDDEN,
                Html(
                    views::error_page("Not allowed", &message, None, Some(&format!("{MOUNT}/")))
                        .into_string(),
                ),
            )
                .into_response(),
            PageError::NotFound(message) => (
                StatusCode::NOT_FOUND,
                Html(
                    views::error_page("Not found", &message, None, Some(&format!("{MOUNT}/")))
                        .into_string(),
                ),
            )
                .into_response(),
            PageError::BadRequest(message, session, back) => (
                StatusCode::BAD_REQUEST,
                Html(
                    views::error_page(
                        "Cannot do that",
                        &message,
                        session.as_ref(),
                        back.as_deref(),
                    )
                    .into_string(),
                ),
            )
                .into_response(),
            PageError::Internal(error) => {
                // Details go to the log only; the page says "internal error".
                tracing::error!(%error, "console request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Html(
                        views::error_page("Internal error", "internal error", None, None)
                            .into_string(),
                    ),
                )
                    .into_response()
            }
        }
    }
}

pub type PageResult = Result<Response, PageError>;

pub(crate) fn redirect(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

pub(crate) fn page(markup: Markup) -> Response {
    Html(markup.into_string()).into_response()
}

pub(crate) fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    response
}

/// The live session of the request.
pub(crate) fn session(state: &ConsoleState, headers: &HeaderMap) -> Result<Session, PageError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Err(PageError::SignIn);
    };
    let conn = state.db();
    session::lookup(&conn, id, state.now(), state.settings().sessions)?.ok_or(PageError::SignIn)
}

/// The live session of a POST whose form carries its CSRF token.
pub(crate) fn post_session(
    state: &ConsoleState,
    headers: &HeaderMap,
    form: &Fields,
) -> Result<Session, PageError> {
    let session = session(state, headers)?;
    if !session.csrf_matches(form.get("csrf").map(String::as_str)) {
        return Err(PageError::Forbidden(
            "the form's CSRF token is missing or wrong: reload the page and try again".to_owned(),
        ));
    }
    Ok(session)
}

pub(crate) fn require_cases(session: &Session) -> Result<(), PageError> {
    if session.role.can_read_cases() {
        Ok(())
    } else {
        Err(PageError::Forbidden(format!(
            "the `{}` role cannot see alerts or agents",
            session.role
        )))
    }
}

// ---------------------------------------------------------------- sign-in

pub fn signin_form(state: &ConsoleState, headers: &HeaderMap) -> PageResult {
    if let Some(id) = cookie(headers, SESSION_COOKIE) {
        let conn = state.db();
        if session::lookup(&conn, id, state.now(), state.settings().sessions)?.is_some() {
            return Ok(redirect(&format!("{MOUNT}/")));
        }
    }
    let nonce = random_token()?;
    let response = page(signin_markup(
        &pre_token(state.form_key(), &nonce),
        None,
        state.relying_party().is_some(),
    ));
    Ok(with_cookie(
        response,
        &set_cookie(PRE_COOKIE, &nonce, Some(3600)),
    ))
}

/// The sign-in page: user name, password and TOTP code, and (when passkeys
/// are configured) a passkey button that `console.js` reveals where the
/// browser supports WebAuthn.
pub(crate) fn signin_markup(token: &str, error: Option<&str>, passkeys: bool) -> Markup {
    layout(
        "Sign in",
        None,
        Nav::None,
        html! {
            div class="signin" {
                h1 { "Sign in" }
                @if let Some(error) = error {
                    p class="notice error" role="alert" id="signin-error" { (error) }
                }
                form method="post" action={ (MOUNT) "/signin" } class="stack" {
                    input type="hidden" name="csrf" value=(token);
                    label for="name" { "User name" }
                    input id="name" name="name" type="text" autocomplete="username" required maxlength="64" autofocus;
                    label for="password" { "Password" }
                    input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024";
                    label for="code" { "Authenticator code" }
                    input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="7" aria-describedby="code-help";
                    p id="code-help" class="help" { "The six digits your authenticator app shows for custos console." }
                    button type="submit" { "Sign in" }
                }
                @if passkeys {
                    section class="passkey-signin" aria-labelledby="passkey-heading" hidden {
                        h2 id="passkey-heading" { "Or use a passkey" }
                        form method="post" action={ (MOUNT) "/signin/passkey" } id="passkey-signin" data-passkey-signin="" {
                            input type="hidden" name="csrf" value=(token);
                            input type="hidden" name="credential" value="";
                            button type="submit" class="secondary" { "Sign in with a passkey" }
                            p class="passkey-status" role="status" {}
                        }
                        p class="help" { "Add a passkey on your account page after signing in with your password and code." }
                    }
                }
            }
        },
    )
}

/// Why a sign-in was refused, as the page says it (never which part was wrong).
const SIGNIN_REFUSED: &str = "wrong user name, password or code";

pub fn signin_submit(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let nonce = cookie(headers, PRE_COOKIE);
    if !pre_token_matches(
        state.form_key(),
        nonce,
        form.get("csrf").map(String::as_str),
    ) {
        return Err(PageError::Forbidden(
            "the sign-in form expired or its CSRF token is missing: reload the page".to_owned(),
        ));
    }
    let token = form.get("csrf").cloned().unwrap_or_default();
    let name = form.get("name").map_or("", |n| n.trim());
    let password = form.get("password").map_or("", String::as_str);
    let code = form.get("code").map_or("", String::as_str);
    let limits = state.settings().sign_in;
    let now = state.now();
    let refuse = |status: StatusCode, message: &str| {
        let mut response = (
            status,
            page(signin_markup(
                &token,
                Some(message),
                state.relying_party().is_some(),
            )),
        )
            .into_response();
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Form realm=\"custos console\""),
        );
        response
    };
    let name_key = name.to_ascii_lowercase();
    let user = {
        let conn = state.db();
        if users::recent_failures(&conn, &name_key, now, limits)? >= limits.max_failures {
            tracing::warn!(
                user = name_key,
                "console sign-in refused: too many failures"
            );
            return Ok(refuse(
                StatusCode::TOO_MANY_REQUESTS,
                "too many failed sign-ins for this user: wait 15 minutes and try again",
            ));
        }
        users::find_user(&conn, name)?
    };
    // The password check runs without the database lock (Argon2 is slow on purpose).
    let password_ok = match &user {
        Some(user) => users::verify_password(password, &user.password_phc),
        None => {
            let _ = users::verify_password(password, state.dummy_hash());
            false
        }
    };
    let conn = state.db();
    let signed_in = match (&user, password_ok) {
        (Some(user), true) => match totp::verify(&user.totp_secret, code, now, user.totp_last_step)
        {
            Some(step) => users::consume_totp_step(&conn, user.id, step)?,
            None => false,
        },
        _ => false,
    };
    let Some(user) = user.filter(|_| signed_in) else {
        users::record_failure(&conn, &name_key, now, limits)?;
        tracing::info!(user = name_key, "console sign-in failed");
        return Ok(refuse(StatusCode::UNAUTHORIZED, SIGNIN_REFUSED));
    };
    start_session(
        state,
        &conn,
        headers,
        &user,
        &name_key,
        now,
        "password and TOTP",
    )
}

/// Signs `user` in once a factor passed (password and TOTP, or a passkey):
/// clears their failures, ends any session the browser already had (a
/// fresh id at sign-in: a session id planted before cannot be used), and
/// answers with the new session's cookie.
pub(crate) fn start_session(
    state: &ConsoleState,
    conn: &rusqlite::Connection,
    headers: &HeaderMap,
    user: &users::UserRecord,
    name_key: &str,
    now: i64,
    how: &str,
) -> PageResult {
    users::clear_failures(conn, name_key)?;
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        session::end(conn, old, now, state.settings().sessions)?;
    }
    let id = session::create(conn, user.id, now)?;
    tracing::info!(
        user = user.name,
        role = user.role.as_str(),
        how,
        "console sign-in"
    );
    let response = redirect(&format!("{MOUNT}/"));
    let response = with_cookie(response, &set_cookie(SESSION_COOKIE, &id, None));
    Ok(with_cookie(response, &clear_cookie(PRE_COOKIE)))
}

pub fn signout(state: &ConsoleState, headers: &HeaderMap, form: &Fields) -> PageResult {
    let _session = post_session(state, headers, form)?;
    if let Some(id) = cookie(headers, SESSION_COOKIE) {
        let conn = state.db();
        session::end(&conn, id, state.now(), state.settings().sessions)?;
    }
    Ok(with_cookie(
        redirect(&format!("{MOUNT}/signin")),
        &clear_cookie(SESSION_COOKIE),
    ))
}

// ---------------------------------------------------------------- overview

/// Days the overview's chart covers.
const OVERVIEW_DAYS: i64 = 14;

pub fn overview(state: &ConsoleState, headers: &HeaderMap) -> PageResult {
    let session = session(state, headers)?;
    let (overview, in_force, index_events, index_alerts) = {
        let conn = state.db();
        (
            queries::overview(&conn, OVERVIEW_DAYS)?,
            if session.role.can_read_cases() {
                queries::in_force(&conn, "agent", None)?
            } else {
                Vec::new()
            },
            crate::index::cursor(&conn, crate::index::EVENTS_CURSOR)?,
            crate::index::cursor(&conn, crate::index::ALERTS_CURSOR)?,
        )
    };
    let store = state.store();
    let events_stored = store.event_count()?;
    let last_seq = store.last_seq()?;
    let pipeline = store.cursor("pipeline")?;
    let alerts_stored = store.alert_count()?;
    let mut agents: BTreeMap<&str, Vec<&queries::InForce>> = BTreeMap::new();
    for item in &in_force {
        agents
            .entry(item.entity_id.as_str())
            .or_default()
            .push(item);
    }
    let last_day = overview
        .newest_micros
        .map(|m| m.div_euclid(queries::MICROS_PER_DAY));
    let detectors: Vec<&str> = {
        let mut names: Vec<&str> = overview
            .by_detector
            .keys()
            .map(|(d, _)| d.as_str())
            .collect();
        names.dedup();
        names
    };
    let body = html! {
        h1 { "Overview" }
        section aria-labelledby="alerts-heading" {
            h2 id="alerts-heading" { "Alerts" }
            @match last_day {
                None => p { "No alerts yet." },
                Some(last_day) => {
                    p { (overview.total_alerts) " alerts in all. The chart and table cover the "
                        (OVERVIEW_DAYS) " days of event time up to " (views::day_label(last_day)) "." }
                    (views::day_chart(&overview.by_day, last_day, OVERVIEW_DAYS))
                    div class="table-wrap" {
                        table {
                            caption { "Alerts by detector and severity, last " (OVERVIEW_DAYS) " days" }
                            thead { tr {
                                th scope="col" { "Detector" }
                                @for severity in custos_store::Severity::ALL { th scope="col" class="num" { (severity.as_str()) } }
                            } }
                            tbody {
                                @for detector in &detectors {
                                    tr {
                                        th scope="row" {
                                            @if session.role.can_read_cases() {
                                                a href={ (MOUNT) "/alerts?status=all&detector=" (queries::url_encode(detector)) } { (detector) }
                                            } @else { (detector) }
                                        }
                                        @for severity in custos_store::Severity::ALL {
                                            td class="num" { (overview.by_detector.get(&((*detector).to_owned(), severity.code())).copied().unwrap_or(0)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    p {
                        "Triage: "
                        @for (status, count) in &overview.by_status { (views::status(status, None)) " " (count) " " }
                    }
                }
            }
        }
        @if session.role.can_read_cases() {
            section aria-labelledby="cm-heading" {
                h2 id="cm-heading" { "Agents under countermeasures" }
                @if agents.is_empty() {
                    p { "None." }
                } @else {
                    div class="table-wrap" {
                        table {
                            caption { (agents.len()) " agents with countermeasures in force" }
                            thead { tr { th scope="col" { "Agent" } th scope="col" { "In force" } th scope="col" { "Since" } } }
                            tbody {
                                @for (agent, items) in &agents {
                                    tr {
                                        th scope="row" { (views::entity("agent", agent)) }
                                        td { @for item in items.iter() { span class="badge cm" { (item.action) } " " } }
                                        td { @if let Some(first) = items.iter().map(|i| i.since_micros).min() { (views::time(first)) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="health-heading" {
            h2 id="health-heading" { "Pipeline health" }
            dl class="facts" {
                dt { "Events stored" } dd { (events_stored) }
                dt { "Last event sequence number" } dd { (last_seq) }
                dt { "Pipeline cursor" } dd { (pipeline) }
                dt { "Pipeline lag" } dd { (last_seq.saturating_sub(pipeline)) " events" }
                dt { "Alerts stored" } dd { (alerts_stored) }
                dt { "Console index" } dd { "events to " (index_events) ", alerts to " (index_alerts) " (lag " (last_seq.saturating_sub(index_events)) " events)" }
                dt { "Store" } dd { (store.backend()) }
            }
        }
    };
    Ok(page(layout(
        "Overview",
        Some(&session),
        Nav::Overview,
        body,
    )))
}

// ---------------------------------------------------------------- alerts

pub fn alerts(state: &ConsoleState, headers: &HeaderMap, query: &Fields) -> PageResult {
    let session = session(state, headers)?;
    require_cases(&session)?;
    let filter = AlertFilter::from_pairs(query);
    let (rows, total, detectors) = {
        let conn = state.db();
        let (rows, total) = queries::list_alerts(&conn, &filter, &session.user_name)?;
        (rows, total, queries::detectors(&conn)?)
    };
    let pages = total.div_ceil(queries::PAGE_SIZE);
    let body = html! {
        h1 { "Alerts" }
        form method="get" action={ (MOUNT) "/alerts" } class="filters" aria-label="Filter alerts" {
            div {
                label for="f-detector" { "Detector" }
                select id="f-detector" name="detector" {
                    option value="" { "Any" }
                    @for detector in &detectors {
                        option value=(detector) selected[filter.detector.as_deref() == Some(detector.as_str())] { (detector) }
                    }
                }
            }
            div {
                label for="f-severity" { "Severity at least" }
                select id="f-severity" name="severity" {
                    option value="" { "Any" }
                    @for severity in custos_store::Severity::ALL {
                        option value=(severity.as_str()) selected[filter.min_severity == Some(severity)] { (severity.as_str()) }
                    }
                }
            }
            div {
                label for="f-entity" { "Entity id" }
                input id="f-entity" name="entity" type="text" value=[filter.entity.as_deref()] maxlength="128" autocomplete="off";
            }
            div {
                label for="f-status" { "Status" }
                select id="f-status" name="status" {
                    @for status in StatusFilter::ALL {
                        option value=(status.as_str()) selected[filter.status == status] { (status.label()) }
                    }
                }
            }
            div {
                label for="f-sort" { "Order" }
                select id="f-sort" name="sort" {
                    option value="newest" selected[filter.sort == queries::Sort::Newest] { "Newest first" }
                    option value="oldest" selected[filter.sort == queries::Sort::Oldest] { "Oldest first" }
                }
            }
            div { button type="submit" { "Apply filters" } }
        }
        p role="status" { (total) " alerts match." }
        @if !rows.is_empty() {
            div class="table-wrap" {
                table class="alerts" {
                    caption class="visually-hidden" { "Alerts matching the filters" }
                    thead { tr {
                        th scope="col" { "Alert" }
                        th scope="col" { "Time" }
                        th scope="col" { "Detector" }
                        th scope="col" { "Severity" }
                        th scope="col" { "Entity" }
                        th scope="col" { "Status" }
                        th scope="col" { "Assignee" }
                    } }
                    tbody {
                        @for row in &rows { (alert_row(row)) }
                    }
                }
            }
            (views::pager(filter.page, pages, |p| format!("{MOUNT}/alerts?{}", filter.query_string(p))))
        }
    };
    Ok(page(layout("Alerts", Some(&session), Nav::Alerts, body)))
}

fn alert_row(row: &AlertRow) -> Markup {
    html! {
        tr {
            th scope="row" { a href={ (MOUNT) "/alerts/" (queries::url_encode(&row.alert_id)) } { (row.alert_id) } }
            td { (views::time(row.ts_micros)) }
            td { (row.detector) }
            td { (views::severity(row.severity)) }
            td { (views::entity(&row.entity_kind, &row.entity_id)) }
            td { (views::status(&row.status, row.resolution.as_deref())) }
            td { (row.assignee.as_deref().unwrap_or("—")) }
        }
    }
}

/// An alert's JSON, read tolerantly (a page shows what it can).
#[derive(Deserialize)]
struct AlertBody {
    #[serde(default)]
    score: f64,
    #[serde(default)]
    reasons: Vec<ReasonBody>,
    #[serde(default)]
    evidence: Vec<String>,
    #[serde(default)]
    response: Vec<String>,
    #[serde(default)]
    ranking: Option<Vec<RankingBody>>,
}

#[derive(Deserialize)]
struct ReasonBody {
    code: String,
    #[serde(default)]
    detail: String,
}

#[derive(Deserialize)]
struct RankingBody {
    agent_id: String,
    #[serde(default)]
    observed: f64,
    #[serde(default)]
    expected: f64,
    #[serde(default)]
    p_value: f64,
}

/// Evidence events a detail page shows at most.
const MAX_EVIDENCE: usize = 50;

/// The event with sequence number `seq`.
pub(crate) fn event_at(
    state: &ConsoleState,
    seq: u64,
) -> Result<Option<StoredEvent>, ConsoleError> {
    let events = state.store().read_events(seq.saturating_sub(1), 1)?;
    Ok(events.into_iter().next().filter(|e| e.seq == seq))
}

pub fn alert_detail(state: &ConsoleState, headers: &HeaderMap, alert_id: &str) -> PageResult {
    let session = session(state, headers)?;
    require_cases(&session)?;
    let (row, history) = {
        let conn = state.db();
        let row = queries::alert(&conn, alert_id)?;
        (row, queries::triage_history(&conn, alert_id)?)
    };
    let Some(row) = row else {
        return Err(PageError::NotFound(format!("no alert `{alert_id}`")));
    };
    let page_of_one = state.store().query_alerts(&AlertQuery {
        after_seq: Some(row.seq.saturating_sub(1)),
        limit: 1,
        ..AlertQuery::default()
    })?;
    let body: AlertBody = page_of_one
        .alerts
        .first()
        .filter(|a| a.alert_id == row.alert_id)
        .and_then(|a| serde_json::from_str(&a.json).ok())
        .ok_or_else(|| PageError::NotFound(format!("alert `{alert_id}` is not in the store")))?;
    // Evidence: ids, looked up in the index, bodies read from the store.
    let mut timeline: Vec<(String, Option<StoredEvent>)> = Vec::new();
    {
        let seqs: Vec<(String, Vec<u64>)> = {
            let conn = state.db();
            body.evidence
                .iter()
                .take(MAX_EVIDENCE)
                .map(|id| Ok((id.clone(), queries::event_seqs(&conn, id, 3)?)))
                .collect::<Result<_, ConsoleError>>()?
        };
        for (id, seqs) in seqs {
            if seqs.is_empty() {
                timeline.push((id.clone(), None));
            }
            for seq in seqs {
                timeline.push((id.clone(), event_at(state, seq)?));
            }
        }
    }
    timeline.sort_by_key(|(_, event)| event.as_ref().map_or(i64::MAX, |e| e.ts_micros));
    let own_case = is_own_case(&session.user_name, &row.entity_id);
    let back = format!("{MOUNT}/alerts/{}", queries::url_encode(&row.alert_id));
    let body_markup = html! {
        p class="crumbs" { a href={ (MOUNT) "/alerts" } { "Alerts" } " / " (row.alert_id) }
        h1 { "Alert " (row.alert_id) }
        dl class="facts" {
            dt { "Detector" } dd { (row.detector) }
            dt { "Severity" } dd { (views::severity(row.severity)) " score " (format!("{:.2}", body.score)) }
            dt { "Entity" } dd { (views::entity(&row.entity_kind, &row.entity_id)) }
            dt { "Time" } dd { (views::time(row.ts_micros)) }
            dt { "Response taken" } dd {
                @if body.response.is_empty() { "none" }
                @for action in &body.response { span class="badge cm" { (action) } " " }
            }
            dt { "Status" } dd { (views::status(&row.status, row.resolution.as_deref())) }
            dt { "Assignee" } dd { (row.assignee.as_deref().unwrap_or("nobody")) }
        }
        section aria-labelledby="reasons-heading" {
            h2 id="reasons-heading" { "Reasons" }
            ul class="reasons" {
                @for reason in &body.reasons {
                    li { code { (reason.code) } " — " (reason.detail) }
                }
            }
        }
        @if let Some(ranking) = &body.ranking {
            section aria-labelledby="ranking-heading" {
                h2 id="ranking-heading" { "Ranking" }
                div class="table-wrap" {
                    table {
                        caption { "Agents ranked by shared lookups of the reporting victims" }
                        thead { tr { th scope="col" { "Agent" } th scope="col" class="num" { "Observed" } th scope="col" class="num" { "Expected" } th scope="col" class="num" { "p-value" } } }
                        tbody {
                            @for entry in ranking.iter().take(20) {
                                tr {
                                    th scope="row" { (views::entity("agent", &entry.agent_id)) }
                                    td class="num" { (format!("{:.0}", entry.observed)) }
                                    td class="num" { (format!("{:.2}", entry.expected)) }
                                    td class="num" { (format!("{:.1e}", entry.p_value)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="triage-heading" {
            h2 id="triage-heading" { "Triage" }
            @if own_case {
                p class="notice" { "This alert is about you: someone else triages it." }
            } @else if session.role.can_triage() {
                div class="actions" {
                    form method="post" action={ (back) "/triage" } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        input type="hidden" name="action" value="assign";
                        button type="submit" { "Assign to me" }
                    }
                    form method="post" action={ (back) "/triage" } {
                        input type="hidden" name="csrf" value=(session.csrf);
                        input type="hidden" name="action" value="acknowledge";
                        button type="submit" { "Acknowledge" }
                    }
                    form method="post" action={ (back) "/triage" } class="resolve" {
                        input type="hidden" name="csrf" value=(session.csrf);
                        input type="hidden" name="action" value="resolve";
                        label for="resolution" { "Resolution" }
                        select id="resolution" name="resolution" required {
                            option value="" { "Choose…" }
                            @for resolution in Resolution::ALL {
                                option value=(resolution.as_str()) { (resolution.label()) }
                            }
                        }
                        button type="submit" { "Resolve" }
                    }
                    @if row.status == "resolved" {
                        form method="post" action={ (back) "/triage" } {
                            input type="hidden" name="csrf" value=(session.csrf);
                            input type="hidden" name="action" value="reopen";
                            button type="submit" class="secondary" { "Reopen" }
                        }
                    }
                }
            }
            h3 { "History" }
            @if history.is_empty() {
                p { "No triage yet." }
            } @else {
                ol class="history" {
                    @for entry in &history {
                        li {
                            (views::time_secs(entry.at)) " — " (entry.user) " " (entry.action)
                            @if let Some(detail) = &entry.detail { ": " (detail) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="evidence-heading" {
            h2 id="evidence-heading" { "Evidence timeline" }
            p class="help" { "Values other than ids and field names are masked; message text is a short preview with digits masked." }
            @if body.evidence.len() > MAX_EVIDENCE {
                p { "Showing the first " (MAX_EVIDENCE) " of " (body.evidence.len()) " evidence events." }
            }
            ol class="timeline" {
                @for (id, event) in &timeline {
                    li { (event_item(id, event.as_ref())) }
                }
            }
        }
    };
    Ok(page(layout(
        &format!("Alert {}", row.alert_id),
        Some(&session),
        Nav::Alerts,
        body_markup,
    )))
}

/// One event of a timeline: time, type, id, masked fields.
fn event_item(id: &str, event: Option<&StoredEvent>) -> Markup {
    html! {
        @match event {
            None => { span class="muted" { "event " code { (id) } " is not in the store" } },
            Some(event) => {
                div class="event-head" {
                    (views::time(event.ts_micros)) " "
                    span class="badge type" { (event.event_type) } " "
                    code { (event.event_id) }
                }
                dl class="fields" {
                    @for field in mask::shown_fields(&event.raw) {
                        dt { (field.name) } dd { (field.value) }
                    }
                }
            }
        }
    }
}

pub fn triage(
    state: &ConsoleState,
    headers: &HeaderMap,
    alert_id: &str,
    form: &Fields,
) -> PageResult {
    let session = post_session(state, headers, form)?;
    if !session.role.can_triage() {
        return Err(PageError::Forbidden(format!(
            "the `{}` role cannot triage alerts",
            session.role
        )));
    }
    let back = format!("{MOUNT}/alerts/{}", queries::url_encode(alert_id));
    let action = match form.get("action").map(String::as_str) {
        Some("assign") => TriageAction::AssignToMe,
        Some("acknowledge") => TriageAction::Acknowledge,
        Some("reopen") => TriageAction::Reopen,
        Some("resolve") => match form.get("resolution").and_then(|r| Resolution::parse(r)) {
            Some(resolution) => TriageAction::Resolve(resolution),
            None => {
                return Err(PageError::BadRequest(
                    "choose a resolution: true positive, benign or duplicate".to_owned(),
                    Some(session),
                    Some(back),
                ));
            }
        },
        _ => {
            return Err(PageError::BadRequest(
                "unknown triage action".to_owned(),
                Some(session),
                Some(back),
            ));
        }
    };
    let mut conn = state.db();
    let Some(row) = queries::alert(&conn, alert_id)? else {
        return Err(PageError::NotFound(format!("no alert `{alert_id}`")));
    };
    if is_own_case(&session.user_name, &row.entity_id) {
        return Err(PageError::Forbidden(
            "nobody triages an alert about themselves".to_owned(),
        ));
    }
    queries::triage(&mut conn, alert_id, &session.user_name, action, state.now())?;
    tracing::info!(
        user = session.user_name,
        alert_id,
        ?action,
        "console triage"
    );
    Ok(redirect(&back))
}

// ---------------------------------------------------------------- agents

pub fn agent_lookup(state: &ConsoleState, headers: &HeaderMap, query: &Fields) -> PageResult {
    let session = session(state, headers)?;
    require_cases(&session)?;
    match query
        .get("id")
        .map(|id| id.trim())
        .filter(|id| !id.is_empty())
    {
        Some(id) => Ok(redirect(&format!(
            "{MOUNT}/agents/{}",
            queries::url_encode(id)
        ))),
        None => Ok(redirect(&format!("{MOUNT}/"))),
    }
}

/// Recent events an agent page shows per page.
const AGENT_EVENTS: usize = 50;

pub fn agent(
    state: &ConsoleState,
    headers: &HeaderMap,
    agent_id: &str,
    query: &Fields,
) -> PageResult {
    let session = session(state, headers)?;
    require_cases(&session)?;
    let before = query.get("before").and_then(|b| b.parse::<u64>().ok());
    let (alerts, seqs, in_force, releases) = {
        let conn = state.db();
        (
            queries::entity_alerts(&conn, "agent", agent_id, 50)?,
            queries::agent_event_seqs(&conn, agent_id, before, AGENT_EVENTS)?,
            queries::in_force(&conn, "agent", Some(agent_id))?,
            queries::releases(&conn, "agent", agent_id)?,
        )
    };
    let record = state
        .store()
        .directory_current(custos_store::DirectoryKind::Agent, agent_id)?;
    if record.is_none() && alerts.is_empty() && seqs.is_empty() {
        return Err(PageError::NotFound(format!("no agent `{agent_id}`")));
    }
    let mut events = Vec::with_capacity(seqs.len());
    for seq in &seqs {
        if let Some(event) = event_at(state, *seq)? {
            events.push(event);
        }
    }
    let points = feature_points(state, &alerts)?;
    let own_case = is_own_case(&session.user_name, agent_id);
    let has_passkey = state.relying_party().is_some()
        && crate::passkeys::has_passkey(&state.db(), session.user_id)?;
    let self_url = format!("{MOUNT}/agents/{}", queries::url_encode(agent_id));
    let released = query.get("released");
    let body = html! {
        h1 { "Agent " (agent_id) }
        @if let Some(action) = released {
            p class="notice ok" role="status" { "Released " (action) ". The release is in the event log and the pipeline applies it." }
        }
        section aria-labelledby="dir-heading" {
            h2 id="dir-heading" { "Directory record" }
            @match &record {
                None => p { "No directory record." },
                Some(record) => {
                    dl class="facts" {
                        dt { "Since" } dd { (views::time(record.ts_micros)) }
                        @for field in mask::shown_fields(&record.raw) {
                            dt { (field.name) } dd { (field.value) }
                        }
                    }
                }
            }
        }
        section aria-labelledby="cm-heading" {
            h2 id="cm-heading" { "Countermeasures in force" }
            @if in_force.is_empty() {
                p { "None." }
            } @else {
                ul class="in-force" {
                    @for item in &in_force {
                        li {
                            span class="badge cm" { (item.action) } " since " (views::time(item.since_micros))
                            @if !item.alert_id.is_empty() {
                                " (alert " a href={ (MOUNT) "/alerts/" (queries::url_encode(&item.alert_id)) } { (item.alert_id) } ")"
                            }
                        }
                    }
                }
                @if own_case {
                    p class="notice" { "These countermeasures are on you: someone else decides on them." }
                } @else if session.role.can_release() {
                    form method="post" action={ (self_url) "/release" } class="stack release" data-confirm="Release this countermeasure? It is recorded with your name." {
                        input type="hidden" name="csrf" value=(session.csrf);
                        h3 { "Release a countermeasure" }
                        label for="release-action" { "Countermeasure" }
                        select id="release-action" name="action" required {
                            @for item in &in_force { option value=(item.action) { (item.action) } }
                        }
                        label for="release-reason" { "Reason (recorded)" }
                        textarea id="release-reason" name="reason" required minlength="5" maxlength="500" rows="3" {}
                        label for="release-code" { "Authenticator code (step-up)" }
                        input id="release-code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="7" aria-describedby="release-code-help";
                        p id="release-code-help" class="help" { "Releasing is sensitive: enter a fresh code from your authenticator app." }
                        (crate::passkeys::step_up_choice(has_passkey, "Release"))
                        button type="submit" class="danger" { "Release" }
                    }
                } @else {
                    p class="help" { "Only a lead or an admin may release a countermeasure." }
                }
            }
        }
        section aria-labelledby="features-heading" {
            h2 id="features-heading" { "Against baseline and peers" }
            @if points.is_empty() {
                p { "No behaviour alert states this agent's numbers yet." }
            } @else {
                p class="help" { "From the last " (points.len()) " behaviour alerts: what the detector measured, the agent's own norm and the peer group's median." }
                (crate::agent_charts::feature_charts(&points))
            }
        }
        section aria-labelledby="alerts-heading" {
            h2 id="alerts-heading" { "Alerts" }
            @if alerts.is_empty() { p { "None." } } @else {
                div class="table-wrap" {
                    table {
                        caption class="visually-hidden" { "Alerts about this agent, newest first" }
                        thead { tr {
                            th scope="col" { "Alert" } th scope="col" { "Time" } th scope="col" { "Detector" }
                            th scope="col" { "Severity" } th scope="col" { "Entity" } th scope="col" { "Status" } th scope="col" { "Assignee" }
                        } }
                        tbody { @for row in &alerts { (alert_row(row)) } }
                    }
                }
            }
        }
        section aria-labelledby="releases-heading" {
            h2 id="releases-heading" { "Releases" }
            @if releases.is_empty() { p { "None." } } @else {
                ul {
                    @for release in &releases {
                        li { (views::time(release.ts_micros)) " — " (release.released_by) " released " span class="badge cm" { (release.action) } ": " (release.reason) }
                    }
                }
            }
        }
        section aria-labelledby="access-heading" {
            h2 id="access-heading" { "Recent accesses and sessions" }
            @if events.is_empty() { p { "None." } } @else {
                ol class="timeline" {
                    @for event in &events { li { (event_item(&event.event_id, Some(event))) } }
                }
                @if seqs.len() == AGENT_EVENTS {
                    @if let Some(last) = seqs.last() {
                        p { a href={ (self_url) "?before=" (last) } { "Older events →" } }
                    }
                }
            }
        }
    };
    Ok(page(layout(
        &format!("Agent {agent_id}"),
        Some(&session),
        Nav::Agents,
        body,
    )))
}

/// Behaviour alerts whose numbers the agent page charts at most.
const CHARTED_ALERTS: usize = 12;

/// The charted numbers of the newest `agent_behavior` alerts, oldest first.
fn feature_points(
    state: &ConsoleState,
    alerts: &[AlertRow],
) -> Result<Vec<crate::agent_charts::FeaturePoint>, PageError> {
    let mut points = Vec::new();
    for row in alerts
        .iter()
        .filter(|row| row.detector == "agent_behavior")
        .take(CHARTED_ALERTS)
    {
        let page_of_one = state.store().query_alerts(&AlertQuery {
            after_seq: Some(row.seq.saturating_sub(1)),
            limit: 1,
            ..AlertQuery::default()
        })?;
        let Some(body) = page_of_one
            .alerts
            .first()
            .filter(|a| a.alert_id == row.alert_id)
            .and_then(|a| serde_json::from_str::<AlertBody>(&a.json).ok())
        else {
            continue;
        };
        let reasons: Vec<(String, String)> = body
            .reasons
            .into_iter()
            .map(|r| (r.code, r.detail))
            .collect();
        if let Some(point) = crate::agent_charts::point(&row.alert_id, row.ts_micros, &reasons) {
            points.push(point);
        }
    }
    points.reverse();
    Ok(points)
}

/// Characters a release reason may have.
const REASON_CHARS: std::ops::RangeInclusive<usize> = 5..=500;

pub fn release(
    state: &ConsoleState,
    headers: &HeaderMap,
    agent_id: &str,
    form: &Fields,
) -> PageResult {
    let session = post_session(state, headers, form)?;
    if !session.role.can_release() {
        return Err(PageError::Forbidden(format!(
            "the `{}` role cannot release countermeasures",
            session.role
        )));
    }
    if is_own_case(&session.user_name, agent_id) {
        return Err(PageError::Forbidden(
            "nobody releases their own countermeasure".to_owned(),
        ));
    }
    let back = format!("{MOUNT}/agents/{}", queries::url_encode(agent_id));
    let bad = |message: &str| {
        PageError::BadRequest(
            message.to_owned(),
            Some(session.clone()),
            Some(back.clone()),
        )
    };
    let action_text = form.get("action").map_or("", String::as_str);
    let Some(action) = ResponseAction::parse(action_text) else {
        return Err(bad("choose a countermeasure to release"));
    };
    let reason = form.get("reason").map_or("", |r| r.trim());
    if !REASON_CHARS.contains(&reason.chars().count()) {
        return Err(bad("a release needs a reason of 5 to 500 characters"));
    }
    let now = state.now();
    {
        let conn = state.db();
        let in_force = queries::in_force(&conn, "agent", Some(agent_id))?;
        if !in_force.iter().any(|item| item.action == action.as_str()) {
            return Err(bad("that countermeasure is not in force on this agent"));
        }
    }
    // Step-up: a fresh TOTP code or a passkey, rate limited like a sign-in.
    let method = crate::passkeys::console_step_up(state, headers, &session, form)?;
    let event_id = format!("cr-{}", hex(&random_bytes::<8>()?));
    let event = Event {
        id: EventId::parse(event_id.clone())
            .map_err(|_| ConsoleError::Invalid("release event id".to_owned()))?,
        ts: EventTime::from_unix_secs(now),
        body: EventBody::CountermeasureRelease(CountermeasureRelease {
            entity: Entity::new(EntityKind::Agent, agent_id),
            action,
            released_by: session.user_name.clone(),
            reason: reason.to_owned(),
        }),
    };
    let new_event = NewEvent {
        event_id: event_id.clone(),
        event_type: "countermeasure_release".to_owned(),
        ts_micros: event.ts.as_micros(),
        raw: custos_core::parse::to_json_line(&event),
        directory: None,
    };
    let receipt = state
        .store()
        .append_events(std::slice::from_ref(&new_event))?;
    {
        let conn = state.db();
        queries::log_release(
            &conn,
            &queries::LoggedRelease {
                user: &session.user_name,
                entity_kind: "agent",
                entity_id: agent_id,
                action: action.as_str(),
                reason,
                event_id: &event_id,
                seq: receipt.last_seq,
            },
            now,
        )?;
    }
    tracing::info!(
        user = session.user_name,
        agent_id,
        action = action.as_str(),
        seq = receipt.last_seq,
        step_up = ?method,
        "console released a countermeasure"
    );
    // Let the page after the redirect show the release at once.
    if let Err(error) = state.index_steps(4) {
        tracing::warn!(%error, "console index did not catch up after a release");
    }
    Ok(redirect(&format!("{back}?released={}", action.as_str())))
}

pub fn not_found(state: &ConsoleState, headers: &HeaderMap) -> PageResult {
    let session = session(state, headers).ok();
    Ok((
        StatusCode::NOT_FOUND,
        page(views::error_page(
            "Not found",
            "no such page",
            session.as_ref(),
            Some(&format!("{MOUNT}/")),
        )),
    )
        .into_response())
}
