//! The scoring path of session 4, kept verbatim as the reference the fast
//! path is checked against: every corpus line and random Unicode text must
//! give the bit-identical score, the same hits (codes, negation, trigger
//! terms) and the same classifier words (`tests/fast_path/mod.rs`), and
//! the bench runs both in one process (`benches/scan.rs`).
//!
//! Copied: normalisation ([`normalize`]), feature extraction
//! ([`features`]) with the logit summed afterwards by `Model::predict`, and
//! `Guard::score`'s arithmetic. Shared (unchanged in session 5): the rule
//! evaluation, the model's weights and `top_words`.
//!
//! Not part of the API: a [`Guard`] uses it only when built with
//! [`Guard::reference_path`].

pub mod features;
pub mod normalize;

use crate::guard::{
    CONTEXT_ONLY_CAP, Guard, INDUCEMENT_WITH_CONTEXT, INDUCEMENT_WITH_CONTEXT_FROM, MessageScore,
    RULE_FLOOR,
};
use crate::model::{Features, Speaker};
use crate::normalize::Boundary;
use crate::rules::{Hit, has_code_like_digits};
use crate::taxonomy::Code;
use std::cell::RefCell;

#[derive(Default)]
struct Scratch {
    normalized: String,
    boundaries: Vec<Boundary>,
    features: Features,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// [`Guard::score`] as of session 4.
pub fn score(guard: &Guard, text: &str, speaker: Speaker, explain_from: f32) -> MessageScore {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => score_with(guard, text, speaker, explain_from, &mut scratch),
        Err(_) => score_with(guard, text, speaker, explain_from, &mut Scratch::default()),
    })
}

fn score_with(
    guard: &Guard,
    text: &str,
    speaker: Speaker,
    explain_from: f32,
    scratch: &mut Scratch,
) -> MessageScore {
    let Scratch {
        normalized,
        boundaries,
        features,
    } = scratch;
    normalize::with_normalizer(|n| {
        n.normalize_into(text, normalized);
        boundaries.clear();
        boundaries.extend(n.boundaries().iter().map(|b| Boundary {
            at: b.at,
            sentence: b.sentence,
        }));
    });
    let normalized = normalized.as_str();
    let mut hits = guard
        .rules()
        .evaluate_with_boundaries(normalized, boundaries);
    let code_like_digits = has_code_like_digits(normalized);
    if !speaker.outbound {
        hits.retain(|h| h.code != Code::Compliance);
    } else if code_like_digits && !hits.iter().any(|h| h.code == Code::Compliance) {
        hits.push(Hit {
            code: Code::Compliance,
            terms: vec!["***".to_owned()],
            negated: false,
        });
    }
    let model = guard.model();
    features::extract_into(normalized, &hits, speaker, model.bits(), None, features);
    let model_score = model.predict(features);
    let rule = if speaker.outbound {
        0.0
    } else {
        hits.iter()
            .filter(|h| !h.negated && !h.code.is_context() && h.code != Code::Compliance)
            .map(|h| h.code.weight())
            .fold(0.0f32, f32::max)
    };
    let mut score = 1.0 - (1.0 - model_score) * (1.0 - RULE_FLOOR * rule);
    let context_only = rule == 0.0 && hits.iter().any(|h| !h.negated && h.code.is_context());
    if context_only {
        score = score.min(CONTEXT_ONLY_CAP);
    }
    if !speaker.outbound && !normalized.chars().any(char::is_alphabetic) {
        score = 0.0;
    }
    let own_context = !speaker.agent && hits.iter().any(|h| !h.negated && h.code.is_context());
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
        let mut scratch_features = Features::default();
        features::extract_into(
            normalized,
            &hits,
            speaker,
            model.bits(),
            Some(&mut named),
            &mut scratch_features,
        );
        top_words = model.top_words(&named, 3);
    }
    MessageScore {
        score,
        hits,
        code_like_digits,
        top_words,
    }
}
