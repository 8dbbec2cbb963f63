"""Templates of corpus/generated.jsonl (see gen_corpus.py). Each family is
(codes, sender_role, direction, channel, template); `[a|b]` picks one
alternative, `{slot}` is filled from gen_corpus.slots."""

SEED = "credential_request.seed_phrase"
PK = "credential_request.private_key"
PW = "credential_request.password"
OTP = "credential_request.otp_code"
BK = "credential_request.backup_codes"
API = "api_key_manipulation"
SAFE = "safe_wallet_transfer"
RAT = "remote_access_tool"
STAFF = "impersonation_staff"
AUTH = "impersonation_authority"
URG = "urgency_threat"
APP = "move_to_other_app"
FEE = "unlock_fee"
KYC = "kyc_reverification_link"
P2P = "p2p_trick"
BRIBE = "bribery_recruitment"
COMPLY = "compliance"

def U(codes, t, ch="phone"):
    return (codes, "unknown", "inbound", ch, t)

def A(codes, t):
    return (codes, "agent", "inbound", "chat", t)

def C(codes, t, ch="phone"):
    return (codes, "customer", "outbound", ch, t)

SCAM = {}
BENIGN = {}
PREFIX = {}
SUFFIX = {}

# ---------------------------------------------------------------- English
SCAM["en"] = [
    U([OTP], "[Please |Kindly |]read me the [6-digit |six digit |]code we just sent [to your phone|by SMS|to your number] [to confirm it's you|so we can verify your identity|to stop the withdrawal]"),
    U([SEED], "[To secure|To protect|To restore] your wallet we need your [12-word|24-word|] [seed phrase|recovery phrase|secret phrase], [please type it here|send it to us now|read it to me word by word]"),
    U([API], "[Create|Generate] a new API key with [withdraw|withdrawal] permission [enabled|on] and send us the key and secret so our security team can protect your funds"),
    U([SAFE], "[Move|Transfer] all your {asset} to this [safe|secure|protected] wallet {addr} until the investigation is over"),
    U([RAT], "Please install {tool} [from the Play Store|on your computer|on your phone] and give me the [9-digit |]ID so [our technician|I] can fix your account"),
    U([PW], "[For verification|To unlock the account|To proceed], tell me your [account password|login password|password] [please|now|]"),
    U([BK], "[Send|Give] me your 2FA backup codes so [we|I] can [reset|re-link] your authenticator"),
    U([PK], "[We need|Please provide|Send] the private key of your [wallet|MetaMask|Trust Wallet] to [verify ownership|complete the audit|migrate your funds]"),
    U([FEE], "Your withdrawal of {amount} {asset} is [ready|approved] but you must pay a {fee}% [release fee|tax|activation fee] to unlock [it|the funds]"),
    U([KYC], "Your KYC [has expired|is incomplete], [re-verify|verify your identity] [here|within 24 hours] {url} [or your account will be restricted|to avoid suspension]", "sms"),
    U([APP], "[Add me on|Contact me on|Message me on] {app} [so we can continue|to finish the verification|for faster help], [our official line is busy|this chat will close]", "social"),
    U([P2P], "I already paid, [please|just] release the coins first, [the bank will confirm later|my bank is slow today|here is the payment proof]", "chat"),
    U([OTP, URG], "Your account [is at risk|has been compromised], [give me|tell me] the [verification code|OTP] [right now|immediately] or you will lose your funds"),
    U([SEED, STAFF], "This is the {brand} [security team|wallet support], [confirm|verify] your [recovery phrase|seed words] [on this form|here] to keep your wallet active"),
    U([API], "To [activate|enable] the [arbitrage|trading] bot, [create|make] an API key [without IP restriction|with no IP whitelist] and paste it [here|in this chat]", "social"),
    U([SAFE, URG], "Hackers are [trying to withdraw|draining] your account, [send|transfer] your funds to the [temporary|verification] wallet we created [for you|] [immediately|now]"),
    U([RAT, STAFF], "I'm from {brand} technical support, [download|open] {tool} and [share your screen|accept the connection] so I can [secure|check] your account"),
    U([OTP], "[We sent|You will receive] a code [by SMS|on your phone], [just tell me the digits|please say the numbers] [when it arrives|to cancel the transaction]"),
    U([BRIBE], "[I will pay you|We pay] {amount} USDT [per account|for each account] if you [look up some accounts|send me customer data] [from your panel|for us]", "social"),
    U([BRIBE], "Hey, want to [earn extra|make money]? [We pay|I'll pay you] well for [customer lists|client data] with balances, [nobody will know|it's easy]", "social"),
    U([PW, OTP], "[Please|Kindly] [send|give] me your email password and the code [from the SMS|you receive] [to complete the verification|to restore access]", "email"),
    U([FEE, AUTH], "The [tax office|regulator] has frozen your funds, pay a [compliance|clearance] fee of {amount} USDT to unfreeze them"),
    U([KYC, URG], "[Urgent|Final notice]: [update your KYC|re-verification required] at {url} [within 24h|today] [or your account will be closed|to avoid a permanent block]", "email"),
    U([SAFE, AUTH], "This is the police cyber crime unit, [move|transfer] your {asset} to the [secure|safe] account we give you [to protect your funds|while we investigate]"),
    U([P2P], "[Let's|We can] [pay outside the platform|do it outside escrow], [cancel the order and|just] send the {asset} [directly|to my wallet] and I'll pay [by bank|in cash]", "chat"),
    U([SEED], "[Enter|Type] your seed phrase on [this page|the link below] to [sync|validate|synchronize] your wallet {url}", "email"),
    U([RAT], "[Open|Install] [{tool}|remote access] [now|] so [we|our engineer] can [remove the virus|cancel the pending withdrawal]"),
    U([OTP, STAFF], "Hi, [I'm calling from|this is] {brand} [support|customer service], to stop the [suspicious|unauthorised] withdrawal I need the code you just received"),
    A([OTP], "[To continue|For security], [please|kindly] send me the [SMS|2FA|authenticator] code [you just received|on your phone] [here in the chat|]"),
    A([PW], "[I need|Please share] your [account password|password] [so I can log in and check|to verify the account]"),
    A([SEED], "[Please|Kindly] [share|send] your wallet [seed phrase|recovery phrase] [so I can restore the funds|to sync your wallet]"),
    A([BK], "To fix the 2FA I need your [backup codes|authenticator setup key] [please|]"),
    C([COMPLY], "[ok|okay|alright], the code is {digits}"),
    C([COMPLY], "[ok|done], [I installed|I have installed] {tool}, [the ID is|my ID is] {digits}"),
    C([COMPLY], "[I sent|I transferred|I moved] [everything|the funds|all my {asset}] to the wallet you gave me"),
]
PREFIX["en"] = [
    ([STAFF], "[Hello|Hi|Good morning], [this is|I'm calling from] the {brand} [security team|security department|fraud department]."),
    ([URG], "We detected [a suspicious login|suspicious activity|an unauthorized withdrawal] on your account."),
    ([STAFF], "[Hi|Hello] {name}, {brand} [customer support|official support] here."),
    ([URG], "Your account will be [frozen|suspended|locked] [within {min} minutes|today|permanently]."),
    ([AUTH], "[This is|I am] [officer|agent] [Miller|Brown] from the [police|FBI|cyber crime unit]."),
    ([STAFF, URG], "{brand} [security|risk department]: your account [is at risk|was compromised]."),
]
SUFFIX["en"] = [
    ([URG], "[This is urgent.|Do it now.|Hurry please.]"),
    ([], "[Thank you for your cooperation.|We are here to help.]"),
    ([URG], "[Otherwise you will lose your funds.|Time is running out.]"),
    ([], "[Stay on the line.|Don't hang up.]"),
]
BENIGN["en"] = [
    C([], "[Hi|Hello], my {asset} withdrawal has been pending for [2|6|12] hours, [when will it arrive|can you check]?", "chat"),
    A([], "Hi {name}, you can reset 2FA from the login page under 'Lost access to authenticator'. We will never ask you for your code or password."),
    C([], "[I lost my phone|I changed phones] and can't get the [authenticator|2FA] codes, how do I reset my 2FA?", "chat"),
    A([], "Hello {name}, [never share|do not share] your [seed phrase|verification codes|password] with anyone, [including us|our staff will never ask for them]."),
    C([], "How do I give an API key [withdraw|trade] permission for my [trading bot|bot]?", "chat"),
    A([], "Hi {name}, withdraw permission can only be enabled together with an IP whitelist, that protects you if the key leaks."),
    A([], "Hi {name}, please upload your ID again in the app under [Verification|Profile > Identity], the photo was blurry."),
    A([], "Hello {name}, the withdrawal was held for a routine review, it [has now been released|will be processed within the hour]."),
    C([], "[Someone|A man] called me [saying|claiming] he was from {brand} and asked for my [code|seed phrase], is that a scam?", "chat"),
    A([], "Thanks for reporting it {name}. That was not us: {brand} staff never ask for codes, passwords or seed phrases. Please don't reply to them."),
    C([], "[Thanks|Thank you], it [worked|arrived]! [Have a nice day|Great service]", "chat"),
    A([], "Could you share the transaction hash so I can trace the deposit?"),
    C([], "What is the withdrawal fee for {asset} on the [TRC20|ERC20|BEP20] network?", "chat"),
    A([], "The fee is the network fee plus {fee} {asset}, you can see the breakdown before confirming."),
    C([], "I want to set an anti-phishing code, where is that setting?", "chat"),
    A([], "Please enter the 6-digit code from your authenticator app on the login screen, not in this chat."),
    C([], "[The|My] SMS code [never arrives|is not arriving], can you help?", "chat"),
    A([], "You can change the phone number under Security; we will confirm by email."),
    C([], "My trading bot gets 'invalid signature' on every API call", "chat"),
    A([], "Signatures must use the API secret and the exact query string, please check the timestamp too."),
    C([], "I paid the seller on P2P but they have not released the coins", "chat"),
    A([], "I have opened a dispute with the counterparty and frozen the escrow while we review."),
    A([], "Hi {name}, this is [Anna|Tom] from the support team, how can I help you today?"),
    C([], "Is this the official {brand} support? I want to make sure I'm not talking to a scammer", "chat"),
    A([], "Your verification is complete, you can now withdraw up to [the new limit|{amount} USD per day]."),
    C([], "I need an account statement for my tax return", "email"),
    A([], "I've generated the statement, you'll find it in the Documents section of the app."),
    C([], "Why was my account [frozen|restricted]? I didn't do anything wrong", "chat"),
    A([], "Your account was restricted after [several failed logins|a password change], it will be lifted after 24 hours for your safety."),
    C([], "my card payment was declined but the money left my bank", "chat"),
    A([], "For your security, please don't send screenshots that show your API secret or backup codes in this chat."),
    C([], "Can I use a hardware wallet to store my {asset} safely?", "chat"),
    A([], "Sure, you can withdraw to any wallet you control, just double-check the network before sending."),
    U([], "Your {brand} verification code is {digits}. Do not share it with anyone. {brand} staff will never ask for it.", "sms"),
    U([], "[New login|Login attempt] from [Chrome on Windows|a new device] in [Madrid|Lagos|Hanoi]. If this wasn't you, freeze your account in the app.", "email"),
    C([], "I forgot my password, the reset link never arrives", "chat"),
    A([], "I have resent the password reset link, it is valid for 30 minutes."),
    C([], "[how long|how many days] does identity verification take?", "chat"),
    U([], "Your withdrawal of {amount} {asset} has been completed. Thank you for using {brand}.", "email"),
    A([], "We'll send a confirmation code to your email to approve the address change, enter it in the app."),
]

