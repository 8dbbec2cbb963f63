//! The `custos` command end to end: the contract's replay behaviour, the
//! configuration, the demo, and durability of acknowledged events under
//! SIGKILL. One test binary, real processes, a real store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_custos");
const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/contract-sample.ndjson"
);

fn custos(args: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args(args);
    // The tests' own environment must not leak configuration in.
    for (k, _) in std::env::vars() {
        if k.starts_with("CUSTOS_") {
            c.env_remove(k);
        }
    }
    c
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Output {
    cmd.borrow_mut().output().expect("custos runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn replay_honours_the_conformance_sample() {
    let out = run(custos(&["replay", "--input", SAMPLE]));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("accepted 20 events, rejected 3"),
        "{stderr}"
    );
    assert!(stderr.contains("`future_type` ×1"), "{stderr}");
    for (line, why) in [(20, "`ts`"), (21, "malformed JSON"), (22, "`amount_usd`")] {
        let expected = format!("rejected line {line}: {why}");
        assert!(
            stderr.contains(&expected),
            "missing {expected:?} in {stderr}"
        );
    }
    // Every stdout line is an alert object (none yet: no detector is enabled).
    for line in text(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["alert_id"].is_string() && v["detector"].is_string());
    }
}

#[test]
fn replay_reads_standard_input_and_writes_alerts_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let alerts = dir.path().join("alerts.ndjson");
    let mut child = custos(&[
        "replay",
        "--input",
        "-",
        "--alerts",
        alerts.to_str().unwrap(),
    ])
    .stdin(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(SAMPLE).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(text(&out.stderr).contains("accepted 20 events"));
    assert!(alerts.exists());
}

#[test]
fn replay_is_deterministic_on_simulated_data() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    let out = run(custos(&[
        "sim",
        "--days",
        "8", // long enough for the simulator to inject attacks
        "--seed",
        "11",
        "--out",
        sim.to_str().unwrap(),
    ]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let input = sim.join("events.ndjson");
    let a = run(custos(&["replay", "--input", input.to_str().unwrap()]));
    let b = run(custos(&["replay", "--input", input.to_str().unwrap()]));
    assert!(a.status.success() && b.status.success());
    assert_eq!(
        a.stdout, b.stdout,
        "alerts differ between two replays of the same input"
    );
    let alerts = text(&a.stdout);
    assert!(
        alerts.lines().count() > 0,
        "the simulated attacks raise alerts"
    );
    for line in alerts.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        for key in [
            "alert_id", "ts", "detector", "entity", "severity", "score", "reasons", "evidence",
            "response",
        ] {
            assert!(v.get(key).is_some(), "alert lacks `{key}`: {line}");
        }
    }
    assert_eq!(a.stderr, b.stderr);
    let lines = std::fs::read_to_string(&input).unwrap().lines().count();
    assert!(
        text(&a.stderr).contains(&format!("accepted {lines} events, rejected 0")),
        "{}",
        text(&a.stderr)
    );
}

#[test]
fn bad_configuration_is_refused_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("custos.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n\n[pipeline]\nlateness = 3\n",
    )
    .unwrap();
    let out = run(custos(&[
        "--config",
        config.to_str().unwrap(),
        "replay",
        "--input",
        SAMPLE,
    ]));
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("unknown field `lateness`") && stderr.contains("line 4"),
        "{stderr}"
    );
    let out =
        run(custos(&["replay", "--input", SAMPLE]).env("CUSTOS_PIPELINE_LATENESS_SECS", "soon"));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("CUSTOS_PIPELINE_LATENESS_SECS"));
}

#[test]
fn replay_of_a_missing_file_fails_clearly() {
    let out = run(custos(&["replay", "--input", "/nonexistent/events.ndjson"]));
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot open input `/nonexistent/events.ndjson`"));
}

#[test]
fn demo_streams_a_simulation_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let out = run(custos(&[
        "demo",
        "--days",
        "2",
        "--exit",
        "--data-dir",
        data.to_str().unwrap(),
    ])
    .env("CUSTOS_LISTEN", "127.0.0.1:0"));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("custos demo report"), "{stdout}");
    let ingested: Vec<u64> = stdout
        .split("ingested ")
        .nth(1)
        .unwrap()
        .split(' ')
        .take(3)
        .filter_map(|w| w.parse().ok())
        .collect();
    assert_eq!(ingested.len(), 2, "{stdout}");
    assert_eq!(
        ingested[0], ingested[1],
        "every simulated event is accepted: {stdout}"
    );
    assert!(ingested[0] > 10_000);
}

