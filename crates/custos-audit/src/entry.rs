//! Audit entries and their leaf encoding: domain prefix + canonical JSON.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{CanonicalJsonError, write_string, write_unsigned, write_value};

/// Prefix of every leaf: binds leaf bytes to this log format and version,
/// so the same JSON signed or hashed elsewhere cannot be replayed as a leaf.
pub const LEAF_DOMAIN: &[u8] = b"custos-audit/v1\n";

/// One audited action. Carries a keyed commitment to the subject (see
/// `custos-vault`), never raw PII, so erasing a customer's key leaves the
/// log verifiable but unlinkable to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditEntry {
    /// What happened: `access_decision`, `reveal`, `grant`, `alert`, ...
    pub kind: String,
    /// When, as RFC 3339 UTC text from the caller's clock or event time.
    pub ts: String,
    /// Who acted: an agent, analyst or service id.
    pub actor: String,
    /// Lowercase hex keyed commitment to the subject.
    pub subject_commitment: String,
    /// Kind-specific details within the canonical JSON subset.
    pub details: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error("`subject_commitment` must be lowercase hex, got `{0}`")]
    CommitmentNotHex(String),
    #[error("field `{0}` must not be empty")]
    EmptyField(&'static str),
    #[error("entry is not canonicalizable: {0}")]
    Canonical(#[from] CanonicalJsonError),
    #[error("leaf does not start with the `custos-audit/v1` domain prefix")]
    MissingDomain,
    #[error("leaf is not a valid entry: {0}")]
    Malformed(String),
}

/// A leaf as read back: the index it claims and its entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedLeaf {
    pub index: u64,
    pub entry: AuditEntry,
}

impl AuditEntry {
    fn validate(&self) -> Result<(), EntryError> {
        for (name, value) in [
            ("kind", &self.kind),
            ("ts", &self.ts),
            ("actor", &self.actor),
        ] {
            if value.is_empty() {
                return Err(EntryError::EmptyField(name));
            }
        }
        let commitment = &self.subject_commitment;
        if !commitment
            .bytes()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(EntryError::CommitmentNotHex(commitment.clone()));
        }
        Ok(())
    }

    /// Leaf bytes for this entry stored at `index`: `LEAF_DOMAIN` followed by
    /// the canonical JSON of the entry's fields plus `index`. The index makes
    /// a reordered or shifted row detectable on its own.
    pub fn to_leaf(&self, index: u64) -> Result<Vec<u8>, EntryError> {
        self.validate()?;
        // Written field by field, keys already in JCS order (all ASCII):
        // the same bytes `to_canonical_json` gives for the whole object, as
        // the unit tests check, without building an intermediate map.
        let mut json = String::with_capacity(192);
        json.push_str("{\"actor\":");
        write_string(&self.actor, &mut json);
        json.push_str(",\"details\":");
        write_value(&self.details, &mut json)?;
        json.push_str(",\"index\":");
        write_unsigned(index, &mut json)?;
        json.push_str(",\"kind\":");
        write_string(&self.kind, &mut json);
        json.push_str(",\"subject_commitment\":");
        write_string(&self.subject_commitment, &mut json);
        json.push_str(",\"ts\":");
        write_string(&self.ts, &mut json);
        json.push('}');
        let mut leaf = Vec::with_capacity(LEAF_DOMAIN.len() + json.len());
        leaf.extend_from_slice(LEAF_DOMAIN);
        leaf.extend_from_slice(json.as_bytes());
        Ok(leaf)
    }
}

