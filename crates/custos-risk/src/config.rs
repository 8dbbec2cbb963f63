//! Thresholds and limits of the risk engine, as the binary's configuration
//! file writes them (a `[risk]` table).

use crate::decision::{Factor, Outcome};
use crate::protection::ProtectionConfig;
use custos_core::event::CustomerActionKind;
use serde::Deserialize;
use std::path::PathBuf;

/// Every knob of [`crate::Engine`] and the `action_risk` detector.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// An MMDB file (GeoLite2 or DB-IP city/country, see
    /// `scripts/install-geoip.sh`). Without one, actions with no `geo` get
    /// `v1.geo_unknown`.
    pub geoip_path: Option<PathBuf>,
    /// A rules file replacing the embedded defaults (`rules/default.toml`).
    pub rules_path: Option<PathBuf>,
    /// A candidate rules file run in shadow mode beside the live rules:
    /// decisions stay the live ones, differences are counted and listed
    /// ([`crate::Engine::shadow_report`]).
    pub candidate_rules_path: Option<PathBuf>,
    /// Profiles kept; past this the least recently active are dropped.
    pub max_customers: usize,
    pub max_devices: usize,
    pub max_networks: usize,
    pub max_countries: usize,
    pub max_assets: usize,
    pub max_destinations: usize,
    /// Withdrawal amounts kept for the robust amount statistics.
    pub max_amounts: usize,
    /// Recent actions kept per customer for sequences.
    pub max_recent: usize,
    /// Actions in a profile before novelty (new device, network, asset,
    /// hour) counts: a customer's second phone is not news on day two.
    pub min_history_actions: u32,
    /// A device seen only on actions that were not allowed stays `new`
    /// for this long (an attacker cannot season a device by retrying).
    pub device_trust_hours: u32,
    /// Speed above which travel between two located actions is impossible.
    pub impossible_travel_kmh: f64,
    /// ... and only over at least this distance (GeoIP is coarse).
    pub impossible_travel_min_km: f64,
    /// Active-hour observations needed before `unusual_hour` can fire.
    pub unusual_hour_min_observations: u32,
    /// An hour (± one) holding at most this share of the history is unusual.
    pub unusual_hour_max_share: f64,
    /// Robust z (log scale, median/MAD) for `amount_outlier`.
    pub amount_outlier_z: f64,
    /// Amounts below this are never outliers.
    pub amount_outlier_min_usd: f64,
    /// Withdrawals in the history before `amount_outlier` can fire.
    pub amount_min_history: usize,
    /// A withdrawal of at least this share of the balance is a
    /// `large_withdrawal`.
    pub large_share: f64,
    /// Balances from this many USD make a `high_value_account`.
    pub high_value_usd: f64,
    /// A withdrawal of at least this share of the balance `drains_balance`.
    pub drain_share: f64,
    /// ... and of at least this many USD.
    pub drain_min_usd: f64,
    /// An address added less than this long ago is `destination_recent`.
    pub destination_recent_hours: u32,
    /// This many security changes within `security_velocity_hours` is fast.
    pub security_velocity_count: usize,
    pub security_velocity_hours: u32,
    /// Amounts above this are absurd (`amount_invalid`).
    pub max_amount_usd: f64,
    /// An action more than this ahead of the decision clock is skewed.
    pub clock_skew_future_secs: u32,
    /// ... or more than this behind it.
    pub clock_skew_past_secs: u32,
    /// Days the `scam_reported` mark lasts after a `scam_report`.
    pub scam_report_mark_days: u32,
    /// What to do when the input is invalid, per action.
    pub fail_policy: FailPolicy,
    /// Delays of account protection (unfreeze, lock, allow-list).
    pub protection: ProtectionConfig,
}

impl Default for RiskConfig {
    fn default() -> RiskConfig {
        RiskConfig {
            geoip_path: None,
            rules_path: None,
            candidate_rules_path: None,
            max_customers: 2_000_000,
            max_devices: 12,
            max_networks: 12,
            max_countries: 8,
            max_assets: 12,
            max_destinations: 24,
            max_amounts: 32,
            max_recent: 12,
            min_history_actions: 5,
            device_trust_hours: 24,
            impossible_travel_kmh: 900.0,
            impossible_travel_min_km: 500.0,
            unusual_hour_min_observations: 12,
            unusual_hour_max_share: 0.02,
            amount_outlier_z: 4.0,
            amount_outlier_min_usd: 1_000.0,
            amount_min_history: 3,
            large_share: 0.25,
            high_value_usd: 50_000.0,
            drain_share: 0.5,
            drain_min_usd: 100.0,
            destination_recent_hours: 24,
            security_velocity_count: 3,
            security_velocity_hours: 24,
            max_amount_usd: 1e12,
            clock_skew_future_secs: 300,
            clock_skew_past_secs: 6 * 3600,
            scam_report_mark_days: 30,
            fail_policy: FailPolicy::default(),
            protection: ProtectionConfig::default(),
        }
    }
}

