//! Signed notes, checkpoints and cosignatures: the Go reference vector in
//! `tests/data/signed_note_vector.json` and round trips.

use custos_audit::{
    Checkpoint, NoteError, NoteSigner, NoteVerifier, cosign_checkpoint, leaf_hash, open_note,
    parse_note, verify_cosignature,
};
use ed25519_dalek::SigningKey;
use serde::Deserialize;

use crate::TestResult;

#[derive(Deserialize)]
struct NoteVector {
    verifier_key: String,
    signer_key: String,
    text: String,
    note: String,
}

fn vector() -> Result<NoteVector, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signed_note_vector.json"
    ))?;
    Ok(serde_json::from_str(&text)?)
}

pub fn signer(name: &str, seed: u8) -> Result<NoteSigner, NoteError> {
    NoteSigner::new(name, SigningKey::from_bytes(&[seed; 32]))
}

#[test]
fn go_reference_note_is_reproduced_byte_for_byte() -> TestResult {
    let vector = vector()?;
    let signer = NoteSigner::parse(&vector.signer_key)?;
    assert_eq!(signer.sign(&vector.text)?, vector.note);
    let verifier = NoteVerifier::parse(&vector.verifier_key)?;
    assert_eq!(verifier.encode(), vector.verifier_key);
    assert_eq!(signer.verifier(), verifier);
    assert_eq!(open_note(&vector.note, &verifier)?, vector.text);
    Ok(())
}

#[test]
fn go_reference_note_fails_when_altered() -> TestResult {
    let vector = vector()?;
    let verifier = NoteVerifier::parse(&vector.verifier_key)?;
    let altered = vector.note.replace("cryptography", "cryptograpy");
    assert_eq!(
        open_note(&altered, &verifier),
        Err(NoteError::NoValidSignature("PeterNeumann".into()))
    );
    let other = signer("PeterNeumann", 9)?.verifier();
    assert!(open_note(&vector.note, &other).is_err());
    // A wrong key id in the verifier key string is refused.
    let wrong_id = vector.verifier_key.replace("c74f20a3", "c74f20a4");
    assert!(matches!(
        NoteVerifier::parse(&wrong_id),
        Err(NoteError::MalformedKey(_))
    ));
    Ok(())
}

#[test]
fn checkpoint_round_trip_and_format() -> TestResult {
    let log = signer("custos.example/audit", 1)?;
    let checkpoint = Checkpoint {
        origin: "custos.example/audit".into(),
        size: 8,
        root: leaf_hash(b""),
    };
    let note = checkpoint.sign(&log)?;
    let mut lines = note.lines();
    assert_eq!(lines.next(), Some("custos.example/audit"));
    assert_eq!(lines.next(), Some("8"));
    assert_eq!(
        lines.next(),
        Some("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=")
    );
    assert_eq!(lines.next(), Some(""));
    let signature_line = lines.next().unwrap_or_default();
    assert!(
        signature_line.starts_with("\u{2014} custos.example/audit "),
        "{signature_line}"
    );
    assert_eq!(Checkpoint::open(&note, &log.verifier())?, checkpoint);
    assert!(Checkpoint::open(&note, &signer("custos.example/audit", 2)?.verifier()).is_err());
    let (_, signatures) = parse_note(&note)?;
    assert_eq!(signatures.len(), 1);
    assert_eq!(signatures[0].key_id, log.verifier().key_id());
    Ok(())
}

#[test]
fn checkpoint_bodies_are_parsed_strictly() {
    for body in [
        "origin\n08\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        "origin\n-1\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        "origin\n8\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0\n",
        "origin\n8\nAAAA\n",
        "\n8\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=\n",
        "origin\n8\nbjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=",
    ] {
        assert!(
            matches!(
                Checkpoint::parse_body(body),
                Err(NoteError::MalformedCheckpoint(_))
            ),
            "accepted {body:?}"
        );
    }
}

#[test]
fn witness_cosignature_verifies_and_binds_the_checkpoint() -> TestResult {
    let log = signer("custos.example/audit", 1)?;
    let witness = signer("witness.example", 3)?;
    let checkpoint = Checkpoint {
        origin: "custos.example/audit".into(),
        size: 3,
        root: leaf_hash(b"x"),
    };
    let note = checkpoint.sign(&log)?;
    assert!(verify_cosignature(&note, &witness.verifier()).is_err());
    let cosigned = cosign_checkpoint(&note, &witness, 1_700_000_000)?;
    assert_eq!(
        verify_cosignature(&cosigned, &witness.verifier())?,
        1_700_000_000
    );
    // The log's signature still verifies on the cosigned note.
    assert_eq!(Checkpoint::open(&cosigned, &log.verifier())?, checkpoint);
    // A cosignature is not a note signature, nor the other way round.
    assert!(open_note(&cosigned, &witness.verifier()).is_err());
    assert!(verify_cosignature(&note, &log.verifier()).is_err());
    // Moving the cosignature to another checkpoint fails.
    let other = Checkpoint {
        size: 4,
        ..checkpoint
    }
    .sign(&log)?;
    let witness_line = cosigned.lines().last().unwrap_or_default();
    let transplanted = format!("{other}{witness_line}\n");
    assert!(verify_cosignature(&transplanted, &witness.verifier()).is_err());
    Ok(())
}

#[test]
fn key_names_are_validated() {
    for name in ["", "has space", "has+plus", "tab\tname"] {
        assert!(
            matches!(signer(name, 1), Err(NoteError::InvalidKeyName(_))),
            "accepted {name:?}"
        );
    }
}

#[test]
fn a_signer_from_a_seed_round_trips_through_its_private_encoding() {
    let signer = custos_audit::NoteSigner::from_seed("custos.example/audit", [7u8; 32]).unwrap();
    let text = signer.encode_private();
    assert!(
        text.starts_with("PRIVATE+KEY+custos.example/audit+"),
        "{text}"
    );
    let parsed = custos_audit::NoteSigner::parse(&text).unwrap();
    assert_eq!(parsed.verifier().encode(), signer.verifier().encode());
    let other = custos_audit::NoteSigner::from_seed("custos.example/audit", [8u8; 32]).unwrap();
    assert_ne!(other.verifier().encode(), signer.verifier().encode());
    assert!(!format!("{signer:?}").contains(&text[text.len() - 20..]));
}
