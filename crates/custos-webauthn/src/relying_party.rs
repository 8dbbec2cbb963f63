//! The relying party: its configuration and the registration (§7.1) and authentication (§7.2) ceremonies.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::WebAuthnError;
use crate::authenticator_data::AuthenticatorData;
use crate::bytes::{Base64UrlBytes, Challenge, CredentialId, UserHandle, base64url_decode};
use crate::cbor::{self, Value};
use crate::cose::{CoseAlgorithm, PublicKey};

/// Largest `clientDataJSON` accepted; real ones are a few hundred bytes.
const MAX_CLIENT_DATA_LEN: usize = 16 * 1024;
/// Largest attestation object accepted; full attestation with certificate chains stays far below.
const MAX_ATTESTATION_OBJECT_LEN: usize = 64 * 1024;
/// Ceremony timeout when none is configured, in milliseconds (the spec's recommended 5 minutes).
const DEFAULT_TIMEOUT_MS: u32 = 300_000;

/// Whether the authenticator must verify the user (PIN, biometrics) and not only test presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UserVerification {
    /// The UV flag must be set, or the ceremony fails with [`WebAuthnError::UserNotVerified`].
    Required,
    /// Asked for; its absence is reported in [`AuthResult::user_verified`] but not refused.
    Preferred,
    /// Not asked for; its absence is not refused.
    Discouraged,
}

/// Which attestation statements registration accepts. Trust chains are never evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttestationPolicy {
    /// `none`, or `packed` self-attestation whose signature is verified. Anything else is refused.
    NoneOrSelf,
    /// As [`Self::NoneOrSelf`], and any other format is accepted with its statement unverified
    /// (recorded as [`Attestation::Unverified`]): the key is trusted on first use, as with `none`.
    AcceptUnverified,
}

/// What the attestation statement proved about a registered credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Attestation {
    /// Format `none`: nothing about the authenticator's make.
    None,
    /// Format `packed` without a certificate: the credential key signed its own creation.
    SelfAttested,
    /// Another format (or packed with a certificate chain), accepted without verification.
    Unverified { format: String },
}

/// The relying party: its id (a registrable domain such as `localhost` or `custos.example`), its
/// display name, the exact origins its pages are served from, and its policies.
#[derive(Debug, Clone)]
pub struct RelyingParty {
    id: String,
    name: String,
    origins: Vec<String>,
    user_verification: UserVerification,
    attestation_policy: AttestationPolicy,
    timeout_ms: u32,
    algorithms: Vec<CoseAlgorithm>,
}

impl RelyingParty {
    /// A relying party requiring user verification, accepting ES256 and EdDSA, `none` or self
    /// attestation, with a 5-minute ceremony timeout.
    ///
    /// Every origin must be `https://host[:port]` (or `http://` for `localhost`, `127.0.0.1`,
    /// `[::1]`), without path, whose host is the rp id or a subdomain of it.
    pub fn new(
        id: impl Into<String>,
        name: impl Into<String>,
        origins: Vec<String>,
    ) -> Result<Self, WebAuthnError> {
        let id = id.into();
        if id.is_empty() || id.contains(['/', ':', ' ']) || id.starts_with('.') || id.ends_with('.')
        {
            return Err(WebAuthnError::InvalidConfiguration { what: "rp id" });
        }
        if origins.is_empty() {
            return Err(WebAuthnError::InvalidConfiguration { what: "origins" });
        }
        for origin in &origins {
            check_origin_matches_rp_id(origin, &id)?;
        }
        Ok(RelyingParty {
            id,
            name: name.into(),
            origins,
            user_verification: UserVerification::Required,
            attestation_policy: AttestationPolicy::NoneOrSelf,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            algorithms: vec![CoseAlgorithm::Es256, CoseAlgorithm::EdDsa],
        })
    }

    pub fn with_user_verification(mut self, user_verification: UserVerification) -> Self {
        self.user_verification = user_verification;
        self
    }

    pub fn with_attestation_policy(mut self, policy: AttestationPolicy) -> Self {
        self.attestation_policy = policy;
        self
    }

