//! TOTP (RFC 6238) over HOTP (RFC 4226), HMAC-SHA1, pure: codes, time steps,
//! the otpauth:// URI an authenticator app scans, and secrets that never print.
//!
//! custos uses 6 digits, 30-second steps and accepts the step before and
//! after the current one (clock drift between the phone and the server).

use custos_core::time::EventTime;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use zeroize::Zeroizing;

/// Digits of a code.
pub const TOTP_DIGITS: u32 = 6;
/// Seconds per time step.
pub const TOTP_PERIOD_SECS: i64 = 30;
/// Steps accepted on either side of the current one.
pub const TOTP_SKEW_STEPS: i64 = 1;
/// Bytes of a generated secret: 160 bits, the HMAC-SHA1 block RFC 4226 recommends.
pub const TOTP_SECRET_LEN: usize = 20;

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// A TOTP shared secret. Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    pub fn from_bytes(bytes: Vec<u8>) -> TotpSecret {
        TotpSecret(Zeroizing::new(bytes))
    }

    /// [`TOTP_SECRET_LEN`] bytes from the operating system's generator.
    pub fn generate() -> Result<TotpSecret, getrandom::Error> {
        let mut bytes = Zeroizing::new(vec![0_u8; TOTP_SECRET_LEN]);
        getrandom::fill(&mut bytes)?;
        Ok(TotpSecret(bytes))
    }

    /// The raw bytes. Every call site handles a secret.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// An `otpauth://` URI: it holds the secret, so it is shown once to the
/// agent enrolling and never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct OtpAuthUri(Zeroizing<String>);

impl OtpAuthUri {
    /// The URI itself (for the QR code shown once at enrolment).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for OtpAuthUri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OtpAuthUri(<redacted>)")
    }
}

/// HOTP (RFC 4226 §5.3): HMAC-SHA1 of the big-endian counter, dynamic
/// truncation, modulo 10^digits.
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    // HMAC accepts keys of any length, so this cannot fail; a code of 0 is
    // just a wrong code, never an accepted one by accident of an error path
    // (an empty MAC would make every secret agree on it, so refuse instead).
    let Ok(mut mac) = <Hmac<Sha1> as KeyInit>::new_from_slice(secret) else {
        return u32::MAX;
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

/// The time step of `at`: whole periods since the epoch (floor).
pub fn time_step(at: EventTime) -> i64 {
    at.as_micros()
        .div_euclid(1_000_000)
        .div_euclid(TOTP_PERIOD_SECS)
}

/// The 6-digit code of `secret` at `at`.
pub fn totp(secret: &TotpSecret, at: EventTime) -> u32 {
    totp_at_step(secret.expose(), time_step(at), TOTP_DIGITS)
}

fn totp_at_step(secret: &[u8], step: i64, digits: u32) -> u32 {
    match u64::try_from(step) {
        Ok(counter) => hotp(secret, counter, digits),
        // Before 1970: no valid code.
        Err(_) => u32::MAX,
    }
}

/// The time step within ±[`TOTP_SKEW_STEPS`] of `at` whose code is `code`,
/// the earliest first; `None` when no step matches. Every candidate is
/// computed, whatever matches, so timing tells nothing.
pub fn matching_step(secret: &TotpSecret, code: u32, at: EventTime) -> Option<i64> {
    let now = time_step(at);
    let mut found = None;
    for step in (now - TOTP_SKEW_STEPS)..=(now + TOTP_SKEW_STEPS) {
        let candidate = totp_at_step(secret.expose(), step, TOTP_DIGITS);
        if candidate == code && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// A code as typed: exactly six ASCII digits, surrounding whitespace and one
/// space in the middle (`123 456`, as apps display it) allowed.
pub fn parse_code(text: &str) -> Option<u32> {
    let text = text.trim();
    let digits: String = match text.split_once(' ') {
        Some((left, right)) if left.len() == 3 && right.len() == 3 => format!("{left}{right}"),
        Some(_) => return None,
        None => text.to_owned(),
    };
    if digits.len() != TOTP_DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// RFC 4648 base32, no padding (what authenticator apps read).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 0x1f) as usize]));
        }
        buffer &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 0x1f) as usize]));
    }
    out
}

