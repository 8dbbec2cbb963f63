//! Byte-string newtypes that travel as unpadded base64url, as WebAuthn's JSON forms do.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::WebAuthnError;

/// Encodes bytes as unpadded base64url (RFC 4648 §5), the encoding of WebAuthn's JSON forms.
pub fn base64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url; trailing `=` padding is tolerated since some clients add it.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()
}

/// Arbitrary bytes carried as a base64url string in JSON.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Base64UrlBytes(pub Vec<u8>);

impl fmt::Debug for Base64UrlBytes {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Base64UrlBytes({} bytes)", self.0.len())
    }
}

impl Serialize for Base64UrlBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&base64url_encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Base64UrlBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        base64url_decode(&text)
            .map(Base64UrlBytes)
            .ok_or_else(|| serde::de::Error::custom("invalid base64url"))
    }
}

/// A credential id: 16 to 1023 opaque bytes chosen by the authenticator.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Base64UrlBytes", into = "Base64UrlBytes")]
pub struct CredentialId(Vec<u8>);

impl CredentialId {
    /// Longest credential id WebAuthn allows.
    pub const MAX_LEN: usize = 1023;

    /// Wraps raw credential id bytes; empty or longer than [`Self::MAX_LEN`] is refused.
    pub fn parse(bytes: Vec<u8>) -> Result<Self, WebAuthnError> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(WebAuthnError::malformed("credential id"));
        }
        Ok(CredentialId(bytes))
    }

    /// Parses the base64url form found in `PublicKeyCredential.id`.
    pub fn from_base64url(text: &str) -> Result<Self, WebAuthnError> {
        let bytes = base64url_decode(text).ok_or(WebAuthnError::malformed("credential id"))?;
        Self::parse(bytes)
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    pub fn to_base64url(&self) -> String {
        base64url_encode(&self.0)
    }
}

impl fmt::Debug for CredentialId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "CredentialId({})", self.to_base64url())
    }
}

impl TryFrom<Base64UrlBytes> for CredentialId {
    type Error = WebAuthnError;
    fn try_from(bytes: Base64UrlBytes) -> Result<Self, Self::Error> {
        CredentialId::parse(bytes.0)
    }
}

impl From<CredentialId> for Base64UrlBytes {
    fn from(id: CredentialId) -> Self {
        Base64UrlBytes(id.0)
    }
}

/// The WebAuthn user handle: 1 to 64 opaque bytes naming the account, never an e-mail or a name.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Base64UrlBytes", into = "Base64UrlBytes")]
pub struct UserHandle(Vec<u8>);

impl UserHandle {
    /// Longest user handle WebAuthn allows.
    pub const MAX_LEN: usize = 64;

    /// Wraps user handle bytes; empty or longer than [`Self::MAX_LEN`] is refused.
    pub fn parse(bytes: &[u8]) -> Result<Self, WebAuthnError> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(WebAuthnError::malformed("user handle"));
        }
        Ok(UserHandle(bytes.to_vec()))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for UserHandle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "UserHandle({})", base64url_encode(&self.0))
    }
}

impl TryFrom<Base64UrlBytes> for UserHandle {
    type Error = WebAuthnError;
    fn try_from(bytes: Base64UrlBytes) -> Result<Self, Self::Error> {
        UserHandle::parse(&bytes.0)
    }
}

impl From<UserHandle> for Base64UrlBytes {
    fn from(handle: UserHandle) -> Self {
        Base64UrlBytes(handle.0)
    }
}

/// A ceremony challenge: at least 16 random bytes (32 from [`Challenge::random`]).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Base64UrlBytes", into = "Base64UrlBytes")]
pub struct Challenge(Vec<u8>);

impl Challenge {
    /// Shortest challenge accepted (the spec asks for at least 16 random bytes).
    pub const MIN_LEN: usize = 16;

    /// 32 bytes from the operating system's random source.
    pub fn random() -> Result<Self, WebAuthnError> {
        let mut bytes = vec![0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| WebAuthnError::RandomnessUnavailable)?;
        Ok(Challenge(bytes))
    }

    /// A challenge from given bytes (tests, replaying published vectors); at least 16 bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, WebAuthnError> {
        if bytes.len() < Self::MIN_LEN {
            return Err(WebAuthnError::InvalidConfiguration { what: "challenge" });
        }
        Ok(Challenge(bytes))
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Challenge {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Challenge({} bytes)", self.0.len())
    }
}

impl TryFrom<Base64UrlBytes> for Challenge {
    type Error = WebAuthnError;
    fn try_from(bytes: Base64UrlBytes) -> Result<Self, Self::Error> {
        Challenge::from_bytes(bytes.0)
    }
}

impl From<Challenge> for Base64UrlBytes {
    fn from(challenge: Challenge) -> Self {
        Base64UrlBytes(challenge.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_and_tolerates_padding() {
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url_decode("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(base64url_decode("-_8="), Some(vec![0xfb, 0xff]));
        assert_eq!(base64url_decode("+/8"), None);
    }

    #[test]
    fn newtypes_enforce_their_lengths() {
        assert!(CredentialId::parse(vec![]).is_err());
        assert!(CredentialId::parse(vec![0; 1024]).is_err());
        assert!(CredentialId::parse(vec![0; 1023]).is_ok());
        assert!(UserHandle::parse(&[]).is_err());
        assert!(UserHandle::parse(&[0; 65]).is_err());
        assert!(Challenge::from_bytes(vec![0; 15]).is_err());
        let json = serde_json::to_string(&CredentialId::parse(vec![1, 2, 3]).unwrap()).unwrap();
        assert_eq!(json, "\"AQID\"");
        assert!(serde_json::from_str::<CredentialId>("\"\"").is_err());
    }

    #[test]
    fn random_challenges_differ() {
        let first = Challenge::random().unwrap();
        let second = Challenge::random().unwrap();
        assert_eq!(first.as_bytes().len(), 32);
        assert_ne!(first, second);
    }
}
