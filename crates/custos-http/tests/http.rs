//! The HTTP API end to end: requests through `Router::oneshot` against a real
//! SQLite store in a temporary directory, plus one test on a real port.
//!
//! Every response any test receives is checked against the OpenAPI document
//! (see `send`): its status must be documented for the route, and its body
//! must have every property the schema marks required.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use custos_core::{Alert, Entity, EntityKind, EventTime};
use custos_http::{
    AppState, HttpSettings, Metrics, OPENAPI_JSON, PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, ROUTES,
    Scope, TokenSpec, router, token_sha256,
};
use custos_store::{
    AlertPage, AlertQuery, AppendReceipt, DirectoryKind, DirectoryRecord, NewAlert, NewEvent,
    SqliteStore, Store, StoreError, StoredEvent,
};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tempfile::TempDir;
use tower::ServiceExt;

const INGEST_TOKEN: &str = "test-ingest-token-1b5e";
const READ_TOKEN: &str = "test-read-token-77a0";
const ADMIN_TOKEN: &str = "test-admin-token-c3d9";
const SAMPLE: &str = include_str!("sample.ndjson");

// ---------------------------------------------------------------- harness

fn tokens() -> Vec<TokenSpec> {
    let spec = |name: &str, token: &str, scopes: Vec<Scope>| TokenSpec {
        name: name.to_owned(),
        token_sha256: token_sha256(token),
        scopes,
    };
    vec![
        spec("forwarder", INGEST_TOKEN, vec![Scope::Ingest]),
        spec("analyst", READ_TOKEN, vec![Scope::Read]),
        spec("operator", ADMIN_TOKEN, vec![Scope::Admin]),
    ]
}

fn settings() -> HttpSettings {
    HttpSettings {
        tokens: tokens(),
        ..HttpSettings::default()
    }
}

struct TestApp {
    _dir: TempDir,
    store: Arc<dyn Store>,
    state: AppState,
    router: Router,
}

fn app() -> TestApp {
    app_with(settings())
}

fn app_with(settings: HttpSettings) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    app_on(dir, store, settings)
}

fn app_on(dir: TempDir, store: Arc<dyn Store>, settings: HttpSettings) -> TestApp {
    let state = AppState::new(
        store.clone(),
        settings,
        Arc::new(Metrics::new()),
        Arc::new(AtomicBool::new(true)),
    )
    .unwrap();
    TestApp {
        _dir: dir,
        store,
        router: router(state.clone()),
        state,
    }
}

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn content_type(&self) -> &str {
        self.headers
            .get(header::CONTENT_TYPE)
            .map_or("", |v| v.to_str().unwrap())
    }
}

fn post_events(
    token: Option<&str>,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut request = Request::builder().method(Method::POST).uri("/v1/events");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if let Some(content_type) = content_type {
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    request.body(body.into()).unwrap()
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::builder().method(Method::GET).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::empty()).unwrap()
}

/// Sends one request and holds the response to the OpenAPI document.
async fn send(router: &Router, request: Request<Body>) -> Reply {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let reply = Reply {
        status,
        headers,
        body,
    };
    check_against_openapi(&method, &path, &reply);
    reply
}

async fn ingest_json(router: &Router, body: &str) -> Reply {
    send(
        router,
        post_events(
            Some(INGEST_TOKEN),
            Some("application/json"),
            body.to_owned(),
        ),
    )
    .await
}

fn now_micros() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

fn rfc3339_from_now(offset: Duration, ahead: bool) -> String {
    let offset = offset.as_micros() as i64;
    let micros = if ahead {
        now_micros() + offset
    } else {
        now_micros() - offset
    };
    EventTime::from_micros(micros).to_string()
}

fn access_event(id: &str, ts: &str) -> String {
    json!({
        "type": "agent_access", "ts": ts, "id": id, "agent_id": "a-0001",
        "customer_id": "c-0001", "ticket_id": null, "action": "view",
        "fields": ["name", "balance"], "ip": "203.0.113.7", "device_id": "dev-77"
    })
    .to_string()
}

fn all_events(store: &dyn Store) -> Vec<StoredEvent> {
    store.read_events(0, 1_000_000).unwrap()
}

fn assert_problem(reply: &Reply, status: StatusCode, slug: &str) -> Value {
    assert_eq!(reply.status, status, "{}", reply.text());
    assert_eq!(reply.content_type(), PROBLEM_CONTENT_TYPE);
    let body = reply.json();
    assert_eq!(body["type"], format!("{PROBLEM_TYPE_BASE}{slug}"), "{body}");
    assert_eq!(body["status"], status.as_u16());
    let detail = body["detail"].as_str().unwrap();
    assert!(!detail.is_empty() && !detail.ends_with('.'), "{detail}");
    assert!(detail.starts_with(|c: char| !c.is_uppercase()), "{detail}");
    body
}

// ---------------------------------------------------------------- openapi

fn openapi() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
}

fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    while let Some(reference) = value.get("$ref").and_then(Value::as_str) {
        let path = reference
            .strip_prefix("#/")
            .unwrap_or_else(|| panic!("only local refs: {reference}"));
        value = path.split('/').fold(doc, |node, segment| &node[segment]);
        assert!(!value.is_null(), "dangling ref {reference}");
    }
    value
}

/// The parts of JSON Schema the document uses: `$ref`, `type`, `enum`,
/// `const`, `required`, `properties`, `items`.
fn schema_errors(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let fits = types.iter().any(|t| match *t {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "null" => value.is_null(),
            _ => false,
        });
        if !fits {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        if !choices.contains(value) {
            errors.push(format!("{at}: {value} not in {choices:?}"));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            errors.push(format!("{at}: {value} is not {constant}"));
        }
    }
    if let Some(object) = value.as_object() {
        for name in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().unwrap();
            if !object.contains_key(name) {
                errors.push(format!("{at}: required `{name}` missing"));
            }
        }
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                if let Some(inner) = object.get(name) {
                    schema_errors(doc, property, inner, &format!("{at}/{name}"), errors);
                }
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, inner) in array.iter().enumerate() {
            schema_errors(doc, items, inner, &format!("{at}/{i}"), errors);
        }
    }
}

fn essence(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or("").trim()
}

/// The documented path template (`/v1/grants/{id}/approve`) a concrete
/// path matches, or the path itself.
fn template_of(doc: &Value, path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    for template in doc["paths"].as_object().unwrap().keys() {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() == segments.len()
            && parts
                .iter()
                .zip(&segments)
                .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
        {
            return template.clone();
        }
    }
    path.to_owned()
}

fn check_against_openapi(method: &Method, path: &str, reply: &Reply) {
    let doc = openapi();
    let path = &template_of(&doc, path);
    let method_key = method.as_str().to_ascii_lowercase();
    let operation = &doc["paths"][path][&method_key];
    if reply.status.is_client_error() || reply.status.is_server_error() {
        // Every error, documented route or not, is a problem document.
        assert_eq!(
            reply.content_type(),
            PROBLEM_CONTENT_TYPE,
            "{method} {path}: {}",
            reply.status
        );
        let body = reply.json();
        assert_eq!(body["status"], reply.status.as_u16(), "{body}");
        let mut errors = Vec::new();
        schema_errors(
            &doc,
            &doc["components"]["schemas"]["Problem"],
            &body,
            "#",
            &mut errors,
        );
        assert!(errors.is_empty(), "{method} {path}: {errors:?}");
    }
    if operation.is_null() {
        assert!(
            [StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&reply.status),
            "{method} {path} is not documented but answered {}",
            reply.status
        );
        return;
    }
    let response = &operation["responses"][reply.status.as_str()];
    assert!(
        !response.is_null(),
        "{method} {path}: status {} is not documented",
        reply.status
    );
    let response = resolve(&doc, response);
    let content = response["content"].as_object().unwrap();
    let actual = essence(reply.content_type());
    let (_, media) = content
        .iter()
        .find(|(media_type, _)| essence(media_type) == actual)
        .unwrap_or_else(|| {
            panic!(
                "{method} {path} {}: content type `{actual}` is not documented",
                reply.status
            )
        });
    if actual.ends_with("json") {
        let mut errors = Vec::new();
        schema_errors(&doc, &media["schema"], &reply.json(), "#", &mut errors);
        assert!(
            errors.is_empty(),
            "{method} {path} {}: {errors:?}",
            reply.status
        );
    }
}

#[test]
fn openapi_documents_exactly_the_routes_served() {
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented.insert((method.to_ascii_uppercase(), path.clone()));
            // Authentication as documented is authentication as served.
            let route = ROUTES
                .iter()
                .find(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method));
            let Some(route) = route else { continue };
            let security = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path}: every operation states its security"));
            match route.scope {
                None => assert!(security.is_empty(), "{method} {path}"),
                Some(scope) => {
                    assert_eq!(security, &vec![json!({"bearerAuth": [scope.as_str()]})]);
                    let responses = &operation["responses"];
                    assert!(!responses["401"].is_null(), "{method} {path}: 401");
                    assert!(!responses["403"].is_null(), "{method} {path}: 403");
                }
            }
        }
    }
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.method.as_str().to_owned(), r.path.to_owned()))
        .collect();
    assert_eq!(documented, served);
}

