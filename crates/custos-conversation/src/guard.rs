//! Scoring one message: normalise, run the rules, run the classifier, and
//! explain the result in safe reason strings.

use crate::model::{Features, LogitSink, Model, ModelLoad, Speaker, extract, extract_to, sigmoid};
use crate::normalize::{Boundary, mask_digit_runs, normalize_with_boundaries, with_normalizer};
use crate::rules::{Hit, RuleBuild, RuleSet, has_code_like_digits};
use crate::taxonomy::Code;
use std::cell::RefCell;

/// The shipped model, trained from `corpus/` by `custos train` (see
/// EVALUATION.md); compiled in so the binary needs no file at run time.
pub static SHIPPED_MODEL: &[u8] = include_bytes!("../model/conversation-v1.bin");

/// How much of a strong rule's weight becomes a floor on the score.
pub(crate) const RULE_FLOOR: f32 = 0.6;

/// Highest score of a message whose only rules are context codes.
pub(crate) const CONTEXT_ONLY_CAP: f32 = 0.75;

/// A message already suspicious that carries an inducement *and* a context
/// code (impersonation, authority, urgency, other app) of its own, or whose
/// inducement rule the classifier agrees with on its own, is raised
/// by this share of the remaining distance to 1, exactly as conversation
/// state raises an inducement next to a context code
/// (`state::conversation_risk`): `s + 0.6 (1 - s)`, so `s >= 0.5` reaches
/// the scam verdict (0.8) on one message.
pub(crate) const INDUCEMENT_WITH_CONTEXT: f32 = 0.6;

/// The score from which [`INDUCEMENT_WITH_CONTEXT`] applies (the default
/// suspicious threshold): messages below it stay below it, so the raise
/// never adds a flag, only turns a `suspicious` message into a `scam`.
pub(crate) const INDUCEMENT_WITH_CONTEXT_FROM: f32 = 0.5;

/// Per-thread buffers of [`Guard::score`], reused across messages.
#[derive(Default)]
struct Scratch {
    normalized: String,
    boundaries: Vec<Boundary>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Why the guard could not be built.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("rules: {0}")]
    Rules(#[from] RuleBuild),
    #[error("model: {0}")]
    Model(#[from] ModelLoad),
}

/// Rules and model, compiled once and shared (read-only) by every scorer.
pub struct Guard {
    rules: RuleSet,
    model: Model,
    /// Score through [`crate::reference`] (the session-4 path), for the
    /// equality tests and the before/after bench.
    reference: bool,
}

/// One message's score and what fired.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageScore {
    /// Probability-like score in 0..1.
    pub score: f32,
    /// Rules that fired (negated ones included, flagged).
    pub hits: Vec<Hit>,
    /// The text holds a 4–8 digit run (a code read out).
    pub code_like_digits: bool,
    /// Words the classifier weighed most towards "scam" (digits masked);
    /// filled only when the score reaches `explain_from`.
    pub top_words: Vec<String>,
}

impl MessageScore {
    /// Codes that fired, not negated.
    pub fn codes(&self) -> impl Iterator<Item = Code> + '_ {
        self.hits.iter().filter(|h| !h.negated).map(|h| h.code)
    }

    /// Reason strings: `code: "term", "term"` per rule that fired (not
    /// negated), then the classifier's words. Digit runs of four or more are
    /// masked, so a code the customer typed is never repeated.
    pub fn reasons(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::with_capacity(self.hits.len() + 1);
        for h in self.hits.iter().filter(|h| !h.negated) {
            let mut reason = String::with_capacity(64);
            reason.push_str(h.code.as_str());
            reason.push_str(": ");
            for (i, t) in h.terms.iter().enumerate() {
                if i > 0 {
                    reason.push_str(", ");
                }
                reason.push('"');
                if t.bytes().any(|b| b.is_ascii_digit() || !b.is_ascii()) {
                    reason.push_str(&mask_digit_runs(t));
                } else {
                    reason.push_str(t);
                }
                reason.push('"');
            }
            out.push(reason);
        }
        if self.code_like_digits && self.hits.iter().any(|h| h.code == Code::Compliance) {
            out.push("compliance: code read out (\"***\")".to_owned());
        }
        if !self.top_words.is_empty() {
            let words: Vec<String> = self.top_words.iter().map(|w| format!("\"{w}\"")).collect();
            out.push(format!("classifier: {}", words.join(", ")));
        }
        out
    }
}

