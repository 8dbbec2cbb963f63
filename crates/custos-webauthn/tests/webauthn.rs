//! Ceremonies end to end: a software authenticator against the relying party, each tampering
//! refused with its own error, and the W3C WebAuthn Level 3 test vectors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use custos_webauthn::{
    Attestation, AttestationPolicy, AuthenticationState, Challenge, CoseAlgorithm, CredentialId,
    Passkey, RegistrationResponse, RelyingParty, UserEntity, UserHandle, UserVerification,
    WebAuthnError, base64url_encode,
};
use serde_json::Value;
use support::{BE, BS, Format, SoftAuthenticator, SoftKey, UP, UV, decode_hex};

const RP_ID: &str = "localhost";
const ORIGIN: &str = "http://localhost:8080";
const NOW: u64 = 1_800_000_000_000;

fn relying_party() -> RelyingParty {
    RelyingParty::new(RP_ID, "custos console", vec![ORIGIN.to_owned()]).unwrap()
}

fn user() -> UserEntity {
    UserEntity {
        id: UserHandle::parse(b"agent-0042").unwrap(),
        name: "alice".into(),
        display_name: "Alice".into(),
    }
}

fn challenge(seed: u8) -> Challenge {
    Challenge::from_bytes(vec![seed; 32]).unwrap()
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

/// Registers `authenticator` with `rp` and returns the outcome.
fn register(
    rp: &RelyingParty,
    authenticator: &mut SoftAuthenticator,
) -> Result<Passkey, WebAuthnError> {
    let (options, state) = rp.start_registration(&user(), &[], challenge(1), NOW);
    let response = authenticator.register(&to_json(&options));
    rp.finish_registration(state, &response, NOW + 1_000)
}

/// An honest registration, then one authentication with `authenticator` as it is at call time.
fn authenticate(
    rp: &RelyingParty,
    authenticator: &mut SoftAuthenticator,
    passkey: &Passkey,
) -> Result<custos_webauthn::AuthResult, WebAuthnError> {
    let (options, state) =
        rp.start_authentication(std::slice::from_ref(passkey), challenge(2), NOW);
    let response = authenticator.authenticate(&to_json(&options));
    rp.finish_authentication(state, &response, passkey, NOW + 1_000)
}

fn honest(key: SoftKey) -> SoftAuthenticator {
    SoftAuthenticator::new(key, ORIGIN)
}

#[test]
fn es256_and_eddsa_passkeys_register_and_authenticate() {
    for (key, algorithm) in [
        (SoftKey::p256(7), CoseAlgorithm::Es256),
        (SoftKey::ed25519(9), CoseAlgorithm::EdDsa),
    ] {
        let rp = relying_party();
        let mut authenticator = honest(key);
        let mut passkey = register(&rp, &mut authenticator).unwrap();
        assert_eq!(passkey.public_key.algorithm(), algorithm);
        assert_eq!(
            passkey.credential_id.as_bytes(),
            authenticator.credential_id.as_slice()
        );
        assert_eq!(passkey.user_handle, user().id);
        assert_eq!(passkey.sign_count, 0);
        assert_eq!(passkey.attestation, Attestation::None);
        assert_eq!(passkey.transports, vec!["internal".to_owned()]);
        assert!(passkey.user_verified);

        // The stored form loads back identical, and keeps working across authentications.
        let stored = serde_json::to_string(&passkey).unwrap();
        passkey = serde_json::from_str(&stored).unwrap();
        for expected_count in 1..=3 {
            let result = authenticate(&rp, &mut authenticator, &passkey).unwrap();
            assert_eq!(result.new_sign_count, expected_count);
            assert!(result.user_verified);
            assert_eq!(&result.credential_id, &passkey.credential_id);
            passkey.record_authentication(&result);
            assert_eq!(passkey.sign_count, expected_count);
        }
    }
}

#[test]
fn packed_self_attestation_is_verified() {
    let rp = relying_party();
    let mut authenticator = honest(SoftKey::p256(3));
    authenticator.format = Format::PackedSelf;
    let passkey = register(&rp, &mut authenticator).unwrap();
    assert_eq!(passkey.attestation, Attestation::SelfAttested);

    // The same statement with a flipped signature byte is refused.
    let (options, state) = rp.start_registration(&user(), &[], challenge(1), NOW);
    let mut response = authenticator.register(&to_json(&options));
    let object = &mut response.response.attestation_object.0;
    let sig_start = find(object, b"sig").unwrap() + 3 + 2; // "sig" text, then 0x58 and the length.
    object[sig_start + 10] ^= 0x01;
    assert_eq!(
        rp.finish_registration(state, &response, NOW),
        Err(WebAuthnError::BadAttestation)
    );
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

#[test]
fn creation_options_have_the_browser_json_shape() {
    let rp = relying_party();
    let excluded = CredentialId::parse(vec![9; 16]).unwrap();
    let (options, _) =
        rp.start_registration(&user(), std::slice::from_ref(&excluded), challenge(5), NOW);
    let json = to_json(&options);
    assert_eq!(json["rp"]["id"], "localhost");
    assert_eq!(json["user"]["id"], base64url_encode(b"agent-0042"));
    assert_eq!(json["user"]["displayName"], "Alice");
    assert_eq!(json["challenge"], base64url_encode(&[5; 32]));
    assert_eq!(json["pubKeyCredParams"][0]["alg"], -7);
    assert_eq!(json["pubKeyCredParams"][1]["alg"], -8);
    assert_eq!(json["pubKeyCredParams"][0]["type"], "public-key");
    assert_eq!(json["excludeCredentials"][0]["id"], excluded.to_base64url());
    assert_eq!(
        json["authenticatorSelection"]["userVerification"],
        "required"
    );
    assert_eq!(json["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(json["attestation"], "none");
    assert_eq!(json["timeout"], 300_000);

    let passkey = register(&rp, &mut honest(SoftKey::p256(7))).unwrap();
    let (request, _) = rp.start_authentication(std::slice::from_ref(&passkey), challenge(6), NOW);
    let json = to_json(&request);
    assert_eq!(json["rpId"], "localhost");
    assert_eq!(
        json["allowCredentials"][0]["id"],
        passkey.credential_id.to_base64url()
    );
    assert_eq!(json["allowCredentials"][0]["transports"][0], "internal");
    assert_eq!(json["userVerification"], "required");
}

#[test]
fn registration_tampering_is_refused() {
    type Tamper = fn(&mut SoftAuthenticator);
    let cases: [(&str, Tamper, WebAuthnError); 8] = [
        (
            "challenge",
            |a| a.challenge = Some(base64url_encode(&[1; 31])),
            WebAuthnError::BadChallenge,
        ),
        (
            "origin",
            |a| a.origin = "http://localhost:9999".into(),
            WebAuthnError::BadOrigin {
                origin: "http://localhost:9999".into(),
            },
        ),
        (
            "rp id",
            |a| a.rp_id = Some("evil.test".into()),
            WebAuthnError::BadRpId,
        ),
        (
            "user presence",
            |a| a.flags = UV,
            WebAuthnError::UserNotPresent,
        ),
        (
            "user verification",
            |a| a.flags = UP,
            WebAuthnError::UserNotVerified,
        ),
        (
            "ceremony type",
            |a| a.ceremony_type = Some("webauthn.get".into()),
            WebAuthnError::BadCeremonyType {
                expected: "webauthn.create",
            },
        ),
        (
            "cross origin",
            |a| a.cross_origin = true,
            WebAuthnError::CrossOrigin,
        ),
        (
            "backed up without eligibility",
            |a| a.flags = UP | UV | BS,
            WebAuthnError::BadBackupFlags,
        ),
    ];
    for (name, tamper, expected) in cases {
        let mut authenticator = honest(SoftKey::p256(7));
        tamper(&mut authenticator);
        assert_eq!(
            register(&relying_party(), &mut authenticator),
            Err(expected),
            "{name}"
        );
    }
}

#[test]
fn registration_policy_refusals() {
    let rp = relying_party();
    let mut authenticator = honest(SoftKey::p256(7));

    // An already registered credential in the exclude list.
    let excluded = CredentialId::parse(authenticator.credential_id.clone()).unwrap();
    let (options, state) = rp.start_registration(&user(), &[excluded], challenge(1), NOW);
    let response = authenticator.register(&to_json(&options));
    assert_eq!(
        rp.finish_registration(state, &response, NOW),
        Err(WebAuthnError::CredentialExcluded)
    );

    // An Ed25519 key where only ES256 is accepted.
    let es256_only = relying_party()
        .with_algorithms(&[CoseAlgorithm::Es256])
        .unwrap();
    assert_eq!(
        register(&es256_only, &mut honest(SoftKey::ed25519(9))),
        Err(WebAuthnError::UnsupportedAlgorithm { alg: -8 })
    );

    // Too late: the state expired.
    let (options, state) = rp.start_registration(&user(), &[], challenge(1), NOW);
    let response = authenticator.register(&to_json(&options));
    assert_eq!(
        rp.finish_registration(state, &response, NOW + 300_001),
        Err(WebAuthnError::Expired)
    );

    // `id` that is not the base64url of `rawId`.
    let (options, state) = rp.start_registration(&user(), &[], challenge(1), NOW);
    let mut response = authenticator.register(&to_json(&options));
    response.id = base64url_encode(b"another credential id");
    assert_eq!(
        rp.finish_registration(state, &response, NOW),
        Err(WebAuthnError::Malformed {
            what: "credential id"
        })
    );

    // `rawId` that is not the credential in the authenticator data.
    let (options, state) = rp.start_registration(&user(), &[], challenge(1), NOW);
    let mut response = authenticator.register(&to_json(&options));
    response.raw_id.0 = vec![0xee; 32];
    response.id = base64url_encode(&response.raw_id.0);
    assert_eq!(
        rp.finish_registration(state, &response, NOW),
        Err(WebAuthnError::WrongCredential)
    );

    // Without user verification the registration passes when UV is only preferred.
    let relaxed = relying_party().with_user_verification(UserVerification::Preferred);
    let mut no_uv = honest(SoftKey::p256(7));
    no_uv.flags = UP;
    let passkey = register(&relaxed, &mut no_uv).unwrap();
    assert!(!passkey.user_verified);
}

#[test]
fn authentication_tampering_is_refused() {
    type Tamper = fn(&mut SoftAuthenticator);
    let cases: [(&str, Tamper, WebAuthnError); 9] = [
        (
            "challenge",
            |a| a.challenge = Some(base64url_encode(&[2; 31])),
            WebAuthnError::BadChallenge,
        ),
        (
            "origin",
            |a| a.origin = "https://localhost".into(),
            WebAuthnError::BadOrigin {
                origin: "https://localhost".into(),
            },
        ),
        (
            "rp id",
            |a| a.rp_id = Some("localhost.evil.test".into()),
            WebAuthnError::BadRpId,
        ),
        (
            "user presence",
            |a| a.flags = UV,
            WebAuthnError::UserNotPresent,
        ),
        (
            "user verification",
            |a| a.flags = UP,
            WebAuthnError::UserNotVerified,
        ),
        (
            "ceremony type",
            |a| a.ceremony_type = Some("webauthn.create".into()),
            WebAuthnError::BadCeremonyType {
                expected: "webauthn.get",
            },
        ),
        (
            "cross origin",
            |a| a.cross_origin = true,
            WebAuthnError::CrossOrigin,
        ),
        (
            "backup eligibility changed",
            |a| a.flags = UP | UV | BE,
            WebAuthnError::BadBackupFlags,
        ),
        (
            "signed by another key",
            |a| a.key = SoftKey::p256(8),
            WebAuthnError::BadSignature,
        ),
    ];
    for (name, tamper, expected) in cases {
        let rp = relying_party();
        let mut authenticator = honest(SoftKey::p256(7));
        let passkey = register(&rp, &mut authenticator).unwrap();
        tamper(&mut authenticator);
        assert_eq!(
            authenticate(&rp, &mut authenticator, &passkey),
            Err(expected),
            "{name}"
        );
    }
}

#[test]
fn altered_signed_bytes_are_refused() {
    for key in [SoftKey::p256(7), SoftKey::ed25519(9)] {
        let rp = relying_party();
        let mut authenticator = honest(key);
        let passkey = register(&rp, &mut authenticator).unwrap();
        let (options, state) =
            rp.start_authentication(std::slice::from_ref(&passkey), challenge(2), NOW);
        let response = authenticator.authenticate(&to_json(&options));

        let mut flipped_signature = response.clone();
        let last = flipped_signature.response.signature.0.len() - 1;
        flipped_signature.response.signature.0[last - 5] ^= 0x01;
        assert_eq!(
            rp.finish_authentication(state.clone(), &flipped_signature, &passkey, NOW),
            Err(WebAuthnError::BadSignature)
        );

        // A raised counter that the authenticator did not sign.
        let mut raised_counter = response.clone();
        raised_counter.response.authenticator_data.0[36] = 0xff;
        assert_eq!(
            rp.finish_authentication(state.clone(), &raised_counter, &passkey, NOW),
            Err(WebAuthnError::BadSignature)
        );

        // Client data with an extra field: same challenge and origin, different hash.
        let mut extended = response.clone();
        let json = &mut extended.response.client_data_json.0;
        json.pop();
        json.extend_from_slice(br#","extra":1}"#);
        assert_eq!(
            rp.finish_authentication(state.clone(), &extended, &passkey, NOW),
            Err(WebAuthnError::BadSignature)
        );

        assert!(
            rp.finish_authentication(state, &response, &passkey, NOW)
                .is_ok()
        );
    }
}

#[test]
fn counter_regression_signals_a_clone() {
    let rp = relying_party();
    let mut authenticator = honest(SoftKey::p256(7));
    let mut passkey = register(&rp, &mut authenticator).unwrap();
    authenticator.counter = 10;
    let result = authenticate(&rp, &mut authenticator, &passkey).unwrap();
    assert_eq!(result.new_sign_count, 11);
    passkey.record_authentication(&result);

    // A clone that kept the key but not the counter.
    let mut clone = honest(SoftKey::p256(7));
    clone.user_handle = authenticator.user_handle.clone();
    clone.counter = 4;
    assert_eq!(
        authenticate(&rp, &mut clone, &passkey),
        Err(WebAuthnError::CloneSuspected {
            stored: 11,
            received: 5
        })
    );
    // Equal is not an increase either.
    clone.counter = 10;
    assert_eq!(
        authenticate(&rp, &mut clone, &passkey),
        Err(WebAuthnError::CloneSuspected {
            stored: 11,
            received: 11
        })
    );
    // Back to zero after non-zero is a regression too.
    clone.counter = u32::MAX;
    assert_eq!(
        authenticate(&rp, &mut clone, &passkey),
        Err(WebAuthnError::CloneSuspected {
            stored: 11,
            received: 0
        })
    );
}

#[test]
fn authenticators_without_a_counter_stay_at_zero() {
    // Synced passkeys (e.g. iCloud Keychain) always report 0: not a clone signal.
    let rp = relying_party();
    let mut authenticator = honest(SoftKey::p256(7));
    let passkey = register(&rp, &mut authenticator).unwrap();
    for _ in 0..2 {
        authenticator.counter = u32::MAX; // wraps to 0 on the next assertion
        let result = authenticate(&rp, &mut authenticator, &passkey).unwrap();
        assert_eq!(result.new_sign_count, 0);
    }
}

#[test]
fn wrong_credential_user_and_replay_are_refused() {
    let rp = relying_party();
    let mut first = honest(SoftKey::p256(7));
    let first_passkey = register(&rp, &mut first).unwrap();
    let mut second = honest(SoftKey::p256(8));
    second.credential_id = vec![0xab; 16];
    let second_passkey = register(&rp, &mut second).unwrap();

    // The first authenticator answers, but the caller checks it against the second passkey.
    let (options, state) =
        rp.start_authentication(std::slice::from_ref(&first_passkey), challenge(2), NOW);
    let response = first.authenticate(&to_json(&options));
    assert_eq!(
        rp.finish_authentication(state, &response, &second_passkey, NOW),
        Err(WebAuthnError::WrongCredential)
    );

    // A credential that was not in the allow list.
    let (options, state) =
        rp.start_authentication(std::slice::from_ref(&second_passkey), challenge(2), NOW);
    let response = first.authenticate(&to_json(&options));
    assert_eq!(
        rp.finish_authentication(state, &response, &first_passkey, NOW),
        Err(WebAuthnError::WrongCredential)
    );

    // A user handle that is not the passkey's.
    let (options, state) =
        rp.start_authentication(std::slice::from_ref(&first_passkey), challenge(2), NOW);
    first.user_handle = Some(b"agent-9999".to_vec());
    let response = first.authenticate(&to_json(&options));
    assert_eq!(
        rp.finish_authentication(state, &response, &first_passkey, NOW),
        Err(WebAuthnError::UserHandleMismatch)
    );
    first.user_handle = Some(b"agent-0042".to_vec());

    // Replay: a response recorded for one ceremony, presented to the next one.
    let (options, state) =
        rp.start_authentication(std::slice::from_ref(&first_passkey), challenge(3), NOW);
    let recorded = first.authenticate(&to_json(&options));
    assert!(
        rp.finish_authentication(state, &recorded, &first_passkey, NOW)
            .is_ok()
    );
    let (_, next_state) =
        rp.start_authentication(std::slice::from_ref(&first_passkey), challenge(4), NOW);
    assert_eq!(
        rp.finish_authentication(next_state, &recorded, &first_passkey, NOW),
        Err(WebAuthnError::BadChallenge)
    );

    // Expired state.
    let (options, state) =
        rp.start_authentication(std::slice::from_ref(&first_passkey), challenge(5), NOW);
    let response = first.authenticate(&to_json(&options));
    assert_eq!(
        rp.finish_authentication(state, &response, &first_passkey, NOW + 300_001),
        Err(WebAuthnError::Expired)
    );
}

#[test]
fn discoverable_login_needs_the_user_handle() {
    let rp = relying_party();
    let mut authenticator = honest(SoftKey::p256(7));
    let passkey = register(&rp, &mut authenticator).unwrap();

    let (options, state) = rp.start_authentication(&[], challenge(2), NOW);
    assert_eq!(to_json(&options)["allowCredentials"], serde_json::json!([]));
    let response = authenticator.authenticate(&to_json(&options));
    assert_eq!(response.credential_id().unwrap(), passkey.credential_id);
    assert!(
        rp.finish_authentication(state.clone(), &response, &passkey, NOW)
            .is_ok()
    );

    let mut anonymous = response;
    anonymous.response.user_handle = None;
    assert_eq!(
        rp.finish_authentication(state, &anonymous, &passkey, NOW),
        Err(WebAuthnError::Malformed {
            what: "user handle"
        })
    );
}

#[test]
fn ceremony_states_survive_serialisation() {
    let rp = relying_party();
    let mut authenticator = honest(SoftKey::p256(7));
    let passkey = register(&rp, &mut authenticator).unwrap();
    let (options, state) =
        rp.start_authentication(std::slice::from_ref(&passkey), challenge(2), NOW);
    let stored = serde_json::to_string(&state).unwrap();
    let loaded: AuthenticationState = serde_json::from_str(&stored).unwrap();
    assert_eq!(loaded, state);
    let response = authenticator.authenticate(&to_json(&options));
    assert!(
        rp.finish_authentication(loaded, &response, &passkey, NOW)
            .is_ok()
    );
}

#[test]
fn garbage_is_malformed_not_a_panic() {
    let rp = relying_party();
    let mut authenticator = honest(SoftKey::p256(7));
    let (options, state) = rp.start_registration(&user(), &[], challenge(1), NOW);
    let good = authenticator.register(&to_json(&options));
    for cut in [0, 1, 10, 40, 60, 100] {
        let mut response = good.clone();
        response.response.attestation_object.0.truncate(cut);
        let result = rp.finish_registration(state.clone(), &response, NOW);
        assert!(
            matches!(result, Err(WebAuthnError::Malformed { .. })),
            "cut at {cut}: {result:?}"
        );
    }
    let mut not_json = good.clone();
    not_json.response.client_data_json.0 = b"{".to_vec();
    assert_eq!(
        rp.finish_registration(state, &not_json, NOW),
        Err(WebAuthnError::Malformed {
            what: "client data"
        })
    );
}

// ---- W3C WebAuthn Level 3 §16 test vectors (rp id `example.org`, origin `https://example.org`) ----

fn vectors() -> Value {
    serde_json::from_str(include_str!("data/w3c_webauthn_l3_vectors.json")).unwrap()
}

fn vector_rp(vectors: &Value) -> RelyingParty {
    // The vectors' assertions are made without user verification.
    RelyingParty::new(
        vectors["rp_id"].as_str().unwrap(),
        "W3C test vectors",
        vec![vectors["origin"].as_str().unwrap().to_owned()],
    )
    .unwrap()
    .with_user_verification(UserVerification::Preferred)
}

fn hex(vector: &Value, field: &str) -> Vec<u8> {
    decode_hex(vector[field].as_str().unwrap())
}

fn vector_registration(rp: &RelyingParty, vector: &Value) -> Result<Passkey, WebAuthnError> {
    let registration = &vector["registration"];
    let (_, state) = rp.start_registration(
        &user(),
        &[],
        Challenge::from_bytes(hex(registration, "challenge")).unwrap(),
        NOW,
    );
    let id = base64url_encode(&hex(registration, "credential_id"));
    let response: RegistrationResponse = serde_json::from_value(serde_json::json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "response": {
            "clientDataJSON": base64url_encode(&hex(registration, "client_data_json")),
            "attestationObject": base64url_encode(&hex(registration, "attestation_object")),
        },
    }))
    .unwrap();
    rp.finish_registration(state, &response, NOW)
}

fn vector_authentication(
    rp: &RelyingParty,
    vector: &Value,
    passkey: &Passkey,
    corrupt_signature: bool,
) -> Result<custos_webauthn::AuthResult, WebAuthnError> {
    let authentication = &vector["authentication"];
    let (_, state) = rp.start_authentication(
        std::slice::from_ref(passkey),
        Challenge::from_bytes(hex(authentication, "challenge")).unwrap(),
        NOW,
    );
    let mut signature = hex(authentication, "signature");
    if corrupt_signature {
        signature[20] ^= 0x40;
    }
    let id = passkey.credential_id.to_base64url();
    let response = serde_json::from_value(serde_json::json!({
        "id": id,
        "rawId": id,
        "type": "public-key",
        "response": {
            "clientDataJSON": base64url_encode(&hex(authentication, "client_data_json")),
            "authenticatorData": base64url_encode(&hex(authentication, "authenticator_data")),
            "signature": base64url_encode(&signature),
        },
    }))
    .unwrap();
    rp.finish_authentication(state, &response, passkey, NOW)
}

#[test]
fn w3c_none_es256_vector_registers_and_authenticates() {
    let vectors = vectors();
    let rp = vector_rp(&vectors);
    let vector = &vectors["none_es256"];
    let passkey = vector_registration(&rp, vector).unwrap();
    assert_eq!(passkey.attestation, Attestation::None);
    assert_eq!(passkey.public_key.algorithm(), CoseAlgorithm::Es256);
    assert!(
        passkey.backup_eligible && passkey.backed_up,
        "flags 0x59 carry BE and BS"
    );
    assert!(!passkey.user_verified);
    assert_eq!(
        passkey.aaguid.0,
        decode_hex("8446ccb9ab1db374750b2367ff6f3a1f")
    );

    let result = vector_authentication(&rp, vector, &passkey, false).unwrap();
    assert_eq!(result.new_sign_count, 0);
    assert!(!result.user_verified);
    assert_eq!(
        vector_authentication(&rp, vector, &passkey, true),
        Err(WebAuthnError::BadSignature)
    );

    // The same bytes for another relying party are refused.
    let other = RelyingParty::new("example.com", "other", vec!["https://example.com".into()])
        .unwrap()
        .with_user_verification(UserVerification::Preferred);
    assert_eq!(
        vector_registration(&other, vector),
        Err(WebAuthnError::BadOrigin {
            origin: "https://example.org".into()
        })
    );
    let other_origin_same_id = RelyingParty::new(
        "example.org",
        "other",
        vec!["https://login.example.org".into()],
    )
    .unwrap();
    assert!(matches!(
        vector_registration(&other_origin_same_id, vector),
        Err(WebAuthnError::BadOrigin { .. })
    ));
    // With user verification required, the vector (UV not set) is refused.
    let strict =
        RelyingParty::new("example.org", "strict", vec!["https://example.org".into()]).unwrap();
    assert_eq!(
        vector_registration(&strict, vector),
        Err(WebAuthnError::UserNotVerified)
    );
}

#[test]
fn w3c_packed_self_attestation_vector_verifies() {
    let vectors = vectors();
    let rp = vector_rp(&vectors);
    let vector = &vectors["packed_self_es256"];
    let passkey = vector_registration(&rp, vector).unwrap();
    assert_eq!(passkey.attestation, Attestation::SelfAttested);
    assert!(passkey.user_verified, "flags 0x5d carry UV");
    assert!(vector_authentication(&rp, vector, &passkey, false).is_ok());
    assert_eq!(
        vector_authentication(&rp, vector, &passkey, true),
        Err(WebAuthnError::BadSignature)
    );
}

#[test]
fn w3c_cross_origin_vector_is_refused() {
    let vectors = vectors();
    assert_eq!(
        vector_registration(&vector_rp(&vectors), &vectors["none_es256_cross_origin"]),
        Err(WebAuthnError::CrossOrigin)
    );
}

#[test]
fn w3c_eddsa_vector_needs_the_unverified_attestation_policy() {
    let vectors = vectors();
    let vector = &vectors["packed_eddsa"];
    // Packed with an x5c certificate chain: this crate does not evaluate chains.
    assert_eq!(
        vector_registration(&vector_rp(&vectors), vector),
        Err(WebAuthnError::UnsupportedAttestation {
            format: "packed".into()
        })
    );
    let rp = vector_rp(&vectors).with_attestation_policy(AttestationPolicy::AcceptUnverified);
    let passkey = vector_registration(&rp, vector).unwrap();
    assert_eq!(
        passkey.attestation,
        Attestation::Unverified {
            format: "packed".into()
        }
    );
    assert_eq!(passkey.public_key.algorithm(), CoseAlgorithm::EdDsa);
    assert!(vector_authentication(&rp, vector, &passkey, false).is_ok());
    assert_eq!(
        vector_authentication(&rp, vector, &passkey, true),
        Err(WebAuthnError::BadSignature)
    );
}
