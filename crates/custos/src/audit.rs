//! The audit pump of `serve`: everything custos decided or was told to do
//! goes into the tamper-evident log (`custos-audit`), with signed
//! checkpoints on a schedule.
//!
//! Sources, each tailed in sequence order under its own store cursor:
//! - alerts (every detection, with the countermeasures it applied);
//! - events that record an action by a person or a decision: every
//!   `agent_access` (who looked at which customer, through the broker or
//!   not), `countermeasure_release` (an analyst lifting a countermeasure),
//!   and customer `freeze`/`unfreeze`/security changes.
//!
//! Exactly once: a batch is appended to the log, then the cursor moves. A
//! crash between the two leaves at most the last batch appended but not
//! acknowledged; on start the pump reads the log's tail and skips what is
//! already there.
//!
//! Entries carry a keyed commitment (HMAC-SHA256 under the audit
//! commitment key) of the subject instead of a customer id, so the log can
//! be published to a witness without the customer list.

use crate::config::Settings;
use anyhow::Context as _;
use custos_audit::{AuditEntry, AuditLog, CheckpointPolicy, NoteSigner};
use custos_store::{AlertQuery, Store};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const ALERTS_CURSOR: &str = "audit.alerts";
pub const EVENTS_CURSOR: &str = "audit.events";
const PAGE: usize = 500;

/// Resolved `[audit]` settings.
#[derive(Clone, Debug)]
pub struct AuditSettings {
    /// Names the log in its checkpoints.
    pub origin: String,
    pub checkpoint_every_secs: u64,
    pub checkpoint_every_entries: u64,
    /// PostgreSQL schema when the store is PostgreSQL.
    pub postgres_schema: String,
}

impl Default for AuditSettings {
    fn default() -> AuditSettings {
        AuditSettings {
            origin: "custos.local/audit".to_owned(),
            checkpoint_every_secs: 60,
            checkpoint_every_entries: 10_000,
            postgres_schema: custos_audit::DEFAULT_POSTGRES_SCHEMA.to_owned(),
        }
    }
}

/// The keys of the audit log, kept in the data directory (mode 0600):
/// the checkpoint signing key, and the commitment key. The public verifier
/// key is written beside them for auditors.
struct Keys {
    signer: NoteSigner,
    commitment: [u8; 32],
}

fn load_or_create_keys(data_dir: &Path, origin: &str) -> anyhow::Result<Keys> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create `{}`", data_dir.display()))?;
    let signer_path = data_dir.join("audit-signing.key");
    let signer = match std::fs::read_to_string(&signer_path) {
        Ok(text) => NoteSigner::parse(text.trim())
            .with_context(|| format!("`{}` is not an audit signing key", signer_path.display()))?,
        Err(_) => {
            let signer = NoteSigner::from_seed(origin, random_32()?)
                .context("the audit origin is not a valid key name")?;
            crate::serve::write_private(&signer_path, &signer.encode_private())?;
            signer
        }
    };
    let verifier_path = data_dir.join("audit-verifier.txt");
    let verifier = signer.verifier().encode();
    if std::fs::read_to_string(&verifier_path).ok().as_deref() != Some(verifier.as_str()) {
        std::fs::write(&verifier_path, &verifier)
            .with_context(|| format!("cannot write `{}`", verifier_path.display()))?;
    }
    let commitment_path = data_dir.join("audit-commitment.key");
    let commitment = match std::fs::read_to_string(&commitment_path) {
        Ok(text) => {
            let bytes = crate::config::from_hex(text.trim())
                .with_context(|| format!("`{}` is not 64 hex digits", commitment_path.display()))?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                anyhow::anyhow!("`{}` is not 64 hex digits", commitment_path.display())
            })?
        }
        Err(_) => {
            let key = random_32()?;
            crate::serve::write_private(&commitment_path, &crate::config::to_hex(&key))?;
            key
        }
    };
    Ok(Keys { signer, commitment })
}

fn random_32() -> anyhow::Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    Ok(bytes)
}

/// Opens the audit log beside the store: `DATA_DIR/audit.db`, or the
/// `[audit] postgres_schema` schema of the PostgreSQL database.
pub fn open_log(settings: &Settings) -> anyhow::Result<(AuditLog, [u8; 32])> {
    let audit = &settings.audit;
    let keys = load_or_create_keys(&settings.data_dir, &audit.origin)?;
    let store: Box<dyn custos_audit::AuditStore> = match &settings.database_url {
        Some(url) => Box::new(
            custos_audit::PostgresAuditStore::connect_with_schema(
                url.expose(),
                &audit.postgres_schema,
            )
            .context("cannot open the audit log in PostgreSQL")?,
        ),
        None => Box::new(
            custos_audit::SqliteAuditStore::open(&settings.data_dir.join("audit.db"))
                .context("cannot open the audit log")?,
        ),
    };
    let mut log = AuditLog::with_store(store, &audit.origin, keys.signer)
        .context("cannot open the audit log")?;
    log.set_checkpoint_policy(CheckpointPolicy {
        every_entries: audit.checkpoint_every_entries,
        every_secs: audit.checkpoint_every_secs,
    });
    Ok((log, keys.commitment))
}

