"""Adding a modality is one folder and one registry line: a toy modality (gaze, from a company's
own sensor), registered here and nowhere else, flows through consent, the gate, fusion, the API,
revocation and the subject rights — nothing else in Attune names it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from attune.api.app import create_app
from attune.config import Settings
from attune.privacy.disclosure import VERSION
from attune.signals import registry
from attune.signals.base import SessionScratch, Signal
from attune.signals.spec import ModalitySpec
from attune.signals.taxonomy import to_cx
from attune.storage import tables

T0 = 1_767_000_000.0
GAZE_TO_CX = {"averted": {"anxious": 0.7, "confused": 0.3}, "steady": {"neutral": 1.0}}


class GazeAnalyzer:
    """Reads {"averted": share of the last seconds the customer looked away}."""

    modality: ClassVar[str] = "gaze"
    version: ClassVar[str] = "1"

    def analyze(self, event: Any, scratch: SessionScratch) -> list[Signal]:
        averted = float(event.payload.data.get("averted", 0.0))
        label = "averted" if averted >= 0.5 else "steady"
        return [
            Signal(
                modality="gaze",
                name=label,
                value=averted if label == "averted" else 1 - averted,
                confidence=0.9,
                evidence=f"looked away {averted:.0%} of the last 10 s",
                at=event.at,
                cx=to_cx({label: 1.0}, GAZE_TO_CX),
                source="gaze/averted@1",
            )
        ]


GAZE = ModalitySpec(
    name="gaze",
    event_kinds=("gaze",),
    analyzer=f"{__name__}:GazeAnalyzer",
    biometric=True,  # so it needs consent and the disclosure, like voice and face
    reliability=0.9,
    half_life_s=60.0,
    label_tables={"gaze": GAZE_TO_CX},
    raw_kinds=("gaze",),
)


@pytest.fixture
def gaze_api(settings: Settings) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    registry.register(GAZE)  # the one line a new modality adds
    try:
        app = create_app(settings.model_copy(update={"modalities": ["behaviour", "gaze"]}))
        keys = {
            s: {"Authorization": f"Bearer {app.state.keys.create(s, [s])}"}
            for s in ("ingest", "read", "privacy")
        }
        # the person's page holds their session token (docs/security.md)
        token = app.state.visitor_tokens.token(app.state.privacy.subject("cust-7"))
        keys["ingest"]["X-Attune-Session-Token"] = token
        with TestClient(app) as client:
            yield client, keys
    finally:
        registry.unregister("gaze")


def _look(client: TestClient, keys: dict[str, dict[str, str]], i: int, averted: float) -> Any:
    r = client.post(
        "/v1/observations",
        headers=keys["ingest"],
        json={
            "messageId": f"g{i}",
            "userId": "cust-7",
            "sessionId": "s7",
            "timestamp": T0 + i,
            "kind": "gaze",
            "data": {"averted": averted},
        },
    )
    assert r.status_code == 200, r.text
    return r.json()["decision"]


def _count(client: TestClient, table: Any, *where: Any) -> int:
    app: Any = client.app
    app.state.engine.flush()
    with app.state.store.connect() as conn:
        q = select(func.count()).select_from(table).where(*where)
        return int(conn.execute(q).scalar_one())


def test_a_registered_modality_flows_through_every_stage(gaze_api: Any) -> None:
    client, keys = gaze_api
    user = {"userId": "cust-7"}
    # gate: biometric, so no consent -> stored as an event, never analysed
    first = _look(client, keys, 0, 0.9)
    assert first["state"]["top"] == "neutral"
    assert _count(client, tables.signals, tables.signals.c.modality == "gaze") == 0
    # consent API knows the modality from the registry; the disclosure comes first
    r = client.post(
        "/v1/consent/grant", headers=keys["ingest"], json={**user, "modalities": ["gaze"]}
    )
    # no disclosure yet: the grant could not take effect, and the answer names the missing step
    assert r.status_code == 409 and "/v1/disclosure/acknowledge" in r.json()["detail"]
    ack = {**user, "version": VERSION}
    assert client.post("/v1/disclosure/acknowledge", headers=keys["ingest"], json=ack).is_success
    r = client.post(
        "/v1/consent/grant", headers=keys["ingest"], json={**user, "modalities": ["gaze"]}
    )
    assert r.json()["consent"]["gaze"] is True
    # analyzer -> fusion (with the spec's reliability) -> a state with the signal's evidence
    for i in range(1, 4):
        decision = _look(client, keys, i, 0.95)
    assert decision["state"]["probs"]["anxious"] > decision["state"]["probs"]["neutral"]
    assert any(m["modality"] == "gaze" for m in decision["state"]["moved_by"])
    assert _count(client, tables.signals, tables.signals.c.modality == "gaze") == 3
    # subject rights: export names it, in consent and in the signals
    exported = client.post("/v1/privacy/export", headers=keys["privacy"], json=user).json()
    assert {s["modality"] for s in exported["signals"]} == {"gaze"}
    assert next(iter(exported["consent_now"].values()))["gaze"] is True
    # revocation purges its raw events (the spec's raw kinds) and stops analysis
    client.post("/v1/consent/revoke", headers=keys["ingest"], json={**user, "modalities": ["gaze"]})
    assert _count(client, tables.events, tables.events.c.kind == "gaze") == 0
    _look(client, keys, 10, 0.95)
    assert _count(client, tables.signals, tables.signals.c.modality == "gaze") == 3
    # erasure leaves nothing
    assert client.post("/v1/privacy/erase", headers=keys["privacy"], json=user).is_success
    assert _count(client, tables.signals) == 0 and _count(client, tables.events) == 0


def test_unknown_observation_kinds_and_modalities_are_refused(gaze_api: Any) -> None:
    client, keys = gaze_api
    body = {"messageId": "x", "userId": "u", "kind": "smell", "data": {}}
    r = client.post("/v1/observations", headers=keys["ingest"], json=body)
    assert r.status_code == 422 and "smell" in r.text
    bad = {"userId": "u", "modalities": ["smell"]}
    r = client.post("/v1/consent/grant", headers=keys["ingest"], json=bad)
    assert r.status_code == 422 and "gaze" in r.text  # names the modalities it knows


def test_a_spec_with_a_bad_label_table_or_a_taken_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="furious"):
        ModalitySpec("x", ("x",), "m:f", label_tables={"t": {"a": {"furious": 1.0}}})
    with pytest.raises(ValueError, match="read by text"):
        registry.register(ModalitySpec("chat2", ("message",), "m:f"))