impl Guard {
    /// The guard with the shipped model.
    pub fn new() -> Result<Guard, GuardError> {
        Guard::with_model(Model::from_bytes(SHIPPED_MODEL)?)
    }

    pub fn with_model(model: Model) -> Result<Guard, GuardError> {
        Ok(Guard {
            rules: RuleSet::new()?,
            model,
            reference: false,
        })
    }

    /// The same guard scoring through the reference implementation (the
    /// straightforward session-4 path), to check and measure the fast one.
    #[doc(hidden)]
    pub fn reference_path(mut self) -> Guard {
        self.reference = true;
        self
    }

    pub(crate) fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The classifier's features of a message (for training).
    pub fn features(&self, text: &str, speaker: Speaker, bits: u8) -> Features {
        let (normalized, boundaries) = normalize_with_boundaries(text);
        let hits = self
            .rules
            .evaluate_with_boundaries(&normalized, &boundaries);
        extract(&normalized, &hits, speaker, bits, None)
    }

    /// Scores one message on its own. Words are explained when the score
    /// reaches `explain_from` (explaining costs a second feature pass).
    pub fn score(&self, text: &str, speaker: Speaker, explain_from: f32) -> MessageScore {
        if self.reference {
            return crate::reference::score(self, text, speaker, explain_from);
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.score_with(text, speaker, explain_from, &mut scratch),
            Err(_) => self.score_with(text, speaker, explain_from, &mut Scratch::default()),
        })
    }

    fn score_with(
        &self,
        text: &str,
        speaker: Speaker,
        explain_from: f32,
        scratch: &mut Scratch,
    ) -> MessageScore {
        let Scratch {
            normalized,
            boundaries,
        } = scratch;
        with_normalizer(|n| {
            n.normalize_into(text, normalized);
            boundaries.clear();
            boundaries.extend_from_slice(n.boundaries());
        });
        let normalized = normalized.as_str();
        let mut hits = self.rules.evaluate_with_boundaries(normalized, boundaries);
        let code_like_digits = has_code_like_digits(normalized);
        if !speaker.outbound {
            // Compliance is the customer's own act.
            hits.retain(|h| h.code != Code::Compliance);
        } else if code_like_digits && !hits.iter().any(|h| h.code == Code::Compliance) {
            hits.push(Hit {
                code: Code::Compliance,
                terms: vec!["***".to_owned()],
                negated: false,
            });
        }
        // The weights are summed as the features are hashed (the same sum,
        // in the same order, as `Model::predict` over `extract`).
        let mut logit = LogitSink::new(&self.model);
        extract_to(
            normalized,
            &hits,
            speaker,
            self.model.bits(),
            None,
            &mut logit,
        );
        let model_score = sigmoid(logit.logit());
        // A strong rule lends the message its own weight, so a phrasing the
        // classifier never saw is still at least suspicious; context codes
        // (impersonation, urgency) and the customer's own words do not.
        let rule = if speaker.outbound {
            0.0
        } else {
            hits.iter()
                .filter(|h| !h.negated && !h.code.is_context() && h.code != Code::Compliance)
                .map(|h| h.code.weight())
                .fold(0.0f32, f32::max)
        };
        let mut score = 1.0 - (1.0 - model_score) * (1.0 - RULE_FLOOR * rule);
        // Impersonation or urgency alone is mild: only with an inducement
        // (here or elsewhere in the conversation) does it make a scam.
        let context_only = rule == 0.0 && hits.iter().any(|h| !h.negated && h.code.is_context());
        if context_only {
            score = score.min(CONTEXT_ONLY_CAP);
        }
        // A message without a single letter (a number, a year, a price)
        // asks for nothing; the customer's own digits are still compliance.
        if !speaker.outbound && !normalized.chars().any(char::is_alphabetic) {
            score = 0.0;
        }
        // An official agent naming their own team or warning about a risk
        // is not impersonation or pressure (as in conversation state).
        let own_context = !speaker.agent && hits.iter().any(|h| !h.negated && h.code.is_context());
        // The same raise when the classifier, on its own, already calls a
        // message with a strong rule a scam (two independent signals agree).
        let model_agrees = model_score >= INDUCEMENT_WITH_CONTEXT_FROM;
        if rule > 0.0 && (own_context || model_agrees) && score >= INDUCEMENT_WITH_CONTEXT_FROM {
            score += (1.0 - score) * INDUCEMENT_WITH_CONTEXT;
        }
        let mut top_words = Vec::new();
        if score >= explain_from
            && !hits
                .iter()
                .any(|h| !h.negated && h.code != Code::Compliance)
        {
            let mut named = Vec::new();
            extract(
                normalized,
                &hits,
                speaker,
                self.model.bits(),
                Some(&mut named),
            );
            top_words = self.model.top_words(&named, 3);
        }
        MessageScore {
            score,
            hits,
            code_like_digits,
            top_words,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const CUSTOMER_INBOX: Speaker = Speaker {
        agent: false,
        outbound: false,
    };
    const AGENT: Speaker = Speaker {
        agent: true,
        outbound: false,
    };

    /// `(text, speaker, lowest score, highest score)`.
    fn check(cases: &[(&str, Speaker, f32, f32)]) {
        let guard = Guard::new().unwrap();
        for (text, speaker, low, high) in cases {
            let scored = guard.score(text, *speaker, 2.0);
            assert!(
                (*low..=*high).contains(&scored.score),
                "{text:?}: {} not in {low}..={high} ({:?})",
                scored.score,
                scored.hits
            );
        }
    }

    #[test]
    fn everyday_messages_are_not_flagged() {
        check(&[
            (
                "can u send me the code for the wifi again?",
                CUSTOMER_INBOX,
                0.0,
                0.49,
            ),
            (
                "what's the wifi password? it's not on the router",
                CUSTOMER_INBOX,
                0.0,
                0.49,
            ),
            (
                "What's the door code? the buzzer doesn't work",
                CUSTOMER_INBOX,
                0.0,
                0.49,
            ),
            ("645", CUSTOMER_INBOX, 0.0, 0.0),
            ("'1963'", CUSTOMER_INBOX, 0.0, 0.0),
        ]);
    }

    #[test]
    fn inducement_with_impersonation_or_urgency_is_a_scam_alone() {
        check(&[
            (
                "Hello, this is the Binance security team. Read me the 6-digit code we just sent to stop the withdrawal",
                CUSTOMER_INBOX,
                0.8,
                1.0,
            ),
            (
                "Your account will be frozen today, move your USDT to this safe wallet now",
                CUSTOMER_INBOX,
                0.8,
                1.0,
            ),
            // Agent warnings stay clean: negated, and an agent's own team
            // is not impersonation.
            (
                "This is the support team. We will never ask for your code, to move funds to a safe wallet or to install AnyDesk.",
                AGENT,
                0.0,
                0.49,
            ),
        ]);
    }

    #[test]
    fn the_raise_never_adds_a_flag() {
        // Rule weight alone (0.6 x 0.8 = 0.48) with a context code and a
        // model that does not agree stays below the suspicious threshold;
        // an all-zero model isolates the rule floor.
        let guard = Guard::with_model(Model::from_weights(8, -20.0, &[0.0; 256])).unwrap();
        let scored = guard.score(
            "This is the Binance security team, read me the code",
            CUSTOMER_INBOX,
            2.0,
        );
        assert!(scored.codes().any(|c| c == Code::OtpCode));
        assert!(scored.codes().any(|c| c == Code::ImpersonationStaff));
        assert!(
            scored.score < INDUCEMENT_WITH_CONTEXT_FROM,
            "{}",
            scored.score
        );
    }
}
