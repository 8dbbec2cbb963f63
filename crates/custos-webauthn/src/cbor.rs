//! Minimal CBOR (RFC 8949) decoder: only what attestation objects, authenticator data and COSE keys use.
//!
//! Supported: unsigned and negative integers, byte and text strings, arrays, maps, `true`, `false`,
//! `null`. Refused: indefinite lengths (CTAP2 canonical form forbids them), tags, floats, other simple
//! values, nesting deeper than [`MAX_DEPTH`], duplicate map keys. Every length is checked against the
//! bytes actually left before anything is allocated, so a hostile length cannot make us allocate.

use std::fmt;

/// Deepest nesting accepted; WebAuthn structures need 3.
const MAX_DEPTH: usize = 8;

/// Why a CBOR item could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CborError {
    Truncated,
    Unsupported,
    TooDeep,
    DuplicateKey,
    InvalidUtf8,
    TrailingBytes,
}

impl fmt::Display for CborError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            CborError::Truncated => "truncated",
            CborError::Unsupported => "unsupported item",
            CborError::TooDeep => "nested too deep",
            CborError::DuplicateKey => "duplicate map key",
            CborError::InvalidUtf8 => "text string is not utf-8",
            CborError::TrailingBytes => "trailing bytes",
        };
        formatter.write_str(text)
    }
}

/// One decoded CBOR item, borrowing strings from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    Unsigned(u64),
    /// The value is `-1 - n`.
    Negative(u64),
    Bytes(&'a [u8]),
    Text(&'a str),
    Array(Vec<Value<'a>>),
    Map(Vec<(Value<'a>, Value<'a>)>),
    Bool(bool),
    Null,
}

impl<'a> Value<'a> {
    /// The integer value, when it is an integer that fits in `i64`.
    pub(crate) fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Unsigned(n) => i64::try_from(*n).ok(),
            Value::Negative(n) => i64::try_from(*n).ok().map(|n| -1 - n),
            _ => None,
        }
    }

    pub(crate) fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(bytes) => Some(bytes),
            _ => None,
        }
    }

    pub(crate) fn as_text(&self) -> Option<&'a str> {
        match self {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }

    pub(crate) fn as_map(&self) -> Option<&[(Value<'a>, Value<'a>)]> {
        match self {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }
}

/// Looks up an integer key (COSE labels) in a decoded map.
pub(crate) fn map_get_int<'m, 'a>(
    map: &'m [(Value<'a>, Value<'a>)],
    key: i64,
) -> Option<&'m Value<'a>> {
    map.iter()
        .find(|(k, _)| k.as_i64() == Some(key))
        .map(|(_, v)| v)
}

/// Looks up a text key (attestation object fields) in a decoded map.
pub(crate) fn map_get_text<'m, 'a>(
    map: &'m [(Value<'a>, Value<'a>)],
    key: &str,
) -> Option<&'m Value<'a>> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

/// Decodes exactly one item that must span the whole input.
pub(crate) fn decode_exact(input: &[u8]) -> Result<Value<'_>, CborError> {
    let (value, rest) = decode_prefix(input)?;
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(CborError::TrailingBytes)
    }
}

/// Decodes one item from the front of `input` and returns it with the bytes after it.
pub(crate) fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, &[u8]), CborError> {
    let mut decoder = Decoder { input, position: 0 };
    let value = decoder.item(0)?;
    Ok((value, &input[decoder.position..]))
}

struct Decoder<'a> {
    input: &'a [u8],
    position: usize,
}

impl<'a> Decoder<'a> {
    fn remaining(&self) -> usize {
        self.input.len() - self.position
    }

    fn take(&mut self, count: usize) -> Result<&'a [u8], CborError> {
        if count > self.remaining() {
            return Err(CborError::Truncated);
        }
        let slice = &self.input[self.position..self.position + count];
        self.position += count;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, CborError> {
        Ok(self.take(1)?[0])
    }

    /// Reads the argument that follows an initial byte's 5-bit additional information.
    fn argument(&mut self, additional: u8) -> Result<u64, CborError> {
        match additional {
            0..=23 => Ok(u64::from(additional)),
            24 => Ok(u64::from(self.byte()?)),
            25 => {
                let bytes = self.take(2)?;
                Ok(u64::from(u16::from_be_bytes([bytes[0], bytes[1]])))
            }
            26 => {
                let bytes = self.take(4)?;
                Ok(u64::from(u32::from_be_bytes([
                    bytes[0], bytes[1], bytes[2], bytes[3],
                ])))
            }
            27 => {
                let bytes = self.take(8)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(bytes);
                Ok(u64::from_be_bytes(array))
            }
            // 28..=30 are reserved, 31 is an indefinite length.
            _ => Err(CborError::Unsupported),
        }
    }

    /// A length that must fit in what is left, `unit` bytes at least per element.
    fn length(&mut self, additional: u8, unit: usize) -> Result<usize, CborError> {
        let length = self.argument(additional)?;
        let length = usize::try_from(length).map_err(|_| CborError::Truncated)?;
        if length.saturating_mul(unit) > self.remaining() {
            return Err(CborError::Truncated);
        }
        Ok(length)
    }

