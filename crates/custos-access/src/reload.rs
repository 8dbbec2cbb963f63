//! Hot reload of the broker's policies: a handle holding the broker in use,
//! swapped for a new one when the policy directory's files change. A bad
//! policy set never replaces a good one.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::SystemTime;

use custos_broker::{Broker, BrokerConfig, CATEGORIES_FILE, SCHEMA_FILE};

use crate::error::ReloadError;

/// What a directory's policy files look like: (name, modified, length).
type Fingerprint = Vec<(String, Option<SystemTime>, u64)>;

struct PolicySource {
    dir: PathBuf,
    config: BrokerConfig,
    /// The fingerprint last loaded or last refused.
    seen: Mutex<Fingerprint>,
}

/// The broker in use. Requests take an `Arc` of it ([`BrokerHandle::current`])
/// and keep deciding with it while a reload swaps in the next one.
pub struct BrokerHandle {
    current: RwLock<Arc<Broker>>,
    source: Option<PolicySource>,
}

impl std::fmt::Debug for BrokerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerHandle")
            .field("dir", &self.source.as_ref().map(|s| &s.dir))
            .finish_non_exhaustive()
    }
}

impl BrokerHandle {
    /// A handle on a fixed broker (e.g. the shipped policies): reloading
    /// never changes it.
    pub fn fixed(broker: Broker) -> BrokerHandle {
        BrokerHandle {
            current: RwLock::new(Arc::new(broker)),
            source: None,
        }
    }

    /// Loads the policies of `dir` (see `Broker::from_dir`) under `config`,
    /// and reloads them from there.
    pub fn from_dir(dir: &Path, config: BrokerConfig) -> Result<BrokerHandle, ReloadError> {
        let seen = fingerprint(dir)?;
        let broker = Broker::from_dir(dir)?.with_config(config.clone())?;
        Ok(BrokerHandle {
            current: RwLock::new(Arc::new(broker)),
            source: Some(PolicySource {
                dir: dir.to_owned(),
                config,
                seen: Mutex::new(seen),
            }),
        })
    }

    /// The broker in use now.
    pub fn current(&self) -> Arc<Broker> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Reloads when a policy file (`*.cedar`, the schema, the category
    /// table) was added, removed or changed (modification time or length)
    /// since the last look. `Ok(true)`: a new broker is in use. An invalid
    /// set is refused with the error, once per change: the broker in use
    /// stays, and the next change of the files tries again.
    pub fn reload_if_changed(&self) -> Result<bool, ReloadError> {
        let Some(source) = &self.source else {
            return Ok(false);
        };
        let now = fingerprint(&source.dir)?;
        {
            let mut seen = source.seen.lock().unwrap_or_else(PoisonError::into_inner);
            if *seen == now {
                return Ok(false);
            }
            *seen = now;
        }
        let broker = Broker::from_dir(&source.dir)?.with_config(source.config.clone())?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(broker);
        Ok(true)
    }
}

fn fingerprint(dir: &Path) -> Result<Fingerprint, ReloadError> {
    let read_error = |error: std::io::Error| ReloadError::Read {
        path: dir.display().to_string(),
        message: error.to_string(),
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(read_error)? {
        let entry = entry.map_err(read_error)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let relevant = name.ends_with(".cedar") || name == SCHEMA_FILE || name == CATEGORIES_FILE;
        if !relevant {
            continue;
        }
        let metadata = entry.metadata().map_err(read_error)?;
        files.push((name, metadata.modified().ok(), metadata.len()));
    }
    files.sort();
    Ok(files)
}
