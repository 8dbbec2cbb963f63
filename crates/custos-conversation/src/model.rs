//! The linear classifier: logistic regression over hashed word and
//! character n-grams (plus rule, role and direction features), trained in
//! pure Rust, deterministic for a seed, stored as quantised weights.
//!
//! File format (little endian): magic `CCNV`, format version (u16), feature
//! spec version (u16), hash bits (u8), 3 reserved bytes, scale (f32), bias
//! (f32), then `2^bits` weights as i16 (`w = q * scale`).

use crate::normalize::mask_digit_runs;
use crate::rules::Hit;
use crate::taxonomy::Code;

const MAGIC: &[u8; 4] = b"CCNV";
const FORMAT_VERSION: u16 = 1;
/// Bumped whenever feature extraction changes: a model trained on other
/// features must not load silently.
pub const FEATURE_VERSION: u16 = 2;
/// Hash bits of the shipped model: 2^18 buckets, 512 KiB of weights.
pub const DEFAULT_BITS: u8 = 18;

/// Who wrote the message, as the model sees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Speaker {
    /// `sender_role: agent`: an employee in an official channel.
    pub agent: bool,
    /// `direction: outbound`: the customer's own words.
    pub outbound: bool,
}

/// Hashed feature indices of one message (with repeats, so counts matter).
#[derive(Clone, Debug, Default)]
pub struct Features {
    pub indices: Vec<u32>,
}

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
    avalanche(h)
}

/// Final avalanche so low bits depend on every byte.
#[inline]
fn avalanche(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h
}

fn is_cjk(c: char) -> bool {
    ('\u{3040}'..='\u{9FFF}').contains(&c) || ('\u{AC00}'..='\u{D7AF}').contains(&c)
}

/// Extracts features from normalised text. `named` receives, for word
/// features only, the feature index and the words (to explain a score).
pub fn extract(
    normalized: &str,
    hits: &[Hit],
    speaker: Speaker,
    bits: u8,
    named: Option<&mut Vec<(u32, String)>>,
) -> Features {
    let mut features = Features::default();
    extract_into(normalized, hits, speaker, bits, named, &mut features);
    features
}

/// [`extract`] into a reused [`Features`] (cleared first): no allocation
/// once its vector has grown.
pub fn extract_into(
    normalized: &str,
    hits: &[Hit],
    speaker: Speaker,
    bits: u8,
    named: Option<&mut Vec<(u32, String)>>,
    features: &mut Features,
) {
    let indices = &mut features.indices;
    indices.clear();
    indices.reserve(normalized.len() * 4 + 16);
    extract_to(normalized, hits, speaker, bits, named, indices);
}

/// Where [`extract_to`] sends each feature index, in extraction order.
pub(crate) trait FeatureSink {
    fn push(&mut self, index: u32);
}

impl FeatureSink for Vec<u32> {
    #[inline]
    fn push(&mut self, index: u32) {
        Vec::push(self, index);
    }
}

/// A model's logit summed while the features are extracted, without
/// storing them: the same weights added in the same order as
/// [`Model::logit`] over [`extract_into`]'s indices, so the same `f32`.
pub(crate) struct LogitSink<'m> {
    weights: &'m [i16],
    scale: f32,
    bias: f32,
    /// `f32`'s `Sum` starts from `-0.0`; so does this.
    sum: f32,
    count: usize,
}

impl<'m> LogitSink<'m> {
    pub(crate) fn new(model: &'m Model) -> LogitSink<'m> {
        LogitSink {
            weights: &model.weights,
            scale: model.scale,
            bias: model.bias,
            sum: -0.0,
            count: 0,
        }
    }

    /// [`Model::logit`] of the features pushed.
    pub(crate) fn logit(&self) -> f32 {
        if self.count == 0 {
            return self.bias;
        }
        let norm = 1.0 / (self.count as f32).sqrt();
        self.bias + self.sum * norm
    }
}

impl FeatureSink for LogitSink<'_> {
    #[inline]
    fn push(&mut self, index: u32) {
        let weight = self
            .weights
            .get(index as usize)
            .copied()
            .map_or(0.0, f32::from)
            * self.scale;
        self.sum += weight;
        self.count += 1;
    }
}

