//! C2SP signed notes (`signed-note`), checkpoints (`tlog-checkpoint`) and
//! witness cosignatures (`tlog-cosignature`), Ed25519 only.
//!
//! A note is `text` (ending in a newline), a blank line, then one line per
//! signature: `— <key name> <base64(4-byte key id || signature)>`. The key id
//! is the first 4 bytes of SHA-256(name || 0x0A || type || public key), with
//! type 0x01 for an Ed25519 note signature and 0x04 for a cosignature.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::hash::Hash;

const SIGNATURE_PREFIX: &str = "\u{2014} ";
const TYPE_ED25519: u8 = 0x01;
const TYPE_COSIGNATURE: u8 = 0x04;
const COSIGNATURE_HEADER: &str = "cosignature/v1\n";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("key name `{0}` is empty or contains whitespace or `+`")]
    InvalidKeyName(String),
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    #[error("malformed note: {0}")]
    MalformedNote(&'static str),
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    #[error("no valid signature by key `{0}`")]
    NoValidSignature(String),
}

fn check_key_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.contains(char::is_whitespace) || name.contains('+') {
        return Err(NoteError::InvalidKeyName(name.to_owned()));
    }
    Ok(())
}

fn key_id(name: &str, key_type: u8, public_key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update([0x0a, key_type]);
    hasher.update(public_key.as_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn parse_hex_id(text: &str) -> Result<[u8; 4], NoteError> {
    let malformed = NoteError::MalformedKey("key id is not 8 lowercase hex digits");
    if text.len() != 8 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(malformed);
    }
    let value = u32::from_str_radix(text, 16).map_err(|_| malformed)?;
    Ok(value.to_be_bytes())
}

fn hex_id(id: [u8; 4]) -> String {
    format!("{:08x}", u32::from_be_bytes(id))
}

/// Decodes `base64(type || 32 key bytes)` of a key string.
fn decode_typed_key(text: &str) -> Result<[u8; 32], NoteError> {
    let bytes = BASE64
        .decode(text)
        .map_err(|_| NoteError::MalformedKey("key material is not base64"))?;
    match bytes.split_first() {
        Some((&TYPE_ED25519, rest)) => <[u8; 32]>::try_from(rest)
            .map_err(|_| NoteError::MalformedKey("Ed25519 key is not 32 bytes")),
        _ => Err(NoteError::MalformedKey("key type is not Ed25519 (0x01)")),
    }
}

/// A named Ed25519 signing key. Its `Debug` never shows the key.
pub struct NoteSigner {
    name: String,
    key: SigningKey,
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("NoteSigner")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl NoteSigner {
    pub fn new(name: &str, key: SigningKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Self {
            name: name.to_owned(),
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    pub fn parse(encoded: &str) -> Result<Self, NoteError> {
        let rest = encoded
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::MalformedKey(
                "signer key does not start with `PRIVATE+KEY+`",
            ))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedKey(
                "signer key has fewer than three fields",
            ));
        };
        let signer = Self::new(name, SigningKey::from_bytes(&decode_typed_key(material)?))?;
        if parse_hex_id(id)? != signer.verifier().key_id() {
            return Err(NoteError::MalformedKey("key id does not match the key"));
        }
        Ok(signer)
    }

    /// A signer from a 32-byte Ed25519 seed (e.g. fresh OS randomness).
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        Self::new(name, SigningKey::from_bytes(&seed))
    }

    /// The `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>` text that
    /// [`NoteSigner::parse`] reads. Secret: store it like a password.
    pub fn encode_private(&self) -> String {
        let mut material = vec![TYPE_ED25519];
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            hex_id(self.verifier().key_id()),
            BASE64.encode(material)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier::from_parts(&self.name, self.key.verifying_key())
    }

    /// Signs `text` (which must end in a newline) into a note with one signature.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        check_note_text(text)?;
        let signature = self.key.sign(text.as_bytes());
        let mut blob = self.verifier().key_id().to_vec();
        blob.extend_from_slice(&signature.to_bytes());
        Ok(format!(
            "{text}\n{SIGNATURE_PREFIX}{} {}\n",
            self.name,
            BASE64.encode(blob)
        ))
    }
}

