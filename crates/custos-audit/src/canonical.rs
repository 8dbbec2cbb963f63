//! Canonical JSON per RFC 8785 (JCS) for the subset audit entries use.
//!
//! Supported: objects (keys sorted by UTF-16 code units), arrays, strings,
//! integers in the I-JSON exact range `±(2^53 − 1)`, booleans and null.
//! Refused: any non-integer number and integers outside that range, since
//! their ECMAScript rendering (exponents, rounding) is not needed here and
//! a wrong rendering would silently change a leaf hash.

use serde_json::Value;

/// Largest integer ECMAScript represents exactly.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalJsonError {
    #[error("number `{0}` is outside the supported subset (integers within ±(2^53 − 1))")]
    UnsupportedNumber(String),
}

/// Serializes `value` canonically (RFC 8785): no whitespace, sorted keys,
/// minimal string escapes.
pub fn to_canonical_json(value: &Value) -> Result<String, CanonicalJsonError> {
    let mut out = String::new();
    write_value(value, &mut out)?;
    Ok(out)
}

pub(crate) fn write_value(value: &Value, out: &mut String) -> Result<(), CanonicalJsonError> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => {
            let in_range = if let Some(unsigned) = number.as_u64() {
                unsigned <= MAX_SAFE_INTEGER
            } else if let Some(signed) = number.as_i64() {
                signed.unsigned_abs() <= MAX_SAFE_INTEGER
            } else {
                false
            };
            if !in_range {
                return Err(CanonicalJsonError::UnsupportedNumber(number.to_string()));
            }
            // Integers in range render the same in ECMAScript and Rust.
            out.push_str(&number.to_string());
        }
        Value::String(text) => write_string(text, out),
        Value::Array(items) => {
            out.push('[');
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_value(item, out)?;
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            // JCS orders keys by their UTF-16 code units, not by UTF-8 bytes.
            sorted.sort_by(|(left, _), (right, _)| left.encode_utf16().cmp(right.encode_utf16()));
            out.push('{');
            for (position, (key, member)) in sorted.into_iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_value(member, out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// Writes `text` as a JSON string with JCS's minimal escapes; runs of
/// characters that need none are copied in one go.
pub(crate) fn write_string(text: &str, out: &mut String) {
    out.push('"');
    let mut copied = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            b'\t' => "\\t",
            b'\n' => "\\n",
            0x0c => "\\f",
            b'\r' => "\\r",
            control if control < 0x20 => "",
            _ => continue,
        };
        // INVARIANT: `at` is an ASCII byte, hence a char boundary.
        out.push_str(&text[copied..at]);
        if escape.is_empty() {
            out.push_str(&format!("\\u{byte:04x}"));
        } else {
            out.push_str(escape);
        }
        copied = at + 1;
    }
    out.push_str(&text[copied..]);
    out.push('"');
}

/// Writes a non-negative integer after checking it is in the subset.
pub(crate) fn write_unsigned(value: u64, out: &mut String) -> Result<(), CanonicalJsonError> {
    if value > MAX_SAFE_INTEGER {
        return Err(CanonicalJsonError::UnsupportedNumber(value.to_string()));
    }
    out.push_str(&value.to_string());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(input: Value, expect: &str) {
        assert_eq!(to_canonical_json(&input).as_deref(), Ok(expect));
    }

    #[test]
    fn canonical_forms() {
        check(
            json!({"b": 1, "a": [true, null, "x"]}),
            r#"{"a":[true,null,"x"],"b":1}"#,
        );
        check(
            json!({"nested": {"z": -3, "y": {}}}),
            r#"{"nested":{"y":{},"z":-3}}"#,
        );
        check(json!("\u{1}\n\"\\é€"), "\"\\u0001\\n\\\"\\\\é€\"");
        check(json!("\u{7f}\u{1f}"), "\"\u{7f}\\u001f\"");
        check(json!(9_007_199_254_740_991u64), "9007199254740991");
        check(json!(-9_007_199_254_740_991i64), "-9007199254740991");
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+E000 is one UTF-16 unit 0xE000; U+1F600 is the surrogate pair
        // 0xD83D 0xDE00, which sorts first in UTF-16 but last in UTF-8.
        check(
            json!({"\u{e000}": 1, "\u{1f600}": 2}),
            "{\"\u{1f600}\":2,\"\u{e000}\":1}",
        );
    }

    #[test]
    fn numbers_outside_the_subset_are_refused() {
        for value in [
            json!(1.5),
            json!(9_007_199_254_740_992u64),
            json!(-9_007_199_254_740_992i64),
        ] {
            assert!(matches!(
                to_canonical_json(&value),
                Err(CanonicalJsonError::UnsupportedNumber(_))
            ));
        }
        assert!(to_canonical_json(&json!({"deep": [1.0]})).is_err());
    }
}
