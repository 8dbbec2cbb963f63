//! The `[conversation]` configuration: thresholds, mark duration, memory.

use serde::{Deserialize, Serialize};

/// Configuration of the conversation guard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConversationConfig {
    /// Score at or above which a message (or conversation) is `suspicious`.
    pub suspicious_threshold: f32,
    /// Score at or above which it is a `scam`: alert, intercept, mark.
    pub scam_threshold: f32,
    /// How long the customer stays marked `scam_conversation`, in hours.
    pub mark_hours: u32,
    /// Conversations kept in memory at most (least recently active evicted).
    pub max_conversations: usize,
    /// A conversation idle this long (event time) is forgotten, in hours.
    pub conversation_idle_hours: u32,
    /// Alert on an official agent who asks a customer for a credential.
    pub insider_alerts: bool,
    /// `custos scan`: score message events in the light of the earlier
    /// messages of their conversation (a line's score never drops below its
    /// own). Off: every line alone.
    pub scan_uses_conversation_state: bool,
}

impl Default for ConversationConfig {
    fn default() -> ConversationConfig {
        ConversationConfig {
            suspicious_threshold: 0.5,
            scam_threshold: 0.8,
            mark_hours: 72,
            max_conversations: 100_000,
            conversation_idle_hours: 24,
            insider_alerts: true,
            scan_uses_conversation_state: true,
        }
    }
}

/// A configuration value out of range.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ConfigError {
    #[error(
        "`suspicious_threshold` and `scam_threshold` must satisfy 0 < suspicious <= scam <= 1 (got {suspicious} and {scam})"
    )]
    Thresholds { suspicious: f32, scam: f32 },
    #[error("`{field}` must be at least 1")]
    Zero { field: &'static str },
}

impl ConversationConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let (s, c) = (self.suspicious_threshold, self.scam_threshold);
        if !(s > 0.0 && s <= c && c <= 1.0) {
            return Err(ConfigError::Thresholds {
                suspicious: s,
                scam: c,
            });
        }
        for (field, value) in [
            ("mark_hours", self.mark_hours as usize),
            ("max_conversations", self.max_conversations),
            (
                "conversation_idle_hours",
                self.conversation_idle_hours as usize,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero { field });
            }
        }
        Ok(())
    }

    /// The verdict for a score.
    pub fn verdict(&self, score: f32) -> Verdict {
        if score >= self.scam_threshold {
            Verdict::Scam
        } else if score >= self.suspicious_threshold {
            Verdict::Suspicious
        } else {
            Verdict::Benign
        }
    }
}

/// What `scan` says about a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Benign,
    Suspicious,
    Scam,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Benign => "benign",
            Verdict::Suspicious => "suspicious",
            Verdict::Scam => "scam",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_unknown_fields_are_refused() {
        ConversationConfig::default().validate().unwrap();
        let bad: Result<ConversationConfig, _> = serde_json::from_str(r#"{"mark_hour":3}"#);
        assert!(bad.is_err());
        let cfg: ConversationConfig = serde_json::from_str(r#"{"mark_hours":12}"#).unwrap();
        assert_eq!(cfg.mark_hours, 12);
        let cfg = ConversationConfig {
            scam_threshold: 0.2,
            ..ConversationConfig::default()
        };
        assert!(cfg.validate().is_err());
    }
}
