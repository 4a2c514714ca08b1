# ruff: noqa: RUF001, E501
"""Build the identifier screen's test set: `python tests/formengine/phi_set/build.py`.

Writes notes.json beside this file: synthetic notes, each with the kind of identifier it holds
("clinical" for none). Names are drawn from common-name lists and joined at random, numbers
are generated (national codes and SINs with valid check digits): no real person is described.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

R = random.Random(15)
FIRST = [
    "James",
    "Mary",
    "Robert",
    "Linda",
    "Michael",
    "Sarah",
    "David",
    "Emily",
    "Thomas",
    "Laura",
    "Daniel",
    "Anna",
    "Peter",
    "Helen",
    "Ali",
    "Reza",
    "Maryam",
    "Zahra",
    "Fatemeh",
    "Mehdi",
    "Hossein",
    "Narges",
    "Leila",
    "Amir",
    "Sara",
    "Omid",
    "Nima",
]
LAST = [
    "Smith",
    "Johnson",
    "Brown",
    "Miller",
    "Davis",
    "Garcia",
    "Wilson",
    "Anderson",
    "Clark",
    "Lewis",
    "Young",
    "King",
    "Ahmadi",
    "Hosseini",
    "Mohammadi",
    "Rezaei",
    "Karimi",
    "Moradi",
    "Jafari",
    "Rahimi",
    "Kazemi",
    "Tehrani",
    "Alizadeh",
    "Hashemi",
]
FA_FIRST = [
    "علی",
    "رضا",
    "مریم",
    "زهرا",
    "فاطمه",
    "مهدی",
    "حسین",
    "نرگس",
    "لیلا",
    "امیر",
    "سارا",
    "نیما",
    "پریسا",
    "حمید",
    "شیرین",
]
FA_LAST = [
    "احمدی",
    "حسینی",
    "محمدی",
    "رضایی",
    "کریمی",
    "مرادی",
    "جعفری",
    "رحیمی",
    "کاظمی",
    "تهرانی",
    "علیزاده",
    "هاشمی",
    "حسن‌پور",
    "کریمیان",
]
FA_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
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
FA_MONTHS = ["فروردین", "اردیبهشت", "خرداد", "مرداد", "شهریور", "آبان", "آذر", "بهمن", "اسفند"]


def pick(items: list[str]) -> str:
    return R.choice(items)


def digits(n: int) -> str:
    return "".join(str(R.randint(0, 9)) for _ in range(n))


def national_code() -> str:
    while True:
        body = digits(9)
        total = sum(int(body[i]) * (10 - i) for i in range(9)) % 11
        check = total if total < 2 else 11 - total
        if len(set(body)) > 1:
            return body + str(check)


def sin() -> str:
    while True:
        body = str(R.randint(1, 7)) + digits(7)
        for check in range(10):
            number = body + str(check)
            total = 0
            for pos, ch in enumerate(reversed(number)):
                v = int(ch) * (2 if pos % 2 else 1)
                total += v - 9 if v > 9 else v
            if total % 10 == 0:
                return f"{number[:3]} {number[3:6]} {number[6:]}"


def fa(text: str) -> str:
    return text.translate(FA_DIGITS)


def full() -> str:
    return f"{pick(FIRST)} {pick(LAST)}"


def fa_full() -> str:
    return f"{pick(FA_FIRST)} {pick(FA_LAST)}"


KINDS = {
    "name": [
        lambda: f"Seen by {full()} in the neurosurgery clinic.",
        lambda: f"Mirror movements reviewed with {full()} today.",
        lambda: f"Parents {pick(FIRST)} and {pick(FIRST)} {pick(LAST)} consented to TMS.",
        lambda: f"Mother {pick(FIRST)} reports bimanual difficulty.",
        lambda: f"{full()} examined the dermal sinus; no discharge.",
        lambda: f"Referred by {full()} for tethered cord release.",
        lambda: f"father: {pick(FIRST)} {pick(LAST)}, carrier of the DCC variant",
        lambda: f"dr. {pick(LAST).lower()} reviewed the fMRI.",
        lambda: f"dr {pick(LAST)} to repeat the microarray",
        lambda: f"ارجاع از {fa_full()} برای جراحی",
        lambda: f"ویزیت توسط {fa_full()} انجام شد.",
        lambda: f"مادر بیمار {pick(FA_FIRST)} حرکات آینه‌ای دارد.",
        lambda: f"دکتر {pick(FA_LAST)} ام‌آر‌آی را بررسی کرد.",
        lambda: f"نام: {pick(FA_FIRST)}",
    ],
    "phone": [
        lambda: f"Tel: 0912 {digits(3)} {digits(4)}",
        lambda: f"call +98 912 {digits(3)} {digits(4)} for results",
        lambda: f"mother's mobile 0935{digits(7)}",
        lambda: f"phone +44 20 {digits(4)} {digits(4)}",
        lambda: f"reachable at +1 416 {digits(3)} {digits(4)}",
        lambda: f"(555) {digits(3)}-{digits(4)} after 5 pm",
        lambda: f"تلفن: {fa('0912 ' + digits(3) + ' ' + digits(4))}",
        lambda: f"شماره همراه {fa('0919' + digits(7))}",
    ],
    "record_number": [
        lambda: f"MRN: {digits(6)}",
        lambda: f"Hospital no: {digits(R.randint(2, 8))}",
        lambda: f"Chart # {digits(5)}",
        lambda: f"medical record number: {digits(7)}",
        lambda: f"record no. A-{digits(5)} reviewed",
        lambda: f"شماره پرونده {fa(digits(6))}",
        lambda: f"شماره پرونده: {digits(5)}",
        lambda: f"file no {digits(4)} at the spina bifida clinic",
    ],
    "national_id": [
        lambda: f"national code {national_code()}",
        lambda: f"کد ملی {fa(national_code())}",
        lambda: f"کد ملی: {national_code()}",
        lambda: f"his number is {national_code()} on the form",
        lambda: f"SIN {sin()}",
        lambda: f"social insurance {sin()} noted",
        lambda: f"SSN {digits(3)}-{digits(2)}-{digits(4)}",
    ],
    "address": [
        lambda: f"lives at {R.randint(1, 999)} {pick(LAST)} Street, near the clinic",
        lambda: f"{R.randint(1, 99)} Oak Avenue",
        lambda: f"home: {R.randint(1, 300)} Maple Road",
        lambda: f"apt {R.randint(1, 40)}, referred for shunt review",
        lambda: f"تهران، خیابان ولیعصر، کوچه {fa(str(R.randint(1, 30)))}، پلاک {fa(str(R.randint(1, 99)))}",
        lambda: f"آدرس: بلوار کشاورز، پلاک {R.randint(1, 99)}",
        lambda: "منزل در خیابان آزادی",
    ],
    "date": [
        lambda: f"MRI on {pick(MONTHS)} {R.randint(1, 28)}{pick(['st', 'nd', 'rd', 'th', ''])}",
        lambda: f"operated on {R.randint(1, 28)} {pick(MONTHS)}",
        lambda: f"seen {R.randint(1, 28):02d}-{R.randint(1, 12):02d}-{R.randint(10, 24)}",
        lambda: f"born {R.randint(1, 28)}/{R.randint(1, 12)}/{R.randint(2005, 2022)}",
        lambda: f"scan {R.randint(2010, 2024)}-{R.randint(1, 12):02d}-{R.randint(1, 28):02d}",
        lambda: f"surgery in {pick(MONTHS)} {R.randint(2010, 2024)}",
        lambda: f"تاریخ جراحی {fa(f'14{R.randint(0, 3):02d}/{R.randint(1, 12):02d}/{R.randint(1, 29):02d}')}",
        lambda: f"در {fa(str(R.randint(1, 29)))} {pick(FA_MONTHS)} ویزیت شد",
        lambda: f"{pick(FA_MONTHS)} {fa(str(R.randint(1395, 1403)))} جراحی شد",
        lambda: "follow-up last Tuesday",
    ],
    "ip_address": [
        lambda: f"uploaded from {R.randint(10, 223)}.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}",
        lambda: f"host 2001:db8:{R.randint(1, 9999):x}::{R.randint(1, 999):x}",
        lambda: f"آی‌پی {R.randint(10, 200)}.{R.randint(0, 255)}.1.{R.randint(1, 254)}",
    ],
    "email": [
        lambda: f"email {pick(FIRST).lower()}.{pick(LAST).lower()}@example.org",
        lambda: f"ایمیل: {pick(LAST).lower()}{R.randint(1, 99)}@mail.example.ir",
    ],
}

CLINICAL = [
    lambda: f"Mirror movements Woods & Teuber grade {R.randint(0, 4)} on the left hand.",
    lambda: f"Congenital mirror movements; DCC c.{R.randint(100, 4000)}{pick('ACGT')}>{pick('ACGT')} heterozygous.",
    lambda: f"RAD51 NM_002875.{R.randint(3, 5)}:c.{R.randint(50, 999)}+{R.randint(1, 5)}G>A, likely pathogenic.",
    lambda: f"arr[GRCh37] 16p11.2({R.randint(29000000, 29600000)}_{R.randint(30000000, 30300000)})x1",
    lambda: f"chr16:{R.randint(29, 30)},{R.randint(100, 999)},{R.randint(100, 999)}-{R.randint(30, 31)},{R.randint(100, 999)},{R.randint(100, 999)} deletion",
    lambda: f"g.{R.randint(1000000, 9999999)}_{R.randint(10000000, 19999999)}del on the microarray",
    lambda: f"Myelomeningocele at L{R.randint(1, 5)}-S{R.randint(1, 2)}, closed at {R.randint(1, 5)} days.",
    lambda: f"Tethered cord released at {R.randint(2, 15)} years; conus at L{R.randint(1, 4)}.",
    lambda: f"Dermal sinus tract T{R.randint(10, 12)}–L{R.randint(1, 2)} with a dermoid, {R.randint(5, 20)} x {R.randint(3, 12)} mm.",
    lambda: f"Vertebral levels C{R.randint(1, 3)}-C{R.randint(4, 7)} fused (Klippel-Feil).",
    lambda: f"TMS: ipsilateral MEPs at {R.randint(40, 90)}% MSO, latency {R.randint(15, 25)}.{R.randint(0, 9)} ms.",
    lambda: f"fMRI shows bilateral M1 activation; laterality index {R.randint(0, 9)}.{R.randint(10, 99)}.",
    lambda: f"Chiari II, VP shunt at {R.randint(1, 12)} months, revised at {R.randint(13, 48)} months.",
    lambda: f"HP:{R.randint(1, 9999999):07d} and ORPHA:{R.randint(1000, 999999)} recorded.",
    lambda: f"OMIM:{R.randint(100000, 699999)} familial mirror movements.",
    lambda: f"Age {R.randint(2, 17)} years {R.randint(0, 11)} months; weight {R.randint(10, 60)}.{R.randint(0, 9)} kg.",
    lambda: f"Edinburgh handedness score {R.randint(-100, 100)}; Purdue pegboard {R.randint(5, 16)}.",
    lambda: f"Ashworth {R.randint(0, 4)}, MRC power {R.randint(0, 5)}/5 in the left ankle.",
    lambda: f"Arnold Chiari malformation with syrinx C{R.randint(2, 5)}-T{R.randint(1, 8)}.",
    lambda: f"Gene panel (Illumina) negative; exome reanalysis planned in {R.randint(6, 24)} months.",
    lambda: f"Platelets {R.randint(1, 4)} {R.randint(100, 999)} 000; Hb {R.randint(9, 15)}.{R.randint(0, 9)}.",
    lambda: f"Symptoms between {R.randint(2, 10)}-{R.randint(11, 20)} months, may improve.",
    lambda: f"Grades 1 2 3 {R.randint(0, 4)} 2 1 0 over the sessions.",
    lambda: f"rs{R.randint(1000000, 99999999)} homozygous; SNP array GRCh38.",
    lambda: f"Urodynamics: capacity {R.randint(80, 400)} ml, detrusor pressure {R.randint(10, 60)} cmH2O.",
    lambda: f"Lumbosacral lipoma, filum {R.randint(1, 4)} mm; untethering at {R.randint(1, 10)} years.",
    lambda: f"حرکات آینه‌ای درجه {fa(str(R.randint(0, 4)))} در دست چپ",
    lambda: f"میلومننگوسل در سطح L{R.randint(1, 5)}، جراحی در {fa(str(R.randint(1, 9)))} روزگی",
    lambda: f"نخاع گیرافتاده؛ آزادسازی در سن {fa(str(R.randint(2, 15)))} سالگی",
    lambda: f"سینوس پوستی کمری با طول {fa(str(R.randint(5, 30)))} میلی‌متر",
    lambda: f"واریانت DCC c.{R.randint(100, 3000)}C>T در بیمار و پدرش",
    lambda: f"سن {fa(str(R.randint(3, 16)))} سال؛ وزن {fa(str(R.randint(10, 60)))} کیلوگرم",
    lambda: f"Follow-up MRI stable; Woods and Teuber {R.randint(1, 4)} at {R.randint(5, 15)} years.",
    lambda: f"Scores: GMFCS {R.randint(1, 5)}, Bayley {R.randint(60, 120)}, MACS {R.randint(1, 5)}.",
    lambda: f"Reference NM_005215.{R.randint(3, 4)}:c.{R.randint(1, 4000)}del; p.(Arg{R.randint(10, 999)}Ter).",
]


def build() -> list[dict[str, str]]:
    notes = []
    for kind, makers in KINDS.items():
        per_maker = max(3, 240 // sum(len(m) for m in KINDS.values()) + 1)
        for maker in makers:
            for _ in range(per_maker):
                notes.append({"kind": kind, "text": maker()})
    for maker in CLINICAL:
        for _ in range(7):
            notes.append({"kind": "clinical", "text": maker()})
    return notes


if __name__ == "__main__":
    out = Path(__file__).with_name("notes.json")
    out.write_text(json.dumps(build(), ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"written to {out}")
