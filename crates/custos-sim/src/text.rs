//! Message templates: support conversations per ticket category and
//! language, hard benign security conversations, scam call scripts and scam
//! report texts. Placeholders in braces are filled by [`fill`].

use crate::tables::{Category, Lang};

/// Values a template may refer to.
#[derive(Default)]
pub(crate) struct Vars<'a> {
    pub name: &'a str,
    pub amount: &'a str,
    pub asset: &'a str,
    pub code: &'a str,
    pub addr: &'a str,
    pub ticket: &'a str,
}

/// Replaces `{name}`, `{brand}`, `{amount}`, `{asset}`, `{code}`, `{addr}`
/// and `{ticket}`; other text is copied as is.
pub(crate) fn fill<'t>(template: &'t str, vars: &Vars<'_>) -> std::borrow::Cow<'t, str> {
    if !template.contains('{') {
        return std::borrow::Cow::Borrowed(template);
    }
    std::borrow::Cow::Owned(fill_owned(template, vars))
}

fn fill_owned(template: &str, vars: &Vars<'_>) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let value = match &after[..close] {
            "name" => vars.name,
            "brand" => crate::tables::BRAND,
            "amount" => vars.amount,
            "asset" => vars.asset,
            "code" => vars.code,
            "addr" => vars.addr,
            "ticket" => vars.ticket,
            _ => {
                out.push('{');
                rest = after;
                continue;
            }
        };
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

type Lines = &'static [&'static str];

/// A customer's first message on a ticket they open.
pub(crate) fn customer_opening(category: Category, lang: Lang) -> Lines {
    use Category::*;
    match (lang, category) {
        (Lang::En, WithdrawalDelay) => &[
            "Hi, my {asset} withdrawal has been pending for 6 hours, when will it arrive?",
            "My withdrawal still shows processing, can you check it please?",
            "I withdrew {asset} yesterday and the wallet has not received anything",
        ],
        (Lang::En, DepositMissing) => &[
            "I deposited {asset} two hours ago and it is not in my balance",
            "My bank transfer was sent on Monday but I can't see the deposit",
            "Deposit not credited, I have the transaction hash if you need it",
        ],
        (Lang::En, LoginIssue) => &[
            "I can't log in, it keeps saying my password is wrong",
            "I lost my phone and can't get the authenticator codes anymore, how do I reset my 2FA?",
            "The login email link never arrives",
        ],
        (Lang::En, KycVerification) => &[
            "My verification was rejected, what is wrong with my ID?",
            "How long does identity verification take? I uploaded my passport yesterday",
            "The app asks me for proof of address again, I already sent it",
        ],
        (Lang::En, AccountSecurity) => &[
            "I got an email about a login I don't recognise, is my account safe?",
            "How do I change the phone number on my account?",
            "I want to set an anti-phishing code, where is that setting?",
        ],
        (Lang::En, ApiQuestion) => &[
            "My trading bot gets 'invalid signature' on every API call",
            "How do I give an API key withdraw permission for my bot?",
            "What are the rate limits for the REST API?",
        ],
        (Lang::En, CardPayment) => &[
            "My card payment was declined but the money left my bank",
            "I was charged twice for one card purchase",
        ],
        (Lang::En, FeeQuestion) => &[
            "Why was the fee on my last trade so high?",
            "Can you explain the withdrawal fee for {asset}?",
        ],
        (Lang::En, StatementRequest) => &[
            "I need an account statement for my tax return",
            "Can you send me a transaction history for last year?",
        ],
        (Lang::En, AccountClosure) => &["I want to close my account, how do I do that?"],
        (Lang::En, P2pDispute) => &[
            "I paid the seller on P2P but they have not released the coins",
            "The buyer says they paid but nothing arrived in my bank",
        ],
        (Lang::Es, WithdrawalDelay) => &[
            "Hola, mi retiro de {asset} lleva horas pendiente, ¿cuándo llega?",
            "Mi retiro sigue en proceso, ¿pueden revisarlo?",
        ],
        (Lang::Es, DepositMissing) => &["Hice un depósito de {asset} y no aparece en mi saldo"],
        (Lang::Es, LoginIssue) => &[
            "No puedo iniciar sesión, dice que la contraseña es incorrecta",
            "Perdí mi teléfono, ¿cómo restablezco el 2FA?",
        ],
        (Lang::Es, KycVerification) => &["Rechazaron mi verificación, ¿qué pasa con mi documento?"],
        (Lang::Es, AccountSecurity) => &["Recibí un aviso de un inicio de sesión que no reconozco"],
        (Lang::Es, ApiQuestion) => &["Mi bot recibe un error de firma en la API"],
        (Lang::Es, _) => &["Hola, necesito ayuda con mi cuenta por favor"],
        (Lang::Pt, WithdrawalDelay) => &[
            "Olá, meu saque de {asset} está pendente há horas, quando cai?",
            "Meu saque continua em processamento, podem verificar?",
        ],
        (Lang::Pt, DepositMissing) => &["Fiz um depósito via Pix e não apareceu no saldo"],
        (Lang::Pt, LoginIssue) => &[
            "Não consigo entrar na conta, diz que a senha está errada",
            "Perdi meu celular, como faço para redefinir o 2FA?",
        ],
        (Lang::Pt, KycVerification) => {
            &["Minha verificação foi recusada, o que há de errado com o documento?"]
        }
        (Lang::Pt, AccountSecurity) => &["Recebi um alerta de login que não reconheço"],
        (Lang::Pt, _) => &["Olá, preciso de ajuda com a minha conta"],
        (Lang::Fr, WithdrawalDelay) => {
            &["Bonjour, mon retrait de {asset} est bloqué depuis ce matin"]
        }
        (Lang::Fr, LoginIssue) => &["Je n'arrive plus à me connecter à mon compte"],
        (Lang::Fr, KycVerification) => &["Ma vérification d'identité a été refusée, pourquoi ?"],
        (Lang::Fr, _) => &["Bonjour, j'ai besoin d'aide avec mon compte s'il vous plaît"],
        (Lang::De, WithdrawalDelay) => &["Hallo, meine {asset}-Auszahlung hängt seit Stunden"],
        (Lang::De, LoginIssue) => &["Ich kann mich nicht mehr einloggen"],
        (Lang::De, KycVerification) => &["Meine Verifizierung wurde abgelehnt, was fehlt noch?"],
        (Lang::De, _) => &["Hallo, ich brauche Hilfe mit meinem Konto"],
        (Lang::Tr, WithdrawalDelay) => &["Merhaba, {asset} çekim işlemim saatlerdir beklemede"],
        (Lang::Tr, LoginIssue) => &["Hesabıma giriş yapamıyorum"],
        (Lang::Tr, _) => &["Merhaba, hesabımla ilgili yardıma ihtiyacım var"],
    }
}