# ---------------------------------------------------------------- Spanish
SCAM["es"] = [
    U([OTP], "[Por favor|Por favor, ]díctame el código de [6 dígitos|verificación] que le acabamos de enviar [por SMS|a su teléfono] [para confirmar su identidad|para cancelar el retiro]"),
    U([SEED], "[Para proteger|Para asegurar] su billetera necesitamos su frase [semilla|de recuperación] de [12|24] palabras, [escríbala aquí|envíela ahora]"),
    U([SAFE], "[Transfiera|Mueva] todos sus {asset} a esta [billetera segura|cartera segura] {addr} [hasta que termine la investigación|para proteger sus fondos]"),
    U([RAT], "Instale {tool} [en su computadora|en su teléfono] y [dígame el número de acceso|comparta su pantalla] para que el técnico revise su cuenta"),
    U([API], "Cree una clave API con permiso de retiro y envíenos la clave y el secreto para que nuestro equipo proteja sus fondos", "social"),
    U([FEE], "Su retiro de {amount} {asset} está aprobado pero debe pagar una tarifa del {fee}% para desbloquear los fondos"),
    U([KYC], "Su verificación KYC [ha vencido|está incompleta], haga clic en el enlace {url} [en 24 horas|hoy] [o su cuenta será bloqueada|para evitar la suspensión]", "sms"),
    U([PW], "[Para continuar|Por seguridad], dígame la contraseña de su cuenta [por favor|]"),
    U([APP], "Agrégame en {app} [para continuar|para terminar la verificación], [esta línea se va a cortar|es más rápido]", "social"),
    U([OTP, URG], "Su cuenta está en riesgo, [necesito el código|dígame el código] que le llegó [inmediatamente|ahora mismo] o perderá sus fondos"),
    U([P2P], "Ya pagué, libere las monedas primero, [el banco confirma más tarde|aquí está el comprobante de pago]", "chat"),
    U([BRIBE], "Te pagamos {amount} USDT por cada cuenta si nos pasas datos de clientes [de tu panel|]", "social"),
    A([OTP], "Para continuar, envíeme el código [SMS|2FA] que acaba de recibir aquí en el chat"),
    C([COMPLY], "[vale|ok], el código es {digits}"),
    U([SEED, STAFF], "Le habla el equipo de seguridad de {brand}, verifique su frase de recuperación en este formulario para mantener su billetera activa"),
    U([PK], "Necesitamos la clave privada de su billetera para verificar la titularidad"),
]
PREFIX["es"] = [
    ([STAFF], "Hola, le llamamos del [departamento de seguridad|equipo de seguridad] de {brand}."),
    ([URG], "Detectamos actividad sospechosa en su cuenta."),
    ([STAFF], "Buenos días {name}, soporte técnico de {brand}."),
    ([URG], "Su cuenta será bloqueada [en {min} minutos|hoy]."),
]
SUFFIX["es"] = [([URG], "Es urgente."), ([], "Gracias por su colaboración."), ([URG], "No tenemos mucho tiempo."), ([], "No cuelgue.")]
BENIGN["es"] = [
    C([], "Hola, mi retiro de {asset} lleva horas pendiente, ¿cuándo llega?", "chat"),
    A([], "Hola {name}, puede restablecer el 2FA desde la página de inicio de sesión. Nunca le pediremos su código."),
    C([], "Perdí mi teléfono, ¿cómo restablezco el 2FA?", "chat"),
    A([], "Hola {name}, nunca comparta su frase semilla ni sus códigos con nadie, tampoco con nosotros."),
    C([], "¿Cómo le doy permiso de retiro a una clave API para mi bot?", "chat"),
    A([], "Hola {name}, suba de nuevo su documento en la app, en la sección Verificación."),
    C([], "Me llamaron diciendo que eran de {brand} y me pidieron el código, ¿es una estafa?", "chat"),
    A([], "Gracias por avisar. No éramos nosotros: el personal de {brand} nunca pide códigos ni contraseñas."),
    C([], "Perfecto, ya funcionó, ¡gracias!", "chat"),
    A([], "¿Me puede compartir el hash de la transacción para rastrear el depósito?"),
    C([], "¿Cuál es la comisión de retiro de {asset}?", "chat"),
    A([], "Hola {name}, soy [Laura|Pablo] del equipo de soporte, ¿en qué le puedo ayudar?"),
    C([], "No me llega el código SMS, ¿qué hago?", "chat"),
    A([], "Ingrese el código de su aplicación de autenticación en la pantalla de inicio de sesión, no en este chat."),
    U([], "Su código de verificación de {brand} es {digits}. No lo comparta con nadie.", "sms"),
    A([], "El retiro quedó retenido por una revisión de rutina y ya fue liberado."),
]

