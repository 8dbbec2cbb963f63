//! Passkeys through the router: a software authenticator (real P-256 keys,
//! answering the server's options JSON as a browser would) registers,
//! signs in and steps up; tampered, replayed, cloned and foreign answers
//! are refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::queries::url_encode;
use crate::tests::{Answer, Fixture, fixture, services_fixture};
use axum::http::StatusCode;
use custos_webauthn::{base64url_decode, base64url_encode};
use p256::ecdsa::signature::Signer as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const ORIGIN: &str = "http://localhost:8080";

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

/// A platform authenticator plus browser: ES256, `none` attestation, a
/// counter that counts up, and knobs to misbehave.
struct SoftAuthenticator {
    key: p256::ecdsa::SigningKey,
    credential_id: Vec<u8>,
    counter: u32,
    /// Sent in `clientDataJSON.origin`.
    origin: String,
    /// Remembered at registration, returned in assertions.
    user_handle: Option<Vec<u8>>,
}

impl SoftAuthenticator {
    fn new(seed: u8) -> SoftAuthenticator {
        SoftAuthenticator {
            key: p256::ecdsa::SigningKey::from_slice(&[seed; 32]).unwrap(),
            credential_id: vec![seed; 32],
            counter: 0,
            origin: ORIGIN.to_owned(),
            user_handle: None,
        }
    }

    fn cose_public_key(&self) -> Vec<u8> {
        let point = self.key.verifying_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20];
        cose.extend_from_slice(&bytes[1..33]);
        cose.extend_from_slice(&[0x22, 0x58, 0x20]);
        cose.extend_from_slice(&bytes[33..65]);
        cose
    }

    fn client_data(&self, kind: &str, options: &Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": options["challenge"],
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    fn authenticator_data(&self, rp_id: &str, attested: bool) -> Vec<u8> {
        let mut data = Sha256::digest(rp_id.as_bytes()).to_vec();
        data.push(if attested { UP | UV | AT } else { UP | UV });
        data.extend_from_slice(&self.counter.to_be_bytes());
        if attested {
            data.extend_from_slice(&[0_u8; 16]);
            data.extend_from_slice(
                &u16::try_from(self.credential_id.len())
                    .unwrap()
                    .to_be_bytes(),
            );
            data.extend_from_slice(&self.credential_id);
            data.extend_from_slice(&self.cose_public_key());
        }
        data
    }

    /// `navigator.credentials.create()` then `toJSON()`.
    fn register(&mut self, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.create", options);
        let auth_data = self.authenticator_data(options["rp"]["id"].as_str().unwrap(), true);
        self.user_handle = Some(base64url_decode(options["user"]["id"].as_str().unwrap()).unwrap());
        // CBOR {"fmt": "none", "attStmt": {}, "authData": bytes}
        let mut object = vec![0xa3, 0x63];
        object.extend_from_slice(b"fmt");
        object.push(0x64);
        object.extend_from_slice(b"none");
        object.push(0x67);
        object.extend_from_slice(b"attStmt");
        object.push(0xa0);
        object.push(0x68);
        object.extend_from_slice(b"authData");
        object.push(0x58);
        object.push(u8::try_from(auth_data.len()).unwrap());
        object.extend_from_slice(&auth_data);
        let id = base64url_encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "authenticatorAttachment": "platform", "clientExtensionResults": {},
            "response": {
                "clientDataJSON": base64url_encode(&client_data),
                "attestationObject": base64url_encode(&object),
                "transports": ["internal"],
            },
        })
    }

    /// `navigator.credentials.get()` then `toJSON()`.
    fn authenticate(&mut self, options: &Value) -> Value {
        self.counter = self.counter.wrapping_add(1);
        let client_data = self.client_data("webauthn.get", options);
        let auth_data = self.authenticator_data(options["rpId"].as_str().unwrap(), false);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature: p256::ecdsa::Signature = self.key.sign(&signed);
        let id = base64url_encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key", "clientExtensionResults": {},
            "response": {
                "clientDataJSON": base64url_encode(&client_data),
                "authenticatorData": base64url_encode(&auth_data),
                "signature": base64url_encode(signature.to_der().as_bytes()),
                "userHandle": self.user_handle.as_deref().map(base64url_encode),
            },
        })
    }
}

