//! Step-up with TOTP: enrolment (a secret from the OS generator, shown once
//! as an otpauth:// URI, stored sealed), verification with replay protection
//! (a time step is accepted at most once per agent, and never one older than
//! the last accepted), and a lock after repeated failures.

use std::sync::Arc;

use custos_core::id::AgentId;
use custos_core::time::{EventTime, Span};

use crate::audit::AuditRecord;
use crate::error::StepUpError;
use crate::seal::{SealFailure, SealingKey, open, seal};
use crate::store::StepUpStore;
use crate::totp::{OtpAuthUri, TotpSecret, matching_step, otpauth_uri, parse_code};

/// The rules of step-up.
#[derive(Clone, Debug)]
pub struct StepUpPolicy {
    /// The issuer shown in the authenticator app.
    pub issuer: String,
    /// Failed codes in a row that start a lock.
    pub max_failures: u32,
    /// How long a lock lasts.
    pub lock_for: Span,
}

impl Default for StepUpPolicy {
    /// Issuer `custos`; 5 failures lock for 5 minutes.
    fn default() -> StepUpPolicy {
        StepUpPolicy {
            issuer: "custos".to_owned(),
            max_failures: 5,
            lock_for: Span::from_minutes(5),
        }
    }
}

/// A new enrolment: the URI to show once (as a QR code), and the audit record.
#[derive(Debug)]
pub struct Enrolment {
    pub uri: OtpAuthUri,
    pub audit: AuditRecord,
}

/// A completed step-up.
#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub step_up_at: EventTime,
    pub audit: AuditRecord,
}

/// A second factor verified by the caller rather than by [`StepUps`]: see
/// [`StepUps::record_verified`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepUpFactor {
    /// A WebAuthn assertion (a passkey of the analyst console).
    WebAuthn,
}

impl StepUpFactor {
    /// The factor's name in audit records (`detail.method`).
    pub fn as_str(self) -> &'static str {
        match self {
            StepUpFactor::WebAuthn => "webauthn",
        }
    }
}

/// TOTP step-up over a [`StepUpStore`], secrets sealed under a caller key.
pub struct StepUps {
    store: Arc<dyn StepUpStore>,
    key: SealingKey,
    policy: StepUpPolicy,
}