# ---------------------------------------------------------------- Portuguese
SCAM["pt"] = [
    U([OTP], "[Por favor, ]me passe o código que [chegou|acabou de chegar] por SMS [para confirmar sua identidade|para cancelar o saque]"),
    U([SEED], "Para proteger sua carteira precisamos da sua frase de recuperação de [12|24] palavras, [digite aqui|me envie agora]"),
    U([SAFE], "[Transfira|Mova] seus {asset} para esta carteira segura {addr} [até o fim da investigação|para proteger seus fundos]"),
    U([RAT], "Instale o {tool} [no seu computador|no celular] e [me passe o código de acesso|compartilhe a tela] para o técnico verificar"),
    U([API], "Crie uma chave API com permissão de saque e envie a chave e o segredo para nossa equipe proteger seus fundos", "social"),
    U([FEE], "Seu saque de {amount} {asset} foi aprovado, mas você precisa pagar uma taxa de {fee}% para liberar o saque"),
    U([KYC], "Sua verificação [expirou|está pendente], clique no link {url} [em 24 horas|hoje] para evitar o bloqueio da conta", "sms"),
    U([PW], "Para continuar, me informe a senha da sua conta [por favor|]"),
    U([APP], "Me chame no {app} para continuar o atendimento, [é mais rápido|esta linha vai cair]", "social"),
    U([OTP, URG], "Sua conta está em risco, me diga o código [imediatamente|agora] ou vai perder seus fundos"),
    U([P2P], "Já paguei, libere as moedas primeiro, [o banco confirma depois|segue o comprovante]", "chat"),
    U([BRIBE], "Pagamos {amount} USDT por conta se você passar dados de clientes", "social"),
    A([OTP], "Para continuar, me envie o código [SMS|2FA] que você recebeu aqui no chat"),
    C([COMPLY], "[ok|tá], o código é {digits}"),
    U([SEED, STAFF], "Aqui é a equipe de segurança da {brand}, confirme sua frase de recuperação neste formulário"),
    U([PK], "Precisamos da chave privada da sua carteira para verificar a titularidade"),
]
PREFIX["pt"] = [
    ([STAFF], "Olá, falo da equipe de segurança da {brand}."),
    ([URG], "Detectamos atividade suspeita na sua conta."),
    ([STAFF], "Bom dia {name}, suporte oficial da {brand}."),
    ([URG], "Sua conta será bloqueada [em {min} minutos|hoje]."),
]
SUFFIX["pt"] = [([URG], "É urgente."), ([], "Obrigado pela colaboração."), ([URG], "Não temos muito tempo."), ([], "Não desligue.")]
BENIGN["pt"] = [
    C([], "Olá, meu saque de {asset} está pendente há horas, quando cai?", "chat"),
    A([], "Olá {name}, a redefinição do 2FA é feita pela página de login. Nunca pediremos o seu código."),
    C([], "Perdi meu celular, como faço para redefinir o 2FA?", "chat"),
    A([], "Olá {name}, nunca compartilhe sua frase de recuperação ou seus códigos com ninguém."),
    C([], "Como dou permissão de saque para uma chave API do meu bot?", "chat"),
    A([], "Olá {name}, envie o documento novamente pelo app, na seção Verificação."),
    C([], "Me ligaram dizendo que eram da {brand} e pediram o código, é golpe?", "chat"),
    A([], "Obrigado por avisar. Não fomos nós: a equipe da {brand} nunca pede códigos nem senhas."),
    C([], "Perfeito, funcionou, obrigado!", "chat"),
    A([], "Pode me passar o hash da transação para eu rastrear o depósito?"),
    C([], "Qual é a taxa de saque de {asset}?", "chat"),
    A([], "Olá {name}, sou [Carla|Rafael] da equipe de suporte, como posso ajudar?"),
    C([], "O código SMS não chega, o que eu faço?", "chat"),
    A([], "Digite o código do seu app autenticador na tela de login, não aqui no chat."),
    U([], "Seu código de verificação {brand} é {digits}. Não compartilhe com ninguém.", "sms"),
    A([], "O saque ficou retido para uma revisão de rotina e já foi liberado."),
]

# ---------------------------------------------------------------- Turkish
SCAM["tr"] = [
    U([OTP], "[Lütfen ]telefonunuza gelen [doğrulama kodunu|SMS kodunu] [söyleyin|bana okuyun] [kimliğinizi doğrulamak için|işlemi iptal etmek için]"),
    U([SEED], "Cüzdanınızı korumak için [12|24] kelimelik kurtarma ifadenizi [buraya yazın|bize gönderin]"),
    U([SAFE], "Tüm {asset} varlıklarınızı bu güvenli cüzdana {addr} [aktarın|transfer edin], soruşturma bitene kadar"),
    U([RAT], "{tool} [uygulamasını yükleyin|indirin] ve [bağlantı kodunu söyleyin|ekranınızı paylaşın], teknisyenimiz hesabınızı kontrol edecek"),
    U([API], "Çekim izni olan bir API anahtarı oluşturun ve anahtarı bize gönderin, ekibimiz fonlarınızı koruyacak", "social"),
    U([FEE], "{amount} {asset} çekiminiz onaylandı ama kilidini açmak için %{fee} ücret ödemeniz gerekiyor"),
    U([KYC], "Kimlik doğrulamanız [sona erdi|eksik], hesabınızın kapatılmaması için bu bağlantıya tıklayın {url}", "sms"),
    U([PW], "Devam etmek için hesap şifrenizi söyleyin [lütfen|]"),
    U([APP], "Bana {app} üzerinden yazın, işleme orada devam edelim", "social"),
    U([OTP, URG], "Hesabınız risk altında, gelen kodu [hemen|şimdi] söyleyin yoksa fonlarınızı kaybedeceksiniz"),
    U([P2P], "Ödemeyi yaptım, önce coinleri serbest bırakın, [banka sonra onaylar|dekont burada]", "chat"),
    U([BRIBE], "Müşteri verileri için hesap başına {amount} USDT ödeme yapacağız", "social"),
    A([OTP], "Devam etmek için telefonunuza gelen kodu buraya yazın"),
    C([COMPLY], "tamam, kod şu: {digits}"),
    U([SEED, STAFF], "{brand} güvenlik ekibinden arıyoruz, kurtarma ifadenizi bu formda doğrulayın"),
    U([PK], "Cüzdanınızın özel anahtarını göndermeniz gerekiyor, sahipliği doğrulayacağız"),
]
PREFIX["tr"] = [
    ([STAFF], "Merhaba, {brand} güvenlik ekibinden arıyorum."),
    ([URG], "Hesabınızda şüpheli işlem tespit ettik."),
    ([STAFF], "İyi günler {name}, {brand} müşteri hizmetleri."),
    ([URG], "Hesabınız [{min} dakika içinde|bugün] dondurulacak."),
]
SUFFIX["tr"] = [([URG], "Acil."), ([], "İşbirliğiniz için teşekkürler."), ([URG], "Çok vaktimiz yok."), ([], "Telefonu kapatmayın.")]
BENIGN["tr"] = [
    C([], "Merhaba, {asset} çekim işlemim saatlerdir beklemede", "chat"),
    A([], "Merhaba {name}, 2FA sıfırlamayı giriş sayfasından yapabilirsiniz. Kodunuzu asla sormayız."),
    C([], "Telefonumu kaybettim, 2FA nasıl sıfırlanır?", "chat"),
    A([], "Merhaba {name}, kurtarma ifadenizi ve kodlarınızı asla kimseyle paylaşmayın."),
    C([], "Botum için API anahtarına nasıl çekim izni veririm?", "chat"),
    A([], "Merhaba {name}, kimliğinizi uygulamada Doğrulama bölümünden tekrar yükleyin."),
    C([], "Biri {brand} adına arayıp kodumu istedi, bu dolandırıcılık mı?", "chat"),
    A([], "Bildirdiğiniz için teşekkürler. O biz değildik: {brand} çalışanları asla kod veya şifre istemez."),
    C([], "Harika, oldu, teşekkürler!", "chat"),
    A([], "Yatırımı takip etmem için işlem hash değerini paylaşır mısınız?"),
    C([], "{asset} çekim ücreti ne kadar?", "chat"),
    A([], "Merhaba {name}, ben destek ekibinden [Deniz|Burak], nasıl yardımcı olabilirim?"),
    C([], "SMS kodu gelmiyor, ne yapmalıyım?", "chat"),
    A([], "Doğrulama uygulamanızdaki kodu bu sohbete değil giriş ekranına girin."),
    U([], "{brand} doğrulama kodunuz {digits}. Kimseyle paylaşmayın.", "sms"),
    A([], "Çekiminiz rutin bir inceleme için bekletildi, şimdi onaylandı."),
]

