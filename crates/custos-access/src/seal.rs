//! Sealing TOTP secrets at rest: AES-256-GCM under a key the caller supplies
//! (32 bytes from configuration), bound to the agent the secret belongs to.
//!
//! Format v1: `0x01` ‖ 12-byte random nonce ‖ ciphertext ‖ 16-byte tag; the
//! associated data is `custos-access/totp/v1\0` ‖ the agent id, so a sealed
//! secret copied onto another agent's row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::{Zeroize, Zeroizing};

use crate::totp::TotpSecret;

/// Bytes of a sealing key.
pub const SEALING_KEY_LEN: usize = 32;

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const DOMAIN: &[u8] = b"custos-access/totp/v1\0";

/// The key that seals TOTP secrets. Zeroized on drop, never printed.
#[derive(Clone)]
pub struct SealingKey([u8; SEALING_KEY_LEN]);

impl SealingKey {
    pub fn from_bytes(bytes: [u8; SEALING_KEY_LEN]) -> SealingKey {
        SealingKey(bytes)
    }

    /// 64 hex digits (as in a config file or `CUSTOS_*` variable). The
    /// error never repeats the text.
    pub fn from_hex(text: &str) -> Option<SealingKey> {
        let text = text.trim().as_bytes();
        if text.len() != SEALING_KEY_LEN * 2 {
            return None;
        }
        let mut key = [0_u8; SEALING_KEY_LEN];
        for (index, pair) in text.chunks_exact(2).enumerate() {
            let high = char::from(pair[0]).to_digit(16)?;
            let low = char::from(pair[1]).to_digit(16)?;
            key[index] = u8::try_from(high * 16 + low).ok()?;
        }
        Some(SealingKey(key))
    }
}

impl Drop for SealingKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

/// Why a secret could not be sealed or opened; deliberately without detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SealFailure {
    Randomness,
    Crypto,
}

fn aad(agent: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(DOMAIN.len() + agent.len());
    aad.extend_from_slice(DOMAIN);
    aad.extend_from_slice(agent.as_bytes());
    aad
}

pub(crate) fn seal(
    key: &SealingKey,
    agent: &str,
    secret: &TotpSecret,
) -> Result<Vec<u8>, SealFailure> {
    let mut nonce = [0_u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| SealFailure::Randomness)?;
    let cipher = Aes256Gcm::new((&key.0).into());
    let aad = aad(agent);
    let sealed = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: secret.expose(),
                aad: &aad,
            },
        )
        .map_err(|_| SealFailure::Crypto)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

pub(crate) fn open(
    key: &SealingKey,
    agent: &str,
    sealed: &[u8],
) -> Result<TotpSecret, SealFailure> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
        return Err(SealFailure::Crypto);
    }
    let (nonce, body) = sealed[1..].split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SealFailure::Crypto)?;
    let cipher = Aes256Gcm::new((&key.0).into());
    let aad = aad(agent);
    let plain = cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: body,
                aad: &aad,
            },
        )
        .map_err(|_| SealFailure::Crypto)?;
    let plain = Zeroizing::new(plain);
    Ok(TotpSecret::from_bytes(plain.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::from_bytes([byte; SEALING_KEY_LEN])
    }

    #[test]
    fn sealed_secrets_open_only_for_their_agent_key_and_bytes() {
        let secret = TotpSecret::from_bytes(b"12345678901234567890".to_vec());
        let sealed = seal(&key(1), "a-1", &secret).unwrap();
        assert_eq!(sealed.len(), 1 + NONCE_LEN + 20 + TAG_LEN);
        assert!(!sealed.windows(20).any(|w| w == secret.expose()));
        assert_eq!(open(&key(1), "a-1", &sealed).unwrap(), secret);
        assert_eq!(open(&key(2), "a-1", &sealed), Err(SealFailure::Crypto));
        assert_eq!(open(&key(1), "a-2", &sealed), Err(SealFailure::Crypto));
        for index in 0..sealed.len() {
            let mut flipped = sealed.clone();
            flipped[index] ^= 0x01;
            assert_eq!(
                open(&key(1), "a-1", &flipped),
                Err(SealFailure::Crypto),
                "{index}"
            );
        }
        assert_eq!(
            open(&key(1), "a-1", &sealed[..10]),
            Err(SealFailure::Crypto)
        );
        // Random nonces: sealing twice differs.
        assert_ne!(sealed, seal(&key(1), "a-1", &secret).unwrap());
    }

    #[test]
    fn keys_parse_from_hex_and_never_print() {
        let parsed = SealingKey::from_hex(&"0f".repeat(32)).unwrap();
        assert_eq!(parsed.0, [0x0f; 32]);
        assert!(SealingKey::from_hex("00").is_none());
        assert!(SealingKey::from_hex(&"zz".repeat(32)).is_none());
        assert_eq!(format!("{parsed:?}"), "SealingKey(<redacted>)");
    }
}
