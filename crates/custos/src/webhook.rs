//! Webhooks to the exchange: every alert that matches the subscription
//! (decisions of `action_risk`, interceptions of `conversation`,
//! countermeasures of `agent_behavior`, ...) is POSTed, signed, to one URL.
//!
//! The alerts table is the durable outbox: the sender tails it in sequence
//! order under its own consumer cursor (`webhooks`), which moves only after
//! the receiver answered 2xx. A crash or restart resumes at the first alert
//! not yet acknowledged, so nothing is lost; delivery is at least once and
//! the `Custos-Alert-Id` header lets the receiver drop a repeat.
//!
//! Signature (Stripe-style, so receivers can reuse their verification code):
//! `Custos-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.

use crate::config::Secret;
use anyhow::Context as _;
use custos_store::{AlertQuery, Store};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The consumer name of the sender's progress in the store.
pub const CURSOR: &str = "webhooks";

/// Resolved `[webhooks]` settings.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// May carry credentials: never logged or printed.
    pub url: Secret,
    pub secret: Secret,
    /// Only alerts of these detectors (empty: every detector).
    pub detectors: Vec<String>,
    /// Only alerts at least this severe.
    pub min_severity: custos_core::Severity,
    /// Attempts per alert before it is logged as undeliverable and skipped.
    pub max_attempts: u32,
    /// First retry delay; doubles per attempt up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub timeout: Duration,
}

/// The `Custos-Signature` header value for `body` at `unix_secs`.
pub fn signature(secret: &[u8], unix_secs: u64, body: &str) -> String {
    let mut hex = String::with_capacity(64);
    // HMAC takes keys of any length; this cannot fail.
    if let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        mac.update(unix_secs.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        for byte in mac.finalize().into_bytes() {
            hex.push_str(&format!("{byte:02x}"));
        }
    }
    format!("t={unix_secs},v1={hex}")
}

/// What the sender did, for metrics and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WebhookProgress {
    pub delivered: u64,
    pub skipped_by_filter: u64,
    pub undeliverable: u64,
    pub cursor: u64,
}

pub struct WebhookSender {
    store: Arc<dyn Store>,
    settings: WebhookSettings,
    agent: ureq::Agent,
    pub progress: WebhookProgress,
}

enum Delivery {
    Delivered,
    Failed(String),
}

impl WebhookSender {
    pub fn new(store: Arc<dyn Store>, settings: WebhookSettings) -> WebhookSender {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(settings.timeout))
            .build()
            .into();
        WebhookSender {
            store,
            settings,
            agent,
            progress: WebhookProgress::default(),
        }
    }

    fn wanted(&self, json: &serde_json::Value) -> bool {
        let detector = json["detector"].as_str().unwrap_or_default();
        let severity = json["severity"]
            .as_str()
            .and_then(custos_core::Severity::parse);
        (self.settings.detectors.is_empty()
            || self.settings.detectors.iter().any(|d| d == detector))
            && severity.is_some_and(|s| s >= self.settings.min_severity)
    }

    fn post(&self, alert_id: &str, body: &str) -> Delivery {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let result = self
            .agent
            .post(self.settings.url.expose())
            .header("Content-Type", "application/json")
            .header("Custos-Alert-Id", alert_id)
            .header(
                "Custos-Signature",
                &signature(self.settings.secret.expose().as_bytes(), now, body),
            )
            .send(body);
        match result {
            Ok(response) if response.status().is_success() => Delivery::Delivered,
            Ok(response) => Delivery::Failed(format!("answered {}", response.status())),
            // The URL may carry credentials: say what failed, not where.
            Err(e) => Delivery::Failed(format!("transport error: {}", transport_kind(&e))),
        }
    }

    /// Delivers the next page of alerts. Returns whether there was work.
    /// Stops early (without moving the cursor past the alert in hand)
    /// when `stop` is set during retries.
    pub fn step(&mut self, stop: &AtomicBool) -> anyhow::Result<bool> {
        let cursor = self.store.cursor(CURSOR)?;
        let page = self.store.query_alerts(&AlertQuery {
            after_seq: Some(cursor),
            limit: 100,
            ..AlertQuery::default()
        })?;
        if page.alerts.is_empty() {
            return Ok(false);
        }
        for alert in &page.alerts {
            let json: serde_json::Value =
                serde_json::from_str(&alert.json).context("a stored alert is not JSON")?;
            if !self.wanted(&json) {
                self.progress.skipped_by_filter += 1;
            } else {
                let mut backoff = self.settings.initial_backoff;
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match self.post(&alert.alert_id, &alert.json) {
                        Delivery::Delivered => {
                            self.progress.delivered += 1;
                            break;
                        }
                        Delivery::Failed(why) if attempt >= self.settings.max_attempts => {
                            tracing::error!(alert_id = %alert.alert_id, attempts = attempt, reason = %why, "webhook undeliverable; skipped");
                            self.progress.undeliverable += 1;
                            break;
                        }
                        Delivery::Failed(why) => {
                            tracing::warn!(alert_id = %alert.alert_id, attempt, reason = %why, "webhook failed; retrying");
                            if !sleep_unless_stopped(backoff, stop) {
                                return Ok(true);
                            }
                            backoff = (backoff * 2).min(self.settings.max_backoff);
                        }
                    }
                }
            }
            self.store.append_alerts(&[], CURSOR, alert.seq)?;
            self.progress.cursor = alert.seq;
        }
        Ok(true)
    }

    /// Runs until `stop` is set.
    pub fn run(mut self, stop: &AtomicBool) {
        let mut backoff = Duration::from_millis(100);
        while !stop.load(Ordering::Relaxed) {
            match self.step(stop) {
                Ok(true) => backoff = Duration::from_millis(100),
                Ok(false) => {
                    sleep_unless_stopped(Duration::from_millis(100), stop);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook sender cannot reach the store; retrying");
                    sleep_unless_stopped(backoff, stop);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

/// Sleeps in small steps; false when `stop` was set meanwhile.
fn sleep_unless_stopped(total: Duration, stop: &AtomicBool) -> bool {
    let step = Duration::from_millis(20);
    let mut slept = Duration::ZERO;
    while slept < total {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(step.min(total - slept));
        slept += step;
    }
    !stop.load(Ordering::Relaxed)
}

fn transport_kind(e: &ureq::Error) -> &'static str {
    match e {
        ureq::Error::Timeout(_) => "timeout",
        ureq::Error::Io(_) => "connection",
        ureq::Error::HostNotFound => "host not found",
        _ => "request failed",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_an_independent_hmac() {
        // Python: hmac.new(b"whsec", b'1700000000.{"alert_id":"al-1"}', "sha256").hexdigest()
        assert_eq!(
            signature(b"whsec", 1_700_000_000, r#"{"alert_id":"al-1"}"#),
            "t=1700000000,v1=6aa39c1bfe24d8138dd0f615ec02e3a4b7d1ae2225bb1c0a9993e2a21bf1e3f8"
        );
        assert_ne!(
            signature(b"whsec", 1_700_000_001, "{}"),
            signature(b"whsec", 1_700_000_000, "{}")
        );
        assert_ne!(
            signature(b"other", 1_700_000_000, "{}"),
            signature(b"whsec", 1_700_000_000, "{}")
        );
    }
}
