//! `custos scan`: score message lines one by one, one output line per
//! scored input line, in input order.
//!
//! Input lines are contract `message` events or bare `{"id":..,"text":..}`
//! objects. Output: `{"id":..,"score":..,"verdict":..,"reasons":[..]}`.
//! A line that cannot be scored (malformed JSON, a bad event, an event of
//! another type) writes no output line; it is reported in the
//! [`ScanSummary`] with its 1-based line number and a reason, and the lines
//! after it are still scored. Ids: the line's `id`, else its line number.
//!
//! With `scan_uses_conversation_state` (the default), a message event is
//! scored in the light of the earlier lines of its `conversation_id` (its
//! score never drops below its own); bare lines are always scored alone.

use crate::config::{ConversationConfig, Verdict};
use crate::guard::Guard;
use crate::model::Speaker;
use crate::state::{Incoming, Sender, Tracker};
use custos_core::event::{Direction, SenderRole};
use custos_core::id::EventId;
use custos_core::parse::parse_event;
use custos_core::{EventBody, EventTime};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Write};

/// The longest line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// One line that produced no output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanRejection {
    /// 1-based line number.
    pub line: u64,
    pub reason: String,
}

/// What a scan did, for standard error.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Non-blank lines read.
    pub lines: u64,
    pub scored: u64,
    pub benign: u64,
    pub suspicious: u64,
    pub scam: u64,
    pub rejected: Vec<ScanRejection>,
}

impl std::fmt::Display for ScanSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scan: {} lines, {} scored ({} scam, {} suspicious, {} benign), {} rejected",
            self.lines,
            self.scored,
            self.scam,
            self.suspicious,
            self.benign,
            self.rejected.len()
        )?;
        for r in &self.rejected {
            write!(f, "\nline {}: {}", r.line, r.reason)?;
        }
        Ok(())
    }
}

/// Why a scan stopped (only IO ends a scan; bad lines do not).
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("reading input: {0}")]
    Read(std::io::Error),
    #[error("writing output: {0}")]
    Write(std::io::Error),
}

/// One output line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScanLine {
    pub id: String,
    pub score: f64,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
}

#[derive(Deserialize)]
struct Bare<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    id: Option<BareId>,
    #[serde(default, borrow)]
    text: Option<std::borrow::Cow<'a, str>>,
}

/// A bare line's `id`: a string, or (leniently) a number, written back as
/// its decimal text.
#[derive(Deserialize)]
#[serde(untagged)]
enum BareId {
    Text(String),
    Integer(i64),
}

impl BareId {
    fn into_string(self) -> String {
        match self {
            BareId::Text(text) => text,
            BareId::Integer(n) => n.to_string(),
        }
    }
}

/// A stateful scorer for `scan`, usable line by line (the HTTP endpoint
/// can hold one per request or per stream).
pub struct Scanner<'g> {
    guard: &'g Guard,
    config: ConversationConfig,
    tracker: Tracker,
}

