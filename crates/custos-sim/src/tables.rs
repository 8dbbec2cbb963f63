//! Static tables of the simulated world: countries, sites, teams, shifts,
//! ticket categories, assets and names. Data only; the choices made from
//! them live in `world` and the generators.

/// Language of a customer's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    En,
    Es,
    Pt,
    Fr,
    De,
    Tr,
}

pub(crate) struct Country {
    pub code: &'static str,
    /// Hours from UTC, used to place a customer's activity in their daytime.
    pub utc_offset: i32,
    pub lat: f64,
    pub lon: f64,
    /// Share of customers; 0 for countries only attackers use.
    pub weight: u32,
    pub lang: Lang,
    /// First octets of the IPv4 ranges the simulation gives this country.
    pub octets: [u8; 3],
    pub phone: &'static str,
}

// A table row constructor: one argument per column keeps the table readable.
#[allow(clippy::too_many_arguments)]
const fn country(
    code: &'static str,
    utc_offset: i32,
    lat: f64,
    lon: f64,
    weight: u32,
    lang: Lang,
    octets: [u8; 3],
    phone: &'static str,
) -> Country {
    Country {
        code,
        utc_offset,
        lat,
        lon,
        weight,
        lang,
        octets,
        phone,
    }
}

pub(crate) const COUNTRIES: &[Country] = &[
    country("US", -5, 39.8, -98.6, 180, Lang::En, [23, 73, 98], "+1"),
    country("GB", 0, 52.5, -1.5, 70, Lang::En, [51, 81, 86], "+44"),
    country("DE", 1, 51.2, 10.4, 60, Lang::De, [46, 79, 91], "+49"),
    country("FR", 1, 46.6, 2.3, 45, Lang::Fr, [37, 82, 90], "+33"),
    country("ES", 1, 40.4, -3.7, 35, Lang::Es, [79, 83, 88], "+34"),
    country("IT", 1, 42.8, 12.6, 30, Lang::En, [79, 93, 151], "+39"),
    country("PL", 1, 52.1, 19.4, 20, Lang::En, [31, 83, 89], "+48"),
    country("TR", 3, 39.0, 35.2, 55, Lang::Tr, [78, 85, 176], "+90"),
    country("BR", -3, -14.2, -51.9, 75, Lang::Pt, [177, 179, 189], "+55"),
    country("AR", -3, -38.4, -63.6, 30, Lang::Es, [181, 186, 190], "+54"),
    country("MX", -6, 23.6, -102.5, 35, Lang::Es, [187, 189, 201], "+52"),
    country("CA", -5, 56.1, -106.3, 30, Lang::En, [24, 70, 142], "+1"),
    country("NG", 1, 9.1, 8.7, 40, Lang::En, [102, 105, 197], "+234"),
    country("ZA", 2, -30.6, 22.9, 20, Lang::En, [41, 102, 105], "+27"),
    country("IN", 5, 20.6, 78.9, 60, Lang::En, [49, 103, 117], "+91"),
    country("PH", 8, 12.9, 121.8, 30, Lang::En, [110, 112, 119], "+63"),
    country("VN", 7, 14.1, 108.3, 40, Lang::En, [113, 115, 171], "+84"),
    country("ID", 7, -0.8, 113.9, 30, Lang::En, [36, 114, 182], "+62"),
    country("JP", 9, 36.2, 138.3, 30, Lang::En, [60, 126, 153], "+81"),
    country("KR", 9, 35.9, 127.8, 30, Lang::En, [1, 121, 175], "+82"),
    country("AU", 10, -25.3, 133.8, 20, Lang::En, [1, 49, 101], "+61"),
    country("AE", 4, 23.4, 53.8, 20, Lang::En, [5, 86, 94], "+971"),
    country("SG", 8, 1.35, 103.8, 15, Lang::En, [8, 101, 103], "+65"),
    country("PT", 0, 39.4, -8.2, 15, Lang::Pt, [85, 89, 188], "+351"),
    // Countries that only attackers' infrastructure comes from.
    country("RU", 3, 55.8, 37.6, 0, Lang::En, [5, 31, 95], "+7"),
    country("UA", 2, 50.4, 30.5, 0, Lang::En, [31, 91, 176], "+380"),
    country("RO", 2, 44.4, 26.1, 0, Lang::En, [5, 86, 188], "+40"),
    country("KH", 7, 11.6, 104.9, 0, Lang::En, [36, 37, 103], "+855"),
];

/// Countries attackers' logins come from (VPN exits and mule infrastructure).
pub(crate) const ATTACKER_COUNTRIES: &[&str] = &["NG", "VN", "RU", "UA", "RO", "KH", "BR", "US"];

