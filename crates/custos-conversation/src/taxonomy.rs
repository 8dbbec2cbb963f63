//! The inducement taxonomy: stable reason codes a verdict names.
//!
//! Codes are part of the output contract (`reasons` of `custos scan`, alert
//! reasons): a code never changes meaning; a new code bumps
//! [`TAXONOMY_VERSION`].

/// Version of the code list below.
pub const TAXONOMY_VERSION: u32 = 1;

macro_rules! codes {
    ($($variant:ident => $wire:literal, $weight:literal, $doc:literal;)+) => {
        /// One inducement (or, for `compliance`, the customer's reaction).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $(#[doc = $doc] $variant),+ }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),+];

            /// The stable snake_case code.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $wire),+ }
            }

            pub fn parse(text: &str) -> Option<Code> {
                match text { $($wire => Some(Code::$variant),)+ _ => None }
            }

            /// How much one clear occurrence says on its own, in 0..1; used
            /// to build conversation risk (noisy-or across codes).
            pub fn weight(self) -> f32 {
                match self { $(Code::$variant => $weight),+ }
            }

            /// What the code means, for people.
            pub fn description(self) -> &'static str {
                match self { $(Code::$variant => $doc),+ }
            }
        }
    };
}

codes! {
    SeedPhrase => "credential_request.seed_phrase", 0.9, "asks for the seed / recovery phrase";
    PrivateKey => "credential_request.private_key", 0.9, "asks for a private key or wallet file";
    Password => "credential_request.password", 0.8, "asks for the account password or PIN";
    OtpCode => "credential_request.otp_code", 0.8, "asks for a 2FA / OTP / SMS / email code";
    BackupCodes => "credential_request.backup_codes", 0.85, "asks for 2FA backup or recovery codes";
    ApiKeyManipulation => "api_key_manipulation", 0.8, "asks to create or share an API key, enable withdrawals or remove the IP whitelist";
    SafeWalletTransfer => "safe_wallet_transfer", 0.85, "asks to move funds to a safe, secure or verification wallet";
    RemoteAccessTool => "remote_access_tool", 0.75, "asks to install or open a remote-access tool";
    ImpersonationStaff => "impersonation_staff", 0.3, "claims to be exchange staff, security team or support";
    ImpersonationAuthority => "impersonation_authority", 0.35, "claims to be police, a regulator, a court or the tax office";
    UrgencyThreat => "urgency_threat", 0.3, "urgency or threats: account at risk, frozen, hacked, act now";
    MoveToOtherApp => "move_to_other_app", 0.35, "asks to continue on WhatsApp, Telegram or another channel";
    UnlockFee => "unlock_fee", 0.75, "asks for a fee, tax or deposit to unlock or release funds";
    KycReverificationLink => "kyc_reverification_link", 0.7, "sends a link or asks to re-verify identity outside the app";
    P2pTrick => "p2p_trick", 0.7, "P2P trick: release the coins first, fake payment proof, pay outside escrow";
    BriberyRecruitment => "bribery_recruitment", 0.85, "offers money to staff for customer data or account help";
    Compliance => "compliance", 0.5, "the customer reads out a code or reports doing what was asked";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Code {
    /// A request for a secret that only the customer should hold: from an
    /// official agent this is an insider red flag.
    pub fn is_credential_request(self) -> bool {
        matches!(
            self,
            Code::SeedPhrase
                | Code::PrivateKey
                | Code::Password
                | Code::OtpCode
                | Code::BackupCodes
        )
    }

    /// Context codes: weak alone, strong next to an action code.
    pub fn is_context(self) -> bool {
        matches!(
            self,
            Code::ImpersonationStaff
                | Code::ImpersonationAuthority
                | Code::UrgencyThreat
                | Code::MoveToOtherApp
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_snake_case() {
        for code in Code::ALL {
            assert_eq!(Code::parse(code.as_str()), Some(*code));
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c == '.' || c.is_ascii_digit())
            );
            assert!((0.0..=1.0).contains(&code.weight()));
        }
    }
}