    /// Ceremony timeout, sent to the browser and enforced at `finish_*`.
    pub fn with_timeout_ms(mut self, timeout_ms: u32) -> Self {
        self.timeout_ms = timeout_ms;
        self
    }

    /// Restricts the accepted algorithms, most preferred first; an empty list is refused.
    pub fn with_algorithms(mut self, algorithms: &[CoseAlgorithm]) -> Result<Self, WebAuthnError> {
        if algorithms.is_empty() {
            return Err(WebAuthnError::InvalidConfiguration { what: "algorithms" });
        }
        self.algorithms = algorithms.to_vec();
        Ok(self)
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Begins registering a passkey for `user`. The options go to the browser; the state stays on
    /// the server (it is serde-serialisable) until [`Self::finish_registration`] consumes it.
    pub fn start_registration(
        &self,
        user: &UserEntity,
        exclude: &[CredentialId],
        challenge: Challenge,
        now_unix_ms: u64,
    ) -> (CreationOptions, RegistrationState) {
        let options = CreationOptions {
            rp: RpEntity {
                id: self.id.clone(),
                name: self.name.clone(),
            },
            user: user.clone(),
            challenge: challenge.clone(),
            pub_key_cred_params: self
                .algorithms
                .iter()
                .map(|algorithm| CredentialParameter {
                    kind: PUBLIC_KEY,
                    alg: algorithm.cose_id(),
                })
                .collect(),
            timeout: self.timeout_ms,
            exclude_credentials: exclude.iter().map(CredentialDescriptor::new).collect(),
            authenticator_selection: AuthenticatorSelection {
                resident_key: "required",
                require_resident_key: true,
                user_verification: self.user_verification,
            },
            attestation: "none",
        };
        let state = RegistrationState {
            challenge,
            user_handle: user.id.clone(),
            user_verification: self.user_verification,
            exclude: exclude.to_vec(),
            expires_at_unix_ms: now_unix_ms.saturating_add(u64::from(self.timeout_ms)),
        };
        (options, state)
    }

    /// Checks the browser's answer to `navigator.credentials.create` (WebAuthn §7.1) and returns
    /// the passkey to store. The caller must also check that no stored passkey has the same id.
    pub fn finish_registration(
        &self,
        state: RegistrationState,
        response: &RegistrationResponse,
        now_unix_ms: u64,
    ) -> Result<Passkey, WebAuthnError> {
        if now_unix_ms > state.expires_at_unix_ms {
            return Err(WebAuthnError::Expired);
        }
        let raw_id = check_credential_envelope(&response.id, &response.raw_id, &response.kind)?;
        let client_data_json = &response.response.client_data_json.0;
        self.check_client_data(client_data_json, "webauthn.create", &state.challenge)?;

        let attestation_object = &response.response.attestation_object.0;
        if attestation_object.len() > MAX_ATTESTATION_OBJECT_LEN {
            return Err(WebAuthnError::malformed("attestation object"));
        }
        let object = cbor::decode_exact(attestation_object)
            .map_err(|_| WebAuthnError::malformed("attestation object"))?;
        let entries = object
            .as_map()
            .ok_or(WebAuthnError::malformed("attestation object"))?;
        let format = cbor::map_get_text(entries, "fmt")
            .and_then(Value::as_text)
            .ok_or(WebAuthnError::malformed("attestation format"))?;
        let statement = cbor::map_get_text(entries, "attStmt")
            .and_then(Value::as_map)
            .ok_or(WebAuthnError::malformed("attestation statement"))?;
        let auth_data_bytes = cbor::map_get_text(entries, "authData")
            .and_then(Value::as_bytes)
            .ok_or(WebAuthnError::malformed("authenticator data"))?;

        let auth_data = AuthenticatorData::parse(auth_data_bytes)?;
        self.check_authenticator_data(&auth_data, state.user_verification)?;
        let attested = auth_data
            .attested
            .as_ref()
            .ok_or(WebAuthnError::malformed("attested credential data"))?;
        if attested.credential_id != raw_id.as_bytes() {
            return Err(WebAuthnError::WrongCredential);
        }
        let algorithm = attested.public_key.algorithm();
        if !self.algorithms.contains(&algorithm) {
            return Err(WebAuthnError::UnsupportedAlgorithm {
                alg: algorithm.cose_id(),
            });
        }
        if state.exclude.contains(&raw_id) {
            return Err(WebAuthnError::CredentialExcluded);
        }

        let client_data_hash = sha256(client_data_json);
        let attestation = self.check_attestation(
            format,
            statement,
            auth_data_bytes,
            &client_data_hash,
            &attested.public_key,
        )?;

        Ok(Passkey {
            credential_id: raw_id,
            public_key: attested.public_key.clone(),
            sign_count: auth_data.sign_count,
            user_handle: state.user_handle,
            backup_eligible: auth_data.flags.backup_eligible(),
            backed_up: auth_data.flags.backed_up(),
            user_verified: auth_data.flags.user_verified(),
            aaguid: Base64UrlBytes(attested.aaguid.to_vec()),
            transports: response.response.transports.clone(),
            attestation,
        })
    }

    /// Begins an authentication. With an empty `allow` list the browser offers any discoverable
    /// passkey of this rp id (usernameless sign-in); the state must then be finished with the passkey
    /// the caller looked up by [`AuthenticationResponse::credential_id`].
    pub fn start_authentication(
        &self,
        allow: &[Passkey],
        challenge: Challenge,
        now_unix_ms: u64,
    ) -> (RequestOptions, AuthenticationState) {
        let allow_ids: Vec<CredentialId> = allow
            .iter()
            .map(|passkey| passkey.credential_id.clone())
            .collect();
        let options = RequestOptions {
            challenge: challenge.clone(),
            timeout: self.timeout_ms,
            rp_id: self.id.clone(),
            allow_credentials: allow
                .iter()
                .map(|passkey| CredentialDescriptor {
                    kind: PUBLIC_KEY,
                    id: passkey.credential_id.clone(),
                    transports: passkey.transports.clone(),
                })
                .collect(),
            user_verification: self.user_verification,
        };
        let state = AuthenticationState {
            challenge,
            allow: allow_ids,
            user_verification: self.user_verification,
            expires_at_unix_ms: now_unix_ms.saturating_add(u64::from(self.timeout_ms)),
        };
        (options, state)
    }

    /// Checks the browser's answer to `navigator.credentials.get` (WebAuthn §7.2) against the stored
    /// `passkey`. The state is consumed: a challenge answers one ceremony only. On success apply the
    /// result with [`Passkey::record_authentication`] and store the passkey again.
    pub fn finish_authentication(
        &self,
        state: AuthenticationState,
        response: &AuthenticationResponse,
        passkey: &Passkey,
        now_unix_ms: u64,
    ) -> Result<AuthResult, WebAuthnError> {
        if now_unix_ms > state.expires_at_unix_ms {
            return Err(WebAuthnError::Expired);
        }
        let raw_id = check_credential_envelope(&response.id, &response.raw_id, &response.kind)?;
        if raw_id != passkey.credential_id
            || (!state.allow.is_empty() && !state.allow.contains(&raw_id))
        {
            return Err(WebAuthnError::WrongCredential);
        }
        match &response.response.user_handle {
            Some(handle) if handle.0 != passkey.user_handle.as_bytes() => {
                return Err(WebAuthnError::UserHandleMismatch);
            }
            // A discoverable-credential ceremony identifies the user only through the user handle.
            None if state.allow.is_empty() => return Err(WebAuthnError::malformed("user handle")),
            _ => {}
        }

        let client_data_json = &response.response.client_data_json.0;
        self.check_client_data(client_data_json, "webauthn.get", &state.challenge)?;
        let auth_data_bytes = &response.response.authenticator_data.0;
        let auth_data = AuthenticatorData::parse(auth_data_bytes)?;
        self.check_authenticator_data(&auth_data, state.user_verification)?;
        if auth_data.flags.backup_eligible() != passkey.backup_eligible {
            return Err(WebAuthnError::BadBackupFlags);
        }
        if !self.algorithms.contains(&passkey.public_key.algorithm()) {
            return Err(WebAuthnError::UnsupportedAlgorithm {
                alg: passkey.public_key.algorithm().cose_id(),
            });
        }

        let mut signed = Vec::with_capacity(auth_data_bytes.len() + 32);
        signed.extend_from_slice(auth_data_bytes);
        signed.extend_from_slice(&sha256(client_data_json));
        passkey
            .public_key
            .verify(&signed, &response.response.signature.0)?;

        // §7.2 step 22: a counter that does not grow, when either side is non-zero, signals a clone.
        let received = auth_data.sign_count;
        let stored = passkey.sign_count;
        if (received != 0 || stored != 0) && received <= stored {
            return Err(WebAuthnError::CloneSuspected { stored, received });
        }

        Ok(AuthResult {
            credential_id: raw_id,
            new_sign_count: received,
            user_verified: auth_data.flags.user_verified(),
            backed_up: auth_data.flags.backed_up(),
        })
    }

    /// §7.1 steps 7-12 / §7.2 steps 11-16: type, challenge, origin and cross-origin.
    fn check_client_data(
        &self,
        json: &[u8],
        expected_type: &'static str,
        challenge: &Challenge,
    ) -> Result<(), WebAuthnError> {
        if json.len() > MAX_CLIENT_DATA_LEN {
            return Err(WebAuthnError::malformed("client data"));
        }
        let client_data: CollectedClientData =
            serde_json::from_slice(json).map_err(|_| WebAuthnError::malformed("client data"))?;
        if client_data.kind != expected_type {
            return Err(WebAuthnError::BadCeremonyType {
                expected: expected_type,
            });
        }
        let received =
            base64url_decode(&client_data.challenge).ok_or(WebAuthnError::BadChallenge)?;
        if received != challenge.as_bytes() {
            return Err(WebAuthnError::BadChallenge);
        }
        if !self.origins.contains(&client_data.origin) {
            return Err(WebAuthnError::BadOrigin {
                origin: client_data.origin,
            });
        }
        if client_data.cross_origin == Some(true) {
            return Err(WebAuthnError::CrossOrigin);
        }
        Ok(())
    }

    /// rpIdHash, UP, UV and backup flag consistency, shared by both ceremonies.
    fn check_authenticator_data(
        &self,
        data: &AuthenticatorData<'_>,
        user_verification: UserVerification,
    ) -> Result<(), WebAuthnError> {
        if data.rp_id_hash != sha256(self.id.as_bytes()) {
            return Err(WebAuthnError::BadRpId);
        }
        if !data.flags.user_present() {
            return Err(WebAuthnError::UserNotPresent);
        }
        if user_verification == UserVerification::Required && !data.flags.user_verified() {
            return Err(WebAuthnError::UserNotVerified);
        }
        if data.flags.backed_up() && !data.flags.backup_eligible() {
            return Err(WebAuthnError::BadBackupFlags);
        }
        Ok(())
    }

    /// §7.1 steps 19-21 for the formats this crate verifies; see [`AttestationPolicy`].
    fn check_attestation(
        &self,
        format: &str,
        statement: &[(Value<'_>, Value<'_>)],
        auth_data: &[u8],
        client_data_hash: &[u8; 32],
        credential_key: &PublicKey,
    ) -> Result<Attestation, WebAuthnError> {
        let has_certificates = cbor::map_get_text(statement, "x5c").is_some();
        match format {
            "none" if statement.is_empty() => Ok(Attestation::None),
            "none" => Err(WebAuthnError::malformed("attestation statement")),
            "packed" if !has_certificates => {
                let alg = cbor::map_get_text(statement, "alg")
                    .and_then(Value::as_i64)
                    .ok_or(WebAuthnError::malformed("attestation statement"))?;
                let signature = cbor::map_get_text(statement, "sig")
                    .and_then(Value::as_bytes)
                    .ok_or(WebAuthnError::malformed("attestation statement"))?;
                if statement.len() != 2 || alg != credential_key.algorithm().cose_id() {
                    return Err(WebAuthnError::BadAttestation);
                }
                let mut signed = Vec::with_capacity(auth_data.len() + 32);
                signed.extend_from_slice(auth_data);
                signed.extend_from_slice(client_data_hash);
                credential_key
                    .verify(&signed, signature)
                    .map_err(|_| WebAuthnError::BadAttestation)?;
                Ok(Attestation::SelfAttested)
            }
            other => match self.attestation_policy {
                AttestationPolicy::AcceptUnverified => Ok(Attestation::Unverified {
                    format: other.to_owned(),
                }),
                AttestationPolicy::NoneOrSelf => Err(WebAuthnError::UnsupportedAttestation {
                    format: other.to_owned(),
                }),
            },
        }
    }
}

/// `id` must be the base64url of `rawId`, `type` must be `public-key` (§5.1).
fn check_credential_envelope(
    id: &str,
    raw_id: &Base64UrlBytes,
    kind: &str,
) -> Result<CredentialId, WebAuthnError> {
    if kind != PUBLIC_KEY {
        return Err(WebAuthnError::malformed("credential type"));
    }
    let raw_id = CredentialId::parse(raw_id.0.clone())?;
    if base64url_decode(id).as_deref() != Some(raw_id.as_bytes()) {
        return Err(WebAuthnError::malformed("credential id"));
    }
    Ok(raw_id)
}

/// Checks an origin's form and that its host is the rp id or one of its subdomains.
fn check_origin_matches_rp_id(origin: &str, rp_id: &str) -> Result<(), WebAuthnError> {
    let invalid = WebAuthnError::InvalidConfiguration { what: "origins" };
    let (scheme, authority) = origin.split_once("://").ok_or(invalid.clone())?;
    if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
        return Err(invalid);
    }
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed
            .split_once(']')
            .map(|(inside, _)| inside)
            .ok_or(invalid.clone())?,
        None => authority.split(':').next().unwrap_or(authority),
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "::1");
    match scheme {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid),
    }
    let suffix_ok = host == rp_id
        || host
            .strip_suffix(rp_id)
            .is_some_and(|prefix| prefix.ends_with('.'));
    if !suffix_ok {
        return Err(invalid);
    }
    Ok(())
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