pub(crate) fn country_index(code: &str) -> Option<usize> {
    COUNTRIES.iter().position(|c| c.code == code)
}

/// A support site: where agents sit and which office IPs they use.
pub(crate) struct Site {
    pub code: &'static str,
    pub office_prefix: &'static str,
}

pub(crate) const SITES: &[Site] = &[
    Site {
        code: "IN",
        office_prefix: "103.21.58",
    },
    Site {
        code: "PH",
        office_prefix: "112.198.77",
    },
    Site {
        code: "PT",
        office_prefix: "85.240.12",
    },
    Site {
        code: "BR",
        office_prefix: "177.70.33",
    },
    Site {
        code: "PL",
        office_prefix: "83.1.90",
    },
    Site {
        code: "ZA",
        office_prefix: "41.185.28",
    },
    Site {
        code: "MX",
        office_prefix: "189.203.41",
    },
];

/// A shift slot in UTC hours and the sites for which it is daytime (or the
/// site's night shift).
pub(crate) struct ShiftSlot {
    pub start: u8,
    pub end: u8,
    pub sites: &'static [usize],
}

pub(crate) const SHIFT_SLOTS: &[ShiftSlot] = &[
    ShiftSlot {
        start: 0,
        end: 9,
        sites: &[1, 0],
    },
    ShiftSlot {
        start: 3,
        end: 12,
        sites: &[0, 1],
    },
    ShiftSlot {
        start: 7,
        end: 16,
        sites: &[2, 4, 5],
    },
    ShiftSlot {
        start: 11,
        end: 20,
        sites: &[3, 2, 6],
    },
    ShiftSlot {
        start: 14,
        end: 23,
        sites: &[3, 6],
    },
    ShiftSlot {
        start: 18,
        end: 3,
        sites: &[1, 0],
    },
    ShiftSlot {
        start: 22,
        end: 7,
        sites: &[1, 3],
    },
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgentRole {
    L1,
    L2,
    Lead,
    Kyc,
}

impl AgentRole {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AgentRole::L1 => "support_l1",
            AgentRole::L2 => "support_l2",
            AgentRole::Lead => "support_lead",
            AgentRole::Kyc => "kyc_analyst",
        }
    }
}

pub(crate) struct Team {
    pub name: &'static str,
    /// Share of the agent headcount, in per mille.
    pub share: u32,
    pub role: AgentRole,
}

pub(crate) const T1_CHAT: usize = 0;
pub(crate) const T1_PHONE: usize = 1;
pub(crate) const T1_EMAIL: usize = 2;
pub(crate) const T2_PAYMENTS: usize = 3;
pub(crate) const T2_SECURITY: usize = 4;
pub(crate) const VIP_DESK: usize = 5;
pub(crate) const KYC_REVIEW: usize = 6;

pub(crate) const TEAMS: &[Team] = &[
    Team {
        name: "tier1-chat",
        share: 300,
        role: AgentRole::L1,
    },
    Team {
        name: "tier1-phone",
        share: 150,
        role: AgentRole::L1,
    },
    Team {
        name: "tier1-email",
        share: 100,
        role: AgentRole::L1,
    },
    Team {
        name: "tier2-payments",
        share: 120,
        role: AgentRole::L2,
    },
    Team {
        name: "tier2-security",
        share: 80,
        role: AgentRole::L2,
    },
    Team {
        name: "vip-desk",
        share: 90,
        role: AgentRole::L2,
    },
    Team {
        name: "kyc-review",
        share: 160,
        role: AgentRole::Kyc,
    },
];

/// Data classes of the contract.
pub(crate) mod field {
    pub const NAME: &str = "name";
    pub const EMAIL: &str = "email";
    pub const PHONE: &str = "phone";
    pub const ADDRESS: &str = "address";
    pub const DOB: &str = "dob";
    pub const BALANCE: &str = "balance";
    pub const TRANSACTIONS: &str = "transactions";
    pub const ID_DOCUMENT: &str = "id_document";
    pub const NATIONAL_ID: &str = "national_id";
    pub const BANK_ACCOUNT: &str = "bank_account";
    pub const API_KEYS: &str = "api_keys";
    pub const SECURITY_SETTINGS: &str = "security_settings";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Category {
    WithdrawalDelay,
    DepositMissing,
    LoginIssue,
    KycVerification,
    AccountSecurity,
    ApiQuestion,
    CardPayment,
    FeeQuestion,
    StatementRequest,
    AccountClosure,
    P2pDispute,
}

pub(crate) struct CategoryDef {
    pub category: Category,
    pub name: &'static str,
    /// Weight among customer-opened tickets.
    pub weight: u32,
    /// Fields an agent reads for this kind of ticket.
    pub fields: &'static [&'static str],
    /// Fields read on some of these tickets only.
    pub extra: &'static [&'static str],
}

