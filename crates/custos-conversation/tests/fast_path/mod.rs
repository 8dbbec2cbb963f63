//! The fast scoring path against the reference (the session-4 path kept in
//! `custos_conversation::reference`): bit-identical scores, the same hits
//! (code, negation, trigger terms), digits flag and classifier words, on
//! every corpus line under every speaker, on `scan` output, and on random
//! adversarial Unicode.

use custos_conversation::corpus::committed_corpus;
use custos_conversation::{ConversationConfig, Guard, MessageScore, Speaker, scan_reader};
use proptest::prelude::*;
use std::sync::OnceLock;

fn guards() -> &'static (Guard, Guard) {
    static GUARDS: OnceLock<(Guard, Guard)> = OnceLock::new();
    GUARDS.get_or_init(|| {
        (
            Guard::new().unwrap(),
            Guard::new().unwrap().reference_path(),
        )
    })
}

const SPEAKERS: [Speaker; 4] = [
    Speaker {
        agent: false,
        outbound: false,
    },
    Speaker {
        agent: true,
        outbound: false,
    },
    Speaker {
        agent: false,
        outbound: true,
    },
    Speaker {
        agent: true,
        outbound: true,
    },
];

/// Why the fast and the reference score of `text` differ, if they do.
fn difference(text: &str, speaker: Speaker, explain_from: f32) -> Option<String> {
    let (text_fast, boundaries_fast) =
        custos_conversation::normalize::normalize_with_boundaries(text);
    let (text_reference, boundaries_reference) =
        custos_conversation::reference::normalize::normalize_with_boundaries(text);
    if text_fast != text_reference {
        return Some(format!("normalised {text_fast:?} != {text_reference:?}"));
    }
    let fast_boundaries: Vec<(u32, bool)> =
        boundaries_fast.iter().map(|b| (b.at, b.sentence)).collect();
    let reference_boundaries: Vec<(u32, bool)> = boundaries_reference
        .iter()
        .map(|b| (b.at, b.sentence))
        .collect();
    if fast_boundaries != reference_boundaries {
        return Some(format!(
            "boundaries {fast_boundaries:?} != {reference_boundaries:?}"
        ));
    }
    let (fast, reference) = guards();
    let a: MessageScore = fast.score(text, speaker, explain_from);
    let b: MessageScore = reference.score(text, speaker, explain_from);
    if a.score.to_bits() != b.score.to_bits() {
        return Some(format!("score {} != {}", a.score, b.score));
    }
    if a != b {
        return Some(format!("{a:?} != {b:?}"));
    }
    if a.reasons() != b.reasons() {
        return Some(format!("reasons {:?} != {:?}", a.reasons(), b.reasons()));
    }
    None
}

#[test]
fn fast_path_equals_reference_on_every_corpus_line_and_speaker() {
    let corpus = committed_corpus().unwrap();
    assert!(corpus.len() > 8_000, "{} lines", corpus.len());
    let mut flagged = 0;
    for example in &corpus {
        for speaker in SPEAKERS {
            // 0.0: every message explained, so the classifier words of
            // benign ones are compared too.
            for explain_from in [0.5, 0.0] {
                if let Some(diff) = difference(&example.text, speaker, explain_from) {
                    panic!("{} {speaker:?}: {diff}", example.id);
                }
            }
        }
        let (fast, _) = guards();
        if fast.score(&example.text, example.speaker(), 0.5).score >= 0.5 {
            flagged += 1;
        }
    }
    // The comparison saw both verdicts.
    assert!(
        flagged > 3_000 && flagged < corpus.len() - 3_000,
        "{flagged}"
    );
}

