//! `Router::oneshot` tests of the console: sign-in, sessions, CSRF, roles,
//! triage, release, masking and headers, over a small seeded SQLite store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::users::PasswordCost;
use crate::{ConsoleSettings, ConsoleState, Role, totp};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use custos_core::EventTime;
use custos_core::alert::{Alert, Entity, EntityKind, ResponseAction, Severity};
use custos_core::id::EventId;
use custos_store::{DirectoryKind, DirectoryUpdate, NewAlert, NewEvent, SqliteStore, Store};
use http_body_util::BodyExt;
use std::sync::Arc;
use tower::ServiceExt;

pub(crate) const PASSWORD: &str = "correct horse battery staple";

pub(crate) struct Fixture {
    pub(crate) _dir: tempfile::TempDir,
    pub(crate) state: ConsoleState,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) app: Router,
}

pub(crate) fn event(
    id: &str,
    ts: &str,
    raw: serde_json::Value,
    directory: Option<(DirectoryKind, &str)>,
) -> NewEvent {
    let mut raw = raw;
    raw["id"] = serde_json::Value::String(id.to_owned());
    raw["ts"] = serde_json::Value::String(ts.to_owned());
    NewEvent {
        event_id: id.to_owned(),
        event_type: raw["type"].as_str().unwrap().to_owned(),
        ts_micros: EventTime::parse(ts).unwrap().as_micros(),
        raw: raw.to_string(),
        directory: directory.map(|(kind, id)| DirectoryUpdate {
            kind,
            id: id.to_owned(),
        }),
    }
}

pub(crate) fn new_alert(alert: &Alert) -> NewAlert {
    NewAlert {
        alert_id: alert.alert_id.clone(),
        ts_micros: alert.ts.as_micros(),
        detector: alert.detector.clone(),
        entity_kind: alert.entity.kind.as_str().to_owned(),
        entity_id: alert.entity.id.clone(),
        severity: match alert.severity {
            Severity::Low => custos_store::Severity::Low,
            Severity::Medium => custos_store::Severity::Medium,
            Severity::High => custos_store::Severity::High,
            Severity::Critical => custos_store::Severity::Critical,
        },
        json: alert.to_json(),
    }
}

pub(crate) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("store")).unwrap());
    store
        .append_events(&[
            event(
                "e1",
                "2025-03-03T00:00:00Z",
                serde_json::json!({"type":"agent","agent_id":"a-0001","team":"tier1-chat","role":"support_l1","site":"IN"}),
                Some((DirectoryKind::Agent, "a-0001")),
            ),
            event(
                "e2",
                "2025-03-04T10:00:00Z",
                serde_json::json!({"type":"agent_access","agent_id":"a-0001","customer_id":"c-77","ticket_id":null,"action":"reveal","fields":["national_id"],"ip":"203.0.113.7","device_id":"dev-1"}),
                None,
            ),
            event(
                "e3",
                "2025-03-04T10:05:00Z",
                serde_json::json!({"type":"message","conversation_id":"conv-1","channel":"phone","direction":"inbound","sender_role":"unknown","customer_id":"c-77","text":"This is support, read me the code 482913 we just sent to your phone +1 415 555 0100 now please"}),
                None,
            ),
        ])
        .unwrap();
    let suspend = Alert::new(
        "agent_behavior",
        EventTime::parse("2025-03-04T10:01:00Z").unwrap(),
        Entity::new(EntityKind::Agent, "a-0001"),
        Severity::Critical,
        0.97,
    )
    .reason(
        "off_ticket_access",
        "31 of 40 records had no ticket <script>alert(1)</script>",
    )
    .evidence(EventId::parse("e2").unwrap())
    .evidence(EventId::parse("e3").unwrap())
    .respond(ResponseAction::SuspendAccess)
    .respond(ResponseAction::NotifySecurity);
    let mut suspend = suspend;
    suspend.alert_id = "al-1".to_owned();
    let mut medium = Alert::new(
        "conversation",
        EventTime::parse("2025-03-04T10:06:00Z").unwrap(),
        Entity::new(EntityKind::Conversation, "conv-1"),
        Severity::Medium,
        0.6,
    )
    .reason("credential_request", "asks for a code")
    .evidence(EventId::parse("e3").unwrap());
    medium.alert_id = "al-2".to_owned();
    store
        .append_alerts(&[new_alert(&suspend), new_alert(&medium)], "pipeline", 3)
        .unwrap();
    let settings = ConsoleSettings {
        password_cost: PasswordCost {
            memory_kib: 64,
            iterations: 1,
        },
        index_thread: false,
        ..ConsoleSettings::default()
    };
    let state =
        ConsoleState::open_with(&dir.path().join("console"), store.clone(), settings).unwrap();
    state.sync_index().unwrap();
    for (name, role) in [
        ("ana", Role::Analyst),
        ("lee", Role::Lead),
        ("sam", Role::Agent),
        ("a-0001", Role::Lead),
    ] {
        state.create_user(name, role, PASSWORD).unwrap();
    }
    let app = crate::router(state.clone());
    Fixture {
        _dir: dir,
        state,
        store,
        app,
    }
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: axum::http::HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of the first hidden `csrf` field.
    pub(crate) fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

impl Fixture {
    pub(crate) async fn call(
        &self,
        method: &str,
        uri: &str,
        cookie: Option<&str>,
        form: Option<&str>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        let body = match form {
            Some(form) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(form.to_owned())
            }
            None => Body::empty(),
        };
        let response = self
            .app
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub(crate) async fn get(&self, uri: &str, cookie: &str) -> Answer {
        self.call("GET", uri, Some(cookie), None).await
    }

    pub(crate) async fn post(&self, uri: &str, cookie: &str, form: &str) -> Answer {
        self.call("POST", uri, Some(cookie), Some(form)).await
    }

    pub(crate) fn code(&self, name: &str) -> String {
        let secret: Vec<u8> = self
            .state
            .db()
            .query_row(
                "SELECT totp_secret FROM users WHERE name = ?1",
                [name],
                |row| row.get(0),
            )
            .unwrap();
        totp::code_at(&secret, self.state.now())
    }

    /// Submits the sign-in form; returns the answer and the pre-session cookie used.
    pub(crate) async fn try_sign_in(&self, name: &str, password: &str, code: &str) -> Answer {
        let form = self.call("GET", "/console/signin", None, None).await;
        assert_eq!(form.status, StatusCode::OK);
        let pre = form.cookie(crate::PRE_COOKIE).unwrap();
        let pre = pre.split(';').next().unwrap().to_owned();
        let body = format!(
            "csrf={}&name={name}&password={}&code={code}",
            form.csrf(),
            password.replace(' ', "+")
        );
        self.post("/console/signin", &pre, &body).await
    }

