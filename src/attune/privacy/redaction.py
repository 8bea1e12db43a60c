"""PII redaction before any text is stored or logged.

Detection uses Presidio's recognizers without an NLP engine (no model download): email, payment
card (Luhn-checked), IBAN (mod-97-checked) and phone numbers (Google's libphonenumber, regions
chosen by locale), plus Presidio pattern recognizers added here for street addresses (German
"Musterstraße 12, 10115 Berlin" and English "221B Baker Street") and person names introduced by
a cue ("my name is", "Regards,"). A title and the capitalised words after it ("Herr Thomas
Müller", "Mrs O'Brien") are one PERSON span, title included, by a plain regular expression that
needs neither Presidio nor a model. Names without a cue come from spaCy's small English model
when the ``privacy-ner`` extra is installed (``names="auto"``, the default, uses it then; it is
imported lazily, on the first Redactor); on German text only name-shaped spans of it are kept.

Without Presidio installed, a small built-in pattern set still redacts emails, Luhn-valid cards,
IBANs and phone numbers, and a warning says what is missing.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

from attune.privacy import pii_patterns

log = logging.getLogger("attune.privacy.redaction")
ENTITY_TYPES = ("EMAIL", "IBAN", "CARD", "ADDRESS", "PHONE", "PERSON")
PRIORITY = {t: i for i, t in enumerate(ENTITY_TYPES)}  # who wins when spans overlap
_PRESIDIO_TYPE = {
    "EMAIL_ADDRESS": "EMAIL",
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "PHONE_NUMBER": "PHONE",
}
Names = Literal["auto", "patterns", "ner", "off"]


@dataclass(frozen=True, slots=True)
class Span:
    type: str
    start: int
    end: int
    source: str


def resolve(spans: list[Span]) -> list[Span]:
    """Non-overlapping spans: higher-priority types first, then longer spans."""
    chosen: list[Span] = []
    for s in sorted(spans, key=lambda s: (PRIORITY[s.type], -(s.end - s.start), s.start)):
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def _phone_regions(locale: str | None) -> tuple[str, ...]:
    lang = (locale or "").lower()[:2]
    if lang == "de":
        return ("DE", "AT", "CH", "GB", "US")
    return ("US", "GB", "DE", "AT", "CH")


class Redactor:
    """Finds and masks PII. Build once and reuse: construction compiles the recognizers."""

    def __init__(self, names: Names = "auto", basic: bool = False) -> None:
        if names == "auto":
            names = "ner" if pii_patterns.ner_available() else "patterns"
        self.names = names
        self._nlp: Any = None
        try:
            if basic:
                raise ImportError("basic patterns asked for", name="presidio_analyzer")
            self._recognizers = pii_patterns.presidio_recognizers()
            self.engine = "presidio"
        except ImportError as exc:
            if not basic:
                log.warning(
                    "presidio is not installed (%s): using the basic PII patterns; "
                    "install with: pip install 'attune[privacy]'",
                    exc.name,
                )
            self._recognizers = []
            self.engine = "basic"
        self._phones: dict[tuple[str, ...], Any] = {}
        if names == "ner":
            self._nlp = pii_patterns.load_ner()

    def _phone(self, locale: str | None) -> Any:
        regions = _phone_regions(locale)
        if regions not in self._phones:
            self._phones[regions] = pii_patterns.phone_recognizer(regions)
        return self._phones[regions]

    def find(self, text: str, locale: str | None = None) -> list[Span]:
        spans: list[Span] = []
        if self.engine == "presidio":
            # IBANs are often typed in lower case: also read an upper-cased copy (same length,
            # same spans); the original too, or a following word would join the IBAN.
            jobs = [(rec, text) for rec in [*self._recognizers, self._phone(locale)]]
            if text != text.upper():
                jobs += [(rec, text.upper()) for rec in self._recognizers if rec.name == "iban"]
            for rec, seen in jobs:
                for r in rec.analyze(seen, entities=rec.supported_entities, nlp_artifacts=None):
                    kind = _PRESIDIO_TYPE.get(r.entity_type, r.entity_type)
                    if kind == "PERSON" and self.names == "off":
                        continue
                    if kind == "PHONE" and pii_patterns.not_a_phone(text, r.start, r.end):
                        continue
                    spans.append(Span(kind, r.start, r.end, rec.name))
        else:
            spans.extend(Span(t, s, e, "basic") for t, s, e in pii_patterns.basic_find(text))
        if self.names != "off":
            spans.extend(Span("PERSON", s, e, "title") for s, e in pii_patterns.titled_names(text))
        if self._nlp is not None and pii_patterns.worth_ner(text, locale):
            spans.extend(
                Span("PERSON", e.start_char, e.end_char, "spacy")
                for e in self._nlp(text).ents
                if e.label_ in ("PER", "PERSON") and pii_patterns.keep_ner_person(e.text, locale)
            )
        return resolve(spans)

    def redact(self, text: str, locale: str | None = None) -> str:
        out, pos = [], 0
        for s in self.find(text, locale):
            out.append(text[pos : s.start])
            out.append(f"<{s.type}>")
            pos = s.end
        out.append(text[pos:])
        return "".join(out)


_default: Redactor | None = None
_lock = threading.Lock()
_WS = re.compile(r"\s+")


def default_redactor() -> Redactor:
    """The gate's redactor. ``ATTUNE_PII_NAMES`` (auto | patterns | ner | off) picks how names
    are found; auto uses the model when the ``privacy-ner`` extra is installed."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                names = os.environ.get("ATTUNE_PII_NAMES", "auto")
                if names not in ("auto", "patterns", "ner", "off"):
                    raise ValueError(f"ATTUNE_PII_NAMES={names!r}: use auto, patterns, ner or off")
                _default = Redactor(names=names)  # type: ignore[arg-type]
    return _default


