//! Credential public keys: COSE_Key parsing (RFC 9052/9053) and signature verification for ES256 and EdDSA.

use p256::ecdsa::signature::Verifier as _;
use serde::{Deserialize, Serialize};

use crate::WebAuthnError;
use crate::bytes::Base64UrlBytes;
use crate::cbor::{self, Value};

/// COSE algorithms this crate verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CoseAlgorithm {
    /// ECDSA with SHA-256 on P-256 (COSE `-7`): every platform authenticator supports it.
    #[serde(rename = "ES256")]
    Es256,
    /// Ed25519 (COSE `-8`): some security keys prefer it.
    #[serde(rename = "EdDSA")]
    EdDsa,
}

impl CoseAlgorithm {
    /// The COSE algorithm identifier, as put in `pubKeyCredParams`.
    pub fn cose_id(self) -> i64 {
        match self {
            CoseAlgorithm::Es256 => -7,
            CoseAlgorithm::EdDsa => -8,
        }
    }

    pub fn from_cose_id(id: i64) -> Result<Self, WebAuthnError> {
        match id {
            -7 => Ok(CoseAlgorithm::Es256),
            -8 => Ok(CoseAlgorithm::EdDsa),
            alg => Err(WebAuthnError::UnsupportedAlgorithm { alg }),
        }
    }
}

// COSE labels and values (IANA COSE registries).
const LABEL_KTY: i64 = 1;
const LABEL_ALG: i64 = 3;
const LABEL_CRV: i64 = -1;
const LABEL_X: i64 = -2;
const LABEL_Y: i64 = -3;
const KTY_OKP: i64 = 1;
const KTY_EC2: i64 = 2;
const CRV_P256: i64 = 1;
const CRV_ED25519: i64 = 6;

/// A credential public key that is known to be a valid point of its curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StoredKey", into = "StoredKey")]
pub enum PublicKey {
    /// P-256 point, affine coordinates, big-endian.
    Es256 { x: [u8; 32], y: [u8; 32] },
    /// Ed25519 point, RFC 8032 encoding.
    Ed25519 { x: [u8; 32] },
}

impl PublicKey {
    pub fn algorithm(&self) -> CoseAlgorithm {
        match self {
            PublicKey::Es256 { .. } => CoseAlgorithm::Es256,
            PublicKey::Ed25519 { .. } => CoseAlgorithm::EdDsa,
        }
    }

    /// Parses a COSE_Key map as found in attested credential data.
    pub(crate) fn from_cose(value: &Value<'_>) -> Result<Self, WebAuthnError> {
        let malformed = || WebAuthnError::malformed("credential public key");
        let map = value.as_map().ok_or_else(malformed)?;
        let int = |label| cbor::map_get_int(map, label).and_then(Value::as_i64);
        let bytes32 = |label| -> Result<[u8; 32], WebAuthnError> {
            let bytes = cbor::map_get_int(map, label)
                .and_then(Value::as_bytes)
                .ok_or_else(malformed)?;
            <[u8; 32]>::try_from(bytes).map_err(|_| malformed())
        };
        let alg = int(LABEL_ALG).ok_or_else(malformed)?;
        let algorithm = CoseAlgorithm::from_cose_id(alg)?;
        let key = match (algorithm, int(LABEL_KTY), int(LABEL_CRV)) {
            (CoseAlgorithm::Es256, Some(KTY_EC2), Some(CRV_P256)) => PublicKey::Es256 {
                x: bytes32(LABEL_X)?,
                y: bytes32(LABEL_Y)?,
            },
            (CoseAlgorithm::EdDsa, Some(KTY_OKP), Some(CRV_ED25519)) => PublicKey::Ed25519 {
                x: bytes32(LABEL_X)?,
            },
            _ => return Err(malformed()),
        };
        key.validate()?;
        Ok(key)
    }

    /// Checks that the point is on its curve, so a stored key always verifies or refuses cleanly.
    fn validate(&self) -> Result<(), WebAuthnError> {
        match self {
            PublicKey::Es256 { x, y } => p256_key(x, y).map(|_| ()),
            PublicKey::Ed25519 { x } => ed25519_dalek::VerifyingKey::from_bytes(x)
                .map(|_| ())
                .map_err(|_| WebAuthnError::malformed("credential public key")),
        }
    }

    /// Verifies `signature` over `message` (ES256: ASN.1 DER; EdDSA: 64 raw bytes).
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), WebAuthnError> {
        match self {
            PublicKey::Es256 { x, y } => {
                let key = p256_key(x, y)?;
                // INVARIANT: P-256 verification accepts high-S signatures (NORMALIZE_S is false for
                // NistP256); authenticators do not normalise S, and the W3C ES256 vector has a high S.
                let signature = p256::ecdsa::DerSignature::from_bytes(signature)
                    .map_err(|_| WebAuthnError::BadSignature)?;
                key.verify(message, &signature)
                    .map_err(|_| WebAuthnError::BadSignature)
            }
            PublicKey::Ed25519 { x } => {
                let key = ed25519_dalek::VerifyingKey::from_bytes(x)
                    .map_err(|_| WebAuthnError::malformed("credential public key"))?;
                let signature = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| WebAuthnError::BadSignature)?;
                // Strict verification refuses small-order keys and non-canonical signatures.
                key.verify_strict(message, &signature)
                    .map_err(|_| WebAuthnError::BadSignature)
            }
        }
    }
}

