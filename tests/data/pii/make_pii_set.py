"""Regenerate ``pii_set.jsonl``: labelled English and German customer messages with PII spans.

Seeded, so the file is reproducible: ``python tests/data/pii/make_pii_set.py``. Values are
synthetic (valid checksums where the format has one); no real person's data. Hand-written hard
cases and PII-free look-alikes (order numbers, dates, prices, Luhn-invalid digit runs) are
included so precision is measured too. Spans: {"type", "start", "end"} over ``text``.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

HERE = Path(__file__).parent
rng = random.Random(20261122)

FIRST = [
    "Anna",
    "Lukas",
    "Maria",
    "Jonas",
    "Sophie",
    "John",
    "Emily",
    "Michael",
    "Sarah",
    "David",
    "Leonie",
    "Felix",
    "Olivia",
    "James",
    "Hannah",
    "Mehmet",
    "Aylin",
    "Piotr",
]
LAST = [
    "Schmidt",
    "Müller",
    "Weber",
    "Fischer",
    "Wagner",
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Becker",
    "Hoffmann",
    "Taylor",
    "Yilmaz",
    "Nowak",
    "Schäfer",
    "O'Brien",
]
DOMAINS = [
    "example.com",
    "mail.de",
    "web.de",
    "gmx.net",
    "firma-beispiel.de",
    "outlook.co.uk",
    "uni-hamburg.de",
    "example.org",
    "kunde.shop.de",
    "t-online.de",
]


def email() -> str:
    f, last = rng.choice(FIRST), rng.choice(LAST)
    user = rng.choice(
        [
            f"{f}.{last}",
            f"{f[0]}{last}",
            f"{f}_{last}{rng.randint(1, 99)}",
            f"{f}+orders",
            f"{last}.{f}",
            f"{f}{rng.randint(1970, 2005)}",
        ]
    ).lower()
    user = user.replace("ü", "ue").replace("ä", "ae").replace("'", "")
    out = f"{user}@{rng.choice(DOMAINS)}"
    return out.upper() if rng.random() < 0.05 else out


def luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def card(valid: bool = True) -> str:
    kind = rng.choice(["visa", "mc", "amex", "visa", "mc"])
    prefix, length = {
        "visa": ("4", 16),
        "mc": (str(rng.randint(51, 55)), 16),
        "amex": (rng.choice(["34", "37"]), 15),
    }[kind]
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    check = luhn_digit(body)
    if not valid:
        check = str((int(check) + rng.randint(1, 9)) % 10)
    digits = body + check
    sep = rng.choice([" ", "-", "", " "])
    groups = [4, 6, 5] if length == 15 else [4, 4, 4, 4]
    parts, i = [], 0
    for g in groups:
        parts.append(digits[i : i + g])
        i += g
    return sep.join(parts)


IBAN_LEN = {"DE": 22, "AT": 20, "GB": 22, "FR": 27, "NL": 18, "CH": 21, "ES": 24}


def iban() -> str:
    country = rng.choice(["DE", "DE", "DE", "AT", "GB", "FR", "NL", "CH", "ES"])
    n = IBAN_LEN[country] - 4
    if country == "GB" or country == "NL":
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + "".join(
            str(rng.randint(0, 9)) for _ in range(n - 4)
        )
    else:
        bban = "".join(str(rng.randint(0, 9)) for _ in range(n))
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    check = 98 - int(numeric) % 97
    raw = f"{country}{check:02d}{bban}"
    if rng.random() < 0.7:
        return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))
    return raw


def digits(k: int) -> str:
    return str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(k - 1))


def phone(locale: str) -> str:
    if locale == "de":
        area = rng.choice(["30", "40", "89", "221", "69", "711", "341", "511"])
        mobile = rng.choice(["151", "160", "170", "171", "172", "176", "157", "152"])
        sub = digits(rng.choice([7, 8]))
        return rng.choice(
            [
                f"+49 {area} {sub}",
                f"0{area} {sub}",
                f"0{area}/{sub}",
                f"0{area}-{sub}",
                f"+49 {mobile} {digits(7)}",
                f"0{mobile} {digits(7)}",
                f"0{mobile}-{digits(7)}",
                f"+49 (0){mobile} {digits(7)}",
                f"0049 {area} {sub}",
                f"+49{mobile}{digits(7)}",
                f"+43 1 {digits(7)}",
                f"+41 44 {digits(3)} {digits(2)} {digits(2)}",
            ]
        )
    area = str(rng.choice([212, 415, 312, 617, 206, 512, 303, 404]))
    ex, line = str(rng.randint(201, 989)), f"{rng.randint(0, 9999):04d}"
    return rng.choice(
        [
            f"({area}) {ex}-{line}",
            f"{area}-{ex}-{line}",
            f"+1 {area} {ex} {line}",
            f"{area}.{ex}.{line}",
            f"+1-{area}-{ex}-{line}",
            f"+44 20 7{digits(3)} {digits(4)}",
            f"020 7{digits(3)} {digits(4)}",
            f"07700 9{digits(5)}",
            f"+44 7700 9{digits(5)}",
            f"1-{area}-{ex}-{line}",
        ]
    )


def address(locale: str) -> str:
    if locale == "de":
        street = rng.choice(
            [
                "Musterstraße",
                "Hauptstr.",
                "Lindenallee",
                "Goethestraße",
                "Bahnhofstraße",
                "Am Sonnenhang",
                "Berliner Straße",
                "Kirchweg",
                "Schillerplatz",
                "Rosengasse",
                "Hafenstraße",
                "Neuer Wall",
            ]
        )
        num = f"{rng.randint(1, 180)}{rng.choice(['', '', '', 'a', 'b'])}"
        city = rng.choice(
            [
                "10115 Berlin",
                "20095 Hamburg",
                "80331 München",
                "50667 Köln",
                "60311 Frankfurt am Main",
                "70173 Stuttgart",
                "04109 Leipzig",
            ]
        )
        return rng.choice([f"{street} {num}", f"{street} {num}, {city}"])
    street = rng.choice(
        [
            "Baker Street",
            "Main St.",
            "Oak Avenue",
            "Elm Street",
            "Maple Drive",
            "Sunset Boulevard",
            "High Street",
            "Park Lane",
            "Church Road",
            "Washington Ave",
        ]
    )
    num = f"{rng.randint(1, 2500)}{rng.choice(['', '', '', 'B'])}"
    city = rng.choice(
        [
            "Springfield, IL 62704",
            "London NW1 6XE",
            "Boston, MA 02108",
            "Austin, TX 78701",
            "Manchester M1 1AE",
        ]
    )
    return rng.choice([f"{num} {street}", f"{num} {street}, {city}"])


def person(locale: str) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


EN = [
    "Hi, my email is {EMAIL}, please send the invoice there.",
    "You can reach me on {PHONE} after 5pm.",
    "I paid with card {CARD} and was charged twice!",
    "Please refund to my account {IBAN}.",
    "Ship it to {ADDRESS} please, not the old address.",
    "My name is {PERSON} and my order never arrived.",
    "Contact: {EMAIL} / {PHONE}",
    "this is {PERSON}, card ending... actually full number {CARD}",
    "Why was {CARD} declined?? I have money on it",
    "new address: {ADDRESS}. phone {PHONE}",
    "Email me at {EMAIL} or call {PHONE}, thanks",
    "I want to cancel. Account holder {PERSON}, IBAN {IBAN}",
    "Deliver to {ADDRESS}, ring twice.",
    "{PHONE} is my mobile, text me",
    "The charge on {CARD} is wrong, I want my money back now",
    "Mr. {PERSON} here, I already wrote to {EMAIL} three times",
    "Send the papers to {ADDRESS}",
    "my iban is {IBAN} can you do a bank transfer",
    "Reply to {EMAIL}.",
    "call me back at {PHONE}!!!",
    "Please tell {PERSON} that the parcel is here.",
]
DE = [
    "Hallo, meine E-Mail ist {EMAIL}, bitte schicken Sie die Rechnung dorthin.",
    "Sie erreichen mich unter {PHONE}.",
    "Ich habe mit der Karte {CARD} bezahlt und es wurde doppelt abgebucht!",
    "Bitte erstatten Sie auf mein Konto {IBAN}.",
    "Bitte liefern Sie an {ADDRESS}.",
    "Mein Name ist {PERSON}, meine Bestellung ist nie angekommen.",
    "Kontakt: {EMAIL}, Tel. {PHONE}",
    "Meine neue Adresse: {ADDRESS}. Telefon {PHONE}",
    "IBAN: {IBAN}, Kontoinhaber {PERSON}",
    "Warum wurde meine Karte {CARD} abgelehnt?",
    "Schreiben Sie mir an {EMAIL} oder rufen Sie {PHONE} an.",
    "Ich will kündigen! Frau {PERSON}, {ADDRESS}",
    "Rückruf bitte unter {PHONE}, danke",
    "Lastschrift von {IBAN} bitte sofort stoppen",
    "Die Lieferung ging an {ADDRESS} statt an meine Adresse",
    "Herr {PERSON} hier, ich habe schon dreimal an {EMAIL} geschrieben",
    "Meine Handynummer: {PHONE}",
    "Erstattung bitte auf {IBAN} (Sparkasse)",
    "Karte {CARD} gesperrt?? Was soll das",
    "Paket bitte an {ADDRESS} schicken, Klingel {PERSON}",
    "{PERSON} hat gestern schon angerufen.",
]
NEGATIVE = [
    ("en", "My order #A-48213 arrived on 12/03/2024 but the box was empty."),
    ("en", "It costs $1,299.99 and I was charged $1,349.99 instead."),
    ("en", "Tracking number 1Z999AA10123456784 shows no movement since Monday."),
    ("en", "I've been waiting 45 minutes on hold, this is ridiculous."),
    ("en", "Version 2.14.3 of the app crashes when I open settings."),
    ("en", "Order 4000123412341235 is what the confirmation says, not a card."),
    ("en", "Thanks so much, that solved it!"),
    ("en", "The package weighs 2.5 kg and measures 30 x 20 x 10 cm."),
    ("en", "Invoice INV-2024-000871 dated 2024-03-12 shows 3 items."),
    ("en", "I rated you 1 out of 10. Never again."),
    ("en", "Between 9:30 and 17:45 nobody answered."),
    ("en", "Customer number 100234 was merged with 100235 by mistake."),
    ("de", "Meine Bestellung Nr. 2024-118734 vom 03.12.2024 ist nicht angekommen."),
    ("de", "Der Artikel kostet 49,99 € und ich habe 59,99 € bezahlt."),
    ("de", "Ich warte seit 3 Wochen auf eine Antwort, unmöglich!"),
    ("de", "Kundennummer 5512 3344 wurde falsch verbucht."),
    ("de", "Vielen Dank, das hat geholfen!"),
    ("de", "Die App-Version 3.2.1 stürzt beim Bezahlen ab."),
    ("de", "Rechnung RE-2024-77812 über 1.249,00 EUR stimmt nicht."),
    ("de", "Von 8:00 bis 16:30 war niemand erreichbar."),
    ("de", "Ich habe 12 Artikel bestellt und nur 11 erhalten."),
    ("de", "Die Sendungsnummer 00340434161094042557 zeigt keinen Status."),
]


# -- names: surnames after titles, names without a cue, German (issue 18) -------------------
# Other first names and surnames than above (not the ones the patterns were developed on);
# several surnames are also common words (Koch, Wolf, Braun, König, Walker). A separate RNG,
# appended after the rows above, so those stay byte-identical.
NAME_RNG = random.Random(20261205)
FIRST2 = [
    "Thomas",
    "Katrin",
    "Jürgen",
    "Ursula",
    "Stefan",
    "Monika",
    "Karl-Heinz",
    "Birgit",
    "Robert",
    "Jennifer",
    "William",
    "Patricia",
    "Ahmet",
    "Katarzyna",
    "Giulia",
    "Dmitri",
]
LAST2 = [
    "Müller",
    "Meyer",
    "Schulz",
    "Koch",
    "Bauer",
    "Richter",
    "Wolf",
    "Schröder",
    "Zimmermann",
    "Braun",
    "Krüger",
    "König",
    "Öztürk",
    "Kowalski",
    "Müller-Lüdenscheidt",
    "Thompson",
    "Walker",
    "Robinson",
    "Hughes",
    "Nguyen",
]
NAMES_DE = [
    "Herr {TFULL} hat mich gestern angerufen.",
    "Sehr geehrte Frau {TLAST}, ich warte seit Wochen auf mein Geld.",
    "Ich hatte mit Herrn {TLAST} telefoniert, er wollte zurückrufen.",
    "Bitte leiten Sie das an Frau Dr. {TLAST} weiter.",
    "Ihr Kollege Herr {TLAST} war sehr unfreundlich!",
    "Guten Tag, hier spricht {FULL} aus Hamburg.",
    "{FULL} hat die Bestellung aufgegeben, nicht ich.",
    "Die Rechnung ist auf {FULL} ausgestellt.",
    "Mein Mann, {FULL}, ist der Vertragsinhaber.",
    "Vertragspartner: {FULL}",
    "Mit freundlichen Grüßen\n{FULL}",
    "Herr {TFULL} und Frau {TLAST} wohnen hier.",
]
NAMES_EN = [
    "Dear Mrs {TLAST}, I am still waiting for my refund.",
    "I spoke to Mr {TLAST} yesterday and he promised a callback.",
    "Please forward this to Dr {TLAST}.",
    "Ask Ms. {TFULL} about it, she knows the case.",
    "Your agent, {FULL}, hung up on me.",
    "The order is under my wife's name, {FULL}.",
    "{FULL} from your billing team never called back.",
    "I'm calling on behalf of {FULL}.",
    "Cheers,\n{FULL}",
    "Mr {TFULL} already complained twice.",
]
NAMES_NEGATIVE = [
    ("de", "Meine Frau hat die Bestellung storniert."),
    ("de", "Sehr geehrte Damen und Herren, die Ware ist defekt."),
    ("de", "Die Box von Herr der Ringe ist beschädigt angekommen."),
    ("de", "Ich habe bei der Deutschen Bahn eine Fahrkarte gekauft, die Telekom Rechnung fehlt."),
    ("de", "Die Lieferung nach Frankfurt am Main dauert zu lange."),
    ("de", "Der Kundenservice in Köln hat nie geantwortet, Frau am Telefon war nett."),
    ("en", "Dear Sir or Madam, my order never arrived."),
    ("en", "The Apple Watch arrived broken and Customer Service ignored me."),
    ("en", "I ordered from your Berlin store on Black Friday."),
    ("en", "My Samsung Galaxy was delivered to the wrong Post Office."),
]


def fill_names(template: str, locale: str) -> dict[str, object]:
    """Like ``fill``; the gold span is the name only, never the title before it."""
    text, spans, pos = "", [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        text += template[pos : m.start()]
        first, last = NAME_RNG.choice(FIRST2), NAME_RNG.choice(LAST2)
        value = last if m.group(1) == "TLAST" else f"{first} {last}"
        spans.append({"type": "PERSON", "start": len(text), "end": len(text) + len(value)})
        text += value
        pos = m.end()
    text += template[pos:]
    return {"locale": locale, "text": text, "entities": spans}


def name_rows() -> list[dict[str, object]]:
    rows = []
    for locale, templates in (("de", NAMES_DE), ("en", NAMES_EN)):
        for _round in range(3):
            rows.extend(fill_names(t, locale) for t in templates)
    rows.extend({"locale": loc, "text": t, "entities": []} for loc, t in NAMES_NEGATIVE)
    NAME_RNG.shuffle(rows)
    return rows


def fill(template: str, locale: str) -> dict[str, object]:
    text, spans, pos = "", [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        text += template[pos : m.start()]
        kind = m.group(1)
        value = {"EMAIL": email, "CARD": card, "IBAN": iban}.get(kind, lambda: "")()
        if kind == "PHONE":
            value = phone(locale)
        elif kind == "ADDRESS":
            value = address(locale)
        elif kind == "PERSON":
            value = person(locale)
        spans.append({"type": kind, "start": len(text), "end": len(text) + len(value)})
        text += value
        pos = m.end()
    text += template[pos:]
    return {"locale": locale, "text": text, "entities": spans}


def main() -> None:
    rows: list[dict[str, object]] = []
    for locale, templates in (("en", EN), ("de", DE)):
        for _round in range(5):
            rows.extend(fill(t, locale) for t in templates)
    for locale, text in NEGATIVE:
        rows.append({"locale": locale, "text": text, "entities": []})
    for locale in ("en", "de"):  # Luhn-invalid digit runs must not be called cards
        for _ in range(6):
            bad = card(valid=False)
            text = (
                f"Reference {bad} from the letter"
                if locale == "en"
                else f"Vorgangsnummer {bad} laut Schreiben"
            )
            rows.append({"locale": locale, "text": text, "entities": []})
    rng.shuffle(rows)
    rows.extend(name_rows())
    out = HERE / "pii_set.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print(f"wrote {len(rows)} examples to {out}")


if __name__ == "__main__":
    main()
