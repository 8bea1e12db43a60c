"""The running experiment in the service: exposures are logged as arms are assigned, the
a hard stop recorded in the registry survives a restart."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from attune.api.app import create_app
from attune.config import Settings
from attune.engine import Experiment
from attune.measure import registry
from attune.measure.defaults import checkout_definition
from attune.storage.tables_measure import experiment_exposures

EXP = "wiring-test"


def _page(i: int, user: str, session: str) -> dict[str, object]:
    return {
        "type": "page",
        "messageId": f"x-{user}-{i}",
        "anonymousId": user,
        "sessionId": session,
        "timestamp": 1_767_000_000 + i,
        "properties": {"path": "/checkout/payment"},
    }


def test_exposures_are_logged_once_per_subject_and_a_stop_survives_restarts(
    settings: Settings,
) -> None:
    app = create_app(settings, experiment=Experiment(EXP))
    auth = {"Authorization": f"Bearer {app.state.keys.create('a', ['admin'])}"}
    with TestClient(app) as client:
        batch = [_page(i, f"user-{i % 10}", f"s-{i % 20}") for i in range(40)]
        assert client.post("/v1/batch", json={"batch": batch}, headers=auth).status_code == 200
        app.state.engine.flush()
        store = app.state.store
        with store.connect() as conn:
            rows = conn.execute(select(experiment_exposures)).all()
        assert len(rows) == 10  # ten subjects in twenty sessions: the first exposure counts
        arms = {r.subject: r.arm for r in rows}
        assert set(arms.values()) <= {"control", "adaptive"}
        assert all(app.state.engine.experiment.arm(s) == a for s, a in arms.items())
        registry.register(store, checkout_definition(EXP))
        registry.start(store, EXP)
        registry.stop(store, EXP, "guardrail breached (test)")

    again = create_app(settings, experiment=Experiment(EXP))
    with TestClient(again):
        assert again.state.engine.experiment.stopped  # everyone on the neutral journey
        assert again.state.engine.experiment.arm("user-1") == "control"
