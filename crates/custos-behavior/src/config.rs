//! Thresholds of the behavior detectors, as the binary's configuration file
//! writes them (a `[behavior]` table).

use serde::Deserialize;

/// Every threshold of [`crate::AgentBehavior`] and [`crate::LeakAttribution`].
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BehaviorConfig {
    /// An access whose suspicion weight reaches this counts as suspicious
    /// (an off-ticket lookup of name and email alone weighs 1.0).
    pub suspicious_weight: f64,
    /// Excess suspicion (over the agent's norm) for a `medium` alert.
    pub medium_score: f64,
    /// Excess suspicion for `high` (countermeasures start here).
    pub high_score: f64,
    /// Excess suspicion for `critical`.
    pub critical_score: f64,
    /// Suspicious accesses within one hour that make an alert `critical`
    /// at once (bulk harvesting).
    pub burst_per_hour: u32,
    /// Suspicion halves over this many hours of event time.
    pub half_life_hours: f64,
    /// Minutes before or after the shift still counted as on shift.
    pub shift_grace_minutes: u32,
    /// A customer at or above this balance counts as high-value.
    pub high_value_balance_usd: f64,
    /// Days of an agent's own history before their own baseline fully
    /// replaces the peer baseline (new hires start from their peers).
    pub own_baseline_days: u32,
    /// Once flagged, re-alert at the same severity at most every this many
    /// of the agent's accesses, and only with new evidence.
    pub realert_every: u32,
    /// Days a `read_by_suspect_agent` mark on a customer lasts.
    pub mark_days: u32,
    /// Decoy customer ids: any access without a ticket is critical at once.
    pub canary_customers: Vec<String>,
    /// Contacts (phone numbers, emails) planted in decoy records, each with
    /// its decoy's customer id: a scam report whose `contact` or text names
    /// one pins the leak to the agents who read that decoy. Matching ignores
    /// case, spaces and punctuation.
    pub canary_contacts: std::collections::BTreeMap<String, String>,
    /// Days before a scam report in which a victim's accesses count.
    pub attribution_window_days: u32,
    /// Reporting victims needed before attribution alerts.
    pub attribution_min_victims: u32,
    /// Benjamini–Hochberg false discovery rate at which the top agent is
    /// significant: a `high` alert (`critical` at a hundredth of it) with
    /// countermeasures.
    pub attribution_fdr: f64,
    /// Below significance, a `low` alert still carries the ranking when the
    /// top agent's own p-value is at most this (a lead for an analyst; no
    /// countermeasure).
    pub attribution_candidate_p: f64,
    /// Agents remembered per customer (the most recent).
    pub attribution_agents_per_customer: usize,
    /// Rows in an attribution alert's `ranking`.
    pub attribution_ranking_size: usize,
}

impl Default for BehaviorConfig {
    fn default() -> BehaviorConfig {
        BehaviorConfig {
            suspicious_weight: 1.5,
            medium_score: 3.0,
            high_score: 5.0,
            critical_score: 15.0,
            burst_per_hour: 20,
            half_life_hours: 48.0,
            shift_grace_minutes: 90,
            high_value_balance_usd: 50_000.0,
            own_baseline_days: 10,
            realert_every: 50,
            mark_days: 30,
            canary_customers: Vec::new(),
            canary_contacts: std::collections::BTreeMap::new(),
            attribution_window_days: 30,
            attribution_min_victims: 3,
            attribution_fdr: 0.05,
            attribution_candidate_p: 0.05,
            attribution_agents_per_customer: 12,
            attribution_ranking_size: 5,
        }
    }
}

/// Why a [`BehaviorConfig`] cannot be used.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BehaviorConfigError {
    #[error("`{field}` must be {rule}, got `{value}`")]
    OutOfRange {
        field: &'static str,
        rule: &'static str,
        value: String,
    },
    #[error("thresholds must rise: `medium_score` <= `high_score` <= `critical_score`")]
    ThresholdsOutOfOrder,
}

