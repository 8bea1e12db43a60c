"""The measure API through the real app and engine: a guardrail breach stops the adaptive arm
(traffic to control, registry, audit), reports come as JSON, HTML and CSV, scopes hold."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from attune.api.app import create_app
from attune.config import Settings
from attune.engine import Experiment
from attune.storage import tables

T0 = 1_767_000_000.0
EXP = "exp-guard"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from attune.config import load_settings

    db = tmp_path_factory.mktemp("measure") / "attune.db"
    settings: Settings = load_settings(
        database_url=f"sqlite:///{db}",
        modalities=["behaviour"],
        pseudonym_key="test-key",
        webhook_urls=["http://127.0.0.1:9/hooks"],  # nothing listens: delivery is tried, fails
    )
    app = create_app(settings, experiment=Experiment(EXP))
    key = app.state.keys.create("analyst", ["analyst", "server"])
    with TestClient(app) as client:
        auth = {"Authorization": f"Bearer {key}"}
        definition = {
            "id": EXP,
            "hypothesis": "The adaptive checkout lowers dropout",
            "treatment_playbook": "shop",
            "primary": {"name": "dropout", "higher_is_better": False},
            "secondary": [{"name": "conversion"}],
            "guardrails": [{"metric": "dropout", "max_relative_change": 0.2, "min_per_arm": 80}],
            "min_sample_per_arm": 100,
            "mde_relative": 0.3,
        }
        r = client.post("/v1/experiments", json=definition, headers=auth)
        assert r.status_code == 200, r.text
        assert client.post(f"/v1/experiments/{EXP}/start", headers=auth).status_code == 200
        _drive(client, auth, app, 260)
        yield client, auth


def _drive(client: TestClient, auth: dict[str, str], app: object, n: int) -> None:
    """Shoppers in both arms; the adaptive arm drops out far more often (a harmful playbook)."""
    rng = random.Random(3)
    engine = app.state.engine  # type: ignore[attr-defined]
    for i in range(n):
        sid, t = f"s{i}", T0 + i * 60
        base = {"anonymousId": f"v{i}", "sessionId": sid}
        page = {
            **base,
            "messageId": f"{sid}-p",
            "timestamp": t,
            "properties": {"path": "/checkout/payment"},
        }
        assert client.post("/v1/page", json=page, headers=auth).status_code == 200
        arm = engine.sessions[sid].arm
        dropped = rng.random() < (0.6 if arm == "adaptive" else 0.2)
        outcome = {
            **base,
            "type": "outcome",
            "messageId": f"{sid}-o",
            "timestamp": t + 30,
            "name": "abandonment" if dropped else "conversion",
            "step": "/checkout/payment",
            "value": None if dropped else 50.0,
        }
        assert client.post("/v1/outcomes", json=outcome, headers=auth).status_code == 200
        if i % 10 == 0:
            fb = {
                **base,
                "type": "feedback",
                "messageId": f"{sid}-f",
                "timestamp": t + 40,
                "shownState": "neutral",
                "correct": i % 20 == 0,
                "group": "en",
            }
            assert client.post("/v1/feedback", json=fb, headers=auth).status_code == 200


def test_report_reads_out_the_experiment(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    r = client.get(f"/v1/experiments/{EXP}/report", headers=auth)
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["status"] == "running" and "note" not in rep
    assert sum(rep["units"].values()) == 260 and not rep["srm"]["alert"]
    assert rep["srm_exposures"]["observed"] == rep["units"]
    dropout = rep["metrics"]["dropout"]["frequentist"]
    assert dropout["treatment"] > 2 * dropout["control"]
    assert rep["hard_stop"]["stop"] is True
    html = client.get(f"/v1/experiments/{EXP}/report?format=html", headers=auth)
    assert html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text and "Hard stop" in html.text and "<script" not in html.text


def test_hard_stop_routes_traffic_to_control_audits_and_records(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    r = client.post(f"/v1/experiments/{EXP}/hard-stop-check", headers=auth)
    assert r.status_code == 200 and r.json()["stop"] is True
    engine = client.app.state.engine  # type: ignore[attr-defined]
    assert engine.experiment.stopped
    hooks = client.app.state.webhooks  # type: ignore[attr-defined]
    for _ in range(50):  # the announcement is delivered in the background, with retries
        if hooks.sent + hooks.failed:
            break
        time.sleep(0.1)
    assert hooks.failed == 1
    assert {engine.experiment.arm(f"new-{i}") for i in range(50)} == {"control"}
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        status = conn.execute(select(tables.metadata.tables["experiments"].c.status)).scalar_one()
        audited = [
            d
            for a, d in conn.execute(select(tables.audit_log.c.action, tables.audit_log.c.data))
            if a == "experiment_hard_stop"
        ]
    assert status == "stopped"
    assert len(audited) == 1 and "dropout is up" in audited[0]["reasons"][0]
    again = client.post(f"/v1/experiments/{EXP}/hard-stop-check", headers=auth).json()
    assert again["already_stopped"] is True
    # New shoppers after the stop all see the neutral journey and stay out of the comparison.
    for i in range(1000, 1040):
        page = {
            "anonymousId": f"v{i}",
            "sessionId": f"s{i}",
            "messageId": f"s{i}-p",
            "timestamp": T0 + i * 60,
            "properties": {"path": "/checkout/payment"},
        }
        assert client.post("/v1/page", json=page, headers=auth).status_code == 200
        assert engine.sessions[f"s{i}"].arm == "control"
    rep = client.get(f"/v1/experiments/{EXP}/report", headers=auth).json()
    assert rep["status"] == "stopped" and sum(rep["units"].values()) == 260
    assert not rep["srm"]["alert"]


def test_other_reports_and_scopes(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    kp = client.get("/v1/measure/kpis?by=arm", headers=auth).json()
    assert {g["key"]["arm"] for g in kp["groups"]} == {"control", "adaptive"}
    csv = client.get("/v1/measure/heatmap?format=csv&min_sessions=1", headers=auth)
    assert csv.text.startswith("touchpoint,sessions") and "/checkout/payment" in csv.text
    heat = client.get("/v1/measure/heatmap?min_sessions=1", headers=auth).json()
    pay = next(c for c in heat["cells"] if c["touchpoint"] == "/checkout/payment")
    assert pay["sessions"] >= 260  # every visit counts, not only sessions with signals
    assert 0.2 < pay["dropout_rate"] < 0.5
    models = client.get("/v1/measure/models", headers=auth).json()
    assert models["judged"] == 26 and models["agreement"] == pytest.approx(0.5)
    aggregate = client.get("/v1/measure/churn", headers=auth).json()  # analyst: no one named
    assert "at_risk" not in aggregate and sum(aggregate["risk_bands"].values()) >= 0
    assert client.get("/v1/measure/churn?format=html", headers=auth).status_code == 200
    lead = client.app.state.keys.create("lead", ["analyst", "read"])  # type: ignore[attr-defined]
    listed = client.get("/v1/measure/churn", headers={"Authorization": f"Bearer {lead}"})
    assert "at_risk" in listed.json()
    store = client.app.state.store  # type: ignore[attr-defined]
    with store.connect() as conn:
        log = tables.audit_log.c
        reads = [
            (actor, d)
            for a, actor, d in conn.execute(select(log.action, log.actor, log.data))
            if a == "personal_data_read" and (d or {}).get("what") == "churn_report"
        ]
    assert len(reads) == 1 and reads[0][0].startswith("key:lead#")  # only the list is audited
    roi = client.post(
        "/v1/measure/roi",
        json={"units_per_period": 1000, "value_per_unit": 10, "experiment": EXP},
        headers=auth,
    ).json()
    assert roi["conservative"]["net"] < 0  # the adaptive arm hurts: no hopeful ROI
    bad = client.post(
        "/v1/measure/roi", json={"units_per_period": 1, "value_per_unit": 1}, headers=auth
    )
    assert bad.status_code == 422
    plan = client.get("/v1/measure/power?baseline=0.2&mde_relative=-0.2", headers=auth).json()
    assert plan["n_control"] > 1000
    plan = client.get(
        "/v1/measure/power?baseline=0.2&mde_relative=-0.2&looks=2", headers=auth
    ).json()
    assert plan["obf_boundaries"]["z"] == pytest.approx([2.963, 1.969], abs=2e-3)
    reader = client.app.state.keys.create("reader", ["read"])  # type: ignore[attr-defined]
    denied = client.get("/v1/measure/kpis", headers={"Authorization": f"Bearer {reader}"})
    assert denied.status_code == 403


def test_element_heatmap_attributes_rage_clicks_to_the_element(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = api
    base = {"anonymousId": "v-rage", "sessionId": "s-rage"}
    t = T0 + 10**6
    page = {**base, "messageId": "r-p", "timestamp": t, "properties": {"path": "/checkout/payment"}}
    assert client.post("/v1/page", json=page, headers=auth).status_code == 200
    for i in range(5):
        click = {
            **base,
            "messageId": f"r-c{i}",
            "timestamp": t + 5 + i * 0.2,
            "event": "click",
            "properties": {"selector": "#pay", "x": 5, "y": 5},
        }
        assert client.post("/v1/track", json=click, headers=auth).status_code == 200
    rep = client.get("/v1/measure/heatmap?level=element&min_sessions=1", headers=auth).json()
    cells = {c["touchpoint"]: c for c in rep["cells"]}
    assert cells["/checkout/payment #pay"]["signals"].get("rage_click", 0) >= 1
