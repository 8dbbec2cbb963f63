//! Secret values: key material and decrypted plaintext. Both are zeroized
//! when dropped and never print.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::VaultError;

/// Length of every key the vault uses (AES-256 and HMAC-SHA256 keys).
pub const KEY_LEN: usize = 32;

/// 256 bits of key material: a key-encryption key, a data key or the
/// commitment key. Zeroized on drop; `Debug` prints no byte of it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// Wraps key bytes. The caller should zeroize its own copy.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> SecretKey {
        SecretKey(bytes)
    }

    /// A fresh random key from the operating system.
    pub fn generate() -> Result<SecretKey, VaultError> {
        let mut key = SecretKey([0; KEY_LEN]);
        fill_random(&mut key.0)?;
        Ok(key)
    }

    /// Parses 64 hexadecimal digits (surrounding whitespace allowed). The
    /// error never repeats the text.
    pub fn from_hex(text: &str) -> Result<SecretKey, VaultError> {
        let text = text.trim().as_bytes();
        if text.len() != KEY_LEN * 2 {
            return Err(VaultError::KeyRing(format!(
                "a key must be {} hexadecimal digits, got {}",
                KEY_LEN * 2,
                text.len()
            )));
        }
        let mut key = SecretKey([0; KEY_LEN]);
        for (byte, pair) in key.0.iter_mut().zip(text.chunks_exact(2)) {
            match (hex_digit(pair[0]), hex_digit(pair[1])) {
                (Some(high), Some(low)) => *byte = (high << 4) | low,
                _ => {
                    return Err(VaultError::KeyRing(
                        "a key contains a character that is not a hexadecimal digit".to_owned(),
                    ));
                }
            }
        }
        Ok(key)
    }

    pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hexadecimal of `bytes` (ids and test vectors, never keys in
/// production paths).
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// Fills `buffer` from the operating system's random source.
pub(crate) fn fill_random(buffer: &mut [u8]) -> Result<(), VaultError> {
    getrandom::fill(buffer)
        .map_err(|error| VaultError::Internal(format!("no randomness from the system: {error}")))
}

/// A decrypted field value. Zeroized on drop; `Debug` prints no character of
/// it and there is no `Display`: reading it takes an explicit
/// [`Plaintext::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Plaintext(Zeroizing<String>);

impl Plaintext {
    pub(crate) fn new(text: String) -> Plaintext {
        Plaintext(Zeroizing::new(text))
    }

    /// The value itself. Every call site is a place where PII is handled.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Plaintext(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_keys_parse_and_bad_ones_are_refused_without_echo() {
        let key = SecretKey::from_hex(&"0f".repeat(32));
        assert_eq!(key.map(|k| *k.expose()), Ok([0x0f; 32]));
        let upper = SecretKey::from_hex(&"AB".repeat(32));
        assert_eq!(upper.map(|k| *k.expose()), Ok([0xab; 32]));
        let secretish = format!("{}zz", "41".repeat(31));
        let error = SecretKey::from_hex(&secretish).err().map(|e| e.to_string());
        assert!(
            error.as_deref().is_some_and(|m| !m.contains("4141")),
            "{error:?}"
        );
        assert!(SecretKey::from_hex("00").is_err());
    }

    #[test]
    fn secrets_never_print() {
        let key = SecretKey::from_bytes([0x42; KEY_LEN]);
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
        let text = Plaintext::new("jane@example.com".to_owned());
        assert!(!format!("{text:?}").contains("jane"));
        assert_eq!(text.expose(), "jane@example.com");
    }

    #[test]
    fn hex_encoding_is_lowercase_pairs() {
        assert_eq!(to_hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
