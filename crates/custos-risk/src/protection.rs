//! Account protection state as a pure library: typed commands in, recorded
//! changes out. Freeze is immediate and cheap; unfreeze wants a strong factor
//! and waits out a delay; a security-settings lock delays every change (and
//! any change is cancellable); a withdrawal allow-list makes new addresses
//! wait a time lock; the anti-phishing code is stored for outbound
//! messaging. The HTTP layer exposes the commands; the engine reads the
//! state when deciding.

use crate::decision::Factor;
use custos_core::event::SecuritySetting;
use custos_core::id::CustomerId;
use custos_core::time::{EventTime, Span};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Delays of the protection state machine.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProtectionConfig {
    /// From an accepted unfreeze request to the account working again.
    pub unfreeze_delay_hours: u32,
    /// How long a security change waits while settings are locked (and how
    /// long unlocking itself waits).
    pub lock_delay_hours: u32,
    /// How long a new allow-list address waits before it can receive.
    pub allow_list_delay_hours: u32,
}

impl Default for ProtectionConfig {
    fn default() -> ProtectionConfig {
        ProtectionConfig {
            unfreeze_delay_hours: 24,
            lock_delay_hours: 48,
            allow_list_delay_hours: 24,
        }
    }
}

/// Who issues a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// The customer, with the factor they proved (None: a signed link).
    Customer { factor: Option<Factor> },
    /// An exchange employee.
    Support { agent_id: String },
    /// custos itself (a decision's protection).
    System,
}

/// A protection command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Immediate, from any channel, no factor needed.
    Freeze,
    /// Needs a passkey or a video call; takes effect after the delay.
    RequestUnfreeze,
    RevokeApiKeys,
    /// Every later security change is delayed and cancellable.
    LockSecuritySettings,
    /// Unlocking is itself a delayed change (an attacker would unlock first).
    UnlockSecuritySettings,
    /// A security change: immediate when unlocked, pending when locked.
    RequestSecurityChange {
        setting: SecuritySetting,
    },
    /// Cancels a pending change (unfreeze, unlock, setting, allow-list
    /// entry) from any existing factor.
    CancelPending {
        change_id: u64,
    },
    /// Support shortens a pending delay: needs two different approvers.
    ShortenDelay {
        change_id: u64,
        approvers: Vec<String>,
    },
    EnableAllowList,
    /// A new address waits the allow-list time lock.
    AllowListAdd {
        destination: String,
    },
    AllowListRemove {
        destination: String,
    },
    SetAntiPhishingCode {
        code: String,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Freeze => "freeze",
            Command::RequestUnfreeze => "request_unfreeze",
            Command::RevokeApiKeys => "revoke_api_keys",
            Command::LockSecuritySettings => "lock_security_settings",
            Command::UnlockSecuritySettings => "unlock_security_settings",
            Command::RequestSecurityChange { .. } => "request_security_change",
            Command::CancelPending { .. } => "cancel_pending",
            Command::ShortenDelay { .. } => "shorten_delay",
            Command::EnableAllowList => "enable_allow_list",
            Command::AllowListAdd { .. } => "allow_list_add",
            Command::AllowListRemove { .. } => "allow_list_remove",
            Command::SetAntiPhishingCode { .. } => "set_anti_phishing_code",
        }
    }
}

/// Why a command was refused (the state is unchanged).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtectionError {
    #[error("`{command}` needs a passkey or a video call")]
    WeakFactor { command: &'static str },
    #[error("`{command}` must come from the customer")]
    CustomerOnly { command: &'static str },
    #[error("the account is not frozen")]
    NotFrozen,
    #[error("no pending change `{change_id}`")]
    NoSuchChange { change_id: u64 },
    #[error("shortening a delay needs two different approvers")]
    NeedsTwoApprovers,
    #[error("the anti-phishing code must be 4 to 32 letters or digits")]
    BadAntiPhishingCode,
    #[error("the allow-list is not enabled")]
    AllowListDisabled,
}

/// The actor and command of a `protection_command` event, as the API wrote
/// them (`actor` and `protection` JSON objects).
pub fn decode_command(
    event: &custos_core::event::ProtectionCommand,
) -> Result<(Actor, Command), serde_json::Error> {
    Ok((
        serde_json::from_value(event.actor.clone())?,
        serde_json::from_value(event.protection.clone())?,
    ))
}

/// A recorded change: what the audit log and the webhooks carry.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProtectionRecord {
    pub ts: EventTime,
    pub customer_id: CustomerId,
    pub command: &'static str,
    /// `applied`, `pending` (effective at `effective_at`), `cancelled`,
    /// `shortened`, `already_active`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub effective_at: Option<EventTime>,
    pub actor: Actor,
    pub detail: String,
}