/// The fixture with passkeys on (rp id `localhost`, origin [`ORIGIN`]).
fn passkey_fixture() -> Fixture {
    let f = fixture();
    let _ = f
        .state
        .clone()
        .with_relying_party("localhost", vec![ORIGIN.to_owned()])
        .unwrap();
    f
}

fn form_json(value: &Value) -> String {
    url_encode(&value.to_string())
}

impl Fixture {
    /// POSTs for a ceremony's options; returns the status and the JSON.
    async fn options(&self, path: &str, cookie: &str, csrf: &str) -> (StatusCode, Value) {
        let answer = self
            .post(&format!("/console{path}"), cookie, &format!("csrf={csrf}"))
            .await;
        (
            answer.status,
            serde_json::from_str(&answer.body).unwrap_or(Value::Null),
        )
    }

    /// Adds `authenticator`'s passkey for the session `cookie` (TOTP step-up
    /// with the next time step of `name`).
    async fn add_passkey(
        &self,
        name: &str,
        cookie: &str,
        authenticator: &mut SoftAuthenticator,
        label: &str,
    ) -> Answer {
        let csrf = self.csrf(cookie).await;
        let (status, options) = self
            .options("/passkeys/register/options", cookie, &csrf)
            .await;
        assert_eq!(status, StatusCode::OK, "{options}");
        let response = authenticator.register(&options);
        self.state.advance_clock(30);
        let code = self.code(name);
        self.post(
            "/console/passkeys/register",
            cookie,
            &format!(
                "csrf={csrf}&label={}&code={code}&credential={}",
                url_encode(label),
                form_json(&response)
            ),
        )
        .await
    }

    /// The sign-in page's pre-session cookie and form token.
    async fn pre_session(&self) -> (String, String) {
        let form = self.call("GET", "/console/signin", None, None).await;
        let pre = form.cookie(crate::PRE_COOKIE).unwrap();
        (pre.split(';').next().unwrap().to_owned(), form.csrf())
    }

    /// Signs in with `authenticator`'s passkey (usernameless).
    async fn passkey_sign_in(&self, authenticator: &mut SoftAuthenticator) -> Answer {
        let (pre, token) = self.pre_session().await;
        let (status, options) = self.options("/signin/passkey/options", &pre, &token).await;
        assert_eq!(status, StatusCode::OK, "{options}");
        assert_eq!(options["allowCredentials"], json!([]), "discoverable");
        let response = authenticator.authenticate(&options);
        self.post(
            "/console/signin/passkey",
            &pre,
            &format!("csrf={token}&credential={}", form_json(&response)),
        )
        .await
    }

    /// A step-up assertion by `authenticator` for the session `cookie`.
    async fn step_up_assertion(
        &self,
        cookie: &str,
        authenticator: &mut SoftAuthenticator,
    ) -> String {
        let csrf = self.csrf(cookie).await;
        let (status, options) = self
            .options("/passkeys/step-up/options", cookie, &csrf)
            .await;
        assert_eq!(status, StatusCode::OK, "{options}");
        form_json(&authenticator.authenticate(&options))
    }

    fn passkey_count(&self, name: &str) -> i64 {
        self.state
            .db()
            .query_row(
                "SELECT count(*) FROM passkeys p JOIN users u ON u.id = p.user_id WHERE u.name = ?1",
                [name],
                |row| row.get(0),
            )
            .unwrap()
    }
}