/// The key URI of Google Authenticator's format:
/// `otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=ISSUER&algorithm=SHA1&digits=6&period=30`.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &TotpSecret) -> OtpAuthUri {
    let issuer = percent_encode(issuer);
    let secret = Zeroizing::new(base32(secret.expose()));
    OtpAuthUri(Zeroizing::new(format!(
        "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_PERIOD_SECS}",
        percent_encode(account),
        secret.as_str(),
    )))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push_str(&format!("{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    /// RFC 6238 appendix B, the SHA1 column: (unix time, 8-digit TOTP).
    const RFC_6238_SHA1: &[(i64, u32)] = &[
        (59, 94_287_082),
        (1_111_111_109, 7_081_804),
        (1_111_111_111, 14_050_471),
        (1_234_567_890, 89_005_924),
        (2_000_000_000, 69_279_037),
        (20_000_000_000, 65_353_130),
    ];

    #[test]
    fn rfc_6238_appendix_b_vectors() {
        for &(unix, expect) in RFC_6238_SHA1 {
            let step = time_step(EventTime::from_unix_secs(unix));
            assert_eq!(totp_at_step(RFC_SECRET, step, 8), expect, "t={unix}");
            // Six digits are the same truncation modulo 10^6.
            let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec());
            assert_eq!(
                totp(&secret, EventTime::from_unix_secs(unix)),
                expect % 1_000_000,
                "t={unix}"
            );
        }
    }

    #[test]
    fn rfc_4226_appendix_d_vectors() {
        let expect = [
            755_224, 287_082, 359_152, 969_429, 338_314, 254_676, 287_922, 162_583, 399_871,
            520_489,
        ];
        for (counter, code) in expect.into_iter().enumerate() {
            assert_eq!(
                hotp(RFC_SECRET, counter as u64, 6),
                code,
                "counter {counter}"
            );
        }
    }

    #[test]
    fn the_window_is_one_step_either_side() {
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec());
        let at = EventTime::from_unix_secs(1_111_111_111);
        let now = time_step(at);
        let code_at = |step| totp_at_step(RFC_SECRET, step, TOTP_DIGITS);
        let cases = [
            (code_at(now), Some(now)),
            (code_at(now - 1), Some(now - 1)),
            (code_at(now + 1), Some(now + 1)),
            (code_at(now - 2), None),
            (code_at(now + 2), None),
        ];
        for (code, expect) in cases {
            assert_eq!(matching_step(&secret, code, at), expect);
        }
    }

    #[test]
    fn codes_parse_only_as_six_digits() {
        let cases = [
            ("123456", Some(123_456)),
            (" 012345 ", Some(12_345)),
            ("123 456", Some(123_456)),
            ("12345", None),
            ("1234567", None),
            ("12a456", None),
            ("+12345", None),
            ("12 3456", None),
            ("", None),
            ("１２３４５６", None),
        ];
        for (text, expect) in cases {
            assert_eq!(parse_code(text), expect, "{text:?}");
        }
    }

    #[test]
    fn base32_matches_rfc_4648_vectors() {
        let cases: [(&[u8], &str); 7] = [
            (b"", ""),
            (b"f", "MY"),
            (b"fo", "MZXQ"),
            (b"foo", "MZXW6"),
            (b"foob", "MZXW6YQ"),
            (b"fooba", "MZXW6YTB"),
            (b"foobar", "MZXW6YTBOI"),
        ];
        for (input, expect) in cases {
            assert_eq!(base32(input), expect);
        }
    }

    #[test]
    fn uri_carries_the_secret_and_escapes_the_account() {
        let secret = TotpSecret::from_bytes(RFC_SECRET.to_vec());
        let uri = otpauth_uri("custos", "a 42/x", &secret);
        assert_eq!(
            uri.expose(),
            "otpauth://totp/custos:a%2042%2Fx?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=custos&algorithm=SHA1&digits=6&period=30"
        );
        assert_eq!(format!("{uri:?}"), "OtpAuthUri(<redacted>)");
        assert_eq!(format!("{secret:?}"), "TotpSecret(<redacted>)");
    }

    #[test]
    fn generated_secrets_differ() {
        let a = TotpSecret::generate().unwrap();
        let b = TotpSecret::generate().unwrap();
        assert_eq!(a.expose().len(), TOTP_SECRET_LEN);
        assert_ne!(a, b);
    }
}