/// What a pending change will do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PendingKind {
    Unfreeze,
    Unlock,
    SecurityChange { setting: SecuritySetting },
    AllowListEntry { destination: String },
}

/// A delayed, cancellable change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Pending {
    pub change_id: u64,
    pub kind: PendingKind,
    pub requested_at: EventTime,
    pub effective_at: EventTime,
}

/// A string that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// One account's protection state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AccountProtection {
    pub frozen_since: Option<EventTime>,
    pub locked_since: Option<EventTime>,
    pub api_keys_revoked_at: Option<EventTime>,
    /// `Some` once enabled: active addresses (hash of the address → active
    /// from).
    pub allow_list: Option<HashMap<String, EventTime>>,
    pub pending: Vec<Pending>,
    anti_phishing_code: Option<Secret>,
}

/// Where a withdrawal destination stands on the allow-list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllowListStatus {
    /// No allow-list on this account.
    Disabled,
    Allowed,
    /// On the list but still time-locked until then.
    Locked(EventTime),
    NotListed,
}

impl AccountProtection {
    /// Whether the account is frozen at `now` (a pending unfreeze only
    /// counts once its delay passed, which [`ProtectionBook::tick`] applies).
    pub fn is_frozen(&self, now: EventTime) -> bool {
        self.frozen_since.is_some_and(|t| t <= now) && !self.unfreeze_due(now)
    }

    fn unfreeze_due(&self, now: EventTime) -> bool {
        self.pending
            .iter()
            .any(|p| p.kind == PendingKind::Unfreeze && p.effective_at <= now)
    }

    pub fn is_locked(&self, now: EventTime) -> bool {
        self.locked_since.is_some_and(|t| t <= now)
            && !self
                .pending
                .iter()
                .any(|p| p.kind == PendingKind::Unlock && p.effective_at <= now)
    }

    pub fn allow_list_status(&self, destination: &str, now: EventTime) -> AllowListStatus {
        let Some(list) = &self.allow_list else {
            return AllowListStatus::Disabled;
        };
        if let Some(&active) = list.get(destination) {
            return AllowListStatus::Allowed.min_with(active, now);
        }
        match self.pending.iter().find(|p| {
            matches!(&p.kind, PendingKind::AllowListEntry { destination: d } if d == destination)
        }) {
            Some(p) if p.effective_at <= now => AllowListStatus::Allowed,
            Some(p) => AllowListStatus::Locked(p.effective_at),
            None => AllowListStatus::NotListed,
        }
    }

    /// The code outbound messages quote so customers can tell real mail.
    pub fn anti_phishing_code(&self) -> Option<&str> {
        self.anti_phishing_code.as_ref().map(Secret::expose)
    }
}

impl AllowListStatus {
    fn min_with(self, active: EventTime, now: EventTime) -> AllowListStatus {
        if active <= now {
            self
        } else {
            AllowListStatus::Locked(active)
        }
    }
}

/// Protection state of every account.
#[derive(Debug, Default)]
pub struct ProtectionBook {
    accounts: HashMap<CustomerId, AccountProtection>,
    next_change_id: u64,
    config: ProtectionConfig,
}

fn strong(actor: &Actor) -> bool {
    matches!(
        actor,
        Actor::Customer {
            factor: Some(Factor::Passkey | Factor::VideoCall)
        }
    )
}

impl ProtectionBook {
    pub fn new(config: ProtectionConfig) -> ProtectionBook {
        ProtectionBook {
            accounts: HashMap::new(),
            next_change_id: 1,
            config,
        }
    }

    pub fn get(&self, customer: &CustomerId) -> Option<&AccountProtection> {
        self.accounts.get(customer)
    }