/// An agent's first answer on a ticket.
pub(crate) fn agent_reply(category: Category, lang: Lang) -> Lines {
    use Category::*;
    match (lang, category) {
        (Lang::En, WithdrawalDelay) => &[
            "Hi {name}, thanks for waiting. I can see the withdrawal, it is in the network queue and should confirm within the hour.",
            "Hello {name}, the withdrawal was held for a routine review, it has now been released.",
        ],
        (Lang::En, DepositMissing) => &[
            "Hi {name}, could you share the transaction hash so I can trace the deposit?",
            "Thanks {name}, the deposit needed more confirmations, it is credited now.",
        ],
        (Lang::En, LoginIssue) => &[
            "Hi {name}, you can start a 2FA reset from the login page under 'Lost access to authenticator'. We will never ask you for your code or password.",
            "Hello {name}, please use 'Forgot password' on the login page, the reset link is valid for 30 minutes.",
        ],
        (Lang::En, KycVerification) => &[
            "Hi {name}, the photo of your ID was blurry, please upload it again in the app under Verification.",
            "Hello {name}, your documents are in review, it usually takes up to 24 hours.",
        ],
        (Lang::En, AccountSecurity) => &[
            "Hi {name}, I checked the recent logins and they match your usual device. You can see all sessions under Security.",
            "Hello {name}, you can change your phone number under Security; we will confirm by email.",
        ],
        (Lang::En, ApiQuestion) => &[
            "Hi {name}, signatures must use the secret and the exact query string, please check the timestamp too.",
            "Hello {name}, withdraw permission can only be enabled together with an IP whitelist, that protects you if the key leaks.",
        ],
        (Lang::En, CardPayment) => &[
            "Hi {name}, the declined payment was never captured, your bank will release it in 3 to 5 days.",
        ],
        (Lang::En, FeeQuestion) => &[
            "Hi {name}, the fee is the taker fee plus the network fee, I have sent you the breakdown.",
        ],
        (Lang::En, StatementRequest) => &[
            "Hi {name}, I have generated the statement, you will find it in your documents section.",
        ],
        (Lang::En, AccountClosure) => &[
            "Hi {name}, before closing please withdraw your remaining balance, then I can close the account.",
        ],
        (Lang::En, P2pDispute) => &[
            "Hi {name}, I have opened a dispute with the counterparty and frozen the escrow while we review.",
        ],
        (Lang::Es, LoginIssue) => &[
            "Hola {name}, puede restablecer el 2FA desde la página de inicio de sesión. Nunca le pediremos su código.",
        ],
        (Lang::Es, _) => &[
            "Hola {name}, gracias por esperar, ya lo estoy revisando.",
            "Hola {name}, el problema ya está resuelto, ¿puede comprobarlo?",
        ],
        (Lang::Pt, LoginIssue) => &[
            "Olá {name}, a redefinição do 2FA é feita pela página de login. Nunca pediremos o seu código.",
        ],
        (Lang::Pt, _) => &[
            "Olá {name}, obrigado por aguardar, já estou verificando.",
            "Olá {name}, o problema foi resolvido, pode conferir?",
        ],
        (Lang::Fr, _) => &["Bonjour {name}, merci de votre patience, je regarde votre dossier."],
        (Lang::De, _) => &["Hallo {name}, danke für Ihre Geduld, ich prüfe das gerade."],
        (Lang::Tr, _) => {
            &["Merhaba {name}, beklediğiniz için teşekkürler, hemen kontrol ediyorum."]
        }
    }
}