/// A running `custos serve` on an ephemeral port.
struct Served {
    child: Child,
    base: String,
}

fn start_serve(data: &Path, token: &str) -> Served {
    start_serve_with(data, Some(token), None).0
}

/// Starts `serve`; with no token configured, also returns what it printed
/// before its address (where a generated token appears).
fn start_serve_with(
    data: &Path,
    token: Option<&str>,
    database_url: Option<&str>,
) -> (Served, Vec<String>) {
    start_serve_env(data, token, database_url, &[])
}

fn start_serve_env(
    data: &Path,
    token: Option<&str>,
    database_url: Option<&str>,
    env: &[(&str, &str)],
) -> (Served, Vec<String>) {
    let mut cmd = custos(&["serve"]);
    for (key, value) in env {
        cmd.env(key, value);
    }
    if let Some(url) = database_url {
        cmd.env("CUSTOS_DATABASE_URL", url);
    }
    cmd.env("CUSTOS_DATA_DIR", data)
        .env("CUSTOS_LISTEN", "127.0.0.1:0")
        .env("CUSTOS_LOG", "warn");
    if let Some(token) = token {
        cmd.env("CUSTOS_AUTH_TOKENS", format!("test:admin:{token}"));
    }
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut before = Vec::new();
    let base = loop {
        let line = lines.next().expect("serve prints its address").unwrap();
        if let Some(rest) = line.split("serving on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
        before.push(line);
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Served { child, base }, before)
}

#[test]
fn serve_without_configuration_generates_a_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut first, printed) = start_serve_with(&data, None, None);
    let token = printed
        .iter()
        .find_map(|l| {
            l.trim()
                .strip_prefix("custos_")
                .map(|t| format!("custos_{t}"))
        })
        .unwrap_or_else(|| panic!("no token printed: {printed:?}"));
    wait_ready(&first.base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let alerts = |base: &str, token: &str| {
        agent
            .get(&format!("{base}/v1/alerts"))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap()
            .status()
    };
    assert_eq!(alerts(&first.base, &token), 200);
    assert_eq!(alerts(&first.base, "custos_wrong0123456789"), 401);
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let stored = std::fs::read_to_string(data.join("admin-token.sha256")).unwrap();
    assert!(
        !stored.contains(&token[7..]),
        "the token itself is never stored"
    );

    // Second start: nothing printed, the same token still works.
    let (mut second, printed) = start_serve_with(&data, None, None);
    assert!(
        printed.iter().all(|l| !l.contains("custos_")),
        "printed again: {printed:?}"
    );
    wait_ready(&second.base);
    assert_eq!(alerts(&second.base, &token), 200);
    second.child.kill().unwrap();
    second.child.wait().unwrap();
}

fn wait_ready(base: &str) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if agent
            .get(&format!("{base}/readyz"))
            .call()
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("{base} never became ready");
}