    /// Signs in; returns the session cookie (`name=value`).
    /// The code of the last step `name` used (a replay of it must fail),
    /// whatever step the wall clock has moved on to since.
    pub(crate) fn last_used_code(&self, name: &str) -> String {
        let (secret, step): (Vec<u8>, i64) = self
            .state
            .db()
            .query_row(
                "SELECT totp_secret, totp_last_step FROM users WHERE name = ?1",
                [name],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .unwrap();
        totp::code_at(&secret, step * totp::TOTP_PERIOD_SECS)
    }

    pub(crate) async fn sign_in(&self, name: &str) -> String {
        let code = self.code(name);
        let answer = self.try_sign_in(name, PASSWORD, &code).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(answer.location(), "/console/");
        let cookie = answer.cookie(crate::SESSION_COOKIE).unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// The session's CSRF token, read off a page.
    pub(crate) async fn csrf(&self, cookie: &str) -> String {
        self.get("/console/", cookie).await.csrf()
    }
}

#[tokio::test]
async fn without_a_session_every_page_redirects_to_sign_in() {
    let f = fixture();
    for uri in [
        "/console/",
        "/console/alerts",
        "/console/alerts/al-1",
        "/console/agents/a-0001",
    ] {
        let answer = f.call("GET", uri, None, None).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{uri}");
        assert_eq!(answer.location(), "/console/signin", "{uri}");
    }
    let answer = f
        .call(
            "POST",
            "/console/alerts/al-1/triage",
            Some("custos_console=forged"),
            Some("action=assign"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/console/signin");
    assert_eq!(
        f.call("GET", "/console", None, None).await.location(),
        "/console/"
    );
}

#[tokio::test]
async fn signing_in_sets_a_locked_down_session_cookie() {
    let f = fixture();
    let code = f.code("ana");
    let answer = f.try_sign_in("ana", PASSWORD, &code).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let cookie = answer.cookie(crate::SESSION_COOKIE).unwrap();
    assert!(
        cookie.ends_with("; HttpOnly; Secure; SameSite=Strict; Path=/console"),
        "{cookie}"
    );
    let id = cookie.split(';').next().unwrap().split('=').nth(1).unwrap();
    assert_eq!(id.len(), 64, "256 bits in hex");
    // Stored hashed: the raw id is nowhere in the database.
    let stored: String = f
        .state
        .db()
        .query_row("SELECT id_hash FROM sessions", [], |row| row.get(0))
        .unwrap();
    assert_ne!(stored, id);
    assert_eq!(stored, crate::crypto::sha256_hex(id));
    let page = f.get("/console/", cookie.split(';').next().unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ana · analyst"));
}

#[tokio::test]
async fn wrong_password_wrong_code_and_replayed_code_are_refused_alike() {
    let f = fixture();
    let code = f.code("ana");
    let wrong_password = f.try_sign_in("ana", "not the password at all", &code).await;
    let wrong_code = f
        .try_sign_in(
            "ana",
            PASSWORD,
            if code == "000000" { "111111" } else { "000000" },
        )
        .await;
    let unknown_user = f.try_sign_in("nobody", PASSWORD, &code).await;
    for answer in [&wrong_password, &wrong_code, &unknown_user] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.cookie(crate::SESSION_COOKIE).is_none());
        assert!(answer.body.contains("wrong user name, password or code"));
    }
    // The right code works once; the same code again is a replay.
    assert_eq!(
        f.try_sign_in("ana", PASSWORD, &code).await.status,
        StatusCode::SEE_OTHER
    );
    let replay = f.try_sign_in("ana", PASSWORD, &code).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_user() {
    let f = fixture();
    for _ in 0..5 {
        let answer = f
            .try_sign_in("lee", "guessing the password", "123456")
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }
    let code = f.code("lee");
    let locked = f.try_sign_in("lee", PASSWORD, &code).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.cookie(crate::SESSION_COOKIE).is_none());
    // Another user is not affected; the window passes.
    f.sign_in("ana").await;
    f.state.advance_clock(16 * 60);
    f.sign_in("lee").await;
}

#[tokio::test]
async fn sign_in_without_its_csrf_token_is_forbidden() {
    let f = fixture();
    let code = f.code("ana");
    let answer = f
        .call(
            "POST",
            "/console/signin",
            None,
            Some(&format!("name=ana&password={PASSWORD}&code={code}")),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.cookie(crate::SESSION_COOKIE).is_none());
}

#[tokio::test]
async fn posts_without_the_sessions_csrf_token_are_forbidden() {
    let f = fixture();
    let cookie = f.sign_in("lee").await;
    let missing = f
        .post("/console/alerts/al-1/triage", &cookie, "action=assign")
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = f
        .post(
            "/console/alerts/al-1/triage",
            &cookie,
            &format!("csrf={}&action=assign", "0".repeat(64)),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let release = f
        .post(
            "/console/agents/a-0001/release",
            &cookie,
            "action=suspend_access&reason=benign+QA&code=000000",
        )
        .await;
    assert_eq!(release.status, StatusCode::FORBIDDEN);
    let signout = f.post("/console/signout", &cookie, "").await;
    assert_eq!(signout.status, StatusCode::FORBIDDEN);
    assert!(
        f.store.read_events(3, 10).unwrap().is_empty(),
        "nothing appended"
    );
}

#[tokio::test]
async fn triage_assigns_acknowledges_resolves_and_records_history() {
    let f = fixture();
    let cookie = f.sign_in("ana").await;
    let csrf = f.csrf(&cookie).await;
    for form in [
        format!("csrf={csrf}&action=assign"),
        format!("csrf={csrf}&action=acknowledge"),
        format!("csrf={csrf}&action=resolve&resolution=benign"),
    ] {
        let answer = f.post("/console/alerts/al-1/triage", &cookie, &form).await;
        assert_eq!(
            answer.status,
            StatusCode::SEE_OTHER,
            "{form}: {}",
            answer.body
        );
        assert_eq!(answer.location(), "/console/alerts/al-1");
    }
    let bad = f
        .post(
            "/console/alerts/al-1/triage",
            &cookie,
            &format!("csrf={csrf}&action=resolve&resolution=maybe"),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let detail = f.get("/console/alerts/al-1", &cookie).await;
    assert!(detail.body.contains("resolved: benign"), "{}", detail.body);
    assert!(detail.body.contains("ana assign"));
    assert!(detail.body.contains("ana acknowledge"));
    assert!(detail.body.contains("ana resolve: benign"));
    // The feedback label is stored by alert id.
    let label: String = f
        .state
        .db()
        .query_row(
            "SELECT resolution FROM triage WHERE alert_id = 'al-1'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert_eq!(label, "benign");
    // Open alerts no longer list it; resolved ones do.
    let open = f.get("/console/alerts", &cookie).await;
    assert!(!open.body.contains("href=\"/console/alerts/al-1\""));
    assert!(open.body.contains("href=\"/console/alerts/al-2\""));
    let resolved = f.get("/console/alerts?status=resolved", &cookie).await;
    assert!(resolved.body.contains("href=\"/console/alerts/al-1\""));
    assert!(resolved.body.contains("1 alerts match."));
}

#[tokio::test]
async fn the_queue_filters_by_detector_severity_and_entity() {
    let f = fixture();
    let cookie = f.sign_in("ana").await;
    let check = |query: &'static str, expect: &'static [&'static str]| {
        let f = &f;
        let cookie = cookie.clone();
        async move {
            let page = f.get(&format!("/console/alerts?{query}"), &cookie).await;
            assert_eq!(page.status, StatusCode::OK);
            for id in ["al-1", "al-2"] {
                let listed = page
                    .body
                    .contains(&format!("href=\"/console/alerts/{id}\""));
                assert_eq!(listed, expect.contains(&id), "{query}: {id}");
            }
        }
    };
    check("", &["al-1", "al-2"]).await;
    check("detector=conversation", &["al-2"]).await;
    check("severity=high", &["al-1"]).await;
    check("entity=a-0001", &["al-1"]).await;
    check("status=mine", &[]).await;
    check("severity=bogus&page=-3", &["al-1", "al-2"]).await;
    let page = f.get("/console/alerts?sort=oldest", &cookie).await;
    let first = page.body.find("/console/alerts/al-1\"").unwrap();
    let second = page.body.find("/console/alerts/al-2\"").unwrap();
    assert!(first < second, "oldest first");
}

#[tokio::test]
async fn alert_detail_shows_reasons_response_and_masked_evidence() {
    let f = fixture();
    let cookie = f.sign_in("ana").await;
    let page = f.get("/console/alerts/al-1", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("off_ticket_access"));
    assert!(page.body.contains("suspend_access"));
    // Attacker-influenced text is escaped, never markup.
    assert!(!page.body.contains("<script>alert(1)"));
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // Evidence: ids and field names shown, values masked, text previewed without digits.
    assert!(page.body.contains("national_id"));
    assert!(page.body.contains("c-77"));
    assert!(!page.body.contains("203.0.113.7"));
    assert!(!page.body.contains("482913"));
    assert!(!page.body.contains("555 0100"));
    assert!(page.body.contains("read me the code ••••••"));
    assert_eq!(
        f.get("/console/alerts/al-404", &cookie).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_agent_role_sees_counts_only() {
    let f = fixture();
    let cookie = f.sign_in("sam").await;
    let overview = f.get("/console/", &cookie).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(!overview.body.contains("Agents under countermeasures"));
    for uri in [
        "/console/alerts",
        "/console/alerts/al-1",
        "/console/agents/a-0001",
    ] {
        assert_eq!(
            f.get(uri, &cookie).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
    let csrf = overview.csrf();
    let triage = f
        .post(
            "/console/alerts/al-2/triage",
            &cookie,
            &format!("csrf={csrf}&action=assign"),
        )
        .await;
    assert_eq!(triage.status, StatusCode::FORBIDDEN);
    f.state.advance_clock(30);
    let code = f.code("sam");
    let release = f
        .post(
            "/console/agents/a-0001/release",
            &cookie,
            &format!("csrf={csrf}&action=suspend_access&reason=benign+QA+review&code={code}"),
        )
        .await;
    assert_eq!(release.status, StatusCode::FORBIDDEN);
    assert!(
        f.store.read_events(3, 10).unwrap().is_empty(),
        "nothing appended"
    );
}

#[tokio::test]
async fn an_analyst_cannot_release_and_nobody_acts_on_their_own_case() {
    let f = fixture();
    let analyst = f.sign_in("ana").await;
    let csrf = f.csrf(&analyst).await;
    f.state.advance_clock(30);
    let code = f.code("ana");
    let release = f
        .post(
            "/console/agents/a-0001/release",
            &analyst,
            &format!("csrf={csrf}&action=suspend_access&reason=benign+QA+review&code={code}"),
        )
        .await;
    assert_eq!(release.status, StatusCode::FORBIDDEN);
    let page = f.get("/console/agents/a-0001", &analyst).await;
    assert!(
        !page.body.contains("/release\""),
        "no release form for an analyst"
    );

    // The lead whose user name is the suspended agent's id.
    let subject = f.sign_in("a-0001").await;
    let csrf = f.csrf(&subject).await;
    let page = f.get("/console/agents/a-0001", &subject).await;
    assert!(!page.body.contains("/release\""));
    f.state.advance_clock(30);
    let code = f.code("a-0001");
    let own_release = f
        .post(
            "/console/agents/a-0001/release",
            &subject,
            &format!("csrf={csrf}&action=suspend_access&reason=it+was+me&code={code}"),
        )
        .await;
    assert_eq!(own_release.status, StatusCode::FORBIDDEN);
    let own_triage = f
        .post(
            "/console/alerts/al-1/triage",
            &subject,
            &format!("csrf={csrf}&action=resolve&resolution=benign"),
        )
        .await;
    assert_eq!(own_triage.status, StatusCode::FORBIDDEN);
    assert!(
        f.store.read_events(3, 10).unwrap().is_empty(),
        "nothing appended"
    );
}

#[tokio::test]
async fn a_lead_releases_with_step_up_and_the_event_is_appended() {
    let f = fixture();
    let cookie = f.sign_in("lee").await;
    let page = f.get("/console/agents/a-0001", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Countermeasures in force"));
    assert!(page.body.contains("suspend_access"));
    assert!(page.body.contains("tier1-chat"));
    assert!(page.body.contains("/console/agents/a-0001/release"));
    let csrf = page.csrf();

    // The sign-in code cannot be reused for the step-up.
    let reused = f.last_used_code("lee");
    let answer = f
        .post(
            "/console/agents/a-0001/release",
            &cookie,
            &format!("csrf={csrf}&action=suspend_access&reason=benign%3A+QA+review&code={reused}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    // A reason is required.
    f.state.advance_clock(30);
    let code = f.code("lee");
    let no_reason = f
        .post(
            "/console/agents/a-0001/release",
            &cookie,
            &format!("csrf={csrf}&action=suspend_access&reason=&code={code}"),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    // Only what is in force can be released.
    let not_in_force = f
        .post(
            "/console/agents/a-0001/release",
            &cookie,
            &format!("csrf={csrf}&action=freeze&reason=benign+QA+review&code={code}"),
        )
        .await;
    assert_eq!(not_in_force.status, StatusCode::BAD_REQUEST);
    assert!(
        f.store.read_events(3, 10).unwrap().is_empty(),
        "nothing appended yet"
    );

    let answer = f
        .post(
            "/console/agents/a-0001/release",
            &cookie,
            &format!("csrf={csrf}&action=suspend_access&reason=benign%3A+QA+review&code={code}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(
        answer.location(),
        "/console/agents/a-0001?released=suspend_access"
    );

    let appended = f.store.read_events(3, 10).unwrap();
    assert_eq!(appended.len(), 1);
    let stored = &appended[0];
    assert_eq!(stored.event_type, "countermeasure_release");
    let parsed = custos_core::parse::parse_event(&stored.raw, || "x".to_owned()).unwrap();
    match parsed.body {
        custos_core::EventBody::CountermeasureRelease(release) => {
            assert_eq!(release.entity, Entity::new(EntityKind::Agent, "a-0001"));
            assert_eq!(release.action, ResponseAction::SuspendAccess);
            assert_eq!(release.released_by, "lee");
            assert_eq!(release.reason, "benign: QA review");
        }
        other => panic!("not a release: {other:?}"),
    }
    let logged: (String, String) = f
        .state
        .db()
        .query_row("SELECT user_name, event_id FROM release_log", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!(logged, ("lee".to_owned(), stored.event_id.clone()));

    let page = f
        .get("/console/agents/a-0001?released=suspend_access", &cookie)
        .await;
    assert!(page.body.contains("Released suspend_access"));
    assert!(page.body.contains("lee released"));
    // notify_security is still in force; suspend_access is not.
    let in_force = crate::queries::in_force(&f.state.db(), "agent", Some("a-0001")).unwrap();
    let actions: Vec<&str> = in_force.iter().map(|i| i.action.as_str()).collect();
    assert_eq!(actions, ["notify_security"]);
}

#[tokio::test]
async fn sessions_expire_when_idle_and_end_at_sign_out() {
    let f = fixture();
    let cookie = f.sign_in("ana").await;
    f.state.advance_clock(29 * 60);
    assert_eq!(f.get("/console/", &cookie).await.status, StatusCode::OK);
    f.state.advance_clock(29 * 60);
    assert_eq!(
        f.get("/console/", &cookie).await.status,
        StatusCode::OK,
        "touched in between"
    );
    f.state.advance_clock(31 * 60);
    assert_eq!(
        f.get("/console/", &cookie).await.status,
        StatusCode::SEE_OTHER
    );

    let cookie = f.sign_in("ana").await;
    let csrf = f.csrf(&cookie).await;
    let out = f
        .post("/console/signout", &cookie, &format!("csrf={csrf}"))
        .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert!(
        out.cookie(crate::SESSION_COOKIE)
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        f.get("/console/", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sessions_end_at_the_absolute_limit_however_busy() {
    let f = fixture();
    let cookie = f.sign_in("ana").await;
    for _ in 0..25 {
        f.state.advance_clock(29 * 60);
        let _ = f.get("/console/", &cookie).await;
    }
    assert_eq!(
        f.get("/console/", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let f = fixture();
    let cookie = f.sign_in("ana").await;
    for answer in [
        f.call("GET", "/console/signin", None, None).await,
        f.get("/console/", &cookie).await,
        f.get("/console/assets/console.js", &cookie).await,
        f.get("/console/nope", &cookie).await,
    ] {
        let csp = answer
            .headers
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(answer.headers.get("x-frame-options").unwrap(), "DENY");
        assert_eq!(
            answer.headers.get("x-content-type-options").unwrap(),
            "nosniff"
        );
    }
    let page = f.get("/console/", &cookie).await;
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(!page.body.contains("style=\""), "no inline style");
    assert!(page.body.contains("<main id=\"main\""));
    assert!(page.body.contains("Pipeline lag"));
    assert!(page.body.contains("<svg"));
    assert_eq!(
        f.get("/console/nope", &cookie).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_overview_lists_agents_under_countermeasures_and_pipeline_health() {
    let f = fixture();
    let cookie = f.sign_in("ana").await;
    let page = f.get("/console/", &cookie).await;
    assert!(page.body.contains("Agents under countermeasures"));
    assert!(page.body.contains("href=\"/console/agents/a-0001\""));
    assert!(
        page.body.contains("<dt>Events stored</dt><dd>3</dd>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<dt>Pipeline lag</dt><dd>0 events</dd>"));
}

#[test]
fn create_user_returns_an_otpauth_uri_and_refuses_duplicates_and_weak_passwords() {
    let dir = tempfile::tempdir().unwrap();
    let uri = crate::create_user(dir.path(), "ana", Role::Analyst, PASSWORD).unwrap();
    assert!(
        uri.expose()
            .starts_with("otpauth://totp/custos%20console:ana?secret=")
    );
    assert!(!format!("{uri:?}").contains("secret"));
    assert!(matches!(
        crate::create_user(dir.path(), "ana", Role::Lead, PASSWORD),
        Err(crate::ConsoleError::UserExists(_))
    ));
    assert!(crate::create_user(dir.path(), "bob", Role::Lead, "short").is_err());
    assert!(crate::create_user(dir.path(), "b b", Role::Lead, PASSWORD).is_err());
}

// ------------------------------------------------------- approvals and audit

/// The fixture plus the in-process services: a real grant store, vault,
/// step-up store and audit log, all SQLite in the fixture's directory.
pub(crate) struct Services {
    pub(crate) f: Fixture,
    pub(crate) approvals: Arc<custos_access::Approvals>,
    pub(crate) step_ups: Arc<custos_access::StepUps>,
    pub(crate) log: Arc<std::sync::Mutex<custos_audit::AuditLog>>,
    /// Step-up TOTP secrets of the enrolled agents.
    pub(crate) secrets: std::collections::HashMap<String, Vec<u8>>,
}

pub(crate) fn base32_decode(text: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0_u32, 0);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => continue,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// Facts for the grant workflow from the store's directory, as the binary
/// reads them: roles and leads from `agent` records; no countermeasures.
struct DirectoryFacts(Arc<dyn Store>);

impl DirectoryFacts {
    fn record(&self, agent: &custos_core::id::AgentId) -> Option<String> {
        self.0
            .directory_current(DirectoryKind::Agent, agent.as_str())
            .ok()
            .flatten()
            .map(|r| r.raw)
    }
}

impl custos_access::FactsSource for DirectoryFacts {
    fn agent(
        &self,
        agent: &custos_core::id::AgentId,
    ) -> Result<Option<custos_broker::AgentFacts>, custos_access::FactsError> {
        self.record(agent)
            .map(|raw| custos_access::agent_facts_from_record(&raw))
            .transpose()
    }
    fn ticket(
        &self,
        _ticket: &custos_core::id::TicketId,
    ) -> Result<Option<custos_broker::TicketFacts>, custos_access::FactsError> {
        Ok(None)
    }
    fn live_contact(
        &self,
        _agent: &custos_core::id::AgentId,
        _customer: &custos_core::id::CustomerId,
        _now: custos_core::EventTime,
    ) -> Result<bool, custos_access::FactsError> {
        Ok(false)
    }
    fn countermeasures(
        &self,
        _agent: &custos_core::id::AgentId,
    ) -> Result<Vec<custos_core::alert::ResponseAction>, custos_access::FactsError> {
        Ok(Vec::new())
    }
    fn lead_of(
        &self,
        agent: &custos_core::id::AgentId,
    ) -> Result<Option<custos_core::id::AgentId>, custos_access::FactsError> {
        match self.record(agent) {
            Some(raw) => custos_access::agent_lead_from_record(&raw),
            None => Ok(None),
        }
    }
}

pub(crate) fn services_fixture() -> Services {
    let f = fixture();
    let dir = f._dir.path();
    // Directory: `lee` and `kim` are support leads, `a-0001` (fixture) is L1.
    f.store
        .append_events(&[
            event(
                "d-lee",
                "2025-03-03T00:00:00Z",
                serde_json::json!({"type":"agent","agent_id":"lee","team":"leads","role":"support_lead","site":"IN"}),
                Some((DirectoryKind::Agent, "lee")),
            ),
            event(
                "d-kim",
                "2025-03-03T00:00:00Z",
                serde_json::json!({"type":"agent","agent_id":"kim","team":"leads","role":"support_lead","site":"IN"}),
                Some((DirectoryKind::Agent, "kim")),
            ),
        ])
        .unwrap();
    f.state.create_user("kim", Role::Lead, PASSWORD).unwrap();
    f.state.create_user("root", Role::Admin, PASSWORD).unwrap();
    let access = Arc::new(custos_access::SqliteAccessStore::open(&dir.join("access")).unwrap());
    let keys = custos_vault::KeyRing::from_json(&format!(
        "{{\"version\": 1, \"active\": \"kek-1\", \"keks\": {{\"kek-1\": \"{}\"}}, \"commitment_key\": \"{}\"}}",
        "11".repeat(32),
        "22".repeat(32)
    ))
    .unwrap();
    let vault = Arc::new(custos_vault::Vault::open(&dir.join("vault"), keys).unwrap());
    let approvals = Arc::new(custos_access::Approvals::new(
        access.clone(),
        access.clone(),
        vault,
        Arc::new(DirectoryFacts(f.store.clone())),
        custos_access::GrantPolicy::default(),
    ));
    let step_ups = Arc::new(custos_access::StepUps::new(
        access,
        custos_access::SealingKey::from_bytes([7; 32]),
        custos_access::StepUpPolicy::default(),
    ));
    let now = EventTime::from_unix_secs(f.state.now());
    let mut secrets = std::collections::HashMap::new();
    for agent in ["lee", "kim"] {
        let enrolment = step_ups
            .enrol(&custos_core::id::AgentId::parse(agent).unwrap(), now)
            .unwrap();
        let secret = enrolment
            .uri
            .expose()
            .split("secret=")
            .nth(1)
            .unwrap()
            .split('&')
            .next()
            .unwrap()
            .to_owned();
        secrets.insert(agent.to_owned(), base32_decode(&secret));
    }
    let signer = custos_audit::NoteSigner::from_seed("custos.test/audit", [9; 32]).unwrap();
    let log = Arc::new(std::sync::Mutex::new(
        custos_audit::AuditLog::open(&dir.join("audit.db"), "custos.test/audit", signer).unwrap(),
    ));
    let state = f.state.clone().with_services(crate::ConsoleServices {
        approvals: Some(approvals.clone()),
        step_ups: Some(step_ups.clone()),
        audit: Some(log.clone()),
        ..crate::ConsoleServices::default()
    });
    drop(state);
    Services {
        f,
        approvals,
        step_ups,
        log,
        secrets,
    }
}

impl Services {
    /// Files a pending reveal request by `requester`, audited as the API does.
    pub(crate) fn request(&self, requester: &str) -> custos_access::GrantId {
        let change = self
            .approvals
            .request(
                &custos_access::RevealRequest {
                    requester: custos_core::id::AgentId::parse(requester).unwrap(),
                    customer: custos_core::id::CustomerId::parse("c-77").unwrap(),
                    ticket: custos_core::id::TicketId::parse("t-9").unwrap(),
                    fields: vec![custos_core::event::FieldClass::NationalId],
                    purpose: "verify identity <b>for</b> KYC".to_owned(),
                    ttl_secs: None,
                    reveal_budget: None,
                },
                EventTime::from_unix_secs(self.f.state.now() - 300),
            )
            .unwrap();
        crate::services::append_audit(&self.f.state.services(), &change.audit).unwrap();
        change.grant.id
    }

    /// A step-up code of `agent` for now plus `steps` time steps.
    pub(crate) fn step_up_code(&self, agent: &str, steps: i64) -> String {
        totp::code_at(&self.secrets[agent], self.f.state.now() + steps * 30)
    }

    pub(crate) fn status(&self, id: &custos_access::GrantId) -> String {
        let grant = self.approvals.grant(id).unwrap();
        format!("{:?}", grant.status).to_lowercase()
    }

    pub(crate) fn audit_kinds(&self) -> Vec<String> {
        let log = self.log.lock().unwrap();
        log.entries(0..log.size())
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

#[tokio::test]
async fn approvals_inbox_lists_pending_requests_for_leads_only() {
    let s = services_fixture();
    let id = s.request("a-0001");
    let lee = s.f.sign_in("lee").await;
    let page = s.f.get("/console/approvals", &lee).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(id.as_str()));
    assert!(page.body.contains("national_id"));
    assert!(page.body.contains("t-9"));
    assert!(page.body.contains("c-77"));
    assert!(page.body.contains("5 min ago"), "the request's age");
    // The purpose is the requester's text: shown escaped.
    assert!(
        page.body
            .contains("verify identity &lt;b&gt;for&lt;/b&gt; KYC")
    );
    assert!(page.body.contains(r#"name="decision" value="approve""#));
    assert!(
        page.body.contains(r#"href="/console/approvals""#),
        "in the navigation"
    );
    // Analysts and agents see neither the inbox nor its link.
    for user in ["ana", "sam"] {
        let cookie = s.f.sign_in(user).await;
        let answer = s.f.get("/console/approvals", &cookie).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{user}");
        assert!(!answer.body.contains(id.as_str()));
        let overview = s.f.get("/console/", &cookie).await;
        assert!(
            !overview.body.contains(r#"href="/console/approvals""#),
            "{user}"
        );
    }
    // A lead whose directory role cannot approve is told so and gets no form.
    let l1 = s.f.sign_in("a-0001").await;
    let page = s.f.get("/console/approvals", &l1).await;
    assert!(page.body.contains("own request"), "a-0001 asked for it");
    assert!(!page.body.contains(r#"value="approve""#));
}

#[tokio::test]
async fn a_second_lead_approves_with_a_step_up_and_it_is_audited() {
    let s = services_fixture();
    let id = s.request("lee");
    let kim = s.f.sign_in("kim").await;
    let csrf = s.f.csrf(&kim).await;
    let uri = format!("/console/approvals/{}", id.as_str());
    // Without the CSRF token: refused, nothing decided.
    let answer =
        s.f.post(
            &uri,
            &kim,
            &format!("decision=approve&code={}", s.step_up_code("kim", 0)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(s.status(&id), "pending");
    // A wrong step-up code: refused, nothing decided, the refusal audited.
    let right = s.step_up_code("kim", 0);
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let answer =
        s.f.post(
            &uri,
            &kim,
            &format!("csrf={csrf}&decision=approve&code={wrong}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("step-up code is wrong"));
    assert_eq!(s.status(&id), "pending");
    assert!(s.audit_kinds().contains(&"step_up_refused".to_owned()));
    // The right code: approved by kim.
    let answer =
        s.f.post(
            &uri,
            &kim,
            &format!("csrf={csrf}&decision=approve&code={right}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(
        answer.location(),
        format!("/console/approvals?done=approved&grant={}", id.as_str())
    );
    let grant = s.approvals.grant(&id).unwrap();
    assert_eq!(s.status(&id), "approved");
    assert_eq!(grant.decided_by.unwrap().as_str(), "kim");
    let kinds = s.audit_kinds();
    assert_eq!(
        kinds,
        [
            "grant_requested",
            "step_up_refused",
            "step_up_verified",
            "grant_approved"
        ]
    );
    let page = s.f.get(answer.location(), &kim).await;
    assert!(
        page.body
            .contains("approved. The decision is in the audit log.")
    );
    assert!(
        !page.body.contains(&format!("h-{}", id.as_str())),
        "no longer pending"
    );
    // Deciding again: the grant is no longer pending (a fresh code is spent on it).
    let again =
        s.f.post(
            &uri,
            &kim,
            &format!(
                "csrf={csrf}&decision=deny&reason=not_needed&code={}",
                s.step_up_code("kim", 1)
            ),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already decided"));
}

#[tokio::test]
async fn a_linked_user_decides_as_their_agent_not_as_their_user_name() {
    let s = services_fixture();
    let id = s.request("lee");
    // kim's console user acts as agent `lee`: lee's request is now kim's own.
    s.f.state.set_agent_id("kim", Some("lee")).unwrap();
    let kim = s.f.sign_in("kim").await;
    let page = s.f.get("/console/approvals", &kim).await;
    assert!(
        page.body.contains("This is your own request"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(r#"value="approve""#));
    let csrf = s.f.csrf(&kim).await;
    let answer =
        s.f.post(
            &format!("/console/approvals/{}", id.as_str()),
            &kim,
            &format!(
                "csrf={csrf}&decision=approve&reason=not_needed&code={}",
                s.step_up_code("kim", 0)
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("nobody decides on their own request"));
    assert_eq!(s.status(&id), "pending");
    // Unlinked again, kim decides as `kim`.
    s.f.state.set_agent_id("kim", None).unwrap();
    let page = s.f.get("/console/approvals", &kim).await;
    assert!(!page.body.contains("This is your own request"));
}

#[tokio::test]
async fn self_approval_is_absent_from_the_page_and_refused_by_the_server() {
    let s = services_fixture();
    let id = s.request("lee");
    let lee = s.f.sign_in("lee").await;
    let page = s.f.get("/console/approvals", &lee).await;
    assert!(page.body.contains(id.as_str()));
    assert!(page.body.contains("This is your own request"));
    assert!(
        !page.body.contains(r#"value="approve""#),
        "no button for one's own request"
    );
    let csrf = s.f.csrf(&lee).await;
    let code = s.step_up_code("lee", 0);
    let uri = format!("/console/approvals/{}", id.as_str());
    for decision in ["approve", "deny"] {
        let answer =
            s.f.post(
                &uri,
                &lee,
                &format!("csrf={csrf}&decision={decision}&reason=not_needed&code={code}"),
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{decision}");
        assert!(answer.body.contains("nobody decides on their own request"));
    }
    assert_eq!(s.status(&id), "pending");
    // Refused before the step-up: lee's code is still unused, and the
    // attempts are in the audit log.
    let now = EventTime::from_unix_secs(s.f.state.now());
    let lee_id = custos_core::id::AgentId::parse("lee").unwrap();
    assert!(s.step_ups.verify(&lee_id, &code, now).is_ok());
    let log = s.log.lock().unwrap();
    let refusals: Vec<_> = log
        .entries(0..log.size())
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "grant_refused")
        .collect();
    assert_eq!(refusals.len(), 2);
    assert_eq!(refusals[0].details["code"], "self_approval");
    assert_eq!(refusals[0].actor, "lee");
}

#[tokio::test]
async fn a_lead_denies_with_a_reason_code() {
    let s = services_fixture();
    let id = s.request("a-0001");
    let kim = s.f.sign_in("kim").await;
    let csrf = s.f.csrf(&kim).await;
    let uri = format!("/console/approvals/{}", id.as_str());
    let bad =
        s.f.post(
            &uri,
            &kim,
            &format!(
                "csrf={csrf}&decision=deny&reason=because+I+said&code={}",
                s.step_up_code("kim", 0)
            ),
        )
        .await;
    assert_eq!(
        bad.status,
        StatusCode::BAD_REQUEST,
        "free-text reasons are refused"
    );
    let answer =
        s.f.post(
            &uri,
            &kim,
            &format!(
                "csrf={csrf}&decision=deny&reason=purpose_unclear&code={}",
                s.step_up_code("kim", 0)
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let grant = s.approvals.grant(&id).unwrap();
    assert_eq!(s.status(&id), "rejected");
    assert_eq!(grant.reason.as_deref(), Some("purpose_unclear"));
}

#[tokio::test]
async fn the_audit_log_is_browsed_searched_and_proved() {
    let s = services_fixture();
    let first = s.request("a-0001");
    let _second = s.request("lee");
    let ana = s.f.sign_in("ana").await;
    let page = s.f.get("/console/audit", &ana).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("grant_requested"));
    assert!(page.body.contains("No checkpoint has been signed yet"));
    assert!(
        !page.body.contains("Sign a checkpoint now"),
        "analysts cannot sign"
    );
    // Search by entity: the grant id is in one entry.
    let found =
        s.f.get(&format!("/console/audit?q={}", first.as_str()), &ana)
            .await;
    assert!(found.body.contains("1 entries about"), "{}", found.body);
    assert!(found.body.contains(r#"href="/console/audit/entries/0""#));
    assert!(!found.body.contains(r#"href="/console/audit/entries/1""#));
    // No checkpoint: the entry cannot be proved yet.
    let entry = s.f.get("/console/audit/entries/0", &ana).await;
    assert!(
        entry
            .body
            .contains("No signed checkpoint covers this entry")
    );
    assert_eq!(
        s.f.get("/console/audit/entries/0/proof", &ana).await.status,
        StatusCode::NOT_FOUND
    );
    // Only an admin signs a checkpoint on demand (with the CSRF token).
    let lee = s.f.sign_in("lee").await;
    let csrf = s.f.csrf(&lee).await;
    let refused =
        s.f.post("/console/audit/checkpoint", &lee, &format!("csrf={csrf}"))
            .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let root = s.f.sign_in("root").await;
    let csrf = s.f.csrf(&root).await;
    assert_eq!(
        s.f.post("/console/audit/checkpoint", &root, "")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let signed =
        s.f.post("/console/audit/checkpoint", &root, &format!("csrf={csrf}"))
            .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER);
    let page = s.f.get("/console/audit", &root).await;
    assert!(page.body.contains("Sign a checkpoint now"));
    assert!(page.body.contains("2 of 2 entries"));
    // The entry page offers the in-browser check; the proof the server
    // sends verifies against the signed root.
    let entry = s.f.get("/console/audit/entries/1", &ana).await;
    assert!(
        entry
            .body
            .contains(r#"data-proof-url="/console/audit/entries/1/proof""#)
    );
    let answer = s.f.get("/console/audit/entries/1/proof", &ana).await;
    assert_eq!(answer.status, StatusCode::OK);
    let proof: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(proof["checkpoint"]["size"], 2);
    let leaf_hex = proof["leaf"].as_str().unwrap();
    let leaf: Vec<u8> = (0..leaf_hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&leaf_hex[i..i + 2], 16).unwrap())
        .collect();
    assert!(leaf.starts_with(custos_audit::LEAF_DOMAIN));
    let path: Vec<custos_audit::Hash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| custos_audit::api::decode_hash(h.as_str().unwrap()).unwrap())
        .collect();
    let root_hash =
        custos_audit::api::decode_hash(proof["checkpoint"]["root"].as_str().unwrap()).unwrap();
    custos_audit::verify_inclusion(1, 2, &custos_audit::leaf_hash(&leaf), &path, &root_hash)
        .expect("the served proof verifies");
    // A new entry after the checkpoint is not covered.
    let _third = s.request("kim");
    let entry = s.f.get("/console/audit/entries/2", &ana).await;
    assert!(entry.body.contains("the latest covers 2 entries"));
    // Agents see no audit log.
    let sam = s.f.sign_in("sam").await;
    for uri in [
        "/console/audit",
        "/console/audit/entries/0",
        "/console/audit/entries/0/proof",
    ] {
        assert_eq!(
            s.f.get(uri, &sam).await.status,
            StatusCode::FORBIDDEN,
            "{uri}"
        );
    }
}

#[tokio::test]
async fn pages_say_when_their_service_is_not_connected() {
    let f = fixture();
    let lee = f.sign_in("lee").await;
    let page = f.get("/console/approvals", &lee).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("not connected"));
    let page = f.get("/console/audit", &lee).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("not connected"));
}

#[tokio::test]
async fn a_lead_in_the_requesters_lead_chain_cannot_approve() {
    let s = services_fixture();
    s.f.store
        .append_events(&[event(
            "d-jo",
            "2025-03-03T00:00:00Z",
            serde_json::json!({"type":"agent","agent_id":"jo","team":"tier1-chat","role":"support_l1","site":"IN","lead_id":"kim"}),
            Some((DirectoryKind::Agent, "jo")),
        )])
        .unwrap();
    let id = s.request("jo");
    let kim = s.f.sign_in("kim").await;
    let page = s.f.get("/console/approvals", &kim).await;
    assert!(page.body.contains(id.as_str()));
    assert!(page.body.contains("You cannot decide this request"));
    assert!(!page.body.contains(r#"value="approve""#));
    let csrf = s.f.csrf(&kim).await;
    let answer =
        s.f.post(
            &format!("/console/approvals/{}", id.as_str()),
            &kim,
            &format!(
                "csrf={csrf}&decision=approve&code={}",
                s.step_up_code("kim", 0)
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("lead chain"), "{}", answer.body);
    assert_eq!(s.status(&id), "pending");
    // lee is outside jo's chain: the form is there.
    let lee = s.f.sign_in("lee").await;
    let page = s.f.get("/console/approvals", &lee).await;
    assert!(page.body.contains(r#"value="approve""#));
}

#[tokio::test]
async fn the_customer_page_shows_protection_decisions_and_interceptions_masked() {
    let f = fixture();
    f.store
        .append_events(&[
            event(
                "d-c77",
                "2025-03-01T00:00:00Z",
                serde_json::json!({"type":"customer","customer_id":"c-77","email":"jane.doe@example.com","country":"US"}),
                Some((DirectoryKind::Customer, "c-77")),
            ),
            event(
                "w1",
                "2025-03-04T10:10:00Z",
                serde_json::json!({"type":"customer_action","customer_id":"c-77","action":"withdrawal","ip":"198.51.100.4","device_id":"fp-3a9c","amount_usd":12000.0,"asset":"XLM","destination":"GA7SECRETDESTINATION"}),
                None,
            ),
        ])
        .unwrap();
    let mut risk = Alert::new(
        "action_risk",
        EventTime::parse("2025-03-04T10:10:00Z").unwrap(),
        Entity::new(EntityKind::Customer, "c-77"),
        Severity::High,
        0.9,
    )
    .reason(
        "v1.new_device_withdrawal",
        "withdrawal from a device not seen in 90 days",
    )
    .evidence(EventId::parse("w1").unwrap())
    .respond(ResponseAction::Hold)
    .respond(ResponseAction::Freeze);
    risk.alert_id = "al-risk".to_owned();
    let mut call = Alert::new(
        "conversation",
        EventTime::parse("2025-03-04T10:05:00Z").unwrap(),
        Entity::new(EntityKind::Customer, "c-77"),
        Severity::High,
        0.8,
    )
    .reason("credential_request", "the caller asks for a one-time code")
    .evidence(EventId::parse("e3").unwrap())
    .respond(ResponseAction::Intercept);
    call.alert_id = "al-call".to_owned();
    f.store
        .append_alerts(&[new_alert(&risk), new_alert(&call)], "pipeline", 5)
        .unwrap();
    f.state.sync_index().unwrap();
    let ana = f.sign_in("ana").await;
    let page = f.get("/console/customers/c-77", &ana).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("Elevated protection: 1 in force."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<span class="badge cm">freeze</span>"#)
    );
    assert!(
        page.body.contains("v1.new_device_withdrawal"),
        "why: the alert's reasons"
    );
    assert!(page.body.contains("withdrawal"), "the action");
    assert!(page.body.contains("credential_request"));
    assert!(
        page.body
            .contains(r#"<span class="badge cm">intercept</span>"#)
    );
    // No plaintext PII: the email, the destination, the message text are masked.
    for secret in [
        "jane.doe@example.com",
        "GA7SECRETDESTINATION",
        "482913",
        "415 555",
    ] {
        assert!(!page.body.contains(secret), "{secret} leaked");
    }
    // Alerts link to the customer page.
    let detail = f.get("/console/alerts/al-risk", &ana).await;
    assert!(detail.body.contains(r#"href="/console/customers/c-77""#));
    // No protection for a customer with only a directory record.
    f.store
        .append_events(&[event(
            "d-c78",
            "2025-03-01T00:00:00Z",
            serde_json::json!({"type":"customer","customer_id":"c-78","email":"x@example.com","country":"US"}),
            Some((DirectoryKind::Customer, "c-78")),
        )])
        .unwrap();
    f.state.sync_index().unwrap();
    let quiet = f.get("/console/customers/c-78", &ana).await;
    assert!(quiet.body.contains("Normal: no freeze"));
    assert_eq!(
        f.get("/console/customers/c-nobody", &ana).await.status,
        StatusCode::NOT_FOUND
    );
    let sam = f.sign_in("sam").await;
    assert_eq!(
        f.get("/console/customers/c-77", &sam).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_attribution_view_ranks_agents_and_drills_into_the_overlap() {
    let f = fixture();
    f.store
        .append_events(&[event(
            "e4",
            "2025-03-05T09:00:00Z",
            serde_json::json!({"type":"agent_access","agent_id":"a-0001","customer_id":"c-78","ticket_id":null,"action":"view","fields":["phone"],"ip":"203.0.113.7","device_id":"dev-1"}),
            None,
        )])
        .unwrap();
    let mut run = Alert::new(
        "leak_attribution",
        EventTime::parse("2025-03-06T00:00:00Z").unwrap(),
        Entity::new(EntityKind::Agent, "a-0001"),
        Severity::Critical,
        0.99,
    )
    .reason(
        "victims_in_common",
        "agent a-0001 viewed 2 of 3 reporting victims",
    )
    .evidence(EventId::parse("e2").unwrap())
    .evidence(EventId::parse("e4").unwrap());
    run.alert_id = "al-leak".to_owned();
    run.ranking = Some(vec![
        custos_core::alert::RankingEntry {
            agent_id: "a-0001".to_owned(),
            observed: 2.0,
            expected: 0.25,
            p_value: 1e-6,
        },
        custos_core::alert::RankingEntry {
            agent_id: "a-0009".to_owned(),
            observed: 1.0,
            expected: 0.9,
            p_value: 0.4,
        },
    ]);
    f.store
        .append_alerts(&[new_alert(&run)], "pipeline", 4)
        .unwrap();
    f.state.sync_index().unwrap();
    let ana = f.sign_in("ana").await;
    let page = f.get("/console/attribution", &ana).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Run al-leak"), "the newest run is shown");
    assert!(
        page.body
            .contains("a-0001: 2 observed, 0.2 expected; a-0009: 1 observed, 0.9 expected")
    );
    assert!(page.body.contains("<td class=\"num\">0.25</td>"));
    assert!(page.body.contains("2 reporting victims in this run"));
    assert!(page.body.contains(r#"href="/console/customers/c-78""#));
    assert!(page.body.contains(r#"href="/console/customers/c-77""#));
    assert!(page.body.contains("2 victims looked up"));
    let chosen = f.get("/console/attribution?alert=al-leak", &ana).await;
    assert!(chosen.body.contains(r#"aria-current="true""#));
    assert_eq!(
        f.get("/console/attribution?alert=al-1", &ana).await.status,
        StatusCode::NOT_FOUND,
        "an agent_behavior alert is not a run"
    );
    let sam = f.sign_in("sam").await;
    assert_eq!(
        f.get("/console/attribution", &sam).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_agent_page_charts_the_agent_against_baseline_and_peers() {
    let f = fixture();
    let mut alert = Alert::new(
        "agent_behavior",
        EventTime::parse("2025-03-05T11:00:00Z").unwrap(),
        Entity::new(EntityKind::Agent, "a-0001"),
        Severity::High,
        0.9,
    )
    .reason(
        "off_ticket_access",
        "31 of 40 records opened today had no ticket (own norm 0.2 a day, peer median 0.4)",
    )
    .reason(
        "suspicion_over_norm",
        "suspicion 9.2 against a norm of 1.4 (0.6 a day: own 0.5 over 20 days, peer median 0.8); excess 7.8",
    )
    .evidence(EventId::parse("e2").unwrap());
    alert.alert_id = "al-3".to_owned();
    f.store
        .append_alerts(&[new_alert(&alert)], "pipeline", 3)
        .unwrap();
    f.state.sync_index().unwrap();
    let ana = f.sign_in("ana").await;
    let page = f.get("/console/agents/a-0001", &ana).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Against baseline and peers"));
    assert!(
        page.body
            .contains("2025-03-05: agent 9.2, own norm 0.5, peer median 0.8"),
        "the SVG's description"
    );
    assert!(
        page.body
            .contains("2025-03-05: agent 31.0, own norm 0.2, peer median 0.4")
    );
    assert!(
        page.body.contains("31 (0.2, 0.4)"),
        "the same numbers in the table"
    );
    assert!(
        page.body.contains("From the last 1 behaviour alerts"),
        "al-1's free-text reason is not charted"
    );
}