/// The hash of a character n-gram of length `n + 1` whose FNV state after
/// its last character is `h`.
#[inline]
fn char_gram(h: u64, n: u64) -> u64 {
    let mut f = mix(h, n);
    f ^= f >> 31;
    f = f.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    f ^= f >> 29;
    f
}

/// Character 3..=5-grams of `chars` (the padded text, digits folded),
/// by start position, shortest first. Five characters are held in
/// registers; each start re-mixes them from the seed (the hash of an n-gram
/// depends only on its characters, so the model's features are unchanged).
#[inline]
fn char_grams(chars: impl Iterator<Item = u64>, push: &mut impl FnMut(u64)) {
    const BASIS: u64 = 0xCBF2_9CE4_8422_2325 ^ SEED_CHAR;
    let mut window = [0u64; 5];
    let mut filled = 0usize;
    for c in chars {
        if filled == 5 {
            let [c0, c1, c2, c3, c4] = window;
            let h = mix(mix(mix(BASIS, c0), c1), c2);
            push(char_gram(h, 2));
            let h = mix(h, c3);
            push(char_gram(h, 3));
            let h = mix(h, c4);
            push(char_gram(h, 4));
            window = [c1, c2, c3, c4, c];
        } else {
            window[filled] = c;
            filled += 1;
        }
    }
    // The last (up to) five starts have shorter tails.
    for start in 0..filled {
        let mut h = BASIS;
        for (n, &c) in window[start..filled].iter().enumerate() {
            h = mix(h, c);
            if n >= 2 {
                push(char_gram(h, n as u64));
            }
        }
    }
}

/// The features of [`extract_into`], sent to `sink` one by one.
pub(crate) fn extract_to(
    normalized: &str,
    hits: &[Hit],
    speaker: Speaker,
    bits: u8,
    mut named: Option<&mut Vec<(u32, String)>>,
    sink: &mut impl FeatureSink,
) {
    let mask = (1u64 << bits) - 1;
    let mut push = |h: u64| sink.push((h & mask) as u32);
    let ascii = normalized.is_ascii();

    // Words and bigrams; a CJK run contributes its characters and character
    // bigrams as words (Chinese has no spaces). One pass per token mixes
    // three hashes: the word's, the bigram with the previous token (whose
    // prefix hash is carried over), and the prefix of the next bigram.
    const WORD_BASIS: u64 = 0xCBF2_9CE4_8422_2325 ^ SEED_WORD;
    const BIGRAM_BASIS: u64 = 0xCBF2_9CE4_8422_2325 ^ SEED_BIGRAM;
    let mut previous: Option<(&str, u64)> = None;
    for token in normalized.split(' ') {
        if !ascii && !token.is_ascii() && token.chars().any(is_cjk) {
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
        let mut word = WORD_BASIS;
        let mut next_prefix = BIGRAM_BASIS;
        let mut bigram = previous.map_or(0, |(_, prefix)| mix(prefix, 0x20));
        for &b in token.as_bytes() {
            let b = u64::from(b);
            word = mix(word, b);
            next_prefix = mix(next_prefix, b);
            bigram = mix(bigram, b);
        }
        let h = avalanche(word);
        push(h);
        if let Some(named) = named.as_deref_mut() {
            named.push(((h & mask) as u32, token.to_owned()));
        }
        if let Some((prev, _)) = previous {
            let hb = bigram ^ (bigram >> 29);
            push(hb);
            if let Some(named) = named.as_deref_mut() {
                named.push(((hb & mask) as u32, format!("{prev} {token}")));
            }
        }
        previous = Some((token, avalanche(next_prefix)));
    }

    // Character 3..=5-grams over the whole text padded with a space at each
    // end, digits folded to `0`.
    if ascii {
        let fold = |b: u8| u64::from(if b.is_ascii_digit() { b'0' } else { b });
        let padded = std::iter::once(b' ')
            .chain(normalized.bytes())
            .chain(std::iter::once(b' '));
        char_grams(padded.map(fold), &mut push);
    } else {
        let fold = |c: char| u64::from(u32::from(if c.is_ascii_digit() { '0' } else { c }));
        let padded = std::iter::once(' ')
            .chain(normalized.chars())
            .chain(std::iter::once(' '));
        char_grams(padded.map(fold), &mut push);
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

/// A trained model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    bits: u8,
    scale: f32,
    bias: f32,
    weights: Vec<i16>,
}

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelLoad {
    #[error("not a conversation model (bad magic)")]
    Magic,
    #[error("model format {found} is not the supported {FORMAT_VERSION}")]
    Format { found: u16 },
    #[error(
        "model was trained on feature spec {found}, this build extracts {FEATURE_VERSION}: retrain it"
    )]
    FeatureSpec { found: u16 },
    #[error("hash bits {0} out of range 8..=24")]
    Bits(u8),
    #[error("model file is {found} bytes, expected {expected}")]
    Length { found: usize, expected: usize },
}

