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
    let vault = Arc::new(
        custos_vault::Vault::open(&data.join("vault"), keys).context("cannot open the vault")?,
    );
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
            service,
            approvals: Approvals::new(
                grants,
                step_ups.clone(),
                vault.clone(),
                GrantPolicy::default(),
            ),
            step_ups: StepUps::new(step_ups, seal, StepUpPolicy::default()),
            vault,
            facts,
        },
        broker,
    ))
}

/// Reloads the policies when their files change; a set that does not
/// validate is logged and the running one kept.
pub fn watch_policies(broker: Arc<BrokerHandle>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match broker.reload_if_changed() {
            Ok(true) => tracing::info!("access policies reloaded"),
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "access policies not reloaded; the running set stays")
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