# ---------------------------------------------------------------- Vietnamese
SCAM["vi"] = [
    U([OTP], "[Vui lòng |Anh chị vui lòng ]đọc mã OTP vừa gửi [đến điện thoại|qua SMS] [để xác minh danh tính|để hủy giao dịch]"),
    U([SEED], "Để bảo vệ ví, chúng tôi cần cụm từ khôi phục [12|24] từ của bạn, [hãy gửi cho chúng tôi|nhập vào đây]"),
    U([SAFE], "[Chuyển|Hãy chuyển] toàn bộ {asset} sang ví an toàn này {addr} [cho đến khi điều tra xong|để bảo vệ tài sản]"),
    U([RAT], "Cài đặt {tool} [trên máy tính|trên điện thoại] và [đọc mã kết nối|chia sẻ màn hình] để kỹ thuật viên kiểm tra tài khoản"),
    U([API], "Tạo khóa API có quyền rút tiền rồi gửi cho chúng tôi để đội ngũ bảo vệ tài sản của bạn", "social"),
    U([FEE], "Lệnh rút {amount} {asset} đã được duyệt nhưng bạn phải nộp phí {fee}% để mở khóa"),
    U([KYC], "Xác minh danh tính của bạn [đã hết hạn|chưa hoàn tất], bấm vào đường link {url} để tránh bị khóa tài khoản", "sms"),
    U([PW], "Để tiếp tục, vui lòng cho tôi mật khẩu tài khoản"),
    U([APP], "Kết bạn Zalo với tôi để tiếp tục hỗ trợ, [nhanh hơn|đường dây này sắp ngắt]", "social"),
    U([OTP, URG], "Tài khoản của bạn đang gặp rủi ro, gửi mã xác thực [ngay lập tức|ngay] nếu không sẽ mất toàn bộ tiền"),
    U([P2P], "Tôi đã chuyển tiền rồi, thả coin trước đi, [ngân hàng xác nhận sau|đây là biên lai]", "chat"),
    U([BRIBE], "Chúng tôi trả cho bạn {amount} USDT mỗi tài khoản nếu bạn gửi dữ liệu khách hàng", "social"),
    A([OTP], "Để tiếp tục, vui lòng gửi mã OTP bạn vừa nhận vào đây"),
    C([COMPLY], "dạ, mã là {digits}"),
    U([SEED, STAFF], "Đây là bộ phận bảo mật {brand}, xác minh cụm từ khôi phục của bạn trên biểu mẫu này"),
    U([PK], "Chúng tôi cần khóa riêng của ví để xác minh quyền sở hữu, vui lòng cung cấp"),
]
PREFIX["vi"] = [
    ([STAFF], "Xin chào, tôi gọi từ bộ phận bảo mật {brand}."),
    ([URG], "Chúng tôi phát hiện hoạt động đáng ngờ trên tài khoản của bạn."),
    ([STAFF], "Chào {name}, đây là bộ phận hỗ trợ {brand}."),
    ([URG], "Tài khoản của bạn sẽ bị khóa [trong {min} phút|hôm nay]."),
]
SUFFIX["vi"] = [([URG], "Việc này khẩn cấp."), ([], "Cảm ơn bạn đã hợp tác."), ([URG], "Không còn nhiều thời gian."), ([], "Đừng cúp máy.")]
BENIGN["vi"] = [
    C([], "Chào bạn, lệnh rút {asset} của tôi chờ mấy tiếng rồi, khi nào về?", "chat"),
    A([], "Chào {name}, bạn có thể đặt lại 2FA từ trang đăng nhập. Chúng tôi không bao giờ hỏi mã của bạn."),
    C([], "Tôi bị mất điện thoại, làm sao đặt lại 2FA?", "chat"),
    A([], "Chào {name}, đừng bao giờ chia sẻ cụm từ khôi phục hay mã xác thực với bất kỳ ai."),
    C([], "Làm sao để cấp quyền rút tiền cho khóa API của bot?", "chat"),
    A([], "Chào {name}, vui lòng tải lại giấy tờ trong ứng dụng, mục Xác minh."),
    C([], "Có người gọi tự xưng là {brand} và hỏi mã OTP của tôi, đó có phải lừa đảo không?", "chat"),
    A([], "Cảm ơn bạn đã báo. Đó không phải chúng tôi: nhân viên {brand} không bao giờ hỏi mã hay mật khẩu."),
    C([], "Được rồi, cảm ơn nhiều!", "chat"),
    A([], "Bạn gửi giúp mình mã giao dịch (hash) để mình kiểm tra khoản nạp nhé."),
    C([], "Phí rút {asset} là bao nhiêu?", "chat"),
    A([], "Chào {name}, mình là [Linh|Nam] bên bộ phận hỗ trợ, mình giúp gì được cho bạn?"),
    C([], "Tôi không nhận được mã SMS, phải làm sao?", "chat"),
    A([], "Bạn nhập mã từ ứng dụng xác thực ở màn hình đăng nhập, không gửi vào đây nhé."),
    U([], "Mã xác minh {brand} của bạn là {digits}. Không chia sẻ mã này với bất kỳ ai.", "sms"),
    A([], "Lệnh rút bị giữ lại để kiểm tra định kỳ và đã được duyệt."),
]