impl Model {
    pub fn bits(&self) -> u8 {
        self.bits
    }

    /// Builds a model from float weights, quantising to i16.
    pub fn from_weights(bits: u8, bias: f32, weights: &[f32]) -> Model {
        let max = weights.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 32767.0 } else { 1.0 };
        let weights = weights
            .iter()
            .map(|w| (w / scale).round().clamp(-32767.0, 32767.0) as i16)
            .collect();
        Model {
            bits,
            scale,
            bias,
            weights,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(20 + self.weights.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&FEATURE_VERSION.to_le_bytes());
        out.push(self.bits);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(&self.scale.to_le_bytes());
        out.extend_from_slice(&self.bias.to_le_bytes());
        for w in &self.weights {
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelLoad> {
        let header = bytes.get(..20).ok_or(ModelLoad::Magic)?;
        if &header[..4] != MAGIC {
            return Err(ModelLoad::Magic);
        }
        let format = u16::from_le_bytes([header[4], header[5]]);
        if format != FORMAT_VERSION {
            return Err(ModelLoad::Format { found: format });
        }
        let spec = u16::from_le_bytes([header[6], header[7]]);
        if spec != FEATURE_VERSION {
            return Err(ModelLoad::FeatureSpec { found: spec });
        }
        let bits = header[8];
        if !(8..=24).contains(&bits) {
            return Err(ModelLoad::Bits(bits));
        }
        let scale = f32::from_le_bytes([header[12], header[13], header[14], header[15]]);
        let bias = f32::from_le_bytes([header[16], header[17], header[18], header[19]]);
        let expected = 20 + (1usize << bits) * 2;
        if bytes.len() != expected {
            return Err(ModelLoad::Length {
                found: bytes.len(),
                expected,
            });
        }
        let weights = bytes[20..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(Model {
            bits,
            scale,
            bias,
            weights,
        })
    }

    fn weight(&self, index: u32) -> f32 {
        self.weights
            .get(index as usize)
            .copied()
            .map_or(0.0, f32::from)
            * self.scale
    }

    /// The logit of "scam" for a message's features.
    pub fn logit(&self, features: &Features) -> f32 {
        if features.indices.is_empty() {
            return self.bias;
        }
        let norm = 1.0 / (features.indices.len() as f32).sqrt();
        let sum: f32 = features.indices.iter().map(|&i| self.weight(i)).sum();
        self.bias + sum * norm
    }

    /// Probability of "scam".
    pub fn predict(&self, features: &Features) -> f32 {
        sigmoid(self.logit(features))
    }

    /// The named word features that push hardest towards "scam", digits
    /// masked, at most `n`.
    pub fn top_words(&self, named: &[(u32, String)], n: usize) -> Vec<String> {
        let mut scored: Vec<(f32, &str)> = named
            .iter()
            .map(|(i, w)| (self.weight(*i), w.as_str()))
            .filter(|(w, _)| *w > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        let mut out: Vec<String> = Vec::new();
        for (_, word) in scored {
            let masked = mask_digit_runs(word);
            if !out.contains(&masked) {
                out.push(masked);
            }
            if out.len() == n {
                break;
            }
        }
        out
    }
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Options of [`train_model`].
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    pub seed: u64,
    pub epochs: u32,
    pub bits: u8,
    pub learning_rate: f32,
    pub l2: f32,
    /// Extra weight of a benign example over class balance: a false alarm
    /// on a real customer costs more than one more point of recall.
    pub benign_weight: f32,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            seed: 7,
            epochs: 6,
            bits: DEFAULT_BITS,
            learning_rate: 0.5,
            l2: 1e-6,
            benign_weight: 3.0,
        }
    }
}

/// SplitMix64: a tiny deterministic generator for shuffling.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Trains logistic regression by SGD (classes balanced, lazy L2, learning
/// rate decaying per epoch). Single-threaded and seeded: the same examples
/// and options give the same bytes.
pub fn train_model(examples: &[(Features, bool)], options: &TrainOptions) -> Model {
    let size = 1usize << options.bits;
    let mut weights = vec![0.0f32; size];
    let mut bias = 0.0f32;
    let positives = examples.iter().filter(|(_, y)| *y).count().max(1) as f32;
    let negatives = examples.iter().filter(|(_, y)| !*y).count().max(1) as f32;
    let total = positives + negatives;
    let weight_pos = total / (2.0 * positives);
    let weight_neg = total / (2.0 * negatives) * options.benign_weight;
    let mut order: Vec<usize> = (0..examples.len()).collect();
    let mut rng = SplitMix(options.seed);
    for epoch in 0..options.epochs {
        for i in (1..order.len()).rev() {
            let j = (rng.next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let lr = options.learning_rate / (1.0 + epoch as f32);
        for &k in &order {
            let (features, label) = &examples[k];
            if features.indices.is_empty() {
                continue;
            }
            let norm = 1.0 / (features.indices.len() as f32).sqrt();
            let sum: f32 = features.indices.iter().map(|&i| weights[i as usize]).sum();
            let p = sigmoid(bias + sum * norm);
            let y = if *label { 1.0 } else { 0.0 };
            let class_weight = if *label { weight_pos } else { weight_neg };
            let g = (p - y) * class_weight;
            for &i in &features.indices {
                let w = &mut weights[i as usize];
                *w -= lr * (g * norm + options.l2 * *w);
            }
            bias -= lr * g * 0.1;
        }
    }
    Model::from_weights(options.bits, bias, &weights)
}

/// Codes in the fixed order used for reporting.
pub fn code_order() -> &'static [Code] {
    Code::ALL
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn features(text: &str) -> Features {
        extract(
            &crate::normalize::normalize(text),
            &[],
            Speaker::default(),
            12,
            None,
        )
    }

    #[test]
    fn learns_a_toy_problem_and_round_trips() {
        let data: Vec<(Features, bool)> = [
            ("send me the seed phrase now", true),
            ("read me the code we sent", true),
            ("move funds to the safe wallet", true),
            ("my withdrawal is pending", false),
            ("how do i reset my password", false),
            ("thanks for waiting, it is resolved", false),
        ]
        .iter()
        .map(|(t, y)| (features(t), *y))
        .collect();
        let options = TrainOptions {
            bits: 12,
            epochs: 30,
            ..TrainOptions::default()
        };
        let model = train_model(&data, &options);
        assert!(model.predict(&features("send me the seed phrase")) > 0.5);
        assert!(model.predict(&features("my withdrawal is pending")) < 0.5);
        let again = train_model(&data, &options);
        assert_eq!(
            model.to_bytes(),
            again.to_bytes(),
            "training is deterministic"
        );
        assert_eq!(Model::from_bytes(&model.to_bytes()).unwrap(), model);
        assert_eq!(Model::from_bytes(b"nope"), Err(ModelLoad::Magic));
    }
}
