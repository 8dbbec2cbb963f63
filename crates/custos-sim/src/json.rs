//! A small writer for one NDJSON event line. Hand-written rather than serde
//! because it is the hot path (a million lines per run) and because the
//! contract's field order is kept exactly as in its examples.

use std::fmt::Write as _;

use crate::time::push_rfc3339;

/// The `type` of an event line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum EventKind {
    Agent,
    Customer,
    Ticket,
    AgentSession,
    AgentAccess,
    CustomerAction,
    Message,
    ScamReport,
}

impl EventKind {
    pub(crate) const ALL: [EventKind; 8] = [
        EventKind::Agent,
        EventKind::Customer,
        EventKind::Ticket,
        EventKind::AgentSession,
        EventKind::AgentAccess,
        EventKind::CustomerAction,
        EventKind::Message,
        EventKind::ScamReport,
    ];

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            EventKind::Agent => "agent",
            EventKind::Customer => "customer",
            EventKind::Ticket => "ticket",
            EventKind::AgentSession => "agent_session",
            EventKind::AgentAccess => "agent_access",
            EventKind::CustomerAction => "customer_action",
            EventKind::Message => "message",
            EventKind::ScamReport => "scam_report",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// One event line under construction. The `id` is not known until the line
/// is emitted (ids follow file order), so the text is kept in two halves:
/// everything up to and including `ts`, and the rest.
pub(crate) struct Line {
    pub(crate) text: String,
    pub(crate) split: u32,
    pub(crate) kind: EventKind,
    pub(crate) ts: i64,
    /// True right after `{` of a nested object: the next key has no comma.
    object_start: bool,
}

impl Line {
    pub(crate) fn new(kind: EventKind, ts: i64) -> Line {
        // Room for the id inserted at emission, so that it rarely reallocates.
        let capacity = if kind == EventKind::Message { 400 } else { 272 };
        let mut text = String::with_capacity(capacity);
        text.push_str("{\"type\":\"");
        text.push_str(kind.as_str());
        text.push_str("\",\"ts\":\"");
        push_rfc3339(&mut text, ts);
        text.push('"');
        let split = text.len() as u32;
        Line {
            text,
            split,
            kind,
            ts,
            object_start: false,
        }
    }

    fn key(&mut self, key: &str) {
        if self.object_start {
            self.object_start = false;
        } else {
            self.text.push(',');
        }
        self.text.push('"');
        self.text.push_str(key);
        self.text.push_str("\":");
    }

    pub(crate) fn str(&mut self, key: &str, value: &str) {
        self.key(key);
        push_json_str(&mut self.text, value);
    }

    pub(crate) fn null(&mut self, key: &str) {
        self.key(key);
        self.text.push_str("null");
    }

    /// A field whose value is an id like `c-01234`: prefix and a zero-padded
    /// number, written without an intermediate allocation.
    pub(crate) fn id(&mut self, key: &str, prefix: &str, number: u32, width: usize) {
        self.key(key);
        self.text.push('"');
        self.text.push_str(prefix);
        push_padded(&mut self.text, number, width);
        self.text.push('"');
    }

    pub(crate) fn opt_id(&mut self, key: &str, prefix: &str, number: Option<u32>, width: usize) {
        match number {
            Some(n) => self.id(key, prefix, n, width),
            None => self.null(key),
        }
    }

    pub(crate) fn int(&mut self, key: &str, value: i64) {
        self.key(key);
        if value < 0 {
            self.text.push('-');
        }
        push_padded(&mut self.text, value.unsigned_abs(), 1);
    }

    /// A money amount or coordinate: rounded to two decimals, always a JSON
    /// number (`250000.0`, `812.5`).
    pub(crate) fn num(&mut self, key: &str, value: f64) {
        self.key(key);
        push_f64(&mut self.text, value);
    }

    pub(crate) fn ts(&mut self, key: &str, ts: i64) {
        self.key(key);
        self.text.push('"');
        push_rfc3339(&mut self.text, ts);
        self.text.push('"');
    }

    pub(crate) fn str_list(&mut self, key: &str, values: &[&str]) {
        self.key(key);
        self.text.push('[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push(',');
            }
            push_json_str(&mut self.text, v);
        }
        self.text.push(']');
    }

    /// Opens a nested object; fields written until [`Line::close`] go inside.
    pub(crate) fn open(&mut self, key: &str) {
        self.key(key);
        self.text.push('{');
        self.object_start = true;
    }

