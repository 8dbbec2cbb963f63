//! Authenticator data (WebAuthn §6.1): rpIdHash, flags, signature counter, attested credential data.

use crate::WebAuthnError;
use crate::cbor;
use crate::cose::PublicKey;

/// The flags byte of authenticator data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Flags(pub(crate) u8);

impl Flags {
    pub(crate) const USER_PRESENT: u8 = 0x01;
    pub(crate) const USER_VERIFIED: u8 = 0x04;
    pub(crate) const BACKUP_ELIGIBLE: u8 = 0x08;
    pub(crate) const BACKED_UP: u8 = 0x10;
    pub(crate) const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
    pub(crate) const EXTENSION_DATA: u8 = 0x80;

    fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
    pub(crate) fn user_present(self) -> bool {
        self.has(Self::USER_PRESENT)
    }
    pub(crate) fn user_verified(self) -> bool {
        self.has(Self::USER_VERIFIED)
    }
    pub(crate) fn backup_eligible(self) -> bool {
        self.has(Self::BACKUP_ELIGIBLE)
    }
    pub(crate) fn backed_up(self) -> bool {
        self.has(Self::BACKED_UP)
    }
}

/// The credential the authenticator created, present when the AT flag is set.
#[derive(Debug)]
pub(crate) struct AttestedCredential<'a> {
    pub(crate) aaguid: [u8; 16],
    pub(crate) credential_id: &'a [u8],
    pub(crate) public_key: PublicKey,
}

#[derive(Debug)]
pub(crate) struct AuthenticatorData<'a> {
    pub(crate) rp_id_hash: &'a [u8],
    pub(crate) flags: Flags,
    pub(crate) sign_count: u32,
    pub(crate) attested: Option<AttestedCredential<'a>>,
}

const FIXED_LEN: usize = 32 + 1 + 4;

impl<'a> AuthenticatorData<'a> {
    /// Parses the whole byte string; leftover bytes after the declared parts are refused.
    pub(crate) fn parse(bytes: &'a [u8]) -> Result<Self, WebAuthnError> {
        let malformed = || WebAuthnError::malformed("authenticator data");
        if bytes.len() < FIXED_LEN {
            return Err(malformed());
        }
        let rp_id_hash = &bytes[..32];
        let flags = Flags(bytes[32]);
        let sign_count = u32::from_be_bytes([bytes[33], bytes[34], bytes[35], bytes[36]]);
        let mut rest = &bytes[FIXED_LEN..];

        let attested = if flags.has(Flags::ATTESTED_CREDENTIAL_DATA) {
            if rest.len() < 18 {
                return Err(malformed());
            }
            let mut aaguid = [0u8; 16];
            aaguid.copy_from_slice(&rest[..16]);
            let id_len = usize::from(u16::from_be_bytes([rest[16], rest[17]]));
            rest = &rest[18..];
            if id_len == 0 || id_len > crate::CredentialId::MAX_LEN || rest.len() < id_len {
                return Err(malformed());
            }
            let credential_id = &rest[..id_len];
            rest = &rest[id_len..];
            let (key, after_key) = cbor::decode_prefix(rest)
                .map_err(|_| WebAuthnError::malformed("credential public key"))?;
            let public_key = PublicKey::from_cose(&key)?;
            rest = after_key;
            Some(AttestedCredential {
                aaguid,
                credential_id,
                public_key,
            })
        } else {
            None
        };

        if flags.has(Flags::EXTENSION_DATA) {
            let (extensions, after) =
                cbor::decode_prefix(rest).map_err(|_| WebAuthnError::malformed("extensions"))?;
            if extensions.as_map().is_none() {
                return Err(WebAuthnError::malformed("extensions"));
            }
            rest = after;
        }
        if !rest.is_empty() {
            return Err(malformed());
        }
        Ok(AuthenticatorData {
            rp_id_hash,
            flags,
            sign_count,
            attested,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn fixed(flags: u8) -> Vec<u8> {
        let mut bytes = vec![7u8; 32];
        bytes.push(flags);
        bytes.extend_from_slice(&5u32.to_be_bytes());
        bytes
    }

    #[test]
    fn parses_the_fixed_part() {
        let bytes = fixed(0x05);
        let data = AuthenticatorData::parse(&bytes).unwrap();
        assert_eq!(data.sign_count, 5);
        assert!(data.flags.user_present() && data.flags.user_verified());
        assert!(!data.flags.backup_eligible() && !data.flags.backed_up());
        assert!(data.attested.is_none());
    }

    #[test]
    fn refuses_short_trailing_and_inconsistent_data() {
        assert!(AuthenticatorData::parse(&fixed(0x01)[..36]).is_err());
        let mut trailing = fixed(0x01);
        trailing.push(0);
        assert!(AuthenticatorData::parse(&trailing).is_err());
        // AT set with nothing after the counter.
        assert!(AuthenticatorData::parse(&fixed(0x41)).is_err());
        // ED set: an empty map is fine, a non-map is not.
        let mut with_extensions = fixed(0x81);
        with_extensions.push(0xa0);
        assert!(AuthenticatorData::parse(&with_extensions).is_ok());
        let mut bad_extensions = fixed(0x81);
        bad_extensions.push(0x00);
        assert!(AuthenticatorData::parse(&bad_extensions).is_err());
        // AT with a credential id length past the end.
        let mut bad_length = fixed(0x41);
        bad_length.extend_from_slice(&[0; 16]);
        bad_length.extend_from_slice(&[0x00, 0x40, 1, 2]);
        assert!(AuthenticatorData::parse(&bad_length).is_err());
    }
}