# ---------------------------------------------------------------- Russian
SCAM["ru"] = [
    U([OTP], "[Пожалуйста, |]продиктуйте код из СМС, который мы только что отправили, [чтобы подтвердить личность|чтобы отменить вывод]"),
    U([SEED], "Чтобы защитить кошелек, нам нужна ваша секретная фраза из [12|24] слов, [напишите ее сюда|отправьте нам]"),
    U([SAFE], "[Переведите|Отправьте] все {asset} на этот безопасный кошелек {addr} [до окончания проверки|чтобы защитить средства]"),
    U([RAT], "Установите {tool} [на компьютер|на телефон] и [назовите код доступа|включите демонстрацию экрана], наш специалист проверит аккаунт"),
    U([API], "Создайте API ключ с разрешением на вывод и пришлите нам ключ и секрет, наша команда защитит средства", "social"),
    U([FEE], "Ваш вывод {amount} {asset} одобрен, но для разблокировки нужно оплатить комиссию {fee}%"),
    U([KYC], "Ваша верификация [истекла|не завершена], перейдите по ссылке {url} чтобы избежать блокировки", "sms"),
    U([PW], "Для продолжения сообщите пароль от аккаунта [пожалуйста|]"),
    U([APP], "Напишите мне в {app}, там продолжим, [так быстрее|эта линия сейчас оборвется]", "social"),
    U([OTP, URG], "Ваш аккаунт под угрозой, назовите код [срочно|немедленно], иначе потеряете средства"),
    U([P2P], "Я уже оплатил, сначала отпустите монеты, [банк подтвердит позже|вот чек об оплате]", "chat"),
    U([BRIBE], "Заплатим {amount} USDT за каждый аккаунт, если передашь данные клиентов", "social"),
    A([OTP], "Для продолжения пришлите код из СМС сюда в чат"),
    C([COMPLY], "хорошо, код {digits}"),
    U([SEED, STAFF], "Это служба безопасности {brand}, подтвердите фразу восстановления в этой форме"),
    U([PK], "Нам нужен приватный ключ вашего кошелька для подтверждения владения, пришлите его"),
]
PREFIX["ru"] = [
    ([STAFF], "Здравствуйте, вас беспокоит служба безопасности {brand}."),
    ([URG], "Мы зафиксировали подозрительную активность в вашем аккаунте."),
    ([STAFF], "Добрый день, {name}, служба поддержки {brand}."),
    ([URG], "Ваш аккаунт будет заблокирован [через {min} минут|сегодня]."),
]
SUFFIX["ru"] = [([URG], "Это срочно."), ([], "Спасибо за сотрудничество."), ([URG], "Времени мало."), ([], "Не кладите трубку.")]
BENIGN["ru"] = [
    C([], "Здравствуйте, мой вывод {asset} висит уже несколько часов, когда придет?", "chat"),
    A([], "Здравствуйте, {name}, сбросить 2FA можно на странице входа. Мы никогда не спрашиваем ваш код."),
    C([], "Я потерял телефон, как сбросить 2FA?", "chat"),
    A([], "{name}, никогда и никому не сообщайте секретную фразу и коды, даже нам."),
    C([], "Как дать API ключу разрешение на вывод для моего бота?", "chat"),
    A([], "{name}, загрузите документ заново в приложении, в разделе Верификация."),
    C([], "Мне позвонили от имени {brand} и попросили код, это мошенники?", "chat"),
    A([], "Спасибо, что сообщили. Это были не мы: сотрудники {brand} никогда не просят коды и пароли."),
    C([], "Отлично, все получилось, спасибо!", "chat"),
    A([], "Пришлите, пожалуйста, хеш транзакции, чтобы я отследил депозит."),
    C([], "Какая комиссия за вывод {asset}?", "chat"),
    A([], "Здравствуйте, {name}, меня зовут [Алина|Павел], я из службы поддержки, чем могу помочь?"),
    C([], "Не приходит код из СМС, что делать?", "chat"),
    A([], "Введите код из приложения-аутентификатора на экране входа, а не в этот чат."),
    U([], "Ваш код подтверждения {brand}: {digits}. Никому его не сообщайте.", "sms"),
    A([], "Вывод был задержан для плановой проверки, сейчас он одобрен."),
]

# ---------------------------------------------------------------- Chinese
SCAM["zh"] = [
    U([OTP], "[请|麻烦您]把刚收到的[短信验证码|验证码]告诉我，[用来核实身份|才能取消这笔提现]"),
    U([SEED], "为了保护您的钱包，我们需要您的[12|24]个助记词，[请发给我们|请在这里输入]"),
    U([SAFE], "请把所有{asset}转到这个安全钱包{addr}，[调查结束前|以保护资金安全]"),
    U([RAT], "请安装{tool}[远程协助|]并[告诉我连接码|共享屏幕]，我们的技术人员帮您检查账户"),
    U([API], "请创建一个开启提现权限的API密钥，然后发给我们，我们的团队会保护您的资金", "social"),
    U([FEE], "您的{amount} {asset}提现已批准，但需要先支付{fee}%的解冻费才能提现"),
    U([KYC], "您的实名认证[已过期|未完成]，请点击链接{url}重新认证，否则账户将被冻结", "sms"),
    U([PW], "请提供您的登录密码，[方便我们核实|我们需要验证]"),
    U([APP], "加我微信继续办理，[这里不方便|更快]", "social"),
    U([OTP, URG], "您的账户存在风险，请立即把验证码发给我，否则资金会被盗"),
    U([P2P], "我已经付款了，请先放币，[银行稍后确认|这是付款截图]", "chat"),
    U([BRIBE], "每个账户给你{amount} USDT报酬，只要提供客户资料", "social"),
    A([OTP], "为了继续处理，请把您收到的验证码发到这里"),
    C([COMPLY], "好的，验证码是{digits}"),
    U([SEED, STAFF], "这里是{brand}安全中心，请在表格中验证您的助记词"),
    U([PK], "请提供您钱包的私钥，我们需要核实所有权"),
]
PREFIX["zh"] = [
    ([STAFF], "您好，这里是{brand}安全部门。"),
    ([URG], "我们检测到您的账户有异常登录。"),
    ([STAFF], "{name}您好，我是{brand}官方客服。"),
    ([URG], "您的账户将被冻结[，请在{min}分钟内处理|]。"),
]
SUFFIX["zh"] = [([URG], "情况紧急。"), ([], "感谢您的配合。"), ([URG], "时间不多了。"), ([], "请不要挂电话。")]
BENIGN["zh"] = [
    C([], "你好，我的{asset}提现已经等了好几个小时，什么时候到账？", "chat"),
    A([], "{name}您好，您可以在登录页面重置2FA。我们绝不会索要您的验证码。"),
    C([], "我手机丢了，怎么重置谷歌验证？", "chat"),
    A([], "{name}您好，请不要向任何人透露您的助记词和验证码，包括我们。"),
    C([], "怎么给机器人的API密钥开通提现权限？", "chat"),
    A([], "{name}您好，请在App的认证页面重新上传证件照片。"),
    C([], "有人自称{brand}客服打电话问我要验证码，这是骗子吗？", "chat"),
    A([], "感谢您的反馈。那不是我们：{brand}员工绝不会索要验证码或密码。"),
    C([], "好的，已经到账了，谢谢！", "chat"),
    A([], "请提供交易哈希，我帮您查询这笔充值。"),
    C([], "{asset}提现手续费是多少？", "chat"),
    A([], "{name}您好，我是客服[小王|小李]，请问有什么可以帮您？"),
    C([], "收不到短信验证码怎么办？", "chat"),
    A([], "请在登录页面输入身份验证器里的验证码，不要发到聊天里。"),
    U([], "【{brand}】您的验证码是{digits}，请勿泄露给任何人。", "sms"),
    A([], "您的提现因例行审核被暂缓，现在已经放行。"),
]