pub(crate) fn customer_followup(lang: Lang) -> Lines {
    match lang {
        Lang::En => &[
            "ok thanks",
            "Still nothing on my side",
            "How long will that take?",
            "I sent the screenshot",
            "Great, it worked",
            "Can you check again please?",
        ],
        Lang::Es => &[
            "ok gracias",
            "Todavía nada",
            "¿Cuánto tarda?",
            "Perfecto, funcionó",
        ],
        Lang::Pt => &[
            "ok obrigado",
            "Ainda nada",
            "Quanto tempo demora?",
            "Perfeito, funcionou",
        ],
        Lang::Fr => &["d'accord merci", "Toujours rien", "Parfait, ça marche"],
        Lang::De => &["ok danke", "Immer noch nichts", "Super, hat geklappt"],
        Lang::Tr => &["tamam teşekkürler", "Hâlâ bir şey yok", "Harika, oldu"],
    }
}

pub(crate) fn agent_followup(lang: Lang) -> Lines {
    match lang {
        Lang::En => &[
            "Let me check that for you.",
            "I have escalated this to the payments team.",
            "Could you confirm the amount and the date?",
            "Thanks, I can see it now.",
            "Please allow a few more minutes and refresh the app.",
        ],
        Lang::Es => &[
            "Déjeme revisarlo.",
            "Lo he escalado al equipo de pagos.",
            "Gracias, ya lo veo.",
        ],
        Lang::Pt => &[
            "Vou verificar para você.",
            "Encaminhei para a equipe de pagamentos.",
            "Obrigado, já estou vendo.",
        ],
        Lang::Fr => &["Je vérifie pour vous.", "Merci, je le vois maintenant."],
        Lang::De => &["Ich schaue nach.", "Danke, jetzt sehe ich es."],
        Lang::Tr => &[
            "Sizin için kontrol ediyorum.",
            "Teşekkürler, şimdi görüyorum.",
        ],
    }
}

pub(crate) fn agent_closing(lang: Lang) -> Lines {
    match lang {
        Lang::En => &[
            "Glad I could help, have a good day!",
            "I will close this ticket now, reply here if anything else comes up.",
            "Thank you for contacting {brand} support.",
        ],
        Lang::Es => &[
            "Me alegra haber ayudado, ¡buen día!",
            "Cierro el ticket, responda aquí si necesita algo más.",
        ],
        Lang::Pt => &[
            "Fico feliz em ajudar, tenha um bom dia!",
            "Vou encerrar o ticket, responda aqui se precisar.",
        ],
        Lang::Fr => &["Ravi d'avoir pu aider, bonne journée !"],
        Lang::De => &["Gern geschehen, einen schönen Tag noch!"],
        Lang::Tr => &["Yardımcı olabildiysem ne mutlu, iyi günler!"],
    }
}

