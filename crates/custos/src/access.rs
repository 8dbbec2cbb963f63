//! The access broker's edge in `serve`: the PII vault, the grant and
//! step-up store, the Cedar policies (hot-reloaded from a directory when
//! one is configured), and the facts the broker decides on (the event
//! store's directory, the pipeline's countermeasures).
//!
//! Keys live in files of the data directory (mode 0600), generated on first
//! start unless configured: `vault-keys.json` (the vault's key-encryption
//! and commitment keys) and `step-up.key` (seals TOTP secrets at rest).

use crate::config::Settings;
use anyhow::Context as _;
use custos_access::{
    AccessService, Approvals, BrokerHandle, GrantPolicy, SealingKey, StepUpPolicy, StepUps,
};
use custos_http::{AccessServices, AgentCountermeasures, StoreFacts};
use custos_store::Store;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Resolved `[access]` settings.
#[derive(Clone, Debug, Default)]
pub struct AccessSettings {
    /// The vault's key file (default: `DATA_DIR/vault-keys.json`, generated).
    pub vault_keys_file: Option<PathBuf>,
    /// Cedar policies to load and hot-reload (default: the shipped set).
    pub policy_dir: Option<PathBuf>,
    /// The 32-byte hex key sealing TOTP secrets (default:
    /// `DATA_DIR/step-up.key`, generated).
    pub step_up_key_file: Option<PathBuf>,
    /// The vault's own PostgreSQL database; `None`: SQLite in the data dir.
    pub vault_database_url: Option<crate::config::Secret>,
    /// The vault's schema on PostgreSQL.
    pub vault_schema: String,
}

fn random_hex_32() -> anyhow::Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness for a key: {e}"))?;
    Ok(crate::config::to_hex(&bytes))
}

/// Reads `path`, or creates it (0600) with `make()` when it is the default
/// location and does not exist yet.
fn read_or_create(
    path: &Path,
    default: bool,
    make: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && default => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create `{}`", dir.display()))?;
            }
            let text = make()?;
            crate::serve::write_private(path, &text)?;
            Ok(text)
        }
        Err(e) => Err(e).with_context(|| format!("cannot read `{}`", path.display())),
    }
}

pub fn open(
    settings: &Settings,
    store: Arc<dyn Store>,
    countermeasures: AgentCountermeasures,
    live_contacts: Arc<custos_access::LiveContacts>,
) -> anyhow::Result<(AccessServices, Arc<BrokerHandle>)> {
    let access = &settings.access;
    let data = &settings.data_dir;
    let keys_path = access
        .vault_keys_file
        .clone()
        .unwrap_or_else(|| data.join("vault-keys.json"));
    let keys_text = read_or_create(&keys_path, access.vault_keys_file.is_none(), || {
        Ok(format!(
            "{{\"version\": 1, \"active\": \"kek-1\", \"keks\": {{\"kek-1\": \"{}\"}}, \"commitment_key\": \"{}\"}}\n",
            random_hex_32()?,
            random_hex_32()?
        ))
    })?;
    let keys = custos_vault::KeyRing::from_json(&keys_text)
        .with_context(|| format!("`{}`", keys_path.display()))?;
    let vault = Arc::new(match &access.vault_database_url {
        // The synchronous client: `open` runs before the runtime's tasks.
        Some(url) => {
            custos_vault::Vault::open_postgres_with_schema(url.expose(), &access.vault_schema, keys)
                .context("cannot open the vault in PostgreSQL")?
        }
        None => {
            custos_vault::Vault::open(&data.join("vault"), keys).context("cannot open the vault")?
        }
    });
    let seal_path = access
        .step_up_key_file
        .clone()
        .unwrap_or_else(|| data.join("step-up.key"));
    let seal_text = read_or_create(&seal_path, access.step_up_key_file.is_none(), random_hex_32)?;
    let seal = SealingKey::from_hex(seal_text.trim())
        .with_context(|| format!("`{}` is not 64 hex digits", seal_path.display()))?;
    let broker = Arc::new(match &access.policy_dir {
        Some(dir) => BrokerHandle::from_dir(dir, custos_broker::BrokerConfig::default())
            .with_context(|| format!("cannot load policies from `{}`", dir.display()))?,
        None => BrokerHandle::fixed(
            custos_broker::Broker::default_policies().context("the shipped policies")?,
        ),
    });
    let (grants, step_ups): (
        Arc<dyn custos_access::GrantStore>,
        Arc<dyn custos_access::StepUpStore>,
    ) = match &settings.database_url {
        Some(url) => {
            let pg = Arc::new(
                custos_access::PostgresAccessStore::connect(url.expose())
                    .context("cannot open the grant store in PostgreSQL")?,
            );
            (pg.clone(), pg)
        }
        None => {
            let sqlite = Arc::new(
                custos_access::SqliteAccessStore::open(data)
                    .context("cannot open the grant store")?,
            );
            (sqlite.clone(), sqlite)
        }
    };
    let facts: Arc<dyn custos_access::FactsSource> = Arc::new(StoreFacts {
        store,
        countermeasures,
        live_contacts,
    });
    let service = AccessService::new(
        broker.clone(),
        vault.clone(),
        facts.clone(),
        grants.clone(),
        step_ups.clone(),
    )
    .context("the access service")?;
    Ok((
        AccessServices {
            service: Arc::new(service),
            approvals: Arc::new(Approvals::new(
                grants,
                step_ups.clone(),
                vault.clone(),
                facts.clone(),
                GrantPolicy::default(),
            )),
            step_ups: Arc::new(StepUps::new(step_ups, seal, StepUpPolicy::default())),
            vault,
            facts,
        },
        broker,
    ))
}