/// Parses leaf bytes back into the index they claim and the entry; refuses
/// bytes that are not exactly the canonical encoding.
pub fn decode_leaf(leaf: &[u8]) -> Result<DecodedLeaf, EntryError> {
    let json = leaf
        .strip_prefix(LEAF_DOMAIN)
        .ok_or(EntryError::MissingDomain)?;
    let mut object: Map<String, Value> =
        serde_json::from_slice(json).map_err(|error| EntryError::Malformed(error.to_string()))?;
    let index = object
        .remove("index")
        .and_then(|value| value.as_u64())
        .ok_or_else(|| EntryError::Malformed("missing integer `index`".into()))?;
    let entry: AuditEntry = serde_json::from_value(Value::Object(object))
        .map_err(|error| EntryError::Malformed(error.to_string()))?;
    if entry.to_leaf(index)? != leaf {
        return Err(EntryError::Malformed(
            "leaf is not in canonical form".into(),
        ));
    }
    Ok(DecodedLeaf { index, entry })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry() -> AuditEntry {
        AuditEntry {
            kind: "reveal".into(),
            ts: "2026-01-02T03:04:05Z".into(),
            actor: "agent-7".into(),
            subject_commitment: "00ff".into(),
            details: json!({"field": "phone", "ticket": "t-1"}),
        }
    }

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn leaf_is_domain_prefix_plus_canonical_json() -> TestResult {
        let leaf = entry().to_leaf(42)?;
        assert_eq!(
            String::from_utf8(leaf)?,
            "custos-audit/v1\n{\"actor\":\"agent-7\",\"details\":{\"field\":\"phone\",\"ticket\":\"t-1\"},\
             \"index\":42,\"kind\":\"reveal\",\"subject_commitment\":\"00ff\",\"ts\":\"2026-01-02T03:04:05Z\"}"
        );
        Ok(())
    }

    #[test]
    fn leaf_round_trips_and_rejects_non_canonical_bytes() -> TestResult {
        let leaf = entry().to_leaf(3)?;
        assert_eq!(
            decode_leaf(&leaf),
            Ok(DecodedLeaf {
                index: 3,
                entry: entry()
            })
        );
        let mut spaced = LEAF_DOMAIN.to_vec();
        spaced.extend_from_slice(
            br#"{"actor": "agent-7","details":{"field":"phone","ticket":"t-1"},"index":3,"kind":"reveal","subject_commitment":"00ff","ts":"2026-01-02T03:04:05Z"}"#,
        );
        assert!(matches!(
            decode_leaf(&spaced),
            Err(EntryError::Malformed(_))
        ));
        assert_eq!(decode_leaf(b"{}"), Err(EntryError::MissingDomain));
        Ok(())
    }

    #[test]
    fn leaf_matches_canonical_json_of_the_whole_object() -> TestResult {
        let mut tricky = entry();
        tricky.actor = "a\"\u{1}é\u{1f600}".into();
        tricky.details = json!({"\u{e000}": [1, -2, null], "\u{1f600}": {"b": false, "a": "\n"}});
        let whole = json!({
            "kind": tricky.kind, "ts": tricky.ts, "actor": tricky.actor,
            "subject_commitment": tricky.subject_commitment, "details": tricky.details,
            "index": 9_007_199_254_740_991u64,
        });
        let mut expected = LEAF_DOMAIN.to_vec();
        expected.extend_from_slice(crate::canonical::to_canonical_json(&whole)?.as_bytes());
        assert_eq!(tricky.to_leaf(9_007_199_254_740_991)?, expected);
        assert!(matches!(
            tricky.to_leaf(1 << 53),
            Err(EntryError::Canonical(_))
        ));
        Ok(())
    }

    #[test]
    fn invalid_entries_are_refused() {
        let mut bad = entry();
        bad.subject_commitment = "00FF".into();
        assert_eq!(
            bad.to_leaf(0),
            Err(EntryError::CommitmentNotHex("00FF".into()))
        );
        let mut bad = entry();
        bad.actor.clear();
        assert_eq!(bad.to_leaf(0), Err(EntryError::EmptyField("actor")));
        let mut bad = entry();
        bad.details = json!({"ratio": 0.5});
        assert!(matches!(bad.to_leaf(0), Err(EntryError::Canonical(_))));
    }
}