impl std::fmt::Debug for StepUps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepUps")
            .field("key", &self.key)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl StepUps {
    pub fn new(store: Arc<dyn StepUpStore>, key: SealingKey, policy: StepUpPolicy) -> StepUps {
        StepUps { store, key, policy }
    }

    /// Enrols `agent`: a fresh secret, sealed and stored; the URI holding it
    /// is returned once and never again. Refused when already enrolled
    /// (an administrator calls [`StepUps::unenrol`] first).
    pub fn enrol(&self, agent: &AgentId, now: EventTime) -> Result<Enrolment, StepUpError> {
        let secret = TotpSecret::generate().map_err(|_| StepUpError::Randomness)?;
        let sealed = seal(&self.key, agent.as_str(), &secret).map_err(seal_error)?;
        if !self.store.enrol(agent, &sealed, now)? {
            return Err(StepUpError::AlreadyEnrolled {
                agent: agent.to_string(),
            });
        }
        let uri = otpauth_uri(&self.policy.issuer, agent.as_str(), &secret);
        let audit = AuditRecord::new("step_up_enrolled", now, agent, "ok");
        Ok(Enrolment { uri, audit })
    }

    /// Removes `agent`'s enrolment (`by`: the administrator).
    pub fn unenrol(
        &self,
        agent: &AgentId,
        by: &AgentId,
        now: EventTime,
    ) -> Result<AuditRecord, StepUpError> {
        if !self.store.unenrol(agent)? {
            return Err(StepUpError::NotEnrolled {
                agent: agent.to_string(),
            });
        }
        let mut audit = AuditRecord::new("step_up_unenrolled", now, by, "ok");
        audit.subject = Some(agent.clone());
        Ok(audit)
    }

    /// Checks `code` for `agent` at `now` and records the step-up.
    ///
    /// Refused: not enrolled; locked; a malformed or wrong code (counted);
    /// a code whose time step was already used, or is older than the last
    /// one used (counted). The `max_failures`-th counted failure in a row
    /// locks the agent for `lock_for`.
    pub fn verify(
        &self,
        agent: &AgentId,
        code: &str,
        now: EventTime,
    ) -> Result<Verified, StepUpError> {
        let state = self
            .store
            .step_up_state(agent)?
            .ok_or_else(|| StepUpError::NotEnrolled {
                agent: agent.to_string(),
            })?;
        if let Some(until) = state.locked_until.filter(|&until| until > now) {
            return Err(StepUpError::Locked { until });
        }
        let secret = open(&self.key, agent.as_str(), &state.sealed_secret).map_err(seal_error)?;
        let step = parse_code(code).and_then(|code| matching_step(&secret, code, now));
        let Some(step) = step else {
            return Err(self.failure(agent, now, None)?);
        };
        if state.last_step.is_some_and(|last| step <= last) {
            return Err(self.failure(agent, now, Some(StepUpError::Replayed))?);
        }
        if !self.store.accept_step(agent, step, now)? {
            // Another request took this step first, or a lock began meanwhile.
            let locked = self
                .store
                .step_up_state(agent)?
                .and_then(|s| s.locked_until)
                .filter(|&until| until > now);
            return Err(match locked {
                Some(until) => StepUpError::Locked { until },
                None => self.failure(agent, now, Some(StepUpError::Replayed))?,
            });
        }
        let audit = AuditRecord::new("step_up_verified", now, agent, "ok");
        Ok(Verified {
            step_up_at: now,
            audit,
        })
    }

    /// Records a step-up of `agent` at `now` that the caller verified with
    /// another `factor` (the console checks a passkey assertion of the user
    /// who is this agent): the step-up time [`crate::Approvals::approve`]
    /// checks is set, the TOTP replay counter is left alone. The caller
    /// vouches for the verification; nothing here checks the factor.
    ///
    /// Refused like a TOTP step-up: not enrolled (the agent has no step-up
    /// record), or locked after failed codes.
    pub fn record_verified(
        &self,
        agent: &AgentId,
        factor: StepUpFactor,
        now: EventTime,
    ) -> Result<Verified, StepUpError> {
        let state = self
            .store
            .step_up_state(agent)?
            .ok_or_else(|| StepUpError::NotEnrolled {
                agent: agent.to_string(),
            })?;
        if let Some(until) = state.locked_until.filter(|&until| until > now) {
            return Err(StepUpError::Locked { until });
        }
        if !self.store.record_step_up(agent, now)? {
            // Unenrolled or locked meanwhile.
            let state = self.store.step_up_state(agent)?;
            return Err(
                match state.and_then(|s| s.locked_until).filter(|&u| u > now) {
                    Some(until) => StepUpError::Locked { until },
                    None => StepUpError::NotEnrolled {
                        agent: agent.to_string(),
                    },
                },
            );
        }
        let mut audit = AuditRecord::new("step_up_verified", now, agent, "ok");
        audit.detail = serde_json::json!({ "method": factor.as_str() });
        Ok(Verified {
            step_up_at: now,
            audit,
        })
    }

    /// When `agent` last completed a step-up.
    pub fn step_up_at(&self, agent: &AgentId) -> Result<Option<EventTime>, StepUpError> {
        Ok(self.store.step_up_at(agent)?)
    }

    /// The audit record of a refused `enrol`, `verify` or `unenrol`.
    pub fn refusal_record(
        operation: &'static str,
        agent: &AgentId,
        error: &StepUpError,
        now: EventTime,
    ) -> AuditRecord {
        AuditRecord::refused("step_up_refused", operation, agent, error.code(), now)
    }

    /// Counts a failure and says what the caller is told: `Locked` when this
    /// failure started a lock, else `reported` (or `InvalidCode`).
    fn failure(
        &self,
        agent: &AgentId,
        now: EventTime,
        reported: Option<StepUpError>,
    ) -> Result<StepUpError, StepUpError> {
        let lock_until = now.saturating_add(self.policy.lock_for);
        let Some(count) = self
            .store
            .record_failure(agent, self.policy.max_failures, lock_until)?
        else {
            return Ok(StepUpError::NotEnrolled {
                agent: agent.to_string(),
            });
        };
        if let Some(until) = count.locked_until.filter(|&until| until > now) {
            return Ok(StepUpError::Locked { until });
        }
        Ok(reported.unwrap_or(StepUpError::InvalidCode {
            failures_left: self.policy.max_failures.saturating_sub(count.failures),
        }))
    }
}

fn seal_error(failure: SealFailure) -> StepUpError {
    match failure {
        SealFailure::Randomness => StepUpError::Randomness,
        SealFailure::Crypto => StepUpError::Sealing,
    }
}
