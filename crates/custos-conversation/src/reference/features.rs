//! The feature extraction of session 4 (`model::extract_into` before the
//! fused scorer), verbatim: the hashed word / bigram / character n-gram
//! features the shipped model was trained on.

use crate::model::{Features, Speaker};
use crate::rules::Hit;

const SEED_WORD: u64 = 0x9E37_79B9_7F4A_7C15;
const SEED_BIGRAM: u64 = 0xC2B2_AE3D_27D4_EB4F;
const SEED_CHAR: u64 = 0x1656_67B1_9E37_79F9;
const SEED_RULE: u64 = 0x27D4_EB2F_1656_67C5;
const SEED_META: u64 = 0x85EB_CA77_C2B2_AE63;

#[inline]
fn mix(mut h: u64, byte: u64) -> u64 {
    h ^= byte;
    h = h.wrapping_mul(0x0000_0100_0000_01B3);
    h
}

#[inline]
fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325 ^ seed;
    for &b in bytes {
        h = mix(h, u64::from(b));
    }
    // Final avalanche so low bits depend on every byte.
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h
}

fn is_cjk(c: char) -> bool {
    ('\u{3040}'..='\u{9FFF}').contains(&c) || ('\u{AC00}'..='\u{D7AF}').contains(&c)
}

/// [`crate::model::extract`] into a reused [`Features`] (cleared first):
/// no allocation once its vector has grown.
pub fn extract_into(
    normalized: &str,
    hits: &[Hit],
    speaker: Speaker,
    bits: u8,
    mut named: Option<&mut Vec<(u32, String)>>,
    features: &mut Features,
) {
    let mask = (1u64 << bits) - 1;
    let indices = &mut features.indices;
    indices.clear();
    indices.reserve(normalized.len() * 4 + 16);
    let mut push = |h: u64| indices.push((h & mask) as u32);

    // Words and bigrams; a CJK run contributes its characters and character
    // bigrams as words (Chinese has no spaces).
    let mut previous: Option<&str> = None;
    for token in normalized.split(' ') {
        if !token.is_ascii() && token.chars().any(is_cjk) {
            let mut chars = token.char_indices().peekable();
            while let Some((start, c)) = chars.next() {
                let end = start + c.len_utf8();
                push(hash_bytes(SEED_WORD, &token.as_bytes()[start..end]));
                if let Some(&(next_start, next)) = chars.peek() {
                    let bigram = &token[start..next_start + next.len_utf8()];
                    let h = hash_bytes(SEED_WORD, bigram.as_bytes());
                    push(h);
                    if let Some(named) = named.as_deref_mut() {
                        named.push(((h & mask) as u32, bigram.to_owned()));
                    }
                }
            }
            previous = None;
            continue;
        }
        let h = hash_bytes(SEED_WORD, token.as_bytes());
        push(h);
        if let Some(named) = named.as_deref_mut() {
            named.push(((h & mask) as u32, token.to_owned()));
        }
        if let Some(prev) = previous {
            let mut hb = hash_bytes(SEED_BIGRAM, prev.as_bytes());
            hb = mix(hb, 0x20);
            for &b in token.as_bytes() {
                hb = mix(hb, u64::from(b));
            }
            hb ^= hb >> 29;
            push(hb);
            if let Some(named) = named.as_deref_mut() {
                named.push(((hb & mask) as u32, format!("{prev} {token}")));
            }
        }
        previous = Some(token);
    }

    // Character 3..=5-grams over the whole text padded with a space at each
    // end, digits folded to `0`: a sliding window of the last five
    // characters, each n-gram hashed from its first character.
    let mut window = [0u64; 5];
    let mut filled = 0usize;
    let emit = |window: &[u64; 5], len: usize, push: &mut dyn FnMut(u64)| {
        // The n-grams starting at window[0], of lengths 3..=len.
        let mut h = 0xCBF2_9CE4_8422_2325 ^ SEED_CHAR;
        for (n, &c) in window[..len].iter().enumerate() {
            h = mix(h, c);
            if n >= 2 {
                let mut f = mix(h, n as u64);
                f ^= f >> 31;
                f = f.wrapping_mul(0x9E37_79B9_7F4A_7C15);
                f ^= f >> 29;
                push(f);
            }
        }
    };
    let padded = std::iter::once(' ')
        .chain(normalized.chars())
        .chain(std::iter::once(' '));
    for c in padded {
        let c = if c.is_ascii_digit() { '0' } else { c };
        if filled == 5 {
            emit(&window, 5, &mut push);
            window.copy_within(1.., 0);
            window[4] = u64::from(u32::from(c));
        } else {
            window[filled] = u64::from(u32::from(c));
            filled += 1;
        }
    }
    // The last (up to) five starts have shorter tails.
    for start in 0..filled {
        let mut tail = [0u64; 5];
        tail[..filled - start].copy_from_slice(&window[start..filled]);
        emit(&tail, filled - start, &mut push);
    }

    // Rules, alone and by speaker.
    for hit in hits {
        let code = hit.code.as_str().as_bytes();
        let polarity: u64 = if hit.negated { 1 } else { 2 };
        let base = mix(hash_bytes(SEED_RULE, code), polarity);
        for _ in 0..2 {
            push(base);
        }
        let role = u64::from(speaker.agent) * 2 + u64::from(speaker.outbound) + 3;
        push(hash_bytes(mix(base, role), b"speaker"));
    }
    // The speaker, only when it is not the default (an inbound message from
    // anyone but an agent): a feature on every message is a second bias,
    // scaled up for short messages, and it made text the model had never
    // seen (a new benign phrasing, ordinary small talk) lean "scam".
    let meta = u64::from(speaker.agent) * 2 + u64::from(speaker.outbound);
    if meta != 0 {
        push(hash_bytes(SEED_META ^ meta, b"speaker"));
    }
    let strong = hits
        .iter()
        .filter(|h| !h.negated && !h.code.is_context())
        .count();
    let context = hits
        .iter()
        .filter(|h| !h.negated && h.code.is_context())
        .count();
    if strong > 0 && context > 0 {
        push(hash_bytes(SEED_META, b"strong+context"));
    }
}
