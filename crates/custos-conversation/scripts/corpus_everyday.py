"""Session-4 corpus families, written by hand (not taken from any public
corpus): everyday messages that are NOT scams (family, friends, shopping,
deliveries, work, travel, a bank's own code, the wifi code, a leather
wallet, an airport transfer, the key of a house, a map pin, a tennis court,
frozen pipes), and more `kyc_reverification_link` scams, in the eight
languages. Imported by gen_corpus.py, generated after every earlier table
with their own random stream, so earlier lines stay byte for byte.

Slots: the ones of gen_corpus.py, plus {time}, {day}, {place}, {food},
{item}, {obj} (an everyday thing to send: an address, photos, a shoe size), {link} (a harmless link: photos, maps, a shop) per language.
"""

KYC = "kyc_reverification_link"
URG = "urgency_threat"
STAFF = "impersonation_staff"
AUTH = "impersonation_authority"


def S(t, ch="sms"):
    """An everyday message from a friend or relative (not a customer chat)."""
    return ([], "unknown", "inbound", ch, t)


def K(codes, t, ch="sms"):
    return (codes, "unknown", "inbound", ch, t)


EXTRA = {
    "en": {
        "time": ["5", "6.30", "7", "8pm", "noon", "half past 4", "10 tomorrow"],
        "day": ["tomorrow", "on Sunday", "tonight", "on Friday", "next week", "after work"],
        "place": ["the station", "mum's place", "the mall", "Tesco", "the gym", "the office", "the cinema"],
        "food": ["pizza", "noodles", "chicken rice", "curry", "pasta", "burgers", "sushi"],
        "item": ["milk", "bread", "eggs", "nappies", "toothpaste", "rice", "batteries"],
    },
    "es": {
        "time": ["las 5", "las 7", "las 8 y media", "mediodía", "las 10"],
        "day": ["mañana", "el domingo", "esta noche", "el viernes", "la semana que viene"],
        "place": ["la estación", "casa de mi madre", "el centro comercial", "el gimnasio", "la oficina"],
        "food": ["pizza", "paella", "tacos", "empanadas", "tortilla"],
        "item": ["leche", "pan", "huevos", "pañales", "arroz", "pilas"],
    },
    "pt": {
        "time": ["5h", "7h", "8 e meia", "meio-dia", "10h"],
        "day": ["amanhã", "no domingo", "hoje à noite", "na sexta", "semana que vem"],
        "place": ["a rodoviária", "a casa da minha mãe", "o shopping", "a academia", "o escritório"],
        "food": ["pizza", "feijoada", "açaí", "coxinha", "churrasco"],
        "item": ["leite", "pão", "ovos", "fraldas", "arroz", "pilhas"],
    },
    "tr": {
        "time": ["5te", "7de", "8 buçukta", "öğlen", "10da"],
        "day": ["yarın", "pazar günü", "bu akşam", "cuma günü", "haftaya"],
        "place": ["istasyonda", "annemlerde", "AVM'de", "spor salonunda", "ofiste"],
        "food": ["pide", "lahmacun", "mantı", "döner", "köfte"],
        "item": ["süt", "ekmek", "yumurta", "bebek bezi", "pirinç", "pil"],
    },
    "vi": {
        "time": ["5 giờ", "7 giờ", "8 rưỡi", "trưa", "10 giờ"],
        "day": ["mai", "chủ nhật", "tối nay", "thứ sáu", "tuần sau"],
        "place": ["nhà ga", "nhà mẹ", "trung tâm thương mại", "phòng gym", "cơ quan"],
        "food": ["phở", "bún chả", "bánh mì", "cơm tấm", "lẩu"],
        "item": ["sữa", "bánh mì", "trứng", "bỉm", "gạo", "pin"],
    },
    "ru": {
        "time": ["5", "7", "половине девятого", "обеду", "10"],
        "day": ["завтра", "в воскресенье", "вечером", "в пятницу", "на следующей неделе"],
        "place": ["вокзале", "у мамы", "торговом центре", "спортзале", "офисе"],
        "food": ["пиццу", "пельмени", "борщ", "шашлык", "блины"],
        "item": ["молоко", "хлеб", "яйца", "подгузники", "рис", "батарейки"],
    },
    "zh": {
        "time": ["5点", "7点", "8点半", "中午", "10点"],
        "day": ["明天", "周日", "今晚", "周五", "下周"],
        "place": ["车站", "我妈家", "商场", "健身房", "公司"],
        "food": ["火锅", "饺子", "烤鸭", "面条", "奶茶"],
        "item": ["牛奶", "面包", "鸡蛋", "纸尿裤", "大米", "电池"],
    },
    "id": {
        "time": ["jam 5", "jam 7", "setengah 9", "siang", "jam 10"],
        "day": ["besok", "hari Minggu", "nanti malam", "hari Jumat", "minggu depan"],
        "place": ["stasiun", "rumah ibu", "mal", "tempat gym", "kantor"],
        "food": ["nasi goreng", "bakso", "sate", "martabak", "mie ayam"],
        "item": ["susu", "roti", "telur", "popok", "beras", "baterai"],
    },
}
# Everyday things people ask each other to send (never a credential).
OBJECTS = {'en': ['address', 'location', 'live location', 'photos', 'new number', 'email', 'shoe size', 'flight number', 'recipe', 'notes from class', 'homework', 'shopping list', 'bank details for the rent', 'train times', 'CV', 'playlist', 'measurements', "dad's number", 'postcode', 'booking reference'], 'es': ['dirección', 'ubicación', 'fotos', 'número nuevo', 'correo', 'talla', 'número de vuelo', 'receta', 'apuntes', 'lista de la compra', 'horario del tren', 'currículum', 'número de papá', 'código postal de la casa nueva'], 'pt': ['endereço', 'localização', 'fotos', 'número novo', 'e-mail', 'tamanho', 'número do voo', 'receita', 'anotações da aula', 'lista de compras', 'horário do ônibus', 'currículo', 'número do pai', 'CEP da casa nova'], 'tr': ['adresini', 'konumunu', 'fotoğrafları', 'yeni numaranı', 'e-postanı', 'ayakkabı numaranı', 'uçuş numarasını', 'tarifi', 'ders notlarını', 'alışveriş listesini', 'otobüs saatlerini', "CV'ni", 'babamın numarasını'], 'vi': ['địa chỉ', 'vị trí', 'ảnh', 'số mới', 'email', 'cỡ giày', 'số hiệu chuyến bay', 'công thức nấu ăn', 'vở ghi', 'danh sách đi chợ', 'giờ xe buýt', 'CV', 'số của bố'], 'ru': ['адрес', 'геолокацию', 'фотки', 'новый номер', 'почту', 'размер обуви', 'номер рейса', 'рецепт', 'конспекты', 'список покупок', 'расписание электричек', 'резюме', 'номер папы'], 'zh': ['地址', '定位', '照片', '新号码', '邮箱', '鞋码', '航班号', '菜谱', '课堂笔记', '购物清单', '公交时刻表', '简历', '爸爸的电话'], 'id': ['alamat', 'lokasi', 'foto', 'nomor baru', 'email', 'ukuran sepatu', 'nomor penerbangan', 'resep', 'catatan kuliah', 'daftar belanja', 'jadwal kereta', 'CV', 'nomor ayah']}
for _lang, _objs in OBJECTS.items():
    EXTRA[_lang]["obj"] = _objs

