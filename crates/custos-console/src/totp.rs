//! TOTP (RFC 6238) over HOTP (RFC 4226) with HMAC-SHA1: the console's second
//! factor. Six digits, 30-second steps, one step of clock drift either way,
//! and each step accepted at most once per user (RFC 6238 §5.2), so a code
//! seen over a shoulder cannot be replayed.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub const TOTP_DIGITS: u32 = 6;
pub const TOTP_PERIOD_SECS: i64 = 30;
pub const TOTP_SKEW_STEPS: i64 = 1;
/// 160 bits, the HMAC-SHA1 key size RFC 4226 recommends.
pub const TOTP_SECRET_LEN: usize = 20;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// HOTP: the `digits`-digit code of `counter` under `secret`.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        // INVARIANT: HMAC accepts keys of every length.
        return 0;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let binary = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    binary % 10_u32.pow(digits)
}

/// The time step of `unix_secs`.
pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(TOTP_PERIOD_SECS)
}

/// The six-digit code for `unix_secs`, zero-padded.
pub fn code_at(secret: &[u8], unix_secs: i64) -> String {
    let step = u64::try_from(step_of(unix_secs)).unwrap_or(0);
    format!(
        "{:0width$}",
        hotp(secret, step, TOTP_DIGITS),
        width = TOTP_DIGITS as usize
    )
}

/// The step `code` is valid for at `unix_secs` (within the allowed skew), if
/// that step is later than `last_used_step`. Spaces in `code` are ignored.
pub fn verify(secret: &[u8], code: &str, unix_secs: i64, last_used_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != TOTP_DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    let mut found = None;
    // Every candidate is computed, so the time taken does not say which matched.
    for step in (now - TOTP_SKEW_STEPS)..=(now + TOTP_SKEW_STEPS) {
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let expected = format!(
            "{:0width$}",
            hotp(secret, counter, TOTP_DIGITS),
            width = TOTP_DIGITS as usize
        );
        if crate::crypto::constant_time_eq(expected.as_bytes(), code.as_bytes())
            && step > last_used_step
            && found.is_none()
        {
            found = Some(step);
        }
    }
    found
}

/// RFC 4648 base32 without padding, as authenticator apps expect.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The `otpauth://` URI an authenticator app scans. It holds the secret.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    format!(
        "otpauth://totp/{issuer}:{account}?secret={}&issuer={issuer}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD_SECS}",
        base32(secret),
        issuer = percent_encode(issuer),
        account = percent_encode(account),
    )
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc4226_hotp_vectors() {
        let expect = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, code) in expect.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), code, "{counter}");
        }
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        let check = |secs: i64, code: u32| {
            let step = u64::try_from(step_of(secs)).unwrap_or(0);
            assert_eq!(hotp(RFC_SECRET, step, 8), code, "{secs}");
        };
        check(59, 94287082);
        check(1111111109, 7081804);
        check(1111111111, 14050471);
        check(1234567890, 89005924);
        check(2000000000, 69279037);
        check(20000000000, 65353130);
    }

    #[test]
    fn verify_accepts_one_step_of_drift_and_never_a_used_step() {
        let now = 1_700_000_000;
        let code = code_at(RFC_SECRET, now);
        let step = step_of(now);
        assert_eq!(verify(RFC_SECRET, &code, now, 0), Some(step));
        assert_eq!(verify(RFC_SECRET, &code, now + 30, 0), Some(step));
        assert_eq!(verify(RFC_SECRET, &code, now - 30, 0), Some(step));
        assert_eq!(verify(RFC_SECRET, &code, now + 90, 0), None);
        // Replay of the same step.
        assert_eq!(verify(RFC_SECRET, &code, now, step), None);
        assert_eq!(verify(RFC_SECRET, "12345", now, 0), None);
        assert_eq!(verify(RFC_SECRET, "abcdef", now, 0), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(verify(RFC_SECRET, &spaced, now, 0), Some(step));
    }

    #[test]
    fn base32_matches_rfc4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"fo"), "MZXQ");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(RFC_SECRET), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    }

    #[test]
    fn otpauth_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("custos console", "ana lyst", RFC_SECRET);
        assert_eq!(
            uri,
            "otpauth://totp/custos%20console:ana%20lyst?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=custos%20console&algorithm=SHA1&digits=6&period=30"
        );
    }
}