use field::*;

pub(crate) const CATEGORIES: &[CategoryDef] = &[
    CategoryDef {
        category: Category::WithdrawalDelay,
        name: "withdrawal_delay",
        weight: 200,
        fields: &[NAME, BALANCE, TRANSACTIONS],
        extra: &[EMAIL],
    },
    CategoryDef {
        category: Category::DepositMissing,
        name: "deposit_missing",
        weight: 140,
        fields: &[NAME, TRANSACTIONS],
        extra: &[BALANCE, BANK_ACCOUNT],
    },
    CategoryDef {
        category: Category::LoginIssue,
        name: "login_issue",
        weight: 160,
        fields: &[NAME, EMAIL],
        extra: &[PHONE, SECURITY_SETTINGS],
    },
    CategoryDef {
        category: Category::KycVerification,
        name: "kyc_verification",
        weight: 140,
        fields: &[NAME, DOB, ADDRESS, ID_DOCUMENT],
        extra: &[NATIONAL_ID],
    },
    CategoryDef {
        category: Category::AccountSecurity,
        name: "account_security",
        weight: 80,
        fields: &[NAME, EMAIL, PHONE, SECURITY_SETTINGS],
        extra: &[TRANSACTIONS],
    },
    CategoryDef {
        category: Category::ApiQuestion,
        name: "api_question",
        weight: 50,
        fields: &[NAME, API_KEYS],
        extra: &[SECURITY_SETTINGS],
    },
    CategoryDef {
        category: Category::CardPayment,
        name: "card_payment",
        weight: 80,
        fields: &[NAME, TRANSACTIONS, BANK_ACCOUNT],
        extra: &[BALANCE],
    },
    CategoryDef {
        category: Category::FeeQuestion,
        name: "fee_question",
        weight: 60,
        fields: &[NAME, TRANSACTIONS],
        extra: &[],
    },
    CategoryDef {
        category: Category::StatementRequest,
        name: "statement_request",
        weight: 30,
        fields: &[NAME, ADDRESS, TRANSACTIONS],
        extra: &[BALANCE],
    },
    CategoryDef {
        category: Category::AccountClosure,
        name: "account_closure",
        weight: 20,
        fields: &[NAME, EMAIL, BALANCE],
        extra: &[TRANSACTIONS],
    },
    CategoryDef {
        category: Category::P2pDispute,
        name: "p2p_dispute",
        weight: 40,
        fields: &[NAME, TRANSACTIONS],
        extra: &[BANK_ACCOUNT],
    },
];

pub(crate) fn category_def(category: Category) -> &'static CategoryDef {
    let i = CATEGORIES
        .iter()
        .position(|d| d.category == category)
        .unwrap_or(0);
    &CATEGORIES[i]
}

/// Fields a bribed agent harvests: what a scammer needs to sound official.
pub(crate) const HARVEST_FIELDS: &[&str] = &[NAME, PHONE, ADDRESS, BALANCE, ID_DOCUMENT];

/// Fields a lead looks at during a quality check: broader than any one
/// ticket, which is legitimate for the role.
pub(crate) const REVIEW_FIELDS: &[&str] =
    &[NAME, EMAIL, PHONE, BALANCE, TRANSACTIONS, SECURITY_SETTINGS];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AddressFormat {
    Bech32Btc,
    Hex,
    Tron,
    Base58Long,
    Ripple,
    Bech32Ltc,
    Stellar,
    Doge,
    Cardano,
}

pub(crate) struct Asset {
    pub symbol: &'static str,
    pub weight: u32,
    pub format: AddressFormat,
}

pub(crate) const ASSETS: &[Asset] = &[
    Asset {
        symbol: "BTC",
        weight: 300,
        format: AddressFormat::Bech32Btc,
    },
    Asset {
        symbol: "ETH",
        weight: 250,
        format: AddressFormat::Hex,
    },
    Asset {
        symbol: "USDT",
        weight: 200,
        format: AddressFormat::Tron,
    },
    Asset {
        symbol: "USDC",
        weight: 80,
        format: AddressFormat::Hex,
    },
    Asset {
        symbol: "SOL",
        weight: 60,
        format: AddressFormat::Base58Long,
    },
    Asset {
        symbol: "XRP",
        weight: 50,
        format: AddressFormat::Ripple,
    },
    Asset {
        symbol: "ADA",
        weight: 20,
        format: AddressFormat::Cardano,
    },
    Asset {
        symbol: "DOGE",
        weight: 20,
        format: AddressFormat::Doge,
    },
    Asset {
        symbol: "LTC",
        weight: 10,
        format: AddressFormat::Bech32Ltc,
    },
    Asset {
        symbol: "XLM",
        weight: 10,
        format: AddressFormat::Stellar,
    },
    Asset {
        symbol: "TRX",
        weight: 0,
        format: AddressFormat::Tron,
    },
];

