//! What of an event a page may show. The console is a door into customer
//! data, so event bodies are shown as ids, field names and vocabulary words
//! only; every other value is masked, and a message's text appears as a
//! short preview with its digits masked (codes, phone and card numbers).

use serde_json::Value;

/// Keys whose values are identifiers or timestamps, shown as they are.
const SHOWN_AS_IS: &[&str] = &[
    "id",
    "type",
    "ts",
    "agent_id",
    "customer_id",
    "ticket_id",
    "conversation_id",
    "report_id",
    "device_id",
    "key_id",
];

/// Keys whose values come from the contract's closed vocabularies (or are
/// directory facts about staff), shown as they are.
const VOCABULARY: &[&str] = &[
    "action",
    "status",
    "channel",
    "category",
    "opened_by",
    "kind",
    "direction",
    "sender_role",
    "setting",
    "tier",
    "team",
    "role",
    "site",
    "fields",
    "permissions",
    "released_by",
    "asset",
];

/// Characters of message text a preview shows.
pub const PREVIEW_CHARS: usize = 60;

/// One field of an event as a page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShownField {
    pub name: String,
    pub value: String,
}

/// The fields of an event's JSON, masked for display, in the event's order
/// (`type`, `ts` and `id` are left to the caller, who shows them apart).
pub fn shown_fields(raw: &str) -> Vec<ShownField> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(raw) else {
        return vec![ShownField {
            name: "body".to_owned(),
            value: "(unreadable)".to_owned(),
        }];
    };
    map.iter()
        .filter(|(key, _)| !matches!(key.as_str(), "type" | "ts" | "id"))
        .map(|(key, value)| ShownField {
            name: key.clone(),
            value: shown_value(key, value),
        })
        .collect()
}

fn shown_value(key: &str, value: &Value) -> String {
    if key == "text" || key == "query" {
        return match value {
            Value::String(text) => preview(text),
            Value::Null => "null".to_owned(),
            _ => "•••".to_owned(),
        };
    }
    if key == "entity" {
        if let Value::Object(entity) = value {
            let kind = entity.get("kind").and_then(Value::as_str).unwrap_or("?");
            let id = entity.get("id").and_then(Value::as_str).unwrap_or("?");
            return format!("{kind} {id}");
        }
    }
    if SHOWN_AS_IS.contains(&key) || VOCABULARY.contains(&key) {
        return plain(value);
    }
    masked(value)
}

/// A value shown without masking (ids, vocabulary words and lists of them).
fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => "null".to_owned(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Object(_) => "{…}".to_owned(),
    }
}

/// A value with its content hidden: its shape only.
fn masked(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) | Value::Number(_) => "•••".to_owned(),
        Value::String(text) => mask_string(text),
        Value::Array(items) => format!("[{} masked]", items.len()),
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).collect();
            format!("{{{}: masked}}", keys.join(", "))
        }
    }
}

/// The first character and the length: enough to tell two values apart at
/// a glance, never enough to read one.
pub fn mask_string(text: &str) -> String {
    let count = text.chars().count();
    match text.chars().next() {
        None => String::new(),
        Some(_) if count <= 2 => "••".to_owned(),
        Some(first) => {
            let first = if first.is_ascii_digit() { '•' } else { first };
            format!("{first}••• ({count} chars)")
        }
    }
}

/// A message preview: the first [`PREVIEW_CHARS`] characters with every
/// digit masked, and an ellipsis when cut.
pub fn preview(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(PREVIEW_CHARS)
        .map(|c| if c.is_numeric() { '•' } else { c })
        .collect();
    if text.chars().count() > PREVIEW_CHARS {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(fields: &[ShownField], name: &str) -> String {
        fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.value.clone())
            .unwrap_or_default()
    }

    #[test]
    fn access_events_show_ids_and_field_names_only() {
        let fields = shown_fields(
            r#"{"type":"agent_access","ts":"2025-01-01T00:00:00Z","id":"e1","agent_id":"a-1","customer_id":"c-9","ticket_id":null,"action":"reveal","fields":["national_id","phone"],"ip":"203.0.113.7","device_id":"dev-77"}"#,
        );
        assert_eq!(field(&fields, "agent_id"), "a-1");
        assert_eq!(field(&fields, "fields"), "national_id, phone");
        assert_eq!(field(&fields, "ticket_id"), "null");
        assert_eq!(field(&fields, "ip"), "•••• (11 chars)");
        assert!(fields.iter().all(|f| f.name != "type" && f.name != "id"));
    }

    #[test]
    fn message_text_is_a_preview_with_digits_masked() {
        let long = format!(
            "read me the code 482913 we sent to +1 415 555 0100 {}",
            "x".repeat(80)
        );
        let fields = shown_fields(&serde_json::json!({"type":"message","text": long}).to_string());
        let text = field(&fields, "text");
        assert!(!text.chars().any(|c| c.is_ascii_digit()), "{text}");
        assert!(text.starts_with("read me the code •••••• we sent"));
        assert!(text.ends_with('…'));
        assert_eq!(text.chars().count(), PREVIEW_CHARS + 1);
    }

    #[test]
    fn other_values_are_masked() {
        let fields = shown_fields(
            r#"{"type":"customer_action","amount_usd":12000.0,"destination":"GA7Q","geo":{"country":"US","lat":1.0},"api_key":{"key_id":"k"},"entity":{"kind":"agent","id":"a-1"}}"#,
        );
        assert_eq!(field(&fields, "amount_usd"), "•••");
        assert_eq!(field(&fields, "destination"), "G••• (4 chars)");
        assert_eq!(field(&fields, "geo"), "{country, lat: masked}");
        assert_eq!(field(&fields, "entity"), "agent a-1");
        assert_eq!(shown_fields("not json")[0].value, "(unreadable)");
    }
}
