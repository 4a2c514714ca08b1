# ruff: noqa: RUF001
"""The names lists of the identifier screen.

English first names and surnames are the US census lists shipped by the `names` package (MIT
licence, pinned in pyproject.toml): about 5,500 first names and 88,800 surnames, read once per
process on first use. Iranian names (in Persian script and in Latin transliteration), which the
census lists lack, are listed here. `CLINICAL_WORDS` are capitalised words of this field's
clinical text that the census lists also hold as names (eponyms such as Chiari, Woods, Teuber;
words such as Gene, Grade, Mark) and that must not count as names.
"""

from __future__ import annotations

import functools
from importlib import resources

__all__ = [
    "CLINICAL_WORDS",
    "PERSIAN_CLINICAL_WORDS",
    "PERSIAN_FIRST_NAMES",
    "PERSIAN_SURNAMES",
    "PERSIAN_SURNAME_ENDINGS",
    "english_first_names",
    "english_surnames",
]


def _words(text: str) -> list[str]:
    return text.split()


_IRANIAN_FIRST_LATIN = """
ali reza mohammad mohammed mohamad hossein hosein hassan hasan mehdi amir amirhossein amirali
abbas akbar ahmad mahmoud mostafa morteza mojtaba saeed saeid hamid hamed majid javad jafar
kazem karim nasser naser omid peyman pouya parsa arash arman arsalan babak bahman behnam
behrouz bijan dariush davood ehsan farhad farshid farzad hadi hamidreza iman kamran kaveh
keyvan kian kourosh masoud mehran milad mohsen navid nima pedram ramin rasoul reza sajjad
salman sepehr shahab shahin siavash soroush taha vahid yasin yousef zahir fatemeh fatima
zahra maryam narges leila leyla shirin sara sarah parisa mahsa mina minoo nazanin negar
niloufar neda nasrin roya sahar samira sepideh shabnam simin soheila somayeh tahereh yasaman
zeynab zeinab azadeh elham fereshteh golnaz haleh hoda homa ladan mahnaz mahboubeh marjan
mitra mojgan nahid parvaneh pegah raha reyhaneh roxana setareh shadi shiva tara zohreh
arezoo atefeh bahareh elnaz farnaz ghazal kimia mahtab mehrnaz nastaran negin pardis saba
"""

_IRANIAN_SURNAMES_LATIN = """
ahmadi hosseini hoseini mohammadi rezaei rezaee karimi moradi jafari rahimi kazemi heidari
hashemi mousavi musavi sadeghi ghasemi rostami salehi abbasi asadi bagheri ebrahimi ebadi
akbari amini azizi bahrami davoodi esmaeili farahani ghorbani habibi hamidi jalali kamali
karami khalili khani mahmoudi mansouri mirzaei nasiri nazari noori rahmani rashidi sabouri
safari shariati soltani tavakoli yousefi zamani zarei tehrani shirazi esfahani tabrizi
mashhadi kermani yazdi rasouli alavi sharifi najafi kiani golzari hosseinzadeh alizadeh
hasanzadeh rahimzadeh mohammadzadeh aghapour alipour hasanpour hosseinpour rezapour
karimpour ahmadian rezaian mohammadian karimian hosseinian jafarian rahimian nejad
alinejad hosseinnejad rezanejad farahmand daneshvar farzaneh khosravi pahlavan sotoudeh
"""

PERSIAN_FIRST_NAMES: frozenset[str] = frozenset(
    _words("""
علی رضا محمد حسین حسن مهدی امیر امیرحسین امیرعلی عباس اکبر احمد محمود مصطفی مرتضی مجتبی
سعید حمید حامد مجید جواد جعفر کاظم کریم ناصر پیمان پویا پارسا آرش آرمان بابک بهمن بهنام
بهروز بیژن داریوش داوود احسان فرهاد فرشید فرزاد هادی حمیدرضا ایمان کامران کاوه کیوان کیان
کوروش مسعود مهران میلاد محسن نوید نیما پدرام رامین رسول سجاد سلمان سپهر شهاب شاهین سیاوش
سروش طاها وحید یاسین یوسف فاطمه زهرا مریم نرگس لیلا شیرین سارا پریسا مهسا مینا مینو نازنین
نگار نیلوفر ندا نسرین رویا سمیرا سپیده شبنم سیمین سهیلا سمیه طاهره یاسمن زینب آزاده الهام
فرشته گلناز هاله هدی هما لادن مهناز محبوبه مرجان میترا مژگان ناهید پروانه پگاه رها ریحانه
ستاره شادی شیوا تارا زهره آرزو عاطفه الناز فرناز غزل کیمیا مهتاب مهرناز نسترن نگین پردیس
صبا
""")
)

