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

const PASSWORD: &str = "correct horse battery staple";

struct Fixture {
    _dir: tempfile::TempDir,
    state: ConsoleState,
    store: Arc<dyn Store>,
    app: Router,
}

fn event(
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

fn new_alert(alert: &Alert) -> NewAlert {
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

fn fixture() -> Fixture {
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

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    /// The value of the first hidden `csrf` field.
    fn csrf(&self) -> String {
        let marker = "name=\"csrf\" value=\"";
        let start = self.body.find(marker).expect("a csrf field") + marker.len();
        self.body[start..].split('"').next().unwrap().to_owned()
    }
}

impl Fixture {
    async fn call(
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

    async fn get(&self, uri: &str, cookie: &str) -> Answer {
        self.call("GET", uri, Some(cookie), None).await
    }

    async fn post(&self, uri: &str, cookie: &str, form: &str) -> Answer {
        self.call("POST", uri, Some(cookie), Some(form)).await
    }

    fn code(&self, name: &str) -> String {
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
    async fn try_sign_in(&self, name: &str, password: &str, code: &str) -> Answer {
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
    async fn sign_in(&self, name: &str) -> String {
        let code = self.code(name);
        let answer = self.try_sign_in(name, PASSWORD, &code).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        assert_eq!(answer.location(), "/console/");
        let cookie = answer.cookie(crate::SESSION_COOKIE).unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// The session's CSRF token, read off a page.
    async fn csrf(&self, cookie: &str) -> String {
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
    let reused = f.code("lee");
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
