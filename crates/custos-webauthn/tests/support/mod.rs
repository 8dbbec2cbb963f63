//! A software authenticator plus browser: answers the relying party's JSON options the way
//! `navigator.credentials.create/get` and `PublicKeyCredential.toJSON()` would, with real
//! P-256 or Ed25519 signatures, and with knobs to misbehave.

use custos_webauthn::{
    AuthenticationResponse, RegistrationResponse, base64url_decode, base64url_encode,
};
use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

pub const UP: u8 = 0x01;
pub const UV: u8 = 0x04;
pub const BE: u8 = 0x08;
pub const BS: u8 = 0x10;
const AT: u8 = 0x40;

pub enum SoftKey {
    P256(p256::ecdsa::SigningKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl SoftKey {
    pub fn p256(seed: u8) -> Self {
        SoftKey::P256(p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap())
    }

    pub fn ed25519(seed: u8) -> Self {
        SoftKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    fn cose_id(&self) -> i8 {
        match self {
            SoftKey::P256(_) => -7,
            SoftKey::Ed25519(_) => -8,
        }
    }

    fn cose_public_key(&self) -> Vec<u8> {
        match self {
            SoftKey::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
                cose.extend_from_slice(&bytes[1..33]);
                cose.extend_from_slice(&[0x22, 0x58, 0x20]);
                cose.extend_from_slice(&bytes[33..65]);
                cose
            }
            SoftKey::Ed25519(key) => {
                let mut cose = vec![0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20];
                cose.extend_from_slice(key.verifying_key().as_bytes());
                cose
            }
        }
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            SoftKey::P256(key) => {
                let signature: p256::ecdsa::Signature = key.sign(message);
                signature.to_der().as_bytes().to_vec()
            }
            SoftKey::Ed25519(key) => {
                use ed25519_dalek::Signer as _;
                key.sign(message).to_bytes().to_vec()
            }
        }
    }
}

pub enum Format {
    None,
    PackedSelf,
}

/// Each public field is something a broken or hostile client could get wrong.
pub struct SoftAuthenticator {
    pub key: SoftKey,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    /// Sent in `clientDataJSON.origin`.
    pub origin: String,
    /// Hashed into `rpIdHash`; `None` uses the options' rp id as an honest authenticator does.
    pub rp_id: Option<String>,
    pub flags: u8,
    pub cross_origin: bool,
    /// Replaces the options' challenge in `clientDataJSON`.
    pub challenge: Option<String>,
    /// Replaces `webauthn.create` / `webauthn.get`.
    pub ceremony_type: Option<String>,
    pub format: Format,
    /// Remembered from registration, returned in assertions.
    pub user_handle: Option<Vec<u8>>,
}

impl SoftAuthenticator {
    pub fn new(key: SoftKey, origin: &str) -> Self {
        SoftAuthenticator {
            key,
            credential_id: (1..=32).collect(),
            counter: 0,
            origin: origin.to_owned(),
            rp_id: None,
            flags: UP | UV,
            cross_origin: false,
            challenge: None,
            ceremony_type: None,
            format: Format::None,
            user_handle: None,
        }
    }

    fn client_data(&self, default_type: &str, options: &Value) -> Vec<u8> {
        let challenge = self
            .challenge
            .clone()
            .unwrap_or_else(|| options["challenge"].as_str().unwrap().to_owned());
        let kind = self
            .ceremony_type
            .clone()
            .unwrap_or_else(|| default_type.to_owned());
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": challenge,
            "origin": self.origin,
            "crossOrigin": self.cross_origin,
        }))
        .unwrap()
    }

    fn authenticator_data(&self, rp_id_in_options: &str, attested: bool) -> Vec<u8> {
        let rp_id = self.rp_id.as_deref().unwrap_or(rp_id_in_options);
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(if attested {
            self.flags | AT
        } else {
            self.flags
        });
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0u8; 16]);
            data.extend_from_slice(
                &u16::try_from(self.credential_id.len())
                    .unwrap()
                    .to_be_bytes(),
            );
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.key.cose_public_key());
        }
        data
    }

    /// `navigator.credentials.create` with the relying party's options as JSON.
    pub fn register(&mut self, options: &Value) -> RegistrationResponse {
        let client_data = self.client_data("webauthn.create", options);
        let auth_data = self.authenticator_data(options["rp"]["id"].as_str().unwrap(), true);
        self.user_handle = Some(base64url_decode(options["user"]["id"].as_str().unwrap()).unwrap());
        let mut object = Vec::new();
        object.push(0xa3);
        text(&mut object, "fmt");
        match self.format {
            Format::None => {
                text(&mut object, "none");
                text(&mut object, "attStmt");
                object.push(0xa0);
            }
            Format::PackedSelf => {
                text(&mut object, "packed");
                text(&mut object, "attStmt");
                object.push(0xa2);
                text(&mut object, "alg");
                // -7 encodes as 0x26, -8 as 0x27 (major type 1, argument 6 or 7).
                object.push(0x20 | u8::try_from(-1 - i16::from(self.key.cose_id())).unwrap());
                text(&mut object, "sig");
                let mut signed = auth_data.clone();
                signed.extend_from_slice(&Sha256::digest(&client_data));
                byte_string(&mut object, &self.key.sign(&signed));
            }
        }
        text(&mut object, "authData");
        byte_string(&mut object, &auth_data);
        let id = base64url_encode(&self.credential_id);
        serde_json::from_value(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": base64url_encode(&client_data),
                "attestationObject": base64url_encode(&object),
                "transports": ["internal"],
            },
        }))
        .unwrap()
    }

    /// `navigator.credentials.get`: counts up, signs authenticatorData || SHA-256(clientDataJSON).
    pub fn authenticate(&mut self, options: &Value) -> AuthenticationResponse {
        self.counter = self.counter.wrapping_add(1);
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.authenticator_data(options["rpId"].as_str().unwrap(), false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature = self.key.sign(&signed);
        let id = base64url_encode(&self.credential_id);
        serde_json::from_value(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": base64url_encode(&client_data),
                "authenticatorData": base64url_encode(&auth_data),
                "signature": base64url_encode(&signature),
                "userHandle": self.user_handle.as_deref().map(base64url_encode),
            },
        }))
        .unwrap()
    }
}

fn header(out: &mut Vec<u8>, major: u8, length: usize) {
    if length < 24 {
        out.push(major << 5 | u8::try_from(length).unwrap());
    } else if length < 256 {
        out.push(major << 5 | 24);
        out.push(u8::try_from(length).unwrap());
    } else {
        out.push(major << 5 | 25);
        out.extend_from_slice(&u16::try_from(length).unwrap().to_be_bytes());
    }
}

fn text(out: &mut Vec<u8>, value: &str) {
    header(out, 3, value.len());
    out.extend_from_slice(value.as_bytes());
}

fn byte_string(out: &mut Vec<u8>, value: &[u8]) {
    header(out, 2, value.len());
    out.extend_from_slice(value);
}

pub fn decode_hex(text: &str) -> Vec<u8> {
    assert!(text.len() % 2 == 0, "odd hex length");
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}