#[test]
fn scan_output_equals_reference_on_the_corpus() {
    let corpus = committed_corpus().unwrap();
    let mut input = String::new();
    for (i, e) in corpus.iter().enumerate() {
        let text = serde_json::to_string(&e.text).unwrap();
        if i % 2 == 0 {
            input.push_str(&format!("{{\"id\":\"b{i}\",\"text\":{text}}}\n"));
        } else {
            input.push_str(&format!(
                "{{\"type\":\"message\",\"ts\":\"2025-03-03T10:00:00Z\",\"id\":\"e{i}\",\"conversation_id\":\"conv-{}\",\"channel\":\"chat\",\"direction\":\"{}\",\"sender_role\":\"{}\",\"text\":{text}}}\n",
                i % 300,
                e.direction,
                e.sender_role,
            ));
        }
    }
    let (fast, reference) = guards();
    let config = ConversationConfig::default();
    let mut out_fast = Vec::new();
    let mut out_reference = Vec::new();
    let summary_fast = scan_reader(input.as_bytes(), &mut out_fast, fast, &config).unwrap();
    let summary_reference =
        scan_reader(input.as_bytes(), &mut out_reference, reference, &config).unwrap();
    assert_eq!(summary_fast, summary_reference);
    assert_eq!(summary_fast.scored, corpus.len() as u64);
    assert!(summary_fast.scam > 1_000 && summary_fast.benign > 1_000);
    let fast_lines: Vec<&str> = std::str::from_utf8(&out_fast).unwrap().lines().collect();
    let reference_lines: Vec<&str> = std::str::from_utf8(&out_reference)
        .unwrap()
        .lines()
        .collect();
    assert_eq!(fast_lines.len(), reference_lines.len());
    for (a, b) in fast_lines.iter().zip(&reference_lines) {
        assert_eq!(a, b);
    }
}

#[test]
fn fast_path_equals_reference_on_tricky_text() {
    let cases = [
        "",
        " ",
        "645",
        "'1963'",
        "s e e d  p h r a s e",
        "s33d phr4se p@ssw0rd wa11et",
        "se\u{200B}ed ph\u{200D}rase",
        "ѕееd рhrase",
        "Ｓｅｅｄ　ｐｈｒａｓｅ",
        "Назовите кoд из смс",
        "验证码是一二三四五六",
        "请 提 供 密 码",
        "the code is four five one two nine eight",
        "seed freeze and two factor and any desk",
        "We will never ask for your code, but read me the code now.",
        "ǅ ǆ ß œ İ ı ﬁ ﬀ ㎒ ①②③④",
        "Mã xác thực của bạn là 482917",
        "Doğrulama kodunu söyleyin, AnyDesk kurmanızı istemez",
        "a\u{0301}\u{0301}\u{0301}b\u{0327}c",
        "🔑🔑 send me your 🔑 seed phrase 🔑",
        "xac nhan ma, never share it. But xac nhan ma now!",
        "Don't worry, send me the code... or the seed phrase; ok?",
        "NEVER  share:the,CODE.with anyone!!!1 p@$$w0rd 4-8-2-9",
    ];
    for text in cases {
        for speaker in SPEAKERS {
            if let Some(diff) = difference(text, speaker, 0.0) {
                panic!("{text:?} {speaker:?}: {diff}");
            }
        }
    }
    let long = "read me the c\u{200B}ode, move USDT to the safe wallet 4821 97 ".repeat(2_000);
    assert_eq!(difference(&long, SPEAKERS[0], 0.5), None);
}

/// Characters that exercise every normalisation branch.
fn tricky_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => prop::char::range('a', 'z'),
        2 => prop::sample::select(vec![' ', ' ', ' ', '.', ',', '!', '?', ';', '\n', '-', '\'', '@', '$', '0', '1', '3', '4', '5', '7', '9', '2']),
        1 => prop::char::range('A', 'Z'),
        // Zero-width, soft hyphen, combining marks.
        1 => prop::sample::select(vec!['\u{200B}', '\u{200C}', '\u{200D}', '\u{FEFF}', '\u{00AD}', '\u{2060}', '\u{0301}', '\u{0308}', '\u{0327}', '\u{0303}', '\u{034F}']),
        // Cyrillic and Greek look-alikes, Russian letters.
        2 => prop::sample::select(vec!['а', 'е', 'о', 'р', 'с', 'у', 'х', 'к', 'м', 'т', 'ѕ', 'і', 'ј', 'ԁ', 'α', 'ο', 'ρ', 'ν', 'Κ', 'д', 'ж', 'й', 'ё', 'л', 'ь', 'ы', 'Н']),
        // Accented Latin, Turkish, Vietnamese, ligatures, full width.
        1 => prop::sample::select(vec!['á', 'ç', 'ñ', 'ş', 'ğ', 'ı', 'İ', 'ö', 'đ', 'ư', 'ơ', 'ạ', 'ệ', 'ß', 'æ', 'œ', 'ø', 'ł', 'ﬁ', 'Ｓ', 'ｅ', '１', '　', 'ǅ', '①', '²']),
        // CJK, Chinese digits and punctuation.
        1 => prop::sample::select(vec!['验', '证', '码', '密', '一', '二', '三', '四', '五', '六', '零', '两', '。', '、', '，', 'か', '한']),
        1 => any::<char>(),
    ]
}