PERSIAN_SURNAMES: frozenset[str] = frozenset(
    _words("""
احمدی حسینی محمدی رضایی کریمی مرادی جعفری رحیمی کاظمی حیدری هاشمی موسوی صادقی قاسمی رستمی
صالحی عباسی اسدی باقری ابراهیمی عبادی اکبری امینی عزیزی بهرامی داوودی اسماعیلی فراهانی
قربانی حبیبی حمیدی جلالی کمالی کرمی خلیلی خانی محمودی منصوری میرزایی نصیری نظری نوری
رحمانی رشیدی صبوری صفری شریعتی سلطانی توکلی یوسفی زمانی زارعی تهرانی شیرازی اصفهانی تبریزی
مشهدی کرمانی یزدی رسولی علوی شریفی نجفی کیانی حسین\u200cزاده علیزاده حسن\u200cزاده
رحیم\u200cزاده محمدزاده آقاپور علی\u200cپور حسن\u200cپور حسین\u200cپور رضاپور
کریم\u200cپور احمدیان رضاییان محمدیان کریمیان حسینیان جعفریان رحیمیان نژاد علی\u200cنژاد
فرهمند دانشور فرزانه خسروی پهلوان ستوده
""")
)

# Endings that Persian surnames take: a Persian first name followed by a word ending so is
# read as a name, unless that word is one of the clinical adjectives below (most end in ی).
PERSIAN_SURNAME_ENDINGS: tuple[str, ...] = (
    "زاده",
    "پور",
    "یان",
    "نژاد",
    "فر",
    "نیا",
    "راد",
    "وند",
    "ی",
)

PERSIAN_CLINICAL_WORDS: frozenset[str] = frozenset(
    _words("""
نخاعی عصبی حرکتی آینه\u200cای آینه ای ژنتیکی مغزی پشتی کمری گردنی خاجی جراحی بالینی ارثی
خانوادگی مادرزادی دوطرفه یکطرفه طبیعی غیرطبیعی خفیف شدید متوسط درمانی تشخیصی پوستی سینوسی
جلدی چپ راست دست پا کودک بیمار بیماری ام\u200cآر\u200cآی تصویربرداری مغناطیسی الکتریکی
عملکردی ساختاری
""")
)

CLINICAL_WORDS: frozenset[str] = frozenset(
    word.upper()
    for word in _words("""
abnormal absent adult age all altman an and angelman apgar april arnold array art ashworth
august autumn baby babinski barre bayley becker bell benjamini berg bland block bonferroni
box brain brown brunnstrom can case center centre charcot chiari child children christian
clinic cobb cohen cord council cox currarino dandy danlos dawn december denver doctor down
dravet duchenne early edinburgh ehlers erb faith family february feil fisher foot french
friday fugl gastaut gene general genome grace grade grant gross guillain guy hall
hammersmith hand head hertz hill hippel hochberg holm holt hope horner hospital huntington
illumina index iran january jebsen joubert joy july june kallmann kaplan kappa klippel
klumpke lane late left lennox level likert lindau mann march marfan marie mark mason may
mean medical meier meyer ^monday moyamoya motor nash newton nine noonan normal north
november october oldfield oram parker parkinson pat peg pearson philips poisson prader
purdue recklinghausen rett right romberg rose royal saturday scale score september sequard
severe siemens skyra south spearman stanley student sturge summer sunday taylor tesla
teuber thursday tooth tourette trio trendelenburg tuesday turner university vineland von
wald walker ward warren webster wechsler wednesday weber west whitney willi williams
wilson winter woods
""")
)


def _census(name: str) -> frozenset[str]:
    text = resources.files("names").joinpath(name).read_text(encoding="ascii")
    return frozenset(line.split(None, 1)[0] for line in text.splitlines() if line.strip())


@functools.cache
def english_first_names() -> frozenset[str]:
    """First names in capitals: the census lists and the Iranian names in Latin script."""
    listed = _census("dist.male.first") | _census("dist.female.first")
    return listed | {name.upper() for name in _IRANIAN_FIRST_LATIN.split()}


@functools.cache
def english_surnames() -> frozenset[str]:
    """Surnames in capitals: the census list and the Iranian surnames in Latin script."""
    return _census("dist.all.last") | {name.upper() for name in _IRANIAN_SURNAMES_LATIN.split()}