impl<'g> Scanner<'g> {
    pub fn new(guard: &'g Guard, config: ConversationConfig) -> Scanner<'g> {
        Scanner {
            tracker: Tracker::new(&config),
            guard,
            config,
        }
    }

    /// Scores one line (`number` is 1-based): `Err(reason)` when it cannot
    /// be scored.
    pub fn scan_line(&mut self, line: &str, number: u64) -> Result<ScanLine, String> {
        let bare: Bare<'_> = serde_json::from_str(line).map_err(|e| {
            let text = e.to_string();
            match text.rfind(" at line ") {
                Some(at) => format!("malformed JSON: {}", &text[..at]),
                None => format!("malformed JSON: {text}"),
            }
        })?;
        if bare.kind.is_none() {
            let text = bare.text.ok_or_else(|| {
                "neither a `message` event nor an object with a `text` string".to_owned()
            })?;
            let id = bare
                .id
                .map_or_else(|| number.to_string(), BareId::into_string);
            let message =
                self.guard
                    .score(&text, Speaker::default(), self.config.suspicious_threshold);
            let score = message.score;
            return Ok(self.line(id, score, message.reasons(), Vec::new()));
        }
        let event = parse_event(line, || number.to_string()).map_err(|r| r.reason)?;
        let EventBody::Message(message) = &event.body else {
            return Err(format!(
                "`{}` event: only `message` events are scanned",
                event.body.type_name()
            ));
        };
        let sender = match message.sender_role {
            Some(SenderRole::Agent) => Sender::Agent,
            Some(SenderRole::Customer) => Sender::Customer,
            _ => Sender::Unknown,
        };
        let outbound = message.direction == Some(Direction::Outbound);
        if !self.config.scan_uses_conversation_state {
            let speaker = Speaker {
                agent: sender == Sender::Agent,
                outbound,
            };
            let scored = self
                .guard
                .score(&message.text, speaker, self.config.suspicious_threshold);
            return Ok(self.line(
                event.id.to_string(),
                scored.score,
                scored.reasons(),
                Vec::new(),
            ));
        }
        let incoming = Incoming {
            conversation: message.conversation_id.as_str(),
            event: &event.id,
            ts: event.ts,
            sender,
            outbound,
            text: &message.text,
        };
        let assessment = self.tracker.observe(self.guard, &self.config, &incoming);
        self.tracker.expire(event.ts.max(EventTime::MIN));
        let mut context = Vec::new();
        if assessment.risk > assessment.message.score {
            if let Some(state) = self.tracker.get(message.conversation_id.as_str()) {
                for e in state.evidence.iter().filter(|e| e.event != event.id) {
                    context.push(format!(
                        "conversation: {} (message {})",
                        e.code.as_str(),
                        e.event
                    ));
                }
                if assessment.compliance_after_inducement {
                    context.push("conversation: compliance after an inducement".to_owned());
                }
            }
        }
        Ok(self.line(
            event.id.to_string(),
            assessment.risk,
            assessment.message.reasons(),
            context,
        ))
    }

    fn line(
        &self,
        id: String,
        score: f32,
        mut reasons: Vec<String>,
        context: Vec<String>,
    ) -> ScanLine {
        reasons.extend(context);
        let verdict = self.config.verdict(score);
        if verdict == Verdict::Benign {
            reasons.retain(|r| !r.starts_with("classifier"));
        }
        ScanLine {
            id,
            score: (f64::from(score) * 1000.0).round() / 1000.0,
            verdict,
            reasons,
        }
    }
}

/// Reads lines from `input`, writes one JSON line per scored line to `out`.
pub fn scan_reader(
    mut input: impl BufRead,
    mut out: impl Write,
    guard: &Guard,
    config: &ConversationConfig,
) -> Result<ScanSummary, ScanError> {
    let mut scanner = Scanner::new(guard, config.clone());
    let mut summary = ScanSummary::default();
    let mut buf = Vec::with_capacity(1024);
    let mut number = 0u64;
    let mut json = Vec::with_capacity(256);
    loop {
        buf.clear();
        let read = input.read_until(b'\n', &mut buf).map_err(ScanError::Read)?;
        if read == 0 {
            break;
        }
        number += 1;
        let bytes = buf.trim_ascii();
        if bytes.is_empty() {
            continue;
        }
        summary.lines += 1;
        let result = if bytes.len() > MAX_LINE_BYTES {
            Err(format!("longer than the limit of {MAX_LINE_BYTES} bytes"))
        } else {
            match std::str::from_utf8(bytes) {
                Ok(text) => scanner.scan_line(text, number),
                Err(e) => Err(format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1)),
            }
        };
        match result {
            Ok(line) => {
                summary.scored += 1;
                match line.verdict {
                    Verdict::Benign => summary.benign += 1,
                    Verdict::Suspicious => summary.suspicious += 1,
                    Verdict::Scam => summary.scam += 1,
                }
                json.clear();
                // INVARIANT: strings and finite floats always serialise.
                if serde_json::to_writer(&mut json, &line).is_ok() {
                    json.push(b'\n');
                    out.write_all(&json).map_err(ScanError::Write)?;
                }
            }
            Err(reason) => summary.rejected.push(ScanRejection {
                line: number,
                reason,
            }),
        }
    }
    out.flush().map_err(ScanError::Write)?;
    Ok(summary)
}

/// Parses an id string (for callers building events by hand).
pub fn event_id(text: &str) -> Option<EventId> {
    EventId::parse(text).ok()
}