/// Reloads the policies when their files change; a set that does not
/// validate is logged and the running one kept. Both outcomes are audited.
pub fn watch_policies(
    broker: Arc<BrokerHandle>,
    audit: Option<Arc<std::sync::Mutex<custos_audit::AuditLog>>>,
    stop: &AtomicBool,
) {
    let record = |outcome: &str, detail: String| {
        let Some(log) = &audit else { return };
        let entry = custos_audit::AuditEntry {
            kind: "policy_reload".to_owned(),
            ts: crate::audit::now_rfc3339(),
            actor: "custos".to_owned(),
            subject_commitment: String::new(),
            details: serde_json::json!({ "outcome": outcome, "detail": detail }),
        };
        match log.lock() {
            Ok(mut log) => {
                if let Err(e) = log.append(&[entry]) {
                    tracing::error!(error = %e, "cannot audit a policy reload");
                }
            }
            Err(_) => tracing::error!("audit log lock poisoned"),
        }
    };
    while !stop.load(Ordering::Relaxed) {
        match broker.reload_if_changed() {
            Ok(true) => {
                tracing::info!("access policies reloaded");
                record(
                    "reloaded",
                    "the policy files changed and validate".to_owned(),
                );
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "access policies not reloaded; the running set stays");
                record("refused", e.to_string());
            }
        }
        for _ in 0..10 {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The consumer name of the grant janitor's progress.
pub const JANITOR_CURSOR: &str = "access.tickets";

/// Revokes reveal grants the moment their ticket closes: tails the event
/// log (its own cursor) for `ticket` events with `status: closed`. (A
/// reassigned ticket needs no revocation here: the broker already refuses a
/// grant whose requester no longer holds the ticket.)
pub struct GrantJanitor {
    pub store: Arc<dyn Store>,
    pub access: Arc<AccessServices>,
    pub audit: Option<Arc<std::sync::Mutex<custos_audit::AuditLog>>>,
}

impl GrantJanitor {
    /// One page of events; returns whether there was work.
    pub fn step(&self) -> anyhow::Result<bool> {
        let cursor = self.store.cursor(JANITOR_CURSOR)?;
        let events = self.store.read_events(cursor, 1_000)?;
        let Some(last) = events.last().map(|e| e.seq) else {
            return Ok(false);
        };
        let by = custos_core::id::AgentId::parse("custos")
            .map_err(|e| anyhow::anyhow!("system actor id: {e}"))?;
        for stored in events.iter().filter(|e| e.event_type == "ticket") {
            let Ok(event) =
                custos_core::parse::parse_event(&stored.raw, || stored.event_id.clone())
            else {
                continue;
            };
            let custos_core::EventBody::Ticket(ticket) = &event.body else {
                continue;
            };
            if ticket.status != custos_core::event::TicketStatus::Closed {
                continue;
            }
            let changes = self.access.approvals.revoke_for_ticket(
                &ticket.ticket_id,
                &by,
                "ticket_closed",
                event.ts,
            )?;
            if let Some(log) = &self.audit {
                let entries: Vec<custos_audit::AuditEntry> = changes
                    .iter()
                    .map(|c| custos_audit::AuditEntry {
                        kind: c.audit.kind.to_owned(),
                        ts: c.audit.ts.to_string(),
                        actor: c.audit.actor.as_str().to_owned(),
                        subject_commitment: c.audit.customer_ref.clone().unwrap_or_default(),
                        details: serde_json::json!({
                            "grant": c.grant.id,
                            "ticket": ticket.ticket_id.as_str(),
                            "reason": "ticket_closed",
                        }),
                    })
                    .collect();
                if !entries.is_empty() {
                    let mut log = log
                        .lock()
                        .map_err(|_| anyhow::anyhow!("audit log lock poisoned"))?;
                    log.append(&entries)?;
                }
            }
            for change in &changes {
                tracing::info!(grant = %change.grant.id.as_str(), "grant revoked: its ticket closed");
            }
        }
        self.store.append_alerts(&[], JANITOR_CURSOR, last)?;
        Ok(true)
    }

    pub fn run(self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            match self.step() {
                Ok(true) => {}
                Ok(false) => std::thread::sleep(Duration::from_millis(200)),
                Err(e) => {
                    tracing::warn!(error = %e, "grant janitor cannot run; retrying");
                    std::thread::sleep(Duration::from_secs(1));
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use custos_core::id::{AgentId, CustomerId, TicketId};
    use custos_core::time::EventTime;

    fn append(store: &dyn Store, line: &str) {
        let event = custos_core::parse::parse_event(line, || "x".into()).unwrap();
        let directory = match &event.body {
            custos_core::EventBody::Agent(a) => Some((
                custos_store::DirectoryKind::Agent,
                a.agent_id.as_str().to_owned(),
            )),
            custos_core::EventBody::Ticket(t) => Some((
                custos_store::DirectoryKind::Ticket,
                t.ticket_id.as_str().to_owned(),
            )),
            _ => None,
        };
        store
            .append_events(&[custos_store::NewEvent {
                event_id: event.id.as_str().to_owned(),
                event_type: event.body.type_name().to_owned(),
                ts_micros: event.ts.as_micros(),
                raw: line.to_owned(),
                directory: directory.map(|(kind, id)| custos_store::DirectoryUpdate { kind, id }),
            }])
            .unwrap();
    }

    #[test]
    fn policy_reloads_are_audited_and_a_bad_set_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let policies = dir.path().join("policies");
        std::fs::create_dir_all(&policies).unwrap();
        let shipped = concat!(env!("CARGO_MANIFEST_DIR"), "/../custos-broker/policies");
        for entry in std::fs::read_dir(shipped).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), policies.join(entry.file_name())).unwrap();
        }
        let broker = Arc::new(
            BrokerHandle::from_dir(&policies, custos_broker::BrokerConfig::default()).unwrap(),
        );
        let signer = custos_audit::NoteSigner::from_seed("t.example/audit", [4; 32]).unwrap();
        let log = Arc::new(std::sync::Mutex::new(
            custos_audit::AuditLog::open(&dir.path().join("audit.db"), "t.example/audit", signer)
                .unwrap(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (broker, log, stop) = (broker.clone(), log.clone(), stop.clone());
            std::thread::spawn(move || watch_policies(broker, Some(log), &stop))
        };
        let wait_for = |n: u64| {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while log.lock().unwrap().size() < n {
                assert!(std::time::Instant::now() < deadline, "no audit entry {n}");
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        // mtimes have a coarse grain on some filesystems: step past it.
        std::thread::sleep(Duration::from_millis(1100));
        let access = policies.join("access.cedar");
        let text = std::fs::read_to_string(&access).unwrap();
        std::fs::write(&access, format!("// reviewed\n{text}")).unwrap();
        wait_for(1);
        std::thread::sleep(Duration::from_millis(1100));
        std::fs::write(
            &access,
            "permit(principal, action, resource) when { nonsense };",
        )
        .unwrap();
        wait_for(2);
        stop.store(true, Ordering::SeqCst);
        watcher.join().unwrap();
        let entries = log.lock().unwrap().entries(0..2).unwrap();
        assert_eq!(entries[0].kind, "policy_reload");
        assert_eq!(entries[0].details["outcome"], "reloaded");
        assert_eq!(entries[1].details["outcome"], "refused");
    }

    #[test]
    fn closing_a_ticket_revokes_its_grants() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(custos_store::SqliteStore::open(dir.path()).unwrap());
        let settings = crate::config::Config::load(
            None,
            &crate::config::Env::from_pairs(&[("CUSTOS_DATA_DIR", dir.path().to_str().unwrap())]),
        )
        .unwrap()
        .resolve()
        .unwrap();
        let (access, _broker) = open(
            &settings,
            store.clone(),
            AgentCountermeasures::default(),
            Arc::default(),
        )
        .unwrap();
        let access = Arc::new(access);
        let now = EventTime::from_unix_secs(1_900_000_000);
        append(
            store.as_ref(),
            r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","agent_id":"a-1","team":"t","role":"support_l1"}"#,
        );
        append(
            store.as_ref(),
            r#"{"type":"agent","ts":"2025-01-01T00:00:00Z","agent_id":"a-9","team":"t","role":"support_lead"}"#,
        );
        append(
            store.as_ref(),
            r#"{"type":"ticket","ts":"2025-01-01T00:00:00Z","ticket_id":"t-1","customer_id":"c-1","agent_id":"a-1","status":"assigned","channel":"chat","category":"kyc_verification","opened_by":"customer"}"#,
        );
        let lead = AgentId::parse("a-9").unwrap();
        let enrolment = access.step_ups.enrol(&lead, now).unwrap();
        let uri = enrolment.uri.expose().to_owned();
        let encoded = uri
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("secret="))
            .unwrap();
        let mut bits = 0u64;
        let mut count = 0;
        let mut secret = Vec::new();
        for c in encoded.bytes() {
            let v = if c.is_ascii_uppercase() {
                c - b'A'
            } else {
                c - b'2' + 26
            };
            bits = (bits << 5) | u64::from(v);
            count += 5;
            if count >= 8 {
                count -= 8;
                secret.push((bits >> count) as u8);
            }
        }
        let code =
            custos_access::totp::totp(&custos_access::totp::TotpSecret::from_bytes(secret), now);
        access
            .step_ups
            .verify(&lead, &format!("{code:06}"), now)
            .unwrap();
        let grant = access
            .approvals
            .request(
                &custos_access::RevealRequest {
                    requester: AgentId::parse("a-1").unwrap(),
                    customer: CustomerId::parse("c-1").unwrap(),
                    ticket: TicketId::parse("t-1").unwrap(),
                    fields: vec![custos_core::event::FieldClass::NationalId],
                    purpose: "verify identity".into(),
                    ttl_secs: None,
                    reveal_budget: None,
                },
                now,
            )
            .unwrap()
            .grant
            .id;
        access
            .approvals
            .approve(&grant, &lead, "support_lead", now)
            .unwrap();
        let janitor = GrantJanitor {
            store: store.clone(),
            access: access.clone(),
            audit: None,
        };
        assert!(janitor.step().unwrap());
        assert_eq!(
            access.approvals.grant(&grant).unwrap().status,
            custos_broker::GrantStatus::Approved,
            "an assigned ticket keeps its grant"
        );
        append(
            store.as_ref(),
            r#"{"type":"ticket","ts":"2025-01-01T01:00:00Z","ticket_id":"t-1","customer_id":"c-1","agent_id":"a-1","status":"closed","channel":"chat","category":"kyc_verification","opened_by":"customer"}"#,
        );
        assert!(janitor.step().unwrap());
        let after = access.approvals.grant(&grant).unwrap();
        assert_eq!(after.status, custos_broker::GrantStatus::Revoked);
        assert_eq!(after.reason.as_deref(), Some("ticket_closed"));
        assert!(!janitor.step().unwrap(), "nothing left to read");
    }
}
