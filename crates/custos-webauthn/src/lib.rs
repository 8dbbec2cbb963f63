//! WebAuthn relying party for custos: registration and authentication ceremonies, no IO.
//!
//! A small, synchronous, pure-Rust implementation of the relying-party side of WebAuthn Level 2/3
//! (passkeys) for ES256 (P-256) and EdDSA (Ed25519) credentials. It builds the JSON options for
//! `navigator.credentials.create/get`, and checks the browser's answers: ceremony type, single-use
//! challenge, origin, rp id hash, user presence and verification, backup flags, `none` or `packed`
//! self attestation, assertion signature and signature counter. It does no IO: the caller stores the
//! ceremony states and the passkeys, gives the current time and fresh challenges.
//!
//! See the crate's README.md for the API walk-through, what is not checked, and browser tests.

mod authenticator_data;
mod bytes;
mod cbor;
mod cose;
mod error;
mod relying_party;

pub use bytes::{
    Base64UrlBytes, Challenge, CredentialId, UserHandle, base64url_decode, base64url_encode,
};
pub use cose::{CoseAlgorithm, PublicKey};
pub use error::WebAuthnError;
pub use relying_party::{
    AssertionResponse, Attestation, AttestationPolicy, AttestationResponse, AuthResult,
    AuthenticationResponse, AuthenticationState, AuthenticatorSelection, CreationOptions,
    CredentialDescriptor, CredentialParameter, Passkey, RegistrationResponse, RegistrationState,
    RelyingParty, RequestOptions, RpEntity, UserEntity, UserVerification,
};
