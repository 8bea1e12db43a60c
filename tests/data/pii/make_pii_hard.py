"""Regenerate ``pii_hard.jsonl``: hand-written hard cases (formats, typos, mixed languages),
written before the redactor was run on them and never tuned on: an honest second look.
``python tests/data/pii/make_pii_hard.py``"""

from __future__ import annotations

import json
from pathlib import Path

CASES: list[tuple[str, str, list[tuple[str, str]]]] = [
    (
        "en",
        "EMAIL ME: J.Doe-Smith@Sub.Example.Co.UK!!",
        [("EMAIL", "J.Doe-Smith@Sub.Example.Co.UK")],
    ),
    ("en", "my mail is jane_doe99@example.travel, thx", [("EMAIL", "jane_doe99@example.travel")]),
    ("de", "Mail an müller@bäckerei-schmidt.de bitte", [("EMAIL", "müller@bäckerei-schmidt.de")]),
    ("en", "card no. 4012888888881881 exp 12/27", [("CARD", "4012888888881881")]),
    ("en", "it's 5105 1051 0510 5100, the mastercard", [("CARD", "5105 1051 0510 5100")]),
    ("de", "Kreditkarte: 3714-496353-98431", [("CARD", "3714-496353-98431")]),
    ("en", "discover 6011 1111 1111 1117 got declined", [("CARD", "6011 1111 1111 1117")]),
    ("de", "IBAN: de44 5001 0517 5407 3249 31", [("IBAN", "de44 5001 0517 5407 3249 31")]),
    ("de", "Konto AT611904300234573201 (Bank Austria)", [("IBAN", "AT611904300234573201")]),
    ("en", "wire it to CH9300762011623852957 asap", [("IBAN", "CH9300762011623852957")]),
    ("de", "Überweisung von DE02120300000000202051 fehlt", [("IBAN", "DE02120300000000202051")]),
    ("de", "Ruf an: 0 30 / 12 34 56 78", [("PHONE", "0 30 / 12 34 56 78")]),
    (
        "de",
        "Handy 0160-98765432, Festnetz 089 / 3 22 11 00",
        [("PHONE", "0160-98765432"), ("PHONE", "089 / 3 22 11 00")],
    ),
    ("en", "txt me on +447911123456", [("PHONE", "+447911123456")]),
    ("en", "my cell: 212 555 0147 (evenings)", [("PHONE", "212 555 0147")]),
    ("de", "Tel.: +49-221-9876543", [("PHONE", "+49-221-9876543")]),
    ("en", "call +1 (646) 555-0199 ext 12", [("PHONE", "+1 (646) 555-0199")]),
    (
        "de",
        "Ich wohne in der Kastanienallee 14b, 10435 Berlin.",
        [("ADDRESS", "Kastanienallee 14b, 10435 Berlin")],
    ),
    (
        "de",
        "Lieferadresse: Königstr. 7, 70173 Stuttgart",
        [("ADDRESS", "Königstr. 7, 70173 Stuttgart")],
    ),
    ("de", "Bitte an Theodor-Heuss-Ring 3 liefern", [("ADDRESS", "Theodor-Heuss-Ring 3")]),
    (
        "en",
        "I live at 10 Downing Street, London SW1A 2AA",
        [("ADDRESS", "10 Downing Street, London SW1A 2AA")],
    ),
    (
        "en",
        "ship to 350 Fifth Avenue, New York, NY 10118",
        [("ADDRESS", "350 Fifth Avenue, New York, NY 10118")],
    ),
    ("en", "Regards, Priya Raman", [("PERSON", "Priya Raman")]),
    ("de", "Mit freundlichen Grüßen, Katrin Vogel", [("PERSON", "Katrin Vogel")]),
    ("en", "Hi, I'm Tom Baker and I'm furious", [("PERSON", "Tom Baker")]),
    ("de", "Hier spricht Frau Dr. Ingrid Lehmann", [("PERSON", "Ingrid Lehmann")]),
    ("en", "Ask for Mrs. Okafor at the desk", [("PERSON", "Okafor")]),
    ("en", "Order 20240312-7781 shipped 2024-03-12, total $84.50", []),
    ("de", "Artikelnummer 4006381333931 (EAN) ist ausverkauft", []),
    ("de", "Am 12.03. um 14:30 Uhr kam nichts an, Vorgang 771-2231", []),
    ("en", "I waited 3 hours, 45 minutes and called 12 times", []),
    ("de", "PLZ-Bereich 10115 bis 14199 wird beliefert", []),
    ("en", "My IP was 192.168.0.12 when the page crashed", []),
]


def main() -> None:
    rows = []
    for locale, text, ents in CASES:
        spans, cursor = [], 0
        for kind, value in ents:
            start = text.index(value, cursor)
            spans.append({"type": kind, "start": start, "end": start + len(value)})
            cursor = start + len(value)
        rows.append({"locale": locale, "text": text, "entities": spans})
    out = Path(__file__).parent / "pii_hard.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    print(f"wrote {len(rows)} examples to {out}")


if __name__ == "__main__":
    main()
