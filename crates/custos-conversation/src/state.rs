//! Conversation state: risk that builds across the messages of a
//! conversation, in bounded memory (least-recently-active eviction and
//! idle expiry, both in event time).
//!
//! Per conversation we keep, per inducement code, the strongest evidence
//! (message score and id), the most telling flagged messages, and whether
//! the customer complied (read out a code, installed the tool...). The
//! conversation's risk is the highest of: any inbound message's own score;
//! an action inducement (credential, API key, safe wallet, remote access,
//! fee, link, P2P, bribery) next to a context code (impersonation, urgency,
//! other app) anywhere in the conversation — "impersonation + credential
//! request = scam" even when each message alone is mild; and a compliance
//! after an inducement.

use crate::config::{ConversationConfig, Verdict};
use crate::guard::{Guard, MessageScore};
use crate::model::Speaker;
use crate::taxonomy::Code;
use custos_core::EventTime;
use custos_core::id::EventId;
use custos_core::time::Span;
use std::collections::{BTreeMap, HashMap};

/// Flagged messages kept per conversation (the alert's evidence).
const MAX_FLAGGED: usize = 16;

/// The strongest evidence of one code in a conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct CodeEvidence {
    pub code: Code,
    /// Score of the message it fired in (0..1).
    pub strength: f32,
    pub event: EventId,
    pub terms: Vec<String>,
}

/// What is remembered of one conversation.
#[derive(Clone, Debug, Default)]
pub struct ConversationState {
    pub last_seen: Option<EventTime>,
    lru_key: (i64, u64),
    pub evidence: Vec<CodeEvidence>,
    /// (score, message id), highest first.
    pub flagged: Vec<(f32, EventId)>,
    pub max_message_score: f32,
    pub compliance: Option<EventId>,
    pub risk: f32,
    /// Highest level already alerted: 0 none, 1 scam, 2 scam with compliance.
    pub alerted_level: u8,
    pub insider_alerted: bool,
}

/// Who wrote a message, in the contract's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    Customer,
    Agent,
    Unknown,
}

/// One message as the tracker needs it.
#[derive(Clone, Copy, Debug)]
pub struct Incoming<'a> {
    pub conversation: &'a str,
    pub event: &'a EventId,
    pub ts: EventTime,
    pub sender: Sender,
    /// `direction: outbound`: the customer's own words.
    pub outbound: bool,
    pub text: &'a str,
}

/// The assessment of one message in its conversation.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    pub message: MessageScore,
    /// The conversation's risk after this message (>= the message's own
    /// score for inbound messages).
    pub risk: f32,
    pub verdict: Verdict,
    /// The customer complied after an inducement (raise severity).
    pub compliance_after_inducement: bool,
    /// An official agent asked for a credential in this message.
    pub insider_request: bool,
}

/// Conversation memory.
pub struct Tracker {
    conversations: HashMap<String, ConversationState>,
    by_activity: BTreeMap<(i64, u64), String>,
    sequence: u64,
    max_conversations: usize,
    idle: Span,
}

impl Tracker {
    pub fn new(config: &ConversationConfig) -> Tracker {
        Tracker {
            conversations: HashMap::new(),
            by_activity: BTreeMap::new(),
            sequence: 0,
            max_conversations: config.max_conversations.max(1),
            idle: Span::from_hours(i64::from(config.conversation_idle_hours.max(1))),
        }
    }

    pub fn len(&self) -> usize {
        self.conversations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
    }

    pub fn get(&self, conversation: &str) -> Option<&ConversationState> {
        self.conversations.get(conversation)
    }

    pub fn get_mut(&mut self, conversation: &str) -> Option<&mut ConversationState> {
        self.conversations.get_mut(conversation)
    }