LINKS = ["https://photos.app.goo.gl/{r}", "https://maps.app.goo.gl/{r}", "https://youtu.be/{r}",
         "https://drive.google.com/file/d/{r}", "https://www.ikea.com/p/{r}"]


def extra_slots(rng, lang):
    table = EXTRA[lang]
    out = {k: rng.choice(v) for k, v in sorted(table.items())}
    r = "".join(rng.choice("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(10))
    out["link"] = rng.choice(LINKS).replace("{r}", r)
    return out


EVERYDAY = {}
KYC_SCAM = {}

# ---------------------------------------------------------------- English
EVERYDAY["en"] = [
    S("[hey|hi|hiya] [can u|can you|pls] send me the [code|password] for the [wifi|wi-fi] [again|]? [it's|its] not on the router [sticker|anymore]"),
    S("[My bank|The bank|HSBC] [sent|just sent] me a [code|text with a code] [to confirm|for] the [new card|payment to the landlord], [it worked|all done] [now|], [thanks|cheers] for [the help|helping] [mum|dad|{name}]"),
    S("[Found|I found] your [brown|black|leather] wallet [in my car|under the sofa|at {place}], [I'll|will] [bring it|drop it off] {day}"),
    S("[Our|The] flight [lands|gets in] at {time}, the [airport transfer|hotel transfer|shuttle transfer] [is booked|picks us up] [so no need to come|at arrivals]"),
    S("[The|Spare] [house key|key] is [under the mat|with the neighbour|in the blue pot], [give me a call|text me] [if you can't find it|when you're in]"),
    S("[Can you|Could u|Pls] [pick up|grab|get] [some|] {item} and {item} on the way home? [thx|thanks|ta]"),
    S("[Your parcel|The package|Ur order] [is out for delivery|was left at the door|is with the neighbour at number 12] [today|]. [Driver|Courier] says [{time}|between {time} and 9]"),
    S("[ok|k|okie] [see u|see you|cya] at {place} at {time} [then|lor|]. [don't be late|i'll be the one in the red jacket|bring the tickets]"),
    S("[Sorry|soz], [can't talk now|in a meeting], [I'll call you later|call u back in {min} min|will ring u after work]"),
    S("[Happy birthday|Happy bday|HBD] [darling|{name}|bro|sis]! [Have a great day|Hope u have an amazing day|Love you lots] [xx|x|:)|]"),
    S("[What's|whats] the [door code|gate code|code for the gate|code for the building]? [I'm outside|we're downstairs|the buzzer doesn't work]"),
    S("[Drop|Send] me a pin [of|for] [the restaurant|where you parked|your location] [pls|please|], [can't find it|I'm lost|the map is wrong]"),
    S("[We're|We are] [having|getting] {food} {day}, [u coming|are you in|want to join]? [{name} is coming too|my treat]"),
    S("[Dinner|Tea|Food] is [ready|in the oven], [come down|come home] [now|soon] [before it gets cold|pls]"),
    S("[The|Our] pipes [are frozen|froze again] [so no shower|so the heating is off] - [call the plumber|I've called the plumber] [urgently|asap] [pls|]"),
    S("[I'll|I will] pay you back [tomorrow|on Friday|when I get paid], [send me your account number|what's your account number] [and I'll do a bank transfer|for the transfer]"),
    S("[Reminder|Just a reminder]: [dentist|doctor|parents evening|swimming] {day} at {time}. [Bring the card|Don't forget the form|Reply to confirm]"),
    S("[Booked|I booked] the [tennis court|basketball court|squash court] for {time} {day}, [bring|dont forget] [your racket|water|the balls]"),
    S("[My|The] phone is [dead|broken|acting up], [message|text] me on [WhatsApp|my work phone|Telegram] [instead|for now|till I fix it]"),
    S("[Here are|Here's] the [photos|videos|pictures] from [the wedding|the party|Saturday] {link} [enjoy|xx|lol]"),
    S("[Urgent|Quick one]: [did u|did you] [take|see] my [keys|charger|umbrella]? [Can't find them anywhere|Need them before {time}]"),
    S("[Hey|Yo] [{name}|mate|dude], [what's|wats] the score? [I'm stuck at work|can't watch the match|missed the second half]"),
    S("[I'm at the bank|Queue at the bank is huge|Bank was closed], [I'll|will] [transfer|send] you the rent [tonight|tomorrow|later] [ok|]"),
    S("[Love u|Love you|Miss you] [so much|loads|]. [Sleep well|Good night|Sweet dreams] [xx|x|<3|]"),
    S("[The|Our] teacher [needs|wants] the [permission slip|form] [signed|back] by {day}. [It's|its] in [her|his] [school bag|book bag]"),
    S("[Confirm|Can you confirm] [you're|ur] coming to [the meeting|training|the match] {day}? [Need numbers|Booking the table] [by {time}|today]"),
    S("[Sold out|They're out of] {item} [so I got|got] {item} instead. [Hope that's ok|Is that fine]?"),
    S("[Safe|Arrived safe|Landed], [going to the hotel now|waiting for the bags|in the taxi]. [Will call u|Call you] [later|when I'm in]"),
    S("[can u|could you|pls] [send me|text me|forward me] [the|ur] [address|postcode|number of the plumber|recipe|tickets|invoice] [again|when u can|]? [lost it|cant find it|phone deleted it]"),
    S("[tell me|lemme know] [when u|when you|once you] [get home|reach|are free] [so i can call|and i'll ring you|ok]"),
    S("[Give me|Gimme] [10|five|a few] [mins|minutes], [just parking|still at {place}|nearly there]"),
    S("[The|Ur] [tickets|booking reference|confirmation] [is|are] in your email, [check your inbox|look in spam] and [tell me|let me know] if [it came|you got it]"),
    S("[Your|Ur] [mum|dad|sister] [called|rang], [call her back|ring him back] [when u can|asap], [nothing bad|it's about {day}]"),
    S("[send|share] me [your|ur] [location|live location] [pls|please] [so I can find u|im outside|which entrance]"),
    S("[I need|We need] [your|ur] [size|shoe size|dress size] for the [present|wedding outfit|uniform], [tell me|text me] [tonight|asap]"),
    S("[I've|I have] [sent|transferred] you [the money|your share|£20] for [{food}|the tickets|the taxi], [check your account|should be there now]"),
    S("[send me|text me|give me|forward me|share] [your|ur|the] {obj} [pls|please|when u can|asap|again|] [thx|ta|x|]"),
    S("[can u|could you|pls can you] [tell me|remind me of|send me] [your|ur|the] {obj}? [need it for {day}|forgot it|lost it]"),
    S("[I need|need|we need] [your|ur|the] {obj} [for {day}|before {time}|today], [send it|text it|can u send it] [when u can|pls]"),
    S("[Hi|Hey] {name}, [did u get|have you got] [my|the] {obj}? [I sent it|Sent it] [this morning|last night] [to your email|on WhatsApp]"),
]

# ---------------------------------------------------------------- Spanish
EVERYDAY["es"] = [
    S("[Oye|Hola], ¿me [pasas|mandas] la [clave|contraseña] del wifi [otra vez|]? [No está en el router|No me acuerdo]"),
    S("[El banco|Mi banco] me [mandó|envió] un código para [confirmar la tarjeta nueva|pagar el alquiler], [ya está|todo bien], gracias [mamá|papá|{name}]"),
    S("[Encontré|Tengo] tu [cartera|billetera] de cuero [en mi coche|debajo del sofá|en {place}], te la [llevo|dejo] {day}"),
    S("[Nuestro vuelo|El vuelo] llega a {time}, el [traslado|transfer] al hotel [ya está reservado|nos recoge en llegadas]"),
    S("La llave de la casa está [debajo del felpudo|con la vecina|en la maceta azul], [llámame|escríbeme] si no la encuentras"),
    S("¿[Puedes|Me haces el favor de] [comprar|traer] {item} y {item} [de camino a casa|al volver]? [Gracias|Besos]"),
    S("[Tu paquete|El pedido] [está en reparto|lo dejaron en la portería|lo tiene el vecino] [hoy|]. El repartidor [llega|pasa] a {time}"),
    S("Vale, [nos vemos|te veo] en {place} a {time}. [No llegues tarde|Trae las entradas]"),
    S("[Perdona|Lo siento], [estoy en una reunión|no puedo hablar], te llamo [luego|en {min} minutos]"),
    S("¡[Feliz cumpleaños|Feliz cumple] [{name}|guapa|hermano]! [Que pases un gran día|Te quiero mucho]"),
    S("¿Cuál es el código del portal? [Estoy abajo|El timbre no funciona]"),
    S("[Mándame|Pásame] la ubicación del [restaurante|parking], [no lo encuentro|me he perdido]"),
    S("Las tuberías [se congelaron|están congeladas], [llama al fontanero|ya llamé al fontanero] urgente"),
    S("Te devuelvo el dinero [mañana|el viernes], pásame tu número de cuenta para la transferencia"),
    S("[Reservé|He reservado] la pista de tenis para {time} {day}, trae [la raqueta|agua]"),
    S("[Hemos quedado|Vamos] a cenar {food} {day}, ¿te apuntas? [Invito yo|Viene {name} también]"),
    S("[Mándame|Pásame|Envíame] tu {obj} [porfa|por favor|cuando puedas|otra vez]"),
    S("¿Me [dices|recuerdas|pasas] tu {obj}? [Lo necesito para {day}|Se me olvidó]"),
]

# ---------------------------------------------------------------- Portuguese
EVERYDAY["pt"] = [
    S("[Oi|Olá], me [passa|manda] a senha do wifi [de novo|]? [Não está no roteador|Esqueci]"),
    S("[O banco|Meu banco] me mandou um código pra [confirmar o cartão novo|pagar o aluguel], [já deu certo|tudo certo], obrigado [mãe|pai|{name}]"),
    S("[Achei|Encontrei] sua carteira de couro [no meu carro|embaixo do sofá|n{place}], te [levo|entrego] {day}"),
    S("[Nosso voo|O voo] chega às {time}, o transfer [do aeroporto|pro hotel] [já está reservado|pega a gente no desembarque]"),
    S("A chave de casa está [embaixo do tapete|com a vizinha|no vaso azul], me [liga|chama] se não achar"),
    S("[Pode|Dá pra] comprar {item} e {item} [no caminho|quando voltar]? [Valeu|Beijos]"),
    S("[Seu pacote|A encomenda] [saiu para entrega|ficou na portaria|está com o vizinho] [hoje|]. O entregador passa às {time}"),
    S("Beleza, [te vejo|a gente se vê] n{place} às {time}. [Não se atrasa|Leva os ingressos]"),
    S("[Desculpa|Foi mal], [estou numa reunião|não posso falar agora], te ligo [depois|em {min} minutos]"),
    S("[Feliz aniversário|Parabéns] [{name}|amiga|mano]! [Tudo de bom|Te amo muito]"),
    S("Qual é o código do portão? [Estou aqui embaixo|O interfone não funciona]"),
    S("Me manda a localização do [restaurante|estacionamento], [não estou achando|me perdi]"),
    S("Os canos [congelaram|estão congelados], [chama o encanador|já chamei o encanador] urgente"),
    S("Te devolvo o dinheiro [amanhã|na sexta], me passa sua chave pix pra transferência"),
    S("[Reservei|Marquei] a quadra de tênis pras {time} {day}, leva [a raquete|água]"),
    S("[Vamos|A gente vai] comer {food} {day}, bora? [Eu pago|A {name} também vai]"),
    S("[Me manda|Me passa|Me envia] seu {obj} [por favor|quando puder|de novo]"),
    S("[Pode me dizer|Me lembra] seu {obj}? [Preciso pra {day}|Esqueci]"),
]

# ---------------------------------------------------------------- Turkish
EVERYDAY["tr"] = [
    S("[Selam|Merhaba], wifi şifresini [tekrar|] [atar mısın|gönderir misin]? [Modemin üstünde yok|Unuttum]"),
    S("[Banka|Bankam] [yeni kart için|kira ödemesi için] bir kod gönderdi, [hallettim|tamam oldu], sağ ol [anne|baba|{name}]"),
    S("Deri cüzdanını [arabamda|koltuğun altında|{place}] buldum, {day} [getiririm|bırakırım]"),
    S("Uçağımız {time} iniyor, otel transferi [ayarlandı|bizi karşılayacak]"),
    S("Evin anahtarı [paspasın altında|komşuda|mavi saksıda], bulamazsan [ara|yaz]"),
    S("Eve gelirken {item} ve {item} [alır mısın|alabilir misin]? [Sağ ol|Öptüm]"),
    S("[Kargon|Paketin] [dağıtıma çıktı|kapıcıya bırakıldı|komşuda] [bugün|]. Kurye {time} gelecek"),
    S("Tamam, {place} {time} [görüşürüz|buluşalım]. [Geç kalma|Biletleri unutma]"),
    S("[Kusura bakma|Pardon], [toplantıdayım|şu an konuşamam], [sonra|{min} dakika sonra] ararım"),
    S("[Doğum günün kutlu olsun|İyi ki doğdun] [{name}|canım|kardeşim]! [Nice mutlu yıllara|Seni çok seviyorum]"),
    S("Apartmanın kapı kodu ne? [Aşağıdayım|Zil çalışmıyor]"),
    S("Restoranın konumunu [at|gönder], [bulamadım|kayboldum]"),
    S("Borua [dondu|donmuş], [tesisatçıyı ara|tesisatçıyı aradım] acil"),
    S("Parayı [yarın|cuma] geri veririm, havale için IBAN'ını [at|gönder]"),
    S("Tenis kortunu {day} için ayırttım, [raketini|suyunu] getir"),
    S("{day} {food} yiyeceğiz, geliyor musun? [Benden|{name} da geliyor]"),
    S("{obj} [bana atar mısın|gönderir misin|tekrar at] [lütfen|müsait olunca|]"),
    S("{obj} [söyler misin|hatırlatır mısın]? [{day} lazım|Unuttum]"),
]

# ---------------------------------------------------------------- Vietnamese
EVERYDAY["vi"] = [
    S("[Ê|Chào], gửi [lại|] mình mật khẩu wifi [với|nhé]? [Không thấy trên modem|Mình quên rồi]"),
    S("Ngân hàng gửi mã để [xác nhận thẻ mới|trả tiền nhà], [xong rồi|được rồi], cảm ơn [mẹ|bố|{name}]"),
    S("Mình nhặt được ví da của bạn [trong xe|dưới ghế sofa|ở {place}], {day} mình [mang qua|gửi lại]"),
    S("Chuyến bay hạ cánh lúc {time}, xe đưa đón sân bay [đã đặt rồi|sẽ đón ở cửa ra]"),
    S("Chìa khóa nhà [để dưới thảm|gửi hàng xóm|trong chậu cây xanh], không thấy thì [gọi|nhắn] mình"),
    S("Về nhà [mua giúp|mua hộ] {item} với {item} [nhé|nha]? [Cảm ơn|Thương]"),
    S("[Đơn hàng|Bưu kiện] của bạn [đang giao|đã để ở bảo vệ|đang ở nhà hàng xóm] [hôm nay|]. Shipper tới lúc {time}"),
    S("Ok, gặp ở {place} lúc {time} nhé. [Đừng đến muộn|Nhớ mang vé]"),
    S("[Xin lỗi|Sorry], [đang họp|không nghe máy được], [lát|{min} phút nữa] mình gọi lại"),
    S("Chúc mừng sinh nhật [{name}|em|anh]! [Chúc vui vẻ|Yêu nhiều]"),
    S("Mã cửa chung cư là gì? [Mình đang ở dưới|Chuông hỏng rồi]"),
    S("Gửi mình vị trí [nhà hàng|bãi đỗ xe] [với|nhé], [mình không tìm thấy|mình bị lạc]"),
    S("Ống nước [bị đóng băng|đóng băng rồi], [gọi thợ sửa|mình gọi thợ rồi] gấp"),
    S("[Mai|Thứ sáu] mình trả tiền, gửi số tài khoản để mình chuyển khoản"),
    S("Mình đặt sân tennis lúc {time} {day}, nhớ mang [vợt|nước]"),
    S("{day} đi ăn {food}, đi không? [Mình mời|{name} cũng đi]"),
    S("[Gửi|Nhắn] mình {obj} [nhé|với|khi rảnh|lại nhé]"),
    S("[Cho mình xin|Nhắc mình] {obj} [với|nhé]? [{day} cần|Mình quên rồi]"),
]

# ---------------------------------------------------------------- Russian
EVERYDAY["ru"] = [
    S("[Привет|Слушай], [скинь|пришли] [ещё раз|] пароль от вайфая? [На роутере нет|Я забыл]"),
    S("Банк прислал код для [новой карты|оплаты квартиры], [всё получилось|всё готово], спасибо [мам|пап|{name}]"),
    S("Нашёл твой кожаный кошелёк [в машине|под диваном|в {place}], [завезу|отдам] {day}"),
    S("Самолёт садится в {time}, трансфер [из аэропорта|до отеля] [уже заказан|встретит в зоне прилёта]"),
    S("Ключ от квартиры [под ковриком|у соседки|в синем горшке], не найдёшь — [позвони|напиши]"),
    S("[Купи|Захвати] по дороге {item} и {item}, [пожалуйста|спасибо]"),
    S("[Посылка|Заказ] [передан курьеру|оставлен у консьержа|у соседей] [сегодня|]. Курьер будет к {time}"),
    S("Ок, встречаемся на {place} в {time}. [Не опаздывай|Возьми билеты]"),
    S("[Извини|Прости], [я на совещании|не могу говорить], перезвоню [позже|через {min} минут]"),
    S("С днём рождения, [{name}|дорогая|брат]! [Счастья тебе|Люблю тебя]"),
    S("Какой код от домофона? [Я внизу|Звонок не работает]"),
    S("Скинь геолокацию [ресторана|парковки], [не могу найти|я заблудился]"),
    S("Трубы [замёрзли|перемёрзли], [вызови сантехника|я уже вызвал сантехника] срочно"),
    S("Верну деньги [завтра|в пятницу], скинь номер карты для перевода"),
    S("Забронировал теннисный корт на {time} {day}, возьми [ракетку|воду]"),
    S("{day} едим {food}, придёшь? [Я угощаю|{name} тоже будет]"),
    S("[Скинь|Пришли|Отправь] мне {obj} [пожалуйста|когда сможешь|ещё раз]"),
    S("[Напомни|Скажи] мне {obj}? [Нужно на {day}|Я забыл]"),
]

# ---------------------------------------------------------------- Chinese
EVERYDAY["zh"] = [
    S("[在吗|哎]，[再|]把wifi密码发我一下？[路由器上没写|我忘了]"),
    S("银行发了个验证码[确认新卡|交房租]，[已经弄好了|搞定了]，谢谢[妈|爸|{name}]"),
    S("[在我车里|在沙发底下|在{place}]捡到你的皮钱包了，{day}给你[带过去|送过去]"),
    S("航班{time}落地，机场接送[已经订好了|在到达口等]"),
    S("家里钥匙[在门垫下面|放邻居家了|在蓝色花盆里]，找不到就[给我打电话|发消息]"),
    S("回来的路上[帮我|顺便]买点{item}和{item}[呗|，谢谢]"),
    S("[你的快递|包裹][正在派送|放在门卫了|在邻居家][今天|]，快递员{time}到"),
    S("好的，{time}在{place}见。[别迟到|记得带票]"),
    S("[不好意思|抱歉]，[在开会|现在不方便接]，[等会儿|{min}分钟后]回你电话"),
    S("[{name}|亲爱的|老弟]生日快乐！[天天开心|爱你]"),
    S("小区门禁密码是多少？[我在楼下|门铃坏了]"),
    S("把[餐厅|停车场]的定位发我，[找不到|我迷路了]"),
    S("水管[冻住了|冻裂了]，[快叫师傅|我已经叫了师傅]，急"),
    S("[明天|周五]还你钱，把卡号发我，我转账给你"),
    S("订了{day}{time}的网球场，记得带[球拍|水]"),
    S("{day}去吃{food}，去不去？[我请客|{name}也去]"),
    S("[把|麻烦把]{obj}发我[一下|吧|，谢谢]"),
    S("[告诉我|提醒我一下]{obj}？[{day}要用|我忘了]"),
]

# ---------------------------------------------------------------- Indonesian
EVERYDAY["id"] = [
    S("[Hai|Eh], kirim [lagi|] password wifi [dong|ya]? [Di router nggak ada|Aku lupa]"),
    S("Bank kirim kode buat [konfirmasi kartu baru|bayar kos], [udah beres|sudah berhasil], makasih [ma|pa|{name}]"),
    S("Dompet kulitmu ketemu [di mobilku|di bawah sofa|di {place}], {day} aku [antar|kembalikan]"),
    S("Pesawat mendarat {time}, antar jemput bandara [sudah dipesan|nunggu di kedatangan]"),
    S("Kunci rumah [di bawah keset|dititip tetangga|di pot biru], kalau nggak ketemu [telepon|chat] aku"),
    S("Pulangnya [tolong beliin|nitip] {item} sama {item} [ya|dong]? [Makasih|Thanks]"),
    S("[Paketmu|Pesanan kamu] [sedang diantar|dititip di satpam|ada di tetangga] [hari ini|]. Kurir datang {time}"),
    S("Oke, ketemu di {place} {time}. [Jangan telat|Bawa tiketnya]"),
    S("[Maaf|Sori], [lagi rapat|nggak bisa angkat], [nanti|{min} menit lagi] aku telepon balik"),
    S("Selamat ulang tahun [{name}|sayang|bro]! [Semoga bahagia|Sayang kamu]"),
    S("Kode pintu apartemennya berapa? [Aku di bawah|Belnya rusak]"),
    S("Kirim lokasi [restorannya|parkirnya] dong, [aku nggak nemu|aku nyasar]"),
    S("Pipanya [beku|membeku], [panggil tukang ledeng|aku sudah panggil tukang] segera"),
    S("Uangnya aku balikin [besok|hari Jumat], kirim nomor rekening buat transfer"),
    S("Aku sudah booking lapangan tenis {time} {day}, bawa [raket|minum]"),
    S("{day} makan {food}, ikut nggak? [Aku traktir|{name} juga ikut]"),
    S("[Kirim|Kirimin] {obj} [dong|ya|lagi ya|kalau sempat]"),
    S("[Kasih tahu|Ingetin] {obj} [dong|ya]? [Buat {day}|Aku lupa]"),
]

# ------------------------------------------------ kyc_reverification_link
KYC_SCAM["en"] = [
    K([KYC], "[{brand}|{brand} Compliance]: [we could not verify your documents|your identity documents were rejected]. [Re-submit|Upload] your ID and a selfie at {url} [within 48 hours|by tonight] to keep withdrawals enabled"),
    K([KYC, STAFF], "Hello, this is the {brand} verification team. [Due to new regulations|After the latest update] all users must complete [identity re-verification|KYC again]. [Use this link|Open this page]: {url}", "email"),
    K([KYC, URG], "[Action required|Last reminder]: your {brand} account is limited until you [confirm your identity|re-verify] [via the link below|here] {url}. Unverified accounts are [closed|frozen] after {min} days", "email"),
    K([KYC], "Hi, your {brand} KYC level dropped to 0. [Tap|Click] {url} [and scan your passport again|to restore level 2] so your {asset} withdrawal can be [processed|released]", "social"),
]
KYC_SCAM["es"] = [
    K([KYC], "{brand}: [no pudimos verificar sus documentos|sus documentos fueron rechazados]. Vuelva a subir su DNI y una selfie en {url} [en 48 horas|hoy] para mantener los retiros activos"),
    K([KYC, STAFF], "Hola, le escribe el equipo de verificación de {brand}. Por la nueva normativa todos los usuarios deben [verificar su identidad de nuevo|repetir el KYC]. Entre en este enlace: {url}", "email"),
    K([KYC, URG], "[Acción requerida|Último aviso]: su cuenta de {brand} está limitada hasta que confirme su identidad en el enlace {url}. Las cuentas sin verificar se cierran en {min} días", "email"),
    K([KYC], "Su nivel KYC en {brand} bajó a 0. Pulse {url} y escanee su pasaporte otra vez para que su retiro de {asset} sea procesado", "social"),
]
KYC_SCAM["pt"] = [
    K([KYC], "{brand}: [não conseguimos validar seus documentos|seus documentos foram recusados]. Reenvie seu RG e uma selfie em {url} [em 48 horas|hoje] para manter os saques ativos"),
    K([KYC, STAFF], "Olá, aqui é a equipe de verificação da {brand}. Pela nova regulamentação todos os usuários precisam [verificar a identidade de novo|refazer o KYC]. Acesse o link: {url}", "email"),
    K([KYC, URG], "[Ação necessária|Último aviso]: sua conta {brand} está limitada até você confirmar sua identidade no link {url}. Contas não verificadas são encerradas em {min} dias", "email"),
    K([KYC], "Seu nível de KYC na {brand} caiu para 0. Clique em {url} e escaneie o passaporte de novo para liberar seu saque de {asset}", "social"),
]
KYC_SCAM["tr"] = [
    K([KYC], "{brand}: belgelerinizi [doğrulayamadık|reddettik]. Çekimlerin açık kalması için kimliğinizi ve bir selfie'yi {url} adresine [48 saat içinde|bugün] tekrar yükleyin"),
    K([KYC, STAFF], "Merhaba, {brand} doğrulama ekibinden yazıyoruz. Yeni düzenleme nedeniyle tüm kullanıcıların kimlik doğrulamasını yenilemesi gerekiyor. Bu bağlantıyı kullanın: {url}", "email"),
    K([KYC, URG], "[İşlem gerekli|Son hatırlatma]: {brand} hesabınız, kimliğinizi {url} bağlantısından doğrulayana kadar kısıtlı. Doğrulanmayan hesaplar {min} gün sonra kapatılır", "email"),
    K([KYC], "{brand} KYC seviyeniz 0'a düştü. {asset} çekiminizin işlenmesi için {url} linkine tıklayıp pasaportunuzu tekrar tarayın", "social"),
]
KYC_SCAM["vi"] = [
    K([KYC], "{brand}: chúng tôi không xác minh được giấy tờ của bạn. Hãy tải lại CCCD và ảnh selfie tại {url} [trong 48 giờ|hôm nay] để giữ quyền rút tiền"),
    K([KYC, STAFF], "Xin chào, đây là bộ phận xác minh của {brand}. Theo quy định mới, mọi người dùng phải xác minh danh tính lại. Vui lòng vào liên kết: {url}", "email"),
    K([KYC, URG], "[Cần hành động|Nhắc nhở cuối]: tài khoản {brand} của bạn bị giới hạn cho đến khi bạn xác minh danh tính qua link {url}. Tài khoản chưa xác minh sẽ bị đóng sau {min} ngày", "email"),
    K([KYC], "Cấp KYC của bạn trên {brand} đã về 0. Bấm vào {url} và quét lại hộ chiếu để lệnh rút {asset} được xử lý", "social"),
]
KYC_SCAM["ru"] = [
    K([KYC], "{brand}: мы не смогли проверить ваши документы. Загрузите паспорт и селфи заново по ссылке {url} [в течение 48 часов|сегодня], чтобы вывод оставался доступен"),
    K([KYC, STAFF], "Здравствуйте, это отдел верификации {brand}. По новым правилам все пользователи должны пройти верификацию повторно. Перейдите по ссылке: {url}", "email"),
    K([KYC, URG], "[Требуется действие|Последнее напоминание]: ваш аккаунт {brand} ограничен, пока вы не подтвердите личность по ссылке {url}. Неверифицированные аккаунты закрываются через {min} дней", "email"),
    K([KYC], "Ваш уровень KYC на {brand} сброшен до 0. Перейдите по ссылке {url} и отсканируйте паспорт ещё раз, чтобы вывод {asset} был обработан", "social"),
]
KYC_SCAM["zh"] = [
    K([KYC], "{brand}：您的证件审核未通过，请在[48小时内|今天]通过链接{url}重新上传身份证和自拍，以免提现功能被关闭"),
    K([KYC, STAFF], "您好，这里是{brand}身份审核团队。根据新规定，所有用户需重新进行身份验证，请点击链接：{url}", "email"),
    K([KYC, URG], "[需要您操作|最后提醒]：您的{brand}账户已被限制，请点击{url}完成身份验证，未验证账户将在{min}天后关闭", "email"),
    K([KYC], "您在{brand}的KYC等级已降为0，请点击{url}重新扫描护照，您的{asset}提现才能处理", "social"),
]
KYC_SCAM["id"] = [
    K([KYC], "{brand}: dokumen Anda gagal diverifikasi. Unggah ulang KTP dan swafoto di {url} [dalam 48 jam|hari ini] agar penarikan tetap aktif"),
    K([KYC, STAFF], "Halo, ini tim verifikasi {brand}. Karena aturan baru, semua pengguna wajib verifikasi identitas ulang. Silakan buka tautan: {url}", "email"),
    K([KYC, URG], "[Tindakan diperlukan|Pengingat terakhir]: akun {brand} Anda dibatasi sampai Anda verifikasi identitas lewat link {url}. Akun yang belum diverifikasi ditutup dalam {min} hari", "email"),
    K([KYC], "Level KYC Anda di {brand} turun ke 0. Klik {url} dan pindai ulang paspor Anda agar penarikan {asset} diproses", "social"),
]