#[test]
fn openapi_refs_resolve_and_alert_parameters_match_the_handler() {
    let doc = openapi();
    fn walk(doc: &Value, node: &Value) {
        match node {
            Value::Object(map) => {
                if map.contains_key("$ref") {
                    resolve(doc, node);
                }
                map.values().for_each(|v| walk(doc, v));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(doc, v)),
            _ => {}
        }
    }
    walk(&doc, &doc);
    let documented: Vec<&str> = doc["paths"]["/v1/alerts"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        documented,
        [
            "detector",
            "entity_kind",
            "entity_id",
            "severity",
            "since",
            "until",
            "limit",
            "cursor"
        ]
    );
}

#[tokio::test]
async fn the_served_document_is_the_file() {
    let app = app();
    let reply = send(&app.router, get("/openapi.json", None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), openapi());
}

// ---------------------------------------------------------------- ingest

#[tokio::test]
async fn array_events_are_accepted_or_rejected_one_by_one() {
    let app = app();
    let agent = r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","id":"e1","agent_id":"a-0042","team":"tier1-chat","role":"support_l1","x_vendor":{"keep":[1,2]}}"#;
    let bad_amount = r#"{"type":"customer_action","ts":"2025-01-01T00:00:00Z","id":"e2","customer_id":"c-1","action":"withdrawal","amount_usd":"lots"}"#;
    let no_id =
        r#"{"type":"customer","ts":"2025-01-01T00:00:01Z","customer_id":"c-1","tier":"vip"}"#;
    let unknown = r#"{"type":"future_type","ts":"2025-01-01T00:00:02Z","id":"e4"}"#;
    let not_object = "17";
    let body = format!("[{agent}, {bad_amount}, {no_id}, {unknown}, {not_object}]");
    let reply = ingest_json(&app.router, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let answer = reply.json();
    assert_eq!(answer["accepted"], 3);
    assert_eq!(answer["rejected"], 2);
    assert_eq!(answer["first_seq"], 1);
    assert_eq!(answer["last_seq"], 3);
    let errors = answer["errors"].as_array().unwrap();
    assert_eq!(errors[0]["index"], 1);
    assert_eq!(errors[0]["pointer"], "#/1/amount_usd");
    assert!(errors[0]["detail"].as_str().unwrap().contains("amount_usd"));
    assert!(errors[0].get("line").is_none());
    assert_eq!(errors[1]["index"], 4);
    assert_eq!(errors[1]["pointer"], "#/4");
    let request_id = answer["request_id"].as_str().unwrap();
    assert_eq!(request_id.len(), 16);
    assert_eq!(reply.headers["x-request-id"], request_id);

    // Stored after the 200, byte for byte, with given or assigned ids.
    let stored = all_events(app.store.as_ref());
    let rows: Vec<(u64, &str, &str, &str)> = stored
        .iter()
        .map(|e| {
            (
                e.seq,
                e.event_id.as_str(),
                e.event_type.as_str(),
                e.raw.as_str(),
            )
        })
        .collect();
    let assigned = format!("{request_id}-2");
    assert_eq!(
        rows,
        [
            (1, "e1", "agent", agent),
            (2, assigned.as_str(), "customer", no_id),
            (3, "e4", "future_type", unknown),
        ]
    );
    assert_eq!(stored[1].ts_micros, 1_735_689_601_000_000);
    // Directory records become directory versions.
    let agent_record = app
        .store
        .directory_current(DirectoryKind::Agent, "a-0042")
        .unwrap()
        .unwrap();
    assert_eq!(agent_record.raw, agent);
    let customer: Option<DirectoryRecord> = app
        .store
        .directory_current(DirectoryKind::Customer, "c-1")
        .unwrap();
    assert_eq!(customer.map(|r| r.seq), Some(2));
    assert_eq!(app.state.metrics.ingest_accepted(), 3);
    assert_eq!(app.state.metrics.ingest_rejected(), 2);

    // A second batch continues the sequence.
    let reply = ingest_json(&app.router, &format!("[{unknown}]")).await;
    assert_eq!(reply.json()["first_seq"], 4);
    assert_eq!(reply.json()["last_seq"], 4);
}

#[tokio::test]
async fn the_contract_sample_as_ndjson() {
    let app = app();
    for content_type in [Some("application/x-ndjson"), None] {
        let before = app.store.event_count().unwrap();
        let reply = send(
            &app.router,
            post_events(Some(INGEST_TOKEN), content_type, SAMPLE),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let answer = reply.json();
        assert_eq!(answer["accepted"], 20, "{answer}");
        assert_eq!(answer["rejected"], 3, "{answer}");
        let lines: Vec<(u64, &str)> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["line"].as_u64().unwrap(), e["pointer"].as_str().unwrap()))
            .collect();
        assert_eq!(lines, [(20, "#/ts"), (21, "#"), (22, "#/amount_usd")]);
        let indexes: Vec<u64> = answer["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["index"].as_u64().unwrap())
            .collect();
        assert_eq!(indexes, [19, 20, 21]);
        assert_eq!(app.store.event_count().unwrap(), before + 20);
    }
    let stored = all_events(app.store.as_ref());
    let ids: Vec<&str> = stored[..20].iter().map(|e| e.event_id.as_str()).collect();
    let expected: Vec<String> = (1..=20).map(|i| format!("e{i}")).collect();
    assert_eq!(ids, expected);
    let e19 = &stored[18];
    assert_eq!(e19.event_type, "future_type");
    let e9 = stored.iter().find(|e| e.event_id == "e9").unwrap();
    assert!(e9.raw.contains(r#""x_extra":"unknown fields are ignored""#));
    let line_9 = SAMPLE.lines().nth(8).unwrap();
    assert_eq!(e9.raw, line_9);
}

#[tokio::test]
async fn events_too_far_in_the_future_are_rejected() {
    let app = app();
    let soon = access_event(
        "soon",
        &rfc3339_from_now(Duration::from_secs(30 * 60), true),
    );
    let late = access_event(
        "late",
        &rfc3339_from_now(Duration::from_secs(7 * 86_400), false),
    );
    let far = access_event(
        "far",
        &rfc3339_from_now(Duration::from_secs(2 * 3600), true),
    );
    let reply = ingest_json(&app.router, &format!("[{soon},{far},{late}]")).await;
    let answer = reply.json();
    assert_eq!(answer["accepted"], 2, "{answer}");
    assert_eq!(answer["errors"][0]["index"], 1);
    assert_eq!(answer["errors"][0]["pointer"], "#/1/ts");
    let detail = answer["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("more than 3600 s ahead of the server clock"),
        "{detail}"
    );
    let ids: Vec<String> = all_events(app.store.as_ref())
        .into_iter()
        .map(|e| e.event_id)
        .collect();
    assert_eq!(ids, ["soon", "late"]);
}

#[tokio::test]
async fn only_admin_tokens_may_release_countermeasures() {
    let app = app();
    let release = r#"{"type":"countermeasure_release","ts":"2025-01-02T04:00:00Z","id":"rel-1","entity":{"kind":"agent","id":"a-1"},"action":"suspend_access","released_by":"analyst-7","reason":"benign: QA review"}"#;
    let body = format!("[{release}]");
    let reply = ingest_json(&app.router, &body).await;
    let answer = reply.json();
    assert_eq!(answer["accepted"], 0, "{answer}");
    assert_eq!(answer["errors"][0]["pointer"], "#/0/type");
    assert!(
        answer["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("`admin` scope")
    );
    assert!(all_events(app.store.as_ref()).is_empty());
    let reply = send(
        &app.router,
        post_events(Some(ADMIN_TOKEN), Some("application/json"), body),
    )
    .await;
    assert_eq!(reply.json()["accepted"], 1, "{}", reply.json());
    let stored = all_events(app.store.as_ref());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event_type, "countermeasure_release");
}

#[tokio::test]
async fn oversized_requests_get_413_and_store_nothing() {
    let app = app_with(HttpSettings {
        max_batch_events: 3,
        max_body_bytes: 2048,
        ..settings()
    });
    let event = access_event("x", "2025-01-01T00:00:00Z");
    let four = format!("[{event},{event},{event},{event}]");
    let reply = ingest_json(&app.router, &four).await;
    let body = assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("over the limit of 3")
    );
    let ndjson = format!("{event}\n{event}\n\n{event}\n{event}\n");
    let reply = send(
        &app.router,
        post_events(Some(INGEST_TOKEN), Some("application/x-ndjson"), ndjson),
    )
    .await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    // Three is fine.
    let reply = ingest_json(&app.router, &format!("[{event},{event},{event}]")).await;
    assert_eq!(reply.json()["accepted"], 3);

    // Too many bytes: announced by Content-Length, or not.
    let big = format!("[{}]", vec![event.as_str(); 20].join(","));
    assert!(big.len() > 2048);
    let mut announced = post_events(Some(INGEST_TOKEN), Some("application/json"), big.clone());
    announced
        .headers_mut()
        .insert(header::CONTENT_LENGTH, big.len().into());
    let reply = send(&app.router, announced).await;
    let body = assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    assert!(body["detail"].as_str().unwrap().contains("2048 bytes"));
    let reply = ingest_json(&app.router, &big).await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large");
    assert_eq!(app.store.event_count().unwrap(), 3);
}

#[tokio::test]
async fn unreadable_bodies_are_400_or_415() {
    let app = app();
    let check =
        |content_type: Option<&'static str>, body: &'static [u8], status, slug: &'static str| {
            let router = app.router.clone();
            async move {
                let reply =
                    send(&router, post_events(Some(INGEST_TOKEN), content_type, body)).await;
                assert_problem(&reply, status, slug)
            }
        };
    let body = check(
        Some("application/json"),
        b"[\xff\xfe]",
        StatusCode::BAD_REQUEST,
        "invalid-body",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("UTF-8"));
    check(
        Some("application/x-ndjson"),
        b"{}\n\xff",
        StatusCode::BAD_REQUEST,
        "invalid-body",
    )
    .await;
    let body = check(
        Some("application/json"),
        b"{\"type\":\"x\"}",
        StatusCode::BAD_REQUEST,
        "invalid-body",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("expected a JSON array"),
        "{body}"
    );
    check(
        Some("application/json"),
        b"[{}",
        StatusCode::BAD_REQUEST,
        "invalid-body",
    )
    .await;
    check(
        Some("text/csv"),
        b"a,b",
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;
    assert_eq!(app.store.event_count().unwrap(), 0);

    // An empty batch is fine and says so.
    let reply = ingest_json(&app.router, "[]").await;
    assert_eq!(
        (
            reply.json()["accepted"].clone(),
            reply.json()["first_seq"].clone()
        ),
        (json!(0), Value::Null)
    );
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn tokens_and_scopes() {
    let app = app();
    let event = format!("[{}]", access_event("x", "2025-01-01T00:00:00Z"));
    let ingest = |token: Option<&'static str>| {
        let router = app.router.clone();
        let event = event.clone();
        async move { send(&router, post_events(token, Some("application/json"), event)).await }
    };

    let reply = ingest(None).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(
        reply.headers[header::WWW_AUTHENTICATE],
        "Bearer realm=\"custos\""
    );
    let reply = ingest(Some("not-a-configured-token")).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert!(!reply.text().contains("not-a-configured-token"));
    let reply = ingest(Some(READ_TOKEN)).await;
    let body = assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    assert!(body["detail"].as_str().unwrap().contains("`ingest`"));
    assert!(!reply.text().contains(READ_TOKEN));
    assert_eq!(app.store.event_count().unwrap(), 0);
    assert_eq!(ingest(Some(INGEST_TOKEN)).await.status, StatusCode::OK);
    assert_eq!(ingest(Some(ADMIN_TOKEN)).await.status, StatusCode::OK);

    let read = |uri: &'static str, token: Option<&'static str>| {
        let router = app.router.clone();
        async move { send(&router, get(uri, token)).await.status }
    };
    assert_eq!(read("/v1/alerts", Some(READ_TOKEN)).await, StatusCode::OK);
    assert_eq!(read("/v1/alerts", Some(ADMIN_TOKEN)).await, StatusCode::OK);
    assert_eq!(
        read("/v1/alerts", Some(INGEST_TOKEN)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(read("/v1/alerts", None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(read("/metrics", None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        read("/metrics", Some(INGEST_TOKEN)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(read("/metrics", Some(READ_TOKEN)).await, StatusCode::OK);
    for open in ["/healthz", "/readyz", "/openapi.json"] {
        assert_eq!(read(open, None).await, StatusCode::OK, "{open}");
    }

    // Other schemes and malformed headers are not credentials.
    let mut basic = post_events(None, Some("application/json"), event.clone());
    basic
        .headers_mut()
        .insert(header::AUTHORIZATION, "Basic Zm9vOmJhcg==".parse().unwrap());
    assert_eq!(
        send(&app.router, basic).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn no_tokens_configured_means_no_access() {
    let app = app_with(HttpSettings::default());
    let reply = send(&app.router, get("/v1/alerts", Some(ADMIN_TOKEN))).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
}

// ---------------------------------------------------------------- alerts

struct AlertFixture {
    alert_id: String,
    detector: &'static str,
    entity_id: String,
    severity: usize,
    ts_micros: i64,
}

const BASE_SECS: i64 = 1_735_689_600; // 2025-01-01T00:00:00Z
const DETECTORS: [&str; 3] = ["agent_behavior", "action_risk", "conversation"];
const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

fn fixtures() -> Vec<AlertFixture> {
    (0..30)
        .map(|i| AlertFixture {
            alert_id: format!("al-{i}"),
            detector: DETECTORS[i % 3],
            entity_id: format!("a-{}", i % 4),
            severity: (i * 7) % 4,
            ts_micros: (BASE_SECS + i as i64 * 60) * 1_000_000,
        })
        .collect()
}

fn insert_alerts(store: &dyn Store) -> Vec<(AlertFixture, String)> {
    let with_json: Vec<(AlertFixture, String)> = fixtures()
        .into_iter()
        .map(|f| {
            let severity = custos_core::Severity::parse(SEVERITIES[f.severity]).unwrap();
            let mut alert = Alert::new(
                f.detector,
                EventTime::from_micros(f.ts_micros),
                Entity::new(EntityKind::Agent, f.entity_id.clone()),
                severity,
                0.5,
            )
            .reason(
                "off_ticket_access",
                "31 of 40 records opened today had no ticket",
            );
            alert.alert_id = f.alert_id.clone();
            let json = serde_json::to_string(&alert).unwrap();
            (f, json)
        })
        .collect();
    let new: Vec<NewAlert> = with_json
        .iter()
        .map(|(f, json)| NewAlert {
            alert_id: f.alert_id.clone(),
            ts_micros: f.ts_micros,
            detector: f.detector.to_owned(),
            entity_kind: "agent".to_owned(),
            entity_id: f.entity_id.clone(),
            severity: SEVERITIES[f.severity].parse().unwrap(),
            json: json.clone(),
        })
        .collect();
    // Two appends, so pages cross an append boundary.
    store.append_alerts(&new[..13], "pipeline", 5).unwrap();
    store.append_alerts(&new[13..], "pipeline", 9).unwrap();
    with_json
}

/// Follows `next_cursor` from the first page to the last; returns the ids.
async fn every_page(router: &Router, query: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            None => format!("/v1/alerts?{query}"),
            Some(c) => format!("/v1/alerts?{query}&cursor={c}"),
        };
        let reply = send(router, get(&uri, Some(READ_TOKEN))).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.text());
        let page = reply.json();
        pages += 1;
        for alert in page["alerts"].as_array().unwrap() {
            ids.push(alert["alert_id"].as_str().unwrap().to_owned());
        }
        match &page["next_cursor"] {
            Value::Null => return (ids, pages),
            Value::String(next) => cursor = Some(next.clone()),
            other => panic!("next_cursor {other}"),
        }
        assert!(pages < 100, "pagination does not end");
    }
}

#[tokio::test]
async fn alerts_filter_and_paginate_visiting_each_once() {
    let app = app();
    let alerts = insert_alerts(app.store.as_ref());
    let expect = |keep: &dyn Fn(&AlertFixture) -> bool| -> Vec<String> {
        alerts
            .iter()
            .filter(|(f, _)| keep(f))
            .map(|(f, _)| f.alert_id.clone())
            .collect()
    };

    let (ids, pages) = every_page(&app.router, "limit=7").await;
    assert_eq!(ids, expect(&|_| true));
    assert_eq!(pages, 5);
    let (ids, pages) = every_page(&app.router, "").await;
    assert_eq!((ids.len(), pages), (30, 1));

    let (ids, _) = every_page(&app.router, "detector=conversation&limit=3").await;
    assert_eq!(ids, expect(&|f| f.detector == "conversation"));
    assert_eq!(ids.len(), 10);

    let (ids, _) = every_page(&app.router, "entity_kind=agent&entity_id=a-1&limit=2").await;
    assert_eq!(ids, expect(&|f| f.entity_id == "a-1"));
    let (ids, _) = every_page(&app.router, "entity_kind=customer").await;
    assert!(ids.is_empty());

    let (ids, _) = every_page(&app.router, "severity=high&limit=4").await;
    assert_eq!(ids, expect(&|f| f.severity >= 2));
    assert!(!ids.is_empty() && ids.len() < 30);

    // `since` inclusive, `until` exclusive, in event time; offsets understood.
    let since = (BASE_SECS + 5 * 60) * 1_000_000;
    let until = (BASE_SECS + 12 * 60) * 1_000_000;
    let (ids, _) = every_page(
        &app.router,
        "since=2025-01-01T00:05:00Z&until=2025-01-01T01:12:00%2B01:00&limit=4",
    )
    .await;
    assert_eq!(
        ids,
        expect(&|f| f.ts_micros >= since && f.ts_micros < until)
    );
    assert_eq!(ids.len(), 7);

    let (ids, _) = every_page(&app.router, "detector=agent_behavior&severity=critical").await;
    assert_eq!(
        ids,
        expect(&|f| f.detector == "agent_behavior" && f.severity == 3)
    );

    // The alerts are returned exactly as stored.
    let reply = send(&app.router, get("/v1/alerts?limit=1", Some(READ_TOKEN))).await;
    let text = reply.text();
    assert!(text.contains(&alerts[0].1), "{text}");
}

#[tokio::test]
async fn bad_alert_parameters_are_named() {
    let app = app();
    for (query, parameter) in [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=many", "limit"),
        ("severity=urgent", "severity"),
        ("since=yesterday", "since"),
        ("until=2025-13-01T00:00:00Z", "until"),
        ("cursor=abc", "cursor"),
        ("colour=red", "colour"),
        ("detector=a&detector=b", "detector"),
    ] {
        let reply = send(
            &app.router,
            get(&format!("/v1/alerts?{query}"), Some(READ_TOKEN)),
        )
        .await;
        let body = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-parameter");
        assert_eq!(body["errors"][0]["parameter"], parameter, "{query}: {body}");
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("`{parameter}`")),
            "{query}: {body}"
        );
    }
}

// ---------------------------------------------------------------- errors

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = app();
    let reply = send(&app.router, get("/v2/nothing", Some(ADMIN_TOKEN))).await;
    let body = assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    assert_eq!(body["detail"], "no route for path `/v2/nothing`");
    assert_eq!(body["title"], "not found");

    let reply = send(&app.router, get("/v1/events", Some(ADMIN_TOKEN))).await;
    let body = assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    assert_eq!(
        body["detail"],
        "method `GET` is not allowed on `/v1/events`"
    );
    assert_eq!(reply.headers[header::ALLOW], "POST");

    let delete = Request::builder()
        .method(Method::DELETE)
        .uri("/v1/alerts")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app.router, delete).await;
    assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
}

/// A store whose database can be switched off: the one fake of these tests,
/// standing in for a PostgreSQL server that went away.
struct SwitchableStore {
    inner: SqliteStore,
    down: AtomicBool,
}

impl SwitchableStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("connection refused".to_owned()))
        } else {
            Ok(())
        }
    }
}