/// Assets attackers like to cash out in: fast, cheap, easy to swap away.
pub(crate) const ATTACKER_ASSETS: &[&str] = &["USDT", "TRX", "LTC", "XRP", "SOL", "DOGE", "XLM"];

pub(crate) fn asset_index(symbol: &str) -> Option<usize> {
    ASSETS.iter().position(|a| a.symbol == symbol)
}

pub(crate) const FIRST_NAMES_EN: &[&str] = &[
    "James", "Mary", "John", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Olivia",
    "Chris", "Priya", "Ahmed", "Grace", "Kenji", "Mei", "Tunde", "Chloe", "Ravi", "Hannah",
];
pub(crate) const LAST_NAMES_EN: &[&str] = &[
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Okafor", "Patel", "Nguyen", "Kim", "Tanaka",
    "Walker", "Reyes", "Khan", "Murphy", "Evans", "Sato", "Adeyemi", "Clarke", "Lopez", "Singh",
];
pub(crate) const FIRST_NAMES_ES: &[&str] = &[
    "Carlos",
    "María",
    "José",
    "Lucía",
    "Javier",
    "Sofía",
    "Miguel",
    "Valentina",
    "Diego",
    "Camila",
];
pub(crate) const LAST_NAMES_ES: &[&str] = &[
    "García",
    "Martínez",
    "López",
    "Hernández",
    "González",
    "Pérez",
    "Sánchez",
    "Ramírez",
    "Torres",
    "Flores",
];
pub(crate) const FIRST_NAMES_PT: &[&str] = &[
    "João", "Ana", "Pedro", "Beatriz", "Lucas", "Mariana", "Rafael", "Juliana", "Gabriel",
    "Larissa",
];
pub(crate) const LAST_NAMES_PT: &[&str] = &[
    "Silva",
    "Santos",
    "Oliveira",
    "Souza",
    "Costa",
    "Pereira",
    "Almeida",
    "Ferreira",
    "Rodrigues",
    "Lima",
];
pub(crate) const FIRST_NAMES_FR: &[&str] = &[
    "Camille", "Louis", "Léa", "Hugo", "Manon", "Jules", "Chloé", "Théo",
];
pub(crate) const LAST_NAMES_FR: &[&str] = &[
    "Martin", "Bernard", "Dubois", "Durand", "Lefèvre", "Moreau", "Laurent", "Girard",
];
pub(crate) const FIRST_NAMES_DE: &[&str] = &[
    "Lukas", "Anna", "Jonas", "Lea", "Felix", "Sophie", "Paul", "Mia",
];
pub(crate) const LAST_NAMES_DE: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
];
pub(crate) const FIRST_NAMES_TR: &[&str] = &[
    "Mehmet", "Ayşe", "Mustafa", "Fatma", "Emre", "Zeynep", "Burak", "Elif",
];
pub(crate) const LAST_NAMES_TR: &[&str] = &[
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Aydın", "Öztürk",
];

pub(crate) fn names(lang: Lang) -> (&'static [&'static str], &'static [&'static str]) {
    match lang {
        Lang::En => (FIRST_NAMES_EN, LAST_NAMES_EN),
        Lang::Es => (FIRST_NAMES_ES, LAST_NAMES_ES),
        Lang::Pt => (FIRST_NAMES_PT, LAST_NAMES_PT),
        Lang::Fr => (FIRST_NAMES_FR, LAST_NAMES_FR),
        Lang::De => (FIRST_NAMES_DE, LAST_NAMES_DE),
        Lang::Tr => (FIRST_NAMES_TR, LAST_NAMES_TR),
    }
}

/// Customers' activity by hour of their local day (weights).
pub(crate) const LOCAL_DIURNAL: [u32; 24] = [
    10, 6, 4, 3, 3, 4, 8, 16, 30, 42, 48, 50, 50, 50, 48, 48, 48, 50, 54, 58, 58, 50, 34, 18,
];

/// The brand scammers impersonate: the simulated exchange.
pub(crate) const BRAND: &str = "Kestrel";