def redact(text: str, locale: str | None = None) -> str:
    """The gate's entry point: ``text`` with every PII span replaced by ``<TYPE>``."""
    return default_redactor().redact(text, locale)


def find(text: str, locale: str | None = None) -> list[Span]:
    return default_redactor().find(text, locale)


def safe_for_log(text: str, limit: int = 200) -> str:
    """Redacted, single-line and bounded: the only form of customer text that may be logged."""
    return _WS.sub(" ", redact(text))[:limit]


_SUSPECT = re.compile(r"@|\d(?:[\s\-/().+]*\d){6}")  # an '@' or seven digits: worth a look


def suspect(value: Any) -> bool:
    """Whether any string inside ``value`` could hold PII worth the full redactor. Loops
    rather than generators: it runs on every event's properties."""
    if isinstance(value, str):
        return _SUSPECT.search(value) is not None
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, list):
        return False
    search = _SUSPECT.search
    for item in value:
        if isinstance(item, str):
            if search(item) is not None:
                return True
        elif isinstance(item, dict | list) and suspect(item):
            return True
    return False


def redact_json(value: Any, locale: str | None = None) -> Any:
    """Redact every string inside a JSON-like value (event properties, page URLs). Strings
    without an '@' or a run of seven digits skip the full redactor, so clicks stay cheap."""
    if isinstance(value, str):
        return redact(value, locale) if _SUSPECT.search(value) else value
    if isinstance(value, dict):
        return {k: redact_json(v, locale) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, locale) for v in value]
    return value


def redact_event(ev: Any) -> None:
    """PII typed into forms or carried in URLs (``/reset?email=...``) never reaches storage.
    Only values that look suspect (an '@', seven digits) are rewritten: clicks stay cheap."""
    props = getattr(ev, "properties", None)
    if props and suspect(props):
        ev.properties = redact_json(props)
    context = getattr(ev, "context", None)
    for model in (ev, context):  # fields beyond the schema (extra="allow") are stored too
        extra = getattr(model, "__pydantic_extra__", None)
        if extra and suspect(extra):
            for key, value in extra.items():
                extra[key] = redact_json(value)
    page = getattr(context, "page", None)
    if page is not None:
        for name in ("url", "path", "referrer", "title"):
            value = getattr(page, name, None)
            if isinstance(value, str) and suspect(value):
                setattr(page, name, redact_json(value))