impl Store for SwitchableStore {
    fn append_events(&self, batch: &[NewEvent]) -> Result<AppendReceipt, StoreError> {
        self.check()?;
        self.inner.append_events(batch)
    }
    fn read_events(&self, after_seq: u64, limit: usize) -> Result<Vec<StoredEvent>, StoreError> {
        self.check()?;
        self.inner.read_events(after_seq, limit)
    }
    fn last_seq(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.last_seq()
    }
    fn event_count(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.event_count()
    }
    fn directory_current(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Option<DirectoryRecord>, StoreError> {
        self.check()?;
        self.inner.directory_current(kind, id)
    }
    fn directory_list(
        &self,
        kind: DirectoryKind,
        after_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<DirectoryRecord>, StoreError> {
        self.check()?;
        self.inner.directory_list(kind, after_id, limit)
    }
    fn directory_history(
        &self,
        kind: DirectoryKind,
        id: &str,
    ) -> Result<Vec<DirectoryRecord>, StoreError> {
        self.check()?;
        self.inner.directory_history(kind, id)
    }
    fn append_alerts(
        &self,
        alerts: &[NewAlert],
        cursor: &str,
        cursor_seq: u64,
    ) -> Result<(), StoreError> {
        self.check()?;
        self.inner.append_alerts(alerts, cursor, cursor_seq)
    }
    fn cursor(&self, name: &str) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.cursor(name)
    }
    fn query_alerts(&self, query: &AlertQuery) -> Result<AlertPage, StoreError> {
        self.check()?;
        self.inner.query_alerts(query)
    }
    fn alert_count(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.alert_count()
    }
    fn ping(&self) -> Result<(), StoreError> {
        self.check()?;
        self.inner.ping()
    }
    fn backend(&self) -> &'static str {
        "switchable"
    }
}