/// An agent's message on a ticket the system opened (risk hold, periodic
/// review): official, urgent-sounding, and benign.
pub(crate) fn system_ticket_notice(category: Category) -> Lines {
    match category {
        Category::KycVerification => &[
            "Hello {name}, as part of a periodic review we need an updated proof of address. Please upload it in the app under Verification; never send documents by email or chat.",
        ],
        _ => &[
            "Hello {name}, your recent withdrawal is on hold for a security review. Please confirm in the app that you made it. {brand} staff will never ask for your password or 2FA code.",
            "Hello {name}, we paused a withdrawal to a new address as a precaution. If it was you, confirm it in the app.",
        ],
    }
}

/// An agent's message on a ticket they opened themselves (a call back, a
/// follow-up).
pub(crate) fn agent_callback(lang: Lang) -> Lines {
    match lang {
        Lang::En => &[
            "Hi {name}, following up on your call earlier: the issue is fixed on our side.",
            "Hi {name}, I am calling back about ticket {ticket} as promised.",
        ],
        Lang::Es => &["Hola {name}, le escribo para dar seguimiento a su llamada."],
        Lang::Pt => &["Olá {name}, retornando sobre o seu contato de hoje."],
        _ => &["Hi {name}, following up on your earlier request."],
    }
}

/// Hard benign conversations: words a scam detector keys on, in legitimate
/// support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BenignTopic {
    TwoFactorHelp,
    ScamCheck,
    ApiWithdrawHelp,
    MoveFundsQuestion,
}

impl BenignTopic {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BenignTopic::TwoFactorHelp => "2fa_help",
            BenignTopic::ScamCheck => "scam_check",
            BenignTopic::ApiWithdrawHelp => "api_withdraw_help",
            BenignTopic::MoveFundsQuestion => "move_funds_question",
        }
    }

    pub(crate) fn customer_lines(self, lang: Lang) -> Lines {
        match (self, lang) {
            (BenignTopic::TwoFactorHelp, Lang::Es) => {
                &["¿Cómo restablezco mi 2FA? Cambié de teléfono y no tengo el código"]
            }
            (BenignTopic::TwoFactorHelp, Lang::Pt) => {
                &["Como redefino meu 2FA? Troquei de celular e não tenho o código"]
            }
            (BenignTopic::TwoFactorHelp, _) => &[
                "how do I reset my 2FA? I got a new phone and the authenticator is gone",
                "I keep getting a 6 digit code by SMS that I did not ask for, what should I do with it?",
            ],
            (BenignTopic::ScamCheck, Lang::Es) => &[
                "Me llamó alguien diciendo que era de seguridad de {brand} y me pidió mover mis fondos, ¿es real?",
            ],
            (BenignTopic::ScamCheck, Lang::Pt) => &[
                "Alguém me ligou dizendo ser da segurança da {brand} e pediu para transferir meus fundos, é verdade?",
            ],
            (BenignTopic::ScamCheck, _) => &[
                "Someone called me saying they are from {brand} security and asked me to move my funds to a safe wallet, is this real?",
                "I got a call about a suspicious withdrawal and they wanted my 2FA code, was that you?",
            ],
            (BenignTopic::ApiWithdrawHelp, _) => &[
                "I need an API key with withdraw permission for my rebalancing script, how do I set that up?",
            ],
            (BenignTopic::MoveFundsQuestion, _) => &[
                "Is it safe to keep my coins on the exchange or should I move them to my own wallet?",
            ],
        }
    }

    pub(crate) fn agent_lines(self, lang: Lang) -> Lines {
        match (self, lang) {
            (BenignTopic::TwoFactorHelp, Lang::Es) => &[
                "Puede restablecerlo desde la página de inicio de sesión. Nunca comparta su código con nadie, ni siquiera con nosotros.",
            ],
            (BenignTopic::TwoFactorHelp, Lang::Pt) => &[
                "Você pode redefinir pela página de login. Nunca compartilhe seu código com ninguém, nem conosco.",
            ],
            (BenignTopic::TwoFactorHelp, _) => &[
                "You can reset 2FA from the login page, it takes 24 hours for your safety. We will never ask for your code, do not share it with anyone.",
                "Please do not share that code with anyone, it means someone tried to log in with your password. Change your password now.",
            ],
            (BenignTopic::ScamCheck, Lang::Es) => &[
                "No éramos nosotros. {brand} nunca llama para pedir códigos ni para mover fondos. No comparta nada.",
            ],
            (BenignTopic::ScamCheck, Lang::Pt) => &[
                "Não éramos nós. A {brand} nunca liga pedindo códigos ou transferências. Não compartilhe nada.",
            ],
            (BenignTopic::ScamCheck, _) => &[
                "That was not us. {brand} will never call you to ask for a code, to move funds to a 'safe wallet' or to install remote access software. Please do not share anything with them.",
                "This is a known scam. We never ask for your 2FA code. I have added a note to your account and you can freeze it from the app if you are worried.",
            ],
            (BenignTopic::ApiWithdrawHelp, _) => &[
                "Create the key under API Management, tick 'Enable withdrawals' and add your server's IP to the whitelist; withdraw keys without a whitelist are not allowed.",
            ],
            (BenignTopic::MoveFundsQuestion, _) => &[
                "It is your choice; if you withdraw to your own wallet, keep the seed phrase offline and never share it. We will never ask you to move funds.",
            ],
        }
    }
}