fn p256_key(x: &[u8; 32], y: &[u8; 32]) -> Result<p256::ecdsa::VerifyingKey, WebAuthnError> {
    let mut sec1 = [0u8; 65];
    sec1[0] = 0x04;
    sec1[1..33].copy_from_slice(x);
    sec1[33..].copy_from_slice(y);
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
        .map_err(|_| WebAuthnError::malformed("credential public key"))
}

/// Storage form of [`PublicKey`]: the algorithm and base64url coordinates, checked again on load.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredKey {
    alg: CoseAlgorithm,
    x: Base64UrlBytes,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    y: Option<Base64UrlBytes>,
}

impl TryFrom<StoredKey> for PublicKey {
    type Error = WebAuthnError;
    fn try_from(stored: StoredKey) -> Result<Self, Self::Error> {
        let malformed = || WebAuthnError::malformed("stored public key");
        let coordinate = |bytes: &Base64UrlBytes| {
            <[u8; 32]>::try_from(bytes.0.as_slice()).map_err(|_| malformed())
        };
        let key = match (stored.alg, &stored.y) {
            (CoseAlgorithm::Es256, Some(y)) => PublicKey::Es256 {
                x: coordinate(&stored.x)?,
                y: coordinate(y)?,
            },
            (CoseAlgorithm::EdDsa, None) => PublicKey::Ed25519 {
                x: coordinate(&stored.x)?,
            },
            _ => return Err(malformed()),
        };
        key.validate()?;
        Ok(key)
    }
}

impl From<PublicKey> for StoredKey {
    fn from(key: PublicKey) -> Self {
        match key {
            PublicKey::Es256 { x, y } => StoredKey {
                alg: CoseAlgorithm::Es256,
                x: Base64UrlBytes(x.to_vec()),
                y: Some(Base64UrlBytes(y.to_vec())),
            },
            PublicKey::Ed25519 { x } => StoredKey {
                alg: CoseAlgorithm::EdDsa,
                x: Base64UrlBytes(x.to_vec()),
                y: None,
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn decode_hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn parse(hex: &str) -> Result<PublicKey, WebAuthnError> {
        let bytes = decode_hex(hex);
        PublicKey::from_cose(&cbor::decode_exact(&bytes).unwrap())
    }

    // The COSE keys of the W3C WebAuthn Level 3 §16.2 (ES256) and §16.11 (EdDSA) test vectors.
    const ES256_COSE: &str = "a5010203262001215820afefa16f97ca9b2d23eb86ccb64098d20db90856062eb249c33a9b672f26df61225820930a56b87a2fca66334b03458abf879717c12cc68ed73290af2e2664796b9220";
    const ED25519_COSE: &str =
        "a401010327200621582044e06ddd331c36a8dc667bab52bcae63486c916aa5e339e6acebaa84934bf832";

    #[test]
    fn parses_es256_and_ed25519_keys_and_round_trips_storage() {
        for hex in [ES256_COSE, ED25519_COSE] {
            let key = parse(hex).unwrap();
            let json = serde_json::to_string(&key).unwrap();
            assert_eq!(serde_json::from_str::<PublicKey>(&json).unwrap(), key);
        }
        assert_eq!(parse(ES256_COSE).unwrap().algorithm(), CoseAlgorithm::Es256);
        assert_eq!(
            parse(ED25519_COSE).unwrap().algorithm(),
            CoseAlgorithm::EdDsa
        );
    }

    #[test]
    fn refuses_unsupported_and_inconsistent_keys() {
        // RS256 (alg -257, kty 3).
        assert_eq!(
            parse("a30103033901000020").unwrap_err(),
            WebAuthnError::UnsupportedAlgorithm { alg: -257 }
        );
        // ES256 alg with the Ed25519 curve.
        assert!(matches!(
            parse(&ES256_COSE.replace("200121", "200621")),
            Err(WebAuthnError::Malformed { .. })
        ));
        // A point off the curve: last byte of y changed.
        let off_curve = format!("{}21", &ES256_COSE[..ES256_COSE.len() - 2]);
        assert!(matches!(
            parse(&off_curve),
            Err(WebAuthnError::Malformed { .. })
        ));
    }

    #[test]
    fn stored_keys_are_checked_on_load() {
        let wrong_length = r#"{"alg":"EdDSA","x":"AQID"}"#;
        assert!(serde_json::from_str::<PublicKey>(wrong_length).is_err());
        let es256_without_y =
            r#"{"alg":"ES256","x":"r--hb5fKmy0j64bMtkCY0g25CFYGLrJJwzqbZy8m32E"}"#;
        assert!(serde_json::from_str::<PublicKey>(es256_without_y).is_err());
    }
}
