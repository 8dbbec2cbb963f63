//! Fast rules: multilingual term groups compiled into one Aho-Corasick
//! automaton over the normalised text.
//!
//! A rule fires when every one of its groups matches somewhere in the
//! message (co-occurrence, not fixed phrases: `send me` + `code`), unless a
//! veto term is present (`error code`, `promo code`). A credential request
//! preceded by a negation (`we will never ask for your code`) fires as
//! *negated*: the classifier sees it as its own feature. Terms match at a
//! word start and end; a trailing `*` lets a term match a word prefix
//! (`код*` for every Russian case ending). Chinese terms match anywhere.

use crate::normalize::{Boundary, normalize};
use crate::taxonomy::Code;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// One rule: all groups must match.
struct RuleDef {
    code: Code,
    groups: &'static [&'static [&'static str]],
}

// ---- shared term groups ---------------------------------------------------

/// Someone asking the reader to hand something over to them.
const ASK_TO_ME: &[&str] = &[
    "send me",
    "send us",
    "send it to me",
    "send the",
    "send your",
    "send over",
    "tell me",
    "tell us",
    "read me",
    "read out",
    "read it",
    "read the",
    "read them",
    "give me",
    "give us",
    "share with me",
    "share it",
    "share the",
    "share your",
    "provide your",
    "provide the",
    "provide us",
    "what is the code",
    "what s the code",
    "what is your",
    "repeat the",
    "dictate",
    "spell",
    "say the",
    "need your",
    "need the",
    "i need",
    "we need",
    "need you to",
    "forward me",
    "forward the",
    "forward us",
    "reply with",
    "text me",
    "text us",
    "type it here",
    "type the code here",
    "write it here",
    "in the chat",
    "confirm the code",
    "confirm your code",
    "confirm the 6",
    "confirm the six",
    "required",
    "must provide",
    "can you tell",
    "could you tell",
    "can you read",
    "could you read",
    "let me have",
    "envíame",
    "envieme",
    "envíenos",
    "mándame",
    "mándeme",
    "dime",
    "dígame",
    "léame",
    "léeme",
    "léanos",
    "dame",
    "deme",
    "compárteme",
    "compártame",
    "comparta",
    "proporcione",
    "proporcióneme",
    "facilíteme",
    "necesito",
    "necesitamos",
    "confírmeme",
    "confirme el código",
    "dícteme",
    "díctame",
    "repítame",
    "escríbalo aquí",
    "pásame",
    "páseme",
    "indíqueme",
    "cuál es el código",
    "requerido",
    "requerida",
    "me envie",
    "me envia",
    "me mande",
    "me manda",
    "me passe",
    "me passa",
    "me fala",
    "me diga",
    "me informe",
    "leia",
    "leia para mim",
    "compartilhe",
    "preciso",
    "precisamos",
    "confirme o código",
    "me dite",
    "dite",
    "repita",
    "qual é o código",
    "passe o código",
    "necessário",
    "necessária",
    "informe o código",
    "gönder",
    "gönderin",
    "gönderir misiniz",
    "söyle",
    "söyleyin",
    "söyler misiniz",
    "okuyun",
    "okur musunuz",
    "paylaşın",
    "paylaş",
    "verin",
    "iletin",
    "yazın",
    "lazım",
    "gerekiyor",
    "gerekli",
    "onaylayın",
    "tekrar edin",
    "bildirin",
    "iletir misiniz",
    "gửi cho",
    "gửi mã",
    "gửi lại",
    "cho tôi",
    "cho em",
    "cho anh",
    "cho chị",
    "cho chúng tôi",
    "đọc",
    "đọc cho",
    "cung cấp",
    "chia sẻ",
    "nói cho",
    "báo cho",
    "báo mã",
    "xác nhận mã",
    "nhắn",
    "cần",
    "yêu cầu",
    "пришлите",
    "пришли",
    "отправьте",
    "отправь",
    "сообщите",
    "сообщи",
    "скажите",
    "скажи",
    "продиктуйте",
    "продиктуй",
    "назовите",
    "назови",
    "прочитайте",
    "прочитай",
    "дайте",
    "поделитесь",
    "предоставьте",
    "нужен",
    "нужна",
    "нужно",
    "подтвердите код",
    "перешлите",
    "напишите",
    "скиньте",
    "требуется",
    "发给",
    "发送给",
    "告诉",
    "报一下",
    "报给",
    "念一下",
    "读一下",
    "提供",
    "分享",
    "给我",
    "发我",
    "需要你",
    "需要您",
    "确认一下",
    "说一下",
    "请把",
    "把验证码",
    "报个",
    "念给",
    "kirim",
    "kirimkan",
    "kirimin",
    "beri tahu",
    "beritahu",
    "sebutkan",
    "bacakan",
    "berikan",
    "bagikan",
    "butuh",
    "perlu",
    "konfirmasi kode",
    "kasih",
    "kasih tahu",
    "infokan",
    "tolong kirim",
    "diperlukan",
    "wajib",
];

/// Wider asks, used only with the strongest secrets (seed phrase, key).
const ASK_WIDE: &[&str] = &[
    "verify your",
    "verify the",
    "confirm your",
    "validate",
    "enter your",
    "enter the",
    "type your",
    "input your",
    "import",
    "sync",
    "synchronize",
    "connect your wallet",
    "connect wallet",
    "submit",
    "fill in",
    "write down",
    "send",
    "share",
    "provide",
    "give",
    "verifique",
    "valide",
    "ingrese",
    "introduzca",
    "escriba",
    "importe",
    "sincronice",
    "conecte",
    "digite",
    "insira",
    "informe",
    "doğrulayın",
    "girin",
    "içe aktar",
    "senkronize",
    "nhập",
    "xác minh",
    "đồng bộ",
    "kết nối ví",
    "введите",
    "проверьте",
    "импортируйте",
    "синхронизируйте",
    "подключите",
    "验证",
    "输入",
    "导入",
    "同步",
    "连接钱包",
    "填写",
    "verifikasi",
    "masukkan",
    "impor",
    "sinkronkan",
    "hubungkan dompet",
    "isi",
];

const OTP_NOUNS: &[&str] = &[
    "code*",
    "otp",
    "2fa",
    "sms code",
    "verification code",
    "authenticator",
    "6 digit",
    "six digit",
    "digits",
    "security code",
    "confirmation code",
    "auth code",
    "google code",
    "the numbers",
    "token",
    "código*",
    "codigo*",
    "dígitos",
    "clave de verificación",
    "clave sms",
    "sms",
    "2fa",
    "kod*",
    "doğrulama kodu",
    "mã",
    "mã otp",
    "mã xác thực",
    "mã xác minh",
    "mã sms",
    "mã 2fa",
    "otp",
    "код*",
    "смс",
    "одноразов*",
    "验证码",
    "动态码",
    "短信码",
    "谷歌验证",
    "校验码",
    "安全码",
    "kode*",
];

const OTP_VETO: &[&str] = &[
    // Everyday codes that are not credentials (session 4).
    "wifi",
    "wi fi",
    "door code",
    "gate code",
    "dress code",
    "code for the gate",
    "code for the door",
    "code for the building",
    "código del wifi",
    "código del portal",
    "código do portão",
    "código do wifi",
    "kapı kodu",
    "mã cửa",
    "код от домофона",
    "код домофона",
    "门禁",
    "kode pintu",
    "kode wifi",
    "error code",
    "referral code",
    "promo code",
    "promotion code",
    "anti phishing code",
    "antiphishing code",
    "invite code",
    "invitation code",
    "zip code",
    "postal code",
    "reference code",
    "tracking code",
    "discount code",
    "coupon code",
    "qr code",
    "country code",
    "swift code",
    "bank code",
    "memo",
    "tag",
    "código de error",
    "código de referido",
    "código postal",
    "código promocional",
    "código antiphishing",
    "código de erro",
    "código de indicação",
    "código anti phishing",
    "hata kodu",
    "referans kodu",
    "posta kodu",
    "mã lỗi",
    "mã giới thiệu",
    "mã khuyến mãi",
    "код ошибки",
    "промокод",
    "реферальный код",
    "错误代码",
    "邀请码",
    "推荐码",
    "防钓鱼码",
    "kode referral",
    "kode promo",
    "kode error",
    "kode pos",
    "kode anti phishing",
    "never",
    "nunca",
    "jamás",
    "jamais",
    "asla",
    "không bao giờ",
    "никогда",
    "绝不",
    "从不",
    "tidak akan pernah",
];

const SEED_NOUNS: &[&str] = &[
    "seed phrase",
    "seed words",
    "recovery phrase",
    "secret phrase",
    "mnemonic*",
    "12 words",
    "twelve words",
    "24 words",
    "backup phrase",
    "secret recovery phrase",
    "wallet phrase",
    "passphrase",
    "recovery words",
    "frase semilla",
    "frase de recuperación",
    "frase secreta",
    "12 palabras",
    "24 palabras",
    "palabras de recuperación",
    "frase semente",
    "frase de recuperação",
    "12 palavras",
    "24 palavras",
    "palavras de recuperação",
    "palavras secretas",
    "kurtarma ifade*",
    "gizli ifade*",
    "12 kelime*",
    "24 kelime*",
    "seed ifade*",
    "kurtarma kelime*",
    "cụm từ khôi phục",
    "cụm từ bí mật",
    "12 từ",
    "24 từ",
    "cụm từ hạt giống",
    "seed",
    "сид фраз*",
    "seed фраз*",
    "секретную фразу",
    "секретная фраза",
    "секретной фразы",
    "фразу восстановления",
    "фраза восстановления",
    "фразы восстановления",
    "мнемоническ*",
    "12 слов",
    "24 слова",
    "сид",
    "助记词",
    "助记码",
    "恢复短语",
    "种子短语",
    "12个单词",
    "钱包密语",
    "备份短语",
    "frasa pemulihan",
    "frasa rahasia",
    "12 kata",
    "24 kata",
    "kata pemulihan",
    "frasa benih",
    "kata kunci pemulihan",
];

const PRIVATE_KEY_NOUNS: &[&str] = &[
    "private key*",
    "wallet key",
    "keystore",
    "wallet file",
    "wallet dat",
    "secret key of your wallet",
    "clave privada",
    "llave privada",
    "chave privada",
    "özel anahtar*",
    "gizli anahtar*",
    "khóa riêng",
    "khoá riêng",
    "khóa bí mật",
    "khoá bí mật",
    "приватный ключ",
    "приватного ключа",
    "закрытый ключ",
    "закрытого ключа",
    "приватник",
    "私钥",
    "钱包密钥",
    "kunci pribadi",
    "kunci privat",
];

const PASSWORD_NOUNS: &[&str] = &[
    "password*",
    "passcode",
    "pin",
    "pin code",
    "login details",
    "login credentials",
    "credentials",
    "contraseña*",
    "clave de acceso",
    "clave",
    "senha*",
    "şifre*",
    "parola*",
    "mật khẩu",
    "mã pin",
    "парол*",
    "пин код*",
    "пин",
    "密码",
    "登录密码",
    "资金密码",
    "交易密码",
    "kata sandi",
    "sandi",
    "pin",
];

const PASSWORD_VETO: &[&str] = &[
    // The wifi password of a home or a café (session 4).
    "wifi",
    "wi fi",
    "вайфа*",
    "вай фа*",
    // A pin on a map.
    "drop me a pin",
    "drop a pin",
    "location pin",
    "map pin",
    "forgot password",
    "reset your password",
    "reset password",
    "change your password",
    "password reset",
    "olvidé mi contraseña",
    "restablecer",
    "esqueci",
    "redefinir",
    "şifremi unuttum",
    "sıfırla",
    "quên mật khẩu",
    "đặt lại",
    "забыл пароль",
    "сбросить",
    "сброс",
    "忘记密码",
    "重置",
    "lupa kata sandi",
    "atur ulang",
    "never",
    "nunca",
    "asla",
    "không bao giờ",
    "никогда",
    "绝不",
    "tidak akan pernah",
];

const BACKUP_NOUNS: &[&str] = &[
    "backup code*",
    "recovery code*",
    "2fa backup",
    "backup key",
    "authenticator key",
    "authenticator secret",
    "2fa secret",
    "qr code of your 2fa",
    "setup key",
    "códigos de respaldo",
    "código de respaldo",
    "código de recuperación",
    "códigos de recuperación",
    "clave de respaldo",
    "código de backup",
    "códigos de backup",
    "chave de backup",
    "chave de recuperação",
    "yedek kod*",
    "kurtarma kodu",
    "yedek anahtar*",
    "mã dự phòng",
    "khóa dự phòng",
    "резервный код",
    "резервные коды",
    "резервного кода",
    "резервный ключ",
    "备用码",
    "恢复码",
    "备份密钥",
    "kode cadangan",
    "kunci cadangan",
];

const API_NOUNS: &[&str] = &[
    "api key*",
    "api",
    "api anahtar*",
    "clave api",
    "chave api",
    "chave de api",
    "khóa api",
    "api ключ*",
    "ключ api",
    "апи ключ*",
    "api密钥",
    "api 密钥",
    "kunci api",
];

const API_ACTION: &[&str] = &[
    "create",
    "generate",
    "make a new",
    "set up",
    "enable withdraw*",
    "withdrawal permission",
    "withdraw permission",
    "withdraw access",
    "crear",
    "cree",
    "genere",
    "generar",
    "habilite",
    "permiso de retiro",
    "criar",
    "crie",
    "gere",
    "permissão de saque",
    "oluştur*",
    "çekim izni",
    "para çekme izni",
    "tạo",
    "bật quyền rút",
    "quyền rút tiền",
    "создайте",
    "создать",
    "разрешение на вывод",
    "创建",
    "生成",
    "提现权限",
    "开启提现",
    "buat",
    "buatkan",
    "izin penarikan",
    "aktifkan penarikan",
];

const TO_US: &[&str] = &[
    "send",
    "share",
    "give",
    "paste",
    "provide",
    "tell me",
    "us",
    "our team",
    "our security",
    "so we can",
    "so that we",
    "for us",
    "to me",
    "envíe",
    "comparta",
    "nos",
    "nuestro equipo",
    "envie",
    "compartilhe",
    "nossa equipe",
    "bize",
    "ekibimize",
    "gönderin",
    "paylaşın",
    "cho chúng tôi",
    "gửi",
    "cho tôi",
    "нам",
    "пришлите",
    "отправьте",
    "нашей команде",
    "发给",
    "给我们",
    "我们",
    "kirim",
    "kepada kami",
    "tim kami",
];

const IP_WHITELIST_REMOVE: &[&str] = &[
    "remove the ip",
    "remove ip",
    "disable the ip",
    "without ip",
    "no ip restriction",
    "no ip whitelist",
    "no ip white list",
    "without the ip whitelist",
    "unrestricted",
    "any ip",
    "all ips",
    "sin restricción de ip",
    "quite la ip",
    "sem restrição de ip",
    "remova o ip",
    "ip kısıtlaması olmadan",
    "kısıtlamasız",
    "không giới hạn ip",
    "bỏ giới hạn ip",
    "без ограничения по ip",
    "без ip",
    "不限制ip",
    "取消ip",
    "tanpa batasan ip",
    "hapus ip",
];

const SAFE_WALLET: &[&str] = &[
    "safe wallet",
    "secure wallet",
    "safety wallet",
    "protected wallet",
    "verification wallet",
    "temporary wallet",
    "security wallet",
    "insured wallet",
    "reserve wallet",
    "quarantine wallet",
    "safe account",
    "secure account",
    "safe address",
    "secure address",
    "protected account",
    "cold wallet we",
    "new wallet we",
    "cartera segura",
    "billetera segura",
    "monedero seguro",
    "billetera de seguridad",
    "cuenta segura",
    "billetera temporal",
    "cartera temporal",
    "carteira segura",
    "carteira de segurança",
    "conta segura",
    "carteira protegida",
    "carteira temporária",
    "güvenli cüzdan*",
    "güvenli hesap*",
    "koruma cüzdan*",
    "geçici cüzdan*",
    "ví an toàn",
    "ví bảo mật",
    "ví tạm thời",
    "ví bảo vệ",
    "tài khoản an toàn",
    "безопасный кошелек",
    "безопасный кошелёк",
    "безопасный счет",
    "безопасный счёт",
    "защищенный кошелек",
    "резервный кошелек",
    "безопасного кошелька",
    "безопасный адрес",
    "защищенный счет",
    "安全钱包",
    "安全账户",
    "保护钱包",
    "临时钱包",
    "安全地址",
    "dompet aman",
    "dompet keamanan",
    "rekening aman",
    "dompet sementara",
    "akun aman",
    "alamat aman",
];

const MOVE_FUNDS: &[&str] = &[
    "move",
    "transfer",
    "send",
    "withdraw",
    "deposit",
    "put",
    "moving",
    "transfiera",
    "transfiere",
    "mueva",
    "mueve",
    "envíe",
    "envía",
    "retire",
    "deposite",
    "transfira",
    "mova",
    "envie",
    "saque",
    "transfer edin",
    "aktarın",
    "aktar",
    "gönderin",
    "yatırın",
    "chuyển",
    "rút",
    "nạp",
    "переведите",
    "перевести",
    "переведи",
    "отправьте",
    "выведите",
    "转",
    "转入",
    "转到",
    "转移",
    "提到",
    "pindahkan",
    "transfer",
    "kirim",
    "tarik",
    "setor",
];

const PROTECT_FUNDS: &[&str] = &[
    "protect your funds",
    "protect your assets",
    "keep your funds safe",
    "secure your funds",
    "secure your assets",
    "safe from hackers",
    "until the investigation",
    "protect your money",
    "proteger sus fondos",
    "proteger su dinero",
    "proteger seus fundos",
    "proteger seu dinheiro",
    "fonlarınızı korumak",
    "paranızı korumak",
    "bảo vệ tài sản",
    "bảo vệ tiền",
    "защитить средства",
    "защиты средств",
    "сохранить средства",
    "保护您的资金",
    "保护资金",
    "资金安全",
    "mengamankan dana",
    "melindungi dana",
    "amankan dana",
];

const REMOTE_TOOLS: &[&str] = &[
    "anydesk",
    "teamviewer",
    "rustdesk",
    "ultraviewer",
    "quicksupport",
    "remote access",
    "remote desktop",
    "remote control",
    "screen sharing",
    "share your screen",
    "screen share",
    "acceso remoto",
    "compartir pantalla",
    "comparta su pantalla",
    "acesso remoto",
    "compartilhar tela",
    "compartilhe a tela",
    "compartilhe sua tela",
    "uzaktan erişim",
    "ekran paylaş*",
    "ekranınızı paylaş*",
    "truy cập từ xa",
    "chia sẻ màn hình",
    "điều khiển từ xa",
    "удаленный доступ",
    "удаленного доступа",
    "удалённый доступ",
    "демонстрацию экрана",
    "демонстрация экрана",
    "远程控制",
    "远程协助",
    "屏幕共享",
    "共享屏幕",
    "向日葵",
    "akses jarak jauh",
    "berbagi layar",
    "bagikan layar",
    "kendali jarak jauh",
];

const STAFF: &[&str] = &[
    "this is binance",
    "from binance",
    "binance support",
    "binance security",
    "from coinbase",
    "coinbase support",
    "coinbase security",
    "from kraken",
    "from okx",
    "from bybit",
    "from kucoin",
    "security team",
    "security department",
    "support team",
    "customer support",
    "fraud department",
    "fraud team",
    "risk department",
    "risk control",
    "compliance department",
    "compliance team",
    "account manager",
    "official support",
    "calling from",
    "exchange support",
    "technical support",
    "on behalf of the exchange",
    "i am an agent",
    "your account officer",
    "soporte de",
    "soporte técnico",
    "equipo de seguridad",
    "departamento de seguridad",
    "departamento de fraude",
    "llamamos de",
    "equipe de segurança",
    "suporte oficial",
    "departamento de segurança",
    "setor de segurança",
    "central de segurança",
    "falo da",
    "güvenlik ekibi",
    "güvenlik birimi",
    "destek ekibi",
    "müşteri hizmetleri",
    "güvenlik departmanı",
    "bộ phận bảo mật",
    "bộ phận hỗ trợ",
    "nhân viên sàn",
    "phòng an ninh",
    "служба безопасности",
    "службы безопасности",
    "служба поддержки",
    "техподдержка",
    "отдел безопасности",
    "安全部门",
    "官方客服",
    "风控部门",
    "客服中心",
    "安全中心",
    "tim keamanan",
    "tim dukungan",
    "layanan pelanggan",
    "customer service",
    "dari binance",
    "dari tim",
];

const AUTHORITY: &[&str] = &[
    "police",
    "fbi",
    "interpol",
    "regulator",
    "court order",
    "tax office",
    "irs",
    "cyber crime",
    "cybercrime",
    "financial crimes",
    "money laundering investigation",
    "anti money laundering",
    "federal agent",
    "sec investigation",
    "policía",
    "fiscalía",
    "hacienda",
    "juzgado",
    "polícia",
    "receita federal",
    "ministério público",
    "polis",
    "savcılık",
    "mahkeme",
    "emniyet",
    "masak",
    "công an",
    "cảnh sát",
    "viện kiểm sát",
    "полиция",
    "полиции",
    "следователь",
    "центробанк",
    "фсб",
    "прокуратура",
    "警察",
    "公安",
    "检察院",
    "法院",
    "反洗钱",
    "polisi",
    "kejaksaan",
    "ojk",
    "pengadilan",
    "pencucian uang",
];

const URGENCY: &[&str] = &[
    "at risk",
    "compromised",
    "hacked",
    "suspicious activity",
    "suspicious login",
    "suspicious transaction",
    "will be frozen",
    "will be suspended",
    "will be closed",
    "will be blocked",
    "will be locked",
    "permanently",
    "immediately",
    "right now",
    "within 30 minutes",
    "within 10 minutes",
    "urgent*",
    "last warning",
    "you will lose",
    "lose all",
    "unauthorized withdrawal",
    "unauthorised withdrawal",
    "being drained",
    "en riesgo",
    "comprometida",
    "hackeada",
    "actividad sospechosa",
    "será bloqueada",
    "será congelada",
    "será suspendida",
    "inmediatamente",
    "urgente",
    "perderá",
    "em risco",
    "invadida",
    "atividade suspeita",
    "imediatamente",
    "vai perder",
    "risk altında",
    "şüpheli işlem",
    "şüpheli giriş",
    "şüpheli hareket",
    "dondurulacak",
    "kapatılacak",
    "askıya alınacak",
    "hemen",
    "acil",
    "kaybedeceksiniz",
    "đang gặp rủi ro",
    "bị xâm nhập",
    "bị hack",
    "hoạt động đáng ngờ",
    "sẽ bị khóa",
    "ngay lập tức",
    "khẩn cấp",
    "mất toàn bộ",
    "под угрозой",
    "взломан*",
    "подозрительн*",
    "будет заблокирован*",
    "срочно",
    "немедленно",
    "потеряете",
    "有风险",
    "存在风险",
    "被盗",
    "异常登录",
    "可疑",
    "将被冻结",
    "立即",
    "马上",
    "紧急",
    "dalam bahaya",
    "diretas",
    "aktivitas mencurigakan",
    "akan diblokir",
    "dibekukan",
    "segera",
    "mendesak",
];

const OTHER_APPS: &[&str] = &[
    "whatsapp", "telegram", "signal", "wechat", "viber", "skype", "zalo", "line app", "微信", "qq",
    "电报",
];

const OTHER_APP_CUE: &[&str] = &[
    "add me",
    "contact me",
    "message me",
    "write me",
    "continue on",
    "continue this",
    "move to",
    "chat on",
    "reach me",
    "text me on",
    "call me on",
    "join",
    "my number",
    "agrégame",
    "escríbeme",
    "contácteme",
    "sigamos por",
    "me chame",
    "fale comigo",
    "me adicione",
    "continuar no",
    "bana yaz*",
    "ekle",
    "devam edelim",
    "kết bạn",
    "nhắn tin qua",
    "liên hệ qua",
    "напишите мне",
    "перейдем в",
    "добавьте",
    "пишите в",
    "加我",
    "加",
    "联系我",
    "hubungi saya",
    "chat di",
    "tambahkan saya",
    "lanjut di",
];

const FEE: &[&str] = &[
    "fee",
    "tax",
    "pay",
    "payment",
    "deposit",
    "activation",
    "charge",
    "gas fee",
    "tarifa",
    "comisión",
    "impuesto",
    "pagar",
    "pague",
    "depósito",
    "taxa",
    "imposto",
    "pagamento",
    "ücret*",
    "vergi*",
    "ödeme",
    "ödeyin",
    "yatırmanız",
    "phí",
    "thuế",
    "nộp",
    "đóng",
    "комисси*",
    "налог*",
    "оплатите",
    "заплатите",
    "взнос",
    "оплат*",
    "手续费",
    "税",
    "保证金",
    "解冻费",
    "激活费",
    "费用",
    "biaya",
    "pajak",
    "bayar",
    "setor",
];

const UNLOCK: &[&str] = &[
    "unlock",
    "unfreeze",
    "release your funds",
    "release your profit*",
    "activate withdraw*",
    "activate your withdraw*",
    "before you can withdraw",
    "to withdraw your profit*",
    "to receive your",
    "to release",
    "desbloquear",
    "liberar sus fondos",
    "liberar su",
    "retirar sus ganancias",
    "descongelar",
    "desbloquear",
    "liberar seus",
    "liberar o saque",
    "sacar seus lucros",
    "kilidini aç*",
    "serbest bırak*",
    "çözmek",
    "dondurmayı kaldır*",
    "mở khóa",
    "giải phóng",
    "rút được",
    "разблокир*",
    "разморозк*",
    "разморозить",
    "вывести средства",
    "解冻",
    "解锁",
    "才能提现",
    "membuka blokir",
    "buka blokir",
    "mencairkan",
    "membuka",
    "agar bisa menarik",
];

const KYC: &[&str] = &[
    "kyc",
    "verify your identity",
    "re verify",
    "reverify",
    "re verification",
    "reverification",
    "update your kyc",
    "confirm your identity",
    "verification",
    "verificación",
    "verificar su identidad",
    "verificação",
    "verificar sua identidade",
    "kimlik doğrulama*",
    "kimliğinizi doğrula*",
    "doğrulama*",
    "xác minh danh tính",
    "xác thực danh tính",
    "xác minh",
    "верификаци*",
    "подтвердите личность",
    "подтверждения личности",
    "实名认证",
    "身份验证",
    "重新认证",
    "verifikasi",
    // Re-submitting identity documents (session 4), with a link (LINK).
    "re submit your id",
    "resubmit your id",
    "upload your id",
    "identity documents",
    "scan your passport",
    "identity re verification",
    "kyc level",
    "sus documentos",
    "vuelva a subir su dni",
    "verificar su identidad de nuevo",
    "seus documentos",
    "reenvie seu rg",
    "verificar a identidade de novo",
    "belgelerinizi",
    "kimliğinizi",
    "pasaportunuzu",
    "giấy tờ của bạn",
    "tải lại cccd",
    "xác minh danh tính lại",
    "ваши документы",
    "загрузите паспорт",
    "пройти верификацию повторно",
    "证件审核",
    "重新上传身份证",
    "重新扫描护照",
    "dokumen anda",
    "unggah ulang ktp",
    "verifikasi identitas ulang",
];

const LINK: &[&str] = &[
    "http*",
    "www",
    "click",
    "this link",
    "the link",
    "link below",
    "this page",
    "this site",
    "this form",
    "google form",
    "bit ly",
    "enlace",
    "haga clic",
    "pulse",
    "link",
    "clique",
    "linki",
    "bağlantı*",
    "tıklayın",
    "liên kết",
    "đường link",
    "bấm vào",
    "ссылк*",
    "перейдите",
    "链接",
    "点击",
    "网址",
    "tautan",
    "klik",
];

const P2P_TRICKS: &[&str] = &[
    "release the coins first",
    "release first",
    "release the crypto first",
    "release the usdt",
    "payment proof",
    "proof of payment",
    "fake receipt",
    "pay outside",
    "outside the platform",
    "outside escrow",
    "outside of binance",
    "cancel the order and",
    "send the coins first",
    "mark as paid",
    "mark it as paid",
    "bank will confirm later",
    "chargeback",
    "libere las monedas",
    "libere primero",
    "libera primero",
    "comprobante de pago",
    "fuera de la plataforma",
    "libere as moedas",
    "libera primeiro",
    "libere primeiro",
    "comprovante",
    "fora da plataforma",
    "önce coin*",
    "önce serbest",
    "dekont*",
    "platform dışında",
    "giải phóng coin",
    "thả coin trước",
    "ngoài sàn",
    "chuyển khoản ngoài",
    "отпустите монеты",
    "сначала отпустите",
    "чек об оплате",
    "вне платформы",
    "先放币",
    "放币",
    "付款截图",
    "平台外",
    "lepaskan koin",
    "bukti transfer palsu",
    "di luar platform",
    "lepas dulu",
];

const MONEY_OFFER: &[&str] = &[
    "pay you",
    "we pay",
    "i will pay",
    "i ll pay",
    "we ll pay",
    "earn extra",
    "extra income",
    "make money",
    "commission",
    "bonus for you",
    "usdt for each",
    "usdt per",
    "per record",
    "reward you",
    "te pago",
    "te pagamos",
    "ganar dinero",
    "ingreso extra",
    "te pagaremos",
    "comisión",
    "pagamos",
    "te pago",
    "ganhar dinheiro",
    "renda extra",
    "pagamos",
    "te pago",
    "vou te pagar",
    "size ödeme",
    "para kazan*",
    "ek gelir",
    "ödeme yapacağız",
    "trả cho bạn",
    "thu nhập thêm",
    "kiếm thêm",
    "hoa hồng",
    "заплатим",
    "заплачу",
    "подработк*",
    "заработать",
    "вознагражден*",
    "报酬",
    "兼职",
    "佣金",
    "给你钱",
    "bayar kamu",
    "bayar anda",
    "penghasilan tambahan",
    "komisi",
    "imbalan",
];

const STAFF_TARGET: &[&str] = &[
    "customer data",
    "customer list",
    "client database",
    "user data",
    "client data",
    "leads",
    "some accounts",
    "few accounts",
    "per account",
    "each account",
    "look up",
    "unlock accounts",
    "account details",
    "datos de clientes",
    "por cada cuenta",
    "algunas cuentas",
    "base de datos",
    "dados de clientes",
    "por conta",
    "algumas contas",
    "banco de dados",
    "müşteri veri*",
    "hesap başına",
    "bazı hesaplar",
    "müşteri bilgi*",
    "dữ liệu khách hàng",
    "mỗi tài khoản",
    "vài tài khoản",
    "thông tin khách hàng",
    "базу клиентов",
    "данные клиентов",
    "за каждый аккаунт",
    "несколько аккаунтов",
    "客户资料",
    "客户数据",
    "每个账户",
    "几个账户",
    "用户数据",
    "data nasabah",
    "data pelanggan",
    "per akun",
    "beberapa akun",
];

const COMPLIANCE: &[&str] = &[
    "the code is",
    "code is",
    "here is the code",
    "here s the code",
    "my code",
    "i installed",
    "installed it",
    "i have installed",
    "i sent",
    "i transferred",
    "i moved",
    "i created the",
    "done it",
    "ok done",
    "el código es",
    "mi código",
    "lo instalé",
    "ya instalé",
    "ya transferí",
    "ya envié",
    "o código é",
    "meu código",
    "instalei",
    "já transferi",
    "já enviei",
    "kod şu",
    "kodum",
    "yükledim",
    "gönderdim",
    "transfer ettim",
    "mã là",
    "mã của tôi",
    "đã cài",
    "đã chuyển",
    "đã gửi",
    "код такой",
    "мой код",
    "установил*",
    "перевел*",
    "отправил*",
    "验证码是",
    "已安装",
    "已转",
    "已经转",
    "已发",
    "kodenya",
    "kode saya",
    "sudah install",
    "sudah transfer",
    "sudah kirim",
    "sudah saya kirim",
];

/// Negations that turn a credential ask into a warning.
const NEGATIONS: &[&str] = &[
    "never",
    "not",
    "don t",
    "dont",
    "do not",
    "won t",
    "will not",
    "no one",
    "nobody",
    "no staff",
    "nunca",
    "jamás",
    "no le",
    "no comparta",
    "ningún",
    "nadie",
    "jamais",
    "não",
    "ninguém",
    "asla",
    "kimseyle",
    "paylaşmayın",
    "vermeyin",
    "hiçbir",
    "không bao giờ",
    "không",
    "đừng",
    "никогда",
    "не",
    "никому",
    "绝不",
    "从不",
    "不会",
    "不要",
    "切勿",
    "请勿",
    "tidak akan",
    "jangan",
    "tidak pernah",
    "bukan",
];

/// Negations that follow what they negate (Turkish puts the negative verb
/// last: `kodunuzu asla kimseyle paylaşmayın`).
const NEGATIONS_AFTER: &[&str] = &[
    "asla",
    "paylaşmayın",
    "vermeyin",
    "söylemeyin",
    "göndermeyin",
    "paylaşmayınız",
    "kimseyle",
    "istemez",
    "istemeyiz",
    "istemeyecek",
    "sormaz",
    "sormayız",
];

/// Words that end a negation's scope: what follows the contrast is not
/// negated (`don't worry, but read me the code`).
const CONTRASTS: &[&str] = &[
    "but",
    "however",
    "instead",
    "except",
    "unless",
    "although",
    "though",
    "pero",
    "sino",
    "sin embargo",
    "excepto",
    "salvo",
    "mas",
    "porém",
    "contudo",
    "entretanto",
    "exceto",
    "ama",
    "fakat",
    "ancak",
    "lakin",
    "nhưng",
    "tuy nhiên",
    "nhưng mà",
    "но",
    "однако",
    "а",
    "зато",
    "кроме",
    "tapi",
    "tetapi",
    "namun",
    "melainkan",
    "kecuali",
    "但",
    "可是",
    "不过",
    "而是",
    "然而",
    "只是",
];

/// Words that coordinate the items of a list (`a code, a transfer or a
/// remote-access app`); a comma or `、` counts too.
const COORDINATORS: &[&str] = &[
    "or",
    "and",
    "nor",
    "neither",
    "o",
    "u",
    "y",
    "e",
    "ni",
    "ou",
    "nem",
    "veya",
    "ya da",
    "yahut",
    "ve",
    "ne de",
    "hoặc",
    "hay",
    "và",
    "cũng không",
    "или",
    "либо",
    "и",
    "ни",
    "atau",
    "ataupun",
    "dan",
    "maupun",
    "或",
    "或者",
    "和",
    "也不",
    "及",
    "与",
    "还是",
];

/// Words that open a subordinate clause after a comma (obligatory in
/// Russian: `никогда не звонит, чтобы попросить код`); such a comma does not
/// separate a negation from the item it negates.
const SUBORDINATORS: &[&str] = &[
    "to",
    "in order to",
    "para",
    "para que",
    "чтобы",
    "что",
    "untuk",
    "agar",
    "để",
];

/// How far after a negation its first negated item may start (bytes of
/// normalised text; characters for the first item of a list).
const NEGATION_WINDOW: usize = 40;
/// Verbs of asking (word prefixes, normalised): a negated `ask` heads a list
/// of requests (`no le pedirá enviar USDT a ..., leer un código ni ...`).
const REQUEST_VERBS: &[&str] = &[
    "ask",
    "request",
    "pedir",
    "pedira",
    "pide",
    "pede",
    "solicit",
    "meminta",
    "minta",
    "прос",
    "попрос",
    "yeu cau",
    "hoi",
    "xin",
    "要求",
    "索要",
    "iste",
];

/// How far after a negation the first item of a negated list may start
/// (characters: `no le pedirá enviar USDT a una billetera protegida, ...`).
const LIST_ITEM_WINDOW: usize = 64;
/// How far after a negation a coordinated list item may start (characters).
const LIST_SCOPE: usize = 200;

const RULES: &[RuleDef] = &[
    RuleDef {
        code: Code::SeedPhrase,
        groups: &[SEED_NOUNS, ASK_TO_ME],
    },
    RuleDef {
        code: Code::SeedPhrase,
        groups: &[SEED_NOUNS, ASK_WIDE],
    },
    RuleDef {
        code: Code::PrivateKey,
        groups: &[PRIVATE_KEY_NOUNS, ASK_TO_ME],
    },
    RuleDef {
        code: Code::PrivateKey,
        groups: &[PRIVATE_KEY_NOUNS, ASK_WIDE],
    },
    RuleDef {
        code: Code::BackupCodes,
        groups: &[BACKUP_NOUNS, ASK_TO_ME],
    },
    RuleDef {
        code: Code::Password,
        groups: &[PASSWORD_NOUNS, ASK_TO_ME],
    },
    RuleDef {
        code: Code::OtpCode,
        groups: &[OTP_NOUNS, ASK_TO_ME],
    },
    RuleDef {
        code: Code::ApiKeyManipulation,
        groups: &[API_NOUNS, API_ACTION, TO_US],
    },
    RuleDef {
        code: Code::ApiKeyManipulation,
        groups: &[API_NOUNS, IP_WHITELIST_REMOVE],
    },
    RuleDef {
        code: Code::SafeWalletTransfer,
        groups: &[SAFE_WALLET, MOVE_FUNDS],
    },
    RuleDef {
        code: Code::SafeWalletTransfer,
        groups: &[PROTECT_FUNDS, MOVE_FUNDS],
    },
    RuleDef {
        code: Code::RemoteAccessTool,
        groups: &[REMOTE_TOOLS],
    },
    RuleDef {
        code: Code::ImpersonationStaff,
        groups: &[STAFF],
    },
    RuleDef {
        code: Code::ImpersonationAuthority,
        groups: &[AUTHORITY],
    },
    RuleDef {
        code: Code::UrgencyThreat,
        groups: &[URGENCY],
    },
    RuleDef {
        code: Code::MoveToOtherApp,
        groups: &[OTHER_APPS, OTHER_APP_CUE],
    },
    RuleDef {
        code: Code::UnlockFee,
        groups: &[FEE, UNLOCK],
    },
    RuleDef {
        code: Code::KycReverificationLink,
        groups: &[KYC, LINK],
    },
    RuleDef {
        code: Code::P2pTrick,
        groups: &[P2P_TRICKS],
    },
    RuleDef {
        code: Code::BriberyRecruitment,
        groups: &[MONEY_OFFER, STAFF_TARGET],
    },
    RuleDef {
        code: Code::Compliance,
        groups: &[COMPLIANCE],
    },
];

/// Vetoes per code: when one is present, the rule does not fire.
fn vetoes(code: Code) -> &'static [&'static str] {
    match code {
        Code::OtpCode => OTP_VETO,
        Code::Password => PASSWORD_VETO,
        _ => &[],
    }
}