    /// Applies a command at `ts`. Returns what was recorded, or why the
    /// command was refused (state unchanged).
    pub fn apply(
        &mut self,
        customer: &CustomerId,
        ts: EventTime,
        actor: Actor,
        command: &Command,
    ) -> Result<ProtectionRecord, ProtectionError> {
        self.tick(customer, ts);
        let name = command.name();
        let delay = |hours: u32| Span::from_hours(i64::from(hours));
        let lock_delay = delay(self.config.lock_delay_hours);
        let unfreeze_delay = delay(self.config.unfreeze_delay_hours);
        let allow_delay = delay(self.config.allow_list_delay_hours);
        let mut next_id = self.next_change_id;
        let account = self.accounts.entry(customer.clone()).or_default();
        let mut record = ProtectionRecord {
            ts,
            customer_id: customer.clone(),
            command: name,
            outcome: "applied",
            change_id: None,
            effective_at: None,
            actor: actor.clone(),
            detail: String::new(),
        };
        let mut pend = |account: &mut AccountProtection, kind: PendingKind, wait: Span| {
            let change_id = next_id;
            next_id += 1;
            let effective_at = ts.saturating_add(wait);
            account.pending.push(Pending {
                change_id,
                kind,
                requested_at: ts,
                effective_at,
            });
            (change_id, effective_at)
        };
        match command {
            Command::Freeze => {
                if account.is_frozen(ts) {
                    record.outcome = "already_active";
                } else {
                    account.frozen_since = Some(ts);
                    account.pending.retain(|p| p.kind != PendingKind::Unfreeze);
                }
                record.detail = "withdrawals and security changes are denied until unfrozen".into();
            }
            Command::RequestUnfreeze => {
                if !account.is_frozen(ts) {
                    return Err(ProtectionError::NotFrozen);
                }
                if !strong(&actor) {
                    return Err(ProtectionError::WeakFactor { command: name });
                }
                let (id, at) = pend(account, PendingKind::Unfreeze, unfreeze_delay);
                record.outcome = "pending";
                record.change_id = Some(id);
                record.effective_at = Some(at);
                record.detail = format!(
                    "unfreezes after {} h unless cancelled",
                    unfreeze_delay.as_micros() / Span::from_hours(1).as_micros()
                );
            }
            Command::RevokeApiKeys => {
                account.api_keys_revoked_at = Some(ts);
                record.detail = "every API key revoked".into();
            }
            Command::LockSecuritySettings => {
                if account.is_locked(ts) {
                    record.outcome = "already_active";
                } else {
                    account.locked_since = Some(ts);
                    account.pending.retain(|p| p.kind != PendingKind::Unlock);
                }
                record.detail = "security changes wait out a delay and can be cancelled".into();
            }
            Command::UnlockSecuritySettings => {
                if !matches!(actor, Actor::Customer { .. }) {
                    return Err(ProtectionError::CustomerOnly { command: name });
                }
                if account.is_locked(ts) {
                    let (id, at) = pend(account, PendingKind::Unlock, lock_delay);
                    record.outcome = "pending";
                    record.change_id = Some(id);
                    record.effective_at = Some(at);
                }
            }
            Command::RequestSecurityChange { setting } => {
                if !matches!(actor, Actor::Customer { .. }) {
                    return Err(ProtectionError::CustomerOnly { command: name });
                }
                if account.is_locked(ts) {
                    let (id, at) = pend(
                        account,
                        PendingKind::SecurityChange { setting: *setting },
                        lock_delay,
                    );
                    record.outcome = "pending";
                    record.change_id = Some(id);
                    record.effective_at = Some(at);
                    record.detail = format!("`{setting}` changes at the end of the lock delay");
                } else {
                    record.detail = format!("`{setting}` changed");
                }
            }
            Command::CancelPending { change_id } => {
                let before = account.pending.len();
                account.pending.retain(|p| p.change_id != *change_id);
                if account.pending.len() == before {
                    return Err(ProtectionError::NoSuchChange {
                        change_id: *change_id,
                    });
                }
                record.outcome = "cancelled";
                record.change_id = Some(*change_id);
            }
            Command::ShortenDelay {
                change_id,
                approvers,
            } => {
                let mut distinct: Vec<&String> = approvers.iter().collect();
                distinct.sort();
                distinct.dedup();
                if distinct.len() < 2 {
                    return Err(ProtectionError::NeedsTwoApprovers);
                }
                let Some(p) = account
                    .pending
                    .iter_mut()
                    .find(|p| p.change_id == *change_id)
                else {
                    return Err(ProtectionError::NoSuchChange {
                        change_id: *change_id,
                    });
                };
                p.effective_at = ts;
                record.outcome = "shortened";
                record.change_id = Some(*change_id);
                record.effective_at = Some(ts);
                record.detail = format!("approved by {}", approvers.join(" and "));
            }
            Command::EnableAllowList => {
                if account.allow_list.is_some() {
                    record.outcome = "already_active";
                } else {
                    account.allow_list = Some(HashMap::new());
                }
            }
            Command::AllowListAdd { destination } => {
                if account.allow_list.is_none() {
                    return Err(ProtectionError::AllowListDisabled);
                }
                let (id, at) = pend(
                    account,
                    PendingKind::AllowListEntry {
                        destination: destination.clone(),
                    },
                    allow_delay,
                );
                record.outcome = "pending";
                record.change_id = Some(id);
                record.effective_at = Some(at);
            }
            Command::AllowListRemove { destination } => {
                let Some(list) = account.allow_list.as_mut() else {
                    return Err(ProtectionError::AllowListDisabled);
                };
                list.remove(destination);
                account.pending.retain(|p| {
                    !matches!(&p.kind, PendingKind::AllowListEntry { destination: d } if d == destination)
                });
            }
            Command::SetAntiPhishingCode { code } => {
                let ok = (4..=32).contains(&code.chars().count())
                    && code.chars().all(char::is_alphanumeric);
                if !ok {
                    return Err(ProtectionError::BadAntiPhishingCode);
                }
                if !matches!(actor, Actor::Customer { .. }) {
                    return Err(ProtectionError::CustomerOnly { command: name });
                }
                account.anti_phishing_code = Some(Secret(code.clone()));
                record.detail = "stored; outbound messages quote it".into();
            }
        }
        self.next_change_id = next_id;
        Ok(record)
    }