/// What a fake support caller tries to make the victim do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScamScenario {
    TwoFactorCode,
    ApiKey,
    SafeWallet,
    RemoteAccess,
}

impl ScamScenario {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ScamScenario::TwoFactorCode => "2fa_code",
            ScamScenario::ApiKey => "api_key",
            ScamScenario::SafeWallet => "safe_wallet",
            ScamScenario::RemoteAccess => "remote_access",
        }
    }
}

/// The caller's opening: official tone, urgency, and knowledge of the victim
/// that came from the harvested record.
pub(crate) fn scam_intro(lang: Lang) -> Lines {
    match lang {
        Lang::Es => &[
            "Hola {name}, le llamo del departamento de seguridad de {brand}. Detectamos un retiro de {amount} USD desde su cuenta a una billetera desconocida.",
        ],
        Lang::Pt => &[
            "Olá {name}, aqui é da central de segurança da {brand}. Identificamos um saque de {amount} USD da sua conta para uma carteira desconhecida.",
        ],
        _ => &[
            "Hello {name}, this is the {brand} security team. We detected a withdrawal of {amount} USD from your account to an unknown wallet, it is pending right now.",
            "{name}, this is {brand} fraud prevention calling about your balance of {amount} USD, your account has been compromised and we must act in the next minutes.",
            "{brand} Security: unusual login detected on your account. Your balance of {amount} USD is at risk. An agent will guide you, reply to this message.",
        ],
    }
}

/// The caller's ask, per scenario: the inducement.
pub(crate) fn scam_ask(scenario: ScamScenario, lang: Lang) -> Lines {
    match (scenario, lang) {
        (ScamScenario::TwoFactorCode, Lang::Es) => &[
            "Para cancelar el retiro le enviamos un código de 6 dígitos, léamelo ahora por favor.",
        ],
        (ScamScenario::TwoFactorCode, Lang::Pt) => {
            &["Para cancelar o saque enviamos um código de 6 dígitos, me passe o código agora."]
        }
        (ScamScenario::TwoFactorCode, _) => &[
            "To cancel it I am sending you a verification code now, please read me the 6 digit code so I can block the transfer.",
            "You will receive an SMS with a code, read it to me immediately or the withdrawal will complete.",
        ],
        (ScamScenario::ApiKey, _) => &[
            "To secure your funds we need to move your account to protected custody. Create an API key with withdraw enabled, leave the IP restriction empty and read me the key and secret.",
        ],
        (ScamScenario::SafeWallet, Lang::Es) => &[
            "Su billetera está comprometida. Transfiera sus fondos a esta billetera segura de inmediato: {addr}",
        ],
        (ScamScenario::SafeWallet, Lang::Pt) => &[
            "Sua carteira foi comprometida. Transfira seus fundos para esta carteira segura agora: {addr}",
        ],
        (ScamScenario::SafeWallet, _) => &[
            "Your wallet is compromised. You must transfer your funds to this secure wallet immediately, it is protected by our team: {addr}",
        ],
        (ScamScenario::RemoteAccess, _) => &[
            "Please install AnyDesk from the app store so our engineer can secure your account, then read me the 9 digit ID on the screen.",
        ],
    }
}