/// A named Ed25519 public key, as a verifier key string
/// `<name>+<hex id>+<base64(0x01 || public key)>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    key: VerifyingKey,
}

impl NoteVerifier {
    fn from_parts(name: &str, key: VerifyingKey) -> Self {
        Self {
            name: name.to_owned(),
            key,
        }
    }

    pub fn new(name: &str, key: VerifyingKey) -> Result<Self, NoteError> {
        check_key_name(name)?;
        Ok(Self::from_parts(name, key))
    }

    pub fn parse(encoded: &str) -> Result<Self, NoteError> {
        let mut parts = encoded.splitn(3, '+');
        let (Some(name), Some(id), Some(material)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(NoteError::MalformedKey(
                "verifier key has fewer than three fields",
            ));
        };
        let key = VerifyingKey::from_bytes(&decode_typed_key(material)?)
            .map_err(|_| NoteError::MalformedKey("not a valid Ed25519 public key"))?;
        let verifier = Self::new(name, key)?;
        if parse_hex_id(id)? != verifier.key_id() {
            return Err(NoteError::MalformedKey("key id does not match the key"));
        }
        Ok(verifier)
    }

    pub fn encode(&self) -> String {
        let mut material = vec![TYPE_ED25519];
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex_id(self.key_id()),
            BASE64.encode(material)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Key id of this key's note signatures (type 0x01).
    pub fn key_id(&self) -> [u8; 4] {
        key_id(&self.name, TYPE_ED25519, &self.key)
    }

    /// Key id of this key's cosignatures (type 0x04).
    pub fn cosignature_key_id(&self) -> [u8; 4] {
        key_id(&self.name, TYPE_COSIGNATURE, &self.key)
    }
}

fn check_note_text(text: &str) -> Result<(), NoteError> {
    if !text.ends_with('\n') {
        return Err(NoteError::MalformedNote("text does not end with a newline"));
    }
    Ok(())
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    /// The signature bytes after the key id.
    pub payload: Vec<u8>,
}

/// Splits a note into its text and signature lines, without verifying.
pub fn parse_note(note: &str) -> Result<(&str, Vec<NoteSignature>), NoteError> {
    if !note.ends_with('\n') {
        return Err(NoteError::MalformedNote("note does not end with a newline"));
    }
    let split = note.rfind("\n\n").ok_or(NoteError::MalformedNote(
        "no blank line before the signatures",
    ))?;
    let (text, signature_block) = (&note[..=split], &note[split + 2..]);
    let mut signatures = Vec::new();
    for line in signature_block.lines() {
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or(NoteError::MalformedNote(
                "signature line does not start with `— `",
            ))?;
        let (name, encoded) = rest.split_once(' ').ok_or(NoteError::MalformedNote(
            "signature line has no space after the name",
        ))?;
        check_key_name(name)?;
        let blob = BASE64
            .decode(encoded)
            .map_err(|_| NoteError::MalformedNote("signature is not base64"))?;
        if blob.len() < 5 {
            return Err(NoteError::MalformedNote("signature is too short"));
        }
        let (id, payload) = blob.split_at(4);
        signatures.push(NoteSignature {
            name: name.to_owned(),
            key_id: [id[0], id[1], id[2], id[3]],
            payload: payload.to_vec(),
        });
    }
    if signatures.is_empty() {
        return Err(NoteError::MalformedNote("note has no signatures"));
    }
    Ok((text, signatures))
}

/// Verifies that `note` carries a valid signature by `verifier` and returns its text.
pub fn open_note<'a>(note: &'a str, verifier: &NoteVerifier) -> Result<&'a str, NoteError> {
    let (text, signatures) = parse_note(note)?;
    let wanted_id = verifier.key_id();
    for signature in signatures {
        if signature.name != verifier.name || signature.key_id != wanted_id {
            continue;
        }
        let Ok(bytes) = <[u8; 64]>::try_from(signature.payload.as_slice()) else {
            continue;
        };
        if verifier
            .key
            .verify(text.as_bytes(), &Signature::from_bytes(&bytes))
            .is_ok()
        {
            return Ok(text);
        }
    }
    Err(NoteError::NoValidSignature(verifier.name.clone()))
}