#[tokio::test]
async fn a_database_outage_is_503_and_the_server_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SwitchableStore {
        inner: SqliteStore::open(dir.path()).unwrap(),
        down: AtomicBool::new(false),
    });
    let app = app_on(dir, store.clone(), settings());
    let batch = format!(
        "[{},{}]",
        access_event("a", "2025-01-01T00:00:00Z"),
        access_event("b", "2025-01-01T00:00:01Z")
    );

    store.down.store(true, Ordering::SeqCst);
    let reply = ingest_json(&app.router, &batch).await;
    let body = assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    assert_eq!(body["detail"], "internal error");
    assert!(body.get("accepted").is_none());
    assert!(!reply.text().contains("connection refused"));
    assert_eq!(reply.headers[header::RETRY_AFTER], "1");
    let reply = send(&app.router, get("/v1/alerts", Some(READ_TOKEN))).await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let reply = send(&app.router, get("/readyz", None)).await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let reply = send(&app.router, get("/metrics", Some(READ_TOKEN))).await;
    assert!(reply.text().contains("\ncustos_store_up 0\n"));
    assert_eq!(
        send(&app.router, get("/healthz", None)).await.status,
        StatusCode::OK
    );
    assert_eq!(app.state.metrics.ingest_accepted(), 0);

    store.down.store(false, Ordering::SeqCst);
    assert_eq!(store.inner.event_count().unwrap(), 0);
    let reply = ingest_json(&app.router, &batch).await;
    assert_eq!(reply.status, StatusCode::OK);
    // The failed attempt used up no sequence numbers.
    assert_eq!(
        (
            reply.json()["first_seq"].clone(),
            reply.json()["last_seq"].clone()
        ),
        (json!(1), json!(2))
    );
    assert_eq!(
        send(&app.router, get("/readyz", None)).await.status,
        StatusCode::OK
    );
}

// ---------------------------------------------------------------- operations

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = app();
    let reply = send(&app.router, get("/healthz", None)).await;
    assert_eq!(reply.json(), json!({"status": "ok"}));
    let reply = send(&app.router, get("/readyz", None)).await;
    assert_eq!(reply.json(), json!({"status": "ready"}));

    app.state.pipeline_running.store(false, Ordering::SeqCst);
    let reply = send(&app.router, get("/readyz", None)).await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    app.state.pipeline_running.store(true, Ordering::SeqCst);

    let batch = format!(
        "[{},{}]",
        access_event("a", "2025-01-01T00:00:00Z"),
        "{\"type\":\"agent\"}"
    );
    ingest_json(&app.router, &batch).await;
    app.state.metrics.add_alerts("agent_behavior", 2);
    app.state.metrics.add_pipeline_processed(1);
    app.state.metrics.set_pipeline_lag_events(0);
    send(&app.router, get("/nope", None)).await;

    let reply = send(&app.router, get("/metrics", Some(ADMIN_TOKEN))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = reply.text();
    for line in [
        "custos_ingest_events_accepted_total 1",
        "custos_ingest_events_rejected_total 1",
        "custos_ingest_commit_duration_seconds_count 1",
        "custos_http_requests_total{method=\"POST\",route=\"/v1/events\",status=\"2xx\"} 1",
        "custos_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"5xx\"} 1",
        "custos_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"2xx\"} 1",
        "custos_http_requests_total{method=\"\",route=\"unmatched\",status=\"4xx\"} 1",
        "custos_alerts_total{detector=\"agent_behavior\"} 2",
        "custos_pipeline_processed_events_total 1",
        "custos_pipeline_running 1",
        "custos_store_up 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing `{line}` in\n{text}"
        );
    }
    assert!(!text.contains(ADMIN_TOKEN));
}

// ---------------------------------------------------------------- concurrency

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_ingest_gets_gap_free_unique_seqs() {
    const TASKS: usize = 16;
    const BATCHES: usize = 6;
    const EVENTS: usize = 50;
    let app = app();
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let router = app.router.clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for batch in 0..BATCHES {
                let ids: Vec<String> = (0..EVENTS)
                    .map(|i| format!("t{task}-b{batch}-{i}"))
                    .collect();
                let body = format!(
                    "[{}]",
                    ids.iter()
                        .map(|id| access_event(id, "2025-01-01T00:00:00Z"))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                let reply = ingest_json(&router, &body).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
                let answer = reply.json();
                let first = answer["first_seq"].as_u64().unwrap();
                let last = answer["last_seq"].as_u64().unwrap();
                assert_eq!(last - first + 1, EVENTS as u64);
                acknowledged.push((first, ids));
            }
            acknowledged
        }));
    }
    let mut by_seq: HashMap<u64, String> = HashMap::new();
    for task in tasks {
        for (first, ids) in task.await.unwrap() {
            for (offset, id) in ids.into_iter().enumerate() {
                assert!(
                    by_seq.insert(first + offset as u64, id).is_none(),
                    "seq given twice"
                );
            }
        }
    }
    let total = TASKS * BATCHES * EVENTS;
    assert_eq!(by_seq.len(), total);
    let stored = all_events(app.store.as_ref());
    assert_eq!(stored.len(), total);
    for (position, event) in stored.iter().enumerate() {
        assert_eq!(event.seq, position as u64 + 1, "gap-free from 1");
        assert_eq!(
            by_seq[&event.seq], event.event_id,
            "acknowledged at its seq"
        );
    }
}

// ---------------------------------------------------------------- real port