# ---------------------------------------------------------------- Indonesian
SCAM["id"] = [
    U([OTP], "[Tolong |Mohon ]sebutkan kode OTP yang baru kami kirim [ke HP Anda|lewat SMS] [untuk verifikasi|untuk membatalkan penarikan]"),
    U([SEED], "Untuk mengamankan dompet, kami perlu frasa pemulihan [12|24] kata Anda, [kirim ke kami|ketik di sini]"),
    U([SAFE], "Pindahkan semua {asset} Anda ke dompet aman ini {addr} [sampai investigasi selesai|untuk melindungi dana]"),
    U([RAT], "Silakan install {tool} [di komputer|di HP] dan [sebutkan kode aksesnya|bagikan layar] agar teknisi kami bisa cek akun"),
    U([API], "Buat kunci API dengan izin penarikan lalu kirim ke kami agar tim kami bisa mengamankan dana", "social"),
    U([FEE], "Penarikan {amount} {asset} Anda sudah disetujui tapi harus bayar biaya {fee}% untuk membuka blokir"),
    U([KYC], "Verifikasi KYC Anda [kedaluwarsa|belum lengkap], klik tautan {url} agar akun tidak diblokir", "sms"),
    U([PW], "Untuk melanjutkan, mohon berikan kata sandi akun Anda"),
    U([APP], "Hubungi saya di {app} untuk lanjut prosesnya, [lebih cepat|di sini terbatas]", "social"),
    U([OTP, URG], "Akun Anda dalam bahaya, kirim kode verifikasi [segera|sekarang] atau dana Anda akan hilang"),
    U([P2P], "Saya sudah transfer, lepaskan koin dulu, [bank konfirmasi nanti|ini bukti transfer]", "chat"),
    U([BRIBE], "Kami bayar kamu {amount} USDT per akun untuk data nasabah", "social"),
    A([OTP], "Untuk melanjutkan, kirimkan kode OTP yang Anda terima ke sini"),
    C([COMPLY], "oke, kodenya {digits}"),
    U([SEED, STAFF], "Ini tim keamanan {brand}, verifikasi frasa pemulihan Anda di formulir ini"),
    U([PK], "Kami butuh kunci pribadi dompet Anda untuk verifikasi kepemilikan"),
]
PREFIX["id"] = [
    ([STAFF], "Halo, saya dari tim keamanan {brand}."),
    ([URG], "Kami mendeteksi aktivitas mencurigakan di akun Anda."),
    ([STAFF], "Selamat siang {name}, layanan pelanggan {brand}."),
    ([URG], "Akun Anda akan diblokir [dalam {min} menit|hari ini]."),
]
SUFFIX["id"] = [([URG], "Ini mendesak."), ([], "Terima kasih atas kerja samanya."), ([URG], "Waktunya tidak banyak."), ([], "Jangan tutup teleponnya.")]
BENIGN["id"] = [
    C([], "Halo, penarikan {asset} saya sudah pending beberapa jam, kapan masuk?", "chat"),
    A([], "Halo {name}, reset 2FA bisa dilakukan dari halaman login. Kami tidak akan pernah meminta kode Anda."),
    C([], "HP saya hilang, bagaimana cara reset 2FA?", "chat"),
    A([], "Halo {name}, jangan pernah membagikan frasa pemulihan atau kode Anda kepada siapa pun."),
    C([], "Bagaimana memberi izin penarikan ke kunci API untuk bot saya?", "chat"),
    A([], "Halo {name}, silakan unggah ulang dokumen di aplikasi, menu Verifikasi."),
    C([], "Ada yang menelepon mengaku dari {brand} dan minta kode OTP, apakah itu penipuan?", "chat"),
    A([], "Terima kasih sudah melapor. Itu bukan kami: staf {brand} tidak pernah meminta kode atau kata sandi."),
    C([], "Oke, sudah berhasil, terima kasih!", "chat"),
    A([], "Boleh kirim hash transaksinya supaya saya lacak depositnya?"),
    C([], "Berapa biaya penarikan {asset}?", "chat"),
    A([], "Halo {name}, saya [Rina|Andi] dari tim dukungan, ada yang bisa dibantu?"),
    C([], "Kode SMS tidak masuk, bagaimana?", "chat"),
    A([], "Masukkan kode dari aplikasi autentikator di layar login, bukan di chat ini."),
    U([], "Kode verifikasi {brand} Anda adalah {digits}. Jangan berikan kepada siapa pun.", "sms"),
    A([], "Penarikan Anda ditahan untuk pemeriksaan rutin dan sekarang sudah disetujui."),
]

# ---------------------------------------------------------------- more benign
# Everyday support talk, including staff introducing themselves and
# security advice: the hard negatives of a guard that reads "support team"
# and "code" in scams.
BENIGN["en"] += [
    A([], "[Good morning|Hello|Hi] {name}, [my name is|I'm] [Rachel|Omar|Li] [from the {brand} support team|from customer support|on the security team], [thanks for reaching out|how can I help]?"),
    A([], "[Thanks for your patience|Sorry for the wait], [I'm checking your ticket #{ticket}|I've escalated this to the payments team|the issue is now fixed]."),
    C([], "[Can you|Could you] [check|look at] ticket #{ticket}? [It's been two days|No one answered yet]", "email"),
    A([], "[For your security|As a reminder], {brand} will never [ask for your password|call you to ask for codes|ask you to move funds]. Report any such request here."),
    C([], "[Where do I find|How do I create] an API key [for read-only access|for my portfolio tracker|to connect TradingView]?", "chat"),
    A([], "You can [create|manage] API keys under Account > API Management; [we recommend read-only keys for trackers|enable the IP whitelist for trading bots]."),
    C([], "[Is my account safe|Was my account hacked]? I got an email about [a new login|a password change]", "chat"),
    A([], "[I checked the recent logins|The login came from your usual device] and [they match your device|everything looks normal]. You can review sessions under Security."),
    C([], "[My deposit|The {asset} I sent] [hasn't arrived|is missing], here is the tx hash", "chat"),
    A([], "The deposit [needed more confirmations|was credited a minute ago], [please refresh the app|it should show now]."),
    C([], "[Please close my account|I want to delete my account], [how do I do that|what do I need to do]?", "email"),
    A([], "Before closing, please withdraw your remaining balance, then I can close the account [for you|today]."),
    C([], "[What are|Can you explain] the [trading|maker and taker] fees for [VIP|my] tier?", "chat"),
    A([], "[Your KYC documents are in review|Your identity verification was approved], [it usually takes 24 hours|you can trade now]."),
    C([], "[The app keeps crashing|I can't open the app] [on my iPhone|on Android] after the update", "chat"),
    A([], "Please update to the latest version and clear the cache; if it still crashes, send me a screenshot of the error."),
    C([], "[Why do I need to verify again|Why is the app asking for a selfie]? I already did KYC", "chat"),
    A([], "[The regulator requires a periodic update|Your document expired], please complete it in the app under Verification; we never send verification links by SMS."),
    A([], "[Your withdrawal|The transfer] is [in the network queue|waiting for confirmations] and should arrive [within the hour|soon]."),
    C([], "[ok|okay|alright], [thanks|thank you] [for the help|a lot]", "chat"),
    C([], "[Hello|Hi], [anyone there|is anyone available]?", "chat"),
    A([], "[Is there anything else I can help you with|Let me know if you need anything else]?"),
    C([], "How do I [turn on|enable] 2FA with Google Authenticator?", "chat"),
    A([], "Go to Security > 2FA, scan the QR code with your authenticator and [keep the backup key offline|write the backup key on paper]; never share it with anyone."),
    C([], "I [think I|] [clicked a phishing link|entered my password on a fake site], what should I do?", "chat"),
    A([], "Please change your password now and [reset 2FA|check your API keys]; I have temporarily disabled withdrawals on your account for safety."),
    U([], "[Reminder|Notice]: {brand} will perform scheduled maintenance [tonight|on Sunday] from 02:00 to 04:00 UTC.", "email"),
    U([], "Your {brand} login code is {digits}. It expires in 10 minutes. If you did not request it, ignore this message.", "sms"),
    C([], "[I paid|The buyer paid] on P2P [but the order is still pending|and I released the coins], [can you check the appeal|all good]?", "chat"),
    A([], "I see the appeal on order #{ticket}; [please upload the bank statement in the appeal page|the seller has 30 minutes to respond]."),
]
for lang, intro, thanks, sec, wait in [
    ("es", "Buenos días {name}, soy [Marta|Luis] del equipo de [soporte|atención al cliente] de {brand}, ¿en qué puedo ayudarle?", "[Gracias|Muchas gracias] por su paciencia, [ya revisé su ticket #{ticket}|el problema está resuelto].", "Le recordamos que {brand} nunca le pedirá su contraseña ni sus códigos por teléfono.", "Su retiro está en la cola de la red y llegará [pronto|en una hora]."),
    ("pt", "Bom dia {name}, sou [Paula|Tiago] da equipe de [suporte|atendimento] da {brand}, como posso ajudar?", "[Obrigado|Agradeço] pela paciência, [já verifiquei o ticket #{ticket}|o problema foi resolvido].", "Lembramos que a {brand} nunca pede sua senha ou seus códigos por telefone.", "Seu saque está na fila da rede e chega [em breve|em uma hora]."),
    ("tr", "Günaydın {name}, ben {brand} [destek ekibinden|müşteri hizmetlerinden] [Ece|Murat], nasıl yardımcı olabilirim?", "Sabrınız için teşekkürler, [#{ticket} numaralı talebinizi inceledim|sorun çözüldü].", "{brand} telefonda asla şifrenizi veya kodlarınızı sormaz.", "Çekiminiz ağ kuyruğunda, [yakında|bir saat içinde] ulaşacak."),
    ("vi", "Chào {name}, em là [Mai|Dũng] bên [bộ phận hỗ trợ|chăm sóc khách hàng] {brand}, em có thể giúp gì ạ?", "Cảm ơn anh chị đã chờ, [em đã kiểm tra yêu cầu #{ticket}|vấn đề đã được xử lý].", "{brand} không bao giờ hỏi mật khẩu hay mã OTP qua điện thoại.", "Lệnh rút đang chờ xác nhận trên mạng, sẽ về [sớm|trong một giờ]."),
    ("ru", "Добрый день, {name}, меня зовут [Ирина|Олег], я из [службы поддержки|отдела поддержки] {brand}, чем могу помочь?", "Спасибо за ожидание, [я проверил обращение #{ticket}|проблема решена].", "Напоминаем: {brand} никогда не просит пароль или коды по телефону.", "Ваш вывод в очереди сети и придет [скоро|в течение часа]."),
    ("zh", "{name}您好，我是{brand}[客服|支持团队]的[小张|小陈]，请问有什么可以帮您？", "感谢您的耐心等待，[工单#{ticket}已处理|问题已经解决]。", "温馨提示：{brand}绝不会通过电话索要您的密码或验证码。", "您的提现正在链上排队，[很快|一小时内]到账。"),
    ("id", "Selamat pagi {name}, saya [Wulan|Dimas] dari [tim dukungan|layanan pelanggan] {brand}, ada yang bisa saya bantu?", "Terima kasih sudah menunggu, [tiket #{ticket} sudah saya cek|masalahnya sudah selesai].", "Kami ingatkan, {brand} tidak pernah meminta kata sandi atau kode lewat telepon.", "Penarikan Anda sedang antre di jaringan dan akan masuk [segera|dalam satu jam]."),
]:
    BENIGN[lang] += [A([], intro), A([], thanks), A([], sec), A([], wait)]