/// A tree head as C2SP `tlog-checkpoint` body: origin, size, base64 root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn to_body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            BASE64.encode(self.root)
        )
    }

    /// Parses a checkpoint body; extension lines after the root are ignored.
    pub fn parse_body(body: &str) -> Result<Self, NoteError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|origin| !origin.is_empty())
            .ok_or(NoteError::MalformedCheckpoint("empty origin line"))?;
        let size_text = lines.next().unwrap_or_default();
        let canonical_decimal = !size_text.is_empty()
            && size_text.bytes().all(|b| b.is_ascii_digit())
            && (size_text == "0" || !size_text.starts_with('0'));
        if !canonical_decimal {
            return Err(NoteError::MalformedCheckpoint(
                "tree size is not a decimal without leading zeros",
            ));
        }
        let size = size_text
            .parse()
            .map_err(|_| NoteError::MalformedCheckpoint("tree size overflows 64 bits"))?;
        let root_bytes = BASE64
            .decode(lines.next().unwrap_or_default())
            .map_err(|_| NoteError::MalformedCheckpoint("root hash is not base64"))?;
        let root = Hash::try_from(root_bytes.as_slice())
            .map_err(|_| NoteError::MalformedCheckpoint("root hash is not 32 bytes"))?;
        if !body.ends_with('\n') {
            return Err(NoteError::MalformedCheckpoint(
                "body does not end with a newline",
            ));
        }
        Ok(Self {
            origin: origin.to_owned(),
            size,
            root,
        })
    }

    /// The signed checkpoint note.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String, NoteError> {
        signer.sign(&self.to_body())
    }

    /// Verifies a signed checkpoint note against the log's key and parses it.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Self, NoteError> {
        Self::parse_body(open_note(note, verifier)?)
    }
}

fn cosigned_message(body: &str, timestamp: u64) -> String {
    format!("{COSIGNATURE_HEADER}time {timestamp}\n{body}")
}

/// A witness's cosignature of a signed checkpoint note (C2SP
/// `tlog-cosignature/v1`): returns the note with the witness's line added.
/// The witness must have checked consistency with what it saw before.
pub fn cosign_checkpoint(
    note: &str,
    witness: &NoteSigner,
    timestamp: u64,
) -> Result<String, NoteError> {
    let (text, _) = parse_note(note)?;
    Checkpoint::parse_body(text)?;
    let signature = witness
        .key
        .sign(cosigned_message(text, timestamp).as_bytes());
    let mut blob = witness.verifier().cosignature_key_id().to_vec();
    blob.extend_from_slice(&timestamp.to_be_bytes());
    blob.extend_from_slice(&signature.to_bytes());
    Ok(format!(
        "{note}{SIGNATURE_PREFIX}{} {}\n",
        witness.name,
        BASE64.encode(blob)
    ))
}

/// Verifies a witness cosignature on a checkpoint note; returns its timestamp.
pub fn verify_cosignature(note: &str, witness: &NoteVerifier) -> Result<u64, NoteError> {
    let (text, signatures) = parse_note(note)?;
    let wanted_id = witness.cosignature_key_id();
    for signature in signatures {
        if signature.name != witness.name || signature.key_id != wanted_id {
            continue;
        }
        let Ok(payload) = <[u8; 72]>::try_from(signature.payload.as_slice()) else {
            continue;
        };
        let (time_bytes, signature_bytes) = payload.split_at(8);
        let (Ok(time_bytes), Ok(signature_bytes)) = (
            <[u8; 8]>::try_from(time_bytes),
            <[u8; 64]>::try_from(signature_bytes),
        ) else {
            continue;
        };
        let timestamp = u64::from_be_bytes(time_bytes);
        let message = cosigned_message(text, timestamp);
        if witness
            .key
            .verify(message.as_bytes(), &Signature::from_bytes(&signature_bytes))
            .is_ok()
        {
            return Ok(timestamp);
        }
    }
    Err(NoteError::NoValidSignature(witness.name.clone()))
}
