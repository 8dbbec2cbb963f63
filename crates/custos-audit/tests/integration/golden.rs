//! Golden files of the on-disk/wire format, version 1: a leaf and a signed
//! checkpoint of a fixed three-entry log under a fixed key. A change here
//! is a format change: bump `LEAF_DOMAIN`'s version, keep the old files.
//! `CUSTOS_AUDIT_BLESS=1` rewrites them (only for a deliberate new version).

use std::path::PathBuf;

use custos_audit::{AuditLog, Checkpoint};

use crate::TestResult;
use crate::log::{ORIGIN, entry, log_key};
use crate::notes::signer;

fn check_golden(name: &str, actual: &[u8]) -> TestResult {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/golden_v1")
        .join(name);
    if std::env::var_os("CUSTOS_AUDIT_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap_or(&path))?;
        std::fs::write(&path, actual)?;
    }
    let expected = std::fs::read(&path)?;
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&expected),
        "{name}"
    );
    Ok(())
}

#[test]
fn format_v1_is_stable() -> TestResult {
    check_golden("leaf_0.txt", &entry(0).to_leaf(0)?)?;
    let directory = tempfile::tempdir()?;
    let mut log = AuditLog::open(
        &directory.path().join("audit.sqlite"),
        ORIGIN,
        signer(ORIGIN, 1)?,
    )?;
    log.append(&[entry(0), entry(1), entry(2)])?;
    let note = log.checkpoint()?;
    check_golden("checkpoint_3.txt", note.as_bytes())?;
    assert_eq!(Checkpoint::open(&note, &log_key()?)?.size, 3);
    Ok(())
}