fn session_cookie(answer: &Answer) -> String {
    let cookie = answer
        .cookie(crate::SESSION_COOKIE)
        .expect("a session cookie");
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_user_adds_a_passkey_and_signs_in_with_it() {
    let f = passkey_fixture();
    let signin = f.call("GET", "/console/signin", None, None).await;
    assert!(signin.body.contains("Sign in with a passkey"));
    let lee = f.sign_in("lee").await;
    let account = f.get("/console/account", &lee).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("You have no passkey."));
    assert!(account.body.contains("Add a passkey"));

    let mut authenticator = SoftAuthenticator::new(7);
    let csrf = f.csrf(&lee).await;
    let (_, options) = f.options("/passkeys/register/options", &lee, &csrf).await;
    assert_eq!(options["rp"]["id"], "localhost");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    // The user handle is random, not the name.
    let handle = base64url_decode(options["user"]["id"].as_str().unwrap()).unwrap();
    assert_eq!(handle.len(), 16);
    assert_ne!(handle, b"lee");

    let added = f
        .add_passkey("lee", &lee, &mut authenticator, "work laptop")
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(added.location(), "/console/account?done=added");
    let account = f.get(added.location(), &lee).await;
    assert!(account.body.contains("Passkey added."));
    assert!(account.body.contains("work laptop"));
    assert!(account.body.contains("never"), "not used yet");
    assert_eq!(f.passkey_count("lee"), 1);

    // Sign out, then in with the passkey: the same kind of session.
    let csrf = f.csrf(&lee).await;
    f.post("/console/signout", &lee, &format!("csrf={csrf}"))
        .await;
    assert_eq!(
        f.get("/console/", &lee).await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
    let answer = f.passkey_sign_in(&mut authenticator).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/console/");
    let set = answer.cookie(crate::SESSION_COOKIE).unwrap();
    assert!(set.ends_with("; HttpOnly; Secure; SameSite=Strict; Path=/console"));
    let cookie = session_cookie(&answer);
    let overview = f.get("/console/", &cookie).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.body.contains("lee · lead"));
    let (count, last_used): (i64, Option<i64>) = f
        .state
        .db()
        .query_row("SELECT sign_count, last_used_at FROM passkeys", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .unwrap();
    assert_eq!(count, 1);
    assert_eq!(last_used, Some(f.state.now()));
}

#[tokio::test]
async fn adding_a_passkey_needs_a_fresh_code_and_the_sessions_own_challenge() {
    let f = passkey_fixture();
    let lee = f.sign_in("lee").await;
    let mut authenticator = SoftAuthenticator::new(7);
    let csrf = f.csrf(&lee).await;
    // Options without the CSRF token: refused.
    let (status, _) = f.options("/passkeys/register/options", &lee, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, options) = f.options("/passkeys/register/options", &lee, &csrf).await;
    let response = authenticator.register(&options);
    // The sign-in code again: refused, and the challenge is spent.
    let reused = f.last_used_code("lee");
    let answer = f
        .post(
            "/console/passkeys/register",
            &lee,
            &format!(
                "csrf={csrf}&label=k&code={reused}&credential={}",
                form_json(&response)
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.body);
    f.state.advance_clock(30);
    let code = f.code("lee");
    let answer = f
        .post(
            "/console/passkeys/register",
            &lee,
            &format!(
                "csrf={csrf}&label=k&code={code}&credential={}",
                form_json(&response)
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("expired or was already used"));
    // Options of another session (ana's) do not serve lee's registration.
    let ana = f.sign_in("ana").await;
    let ana_csrf = f.csrf(&ana).await;
    let (_, options) = f
        .options("/passkeys/register/options", &ana, &ana_csrf)
        .await;
    let response = authenticator.register(&options);
    f.state.advance_clock(30);
    let code = f.code("lee");
    let answer = f
        .post(
            "/console/passkeys/register",
            &lee,
            &format!(
                "csrf={csrf}&label=k&code={code}&credential={}",
                form_json(&response)
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(f.passkey_count("lee") + f.passkey_count("ana"), 0);
    // A second registration of one authenticator: refused (excluded).
    let added = f
        .add_passkey("lee", &lee, &mut authenticator, "laptop")
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let again = f
        .add_passkey("lee", &lee, &mut authenticator, "laptop")
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert!(again.body.contains("already registered"));
    // Another user cannot take the same credential either.
    let mut copy = SoftAuthenticator::new(7);
    f.state.advance_clock(30);
    let taken = f.add_passkey("ana", &ana, &mut copy, "copy").await;
    assert_eq!(taken.status, StatusCode::BAD_REQUEST, "{}", taken.body);
    assert_eq!(f.passkey_count("ana"), 0);
}

#[tokio::test]
async fn wrong_origin_replayed_challenge_and_expired_ceremonies_are_refused() {
    let f = passkey_fixture();
    let lee = f.sign_in("lee").await;
    let mut authenticator = SoftAuthenticator::new(7);
    f.add_passkey("lee", &lee, &mut authenticator, "laptop")
        .await;

    // Wrong origin: a phishing page's assertion.
    authenticator.origin = "http://localhost:9999".to_owned();
    let answer = f.passkey_sign_in(&mut authenticator).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body.contains("another site"), "{}", answer.body);
    assert!(answer.cookie(crate::SESSION_COOKIE).is_none());
    authenticator.origin = ORIGIN.to_owned();

    // Replay: a good answer works once; sent again (same pre-session, then
    // against a new challenge) it is refused.
    let (pre, token) = f.pre_session().await;
    let (_, options) = f.options("/signin/passkey/options", &pre, &token).await;
    let response = form_json(&authenticator.authenticate(&options));
    let body = format!("csrf={token}&credential={response}");
    let first = f.post("/console/signin/passkey", &pre, &body).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let replay = f.post("/console/signin/passkey", &pre, &body).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(replay.body.contains("expired or was already used"));
    let _ = f.options("/signin/passkey/options", &pre, &token).await;
    let replay = f.post("/console/signin/passkey", &pre, &body).await;
    assert_eq!(replay.status, StatusCode::UNAUTHORIZED);
    assert!(replay.cookie(crate::SESSION_COOKIE).is_none());

    // Expired: answered after the 5-minute ceremony timeout.
    let (pre, token) = f.pre_session().await;
    let (_, options) = f.options("/signin/passkey/options", &pre, &token).await;
    let response = form_json(&authenticator.authenticate(&options));
    f.state.advance_clock(6 * 60);
    let late = f
        .post(
            "/console/signin/passkey",
            &pre,
            &format!("csrf={token}&credential={response}"),
        )
        .await;
    assert_eq!(late.status, StatusCode::UNAUTHORIZED);
    assert!(late.body.contains("expired"));

    // Without the pre-session's token: forbidden.
    let (pre, _) = f.pre_session().await;
    let (status, _) = f
        .options("/signin/passkey/options", &pre, &"0".repeat(64))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_counter_that_goes_back_is_refused_as_a_clone() {
    let f = passkey_fixture();
    let lee = f.sign_in("lee").await;
    let mut authenticator = SoftAuthenticator::new(7);
    f.add_passkey("lee", &lee, &mut authenticator, "laptop")
        .await;
    for _ in 0..3 {
        let answer = f.passkey_sign_in(&mut authenticator).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER);
    }
    // A copy of the key whose counter is behind the stored one.
    let mut clone = SoftAuthenticator::new(7);
    clone.user_handle = authenticator.user_handle.clone();
    clone.counter = 1;
    let answer = f.passkey_sign_in(&mut clone).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body.contains("signature counter went backwards"));
    let stored: i64 = f
        .state
        .db()
        .query_row("SELECT sign_count FROM passkeys", [], |row| row.get(0))
        .unwrap();
    assert_eq!(stored, 3, "the refused counter is not stored");
    // The real authenticator goes on.
    assert_eq!(
        f.passkey_sign_in(&mut authenticator).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn failed_passkey_sign_ins_count_toward_the_users_lockout() {
    let f = passkey_fixture();
    let lee = f.sign_in("lee").await;
    let mut authenticator = SoftAuthenticator::new(7);
    f.add_passkey("lee", &lee, &mut authenticator, "laptop")
        .await;
    authenticator.origin = "http://localhost:1".to_owned();
    for _ in 0..5 {
        assert_eq!(
            f.passkey_sign_in(&mut authenticator).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    authenticator.origin = ORIGIN.to_owned();
    let locked = f.passkey_sign_in(&mut authenticator).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.cookie(crate::SESSION_COOKIE).is_none());
    // The password sign-in is locked too: one lockout per user.
    let code = f.code("lee");
    assert_eq!(
        f.try_sign_in("lee", crate::tests::PASSWORD, &code)
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    f.state.advance_clock(16 * 60);
    assert_eq!(
        f.passkey_sign_in(&mut authenticator).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn another_users_credential_is_refused() {
    let f = passkey_fixture();
    let lee = f.sign_in("lee").await;
    let ana = f.sign_in("ana").await;
    let mut lees = SoftAuthenticator::new(7);
    let mut anas = SoftAuthenticator::new(9);
    f.add_passkey("lee", &lee, &mut lees, "lee's").await;
    f.add_passkey("ana", &ana, &mut anas, "ana's").await;
    // Ana's passkey answering lee's step-up challenge: not one of lee's.
    let assertion = f.step_up_assertion(&lee, &mut anas).await;
    let csrf = f.csrf(&lee).await;
    let answer = f
        .post(
            "/console/agents/a-0001/release",
            &lee,
            &format!(
                "csrf={csrf}&action=suspend_access&reason=benign+QA+review&webauthn={assertion}"
            ),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("not one of yours"), "{}", answer.body);
    assert!(
        f.store.read_events(3, 10).unwrap().is_empty(),
        "nothing released"
    );
    // Ana's key claiming to be lee (lee's user handle): refused at sign-in.
    anas.user_handle = lees.user_handle.clone();
    let answer = f.passkey_sign_in(&mut anas).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.cookie(crate::SESSION_COOKIE).is_none());
    // An unknown credential: a clear answer, no session.
    let mut stranger = SoftAuthenticator::new(11);
    stranger.user_handle = Some(vec![1; 16]);
    let answer = f.passkey_sign_in(&mut stranger).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body.contains("not registered"));
}

#[tokio::test]
async fn a_lead_releases_a_countermeasure_with_a_passkey_step_up() {
    let f = passkey_fixture();
    let lee = f.sign_in("lee").await;
    let before = f.get("/console/agents/a-0001", &lee).await;
    assert!(
        !before.body.contains("Use a passkey instead"),
        "no passkey yet"
    );
    let mut authenticator = SoftAuthenticator::new(7);
    f.add_passkey("lee", &lee, &mut authenticator, "laptop")
        .await;
    let page = f.get("/console/agents/a-0001", &lee).await;
    assert!(page.body.contains("Use a passkey instead"));
    let csrf = page.csrf();
    let assertion = f.step_up_assertion(&lee, &mut authenticator).await;
    let body = format!(
        "csrf={csrf}&action=suspend_access&reason=benign%3A+QA+review&webauthn={assertion}"
    );
    let answer = f.post("/console/agents/a-0001/release", &lee, &body).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let appended = f.store.read_events(3, 10).unwrap();
    assert_eq!(appended.len(), 1);
    assert_eq!(appended[0].event_type, "countermeasure_release");
    // The same assertion again: its challenge is spent.
    let replay = f
        .post(
            "/console/agents/a-0001/release",
            &lee,
            &body.replace("suspend_access", "notify_security"),
        )
        .await;
    assert_eq!(replay.status, StatusCode::FORBIDDEN);
    assert!(replay.body.contains("expired or was already used"));
    assert_eq!(f.store.read_events(3, 10).unwrap().len(), 1);
}

#[tokio::test]
async fn removing_a_passkey_needs_a_step_up() {
    let f = passkey_fixture();
    let lee = f.sign_in("lee").await;
    let mut authenticator = SoftAuthenticator::new(7);
    f.add_passkey("lee", &lee, &mut authenticator, "laptop")
        .await;
    let id: i64 = f
        .state
        .db()
        .query_row("SELECT id FROM passkeys", [], |row| row.get(0))
        .unwrap();
    let csrf = f.csrf(&lee).await;
    let answer = f
        .post(
            "/console/passkeys/remove",
            &lee,
            &format!("csrf={csrf}&passkey={id}&code=000000"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(f.passkey_count("lee"), 1);
    // Another user cannot remove it.
    let ana = f.sign_in("ana").await;
    let ana_csrf = f.csrf(&ana).await;
    f.state.advance_clock(30);
    let code = f.code("ana");
    let answer = f
        .post(
            "/console/passkeys/remove",
            &ana,
            &format!("csrf={ana_csrf}&passkey={id}&code={code}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    // With a passkey step-up: removed, and it signs nobody in any more.
    let assertion = f.step_up_assertion(&lee, &mut authenticator).await;
    let answer = f
        .post(
            "/console/passkeys/remove",
            &lee,
            &format!("csrf={csrf}&passkey={id}&webauthn={assertion}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/console/account?done=removed");
    assert_eq!(f.passkey_count("lee"), 0);
    let answer = f.passkey_sign_in(&mut authenticator).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.body.contains("not registered"));
}

#[tokio::test]
async fn passkeys_are_off_without_a_relying_party() {
    let f = fixture();
    let signin = f.call("GET", "/console/signin", None, None).await;
    assert!(!signin.body.contains("Sign in with a passkey"));
    let (pre, token) = f.pre_session().await;
    let (status, body) = f.options("/signin/passkey/options", &pre, &token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body["error"],
        "passkeys are not configured for this console"
    );
    let lee = f.sign_in("lee").await;
    let account = f.get("/console/account", &lee).await;
    assert!(account.body.contains("Passkeys are not configured"));
    assert!(!account.body.contains("Add a passkey"));
    // A relying party whose origin is not under its id is refused.
    assert!(
        f.state
            .clone()
            .with_relying_party("custos.example", vec!["https://evil.example".to_owned()])
            .is_err()
    );
}

#[tokio::test]
async fn a_passkey_step_up_counts_for_a_grant_approval_and_is_audited() {
    let s = services_fixture();
    let _ =
        s.f.state
            .clone()
            .with_relying_party("localhost", vec![ORIGIN.to_owned()])
            .unwrap();
    let id = s.request("lee");
    let kim = s.f.sign_in("kim").await;
    let mut authenticator = SoftAuthenticator::new(5);
    let added =
        s.f.add_passkey("kim", &kim, &mut authenticator, "kim's key")
            .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = s.f.get("/console/approvals", &kim).await;
    assert!(page.body.contains("Use a passkey instead"));
    let csrf = page.csrf();
    let assertion = s.f.step_up_assertion(&kim, &mut authenticator).await;
    let uri = format!("/console/approvals/{}", id.as_str());
    let answer =
        s.f.post(
            &uri,
            &kim,
            &format!("csrf={csrf}&decision=approve&webauthn={assertion}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(s.status(&id), "approved");
    let entries = {
        let log = s.log.lock().unwrap();
        log.entries(0..log.size()).unwrap()
    };
    let verified = entries
        .iter()
        .find(|e| e.kind == "step_up_verified")
        .expect("the step-up is audited");
    assert_eq!(verified.actor, "kim");
    assert_eq!(verified.details["detail"]["method"], "webauthn");
    assert_eq!(entries.last().unwrap().kind, "grant_approved");
    // A bad assertion is refused and audited; the grant stays as it was.
    let other = s.request("a-0001");
    let mut stranger = SoftAuthenticator::new(6);
    let assertion = s.f.step_up_assertion(&kim, &mut stranger).await;
    let answer =
        s.f.post(
            &format!("/console/approvals/{}", other.as_str()),
            &kim,
            &format!("csrf={csrf}&decision=approve&webauthn={assertion}"),
        )
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(s.status(&other), "pending");
    assert_eq!(s.audit_kinds().last().unwrap(), "step_up_refused");
}

#[test]
fn a_version_1_console_database_is_migrated_for_passkeys() {
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join(crate::CONSOLE_DB_FILE)).unwrap();
        conn.execute_batch(crate::db::SCHEMA_V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO users (name, role, password_phc, totp_secret, created_at)
             VALUES ('old', 'lead', 'x', x'00', 1)",
            [],
        )
        .unwrap();
    }
    for _ in 0..2 {
        let conn = crate::db::open(dir.path()).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(
            version, 3,
            "through version 2 (passkeys) and 3 (agent link)"
        );
        let agent: Option<String> = conn
            .query_row("SELECT agent_id FROM users WHERE name = 'old'", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(agent, None, "an existing user starts unlinked");
        let handle: Option<Vec<u8>> = conn
            .query_row(
                "SELECT webauthn_user_handle FROM users WHERE name = 'old'",
                [],
                |row| row.get(0),
            )
            .unwrap();
        assert_eq!(
            handle, None,
            "the user is kept; a handle is made at registration"
        );
        let passkeys: i64 = conn
            .query_row("SELECT count(*) FROM passkeys", [], |row| row.get(0))
            .unwrap();
        assert_eq!(passkeys, 0);
    }
}
