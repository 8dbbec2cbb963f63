//! The first, allocation-heavy implementation of [`super::normalize`],
//! kept for tests only: the fast one must give the same output on every
//! corpus line (`normalize::tests::same_as_reference_on_the_corpus`).

#![allow(clippy::all)]

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Normalises `input` for matching and features.
pub fn normalize(input: &str) -> String {
    let nfkc: Cow<'_, str> = if input.is_ascii() {
        Cow::Borrowed(input)
    } else {
        Cow::Owned(input.nfkc().collect())
    };
    let census = ScriptCensus::of(&nfkc);
    let mut tokens = tokenize(&nfkc, census.mostly_latin());
    if !census.mostly_latin() {
        for token in &mut tokens {
            fold_latin_into_cyrillic(token);
        }
    }
    let tokens = join_spelled_out(tokens);
    let tokens: Vec<String> = tokens.into_iter().map(decode_leet).collect();
    let tokens = number_words_to_digits(tokens);
    let mut out = String::with_capacity(input.len() + 8);
    for token in tokens.iter().filter(|t| !t.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(token);
    }
    rewrite_transcription_errors(out)
}

#[derive(Default)]
struct ScriptCensus {
    latin: usize,
    cyrillic: usize,
}

impl ScriptCensus {
    fn of(text: &str) -> ScriptCensus {
        let mut census = ScriptCensus::default();
        for c in text.chars() {
            if c.is_ascii_alphabetic() || ('\u{00C0}'..='\u{024F}').contains(&c) {
                census.latin += 1;
            } else if ('\u{0400}'..='\u{04FF}').contains(&c) {
                census.cyrillic += 1;
            }
        }
        census
    }

    fn mostly_latin(&self) -> bool {
        self.latin >= self.cyrillic
    }
}

fn is_zero_width(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{00AD}' | '\u{034F}' | '\u{180E}'
    )
}

/// Cyrillic and Greek letters that look like Latin ones (either case).
fn confusable_to_latin(c: char) -> Option<char> {
    Some(match c {
        'а' | 'А' | 'α' | 'Α' => 'a',
        'в' | 'В' | 'β' | 'Β' => 'b',
        'с' | 'С' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'Е' | 'ё' | 'Ё' | 'ε' | 'Ε' => 'e',
        'һ' | 'Н' | 'Η' => 'h',
        'і' | 'І' | 'ι' | 'Ι' | 'ӏ' => 'i',
        'ј' | 'Ј' => 'j',
        'к' | 'К' | 'κ' | 'Κ' => 'k',
        'м' | 'М' | 'Μ' => 'm',
        'Ν' | 'ν' => 'v',
        'о' | 'О' | 'ο' | 'Ο' | 'σ' => 'o',
        'р' | 'Р' | 'ρ' | 'Ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' | 'τ' | 'Τ' => 't',
        'υ' | 'Υ' => 'u',
        'ѵ' => 'v',
        'ԝ' => 'w',
        'х' | 'Х' | 'χ' | 'Χ' => 'x',
        'у' | 'У' | 'γ' => 'y',
        'Ζ' => 'z',
        _ => return None,
    })
}

/// Latin letters that look like Cyrillic ones, for Latin smuggled into a
/// Russian word (`кoд` with a Latin `o`).
fn latin_to_cyrillic(c: char) -> Option<char> {
    Some(match c {
        'a' => 'а',
        'b' => 'в',
        'c' => 'с',
        'e' => 'е',
        'h' => 'н',
        'k' => 'к',
        'm' => 'м',
        'o' => 'о',
        'p' => 'р',
        't' => 'т',
        'x' => 'х',
        'y' => 'у',
        _ => return None,
    })
}

fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{3040}'..='\u{30FF}'
        | '\u{AC00}'..='\u{D7AF}' | '\u{F900}'..='\u{FAFF}')
}

/// Letters NFD does not decompose into base + mark.
fn special_fold(c: char) -> Option<&'static str> {
    Some(match c {
        'đ' | 'Đ' => "d",
        'ı' => "i",
        'ø' | 'Ø' => "o",
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ł' | 'Ł' => "l",
        'ё' => "е",
        'й' => "и",
        _ => return None,
    })
}