#[tokio::test]
async fn serves_raw_http_on_a_real_port_and_shuts_down() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(custos_http::serve(listener, app.state.clone(), async {
        let _ = stopped.await;
    }));

    let body = format!("{}\n", access_event("wire-1", "2025-01-01T00:00:00Z"));
    let request = format!(
        "POST /v1/events HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {INGEST_TOKEN}\r\n\
         Content-Type: application/x-ndjson\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    tokio::time::timeout(
        Duration::from_secs(10),
        stream.read_to_string(&mut response),
    )
    .await
    .expect("answered in time")
    .unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response
            .to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    let (_, json_body) = response.split_once("\r\n\r\n").unwrap();
    let answer: Value = serde_json::from_str(json_body).unwrap();
    assert_eq!(answer["accepted"], 1);
    assert_eq!(all_events(app.store.as_ref())[0].event_id, "wire-1");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("shut down in time")
        .unwrap()
        .unwrap();
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_the_store_refuses_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let ingestor = custos_http::Ingestor::start(store.clone(), Arc::new(Metrics::new())).unwrap();
    let event = |id: &str| NewEvent {
        event_id: id.to_owned(),
        event_type: "agent_access".to_owned(),
        ts_micros: 0,
        raw: access_event(id, "1970-01-01T00:00:00Z"),
        directory: None,
    };
    // Submitted together, so the ingest thread may well commit them as one
    // group; either way only the bad batch (an empty id) may fail.
    let tasks: Vec<_> = (0..6)
        .map(|batch| {
            let ingestor = ingestor.clone();
            let events: Vec<NewEvent> = (0..10)
                .map(|i| {
                    event(&if batch == 3 && i == 4 {
                        String::new()
                    } else {
                        format!("b{batch}-{i}")
                    })
                })
                .collect();
            tokio::spawn(async move { ingestor.append(events).await })
        })
        .collect();
    let mut receipts = Vec::new();
    for (batch, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if batch == 3 {
            let error = result.unwrap_err();
            assert!(!error.is_unavailable(), "{error}");
            assert!(error.to_string().contains("event_id"), "{error}");
        } else {
            let receipt = result.unwrap();
            assert_eq!(receipt.len(), 10);
            receipts.push((receipt.first_seq, batch));
        }
    }
    receipts.sort();
    let stored = all_events(store.as_ref());
    assert_eq!(stored.len(), 50);
    for (first_seq, batch) in receipts {
        let event = &stored[(first_seq - 1) as usize];
        assert_eq!(event.event_id, format!("b{batch}-0"));
    }
    assert!(ingestor.is_running());
}

// ---------------------------------------------------------------- services

fn post_json(uri: &str, token: Option<&str>, body: &Value) -> Request<Body> {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    request.body(Body::from(body.to_string())).unwrap()
}

fn with_services(services: custos_http::Services) -> TestApp {
    let mut app = app();
    app.state = app.state.clone().with_services(services);
    app.router = router(app.state.clone());
    app
}

fn withdrawal(ts: &str, device: &str, country: &str, amount: f64, destination: &str) -> Value {
    json!({
        "type": "customer_action", "ts": ts, "customer_id": "c-1", "action": "withdrawal",
        "ip": "198.51.100.4", "device_id": device,
        "geo": {"country": country, "lat": 40.7, "lon": -74.0},
        "amount_usd": amount, "asset": "BTC", "destination": destination
    })
}

#[tokio::test]
async fn actions_are_decided_by_the_shared_engine_with_reasons() {
    let handle = custos_risk::RiskHandle::new(
        custos_risk::ActionRisk::new(custos_risk::RiskConfig::default()).unwrap(),
    );
    // The pipeline side learns a month of routine withdrawals.
    let mut detector =
        handle.detector(custos_risk::ActionRisk::new(custos_risk::RiskConfig::default()).unwrap());
    let mut ctx = custos_core::Context::default();
    let start = now_micros() - 40 * 86_400_000_000;
    for day in 0..30 {
        let ts = EventTime::from_micros(start + day * 86_400_000_000).to_string();
        let line = withdrawal(&ts, "fp-home", "US", 120.0, "bc1-home").to_string();
        let event = custos_core::parse::parse_event(&line, || format!("w{day}")).unwrap();
        ctx.now = event.ts;
        custos_core::Detector::observe(&mut detector, &event, &mut ctx);
    }
    let app = with_services(custos_http::Services {
        risk: Some(handle),
        ..custos_http::Services::default()
    });
    let ts = EventTime::from_micros(now_micros() - 60_000_000).to_string();
    let routine = withdrawal(&ts, "fp-home", "US", 120.0, "bc1-home");
    let reply = send(
        &app.router,
        post_json("/v1/actions/evaluate", Some(INGEST_TOKEN), &routine),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json()["decision"]["outcome"],
        "allow",
        "{}",
        reply.text()
    );

    // A drain from a new device in another country, to a new address, with
    // no `type` and no `ts` (both defaulted).
    let mut drain = withdrawal(&ts, "fp-new", "NG", 90_000.0, "bc1-thief");
    drain.as_object_mut().unwrap().remove("type");
    drain.as_object_mut().unwrap().remove("ts");
    let reply = send(
        &app.router,
        post_json("/v1/actions/evaluate", Some(INGEST_TOKEN), &drain),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let decision = &reply.json()["decision"];
    assert_ne!(decision["outcome"], "allow", "{decision}");
    let codes: Vec<&str> = decision["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    assert!(codes.iter().all(|c| c.starts_with("v1.")), "{codes:?}");
    assert!(codes.contains(&"v1.new_device"), "{codes:?}");
    // Nothing was stored: evaluation is not ingestion.
    assert!(all_events(app.store.as_ref()).is_empty());

    // Bad input names the field.
    let mut bad = routine.clone();
    bad["amount_usd"] = json!("lots");
    let reply = send(
        &app.router,
        post_json("/v1/actions/evaluate", Some(INGEST_TOKEN), &bad),
    )
    .await;
    let body = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-body");
    assert_eq!(body["errors"][0]["pointer"], "/amount_usd", "{body}");
    let mut wrong = routine.clone();
    wrong["type"] = json!("message");
    let reply = send(
        &app.router,
        post_json("/v1/actions/evaluate", Some(INGEST_TOKEN), &wrong),
    )
    .await;
    let body = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-body");
    assert_eq!(body["errors"][0]["pointer"], "/type", "{body}");
    let reply = send(
        &app.router,
        post_json("/v1/actions/evaluate", Some(READ_TOKEN), &routine),
    )
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = send(
        &app.router,
        post_json("/v1/actions/evaluate", None, &routine),
    )
    .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
}

#[tokio::test]
async fn a_server_without_a_service_says_so() {
    let app = app();
    let body = json!({"customer_id": "c-1", "action": "login"});
    let reply = send(
        &app.router,
        post_json("/v1/actions/evaluate", Some(INGEST_TOKEN), &body),
    )
    .await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let reply = send(&app.router, get("/v1/audit/checkpoint", Some(READ_TOKEN))).await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
    let reply = send(
        &app.router,
        post_json("/v1/messages", Some(INGEST_TOKEN), &json!({"text": "hi"})),
    )
    .await;
    assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE, "unavailable");
}

#[tokio::test]
async fn messages_are_scored_and_recorded_for_the_pipeline() {
    let scorer =
        custos_http::MessageScorer::new(custos_conversation::ConversationConfig::default())
            .unwrap();
    let app = with_services(custos_http::Services {
        messages: Some(Arc::new(scorer)),
        ..custos_http::Services::default()
    });
    let ts = EventTime::from_micros(now_micros() - 1_000_000).to_string();
    let message = json!({
        "type": "message", "ts": ts, "id": "m-1", "conversation_id": "conv-9", "channel": "phone",
        "direction": "inbound", "sender_role": "unknown", "customer_id": "c-1",
        "text": "This is the exchange security team, your account is at risk. Read me the code we just sent you."
    });
    let reply = send(
        &app.router,
        post_json("/v1/messages", Some(INGEST_TOKEN), &message),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let verdict = reply.json();
    assert_eq!(verdict["id"], "m-1");
    assert_eq!(verdict["verdict"], "scam", "{verdict}");
    let stored = all_events(app.store.as_ref());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].seq, verdict["seq"].as_u64().unwrap());
    assert_eq!(stored[0].event_type, "message");

    let benign = json!({
        "conversation_id": "conv-10", "channel": "chat", "direction": "outbound",
        "sender_role": "customer", "customer_id": "c-2",
        "text": "Hi, my withdrawal has been pending for three hours, can you check?"
    });
    let reply = send(
        &app.router,
        post_json("/v1/messages", Some(INGEST_TOKEN), &benign),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["verdict"], "benign", "{}", reply.text());

    let reply = send(
        &app.router,
        post_json(
            "/v1/messages",
            Some(INGEST_TOKEN),
            &json!({"conversation_id": "c"}),
        ),
    )
    .await;
    let body = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-body");
    assert!(body["errors"][0]["pointer"].is_string(), "{body}");
}

