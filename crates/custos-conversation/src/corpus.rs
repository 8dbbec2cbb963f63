//! The labelled corpus format (JSON lines) and its reader.

use serde::{Deserialize, Serialize};
use std::io::BufRead;

/// One labelled message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Example {
    pub id: String,
    pub text: String,
    /// `en`, `es`, `pt`, `tr`, `vi`, `ru`, `zh`, `id` (or `other`).
    pub lang: String,
    /// `scam` or `benign`.
    pub label: String,
    /// Inducement codes (taxonomy), empty for benign lines.
    #[serde(default)]
    pub codes: Vec<String>,
    /// `customer`, `agent` or `unknown`.
    #[serde(default = "unknown")]
    pub sender_role: String,
    /// `inbound` or `outbound`.
    #[serde(default = "inbound")]
    pub direction: String,
    #[serde(default)]
    pub channel: String,
    /// Template or paraphrase family; held-out splits hold out whole families.
    #[serde(default)]
    pub family: String,
    /// `train` or `test` (held out).
    #[serde(default = "train")]
    pub split: String,
}

fn unknown() -> String {
    "unknown".to_owned()
}
fn inbound() -> String {
    "inbound".to_owned()
}
fn train() -> String {
    "train".to_owned()
}

impl Example {
    pub fn is_scam(&self) -> bool {
        self.label == "scam"
    }
    pub fn is_held_out(&self) -> bool {
        self.split == "test"
    }
    pub fn speaker(&self) -> crate::model::Speaker {
        crate::model::Speaker {
            agent: self.sender_role == "agent",
            outbound: self.direction == "outbound",
        }
    }
}

/// Why a corpus could not be read.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("reading the corpus: {0}")]
    Io(#[from] std::io::Error),
    #[error("line {line}: {reason}")]
    Line { line: usize, reason: String },
    #[error("label `{label}` on line {line} is neither `scam` nor `benign`")]
    Label { line: usize, label: String },
}

/// Reads a JSON-lines corpus; blank lines and `#` comments are skipped.
pub fn read_corpus(reader: impl BufRead) -> Result<Vec<Example>, CorpusError> {
    let mut out = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line?;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let example: Example = serde_json::from_str(trimmed).map_err(|e| CorpusError::Line {
            line: i + 1,
            reason: e.to_string(),
        })?;
        if example.label != "scam" && example.label != "benign" {
            return Err(CorpusError::Label {
                line: i + 1,
                label: example.label,
            });
        }
        out.push(example);
    }
    Ok(out)
}

/// The committed corpus files, compiled in for tests and the eval example.
pub static GENERATED: &str = include_str!("../corpus/generated.jsonl");
pub static HANDWRITTEN: &str = include_str!("../corpus/handwritten.jsonl");

/// The committed corpus (generated + hand-written).
pub fn committed_corpus() -> Result<Vec<Example>, CorpusError> {
    let mut all = read_corpus(GENERATED.as_bytes())?;
    all.extend(read_corpus(HANDWRITTEN.as_bytes())?);
    Ok(all)
}