/// Lowercases, strips accents and splits into tokens: runs of letters and
/// digits (plus `@` and `$` for leetspeak), and runs of CJK characters.
fn tokenize(text: &str, fold_confusables: bool) -> Vec<String> {
    #[derive(PartialEq, Clone, Copy)]
    enum Class {
        Word,
        Cjk,
        Sep,
    }
    let mut tokens: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut current_class = Class::Sep;
    let mut push_char = |c: char, class: Class, tokens: &mut Vec<String>| {
        if class != current_class {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            current_class = class;
        }
        if class != Class::Sep {
            current.push(c);
        }
    };
    for c in text.chars() {
        if c.is_ascii() {
            let lower = c.to_ascii_lowercase();
            let class = if lower.is_ascii_alphanumeric() || lower == '@' || lower == '$' {
                Class::Word
            } else {
                Class::Sep
            };
            push_char(lower, class, &mut tokens);
            continue;
        }
        if is_zero_width(c) || is_combining_mark(c) {
            continue;
        }
        if is_cjk(c) {
            push_char(c, Class::Cjk, &mut tokens);
            continue;
        }
        if fold_confusables {
            if let Some(latin) = confusable_to_latin(c) {
                push_char(latin, Class::Word, &mut tokens);
                continue;
            }
        }
        if !c.is_alphanumeric() {
            push_char(' ', Class::Sep, &mut tokens);
            continue;
        }
        for lower in c.to_lowercase() {
            if is_combining_mark(lower) {
                continue;
            }
            if let Some(folded) = special_fold(lower) {
                for f in folded.chars() {
                    push_char(f, Class::Word, &mut tokens);
                }
                continue;
            }
            let mut base = None;
            decompose_canonical(lower, |d| {
                if base.is_none() && !is_combining_mark(d) {
                    base = Some(d);
                }
            });
            let base = base.unwrap_or(lower);
            let base = special_fold(base)
                .and_then(|s| s.chars().next())
                .unwrap_or(base);
            push_char(base, Class::Word, &mut tokens);
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

fn fold_latin_into_cyrillic(token: &mut String) {
    let has_cyrillic = token
        .chars()
        .any(|c| ('\u{0400}'..='\u{04FF}').contains(&c));
    let has_latin = token.chars().any(|c| c.is_ascii_alphabetic());
    if has_cyrillic && has_latin {
        *token = token
            .chars()
            .map(|c| latin_to_cyrillic(c).unwrap_or(c))
            .collect();
    }
}

/// Joins runs of three or more one-character tokens: `s e e d` → `seed`,
/// `4 8 2 9 1 7` → `482917`.
fn join_spelled_out(tokens: Vec<String>) -> Vec<String> {
    let single = |t: &str| {
        let mut chars = t.chars();
        matches!((chars.next(), chars.next()), (Some(_), None))
    };
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        while j < tokens.len() && single(&tokens[j]) {
            j += 1;
        }
        if j - i >= 3 {
            out.push(tokens[i..j].concat());
            i = j;
        } else {
            out.push(tokens[i].clone());
            i += 1;
        }
    }
    out
}

/// `s33d` → `seed`, `p@ssw0rd` → `password`, `wa11et` → `wallet`; leaves
/// numbers with units (`24h`, `2fa`), tickers (`bep20`) and plain numbers.
fn decode_leet(token: String) -> String {
    if !token.is_ascii() {
        return token;
    }
    let bytes = token.as_bytes();
    let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let leet = |b: u8| matches!(b, b'0' | b'1' | b'3' | b'4' | b'5' | b'7' | b'@' | b'$');
    if !bytes.iter().any(|&b| leet(b)) {
        return token;
    }
    if letters < 2 {
        return token.replace(['@', '$'], "");
    }
    let first_letter = bytes
        .iter()
        .position(|b| b.is_ascii_alphabetic())
        .unwrap_or(0);
    let last_letter = bytes
        .iter()
        .rposition(|b| b.is_ascii_alphabetic())
        .unwrap_or(0);
    let digits_then_letters = bytes[..first_letter].iter().all(u8::is_ascii_digit)
        && bytes[first_letter..].iter().all(u8::is_ascii_alphabetic)
        && first_letter > 0;
    let letters_then_digits = bytes[..=last_letter].iter().all(u8::is_ascii_alphabetic)
        && bytes[last_letter + 1..].iter().all(u8::is_ascii_digit)
        && last_letter + 1 < bytes.len();
    if digits_then_letters || letters_then_digits {
        return token.replace(['@', '$'], "");
    }
    let mut out = String::with_capacity(token.len());
    for (i, &b) in bytes.iter().enumerate() {
        let near = |want: &[u8]| {
            (i > 0 && want.contains(&bytes[i - 1]))
                || bytes.get(i + 1).is_some_and(|n| want.contains(n))
        };
        let c = match b {
            b'0' => 'o',
            b'1' if near(b"l1") => 'l',
            b'1' => 'i',
            b'3' => 'e',
            b'4' | b'@' => 'a',
            b'5' | b'$' => 's',
            b'7' => 't',
            other => other as char,
        };
        out.push(c);
    }
    out
}

/// Digits spoken as words in the languages served (accents already
/// stripped). Short Vietnamese words are common in ordinary text, so only
/// runs of four or more count.
fn number_word(token: &str) -> Option<char> {
    Some(match token {
        "zero" | "cero" | "sifir" | "nol" | "kosong" | "khong" | "ноль" | "нуль" => '0',
        "one" | "uno" | "una" | "um" | "uma" | "bir" | "satu" | "mot" | "один" | "одна" => {
            '1'
        }
        "two" | "dos" | "dois" | "duas" | "iki" | "dua" | "hai" | "два" | "две" => '2',
        "three" | "tres" | "uc" | "tiga" | "ba" | "три" => '3',
        "four" | "cuatro" | "quatro" | "dort" | "empat" | "bon" | "четыре" => '4',
        "five" | "cinco" | "bes" | "lima" | "nam" | "пять" => '5',
        "six" | "seis" | "alti" | "enam" | "sau" | "шесть" => '6',
        "seven" | "siete" | "sete" | "yedi" | "tujuh" | "bay" | "семь" => '7',
        "eight" | "ocho" | "oito" | "sekiz" | "delapan" | "tam" | "восемь" => '8',
        "nine" | "nueve" | "nove" | "dokuz" | "sembilan" | "chin" | "девять" => '9',
        _ => return None,
    })
}

fn chinese_digit(c: char) -> Option<char> {
    Some(match c {
        '零' | '〇' => '0',
        '一' | '幺' => '1',
        '二' | '两' => '2',
        '三' => '3',
        '四' => '4',
        '五' => '5',
        '六' => '6',
        '七' => '7',
        '八' => '8',
        '九' => '9',
        _ => return None,
    })
}

fn number_words_to_digits(tokens: Vec<String>) -> Vec<String> {
    let digitish =
        |t: &str| number_word(t).is_some() || (t.len() == 1 && t.as_bytes()[0].is_ascii_digit());
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let mut j = i;
        while j < tokens.len() && digitish(&tokens[j]) {
            j += 1;
        }
        let words = tokens[i..j]
            .iter()
            .filter(|t| number_word(t).is_some())
            .count();
        if j - i >= 4 && words >= 2 {
            let digits: String = tokens[i..j]
                .iter()
                .map(|t| number_word(t).unwrap_or_else(|| t.chars().next().unwrap_or('0')))
                .collect();
            out.push(digits);
            i = j;
            continue;
        }
        let token = &tokens[i];
        if token.chars().any(|c| chinese_digit(c).is_some()) {
            out.push(chinese_digit_runs(token));
        } else {
            out.push(token.clone());
        }
        i += 1;
    }
    out
}

/// Replaces runs of four or more Chinese digits (`一二三四五六`) inside a
/// CJK token with ASCII digits.
fn chinese_digit_runs(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    let mut out = String::with_capacity(token.len());
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chinese_digit(chars[j]).is_some() {
            j += 1;
        }
        if j - i >= 4 {
            out.extend(chars[i..j].iter().filter_map(|&c| chinese_digit(c)));
            i = j;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// Whole-word rewrites of transcription errors and split brand names.
const REWRITES: &[(&str, &str)] = &[
    ("two factor", "2fa"),
    ("2 factor", "2fa"),
    ("to factor", "2fa"),
    ("too factor", "2fa"),
    ("two fa", "2fa"),
    ("2 fa", "2fa"),
    ("0tp", "otp"),
    ("seed freeze", "seed phrase"),
    ("see phrase", "seed phrase"),
    ("seed phase", "seed phrase"),
    ("seat phrase", "seed phrase"),
    ("seed frays", "seed phrase"),
    ("seedphrase", "seed phrase"),
    ("recoveryphrase", "recovery phrase"),
    ("privatekey", "private key"),
    ("privet key", "private key"),
    ("apikey", "api key"),
    ("a pi key", "api key"),
    ("any desk", "anydesk"),
    ("annie desk", "anydesk"),
    ("any desks", "anydesk"),
    ("team viewer", "teamviewer"),
    ("rust desk", "rustdesk"),
    ("ultra viewer", "ultraviewer"),
    ("quick support", "quicksupport"),
    ("whats app", "whatsapp"),
    ("what s app", "whatsapp"),
    ("watsapp", "whatsapp"),
    ("tele gram", "telegram"),
    ("wall it", "wallet"),
    ("white list", "whitelist"),
    ("one time password", "otp"),
    ("one time pin", "otp"),
    ("one time code", "otp"),
    ("verification coat", "verification code"),
];

fn rewrite_transcription_errors(text: String) -> String {
    if !REWRITES.iter().any(|(from, _)| text.contains(from)) {
        return text;
    }
    let mut out = text;
    for (from, to) in REWRITES {
        let mut search_from = 0;
        while let Some(found) = out[search_from..].find(from) {
            let start = search_from + found;
            let end = start + from.len();
            let left_ok = start == 0 || out.as_bytes()[start - 1] == b' ';
            let right_ok = end == out.len() || out.as_bytes()[end] == b' ';
            if left_ok && right_ok {
                out.replace_range(start..end, to);
                search_from = start + to.len();
            } else {
                search_from = start + 1;
            }
            while search_from < out.len() && !out.is_char_boundary(search_from) {
                search_from += 1;
            }
        }
    }
    out
}