fn tricky_text() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "seed",
        "phrase",
        "code",
        "never",
        "send",
        "me",
        "your",
        "the",
        "otp",
        "anydesk",
        "any",
        "desk",
        "two",
        "factor",
        "four",
        "five",
        "one",
        "six",
        "nine",
        "safe",
        "wallet",
        "but",
        "or",
        "código",
        "кoд",
        "смс",
        "验证码",
        "不要",
        "mã",
        "kodunu",
        "istemez",
        "ya da",
        "whats",
        "app",
        "wifi",
        "password",
        "p@ss",
        "s33d",
        "binance",
        "support",
        "frozen",
    ]);
    prop_oneof![
        prop::collection::vec(tricky_char(), 0..200).prop_map(|c| c.into_iter().collect()),
        prop::collection::vec((words, prop::collection::vec(tricky_char(), 0..3)), 0..40).prop_map(
            |parts| {
                let mut text = String::new();
                for (word, glue) in parts {
                    text.push_str(word);
                    text.extend(glue);
                    text.push(' ');
                }
                text
            }
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn fast_path_equals_reference_on_random_unicode(text in tricky_text(), speaker in 0usize..4, explain in any::<bool>()) {
        let explain_from = if explain { 0.0 } else { 0.5 };
        prop_assert_eq!(difference(&text, SPEAKERS[speaker], explain_from), None, "{:?}", text);
    }

    #[test]
    fn fast_path_equals_reference_on_random_ascii(text in "[ -~\n\t]{0,300}", speaker in 0usize..4) {
        prop_assert_eq!(difference(&text, SPEAKERS[speaker], 0.0), None, "{:?}", text);
    }

    #[test]
    fn fast_path_equals_reference_on_long_random_text(text in prop::collection::vec(tricky_char(), 2_000..8_000).prop_map(|c| c.into_iter().collect::<String>())) {
        prop_assert_eq!(difference(&text, SPEAKERS[0], 0.0), None, "{:?}", text);
    }
}

/// Training uses the indices themselves (not only their sum): the new
/// extraction gives the reference's indices, in order, on every line.
#[test]
fn feature_indices_equal_reference_on_the_corpus() {
    use custos_conversation::model::{DEFAULT_BITS, Features, extract};
    use custos_conversation::normalize::normalize_with_boundaries;
    use custos_conversation::rules::RuleSet;
    let rules = RuleSet::new().unwrap();
    let corpus = committed_corpus().unwrap();
    let mut total = 0;
    for example in &corpus {
        let (normalized, boundaries) = normalize_with_boundaries(&example.text);
        let hits = rules.evaluate_with_boundaries(&normalized, &boundaries);
        for speaker in SPEAKERS {
            let mut named = Vec::new();
            let fast = extract(&normalized, &hits, speaker, DEFAULT_BITS, Some(&mut named));
            let mut reference_named = Vec::new();
            let mut reference = Features::default();
            custos_conversation::reference::features::extract_into(
                &normalized,
                &hits,
                speaker,
                DEFAULT_BITS,
                Some(&mut reference_named),
                &mut reference,
            );
            assert_eq!(fast.indices, reference.indices, "{}", example.id);
            assert_eq!(named, reference_named, "{}", example.id);
            total += fast.indices.len();
        }
    }
    assert!(total > corpus.len() * 4 * 50, "{total}");
}