#[test]
fn acknowledged_events_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = "test-token-0123456789";
    let sim = dir.path().join("sim");
    assert!(
        run(custos(&[
            "sim",
            "--days",
            "2",
            "--seed",
            "5",
            "--out",
            sim.to_str().unwrap()
        ]))
        .status
        .success()
    );
    let lines: Vec<String> = std::fs::read_to_string(sim.join("events.ndjson"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let batches: Vec<&[String]> = lines.chunks(500).collect();

    let mut served = start_serve(&data, token);
    wait_ready(&served.base);
    let url = format!("{}/v1/events", served.base);
    let acknowledged = std::sync::Mutex::new(Vec::<String>::new());
    let sent_batches = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for worker in 0..3 {
            let (batches, url, acknowledged, sent_batches) =
                (&batches, &url, &acknowledged, &sent_batches);
            scope.spawn(move || {
                let agent: ureq::Agent = ureq::Agent::config_builder()
                    .http_status_as_error(false)
                    .build()
                    .into();
                for batch in batches.iter().skip(worker).step_by(3) {
                    let body = batch.join("\n");
                    let Ok(mut r) = agent
                        .post(url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .header("Content-Type", "application/x-ndjson")
                        .send(&body)
                    else {
                        return; // the server is gone: stop sending
                    };
                    if r.status() != 200 {
                        return;
                    }
                    let v: serde_json::Value =
                        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
                    assert_eq!(v["accepted"].as_u64(), Some(batch.len() as u64));
                    let ids = batch.iter().map(|l| {
                        let v: serde_json::Value = serde_json::from_str(l).unwrap();
                        v["id"].as_str().unwrap().to_owned()
                    });
                    acknowledged.lock().unwrap().extend(ids);
                    sent_batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            });
        }
        // Kill mid-stream: after some batches were acknowledged, while more are in flight.
        while sent_batches.load(std::sync::atomic::Ordering::SeqCst) < 20 {
            std::thread::sleep(Duration::from_millis(5));
        }
        served.child.kill().unwrap(); // SIGKILL
        served.child.wait().unwrap();
    });
    let acknowledged = acknowledged.into_inner().unwrap();
    assert!(
        acknowledged.len() >= 20 * 500,
        "only {} acknowledged",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() < lines.len(),
        "the kill came too late to interrupt the stream"
    );

    // Restart on the same data: it comes back ready, and every acknowledged event is there.
    let mut served = start_serve(&data, token);
    wait_ready(&served.base);
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    let store = custos_store::SqliteStore::open(&data).unwrap();
    use custos_store::Store as _;
    let mut stored = std::collections::HashSet::new();
    let mut after = 0;
    loop {
        let page = store.read_events(after, 10_000).unwrap();
        let Some(last) = page.last() else { break };
        after = last.seq;
        stored.extend(page.into_iter().map(|e| e.event_id));
    }
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored.contains(*id))
        .take(5)
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost: {missing:?} (of {})",
        acknowledged.len()
    );
}