/// Longest attribution window the per-day rings cover.
pub const MAX_ATTRIBUTION_WINDOW_DAYS: u32 = 64;

impl BehaviorConfig {
    /// Checks every field; the binary calls it after parsing.
    pub fn validate(&self) -> Result<(), BehaviorConfigError> {
        let positive = [
            ("suspicious_weight", self.suspicious_weight),
            ("medium_score", self.medium_score),
            ("high_score", self.high_score),
            ("critical_score", self.critical_score),
            ("half_life_hours", self.half_life_hours),
            ("high_value_balance_usd", self.high_value_balance_usd),
        ];
        for (field, value) in positive {
            if !(value.is_finite() && value > 0.0) {
                return Err(out_of_range(field, "a positive number", value));
            }
        }
        if !(self.medium_score <= self.high_score && self.high_score <= self.critical_score) {
            return Err(BehaviorConfigError::ThresholdsOutOfOrder);
        }
        for (field, value) in [
            ("attribution_fdr", self.attribution_fdr),
            ("attribution_candidate_p", self.attribution_candidate_p),
        ] {
            if !(value > 0.0 && value <= 1.0) {
                return Err(out_of_range(field, "in (0, 1]", value));
            }
        }
        if self.shift_grace_minutes > 720 {
            return Err(out_of_range(
                "shift_grace_minutes",
                "at most 720",
                self.shift_grace_minutes,
            ));
        }
        if self.attribution_window_days == 0
            || self.attribution_window_days > MAX_ATTRIBUTION_WINDOW_DAYS
        {
            return Err(out_of_range(
                "attribution_window_days",
                "between 1 and 64",
                self.attribution_window_days,
            ));
        }
        for (field, value) in [
            ("burst_per_hour", self.burst_per_hour as usize),
            ("realert_every", self.realert_every as usize),
            ("mark_days", self.mark_days as usize),
            (
                "attribution_min_victims",
                self.attribution_min_victims as usize,
            ),
            (
                "attribution_agents_per_customer",
                self.attribution_agents_per_customer,
            ),
            ("attribution_ranking_size", self.attribution_ranking_size),
        ] {
            if value == 0 {
                return Err(out_of_range(field, "at least 1", value));
            }
        }
        Ok(())
    }
}

fn out_of_range(
    field: &'static str,
    rule: &'static str,
    value: impl ToString,
) -> BehaviorConfigError {
    BehaviorConfigError::OutOfRange {
        field,
        rule,
        value: value.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_field() {
        assert_eq!(BehaviorConfig::default().validate(), Ok(()));
        let cases: &[(&str, &str)] = &[
            (
                r#"{"high_score": -1}"#,
                "`high_score` must be a positive number, got `-1`",
            ),
            (r#"{"medium_score": 9}"#, "thresholds must rise"),
            (
                r#"{"attribution_fdr": 0}"#,
                "`attribution_fdr` must be in (0, 1], got `0`",
            ),
            (
                r#"{"attribution_window_days": 90}"#,
                "`attribution_window_days` must be between 1 and 64, got `90`",
            ),
            (
                r#"{"realert_every": 0}"#,
                "`realert_every` must be at least 1, got `0`",
            ),
        ];
        for (json, message) in cases {
            let config: BehaviorConfig = serde_json::from_str(json).unwrap();
            let error = config.validate().unwrap_err().to_string();
            assert!(error.starts_with(message), "{json}: {error}");
        }
    }

    #[test]
    fn defaults_fill_what_the_file_leaves_out_and_typos_are_rejected() {
        let c: BehaviorConfig =
            serde_json::from_str(r#"{"high_score": 7.5, "canary_customers": ["c-1"]}"#).unwrap();
        assert_eq!(c.high_score, 7.5);
        assert_eq!(c.canary_customers, ["c-1"]);
        assert_eq!(c.medium_score, BehaviorConfig::default().medium_score);
        let typo = serde_json::from_str::<BehaviorConfig>(r#"{"hgh_score": 1}"#);
        assert!(typo.unwrap_err().to_string().contains("unknown field"));
    }
}
