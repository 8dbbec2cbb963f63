//! The key ring: key-encryption keys (KEKs) by id, one of them active, and
//! the commitment key. Loaded from a key file or an environment variable.
//!
//! Key file (and environment variable) format, JSON:
//!
//! ```json
//! {"version": 1, "active": "kek-2026-11",
//!  "keks": {"kek-2026-11": "<64 hex digits>", "kek-2026-05": "<64 hex digits>"},
//!  "commitment_key": "<64 hex digits>"}
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use zeroize::Zeroizing;

use crate::error::VaultError;
use crate::secret::SecretKey;

/// The environment variable [`KeyRing::from_env`] reads by default.
pub const KEYS_ENV_VAR: &str = "CUSTOS_VAULT_KEYS";

/// The longest key-encryption key id, in bytes (its length is one header byte).
pub const MAX_KEK_ID_LEN: usize = 64;

/// The id of a key-encryption key: 1 to [`MAX_KEK_ID_LEN`] bytes of ASCII
/// letters, digits, `.`, `_` and `-`. Written in every wrapped data key.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KekId(String);

impl KekId {
    /// Parses a key id.
    pub fn parse(text: &str) -> Result<KekId, VaultError> {
        let valid_chars = text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if text.is_empty() || text.len() > MAX_KEK_ID_LEN || !valid_chars {
            return Err(VaultError::KeyRing(format!(
                "a key id must be 1 to {MAX_KEK_ID_LEN} ascii letters, digits, `.`, `_` or `-`, \
                 got `{}`",
                text.escape_debug()
                    .take(MAX_KEK_ID_LEN + 8)
                    .collect::<String>()
            )));
        }
        Ok(KekId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KekId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Key-encryption keys by id, the active one (which wraps every new or
/// re-wrapped data key) and the commitment key (HMAC key for audit
/// commitments; never rotated, or old commitments would stop matching).
///
/// `Debug` lists key ids only.
#[derive(Clone)]
pub struct KeyRing {
    keks: BTreeMap<KekId, SecretKey>,
    active: KekId,
    commitment_key: SecretKey,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("keks", &self.keks.keys().collect::<Vec<_>>())
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile<'a> {
    version: u32,
    #[serde(borrow)]
    active: &'a str,
    #[serde(borrow)]
    keks: BTreeMap<&'a str, &'a str>,
    #[serde(borrow)]
    commitment_key: &'a str,
}

impl KeyRing {
    /// A ring with one key-encryption key, active.
    pub fn new(active: KekId, active_key: SecretKey, commitment_key: SecretKey) -> KeyRing {
        KeyRing {
            keks: BTreeMap::from([(active.clone(), active_key)]),
            active,
            commitment_key,
        }
    }

    /// Parses the JSON key file format (see the module docs). Errors never
    /// repeat key material.
    pub fn from_json(text: &str) -> Result<KeyRing, VaultError> {
        let file: KeyFile<'_> = serde_json::from_str(text).map_err(|error| {
            // serde_json messages quote unknown field names, never values
            // of known fields; still, report only the position.
            VaultError::KeyRing(format!(
                "key file is not valid (line {}, column {}): expected {{\"version\": 1, \
                 \"active\", \"keks\", \"commitment_key\"}} with hexadecimal keys",
                error.line(),
                error.column()
            ))
        })?;
        if file.version != 1 {
            return Err(VaultError::KeyRing(format!(
                "key file version `{}` is not supported (expected `1`)",
                file.version
            )));
        }
        let mut keks = BTreeMap::new();
        for (id, hex) in file.keks {
            let id = KekId::parse(id)?;
            let key = SecretKey::from_hex(hex)
                .map_err(|e| VaultError::KeyRing(format!("key `{id}`: {e}")))?;
            keks.insert(id, key);
        }
        let active = KekId::parse(file.active)?;
        if !keks.contains_key(&active) {
            return Err(VaultError::KeyRing(format!(
                "the active key `{active}` is not among the keys"
            )));
        }
        let commitment_key = SecretKey::from_hex(file.commitment_key)
            .map_err(|e| VaultError::KeyRing(format!("commitment key: {e}")))?;
        Ok(KeyRing {
            keks,
            active,
            commitment_key,
        })
    }

    /// Reads a key file. On Unix the file must not be readable or writable
    /// by group or others (like an ssh private key).
    pub fn from_key_file(path: &Path) -> Result<KeyRing, VaultError> {
        let unreadable = |error: std::io::Error| {
            VaultError::KeyRing(format!(
                "cannot read key file `{}`: {error}",
                path.display()
            ))
        };
        let metadata = std::fs::metadata(path).map_err(unreadable)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = metadata.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(VaultError::KeyRing(format!(
                    "key file `{}` is accessible by group or others (mode `{:o}`): chmod 600 it",
                    path.display(),
                    mode & 0o777
                )));
            }
        }
        #[cfg(not(unix))]
        let _ = metadata;
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(unreadable)?);
        KeyRing::from_json(&text)
    }

    /// Reads the key file format from the environment variable `name`
    /// (usually [`KEYS_ENV_VAR`]).
    pub fn from_env(name: &str) -> Result<KeyRing, VaultError> {
        let text = Zeroizing::new(std::env::var(name).map_err(|error| {
            VaultError::KeyRing(format!("environment variable `{name}`: {error}"))
        })?);
        KeyRing::from_json(&text)
    }

    /// Adds a key-encryption key (not yet active). An id already in the ring
    /// is refused, so a key can never be silently replaced.
    pub fn insert(&mut self, id: KekId, key: SecretKey) -> Result<(), VaultError> {
        if self.keks.contains_key(&id) {
            return Err(VaultError::KeyRing(format!(
                "key `{id}` is already in the ring"
            )));
        }
        self.keks.insert(id, key);
        Ok(())
    }

    /// Makes `id` the key that wraps new and re-wrapped data keys.
    pub fn activate(&mut self, id: &KekId) -> Result<(), VaultError> {
        if !self.keks.contains_key(id) {
            return Err(VaultError::UnknownKek {
                kek_id: id.to_string(),
            });
        }
        self.active = id.clone();
        Ok(())
    }

    /// Removes a key from the ring (the key is zeroized). The active key
    /// cannot be removed. [`crate::Vault::retire_kek`] also checks that no
    /// data key is still wrapped under it.
    pub fn remove(&mut self, id: &KekId) -> Result<(), VaultError> {
        if *id == self.active {
            return Err(VaultError::KeyRing(format!(
                "key `{id}` is active and cannot be removed"
            )));
        }
        match self.keks.remove(id) {
            Some(_) => Ok(()),
            None => Err(VaultError::UnknownKek {
                kek_id: id.to_string(),
            }),
        }
    }

    /// The active key id.
    pub fn active(&self) -> &KekId {
        &self.active
    }

    /// Every key id in the ring.
    pub fn kek_ids(&self) -> impl Iterator<Item = &KekId> {
        self.keks.keys()
    }

    pub(crate) fn active_key(&self) -> (&KekId, &SecretKey) {
        // INVARIANT: `active` is always a key of `keks` (checked by every
        // constructor, `activate` and `remove`); the fallback is unreachable
        // but keeps this total.
        match self.keks.get_key_value(&self.active) {
            Some(pair) => pair,
            None => (&self.active, &self.commitment_key),
        }
    }

    pub(crate) fn kek(&self, id: &str) -> Result<&SecretKey, VaultError> {
        KekId::parse(id)
            .ok()
            .and_then(|id| self.keks.get(&id))
            .ok_or_else(|| VaultError::UnknownKek {
                kek_id: id.escape_debug().take(MAX_KEK_ID_LEN + 8).collect(),
            })
    }

    pub(crate) fn commitment_key(&self) -> &SecretKey {
        &self.commitment_key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(active: &str, keks: &[(&str, &str)]) -> String {
        let keks: Vec<String> = keks
            .iter()
            .map(|(id, key)| format!("\"{id}\": \"{key}\""))
            .collect();
        format!(
            "{{\"version\": 1, \"active\": \"{active}\", \"keks\": {{{}}}, \"commitment_key\": \"{}\"}}",
            keks.join(", "),
            "cc".repeat(32)
        )
    }

    #[test]
    fn key_file_json_loads_every_key_and_the_active_one() {
        let ring = KeyRing::from_json(&json(
            "k2",
            &[("k1", &"11".repeat(32)), ("k2", &"22".repeat(32))],
        ));
        let ring = ring.map_err(|e| e.to_string());
        let ids = ring.as_ref().map(|r| {
            (
                r.active().to_string(),
                r.kek_ids().map(KekId::to_string).collect::<Vec<_>>(),
            )
        });
        assert_eq!(
            ids,
            Ok(("k2".to_owned(), vec!["k1".to_owned(), "k2".to_owned()]))
        );
        let active = ring.map(|r| *r.active_key().1.expose());
        assert_eq!(active, Ok([0x22; 32]));
    }

    #[test]
    fn bad_key_files_are_refused_with_a_reason_and_no_key_material() {
        let check = |text: &str, expect: &str| {
            let message = KeyRing::from_json(text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                message.contains(expect),
                "{message} should contain {expect}"
            );
            assert!(!message.contains(&"ab".repeat(8)), "{message}");
        };
        check(&json("k3", &[("k1", &"ab".repeat(32))]), "active key `k3`");
        check(&json("k1", &[("k1", &"ab".repeat(31))]), "key `k1`");
        check(&json("bad id", &[("bad id", &"ab".repeat(32))]), "key id");
        check("{\"version\": 2}", "not valid");
        check(
            &json("k1", &[("k1", &"ab".repeat(32))]).replace("\"version\": 1", "\"version\": 2"),
            "version `2`",
        );
        check(
            &format!("{{\"extra\": \"{}\"}}", "ab".repeat(32)),
            "not valid",
        );
    }

    #[test]
    fn rotation_steps_keep_the_active_key_in_the_ring() {
        let kek = |b| SecretKey::from_bytes([b; 32]);
        let (k1, k2) = (KekId::parse("k1"), KekId::parse("k2"));
        let (Ok(k1), Ok(k2)) = (k1, k2) else {
            unreachable!("valid ids")
        };
        let mut ring = KeyRing::new(k1.clone(), kek(1), kek(9));
        assert!(ring.activate(&k2).is_err());
        assert!(ring.insert(k2.clone(), kek(2)).is_ok());
        assert!(
            ring.insert(k2.clone(), kek(3)).is_err(),
            "no silent replacement"
        );
        assert!(ring.activate(&k2).is_ok());
        assert!(ring.remove(&k2).is_err(), "the active key stays");
        assert!(ring.remove(&k1).is_ok());
        assert!(matches!(ring.kek("k1"), Err(VaultError::UnknownKek { .. })));
        assert_eq!(ring.active_key().1.expose(), &[2; 32]);
        assert!(!format!("{ring:?}").contains("2, 2"));
    }

    #[test]
    fn key_file_must_be_private() {
        let Ok(dir) = tempfile::tempdir() else {
            unreachable!("temp dir")
        };
        let path = dir.path().join("keys.json");
        let written = std::fs::write(&path, json("k1", &[("k1", &"ab".repeat(32))]));
        assert!(written.is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644));
            let error = KeyRing::from_key_file(&path).err().map(|e| e.to_string());
            assert!(error.is_some_and(|m| m.contains("chmod 600")));
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        assert!(KeyRing::from_key_file(&path).is_ok());
    }
}
