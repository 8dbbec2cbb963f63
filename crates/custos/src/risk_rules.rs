//! Hot reload of the `action_risk` rules file (`[risk] rules_path`): when
//! the file changes, the new rule set replaces the live one on the engine
//! `serve` shares between the pipeline and `POST /v1/actions/evaluate`. A
//! file that does not parse is refused and the running rules stay. Both
//! outcomes are written to the audit log.
//!
//! The same watcher runs shadow mode on live traffic
//! (`[risk] candidate_rules_path`): a changed candidate file becomes the
//! candidate evaluated beside the live rules (the shadow report restarts),
//! a removed one ends shadow mode. `GET /v1/risk/shadow` reads the report.

use custos_risk::{RiskHandle, RuleSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// What identifies a version of the file without reading it.
fn fingerprint(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

pub struct RulesWatcher {
    path: PathBuf,
    risk: RiskHandle,
    audit: Option<Arc<Mutex<custos_audit::AuditLog>>>,
    /// Watches the shadow candidate instead of the live rules.
    candidate: bool,
    /// The file as the engine loaded it, taken when the watcher is made
    /// (not when its thread starts), so a change in between is seen.
    seen: Option<(SystemTime, u64)>,
}

impl RulesWatcher {
    pub fn new(
        path: PathBuf,
        risk: RiskHandle,
        audit: Option<Arc<Mutex<custos_audit::AuditLog>>>,
        candidate: bool,
    ) -> RulesWatcher {
        let seen = fingerprint(&path);
        RulesWatcher {
            path,
            risk,
            audit,
            candidate,
            seen,
        }
    }

    fn record(&self, outcome: &str, detail: String) {
        let Some(log) = &self.audit else { return };
        let kind = if self.candidate {
            "risk_candidate_reload"
        } else {
            "risk_rules_reload"
        };
        let entry = custos_audit::AuditEntry {
            kind: kind.to_owned(),
            ts: crate::audit::now_rfc3339(),
            actor: "custos".to_owned(),
            subject_commitment: String::new(),
            details: serde_json::json!({ "outcome": outcome, "detail": detail }),
        };
        match log.lock() {
            Ok(mut log) => {
                if let Err(e) = log.append(&[entry]) {
                    tracing::error!(error = %e, "cannot audit a risk rules reload");
                }
            }
            Err(_) => tracing::error!("audit log lock poisoned"),
        }
    }

    pub fn run(self, stop: &AtomicBool) {
        let mut seen = self.seen;
        while !stop.load(Ordering::Relaxed) {
            for _ in 0..10 {
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let now = fingerprint(&self.path);
            if now == seen {
                continue;
            }
            seen = now;
            if self.candidate && seen.is_none() {
                self.risk.with(|r| r.engine_mut().set_candidate(None));
                tracing::info!("shadow candidate removed; shadow mode off");
                self.record("removed", "shadow mode off".to_owned());
                continue;
            }
            match RuleSet::from_path(&self.path) {
                Ok(rules) if self.candidate => {
                    let version = rules.version.clone();
                    self.risk
                        .with(|r| r.engine_mut().set_candidate(Some(rules)));
                    tracing::info!(%version, "shadow candidate rules loaded");
                    self.record("loaded", format!("candidate version `{version}`"));
                }
                Ok(rules) => {
                    let version = rules.version.clone();
                    self.risk.with(|r| r.engine_mut().swap_rules(rules));
                    tracing::info!(%version, "risk rules reloaded");
                    self.record("reloaded", format!("version `{version}`"));
                }
                Err(e) => {
                    tracing::error!(error = %e, "risk rules not reloaded; the running set stays");
                    self.record("refused", e.to_string());
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_rules_file_replaces_the_live_rules_and_a_bad_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rules.toml");
        std::fs::write(&path, custos_risk::DEFAULT_RULES).unwrap();
        let config = custos_risk::RiskConfig {
            rules_path: Some(path.clone()),
            ..custos_risk::RiskConfig::default()
        };
        let risk = RiskHandle::new(custos_risk::ActionRisk::new(config.clone()).unwrap());
        let _pipeline = risk.detector(custos_risk::ActionRisk::new(config).unwrap());
        let signer = custos_audit::NoteSigner::from_seed("t.example/audit", [6; 32]).unwrap();
        let log = Arc::new(Mutex::new(
            custos_audit::AuditLog::open(&dir.path().join("audit.db"), "t.example/audit", signer)
                .unwrap(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let watcher = RulesWatcher::new(path.clone(), risk.clone(), Some(log.clone()), false);
            let stop = stop.clone();
            std::thread::spawn(move || watcher.run(&stop))
        };
        let wait_for = |n: u64| {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while log.lock().unwrap().size() < n {
                assert!(std::time::Instant::now() < deadline, "no audit entry {n}");
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        let version = |risk: &RiskHandle| risk.with(|r| r.engine().rules().version.clone());
        assert_eq!(version(&risk), "default-2025.1");
        std::thread::sleep(Duration::from_millis(1100));
        let edited = custos_risk::DEFAULT_RULES.replace(
            "version = \"default-2025.1\"",
            "version = \"exchange-2026.11\"",
        );
        std::fs::write(&path, edited).unwrap();
        wait_for(1);
        assert_eq!(version(&risk), "exchange-2026.11");
        std::thread::sleep(Duration::from_millis(1100));
        std::fs::write(&path, "[[rule]]\nid = 3\n").unwrap();
        wait_for(2);
        assert_eq!(
            version(&risk),
            "exchange-2026.11",
            "a bad file keeps the running rules"
        );
        stop.store(true, Ordering::SeqCst);
        watcher.join().unwrap();
        let entries = log.lock().unwrap().entries(0..2).unwrap();
        assert_eq!(entries[0].details["outcome"], "reloaded");
        assert_eq!(entries[1].details["outcome"], "refused");
    }

    #[test]
    fn a_candidate_file_runs_in_shadow_and_its_removal_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("candidate.toml");
        let config = custos_risk::RiskConfig::default();
        let risk = RiskHandle::new(custos_risk::ActionRisk::new(config.clone()).unwrap());
        let _pipeline = risk.detector(custos_risk::ActionRisk::new(config).unwrap());
        let signer = custos_audit::NoteSigner::from_seed("t.example/audit", [6; 32]).unwrap();
        let log = Arc::new(Mutex::new(
            custos_audit::AuditLog::open(&dir.path().join("audit.db"), "t.example/audit", signer)
                .unwrap(),
        ));
        let stop = Arc::new(AtomicBool::new(false));
        let watcher = {
            let watcher = RulesWatcher::new(path.clone(), risk.clone(), Some(log.clone()), true);
            let stop = stop.clone();
            std::thread::spawn(move || watcher.run(&stop))
        };
        let wait_for = |n: u64| {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while log.lock().unwrap().size() < n {
                assert!(std::time::Instant::now() < deadline, "no audit entry {n}");
                std::thread::sleep(Duration::from_millis(50));
            }
        };
        let candidate =
            |risk: &RiskHandle| risk.with(|r| r.engine().shadow_report().candidate_version);
        assert_eq!(candidate(&risk), None);
        let strict = custos_risk::DEFAULT_RULES.replace(
            "version = \"default-2025.1\"",
            "version = \"strict-2026.11\"",
        );
        std::fs::write(&path, strict).unwrap();
        wait_for(1);
        assert_eq!(candidate(&risk).as_deref(), Some("strict-2026.11"));
        assert_eq!(
            risk.with(|r| r.engine().rules().version.clone()),
            "default-2025.1",
            "the live rules stay"
        );
        std::fs::remove_file(&path).unwrap();
        wait_for(2);
        assert_eq!(candidate(&risk), None);
        stop.store(true, Ordering::SeqCst);
        watcher.join().unwrap();
        let entries = log.lock().unwrap().entries(0..2).unwrap();
        assert_eq!(entries[0].kind, "risk_candidate_reload");
        assert_eq!(entries[0].details["outcome"], "loaded");
        assert_eq!(entries[1].details["outcome"], "removed");
    }
}