const PUBLIC_KEY: &str = "public-key";

/// The `clientDataJSON` fields checked (§5.8.1); others, like `topOrigin`, are ignored.
#[derive(Deserialize)]
struct CollectedClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
}

/// The user account a passkey is created for. `id` is the opaque user handle; `name` and
/// `display_name` only label the passkey in the browser's UI and are kept out of Debug output.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserEntity {
    pub id: UserHandle,
    pub name: String,
    pub display_name: String,
}

impl fmt::Debug for UserEntity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UserEntity")
            .field("id", &self.id)
            .field("name", &"<redacted>")
            .field("display_name", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RpEntity {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialParameter {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub alg: i64,
}

/// `PublicKeyCredentialDescriptorJSON`: a credential to exclude or allow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialDescriptor {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub id: CredentialId,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<String>,
}

impl CredentialDescriptor {
    fn new(id: &CredentialId) -> Self {
        CredentialDescriptor {
            kind: PUBLIC_KEY,
            id: id.clone(),
            transports: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticatorSelection {
    pub resident_key: &'static str,
    pub require_resident_key: bool,
    pub user_verification: UserVerification,
}

/// `PublicKeyCredentialCreationOptionsJSON`: give it to `PublicKeyCredential.parseCreationOptionsFromJSON`
/// in the browser, then to `navigator.credentials.create({ publicKey })`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CreationOptions {
    pub rp: RpEntity,
    pub user: UserEntity,
    pub challenge: Challenge,
    pub pub_key_cred_params: Vec<CredentialParameter>,
    pub timeout: u32,
    pub exclude_credentials: Vec<CredentialDescriptor>,
    pub authenticator_selection: AuthenticatorSelection,
    pub attestation: &'static str,
}

/// `PublicKeyCredentialRequestOptionsJSON`: give it to `PublicKeyCredential.parseRequestOptionsFromJSON`,
/// then to `navigator.credentials.get({ publicKey })`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestOptions {
    pub challenge: Challenge,
    pub timeout: u32,
    pub rp_id: String,
    pub allow_credentials: Vec<CredentialDescriptor>,
    pub user_verification: UserVerification,
}

/// Server-side memory of a registration ceremony; keep it (e.g. in the session) until the answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationState {
    challenge: Challenge,
    user_handle: UserHandle,
    user_verification: UserVerification,
    exclude: Vec<CredentialId>,
    expires_at_unix_ms: u64,
}

/// Server-side memory of an authentication ceremony. Delete it when it is finished, whatever the
/// outcome: a stored state that is reused is a replayable challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticationState {
    challenge: Challenge,
    allow: Vec<CredentialId>,
    user_verification: UserVerification,
    expires_at_unix_ms: u64,
}

