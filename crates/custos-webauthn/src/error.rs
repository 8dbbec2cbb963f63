//! Why a ceremony was refused; each check of the WebAuthn procedures has its own variant.

/// A refused registration or authentication, or a refused configuration.
///
/// Messages carry no secret and no user name: only the origin, the algorithm, the attestation
/// format or the counters, which the browser or authenticator sent in clear anyway.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebAuthnError {
    /// `clientDataJSON.challenge` is not the challenge this ceremony issued.
    #[error("challenge does not match the one issued")]
    BadChallenge,
    /// `clientDataJSON.origin` is not one of the relying party's origins.
    #[error("origin `{origin}` is not allowed")]
    BadOrigin { origin: String },
    /// `clientDataJSON.crossOrigin` is true: the ceremony ran in a cross-origin iframe.
    #[error("cross-origin ceremony refused")]
    CrossOrigin,
    /// `clientDataJSON.type` is not the ceremony's (`webauthn.create` or `webauthn.get`).
    #[error("client data type is not `{expected}`")]
    BadCeremonyType { expected: &'static str },
    /// The authenticator data's `rpIdHash` is not SHA-256 of the relying party id.
    #[error("rp id hash does not match the relying party id")]
    BadRpId,
    /// The user-present (UP) flag is not set.
    #[error("user not present")]
    UserNotPresent,
    /// User verification was required and the UV flag is not set.
    #[error("user not verified")]
    UserNotVerified,
    /// The backup flags are inconsistent (BS without BE) or BE changed since registration.
    #[error("backup flags are invalid")]
    BadBackupFlags,
    /// The assertion signature does not verify with the stored public key.
    #[error("signature does not verify")]
    BadSignature,
    /// The credential's COSE algorithm is not one this relying party accepts.
    #[error("algorithm `{alg}` is not supported")]
    UnsupportedAlgorithm { alg: i64 },
    /// The attestation statement format is not accepted by the relying party's policy.
    #[error("attestation format `{format}` is not accepted")]
    UnsupportedAttestation { format: String },
    /// The attestation statement did not verify (e.g. a packed self-attestation signature).
    #[error("attestation statement does not verify")]
    BadAttestation,
    /// The signature counter did not increase: a cloned authenticator may be in use.
    #[error(
        "signature counter went from `{stored}` to `{received}`: possible cloned authenticator"
    )]
    CloneSuspected { stored: u32, received: u32 },
    /// The response is for a credential this ceremony did not ask for, or not the given passkey.
    #[error("credential is not the expected one")]
    WrongCredential,
    /// The assertion's `userHandle` is not the passkey's user handle.
    #[error("user handle does not match the credential")]
    UserHandleMismatch,
    /// The new credential is in the ceremony's exclude list (already registered).
    #[error("credential is already registered")]
    CredentialExcluded,
    /// The ceremony state is older than its timeout.
    #[error("ceremony expired")]
    Expired,
    /// Something in the response is not well formed; `what` names the field.
    #[error("malformed `{what}`")]
    Malformed { what: &'static str },
    /// The relying party configuration is not usable; `what` names the field.
    #[error("invalid configuration: `{what}`")]
    InvalidConfiguration { what: &'static str },
    /// The operating system gave no random bytes for a challenge.
    #[error("randomness unavailable")]
    RandomnessUnavailable,
}

impl WebAuthnError {
    pub(crate) fn malformed(what: &'static str) -> Self {
        WebAuthnError::Malformed { what }
    }
}