/// `serve` on PostgreSQL, end to end: ingest over HTTP, the pipeline tails
/// the store, and its alert comes back from `GET /v1/alerts`.
#[test]
fn serve_on_postgresql_ingests_and_alerts() {
    let Ok(url) = std::env::var("CUSTOS_TEST_DATABASE_URL") else {
        eprintln!("skipped: CUSTOS_TEST_DATABASE_URL is not set");
        return;
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let schema = format!("custos_cli_{}_{nanos}", std::process::id());
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .unwrap();
    let separator = if url.contains('?') { '&' } else { '?' };
    let scoped = format!("{url}{separator}options=-csearch_path%3D{schema}");

    let dir = tempfile::tempdir().unwrap();
    let token = "test-token-0123456789";
    let audit_schema = format!("{schema}_audit");
    let (mut served, _) = start_serve_env(
        &dir.path().join("data"),
        Some(token),
        Some(&scoped),
        &[("CUSTOS_AUDIT_POSTGRES_SCHEMA", audit_schema.as_str())],
    );
    wait_ready(&served.base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = agent
        .post(&format!("{}/v1/events", served.base))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/x-ndjson")
        .send(&std::fs::read(SAMPLE).unwrap()[..])
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(
        (v["accepted"].as_u64(), v["rejected"].as_u64()),
        (Some(20), Some(3)),
        "{v}"
    );

    // The sample's last event (an off-ticket national-id reveal) alerts.
    let deadline = Instant::now() + Duration::from_secs(30);
    let alerts = loop {
        let mut r = agent
            .get(&format!(
                "{}/v1/alerts?detector=agent_behavior",
                served.base
            ))
            .header("Authorization", &format!("Bearer {token}"))
            .call()
            .unwrap();
        let v: serde_json::Value =
            serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
        if v["alerts"].as_array().is_some_and(|a| !a.is_empty()) || Instant::now() > deadline {
            break v;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    admin
        .batch_execute(&format!(
            "DROP SCHEMA {schema} CASCADE; DROP SCHEMA IF EXISTS {audit_schema} CASCADE"
        ))
        .unwrap();
    let first = &alerts["alerts"][0];
    assert_eq!(first["entity"]["id"], "a-0002", "{alerts}");
    assert_eq!(first["evidence"][0], "e20");
}

const BROKER_CASES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../custos-broker/tests/data/cases.json"
);

#[test]
fn policy_check_and_test_report_like_a_linter() {
    let out = run(custos(&["policy", "check"]));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("validate against the schema"));

    let out = run(custos(&["policy", "test", BROKER_CASES]));
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );

    // One expectation turned around: the command names the case and fails.
    let dir = tempfile::tempdir().unwrap();
    let mut cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(BROKER_CASES).unwrap()).unwrap();
    let first = &mut cases[0];
    let name = first["name"].as_str().unwrap().to_owned();
    let expect = first["expect"].to_string();
    let flipped = if expect.contains("\"masked\"") {
        expect.replacen("\"masked\"", "\"revealed\"", 1)
    } else {
        expect.replacen("\"hidden\"", "\"revealed\"", 1)
    };
    assert_ne!(flipped, expect, "the first case has an outcome to flip");
    first["expect"] = serde_json::from_str(&flipped).unwrap();
    let path = dir.path().join("cases.json");
    std::fs::write(&path, cases.to_string()).unwrap();
    let out = run(custos(&["policy", "test", path.to_str().unwrap()]));
    assert!(!out.status.success());
    assert!(
        text(&out.stdout).contains(&format!("FAILED {name}")),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn audit_verify_finds_a_tampered_entry() {
    let vector: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../custos-audit/tests/data/signed_note_vector.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let signer = custos_audit::NoteSigner::parse(vector["signer_key"].as_str().unwrap()).unwrap();
    let key = vector["verifier_key"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("audit.db");
    let mut log = custos_audit::AuditLog::open(&log_path, "custos.test/log", signer).unwrap();
    let entries: Vec<custos_audit::AuditEntry> = (0..10)
        .map(|i| custos_audit::AuditEntry {
            kind: "access_decision".into(),
            ts: format!("2025-01-02T03:04:{i:02}Z"),
            actor: format!("a-{i}"),
            subject_commitment: "00".repeat(32),
            details: serde_json::json!({ "fields": ["name"], "outcome": "masked" }),
        })
        .collect();
    log.append(&entries).unwrap();
    let checkpoint = log.checkpoint().unwrap();
    drop(log);
    let checkpoint_path = dir.path().join("checkpoint.txt");
    std::fs::write(&checkpoint_path, checkpoint).unwrap();
    let verify = || {
        run(custos(&[
            "audit",
            "verify",
            "--log",
            log_path.to_str().unwrap(),
            "--checkpoint",
            checkpoint_path.to_str().unwrap(),
            "--key",
            key,
        ]))
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("intact"));

    // An insider rewrites entry 4 in place.
    let db = rusqlite::Connection::open(&log_path).unwrap();
    let leaf: Vec<u8> = db
        .query_row("SELECT leaf FROM entries WHERE idx = 4", [], |r| r.get(0))
        .unwrap();
    let forged = String::from_utf8(leaf).unwrap().replace("a-4", "a-9");
    assert_eq!(
        db.execute(
            "UPDATE entries SET leaf = ?1 WHERE idx = 4",
            [forged.as_bytes()]
        )
        .unwrap(),
        1
    );
    drop(db);
    let out = verify();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("first bad index 4"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn eval_scores_simulated_seeds_and_files_alike() {
    let args = ["--days", "8", "--agents", "60", "--customers", "4000"];
    let mut seeds = vec!["eval", "--seeds", "3"];
    seeds.extend(args);
    let out = run(custos(&seeds));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let harvests: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("| insider_harvest/"))
        .collect();
    assert!(!harvests.is_empty(), "{stdout}");
    // At least one harvest is caught at high severity: the cell reads
    // `caught (percent)` and caught > 0.
    assert!(
        harvests.iter().any(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            cells[3]
                .split(' ')
                .next()
                .and_then(|n| n.parse::<u32>().ok())
                > Some(0)
        }),
        "{stdout}"
    );
    assert!(stdout.contains("| agent_behavior |"), "{stdout}");

    // The same simulation written to disk and scored from the file gives
    // the same tables.
    let dir = tempfile::tempdir().unwrap();
    let sim_dir = dir.path().join("sim");
    let mut sim = vec!["sim", "--seed", "3", "--out", sim_dir.to_str().unwrap()];
    sim.extend(args);
    assert!(run(custos(&sim)).status.success());
    let events = sim_dir.join("events.ndjson");
    let truth = sim_dir.join("truth.json");
    let from_file = run(custos(&[
        "eval",
        "--input",
        events.to_str().unwrap(),
        "--truth",
        truth.to_str().unwrap(),
    ]));
    let file_stdout = text(&from_file.stdout);
    assert!(from_file.status.success(), "{}", text(&from_file.stderr));
    let tables = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| l.starts_with('|'))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(tables(&stdout), tables(&file_stdout));
}

/// A webhook receiver on an ephemeral port: answers 500 while `fail` is
/// set, 200 otherwise, and hands every request (headers, body, status
/// answered) to the test.
struct Receiver {
    url: String,
    fail: std::sync::Arc<std::sync::atomic::AtomicBool>,
    requests: std::sync::mpsc::Receiver<Received>,
}

/// Headers (lowercase names), body, and the status answered.
type Received = (Vec<(String, String)>, String, u16);

fn webhook_receiver() -> Receiver {
    use std::io::{BufRead, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let fail = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (tx, requests) = std::sync::mpsc::channel();
    let failing = fail.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            // One request per connection is enough: the client reuses or
            // reconnects as it likes; answer with `Connection: close`.
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.trim_end().split_once(": ") {
                    headers.push((k.to_ascii_lowercase(), v.to_owned()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(k, _)| k == "content-length")
                .map_or(0, |(_, v)| v.parse().unwrap());
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = if failing.load(std::sync::atomic::Ordering::SeqCst) {
                500
            } else {
                200
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            let _ = tx.send((headers, String::from_utf8(body).unwrap(), status));
        }
    });
    Receiver {
        url,
        fail,
        requests,
    }
}

#[test]
fn webhooks_are_signed_retried_and_survive_a_kill() {
    use hmac::{KeyInit, Mac};
    let receiver = webhook_receiver();
    let secret = "whsec-test-0123456789";
    let env = [
        ("CUSTOS_WEBHOOKS_URL", receiver.url.as_str()),
        ("CUSTOS_WEBHOOKS_SECRET", secret),
        ("CUSTOS_WEBHOOKS_MIN_SEVERITY", "low"),
        ("CUSTOS_WEBHOOKS_BACKOFF_MS", "50"),
        ("CUSTOS_PIPELINE_IDLE_FLUSH_SECS", "1"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = "test-token-0123456789";
    let (mut served, _) = start_serve_env(&data, Some(token), None, &env);
    wait_ready(&served.base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .post(&format!("{}/v1/events", served.base))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/x-ndjson")
        .send(&std::fs::read(SAMPLE).unwrap()[..])
        .unwrap();
    assert_eq!(r.status(), 200);

    // The receiver is failing: the sender retries the same alert.
    let wait = Duration::from_secs(30);
    let (_, first_body, status) = receiver.requests.recv_timeout(wait).unwrap();
    assert_eq!(status, 500);
    let (_, second_body, _) = receiver.requests.recv_timeout(wait).unwrap();
    assert_eq!(first_body, second_body, "a retry resends the same alert");

    // Killed while undelivered; after a restart it is delivered.
    served.child.kill().unwrap();
    served.child.wait().unwrap();
    while receiver.requests.try_recv().is_ok() {}
    receiver
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let (mut served, _) = start_serve_env(&data, Some(token), None, &env);
    let (headers, body, status) = loop {
        let got = receiver.requests.recv_timeout(wait).unwrap();
        if got.2 == 200 {
            break got;
        }
    };
    assert_eq!(status, 200);
    assert_eq!(body, first_body, "the undelivered alert comes first");
    let alert: serde_json::Value = serde_json::from_str(&body).unwrap();
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {name} header: {headers:?}"))
    };
    assert_eq!(
        header("custos-alert-id"),
        alert["alert_id"].as_str().unwrap()
    );
    let signature = header("custos-signature");
    let (t, v1) = signature
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
        .unwrap();
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        v1, expected,
        "the signature verifies with the shared secret"
    );

    // Delivered once acknowledged: no repeat within a second.
    std::thread::sleep(Duration::from_secs(1));
    let repeats = receiver
        .requests
        .try_iter()
        .filter(|(_, b, _)| *b == first_body)
        .count();
    assert_eq!(repeats, 0);
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}

#[test]
fn scan_writes_one_verdict_per_scored_line_in_input_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("messages.ndjson");
    std::fs::write(
        &input,
        concat!(
            r#"{"id":"m1","text":"Hello, this is exchange security. Your account is at risk, read me the code we just sent"}"#,
            "\n",
            r#"{"id":"m2","text":"hi, my withdrawal has been pending for 3 hours, can you check?"}"#,
            "\nnot json\n",
            r#"{"type":"message","ts":"2025-01-02T10:00:00Z","id":"e9","conversation_id":"c1","channel":"phone","direction":"inbound","sender_role":"unknown","customer_id":"c-1","text":"Move all your funds to this safe wallet now and install AnyDesk so we can help"}"#,
            "\n",
            r#"{"text":"We will never ask for your 2FA code."}"#,
            "\n",
            r#"{"id":7,"text":"ok thanks"}"#,
            "\n"
        ),
    )
    .unwrap();
    let out = run(custos(&["scan", "--input", input.to_str().unwrap()]));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("line 3:"), "{stderr}");
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: Vec<&str> = lines.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        ["m1", "m2", "e9", "5", "7"],
        "input order; a bare line's id is its line number; a numeric id is kept as text"
    );
    let verdicts: Vec<&str> = lines
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["scam", "benign", "scam", "benign", "benign"]);
    for line in &lines {
        let keys: Vec<&String> = line.as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 4, "{line}");
        let score = line["score"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&score), "{line}");
        assert!(line["reasons"].is_array(), "{line}");
    }
    // The scam verdicts say why.
    assert!(
        lines[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("credential_request")),
        "{}",
        lines[0]
    );
}