    pub(crate) fn close(&mut self) {
        self.text.push('}');
        self.object_start = false;
    }

    pub(crate) fn finish(mut self) -> Line {
        self.text.push('}');
        self
    }
}

/// Writes `number` in decimal, zero-padded to at least `width` digits.
pub(crate) fn push_padded(buf: &mut String, number: impl Into<u64>, width: usize) {
    let mut rest: u64 = number.into();
    // Filled from the right; 24 bytes hold any u64 with a width up to 24.
    let mut digits = [b'0'; 24];
    let mut pos = digits.len();
    loop {
        pos -= 1;
        digits[pos] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let pos = pos.min(digits.len().saturating_sub(width));
    buf.push_str(std::str::from_utf8(&digits[pos..]).unwrap_or_default());
}

/// Writes `value` as a JSON string literal, escaping quotes, backslashes and
/// control characters.
pub(crate) fn push_json_str(buf: &mut String, value: &str) {
    buf.push('"');
    if !value.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        buf.push_str(value);
    } else {
        for c in value.chars() {
            match c {
                '"' => buf.push_str("\\\""),
                '\\' => buf.push_str("\\\\"),
                '\n' => buf.push_str("\\n"),
                '\r' => buf.push_str("\\r"),
                '\t' => buf.push_str("\\t"),
                c if (c as u32) < 0x20 => {
                    let _ = write!(buf, "\\u{:04x}", c as u32);
                }
                c => buf.push(c),
            }
        }
    }
    buf.push('"');
}

pub(crate) fn push_f64(buf: &mut String, value: f64) {
    let rounded = (value * 100.0).round() / 100.0;
    if rounded.is_finite() {
        // Debug keeps a trailing `.0`, so an amount always reads as a float.
        let _ = write!(buf, "{rounded:?}");
    } else {
        buf.push_str("0.0");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_json_requires() {
        let check = |input: &str, expect: &str| {
            let mut s = String::new();
            push_json_str(&mut s, input);
            assert_eq!(s, expect);
            let back: String = serde_json::from_str(&s).unwrap_or_default();
            assert_eq!(back, input);
        };
        check("plain", "\"plain\"");
        check("say \"hi\"", "\"say \\\"hi\\\"\"");
        check("a\\b", "\"a\\\\b\"");
        check("line\nbreak\t\u{1}", "\"line\\nbreak\\t\\u0001\"");
        check("olá ¿qué?", "\"olá ¿qué?\"");
    }

    #[test]
    fn padded_numbers() {
        let check = |n: u64, width: usize, expect: &str| {
            let mut s = String::new();
            push_padded(&mut s, n, width);
            assert_eq!(s, expect);
        };
        check(0, 0, "0");
        check(42, 4, "0042");
        check(123_456, 5, "123456");
        check(u64::MAX, 1, "18446744073709551615");
    }

    #[test]
    fn numbers_are_rounded_floats() {
        let check = |v: f64, expect: &str| {
            let mut s = String::new();
            push_f64(&mut s, v);
            assert_eq!(s, expect);
        };
        check(250_000.0, "250000.0");
        check(812.5, "812.5");
        check(0.004, "0.0");
        check(-74.0061, "-74.01");
        check(f64::NAN, "0.0");
    }

    #[test]
    fn builds_a_line_with_nested_object_in_contract_order() {
        let mut l = Line::new(EventKind::Agent, 1_740_960_000);
        l.id("agent_id", "a-", 42, 4);
        l.open("shift");
        l.int("start_hour", 22);
        l.int("end_hour", 6);
        l.close();
        l.null("x");
        let l = l.finish();
        assert_eq!(
            l.text,
            "{\"type\":\"agent\",\"ts\":\"2025-03-03T00:00:00Z\",\"agent_id\":\"a-0042\",\"shift\":{\"start_hour\":22,\"end_hour\":6},\"x\":null}"
        );
        assert_eq!(
            &l.text[..l.split as usize],
            "{\"type\":\"agent\",\"ts\":\"2025-03-03T00:00:00Z\""
        );
    }

    #[test]
    fn empty_nested_object_is_valid() {
        let mut l = Line::new(EventKind::Agent, 0);
        l.open("o");
        l.close();
        let l = l.finish();
        assert!(l.text.ends_with("\"o\":{}}"), "{}", l.text);
    }
}
