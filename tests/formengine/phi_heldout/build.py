# ruff: noqa: RUF001
"""Build the held-out identifier set (notes.json beside this file), deterministically.

    python tests/formengine/phi_heldout/build.py

Synthetic only: names are common first names and surnames joined at random (no real person is
meant), national numbers are random with valid check digits (Iranian national code, mod 11;
Canadian SIN, Luhn; US SSN, the issued shape), phone numbers use fictional or random
subscriber digits, IP addresses come from documentation and private ranges. The set was written
apart from the identifier screen and its own test set (tests/formengine/phi_set/), with other
templates and wording, so that it measures the screen rather than flatters it: it is not to be
tuned against the screen. Each note holds exactly one identifier (its "kind" says which, and
"identifier" gives the span as written) or none ("clinical"). "lang" is "en" or "fa".
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 20261203
PER_KIND = 22
CLINICAL = 240
OUT = Path(__file__).resolve().parent / "notes.json"

FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")

FIRST_EN = [
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Sophia",
    "Elijah",
    "Isabella",
    "Lucas",
    "Mia",
    "Mason",
    "Harper",
    "Ethan",
    "Evelyn",
    "Logan",
    "Abigail",
    "Jacob",
    "Emily",
    "Daniel",
    "Chloe",
    "Henry",
    "Ella",
    "Jackson",
    "Avery",
    "Samuel",
    "Scarlett",
    "Owen",
    "Madison",
    "Nathan",
    "Zoe",
    "Caleb",
    "Hannah",
    "Ryan",
    "Lily",
    "Dylan",
    "Aria",
    "Connor",
    "Nora",
    "Gavin",
    "Claire",
    "Tristan",
    "Megan",
    "Brandon",
    "Rachel",
    "Kevin",
    "Laura",
]
FIRST_FA_LATIN = [
    "Hossein",
    "Reza",
    "Mohammad",
    "Ali",
    "Mehdi",
    "Amir",
    "Arash",
    "Kian",
    "Babak",
    "Saeed",
    "Fatemeh",
    "Zahra",
    "Maryam",
    "Narges",
    "Parisa",
    "Nazanin",
    "Shirin",
    "Leila",
    "Elham",
    "Mahsa",
    "Niloufar",
    "Somayeh",
    "Hamid",
    "Farhad",
    "Kaveh",
    "Pouya",
    "Yasaman",
    "Sepideh",
]
LAST_EN = [
    "Thompson",
    "Walker",
    "Robinson",
    "Mitchell",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Collins",
    "Edwards",
    "Stewart",
    "Morris",
    "Rogers",
    "Reed",
    "Cook",
    "Morgan",
    "Bell",
    "Murphy",
    "Bailey",
    "Cooper",
    "Richardson",
    "Cox",
    "Howard",
    "Ward",
    "Peterson",
    "Gray",
    "Ramirez",
    "Watson",
    "Brooks",
    "Sanders",
    "Price",
    "Bennett",
    "Wood",
    "Barnes",
    "Ross",
    "Henderson",
    "Coleman",
    "Jenkins",
    "Perry",
    "Powell",
    "Long",
    "Patterson",
    "Hughes",
    "Flores",
    "Washington",
    "Butler",
    "Simmons",
    "Foster",
    "Gonzales",
    "Bryant",
    "Alexander",
    "Russell",
    "Griffin",
    "Hayes",
    "Myers",
    "Ford",
    "Hamilton",
    "Graham",
    "Sullivan",
    "Wallace",
    "MacDonald",
    "O'Connor",
    "Fitzgerald",
    "Lefebvre",
    "Tremblay",
    "Gagnon",
    "Bouchard",
]
LAST_FA_LATIN = [
    "Ahmadi",
    "Mohammadi",
    "Hosseini",
    "Rezaei",
    "Karimi",
    "Mousavi",
    "Jafari",
    "Sadeghi",
    "Rahimi",
    "Nouri",
    "Kazemi",
    "Ghasemi",
    "Taheri",
    "Sharifi",
    "Zarei",
    "Bahrami",
    "Asadi",
    "Ebrahimi",
    "Hashemi",
    "Soltani",
    "Moradi",
    "Rostami",
    "Yazdani",
    "Tehrani",
    "Shirazi",
    "Farahani",
    "Najafi",
    "Mirzaei",
    "Abbasi",
    "Heydari",
    "Safavi",
    "Amini",
    "Golzari",
]
FIRST_FA = [
    "مریم",
    "زهرا",
    "فاطمه",
    "نرگس",
    "سارا",
    "پریسا",
    "نازنین",
    "الهام",
    "لیلا",
    "شیرین",
    "علی",
    "محمد",
    "حسین",
    "رضا",
    "مهدی",
    "امیر",
    "آرش",
    "کیان",
    "بابک",
    "سعید",
    "حمید",
    "فرهاد",
    "کاوه",
    "پویا",
    "یاسمن",
    "سپیده",
    "مهسا",
    "نیلوفر",
    "سمیه",
    "محسن",
]
LAST_FA = [
    "احمدی",
    "محمدی",
    "حسینی",
    "رضایی",
    "کریمی",
    "موسوی",
    "جعفری",
    "صادقی",
    "رحیمی",
    "نوری",
    "کاظمی",
    "قاسمی",
    "طاهری",
    "شریفی",
    "زارعی",
    "بهرامی",
    "اسدی",
    "ابراهیمی",
    "هاشمی",
    "سلطانی",
    "مرادی",
    "رستمی",
    "یزدانی",
    "تهرانی",
    "شیرازی",
    "فراهانی",
    "نجفی",
    "میرزایی",
    "عباسی",
    "حیدری",
    "امینی",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
MONTHS_SHORT = ["Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov", "Dec"]
FA_MONTHS = [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
]
STREETS_EN = [
    "Maple",
    "Oakwood",
    "Birch",
    "Cedar",
    "Willow",
    "Lakeshore",
    "Highfield",
    "Station",
    "Kingsway",
    "Victoria",
    "Queen",
    "Dundas",
    "Bloor",
    "Harbord",
    "Elm",
    "Chestnut",
]
STREET_TYPES = ["Street", "St.", "Road", "Rd", "Avenue", "Ave", "Crescent", "Lane", "Drive", "Blvd"]
CITIES = ["Toronto, ON", "Ottawa", "Hamilton ON", "Leeds", "Manchester", "Boston, MA", "Tehran"]
STREETS_FA = ["ولیعصر", "انقلاب", "آزادی", "شریعتی", "مطهری", "کارگر", "بهشتی", "فاطمی", "طالقانی"]
STREETS_FA_LATIN = ["Valiasr", "Enghelab", "Azadi", "Shariati", "Motahari", "Keshavarz", "Fatemi"]

# Clinical context used around the identifier notes and to build the clean notes. None of it
# identifies anyone: ages, grades, levels, measurements, genes, eponyms.
CONTEXT_EN = [
    "Mirror movements persist in both hands, worse on the left.",
    "Woods & Teuber grade {g} on finger tapping.",
    "MRI shows a tethered cord with the conus at {lv}.",
    "Known cervical myelomeningocele, repaired in infancy.",
    "Occipital dermal sinus excised, no recurrence.",
    "TMS showed ipsilateral MEPs from the {side} hemisphere.",
    "fMRI: bilateral M1 activation during unimanual tapping.",
    "Purdue pegboard {n} pins with the dominant hand.",
    "Syrinx {mm} mm at {cl}, unchanged.",
    "Chiari I with tonsils {mm} mm below the foramen magnum.",
    "Klippel-Feil fusion at {cl}.",
    "Power {p}/5 in the {side} ankle dorsiflexors.",
    "No new bladder symptoms.",
    "Gait stable, walks without aids.",
    "DCC testing pending.",
    "Continue physiotherapy.",
    "Follow up in {m} months.",
]
CONTEXT_FA = [
    "حرکات آینه‌ای در هر دو دست دیده می‌شود.",
    "درجه {g} در مقیاس وودز و تیوبر.",
    "در MRI نخاع گیرافتاده در سطح {lv} گزارش شد.",
    "سابقه مننگومیلوسل گردنی که در نوزادی ترمیم شده است.",
    "پیگیری {m} ماه بعد.",
    "قدرت عضلانی {p}/5 در اندام تحتانی {side_fa}.",
    "علامت جدید ادراری ندارد.",
    "فیزیوتراپی ادامه یابد.",
]
SIDES = ["left", "right"]
SIDES_FA = ["چپ", "راست"]
LEVELS = ["L1", "L2", "L3", "L4", "L5", "S1", "L2-L3", "L4-L5", "L5-S1"]
CLEVELS = ["C1-C2", "C2-C3", "C4", "C5-C6", "C6-C7", "C7-T1", "T2-T4"]


class Builder:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def pick(self, items: list[str]) -> str:
        return self.r.choice(items)

    def fill(self, template: str) -> str:
        r = self.r
        return template.format(
            g=r.randint(0, 4),
            lv=self.pick(LEVELS),
            cl=self.pick(CLEVELS),
            side=self.pick(SIDES),
            side_fa=self.pick(SIDES_FA),
            n=r.randint(6, 16),
            mm=r.choice(["2", "3.5", "4", "5.2", "6", "7.5"]),
            p=r.randint(2, 5),
            m=r.choice([3, 4, 6, 9, 12]),
        )

    def context(self, lang: str) -> str:
        pool = CONTEXT_FA if lang == "fa" else CONTEXT_EN
        return self.fill(self.pick(pool))

    def wrap(self, sentence: str, lang: str) -> str:
        """Put the identifier sentence somewhere among zero to two context sentences."""
        before = [self.context(lang) for _ in range(self.r.randint(0, 1))]
        after = [self.context(lang) for _ in range(self.r.randint(0, 1))]
        return " ".join([*before, sentence, *after])

    # --- names ---------------------------------------------------------------------------

    def latin_name(self) -> str:
        if self.r.random() < 0.5:
            return f"{self.pick(FIRST_EN)} {self.pick(LAST_EN)}"
        return f"{self.pick(FIRST_FA_LATIN)} {self.pick(LAST_FA_LATIN)}"

    def fa_name(self) -> str:
        return f"{self.pick(FIRST_FA)} {self.pick(LAST_FA)}"

    def name_untitled_en(self) -> tuple[str, str, str]:
        name = self.latin_name()
        template = self.pick(
            [
                "seen by {n} in the spina bifida clinic today",
                "Reviewed with {n} (physio) - agrees with plan.",
                "examined by {n}, neurology fellow",
                "Assessment done by {n} this am.",
                "{n} performed the TMS session.",
                "Discussed at MDT; {n} to book the MRI.",
                "pt was referred by {n} from the rehab unit",
                "Fine motor testing with {n}, OT.",
                "Consent taken by {n}.",
                "called {n} re: urodynamics results",
                "Note entered by {n}",
                "Case presented to {n} who suggests repeat fMRI.",
            ]
        )
        return template.format(n=name), name, "en"

    def name_untitled_fa(self) -> tuple[str, str, str]:
        name = self.fa_name()
        template = self.pick(
            [
                "بیمار توسط {n} ویزیت شد.",
                "معاینه توسط {n} انجام شد.",
                "با {n} (فیزیوتراپ) هماهنگ شد.",
                "ارجاع از طرف {n}.",
                "{n} نوار عصب را انجام داد.",
                "ثبت کننده: {n}",
            ]
        )
        return template.format(n=name), name, "fa"

    def name_parent(self) -> tuple[str, str, str]:
        if self.r.random() < 0.3:
            name = self.fa_name()
            template = self.pick(
                [
                    "مادر بیمار، {n}، همراه بود.",
                    "پدر: {n}",
                    "همراه بیمار {n} (مادر) است.",
                ]
            )
            return template.format(n=name), name, "fa"
        name = self.latin_name()
        template = self.pick(
            [
                "Mother {n} reports more mirroring when tired.",
                "mum ({n}) says handwriting is slower",
                "Father, {n}, attended with the child.",
                "accompanied by her dad {n}",
                "Parents: {n} and spouse, both well.",
                "Guardian {n} signed the consent.",
                "History from the mother, {n}.",
                "his mom {n} noticed the mirroring at age 4",
            ]
        )
        return template.format(n=name), name, "en"

    def title_lowercase(self) -> tuple[str, str, str]:
        surname = self.pick(LAST_EN + LAST_FA_LATIN)
        first = self.pick(FIRST_EN + FIRST_FA_LATIN)
        shape = self.r.randint(0, 3)
        if shape == 0:
            name = f"dr. {surname.lower()}"
        elif shape == 1:
            name = f"dr. {surname}"
        elif shape == 2:
            name = f"dr {first} {surname}"
        else:
            name = f"dr.{surname}"
        template = self.pick(
            [
                "d/w {n}, ok to proceed with detethering",
                "per {n}: repeat MRI in a year",
                "{n} reviewed the TMS traces",
                "Referred to {n} for urology.",
                "Letter sent to {n}.",
                "plan agreed with {n} on the ward round",
            ]
        )
        return template.format(n=name), name, "en"

    # --- numbers -------------------------------------------------------------------------

    def digits(self, n: int) -> str:
        return "".join(str(self.r.randint(0, 9)) for _ in range(n))

    def phone_intl(self) -> tuple[str, str, str]:
        shape = self.r.randint(0, 5)
        if shape == 0:
            number = f"+44 20 7946 0{self.digits(3)}"
        elif shape == 1:
            number = f"+1 416 555 {self.digits(4)}"
        elif shape == 2:
            number = f"+98 21 {self.digits(4)} {self.digits(4)}"
        elif shape == 3:
            number = f"+1 (613) 555-{self.digits(4)}"
        elif shape == 4:
            number = f"0044 161 {self.digits(3)} {self.digits(4)}"
        else:
            number = f"+49 30 {self.digits(3)} {self.digits(4)}"
        template = self.pick(
            [
                "Family relocated, new contact {p}",
                "reachable on {p} after 5pm",
                "Aunt abroad can be called at {p}.",
                "ph {p} (home)",
                "Call back: {p}",
                "Contact number {p} for the research nurse.",
            ]
        )
        return template.format(p=number), number, "en"

    def ir_mobile_digits(self) -> str:
        return "09" + self.pick(["12", "13", "19", "35", "36", "01", "21", "91"]) + self.digits(7)

    def mobile_ir(self) -> tuple[str, str, str]:
        m = self.ir_mobile_digits()
        shape = self.r.randint(0, 6)
        if shape == 0:
            number, lang = f"Tel: {m}", "en"
        elif shape == 1:
            number, lang = f"Tel: {m[:4]} {m[4:7]} {m[7:]}", "en"
        elif shape == 2:
            number, lang = f"tel:{m[:4]}-{m[4:7]}-{m[7:]}", "en"
        elif shape == 3:
            number, lang = f"Tel.: +98 {m[1:4]} {m[4:7]} {m[7:]}", "en"
        elif shape == 4:
            number, lang = f"TEL {m}", "en"
        elif shape == 5:
            number, lang = f"تلفن: {m.translate(FA_DIGITS)}", "fa"
        else:
            number, lang = f"Tel: {m[:4]} {m[4:]}".translate(FA_DIGITS), "fa"
        if lang == "fa":
            template = self.pick(
                [
                    "شماره تماس مادر {p}",
                    "{p} (همراه پدر)",
                    "برای نوبت بعدی: {p}",
                ]
            )
        else:
            template = self.pick(
                [
                    "Mother's mobile - {p}",
                    "{p} (father)",
                    "Parents' {p}; prefer WhatsApp",
                    "For appointments {p}",
                ]
            )
        return template.format(p=number), number, lang

    def record_number(self) -> tuple[str, str, str]:
        shape = self.r.randint(0, 7)
        if shape == 0:
            value = f"MRN: {self.digits(8)}"
        elif shape == 1:
            value = f"Hospital no: {self.digits(2)}-{self.digits(5)}"
        elif shape == 2:
            value = f"Chart # {self.digits(6)}"
        elif shape == 3:
            value = f"medical record number: {self.r.choice('ABKM')}{self.digits(7)}"
        elif shape == 4:
            value = f"mrn {self.digits(7)}"
        elif shape == 5:
            value = f"Hosp. No. {self.digits(3)} {self.digits(4)}"
        elif shape == 6:
            value = f"chart#{self.digits(5)}"
        else:
            value = f"شماره پرونده: {self.digits(6).translate(FA_DIGITS)}"
            return self.pick(["{v}", "بیمار با {v} بستری شد."]).format(v=value), value, "fa"
        template = self.pick(
            [
                "{v} - admitted for detethering",
                "old notes under {v}",
                "Imaging filed with {v}.",
                "({v})",
                "Transferred; {v} at the referring centre.",
            ]
        )
        return template.format(v=value), value, "en"

    def ir_national_code(self) -> str:
        while True:
            body = [self.r.randint(0, 9) for _ in range(9)]
            if len(set(body)) > 1:
                break
        total = sum(d * (10 - i) for i, d in enumerate(body))
        rest = total % 11
        check = rest if rest < 2 else 11 - rest
        return "".join(map(str, body)) + str(check)

    def sin(self) -> str:
        while True:
            body = [self.r.randint(1, 9)] + [self.r.randint(0, 9) for _ in range(7)]
            for check in range(10):
                digits = [*body, check]
                total = 0
                for i, d in enumerate(digits):
                    if i % 2 == 1:
                        d *= 2
                        d = d - 9 if d > 9 else d
                    total += d
                if total % 10 == 0 and digits[0] not in (0, 8):
                    return "".join(map(str, digits))

    def ssn(self) -> str:
        while True:
            area = self.r.randint(1, 899)
            if area != 666:
                break
        return f"{area:03d}-{self.r.randint(1, 99):02d}-{self.r.randint(1, 9999):04d}"

    def national_id(self) -> tuple[str, str, str]:
        shape = self.r.randint(0, 8)
        if shape <= 4:
            code = self.ir_national_code()
            if shape == 0:
                value, lang = f"national code {code}", "en"
            elif shape == 1:
                value, lang = f"کد ملی: {code.translate(FA_DIGITS)}", "fa"
            elif shape == 2:
                value, lang = f"NID {code[:3]}-{code[3:9]}-{code[9]}", "en"
            elif shape == 3:
                value, lang = f"کدملی {code}", "fa"
            else:
                value, lang = f"melli code: {code}", "en"
        elif shape <= 6:
            s = self.sin()
            if shape == 5:
                value = f"SIN {s[:3]} {s[3:6]} {s[6:]}"
            else:
                value = f"S.I.N. {s[:3]}-{s[3:6]}-{s[6:]}"
            lang = "en"
        else:
            n = self.ssn()
            value = f"SSN {n}" if shape == 7 else f"social security no. {n.replace('-', ' ')}"
            lang = "en"
        if lang == "fa":
            template = self.pick(["{v}", "{v} (مادر)", "بیمه با {v} ثبت شد."])
        else:
            template = self.pick(
                [
                    "Insurance form: {v}",
                    "{v} - for travel reimbursement",
                    "parent's {v} on the consent",
                    "Registered under {v}.",
                ]
            )
        return template.format(v=value), value, lang

    # --- places, dates, network ----------------------------------------------------------

    def address(self) -> tuple[str, str, str]:
        shape = self.r.randint(0, 4)
        if shape <= 2:
            number = self.r.randint(2, 4800)
            unit = self.r.choice(
                ["", "", f"Apt {self.r.randint(1, 40)}, ", f"Unit {self.r.randint(1, 9)}-"]
            )
            value = f"{unit}{number} {self.pick(STREETS_EN)} {self.pick(STREET_TYPES)}"
            if shape == 1:
                value += f", {self.pick(CITIES)}"
            template = self.pick(
                [
                    "Family moved to {a}",
                    "lives at {a} with grandparents",
                    "home visit done ({a})",
                    "Send the letter to {a}.",
                ]
            )
            return template.format(a=value), value, "en"
        if shape == 3:
            value = (
                f"No. {self.r.randint(1, 120)}, {self.pick(STREETS_FA_LATIN)} St., "
                f"alley {self.r.randint(1, 30)}"
            )
            return f"Address: {value}, Tehran", value, "en"
        value = (
            f"خیابان {self.pick(STREETS_FA)}، کوچه {self.r.randint(1, 30)}، "
            f"پلاک {self.r.randint(1, 200)}"
        ).translate(FA_DIGITS)
        template = self.pick(["نشانی: {a}", "منزل در {a} است.", "آدرس جدید {a}"])
        return template.format(a=value), value, "fa"

    def date_partial(self) -> tuple[str, str, str]:
        r = self.r
        day = r.randint(1, 28)
        suffix = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(day, "th")
        shape = r.randint(0, 8)
        if shape == 0:
            value = f"on {self.pick(MONTHS)} {day}{suffix}"
        elif shape == 1:
            value = f"{day:02d}-{r.randint(1, 12):02d}-{r.randint(15, 24)}"
        elif shape == 2:
            value = f"on the {day}{suffix} of {self.pick(MONTHS_SHORT)}"
        elif shape == 3:
            value = f"{r.randint(1, 12)}/{day}/{r.randint(15, 24)}"
        elif shape == 4:
            value = f"{day} {self.pick(MONTHS_SHORT)}"
        elif shape == 5:
            value = f"{self.pick(MONTHS)} {day}"
        elif shape == 6:
            value = f"{day}.{r.randint(1, 12):02d}.{r.randint(2015, 2024)}"
        elif shape == 7:
            value = f"{r.randint(1395, 1403)}/{r.randint(1, 12):02d}/{day:02d}".translate(FA_DIGITS)
            sentence = self.pick(["جراحی در تاریخ {d} انجام شد.", "ویزیت {d}"])
            return sentence.format(d=value), value, "fa"
        else:
            value = f"{day} {self.pick(FA_MONTHS)}".translate(FA_DIGITS)
            return self.pick(["بستری از {d}", "نوبت بعدی {d}"]).format(d=value), value, "fa"
        template = self.pick(
            [
                "Detethering {d}, uneventful.",
                "seen {d} for the TMS study",
                "last MRI {d}: stable syrinx",
                "Next review {d}",
                "symptoms worse since {d}",
            ]
        )
        return template.format(d=value), value, "en"

    def email(self) -> tuple[str, str, str]:
        first = self.pick(FIRST_EN + FIRST_FA_LATIN).lower()
        last = self.pick(LAST_EN + LAST_FA_LATIN).lower().replace("'", "")
        user = self.pick(
            [
                f"{first}.{last}",
                f"{first}{self.r.randint(1, 99)}",
                f"{first[0]}{last}",
                f"{last}_{first}",
            ]
        )
        domain = self.pick(
            [
                "gmail.com",
                "yahoo.com",
                "outlook.com",
                "hotmail.co.uk",
                "sickkids.ca",
                "tums.ac.ir",
                "mail.utoronto.ca",
                "chmail.ir",
            ]
        )
        value = f"{user}@{domain}"
        template = self.pick(
            [
                "Send the questionnaire to {e}",
                "parent email {e}",
                "<{e}> prefers contact by mail",
                "results emailed ({e})",
                "ایمیل مادر: {e}",
            ]
        )
        lang = "fa" if template.startswith("ایمیل") else "en"
        return template.format(e=value), value, lang

    def ipv4(self) -> tuple[str, str, str]:
        r = self.r
        value = self.pick(
            [
                f"192.168.{r.randint(0, 20)}.{r.randint(2, 254)}",
                f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 254)}",
                f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(2, 254)}",
                f"203.0.113.{r.randint(2, 254)}",
                f"198.51.100.{r.randint(2, 254)}",
            ]
        )
        template = self.pick(
            [
                "Upload failed from workstation {i}",
                "EEG export on host {i}",
                "submitted from IP {i}",
                "the TMS laptop ({i}) needs the new software",
                "login attempts seen from {i}",
            ]
        )
        return template.format(i=value), value, "en"

    def ipv6(self) -> tuple[str, str, str]:
        r = self.r

        def h() -> str:
            return f"{r.randint(0, 0xFFFF):x}"

        value = self.pick(
            [
                f"2001:db8:{h()}:{h()}::{h()}",
                f"2001:0db8:{r.randint(0, 0xFFFF):04x}:{r.randint(0, 0xFFFF):04x}:"
                f"{r.randint(0, 0xFFFF):04x}:{r.randint(0, 0xFFFF):04x}:"
                f"{r.randint(0, 0xFFFF):04x}:{r.randint(0, 0xFFFF):04x}",
                f"fe80::{h()}:{h()}:{h()}:{h()}",
                f"2a01:5ec0:{h()}::{h()}",
            ]
        )
        template = self.pick(
            [
                "Upload came from {i}",
                "device address {i}",
                "the scanner console at {i} was offline",
                "IPv6 {i} blocked after failed logins",
            ]
        )
        return template.format(i=value), value, "en"

    # --- clinical notes without an identifier ---------------------------------------------

    def hgvs(self) -> str:
        r = self.r
        gene = self.pick(["DCC", "RAD51", "DNAL4", "NTN1"])
        transcript = {
            "DCC": "NM_005215.4",
            "RAD51": "NM_002875.5",
            "DNAL4": "NM_005740.3",
            "NTN1": "NM_004822.3",
        }[gene]
        aa = self.pick(["Arg", "Gly", "Leu", "Ser", "Trp", "Gln", "Cys", "Tyr"])
        aa2 = self.pick(["His", "Ter", "Pro", "Phe", "Val", "*"])
        pos = r.randint(40, 4400)
        base = self.pick(["A", "C", "G", "T"])
        return self.pick(
            [
                f"{gene} {transcript}:c.{pos}{base}>{self.pick(['A', 'C', 'G', 'T'])} "
                f"(p.{aa}{pos // 3 + 1}{aa2})",
                f"{transcript}({gene}):c.{pos}+{r.randint(1, 5)}G>A",
                f"{gene} c.{pos}_{pos + r.randint(1, 9)}del p.({aa}{pos // 3}fs)",
                f"NC_0000{self.pick(['18.10', '15.10'])}:g.{r.randint(10_000_000, 99_999_999)}"
                f"{base}>{self.pick(['A', 'C', 'G', 'T'])}",
                f"{gene} exon {r.randint(1, 29)} c.{pos}dup",
            ]
        )

    def microarray(self) -> str:
        r = self.r
        chrom, band = self.pick(
            [("18", "q21.2"), ("15", "q11.2"), ("16", "p11.2"), ("22", "q11.21"), ("1", "q21.1")]
        )
        start = r.randint(1_000_000, 90_000_000)
        end = start + r.randint(80_000, 3_000_000)
        build = self.pick(["GRCh37", "GRCh38", "hg19"])
        copies = self.pick(["x1", "x3", "x0"])
        return self.pick(
            [
                f"arr[{build}] {chrom}{band}({start:,}-{end:,}){copies}",
                f"arr[{build}] {chrom}{band}({start}_{end}){copies}",
                f"chr{chrom}:{start:,}-{end:,} ({(end - start) // 1000} kb) {copies}",
                f"CNV {chrom}{band} {start}-{end} {build}",
            ]
        )

    def clinical_en(self) -> str:
        r = self.r
        sentences = [
            f"{r.randint(3, 17)}-year-old {self.pick(['girl', 'boy'])} with mirror movements "
            f"since age {r.randint(2, 8)}.",
            f"Woods & Teuber grade {r.randint(1, 4)} right, {r.randint(0, 3)} left.",
            f"Cervical myelomeningocele at {self.pick(CLEVELS)}, closed at {r.randint(1, 9)} days.",
            f"Occipital dermal sinus, tract {r.choice(['1.5', '2', '3'])} cm, no dermoid.",
            f"Tethered cord: conus at {self.pick(LEVELS)}, filum {r.choice(['2', '2.5', '3'])} mm.",
            f"TMS: RMT {r.randint(35, 75)}% MSO, ipsilateral MEP latency "
            f"{r.randint(15, 25)}.{r.randint(0, 9)} ms, amplitude "
            f"{r.randint(1, 9)}.{r.randint(0, 9)} mV.",
            f"fMRI laterality index {r.choice(['0.12', '0.35', '-0.08', '0.6'])} "
            "during finger tapping.",
            f"Variant {self.hgvs()}, ACMG class {self.pick(['3', '4', '5'])}.",
            f"Microarray: {self.microarray()}.",
            f"Chiari {self.pick(['I', 'II', '1.5'])} malformation, tonsils "
            f"{r.randint(3, 14)} mm below FM.",
            f"Klippel-Feil type {r.randint(1, 3)} with fusion {self.pick(CLEVELS)}.",
            f"Syrinx {self.pick(CLEVELS)} measuring {r.randint(2, 9)} x {r.randint(2, 9)} mm.",
            f"MRC power {r.randint(2, 5)}/5 hip flexors, reflexes {self.pick(['2+', '3+', '1+'])}.",
            f"Modified Ashworth {self.pick(['1', '1+', '2'])} in the calves.",
            f"GMFCS level {self.pick(['I', 'II', 'III'])}, MACS {self.pick(['I', 'II'])}.",
            f"Weight {r.randint(14, 60)}.{r.randint(0, 9)} kg, height {r.randint(95, 170)} cm, "
            f"HC {r.randint(46, 56)}.{r.randint(0, 9)} cm.",
            f"BP {r.randint(90, 120)}/{r.randint(55, 80)}, HR {r.randint(60, 110)}, "
            f"SpO2 {r.randint(95, 100)}%.",
            f"Purdue pegboard {r.randint(6, 16)}/{r.randint(6, 16)}/{r.randint(4, 12)} (R/L/both).",
            f"Detethering done in {r.randint(2012, 2024)}; re-tethering suspected.",
            f"Urodynamics: bladder capacity {r.randint(80, 400)} mL, detrusor pressure "
            f"{r.randint(10, 60)} cmH2O.",
            f"DTI: FA {r.choice(['0.41', '0.52', '0.38'])} in the corticospinal tract at "
            f"C{r.randint(2, 7)}.",
            f"Diastematomyelia split at {self.pick(['T10-T12', 'L1-L2', 'T8-L1'])}, type "
            f"{self.pick(['I', 'II'])}.",
            f"Lipomyelomeningocele {self.pick(LEVELS)}; Hoffmann sign negative, Babinski "
            f"{self.pick(['flexor', 'extensor'])}.",
            f"Romberg negative; Fog test mirroring score {r.randint(0, 12)}.",
            f"EMG shows bilateral activation of FDI, coherence {r.choice(['0.2', '0.45'])} at "
            f"{r.randint(15, 30)} Hz.",
            f"Preprocessed in FSL {self.pick(['6.0.7.4', '6.0.5', '5.0.11'])} and SPM12 "
            f"(v{r.randint(7000, 7800)}).",
            f"Scoliosis Cobb angle {r.randint(10, 45)} degrees "
            f"T{r.randint(4, 8)}-L{r.randint(1, 3)}.",
            f"IQ (WISC-V) {r.randint(70, 120)}, processing speed {r.randint(70, 110)}.",
            f"Shunt setting {r.randint(1, 2)}.{r.randint(0, 5)}, Strata valve, no revision.",
            f"Sample DNA-{r.randint(1, 9)} sent, turnaround {r.randint(4, 12)} weeks.",
            f"VAS pain {r.randint(0, 10)}/10, Oswestry {r.randint(0, 40)}%.",
            f"Gene panel of {r.randint(20, 300)} genes, coverage {r.randint(95, 100)}% at 20x.",
            "No family history of mirror movements; parents unaffected.",
            "Sister is also affected with mirror movements.",
            "Dad reports the mirroring lessened after puberty.",
            "Mother's pregnancy uneventful, folate taken.",
            "Plan: repeat TMS and review in clinic.",
            "Will discuss with neurosurgery at next MDT.",
            "Spina bifida occulta noted at S1 incidentally.",
        ]
        count = r.randint(2, 4)
        return " ".join(r.sample(sentences, count))

    def clinical_fa(self) -> str:
        r = self.r
        fa = lambda n: str(n).translate(FA_DIGITS)  # noqa: E731
        sentences = [
            f"بیمار {self.pick(['دختر', 'پسر'])} {fa(r.randint(3, 17))} ساله با حرکات آینه‌ای از "
            f"سن {fa(r.randint(2, 8))} سالگی.",
            f"درجه وودز و تیوبر {fa(r.randint(1, 4))} در دست راست.",
            f"مننگومیلوسل گردنی در سطح {self.pick(CLEVELS)}.",
            f"سینوس درمال اکسیپیتال به طول {fa(r.randint(1, 3))} سانتیمتر.",
            f"نخاع گیرافتاده با کونوس در سطح {self.pick(LEVELS)}.",
            f"در TMS آستانه حرکتی {fa(r.randint(35, 75))}٪ و تاخیر "
            f"{fa(r.randint(15, 25))}٫{fa(r.randint(0, 9))} میلی‌ثانیه.",
            f"واریانت {self.hgvs()} در ژن DCC.",
            f"نتیجه میکروارای: {self.microarray()}.",
            f"وزن {fa(r.randint(14, 60))} کیلوگرم، قد {fa(r.randint(95, 170))} سانتیمتر.",
            f"مالفورماسیون کیاری نوع {self.pick(['I', 'II'])}.",
            f"قدرت عضلانی {fa(r.randint(2, 5))}/۵ در مچ پا.",
            f"فشار خون {fa(r.randint(90, 120))}/{fa(r.randint(55, 80))}.",
            f"پیگیری {fa(r.randint(3, 12))} ماه بعد با MRI.",
            "سابقه خانوادگی حرکات آینه‌ای ندارد.",
            "مادر بیمار می‌گوید دستخط کند شده است.",
            "سندرم کلیپل فیل با فیوژن مهره‌های گردنی.",
            f"fMRI فعال شدن دو طرفه قشر حرکتی را نشان داد، شاخص {fa('0.3')}.",
        ]
        return " ".join(r.sample(sentences, r.randint(2, 3)))


def build() -> list[dict[str, str]]:
    b = Builder(SEED)
    makers = {
        "name_untitled_en": b.name_untitled_en,
        "name_untitled_fa": b.name_untitled_fa,
        "name_parent": b.name_parent,
        "title_lowercase": b.title_lowercase,
        "phone_international": b.phone_intl,
        "mobile_ir_tel": b.mobile_ir,
        "record_number": b.record_number,
        "national_id": b.national_id,
        "street_address": b.address,
        "date_partial": b.date_partial,
        "email": b.email,
        "ipv4": b.ipv4,
        "ipv6": b.ipv6,
    }
    notes: list[dict[str, str]] = []
    for kind, make in makers.items():
        count = PER_KIND * 2 if kind == "national_id" else PER_KIND
        for _ in range(count):
            sentence, identifier, lang = make()
            notes.append(
                {
                    "kind": kind,
                    "lang": lang,
                    "text": b.wrap(sentence, lang),
                    "identifier": identifier,
                }
            )
    for i in range(CLINICAL):
        lang = "fa" if i % 4 == 3 else "en"
        text = b.clinical_fa() if lang == "fa" else b.clinical_en()
        notes.append({"kind": "clinical", "lang": lang, "text": text, "identifier": ""})
    return notes


if __name__ == "__main__":
    notes = build()
    OUT.write_text(json.dumps(notes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(notes)} notes written to {OUT}")