/// GET with a bearer token, as JSON.
fn get_json(agent: &ureq::Agent, url: &str, token: &str) -> (u16, serde_json::Value) {
    let mut r = agent
        .get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

fn post_json(agent: &ureq::Agent, url: &str, token: &str, body: &str) -> (u16, serde_json::Value) {
    let mut r = agent
        .post(url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body)
        .unwrap();
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

#[test]
fn serve_audits_every_access_and_decides_actions_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let token = "test-token-0123456789";
    let env = [
        ("CUSTOS_AUDIT_CHECKPOINT_EVERY_SECS", "1"),
        ("CUSTOS_PIPELINE_IDLE_FLUSH_SECS", "1"),
    ];
    let (mut served, _) = start_serve_env(&data, Some(token), None, &env);
    wait_ready(&served.base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let r = agent
        .post(&format!("{}/v1/events", served.base))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/x-ndjson")
        .send(&std::fs::read(SAMPLE).unwrap()[..])
        .unwrap();
    assert_eq!(r.status(), 200);

    // The load generator drives the decision API.
    let load = run(custos(&[
        "load",
        "--url",
        &served.base,
        "--token",
        token,
        "--target",
        "actions",
        "--events",
        "300",
        "--concurrency",
        "2",
    ]));
    assert!(load.status.success(), "{}", text(&load.stderr));
    assert!(
        text(&load.stdout).contains("custos load: 300 "),
        "{}",
        text(&load.stdout)
    );

    // The synchronous decisions are wired.
    let (status, decision) = post_json(
        &agent,
        &format!("{}/v1/actions/evaluate", served.base),
        token,
        r#"{"customer_id":"c-18812","action":"withdrawal","ip":"198.51.100.4","device_id":"fp-new","amount_usd":250000.0,"asset":"XLM","destination":"GA-NEW"}"#,
    );
    assert_eq!(status, 200, "{decision}");
    assert_ne!(decision["decision"]["outcome"], "allow", "{decision}");
    let (status, verdict) = post_json(
        &agent,
        &format!("{}/v1/messages", served.base),
        token,
        r#"{"conversation_id":"conv-77","channel":"sms","direction":"inbound","sender_role":"unknown","customer_id":"c-18812","text":"Exchange security: install AnyDesk now and move your coins to the safe wallet we send you"}"#,
    );
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(verdict["verdict"], "scam", "{verdict}");

    // The access broker is wired: PII goes into the vault; an agent asking
    // on a ticket that is closed sees nothing, and the decision is an event.
    let (status, token_body) = post_json(
        &agent,
        &format!("{}/v1/vault/customers", served.base),
        token,
        r#"{"customer":"c-0002","fields":{"name":"Ana Souza","email":"ana@example.com"}}"#,
    );
    assert_eq!(status, 200, "{token_body}");
    let (status, outcome) = post_json(
        &agent,
        &format!("{}/v1/access", served.base),
        token,
        r#"{"agent":"a-0001","customer":"c-0002","ticket":"t-1","fields":["name","email"],"purpose":"follow-up","action":"view"}"#,
    );
    assert_eq!(status, 200, "{outcome}");
    assert_eq!(outcome["decision"]["denied"], true, "{outcome}");
    assert!(!outcome.to_string().contains("Ana"), "{outcome}");

    // A customer's freeze is applied at once and reported as an alert (the
    // webhooks' channel) by the pipeline.
    let (status, frozen) = post_json(
        &agent,
        &format!("{}/v1/customers/c-0002/protection", served.base),
        token,
        r#"{"actor":{"kind":"customer","factor":null},"protection":{"command":"freeze"}}"#,
    );
    assert_eq!(status, 200, "{frozen}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, page) = get_json(
            &agent,
            &format!(
                "{}/v1/alerts?detector=action_risk&entity_id=c-0002",
                served.base
            ),
            token,
        );
        let reported = page["alerts"].as_array().is_some_and(|alerts| {
            alerts
                .iter()
                .any(|a| a["reasons"][0]["code"] == "v1.protection.freeze")
        });
        if reported {
            break;
        }
        assert!(Instant::now() < deadline, "no freeze alert: {page}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Every access of the sample and the alert reach the audit log, and a
    // checkpoint covers them.
    let deadline = Instant::now() + Duration::from_secs(30);
    let checkpoint = loop {
        let (status, c) = get_json(
            &agent,
            &format!("{}/v1/audit/checkpoint", served.base),
            token,
        );
        if status == 200 && c["size"].as_u64() >= Some(5) {
            let (_, entries) = get_json(
                &agent,
                &format!("{}/v1/audit/entries?start=0&end={}", served.base, c["size"]),
                token,
            );
            let kinds: Vec<&str> = entries["entries"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["entry"]["kind"].as_str().unwrap())
                .collect();
            let broker_decision = entries["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["entry"]["details"]["event_id"] == outcome["id"]);
            assert!(kinds.contains(&"server_start"), "{kinds:?}");
            if kinds.contains(&"access")
                && kinds.iter().any(|k| k.starts_with("alert"))
                && broker_decision
            {
                // No customer id in clear anywhere in the log.
                assert!(!entries.to_string().contains("c-18812"), "{entries}");
                assert!(!entries.to_string().contains("c-0002"), "{entries}");
                break c;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no checkpoint with accesses and alerts: {c}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    served.child.kill().unwrap();
    served.child.wait().unwrap();

    // An auditor checks the log offline against the checkpoint they saved.
    let checkpoint_path = dir.path().join("checkpoint.txt");
    std::fs::write(&checkpoint_path, checkpoint["note"].as_str().unwrap()).unwrap();
    let key = std::fs::read_to_string(data.join("audit-verifier.txt")).unwrap();
    let log_path = data.join("audit.db");
    let verify = || {
        run(custos(&[
            "audit",
            "verify",
            "--log",
            log_path.to_str().unwrap(),
            "--checkpoint",
            checkpoint_path.to_str().unwrap(),
            "--key",
            key.trim(),
        ]))
    };
    let out = verify();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // Someone deletes the record of an access.
    let db = rusqlite::Connection::open(&log_path).unwrap();
    assert_eq!(
        db.execute("DELETE FROM entries WHERE idx = 2", []).unwrap(),
        1
    );
    drop(db);
    let out = verify();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("first bad index 2"),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn the_console_is_served_and_users_are_created_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = run(
        custos(&["console", "add-user", "--name", "lee", "--role", "lead"])
            .env("CUSTOS_DATA_DIR", &data)
            .env("CUSTOS_CONSOLE_PASSWORD", "correct horse battery staple"),
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("otpauth://totp/"), "{stdout}");
    let again = run(
        custos(&["console", "add-user", "--name", "lee", "--role", "lead"])
            .env("CUSTOS_DATA_DIR", &data)
            .env("CUSTOS_CONSOLE_PASSWORD", "correct horse battery staple"),
    );
    assert!(!again.status.success(), "a duplicate user is refused");
    let short = run(
        custos(&["console", "add-user", "--name", "kim", "--role", "boss"])
            .env("CUSTOS_DATA_DIR", &data)
            .env("CUSTOS_CONSOLE_PASSWORD", "correct horse battery staple"),
    );
    assert!(
        text(&short.stderr).contains("--role"),
        "{}",
        text(&short.stderr)
    );
    let linked = run(custos(&[
        "console",
        "add-user",
        "--name",
        "ana",
        "--role",
        "analyst",
        "--agent-id",
        "a-0042",
    ])
    .env("CUSTOS_DATA_DIR", &data)
    .env("CUSTOS_CONSOLE_PASSWORD", "correct horse battery staple"));
    assert!(linked.status.success(), "{}", text(&linked.stderr));
    let relink = run(custos(&[
        "console",
        "link-agent",
        "--name",
        "ana",
        "--agent-id",
        "a-0043",
    ])
    .env("CUSTOS_DATA_DIR", &data));
    assert!(
        text(&relink.stdout).contains("acts as agent `a-0043`"),
        "{}",
        text(&relink.stderr)
    );
    let nobody = run(custos(&[
        "console",
        "link-agent",
        "--name",
        "nobody",
        "--agent-id",
        "a-1",
    ])
    .env("CUSTOS_DATA_DIR", &data));
    assert!(!nobody.status.success(), "an unknown user is refused");
    let too_long = "a".repeat(300);
    let bad = run(custos(&[
        "console",
        "link-agent",
        "--name",
        "ana",
        "--agent-id",
        &too_long,
    ])
    .env("CUSTOS_DATA_DIR", &data));
    assert!(!bad.status.success(), "an invalid agent id is refused");
    assert!(
        text(&bad.stderr).contains("not an agent id"),
        "{}",
        text(&bad.stderr)
    );

    let (mut served, _) = start_serve_env(&data, Some("test-token-0123456789"), None, &[]);
    wait_ready(&served.base);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let r = agent
        .get(&format!("{}/console/", served.base))
        .call()
        .unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
    let mut r = agent
        .get(&format!("{}/console/signin", served.base))
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let csp = r
        .headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        csp.contains("default-src 'self'") || csp.contains("'self'"),
        "{csp}"
    );
    let page = r.body_mut().read_to_string().unwrap();
    assert!(page.contains("<form"), "{page}");
    // The API is still there beside it.
    assert_eq!(
        agent
            .get(&format!("{}/healthz", served.base))
            .call()
            .unwrap()
            .status(),
        200
    );
    served.child.kill().unwrap();
    served.child.wait().unwrap();
}

#[test]
fn risk_backtest_reports_what_candidate_rules_would_change() {
    let dir = tempfile::tempdir().unwrap();
    let sim = dir.path().join("sim");
    assert!(
        run(custos(&[
            "sim",
            "--seed",
            "4",
            "--days",
            "6",
            "--agents",
            "40",
            "--customers",
            "3000",
            "--out",
            sim.to_str().unwrap(),
        ]))
        .status
        .success()
    );
    let events = sim.join("events.ndjson");
    let defaults = custos_risk::DEFAULT_RULES;
    let same = dir.path().join("same.toml");
    std::fs::write(&same, defaults).unwrap();
    // Every step-up becomes a hold.
    let stricter = dir.path().join("stricter.toml");
    std::fs::write(
        &stricter,
        defaults.replace("outcome = \"step_up\"", "outcome = \"hold\"\nhold = \"1h\""),
    )
    .unwrap();
    let backtest = |candidate: &Path| {
        run(custos(&[
            "risk",
            "backtest",
            "--input",
            events.to_str().unwrap(),
            "--candidate",
            candidate.to_str().unwrap(),
        ]))
    };
    let out = backtest(&same);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).is_empty(),
        "identical rules differ nowhere"
    );
    assert!(
        text(&out.stderr).contains("0 decided differently"),
        "{}",
        text(&out.stderr)
    );
    let out = backtest(&stricter);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty(), "{}", text(&out.stderr));
    for row in &rows {
        assert_eq!(row["live"], "step_up", "{row}");
        assert_eq!(row["candidate"], "hold", "{row}");
    }
}
