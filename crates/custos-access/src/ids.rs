//! Identifiers this crate mints (grant ids, event ids) and the canonical
//! form of an agent id used to tell whether two spellings name one person.

use std::fmt;

/// A grant's id: `gr-` and 32 lowercase hex digits (128 random bits).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GrantId(String);

const GRANT_PREFIX: &str = "gr-";
const GRANT_HEX_LEN: usize = 32;

impl GrantId {
    /// A fresh random id from the operating system's generator.
    pub fn generate() -> Result<GrantId, getrandom::Error> {
        Ok(GrantId(format!("{GRANT_PREFIX}{}", random_hex(16)?)))
    }

    /// Parses `gr-` followed by exactly 32 lowercase hex digits; anything
    /// else is refused, so an id is safe in SQL, logs and urls.
    pub fn parse(text: &str) -> Option<GrantId> {
        let hex = text.strip_prefix(GRANT_PREFIX)?;
        let valid = hex.len() == GRANT_HEX_LEN
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        valid.then(|| GrantId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for GrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for GrantId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for GrantId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<GrantId, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        GrantId::parse(&text).ok_or_else(|| serde::de::Error::custom("not a grant id"))
    }
}

/// `bytes` random bytes as lowercase hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String, getrandom::Error> {
    let mut buffer = vec![0_u8; bytes];
    getrandom::fill(&mut buffer)?;
    Ok(to_hex(&buffer))
}

pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

/// The canonical form of an agent id, for "is this the same person": case
/// folded, without whitespace or invisible format characters (zero-width
/// spaces, bidi marks, soft hyphens, variation selectors), with full-width
/// ASCII folded to ASCII. `A-0042`, ` a-0042`, `a\u{200b}-0042` and
/// `ａ-００４２` all give `a-0042`.
///
/// Aliases the directory knows about (two ids for one employee) cannot be
/// seen from the id alone: the caller resolves the approver through the
/// directory, and an id without a directory record has no approving role.
pub fn agent_key(agent: &str) -> String {
    agent
        .chars()
        .filter(|&c| !c.is_whitespace() && !is_invisible(c))
        .map(fold_full_width)
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

fn fold_full_width(c: char) -> char {
    let code = u32::from(c);
    if (0xFF01..=0xFF5E).contains(&code) {
        char::from_u32(code - 0xFF01 + 0x21).unwrap_or(c)
    } else {
        c
    }
}

/// A reason code for rejecting or revoking a grant: 1 to 64 of
/// `[a-z0-9_]`. Codes, not free text, so no PII can reach the audit log.
pub(crate) fn valid_reason_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_ids_parse_only_their_own_shape() {
        let id = GrantId::generate().unwrap();
        assert_eq!(GrantId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.as_str().len(), 35);
        for bad in [
            "",
            "gr-",
            "gr-0123456789abcdef0123456789abcde",
            "gr-0123456789abcdef0123456789abcdeF",
            "GR-0123456789abcdef0123456789abcdef",
            "gr-0123456789abcdef0123456789abcdef0",
            "gr-0123456789abcdef0123456789abcde'",
        ] {
            assert_eq!(GrantId::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn spellings_of_one_agent_share_a_key() {
        let cases = [
            ("a-0042", "a-0042"),
            ("A-0042", "a-0042"),
            (" a-0042\t", "a-0042"),
            ("a\u{200B}-0042", "a-0042"),
            ("\u{FEFF}a-0042\u{2060}", "a-0042"),
            ("ａ-００４２", "a-0042"),
            ("Ａ－００４２", "a-0042"),
            ("a-0043", "a-0043"),
        ];
        for (input, expect) in cases {
            assert_eq!(agent_key(input), expect, "{input:?}");
        }
    }

    #[test]
    fn reason_codes_are_slugs() {
        for (code, ok) in [
            ("ticket_closed", true),
            ("r2", true),
            ("", false),
            ("Ticket", false),
            ("has space", false),
            ("x".repeat(65).as_str(), false),
        ] {
            assert_eq!(valid_reason_code(code), ok, "{code:?}");
        }
    }
}