    fn item(&mut self, depth: usize) -> Result<Value<'a>, CborError> {
        if depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        let initial = self.byte()?;
        let major = initial >> 5;
        let additional = initial & 0x1f;
        match major {
            0 => Ok(Value::Unsigned(self.argument(additional)?)),
            1 => Ok(Value::Negative(self.argument(additional)?)),
            2 => {
                let length = self.length(additional, 1)?;
                Ok(Value::Bytes(self.take(length)?))
            }
            3 => {
                let length = self.length(additional, 1)?;
                let bytes = self.take(length)?;
                let text = std::str::from_utf8(bytes).map_err(|_| CborError::InvalidUtf8)?;
                Ok(Value::Text(text))
            }
            4 => {
                let count = self.length(additional, 1)?;
                let mut items = Vec::with_capacity(count);
                for _ in 0..count {
                    items.push(self.item(depth + 1)?);
                }
                Ok(Value::Array(items))
            }
            5 => {
                let count = self.length(additional, 2)?;
                let mut entries: Vec<(Value<'a>, Value<'a>)> = Vec::with_capacity(count);
                for _ in 0..count {
                    let key = self.item(depth + 1)?;
                    if entries.iter().any(|(existing, _)| *existing == key) {
                        return Err(CborError::DuplicateKey);
                    }
                    let value = self.item(depth + 1)?;
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
            7 => match additional {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 => Ok(Value::Null),
                _ => Err(CborError::Unsupported),
            },
            // Major type 6 (tags) never appears in WebAuthn structures.
            _ => Err(CborError::Unsupported),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(input: &[u8], expect: Result<Value<'_>, CborError>) {
        assert_eq!(decode_exact(input), expect, "input {input:02x?}");
    }

    #[test]
    fn rfc8949_appendix_a_examples() {
        check(&[0x00], Ok(Value::Unsigned(0)));
        check(&[0x17], Ok(Value::Unsigned(23)));
        check(&[0x18, 0x18], Ok(Value::Unsigned(24)));
        check(&[0x19, 0x03, 0xe8], Ok(Value::Unsigned(1000)));
        check(
            &[0x1a, 0x00, 0x0f, 0x42, 0x40],
            Ok(Value::Unsigned(1_000_000)),
        );
        check(
            &[0x1b, 0x00, 0x00, 0x00, 0xe8, 0xd4, 0xa5, 0x10, 0x00],
            Ok(Value::Unsigned(1_000_000_000_000)),
        );
        check(&[0x20], Ok(Value::Negative(0)));
        check(&[0x38, 0x63], Ok(Value::Negative(99)));
        check(&[0x39, 0x03, 0xe7], Ok(Value::Negative(999)));
        check(&[0x40], Ok(Value::Bytes(&[])));
        check(&[0x44, 1, 2, 3, 4], Ok(Value::Bytes(&[1, 2, 3, 4])));
        check(&[0x61, 0x61], Ok(Value::Text("a")));
        check(&[0x62, 0xc3, 0xbc], Ok(Value::Text("\u{fc}")));
        check(&[0xf4], Ok(Value::Bool(false)));
        check(&[0xf5], Ok(Value::Bool(true)));
        check(&[0xf6], Ok(Value::Null));
        check(
            &[0x83, 0x01, 0x82, 0x02, 0x03, 0x82, 0x04, 0x05],
            Ok(Value::Array(vec![
                Value::Unsigned(1),
                Value::Array(vec![Value::Unsigned(2), Value::Unsigned(3)]),
                Value::Array(vec![Value::Unsigned(4), Value::Unsigned(5)]),
            ])),
        );
        check(
            &[0xa2, 0x01, 0x02, 0x03, 0x04],
            Ok(Value::Map(vec![
                (Value::Unsigned(1), Value::Unsigned(2)),
                (Value::Unsigned(3), Value::Unsigned(4)),
            ])),
        );
    }

    #[test]
    fn negative_integers_map_to_i64() {
        assert_eq!(Value::Negative(6).as_i64(), Some(-7));
        assert_eq!(Value::Negative(0).as_i64(), Some(-1));
        assert_eq!(Value::Unsigned(u64::MAX).as_i64(), None);
        assert_eq!(Value::Negative(u64::MAX).as_i64(), None);
    }

    #[test]
    fn refuses_what_webauthn_never_needs() {
        // Indefinite-length byte string, tag, half float, undefined.
        check(&[0x5f, 0x41, 0x00, 0xff], Err(CborError::Unsupported));
        check(&[0xc0, 0x00], Err(CborError::Unsupported));
        check(&[0xf9, 0x3c, 0x00], Err(CborError::Unsupported));
        check(&[0xf7], Err(CborError::Unsupported));
        check(&[0x1c], Err(CborError::Unsupported));
    }

    #[test]
    fn refuses_lengths_beyond_the_input() {
        check(&[0x45, 1, 2], Err(CborError::Truncated));
        check(
            &[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Err(CborError::Truncated),
        );
        check(
            &[0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            Err(CborError::Truncated),
        );
        check(&[0xa1, 0x01], Err(CborError::Truncated));
        check(&[], Err(CborError::Truncated));
        check(&[0x19, 0x01], Err(CborError::Truncated));
    }

    #[test]
    fn refuses_duplicate_keys_deep_nesting_bad_text_and_trailing_bytes() {
        check(
            &[0xa2, 0x01, 0x02, 0x01, 0x03],
            Err(CborError::DuplicateKey),
        );
        let mut deep = vec![0x81; MAX_DEPTH + 2];
        deep.push(0x00);
        check(&deep, Err(CborError::TooDeep));
        let mut just_deep_enough = vec![0x81; MAX_DEPTH];
        just_deep_enough.push(0x00);
        assert!(decode_exact(&just_deep_enough).is_ok());
        check(&[0x61, 0xff], Err(CborError::InvalidUtf8));
        check(&[0x00, 0x00], Err(CborError::TrailingBytes));
    }

    #[test]
    fn prefix_decoding_returns_the_rest() {
        let input = [0xa1, 0x01, 0x02, 0xaa, 0xbb];
        let (value, rest) = decode_prefix(&input).unwrap();
        assert_eq!(
            value,
            Value::Map(vec![(Value::Unsigned(1), Value::Unsigned(2))])
        );
        assert_eq!(rest, &[0xaa, 0xbb]);
    }
}
