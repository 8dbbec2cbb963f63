//! Newtype identifiers. Each is parsed once, at the edge, so the rest of the
//! code can rely on them being non-empty, bounded and free of control
//! characters (they end up in logs, SQL parameters and HTTP responses).

use std::fmt;

/// The longest identifier accepted, in bytes.
pub const MAX_ID_LEN: usize = 256;

/// Why a string is not a valid identifier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdParse {
    #[error("must not be empty")]
    Empty,
    #[error("longer than {MAX_ID_LEN} bytes")]
    TooLong,
    #[error("contains a control character")]
    ControlCharacter,
}

fn validate(text: &str) -> Result<(), IdParse> {
    if text.is_empty() {
        return Err(IdParse::Empty);
    }
    if text.len() > MAX_ID_LEN {
        return Err(IdParse::TooLong);
    }
    if text.chars().any(char::is_control) {
        return Err(IdParse::ControlCharacter);
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Parses an identifier: non-empty, at most [`MAX_ID_LEN`] bytes,
            /// no control characters.
            pub fn parse(text: impl Into<String>) -> Result<$name, IdParse> {
                let text = text.into();
                validate(&text)?;
                Ok($name(text))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::parse(text.into_owned()).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// An event's id (`e17`, or the 1-based line number when a file line has none).
    EventId
);
id_type!(
    /// A support agent (an exchange employee or contractor).
    AgentId
);
id_type!(
    /// An exchange customer.
    CustomerId
);
id_type!(
    /// A support ticket.
    TicketId
);
id_type!(
    /// A conversation (chat, call transcript, SMS thread).
    ConversationId
);
id_type!(
    /// A customer's scam report.
    ReportId
);
id_type!(
    /// An alert raised by custos.
    AlertId
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert_eq!(
            AgentId::parse("a-0042").map(|a| a.to_string()),
            Ok("a-0042".to_owned())
        );
        assert_eq!(AgentId::parse(""), Err(IdParse::Empty));
        assert_eq!(AgentId::parse("a\n1"), Err(IdParse::ControlCharacter));
        assert_eq!(
            AgentId::parse("x".repeat(MAX_ID_LEN + 1)),
            Err(IdParse::TooLong)
        );
        assert!(AgentId::parse("x".repeat(MAX_ID_LEN)).is_ok());
    }

    #[test]
    fn serde_validates() {
        let bad: Result<CustomerId, _> = serde_json::from_str("\"\"");
        assert!(bad.unwrap_err().to_string().contains("must not be empty"));
        let ok: CustomerId = serde_json::from_str("\"c-1\"").unwrap();
        assert_eq!(ok.as_str(), "c-1");
    }
}