    /// Applies pending changes whose delay has passed; returns them.
    pub fn tick(&mut self, customer: &CustomerId, now: EventTime) -> Vec<Pending> {
        let Some(account) = self.accounts.get_mut(customer) else {
            return Vec::new();
        };
        let (due, waiting): (Vec<Pending>, Vec<Pending>) = account
            .pending
            .drain(..)
            .partition(|p| p.effective_at <= now);
        account.pending = waiting;
        for p in &due {
            match &p.kind {
                PendingKind::Unfreeze => account.frozen_since = None,
                PendingKind::Unlock => account.locked_since = None,
                PendingKind::SecurityChange { .. } => {}
                PendingKind::AllowListEntry { destination } => {
                    if let Some(list) = account.allow_list.as_mut() {
                        list.insert(destination.clone(), p.effective_at);
                    }
                }
            }
        }
        due
    }

    /// The customer's own `unfreeze` action went through the exchange's
    /// checks (a step-up): the account works again.
    pub fn unfreeze_now(&mut self, customer: &CustomerId) {
        if let Some(account) = self.accounts.get_mut(customer) {
            account.frozen_since = None;
            account.pending.retain(|p| p.kind != PendingKind::Unfreeze);
        }
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn t(hours: i64) -> EventTime {
        EventTime::from_unix_secs(1_740_960_000 + hours * 3600)
    }
    fn customer() -> CustomerId {
        CustomerId::parse("c-1").unwrap()
    }
    fn passkey() -> Actor {
        Actor::Customer {
            factor: Some(Factor::Passkey),
        }
    }
    fn link() -> Actor {
        Actor::Customer { factor: None }
    }

    #[test]
    fn freeze_is_immediate_unfreeze_needs_a_strong_factor_and_a_delay() {
        let mut book = ProtectionBook::new(ProtectionConfig::default());
        let c = customer();
        let r = book.apply(&c, t(0), link(), &Command::Freeze).unwrap();
        assert_eq!(r.outcome, "applied");
        assert!(book.get(&c).unwrap().is_frozen(t(0)));
        assert_eq!(
            book.apply(&c, t(1), link(), &Command::RequestUnfreeze),
            Err(ProtectionError::WeakFactor {
                command: "request_unfreeze"
            })
        );
        let r = book
            .apply(&c, t(1), passkey(), &Command::RequestUnfreeze)
            .unwrap();
        assert_eq!((r.outcome, r.effective_at), ("pending", Some(t(25))));
        assert!(book.get(&c).unwrap().is_frozen(t(24)));
        assert!(!book.get(&c).unwrap().is_frozen(t(25)));
        book.tick(&c, t(26));
        assert_eq!(book.get(&c).unwrap().frozen_since, None);
    }

    #[test]
    fn a_pending_unfreeze_can_be_cancelled() {
        let mut book = ProtectionBook::new(ProtectionConfig::default());
        let c = customer();
        book.apply(&c, t(0), link(), &Command::Freeze).unwrap();
        let r = book
            .apply(&c, t(1), passkey(), &Command::RequestUnfreeze)
            .unwrap();
        let id = r.change_id.unwrap();
        book.apply(&c, t(2), link(), &Command::CancelPending { change_id: id })
            .unwrap();
        assert!(book.get(&c).unwrap().is_frozen(t(100)));
    }

    #[test]
    fn lock_delays_security_changes_and_support_needs_two_approvers() {
        let mut book = ProtectionBook::new(ProtectionConfig::default());
        let c = customer();
        let support = Actor::Support {
            agent_id: "a-1".into(),
        };
        book.apply(&c, t(0), link(), &Command::LockSecuritySettings)
            .unwrap();
        let change = Command::RequestSecurityChange {
            setting: SecuritySetting::Email,
        };
        let r = book.apply(&c, t(1), passkey(), &change).unwrap();
        assert_eq!((r.outcome, r.effective_at), ("pending", Some(t(49))));
        let id = r.change_id.unwrap();
        let one = Command::ShortenDelay {
            change_id: id,
            approvers: vec!["a-1".into(), "a-1".into()],
        };
        assert_eq!(
            book.apply(&c, t(2), support.clone(), &one),
            Err(ProtectionError::NeedsTwoApprovers)
        );
        let two = Command::ShortenDelay {
            change_id: id,
            approvers: vec!["a-1".into(), "a-2".into()],
        };
        assert_eq!(
            book.apply(&c, t(2), support, &two).unwrap().outcome,
            "shortened"
        );
        assert_eq!(book.tick(&c, t(2)).len(), 1);
        // Unlocking waits too.
        let r = book
            .apply(&c, t(3), passkey(), &Command::UnlockSecuritySettings)
            .unwrap();
        assert_eq!(r.outcome, "pending");
        assert!(book.get(&c).unwrap().is_locked(t(50)));
        assert!(!book.get(&c).unwrap().is_locked(t(51)));
    }

    #[test]
    fn allow_list_time_locks_new_addresses() {
        let mut book = ProtectionBook::new(ProtectionConfig::default());
        let c = customer();
        let add = Command::AllowListAdd {
            destination: "bc1qxyz".into(),
        };
        assert_eq!(
            book.apply(&c, t(0), passkey(), &add),
            Err(ProtectionError::AllowListDisabled)
        );
        book.apply(&c, t(0), passkey(), &Command::EnableAllowList)
            .unwrap();
        book.apply(&c, t(0), passkey(), &add).unwrap();
        let status = |book: &ProtectionBook, dest: &str, at| {
            book.get(&c).unwrap().allow_list_status(dest, at)
        };
        assert_eq!(
            status(&book, "bc1qxyz", t(1)),
            AllowListStatus::Locked(t(24))
        );
        assert_eq!(status(&book, "bc1qxyz", t(24)), AllowListStatus::Allowed);
        assert_eq!(status(&book, "other", t(24)), AllowListStatus::NotListed);
        book.tick(&c, t(30));
        assert_eq!(status(&book, "bc1qxyz", t(30)), AllowListStatus::Allowed);
    }

    #[test]
    fn anti_phishing_code_is_stored_and_never_printed() {
        let mut book = ProtectionBook::new(ProtectionConfig::default());
        let c = customer();
        let set = |code: &str| Command::SetAntiPhishingCode { code: code.into() };
        assert_eq!(
            book.apply(&c, t(0), passkey(), &set("ab")),
            Err(ProtectionError::BadAntiPhishingCode)
        );
        book.apply(&c, t(0), passkey(), &set("Tulip42")).unwrap();
        let account = book.get(&c).unwrap();
        assert_eq!(account.anti_phishing_code(), Some("Tulip42"));
        assert!(!format!("{account:?}").contains("Tulip42"));
    }
}