    /// Forgets conversations idle since before `now - idle`.
    pub fn expire(&mut self, now: EventTime) {
        let cutoff = now.saturating_sub(self.idle).as_micros();
        while let Some((&key, _)) = self.by_activity.first_key_value() {
            if key.0 >= cutoff {
                break;
            }
            if let Some(id) = self.by_activity.remove(&key) {
                self.conversations.remove(&id);
            }
        }
    }

    /// Scores a message in its conversation and updates the conversation.
    pub fn observe(
        &mut self,
        guard: &Guard,
        config: &ConversationConfig,
        incoming: &Incoming<'_>,
    ) -> Assessment {
        let Incoming {
            conversation,
            event,
            ts,
            sender,
            outbound,
            text,
        } = *incoming;
        let speaker = Speaker {
            agent: sender == Sender::Agent,
            outbound,
        };
        let message = guard.score(text, speaker, config.suspicious_threshold);
        if !self.conversations.contains_key(conversation)
            && self.conversations.len() >= self.max_conversations
        {
            if let Some((_, oldest)) = self.by_activity.pop_first() {
                self.conversations.remove(&oldest);
            }
        }
        self.sequence += 1;
        let key = (ts.as_micros(), self.sequence);
        let state = self
            .conversations
            .entry(conversation.to_owned())
            .or_default();
        if state.last_seen.is_some() {
            self.by_activity.remove(&state.lru_key);
        }
        // Late events keep the conversation's latest time.
        let latest = state.last_seen.map_or(ts, |t| t.max(ts));
        state.last_seen = Some(latest);
        state.lru_key = (latest.as_micros(), key.1);
        self.by_activity
            .insert(state.lru_key, conversation.to_owned());

        let insider_request = sender == Sender::Agent
            && !outbound
            && message.score >= config.suspicious_threshold
            && message.codes().any(Code::is_credential_request);
        let mut compliance_after_inducement = false;
        if outbound {
            if message.codes().any(|c| c == Code::Compliance) {
                let induced = state
                    .evidence
                    .iter()
                    .any(|e| !e.code.is_context() && e.code != Code::Compliance);
                if induced {
                    compliance_after_inducement = true;
                    state.compliance.get_or_insert_with(|| event.clone());
                    push_flagged(state, state.risk.max(message.score), event);
                }
            }
        } else {
            for hit in message.hits.iter().filter(|h| !h.negated) {
                // An official agent naming their own team is not impersonation.
                if sender == Sender::Agent && hit.code.is_context() {
                    continue;
                }
                let strength = message.score;
                match state.evidence.iter_mut().find(|e| e.code == hit.code) {
                    Some(e) if e.strength >= strength => {}
                    Some(e) => {
                        e.strength = strength;
                        e.event = event.clone();
                        e.terms = hit.terms.clone();
                    }
                    None => state.evidence.push(CodeEvidence {
                        code: hit.code,
                        strength,
                        event: event.clone(),
                        terms: hit.terms.clone(),
                    }),
                }
            }
            state.max_message_score = state.max_message_score.max(message.score);
            if message.score >= config.suspicious_threshold
                || !message.hits.iter().all(|h| h.negated)
            {
                push_flagged(state, message.score, event);
            }
        }
        state.risk = conversation_risk(state, config);
        let own = if outbound {
            message.score.min(state.risk)
        } else {
            message.score
        };
        let risk = state.risk.max(own);
        Assessment {
            verdict: config.verdict(risk),
            message,
            risk,
            compliance_after_inducement,
            insider_request,
        }
    }
}

fn push_flagged(state: &mut ConversationState, score: f32, event: &EventId) {
    if state.flagged.iter().any(|(_, e)| e == event) {
        return;
    }
    state.flagged.push((score, event.clone()));
    state.flagged.sort_by(|a, b| b.0.total_cmp(&a.0));
    state.flagged.truncate(MAX_FLAGGED);
}