/// Why a configuration is unusable; each names the field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RiskConfigError {
    #[error("`{field}` must be at least 1")]
    Zero { field: &'static str },
    #[error("`{field}` must be a finite number in {range}, got `{value}`")]
    OutOfRange {
        field: &'static str,
        range: &'static str,
        value: f64,
    },
    #[error("`fail_policy.{action}` must not be `allow`: withdrawals fail closed")]
    WithdrawalFailsOpen { action: &'static str },
}

impl RiskConfig {
    /// Checks limits and thresholds.
    pub fn validate(&self) -> Result<(), RiskConfigError> {
        let counts = [
            ("max_customers", self.max_customers),
            ("max_devices", self.max_devices),
            ("max_networks", self.max_networks),
            ("max_countries", self.max_countries),
            ("max_assets", self.max_assets),
            ("max_destinations", self.max_destinations),
            ("max_amounts", self.max_amounts),
            ("max_recent", self.max_recent),
            ("security_velocity_count", self.security_velocity_count),
        ];
        for (field, value) in counts {
            if value == 0 {
                return Err(RiskConfigError::Zero { field });
            }
        }
        let ranges = [
            (
                "impossible_travel_kmh",
                self.impossible_travel_kmh,
                1.0,
                1e6,
                "1..=1e6",
            ),
            (
                "impossible_travel_min_km",
                self.impossible_travel_min_km,
                0.0,
                20_100.0,
                "0..=20100",
            ),
            (
                "unusual_hour_max_share",
                self.unusual_hour_max_share,
                0.0,
                1.0,
                "0..=1",
            ),
            (
                "amount_outlier_z",
                self.amount_outlier_z,
                0.0,
                1e3,
                "0..=1000",
            ),
            (
                "amount_outlier_min_usd",
                self.amount_outlier_min_usd,
                0.0,
                1e12,
                "0..=1e12",
            ),
            ("drain_share", self.drain_share, 0.0, 1.0, "0..=1"),
            ("large_share", self.large_share, 0.0, 1.0, "0..=1"),
            ("high_value_usd", self.high_value_usd, 0.0, 1e15, "0..=1e15"),
            ("drain_min_usd", self.drain_min_usd, 0.0, 1e12, "0..=1e12"),
            ("max_amount_usd", self.max_amount_usd, 1.0, 1e15, "1..=1e15"),
        ];
        for (field, value, lo, hi, range) in ranges {
            if !value.is_finite() || value < lo || value > hi {
                return Err(RiskConfigError::OutOfRange {
                    field,
                    range,
                    value,
                });
            }
        }
        if self.fail_policy.withdrawal.outcome == Outcome::Allow {
            return Err(RiskConfigError::WithdrawalFailsOpen {
                action: "withdrawal",
            });
        }
        Ok(())
    }
}

/// The outcome when an action's input is invalid (`Invalid` signals).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailAction {
    pub outcome: Outcome,
    #[serde(default)]
    pub factor: Option<Factor>,
    #[serde(default)]
    pub hold_hours: Option<u32>,
}

impl FailAction {
    const fn new(outcome: Outcome, factor: Option<Factor>, hold_hours: Option<u32>) -> FailAction {
        FailAction {
            outcome,
            factor,
            hold_hours,
        }
    }
}

/// The fail policy per action: withdrawals fail closed, logins may fail
/// open (a customer locked out by a missing header is a support ticket, a
/// withdrawal let through is final).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FailPolicy {
    pub login: FailAction,
    pub withdrawal: FailAction,
    pub address_add: FailAction,
    pub api_key_create: FailAction,
    pub api_key_update: FailAction,
    pub api_key_delete: FailAction,
    pub security_change: FailAction,
    pub freeze: FailAction,
    pub unfreeze: FailAction,
}

impl Default for FailPolicy {
    fn default() -> FailPolicy {
        let hold = FailAction::new(Outcome::Hold, Some(Factor::Passkey), Some(24));
        FailPolicy {
            login: FailAction::new(Outcome::Allow, None, None),
            withdrawal: hold,
            address_add: FailAction::new(Outcome::StepUp, Some(Factor::Passkey), None),
            api_key_create: hold,
            api_key_update: hold,
            // Removing access is always safe.
            api_key_delete: FailAction::new(Outcome::Allow, None, None),
            security_change: hold,
            // Freezing must stay cheap and immediate, whatever the input.
            freeze: FailAction::new(Outcome::Allow, None, None),
            unfreeze: hold,
        }
    }
}

impl FailPolicy {
    pub fn for_action(&self, action: CustomerActionKind) -> FailAction {
        match action {
            CustomerActionKind::Login => self.login,
            CustomerActionKind::Withdrawal => self.withdrawal,
            CustomerActionKind::AddressAdd => self.address_add,
            CustomerActionKind::ApiKeyCreate => self.api_key_create,
            CustomerActionKind::ApiKeyUpdate => self.api_key_update,
            CustomerActionKind::ApiKeyDelete => self.api_key_delete,
            CustomerActionKind::SecurityChange => self.security_change,
            CustomerActionKind::Freeze => self.freeze,
            CustomerActionKind::Unfreeze => self.unfreeze,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_toml_overrides_parse() {
        RiskConfig::default().validate().unwrap();
        let c: RiskConfig = toml::from_str(
            r#"
            drain_share = 0.6
            [fail_policy.login]
            outcome = "step_up"
            factor = "totp"
            "#,
        )
        .unwrap();
        assert_eq!(c.drain_share, 0.6);
        assert_eq!(c.fail_policy.login.outcome, Outcome::StepUp);
        assert_eq!(c.fail_policy.withdrawal.outcome, Outcome::Hold);
    }

    #[test]
    fn bad_configs_are_named() {
        let check = |text: &str, expect: &str| {
            let result = toml::from_str::<RiskConfig>(text)
                .map_err(|e| e.to_string())
                .and_then(|c| c.validate().map_err(|e| e.to_string()));
            let message = result.err().unwrap_or_default();
            assert!(message.contains(expect), "{text}: {message}");
        };
        check("drain_share = 2.0", "`drain_share`");
        check("max_devices = 0", "`max_devices`");
        check("nonsense = 1", "unknown field");
        check(
            "[fail_policy.withdrawal]\noutcome = \"allow\"",
            "fail closed",
        );
    }
}