/// A rule that fired on a message.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub code: Code,
    /// The normalised terms that triggered it, one per group, in text order.
    pub terms: Vec<String>,
    /// A negation precedes the trigger (`never share your code`).
    pub negated: bool,
}

#[derive(Clone, Copy, Debug)]
enum TermRole {
    /// Group `group` of rule `rule`.
    Group {
        rule: u16,
        group: u8,
    },
    Veto(Code),
    Negation,
    NegationAfter,
}

struct Term {
    text: String,
    prefix: bool,
    cjk: bool,
    roles: Vec<TermRole>,
}

/// The compiled rule set.
pub struct RuleSet {
    automaton: AhoCorasick,
    terms: Vec<Term>,
    /// [`CONTRASTS`] and [`COORDINATORS`], normalised.
    contrasts: Vec<String>,
    coordinators: Vec<String>,
    subordinators: Vec<String>,
}

/// The position of a verb of asking ([`REQUEST_VERBS`]) that starts a word
/// within [`LIST_ITEM_WINDOW`] characters after the negation at `n` and
/// before `first`.
fn request_verb_after(normalized: &str, n: usize, first: usize) -> Option<usize> {
    let text = normalized.get(n..first)?;
    for (offset, _) in text.char_indices().take(LIST_ITEM_WINDOW + 1) {
        let rest = &text[offset..];
        let word_start = offset == 0 || text.as_bytes()[offset - 1] == b' ';
        if offset > 0
            && REQUEST_VERBS
                .iter()
                .any(|v| rest.starts_with(v) && (word_start || has_cjk(v)))
        {
            return Some(n + offset);
        }
    }
    None
}

