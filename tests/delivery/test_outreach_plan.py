"""Proactive outreach: only consented channels, quiet hours and active hours in the customer's
time, a cooling-off after distress, a frequency cap, a deterministic holdout, red lines on
load, the API and the CLI, and erasure of a subject's outreach records."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from attune.api.app import create_app
from attune.cli import app as cli
from attune.config import Settings
from attune.measure.outreach import send_time
from attune.policy.loader import PlaybookError, load_playbook
from attune.storage import tables

T0 = 1_767_000_000.0  # 2025-12-29 09:20 UTC
DAY = 86400.0
H = 3600.0


def test_send_time_respects_quiet_and_active_hours() -> None:
    night = T0 - 9 * H - 20 * 60 + 23 * H  # 23:00 UTC
    assert send_time(night, None, (21, 8), 0) == T0 - 9 * H - 20 * 60 + DAY + 8 * H  # 08:00
    # in UTC+2, 23:00 UTC is 01:00 local: the next allowed local hour is 08:00 (06:00 UTC)
    assert send_time(night, None, (21, 8), 120) == T0 - 9 * H - 20 * 60 + DAY + 6 * H
    assert send_time(T0, 9, (21, 8), 0) == T0  # within their active hour: now
    assert send_time(T0 + 2 * H, 9, (21, 8), 0) == T0 - 20 * 60 + DAY  # tomorrow at 09:00
    assert send_time(T0, 22, (21, 8), 0) == T0  # an active hour in quiet hours is not used


def _events(who: str, t: float, frustrated: bool) -> list[dict[str, Any]]:
    ids = {"userId": who, "sessionId": f"s-{who}"}
    batch: list[dict[str, Any]] = [
        {
            "type": "page",
            "messageId": f"{who}-p",
            "timestamp": t,
            "properties": {"path": "/cart"},
            **ids,
        }
    ]
    if frustrated:
        batch += [
            {
                "type": "track",
                "messageId": f"{who}-c{i}",
                "timestamp": t + 1 + 0.2 * i,
                "event": "click",
                "properties": {"selector": "#pay", "x": 1, "y": 1},
                **ids,
            }
            for i in range(6)
        ]
    batch.append(
        {
            "type": "outcome",
            "messageId": f"{who}-o",
            "timestamp": t + 20,
            "name": "abandonment",
            **ids,
        }
    )
    return batch


def test_outreach_plan_dispatch_and_erasure(settings: Settings, tmp_path: Path) -> None:
    app = create_app(settings)
    admin = {"Authorization": f"Bearer {app.state.keys.create('a', ['admin'])}"}
    with TestClient(app) as client:
        for who, frustrated in (("calm-c", False), ("upset-c", True), ("no-consent", False)):
            r = client.post(
                "/v1/batch", json={"batch": _events(who, T0, frustrated)}, headers=admin
            )
            assert r.status_code == 200
        for who in ("calm-c", "upset-c"):
            r = client.post(
                "/v1/contact/consent",
                json={"userId": who, "channel": "email", "granted": True, "utcOffsetMin": 0},
                headers=admin,
            )
            assert r.status_code == 200
        bad = client.post(
            "/v1/contact/consent",
            json={"userId": "x", "channel": "pigeon", "granted": True},
            headers=admin,
        )
        assert bad.status_code == 422
        planner = app.state.outreach
        app.state.engine.flush()
        plan = planner.plan(now=T0 + 60)
        items = {i["subject"]: i for i in plan["outreach"] if i["outreach"] == "abandoned-help"}
        assert plan["skipped"]["no_consented_channel"] == 1  # never a channel not agreed to
        calm = items[app.state.privacy.subject("calm-c")]
        upset = items[app.state.privacy.subject("upset-c")]
        assert calm["due"] and calm["tone"] == "factual" and "basket" in calm["message"]["en"]
        assert calm["channel"] in ("email", None) and calm["arm"] in ("contact", "holdout")
        # frustrated an hour ago: cooling-off first (12 h), then outside quiet hours
        assert not upset["due"] and upset["send_at"] >= T0 + 12 * H
        assert upset["cooling_off_until"] is not None
        again = planner.plan(now=T0 + 60)["outreach"]
        assert [i["arm"] for i in again] == [i["arm"] for i in plan["outreach"]]  # deterministic
        listed = client.get("/v1/outreach", headers=admin)
        assert listed.status_code == 200 and "outreach" in listed.json()
        done = planner.dispatch(now=T0 + 60)
        assert done["logged"] == 1 and done["sent"] + done["held_out"] == 1
        assert planner.dispatch(now=T0 + 120)["logged"] == 0  # once a day at most (idempotent)
        capped = planner.plan(now=T0 + DAY)
        assert capped["skipped"].get("frequency_cap", 0) == 0  # cap of 2 per 30 days
        assert planner.dispatch(now=T0 + DAY)["logged"] == 2  # the upset one cooled off now
        assert planner.plan(now=T0 + DAY + 60)["skipped"]["frequency_cap"] == 1
        results = client.get("/v1/outreach/results", headers=admin).json()
        assert sum(a["customers"] for a in results["outreach"]["abandoned-help"].values()) == 3
        r = client.post("/v1/privacy/erase", json={"userId": "calm-c"}, headers=admin)
        assert r.status_code == 200
        with app.state.store.connect() as conn:
            for t in (tables.outreach_log, tables.contact_consents):
                left = conn.execute(
                    select(func.count())
                    .select_from(t)
                    .where(t.c.subject == app.state.privacy.subject("calm-c"))
                ).scalar_one()
                assert left == 0
    out = CliRunner().invoke(cli, ["outreach", "plan", "--json", "--db", settings.database_url])
    assert out.exit_code == 0, out.output
    assert "outreach" in json.loads(out.stdout)


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ("    offers: false\n", "R2 no offers"),
        ("    cooling_off_h: 24\n", "exploits distress"),
    ],
)
def test_outreach_red_lines(tmp_path: Path, change: str, rule: str) -> None:
    shipped = Path(__file__).parents[2] / "src/attune/policy/playbooks"
    text = (shipped / "shop.yaml").read_text()
    bad = "    offers: true\n" if "offers" in change else "    cooling_off_h: 2\n"
    text = text.replace(
        "    cooling_off_h: 24\n", bad if "cooling" in change else "    cooling_off_h: 24\n" + bad
    )
    (tmp_path / "shop.yaml").write_text(text)
    (tmp_path / "shop.content.yaml").write_text((shipped / "shop.content.yaml").read_text())
    with pytest.raises(PlaybookError, match=rule):
        load_playbook(tmp_path / "shop.yaml")