# ---------------------------------------------------------------- negation scope (session 3)
# Agents warning about a list of scam requests (one negation, several
# coordinated items, some far from the negation), and scams that use a
# negation and then a contrast or a new sentence ("don't worry, but read me
# the code"). Generated after the tables above with their own random stream,
# so the lines above are unchanged; family numbers continue each table, so
# the fourth family of each language and label here is held out.
SCOPE_SCAM = {}
SCOPE_BENIGN = {}

SCOPE_BENIGN["en"] = [
    A([], "It wasn't us who [called|texted]. {brand} never [phones|contacts] customers to request a verification code, to transfer funds to a '[secure|safe] wallet' or to set up [{tool}|screen sharing|remote access software]. [Please ignore them|Don't reply to them]."),
    A([], "[Please note|Reminder]: we never ask for your password, your 2FA codes, your seed phrase or [remote access to your device|that you install {tool}]."),
    A([], "Do not give anyone your recovery phrase, do not [install|open] {tool} [at someone's request|for a caller], and do not move your funds to a wallet [they give you|a caller gives you]."),
    A([], "{brand} staff will not ask you to [send|transfer] {asset} to a [safe|protected] wallet, [read out|share] an SMS code, or [download|install] {tool}; if someone does, [it is a scam|report it here]."),
]
SCOPE_SCAM["en"] = [
    U([OTP], "Don't [worry|panic], [your funds are safe|nothing is lost yet], but [read me|tell me] the [code|verification code] we just sent [to cancel the transfer|to stop the withdrawal]."),
    U([SEED], "We will never [share|sell] your data, but [to restore|to secure] your wallet [send us|tell me] your [seed phrase|recovery phrase] [now|right away]."),
    U([RAT, STAFF], "[I am|This is] {brand} support. Do not [hang up|close this chat]. Install {tool} [so I can secure your account|and give me the ID]."),
    U([SAFE], "Never share your password with anyone, but [move|transfer] your {asset} to this [safe|secure] wallet {addr} [right away|now]."),
]

SCOPE_BENIGN["es"] = [
    A([], "No fuimos nosotros. {brand} nunca le [llamará|escribirá] para pedirle un código, para mover fondos a una 'billetera segura' ni para instalar {tool} u otro programa de acceso remoto."),
    A([], "Recuerde: nunca le pediremos su contraseña, sus códigos 2FA, su frase semilla o que instale {tool}."),
    A([], "No comparta su frase de recuperación, no instale {tool} a pedido de nadie y no mueva sus fondos a una billetera que le den por teléfono."),
    A([], "El personal de {brand} no le pedirá transferir {asset} a una billetera [segura|protegida], dictar un código SMS ni descargar {tool}; si alguien lo hace, [es una estafa|repórtelo aquí]."),
]
SCOPE_SCAM["es"] = [
    U([OTP], "No se preocupe, [sus fondos están a salvo|no ha perdido nada], pero [dígame|léame] el código que le acabamos de enviar [para cancelar la transferencia|para detener el retiro]."),
    U([SEED], "Nunca compartimos sus datos, pero para [proteger|restaurar] su billetera [necesito|envíeme] su frase semilla [ahora|de inmediato]."),
    U([RAT, STAFF], "Soy de soporte de {brand}. No cuelgue. Instale {tool} y [deme el ID|acepte la conexión] para asegurar su cuenta."),
    U([SAFE], "No comparta su contraseña con nadie, pero [mueva|transfiera] sus {asset} a esta billetera segura {addr} [ahora|de inmediato]."),
]

SCOPE_BENIGN["pt"] = [
    A([], "Não fomos nós. A {brand} nunca [liga|manda mensagem] para pedir um código, para mover fundos para uma 'carteira segura' ou para instalar {tool} ou outro programa de acesso remoto."),
    A([], "Lembrete: nunca pedimos sua senha, seus códigos 2FA, sua frase de recuperação ou que instale {tool}."),
    A([], "Não passe sua frase de recuperação para ninguém, não instale {tool} a pedido de estranhos e não mova seus fundos para uma carteira indicada por telefone."),
    A([], "A equipe da {brand} não pede para transferir {asset} para uma carteira [segura|protegida], ditar um código SMS nem baixar {tool}; se alguém pedir, [é golpe|denuncie aqui]."),
]
SCOPE_SCAM["pt"] = [
    U([OTP], "Não se preocupe, [seu saldo está seguro|nada foi perdido], mas [me passe|leia para mim] o código que acabamos de enviar [para cancelar a transferência|para bloquear o saque]."),
    U([SEED], "Nunca compartilhamos seus dados, mas para [proteger|recuperar] sua carteira [preciso|me envie] sua frase de recuperação [agora|imediatamente]."),
    U([RAT, STAFF], "Sou do suporte da {brand}. Não desligue. Instale o {tool} e [me passe o ID|aceite a conexão] para proteger sua conta."),
    U([SAFE], "Não compartilhe sua senha com ninguém, mas [mova|transfira] seus {asset} para esta carteira segura {addr} [agora|imediatamente]."),
]