/// Whether `word` (normalised) occurs in `text` as whole words (anywhere
/// for Chinese).
fn has_word(text: &str, word: &str) -> bool {
    if has_cjk(word) {
        return text.contains(word);
    }
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find(word) {
        let start = from + found;
        let end = start + word.len();
        if (start == 0 || bytes[start - 1] == b' ') && (end == bytes.len() || bytes[end] == b' ') {
            return true;
        }
        from = start + 1;
        while from < text.len() && !text.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Why the rule set could not be built (a programming error in the tables).
#[derive(Debug, thiserror::Error)]
pub enum RuleBuild {
    #[error("automaton: {0}")]
    Automaton(#[from] aho_corasick::BuildError),
}

fn has_cjk(text: &str) -> bool {
    text.chars().any(|c| ('\u{3040}'..='\u{9FFF}').contains(&c))
}

impl RuleSet {
    pub fn new() -> Result<RuleSet, RuleBuild> {
        let mut terms: Vec<Term> = Vec::new();
        let mut index: std::collections::HashMap<(String, bool), usize> =
            std::collections::HashMap::new();
        let mut add = |raw: &str, role: TermRole, terms: &mut Vec<Term>| {
            let (body, prefix) = match raw.strip_suffix('*') {
                Some(body) => (body, true),
                None => (raw, false),
            };
            let text = normalize(body);
            if text.is_empty() {
                return;
            }
            let key = (text.clone(), prefix);
            let at = *index.entry(key).or_insert_with(|| {
                terms.push(Term {
                    cjk: has_cjk(&text),
                    text,
                    prefix,
                    roles: Vec::new(),
                });
                terms.len() - 1
            });
            terms[at].roles.push(role);
        };
        for (r, rule) in RULES.iter().enumerate() {
            for (g, group) in rule.groups.iter().enumerate() {
                for raw in group.iter() {
                    add(
                        raw,
                        TermRole::Group {
                            rule: r as u16,
                            group: g as u8,
                        },
                        &mut terms,
                    );
                }
            }
        }
        for code in Code::ALL {
            for raw in vetoes(*code) {
                add(raw, TermRole::Veto(*code), &mut terms);
            }
        }
        for raw in NEGATIONS {
            add(raw, TermRole::Negation, &mut terms);
        }
        for raw in NEGATIONS_AFTER {
            add(raw, TermRole::NegationAfter, &mut terms);
        }
        let automaton = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(terms.iter().map(|t| t.text.as_str()))?;
        let normalized = |words: &[&str]| -> Vec<String> {
            words
                .iter()
                .map(|w| normalize(w))
                .filter(|w| !w.is_empty())
                .collect()
        };
        Ok(RuleSet {
            automaton,
            terms,
            contrasts: normalized(CONTRASTS),
            coordinators: normalized(COORDINATORS),
            subordinators: normalized(SUBORDINATORS),
        })
    }

    /// The rules that fire on normalised text, in taxonomy order, one hit
    /// per code. No punctuation is known here, so a negation covers only
    /// what follows it closely; [`RuleSet::evaluate_with_boundaries`] also
    /// lets it cover the rest of a coordinated list in its sentence.
    pub fn evaluate(&self, normalized: &str) -> Vec<Hit> {
        self.evaluate_scoped(normalized, None)
    }

    /// [`RuleSet::evaluate`] with the sentence and clause boundaries of the
    /// normalised text (`Normalizer::boundaries`).
    pub fn evaluate_with_boundaries(&self, normalized: &str, boundaries: &[Boundary]) -> Vec<Hit> {
        self.evaluate_scoped(normalized, Some(boundaries))
    }

    /// Negation scope. A negation at `n` negates a trigger whose terms
    /// span `first..=last` when
    /// - it starts at most [`NEGATION_WINDOW`] bytes before the trigger
    ///   (or lies between its terms), or
    /// - it negates a list: a rule term (the first negated item) follows it
    ///   within [`LIST_ITEM_WINDOW`] characters in the same clause, and the trigger is coordinated
    ///   with that item (a comma or `or`/`and`/`ni`/`veya`/`或`... between
    ///   them), within [`LIST_SCOPE`] bytes;
    ///
    /// and in both cases no sentence end and no contrast word (`but`,
    /// `pero`, `ama`, `但`...) lies between the negation and the trigger.
    /// A negation that follows (Turkish) must come within 60 bytes of the
    /// trigger's last term, in the same sentence, with no contrast between.
    fn evaluate_scoped(&self, normalized: &str, boundaries: Option<&[Boundary]>) -> Vec<Hit> {
        const MAX_RULES: usize = 32;
        // First match position and text of each (rule, group).
        let mut found: [[Option<(usize, u32)>; 3]; MAX_RULES] = [[None; 3]; MAX_RULES];
        let mut vetoed: u32 = 0;
        let mut negations: [usize; 8] = [0; 8];
        let mut negation_count = 0;
        let mut negations_after: [usize; 4] = [0; 4];
        let mut after_count = 0;
        // Positions of the first rule terms (candidate first negated items).
        let mut items: [usize; 32] = [0; 32];
        let mut item_count = 0;
        let bytes = normalized.as_bytes();
        for m in self.automaton.find_overlapping_iter(normalized) {
            let term = &self.terms[m.pattern().as_usize()];
            if !term.cjk {
                let left_ok = m.start() == 0 || bytes[m.start() - 1] == b' ';
                let right_ok = term.prefix || m.end() == bytes.len() || bytes[m.end()] == b' ';
                if !(left_ok && right_ok) {
                    continue;
                }
            }
            for role in &term.roles {
                match *role {
                    TermRole::Group { rule, group } => {
                        if item_count < items.len()
                            && (item_count == 0 || items[item_count - 1] != m.start())
                            && !RULES[rule as usize % RULES.len()].code.is_context()
                        {
                            items[item_count] = m.start();
                            item_count += 1;
                        }
                        let slot = &mut found[rule as usize % MAX_RULES][group as usize % 3];
                        if slot.is_none() {
                            *slot = Some((m.start(), m.pattern().as_u32()));
                        }
                    }
                    TermRole::Veto(code) => {
                        vetoed |= 1 << (Code::ALL.iter().position(|c| *c == code).unwrap_or(0))
                    }
                    TermRole::Negation => {
                        if negation_count < negations.len() {
                            negations[negation_count] = m.start();
                            negation_count += 1;
                        }
                    }
                    TermRole::NegationAfter => {
                        if after_count < negations_after.len() {
                            negations_after[after_count] = m.start();
                            after_count += 1;
                        }
                    }
                }
            }
        }
        let mut hits: Vec<Hit> = Vec::new();
        for (r, rule) in RULES.iter().enumerate() {
            let slots = &found[r % MAX_RULES][..rule.groups.len()];
            if slots.iter().any(Option::is_none) {
                continue;
            }
            let code_bit = 1u32 << Code::ALL.iter().position(|c| *c == rule.code).unwrap_or(0);
            if vetoed & code_bit != 0 {
                continue;
            }
            let mut parts: Vec<(usize, u32)> = slots.iter().flatten().copied().collect();
            parts.sort_unstable();
            let first = parts.first().map_or(0, |p| p.0);
            let last = parts.last().map_or(0, |p| p.0);
            let negated = negations[..negation_count].iter().any(|&n| {
                n <= last
                    && self.in_scope(normalized, boundaries, n, first)
                    && (first.saturating_sub(n) <= NEGATION_WINDOW
                        || self.negates_list(
                            normalized,
                            boundaries,
                            n,
                            first,
                            &items[..item_count],
                        ))
            }) || negations_after[..after_count].iter().any(|&n| {
                n >= first
                    && self.in_scope(normalized, boundaries, first, n)
                    && (n <= last + 60 || self.list_before(normalized, boundaries, last, n))
            });
            let terms: Vec<String> = parts
                .iter()
                .map(|&(_, p)| self.terms[p as usize].text.clone())
                .collect();
            match hits.iter_mut().find(|h| h.code == rule.code) {
                Some(existing) => {
                    if existing.negated && !negated {
                        existing.negated = false;
                        existing.terms = terms;
                    }
                }
                None => hits.push(Hit {
                    code: rule.code,
                    terms,
                    negated,
                }),
            }
        }
        hits.sort_by_key(|h| h.code);
        hits
    }

    /// No sentence end and no contrast word between `from` and `to`.
    fn in_scope(
        &self,
        normalized: &str,
        boundaries: Option<&[Boundary]>,
        from: usize,
        to: usize,
    ) -> bool {
        if to <= from {
            return true;
        }
        let sentence_end = boundaries.is_some_and(|bs| {
            bs.iter()
                .any(|b| b.sentence && (b.at as usize) > from && (b.at as usize) <= to)
        });
        if sentence_end {
            return false;
        }
        let between = normalized.get(from..to).unwrap_or("");
        !self.contrasts.iter().any(|w| has_word(between, w))
    }

    /// A negation that follows its list (Turkish `..., SMS kodunu ya da
    /// AnyDesk kurmanızı istemez`): the trigger ending at `last` is
    /// coordinated with what follows it up to the negation at `n` (a comma
    /// or a coordinator between), within [`LIST_SCOPE`] characters.
    fn list_before(
        &self,
        normalized: &str,
        boundaries: Option<&[Boundary]>,
        last: usize,
        n: usize,
    ) -> bool {
        let Some(boundaries) = boundaries else {
            return false;
        };
        let Some(between) = normalized.get(last..n) else {
            return false;
        };
        if between.chars().count() > LIST_SCOPE {
            return false;
        }
        boundaries
            .iter()
            .any(|b| (b.at as usize) > last && (b.at as usize) < n)
            || self.coordinators.iter().any(|w| has_word(between, w))
    }

    /// Whether the negation at `n` reaches the trigger at `first` through a
    /// coordinated list: a rule term within the window after `n` with no
    /// comma before it (the first negated item), then a coordinator between
    /// that item and the trigger. Needs the boundaries (commas).
    fn negates_list(
        &self,
        normalized: &str,
        boundaries: Option<&[Boundary]>,
        n: usize,
        first: usize,
        items: &[usize],
    ) -> bool {
        let Some(boundaries) = boundaries else {
            return false;
        };
        // Characters, not bytes: Cyrillic, Vietnamese and Chinese take two
        // or three bytes a character.
        let chars = |lo: usize, hi: usize| {
            normalized
                .get(lo..hi)
                .map_or(usize::MAX, |s| s.chars().count())
        };
        if first <= n || chars(n, first) > LIST_SCOPE {
            return false;
        }
        let clause_break = |lo: usize, hi: usize| {
            boundaries
                .iter()
                .any(|b| (b.at as usize) > lo && (b.at as usize) <= hi)
        };
        // The earliest candidate for the first negated item.
        let Some(item) = items
            .iter()
            .copied()
            .filter(|&p| p > n && p < first && chars(n, p) <= LIST_ITEM_WINDOW)
            .chain(request_verb_after(normalized, n, first))
            .min()
        else {
            return false;
        };
        // A comma between the negation and its item ends the negated clause
        // (`don't worry, send me...`) unless a subordinate clause follows it.
        let opens_subclause = |at: usize| {
            let rest = normalized.get(at..).unwrap_or("");
            self.subordinators.iter().any(|w| {
                rest.strip_prefix(w.as_str())
                    .is_some_and(|r| r.is_empty() || r.starts_with(' '))
            })
        };
        let separated = boundaries.iter().any(|b| {
            let at = b.at as usize;
            at > n && at <= item && (b.sentence || !opens_subclause(at))
        });
        if separated {
            return false;
        }
        let between = normalized.get(item..first).unwrap_or("");
        clause_break(item, first) || self.coordinators.iter().any(|w| has_word(between, w))
    }
}

/// Whether the normalised text holds a code-like digit run (4 to 8 digits):
/// a customer reading out an OTP.
pub fn has_code_like_digits(normalized: &str) -> bool {
    if normalized.bytes().filter(u8::is_ascii_digit).count() < 4 {
        return false;
    }
    normalized.split(' ').any(|t| {
        let digits = t.bytes().filter(u8::is_ascii_digit).count();
        (4..=8).contains(&digits)
            // Chinese: 验证码是123456 in one token.
            && (digits == t.len() || (!t.is_ascii() && has_cjk(t)))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn check(input: &str, expect: &[(&str, bool)]) {
        let rules = RuleSet::new().unwrap();
        let (normalized, boundaries) = crate::normalize::normalize_with_boundaries(input);
        let hits = rules.evaluate_with_boundaries(&normalized, &boundaries);
        let got: Vec<(&str, bool)> = hits.iter().map(|h| (h.code.as_str(), h.negated)).collect();
        assert_eq!(got, expect, "{input:?}: {hits:?}");
    }

    #[test]
    fn rule_table() {
        check(
            "Please read me the code we just sent",
            &[("credential_request.otp_code", false)],
        );
        check("We will never ask for your code", &[]);
        check(
            "never share your seed phrase with anyone",
            &[("credential_request.seed_phrase", true)],
        );
        check(
            "s e n d me your s33d phr4se",
            &[("credential_request.seed_phrase", false)],
        );
        check("How do I reset my 2FA?", &[]);
        check(
            "Install AnyDesk so we can help",
            &[("remote_access_tool", false)],
        );
        check(
            "Move your funds to this safe wallet",
            &[("safe_wallet_transfer", false)],
        );
        check(
            "Назовите код из смс",
            &[("credential_request.otp_code", false)],
        );
        check("请告诉我验证码", &[("credential_request.otp_code", false)]);
        check(
            "Vui lòng đọc mã OTP cho tôi",
            &[("credential_request.otp_code", false)],
        );
        check(
            "Lütfen SMS kodunu söyleyin",
            &[("credential_request.otp_code", false)],
        );
        check(
            "Tolong kirim kode OTP",
            &[("credential_request.otp_code", false)],
        );
        check(
            "Me passe o código que chegou por SMS",
            &[("credential_request.otp_code", false)],
        );
        check(
            "Dígame el código que le llegó",
            &[("credential_request.otp_code", false)],
        );
        check("what is the error code you see?", &[]);
        // Everyday codes and passwords (session 4 vetoes).
        check("hey can u send me the code for the wifi again", &[]);
        check("tell me the wi-fi password pls", &[]);
        check("What's the gate code? I'm outside", &[]);
        check("¿me pasas la clave del wifi?", &[]);
        check("скинь пароль от вайфая", &[]);
        check("把wifi密码发我一下", &[]);
        check(
            "Your documents were rejected. Re-submit your ID and a selfie at https://x-help.io/kyc",
            &[("kyc_reverification_link", false)],
        );
        check(
            "Загрузите паспорт и селфи заново по ссылке https://x-help.io/kyc",
            &[("kyc_reverification_link", false)],
        );
        check(
            "请通过链接重新上传身份证 https://x-help.io/kyc",
            &[("kyc_reverification_link", false)],
        );
        check(
            "tell me the code for the withdrawal",
            &[("credential_request.otp_code", false)],
        );
        check(
            "kurtarma ifadenizi ve kodlarınızı asla kimseyle paylaşmayın",
            &[],
        );
        check(
            "I will pay you 200 USDT per account for customer data",
            &[("bribery_recruitment", false)],
        );
    }

    /// Negation scope: a negation covers the coordinated items of its list
    /// in the same sentence; a contrast word or a sentence end stops it.
    #[test]
    fn negation_scope_table() {
        const RAT: &str = "remote_access_tool";
        const SAFE: &str = "safe_wallet_transfer";
        const OTP: &str = "credential_request.otp_code";
        const SEED: &str = "credential_request.seed_phrase";
        const PW: &str = "credential_request.password";
        let cases: &[(&str, &[(&str, bool)])] = &[
            // Negated list items, far from the negation.
            (
                "That was not us. Binance will never call you to ask for a code, to move funds to a 'safe wallet' or to install remote access software. Please do not share anything with them.",
                &[(SAFE, true), (RAT, true)],
            ),
            (
                "We never ask for your password, your 2FA codes, your seed phrase or that you install AnyDesk on your computer.",
                &[(RAT, true)],
            ),
            (
                "Binance nunca le llamará para pedirle un código, para mover fondos a una billetera segura ni para instalar AnyDesk u otro programa.",
                &[(RAT, true)],
            ),
            (
                "A Binance nunca liga para pedir um código, para mover fundos para uma carteira segura ou para instalar o AnyDesk no seu computador.",
                &[(RAT, true)],
            ),
            (
                "Binance không bao giờ gọi để xin mã, để chuyển tiền sang ví an toàn hoặc để cài AnyDesk hay phần mềm truy cập từ xa.",
                &[(SAFE, true), (RAT, true)],
            ),
            (
                "Binance никогда не звонит, чтобы попросить код, перевести средства на безопасный кошелек или установить AnyDesk на ваш компьютер.",
                &[(SAFE, true), (RAT, true)],
            ),
            (
                "Binance tidak pernah menelepon untuk meminta kode, memindahkan dana ke dompet aman atau menginstal AnyDesk di komputer Anda.",
                &[(RAT, true)],
            ),
            (
                "币安绝不会打电话向您索要验证码、要求把资金转到安全钱包或安装AnyDesk等远程控制软件。",
                &[(SAFE, true), (RAT, true)],
            ),
            (
                "Binance çalışanları sizden fonlarınızı güvenli bir cüzdana taşımanızı, SMS kodunu söylemenizi ya da AnyDesk kurmanızı istemez.",
                &[(RAT, true)],
            ),
            // A contrast word stops the scope.
            (
                "Don't worry, but read me the code we just sent",
                &[(OTP, false)],
            ),
            (
                "We will never ask for your password, but to secure your wallet install AnyDesk right now",
                &[(RAT, false)],
            ),
            (
                "Never share your password with anyone, but move your BTC to this safe wallet now",
                &[(SAFE, false)],
            ),
            (
                "No comparta su contraseña con nadie, pero mueva sus fondos a esta billetera segura ahora",
                &[(PW, true), (SAFE, false)],
            ),
            ("Не волнуйтесь, но продиктуйте код из смс", &[(OTP, false)]),
            ("别担心，但是请把验证码告诉我", &[(OTP, false)]),
            // A sentence end stops the scope, even within the window.
            ("Don't hang up. Install AnyDesk now", &[(RAT, false)]),
            ("Do not panic. Send me your seed phrase", &[(SEED, false)]),
            (
                "We will never ask for your seed phrase or password. Now install AnyDesk so I can check the account",
                &[(SEED, true), (RAT, false)],
            ),
            // Not coordinated with a negated item: the far trigger stands.
            (
                "Do not worry about anything because our technician will connect through AnyDesk",
                &[(RAT, false)],
            ),
            // A domain name is not a sentence end.
            (
                "Binance.com never asks you to install AnyDesk",
                &[(RAT, true)],
            ),
            // Plain negations still work.
            ("never share your seed phrase with anyone", &[(SEED, true)]),
        ];
        let rules = RuleSet::new().unwrap();
        let mut failures = Vec::new();
        for (input, expect) in cases {
            let (normalized, boundaries) = crate::normalize::normalize_with_boundaries(input);
            let hits = rules.evaluate_with_boundaries(&normalized, &boundaries);
            let got: Vec<(&str, bool)> = hits
                .iter()
                .filter(|h| !h.code.is_context())
                .map(|h| (h.code.as_str(), h.negated))
                .collect();
            if &got != expect {
                failures.push(format!(
                    "{input:?}\n  -> {normalized:?} {boundaries:?}\n  got {got:?}\n  want {expect:?}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn boundaries_survive_normalisation() {
        let (text, boundaries) = crate::normalize::normalize_with_boundaries(
            "Any desk, please. Then the code: four five one two! Done… ok binance.com 1.5",
        );
        assert_eq!(
            text,
            "anydesk please then the code 4512 done ok binance com 1 5"
        );
        let at = |b: &Boundary| (&text[b.at as usize..], b.sentence);
        let got: Vec<(&str, bool)> = boundaries.iter().map(at).collect();
        assert_eq!(
            got,
            vec![
                ("please then the code 4512 done ok binance com 1 5", false),
                ("then the code 4512 done ok binance com 1 5", true),
                ("done ok binance com 1 5", true),
                ("ok binance com 1 5", true),
            ]
        );
    }

    #[test]
    fn digit_runs() {
        assert!(has_code_like_digits("the code is 482917"));
        assert!(has_code_like_digits("验证码是123456"));
        assert!(!has_code_like_digits("in 24 hours"));
    }
}