/// The caller pushing again after hesitation.
pub(crate) fn scam_push(lang: Lang) -> Lines {
    match lang {
        Lang::Es => &["Señor, no hay tiempo, si no lo hace ahora perderá todo su saldo."],
        Lang::Pt => &["Não temos tempo, se não fizer agora vai perder todo o saldo."],
        _ => &[
            "There is no time, if you don't do it now you will lose your whole balance.",
            "I understand, but this is the official procedure. Do not hang up and do not contact anyone else, it will delay the protection.",
        ],
    }
}

pub(crate) fn scam_thanks(lang: Lang) -> Lines {
    match lang {
        Lang::Es => &["Gracias, su cuenta ya está protegida. No comente esta llamada con nadie."],
        Lang::Pt => &["Obrigado, sua conta está protegida. Não comente esta ligação com ninguém."],
        _ => &[
            "Thank you, your account is protected now. Do not discuss this call with anyone, it is a confidential investigation.",
        ],
    }
}

pub(crate) fn victim_hesitant(lang: Lang) -> Lines {
    match lang {
        Lang::Es => &["¿Qué? Yo no hice ningún retiro. ¿Qué tengo que hacer?"],
        Lang::Pt => &["O quê? Eu não fiz nenhum saque. O que eu faço?"],
        _ => &[
            "What? I didn't make any withdrawal. What do I need to do?",
            "oh no, ok what should I do",
            "How do I know you are really from {brand}?",
        ],
    }
}

pub(crate) fn victim_complies(scenario: ScamScenario, lang: Lang) -> Lines {
    match (scenario, lang) {
        (ScamScenario::TwoFactorCode, Lang::Es) => &["ok, el código es {code}"],
        (ScamScenario::TwoFactorCode, Lang::Pt) => &["ok, o código é {code}"],
        (ScamScenario::TwoFactorCode, _) => &["ok the code is {code}", "it says {code}"],
        (ScamScenario::ApiKey, _) => &["done, I created the key, it starts with {code}"],
        (ScamScenario::SafeWallet, Lang::Es) => &["ya envié todo a la billetera que me dio"],
        (ScamScenario::SafeWallet, Lang::Pt) => &["pronto, transferi tudo para a carteira"],
        (ScamScenario::SafeWallet, _) => &["ok I added the address and sent everything"],
        (ScamScenario::RemoteAccess, _) => &["installed it, the ID is {code}"],
    }
}

pub(crate) fn victim_refuses(lang: Lang) -> Lines {
    match lang {
        Lang::Es => &["No voy a dar ningún código, voy a llamar al soporte oficial."],
        Lang::Pt => &["Não vou passar nenhum código, vou falar com o suporte oficial."],
        _ => &[
            "I am not giving you any code, I will contact support through the app myself.",
            "This sounds like a scam, I'm hanging up.",
        ],
    }
}

/// A victim's scam report; `{amount}` is the loss when there was one.
pub(crate) fn victim_report(lost_money: bool) -> Lines {
    if lost_money {
        &[
            "A caller posing as {brand} security knew my name, my phone and my balance. I followed their instructions and my funds were withdrawn.",
            "Scammers pretending to be support convinced me my account was hacked. I lost {amount} USD. They knew things only support could know.",
        ]
    } else {
        &[
            "Someone called pretending to be {brand} support, they knew my name and balance. I did not give them anything but how did they get my details?",
            "Fake support call asking for my 2FA code, they had my address and phone number.",
        ]
    }
}

/// Scam reports unrelated to any insider: other scams customers fell for or
/// worry about.
pub(crate) fn unrelated_report() -> &'static [(&'static str, &'static str, &'static str, bool)] {
    // (channel, contact, text, lost money)
    &[
        (
            "social",
            "@crypto_mentor_official",
            "An investment mentor on Instagram promised 3% a day, I sent USDT and now they don't answer",
            true,
        ),
        (
            "social",
            "@kestrel_giveaway_2x",
            "Giveaway account said send 0.1 BTC and get 0.2 back, nothing came back",
            true,
        ),
        (
            "email",
            "security@kestrel-support.example",
            "I got an email saying my account will be closed unless I verify through a link, is this phishing?",
            false,
        ),
        (
            "chat",
            "p2p-buyer-8812",
            "A P2P buyer sent a fake payment screenshot and asked me to release",
            false,
        ),
        (
            "phone",
            "+44 20 7946 0958",
            "Recovery service called offering to get back my lost coins for a fee",
            false,
        ),
    ]
}