/// Tails the store into the audit log.
pub struct AuditPump {
    store: Arc<dyn Store>,
    log: Arc<Mutex<AuditLog>>,
    commitment_key: [u8; 32],
    /// (source, seq) of the log's last entries, to skip on restart.
    recent: HashSet<(String, u64)>,
}

impl AuditPump {
    pub fn new(
        store: Arc<dyn Store>,
        log: Arc<Mutex<AuditLog>>,
        commitment_key: [u8; 32],
    ) -> anyhow::Result<AuditPump> {
        let recent = {
            let log = log
                .lock()
                .map_err(|_| anyhow::anyhow!("audit log lock poisoned"))?;
            let size = log.size();
            log.entries(size.saturating_sub(2 * PAGE as u64)..size)?
                .iter()
                .filter_map(source_of)
                .collect()
        };
        Ok(AuditPump {
            store,
            log,
            commitment_key,
            recent,
        })
    }

    fn commit(&self, subject: &str) -> String {
        let mut hex = String::with_capacity(64);
        if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.commitment_key) {
            mac.update(b"custos-audit-subject/v1\n");
            mac.update(subject.as_bytes());
            for b in mac.finalize().into_bytes() {
                hex.push_str(&format!("{b:02x}"));
            }
        }
        hex
    }

    fn append(&mut self, entries: Vec<AuditEntry>) -> anyhow::Result<()> {
        let fresh: Vec<AuditEntry> = entries
            .into_iter()
            .filter(|e| source_of(e).is_none_or(|s| !self.recent.contains(&s)))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let mut log = self
            .log
            .lock()
            .map_err(|_| anyhow::anyhow!("audit log lock poisoned"))?;
        log.append(&fresh)?;
        Ok(())
    }

    /// One page from each source; returns whether there was work.
    pub fn step(&mut self) -> anyhow::Result<bool> {
        let mut worked = false;
        let cursor = self.store.cursor(ALERTS_CURSOR)?;
        let page = self.store.query_alerts(&AlertQuery {
            after_seq: Some(cursor),
            limit: PAGE,
            ..AlertQuery::default()
        })?;
        if let Some(last) = page.alerts.last().map(|a| a.seq) {
            let mut entries = Vec::with_capacity(page.alerts.len());
            for alert in &page.alerts {
                let json: serde_json::Value =
                    serde_json::from_str(&alert.json).context("a stored alert is not JSON")?;
                entries.push(self.alert_entry(alert.seq, &json));
            }
            self.append(entries)?;
            self.store.append_alerts(&[], ALERTS_CURSOR, last)?;
            worked = true;
        }
        let cursor = self.store.cursor(EVENTS_CURSOR)?;
        let events = self.store.read_events(cursor, PAGE)?;
        if let Some(last) = events.last().map(|e| e.seq) {
            let entries: Vec<AuditEntry> = events
                .iter()
                .filter_map(|e| self.event_entry(e.seq, &e.raw))
                .collect();
            self.append(entries)?;
            self.store.append_alerts(&[], EVENTS_CURSOR, last)?;
            worked = true;
        }
        Ok(worked)
    }

    fn alert_entry(&self, seq: u64, alert: &serde_json::Value) -> AuditEntry {
        let entity = format!(
            "{}:{}",
            alert["entity"]["kind"].as_str().unwrap_or("?"),
            alert["entity"]["id"].as_str().unwrap_or("?")
        );
        let kind = if alert["response"].as_array().is_some_and(|r| !r.is_empty()) {
            "alert_with_countermeasure"
        } else {
            "alert"
        };
        AuditEntry {
            kind: kind.to_owned(),
            ts: alert["ts"]
                .as_str()
                .unwrap_or("1970-01-01T00:00:00Z")
                .to_owned(),
            actor: format!("custos:{}", alert["detector"].as_str().unwrap_or("?")),
            subject_commitment: self.commit(&entity),
            details: serde_json::json!({
                "source": "alert",
                "seq": seq,
                "alert_id": alert["alert_id"],
                "entity_kind": alert["entity"]["kind"],
                // Agents are staff: named. Customers only by commitment.
                "agent_id": if alert["entity"]["kind"] == "agent" { alert["entity"]["id"].clone() } else { serde_json::Value::Null },
                "severity": alert["severity"],
                "reason_codes": alert["reasons"].as_array().map(|r| r.iter().map(|x| x["code"].clone()).collect::<Vec<_>>()),
                "response": alert["response"],
                "evidence": alert["evidence"],
            }),
        }
    }

    fn event_entry(&self, seq: u64, raw: &str) -> Option<AuditEntry> {
        let event: serde_json::Value = serde_json::from_str(raw).ok()?;
        let ts = event["ts"].as_str()?.to_owned();
        let id = event["id"].clone();
        match event["type"].as_str()? {
            "agent_access" => Some(AuditEntry {
                kind: "access".to_owned(),
                ts,
                actor: event["agent_id"].as_str()?.to_owned(),
                subject_commitment: self.commit(&format!(
                    "customer:{}",
                    event["customer_id"].as_str().unwrap_or("")
                )),
                details: serde_json::json!({
                    "source": "event",
                    "seq": seq,
                    "event_id": id,
                    "action": event["action"],
                    "fields": event["fields"],
                    "ticket_id": event["ticket_id"],
                }),
            }),
            "countermeasure_release" => Some(AuditEntry {
                kind: "countermeasure_release".to_owned(),
                ts,
                actor: event["released_by"].as_str()?.to_owned(),
                subject_commitment: self.commit(&format!(
                    "{}:{}",
                    event["entity"]["kind"].as_str().unwrap_or("?"),
                    event["entity"]["id"].as_str().unwrap_or("?")
                )),
                details: serde_json::json!({
                    "source": "event",
                    "seq": seq,
                    "event_id": id,
                    "action": event["action"],
                    "entity_kind": event["entity"]["kind"],
                    "agent_id": if event["entity"]["kind"] == "agent" { event["entity"]["id"].clone() } else { serde_json::Value::Null },
                    "reason": event["reason"],
                }),
            }),
            "protection_command" => Some(AuditEntry {
                kind: "protection_command".to_owned(),
                ts,
                actor: event["actor"]["agent_id"].as_str().map_or_else(
                    || event["actor"]["kind"].as_str().unwrap_or("?").to_owned(),
                    str::to_owned,
                ),
                subject_commitment: self.commit(&format!(
                    "customer:{}",
                    event["customer_id"].as_str().unwrap_or("")
                )),
                details: serde_json::json!({
                    "source": "event",
                    "seq": seq,
                    "event_id": id,
                    // The command's name only: an anti-phishing code or a
                    // destination stays out of the log.
                    "command": event["protection"]["command"],
                    "factor": event["actor"]["factor"],
                }),
            }),
            "customer_action"
                if matches!(
                    event["action"].as_str(),
                    Some(
                        "freeze"
                            | "unfreeze"
                            | "security_change"
                            | "api_key_create"
                            | "api_key_update"
                    )
                ) =>
            {
                Some(AuditEntry {
                    kind: "customer_protection".to_owned(),
                    ts,
                    actor: "customer".to_owned(),
                    subject_commitment: self.commit(&format!(
                        "customer:{}",
                        event["customer_id"].as_str().unwrap_or("")
                    )),
                    details: serde_json::json!({
                        "source": "event",
                        "seq": seq,
                        "event_id": id,
                        "action": event["action"],
                        "setting": event["setting"],
                    }),
                })
            }
            _ => None,
        }
    }

    /// Issues a checkpoint when the schedule says so.
    pub fn checkpoint_if_due(&self) -> anyhow::Result<Option<String>> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut log = self
            .log
            .lock()
            .map_err(|_| anyhow::anyhow!("audit log lock poisoned"))?;
        Ok(log.checkpoint_if_due(now)?)
    }

    /// Runs until `stop` is set.
    pub fn run(mut self, stop: &AtomicBool) {
        let mut backoff = Duration::from_millis(100);
        while !stop.load(Ordering::Relaxed) {
            let result = self.step().and_then(|worked| {
                self.checkpoint_if_due()?;
                Ok(worked)
            });
            match result {
                Ok(true) => backoff = Duration::from_millis(100),
                Ok(false) => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => {
                    tracing::warn!(error = %e, "audit pump cannot write; retrying");
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// The wall clock as RFC 3339, for entries about the server itself.
pub fn now_rfc3339() -> String {
    let micros = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64);
    custos_core::EventTime::from_micros(micros).to_string()
}

/// Records that a server started, with what configuration (no secrets:
/// which parts are configured and a digest of the detector settings).
pub fn record_start(log: &Mutex<AuditLog>, settings: &Settings) -> anyhow::Result<()> {
    use sha2::Digest;
    let config = format!(
        "{:?}|{:?}|{:?}|{:?}",
        settings.detectors, settings.pipeline, settings.audit, settings.access
    );
    let digest = crate::config::to_hex(&sha2::Sha256::digest(config.as_bytes()));
    let entry = AuditEntry {
        kind: "server_start".to_owned(),
        ts: now_rfc3339(),
        actor: "custos".to_owned(),
        subject_commitment: String::new(),
        details: serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "backend": if settings.database_url.is_some() { "postgres" } else { "sqlite" },
            "config_sha256": digest,
            "webhooks": settings.webhooks.is_some(),
            "policy_dir": settings.access.policy_dir.as_ref().map(|p| p.display().to_string()),
        }),
    };
    let mut log = log
        .lock()
        .map_err(|_| anyhow::anyhow!("audit log lock poisoned"))?;
    log.append(&[entry])?;
    Ok(())
}

/// `(source, seq)` of an entry written by the pump.
fn source_of(entry: &AuditEntry) -> Option<(String, u64)> {
    Some((
        entry.details["source"].as_str()?.to_owned(),
        entry.details["seq"].as_u64()?,
    ))
}