/// The conversation's risk from what it remembers.
fn conversation_risk(state: &ConversationState, config: &ConversationConfig) -> f32 {
    let action_codes = || {
        state
            .evidence
            .iter()
            .filter(|e| !e.code.is_context() && e.code != Code::Compliance)
    };
    // A rule that fired lends its message at least half credibility.
    let action_best = action_codes()
        .map(|e| e.strength.max(0.5))
        .fold(0.0f32, f32::max);
    let context = state.evidence.iter().any(|e| e.code.is_context());
    let mut risk = state.max_message_score;
    if action_best > 0.0 && context {
        risk = risk.max(action_best + (1.0 - action_best) * 0.6);
    }
    // Several distinct inducements in one conversation.
    let distinct = action_codes().count();
    if distinct >= 2 {
        let noisy_or =
            1.0 - action_codes().fold(1.0f32, |p, e| p * (1.0 - 0.6 * e.strength.max(0.5)));
        risk = risk.max(noisy_or);
    }
    if state.compliance.is_some() && action_best > 0.0 {
        risk = risk.max(config.scam_threshold.max(0.9));
    }
    risk.clamp(0.0, 1.0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn run(messages: &[(Sender, bool, &str)]) -> Vec<Assessment> {
        let guard = Guard::new().unwrap();
        let config = ConversationConfig::default();
        let mut tracker = Tracker::new(&config);
        messages
            .iter()
            .enumerate()
            .map(|(i, (sender, outbound, text))| {
                let event = EventId::parse(format!("m{i}")).unwrap();
                let incoming = Incoming {
                    conversation: "conv-1",
                    event: &event,
                    ts: EventTime::from_micros(i as i64 * 1_000_000),
                    sender: *sender,
                    outbound: *outbound,
                    text,
                };
                tracker.observe(&guard, &config, &incoming)
            })
            .collect()
    }

    #[test]
    fn impersonation_plus_credential_request_is_a_scam() {
        let out = run(&[
            (
                Sender::Unknown,
                false,
                "Good morning, this is the exchange security department",
            ),
            (
                Sender::Unknown,
                false,
                "could you confirm the code you got?",
            ),
        ]);
        assert_eq!(out[1].verdict, Verdict::Scam, "{out:?}");
    }

    #[test]
    fn compliance_after_inducement_is_flagged() {
        let out = run(&[
            (
                Sender::Unknown,
                false,
                "Read me the code we just sent to stop the withdrawal",
            ),
            (Sender::Customer, true, "ok the code is 4 8 2 9 1 7"),
        ]);
        assert!(out[1].compliance_after_inducement);
        assert_eq!(out[1].verdict, Verdict::Scam);
    }

    #[test]
    fn a_benign_support_chat_stays_benign() {
        let out = run(&[
            (
                Sender::Customer,
                true,
                "Hi, I lost my phone, how do I reset my 2FA?",
            ),
            (
                Sender::Agent,
                false,
                "Hi, you can reset 2FA from the login page. We will never ask you for your code.",
            ),
            (Sender::Customer, true, "great, it worked, thanks"),
        ]);
        assert!(out.iter().all(|a| a.verdict == Verdict::Benign), "{out:?}");
    }

    #[test]
    fn memory_is_bounded() {
        let guard = Guard::new().unwrap();
        let config = ConversationConfig {
            max_conversations: 3,
            ..ConversationConfig::default()
        };
        let mut tracker = Tracker::new(&config);
        for i in 0..10 {
            let id = EventId::parse(format!("m{i}")).unwrap();
            let ts = EventTime::from_micros(i * 1_000_000);
            let conversation = format!("c{i}");
            let incoming = Incoming {
                conversation: &conversation,
                event: &id,
                ts,
                sender: Sender::Unknown,
                outbound: false,
                text: "hello",
            };
            tracker.observe(&guard, &config, &incoming);
        }
        assert_eq!(tracker.len(), 3);
        tracker.expire(EventTime::from_micros(
            10 * 1_000_000 + Span::from_hours(25).as_micros(),
        ));
        assert!(tracker.is_empty());
    }
}