#[tokio::test]
async fn audit_proofs_verify_against_the_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let signer = custos_audit::NoteSigner::from_seed("test.example/audit", [3u8; 32]).unwrap();
    let verifier = signer.verifier();
    let mut log =
        custos_audit::AuditLog::open(&dir.path().join("audit.db"), "test.example/audit", signer)
            .unwrap();
    let log_handle = |log| Arc::new(std::sync::Mutex::new(log));
    let entry = |i: u64| custos_audit::AuditEntry {
        kind: "access".into(),
        ts: "2025-01-01T00:00:00Z".into(),
        actor: format!("a-{i}"),
        subject_commitment: "00ff".into(),
        details: json!({"seq": i}),
    };
    log.append(&(0..5).map(entry).collect::<Vec<_>>()).unwrap();
    let shared = log_handle(log);
    let app = with_services(custos_http::Services {
        audit: Some(shared.clone()),
        ..custos_http::Services::default()
    });
    let reply = send(&app.router, get("/v1/audit/checkpoint", Some(READ_TOKEN))).await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");

    shared.lock().unwrap().checkpoint().unwrap();
    shared
        .lock()
        .unwrap()
        .append(&(5..9).map(entry).collect::<Vec<_>>())
        .unwrap();
    shared.lock().unwrap().checkpoint().unwrap();
    let reply = send(&app.router, get("/v1/audit/checkpoint", Some(READ_TOKEN))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let checkpoint = reply.json();
    assert_eq!(checkpoint["size"], 9);
    let opened =
        custos_audit::Checkpoint::open(checkpoint["note"].as_str().unwrap(), &verifier).unwrap();
    assert_eq!(opened.size, 9);

    let reply = send(
        &app.router,
        get("/v1/audit/proof/inclusion?index=6&size=9", Some(READ_TOKEN)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let proof = reply.json();
    let decode = |v: &Value| custos_audit::api::decode_hash(v.as_str().unwrap()).unwrap();
    let path: Vec<custos_audit::Hash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(decode)
        .collect();
    custos_audit::verify_inclusion(6, 9, &decode(&proof["leaf_hash"]), &path, &opened.root)
        .unwrap();

    let reply = send(
        &app.router,
        get("/v1/audit/proof/consistency?old=5&new=9", Some(READ_TOKEN)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(!reply.json()["proof"].as_array().unwrap().is_empty());

    let reply = send(
        &app.router,
        get("/v1/audit/entries?start=2&end=4", Some(READ_TOKEN)),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let entries = reply.json();
    assert_eq!(entries["entries"].as_array().unwrap().len(), 2);
    assert_eq!(entries["entries"][0]["entry"]["actor"], "a-2");

    for (uri, parameter) in [
        ("/v1/audit/proof/inclusion?index=9&size=9", None),
        ("/v1/audit/proof/inclusion?index=1", Some("size")),
        ("/v1/audit/proof/inclusion?index=x&size=9", Some("index")),
        ("/v1/audit/entries?start=1&end=2&start=3", Some("start")),
        ("/v1/audit/entries?start=4&end=2", Some("end")),
        ("/v1/audit/proof/consistency?old=1&new=99", None),
    ] {
        let reply = send(&app.router, get(uri, Some(READ_TOKEN))).await;
        let body = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-parameter");
        if let Some(parameter) = parameter {
            assert_eq!(body["errors"][0]["parameter"], parameter, "{uri}: {body}");
        }
    }
    let reply = send(&app.router, get("/v1/audit/entries?start=0&end=1", None)).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    let reply = send(
        &app.router,
        get("/v1/audit/entries?start=0&end=1", Some(INGEST_TOKEN)),
    )
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
}

// ---------------------------------------------------------------- access

fn base32_decode(text: &str) -> Vec<u8> {
    let mut bits = 0u64;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {c}"),
        };
        bits = (bits << 5) | u64::from(v);
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

fn totp_now(uri: &str) -> String {
    let encoded = uri
        .split(['?', '&'])
        .find_map(|part| part.strip_prefix("secret="))
        .unwrap();
    let secret = custos_access::totp::TotpSecret::from_bytes(base32_decode(encoded));
    format!(
        "{:06}",
        custos_access::totp::totp(&secret, EventTime::from_micros(now_micros()))
    )
}

struct AccessApp {
    app: TestApp,
    audit: Arc<std::sync::Mutex<custos_audit::AuditLog>>,
    countermeasures: custos_http::AgentCountermeasures,
    live: Arc<custos_access::LiveContacts>,
    _dirs: (TempDir, TempDir),
}

fn access_app() -> AccessApp {
    let app = app();
    let ts = EventTime::from_micros(now_micros() - 3_600_000_000).to_string();
    let directory = [
        json!({"type":"agent","ts":ts,"agent_id":"a-1","team":"tier1-chat","role":"support_l1","site":"IN"}),
        json!({"type":"agent","ts":ts,"agent_id":"a-9","team":"tier1-chat","role":"support_lead","site":"IN"}),
        // Reporting lines (the `lead_id` extension): a-2 reports to a-8,
        // who reports to a-7; a-6 (supervisor) and a-5 (security) are
        // outside it.
        json!({"type":"agent","ts":ts,"agent_id":"a-2","team":"tier1-chat","role":"support_l1","lead_id":"a-8"}),
        json!({"type":"agent","ts":ts,"agent_id":"a-8","team":"tier1-chat","role":"support_lead","lead_id":"a-7"}),
        json!({"type":"agent","ts":ts,"agent_id":"a-7","team":"tier1-chat","role":"Supervisor"}),
        json!({"type":"agent","ts":ts,"agent_id":"a-6","team":"tier1-chat","role":"supervisor"}),
        json!({"type":"agent","ts":ts,"agent_id":"a-5","team":"security","role":"security"}),
        json!({"type":"ticket","ts":ts,"ticket_id":"t-2","customer_id":"c-1","agent_id":"a-2","status":"assigned","channel":"chat","category":"kyc_verification","opened_by":"customer"}),
        json!({"type":"customer","ts":ts,"customer_id":"c-1","tier":"vip","balance_usd":250000.0}),
        json!({"type":"ticket","ts":ts,"ticket_id":"t-1","customer_id":"c-1","agent_id":"a-1","status":"assigned","channel":"chat","category":"kyc_verification","opened_by":"customer"}),
    ];
    let body: String = directory.iter().map(|e| format!("{e}\n")).collect();
    let store = app.store.clone();
    let rt_body = body.clone();
    // Straight into the store, as ingest would.
    let events: Vec<NewEvent> = rt_body
        .lines()
        .map(|line| {
            let event = custos_core::parse::parse_event(line, || "d".into()).unwrap();
            let directory = match &event.body {
                custos_core::EventBody::Agent(a) => {
                    Some((DirectoryKind::Agent, a.agent_id.as_str().to_owned()))
                }
                custos_core::EventBody::Customer(c) => {
                    Some((DirectoryKind::Customer, c.customer_id.as_str().to_owned()))
                }
                custos_core::EventBody::Ticket(t) => {
                    Some((DirectoryKind::Ticket, t.ticket_id.as_str().to_owned()))
                }
                _ => None,
            };
            NewEvent {
                event_id: event.id.as_str().to_owned(),
                event_type: event.body.type_name().to_owned(),
                ts_micros: event.ts.as_micros(),
                raw: line.to_owned(),
                directory: directory.map(|(kind, id)| custos_store::DirectoryUpdate { kind, id }),
            }
        })
        .collect();
    store.append_events(&events).unwrap();

    let vault_dir = tempfile::tempdir().unwrap();
    let keys = custos_vault::KeyRing::new(
        custos_vault::KekId::parse("test-kek").unwrap(),
        custos_vault::SecretKey::from_bytes([1; 32]),
        custos_vault::SecretKey::from_bytes([2; 32]),
    );
    let vault = Arc::new(custos_vault::Vault::open(vault_dir.path(), keys).unwrap());
    let access_dir = tempfile::tempdir().unwrap();
    let access_store = Arc::new(custos_access::SqliteAccessStore::open(access_dir.path()).unwrap());
    let countermeasures = custos_http::AgentCountermeasures::default();
    let live = Arc::new(custos_access::LiveContacts::default());
    let facts: Arc<dyn custos_access::FactsSource> = Arc::new(custos_http::StoreFacts {
        store: store.clone(),
        countermeasures: countermeasures.clone(),
        live_contacts: live.clone(),
    });
    let broker = Arc::new(custos_access::BrokerHandle::fixed(
        custos_broker::Broker::default_policies().unwrap(),
    ));
    let service = custos_access::AccessService::new(
        broker,
        vault.clone(),
        facts.clone(),
        access_store.clone(),
        access_store.clone(),
    )
    .unwrap();
    let signer = custos_audit::NoteSigner::from_seed("test.example/audit", [5u8; 32]).unwrap();
    let audit = Arc::new(std::sync::Mutex::new(
        custos_audit::AuditLog::open(
            &access_dir.path().join("audit.db"),
            "test.example/audit",
            signer,
        )
        .unwrap(),
    ));
    let services = custos_http::Services {
        audit: Some(audit.clone()),
        access: Some(Arc::new(custos_http::AccessServices {
            service: Arc::new(service),
            approvals: Arc::new(custos_access::Approvals::new(
                access_store.clone(),
                access_store.clone(),
                vault.clone(),
                facts.clone(),
                custos_access::GrantPolicy::default(),
            )),
            step_ups: Arc::new(custos_access::StepUps::new(
                access_store,
                custos_access::SealingKey::from_bytes([9; 32]),
                custos_access::StepUpPolicy::default(),
            )),
            vault,
            facts,
        })),
        ..custos_http::Services::default()
    };
    let mut app = app;
    app.state = app.state.clone().with_services(services);
    app.router = router(app.state.clone());
    AccessApp {
        app,
        audit,
        countermeasures,
        live,
        _dirs: (vault_dir, access_dir),
    }
}

fn field<'a>(outcome: &'a Value, name: &str) -> &'a Value {
    outcome["values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["field"] == name)
        .unwrap_or_else(|| panic!("no {name} in {outcome}"))
}

#[tokio::test]
async fn a_reveal_needs_a_second_persons_approval_and_step_ups() {
    let AccessApp {
        app, audit, _dirs, ..
    } = access_app();
    let r = &app.router;
    let pii = json!({"customer": "c-1", "fields": {"name": "Jane Doe", "email": "jane@example.com", "national_id": "123-45-6789"}});
    let reply = send(r, post_json("/v1/vault/customers", Some(ADMIN_TOKEN), &pii)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert!(reply.json()["token"].as_str().unwrap().starts_with("tok_"));
    let reply = send(
        r,
        post_json("/v1/vault/customers", Some(INGEST_TOKEN), &pii),
    )
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");

    let view = json!({"agent": "a-1", "customer": "c-1", "ticket": "t-1", "fields": ["email", "national_id"], "purpose": "verify identity", "action": "reveal", "ip": "203.0.113.7", "device_id": "dev-1"});
    let reply = send(r, post_json("/v1/access", Some(INGEST_TOKEN), &view)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let out = reply.json();
    let national = field(&out, "national_id");
    assert_eq!(national["outcome"], "masked", "{out}");
    assert_eq!(national["value"], "***-**-6789");
    assert!(!reply.text().contains("123-45-6789"));
    // The decision is an event the detectors and the audit pump see.
    let stored = all_events(app.store.as_ref());
    let last = stored.last().unwrap();
    assert_eq!(last.event_type, "agent_access");
    assert_eq!(last.event_id, out["id"].as_str().unwrap());
    assert!(
        !last.raw.contains("Jane") && !last.raw.contains("6789"),
        "{}",
        last.raw
    );

    // Ask for the grant; the requester cannot approve it.
    let ask = json!({"requester": "a-1", "customer": "c-1", "ticket": "t-1", "fields": ["national_id"], "purpose": "verify identity"});
    let reply = send(r, post_json("/v1/grants", Some(INGEST_TOKEN), &ask)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let grant = reply.json()["grant"]["id"].as_str().unwrap().to_owned();
    let reply = send(r, get("/v1/grants", Some(READ_TOKEN))).await;
    assert_eq!(reply.json()["grants"][0]["id"], grant.as_str());
    let approve = |by: &str| {
        post_json(
            &format!("/v1/grants/{grant}/approve"),
            Some(INGEST_TOKEN),
            &json!({"by": by}),
        )
    };
    let reply = send(r, approve("a-1")).await;
    let body = assert_problem(&reply, StatusCode::FORBIDDEN, "refused");
    assert!(
        body["detail"].as_str().unwrap().contains("self_approval"),
        "{body}"
    );
    // The lead has not stepped up yet.
    let reply = send(r, approve("a-9")).await;
    let body = assert_problem(&reply, StatusCode::FORBIDDEN, "refused");
    assert!(
        body["detail"].as_str().unwrap().contains("step_up"),
        "{body}"
    );

    // Both enrol and step up.
    let mut uris = HashMap::new();
    for agent in ["a-1", "a-9"] {
        let reply = send(
            r,
            post_json(
                "/v1/step-up/enrol",
                Some(ADMIN_TOKEN),
                &json!({"agent": agent}),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        uris.insert(
            agent,
            reply.json()["otpauth_uri"].as_str().unwrap().to_owned(),
        );
    }
    let reply = send(
        r,
        post_json(
            "/v1/step-up/enrol",
            Some(ADMIN_TOKEN),
            &json!({"agent": "a-9"}),
        ),
    )
    .await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");
    let reply = send(
        r,
        post_json(
            "/v1/step-up/verify",
            Some(INGEST_TOKEN),
            &json!({"agent": "a-9", "code": "000000"}),
        ),
    )
    .await;
    if reply.status != StatusCode::OK {
        assert_problem(&reply, StatusCode::FORBIDDEN, "refused");
    }
    for agent in ["a-9", "a-1"] {
        let code = totp_now(&uris[agent]);
        let reply = send(
            r,
            post_json(
                "/v1/step-up/verify",
                Some(INGEST_TOKEN),
                &json!({"agent": agent, "code": code}),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        // A code is good once.
        let reply = send(
            r,
            post_json(
                "/v1/step-up/verify",
                Some(INGEST_TOKEN),
                &json!({"agent": agent, "code": code}),
            ),
        )
        .await;
        assert_problem(&reply, StatusCode::FORBIDDEN, "refused");
    }
    let reply = send(r, approve("a-9")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["grant"]["status"], "approved");
    let reply = send(r, approve("a-9")).await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");

    // Now the reveal shows the value, watermarked, and spends the grant.
    let reply = send(r, post_json("/v1/access", Some(INGEST_TOKEN), &view)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let out = reply.json();
    assert_eq!(field(&out, "national_id")["outcome"], "revealed", "{out}");
    assert_eq!(field(&out, "national_id")["value"], "123-45-6789");
    assert!(out["watermark"].is_string(), "{out}");

    // The audit log holds the request, the refusals, the approval and the
    // step-ups, naming the customer only by commitment.
    let entries = {
        let log = audit.lock().unwrap();
        log.entries(0..log.size()).unwrap()
    };
    let kinds: Vec<&str> = entries.iter().map(|e| e.kind.as_str()).collect();
    for kind in [
        "grant_requested",
        "grant_refused",
        "grant_approved",
        "step_up_enrolled",
        "step_up_verified",
    ] {
        assert!(kinds.contains(&kind), "{kind} missing from {kinds:?}");
    }
    let text =
        serde_json::to_string(&entries.iter().map(|e| &e.details).collect::<Vec<_>>()).unwrap();
    assert!(!text.contains("c-1\"") && !text.contains("6789"), "{text}");

    // Bad input names the field; unknown grants are 404.
    let reply = send(r, post_json("/v1/access", Some(INGEST_TOKEN), &json!({"agent": "a-1", "customer": "c-1", "fields": ["shoe_size"], "purpose": "x", "action": "view"}))).await;
    let body = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-body");
    assert_eq!(body["errors"][0]["pointer"], "/fields/0", "{body}");
    let reply = send(
        r,
        post_json(
            "/v1/grants/gr-nope/approve",
            Some(INGEST_TOKEN),
            &json!({"by": "a-9"}),
        ),
    )
    .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
}

#[tokio::test]
async fn approvers_are_listed_and_the_lead_chain_may_not_approve() {
    let AccessApp {
        app,
        audit,
        countermeasures,
        _dirs,
        ..
    } = access_app();
    let r = &app.router;
    let ask = json!({"requester": "a-2", "customer": "c-1", "ticket": "t-2", "fields": ["national_id"], "purpose": "verify identity"});
    let reply = send(r, post_json("/v1/grants", Some(INGEST_TOKEN), &ask)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let grant = reply.json()["grant"]["id"].as_str().unwrap().to_owned();
    countermeasures.write().unwrap().insert(
        "a-5".to_owned(),
        vec![custos_core::alert::ResponseAction::SuspendAccess],
    );
    let approvers = format!("/v1/grants/{grant}/approvers");

    // a-6 enrols and steps up; a-8 (the lead) too.
    for agent in ["a-6", "a-8"] {
        let reply = send(
            r,
            post_json(
                "/v1/step-up/enrol",
                Some(ADMIN_TOKEN),
                &json!({"agent": agent}),
            ),
        )
        .await;
        let uri = reply.json()["otpauth_uri"].as_str().unwrap().to_owned();
        let reply = send(
            r,
            post_json(
                "/v1/step-up/verify",
                Some(INGEST_TOKEN),
                &json!({"agent": agent, "code": totp_now(&uri)}),
            ),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }
    // Approving roles, minus the requester's lead chain (a-8, a-7) and the
    // suspended a-5; by id.
    let reply = send(r, get(&approvers, Some(READ_TOKEN))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(
        reply.json(),
        json!({"grant": grant, "approvers": [
            {"agent": "a-6", "role": "supervisor", "enrolled": true, "fresh_step_up": true},
            {"agent": "a-9", "role": "support_lead", "enrolled": false, "fresh_step_up": false},
        ]})
    );

    // The lead, stepped up, is refused with a specific, audited reason.
    let approve = |by: &str| {
        post_json(
            &format!("/v1/grants/{grant}/approve"),
            Some(INGEST_TOKEN),
            &json!({"by": by}),
        )
    };
    let reply = send(r, approve("a-8")).await;
    let body = assert_problem(&reply, StatusCode::FORBIDDEN, "refused");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("`approver_in_lead_chain`: the approver is in the requester's lead chain"),
        "{body}"
    );
    let codes: Vec<Value> = {
        let log = audit.lock().unwrap();
        log.entries(0..log.size())
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == "grant_refused")
            .map(|e| e.details["code"].clone())
            .collect()
    };
    assert_eq!(codes, vec![json!("approver_in_lead_chain")]);
    // Unknown and malformed grants are 404, no token is 401.
    let reply = send(
        r,
        get(
            "/v1/grants/gr-0123456789abcdef0123456789abcdef/approvers",
            Some(READ_TOKEN),
        ),
    )
    .await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    let reply = send(r, get("/v1/grants/nope/approvers", Some(READ_TOKEN))).await;
    assert_problem(&reply, StatusCode::NOT_FOUND, "not-found");
    let reply = send(r, get(&approvers, None)).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // A listed approver approves; a decided grant has no approvers.
    let reply = send(r, approve("a-6")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let reply = send(r, get(&approvers, Some(READ_TOKEN))).await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");
}

#[tokio::test]
async fn a_live_contact_lets_an_agent_read_a_customer_without_a_ticket() {
    let AccessApp {
        app, live, _dirs, ..
    } = access_app();
    let r = &app.router;
    let pii = json!({"customer": "c-1", "fields": {"name": "Jane Doe", "email": "jane@example.com", "national_id": "123-45-6789"}});
    let reply = send(r, post_json("/v1/vault/customers", Some(ADMIN_TOKEN), &pii)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    // a-9 has no ticket of c-1.
    let read = json!({"agent": "a-9", "customer": "c-1", "fields": ["name", "email", "national_id"], "purpose": "caller asks about a withdrawal", "action": "view"});
    let outcomes = |out: &Value| -> Vec<String> {
        ["name", "email", "national_id"]
            .iter()
            .map(|f| field(out, f)["outcome"].as_str().unwrap().to_owned())
            .collect()
    };
    let reply = send(r, post_json("/v1/access", Some(INGEST_TOKEN), &read)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let out = reply.json();
    assert_eq!(outcomes(&out), ["hidden", "hidden", "hidden"], "{out}");
    assert_eq!(out["decision"]["denied"], true, "{out}");

    let message = |minutes_ago: i64, channel: &str, role: &str, agent: &str| {
        let ts = EventTime::from_micros(now_micros() - minutes_ago * 60_000_000).to_string();
        json!({"type": "message", "ts": ts, "conversation_id": "conv-9", "channel": channel,
               "direction": "inbound", "sender_role": role, "customer_id": "c-1",
               "text": "hello, this is support", "agent_id": agent})
        .to_string()
    };
    // Not a live contact: an expired one, an sms, someone not an agent, another agent.
    assert!(live.observe(&message(11, "chat", "agent", "a-9")));
    assert!(!live.observe(&message(1, "sms", "agent", "a-9")));
    assert!(!live.observe(&message(1, "chat", "unknown", "a-9")));
    assert!(live.observe(&message(1, "phone", "agent", "a-1")));
    let reply = send(r, post_json("/v1/access", Some(INGEST_TOKEN), &read)).await;
    assert_eq!(outcomes(&reply.json()), ["hidden", "hidden", "hidden"]);

    // On a chat with c-1 a minute ago: the live-contact fields, masked.
    assert!(live.observe(&message(1, "chat", "agent", "a-9")));
    let reply = send(r, post_json("/v1/access", Some(INGEST_TOKEN), &read)).await;
    let out = reply.json();
    assert_eq!(outcomes(&out), ["masked", "masked", "hidden"], "{out}");
    assert_eq!(field(&out, "email")["value"], "j***@e***.com", "{out}");
    assert!(!reply.text().contains("jane@example.com"));
    // Revealing a sensitive field still needs a grant.
    let mut reveal = read.clone();
    reveal["action"] = json!("reveal");
    let reply = send(r, post_json("/v1/access", Some(INGEST_TOKEN), &reveal)).await;
    assert_ne!(field(&reply.json(), "national_id")["outcome"], "revealed");
    assert!(!reply.text().contains("123-45-6789"));
}

#[tokio::test]
async fn a_frozen_account_is_denied_and_the_freeze_is_recorded() {
    let handle = custos_risk::RiskHandle::new(
        custos_risk::ActionRisk::new(custos_risk::RiskConfig::default()).unwrap(),
    );
    let mut pipeline_side =
        handle.detector(custos_risk::ActionRisk::new(custos_risk::RiskConfig::default()).unwrap());
    let record = custos_core::parse::parse_event(
        r#"{"type":"customer","ts":"2025-01-01T00:00:00Z","customer_id":"c-1","tier":"retail","balance_usd":5000.0,"country":"US"}"#,
        || "d1".into(),
    )
    .unwrap();
    let mut ctx = custos_core::Context::default();
    custos_core::Detector::observe(&mut pipeline_side, &record, &mut ctx);
    let app = with_services(custos_http::Services {
        risk: Some(handle),
        ..custos_http::Services::default()
    });
    let r = &app.router;
    let freeze =
        json!({"actor": {"kind": "customer", "factor": null}, "protection": {"command": "freeze"}});
    let reply = send(
        r,
        post_json("/v1/customers/c-1/protection", Some(INGEST_TOKEN), &freeze),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let body = reply.json();
    assert_eq!(body["record"]["outcome"], "applied", "{body}");
    let stored = all_events(app.store.as_ref());
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].event_type, "protection_command");
    assert_eq!(stored[0].event_id, body["event_id"].as_str().unwrap());

    // A withdrawal after the freeze (no `ts`: decided now) is denied.
    let mut after = withdrawal("x", "fp-home", "US", 10.0, "bc1-home");
    after.as_object_mut().unwrap().remove("ts");
    let reply = send(
        r,
        post_json("/v1/actions/evaluate", Some(INGEST_TOKEN), &after),
    )
    .await;
    assert_eq!(
        reply.json()["decision"]["outcome"],
        "deny",
        "{}",
        reply.text()
    );

    // Unfreezing needs a strong factor; a typo names the field.
    let weak = json!({"actor": {"kind": "customer", "factor": "email_link"}, "protection": {"command": "request_unfreeze"}});
    let reply = send(
        r,
        post_json("/v1/customers/c-1/protection", Some(INGEST_TOKEN), &weak),
    )
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "refused");
    let typo =
        json!({"actor": {"kind": "customer", "factor": null}, "protection": {"command": "freez"}});
    let reply = send(
        r,
        post_json("/v1/customers/c-1/protection", Some(INGEST_TOKEN), &typo),
    )
    .await;
    let body = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-body");
    assert!(
        body["errors"][0]["pointer"]
            .as_str()
            .unwrap()
            .starts_with("/protection"),
        "{body}"
    );
    let reply = send(r, post_json("/v1/customers/c-2/protection", Some(INGEST_TOKEN), &json!({"actor": {"kind": "customer", "factor": "passkey"}, "protection": {"command": "request_unfreeze"}}))).await;
    assert_problem(&reply, StatusCode::CONFLICT, "conflict");
    // Refused commands are not recorded.
    assert_eq!(all_events(app.store.as_ref()).len(), 1);
}

#[tokio::test]
async fn a_witness_cosigns_the_latest_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let signer = custos_audit::NoteSigner::from_seed("test.example/audit", [3u8; 32]).unwrap();
    let mut log =
        custos_audit::AuditLog::open(&dir.path().join("audit.db"), "test.example/audit", signer)
            .unwrap();
    let entry = |i: u64| custos_audit::AuditEntry {
        kind: "access".into(),
        ts: "2025-01-01T00:00:00Z".into(),
        actor: format!("a-{i}"),
        subject_commitment: "00ff".into(),
        details: json!({"seq": i}),
    };
    log.append(&(0..4).map(entry).collect::<Vec<_>>()).unwrap();
    log.checkpoint().unwrap();
    log.append(&(4..7).map(entry).collect::<Vec<_>>()).unwrap();
    log.checkpoint().unwrap();
    let shared = Arc::new(std::sync::Mutex::new(log));
    let app = with_services(custos_http::Services {
        audit: Some(shared.clone()),
        ..custos_http::Services::default()
    });
    let r = &app.router;
    let reply = send(r, get("/v1/audit/witness?old_size=4", Some(READ_TOKEN))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let request = reply.json();
    assert_eq!(
        (request["size"].as_u64(), request["old_size"].as_u64()),
        (Some(7), Some(4))
    );
    assert!(!request["consistency_proof"].as_array().unwrap().is_empty());

    let witness = custos_audit::NoteSigner::from_seed("witness.example", [9u8; 32]).unwrap();
    let cosigned =
        custos_audit::cosign_checkpoint(request["note"].as_str().unwrap(), &witness, 1_700_000_000)
            .unwrap();
    let body = json!({"note": cosigned, "witness_key": witness.verifier().encode()});
    let reply = send(
        r,
        post_json("/v1/audit/cosignatures", Some(READ_TOKEN), &body),
    )
    .await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "forbidden");
    let reply = send(
        r,
        post_json("/v1/audit/cosignatures", Some(ADMIN_TOKEN), &body),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.json()["witness"], "witness.example");
    let reply = send(r, get("/v1/audit/checkpoint", Some(READ_TOKEN))).await;
    assert_eq!(reply.json()["cosignatures"].as_array().unwrap().len(), 1);

    // The cosignature must verify under the key given.
    let impostor = custos_audit::NoteSigner::from_seed("witness.example", [8u8; 32]).unwrap();
    let wrong = json!({"note": cosigned, "witness_key": impostor.verifier().encode()});
    let reply = send(
        r,
        post_json("/v1/audit/cosignatures", Some(ADMIN_TOKEN), &wrong),
    )
    .await;
    let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-body");
    assert_eq!(problem["errors"][0]["pointer"], "/note", "{problem}");
    let reply = send(
        r,
        post_json(
            "/v1/audit/cosignatures",
            Some(ADMIN_TOKEN),
            &json!({"note": cosigned, "witness_key": "nonsense"}),
        ),
    )
    .await;
    let problem = assert_problem(&reply, StatusCode::BAD_REQUEST, "invalid-body");
    assert_eq!(problem["errors"][0]["pointer"], "/witness_key", "{problem}");
    // A checkpoint from another log is refused.
    let other_dir = tempfile::tempdir().unwrap();
    let other_signer =
        custos_audit::NoteSigner::from_seed("other.example/audit", [1u8; 32]).unwrap();
    let mut other = custos_audit::AuditLog::open(
        &other_dir.path().join("audit.db"),
        "other.example/audit",
        other_signer,
    )
    .unwrap();
    other.append(&[entry(0)]).unwrap();
    let foreign =
        custos_audit::cosign_checkpoint(&other.checkpoint().unwrap(), &witness, 1).unwrap();
    let reply = send(
        r,
        post_json(
            "/v1/audit/cosignatures",
            Some(ADMIN_TOKEN),
            &json!({"note": foreign, "witness_key": witness.verifier().encode()}),
        ),
    )
    .await;
    assert!(
        [StatusCode::BAD_REQUEST, StatusCode::CONFLICT].contains(&reply.status),
        "{}",
        reply.text()
    );
}
