//! Screen watermarks: a short token shown on every revealed view, derived
//! from (agent, ticket, minute) under a broker key, so a photographed screen
//! can be traced to who saw it and when. Deterministic and pure: the same
//! agent, ticket and minute always give the same token, and the console can
//! recompute candidates to trace a photo.

use custos_core::id::{AgentId, TicketId};
use custos_core::time::EventTime;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// Length of the key, in bytes.
pub const WATERMARK_KEY_LEN: usize = 32;
/// Characters of base32 in a token: 16 × 5 = 80 bits of the MAC.
pub const WATERMARK_TOKEN_LEN: usize = 16;

const DOMAIN: &[u8] = b"custos-watermark-v1";
const MICROS_PER_MINUTE: i64 = 60_000_000;
const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The broker's watermark key. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct WatermarkKey([u8; WATERMARK_KEY_LEN]);

impl WatermarkKey {
    pub fn from_bytes(bytes: [u8; WATERMARK_KEY_LEN]) -> WatermarkKey {
        WatermarkKey(bytes)
    }
}

impl std::fmt::Debug for WatermarkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WatermarkKey(<redacted>)")
    }
}

/// The minute of `at` (floor, so negative times round down too).
pub fn watermark_minute(at: EventTime) -> i64 {
    at.as_micros().div_euclid(MICROS_PER_MINUTE)
}

/// The token for `agent` viewing `ticket` (none on a live contact) during the
/// minute of `at`: base32 of the first 80 bits of
/// HMAC-SHA256(key, domain ‖ len-prefixed agent ‖ len-prefixed ticket ‖ minute).
pub fn watermark_token(
    key: &WatermarkKey,
    agent: &AgentId,
    ticket: Option<&TicketId>,
    at: EventTime,
) -> String {
    // HMAC takes keys of any length, so this cannot fail; an empty token
    // would still be a visible (if useless) mark rather than a panic.
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&key.0) else {
        return String::new();
    };
    mac.update(DOMAIN);
    // Length prefixes keep ("ab", "c") and ("a", "bc") apart.
    for part in [agent.as_str(), ticket.map_or("", TicketId::as_str)] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(&[u8::from(ticket.is_some())]);
    mac.update(&watermark_minute(at).to_be_bytes());
    let digest = mac.finalize().into_bytes();
    base32_prefix(&digest, WATERMARK_TOKEN_LEN)
}

/// The first `chars` base32 (RFC 4648, no padding) characters of `bytes`.
fn base32_prefix(bytes: &[u8], chars: usize) -> String {
    let mut out = String::with_capacity(chars);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let index = ((buffer >> bits) & 0x1f) as usize;
            out.push(char::from(BASE32[index]));
            if out.len() == chars {
                return out;
            }
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 && out.len() < chars {
        let index = ((buffer << (5 - bits)) & 0x1f) as usize;
        out.push(char::from(BASE32[index]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str) -> AgentId {
        AgentId::parse(id).unwrap()
    }
    fn ticket(id: &str) -> TicketId {
        TicketId::parse(id).unwrap()
    }
    const KEY: WatermarkKey = WatermarkKey([7; WATERMARK_KEY_LEN]);

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        // RFC 4648 §10: BASE32("foobar") = "MZXW6YTBOI======".
        assert_eq!(base32_prefix(b"foobar", 10), "MZXW6YTBOI");
        assert_eq!(base32_prefix(b"f", 2), "MY");
        assert_eq!(base32_prefix(b"foobar", 99), "MZXW6YTBOI");
    }

    #[test]
    fn token_is_deterministic_within_a_minute_and_changes_with_each_input() {
        let t0 = EventTime::from_unix_secs(1_700_000_040); // a minute boundary
        let same_minute = EventTime::from_unix_secs(1_700_000_099);
        let next_minute = EventTime::from_unix_secs(1_700_000_100);
        let base = watermark_token(&KEY, &agent("a-1"), Some(&ticket("t-1")), t0);
        assert_eq!(base.len(), WATERMARK_TOKEN_LEN);
        assert!(base.bytes().all(|b| BASE32.contains(&b)), "{base}");
        assert_eq!(
            base,
            watermark_token(&KEY, &agent("a-1"), Some(&ticket("t-1")), same_minute)
        );
        let others = [
            watermark_token(&KEY, &agent("a-1"), Some(&ticket("t-1")), next_minute),
            watermark_token(&KEY, &agent("a-2"), Some(&ticket("t-1")), t0),
            watermark_token(&KEY, &agent("a-1"), Some(&ticket("t-2")), t0),
            watermark_token(&KEY, &agent("a-1"), None, t0),
            watermark_token(
                &WatermarkKey([8; WATERMARK_KEY_LEN]),
                &agent("a-1"),
                Some(&ticket("t-1")),
                t0,
            ),
        ];
        for other in others {
            assert_ne!(base, other);
        }
    }

    #[test]
    fn length_prefixes_separate_agent_and_ticket() {
        let at = EventTime::from_unix_secs(0);
        assert_ne!(
            watermark_token(&KEY, &agent("ab"), Some(&ticket("c")), at),
            watermark_token(&KEY, &agent("a"), Some(&ticket("bc")), at)
        );
    }

    #[test]
    fn key_never_prints() {
        assert_eq!(format!("{KEY:?}"), "WatermarkKey(<redacted>)");
    }
}