SCOPE_BENIGN["tr"] = [
    A([], "Bu biz değildik. {brand} sizi asla kod istemek, fonları 'güvenli cüzdana' taşımak veya {tool} gibi uzaktan erişim programı kurdurmak için aramaz."),
    A([], "Hatırlatma: şifrenizi, 2FA kodlarınızı, kurtarma ifadenizi veya {tool} kurmanızı asla istemeyiz."),
    A([], "Kurtarma ifadenizi kimseye vermeyin, kimsenin isteğiyle {tool} kurmayın ve fonlarınızı telefonda verilen bir cüzdana taşımayın."),
    A([], "{brand} çalışanları sizden {asset} varlıklarınızı [güvenli|korumalı] bir cüzdana göndermenizi, SMS kodunu söylemenizi ya da {tool} indirmenizi istemez; isteyen olursa [dolandırıcıdır|buradan bildirin]."),
]
SCOPE_SCAM["tr"] = [
    U([OTP], "Endişelenmeyin, [paranız güvende|hiçbir şey kaybolmadı], ama az önce gönderdiğimiz kodu [bana söyleyin|okuyun] [transferi iptal etmek için|çekimi durdurmak için]."),
    U([SEED], "Verilerinizi asla paylaşmayız, ama cüzdanınızı [korumak|kurtarmak] için kurtarma ifadenizi [hemen|şimdi] bana gönderin."),
    U([RAT, STAFF], "{brand} destek ekibindenim. Telefonu kapatmayın. {tool} kurun ve [ID numarasını bana verin|bağlantıyı kabul edin]."),
    U([SAFE], "Şifrenizi kimseyle paylaşmayın, ama {asset} bakiyenizi [hemen|şimdi] bu güvenli cüzdana {addr} aktarın."),
]

SCOPE_BENIGN["vi"] = [
    A([], "Đó không phải chúng tôi. {brand} không bao giờ gọi để xin mã, để chuyển tiền sang 'ví an toàn' hoặc để cài {tool} hay phần mềm truy cập từ xa."),
    A([], "Lưu ý: chúng tôi không bao giờ hỏi mật khẩu, mã 2FA, cụm từ khôi phục hoặc yêu cầu bạn cài {tool}."),
    A([], "Đừng đưa cụm từ khôi phục cho ai, đừng cài {tool} theo yêu cầu của người lạ và đừng chuyển tiền sang ví người khác đưa qua điện thoại."),
    A([], "Nhân viên {brand} không yêu cầu chuyển {asset} sang ví [an toàn|bảo vệ], đọc mã SMS hay tải {tool}; nếu có ai yêu cầu, [đó là lừa đảo|hãy báo cho chúng tôi]."),
]
SCOPE_SCAM["vi"] = [
    U([OTP], "Đừng lo, [tiền của bạn vẫn an toàn|chưa mất gì cả], nhưng [hãy đọc cho tôi|cho tôi biết] mã OTP vừa gửi [để hủy giao dịch|để chặn lệnh rút]."),
    U([SEED], "Chúng tôi không bao giờ chia sẻ dữ liệu, nhưng để [bảo vệ|khôi phục] ví bạn cần gửi cho tôi cụm từ khôi phục [ngay|bây giờ]."),
    U([RAT, STAFF], "Tôi bên hỗ trợ {brand}. Đừng cúp máy. Hãy cài {tool} và [gửi tôi mã ID|chấp nhận kết nối] để bảo vệ tài khoản."),
    U([SAFE], "Không chia sẻ mật khẩu với ai, nhưng hãy chuyển {asset} sang ví an toàn {addr} [ngay|ngay bây giờ]."),
]

SCOPE_BENIGN["ru"] = [
    A([], "Это были не мы. {brand} никогда не звонит, чтобы попросить код, перевести средства на «безопасный кошелек» или установить {tool} или другую программу удаленного доступа."),
    A([], "Напоминаем: мы никогда не просим пароль, коды 2FA, сид-фразу или установить {tool}."),
    A([], "Никому не сообщайте фразу восстановления, не устанавливайте {tool} по чужой просьбе и не переводите средства на кошелек, который вам продиктовали по телефону."),
    A([], "Сотрудники {brand} не попросят перевести {asset} на [безопасный|защищенный] кошелек, продиктовать код из СМС или скачать {tool}; если кто-то просит, [это мошенники|сообщите нам]."),
]
SCOPE_SCAM["ru"] = [
    U([OTP], "Не волнуйтесь, [ваши средства в безопасности|ничего не потеряно], но [продиктуйте|назовите] код, который мы только что отправили, [чтобы отменить перевод|чтобы остановить вывод]."),
    U([SEED], "Мы никогда не передаем ваши данные, но чтобы [защитить|восстановить] кошелек, [пришлите|назовите] мне сид-фразу [сейчас|немедленно]."),
    U([RAT, STAFF], "Я из поддержки {brand}. Не кладите трубку. Установите {tool} и [продиктуйте ID|примите подключение]."),
    U([SAFE], "Никому не говорите пароль, а свои {asset} [переведите|отправьте] на этот безопасный кошелек {addr} [сейчас|немедленно]."),
]

SCOPE_BENIGN["zh"] = [
    A([], "那不是我们。{brand}绝不会打电话向您索要验证码、要求把资金转到“安全钱包”或安装{tool}等远程控制软件。"),
    A([], "温馨提示：我们从不索要您的密码、2FA验证码、助记词，也不会让您安装{tool}。"),
    A([], "不要把助记词告诉任何人，不要应陌生人要求安装{tool}，也不要把资金转到电话里给您的钱包。"),
    A([], "{brand}工作人员不会要求您把{asset}转到[安全|保护]钱包、念出短信验证码或下载{tool}；如有人这样要求，[那是诈骗|请向我们举报]。"),
]
SCOPE_SCAM["zh"] = [
    U([OTP], "别担心，[您的资金是安全的|没有任何损失]，但是请[把刚发给您的验证码告诉我|念一下刚收到的验证码]，[以便取消转账|才能拦截提现]。"),
    U([SEED], "我们绝不会泄露您的信息，但为了[保护|恢复]钱包，请[马上|现在]把助记词发给我。"),
    U([RAT, STAFF], "我是{brand}客服。请不要挂电话。请安装{tool}并[把ID告诉我|接受连接]。"),
    U([SAFE], "不要把密码告诉任何人，但请[马上|现在]把您的{asset}转到这个安全钱包{addr}。"),
]

SCOPE_BENIGN["id"] = [
    A([], "Itu bukan kami. {brand} tidak pernah menelepon untuk meminta kode, memindahkan dana ke 'dompet aman' atau menginstal {tool} atau aplikasi akses jarak jauh."),
    A([], "Pengingat: kami tidak pernah meminta kata sandi, kode 2FA, frasa pemulihan, atau meminta Anda menginstal {tool}."),
    A([], "Jangan berikan frasa pemulihan kepada siapa pun, jangan instal {tool} atas permintaan orang lain, dan jangan pindahkan dana ke dompet yang diberikan lewat telepon."),
    A([], "Staf {brand} tidak akan meminta Anda mengirim {asset} ke dompet [aman|terlindungi], membacakan kode SMS maupun mengunduh {tool}; jika ada yang meminta, [itu penipuan|laporkan di sini]."),
]
SCOPE_SCAM["id"] = [
    U([OTP], "Jangan khawatir, [dana Anda aman|tidak ada yang hilang], tapi [bacakan|sebutkan] kode yang baru kami kirim [untuk membatalkan transfer|untuk menghentikan penarikan]."),
    U([SEED], "Kami tidak pernah membagikan data Anda, tapi untuk [mengamankan|memulihkan] dompet, [kirim|berikan] frasa pemulihan Anda [sekarang|segera]."),
    U([RAT, STAFF], "Saya dari dukungan {brand}. Jangan tutup teleponnya. Instal {tool} dan [berikan ID-nya|terima koneksinya]."),
    U([SAFE], "Jangan bagikan kata sandi ke siapa pun, tapi [pindahkan|transfer] {asset} Anda ke dompet aman ini {addr} [sekarang|segera]."),
]