/// `RegistrationResponseJSON`, as `PublicKeyCredential.toJSON()` gives it after `create()`.
/// Unknown fields (`clientExtensionResults`, `authenticatorAttachment`, ...) are ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationResponse {
    pub id: String,
    pub raw_id: Base64UrlBytes,
    #[serde(rename = "type")]
    pub kind: String,
    pub response: AttestationResponse,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttestationResponse {
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: Base64UrlBytes,
    pub attestation_object: Base64UrlBytes,
    #[serde(default)]
    pub transports: Vec<String>,
}

/// `AuthenticationResponseJSON`, as `PublicKeyCredential.toJSON()` gives it after `get()`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationResponse {
    pub id: String,
    pub raw_id: Base64UrlBytes,
    #[serde(rename = "type")]
    pub kind: String,
    pub response: AssertionResponse,
}

impl AuthenticationResponse {
    /// The credential id to look the stored passkey up by (not yet authenticated).
    pub fn credential_id(&self) -> Result<CredentialId, WebAuthnError> {
        CredentialId::parse(self.raw_id.0.clone())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssertionResponse {
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: Base64UrlBytes,
    pub authenticator_data: Base64UrlBytes,
    pub signature: Base64UrlBytes,
    #[serde(default)]
    pub user_handle: Option<Base64UrlBytes>,
}

/// A registered credential, to store (it is serde-serialisable) and give back at authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Passkey {
    pub credential_id: CredentialId,
    pub public_key: PublicKey,
    pub sign_count: u32,
    pub user_handle: UserHandle,
    /// BE flag: the credential may be synced to other devices (a "multi-device" passkey).
    pub backup_eligible: bool,
    /// BS flag, as last seen: the credential is currently backed up.
    pub backed_up: bool,
    /// UV flag at registration.
    pub user_verified: bool,
    /// The authenticator model id (all zero for most `none` attestations).
    pub aaguid: Base64UrlBytes,
    /// Transport hints from registration, echoed in `allowCredentials`.
    pub transports: Vec<String>,
    pub attestation: Attestation,
}

impl Passkey {
    /// Applies a successful authentication: new counter and backup state.
    pub fn record_authentication(&mut self, result: &AuthResult) {
        self.sign_count = result.new_sign_count;
        self.backed_up = result.backed_up;
    }
}

/// A successful authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    pub credential_id: CredentialId,
    pub new_sign_count: u32,
    pub user_verified: bool,
    pub backed_up: bool,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_belong_to_the_rp_id() {
        let check = |origin: &str, rp_id: &str| check_origin_matches_rp_id(origin, rp_id).is_ok();
        assert!(check("https://example.org", "example.org"));
        assert!(check("https://login.example.org:8443", "example.org"));
        assert!(check("http://localhost:8080", "localhost"));
        assert!(check("http://127.0.0.1:3000", "127.0.0.1"));
        assert!(!check("http://example.org", "example.org"));
        assert!(!check("https://badexample.org", "example.org"));
        assert!(!check("https://example.org/login", "example.org"));
        assert!(!check("https://example.org.evil.test", "example.org"));
        assert!(!check("example.org", "example.org"));
        assert!(RelyingParty::new("example.org", "x", vec![]).is_err());
        assert!(RelyingParty::new("", "x", vec!["https://example.org".into()]).is_err());
    }

    #[test]
    fn user_names_stay_out_of_debug_output() {
        let user = UserEntity {
            id: UserHandle::parse(b"agent-17").unwrap(),
            name: "alice@example.org".into(),
            display_name: "Alice Liddell".into(),
        };
        let debug = format!("{user:?}");
        assert!(
            !debug.contains("alice") && !debug.contains("Alice"),
            "{debug}"
        );
    }
}
